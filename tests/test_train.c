/*
 * The "train" evaluator: created through nas_evaluator_create() like any plugin, a 3-trial random
 * run on a small Fashion-MNIST subset with sane metrics, a forced divergence (lr = 1e6 as a
 * hyperparameter of the space) that fails its trial with NAS_E_DIVERGED while the run goes on,
 * fractional fidelities, in-memory data sets registered with nas_context_add_dataset(), and
 * parameter errors (unknown key, bad values, missing files).
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FMNIST "/usr/share/datasets/fashion-mnist/"

static const char SPACE_YAML[] = "name: train-test\n"
                                 "family: cell\n"
                                 "cell:\n"
                                 "  ops: [skip_connect, nor_conv_1x1, nor_conv_3x3]\n"
                                 "  num_inputs: 1\n"
                                 "  num_nodes: 2\n"
                                 "macro:\n"
                                 "  stem_channels: 16\n"
                                 "  stages:\n"
                                 "    - {cells: 1, channels: 16}\n"
                                 "    - {cells: 1, channels: 32}\n";

/* One architecture decision (skip or conv) and the learning rate as a categorical hyperparameter. */
static const char LR_YAML[] = "name: train-lr\n"
                              "family: cell\n"
                              "cell:\n"
                              "  ops: [skip_connect, nor_conv_3x3]\n"
                              "  num_inputs: 1\n"
                              "  num_nodes: 1\n"
                              "macro:\n"
                              "  stem_channels: 16\n"
                              "  stages:\n"
                              "    - {cells: 1, channels: 16}\n"
                              "hyperparameters:\n"
                              "  - {name: lr, type: categorical, choices: [0.05, 1000000]}\n";

static nas_context_t *ctx;

/*
 * A context with one compute thread (NAS_TEST_THREADS overrides): meson runs test programs side by
 * side, and oneDNN's OpenMP teams of two on two cores shared by two processes wait on each other at
 * every barrier (ten times slower).
 */
static int setup(void **state)
{
    (void)state;
    FILE *probe = fopen(FMNIST "train-images-idx3-ubyte.gz", "rb");
    if (!probe) {
        fprintf(stderr, "Fashion-MNIST not found under " FMNIST " (Debian package dataset-fashion-mnist)\n");
        return -1;
    }
    fclose(probe);
    ctx = tu_context_threads(3);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nas_context_destroy(ctx);
    return 0;
}

static nas_space_t *space_of(const char *yaml)
{
    nas_space_t *s = NULL;
    if (nas_space_load_string(&s, ctx, yaml, strlen(yaml), "test") != NAS_OK)
        fail_msg("space: %s", nas_context_errmsg(ctx));
    return s;
}

