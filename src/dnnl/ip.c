/* Inner product (fully connected) over C*H*W inputs. */
#include "dnnl/priv.h"

#include <string.h>

typedef struct ip_op {
    nas__op_t base;
    nas__adapter_t ad;
    int32_t fwd, bwd_d, bwd_w;
    bool bias;
} ip_op_t;

static void ip_forward(nas__op_t *op, bool train)
{
    ip_op_t *c = (ip_op_t *)op;
    (void)train;
    nas__adapter_fwd(op, &c->ad);
    nas__prim_run(op->dev, &op->prim[c->fwd]);
}

static void ip_backward(nas__op_t *op)
{
    ip_op_t *c = (ip_op_t *)op;
    nas__prim_run(op->dev, &op->prim[c->bwd_w]);
    if (c->bwd_d >= 0 && op->dsrc[0]) {
        nas__prim_run(op->dev, &op->prim[c->bwd_d]);
        nas__adapter_bwd(op, &c->ad);
    }
}

static nas_status_t ip_set_grads(nas__op_t *op, char *err)
{
    ip_op_t *c = (ip_op_t *)op;
    (void)err;
    nas__prim_t *w = &op->prim[c->bwd_w];
    nas__prim_reset_args(w);
    nas__prim_arg(w, DNNL_ARG_SRC, nas__adapter_src(op, &c->ad, 0));
    nas__prim_arg(w, DNNL_ARG_DIFF_DST, op->ddst);
    nas__prim_arg(w, DNNL_ARG_DIFF_WEIGHTS, op->dparam[0]);
    if (c->bias)
        nas__prim_arg(w, DNNL_ARG_DIFF_BIAS, op->dparam[1]);
    if (c->bwd_d >= 0 && op->dsrc[0]) {
        nas__prim_t *d = &op->prim[c->bwd_d];
        nas__prim_reset_args(d);
        nas__prim_arg(d, DNNL_ARG_DIFF_DST, op->ddst);
        nas__prim_arg(d, DNNL_ARG_WEIGHTS, op->param[0]);
        nas__prim_arg(d, DNNL_ARG_DIFF_SRC, nas__adapter_dsrc(op, &c->ad, 0));
        nas__adapter_bind_grads(op, &c->ad, 0);
    }
    return NAS_OK;
}

static const nas__op_vt_t ip_vt = { "inner_product", ip_forward, ip_backward, ip_set_grads, NULL };

static nas_status_t make_pd(dnnl_primitive_desc_t *pd, nas__dev_t *dev, bool train, const dnnl_memory_desc_t *src,
                            const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *bias,
                            const dnnl_memory_desc_t *dst, char *err)
{
    dnnl_inner_product_desc_t d;
    DNNL_TRY(dnnl_inner_product_forward_desc_init(&d, train ? dnnl_forward_training : dnnl_forward_inference, src,
                                                  wei, bias, dst),
             "inner product forward descriptor");
    dnnl_primitive_attr_t attr;
    nas_status_t st = nas__attr_user_scratchpad(&attr, err);
    if (st != NAS_OK)
        return st;
    dnnl_status_t s = dnnl_primitive_desc_create(pd, &d, attr, dev->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success)
        return nas__dnnl_fail(err, s, "inner product forward");
    return NAS_OK;
}

