/* Multi-input and data-movement ops: sum, concat, crop, zero, layout reorder. */
#include "dnnl/priv.h"

#include <string.h>

/* Sum and concat run one primitive with up to this many inputs (+ dst + scratchpad). */
#define JOIN_MAX_IN (PRIM_MAX_ARGS - 2)

/* ---- generic region copy over blocked layouts (one inner block per dim at most) ---- */

typedef struct lay {
    int64_t stride[4]; /* outer strides */
    int64_t blk[4];    /* inner block size per dim (1: none) */
    int64_t bpos[4];   /* multiplier of the index within the block */
    int64_t off0;
} lay_t;

static bool lay_init(lay_t *l, const dnnl_memory_desc_t *md)
{
    if (md->format_kind != dnnl_blocked || md->ndims != 4)
        return false;
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    for (int d = 0; d < 4; d++) {
        l->stride[d] = b->strides[d];
        l->blk[d] = 1;
        l->bpos[d] = 0;
    }
    int64_t mult = 1;
    for (int k = b->inner_nblks - 1; k >= 0; k--) {
        int d = b->inner_idxs[k];
        if (l->blk[d] != 1)
            return false;
        l->blk[d] = b->inner_blks[k];
        l->bpos[d] = mult;
        mult *= b->inner_blks[k];
    }
    l->off0 = md->offset0;
    return true;
}

static inline int64_t lay_off(const lay_t *l, int64_t n, int64_t c, int64_t h, int64_t w)
{
    int64_t i[4] = { n, c, h, w }, o = l->off0;
    for (int d = 0; d < 4; d++)
        o += l->blk[d] == 1 ? i[d] * l->stride[d] : (i[d] / l->blk[d]) * l->stride[d] + (i[d] % l->blk[d]) * l->bpos[d];
    return o;
}

/* d[n, dc0 + c, dh0 + h, dw0 + w] (+)= s[n, sc0 + c, sh0 + h, sw0 + w] over ext = {N, C, H, W}. */
static void region_copy(const lay_t *dl, float *d, const int64_t doff[4], const lay_t *sl, const float *s,
                        const int64_t soff[4], const int64_t ext[4])
{
    int64_t nc = ext[0] * ext[1];
#pragma omp parallel for schedule(static) if (nc * ext[2] * ext[3] >= 32768)
    for (int64_t i = 0; i < nc; i++) {
        int64_t n = i / ext[1], c = i % ext[1];
        for (int64_t h = 0; h < ext[2]; h++) {
            int64_t so = lay_off(sl, n + soff[0], c + soff[1], h + soff[2], soff[3]);
            int64_t dO = lay_off(dl, n + doff[0], c + doff[1], h + doff[2], doff[3]);
            int64_t ss = sl->blk[3] == 1 ? sl->stride[3] : 0, ds = dl->blk[3] == 1 ? dl->stride[3] : 0;
            if (ss && ds) {
                for (int64_t w = 0; w < ext[3]; w++)
                    d[dO + w * ds] = s[so + w * ss];
            } else {
                for (int64_t w = 0; w < ext[3]; w++)
                    d[lay_off(dl, n + doff[0], c + doff[1], h + doff[2], w + doff[3])] =
                        s[lay_off(sl, n + soff[0], c + soff[1], h + soff[2], w + soff[3])];
            }
        }
    }
}

/* ---- sum ---- */

typedef struct sum_op {
    nas__op_t base;
    int32_t fwd;
    bool own;                 /* summed here over whole buffers in the output's layout */
    int32_t fre[JOIN_MAX_IN]; /* own: reorder of input i into the output's layout, or -1 */
    nas__tensor_t *tmp[JOIN_MAX_IN]; /* own: where that reorder writes */
    int32_t bwd[JOIN_MAX_IN]; /* reorder of the gradient into input i's layout, or -1: a copy */
} sum_op_t;

