#!/usr/bin/env bash
# nas search --resume after kill -9 at random moments: the search ends with the journal (but for
# wall-clock fields) and the best result of the same search run without interruption; also after
# SIGTERM (exit 130), a torn last journal line, a changed experiment file, and bad folders.
# usage: check_resume.sh NAS_EXE SOURCE_ROOT [STRATEGY...]
set -euo pipefail

die() { echo "check_resume: FAIL: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: check_resume.sh NAS_EXE SOURCE_ROOT [STRATEGY...]"
nas=$(realpath "$1") src=$(realpath "$2")
shift 2
strategies=("$@")
[ ${#strategies[@]} -gt 0 ] || strategies=(evolution local tpe reinforce bohb)
[ -x "$nas" ] || die "no executable at '$nas'"

tmp=$(mktemp -d)
bg_pid=
cleanup() {
    if [ -n "$bg_pid" ]; then kill -9 "$bg_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trials=${RESUME_TRIALS:-300}

experiment() { # NAME STRATEGY
    cat > "$tmp/$1.yaml" <<YAML
name: resume-$1
space: $src/spaces/nas-bench-201.yaml
searcher:
  name: $2
  objectives: test_acc:max
evaluator:
  name: table
  params:
    path: $src/data/nb201/cifar10_test.csv
budget:
  trials: $trials
seed: 5
output: $tmp/out-$1
YAML
}

# The journal without wall-clock fields.
normalized() {
    sed -e 's/,"time":[0-9]*//' -e 's/,"elapsed":[^,}]*//' "$1"
}

best_of() { # the "best" object of best.json on one line
    tr -d '\n' < "$1" | sed -e 's/.*"best": \({[^}]*}[^}]*}\).*/\1/'
}

# A random delay in seconds, up to the duration of the uninterrupted search ($span_ms).
span_ms=300
delay() { local ms=$(( (RANDOM * 32768 + RANDOM) % (span_ms * 4 / 5 + 1) )); printf '%d.%03d' $((ms / 1000)) $((ms % 1000)); }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

for s in "${strategies[@]}"; do
    if ! "$nas" list 2>/dev/null | grep -qw "$s"; then
        die "strategy '$s' is not registered"
    fi
    experiment "ref-$s" "$s"
    t0=$(now_ms)
    "$nas" search "$tmp/ref-$s.yaml" --quiet || die "$s: the uninterrupted search failed"
    span_ms=$(( $(now_ms) - t0 + 1 ))
    experiment "cut-$s" "$s"
    out=$tmp/out-cut-$s
    # Start, then kill -9 after a random delay; resume with kills until a run finishes.
    kills=0 rc=0
    for attempt in 1 2 3 4 5 6 7 8; do   # until the first kill lands
        rm -rf "$out"
        "$nas" search "$tmp/cut-$s.yaml" --quiet 2>"$tmp/err" & bg_pid=$!
        sleep "$(delay)"
        if kill -9 "$bg_pid" 2>/dev/null; then kills=$((kills + 1)); fi
        wait "$bg_pid" 2>/dev/null && rc=0 || rc=$?
        bg_pid=
        [ "$rc" -eq 0 ] || break
    done
    for round in $(seq 1 200); do
        [ "$rc" -eq 0 ] && break
        [ -f "$out/search.args" ] || { # killed before it wrote anything: start again
            rm -rf "$out"
            "$nas" search "$tmp/cut-$s.yaml" --quiet 2>"$tmp/err" & bg_pid=$!
            if [ $((round % 4)) -ne 0 ]; then
                sleep "$(delay)"; kill -9 "$bg_pid" 2>/dev/null && kills=$((kills + 1))
            fi
            wait "$bg_pid" 2>/dev/null && rc=0 || rc=$?; bg_pid=; continue; }
        "$nas" search --resume "$out" --quiet 2>"$tmp/err" & bg_pid=$!
        if [ $((round % 4)) -ne 0 ]; then
            sleep "$(delay)"
            if kill -9 "$bg_pid" 2>/dev/null; then kills=$((kills + 1)); fi
        fi
        wait "$bg_pid" 2>/dev/null && rc=0 || rc=$?
        bg_pid=
        if [ "$rc" -ne 0 ] && [ "$rc" -ne 137 ]; then
            cat "$tmp/err" >&2
            die "$s: nas search --resume exited with $rc"
        fi
    done
    [ "$rc" -eq 0 ] || die "$s: the search did not finish after 200 resumes"
    [ "$kills" -ge 1 ] || die "$s: no kill landed (the search was too fast to interrupt)"
    n=$(grep -c '"type":"trial"' "$out/journal.jsonl")
    [ "$n" -eq "$trials" ] || die "$s: the resumed journal has $n trials, expected $trials"
    diff <(normalized "$tmp/out-ref-$s/journal.jsonl") <(normalized "$out/journal.jsonl") > "$tmp/diff" ||
        { head -5 "$tmp/diff" >&2; die "$s: the resumed journal differs from the uninterrupted one ($kills kills)"; }
    [ "$(best_of "$tmp/out-ref-$s/best.json")" = "$(best_of "$out/best.json")" ] ||
        die "$s: the best result differs after resuming"
    echo "check_resume: $s: $kills kill -9, journal and best identical"
done

# SIGTERM stops after the running trial with exit 130; a torn line is cut on resume.
s=${strategies[0]}
experiment term "$s"
out=$tmp/out-term
"$nas" search "$tmp/term.yaml" --quiet 2>"$tmp/err" & bg_pid=$!
for _ in $(seq 1 500); do   # once trials are being written (the handler is in place)
    [ "$(cat "$out/journal.jsonl" 2>/dev/null | wc -l)" -ge 3 ] && break
    sleep 0.01
done
kill -TERM "$bg_pid" 2>/dev/null || true
rc=0; wait "$bg_pid" || rc=$?; bg_pid=
[ "$rc" -eq 130 ] || [ "$rc" -eq 0 ] || die "SIGTERM: exit $rc, expected 130"
printf '{"type":"trial","trial":99999,"arch":"|nor_co' >> "$out/journal.jsonl"
"$nas" search --resume "$out" --quiet || die "resume after SIGTERM and a torn line failed"
diff <(normalized "$tmp/out-ref-$s/journal.jsonl") <(normalized "$out/journal.jsonl") >/dev/null ||
    die "after SIGTERM and a torn line the journal differs"

# A changed experiment file is refused (unless --force); bad folders give one clear error.
echo "# changed" >> "$tmp/term.yaml"
rc=0; "$nas" search --resume "$out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "changed since the search started" "$tmp/err" || die "changed experiment: exit $rc"
rc=0; "$nas" search --resume "$tmp/nowhere" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "no readable search.args" "$tmp/err" || die "missing folder: exit $rc"
rc=0; "$nas" search "$tmp/term.yaml" --resume "$out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 2 ] || die "--resume with an experiment file: exit $rc, expected 2"
echo "check_resume: ok"
