/* Internals of src/data: reference-counted sample storage, data sets and views over it, sample conversion. */
#ifndef NAS_DATA_DATASET_H
#define NAS_DATA_DATASET_H

#include "core/internal.h"

#include <stdatomic.h>

/*
 * The samples themselves, shared by a data set and all its views. Freed when the last holder
 * (data set, view or loader) releases it, so destruction order does not matter.
 */
struct nas__store {
    nas_context_t *ctx;
    atomic_uint refs;
    bool is_u8;                 /* pixels are bytes scaled by 1/255 at read time; else floats */
    const uint8_t *u8;          /* is_u8: n * chw bytes */
    const float *f32;           /* !is_u8: n * chw floats (owned or the caller's) */
    const int32_t *labels;      /* n labels in [0, num_classes) */
    void *owned_pixels;         /* freed with the store; NULL for a borrowed buffer */
    int32_t *owned_labels;
    uint64_t n;
    uint32_t c, h, w;
    size_t chw;
    uint32_t num_classes;
};

struct nas_dataset {
    nas_context_t *ctx;
    struct nas__store *store;   /* one reference held */
    uint64_t n;
    uint64_t offset;            /* sample i is store sample offset + i when idx is NULL */
    uint32_t *idx;              /* else store sample idx[i] (owned); NAS_DATA_MAX_SAMPLES < 2^32 */
    float *mean, *std;          /* c each, one block starting at mean; identity is (0, 1) */
    uint32_t pad;               /* augmentation settings, read by loaders */
    bool hflip;
    char errmsg[NAS_ERRMSG_CAP];
};

/*
 * The data sets registered under `name` with nas_context_add_dataset() (test may be NULL), or false.
 * They are owned by the context.
 */
bool nas__dataset_registered(const nas_context_t *ctx, const char *name, const nas_dataset_t **train,
                             const nas_dataset_t **test);

/* Store sample index of the data set's i-th sample (i < ds->n). */
static inline uint64_t nas__ds_pos(const nas_dataset_t *ds, uint64_t i)
{
    return ds->idx ? ds->idx[i] : ds->offset + i;
}

/* A new empty store holding one reference; the caller fills it in. The owned_* blocks are freed with it. */
nas_status_t nas__store_create(struct nas__store **out, nas_context_t *ctx);
void nas__store_retain(struct nas__store *s);
void nas__store_release(struct nas__store *s);

/*
 * A data set over `store` (takes one new reference) with n samples, identity normalization and no
 * augmentation; idx/offset as in struct nas_dataset, idx owned by the result (freed on failure too).
 * Failures go into the context's message.
 */
nas_status_t nas__dataset_create(nas_dataset_t **out, struct nas__store *store, uint64_t n, uint64_t offset,
                                 uint32_t *idx);

/* Message into ds's own buffer; ds may be a const handle (the message buffer is not part of its value). */
nas_status_t nas__ds_fail(const nas_dataset_t *ds, nas_status_t st, const char *fmt, ...) NAS_PRINTF(3, 4);

/*
 * Per-channel affine map from stored values to normalized floats: out = raw * scale + shift, where raw
 * is the byte (u8 storage, so scale includes 1/255) or the stored float. One function so that
 * nas_dataset_get() and the loader compute bit-identical values.
 */
void nas__ds_coeff(const nas_dataset_t *ds, uint32_t c, float *scale, float *shift);

/* Write channel c of store sample `pos` (H*W values) into out through the coefficients. */
void nas__store_fill_plane(const struct nas__store *s, uint64_t pos, uint32_t c, float scale, float shift,
                           float *out);

/*
 * Same with augmentation: the plane padded with zeros (raw zeros, i.e. before normalization, as a
 * crop before Normalize in torchvision) is cropped at offset (dy, dx) in [-pad, pad] relative to the
 * original, then mirrored left-right if flip:
 * out[y][x] = raw(y + dy, xs + dx) * scale + shift with xs = flip ? w - 1 - x : x, raw 0 outside the image.
 */
void nas__store_fill_plane_aug(const struct nas__store *s, uint64_t pos, uint32_t c, float scale, float shift,
                               int32_t dy, int32_t dx, bool flip, float *out);

#endif /* NAS_DATA_DATASET_H */
