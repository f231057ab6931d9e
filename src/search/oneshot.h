/*
 * The one-shot driver shared by the supernet strategies (darts.c, gdas.c): what their run hook calls.
 *
 *   data       the train and validation splits and the training options of the run's evaluator, which
 *              must be the "train" evaluator (NAS_E_UNSUPPORTED otherwise): weights train on the
 *              training split, architecture weights on the validation split (DARTS's bilevel split)
 *   supernet   nas__build_supernet_map over the searcher's space with the evaluator's proxy overrides
 *              (channel_scale, cells_per_stage, stem_stride); the architecture weights of the mixed nodes
 *              of one decision (one per cell of a type) are tied, as in DARTS (one alpha per edge and op)
 *   loop       per epoch, per training batch: [sample] architecture step on the next validation batch
 *              (forward, backward, gradient from the hook or the plan, Adam on the alphas), [sample]
 *              weight step on the training batch (SGD, cosine schedule, gradient clipping); the
 *              validation loader cycles. nas_run_should_stop() is polled every step: a cancel returns
 *              NAS_E_ABORTED at once; a spent budget ends the supernet phase early and the derived
 *              architecture is still retrained (the retrain is the search's answer).
 *   derive     nas__supernet_derive on softmax(alpha) per mixed node, with the none op's weight set to 0
 *              unless cfg.keep_none (DARTS's rule: the strongest non-zero op per edge; keep_none gives
 *              NAS-Bench-201's arg max with none, which can derive a cell disconnected from its input);
 *              then, for cell spaces with
 *              max_skip set, while a cell keeps more than max_skip skip_connect edges, the skip edge with
 *              the lowest skip weight loses its skip (weight 0) and the derive is redone (DARTS's
 *              skip-connection collapse guard).
 *   log        after every epoch: nas_run_report(run, "<name> epoch E/N train_loss .. train_acc .. val_loss
 *              .. val_acc .. arch <derived>"); the per-path weights softmax(alpha) of every epoch (epoch 0:
 *              the initial ones) are kept in memory and, when cfg.alphas_path is set, written there as
 *              JSON (atomically) after every epoch: {"strategy", "mixed": [{"cell", "to", "from", "dim",
 *              "paths"}], "epochs": [{"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "tau",
 *              "arch", "weights": [[per mixed node]]}]}.
 *   retrain    nas_run_evaluate_arch(run, derived, cfg.retrain_epochs): the train evaluator retrains the
 *              derived network from scratch; it is the run's one trial (journal, summary).
 *   failures   a non-finite supernet loss fails the search (NAS_E_DIVERGED, no trial), as do data,
 *              build and memory errors; the message is the searcher's (and the run's).
 */
#ifndef NAS_SEARCH_ONESHOT_H
#define NAS_SEARCH_ONESHOT_H

#include "core/internal.h"
#include "data/loader.h"
#include "dnnl/optim.h"
#include "nn/build.h"
#include "nn/exec.h"

typedef struct nas__oneshot nas__oneshot_t;

typedef struct nas__oneshot_cfg {
    const char *name;          /* strategy name, for messages and reports */
    nas__mixed_mode_t mode;    /* WEIGHTED (DARTS) or SINGLE (GDAS) */
    uint32_t epochs;           /* supernet epochs, >= 1 */
    uint32_t batch_size;       /* 0: the train evaluator's (capped by the split sizes) */
    double w_lr, w_lr_min, w_momentum, w_wd, w_clip;       /* weights: SGD, cosine w_lr -> w_lr_min */
    double arch_lr, arch_wd, arch_beta1, arch_beta2;       /* alphas: Adam */
    double alpha_init_std;     /* alphas start as N(0, std^2) */
    uint32_t max_skip;         /* cells: most skip_connect edges kept per cell; UINT32_MAX: no limit */
    bool keep_none;            /* derive may pick none (NAS-Bench-201's rule); false: never (DARTS's) */
    double retrain_epochs;     /* fidelity of the retrain trial; 0: the evaluator's epochs */
    bool finetune;             /* the retrain starts from the supernet's weights on the derived paths
                                * (nas__plan_export_paths, nas__train_inherit) instead of from scratch */
    /* Output files (NULL: alphas.json and derived.yaml in the folder of the run's journal; without a
     * journal, not written). derived: YAML (space, strategy, canonical string, one line per decision),
     * written before the retrain. */
    const char *alphas_path, *derived_path;
    void *user;                /* passed to the hooks */
    /* Optional hooks (NULL: none). */
    void (*epoch_begin)(nas__oneshot_t *os, void *user, uint32_t epoch);
    /* Before each forward (architecture and weight step): e.g. choose single paths. */
    nas_status_t (*sample)(nas__oneshot_t *os, void *user);
    /* After the validation forward and backward: the gradient of the plan's alphas (n_alpha floats) into
     * grad. NULL: the plan's alpha gradients (first-order DARTS). */
    nas_status_t (*arch_grad)(nas__oneshot_t *os, void *user, float *grad);
    /* Strategies without per-batch architecture steps (SPOS, FairNAS, ENAS): true skips them (no
     * validation batch is read in the loop; the validation val_loss/val_acc of the log stay NaN). */
    bool no_arch_step;
    /* After each architecture step's optimizer update (e.g. ProxylessNAS's rescaling of the two
     * updated alphas so that the other paths keep their probabilities). */
    nas_status_t (*arch_update_end)(nas__oneshot_t *os, void *user);
    /* Replaces the default weight step (sample hook, then one SGD step on os->xt/os->yt) when set: e.g.
     * FairNAS's several paths per step. Add the step's mean loss to *loss and its correct count (per
     * batch, as nas__plan_correct) to *correct. */
    nas_status_t (*weight_step)(nas__oneshot_t *os, void *user, double *loss, double *correct);
    /* After each epoch's batches, before its log line (e.g. ENAS's controller training). */
    nas_status_t (*epoch_end)(nas__oneshot_t *os, void *user, uint32_t epoch);
    /* Replaces the alpha-based derive when set: the per-epoch log then names no architecture ("-"), and
     * after the last epoch this hook writes the architecture to retrain into arch (e.g. SPOS's
     * evolutionary search on the trained supernet, ENAS's best sample). */
    nas_status_t (*derive)(nas__oneshot_t *os, void *user, nas_arch_t *arch);
} nas__oneshot_cfg_t;

