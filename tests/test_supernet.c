/*
 * Single-path one-shot search (src/search/spos.c, fairnas.c, supernet_search.c) and the "supernet"
 * evaluator (src/eval/supernet.c): FairNAS's sub-models are fair, BN recalibration averages the
 * batches' statistics, gradient accumulation sums, tiny SPOS and FairNAS searches on a Fashion-MNIST
 * subset end to end (fairness counted in the training itself), and the supernet evaluator: round
 * trip with the search's scores, refusals (no file, damaged file, another space), and a black-box
 * search on it through nas_run_execute.
 */
#include "testutil.h"

#include "nn/accum.h"
#include "nn/build.h"
#include "nn/exec.h"
#include "search/supernet_search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char NB201_YAML[] = "name: sp-nb201\n"
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

/* The same name with other ops: a different space. */
static const char NB201_OTHER_YAML[] = "name: sp-nb201\n"
                                       "family: cell\n"
                                       "cell:\n"
                                       "  ops: [none, skip_connect, nor_conv_3x3]\n"
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

/* Decisions with 2 and 3 choices, a depth, a width. */
static const char CHAIN_YAML[] = "name: sp-chain\n"
                                 "family: chain\n"
                                 "chain:\n"
                                 "  ops: [mb3_e3, mb5_e6, skip]\n"
                                 "  stem_channels: 8\n"
                                 "  head_channels: 32\n"
                                 "  width_multipliers: [0.5, 1.0]\n"
                                 "  stages:\n"
                                 "    - {channels: 8, stride: 1, depths: [1, 2]}\n"
                                 "    - {channels: 16, stride: 2, depths: [2]}\n";

static char g_supernet[600];   /* written by the tiny spos search, read by the evaluator tests */
static double g_derived_acc = NAN;
static char g_derived[512];

static nas_space_t *load_text(nas_context_t *ctx, const char *yaml)
{
    nas_space_t *s = NULL;
    if (nas_space_load_string(&s, ctx, yaml, strlen(yaml), NULL) != NAS_OK)
        fail_msg("loading YAML: %s", nas_context_errmsg(ctx));
    return s;
}

/* The train evaluator's data (and the supernet evaluator's). */
static const char *const DATA_KV[][2] = {
    { "dataset", "fashion-mnist" }, { "max_samples", "768" }, { "val_fraction", "0.34" }, { "stem_stride", "2" },
};
#define N_DATA (sizeof DATA_KV / sizeof DATA_KV[0])

/* ---------------------------------------------------------------------- */
/* FairNAS's sub-models                                                     */

