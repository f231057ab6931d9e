/* Experiment files: the shipped ones, path resolution, defaults, bad files with line:column, OOM. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static nas_experiment_t *load_file_ok(nas_context_t *ctx, const char *path)
{
    nas_experiment_t *e = NULL;
    nas_status_t st = nas_experiment_load_file(&e, ctx, path);
    if (st != NAS_OK)
        fail_msg("loading %s: %s: %s", path, nas_status_name(st), nas_context_errmsg(ctx));
    return e;
}

static const char *param(const nas_params_t *p, const char *key)
{
    const char *v = NULL;
    if (nas_params_get_string(p, key, &v) != NAS_OK)
        return NULL;
    return v;
}

static void test_shipped_random(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    char path[4096];
    snprintf(path, sizeof path, "%s", tu_src_path("experiments/nb201-random.yaml"));
    nas_experiment_t *e = load_file_ok(ctx, path);
    assert_string_equal(nas_experiment_name(e), "nb201-random");
    assert_string_equal(nas_experiment_searcher(e), "random");
    assert_string_equal(nas_experiment_evaluator(e), "table");
    assert_string_equal(nas_experiment_objectives(e), "test_acc:max");
    assert_int_equal(nas_experiment_seed(e), 1);

    /* Paths resolve against the experiment's folder, and point at real files. */
    char want[4096];
    snprintf(want, sizeof want, "%s", tu_src_path("experiments/../data/nb201/cifar10_test.csv"));
    const char *csv = param(nas_experiment_evaluator_params(e), "path");
    assert_non_null(csv);
    assert_string_equal(csv, want);
    FILE *f = fopen(csv, "rb");
    assert_non_null(f);
    fclose(f);
    snprintf(want, sizeof want, "%s", tu_src_path("experiments/../out/nb201-random"));
    assert_string_equal(nas_experiment_output_dir(e), want);
    assert_int_equal(nas_params_count(nas_experiment_searcher_params(e)), 0);

    nas_space_t *s = nas_experiment_space(e);
    assert_non_null(s);
    assert_string_equal(nas_space_name(s), "nas-bench-201");
    uint64_t n = 0;
    assert_int_equal(nas_space_size_u64(s, NAS_SIZE_ARCH, &n), NAS_OK);
    assert_int_equal(n, 15625);

    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_seconds = 5;
    ro.journal_path = "keep";
    assert_int_equal(nas_experiment_budget(e, &ro), NAS_OK);
    assert_int_equal(ro.max_trials, 100);
    assert_true(ro.max_seconds == 0);
    assert_true(ro.max_cost == 0);
    assert_string_equal(ro.journal_path, "keep");   /* other members untouched */
    nas_experiment_destroy(e);

    snprintf(path, sizeof path, "%s", tu_src_path("experiments/nb201-grid.yaml"));
    e = load_file_ok(ctx, path);
    assert_string_equal(nas_experiment_searcher(e), "grid");
    assert_string_equal(nas_experiment_evaluator(e), "table");
    assert_non_null(strstr(param(nas_experiment_evaluator_params(e), "path"), "data/nb201/cifar10_test.csv"));
    nas_experiment_destroy(e);
    nas_context_destroy(ctx);
}

