/*
 * Every op of the engine against a plain double-precision reference (tests/nn_ref.h): forward
 * values, and gradients of the input, of every parameter and of mixed-node alphas against central
 * finite differences of the reference, for several shapes (odd sizes, stride 2, groups, dilation)
 * and the layouts oneDNN picks for them (plain for few channels, blocked nChw16c for 16 and more).
 */
#include "testutil.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "dnnl/priv.h"
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
    const char *expect;     /* text the plan's description must hold (kernels chosen), or NULL */
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
    if (ck->expect) {
        /* a line (op) holding `expect` and no reference kernel */
        nas__sb_t sb;
        nas__sb_init(&sb, ctx);
        nas__plan_describe(p, &sb);
        const char *at = sb.data ? strstr(sb.data, ck->expect) : NULL, *ref = at ? strstr(at, "ref:") : NULL;
        if (!at || (ref && memchr(at, '\n', (size_t)(ref - at)) == NULL))
            fail_msg("%s: wanted \"%s\" on an op with no reference kernel in:\n%s", ck->name, ck->expect,
                     sb.data ? sb.data : "");
        nas__sb_free(&sb);
    }

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

#define CHECK(nm, N, C, H, W, build) run_check(&(check_t){ nm, N, C, H, W, 1.0, 0.0f, -1, NULL }, build, false)
/* The same, and the plan's description must hold `expect`, and no reference kernel. */
#define CHECK_K(nm, N, C, H, W, build, expect) \
    run_check(&(check_t){ nm, N, C, H, W, 1.0, 0.0f, -1, expect }, build, false)

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

/* Depthwise convs whose backward oneDNN 2.6 has only reference kernels for: our own (dwconv.c). A stem
 * conv in front gives them the blocked layout they have inside a network (graph inputs are plain). */
static int32_t dw_after_1x1(nas__graph_t *g, int32_t x, int32_t c, int32_t k, int32_t s, int32_t d, bool bias)
{
    return nas__graph_add_conv(g, nas__graph_add_conv(g, x, c, 3, 1, 1, 1, false), c, k, s, d, c, bias);
}
static int32_t b_dw16k5(nas__graph_t *g, int32_t x) { return dw_after_1x1(g, x, 16, 5, 1, 1, false); }
static int32_t b_dw24k5b(nas__graph_t *g, int32_t x) { return dw_after_1x1(g, x, 24, 5, 1, 1, true); }
static int32_t b_dw40k5s2(nas__graph_t *g, int32_t x) { return dw_after_1x1(g, x, 40, 5, 2, 1, false); }
static int32_t b_dw24k3d2(nas__graph_t *g, int32_t x) { return dw_after_1x1(g, x, 24, 3, 1, 2, false); }
static int32_t b_dw40k5d2b(nas__graph_t *g, int32_t x) { return dw_after_1x1(g, x, 40, 5, 1, 2, true); }
static int32_t b_dw24k3s2d2b(nas__graph_t *g, int32_t x) { return dw_after_1x1(g, x, 24, 3, 2, 2, true); }
static int32_t b_dw16k5s2d2(nas__graph_t *g, int32_t x) { return dw_after_1x1(g, x, 16, 5, 2, 2, false); }

static void test_conv_dw_own(void **state)
{
    (void)state;
    CHECK_K("dw 5x5 16", 2, 3, 6, 6, b_dw16k5, "backward weights: own dw");
    CHECK_K("dw 5x5 24 (padded) bias", 3, 3, 7, 6, b_dw24k5b, "backward weights: own dw");
    CHECK_K("dw 5x5 s2 40 (padded)", 2, 3, 9, 8, b_dw40k5s2, "backward weights: own dw");
    CHECK_K("dw 3x3 d2 24 (padded)", 3, 3, 8, 7, b_dw24k3d2, "backward data, weights: own dw");
    CHECK_K("dw 5x5 d2 40 (padded) bias", 2, 3, 9, 10, b_dw40k5d2b, "backward data, weights: own dw");
    CHECK_K("dw 3x3 s2 d2 24 (padded) bias", 2, 3, 9, 8, b_dw24k3s2d2b, "backward data, weights: own dw");
    CHECK_K("dw 5x5 s2 d2 16", 2, 3, 10, 9, b_dw16k5s2d2, "backward data, weights: own dw");
    /* more images than batch chunks of the partial sums, not a multiple of them */
    CHECK_K("dw 3x3 d2 24 batch 11", 11, 3, 5, 5, b_dw24k3d2, "backward data, weights: own dw");
}

