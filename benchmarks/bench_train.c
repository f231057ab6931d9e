/*
 * Training throughput and batch-1 inference latency of the reference network on the engine
 * (src/nn over src/dnnl), printed as key=value lines that benchmarks/run.sh compares with PyTorch.
 *
 *   bench_train train [--batch 128] [--threads 2] [--steps 30] [--warmup 5] [--describe]
 *   bench_train infer [--threads 2] [--reps 200] [--describe]
 *
 * Network: conv3x3(1->32)+BN+ReLU, conv3x3(32->32)+BN+ReLU, maxpool2, conv3x3(32->64)+BN+ReLU,
 * conv3x3(64->64)+BN+ReLU, maxpool2, conv3x3(64->128)+BN+ReLU, global average pool, linear(128->10);
 * 28x28x1 inputs, SGD with momentum 0.9. Synthetic data: throughput does not depend on the values.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "nn/exec.h"
#include "nn/graph.h"

#define FP32_PEAK_GFLOPS 425.0 /* 2 cores x 2 AVX-512 FMA units x 16 lanes x 2 x ~3.3 GHz */

static int32_t block(nas__graph_t *g, int32_t x, int32_t c)
{
    x = nas__graph_add_conv(g, x, c, 3, 1, 1, 1, false);
    return nas__graph_add_relu(g, nas__graph_add_bn(g, x));
}

static nas__graph_t *reference_net(nas_context_t *ctx, int64_t *first_flops)
{
    nas__graph_t *g = NULL;
    if (nas__graph_create(&g, ctx) != NAS_OK)
        return NULL;
    int32_t x = nas__graph_add_input(g, 1, 28, 28);
    x = block(g, x, 32);
    *first_flops = nas__graph_node(g, x - 2)->flops;
    x = block(g, x, 32);
    x = nas__graph_add_maxpool(g, x, 2, 2, 0);
    x = block(g, x, 64);
    x = block(g, x, 64);
    x = nas__graph_add_maxpool(g, x, 2, 2, 0);
    x = block(g, x, 128);
    x = nas__graph_add_gap(g, x);
    x = nas__graph_add_fc(g, x, 10, true);
    nas__graph_add_loss(g, x, 0.0f);
    if (nas__graph_status(g) != NAS_OK) {
        fprintf(stderr, "graph: %s\n", nas__graph_errmsg(g));
        nas__graph_destroy(g);
        return NULL;
    }
    return g;
}

static void describe(const nas__plan_t *p, nas_context_t *ctx)
{
    nas__sb_t sb;
    nas__sb_init(&sb, ctx);
    nas__plan_describe(p, &sb);
    nas__plan_stats_t s;
    nas__plan_stats(p, &s);
    fprintf(stderr, "%s", sb.data ? sb.data : "");
    fprintf(stderr, "ops=%u primitives=%llu fused_bn_relu=%u step_reorders=%u input_reorders=%u weight_reorders=%u act_MB=%.1f\n",
            s.ops, (unsigned long long)s.primitives, s.fused_bn_relu, s.step_reorders, s.input_reorders, s.weight_reorders,
            s.activation_bytes / 1e6);
    nas__sb_free(&sb);
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "train") && strcmp(argv[1], "infer"))) {
        fprintf(stderr, "usage: %s train|infer [--batch N] [--threads N] [--steps N] [--warmup N] [--reps N] "
                        "[--describe]\n", argv[0]);
        return 2;
    }
    bool train = strcmp(argv[1], "train") == 0, desc = false;
    int batch = 128, threads = 2, steps = 30, warmup = 5, reps = 200;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--describe"))
            desc = true;
        else if (i + 1 < argc && !strcmp(argv[i], "--batch"))
            batch = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--threads"))
            threads = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--steps"))
            steps = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--warmup"))
            warmup = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--reps"))
            reps = atoi(argv[++i]);
    }
    if (!train)
        batch = 1;
    nas_context_opts_t co = NAS_CONTEXT_OPTS_INIT;
    co.num_threads = threads;
    co.seed = 1;
    nas_context_t *ctx = NULL;
    nas__dev_t *dev = NULL;
    nas__graph_t *g = NULL;
    nas__plan_t *p = NULL;
    int64_t first = 0;
    if (nas_context_create(&ctx, &co) != NAS_OK || nas__dev_create(&dev, ctx) != NAS_OK ||
        !(g = reference_net(ctx, &first))) {
        fprintf(stderr, "setup failed: %s\n", nas_context_errmsg(ctx));
        return 1;
    }
    nas__plan_opts_t po = NAS__PLAN_OPTS_INIT;
    po.batch = batch;
    po.train = train;
    if (nas__plan_create(&p, dev, g, &po) != NAS_OK) {
        fprintf(stderr, "compile failed: %s\n", nas_context_errmsg(ctx));
        return 1;
    }
    if (desc)
        describe(p, ctx);
    size_t n_in = (size_t)batch * 28 * 28;
    float *x = malloc(n_in * sizeof *x);
    int32_t *y = malloc((size_t)batch * sizeof *y);
    nas_rng_t *rng = NULL;
    nas_rng_create(&rng, ctx, 3, 0);
    for (size_t i = 0; i < n_in; i++)
        x[i] = (float)nas_rng_normal(rng);
    for (int i = 0; i < batch; i++)
        y[i] = (int32_t)nas_rng_below(rng, 10);
    double fwd_flops = (double)nas__graph_flops(g);
    int rc = 0;
    if (train) {
        nas__optim_cfg_t oc;
        nas__optim_defaults(&oc);
        oc.lr = 0.05f;
        double loss = 0, t0 = 0;
        for (int i = 0; i < warmup + steps; i++) {
            if (i == warmup)
                t0 = nas__now();
            nas_status_t st = nas__plan_train_step(p, x, y, &oc, &loss);
            if (st != NAS_OK) {
                fprintf(stderr, "step %d: %s\n", i, nas__plan_errmsg(p));
                rc = 1;
                break;
            }
        }
        double dt = nas__now() - t0;
        /* forward + backward weights everywhere + backward data except for the first conv */
        double train_flops = 3.0 * fwd_flops - (double)first;
        double ips = batch * steps / dt, gf = ips * train_flops / 1e9;
        printf("libnas mode=train batch=%d threads=%d img_per_s=%.1f ms_per_step=%.3f gflops=%.1f peak_frac=%.3f "
               "loss=%.4f\n", batch, threads, ips, dt / steps * 1e3, gf, gf / FP32_PEAK_GFLOPS, loss);
    } else {
        nas__plan_set_input(p, x);
        for (int i = 0; i < 50; i++)
            nas__plan_forward(p, false);
        double times[7];
        for (int b = 0; b < 7; b++) {
            double t0 = nas__now();
            for (int i = 0; i < reps; i++)
                nas__plan_forward(p, false);
            times[b] = (nas__now() - t0) / reps;
        }
        for (int i = 0; i < 7; i++)
            for (int j = i + 1; j < 7; j++)
                if (times[j] < times[i]) {
                    double t = times[i];
                    times[i] = times[j];
                    times[j] = t;
                }
        double ms = times[3] * 1e3;
        printf("libnas mode=infer batch=1 threads=%d ms_per_img=%.4f gflops=%.1f\n", threads, ms,
               fwd_flops / (ms * 1e-3) / 1e9);
    }
    nas_rng_destroy(rng);
    free(x);
    free(y);
    nas__plan_destroy(p);
    nas__graph_destroy(g);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
    return rc;
}
