#!/usr/bin/env bash
# Starts, stops or checks the Docker engine the tests and the demo use.
#   scripts/engine.sh start    start dockerd (networking off) unless an engine already answers
#   scripts/engine.sh stop     stop the dockerd this script started (and nothing else)
#   scripts/engine.sh status   exit 0 if an engine answers on the socket
# The socket is DOCKER_HOST (unix://PATH) or /var/run/docker.sock.
set -euo pipefail

socket=${DOCKER_HOST:-unix:///var/run/docker.sock}
socket=${socket#unix://}
state_dir=/run/ccorc-engine
pidfile=$state_dir/dockerd.pid
logfile=$state_dir/dockerd.log

answers() {
    curl -sf --max-time 2 --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1
}

case "${1:-status}" in
start)
    if answers; then
        echo "engine: already answering on $socket"
        exit 0
    fi
    if ! command -v dockerd >/dev/null 2>&1; then
        echo "engine: dockerd is not installed (run scripts/setup.sh)" >&2
        exit 1
    fi
    mkdir -p "$state_dir"
    # No bridge, no iptables: containers here only ever use NetworkMode "none".
    nohup dockerd --host "unix://$socket" --pidfile "$pidfile" \
        --bridge=none --iptables=false --ip-masq=false >"$logfile" 2>&1 </dev/null &
    for _ in $(seq 1 120); do
        if answers; then
            echo "engine: dockerd $(cat "$pidfile" 2>/dev/null) answering on $socket"
            exit 0
        fi
        sleep 0.5
    done
    echo "engine: dockerd did not answer on $socket within 60 s; its log ends:" >&2
    tail -n 20 "$logfile" >&2 || true
    exit 1
    ;;
stop)
    if [ -f "$pidfile" ]; then
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        # A deadlocked dockerd ignores SIGTERM (seen with 20.10's network controller).
        if kill -0 "$pid" 2>/dev/null; then
            echo "engine: dockerd $pid did not stop in 30 s; killing it" >&2
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$pidfile"
        echo "engine: stopped dockerd $pid"
    else
        echo "engine: no dockerd started by this script"
    fi
    ;;
status)
    if answers; then echo "engine: answering on $socket"; else echo "engine: nothing answers on $socket" >&2; exit 1; fi
    ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
