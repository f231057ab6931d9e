/* nas train: settings from defaults, an experiment, the architecture's hyperparameters and the flags. */
#include "train_args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Options as key = value: flags, experiment parameters and hyperparameters share one parser */

static bool parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "1"))
        *out = true;
    else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "0"))
        *out = false;
    else
        return false;
    return true;
}

static int bad_value(const char *who, const char *key, const char *value)
{
    cli_error("train: %s: '%s' is not a valid value of %s", who, value, key);
    return CLI_USAGE;
}

/* Set option `key` (underscores) to `value`; unknown keys are ignored when `lenient`. */
static int set_option(train_args_t *a, const char *who, const char *key, const char *value, bool lenient)
{
    static const char *const strs[] = { "dataset", "data_dir", "train_images", "train_labels", "test_images",
                                        "test_labels" };
    const char **dst[] = { &a->dataset, &a->data_dir, &a->train_images, &a->train_labels, &a->test_images,
                           &a->test_labels };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (!strcmp(key, strs[i])) {
            *dst[i] = value;
            return CLI_OK;
        }
    static const char *const dbl[] = { "lr", "momentum", "weight_decay", "warmup_epochs", "label_smoothing",
                                       "grad_clip", "data_fraction", "channel_scale", "max_loss", "lr_min", "gamma",
                                       "step_epochs" };
    double *ddst[] = { &a->t.lr, &a->t.momentum, &a->t.weight_decay, &a->t.warmup_epochs, &a->t.label_smoothing,
                       &a->t.grad_clip, &a->t.data_fraction, &a->m.channel_scale, &a->t.max_loss, &a->t.lr_min,
                       &a->t.gamma, &a->t.step_epochs };
    for (size_t i = 0; i < sizeof dbl / sizeof dbl[0]; i++)
        if (!strcmp(key, dbl[i]))
            return parse_double(value, ddst[i]) ? CLI_OK : bad_value(who, key, value);
    uint64_t u;
    if (!strcmp(key, "epochs") || !strcmp(key, "batch_size") || !strcmp(key, "cells_per_stage") ||
        !strcmp(key, "stem_stride") || !strcmp(key, "max_samples") || !strcmp(key, "latency_batch")) {
        double d;
        if (!parse_double(value, &d) || d < 0 || d != floor(d) || d > 1e9)   /* "128" and "128.0" alike */
            return bad_value(who, key, value);
        u = (uint64_t)d;
        if (!strcmp(key, "epochs"))
            a->t.epochs = (uint32_t)u;
        else if (!strcmp(key, "batch_size"))
            a->t.batch_size = (uint32_t)u;
        else if (!strcmp(key, "cells_per_stage"))
            a->m.cells_per_stage = (int32_t)u;
        else if (!strcmp(key, "stem_stride"))
            a->m.stem_stride = (int32_t)u;
        else if (!strcmp(key, "max_samples"))
            a->max_samples = u;
        else
            a->latency_batch = u;
        return CLI_OK;
    }
    if (!strcmp(key, "nesterov") || !strcmp(key, "augment"))
        return parse_bool(value, !strcmp(key, "nesterov") ? &a->t.nesterov : &a->t.augment) ? CLI_OK
                                                                                             : bad_value(who, key, value);
    if (!strcmp(key, "optimizer")) {
        if (strcmp(value, "sgd") && strcmp(value, "adam"))
            return bad_value(who, key, value);
        a->t.optimizer = !strcmp(value, "adam") ? NAS_OPTIMIZER_ADAM : NAS_OPTIMIZER_SGD;
        return CLI_OK;
    }
    if (!strcmp(key, "schedule")) {
        if (!strcmp(value, "cosine"))
            a->t.schedule = NAS_SCHEDULE_COSINE;
        else if (!strcmp(value, "step"))
            a->t.schedule = NAS_SCHEDULE_STEP;
        else if (!strcmp(value, "constant"))
            a->t.schedule = NAS_SCHEDULE_CONSTANT;
        else
            return bad_value(who, key, value);
        return CLI_OK;
    }
    if (!strcmp(key, "seed")) {
        int rc = cli_parse_u64(value, "train: --seed", 0, UINT64_MAX, &a->seed);
        return rc;
    }
    if (lenient)
        return CLI_OK;
    cli_error("train: %s: unknown option '%s'", who, key);
    return CLI_USAGE;
}

/* Long options that map onto set_option() keys (dashes for underscores). */
static const char *const keyed[] = { "data", "data-dir", "train-images", "train-labels", "test-images",
                                     "test-labels", "max-samples", "epochs", "batch-size", "lr", "optimizer",
                                     "momentum", "nesterov", "weight-decay", "schedule", "warmup-epochs",
                                     "label-smoothing", "grad-clip", "data-fraction", "stem-stride",
                                     "channel-scale", "cells-per-stage", "seed", "latency-batch", "max-loss" };
#define NKEYED (sizeof keyed / sizeof keyed[0])