/* Parameters for a quick proxy: 2000 samples, 20% of them for validation, 16x16 -> 14x14 stem. */
static nas_params_t *quick_params(void)
{
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
    static const char *const kv[][2] = {
        { "dataset", "fashion-mnist" }, { "max_samples", "2000" }, { "val_fraction", "0.2" },
        { "epochs", "1" },              { "batch_size", "32" },    { "stem_stride", "2" },
        { "latency_runs", "5" },
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        assert_int_equal(nas_params_set(p, kv[i][0], kv[i][1]), NAS_OK);
    return p;
}

static double metric(const nas_result_t *r, const char *name)
{
    double v = NAN;
    if (nas_result_get_metric(r, name, &v) != NAS_OK)
        fail_msg("metric '%s' missing", name);
    return v;
}

static void test_registered(void **state)
{
    (void)state;
    bool found = false;
    for (uint32_t i = 0; i < nas_context_num_evaluators(ctx); i++) {
        const char *name, *desc;
        assert_int_equal(nas_context_evaluator_at(ctx, i, &name, &desc), NAS_OK);
        if (strcmp(name, "train") == 0) {
            found = true;
            assert_true(strlen(desc) > 10);
        }
    }
    assert_true(found);
}

static void test_random_run(void **state)
{
    (void)state;
    nas_space_t *space = space_of(SPACE_YAML);
    nas_params_t *p = quick_params();
    nas_evaluator_t *ev = NULL;
    if (nas_evaluator_create(&ev, space, "train", p) != NAS_OK)
        fail_msg("create: %s", nas_context_errmsg(ctx));
    nas_searcher_t *s = NULL;
    nas_searcher_opts_t so = NAS_SEARCHER_OPTS_INIT;
    so.seed = 4;
    assert_int_equal(nas_searcher_create(&s, space, "random", NULL, &so), NAS_OK);
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 3;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, s, ev, &ro), NAS_OK);
    if (nas_run_execute(run) != NAS_OK)
        fail_msg("run: %s", nas_run_errmsg(run));
    assert_int_equal(nas_run_num_trials(run), 3);
    for (uint64_t i = 0; i < 3; i++) {
        uint64_t id;
        const char *arch;
        const nas_result_t *r;
        assert_int_equal(nas_run_trial(run, i, &id, &arch, &r), NAS_OK);
        if (nas_result_status(r) != NAS_OK)
            fail_msg("trial %llu: %s", (unsigned long long)id, nas_result_message(r));
        double acc = metric(r, "accuracy");
        assert_true(acc > 20.0 && acc <= 100.0);   /* 10 classes: chance is 10% */
        double loss = metric(r, "val_loss");
        assert_true(isfinite(loss) && loss > 0.0 && loss < 2.5);
        assert_true(isfinite(metric(r, "train_loss")));
        assert_true(metric(r, "params") > 1000.0);
        assert_true(metric(r, "flops") > metric(r, "params"));
        double lat = metric(r, "latency_ms");
        assert_true(isfinite(lat) && lat > 0.0);
        double secs = metric(r, "train_seconds");
        assert_true(secs > 0.0 && secs <= nas_result_cost(r));
        assert_true(fabs(metric(r, "epochs") - 1.0) < 1e-9);
        assert_true(nas_result_cost(r) > 0.0);
    }
    uint64_t best;
    assert_int_equal(nas_run_best(run, &best), NAS_OK);
    nas_run_destroy(run);
    nas_searcher_destroy(s);
    nas_evaluator_destroy(ev);
    nas_params_destroy(p);
    nas_space_destroy(space);
}

static void test_divergence_is_a_trial_failure(void **state)
{
    (void)state;
    nas_space_t *space = space_of(LR_YAML);
    nas_params_t *p = quick_params();
    assert_int_equal(nas_params_set(p, "latency", "false"), NAS_OK);
    nas_evaluator_t *ev = NULL;
    if (nas_evaluator_create(&ev, space, "train", p) != NAS_OK)
        fail_msg("create: %s", nas_context_errmsg(ctx));
    nas_searcher_t *s = NULL;
    assert_int_equal(nas_searcher_create(&s, space, "grid", NULL, NULL), NAS_OK);
    nas_run_t *run = NULL;
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    assert_int_equal(nas_run_create(&run, s, ev, &ro), NAS_OK);
    assert_int_equal(nas_run_execute(run), NAS_OK);   /* 2 archs x 2 learning rates, and the run goes on */
    assert_int_equal(nas_run_num_trials(run), 4);
    int diverged = 0, ok = 0;
    for (uint64_t i = 0; i < 4; i++) {
        uint64_t id;
        const char *arch;
        const nas_result_t *r;
        assert_int_equal(nas_run_trial(run, i, &id, &arch, &r), NAS_OK);
        if (strstr(arch, "lr=1000000")) {
            assert_int_equal(nas_result_status(r), NAS_E_DIVERGED);
            assert_non_null(strstr(nas_result_message(r), "diverged"));
            assert_true(nas_result_cost(r) > 0.0);
            diverged++;
        } else {
            assert_int_equal(nas_result_status(r), NAS_OK);
            assert_true(metric(r, "accuracy") > 20.0);
            ok++;
        }
    }
    assert_int_equal(diverged, 2);
    assert_int_equal(ok, 2);
    assert_string_equal(nas_run_stop_reason(run), "exhausted");
    nas_run_destroy(run);
    nas_searcher_destroy(s);
    nas_evaluator_destroy(ev);
    nas_params_destroy(p);
    nas_space_destroy(space);
}

