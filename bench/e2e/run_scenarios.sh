#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The end-to-end bench: real Mosquitto, the gateway (edgegw run), the cloud emulator, load from
# edgegw-simulate (MQTT QoS 1, each reading's `time` = its publish time) or the simulator plugin,
# every part a separate process on this machine. Scenarios:
#   max        QoS 1 backlog of M messages over 100 devices, from the subscription until the
#              cloud holds all of them; baseline: the same backlog to edgegw-bare-subscriber
#   steady     100 devices at half the max rate for 20 s: latency p50/p99/p999, CPU per reading
#   devices    the same total rate from 100 and from 10,000 devices: CPU per million readings
#   burst      100 devices, 10 msg/s each plus a burst of 100 messages per device every 5 s
#   outage     100 devices at 2,000 msg/s; the cloud drops every connection for 15 s
#   backlog    a 10-million-reading backlog (simulator plugin, cloud down), then its drain;
#              baseline: edgegw-post-loop against the same emulator; peak RSS
#   http       HTTP ingest (only when the http plugin is built)
# Writes bench/results/: report.md, results.csv, timeline.csv, timeline.png.
#
#   bench/e2e/run_scenarios.sh [--build-dir build/release] [--quick] [--out bench/results]
#     --quick   smaller counts and shorter phases (a smoke run, not a report)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build/release
out=$root/bench/results
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$(cd "${2:?}" && pwd); shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "usage: $0 [--build-dir DIR] [--quick] [--out DIR]" >&2; exit 2 ;;
  esac
done
if [ "$quick" -eq 1 ]; then
  max_messages=50000 phase=8 backlog=1000000 rounds=1
else
  max_messages=100000 phase=20 backlog=10000000 rounds=3
fi

# --- build what is needed (the build dir must be configured: cmake --preset release) ---------
[ -f "$build/build.ninja" ] || [ -f "$build/Makefile" ] ||
  { echo "bench: $build is not a configured build dir (cmake --preset release)" >&2; exit 1; }
targets=(edgegw edgegw_plugin_mqtt edgegw_plugin_simulator edgegw-cloud-emulator edgegw-simulate
  edgegw-bare-subscriber edgegw-post-loop)
[ -d "$root/plugins/http" ] && targets+=(edgegw_plugin_http)
cmake --build "$build" -j "${JOBS:-1}" --target "${targets[@]}" >/dev/null
for t in gnuplot curl; do
  command -v "$t" >/dev/null || { echo "bench: $t is missing (deploy/setup.sh)" >&2; exit 1; }
done
edgegw=$build/bin/edgegw
simulate=$build/bin/edgegw-simulate
bare=$build/bench/e2e/edgegw-bare-subscriber
post_loop=$build/bench/e2e/edgegw-post-loop
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)