static void check_fair(const char *yaml, uint32_t want_n)
{
    nas_context_t *ctx = tu_context_threads(1);
    nas_space_t *s = load_text(ctx, yaml);
    uint32_t n = nas__fairnas_num_models(s);
    assert_int_equal(n, want_n);
    nas_arch_t *archs[16];
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(nas_arch_create(&archs[i], s), NAS_OK);
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 5, 0), NAS_OK);
    uint32_t first[64] = { 0 };
    bool varied = false;
    for (int step = 0; step < 40; step++) {
        assert_int_equal(nas__fairnas_submodels(s, rng, archs, n), NAS_OK);
        for (uint32_t d = 0; d < nas_space_num_arch_dims(s); d++) {
            nas_dim_info_t di = { .struct_size = sizeof di };
            assert_int_equal(nas_space_dim_info(s, d, &di), NAS_OK);
            if (di.kind != NAS_DIM_CATEGORICAL || di.role == NAS_ROLE_WIDTH || di.parent >= 0)
                continue;
            uint32_t count[16] = { 0 }, k = di.num_choices;
            for (uint32_t i = 0; i < n; i++) {
                uint32_t c = 99;
                assert_int_equal(nas_arch_get(archs[i], d, &c), NAS_OK);
                assert_true(c < k);
                count[c]++;
                if (i == 0 && d < 64) {
                    varied = varied || (step > 0 && c != first[d]);
                    first[d] = c;
                }
            }
            for (uint32_t c = 0; c < k; c++)
                if (count[c] != n / k && count[c] != (n + k - 1) / k)
                    fail_msg("step %d, decision %s: choice %u appears %u times in %u sub-models", step, di.name,
                             (unsigned)c, (unsigned)count[c], (unsigned)n);
        }
    }
    assert_true(varied);   /* the permutations are random */
    nas_rng_destroy(rng);
    for (uint32_t i = 0; i < n; i++)
        nas_arch_destroy(archs[i]);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_fair_submodels(void **unused)
{
    (void)unused;
    check_fair(NB201_YAML, 5);   /* every op decision: each op exactly once */
    check_fair(CHAIN_YAML, 3);   /* 2- and 3-choice decisions together */
    /* The width a supernet is built at: the largest multiplier. */
    nas_context_t *ctx = tu_context_threads(1);
    nas_space_t *s = load_text(ctx, CHAIN_YAML);
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, s), NAS_OK);
    uint32_t wd = 0;
    bool found = false;
    for (uint32_t d = 0; d < nas_space_num_arch_dims(s); d++) {
        nas_dim_info_t di = { .struct_size = sizeof di };
        assert_int_equal(nas_space_dim_info(s, d, &di), NAS_OK);
        if (di.role == NAS_ROLE_WIDTH) {
            wd = d;
            found = true;
        }
    }
    assert_true(found);
    assert_int_equal(nas_arch_set(a, wd, 0), NAS_OK);
    assert_int_equal(nas__supernet_pin_width(a), NAS_OK);
    double v = 0.0;
    assert_int_equal(nas_arch_get_value(a, wd, &v), NAS_OK);
    assert_true(v == 1.0);
    nas_arch_destroy(a);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* BN recalibration and gradient accumulation                               */

enum { RB = 4, RC = 3, RH = 2, RW = 2, RK = 3 };

/* input -> conv1x1 -> BN -> GAP -> FC -> loss */
static nas__plan_t *small_plan(nas__dev_t *dev, nas_context_t *ctx)
{
    nas__graph_t *g = NULL;
    assert_int_equal(nas__graph_create(&g, ctx), NAS_OK);
    int32_t x = nas__graph_add_input(g, RC, RH, RW);
    int32_t c = nas__graph_add_conv(g, x, RC, 1, 1, 1, 1, false);
    int32_t b = nas__graph_add_bn(g, c);
    int32_t p = nas__graph_add_gap(g, b);
    int32_t f = nas__graph_add_fc(g, p, 4, true);
    assert_true(nas__graph_add_loss(g, f, 0.0f) >= 0);
    nas__plan_opts_t po = NAS__PLAN_OPTS_INIT;
    po.batch = RB;
    po.train = true;
    po.init_stream = 3;
    nas__plan_t *pl = NULL;
    if (nas__plan_create(&pl, dev, g, &po) != NAS_OK)
        fail_msg("plan: %s", nas_context_errmsg(ctx));
    nas__graph_destroy(g);
    return pl;
}

/* The conv's output channel statistics of batch x: mean and unbiased variance per channel. */
static void conv_stats(nas__plan_t *p, const float *x, double *mean, double *var)
{
    enum { HW = RH * RW };
    float w[RC * RC];
    assert_int_equal(nas__plan_get_param(p, 0, w), NAS_OK);   /* O x I x 1 x 1 */
    for (int o = 0; o < RC; o++) {
        double v[RB * HW], s = 0.0, ss = 0.0;
        for (int b = 0; b < RB; b++)
            for (int q = 0; q < HW; q++) {
                double a = 0.0;
                for (int i = 0; i < RC; i++)
                    a += (double)w[o * RC + i] * x[(b * RC + i) * HW + q];
                v[b * HW + q] = a;
                s += a;
            }
        double m = s / (RB * HW);
        for (int k = 0; k < RB * HW; k++)
            ss += (v[k] - m) * (v[k] - m);
        mean[o] = m;
        var[o] = ss / (RB * HW - 1);
    }
}

