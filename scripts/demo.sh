#!/usr/bin/env bash
# The demo: single containers with ccdk, then the team-session workflow with ccorc, all offline.
set -euo pipefail
CCDK=${CCDK:-.build/debug/ccdk}
CCORC=${CCORC:-.build/debug/ccorc}
export CCORC_NETWORK=${CCORC_NETWORK:-none}
export CCORC_IMAGE=${CCORC_IMAGE:-ccorc-busybox:latest}
export CCORC_AGENT_COMMAND=${CCORC_AGENT_COMMAND:-sh}
name=ccorc-demo-$$
team=demo-$(date +%H%M%S)

step() { printf '\n$ %s\n' "$*"; "$@"; }

echo "== An offline image and one container with ccdk"
step "$CCDK" image busybox -t "$CCORC_IMAGE"
step "$CCDK" run -d "$name" --memory 256m --cpus 0.5 -- sh -c 'echo agent ready; sleep 3600'
step "$CCDK" list
step "$CCDK" stats "$name"
step "$CCDK" update "$name" --memory 512m --cpus 1
step "$CCDK" stats "$name"
sleep 0.2
step "$CCDK" logs "$name"
step "$CCDK" exec "$name" -- sh -c 'echo hello from $(hostname)'
step "$CCDK" rm -f "$name"

echo
echo "== Day 1: a team session (agent command: sh)"
step "$CCORC" launch "$team" --detach --container-memory 256m --container-cpus 0.5
step "$CCORC" list
step "$CCDK" exec "$team-leader" -- sh -c 'echo "notes from day 1" > /root/.claude/notes.txt'

echo
echo "== End of day: containers stop and persist, tmux closes"
step "$CCORC" stop "$team"
step "$CCORC" list

echo
echo "== Day 2: resume"
step "$CCORC" resume "$team" --detach
step "$CCORC" list --verbose
step "$CCDK" exec "$team-leader" -- cat /root/.claude/notes.txt

cat <<EOT

Attach to the team:      $CCORC attach $team        (or: tmux attach -t $team)
Stop it for the day:     $CCORC stop $team
Remove it entirely:      $CCORC stop $team && $CCDK rm -f '$team-*'
EOT
