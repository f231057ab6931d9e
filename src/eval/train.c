/*
 * The "train" evaluator: proxy training of every candidate on an image data set, scored on a
 * stratified validation split. The data is loaded, split and normalized once, at creation.
 *
 * Parameters (all optional):
 *   data      dataset        "fashion-mnist" (the default; files from data_dir), or a name given to
 *                            nas_context_add_dataset() (in-memory data sets, e.g. NumPy arrays)
 *             data_dir       folder of the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
 *             train_images, train_labels, test_images, test_labels   IDX files instead of a named data set
 *             max_samples    use only the first N training samples (0: all)
 *             val_fraction   stratified validation split of the training samples, (0, 1) (default 0.1)
 *             normalize      per-channel mean/std of the training split (default true)
 *             augment        pad-2 crop and horizontal flip while training (default false)
 *             test           also score on the test set: metrics test_accuracy, test_loss (default false)
 *   training  epochs (default 1; a candidate's fidelity, then an "epochs" hyperparameter, win),
 *             batch_size (128), optimizer (sgd|adam), lr (0.05), momentum (0.9), nesterov (true),
 *             weight_decay (5e-4), schedule (cosine|step|constant), warmup_epochs (0), lr_min (0),
 *             step_epochs, gamma (0.1), label_smoothing (0), grad_clip (0), max_loss (0: automatic, see
 *             nas_train_opts_t), data_fraction (1: a fraction takes one stratified subset for all trials), seed
 *             (default: the context's). Hyperparameter decisions of the space named lr, batch_size,
 *             weight_decay, epochs, momentum, optimizer, label_smoothing override them per candidate.
 *   network   channel_scale, cells_per_stage, stem_stride (proxy overrides, see nas_model_opts_t)
 *   measures  latency (default true), latency_runs (20), eval_batch_size (256)
 *
 * Metrics: accuracy (validation, percent), val_loss, train_loss, params, flops, latency_ms (batch 1
 * median), train_seconds, epochs; test_accuracy and test_loss with test. Cost: wall-clock seconds.
 * A diverged candidate (NaN or infinite loss) is a trial with status NAS_E_DIVERGED; so are other
 * failures of one candidate (its own status); the search goes on.
 */
#include "data/dataset.h"
#include "model/model_internal.h"
#include "search/search_internal.h"
#include "eval/eval_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Hyperparameter decisions that override training options. */
enum { HP_LR, HP_BATCH, HP_WD, HP_EPOCHS, HP_MOMENTUM, HP_OPTIMIZER, HP_SMOOTHING, HP_COUNT };
static const char *const hp_names[HP_COUNT] = { "lr", "batch_size", "weight_decay", "epochs", "momentum", "optimizer",
                                                "label_smoothing" };

typedef struct trainev {
    nas_context_t *ctx;
    nas_dataset_t *train, *val, *test;   /* test: NULL unless asked for */
    nas_train_opts_t topts;
    nas_model_opts_t mopts;
    double epochs;
    bool latency;
    uint32_t latency_runs, eval_batch;
    int32_t hp[HP_COUNT];                /* decision index or -1 */
    float *inherit;                      /* initial weights of the next trial (nas__train_inherit), or NULL */
    int64_t inherit_n;
} trainev_t;

static void trainev_destroy(void *state)
{
    trainev_t *t = state;
    if (!t)
        return;
    nas_dataset_destroy(t->train);
    nas_dataset_destroy(t->val);
    nas_dataset_destroy(t->test);
    nas__free(t->ctx, t->inherit);
    nas__free(t->ctx, t);
}

/* ---------------------------------------------------------------------- */
/* Parameters                                                              */

typedef struct reader {
    nas_evaluator_t *self;
    const nas_params_t *p;
    nas_status_t st;     /* first failure */
} reader_t;

static void fail_param(reader_t *r, nas_status_t st)
{
    if (r->st == NAS_OK) {
        r->st = st;
        nas_evaluator_set_errmsg(r->self, nas_params_errmsg(r->p));
    }
}

