/* nas train: train one architecture, report test accuracy, size and latency, save the model. */
#include "progress.h"
#include "train_args.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void cli_help_train(FILE *f)
{
    fputs("usage: nas train ARCH --space SPACE.yaml [options]\n"
          "       nas train --best OUT/best.json [--space SPACE.yaml] [options]\n"
          "\n"
          "Train one architecture (a canonical string of the space, hyperparameters included or\n"
          "not) on the training set, then report its test accuracy, parameters, FLOPs and measured\n"
          "latency, and save the model (a checksummed file; with --space it also carries the\n"
          "space, so that it loads on its own). With --best, the architecture is the best of a\n"
          "search, and the space, data and network options (stem_stride, channel_scale,\n"
          "cells_per_stage) default to those of its experiment's 'train' evaluator (the search's\n"
          "epochs, data_fraction and max_samples do not). Hyperparameters in the architecture\n"
          "(lr, batch_size, weight_decay, epochs, momentum, optimizer, label_smoothing) override\n"
          "the defaults; options given here override both. Ctrl-C (or SIGTERM) stops (exit code\n"
          "130).\n"
          "\n"
          "  -s, --space FILE        the search space (YAML)\n"
          "      --best FILE         best.json written by 'nas search'\n"
          "      --data NAME         fashion-mnist (default), from --data-dir\n"
          "      --data-dir DIR      default " TRAIN_FMNIST_DIR "\n"
          "      --train-images F, --train-labels F, --test-images F, --test-labels F   IDX files\n"
          "      --max-samples N     train on the first N training samples only\n"
          "  -e, --epochs N          default 5\n"
          "  -b, --batch-size N      default 128\n"
          "      --lr X              default 0.05\n"
          "      --optimizer NAME    sgd (default) or adam\n"
          "      --momentum X, --nesterov BOOL, --weight-decay X, --label-smoothing X, --grad-clip X\n"
          "      --schedule NAME     cosine (default), step or constant; --warmup-epochs X\n"
          "      --data-fraction X   train on a stratified fraction of the samples\n"
          "      --augment           pad-2 crop and horizontal flip\n"
          "      --stem-stride N, --channel-scale X, --cells-per-stage N   network options\n"
          "      --seed S            weights, batch order (default 1)\n"
          "  -o, --out FILE          where to save the model (default model.nas)\n"
          "      --no-save           do not save\n"
          "  -f, --force             overwrite an existing model file\n"
          "      --latency-batch N   also time batches of N (default 64)\n"
          "  -q, --quiet             print nothing but errors (and the JSON of --json)\n"
          "  -v, --verbose           also a line per epoch above the bar on a terminal, and the\n"
          "                          library's info messages\n"
          "      --json              print the outcome as one JSON object on stdout\n"
          "\n"
          "Progress goes to stderr: on a terminal a bar redrawn in place (epoch, step k/N, the\n"
          "epoch's mean loss and accuracy so far, time elapsed and left); otherwise one plain\n"
          "line per epoch:\n"
          "  [  12.3s] epoch 2/5 loss 0.4123 accuracy 85.12% lr 0.0412 | eta 20s\n",
          f);
}

/* ---------------------------------------------------------------------- */
/* Data                                                                    */