work=$(mktemp -d)
mkdir -p "$out"
ticks=$(getconf CLK_TCK)
run_start=$(date +%s.%N)
pids=()
stop_pid() {  # PID: SIGTERM, at most 15 s, then SIGKILL
  local pid=$1 n
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((n = 0; n < 150; n++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[$i]}"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p=$((20000 + RANDOM % 20000))
  while in_use "$p"; do p=$((20000 + RANDOM % 20000)); done
  echo "$p"
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
wait_for() {  # SECONDS CHECK...
  local t=$(($1 * 50))
  shift
  for ((; t > 0; t--)); do "$@" && return 0; sleep 0.02; done
  return 1
}
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }" 2>/dev/null || echo nan; }
cpu_seconds() { awk -v t="$ticks" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
hwm_mib() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# --- the broker and the cloud, shared by all scenarios ---------------------------------------
mqtt_port=$(free_port)
cat >"$work/mosquitto.conf" <<CONF
listener $mqtt_port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
log_dest none
CONF
"$mosquitto_bin" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=($!)
wait_for 10 in_use "$mqtt_port" || { echo "bench: mosquitto did not start" >&2; exit 1; }
uri=tcp://127.0.0.1:$mqtt_port

# Made-up device tokens, valid at this emulator only: dev-N has 00000000-0000-4000-8000-<N>.
devices_list() {  # N: lines "n token"
  awk -v n="$1" 'BEGIN { for (d = 1; d <= n; d++) printf "%d 00000000-0000-4000-8000-%012d\n", d, d }'
}
token() { devices_list "$1" | awk 'END { print $2 }'; }
devices_list 10000 | awk '{ print $2 " dev-" $1 }' >"$work/devices.txt"
cloud_port=$(free_port)
"$build/tests/cloud_emulator/edgegw-cloud-emulator" --listen "127.0.0.1:$cloud_port" \
  --devices "$work/devices.txt" --keep 0 >"$work/emulator.log" 2>&1 &
pids+=($!)
cloud=http://127.0.0.1:$cloud_port
wait_for 20 grep -qs "listening on" "$work/emulator.log" || { echo "bench: no emulator" >&2; exit 1; }

stats() { curl -sf "$cloud/_emulator/stats"; }
json_number() { grep -o "\"$1\":[0-9.]*" | head -n 1 | cut -d: -f2; }
at_cloud() { stats | json_number readings_accepted; }
latency() { stats | grep -o '"latency_ms":{[^}]*}' | json_number "$1"; }
cloud_reset() { curl -sf -XPOST "$cloud/_emulator/reset" >/dev/null; }
cloud_sum() {  # FIELD: the sum over devices
  stats | grep -o "\"$1\":[0-9]*" | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }'
}

# --- the gateway --------------------------------------------------------------------------------
gw_pid=0
gw_metrics=0
gw_log=""
# gw_config NAME DEVICES SOURCE_YAML: writes $work/NAME.yaml (fresh data dir)
gw_config() {
  local name=$1 devices=$2 source=$3
  gw_metrics=$(free_port)
  rm -rf "$work/data-$name"
  {
    cat <<YAML
gateway:
  data_dir: $work/data-$name
  log_level: info
  shutdown_timeout: 5s
buffer:
  max_bytes: 8GiB
  sync: batch
cloud:
  url: $cloud
  retry: { initial_backoff: 200ms, max_backoff: 2s }
metrics:
  listen: 127.0.0.1:$gw_metrics
sources:
$source
devices:
YAML
    devices_list "$devices" | awk '{ printf "  - { key: dev-%s, token: %s }\n", $1, $2 }'
    echo "unmapped: reject"
  } >"$work/$name.yaml"
}
mqtt_source() {  # CLIENT_ID CLEAN_SESSION
  cat <<YAML
  - name: plant
    plugin: mqtt
    format: tago_json
    config: { uri: "$uri", client_id: $1, topics: ["sim/{device}/data"], qos: 1,
              clean_session: $2 }
YAML
}
# Ends a persistent session, or the broker keeps queueing every later message for it.
forget_session() {
  mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -i "$1" -t bench/forget -E >/dev/null 2>&1 || true
}
cloud_has() { [ "$(at_cloud)" -ge "$1" ]; }
# wait_cloud N SECONDS: polls the cloud ten times a second (light: the machine is measured)
wait_cloud() {
  local t=$(($2 * 10))
  for ((; t > 0; t--)); do cloud_has "$1" && return 0; sleep 0.1; done
  echo "bench: the cloud holds $(at_cloud) of $1 readings after $2 s" >&2
  return 1
}
gw_start() {  # NAME
  gw_log=$work/$1.log
  "$edgegw" run -c "$work/$1.yaml" 2>>"$gw_log" &
  gw_pid=$!
  pids+=("$gw_pid")
  wait_for 60 curl -sf "http://127.0.0.1:$gw_metrics/readyz" -o /dev/null ||
    { echo "bench: the gateway did not start:" >&2; tail "$gw_log" >&2; exit 1; }
}
gw_stop() { stop_pid "$gw_pid"; }
metric() {  # NAME: the sum of its samples
  curl -sf "http://127.0.0.1:$gw_metrics/metrics" |
    awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f", s }'
}

# --- the timeline: one row a second per scenario ------------------------------------------------
timeline=$out/timeline.csv
echo "scenario,run_s,scenario_s,in_per_s,out_per_s,buffered,rss_mib,gateway_cpu" >"$timeline"
sampler_pid=0
sampler_start() {  # SCENARIO
  local scenario=$1 pid=$gw_pid port=$gw_metrics t0
  t0=$(now)
  (
    prev_in=0 prev_out=0 prev_cpu=0 first=1
    while kill -0 "$pid" 2>/dev/null; do
      text=$(curl -sf "http://127.0.0.1:$port/metrics" || true)
      read -r received forwarded buffered < <(awk '
        index($1, "edgegw_readings_received_total") == 1 { r += $2 }
        $1 == "edgegw_readings_forwarded_total" { f = $2 }
        $1 == "edgegw_buffer_readings" { b = $2 }
        END { printf "%.0f %.0f %.0f\n", r, f, b }' <<<"$text")
      cpu=$(cpu_seconds "$pid")
      rss=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null || echo 0)
      if [ "$first" -eq 0 ]; then
        awk -v s="$scenario" -v run="$run_start" -v t0="$t0" -v now="$(now)" -v r="$received" \
          -v pr="$prev_in" -v f="$forwarded" -v pf="$prev_out" -v b="$buffered" -v m="$rss" \
          -v c="$cpu" -v pc="$prev_cpu" 'BEGIN {
            printf "%s,%.1f,%.1f,%d,%d,%d,%s,%.2f\n", s, now - run, now - t0, r - pr, f - pf, b, m, c - pc }'
      fi
      prev_in=$received prev_out=$forwarded prev_cpu=$cpu first=0
      sleep 1
    done
  ) >>"$timeline" &
  sampler_pid=$!
}
sampler_stop() { kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; }

