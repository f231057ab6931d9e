/* Data sets: shared storage, handles, caller buffers, normalization, statistics, augmentation settings. */
#include "data/dataset.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

_Static_assert(NAS_DATA_MAX_SAMPLES <= UINT32_MAX, "view indices are 32-bit");

nas_status_t nas__store_create(struct nas__store **out, nas_context_t *ctx)
{
    struct nas__store *s = nas__calloc(ctx, 1, sizeof *s);
    *out = s;
    if (!s)
        return NAS_E_NOMEM;
    s->ctx = ctx;
    atomic_init(&s->refs, 1u);
    return NAS_OK;
}

void nas__store_retain(struct nas__store *s)
{
    atomic_fetch_add_explicit(&s->refs, 1u, memory_order_relaxed);
}

void nas__store_release(struct nas__store *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1u, memory_order_acq_rel) != 1u)
        return;
    nas__free(s->ctx, s->owned_pixels);
    nas__free(s->ctx, s->owned_labels);
    nas__free(s->ctx, s);
}

nas_status_t nas__dataset_create(nas_dataset_t **out, struct nas__store *store, uint64_t n, uint64_t offset,
                                 uint32_t *idx)
{
    nas_context_t *ctx = store->ctx;
    *out = NULL;
    nas_dataset_t *ds = nas__calloc(ctx, 1, sizeof *ds);
    float *norm = nas__calloc(ctx, (size_t)store->c * 2, sizeof *norm);
    if (!ds || !norm) {
        nas__free(ctx, ds);
        nas__free(ctx, norm);
        nas__free(ctx, idx);
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating a data set of %llu samples",
                             (unsigned long long)n);
    }
    ds->ctx = ctx;
    ds->store = store;
    nas__store_retain(store);
    ds->n = n;
    ds->offset = offset;
    ds->idx = idx;
    ds->mean = norm;
    ds->std = norm + store->c;
    for (uint32_t c = 0; c < store->c; c++)
        ds->std[c] = 1.0f;
    *out = ds;
    return NAS_OK;
}

void nas_dataset_destroy(nas_dataset_t *ds)
{
    if (!ds)
        return;
    nas_context_t *ctx = ds->ctx;
    nas__store_release(ds->store);
    nas__free(ctx, ds->idx);
    nas__free(ctx, ds->mean);
    nas__free(ctx, ds);
}

nas_status_t nas__ds_fail(const nas_dataset_t *ds, nas_status_t st, const char *fmt, ...)
{
    /* The message buffer is bookkeeping, not part of the data set's value: const calls may write it. */
    char *buf = ((nas_dataset_t *)ds)->errmsg;
    va_list ap;
    va_start(ap, fmt);
    nas__vfail(buf, st, fmt, ap);
    va_end(ap);
    nas__logf(ds->ctx, NAS_LOG_DEBUG, "%s: %s", nas_status_name(st), buf);
    return st;
}

const char *nas_dataset_errmsg(const nas_dataset_t *ds)
{
    return ds ? ds->errmsg : "";
}

uint64_t nas_dataset_num_samples(const nas_dataset_t *ds)
{
    return ds ? ds->n : 0;
}

void nas_dataset_shape(const nas_dataset_t *ds, uint32_t *c, uint32_t *h, uint32_t *w)
{
    if (c)
        *c = ds ? ds->store->c : 0;
    if (h)
        *h = ds ? ds->store->h : 0;
    if (w)
        *w = ds ? ds->store->w : 0;
}

uint32_t nas_dataset_num_classes(const nas_dataset_t *ds)
{
    return ds ? ds->store->num_classes : 0;
}

