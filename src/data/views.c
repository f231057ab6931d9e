/* Views: subsets and stratified splits that share the storage of the data set they view. */
#include "data/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Stream of the split's random generator under the caller's seed ("split" in ASCII). */
#define SPLIT_STREAM 0x73706c6974ull

/* A view of ds: normalization and augmentation are copied from ds. */
static nas_status_t make_view(const nas_dataset_t *ds, uint64_t n, uint64_t offset, uint32_t *idx,
                              nas_dataset_t **out)
{
    nas_status_t st = nas__dataset_create(out, ds->store, n, offset, idx);
    if (st != NAS_OK)
        return nas__ds_fail(ds, st, "%s", nas_context_errmsg(ds->ctx));
    nas_dataset_t *v = *out;
    memcpy(v->mean, ds->mean, ds->store->c * sizeof *v->mean);
    memcpy(v->std, ds->std, ds->store->c * sizeof *v->std);
    v->pad = ds->pad;
    v->hflip = ds->hflip;
    return NAS_OK;
}

nas_status_t nas_dataset_subset(const nas_dataset_t *ds, uint64_t offset, uint64_t count, nas_dataset_t **out)
{
    if (out)
        *out = NULL;
    if (!ds)
        return NAS_E_INVAL;
    if (!out)
        return nas__ds_fail(ds, NAS_E_INVAL, "subset: out is NULL");
    if (count == 0 || offset >= ds->n || count > ds->n - offset)
        return nas__ds_fail(ds, NAS_E_RANGE, "subset: [%llu, %llu + %llu) is empty or not inside the %llu samples",
                            (unsigned long long)offset, (unsigned long long)offset, (unsigned long long)count,
                            (unsigned long long)ds->n);
    if (!ds->idx)
        return make_view(ds, count, ds->offset + offset, NULL, out);
    uint32_t *idx = nas__malloc(ds->ctx, (size_t)count * sizeof *idx);
    if (!idx)
        return nas__ds_fail(ds, NAS_E_NOMEM, "subset: out of memory for %llu indices", (unsigned long long)count);
    memcpy(idx, ds->idx + offset, (size_t)count * sizeof *idx);
    return make_view(ds, count, 0, idx, out);
}

/* Class quota for a stratified split: share of the remainder decided by fractional part, then a random key. */
struct quota {
    double frac;
    uint64_t key;
    uint32_t cls;
};

static int quota_cmp(const void *a, const void *b)
{
    const struct quota *x = a, *y = b;
    if (x->frac != y->frac)
        return x->frac > y->frac ? -1 : 1;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->cls > y->cls) - (x->cls < y->cls);
}

/*
 * Decide how many samples of each class go to the second view: floor(fraction * n_c) each, and the
 * rest of round(fraction * n) to the classes with the largest fractional parts (largest remainder),
 * so the second view holds exactly round(fraction * n) samples in the proportions of the classes.
 */
static nas_status_t class_quotas(nas_context_t *ctx, const uint64_t *count, uint32_t k, double fraction,
                                 uint64_t total, nas_rng_t *rng, uint64_t *take)
{
    struct quota *q = nas__malloc(ctx, (size_t)k * sizeof *q);
    if (!q)
        return NAS_E_NOMEM;
    uint64_t assigned = 0;
    for (uint32_t c = 0; c < k; c++) {
        double want = fraction * (double)count[c];
        take[c] = (uint64_t)floor(want);
        assigned += take[c];
        q[c].frac = want - floor(want);
        q[c].key = nas_rng_u64(rng);
        q[c].cls = c;
    }
    qsort(q, k, sizeof *q, quota_cmp);
    for (uint32_t i = 0; assigned < total && i < k; i++) {
        if (take[q[i].cls] < count[q[i].cls]) {
            take[q[i].cls]++;
            assigned++;
        }
    }
    nas__free(ctx, q);
    return NAS_OK;
}

