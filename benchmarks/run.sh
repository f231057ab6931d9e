#!/bin/sh
# Side-by-side benchmark of the engine (bench_train) and PyTorch (torch_ref.py) on the reference
# network, same batch, same threads, in one invocation.
#
#   benchmarks/run.sh train      # table + last line train_speedup_vs_torch=X.XX
#   benchmarks/run.sh infer      # table + last line infer_latency_ratio_vs_torch=X.XX
#   benchmarks/run.sh accuracy   # per-epoch lines + last line reference_cnn_test_acc_3_epochs=XX.XX
#   benchmarks/run.sh nb201      # NAS-Bench-201 study (benchmarks/nb201.sh): table + nb201_rea_mean_at_100=XX.XX
#   benchmarks/run.sh latency    # latency lookup table vs 20 measured networks: per-arch lines + last line
#                                # latency_lut_max_error_pct=X.X (SPACE: default spaces/proxylessnas.yaml;
#                                # extra arguments go to bench_latency, e.g. --cache FILE)
#
# accuracy trains the reference network on Fashion-MNIST with the recipe of benchmarks/README.md
# (bench_train accuracy's defaults) and needs no PyTorch.
#
# Environment: BUILD (meson build dir, default ./build), THREADS (2), BATCH (128), STEPS (30),
# PYTHON (/usr/bin/python3: Debian's python3-torch), ROUNDS (3: alternating runs, median kept),
# SEED (1, accuracy), DATA (accuracy: /usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist).
set -eu
mode=${1:-train}
case "$mode" in train|infer|accuracy|nb201|latency) ;; *) echo "usage: $0 train|infer|accuracy|nb201|latency" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
if [ "$mode" = nb201 ]; then
    shift
    exec "$here/nb201.sh" "$@"
fi
root=$(dirname "$here")
BUILD=${BUILD:-$root/build}
THREADS=${THREADS:-2}
BATCH=${BATCH:-128}
STEPS=${STEPS:-30}
ROUNDS=${ROUNDS:-3}
PYTHON=${PYTHON:-/usr/bin/python3}

if [ "$mode" = latency ]; then
    shift
    SPACE=${SPACE:-$root/spaces/proxylessnas.yaml}
    bl=$BUILD/benchmarks/bench_latency
    [ -x "$bl" ] || { echo "no $bl: run meson setup/ninja first" >&2; exit 1; }
    "$bl" --space "$SPACE" --threads "$THREADS" "$@" || { echo "bench_latency failed" >&2; exit 1; }
    exit 0
fi

bench=$BUILD/benchmarks/bench_train
if [ ! -x "$bench" ]; then
    # benchmarks/ not wired into the top meson.build: build it against the internal archive.
    [ -f "$BUILD/libnas_internal.a" ] || { echo "no $BUILD/libnas_internal.a: run meson setup/ninja first" >&2; exit 1; }
    bench=$BUILD/bench_train_standalone
    ${CC:-cc} -std=c11 -O2 -fopenmp -D_POSIX_C_SOURCE=200809L -I"$root/include" -I"$BUILD/include/libnas" \
        -I"$root/src" "$here/bench_train.c" "$BUILD/libnas_internal.a" -lyaml -lz -ldnnl -lm -lpthread -o "$bench"
fi

if [ "$mode" = accuracy ]; then
    SEED=${SEED:-1}
    DATA=${DATA:-/usr/share/datasets/fashion-mnist}
    out=$("$bench" accuracy --epochs 3 --batch "$BATCH" --threads "$THREADS" --seed "$SEED" --data "$DATA") || {
        echo "$out"; echo "bench_train accuracy failed" >&2; exit 1; }
    echo "$out"
    acc=$(echo "$out" | sed -n 's/^test_acc_after_3_epochs=//p')
    [ -n "$acc" ] || { echo "no test_acc_after_3_epochs line" >&2; exit 1; }
    echo "reference_cnn_test_acc_3_epochs=$acc"
    exit 0
fi

get() { # key line
    echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

ours=""; theirs=""; line_ours=""; line_theirs=""
i=0
while [ $i -lt "$ROUNDS" ]; do
    if [ "$mode" = train ]; then
        l=$("$bench" train --batch "$BATCH" --threads "$THREADS" --steps "$STEPS")
        t=$("$PYTHON" "$here/torch_ref.py" train --batch "$BATCH" --threads "$THREADS" --steps "$STEPS")
        ours="$ours $(get img_per_s "$l")"; theirs="$theirs $(get img_per_s "$t")"
    else
        l=$("$bench" infer --threads "$THREADS")
        t=$("$PYTHON" "$here/torch_ref.py" infer --threads "$THREADS")
        ours="$ours $(get ms_per_img "$l")"; theirs="$theirs $(get ms_per_img "$t")"
    fi
    line_ours=$l; line_theirs=$t
    i=$((i + 1))
done
mo=$(echo $ours | tr ' ' '\n' | median)
mt=$(echo $theirs | tr ' ' '\n' | median)

if [ "$mode" = train ]; then
    gf=$(get gflops "$line_ours"); pf=$(get peak_frac "$line_ours")
    # training FLOPs per image of the reference net (fwd + bwd weights + bwd data but the first conv)
    flops_img=$(awk -v g="$gf" -v i="$(get img_per_s "$line_ours")" 'BEGIN { printf "%.0f", g * 1e9 / i }')
    printf '%-8s %8s %8s %12s %10s %10s\n' impl batch threads images/s GFLOP/s peak_frac
    printf '%-8s %8s %8s %12.1f %10.1f %10.3f\n' libnas "$BATCH" "$THREADS" "$mo" \
        "$(awk -v a="$mo" -v f="$flops_img" 'BEGIN { print a * f / 1e9 }')" \
        "$(awk -v a="$mo" -v f="$flops_img" 'BEGIN { print a * f / 1e9 / 425 }')"
    printf '%-8s %8s %8s %12.1f %10.1f %10.3f\n' torch "$BATCH" "$THREADS" "$mt" \
        "$(awk -v a="$mt" -v f="$flops_img" 'BEGIN { print a * f / 1e9 }')" \
        "$(awk -v a="$mt" -v f="$flops_img" 'BEGIN { print a * f / 1e9 / 425 }')"
    echo "(median of $ROUNDS alternating runs; $STEPS steps each after warm-up; peak 425 GFLOP/s fp32; last run: $pf of peak)"
    awk -v a="$mo" -v b="$mt" 'BEGIN { printf "train_speedup_vs_torch=%.2f\n", a / b }'
else
    printf '%-8s %8s %8s %12s\n' impl batch threads ms/image
    printf '%-8s %8s %8s %12.4f\n' libnas 1 "$THREADS" "$mo"
    printf '%-8s %8s %8s %12.4f\n' torch 1 "$THREADS" "$mt"
    echo "(median of $ROUNDS alternating runs, eval mode, each the median of 7 blocks of repeated forwards)"
    awk -v a="$mo" -v b="$mt" 'BEGIN { printf "infer_latency_ratio_vs_torch=%.2f\n", a / b }'
fi