/* Offset of an element in a layout of at most one inner block (as the own dw kernels take). */
static int64_t md_off(const dnnl_memory_desc_t *md, const int64_t *idx)
{
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    int64_t off = md->offset0, bd = b->inner_nblks ? b->inner_idxs[0] : -1, bs = b->inner_nblks ? b->inner_blks[0] : 1;
    for (int i = 0; i < md->ndims; i++)
        off += (i == bd ? idx[i] / bs : idx[i]) * b->strides[i];
    return off + (bd >= 0 ? idx[bd] % bs : 0);
}

typedef struct dw_case {
    int n, c, h, w, k, s, d, pl;
} dw_case_t;

/* The own kernels on views into larger tensors (offset0, row strides wider than the rows), against a
 * plain double reference: every gradient, padded channels zero, memory outside the views untouched,
 * and the weight gradient bit-identical for 1 and 3 threads. */
static void check_dw_kernels(const dw_case_t *k)
{
    int64_t span = (int64_t)k->d * (k->k - 1) + 1, oh = (k->h + 2 * k->pl - span) / k->s + 1;
    int64_t ow = (k->w + 2 * k->pl - span) / k->s + 1, cp = (k->c + 15) / 16 * 16;
    dnnl_dims_t sd = { k->n, k->c, k->h + 3, k->w + 2 }, dd = { k->n, k->c, oh + 1, ow + 4 };
    dnnl_dims_t wd = { k->c, 1, 1, k->k + 1, k->k + 2 };
    dnnl_dims_t ssub = { k->n, k->c, k->h, k->w }, soff = { 0, 0, 2, 1 }, dsub = { k->n, k->c, oh, ow };
    dnnl_dims_t doff = { 0, 0, 1, 3 }, wsub = { k->c, 1, 1, k->k, k->k }, woff = { 0, 0, 0, 1, 2 };
    dnnl_memory_desc_t sp, dp, wp, smd, dmd, wmd;
    assert_int_equal(dnnl_memory_desc_init_by_tag(&sp, 4, sd, dnnl_f32, dnnl_nChw16c), dnnl_success);
    assert_int_equal(dnnl_memory_desc_init_by_tag(&dp, 4, dd, dnnl_f32, dnnl_nChw16c), dnnl_success);
    assert_int_equal(dnnl_memory_desc_init_by_tag(&wp, 5, wd, dnnl_f32, dnnl_Goihw16g), dnnl_success);
    assert_int_equal(dnnl_memory_desc_init_submemory(&smd, &sp, ssub, soff), dnnl_success);
    assert_int_equal(dnnl_memory_desc_init_submemory(&dmd, &dp, dsub, doff), dnnl_success);
    assert_int_equal(dnnl_memory_desc_init_submemory(&wmd, &wp, wsub, woff), dnnl_success);
    assert_true(smd.offset0 > 0 && dmd.offset0 > 0 && wmd.offset0 > 0);
    dnnl_dims_t strides = { k->s, k->s }, dil = { k->d - 1, k->d - 1 }, pl = { k->pl, k->pl };
    nas__dw_t g;
    assert_true(nas__dw_applies(&g, &smd, &wmd, &dmd, strides, dil, pl));
    dnnl_memory_desc_t plain;
    assert_int_equal(dnnl_memory_desc_init_by_tag(&plain, 4, ssub, dnnl_f32, dnnl_nchw), dnnl_success);
    assert_false(nas__dw_applies(&g, &plain, &wmd, &dmd, strides, dil, pl));
    assert_true(nas__dw_applies(&g, &smd, &wmd, &dmd, strides, dil, pl));

    size_t ns = dnnl_memory_desc_get_size(&sp) / 4, nd = dnnl_memory_desc_get_size(&dp) / 4;
    size_t nw = dnnl_memory_desc_get_size(&wp) / 4, np = nas__dw_scratch_floats(&g);
    float *src = malloc(ns * 4), *dsrc = malloc(ns * 4), *ddst = malloc(nd * 4), *w = malloc(nw * 4);
    float *dw = malloc(nw * 4), *dw1 = malloc(nw * 4), *db = malloc((size_t)k->c * 4), *part = malloc(np * 4);
    double *rs = calloc(ns, sizeof *rs), *rw = calloc(nw, sizeof *rw), *rb = calloc((size_t)k->c, sizeof *rb);
    char *sin = calloc(ns, 1), *win = calloc(nw, 1); /* inside the views (padded channels too) */
    nas_context_t *ctx = tu_context_plain(7);
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 7, 1), NAS_OK);
    for (size_t i = 0; i < ns; i++) /* padded channels and borders hold garbage: never read into real ones */
        src[i] = (float)frand(rng);
    for (size_t i = 0; i < nd; i++)
        ddst[i] = (float)frand(rng);
    for (size_t i = 0; i < nw; i++)
        w[i] = (float)frand(rng);
    for (size_t i = 0; i < ns; i++)
        dsrc[i] = 1234.0f;
    for (size_t i = 0; i < nw; i++)
        dw[i] = dw1[i] = 1234.0f;

    for (int64_t n = 0; n < k->n; n++)
        for (int64_t c = 0; c < k->c; c++)
            for (int64_t y = 0; y < oh; y++)
                for (int64_t x = 0; x < ow; x++) {
                    double gd = ddst[md_off(&dmd, (int64_t[]){ n, c, y, x })];
                    rb[c] += gd;
                    for (int64_t i = 0; i < k->k; i++)
                        for (int64_t j = 0; j < k->k; j++) {
                            int64_t ih = y * k->s + i * k->d - k->pl, iw = x * k->s + j * k->d - k->pl;
                            if (ih < 0 || ih >= k->h || iw < 0 || iw >= k->w)
                                continue;
                            int64_t so = md_off(&smd, (int64_t[]){ n, c, ih, iw });
                            int64_t wo = md_off(&wmd, (int64_t[]){ c, 0, 0, i, j });
                            rs[so] += w[wo] * gd;
                            rw[wo] += src[so] * gd;
                        }
                }

    nas__dw_bwd_data(&g, dsrc, w, ddst);
    omp_set_num_threads(1);
    nas__dw_bwd_weights(&g, dw1, NULL, src, ddst, part);
    omp_set_num_threads(3);
    nas__dw_bwd_weights(&g, dw, db, src, ddst, part);
    assert_memory_equal(dw, dw1, nw * 4);

    for (int64_t n = 0; n < k->n; n++)
        for (int64_t c = 0; c < cp; c++)
            for (int64_t y = 0; y < k->h; y++)
                for (int64_t x = 0; x < k->w; x++) {
                    int64_t o = md_off(&smd, (int64_t[]){ n, c, y, x });
                    sin[o] = 1;
                    if (c >= k->c ? dsrc[o] != 0.0f : fabs(dsrc[o] - rs[o]) > 1e-4 * (1.0 + fabs(rs[o])))
                        fail_msg("diff_src (%lld %lld %lld %lld) is %g, want %g", (long long)n, (long long)c,
                                 (long long)y, (long long)x, (double)dsrc[o], c < k->c ? rs[o] : 0.0);
                }
    for (int64_t c = 0; c < cp; c++) {
        if (c < k->c && fabs(db[c] - rb[c]) > 1e-4 * (1.0 + fabs(rb[c])))
            fail_msg("diff_bias %lld is %g, want %g", (long long)c, (double)db[c], rb[c]);
        for (int64_t i = 0; i < k->k; i++)
            for (int64_t j = 0; j < k->k; j++) {
                int64_t o = md_off(&wmd, (int64_t[]){ c, 0, 0, i, j });
                win[o] = 1;
                if (c >= k->c ? dw[o] != 0.0f : fabs(dw[o] - rw[o]) > 1e-4 * (1.0 + fabs(rw[o])))
                    fail_msg("diff_weights (%lld %lld %lld) is %g, want %g", (long long)c, (long long)i,
                             (long long)j, (double)dw[o], c < k->c ? rw[o] : 0.0);
            }
    }
    for (size_t i = 0; i < ns; i++) /* untouched outside the views */
        if (!sin[i] && dsrc[i] != 1234.0f)
            fail_msg("diff_src written outside the view at %zu", i);
    for (size_t i = 0; i < nw; i++)
        if (!win[i] && dw[i] != 1234.0f)
            fail_msg("diff_weights written outside the view at %zu", i);

    nas_rng_destroy(rng);
    nas_context_destroy(ctx);
    free(src), free(dsrc), free(ddst), free(w), free(dw), free(dw1), free(db), free(part);
    free(rs), free(rw), free(rb), free(sin), free(win);
}