static void sum_forward(nas__op_t *op, bool train)
{
    (void)train;
    sum_op_t *s = (sum_op_t *)op;
    if (s->fwd >= 0) {
        nas__prim_run(op->dev, &op->prim[s->fwd]);
        return;
    }
    float *d = nas__tensor_data(op->dst);
    size_t count = nas__tensor_bytes(op->dst) / 4;
    nas__k_copy(d, nas__tensor_data(op->src[0]), count);
    for (uint32_t i = 1; s->own && i < op->n_in; i++) {
        if (s->fre[i] >= 0)
            nas__prim_run(op->dev, &op->prim[s->fre[i]]);
        nas__k_add(d, nas__tensor_data(s->fre[i] >= 0 ? s->tmp[i] : op->src[i]), count);
    }
}

static void sum_backward(nas__op_t *op)
{
    sum_op_t *s = (sum_op_t *)op;
    for (uint32_t i = 0; i < op->n_in; i++) {
        if (!op->dsrc[i])
            continue;
        if (s->bwd[i] >= 0)
            nas__prim_run(op->dev, &op->prim[s->bwd[i]]);
        else
            nas__k_copy(nas__tensor_data(op->dsrc[i]), nas__tensor_data(op->ddst), nas__tensor_bytes(op->ddst) / 4);
    }
}

static nas_status_t sum_set_grads(nas__op_t *op, char *err)
{
    sum_op_t *s = (sum_op_t *)op;
    for (uint32_t i = 0; i < op->n_in; i++) {
        if (!op->dsrc[i] || nas__tensor_same_layout(op->dsrc[i], op->ddst))
            continue;
        if (s->bwd[i] < 0) {
            uint32_t idx;
            nas_status_t st = nas__op_new_reorder(op, &op->ddst->md, &op->dsrc[i]->md, &idx, err);
            if (st != NAS_OK)
                return st;
            s->bwd[i] = (int32_t)idx;
            op->reorders++;
        }
        nas__prim_t *p = &op->prim[s->bwd[i]];
        nas__prim_reset_args(p);
        nas__prim_arg(p, DNNL_ARG_FROM, op->ddst);
        nas__prim_arg(p, DNNL_ARG_TO, op->dsrc[i]);
    }
    return NAS_OK;
}

static const nas__op_vt_t sum_vt = { "sum", sum_forward, sum_backward, sum_set_grads, NULL };

static nas_status_t md_array(nas__dev_t *dev, uint32_t n, nas__tensor_t *const *srcs, dnnl_memory_desc_t **out,
                             char *err)
{
    *out = nas__calloc(dev->ctx, n, sizeof **out);
    if (!*out)
        return nas__fail(err, NAS_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++)
        (*out)[i] = srcs[i]->md;
    return NAS_OK;
}

