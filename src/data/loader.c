/* Batches for training: per-epoch shuffles and augmentation from (seed, epoch), no allocation per batch. */
#include "data/loader.h"
#include "data/dataset.h"

#include <string.h>

struct nas__loader {
    nas_context_t *ctx;
    struct nas__store *store;  /* one reference held */
    uint64_t n;
    uint32_t batch, flags;
    uint64_t seed;
    uint32_t *base;            /* store positions in the data set's order */
    uint32_t *order;           /* this epoch's order (== base without SHUFFLE) */
    uint64_t cursor;           /* next entry of order */
    nas_rng_t *rng;            /* this epoch's stream */
    float *scale, *shift;      /* per channel, one block at scale */
    uint32_t pad;
    bool hflip, augment;
    int32_t *aug;              /* per batch slot: dy, dx, flip */
    char errmsg[NAS_ERRMSG_CAP];
};

nas_status_t nas__loader_create(nas__loader_t **out, const nas_dataset_t *ds, uint32_t batch_size, uint32_t flags,
                                uint64_t seed)
{
    if (!out)
        return NAS_E_INVAL;
    *out = NULL;
    if (!ds)
        return NAS_E_INVAL;
    nas_context_t *ctx = ds->ctx;
    if (batch_size == 0 || (flags & ~(NAS__LOADER_SHUFFLE | NAS__LOADER_AUGMENT | NAS__LOADER_DROP_LAST)))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "loader: batch_size %u must be > 0 and flags 0x%x known", batch_size,
                             flags);
    if ((flags & NAS__LOADER_DROP_LAST) && ds->n < batch_size)
        return nas__ctx_fail(ctx, NAS_E_RANGE, "loader: %llu samples make no full batch of %u (drop_last)",
                             (unsigned long long)ds->n, batch_size);

    bool shuffle = flags & NAS__LOADER_SHUFFLE;
    uint32_t nc = ds->store->c;
    nas__loader_t *l = nas__calloc(ctx, 1, sizeof *l);
    if (!l)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "loader: out of memory");
    l->ctx = ctx;
    l->n = ds->n;
    l->batch = batch_size;
    l->flags = flags;
    l->seed = seed;
    l->pad = ds->pad;
    l->hflip = ds->hflip;
    l->augment = (flags & NAS__LOADER_AUGMENT) && (ds->pad || ds->hflip);
    l->base = nas__malloc(ctx, (size_t)ds->n * sizeof *l->base);
    l->order = shuffle ? nas__malloc(ctx, (size_t)ds->n * sizeof *l->order) : l->base;
    l->scale = nas__malloc(ctx, (size_t)nc * 2 * sizeof *l->scale);
    l->aug = l->augment ? nas__malloc(ctx, (size_t)batch_size * 3 * sizeof *l->aug) : NULL;
    if (!l->base || !l->order || !l->scale || (l->augment && !l->aug)) {
        nas__loader_destroy(l);
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "loader: out of memory for %llu samples",
                             (unsigned long long)ds->n);
    }
    l->store = ds->store;
    nas__store_retain(l->store);
    l->shift = l->scale + nc;
    for (uint32_t c = 0; c < nc; c++)
        nas__ds_coeff(ds, c, &l->scale[c], &l->shift[c]);
    for (uint64_t i = 0; i < ds->n; i++)
        l->base[i] = (uint32_t)nas__ds_pos(ds, i);
    nas_status_t st = nas__loader_start_epoch(l, 0);
    if (st != NAS_OK) {
        nas__ctx_fail(ctx, st, "%s", l->errmsg);
        nas__loader_destroy(l);
        return st;
    }
    *out = l;
    return NAS_OK;
}

void nas__loader_destroy(nas__loader_t *l)
{
    if (!l)
        return;
    nas_context_t *ctx = l->ctx;
    nas_rng_destroy(l->rng);
    if (l->order != l->base)
        nas__free(ctx, l->order);
    nas__free(ctx, l->base);
    nas__free(ctx, l->scale);
    nas__free(ctx, l->aug);
    nas__store_release(l->store);
    nas__free(ctx, l);
}