static void test_fidelity(void **state)
{
    (void)state;
    nas_space_t *space = space_of(SPACE_YAML);
    nas_params_t *p = quick_params();
    assert_int_equal(nas_params_set(p, "latency", "no"), NAS_OK);
    assert_int_equal(nas_params_set(p, "data_fraction", "0.5"), NAS_OK);
    nas_evaluator_t *ev = NULL;
    if (nas_evaluator_create(&ev, space, "train", p) != NAS_OK)
        fail_msg("create: %s", nas_context_errmsg(ctx));
    nas_arch_t *a = NULL;
    nas_result_t *r = NULL;
    assert_int_equal(nas_arch_create(&a, space), NAS_OK);
    assert_int_equal(nas_result_create(&r, ctx), NAS_OK);
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    c.arch = a;
    c.fidelity = 0.4;   /* 0.4 epoch of 800 samples (1600 x data_fraction 0.5) in batches of 32: 10 of 25 steps */
    assert_int_equal(nas_evaluator_evaluate(ev, &c, r), NAS_OK);
    assert_int_equal(nas_result_status(r), NAS_OK);
    assert_true(fabs(metric(r, "epochs") - 10.0 / 25.0) < 1e-9);
    assert_int_equal(nas_result_get_metric(r, "latency_ms", &(double){ 0 }), NAS_E_NOT_FOUND);
    nas_result_destroy(r);
    nas_arch_destroy(a);
    nas_evaluator_destroy(ev);
    nas_params_destroy(p);
    nas_space_destroy(space);
}

/*
 * The learning strategies with real training: hyperband's fidelities become epochs (one bracket of
 * 0.25 / 0.5 / 1 epoch with eta 2), and evolution and tpe run on trained candidates.
 */
static void test_strategies_with_training(void **state)
{
    (void)state;
    nas_space_t *space = space_of(SPACE_YAML);
    nas_params_t *p = quick_params();
    assert_int_equal(nas_params_set(p, "latency", "no"), NAS_OK);
    assert_int_equal(nas_params_set(p, "data_fraction", "0.5"), NAS_OK);
    nas_evaluator_t *ev = NULL;
    if (nas_evaluator_create(&ev, space, "train", p) != NAS_OK)
        fail_msg("create: %s", nas_context_errmsg(ctx));
    static const struct {
        const char *name, *key[3], *value[3];
        uint64_t trials;
    } runs[] = {
        { "sh", { "min_fidelity", "max_fidelity", "eta" }, { "0.25", "1", "2" }, 7 },
        { "evolution", { "population", "sample", NULL }, { "3", "2", NULL }, 5 },
        { "tpe", { "n_startup", NULL, NULL }, { "2", NULL, NULL }, 4 },
    };
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        nas_params_t *sp = NULL;
        assert_int_equal(nas_params_create(&sp, ctx), NAS_OK);
        for (int i = 0; i < 3 && runs[k].key[i]; i++)
            assert_int_equal(nas_params_set(sp, runs[k].key[i], runs[k].value[i]), NAS_OK);
        nas_searcher_t *s = NULL;
        nas_searcher_opts_t so = NAS_SEARCHER_OPTS_INIT;
        so.seed = 9;
        if (nas_searcher_create(&s, space, runs[k].name, sp, &so) != NAS_OK)
            fail_msg("%s: %s", runs[k].name, nas_context_errmsg(ctx));
        nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
        ro.max_trials = runs[k].trials;
        nas_run_t *run = NULL;
        assert_int_equal(nas_run_create(&run, s, ev, &ro), NAS_OK);
        if (nas_run_execute(run) != NAS_OK)
            fail_msg("%s run: %s", runs[k].name, nas_run_errmsg(run));
        assert_int_equal(nas_run_num_trials(run), runs[k].trials);
        int at[3] = { 0, 0, 0 };
        for (uint64_t i = 0; i < runs[k].trials; i++) {
            const nas_result_t *r;
            assert_int_equal(nas_run_trial(run, i, NULL, NULL, &r), NAS_OK);
            assert_int_equal(nas_result_status(r), NAS_OK);
            double acc = metric(r, "accuracy"), epochs = metric(r, "epochs");
            assert_true(acc >= 0.0 && acc <= 100.0);
            if (k == 0) {   /* sh: 4 configs at 0.25 epoch, 2 at 0.5, 1 at 1 (steps of 25 per epoch) */
                at[0] += fabs(epochs - 0.25) <= 0.04 + 1e-9;   /* within one of the epoch's 25 steps */
                at[1] += fabs(epochs - 0.5) <= 0.04 + 1e-9;
                at[2] += fabs(epochs - 1.0) < 1e-9;
            }
        }
        if (k == 0 && !(at[0] == 4 && at[1] == 2 && at[2] == 1))
            fail_msg("sh: %d / %d / %d trials at 0.25 / 0.5 / 1 epoch, expected 4 / 2 / 1", at[0], at[1], at[2]);
        uint64_t best;
        const nas_result_t *br;
        assert_int_equal(nas_run_best(run, &best), NAS_OK);
        assert_int_equal(nas_run_trial(run, best, NULL, NULL, &br), NAS_OK);
        if (!(metric(br, "accuracy") > 25.0))   /* 10 classes: chance is 10% */
            fail_msg("%s: best accuracy %g", runs[k].name, metric(br, "accuracy"));
        nas_run_destroy(run);
        nas_searcher_destroy(s);
        nas_params_destroy(sp);
    }
    nas_evaluator_destroy(ev);
    nas_params_destroy(p);
    nas_space_destroy(space);
}