nas_status_t nas__op_sum_create(nas__op_t **out, nas__dev_t *dev, uint32_t n, nas__tensor_t *const *srcs,
                                const nas__op_cfg_t *cfg, char *err)
{
    *out = NULL;
    if (n < 1 || n > JOIN_MAX_IN)
        return nas__fail(err, NAS_E_UNSUPPORTED, "sum: %u inputs (1 to %d supported)", n, JOIN_MAX_IN);
    sum_op_t *s;
    nas__op_cfg_t cf = cfg ? *cfg : (nas__op_cfg_t){ 0 };
    nas_status_t st = nas__op_alloc((nas__op_t **)&s, dev, sizeof *s, &sum_vt, n, srcs, &cf, err);
    if (st != NAS_OK)
        return st;
    nas__op_t *op = &s->base;
    s->fwd = -1;
    for (uint32_t i = 0; i < JOIN_MAX_IN; i++)
        s->bwd[i] = s->fre[i] = -1;
    dnnl_memory_desc_t *mds = NULL;
    dnnl_primitive_attr_t attr = NULL;
    if ((st = nas__op_new_dst(op, &srcs[0]->md, err)) != NAS_OK)
        goto fail;
    if (n > 1) {
        float scales[JOIN_MAX_IN];
        for (uint32_t i = 0; i < n; i++)
            scales[i] = 1.0f;
        if ((st = md_array(dev, n, srcs, &mds, err)) != NAS_OK || (st = nas__attr_user_scratchpad(&attr, err)) != NAS_OK)
            goto fail;
        dnnl_primitive_desc_t pd;
        dnnl_status_t ds = dnnl_sum_primitive_desc_create(&pd, &srcs[0]->md, (int)n, scales, mds, attr, dev->engine);
        if (ds != dnnl_success) {
            st = nas__dnnl_fail(err, ds, "sum");
            goto fail;
        }
        /* oneDNN 2.6 sums blocked layouts with padded channels (24, 40, 8 ... in nChw16c), and inputs
         * in different layouts, on its reference kernel. In the output's layout the sum is a plain
         * add over whole buffers (the padding is zero in all of them, so it stays zero); an input
         * in another layout is reordered into it first (counted as an in-step reorder), as long
         * as the op's primitives suffice (backward reorders of the gradients come on top). */
        uint32_t other = 0;
        for (uint32_t i = 1; i < n; i++)
            other += !dnnl_memory_desc_equal(&srcs[i]->md, &srcs[0]->md);
        if (strncmp(nas__pd_impl(pd), "ref", 3) == 0 && 2 * other <= OP_MAX_PRIMS - 1) {
            dnnl_primitive_desc_destroy(pd);
            s->own = true;
            for (uint32_t i = 1; i < n && st == NAS_OK; i++) {
                if (dnnl_memory_desc_equal(&srcs[i]->md, &srcs[0]->md))
                    continue;
                uint32_t idx;
                if ((st = nas__op_new_buf(op, &srcs[0]->md, &s->tmp[i], err)) == NAS_OK &&
                    (st = nas__op_new_reorder(op, &srcs[i]->md, &srcs[0]->md, &idx, err)) == NAS_OK) {
                    s->fre[i] = (int32_t)idx;
                    nas__prim_reset_args(&op->prim[idx]);
                    nas__prim_arg(&op->prim[idx], DNNL_ARG_FROM, srcs[i]);
                    nas__prim_arg(&op->prim[idx], DNNL_ARG_TO, s->tmp[i]);
                    op->reorders++;
                }
            }
            if (st != NAS_OK)
                goto fail;
            nas__free(dev->ctx, mds);
            dnnl_primitive_attr_destroy(attr);
            *out = op;
            return NAS_OK;
        }
        uint32_t idx;
        if ((st = nas__op_new_prim(op, pd, &idx, err)) != NAS_OK)
            goto fail;
        s->fwd = (int32_t)idx;
        nas__prim_t *p = &op->prim[idx];
        nas__prim_reset_args(p);
        for (uint32_t i = 0; i < n; i++)
            nas__prim_arg(p, DNNL_ARG_MULTIPLE_SRC + (int)i, srcs[i]);
        nas__prim_arg(p, DNNL_ARG_DST, op->dst);
    }
    nas__free(dev->ctx, mds);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    *out = op;
    return NAS_OK;
fail:
    nas__free(dev->ctx, mds);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    nas__op_destroy(op);
    return st;
}

/* ---- concat ---- */

typedef struct cat_op {
    nas__op_t base;
    int32_t fwd;
    lay_t dl;
    lay_t sl[JOIN_MAX_IN];
    int64_t coff[JOIN_MAX_IN];
} cat_op_t;

static void cat_forward(nas__op_t *op, bool train)
{
    (void)train;
    nas__prim_run(op->dev, &op->prim[((cat_op_t *)op)->fwd]);
}

static void cat_backward(nas__op_t *op)
{
    cat_op_t *c = (cat_op_t *)op;
    for (uint32_t i = 0; i < op->n_in; i++) {
        if (!op->dsrc[i])
            continue;
        const dnnl_memory_desc_t *md = &op->src[i]->md;
        int64_t ext[4] = { md->dims[0], md->dims[1], md->dims[2], md->dims[3] };
        int64_t zero[4] = { 0, 0, 0, 0 }, off[4] = { 0, c->coff[i], 0, 0 };
        region_copy(&c->sl[i], nas__tensor_data(op->dsrc[i]), zero, &c->dl, nas__tensor_data(op->ddst), off, ext);
    }
}

static const nas__op_vt_t cat_vt = { "concat", cat_forward, cat_backward, NULL, NULL };

