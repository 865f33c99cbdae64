#!/usr/bin/env bash
# The demo: an offline image, then one container run, listed, limited live and removed with ccdk.
set -euo pipefail
CCDK=${CCDK:-.build/debug/ccdk}
export CCORC_NETWORK=${CCORC_NETWORK:-none}
export CCORC_IMAGE=${CCORC_IMAGE:-ccorc-busybox:latest}
name=ccorc-demo-$$

step() { printf '\n$ %s\n' "$*"; "$@"; }

step "$CCDK" image busybox -t "$CCORC_IMAGE"
step "$CCDK" run -d "$name" --memory 256m --cpus 0.5 -- sh -c 'echo agent ready; sleep 3600'
step "$CCDK" list
step "$CCDK" stats "$name"
step "$CCDK" update "$name" --memory 512m --cpus 1
step "$CCDK" stats "$name"
sleep 0.2
step "$CCDK" logs "$name"
step "$CCDK" stop -t 1 "$name"
step "$CCDK" status "$name"
step "$CCDK" rm -f "$name"
