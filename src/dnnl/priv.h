/* Private to src/dnnl/: the only header that includes dnnl.h. */
#ifndef NAS_DNNL_PRIV_H
#define NAS_DNNL_PRIV_H

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

#include "dnnl/dnn.h"

struct nas__dev {
    nas_context_t *ctx;
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    int32_t threads;
    uint64_t primitives;
};

struct nas__tensor {
    nas__dev_t *dev;
    dnnl_memory_desc_t md;
    dnnl_memory_t mem;
    void *data;
};

#define PRIM_MAX_ARGS 16

/* One primitive with its arguments, ready to execute. */
typedef struct nas__prim {
    dnnl_primitive_t p;
    dnnl_primitive_desc_t pd; /* kept for describe(); owned */
    dnnl_memory_t scratch;    /* user scratchpad (handle set by nas__op_set_scratchpad) */
    size_t scratch_bytes;
    int nargs;
    dnnl_exec_arg_t args[PRIM_MAX_ARGS];
} nas__prim_t;

typedef struct nas__op_vt {
    const char *name;
    void (*forward)(nas__op_t *op, bool train);
    void (*backward)(nas__op_t *op);
    /* Bind the backward arguments once diff tensors are known. */
    nas_status_t (*set_grads)(nas__op_t *op, char *err);
    void (*destroy)(nas__op_t *op); /* family-specific extras, may be NULL */
} nas__op_vt_t;

#define OP_MAX_PARAMS 4
#define OP_MAX_BUFS 8
#define OP_MAX_PRIMS 8

struct nas__op {
    const nas__op_vt_t *vt;
    nas__dev_t *dev;
    bool train;
    uint32_t n_in;
    nas__tensor_t **src;  /* borrowed, n_in */
    nas__tensor_t **dsrc; /* borrowed, n_in, NULL entries where no gradient is wanted */
    bool *need;           /* n_in */
    nas__tensor_t *dst;   /* owned */
    nas__tensor_t *ddst;  /* borrowed */
    uint32_t n_param;
    nas__tensor_t *param[OP_MAX_PARAMS], *dparam[OP_MAX_PARAMS]; /* owned */
    nas__param_info_t pinfo[OP_MAX_PARAMS];
    uint32_t n_buf;
    nas__tensor_t *buf[OP_MAX_BUFS]; /* owned */
    uint32_t n_stat;
    nas__tensor_t *stat[2];          /* owned */
    uint32_t n_prim;
    nas__prim_t prim[OP_MAX_PRIMS];
    uint32_t reorders;        /* activation layout reorders per step (adapters) */
    uint32_t weight_reorders; /* weight layout reorders per step (conv backward data) */
    uint32_t ref_prims;       /* primitives on oneDNN's reference (unoptimized) kernels */
};

/* An op of one forward primitive and at most one backward primitive (-1: none), as indices in prim[]. */
typedef struct nas__fb_op {
    nas__op_t base;
    int32_t fwd, bwd;
} nas__fb_op_t;

/* vtable entries of such ops: run prim[fwd]; run prim[bwd] when it exists and a gradient is wanted. */
void nas__fb_forward(nas__op_t *op, bool train);
void nas__fb_backward(nas__op_t *op);

/* Map a oneDNN status to ours, with a message naming what failed. */
nas_status_t nas__dnnl_fail(char *err, dnnl_status_t s, const char *what);
#define DNNL_TRY(call, what)                                  \
    do {                                                      \
        dnnl_status_t s_ = (call);                            \
        if (s_ != dnnl_success)                               \
            return nas__dnnl_fail(err, s_, what);             \
    } while (0)

nas_status_t nas__tensor_new(nas__tensor_t **out, nas__dev_t *dev, const dnnl_memory_desc_t *md, char *err);

/* Op plumbing shared by the families. `size` is the family struct's size (base first). */
nas_status_t nas__op_alloc(nas__op_t **out, nas__dev_t *dev, size_t size, const nas__op_vt_t *vt, uint32_t n_in,
                           nas__tensor_t *const *srcs, const nas__op_cfg_t *cfg, char *err);
