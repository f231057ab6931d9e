/*
 * A small network IR, independent of oneDNN: nodes with an op kind, attributes, input node ids and
 * a per-sample output shape (C, H, W; the batch is chosen when the graph is compiled into a plan).
 *
 * Building: every nas__graph_add_* returns the new node's id (>= 0), or -1 once the graph is in
 * error. The first error is kept (nas__graph_status / nas__graph_errmsg) and later calls are
 * no-ops returning -1, so a builder can chain calls and check once at the end. Inputs of a node
 * are always earlier nodes: node ids are a topological order.
 *
 * Mixed nodes (supernets): nas__graph_mixed_begin(g, in, mode) opens a mixed node over `in`;
 * nodes added until nas__graph_mixed_end_path(g, out) form one candidate path (they may use `in`
 * and the path's own nodes only); nas__graph_mixed_end(g) closes the node and returns its id. The
 * output is, by mode: the softmax(alpha)-weighted sum of the paths (DARTS), one selected path
 * (SPOS, GDAS-style sampling; selected at run time), or a binary-gated path (ProxylessNAS).
 * Paths must agree on the output shape. A path may be a single identity or zero node.
 */
#ifndef NAS_NN_GRAPH_H
#define NAS_NN_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/internal.h"

/* Largest per-sample channel count or spatial size. */
#define NAS__GRAPH_MAX_DIM 65536
/* Most candidate paths of one mixed node. */
#define NAS__GRAPH_MAX_PATHS 256

typedef enum nas__node_kind {
    NAS__NODE_INPUT = 0,
    NAS__NODE_CONV,      /* k x k conv, "same" padding dilation*(k-1)/2, stride, dilation, groups, optional bias */
    NAS__NODE_BN,        /* batch norm with affine scale and shift, momentum 0.1, eps 1e-5 */
    NAS__NODE_RELU,
    NAS__NODE_RELU6,
    NAS__NODE_HSWISH,
    NAS__NODE_MAXPOOL,   /* k, stride, pad; padding never wins the max */
    NAS__NODE_AVGPOOL,   /* k, stride, pad; count_include_pad = false */
    NAS__NODE_GAP,       /* global average pool to C x 1 x 1 */
    NAS__NODE_FC,        /* fully connected over C*H*W (flatten order C, H, W), optional bias */
    NAS__NODE_IDENTITY,
    NAS__NODE_ZERO,      /* zeros shaped like x[:, :, ::s, ::s] */
    NAS__NODE_CROP,      /* x[:, :, top:top+h, left:left+w] */
    NAS__NODE_SUM,       /* elementwise sum of >= 2 equal shapes */
    NAS__NODE_CONCAT,    /* channel concatenation of >= 2 inputs with equal H, W */
    NAS__NODE_MIXED,     /* candidate paths over one input; see above */
    NAS__NODE_LOSS,      /* softmax cross-entropy with label smoothing over a C x 1 x 1 input; mean over the batch */
    NAS__NODE_KIND_COUNT
} nas__node_kind_t;

typedef enum nas__mixed_mode {
    NAS__MIXED_WEIGHTED = 0, /* sum_k softmax(alpha)_k * path_k(x) */
    NAS__MIXED_SINGLE = 1,   /* path_sel(x), sel chosen at run time */
    NAS__MIXED_BINARY = 2    /* ProxylessNAS binary gates (IR only for now: plans reject it) */
} nas__mixed_mode_t;

typedef struct nas__shape {
    int32_t c, h, w;
} nas__shape_t;

typedef struct nas__node {
    nas__node_kind_t kind;
    uint32_t n_in;        /* number of inputs */
    uint32_t in_off;      /* first input in the graph's input pool (nas__graph_inputs) */
    nas__shape_t out;     /* per-sample output shape */
    /* Attributes (meaning by kind; unused ones are 0). */
    int32_t k, stride, pad, dilation, groups;
    int32_t top, left;    /* crop offsets */
    bool bias;
    float smoothing;      /* loss */
    /* Mixed node: its paths are `n_paths` runs of nodes; path p's output is node path_out[p] (pool). */
    nas__mixed_mode_t mode;
    uint32_t n_paths;
    uint32_t paths_off;   /* path outputs in the input pool, after the mixed node's single input */
    int32_t alpha_of;     /* the mixed node whose architecture weights this one uses (itself by default) */
    /* Membership: the mixed node this node belongs to (-1: none) and its path index. */
    int32_t mixed, path;
    /* Counts for this node alone (a mixed node: sum over its paths, which are counted there too). */
    int64_t params;       /* trainable scalars */
    int64_t flops;        /* forward FLOPs per sample, 2 x multiply-adds of convs and fc layers */
} nas__node_t;

typedef struct nas__graph nas__graph_t;

/* Create an empty graph. NAS_E_INVAL for NULL arguments, NAS_E_NOMEM. */
nas_status_t nas__graph_create(nas__graph_t **out, nas_context_t *ctx);
void nas__graph_destroy(nas__graph_t *g);

/* First error of the builder (NAS_OK if none) and its message ("" if none). */
nas_status_t nas__graph_status(const nas__graph_t *g);
const char *nas__graph_errmsg(const nas__graph_t *g);

