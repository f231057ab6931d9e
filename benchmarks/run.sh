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
#   benchmarks/run.sh supernet   # DARTS-style cell supernet training, engine (bench_supernet) vs PyTorch
#                                # (torch_supernet.py), darts and single-path modes: per-side lines, a
#                                # table + last line supernet_speedup_vs_torch=X.XX (darts mode)
#   benchmarks/run.sh memory     # peak resident memory of the supernet in darts and binary (ProxylessNAS)
#                                # mode, one process each (+ PyTorch's darts mode for context): last line
#                                # proxyless_mem_ratio_vs_darts=X.XX (binary / darts)
#
# accuracy trains the reference network on Fashion-MNIST with the recipe of benchmarks/README.md
# (bench_train accuracy's defaults) and needs no PyTorch.
#
# Environment: BUILD (meson build dir, default ./build), THREADS (2), BATCH (128), STEPS (30),
# PYTHON (/usr/bin/python3: Debian's python3-torch), ROUNDS (3: alternating runs, median kept),
# SEED (1, accuracy), DATA (accuracy: /usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist).
# supernet, memory: SPACE (spaces/darts.yaml), SN_BATCH (64), SN_SCALE (0.4444: C = 16, 32, 64, stem 48),
# SN_CELLS (1 per stage: normal-reduce-normal-reduce-normal), SN_STEPS (3 timed steps), SN_WARMUP (3),
# TORCH_LAYOUT (nhwc: channels_last, the faster for this network; nchw; auto: probe both per run),
# MODES (supernet: "darts single", the modes both sides have). See benchmarks/README.md, "Supernet training".
set -eu
mode=${1:-train}
case "$mode" in train|infer|accuracy|nb201|latency|supernet|memory) ;;
    *) echo "usage: $0 train|infer|accuracy|nb201|latency|supernet|memory" >&2; exit 2 ;; esac
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

