/*
 * Every op of the engine against a plain double-precision reference (tests/nn_ref.h): forward
 * values, and gradients of the input, of every parameter and of mixed-node alphas against central
 * finite differences of the reference, for several shapes (odd sizes, stride 2, groups, dilation)
 * and the layouts oneDNN picks for them (plain for few channels, blocked nChw16c for 16 and more).
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/internal.h"
#include "nn/exec.h"
#include "nn/graph.h"
#include "nn_ref.h"

typedef int32_t (*build_fn)(nas__graph_t *g, int32_t x);

typedef struct check {
    const char *name;
    int n, c, h, w;         /* batch and input shape */
    double in_scale;        /* inputs ~ N(0, in_scale^2) */
    float alpha_std;        /* mixed alphas */
    int single_path;        /* >= 0: single-path mode, path selected */
} check_t;

static double frand(nas_rng_t *rng)
{
    return nas_rng_normal(rng);
}

/* Compare the engine's gradient `got` (n values) with finite differences at `samples` coordinates. */
static void check_grad(const char *what, ref_net_t *r, double *x, double *coords, const float *got, int64_t n,
                       int samples, nas_rng_t *rng)
{
    double scale = 1e-6;
    for (int64_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(got[i]));
    for (int s = 0; s < samples && s < n; s++) {
        int64_t i = samples >= n ? s : (int64_t)nas_rng_below(rng, (uint64_t)n);
        double fd = ref_fd(r, x, &coords[i], 1e-6);
        double err = fabs(fd - got[i]);
        if (err > 2e-3 * scale + 1e-5)
            fail_msg("%s: gradient %lld is %.7g, finite differences give %.7g (scale %.3g)", what, (long long)i,
                     (double)got[i], fd, scale);
    }
}

