/*
 * ENAS (src/search/enas.c): a tiny search on a Fashion-MNIST subset end to end (per-epoch, controller
 * and derive reports, one retrained trial, the controller's probabilities in the log), both controllers
 * learning to prefer a clearly better op, a cancel in the weight and in the controller phase, a budget
 * spent at once (derive and retrain still run), refusals (ask, not the train evaluator, bad
 * parameters), and an out-of-memory sweep of the searcher's creation.
 */
#include "testutil.h"
#include "core/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NAS-Bench-201's cell (6 edges, 5 ops), one cell per stage. */
static const char NB201_YAML[] = "name: enas-nb201\n"
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

/* One edge per cell, none or a conv: none zeroes the cell, so every sample with it scores ~10%. */
static const char NONE_CONV_YAML[] = "name: enas-none-conv\n"
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

/* One compute thread (NAS_TEST_THREADS overrides): meson runs test programs side by side. */
static nas_space_t *load_text(nas_context_t *ctx, const char *yaml)
{
    nas_space_t *s = NULL;
    if (nas_space_load_string(&s, ctx, yaml, strlen(yaml), NULL) != NAS_OK)
        fail_msg("loading YAML: %s", nas_context_errmsg(ctx));
    return s;
}

/* The train evaluator on ~500 + ~260 Fashion-MNIST images, 1-epoch retrain. */
static nas_evaluator_t *train_evaluator(nas_context_t *ctx, nas_space_t *s, nas_params_t **ep)
{
    static const char *const ekv[][2] = {
        { "dataset", "fashion-mnist" }, { "max_samples", "768" }, { "val_fraction", "0.34" },
        { "epochs", "1" },              { "batch_size", "64" },   { "stem_stride", "2" },
        { "latency", "false" },
    };
    *ep = tu_params(ctx, ekv, sizeof ekv / sizeof ekv[0]);
    nas_evaluator_t *ev = NULL;
    if (nas_evaluator_create(&ev, s, "train", *ep) != NAS_OK)
        fail_msg("train evaluator: %s", nas_context_errmsg(ctx));
    return ev;
}

/* What the run reported. */
typedef struct progress_log {
    int epochs;          /* the driver's per-epoch lines ("enas epoch E/N ...") */
    int controller;      /* "enas controller E/N: reward R entropy H ..." */
    int derive;
    int trials;
    double reward[8], entropy[8];
} progress_log_t;

static void on_progress(void *user, const nas_progress_t *p)
{
    progress_log_t *l = user;
    const char *w = p->last_arch;
    unsigned e = 0, n = 0;
    if (w && strncmp(w, "enas epoch ", 11) == 0) {
        l->epochs++;
    } else if (w && strncmp(w, "enas controller ", 16) == 0) {
        double r = NAN, h = NAN;
        if (sscanf(w + 16, "%u/%u: reward %lf entropy %lf", &e, &n, &r, &h) != 4)
            fail_msg("controller line '%s'", w);
        if (l->controller < 8) {
            l->reward[l->controller] = r;
            l->entropy[l->controller] = h;
        }
        assert_int_equal(e, (unsigned)l->controller + 1);
        l->controller++;
    } else if (w && strncmp(w, "enas derive: ", 13) == 0) {
        l->derive++;
    } else if (w && strstr(w, "the derived architecture for ")) {
        /* the announcement of the retrain, not a trial */
    } else {
        l->trials++;
    }
}

