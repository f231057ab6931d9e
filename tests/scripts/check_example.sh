#!/usr/bin/env bash
# The custom_searcher example (a host-defined hill-climber on the NAS-Bench-201 table) runs end to
# end and finds an architecture with a CIFAR-10 test accuracy above 93.
# usage: check_example.sh CUSTOM_SEARCHER_EXE SOURCE_ROOT
set -euo pipefail

die() { echo "check_example: FAIL: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: check_example.sh CUSTOM_SEARCHER_EXE SOURCE_ROOT"
exe=$(realpath "$1") src=$(realpath "$2")
[ -x "$exe" ] || die "no executable at '$exe'"

out=$("$exe" "$src/spaces/nas-bench-201.yaml" "$src/data/nb201/cifar10_test.csv" 300 1 2>&1) \
    || die "custom_searcher exited with status $?; output: $out"
echo "$out"
acc=$(printf '%s\n' "$out" | sed -n 's/^best test_acc: \([0-9.]*\)$/\1/p')
[ -n "$acc" ] || die "no 'best test_acc: X' line in the output"
awk -v a="$acc" 'BEGIN { exit !(a > 93.0) }' || die "best test_acc $acc is not above 93"
printf '%s\n' "$out" | grep -q '^searcher: hill-climb, 300 trials' || die "expected 300 trials of the hill-climb searcher"
echo "check_example: ok: best test_acc $acc"
