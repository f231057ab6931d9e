/* Convolution: forward, backward data, backward weights; any kernel, stride, dilation, groups.
 * Depthwise backward passes that oneDNN has only reference kernels for run our own (dwconv.c). */
#include "dnnl/priv.h"

#include <string.h>

typedef struct conv_op {
    nas__op_t base;
    nas__adapter_t ad;
    int32_t fwd, bwd_d, bwd_w; /* primitive indices or -1 */
    int32_t wre;               /* weights into the backward-data layout, or -1 */
    nas__tensor_t *wbd;        /* weights in that layout (buffer) */
    int32_t dwre;              /* weight gradient from the backward-weights layout, or -1 */
    nas__tensor_t *dwt;        /* weight gradient in that layout (buffer) */
    bool bias;
    bool dw_ok;                /* depthwise in layouts the own kernels take (then dw is set) */
    bool own_d, own_w;         /* backward data / weights by the own kernels instead of prim[] */
    nas__dw_t dw;
    nas__tensor_t *part;       /* partial sums of the own backward weights (buffer) */
} conv_op_t;

static void conv_forward(nas__op_t *op, bool train)
{
    conv_op_t *c = (conv_op_t *)op;
    (void)train;
    nas__adapter_fwd(op, &c->ad);
    nas__prim_run(op->dev, &op->prim[c->fwd]);
}

static void conv_backward(nas__op_t *op)
{
    conv_op_t *c = (conv_op_t *)op;
    if (c->own_w) {
        nas__dw_bwd_weights(&c->dw, op->dparam[0]->data, c->bias ? op->dparam[1]->data : NULL,
                            nas__adapter_src(op, &c->ad, 0)->data, op->ddst->data, c->part->data);
    } else {
        nas__prim_run(op->dev, &op->prim[c->bwd_w]);
        if (c->dwre >= 0)
            nas__prim_run(op->dev, &op->prim[c->dwre]);
    }
    if ((c->own_d || c->bwd_d >= 0) && op->dsrc[0]) {
        if (c->own_d) {
            nas__dw_bwd_data(&c->dw, nas__adapter_dsrc(op, &c->ad, 0)->data, op->param[0]->data, op->ddst->data);
        } else {
            if (c->wre >= 0)
                nas__prim_run(op->dev, &op->prim[c->wre]);
            nas__prim_run(op->dev, &op->prim[c->bwd_d]);
        }
        nas__adapter_bwd(op, &c->ad);
    }
}

static nas_status_t conv_set_grads(nas__op_t *op, char *err)
{
    conv_op_t *c = (conv_op_t *)op;
    (void)err;
    if (!c->own_w) {
        nas__prim_t *w = &op->prim[c->bwd_w];
        nas__prim_reset_args(w);
        nas__prim_arg(w, DNNL_ARG_SRC, nas__adapter_src(op, &c->ad, 0));
        nas__prim_arg(w, DNNL_ARG_DIFF_DST, op->ddst);
        nas__prim_arg(w, DNNL_ARG_DIFF_WEIGHTS, c->dwt ? c->dwt : op->dparam[0]);
        if (c->bias)
            nas__prim_arg(w, DNNL_ARG_DIFF_BIAS, op->dparam[1]);
    }
    if (c->dwre >= 0) {
        nas__prim_reset_args(&op->prim[c->dwre]);
        nas__prim_arg(&op->prim[c->dwre], DNNL_ARG_FROM, c->dwt);
        nas__prim_arg(&op->prim[c->dwre], DNNL_ARG_TO, op->dparam[0]);
    }
    if (c->own_d && op->dsrc[0])
        nas__adapter_bind_grads(op, &c->ad, 0);
    if (c->bwd_d >= 0 && op->dsrc[0]) {
        nas__prim_t *d = &op->prim[c->bwd_d];
        nas__prim_reset_args(d);
        nas__prim_arg(d, DNNL_ARG_DIFF_DST, op->ddst);
        nas__prim_arg(d, DNNL_ARG_WEIGHTS, c->wbd ? c->wbd : op->param[0]);
        nas__prim_arg(d, DNNL_ARG_DIFF_SRC, nas__adapter_dsrc(op, &c->ad, 0));
        nas__adapter_bind_grads(op, &c->ad, 0);
    }
    return NAS_OK;
}