/* The n floats of epoch e's "weights" in an alphas file. */
static void read_weights(const char *text, int e, float *out, size_t n)
{
    const char *q = text;
    for (int i = 0; i <= e; i++) {
        if (!(q = strstr(q, "\"weights\":")))
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

/*
 * A search of `epochs` (<= 8) supernet epochs and one retrain; extra: the searcher's parameters. *wl
 * (2 x edges x ops floats) gets the last epoch's logged weights, arch_out (cap 512) the retrained arch.
 */
static void tiny_search(const char *yaml, int edges, int ops, int epochs, const char *const (*extra)[2],
                        size_t n_extra, float *wl, char *arch_out, progress_log_t *pl)
{
    nas_context_t *ctx = tu_context_threads(4);
    nas_space_t *s = load_text(ctx, yaml);
    nas_params_t *ep = NULL;
    nas_evaluator_t *ev = train_evaluator(ctx, s, &ep);
    char path[600];
    snprintf(path, sizeof path, "%s/alphas.json", tu_tmpdir());
    nas_params_t *sp = tu_params(ctx, extra, n_extra);
    char ne[16];
    snprintf(ne, sizeof ne, "%d", epochs);
    assert_int_equal(nas_params_set(sp, "epochs", ne), NAS_OK);
    assert_int_equal(nas_params_set(sp, "alphas_path", path), NAS_OK);
    nas_searcher_opts_t so = NAS_SEARCHER_OPTS_INIT;
    so.seed = 9;
    nas_searcher_t *se = NULL;
    if (nas_searcher_create(&se, s, "enas", sp, &so) != NAS_OK)
        fail_msg("enas: %s", nas_context_errmsg(ctx));
    memset(pl, 0, sizeof *pl);
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 1;
    ro.progress = on_progress;
    ro.progress_user_data = pl;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, se, ev, &ro), NAS_OK);
    nas_status_t st = nas_run_execute(run);
    if (st != NAS_OK)
        fail_msg("enas: %s: %s", nas_status_name(st), nas_run_errmsg(run));
    assert_int_equal(pl->epochs, epochs + 1);   /* the initial line and one per epoch */
    assert_int_equal(pl->controller, epochs);
    assert_int_equal(pl->derive, 1);
    assert_int_equal(pl->trials, 1);
    assert_int_equal(nas_run_num_trials(run), 1);
    for (int e = 0; e < epochs; e++) {
        assert_true(pl->reward[e] >= 0.0 && pl->reward[e] <= 1.0);
        assert_true(pl->entropy[e] >= 0.0 && pl->entropy[e] <= edges * log((double)ops) + 1e-9);
    }
    uint64_t id;
    const char *arch;
    const nas_result_t *res;
    assert_int_equal(nas_run_trial(run, 0, &id, &arch, &res), NAS_OK);
    if (nas_result_status(res) != NAS_OK)
        fail_msg("enas: the retrain failed: %s", nas_result_message(res));
    double acc = -1.0;
    assert_int_equal(nas_result_get_metric(res, "accuracy", &acc), NAS_OK);
    assert_true(acc >= 0.0 && acc <= 100.0);
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, s), NAS_OK);
    assert_int_equal(nas_arch_from_string(a, arch), NAS_OK);
    nas_arch_destroy(a);
    snprintf(arch_out, 512, "%s", arch);

    /* The logged weights: uniform at first, then a distribution per mixed node, tied across cells. */
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"strategy\":\"enas\""));
    float w0[64];
    int nw = 2 * edges * ops;
    assert_true(nw <= 64);
    read_weights(text, 0, w0, (size_t)nw);
    read_weights(text, epochs, wl, (size_t)nw);
    for (int m = 0; m < 2 * edges; m++) {
        double sum = 0.0;
        for (int k = 0; k < ops; k++) {
            assert_true(fabs(w0[m * ops + k] - 1.0 / ops) < 1e-6);
            sum += wl[m * ops + k];
            if (m < edges)
                assert_true(wl[m * ops + k] == wl[(m + edges) * ops + k]);
        }
        assert_true(fabs(sum - 1.0) < 1e-4);
    }
    free(text);

    nas_run_destroy(run);
    nas_searcher_destroy(se);
    nas_evaluator_destroy(ev);
    nas_params_destroy(sp);
    nas_params_destroy(ep);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* The default (LSTM) controller on NAS-Bench-201's cell, end to end. */
static void test_enas_tiny(void **unused)
{
    (void)unused;
    static const char *const kv[][2] = {
        { "controller_steps", "6" }, { "derive_samples", "3" }, { "derive_batches", "2" },
    };
    float w[60];
    char arch[512];
    progress_log_t log;
    tiny_search(NB201_YAML, 6, 5, 2, kv, sizeof kv / sizeof kv[0], w, arch, &log);
    fprintf(stderr, "enas (lstm): rewards %.3f %.3f, entropies %.3f %.3f, retrained %s\n", log.reward[0],
            log.reward[1], log.entropy[0], log.entropy[1], arch);
}

