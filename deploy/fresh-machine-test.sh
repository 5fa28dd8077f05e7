#!/usr/bin/env bash
# Runs deploy/test.sh on a fresh Debian 12 (minbase) in a chroot: what CI's clean machine, or an
# operator's new edge box, would do. Needs root, debootstrap, and access to Debian's package mirror.
#   deploy/fresh-machine-test.sh [ROOTFS_DIR]   (default: /var/tmp/edgegw-bookworm, reused if present)
set -euo pipefail
cd "$(dirname "$0")/.."

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

cleanup() {
  for m in tmp dev/pts dev proc; do umount -l "$rootfs/$m" 2>/dev/null || true; done
}
trap cleanup EXIT
mount -t proc proc "$rootfs/proc"
mount --bind /dev "$rootfs/dev"
mount --bind /dev/pts "$rootfs/dev/pts"
mount -t tmpfs -o size=4g tmpfs "$rootfs/tmp"
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
# debootstrap leaves no /etc/hosts; every real machine has one (localhost is used by the TLS tests).
[ -s "$rootfs/etc/hosts" ] || printf "127.0.0.1 localhost\n::1 localhost ip6-localhost\n" >"$rootfs/etc/hosts"

chroot "$rootfs" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin CI=true \
  bash -c 'cd /src/edgegw && deploy/test.sh'