static const nas__op_vt_t conv_vt = { "conv", conv_forward, conv_backward, conv_set_grads, NULL };
/* The same op with own depthwise backward kernels, named so that describe() tells: by own_d + 2 own_w - 1. */
static const nas__op_vt_t conv_own_vt[3] = {
    { "conv (backward data: own dw kernel)", conv_forward, conv_backward, conv_set_grads, NULL },
    { "conv (backward weights: own dw kernel)", conv_forward, conv_backward, conv_set_grads, NULL },
    { "conv (backward data, weights: own dw kernels)", conv_forward, conv_backward, conv_set_grads, NULL },
};

static bool is_conv(const nas__op_t *op)
{
    return op->vt == &conv_vt || (op->vt >= conv_own_vt && op->vt < conv_own_vt + 3);
}

/* Own kernels instead of a reference backward primitive (pd, destroyed then). */
static bool take_own(conv_op_t *c, dnnl_primitive_desc_t pd)
{
    if (!c->dw_ok || strncmp(nas__pd_impl(pd), "ref", 3) != 0)
        return false;
    dnnl_primitive_desc_destroy(pd);
    return true;
}

typedef struct geom {
    dnnl_dims_t strides, dil, pl, pr;
} geom_t;

static nas_status_t fwd_pd(dnnl_primitive_desc_t *pd, nas__dev_t *dev, bool train, const dnnl_memory_desc_t *src,
                           const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *bias,
                           const dnnl_memory_desc_t *dst, const geom_t *g, char *err)
{
    dnnl_convolution_desc_t d;
    DNNL_TRY(dnnl_dilated_convolution_forward_desc_init(&d, train ? dnnl_forward_training : dnnl_forward_inference,
                                                        dnnl_convolution_direct, src, wei, bias, dst, g->strides,
                                                        g->dil, g->pl, g->pr),
             "convolution forward descriptor");
    dnnl_primitive_attr_t attr;
    nas_status_t st = nas__attr_user_scratchpad(&attr, err);
    if (st != NAS_OK)
        return st;
    dnnl_status_t s = dnnl_primitive_desc_create(pd, &d, attr, dev->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success)
        return nas__dnnl_fail(err, s, "convolution forward");
    return NAS_OK;
}

/* Whether the backward passes of a forward (the data gradient only when need_data) would have
 * optimized kernels, not oneDNN's reference ones. */
static bool bwd_fast(nas__dev_t *dev, const_dnnl_primitive_desc_t fpd, const geom_t *g, bool need_data)
{
    const dnnl_memory_desc_t *src = dnnl_primitive_desc_query_md(fpd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *dst = dnnl_primitive_desc_query_md(fpd, dnnl_query_dst_md, 0);
    const dnnl_memory_desc_t *wei = dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0);
    dnnl_memory_desc_t wany;
    if (dnnl_memory_desc_init_by_tag(&wany, wei->ndims, wei->dims, dnnl_f32, dnnl_format_tag_any) != dnnl_success)
        return false;
    dnnl_convolution_desc_t bd, bw;
    dnnl_primitive_desc_t pd_d = NULL, pd_w = NULL;
    bool fast = dnnl_dilated_convolution_backward_weights_desc_init(&bw, dnnl_convolution_direct, src, &wany, NULL,
                                                                    dst, g->strides, g->dil, g->pl, g->pr) ==
                    dnnl_success &&
                dnnl_primitive_desc_create(&pd_w, &bw, NULL, dev->engine, fpd) == dnnl_success &&
                strncmp(nas__pd_impl(pd_w), "ref", 3) != 0;
    if (fast && need_data)
        fast = dnnl_dilated_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, src, &wany, dst,
                                                                g->strides, g->dil, g->pl, g->pr) == dnnl_success &&
               dnnl_primitive_desc_create(&pd_d, &bd, NULL, dev->engine, fpd) == dnnl_success &&
               strncmp(nas__pd_impl(pd_d), "ref", 3) != 0;
    if (pd_d)
        dnnl_primitive_desc_destroy(pd_d);
    if (pd_w)
        dnnl_primitive_desc_destroy(pd_w);
    return fast;
}

/* Backward data with the forward's activation layouts. oneDNN's direct kernels want the weights
 * with transposed 16x16 blocks here (OIhw16o16i where the forward has OIhw16i16o); that small
 * reorder of the weights runs before each backward (activations are never reordered). */