static void run_check(const check_t *ck, build_fn build, bool loss)
{
    nas_context_t *ctx = tu_context_plain(11);
    nas__dev_t *dev = NULL;
    nas__graph_t *g = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    assert_int_equal(nas__graph_create(&g, ctx), NAS_OK);
    int32_t x = nas__graph_add_input(g, ck->c, ck->h, ck->w);
    int32_t y = build(g, x);
    if (loss)
        nas__graph_add_loss(g, y, 0.1f);
    if (nas__graph_status(g) != NAS_OK)
        fail_msg("%s: graph: %s", ck->name, nas__graph_errmsg(g));
    nas__plan_opts_t po = NAS__PLAN_OPTS_INIT;
    po.batch = ck->n;
    po.train = true;
    po.input_grad = true;
    po.init_stream = 5;
    po.alpha_init_std = ck->alpha_std;
    nas__plan_t *p = NULL;
    if (nas__plan_create(&p, dev, g, &po) != NAS_OK)
        fail_msg("%s: compile: %s", ck->name, nas_context_errmsg(ctx));
    if (ck->single_path >= 0)
        assert_int_equal(nas__plan_set_path(p, 0, (uint32_t)ck->single_path), NAS_OK);

    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 99, 1), NAS_OK);
    size_t nx = (size_t)ck->n * ck->c * ck->h * ck->w;
    float *xf = malloc(nx * sizeof *xf);
    double *xd = malloc(nx * sizeof *xd);
    for (size_t i = 0; i < nx; i++)
        xd[i] = xf[i] = (float)(ck->in_scale * frand(rng));
    int32_t out = nas__graph_output(g);
    const nas__node_t *on = nas__graph_node(g, out);
    size_t ny = (size_t)ck->n * on->out.c * on->out.h * on->out.w;
    int32_t *labels = malloc((size_t)ck->n * sizeof *labels);
    double *rw = malloc(ny * sizeof *rw);
    float *rf = malloc(ny * sizeof *rf);
    for (size_t i = 0; i < ny; i++)
        rw[i] = rf[i] = (float)frand(rng);
    if (loss) {
        int k = nas__graph_node(g, nas__graph_in(g, out, 0))->out.c;
        for (int i = 0; i < ck->n; i++)
            labels[i] = (int32_t)nas_rng_below(rng, (uint64_t)k);
        assert_int_equal(nas__plan_set_labels(p, labels), NAS_OK);
    }

    /* Engine: forward, backward. */
    assert_int_equal(nas__plan_set_input(p, xf), NAS_OK);
    ref_net_t *r = ref_create(g, ck->n);
    ref_load(r, p); /* before the forward: running statistics are updated by it */
    assert_int_equal(nas__plan_forward(p, true), NAS_OK);
    float *yf = malloc(ny * sizeof *yf);
    assert_int_equal(nas__plan_read_output(p, yf), NAS_OK);
    if (!loss)
        assert_int_equal(nas__plan_set_output_grad(p, rf), NAS_OK);
    assert_int_equal(nas__plan_backward(p), NAS_OK);

    /* Reference forward. */
    r->labels = labels;
    r->r = rw;
    for (uint32_t v = 0; v < r->nodes; v++)
        if (nas__graph_node(g, (int32_t)v)->kind == NAS__NODE_MIXED)
            r->sel[v] = ck->single_path >= 0 ? (uint32_t)ck->single_path : 0;
    double obj = ref_forward(r, xd);
    const double *yr = r->v[out];
    double ys = 1e-6;
    for (size_t i = 0; i < ny; i++)
        ys = fmax(ys, fabs(yr[i]));
    for (size_t i = 0; i < ny && !loss; i++)
        if (fabs(yf[i] - yr[i]) > 1e-4 * ys + 1e-5)
            fail_msg("%s: output %zu is %.7g, reference %.7g", ck->name, i, (double)yf[i], yr[i]);
    if (loss && (fabs(nas__plan_loss(p) - obj) > 1e-4 * fmax(1.0, fabs(obj)) || fabs(yf[0] - obj) > 1e-4 * fmax(1.0, fabs(obj))))
        fail_msg("%s: loss %.7g, reference %.7g", ck->name, nas__plan_loss(p), obj);

    /* Gradients against finite differences of the reference. */
    char what[160];
    float *gx = malloc(nx * sizeof *gx);
    assert_int_equal(nas__plan_read_input_grad(p, gx), NAS_OK);
    snprintf(what, sizeof what, "%s: input", ck->name);
    check_grad(what, r, xd, xd, gx, (int64_t)nx, 24, rng);
    for (uint32_t i = 0; i < nas__plan_num_params(p); i++) {
        nas__plan_param_t info;
        nas__plan_param(p, i, &info);
        float *gp = malloc((size_t)info.elems * sizeof *gp);
        assert_int_equal(nas__plan_get_param_grad(p, i, gp), NAS_OK);
        double *coords = info.kind == NAS__PARAM_WEIGHT || info.kind == NAS__PARAM_SCALE ? r->w[info.node]
                                                                                          : r->b[info.node];
        snprintf(what, sizeof what, "%s: parameter %u (node %d %s, kind %d)", ck->name, i, (int)info.node,
                 nas__node_kind_name(nas__graph_node(g, info.node)->kind), (int)info.kind);
        bool inactive = false;
        const nas__node_t *pn = nas__graph_node(g, info.node);
        if (ck->single_path >= 0 && pn->mixed >= 0 && pn->path != ck->single_path)
            inactive = true;
        if (inactive) {
            for (int64_t j = 0; j < info.elems; j++)
                assert_true(gp[j] == 0.0f);
        } else {
            check_grad(what, r, xd, coords, gp, info.elems, 12, rng);
        }
        free(gp);
    }
    uint32_t na;
    nas__plan_alphas(p, &na);
    const float *ga = nas__plan_alpha_grads(p);
    for (uint32_t m = 0; m < nas__plan_num_mixed(p); m++) {
        int32_t id = -1;
        for (uint32_t v = 0, k = 0; v < r->nodes; v++)
            if (nas__graph_node(g, (int32_t)v)->kind == NAS__NODE_MIXED && k++ == m)
                id = (int32_t)v;
        snprintf(what, sizeof what, "%s: alphas of mixed %u", ck->name, m);
        if (ck->single_path < 0)
            check_grad(what, r, xd, r->alpha[nas__graph_node(g, id)->alpha_of], ga + nas__plan_alpha_offset(p, m),
                       nas__plan_mixed_paths(p, m), 64, rng);
    }

    free(gx);
    free(yf);
    free(rf);
    free(rw);
    free(labels);
    free(xd);
    free(xf);
    ref_destroy(r);
    nas_rng_destroy(rng);
    nas__plan_destroy(p);
    nas__graph_destroy(g);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

