/* The run driver: budgets, cancel, failed trials, journal, summary, and searches on NAS-Bench-201. */
#include "testutil.h"
#include "search/search_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const NB201_OPS[] = { "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3" };

static nas_space_t *cell_space(nas_context_t *ctx, uint32_t num_ops, uint32_t nodes)
{
    nas_space_t *s = NULL;
    assert_int_equal(nas_space_create(&s, ctx, num_ops == 5 && nodes == 3 ? "nb201" : "tiny"), NAS_OK);
    nas_cell_spec_t c = { sizeof c, NB201_OPS, num_ops, 1, nodes, 0, NULL, 0, NAS_CELL_OUTPUT_LAST };
    assert_int_equal(nas_space_set_cell(s, &c), NAS_OK);
    nas_macro_stage_t st[3] = { { 5, 16 }, { 5, 32 }, { 5, 64 } };
    nas_macro_spec_t m = { sizeof m, 16, st, 3, NAS_REDUCTION_RESIDUAL };
    assert_int_equal(nas_space_set_macro(s, &m), NAS_OK);
    assert_int_equal(nas_space_build(s), NAS_OK);
    return s;
}

/* Everything one test needs; fields left NULL are not made. */
typedef struct fixture {
    nas_context_t *ctx;
    nas_space_t *space;
    nas_searcher_t *searcher;
    nas_evaluator_t *ev;
    nas_run_t *run;
    char dir[256];
} fixture_t;

static void fx_free(fixture_t *f)
{
    nas_run_destroy(f->run);
    nas_searcher_destroy(f->searcher);
    nas_evaluator_destroy(f->ev);
    nas_space_destroy(f->space);
    nas_context_destroy(f->ctx);
}

static nas_searcher_t *make_searcher(fixture_t *f, const char *name, uint64_t seed, const char *objectives,
                                     const char *key, const char *value)
{
    nas_params_t *p = NULL;
    if (key) {
        assert_int_equal(nas_params_create(&p, f->ctx), NAS_OK);
        assert_int_equal(nas_params_set(p, key, value), NAS_OK);
    }
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    o.seed = seed;
    o.objectives = objectives;
    nas_searcher_t *s = NULL;
    if (nas_searcher_create(&s, f->space, name, p, &o) != NAS_OK)
        fail_msg("searcher: %s", nas_context_errmsg(f->ctx));
    nas_params_destroy(p);
    return s;
}

static nas_evaluator_t *make_table(fixture_t *f, const char *path, const char *cost_column)
{
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, f->ctx), NAS_OK);
    assert_int_equal(nas_params_set(p, "path", path), NAS_OK);
    if (cost_column)
        assert_int_equal(nas_params_set(p, "cost_column", cost_column), NAS_OK);
    nas_evaluator_t *ev = NULL;
    if (nas_evaluator_create(&ev, f->space, "table", p) != NAS_OK)
        fail_msg("table: %s", nas_context_errmsg(f->ctx));
    nas_params_destroy(p);
    return ev;
}

static void nb201_fixture(fixture_t *f, const char *searcher, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    f->ctx = tu_context_plain(1);
    f->space = cell_space(f->ctx, 5, 3);
    f->ev = make_table(f, tu_src_path("data/nb201/cifar10_test.csv"), NULL);
    f->searcher = make_searcher(f, searcher, seed, "test_acc:max", NULL, NULL);
    snprintf(f->dir, sizeof f->dir, "%s", tu_tmpdir());
}

/*
 * The 8 archs of the tiny space (3 edges of {none, skip}) in a table: acc = 10 * (grid index + 1),
 * secs = 10; rows whose grid index is in `skip_mask` are left out (their trials fail).
 */
static void tiny_fixture(fixture_t *f, const char *searcher, unsigned skip_mask, bool nan_first)
{
    memset(f, 0, sizeof *f);
    f->ctx = tu_context_plain(1);
    f->space = cell_space(f->ctx, 2, 2);
    snprintf(f->dir, sizeof f->dir, "%s", tu_tmpdir());
    char path[512], text[4096] = "arch,acc,secs\n";
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, f->space), NAS_OK);
    for (uint64_t i = 0; i < 8; i++) {
        if (skip_mask & (1u << i))
            continue;
        char s[256];
        assert_int_equal(nas_space_enumerate(f->space, a, i), NAS_OK);
        assert_int_equal(nas_arch_to_string(a, NAS_STRING_ARCH_ONLY, s, sizeof s, NULL), NAS_OK);
        char line[400];
        if (i == 0 && nan_first)
            snprintf(line, sizeof line, "%s,nan,10\n", s);
        else
            snprintf(line, sizeof line, "%s,%d,10\n", s, (int)(10 * (i + 1)));
        strcat(text, line);
    }
    nas_arch_destroy(a);
    snprintf(path, sizeof path, "%s/tiny.csv", f->dir);
    assert_int_equal(tu_write_file(path, text), 0);
    f->ev = make_table(f, path, "secs");
    f->searcher = make_searcher(f, searcher, 3, "acc:max", NULL, NULL);
}

static nas_run_t *make_run(fixture_t *f, const nas_run_opts_t *o)
{
    nas_run_t *run = NULL;
    if (nas_run_create(&run, f->searcher, f->ev, o) != NAS_OK)
        fail_msg("run: %s", nas_context_errmsg(f->ctx));
    return run;
}

static double best_metric(const nas_run_t *run, const char *name, uint64_t *trial)
{
    uint64_t best, id;
    const char *arch;
    const nas_result_t *res;
    double v;
    assert_int_equal(nas_run_best(run, &best), NAS_OK);
    assert_int_equal(nas_run_trial(run, best, &id, &arch, &res), NAS_OK);
    assert_int_equal(nas_result_get_metric(res, name, &v), NAS_OK);
    if (trial)
        *trial = id;
    return v;
}

/* ---------------------------------------------------------------------- */

typedef struct progress_log {
    uint64_t calls, last_done, last_failed;
    double last_cost, last_best;
    uint64_t last_best_trial;
    bool monotonic;
    char last_arch[512];
    nas_run_t *run;               /* for the re-entrancy check */
    nas_status_t reentry;
} progress_log_t;

