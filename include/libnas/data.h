/* libnas: data sets for training and evaluating candidate networks. */
#ifndef LIBNAS_DATA_H
#define LIBNAS_DATA_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A labelled image data set: N samples of C x H x W and a class label each. A data set is either
 * storage (loaded from files, or borrowing a caller's buffer) or a view (a subset of another data
 * set's samples, e.g. a train/validation split) that shares the storage. Views must be destroyed
 * before the data set they view.
 */
typedef struct nas_dataset nas_dataset_t;

/** Limits that keep a hostile file from exhausting memory. */
#define NAS_DATA_MAX_SAMPLES 100000000u
#define NAS_DATA_MAX_SAMPLE_VALUES (1u << 24)

/**
 * Load IDX files (the MNIST / Fashion-MNIST format), gzip'd or not (detected from the content):
 * an image file of unsigned bytes with 3 dims (N, H, W; C = 1) or 4 dims (N, C, H, W), and a
 * label file of unsigned bytes with 1 dim N. Pixel values are scaled to [0, 1].
 * @return NAS_OK; NAS_E_IO; NAS_E_PARSE (bad magic, dims, truncated file, label count mismatch,
 *         label out of range) with a message naming the file; NAS_E_RANGE (over the limits);
 *         NAS_E_NOMEM. Message in nas_context_errmsg(). Since 0.1.
 */
NAS_API nas_status_t nas_dataset_load_idx(nas_dataset_t **out, nas_context_t *ctx, const char *images_path,
                                          const char *labels_path);

/** Options of nas_dataset_load_csv(). */
typedef struct nas_csv_opts {
    size_t struct_size;        /**< sizeof(nas_csv_opts_t) */
    uint32_t channels, height, width;   /**< shape of one sample; C*H*W value columns are expected */
    int32_t label_column;      /**< index of the label column (integer class); -1: the last column */
    bool header;               /**< the first row is a header */
    float scale;               /**< values are multiplied by this (e.g. 1/255); 0: 1 */
} nas_csv_opts_t;

#define NAS_CSV_OPTS_INIT { sizeof(nas_csv_opts_t), 1, 1, 1, -1, true, 0.0f }

/** Load a CSV file: one sample per row. Errors name the file, line and column. Since 0.1. */
NAS_API nas_status_t nas_dataset_load_csv(nas_dataset_t **out, nas_context_t *ctx, const char *path,
                                          const nas_csv_opts_t *opts);

/**
 * Wrap a caller-owned buffer without copying it: `images` holds n * c * h * w floats (NCHW) and
 * `labels` n labels in [0, num_classes). The buffers must stay valid and unchanged until the data
 * set (and every view of it) is destroyed. Labels are checked here (NAS_E_RANGE). Since 0.1.
 */
NAS_API nas_status_t nas_dataset_from_buffer(nas_dataset_t **out, nas_context_t *ctx, const float *images,
                                             const int32_t *labels, uint64_t n, uint32_t c, uint32_t h,
                                             uint32_t w, uint32_t num_classes);

/** Destroy a data set or view. NULL is a no-op. Since 0.1. */
NAS_API void nas_dataset_destroy(nas_dataset_t *ds);
/** Last detailed error message of calls on this data set; never NULL. Since 0.1. */
NAS_API const char *nas_dataset_errmsg(const nas_dataset_t *ds);

/** Number of samples. Since 0.1. */
NAS_API uint64_t nas_dataset_num_samples(const nas_dataset_t *ds);
/** Shape of one sample. Any out pointer may be NULL. Since 0.1. */
NAS_API void nas_dataset_shape(const nas_dataset_t *ds, uint32_t *c, uint32_t *h, uint32_t *w);
/** Number of classes (max label + 1 for files, as given for buffers). Since 0.1. */
NAS_API uint32_t nas_dataset_num_classes(const nas_dataset_t *ds);

/**
 * Split into two views: a random `fraction` of the samples (stratified by class, drawn with
 * `seed`) goes to `second` (e.g. validation), the rest to `first`. fraction in (0, 1). Since 0.1.
 */
NAS_API nas_status_t nas_dataset_split(const nas_dataset_t *ds, double fraction, uint64_t seed,
                                       nas_dataset_t **first, nas_dataset_t **second);

/** A view of samples [offset, offset + count) of ds (e.g. a small subset for a quick trial). Since 0.1. */
NAS_API nas_status_t nas_dataset_subset(const nas_dataset_t *ds, uint64_t offset, uint64_t count,
                                        nas_dataset_t **out);

/**
 * Per-channel normalization applied when samples are read: (x - mean[c]) / std[c]. `channels`
 * must equal the data set's C; std > 0. Views inherit the setting of their parent at creation. Since 0.1.
 */
NAS_API nas_status_t nas_dataset_set_normalization(nas_dataset_t *ds, const float *mean, const float *std,
                                                   uint32_t channels);
/** Compute per-channel mean and std over the samples (before normalization). Since 0.1. */
NAS_API nas_status_t nas_dataset_compute_stats(const nas_dataset_t *ds, float *mean, float *std, uint32_t channels);

/** Training-time augmentation: random crop after zero padding by `pad` pixels, and horizontal flip. Since 0.1. */
NAS_API nas_status_t nas_dataset_set_augmentation(nas_dataset_t *ds, uint32_t pad, bool hflip);

/**
 * Read sample i (normalized, not augmented) into `image` (C*H*W floats, CHW) and its label. Since 0.1.
 */
NAS_API nas_status_t nas_dataset_get(const nas_dataset_t *ds, uint64_t i, float *image, int32_t *label);

#ifdef __cplusplus
}
#endif
#endif /* LIBNAS_DATA_H */
