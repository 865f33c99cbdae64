#!/usr/bin/env bash
# A private dockerd beside the main one, for tests: its own socket, data root, exec root and pid
# file under DIR (which must be short: containerd's socket goes under it), networking off; it
# starts its own containerd. `start DIR` prints the socket path once the engine answers; `stop DIR`
# ends that dockerd by its pid (its containers stop with it) and leaves DIR to the caller.
#
#   scripts/extra-engine.sh start /tmp/ccorc-e1     # -> /tmp/ccorc-e1/docker.sock
#   scripts/extra-engine.sh stop /tmp/ccorc-e1
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
dir=$2
socket=$dir/docker.sock
pidfile=$dir/dockerd.pid

answers() { curl -sf --max-time 2 --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1; }

case "$1" in
start)
    mkdir -p "$dir/data" "$dir/exec"
    nohup dockerd --host "unix://$socket" --data-root "$dir/data" --exec-root "$dir/exec" \
        --pidfile "$pidfile" --bridge=none --iptables=false --ip-masq=false \
        >"$dir/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 1 120); do
        if answers; then
            echo "$socket"
            exit 0
        fi
        sleep 0.5
    done
    echo "extra-engine: dockerd did not answer on $socket within 60 s; its log ends:" >&2
    tail -n 20 "$dir/dockerd.log" >&2 || true
    exit 1
    ;;
stop)
    [ -f "$pidfile" ] || { echo "extra-engine: no dockerd started in $dir" >&2; exit 1; }
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "extra-engine: dockerd $pid did not stop in 30 s; killing it" >&2
        kill -9 "$pid" 2>/dev/null || true
    fi
    # dockerd removes its pid file on a clean exit; after a kill it is still there.
    rm -f "$pidfile"
    ;;
*)
    usage
    ;;
esac
