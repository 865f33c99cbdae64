#!/usr/bin/env bash
# gdb and valgrind on the installed library exactly as `make install` left it: a C program linked
# through pkg-config stops under gdb at a line of the Swift code behind ccorc_status_name() (so gdb
# found the library's debug information), then runs to the end under
# valgrind, which must read that information without complaint and find no error.
#   Tests/debug-installed.sh PREFIX
set -euo pipefail
prefix=${1:?usage: debug-installed.sh PREFIX}
work=$(mktemp -d "${TMPDIR:-/tmp}/ccorc-debug.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat >"$work/probe.c" <<'C'
#include <ccorc.h>
#include <stdio.h>
int main(void) {
    printf("%s %s\n", ccorc_version(), ccorc_status_name(CCORC_ERR_NOT_FOUND));
    return 0;
}
C
cc -std=c99 -g -O0 "$work/probe.c" -o "$work/probe" $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs ccorc)

# A breakpoint on a line of the Swift function behind ccorc_status_name() (the exported C entry
# point itself is a compiler-made thunk with no line of its own).
source_file=Sources/CCOrcC/Handle.swift
line=$(grep -n 'switch status' "$(dirname "$0")/../$source_file" | head -1 | cut -d: -f1)
gdb -q -nx -batch -ex 'set debuginfod enabled off' -ex 'set breakpoint pending on' \
    -ex "break $(basename "$source_file"):$line" -ex run -ex 'bt 2' "$work/probe" >"$work/gdb.out" 2>&1 || true
if ! grep -qE "^#0 .* at .*$source_file:$line\$" "$work/gdb.out"; then
    echo "debug-installed: gdb did not stop at $source_file:$line (did it find the library's debug information?):" >&2
    grep -v '^During symbol reading' "$work/gdb.out" >&2
    exit 1
fi
echo "debug-installed: gdb: $(grep -m1 -E '^#0 ' "$work/gdb.out" | sed -E 's/ \(.*\) at / at /')"

valgrind -q --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$work/probe" >"$work/valgrind.out" 2>&1 || { echo "debug-installed: valgrind failed:" >&2; cat "$work/valgrind.out" >&2; exit 1; }
if grep -qiE 'warning|giving up|debuginfo' "$work/valgrind.out"; then
    echo "debug-installed: valgrind complained while reading the library:" >&2
    cat "$work/valgrind.out" >&2
    exit 1
fi
echo "debug-installed: valgrind: $(cat "$work/valgrind.out")"