nas_status_t nas_dataset_from_buffer(nas_dataset_t **out, nas_context_t *ctx, const float *images,
                                     const int32_t *labels, uint64_t n, uint32_t c, uint32_t h, uint32_t w,
                                     uint32_t num_classes)
{
    if (!out)
        return ctx ? nas__ctx_fail(ctx, NAS_E_INVAL, "nas_dataset_from_buffer: out is NULL") : NAS_E_INVAL;
    *out = NULL;
    if (!ctx)
        return NAS_E_INVAL;
    if (!images || !labels)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_dataset_from_buffer: images and labels must not be NULL");
    if (n == 0 || c == 0 || h == 0 || w == 0 || num_classes == 0)
        return nas__ctx_fail(ctx, NAS_E_INVAL,
                             "nas_dataset_from_buffer: n, c, h, w and num_classes must be > 0 (got %llu, %u, %u, %u, %u)",
                             (unsigned long long)n, c, h, w, num_classes);
    uint64_t chw = (uint64_t)c * h * w;
    if (n > NAS_DATA_MAX_SAMPLES || chw > NAS_DATA_MAX_SAMPLE_VALUES || num_classes > NAS_DATA_MAX_CLASSES)
        return nas__ctx_fail(ctx, NAS_E_RANGE,
                             "nas_dataset_from_buffer: %llu samples of %llu values and %u classes exceed the limits "
                             "(%u samples, %u values, %u classes)", (unsigned long long)n, (unsigned long long)chw,
                             num_classes, NAS_DATA_MAX_SAMPLES, NAS_DATA_MAX_SAMPLE_VALUES, NAS_DATA_MAX_CLASSES);
    for (uint64_t i = 0; i < n; i++)
        if (labels[i] < 0 || (uint32_t)labels[i] >= num_classes)
            return nas__ctx_fail(ctx, NAS_E_RANGE, "nas_dataset_from_buffer: label %llu is %d, not in [0, %u)",
                                 (unsigned long long)i, (int)labels[i], num_classes);

    struct nas__store *s;
    if (nas__store_create(&s, ctx) != NAS_OK)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory wrapping a buffer");
    s->is_u8 = false;
    s->f32 = images;
    s->labels = labels;
    s->n = n;
    s->c = c;
    s->h = h;
    s->w = w;
    s->chw = (size_t)chw;
    s->num_classes = num_classes;
    nas_status_t st = nas__dataset_create(out, s, n, 0, NULL);
    nas__store_release(s);
    return st;
}

void nas__ds_coeff(const nas_dataset_t *ds, uint32_t c, float *scale, float *shift)
{
    double base = ds->store->is_u8 ? 1.0 / 255.0 : 1.0;
    *scale = (float)(base / ds->std[c]);
    *shift = (float)(-(double)ds->mean[c] / ds->std[c]);
}

nas_status_t nas_dataset_set_normalization(nas_dataset_t *ds, const float *mean, const float *std, uint32_t channels)
{
    if (!ds)
        return NAS_E_INVAL;
    uint32_t nc = ds->store->c;
    if (!mean && !std) {
        for (uint32_t c = 0; c < nc; c++) {
            ds->mean[c] = 0.0f;
            ds->std[c] = 1.0f;
        }
        return NAS_OK;
    }
    if (!mean || !std)
        return nas__ds_fail(ds, NAS_E_INVAL, "set_normalization: give both mean and std, or neither");
    if (channels != nc)
        return nas__ds_fail(ds, NAS_E_INVAL, "set_normalization: %u channels given, the data set has %u", channels, nc);
    for (uint32_t c = 0; c < nc; c++) {
        if (!isfinite(mean[c]) || !isfinite(std[c]) || !(std[c] > 0.0f))
            return nas__ds_fail(ds, NAS_E_RANGE,
                                "set_normalization: channel %u: mean %g and std %g must be finite, std > 0", c,
                                (double)mean[c], (double)std[c]);
    }
    memcpy(ds->mean, mean, nc * sizeof *mean);
    memcpy(ds->std, std, nc * sizeof *std);
    return NAS_OK;
}

