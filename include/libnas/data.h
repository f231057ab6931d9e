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
 * set's samples, e.g. a train/validation split) that shares the storage.
 *
 * Lifetime: the storage is reference-counted. Every data set and view (and the library's internal
 * batch loaders) holds a reference, so they may be destroyed in any order: a view stays valid after
 * the data set it views is destroyed. The context must outlive all of them.
 *
 * Messages: loads and nas_dataset_from_buffer() put theirs in nas_context_errmsg(); every other
 * failing call on a data set puts its message in nas_dataset_errmsg(ds), also the calls that take
 * ds as const (split, subset, compute_stats, get).
 */
typedef struct nas_dataset nas_dataset_t;

/** Limits that keep a hostile file from exhausting memory. */
#define NAS_DATA_MAX_SAMPLES 100000000u
#define NAS_DATA_MAX_SAMPLE_VALUES (1u << 24)
/** At most this many classes: labels are in [0, 65534]. Since 0.1. */
#define NAS_DATA_MAX_CLASSES 65535u

/**
 * Load IDX files (the MNIST / Fashion-MNIST format), gzip'd or not (detected from the content):
 * an image file of unsigned bytes with 3 dims (N, H, W; C = 1; magic 0x00000803) or 4 dims
 * (N, C, H, W; magic 0x00000804), and a label file of unsigned bytes with 1 dim N (magic 0x00000801).
 * Pixels are kept as bytes and scaled to [0, 1] (x / 255) when read. The number of classes is the
 * largest label + 1.
 * Hostile files: no more than the declared size + 1 bytes is ever decompressed, and memory grows with
 * the data actually present, so a file that lies about its dims or a gzip bomb is rejected cheaply.
 * @param[out] out  the data set; NULL on failure
 * @return NAS_OK; NAS_E_INVAL (NULL argument); NAS_E_IO (missing or unreadable file, a directory);
 *         NAS_E_PARSE (empty file, bad magic, element type or number of dims, a zero dim, truncated
 *         header or data: "file X: expected N bytes of pixel data, got M", data beyond the declared
 *         size, corrupt or truncated gzip, label and image counts differ); NAS_E_RANGE (N over
 *         NAS_DATA_MAX_SAMPLES or C*H*W over NAS_DATA_MAX_SAMPLE_VALUES); NAS_E_NOMEM. The message,
 *         in nas_context_errmsg(), starts with "file PATH:" naming the file at fault. Since 0.1.
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

/**
 * Load a CSV file (gzip'd or not): one sample per row, C*H*W + 1 comma-separated columns, values in
 * CHW order around the label column. Fields may have spaces or tabs around them; CRLF line ends are
 * accepted; blank lines only at the end. A value is [+-]digits[.digits][(e|E)[+-]digits], parsed
 * independently of the locale (no nan, inf or hex); a label is a decimal integer in [0, 65534].
 * The number of classes is the largest label + 1. opts == NULL means NAS_CSV_OPTS_INIT.
 * @param[out] out  the data set; NULL on failure
 * @return NAS_OK; NAS_E_INVAL (NULL argument, bad struct_size, zero shape, non-finite scale,
 *         label_column outside [-1, C*H*W]); NAS_E_IO; NAS_E_PARSE (a malformed field, too few or too
 *         many columns, a negative or non-integer label, a blank line before data, no rows);
 *         NAS_E_RANGE (label over 65534, over the size limits); NAS_E_NOMEM. Errors in the content
 *         read "PATH:LINE:COLUMN: what" (both 1-based; the column counts bytes) in nas_context_errmsg().
 * Since 0.1.
 */
NAS_API nas_status_t nas_dataset_load_csv(nas_dataset_t **out, nas_context_t *ctx, const char *path,
                                          const nas_csv_opts_t *opts);

/**
 * Wrap a caller-owned buffer without copying it: `images` holds n * c * h * w floats (NCHW) and
 * `labels` n labels in [0, num_classes). The buffers must stay valid until the data set and every
 * view of it are destroyed; the data set reads them on every access, so changes the caller makes
 * are seen (labels must stay in range). Labels are checked here.
 * @return NAS_OK; NAS_E_INVAL (NULL pointer, a zero count or dim); NAS_E_RANGE (a label out of range,
 *         num_classes over NAS_DATA_MAX_CLASSES, over the size limits); NAS_E_NOMEM. Since 0.1.
 */
NAS_API nas_status_t nas_dataset_from_buffer(nas_dataset_t **out, nas_context_t *ctx, const float *images,
                                             const int32_t *labels, uint64_t n, uint32_t c, uint32_t h,
                                             uint32_t w, uint32_t num_classes);

/** Destroy a data set or view (the storage goes with its last holder). NULL is a no-op. Since 0.1. */
NAS_API void nas_dataset_destroy(nas_dataset_t *ds);
/** Last detailed error message of calls on this data set; "" if none, never NULL (also for NULL). Since 0.1. */
NAS_API const char *nas_dataset_errmsg(const nas_dataset_t *ds);

/** Number of samples (0 for NULL). Since 0.1. */
NAS_API uint64_t nas_dataset_num_samples(const nas_dataset_t *ds);
/** Shape of one sample. Any out pointer may be NULL. Since 0.1. */
NAS_API void nas_dataset_shape(const nas_dataset_t *ds, uint32_t *c, uint32_t *h, uint32_t *w);
/** Number of classes (max label + 1 for files, as given for buffers; a view has its storage's). Since 0.1. */
NAS_API uint32_t nas_dataset_num_classes(const nas_dataset_t *ds);

