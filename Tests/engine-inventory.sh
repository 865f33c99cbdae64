#!/usr/bin/env bash
# What is on the engine, to prove a test run leaves nothing behind.
#   Tests/engine-inventory.sh list > FILE    containers, volumes and images, one per line
#   Tests/engine-inventory.sh check FILE     fail, naming each one, if anything is there now that
#                                            FILE does not list (the shared test images excepted)
# The engine is DOCKER_HOST (unix:///path) or /var/run/docker.sock.
set -euo pipefail
socket=/var/run/docker.sock
if [[ "${DOCKER_HOST:-}" == unix://* ]]; then socket=${DOCKER_HOST#unix://}; fi
# Images the tests and the demo make once and keep on purpose, so that later runs reuse them.
kept_images='ccorc-busybox:latest ccorc-busybox-agent:latest'

inventory() {
    local containers volumes images
    containers=$(curl -sf --unix-socket "$socket" 'http://localhost/containers/json?all=1')
    volumes=$(curl -sf --unix-socket "$socket" 'http://localhost/volumes')
    images=$(curl -sf --unix-socket "$socket" 'http://localhost/images/json')
    KEPT=$kept_images python3 -c '
import json, os, sys
containers, volumes, images = (json.loads(text) for text in sys.argv[1:4])
kept = set(os.environ["KEPT"].split())
for c in containers:
    print("container", c["Names"][0].lstrip("/"), c["Id"][:12])
for v in volumes.get("Volumes") or []:
    print("volume", v["Name"])
for i in images:
    tags = [t for t in (i.get("RepoTags") or []) if t != "<none>:<none>"]
    if not set(tags) & kept:
        print("image", ",".join(tags) or "<untagged>", i["Id"][7:19])
' "$containers" "$volumes" "$images" | sort
}

case "${1:-}" in
list)
    inventory
    ;;
check)
    before=$2
    left=$(inventory | comm -13 "$before" -)
    if [ -n "$left" ]; then
        echo "the test run left these on the engine:" >&2
        echo "$left" | sed 's/^/  /' >&2
        exit 1
    fi
    echo "engine: the test run left nothing behind"
    ;;
*)
    echo "usage: $0 list | check FILE" >&2
    exit 2
    ;;
esac
