/*
 * Out-of-memory sweeps (fail the Nth allocation for every N) over params, results, data sets
 * registered on a context, searcher creation and use (random, grid), the table evaluator, and a
 * 5-trial run with journal and summary:
 * every failure must give NAS_E_NOMEM, leak nothing, and leave the objects destroyable.
 */
#include "testutil.h"
#include "search/search_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const NB201_OPS[] = { "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3" };

/*
 * Build a cell space with allocation failures paused, so that the sweep fails the allocations of
 * the objects under test rather than those of the space module (which has its own sweep).
 */
static nas_space_t *space_unfailing(nas_context_t *ctx, uint32_t num_ops, uint32_t nodes)
{
    tu_alloc_t *a = ctx->alloc.user_data;
    long fail_at = a->fail_at, before = a->allocs;
    a->fail_at = 0;
    nas_space_t *s = NULL;
    assert_int_equal(nas_space_create(&s, ctx, "nb201"), NAS_OK);
    nas_cell_spec_t c = { sizeof c, NB201_OPS, num_ops, 1, nodes, 0, NULL, 0, NAS_CELL_OUTPUT_LAST };
    assert_int_equal(nas_space_set_cell(s, &c), NAS_OK);
    nas_macro_stage_t st[3] = { { 5, 16 }, { 5, 32 }, { 5, 64 } };
    nas_macro_spec_t m = { sizeof m, 16, st, 3, NAS_REDUCTION_RESIDUAL };
    assert_int_equal(nas_space_set_macro(s, &m), NAS_OK);
    assert_int_equal(nas_space_build(s), NAS_OK);
    long used = a->allocs - before;
    a->fail_at = fail_at > before ? fail_at + used : fail_at;
    return s;
}

#define TRY(expr)                     \
    do {                              \
        if ((st = (expr)) != NAS_OK)  \
            goto out;                 \
    } while (0)

static nas_status_t body_params(nas_context_t *ctx, void *arg)
{
    (void)arg;
    nas_params_t *p = NULL;
    nas_status_t st;
    TRY(nas_params_create(&p, ctx));
    for (int i = 0; i < 12; i++) {
        char k[16];
        snprintf(k, sizeof k, "key%d", i);
        TRY(nas_params_set(p, k, "12"));
    }
    TRY(nas_params_set(p, "key3", "a longer value that replaces the old one"));
    int64_t v;
    TRY(nas_params_get_int(p, "key0", 0, &v));
    assert_int_equal(v, 12);
    assert_int_equal(nas_params_count(p), 12);
out:
    nas_params_destroy(p);
    return st;
}

/* Data sets registered on the context: views made, attached, released with the context. */
static nas_status_t body_add_dataset(nas_context_t *ctx, void *arg)
{
    (void)arg;
    static const float img[4 * 4] = { 0 };
    static const int32_t lab[4] = { 0, 1, 0, 1 };
    nas_dataset_t *train = NULL, *test = NULL;
    nas_status_t st;
    TRY(nas_dataset_from_buffer(&train, ctx, img, lab, 4, 1, 2, 2, 2));
    TRY(nas_dataset_from_buffer(&test, ctx, img, lab, 2, 1, 2, 2, 2));
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "set%d", i);
        TRY(nas_context_add_dataset(ctx, name, train, i == 1 ? test : NULL));
    }
    assert_int_equal(nas_context_add_dataset(ctx, "set1", train, NULL), NAS_E_EXISTS);
out:
    nas_dataset_destroy(test);
    nas_dataset_destroy(train);
    return st;
}

static nas_status_t body_results(nas_context_t *ctx, void *arg)
{
    (void)arg;
    nas_result_t *a = NULL, *b = NULL;
    nas_status_t st;
    TRY(nas_result_create(&a, ctx));
    TRY(nas_result_create(&b, ctx));
    for (int i = 0; i < 12; i++) {
        char k[16];
        snprintf(k, sizeof k, "m%d", i);
        TRY(nas_result_set_metric(a, k, i));
    }
    TRY(nas_result_set_status(a, NAS_E_DIVERGED, "diverged at step 3"));
    TRY(nas_result_set_metric(b, "old", 1));
    st = nas_result_copy(b, a);
    if (st != NAS_OK) {
        /* A failed copy leaves dst as it was. */
        double v;
        assert_int_equal(nas_result_num_metrics(b), 1);
        assert_int_equal(nas_result_get_metric(b, "old", &v), NAS_OK);
        goto out;
    }
    assert_int_equal(nas_result_num_metrics(b), 12);
    assert_string_equal(nas_result_message(b), "diverged at step 3");
out:
    nas_result_destroy(a);
    nas_result_destroy(b);
    return st;
}

typedef struct searcher_arg {
    const char *name, *key, *value;
    int asks;
} searcher_arg_t;

static nas_status_t body_searcher(nas_context_t *ctx, void *varg)
{
    const searcher_arg_t *arg = varg;
    nas_space_t *space = space_unfailing(ctx, 5, 3);
    nas_params_t *p = NULL;
    nas_searcher_t *s = NULL;
    nas_arch_t *a = NULL;
    nas_result_t *r = NULL;
    nas_status_t st;
    TRY(nas_params_create(&p, ctx));
    TRY(nas_params_set(p, arg->key, arg->value));
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    o.objectives = "acc:max,latency:min";
    TRY(nas_searcher_create(&s, space, arg->name, p, &o));
    TRY(nas_arch_create(&a, space));
    TRY(nas_result_create(&r, ctx));
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    c.arch = a;
    for (int i = 0; i < arg->asks; i++) {
        TRY(nas_searcher_ask(s, &c));
        TRY(nas_searcher_tell(s, &c, r));
    }
out:
    nas_result_destroy(r);
    nas_arch_destroy(a);
    nas_searcher_destroy(s);
    nas_params_destroy(p);
    nas_space_destroy(space);
    return st;
}

