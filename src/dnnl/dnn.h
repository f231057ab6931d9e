/*
 * The oneDNN layer as seen from the rest of libnas: devices (engine + stream), tensors (a memory
 * layout chosen by oneDNN plus a data pointer bound later) and ops (one layer's primitives, forward
 * and backward). No oneDNN type appears here; only src/dnnl/ includes dnnl.h.
 *
 * Life of an op: create it from input tensors whose layouts are decided (it picks the layout of its
 * output, parameters and buffers, and creates every primitive it will ever run); hand it the gradient
 * tensors (nas__op_set_grads); bind memory to all its tensors (nas__tensor_bind); then run
 * forward/backward any number of times with no allocation and no primitive creation.
 *
 * Gradients: an op's backward OVERWRITES its input gradients and parameter gradients; accumulation
 * over several consumers is the caller's job (nas__k_add). Tensors handed to an op are borrowed.
 */
#ifndef NAS_DNNL_DNN_H
#define NAS_DNNL_DNN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

/* Alignment of every buffer bound to a tensor (one cache line, one AVX-512 vector). */
#define NAS__ALIGN 64

typedef struct nas__dev nas__dev_t;
typedef struct nas__tensor nas__tensor_t;
typedef struct nas__op nas__op_t;

/* ---- device --------------------------------------------------------------------------------- */

/* A CPU engine and an in-order stream; OpenMP threads from nas_context_num_threads(ctx). */
nas_status_t nas__dev_create(nas__dev_t **out, nas_context_t *ctx);
void nas__dev_destroy(nas__dev_t *dev);
nas_context_t *nas__dev_context(const nas__dev_t *dev);
int32_t nas__dev_threads(const nas__dev_t *dev);
/* Set the calling thread's OpenMP team size to the device's; call before running ops. */
void nas__dev_enter(const nas__dev_t *dev);
/* Wait for the stream (a no-op on the OpenMP CPU runtime, kept for correctness). */
void nas__dev_wait(nas__dev_t *dev);
/* Primitives created on this device so far (steady-state checks). */
uint64_t nas__dev_primitives(const nas__dev_t *dev);

/* ---- tensors -------------------------------------------------------------------------------- */

/* A tensor with a plain layout: 1D x, 2D nc, 4D nchw (and 5D goihw). */
nas_status_t nas__tensor_create_plain(nas__tensor_t **out, nas__dev_t *dev, int ndims, const int64_t *dims);
/* A tensor with the same dims and layout as `t`. */
nas_status_t nas__tensor_create_like(nas__tensor_t **out, const nas__tensor_t *t);
void nas__tensor_destroy(nas__tensor_t *t);
/* Bytes to bind (padded blocked layouts included), a multiple of 4. */
size_t nas__tensor_bytes(const nas__tensor_t *t);
/* Logical elements (no padding). */
size_t nas__tensor_elems(const nas__tensor_t *t);
int nas__tensor_ndims(const nas__tensor_t *t);
int64_t nas__tensor_dim(const nas__tensor_t *t, int i);
bool nas__tensor_same_layout(const nas__tensor_t *a, const nas__tensor_t *b);
bool nas__tensor_is_plain(const nas__tensor_t *t);
/* Short layout name ("nChw16c", "nchw", "OIhw16i16o", "blocked" if unnamed) into buf. */
const char *nas__tensor_layout(const nas__tensor_t *t, char *buf, size_t cap);
void nas__tensor_bind(nas__tensor_t *t, void *data);
float *nas__tensor_data(const nas__tensor_t *t);
/* Copy between the tensor and a dense plain buffer of nas__tensor_elems floats (a memcpy for plain
 * tensors, a reorder otherwise). For edges only: a reorder primitive may be created. */
nas_status_t nas__tensor_read_plain(nas__tensor_t *t, float *dst, char *err);
nas_status_t nas__tensor_write_plain(nas__tensor_t *t, const float *src, char *err);
/* Copy src into dst (same dims, any layouts) with a reorder: for edges only. */
nas_status_t nas__tensor_convert(nas__tensor_t *dst, nas__tensor_t *src, char *err);