/* What the hooks may read and use. */
struct nas__oneshot {
    nas_context_t *ctx;
    nas_searcher_t *self;
    const nas__oneshot_cfg_t *cfg;
    nas__supernet_map_t *map;
    nas__plan_t *plan;
    uint32_t n_alpha;          /* the plan's alphas (tied: fewer than map->total_paths) */
    uint32_t *alpha_off;       /* per mixed node: its offset in the plan's alphas */
    nas__optim_cfg_t wcfg;     /* the weight optimizer (its schedule runs on the plan's step counter) */
    float *xt, *xv;            /* the current training and validation batches */
    int32_t *yt, *yv;
    uint32_t batch;
    float tau;                 /* reported in the log (GDAS: its temperature); 0: none */
    nas_run_t *run;            /* the run being driven (nas_run_should_stop, nas_run_report) */
    char errmsg[NAS_ERRMSG_CAP];
};

/* An output file's path: `given` when set, else `name` in the folder of the run's journal, else none
 * (false, out ""). */
bool nas__oneshot_output_path(const nas__oneshot_t *os, const char *given, const char *name, char *out, size_t cap);

/* The next validation batch into os->xv/os->yv (the validation loader cycles through its epochs).
 * Message in os->errmsg. */
nas_status_t nas__oneshot_next_val(nas__oneshot_t *os);

/* Run a one-shot search (see the top of this file) from a searcher's run hook. Messages go to the
 * searcher (nas_searcher_set_errmsg). */
/* ask of a one-shot strategy: NAS_E_UNSUPPORTED, "NAME drives its own search: use nas_run_execute". */
nas_status_t nas__oneshot_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand);

nas_status_t nas__oneshot_run(nas_searcher_t *self, nas_run_t *run, const nas__oneshot_cfg_t *cfg);
/* The vtable's run hook of a strategy whose state starts with its nas__oneshot_cfg_t. */
nas_status_t nas__oneshot_run_hook(nas_searcher_t *self, void *state, nas_run_t *run);

/*
 * Read the parameters every one-shot strategy shares into cfg (defaults: what cfg holds): epochs,
 * batch_size, w_lr, w_lr_min, w_momentum, w_wd, grad_clip, arch_lr, arch_wd, alpha_init_std, max_skip
 * (-1: no limit), keep_none, retrain_epochs, finetune, alphas_path, derived_path. Message in the searcher.
 * *alphas_path gets one allocation (NULL when both are absent; free it with nas__free) holding copies
 * of both paths; cfg->alphas_path and cfg->derived_path point into it (NULL when absent).
 */
nas_status_t nas__oneshot_params(nas_searcher_t *self, const nas_params_t *params, nas__oneshot_cfg_t *cfg,
                                 char **alphas_path);
/*
 * For strategies that learn no architecture weights (enas, spos, fairnas): DARTS's arch_lr, arch_wd,
 * alpha_init_std, max_skip and keep_none are refused with a message naming the key and `strategy`,
 * rather than accepted and ignored. Call before nas__oneshot_params().
 */
nas_status_t nas__oneshot_refuse_arch_params(nas_searcher_t *self, const nas_params_t *params, const char *strategy);

/*
 * Derive with the none rule and the skip guard (see the top of this file): weights are map->total_paths
 * floats and are modified (none weights unless keep_none, and skip weights that lose, are zeroed).
 * max_skip UINT32_MAX and keep_none: the plain nas__supernet_derive.
 */
nas_status_t nas__oneshot_derive(const nas__supernet_map_t *map, float *weights, uint32_t max_skip, bool keep_none,
                                 nas_arch_t *arch, char *errbuf);
/* Whether mixed nodes a and b stand for the same decision (one per cell of a type): tied alphas. */
bool nas__oneshot_same_decision(const nas__mixed_map_t *a, const nas__mixed_map_t *b);

/* Second-order DARTS (darts.c): the unrolled architecture gradient of the current batches into grad
 * (n_alpha floats); the plan's weights and BN statistics are left as they were. Buffers in *u (zeroed
 * at first; free with nas__darts_unroll_free). Exposed for the tests. */
typedef struct nas__darts_unroll {
    nas_context_t *ctx;
    float *state, *w, *g, *dv, *da;   /* one allocation at state */
    int64_t n_state;
    size_t n_w;
    uint32_t n_alpha;
} nas__darts_unroll_t;

nas_status_t nas__darts_unrolled_grad(nas__oneshot_t *os, nas__darts_unroll_t *u, float *grad);
void nas__darts_unroll_free(nas__darts_unroll_t *u);

#endif /* NAS_SEARCH_ONESHOT_H */
