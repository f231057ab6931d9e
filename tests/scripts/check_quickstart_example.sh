#!/usr/bin/env bash
# examples/quickstart (the README's program) runs from the source root with its default space and
# data paths: a short evolution search trained for real on Fashion-MNIST, then the best architecture
# trained and saved. Checks the printed best trial against the search, the saved model file, and
# that bad arguments give a usage message and exit status 2.
# usage: check_quickstart_example.sh QUICKSTART_EXE SOURCE_ROOT
set -euo pipefail

die() { echo "check_quickstart_example: FAIL: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: check_quickstart_example.sh QUICKSTART_EXE SOURCE_ROOT"
exe=$(realpath "$1") src=$(realpath "$2")
[ -x "$exe" ] || die "no executable at '$exe'"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

trials=2
model=$tmp/quickstart.nasmodel
out=$(cd "$src" && "$exe" $trials "$model" 2>&1) || die "quickstart exited with status $?; output: $out"
echo "$out"

grep -qx "searched $trials trials" <<< "$out" || die "expected 'searched $trials trials'"
best=$(sed -n 's/^best: trial \([0-9]*\), accuracy \([0-9.]*\)%, \([0-9]*\) params$/\1 \2 \3/p' <<< "$out")
[ -n "$best" ] || die "no 'best: trial T, accuracy A%, P params' line"
read -r trial acc params <<< "$best"
[ "$trial" -lt $trials ] || die "best trial $trial is not one of the $trials trials"
# Ten classes: a trained network must beat chance (10%) clearly, and an accuracy is at most 100.
awk -v a="$acc" 'BEGIN { exit !(a > 25 && a <= 100) }' || die "best accuracy $acc% is not in (25, 100]"
[ "$params" -gt 1000 ] || die "the best network has $params params"
# The line after 'best:' is the architecture: 3 nodes, 6 edges of the space's operations.
arch=$(grep -A1 '^best: ' <<< "$out" | tail -n 1)
op='(none|skip_connect|nor_conv_1x1|nor_conv_3x3|avg_pool_3x3)'
grep -qE "^\|$op~0\|\+\|$op~0\|$op~1\|\+\|$op~0\|$op~1\|$op~2\|$" <<< "$arch" \
    || die "'$arch' is not a canonical architecture of spaces/fmnist-nb201.yaml"

steps=$(sed -n 's/^trained \([0-9]*\) steps: loss \([0-9.]*\), training accuracy \([0-9.]*\)%$/\1/p' <<< "$out")
[ -n "$steps" ] && [ "$steps" -gt 0 ] || die "no 'trained N steps: ...' line with N > 0"
grep -qx "saved $model" <<< "$out" || die "expected 'saved $model'"
[ -s "$model" ] || die "no model file at $model"
[ "$(head -c 8 "$model")" = NASMODEL ] || die "$model does not start with the NASMODEL magic"

# Bad arguments: a usage message and status 2, no model written.
for args in "0" "abc" "-3" "2 $tmp/x.nasmodel extra"; do
    set +e
    # shellcheck disable=SC2086
    msg=$(cd "$src" && "$exe" $args 2>&1)
    rc=$?
    set -e
    [ $rc -eq 2 ] || die "quickstart $args exited with status $rc, expected 2; output: $msg"
    grep -q '^usage: quickstart' <<< "$msg" || die "quickstart $args printed no usage line: $msg"
done
[ ! -e "$tmp/x.nasmodel" ] || die "a rejected command line wrote a model"

# Run from elsewhere, the relative space path is missing: a clear message and status 1.
set +e
msg=$(cd "$tmp" && "$exe" 1 "$tmp/y.nasmodel" 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || die "quickstart outside the source root exited with status $rc, expected 1"
grep -q 'spaces/fmnist-nb201.yaml: cannot open' <<< "$msg" || die "no message naming the missing space file: $msg"
echo "check_quickstart_example: ok: best trial $trial of $trials, accuracy $acc%, $params params, model saved"
