/*
 * Supernet training throughput and peak memory (benchmarks/run.sh supernet and memory).
 *
 *   bench_supernet [--space spaces/darts.yaml] [--mode darts|single|binary] [--batch 64] [--threads 2]
 *                  [--steps 20] [--warmup 3] [--scale S] [--cells N] [--stem-stride 1] [--size 28]
 *                  [--in-c 1] [--classes 10] [--seed 1]
 *
 * Builds the supernet of the space with the build overrides (channel scale, cells per stage) in one
 * mixed mode and times weight-training steps (forward, backward, SGD) on a fixed batch of random
 * Fashion-MNIST-shaped images (the throughput of a step does not depend on the pixel values):
 *   darts    every path weighted by softmax(alpha) (DARTS)
 *   single   one uniformly sampled path per mixed node per step (SPOS, GDAS's forward)
 *   binary   ProxylessNAS's binarized paths: two sampled paths per mixed node, the rest unused
 * Prints supernet_images_per_s=, supernet_step_ms=, supernet_peak_rss_mb= (the process's peak resident
 * memory: run one mode per process to compare modes) and the plan's parameter and memory counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/internal.h"
#include "libnas/space.h"
#include "nn/build.h"
#include "nn/exec.h"
#include "dnnl/dnn.h"

typedef struct args {
    const char *space, *mode;
    int batch, threads, steps, warmup, cells, stem_stride, size, in_c, classes;
    double scale;
    uint64_t seed;
} args_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_args(int argc, char **argv, args_t *a)
{
    *a = (args_t){ "spaces/darts.yaml", "darts", 64, 2, 20, 3, 0, 1, 28, 1, 10, 0.0, 1 };
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "bench_supernet: %s needs a value\n", k);
            return -1;
        }
        i++;
        if (!strcmp(k, "--space"))
            a->space = v;
        else if (!strcmp(k, "--mode"))
            a->mode = v;
        else if (!strcmp(k, "--batch"))
            a->batch = atoi(v);
        else if (!strcmp(k, "--threads"))
            a->threads = atoi(v);
        else if (!strcmp(k, "--steps"))
            a->steps = atoi(v);
        else if (!strcmp(k, "--warmup"))
            a->warmup = atoi(v);
        else if (!strcmp(k, "--cells"))
            a->cells = atoi(v);
        else if (!strcmp(k, "--stem-stride"))
            a->stem_stride = atoi(v);
        else if (!strcmp(k, "--size"))
            a->size = atoi(v);
        else if (!strcmp(k, "--in-c"))
            a->in_c = atoi(v);
        else if (!strcmp(k, "--classes"))
            a->classes = atoi(v);
        else if (!strcmp(k, "--scale"))
            a->scale = atof(v);
        else if (!strcmp(k, "--seed"))
            a->seed = strtoull(v, NULL, 10);
        else {
            fprintf(stderr, "bench_supernet: unknown option %s\n", k);
            return -1;
        }
    }
    if (a->batch < 1 || a->steps < 1 || a->warmup < 0 || a->threads < 1 || a->size < 4) {
        fprintf(stderr, "bench_supernet: bad option value\n");
        return -1;
    }
    return 0;
}

/* Random paths for the sampled modes: one uniform path (single), or two distinct ones (binary). */
static nas_status_t sample_paths(nas__plan_t *plan, nas_rng_t *rng, const char *mode)
{
    uint32_t nm = nas__plan_num_mixed(plan);
    for (uint32_t m = 0; m < nm; m++) {
        uint32_t np = nas__plan_mixed_paths(plan, m);
        uint32_t p = (uint32_t)nas_rng_below(rng, np);
        nas_status_t st;
        if (!strcmp(mode, "binary")) {
            uint32_t q = np > 1 ? (p + 1 + (uint32_t)nas_rng_below(rng, np - 1)) % np : p;
            st = nas__plan_set_binary_paths(plan, m, p, q);
        } else {
            st = nas__plan_set_path(plan, m, p);
        }
        if (st != NAS_OK)
            return st;
    }
    return NAS_OK;
}