/* Rewards move the policy towards the clearly better op: a conv over none (which zeroes the cell). */
static void prefers_better_op(const char *controller, const char *lr)
{
    const char *const kv[][2] = {
        { "controller", controller }, { "controller_lr", lr },  { "controller_steps", "16" },
        { "derive_samples", "2" },    { "derive_batches", "1" },
    };
    float w[4];
    char arch[512];
    progress_log_t log;
    tiny_search(NONE_CONV_YAML, 1, 2, 4, kv, sizeof kv / sizeof kv[0], w, arch, &log);
    fprintf(stderr, "enas (%s): p(none), p(conv) %.3f %.3f; rewards", controller, w[0], w[1]);
    for (int e = 0; e < log.controller; e++)
        fprintf(stderr, " %.3f", log.reward[e]);
    fprintf(stderr, "\n");
    if (!(w[1] > 0.7f))
        fail_msg("%s: p(conv) %.3f after the search", controller, w[1]);
    assert_non_null(strstr(arch, "nor_conv_3x3"));
}

static void test_independent_prefers_better_op(void **unused)
{
    (void)unused;
    prefers_better_op("independent", "0.1");
}

static void test_lstm_prefers_better_op(void **unused)
{
    (void)unused;
    prefers_better_op("lstm", "0.0035");
}

/* A cancel stops the search at once (NAS_E_ABORTED, no trial), in the weight or controller phase. */
static bool cancel_after(void *user)
{
    int *polls = user;
    return --*polls < 0;
}

static void test_cancel(void **unused)
{
    (void)unused;
    nas_context_t *ctx = tu_context_threads(7);
    nas_space_t *s = load_text(ctx, NB201_YAML);
    nas_params_t *ep = NULL;
    nas_evaluator_t *ev = train_evaluator(ctx, s, &ep);
    static const char *const kv[][2] = { { "controller_steps", "1000" } };
    nas_params_t *sp = tu_params(ctx, kv, 1);
    /* ~500 training images: 8 batches, 9 polls per epoch; the 3rd and the 20th poll cancel. */
    static const struct {
        int polls;
        const char *where;
    } cases[] = { { 2, "epoch 1" }, { 19, "controller" } };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nas_searcher_t *se = NULL;
        assert_int_equal(nas_searcher_create(&se, s, "enas", sp, NULL), NAS_OK);
        int polls = cases[i].polls;
        nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
        ro.max_trials = 1;
        ro.cancel = cancel_after;
        ro.cancel_user_data = &polls;
        nas_run_t *run = NULL;
        assert_int_equal(nas_run_create(&run, se, ev, &ro), NAS_OK);
        assert_int_equal(nas_run_execute(run), NAS_E_ABORTED);
        assert_int_equal(polls, -1);
        assert_int_equal(nas_run_num_trials(run), 0);
        assert_string_equal(nas_run_stop_reason(run), "cancelled");
        if (!strstr(nas_searcher_errmsg(se), cases[i].where))
            fail_msg("cancel %zu: message '%s'", i, nas_searcher_errmsg(se));
        nas_run_destroy(run);
        nas_searcher_destroy(se);
    }
    nas_params_destroy(sp);
    nas_evaluator_destroy(ev);
    nas_params_destroy(ep);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* A budget spent at once ends the supernet phase before any step: the derive and the retrain still run. */
