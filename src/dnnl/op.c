/* Plumbing shared by the op families: allocation, owned tensors, primitives, adapters, accessors. */
#include "dnnl/priv.h"

#include <string.h>

nas_status_t nas__attr_user_scratchpad(dnnl_primitive_attr_t *attr, char *err)
{
    DNNL_TRY(dnnl_primitive_attr_create(attr), "creating a primitive attribute");
    dnnl_status_t s = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    if (s != dnnl_success) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
        return nas__dnnl_fail(err, s, "setting the scratchpad mode");
    }
    return NAS_OK;
}

nas_status_t nas__op_alloc(nas__op_t **out, nas__dev_t *dev, size_t size, const nas__op_vt_t *vt, uint32_t n_in,
                           nas__tensor_t *const *srcs, const nas__op_cfg_t *cfg, char *err)
{
    *out = NULL;
    nas__op_t *op = nas__calloc(dev->ctx, 1, size);
    if (!op)
        return nas__fail(err, NAS_E_NOMEM, "out of memory creating an op");
    op->vt = vt;
    op->dev = dev;
    op->train = cfg && cfg->train;
    op->n_in = n_in;
    if (n_in) {
        op->src = nas__calloc(dev->ctx, n_in, sizeof *op->src);
        op->dsrc = nas__calloc(dev->ctx, n_in, sizeof *op->dsrc);
        op->need = nas__calloc(dev->ctx, n_in, sizeof *op->need);
        if (!op->src || !op->dsrc || !op->need) {
            nas__op_destroy(op);
            return nas__fail(err, NAS_E_NOMEM, "out of memory creating an op");
        }
        for (uint32_t i = 0; i < n_in; i++) {
            op->src[i] = srcs[i];
            op->need[i] = op->train && cfg->need_dsrc && cfg->need_dsrc[i];
        }
    }
    *out = op;
    return NAS_OK;
}

void nas__op_destroy(nas__op_t *op)
{
    if (!op)
        return;
    nas_context_t *ctx = op->dev->ctx;
    if (op->vt && op->vt->destroy)
        op->vt->destroy(op);
    for (uint32_t i = 0; i < op->n_prim; i++) {
        nas__prim_t *p = &op->prim[i];
        if (p->p)
            dnnl_primitive_destroy(p->p);
        if (p->pd)
            dnnl_primitive_desc_destroy(p->pd);
        if (p->scratch)
            dnnl_memory_destroy(p->scratch);
    }
    nas__tensor_destroy(op->dst);
    for (uint32_t i = 0; i < op->n_param; i++) {
        nas__tensor_destroy(op->param[i]);
        nas__tensor_destroy(op->dparam[i]);
    }
    for (uint32_t i = 0; i < op->n_buf; i++)
        nas__tensor_destroy(op->buf[i]);
    for (uint32_t i = 0; i < op->n_stat; i++)
        nas__tensor_destroy(op->stat[i]);
    nas__free(ctx, op->src);
    nas__free(ctx, op->dsrc);
    nas__free(ctx, op->need);
    nas__free(ctx, op);
}

nas_status_t nas__op_new_dst(nas__op_t *op, const dnnl_memory_desc_t *md, char *err)
{
    return nas__tensor_new(&op->dst, op->dev, md, err);
}

nas_status_t nas__op_new_buf(nas__op_t *op, const dnnl_memory_desc_t *md, nas__tensor_t **out, char *err)
{
    if (op->n_buf >= OP_MAX_BUFS)
        return nas__fail(err, NAS_E_INTERNAL, "too many op buffers");
    nas_status_t st = nas__tensor_new(&op->buf[op->n_buf], op->dev, md, err);
    if (st != NAS_OK)
        return st;
    *out = op->buf[op->n_buf++];
    return NAS_OK;
}

