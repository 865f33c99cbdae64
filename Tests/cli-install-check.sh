#!/usr/bin/env bash
# What `make install PREFIX=...` gives a user of the two CLIs, checked in that prefix:
# `--version` prints include/ccorc.h's CCORC_VERSION; the bash, zsh and fish completion scripts
# load from where they were installed and complete a subcommand; every man page is found under
# share/man and renders without a warning.
# Usage: Tests/cli-install-check.sh PREFIX VERSION
set -euo pipefail
prefix=$1
version=$2
share=$prefix/share
fail() { echo "cli-install-check: $*" >&2; exit 1; }

for cli in ccorc ccdk; do
    # A subcommand each completion must offer for a prefix of it.
    case $cli in
        ccorc) typed=laun expected=launch ;;
        ccdk) typed=she expected=shell ;;
    esac

    printed=$("$prefix/bin/$cli" --version) || fail "$cli --version exited $?"
    [ "$printed" = "$version" ] || fail "$cli --version printed '$printed', include/ccorc.h says '$version'"
    echo "$cli --version: $printed"

    # bash: the script registers a completion function, and that function offers the subcommand.
    file=$share/bash-completion/completions/$cli
    spec=$(bash -c 'source "$1" && complete -p "$2"' _ "$file" "$cli") || fail "bash: sourcing $file registers no completion for $cli"
    [[ $spec == *"-F _$cli "* ]] || fail "bash: $file registers '$spec', not the function _$cli"
    offered=$(PATH=$prefix/bin:$PATH bash -c 'source "$1" && COMP_WORDS=("$2" "$3") COMP_CWORD=1 COMP_LINE="$2 $3" &&
        COMP_POINT=${#COMP_LINE} && "_$2" "$2" "$3" "$2" && printf "%s\n" "${COMPREPLY[@]}"' _ "$file" "$cli" "$typed") ||
        fail "bash: _$cli failed on '$cli $typed'"
    grep -qx "$expected" <<<"$offered" || fail "bash: '$cli $typed<TAB>' offers '$offered', not $expected"
    echo "bash: $spec; '$cli $typed<TAB>' offers $expected"

    # zsh: the script parses, and compinit finds it by its name in the installed fpath directory.
    file=$share/zsh/site-functions/_$cli
    zsh -n "$file" || fail "zsh: $file does not parse"
    zsh -fc 'fpath=("$1" $fpath); autoload -U compinit && compinit -u -D && [[ $_comps[$2] == _$2 ]] && autoload +X "_$2"' \
        _ "$share/zsh/site-functions" "$cli" || fail "zsh: compinit with $share/zsh/site-functions in fpath does not load _$cli for $cli"
    echo "zsh: compinit loads _$cli for $cli from $share/zsh/site-functions"

    # fish: the script parses, and fish autoloads it from the installed directory by the command's name.
    file=$share/fish/vendor_completions.d/$cli.fish
    fish --no-config -n "$file" || fail "fish: $file does not parse"
    offered=$(PATH=$prefix/bin:$PATH fish --no-config -c \
        'set fish_complete_path $argv[1] $fish_complete_path; complete -C"$argv[2] $argv[3]"' \
        "$share/fish/vendor_completions.d" "$cli" "$typed" | cut -f1) || fail "fish: completing '$cli $typed' failed"
    grep -qx "$expected" <<<"$offered" || fail "fish: '$cli $typed<TAB>' offers '$offered', not $expected"
    echo "fish: '$cli $typed<TAB>' offers $expected (autoloaded from $share/fish/vendor_completions.d)"

    # man: the command's page is found under share/man, as are its subcommands' pages.
    page=$(MANPATH=$share/man man -w "$cli") || fail "man: no page for $cli under $share/man"
    [ "$page" = "$share/man/man1/$cli.1" ] || fail "man: $cli resolves to $page"
done

pages=("$share"/man/man1/*.1)
[ -e "${pages[0]}" ] || fail "man: nothing installed in $share/man/man1"
for page in ccorc.launch.1 ccorc.cleanup.1 ccdk.shell.1 ccdk.image.build.1; do
    [ -f "$share/man/man1/$page" ] || fail "man: $page, a subcommand's page, is not installed"
done
warnings=$(mktemp) && trap 'rm -f "$warnings"' EXIT
for page in "${pages[@]}"; do
    # --warnings=w: every groff warning, not only man-db's default (undefined macros).
    rendered=$(MANWIDTH=80 man -l --warnings=w "$page" 2>"$warnings") || fail "man: $page does not render"
    [ ! -s "$warnings" ] || fail "man: $page renders with warnings: $(cat "$warnings")"
    grep -q "^NAME" <<<"$rendered" || fail "man: $page renders without a NAME section"
done
echo "man: ${#pages[@]} pages in $share/man/man1 render without warnings"
