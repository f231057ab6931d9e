/*
 * One-shot search (src/search/oneshot.c, darts.c, gdas.c): derive with the skip guard on hand-made
 * weights, a supernet along one path (single-path and one-hot weighted) equals the standalone network
 * with the same weights, the single-path gate gradient against finite differences, tiny DARTS and
 * GDAS searches on a Fashion-MNIST subset end to end, and refusals (not the train evaluator, ask, bad
 * parameters).
 */
#include "testutil.h"

#include "nn/build.h"
#include "nn/exec.h"
#include "search/oneshot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FMNIST "/usr/share/datasets/fashion-mnist/"

/* NAS-Bench-201's cell (6 edges, 5 ops), one cell per stage. */
static const char NB201_YAML[] = "name: os-nb201\n"
                                 "family: cell\n"
                                 "cell:\n"
                                 "  ops: [none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3]\n"
                                 "  num_inputs: 1\n"
                                 "  num_nodes: 3\n"
                                 "  inputs_per_node: 0\n"
                                 "  output: last\n"
                                 "macro:\n"
                                 "  stem_channels: 16\n"
                                 "  stages:\n"
                                 "    - {cells: 1, channels: 16}\n"
                                 "    - {cells: 1, channels: 32}\n"
                                 "  reduction: residual\n";

static nas_space_t *load_text(nas_context_t *ctx, const char *yaml)
{
    nas_space_t *s = NULL;
    if (nas_space_load_string(&s, ctx, yaml, strlen(yaml), NULL) != NAS_OK)
        fail_msg("loading YAML: %s", nas_context_errmsg(ctx));
    return s;
}

static nas__build_opts_t small_opts(void)
{
    nas__build_opts_t o = NAS__BUILD_OPTS_INIT;
    o.in_c = 1;
    o.in_h = 12;
    o.in_w = 12;
    o.num_classes = 10;
    return o;
}

static uint32_t op_index(const nas_space_t *s, uint32_t dim, const char *label)
{
    for (uint32_t c = 0;; c++) {
        const char *l = NULL;
        if (nas_space_dim_label(s, dim, c, &l) != NAS_OK)
            fail_msg("no op %s", label);
        if (strcmp(l, label) == 0)
            return c;
    }
}

/* ---------------------------------------------------------------------- */
/* Derive                                                                  */

/* Edge (to, from) of NB201's cell: the op that wins it and that op's weight; the rest share what is left. */
typedef struct edge_pick {
    int32_t to, from;
    const char *op;
    float w;
    const char *second;   /* next strongest */
} edge_pick_t;

