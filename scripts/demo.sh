#!/usr/bin/env bash
# The demo: single containers with ccdk, then the team-session workflow with ccorc, all offline, on
# an image laid out like the real agent image (a non-root user `agent`, HOME=/home/agent,
# VOLUME /home/agent/.claude). Every step's result is checked: the demo fails when one is wrong.
#
# CCORC_DEMO_CLEANUP=1 removes the team session at the end (and on failure), as `make test` does.
set -euo pipefail
CCDK=${CCDK:-.build/debug/ccdk}
CCORC=${CCORC:-.build/debug/ccorc}
export CCORC_NETWORK=${CCORC_NETWORK:-none}
export CCORC_IMAGE=${CCORC_IMAGE:-ccorc-busybox-agent:latest}
export CCORC_AGENT_COMMAND=${CCORC_AGENT_COMMAND:-sh}
name=ccorc-demo-$$
team=demo-$(date +%H%M%S)-$$

step() { printf '\n$ %s\n' "$*"; "$@"; }
fail() { echo "demo: $*" >&2; exit 1; }

clean_up() {
    status=$?
    "$CCDK" rm -f -v "$name" >/dev/null 2>&1 || true
    if [ "${CCORC_DEMO_CLEANUP:-0}" = 1 ] && [ $status -ne 0 ]; then
        "$CCORC" cleanup --remove "$team" --yes >/dev/null 2>&1 || true
    fi
}
trap clean_up EXIT

echo "== An offline image laid out like the agent image, and one container with ccdk"
step "$CCDK" image busybox --user agent -t "$CCORC_IMAGE"
step "$CCDK" run -d "$name" --memory 256m --cpus 0.5 -- sh -c 'echo agent ready; sleep 3600'
step "$CCDK" list
step "$CCDK" stats "$name"
step "$CCDK" update "$name" --memory 512m --cpus 1
step "$CCDK" stats "$name"
sleep 0.2
step "$CCDK" logs "$name"
hello=$(step "$CCDK" exec "$name" -- sh -c 'echo hello from $(id -un)')
echo "$hello"
[[ $hello == *"hello from agent" ]] || fail "exec did not run as the image's user: $hello"
step "$CCDK" rm -f -v "$name"

echo
echo "== Day 1: a team session (agent command: sh); each agent's ~/.claude is its named volume"
step "$CCORC" launch "$team" --detach --container-memory 256m --container-cpus 0.5
step "$CCORC" list
step "$CCDK" exec "$team-leader" -- sh -c 'echo "notes from day 1" > ~/.claude/notes.txt'

echo
echo "== End of day: containers stop and persist, tmux closes"
step "$CCORC" stop "$team"
step "$CCORC" list

echo
echo "== Day 2: resume"
step "$CCORC" resume "$team" --detach
step "$CCORC" list --verbose
notes=$(step "$CCDK" exec "$team-leader" -- sh -c 'cat ~/.claude/notes.txt')
echo "$notes"
[[ $notes == *"notes from day 1" ]] || fail "day 1's notes did not survive the night: $notes"

if [ "${CCORC_DEMO_CLEANUP:-0}" = 1 ]; then
    echo
    echo "== Done: remove the session, its containers and its volumes"
    step "$CCORC" cleanup --remove "$team" --yes
    left=$("$CCORC" list --json)
    [[ $left != *"\"$team\""* ]] || fail "cleanup left $team registered: $left"
    exit 0
fi

cat <<EOT

Attach to the team:      $CCORC attach $team        (or: tmux attach -t $team)
Stop it for the day:     $CCORC stop $team
Remove it entirely:      $CCORC cleanup --remove $team
EOT
