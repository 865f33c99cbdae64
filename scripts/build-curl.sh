#!/usr/bin/env bash
# Builds the libcurl ccorc links: Debian's curl 7.88.1 source (the version of bookworm's
# libcurl4-openssl-dev, whose headers the build compiles against) configured for HTTP over Unix
# sockets and nothing else, as a static, position-independent archive in PREFIX (default
# .build-curl). Package.swift links it when PREFIX/lib/libcurl.a exists.
#
# Where from: the machine's own apt sources name its Debian archive (or mirror). Each configured
# archive with a main component is tried in turn for pool/main/c/curl/curl_7.88.1.orig.tar.gz,
# and the first copy that matches the pinned checksum is used; no download location is written
# here.
#
# Why: Debian's libcurl.so pulls in some thirty shared libraries (TLS, Kerberos, LDAP, SSH, IDN,
# compression) that the engine's Unix socket never needs, and loading them costs every ccorc and
# ccdk process about 6 ms before main, which is most of what a `ccdk exec` spends outside the
# engine. When the source cannot be fetched the build falls back to the system libcurl: slower to
# start, otherwise the same.
set -euo pipefail

prefix=${1:-$(cd "$(dirname "$0")/.." && pwd)/.build-curl}
version=7.88.1
source_path="pool/main/c/curl/curl_${version}.orig.tar.gz"
source_sha256=cdb38b72e36bc5d33d5b8810f8018ece1baa29a8f215b4495e495ded82bbf3c7
# Seconds for one download, and for all attempts together.
attempt_seconds=120
total_seconds=300
stamp="$prefix/lib/libcurl.a.version"

if [ -f "$prefix/lib/libcurl.a" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    exit 0
fi

# The archive URIs of the one-line sources in FILE ("deb [OPTIONS] URI SUITE COMPONENT..."),
# for lines whose components include main.
one_line_source_uris() {
    awk '
        { sub(/#.*/, "") }
        $1 == "deb" || $1 == "deb-src" {
            line = $0
            sub(/^[ \t]*deb(-src)?[ \t]+/, "", line)
            sub(/^\[[^]]*\][ \t]*/, "", line)
            n = split(line, field, /[ \t]+/)
            for (i = 3; i <= n; i++) if (field[i] == "main") { print field[1]; break }
        }' "$1"
}

# The URIs of the deb822 stanzas in FILE (Types, URIs, Components, Enabled) that are enabled,
# of type deb or deb-src, and include the main component.
deb822_source_uris() {
    awk '
        function flush(   n, i, uri) {
            if ((" " types " ") ~ /[ \t]deb(-src)?[ \t]/ && enabled !~ /^(no|false|0)$/ && (" " components " ") ~ /[ \t]main[ \t]/) {
                n = split(uris, uri, /[ \t]+/)
                for (i = 1; i <= n; i++) if (uri[i] != "") print uri[i]
            }
            types = uris = components = enabled = key = ""
        }
        /^#/ { next }
        /^[ \t]*$/ { flush(); next }
        /^[ \t]/ {
            value = $0
            sub(/^[ \t]+/, "", value)
            if (key == "types") types = types " " value
            else if (key == "uris") uris = uris " " value
            else if (key == "components") components = components " " value
            next
        }
        {
            key = tolower($0); sub(/:.*/, "", key)
            value = $0; sub(/^[^:]*:[ \t]*/, "", value)
            if (key == "types") types = value
            else if (key == "uris") uris = value
            else if (key == "components") components = value
            else if (key == "enabled") enabled = tolower(value)
        }
        END { flush() }' "$1"
}

# Every archive URI the machine's apt sources name, in the order apt reads them: the main list,
# then the parts directory in name order. Where they are comes from apt's own configuration.
apt_archive_uris() {
    local list=/etc/apt/sources.list parts=/etc/apt/sources.list.d/ file
    if command -v apt-config >/dev/null 2>&1; then
        eval "$(apt-config shell list Dir::Etc::sourcelist/f parts Dir::Etc::sourceparts/d)"
    fi
    {
        [ -f "$list" ] && one_line_source_uris "$list"
        for file in "${parts%/}"/*; do
            [ -f "$file" ] || continue
            case "$file" in
            *.list) one_line_source_uris "$file" ;;
            *.sources) deb822_source_uris "$file" ;;
            esac
        done
    } | awk '!seen[$0]++'
}

work=$(mktemp -d "${TMPDIR:-/tmp}/ccorc-curl.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "setup: building a static libcurl $version (HTTP over Unix sockets only) into $prefix"
mapfile -t archives < <(apt_archive_uris)
deadline=$((SECONDS + total_seconds))
fetched=
for archive in "${archives[@]}"; do
    case "$archive" in
    "http"://* | "https"://* | "file"://*) ;;
    file:/*) archive="file://${archive#file:}" ;;
    *)
        echo "setup: skipping the apt source $archive (only http, https and file archives are fetched here)" >&2
        continue
        ;;
    esac
    remaining=$((deadline - SECONDS))
    if [ "$remaining" -lt 5 ]; then
        echo "setup: out of time for fetching the curl source" >&2
        break
    fi
    url="${archive%/}/$source_path"
    if ! curl -fsS --connect-timeout 10 --max-time $((remaining < attempt_seconds ? remaining : attempt_seconds)) \
        -o "$work/curl.tar.gz" "$url"; then
        echo "setup: cannot fetch $url" >&2
        continue
    fi
    if ! echo "$source_sha256  $work/curl.tar.gz" | sha256sum -c --status; then
        echo "setup: $url does not match its pinned checksum" >&2
        continue
    fi
    fetched=$url
    break
done
if [ -z "$fetched" ]; then
    if [ ${#archives[@]} -eq 0 ]; then
        echo "setup: the apt sources name no archive with a main component" >&2
    fi
    echo "setup: no apt source gave curl_${version}.orig.tar.gz; the system libcurl will be linked instead" >&2
    exit 0
fi
echo "setup: fetched and verified $fetched"
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