results=$out/results.csv
echo "scenario,metric,value,unit,baseline,ratio" >"$results"
record() {  # SCENARIO METRIC VALUE UNIT [BASELINE [RATIO]]: RATIO defaults to VALUE/BASELINE
  local ratio=${6:-}
  [ -n "${5:-}" ] && [ -z "$ratio" ] && ratio=$(calc "$3 / $5" 3)
  echo "$1,$2,$3,$4,${5:-},$ratio" >>"$results"
  printf '  %-9s %-34s %12s %-12s %s\n' "$1" "$2" "$3" "$4" "${5:+baseline $5, ratio $ratio}"
}
published() { grep -o '"acknowledged":[0-9]*' "$1" | cut -d: -f2; }

# --- max: QoS 1 backlog, gateway to the cloud vs the bare subscriber ----------------------------
echo "bench: max (QoS 1 backlog of $max_messages messages, 100 devices), $rounds round(s)"
publish_backlog() {
  "$simulate" --uri "$uri" --devices 100 --key-pattern 'dev-{n}' --rate 0 --count "$max_messages" \
    --variables temperature --connections 2 --client-id "bench-pub-$1" >"$work/pub-$1.json"
}
bare_rates=() gw_rates=() gw_cpu=() gw_rss=() ratios=()
for ((round = 1; round <= rounds; round++)); do
  "$bare" --uri "$uri" --client-id "bench-bare-$round" --topic 'sim/+/data' --session
  publish_backlog "bare-$round"
  bare_rates+=("$("$bare" --uri "$uri" --client-id "bench-bare-$round" --topic 'sim/+/data' \
    --count "$max_messages" | json_number messages_per_second)")

  forget_session "bench-bare-$round"
  gw_config "max-$round" 100 "$(mqtt_source "bench-gw-max-$round" false)"
  gw_start "max-$round"
  wait_for 10 grep -qs "subscribed to" "$gw_log" || { echo "bench: no subscription" >&2; exit 1; }
  gw_stop  # the session stays: the broker keeps the backlog for it
  publish_backlog "gw-$round"
  cloud_reset
  : >"$gw_log"
  gw_start "max-$round"
  [ "$round" -eq 1 ] && sampler_start max
  wait_for 10 grep -qs "subscribed to" "$gw_log" || { echo "bench: no subscription" >&2; exit 1; }
  t0=$(now)
  cpu0=$(cpu_seconds "$gw_pid")
  wait_cloud "$max_messages" 300 || exit 1
  seconds=$(elapsed "$t0")
  gw_rates+=("$(calc "$max_messages / $seconds")")
  ratios+=("$(calc "${gw_rates[-1]} / ${bare_rates[-1]}" 3)")
  gw_cpu+=("$(calc "($(cpu_seconds "$gw_pid") - $cpu0) / $max_messages * 1000000" 2)")
  gw_rss+=("$(hwm_mib "$gw_pid")")
  [ "$round" -eq 1 ] && sampler_stop
  gw_stop
  forget_session "bench-gw-max-$round"
  echo "  round $round: bare ${bare_rates[-1]} msg/s, gateway to the cloud ${gw_rates[-1]} msg/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int(NR / 2) + 1] }'; }