static void on_progress(void *ud, const nas_progress_t *p)
{
    progress_log_t *l = ud;
    assert_true(p->struct_size >= sizeof *p);
    if (p->trials_done != l->last_done + 1)
        l->monotonic = false;
    l->calls++;
    l->last_done = p->trials_done;
    l->last_failed = p->trials_failed;
    l->last_cost = p->cost_seconds;
    l->last_best = p->best_score;
    l->last_best_trial = p->best_trial;
    assert_non_null(p->last_arch);
    snprintf(l->last_arch, sizeof l->last_arch, "%s", p->last_arch);
    if (l->run)
        l->reentry = nas_run_execute(l->run);
}

static void test_max_trials(void **state)
{
    (void)state;
    fixture_t f;
    nb201_fixture(&f, "random", 4);
    progress_log_t log = { .monotonic = true };
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.max_trials = 50;
    o.progress = on_progress;
    o.progress_user_data = &log;
    f.run = make_run(&f, &o);
    assert_string_equal(nas_run_stop_reason(f.run), "");
    uint64_t idx;
    assert_int_equal(nas_run_best(f.run, &idx), NAS_E_NOT_FOUND);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(nas_run_num_trials(f.run), 50);
    assert_string_equal(nas_run_stop_reason(f.run), "max_trials");
    assert_int_equal(log.calls, 50);
    assert_true(log.monotonic);
    assert_true(nas_run_elapsed(f.run) >= 0.0);
    /* History: ids in order, canonical strings, results copied. */
    for (uint64_t i = 0; i < 50; i++) {
        uint64_t id;
        const char *arch;
        const nas_result_t *res;
        assert_int_equal(nas_run_trial(f.run, i, &id, &arch, &res), NAS_OK);
        assert_int_equal(id, i);
        assert_true(arch[0] == '|');
        double v;
        assert_int_equal(nas_result_get_metric(res, "test_acc", &v), NAS_OK);
        assert_true(v > 0 && v < 100);
        if (i == 49)
            assert_string_equal(arch, log.last_arch);
    }
    assert_int_equal(nas_run_trial(f.run, 50, NULL, NULL, NULL), NAS_E_RANGE);
    /* Best: the max over the history, and what progress reported (as a metric). */
    double best = -1;
    for (uint64_t i = 0; i < 50; i++) {
        const nas_result_t *res;
        double v;
        assert_int_equal(nas_run_trial(f.run, i, NULL, NULL, &res), NAS_OK);
        assert_int_equal(nas_result_get_metric(res, "test_acc", &v), NAS_OK);
        best = v > best ? v : best;
    }
    uint64_t best_id;
    assert_true(best_metric(f.run, "test_acc", &best_id) == best);
    assert_true(log.last_best == best);
    assert_int_equal(log.last_best_trial, best_id);
    /* The budget is spent: a second execute runs nothing. */
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(nas_run_num_trials(f.run), 50);
    fx_free(&f);
}

static void test_min_objective_progress(void **state)
{
    (void)state;
    /* With a "min" objective the best is the smallest, and progress reports it unsigned. */
    fixture_t f;
    nb201_fixture(&f, "random", 4);
    nas_searcher_destroy(f.searcher);
    f.searcher = make_searcher(&f, "random", 4, "test_acc:min", NULL, NULL);
    progress_log_t log = { .monotonic = true };
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.max_trials = 40;
    o.progress = on_progress;
    o.progress_user_data = &log;
    f.run = make_run(&f, &o);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    double lo = 1e9;
    for (uint64_t i = 0; i < 40; i++) {
        const nas_result_t *res;
        double v;
        assert_int_equal(nas_run_trial(f.run, i, NULL, NULL, &res), NAS_OK);
        assert_int_equal(nas_result_get_metric(res, "test_acc", &v), NAS_OK);
        lo = v < lo ? v : lo;
    }
    assert_true(best_metric(f.run, "test_acc", NULL) == lo);
    assert_true(log.last_best == lo);
    fx_free(&f);
}

static void test_max_cost_and_failures(void **state)
{
    (void)state;
    /* Each trial costs 10: a budget of 35 starts a 4th trial (30 < 35) and stops after it. */
    fixture_t f;
    tiny_fixture(&f, "grid", 0, false);
    progress_log_t log = { .monotonic = true };
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.max_cost = 35;
    o.progress = on_progress;
    o.progress_user_data = &log;
    f.run = make_run(&f, &o);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(nas_run_num_trials(f.run), 4);
    assert_string_equal(nas_run_stop_reason(f.run), "max_cost");
    assert_true(log.last_cost == 40.0);
    fx_free(&f);

    /* Rows 1, 2, 5, 6 missing: those trials fail, the run goes on to the end of the grid. */
    tiny_fixture(&f, "grid", 0x66, false);
    log = (progress_log_t){ .monotonic = true };
    nas_run_opts_t o2 = NAS_RUN_OPTS_INIT;   /* no budget: grid is finite */
    o2.progress = on_progress;
    o2.progress_user_data = &log;
    f.run = make_run(&f, &o2);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_string_equal(nas_run_stop_reason(f.run), "exhausted");
    assert_int_equal(nas_run_num_trials(f.run), 8);
    assert_int_equal(log.last_failed, 4);
    assert_true(log.last_cost == 40.0);   /* failed lookups cost nothing */
    uint64_t failed = 0;
    for (uint64_t i = 0; i < 8; i++) {
        const nas_result_t *res;
        assert_int_equal(nas_run_trial(f.run, i, NULL, NULL, &res), NAS_OK);
        if (nas_result_status(res) != NAS_OK) {
            failed++;
            assert_int_equal(nas_result_status(res), NAS_E_NOT_FOUND);
            assert_true((0x66u >> i) & 1u);
        }
    }
    assert_int_equal(failed, 4);
    uint64_t best_id;
    assert_true(best_metric(f.run, "acc", &best_id) == 80.0);   /* grid index 7 */
    assert_int_equal(best_id, 7);
    fx_free(&f);

    /* Every trial fails: no best. */
    tiny_fixture(&f, "grid", 0xFE, false);   /* only index 0 is in the table... */
    nas_run_opts_t o3 = NAS_RUN_OPTS_INIT;
    o3.max_trials = 8;
    f.run = make_run(&f, &o3);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(nas_run_num_trials(f.run), 8);
    uint64_t idx;
    assert_int_equal(nas_run_best(f.run, &idx), NAS_OK);   /* ...so it is the best */
    assert_int_equal(idx, 0);
    fx_free(&f);
    tiny_fixture(&f, "grid", 0xFE, true);     /* and with a NaN metric it is no best at all */
    f.run = make_run(&f, &o3);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(nas_run_best(f.run, &idx), NAS_E_NOT_FOUND);
    fx_free(&f);
}

