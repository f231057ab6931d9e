/*
 * The reference network on the engine (src/nn over src/dnnl): training throughput and batch-1
 * inference latency, printed as key=value lines that benchmarks/run.sh compares with PyTorch, and
 * the test accuracy it reaches when trained on Fashion-MNIST.
 *
 *   bench_train train [--batch 128] [--threads 2] [--steps 30] [--warmup 5] [--width 1] [--describe]
 *   bench_train infer [--threads 2] [--reps 200] [--describe]
 *   bench_train accuracy [--epochs 3] [--batch 128] [--threads 2] [--lr 0.1] [--seed 1] [--momentum 0.9]
 *                        [--nesterov 1] [--wd 5e-4] [--warmup-epochs 0.2] [--smoothing 0] [--pad 0]
 *                        [--hflip 0] [--data /usr/share/datasets/fashion-mnist]
 *
 * Network: conv3x3(1->32)+BN+ReLU, conv3x3(32->32)+BN+ReLU, maxpool2, conv3x3(32->64)+BN+ReLU,
 * conv3x3(64->64)+BN+ReLU, maxpool2, conv3x3(64->128)+BN+ReLU, global average pool, linear(128->10);
 * 28x28x1 inputs, SGD with momentum 0.9. train and infer use synthetic data (throughput does not
 * depend on the values); accuracy trains on the 60,000 Fashion-MNIST training images and evaluates
 * on the 10,000 test images after every epoch. Its defaults are the recipe of benchmarks/README.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "data/loader.h"
#include "nn/exec.h"
#include "nn/graph.h"

#define FP32_PEAK_GFLOPS 425.0 /* 2 cores x 2 AVX-512 FMA units x 16 lanes x 2 x ~3.3 GHz */
#define EVAL_BATCH 250         /* divides the 10,000 test images: no tail plan needed for them */
#define MAX_PATH 4096

typedef enum bench_mode { MODE_TRAIN, MODE_INFER, MODE_ACCURACY } bench_mode_t;

/* Command line of every mode (each mode reads its own fields). */
typedef struct args {
    bench_mode_t mode;
    int batch, threads, steps, warmup, reps;
    bool desc;
    /* accuracy */
    int epochs, pad;
    bool nesterov, hflip;
    double lr, momentum, wd, warmup_epochs, smoothing;
    uint64_t seed;
    const char *data;
} args_t;

/* --width: every channel count of the reference network times this (0.25 gives 8, 8, 16, 16, 32). */
static double g_width = 1.0;

static int32_t block(nas__graph_t *g, int32_t x, int32_t c)
{
    c = (int32_t)(c * g_width + 0.5);
    x = nas__graph_add_conv(g, x, c, 3, 1, 1, 1, false);
    return nas__graph_add_relu(g, nas__graph_add_bn(g, x));
}

/* The reference network ending in a softmax cross-entropy with `smoothing`; first_flops (may be
 * NULL) gets the forward FLOPs of the first conv. */
