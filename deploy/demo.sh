#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts the local cloud emulator on
# 127.0.0.1:18080 with the demo devices, and runs the gateway in the foreground with
# config/demo.yaml (data under /tmp/edgegw-demo). Ctrl-C stops both gracefully.
# Environment: JOBS (default: cores) for the build; DEMO_CONFIG to use another config file.
set -euo pipefail
cd "$(dirname "$0")/.."

config=${DEMO_CONFIG:-config/demo.yaml}
jobs=${JOBS:-$(nproc)}

deploy/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs" --target edgegw edgegw_plugin_example \
  edgegw-cloud-emulator

build/release/bin/edgegw check-config -c "$config"

# The cloud: the project's emulator with the demo devices' tokens (as in config/demo.yaml).
devices=config/demo-cloud-devices.txt
boiler=$(awk '$2 == "boiler-1" { print $1 }' "$devices")
build/release/tests/cloud_emulator/edgegw-cloud-emulator --listen 127.0.0.1:18080 \
  --devices "$devices" &
emulator=$!
trap 'kill "$emulator" 2>/dev/null; wait "$emulator" 2>/dev/null' EXIT

cat <<TXT
demo: the gateway sends boiler-1's readings to the emulator. In another terminal:
  curl -s -H "Device-Token: $boiler" 'http://127.0.0.1:18080/data?variable=temperature&qty=3'
  curl -s http://127.0.0.1:18080/_emulator/stats
  build/release/bin/edgegw buffer stats -c $config
Ctrl-C stops the gateway (gracefully) and the emulator.
TXT
build/release/bin/edgegw run -c "$config"
