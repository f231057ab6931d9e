#!/usr/bin/env bash
# Every ```c block of README.md compiles warning-free against the built library and runs from the
# source root with exit status 0.
# usage: check_readme.sh README SOURCE_ROOT BUILD_ROOT LIBNAS_SO
# env: CC, NAS_SANITIZE (b_sanitize of the build)
set -euo pipefail

die() { echo "check_readme: FAIL: $*" >&2; exit 1; }

[ $# -eq 4 ] || die "usage: check_readme.sh README SOURCE_ROOT BUILD_ROOT LIBNAS_SO"
readme=$(realpath "$1") src=$(realpath "$2") build=$(realpath "$3") lib=$(realpath "$4")
cc=${CC:-cc}
[ -f "$readme" ] || die "no README at '$readme'"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Split the ```c blocks into block1.c, block2.c, ...
awk -v dir="$tmp" '
    /^```c[[:space:]]*$/ { n++; inside = 1; file = dir "/block" n ".c"; next }
    /^```/ && inside { inside = 0; close(file); next }
    inside { print > file }
' "$readme"
shopt -s nullglob
blocks=("$tmp"/block*.c)
[ ${#blocks[@]} -gt 0 ] || die "README has no \`\`\`c code block"

# examples/quickstart.c is the README's program: keep the two the same.
if [ -f "$src/examples/quickstart.c" ]; then
    same=no
    for b in "${blocks[@]}"; do
        if cmp -s "$b" "$src/examples/quickstart.c"; then same=yes; fi
    done
    [ $same = yes ] || die "examples/quickstart.c differs from every C block of README.md (keep them identical)"
fi

san=()
if [ -n "${NAS_SANITIZE:-}" ] && [ "${NAS_SANITIZE}" != "none" ]; then
    san=(-fsanitize="$NAS_SANITIZE")
fi
libdir=$(dirname "$lib")
for b in "${blocks[@]}"; do
    name=$(basename "$b" .c)
    $cc -std=c11 -Wall -Wextra -Werror -pedantic "${san[@]}" -I"$src/include" -I"$build/include/libnas" \
        -o "$tmp/$name" "$b" -L"$libdir" -lnas -Wl,-rpath,"$libdir" > "$tmp/$name.log" 2>&1 \
        || { cat "$tmp/$name.log" >&2; die "README C block #${name#block} does not compile"; }
    out=$(cd "$src" && "$tmp/$name" 2>&1) || { echo "$out" >&2; die "README C block #${name#block} exited with an error"; }
    echo "$out"
done
echo "check_readme: ok: ${#blocks[@]} C block(s) compiled and ran"
