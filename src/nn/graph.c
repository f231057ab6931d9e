/* The network IR: builder with sticky errors, shape inference, parameter and FLOP counts. */
#include "nn/graph.h"

#include <stdio.h>
#include <string.h>

#define MAX_DIM NAS__GRAPH_MAX_DIM
#define MAX_KERNEL 31
#define MIXED_PENDING (-2) /* node added inside a mixed node that is still open */

struct nas__graph {
    nas_context_t *ctx;
    nas__node_t *nodes;
    uint32_t n_nodes, cap_nodes;
    int32_t *pool; /* node inputs and mixed path outputs */
    uint32_t n_pool, cap_pool;
    int32_t input, output, loss;
    uint32_t n_mixed;
    /* The mixed node being built. */
    bool mixed_open;
    int32_t mixed_in;
    nas__mixed_mode_t mixed_mode;
    uint32_t path_start; /* first node of the current path */
    int32_t *paths;      /* outputs of the finished paths */
    uint32_t n_paths, cap_paths;
    nas_status_t status;
    char errmsg[NAS_ERRMSG_CAP];
};

static const char *const kind_names[NAS__NODE_KIND_COUNT] = {
    "input", "conv", "bn", "relu", "relu6", "hswish", "maxpool", "avgpool", "gap", "fc",
    "identity", "zero", "crop", "sum", "concat", "mixed", "loss",
};

const char *nas__node_kind_name(nas__node_kind_t kind)
{
    return (unsigned)kind < NAS__NODE_KIND_COUNT ? kind_names[kind] : "unknown";
}

nas_status_t nas__graph_create(nas__graph_t **out, nas_context_t *ctx)
{
    if (!out)
        return NAS_E_INVAL;
    *out = NULL;
    if (!ctx)
        return NAS_E_INVAL;
    nas__graph_t *g = nas__calloc(ctx, 1, sizeof *g);
    if (!g)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating a graph");
    g->ctx = ctx;
    g->input = g->output = g->loss = -1;
    *out = g;
    return NAS_OK;
}

void nas__graph_destroy(nas__graph_t *g)
{
    if (!g)
        return;
    nas__free(g->ctx, g->nodes);
    nas__free(g->ctx, g->pool);
    nas__free(g->ctx, g->paths);
    nas__free(g->ctx, g);
}

nas_status_t nas__graph_status(const nas__graph_t *g)
{
    return g ? g->status : NAS_E_INVAL;
}

const char *nas__graph_errmsg(const nas__graph_t *g)
{
    return g ? g->errmsg : "";
}

nas_context_t *nas__graph_context(const nas__graph_t *g)
{
    return g->ctx;
}

#define gfail nas__graph_fail

int32_t nas__graph_fail(nas__graph_t *g, nas_status_t st, const char *fmt, ...)
{
    if (g->status == NAS_OK) {
        va_list ap;
        va_start(ap, fmt);
        nas__vfail(g->errmsg, st, fmt, ap);
        va_end(ap);
        g->status = st;
    }
    return -1;
}

#define check_in nas__graph_check_input

bool nas__graph_check_input(nas__graph_t *g, int32_t id, const char *what)
{
    if (g->status != NAS_OK)
        return false;
    if (id < 0 || (uint32_t)id >= g->n_nodes) {
        gfail(g, NAS_E_INVAL, "%s: input node %d does not exist (graph has %u nodes)", what, (int)id, g->n_nodes);
        return false;
    }
    const nas__node_t *n = &g->nodes[id];
    if (n->kind == NAS__NODE_LOSS) {
        gfail(g, NAS_E_INVAL, "%s: the loss node %d cannot be an input", what, (int)id);
        return false;
    }
    if (g->mixed_open) {
        bool own = n->mixed == MIXED_PENDING && (uint32_t)n->path == g->n_paths && (uint32_t)id >= g->path_start;
        if (id != g->mixed_in && !own) {
            gfail(g, NAS_E_INVAL, "%s: inside a mixed path, input %d is neither the mixed input %d nor a node of "
                  "the same path", what, (int)id, (int)g->mixed_in);
            return false;
        }
    } else if (n->mixed != -1) {
        gfail(g, NAS_E_INVAL, "%s: node %d is internal to path %d of mixed node %d; use the mixed node", what,
              (int)id, (int)n->path, (int)n->mixed);
        return false;
    }
    return true;
}

