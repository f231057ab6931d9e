#!/usr/bin/env bash
# Every code block of README.md is run, or checked against what runs it:
#  * ```c blocks compile warning-free against the built library and run from the source root with
#    exit status 0. The block that is examples/quickstart.c (it must be one of them) runs with its
#    smallest arguments and a model path in a temporary folder; in mode 'quickstart-tested' it is
#    only compiled, because the example_quickstart test runs that program.
#  * ```python blocks run with /usr/bin/python3 (or $PYTHON) against the built library, in a scratch
#    folder that sees the source tree's spaces/, data/ and experiments/; a ```text block that comes
#    next after a python block (prose in between) is its exact expected output.
#  * ```sh blocks: the first (set-up) installs exactly .ci/run's packages, builds with `meson setup
#    build && ninja -C build`, and its search command runs here, cut to 2 trials; the second (the
#    tests) is the command .ci/run runs; the third (sanitizers) configures the sanitizer build CI tests.
#    The installation itself and the full five-minute search are what CI does from a fresh machine.
#  * ```text blocks after anything else are sample output or usage, not code.
# usage: check_readme.sh README SOURCE_ROOT BUILD_ROOT LIBNAS_SO [quickstart-tested|run-all]
# env: CC, NAS_SANITIZE (b_sanitize of the build), PYTHON
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

# Split the blocks: block1.c, block2.c, ...; py1.py, ...; sh1.sh, ...; text blocks right after a
# python block as py<N>.expected. Any other kind of block is an error (a block nobody checks).
awk -v dir="$tmp" '
    /^```[a-z]*[[:space:]]*$/ && !inside {
        lang = substr($0, 4); sub(/[[:space:]]+$/, "", lang); inside = 1
        if (lang == "c") { nc++; file = dir "/block" nc ".c" }
        else if (lang == "python") { np++; file = dir "/py" np ".py" }
        else if (lang == "sh") { ns++; file = dir "/sh" ns ".sh" }
        else if (lang == "text") { file = (prev == "python") ? dir "/py" np ".expected" : dir "/ignored.txt" }
        else { print "README: a code block of unknown kind \"" lang "\" at line " NR > "/dev/stderr"; exit 3 }
        prev = lang; next
    }
    /^```[[:space:]]*$/ && inside { inside = 0; close(file); next }
    inside { print > file }
' "$readme" || die "README has a code block that is neither c, python, sh nor text (say what it is)"
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
echo "check_readme: ${#blocks[@]} C block(s) compiled and ran"

# Python blocks.
python=${PYTHON:-/usr/bin/python3}
pyblocks=("$tmp"/py*.py)
[ ${#pyblocks[@]} -gt 0 ] || die "README has no \`\`\`python block"
preload=()
if [ -n "${NAS_SANITIZE:-}" ] && [ "${NAS_SANITIZE}" != "none" ]; then
    # An instrumented libnas.so in an uninstrumented interpreter: load the runtimes first.
    rt=()
    case $NAS_SANITIZE in *address*) rt+=("$($cc -print-file-name=libasan.so)");; esac
    case $NAS_SANITIZE in *undefined*) rt+=("$($cc -print-file-name=libubsan.so)");; esac
    preload=(LD_PRELOAD="${rt[*]}" ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1)
fi
for b in "${pyblocks[@]}"; do
    name=$(basename "$b" .py)
    work=$tmp/$name.d
    mkdir -p "$work"
    for d in spaces data experiments; do ln -s "$src/$d" "$work/$d"; done
    out=$(cd "$work" && env "${preload[@]}" PYTHONPATH="$src/bindings/python" LIBNAS_LIBRARY="$lib" MPLBACKEND=Agg \
          "$python" "$b" 2>&1) || { echo "$out" >&2; die "README python block #${name#py} exited with an error"; }
    echo "$out"
    if [ -f "$tmp/$name.expected" ]; then
        diff <(printf '%s\n' "$out") "$tmp/$name.expected" >&2 \
            || die "README python block #${name#py} printed something else than the text block after it"
    fi
done
echo "check_readme: ${#pyblocks[@]} python block(s) ran"

# Shell blocks, against .ci/run.
[ -f "$tmp/sh1.sh" ] && [ -f "$tmp/sh2.sh" ] && [ -f "$tmp/sh3.sh" ] || die "README lacks the set-up, test or sanitizer command"
ci=$src/.ci/run
setup=$(cat "$tmp/sh1.sh")
readme_pkgs=$(sed -n 's/.*apt-get install -y --no-install-recommends \([^&]*\)&&.*/\1/p' <<< "$setup" | tr ' ' '\n' | sed '/^$/d' | sort)
[ -n "$readme_pkgs" ] || die "the set-up command has no 'apt-get install -y --no-install-recommends ... &&'"
ci_pkgs=$(sed -n '/^packages=(/,/)/p' "$ci" | tr -d '()' | sed 's/packages=//' | tr ' ' '\n' | sed '/^$/d' | sort)
[ "$readme_pkgs" = "$ci_pkgs" ] || die "the set-up command installs other packages than .ci/run: $(diff <(echo "$readme_pkgs") <(echo "$ci_pkgs") | tr '\n' ' ')"
grep -q '&& meson setup build && ninja -C build && ' <<< "$setup" || die "the set-up command does not build with 'meson setup build && ninja -C build'"
search=${setup##*&& }
case $search in ./build/src/tools/nas\ search\ *) ;; *) die "the set-up command does not end with a search: '$search'";; esac
read -r -a words <<< "${search#./build/src/tools/nas }"
if [ -x "$build/src/tools/nas" ]; then
    (cd "$src" && "$build/src/tools/nas" "${words[@]}" --trials 2 --out "$tmp/search" --quiet) \
        || die "the set-up command's search failed (cut to 2 trials)"
    [ -s "$tmp/search/best.json" ] || die "the set-up command's search wrote no best.json"
else
    echo "check_readme: the nas tool is not built (-Dtools=false): its search command was not run"
fi
tests=$(cat "$tmp/sh2.sh")
grep -qF "$tests" "$ci" || die "the test command '$tests' is not what .ci/run runs"
asan=$(cat "$tmp/sh3.sh")
grep -q -- '-Db_sanitize=address,undefined' <<< "$asan" && grep -q -- 'build build-asan -Db_sanitize=address,undefined' "$ci" \
    || die "the sanitizer command and .ci/run do not configure the same sanitizer build"
echo "check_readme: ok: the set-up, test and sanitizer commands agree with .ci/run; the search ran"