nas_status_t nas__loader_start_epoch(nas__loader_t *l, uint64_t epoch)
{
    if (!l)
        return NAS_E_INVAL;
    nas_rng_t *rng;
    if (nas_rng_create(&rng, l->ctx, l->seed, epoch) != NAS_OK)
        return nas__fail(l->errmsg, NAS_E_NOMEM, "loader: out of memory starting epoch %llu",
                         (unsigned long long)epoch);
    nas_rng_destroy(l->rng);
    l->rng = rng;
    if (l->flags & NAS__LOADER_SHUFFLE) {
        memcpy(l->order, l->base, (size_t)l->n * sizeof *l->order);
        for (uint64_t i = l->n - 1; i > 0; i--) {
            uint64_t j = nas_rng_below(rng, i + 1);
            uint32_t t = l->order[i];
            l->order[i] = l->order[j];
            l->order[j] = t;
        }
    }
    l->cursor = 0;
    return NAS_OK;
}

static void fill_sample(const nas__loader_t *l, uint64_t pos, const int32_t *aug, float *out)
{
    const struct nas__store *s = l->store;
    size_t hw = (size_t)s->h * s->w;
    for (uint32_t c = 0; c < s->c; c++) {
        if (aug)
            nas__store_fill_plane_aug(s, pos, c, l->scale[c], l->shift[c], aug[0], aug[1], aug[2] != 0,
                                      out + c * hw);
        else
            nas__store_fill_plane(s, pos, c, l->scale[c], l->shift[c], out + c * hw);
    }
}

nas_status_t nas__loader_next(nas__loader_t *l, float *images, int32_t *labels, uint32_t *count)
{
    if (count)
        *count = 0;
    if (!l)
        return NAS_E_INVAL;
    if (!images || !labels || !count)
        return nas__fail(l->errmsg, NAS_E_INVAL, "loader: images, labels and count must not be NULL");
    uint64_t left = l->n - l->cursor;
    if (left == 0 || ((l->flags & NAS__LOADER_DROP_LAST) && left < l->batch))
        return NAS_E_EXHAUSTED;
    uint32_t k = left < l->batch ? (uint32_t)left : l->batch;
    /* Draw the augmentation in sample order so the stream does not depend on how the fill is scheduled. */
    if (l->augment) {
        int64_t span = 2 * (int64_t)l->pad + 1;
        for (uint32_t j = 0; j < k; j++) {
            int32_t *a = l->aug + 3 * (size_t)j;
            a[0] = l->pad ? (int32_t)((int64_t)nas_rng_below(l->rng, (uint64_t)span) - l->pad) : 0;
            a[1] = l->pad ? (int32_t)((int64_t)nas_rng_below(l->rng, (uint64_t)span) - l->pad) : 0;
            a[2] = l->hflip ? (int32_t)(nas_rng_u64(l->rng) >> 63) : 0;
        }
    }
    const uint32_t *order = l->order + l->cursor;
    size_t chw = l->store->chw;
    /*
     * One thread on purpose: a batch of 128 Fashion-MNIST samples takes ~60 us (~85 us augmented) here,
     * a thousandth of a training step. An OpenMP team halved that on an idle machine but cost up to
     * 8 ms per batch on a loaded one, waiting for descheduled threads.
     */
    for (uint32_t j = 0; j < k; j++) {
        labels[j] = l->store->labels[order[j]];
        fill_sample(l, order[j], l->augment ? l->aug + 3 * (size_t)j : NULL, images + j * chw);
    }
    l->cursor += k;
    *count = k;
    return NAS_OK;
}

uint64_t nas__loader_batches_per_epoch(const nas__loader_t *l)
{
    if (!l)
        return 0;
    return (l->flags & NAS__LOADER_DROP_LAST) ? l->n / l->batch : (l->n + l->batch - 1) / l->batch;
}

uint64_t nas__loader_num_samples(const nas__loader_t *l)
{
    return l ? l->n : 0;
}

const char *nas__loader_errmsg(const nas__loader_t *l)
{
    return l ? l->errmsg : "";
}