static void test_bn_recalibration(void **unused)
{
    (void)unused;
    nas_context_t *ctx = tu_context_threads(2);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas__plan_t *p = small_plan(dev, ctx);
    enum { BF = RB * RC * RH * RW };
    float x[RK + 1][BF];
    int32_t y[(RK + 1) * RB];
    for (int k = 0; k <= RK; k++)
        for (int i = 0; i < BF; i++)
            x[k][i] = (float)(sin(0.7 * i + 1.3 * k) * (1.0 + k) + 0.5 * k);
    for (int i = 0; i < (RK + 1) * RB; i++)
        y[i] = i % 4;
    /* Old statistics first: recalibration must forget them. */
    for (int r = 0; r < 3; r++) {
        assert_int_equal(nas__plan_set_input(p, x[RK]), NAS_OK);
        assert_int_equal(nas__plan_set_labels(p, y), NAS_OK);
        assert_int_equal(nas__plan_forward(p, true), NAS_OK);
    }
    assert_int_equal(nas__supernet_recalibrate(p, &x[0][0], y, RK, BF), NAS_OK);
    int64_t n = nas__plan_state_elems(p);
    float *st = malloc((size_t)n * sizeof *st);
    assert_int_equal(nas__plan_export(p, st, n), NAS_OK);
    const float *rm = st + n - 2 * RC, *rv = st + n - RC;   /* the one BN's running mean, variance */
    double want_m[RC] = { 0 }, want_v[RC] = { 0 };
    for (int k = 0; k < RK; k++) {
        double m[RC], v[RC];
        conv_stats(p, x[k], m, v);
        for (int c = 0; c < RC; c++) {
            want_m[c] += m[c] / RK;
            want_v[c] += v[c] / RK;
        }
    }
    for (int c = 0; c < RC; c++) {
        if (fabs(rm[c] - want_m[c]) > 1e-4 * (1.0 + fabs(want_m[c])) ||
            fabs(rv[c] - want_v[c]) > 1e-4 * (1.0 + fabs(want_v[c])))
            fail_msg("channel %d: running mean %g var %g, want the batches' mean %g var %g", c, rm[c], rv[c],
                     want_m[c], want_v[c]);
    }
    /* The default momentum is back: one more forward moves the mean by 0.1 of the way. */
    double m3[RC], v3[RC];
    conv_stats(p, x[RK], m3, v3);
    assert_int_equal(nas__plan_set_input(p, x[RK]), NAS_OK);
    assert_int_equal(nas__plan_forward(p, true), NAS_OK);
    float *st2 = malloc((size_t)n * sizeof *st2);
    assert_int_equal(nas__plan_export(p, st2, n), NAS_OK);
    for (int c = 0; c < RC; c++) {
        double want = 0.9 * rm[c] + 0.1 * m3[c];
        assert_true(fabs(st2[n - 2 * RC + c] - want) < 1e-4 * (1.0 + fabs(want)));
    }
    free(st2);
    free(st);
    nas__plan_destroy(p);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

static void test_grad_accumulation(void **unused)
{
    (void)unused;
    nas_context_t *ctx = tu_context_threads(3);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas__plan_t *p = small_plan(dev, ctx);
    enum { BF = RB * RC * RH * RW };
    float x[2][BF];
    int32_t y[RB] = { 0, 1, 2, 3 };
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < BF; i++)
            x[k][i] = (float)cos(0.3 * i + k);
    size_t ng = nas__plan_grad_floats(p);
    assert_true(ng > 0);
    float *acc = malloc(ng * sizeof *acc);
    nas__plan_param_t info;
    nas__plan_param(p, 0, &info);
    size_t ne = (size_t)info.elems;
    float *g0 = malloc(ne * sizeof *g0), *g1 = malloc(ne * sizeof *g1), *gs = malloc(ne * sizeof *gs);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(nas__plan_set_input(p, x[k]), NAS_OK);
        assert_int_equal(nas__plan_set_labels(p, y), NAS_OK);
        assert_int_equal(nas__plan_forward(p, true), NAS_OK);
        assert_int_equal(nas__plan_backward(p), NAS_OK);
        assert_int_equal(nas__plan_get_param_grad(p, 0, k ? g1 : g0), NAS_OK);
        assert_int_equal(nas__plan_grads_accumulate(p, acc, k == 0), NAS_OK);
    }
    assert_int_equal(nas__plan_grads_load(p, acc), NAS_OK);
    assert_int_equal(nas__plan_get_param_grad(p, 0, gs), NAS_OK);
    for (size_t i = 0; i < ne; i++)
        assert_true(fabs(gs[i] - (g0[i] + g1[i])) <= 1e-6 * (1.0 + fabs(gs[i])));
    free(g0);
    free(g1);
    free(gs);
    free(acc);
    nas__plan_destroy(p);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Tiny searches                                                            */