static double get_double(reader_t *r, const char *key, double def)
{
    double v = def;
    nas_status_t st = nas_params_get_double(r->p, key, def, &v);
    if (st != NAS_OK)
        fail_param(r, st);
    return v;
}

/* A count in [min, max]. */
static uint64_t get_count(reader_t *r, const char *key, int64_t def, int64_t min, int64_t max)
{
    int64_t v = def;
    nas_status_t st = nas_params_get_int(r->p, key, def, &v);
    if (st != NAS_OK) {
        fail_param(r, st);
        return (uint64_t)def;
    }
    if ((v < min || v > max) && r->st == NAS_OK) {
        char msg[160];
        snprintf(msg, sizeof msg, "parameter '%s': %lld is outside [%lld, %lld]", key, (long long)v, (long long)min,
                 (long long)max);
        nas_evaluator_set_errmsg(r->self, msg);
        r->st = NAS_E_INVAL;
    }
    return (uint64_t)v;
}

static bool get_bool(reader_t *r, const char *key, bool def)
{
    bool v = def;
    nas_status_t st = nas_params_get_bool(r->p, key, def, &v);
    if (st != NAS_OK)
        fail_param(r, st);
    return v;
}

static const char *get_string(reader_t *r, const char *key, const char *def)
{
    const char *v = def;
    nas_status_t st = nas_params_get_string(r->p, key, &v);
    if (st == NAS_E_NOT_FOUND)
        return def;
    if (st != NAS_OK)
        fail_param(r, st);
    return v;
}

