/*
 * Models: training a tiny network on a Fashion-MNIST subset to clearly better than chance, progress
 * and cancel callbacks, divergence, bad options, evaluation, prediction, latency, the save/load round
 * trip, rejection of corrupted and truncated files (bit flips, lengths, lying fields with a valid
 * checksum), and an out-of-memory sweep over model creation.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/internal.h"

#define FMNIST "/usr/share/datasets/fashion-mnist/"
#define NTRAIN 3000
#define NTEST 1000

static const char TINY_YAML[] = "name: tiny-fmnist\n"
                                "family: cell\n"
                                "cell:\n"
                                "  ops: [none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3]\n"
                                "  num_inputs: 1\n"
                                "  num_nodes: 3\n"
                                "macro:\n"
                                "  stem_channels: 16\n"
                                "  stages:\n"
                                "    - {cells: 1, channels: 16}\n"
                                "    - {cells: 1, channels: 32}\n"
                                "hyperparameters:\n"
                                "  - {name: lr, type: float, low: 0.01, high: 0.1, log_scale: true}\n";

static const char TINY_ARCH[] = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
                                ";lr=0.05";

/* Shared by the tests of the group: data, a space, and one model trained once. */
typedef struct fixture {
    nas_context_t *ctx;
    nas_space_t *space;
    nas_arch_t *arch;
    nas_dataset_t *all_train, *all_test, *train, *test;
    nas_model_t *model;        /* trained in the group setup */
    double trained_accuracy;
    int progress_calls;
    uint64_t last_step, total_steps;
    bool steps_increase;
    char dir[256];             /* temporary folder of the test files */
} fixture_t;

static fixture_t F;

static void on_progress(void *ud, const nas_train_progress_t *p)
{
    fixture_t *f = ud;
    if (p->struct_size < sizeof *p || !(p->step > f->last_step) || !isfinite(p->loss) || !(p->lr >= 0.0))
        f->steps_increase = false;
    f->last_step = p->step;
    f->total_steps = p->total_steps;
    f->progress_calls++;
}

static nas_model_opts_t model_opts(const nas_dataset_t *ds)
{
    nas_model_opts_t o = NAS_MODEL_OPTS_INIT;
    o.dataset = ds;
    o.stem_stride = 2;   /* 28x28 -> 14x14: cheap enough for a unit test */
    o.seed = 11;
    o.space_yaml = TINY_YAML;
    o.space_yaml_len = sizeof TINY_YAML - 1;
    return o;
}

/*
 * A context with one compute thread (NAS_TEST_THREADS overrides): meson runs test programs side by
 * side, and oneDNN's OpenMP teams of two on two cores shared by two processes wait on each other at
 * every barrier (ten times slower).
 */
static int group_setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof F);
    FILE *probe = fopen(FMNIST "train-images-idx3-ubyte.gz", "rb");
    if (!probe) {
        fprintf(stderr, "Fashion-MNIST not found under " FMNIST " (Debian package dataset-fashion-mnist)\n");
        return -1;
    }
    fclose(probe);
    snprintf(F.dir, sizeof F.dir, "%s", tu_tmpdir());
    F.ctx = tu_context_threads(5);
    if (nas_space_load_string(&F.space, F.ctx, TINY_YAML, sizeof TINY_YAML - 1, "tiny") != NAS_OK ||
        nas_arch_create(&F.arch, F.space) != NAS_OK || nas_arch_from_string(F.arch, TINY_ARCH) != NAS_OK)
        return -1;
    if (nas_dataset_load_idx(&F.all_train, F.ctx, FMNIST "train-images-idx3-ubyte.gz",
                             FMNIST "train-labels-idx1-ubyte.gz") != NAS_OK ||
        nas_dataset_load_idx(&F.all_test, F.ctx, FMNIST "t10k-images-idx3-ubyte.gz",
                             FMNIST "t10k-labels-idx1-ubyte.gz") != NAS_OK ||
        nas_dataset_subset(F.all_train, 0, NTRAIN, &F.train) != NAS_OK ||
        nas_dataset_subset(F.all_test, 0, NTEST, &F.test) != NAS_OK)
        return -1;
    float mean, std;
    if (nas_dataset_compute_stats(F.train, &mean, &std, 1) != NAS_OK ||
        nas_dataset_set_normalization(F.train, &mean, &std, 1) != NAS_OK ||
        nas_dataset_set_normalization(F.test, &mean, &std, 1) != NAS_OK)
        return -1;
    nas_model_opts_t mo = model_opts(F.train);
    if (nas_model_create(&F.model, F.arch, &mo) != NAS_OK) {
        fprintf(stderr, "create: %s\n", nas_context_errmsg(F.ctx));
        return -1;
    }
    nas_train_opts_t to = NAS_TRAIN_OPTS_INIT;
    to.epochs = 3;
    to.batch_size = 64;
    to.lr = 0.05;
    to.progress = on_progress;
    to.progress_user_data = &F;
    to.progress_every = 10;
    F.steps_increase = true;
    nas_train_result_t tr = { .struct_size = sizeof tr };
    nas_status_t st = nas_model_train(F.model, F.train, &to, &tr);
    if (st != NAS_OK) {
        fprintf(stderr, "train: %s\n", nas_model_errmsg(F.model));
        return -1;
    }
    if (tr.steps != 3 * (NTRAIN / 64) || tr.batch_size != 64 || tr.samples != NTRAIN || !(tr.seconds > 0.0)) {
        fprintf(stderr, "train result: steps %llu batch %u samples %llu\n", (unsigned long long)tr.steps,
                tr.batch_size, (unsigned long long)tr.samples);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    nas_model_destroy(F.model);
    nas_dataset_destroy(F.train);
    nas_dataset_destroy(F.test);
    nas_dataset_destroy(F.all_train);
    nas_dataset_destroy(F.all_test);
    nas_arch_destroy(F.arch);
    nas_space_destroy(F.space);
    nas_context_destroy(F.ctx);
    static const char *const files[] = { "model.nas", "again.nas", "noyaml.nas", "bad.nas", "flip-src.nas",
                                         "trunc-src.nas", "lie-src.nas" };
    char path[512];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", F.dir, files[i]);
        remove(path);
    }
    rmdir(F.dir);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Training                                                                */