static void test_derive_hand_made(void **unused)
{
    (void)unused;
    nas_context_t *ctx = tu_context_threads(1);
    nas_space_t *s = load_text(ctx, NB201_YAML);
    nas__build_opts_t o = small_opts();
    nas__graph_t *g = NULL;
    nas__supernet_map_t *map = NULL;
    char err[NAS_ERRMSG_CAP] = "";
    assert_int_equal(nas__build_supernet_map(&g, &map, s, &o, NAS__MIXED_WEIGHTED, err), NAS_OK);
    assert_int_equal(map->num_mixed, 12);   /* 6 edges x 2 cells */
    /* Four skips of different strength; with max_skip 2 the two weakest fall back to their second op. */
    static const edge_pick_t picks[6] = {
        { 1, 0, "skip_connect", 0.50f, "nor_conv_3x3" }, { 2, 0, "skip_connect", 0.80f, "avg_pool_3x3" },
        { 2, 1, "skip_connect", 0.40f, "nor_conv_1x1" }, { 3, 0, "nor_conv_3x3", 0.60f, "skip_connect" },
        { 3, 1, "skip_connect", 0.70f, "none" },         { 3, 2, "avg_pool_3x3", 0.55f, "nor_conv_1x1" },
    };
    float *w = calloc(map->total_paths, sizeof *w), *w2 = calloc(map->total_paths, sizeof *w2);
    nas_arch_t *want = NULL, *want2 = NULL, *got = NULL;
    assert_int_equal(nas_arch_create(&want, s), NAS_OK);
    assert_int_equal(nas_arch_create(&want2, s), NAS_OK);
    assert_int_equal(nas_arch_create(&got, s), NAS_OK);
    float *p = w;
    for (uint32_t m = 0; m < map->num_mixed; p += map->mixed[m].n_paths, m++) {
        const nas__mixed_map_t *mm = &map->mixed[m];
        assert_int_equal(mm->role, NAS__MIXED_CELL_EDGE);
        const edge_pick_t *e = NULL;
        for (int i = 0; i < 6; i++)
            if (picks[i].to == mm->to && picks[i].from == mm->from)
                e = &picks[i];
        if (!e)
            fail_msg("unexpected edge %d -> %d", (int)mm->from, (int)mm->to);
        uint32_t best = op_index(s, (uint32_t)mm->dim, e->op), next = op_index(s, (uint32_t)mm->dim, e->second);
        for (uint32_t k = 0; k < mm->n_paths; k++)
            p[k] = k == best ? e->w : k == next ? 0.3f : 0.05f;
        assert_int_equal(nas_arch_set(want, (uint32_t)mm->dim, best), NAS_OK);
        bool drop = strcmp(e->op, "skip_connect") == 0 && e->w < 0.6f;   /* the two weakest skips */
        assert_int_equal(nas_arch_set(want2, (uint32_t)mm->dim, drop ? next : best), NAS_OK);
    }
    memcpy(w2, w, map->total_paths * sizeof *w);
    assert_int_equal(nas__oneshot_derive(map, w, UINT32_MAX, true, got, err), NAS_OK);
    assert_true(nas_arch_equal(got, want));
    assert_int_equal(nas__oneshot_derive(map, w, 4, false, got, err), NAS_OK);   /* 4 skips are allowed */
    assert_true(nas_arch_equal(got, want));
    /* none strongest on edge 0 -> 1 (path 0 of mixed nodes 0 and 6): kept with keep_none, else the skip. */
    float *w3 = malloc(map->total_paths * sizeof *w3);
    memcpy(w3, w2, map->total_paths * sizeof *w3);
    uint32_t pos6 = 0;
    for (uint32_t m = 0; m < 6; m++)
        pos6 += map->mixed[m].n_paths;
    assert_int_equal(map->mixed[0].to, 1);
    assert_int_equal(map->mixed[6].to, 1);
    w3[0] = w3[pos6] = 0.9f;
    assert_int_equal(nas__oneshot_derive(map, w3, UINT32_MAX, true, got, err), NAS_OK);
    uint32_t c = 99;
    assert_int_equal(nas_arch_get(got, (uint32_t)map->mixed[0].dim, &c), NAS_OK);
    assert_int_equal(c, op_index(s, (uint32_t)map->mixed[0].dim, "none"));
    assert_int_equal(nas__oneshot_derive(map, w3, UINT32_MAX, false, got, err), NAS_OK);
    assert_true(nas_arch_equal(got, want));
    free(w3);
    assert_int_equal(nas__oneshot_derive(map, w2, 2, false, got, err), NAS_OK);
    if (!nas_arch_equal(got, want2)) {
        char a[512], b[512];
        nas_arch_to_string(got, 0, a, sizeof a, NULL);
        nas_arch_to_string(want2, 0, b, sizeof b, NULL);
        fail_msg("max_skip 2: derived %s, want %s", a, b);
    }
    free(w);
    free(w2);
    nas_arch_destroy(want);
    nas_arch_destroy(want2);
    nas_arch_destroy(got);
    nas__supernet_map_destroy(map);
    nas__graph_destroy(g);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Supernet along one path == the standalone network                        */

static nas__plan_t *compile(nas__dev_t *dev, const nas__graph_t *g, int batch)
{
    nas__plan_opts_t po = NAS__PLAN_OPTS_INIT;
    po.batch = batch;
    po.train = true;
    po.init_stream = 7;
    nas__plan_t *p = NULL;
    if (nas__plan_create(&p, dev, g, &po) != NAS_OK)
        fail_msg("compile: %s", nas_context_errmsg(nas__dev_context(dev)));
    return p;
}

/* Copy the discrete plan's parameters into the supernet's parameters along `paths`. */
static void copy_along(nas__plan_t *disc, nas__plan_t *sup, const nas__graph_t *sg, const uint32_t *paths)
{
    uint32_t j = 0, nd = nas__plan_num_params(disc);
    for (uint32_t i = 0; i < nas__plan_num_params(sup); i++) {
        nas__plan_param_t ps, pd;
        nas__plan_param(sup, i, &ps);
        const nas__node_t *n = nas__graph_node(sg, ps.node);
        if (n->mixed >= 0 && (uint32_t)n->path != paths[nas__graph_mixed_index(sg, n->mixed)])
            continue;
        assert_true(j < nd);
        nas__plan_param(disc, j, &pd);
        assert_int_equal(pd.elems, ps.elems);
        assert_int_equal(pd.kind, ps.kind);
        float *buf = malloc((size_t)ps.elems * sizeof *buf);
        assert_int_equal(nas__plan_get_param(disc, j, buf), NAS_OK);
        assert_int_equal(nas__plan_set_param(sup, i, buf), NAS_OK);
        free(buf);
        j++;
    }
    assert_int_equal(j, nd);
}

static double loss_of(nas__plan_t *p, const float *x, const int32_t *y, bool train)
{
    assert_int_equal(nas__plan_set_input(p, x), NAS_OK);
    assert_int_equal(nas__plan_set_labels(p, y), NAS_OK);
    assert_int_equal(nas__plan_forward(p, train), NAS_OK);
    return nas__plan_loss(p);
}

static void test_one_hot_equals_standalone(void **unused)
{
    (void)unused;
    nas_context_t *ctx = tu_context_threads(2);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas_space_t *s = load_text(ctx, NB201_YAML);
    nas__build_opts_t o = small_opts();
    enum { B = 4 };
    float x[B * 12 * 12];
    int32_t y[B] = { 1, 3, 5, 7 };
    for (int i = 0; i < B * 12 * 12; i++)
        x[i] = (float)sin(0.37 * i) + 0.1f;
    static const char *const archs[] = {
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|nor_conv_3x3~1|skip_connect~2|",
        "|skip_connect~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|",
    };
    char err[NAS_ERRMSG_CAP] = "";
    for (int mode = 0; mode < 2; mode++) {
        nas__graph_t *sg = NULL;
        nas__supernet_map_t *map = NULL;
        nas__mixed_mode_t mm = mode ? NAS__MIXED_WEIGHTED : NAS__MIXED_SINGLE;
        assert_int_equal(nas__build_supernet_map(&sg, &map, s, &o, mm, err), NAS_OK);
        for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
            nas_arch_t *arch = NULL;
            assert_int_equal(nas_arch_create(&arch, s), NAS_OK);
            if (nas_arch_from_string(arch, archs[a]) != NAS_OK)
                fail_msg("arch: %s", nas_space_errmsg(s));
            nas__graph_t *dg = NULL;
            assert_int_equal(nas__build_graph(&dg, arch, &o, err), NAS_OK);
            nas__plan_t *disc = compile(dev, dg, B);
            nas__plan_t *sup = compile(dev, sg, B);   /* fresh: BN running statistics as the standalone's */
            uint32_t paths[64];
            assert_int_equal(nas__supernet_paths(map, arch, paths, err), NAS_OK);
            copy_along(disc, sup, sg, paths);
            uint32_t na = 0;
            float *al = nas__plan_alphas(sup, &na);
            for (uint32_t m = 0; m < map->num_mixed; m++) {
                assert_int_equal(nas__plan_set_path(sup, m, paths[m]), NAS_OK);
                for (uint32_t k = 0; k < map->mixed[m].n_paths; k++)
                    al[nas__plan_alpha_offset(sup, m) + k] = k == paths[m] ? 0.0f : -1e4f;   /* exactly one-hot */
            }
            double ld = loss_of(disc, x, y, false), ls = loss_of(sup, x, y, false);
            if (fabs(ld - ls) > 1e-5 * fabs(ld) + 1e-6)
                fail_msg("%s, %s: supernet loss %.8f, standalone %.8f", mode ? "weighted" : "single", archs[a], ls, ld);
            ld = loss_of(disc, x, y, true);
            ls = loss_of(sup, x, y, true);
            if (fabs(ld - ls) > 1e-5 * fabs(ld) + 1e-6)
                fail_msg("%s, %s (training forward): supernet loss %.8f, standalone %.8f", mode ? "weighted" : "single",
                         archs[a], ls, ld);
            nas__plan_destroy(sup);
            nas__plan_destroy(disc);
            nas__graph_destroy(dg);
            nas_arch_destroy(arch);
        }
        nas__supernet_map_destroy(map);
        nas__graph_destroy(sg);
    }
    nas_space_destroy(s);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* The single-path gate gradient                                            */

/*
 * In single-path mode the alpha gradient of the selected path is dL/dc for a gate c multiplying the
 * path's output (GDAS's straight-through estimator). A nor_conv path ends in a BN, so scaling the BN's
 * scale and shift by c scales the path's output by c: finite differences on those give dL/dc.
 */
static void test_gate_gradient(void **unused)
{
    (void)unused;
    nas_context_t *ctx = tu_context_threads(3);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas_space_t *s = load_text(ctx, NB201_YAML);
    nas__build_opts_t o = small_opts();
    nas__graph_t *g = NULL;
    nas__supernet_map_t *map = NULL;
    char err[NAS_ERRMSG_CAP] = "";
    assert_int_equal(nas__build_supernet_map(&g, &map, s, &o, NAS__MIXED_SINGLE, err), NAS_OK);
    nas__plan_t *p = compile(dev, g, 4);
    enum { B = 4 };
    float x[B * 12 * 12];
    int32_t y[B] = { 0, 2, 4, 6 };
    for (int i = 0; i < B * 12 * 12; i++)
        x[i] = (float)cos(0.29 * i);
    /* Mixed node 3 (edge 0 -> 3 of the first cell) runs nor_conv_3x3; the others skip_connect. */
    const uint32_t m0 = 3;
    uint32_t conv = op_index(s, (uint32_t)map->mixed[m0].dim, "nor_conv_3x3");
    for (uint32_t m = 0; m < map->num_mixed; m++)
        assert_int_equal(nas__plan_set_path(p, m, m == m0 ? conv : op_index(s, (uint32_t)map->mixed[m].dim,
                                                                               "skip_connect")), NAS_OK);
    loss_of(p, x, y, true);
    assert_int_equal(nas__plan_backward(p), NAS_OK);
    double gate = nas__plan_alpha_grads(p)[nas__plan_alpha_offset(p, m0) + conv];
    for (uint32_t k = 0; k < map->mixed[m0].n_paths; k++)
        if (k != conv)
            assert_true(nas__plan_alpha_grads(p)[nas__plan_alpha_offset(p, m0) + k] == 0.0f);
    /* The BN at the end of the path: the path's last parameters (scale, then shift). */
    int32_t out = nas__graph_path_out(g, map->mixed[m0].node, conv);
    uint32_t iscale = UINT32_MAX, ishift = UINT32_MAX;
    for (uint32_t i = 0; i < nas__plan_num_params(p); i++) {
        nas__plan_param_t pp;
        nas__plan_param(p, i, &pp);
        if (pp.node == out && pp.kind == NAS__PARAM_SCALE)
            iscale = i;
        if (pp.node == out && pp.kind == NAS__PARAM_SHIFT)
            ishift = i;
    }
    assert_true(iscale != UINT32_MAX && ishift != UINT32_MAX);
    nas__plan_param_t info;
    nas__plan_param(p, iscale, &info);
    size_t n = (size_t)info.elems;
    float *sc = malloc(n * sizeof *sc), *sh = malloc(n * sizeof *sh), *t1 = malloc(n * sizeof *t1),
          *t2 = malloc(n * sizeof *t2);
    assert_int_equal(nas__plan_get_param(p, iscale, sc), NAS_OK);
    assert_int_equal(nas__plan_get_param(p, ishift, sh), NAS_OK);
    for (size_t i = 0; i < n; i++)
        sh[i] = 0.1f * (float)i - 0.2f;   /* a non-zero shift, so that it matters */
    double l[2];
    const double h = 1e-2;
    for (int side = 0; side < 2; side++) {
        double c = side ? 1.0 + h : 1.0 - h;
        for (size_t i = 0; i < n; i++) {
            t1[i] = (float)(c * sc[i]);
            t2[i] = (float)(c * sh[i]);
        }
        assert_int_equal(nas__plan_set_param(p, iscale, t1), NAS_OK);
        assert_int_equal(nas__plan_set_param(p, ishift, t2), NAS_OK);
        l[side] = loss_of(p, x, y, true);
    }
    assert_int_equal(nas__plan_set_param(p, iscale, sc), NAS_OK);
    assert_int_equal(nas__plan_set_param(p, ishift, sh), NAS_OK);
    loss_of(p, x, y, true);
    assert_int_equal(nas__plan_backward(p), NAS_OK);
    gate = nas__plan_alpha_grads(p)[nas__plan_alpha_offset(p, m0) + conv];
    double fd = (l[1] - l[0]) / (2 * h);
    if (!(fabs(fd - gate) <= 0.02 * fabs(fd) + 1e-4))
        fail_msg("gate gradient %.6g, finite differences %.6g", gate, fd);
    free(sc);
    free(sh);
    free(t1);
    free(t2);
    nas__plan_destroy(p);
    nas__supernet_map_destroy(map);
    nas__graph_destroy(g);
    nas_space_destroy(s);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Tiny searches                                                            */

typedef struct progress_log {
    int epochs;            /* reports of the supernet before training and after each epoch */
    int retrain;           /* reports of the retrain of the derived architecture */
    int trials;
} progress_log_t;

static void on_progress(void *user, const nas_progress_t *p)
{
    progress_log_t *l = user;
    if (p->last_arch && strstr(p->last_arch, " epoch "))
        l->epochs++;
    else if (p->last_arch && strstr(p->last_arch, "retraining the derived architecture"))
        l->retrain++;
    else
        l->trials++;
}

/* The n floats of epoch e's "weights" in an alphas file. */
static void read_weights(const char *text, int e, float *out, size_t n)
{
    const char *q = text;
    for (int i = 0; i <= e; i++) {
        q = strstr(q, "\"weights\":");
        if (!q)
            fail_msg("epoch %d: no weights", e);
        q += 10;
    }
    for (size_t i = 0; i < n; i++) {
        while (*q == '[' || *q == ']' || *q == ',')
            q++;
        char *end = NULL;
        out[i] = strtof(q, &end);
        if (end == q)
            fail_msg("epoch %d: weight %zu does not parse", e, i);
        q = end;
    }
}

/* A tiny search of `strategy`: 2 supernet epochs on ~500 + ~260 Fashion-MNIST images, then one retrain. */
/* The searched space: its YAML, mixed nodes (edges x 2 cells: m and m + edges are the same edge) and ops. */
typedef struct tiny_space {
    const char *yaml;
    int edges, ops;
} tiny_space_t;

static const tiny_space_t NB201 = { NB201_YAML, 6, 5 };

/* One edge per cell, none or a conv: none zeroes the cell (and with it what the network sees). */
static const char NONE_CONV_YAML[] = "name: os-none-conv\n"
                                     "family: cell\n"
                                     "cell:\n"
                                     "  ops: [none, nor_conv_3x3]\n"
                                     "  num_inputs: 1\n"
                                     "  num_nodes: 1\n"
                                     "  inputs_per_node: 0\n"
                                     "  output: last\n"
                                     "macro:\n"
                                     "  stem_channels: 16\n"
                                     "  stages:\n"
                                     "    - {cells: 1, channels: 16}\n"
                                     "    - {cells: 1, channels: 32}\n"
                                     "  reduction: residual\n";
static const tiny_space_t NONE_CONV = { NONE_CONV_YAML, 1, 2 };

/* A tiny search; *wlast (edges x 2 x ops floats, or NULL) gets the last epoch's weights, *arch_out the
 * retrained arch's string (cap 512). */
static void tiny_search(const char *strategy, const tiny_space_t *sp_, const char *const (*extra)[2], size_t n_extra,
                        float *wlast, char *arch_out)
{
    nas_context_t *ctx = tu_context_threads(4);
    nas_space_t *s = load_text(ctx, sp_->yaml);
    static const char *const ekv[][2] = {
        { "dataset", "fashion-mnist" }, { "max_samples", "768" }, { "val_fraction", "0.34" },
        { "epochs", "1" },              { "batch_size", "64" },   { "stem_stride", "2" },
        { "latency", "false" },
    };
    nas_params_t *ep = tu_params(ctx, ekv, sizeof ekv / sizeof ekv[0]);
    nas_evaluator_t *ev = NULL;
    if (nas_evaluator_create(&ev, s, "train", ep) != NAS_OK)
        fail_msg("train evaluator: %s", nas_context_errmsg(ctx));
    char path[600];
    snprintf(path, sizeof path, "%s/alphas.json", tu_tmpdir());
    nas_params_t *sp = tu_params(ctx, extra, n_extra);
    assert_int_equal(nas_params_set(sp, "epochs", "2"), NAS_OK);
    assert_int_equal(nas_params_set(sp, "alphas_path", path), NAS_OK);
    nas_searcher_opts_t so = NAS_SEARCHER_OPTS_INIT;
    so.seed = 9;
    nas_searcher_t *se = NULL;
    if (nas_searcher_create(&se, s, strategy, sp, &so) != NAS_OK)
        fail_msg("%s: %s", strategy, nas_context_errmsg(ctx));
    progress_log_t log = { 0, 0, 0 };
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 1;
    ro.progress = on_progress;
    ro.progress_user_data = &log;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, se, ev, &ro), NAS_OK);
    double t0 = nas__now();
    nas_status_t st = nas_run_execute(run);
    if (st != NAS_OK)
        fail_msg("%s: %s: %s", strategy, nas_status_name(st), nas_run_errmsg(run));
    fprintf(stderr, "%s: tiny search and retrain in %.2f s\n", strategy, nas__now() - t0);
    /* The supernet before training, two epochs, the retrain's announcement, then the retrain. */
    assert_int_equal(log.epochs, 3);
    assert_int_equal(log.retrain, 1);
    assert_int_equal(log.trials, 1);
    assert_int_equal(nas_run_num_trials(run), 1);
    uint64_t id;
    const char *arch;
    const nas_result_t *res;
    assert_int_equal(nas_run_trial(run, 0, &id, &arch, &res), NAS_OK);
    if (nas_result_status(res) != NAS_OK)
        fail_msg("%s: the retrain failed: %s", strategy, nas_result_message(res));
    double acc = 0;
    assert_int_equal(nas_result_get_metric(res, "accuracy", &acc), NAS_OK);
    assert_true(acc >= 0.0 && acc <= 100.0);
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, s), NAS_OK);
    assert_int_equal(nas_arch_from_string(a, arch), NAS_OK);   /* a valid arch of the space */
    nas_arch_destroy(a);

    /* The weights of every epoch: moved away from the start, a distribution per mixed node, tied
     * across the two cells (mixed node m and m + 6 are the same edge), and the last derive recorded. */
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, strategy));
    const int nm = 2 * sp_->edges, no = sp_->ops, NW = nm * no;
    float w0[256], w2[256];
    assert_true(NW <= 256);
    read_weights(text, 0, w0, (size_t)NW);
    read_weights(text, 2, w2, (size_t)NW);
    assert_null(strstr(strstr(text, "\"weights\":") + 1, "\"epoch\":3"));
    assert_null(strstr(arch, "none"));   /* keep_none is false by default */
    double moved = 0.0;
    for (int m = 0; m < nm; m++) {
        double sum = 0.0;
        for (int k = 0; k < no; k++) {
            sum += w2[m * no + k];
            moved = fmax(moved, fabs(w2[m * no + k] - w0[m * no + k]));
            if (m < sp_->edges)
                assert_true(w2[m * no + k] == w2[(m + sp_->edges) * no + k]);
        }
        assert_true(fabs(sum - 1.0) < 1e-4);
    }
    if (!(moved > 1e-3))
        fail_msg("%s: the architecture weights did not move (largest change %g)", strategy, moved);
    const char *last = text, *q;
    while ((q = strstr(last + 1, "\"arch\":\"")))
        last = q;
    assert_int_equal(strncmp(last + 8, arch, strlen(arch)), 0);
    free(text);
    if (wlast)
        memcpy(wlast, w2, (size_t)NW * sizeof *w2);
    if (arch_out)
        snprintf(arch_out, 512, "%s", arch);

    nas_run_destroy(run);
    nas_searcher_destroy(se);
    nas_evaluator_destroy(ev);
    nas_params_destroy(sp);
    nas_params_destroy(ep);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_darts_tiny(void **unused)
{
    (void)unused;
    static const char *const kv[][2] = { { "arch_lr", "0.03" }, { "order", "1" } };
    tiny_search("darts", &NB201, kv, 2, NULL, NULL);
}

