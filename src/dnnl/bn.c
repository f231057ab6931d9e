/* Batch normalization: training with batch statistics and running averages, inference with the
 * running statistics; optional fused ReLU (dnnl_fuse_norm_relu). */
#include "dnnl/priv.h"

typedef struct bn_op {
    nas__op_t base;
    int32_t fwd_train, fwd_infer, bwd; /* primitive indices or -1 */
    nas__tensor_t *mean, *var, *ws;    /* batch statistics, fused-ReLU workspace (buffers) */
    nas__tensor_t *dummy_dsrc;         /* when no input gradient is wanted oneDNN still writes one */
    int64_t count;                     /* N*H*W: values per channel */
    int64_t channels;
    float momentum;                    /* of the running averages (NAS__BN_MOMENTUM) */
} bn_op_t;

static void bn_forward(nas__op_t *op, bool train)
{
    bn_op_t *b = (bn_op_t *)op;
    if (!train || b->fwd_train < 0) {
        nas__prim_run(op->dev, &op->prim[b->fwd_infer]);
        return;
    }
    nas__prim_run(op->dev, &op->prim[b->fwd_train]);
    /* Running averages as PyTorch keeps them: unbiased variance, momentum 0.1 by default. */
    float *rm = nas__tensor_data(op->stat[0]), *rv = nas__tensor_data(op->stat[1]);
    const float *m = nas__tensor_data(b->mean), *v = nas__tensor_data(b->var);
    float mo = b->momentum;
    float unbias = b->count > 1 ? (float)b->count / (float)(b->count - 1) : 1.0f;
    for (int64_t c = 0; c < b->channels; c++) {
        rm[c] = (1.0f - mo) * rm[c] + mo * m[c];
        rv[c] = (1.0f - mo) * rv[c] + mo * v[c] * unbias;
    }
}

static void bn_backward(nas__op_t *op)
{
    bn_op_t *b = (bn_op_t *)op;
    nas__prim_run(op->dev, &op->prim[b->bwd]);
}

static nas_status_t bn_set_grads(nas__op_t *op, char *err)
{
    bn_op_t *b = (bn_op_t *)op;
    (void)err;
    nas__prim_t *p = &op->prim[b->bwd];
    nas__prim_reset_args(p);
    nas__prim_arg(p, DNNL_ARG_SRC, op->src[0]);
    nas__prim_arg(p, DNNL_ARG_MEAN, b->mean);
    nas__prim_arg(p, DNNL_ARG_VARIANCE, b->var);
    nas__prim_arg(p, DNNL_ARG_SCALE, op->param[0]);
    nas__prim_arg(p, DNNL_ARG_SHIFT, op->param[1]);
    nas__prim_arg(p, DNNL_ARG_DIFF_DST, op->ddst);
    nas__prim_arg(p, DNNL_ARG_DIFF_SRC, op->dsrc[0] ? op->dsrc[0] : b->dummy_dsrc);
    nas__prim_arg(p, DNNL_ARG_DIFF_SCALE, op->dparam[0]);
    nas__prim_arg(p, DNNL_ARG_DIFF_SHIFT, op->dparam[1]);
    if (b->ws)
        nas__prim_arg(p, DNNL_ARG_WORKSPACE, b->ws);
    return NAS_OK;
}

static const nas__op_vt_t bn_vt = { "bn", bn_forward, bn_backward, bn_set_grads, NULL };

void nas__op_bn_set_momentum(nas__op_t *op, float momentum)
{
    if (op && op->vt == &bn_vt)
        ((bn_op_t *)op)->momentum = momentum;
}

static nas_status_t make_pd(dnnl_primitive_desc_t *pd, nas__dev_t *dev, dnnl_prop_kind_t prop,
                            const dnnl_memory_desc_t *md, unsigned flags, const_dnnl_primitive_desc_t hint, char *err)
{
    dnnl_batch_normalization_desc_t d;
    if (prop == dnnl_backward)
        DNNL_TRY(dnnl_batch_normalization_backward_desc_init(&d, prop, md, md, NAS__BN_EPS, flags),
                 "batch norm backward descriptor");
    else
        DNNL_TRY(dnnl_batch_normalization_forward_desc_init(&d, prop, md, NAS__BN_EPS, flags),
                 "batch norm forward descriptor");
    dnnl_primitive_attr_t attr;
    nas_status_t st = nas__attr_user_scratchpad(&attr, err);
    if (st != NAS_OK)
        return st;
    dnnl_status_t s = dnnl_primitive_desc_create(pd, &d, attr, dev->engine, hint);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success)
        return nas__dnnl_fail(err, s, "batch norm");
    return NAS_OK;
}

