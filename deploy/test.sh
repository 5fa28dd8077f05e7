#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The one command that installs, builds and runs every test on a fresh Debian 12 machine.
#   deploy/test.sh            setup + release build + all tests + bounded fuzz runs
#                             + the asan preset's build and tests (ASan + UBSan)
# Environment: FUZZ_SECONDS (default 30) per fuzz target; JOBS (default: cores) for the build;
# ASAN (default 1; 0 skips the AddressSanitizer + UBSan build and test run).
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_seconds=${FUZZ_SECONDS:-30}
asan=${ASAN:-1}
jobs=${JOBS:-$(nproc)}

step() { printf '\n=== %s\n' "$*"; }

step "setup: dependencies from Debian's packages"
deploy/setup.sh

step "build: release preset"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"

step "format check"
# The tracked sources in a git checkout; from a source tarball (no .git), the files on disk outside
# the build trees and node_modules.
sources() {
  if [ -e .git ] && command -v git >/dev/null; then
    git ls-files -z '*.cc' '*.h'
  else
    find . \( -path ./build -o -path ./out -o -name node_modules -o -name .git \) -prune \
      -o -type f \( -name '*.cc' -o -name '*.h' \) -print0
  fi
}
if command -v clang-format >/dev/null; then
  sources | xargs -0 -r clang-format --dry-run --Werror
fi

step "tests: release build"
ctest --preset release -j "$jobs"

step "package: the .deb, lintian, installed on a fresh Debian 12 chroot (deploy/packaging/test-deb.sh)"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
"${sudo[@]}" deploy/packaging/test-deb.sh build/release

# Measured on the 2-core dev VM: the asan build is ~900 CPU-seconds (about 8 min at -j2) and its
# whole test run about 3 min: about 11 min of the 90-min CI budget, so it runs by default.
if [ "$asan" = 1 ]; then
  step "tests: asan preset (AddressSanitizer + UBSan, every test; ASAN=0 skips)"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs"
  ctest --preset asan -j "$jobs"
else
  step "tests: asan preset skipped (ASAN=0)"
fi

step "fuzz: each target for ${fuzz_seconds}s (clang, libFuzzer, ASan+UBSan)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs"
for fuzzer in build/fuzz/tests/fuzz/*_fuzz; do
  name=$(basename "$fuzzer")
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "--- $name"
  "$fuzzer" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work" "tests/fuzz/corpus/$name" 2>"$work/log" || {
      tail -n 60 "$work/log"; echo "FAILED: $name"; exit 1; }
  grep -E '^stat::number_of_executed_units' "$work/log" || true
  rm -rf "$work"
done

step "all tests passed"