typedef struct progress_log {
    int epochs, searched, trials;
    unsigned long long fair_steps, fair_lo, fair_hi;
    double derived_acc;
} progress_log_t;

static void on_progress(void *user, const nas_progress_t *p)
{
    progress_log_t *l = user;
    const char *s = p->last_arch ? p->last_arch : "";
    const char *q;
    unsigned models = 0;
    if (strstr(s, " epoch "))
        l->epochs++;
    else if (strstr(s, " search "))
        l->searched++;
    else if ((q = strstr(s, "fairness ")))
        assert_int_equal(sscanf(q, "fairness %llu steps %u models: every path ran %llu..%llu", &l->fair_steps,
                                &models, &l->fair_lo, &l->fair_hi), 4);
    else if ((q = strstr(s, " derived accuracy ")))
        l->derived_acc = strtod(q + 18, NULL);
    else if (!strstr(s, "the derived architecture for "))   /* not the announcement of the retrain */
        l->trials++;
}

static void tiny_search(const char *strategy, const char *yaml, const char *const (*extra)[2], size_t n_extra,
                        progress_log_t *log)
{
    nas_context_t *ctx = tu_context_threads(4);
    nas_space_t *s = load_text(ctx, yaml);
    nas_params_t *ep = tu_params(ctx, DATA_KV, N_DATA);
    static const char *const tkv[][2] = { { "epochs", "1" }, { "batch_size", "64" }, { "latency", "false" } };
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(nas_params_set(ep, tkv[i][0], tkv[i][1]), NAS_OK);
    nas_evaluator_t *ev = NULL;
    if (nas_evaluator_create(&ev, s, "train", ep) != NAS_OK)
        fail_msg("train evaluator: %s", nas_context_errmsg(ctx));
    char apath[600];
    snprintf(apath, sizeof apath, "%s/search.json", tu_tmpdir());
    nas_params_t *sp = tu_params(ctx, extra, n_extra);
    static const char *const skv[][2] = { { "epochs", "1" }, { "search_trials", "8" }, { "population", "4" },
                                          { "recalib_batches", "2" }, { "eval_batches", "2" } };
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(nas_params_set(sp, skv[i][0], skv[i][1]), NAS_OK);
    assert_int_equal(nas_params_set(sp, "arch_path", apath), NAS_OK);
    nas_searcher_opts_t so = NAS_SEARCHER_OPTS_INIT;
    so.seed = 9;
    nas_searcher_t *se = NULL;
    if (nas_searcher_create(&se, s, strategy, sp, &so) != NAS_OK)
        fail_msg("%s: %s", strategy, nas_context_errmsg(ctx));
    memset(log, 0, sizeof *log);
    log->derived_acc = NAN;
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 1;
    ro.progress = on_progress;
    ro.progress_user_data = log;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, se, ev, &ro), NAS_OK);
    double t0 = nas__now();
    nas_status_t st = nas_run_execute(run);
    if (st != NAS_OK)
        fail_msg("%s: %s: %s", strategy, nas_status_name(st), nas_run_errmsg(run));
    fprintf(stderr, "%s: tiny search and retrain in %.2f s\n", strategy, nas__now() - t0);
    assert_int_equal(log->epochs, 2);     /* the initial state and one epoch */
    assert_int_equal(log->searched, 8);   /* every candidate of the search phase */
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
    assert_true(log->derived_acc >= 0.0 && log->derived_acc <= 100.0);
    /* The search file: the candidates, and the derived arch is the retrained one. */
    char *text = tu_read_file(apath, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"candidates\":["));
    assert_non_null(strstr(text, "\"pareto\":true"));
    assert_null(strstr(text, "\"cost\":null"));   /* every candidate has its cost */
    assert_non_null(strstr(text, yaml == CHAIN_YAML ? "\"cost\":\"latency_ms\"" : "\"cost\":\"params\""));
    const char *d = strstr(text, "\"derived\":\"");
    assert_non_null(d);
    assert_int_equal(strncmp(d + 11, arch, strlen(arch)), 0);
    if (strcmp(strategy, "spos") == 0)
        snprintf(g_derived, sizeof g_derived, "%s", arch);
    free(text);
    nas_run_destroy(run);
    nas_searcher_destroy(se);
    nas_evaluator_destroy(ev);
    nas_params_destroy(sp);
    nas_params_destroy(ep);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_spos_tiny(void **unused)
{
    (void)unused;
    snprintf(g_supernet, sizeof g_supernet, "%s/supernet.bin", tu_tmpdir());
    const char *const kv[][2] = { { "supernet_path", g_supernet } };
    progress_log_t log;
    tiny_search("spos", NB201_YAML, kv, 1, &log);
    g_derived_acc = log.derived_acc;
    size_t len = 0;
    char *bin = tu_read_file(g_supernet, &len);
    assert_non_null(bin);
    assert_true(len > 1000 && memcmp(bin, "NASSUPER", 8) == 0);
    free(bin);
}

