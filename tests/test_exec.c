/*
 * The executor: training a tiny CNN on a separable synthetic problem, determinism for a seed, no
 * allocation and no primitive creation in the steady-state step, evaluation mode and a batch-1
 * inference plan, state export/import, divergence detection, optimizer kernels and schedules,
 * BN running statistics, and a DARTS-style architecture step.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dnnl/optim.h"
#include "nn/exec.h"
#include "nn/graph.h"

#define IMG 8
#define CLASSES 4

/* Class c: a bright 4x4 patch in quadrant c, on Gaussian noise. */
static void make_data(nas_rng_t *rng, int n, float *x, int32_t *y)
{
    for (int i = 0; i < n; i++) {
        int c = (int)nas_rng_below(rng, CLASSES);
        y[i] = c;
        float *img = x + (size_t)i * IMG * IMG;
        for (int j = 0; j < IMG * IMG; j++)
            img[j] = (float)(0.5 * nas_rng_normal(rng));
        int oy = (c / 2) * 4, ox = (c % 2) * 4;
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++)
                img[(oy + a) * IMG + ox + b] += 1.0f;
    }
}

/* conv(1->16)+BN+ReLU, maxpool 2, conv(16->16)+BN+ReLU, [mixed {conv3x3, zero, avgpool}], fc over
 * 16x4x4, loss. (16 channels: oneDNN's blocked kernels; 2..15 channels inside a network take slower
 * paths, see test_small_channels.) */
static nas__graph_t *tiny_cnn(nas_context_t *ctx, int mixed)
{
    nas__graph_t *g = NULL;
    assert_int_equal(nas__graph_create(&g, ctx), NAS_OK);
    int32_t x = nas__graph_add_input(g, 1, IMG, IMG);
    x = nas__graph_add_relu(g, nas__graph_add_bn(g, nas__graph_add_conv(g, x, 16, 3, 1, 1, 1, false)));
    x = nas__graph_add_maxpool(g, x, 2, 2, 0);
    x = nas__graph_add_relu(g, nas__graph_add_bn(g, nas__graph_add_conv(g, x, 16, 3, 1, 1, 1, false)));
    if (mixed) {
        nas__graph_mixed_begin(g, x, mixed == 1 ? NAS__MIXED_WEIGHTED : NAS__MIXED_SINGLE);
        nas__graph_mixed_end_path(g, nas__graph_add_conv(g, x, 16, 3, 1, 1, 1, false));
        nas__graph_mixed_end_path(g, nas__graph_add_zero(g, x, 1));
        nas__graph_mixed_end_path(g, nas__graph_add_avgpool(g, x, 3, 1, 1));
        x = nas__graph_mixed_end(g);
    }
    x = nas__graph_add_fc(g, x, CLASSES, true);
    nas__graph_add_loss(g, x, 0.05f);
    if (nas__graph_status(g) != NAS_OK)
        fail_msg("graph: %s", nas__graph_errmsg(g));
    return g;
}

static nas__plan_t *compile(nas__dev_t *dev, const nas__graph_t *g, int batch, bool train)
{
    nas__plan_opts_t o = NAS__PLAN_OPTS_INIT;
    o.batch = batch;
    o.train = train;
    o.init_stream = 3;
    nas__plan_t *p = NULL;
    if (nas__plan_create(&p, dev, g, &o) != NAS_OK)
        fail_msg("compile: %s", nas_context_errmsg(nas__dev_context(dev)));
    return p;
}

static void sgd_cfg(nas__optim_cfg_t *oc, int64_t total)
{
    nas__optim_defaults(oc);
    oc->lr = 0.05f;
    oc->nesterov = true;
    oc->sched = NAS__LR_COSINE;
    oc->warmup_steps = 10;
    oc->total_steps = total;
}

/* Train `steps` steps on a fixed synthetic set; returns the last loss. */
static double train(nas__plan_t *p, nas_context_t *ctx, int steps, int batch)
{
    enum { NTRAIN = 640 };
    float *x = malloc((size_t)NTRAIN * IMG * IMG * sizeof *x);
    int32_t *y = malloc(NTRAIN * sizeof *y);
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 21, 0), NAS_OK);
    make_data(rng, NTRAIN, x, y);
    nas__optim_cfg_t oc;
    sgd_cfg(&oc, steps);
    double loss = 0;
    for (int s = 0; s < steps; s++) {
        int off = (s * batch) % (NTRAIN - batch + 1);
        nas_status_t st = nas__plan_train_step(p, x + (size_t)off * IMG * IMG, y + off, &oc, &loss);
        if (st != NAS_OK)
            fail_msg("step %d: %s", s, nas__plan_errmsg(p));
    }
    nas_rng_destroy(rng);
    free(x);
    free(y);
    return loss;
}