#define CHECK(nm, N, C, H, W, build) run_check(&(check_t){ nm, N, C, H, W, 1.0, 0.0f, -1 }, build, false)

/* ---- convolutions ---- */
static int32_t b_conv3(nas__graph_t *g, int32_t x) { return nas__graph_add_conv(g, x, 5, 3, 1, 1, 1, true); }
static int32_t b_conv1s2(nas__graph_t *g, int32_t x) { return nas__graph_add_conv(g, x, 4, 1, 2, 1, 1, false); }
static int32_t b_conv5s2(nas__graph_t *g, int32_t x) { return nas__graph_add_conv(g, x, 6, 5, 2, 1, 1, true); }
static int32_t b_conv7(nas__graph_t *g, int32_t x) { return nas__graph_add_conv(g, x, 3, 7, 1, 1, 1, false); }
static int32_t b_dil(nas__graph_t *g, int32_t x) { return nas__graph_add_conv(g, x, 4, 3, 1, 2, 1, false); }
static int32_t b_groups(nas__graph_t *g, int32_t x) { return nas__graph_add_conv(g, x, 6, 3, 1, 1, 2, false); }
static int32_t b_dw(nas__graph_t *g, int32_t x) { return nas__graph_add_conv(g, x, 4, 3, 2, 1, 4, false); }
static int32_t b_conv16(nas__graph_t *g, int32_t x) { return nas__graph_add_conv(g, x, 32, 3, 1, 1, 1, false); }
static int32_t b_conv16s2(nas__graph_t *g, int32_t x) { return nas__graph_add_conv(g, x, 16, 3, 2, 1, 1, true); }
static int32_t b_dw16(nas__graph_t *g, int32_t x) { return nas__graph_add_conv(g, x, 16, 5, 1, 1, 16, false); }
static int32_t b_dw16s2(nas__graph_t *g, int32_t x) { return nas__graph_add_conv(g, x, 16, 3, 2, 2, 16, false); }

static void test_conv(void **state)
{
    (void)state;
    CHECK("conv3x3 3->5 bias", 2, 3, 7, 9, b_conv3);
    CHECK("conv1x1 s2 odd", 2, 3, 7, 5, b_conv1s2);
    CHECK("conv5x5 s2 bias", 2, 2, 9, 8, b_conv5s2);
    CHECK("conv7x7", 2, 2, 9, 9, b_conv7);
    CHECK("conv3x3 dilation 2", 2, 3, 8, 7, b_dil);
    CHECK("conv groups 2", 2, 4, 6, 5, b_groups);
    CHECK("depthwise s2", 2, 4, 7, 7, b_dw);
}

static void test_conv_blocked(void **state)
{
    (void)state;
    CHECK("conv3x3 16->32 blocked", 2, 16, 6, 5, b_conv16);
    CHECK("conv3x3 s2 16->16 blocked", 2, 16, 7, 7, b_conv16s2);
    CHECK("depthwise 5x5 16 blocked", 2, 16, 6, 6, b_dw16);
    CHECK("depthwise 3x3 s2 d2 16 blocked", 2, 16, 9, 8, b_dw16s2);
}