static nas__graph_t *reference_net(nas_context_t *ctx, float smoothing, int64_t *first_flops)
{
    nas__graph_t *g = NULL;
    if (nas__graph_create(&g, ctx) != NAS_OK)
        return NULL;
    int32_t x = nas__graph_add_input(g, 1, 28, 28);
    x = block(g, x, 32);
    if (first_flops && x >= 2)
        *first_flops = nas__graph_node(g, x - 2)->flops;
    x = block(g, x, 32);
    x = nas__graph_add_maxpool(g, x, 2, 2, 0);
    x = block(g, x, 64);
    x = block(g, x, 64);
    x = nas__graph_add_maxpool(g, x, 2, 2, 0);
    x = block(g, x, 128);
    x = nas__graph_add_gap(g, x);
    x = nas__graph_add_fc(g, x, 10, true);
    nas__graph_add_loss(g, x, smoothing);
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

/* ---------------------------------------------------------------------- */
/* Throughput and latency on synthetic data                                */

static int speed(const args_t *a)
{
    bool train = a->mode == MODE_TRAIN;
    int batch = train ? a->batch : 1, threads = a->threads, steps = a->steps, warmup = a->warmup, reps = a->reps;
    nas_context_opts_t co = NAS_CONTEXT_OPTS_INIT;
    co.num_threads = threads;
    co.seed = 1;
    nas_context_t *ctx = NULL;
    nas__dev_t *dev = NULL;
    nas__graph_t *g = NULL;
    nas__plan_t *p = NULL;
    int64_t first = 0;
    if (nas_context_create(&ctx, &co) != NAS_OK || nas__dev_create(&dev, ctx) != NAS_OK ||
        !(g = reference_net(ctx, 0.0f, &first))) {
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
    if (a->desc)
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

/* ---------------------------------------------------------------------- */
/* Accuracy on Fashion-MNIST                                               */

typedef struct acc {
    nas_context_t *ctx;
    nas__dev_t *dev;
    nas_dataset_t *train, *test;
    nas__loader_t *tl, *el;        /* training batches (shuffled, augmented), test batches (in order) */
    nas__plan_t *tp;               /* training plan */
    nas__plan_t *ep, *tail;        /* inference plans: full test batches, the last partial one (or NULL) */
    bool copy;                     /* the inference plans hold copies of the state: refresh before use */
    nas__optim_cfg_t oc;
    float *x;
    int32_t *y;
} acc_t;

/* Both splits through the public data API, normalized with the training set's mean and std. */
static nas_status_t load_data(acc_t *c, const args_t *a)
{
    char img[MAX_PATH], lab[MAX_PATH];
    nas_status_t st;
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", a->data);
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", a->data);
    if ((st = nas_dataset_load_idx(&c->train, c->ctx, img, lab)) != NAS_OK)
        return st;
    snprintf(img, sizeof img, "%s/t10k-images-idx3-ubyte.gz", a->data);
    snprintf(lab, sizeof lab, "%s/t10k-labels-idx1-ubyte.gz", a->data);
    if ((st = nas_dataset_load_idx(&c->test, c->ctx, img, lab)) != NAS_OK)
        return st;
    float mean, std;
    if ((st = nas_dataset_compute_stats(c->train, &mean, &std, 1)) != NAS_OK ||
        (st = nas_dataset_set_normalization(c->train, &mean, &std, 1)) != NAS_OK ||
        (st = nas_dataset_set_normalization(c->test, &mean, &std, 1)) != NAS_OK ||
        (st = nas_dataset_set_augmentation(c->train, (uint32_t)a->pad, a->hflip)) != NAS_OK)
        return nas__ctx_fail(c->ctx, st, "%s", nas_dataset_errmsg(c->train));
    printf("data train=%llu test=%llu mean=%.4f std=%.4f\n", (unsigned long long)nas_dataset_num_samples(c->train),
           (unsigned long long)nas_dataset_num_samples(c->test), mean, std);
    return NAS_OK;
}

/* An inference plan sharing the training plan's state; a plan with its own copy if the layouts differ. */
static nas_status_t eval_plan(acc_t *c, const nas__graph_t *g, int32_t batch, nas__plan_t **out)
{
    nas__plan_opts_t po = NAS__PLAN_OPTS_INIT;
    po.batch = batch;
    po.share = c->tp;
    nas_status_t st = nas__plan_create(out, c->dev, g, &po);
    if (st != NAS_E_UNSUPPORTED)
        return st;
    po.share = NULL;
    c->copy = true;
    return nas__plan_create(out, c->dev, g, &po);
}

/* Plans, loaders, buffers and the schedule: SGD, linear warm-up then cosine to 0 over all the steps. */
static nas_status_t setup(acc_t *c, const args_t *a)
{
    nas_status_t st = NAS_E_NOMEM;
    uint32_t flags = NAS__LOADER_SHUFFLE | NAS__LOADER_DROP_LAST | (a->pad || a->hflip ? NAS__LOADER_AUGMENT : 0u);
    nas__graph_t *gt = reference_net(c->ctx, (float)a->smoothing, NULL), *ge = reference_net(c->ctx, 0.0f, NULL);
    if (!gt || !ge)
        goto out_graphs;
    nas__plan_opts_t po = NAS__PLAN_OPTS_INIT;
    po.batch = a->batch;
    po.train = true;
    uint64_t n_test = nas_dataset_num_samples(c->test);
    if ((st = nas__plan_create(&c->tp, c->dev, gt, &po)) != NAS_OK ||
        (st = eval_plan(c, ge, EVAL_BATCH, &c->ep)) != NAS_OK ||
        (n_test % EVAL_BATCH && (st = eval_plan(c, ge, (int32_t)(n_test % EVAL_BATCH), &c->tail)) != NAS_OK) ||
        (st = nas__loader_create(&c->tl, c->train, (uint32_t)a->batch, flags, a->seed)) != NAS_OK ||
        (st = nas__loader_create(&c->el, c->test, EVAL_BATCH, 0, 0)) != NAS_OK)
        goto out_graphs;
    size_t rows = (size_t)(a->batch > EVAL_BATCH ? a->batch : EVAL_BATCH);
    c->x = malloc(rows * 28 * 28 * sizeof *c->x);
    c->y = malloc(rows * sizeof *c->y);
    if (!c->x || !c->y) {
        st = nas__ctx_fail(c->ctx, NAS_E_NOMEM, "out of memory for a batch of %zu", rows);
        goto out_graphs;
    }
    printf("plans train_batch=%d eval_batch=%d eval_state=%s\n", a->batch, EVAL_BATCH, c->copy ? "copied" : "shared");
    uint64_t spe = nas__loader_batches_per_epoch(c->tl);
    nas__optim_defaults(&c->oc);
    c->oc.lr = (float)a->lr;
    c->oc.momentum = (float)a->momentum;
    c->oc.nesterov = a->nesterov && a->momentum > 0.0;
    c->oc.weight_decay = (float)a->wd;
    c->oc.sched = NAS__LR_COSINE;
    c->oc.warmup_steps = (int64_t)llround(a->warmup_epochs * (double)spe);
    c->oc.total_steps = (int64_t)spe * a->epochs;
    c->oc.lr_min = 0.0f;
out_graphs:
    nas__graph_destroy(ge);
    nas__graph_destroy(gt);
    return st;
}

/* One pass over the shuffled training set: mean loss and accuracy (percent) of its steps. */
static nas_status_t train_epoch(acc_t *c, int epoch, double *loss, double *accuracy)
{
    nas_status_t st;
    if (epoch > 0 && (st = nas__loader_start_epoch(c->tl, (uint64_t)epoch)) != NAS_OK)
        return nas__ctx_fail(c->ctx, st, "%s", nas__loader_errmsg(c->tl));
    double sum = 0.0;
    uint64_t steps = 0, correct = 0, seen = 0;
    uint32_t count;
    while ((st = nas__loader_next(c->tl, c->x, c->y, &count)) == NAS_OK) {
        double l = 0.0;
        if ((st = nas__plan_train_step(c->tp, c->x, c->y, &c->oc, &l)) != NAS_OK)
            return nas__ctx_fail(c->ctx, st, "epoch %d step %llu: %s", epoch + 1, (unsigned long long)steps + 1,
                                 nas__plan_errmsg(c->tp));
        sum += l;
        correct += (uint64_t)nas__plan_correct(c->tp);
        seen += count;
        steps++;
    }
    if (st != NAS_E_EXHAUSTED)
        return nas__ctx_fail(c->ctx, st, "%s", nas__loader_errmsg(c->tl));
    *loss = steps ? sum / (double)steps : NAN;
    *accuracy = seen ? 100.0 * (double)correct / (double)seen : NAN;
    return NAS_OK;
}

/* Every test image once, batch norm with its running statistics: mean cross-entropy and accuracy. */
static nas_status_t evaluate(acc_t *c, double *loss, double *accuracy)
{
    nas_status_t st;
    if (c->copy && ((st = nas__plan_copy_state(c->ep, c->tp)) != NAS_OK ||
                    (c->tail && (st = nas__plan_copy_state(c->tail, c->tp)) != NAS_OK)))
        return nas__ctx_fail(c->ctx, st, "copying the state to the inference plans");
    if ((st = nas__loader_start_epoch(c->el, 0)) != NAS_OK)
        return nas__ctx_fail(c->ctx, st, "%s", nas__loader_errmsg(c->el));
    double sum = 0.0;
    uint64_t correct = 0, seen = 0;
    uint32_t count;
    while ((st = nas__loader_next(c->el, c->x, c->y, &count)) == NAS_OK) {
        nas__plan_t *p = count == EVAL_BATCH ? c->ep : c->tail;
        if ((st = nas__plan_set_input(p, c->x)) != NAS_OK || (st = nas__plan_set_labels(p, c->y)) != NAS_OK ||
            (st = nas__plan_forward(p, false)) != NAS_OK)
            return nas__ctx_fail(c->ctx, st, "evaluation: %s", nas__plan_errmsg(p));
        sum += nas__plan_loss(p) * count;
        correct += (uint64_t)nas__plan_correct(p);
        seen += count;
    }
    if (st != NAS_E_EXHAUSTED)
        return nas__ctx_fail(c->ctx, st, "%s", nas__loader_errmsg(c->el));
    *loss = sum / (double)seen;
    *accuracy = 100.0 * (double)correct / (double)seen;
    return NAS_OK;
}

static nas_status_t run_epochs(acc_t *c, const args_t *a)
{
    double t0 = nas__now(), test_acc = 0.0;
    for (int e = 0; e < a->epochs; e++) {
        double te = nas__now(), train_loss = NAN, train_acc = NAN, test_loss = NAN;
        nas_status_t st;
        if ((st = train_epoch(c, e, &train_loss, &train_acc)) != NAS_OK ||
            (st = evaluate(c, &test_loss, &test_acc)) != NAS_OK)
            return st;
        printf("epoch=%d train_loss=%.4f test_acc=%.2f seconds=%.1f train_acc=%.2f test_loss=%.4f lr_end=%.4g\n", e + 1,
               train_loss, test_acc, nas__now() - te, train_acc, test_loss,
               nas__lr_at(&c->oc, nas__plan_steps(c->tp) - 1));
        fflush(stdout);
    }
    printf("total_seconds=%.1f\n", nas__now() - t0);
    printf("test_acc_after_%d_epochs=%.2f\n", a->epochs, test_acc);
    return NAS_OK;
}

static int accuracy(const args_t *a)
{
    acc_t c;
    memset(&c, 0, sizeof c);
    nas_context_opts_t co = NAS_CONTEXT_OPTS_INIT;
    co.num_threads = a->threads;
    co.seed = a->seed;
    if (nas_context_create(&c.ctx, &co) != NAS_OK) {
        fprintf(stderr, "accuracy: no context\n");
        return 1;
    }
    printf("recipe epochs=%d batch=%d threads=%d lr=%g momentum=%g nesterov=%d wd=%g warmup_epochs=%g schedule=cosine "
           "smoothing=%g pad=%d hflip=%d seed=%llu\n", a->epochs, a->batch, a->threads, a->lr, a->momentum,
           (int)a->nesterov, a->wd, a->warmup_epochs, a->smoothing, a->pad, (int)a->hflip,
           (unsigned long long)a->seed);
    nas_status_t st;
    if ((st = nas__dev_create(&c.dev, c.ctx)) != NAS_OK || (st = load_data(&c, a)) != NAS_OK ||
        (st = setup(&c, a)) != NAS_OK || (st = run_epochs(&c, a)) != NAS_OK)
        fprintf(stderr, "accuracy: %s: %s\n", nas_status_name(st), nas_context_errmsg(c.ctx));
    free(c.x);
    free(c.y);
    nas__loader_destroy(c.el);
    nas__loader_destroy(c.tl);
    nas__plan_destroy(c.tail);
    nas__plan_destroy(c.ep);
    nas__plan_destroy(c.tp);
    nas_dataset_destroy(c.test);
    nas_dataset_destroy(c.train);
    nas__dev_destroy(c.dev);
    nas_context_destroy(c.ctx);
    return st == NAS_OK ? 0 : 1;
}

/* ---------------------------------------------------------------------- */

static bool parse_args(int argc, char **argv, args_t *a)
{
    if (argc < 2)
        return false;
    if (!strcmp(argv[1], "train"))
        a->mode = MODE_TRAIN;
    else if (!strcmp(argv[1], "infer"))
        a->mode = MODE_INFER;
    else if (!strcmp(argv[1], "accuracy"))
        a->mode = MODE_ACCURACY;
    else
        return false;
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--describe")) {
            a->desc = true;
            continue;
        }
        if (!v)
            return false;
        i++;
        if (!strcmp(k, "--width")) {
            g_width = atof(v);
            if (!(g_width > 0.0 && g_width <= 8.0))
                return false;
            continue;
        }
        if (!strcmp(k, "--batch"))
            a->batch = atoi(v);
        else if (!strcmp(k, "--threads"))
            a->threads = atoi(v);
        else if (!strcmp(k, "--steps"))
            a->steps = atoi(v);
        else if (!strcmp(k, "--warmup"))
            a->warmup = atoi(v);
        else if (!strcmp(k, "--reps"))
            a->reps = atoi(v);
        else if (!strcmp(k, "--epochs"))
            a->epochs = atoi(v);
        else if (!strcmp(k, "--pad"))
            a->pad = atoi(v);
        else if (!strcmp(k, "--hflip"))
            a->hflip = atoi(v) != 0;
        else if (!strcmp(k, "--nesterov"))
            a->nesterov = atoi(v) != 0;
        else if (!strcmp(k, "--lr"))
            a->lr = strtod(v, NULL);
        else if (!strcmp(k, "--momentum"))
            a->momentum = strtod(v, NULL);
        else if (!strcmp(k, "--wd"))
            a->wd = strtod(v, NULL);
        else if (!strcmp(k, "--warmup-epochs"))
            a->warmup_epochs = strtod(v, NULL);
        else if (!strcmp(k, "--smoothing"))
            a->smoothing = strtod(v, NULL);
        else if (!strcmp(k, "--seed"))
            a->seed = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--data"))
            a->data = v;
        else
            return false;
    }
    return a->batch > 0 && a->threads >= 0 && a->steps > 0 && a->warmup >= 0 && a->reps > 0 && a->epochs > 0 &&
           a->pad >= 0 && a->pad < 28 && a->lr > 0.0 && a->momentum >= 0.0 && a->momentum < 1.0 && a->wd >= 0.0 &&
           a->warmup_epochs >= 0.0 && a->smoothing >= 0.0 && a->smoothing < 1.0;
}

int main(int argc, char **argv)
{
    /* The accuracy defaults are the recipe recorded in benchmarks/README.md. */
    args_t a = { .mode = MODE_TRAIN, .batch = 128, .threads = 2, .steps = 30, .warmup = 5, .reps = 200,
                 .epochs = 3, .pad = 0, .nesterov = true, .hflip = false, .lr = 0.1, .momentum = 0.9, .wd = 5e-4,
                 .warmup_epochs = 0.2, .smoothing = 0.0, .seed = 1, .data = "/usr/share/datasets/fashion-mnist" };
    if (!parse_args(argc, argv, &a)) {
        fprintf(stderr, "usage: %s train|infer|accuracy [--batch N] [--threads N] [--steps N] [--warmup N] [--reps N] "
                        "[--describe]\n"
                        "       accuracy: [--epochs N] [--lr X] [--momentum X] [--nesterov 0|1] [--wd X] "
                        "[--warmup-epochs X] [--smoothing X] [--pad N] [--hflip 0|1] [--seed N] [--data DIR]\n",
                argv[0]);
        return 2;
    }
    return a.mode == MODE_ACCURACY ? accuracy(&a) : speed(&a);
}
