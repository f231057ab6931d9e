/* Elementwise activations: ReLU, ReLU6 (clip to [0, 6]), hard swish. */
#include "dnnl/priv.h"

typedef nas__fb_op_t elt_op_t;

static nas_status_t elt_set_grads(nas__op_t *op, char *err)
{
    elt_op_t *e = (elt_op_t *)op;
    (void)err;
    if (e->bwd < 0 || !op->dsrc[0])
        return NAS_OK;
    nas__prim_t *p = &op->prim[e->bwd];
    nas__prim_reset_args(p);
    nas__prim_arg(p, DNNL_ARG_SRC, op->src[0]);
    nas__prim_arg(p, DNNL_ARG_DIFF_DST, op->ddst);
    nas__prim_arg(p, DNNL_ARG_DIFF_SRC, op->dsrc[0]);
    return NAS_OK;
}

static const nas__op_vt_t elt_vt = { "eltwise", nas__fb_forward, nas__fb_backward, elt_set_grads, NULL };

nas_status_t nas__op_eltwise_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, nas__eltwise_kind_t kind,
                                    const nas__op_cfg_t *cfg, char *err)
{
    *out = NULL;
    dnnl_alg_kind_t alg;
    float alpha = 0.0f, beta = 0.0f;
    switch (kind) {
    case NAS__ELTWISE_RELU: alg = dnnl_eltwise_relu; break;
    case NAS__ELTWISE_RELU6: alg = dnnl_eltwise_clip_v2; beta = 6.0f; break;
    case NAS__ELTWISE_HSWISH: alg = dnnl_eltwise_hardswish; break;
    default: return nas__fail(err, NAS_E_INVAL, "eltwise: unknown kind %d", (int)kind);
    }
    elt_op_t *e;
    nas__op_cfg_t cf = cfg ? *cfg : (nas__op_cfg_t){ 0 };
    nas_status_t st = nas__op_alloc((nas__op_t **)&e, dev, sizeof *e, &elt_vt, 1, &src, &cf, err);
    if (st != NAS_OK)
        return st;
    nas__op_t *op = &e->base;
    e->fwd = e->bwd = -1;
    dnnl_eltwise_desc_t d;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL, bpd = NULL;
    uint32_t idx;
    dnnl_status_t s = dnnl_eltwise_forward_desc_init(&d, op->train ? dnnl_forward_training : dnnl_forward_inference,
                                                     alg, &src->md, alpha, beta);
    if ((st = nas__attr_user_scratchpad(&attr, err)) != NAS_OK)
        goto fail;
    if (s == dnnl_success)
        s = dnnl_primitive_desc_create(&pd, &d, attr, dev->engine, NULL);
    if (s != dnnl_success) {
        st = nas__dnnl_fail(err, s, "eltwise forward");
        goto fail;
    }
    if ((st = nas__op_new_prim(op, pd, &idx, err)) != NAS_OK)
        goto fail;
    e->fwd = (int32_t)idx;
    if ((st = nas__op_new_dst(op, dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), err)) != NAS_OK)
        goto fail;
    nas__prim_t *p = &op->prim[e->fwd];
    nas__prim_reset_args(p);
    nas__prim_arg(p, DNNL_ARG_SRC, src);
    nas__prim_arg(p, DNNL_ARG_DST, op->dst);
    if (op->need[0]) {
        s = dnnl_eltwise_backward_desc_init(&d, alg, &op->dst->md, &src->md, alpha, beta);
        if (s == dnnl_success)
            s = dnnl_primitive_desc_create(&bpd, &d, attr, dev->engine, pd);
        if (s != dnnl_success) {
            st = nas__dnnl_fail(err, s, "eltwise backward");
            goto fail;
        }
        if ((st = nas__op_new_prim(op, bpd, &idx, err)) != NAS_OK)
            goto fail;
        e->bwd = (int32_t)idx;
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