int main(int argc, char **argv)
{
    args_t a;
    if (parse_args(argc, argv, &a) != 0) {
        fprintf(stderr, "usage: %s [--space F] [--mode darts|single|binary] [--batch N] [--threads N] [--steps N] "
                        "[--warmup N] [--scale S] [--cells N] [--stem-stride N] [--size N] [--in-c N] [--classes N] "
                        "[--seed N]\n", argv[0]);
        return 2;
    }
    nas__mixed_mode_t mode;
    if (!strcmp(a.mode, "darts"))
        mode = NAS__MIXED_WEIGHTED;
    else if (!strcmp(a.mode, "single"))
        mode = NAS__MIXED_SINGLE;
    else if (!strcmp(a.mode, "binary"))
        mode = NAS__MIXED_BINARY;
    else {
        fprintf(stderr, "bench_supernet: unknown mode %s\n", a.mode);
        return 2;
    }
    nas_context_opts_t co = NAS_CONTEXT_OPTS_INIT;
    co.num_threads = a.threads;
    co.seed = a.seed;
    nas_context_t *ctx = NULL;
    nas_space_t *space = NULL;
    if (nas_context_create(&ctx, &co) != NAS_OK || nas_space_load_file(&space, ctx, a.space) != NAS_OK) {
        fprintf(stderr, "bench_supernet: %s\n", ctx ? nas_context_errmsg(ctx) : "no context");
        return 1;
    }
    nas__build_opts_t bo = NAS__BUILD_OPTS_INIT;
    bo.in_c = a.in_c;
    bo.in_h = bo.in_w = a.size;
    bo.num_classes = a.classes;
    bo.channel_scale = a.scale;
    bo.cells_per_stage = a.cells;
    bo.stem_stride = a.stem_stride;
    char err[NAS_ERRMSG_CAP] = "";
    nas__graph_t *g = NULL;
    nas__dev_t *dev = NULL;
    nas__plan_t *plan = NULL;
    nas_rng_t *rng = NULL;
    nas_status_t st = nas__build_supernet(&g, space, &bo, mode, err);
    if (st != NAS_OK) {
        fprintf(stderr, "bench_supernet: build: %s: %s\n", nas_status_name(st), err);
        return 1;
    }
    nas__plan_opts_t po = NAS__PLAN_OPTS_INIT;
    po.batch = a.batch;
    po.train = true;
    po.init_stream = a.seed;
    double t0 = now_s();
    if ((st = nas__dev_create(&dev, ctx)) == NAS_OK)
        st = nas__plan_create(&plan, dev, g, &po);
    nas__graph_destroy(g);
    if (st != NAS_OK) {
        fprintf(stderr, "bench_supernet: plan: %s: %s\n", nas_status_name(st), nas_context_errmsg(ctx));
        return 1;
    }
    double t_plan = now_s() - t0;
    size_t nx = (size_t)a.batch * (size_t)a.in_c * (size_t)a.size * (size_t)a.size;
    float *x = malloc(nx * sizeof *x);
    int32_t *y = malloc((size_t)a.batch * sizeof *y);
    if (!x || !y || nas_rng_create(&rng, ctx, a.seed, 0x5e9e) != NAS_OK) {
        fprintf(stderr, "bench_supernet: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < nx; i++)
        x[i] = (float)nas_rng_normal(rng);
    for (int i = 0; i < a.batch; i++)
        y[i] = (int32_t)nas_rng_below(rng, (uint64_t)a.classes);
    nas__optim_cfg_t oc;
    nas__optim_defaults(&oc);
    oc.kind = NAS__OPT_SGD;
    oc.lr = 0.025f;
    oc.momentum = 0.9f;
    oc.weight_decay = 3e-4f;
    double tsum = 0.0, loss = 0.0;
    for (int s = 0; s < a.warmup + a.steps; s++) {
        if (mode != NAS__MIXED_WEIGHTED && (st = sample_paths(plan, rng, a.mode)) != NAS_OK)
            break;
        double ts = now_s();
        if ((st = nas__plan_train_step(plan, x, y, &oc, &loss)) != NAS_OK)
            break;
        if (s >= a.warmup)
            tsum += now_s() - ts;
    }
    if (st != NAS_OK) {
        fprintf(stderr, "bench_supernet: step: %s: %s\n", nas_status_name(st), nas__plan_errmsg(plan));
        return 1;
    }
    nas__plan_stats_t ps;
    nas__plan_stats(plan, &ps);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double step_ms = 1e3 * tsum / a.steps;
    printf("supernet_mode=%s batch=%d threads=%d mixed=%u plan_s=%.2f loss=%.4f\n", a.mode, a.batch, a.threads,
           nas__plan_num_mixed(plan), t_plan, loss);
    printf("supernet_params=%lld supernet_plan_mb=%.1f\n", (long long)ps.params,
           (double)(ps.activation_bytes + ps.param_bytes) / (1024.0 * 1024.0));
    printf("supernet_step_ms=%.2f\n", step_ms);
    printf("supernet_peak_rss_mb=%.1f\n", (double)ru.ru_maxrss / 1024.0);
    printf("supernet_images_per_s=%.1f\n", 1e3 * a.batch / step_ms);
    free(x);
    free(y);
    nas_rng_destroy(rng);
    nas__plan_destroy(plan);
    nas__dev_destroy(dev);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
    return 0;
}