/* Index of `s` in names (n of them), or -1 with a message. */
static int32_t get_choice(reader_t *r, const char *key, const char *def, const char *const *names, int32_t n)
{
    const char *s = get_string(r, key, def);
    for (int32_t i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    if (r->st == NAS_OK) {
        char msg[200];
        snprintf(msg, sizeof msg, "parameter '%s': unknown value '%s'", key, s ? s : "");
        nas_evaluator_set_errmsg(r->self, msg);
        r->st = NAS_E_INVAL;
    }
    return 0;
}

static const char *const optimizers[] = { "sgd", "adam" };
static const char *const schedules[] = { "constant", "cosine", "step" };

static void read_training(reader_t *r, trainev_t *t)
{
    nas_train_opts_t *o = &t->topts;
    t->epochs = get_double(r, "epochs", 1.0);
    o->batch_size = (uint32_t)get_count(r, "batch_size", 128, 1, 1 << 20);
    o->optimizer = get_choice(r, "optimizer", "sgd", optimizers, 2);
    o->lr = get_double(r, "lr", o->lr);
    o->momentum = get_double(r, "momentum", o->momentum);
    o->nesterov = get_bool(r, "nesterov", o->nesterov);
    o->weight_decay = get_double(r, "weight_decay", o->weight_decay);
    o->schedule = get_choice(r, "schedule", "cosine", schedules, 3);
    o->warmup_epochs = get_double(r, "warmup_epochs", 0.0);
    o->lr_min = get_double(r, "lr_min", 0.0);
    o->step_epochs = get_double(r, "step_epochs", 0.0);
    o->gamma = get_double(r, "gamma", o->gamma);
    o->label_smoothing = get_double(r, "label_smoothing", 0.0);
    o->grad_clip = get_double(r, "grad_clip", 0.0);
    o->max_loss = get_double(r, "max_loss", 0.0);
    o->data_fraction = get_double(r, "data_fraction", 1.0);
    o->seed = get_count(r, "seed", 0, 0, INT64_MAX);
    o->augment = get_bool(r, "augment", false);
    t->mopts.channel_scale = get_double(r, "channel_scale", 0.0);
    t->mopts.cells_per_stage = (int32_t)get_count(r, "cells_per_stage", 0, 0, 1024);
    t->mopts.stem_stride = (int32_t)get_count(r, "stem_stride", 0, 0, 2);
    t->latency = get_bool(r, "latency", true);
    t->latency_runs = (uint32_t)get_count(r, "latency_runs", 20, 1, 100000);
    t->eval_batch = (uint32_t)get_count(r, "eval_batch_size", 256, 1, 1 << 16);
    if (r->st == NAS_OK && !(t->epochs > 0.0 && t->epochs <= 1e6)) {
        nas_evaluator_set_errmsg(r->self, "parameter 'epochs': must be > 0");
        r->st = NAS_E_INVAL;
    }
    char why[NAS_ERRMSG_CAP];
    if (r->st == NAS_OK && nas__train_opts_check(o, why) != NAS_OK) {
        char msg[NAS_ERRMSG_CAP + 32];
        snprintf(msg, sizeof msg, "training parameters: %s", why);
        nas_evaluator_set_errmsg(r->self, msg);
        r->st = NAS_E_INVAL;
    }
}

/* ---------------------------------------------------------------------- */
/* Data                                                                    */

typedef struct paths {
    const char *dir;
    char buf[4][512];
    const char *img, *lab, *timg, *tlab;
    const char *registered;                      /* name given to nas_context_add_dataset(), or NULL */
    const nas_dataset_t *reg_train, *reg_test;   /* its data sets (owned by the context) */
} paths_t;

static nas_status_t data_paths(reader_t *r, paths_t *ps)
{
    const char *dataset = get_string(r, "dataset", NULL);
    ps->dir = get_string(r, "data_dir", FMNIST_DIR);
    ps->img = get_string(r, "train_images", NULL);
    ps->lab = get_string(r, "train_labels", NULL);
    ps->timg = get_string(r, "test_images", NULL);
    ps->tlab = get_string(r, "test_labels", NULL);
    if (r->st != NAS_OK)
        return r->st;
    if (!ps->img != !ps->lab || !ps->timg != !ps->tlab) {
        nas_evaluator_set_errmsg(r->self, "give train_images with train_labels, and test_images with test_labels");
        return NAS_E_INVAL;
    }
    if (ps->img && dataset) {
        nas_evaluator_set_errmsg(r->self, "give either 'dataset' or 'train_images'/'train_labels', not both");
        return NAS_E_INVAL;
    }
    if (dataset && nas__dataset_registered(nas__evaluator_context(r->self), dataset, &ps->reg_train,
                                           &ps->reg_test)) {
        if (ps->timg) {
            nas_evaluator_set_errmsg(r->self, "give either a registered 'dataset' or 'test_images', not both");
            return NAS_E_INVAL;
        }
        ps->registered = dataset;
        return NAS_OK;
    }
    if (dataset && strcmp(dataset, "fashion-mnist") != 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "parameter 'dataset': unknown data set '%.100s' (known: fashion-mnist and the "
                 "names given to nas_context_add_dataset(); or give train_images and train_labels)", dataset);
        nas_evaluator_set_errmsg(r->self, msg);
        return NAS_E_INVAL;
    }
    if (!ps->img) {
        static const char *const names[4] = { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" };
        for (int i = 0; i < 4; i++)
            if ((size_t)snprintf(ps->buf[i], sizeof ps->buf[i], "%s/%s", ps->dir, names[i]) >= sizeof ps->buf[i]) {
                nas_evaluator_set_errmsg(r->self, "parameter 'data_dir': the path is too long");
                return NAS_E_INVAL;
            }
        ps->img = ps->buf[0];
        ps->lab = ps->buf[1];
        if (!ps->timg) {
            ps->timg = ps->buf[2];
            ps->tlab = ps->buf[3];
        }
    }
    return NAS_OK;
}

/* Message of a failed data call, into the evaluator. */
static nas_status_t data_failed(nas_evaluator_t *self, nas_status_t st, const char *what, const char *msg)
{
    char buf[NAS_ERRMSG_CAP + 64];
    snprintf(buf, sizeof buf, "%s: %s", what, msg);
    nas_evaluator_set_errmsg(self, buf);
    return st;
}

/*
 * data_fraction: one stratified subset of the training split for every trial (so that candidates
 * are compared on the same samples); the model then trains on all of it.
 */
static nas_status_t take_fraction(nas_evaluator_t *self, trainev_t *t, uint64_t seed)
{
    double f = t->topts.data_fraction;
    t->topts.data_fraction = 1.0;
    uint64_t n = nas_dataset_num_samples(t->train), k = (uint64_t)llround(f * (double)n);
    if (k >= n)
        return NAS_OK;
    if (k == 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "parameter 'data_fraction': %g of %llu training samples leaves none", f,
                 (unsigned long long)n);
        nas_evaluator_set_errmsg(self, msg);
        return NAS_E_INVAL;
    }
    nas_dataset_t *rest = NULL, *sub = NULL;
    nas_status_t st = nas_dataset_split(t->train, f, nas__mix64(seed ^ 0x66726163ull), &rest, &sub);
    if (st != NAS_OK)
        return data_failed(self, st, "data_fraction", nas_dataset_errmsg(t->train));
    nas_dataset_destroy(rest);
    nas_dataset_destroy(t->train);
    t->train = sub;
    return NAS_OK;
}

