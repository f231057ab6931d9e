/* Searchers: registry, host vtables, random, grid, trial bookkeeping, objectives, scores, results. */
#include "testutil.h"
#include "search/search_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const NB201_OPS[] = { "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3" };

/* A cell space with `num_ops` of the NB201 ops and `nodes` nodes, built through the C API. */
static nas_space_t *cell_space(nas_context_t *ctx, uint32_t num_ops, uint32_t nodes)
{
    nas_space_t *s = NULL;
    assert_int_equal(nas_space_create(&s, ctx, "nb201"), NAS_OK);
    nas_cell_spec_t c = { sizeof c, NB201_OPS, num_ops, 1, nodes, 0, NULL, 0, NAS_CELL_OUTPUT_LAST };
    assert_int_equal(nas_space_set_cell(s, &c), NAS_OK);
    nas_macro_stage_t st[3] = { { 5, 16 }, { 5, 32 }, { 5, 64 } };
    nas_macro_spec_t m = { sizeof m, 16, st, 3, NAS_REDUCTION_RESIDUAL };
    assert_int_equal(nas_space_set_macro(s, &m), NAS_OK);
    assert_int_equal(nas_space_build(s), NAS_OK);
    return s;
}

static nas_space_t *nb201(nas_context_t *ctx)
{
    return cell_space(ctx, 5, 3);
}

static nas_searcher_t *searcher(nas_space_t *space, const char *name, uint64_t seed, const nas_params_t *params)
{
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    o.seed = seed;
    nas_searcher_t *s = NULL;
    nas_status_t st = nas_searcher_create(&s, space, name, params, &o);
    if (st != NAS_OK)
        fail_msg("searcher '%s': %s: %s", name, nas_status_name(st), nas_context_errmsg(nas_searcher_context(s)));
    return s;
}

static void arch_str(const nas_arch_t *a, char *buf, size_t cap)
{
    assert_int_equal(nas_arch_to_string(a, 0, buf, cap, NULL), NAS_OK);
}

/* Ask and tell an empty result right away. */
static nas_status_t step(nas_searcher_t *s, nas_candidate_t *c, nas_result_t *res)
{
    nas_status_t st = nas_searcher_ask(s, c);
    if (st == NAS_OK)
        assert_int_equal(nas_searcher_tell(s, c, res), NAS_OK);
    return st;
}

/* ---------------------------------------------------------------------- */
/* Results                                                                 */

