#!/bin/sh
# The NAS-Bench-201 study: every search strategy on the CIFAR-10 test-accuracy table, RUNS runs
# each, budgets of 100 and 300 queries (see benchmarks/nb201_study.c for what is measured and the
# strategies' settings).
#
#   benchmarks/nb201.sh                       # table + last line nb201_rea_mean_at_100=XX.XX
#   RUNS=50 benchmarks/nb201.sh --strategies random,evolution
#
# Runs from the repository root (the study reads spaces/nas-bench-201.yaml and
# data/nb201/cifar10_test.csv) and writes out/nb201-study/{nb201_anytime.csv,nb201_anytime.svg,
# nb201_summary.csv}. Extra arguments go to nb201_study.
#
# Environment: BUILD (meson build dir, default ./build), RUNS (500), OUT (out/nb201-study).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
BUILD=${BUILD:-$root/build}
RUNS=${RUNS:-500}
OUT=${OUT:-out/nb201-study}

study=$BUILD/benchmarks/nb201_study
if [ -f "$BUILD/build.ninja" ] && command -v ninja >/dev/null 2>&1; then
    ninja -C "$BUILD" benchmarks/nb201_study >/dev/null 2>&1 ||
        echo "nb201.sh: warning: could not rebuild $study; using what is there" >&2
fi
if [ ! -x "$study" ]; then
    # benchmarks/ not wired into the top meson.build: build the study against the public library.
    [ -f "$BUILD/libnas.so" ] || { echo "no $BUILD/libnas.so: run meson setup/ninja first" >&2; exit 1; }
    study=$BUILD/nb201_study_standalone
    ${CC:-cc} -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -I"$root/include" -I"$BUILD/include/libnas" \
        -I"$root/src/tools" "$here/nb201_study.c" "$root/src/tools/svg.c" -L"$BUILD" -lnas -lm \
        -Wl,-rpath,"$BUILD" -o "$study"
fi

cd "$root"
exec "$study" --runs "$RUNS" --out "$OUT" "$@"