/* Creating with one parameter changed from quick_params(); returns the status. */
static nas_status_t create_with(const char *key, const char *value)
{
    nas_space_t *space = space_of(SPACE_YAML);
    nas_params_t *p = quick_params();
    assert_int_equal(nas_params_set(p, key, value), NAS_OK);
    nas_evaluator_t *ev = (nas_evaluator_t *)&ev;
    nas_status_t st = nas_evaluator_create(&ev, space, "train", p);
    if (st == NAS_OK)
        nas_evaluator_destroy(ev);
    else
        assert_null(ev);
    nas_params_destroy(p);
    nas_space_destroy(space);
    return st;
}

static void expect(const char *key, const char *value, nas_status_t want, const char *word)
{
    nas_status_t st = create_with(key, value);
    if (st != want || !strstr(nas_context_errmsg(ctx), word))
        fail_msg("%s=%s: expected %s naming '%s', got %s: %s", key, value, nas_status_name(want), word,
                 nas_status_name(st), nas_context_errmsg(ctx));
}

static void test_bad_params(void **state)
{
    (void)state;
    expect("epochs_typo", "3", NAS_E_INVAL, "epochs_typo");      /* unknown key */
    expect("dataset", "cifar-10", NAS_E_INVAL, "cifar-10");
    expect("val_fraction", "1.5", NAS_E_INVAL, "val_fraction");
    expect("lr", "-1", NAS_E_INVAL, "lr");
    expect("lr", "fast", NAS_E_INVAL, "lr");
    expect("optimizer", "rmsprop", NAS_E_INVAL, "rmsprop");
    expect("schedule", "linear", NAS_E_INVAL, "schedule");
    expect("batch_size", "0", NAS_E_INVAL, "batch_size");
    expect("epochs", "0", NAS_E_INVAL, "epochs");
    expect("stem_stride", "3", NAS_E_INVAL, "stem_stride");
    expect("data_fraction", "0.00001", NAS_E_INVAL, "data_fraction");
    expect("data_dir", "/nonexistent-libnas-folder", NAS_E_IO, "/nonexistent-libnas-folder");
}

static void test_bad_files(void **state)
{
    (void)state;
    nas_space_t *space = space_of(SPACE_YAML);
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
    assert_int_equal(nas_params_set(p, "train_images", FMNIST "train-images-idx3-ubyte.gz"), NAS_OK);
    nas_evaluator_t *ev = NULL;
    assert_int_equal(nas_evaluator_create(&ev, space, "train", p), NAS_E_INVAL);   /* labels missing */
    assert_non_null(strstr(nas_context_errmsg(ctx), "train_labels"));
    assert_int_equal(nas_params_set(p, "train_labels", FMNIST "no-such-labels.gz"), NAS_OK);
    assert_int_equal(nas_evaluator_create(&ev, space, "train", p), NAS_E_IO);
    assert_non_null(strstr(nas_context_errmsg(ctx), "no-such-labels.gz"));
    assert_int_equal(nas_params_set(p, "dataset", "fashion-mnist"), NAS_OK);
    assert_int_equal(nas_evaluator_create(&ev, space, "train", p), NAS_E_INVAL);   /* both */
    nas_params_destroy(p);
    nas_space_destroy(space);
}

/*
 * In-memory data: 1x8x8 images whose class (0 or 1) is which half, top or bottom, is bright, plus
 * noise. Static: a registered data set borrows its buffers for the context's life.
 */
#define SYN_N 640
#define SYN_TEST 160
static float syn_img[SYN_N + SYN_TEST][64];
static int32_t syn_lab[SYN_N + SYN_TEST];