static double accuracy(nas__plan_t *p, nas_context_t *ctx, int batch, int batches)
{
    float *x = malloc((size_t)batch * IMG * IMG * sizeof *x);
    int32_t *y = malloc((size_t)batch * sizeof *y);
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 77, 0), NAS_OK); /* held-out data */
    int64_t correct = 0;
    for (int b = 0; b < batches; b++) {
        make_data(rng, batch, x, y);
        assert_int_equal(nas__plan_set_input(p, x), NAS_OK);
        assert_int_equal(nas__plan_set_labels(p, y), NAS_OK);
        assert_int_equal(nas__plan_forward(p, false), NAS_OK);
        correct += nas__plan_correct(p);
    }
    nas_rng_destroy(rng);
    free(x);
    free(y);
    return (double)correct / (batch * batches);
}

static void test_trains_to_high_accuracy(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(5);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas__graph_t *g = tiny_cnn(ctx, 0);
    nas__plan_t *p = compile(dev, g, 32, true);
    double before = accuracy(p, ctx, 32, 8);
    double loss = train(p, ctx, 150, 32);
    double after = accuracy(p, ctx, 32, 8);
    if (after < 0.95 || loss > 0.5)
        fail_msg("accuracy %.3f -> %.3f, last loss %.4f", before, after, loss);
    assert_true(before < 0.6);

    /* A batch-1 inference plan with the trained state gives the same logits as eval mode. */
    nas__plan_t *q = compile(dev, g, 1, false);
    assert_int_equal(nas__plan_copy_state(q, p), NAS_OK);
    float x[32 * IMG * IMG];
    int32_t y[32];
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 5, 5), NAS_OK);
    make_data(rng, 32, x, y);
    /* logits: the input of the loss is the fc; read the whole batch through the eval forward */
    assert_int_equal(nas__plan_set_input(p, x), NAS_OK);
    assert_int_equal(nas__plan_set_labels(p, y), NAS_OK);
    assert_int_equal(nas__plan_forward(p, false), NAS_OK);
    double loss_eval = nas__plan_loss(p);
    double sum = 0;
    for (int i = 0; i < 32; i++) {
        assert_int_equal(nas__plan_set_input(q, x + i * IMG * IMG), NAS_OK);
        assert_int_equal(nas__plan_set_labels(q, y + i), NAS_OK);
        assert_int_equal(nas__plan_forward(q, false), NAS_OK);
        sum += nas__plan_loss(q);
    }
    assert_true(fabs(sum / 32 - loss_eval) < 1e-4 * fmax(1.0, loss_eval));
    assert_int_equal(nas__plan_forward(q, true), NAS_E_STATE); /* inference plans do not train */

    /* Export from one plan, import into a fresh one (other init): same outputs. */
    int64_t n = nas__plan_state_elems(p);
    float *s = malloc((size_t)n * sizeof *s);
    assert_int_equal(nas__plan_export(p, s, n), NAS_OK);
    nas__plan_opts_t o = NAS__PLAN_OPTS_INIT;
    o.batch = 32;
    o.init_stream = 99;
    nas__plan_t *r = NULL;
    assert_int_equal(nas__plan_create(&r, dev, g, &o), NAS_OK);
    assert_int_equal(nas__plan_import(r, s, n - 1), NAS_E_INVAL);
    assert_int_equal(nas__plan_import(r, s, n), NAS_OK);
    assert_int_equal(nas__plan_set_input(r, x), NAS_OK);
    assert_int_equal(nas__plan_set_labels(r, y), NAS_OK);
    assert_int_equal(nas__plan_forward(r, false), NAS_OK);
    assert_true(fabs(nas__plan_loss(r) - loss_eval) < 1e-6);
    float *s2 = malloc((size_t)n * sizeof *s2);
    assert_int_equal(nas__plan_export(r, s2, n), NAS_OK);
    assert_memory_equal(s, s2, (size_t)n * sizeof *s);

    free(s);
    free(s2);
    nas_rng_destroy(rng);
    nas__plan_destroy(r);
    nas__plan_destroy(q);
    nas__plan_destroy(p);
    nas__graph_destroy(g);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