/* New owned tensors of the op. */
nas_status_t nas__op_new_dst(nas__op_t *op, const dnnl_memory_desc_t *md, char *err);
nas_status_t nas__op_new_buf(nas__op_t *op, const dnnl_memory_desc_t *md, nas__tensor_t **out, char *err);
nas_status_t nas__op_new_param(nas__op_t *op, const dnnl_memory_desc_t *md, const nas__param_info_t *info, char *err);
/* A primitive from pd (the op takes ownership of pd, also on failure), index in op->prim. */
nas_status_t nas__op_new_prim(nas__op_t *op, dnnl_primitive_desc_t pd, uint32_t *idx, char *err);
void nas__prim_arg(nas__prim_t *p, int arg, const nas__tensor_t *t);
void nas__prim_arg_mem(nas__prim_t *p, int arg, dnnl_memory_t mem);
void nas__prim_reset_args(nas__prim_t *p);
void nas__prim_run(nas__dev_t *dev, nas__prim_t *p);
/* A default primitive attribute with a user-managed scratchpad. */
nas_status_t nas__attr_user_scratchpad(dnnl_primitive_attr_t *attr, char *err);

/* Layout adapter: when an op's primitive wants input i in another layout than it comes in, a reorder
 * before the forward (and back after the backward). Counted in op->reorders: the fast path has none. */
typedef struct nas__adapter {
    nas__tensor_t *t, *dt; /* input and its gradient in the wanted layout (op buffers), or NULL */
    int32_t fwd, bwd;      /* reorder primitives (index in op->prim) or -1 */
} nas__adapter_t;

nas_status_t nas__adapter_init(nas__op_t *op, nas__adapter_t *a, uint32_t i, const dnnl_memory_desc_t *want,
                               char *err);
nas__tensor_t *nas__adapter_src(const nas__op_t *op, const nas__adapter_t *a, uint32_t i);
nas__tensor_t *nas__adapter_dsrc(const nas__op_t *op, const nas__adapter_t *a, uint32_t i);
void nas__adapter_bind_grads(nas__op_t *op, nas__adapter_t *a, uint32_t i);
void nas__adapter_fwd(nas__op_t *op, nas__adapter_t *a);
void nas__adapter_bwd(nas__op_t *op, nas__adapter_t *a);
/* Reorder primitive between two descs (with a user scratchpad); returns its index in op->prim. */
nas_status_t nas__op_new_reorder(nas__op_t *op, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                                 uint32_t *idx, char *err);
/* Implementation name of a primitive descriptor ("jit:avx512_core", "ref:any", ...). */
const char *nas__pd_impl(const_dnnl_primitive_desc_t pd);
/* Same layout as `like` but other dims (known format tags only). */
nas_status_t nas__md_like(dnnl_memory_desc_t *out, const dnnl_memory_desc_t *like, int ndims, const int64_t *dims,
                          char *err);

/* Own backward kernels of depthwise convolutions (dwconv.c) over nChw16c activations and Goihw16g
 * weights, for where oneDNN has only reference ones. Sizes, element strides (floats) and offsets
 * read from the memory descriptors; diff_src and diff_dst share the layouts of src and dst. */
typedef struct nas__dw {
    int64_t n, c, cb;                /* batch, channels, blocks of 16 channels */
    int64_t ih, iw, oh, ow, kh, kw;
    int64_t sh, sw, dh, dw, ph, pw;  /* strides, distance of taps (dilation + 1), top/left padding */
    int64_t so, ss[4];               /* src: offset0; strides of image, channel block, row, column */
    int64_t dof, ds[4];              /* dst: the same */
    int64_t wo, ws[3];               /* weights: offset0; strides of channel block, kh, kw */
    int64_t chunks;                  /* batch chunks of the weight gradient's partial sums */
} nas__dw_t;

/* Whether the kernels take these layouts (then *d describes the problem). strides, dil (oneDNN's:
 * 0 is dense) and pl (top, left padding) as given to oneDNN. */
bool nas__dw_applies(nas__dw_t *d, const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *wei,
                     const dnnl_memory_desc_t *dst, const int64_t *strides, const int64_t *dil, const int64_t *pl);
/* Floats of the partial sums nas__dw_bwd_weights needs. */
size_t nas__dw_scratch_floats(const nas__dw_t *d);
/* Overwrite diff_src (padded channels zero). Pointers are the tensors' data (offset0 is applied). */
void nas__dw_bwd_data(const nas__dw_t *d, float *dsrc, const float *wei, const float *ddst);
/* Overwrite the weight gradient (padded channels zero) and, when dbias is not NULL, the bias
 * gradient (dense, c floats). Does not depend on the number of threads. */
void nas__dw_bwd_weights(const nas__dw_t *d, float *dwei, float *dbias, const float *src, const float *ddst,
                         float *part);

/* Plain format tag for n dims (x, nc, nchw, ncdhw...). */
dnnl_format_tag_t nas__plain_tag(int ndims);

#endif /* NAS_DNNL_PRIV_H */