static void test_trains_to_non_random_accuracy(void **state)
{
    (void)state;
    nas_eval_result_t er = { .struct_size = sizeof er };
    assert_int_equal(nas_model_evaluate(F.model, F.test, NULL, &er), NAS_OK);
    assert_int_equal(er.samples, NTEST);
    assert_true(er.accuracy > 60.0);   /* 10 classes: chance is 10% */
    assert_true(er.loss > 0.0 && er.loss < 1.5);
    assert_true(fabs(er.accuracy - 100.0 * (double)er.correct / NTEST) < 1e-9);
    /* the last batch is partial with 256 per batch (1000 = 3 x 256 + 232) and with 7: same answer */
    nas_eval_opts_t eo = NAS_EVAL_OPTS_INIT;
    eo.batch_size = 7;
    nas_eval_result_t e7 = { .struct_size = sizeof e7 };
    assert_int_equal(nas_model_evaluate(F.model, F.test, &eo, &e7), NAS_OK);
    assert_int_equal(e7.samples, NTEST);
    assert_true(llabs((long long)e7.correct - (long long)er.correct) <= 2);
    assert_true(fabs(e7.loss - er.loss) < 1e-3);
    F.trained_accuracy = er.accuracy;

    nas_model_info_t info = { .struct_size = sizeof info };
    assert_int_equal(nas_model_info(F.model, &info), NAS_OK);
    assert_int_equal(info.steps_trained, 3 * (NTRAIN / 64));
    assert_true(info.params > 1000 && info.flops > info.params);
    assert_int_equal(info.channels, 1);
    assert_int_equal(info.height, 28);
    assert_int_equal(info.num_classes, 10);
    assert_string_equal(info.arch, TINY_ARCH);
    assert_string_equal(info.space_name, "tiny-fmnist");
    assert_true(info.has_space_yaml);
    assert_null(nas_model_space(F.model));
}

static void test_progress_called(void **state)
{
    (void)state;
    uint64_t steps = 3 * (NTRAIN / 64);
    assert_true(F.steps_increase);
    assert_int_equal(F.total_steps, steps);
    assert_int_equal(F.last_step, steps);   /* the last step always reports */
    assert_int_equal(F.progress_calls, (int)(steps / 10 + (steps % 10 != 0)));
}

typedef struct cancel_state {
    int polls, stop_at;
} cancel_state_t;

static bool cancel_after(void *ud)
{
    cancel_state_t *c = ud;
    return ++c->polls >= c->stop_at;
}

static void test_cancel_aborts(void **state)
{
    (void)state;
    nas_model_opts_t mo = model_opts(F.train);
    nas_model_t *m = NULL;
    assert_int_equal(nas_model_create(&m, F.arch, &mo), NAS_OK);
    cancel_state_t c = { 0, 4 };
    nas_train_opts_t to = NAS_TRAIN_OPTS_INIT;
    to.epochs = 50;
    to.cancel = cancel_after;
    to.cancel_user_data = &c;
    nas_train_result_t tr = { .struct_size = sizeof tr };
    assert_int_equal(nas_model_train(m, F.train, &to, &tr), NAS_E_ABORTED);
    assert_int_equal(tr.steps, 3);   /* polled before every step: the 4th poll stopped it */
    assert_non_null(strstr(nas_model_errmsg(m), "cancelled"));
    nas_model_info_t info = { .struct_size = sizeof info };
    assert_int_equal(nas_model_info(m, &info), NAS_OK);
    assert_int_equal(info.steps_trained, 3);   /* the steps done are kept */
    nas_model_destroy(m);
}

