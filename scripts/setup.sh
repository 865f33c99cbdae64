#!/usr/bin/env bash
# Installs what building and testing ccorc needs on a Debian machine, when it is missing:
# the C libraries' headers, the Docker engine (dockerd only; ccorc never calls the docker CLI),
# busybox for the offline test image, tmux, curl (the benchmark's peer, and the fetcher of the
# libcurl source), make, and pkg-config, valgrind, gdb, gcc, g++ and binutils for building libcurl and
# building and checking the C ABI's tests and the installed library, python3 for the tests' misbehaving engine and the
# engine inventory `make test` takes, and zsh, fish, man-db and groff-base for checking the installed
# completion scripts and man pages. libcurl4 (OpenSSL) is what ccorc loads at run time for an
# engine reached over TLS (libcurl4-openssl-dev depends on it too; it is named because the
# products need it, not only the build), and openssl makes the TLS test engine's certificates.
# Then it builds the HTTP-only static libcurl that ccorc links (scripts/build-curl.sh), once.
set -euo pipefail

packages=(libcurl4-openssl-dev libcurl4 openssl libjansson-dev libsqlite3-dev docker.io busybox-static tmux curl make pkg-config valgrind gdb gcc g++ binutils python3
    zsh fish man-db groff-base)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null 2>&1 && [ ! -x /opt/swift/usr/bin/swift ]; then
    echo "setup: no Swift toolchain found (expected swift on PATH or at /opt/swift)" >&2
    exit 1
fi
"$(dirname "$0")/build-curl.sh"