static bool push_pool(nas__graph_t *g, int32_t v)
{
    if (!nas__grow(g->ctx, (void **)&g->pool, &g->cap_pool, g->n_pool + 1, sizeof *g->pool)) {
        gfail(g, NAS_E_NOMEM, "out of memory growing the graph");
        return false;
    }
    g->pool[g->n_pool++] = v;
    return true;
}

/* Append a node with the given inputs; returns its id or -1. Attributes are filled by the caller. */
static nas__node_t *new_node(nas__graph_t *g, nas__node_kind_t kind, uint32_t n_in, const int32_t *ins,
                             int32_t *id_out)
{
    *id_out = -1;
    if (g->status != NAS_OK)
        return NULL;
    if (g->n_nodes >= (uint32_t)INT32_MAX - 1) {
        gfail(g, NAS_E_RANGE, "too many nodes");
        return NULL;
    }
    if (!nas__grow(g->ctx, (void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes)) {
        gfail(g, NAS_E_NOMEM, "out of memory growing the graph");
        return NULL;
    }
    uint32_t off = g->n_pool;
    for (uint32_t i = 0; i < n_in; i++)
        if (!push_pool(g, ins[i])) {
            g->n_pool = off;
            return NULL;
        }
    nas__node_t *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->n_in = n_in;
    n->in_off = off;
    n->mixed = g->mixed_open ? MIXED_PENDING : -1;
    n->path = g->mixed_open ? (int32_t)g->n_paths : -1;
    n->stride = n->dilation = n->groups = 1;
    *id_out = (int32_t)g->n_nodes++;
    if (!g->mixed_open && kind != NAS__NODE_LOSS && g->loss < 0)
        g->output = *id_out;
    return n;
}

static const nas__shape_t *shape_of(const nas__graph_t *g, int32_t id)
{
    return &g->nodes[id].out;
}

int32_t nas__graph_add_input(nas__graph_t *g, int32_t c, int32_t h, int32_t w)
{
    if (!g || g->status != NAS_OK)
        return -1;
    if (g->input >= 0 || g->n_nodes > 0)
        return gfail(g, NAS_E_STATE, "input: the input must be the first and only input node");
    if (c < 1 || h < 1 || w < 1 || c > MAX_DIM || h > MAX_DIM || w > MAX_DIM)
        return gfail(g, NAS_E_INVAL, "input: bad shape %d x %d x %d", (int)c, (int)h, (int)w);
    int32_t id;
    nas__node_t *n = new_node(g, NAS__NODE_INPUT, 0, NULL, &id);
    if (!n)
        return -1;
    n->out = (nas__shape_t){ c, h, w };
    g->input = id;
    return id;
}

/* Output size of a sliding window; < 1 when the window does not fit. */
static int32_t window_out(int32_t in, int32_t k, int32_t stride, int32_t pad, int32_t dilation)
{
    int64_t span = (int64_t)dilation * (k - 1) + 1;
    int64_t num = (int64_t)in + 2 * pad - span;
    if (num < 0)
        return 0;
    return (int32_t)(num / stride + 1);
}

int32_t nas__graph_add_conv(nas__graph_t *g, int32_t in, int32_t out_c, int32_t k, int32_t stride,
                            int32_t dilation, int32_t groups, bool bias)
{
    if (!g || !check_in(g, in, "conv"))
        return -1;
    nas__shape_t s = *shape_of(g, in);
    if (out_c < 1 || out_c > MAX_DIM)
        return gfail(g, NAS_E_INVAL, "conv on node %d: bad output channel count %d", (int)in, (int)out_c);
    if (k < 1 || k > MAX_KERNEL || stride < 1 || stride > MAX_KERNEL || dilation < 1 || dilation > MAX_KERNEL)
        return gfail(g, NAS_E_INVAL, "conv on node %d: bad kernel %d, stride %d or dilation %d", (int)in, (int)k,
                     (int)stride, (int)dilation);
    if (groups < 1 || s.c % groups != 0 || out_c % groups != 0)
        return gfail(g, NAS_E_INVAL, "conv on node %d: %d input and %d output channels are not divisible by %d "
                     "groups", (int)in, (int)s.c, (int)out_c, (int)groups);
    int32_t pad = dilation * (k - 1) / 2;
    int32_t oh = window_out(s.h, k, stride, pad, dilation), ow = window_out(s.w, k, stride, pad, dilation);
    if (oh < 1 || ow < 1)
        return gfail(g, NAS_E_INVAL, "conv on node %d: kernel %d (dilation %d) does not fit the %d x %d input",
                     (int)in, (int)k, (int)dilation, (int)s.h, (int)s.w);
    int32_t id;
    nas__node_t *n = new_node(g, NAS__NODE_CONV, 1, &in, &id);
    if (!n)
        return -1;
    n->out = (nas__shape_t){ out_c, oh, ow };
    n->k = k;
    n->stride = stride;
    n->pad = pad;
    n->dilation = dilation;
    n->groups = groups;
    n->bias = bias;
    int64_t macs_per_out = (int64_t)(s.c / groups) * k * k;
    n->params = (int64_t)out_c * macs_per_out + (bias ? out_c : 0);
    n->flops = 2 * macs_per_out * out_c * oh * ow;
    return id;
}

int32_t nas__graph_add_bn(nas__graph_t *g, int32_t in)
{
    if (!g || !check_in(g, in, "bn"))
        return -1;
    int32_t id;
    nas__node_t *n = new_node(g, NAS__NODE_BN, 1, &in, &id);
    if (!n)
        return -1;
    n->out = *shape_of(g, in);
    n->params = 2 * (int64_t)n->out.c;
    return id;
}

static int32_t add_unary(nas__graph_t *g, int32_t in, nas__node_kind_t kind)
{
    if (!g || !check_in(g, in, nas__node_kind_name(kind)))
        return -1;
    int32_t id;
    nas__node_t *n = new_node(g, kind, 1, &in, &id);
    if (!n)
        return -1;
    n->out = *shape_of(g, in);
    return id;
}

int32_t nas__graph_add_relu(nas__graph_t *g, int32_t in) { return add_unary(g, in, NAS__NODE_RELU); }
int32_t nas__graph_add_relu6(nas__graph_t *g, int32_t in) { return add_unary(g, in, NAS__NODE_RELU6); }
int32_t nas__graph_add_hswish(nas__graph_t *g, int32_t in) { return add_unary(g, in, NAS__NODE_HSWISH); }
int32_t nas__graph_add_identity(nas__graph_t *g, int32_t in) { return add_unary(g, in, NAS__NODE_IDENTITY); }

static int32_t add_pool(nas__graph_t *g, int32_t in, nas__node_kind_t kind, int32_t k, int32_t stride, int32_t pad)
{
    const char *what = nas__node_kind_name(kind);
    if (!g || !check_in(g, in, what))
        return -1;
    nas__shape_t s = *shape_of(g, in);
    if (k < 1 || k > MAX_KERNEL || stride < 1 || stride > MAX_KERNEL || pad < 0 || pad > k / 2)
        return gfail(g, NAS_E_INVAL, "%s on node %d: bad kernel %d, stride %d or padding %d (0 <= pad <= k/2)", what,
                     (int)in, (int)k, (int)stride, (int)pad);
    int32_t oh = window_out(s.h, k, stride, pad, 1), ow = window_out(s.w, k, stride, pad, 1);
    if (oh < 1 || ow < 1)
        return gfail(g, NAS_E_INVAL, "%s on node %d: kernel %d does not fit the %d x %d input", what, (int)in,
                     (int)k, (int)s.h, (int)s.w);
    int32_t id;
    nas__node_t *n = new_node(g, kind, 1, &in, &id);
    if (!n)
        return -1;
    n->out = (nas__shape_t){ s.c, oh, ow };
    n->k = k;
    n->stride = stride;
    n->pad = pad;
    return id;
}

int32_t nas__graph_add_maxpool(nas__graph_t *g, int32_t in, int32_t k, int32_t stride, int32_t pad)
{
    return add_pool(g, in, NAS__NODE_MAXPOOL, k, stride, pad);
}

int32_t nas__graph_add_avgpool(nas__graph_t *g, int32_t in, int32_t k, int32_t stride, int32_t pad)
{
    return add_pool(g, in, NAS__NODE_AVGPOOL, k, stride, pad);
}

int32_t nas__graph_add_gap(nas__graph_t *g, int32_t in)
{
    if (!g || !check_in(g, in, "gap"))
        return -1;
    int32_t id;
    nas__node_t *n = new_node(g, NAS__NODE_GAP, 1, &in, &id);
    if (!n)
        return -1;
    n->out = (nas__shape_t){ shape_of(g, in)->c, 1, 1 };
    return id;
}

int32_t nas__graph_add_fc(nas__graph_t *g, int32_t in, int32_t out_features, bool bias)
{
    if (!g || !check_in(g, in, "fc"))
        return -1;
    if (out_features < 1 || out_features > MAX_DIM)
        return gfail(g, NAS_E_INVAL, "fc on node %d: bad output size %d", (int)in, (int)out_features);
    nas__shape_t s = *shape_of(g, in);
    int64_t fan_in = (int64_t)s.c * s.h * s.w;
    if (fan_in * out_features > ((int64_t)1 << 31))
        return gfail(g, NAS_E_RANGE, "fc on node %d: %lld x %d weights are too many", (int)in, (long long)fan_in,
                     (int)out_features);
    int32_t id;
    nas__node_t *n = new_node(g, NAS__NODE_FC, 1, &in, &id);
    if (!n)
        return -1;
    n->out = (nas__shape_t){ out_features, 1, 1 };
    n->bias = bias;
    n->params = fan_in * out_features + (bias ? out_features : 0);
    n->flops = 2 * fan_in * out_features;
    return id;
}

int32_t nas__graph_add_zero(nas__graph_t *g, int32_t in, int32_t stride)
{
    if (!g || !check_in(g, in, "zero"))
        return -1;
    if (stride < 1 || stride > MAX_KERNEL)
        return gfail(g, NAS_E_INVAL, "zero on node %d: bad stride %d", (int)in, (int)stride);
    nas__shape_t s = *shape_of(g, in);
    int32_t id;
    nas__node_t *n = new_node(g, NAS__NODE_ZERO, 1, &in, &id);
    if (!n)
        return -1;
    n->out = (nas__shape_t){ s.c, (s.h - 1) / stride + 1, (s.w - 1) / stride + 1 };
    n->stride = stride;
    return id;
}

int32_t nas__graph_add_crop(nas__graph_t *g, int32_t in, int32_t top, int32_t left, int32_t h, int32_t w)
{
    if (!g || !check_in(g, in, "crop"))
        return -1;
    nas__shape_t s = *shape_of(g, in);
    if (top < 0 || left < 0 || h < 1 || w < 1 || (int64_t)top + h > s.h || (int64_t)left + w > s.w)
        return gfail(g, NAS_E_INVAL, "crop on node %d: window %d x %d at (%d, %d) is outside the %d x %d input",
                     (int)in, (int)h, (int)w, (int)top, (int)left, (int)s.h, (int)s.w);
    int32_t id;
    nas__node_t *n = new_node(g, NAS__NODE_CROP, 1, &in, &id);
    if (!n)
        return -1;
    n->out = (nas__shape_t){ s.c, h, w };
    n->top = top;
    n->left = left;
    return id;
}

static int32_t add_join(nas__graph_t *g, nas__node_kind_t kind, uint32_t n_in, const int32_t *ins)
{
    const char *what = nas__node_kind_name(kind);
    if (!g || g->status != NAS_OK)
        return -1;
    if (n_in < 1 || n_in > 1024 || !ins)
        return gfail(g, NAS_E_INVAL, "%s: needs 1 to 1024 inputs, got %u", what, n_in);
    int64_t c = 0;
    for (uint32_t i = 0; i < n_in; i++) {
        if (!check_in(g, ins[i], what))
            return -1;
        const nas__shape_t *a = shape_of(g, ins[0]), *b = shape_of(g, ins[i]);
        bool same = kind == NAS__NODE_SUM ? a->c == b->c && a->h == b->h && a->w == b->w
                                          : a->h == b->h && a->w == b->w;
        if (!same)
            return gfail(g, NAS_E_INVAL, "%s: input %d is %d x %d x %d but input %d is %d x %d x %d", what,
                         (int)ins[i], (int)b->c, (int)b->h, (int)b->w, (int)ins[0], (int)a->c, (int)a->h, (int)a->w);
        c += b->c;
    }
    if (c > MAX_DIM)
        return gfail(g, NAS_E_RANGE, "concat: %lld channels are too many", (long long)c);
    nas__shape_t s = *shape_of(g, ins[0]);
    int32_t id;
    nas__node_t *n = new_node(g, kind, n_in, ins, &id);
    if (!n)
        return -1;
    n->out = s;
    if (kind == NAS__NODE_CONCAT)
        n->out.c = (int32_t)c;
    return id;
}

int32_t nas__graph_add_sum(nas__graph_t *g, uint32_t n, const int32_t *ins)
{
    return add_join(g, NAS__NODE_SUM, n, ins);
}

int32_t nas__graph_add_concat(nas__graph_t *g, uint32_t n, const int32_t *ins)
{
    return add_join(g, NAS__NODE_CONCAT, n, ins);
}

int32_t nas__graph_add_loss(nas__graph_t *g, int32_t in, float smoothing)
{
    if (!g || !check_in(g, in, "loss"))
        return -1;
    if (g->mixed_open)
        return gfail(g, NAS_E_STATE, "loss: not allowed inside a mixed node");
    if (g->loss >= 0)
        return gfail(g, NAS_E_STATE, "loss: the graph already has a loss (node %d)", (int)g->loss);
    if (!(smoothing >= 0.0f && smoothing < 1.0f))
        return gfail(g, NAS_E_INVAL, "loss: label smoothing %g is outside [0, 1)", (double)smoothing);
    nas__shape_t s = *shape_of(g, in);
    if (s.h != 1 || s.w != 1 || s.c < 2)
        return gfail(g, NAS_E_INVAL, "loss: input %d must be K x 1 x 1 with K >= 2 classes, is %d x %d x %d",
                     (int)in, (int)s.c, (int)s.h, (int)s.w);
    int32_t id;
    nas__node_t *n = new_node(g, NAS__NODE_LOSS, 1, &in, &id);
    if (!n)
        return -1;
    n->out = (nas__shape_t){ 1, 1, 1 };
    n->smoothing = smoothing;
    g->loss = g->output = id;
    return id;
}

nas_status_t nas__graph_mixed_begin(nas__graph_t *g, int32_t in, nas__mixed_mode_t mode)
{
    if (!g)
        return NAS_E_INVAL;
    if (g->mixed_open) {
        gfail(g, NAS_E_UNSUPPORTED, "mixed: nested mixed nodes are not supported");
        return g->status;
    }
    if (!check_in(g, in, "mixed"))
        return g->status;
    if (mode != NAS__MIXED_WEIGHTED && mode != NAS__MIXED_SINGLE && mode != NAS__MIXED_BINARY) {
        gfail(g, NAS_E_INVAL, "mixed on node %d: unknown mode %d", (int)in, (int)mode);
        return g->status;
    }
    g->mixed_open = true;
    g->mixed_in = in;
    g->mixed_mode = mode;
    g->path_start = g->n_nodes;
    g->n_paths = 0;
    return NAS_OK;
}

nas_status_t nas__graph_mixed_end_path(nas__graph_t *g, int32_t path_out)
{
    if (!g)
        return NAS_E_INVAL;
    if (g->status != NAS_OK)
        return g->status;
    if (!g->mixed_open) {
        gfail(g, NAS_E_STATE, "mixed: end_path without mixed_begin");
        return g->status;
    }
    if (path_out < (int32_t)g->path_start || (uint32_t)path_out >= g->n_nodes) {
        gfail(g, NAS_E_INVAL, "mixed: path %u must end in one of its own nodes (%u..%u), got %d (use an identity "
              "node for a skip path)", g->n_paths, g->path_start, g->n_nodes - 1, (int)path_out);
        return g->status;
    }
    const nas__shape_t *a = shape_of(g, path_out);
    if (g->n_paths > 0) {
        const nas__shape_t *b = shape_of(g, g->paths[0]);
        if (a->c != b->c || a->h != b->h || a->w != b->w) {
            gfail(g, NAS_E_INVAL, "mixed: path %u gives %d x %d x %d but path 0 gives %d x %d x %d", g->n_paths,
                  (int)a->c, (int)a->h, (int)a->w, (int)b->c, (int)b->h, (int)b->w);
            return g->status;
        }
    }
    if (g->n_paths >= NAS__GRAPH_MAX_PATHS) {
        gfail(g, NAS_E_RANGE, "mixed: more than %d paths", NAS__GRAPH_MAX_PATHS);
        return g->status;
    }
    if (!nas__grow(g->ctx, (void **)&g->paths, &g->cap_paths, g->n_paths + 1, sizeof *g->paths)) {
        gfail(g, NAS_E_NOMEM, "out of memory growing a mixed node");
        return g->status;
    }
    g->paths[g->n_paths++] = path_out;
    g->path_start = g->n_nodes;
    return NAS_OK;
}

int32_t nas__graph_mixed_end(nas__graph_t *g)
{
    if (!g || g->status != NAS_OK)
        return -1;
    if (!g->mixed_open)
        return gfail(g, NAS_E_STATE, "mixed: end without begin");
    if (g->n_paths < 1)
        return gfail(g, NAS_E_INVAL, "mixed on node %d: no candidate path", (int)g->mixed_in);
    if (g->path_start != g->n_nodes)
        return gfail(g, NAS_E_STATE, "mixed on node %d: nodes added after the last end_path", (int)g->mixed_in);
    uint32_t first = g->n_nodes;
    for (uint32_t i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].mixed == MIXED_PENDING && i < first)
            first = i;
    g->mixed_open = false;
    int32_t id;
    nas__node_t *n = new_node(g, NAS__NODE_MIXED, 1, &g->mixed_in, &id);
    if (!n) {
        g->mixed_open = true;
        return -1;
    }
    uint32_t off = g->n_pool;
    for (uint32_t p = 0; p < g->n_paths; p++)
        if (!push_pool(g, g->paths[p]))
            return -1;
    n = &g->nodes[id];
    n->paths_off = off;
    n->n_paths = g->n_paths;
    n->mode = g->mixed_mode;
    n->alpha_of = id;
    n->out = *shape_of(g, g->paths[0]);
    for (uint32_t i = first; i < (uint32_t)id; i++) {
        g->nodes[i].mixed = id;
        n->params += g->nodes[i].params;
        n->flops += g->nodes[i].flops;
    }
    g->n_mixed++;
    return id;
}