nas_status_t nas__op_concat_create(nas__op_t **out, nas__dev_t *dev, uint32_t n, nas__tensor_t *const *srcs,
                                   const nas__op_cfg_t *cfg, char *err)
{
    *out = NULL;
    if (n < 1 || n > JOIN_MAX_IN)
        return nas__fail(err, NAS_E_UNSUPPORTED, "concat: %u inputs (1 to %d supported)", n, JOIN_MAX_IN);
    for (uint32_t i = 0; i < n; i++)
        if (srcs[i]->md.ndims != 4)
            return nas__fail(err, NAS_E_INVAL, "concat: inputs must be 4-D");
    cat_op_t *c;
    nas__op_cfg_t cf = cfg ? *cfg : (nas__op_cfg_t){ 0 };
    nas_status_t st = nas__op_alloc((nas__op_t **)&c, dev, sizeof *c, &cat_vt, n, srcs, &cf, err);
    if (st != NAS_OK)
        return st;
    nas__op_t *op = &c->base;
    c->fwd = -1;
    dnnl_memory_desc_t *mds = NULL;
    dnnl_primitive_attr_t attr = NULL;
    if ((st = md_array(dev, n, srcs, &mds, err)) != NAS_OK || (st = nas__attr_user_scratchpad(&attr, err)) != NAS_OK)
        goto fail;
    /* Keep the inputs' layout for the output when they share one (else the network after a concat of
     * padded blocks would fall back to plain layouts); otherwise let oneDNN choose. */
    dnnl_primitive_desc_t pd = NULL;
    dnnl_memory_desc_t want;
    int64_t dims[4] = { srcs[0]->md.dims[0], 0, srcs[0]->md.dims[2], srcs[0]->md.dims[3] };
    bool same = true;
    for (uint32_t i = 0; i < n; i++) {
        dims[1] += srcs[i]->md.dims[1];
        dnnl_memory_desc_t a, b;
        same = same && nas__md_like(&a, &srcs[i]->md, 4, srcs[0]->md.dims, err) == NAS_OK &&
               nas__md_like(&b, &srcs[0]->md, 4, srcs[0]->md.dims, err) == NAS_OK && dnnl_memory_desc_equal(&a, &b);
    }
    dnnl_status_t ds = dnnl_unimplemented;
    if (same && nas__md_like(&want, &srcs[0]->md, 4, dims, err) == NAS_OK)
        ds = dnnl_concat_primitive_desc_create(&pd, &want, (int)n, 1, mds, attr, dev->engine);
    if (ds != dnnl_success)
        ds = dnnl_concat_primitive_desc_create(&pd, NULL, (int)n, 1, mds, attr, dev->engine);
    if (ds != dnnl_success) {
        st = nas__dnnl_fail(err, ds, "concat");
        goto fail;
    }
    uint32_t idx;
    if ((st = nas__op_new_prim(op, pd, &idx, err)) != NAS_OK)
        goto fail;
    c->fwd = (int32_t)idx;
    if ((st = nas__op_new_dst(op, dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), err)) != NAS_OK)
        goto fail;
    nas__prim_t *p = &op->prim[idx];
    nas__prim_reset_args(p);
    for (uint32_t i = 0; i < n; i++)
        nas__prim_arg(p, DNNL_ARG_MULTIPLE_SRC + (int)i, srcs[i]);
    nas__prim_arg(p, DNNL_ARG_DST, op->dst);
    bool ok = lay_init(&c->dl, &op->dst->md);
    int64_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        ok = ok && lay_init(&c->sl[i], &srcs[i]->md);
        c->coff[i] = off;
        off += srcs[i]->md.dims[1];
    }
    if (!ok && op->train) {
        st = nas__fail(err, NAS_E_UNSUPPORTED, "concat: backward needs blocked layouts with one block per dim");
        goto fail;
    }
    nas__free(dev->ctx, mds);
    dnnl_primitive_attr_destroy(attr);
    *out = op;
    return NAS_OK;
fail:
    nas__free(dev->ctx, mds);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    nas__op_destroy(op);
    return st;
}

/* ---- crop ---- */

typedef struct crop_op {
    nas__op_t base;
    lay_t sl, dl;
    int64_t top, left;
} crop_op_t;