static void test_fairnas_tiny(void **unused)
{
    (void)unused;
    static const char *const kv[][2] = { { "search", "nsga2" } };
    progress_log_t log;
    tiny_search("fairnas", NB201_YAML, kv, 1, &log);
    /* 768 x 0.66 training images in batches of 64: 7 steps; every path of every mixed node ran once each. */
    assert_true(log.fair_steps >= 5);
    if (log.fair_lo != log.fair_steps || log.fair_hi != log.fair_steps)
        fail_msg("fairnas: over %llu steps the paths ran %llu..%llu times", log.fair_steps, log.fair_lo, log.fair_hi);
}

/* A chain space (depth, width, 2- and 3-choice layers): FairNAS with NSGA-II on accuracy vs the
 * latency table's prediction under a latency limit. */
static void test_fairnas_chain_latency(void **unused)
{
    (void)unused;
    static const char *const kv[][2] = { { "search", "nsga2" }, { "cost_limit", "1000" } };
    progress_log_t log;
    tiny_search("fairnas", CHAIN_YAML, kv, 2, &log);
    assert_true(log.fair_steps >= 5 && log.fair_hi >= log.fair_lo);
}

/* ---------------------------------------------------------------------- */
/* The supernet evaluator                                                   */

static nas_status_t make_supernet_ev(nas_context_t *ctx, nas_space_t *s, const char *weights, nas_evaluator_t **ev)
{
    nas_params_t *p = tu_params(ctx, DATA_KV, N_DATA);
    static const char *const kv[][2] = { { "recalib_batches", "2" }, { "eval_batches", "2" } };
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(nas_params_set(p, kv[i][0], kv[i][1]), NAS_OK);
    if (weights)
        assert_int_equal(nas_params_set(p, "weights", weights), NAS_OK);
    nas_status_t st = nas_evaluator_create(ev, s, "supernet", p);
    nas_params_destroy(p);
    return st;
}

static double eval_arch(nas_context_t *ctx, nas_evaluator_t *ev, nas_space_t *s, const char *arch, double *params)
{
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, s), NAS_OK);
    assert_int_equal(nas_arch_from_string(a, arch), NAS_OK);
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, ctx), NAS_OK);
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    c.arch = a;
    assert_int_equal(nas_evaluator_evaluate(ev, &c, res), NAS_OK);
    if (nas_result_status(res) != NAS_OK)
        fail_msg("%s: %s", arch, nas_result_message(res));
    double acc = NAN, loss = NAN;
    assert_int_equal(nas_result_get_metric(res, "accuracy", &acc), NAS_OK);
    assert_int_equal(nas_result_get_metric(res, "val_loss", &loss), NAS_OK);
    assert_int_equal(nas_result_get_metric(res, "params", params), NAS_OK);
    assert_true(isfinite(loss) && *params > 0);
    nas_result_destroy(res);
    nas_arch_destroy(a);
    return acc;
}