/* The test samples: a view of the registered test set, or the IDX files. */
static nas_status_t load_test(nas_context_t *ctx, const paths_t *ps, nas_dataset_t **out)
{
    if (!ps->registered)
        return nas_dataset_load_idx(out, ctx, ps->timg, ps->tlab);
    nas_status_t st = nas_dataset_subset(ps->reg_test, 0, nas_dataset_num_samples(ps->reg_test), out);
    if (st != NAS_OK)
        nas__ctx_fail(ctx, st, "%s", nas_dataset_errmsg(ps->reg_test));
    return st;
}

static nas_status_t load_data(nas_evaluator_t *self, trainev_t *t, const paths_t *ps, uint64_t max_samples,
                              double val_fraction, bool normalize, bool test)
{
    nas_context_t *ctx = t->ctx;
    nas_dataset_t *all = NULL, *part = NULL;
    nas_status_t st;
    if (ps->registered) {
        if (test && !ps->reg_test) {
            char msg[200];
            snprintf(msg, sizeof msg, "data set '%.100s' was registered without a test set", ps->registered);
            return data_failed(self, NAS_E_INVAL, "parameter 'test'", msg);
        }
        st = nas_dataset_subset(ps->reg_train, 0, nas_dataset_num_samples(ps->reg_train), &all);
        if (st != NAS_OK)
            return data_failed(self, st, "training data", nas_dataset_errmsg(ps->reg_train));
    } else if ((st = nas_dataset_load_idx(&all, ctx, ps->img, ps->lab)) != NAS_OK) {
        return data_failed(self, st, "training data", nas_context_errmsg(ctx));
    }
    if (max_samples && max_samples < nas_dataset_num_samples(all)) {
        if ((st = nas_dataset_subset(all, 0, max_samples, &part)) != NAS_OK) {
            data_failed(self, st, "max_samples", nas_dataset_errmsg(all));
            goto out_free;
        }
    }
    const nas_dataset_t *src = part ? part : all;
    uint64_t split_seed = t->topts.seed ? t->topts.seed : nas_context_seed(ctx);
    if ((st = nas_dataset_split(src, val_fraction, split_seed, &t->train, &t->val)) != NAS_OK) {
        data_failed(self, st, "validation split", nas_dataset_errmsg(src));
        goto out_free;
    }
    uint32_t c;
    nas_dataset_shape(t->train, &c, NULL, NULL);
    if (normalize) {
        float mean[4], std[4];
        if (c > 4) {
            st = data_failed(self, NAS_E_UNSUPPORTED, "normalize", "more than 4 channels (set normalize: false)");
            goto out_free;
        }
        if ((st = nas_dataset_compute_stats(t->train, mean, std, c)) != NAS_OK ||
            (st = nas_dataset_set_normalization(t->train, mean, std, c)) != NAS_OK ||
            (st = nas_dataset_set_normalization(t->val, mean, std, c)) != NAS_OK) {
            data_failed(self, st, "normalize", nas_dataset_errmsg(t->train));
            goto out_free;
        }
        if (test) {
            if ((st = load_test(ctx, ps, &t->test)) != NAS_OK) {
                data_failed(self, st, "test data", nas_context_errmsg(ctx));
                goto out_free;
            }
            if ((st = nas_dataset_set_normalization(t->test, mean, std, c)) != NAS_OK) {
                data_failed(self, st, "test data", nas_dataset_errmsg(t->test));
                goto out_free;
            }
        }
    } else if (test && (st = load_test(ctx, ps, &t->test)) != NAS_OK) {
        data_failed(self, st, "test data", nas_context_errmsg(ctx));
        goto out_free;
    }
    if ((st = take_fraction(self, t, split_seed)) != NAS_OK)
        goto out_free;
    if (t->topts.augment && (st = nas_dataset_set_augmentation(t->train, 2, true)) != NAS_OK)
        data_failed(self, st, "augment", nas_dataset_errmsg(t->train));
out_free:
    nas_dataset_destroy(part);
    nas_dataset_destroy(all);
    return st;
}