max_rate=$(median "${gw_rates[@]}")
bare_rate=$(median "${bare_rates[@]}")
# The ratio is the median of each round's own ratio: a round's two runs share the machine's state.
record max e2e_qos1_rate "$max_rate" readings/s "$bare_rate" "$(median "${ratios[@]}")"
record max gateway_cpu_per_million "$(median "${gw_cpu[@]}")" cpu_s
record max peak_rss "$(median "${gw_rss[@]}")" MiB

# --- live load: steady, devices, burst, outage ------------------------------------------------
# live NAME DEVICES RATE_PER_DEVICE SECONDS [simulate flags...]: a fresh gateway subscribed,
# then edgegw-simulate for SECONDS; waits until the cloud holds every reading (at most 60 s).
live() {
  local name=$1 devices=$2 rate=$3 seconds=$4
  shift 4
  gw_config "$name" "$devices" "$(mqtt_source "bench-gw-$name" true)"
  local started
  started=$(now)
  gw_start "$name"
  live_startup=$(elapsed "$started")
  wait_for 10 grep -qs "subscribed to" "$gw_log" || { echo "bench: no subscription" >&2; exit 1; }
  cloud_reset
  sampler_start "$name"
  cpu0=$(cpu_seconds "$gw_pid")
  t0=$(now)
  "$simulate" --uri "$uri" --devices "$devices" --key-pattern 'dev-{n}' --rate "$rate" \
    --duration "$seconds" --variables temperature --connections 2 --client-id "bench-pub-$name" \
    "$@" >"$work/pub-$name.json" &
  local pub=$!
  if [ -n "${outage_ms:-}" ]; then
    sleep 5
    curl -sf -XPOST "$cloud/_emulator/faults" \
      -d "{\"drop_connection\":true,\"for_ms\":$outage_ms}" >/dev/null
  fi
  wait "$pub"
  local sent
  sent=$(published "$work/pub-$name.json")
  wait_cloud "$sent" 120 || true
  live_sent=$sent
  live_rate=$(json_number messages_per_second <"$work/pub-$name.json")
  live_cpu=$(calc "($(cpu_seconds "$gw_pid") - $cpu0) / $sent * 1000000" 2)
  live_rss=$(hwm_mib "$gw_pid")
  live_per_request=$(calc "$(metric edgegw_readings_forwarded_total) / $(metric edgegw_forward_requests_total)" 1)
  live_duplicates=$(cloud_sum duplicates)
  live_missing=$(cloud_sum missing_seqs)
  sampler_stop
  gw_stop
}
report_live() {  # NAME
  record "$1" published_rate "$live_rate" readings/s
  record "$1" latency_p50 "$(latency p50)" ms
  record "$1" latency_p99 "$(latency p99)" ms
  record "$1" latency_p999 "$(latency p999)" ms
  record "$1" gateway_cpu_per_million "$live_cpu" cpu_s
  record "$1" readings_per_request "$live_per_request" readings
  record "$1" peak_rss "$live_rss" MiB
  record "$1" lost_or_duplicated "$((live_missing + live_duplicates))" readings
}

