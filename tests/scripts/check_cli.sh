#!/usr/bin/env bash
# The nas command-line tool: version, space info/sample, search outputs, Ctrl-C, and errors
# (one line on stderr, exit 1 for failures and 2 for usage errors).
# usage: check_cli.sh NAS_EXE SOURCE_ROOT PROJECT_VERSION
set -euo pipefail

die() { echo "check_cli: FAIL: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: check_cli.sh NAS_EXE SOURCE_ROOT PROJECT_VERSION"
nas=$(realpath "$1") src=$(realpath "$2") version=$3
py=/usr/bin/python3
[ -x "$nas" ] || die "no executable at '$nas'"
[ -x "$py" ] || die "$py is needed to validate JSON"
space=$src/spaces/nas-bench-201.yaml
experiment=$src/experiments/nb201-random.yaml

tmp=$(mktemp -d)
bg_pid=
cleanup() {
    if [ -n "$bg_pid" ]; then kill -9 "$bg_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# run EXPECTED_STATUS ARGS...: run nas, keep stdout/stderr in $tmp/out and $tmp/err, check the status.
run() {
    local want=$1; shift
    local got=0
    "$nas" "$@" > "$tmp/out" 2> "$tmp/err" || got=$?
    if [ "$got" -ne "$want" ]; then
        echo "--- stdout:" >&2; cat "$tmp/out" >&2
        echo "--- stderr:" >&2; cat "$tmp/err" >&2
        die "'nas $*' exited with $got, expected $want"
    fi
}

# one_error_line PATTERN: stderr is exactly one line "nas: error: ..." matching PATTERN (ERE).
one_error_line() {
    local lines
    lines=$(wc -l < "$tmp/err")
    [ "$lines" -eq 1 ] || { cat "$tmp/err" >&2; die "expected one line on stderr, got $lines"; }
    grep -qE "^nas: error: " "$tmp/err" || die "stderr does not start with 'nas: error: ': $(cat "$tmp/err")"
    grep -qE "$1" "$tmp/err" || die "stderr does not match /$1/: $(cat "$tmp/err")"
}

# valid_json FILE: one JSON document.
valid_json() {
    "$py" -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" || die "$1 is not valid JSON"
}

# --- version and help
run 0 --version
grep -qx "nas $version (libnas $version)" "$tmp/out" || die "--version printed '$(cat "$tmp/out")'"
run 0 --help
grep -q '^usage: nas' "$tmp/out" || die "--help has no usage line"
for c in space search train report list help; do
    run 0 help "$c"
    grep -q '^usage: nas' "$tmp/out" || die "'nas help $c' has no usage line"
done
run 0 search --help
run 0 list
grep -q '^searchers:' "$tmp/out" || die "list: no 'searchers:' section"
grep -qE '^  random ' "$tmp/out" || die "list: no random searcher"
grep -qE '^  grid ' "$tmp/out" || die "list: no grid searcher"
grep -qE '^  table ' "$tmp/out" || die "list: no table evaluator"

# --- space info
run 0 space info "$space"
grep -qx 'size: 15625' "$tmp/out" || die "space info: no 'size: 15625' line: $(cat "$tmp/out")"
grep -qx 'decisions: 6' "$tmp/out" || die "space info: no 'decisions: 6' line"
grep -qx 'configurations: 15625' "$tmp/out" || die "space info: no 'configurations: 15625' line"
grep -qx 'family: cell' "$tmp/out" || die "space info: family is not cell"
run 0 space info "$space" --dims
[ "$(grep -c 'nor_conv_3x3' "$tmp/out")" -eq 6 ] || die "space info --dims: expected 6 decisions listing nor_conv_3x3"

# --- space sample: K lines, distinct, deterministic for a seed
run 0 space sample "$space" --seed 7 -n 20
cp "$tmp/out" "$tmp/sample1"
[ "$(wc -l < "$tmp/sample1")" -eq 20 ] || die "space sample -n 20 printed $(wc -l < "$tmp/sample1") lines"
[ "$(sort -u "$tmp/sample1" | wc -l)" -eq 20 ] || die "space sample -n 20 printed repeated architectures"
grep -qvE '^\|[a-z0-9_]+~0\|\+\|' "$tmp/sample1" && die "space sample printed a line that is no NAS-Bench-201 string"
run 0 space sample "$space" --seed 7 -n 20
cmp -s "$tmp/sample1" "$tmp/out" || die "space sample is not deterministic for --seed 7"
run 0 space sample "$space" --seed=8 -n 20
cmp -s "$tmp/sample1" "$tmp/out" && die "space sample gives the same lines for seeds 7 and 8"

# --- search: journal.jsonl (header + N trials), summary.json, best.json
[ -f "$experiment" ] || die "no experiment file at $experiment"
out=$tmp/run/a/b
run 0 search "$experiment" --out "$out" --trials 40 --seed 3
grep -q '^trials: 40 ' "$tmp/out" || die "search summary has no 'trials: 40' line: $(cat "$tmp/out")"
grep -q '^best: trial [0-9]* |' "$tmp/out" || die "search summary has no best architecture"
[ -f "$out/journal.jsonl" ] || die "search wrote no $out/journal.jsonl"
[ "$(wc -l < "$out/journal.jsonl")" -eq 41 ] || die "journal.jsonl has $(wc -l < "$out/journal.jsonl") lines, expected 41 (header + 40 trials)"
"$py" - "$out/journal.jsonl" <<'PY' || die "journal.jsonl lines are not all JSON objects"
import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    obj = json.loads(line)
    assert isinstance(obj, dict), "line %d is not an object" % n
PY
valid_json "$out/best.json"
valid_json "$out/summary.json"
"$py" - "$out/best.json" <<'PY' || die "best.json lacks the best trial or the trial count"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["trials"] == 40, b["trials"]
assert b["best"]["arch"].startswith("|"), b["best"]
assert isinstance(b["best"]["trial"], int)
assert b["best"]["metrics"]["test_acc"] > 0
assert isinstance(b["summary"], dict)
PY
# Same seed, same search.
run 0 search "$experiment" --out "$tmp/run2" --trials 40 --seed 3 --json
"$py" - "$out/best.json" "$tmp/out" <<'PY' || die "two searches with seed 3 found different best trials, or --json printed no JSON"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["best"]["arch"] == b["best"]["arch"] and a["best"]["trial"] == b["best"]["trial"]
PY
# An earlier search is not overwritten without --force.
run 1 search "$experiment" --out "$out" --trials 5
one_error_line 'already exists.*--force'
[ "$(wc -l < "$out/journal.jsonl")" -eq 41 ] || die "a refused search touched the old journal"
run 0 search "$experiment" --out "$out" --trials 5 --force --quiet
[ ! -s "$tmp/out" ] || die "--quiet printed something: $(cat "$tmp/out")"
[ "$(wc -l < "$out/journal.jsonl")" -eq 6 ] || die "--force did not start a fresh journal"

# --- Ctrl-C: exit 130, finished trials stay in the journal. The space has a real-valued
# hyperparameter, so the searcher never runs out of candidates before the signal comes.
cat > "$tmp/endless.yaml" <<YAML
name: endless
space: '$src/spaces/nb201-hparams.yaml'
searcher: {name: random, objectives: 'test_acc:max'}
evaluator: {name: table, params: {path: '$src/data/nb201/cifar10_test.csv'}}
YAML
"$nas" search "$tmp/endless.yaml" --out "$tmp/int" --trials 100000000 --quiet > "$tmp/int.out" 2> "$tmp/int.err" &
bg_pid=$!
for _ in $(seq 1 300); do
    [ -f "$tmp/int/journal.jsonl" ] && [ "$(wc -l < "$tmp/int/journal.jsonl")" -ge 3 ] && break
    kill -0 "$bg_pid" 2>/dev/null || break
    sleep 0.1
done
[ -f "$tmp/int/journal.jsonl" ] || die "the long search wrote no journal within 30 s"
kill -INT "$bg_pid"
for _ in $(seq 1 300); do
    kill -0 "$bg_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$bg_pid" 2>/dev/null && die "the search did not stop within 30 s of SIGINT"
got=0
wait "$bg_pid" || got=$?
bg_pid=
[ "$got" -eq 130 ] || die "a search stopped by SIGINT exited with $got, expected 130 (stderr: $(cat "$tmp/int.err"))"
"$py" - "$tmp/int/journal.jsonl" <<'PY' || die "the journal of the interrupted search is not valid JSON lines"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) >= 3, len(lines)
for line in lines:
    json.loads(line)
PY
valid_json "$tmp/int/best.json"

# --- errors: one line, exit 1 for bad files, 2 for usage
printf 'name: broken\nfamily: cell\ncell: [ops, {\n  oops\n' > "$tmp/bad.yaml"
run 1 space info "$tmp/bad.yaml"
one_error_line 'bad\.yaml:[0-9]+:[0-9]+: '
printf 'name: broken\nsearcher: {name: random\n' > "$tmp/bad-exp.yaml"
run 1 search "$tmp/bad-exp.yaml" --out "$tmp/bad-out"
one_error_line 'bad-exp\.yaml:[0-9]+:[0-9]+: '
run 1 space info "$tmp/does-not-exist.yaml"
one_error_line 'does-not-exist\.yaml'
run 1 space sample "$tmp/does-not-exist.yaml" -n 3
one_error_line 'does-not-exist\.yaml'
run 1 search "$tmp/does-not-exist.yaml" --out "$tmp/x"
one_error_line 'does-not-exist\.yaml'
run 2 frobnicate
one_error_line "unknown command 'frobnicate'"
run 2
one_error_line 'no command'
run 2 --bogus
one_error_line "unknown option"
run 2 space
one_error_line 'missing subcommand'
run 2 space info
one_error_line 'missing the space file'
run 2 space sample "$space" -n
one_error_line 'needs a value'
run 2 space sample "$space" --seed abc
one_error_line "expected a non-negative integer"
run 2 space info "$space" --frob
one_error_line "unknown option '--frob'"
run 2 search
one_error_line 'missing the experiment file'
run 2 search "$experiment" --trials 0 --out "$tmp/t0"
one_error_line 'out of range'
run 2 help frobnicate
one_error_line "unknown command 'frobnicate'"
echo "check_cli: ok"