nas_status_t nas__op_new_param(nas__op_t *op, const dnnl_memory_desc_t *md, const nas__param_info_t *info, char *err)
{
    if (op->n_param >= OP_MAX_PARAMS)
        return nas__fail(err, NAS_E_INTERNAL, "too many op parameters");
    uint32_t i = op->n_param;
    nas_status_t st = nas__tensor_new(&op->param[i], op->dev, md, err);
    if (st == NAS_OK && op->train)
        st = nas__tensor_new(&op->dparam[i], op->dev, md, err);
    if (st != NAS_OK) {
        nas__tensor_destroy(op->param[i]);
        op->param[i] = NULL;
        return st;
    }
    op->pinfo[i] = *info;
    op->n_param++;
    return NAS_OK;
}

nas_status_t nas__op_new_prim(nas__op_t *op, dnnl_primitive_desc_t pd, uint32_t *idx, char *err)
{
    if (op->n_prim >= OP_MAX_PRIMS) {
        dnnl_primitive_desc_destroy(pd);
        return nas__fail(err, NAS_E_INTERNAL, "too many primitives in one op");
    }
    nas__prim_t *p = &op->prim[op->n_prim];
    memset(p, 0, sizeof *p);
    p->pd = pd;
    op->n_prim++; /* from here op_destroy releases pd */
    DNNL_TRY(dnnl_primitive_create(&p->p, pd), "creating a primitive");
    op->dev->primitives++;
    if (strncmp(nas__pd_impl(pd), "ref", 3) == 0)
        op->ref_prims++;
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    p->scratch_bytes = smd ? dnnl_memory_desc_get_size(smd) : 0;
    if (p->scratch_bytes)
        DNNL_TRY(dnnl_memory_create(&p->scratch, smd, op->dev->engine, DNNL_MEMORY_NONE), "scratchpad memory");
    *idx = op->n_prim - 1;
    return NAS_OK;
}

nas_status_t nas__op_new_reorder(nas__op_t *op, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                                 uint32_t *idx, char *err)
{
    dnnl_primitive_attr_t attr;
    nas_status_t st = nas__attr_user_scratchpad(&attr, err);
    if (st != NAS_OK)
        return st;
    dnnl_primitive_desc_t pd;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, from, op->dev->engine, to, op->dev->engine, attr);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success)
        return nas__dnnl_fail(err, s, "creating a reorder");
    return nas__op_new_prim(op, pd, idx, err);
}

void nas__prim_reset_args(nas__prim_t *p)
{
    p->nargs = 0;
    if (p->scratch)
        nas__prim_arg_mem(p, DNNL_ARG_SCRATCHPAD, p->scratch);
}

void nas__prim_arg_mem(nas__prim_t *p, int arg, dnnl_memory_t mem)
{
    for (int i = 0; i < p->nargs; i++)
        if (p->args[i].arg == arg) {
            p->args[i].memory = mem;
            return;
        }
    if (p->nargs < PRIM_MAX_ARGS) {
        p->args[p->nargs].arg = arg;
        p->args[p->nargs].memory = mem;
        p->nargs++;
    }
}

void nas__prim_arg(nas__prim_t *p, int arg, const nas__tensor_t *t)
{
    nas__prim_arg_mem(p, arg, t->mem);
}

void nas__prim_run(nas__dev_t *dev, nas__prim_t *p)
{
    /* Arguments were checked when the primitive was created; a failure here is a bug in libnas. */
    dnnl_status_t s = dnnl_primitive_execute(p->p, dev->stream, p->nargs, p->args);
    (void)s;
}

const char *nas__pd_impl(const_dnnl_primitive_desc_t pd)
{
    const char *name = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name)
        return "?";
    return name;
}