nas_status_t nas__op_ip_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, int32_t out_features,
                               bool bias, const nas__op_cfg_t *cfg, char *err)
{
    *out = NULL;
    const dnnl_memory_desc_t *smd = &src->md;
    int nd = smd->ndims;
    if ((nd != 2 && nd != 4) || out_features < 1)
        return nas__fail(err, NAS_E_INVAL, "inner product: input must be 2-D or 4-D");
    int64_t n = smd->dims[0], fan_in = 1;
    dnnl_dims_t wd, dd = { n, out_features }, bd = { out_features };
    wd[0] = out_features;
    for (int i = 1; i < nd; i++) {
        wd[i] = smd->dims[i];
        fan_in *= smd->dims[i];
    }
    dnnl_memory_desc_t src_any, wei_any, bias_md, dst_any;
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&src_any, nd, smd->dims, dnnl_f32, dnnl_format_tag_any), "ip src desc");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&wei_any, nd, wd, dnnl_f32, dnnl_format_tag_any), "ip weights desc");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&bias_md, 1, bd, dnnl_f32, dnnl_x), "ip bias desc");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&dst_any, 2, dd, dnnl_f32, dnnl_nc), "ip dst desc");

    ip_op_t *c;
    nas__op_cfg_t cf = cfg ? *cfg : (nas__op_cfg_t){ 0 };
    nas_status_t st = nas__op_alloc((nas__op_t **)&c, dev, sizeof *c, &ip_vt, 1, &src, &cf, err);
    if (st != NAS_OK)
        return st;
    nas__op_t *op = &c->base;
    c->fwd = c->bwd_d = c->bwd_w = -1;
    c->bias = bias;
    c->ad.fwd = c->ad.bwd = -1;
    const dnnl_memory_desc_t *bptr = bias ? &bias_md : NULL;
    dnnl_primitive_desc_t pd = NULL;
    if (cf.like && cf.like->vt == &ip_vt && cf.like->n_param > 0 &&
        make_pd(&pd, dev, op->train, smd, &cf.like->param[0]->md, bptr, &dst_any, err) == NAS_OK &&
        strncmp(nas__pd_impl(pd), "ref", 3) != 0) {
        st = NAS_OK; /* the layouts of the plan we share parameters with */
    } else {
        if (pd)
            dnnl_primitive_desc_destroy(pd);
        pd = NULL;
        st = make_pd(&pd, dev, op->train, smd, &wei_any, bptr, &dst_any, err);
    }
    if (st != NAS_OK || strncmp(nas__pd_impl(pd), "ref", 3) == 0) {
        dnnl_primitive_desc_t pd2 = NULL;
        if (make_pd(&pd2, dev, op->train, &src_any, &wei_any, bptr, &dst_any, err) == NAS_OK) {
            if (pd)
                dnnl_primitive_desc_destroy(pd);
            pd = pd2;
            st = NAS_OK;
        }
    }
    if (st != NAS_OK)
        goto fail;
    uint32_t idx;
    if ((st = nas__op_new_prim(op, pd, &idx, err)) != NAS_OK)
        goto fail;
    c->fwd = (int32_t)idx;
    const dnnl_memory_desc_t *src_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *wei_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    if ((st = nas__adapter_init(op, &c->ad, 0, src_md, err)) != NAS_OK)
        goto fail;
    if ((st = nas__op_new_dst(op, dst_md, err)) != NAS_OK)
        goto fail;
    nas__param_info_t wi = { NAS__PARAM_WEIGHT, true, fan_in * out_features, fan_in, out_features };
    if ((st = nas__op_new_param(op, wei_md, &wi, err)) != NAS_OK)
        goto fail;
    if (bias) {
        nas__param_info_t bi = { NAS__PARAM_BIAS, false, out_features, 1, 1 };
        if ((st = nas__op_new_param(op, &bias_md, &bi, err)) != NAS_OK)
            goto fail;
    }
    nas__prim_t *f = &op->prim[c->fwd];
    nas__prim_reset_args(f);
    nas__prim_arg(f, DNNL_ARG_SRC, nas__adapter_src(op, &c->ad, 0));
    nas__prim_arg(f, DNNL_ARG_WEIGHTS, op->param[0]);
    if (bias)
        nas__prim_arg(f, DNNL_ARG_BIAS, op->param[1]);
    nas__prim_arg(f, DNNL_ARG_DST, op->dst);
    if (op->train) {
        dnnl_primitive_attr_t attr;
        dnnl_inner_product_desc_t d;
        if ((st = nas__attr_user_scratchpad(&attr, err)) != NAS_OK)
            goto fail;
        dnnl_primitive_desc_t bpd = NULL;
        dnnl_status_t s = dnnl_inner_product_backward_weights_desc_init(&d, src_md, wei_md, bptr, dst_md);
        if (s == dnnl_success)
            s = dnnl_primitive_desc_create(&bpd, &d, attr, dev->engine, pd);
        st = s == dnnl_success ? nas__op_new_prim(op, bpd, &idx, err)
                               : nas__dnnl_fail(err, s, "inner product backward weights");
        if (st == NAS_OK)
            c->bwd_w = (int32_t)idx;
        if (st == NAS_OK && op->need[0]) {
            s = dnnl_inner_product_backward_data_desc_init(&d, src_md, wei_md, dst_md);
            if (s == dnnl_success)
                s = dnnl_primitive_desc_create(&bpd, &d, attr, dev->engine, pd);
            st = s == dnnl_success ? nas__op_new_prim(op, bpd, &idx, err)
                                   : nas__dnnl_fail(err, s, "inner product backward data");
            if (st == NAS_OK)
                c->bwd_d = (int32_t)idx;
        }
        dnnl_primitive_attr_destroy(attr);
        if (st != NAS_OK)
            goto fail;
    }
    *out = op;
    return NAS_OK;
fail:
    nas__op_destroy(op);
    return st;
}