/* A host evaluator that sleeps, and can ask for a cancel or fail on a given trial. */
typedef struct slow {
    long sleep_ns;
    uint64_t abort_at, fail_at;   /* trial id + 1; 0: never */
    uint64_t calls;
} slow_t;

static nas_status_t slow_create(nas_evaluator_t *self, const nas_params_t *params, void **state)
{
    (void)params;
    *state = nas_evaluator_user_data(self);
    return NAS_OK;
}

static void slow_destroy(void *state)
{
    (void)state;
}

static nas_status_t slow_evaluate(nas_evaluator_t *self, void *state, const nas_candidate_t *cand, nas_result_t *res)
{
    slow_t *s = state;
    s->calls++;
    if (s->sleep_ns) {
        struct timespec ts = { 0, s->sleep_ns };
        nanosleep(&ts, NULL);
    }
    if (s->abort_at && cand->trial_id + 1 == s->abort_at)
        return NAS_E_ABORTED;
    if (s->fail_at && cand->trial_id + 1 == s->fail_at) {
        nas_evaluator_set_errmsg(self, "the measuring device caught fire");
        return NAS_E_CALLBACK;
    }
    nas_status_t st = nas_result_set_metric(res, "acc", (double)cand->trial_id);
    if (st == NAS_OK)
        st = nas_result_set_cost(res, 1.0);
    return st;
}

static void slow_fixture(fixture_t *f, slow_t *slow, const char *searcher)
{
    memset(f, 0, sizeof *f);
    f->ctx = tu_context_plain(1);
    nas_evaluator_vtable_t vt = { NAS_PLUGIN_ABI_VERSION, sizeof vt, "slow", "test", slow_create, slow_destroy,
                                  slow_evaluate, slow };
    assert_int_equal(nas_context_register_evaluator(f->ctx, &vt), NAS_OK);
    f->space = cell_space(f->ctx, 5, 3);
    assert_int_equal(nas_evaluator_create(&f->ev, f->space, "slow", NULL), NAS_OK);
    f->searcher = make_searcher(f, searcher, 1, "acc:max", NULL, NULL);
    snprintf(f->dir, sizeof f->dir, "%s", tu_tmpdir());
}

static void test_max_seconds(void **state)
{
    (void)state;
    fixture_t f;
    slow_t slow = { 5 * 1000 * 1000, 0, 0, 0 };   /* 5 ms per trial */
    slow_fixture(&f, &slow, "random");
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.max_seconds = 0.05;
    f.run = make_run(&f, &o);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_string_equal(nas_run_stop_reason(f.run), "max_seconds");
    assert_true(nas_run_num_trials(f.run) >= 1);
    assert_true(nas_run_num_trials(f.run) < 15625);
    assert_true(nas_run_elapsed(f.run) >= 0.05);
    fx_free(&f);
}

typedef struct cancel_state {
    int polls, cancel_at;   /* return true on this poll (1-based) */
} cancel_state_t;

static bool on_cancel(void *ud)
{
    cancel_state_t *c = ud;
    return ++c->polls >= c->cancel_at;
}

static void test_cancel(void **state)
{
    (void)state;
    fixture_t f;
    slow_t slow = { 0, 0, 0, 0 };
    slow_fixture(&f, &slow, "random");
    cancel_state_t c = { 0, 4 };
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.max_trials = 100;
    o.cancel = on_cancel;
    o.cancel_user_data = &c;
    snprintf(f.dir + strlen(f.dir), sizeof f.dir - strlen(f.dir), "/j.jsonl");
    o.journal_path = f.dir;
    f.run = make_run(&f, &o);
    assert_int_equal(nas_run_execute(f.run), NAS_E_ABORTED);
    assert_string_equal(nas_run_stop_reason(f.run), "cancelled");
    assert_int_equal(nas_run_num_trials(f.run), 3);   /* finished trials are kept */
    assert_int_equal(slow.calls, 3);
    assert_non_null(strstr(nas_run_errmsg(f.run), "cancel"));
    /* Cancel at once: no trial at all. */
    c = (cancel_state_t){ 0, 1 };
    assert_int_equal(nas_run_execute(f.run), NAS_E_ABORTED);
    assert_int_equal(nas_run_num_trials(f.run), 3);
    /* Going on later continues the same search. */
    c = (cancel_state_t){ 0, 1000 };
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(nas_run_num_trials(f.run), 100);
    uint64_t id;
    assert_int_equal(nas_run_trial(f.run, 3, &id, NULL, NULL), NAS_OK);
    assert_int_equal(id, 3);
    size_t len;
    char *j = tu_read_file(f.dir, &len);
    assert_non_null(j);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += j[i] == '\n';
    assert_int_equal(lines, 101);
    free(j);
    fx_free(&f);

    /* An evaluator that returns NAS_E_ABORTED (it watched the same flag) stops the run as a cancel. */
    slow = (slow_t){ 0, 3, 0, 0 };
    slow_fixture(&f, &slow, "random");
    nas_run_opts_t o2 = NAS_RUN_OPTS_INIT;
    o2.max_trials = 10;
    f.run = make_run(&f, &o2);
    assert_int_equal(nas_run_execute(f.run), NAS_E_ABORTED);
    assert_string_equal(nas_run_stop_reason(f.run), "cancelled");
    assert_int_equal(nas_run_num_trials(f.run), 2);
    fx_free(&f);
}