/* Losses and final state of a short run. */
static void short_run(uint64_t seed, double *losses, float **state, int64_t *n)
{
    nas_context_t *ctx = tu_context_plain(seed);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas__graph_t *g = tiny_cnn(ctx, 1);
    nas__plan_t *p = compile(dev, g, 32, true);
    for (int i = 0; i < 4; i++)
        losses[i] = train(p, ctx, 5, 32);
    *n = nas__plan_state_elems(p);
    *state = malloc((size_t)*n * sizeof **state);
    assert_int_equal(nas__plan_export(p, *state, *n), NAS_OK);
    nas__plan_destroy(p);
    nas__graph_destroy(g);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

static void test_deterministic(void **state)
{
    (void)state;
    double a[4], b[4], c[4];
    float *sa, *sb, *sc;
    int64_t na, nb, nc;
    short_run(8, a, &sa, &na);
    short_run(8, b, &sb, &nb);
    short_run(9, c, &sc, &nc);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(na, nb);
    assert_memory_equal(sa, sb, (size_t)na * sizeof *sa);
    assert_true(memcmp(sa, sc, (size_t)na * sizeof *sa) != 0); /* another seed, another init */
    free(sa);
    free(sb);
    free(sc);
}

static void test_steady_state_no_alloc(void **state)
{
    (void)state;
    for (int mixed = 0; mixed < 3; mixed++) {
        tu_alloc_t al = { 0 };
        nas_context_t *ctx = tu_context(&al, 3);
        assert_non_null(ctx);
        nas__dev_t *dev = NULL;
        assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
        nas__graph_t *g = tiny_cnn(ctx, mixed);
        nas__plan_t *p = compile(dev, g, 16, true);
        float x[16 * IMG * IMG];
        int32_t y[16];
        nas_rng_t *rng = NULL;
        assert_int_equal(nas_rng_create(&rng, ctx, 1, 1), NAS_OK);
        make_data(rng, 16, x, y);
        nas__optim_cfg_t oc, ac;
        sgd_cfg(&oc, 100);
        nas__optim_defaults(&ac);
        ac.kind = NAS__OPT_ADAM;
        ac.lr = 3e-4f;
        ac.clip_norm = 5.0f;
        double loss;
        assert_int_equal(nas__plan_train_step(p, x, y, &oc, &loss), NAS_OK);
        long allocs = al.allocs, live = al.live;
        uint64_t prims = nas__dev_primitives(dev);
        for (int s = 0; s < 6; s++) {
            if (mixed == 2)
                assert_int_equal(nas__plan_set_path(p, 0, (uint32_t)s % 3), NAS_OK);
            assert_int_equal(nas__plan_train_step(p, x, y, &oc, &loss), NAS_OK);
            if (mixed == 1)
                assert_int_equal(nas__plan_arch_step(p, &ac), NAS_OK);
            assert_int_equal(nas__plan_forward(p, false), NAS_OK);
        }
        if (al.allocs != allocs || al.live != live)
            fail_msg("mixed=%d: %ld allocations in the steady state", mixed, al.allocs - allocs);
        assert_int_equal(nas__dev_primitives(dev), prims);
        nas__plan_stats_t st;
        nas__plan_stats(p, &st);
        assert_int_equal(st.step_reorders, 0);
        assert_int_equal(st.ref_kernels, 0);
        assert_true(st.fused_bn_relu == 2);
        nas_rng_destroy(rng);
        nas__plan_destroy(p);
        nas__graph_destroy(g);
        nas__dev_destroy(dev);
        nas_context_destroy(ctx);
        assert_int_equal(al.live, 0);
    }
}

static void test_divergence_and_labels(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(5);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas__graph_t *g = tiny_cnn(ctx, 0);
    nas__plan_t *p = compile(dev, g, 8, true);
    float x[8 * IMG * IMG];
    int32_t y[8];
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 1, 1), NAS_OK);
    make_data(rng, 8, x, y);
    y[3] = CLASSES;
    assert_int_equal(nas__plan_set_labels(p, y), NAS_E_RANGE);
    y[3] = -1;
    assert_int_equal(nas__plan_set_labels(p, y), NAS_E_RANGE);
    y[3] = 0;
    assert_int_equal(nas__plan_backward(p), NAS_E_STATE); /* no forward yet */
    /* poison one fc weight (a ReLU could hide a NaN): the loss is NaN and the step refuses to update */
    nas__plan_param_t info;
    uint32_t fc = 0;
    for (uint32_t i = 0; i < nas__plan_num_params(p); i++) {
        nas__plan_param(p, i, &info);
        if (nas__graph_node(g, info.node)->kind == NAS__NODE_FC && info.kind == NAS__PARAM_WEIGHT)
            fc = i;
    }
    nas__plan_param(p, fc, &info);
    float *w = malloc((size_t)info.elems * sizeof *w);
    assert_int_equal(nas__plan_get_param(p, fc, w), NAS_OK);
    w[0] = NAN;
    assert_int_equal(nas__plan_set_param(p, fc, w), NAS_OK);
    nas__optim_cfg_t oc;
    sgd_cfg(&oc, 10);
    double loss = 0;
    assert_int_equal(nas__plan_train_step(p, x, y, &oc, &loss), NAS_E_DIVERGED);
    assert_true(isnan(loss));
    assert_int_equal(nas__plan_steps(p), 0);
    free(w);
    nas_rng_destroy(rng);
    nas__plan_destroy(p);
    nas__graph_destroy(g);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

