#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job: installs what is missing, builds the four programs it needs, then starts
#   - a local Mosquitto (its own config in the run dir; never the system service),
#   - the cloud emulator (tests/cloud_emulator) with the demo devices,
#   - the gateway with config/demo.yaml (mqtt source),
#   - simulated devices (edgegw-simulate) publishing over MQTT QoS 1,
# and prints a status line every second (from the gateway's /metrics and the emulator's stats)
# until Ctrl-C, which stops everything cleanly.
#
#   deploy/demo.sh [--outage SECONDS] [--duration SECONDS] [--devices N] [--rate R]
#     --outage S     10 s after the start, cut the cloud for S seconds: watch the buffer fill
#                    and drain
#     --duration S   run headless for S seconds, then stop; exit 1 if no reading reached the cloud
#     --devices N    simulated devices sim-1..sim-N (1..10: the ones config/demo.yaml maps) [10]
#     --rate R       messages per second per device (4 readings each) [5]
# Environment:
#   EDGEGW_DEMO_BUILD_DIR  use this build tree as it is: no setup, no build (the tests use it)
#   EDGEGW_DEMO_DIR        the run dir: config, data and logs [/tmp/edgegw-demo, emptied first]
#   JOBS                   parallel build jobs [cores]
set -euo pipefail
cd "$(dirname "$0")/.."

outage=0
duration=0
devices=10
rate=5
outage_at=10
usage() {
  sed -n '/^#   deploy\/demo.sh/,/^#   JOBS/p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --outage) outage=${2:?--outage needs seconds}; shift 2 ;;
    --duration) duration=${2:?--duration needs seconds}; shift 2 ;;
    --devices) devices=${2:?--devices needs a number}; shift 2 ;;
    --rate) rate=${2:?--rate needs a number}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "demo: unknown argument $1" >&2; usage ;;
  esac
