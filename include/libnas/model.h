/* libnas: models (nas_model_t): one architecture built into a network, trained, evaluated, timed, saved. */
#ifndef LIBNAS_MODEL_H
#define LIBNAS_MODEL_H

#include "core.h"
#include "space.h"
#include "search.h"
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A trained (or trainable) network: the architecture of a space built into a network for one input
 * shape and number of classes, with its parameters. A model does not reference the space or arch it
 * was made from (it keeps the canonical string, the space's name and fingerprints), so those may be
 * destroyed at any time; the context must outlive the model. One thread at a time per model.
 *
 * Messages: nas_model_create() and nas_model_load() put theirs in nas_context_errmsg(); every other
 * failing call puts its message in nas_model_errmsg(model).
 */
typedef struct nas_model nas_model_t;

/** Largest model file nas_model_load() reads (1 GiB); larger files are refused before reading. */
#define NAS_MODEL_MAX_FILE_BYTES (1u << 30)

/* ---------------------------------------------------------------------- */
/* Creation                                                                */

/** Options of nas_model_create(). Initialize with NAS_MODEL_OPTS_INIT. */
typedef struct nas_model_opts {
    size_t struct_size;             /**< sizeof(nas_model_opts_t) */
    const nas_dataset_t *dataset;   /**< take the input shape and number of classes from it (not referenced
                                         after the call); NULL: the four fields below */
    uint32_t channels, height, width; /**< input shape when dataset is NULL (each 1..65536) */
    uint32_t num_classes;           /**< classes when dataset is NULL (2..65535) */
    uint64_t seed;                  /**< weight initialization; 0: the context's seed. Equal (context seed,
                                         seed, arch, shape) give equal initial weights */
    double channel_scale;           /**< proxy override: every channel count times this, (0, 64]; 0: as the space says */
    int32_t cells_per_stage;        /**< proxy override for cell spaces: cells per stage, 1..1024; 0: as the space says */
    int32_t stem_stride;            /**< 1 or 2; 0: the family's default (cells 1; chains 2 for inputs of 64 pixels and more) */
    const char *space_yaml;         /**< the YAML text the space was loaded from, kept in saved files so that they
                                         load without the space (checked here: it must give the same space); NULL:
                                         the space's own text when it has one (nas_space_yaml()), else none */
    size_t space_yaml_len;          /**< bytes of space_yaml (need not be NUL-terminated) */
} nas_model_opts_t;

#define NAS_MODEL_OPTS_INIT { sizeof(nas_model_opts_t), NULL, 0, 0, 0, 0, 0, 0.0, 0, 0, NULL, 0 }

/**
 * Build the network of `arch` (its space must be of the cell or chain family; hyperparameter
 * decisions are kept in the model's arch string but do not change the network) and initialize its
 * weights (He normal for convolutions, uniform(+-1/sqrt(fan_in)) for fully connected layers,
 * BN scale 1 and shift 0). The network ends in logits over num_classes classes.
 * @param[out] out   the model; NULL on failure
 * @param[in]  arch  an architecture of a built space (not referenced after the call)
 * @param[in]  opts  options, or NULL (then a dataset is required, so NULL gives NAS_E_INVAL)
 * @return NAS_OK; NAS_E_INVAL (NULL out or arch, bad struct_size, no shape, bad shape, class count or
 *         override, space_yaml that does not load into the same space); NAS_E_UNSUPPORTED (a space with
 *         only hyperparameters); NAS_E_RANGE (a network over the size limits); NAS_E_NOMEM. The message
 *         is in nas_context_errmsg() of the arch's context. Thread-safety: reads arch and its space only.
 * Since 0.1.
 */
NAS_API nas_status_t nas_model_create(nas_model_t **out, const nas_arch_t *arch, const nas_model_opts_t *opts);

/** Destroy a model. NULL is a no-op. Since 0.1. */
NAS_API void nas_model_destroy(nas_model_t *model);

/** Last detailed error message of calls on this model; "" if none; never NULL (also for NULL). Since 0.1. */
NAS_API const char *nas_model_errmsg(const nas_model_t *model);

/** What a model is. Strings are owned by the model and valid until it is destroyed. */
typedef struct nas_model_info {
    size_t struct_size;          /**< set by the caller: sizeof(nas_model_info_t) */
    uint32_t channels, height, width; /**< input shape */
    uint32_t num_classes;
    int64_t params;              /**< trainable scalars */
    int64_t flops;               /**< forward FLOPs per sample: 2 x the multiply-adds of convolutions and
                                      fully connected layers */
    uint64_t steps_trained;      /**< optimizer steps over the model's life (kept in saved files) */
    const char *arch;            /**< canonical string of the architecture, hyperparameters included */
    const char *space_name;      /**< name of the space it was built from */
    bool has_space_yaml;         /**< the model carries its space's YAML (saved files load without a space) */
} nas_model_info_t;

/**
 * Describe the model. out->struct_size must be set; only that many bytes are written.
 * @return NAS_OK; NAS_E_INVAL (NULL argument or struct_size too small for the first member). Since 0.1.
 */
NAS_API nas_status_t nas_model_info(const nas_model_t *model, nas_model_info_t *out);

/**
 * The space a model loaded from a file's embedded YAML owns (nas_model_load() with space NULL), or
 * NULL for every other model. Valid until the model is destroyed. Since 0.1.
 */
NAS_API nas_space_t *nas_model_space(const nas_model_t *model);

/**
 * Per-channel input normalization the model expects, (x - mean[c]) / std[c], applied by
 * nas_model_predict() with NAS_PREDICT_NORMALIZE. Identity (0, 1) until set; nas_model_train() sets
 * it to the training data set's normalization (nas_dataset_set_normalization()). Saved in model files.
 * `channels` must equal the model's. NULL mean and std reset to the identity.
 * @return NAS_OK; NAS_E_INVAL (wrong channels, one of mean/std NULL); NAS_E_RANGE (non-finite mean,
 *         std not finite and > 0). Since 0.1.
 */
NAS_API nas_status_t nas_model_set_normalization(nas_model_t *model, const float *mean, const float *std,
                                                 uint32_t channels);
/** Read the normalization into mean and std (`channels` floats each). NAS_E_INVAL for wrong channels. Since 0.1. */
NAS_API nas_status_t nas_model_normalization(const nas_model_t *model, float *mean, float *std, uint32_t channels);

/* ---------------------------------------------------------------------- */
/* Training                                                                */

/** Optimizers. */
typedef enum nas_optimizer {
    NAS_OPTIMIZER_SGD = 0,   /**< SGD with momentum (PyTorch semantics: no dampening; L2 added to the gradient) */
    NAS_OPTIMIZER_ADAM = 1   /**< Adam (beta1 0.9, beta2 0.999, eps 1e-8; L2 added to the gradient) */
} nas_optimizer_t;

/** Learning-rate schedules, after the linear warm-up. */
typedef enum nas_lr_schedule {
    NAS_SCHEDULE_CONSTANT = 0,
    NAS_SCHEDULE_COSINE = 1,  /**< cosine from lr to lr_min over the training steps */
    NAS_SCHEDULE_STEP = 2     /**< lr x gamma^k after k x step_epochs epochs */
} nas_lr_schedule_t;

/** Progress of nas_model_train(), passed to the progress callback. */
typedef struct nas_train_progress {
    size_t struct_size;          /**< sizeof(nas_train_progress_t) as built into the library */
    uint64_t step, total_steps;  /**< optimizer steps done in this call, and planned */
    uint32_t epoch;              /**< epoch in progress, 0-based */
    uint32_t epochs;             /**< epochs planned (the last one may be partial) */
    double loss;                 /**< mean training loss over the steps since the previous report */
    double accuracy;             /**< training accuracy over those steps, percent */
    double lr;                   /**< learning rate of the last step */
    double elapsed_seconds;      /**< wall-clock since the call started */
} nas_train_progress_t;

/** Training progress callback. */
typedef void (*nas_train_progress_fn)(void *user_data, const nas_train_progress_t *progress);

/** Options of nas_model_train(). Initialize with NAS_TRAIN_OPTS_INIT. */
typedef struct nas_train_opts {
    size_t struct_size;          /**< sizeof(nas_train_opts_t) */
    uint32_t epochs;             /**< passes over the (fraction of the) data; used when steps is 0. Default 1 */
    uint64_t steps;              /**< optimizer steps; 0: epochs decide. Default 0 */
    uint32_t batch_size;         /**< >= 1, clamped to the number of samples. Default 128 */
    int32_t optimizer;           /**< nas_optimizer_t. Default SGD */
    double lr;                   /**< base learning rate, finite and > 0. Default 0.05 */
    double momentum;             /**< SGD momentum in [0, 1). Default 0.9 */
    bool nesterov;               /**< SGD Nesterov momentum (ignored when momentum is 0). Default true */
    double weight_decay;         /**< L2 on convolution and fc weights (not BN nor biases), >= 0. Default 5e-4 */
    int32_t schedule;            /**< nas_lr_schedule_t. Default cosine */
    double warmup_epochs;        /**< linear warm-up from 0 over this many epochs (may be fractional), >= 0. Default 0 */
    double lr_min;               /**< cosine: final learning rate, in [0, lr]. Default 0 */
    double step_epochs;          /**< step schedule: epochs between decays, > 0 (required with NAS_SCHEDULE_STEP) */
    double gamma;                /**< step schedule: decay factor in (0, 1]. Default 0.1 */
    double label_smoothing;      /**< in [0, 1). Default 0 */
    double grad_clip;            /**< clip the global gradient norm to this; 0: no clipping. Default 0 */
    double max_loss;             /**< a step whose mean loss is above this counts as diverged; 0: 100 x ln(classes),
                                      a hundred times the loss of a uniform guess; INFINITY: only NaN and
                                      infinite losses. NaN and infinite losses always count. Default 0 */
    uint64_t seed;               /**< batch order, augmentation and the data_fraction subset; 0: the context's seed */
    double data_fraction;        /**< train on a stratified subset of this fraction of the samples, (0, 1]. Default 1 */
    bool augment;                /**< apply the data set's augmentation (nas_dataset_set_augmentation()). Default false */
    nas_train_progress_fn progress; /**< NULL: none */
    void *progress_user_data;
    uint32_t progress_every;     /**< call progress every this many steps; 0: after every epoch. The last step
                                      always reports */
    nas_cancel_fn cancel;        /**< polled before every step; true stops the call with NAS_E_ABORTED */
    void *cancel_user_data;
} nas_train_opts_t;

#define NAS_TRAIN_OPTS_INIT                                                                                  \
    { sizeof(nas_train_opts_t), 1, 0, 128, NAS_OPTIMIZER_SGD, 0.05, 0.9, true, 5e-4, NAS_SCHEDULE_COSINE, \
      0.0, 0.0, 0.0, 0.1, 0.0, 0.0, 0.0, 0, 1.0, false, NULL, NULL, 0, NULL, NULL }

/** Outcome of nas_model_train(). */
typedef struct nas_train_result {
    size_t struct_size;          /**< set by the caller: sizeof(nas_train_result_t) */
    uint64_t steps;              /**< optimizer steps done (also after a failure) */
    double epochs;               /**< steps / steps per epoch */
    double loss;                 /**< mean training loss over the last epoch's steps done (NaN if none) */
    double accuracy;             /**< training accuracy over the same steps, percent (NaN if none) */
    double seconds;              /**< wall-clock of the call */
    uint64_t samples;            /**< training samples after data_fraction */
    uint32_t batch_size;         /**< the batch size used (after clamping) */
} nas_train_result_t;

/**
 * Train the model on `train` from its current weights: a fresh optimizer state and schedule per
 * call, shuffled batches (the last partial batch of an epoch is dropped), training-mode batch norm.
 * Each call is deterministic given the weights it starts from, the options and the context's
 * thread count. The data set's shape must equal the model's and its labels must be below the
 * model's classes. The model's normalization becomes the data set's.
 * @param[in]  train  samples (not referenced after the call)
 * @param[in]  opts   NULL: NAS_TRAIN_OPTS_INIT
 * @param[out] result NULL, or filled on return (also when the call fails: the steps done so far)
 * @return NAS_OK; NAS_E_INVAL (a bad option, with a message naming it: batch_size 0, lr <= 0, an unknown
 *         optimizer or schedule, ...; a data set of another shape or more classes); NAS_E_ABORTED (the
 *         cancel callback said stop; checked before every step); NAS_E_DIVERGED (the loss became NaN,
 *         infinite or larger than max_loss; the message names the step); NAS_E_NOMEM. After NAS_E_ABORTED or NAS_E_DIVERGED the model
 *         keeps the weights of the last completed step. Since 0.1.
 */
NAS_API nas_status_t nas_model_train(nas_model_t *model, const nas_dataset_t *train, const nas_train_opts_t *opts,
                                     nas_train_result_t *result);

/* ---------------------------------------------------------------------- */
/* Evaluation, prediction, latency                                          */

/** Options of nas_model_evaluate(). */
typedef struct nas_eval_opts {
    size_t struct_size;          /**< sizeof(nas_eval_opts_t) */
    uint32_t batch_size;         /**< samples per forward (clamped to the data set's size); default 256 */
    nas_cancel_fn cancel;        /**< polled before every batch */
    void *cancel_user_data;
} nas_eval_opts_t;

#define NAS_EVAL_OPTS_INIT { sizeof(nas_eval_opts_t), 256, NULL, NULL }

/** Outcome of nas_model_evaluate(). */
typedef struct nas_eval_result {
    size_t struct_size;          /**< set by the caller: sizeof(nas_eval_result_t) */
    uint64_t samples, correct;
    double loss;                 /**< mean cross-entropy (no label smoothing) */
    double accuracy;             /**< 100 x correct / samples */
    double seconds;
} nas_eval_result_t;

/**
 * Loss and accuracy on every sample of `ds` (normalized as the data set says, never augmented),
 * batch norm with its running statistics. A prediction is the arg max of the logits (the lowest
 * class on ties). @return NAS_OK; NAS_E_INVAL (NULL argument, another shape, more classes, a batch
 * size of 0); NAS_E_ABORTED; NAS_E_NOMEM. Since 0.1.
 */
NAS_API nas_status_t nas_model_evaluate(nas_model_t *model, const nas_dataset_t *ds, const nas_eval_opts_t *opts,
                                        nas_eval_result_t *result);

/** Flags of nas_model_predict(). */
#define NAS_PREDICT_LOGITS 1u     /**< write logits instead of softmax probabilities */
#define NAS_PREDICT_NORMALIZE 2u  /**< apply the model's normalization to x first (x then holds raw values,
                                       e.g. pixels / 255) */