/* Plans of other batch sizes share the parameters, optimizer state and BN statistics. */
static void test_shared_plans(void **state)
{
    (void)state;
    tu_alloc_t al = { 0 };
    nas_context_t *ctx = tu_context(&al, 5);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas__graph_t *g = tiny_cnn(ctx, 1);
    nas__plan_t *p = compile(dev, g, 32, true);
    nas__plan_opts_t o = NAS__PLAN_OPTS_INIT;
    o.batch = 7;
    o.train = true;
    o.share = p;
    nas__plan_t *q = NULL, *e = NULL, *c = NULL;
    if (nas__plan_create(&q, dev, g, &o) != NAS_OK)
        fail_msg("share: %s", nas_context_errmsg(ctx));
    o.batch = 1;
    o.train = false;
    assert_int_equal(nas__plan_create(&e, dev, g, &o), NAS_OK);
    o.share = e; /* a training plan cannot borrow an inference plan's (missing) gradients */
    o.train = true;
    assert_int_equal(nas__plan_create(&c, dev, g, &o), NAS_E_STATE);
    assert_null(c);
    o.share = NULL;
    o.train = false;
    assert_int_equal(nas__plan_create(&c, dev, g, &o), NAS_OK); /* a private copy for comparison */

    train(p, ctx, 10, 32);
    train(q, ctx, 10, 7); /* steps on q move p's parameters */
    assert_int_equal(nas__plan_copy_state(c, p), NAS_OK);
    float x[IMG * IMG];
    int32_t y = 1;
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 3, 3), NAS_OK);
    make_data(rng, 1, x, &y);
    double l[2];
    nas__plan_t *both[2] = { e, c };
    for (int i = 0; i < 2; i++) {
        assert_int_equal(nas__plan_set_input(both[i], x), NAS_OK);
        assert_int_equal(nas__plan_set_labels(both[i], &y), NAS_OK);
        assert_int_equal(nas__plan_forward(both[i], false), NAS_OK);
        l[i] = nas__plan_loss(both[i]);
    }
    assert_true(fabs(l[0] - l[1]) < 1e-6);
    nas_rng_destroy(rng);
    nas__plan_destroy(c);
    nas__plan_destroy(e);
    nas__plan_destroy(q);
    nas__plan_destroy(p);
    nas__graph_destroy(g);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
    assert_int_equal(al.live, 0);
}