static void test_evaluator_error(void **state)
{
    (void)state;
    fixture_t f;
    slow_t slow = { 0, 0, 5, 0 };
    slow_fixture(&f, &slow, "random");
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.max_trials = 10;
    f.run = make_run(&f, &o);
    assert_int_equal(nas_run_execute(f.run), NAS_E_CALLBACK);
    assert_string_equal(nas_run_stop_reason(f.run), "error");
    assert_int_equal(nas_run_num_trials(f.run), 4);
    assert_non_null(strstr(nas_run_errmsg(f.run), "caught fire"));
    fx_free(&f);
}

static void test_budget_rules(void **state)
{
    (void)state;
    fixture_t f;
    slow_t slow = { 0, 0, 0, 0 };
    slow_fixture(&f, &slow, "random");
    nas_run_t *run = (nas_run_t *)0x1;
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    /* random on the finite NB201 space needs no budget; on a space with a FLOAT it does. */
    assert_int_equal(nas_run_create(&run, f.searcher, f.ev, &o), NAS_OK);
    nas_run_destroy(run);
    o.max_seconds = -1;
    assert_int_equal(nas_run_create(&run, f.searcher, f.ev, &o), NAS_E_INVAL);
    assert_null(run);
    o.max_seconds = NAN;
    assert_int_equal(nas_run_create(&run, f.searcher, f.ev, &o), NAS_E_INVAL);
    o.max_seconds = 0;
    o.max_cost = INFINITY;
    assert_int_equal(nas_run_create(&run, f.searcher, f.ev, &o), NAS_E_INVAL);
    o.max_cost = 0;
    o.struct_size = 3;
    assert_int_equal(nas_run_create(&run, f.searcher, f.ev, &o), NAS_E_INVAL);
    assert_int_equal(nas_run_create(NULL, f.searcher, f.ev, NULL), NAS_E_INVAL);
    assert_int_equal(nas_run_create(&run, NULL, f.ev, NULL), NAS_E_INVAL);
    assert_int_equal(nas_run_create(&run, f.searcher, NULL, NULL), NAS_E_INVAL);

    /* Different spaces. */
    nas_space_t *other = cell_space(f.ctx, 2, 2);
    nas_searcher_t *s2 = NULL;
    assert_int_equal(nas_searcher_create(&s2, other, "grid", NULL, NULL), NAS_OK);
    assert_int_equal(nas_run_create(&run, s2, f.ev, NULL), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(f.ctx), "different spaces"));
    nas_searcher_destroy(s2);
    nas_space_destroy(other);

    /* A space with a FLOAT hyperparameter: random may never be exhausted, grid can. */
    nas_space_t *hp = NULL;
    assert_int_equal(nas_space_create(&hp, f.ctx, "hp"), NAS_OK);
    nas_hparam_spec_t h = { sizeof h, "lr", NAS_DIM_FLOAT, 0.0, 1.0, false, NULL, 0, 0 };
    assert_int_equal(nas_space_add_hparam(hp, &h), NAS_OK);
    assert_int_equal(nas_space_build(hp), NAS_OK);
    nas_evaluator_t *ev = NULL;
    assert_int_equal(nas_evaluator_create(&ev, hp, "slow", NULL), NAS_OK);
    nas_searcher_t *r = NULL, *g = NULL;
    assert_int_equal(nas_searcher_create(&r, hp, "random", NULL, NULL), NAS_OK);
    assert_int_equal(nas_searcher_create(&g, hp, "grid", NULL, NULL), NAS_OK);
    assert_int_equal(nas_run_create(&run, r, ev, NULL), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(f.ctx), "budget"));
    assert_int_equal(nas_run_create(&run, g, ev, NULL), NAS_OK);
    assert_int_equal(nas_run_execute(run), NAS_OK);
    assert_int_equal(nas_run_num_trials(run), 5);
    assert_string_equal(nas_run_stop_reason(run), "exhausted");
    nas_run_destroy(run);
    nas_searcher_destroy(r);
    nas_searcher_destroy(g);
    nas_evaluator_destroy(ev);
    nas_space_destroy(hp);
    nas_run_destroy(NULL);
    fx_free(&f);
}

/* A host strategy: walks the grid backwards from the end, learns the best it was told. */
typedef struct back {
    uint64_t next, size;
    double best;
    uint64_t tells;
} back_t;

static nas_status_t back_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    back_t *b = calloc(1, sizeof *b);
    if (!b)
        return NAS_E_NOMEM;
    *state = b;
    b->best = -INFINITY;
    int64_t skip = 0;
    bool finite = false;
    nas_status_t st = nas_params_get_int(params, "skip", 0, &skip);
    if (st == NAS_OK)
        st = nas_params_get_bool(params, "finite", false, &finite);
    if (st != NAS_OK)
        return st;
    b->next = (uint64_t)skip;
    nas_searcher_set_finite(self, finite);
    return nas_space_grid_size(nas_searcher_space(self), &b->size);
}

static void back_destroy(void *state)
{
    free(state);
}

static nas_status_t back_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    back_t *b = state;
    if (b->next >= b->size)
        return NAS_E_EXHAUSTED;
    cand->fidelity = (double)(b->next % 4) * 0.5;   /* recorded by the run, unused by the table */
    return nas_space_enumerate(nas_searcher_space(self), cand->arch, b->size - 1 - b->next++);
}

static nas_status_t back_tell(nas_searcher_t *self, void *state, const nas_candidate_t *cand, const nas_result_t *res)
{
    (void)cand;
    back_t *b = state;
    double s;
    nas_status_t st = nas_searcher_scores(self, res, &s, 1);
    b->tells++;
    if (s > b->best)
        b->best = s;
    return st;
}