static int load_idx(nas_context_t *ctx, const char *images, const char *labels, nas_dataset_t **out)
{
    nas_status_t st = nas_dataset_load_idx(out, ctx, images, labels);
    if (st != NAS_OK) {
        cli_lib_error(st, nas_context_errmsg(ctx), images);
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* Training and test sets, normalized with the training set's statistics. */
static int load_data(const train_args_t *a, nas_context_t *ctx, nas_dataset_t **train, nas_dataset_t **test)
{
    char paths[4][1024];
    const char *p[4] = { a->train_images, a->train_labels, a->test_images, a->test_labels };
    if (!p[0] != !p[1] || !p[2] != !p[3] || (p[2] && !p[0])) {
        cli_error("train: give --train-images with --train-labels, and --test-images with --test-labels");
        return CLI_USAGE;
    }
    if (!p[0]) {
        if (a->dataset && strcmp(a->dataset, "fashion-mnist") != 0) {
            cli_error("train: unknown data set '%s' (known: fashion-mnist; or give --train-images ...)", a->dataset);
            return CLI_USAGE;
        }
        static const char *const names[4] = { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" };
        for (int i = 0; i < 4; i++) {
            snprintf(paths[i], sizeof paths[i], "%s/%s", a->data_dir ? a->data_dir : TRAIN_FMNIST_DIR, names[i]);
            p[i] = paths[i];
        }
    }
    nas_dataset_t *all = NULL;
    int rc = load_idx(ctx, p[0], p[1], &all);
    if (rc == CLI_OK && p[2])
        rc = load_idx(ctx, p[2], p[3], test);
    if (rc == CLI_OK && a->max_samples && a->max_samples < nas_dataset_num_samples(all)) {
        nas_status_t st = nas_dataset_subset(all, 0, a->max_samples, train);
        if (st != NAS_OK) {
            cli_lib_error(st, nas_dataset_errmsg(all), "--max-samples");
            rc = CLI_FAIL;
        }
    } else if (rc == CLI_OK) {
        *train = all;
        all = NULL;
    }
    nas_dataset_destroy(all);
    if (rc != CLI_OK)
        return rc;
    uint32_t c;
    nas_dataset_shape(*train, &c, NULL, NULL);
    float *stats = malloc(2 * (size_t)c * sizeof *stats);
    nas_status_t st = stats ? nas_dataset_compute_stats(*train, stats, stats + c, c) : NAS_E_NOMEM;
    if (st == NAS_OK)
        st = nas_dataset_set_normalization(*train, stats, stats + c, c);
    if (st == NAS_OK && *test)
        st = nas_dataset_set_normalization(*test, stats, stats + c, c);
    if (st == NAS_OK && a->t.augment)
        st = nas_dataset_set_augmentation(*train, 2, true);
    free(stats);
    if (st != NAS_OK) {
        cli_lib_error(st, nas_dataset_errmsg(*train), "cannot prepare the data");
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* ---------------------------------------------------------------------- */
/* Training with progress and Ctrl-C                                       */

static nas_status_t train(nas_model_t *m, const nas_dataset_t *ds, const train_args_t *a, nas_train_result_t *tr)
{
    progress_t ps;
    progress_init(&ps, stderr, a->verbosity, progress_is_terminal(stderr));
    nas_train_opts_t o = a->t;
    o.seed = a->seed;
    if (ps.bar || ps.lines) {
        o.progress = progress_train_cb;
        o.progress_user_data = &ps;
        o.progress_every = 1;   /* every step: exact per-epoch sums; the display limits its own redraws */
    }
    o.cancel = cli_cancel_cb;
    progress_start_clock(&ps);
    cli_trap_signals();
    nas_status_t st = nas_model_train(m, ds, &o, tr);
    cli_untrap_signals();
    progress_end(&ps, st == NAS_E_ABORTED && cli_interrupted());
    return st;
}

/* ---------------------------------------------------------------------- */
/* Report                                                                  */

typedef struct outcome {
    const char *arch, *space, *saved;
    nas_train_result_t tr;
    nas_eval_result_t test;   /* samples 0: no test set */
    nas_model_info_t info;
    nas_latency_t l1, ln;
} outcome_t;

static void print_json(const outcome_t *o)
{
    printf("{\"arch\": ");
    cli_json_string(stdout, o->arch);
    printf(", \"space\": ");
    cli_json_string(stdout, o->space);
    printf(", \"epochs\": ");
    cli_json_number(stdout, o->tr.epochs);
    printf(", \"steps\": %" PRIu64 ", \"batch_size\": %u, \"train_samples\": %" PRIu64 ", \"train_seconds\": ",
           o->tr.steps, o->tr.batch_size, o->tr.samples);
    cli_json_number(stdout, o->tr.seconds);
    printf(", \"train_loss\": ");
    cli_json_number(stdout, o->tr.loss);
    printf(", \"test_accuracy\": ");
    cli_json_number(stdout, o->test.samples ? o->test.accuracy : NAN);
    printf(", \"test_loss\": ");
    cli_json_number(stdout, o->test.samples ? o->test.loss : NAN);
    printf(", \"params\": %" PRId64 ", \"flops\": %" PRId64 ", \"latency_ms\": ", o->info.params, o->info.flops);
    cli_json_number(stdout, o->l1.median_ms);
    printf(", \"latency_p90_ms\": ");
    cli_json_number(stdout, o->l1.p90_ms);
    printf(", \"latency_batch\": %u, \"latency_batch_ms\": ", o->ln.batch);
    cli_json_number(stdout, o->ln.median_ms);
    printf(", \"model\": ");
    if (o->saved)
        cli_json_string(stdout, o->saved);
    else
        printf("null");
    printf("}\n");
}

static void print_text(const outcome_t *o)
{
    printf("arch: %s\nspace: %s\n", o->arch, o->space);
    printf("trained: %.3g epochs, %" PRIu64 " steps of %u on %" PRIu64 " samples, %.1f s (last epoch: loss %.4f, "
           "accuracy %.2f%%)\n", o->tr.epochs, o->tr.steps, o->tr.batch_size, o->tr.samples, o->tr.seconds, o->tr.loss,
           o->tr.accuracy);
    if (o->test.samples)
        printf("test: accuracy %.2f%%, loss %.4f (%" PRIu64 " samples)\n", o->test.accuracy, o->test.loss,
               o->test.samples);
    printf("params: %" PRId64 ", FLOPs: %.4g M per sample\n", o->info.params, (double)o->info.flops / 1e6);
    printf("latency: batch 1 median %.3f ms (p90 %.3f), batch %u median %.3f ms (p90 %.3f)\n", o->l1.median_ms,
           o->l1.p90_ms, o->ln.batch, o->ln.median_ms, o->ln.p90_ms);
    if (o->saved)
        printf("saved: %s\n", o->saved);
}

/* Evaluate, time, save; then print. */
static int finish(nas_model_t *m, const nas_dataset_t *test, const train_args_t *a, outcome_t *o)
{
    nas_status_t st;
    if (test && (st = nas_model_evaluate(m, test, NULL, &o->test)) != NAS_OK) {
        cli_lib_error(st, nas_model_errmsg(m), "cannot evaluate on the test set");
        return CLI_FAIL;
    }
    nas_model_info(m, &o->info);
    nas_latency_opts_t lo = NAS_LATENCY_OPTS_INIT;
    if ((st = nas_model_latency(m, &lo, &o->l1)) == NAS_OK) {
        lo.batch = (uint32_t)a->latency_batch;
        st = nas_model_latency(m, &lo, &o->ln);
    }
    if (st != NAS_OK) {
        cli_lib_error(st, nas_model_errmsg(m), "cannot measure the latency");
        return CLI_FAIL;
    }
    if (!a->no_save) {
        if ((st = nas_model_save(m, a->out)) != NAS_OK) {
            cli_lib_error(st, nas_model_errmsg(m), "cannot save the model");
            return CLI_FAIL;
        }
        o->saved = a->out;
    }
    if (a->json)
        print_json(o);
    else if (a->verbosity >= 0)
        print_text(o);
    return CLI_OK;
}

/* ---------------------------------------------------------------------- */
/* The command                                                             */

/* The space: --space, or the experiment named in best.json. `yaml` gets the file's text (or NULL). */
static int load_space(train_args_t *a, nas_context_t *ctx, const char *experiment, nas_experiment_t **exp,
                      nas_space_t **space, char **yaml, size_t *yaml_len)
{
    nas_status_t st;
    if (experiment && (st = nas_experiment_load_file(exp, ctx, experiment)) != NAS_OK) {
        if (!a->space) {
            cli_lib_error(st, nas_context_errmsg(ctx), "cannot load the search's experiment (pass --space)");
            return CLI_FAIL;
        }
        *exp = NULL;   /* --space is enough; the experiment only gave defaults */
    }
    if (*exp) {
        int rc = train_apply_experiment(a, *exp);
        if (rc != CLI_OK)
            return rc;
    }
    if (!a->space) {
        *space = nas_experiment_space(*exp);   /* owned by the experiment; the model file then needs it */
        return CLI_OK;
    }
    if ((st = nas_space_load_file(space, ctx, a->space)) != NAS_OK) {
        cli_lib_error(st, nas_context_errmsg(ctx), a->space);
        return CLI_FAIL;
    }
    *yaml = cli_read_file(a->space, NAS_SPACE_MAX_FILE_BYTES, yaml_len);
    return CLI_OK;
}

static int parse_args(int argc, char **argv, cli_opt_t *opts, size_t nopts, train_args_t *a, bool *help)
{
    const char *pos[1];
    size_t npos;
    int rc = cli_parse("train", argc, argv, opts, nopts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    *help = cli_opt(opts, nopts, "help")->seen;
    if (*help)
        return CLI_OK;
    a->arch = npos ? pos[0] : NULL;
    a->space = cli_opt(opts, nopts, "space")->value;
    a->best = cli_opt(opts, nopts, "best")->value;
    cli_opt_t *o = cli_opt(opts, nopts, "out");
    a->out = o->seen ? o->value : "model.nas";
    a->no_save = cli_opt(opts, nopts, "no-save")->seen;
    a->force = cli_opt(opts, nopts, "force")->seen;
    a->json = cli_opt(opts, nopts, "json")->seen;
    bool quiet = cli_opt(opts, nopts, "quiet")->seen, verbose = cli_opt(opts, nopts, "verbose")->seen;
    a->verbosity = quiet ? -1 : verbose ? 1 : 0;
    if (quiet && verbose) {
        cli_error("train: --quiet and --verbose exclude each other");
        return CLI_USAGE;
    }
    if (!a->arch == !a->best) {
        cli_error("train: give an architecture string or --best FILE (usage: nas train ARCH --space SPACE.yaml)");
        return CLI_USAGE;
    }
    if (!a->best && !a->space) {
        cli_error("train: --space SPACE.yaml is required with an architecture string");
        return CLI_USAGE;
    }
    if (!a->no_save && !*a->out) {
        cli_error("train: --out needs a file name");
        return CLI_USAGE;
    }
    if (!a->no_save && cli_exists(a->out) && !a->force) {
        cli_error("train: '%s' exists (pass --force to overwrite it, or --out FILE)", a->out);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* After parsing: space, arch, data, model, training, report. */
static int run(train_args_t *a, cli_opt_t *opts, size_t nopts)
{
    char *best_arch = NULL, *experiment = NULL, *yaml = NULL, *arch_str = NULL;
    size_t yaml_len = 0;
    nas_context_t *ctx = NULL;
    nas_experiment_t *exp = NULL;
    nas_space_t *space = NULL;
    nas_arch_t *arch = NULL;
    nas_dataset_t *train_ds = NULL, *test_ds = NULL;
    nas_model_t *m = NULL;
    int rc;
    if (a->best && (rc = train_read_best(a->best, &best_arch, &experiment)) != CLI_OK)
        return rc;
    if ((rc = train_apply_flags(a, opts, nopts)) != CLI_OK)   /* --seed is needed for the context */
        goto out;
    if ((rc = cli_context(&ctx, a->seed, a->verbosity)) != CLI_OK)
        goto out;
    if ((rc = load_space(a, ctx, experiment, &exp, &space, &yaml, &yaml_len)) != CLI_OK)
        goto out;
    nas_status_t st = nas_arch_create(&arch, space);
    if (st == NAS_OK)
        st = nas_arch_from_string(arch, a->arch ? a->arch : best_arch);
    if (st != NAS_OK) {
        cli_lib_error(st, nas_space_errmsg(space), "not an architecture of the space");
        rc = CLI_FAIL;
        goto out;
    }
    /* precedence: defaults < experiment < the architecture's hyperparameters < flags */
    if ((rc = train_apply_hparams(a, arch)) != CLI_OK || (rc = train_apply_flags(a, opts, nopts)) != CLI_OK ||
        (rc = load_data(a, ctx, &train_ds, &test_ds)) != CLI_OK)
        goto out;
    nas_model_opts_t mo = a->m;
    mo.dataset = train_ds;
    mo.seed = a->seed;
    mo.space_yaml = yaml;
    mo.space_yaml_len = yaml ? yaml_len : 0;
    if ((st = nas_model_create(&m, arch, &mo)) != NAS_OK) {
        cli_lib_error(st, nas_context_errmsg(ctx), "cannot build the network");
        rc = CLI_FAIL;
        goto out;
    }
    outcome_t o;
    memset(&o, 0, sizeof o);
    o.tr.struct_size = sizeof o.tr;
    o.test.struct_size = sizeof o.test;
    o.info.struct_size = sizeof o.info;
    o.l1.struct_size = o.ln.struct_size = sizeof o.l1;
    o.space = nas_space_name(space);
    if (!(arch_str = cli_arch_string(arch, 0))) {
        rc = CLI_FAIL;
        goto out;
    }
    o.arch = arch_str;
    st = train(m, train_ds, a, &o.tr);
    if (st == NAS_E_ABORTED && cli_interrupted()) {
        fprintf(stderr, "nas: interrupted after %" PRIu64 " steps; nothing saved\n", o.tr.steps);
        rc = CLI_INTERRUPTED;
        goto out;
    }
    if (st != NAS_OK) {
        cli_lib_error(st, nas_model_errmsg(m), "training failed");
        rc = CLI_FAIL;
        goto out;
    }
    rc = finish(m, test_ds, a, &o);
out:
    nas_model_destroy(m);
    nas_dataset_destroy(train_ds);
    nas_dataset_destroy(test_ds);
    nas_arch_destroy(arch);
    if (!exp || space != nas_experiment_space(exp))
        nas_space_destroy(space);
    nas_experiment_destroy(exp);
    nas_context_destroy(ctx);
    free(arch_str);
    free(yaml);
    free(best_arch);
    free(experiment);
    return rc;
}

int cli_cmd_train(int argc, char **argv)
{
    cli_opt_t opts[TRAIN_MAX_OPTS];
    size_t n = train_option_table(opts);
    train_args_t a;
    train_defaults(&a);
    bool help = false;
    int rc = parse_args(argc, argv, opts, n, &a, &help);
    if (rc != CLI_OK)
        return rc;
    if (help) {
        cli_help_train(stdout);
        return CLI_OK;
    }
    return run(&a, opts, n);
}