get() { # key line
    echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

if [ "$mode" = supernet ] || [ "$mode" = memory ]; then
    SPACE=${SPACE:-$root/spaces/darts.yaml}
    SN_BATCH=${SN_BATCH:-64}
    SN_SCALE=${SN_SCALE:-0.4444}
    SN_CELLS=${SN_CELLS:-1}
    SN_STEPS=${SN_STEPS:-3}
    SN_WARMUP=${SN_WARMUP:-3}
    TORCH_LAYOUT=${TORCH_LAYOUT:-nhwc}
    MODES=${MODES:-darts single}
    bs=$BUILD/benchmarks/bench_supernet
    if [ ! -x "$bs" ] && [ -f "$BUILD/build.ninja" ]; then
        ninja -C "$BUILD" benchmarks/bench_supernet >/dev/null || { echo "building bench_supernet failed" >&2; exit 1; }
    fi
    if [ ! -x "$bs" ]; then
        [ -f "$BUILD/libnas_internal.a" ] || { echo "no $BUILD/libnas_internal.a: run meson setup/ninja first" >&2; exit 1; }
        bs=$BUILD/bench_supernet_standalone
        ${CC:-cc} -std=c11 -O2 -fopenmp -D_POSIX_C_SOURCE=200809L -I"$root/include" -I"$BUILD/include/libnas" \
            -I"$root/src" "$here/bench_supernet.c" "$BUILD/libnas_internal.a" -lyaml -lz -ldnnl -lm -lpthread -o "$bs"
    fi
    "$PYTHON" -c 'import torch, yaml' 2>/dev/null || {
        echo "$PYTHON cannot import torch and yaml: apt-get install python3-torch python3-yaml" >&2; exit 1; }
    common="--space $SPACE --batch $SN_BATCH --scale $SN_SCALE --cells $SN_CELLS --threads $THREADS"
    ours_run() { # mode steps warmup
        # shellcheck disable=SC2086
        "$bs" $common --mode "$1" --steps "$2" --warmup "$3" || { echo "bench_supernet --mode $1 failed" >&2; exit 1; }
    }
    torch_run() { # mode steps warmup
        # shellcheck disable=SC2086
        "$PYTHON" "$here/torch_supernet.py" $common --mode "$1" --steps "$2" --warmup "$3" --layout "$TORCH_LAYOUT" ||
            { echo "torch_supernet.py --mode $1 failed" >&2; exit 1; }
    }
    flat() { echo "$1" | tr '\n' ' '; }
    echo "space=$(basename "$SPACE") batch=$SN_BATCH scale=$SN_SCALE cells_per_stage=$SN_CELLS threads=$THREADS" \
        "load_average_start=$(cut -d' ' -f1 /proc/loadavg)"
fi

if [ "$mode" = memory ]; then
    # Peak RSS is per process: one process per mode. A few steps suffice (buffers are allocated at
    # plan creation; the steps show nothing grows).
    r=$(ours_run darts 2 1); d=$(flat "$r"); echo "ours  $d"
    r=$(ours_run binary 2 1); b=$(flat "$r"); echo "ours  $b"
    r=$(torch_run darts 1 1); t=$(flat "$r"); echo "torch $t"
    md=$(get supernet_peak_rss_mb "$d"); mb=$(get supernet_peak_rss_mb "$b"); mt=$(get torch_peak_rss_mb "$t")
    printf '%-8s %-7s %8s %14s\n' impl mode batch peak_rss_mb
    printf '%-8s %-7s %8s %14.1f\n' libnas darts "$SN_BATCH" "$md"
    printf '%-8s %-7s %8s %14.1f\n' libnas binary "$SN_BATCH" "$mb"
    printf '%-8s %-7s %8s %14.1f\n' torch darts "$SN_BATCH" "$mt"
    echo "(peak resident memory of each whole process, ru_maxrss; torch's includes the interpreter and libtorch)"
    awk -v a="$mb" -v b="$md" 'BEGIN { printf "proxyless_mem_ratio_vs_darts=%.2f\n", a / b }'
    exit 0
fi

if [ "$mode" = supernet ]; then
    for m in $MODES; do
        ours=""; theirs=""; ms_o=""; ms_t=""; rss_o=""; rss_t=""
        i=0
        while [ $i -lt "$ROUNDS" ]; do
            r=$(ours_run "$m" "$SN_STEPS" "$SN_WARMUP"); l=$(flat "$r")
            r=$(torch_run "$m" "$SN_STEPS" "$SN_WARMUP"); t=$(flat "$r")
            echo "round=$i ours  $l"
            echo "round=$i torch $t"
            ours="$ours $(get supernet_images_per_s "$l")"; theirs="$theirs $(get torch_images_per_s "$t")"
            ms_o="$ms_o $(get supernet_step_ms "$l")"; ms_t="$ms_t $(get torch_step_ms "$t")"
            rss_o=$(get supernet_peak_rss_mb "$l"); rss_t=$(get torch_peak_rss_mb "$t")
            po=$(get supernet_params "$l"); pt=$(get torch_params "$t")
            [ "$po" = "$pt" ] || echo "WARNING: parameter counts differ: ours $po, torch $pt" >&2
            i=$((i + 1))
        done
        mo=$(echo $ours | tr ' ' '\n' | median)
        mt=$(echo $theirs | tr ' ' '\n' | median)
        so=$(echo $ms_o | tr ' ' '\n' | median)
        st=$(echo $ms_t | tr ' ' '\n' | median)
        eval "mo_$m=\$mo; mt_$m=\$mt; so_$m=\$so; st_$m=\$st; ro_$m=\$rss_o; rt_$m=\$rss_t"
    done
    printf '%-8s %-7s %8s %8s %12s %12s %14s\n' impl mode batch threads images/s step_ms peak_rss_mb
    for m in $MODES; do
        eval "mo=\$mo_$m; mt=\$mt_$m; so=\$so_$m; st=\$st_$m; ro=\$ro_$m; rt=\$rt_$m"
        printf '%-8s %-7s %8s %8s %12.2f %12.1f %14.1f\n' libnas "$m" "$SN_BATCH" "$THREADS" "$mo" "$so" "$ro"
        printf '%-8s %-7s %8s %8s %12.2f %12.1f %14.1f\n' torch "$m" "$SN_BATCH" "$THREADS" "$mt" "$st" "$rt"
    done
    echo "(medians of $ROUNDS alternating runs per mode, peak RSS of the last; $SN_STEPS timed steps each after $SN_WARMUP warm-up;" \
        "torch layout $TORCH_LAYOUT; load_average_end=$(cut -d' ' -f1 /proc/loadavg))"
    for m in $MODES; do
        [ "$m" = darts ] && continue
        eval "mo=\$mo_$m; mt=\$mt_$m"
        awk -v a="$mo" -v b="$mt" -v m="$m" 'BEGIN { printf "supernet_%s_speedup_vs_torch=%.2f\n", m, a / b }'
    done
    case " $MODES " in *" darts "*) ;; *) exit 0 ;; esac
    awk -v a="$mo_darts" -v b="$mt_darts" 'BEGIN { printf "supernet_speedup_vs_torch=%.2f\n", a / b }'
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