static void test_supernet_evaluator(void **unused)
{
    (void)unused;
    assert_true(g_supernet[0] && g_derived[0]);
    nas_context_t *ctx = tu_context_threads(4);   /* the search's seed: the same scoring batches */
    nas_space_t *s = load_text(ctx, NB201_YAML);
    nas_evaluator_t *ev = NULL;
    if (make_supernet_ev(ctx, s, g_supernet, &ev) != NAS_OK)
        fail_msg("supernet evaluator: %s", nas_context_errmsg(ctx));
    double p1 = 0, p2 = 0, p3 = 0;
    double t0 = nas__now();
    double a1 = eval_arch(ctx, ev, s, g_derived, &p1);
    fprintf(stderr, "supernet evaluator: one architecture in %.1f ms\n", 1e3 * (nas__now() - t0));
    const char *conv = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";
    const char *skip = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|";
    double a2 = eval_arch(ctx, ev, s, conv, &p2);
    double a3 = eval_arch(ctx, ev, s, skip, &p3);
    assert_true(a1 >= 0.0 && a1 <= 100.0 && a2 >= 0.0 && a2 <= 100.0 && a3 >= 0.0 && a3 <= 100.0);
    assert_true(p2 > p3);   /* the sub-network's own parameters */
    /* Recalibration replaces the statistics: the same arch scores the same after others. */
    double again = eval_arch(ctx, ev, s, g_derived, &p1);
    assert_true(fabs(again - a1) < 1e-9);
    /* The search scored the derived arch on the same weights and batches (reported with 2 decimals). */
    if (!(fabs(a1 - g_derived_acc) < 0.006))
        fail_msg("derived arch: the evaluator scores %.4f, the search scored %.2f", a1, g_derived_acc);
    nas_evaluator_destroy(ev);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void copy_file_with(const char *src, const char *dst, long flip_at, long cut)
{
    size_t len = 0;
    char *b = tu_read_file(src, &len);
    assert_non_null(b);
    if (flip_at >= 0)
        b[flip_at < (long)len ? flip_at : (long)len / 2] ^= 0x10;
    if (cut > 0)
        len -= (size_t)cut;
    FILE *f = fopen(dst, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
    free(b);
}

static void test_supernet_refusals(void **unused)
{
    (void)unused;
    assert_true(g_supernet[0]);
    nas_context_t *ctx = tu_context_threads(4);
    nas_space_t *s = load_text(ctx, NB201_YAML);
    nas_evaluator_t *ev = NULL;
    /* no weights parameter */
    assert_int_equal(make_supernet_ev(ctx, s, NULL, &ev), NAS_E_INVAL);
    assert_null(ev);
    assert_non_null(strstr(nas_context_errmsg(ctx), "weights"));
    /* missing file */
    char path[700];
    snprintf(path, sizeof path, "%s/none.bin", tu_tmpdir());
    assert_int_equal(make_supernet_ev(ctx, s, path, &ev), NAS_E_NOT_FOUND);
    assert_non_null(strstr(nas_context_errmsg(ctx), "none.bin"));
    /* a flipped bit in the weights, in the header; a truncated file; not a supernet file */
    const long flips[] = { 5000, 40, 0 };
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/bad.bin", tu_tmpdir());
        copy_file_with(g_supernet, path, flips[i], 0);
        assert_int_equal(make_supernet_ev(ctx, s, path, &ev), NAS_E_CORRUPT);
        assert_null(ev);
        assert_non_null(strstr(nas_context_errmsg(ctx), "not a valid supernet file"));
    }
    copy_file_with(g_supernet, path, -1, 100);
    assert_int_equal(make_supernet_ev(ctx, s, path, &ev), NAS_E_CORRUPT);
    tu_write_file(path, "hello");
    assert_int_equal(make_supernet_ev(ctx, s, path, &ev), NAS_E_CORRUPT);
    /* another space: same name, other ops; and another name */
    nas_space_t *o = load_text(ctx, NB201_OTHER_YAML);
    assert_int_equal(make_supernet_ev(ctx, o, g_supernet, &ev), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(ctx), "differs"));
    nas_space_t *c = load_text(ctx, CHAIN_YAML);
    assert_int_equal(make_supernet_ev(ctx, c, g_supernet, &ev), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(ctx), "sp-nb201"));
    nas_space_destroy(c);
    nas_space_destroy(o);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_blackbox_on_supernet(void **unused)
{
    (void)unused;
    assert_true(g_supernet[0]);
    nas_context_t *ctx = tu_context_threads(4);
    nas_space_t *s = load_text(ctx, NB201_YAML);
    nas_evaluator_t *ev = NULL;
    if (make_supernet_ev(ctx, s, g_supernet, &ev) != NAS_OK)
        fail_msg("supernet evaluator: %s", nas_context_errmsg(ctx));
    nas_params_t *sp = NULL;
    assert_int_equal(nas_params_create(&sp, ctx), NAS_OK);
    assert_int_equal(nas_params_set(sp, "population", "4"), NAS_OK);
    nas_searcher_t *se = NULL;
    assert_int_equal(nas_searcher_create(&se, s, "evolution", sp, NULL), NAS_OK);
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 10;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, se, ev, &ro), NAS_OK);
    double t0 = nas__now();
    if (nas_run_execute(run) != NAS_OK)
        fail_msg("evolution on the supernet: %s", nas_run_errmsg(run));
    fprintf(stderr, "evolution: 10 trials on the supernet in %.2f s\n", nas__now() - t0);
    assert_int_equal(nas_run_num_trials(run), 10);
    for (uint64_t i = 0; i < 10; i++) {
        uint64_t id;
        const char *arch;
        const nas_result_t *res;
        assert_int_equal(nas_run_trial(run, i, &id, &arch, &res), NAS_OK);
        assert_int_equal(nas_result_status(res), NAS_OK);
    }
    uint64_t best = 0;
    assert_int_equal(nas_run_best(run, &best), NAS_OK);
    nas_run_destroy(run);
    nas_searcher_destroy(se);
    nas_params_destroy(sp);
    nas_evaluator_destroy(ev);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* Bad parameters, and spos on another evaluator than train. */
