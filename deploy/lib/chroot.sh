# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shell functions for the scripts that test in a Debian chroot (sourced, not run; needs root):
# the kernel's file systems mounted into it and unmounted again, commands run in it.
#   . deploy/lib/chroot.sh

# chroot_mount ROOT [TMP_SIZE]: /proc, /dev and /dev/pts of this machine in ROOT, and with
# TMP_SIZE (e.g. 4g) a tmpfs of that size on ROOT/tmp.
chroot_mount() {
  local root=$1 tmp_size=${2:-}
  mount -t proc proc "$root/proc"
  mount --bind /dev "$root/dev"
  mount --bind /dev/pts "$root/dev/pts"
  if [ -n "$tmp_size" ]; then mount -t tmpfs -o "size=$tmp_size" tmpfs "$root/tmp"; fi
}

# chroot_unmount ROOT: undoes chroot_mount, innermost first. What is not mounted is skipped, so
# it is safe in an EXIT trap, after a failed chroot_mount, and twice. Fails if a mount is left
# (then ROOT must not be removed: /dev is this machine's).
chroot_unmount() {
  local root=$1 m left=0
  for m in tmp dev/pts dev proc; do
    if mountpoint -q "$root/$m"; then umount -l "$root/$m" || left=1; fi
  done
  return "$left"
}

# chroot_run ROOT COMMAND...: COMMAND as root in ROOT, with a clean environment.
chroot_run() {
  local root=$1
  shift
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"
}

# chroot_serve ROOT USER LOG CHECK COMMAND...: runs COMMAND in ROOT as USER (its stderr into
# ROOT/LOG) in a network namespace of its own (its ports cannot clash with this machine's) until
# CHECK, a shell command run on this machine in that namespace, succeeds (30 s at most); then
# stops it with SIGTERM, as a service manager or a container engine would, and prints the log.
# Fails unless CHECK succeeded and COMMAND then exited 0.
chroot_serve() {
  unshare --net bash -c '
    set -u
    root=$1 user=$2 log=$3 check=$4
    shift 4
    ip link set lo up
    chroot --userspec="$user:$user" "$root" /usr/bin/env -i PATH=/usr/bin:/bin "$@" \
      2>"$root$log" &
    pid=$!
    for _ in $(seq 1 150); do
      if bash -c "$check" 2>/dev/null; then ready=1; break; fi
      kill -0 $pid 2>/dev/null || break
      sleep 0.2
    done
    kill -TERM $pid 2>/dev/null
    wait $pid; rc=$?
    cat "$root$log"
    [ "${ready:-0}" = 1 ] || { echo "never ready: $check"; exit 1; }
    [ $rc -eq 0 ] || { echo "exit $rc"; exit 1; }
  ' _ "$@"
}