/**
 * Split into two views: `second` (e.g. validation) gets round(fraction * n) samples, `first` the
 * rest. Stratified: class c gives floor(fraction * n_c) samples, and the remaining ones go one each
 * to the classes with the largest fractional parts (ties drawn with `seed`); which samples of a class
 * go is drawn with `seed`. Equal (ds, fraction, seed) give equal splits. Both views keep ds's order,
 * are disjoint and together hold every sample of ds; they inherit ds's normalization and augmentation.
 * @param[out] first, second  the views; both NULL on failure
 * @return NAS_OK; NAS_E_INVAL (NULL pointer); NAS_E_RANGE (fraction not in (0, 1), or a side would be
 *         empty); NAS_E_NOMEM. Since 0.1.
 */
NAS_API nas_status_t nas_dataset_split(const nas_dataset_t *ds, double fraction, uint64_t seed,
                                       nas_dataset_t **first, nas_dataset_t **second);

/**
 * A view of samples [offset, offset + count) of ds, in ds's order (e.g. a small subset for a quick
 * trial). It inherits ds's normalization and augmentation.
 * @param[out] out  the view; NULL on failure
 * @return NAS_OK; NAS_E_INVAL (NULL pointer); NAS_E_RANGE (count 0, or the range not inside ds);
 *         NAS_E_NOMEM. Since 0.1.
 */
NAS_API nas_status_t nas_dataset_subset(const nas_dataset_t *ds, uint64_t offset, uint64_t count,
                                        nas_dataset_t **out);

/**
 * Per-channel normalization applied when samples are read: (x - mean[c]) / std[c], x being the value
 * after the x / 255 of IDX files or the CSV scale. `channels` must equal the data set's C; mean finite,
 * std finite and > 0. mean == NULL and std == NULL remove the normalization. A failing call keeps the
 * previous setting. Views inherit the setting of their parent at creation (later changes to either
 * do not propagate). @return NAS_OK; NAS_E_INVAL; NAS_E_RANGE. Since 0.1.
 */
NAS_API nas_status_t nas_dataset_set_normalization(nas_dataset_t *ds, const float *mean, const float *std,
                                                   uint32_t channels);
/**
 * Per-channel mean and population standard deviation (dividing by N * H * W) over the samples of ds,
 * of the values before normalization (after x / 255 or the CSV scale), accumulated in double (exact
 * sums for IDX bytes). `channels` must equal C. Feed the result to nas_dataset_set_normalization().
 * @return NAS_OK; NAS_E_INVAL. Since 0.1.
 */
NAS_API nas_status_t nas_dataset_compute_stats(const nas_dataset_t *ds, float *mean, float *std, uint32_t channels);

/**
 * Training-time augmentation, applied by the training batch loader only (never by nas_dataset_get()):
 * per sample, the image padded with `pad` pixels of zeros (zero before normalization, as a crop before
 * Normalize in torchvision) is cropped back to H x W at a uniform offset in [-pad, pad]^2, then
 * mirrored left-right with probability 1/2 if hflip. Draws come from the loader's stream, which
 * depends on (seed, epoch) only. pad 0 and hflip false: none. pad must be < min(H, W).
 * Views inherit the setting at creation. @return NAS_OK; NAS_E_INVAL; NAS_E_RANGE. Since 0.1.
 */
NAS_API nas_status_t nas_dataset_set_augmentation(nas_dataset_t *ds, uint32_t pad, bool hflip);

/**
 * Read sample i (normalized, not augmented) into `image` (C*H*W floats, CHW) and its label (`label`
 * may be NULL). @return NAS_OK; NAS_E_INVAL (NULL ds or image); NAS_E_RANGE (i >= n). Since 0.1.
 */
NAS_API nas_status_t nas_dataset_get(const nas_dataset_t *ds, uint64_t i, float *image, int32_t *label);

/**
 * Make in-memory data sets available to evaluators by name: the `train` evaluator's parameter
 * `dataset: NAME` then trains on `train` (split into training and validation samples by
 * `val_fraction`, cut by `max_samples`, normalized, as for files) and reports test metrics on
 * `test` when its parameter `test` is true. This is how a host whose data is in memory (e.g. NumPy
 * arrays wrapped with nas_dataset_from_buffer()) runs searches with the built-in evaluators.
 * The context keeps its own views of both (sharing their storage, nothing is copied), so the caller
 * may destroy its handles at once; buffers borrowed by nas_dataset_from_buffer() must stay valid
 * until the context is destroyed. The views carry the normalization and augmentation the data sets
 * have now. Registered data sets live as long as the context.
 * @param[in] name   [a-z0-9_-]+, at most 128 bytes; "fashion-mnist" is reserved for the files
 * @param[in] train  the training samples (required)
 * @param[in] test   test samples of the same shape, or NULL
 * @return NAS_OK; NAS_E_INVAL (NULL ctx, train or name, a bad or reserved name, a test set of another
 *         shape or with more classes); NAS_E_EXISTS (name taken); NAS_E_NOMEM. Message in
 *         nas_context_errmsg(). Since 0.1.
 */
NAS_API nas_status_t nas_context_add_dataset(nas_context_t *ctx, const char *name, const nas_dataset_t *train,
                                             const nas_dataset_t *test);

#ifdef __cplusplus
}
#endif
#endif /* LIBNAS_DATA_H */
