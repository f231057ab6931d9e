#!/usr/bin/env bash
# examples/embed_inference deploys a saved model: this makes one with examples/quickstart (one
# trial), then classifies Fashion-MNIST test images with it and checks the predictions, the
# accuracy (well above the 10% of chance), that the model it describes is the one quickstart
# saved, and that a missing, corrupted, truncated or foreign model file (and missing images) give a
# clear message and exit status 1, never a crash.
# usage: check_embed_inference.sh EMBED_INFERENCE_EXE QUICKSTART_EXE SOURCE_ROOT
set -euo pipefail

die() { echo "check_embed_inference: FAIL: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: check_embed_inference.sh EMBED_INFERENCE_EXE QUICKSTART_EXE SOURCE_ROOT"
exe=$(realpath "$1") quickstart=$(realpath "$2") src=$(realpath "$3")
[ -x "$exe" ] || die "no executable at '$exe'"
[ -x "$quickstart" ] || die "no executable at '$quickstart'"
fmnist=/usr/share/datasets/fashion-mnist
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

model=$tmp/m.nasmodel
made=$(cd "$src" && "$quickstart" 1 "$model" 2>&1) || die "quickstart could not make a model: $made"
q_arch=$(grep -A1 '^best: ' <<< "$made" | tail -n 1)
q_params=$(sed -n 's/^best: .*, \([0-9]*\) params$/\1/p' <<< "$made")

n=600
out=$("$exe" "$model" "$fmnist/t10k-images-idx3-ubyte.gz" "$fmnist/t10k-labels-idx1-ubyte.gz" $n 2>&1) \
    || die "embed_inference exited with status $?; output: $out"
echo "$out"

# The model it loaded is the one saved: same architecture and parameter count.
grep -qx "arch: $q_arch" <<< "$out" || die "the loaded model's arch is not quickstart's '$q_arch'"
grep -qE "^model: .*\(space fmnist-nb201\), $q_params params, [0-9.]+ MFLOPs, input 1x28x28, 10 classes$" <<< "$out" \
    || die "the model line does not give quickstart's $q_params params, 1x28x28 inputs and 10 classes"

# Five predictions: a class name of Fashion-MNIST each; the top probability of 10 classes is >= 10%.
classes='T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot'
shown=$(grep -cE "^image [0-4]: ($classes) \([0-9.]+%\), label ($classes)$" <<< "$out" || true)
[ "$shown" -eq 5 ] || die "expected 5 'image i: CLASS (P%), label CLASS' lines, got $shown"
probs=$(sed -n 's/^image [0-9]*: .* (\([0-9.]*\)%), label .*$/\1/p' <<< "$out")
for p in $probs; do
    awk -v p="$p" 'BEGIN { exit !(p >= 9.95 && p <= 100) }' || die "top probability $p% is not in [10, 100]"
done
# The first test image of Fashion-MNIST is an ankle boot.
grep -q '^image 0: .*, label Ankle boot$' <<< "$out" || die "image 0 of t10k is not labelled 'Ankle boot'"

acc=$(sed -n 's/^accuracy: \([0-9]*\)\/\([0-9]*\) = \([0-9.]*\)%$/\1 \2 \3/p' <<< "$out")
[ -n "$acc" ] || die "no 'accuracy: C/N = A%' line"
read -r correct total pct <<< "$acc"
[ "$total" -eq $n ] || die "accuracy over $total images, expected $n"
awk -v c="$correct" -v t="$total" -v p="$pct" 'BEGIN { d = 100 * c / t - p; exit !(d < 0.01 && d > -0.01) }' \
    || die "$correct/$total is not $pct%"
awk -v p="$pct" 'BEGIN { exit !(p > 40) }' || die "accuracy $pct% is not well above chance (10%)"

lat=$(sed -n 's/^latency: batch 1, median \([0-9.]*\) ms, p90 \([0-9.]*\) ms over \([0-9]*\) runs$/\1 \2 \3/p' <<< "$out")
[ -n "$lat" ] || die "no 'latency: batch 1, median X ms, p90 Y ms over N runs' line"
read -r median p90 runs <<< "$lat"
awk -v m="$median" -v q="$p90" 'BEGIN { exit !(m > 0 && q >= m) }' || die "latency median $median ms, p90 $p90 ms"
[ "$runs" -ge 3 ] || die "latency timed $runs runs (at least 3 expected)"

# expect_error WHAT PATTERN ARGS...: exit status 1 (not a signal, not a sanitizer report), and a
# message on stderr matching PATTERN.
expect_error() {
    local what=$1 pattern=$2; shift 2
    set +e
    "$exe" "$@" > "$tmp/stdout" 2> "$tmp/stderr"
    local rc=$?
    set -e
    [ $rc -eq 1 ] || die "$what: exit status $rc, expected 1; stderr: $(cat "$tmp/stderr")"
    grep -qE "$pattern" "$tmp/stderr" || die "$what: no message matching '$pattern'; stderr: $(cat "$tmp/stderr")"
    ! grep -q 'Sanitizer' "$tmp/stderr" || die "$what: a sanitizer report"
    echo "ok: $what: $(head -n 1 "$tmp/stderr")"
}

expect_error "missing model" "cannot load the model: .*$tmp/missing.nasmodel" "$tmp/missing.nasmodel"
size=$(stat -c %s "$model")
cp "$model" "$tmp/flipped.nasmodel"
# One byte in the middle of the weights changed: the checksum catches it.
printf '\x5a' | dd of="$tmp/flipped.nasmodel" bs=1 seek=$((size / 2)) conv=notrunc status=none
cmp -s "$model" "$tmp/flipped.nasmodel" && printf '\xa5' | dd of="$tmp/flipped.nasmodel" bs=1 seek=$((size / 2)) conv=notrunc status=none
expect_error "corrupted model" "cannot load the model: .*(checksum|corrupt)" "$tmp/flipped.nasmodel"
head -c $((size - 100)) "$model" > "$tmp/truncated.nasmodel"
expect_error "truncated model" "cannot load the model: .*(truncated|size|corrupt)" "$tmp/truncated.nasmodel"
expect_error "not a model file" "cannot load the model: " "$src/README.md"
: > "$tmp/empty.nasmodel"
expect_error "empty model file" "cannot load the model: " "$tmp/empty.nasmodel"
expect_error "missing images" "cannot load the images: .*$tmp/none-images" "$model" "$tmp/none-images" \
    "$fmnist/t10k-labels-idx1-ubyte.gz"

set +e
"$exe" "$model" "$fmnist/t10k-images-idx3-ubyte.gz" "$fmnist/t10k-labels-idx1-ubyte.gz" 12x > /dev/null 2> "$tmp/stderr"
rc=$?
set -e
[ $rc -eq 2 ] && grep -q '^usage: embed_inference' "$tmp/stderr" || die "a bad N gave status $rc and no usage line"
echo "check_embed_inference: ok: accuracy $pct% on $n test images, latency $median ms"