/**
 * Class probabilities (or logits) of n samples. x holds n x C x H x W floats (NCHW, as the network
 * sees them unless NAS_PREDICT_NORMALIZE); out receives n x num_classes floats, row by row.
 * Rows are independent: a sample's output does not depend on the other samples of the call (equal for
 * every batch of the same size n; calls of different n may differ in the last bits, as oneDNN picks its
 * kernels by batch size).
 * @param[in] out_cap  floats available at out
 * @return NAS_OK; NAS_E_INVAL (NULL pointer, n 0, unknown flags); NAS_E_RANGE (out_cap < n x classes);
 *         NAS_E_NOMEM. Since 0.1.
 */
NAS_API nas_status_t nas_model_predict(nas_model_t *model, const float *x, uint64_t n, uint32_t flags, float *out,
                                       size_t out_cap);

/** Options of nas_model_latency(). */
typedef struct nas_latency_opts {
    size_t struct_size;          /**< sizeof(nas_latency_opts_t) */
    uint32_t batch;              /**< samples per forward, >= 1. Default 1 */
    uint32_t warmup;             /**< untimed forwards first. Default 5 */
    uint32_t runs;               /**< timed forwards, >= 1. Default 30 */
    double max_seconds;          /**< stop the timed runs early once this much time went by (at least 3 are
                                      timed); 0: no limit. Default 2 */
} nas_latency_opts_t;