static nas_status_t bwd_data(conv_op_t *c, dnnl_primitive_attr_t attr, const_dnnl_primitive_desc_t hint,
                             const dnnl_memory_desc_t *src_md, const dnnl_memory_desc_t *wei_any,
                             const dnnl_memory_desc_t *wei_md, const dnnl_memory_desc_t *dst_md, const geom_t *g,
                             char *err)
{
    nas__op_t *op = &c->base;
    dnnl_convolution_desc_t d;
    dnnl_primitive_desc_t bpd = NULL;
    uint32_t idx;
    dnnl_status_t ds = dnnl_dilated_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, src_md, wei_any,
                                                                       dst_md, g->strides, g->dil, g->pl, g->pr);
    if (ds == dnnl_success)
        ds = dnnl_primitive_desc_create(&bpd, &d, attr, op->dev->engine, hint);
    if (ds != dnnl_success)
        return nas__dnnl_fail(err, ds, "convolution backward data with the forward's layouts");
    if ((c->own_d = take_own(c, bpd)))
        return NAS_OK; /* reads the forward's weights: no reorder */
    nas_status_t st = nas__op_new_prim(op, bpd, &idx, err);
    if (st != NAS_OK)
        return st;
    c->bwd_d = (int32_t)idx;
    const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(bpd, dnnl_query_weights_md, 0);
    if (dnnl_memory_desc_equal(want, wei_md))
        return NAS_OK;
    if ((st = nas__op_new_buf(op, want, &c->wbd, err)) != NAS_OK ||
        (st = nas__op_new_reorder(op, wei_md, want, &idx, err)) != NAS_OK)
        return st;
    c->wre = (int32_t)idx;
    nas__prim_reset_args(&op->prim[idx]);
    nas__prim_arg(&op->prim[idx], DNNL_ARG_FROM, op->param[0]);
    nas__prim_arg(&op->prim[idx], DNNL_ARG_TO, c->wbd);
    op->weight_reorders++;
    return NAS_OK;
}

/* Backward weights with the forward's layouts; the weight gradient in the parameters' layout. Where
 * that only has a reference kernel (depthwise with padded channels), let oneDNN pick the gradient's
 * layout and reorder it (weights only) after each backward. */
static nas_status_t bwd_weights(conv_op_t *c, dnnl_primitive_attr_t attr, const_dnnl_primitive_desc_t hint,
                                const dnnl_memory_desc_t *src_md, const dnnl_memory_desc_t *wei_any,
                                const dnnl_memory_desc_t *wei_md, const dnnl_memory_desc_t *bias_md,
                                const dnnl_memory_desc_t *dst_md, const geom_t *g, char *err)
{
    nas__op_t *op = &c->base;
    dnnl_primitive_desc_t pds[2] = { NULL, NULL };
    const dnnl_memory_desc_t *wmds[2] = { wei_md, wei_any };
    for (int i = 0; i < 2; i++) {
        dnnl_convolution_desc_t d;
        if (dnnl_dilated_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, src_md, wmds[i], bias_md,
                                                                dst_md, g->strides, g->dil, g->pl,
                                                                g->pr) != dnnl_success ||
            dnnl_primitive_desc_create(&pds[i], &d, attr, op->dev->engine, hint) != dnnl_success)
            pds[i] = NULL;
        if (pds[i] && strncmp(nas__pd_impl(pds[i]), "ref", 3) != 0)
            break;
    }
    int pick = pds[0] && (strncmp(nas__pd_impl(pds[0]), "ref", 3) != 0 || !pds[1] ||
                          strncmp(nas__pd_impl(pds[1]), "ref", 3) == 0) ? 0 : 1;
    if (pds[1 - pick])
        dnnl_primitive_desc_destroy(pds[1 - pick]);
    if (!pds[pick])
        return nas__fail(err, NAS_E_UNSUPPORTED, "oneDNN: no convolution backward weights for these layouts");
    nas_status_t st;
    if ((c->own_w = take_own(c, pds[pick]))) {
        /* gradient straight into the parameters' layout; partial sums in a buffer */
        dnnl_memory_desc_t pmd;
        dnnl_dims_t pdims = { (int64_t)nas__dw_scratch_floats(&c->dw) };
        DNNL_TRY(dnnl_memory_desc_init_by_tag(&pmd, 1, pdims, dnnl_f32, dnnl_x), "depthwise partial sums desc");
        return nas__op_new_buf(op, &pmd, &c->part, err);
    }
    uint32_t idx;
    st = nas__op_new_prim(op, pds[pick], &idx, err);
    if (st != NAS_OK)
        return st;
    c->bwd_w = (int32_t)idx;
    const dnnl_memory_desc_t *got = dnnl_primitive_desc_query_md(pds[pick], dnnl_query_diff_weights_md, 0);
    if (dnnl_memory_desc_equal(got, wei_md))
        return NAS_OK;
    if ((st = nas__op_new_buf(op, got, &c->dwt, err)) != NAS_OK ||
        (st = nas__op_new_reorder(op, got, wei_md, &idx, err)) != NAS_OK)
        return st;
    c->dwre = (int32_t)idx;
    op->weight_reorders++;
    return NAS_OK;
}