nas_status_t nas__md_like(dnnl_memory_desc_t *out, const dnnl_memory_desc_t *like, int ndims, const int64_t *dims,
                          char *err)
{
    static const dnnl_format_tag_t tags4[] = { dnnl_nchw, dnnl_nhwc, dnnl_nChw16c, dnnl_nChw8c, dnnl_nChw4c,
                                               dnnl_chwn };
    static const dnnl_format_tag_t tags2[] = { dnnl_nc, dnnl_cn };
    const dnnl_format_tag_t *tags = ndims == 4 ? tags4 : tags2;
    size_t n = ndims == 4 ? sizeof tags4 / sizeof *tags4 : ndims == 2 ? sizeof tags2 / sizeof *tags2 : 0;
    dnnl_dims_t d;
    for (int i = 0; i < ndims; i++)
        d[i] = dims[i];
    for (size_t i = 0; i < n && like->ndims == ndims; i++) {
        dnnl_memory_desc_t probe;
        if (dnnl_memory_desc_init_by_tag(&probe, ndims, like->dims, dnnl_f32, tags[i]) == dnnl_success &&
            dnnl_memory_desc_equal(&probe, like)) {
            DNNL_TRY(dnnl_memory_desc_init_by_tag(out, ndims, d, dnnl_f32, tags[i]), "memory desc");
            return NAS_OK;
        }
    }
    return nas__fail(err, NAS_E_UNSUPPORTED, "no known format tag matches a %d-D layout", ndims);
}

/* ---- adapters ---- */

nas_status_t nas__adapter_init(nas__op_t *op, nas__adapter_t *a, uint32_t i, const dnnl_memory_desc_t *want,
                               char *err)
{
    a->t = a->dt = NULL;
    a->fwd = a->bwd = -1;
    if (dnnl_memory_desc_equal(want, &op->src[i]->md))
        return NAS_OK;
    uint32_t idx;
    nas_status_t st = nas__op_new_buf(op, want, &a->t, err);
    if (st == NAS_OK)
        st = nas__op_new_reorder(op, &op->src[i]->md, want, &idx, err);
    if (st != NAS_OK)
        return st;
    a->fwd = (int32_t)idx;
    nas__prim_reset_args(&op->prim[idx]);
    nas__prim_arg(&op->prim[idx], DNNL_ARG_FROM, op->src[i]);
    nas__prim_arg(&op->prim[idx], DNNL_ARG_TO, a->t);
    op->reorders++;
    if (op->need[i]) {
        st = nas__op_new_buf(op, want, &a->dt, err);
        if (st == NAS_OK)
            st = nas__op_new_reorder(op, want, &op->src[i]->md, &idx, err);
        if (st != NAS_OK)
            return st;
        a->bwd = (int32_t)idx;
        op->reorders++;
    }
    return NAS_OK;
}

nas__tensor_t *nas__adapter_src(const nas__op_t *op, const nas__adapter_t *a, uint32_t i)
{
    return a->t ? a->t : op->src[i];
}

nas__tensor_t *nas__adapter_dsrc(const nas__op_t *op, const nas__adapter_t *a, uint32_t i)
{
    return a->dt ? a->dt : op->dsrc[i];
}

void nas__adapter_bind_grads(nas__op_t *op, nas__adapter_t *a, uint32_t i)
{
    if (a->bwd < 0 || !op->dsrc[i])
        return;
    nas__prim_t *p = &op->prim[a->bwd];
    nas__prim_reset_args(p);
    nas__prim_arg(p, DNNL_ARG_FROM, a->dt);
    nas__prim_arg(p, DNNL_ARG_TO, op->dsrc[i]);
}

void nas__adapter_fwd(nas__op_t *op, nas__adapter_t *a)
{
    if (a->fwd >= 0)
        nas__prim_run(op->dev, &op->prim[a->fwd]);
}

void nas__adapter_bwd(nas__op_t *op, nas__adapter_t *a)
{
    if (a->bwd >= 0)
        nas__prim_run(op->dev, &op->prim[a->bwd]);
}

/* ---- accessors ---- */

const char *nas__op_name(const nas__op_t *op) { return op->vt->name; }
nas__tensor_t *nas__op_dst(const nas__op_t *op) { return op->dst; }
uint32_t nas__op_num_params(const nas__op_t *op) { return op->n_param; }
nas__tensor_t *nas__op_param(const nas__op_t *op, uint32_t i) { return op->param[i]; }
nas__tensor_t *nas__op_param_grad(const nas__op_t *op, uint32_t i) { return op->dparam[i]; }
void nas__op_param_info(const nas__op_t *op, uint32_t i, nas__param_info_t *out) { *out = op->pinfo[i]; }
uint32_t nas__op_num_buffers(const nas__op_t *op) { return op->n_buf; }
nas__tensor_t *nas__op_buffer(const nas__op_t *op, uint32_t i) { return op->buf[i]; }
uint32_t nas__op_num_stats(const nas__op_t *op) { return op->n_stat; }
nas__tensor_t *nas__op_stat(const nas__op_t *op, uint32_t i) { return op->stat[i]; }
uint32_t nas__op_num_reorders(const nas__op_t *op) { return op->reorders; }
uint32_t nas__op_num_weight_reorders(const nas__op_t *op) { return op->weight_reorders; }

