#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The long form of the reliability suite (tests/reliability): many more kill -9 rounds at a
# higher rate, and longer outages, against the real binary, Mosquitto and the cloud emulator.
# Prints each scenario's tally (rounds, readings acknowledged, duplicates, lost = 0) and exits
# non-zero if any check failed.
#
#   bench/reliability/run_long.sh [BUILD_DIR]      # default build/release
# Environment: ROUNDS (default 100), RATE (messages/s, default 5000), OUTAGE_MS (default 10000),
# SEED (kill timings; default random, printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
rounds=${ROUNDS:-100}
rate=${RATE:-5000}
outage_ms=${OUTAGE_MS:-10000}
tests=$build/tests/reliability
if [ ! -x "$tests/reliability_kill_test" ]; then
  echo "no $tests/reliability_kill_test: build first (cmake --build --preset release)" >&2
  exit 2
fi
export EDGEGW_BINARY_DIR=$PWD/$build
export EDGEGW_REL_ROUNDS=$rounds EDGEGW_REL_RATE=$rate EDGEGW_REL_OUTAGE_MS=$outage_ms
[ -n "${SEED:-}" ] && export EDGEGW_REL_SEED=$SEED

status=0
run() {
  local binary=$1 filter=$2
  echo "=== $binary --gtest_filter=$filter"
  local start=$SECONDS
  "$tests/$binary" --gtest_filter="$filter" --gtest_brief=1 || status=1
  echo "    ($((SECONDS - start)) s)"
}
run reliability_kill_test 'Reliability.KillNine*'
run reliability_outage_test 'Reliability.BrokerRestart*'
exit $status