/* Equal seeds give bit-identical training (same threads); another seed gives other weights. */
static void test_deterministic(void **state)
{
    (void)state;
    enum { N = 8 };
    float *x = NULL, out[3][N * 10];
    for (int r = 0; r < 3; r++) {
        nas_model_opts_t mo = model_opts(F.train);
        mo.seed = r < 2 ? 21 : 22;
        nas_model_t *m = NULL;
        assert_int_equal(nas_model_create(&m, F.arch, &mo), NAS_OK);
        nas_train_opts_t to = NAS_TRAIN_OPTS_INIT;
        to.steps = 15;
        to.batch_size = 32;
        to.seed = mo.seed;
        to.augment = true;
        assert_int_equal(nas_model_train(m, F.train, &to, NULL), NAS_OK);
        if (!x) {
            x = malloc(N * 784 * sizeof *x);
            for (int i = 0; i < N; i++)
                assert_int_equal(nas_dataset_get(F.test, (uint64_t)i, x + i * 784, NULL), NAS_OK);
        }
        assert_int_equal(nas_model_predict(m, x, N, NAS_PREDICT_LOGITS, out[r], N * 10), NAS_OK);
        nas_model_destroy(m);
    }
    assert_memory_equal(out[0], out[1], sizeof out[0]);
    assert_memory_not_equal(out[0], out[2], sizeof out[0]);
    free(x);
}

static void test_evaluate_cancel(void **state)
{
    (void)state;
    cancel_state_t c = { 0, 2 };
    nas_eval_opts_t eo = NAS_EVAL_OPTS_INIT;
    eo.batch_size = 100;
    eo.cancel = cancel_after;
    eo.cancel_user_data = &c;
    nas_eval_result_t er = { .struct_size = sizeof er };
    assert_int_equal(nas_model_evaluate(F.model, F.test, &eo, &er), NAS_E_ABORTED);
    assert_int_equal(c.polls, 2);
    assert_non_null(strstr(nas_model_errmsg(F.model), "cancelled after 100 samples"));
}

static void test_diverged(void **state)
{
    (void)state;
    nas_model_opts_t mo = model_opts(F.train);
    nas_model_t *m = NULL;
    assert_int_equal(nas_model_create(&m, F.arch, &mo), NAS_OK);
    nas_train_opts_t to = NAS_TRAIN_OPTS_INIT;
    to.lr = 1e6;
    to.weight_decay = 0.0;
    to.schedule = NAS_SCHEDULE_CONSTANT;
    to.steps = 40;
    nas_train_result_t tr = { .struct_size = sizeof tr };
    assert_int_equal(nas_model_train(m, F.train, &to, &tr), NAS_E_DIVERGED);
    assert_true(tr.steps < 40);
    assert_non_null(strstr(nas_model_errmsg(m), "diverged"));
    nas_model_destroy(m);
}

static void expect_inval(nas_model_t *m, const nas_train_opts_t *o, const char *word)
{
    nas_status_t st = nas_model_train(m, F.train, o, NULL);
    if (st != NAS_E_INVAL || !strstr(nas_model_errmsg(m), word))
        fail_msg("expected NAS_E_INVAL naming '%s', got %s: %s", word, nas_status_name(st), nas_model_errmsg(m));
}

static void test_bad_train_options(void **state)
{
    (void)state;
    nas_model_opts_t mo = model_opts(F.train);
    nas_model_t *m = NULL;
    assert_int_equal(nas_model_create(&m, F.arch, &mo), NAS_OK);
    nas_train_opts_t o = NAS_TRAIN_OPTS_INIT;
    o.batch_size = 0;
    expect_inval(m, &o, "batch_size");
    o = (nas_train_opts_t)NAS_TRAIN_OPTS_INIT;
    o.lr = 0.0;
    expect_inval(m, &o, "lr");
    o.lr = -0.1;
    expect_inval(m, &o, "lr");
    o.lr = NAN;
    expect_inval(m, &o, "lr");
    o = (nas_train_opts_t)NAS_TRAIN_OPTS_INIT;
    o.optimizer = 7;
    expect_inval(m, &o, "optimizer");
    o = (nas_train_opts_t)NAS_TRAIN_OPTS_INIT;
    o.schedule = -1;
    expect_inval(m, &o, "schedule");
    o = (nas_train_opts_t)NAS_TRAIN_OPTS_INIT;
    o.momentum = 1.0;
    expect_inval(m, &o, "momentum");
    o = (nas_train_opts_t)NAS_TRAIN_OPTS_INIT;
    o.data_fraction = 0.0;
    expect_inval(m, &o, "data_fraction");
    o.data_fraction = 1e-9;   /* rounds to no sample */
    expect_inval(m, &o, "data_fraction");
    o = (nas_train_opts_t)NAS_TRAIN_OPTS_INIT;
    o.label_smoothing = 1.0;
    expect_inval(m, &o, "label_smoothing");
    o = (nas_train_opts_t)NAS_TRAIN_OPTS_INIT;
    o.epochs = 0;
    expect_inval(m, &o, "epochs");
    o = (nas_train_opts_t)NAS_TRAIN_OPTS_INIT;
    o.schedule = NAS_SCHEDULE_STEP;
    expect_inval(m, &o, "step_epochs");
    o = (nas_train_opts_t)NAS_TRAIN_OPTS_INIT;
    o.struct_size = 0;
    expect_inval(m, &o, "struct_size");
    /* a data set of another shape */
    float img[2 * 3 * 4 * 4] = { 0 };
    int32_t lab[2] = { 0, 1 };
    nas_dataset_t *other = NULL;
    assert_int_equal(nas_dataset_from_buffer(&other, F.ctx, img, lab, 2, 3, 4, 4, 2), NAS_OK);
    assert_int_equal(nas_model_train(m, other, NULL, NULL), NAS_E_INVAL);
    assert_non_null(strstr(nas_model_errmsg(m), "3 x 4 x 4"));
    nas_eval_result_t er = { .struct_size = sizeof er };
    assert_int_equal(nas_model_evaluate(m, other, NULL, &er), NAS_E_INVAL);
    nas_dataset_destroy(other);
    nas_eval_opts_t eo = NAS_EVAL_OPTS_INIT;
    eo.batch_size = 0;
    assert_int_equal(nas_model_evaluate(m, F.test, &eo, &er), NAS_E_INVAL);
    assert_int_equal(nas_model_train(m, NULL, NULL, NULL), NAS_E_INVAL);
    assert_int_equal(nas_model_train(NULL, F.train, NULL, NULL), NAS_E_INVAL);
    nas_model_info_t info = { .struct_size = sizeof info };
    assert_int_equal(nas_model_info(m, &info), NAS_OK);
    assert_int_equal(info.steps_trained, 0);   /* nothing trained by the refused calls */
    nas_model_destroy(m);
}