static void test_result(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_result_t *r = NULL, *c = NULL;
    assert_int_equal(nas_result_create(&r, ctx), NAS_OK);
    assert_int_equal(nas_result_create(&c, ctx), NAS_OK);
    assert_int_equal(nas_result_status(r), NAS_OK);
    assert_string_equal(nas_result_message(r), "");
    assert_int_equal(nas_result_num_metrics(r), 0);
    assert_true(nas_result_cost(r) == 0.0);

    assert_int_equal(nas_result_set_metric(r, "b", 2.0), NAS_OK);
    assert_int_equal(nas_result_set_metric(r, "a", 1.0), NAS_OK);
    assert_int_equal(nas_result_set_metric(r, "b", 3.0), NAS_OK);   /* replaces, keeps its place */
    assert_int_equal(nas_result_set_metric(r, "n", NAN), NAS_OK);
    assert_int_equal(nas_result_num_metrics(r), 3);
    const char *name;
    double v;
    assert_int_equal(nas_result_metric_at(r, 0, &name, &v), NAS_OK);
    assert_string_equal(name, "b");
    assert_true(v == 3.0);
    assert_int_equal(nas_result_metric_at(r, 3, &name, &v), NAS_E_RANGE);
    assert_int_equal(nas_result_get_metric(r, "n", &v), NAS_OK);
    assert_true(isnan(v));
    assert_int_equal(nas_result_get_metric(r, "zz", &v), NAS_E_NOT_FOUND);
    assert_int_equal(nas_result_set_metric(r, "", 1.0), NAS_E_INVAL);
    assert_int_equal(nas_result_set_metric(r, "a\nb", 1.0), NAS_E_INVAL);
    assert_int_equal(nas_result_set_metric(r, NULL, 1.0), NAS_E_INVAL);

    assert_int_equal(nas_result_set_cost(r, 12.5), NAS_OK);
    assert_int_equal(nas_result_set_cost(r, -1.0), NAS_E_INVAL);
    assert_int_equal(nas_result_set_cost(r, NAN), NAS_E_INVAL);
    assert_int_equal(nas_result_set_cost(r, INFINITY), NAS_E_INVAL);
    assert_true(nas_result_cost(r) == 12.5);
    assert_int_equal(nas_result_set_status(r, NAS_E_DIVERGED, "loss is nan"), NAS_OK);

    assert_int_equal(nas_result_set_metric(c, "old", 1.0), NAS_OK);
    assert_int_equal(nas_result_copy(c, r), NAS_OK);
    assert_int_equal(nas_result_status(c), NAS_E_DIVERGED);
    assert_string_equal(nas_result_message(c), "loss is nan");
    assert_int_equal(nas_result_num_metrics(c), 3);
    assert_int_equal(nas_result_get_metric(c, "old", &v), NAS_E_NOT_FOUND);
    assert_int_equal(nas_result_get_metric(c, "a", &v), NAS_OK);
    assert_true(v == 1.0);
    assert_true(nas_result_cost(c) == 12.5);
    assert_int_equal(nas_result_copy(c, c), NAS_OK);
    assert_int_equal(nas_result_num_metrics(c), 3);

    nas_result_clear(r);
    assert_int_equal(nas_result_status(r), NAS_OK);
    assert_string_equal(nas_result_message(r), "");
    assert_int_equal(nas_result_num_metrics(r), 0);
    assert_true(nas_result_cost(r) == 0.0);
    assert_int_equal(nas_result_set_status(r, NAS_E_NOT_FOUND, NULL), NAS_OK);
    assert_string_equal(nas_result_message(r), "");
    nas_result_destroy(r);
    nas_result_destroy(c);
    nas_result_destroy(NULL);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Registry and host strategies                                            */

typedef struct host_counts {
    int creates, destroys, asks, tells;
    int fail_create;        /* 1: fail after setting the state; 2: fail before */
    uint64_t last_told;
    double last_score;
} host_counts_t;

typedef struct host_state {
    host_counts_t *counts;
    int64_t step;
    uint64_t index;
} host_state_t;

static nas_status_t host_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    static host_counts_t anonymous;   /* a vtable without user_data */
    host_counts_t *c = nas_searcher_user_data(self);
    if (!c)
        c = &anonymous;
    c->creates++;
    if (c->fail_create == 2) {
        nas_searcher_set_errmsg(self, "refusing before any state");
        return NAS_E_SPEC;
    }
    host_state_t *h = calloc(1, sizeof *h);
    if (!h)
        return NAS_E_NOMEM;
    h->counts = c;
    *state = h;
    if (c->fail_create == 1) {
        nas_searcher_set_errmsg(self, "refusing on purpose");
        return NAS_E_SPEC;
    }
    nas_status_t st = nas_params_get_int(params, "step", 1, &h->step);
    if (st != NAS_OK)
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
    return st;
}

static void host_destroy(void *state)
{
    host_state_t *h = state;
    h->counts->destroys++;
    free(h);
}

static nas_status_t host_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    host_state_t *h = state;
    h->counts->asks++;
    uint64_t size;
    assert_int_equal(nas_space_grid_size(nas_searcher_space(self), &size), NAS_OK);
    if (h->index >= 3)
        return NAS_E_EXHAUSTED;
    cand->fidelity = 2.0;
    nas_status_t st = nas_space_enumerate(nas_searcher_space(self), cand->arch, (h->index * (uint64_t)h->step) % size);
    h->index++;
    return st;
}

static nas_status_t host_tell(nas_searcher_t *self, void *state, const nas_candidate_t *cand, const nas_result_t *res)
{
    host_state_t *h = state;
    h->counts->tells++;
    h->counts->last_told = cand->trial_id;
    return nas_searcher_scores(self, res, &h->counts->last_score, 1);
}

static nas_searcher_vtable_t host_vtable(host_counts_t *c)
{
    nas_searcher_vtable_t vt = {
        NAS_PLUGIN_ABI_VERSION, sizeof(nas_searcher_vtable_t), "host-walk", "a test strategy",
        host_create, host_destroy, host_ask, host_tell, c, NULL, NULL, NULL,
    };
    return vt;
}