static void make_synthetic(void)
{
    uint64_t x = 12345;
    for (int i = 0; i < SYN_N + SYN_TEST; i++) {
        syn_lab[i] = i % 2;
        for (int p = 0; p < 64; p++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            float noise = (float)((x >> 40) & 0xffff) / 65536.0f;
            bool top = p < 32;
            syn_img[i][p] = 0.6f * noise + ((top == (syn_lab[i] == 1)) ? 0.4f : 0.0f);
        }
    }
}

static void test_registered_dataset(void **state)
{
    (void)state;
    make_synthetic();
    nas_dataset_t *train = NULL, *test = NULL, *other = NULL;
    assert_int_equal(nas_dataset_from_buffer(&train, ctx, syn_img[0], syn_lab, SYN_N, 1, 8, 8, 2), NAS_OK);
    assert_int_equal(nas_dataset_from_buffer(&test, ctx, syn_img[SYN_N], syn_lab + SYN_N, SYN_TEST, 1, 8, 8, 2),
                     NAS_OK);
    assert_int_equal(nas_dataset_from_buffer(&other, ctx, syn_img[0], syn_lab, 16, 1, 4, 16, 2), NAS_OK);
    /* Bad registrations change nothing and say why. */
    assert_int_equal(nas_context_add_dataset(ctx, "synth", NULL, NULL), NAS_E_INVAL);
    assert_int_equal(nas_context_add_dataset(ctx, "fashion-mnist", train, NULL), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(ctx), "reserved"));
    assert_int_equal(nas_context_add_dataset(ctx, "Not A Name", train, NULL), NAS_E_INVAL);
    assert_int_equal(nas_context_add_dataset(ctx, "synth", train, other), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(ctx), "1x4x16"));
    assert_int_equal(nas_context_add_dataset(ctx, "synth", train, test), NAS_OK);
    assert_int_equal(nas_context_add_dataset(ctx, "synth", train, NULL), NAS_E_EXISTS);
    assert_int_equal(nas_context_add_dataset(ctx, "synth-notest", train, NULL), NAS_OK);
    /* The context holds its own views: the caller's handles may go at once. */
    nas_dataset_destroy(train);
    nas_dataset_destroy(test);
    nas_dataset_destroy(other);

    nas_space_t *space = space_of(SPACE_YAML);
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
    static const char *const kv[][2] = {
        { "dataset", "synth" }, { "val_fraction", "0.25" }, { "epochs", "3" }, { "batch_size", "32" },
        { "test", "true" },     { "latency", "false" },
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        assert_int_equal(nas_params_set(p, kv[i][0], kv[i][1]), NAS_OK);
    nas_evaluator_t *ev = NULL;
    if (nas_evaluator_create(&ev, space, "train", p) != NAS_OK)
        fail_msg("train evaluator on a registered data set: %s", nas_context_errmsg(ctx));
    nas_arch_t *arch = NULL;
    assert_int_equal(nas_arch_create(&arch, space), NAS_OK);
    uint32_t last = nas_space_num_arch_dims(space) - 1;
    for (uint32_t d = 0; d <= last; d++)
        assert_int_equal(nas_arch_set(arch, d, 2), NAS_OK);   /* every edge a 3x3 convolution */
    nas_candidate_t cand = NAS_CANDIDATE_INIT;
    cand.arch = arch;
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, ctx), NAS_OK);
    assert_int_equal(nas_evaluator_evaluate(ev, &cand, res), NAS_OK);
    if (nas_result_status(res) != NAS_OK)
        fail_msg("trial failed: %s", nas_result_message(res));
    /* The halves are easy to tell apart: well above the 50% of a guess, on validation and test. */
    double acc = metric(res, "accuracy"), test_acc = metric(res, "test_accuracy");
    if (!(acc > 85.0 && test_acc > 85.0))
        fail_msg("accuracy %.1f, test_accuracy %.1f on the synthetic halves", acc, test_acc);
    nas_evaluator_destroy(ev);

    /* test: true needs a registered test set. */
    assert_int_equal(nas_params_set(p, "dataset", "synth-notest"), NAS_OK);
    assert_int_equal(nas_evaluator_create(&ev, space, "train", p), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(ctx), "without a test set"));
    nas_result_destroy(res);
    nas_arch_destroy(arch);
    nas_params_destroy(p);
    nas_space_destroy(space);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered),
        cmocka_unit_test(test_random_run),
        cmocka_unit_test(test_divergence_is_a_trial_failure),
        cmocka_unit_test(test_fidelity),
        cmocka_unit_test(test_strategies_with_training),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_registered_dataset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