nas_status_t nas__graph_mixed_share_alphas(nas__graph_t *g, int32_t id, int32_t owner)
{
    if (!g)
        return NAS_E_INVAL;
    if (g->status != NAS_OK)
        return g->status;
    if (id < 0 || (uint32_t)id >= g->n_nodes || owner < 0 || owner >= id || g->nodes[id].kind != NAS__NODE_MIXED ||
        g->nodes[owner].kind != NAS__NODE_MIXED) {
        gfail(g, NAS_E_INVAL, "share_alphas: %d and %d must be mixed nodes, the owner first", (int)id, (int)owner);
        return g->status;
    }
    owner = g->nodes[owner].alpha_of;
    if (g->nodes[owner].n_paths != g->nodes[id].n_paths) {
        gfail(g, NAS_E_INVAL, "share_alphas: mixed node %d has %u paths, %d has %u", (int)id, g->nodes[id].n_paths,
              (int)owner, g->nodes[owner].n_paths);
        return g->status;
    }
    g->nodes[id].alpha_of = owner;
    return NAS_OK;
}

nas_status_t nas__graph_set_output(nas__graph_t *g, int32_t id)
{
    if (!g)
        return NAS_E_INVAL;
    if (g->status != NAS_OK)
        return g->status;
    if (id < 0 || (uint32_t)id >= g->n_nodes || g->nodes[id].mixed != -1) {
        gfail(g, NAS_E_INVAL, "set_output: %d is not a node outside mixed paths", (int)id);
        return g->status;
    }
    if (g->loss >= 0 && id != g->loss) {
        gfail(g, NAS_E_STATE, "set_output: the graph ends in a loss (node %d)", (int)g->loss);
        return g->status;
    }
    g->output = id;
    return NAS_OK;
}