static void test_registry(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    host_counts_t counts = {0};
    nas_searcher_vtable_t vt = host_vtable(&counts);

    /* Built-ins are there, registered through the same path. */
    bool have_random = false, have_grid = false;
    for (uint32_t i = 0; i < nas_context_num_searchers(ctx); i++) {
        const char *n, *d;
        assert_int_equal(nas_context_searcher_at(ctx, i, &n, &d), NAS_OK);
        have_random |= strcmp(n, "random") == 0;
        have_grid |= strcmp(n, "grid") == 0;
    }
    assert_true(have_random && have_grid);
    bool have_table = false;
    for (uint32_t i = 0; i < nas_context_num_evaluators(ctx); i++) {
        const char *n;
        assert_int_equal(nas_context_evaluator_at(ctx, i, &n, NULL), NAS_OK);
        have_table |= strcmp(n, "table") == 0;
    }
    assert_true(have_table);

    nas_searcher_vtable_t bad = vt;
    bad.abi_version = NAS_PLUGIN_ABI_VERSION + 1;
    assert_int_equal(nas_context_register_searcher(ctx, &bad), NAS_E_ABI);
    bad = vt;
    bad.struct_size = offsetof(nas_searcher_vtable_t, tell);   /* does not cover tell */
    assert_int_equal(nas_context_register_searcher(ctx, &bad), NAS_E_ABI);
    bad = vt;
    bad.ask = NULL;
    assert_int_equal(nas_context_register_searcher(ctx, &bad), NAS_E_INVAL);
    bad = vt;
    bad.name = "Has Caps";
    assert_int_equal(nas_context_register_searcher(ctx, &bad), NAS_E_INVAL);
    bad = vt;
    bad.name = NULL;
    assert_int_equal(nas_context_register_searcher(ctx, &bad), NAS_E_INVAL);
    bad = vt;
    bad.name = "random";
    assert_int_equal(nas_context_register_searcher(ctx, &bad), NAS_E_EXISTS);
    assert_non_null(strstr(nas_context_errmsg(ctx), "random"));
    assert_int_equal(nas_context_register_searcher(ctx, NULL), NAS_E_INVAL);

    /* A vtable without user_data (older, shorter) registers; the missing member reads as NULL. */
    nas_searcher_vtable_t shortvt = vt;
    shortvt.name = "short";
    shortvt.struct_size = offsetof(nas_searcher_vtable_t, user_data);
    assert_int_equal(nas_context_register_searcher(ctx, &shortvt), NAS_OK);

    /* Registration copies the vtable and its name. */
    char name[16] = "host-walk";
    vt.name = name;
    assert_int_equal(nas_context_register_searcher(ctx, &vt), NAS_OK);
    memcpy(name, "xxxxxxxxx", 9);
    nas_searcher_vtable_t again = host_vtable(&counts);
    assert_int_equal(nas_context_register_searcher(ctx, &again), NAS_E_EXISTS);

    nas_space_t *space = nb201(ctx);
    nas_searcher_t *s = searcher(space, "short", 1, NULL);
    assert_null(nas_searcher_user_data(s));
    nas_searcher_destroy(s);

    /* Evaluator registry: same rules. */
    nas_evaluator_vtable_t evt = { NAS_PLUGIN_ABI_VERSION, sizeof evt, "other-eval", "", NULL, NULL, NULL, NULL };
    assert_int_equal(nas_context_register_evaluator(ctx, &evt), NAS_E_INVAL);   /* members missing */
    evt.abi_version = 0;
    assert_int_equal(nas_context_register_evaluator(ctx, &evt), NAS_E_ABI);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

static void test_host_searcher(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    host_counts_t counts = {0};
    nas_searcher_vtable_t vt = host_vtable(&counts);
    assert_int_equal(nas_context_register_searcher(ctx, &vt), NAS_OK);
    nas_space_t *space = nb201(ctx);

    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
    assert_int_equal(nas_params_set(p, "step", "7"), NAS_OK);
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    o.objectives = "acc:max";
    nas_searcher_t *s = NULL;
    assert_int_equal(nas_searcher_create(&s, space, "host-walk", p, &o), NAS_OK);
    assert_string_equal(nas_searcher_name(s), "host-walk");
    assert_ptr_equal(nas_searcher_user_data(s), &counts);
    assert_int_equal(counts.creates, 1);

    nas_arch_t *a = NULL, *e = NULL;
    assert_int_equal(nas_arch_create(&a, space), NAS_OK);
    assert_int_equal(nas_arch_create(&e, space), NAS_OK);
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, ctx), NAS_OK);
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    c.arch = a;
    for (uint64_t i = 0; i < 3; i++) {
        assert_int_equal(nas_searcher_ask(s, &c), NAS_OK);
        assert_int_equal(c.trial_id, i);
        assert_true(c.fidelity == 2.0);
        assert_int_equal(nas_space_enumerate(space, e, i * 7), NAS_OK);
        assert_true(nas_arch_equal(a, e));   /* the strategy saw the "step" parameter */
        assert_int_equal(nas_result_set_metric(res, "acc", 10.0 + (double)i), NAS_OK);
        assert_int_equal(nas_searcher_tell(s, &c, res), NAS_OK);
        assert_int_equal(counts.last_told, i);
        assert_true(counts.last_score == 10.0 + (double)i);
    }
    assert_int_equal(nas_searcher_ask(s, &c), NAS_E_EXHAUSTED);
    assert_non_null(strstr(nas_searcher_errmsg(s), "host-walk"));
    assert_int_equal(counts.asks, 4);
    assert_int_equal(counts.tells, 3);
    nas_searcher_destroy(s);
    assert_int_equal(counts.destroys, 1);

    /* Unknown parameter: create ran, then the state is destroyed again. */
    assert_int_equal(nas_params_set(p, "stepp", "1"), NAS_OK);
    s = (nas_searcher_t *)0x1;
    assert_int_equal(nas_searcher_create(&s, space, "host-walk", p, &o), NAS_E_INVAL);
    assert_null(s);
    assert_non_null(strstr(nas_context_errmsg(ctx), "unknown parameter 'stepp' for searcher 'host-walk'"));
    assert_int_equal(counts.creates, 2);
    assert_int_equal(counts.destroys, 2);

    /* A create that fails after setting its state gets destroy; one that fails before does not. */
    counts.fail_create = 1;
    assert_int_equal(nas_searcher_create(&s, space, "host-walk", NULL, &o), NAS_E_SPEC);
    assert_int_equal(counts.destroys, 3);
    assert_non_null(strstr(nas_context_errmsg(ctx), "refusing on purpose"));
    counts.fail_create = 2;
    assert_int_equal(nas_searcher_create(&s, space, "host-walk", NULL, &o), NAS_E_SPEC);
    assert_int_equal(counts.destroys, 3);
    assert_non_null(strstr(nas_context_errmsg(ctx), "host-walk': refusing before any state"));

    nas_result_destroy(res);
    nas_arch_destroy(a);
    nas_arch_destroy(e);
    nas_params_destroy(p);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

