#!/usr/bin/env bash
# What nas search shows while it runs: plain lines when stderr is not a terminal (one per trial,
# k/N increasing, no control bytes, the best as in best.json, failures with their status and
# message), nothing with --quiet, only JSON on stdout with --json, and on a pseudo-terminal
# (script(1)) a bar redrawn in place that fits the width, is cleared at the end and is ended with a
# newline when a signal stops the search. Table-scored experiments only: about a second each.
# usage: check_progress.sh NAS_EXE SOURCE_ROOT
set -euo pipefail

die() { echo "check_progress: FAIL: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: check_progress.sh NAS_EXE SOURCE_ROOT"
nas=$(realpath "$1") src=$(realpath "$2")
py=/usr/bin/python3
[ -x "$nas" ] || die "no executable at '$nas'"
[ -x "$py" ] || die "$py is needed to read the outputs"
experiment=$src/experiments/nb201-random.yaml
[ -f "$experiment" ] || die "no experiment file at $experiment"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run ARGS...: nas with stdout and stderr (a file, not a terminal) in $tmp/out and $tmp/err; must succeed.
run() {
    local got=0
    "$nas" "$@" > "$tmp/out" 2> "$tmp/err" || got=$?
    [ "$got" -eq 0 ] || { cat "$tmp/err" >&2; die "'nas $*' exited with $got"; }
}

no_control_bytes() { # FILE: no escape, carriage return or other control byte but newlines
    if LC_ALL=C grep -q "$(printf '[\001-\011\013-\037\177]')" "$1"; then
        die "$1 has control bytes: $(head -c 300 "$1" | od -c | head -5)"
    fi
}

# --- stderr in a file: one plain line per trial, then the best as best.json has it
run search "$experiment" --out "$tmp/a" --trials 20 --seed 3
no_control_bytes "$tmp/err"
"$py" - "$tmp/err" "$tmp/a/best.json" <<'PY' || die "the plain progress lines are wrong: $(cat "$tmp/err")"
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
best = json.load(open(sys.argv[2]))["best"]
assert len(lines) == 20, "%d lines, expected one per trial" % len(lines)
pat = re.compile(r"^\[ *\d+\.\ds\] trial (\d+)/20 ok test_acc ([0-9.]+) \| best ([0-9.]+) \(trial (\d+)\) \| eta (--|\d+s|\d+m\d\ds|\d+h\d\dm)$")
values = []
for k, line in enumerate(lines, 1):
    m = pat.match(line)
    assert m, "line %d does not look like a trial line: %r" % (k, line)
    assert int(m.group(1)) == k, "line %d says trial %s" % (k, m.group(1))
    values.append(float(m.group(2)))
    # The best so far is the largest value so far (test_acc:max).
    assert abs(float(m.group(3)) - max(values)) <= 1e-4 * max(values), line
m = pat.match(lines[-1])
assert abs(float(m.group(3)) - best["metrics"]["test_acc"]) <= 1e-5 * best["metrics"]["test_acc"], (line, best)
assert int(m.group(4)) == best["trial"], (lines[-1], best)
assert m.group(5) == "0s", lines[-1]
PY
grep -q '^trials: 20 ' "$tmp/out" || die "the summary went missing from stdout: $(cat "$tmp/out")"

# --verbose adds the architecture to each line.
run search "$experiment" --out "$tmp/v" --trials 5 --seed 3 --verbose
[ "$(grep -c '^\[ *[0-9.]*s\] trial [1-5]/5 ok .* | arch |' "$tmp/err")" -eq 5 ] ||
    die "--verbose: expected 5 trial lines with the architecture: $(cat "$tmp/err")"

# --- --quiet: nothing at all for a good run; --json: only JSON on stdout, the lines still on stderr
run search "$experiment" --out "$tmp/q" --trials 20 --quiet
[ ! -s "$tmp/err" ] || die "--quiet printed on stderr: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || die "--quiet printed on stdout: $(cat "$tmp/out")"
run search "$experiment" --out "$tmp/j" --trials 20 --json
"$py" -c 'import json, sys; json.load(sys.stdin)' < "$tmp/out" || die "--json: stdout is not one JSON document"
[ "$(grep -c '^\[ *[0-9.]*s\] trial ' "$tmp/err")" -eq 20 ] || die "--json: expected 20 progress lines on stderr"
run search "$experiment" --out "$tmp/jq" --trials 20 --json --quiet
"$py" -c 'import json, sys; json.load(sys.stdin)' < "$tmp/out" || die "--json --quiet: stdout is not JSON"
[ ! -s "$tmp/err" ] || die "--json --quiet printed on stderr: $(cat "$tmp/err")"

# --- failed trials: their status name and the evaluator's message
head -4 "$src/data/nb201/cifar10_test.csv" > "$tmp/small.csv"
cat > "$tmp/fail.yaml" <<YAML
name: fail
space: '$src/spaces/nas-bench-201.yaml'
searcher: {name: random, objectives: 'test_acc:max'}
evaluator: {name: table, params: {path: '$tmp/small.csv'}}
budget: {trials: 4}
YAML
run search "$tmp/fail.yaml" --out "$tmp/f" --seed 3
no_control_bytes "$tmp/err"
[ "$(grep -c '^\[ *[0-9.]*s\] trial [1-4]/4 not_found: not in the table .*small\.csv' "$tmp/err")" -eq 4 ] ||
    die "failed trials: expected 4 'not_found' lines with the message: $(cat "$tmp/err")"

# --- a terminal: script(1) runs nas on a pseudo-terminal (util-linux's, in Debian's essential bsdutils)
if ! command -v script > /dev/null; then
    die "script(1) is needed for the terminal checks (Debian: bsdutils)"
fi
# on_tty FILE COMMAND: run COMMAND on a pseudo-terminal 72 columns wide; what it printed goes to FILE.
on_tty() {
    local file=$1; shift
    TERM=xterm COLUMNS=72 script -qec "$*" /dev/null > "$file" < /dev/null || true
}
on_tty "$tmp/tty" "'$nas' search '$experiment' --out '$tmp/t' --trials 300 --seed 3"
"$py" - "$tmp/tty" <<'PY' || die "the terminal output is wrong: $(head -c 600 "$tmp/tty" | od -c | head -20)"
import re, sys
raw = open(sys.argv[1], "rb").read().decode()
out = raw.replace("\r\n", "\n")             # the terminal's own line ends
head, sep, tail = out.partition("experiment: ")
assert sep, "no summary"
assert head.endswith("\r\x1b[K"), "the bar is not cleared before the summary: %r" % head[-80:]
frames = [f for f in head.split("\r\x1b[K") if f]
assert frames, "no bar drawn"
assert "\n" not in head, "the bar printed a newline: %r" % head[:200]
# Redraws are at least 0.1 s apart but for the first and the last, as the run's own clock says.
elapsed = float(re.search(r"elapsed: ([0-9.]+) s", tail).group(1))
assert len(frames) <= elapsed / 0.1 + 3, "%d redraws in %.2f s: not limited" % (len(frames), elapsed)
for f in frames:
    assert len(f) <= 71, "a %d-column line on a 72-column terminal: %r" % (len(f), f)
    assert "\x1b" not in f and "\r" not in f, repr(f)
last = frames[-1]
assert "trial 300/300" in last, last
assert "[" + "#" * 14 + "] 100%" in last, last   # 71 // 5 wide
assert "eta 0s" in last, last
assert all(re.match(r"^\[[#-]{14}\] +\d+% trial \d+/300 \| best .* \| \d+s, eta ", f) for f in frames), frames[:3]
assert "trials: 300 " in tail, tail
PY

# --verbose on a terminal: the trial lines scroll above the bar.
on_tty "$tmp/ttyv" "'$nas' search '$experiment' --out '$tmp/tv' --trials 5 --seed 3 --verbose"
[ "$(tr '\r' '\n' < "$tmp/ttyv" | grep -c '\] trial [1-5]/5 ok ')" -eq 5 ] ||
    die "--verbose on a terminal: expected 5 trial lines: $(od -c "$tmp/ttyv" | head -20)"
grep -q '\] 100% trial 5/5 .*eta' "$tmp/ttyv" || die "--verbose on a terminal: no bar"

# TERM=dumb is no terminal for the bar: plain lines.
TERM=dumb script -qec "'$nas' search '$experiment' --out '$tmp/d' --trials 5 --seed 3" /dev/null > "$tmp/dumb" < /dev/null || true
grep -q $'\033' "$tmp/dumb" && die "TERM=dumb: escape sequences in the output"
[ "$(grep -c '^\[ *[0-9.]*s\] trial [1-5]/5 ok ' "$tmp/dumb")" -eq 5 ] || die "TERM=dumb: expected 5 plain lines"

# A signal stops the search: the last bar stays, ended by a newline, before the message.
cat > "$tmp/endless.yaml" <<YAML
name: endless
space: '$src/spaces/nb201-hparams.yaml'
searcher: {name: random, objectives: 'test_acc:max'}
evaluator: {name: table, params: {path: '$src/data/nb201/cifar10_test.csv'}}
YAML
on_tty "$tmp/ttyint" "'$nas' search '$tmp/endless.yaml' --out '$tmp/i' --trials 100000000 & pid=\$!;
    for i in \$(seq 1 300); do [ -f '$tmp/i/journal.jsonl' ] && [ \$(wc -l < '$tmp/i/journal.jsonl') -ge 3 ] && break; sleep 0.1; done;
    sleep 0.3; kill -TERM \$pid; wait \$pid; echo exit=\$?"
"$py" - "$tmp/ttyint" <<'PY' || die "interrupted on a terminal: $(od -c "$tmp/ttyint" | tail -20)"
import re, sys
out = open(sys.argv[1], "rb").read().decode().replace("\r\n", "\n")
assert "exit=130" in out, out[-300:]
head, sep, _ = out.partition("experiment: ")
assert sep, "no summary"
bar = head.split("\r\x1b[K")[-1]
assert re.match(r"^\[-+\] +0% trial \d+/100000000 .*eta .*\n$", bar), "the last bar is not kept with a newline: %r" % bar
trials = re.search(r"\ntrials: (\d+) ", out)
assert trials and re.search(r" trial %s/100000000 " % trials.group(1), bar), "the kept bar is not the last state: %r" % bar
assert "nas: interrupted: " in out
PY
echo "check_progress: ok"