static void test_params(void **state)
{
    (void)state;
    tu_oom_sweep(body_params, NULL);
}

static void test_add_dataset(void **state)
{
    (void)state;
    tu_oom_sweep(body_add_dataset, NULL);
}

static void test_results(void **state)
{
    (void)state;
    tu_oom_sweep(body_results, NULL);
}

static void test_random(void **state)
{
    (void)state;
    /* 100 asks: past the first growth of the set of proposed archs (64 slots). */
    searcher_arg_t arg = { "random", "max_retries", "20", 100 };
    tu_oom_sweep(body_searcher, &arg);
}

static void test_grid(void **state)
{
    (void)state;
    searcher_arg_t arg = { "grid", "shuffle", "true", 20 };
    tu_oom_sweep(body_searcher, &arg);
}

/* A small table: 6 rows of the NB201 space (some quoted), with a cost column. */
static const char *small_table(void)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/small.csv", tu_tmpdir());
    const char *text =
        "arch,acc,\"train secs\"\n"
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|,93.76,10\n"
        "\"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\",10,1\n"
        "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|,11,2\n"
        "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|none~2|,12,3\n"
        "|avg_pool_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|,13,4\n"
        "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|,14,5\n";
    assert_int_equal(tu_write_file(path, text), 0);
    return path;
}

static nas_status_t make_table(nas_context_t *ctx, nas_space_t *space, const char *path, nas_evaluator_t **ev)
{
    nas_params_t *p = NULL;
    nas_status_t st;
    TRY(nas_params_create(&p, ctx));
    TRY(nas_params_set(p, "path", path));
    TRY(nas_params_set(p, "cost_column", "train secs"));
    TRY(nas_evaluator_create(ev, space, "table", p));
out:
    nas_params_destroy(p);
    return st;
}

static nas_status_t body_table(nas_context_t *ctx, void *arg)
{
    nas_space_t *space = space_unfailing(ctx, 5, 3);
    nas_evaluator_t *ev = NULL;
    nas_arch_t *a = NULL;
    nas_result_t *r = NULL;
    nas_status_t st;
    TRY(make_table(ctx, space, arg, &ev));
    TRY(nas_arch_create(&a, space));
    TRY(nas_result_create(&r, ctx));
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    c.arch = a;
    TRY(nas_arch_from_string(a, "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|"));
    TRY(nas_evaluator_evaluate(ev, &c, r));
    assert_int_equal(nas_result_status(r), NAS_OK);
    assert_true(nas_result_cost(r) == 2.0);
    TRY(nas_arch_from_string(a, "|skip_connect~0|+|skip_connect~0|none~1|+|none~0|none~1|none~2|"));
    TRY(nas_evaluator_evaluate(ev, &c, r));
    assert_int_equal(nas_result_status(r), NAS_E_NOT_FOUND);
out:
    nas_result_destroy(r);
    nas_arch_destroy(a);
    nas_evaluator_destroy(ev);
    nas_space_destroy(space);
    return st;
}

static void test_table(void **state)
{
    (void)state;
    tu_oom_sweep(body_table, (void *)small_table());
}

typedef struct run_arg {
    const char *table, *journal, *summary;
} run_arg_t;

static nas_status_t body_run(nas_context_t *ctx, void *varg)
{
    const run_arg_t *arg = varg;
    unlink(arg->journal);
    nas_space_t *space = space_unfailing(ctx, 5, 3);
    nas_evaluator_t *ev = NULL;
    nas_searcher_t *s = NULL;
    nas_run_t *run = NULL;
    nas_status_t st;
    TRY(make_table(ctx, space, arg->table, &ev));
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    o.seed = 5;
    o.objectives = "acc:max";
    TRY(nas_searcher_create(&s, space, "random", NULL, &o));
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 5;
    ro.journal_path = arg->journal;
    TRY(nas_run_create(&run, s, ev, &ro));
    TRY(nas_run_execute(run));
    assert_int_equal(nas_run_num_trials(run), 5);
    TRY(nas_run_write_summary(run, arg->summary));
out:
    nas_run_destroy(run);
    nas_searcher_destroy(s);
    nas_evaluator_destroy(ev);
    nas_space_destroy(space);
    return st;
}

static void test_run(void **state)
{
    (void)state;
    char journal[600], summary[600];
    const char *table = small_table();
    snprintf(journal, sizeof journal, "%s/journal.jsonl", tu_tmpdir());
    snprintf(summary, sizeof summary, "%s/summary.json", tu_tmpdir());
    run_arg_t arg = { table, journal, summary };
    tu_oom_sweep(body_run, &arg);
    /* The last, successful iteration wrote a complete journal. */
    size_t len;
    char *text = tu_read_file(journal, &len);
    assert_non_null(text);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    assert_int_equal(lines, 6);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_results),
        cmocka_unit_test(test_add_dataset),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_grid),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