/* Parameters at the edge: plain layouts round-trip; weight decay only on conv and fc weights. */
static void test_params_at_the_edge(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(5);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas__graph_t *g = tiny_cnn(ctx, 0);
    nas__plan_t *p = compile(dev, g, 4, true);
    /* conv, bn(scale, shift), conv, bn(scale, shift), fc(weight, bias) */
    assert_int_equal(nas__plan_num_params(p), 8);
    int64_t total = 0;
    for (uint32_t i = 0; i < nas__plan_num_params(p); i++) {
        nas__plan_param_t info;
        nas__plan_param(p, i, &info);
        nas__node_kind_t k = nas__graph_node(g, info.node)->kind;
        assert_int_equal(info.decay, info.kind == NAS__PARAM_WEIGHT);
        assert_true(info.kind != NAS__PARAM_WEIGHT || k == NAS__NODE_CONV || k == NAS__NODE_FC);
        float *a = malloc((size_t)info.elems * sizeof *a), *b = malloc((size_t)info.elems * sizeof *b);
        for (int64_t j = 0; j < info.elems; j++)
            a[j] = (float)j * 0.25f - 3.0f;
        assert_int_equal(nas__plan_set_param(p, i, a), NAS_OK);
        assert_int_equal(nas__plan_get_param(p, i, b), NAS_OK);
        assert_memory_equal(a, b, (size_t)info.elems * sizeof *a);
        total += info.elems;
        free(a);
        free(b);
    }
    nas__plan_stats_t st;
    nas__plan_stats(p, &st);
    assert_int_equal(st.params, total);
    assert_int_equal(total, nas__graph_params(g));
    assert_int_equal(nas__plan_set_param(p, 99, NULL), NAS_E_INVAL);
    nas__sb_t sb;
    nas__sb_init(&sb, ctx);
    nas__plan_describe(p, &sb);
    assert_non_null(sb.data);
    assert_non_null(strstr(sb.data, "fused into the batch norm"));
    assert_null(strstr(sb.data, "ref:"));
    nas__sb_free(&sb);
    nas__plan_destroy(p);
    nas__graph_destroy(g);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

static void test_optimizer(void **state)
{
    (void)state;
    nas__optim_cfg_t c;
    nas__optim_defaults(&c);
    c.lr = 1.0f;
    c.warmup_steps = 4;
    c.sched = NAS__LR_COSINE;
    c.total_steps = 14;
    c.lr_min = 0.1f;
    assert_float_equal(nas__lr_at(&c, 0), 0.25, 1e-6);
    assert_float_equal(nas__lr_at(&c, 3), 1.0, 1e-6);
    assert_float_equal(nas__lr_at(&c, 4), 1.0, 1e-6);
    assert_float_equal(nas__lr_at(&c, 9), 0.55, 1e-6);
    assert_float_equal(nas__lr_at(&c, 14), 0.1, 1e-6);
    assert_float_equal(nas__lr_at(&c, 100), 0.1, 1e-6);
    c.sched = NAS__LR_STEP;
    c.warmup_steps = 0;
    c.step_size = 3;
    c.gamma = 0.5f;
    assert_float_equal(nas__lr_at(&c, 2), 1.0, 1e-6);
    assert_float_equal(nas__lr_at(&c, 7), 0.25, 1e-6);

    /* SGD with momentum (PyTorch semantics), decay on the first element only. */
    float p[2] = { 1.0f, 2.0f }, g[2] = { 0.5f, -1.0f }, m[2] = { 0 }, v[2] = { 0 };
    nas__optim_defaults(&c);
    c.lr = 0.1f;
    c.momentum = 0.9f;
    c.weight_decay = 0.01f;
    nas__optim_step(&c, 0, p, g, m, v, 2, 1);
    nas__optim_step(&c, 1, p, g, m, v, 2, 1);
    double p0 = 1.0, b0 = 0, p1 = 2.0, b1 = 0;
    for (int t = 0; t < 2; t++) {
        b0 = 0.9 * b0 + 0.5 + 0.01 * p0;
        p0 -= 0.1 * b0;
        b1 = 0.9 * b1 - 1.0;
        p1 -= 0.1 * b1;
    }
    assert_float_equal(p[0], p0, 1e-6);
    assert_float_equal(p[1], p1, 1e-6);
    /* Nesterov */
    float q[1] = { 1.0f }, gq[1] = { 0.5f }, mq[1] = { 0 };
    c.nesterov = true;
    c.weight_decay = 0;
    nas__optim_step(&c, 0, q, gq, mq, v, 1, 1);
    nas__optim_step(&c, 1, q, gq, mq, v, 1, 1);
    double bq = 0, pq = 1.0;
    for (int t = 0; t < 2; t++) {
        bq = 0.9 * bq + 0.5;
        pq -= 0.1 * (0.5 + 0.9 * bq);
    }
    assert_float_equal(q[0], pq, 1e-6);
    /* Adam with bias correction */
    float a[1] = { 1.0f }, ga[1] = { 0.3f }, ma[1] = { 0 }, va[1] = { 0 };
    nas__optim_defaults(&c);
    c.kind = NAS__OPT_ADAM;
    c.lr = 0.01f;
    c.weight_decay = 0;
    for (int t = 0; t < 3; t++)
        nas__optim_step(&c, t, a, ga, ma, va, 1, 1);
    assert_float_equal(a[0], 1.0 - 3 * 0.01 * 0.3 / (0.3 + 1e-8), 1e-5);
    /* Gradient-norm clipping: norm 5 clipped to 1 */
    float cp[2] = { 0, 0 }, cg[2] = { 3.0f, 4.0f }, cm[2] = { 0 }, cv[2] = { 0 };
    nas__optim_defaults(&c);
    c.lr = 1.0f;
    c.momentum = 0;
    c.weight_decay = 0;
    c.clip_norm = 1.0f;
    double norm = nas__optim_step(&c, 0, cp, cg, cm, cv, 2, 2);
    assert_float_equal(norm, 5.0, 1e-6);
    assert_float_equal(cp[0], -0.6, 1e-5);
    assert_float_equal(cp[1], -0.8, 1e-5);
}

static void test_bn_running_stats_and_eval(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(5);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas__graph_t *g = NULL;
    assert_int_equal(nas__graph_create(&g, ctx), NAS_OK);
    int32_t x = nas__graph_add_input(g, 3, 4, 4);
    nas__graph_add_relu(g, nas__graph_add_bn(g, x));
    assert_int_equal(nas__graph_status(g), NAS_OK);
    nas__plan_t *p = compile(dev, g, 5, true);
    float in[5 * 3 * 16], out[5 * 3 * 16];
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 1, 1), NAS_OK);
    for (int i = 0; i < 5 * 3 * 16; i++)
        in[i] = (float)(2.0 + nas_rng_normal(rng));
    assert_int_equal(nas__plan_set_input(p, in), NAS_OK);
    assert_int_equal(nas__plan_forward(p, true), NAS_OK);
    float st[4 * 3];
    assert_int_equal(nas__plan_state_elems(p), 12);
    assert_int_equal(nas__plan_export(p, st, 12), NAS_OK);
    for (int c = 0; c < 3; c++) {
        double mean = 0, var = 0;
        for (int n = 0; n < 5; n++)
            for (int i = 0; i < 16; i++)
                mean += in[(n * 3 + c) * 16 + i];
        mean /= 80;
        for (int n = 0; n < 5; n++)
            for (int i = 0; i < 16; i++)
                var += pow(in[(n * 3 + c) * 16 + i] - mean, 2);
        assert_float_equal(st[6 + c], 0.1 * mean, 1e-5);
        assert_float_equal(st[9 + c], 0.9 + 0.1 * var / 79, 1e-5);
    }
    /* Evaluation mode uses the running statistics. */
    assert_int_equal(nas__plan_forward(p, false), NAS_OK);
    assert_int_equal(nas__plan_read_output(p, out), NAS_OK);
    for (int n = 0; n < 5; n++)
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 16; i++) {
                double z = (in[(n * 3 + c) * 16 + i] - st[6 + c]) / sqrt(st[9 + c] + NAS__BN_EPS);
                assert_float_equal(out[(n * 3 + c) * 16 + i], z > 0 ? z : 0, 1e-5);
            }
    nas_rng_destroy(rng);
    nas__plan_destroy(p);
    nas__graph_destroy(g);

    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

