#!/usr/bin/env bash
# Every ```c block of README.md compiles warning-free against the built library and runs from the
# source root with exit status 0. The block that is examples/quickstart.c (it must be one of them)
# runs with its smallest arguments and a model path in a temporary folder; in mode
# 'quickstart-tested' it is only compiled, because the example_quickstart test runs that program.
# usage: check_readme.sh README SOURCE_ROOT BUILD_ROOT LIBNAS_SO [quickstart-tested|run-all]
# env: CC, NAS_SANITIZE (b_sanitize of the build)
set -euo pipefail

die() { echo "check_readme: FAIL: $*" >&2; exit 1; }

[ $# -eq 4 ] || [ $# -eq 5 ] || die "usage: check_readme.sh README SOURCE_ROOT BUILD_ROOT LIBNAS_SO [quickstart-tested|run-all]"
readme=$(realpath "$1") src=$(realpath "$2") build=$(realpath "$3") lib=$(realpath "$4")
mode=${5:-run-all}
case $mode in quickstart-tested|run-all) ;; *) die "unknown mode '$mode'";; esac
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
quickstart_block=
if [ -f "$src/examples/quickstart.c" ]; then
    for b in "${blocks[@]}"; do
        if cmp -s "$b" "$src/examples/quickstart.c"; then quickstart_block=$b; fi
    done
    [ -n "$quickstart_block" ] || die "examples/quickstart.c differs from every C block of README.md (keep them identical)"
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
    if [ "$b" = "$quickstart_block" ]; then
        if [ "$mode" = quickstart-tested ]; then
            echo "README C block #${name#block} (examples/quickstart.c) compiled; the example_quickstart test runs it"
            continue
        fi
        # One trial, and the model written here rather than into the source tree.
        out=$(cd "$src" && "$tmp/$name" 1 "$tmp/quickstart.nasmodel" 2>&1) \
            || { echo "$out" >&2; die "README C block #${name#block} (quickstart) exited with an error"; }
        [ -s "$tmp/quickstart.nasmodel" ] || die "README C block #${name#block} (quickstart) saved no model"
    else
        out=$(cd "$src" && "$tmp/$name" 2>&1) || { echo "$out" >&2; die "README C block #${name#block} exited with an error"; }
    fi
    echo "$out"
done
echo "check_readme: ok: ${#blocks[@]} C block(s) compiled and ran"