static nas_status_t trainev_create(nas_evaluator_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas__evaluator_context(self);
    trainev_t *t = nas__calloc(ctx, 1, sizeof *t);
    if (!t)
        return NAS_E_NOMEM;
    *state = t;
    t->ctx = ctx;
    nas_train_opts_t to = NAS_TRAIN_OPTS_INIT;
    nas_model_opts_t mo = NAS_MODEL_OPTS_INIT;
    t->topts = to;
    t->mopts = mo;
    reader_t r = { self, params, NAS_OK };
    paths_t ps;
    memset(&ps, 0, sizeof ps);
    read_training(&r, t);
    nas_status_t st = data_paths(&r, &ps);
    uint64_t max_samples = get_count(&r, "max_samples", 0, 0, INT64_MAX);
    double val_fraction = get_double(&r, "val_fraction", 0.1);
    bool normalize = get_bool(&r, "normalize", true), test = get_bool(&r, "test", false);
    if (st == NAS_OK)
        st = r.st;
    if (st == NAS_OK && !(val_fraction > 0.0 && val_fraction < 1.0)) {
        nas_evaluator_set_errmsg(self, "parameter 'val_fraction': must be in (0, 1)");
        st = NAS_E_INVAL;
    }
    if (st != NAS_OK)
        return st;
    nas_space_t *space = nas_evaluator_space(self);
    for (int i = 0; i < HP_COUNT; i++) {
        uint32_t d;
        t->hp[i] = -1;
        if (nas_space_find_dim(space, hp_names[i], &d) == NAS_OK && d >= nas_space_num_arch_dims(space))
            t->hp[i] = (int32_t)d;
    }
    return load_data(self, t, &ps, max_samples, val_fraction, normalize, test);
}

/* ---------------------------------------------------------------------- */
/* Evaluation                                                              */

/* Training options of one candidate: the parameters, then its hyperparameters, then its fidelity. */
static nas_status_t candidate_opts(const trainev_t *t, const nas_candidate_t *cand, nas_train_opts_t *o,
                                   double *epochs, char *why, size_t cap)
{
    *o = t->topts;
    *epochs = t->epochs;
    const nas_space_t *space = nas_arch_space(cand->arch);
    for (int i = 0; i < HP_COUNT; i++) {
        if (t->hp[i] < 0)
            continue;
        uint32_t d = (uint32_t)t->hp[i];
        double v;
        if (i == HP_OPTIMIZER) {
            uint32_t c;
            const char *label = NULL;
            if (nas_arch_get(cand->arch, d, &c) != NAS_OK || nas_space_dim_label(space, d, c, &label) != NAS_OK ||
                (strcmp(label, "sgd") != 0 && strcmp(label, "adam") != 0)) {
                snprintf(why, cap, "hyperparameter 'optimizer': '%s' is not sgd or adam", label ? label : "?");
                return NAS_E_INVAL;
            }
            o->optimizer = strcmp(label, "adam") == 0 ? NAS_OPTIMIZER_ADAM : NAS_OPTIMIZER_SGD;
            continue;
        }
        if (nas_arch_get_value(cand->arch, d, &v) != NAS_OK || !isfinite(v)) {
            snprintf(why, cap, "hyperparameter '%s' has no numeric value", hp_names[i]);
            return NAS_E_INVAL;
        }
        switch (i) {
        case HP_LR: o->lr = v; break;
        case HP_BATCH:
            if (!(v >= 1.0 && v <= (double)(1 << 20))) {
                snprintf(why, cap, "hyperparameter 'batch_size' %g is not in 1..%d", v, 1 << 20);
                return NAS_E_INVAL;
            }
            o->batch_size = (uint32_t)v;
            break;
        case HP_WD: o->weight_decay = v; break;
        case HP_EPOCHS: *epochs = v; break;
        case HP_MOMENTUM: o->momentum = v; break;
        case HP_SMOOTHING: o->label_smoothing = v; break;
        default: break;
        }
    }
    if (cand->fidelity > 0.0)
        *epochs = cand->fidelity;
    if (!(*epochs > 0.0 && *epochs <= 1e6)) {
        snprintf(why, cap, "epochs %g is not in (0, 1e6]", *epochs);
        return NAS_E_INVAL;
    }
    /* Whole epochs as epochs; a fraction becomes steps of the (data_fraction of the) training split. */
    o->epochs = 0;
    o->steps = 0;
    if (*epochs == floor(*epochs)) {
        o->epochs = (uint32_t)*epochs;
    } else {
        uint64_t n = nas_dataset_num_samples(t->train);   /* data_fraction is already applied */
        uint64_t b = o->batch_size && o->batch_size < n ? o->batch_size : n;
        double steps = llround(*epochs * (double)(n / b));
        o->steps = steps < 1.0 ? 1 : (uint64_t)steps;
    }
    return NAS_OK;
}

