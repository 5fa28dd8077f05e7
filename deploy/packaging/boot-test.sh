#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The installed service under a real systemd: boots ROOTFS (a Debian 12 with the edgegw package
# installed) with systemd-nspawn, in a network namespace of its own, and checks inside it that
# edgegw.service starts as Type=notify (READY, STATUS), answers /readyz, runs as edgegw with
# dialout, no capabilities, no new privileges and a seccomp filter, reloads on
# `systemctl reload`, reads a serial port (a pty of group dialout) through a source added by a
# reload, is restarted by the watchdog when its loop is frozen (SIGSTOP; WatchdogSec
# lowered to 4s by a drop-in for the test), and stops cleanly. Called by test-deb.sh.
#   deploy/packaging/boot-test.sh ROOTFS
# Exit 0: all checks passed; 1: a check failed; 3: systemd-nspawn could not boot the rootfs on
# this machine (no check ran; the caller says so).
set -euo pipefail
root=$1
result=$(mktemp -d)
trap 'rm -rf "$result" "$root/etc/systemd/system/edgegw.service.d/boot-test.conf" \
  "$root/etc/systemd/system/edgegw-boot-test.service" \
  "$root/etc/systemd/system/multi-user.target.wants/edgegw-boot-test.service" \
  "$root/usr/local/sbin/edgegw-boot-test"' EXIT

mkdir -p "$root/etc/systemd/system/edgegw.service.d"
printf '[Service]\nWatchdogSec=4s\nTimeoutAbortSec=2s\n' \
  >"$root/etc/systemd/system/edgegw.service.d/boot-test.conf"
cat >"$root/usr/local/sbin/edgegw-boot-test" <<'CHECKS'
#!/bin/sh
# Runs inside the booted container; every line to /result/log; powers off at the end.
exec >/result/log 2>&1
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fi; }
prop() { systemctl show -p "$1" --value edgegw; }
for _ in $(seq 1 50); do [ "$(prop ActiveState)" = active ] && break; sleep 0.2; done
pid=$(prop MainPID)
check "active (running) as Type=notify" '[ "$(prop ActiveState)/$(prop SubState)/$(prop Type)" = active/running/notify ]'
check "STATUS= from the gateway: $(prop StatusText)" 'prop StatusText | grep -q "^running: 0 source(s), 0 device(s); 0 reading(s) waiting"'
check "/readyz answers 200" '[ "$(curl -s -o /dev/null -w %{http_code} http://127.0.0.1:9464/readyz)" = 200 ]'
check "runs as edgegw" '[ "$(stat -c %U /proc/$pid)" = edgegw ]'
check "with the dialout group" 'grep -q "^Groups:.*\b$(getent group dialout | cut -d: -f3)\b" /proc/$pid/status'
check "no capabilities" 'grep -q "^CapEff:\s*0000000000000000" /proc/$pid/status && grep -q "^CapBnd:\s*0000000000000000" /proc/$pid/status'
check "no new privileges, seccomp filter" 'grep -q "^NoNewPrivs:\s*1" /proc/$pid/status && grep -q "^Seccomp:\s*2" /proc/$pid/status'
check "the sandbox lets it ask whether the clock is synchronised" '! journalctl -u edgegw | grep -q "cannot tell whether the system clock"'
check "the buffer in /var/lib/edgegw, owned by edgegw" '[ "$(stat -c %U /var/lib/edgegw/buffer)" = edgegw ]'
check "systemctl reload" 'systemctl reload edgegw'
sleep 1
check "reloaded, same process, still ready" '[ "$(prop MainPID)" = "$pid" ] && [ "$(prop ActiveState)" = active ] && journalctl -u edgegw | grep -q "config reloaded"'
# A serial port under the sandbox: a pty pair (socat) whose port end is group dialout, mode 660,
# like a USB adapter's; a source added by a reload reads a line from it.
cp /etc/edgegw/gateway.yaml /root/gateway.yaml.orig
socat PTY,link=/dev/ttyEDGEGW0,group=dialout,mode=660,rawer PTY,link=/root/peer,rawer &
socat_pid=$!
for _ in $(seq 1 50); do [ -e /root/peer ] && break; sleep 0.1; done
cat >/etc/edgegw/gateway.yaml <<'YAML'
gateway: { data_dir: /var/lib/edgegw }
cloud: { url: "http://127.0.0.1:1" }
metrics: { listen: "127.0.0.1:9464" }
sources:
  - { name: line, plugin: serial, format: csv, config: { port: /dev/ttyEDGEGW0, device: press-7 } }
unmapped: reject
YAML
systemctl reload edgegw
for _ in $(seq 1 50); do journalctl -u edgegw | grep -q "opened /dev/ttyEDGEGW0" && break; sleep 0.1; done
printf 'temp,21.5\n' >/root/peer
received() { curl -s http://127.0.0.1:9464/metrics | grep '^edgegw_readings_received_total{source="line"}' | cut -d' ' -f2; }
for _ in $(seq 1 50); do [ "$(received)" = 1 ] && break; sleep 0.1; done
check "a serial port (dialout, 660) opened by a source added at a reload, a line read" '[ "$(received)" = 1 ]'
kill "$socat_pid"
cp /root/gateway.yaml.orig /etc/edgegw/gateway.yaml
systemctl reload edgegw
kill -STOP "$pid"
for _ in $(seq 1 100); do [ "$(prop NRestarts)" = 1 ] && [ "$(prop ActiveState)" = active ] && break; sleep 0.2; done
check "a frozen loop: watchdog timeout, restarted" '[ "$(prop NRestarts)" = 1 ] && [ "$(prop MainPID)" != "$pid" ] && journalctl -u edgegw | grep -q "Watchdog timeout"'
check "systemctl stop: exit 0" 'systemctl stop edgegw && [ "$(prop Result)" = success ] && [ "$(prop ExecMainStatus)" = 0 ]'
journalctl -u edgegw --no-pager -o short-monotonic | tail -n 30
echo "checks done"
systemctl poweroff
CHECKS
chmod 755 "$root/usr/local/sbin/edgegw-boot-test"
printf '[Unit]\nAfter=edgegw.service\n[Service]\nType=oneshot\nExecStart=/usr/local/sbin/edgegw-boot-test\n' \
  >"$root/etc/systemd/system/edgegw-boot-test.service"
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/edgegw-boot-test.service \
  "$root/etc/systemd/system/multi-user.target.wants/edgegw-boot-test.service"

# --register=no: no machined on a host without systemd; --private-network: its own loopback.
# --system-call-filter: nspawn's own filter refuses the clock calls to a container without
# CAP_SYS_TIME, even the read-only adjtimex; a real box has no such outer filter, so the check
# above tests the unit's own.
timeout 180 systemd-nspawn --quiet --register=no --keep-unit --private-network -D "$root" \
  --system-call-filter="adjtimex clock_adjtime" --bind="$result:/result" --boot >"$result/console" 2>&1 || true
if ! grep -q "checks done" "$result/log" 2>/dev/null; then
  echo "systemd-nspawn did not boot the rootfs here:"
  tail -n 20 "$result/console" "$result/log" 2>/dev/null || true
  exit 3
fi
cat "$result/log"
! grep -q '^FAIL' "$result/log"
