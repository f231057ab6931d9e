#!/usr/bin/env bash
# examples/custom_evaluator: a host evaluator ("budget-table": NAS-Bench-201 table behind a parameter
# budget) registered through the plugin vtable and driven by the built-in evolution strategy.
# Checks: over-budget candidates are failed trials with a message, the best fits the budget and its
# test_acc is the table's value for its architecture, a budget above every network fails none, and
# an evaluator that cannot be created (missing table, bad budget) gives a clear message and status 1.
# usage: check_custom_evaluator_example.sh CUSTOM_EVALUATOR_EXE SOURCE_ROOT
set -euo pipefail

die() { echo "check_custom_evaluator_example: FAIL: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: check_custom_evaluator_example.sh CUSTOM_EVALUATOR_EXE SOURCE_ROOT"
exe=$(realpath "$1") src=$(realpath "$2")
[ -x "$exe" ] || die "no executable at '$exe'"
table=$src/data/nb201/cifar10_test.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

budget=400000 trials=150
out=$("$exe" "$table" $budget $trials 1 2>&1) || die "custom_evaluator exited with status $?; output: $out"
echo "$out"

line=$(sed -n 's/^trials: \([0-9]*\), over the budget: \([0-9]*\), e\.g\. \([0-9]*\) params, over the budget of \([0-9]*\)$/\1 \2 \3 \4/p' <<< "$out")
[ -n "$line" ] || die "no 'trials: N, over the budget: K, e.g. P params, over the budget of B' line"
read -r n over example_params said_budget <<< "$line"
[ "$n" -eq $trials ] || die "$n trials run, expected $trials"
[ "$over" -gt 0 ] && [ "$over" -lt "$n" ] || die "$over of $n trials over the budget: expected some, not all"
[ "$said_budget" -eq $budget ] || die "the failure message gives the budget $said_budget, expected $budget"
[ "$example_params" -gt $budget ] || die "a trial of $example_params params failed as over the budget of $budget"

best=$(sed -n 's/^best: trial \([0-9]*\), test_acc \([0-9.]*\), params \([0-9]*\), mflops \([0-9.]*\), cost \([0-9.]*\) s$/\1 \2 \3 \4 \5/p' <<< "$out")
[ -n "$best" ] || die "no 'best: trial T, test_acc A, params P, mflops F, cost C s' line"
read -r trial acc params mflops cost <<< "$best"
[ "$trial" -lt "$n" ] || die "best trial $trial is not one of the $n trials"
[ "$params" -le $budget ] || die "the best network has $params params, over the budget of $budget"
awk -v f="$mflops" -v c="$cost" 'BEGIN { exit !(f > 0 && c >= 0) }' || die "mflops $mflops or cost $cost out of range"
arch=$(sed -n 's/^arch: //p' <<< "$out")
[ -n "$arch" ] || die "no 'arch: ...' line"
# The reported test_acc is the table's row for that architecture.
row=$(awk -F, -v a="$arch" '$1 == a { print $2 }' "$table")
[ -n "$row" ] || die "the best architecture '$arch' is not in $table"
awk -v a="$acc" -v r="$row" 'BEGIN { d = a - r; exit !(d < 5e-5 && d > -5e-5) }' \
    || die "test_acc $acc is not the table's $row for '$arch'"
# A search, not a lucky draw: the best of the feasible cells is near the top of the table.
awk -v a="$acc" 'BEGIN { exit !(a > 92.5) }' || die "best test_acc $acc is not above 92.5"

# A budget above every NAS-Bench-201 network (about 1.5 M params): no trial fails.
big=$("$exe" "$table" 10000000 30 2 2>&1) || die "custom_evaluator with a large budget failed: $big"
grep -qx 'trials: 30, over the budget: 0' <<< "$big" || die "with a budget of 10M some trials failed: $big"

# A budget below every network: every trial fails, and there is no best to report.
set +e
tiny=$("$exe" "$table" 1000 10 3 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || die "a budget nothing fits exited with status $rc, expected 1"
grep -q '^trials: 10, over the budget: 10,' <<< "$tiny" || die "a budget of 1000 did not fail all 10 trials: $tiny"
grep -q 'no trial fits the budget' <<< "$tiny" || die "no 'no trial fits the budget' message: $tiny"

# expect_error WHAT PATTERN ARGS...: the evaluator cannot be created; status 1 and a clear message.
expect_error() {
    local what=$1 pattern=$2; shift 2
    set +e
    "$exe" "$@" > "$tmp/stdout" 2> "$tmp/stderr"
    local rc=$?
    set -e
    [ $rc -eq 1 ] || die "$what: exit status $rc, expected 1; stderr: $(cat "$tmp/stderr")"
    grep -qE "$pattern" "$tmp/stderr" || die "$what: no message matching '$pattern'; stderr: $(cat "$tmp/stderr")"
    [ ! -s "$tmp/stdout" ] || die "$what: a search ran anyway: $(cat "$tmp/stdout")"
    echo "ok: $what: $(cat "$tmp/stderr")"
}
expect_error "missing table" "evaluator 'budget-table'.*$tmp/missing.csv: cannot open" "$tmp/missing.csv"
expect_error "not a table" "evaluator 'budget-table'.*README.md:1: " "$src/README.md"
expect_error "zero budget" "'max_params' must be at least 1" "$table" 0
expect_error "budget not a number" "'max_params': 'lots' is not a number" "$table" lots
# A bad command line: a usage message and status 2.
set +e
"$exe" "$table" $budget -5 > /dev/null 2> "$tmp/stderr"
rc=$?
set -e
[ $rc -eq 2 ] && grep -q '^usage: custom_evaluator' "$tmp/stderr" || die "TRIALS -5 gave status $rc and no usage line"
echo "check_custom_evaluator_example: ok: best test_acc $acc with $params params (budget $budget); $over of $n trials over"