#define NAS_LATENCY_OPTS_INIT { sizeof(nas_latency_opts_t), 1, 5, 30, 2.0 }

/** Measured inference latency. Times are per forward of a whole batch, in milliseconds. */
typedef struct nas_latency {
    size_t struct_size;          /**< set by the caller: sizeof(nas_latency_t) */
    uint32_t batch;
    uint32_t runs;               /**< forwards timed */
    double median_ms;
    double p90_ms;               /**< 90th percentile (nearest rank) */
    double min_ms;
    double mean_ms;
} nas_latency_t;

/**
 * Measure inference on this machine with the context's threads: copy a batch in, run the network
 * (inference mode), read the logits out; `warmup` untimed runs, then `runs` timed ones. Input values
 * are fixed pseudo-random numbers. @return NAS_OK; NAS_E_INVAL (batch or runs 0, NULL argument);
 * NAS_E_NOMEM. Since 0.1.
 */
NAS_API nas_status_t nas_model_latency(nas_model_t *model, const nas_latency_opts_t *opts, nas_latency_t *result);

/* ---------------------------------------------------------------------- */
/* Files                                                                   */

/**
 * Save the model to `path`: written to a temporary file in the same folder, fsync'd, then renamed
 * over `path` (a crash leaves the old file or the new one, never a mix). Format version 1, all
 * little-endian: the magic "NASMODEL", the format version (u32), flags (u32, 0), the file size (u64);
 * the input shape and classes, the build overrides, the space and network fingerprints, params,
 * FLOPs and steps trained, the normalization; the space name, the canonical arch string and the
 * space YAML (length-prefixed; YAML length 0 when the model has none); a table of tensors (graph
 * node, kind, float count); the parameters and BN running statistics in plain layouts (conv OIHW,
 * fc O x CHW) as IEEE-754 binary32; and last a CRC-32 (zlib's) of every byte before it. Readers
 * refuse newer versions and unknown flags. The byte-level layout is in src/model/file.c.
 * @return NAS_OK; NAS_E_INVAL; NAS_E_IO (message names the file and the reason); NAS_E_RANGE (over
 *         NAS_MODEL_MAX_FILE_BYTES); NAS_E_NOMEM. Since 0.1.
 */