static void test_create_errors(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = nb201(ctx);
    nas_searcher_t *s = (nas_searcher_t *)0x1;
    assert_int_equal(nas_searcher_create(&s, space, "nope", NULL, NULL), NAS_E_NOT_FOUND);
    assert_null(s);
    assert_non_null(strstr(nas_context_errmsg(ctx), "nope"));
    assert_int_equal(nas_searcher_create(NULL, space, "random", NULL, NULL), NAS_E_INVAL);
    assert_int_equal(nas_searcher_create(&s, NULL, "random", NULL, NULL), NAS_E_INVAL);
    assert_int_equal(nas_searcher_create(&s, space, NULL, NULL, NULL), NAS_E_INVAL);
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    o.struct_size = 1;
    assert_int_equal(nas_searcher_create(&s, space, "random", NULL, &o), NAS_E_INVAL);

    /* A space that is not built yet. */
    nas_space_t *raw = NULL;
    assert_int_equal(nas_space_create(&raw, ctx, "raw"), NAS_OK);
    assert_int_equal(nas_searcher_create(&s, raw, "random", NULL, NULL), NAS_E_STATE);
    nas_space_destroy(raw);

    /* Bad parameters of the built-ins. */
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
    assert_int_equal(nas_params_set(p, "max_retrys", "5"), NAS_OK);
    assert_int_equal(nas_searcher_create(&s, space, "random", p, NULL), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(ctx), "unknown parameter 'max_retrys' for searcher 'random'"));
    assert_non_null(strstr(nas_context_errmsg(ctx), "max_retries"));
    nas_params_destroy(p);
    assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
    assert_int_equal(nas_params_set(p, "max_retries", "0"), NAS_OK);
    assert_int_equal(nas_searcher_create(&s, space, "random", p, NULL), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(ctx), "max_retries"));
    assert_int_equal(nas_params_set(p, "max_retries", "ten"), NAS_OK);
    assert_int_equal(nas_searcher_create(&s, space, "random", p, NULL), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(ctx), "'ten' is not an integer"));
    assert_int_equal(nas_searcher_create(&s, space, "grid", p, NULL), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(ctx), "unknown parameter 'max_retries' for searcher 'grid'"));
    nas_params_destroy(p);
    assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
    assert_int_equal(nas_params_set(p, "shuffle", "maybe"), NAS_OK);
    assert_int_equal(nas_searcher_create(&s, space, "grid", p, NULL), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(ctx), "shuffle"));
    /* The same parameter set serves several creations (read flags are reset each time). */
    assert_int_equal(nas_params_set(p, "shuffle", "yes"), NAS_OK);
    nas_searcher_t *g1 = searcher(space, "grid", 1, p), *g2 = searcher(space, "grid", 2, p);
    nas_searcher_destroy(g1);
    nas_searcher_destroy(g2);
    assert_int_equal(nas_searcher_create(&s, space, "random", p, NULL), NAS_E_INVAL);
    nas_params_destroy(p);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Trials                                                                   */