/* ---- normalization and activations ---- */
static int32_t b_bn(nas__graph_t *g, int32_t x) { return nas__graph_add_bn(g, x); }
static int32_t b_bn_relu(nas__graph_t *g, int32_t x) { return nas__graph_add_relu(g, nas__graph_add_bn(g, x)); }
static int32_t b_conv_bn_relu(nas__graph_t *g, int32_t x)
{
    return nas__graph_add_relu(g, nas__graph_add_bn(g, nas__graph_add_conv(g, x, 16, 3, 1, 1, 1, false)));
}
static int32_t b_relu(nas__graph_t *g, int32_t x) { return nas__graph_add_relu(g, x); }
static int32_t b_relu6(nas__graph_t *g, int32_t x) { return nas__graph_add_relu6(g, x); }
static int32_t b_hswish(nas__graph_t *g, int32_t x) { return nas__graph_add_hswish(g, x); }

static void test_bn(void **state)
{
    (void)state;
    CHECK("bn", 3, 3, 5, 4, b_bn);
    CHECK("bn + relu (fused)", 3, 3, 5, 4, b_bn_relu);
    CHECK("bn 16 blocked", 2, 16, 4, 3, b_bn);
    CHECK("conv + bn + relu blocked", 2, 3, 6, 6, b_conv_bn_relu);
}

static void test_eltwise(void **state)
{
    (void)state;
    CHECK("relu", 2, 3, 5, 5, b_relu);
    run_check(&(check_t){ "relu6", 2, 3, 5, 5, 4.0, 0.0f, -1 }, b_relu6, false);
    run_check(&(check_t){ "hswish", 2, 3, 5, 5, 3.0, 0.0f, -1 }, b_hswish, false);
    CHECK("relu 16 blocked", 2, 16, 3, 3, b_relu);
}

/* ---- pooling, fc ---- */
static int32_t b_max3s2(nas__graph_t *g, int32_t x) { return nas__graph_add_maxpool(g, x, 3, 2, 1); }
static int32_t b_max2(nas__graph_t *g, int32_t x) { return nas__graph_add_maxpool(g, x, 2, 2, 0); }
static int32_t b_avg3(nas__graph_t *g, int32_t x) { return nas__graph_add_avgpool(g, x, 3, 1, 1); }
static int32_t b_avg3s2(nas__graph_t *g, int32_t x) { return nas__graph_add_avgpool(g, x, 3, 2, 1); }
static int32_t b_gap(nas__graph_t *g, int32_t x) { return nas__graph_add_gap(g, x); }
static int32_t b_fc(nas__graph_t *g, int32_t x) { return nas__graph_add_fc(g, x, 7, true); }
static int32_t b_gap_fc(nas__graph_t *g, int32_t x) { return nas__graph_add_fc(g, nas__graph_add_gap(g, x), 5, true); }

static void test_pool(void **state)
{
    (void)state;
    CHECK("maxpool 3 s2 p1", 2, 3, 7, 6, b_max3s2);
    CHECK("maxpool 2 s2", 2, 3, 6, 7, b_max2);
    CHECK("avgpool 3 s1 p1 excl. padding", 2, 3, 5, 6, b_avg3);
    CHECK("avgpool 3 s2 p1", 2, 3, 7, 7, b_avg3s2);
    CHECK("gap", 2, 3, 5, 3, b_gap);
    CHECK("maxpool blocked", 2, 16, 7, 7, b_max3s2);
    CHECK("avgpool blocked", 2, 16, 6, 5, b_avg3s2);
    CHECK("gap blocked", 2, 32, 3, 4, b_gap);
}

static void test_fc(void **state)
{
    (void)state;
    CHECK("fc over C x H x W", 3, 2, 3, 4, b_fc);
    CHECK("gap + fc blocked", 3, 32, 3, 3, b_gap_fc);
}