done
for n in "$outage" "$duration" "$devices"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "demo: '$n' is not a whole number" >&2; exit 2; }
done
[[ $rate =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "demo: --rate '$rate' is not a number" >&2; exit 2; }
if [ "$devices" -lt 1 ] || [ "$devices" -gt 10 ]; then
  echo "demo: --devices must be 1..10 (config/demo.yaml maps sim-1..sim-10)" >&2
  exit 2
fi

# --- build (or reuse a build tree) ---------------------------------------------------------
if [ -n "${EDGEGW_DEMO_BUILD_DIR:-}" ]; then
  build=$EDGEGW_DEMO_BUILD_DIR
else
  deploy/setup.sh
  cmake --preset release >/dev/null
  cmake --build --preset release -j "${JOBS:-$(nproc)}" --target edgegw edgegw_plugin_mqtt \
    edgegw-cloud-emulator edgegw-simulate
  build=build/release
fi
edgegw=$build/bin/edgegw
emulator_bin=$build/tests/cloud_emulator/edgegw-cloud-emulator
simulate=$build/bin/edgegw-simulate
for f in "$edgegw" "$emulator_bin" "$simulate" "$build/lib/edgegw/plugins/libedgegw_mqtt.so"; do
  [ -x "$f" ] || { echo "demo: $f is missing: build it first" >&2; exit 1; }
done
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$mosquitto_bin" ] || { echo "demo: mosquitto is not installed (deploy/setup.sh)" >&2; exit 1; }
command -v curl >/dev/null || { echo "demo: curl is not installed (deploy/setup.sh)" >&2; exit 1; }

# --- the run dir and ports -----------------------------------------------------------------
dir=${EDGEGW_DEMO_DIR:-/tmp/edgegw-demo}
mkdir -p "$dir"
rm -rf "${dir:?}/data" "$dir"/*.log "$dir"/*.conf "$dir"/*.yaml "$dir/pids"
dir=$(cd "$dir" && pwd)

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Mosquitto's port: the default when it is free, else a random free one. Another process may
# take it before Mosquitto binds (the tests run in parallel): Mosquitto then tries another.
pick_port() {
  local p=$1
  [ -n "${EDGEGW_DEMO_BUILD_DIR:-}" ] && p=$((20000 + RANDOM % 20000))  # tests: never the defaults
  while in_use "$p"; do p=$((20000 + RANDOM % 20000)); done
  echo "$p"
}
# The emulator's and the gateway's ports: the default when it is free, else 0 (the kernel
# picks one; the process logs the address it took, read back below), so no race is possible.
default_or_any() {
  if [ -z "${EDGEGW_DEMO_BUILD_DIR:-}" ] && ! in_use "$1"; then echo "$1"; else echo 0; fi
}

# --- processes: started in order, stopped in reverse order on any exit ------------------------
# Each child runs in a session of its own (setsid), so a Ctrl-C reaches this script (and its
# sleep) only, which then stops them in order: devices, gateway, cloud, broker.
pids=()
names=()
logs=()
start() {  # NAME LOG COMMAND...: runs COMMAND in the background, output to LOG
  local name=$1 log=$2
  shift 2
  setsid "$@" >"$log" 2>&1 &
  pids+=($!)
  names+=("$name")
  logs+=("$log")
  echo "$! $name" >>"$dir/pids"
}
stop_all() {
  local i pid n
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[$i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for ((n = 0; n < 100; n++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "demo: ${names[$i]} did not stop in 10 s: killed" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
trap stop_all EXIT
trap 'echo; echo "demo: stopping"; exit 130' INT TERM

fail() {  # MESSAGE LOG
  echo "demo: $1; the end of $2:" >&2
  tail -n 20 "$2" >&2 || true
  exit 1
}
wait_for() {  # SECONDS CHECK...: polls CHECK every 0.1 s
  local t=$(($1 * 10))
  shift
  for ((; t > 0; t--)); do "$@" && return 0; sleep 0.1; done
  return 1
}

# Mosquitto: up to 5 ports, in case another process binds the picked one first.
mosquitto_up() { grep -qs " running" "$dir/mosquitto.log"; }
mosquitto_done() { mosquitto_up || ! kill -0 "${pids[-1]}" 2>/dev/null; }
for try in 1 2 3 4 5; do
  mqtt_port=$(pick_port 18830)
  cat >"$dir/mosquitto.conf" <<CONF
# deploy/demo.sh's own broker: loopback only, nothing persisted; max_queued_messages 0 keeps
# every QoS 1 message for a persistent session that is away (the default drops beyond 1000).
listener $mqtt_port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
log_dest stderr
CONF
  start mosquitto "$dir/mosquitto.log" "$mosquitto_bin" -c "$dir/mosquitto.conf"
  wait_for 10 mosquitto_done || true
  if mosquitto_up || ! grep -qs "in use" "$dir/mosquitto.log"; then break; fi
  stop_all
done
mosquitto_up || fail "Mosquitto did not listen on port $mqtt_port" "$dir/mosquitto.log"

# The emulator and the gateway log the address they took (port 0: the kernel's pick).
bound_port() {  # LOG PATTERN: the port after PATTERN's 127.0.0.1: in LOG
  grep -o "${2}127\.0\.0\.1:[0-9]*" "$1" 2>/dev/null | head -n 1 | sed 's/.*://'
}
start cloud-emulator "$dir/emulator.log" "$emulator_bin" \
  --listen "127.0.0.1:$(default_or_any 18080)" --devices config/demo-cloud-devices.txt --keep 1000
wait_for 10 grep -qs "listening on" "$dir/emulator.log" ||
  fail "the cloud emulator did not start" "$dir/emulator.log"
cloud_port=$(bound_port "$dir/emulator.log" "listening on ")

config=$dir/demo.yaml
sed -e "s|data_dir: /tmp/edgegw-demo/data|data_dir: $dir/data|" \
  -e "s|url: http://127.0.0.1:18080|url: http://127.0.0.1:$cloud_port|" \
  -e "s|listen: 127.0.0.1:9464|listen: 127.0.0.1:$(default_or_any 9464)|" \
  -e "s|uri: tcp://127.0.0.1:18830|uri: tcp://127.0.0.1:$mqtt_port|" config/demo.yaml >"$config"
for want in "$dir/data" ":$cloud_port" "listen: 127.0.0.1:" ":$mqtt_port"; do
  grep -q "$want" "$config" || { echo "demo: config/demo.yaml no longer has the line for $want" >&2; exit 1; }
done
"$edgegw" check-config -c "$config"

start gateway "$dir/gateway.log" "$edgegw" run -c "$config"
wait_for 30 grep -qs "metrics: http://" "$dir/gateway.log" ||
  fail "the gateway did not serve its metrics" "$dir/gateway.log"
metrics_port=$(bound_port "$dir/gateway.log" "metrics: http://")
metrics=http://127.0.0.1:$metrics_port
cloud=http://127.0.0.1:$cloud_port
ready() { curl -sf "$metrics/readyz" >/dev/null; }
wait_for 30 ready || fail "the gateway did not become ready" "$dir/gateway.log"

start simulated-devices "$dir/simulate.log" "$simulate" --uri "tcp://127.0.0.1:$mqtt_port" \
  --devices "$devices" --rate "$rate" --malformed 0.005 --client-id edgegw-demo-devices
token=$(awk '$2 == "sim-1" { print $1 }' config/demo-cloud-devices.txt)

cat <<TXT
demo: $devices simulated devices publish to Mosquitto on 127.0.0.1:$mqtt_port (topics sim/<device>/data,
      QoS 1, $rate message(s)/s each, 4 readings per message, 0.5% malformed on purpose); the gateway
      forwards them to the cloud emulator at $cloud. Look at:
  curl -s $metrics/metrics | grep ^edgegw_          # the gateway's metrics
  curl -s $cloud/_emulator/stats                   # what the cloud received (+ latency_ms)
  curl -s -H "Device-Token: $token" '$cloud/data?variable=temperature&qty=3'
  $edgegw buffer stats -c $config
  logs and data: $dir
TXT
if [ "$outage" -gt 0 ]; then
  echo "demo: the cloud goes down ${outage_at} s from now, for $outage s"
fi
if [ "$duration" -gt 0 ]; then
  echo "demo: running for $duration s"
else
  echo "demo: Ctrl-C stops everything"
fi

# --- the status line ---------------------------------------------------------------------------
metric() {  # NAME: the sum of its samples in $text
  awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f", s }' <<<"$text"
}
json_field() {  # KEY: the first number after "KEY": in $stats
  grep -o "\"$1\":[0-9.]*" <<<"$stats" | head -n 1 | cut -d: -f2
}
prev_in=0
prev_out=0
second=0
outage_left=0
while :; do
  sleep 1
  second=$((second + 1))
  for i in "${!pids[@]}"; do
    kill -0 "${pids[$i]}" 2>/dev/null || fail "${names[$i]} exited" "${logs[$i]}"
  done
  if [ "$outage" -gt 0 ] && [ "$second" -eq "$outage_at" ]; then
    curl -sf -XPOST "$cloud/_emulator/faults" \
      -d "{\"drop_connection\":true,\"for_ms\":$((outage * 1000))}" >/dev/null
    outage_left=$outage
    echo "demo: the cloud is DOWN for $outage s (every request's connection is dropped)"
  fi
  text=$(curl -sf "$metrics/metrics" || true)
  stats=$(curl -sf "$cloud/_emulator/stats" || true)
  received=$(metric edgegw_readings_received_total)
  forwarded=$(metric edgegw_readings_forwarded_total)
  rejected=$(metric edgegw_readings_rejected_total)
  buffered=$(metric edgegw_buffer_readings)
  oldest=$(awk '$1 == "edgegw_buffer_oldest_reading_age_seconds" { printf "%.1f", $2 }' <<<"$text")
  in_rate=$((received - prev_in))
  out_rate=$((forwarded - prev_out))
  prev_in=$received
  prev_out=$forwarded
  at_cloud=$(json_field readings_accepted)
  p99=$(grep -o '"latency_ms":{[^}]*}' <<<"$stats" | grep -o '"p99":[0-9]*' | cut -d: -f2)
  note=""
  if [ "$outage_left" -gt 0 ]; then
    note="  CLOUD DOWN (${outage_left}s left)"
    outage_left=$((outage_left - 1))
    [ "$outage_left" -eq 0 ] && note="$note, back now"
  fi
  printf '%5ss  received %s  forwarded %s  rejected %s  buffered %s  in %s/s  out %s/s  oldest %ss  cloud %s (p99 %s ms)%s\n' \
    "$second" "$received" "$forwarded" "$rejected" "$buffered" "$in_rate" "$out_rate" \
    "${oldest:-0}" "${at_cloud:-?}" "${p99:-?}" "$note"
  if [ "$duration" -gt 0 ] && [ "$second" -ge "$duration" ]; then break; fi
done

# --duration: the verdict comes from the cloud's side.
stats=$(curl -sf "$cloud/_emulator/stats" || true)
at_cloud=$(json_field readings_accepted)
duplicates=$(grep -o '"duplicates":[0-9]*' <<<"$stats" | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
violations=$(grep -o '"order_violations":[0-9]*' <<<"$stats" | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
stop_all
if [ "${at_cloud:-0}" -gt 0 ]; then
  echo "demo: $at_cloud readings reached the cloud emulator ($duplicates duplicates, $violations order violations)"
  exit 0
fi
echo "demo: no reading reached the cloud emulator; see the logs in $dir" >&2
exit 1