/* Record a failed trial: its status and message; metrics measured so far stay. */
static nas_status_t trial_failed(nas_result_t *res, nas_status_t st, const char *msg, double t0)
{
    nas_status_t e = nas_result_set_status(res, st, msg);
    if (e == NAS_OK)
        e = nas_result_set_cost(res, nas__now() - t0);
    return e;
}

static nas_status_t measure(trainev_t *t, nas_model_t *m, nas_result_t *res, const nas_train_result_t *tr)
{
    nas_eval_opts_t eo = NAS_EVAL_OPTS_INIT;
    eo.batch_size = t->eval_batch;
    nas_eval_result_t er = { .struct_size = sizeof er };
    nas_status_t st = nas_model_evaluate(m, t->val, &eo, &er);
    if (st != NAS_OK)
        return st;
    nas_model_info_t info = { .struct_size = sizeof info };
    nas_model_info(m, &info);
    if ((st = nas_result_set_metric(res, "accuracy", er.accuracy)) != NAS_OK ||
        (st = nas_result_set_metric(res, "val_loss", er.loss)) != NAS_OK ||
        (st = nas_result_set_metric(res, "train_loss", tr->loss)) != NAS_OK ||
        (st = nas_result_set_metric(res, "params", (double)info.params)) != NAS_OK ||
        (st = nas_result_set_metric(res, "flops", (double)info.flops)) != NAS_OK ||
        (st = nas_result_set_metric(res, "train_seconds", tr->seconds)) != NAS_OK ||
        (st = nas_result_set_metric(res, "epochs", tr->epochs)) != NAS_OK)
        return st;
    if (t->latency) {
        nas_latency_opts_t lo = NAS_LATENCY_OPTS_INIT;
        lo.runs = t->latency_runs;
        nas_latency_t lat = { .struct_size = sizeof lat };
        if ((st = nas_model_latency(m, &lo, &lat)) != NAS_OK ||
            (st = nas_result_set_metric(res, "latency_ms", lat.median_ms)) != NAS_OK)
            return st;
    }
    if (t->test) {
        if ((st = nas_model_evaluate(m, t->test, &eo, &er)) != NAS_OK ||
            (st = nas_result_set_metric(res, "test_accuracy", er.accuracy)) != NAS_OK ||
            (st = nas_result_set_metric(res, "test_loss", er.loss)) != NAS_OK)
            return st;
    }
    return NAS_OK;
}

