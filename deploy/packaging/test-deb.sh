#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian package from a build tree, lints it, and installs it on a fresh Debian 12
# (a debootstrap chroot, so this machine is not changed): the installed binary checks and runs
# the installed default config as the edgegw user, the installed plugins load, the service runs
# under a real systemd (systemd-nspawn boots the chroot: boot-test.sh; systemd is not PID 1 on
# this machine nor in CI), a changed conffile survives a reinstall, and a purge cleans up.
#   deploy/packaging/test-deb.sh [BUILD_DIR]      (default build/release; needs root and
#                                                  access to Debian's package mirror)
# Environment: EDGEGW_DEB_BASE (default /var/tmp/edgegw-deb-base): a clean bookworm minbase,
# made once by debootstrap and copied for every run.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/lib/chroot.sh

build=${1:-build/release}
base=${EDGEGW_DEB_BASE:-/var/tmp/edgegw-deb-base}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
say() { printf -- '--- %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

say "cpack: the .deb from $build"
(cd "$build" && rm -f edgegw_*.deb && cpack -G DEB >/dev/null)
deb=$(ls "$build"/edgegw_*.deb)
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
dpkg-deb --contents "$deb" | awk '{print $1, $2, $6}'

say "lintian"
# Errors and warnings fail; informational tags (I:) are shown, not fatal.
lintian --fail-on error,warning --display-info "$deb"

[ "$(id -u)" -eq 0 ] || fail "installing in a chroot needs root (sudo $0)"

if [ ! -x "$base/usr/bin/apt-get" ]; then
  say "debootstrap: bookworm minbase in $base (once)"
  rm -rf "$base.tmp"
  debootstrap --variant=minbase bookworm "$base.tmp" "$mirror" >/dev/null
  mv "$base.tmp" "$base"
fi

root=$(mktemp -d /var/tmp/edgegw-deb-test.XXXXXX)
cleanup() {
  chroot_unmount "$root" && rm -rf --one-file-system "$root"
}
trap cleanup EXIT
say "a fresh copy of the bookworm minbase: $root"
cp -a "$base/." "$root/"
chroot_mount "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
[ -s "$root/etc/hosts" ] || printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >"$root/etc/hosts"
cp "$deb" "$root/tmp/edgegw.deb"
in_root() { chroot_run "$root" "$@"; }

say "apt-get install ./edgegw.deb (its Depends from Debian)"
in_root apt-get update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  /tmp/edgegw.deb >/dev/null

say "installed files, user and permissions"
for f in /usr/bin/edgegw /etc/edgegw/gateway.yaml /lib/systemd/system/edgegw.service \
         /usr/share/doc/edgegw/copyright /usr/share/doc/edgegw/changelog.Debian.gz \
         /usr/lib/edgegw/plugins/libedgegw_mqtt.so /usr/lib/edgegw/plugins/libedgegw_serial.so \
         /usr/lib/edgegw/plugins/libedgegw_http.so \
         /usr/share/edgegw/config/reference.yaml; do
  [ -e "$root$f" ] || fail "$f is not installed"
done
in_root getent passwd edgegw >/dev/null || fail "no edgegw user"
in_root id -nG edgegw | grep -qw dialout || fail "edgegw is not in dialout"
[ "$(in_root stat -c '%U:%G %a' /etc/edgegw/gateway.yaml)" = "root:edgegw 640" ] ||
  fail "/etc/edgegw/gateway.yaml: $(in_root stat -c '%U:%G %a' /etc/edgegw/gateway.yaml)"
[ "$(in_root stat -c '%U:%G %a' /var/lib/edgegw)" = "edgegw:edgegw 750" ] ||
  fail "/var/lib/edgegw: $(in_root stat -c '%U:%G %a' /var/lib/edgegw)"
in_root dpkg-query -W -f='${Conffiles}\n' edgegw | grep -q '/etc/edgegw/gateway.yaml' ||
  fail "gateway.yaml is not a conffile"
in_root edgegw version

say "edgegw check-config on the installed default"
in_root edgegw check-config -c /etc/edgegw/gateway.yaml

# Runs the installed binary as the unit does (user edgegw, the given config) in a network
# namespace of its own (127.0.0.1:9464 may be taken on this machine), until /readyz answers 200,
# then stops it with SIGTERM and expects exit 0.
run_until_ready() {
  local config=$1
  chroot_serve "$root" edgegw /tmp/run.log "curl -fsS -o /dev/null http://127.0.0.1:9464/readyz" \
    /usr/bin/edgegw run -c "$config" || fail "edgegw run -c $config"
}

say "edgegw run with the installed default, as edgegw, until ready; then SIGTERM"
run_until_ready /etc/edgegw/gateway.yaml
[ -n "$(ls -A "$root/var/lib/edgegw")" ] || fail "nothing written to /var/lib/edgegw"
not_owned=$(in_root find /var/lib/edgegw ! -user edgegw) || fail "find in /var/lib/edgegw"
[ -z "$not_owned" ] || fail "not owned by edgegw: $not_owned"

say "the installed plugins load (their libraries came with the package's Depends)"
cat >"$root/tmp/plugins.yaml" <<'YAML'
gateway: { data_dir: /var/lib/edgegw, shutdown_timeout: 2s }
metrics: { listen: 127.0.0.1:9464 }
sources:
  - { name: mqtt, plugin: mqtt, format: tago_json,
      config: { uri: "tcp://127.0.0.1:1", topics: ["t/{device}"] } }
  - { name: serial, plugin: serial, format: csv,
      config: { port: /dev/edgegw-no-such-port, device: d } }
  - { name: api, plugin: http, format: tago_json, config: { listen: "127.0.0.1:0" } }
  - { name: modbus, plugin: modbus,
      config: { transport: tcp, host: 127.0.0.1, port: 1,
                units: [{ id: 1, device: d, groups: [{ points: [{ name: v, address: 0 }] }] }] } }
  - { name: example, plugin: example, format: tago_json,
      config: { device: d, count: 1, payload: '{"variable":"v","value":1}' } }
YAML
chmod 644 "$root/tmp/plugins.yaml"
run_until_ready /tmp/plugins.yaml

say "the service under systemd: systemd-nspawn boots the chroot (deploy/packaging/boot-test.sh)"
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  systemd systemd-sysv curl socat >/dev/null
chroot_unmount "$root"  # systemd-nspawn mounts its own
boot=0
deploy/packaging/boot-test.sh "$root" || boot=$?
chroot_mount "$root"
case $boot in
  0) ;;
  3) say "NOT CHECKED under systemd: systemd-nspawn cannot boot a container on this machine" ;;
  *) fail "the service under systemd" ;;
esac

say "a changed conffile survives a reinstall"
echo "# changed by the administrator" >>"$root/etc/edgegw/gateway.yaml"
in_root env DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold /tmp/edgegw.deb >/dev/null
grep -q 'changed by the administrator' "$root/etc/edgegw/gateway.yaml" || fail "conffile replaced"
in_root edgegw check-config -c /etc/edgegw/gateway.yaml >/dev/null

say "purge"
in_root dpkg --purge edgegw >/dev/null
for f in /usr/bin/edgegw /etc/edgegw /var/lib/edgegw; do
  [ ! -e "$root$f" ] || fail "$f left after purge"
done
[ -z "$(in_root dpkg-statoverride --list '/etc/edgegw*')" ] || fail "statoverrides left after purge"

say "the container image's runtime stage, emulated on the same Debian 12 (deploy/container/emulate-runtime.sh)"
in_root userdel edgegw                   # the image makes its own, with a fixed uid
in_root groupdel edgegw 2>/dev/null || true
deploy/container/emulate-runtime.sh "$root" "$deb"

say "the package installs, runs, upgrades and purges on a fresh Debian 12"
