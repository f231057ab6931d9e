/* Tensors: a oneDNN memory descriptor, a memory object, and a data pointer bound by the owner. */
#include "dnnl/priv.h"

#include <stdio.h>
#include <string.h>

dnnl_format_tag_t nas__plain_tag(int ndims)
{
    switch (ndims) {
    case 1: return dnnl_a;
    case 2: return dnnl_ab;
    case 3: return dnnl_abc;
    case 4: return dnnl_abcd;
    case 5: return dnnl_abcde;
    default: return dnnl_format_tag_undef;
    }
}

nas_status_t nas__tensor_new(nas__tensor_t **out, nas__dev_t *dev, const dnnl_memory_desc_t *md, char *err)
{
    *out = NULL;
    nas__tensor_t *t = nas__calloc(dev->ctx, 1, sizeof *t);
    if (!t)
        return nas__fail(err, NAS_E_NOMEM, "out of memory creating a tensor");
    t->dev = dev;
    t->md = *md;
    dnnl_status_t s = dnnl_memory_create(&t->mem, &t->md, dev->engine, DNNL_MEMORY_NONE);
    if (s != dnnl_success) {
        nas__free(dev->ctx, t);
        return nas__dnnl_fail(err, s, "creating a memory object");
    }
    *out = t;
    return NAS_OK;
}

nas_status_t nas__tensor_create_plain(nas__tensor_t **out, nas__dev_t *dev, int ndims, const int64_t *dims)
{
    char *err = dev->ctx->errmsg;
    if (!out)
        return NAS_E_INVAL;
    *out = NULL;
    if (ndims < 1 || ndims > 5)
        return nas__fail(err, NAS_E_INVAL, "plain tensors have 1 to 5 dimensions");
    dnnl_dims_t d;
    for (int i = 0; i < ndims; i++)
        d[i] = dims[i];
    dnnl_memory_desc_t md;
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&md, ndims, d, dnnl_f32, nas__plain_tag(ndims)), "plain memory desc");
    return nas__tensor_new(out, dev, &md, err);
}

nas_status_t nas__tensor_create_like(nas__tensor_t **out, const nas__tensor_t *t)
{
    if (!out)
        return NAS_E_INVAL;
    return nas__tensor_new(out, t->dev, &t->md, t->dev->ctx->errmsg);
}

void nas__tensor_destroy(nas__tensor_t *t)
{
    if (!t)
        return;
    if (t->mem)
        dnnl_memory_destroy(t->mem);
    nas__free(t->dev->ctx, t);
}

size_t nas__tensor_bytes(const nas__tensor_t *t)
{
    return dnnl_memory_desc_get_size(&t->md);
}

size_t nas__tensor_elems(const nas__tensor_t *t)
{
    size_t n = 1;
    for (int i = 0; i < t->md.ndims; i++)
        n *= (size_t)t->md.dims[i];
    return n;
}

int nas__tensor_ndims(const nas__tensor_t *t) { return t->md.ndims; }
int64_t nas__tensor_dim(const nas__tensor_t *t, int i) { return t->md.dims[i]; }
float *nas__tensor_data(const nas__tensor_t *t) { return t->data; }

bool nas__tensor_same_layout(const nas__tensor_t *a, const nas__tensor_t *b)
{
    return dnnl_memory_desc_equal(&a->md, &b->md) != 0;
}

bool nas__tensor_is_plain(const nas__tensor_t *t)
{
    dnnl_memory_desc_t md;
    dnnl_format_tag_t tag = nas__plain_tag(t->md.ndims);
    if (tag == dnnl_format_tag_undef ||
        dnnl_memory_desc_init_by_tag(&md, t->md.ndims, t->md.dims, dnnl_f32, tag) != dnnl_success)
        return false;
    return dnnl_memory_desc_equal(&md, &t->md) != 0;
}