/* Mean and population std of channel c of bytes, exact through a histogram. */
static void stats_u8(const nas_dataset_t *ds, uint32_t c, double *mean, double *sd)
{
    const struct nas__store *s = ds->store;
    size_t hw = (size_t)s->h * s->w;
    uint64_t hist[256] = {0};
    for (uint64_t i = 0; i < ds->n; i++) {
        const uint8_t *p = s->u8 + nas__ds_pos(ds, i) * s->chw + c * hw;
        for (size_t k = 0; k < hw; k++)
            hist[p[k]]++;
    }
    double count = (double)ds->n * (double)hw, sum = 0.0;
    for (int v = 0; v < 256; v++)
        sum += (double)hist[v] * v;
    double m = sum / count, var = 0.0;
    for (int v = 0; v < 256; v++)
        var += (double)hist[v] * (v - m) * (v - m);
    *mean = m / 255.0;
    *sd = sqrt(var / count) / 255.0;
}

/* Same for floats: two passes in double (the second on deviations, for accuracy). */
static void stats_f32(const nas_dataset_t *ds, uint32_t c, double *mean, double *sd)
{
    const struct nas__store *s = ds->store;
    size_t hw = (size_t)s->h * s->w;
    double count = (double)ds->n * (double)hw, sum = 0.0, var = 0.0;
    for (uint64_t i = 0; i < ds->n; i++) {
        const float *p = s->f32 + nas__ds_pos(ds, i) * s->chw + c * hw;
        for (size_t k = 0; k < hw; k++)
            sum += p[k];
    }
    double m = sum / count;
    for (uint64_t i = 0; i < ds->n; i++) {
        const float *p = s->f32 + nas__ds_pos(ds, i) * s->chw + c * hw;
        for (size_t k = 0; k < hw; k++)
            var += ((double)p[k] - m) * ((double)p[k] - m);
    }
    *mean = m;
    *sd = sqrt(var / count);
}

nas_status_t nas_dataset_compute_stats(const nas_dataset_t *ds, float *mean, float *std, uint32_t channels)
{
    if (!ds)
        return NAS_E_INVAL;
    if (!mean || !std)
        return nas__ds_fail(ds, NAS_E_INVAL, "compute_stats: mean and std must not be NULL");
    if (channels != ds->store->c)
        return nas__ds_fail(ds, NAS_E_INVAL, "compute_stats: %u channels given, the data set has %u", channels,
                            ds->store->c);
    for (uint32_t c = 0; c < channels; c++) {
        double m, sd;
        if (ds->store->is_u8)
            stats_u8(ds, c, &m, &sd);
        else
            stats_f32(ds, c, &m, &sd);
        mean[c] = (float)m;
        std[c] = (float)sd;
    }
    return NAS_OK;
}

nas_status_t nas_dataset_set_augmentation(nas_dataset_t *ds, uint32_t pad, bool hflip)
{
    if (!ds)
        return NAS_E_INVAL;
    uint32_t lim = ds->store->h < ds->store->w ? ds->store->h : ds->store->w;
    if (pad >= lim)
        return nas__ds_fail(ds, NAS_E_RANGE, "set_augmentation: pad %u must be smaller than the image (%ux%u)", pad,
                            ds->store->h, ds->store->w);
    ds->pad = pad;
    ds->hflip = hflip;
    return NAS_OK;
}

nas_status_t nas_dataset_get(const nas_dataset_t *ds, uint64_t i, float *image, int32_t *label)
{
    if (!ds)
        return NAS_E_INVAL;
    if (!image)
        return nas__ds_fail(ds, NAS_E_INVAL, "get: image must not be NULL");
    if (i >= ds->n)
        return nas__ds_fail(ds, NAS_E_RANGE, "get: sample %llu of a data set of %llu", (unsigned long long)i,
                            (unsigned long long)ds->n);
    const struct nas__store *s = ds->store;
    uint64_t pos = nas__ds_pos(ds, i);
    size_t hw = (size_t)s->h * s->w;
    for (uint32_t c = 0; c < s->c; c++) {
        float scale, shift;
        nas__ds_coeff(ds, c, &scale, &shift);
        nas__store_fill_plane(s, pos, c, scale, shift, image + c * hw);
    }
    if (label)
        *label = s->labels[pos];
    return NAS_OK;
}