static void test_paths_and_defaults(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    const char *dir = tu_tmpdir();
    char p[1024], q[1024], text[2048];
    snprintf(p, sizeof p, "%s/spaces", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/exps", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/spaces/tiny.yaml", dir);
    assert_int_equal(tu_write_file(p, "cell: {ops: [none, skip_connect], num_nodes: 2}\n"), 0);

    /* Relative space, path-like params resolved, others kept. Absolute paths are kept. */
    snprintf(text, sizeof text,
             "space: ../spaces/tiny.yaml\n"
             "searcher:\n  name: evolution\n  objectives: [acc:max, params:min]\n"
             "  params: {population: 20, log_file: logs/s.txt, seed_path: /abs/x}\n"
             "evaluator: {name: table, params: {path: t.csv, key_column: arch, cost_column: \"\"}}\n"
             "budget: {trials: 7, seconds: 1.5, cost: 1e3}\n"
             "seed: 18446744073709551615\n");
    snprintf(p, sizeof p, "%s/exps/e.yaml", dir);
    assert_int_equal(tu_write_file(p, text), 0);
    nas_experiment_t *e = load_file_ok(ctx, p);
    assert_string_equal(nas_space_name(nas_experiment_space(e)), "tiny");
    assert_int_equal(nas_space_num_dims(nas_experiment_space(e)), 3);
    assert_string_equal(nas_experiment_name(e), "");
    assert_string_equal(nas_experiment_searcher(e), "evolution");
    assert_string_equal(nas_experiment_objectives(e), "acc:max,params:min");
    const nas_params_t *sp = nas_experiment_searcher_params(e), *ep = nas_experiment_evaluator_params(e);
    assert_int_equal(nas_params_count(sp), 3);
    assert_string_equal(param(sp, "population"), "20");
    snprintf(q, sizeof q, "%s/exps/logs/s.txt", dir);
    assert_string_equal(param(sp, "log_file"), q);
    assert_string_equal(param(sp, "seed_path"), "/abs/x");
    snprintf(q, sizeof q, "%s/exps/t.csv", dir);
    assert_string_equal(param(ep, "path"), q);
    assert_string_equal(param(ep, "key_column"), "arch");
    assert_string_equal(param(ep, "cost_column"), "");
    assert_true(nas_experiment_seed(e) == UINT64_MAX);
    assert_string_equal(nas_experiment_output_dir(e), "");
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    assert_int_equal(nas_experiment_budget(e, &ro), NAS_OK);
    assert_int_equal(ro.max_trials, 7);
    assert_true(ro.max_seconds == 1.5 && ro.max_cost == 1000);
    /* A caller's struct that ends before max_cost: max_cost is not written. */
    struct { size_t struct_size; uint64_t max_trials; double max_seconds; } old = { 0 };
    old.struct_size = sizeof old;
    unsigned char guard[sizeof(nas_run_opts_t)];
    memset(guard, 0x5a, sizeof guard);
    memcpy(guard, &old, sizeof old);
    assert_int_equal(nas_experiment_budget(e, (nas_run_opts_t *)(void *)guard), NAS_OK);
    for (size_t i = sizeof old; i < sizeof guard; i++)
        assert_int_equal(guard[i], 0x5a);
    memcpy(&old, guard, sizeof old);
    assert_int_equal(old.max_trials, 7);
    nas_experiment_destroy(e);

    /* From a string: relative to base_dir, or to the current folder with NULL. */
    const char *inline_exp = "name: inline\nspace:\n  name: hp\n  hyperparameters:\n"
                             "    - {name: lr, type: float, low: 0.1, high: 1}\n"
                             "output: out/run1\nevaluator: {params: {data_file: d.csv}}\n";
    e = NULL;
    assert_int_equal(nas_experiment_load_string(&e, ctx, inline_exp, strlen(inline_exp), "/base"), NAS_OK);
    assert_string_equal(nas_experiment_output_dir(e), "/base/out/run1");
    assert_string_equal(param(nas_experiment_evaluator_params(e), "data_file"), "/base/d.csv");
    assert_string_equal(nas_space_name(nas_experiment_space(e)), "hp");
    assert_string_equal(nas_experiment_searcher(e), "random");        /* defaults */
    assert_string_equal(nas_experiment_evaluator(e), "table");
    assert_string_equal(nas_experiment_objectives(e), "accuracy:max");
    assert_int_equal(nas_experiment_seed(e), 0);
    nas_experiment_destroy(e);
    assert_int_equal(nas_experiment_load_string(&e, ctx, inline_exp, strlen(inline_exp), NULL), NAS_OK);
    assert_string_equal(nas_experiment_output_dir(e), "out/run1");
    nas_experiment_destroy(e);

    /* A file in the current folder: no folder prefix. Scalar shorthand for searcher and evaluator. */
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(p, sizeof p, "%s/spaces", dir);
    assert_int_equal(chdir(p), 0);
    assert_int_equal(tu_write_file("here.yaml", "space: tiny.yaml\nsearcher: grid\nevaluator: latency\noutput: o\n"), 0);
    e = load_file_ok(ctx, "here.yaml");
    assert_string_equal(nas_experiment_output_dir(e), "o");
    assert_string_equal(nas_experiment_searcher(e), "grid");
    assert_string_equal(nas_experiment_evaluator(e), "latency");
    nas_experiment_destroy(e);
    assert_int_equal(chdir(cwd), 0);
    nas_context_destroy(ctx);
}