static void test_trial_bookkeeping(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = nb201(ctx), *other = nb201(ctx);
    nas_searcher_t *s = searcher(space, "random", 3, NULL);
    nas_arch_t *a[3], *foreign = NULL;
    for (int i = 0; i < 3; i++)
        assert_int_equal(nas_arch_create(&a[i], space), NAS_OK);
    assert_int_equal(nas_arch_create(&foreign, other), NAS_OK);
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, ctx), NAS_OK);

    nas_candidate_t c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = (nas_candidate_t)NAS_CANDIDATE_INIT;
        c[i].arch = a[i];
        assert_int_equal(nas_searcher_ask(s, &c[i]), NAS_OK);
        assert_int_equal(c[i].trial_id, (uint64_t)i);
    }
    /* Told out of order; each once. */
    assert_int_equal(nas_searcher_tell(s, &c[1], res), NAS_OK);
    assert_int_equal(nas_searcher_tell(s, &c[1], res), NAS_E_STATE);
    assert_non_null(strstr(nas_searcher_errmsg(s), "already told"));
    nas_candidate_t unknown = c[0];
    unknown.trial_id = 99;
    assert_int_equal(nas_searcher_tell(s, &unknown, res), NAS_E_STATE);
    assert_non_null(strstr(nas_searcher_errmsg(s), "never asked"));
    /* The arch must be the one proposed for that trial. */
    nas_candidate_t swapped = c[0];
    swapped.arch = a[2];
    if (!nas_arch_equal(a[0], a[2])) {
        assert_int_equal(nas_searcher_tell(s, &swapped, res), NAS_E_INVAL);
    }
    assert_int_equal(nas_searcher_tell(s, &c[2], res), NAS_OK);
    assert_int_equal(nas_searcher_tell(s, &c[0], res), NAS_OK);
    assert_int_equal(nas_searcher_tell(s, &c[0], res), NAS_E_STATE);

    /* Bad candidates. */
    nas_candidate_t bad = NAS_CANDIDATE_INIT;
    assert_int_equal(nas_searcher_ask(s, &bad), NAS_E_INVAL);   /* no arch */
    bad.arch = foreign;
    assert_int_equal(nas_searcher_ask(s, &bad), NAS_E_INVAL);
    assert_non_null(strstr(nas_searcher_errmsg(s), "another space"));
    bad.arch = a[0];
    bad.struct_size = sizeof bad - 1;
    assert_int_equal(nas_searcher_ask(s, &bad), NAS_E_INVAL);
    assert_int_equal(nas_searcher_ask(s, NULL), NAS_E_INVAL);
    assert_int_equal(nas_searcher_tell(s, &c[0], NULL), NAS_E_INVAL);
    assert_int_equal(nas_searcher_ask(NULL, &c[0]), NAS_E_INVAL);
    /* Failed asks did not use up trial ids. */
    assert_int_equal(nas_searcher_ask(s, &c[0]), NAS_OK);
    assert_int_equal(c[0].trial_id, 3);

    nas_result_destroy(res);
    for (int i = 0; i < 3; i++)
        nas_arch_destroy(a[i]);
    nas_arch_destroy(foreign);
    nas_searcher_destroy(s);
    nas_searcher_destroy(NULL);
    nas_space_destroy(space);
    nas_space_destroy(other);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Objectives and scores                                                    */