/* Mark (in `second`) which of ds's samples go to the second view. */
static nas_status_t pick_second(const nas_dataset_t *ds, double fraction, uint64_t total, uint64_t seed,
                                uint8_t *second)
{
    nas_context_t *ctx = ds->ctx;
    const struct nas__store *s = ds->store;
    uint32_t k = s->num_classes;
    nas_status_t st = NAS_E_NOMEM;
    nas_rng_t *rng = NULL;
    uint64_t *start = nas__calloc(ctx, (size_t)k + 1, sizeof *start);
    uint64_t *take = nas__calloc(ctx, k, sizeof *take);
    uint32_t *order = nas__malloc(ctx, (size_t)ds->n * sizeof *order);
    if (!start || !take || !order || nas_rng_create(&rng, ctx, seed, SPLIT_STREAM) != NAS_OK)
        goto out;

    /* Group the samples by class (counting sort, stable). */
    for (uint64_t i = 0; i < ds->n; i++)
        start[s->labels[nas__ds_pos(ds, i)] + 1]++;
    if ((st = class_quotas(ctx, start + 1, k, fraction, total, rng, take)) != NAS_OK)
        goto out;
    for (uint32_t c = 0; c < k; c++)
        start[c + 1] += start[c];
    for (uint64_t i = 0; i < ds->n; i++)
        order[start[s->labels[nas__ds_pos(ds, i)]]++] = (uint32_t)i;
    /* start[c] is now the end of class c; a partial Fisher-Yates picks take[c] of its samples. */
    uint64_t begin = 0;
    for (uint32_t c = 0; c < k; c++) {
        uint64_t m = start[c] - begin;
        uint32_t *g = order + begin;
        for (uint64_t j = 0; j < take[c]; j++) {
            uint64_t r = j + nas_rng_below(rng, m - j);
            uint32_t t = g[j];
            g[j] = g[r];
            g[r] = t;
            second[g[j]] = 1;
        }
        begin = start[c];
    }
    st = NAS_OK;
out:
    nas_rng_destroy(rng);
    nas__free(ctx, order);
    nas__free(ctx, take);
    nas__free(ctx, start);
    return st;
}

nas_status_t nas_dataset_split(const nas_dataset_t *ds, double fraction, uint64_t seed, nas_dataset_t **first,
                               nas_dataset_t **second)
{
    if (first)
        *first = NULL;
    if (second)
        *second = NULL;
    if (!ds)
        return NAS_E_INVAL;
    if (!first || !second)
        return nas__ds_fail(ds, NAS_E_INVAL, "split: first and second must not be NULL");
    if (!(fraction > 0.0 && fraction < 1.0))
        return nas__ds_fail(ds, NAS_E_RANGE, "split: fraction %g is not in (0, 1)", fraction);
    uint64_t total = (uint64_t)floor(fraction * (double)ds->n + 0.5);
    if (total == 0 || total == ds->n)
        return nas__ds_fail(ds, NAS_E_RANGE, "split: a fraction %g of %llu samples leaves one side empty", fraction,
                            (unsigned long long)ds->n);

    nas_context_t *ctx = ds->ctx;
    uint32_t *idx1 = NULL, *idx2 = NULL;
    nas_dataset_t *a = NULL, *b = NULL;
    nas_status_t st = NAS_E_NOMEM;
    uint8_t *mark = nas__calloc(ctx, (size_t)ds->n, 1);
    if (!mark || pick_second(ds, fraction, total, seed, mark) != NAS_OK)
        goto out_nomem;
    /* Sizes from the marks themselves, so no rounding in the quotas can overrun an array. */
    uint64_t n2 = 0;
    for (uint64_t i = 0; i < ds->n; i++)
        n2 += mark[i];
    if (n2 == 0 || n2 == ds->n) {
        st = nas__ds_fail(ds, NAS_E_RANGE, "split: a fraction %g of %llu samples leaves one side empty", fraction,
                          (unsigned long long)ds->n);
        goto out;
    }
    uint64_t n1 = ds->n - n2;
    idx1 = nas__malloc(ctx, (size_t)n1 * sizeof *idx1);
    idx2 = nas__malloc(ctx, (size_t)n2 * sizeof *idx2);
    if (!idx1 || !idx2)
        goto out_nomem;
    /* Both views keep the order of ds. */
    n1 = n2 = 0;
    for (uint64_t i = 0; i < ds->n; i++) {
        uint32_t pos = (uint32_t)nas__ds_pos(ds, i);
        if (mark[i])
            idx2[n2++] = pos;
        else
            idx1[n1++] = pos;
    }
    /* make_view owns the index array from here on, also when it fails. */
    st = make_view(ds, n1, 0, idx1, &a);
    idx1 = NULL;
    if (st != NAS_OK)
        goto out;
    st = make_view(ds, n2, 0, idx2, &b);
    idx2 = NULL;
    if (st != NAS_OK) {
        nas_dataset_destroy(a);
        goto out;
    }
    *first = a;
    *second = b;
    goto out;
out_nomem:
    st = nas__ds_fail(ds, NAS_E_NOMEM, "split: out of memory splitting %llu samples", (unsigned long long)ds->n);
out:
    nas__free(ctx, idx2);
    nas__free(ctx, idx1);
    nas__free(ctx, mark);
    return st;
}