int train_apply_flags(train_args_t *a, cli_opt_t *opts, size_t nopts)
{
    for (size_t i = 0; i < NKEYED; i++) {
        cli_opt_t *o = cli_opt(opts, nopts, keyed[i]);
        if (!o->seen)
            continue;
        char key[32];
        snprintf(key, sizeof key, "%s", strcmp(keyed[i], "data") ? keyed[i] : "dataset");
        for (char *c = key; *c; c++)
            *c = *c == '-' ? '_' : *c;
        int rc = set_option(a, "option", key, o->value, false);
        if (rc != CLI_OK)
            return rc;
    }
    if (cli_opt(opts, nopts, "augment")->seen)
        a->t.augment = true;
    return CLI_OK;
}

/* ---------------------------------------------------------------------- */
/* best.json                                                               */

/* Decode the JSON string starting at s (just after the opening quote); malloc'd, or NULL. */
static char *json_string(const char *s)
{
    size_t n = 0, cap = strlen(s) + 1;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (; *s && *s != '"'; s++) {
        char c = *s;
        if (c == '\\') {
            c = *++s;
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            const char *k = c ? strchr(from, c) : NULL;
            if (!k) {   /* \uXXXX never occurs in the canonical strings: refuse rather than guess */
                free(out);
                return NULL;
            }
            c = to[k - from];
        }
        out[n++] = c;
    }
    if (*s != '"') {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    return out;
}

/* The string value of "key" at or after `from` in text. */
static char *json_find(const char *text, const char *from, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(from ? from : text, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p++ != ':')
        return NULL;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return *p == '"' ? json_string(p + 1) : NULL;
}

/* Arch and experiment file of best.json (both malloc'd). */
int train_read_best(const char *path, char **arch, char **experiment)
{
    size_t len;
    char *text = cli_read_file(path, 16u << 20, &len);
    if (!text) {
        cli_error("train: cannot read '%s': %s", path, strerror(errno));
        return CLI_FAIL;
    }
    const char *best = strstr(text, "\"best\"");
    *arch = best ? json_find(text, best, "arch") : NULL;
    *experiment = json_find(text, NULL, "experiment_file");
    free(text);
    if (!*arch) {
        cli_error("train: '%s' names no best architecture (did the search finish a trial?)", path);
        free(*experiment);
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* Defaults from the experiment's "train" evaluator parameters. */
int train_apply_experiment(train_args_t *a, const nas_experiment_t *exp)
{
    if (strcmp(nas_experiment_evaluator(exp), "train") != 0)
        return CLI_OK;
    const nas_params_t *p = nas_experiment_evaluator_params(exp);
    for (uint32_t i = 0; i < nas_params_count(p); i++) {
        const char *k, *v;
        if (nas_params_at(p, i, &k, &v) != NAS_OK)
            continue;
        /* proxy settings of the search are not what a final training wants */
        if (!strcmp(k, "epochs") || !strcmp(k, "data_fraction") || !strcmp(k, "max_samples") || !strcmp(k, "seed"))
            continue;
        int rc = set_option(a, "experiment", k, v, true);
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}

/* Hyperparameter decisions of the architecture that are training options. */
int train_apply_hparams(train_args_t *a, const nas_arch_t *arch)
{
    static const char *const names[] = { "lr", "batch_size", "weight_decay", "epochs", "momentum", "optimizer",
                                         "label_smoothing" };
    const nas_space_t *space = nas_arch_space(arch);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uint32_t d, c;
        if (nas_space_find_dim(space, names[i], &d) != NAS_OK || d < nas_space_num_arch_dims(space))
            continue;
        char buf[64];
        const char *value = buf;
        double v;
        nas_dim_info_t di = { .struct_size = sizeof di };
        if (nas_space_dim_info(space, d, &di) != NAS_OK)
            continue;
        if (di.kind == NAS_DIM_CATEGORICAL && nas_arch_get(arch, d, &c) == NAS_OK &&
            nas_space_dim_label(space, d, c, &value) == NAS_OK) {
            /* the label itself */
        } else if (nas_arch_get_value(arch, d, &v) == NAS_OK) {
            cli_format_double(buf, sizeof buf, v);
        } else {
            continue;
        }
        int rc = set_option(a, "architecture", names[i], value, false);
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}


size_t train_option_table(cli_opt_t *opts)
{
    size_t n = 0;
    static const struct { const char *name; char c; bool value; } own[] = {
        { "space", 's', true }, { "best", 0, true },     { "out", 'o', true },   { "no-save", 0, false },
        { "force", 'f', false }, { "augment", 0, false }, { "quiet", 'q', false }, { "verbose", 'v', false },
        { "json", 0, false },   { "help", 'h', false },
    };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        opts[n++] = (cli_opt_t){ own[i].name, own[i].c, own[i].value, NULL, false };
    for (size_t i = 0; i < NKEYED; i++) {
        char c = !strcmp(keyed[i], "epochs") ? 'e' : !strcmp(keyed[i], "batch-size") ? 'b' : 0;
        opts[n++] = (cli_opt_t){ keyed[i], c, true, NULL, false };
    }
    return n;
}

void train_defaults(train_args_t *a)
{
    memset(a, 0, sizeof *a);
    nas_train_opts_t t = NAS_TRAIN_OPTS_INIT;
    nas_model_opts_t m = NAS_MODEL_OPTS_INIT;
    a->t = t;
    a->t.epochs = 5;
    a->m = m;
    a->seed = 1;
    a->latency_batch = 64;
}