/* input 16x6x6 -> mixed {conv3x3, conv5x5, avgpool, zero} in `mode`, the network's output. ids gets
 * the two convs' node ids. */
static nas__graph_t *four_paths(nas_context_t *ctx, nas__mixed_mode_t mode, int32_t *ids)
{
    nas__graph_t *g = NULL;
    assert_int_equal(nas__graph_create(&g, ctx), NAS_OK);
    int32_t x = nas__graph_add_input(g, 16, 6, 6);
    nas__graph_mixed_begin(g, x, mode);
    ids[0] = nas__graph_add_conv(g, x, 16, 3, 1, 1, 1, false);
    nas__graph_mixed_end_path(g, ids[0]);
    ids[1] = nas__graph_add_conv(g, x, 16, 5, 1, 2, 1, false);
    nas__graph_mixed_end_path(g, ids[1]);
    nas__graph_mixed_end_path(g, nas__graph_add_avgpool(g, x, 3, 1, 1));
    nas__graph_mixed_end_path(g, nas__graph_add_zero(g, x, 1));
    nas__graph_mixed_end(g);
    if (nas__graph_status(g) != NAS_OK)
        fail_msg("graph: %s", nas__graph_errmsg(g));
    return g;
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* The weight gradient of the conv at graph node `node`. */
static void conv_grad(nas__plan_t *p, int32_t node, float *out)
{
    for (uint32_t i = 0; i < nas__plan_num_params(p); i++) {
        nas__plan_param_t pp;
        nas__plan_param(p, i, &pp);
        if (pp.node == node && pp.kind == NAS__PARAM_WEIGHT) {
            assert_int_equal(nas__plan_get_param_grad(p, i, out), NAS_OK);
            return;
        }
    }
    fail_msg("no weight at node %d", (int)node);
}

/* ProxylessNAS's binary mode: the first path runs forward and backward (gate 1), the second forward
 * only (gate 0); both gates get <dL/dy, y_k>; the second path's weights get no gradient; only two
 * paths' activations are held (fewer bytes than the weighted mixture), and rebinding the paths to
 * the two slots from step to step keeps every output right. */
static void test_binary_mode(void **state)
{
    (void)state;
    enum { B = 4, N = B * 16 * 36, W3 = 16 * 16 * 9, W5 = 16 * 16 * 25 };
    nas_context_t *ctx = tu_context_plain(5);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    int32_t ids[2];
    nas__graph_t *gw = four_paths(ctx, NAS__MIXED_WEIGHTED, ids), *g = four_paths(ctx, NAS__MIXED_BINARY, ids);
    nas__plan_t *pw = compile(dev, gw, B, true), *p = compile(dev, g, B, true);
    nas__plan_stats_t sw, sb;
    nas__plan_stats(pw, &sw);
    nas__plan_stats(p, &sb);
    if (!(sb.activation_bytes < sw.activation_bytes))
        fail_msg("binary mode holds %zu activation bytes, the weighted mixture %zu", sb.activation_bytes,
                 sw.activation_bytes);
    static float x[N], gout[N], y[4][N], out[N], ga[W3], gs[W3], g5[W5];
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 8, 8), NAS_OK);
    for (int i = 0; i < N; i++) {
        x[i] = (float)nas_rng_normal(rng);
        gout[i] = (float)nas_rng_normal(rng);
    }
    assert_int_equal(nas__plan_set_input(p, x), NAS_OK);
    for (uint32_t k = 0; k < 4; k++) { /* each path alone */
        assert_int_equal(nas__plan_set_path(p, 0, k), NAS_OK);
        assert_int_equal(nas__plan_forward(p, true), NAS_OK);
        assert_int_equal(nas__plan_read_output(p, y[k]), NAS_OK);
    }
    assert_int_equal(nas__plan_set_path(p, 0, 0), NAS_OK); /* the single-path gradient of conv 0 */
    assert_int_equal(nas__plan_forward(p, true), NAS_OK);
    assert_int_equal(nas__plan_set_output_grad(p, gout), NAS_OK);
    assert_int_equal(nas__plan_backward(p), NAS_OK);
    conv_grad(p, ids[0], gs);
    /* Pairs that move paths between the slots, in and out. */
    static const uint32_t pairs[][2] = { { 0, 1 }, { 1, 2 }, { 2, 0 }, { 0, 2 }, { 1, 0 }, { 3, 1 }, { 0, 1 } };
    for (size_t t = 0; t < sizeof pairs / sizeof pairs[0]; t++) {
        uint32_t a = pairs[t][0], b = pairs[t][1];
        assert_int_equal(nas__plan_set_binary_paths(p, 0, a, b), NAS_OK);
        assert_int_equal(nas__plan_forward(p, true), NAS_OK);
        assert_int_equal(nas__plan_read_output(p, out), NAS_OK);
        for (int i = 0; i < N; i++)
            if (fabsf(out[i] - y[a][i]) > 1e-5f)
                fail_msg("pair %u,%u: output %d is %g, path %u alone gives %g", a, b, i, out[i], a, y[a][i]);
        assert_int_equal(nas__plan_set_output_grad(p, gout), NAS_OK);
        assert_int_equal(nas__plan_backward(p), NAS_OK);
        const float *da = nas__plan_alpha_grads(p);
        for (uint32_t k = 0; k < 4; k++) {
            double want = (k == a || k == b) ? dot(gout, y[k], N) : 0.0;
            if (fabs(da[k] - want) > 1e-3 * (1.0 + fabs(want)))
                fail_msg("pair %u,%u: gate gradient %u is %g, want %g", a, b, k, da[k], want);
        }
        if (a == 0 && b == 1) {
            conv_grad(p, ids[0], ga);
            for (int i = 0; i < W3; i++)
                assert_float_equal(ga[i], gs[i], 1e-4 * (1.0 + fabs(gs[i])));
            conv_grad(p, ids[1], g5);
            for (int i = 0; i < W5; i++)
                assert_true(g5[i] == 0.0f);
        }
    }
    assert_int_equal(nas__plan_set_binary_paths(p, 0, 4, 0), NAS_E_RANGE);
    assert_int_equal(nas__plan_set_binary_paths(pw, 0, 0, 1), NAS_E_STATE);
    nas_rng_destroy(rng);
    nas__plan_destroy(p);
    nas__plan_destroy(pw);
    nas__graph_destroy(g);
    nas__graph_destroy(gw);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

