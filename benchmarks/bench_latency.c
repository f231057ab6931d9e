/*
 * The latency lookup table (src/nn/latency.h) against measured whole networks: build the table of a
 * chain space at batch 1 (report its build time), sample random architectures, time each whole
 * network with nas_model_latency (the public API's measurement) and compare with the prediction.
 *
 *   bench_latency [--space spaces/proxylessnas.yaml] [--threads 2] [--archs 20] [--seed 7]
 *                 [--size 224] [--classes 1000] [--runs 40] [--calib 6] [--lat-runs 50] [--rounds 3]
 *                 [--cache FILE]
 *
 * Each network is measured in --rounds rounds (all networks once per round, so a burst of load from
 * other processes hits one round, not one network); its latency is the smallest of its per-round
 * medians (nas_model_latency's median_ms), and its min_ms is the smallest run of all rounds.
 * Prints one line per architecture and the summary lines latency_lut_build_s=, latency_lut_mean_error_pct=
 * and, last, latency_lut_max_error_pct=. --cache loads the table from FILE when its key matches
 * (else builds and writes it). The calibration networks use seed 1 inside the table; the compared
 * architectures use --seed on another stream, so they are not the calibration networks.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "libnas/model.h"
#include "nn/latency.h"

typedef struct args {
    const char *space, *cache;
    int threads, archs, size, classes, runs, calib, lat_runs, rounds;
    uint64_t seed;
} args_t;

static int parse_args(int argc, char **argv, args_t *a)
{
    *a = (args_t){ "spaces/proxylessnas.yaml", NULL, 2, 20, 224, 1000, 40, 6, 50, 3, 7 };
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "bench_latency: %s needs a value\n", k);
            return -1;
        }
        i++;
        if (!strcmp(k, "--space"))
            a->space = v;
        else if (!strcmp(k, "--cache"))
            a->cache = v;
        else if (!strcmp(k, "--threads"))
            a->threads = atoi(v);
        else if (!strcmp(k, "--archs"))
            a->archs = atoi(v);
        else if (!strcmp(k, "--size"))
            a->size = atoi(v);
        else if (!strcmp(k, "--classes"))
            a->classes = atoi(v);
        else if (!strcmp(k, "--runs"))
            a->runs = atoi(v);
        else if (!strcmp(k, "--calib"))
            a->calib = atoi(v);
        else if (!strcmp(k, "--lat-runs"))
            a->lat_runs = atoi(v);
        else if (!strcmp(k, "--rounds"))
            a->rounds = atoi(v);
        else if (!strcmp(k, "--seed"))
            a->seed = strtoull(v, NULL, 10);
        else {
            fprintf(stderr, "bench_latency: unknown option %s\n", k);
            return -1;
        }
    }
    if (a->threads < 1 || a->archs < 1 || a->size < 8 || a->classes < 2 || a->runs < 3 || a->calib < 0 ||
        a->lat_runs < 3 || a->rounds < 1) {
        fprintf(stderr, "bench_latency: bad option value\n");
        return -1;
    }
    return 0;
}

/* Measure the whole network of arch with nas_model_latency. */
static nas_status_t measure_arch(const nas_arch_t *arch, const args_t *a, double *ms, double *min_ms)
{
    nas_model_opts_t mo = NAS_MODEL_OPTS_INIT;
    mo.channels = 3;
    mo.height = mo.width = (uint32_t)a->size;
    mo.num_classes = (uint32_t)a->classes;
    nas_model_t *m = NULL;
    nas_status_t st = nas_model_create(&m, arch, &mo);
    if (st != NAS_OK)
        return st;
    nas_latency_opts_t lo = NAS_LATENCY_OPTS_INIT;
    lo.warmup = 10;
    lo.runs = (uint32_t)a->lat_runs;
    lo.max_seconds = 0.0;
    nas_latency_t r = { sizeof r, 0, 0, 0, 0, 0, 0 };
    if ((st = nas_model_latency(m, &lo, &r)) == NAS_OK) {
        *ms = fmin(*ms, r.median_ms);
        *min_ms = fmin(*min_ms, r.min_ms);
    }
    nas_model_destroy(m);
    return st;
}

/* The 1-minute load average, to tell a quiet run from a loaded one (-1 if unknown). */
static double loadavg(void)
{
    double l = -1.0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1.0;
        fclose(f);
    }
    return l;
}