/* The NAS-Bench-201 fixture with the "backwards" strategy registered (f->searcher freed for the test's own). */
static void backwards_fixture(fixture_t *f)
{
    nb201_fixture(f, "random", 1);
    nas_searcher_vtable_t vt = { NAS_PLUGIN_ABI_VERSION, sizeof vt, "backwards", "test", back_create, back_destroy,
                                 back_ask, back_tell, NULL, NULL, NULL, NULL };
    assert_int_equal(nas_context_register_searcher(f->ctx, &vt), NAS_OK);
    nas_searcher_destroy(f->searcher);
    f->searcher = NULL;
}

static void test_host_searcher_run(void **state)
{
    (void)state;
    fixture_t f;
    backwards_fixture(&f);
    f.searcher = make_searcher(&f, "backwards", 1, "test_acc:max", "skip", "5");
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, f.searcher, f.ev, &o), NAS_E_INVAL);   /* host strategies need a budget */
    o.max_trials = 30;
    f.run = make_run(&f, &o);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(nas_run_num_trials(f.run), 30);
    /* The trials are the grid from index 15625 - 1 - 5 down. */
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, f.space), NAS_OK);
    for (uint64_t i = 0; i < 30; i++) {
        const char *arch;
        char want[256];
        assert_int_equal(nas_run_trial(f.run, i, NULL, &arch, NULL), NAS_OK);
        assert_int_equal(nas_space_enumerate(f.space, a, 15625 - 1 - 5 - i), NAS_OK);
        assert_int_equal(nas_arch_to_string(a, 0, want, sizeof want, NULL), NAS_OK);
        assert_string_equal(arch, want);
    }
    nas_arch_destroy(a);
    fx_free(&f);
}

/* A host strategy that declares itself finite runs without a budget to its end; fidelities are kept. */
static void test_host_searcher_finite(void **state)
{
    (void)state;
    fixture_t f;
    backwards_fixture(&f);
    f.searcher = make_searcher(&f, "backwards", 1, "test_acc:max", "skip", "15585");
    assert_false(nas_searcher_is_finite(f.searcher));
    nas_searcher_destroy(f.searcher);
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, f.ctx), NAS_OK);
    assert_int_equal(nas_params_set(p, "skip", "15585"), NAS_OK);
    assert_int_equal(nas_params_set(p, "finite", "true"), NAS_OK);
    nas_searcher_opts_t so = NAS_SEARCHER_OPTS_INIT;
    so.objectives = "test_acc:max";
    assert_int_equal(nas_searcher_create(&f.searcher, f.space, "backwards", p, &so), NAS_OK);
    nas_params_destroy(p);
    assert_true(nas_searcher_is_finite(f.searcher));
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;   /* no budget */
    f.run = make_run(&f, &o);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_string_equal(nas_run_stop_reason(f.run), "exhausted");
    assert_int_equal(nas_run_num_trials(f.run), 40);   /* grid indices 39 down to 0 */
    for (uint64_t i = 0; i < 40; i++) {
        double fid = -1.0;
        assert_int_equal(nas_run_trial_fidelity(f.run, i, &fid), NAS_OK);
        assert_true(fid == (double)((15585 + i) % 4) * 0.5);
    }
    double fid;
    assert_int_equal(nas_run_trial_fidelity(f.run, 40, &fid), NAS_E_RANGE);
    assert_int_equal(nas_run_trial_fidelity(f.run, 0, NULL), NAS_E_INVAL);
    fx_free(&f);
}

/* ---------------------------------------------------------------------- */
/* Journal and summary                                                      */

static char *read_lines(const char *path, int *nlines)
{
    size_t len;
    char *text = tu_read_file(path, &len);
    assert_non_null(text);
    *nlines = 0;
    for (size_t i = 0; i < len; i++)
        *nlines += text[i] == '\n';
    assert_true(len > 0 && text[len - 1] == '\n');   /* no torn last line */
    return text;
}

static void test_journal(void **state)
{
    (void)state;
    fixture_t f;
    tiny_fixture(&f, "grid", 0x02, true);   /* index 1 missing, index 0 has a NaN metric */
    char path[512];
    snprintf(path, sizeof path, "%s/journal.jsonl", f.dir);
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.journal_path = path;
    f.run = make_run(&f, &o);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    int n;
    char *text = read_lines(path, &n);
    assert_int_equal(n, 1 + 8);
    char *line = text, *save = NULL;
    int i = -1;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
        size_t len = strlen(line);
        assert_true(line[0] == '{' && line[len - 1] == '}');
        if (i < 0) {
            assert_non_null(strstr(line, "{\"type\":\"header\",\"format\":2,\"libnas\":\"" NAS_VERSION_STRING "\""));
            assert_non_null(strstr(line, "\"space\":\"tiny\""));
            assert_non_null(strstr(line, "\"searcher\":\"grid\""));
            assert_non_null(strstr(line, "\"evaluator\":\"table\""));
            assert_non_null(strstr(line, "\"objectives\":\"acc:max\""));
            assert_non_null(strstr(line, "\"seed\":3,"));
            assert_non_null(strstr(line, "\"budget\":{\"max_trials\":0,\"max_seconds\":0,\"max_cost\":0}"));
            continue;
        }
        char want[64];
        snprintf(want, sizeof want, "{\"type\":\"trial\",\"trial\":%d,\"arch\":\"|", i);
        if (strncmp(line, want, strlen(want)) != 0)
            fail_msg("line %d: %s", i + 2, line);
        assert_non_null(strstr(line, "\"fidelity\":0,"));
        assert_non_null(strstr(line, "\"elapsed\":"));
        if (i == 1) {
            assert_non_null(strstr(line, "\"status\":\"not_found\""));
            assert_non_null(strstr(line, "\"metrics\":{}"));
            assert_non_null(strstr(line, "\"message\":\"not in the table"));
        } else if (i == 0) {
            assert_non_null(strstr(line, "\"metrics\":{\"acc\":null,\"secs\":10}"));   /* NaN is null */
            assert_non_null(strstr(line, "\"status\":\"ok\",\"message\":\"\""));
        } else {
            char m[80];
            snprintf(m, sizeof m, "\"metrics\":{\"acc\":%d,\"secs\":10},\"cost\":10,", 10 * (i + 1));
            assert_non_null(strstr(line, m));
        }
    }
    assert_int_equal(i, 8);
    free(text);

    /* A second run on the same file appends: its own header, then its trials. */
    nas_run_destroy(f.run);
    nas_searcher_destroy(f.searcher);
    f.searcher = make_searcher(&f, "random", 3, "acc:max", NULL, NULL);
    o.max_trials = 2;
    f.run = make_run(&f, &o);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    text = read_lines(path, &n);
    assert_int_equal(n, 9 + 3);
    assert_non_null(strstr(text, "\"searcher\":\"random\""));
    free(text);
    fx_free(&f);
}

