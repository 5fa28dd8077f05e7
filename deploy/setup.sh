#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every build and test dependency of edgegw from Debian's packages.
# Idempotent and non-interactive: safe to run again; installs only what is missing.
set -euo pipefail

packages=(
  # toolchain
  build-essential g++ cmake ninja-build pkg-config git ca-certificates
  clang libclang-rt-14-dev clang-format clang-tidy
  # libraries
  libpaho-mqtt-dev libpaho-mqttpp-dev
  libboost1.81-dev libboost-json1.81-dev
  libyaml-cpp-dev librocksdb-dev prometheus-cpp-dev libcivetweb-dev libssl-dev libspdlog-dev libfmt-dev
  libmodbus-dev  # plugins/modbus
  # tests and benches
  libgtest-dev libgmock-dev libbenchmark-dev
  mosquitto mosquitto-clients socat prometheus curl procps iproute2 openssl
  gnuplot-nox  # bench/e2e/run_scenarios.sh: the report's plot
  # deploy: sd_notify, systemd-analyze, the .deb (cpack, dpkg-shlibdeps, lintian, a chroot,
  # systemd-nspawn to boot it)
  libsystemd-dev systemd systemd-container dpkg-dev file lintian debootstrap
  strace  # tests/reliability: the WAL is synced before an acknowledgement
)
# Node.js for the JS test tools (tests/deploy/k8s) and the official JS SDK's test of the local
# Device API (tests/integration/http_sdk): Debian's, unless a node with npm is there.
command -v npm >/dev/null || packages+=(nodejs npm)

# JS test dependencies from npm, pinned by their package-lock.json; again only when it changed.
npm_deps() {
  local root dir
  root="$(cd "$(dirname "$0")/.." && pwd)"
  for dir in "$root/tests/deploy/k8s" "$root/tests/integration/http_sdk"; do
    if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.edgegw-lock" 2>/dev/null; then
      echo "setup: npm ci in ${dir#"$PWD"/}"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
      cp "$dir/package-lock.json" "$dir/node_modules/.edgegw-lock"
    fi
  done
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  npm_deps
  exit 0
fi

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# The packaged services (mosquitto, prometheus) must not start system-wide instances:
# tests start their own on free loopback ports. policy-rc.d stops invoke-rc.d during the install.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod +x "$policy"
  created_policy=1
fi
trap '[ $created_policy -eq 1 ] && "${sudo[@]}" rm -f "$policy"' EXIT
"${sudo[@]}" apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}" >/dev/null
npm_deps
echo "setup: done"
