#!/usr/bin/env bash
# nas report: the best architecture agrees with summary.json, the SVG plot is written and
# well-formed, the Pareto front of a hand-made 2-objective table (with a constraint, a failed
# trial and two equal score vectors) is the right one, a torn last line and a journal of several
# runs are read like a resume reads them, and bad input exits non-zero with one error line.
# usage: check_report.sh NAS_EXE SOURCE_ROOT
set -euo pipefail

die() { echo "check_report: FAIL: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: check_report.sh NAS_EXE SOURCE_ROOT"
nas=$(realpath "$1") src=$(realpath "$2")
py=/usr/bin/python3
[ -x "$nas" ] || die "no executable at '$nas'"
[ -x "$py" ] || die "$py is needed to read JSON and SVG"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

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

# one_error_line PATTERN: stderr is exactly one line "nas: error: report: ..." matching PATTERN (ERE).
one_error_line() {
    local lines
    lines=$(wc -l < "$tmp/err")
    [ "$lines" -eq 1 ] || { cat "$tmp/err" >&2; die "expected one line on stderr, got $lines"; }
    grep -qE "^nas: error: " "$tmp/err" || die "stderr does not start with 'nas: error: ': $(cat "$tmp/err")"
    grep -qE "$1" "$tmp/err" || die "stderr does not match /$1/: $(cat "$tmp/err")"
}

# check_svg FILE PANELS: a standalone SVG document that parses as XML, with a polyline and PANELS panels.
check_svg() {
    [ -s "$1" ] || die "no plot at $1"
    head -c 4 "$1" | grep -q '^<svg' || die "$1 does not start with <svg"
    "$py" - "$1" "$2" <<'EOF' || die "$1 is not the expected SVG"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = '{http://www.w3.org/2000/svg}'
assert root.tag == ns + 'svg', root.tag
assert root.findall('.//' + ns + 'polyline'), 'no polyline'
assert root.findall('.//' + ns + 'circle'), 'no dots'
panels = len(root.findall('.//' + ns + 'clipPath'))
assert panels == int(sys.argv[2]), f'{panels} panels'
EOF
}

# --- help
run 0 help report
grep -q '^usage: nas report' "$tmp/out" || die "'nas help report' has no usage line"
run 0 report --help
grep -q '^usage: nas report' "$tmp/out" || die "'nas report --help' has no usage line"
run 0 --help
grep -q '^  report OUT_DIR' "$tmp/out" || die "'nas --help' does not list report"

# --- one objective: NAS-Bench-201 random search
rs=$tmp/random
run 0 search "$src/experiments/nb201-random.yaml" --out "$rs" --trials 60 --quiet
run 0 report "$rs" --top 3
read -r best_arch best_acc best_trial < <("$py" -c '
import json, sys
b = json.load(open(sys.argv[1]))["best"]
print(b["arch"], repr(b["metrics"]["test_acc"]), b["trial"])' "$rs/summary.json")
grep -F " $best_arch" "$tmp/out" | grep -qE "^ +1 +$best_trial +$best_acc +[|]" \
    || { cat "$tmp/out" >&2; die "rank 1 is not trial $best_trial $best_acc $best_arch"; }
[ "$(grep -cE '^ +[0-9]+ +[0-9]+ +[0-9.]+ +[|]' "$tmp/out")" -eq 3 ] || die "--top 3 did not list 3 architectures"
grep -qE '^  trials +60 \(0 failed\)' "$tmp/out" || die "trial count wrong: $(grep trials "$tmp/out")"
grep -qE '^  stop reason +max_trials' "$tmp/out" || die "stop reason missing"
grep -q '^failures: none' "$tmp/out" || die "failures not reported as none"
grep -q 'Pareto' "$tmp/out" && die "a Pareto front printed for one objective"
check_svg "$rs/report.svg" 1

run 0 report "$rs" --json --plot "$tmp/custom.svg"
"$py" - "$tmp/out" "$rs/summary.json" <<'EOF' || die "--json does not agree with summary.json"
import json, sys
rep, summ = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for k in ("space", "searcher", "evaluator", "objectives", "seed", "trials", "failed", "stop_reason"):
    assert rep[k] == summ[k], (k, rep[k], summ[k])
b, s = rep["best"], summ["best"]
assert (b["index"], b["trial"], b["arch"], b["metrics"]) == (s["index"], s["trial"], s["arch"], s["metrics"]), (b, s)
assert rep["top"][0]["arch"] == s["arch"] and len(rep["top"]) == 10
accs = [t["metrics"]["test_acc"] for t in rep["top"]]
assert accs == sorted(accs, reverse=True), accs
assert "pareto" not in rep and rep["failures"] == {}
EOF
check_svg "$tmp/custom.svg" 1

# A torn last line (a crash in the middle of a write) is ignored.
cp -r "$rs" "$tmp/torn"
printf '{"type":"trial","trial":60,"arch":"|none~0|+|no' >> "$tmp/torn/journal.jsonl"
run 0 report "$tmp/torn" --no-plot
grep -q 'torn last line ignored' "$tmp/out" || die "the torn line is not mentioned"
grep -qE "^ +1 +$best_trial +$best_acc " "$tmp/out" || die "the torn journal gives another best"
[ ! -e "$tmp/torn/report.svg.tmp" ] || die "a temporary plot file was left behind"

# --- two objectives, a constraint, a failure: a hand-made table over a 9-architecture space
pd=$tmp/pareto
mkdir -p "$pd"
cat > "$pd/space.yaml" <<'EOF'
name: tiny-chain
family: chain
chain:
  ops: [mb3_e3, mb3_e6, mb5_e3]
  stem_channels: 8
  head_channels: 16
  stages:
    - {channels: 8, stride: 1, depths: [1]}
    - {channels: 8, stride: 2, depths: [1]}
EOF
# acc:max, lat:min, lat<=10. Front: (85,4) (90,5) (92,6) (93,8) and one of the two (95,9) trials
# (the earlier one); (91,7) is dominated by (92,6); (96,12) is infeasible; mb5_e3|mb5_e3 is missing.
cat > "$pd/table.csv" <<'EOF'
arch,acc,lat
mb3_e3|mb3_e3,90,5
mb3_e3|mb3_e6,92,6
mb3_e3|mb5_e3,91,7
mb3_e6|mb3_e3,95,9
mb3_e6|mb3_e6,95,9
mb3_e6|mb5_e3,96,12
mb5_e3|mb3_e3,85,4
mb5_e3|mb3_e6,93,8
EOF
cat > "$pd/exp.yaml" <<'EOF'
name: tiny-pareto
space: space.yaml
searcher:
  name: grid
  objectives: [acc:max, lat:min]
  constraints: lat<=10
evaluator:
  name: table
  params:
    path: table.csv
budget:
  trials: 100
seed: 3
output: out
EOF
run 0 search "$pd/exp.yaml" --quiet
run 0 report "$pd/out"
grep -qE '^  trials +9 \(1 failed, 1 infeasible\)' "$tmp/out" || die "counts wrong: $(grep trials "$tmp/out")"
grep -qE '^  not_found +1 ' "$tmp/out" || die "the not_found failure is not counted"
grep -qE '^Pareto front over acc:max,lat:min: 5 of 9 trials' "$tmp/out" || die "front size is not 5"
check_svg "$pd/out/report.svg" 2
run 0 report "$pd/out" --json --no-plot
"$py" - "$tmp/out" "$pd/out/summary.json" "$pd/out/journal.jsonl" <<'EOF' || die "wrong Pareto front"
import json, sys
rep, summ = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
trials = [json.loads(l) for l in open(sys.argv[3]) if '"trial"' in l]
front = rep["pareto"]
pairs = sorted((t["metrics"]["acc"], t["metrics"]["lat"]) for t in front)
assert pairs == [(85, 4), (90, 5), (92, 6), (93, 8), (95, 9)], pairs
first95 = min((t for t in trials if t["metrics"].get("acc") == 95), key=lambda t: t["trial"])
assert [t["arch"] for t in front if t["metrics"]["acc"] == 95] == [first95["arch"]]
assert [t["index"] for t in front] == sorted(t["index"] for t in front), "not in history order"
assert rep["best"]["arch"] == first95["arch"], rep["best"]   # 96 breaks lat<=10
assert rep["failures"] == {"not_found": 1} and rep["infeasible"] == 1, (rep["failures"], rep["infeasible"])
if "pareto" in summ:   # the library's own front
    assert [(t["index"], t["arch"]) for t in summ["pareto"]] == [(t["index"], t["arch"]) for t in front]
EOF

# A journal holding two runs: the last one is reported.
cp -r "$pd/out" "$tmp/two"
head -4 "$pd/out/journal.jsonl" > "$tmp/two/journal.jsonl"
cat "$pd/out/journal.jsonl" >> "$tmp/two/journal.jsonl"
run 0 report "$tmp/two" --no-plot
grep -qE '^  journal +run 2 of 2 \(from line 5\)' "$tmp/out" || die "the last run is not the one reported"
grep -qE '^  trials +9 ' "$tmp/out" || die "trials of both runs were counted"

# A synthetic journal: 3 objectives with many ties, failures, null metrics and a constraint; the
# front and the ranking must be those of a brute-force reading of the library's rules.
syn=$tmp/synthetic
mkdir "$syn"
"$py" - "$syn/journal.jsonl" <<'EOF'
import json, random, sys
random.seed(7)
with open(sys.argv[1], "w") as f:
    f.write(json.dumps({"type": "header", "format": 1, "space": "s", "searcher": "x", "evaluator": "e",
                        "objectives": "a:max,b:min,c:max", "constraints": "d<=7", "seed": 5}) + "\n")
    seen = []
    for i in range(1500):
        m = {k: random.randint(0, 60) for k in "abc"}
        m["d"] = random.randint(0, 9)
        if seen and random.random() < 0.1: m = dict(random.choice(seen))   # equal score vectors
        seen.append(m)
        if random.random() < 0.05: m["c"] = None
        if random.random() < 0.05: del m["d"]
        st = "ok" if random.random() < 0.9 else random.choice(["diverged", "not_found"])
        f.write(json.dumps({"type": "trial", "trial": i, "arch": "arch%d" % i, "fidelity": 0, "status": st,
                            "message": "", "metrics": m, "cost": 1.5, "elapsed": 0.01}) + "\n")
EOF
run 0 report "$syn" --json --top 50
"$py" - "$tmp/out" "$syn/journal.jsonl" <<'EOF' || die "synthetic journal: wrong front or ranking"
import json, math, sys
rep = json.load(open(sys.argv[1]))
trials = [json.loads(l) for l in open(sys.argv[2])][1:]
def score(t):
    m = t["metrics"]
    ok = t["status"] == "ok" and m.get("d") is not None and m["d"] <= 7
    s = []
    for k, sign in (("a", 1), ("b", -1), ("c", 1)):
        v = m.get(k) if ok else None
        s.append(-math.inf if v is None else sign * v)
    return s
sc = [score(t) for t in trials]
cand = [i for i in range(len(sc)) if all(math.isfinite(v) for v in sc[i])]
dom = lambda x, y: all(p >= q for p, q in zip(x, y)) and x != y
front = [i for i in cand if not any(dom(sc[j], sc[i]) for j in cand)
         and not any(sc[j] == sc[i] for j in cand if j < i)]
assert [t["index"] for t in rep["pareto"]] == front, ([t["index"] for t in rep["pareto"]], front)
ranked = sorted((i for i in range(len(sc)) if math.isfinite(sc[i][0])), key=lambda i: (-sc[i][0], i))
assert [t["index"] for t in rep["top"]] == ranked[:50]
assert rep["failed"] == sum(t["status"] != "ok" for t in trials)
assert rep["cost_seconds"] == 1.5 * len(trials)
EOF
check_svg "$syn/report.svg" 2

# --- bad input: exit 1 (or 2 for usage) with one error line
run 1 report "$tmp/does-not-exist"
one_error_line 'no such folder'
mkdir "$tmp/empty"
run 1 report "$tmp/empty"
one_error_line 'no journal.jsonl'
cp -r "$rs" "$tmp/garbage"
head -c 3000 /dev/urandom | tr -d '\n' > "$tmp/garbage/journal.jsonl"; echo >> "$tmp/garbage/journal.jsonl"
echo 'more garbage' >> "$tmp/garbage/journal.jsonl"
run 1 report "$tmp/garbage"
one_error_line 'journal.jsonl:1: damaged journal line'
cp -r "$rs" "$tmp/damaged"
sed -i '3s/.*/{"type":"trial",/' "$tmp/damaged/journal.jsonl"
run 1 report "$tmp/damaged"
one_error_line 'journal.jsonl:3: damaged journal line'
cp -r "$rs" "$tmp/badtrial"
sed -i '3s/"status":"ok"/"status":7/' "$tmp/badtrial/journal.jsonl"
run 1 report "$tmp/badtrial"
one_error_line 'journal.jsonl:3: not a valid trial line'
: > "$tmp/empty/journal.jsonl"
run 1 report "$tmp/empty"
one_error_line 'no header line'
cp -r "$rs" "$tmp/badsummary"
echo '{"trials": ' > "$tmp/badsummary/summary.json"
run 1 report "$tmp/badsummary"
one_error_line 'summary.json: malformed summary'
run 1 report "$rs" --plot "$tmp/no/such/dir/plot.svg"
one_error_line 'cannot write the plot'
run 2 report
one_error_line 'expected the output folder'
run 2 report "$rs" --top many
one_error_line 'top'
run 2 report "$rs" --bogus
one_error_line 'unknown option'

echo "check_report: OK"