/* ---- elementwise kernels on equal-layout buffers of n floats (OpenMP, vectorized) -------------- */

void nas__k_zero(float *d, size_t n);
void nas__k_copy(float *restrict d, const float *restrict s, size_t n);
void nas__k_add(float *restrict d, const float *restrict s, size_t n);                 /* d += s */
void nas__k_scale(float *restrict d, const float *restrict s, float a, size_t n);      /* d = a s */
void nas__k_axpy(float *restrict d, const float *restrict s, float a, size_t n);       /* d += a s */
double nas__k_dot(const float *a, const float *b, size_t n);                           /* deterministic */
double nas__k_sumsq(const float *a, size_t n);
bool nas__k_finite(const float *a, size_t n);

/* ---- ops ------------------------------------------------------------------------------------ */

typedef struct nas__op_cfg {
    bool train;         /* create the backward primitives */
    const bool *need_dsrc; /* per input: is its gradient wanted (NULL: none) */
    const nas__op_t *like; /* an op of the same family whose parameter layouts to reuse if possible
                            * (plans sharing parameters), or NULL: oneDNN chooses */
} nas__op_cfg_t;

typedef enum nas__param_kind {
    NAS__PARAM_WEIGHT = 0, /* conv OIHW (groups: O x I/G x KH x KW), fc O x (C H W) */
    NAS__PARAM_BIAS,
    NAS__PARAM_SCALE,      /* BN gamma */
    NAS__PARAM_SHIFT       /* BN beta */
} nas__param_kind_t;

typedef struct nas__param_info {
    nas__param_kind_t kind;
    bool decay;         /* weight decay applies by default (weights only) */
    int64_t elems;      /* logical elements */
    int64_t fan_in;     /* weights: inputs per output */
    int64_t fan_out;
} nas__param_info_t;

typedef struct nas__conv_attr {
    int32_t out_c, k, stride, pad, dilation, groups;
    bool bias;
} nas__conv_attr_t;

typedef enum nas__eltwise_kind { NAS__ELTWISE_RELU = 0, NAS__ELTWISE_RELU6, NAS__ELTWISE_HSWISH } nas__eltwise_kind_t;
typedef enum nas__pool_kind { NAS__POOL_MAX = 0, NAS__POOL_AVG, NAS__POOL_GAP } nas__pool_kind_t;

nas_status_t nas__op_conv_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, const nas__conv_attr_t *a,
                                 const nas__op_cfg_t *cfg, char *err);
/* Batch norm with scale and shift; fuse_relu applies ReLU to the output (oneDNN's fused kernel). */
nas_status_t nas__op_bn_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, bool fuse_relu,
                               const nas__op_cfg_t *cfg, char *err);
/* Momentum of a BN op's running averages from its next training forward on (running = (1 - m) running
 * + m batch; 1: the last batch's statistics). Other ops: no effect. */
void nas__op_bn_set_momentum(nas__op_t *op, float momentum);
nas_status_t nas__op_eltwise_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, nas__eltwise_kind_t kind,
                                    const nas__op_cfg_t *cfg, char *err);
nas_status_t nas__op_pool_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, nas__pool_kind_t kind,
                                 int32_t k, int32_t stride, int32_t pad, const nas__op_cfg_t *cfg, char *err);
nas_status_t nas__op_ip_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, int32_t out_features,
                               bool bias, const nas__op_cfg_t *cfg, char *err);
nas_status_t nas__op_sum_create(nas__op_t **out, nas__dev_t *dev, uint32_t n, nas__tensor_t *const *srcs,
                                const nas__op_cfg_t *cfg, char *err);
nas_status_t nas__op_concat_create(nas__op_t **out, nas__dev_t *dev, uint32_t n, nas__tensor_t *const *srcs,
                                   const nas__op_cfg_t *cfg, char *err);
