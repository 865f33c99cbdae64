#!/usr/bin/env bash
# The C ABI's three lists of functions must agree: those include/ccorc.h declares, those
# Sources/CCOrcC/ccorc.map exports, and those the built library really exports. A function added
# to one and not the others, or an export the map lets through by accident, fails with the
# difference.
#   scripts/abi-check.sh LIBRARY [HEADER] [MAP]
set -euo pipefail
library=${1:?usage: abi-check.sh LIBRARY [HEADER] [MAP]}
root=$(cd "$(dirname "$0")/.." && pwd)
header=${2:-$root/include/ccorc.h}
map=${3:-$root/Sources/CCOrcC/ccorc.map}
lists=$(mktemp -d)
trap 'rm -rf "$lists"' EXIT

# The header's functions: every `ccorc_name(` outside comments.
perl -0777 -pe 's{/\*.*?\*/}{}gs; s{//[^\n]*}{}g' "$header" |
    grep -oE '\bccorc_[a-z0-9_]+[[:space:]]*\(' | sed -E 's/[[:space:]]*\($//' | sort -u >"$lists/header"
# The map's global names.
perl -0777 -ne 's{/\*.*?\*/}{}gs; print "$1\n" while /global:(.*?)local:/gs' "$map" |
    tr -d ' \t;' | grep -v '^$' | sort -u >"$lists/map"
# The library's defined global dynamic symbols (functions and data alike).
nm -D --defined-only "$library" | awk 'NF == 3 && $2 ~ /^[A-Z]$/ { print $3 }' | sort -u >"$lists/library"

status=0
compare() {
    if ! diff -u --label "$2" "$lists/$1" --label "$4" "$lists/$3" >"$lists/diff"; then
        echo "abi-check: $2 and $4 differ (- only in $2, + only in $4):" >&2
        grep -E '^[-+][^-+]' "$lists/diff" >&2
        status=1
    fi
}
compare header "$header" map "$map"
compare map "$map" library "$library"
if [[ $status == 0 ]]; then echo "abi-check: $(wc -l <"$lists/library") functions, header = map = $(basename "$library")"; fi
exit $status