nas_status_t nas__op_bn_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, bool fuse_relu,
                               const nas__op_cfg_t *cfg, char *err)
{
    *out = NULL;
    const dnnl_memory_desc_t *md = &src->md;
    if (md->ndims != 4 && md->ndims != 2)
        return nas__fail(err, NAS_E_INVAL, "bn: input must be 2-D or 4-D");
    bn_op_t *b;
    nas__op_cfg_t cf = cfg ? *cfg : (nas__op_cfg_t){ 0 };
    nas_status_t st = nas__op_alloc((nas__op_t **)&b, dev, sizeof *b, &bn_vt, 1, &src, &cf, err);
    if (st != NAS_OK)
        return st;
    nas__op_t *op = &b->base;
    b->fwd_train = b->fwd_infer = b->bwd = -1;
    b->channels = md->dims[1];
    b->momentum = NAS__BN_MOMENTUM;
    b->count = md->dims[0] * (md->ndims == 4 ? md->dims[2] * md->dims[3] : 1);
    unsigned base = dnnl_use_scale | dnnl_use_shift | (fuse_relu ? dnnl_fuse_norm_relu : 0);

    dnnl_memory_desc_t cmd;
    dnnl_dims_t cd = { b->channels };
    dnnl_primitive_desc_t pd_train = NULL, pd_inf = NULL, pd_bwd = NULL;
    uint32_t idx;
    if (dnnl_memory_desc_init_by_tag(&cmd, 1, cd, dnnl_f32, dnnl_x) != dnnl_success) {
        st = nas__fail(err, NAS_E_INTERNAL, "bn: channel desc");
        goto fail;
    }
    if ((st = make_pd(&pd_inf, dev, dnnl_forward_inference, md, base | dnnl_use_global_stats, NULL, err)) != NAS_OK)
        goto fail;
    if ((st = nas__op_new_prim(op, pd_inf, &idx, err)) != NAS_OK)
        goto fail;
    b->fwd_infer = (int32_t)idx;
    if ((st = nas__op_new_dst(op, dnnl_primitive_desc_query_md(pd_inf, dnnl_query_dst_md, 0), err)) != NAS_OK)
        goto fail;
    nas__param_info_t si = { NAS__PARAM_SCALE, false, b->channels, 1, 1 };
    nas__param_info_t hi = { NAS__PARAM_SHIFT, false, b->channels, 1, 1 };
    if ((st = nas__op_new_param(op, &cmd, &si, err)) != NAS_OK || (st = nas__op_new_param(op, &cmd, &hi, err)) != NAS_OK)
        goto fail;
    for (int i = 0; i < 2; i++) {
        if ((st = nas__tensor_new(&op->stat[i], dev, &cmd, err)) != NAS_OK)
            goto fail;
        op->n_stat++;
    }
    nas__prim_t *p = &op->prim[b->fwd_infer];
    nas__prim_reset_args(p);
    nas__prim_arg(p, DNNL_ARG_SRC, src);
    nas__prim_arg(p, DNNL_ARG_DST, op->dst);
    nas__prim_arg(p, DNNL_ARG_MEAN, op->stat[0]);
    nas__prim_arg(p, DNNL_ARG_VARIANCE, op->stat[1]);
    nas__prim_arg(p, DNNL_ARG_SCALE, op->param[0]);
    nas__prim_arg(p, DNNL_ARG_SHIFT, op->param[1]);

    if (op->train) {
        if ((st = make_pd(&pd_train, dev, dnnl_forward_training, md, base, NULL, err)) != NAS_OK)
            goto fail;
        if ((st = nas__op_new_prim(op, pd_train, &idx, err)) != NAS_OK)
            goto fail;
        b->fwd_train = (int32_t)idx;
        if ((st = nas__op_new_buf(op, &cmd, &b->mean, err)) != NAS_OK ||
            (st = nas__op_new_buf(op, &cmd, &b->var, err)) != NAS_OK)
            goto fail;
        const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd_train, dnnl_query_workspace_md, 0);
        if (fuse_relu && wmd && dnnl_memory_desc_get_size(wmd) > 0 &&
            (st = nas__op_new_buf(op, wmd, &b->ws, err)) != NAS_OK)
            goto fail;
        p = &op->prim[b->fwd_train];
        nas__prim_reset_args(p);
        nas__prim_arg(p, DNNL_ARG_SRC, src);
        nas__prim_arg(p, DNNL_ARG_DST, op->dst);
        nas__prim_arg(p, DNNL_ARG_MEAN, b->mean);
        nas__prim_arg(p, DNNL_ARG_VARIANCE, b->var);
        nas__prim_arg(p, DNNL_ARG_SCALE, op->param[0]);
        nas__prim_arg(p, DNNL_ARG_SHIFT, op->param[1]);
        if (b->ws)
            nas__prim_arg(p, DNNL_ARG_WORKSPACE, b->ws);
        if ((st = make_pd(&pd_bwd, dev, dnnl_backward, md, base, pd_train, err)) != NAS_OK)
            goto fail;
        if ((st = nas__op_new_prim(op, pd_bwd, &idx, err)) != NAS_OK)
            goto fail;
        b->bwd = (int32_t)idx;
        if (!op->need[0] && (st = nas__op_new_buf(op, md, &b->dummy_dsrc, err)) != NAS_OK)
            goto fail;
    }
    *out = op;
    return NAS_OK;
fail:
    nas__op_destroy(op);
    return st;
}