static void test_bad_create_options(void **state)
{
    (void)state;
    nas_model_t *m = (nas_model_t *)&m;
    assert_int_equal(nas_model_create(&m, F.arch, NULL), NAS_E_INVAL);
    assert_null(m);
    nas_model_opts_t o = NAS_MODEL_OPTS_INIT;
    assert_int_equal(nas_model_create(&m, F.arch, &o), NAS_E_INVAL);   /* no shape */
    assert_non_null(strstr(nas_context_errmsg(F.ctx), "shape"));
    o.channels = 1;
    o.height = o.width = 28;
    o.num_classes = 1;
    assert_int_equal(nas_model_create(&m, F.arch, &o), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(F.ctx), "num_classes"));
    o.num_classes = 10;
    o.stem_stride = 3;
    assert_int_equal(nas_model_create(&m, F.arch, &o), NAS_E_INVAL);
    o.stem_stride = 2;
    o.space_yaml = "name: other\nfamily: cell\ncell: {ops: [none, skip_connect], num_inputs: 1, num_nodes: 1}\n";
    o.space_yaml_len = strlen(o.space_yaml);
    assert_int_equal(nas_model_create(&m, F.arch, &o), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(F.ctx), "space_yaml"));
    o.space_yaml = NULL;
    o.space_yaml_len = 0;
    o.struct_size = 3;
    assert_int_equal(nas_model_create(&m, F.arch, &o), NAS_E_INVAL);
    o.struct_size = sizeof o;
    assert_int_equal(nas_model_create(&m, F.arch, &o), NAS_OK);   /* from the shape fields */
    assert_null(nas_model_space(m));
    nas_model_info_t info = { .struct_size = sizeof info };
    assert_int_equal(nas_model_info(m, &info), NAS_OK);
    assert_true(info.has_space_yaml);   /* no space_yaml given: the space's own text (it was loaded from YAML) */
    /* an old caller's smaller info struct gets only its part */
    nas_model_info_t small;
    memset(&small, 0x5a, sizeof small);
    small.struct_size = offsetof(nas_model_info_t, params);
    assert_int_equal(nas_model_info(m, &small), NAS_OK);
    assert_int_equal(small.num_classes, 10);
    assert_int_equal(small.params, (int64_t)0x5a5a5a5a5a5a5a5aLL);
    nas_model_destroy(m);
    nas_model_destroy(NULL);
    assert_string_equal(nas_model_errmsg(NULL), "");
}

/* ---------------------------------------------------------------------- */
/* Prediction and latency                                                  */

/* Samples [0, n) of the test subset, normalized as the network sees them. */
static float *test_images(uint64_t n, int32_t *labels)
{
    float *x = malloc(n * 784 * sizeof *x);
    assert_non_null(x);
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(nas_dataset_get(F.test, i, x + i * 784, labels ? labels + i : NULL), NAS_OK);
    return x;
}