uint32_t nas__op_num_ref_prims(const nas__op_t *op) { return op->ref_prims; }

size_t nas__op_scratchpad_bytes(const nas__op_t *op)
{
    size_t m = 0;
    for (uint32_t i = 0; i < op->n_prim; i++)
        if (op->prim[i].scratch_bytes > m)
            m = op->prim[i].scratch_bytes;
    return m;
}

void nas__op_set_scratchpad(nas__op_t *op, void *ptr)
{
    for (uint32_t i = 0; i < op->n_prim; i++)
        if (op->prim[i].scratch)
            dnnl_memory_set_data_handle(op->prim[i].scratch, ptr);
}

nas_status_t nas__op_set_grads(nas__op_t *op, nas__tensor_t *const *diff_src, nas__tensor_t *diff_dst, char *err)
{
    if (!op->train)
        return nas__fail(err, NAS_E_STATE, "%s: op was created for inference", op->vt->name);
    for (uint32_t i = 0; i < op->n_in; i++) {
        nas__tensor_t *d = diff_src ? diff_src[i] : NULL;
        if (op->need[i] && (!d || !nas__tensor_same_layout(d, op->src[i])))
            return nas__fail(err, NAS_E_INVAL, "%s: gradient of input %u missing or in another layout", op->vt->name,
                             i);
        op->dsrc[i] = op->need[i] ? d : NULL;
    }
    if (diff_dst && op->dst && !nas__tensor_same_layout(diff_dst, op->dst))
        return nas__fail(err, NAS_E_INVAL, "%s: output gradient in another layout than the output", op->vt->name);
    op->ddst = diff_dst;
    return op->vt->set_grads ? op->vt->set_grads(op, err) : NAS_OK;
}

void nas__op_describe(const nas__op_t *op, nas__sb_t *sb)
{
    char a[64], b[64];
    nas__sb_printf(sb, "%s:", op->vt->name);
    if (op->n_in && op->src[0])
        nas__sb_printf(sb, " src %s", nas__tensor_layout(op->src[0], a, sizeof a));
    if (op->dst)
        nas__sb_printf(sb, " dst %s", nas__tensor_layout(op->dst, b, sizeof b));
    if (op->n_param)
        nas__sb_printf(sb, " weights %s", nas__tensor_layout(op->param[0], a, sizeof a));
    for (uint32_t i = 0; i < op->n_prim; i++) {
        dnnl_primitive_kind_t kind = dnnl_undefined_primitive;
        dnnl_primitive_desc_query(op->prim[i].pd, dnnl_query_primitive_kind, 0, &kind);
        nas__sb_printf(sb, " [%s %s]", dnnl_prim_kind2str(kind), nas__pd_impl(op->prim[i].pd));
    }
    nas__sb_putc(sb, '\n');
}

void nas__op_forward(nas__op_t *op, bool train)
{
    op->vt->forward(op, train);
}

void nas__op_backward(nas__op_t *op)
{
    if (op->vt->backward)
        op->vt->backward(op);
}

void nas__fb_forward(nas__op_t *op, bool train)
{
    (void)train;
    nas__prim_run(op->dev, &op->prim[((nas__fb_op_t *)op)->fwd]);
}

void nas__fb_backward(nas__op_t *op)
{
    const nas__fb_op_t *f = (const nas__fb_op_t *)op;
    if (f->bwd >= 0 && op->dsrc[0])
        nas__prim_run(op->dev, &op->prim[f->bwd]);
}