static void crop_forward(nas__op_t *op, bool train)
{
    (void)train;
    crop_op_t *c = (crop_op_t *)op;
    const dnnl_memory_desc_t *md = &op->dst->md;
    int64_t ext[4] = { md->dims[0], md->dims[1], md->dims[2], md->dims[3] };
    int64_t zero[4] = { 0, 0, 0, 0 }, off[4] = { 0, 0, c->top, c->left };
    region_copy(&c->dl, nas__tensor_data(op->dst), zero, &c->sl, nas__tensor_data(op->src[0]), off, ext);
}

static void crop_backward(nas__op_t *op)
{
    crop_op_t *c = (crop_op_t *)op;
    if (!op->dsrc[0])
        return;
    const dnnl_memory_desc_t *md = &op->dst->md;
    int64_t ext[4] = { md->dims[0], md->dims[1], md->dims[2], md->dims[3] };
    int64_t zero[4] = { 0, 0, 0, 0 }, off[4] = { 0, 0, c->top, c->left };
    nas__k_zero(nas__tensor_data(op->dsrc[0]), nas__tensor_bytes(op->dsrc[0]) / 4);
    region_copy(&c->sl, nas__tensor_data(op->dsrc[0]), off, &c->dl, nas__tensor_data(op->ddst), zero, ext);
}

static const nas__op_vt_t crop_vt = { "crop", crop_forward, crop_backward, NULL, NULL };

static nas_status_t like_or_plain(dnnl_memory_desc_t *out, const dnnl_memory_desc_t *like, const int64_t *dims,
                                  char *err)
{
    if (nas__md_like(out, like, 4, dims, err) == NAS_OK)
        return NAS_OK;
    DNNL_TRY(dnnl_memory_desc_init_by_tag(out, 4, dims, dnnl_f32, dnnl_nchw), "memory desc");
    return NAS_OK;
}

nas_status_t nas__op_crop_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, int32_t top, int32_t left,
                                 int32_t h, int32_t w, const nas__op_cfg_t *cfg, char *err)
{
    *out = NULL;
    const dnnl_memory_desc_t *smd = &src->md;
    if (smd->ndims != 4 || top < 0 || left < 0 || h < 1 || w < 1 || top + h > smd->dims[2] ||
        left + w > smd->dims[3])
        return nas__fail(err, NAS_E_INVAL, "crop: window outside the input");
    crop_op_t *c;
    nas__op_cfg_t cf = cfg ? *cfg : (nas__op_cfg_t){ 0 };
    nas_status_t st = nas__op_alloc((nas__op_t **)&c, dev, sizeof *c, &crop_vt, 1, &src, &cf, err);
    if (st != NAS_OK)
        return st;
    nas__op_t *op = &c->base;
    c->top = top;
    c->left = left;
    int64_t dims[4] = { smd->dims[0], smd->dims[1], h, w };
    dnnl_memory_desc_t dmd;
    if ((st = like_or_plain(&dmd, smd, dims, err)) != NAS_OK || (st = nas__op_new_dst(op, &dmd, err)) != NAS_OK)
        goto fail;
    if (!lay_init(&c->sl, smd) || !lay_init(&c->dl, &dmd)) {
        st = nas__fail(err, NAS_E_UNSUPPORTED, "crop: needs blocked layouts with one block per dim");
        goto fail;
    }
    *out = op;
    return NAS_OK;
fail:
    nas__op_destroy(op);
    return st;
}

/* ---- zero ---- */

static void zero_forward(nas__op_t *op, bool train)
{
    (void)train;
    nas__k_zero(nas__tensor_data(op->dst), nas__tensor_bytes(op->dst) / 4);
}

static void zero_backward(nas__op_t *op)
{
    if (op->dsrc[0])
        nas__k_zero(nas__tensor_data(op->dsrc[0]), nas__tensor_bytes(op->dsrc[0]) / 4);
}

static const nas__op_vt_t zero_vt = { "zero", zero_forward, zero_backward, NULL, NULL };