static void test_darts_second_order_tiny(void **unused)
{
    (void)unused;
    static const char *const kv[][2] = { { "arch_lr", "0.03" }, { "order", "2" }, { "max_skip", "1" } };
    char arch[512];
    tiny_search("darts", &NB201, kv, 3, NULL, arch);
    int skips = 0;
    for (const char *q = arch; (q = strstr(q, "skip_connect")); q++)
        skips++;
    assert_true(skips <= 1);   /* max_skip */
}

/* Architecture weights move towards the clearly better op: a conv over none (which zeroes the cell). */
static void test_darts_prefers_better_op(void **unused)
{
    (void)unused;
    static const char *const kv[][2] = { { "arch_lr", "0.03" } };
    float w[4];
    char arch[512];
    tiny_search("darts", &NONE_CONV, kv, 1, w, arch);
    fprintf(stderr, "darts: none vs conv weights %.3f %.3f\n", w[0], w[1]);
    if (!(w[1] > 0.55f && w[3] > 0.55f))
        fail_msg("conv weights %.3f %.3f after search", w[1], w[3]);
    assert_non_null(strstr(arch, "nor_conv_3x3"));
}

static void test_gdas_tiny(void **unused)
{
    (void)unused;
    static const char *const kv[][2] = { { "arch_lr", "0.03" }, { "tau_max", "10" }, { "tau_min", "1" } };
    tiny_search("gdas", &NB201, kv, 3, NULL, NULL);
}