static void test_predict(void **state)
{
    (void)state;
    enum { N = 40 };
    int32_t y[N];
    float *x = test_images(N, y);
    float probs[N * 10], logits[N * 10], one[10];
    assert_int_equal(nas_model_predict(F.model, x, N, 0, probs, N * 10), NAS_OK);
    assert_int_equal(nas_model_predict(F.model, x, N, NAS_PREDICT_LOGITS, logits, N * 10), NAS_OK);
    int hits = 0;
    for (int i = 0; i < N; i++) {
        double s = 0.0;
        int best_p = 0, best_z = 0;
        for (int k = 0; k < 10; k++) {
            assert_true(probs[i * 10 + k] >= 0.0f && probs[i * 10 + k] <= 1.0f);
            s += probs[i * 10 + k];
            best_p = probs[i * 10 + k] > probs[i * 10 + best_p] ? k : best_p;
            best_z = logits[i * 10 + k] > logits[i * 10 + best_z] ? k : best_z;
        }
        assert_true(fabs(s - 1.0) < 1e-5);
        assert_int_equal(best_p, best_z);
        hits += best_z == y[i];
    }
    assert_true(hits > N / 2);
    /* rows are independent: one sample alone gives its row of the batch */
    for (int i = 0; i < N; i += 13) {
        assert_int_equal(nas_model_predict(F.model, x + i * 784, 1, NAS_PREDICT_LOGITS, one, 10), NAS_OK);
        for (int k = 0; k < 10; k++)
            assert_true(fabs(one[k] - logits[i * 10 + k]) < 1e-3f * (1.0f + fabsf(one[k])));
    }
    /* NORMALIZE: raw pixels (x / 255) through the normalization recorded from the training set */
    float mean, std;
    assert_int_equal(nas_model_normalization(F.model, &mean, &std, 1), NAS_OK);
    assert_true(mean > 0.1f && mean < 0.6f && std > 0.1f);
    float *raw = malloc(N * 784 * sizeof *raw);
    for (int i = 0; i < N * 784; i++)
        raw[i] = x[i] * std + mean;
    float again[N * 10];
    assert_int_equal(nas_model_predict(F.model, raw, N, NAS_PREDICT_LOGITS | NAS_PREDICT_NORMALIZE, again, N * 10),
                     NAS_OK);
    for (int i = 0; i < N * 10; i++)
        assert_true(fabs(again[i] - logits[i]) < 1e-3f * (1.0f + fabsf(logits[i])));
    /* bad calls */
    assert_int_equal(nas_model_predict(F.model, x, N, 0, probs, N * 10 - 1), NAS_E_RANGE);
    assert_int_equal(nas_model_predict(F.model, x, 0, 0, probs, N * 10), NAS_E_INVAL);
    assert_int_equal(nas_model_predict(F.model, x, N, 8, probs, N * 10), NAS_E_INVAL);
    assert_int_equal(nas_model_predict(F.model, NULL, N, 0, probs, N * 10), NAS_E_INVAL);
    assert_int_equal(nas_model_set_normalization(F.model, &mean, &std, 3), NAS_E_INVAL);
    float zero = 0.0f;
    assert_int_equal(nas_model_set_normalization(F.model, &mean, &zero, 1), NAS_E_RANGE);
    free(raw);
    free(x);
}

static void test_latency(void **state)
{
    (void)state;
    nas_latency_opts_t lo = NAS_LATENCY_OPTS_INIT;
    nas_latency_t l1 = { .struct_size = sizeof l1 }, l8 = { .struct_size = sizeof l8 };
    lo.runs = 15;
    assert_int_equal(nas_model_latency(F.model, &lo, &l1), NAS_OK);
    lo.batch = 8;
    assert_int_equal(nas_model_latency(F.model, &lo, &l8), NAS_OK);
    const nas_latency_t *ls[2] = { &l1, &l8 };
    for (int i = 0; i < 2; i++) {
        const nas_latency_t *l = ls[i];
        assert_true(isfinite(l->median_ms) && l->median_ms > 0.0);
        assert_true(l->min_ms > 0.0 && l->min_ms <= l->median_ms && l->median_ms <= l->p90_ms);
        assert_true(isfinite(l->mean_ms) && l->mean_ms >= l->min_ms);
        assert_true(l->runs >= 3 && l->runs <= 15);
    }
    assert_int_equal(l1.batch, 1);
    assert_int_equal(l8.batch, 8);
    lo.runs = 0;
    assert_int_equal(nas_model_latency(F.model, &lo, &l1), NAS_E_INVAL);
    lo.runs = 5;
    lo.batch = 0;
    assert_int_equal(nas_model_latency(F.model, &lo, &l1), NAS_E_INVAL);
}

/* ---------------------------------------------------------------------- */
/* Files                                                                   */

static char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", F.dir, name);
    return p;
}

static uint8_t *read_bytes(const char *path, size_t *len)
{
    char *s = tu_read_file(path, len);
    assert_non_null(s);
    return (uint8_t *)s;
}