static void test_objectives(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = nb201(ctx);
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    nas_searcher_t *s = NULL;

    static const char *const bad[] = {
        "", "acc", "acc:maximum", ":max", " :min", "a:max,a:min", "a:max,", ",a:max", "a:max,,b:min",
        "a:MAX", "a:b:max", "a\t\n:max",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.objectives = bad[i];
        nas_status_t st = nas_searcher_create(&s, space, "random", NULL, &o);
        if (st != NAS_E_INVAL)
            fail_msg("objectives '%s' gave %s", bad[i], nas_status_name(st));
        assert_null(s);
        assert_non_null(strstr(nas_context_errmsg(ctx), "objectives"));
    }

    /* Default. */
    s = searcher(space, "random", 1, NULL);
    assert_int_equal(nas_searcher_num_objectives(s), 1);
    const char *name;
    bool max;
    assert_int_equal(nas_searcher_objective(s, 0, &name, &max), NAS_OK);
    assert_string_equal(name, "accuracy");
    assert_true(max);
    assert_int_equal(nas_searcher_objective(s, 1, &name, &max), NAS_E_RANGE);
    nas_searcher_destroy(s);

    /* Spaces are trimmed; directions kept; the canonical form is rebuilt. */
    o.objectives = " acc : max , latency_ms:min ";
    assert_int_equal(nas_searcher_create(&s, space, "random", NULL, &o), NAS_OK);
    assert_int_equal(nas_searcher_num_objectives(s), 2);
    assert_int_equal(nas_searcher_objective(s, 0, &name, &max), NAS_OK);
    assert_string_equal(name, "acc");
    assert_true(max);
    assert_int_equal(nas_searcher_objective(s, 1, &name, &max), NAS_OK);
    assert_string_equal(name, "latency_ms");
    assert_false(max);
    nas__sb_t sb;
    nas__sb_init(&sb, ctx);
    nas__searcher_objectives_string(s, &sb);
    assert_string_equal(sb.data, "acc:max,latency_ms:min");
    nas__sb_free(&sb);

    /* Scores: larger is better; failures and missing or NaN metrics are -inf. */
    nas_result_t *r = NULL;
    assert_int_equal(nas_result_create(&r, ctx), NAS_OK);
    assert_int_equal(nas_result_set_metric(r, "acc", 0.9), NAS_OK);
    assert_int_equal(nas_result_set_metric(r, "latency_ms", 3.0), NAS_OK);
    double sc[3];
    assert_int_equal(nas_searcher_scores(s, r, sc, 3), NAS_OK);
    assert_true(sc[0] == 0.9);
    assert_true(sc[1] == -3.0);
    assert_true(isinf(sc[2]) && sc[2] < 0);   /* past the objectives */
    assert_int_equal(nas_searcher_scores(s, r, sc, 1), NAS_OK);
    assert_true(sc[0] == 0.9);
    assert_int_equal(nas_result_set_metric(r, "latency_ms", NAN), NAS_OK);
    assert_int_equal(nas_searcher_scores(s, r, sc, 2), NAS_OK);
    assert_true(sc[0] == 0.9 && isinf(sc[1]) && sc[1] < 0);
    assert_int_equal(nas_result_set_metric(r, "latency_ms", -INFINITY), NAS_OK);   /* min of -inf is great */
    assert_int_equal(nas_searcher_scores(s, r, sc, 2), NAS_OK);
    assert_true(isinf(sc[1]) && sc[1] > 0);
    nas_result_clear(r);
    assert_int_equal(nas_result_set_metric(r, "latency_ms", 2.0), NAS_OK);
    assert_int_equal(nas_searcher_scores(s, r, sc, 2), NAS_OK);
    assert_true(isinf(sc[0]) && sc[0] < 0 && sc[1] == -2.0);
    assert_int_equal(nas_result_set_metric(r, "acc", 0.5), NAS_OK);
    assert_int_equal(nas_result_set_status(r, NAS_E_DIVERGED, "nan loss"), NAS_OK);
    assert_int_equal(nas_searcher_scores(s, r, sc, 2), NAS_OK);
    assert_true(isinf(sc[0]) && sc[0] < 0 && isinf(sc[1]) && sc[1] < 0);
    assert_int_equal(nas_searcher_scores(s, r, sc, 0), NAS_E_INVAL);
    assert_int_equal(nas_searcher_scores(s, NULL, sc, 1), NAS_E_INVAL);
    nas_result_destroy(r);
    nas_searcher_destroy(s);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Random                                                                   */

/* Set of strings, for "never twice" checks (a plain sorted array). */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t count_distinct(char **v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_str);
    size_t d = n ? 1 : 0;
    for (size_t i = 1; i < n; i++)
        d += strcmp(v[i - 1], v[i]) != 0;
    return d;
}

/* Ask n times (telling each), collecting the arch strings; returns how many asks succeeded. */
static size_t collect(nas_searcher_t *s, nas_space_t *space, size_t n, char **out)
{
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, space), NAS_OK);
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, nas_searcher_context(s)), NAS_OK);
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    c.arch = a;
    size_t got = 0;
    for (; got < n; got++) {
        if (step(s, &c, res) != NAS_OK)
            break;
        char buf[512];
        arch_str(a, buf, sizeof buf);
        out[got] = strdup(buf);
    }
    nas_result_destroy(res);
    nas_arch_destroy(a);
    return got;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
}

static void test_random_tiny_exhausts(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *tiny = cell_space(ctx, 2, 2);   /* 3 edges of {none, skip}: 8 archs */
    uint64_t size;
    assert_int_equal(nas_space_size_u64(tiny, NAS_SIZE_ALL, &size), NAS_OK);
    assert_int_equal(size, 8);
    static const char *const retries[] = { "100", "1" };   /* 1: the grid scan does the tail */
    for (int k = 0; k < 2; k++) {
        nas_params_t *p = NULL;
        assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
        assert_int_equal(nas_params_set(p, "max_retries", retries[k]), NAS_OK);
        nas_searcher_t *s = searcher(tiny, "random", 11 + (uint64_t)k, p);
        assert_true(nas__searcher_finite(s));
        char *v[16];
        size_t got = collect(s, tiny, 16, v);
        assert_int_equal(got, 8);
        assert_int_equal(count_distinct(v, got), 8);
        assert_non_null(strstr(nas_searcher_errmsg(s), "all 8 architectures"));
        /* Stays exhausted. */
        nas_arch_t *a = NULL;
        assert_int_equal(nas_arch_create(&a, tiny), NAS_OK);
        nas_candidate_t c = NAS_CANDIDATE_INIT;
        c.arch = a;
        assert_int_equal(nas_searcher_ask(s, &c), NAS_E_EXHAUSTED);
        nas_arch_destroy(a);
        free_strs(v, got);
        nas_searcher_destroy(s);
        nas_params_destroy(p);
    }
    nas_space_destroy(tiny);
    nas_context_destroy(ctx);
}

