#!/usr/bin/env bash
# Runs a session client (the C ABI test, the Swift example) against the real engine and a private
# tmux server, then removes whatever its session names left behind (containers, state volumes, the
# tmux server, the registry).
#
# Usage: Tests/run-session-client.sh PROGRAM CCDK [RUNNER...]
#   PROGRAM  a client taking PREFIX TMUX_SERVER HOME CCDK_PATH IMAGE
#   CCDK     the ccdk the agent windows run (also used here to make the test image)
#   RUNNER   e.g. valgrind and its options; empty runs PROGRAM directly
set -euo pipefail
program=$1
ccdk=$2
shift 2

socket=/var/run/docker.sock
if [[ "${DOCKER_HOST:-}" == unix://* ]]; then socket=${DOCKER_HOST#unix://}; fi
image=ccorc-busybox:latest
prefix="ccorc-client-$$-$RANDOM"
home=$(mktemp -d "${TMPDIR:-/tmp}/$prefix-home.XXXXXX")
tmux_server=$prefix

engine() { curl -s --unix-socket "$socket" "$@"; }

clean_up() {
    # Containers and volumes named after this run's prefix, whatever state the program left them in.
    local names volumes
    names=$(engine "http://localhost/containers/json?all=1&filters=%7B%22name%22%3A%5B%22%5E%2F$prefix-%22%5D%7D" |
        grep -o '"Names":\["/[^"]*"' | sed 's|.*"/||; s|"$||' || true)
    for name in $names; do engine -o /dev/null -X DELETE "http://localhost/containers/$name?force=1"; done
    volumes=$(engine "http://localhost/volumes?filters=%7B%22name%22%3A%5B%22$prefix-%22%5D%7D" |
        grep -o '"Name":"[^"]*"' | sed 's|"Name":"||; s|"$||' || true)
    for volume in $volumes; do
        [[ $volume == "$prefix"-* ]] && engine -o /dev/null -X DELETE "http://localhost/volumes/$volume?force=1"
    done
    tmux -L "$tmux_server" kill-server 2>/dev/null || true
    rm -rf "$home"
}
trap clean_up EXIT

status=$(engine -o /dev/null -w '%{http_code}' "http://localhost/images/$image/json")
if [ "$status" != 200 ]; then "$ccdk" image busybox -t "$image" >/dev/null; fi

# The private tmux server started by the library must not inherit the caller's session.
env -u TMUX "$@" "$program" "$prefix" "$tmux_server" "$home" "$ccdk" "$image"
