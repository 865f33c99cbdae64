#!/usr/bin/env bash
# Fails, naming each one, if the tests left anything in DIR, the TMPDIR they ran with: every test
# removes what it made. What the toolchain leaves there is not the tests' (SwiftPM's empty lock
# files and its TemporaryDirectory.* holding only .keep-directory, Foundation's empty
# TemporaryItems).
#   Tests/temporary-leftovers.sh DIR
set -euo pipefail
dir=$1
left=()
for entry in "$dir"/* "$dir"/.[!.]*; do
    [ -e "$entry" ] || continue
    name=${entry##*/}
    case "$name" in
    *.lock) [ -s "$entry" ] || continue ;;
    TemporaryDirectory.*) [ -z "$(ls -A "$entry" | grep -vx '.keep-directory')" ] && continue ;;
    TemporaryItems) [ -z "$(ls -A "$entry")" ] && continue ;;
    esac
    left+=("$name")
done
if [ ${#left[@]} -gt 0 ]; then
    echo "tests: the test run left ${#left[@]} item(s) in its temporary directory: ${left[*]}" >&2
    exit 1
fi
echo "tests: the test run left nothing in its temporary directory"
