#!/usr/bin/env bash
# STYLE.md: "valgrind clean on the examples". Runs the examples under valgrind's memcheck (invalid
# reads and writes, uses of uninitialized values, leaks): the host strategy (custom_searcher), the
# host evaluator (custom_evaluator, which builds networks) and the deployment (embed_inference, which
# runs oneDNN: on a model quickstart makes outside valgrind, since training under valgrind is too
# slow), each with small arguments, plus one error path of each. Any error report fails; the one
# suppression (valgrind-libgomp.supp) says why it is not a leak. quickstart itself is left out.
# usage: check_examples_valgrind.sh VALGRIND SUPPRESSIONS CUSTOM_SEARCHER_EXE CUSTOM_EVALUATOR_EXE
#        EMBED_INFERENCE_EXE QUICKSTART_EXE SOURCE_ROOT
set -euo pipefail

die() { echo "check_examples_valgrind: FAIL: $*" >&2; exit 1; }

[ $# -eq 7 ] || die "usage: check_examples_valgrind.sh VALGRIND SUPPRESSIONS CUSTOM_SEARCHER_EXE CUSTOM_EVALUATOR_EXE EMBED_INFERENCE_EXE QUICKSTART_EXE SOURCE_ROOT"
valgrind=$1 supp=$(realpath "$2") searcher=$(realpath "$3") evaluator=$(realpath "$4") embed=$(realpath "$5")
quickstart=$(realpath "$6") src=$(realpath "$7")
fmnist=/usr/share/datasets/fashion-mnist
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
table=$src/data/nb201/cifar10_test.csv

# vg NAME EXPECTED_STATUS CMD...: memcheck must report nothing (its own exit code 99 otherwise) and
# the program must exit with EXPECTED_STATUS.
vg() {
    local name=$1 want=$2; shift 2
    set +e
    "$valgrind" --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --suppressions="$supp" --log-file="$tmp/$name.vg" \
        "$@" > "$tmp/$name.out" 2>&1
    local rc=$?
    set -e
    if [ $rc -eq 99 ] || [ -s "$tmp/$name.vg" ]; then
        cat "$tmp/$name.vg" >&2
        die "$name: valgrind reported errors"
    fi
    [ $rc -eq "$want" ] || { cat "$tmp/$name.out" >&2; die "$name: exit status $rc, expected $want"; }
    echo "ok: $name (exit status $rc, no valgrind report)"
}

vg custom_searcher 0 "$searcher" "$src/spaces/nas-bench-201.yaml" "$table" 60 1
grep -q '^searcher: hill-climb, 60 trials' "$tmp/custom_searcher.out" || die "custom_searcher did not run 60 trials"
vg custom_searcher_bad_space 1 "$searcher" "$tmp/missing.yaml" "$table" 5 1
vg custom_evaluator 0 "$evaluator" "$table" 400000 25 1
grep -q '^trials: 25, ' "$tmp/custom_evaluator.out" || die "custom_evaluator did not run 25 trials"
vg custom_evaluator_bad_table 1 "$evaluator" "$tmp/missing.csv"

made=$(cd "$src" && "$quickstart" 1 "$tmp/m.nasmodel" 2>&1) || die "quickstart could not make a model: $made"
vg embed_inference 0 "$embed" "$tmp/m.nasmodel" "$fmnist/t10k-images-idx3-ubyte.gz" "$fmnist/t10k-labels-idx1-ubyte.gz" 20
grep -q '^accuracy: [0-9]*/20 = ' "$tmp/embed_inference.out" || die "embed_inference did not classify 20 images"
head -c 5000 "$tmp/m.nasmodel" > "$tmp/truncated.nasmodel"
vg embed_inference_truncated 1 "$embed" "$tmp/truncated.nasmodel"
echo "check_examples_valgrind: ok"
