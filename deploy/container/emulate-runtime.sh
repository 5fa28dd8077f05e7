#!/usr/bin/env bash
# Runs the runtime stage of ./Containerfile without a container engine (there is none on the
# project's machines): its RUN and COPY instructions, read from the file, are executed in ROOTFS
# (a fresh Debian 12 chroot standing in for debian:bookworm-slim), then its CMD as its USER in a
# network namespace of its own until its HEALTHCHECK command succeeds, then SIGTERM (the
# engine's stop). What this cannot check: the build stage, VOLUME, EXPOSE, the base image itself.
#   deploy/container/emulate-runtime.sh ROOTFS DEB      (root; called by test-deb.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
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
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
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

unshare --net bash -c '
  set -u
  root=$1 user=$2 health=$3; shift 3
  ip link set lo up
  chroot --userspec="$user:$user" "$root" /usr/bin/env -i PATH=/usr/bin:/bin "$@" \
    2>"$root/tmp/container.log" &
  pid=$!
  for _ in $(seq 1 150); do
    if chroot --userspec="$user:$user" "$root" /bin/sh -c "$health" 2>/dev/null; then healthy=1; break; fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.2
  done
  kill -TERM $pid 2>/dev/null
  wait $pid; rc=$?
  cat "$root/tmp/container.log"
  [ "${healthy:-0}" = 1 ] || { echo "never healthy"; exit 1; }
  [ $rc -eq 0 ] || { echo "exit $rc"; exit 1; }
' _ "$root" "$user" "$health" "${entrypoint[@]}" "${cmd[@]}" || fail "the container's CMD"
[ "$(in_root id -u "$user")" = 10001 ] || fail "$user is not uid 10001 (deploy/k8s runAsUser)"
echo "the Containerfile's runtime stage runs and is healthy"