static void test_journal_errors(void **state)
{
    (void)state;
    fixture_t f;
    tiny_fixture(&f, "grid", 0, false);
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.journal_path = "/nonexistent/folder/journal.jsonl";
    nas_run_t *run = (nas_run_t *)0x1;
    assert_int_equal(nas_run_create(&run, f.searcher, f.ev, &o), NAS_E_IO);
    assert_null(run);
    assert_non_null(strstr(nas_context_errmsg(f.ctx), "/nonexistent/folder/journal.jsonl"));
    /* A character device has nothing to fsync: that is not an error. */
    o.journal_path = "/dev/null";
    assert_int_equal(nas_run_create(&run, f.searcher, f.ev, &o), NAS_OK);
    assert_int_equal(nas_run_execute(run), NAS_OK);
    assert_int_equal(nas_run_num_trials(run), 8);
    nas_run_destroy(run);
    /* A full device fails the write: the run stops with NAS_E_IO. */
    o.journal_path = "/dev/full";
    FILE *probe = fopen("/dev/full", "w");
    if (probe) {
        fclose(probe);
        assert_int_equal(nas_run_create(&run, f.searcher, f.ev, &o), NAS_E_IO);
        assert_non_null(strstr(nas_context_errmsg(f.ctx), "/dev/full"));
    }
    fx_free(&f);
}

static void test_summary(void **state)
{
    (void)state;
    fixture_t f;
    nb201_fixture(&f, "random", 12);
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.max_trials = 20;
    f.run = make_run(&f, &o);
    char path[512];
    snprintf(path, sizeof path, "%s/summary.json", f.dir);
    /* Before any trial: a summary with no best. */
    assert_int_equal(nas_run_write_summary(f.run, path), NAS_OK);
    char *text = tu_read_file(path, NULL);
    assert_non_null(strstr(text, "\"best\": null"));
    assert_non_null(strstr(text, "\"trials\": 0,"));
    free(text);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(nas_run_write_summary(f.run, path), NAS_OK);   /* replaces the old one */
    text = tu_read_file(path, NULL);
    assert_non_null(text);
    assert_true(text[0] == '{');
    assert_non_null(strstr(text, "\"trials\": 20,"));
    assert_non_null(strstr(text, "\"failed\": 0,"));
    assert_non_null(strstr(text, "\"stop_reason\": \"max_trials\""));
    assert_non_null(strstr(text, "\"searcher\": \"random\""));
    assert_non_null(strstr(text, "\"objectives\": \"test_acc:max\""));
    assert_non_null(strstr(text, "\"seed\": 12,"));
    assert_non_null(strstr(text, "\"max_trials\":20"));
    uint64_t best, id;
    const char *arch;
    assert_int_equal(nas_run_best(f.run, &best), NAS_OK);
    assert_int_equal(nas_run_trial(f.run, best, &id, &arch, NULL), NAS_OK);
    char want[400];
    snprintf(want, sizeof want, "\"trial\": %llu, \"arch\": \"%s\", \"metrics\": {\"test_acc\":",
             (unsigned long long)id, arch);
    if (!strstr(text, want))
        fail_msg("summary lacks '%s':\n%s", want, text);
    free(text);
    /* No temporary file is left behind. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", f.dir);
    assert_int_equal(system(cmd), 0);
    /* Errors. */
    assert_int_equal(nas_run_write_summary(f.run, "/nonexistent/folder/summary.json"), NAS_E_IO);
    assert_non_null(strstr(nas_run_errmsg(f.run), "/nonexistent/folder/summary.json"));
    assert_int_equal(nas_run_write_summary(f.run, NULL), NAS_E_INVAL);
    fx_free(&f);
}

static void test_reentry(void **state)
{
    (void)state;
    fixture_t f;
    tiny_fixture(&f, "grid", 0, false);
    progress_log_t log = { .monotonic = true };
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.progress = on_progress;
    o.progress_user_data = &log;
    f.run = make_run(&f, &o);
    log.run = f.run;
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(log.reentry, NAS_E_STATE);
    assert_int_equal(nas_run_num_trials(f.run), 8);
    fx_free(&f);
}

/* ---------------------------------------------------------------------- */
/* Searches on NAS-Bench-201                                                */

struct warn_log { int warnings; char last[512]; };

static void warn_sink(void *ud, int32_t level, const char *msg)
{
    struct warn_log *w = ud;
    if (level == NAS_LOG_WARN) {
        w->warnings++;
        snprintf(w->last, sizeof w->last, "%s", msg);
    }
}

/* An objective no trial reports (a typo, or the default "accuracy" on a table of "test_acc")
 * leaves the run without a best: the run says so once through the log instead of staying silent. */
static void test_missing_objective_warns(void **state)
{
    (void)state;
    fixture_t f;
    memset(&f, 0, sizeof f);
    struct warn_log w = {0};
    nas_context_opts_t co = NAS_CONTEXT_OPTS_INIT;
    co.log_fn = warn_sink;
    co.log_user_data = &w;
    assert_int_equal(nas_context_create(&f.ctx, &co), NAS_OK);
    f.space = cell_space(f.ctx, 5, 3);
    f.ev = make_table(&f, tu_src_path("data/nb201/cifar10_test.csv"), NULL);
    f.searcher = make_searcher(&f, "random", 1, "accuracy:max", NULL, NULL);
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.max_trials = 5;
    f.run = make_run(&f, &o);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(nas_run_num_trials(f.run), 5);
    uint64_t best;
    assert_int_equal(nas_run_best(f.run, &best), NAS_E_NOT_FOUND);
    assert_int_equal(w.warnings, 1);
    assert_non_null(strstr(w.last, "'accuracy'"));
    fx_free(&f);
}