/* DARTS in miniature: after some weight steps, Adam steps on the alphas alone lower the loss of a
 * fixed batch (the alpha gradients drive a real descent). */
static void test_darts_step(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(5);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas__graph_t *g = tiny_cnn(ctx, 1);
    nas__plan_t *p = compile(dev, g, 32, true);
    train(p, ctx, 30, 32);
    float x[32 * IMG * IMG];
    int32_t y[32];
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 4, 4), NAS_OK);
    make_data(rng, 32, x, y);
    nas__optim_cfg_t ac;
    nas__optim_defaults(&ac);
    ac.kind = NAS__OPT_ADAM;
    ac.lr = 0.05f;
    ac.weight_decay = 0;
    assert_int_equal(nas__plan_set_input(p, x), NAS_OK);
    assert_int_equal(nas__plan_set_labels(p, y), NAS_OK);
    double l0 = 0, l1 = 0;
    for (int s = 0; s <= 20; s++) {
        assert_int_equal(nas__plan_forward(p, true), NAS_OK);
        if (s == 0)
            l0 = nas__plan_loss(p);
        l1 = nas__plan_loss(p);
        if (s == 20)
            break;
        assert_int_equal(nas__plan_backward(p), NAS_OK);
        assert_int_equal(nas__plan_arch_step(p, &ac), NAS_OK);
    }
    uint32_t n;
    const float *al = nas__plan_alphas(p, &n);
    assert_int_equal(n, 3);
    if (!(l1 < l0 * 0.98))
        fail_msg("architecture steps did not lower the loss: %.5f -> %.5f (alphas %.3f %.3f %.3f)", l0, l1, al[0],
                 al[1], al[2]);
    nas_rng_destroy(rng);
    nas__plan_destroy(p);
    nas__graph_destroy(g);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