/* ---- joins and data movement ---- */
static int32_t b_sum(nas__graph_t *g, int32_t x)
{
    int32_t a = nas__graph_add_conv(g, x, 3, 3, 1, 1, 1, false), b = nas__graph_add_identity(g, x);
    int32_t ins[3] = { a, b, x };
    return nas__graph_add_sum(g, 3, ins);
}
static int32_t b_concat(nas__graph_t *g, int32_t x)
{
    int32_t a = nas__graph_add_conv(g, x, 2, 1, 1, 1, 1, false), b = nas__graph_add_relu(g, x);
    int32_t ins[3] = { a, b, x };
    return nas__graph_add_concat(g, 3, ins);
}
static int32_t b_concat16(nas__graph_t *g, int32_t x)
{
    int32_t a = nas__graph_add_conv(g, x, 16, 1, 1, 1, 1, false), b = nas__graph_add_conv(g, x, 16, 3, 1, 1, 1, false);
    int32_t ins[3] = { a, b, a };
    return nas__graph_add_concat(g, 3, ins);
}
static int32_t b_crop(nas__graph_t *g, int32_t x) { return nas__graph_add_crop(g, nas__graph_add_relu(g, x), 1, 2, 4, 3); }
static int32_t b_zero(nas__graph_t *g, int32_t x)
{
    int32_t c = nas__graph_add_conv(g, x, 3, 3, 2, 1, 1, false), z = nas__graph_add_zero(g, x, 2);
    int32_t ins[2] = { c, z };
    return nas__graph_add_sum(g, 2, ins);
}
static int32_t b_fr(nas__graph_t *g, int32_t x) { return nas__graph_add_factorized_reduce(g, x, 6); }
static int32_t b_fr16(nas__graph_t *g, int32_t x) { return nas__graph_add_factorized_reduce(g, x, 32); }
static int32_t b_fr16to16(nas__graph_t *g, int32_t x) { return nas__graph_add_factorized_reduce(g, x, 16); }
static int32_t b_ir24(nas__graph_t *g, int32_t x)
{
    return nas__graph_add_hswish(g, nas__graph_add_inverted_residual(g, x, 3, 3, 1, 24));
}
static int32_t b_ir6(nas__graph_t *g, int32_t x) { return nas__graph_add_inverted_residual(g, x, 6, 3, 1, 4); }
static int32_t b_ir1s2(nas__graph_t *g, int32_t x) { return nas__graph_add_inverted_residual(g, x, 1, 5, 2, 8); }

static void test_join(void **state)
{
    (void)state;
    CHECK("sum of conv, identity and input", 2, 3, 5, 4, b_sum);
    CHECK("concat", 2, 3, 4, 5, b_concat);
    CHECK("concat blocked", 2, 16, 4, 4, b_concat16);
    CHECK("crop", 2, 3, 6, 5, b_crop);
    CHECK("zero s2 in a sum", 2, 3, 5, 6, b_zero);
}

static void test_composites(void **state)
{
    (void)state;
    CHECK("factorized reduce", 2, 4, 6, 4, b_fr);
    CHECK("factorized reduce blocked", 2, 16, 4, 6, b_fr16);
    CHECK("factorized reduce 16 -> 8 + 8 (padded halves)", 2, 16, 4, 4, b_fr16to16);
    CHECK("inverted residual 24 x3 + hswish (padded blocks)", 2, 24, 5, 5, b_ir24);
    CHECK("inverted residual x6 s1", 2, 4, 5, 5, b_ir6);
    CHECK("inverted residual x1 s2", 2, 4, 7, 6, b_ir1s2);
}

/* ---- loss ---- */
static int32_t b_fc_logits(nas__graph_t *g, int32_t x) { return nas__graph_add_fc(g, x, 6, true); }

static void test_loss(void **state)
{
    (void)state;
    run_check(&(check_t){ "softmax ce + smoothing", 4, 3, 2, 2, 1.0, 0.0f, -1 }, b_fc_logits, true);
    run_check(&(check_t){ "bn relu gap fc ce", 3, 16, 3, 3, 1.0, 0.0f, -1 }, b_gap_fc, true);
}

