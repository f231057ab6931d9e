/*
 * The "supernet" evaluator's internals (src/eval/supernet.c) that the single-path one-shot strategies
 * (src/search/spos.c, fairnas.c, supernet_search.c) share: the supernet file and the scoring of
 * architectures with inherited weights and recalibrated BN statistics.
 *
 * SUPERNET FILES (src/eval/supernet.c). Little-endian, floats IEEE-754 binary32:
 *   0    8   magic "NASSUPER"            32  16  input channels, height, width, classes (i32 each)
 *   8    4   version (1)                 48  8   channel_scale (f64)
 *   12   4   mixed mode (1: single)      56  8   cells_per_stage, stem_stride (i32 each)
 *   16   8   file size, CRC included     64  8   supernet_width (f64)
 *   24   8   space fingerprint           72  8   supernet fingerprint (its graph)
 *   80   4   mixed nodes                 84  4   paths in all
 *   88   4   training batch (a record)   92  4   space name length L (<= 256)
 *   96   L   space name                  96+L 8  state floats N (u64)
 *   104+L 4N the state: nas__plan_export of the supernet (parameters, then BN running statistics)
 *   end-4 4  CRC-32 (zlib) of every byte before it
 * nas__supernet_load checks the size, magic, recorded size, CRC (NAS_E_CORRUPT), the version
 * (NAS_E_UNSUPPORTED), the fields' ranges (NAS_E_CORRUPT), then the space's name and fingerprint
 * (NAS_E_INVAL with what differs); the evaluator then checks the rebuilt supernet's fingerprint and
 * state size against the file's (NAS_E_INVAL).
 *
 *
 * Threads: one thread at a time per object, as every handle.
 */
#ifndef NAS_EVAL_SUPERNET_H
#define NAS_EVAL_SUPERNET_H

#include "core/internal.h"
#include "eval/eval_internal.h"
#include "nn/build.h"
#include "nn/exec.h"

#define NAS__SUPERNET_MAX_FILE ((size_t)1 << 31)

/* The build options of the supernet that the one-shot driver trains on the train evaluator's data
 * (input shape and classes of the training split, label smoothing, the proxy overrides). */
void nas__supernet_build_opts(const nas__train_setup_t *ts, nas__build_opts_t *bo);

/* Write the plan's state of the supernet of `space` built with `bo` to path (atomically). */
nas_status_t nas__supernet_save(nas_context_t *ctx, const char *path, const nas_space_t *space,
                                const nas__build_opts_t *bo, nas__plan_t *plan, uint32_t batch, char *errbuf);

/* A loaded supernet file: its build options and state. */
typedef struct nas__supernet_file {
    nas__build_opts_t bo;
    uint64_t space_fp, graph_fp;
    uint32_t num_mixed, total_paths, batch;
    int64_t n_state;
    float *state;                /* n_state floats (owned; nas__supernet_file_free) */
    nas_context_t *ctx;
} nas__supernet_file_t;

/* Read and check a file against `space` (see above). NAS_E_NOT_FOUND, NAS_E_IO,
 * NAS_E_CORRUPT, NAS_E_INVAL (another space or network), NAS_E_NOMEM; "PATH: why" in errbuf. */
nas_status_t nas__supernet_load(nas_context_t *ctx, const char *path, const nas_space_t *space,
                                nas__supernet_file_t *out, char *errbuf);
void nas__supernet_file_free(nas__supernet_file_t *f);

/* Scoring architectures on a supernet plan (single-path mode, a training plan) with fixed batches. */
typedef struct nas__supernet_eval {
    nas_context_t *ctx;
    nas__plan_t *plan;                    /* borrowed */
    const nas__supernet_map_t *map;       /* borrowed */
    uint32_t batch, n_recalib, n_eval;
    size_t chw;                           /* floats per sample */
    float *x;                             /* n_recalib then n_eval batches of images */
    int32_t *y;
    uint32_t *paths;
} nas__supernet_eval_t;

/*
 * Keep the first recalib_batches batches of a shuffled (seed) pass over `recal` and the first
 * eval_batches of `eval` (fewer when a split has fewer full batches; at least one each, else
 * NAS_E_RANGE), batch = the plan's batch. Message in errbuf.
 */
nas_status_t nas__supernet_eval_init(nas__supernet_eval_t *se, nas__plan_t *plan, const nas__supernet_map_t *map,
                                     const nas_dataset_t *recal, const nas_dataset_t *eval, uint32_t recalib_batches,
                                     uint32_t eval_batches, uint64_t seed, char *errbuf);
void nas__supernet_eval_free(nas__supernet_eval_t *se);

/*
 * BN recalibration: run the recalibration batches as training forwards (no backward) with BN
 * momentum 1/(k+1) for the k-th, so that every BN on the chosen paths holds the plain mean of the
 * batches' statistics (and the mean of their unbiased variances); the default momentum is restored.
 */
nas_status_t nas__supernet_recalibrate(nas__plan_t *plan, const float *x, const int32_t *y, uint32_t batches,
                                       size_t batch_floats);

/* Select arch's paths, recalibrate, and score the evaluation batches with inference forwards:
 * accuracy in percent and the mean loss. NAS_E_DIVERGED for a non-finite loss. Message in errbuf. */
nas_status_t nas__supernet_eval_arch(nas__supernet_eval_t *se, const nas_arch_t *arch, double *accuracy,
                                     double *loss, char *errbuf);

#endif /* NAS_EVAL_SUPERNET_H */