static void test_search_refusals(void **unused)
{
    (void)unused;
    assert_true(g_supernet[0]);
    nas_context_t *ctx = tu_context_threads(4);
    nas_space_t *s = load_text(ctx, NB201_YAML);
    static const struct {
        const char *key, *value;
        nas_status_t st;
    } bad[] = {
        { "search", "annealing", NAS_E_INVAL }, { "cost", "energy", NAS_E_INVAL },
        { "cost", "latency", NAS_E_UNSUPPORTED },   /* no latency table for cell spaces */
        { "search_trials", "0", NAS_E_INVAL },    { "population", "1", NAS_E_INVAL },
        { "eval_batches", "0", NAS_E_INVAL },     { "supernet_path", "", NAS_E_INVAL },
        { "cost_limit", "-1", NAS_E_INVAL },      { "no_such_key", "1", NAS_E_INVAL },
        /* DARTS's architecture-weight parameters: no architecture weights here, so refused */
        { "arch_lr", "0.001", NAS_E_INVAL },      { "arch_wd", "0", NAS_E_INVAL },
        { "alpha_init_std", "0.1", NAS_E_INVAL }, { "max_skip", "2", NAS_E_INVAL },
        { "keep_none", "false", NAS_E_INVAL },
    };
    for (int strat = 0; strat < 2; strat++)
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            nas_params_t *p = NULL;
            assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
            assert_int_equal(nas_params_set(p, bad[i].key, bad[i].value), NAS_OK);
            nas_searcher_t *se = NULL;
            nas_status_t st = nas_searcher_create(&se, s, strat ? "fairnas" : "spos", p, NULL);
            if (st != bad[i].st)
                fail_msg("%s=%s: %s (%s)", bad[i].key, bad[i].value, nas_status_name(st), nas_context_errmsg(ctx));
            assert_null(se);
            assert_non_null(strstr(nas_context_errmsg(ctx), bad[i].key));
            nas_params_destroy(p);
        }
    /* ask outside a run, and a run on the supernet evaluator: refused with a message */
    nas_searcher_t *se = NULL;
    assert_int_equal(nas_searcher_create(&se, s, "spos", NULL, NULL), NAS_OK);
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, s), NAS_OK);
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    c.arch = a;
    assert_int_equal(nas_searcher_ask(se, &c), NAS_E_UNSUPPORTED);
    nas_evaluator_t *ev = NULL;
    if (make_supernet_ev(ctx, s, g_supernet, &ev) != NAS_OK)
        fail_msg("supernet evaluator: %s", nas_context_errmsg(ctx));
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 1;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, se, ev, &ro), NAS_OK);
    assert_int_equal(nas_run_execute(run), NAS_E_UNSUPPORTED);
    assert_non_null(strstr(nas_run_errmsg(run), "train"));
    nas_run_destroy(run);
    nas_evaluator_destroy(ev);
    nas_arch_destroy(a);
    nas_searcher_destroy(se);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* A cancel in the search phase: NAS_E_ABORTED at once, no trial. */