half=$(calc "$max_rate / 2 / 100" 1)
echo "bench: steady (100 devices, $half msg/s each = half the max rate, ${phase} s)"
live steady 100 "$half" "$phase"
report_live steady

fixed=5000
echo "bench: devices ($fixed msg/s in total from 100, then from 10,000 devices, ${phase} s each)"
live devices-100 100 "$(calc "$fixed / 100" 2)" "$phase"
cpu_100=$live_cpu
report_live devices-100
record devices-100 gateway_start_to_ready "$live_startup" s
live devices-10000 10000 "$(calc "$fixed / 10000" 2)" "$phase"
report_live devices-10000
record devices-10000 gateway_start_to_ready "$live_startup" s
record devices-10000 cpu_per_million_vs_100_devices "$live_cpu" cpu_s "$cpu_100"

echo "bench: burst (100 devices at 10 msg/s, 100 more each every 5 s, ${phase} s)"
live burst 100 10 "$phase" --burst-every 5 --burst-messages 100
report_live burst
peak=$(awk -F, '$1 == "burst" && $6 > m { m = $6 } END { print m + 0 }' "$timeline")
record burst peak_buffered "$peak" readings

echo "bench: outage (100 devices at 20 msg/s; the cloud drops every connection for 15 s)"
outage_ms=15000 live outage 100 20 $((phase + 15))
report_live outage
peak=$(awk -F, '$1 == "outage" && $6 > m { m = $6 } END { print m + 0 }' "$timeline")
record outage peak_buffered "$peak" readings
# The cloud is back ~20 s after the sampler started (5 s + 15 s): how long until the buffer is
# back near its steady level (the drain rate itself is the backlog scenario's).
back=$(awk -F, '$1 == "outage" && $3 > 20 && $6 < 2000 { printf "%.1f", $3 - 20; exit }' "$timeline")
record outage buffer_back_to_normal_after "${back:-never}" s

# --- backlog: 10M readings in the buffer while the cloud is down, then the drain ---------------
echo "bench: backlog ($backlog readings from the simulator plugin, cloud down; then the drain)"
gw_config backlog 100 "  - name: sim
    plugin: simulator
    format: tago_json
    config: { devices: 100, key_pattern: 'dev-{n}', rate: 0, count: $backlog,
              variables: [temperature], batch: 1000 }"
cloud_reset
curl -sf -XPOST "$cloud/_emulator/faults" -d '{"drop_connection":true}' >/dev/null
gw_start backlog
sampler_start backlog
t0=$(now)
for ((n = 0; n < 1200; n++)); do
  [ "$(metric edgegw_buffer_readings)" -ge "$backlog" ] && break
  grep -q "append failed" "$gw_log" && { echo "bench: the buffer refused appends" >&2; break; }
  sleep 0.5
done
fill_seconds=$(elapsed "$t0")
record backlog fill_rate "$(calc "$backlog / $fill_seconds")" readings/s
record backlog peak_rss_filling "$(hwm_mib "$gw_pid")" MiB
sleep 3  # the backlog at rest
record backlog rss_at_rest "$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$gw_pid/status")" MiB
cloud_reset  # clears the fault and the counters at once: the drain starts now
t0=$(now)
cpu0=$(cpu_seconds "$gw_pid")
wait_cloud "$backlog" 600 || true
drain_seconds=$(elapsed "$t0")
drain_cpu=$(calc "($(cpu_seconds "$gw_pid") - $cpu0) / $backlog * 1000000" 2)
drain_rss=$(hwm_mib "$gw_pid")
sampler_stop
gw_stop
baseline=$("$post_loop" --url "$cloud" --token "$(token 1)" -c 8 -r 500 -d 5 --json |
  json_number readings_per_s)