/* A cancel during the supernet epochs stops the search at once, before any trial. */
static bool cancel_after(void *user)
{
    int *polls = user;
    return ++*polls > 3;
}

static void test_cancel(void **unused)
{
    (void)unused;
    nas_context_t *ctx = tu_context_threads(7);
    nas_space_t *s = load_text(ctx, NB201_YAML);
    static const char *const ekv[][2] = {
        { "dataset", "fashion-mnist" }, { "max_samples", "512" }, { "val_fraction", "0.25" },
        { "stem_stride", "2" },         { "latency", "false" },
    };
    nas_params_t *ep = tu_params(ctx, ekv, sizeof ekv / sizeof ekv[0]);
    nas_evaluator_t *ev = NULL;
    assert_int_equal(nas_evaluator_create(&ev, s, "train", ep), NAS_OK);
    nas_searcher_t *se = NULL;
    assert_int_equal(nas_searcher_create(&se, s, "gdas", NULL, NULL), NAS_OK);
    int polls = 0;
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 1;
    ro.cancel = cancel_after;
    ro.cancel_user_data = &polls;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, se, ev, &ro), NAS_OK);
    assert_int_equal(nas_run_execute(run), NAS_E_ABORTED);
    assert_int_equal(polls, 4);
    assert_int_equal(nas_run_num_trials(run), 0);
    assert_string_equal(nas_run_stop_reason(run), "cancelled");
    nas_run_destroy(run);
    nas_searcher_destroy(se);
    nas_evaluator_destroy(ev);
    nas_params_destroy(ep);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Refusals                                                                 */

