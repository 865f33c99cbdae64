#!/usr/bin/env bash
# Installs an ELF file without its symbol table and debug information, and installs those into
# .debug/NAME.debug beside it, linked from the file by its .gnu_debuglink section: the place gdb
# and valgrind both look by themselves, whatever the prefix.
#   scripts/install-stripped.sh SOURCE TARGET
set -euo pipefail
source=${1:?usage: install-stripped.sh SOURCE TARGET}
target=${2:?usage: install-stripped.sh SOURCE TARGET}
directory=$(dirname "$target")
debug_file=$directory/.debug/$(basename "$target").debug
stripped=$(mktemp "$directory/.$(basename "$target").XXXXXX")
trap 'rm -f "$stripped"' EXIT

install -d "$directory/.debug"
# Without .debug_names: the linker concatenates the objects' name indexes into one section that gdb
# cannot use ("... does not match section length, ignoring .debug_names") and says so at each start.
objcopy --only-keep-debug --remove-section=.debug_names "$source" "$debug_file"
chmod 644 "$debug_file"
# A shared library keeps the dynamic symbols it exports either way.
objcopy --strip-all --add-gnu-debuglink="$debug_file" "$source" "$stripped"
install -m 755 "$stripped" "$target"