/* The single input node (per-sample shape c x h x w). Must be the first node. */
int32_t nas__graph_add_input(nas__graph_t *g, int32_t c, int32_t h, int32_t w);
int32_t nas__graph_add_conv(nas__graph_t *g, int32_t in, int32_t out_c, int32_t k, int32_t stride,
                            int32_t dilation, int32_t groups, bool bias);
int32_t nas__graph_add_bn(nas__graph_t *g, int32_t in);
int32_t nas__graph_add_relu(nas__graph_t *g, int32_t in);
int32_t nas__graph_add_relu6(nas__graph_t *g, int32_t in);
int32_t nas__graph_add_hswish(nas__graph_t *g, int32_t in);
int32_t nas__graph_add_maxpool(nas__graph_t *g, int32_t in, int32_t k, int32_t stride, int32_t pad);
int32_t nas__graph_add_avgpool(nas__graph_t *g, int32_t in, int32_t k, int32_t stride, int32_t pad);
int32_t nas__graph_add_gap(nas__graph_t *g, int32_t in);
int32_t nas__graph_add_fc(nas__graph_t *g, int32_t in, int32_t out_features, bool bias);
int32_t nas__graph_add_identity(nas__graph_t *g, int32_t in);
int32_t nas__graph_add_zero(nas__graph_t *g, int32_t in, int32_t stride);
int32_t nas__graph_add_crop(nas__graph_t *g, int32_t in, int32_t top, int32_t left, int32_t h, int32_t w);
int32_t nas__graph_add_sum(nas__graph_t *g, uint32_t n, const int32_t *ins);
int32_t nas__graph_add_concat(nas__graph_t *g, uint32_t n, const int32_t *ins);
/* Softmax cross-entropy with label smoothing in [0, 1); becomes the graph's output. */
int32_t nas__graph_add_loss(nas__graph_t *g, int32_t in, float smoothing);

/* For composite builders: record the first error (returns -1), and check that `id` may be the input
 * of the next node (recording an error naming `what` if not). */
int32_t nas__graph_fail(nas__graph_t *g, nas_status_t st, const char *fmt, ...) NAS_PRINTF(3, 4);
bool nas__graph_check_input(nas__graph_t *g, int32_t id, const char *what);

/* Composites emitting primitive nodes; they return the id of their last node. */
/* DARTS FactorizedReduce: relu, two 1x1 stride-2 convs (on x and on x[1:, 1:]) with out_c/2 channels
 * each, concat, BN. Needs an even out_c and even H, W. */
int32_t nas__graph_add_factorized_reduce(nas__graph_t *g, int32_t in, int32_t out_c);
/* MobileNetV2 block: [1x1 expand + BN + ReLU6 unless expand == 1], k x k depthwise (stride) + BN + ReLU6,
 * 1x1 project + BN, + x when stride == 1 and in == out channels. */
int32_t nas__graph_add_inverted_residual(nas__graph_t *g, int32_t in, int32_t expand, int32_t k, int32_t stride,
                                         int32_t out_c);

/* Mixed nodes (see the top of this file). Nested mixed nodes are not supported. */
nas_status_t nas__graph_mixed_begin(nas__graph_t *g, int32_t in, nas__mixed_mode_t mode);
nas_status_t nas__graph_mixed_end_path(nas__graph_t *g, int32_t path_out);
int32_t nas__graph_mixed_end(nas__graph_t *g);

/* Make mixed node `id` use the architecture weights of the earlier mixed node `owner` (same number
 * of paths), as DARTS shares one alpha per edge and op among all normal (or reduction) cells. The
 * alpha gradient is then the sum over the nodes that share it. */
nas_status_t nas__graph_mixed_share_alphas(nas__graph_t *g, int32_t id, int32_t owner);

/* The output node (default: the last node added outside a mixed node; a loss node always wins). */
nas_status_t nas__graph_set_output(nas__graph_t *g, int32_t id);

/* Whole-graph check before compiling: one input, an output, no open mixed node, no error. */
nas_status_t nas__graph_validate(const nas__graph_t *g, char *errbuf);

/* Read access. Ids are 0..num_nodes-1; accessors assume valid ids. */
uint32_t nas__graph_num_nodes(const nas__graph_t *g);
const nas__node_t *nas__graph_node(const nas__graph_t *g, int32_t id);
/* Input i of node id (i < n_in). For a mixed node, input 0 is its input and path outputs follow. */
int32_t nas__graph_in(const nas__graph_t *g, int32_t id, uint32_t i);
/* Output node of path p of mixed node id. */
int32_t nas__graph_path_out(const nas__graph_t *g, int32_t id, uint32_t p);
int32_t nas__graph_output(const nas__graph_t *g);
int32_t nas__graph_input_node(const nas__graph_t *g);
/* Number of mixed nodes (they are numbered 0.. in node order: nas__graph_mixed_index). */
uint32_t nas__graph_num_mixed(const nas__graph_t *g);
int32_t nas__graph_mixed_index(const nas__graph_t *g, int32_t id);
/* Totals over all nodes (mixed nodes counted once, through their paths). */
int64_t nas__graph_params(const nas__graph_t *g);
int64_t nas__graph_flops(const nas__graph_t *g);
const char *nas__node_kind_name(nas__node_kind_t kind);
nas_context_t *nas__graph_context(const nas__graph_t *g);

#endif /* NAS_NN_GRAPH_H */