/* Convs with 2..15 input channels inside a network have only reference kernels in nChw16c with
 * oneDNN 2.6 (forward and weight gradient; the plain layout has a jit forward but reference backward
 * passes): the plan runs them channels-last, with no reference kernel, computes the right thing, and
 * reports the one layout reorder at the entry of the narrow part. */
static void test_small_channels(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(5);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas__graph_t *g = NULL;
    assert_int_equal(nas__graph_create(&g, ctx), NAS_OK);
    int32_t x = nas__graph_add_input(g, 1, IMG, IMG);
    x = nas__graph_add_relu(g, nas__graph_add_bn(g, nas__graph_add_conv(g, x, 8, 3, 1, 1, 1, false)));
    x = nas__graph_add_conv(g, x, 16, 3, 1, 1, 1, false);
    nas__graph_add_loss(g, nas__graph_add_fc(g, nas__graph_add_gap(g, x), CLASSES, true), 0.0f);
    nas__plan_t *p = compile(dev, g, 32, true);
    nas__plan_stats_t st;
    nas__plan_stats(p, &st);
    assert_true(st.step_reorders > 0);
    assert_int_equal(st.ref_kernels, 0);
    double l0 = train(p, ctx, 1, 32), l1 = train(p, ctx, 40, 32);
    assert_true(l1 < l0);
    nas__plan_destroy(p);
    nas__graph_destroy(g);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trains_to_high_accuracy),   cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_steady_state_no_alloc),     cmocka_unit_test(test_divergence_and_labels),
        cmocka_unit_test(test_optimizer),                 cmocka_unit_test(test_params_at_the_edge),
        cmocka_unit_test(test_bn_running_stats_and_eval), cmocka_unit_test(test_darts_step),
        cmocka_unit_test(test_small_channels),            cmocka_unit_test(test_shared_plans),
        cmocka_unit_test(test_binary_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