static void test_dw_kernels(void **state)
{
    (void)state;
    int threads = omp_get_max_threads();
    check_dw_kernels(&(dw_case_t){ 11, 40, 9, 8, 5, 2, 2, 4 });
    check_dw_kernels(&(dw_case_t){ 3, 24, 7, 6, 3, 1, 1, 1 });
    check_dw_kernels(&(dw_case_t){ 2, 16, 6, 7, 5, 1, 2, 3 }); /* more padding than "same" */
    omp_set_num_threads(threads);
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
    run_check(&(check_t){ "relu6", 2, 3, 5, 5, 4.0, 0.0f, -1, NULL }, b_relu6, false);
    run_check(&(check_t){ "hswish", 2, 3, 5, 5, 3.0, 0.0f, -1, NULL }, b_hswish, false);
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
/* 24 channels: nChw16c padded to 32, where oneDNN 2.6's sum has only its reference kernel. */
static int32_t b_sum24(nas__graph_t *g, int32_t x)
{
    x = nas__graph_add_conv(g, x, 16, 3, 1, 1, 1, false);   /* 16 channels in: blocked convs after it */
    int32_t a = nas__graph_add_conv(g, x, 24, 3, 1, 1, 1, false), b = nas__graph_add_conv(g, x, 24, 1, 1, 1, 1, false);
    int32_t ins[3] = { a, b, a };
    return nas__graph_add_sum(g, 3, ins);
}
/* 8 channels from a 16-channel input (nChw16c, padded) and from an 8-channel one (channels-last, as
 * narrow convolutions run): a sum of inputs in two layouts, reference-only in oneDNN 2.6. */
static int32_t b_sum_mixed(nas__graph_t *g, int32_t x)
{
    x = nas__graph_add_conv(g, x, 16, 3, 1, 1, 1, false);
    int32_t a = nas__graph_add_conv(g, x, 8, 3, 1, 1, 1, false);
    int32_t b = nas__graph_add_conv(g, nas__graph_add_conv(g, x, 8, 1, 1, 1, 1, false), 8, 3, 1, 1, 1, false);
    int32_t ins[2] = { a, b };
    return nas__graph_add_sum(g, 2, ins);
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
    CHECK_K("sum of padded blocked inputs", 2, 3, 5, 4, b_sum24, "sum: src");
    CHECK_K("sum of inputs in two layouts", 2, 3, 5, 4, b_sum_mixed, "sum: src");
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
    run_check(&(check_t){ "softmax ce + smoothing", 4, 3, 2, 2, 1.0, 0.0f, -1, NULL }, b_fc_logits, true);
    run_check(&(check_t){ "bn relu gap fc ce", 3, 16, 3, 3, 1.0, 0.0f, -1, NULL }, b_gap_fc, true);
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
    run_check(&(check_t){ "mixed weighted", 2, 3, 5, 5, 1.0, 0.5f, -1, NULL }, b_mixed_w, false);
    run_check(&(check_t){ "mixed weighted blocked", 2, 16, 4, 4, 1.0, 0.5f, -1, NULL }, b_mixed16, false);
    run_check(&(check_t){ "mixed with shared alphas", 2, 3, 5, 4, 1.0, 0.5f, -1, NULL }, b_mixed_shared, false);
    for (int k = 0; k < 5; k++)
        run_check(&(check_t){ "mixed single", 2, 3, 5, 5, 1.0, 0.0f, k, NULL }, b_mixed_s, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv),      cmocka_unit_test(test_conv_blocked), cmocka_unit_test(test_conv_dw_own),
        cmocka_unit_test(test_dw_kernels),
        cmocka_unit_test(test_bn),
        cmocka_unit_test(test_eltwise),   cmocka_unit_test(test_pool),         cmocka_unit_test(test_fc),
        cmocka_unit_test(test_join),      cmocka_unit_test(test_composites),   cmocka_unit_test(test_loss),
        cmocka_unit_test(test_mixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