static int compare(nas__latlut_t *t, nas_space_t *space, nas_context_t *ctx, const args_t *a)
{
    nas_arch_t **arch = calloc((size_t)a->archs, sizeof *arch);
    double *meas = malloc(2 * (size_t)a->archs * sizeof *meas), *mins = meas ? meas + a->archs : NULL;
    nas_rng_t *rng = NULL;
    if (!arch || !meas || nas_rng_create(&rng, ctx, a->seed, 0xbe7c) != NAS_OK)
        return 1;
    for (int i = 0; i < a->archs; i++) {
        meas[i] = mins[i] = INFINITY;
        if (nas_arch_create(&arch[i], space) != NAS_OK || nas_space_sample(space, arch[i], rng) != NAS_OK)
            return 1;
    }
    for (int r = 0; r < a->rounds; r++)
        for (int i = 0; i < a->archs; i++) {
            nas_status_t st = measure_arch(arch[i], a, &meas[i], &mins[i]);
            if (st != NAS_OK) {
                fprintf(stderr, "arch %d: %s: %s\n", i, nas_status_name(st), nas_context_errmsg(ctx));
                return 1;
            }
        }
    double max_err = 0.0, sum_err = 0.0, sum_signed = 0.0, max_min = 0.0;
    char str[2048];
    for (int i = 0; i < a->archs; i++) {
        double pred = 0.0;
        if (nas__latlut_predict(t, arch[i], &pred) != NAS_OK)
            return 1;
        double err = 100.0 * (pred - meas[i]) / meas[i], err_min = 100.0 * (pred - mins[i]) / mins[i];
        max_err = fmax(max_err, fabs(err));
        max_min = fmax(max_min, fabs(err_min));
        sum_err += fabs(err);
        sum_signed += err;
        if (nas_arch_to_string(arch[i], 0, str, sizeof str, NULL) != NAS_OK)
            snprintf(str, sizeof str, "?");
        printf("arch=%02d measured_ms=%.3f predicted_ms=%.3f error_pct=%+.1f min_ms=%.3f error_vs_min_pct=%+.1f %s\n",
               i, meas[i], pred, err, mins[i], err_min, str);
        nas_arch_destroy(arch[i]);
    }
    printf("load_average_end=%.2f\n", loadavg());
    printf("latency_lut_max_error_vs_min_pct=%.1f\n", max_min);
    printf("latency_lut_mean_signed_error_pct=%+.1f\n", sum_signed / a->archs);
    printf("latency_lut_mean_error_pct=%.1f\n", sum_err / a->archs);
    printf("latency_lut_max_error_pct=%.1f\n", max_err);
    nas_rng_destroy(rng);
    free(arch);
    free(meas);
    return 0;
}

int main(int argc, char **argv)
{
    args_t a;
    if (parse_args(argc, argv, &a) != 0)
        return 2;
    nas_context_opts_t co = NAS_CONTEXT_OPTS_INIT;
    co.num_threads = a.threads;
    co.seed = 1;
    nas_context_t *ctx = NULL;
    nas_space_t *space = NULL;
    nas__dev_t *dev = NULL;
    nas__latlut_t *t = NULL;
    char err[NAS_ERRMSG_CAP] = "";
    if (nas_context_create(&ctx, &co) != NAS_OK || nas_space_load_file(&space, ctx, a.space) != NAS_OK ||
        nas__dev_create(&dev, ctx) != NAS_OK) {
        fprintf(stderr, "setup failed: %s\n", ctx ? nas_context_errmsg(ctx) : "no context");
        return 1;
    }
    nas__latlut_opts_t lo = NAS__LATLUT_OPTS_INIT;
    lo.build.in_h = lo.build.in_w = a.size;
    lo.build.num_classes = a.classes;
    lo.runs = (uint32_t)a.runs;
    lo.calib_archs = (uint32_t)a.calib;
    bool rebuilt = true;
    double load0 = loadavg(), t0 = nas__now();
    nas_status_t st = a.cache ? nas__latlut_open(&t, dev, space, &lo, a.cache, &rebuilt, err)
                              : nas__latlut_build(&t, dev, space, &lo, err);
    double secs = nas__now() - t0;
    if (!t) {
        fprintf(stderr, "latency table: %s: %s\n", nas_status_name(st), err);
        return 1;
    }
    if (st != NAS_OK)
        fprintf(stderr, "latency table cache: %s: %s\n", nas_status_name(st), err);
    nas__latlut_info_t info;
    nas__latlut_info(t, &info);
    printf("space=%s threads=%d input=3x%dx%d classes=%d load_average_start=%.2f\n", nas_space_name(space),
           a.threads, a.size, a.size, a.classes, load0);
    printf("key=%s\n", nas__latlut_key_of(t));
    printf("latency_lut_%s_s=%.2f parts_measured=%u calibration_networks=%u scale=%.4f overhead_ms=%.4f\n",
           rebuilt ? "build" : "load", secs, info.measured, info.calibrated, info.scale, info.overhead_ms);
    fflush(stdout);
    int rc = compare(t, space, ctx, &a);
    nas__latlut_destroy(t);
    nas__dev_destroy(dev);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
    return rc;
}