nas_status_t nas__op_zero_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, int32_t stride,
                                 const nas__op_cfg_t *cfg, char *err)
{
    *out = NULL;
    const dnnl_memory_desc_t *smd = &src->md;
    if (stride < 1 || (smd->ndims != 4 && stride != 1))
        return nas__fail(err, NAS_E_INVAL, "zero: bad stride");
    nas__op_t *op;
    nas__op_cfg_t cf = cfg ? *cfg : (nas__op_cfg_t){ 0 };
    nas_status_t st = nas__op_alloc(&op, dev, sizeof *op, &zero_vt, 1, &src, &cf, err);
    if (st != NAS_OK)
        return st;
    dnnl_memory_desc_t dmd = *smd;
    if (smd->ndims == 4 && stride > 1) {
        int64_t dims[4] = { smd->dims[0], smd->dims[1], (smd->dims[2] - 1) / stride + 1,
                            (smd->dims[3] - 1) / stride + 1 };
        if ((st = like_or_plain(&dmd, smd, dims, err)) != NAS_OK)
            goto fail;
    }
    if ((st = nas__op_new_dst(op, &dmd, err)) != NAS_OK)
        goto fail;
    *out = op;
    return NAS_OK;
fail:
    nas__op_destroy(op);
    return st;
}

/* ---- layout reorder ---- */

typedef struct reo_op {
    nas__op_t base;
    int32_t fwd, bwd;
} reo_op_t;

static void reo_forward(nas__op_t *op, bool train)
{
    (void)train;
    nas__prim_run(op->dev, &op->prim[((reo_op_t *)op)->fwd]);
}

static void reo_backward(nas__op_t *op)
{
    reo_op_t *r = (reo_op_t *)op;
    if (r->bwd >= 0 && op->dsrc[0])
        nas__prim_run(op->dev, &op->prim[r->bwd]);
}

static nas_status_t reo_set_grads(nas__op_t *op, char *err)
{
    reo_op_t *r = (reo_op_t *)op;
    (void)err;
    if (r->bwd < 0 || !op->dsrc[0])
        return NAS_OK;
    nas__prim_t *p = &op->prim[r->bwd];
    nas__prim_reset_args(p);
    nas__prim_arg(p, DNNL_ARG_FROM, op->ddst);
    nas__prim_arg(p, DNNL_ARG_TO, op->dsrc[0]);
    return NAS_OK;
}

static const nas__op_vt_t reo_vt = { "reorder", reo_forward, reo_backward, reo_set_grads, NULL };

nas_status_t nas__op_reorder_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, const nas__tensor_t *like,
                                    const nas__op_cfg_t *cfg, char *err)
{
    *out = NULL;
    if (src->md.ndims != like->md.ndims || memcmp(src->md.dims, like->md.dims, sizeof(int64_t) * src->md.ndims))
        return nas__fail(err, NAS_E_INVAL, "reorder: shapes differ");
    reo_op_t *r;
    nas__op_cfg_t cf = cfg ? *cfg : (nas__op_cfg_t){ 0 };
    nas_status_t st = nas__op_alloc((nas__op_t **)&r, dev, sizeof *r, &reo_vt, 1, &src, &cf, err);
    if (st != NAS_OK)
        return st;
    nas__op_t *op = &r->base;
    r->fwd = r->bwd = -1;
    uint32_t idx;
    if ((st = nas__op_new_dst(op, &like->md, err)) != NAS_OK ||
        (st = nas__op_new_reorder(op, &src->md, &like->md, &idx, err)) != NAS_OK)
        goto fail;
    r->fwd = (int32_t)idx;
    nas__prim_reset_args(&op->prim[idx]);
    nas__prim_arg(&op->prim[idx], DNNL_ARG_FROM, src);
    nas__prim_arg(&op->prim[idx], DNNL_ARG_TO, op->dst);
    op->reorders++;
    if (op->need[0]) {
        if ((st = nas__op_new_reorder(op, &like->md, &src->md, &idx, err)) != NAS_OK)
            goto fail;
        r->bwd = (int32_t)idx;
        op->reorders++;
    }
    *out = op;
    return NAS_OK;
fail:
    nas__op_destroy(op);
    return st;
}