static void write_bytes(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void test_save_load_round_trip(void **state)
{
    (void)state;
    const char *path = tmp_path("model.nas");
    assert_int_equal(nas_model_save(F.model, path), NAS_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    enum { N = 50 };
    float *x = test_images(N, NULL);
    float a[N * 10], b[N * 10];
    assert_int_equal(nas_model_predict(F.model, x, N, NAS_PREDICT_LOGITS, a, N * 10), NAS_OK);

    /* with the caller's space */
    nas_model_t *m = NULL;
    assert_int_equal(nas_model_load(&m, F.ctx, path, F.space), NAS_OK);
    assert_int_equal(nas_model_predict(m, x, N, NAS_PREDICT_LOGITS, b, N * 10), NAS_OK);
    assert_memory_equal(a, b, sizeof a);
    nas_model_info_t i1 = { .struct_size = sizeof i1 }, i2 = { .struct_size = sizeof i2 };
    nas_model_info(F.model, &i1);
    nas_model_info(m, &i2);
    assert_string_equal(i1.arch, i2.arch);
    assert_int_equal(i1.params, i2.params);
    assert_int_equal(i1.flops, i2.flops);
    assert_int_equal(i1.steps_trained, i2.steps_trained);
    nas_eval_result_t e1 = { .struct_size = sizeof e1 }, e2 = { .struct_size = sizeof e2 };
    assert_int_equal(nas_model_evaluate(F.model, F.test, NULL, &e1), NAS_OK);
    assert_int_equal(nas_model_evaluate(m, F.test, NULL, &e2), NAS_OK);
    assert_int_equal(e1.correct, e2.correct);
    assert_true(e1.loss == e2.loss);
    /* saving the loaded model gives the same bytes */
    const char *again = tmp_path("again.nas");
    assert_int_equal(nas_model_save(m, again), NAS_OK);
    size_t l1, l2;
    uint8_t *f1 = read_bytes(path, &l1), *f2 = read_bytes(again, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(f1, f2, l1);
    free(f1);
    free(f2);
    nas_model_destroy(m);

    /* self-contained: the space comes from the file */
    m = NULL;
    assert_int_equal(nas_model_load(&m, F.ctx, path, NULL), NAS_OK);
    assert_non_null(nas_model_space(m));
    assert_string_equal(nas_space_name(nas_model_space(m)), "tiny-fmnist");
    assert_int_equal(nas_model_predict(m, x, N, NAS_PREDICT_LOGITS, b, N * 10), NAS_OK);
    assert_memory_equal(a, b, sizeof a);
    nas_model_destroy(m);
    free(x);
}

static void test_load_space_checks(void **state)
{
    (void)state;
    /* A model without YAML needs the space. Its space is the same one inline in an experiment file,
     * which has no YAML text of its own to embed (nas_space_yaml()). */
    char exp_text[2 * sizeof TINY_YAML + 64] = "space:\n  ";
    size_t k = strlen(exp_text);
    for (const char *p = TINY_YAML; *p && k + 4 < sizeof exp_text; p++) {
        exp_text[k++] = *p;
        if (*p == '\n' && p[1])
            k += (size_t)snprintf(exp_text + k, sizeof exp_text - k, "  ");
    }
    exp_text[k] = '\0';
    nas_experiment_t *exp = NULL;
    if (nas_experiment_load_string(&exp, F.ctx, exp_text, strlen(exp_text), NULL) != NAS_OK)
        fail_msg("inline space: %s", nas_context_errmsg(F.ctx));
    const char *own;
    assert_int_equal(nas_space_yaml(nas_experiment_space(exp), &own, NULL), NAS_E_NOT_FOUND);
    nas_arch_t *inline_arch = NULL;
    assert_int_equal(nas_arch_create(&inline_arch, nas_experiment_space(exp)), NAS_OK);
    assert_int_equal(nas_arch_from_string(inline_arch, TINY_ARCH), NAS_OK);
    nas_model_opts_t mo = model_opts(F.train);
    mo.space_yaml = NULL;
    mo.space_yaml_len = 0;
    nas_model_t *m = NULL;
    assert_int_equal(nas_model_create(&m, inline_arch, &mo), NAS_OK);
    nas_arch_destroy(inline_arch);
    nas_experiment_destroy(exp);
    nas_model_info_t info = { .struct_size = sizeof info };
    assert_int_equal(nas_model_info(m, &info), NAS_OK);
    assert_false(info.has_space_yaml);
    const char *path = tmp_path("noyaml.nas");
    assert_int_equal(nas_model_save(m, path), NAS_OK);
    nas_model_destroy(m);
    m = (nas_model_t *)&m;
    assert_int_equal(nas_model_load(&m, F.ctx, path, NULL), NAS_E_INVAL);
    assert_null(m);
    assert_non_null(strstr(nas_context_errmsg(F.ctx), "no space YAML"));
    assert_int_equal(nas_model_load(&m, F.ctx, path, F.space), NAS_OK);
    nas_model_destroy(m);

    /* same name, other channels: same decisions, another network */
    char yaml[sizeof TINY_YAML + 8];
    snprintf(yaml, sizeof yaml, "%s", TINY_YAML);
    char *c = strstr(yaml, "channels: 32");
    memcpy(c, "channels: 48", 12);
    nas_space_t *other = NULL;
    assert_int_equal(nas_space_load_string(&other, F.ctx, yaml, strlen(yaml), "other"), NAS_OK);
    assert_int_equal(nas_model_load(&m, F.ctx, path, other), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(F.ctx), "another network"));
    nas_space_destroy(other);
    /* another name */
    c = strstr(yaml, "tiny-fmnist");
    memcpy(c, "tiny-fmnisx", 11);
    assert_int_equal(nas_space_load_string(&other, F.ctx, yaml, strlen(yaml), "other"), NAS_OK);
    assert_int_equal(nas_model_load(&m, F.ctx, path, other), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(F.ctx), "tiny-fmnist"));
    nas_space_destroy(other);

    /* files that are not there or not files */
    assert_int_equal(nas_model_load(&m, F.ctx, tmp_path("missing.nas"), F.space), NAS_E_IO);
    assert_int_equal(nas_model_load(&m, F.ctx, F.dir, F.space), NAS_E_IO);
    assert_int_equal(nas_model_load(&m, F.ctx, NULL, F.space), NAS_E_INVAL);
    assert_int_equal(nas_model_load(&m, NULL, path, F.space), NAS_E_INVAL);
    assert_int_equal(nas_model_save(F.model, tmp_path("no/such/folder.nas")), NAS_E_IO);
    assert_non_null(strstr(nas_model_errmsg(F.model), "no/such/folder.nas"));
}

/* Load `bytes` written to a file; the status and that *out stays NULL on failure. */
static nas_status_t load_bytes(const uint8_t *p, size_t n)
{
    const char *path = tmp_path("bad.nas");
    write_bytes(path, p, n);
    nas_model_t *m = (nas_model_t *)&m;
    nas_status_t st = nas_model_load(&m, F.ctx, path, F.space);
    if (st == NAS_OK)
        nas_model_destroy(m);
    else
        assert_null(m);
    return st;
}

static void expect_corrupt(const uint8_t *p, size_t n, const char *what, size_t where)
{
    nas_status_t st = load_bytes(p, n);
    if (st != NAS_E_CORRUPT)
        fail_msg("%s at %zu: expected NAS_E_CORRUPT, got %s: %s", what, where, nas_status_name(st),
                 nas_context_errmsg(F.ctx));
}

static void test_bit_flips_rejected(void **state)
{
    (void)state;
    const char *path = tmp_path("flip-src.nas");
    assert_int_equal(nas_model_save(F.model, path), NAS_OK);
    size_t n;
    uint8_t *orig = read_bytes(path, &n);
    uint8_t *p = malloc(n);
    assert_non_null(p);
    /* every byte of the header and tensor table, then a stride through the parameters, then the end */
    size_t step = n / 150 + 1;
    for (size_t i = 0; i < n; i += i < 400 ? 1 : step) {
        memcpy(p, orig, n);
        p[i] ^= (uint8_t)(1u << (i % 8));
        expect_corrupt(p, n, "bit flip", i);
    }
    for (size_t i = n - 8; i < n; i++) {
        memcpy(p, orig, n);
        p[i] ^= 0x80;
        expect_corrupt(p, n, "bit flip", i);
    }
    assert_non_null(strstr(nas_context_errmsg(F.ctx), "checksum"));
    /* a flip in the magic says so */
    memcpy(p, orig, n);
    p[0] ^= 1;
    expect_corrupt(p, n, "magic", 0);
    assert_non_null(strstr(nas_context_errmsg(F.ctx), "magic"));
    free(p);
    free(orig);
}

static void test_truncation_rejected(void **state)
{
    (void)state;
    const char *path = tmp_path("trunc-src.nas");
    assert_int_equal(nas_model_save(F.model, path), NAS_OK);
    size_t n;
    uint8_t *orig = read_bytes(path, &n);
    size_t step = n / 150 + 1;
    for (size_t len = 0; len < n; len += len < 300 ? 1 : step)
        expect_corrupt(orig, len, "truncated to", len);
    for (size_t len = n - 9; len < n; len++)
        expect_corrupt(orig, len, "truncated to", len);
    assert_non_null(strstr(nas_context_errmsg(F.ctx), "truncated"));
    /* bytes appended */
    uint8_t *longer = malloc(n + 3);
    memcpy(longer, orig, n);
    memset(longer + n, 0, 3);
    expect_corrupt(longer, n + 3, "appended", n);
    free(longer);
    /* text */
    const char *text = "name: tiny\nfamily: cell\n";
    expect_corrupt((const uint8_t *)text, strlen(text), "text", 0);
    free(orig);
}

/* Rewrite the size field and the checksum after an edit, as a hostile writer would. */
static void reseal(uint8_t *p, size_t n)
{
    for (int i = 0; i < 8; i++)
        p[16 + i] = (uint8_t)((uint64_t)n >> (8 * i));
    uint32_t c = (uint32_t)crc32(0L, p, (uInt)(n - 4));
    for (int i = 0; i < 4; i++)
        p[n - 4 + i] = (uint8_t)(c >> (8 * i));
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Offset of the space name length: fixed part (96 bytes) + normalization (8 bytes for one channel). */
#define NAME_OFF 104u

static void test_lying_fields_rejected(void **state)
{
    (void)state;
    const char *path = tmp_path("lie-src.nas");
    assert_int_equal(nas_model_save(F.model, path), NAS_OK);
    size_t n;
    uint8_t *orig = read_bytes(path, &n);
    uint8_t *p = malloc(n);
    assert_non_null(p);
    /* a valid checksum over a file whose length fields lie: the parser must still stop at the end */
    static const uint32_t lies[] = { 0xffffffffu, 0x7fffffffu, 1u << 20, 5000u };
    uint32_t name_len = (uint32_t)orig[NAME_OFF] | (uint32_t)orig[NAME_OFF + 1] << 8;
    size_t arch_off = NAME_OFF + 4 + name_len;
    for (size_t k = 0; k < sizeof lies / sizeof lies[0]; k++) {
        memcpy(p, orig, n);
        put_u32(p + NAME_OFF, lies[k]);
        reseal(p, n);
        expect_corrupt(p, n, "name length", k);
        memcpy(p, orig, n);
        put_u32(p + arch_off, lies[k]);
        reseal(p, n);
        expect_corrupt(p, n, "arch length", k);
    }
    /* the input shape and class count */
    memcpy(p, orig, n);
    put_u32(p + 24, 0);
    reseal(p, n);
    expect_corrupt(p, n, "channels", 24);
    memcpy(p, orig, n);
    put_u32(p + 36, 1);
    reseal(p, n);
    expect_corrupt(p, n, "classes", 36);
    /* a non-finite standard deviation */
    memcpy(p, orig, n);
    put_u32(p + 100, 0x7fc00000u);
    reseal(p, n);
    expect_corrupt(p, n, "std", 100);
    /* a newer format version with a valid checksum is unsupported, not corrupt */
    memcpy(p, orig, n);
    put_u32(p + 8, 2);
    reseal(p, n);
    assert_int_equal(load_bytes(p, n), NAS_E_UNSUPPORTED);
    assert_non_null(strstr(nas_context_errmsg(F.ctx), "version 2"));
    /* every 32-bit field of the fixed header set to all ones, resealed: never a crash */
    for (size_t off = 24; off < 96; off += 4) {
        memcpy(p, orig, n);
        put_u32(p + off, 0xffffffffu);
        reseal(p, n);
        nas_status_t st = load_bytes(p, n);
        assert_true(st == NAS_E_CORRUPT || st == NAS_E_INVAL || st == NAS_OK);
    }
    free(p);
    free(orig);
}

/* ---------------------------------------------------------------------- */
/* Out of memory                                                           */

static const char OOM_YAML[] = "name: oom\nfamily: cell\n"
                               "cell: {ops: [nor_conv_3x3, skip_connect], num_inputs: 1, num_nodes: 1}\n"
                               "macro: {stem_channels: 16, stages: [{cells: 1, channels: 16}]}\n";

static nas_status_t body_create(nas_context_t *ctx, void *arg)
{
    (void)arg;
    tu_alloc_t *a = ctx->alloc.user_data;
    long fail_at = a->fail_at, before = a->allocs;
    a->fail_at = 0;   /* the space has its own sweep */
    nas_space_t *space = NULL;
    nas_arch_t *arch = NULL;
    assert_int_equal(nas_space_load_string(&space, ctx, OOM_YAML, sizeof OOM_YAML - 1, "oom"), NAS_OK);
    assert_int_equal(nas_arch_create(&arch, space), NAS_OK);
    long used = a->allocs - before;
    a->fail_at = fail_at > before ? fail_at + used : fail_at;
    nas_model_opts_t o = NAS_MODEL_OPTS_INIT;
    o.channels = 1;
    o.height = o.width = 8;
    o.num_classes = 3;
    nas_model_t *m = NULL;
    nas_status_t st = nas_model_create(&m, arch, &o);
    if (st == NAS_OK) {
        float x[64] = { 0 }, out[3];
        st = nas_model_predict(m, x, 1, 0, out, 3);
    }
    nas_model_destroy(m);
    nas_arch_destroy(arch);
    nas_space_destroy(space);
    return st;
}

static void test_oom_create(void **state)
{
    (void)state;
    tu_oom_sweep(body_create, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trains_to_non_random_accuracy),
        cmocka_unit_test(test_progress_called),
        cmocka_unit_test(test_cancel_aborts),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_evaluate_cancel),
        cmocka_unit_test(test_diverged),
        cmocka_unit_test(test_bad_train_options),
        cmocka_unit_test(test_bad_create_options),
        cmocka_unit_test(test_predict),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_load_space_checks),
        cmocka_unit_test(test_bit_flips_rejected),
        cmocka_unit_test(test_truncation_rejected),
        cmocka_unit_test(test_lying_fields_rejected),
        cmocka_unit_test(test_oom_create),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
