#!/usr/bin/env bash
# The dynamic symbols libnas.so exports are exactly the functions declared with NAS_API in the
# public headers, and its SONAME is libnas.so.MAJOR.
# usage: check_exports.sh LIBNAS_SO HEADER_DIR PROJECT_VERSION
set -euo pipefail

die() { echo "check_exports: FAIL: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: check_exports.sh LIBNAS_SO HEADER_DIR PROJECT_VERSION"
lib=$(realpath "$1") headers=$(realpath "$2") version=$3
[ -f "$lib" ] || die "no library at '$lib'"
[ -d "$headers" ] || die "no header folder at '$headers'"
command -v nm >/dev/null || die "nm not found (install binutils)"
command -v readelf >/dev/null || die "readelf not found (install binutils)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Declared: the identifier before the first '(' on every line that starts a NAS_API declaration
# (the macro's own #define lines are not declarations).
cat "$headers"/*.h | grep -E '^[[:space:]]*NAS_API[[:space:]]' \
    | sed -E 's/\(.*//; s/.*[^A-Za-z0-9_]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*$/\1/' \
    | sort -u > "$tmp/declared"
[ -s "$tmp/declared" ] || die "found no NAS_API declarations in $headers/*.h"
if grep -qvE '^nas_[a-z0-9_]+$' "$tmp/declared"; then
    die "NAS_API declarations whose name is not nas_*: $(grep -vE '^nas_[a-z0-9_]+$' "$tmp/declared" | tr '\n' ' ')"
fi

# Exported: defined dynamic symbols, without version suffixes and without the version node itself
# (an absolute symbol, type A).
nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' | sort -u > "$tmp/exported"
[ -s "$tmp/exported" ] || die "$lib exports no symbols"

missing=$(comm -23 "$tmp/declared" "$tmp/exported" | tr '\n' ' ')
extra=$(comm -13 "$tmp/declared" "$tmp/exported" | tr '\n' ' ')
status=0
if [ -n "$missing" ]; then
    echo "check_exports: FAIL: declared with NAS_API but not exported by $(basename "$lib") (not implemented?): $missing" >&2
    status=1
fi
if [ -n "$extra" ]; then
    echo "check_exports: FAIL: exported by $(basename "$lib") but not declared with NAS_API in the headers: $extra" >&2
    status=1
fi

major=${version%%.*}
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" != "libnas.so.$major" ]; then
    echo "check_exports: FAIL: SONAME is '$soname', expected 'libnas.so.$major'" >&2
    status=1
fi
[ $status -eq 0 ] || exit 1
echo "check_exports: ok: $(wc -l < "$tmp/exported") symbols, exactly the NAS_API functions; SONAME $soname"
