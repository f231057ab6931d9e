/* Pooling: max (with workspace), average excluding padding, global average over the full plane. */
#include "dnnl/priv.h"

typedef struct pool_op {
    nas__fb_op_t fb;        /* first: the op is an nas__fb_op_t */
    nas__tensor_t *ws;
} pool_op_t;

static nas_status_t pool_set_grads(nas__op_t *op, char *err)
{
    pool_op_t *q = (pool_op_t *)op;
    (void)err;
    if (q->fb.bwd < 0 || !op->dsrc[0])
        return NAS_OK;
    nas__prim_t *p = &op->prim[q->fb.bwd];
    nas__prim_reset_args(p);
    nas__prim_arg(p, DNNL_ARG_DIFF_DST, op->ddst);
    nas__prim_arg(p, DNNL_ARG_DIFF_SRC, op->dsrc[0]);
    if (q->ws)
        nas__prim_arg(p, DNNL_ARG_WORKSPACE, q->ws);
    return NAS_OK;
}

static const nas__op_vt_t pool_vt = { "pool", nas__fb_forward, nas__fb_backward, pool_set_grads, NULL };

nas_status_t nas__op_pool_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, nas__pool_kind_t kind,
                                 int32_t k, int32_t stride, int32_t pad, const nas__op_cfg_t *cfg, char *err)
{
    *out = NULL;
    const dnnl_memory_desc_t *smd = &src->md;
    if (smd->ndims != 4)
        return nas__fail(err, NAS_E_INVAL, "pool: input must be 4-D");
    int64_t n = smd->dims[0], c = smd->dims[1], ih = smd->dims[2], iw = smd->dims[3];
    dnnl_dims_t ker, str, dil = { 0, 0 }, pl, pr;
    if (kind == NAS__POOL_GAP) {
        ker[0] = ih;
        ker[1] = iw;
        str[0] = str[1] = 1;
        pl[0] = pl[1] = pr[0] = pr[1] = 0;
    } else {
        if (k < 1 || stride < 1 || pad < 0 || pad > k / 2)
            return nas__fail(err, NAS_E_INVAL, "pool: bad attributes");
        ker[0] = ker[1] = k;
        str[0] = str[1] = stride;
        pl[0] = pl[1] = pad;
    }
    int64_t oh = (ih + 2 * pl[0] - ker[0]) / str[0] + 1, ow = (iw + 2 * pl[1] - ker[1]) / str[1] + 1;
    if (oh < 1 || ow < 1)
        return nas__fail(err, NAS_E_INVAL, "pool: kernel does not fit");
    if (kind != NAS__POOL_GAP) {
        int64_t a = (oh - 1) * str[0] + ker[0] - ih - pl[0], b = (ow - 1) * str[1] + ker[1] - iw - pl[1];
        pr[0] = a > 0 ? a : 0;
        pr[1] = b > 0 ? b : 0;
    }
    dnnl_alg_kind_t alg = kind == NAS__POOL_MAX ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding;

    pool_op_t *q;
    nas__op_cfg_t cf = cfg ? *cfg : (nas__op_cfg_t){ 0 };
    nas_status_t st = nas__op_alloc((nas__op_t **)&q, dev, sizeof *q, &pool_vt, 1, &src, &cf, err);
    if (st != NAS_OK)
        return st;
    nas__op_t *op = &q->fb.base;
    q->fb.fwd = q->fb.bwd = -1;
    dnnl_memory_desc_t dst_any;
    dnnl_dims_t dd = { n, c, oh, ow };
    dnnl_pooling_v2_desc_t d;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL, bpd = NULL;
    uint32_t idx;
    dnnl_status_t s = dnnl_memory_desc_init_by_tag(&dst_any, 4, dd, dnnl_f32, dnnl_format_tag_any);
    if (s == dnnl_success)
        s = dnnl_pooling_v2_forward_desc_init(&d, op->train ? dnnl_forward_training : dnnl_forward_inference, alg,
                                              smd, &dst_any, str, ker, dil, pl, pr);
    if ((st = nas__attr_user_scratchpad(&attr, err)) != NAS_OK)
        goto fail;
    if (s == dnnl_success)
        s = dnnl_primitive_desc_create(&pd, &d, attr, dev->engine, NULL);
    if (s != dnnl_success) {
        st = nas__dnnl_fail(err, s, "pooling forward");
        goto fail;
    }
    if ((st = nas__op_new_prim(op, pd, &idx, err)) != NAS_OK)
        goto fail;
    q->fb.fwd = (int32_t)idx;
    const dnnl_memory_desc_t *dmd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    if ((st = nas__op_new_dst(op, dmd, err)) != NAS_OK)
        goto fail;
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_workspace_md, 0);
    if (op->train && wmd && dnnl_memory_desc_get_size(wmd) > 0 && (st = nas__op_new_buf(op, wmd, &q->ws, err)) != NAS_OK)
        goto fail;
    nas__prim_t *p = &op->prim[q->fb.fwd];
    nas__prim_reset_args(p);
    nas__prim_arg(p, DNNL_ARG_SRC, src);
    nas__prim_arg(p, DNNL_ARG_DST, op->dst);
    if (q->ws)
        nas__prim_arg(p, DNNL_ARG_WORKSPACE, q->ws);
    if (op->need[0]) {
        s = dnnl_pooling_v2_backward_desc_init(&d, alg, smd, dmd, str, ker, dil, pl, pr);
        if (s == dnnl_success)
            s = dnnl_primitive_desc_create(&bpd, &d, attr, dev->engine, pd);
        if (s != dnnl_success) {
            st = nas__dnnl_fail(err, s, "pooling backward");
            goto fail;
        }
        if ((st = nas__op_new_prim(op, bpd, &idx, err)) != NAS_OK)
            goto fail;
        q->fb.bwd = (int32_t)idx;
    }
    dnnl_primitive_attr_destroy(attr);
    *out = op;
    return NAS_OK;
fail:
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    nas__op_destroy(op);
    return st;
}
