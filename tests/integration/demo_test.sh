#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deploy/demo.sh --duration 10 against this build tree (EDGEGW_DEMO_BUILD_DIR: no setup, no
# build of another tree), in a temp run dir on free ports: readings must reach the cloud
# emulator, nothing may be lost or reordered, and no process of the demo may outlive it.
#   demo_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

status=0
EDGEGW_DEMO_BUILD_DIR=$build EDGEGW_DEMO_DIR=$dir "$src/deploy/demo.sh" --duration 10 --rate 20 \
  >"$dir/out.txt" 2>&1 || status=$?
cat "$dir/out.txt"
[ "$status" -eq 0 ] || { echo "FAIL: demo.sh exited $status"; exit 1; }

summary=$(grep '^demo: [0-9]* readings reached the cloud emulator' "$dir/out.txt") ||
  { echo "FAIL: no summary line"; exit 1; }
readings=$(awk '{ print $2 }' <<<"$summary")
# 10 devices x 20 messages/s x 4 readings for ~10 s is ~8,000: at least a fifth must be there.
[ "$readings" -ge 1600 ] || { echo "FAIL: only $readings readings reached the cloud"; exit 1; }
grep -q '(0 duplicates, 0 order violations)' <<<"$summary" || { echo "FAIL: $summary"; exit 1; }
[ "$(grep -c '^ *[0-9]*s  received' "$dir/out.txt")" -ge 9 ] || { echo "FAIL: status lines"; exit 1; }
# The deliberately malformed messages were counted, never forwarded.
grep -q 'rejected [1-9]' "$dir/out.txt" || echo "note: no malformed message in this short run"

# Nothing the demo started is left running (demo.sh lists them in the run dir's pids file). Each
# of the four was started; Mosquitto more than once when another test took its port first (the
# demo's retry), and each of those tries must be gone too.
for name in mosquitto cloud-emulator gateway simulated-devices; do
  grep -q " $name\$" "$dir/pids" || { echo "FAIL: no $name in pids"; exit 1; }
done
while read -r pid name; do
  if kill -0 "$pid" 2>/dev/null; then echo "FAIL: $name (pid $pid) left running"; exit 1; fi
done <"$dir/pids"
echo "PASS: $summary"
