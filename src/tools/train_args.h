/* nas train: its settings and how they are gathered (cmd_train_opts.c); used by cmd_train.c. */
#ifndef NAS_TRAIN_ARGS_H
#define NAS_TRAIN_ARGS_H

#include "cli.h"

#define TRAIN_FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Everything the command uses, from the defaults, the experiment, the architecture and the flags. */
typedef struct train_args {
    const char *arch, *space, *best, *out;
    const char *dataset, *data_dir, *train_images, *train_labels, *test_images, *test_labels;
    uint64_t max_samples, seed, latency_batch;
    bool no_save, force, json;
    int verbosity;
    nas_train_opts_t t;
    nas_model_opts_t m;
} train_args_t;

/* Room for the option table of nas train. */
#define TRAIN_MAX_OPTS 48

/* Fill `opts` (TRAIN_MAX_OPTS entries) with the options of nas train; returns how many. */
size_t train_option_table(cli_opt_t *opts);
/* The defaults: NAS_TRAIN_OPTS_INIT with 5 epochs, NAS_MODEL_OPTS_INIT, seed 1, latency batch 64. */
void train_defaults(train_args_t *a);

/*
 * Layers of settings, applied in this order so that later ones win: the experiment's "train"
 * evaluator parameters (--best), the architecture's hyperparameters, the command-line flags.
 * Each returns CLI_OK or CLI_USAGE / CLI_FAIL with the message printed.
 */
int train_apply_experiment(train_args_t *a, const nas_experiment_t *exp);
int train_apply_hparams(train_args_t *a, const nas_arch_t *arch);
int train_apply_flags(train_args_t *a, cli_opt_t *opts, size_t nopts);

/* The best architecture and the experiment file named in best.json (both malloc'd). */
int train_read_best(const char *path, char **arch, char **experiment);

#endif /* NAS_TRAIN_ARGS_H */