static void test_random_search_nb201(void **state)
{
    (void)state;
    fixture_t f;
    nb201_fixture(&f, "random", 2024);
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.max_trials = 300;
    f.run = make_run(&f, &o);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    double best = best_metric(f.run, "test_acc", NULL);
    print_message("random search, 300 trials: best test_acc %.4f\n", best);
    assert_true(best > 93.5);
    fx_free(&f);
}

static void test_grid_search_nb201(void **state)
{
    (void)state;
    fixture_t f;
    nb201_fixture(&f, "grid", 1);
    f.run = make_run(&f, NULL);   /* no budget: the grid ends */
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_string_equal(nas_run_stop_reason(f.run), "exhausted");
    assert_int_equal(nas_run_num_trials(f.run), 15625);
    double best = best_metric(f.run, "test_acc", NULL);
    assert_true(best == 94.3733);
    uint64_t idx;
    const char *arch;
    assert_int_equal(nas_run_best(f.run, &idx), NAS_OK);
    assert_int_equal(nas_run_trial(f.run, idx, NULL, &arch, NULL), NAS_OK);
    print_message("grid: best %s %.4f\n", arch, best);
    fx_free(&f);
}

/* A one-shot-style strategy: its run hook evaluates grid points 0, 7, 3 ... itself until told to stop. */
static nas_status_t hook_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    (void)state;
    return nas_space_sample(nas_searcher_space(self), cand->arch, nas_searcher_rng(self));
}

static nas_status_t hook_run(nas_searcher_t *self, void *state, nas_run_t *run)
{
    (void)state;
    nas_arch_t *a = NULL;
    nas_status_t st = nas_arch_create(&a, nas_searcher_space(self));
    /* Restarted by a resume, it goes on after the trials taken back. */
    for (uint64_t k = nas_run_num_resumed(run); st == NAS_OK && !nas_run_should_stop(run); k++) {
        nas_run_report(run, "training the supernet");
        const nas_result_t *r = NULL;
        if ((st = nas_space_enumerate(nas_searcher_space(self), a, (k * 7) % 15625)) == NAS_OK)
            st = nas_run_evaluate_arch(run, a, 2.0, &r);
        if (st == NAS_OK && nas_result_status(r) != NAS_OK)
            st = NAS_E_INTERNAL;
    }
    nas_arch_destroy(a);
    return st;
}

static void count_progress(void *user_data, const nas_progress_t *p)
{
    (void)p;
    (*(int *)user_data)++;
}

static void test_run_hook(void **unused)
{
    (void)unused;
    fixture_t f;
    nb201_fixture(&f, "random", 4);
    nas_searcher_vtable_t vt = { NAS_PLUGIN_ABI_VERSION, sizeof vt, "hooked", "test", back_create, back_destroy,
                                 hook_ask, back_tell, NULL, NULL, NULL, hook_run };
    assert_int_equal(nas_context_register_searcher(f.ctx, &vt), NAS_OK);
    nas_searcher_destroy(f.searcher);
    f.searcher = make_searcher(&f, "hooked", 1, "test_acc:max", NULL, NULL);
    char journal[600];
    snprintf(journal, sizeof journal, "%s/journal.jsonl", f.dir);
    int calls = 0;
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.max_trials = 5;
    o.journal_path = journal;
    o.progress = count_progress;
    o.progress_user_data = &calls;
    assert_int_equal(nas_run_create(&f.run, f.searcher, f.ev, &o), NAS_OK);
    assert_ptr_equal(nas_run_evaluator(f.run), f.ev);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(nas_run_num_trials(f.run), 5);
    assert_string_equal(nas_run_stop_reason(f.run), "max_trials");
    assert_int_equal(calls, 10);   /* five reports of the hook's own work, five trials */
    for (uint64_t i = 0; i < 5; i++) {
        uint64_t id;
        const char *arch;
        assert_int_equal(nas_run_trial(f.run, i, &id, &arch, NULL), NAS_OK);
        assert_int_equal(id, i);
    }
    char *text = tu_read_file(journal, NULL);
    assert_non_null(strstr(text, "\"trial\":4,"));
    assert_non_null(strstr(text, "\"fidelity\":2,"));
    /* The hook returned NAS_OK: its search is over, and the journal ends saying so. */
    size_t len = strlen(text);
    static const char end_line[] = "{\"type\":\"end\",\"reason\":\"done\"}\n";
    assert_true(len > sizeof end_line && strcmp(text + len - (sizeof end_line - 1), end_line) == 0);
    nas_run_destroy(f.run);
    f.run = NULL;
    /* A resume, even with a larger budget, has nothing left to do. */
    nas_searcher_destroy(f.searcher);
    f.searcher = make_searcher(&f, "hooked", 1, "test_acc:max", NULL, NULL);
    o.max_trials = 8;
    o.resume = true;
    o.progress = NULL;
    assert_int_equal(nas_run_create(&f.run, f.searcher, f.ev, &o), NAS_OK);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(nas_run_num_trials(f.run), 5);
    assert_string_equal(nas_run_stop_reason(f.run), "done");
    nas_run_destroy(f.run);
    f.run = NULL;
    /* Killed before the end line (here: the line cut off): the hook runs again, told how many
     * trials were taken back, and goes on from there. */
    text[len - (sizeof end_line - 1)] = '\0';
    assert_int_equal(tu_write_file(journal, text), 0);
    nas_searcher_destroy(f.searcher);
    f.searcher = make_searcher(&f, "hooked", 1, "test_acc:max", NULL, NULL);
    assert_int_equal(nas_run_create(&f.run, f.searcher, f.ev, &o), NAS_OK);
    assert_int_equal(nas_run_num_resumed(f.run), 5);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(nas_run_num_trials(f.run), 8);
    assert_string_equal(nas_run_stop_reason(f.run), "max_trials");
    nas_arch_t *want = NULL;
    assert_int_equal(nas_arch_create(&want, f.space), NAS_OK);
    for (uint64_t i = 0; i < 8; i++) {
        const char *arch;
        char ws[256];
        uint64_t id;
        assert_int_equal(nas_run_trial(f.run, i, &id, &arch, NULL), NAS_OK);
        assert_int_equal(id, i);   /* ids go on after the trials taken back */
        assert_int_equal(nas_space_enumerate(f.space, want, (i * 7) % 15625), NAS_OK);
        assert_int_equal(nas_arch_to_string(want, 0, ws, sizeof ws, NULL), NAS_OK);
        assert_string_equal(arch, ws);   /* no trial repeated, none skipped */
    }
    nas_arch_destroy(want);
    free(text);
    text = tu_read_file(journal, NULL);
    len = strlen(text);
    assert_true(strcmp(text + len - (sizeof end_line - 1), end_line) == 0);
    /* A format 1 journal (before end lines existed): a hook run with a trial is finished. */
    text[len - (sizeof end_line - 1)] = '\0';
    char *fmt = strstr(text, "\"format\":2");
    assert_non_null(fmt);
    fmt[9] = '1';
    assert_int_equal(tu_write_file(journal, text), 0);
    free(text);
    nas_run_destroy(f.run);
    f.run = NULL;
    nas_searcher_destroy(f.searcher);
    f.searcher = make_searcher(&f, "hooked", 1, "test_acc:max", NULL, NULL);
    o.max_trials = 20;
    if (nas_run_create(&f.run, f.searcher, f.ev, &o) != NAS_OK)
        fail_msg("format 1 resume: %s", nas_context_errmsg(f.ctx));
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(nas_run_num_trials(f.run), 8);
    assert_string_equal(nas_run_stop_reason(f.run), "done");
    nas_arch_t *other = NULL;
    nas_space_t *tiny = cell_space(f.ctx, 2, 2);
    assert_int_equal(nas_arch_create(&other, tiny), NAS_OK);
    assert_int_equal(nas_run_evaluate_arch(f.run, other, 1.0, NULL), NAS_E_INVAL);
    nas_arch_destroy(other);
    nas_space_destroy(tiny);
    fx_free(&f);
}