static void test_random_nb201(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = nb201(ctx);
    enum { N = 3000 };
    char **a = calloc(N, sizeof *a), **b = calloc(N, sizeof *b), **c = calloc(N, sizeof *c);
    nas_searcher_t *s1 = searcher(space, "random", 5, NULL);
    nas_searcher_t *s2 = searcher(space, "random", 5, NULL);
    nas_searcher_t *s3 = searcher(space, "random", 6, NULL);
    assert_int_equal(collect(s1, space, N, a), N);
    assert_int_equal(collect(s2, space, N, b), N);
    assert_int_equal(collect(s3, space, N, c), N);
    size_t same_seed = 0, other_seed = 0;
    for (size_t i = 0; i < N; i++) {
        same_seed += strcmp(a[i], b[i]) == 0;
        other_seed += strcmp(a[i], c[i]) == 0;
    }
    assert_int_equal(same_seed, N);       /* reproducible */
    assert_true(other_seed < N / 20);     /* a different seed gives a different sequence */
    /* Uniform-ish: every op shows up on the first edge. */
    for (size_t op = 0; op < 5; op++) {
        size_t hits = 0;
        for (size_t i = 0; i < N; i++)
            hits += strncmp(a[i] + 1, NB201_OPS[op], strlen(NB201_OPS[op])) == 0 && a[i][1 + strlen(NB201_OPS[op])] == '~';
        assert_true(hits > N / 5 - N / 20 && hits < N / 5 + N / 20);
    }
    assert_int_equal(count_distinct(a, N), N);   /* never twice */
    free_strs(a, N);
    free_strs(b, N);
    free_strs(c, N);
    free(a);
    free(b);
    free(c);
    nas_searcher_destroy(s1);
    nas_searcher_destroy(s2);
    nas_searcher_destroy(s3);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

static void test_random_full_nb201(void **state)
{
    (void)state;
    /* Every one of the 15625 cells, each once, then exhausted. */
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = nb201(ctx);
    nas_searcher_t *s = searcher(space, "random", 9, NULL);
    char **v = calloc(15626, sizeof *v);
    size_t got = collect(s, space, 15626, v);
    assert_int_equal(got, 15625);
    assert_int_equal(count_distinct(v, got), 15625);
    free_strs(v, got);
    free(v);
    nas_searcher_destroy(s);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

static void test_random_seed_from_context(void **state)
{
    (void)state;
    /* opts.seed 0 takes the context's seed: equal context seeds, equal sequences. */
    char *v[3][20];
    for (int k = 0; k < 3; k++) {
        nas_context_t *ctx = tu_context_plain(k < 2 ? 77 : 78);
        nas_space_t *space = nb201(ctx);
        nas_searcher_t *s = searcher(space, "random", 0, NULL);
        assert_int_equal(nas__searcher_seed(s), k < 2 ? 77 : 78);
        assert_int_equal(collect(s, space, 20, v[k]), 20);
        nas_searcher_destroy(s);
        nas_space_destroy(space);
        nas_context_destroy(ctx);
    }
    int same = 0, diff = 0;
    for (int i = 0; i < 20; i++) {
        same += strcmp(v[0][i], v[1][i]) == 0;
        diff += strcmp(v[0][i], v[2][i]) != 0;
    }
    assert_int_equal(same, 20);
    assert_true(diff > 10);
    for (int k = 0; k < 3; k++)
        free_strs(v[k], 20);
}

static void test_random_infinite_space(void **state)
{
    (void)state;
    /* A FLOAT hyperparameter makes the space uncountable: random is not finite there. */
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = NULL;
    assert_int_equal(nas_space_create(&s, ctx, "hp"), NAS_OK);
    nas_hparam_spec_t h = { sizeof h, "lr", NAS_DIM_FLOAT, 1e-4, 1e-1, true, NULL, 0, 0 };
    assert_int_equal(nas_space_add_hparam(s, &h), NAS_OK);
    assert_int_equal(nas_space_build(s), NAS_OK);
    nas_searcher_t *r = searcher(s, "random", 1, NULL);
    assert_false(nas__searcher_finite(r));
    char *v[200];
    assert_int_equal(collect(r, s, 200, v), 200);
    assert_int_equal(count_distinct(v, 200), 200);
    free_strs(v, 200);
    /* The grid of the same space has 5 points (grid_points default) and is finite. */
    nas_searcher_t *g = searcher(s, "grid", 1, NULL);
    assert_true(nas__searcher_finite(g));
    assert_int_equal(collect(g, s, 10, v), 5);
    assert_int_equal(count_distinct(v, 5), 5);
    free_strs(v, 5);
    nas_searcher_destroy(g);
    nas_searcher_destroy(r);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Grid                                                                     */

/* Every grid point once then NAS_E_EXHAUSTED; the visiting order's grid indices go to `order`. */
static void run_grid(nas_context_t *ctx, nas_space_t *space, const char *shuffle, uint64_t seed, uint64_t *order,
                     uint64_t n)
{
    nas_params_t *p = NULL;
    if (shuffle) {
        assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
        assert_int_equal(nas_params_set(p, "shuffle", shuffle), NAS_OK);
    }
    nas_searcher_t *s = searcher(space, "grid", seed, p);
    nas_arch_t *a = NULL, *e = NULL;
    assert_int_equal(nas_arch_create(&a, space), NAS_OK);
    assert_int_equal(nas_arch_create(&e, space), NAS_OK);
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, ctx), NAS_OK);
    /* Index of every arch by its hash: the grid index it was enumerated at. */
    nas__u64set_t seen;
    nas__u64set_init(&seen, ctx);
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    c.arch = a;
    for (uint64_t i = 0; i < n; i++) {
        assert_int_equal(step(s, &c, res), NAS_OK);
        bool added;
        assert_int_equal(nas__u64set_insert(&seen, nas_arch_hash(a), &added), NAS_OK);
        assert_true(added);
        if (order) {
            /* Which grid index is this? Only checked on small prefixes (linear search). */
            if (i < 8) {
                uint64_t j = 0;
                for (; j < n; j++) {
                    assert_int_equal(nas_space_enumerate(space, e, j), NAS_OK);
                    if (nas_arch_equal(a, e))
                        break;
                }
                order[i] = j;
            }
        }
    }
    assert_int_equal(seen.count, n);
    assert_int_equal(nas_searcher_ask(s, &c), NAS_E_EXHAUSTED);
    assert_non_null(strstr(nas_searcher_errmsg(s), "grid points"));
    assert_int_equal(nas_searcher_ask(s, &c), NAS_E_EXHAUSTED);
    nas__u64set_free(&seen);
    nas_result_destroy(res);
    nas_arch_destroy(a);
    nas_arch_destroy(e);
    nas_searcher_destroy(s);
    nas_params_destroy(p);
}

static void test_grid_nb201(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = nb201(ctx);
    uint64_t in_order[8], sh1[8], sh1b[8], sh2[8];
    run_grid(ctx, space, NULL, 1, in_order, 15625);
    for (uint64_t i = 0; i < 8; i++)
        assert_int_equal(in_order[i], i);
    run_grid(ctx, space, "true", 1, sh1, 15625);
    run_grid(ctx, space, "true", 1, sh1b, 15625);
    run_grid(ctx, space, "true", 2, sh2, 15625);
    assert_memory_equal(sh1, sh1b, sizeof sh1);            /* reproducible */
    assert_memory_not_equal(sh1, in_order, sizeof sh1);    /* shuffled */
    assert_memory_not_equal(sh1, sh2, sizeof sh1);         /* seed-dependent */
    run_grid(ctx, space, "false", 1, in_order, 15625);
    for (uint64_t i = 0; i < 8; i++)
        assert_int_equal(in_order[i], i);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

static void test_grid_small_sizes(void **state)
{
    (void)state;
    /* The shuffle is a bijection for odd sizes too (1, 2, 3, 5, ... points). */
    nas_context_t *ctx = tu_context_plain(1);
    for (uint32_t n = 1; n <= 12; n++) {
        nas_space_t *s = NULL;
        assert_int_equal(nas_space_create(&s, ctx, "hp"), NAS_OK);
        nas_hparam_spec_t h = { sizeof h, "k", NAS_DIM_INT, 1, (double)n, false, NULL, 0, 0 };
        assert_int_equal(nas_space_add_hparam(s, &h), NAS_OK);
        assert_int_equal(nas_space_build(s), NAS_OK);
        run_grid(ctx, s, "1", n, NULL, n);
        run_grid(ctx, s, NULL, n, NULL, n);
        nas_space_destroy(s);
    }
    nas_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_host_searcher),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_trial_bookkeeping),
        cmocka_unit_test(test_objectives),
        cmocka_unit_test(test_random_tiny_exhausts),
        cmocka_unit_test(test_random_nb201),
        cmocka_unit_test(test_random_full_nb201),
        cmocka_unit_test(test_random_seed_from_context),
        cmocka_unit_test(test_random_infinite_space),
        cmocka_unit_test(test_grid_nb201),
        cmocka_unit_test(test_grid_small_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