record backlog drain_rate "$(calc "$backlog / $drain_seconds")" readings/s "$baseline"
record backlog drain_cpu_per_million "$drain_cpu" cpu_s
record backlog peak_rss "$drain_rss" MiB

# --- http ---------------------------------------------------------------------------------------
# edgegw-post-loop (4 keep-alive connections, 100 readings per POST, one device's token) against
# the gateway's local Device API, which answers once the readings are in the write-ahead log;
# baseline: the same loop against the emulator. Then until the cloud holds them all (no latency:
# the loop's readings carry a fixed time).
http_scenario() {
  local port cpu0 json total
  port=$(free_port)
  gw_config http 1 "  - name: local-api
    plugin: http
    format: tago_json
    config: { listen: '127.0.0.1:$port' }"
  cloud_reset
  gw_start http
  sampler_start http
  cpu0=$(cpu_seconds "$gw_pid")
  json=$("$post_loop" --url "http://127.0.0.1:$port" --token "$(token 1)" -c 4 -r 100 \
    -d "$phase" --json)
  total=$(metric edgegw_readings_received_total)
  local t0
  t0=$(now)
  wait_cloud "$total" 120 || true
  record http cloud_has_all_after_the_loop "$(elapsed "$t0")" s
  # Counted now: the baseline below posts to the same emulator.
  # (the loop's seqs are not one sequence per device: compare counts instead)
  local missing
  missing=$((total - $(at_cloud)))
  record http ingest_rate "$(json_number readings_per_s <<<"$json")" readings/s \
    "$("$post_loop" --url "$cloud" --token "$(token 2)" -c 4 -r 100 -d 5 --json |
      json_number readings_per_s)"
  record http gateway_cpu_per_million "$(calc "($(cpu_seconds "$gw_pid") - $cpu0) / $total * 1000000" 2)" cpu_s
  record http peak_rss "$(hwm_mib "$gw_pid")" MiB
  record http not_at_the_cloud "$missing" readings
  sampler_stop
  gw_stop
}
if [ -f "$build/lib/edgegw/plugins/libedgegw_http.so" ]; then
  echo "bench: http (edgegw-post-loop -c 4 -r 100 into the local Device API, ${phase} s)"
  http_note="HTTP ingest: edgegw-post-loop against the http source, baseline the same loop against the emulator."
  http_scenario || http_note="HTTP ingest: the scenario failed (see the run's output)."
else
  http_note="HTTP ingest: not measured: the http plugin (issue 8) had not landed on main."
  echo "bench: $http_note"
fi

# --- the report ---------------------------------------------------------------------------------
total=$(elapsed "$run_start")
commit=$(git -C "$root" rev-parse --short HEAD)
git -C "$root" diff --quiet HEAD -- gateway plugins tests bench ':!bench/results' || commit="$commit (with uncommitted changes)"
cores=$(nproc)
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
load=$(cut -d' ' -f1-3 /proc/loadavg)
value() { awk -F, -v s="$1" -v m="$2" '$1 == s && $2 == m { print $3 }' "$results"; }
ratio() { awk -F, -v s="$1" -v m="$2" '$1 == s && $2 == m { print $6 }' "$results"; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "**missed**"; fi; }

# One block per scenario (a blank line between them: gnuplot breaks its lines there) and a label
# at each scenario's start.
awk -F, 'NR > 1 { if ($1 != prev && NR > 2) print ""; prev = $1; print }' "$timeline" >"$work/timeline.dat"
labels=$(awk -F, 'NR > 1 && $1 != prev { printf "set label \"%s\" at %s, graph %s left font \",9\"\n", $1, $2, (n++ % 2 ? 0.84 : 0.94); prev = $1 }' "$timeline")
gnuplot <<GP
set datafile separator ","
# A dry run of the rates' plot for its y range, then tick labels that differ (distinct_ytics.gp).
set terminal unknown
plot "$work/timeline.dat" using 2:4 with lines, "" using 2:5 with lines
load "$root/bench/e2e/distinct_ytics.gp"
set terminal pngcairo size 1400,900 font ",10"
set output "$out/timeline.png"
set key top right
set multiplot layout 3,1 title "edgegw end to end ($commit, $cores cores)"
$labels
set ylabel "readings/s"
plot "$work/timeline.dat" using 2:4 with lines title "into the gateway", \
     "" using 2:5 with lines title "to the cloud"
