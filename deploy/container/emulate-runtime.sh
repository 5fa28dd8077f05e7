#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the runtime stage of ./Containerfile without a container engine (there is none on the
# project's machines): its RUN and COPY instructions, read from the file, are executed in ROOTFS
# (a fresh Debian 12 chroot standing in for debian:bookworm-slim), then its CMD as its USER in a
# network namespace of its own until its HEALTHCHECK command succeeds, then SIGTERM (the
# engine's stop). What this cannot check: the build stage, VOLUME, EXPOSE, the base image itself.
#   deploy/container/emulate-runtime.sh ROOTFS DEB      (root; called by test-deb.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/lib/chroot.sh
root=$1 deb=$2
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

# The runtime stage's instructions, continuation lines joined: everything after the last FROM.
mapfile -t instructions < <(awk '
  /^FROM /        { stage = ""; next }
  /^[[:space:]]*#/ && !cont { next }
  { line = cont ? line " " $0 : $0; cont = sub(/\\$/, "", line) }
  !cont && line != "" { stage = stage line "\n"; line = "" }
  END { printf "%s", stage }' deploy/container/Containerfile)
[ ${#instructions[@]} -gt 5 ] || fail "cannot read the runtime stage of the Containerfile"

# ["run", "-c", "FILE"] -> one word a line (the exec form; no commas or quotes inside words).
json_words() { sed -e 's/^\[ *"//' -e 's/" *\]$//' -e 's/", *"/\n/g' <<<"$1"; }
in_root() { chroot_run "$root" "$@"; }
user=root cmd=() entrypoint=() health=""
for instruction in "${instructions[@]}"; do
  keyword=${instruction%% *} args=${instruction#* }
  case $keyword in
    RUN)
      echo "RUN ${args:0:100}..."
      in_root env DEBIAN_FRONTEND=noninteractive sh -c "$args" >/dev/null || fail "RUN $args"
      ;;
    COPY)
      read -r -a words <<<"$args"
      if [ "${words[0]}" = "--from=build" ]; then
        cp "$deb" "$root${words[2]}"          # the build stage's .deb: the one test-deb.sh built
      else
        cp "${words[0]}" "$root${words[1]}"
      fi
      echo "COPY $args"
      ;;
    USER) user=$args ;;
    ENTRYPOINT) mapfile -t entrypoint < <(json_words "$args") ;;
    CMD) mapfile -t cmd < <(json_words "$args") ;;
    HEALTHCHECK) health=${args#*CMD } ;;
    VOLUME | EXPOSE | STOPSIGNAL) ;;
    *) fail "instruction not emulated: $keyword" ;;
  esac
done
[ "$user" != root ] || fail "the image runs as root"
[ -n "$health" ] || fail "no HEALTHCHECK"
echo "USER $user; ${entrypoint[*]} ${cmd[*]}; health check: $health"

# The HEALTHCHECK runs in the container, as its user.
health_check=$(printf 'chroot %q %q /bin/sh -c %q' "--userspec=$user:$user" "$root" "$health")
chroot_serve "$root" "$user" /tmp/container.log "$health_check" "${entrypoint[@]}" "${cmd[@]}" \
  || fail "the container's CMD"
[ "$(in_root id -u "$user")" = 10001 ] || fail "$user is not uid 10001 (deploy/k8s runAsUser)"
echo "the Containerfile's runtime stage runs and is healthy"