nas_status_t nas__op_conv_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, const nas__conv_attr_t *a,
                                 const nas__op_cfg_t *cfg, char *err)
{
    *out = NULL;
    const dnnl_memory_desc_t *smd = &src->md;
    if (smd->ndims != 4)
        return nas__fail(err, NAS_E_INVAL, "conv: input must be 4-D");
    int64_t n = smd->dims[0], ic = smd->dims[1], ih = smd->dims[2], iw = smd->dims[3];
    int64_t g = a->groups, oc = a->out_c, k = a->k, s = a->stride, dl = a->dilation;
    if (g < 1 || ic % g || oc % g || k < 1 || s < 1 || dl < 1)
        return nas__fail(err, NAS_E_INVAL, "conv: bad attributes");
    int64_t span = dl * (k - 1) + 1;
    int64_t oh = (ih + 2 * a->pad - span) / s + 1, ow = (iw + 2 * a->pad - span) / s + 1;
    if (oh < 1 || ow < 1)
        return nas__fail(err, NAS_E_INVAL, "conv: kernel does not fit");
    geom_t geo;
    int64_t prh = (oh - 1) * s + span - ih - a->pad, prw = (ow - 1) * s + span - iw - a->pad;
    geo.strides[0] = geo.strides[1] = s;
    geo.dil[0] = geo.dil[1] = dl - 1;
    geo.pl[0] = geo.pl[1] = a->pad;
    geo.pr[0] = prh > 0 ? prh : 0;
    geo.pr[1] = prw > 0 ? prw : 0;

    dnnl_memory_desc_t src_any, wei_any, bias_md, dst_any;
    dnnl_dims_t sd = { n, ic, ih, iw }, dd = { n, oc, oh, ow }, bd = { oc };
    dnnl_dims_t wd4 = { oc, ic, k, k }, wd5 = { g, oc / g, ic / g, k, k };
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&src_any, 4, sd, dnnl_f32, dnnl_format_tag_any), "conv src desc");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&dst_any, 4, dd, dnnl_f32, dnnl_format_tag_any), "conv dst desc");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&wei_any, g > 1 ? 5 : 4, g > 1 ? wd5 : wd4, dnnl_f32,
                                          dnnl_format_tag_any), "conv weights desc");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&bias_md, 1, bd, dnnl_f32, dnnl_x), "conv bias desc");

    conv_op_t *c;
    nas__op_cfg_t cf = cfg ? *cfg : (nas__op_cfg_t){ 0 };
    nas_status_t st = nas__op_alloc((nas__op_t **)&c, dev, sizeof *c, &conv_vt, 1, &src, &cf, err);
    if (st != NAS_OK)
        return st;
    nas__op_t *op = &c->base;
    c->fwd = c->bwd_d = c->bwd_w = c->wre = c->dwre = -1;
    c->bias = a->bias;
    c->ad.fwd = c->ad.bwd = -1;

    /* Take the input as it comes unless that only has a reference kernel; then let oneDNN choose and
     * adapt the input (counted as a reorder: the fast path has none). */
    dnnl_primitive_desc_t pd = NULL;
    const dnnl_memory_desc_t *bptr = a->bias ? &bias_md : NULL;
    if (cf.like && is_conv(cf.like) && cf.like->n_param > 0 &&
        fwd_pd(&pd, dev, op->train, smd, &cf.like->param[0]->md, bptr, &dst_any, &geo, err) == NAS_OK &&
        strncmp(nas__pd_impl(pd), "ref", 3) != 0) {
        st = NAS_OK; /* the layouts of the plan we share parameters with */
    } else {
        if (pd)
            dnnl_primitive_desc_destroy(pd);
        pd = NULL;
        st = fwd_pd(&pd, dev, op->train, smd, &wei_any, bptr, &dst_any, &geo, err);
    }
    if (st == NAS_OK && strncmp(nas__pd_impl(pd), "ref", 3) == 0) {
        dnnl_primitive_desc_t pd2 = NULL;
        if (fwd_pd(&pd2, dev, op->train, &src_any, &wei_any, bptr, &dst_any, &geo, err) == NAS_OK) {
            if (strncmp(nas__pd_impl(pd2), "ref", 3) != 0) {
                dnnl_primitive_desc_destroy(pd);
                pd = pd2;
            } else {
                dnnl_primitive_desc_destroy(pd2);
            }
        }
    }
    /*
     * Narrow convolutions (input channels not a multiple of 16, e.g. 8 after channel_scale 0.5): in
     * nChw16c oneDNN 2.6 has only reference kernels for their forward and weight gradient (60x slower
     * than the 16-channel network), and the plain layout it falls back to has a jit forward but
     * reference backward passes. Channels-last gets brgconv and jit kernels for all three; the
     * adapter reorders the input when its producer chose another layout.
     */
    if (st == NAS_OK && op->train && g == 1 && !bwd_fast(dev, pd, &geo, op->need[0])) {
        dnnl_memory_desc_t src_nhwc, dst_nhwc;
        dnnl_primitive_desc_t pd3 = NULL;
        if (dnnl_memory_desc_init_by_tag(&src_nhwc, 4, sd, dnnl_f32, dnnl_acdb) == dnnl_success &&
            dnnl_memory_desc_init_by_tag(&dst_nhwc, 4, dd, dnnl_f32, dnnl_acdb) == dnnl_success &&
            fwd_pd(&pd3, dev, true, &src_nhwc, &wei_any, bptr, &dst_nhwc, &geo, err) == NAS_OK &&
            strncmp(nas__pd_impl(pd3), "ref", 3) != 0 && bwd_fast(dev, pd3, &geo, op->need[0])) {
            dnnl_primitive_desc_destroy(pd);
            pd = pd3;
        } else if (pd3) {
            dnnl_primitive_desc_destroy(pd3);
        }
        err[0] = '\0';
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
    nas__param_info_t wi = { NAS__PARAM_WEIGHT, true, oc * (ic / g) * k * k, (ic / g) * k * k, (oc / g) * k * k };
    if ((st = nas__op_new_param(op, wei_md, &wi, err)) != NAS_OK)
        goto fail;
    if (a->bias) {
        nas__param_info_t bi = { NAS__PARAM_BIAS, false, oc, 1, 1 };
        if ((st = nas__op_new_param(op, &bias_md, &bi, err)) != NAS_OK)
            goto fail;
    }
    nas__prim_t *f = &op->prim[c->fwd];
    nas__prim_reset_args(f);
    nas__prim_arg(f, DNNL_ARG_SRC, nas__adapter_src(op, &c->ad, 0));
    nas__prim_arg(f, DNNL_ARG_WEIGHTS, op->param[0]);
    if (a->bias)
        nas__prim_arg(f, DNNL_ARG_BIAS, op->param[1]);
    nas__prim_arg(f, DNNL_ARG_DST, op->dst);

    if (op->train) {
        c->dw_ok = g == ic && g == oc && g > 1 &&
                   nas__dw_applies(&c->dw, src_md, wei_md, dst_md, geo.strides, geo.dil, geo.pl);
        /* Backward primitives take the activations in exactly the forward's layouts (no activation
         * reorder inside a step); see bwd_weights and bwd_data for the weights. */
        dnnl_primitive_attr_t attr;
        if ((st = nas__attr_user_scratchpad(&attr, err)) != NAS_OK)
            goto fail;
        st = bwd_weights(c, attr, pd, src_md, &wei_any, wei_md, a->bias ? &bias_md : NULL, dst_md, &geo, err);
        if (st == NAS_OK && op->need[0])
            st = bwd_data(c, attr, pd, src_md, &wei_any, wei_md, dst_md, &geo, err);
        dnnl_primitive_attr_destroy(attr);
        if (st != NAS_OK)
            goto fail;
        if (c->own_d || c->own_w)
            op->vt = &conv_own_vt[c->own_d + 2 * c->own_w - 1];
    }
    *out = op;
    return NAS_OK;
fail:
    nas__op_destroy(op);
    return st;
}