nas_status_t nas__op_crop_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, int32_t top, int32_t left,
                                 int32_t h, int32_t w, const nas__op_cfg_t *cfg, char *err);
/* Zeros shaped like src[:, :, ::stride, ::stride] in src's layout; no gradient flows back. */
nas_status_t nas__op_zero_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, int32_t stride,
                                 const nas__op_cfg_t *cfg, char *err);
/* Layout change of src into the layout of `like` (same dims); counted as an in-step reorder. */
nas_status_t nas__op_reorder_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *src, const nas__tensor_t *like,
                                    const nas__op_cfg_t *cfg, char *err);
/* Softmax cross-entropy with label smoothing, mean over the batch; dst is a 1-element tensor. */
nas_status_t nas__op_loss_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *logits, float smoothing,
                                 const nas__op_cfg_t *cfg, char *err);
/* Labels for the next forward (n = batch; each in [0, classes)): NAS_E_RANGE otherwise. */
nas_status_t nas__op_loss_set_labels(nas__op_t *op, const int32_t *labels, char *err);
/* Loss of the last forward, and how many argmax predictions matched the labels. */
void nas__op_loss_result(const nas__op_t *op, double *loss, int64_t *correct);
/* Scale of the loss gradient (default 1; e.g. 1/accumulation steps). */
void nas__op_loss_set_grad_scale(nas__op_t *op, float scale);

void nas__op_destroy(nas__op_t *op);
const char *nas__op_name(const nas__op_t *op);
nas__tensor_t *nas__op_dst(const nas__op_t *op);
uint32_t nas__op_num_params(const nas__op_t *op);
nas__tensor_t *nas__op_param(const nas__op_t *op, uint32_t i);
nas__tensor_t *nas__op_param_grad(const nas__op_t *op, uint32_t i); /* NULL when not training */
void nas__op_param_info(const nas__op_t *op, uint32_t i, nas__param_info_t *out);
/* Internal tensors that need memory for as long as the op lives (workspaces, batch statistics,
 * layout adapters). */
uint32_t nas__op_num_buffers(const nas__op_t *op);
nas__tensor_t *nas__op_buffer(const nas__op_t *op, uint32_t i);
/* Persistent state outside the parameters (BN running mean and variance, plain 1D). */
uint32_t nas__op_num_stats(const nas__op_t *op);
nas__tensor_t *nas__op_stat(const nas__op_t *op, uint32_t i);
/* Layout reorders this op runs inside a training step (adapters); 0 on the fast path. */
uint32_t nas__op_num_reorders(const nas__op_t *op);
/* Weight reorders per training step (conv backward data wants transposed weight blocks). */
uint32_t nas__op_num_weight_reorders(const nas__op_t *op);
/* Primitives of the op that run on oneDNN's reference kernels (tens of times slower than jit ones). */
uint32_t nas__op_num_ref_prims(const nas__op_t *op);
/* Largest scratchpad any of the op's primitives needs; one shared buffer serves all ops. */
size_t nas__op_scratchpad_bytes(const nas__op_t *op);
void nas__op_set_scratchpad(nas__op_t *op, void *ptr);
/* Gradient tensors: diff_src[i] (NULL where not wanted; layout of input i) and diff_dst (layout of
 * dst). Required before the first backward. */
nas_status_t nas__op_set_grads(nas__op_t *op, nas__tensor_t *const *diff_src, nas__tensor_t *diff_dst, char *err);
/* Kernel names chosen by oneDNN, one line per primitive, appended to sb (profiling/diagnostics). */
void nas__op_describe(const nas__op_t *op, nas__sb_t *sb);

void nas__op_forward(nas__op_t *op, bool train);
void nas__op_backward(nas__op_t *op);

/* Momentum of BN running statistics (PyTorch's 0.1) and epsilon (1e-5). */
#define NAS__BN_MOMENTUM 0.1f
#define NAS__BN_EPS 1e-5f

#endif /* NAS_DNNL_DNN_H */