nas_status_t nas__graph_validate(const nas__graph_t *g, char *errbuf)
{
    if (!g)
        return nas__fail(errbuf, NAS_E_INVAL, "graph is NULL");
    if (g->status != NAS_OK)
        return nas__fail(errbuf, g->status, "%s", g->errmsg);
    if (g->input < 0)
        return nas__fail(errbuf, NAS_E_INVAL, "the graph has no input node");
    if (g->mixed_open)
        return nas__fail(errbuf, NAS_E_STATE, "a mixed node is still open");
    if (g->output < 0 || g->output == g->input)
        return nas__fail(errbuf, NAS_E_INVAL, "the graph has no output node");
    return NAS_OK;
}

uint32_t nas__graph_num_nodes(const nas__graph_t *g) { return g->n_nodes; }
const nas__node_t *nas__graph_node(const nas__graph_t *g, int32_t id) { return &g->nodes[id]; }
int32_t nas__graph_in(const nas__graph_t *g, int32_t id, uint32_t i) { return g->pool[g->nodes[id].in_off + i]; }
int32_t nas__graph_output(const nas__graph_t *g) { return g->output; }
int32_t nas__graph_input_node(const nas__graph_t *g) { return g->input; }
uint32_t nas__graph_num_mixed(const nas__graph_t *g) { return g->n_mixed; }

int32_t nas__graph_path_out(const nas__graph_t *g, int32_t id, uint32_t p)
{
    return g->pool[g->nodes[id].paths_off + p];
}

int32_t nas__graph_mixed_index(const nas__graph_t *g, int32_t id)
{
    int32_t k = 0;
    for (int32_t i = 0; i < id; i++)
        k += g->nodes[i].kind == NAS__NODE_MIXED;
    return g->nodes[id].kind == NAS__NODE_MIXED ? k : -1;
}

int64_t nas__graph_params(const nas__graph_t *g)
{
    int64_t s = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].kind != NAS__NODE_MIXED)
            s += g->nodes[i].params;
    return s;
}

int64_t nas__graph_flops(const nas__graph_t *g)
{
    int64_t s = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].kind != NAS__NODE_MIXED)
            s += g->nodes[i].flops;
    return s;
}