typedef struct cancel_state {
    int searched;
} cancel_state_t;

static void count_search(void *user, const nas_progress_t *p)
{
    cancel_state_t *c = user;
    if (p->last_arch && strstr(p->last_arch, " search "))
        c->searched++;
}

static bool cancel_after_two(void *user)
{
    return ((cancel_state_t *)user)->searched >= 2;
}

static void test_cancel_in_search(void **unused)
{
    (void)unused;
    nas_context_t *ctx = tu_context_threads(4);
    nas_space_t *s = load_text(ctx, NB201_YAML);
    nas_params_t *ep = tu_params(ctx, DATA_KV, N_DATA);
    assert_int_equal(nas_params_set(ep, "latency", "false"), NAS_OK);
    nas_evaluator_t *ev = NULL;
    assert_int_equal(nas_evaluator_create(&ev, s, "train", ep), NAS_OK);
    static const char *const skv[][2] = { { "epochs", "1" }, { "search_trials", "50" }, { "population", "4" },
                                          { "recalib_batches", "1" }, { "eval_batches", "1" } };
    nas_params_t *sp = tu_params(ctx, skv, 5);
    nas_searcher_t *se = NULL;
    assert_int_equal(nas_searcher_create(&se, s, "spos", sp, NULL), NAS_OK);
    cancel_state_t c = { 0 };
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 1;
    ro.progress = count_search;
    ro.progress_user_data = &c;
    ro.cancel = cancel_after_two;
    ro.cancel_user_data = &c;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, se, ev, &ro), NAS_OK);
    assert_int_equal(nas_run_execute(run), NAS_E_ABORTED);
    assert_int_equal(c.searched, 2);
    assert_int_equal(nas_run_num_trials(run), 0);
    if (!strstr(nas_run_errmsg(run), "cancelled"))
        fail_msg("message: %s", nas_run_errmsg(run));
    nas_run_destroy(run);
    nas_searcher_destroy(se);
    nas_params_destroy(sp);
    nas_evaluator_destroy(ev);
    nas_params_destroy(ep);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fair_submodels),
        cmocka_unit_test(test_bn_recalibration),
        cmocka_unit_test(test_grad_accumulation),
        cmocka_unit_test(test_spos_tiny),
        cmocka_unit_test(test_fairnas_tiny),
        cmocka_unit_test(test_fairnas_chain_latency),
        cmocka_unit_test(test_supernet_evaluator),
        cmocka_unit_test(test_supernet_refusals),
        cmocka_unit_test(test_blackbox_on_supernet),
        cmocka_unit_test(test_search_refusals),
        cmocka_unit_test(test_cancel_in_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