static nas_status_t trainev_evaluate(nas_evaluator_t *self, void *state, const nas_candidate_t *cand,
                                     nas_result_t *res)
{
    (void)self;
    trainev_t *t = state;
    double t0 = nas__now();
    char why[NAS_ERRMSG_CAP];
    nas_train_opts_t o;
    double epochs;
    nas_status_t st = candidate_opts(t, cand, &o, &epochs, why, sizeof why);
    if (st != NAS_OK)
        return trial_failed(res, st, why, t0);
    nas_model_opts_t mo = t->mopts;
    mo.dataset = t->train;
    mo.seed = nas__mix64((o.seed ? o.seed : nas_context_seed(t->ctx)) ^ cand->trial_id);
    nas_model_t *m = NULL;
    if ((st = nas_model_create(&m, cand->arch, &mo)) != NAS_OK)
        return trial_failed(res, st, nas_context_errmsg(t->ctx), t0);
    o.seed = mo.seed;
    if (t->inherit) { /* fine-tuning: the weights a one-shot search handed over, for this trial only */
        bool fits = t->inherit_n == m->state_n;
        if (fits) {
            memcpy(m->state, t->inherit, (size_t)m->state_n * sizeof *m->state);
            m->version++;
        }
        nas__free(t->ctx, t->inherit);
        t->inherit = NULL;
        if (!fits) {
            char msg[160];
            snprintf(msg, sizeof msg, "inherited weights: %lld values for a network of %lld",
                     (long long)t->inherit_n, (long long)m->state_n);
            nas_model_destroy(m);
            return trial_failed(res, NAS_E_INVAL, msg, t0);
        }
    }
    nas_train_result_t tr = { .struct_size = sizeof tr };
    st = nas_model_train(m, t->train, &o, &tr);
    if (st == NAS_OK)
        st = measure(t, m, res, &tr);
    if (st != NAS_OK) {
        nas_status_t e = nas_result_set_metric(res, "train_seconds", tr.seconds);
        st = e != NAS_OK ? e : trial_failed(res, st, nas_model_errmsg(m), t0);
    } else {
        st = nas_result_set_cost(res, nas__now() - t0);
    }
    nas_model_destroy(m);
    return st;
}

static const nas_evaluator_vtable_t train_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_evaluator_vtable_t),
    .name = "train",
    .description = "trains candidates with oneDNN on Fashion-MNIST or IDX files (params: dataset, epochs, lr, "
                   "batch_size, data_fraction, ...)",
    .create = trainev_create,
    .destroy = trainev_destroy,
    .evaluate = trainev_evaluate,
    .user_data = NULL,
};

nas_status_t nas__register_train(nas_context_t *ctx)
{
    return nas_context_register_evaluator(ctx, &train_vtable);
}

/* ---------------------------------------------------------------------- */
/* For one-shot strategies (eval/eval_internal.h)                          */

nas_status_t nas__train_setup(const nas_evaluator_t *ev, nas__train_setup_t *out, char *errbuf)
{
    if (!ev || !out)
        return nas__fail(errbuf, NAS_E_INVAL, "nas__train_setup: NULL argument");
    /* Names are unique per context and built-ins register before any host plugin: the name is our vtable. */
    const trainev_t *t = nas__evaluator_state(ev);
    if (strcmp(nas_evaluator_name(ev), "train") != 0 || !t)
        return nas__fail(errbuf, NAS_E_UNSUPPORTED, "one-shot search trains a supernet on the data of the 'train' "
                         "evaluator; this run's evaluator is '%s'", nas_evaluator_name(ev));
    out->train = t->train;
    out->val = t->val;
    out->topts = t->topts;
    out->mopts = t->mopts;
    out->epochs = t->epochs;
    return NAS_OK;
}

nas_status_t nas__train_inherit(nas_evaluator_t *ev, float *state, int64_t n, char *errbuf)
{
    nas__train_setup_t ts;
    nas_status_t st = nas__train_setup(ev, &ts, errbuf);
    if (st != NAS_OK) {
        nas__free(nas__evaluator_context(ev), state);
        return st;
    }
    trainev_t *t = nas__evaluator_state(ev);
    nas__free(t->ctx, t->inherit);
    t->inherit = state;
    t->inherit_n = n;
    return NAS_OK;
}