static nas_status_t host_create(nas_evaluator_t *self, const nas_params_t *params, void **state)
{
    (void)self;
    (void)params;
    *state = NULL;
    return NAS_OK;
}

static void host_destroy(void *state)
{
    (void)state;
}

static nas_status_t host_evaluate(nas_evaluator_t *self, void *state, const nas_candidate_t *cand, nas_result_t *res)
{
    (void)self;
    (void)state;
    (void)cand;
    return nas_result_set_metric(res, "accuracy", 50.0);
}

static void test_refusals(void **unused)
{
    (void)unused;
    nas_context_t *ctx = tu_context_threads(5);
    nas_space_t *s = load_text(ctx, NB201_YAML);
    nas_evaluator_vtable_t vt = { NAS_PLUGIN_ABI_VERSION, sizeof vt, "host-eval", "test", host_create, host_destroy,
                                  host_evaluate, NULL };
    assert_int_equal(nas_context_register_evaluator(ctx, &vt), NAS_OK);
    nas_evaluator_t *ev = NULL;
    assert_int_equal(nas_evaluator_create(&ev, s, "host-eval", NULL), NAS_OK);
    static const char *const names[2] = { "darts", "gdas" };
    for (int i = 0; i < 2; i++) {
        nas_searcher_t *se = NULL;
        assert_int_equal(nas_searcher_create(&se, s, names[i], NULL, NULL), NAS_OK);
        /* ask outside a run */
        nas_arch_t *a = NULL;
        assert_int_equal(nas_arch_create(&a, s), NAS_OK);
        nas_candidate_t c = NAS_CANDIDATE_INIT;
        c.arch = a;
        assert_int_equal(nas_searcher_ask(se, &c), NAS_E_UNSUPPORTED);
        assert_non_null(strstr(nas_searcher_errmsg(se), "nas_run_execute"));
        nas_arch_destroy(a);
        /* a run whose evaluator is not "train" */
        nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
        ro.max_trials = 1;
        nas_run_t *run = NULL;
        assert_int_equal(nas_run_create(&run, se, ev, &ro), NAS_OK);
        assert_int_equal(nas_run_execute(run), NAS_E_UNSUPPORTED);
        if (!strstr(nas_run_errmsg(run), "'train' evaluator"))
            fail_msg("%s: message '%s'", names[i], nas_run_errmsg(run));
        assert_int_equal(nas_run_num_trials(run), 0);
        nas_run_destroy(run);
        nas_searcher_destroy(se);
    }
    /* Parameters */
    static const struct {
        const char *name, *key, *value;
        nas_status_t st;
    } bad[] = {
        { "darts", "order", "0", NAS_E_INVAL },       { "darts", "order", "3", NAS_E_INVAL },
        { "darts", "epochs", "0", NAS_E_INVAL },      { "darts", "arch_lr", "-1", NAS_E_INVAL },
        { "darts", "max_skip", "-2", NAS_E_INVAL },   { "darts", "tau_max", "5", NAS_E_INVAL },
        { "gdas", "tau_min", "0", NAS_E_INVAL },      { "gdas", "order", "1", NAS_E_INVAL },
        { "gdas", "alphas_path", "", NAS_E_INVAL },   { "gdas", "w_lr_min", "1", NAS_E_INVAL },
        { "gdas", "keep_none", "maybe", NAS_E_INVAL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nas_params_t *p = NULL;
        assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
        assert_int_equal(nas_params_set(p, bad[i].key, bad[i].value), NAS_OK);
        nas_searcher_t *se = NULL;
        nas_status_t st = nas_searcher_create(&se, s, bad[i].name, p, NULL);
        if (st != bad[i].st)
            fail_msg("%s %s=%s: %s (%s)", bad[i].name, bad[i].key, bad[i].value, nas_status_name(st),
                     nas_context_errmsg(ctx));
        assert_null(se);
        nas_params_destroy(p);
    }
    nas_evaluator_destroy(ev);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Second-order DARTS                                                       */

static nas_status_t fwd_bwd(nas__plan_t *p, const float *x, const int32_t *y)
{
    loss_of(p, x, y, true);
    return nas__plan_backward(p);
}

/*
 * The unrolled gradient (DARTS's finite-difference Hessian-vector approximation): the plan's weights
 * and statistics are untouched, the gradient is finite, and with a vanishing weight step it is the
 * first-order gradient. (A check against central differences of L_val(w'(alpha), alpha) does not
 * hold to better than ~50% here: the alpha gradients move by ~1e-4 under weight perturbations of
 * norm 1e-3, which the 2 eps of the Hessian-vector product amplifies; see the report.)
 */
static void test_second_order_gradient(void **unused)
{
    (void)unused;
    nas_context_t *ctx = tu_context_threads(6);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas_space_t *s = load_text(ctx, NB201_YAML);
    nas__build_opts_t o = small_opts();
    nas__graph_t *g = NULL;
    nas__supernet_map_t *map = NULL;
    char err[NAS_ERRMSG_CAP] = "";
    assert_int_equal(nas__build_supernet_map(&g, &map, s, &o, NAS__MIXED_WEIGHTED, err), NAS_OK);
    enum { B = 32, N = B * 12 * 12 };
    nas__plan_opts_t po = NAS__PLAN_OPTS_INIT;
    po.batch = B;
    po.train = true;
    po.init_stream = 3;
    po.alpha_init_std = 0.5f;
    nas__plan_t *p = NULL;
    assert_int_equal(nas__plan_create(&p, dev, g, &po), NAS_OK);
    static float xt[N], xv[N];
    int32_t yt[B], yv[B];
    for (int i = 0; i < N; i++) {
        xt[i] = (float)sin(0.11 * i) + 0.3f * (float)cos(0.7 * i);
        xv[i] = (float)cos(0.13 * i) - 0.2f * (float)sin(0.5 * i);
    }
    for (int i = 0; i < B; i++) {
        yt[i] = (i * 3) % 10;
        yv[i] = (i * 7 + 1) % 10;
    }
    nas__oneshot_t os;
    memset(&os, 0, sizeof os);
    os.ctx = ctx;
    os.plan = p;
    os.map = map;
    nas__plan_alphas(p, &os.n_alpha);
    uint32_t off[64];
    for (uint32_t m = 0; m < map->num_mixed; m++)
        off[m] = nas__plan_alpha_offset(p, m);
    os.alpha_off = off;
    nas__optim_defaults(&os.wcfg);
    os.wcfg.lr = 0.5f;
    os.wcfg.weight_decay = 3e-4f;
    os.wcfg.sched = NAS__LR_CONST;
    os.xt = xt;
    os.xv = xv;
    os.yt = yt;
    os.yv = yv;
    os.batch = B;
    int64_t ns = nas__plan_state_elems(p);
    float *before = malloc((size_t)ns * sizeof *before), *after = malloc((size_t)ns * sizeof *after);
    assert_int_equal(nas__plan_export(p, before, ns), NAS_OK);
    float *grad = calloc(os.n_alpha, sizeof *grad), *first = calloc(os.n_alpha, sizeof *first);
    nas__darts_unroll_t u;
    memset(&u, 0, sizeof u);
    if (nas__darts_unrolled_grad(&os, &u, grad) != NAS_OK)
        fail_msg("unrolled: %s", os.errmsg);
    assert_int_equal(nas__plan_export(p, after, ns), NAS_OK);
    assert_memory_equal(before, after, (size_t)ns * sizeof *before);
    for (uint32_t k = 0; k < os.n_alpha; k++)
        assert_true(isfinite(grad[k]));
    assert_int_equal(fwd_bwd(p, xv, yv), NAS_OK);
    memcpy(first, nas__plan_alpha_grads(p), os.n_alpha * sizeof *first);
    assert_int_equal(nas__plan_import(p, before, ns), NAS_OK);
    double corr = 0.0, worst = 0.0, scale = 0.0;
    for (uint32_t k = 0; k < os.n_alpha; k++) {
        corr = fmax(corr, fabs((double)grad[k] - first[k]));
        scale = fmax(scale, fabs((double)first[k]));
    }
    assert_true(corr > 0.05 * scale);   /* xi 0.5: the second-order term matters */
    /* A vanishing weight step: the unrolled gradient is the first-order one. */
    scale = 0.0;
    os.wcfg.lr = 1e-6f;
    if (nas__darts_unrolled_grad(&os, &u, grad) != NAS_OK)
        fail_msg("unrolled: %s", os.errmsg);
    for (uint32_t k = 0; k < os.n_alpha; k++) {
        worst = fmax(worst, fabs((double)grad[k] - first[k]));
        scale = fmax(scale, fabs((double)first[k]));
    }
    if (!(scale > 0.0 && worst <= 1e-3 * scale))
        fail_msg("xi 1e-6: unrolled and first-order gradients differ by %g (largest %g)", worst, scale);
    nas__darts_unroll_free(&u);
    free(grad);
    free(first);
    free(before);
    free(after);
    nas__plan_destroy(p);
    nas__supernet_map_destroy(map);
    nas__graph_destroy(g);
    nas_space_destroy(s);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derive_hand_made),
        cmocka_unit_test(test_one_hot_equals_standalone),
        cmocka_unit_test(test_gate_gradient),
        cmocka_unit_test(test_second_order_gradient),
        cmocka_unit_test(test_darts_tiny),
        cmocka_unit_test(test_darts_second_order_tiny),
        cmocka_unit_test(test_darts_prefers_better_op),
        cmocka_unit_test(test_gdas_tiny),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