/* Two objectives: the journal ends with the front; a resume with a larger budget skips that line. */
static void test_journal_front(void **unused)
{
    (void)unused;
    fixture_t f;
    memset(&f, 0, sizeof f);
    f.ctx = tu_context_plain(1);
    f.space = cell_space(f.ctx, 2, 2);
    snprintf(f.dir, sizeof f.dir, "%s", tu_tmpdir());
    char path[600], journal[600], text[4096] = "arch,acc,lat\n";
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, f.space), NAS_OK);
    static const int lat[8] = { 5, 1, 4, 2, 6, 3, 9, 7 };   /* front by (acc max, lat min): 1 3 5 7 */
    for (uint64_t i = 0; i < 8; i++) {
        char sa[256], line[400];
        assert_int_equal(nas_space_enumerate(f.space, a, i), NAS_OK);
        assert_int_equal(nas_arch_to_string(a, NAS_STRING_ARCH_ONLY, sa, sizeof sa, NULL), NAS_OK);
        snprintf(line, sizeof line, "%s,%d,%d\n", sa, (int)(10 * (i + 1)), lat[i]);
        strcat(text, line);
    }
    nas_arch_destroy(a);
    snprintf(path, sizeof path, "%s/two.csv", f.dir);
    snprintf(journal, sizeof journal, "%s/journal.jsonl", f.dir);
    assert_int_equal(tu_write_file(path, text), 0);
    f.ev = make_table(&f, path, NULL);
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, f.ctx), NAS_OK);
    assert_int_equal(nas_params_set(p, "shuffle", "false"), NAS_OK);
    nas_searcher_opts_t so = NAS_SEARCHER_OPTS_INIT;
    so.objectives = "acc:max,lat:min";
    assert_int_equal(nas_searcher_create(&f.searcher, f.space, "grid", p, &so), NAS_OK);
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.max_trials = 6;
    o.journal_path = journal;
    f.run = make_run(&f, &o);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    char *t = tu_read_file(journal, NULL);
    assert_non_null(strstr(t, "\n{\"type\":\"front\",\"trials\":[1,3,5]}\n"));
    free(t);
    nas_run_destroy(f.run);
    nas_searcher_destroy(f.searcher);
    /* Resume to all 8: the front line stays where it was, the new end gets the new front. */
    assert_int_equal(nas_searcher_create(&f.searcher, f.space, "grid", p, &so), NAS_OK);
    nas_params_destroy(p);
    o.max_trials = 8;
    o.resume = true;
    f.run = make_run(&f, &o);
    assert_int_equal(nas_run_num_resumed(f.run), 6);
    assert_int_equal(nas_run_execute(f.run), NAS_OK);
    assert_int_equal(nas_run_num_trials(f.run), 8);
    t = tu_read_file(journal, NULL);
    size_t len = strlen(t);
    assert_true(len > 40);
    assert_non_null(strstr(t, "{\"type\":\"front\",\"trials\":[1,3,5,7]}\n"));
    free(t);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_trials),
        cmocka_unit_test(test_min_objective_progress),
        cmocka_unit_test(test_max_cost_and_failures),
        cmocka_unit_test(test_max_seconds),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_evaluator_error),
        cmocka_unit_test(test_budget_rules),
        cmocka_unit_test(test_host_searcher_run),
        cmocka_unit_test(test_journal),
        cmocka_unit_test(test_journal_errors),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_reentry),
        cmocka_unit_test(test_missing_objective_warns),
        cmocka_unit_test(test_random_search_nb201),
        cmocka_unit_test(test_grid_search_nb201),
        cmocka_unit_test(test_run_hook),
        cmocka_unit_test(test_host_searcher_finite),
        cmocka_unit_test(test_journal_front),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