const char *nas__tensor_layout(const nas__tensor_t *t, char *buf, size_t cap)
{
    const dnnl_memory_desc_t *md = &t->md;
    if (cap == 0)
        return buf;
    buf[0] = '\0';
    if (md->format_kind != dnnl_blocked) {
        snprintf(buf, cap, "%s", md->format_kind == dnnl_format_kind_any ? "any" : "opaque");
        return buf;
    }
    /* Outer dims by decreasing stride, upper case when also blocked, then the inner blocks:
     * oneDNN's own names ("aBcd16b" is nChw16c). */
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    int order[DNNL_MAX_NDIMS], n = md->ndims;
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (b->strides[order[j]] > b->strides[order[i]] ||
                (b->strides[order[j]] == b->strides[order[i]] && order[j] < order[i])) {
                int x = order[i];
                order[i] = order[j];
                order[j] = x;
            }
    size_t len = 0;
    for (int i = 0; i < n && len + 1 < cap; i++) {
        bool blocked = false;
        for (int k = 0; k < b->inner_nblks; k++)
            blocked |= b->inner_idxs[k] == order[i];
        buf[len++] = (char)((blocked ? 'A' : 'a') + order[i]);
    }
    buf[len] = '\0';
    for (int k = 0; k < b->inner_nblks && len + 1 < cap; k++) {
        int w = snprintf(buf + len, cap - len, "%d%c", (int)b->inner_blks[k], (int)('a' + b->inner_idxs[k]));
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
    return buf;
}

void nas__tensor_bind(nas__tensor_t *t, void *data)
{
    t->data = data;
    dnnl_memory_set_data_handle(t->mem, data);
}

/* One reorder between two memory descs over given pointers (edge use: created, run, destroyed). */
static nas_status_t reorder_once(nas__dev_t *dev, const dnnl_memory_desc_t *smd, void *sp,
                                 const dnnl_memory_desc_t *dmd, void *dp, char *err)
{
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t p = NULL;
    dnnl_memory_t sm = NULL, dm = NULL;
    nas_status_t st = NAS_OK;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, smd, dev->engine, dmd, dev->engine, NULL);
    if (s == dnnl_success)
        s = dnnl_primitive_create(&p, pd);
    if (s == dnnl_success)
        s = dnnl_memory_create(&sm, smd, dev->engine, sp);
    if (s == dnnl_success)
        s = dnnl_memory_create(&dm, dmd, dev->engine, dp);
    if (s == dnnl_success) {
        dev->primitives++;
        dnnl_exec_arg_t args[2] = { { DNNL_ARG_FROM, sm }, { DNNL_ARG_TO, dm } };
        nas__dev_enter(dev);
        s = dnnl_primitive_execute(p, dev->stream, 2, args);
        if (s == dnnl_success)
            s = dnnl_stream_wait(dev->stream);
    }
    if (s != dnnl_success)
        st = nas__dnnl_fail(err, s, "reorder at the edge");
    if (dm)
        dnnl_memory_destroy(dm);
    if (sm)
        dnnl_memory_destroy(sm);
    if (p)
        dnnl_primitive_destroy(p);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    return st;
}

static nas_status_t plain_md(dnnl_memory_desc_t *md, const nas__tensor_t *t, char *err)
{
    DNNL_TRY(dnnl_memory_desc_init_by_tag(md, t->md.ndims, t->md.dims, dnnl_f32, nas__plain_tag(t->md.ndims)),
             "plain memory desc");
    return NAS_OK;
}

nas_status_t nas__tensor_read_plain(nas__tensor_t *t, float *dst, char *err)
{
    if (!t->data)
        return nas__fail(err, NAS_E_STATE, "tensor has no memory bound");
    if (nas__tensor_is_plain(t)) {
        memcpy(dst, t->data, nas__tensor_elems(t) * sizeof(float));
        return NAS_OK;
    }
    dnnl_memory_desc_t md;
    nas_status_t st = plain_md(&md, t, err);
    if (st != NAS_OK)
        return st;
    return reorder_once(t->dev, &t->md, t->data, &md, dst, err);
}

nas_status_t nas__tensor_write_plain(nas__tensor_t *t, const float *src, char *err)
{
    if (!t->data)
        return nas__fail(err, NAS_E_STATE, "tensor has no memory bound");
    if (nas__tensor_is_plain(t)) {
        memcpy(t->data, src, nas__tensor_elems(t) * sizeof(float));
        return NAS_OK;
    }
    dnnl_memory_desc_t md;
    nas_status_t st = plain_md(&md, t, err);
    if (st != NAS_OK)
        return st;
    return reorder_once(t->dev, &md, (void *)src, &t->md, t->data, err);
}

nas_status_t nas__tensor_convert(nas__tensor_t *dst, nas__tensor_t *src, char *err)
{
    if (!dst->data || !src->data)
        return nas__fail(err, NAS_E_STATE, "tensor has no memory bound");
    if (dst->md.ndims != src->md.ndims || memcmp(dst->md.dims, src->md.dims, sizeof(int64_t) * src->md.ndims))
        return nas__fail(err, NAS_E_INVAL, "convert: tensors differ in shape");
    if (nas__tensor_same_layout(dst, src)) {
        memcpy(dst->data, src->data, nas__tensor_bytes(src));
        return NAS_OK;
    }
    return reorder_once(src->dev, &src->md, src->data, &dst->md, dst->data, err);
}
