#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the gateway in the foreground with
# config/demo.yaml (data under /tmp/edgegw-demo). Ctrl-C stops it gracefully.
# Environment: JOBS (default: cores) for the build; DEMO_CONFIG to use another config file.
set -euo pipefail
cd "$(dirname "$0")/.."

config=${DEMO_CONFIG:-config/demo.yaml}
jobs=${JOBS:-$(nproc)}

deploy/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs" --target edgegw edgegw_plugin_example

build/release/bin/edgegw check-config -c "$config"
echo "demo: starting the gateway (Ctrl-C to stop)"
exec build/release/bin/edgegw run -c "$config"