static void test_budget(void **unused)
{
    (void)unused;
    nas_context_t *ctx = tu_context_threads(8);
    nas_space_t *s = load_text(ctx, NB201_YAML);
    nas_params_t *ep = NULL;
    nas_evaluator_t *ev = train_evaluator(ctx, s, &ep);
    static const char *const kv[][2] = { { "derive_samples", "2" }, { "derive_batches", "1" } };
    nas_params_t *sp = tu_params(ctx, kv, 2);
    nas_searcher_t *se = NULL;
    assert_int_equal(nas_searcher_create(&se, s, "enas", sp, NULL), NAS_OK);
    progress_log_t log;
    memset(&log, 0, sizeof log);
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 1;
    ro.max_seconds = 1e-9;
    ro.progress = on_progress;
    ro.progress_user_data = &log;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, se, ev, &ro), NAS_OK);
    nas_status_t st = nas_run_execute(run);
    if (st != NAS_OK)
        fail_msg("%s: %s", nas_status_name(st), nas_run_errmsg(run));
    assert_int_equal(log.epochs, 2);       /* the initial line and the cut epoch */
    assert_int_equal(log.controller, 0);   /* no sample: no line */
    assert_int_equal(log.derive, 1);
    assert_int_equal(nas_run_num_trials(run), 1);
    nas_run_destroy(run);
    nas_searcher_destroy(se);
    nas_params_destroy(sp);
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
    nas_searcher_t *se = NULL;
    assert_int_equal(nas_searcher_create(&se, s, "enas", NULL, NULL), NAS_OK);
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
        fail_msg("message '%s'", nas_run_errmsg(run));
    assert_int_equal(nas_run_num_trials(run), 0);
    nas_run_destroy(run);
    nas_searcher_destroy(se);
    /* Parameters */
    static const struct {
        const char *key, *value, *msg;
    } bad[] = {
        { "controller", "gru", "'controller'" },
        { "controller_hidden", "0", "'controller_hidden'" },
        { "controller_hidden", "513", "'controller_hidden'" },
        { "controller_lr", "0", "'controller_lr'" },
        { "controller_steps", "0", "'controller_steps'" },
        { "controller_batch", "0", "'controller_batch'" },
        { "entropy", "-1", "'entropy'" },
        { "baseline_decay", "1", "'baseline_decay'" },
        { "derive_samples", "-1", "'derive_samples'" },
        { "derive_batches", "0", "'derive_batches'" },
        { "epochs", "0", "'epochs'" },
        { "w_lr", "0", "'w_lr'" },
        { "alphas_path", "", "'alphas_path'" },
        { "arch_lr", "0.1", "'arch_lr': does not apply" },
        { "max_skip", "2", "'max_skip': does not apply" },
        { "keep_none", "true", "'keep_none': does not apply" },
        { "tau_max", "5", "'tau_max'" },
        { "temperature", "0", "'temperature'" },
        { "tanh_constant", "-2", "'tanh_constant'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nas_params_t *p = NULL;
        assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
        assert_int_equal(nas_params_set(p, bad[i].key, bad[i].value), NAS_OK);
        se = NULL;
        nas_status_t st = nas_searcher_create(&se, s, "enas", p, NULL);
        if (st != NAS_E_INVAL || !strstr(nas_context_errmsg(ctx), bad[i].msg))
            fail_msg("%s=%s: %s (%s)", bad[i].key, bad[i].value, nas_status_name(st), nas_context_errmsg(ctx));
        assert_null(se);
        nas_params_destroy(p);
    }
    nas_evaluator_destroy(ev);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* Creation of either controller with the Nth allocation failing (the space's own are not failed). */
static nas_status_t body_create(nas_context_t *ctx, void *arg)
{
    tu_alloc_t *a = ctx->alloc.user_data;
    long fail_at = a->fail_at, before = a->allocs;
    a->fail_at = 0;
    nas_space_t *s = load_text(ctx, NB201_YAML);
    a->fail_at = fail_at > before ? fail_at + (a->allocs - before) : fail_at;
    nas_params_t *p = NULL;
    nas_searcher_t *se = NULL;
    nas_status_t st = nas_params_create(&p, ctx);
    if (st == NAS_OK)
        st = nas_params_set(p, "controller", arg);
    if (st == NAS_OK)
        st = nas_searcher_create(&se, s, "enas", p, NULL);
    nas_searcher_destroy(se);
    nas_params_destroy(p);
    nas_space_destroy(s);
    return st;
}

static void test_oom_create(void **unused)
{
    (void)unused;
    tu_oom_sweep(body_create, "lstm");
    tu_oom_sweep(body_create, "independent");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_oom_create),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_enas_tiny),
        cmocka_unit_test(test_independent_prefers_better_op),
        cmocka_unit_test(test_lstm_prefers_better_op),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
