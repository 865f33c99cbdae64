#!/usr/bin/env bash
# Builds the libcurl ccorc links: Debian's curl 7.88.1 source (the version of bookworm's
# libcurl4-openssl-dev, whose headers the build compiles against) configured for HTTP over Unix
# sockets and nothing else, as a static, position-independent archive in PREFIX (default
# .build-curl). Package.swift links it when PREFIX/lib/libcurl.a exists.
#
# Why: Debian's libcurl.so pulls in some thirty shared libraries (TLS, Kerberos, LDAP, SSH, IDN,
# compression) that the engine's Unix socket never needs, and loading them costs every ccorc and
# ccdk process about 6 ms before main, which is most of what a `ccdk exec` spends outside the
# engine. When the source cannot be fetched the build falls back to the system libcurl: slower to
# start, otherwise the same.
set -euo pipefail

prefix=${1:-$(cd "$(dirname "$0")/.." && pwd)/.build-curl}
version=7.88.1
source_url="http://deb.debian.org/debian/pool/main/c/curl/curl_${version}.orig.tar.gz"
source_sha256=cdb38b72e36bc5d33d5b8810f8018ece1baa29a8f215b4495e495ded82bbf3c7
stamp="$prefix/lib/libcurl.a.version"

if [ -f "$prefix/lib/libcurl.a" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ccorc-curl.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "setup: building a static libcurl $version (HTTP over Unix sockets only) into $prefix"
if ! curl -fsS --connect-timeout 10 --max-time 120 -o "$work/curl.tar.gz" "$source_url"; then
    echo "setup: cannot fetch $source_url; the system libcurl will be linked instead" >&2
    exit 0
fi
if ! echo "$source_sha256  $work/curl.tar.gz" | sha256sum -c --status; then
    echo "setup: $source_url does not match its pinned checksum; the system libcurl will be linked instead" >&2
    exit 0
fi
tar -xzf "$work/curl.tar.gz" -C "$work"
cd "$work/curl-$version"
./configure --prefix="$prefix" --disable-shared --enable-static --with-pic \
    --without-ssl --without-zlib --without-brotli --without-zstd --without-libidn2 --without-libpsl \
    --without-nghttp2 --without-libssh2 --without-librtmp --without-libgsasl --without-ca-bundle \
    --without-ca-path --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
    --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher \
    --disable-mqtt --disable-ftp --disable-file --disable-manual --disable-docs --disable-ntlm \
    --disable-alt-svc --disable-hsts --disable-cookies --disable-netrc --disable-progress-meter \
    --disable-dnsshuffle --disable-doh --disable-threaded-resolver --disable-ipv6 --disable-proxy \
    --disable-libcurl-option >"$work/configure.log" 2>&1 || {
    tail -20 "$work/configure.log" >&2
    echo "setup: configuring libcurl failed" >&2
    exit 1
}
make -j"$(nproc)" -C lib >"$work/make.log" 2>&1 || {
    tail -20 "$work/make.log" >&2
    echo "setup: building libcurl failed" >&2
    exit 1
}
mkdir -p "$prefix/lib"
cp lib/.libs/libcurl.a "$prefix/lib/libcurl.a.tmp"
mv "$prefix/lib/libcurl.a.tmp" "$prefix/lib/libcurl.a"
echo "$version" >"$stamp"
