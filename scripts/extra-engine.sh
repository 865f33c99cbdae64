#!/usr/bin/env bash
# A private dockerd beside the main one, for tests: its own socket, data root, exec root and pid
# file under DIR (which must be short: containerd's socket goes under it), networking off; it
# starts its own containerd. `start DIR` prints the socket path once the engine answers; `stop DIR`
# ends that dockerd by its pid (its containers stop with it) and leaves DIR to the caller.
#
# `start-tls DIR PORT` also listens on tcp://127.0.0.1:PORT with mutual TLS: it makes a CA, a
# server certificate (subjectAltName IP:127.0.0.1, serverAuth) and a client certificate
# (clientAuth) with openssl under DIR/certs, and copies the client's as ca.pem, cert.pem and
# key.pem into DIR/client, a directory fit for DOCKER_CERT_PATH. It prints the socket path once
# the engine answers on both.
#
#   scripts/extra-engine.sh start /tmp/ccorc-e1     # -> /tmp/ccorc-e1/docker.sock
#   scripts/extra-engine.sh start-tls /tmp/ccorc-e2 23761
#   scripts/extra-engine.sh stop /tmp/ccorc-e1
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR, or $0 start-tls DIR PORT" >&2; exit 2; }
[ $# -ge 2 ] || usage
dir=$2
socket=$dir/docker.sock
pidfile=$dir/dockerd.pid

tcp_port=
answers() {
    curl -sf --max-time 2 --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1 || return 1
    [ -z "$tcp_port" ] && return 0
    curl -sf --max-time 2 --cacert "$dir/client/ca.pem" --cert "$dir/client/cert.pem" \
        --key "$dir/client/key.pem" "https://127.0.0.1:$tcp_port/_ping" >/dev/null 2>&1
}

# A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA.
make_certificates() {
    local certs=$dir/certs
    mkdir -p "$certs" "$dir/client"
    (
        cd "$certs"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=ccorc test CA" \
            -keyout ca-key.pem -out ca.pem
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server-key.pem -out server.csr
        printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
            -extfile server.ext -out server-cert.pem
        openssl req -newkey rsa:2048 -nodes -subj "/CN=ccorc test client" -keyout client-key.pem -out client.csr
        printf 'extendedKeyUsage=clientAuth\n' >client.ext
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
            -extfile client.ext -out client-cert.pem
    ) >"$dir/openssl.log" 2>&1 || { echo "extra-engine: openssl failed; see $dir/openssl.log" >&2; exit 1; }
    cp "$certs/ca.pem" "$dir/client/ca.pem"
    cp "$certs/client-cert.pem" "$dir/client/cert.pem"
    cp "$certs/client-key.pem" "$dir/client/key.pem"
}

case "$1" in
start | start-tls)
    mkdir -p "$dir/data" "$dir/exec"
    tls=()
    if [ "$1" = start-tls ]; then
        [ $# -eq 3 ] || usage
        tcp_port=$3
        # Kept across a restart, so that clients holding the CA still trust the engine.
        [ -f "$dir/certs/server-cert.pem" ] || make_certificates
        tls=(--host "tcp://127.0.0.1:$tcp_port" --tlsverify --tlscacert "$dir/certs/ca.pem"
            --tlscert "$dir/certs/server-cert.pem" --tlskey "$dir/certs/server-key.pem")
    else
        [ $# -eq 2 ] || usage
    fi
    nohup dockerd --host "unix://$socket" "${tls[@]}" --data-root "$dir/data" --exec-root "$dir/exec" \
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
    [ $# -eq 2 ] || usage
    [ -f "$pidfile" ] || { echo "extra-engine: no dockerd started in $dir" >&2; exit 1; }
    pid=$(cat "$pidfile")
    # The pid file outlives a killed dockerd, and pids are reused (pid_max can be 32768): signal
    # the pid only while it is still this directory's dockerd. (A killed one is waited for until
    # it is reaped, as before.)
    ours() { tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--pidfile $pidfile"; }
    if ours; then kill "$pid" 2>/dev/null || true; fi
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if ours; then
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