NAS_API nas_status_t nas_model_save(nas_model_t *model, const char *path);

/**
 * Load a model saved by nas_model_save(). The network is rebuilt from the space and the saved arch
 * string, and must be the one saved:
 *   space != NULL  the caller's space (borrowed for the call only); its name and fingerprint (decisions,
 *                  options, and the network built from it) must match the file's
 *   space == NULL  the YAML text stored in the file (nas_model_opts_t.space_yaml); the model owns the
 *                  space (nas_model_space())
 * The file is checked before anything in it is used: size (at most NAS_MODEL_MAX_FILE_BYTES), magic,
 * the size recorded in the header, the checksum, then every field with bounds; nothing is read past
 * the end. @param[out] out  the model; NULL on failure
 * @return NAS_OK; NAS_E_INVAL (NULL argument; a space of another name or that builds another network;
 *         space NULL but no YAML in the file); NAS_E_IO (cannot open or read; a folder); NAS_E_CORRUPT
 *         (not a model file, truncated, checksum mismatch, or a field out of bounds: the message says
 *         which, e.g. "model.nas: checksum mismatch (stored 0x..., computed 0x...): the file is corrupted");
 *         NAS_E_UNSUPPORTED (a newer format version); NAS_E_RANGE (file over the size limit); the space
 *         loader's statuses for the embedded YAML; NAS_E_NOMEM. Message in nas_context_errmsg(ctx). Since 0.1.
 */
NAS_API nas_status_t nas_model_load(nas_model_t **out, nas_context_t *ctx, const char *path, nas_space_t *space);

#ifdef __cplusplus
}
#endif
#endif /* LIBNAS_MODEL_H */
