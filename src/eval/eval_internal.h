/* Internals of src/eval shared with the one-shot strategies of src/search (which train a supernet on
 * the data and options of the run's train evaluator, then retrain the derived network through it). */
#ifndef NAS_EVAL_INTERNAL_H
#define NAS_EVAL_INTERNAL_H

#include "core/internal.h"

/* The state the evaluator's vtable create() returned (src/eval/evaluator.c). */
void *nas__evaluator_state(const nas_evaluator_t *ev);

/* What the "train" evaluator was created with (src/eval/train.c). */
typedef struct nas__train_setup {
    const nas_dataset_t *train;  /* training split (max_samples, data_fraction applied); owned by the evaluator */
    const nas_dataset_t *val;    /* validation split; owned by the evaluator */
    nas_train_opts_t topts;      /* training options (epochs unset: see `epochs`) */
    nas_model_opts_t mopts;      /* channel_scale, cells_per_stage, stem_stride */
    double epochs;               /* the evaluator's default epochs per trial */
} nas__train_setup_t;

/* Fill *out from `ev` when it is a "train" evaluator; else NAS_E_UNSUPPORTED with a message in errbuf
 * (NAS_ERRMSG_CAP bytes). The data sets stay valid while the evaluator lives. */
nas_status_t nas__train_setup(const nas_evaluator_t *ev, nas__train_setup_t *out, char *errbuf);

/* Fine-tuning: the next trial of the "train" evaluator `ev` starts from `state` (n floats in
 * nas__plan_export's layout for the trial's network; allocated with the context's allocator; taken
 * over, also on failure) instead of fresh weights; a trial whose network has another state size fails
 * with a message. NAS_E_UNSUPPORTED for other evaluators (message in errbuf). */
nas_status_t nas__train_inherit(nas_evaluator_t *ev, float *state, int64_t n, char *errbuf);

#endif /* NAS_EVAL_INTERNAL_H */