unset label
unset ytics
set ytics autofreq
set autoscale y
set ylabel "buffered readings"
set format y "%.0s%c"
set logscale y
plot "$work/timeline.dat" using 2:(\$6 > 0 ? \$6 : 1) with lines title "buffer depth"
unset logscale y
set format y "%g"
set ylabel "MiB / CPU s per s"
set xlabel "seconds since the start of the run"
plot "$work/timeline.dat" using 2:7 with lines title "gateway RSS (MiB)", \
     "" using 2:(\$8 * 100) with lines title "gateway CPU (% of one core)"
unset multiplot
GP

{
  echo "# edgegw end-to-end bench"
  echo
  echo "\`bench/e2e/run_scenarios.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit."
  echo "Machine: $cores cores ($cpu_model), $mem; load average at the end $load. Every process"
  echo "(Mosquitto, gateway, cloud emulator, load generator) shares these cores. Whole run: $(calc "$total" 0) s."
  echo
  echo "## Targets"
  echo "| target | measured | verdict |"
  echo "|---|---|---|"
  r=$(ratio max e2e_qos1_rate)
  echo "| QoS 1 rate ≥ 0.9 × the broker's raw rate | median $(value max e2e_qos1_rate) vs $bare_rate readings/s; median of the rounds' ratios $r | $(verdict "$r >= 0.9") |"
  p99=$(value steady latency_p99)
  echo "| p99 added latency ≤ linger + 50 ms (250 ms) at half the max rate | p99 $p99 ms (p50 $(value steady latency_p50), p999 $(value steady latency_p999)) | $(verdict "$p99 <= 250") |"
  r=$(ratio devices-10000 cpu_per_million_vs_100_devices)
  echo "| CPU per million flat within 20% from 100 to 10,000 devices | $(value devices-100 gateway_cpu_per_million) → $(value devices-10000 gateway_cpu_per_million) CPU s = ×$r | $(verdict "$r <= 1.2 && $r >= 0.8") |"
  rss=$(awk -F, '$1 == "backlog" && ($2 == "peak_rss" || $2 == "peak_rss_filling") && $3 > m { m = $3 } END { print m }' "$results")
  echo "| peak RSS < 150 MiB with a $backlog-reading backlog | $rss MiB | $(verdict "$rss < 150") |"
  echo
  echo "## All figures"
  echo "Rates are readings/s (one reading per MQTT message); CPU is the gateway's user+system seconds"
  echo "per million readings; latency is the cloud's arrival time minus the reading's \`time\` (its publish"
  echo "time). Baselines are measured in the same run: the bare Paho subscriber of the same broker"
  echo "and backlog (\`max\`), and \`edgegw-post-loop -c 8 -r 500\` against the same emulator (\`backlog\`)."
  echo
  echo "| scenario | metric | value | unit | baseline | ratio |"
  echo "|---|---|---|---|---|---|"
  tail -n +2 "$results" | awk -F, '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }'
  echo
  echo "Rounds of \`max\`: bare ${bare_rates[*]} msg/s; gateway ${gw_rates[*]} msg/s; ratios ${ratios[*]}"
  echo "(the table gives the medians; the ratio is the median of the rounds' own ratios)."
  echo
  echo "![rates, buffer depth, RSS and CPU over time](timeline.png)"
  echo
  echo "\`timeline.csv\`: one row per second per scenario; \`results.csv\`: the table above."
  echo "$http_note"
  echo
  echo "Analysis of the misses: \`analysis.md\`."
} >"$out/report.md"
echo "bench: wrote $out/report.md, results.csv, timeline.csv, timeline.png in $(calc "$total" 0) s"