static void test_bad_experiments(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        nas_status_t status;
        const char *expect;
    } cases[] = {
        { "name: x\nserach: random\nspace: {hyperparameters: [{name: a, type: int, low: 0, high: 1}]}\n", NAS_E_SPEC,
          "<string>:2:1: unknown key 'serach' in an experiment (did you mean 'searcher'?)" },
        { "name: x\nsearcher: random\n", NAS_E_SPEC, "<string>:1:1: an experiment needs a 'space'" },
        { "space:\nname: x\n", NAS_E_SPEC, "<string>:1:7: an experiment needs a 'space'" },
        { "space: missing.yaml\n", NAS_E_IO, "<string>:1:8: space file: missing.yaml" },
        { "space: [a, b]\n", NAS_E_SPEC, "<string>:1:8: space (a file path or an inline mapping) must be a string" },
        { "budget: {trials: -1}\nspace: s.yaml\n", NAS_E_SPEC, "<string>:1:18: budget.trials must be" },
        { "budget: {trials: 10, seconds: abc}\nspace: s.yaml\n", NAS_E_SPEC, "<string>:1:31: budget.seconds must be a number" },
        { "budget: {trials: 10, cost: -5}\nspace: s.yaml\n", NAS_E_SPEC, "<string>:1:28: budget.cost must be >= 0" },
        { "budget: {trails: 10}\nspace: s.yaml\n", NAS_E_SPEC, "<string>:1:10: unknown key 'trails' in budget" },
        { "budget: 10\nspace: s.yaml\n", NAS_E_SPEC, "<string>:1:9: budget must be a mapping" },
        { "seed: -3\nspace: s.yaml\n", NAS_E_SPEC, "<string>:1:7: seed must be an integer" },
        { "seed: 18446744073709551616\nspace: s.yaml\n", NAS_E_SPEC, "<string>:1:7: seed must be" },
        { "searcher: {name: random, params: {population: [1, 2]}}\nspace: s.yaml\n", NAS_E_SPEC,
          "<string>:1:47: parameter 'population' needs a single value" },
        { "searcher: {name: random, params: [1]}\nspace: s.yaml\n", NAS_E_SPEC, "<string>:1:34: searcher.params must be a mapping" },
        { "searcher: {name: Random}\nspace: s.yaml\n", NAS_E_SPEC, "<string>:1:18: searcher.name 'Random' must match" },
        { "searcher: {name: random, objective: a:max}\nspace: s.yaml\n", NAS_E_SPEC,
          "<string>:1:26: unknown key 'objective' in searcher (did you mean 'objectives'?)" },
        { "evaluator: {name: table, params: {\"bad key\": 1}}\nspace: s.yaml\n", NAS_E_SPEC,
          "<string>:1:35: parameter name 'bad key'" },
        { "name: x\nsearcher: {name: random\n", NAS_E_PARSE, "<string>:3:1:" },
        { "space:\n  cell: {ops: [none, conv], num_nodes: 2}\n", NAS_E_SPEC, "<string>:2:22: unknown op 'conv'" },
        { "output: [a]\nspace: s.yaml\n", NAS_E_SPEC, "<string>:1:9: output must be a string" },
        { "", NAS_E_SPEC, "empty" },
    };
    nas_context_t *ctx = tu_context_plain(1);
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nas_experiment_t *e = (nas_experiment_t *)0x1;
        nas_status_t st = nas_experiment_load_string(&e, ctx, cases[i].yaml, strlen(cases[i].yaml), NULL);
        const char *msg = nas_context_errmsg(ctx);
        if (st != cases[i].status || !strstr(msg, cases[i].expect)) {
            print_error("case %zu:\n%s\ngave %s '%s', expected %s with '%s'\n\n", i, cases[i].yaml,
                        nas_status_name(st), msg, nas_status_name(cases[i].status), cases[i].expect);
            failures++;
        }
        assert_null(e);
        assert_null(strchr(msg, '\n'));
    }
    assert_int_equal(failures, 0);

    /* A missing experiment file names it; a bad space file names the space file's line. */
    nas_experiment_t *e = NULL;
    const char *dir = tu_tmpdir();
    char p[1024];
    snprintf(p, sizeof p, "%s/nope.yaml", dir);
    assert_int_equal(nas_experiment_load_file(&e, ctx, p), NAS_E_IO);
    assert_non_null(strstr(nas_context_errmsg(ctx), "nope.yaml"));
    snprintf(p, sizeof p, "%s/bad-space.yaml", dir);
    assert_int_equal(tu_write_file(p, "cell:\n  ops: [none]\n  num_nodes: 0\n"), 0);
    snprintf(p, sizeof p, "%s/exp.yaml", dir);
    assert_int_equal(tu_write_file(p, "space: bad-space.yaml\n"), 0);
    assert_int_equal(nas_experiment_load_file(&e, ctx, p), NAS_E_SPEC);
    assert_non_null(strstr(nas_context_errmsg(ctx), "bad-space.yaml:3:14: num_nodes must be at least 1"));
    assert_null(e);
    assert_int_equal(nas_experiment_load_file(NULL, ctx, p), NAS_E_INVAL);
    assert_int_equal(nas_experiment_load_file(&e, ctx, NULL), NAS_E_INVAL);
    nas_experiment_destroy(NULL);
    assert_string_equal(nas_experiment_name(NULL), "");
    nas_context_destroy(ctx);
}

static nas_status_t oom_load(nas_context_t *ctx, void *arg)
{
    nas_experiment_t *e = NULL;
    nas_status_t st = nas_experiment_load_file(&e, ctx, (const char *)arg);
    nas_experiment_destroy(e);
    return st;
}

static void test_oom(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s", tu_src_path("experiments/nb201-random.yaml"));
    tu_oom_sweep(oom_load, path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_random),
        cmocka_unit_test(test_paths_and_defaults),
        cmocka_unit_test(test_bad_experiments),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
