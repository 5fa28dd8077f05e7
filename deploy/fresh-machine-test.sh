#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs deploy/test.sh on a fresh Debian 12 (minbase) in a chroot: what CI's clean machine, or an
# operator's new edge box, would do. Needs root, debootstrap, and access to Debian's package mirror.
#   deploy/fresh-machine-test.sh [ROOTFS_DIR]   (default: /var/tmp/edgegw-bookworm, reused if present)
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/chroot.sh

rootfs=${1:-/var/tmp/edgegw-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ ! -x "$rootfs/bin/bash" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
fi

# A clean copy of the committed tree (what CI clones), not the working directory's build outputs.
rm -rf "$rootfs/src/edgegw"
mkdir -p "$rootfs/src"
git clone -q . "$rootfs/src/edgegw"

trap 'chroot_unmount "$rootfs"' EXIT
chroot_mount "$rootfs" 4g
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
# The host's own trust store additions (a network that reaches the registries through an
# inspecting proxy has its CA there): a real machine on this network has them too.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$rootfs/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" sh -c 'command -v update-ca-certificates >/dev/null && update-ca-certificates >/dev/null || true'
fi
# debootstrap leaves no /etc/hosts; every real machine has one (localhost is used by the TLS tests).
[ -s "$rootfs/etc/hosts" ] || printf "127.0.0.1 localhost\n::1 localhost ip6-localhost\n" >"$rootfs/etc/hosts"

# Node.js reads its CAs from its own bundle: point it and npm at the system's, as the host does.
ca=/etc/ssl/certs/ca-certificates.crt
chroot "$rootfs" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin CI=true \
  NODE_EXTRA_CA_CERTS=$ca npm_config_cafile=$ca \
  bash -c 'cd /src/edgegw && deploy/test.sh'