/* ---- mixed nodes ---- */
static int32_t b_mixed(nas__graph_t *g, int32_t x, nas__mixed_mode_t mode)
{
    nas__graph_mixed_begin(g, x, mode);
    nas__graph_mixed_end_path(g, nas__graph_add_bn(g, nas__graph_add_conv(g, nas__graph_add_relu(g, x), 3, 3, 1, 1,
                                                                          1, false)));
    nas__graph_mixed_end_path(g, nas__graph_add_maxpool(g, x, 3, 1, 1));
    nas__graph_mixed_end_path(g, nas__graph_add_identity(g, x));
    nas__graph_mixed_end_path(g, nas__graph_add_zero(g, x, 1));
    nas__graph_mixed_end_path(g, nas__graph_add_avgpool(g, x, 3, 1, 1));
    int32_t m = nas__graph_mixed_end(g);
    /* a consumer of the mixed input outside the mixed node, as in a DARTS cell */
    int32_t ins[2] = { m, nas__graph_add_conv(g, x, 3, 1, 1, 1, 1, false) };
    return nas__graph_add_sum(g, 2, ins);
}
static int32_t b_mixed_w(nas__graph_t *g, int32_t x) { return b_mixed(g, x, NAS__MIXED_WEIGHTED); }
static int32_t b_mixed_s(nas__graph_t *g, int32_t x) { return b_mixed(g, x, NAS__MIXED_SINGLE); }
static int32_t b_mixed16(nas__graph_t *g, int32_t x)
{
    nas__graph_mixed_begin(g, x, NAS__MIXED_WEIGHTED);
    nas__graph_mixed_end_path(g, nas__graph_add_conv(g, x, 16, 3, 1, 1, 1, false));
    nas__graph_mixed_end_path(g, nas__graph_add_conv(g, x, 16, 5, 1, 1, 16, false));
    nas__graph_mixed_end_path(g, nas__graph_add_identity(g, x));
    return nas__graph_mixed_end(g);
}

/* Two mixed nodes sharing one alpha vector (DARTS shares alphas among cells of a kind). */
static int32_t b_mixed_shared(nas__graph_t *g, int32_t x)
{
    int32_t m[2];
    for (int i = 0; i < 2; i++) {
        nas__graph_mixed_begin(g, x, NAS__MIXED_WEIGHTED);
        nas__graph_mixed_end_path(g, nas__graph_add_conv(g, x, 3, 3, 1, 1, 1, false));
        nas__graph_mixed_end_path(g, nas__graph_add_avgpool(g, x, 3, 1, 1));
        nas__graph_mixed_end_path(g, nas__graph_add_identity(g, x));
        x = m[i] = nas__graph_mixed_end(g);
    }
    nas__graph_mixed_share_alphas(g, m[1], m[0]);
    return x;
}

static void test_mixed(void **state)
{
    (void)state;
    run_check(&(check_t){ "mixed weighted", 2, 3, 5, 5, 1.0, 0.5f, -1 }, b_mixed_w, false);
    run_check(&(check_t){ "mixed weighted blocked", 2, 16, 4, 4, 1.0, 0.5f, -1 }, b_mixed16, false);
    run_check(&(check_t){ "mixed with shared alphas", 2, 3, 5, 4, 1.0, 0.5f, -1 }, b_mixed_shared, false);
    for (int k = 0; k < 5; k++)
        run_check(&(check_t){ "mixed single", 2, 3, 5, 5, 1.0, 0.0f, k }, b_mixed_s, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv),      cmocka_unit_test(test_conv_blocked), cmocka_unit_test(test_bn),
        cmocka_unit_test(test_eltwise),   cmocka_unit_test(test_pool),         cmocka_unit_test(test_fc),
        cmocka_unit_test(test_join),      cmocka_unit_test(test_composites),   cmocka_unit_test(test_loss),
        cmocka_unit_test(test_mixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
