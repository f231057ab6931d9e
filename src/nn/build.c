/* Space -> network: discrete graphs of architectures and supernets of spaces (semantics: build.h). */
#include "nn/build.h"

#include <math.h>
#include <string.h>

#include "space/space_internal.h"

#define MAXN NAS_SPACE_MAX_NODES

typedef struct bld {
    nas__graph_t *g;
    const nas_space_t *s;
    const uint32_t *choice;     /* the arch's choices; NULL for a supernet */
    nas__build_opts_t o;
    nas__mixed_mode_t mode;
    bool pool_bn;
    nas__supernet_map_t *map;   /* supernets: where mixed nodes are recorded (may be NULL) */
    uint32_t map_cap;
    nas_status_t st;            /* failures outside the graph (map growth) */
    nas__opdef_t ops[NAS_SPACE_MAX_CHOICES]; /* cell family: the parsed cell op list */
} bld_t;

/* The cell network's skeleton, from the macro or the defaults of build.h. */
typedef struct cellnet {
    uint32_t n_in, total, k;
    bool darts;                 /* DARTS-like: inputs preprocessed, no BN-ReLU before the global pool */
    bool concat;
    uint32_t t_normal;
    int32_t t_reduce;           /* -1 without a "reduce" type */
    bool red_cell;              /* reductions are cells */
    int32_t stem;
    uint32_t n_stages;
    const nas_macro_stage_t *stages;
} cellnet_t;

static const nas_macro_stage_t nb201_stages[] = { { 5, 16 }, { 5, 32 }, { 5, 64 } };
static const nas_macro_stage_t darts_stages[] = { { 2, 16 }, { 2, 32 }, { 2, 64 } };

/* ---------------------------------------------------------------------- */
/* Blocks                                                                   */

static int32_t relu_conv_bn(nas__graph_t *g, int32_t x, int32_t c, int32_t k, int32_t stride)
{
    x = nas__graph_add_relu(g, x);
    x = nas__graph_add_conv(g, x, c, k, stride, 1, 1, false);
    return nas__graph_add_bn(g, x);
}

/* By value: adding nodes may move the node array. */
static nas__shape_t shape(const bld_t *b, int32_t id)
{
    return nas__graph_node(b->g, id)->out;
}

/* Halve the resolution to c channels: DARTS's factorized reduce, or ReLU-conv1x1/2-BN (same parameter
 * count) where it cannot split the channels or the pixels evenly. */
static int32_t reduce2(bld_t *b, int32_t x, int32_t c)
{
    if (x < 0)
        return -1;
    nas__shape_t s = shape(b, x);
    if (c % 2 == 0 && s.h % 2 == 0 && s.w % 2 == 0)
        return nas__graph_add_factorized_reduce(b->g, x, c);
    return relu_conv_bn(b->g, x, c, 1, 2);
}

static int32_t pool_bn(bld_t *b, int32_t x)
{
    return b->pool_bn ? nas__graph_add_bn(b->g, x) : x;
}

/* One cell op on x (c -> c channels). `path`: inside a mixed path, where every op needs a node. */
static int32_t cell_op(bld_t *b, int32_t x, const nas__opdef_t *op, int32_t c, int32_t stride, bool path)
{
    nas__graph_t *g = b->g;
    int32_t k = op->kernel, y;
    switch (op->kind) {
    case NAS__OP_NONE:
        return nas__graph_add_zero(g, x, stride);
    case NAS__OP_SKIP:
        if (stride != 1)
            return reduce2(b, x, c);
        return path ? nas__graph_add_identity(g, x) : x;
    case NAS__OP_CONV:
        return relu_conv_bn(g, x, c, k, stride);
    case NAS__OP_SEP_CONV:
        y = nas__graph_add_relu(g, x);
        y = nas__graph_add_conv(g, y, shape(b, x).c, k, stride, 1, shape(b, x).c, false);
        y = nas__graph_add_bn(g, nas__graph_add_conv(g, y, shape(b, x).c, 1, 1, 1, 1, false));
        y = nas__graph_add_relu(g, y);
        if (y < 0)
            return -1;
        y = nas__graph_add_conv(g, y, shape(b, y).c, k, 1, 1, shape(b, y).c, false);
        return nas__graph_add_bn(g, nas__graph_add_conv(g, y, c, 1, 1, 1, 1, false));
    case NAS__OP_DIL_CONV:
        y = nas__graph_add_relu(g, x);
        y = nas__graph_add_conv(g, y, shape(b, x).c, k, stride, op->dilation, shape(b, x).c, false);
        return nas__graph_add_bn(g, nas__graph_add_conv(g, y, c, 1, 1, 1, 1, false));
    case NAS__OP_AVG_POOL:
        return pool_bn(b, nas__graph_add_avgpool(g, x, k, stride, k / 2));
    case NAS__OP_MAX_POOL:
        return pool_bn(b, nas__graph_add_maxpool(g, x, k, stride, k / 2));
    default:
        return nas__graph_fail(g, NAS_E_INTERNAL, "op kind %d is not a cell op", (int)op->kind);
    }
}

/* NAS-Bench-201's residual reduction block (stride 2). */
static int32_t res_block(bld_t *b, int32_t x, int32_t c)
{
    nas__graph_t *g = b->g;
    if (x < 0)
        return -1;
    int32_t a = relu_conv_bn(g, x, c, 3, 2);
    a = relu_conv_bn(g, a, c, 3, 1);
    nas__shape_t s = shape(b, x);
    bool even = s.h % 2 == 0 && s.w % 2 == 0;
    int32_t sc = even ? nas__graph_add_avgpool(g, x, 2, 2, 0) : nas__graph_add_avgpool(g, x, 3, 2, 1);
    sc = nas__graph_add_conv(g, sc, c, 1, 1, 1, 1, false);
    int32_t ins[2] = { sc, a };
    return nas__graph_add_sum(g, 2, ins);
}

static int32_t head(bld_t *b, int32_t x, bool bn_relu)
{
    nas__graph_t *g = b->g;
    if (bn_relu)
        x = nas__graph_add_relu(g, nas__graph_add_bn(g, x));
    x = nas__graph_add_fc(g, nas__graph_add_gap(g, x), b->o.num_classes, true);
    return nas__graph_add_loss(g, x, b->o.label_smoothing);
}

/* ---------------------------------------------------------------------- */
/* Mixed nodes                                                             */

static bool record_mixed(bld_t *b, int32_t id, nas__mixed_map_t e)
{
    nas__supernet_map_t *m = b->map;
    if (id < 0 || !m)
        return id >= 0;
    if (!nas__grow(m->ctx, (void **)&m->mixed, &b->map_cap, m->num_mixed + 1, sizeof *m->mixed)) {
        b->st = NAS_E_NOMEM;
        return false;
    }
    e.node = id;
    e.n_paths = nas__graph_node(b->g, id)->n_paths;
    m->mixed[m->num_mixed++] = e;
    m->total_paths += e.n_paths;
    return true;
}

/* ---------------------------------------------------------------------- */
/* Cells                                                                    */

typedef struct edge {
    uint8_t from, to;
    int32_t op;                 /* index in the cell op list; -1: every op (supernet) */
    int32_t dim, inputs_dim;    /* for the map */
} edge_t;

/* The edges of one cell of type t: from the arch, or every edge j -> i for a supernet. */
static uint32_t cell_edges(const bld_t *b, const cellnet_t *cn, uint32_t t, edge_t *e)
{
    const nas_space_t *s = b->s;
    uint32_t d = s->cell_first_dim[t], n = 0;
    for (uint32_t i = cn->n_in; i < cn->total; i++) {
        if (cn->k == 0 || !b->choice) {
            int32_t in_dim = cn->k ? (int32_t)d : -1;
            for (uint32_t j = 0; j < i; j++)
                e[n++] = (edge_t){ (uint8_t)j, (uint8_t)i, b->choice ? (int32_t)b->choice[d + j] : -1,
                                   cn->k ? -1 : (int32_t)(d + j), in_dim };
            d += cn->k ? 1 + cn->k : i;
            continue;
        }
        const nas__labels_t *L = &s->labels[s->dims[d].labels];
        const uint8_t *mem = L->members + (size_t)b->choice[d] * cn->k;
        for (uint32_t m = 0; m < cn->k; m++)
            e[n++] = (edge_t){ mem[m], (uint8_t)i, (int32_t)b->choice[d + 1 + m], -1, (int32_t)d };
        d += 1 + cn->k;
    }
    return n;
}

typedef struct cellrun {
    const cellnet_t *cn;
    const int32_t *ins;         /* raw inputs (cell outputs), n_in of them */
    int32_t pre[MAXN];          /* preprocessed inputs, -1 until needed */
    int32_t c, th, tw;          /* the cell's C and input resolution */
    bool reduce;
} cellrun_t;

/* Input t brought to C channels at the cell's input resolution (lazily, once). */
static int32_t cell_input(bld_t *b, cellrun_t *r, uint32_t t)
{
    if (r->pre[t] >= 0)
        return r->pre[t];
    int32_t x = r->ins[t];
    if (x < 0)
        return -1;
    nas__shape_t s = shape(b, x);
    bool first = true;
    while (x >= 0 && (shape(b, x).h > r->th || shape(b, x).w > r->tw)) {
        x = reduce2(b, x, r->c);
        first = false;
    }
    if (x >= 0 && first && (r->cn->darts || s.c != r->c))
        x = relu_conv_bn(b->g, x, r->c, 1, 1);
    if (x >= 0 && (shape(b, x).h != r->th || shape(b, x).w != r->tw))
        return nas__graph_fail(b->g, NAS_E_INVAL, "cell input %u (%d x %d) does not reduce to %d x %d", t,
                               (int)shape(b, x).h, (int)shape(b, x).w, (int)r->th, (int)r->tw);
    return r->pre[t] = x;
}

static int32_t cell_zero(bld_t *b, cellrun_t *r, const int32_t *val)
{
    for (uint32_t i = r->cn->n_in; i < r->cn->total; i++)
        if (val[i] >= 0)
            return nas__graph_add_zero(b->g, val[i], 1);
    return nas__graph_add_zero(b->g, cell_input(b, r, r->cn->n_in - 1), r->reduce ? 2 : 1);
}

/* One edge of a supernet: a mixed node over x with every cell op. */
static int32_t cell_mixed(bld_t *b, cellrun_t *r, int32_t x, const edge_t *e, uint32_t t, uint32_t cell)
{
    int32_t stride = r->reduce && e->from < r->cn->n_in ? 2 : 1;
    if (nas__graph_mixed_begin(b->g, x, b->mode) != NAS_OK)
        return -1;
    for (uint32_t p = 0; p < b->s->cell.num_ops; p++)
        if (nas__graph_mixed_end_path(b->g, cell_op(b, x, &b->ops[p], r->c, stride, true)) != NAS_OK)
            return -1;
    int32_t id = nas__graph_mixed_end(b->g);
    nas__mixed_map_t m = { r->cn->k ? NAS__MIXED_CELL_PICK : NAS__MIXED_CELL_EDGE, -1, 0, e->dim, e->inputs_dim,
                           (int32_t)t, (int32_t)cell, e->to, e->from, -1, -1 };
    return record_mixed(b, id, m) ? id : -1;
}

/* Emit one cell; returns its output node. */
static int32_t emit_cell(bld_t *b, const cellnet_t *cn, uint32_t t, bool reduce, const int32_t *ins, int32_t c,
                         uint32_t cell)
{
    edge_t e[MAXN * (MAXN - 1) / 2];
    uint32_t ne = cell_edges(b, cn, t, e);
    if (ins[cn->n_in - 1] < 0)
        return -1;
    cellrun_t r = { cn, ins, { 0 }, c, shape(b, ins[cn->n_in - 1]).h, shape(b, ins[cn->n_in - 1]).w, reduce };
    for (uint32_t i = 0; i < MAXN; i++)
        r.pre[i] = -1;
    /* Which nodes compute something (non-zero) and which reach the output (live). */
    bool nonzero[MAXN] = { false }, live[MAXN] = { false };
    for (uint32_t i = 0; i < cn->total; i++) {
        nonzero[i] = i < cn->n_in;
        live[i] = cn->concat ? i >= cn->n_in : i == cn->total - 1;
    }
    for (uint32_t q = 0; q < ne; q++)
        if (e[q].op < 0 || b->ops[e[q].op].kind != NAS__OP_NONE)
            nonzero[e[q].to] |= nonzero[e[q].from];   /* edges are sorted by `to` */
    for (uint32_t q = ne; q-- > 0;)
        if (e[q].op < 0 || b->ops[e[q].op].kind != NAS__OP_NONE)
            live[e[q].from] |= live[e[q].to];
    int32_t val[MAXN];
    for (uint32_t i = 0; i < MAXN; i++)
        val[i] = -1;
    /* The used inputs' preprocessing first, in input order: a discrete network and the supernet then
     * order their parameters alike (fine-tuning from a supernet, nas__plan_export_paths). */
    for (uint32_t in = 0; in < cn->n_in; in++)
        for (uint32_t q = 0; q < ne; q++) {
            const edge_t *ed = &e[q];
            if (ed->from == in && nonzero[ed->to] && live[ed->to] &&
                !(ed->op >= 0 && b->ops[ed->op].kind == NAS__OP_NONE)) {
                if (cell_input(b, &r, in) < 0)
                    return -1;
                break;
            }
        }
    uint32_t q = 0;
    for (uint32_t i = cn->n_in; i < cn->total; i++) {
        int32_t terms[MAXN];
        uint32_t nt = 0;
        for (; q < ne && e[q].to == i; q++) {
            const edge_t *ed = &e[q];
            if (!nonzero[i] || !live[i] || !nonzero[ed->from] ||
                (ed->op >= 0 && b->ops[ed->op].kind == NAS__OP_NONE))
                continue;
            int32_t x = ed->from < cn->n_in ? cell_input(b, &r, ed->from) : val[ed->from];
            if (x < 0)
                return -1;
            int32_t stride = reduce && ed->from < cn->n_in ? 2 : 1;
            terms[nt] = ed->op >= 0 ? cell_op(b, x, &b->ops[ed->op], c, stride, false) : cell_mixed(b, &r, x, ed, t, cell);
            if (terms[nt++] < 0)
                return -1;
        }
        if (nt > 0)
            val[i] = nt == 1 ? terms[0] : nas__graph_add_sum(b->g, nt, terms);
    }
    if (!cn->concat)
        return val[cn->total - 1] >= 0 ? val[cn->total - 1] : cell_zero(b, &r, val);
    int32_t parts[MAXN];
    uint32_t np = 0;
    for (uint32_t i = cn->n_in; i < cn->total; i++)
        parts[np++] = val[i] >= 0 ? val[i] : cell_zero(b, &r, val);
    return np == 1 ? parts[0] : nas__graph_add_concat(b->g, np, parts);
}

static int32_t find_type(const nas__cell_t *c, const char *name)
{
    for (uint32_t t = 0; t < c->num_types; t++)
        if (strcmp(c->types[t], name) == 0)
            return (int32_t)t;
    return -1;
}

static nas_status_t cellnet_init(bld_t *b, cellnet_t *cn, char *err)
{
    const nas_space_t *s = b->s;
    const nas__cell_t *c = &s->cell;
    memset(cn, 0, sizeof *cn);
    cn->n_in = c->num_inputs;
    cn->total = c->num_inputs + c->num_nodes;
    cn->k = c->inputs_per_node;
    cn->concat = c->output == NAS_CELL_OUTPUT_CONCAT;
    cn->t_reduce = find_type(c, "reduce");
    int32_t tn = find_type(c, "normal");
    if (tn < 0)
        for (uint32_t t = 0; t < c->num_types && tn < 0; t++)
            if ((int32_t)t != cn->t_reduce)
                tn = (int32_t)t;
    cn->t_normal = tn < 0 ? 0 : (uint32_t)tn;
    if (s->has_macro) {
        cn->red_cell = s->macro.reduction == NAS_REDUCTION_CELL;
        cn->stem = s->macro.stem_channels;
        cn->n_stages = s->macro.num_stages;
        cn->stages = s->macro.stages;
    } else {
        cn->red_cell = cn->t_reduce >= 0;
        cn->stem = cn->red_cell ? 48 : 16;
        cn->n_stages = 3;
        cn->stages = cn->red_cell ? darts_stages : nb201_stages;
    }
    if (cn->red_cell && cn->t_reduce < 0)
        return nas__fail(err, NAS_E_SPEC, "reduction cells need a cell type named 'reduce'");
    cn->darts = cn->n_in >= 2 || cn->concat || cn->red_cell;
    if (cn->total > MAXN || cn->n_in < 1)
        return nas__fail(err, NAS_E_SPEC, "cell of %u nodes and %u inputs", cn->total, cn->n_in);
    for (uint32_t p = 0; p < c->num_ops; p++)
        if (!nas__op_parse_cell(c->ops[p], &b->ops[p]))
            return nas__fail(err, NAS_E_SPEC, "unknown cell op '%s'", c->ops[p]);
    if (b->o.pool_bn == NAS__POOL_BN_AUTO)
        b->pool_bn = !b->choice && cn->darts;
    if (b->map)
        b->map->pool_bn = b->pool_bn;
    return NAS_OK;
}

static int32_t scale_cells(const bld_t *b, int32_t c)
{
    if (b->o.channel_scale <= 0.0 || b->o.channel_scale == 1.0)
        return c;
    double v = nearbyint(c * b->o.channel_scale);
    return v < 1.0 ? 1 : v > NAS__GRAPH_MAX_DIM + 1.0 ? NAS__GRAPH_MAX_DIM + 1 : (int32_t)v;
}

/* Supernet maps keep every cell's output: discrete networks build every cell, used or not. */
static bool record_cell_out(bld_t *b, int32_t y)
{
    nas__supernet_map_t *m = b->map;
    int32_t *o = nas__realloc(m->ctx, m->cell_out, (m->num_cells + 1) * sizeof *o);
    if (!o) {
        b->st = NAS_E_NOMEM;
        return false;
    }
    m->cell_out = o;
    o[m->num_cells++] = y;
    return true;
}

static nas_status_t build_cells(bld_t *b, char *err)
{
    cellnet_t cn;
    nas_status_t st = cellnet_init(b, &cn, err);
    if (st != NAS_OK)
        return st;
    nas__graph_t *g = b->g;
    int32_t stride = b->o.stem_stride ? b->o.stem_stride : 1;
    int32_t x = nas__graph_add_input(g, b->o.in_c, b->o.in_h, b->o.in_w);
    x = nas__graph_add_bn(g, nas__graph_add_conv(g, x, scale_cells(b, cn.stem), 3, stride, 1, 1, false));
    int32_t hist[MAXN];          /* the last n_in cell outputs, oldest first */
    for (uint32_t i = 0; i < cn.n_in; i++)
        hist[i] = x;
    uint32_t cell = 0;
    for (uint32_t si = 0; si < cn.n_stages && nas__graph_status(g) == NAS_OK && b->st == NAS_OK; si++) {
        int32_t c = scale_cells(b, cn.stages[si].channels);
        uint32_t n = b->o.cells_per_stage > 0 ? (uint32_t)b->o.cells_per_stage : cn.stages[si].cells;
        for (uint32_t ci = 0; ci <= n; ci++) {
            bool red = ci == 0;
            if (red && si == 0)
                continue;
            int32_t y;
            if (red && !cn.red_cell)
                y = res_block(b, hist[cn.n_in - 1], c);
            else
                y = emit_cell(b, &cn, red ? (uint32_t)cn.t_reduce : cn.t_normal, red, hist, c, cell++);
            if (y < 0)
                break;
            if (b->map && !record_cell_out(b, y))
                break;
            memmove(hist, hist + 1, (cn.n_in - 1) * sizeof *hist);
            hist[cn.n_in - 1] = y;
        }
    }
    head(b, hist[cn.n_in - 1], !cn.darts);
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Chains                                                                   */

/* MobileNet's _make_divisible(v, 8). */
static int32_t make_div(double v)
{
    double r = floor((v + 4.0) / 8.0) * 8.0;
    if (r < 8.0)
        r = 8.0;
    if (r < 0.9 * v)
        r += 8.0;
    return r > NAS__GRAPH_MAX_DIM + 1.0 ? NAS__GRAPH_MAX_DIM + 1 : (int32_t)r;
}

static int32_t scale_chain(int32_t c, double m)
{
    return m == 1.0 ? c : make_div(c * m);
}

static int32_t chain_layer(bld_t *b, int32_t x, const char *label, int32_t stride, int32_t c, bool path)
{
    nas__opdef_t op;
    if (!nas__op_parse_chain(label, &op))
        return nas__graph_fail(b->g, NAS_E_SPEC, "unknown chain op '%s'", label);
    if (op.kind == NAS__OP_SKIP)
        return path ? nas__graph_add_identity(b->g, x) : x;
    return nas__graph_add_inverted_residual(b->g, x, op.expansion, op.kernel, stride, c);
}

static int32_t chain_mixed(bld_t *b, int32_t x, uint32_t si, uint32_t l, int32_t stride, int32_t c)
{
    const nas_space_t *s = b->s;
    const nas__stage_t *sg = &s->stages[si];
    uint32_t d = sg->first_layer + l;
    int32_t off = -1;
    bool optional = s->dims[d].parent >= 0;
    if (nas__graph_mixed_begin(b->g, x, b->mode) != NAS_OK)
        return -1;
    for (uint32_t p = 0; p < s->dims[d].num_choices; p++) {
        const char *label = nas__dim_label(s, d, p);
        if (optional && strcmp(label, "skip") == 0)
            off = (int32_t)p;
        if (nas__graph_mixed_end_path(b->g, chain_layer(b, x, label, stride, c, true)) != NAS_OK)
            return -1;
    }
    if (optional && off < 0) {
        off = (int32_t)s->dims[d].num_choices;
        if (nas__graph_mixed_end_path(b->g, nas__graph_add_identity(b->g, x)) != NAS_OK)
            return -1;
    }
    int32_t id = nas__graph_mixed_end(b->g);
    nas__mixed_map_t m = { NAS__MIXED_CHAIN_LAYER, -1, 0, (int32_t)d, -1, -1, (int32_t)si, (int32_t)l, -1,
                           sg->depth_dim, off };
    return record_mixed(b, id, m) ? id : -1;
}

static nas_status_t build_chain(bld_t *b)
{
    const nas_space_t *s = b->s;
    const nas__chain_t *ch = &s->chain;
    nas__graph_t *g = b->g;
    double w = ch->widths[0];
    if (!b->choice && b->o.supernet_width > 0.0)
        w = b->o.supernet_width;
    else if (!b->choice)
        for (uint32_t i = 1; i < ch->num_widths; i++)
            w = fmax(w, ch->widths[i]);
    else if (s->width_dim >= 0)
        w = ch->widths[b->choice[s->width_dim]];
    double scale = b->o.channel_scale > 0.0 ? b->o.channel_scale : 1.0, m = w * scale;
    int32_t stride = b->o.stem_stride;
    if (stride == 0)
        stride = b->o.in_h >= 64 && b->o.in_w >= 64 ? 2 : 1;
    int32_t x = nas__graph_add_input(g, b->o.in_c, b->o.in_h, b->o.in_w);
    x = nas__graph_add_conv(g, x, scale_chain(ch->stem_channels, m), 3, stride, 1, 1, false);
    x = nas__graph_add_relu6(g, nas__graph_add_bn(g, x));
    for (uint32_t si = 0; si < s->num_stages && x >= 0; si++) {
        const nas__stage_t *sg = &s->stages[si];
        int32_t c = scale_chain(sg->channels, m);
        uint32_t depth = sg->depths[sg->num_depths - 1];
        if (b->choice)
            depth = sg->depths[sg->depth_dim >= 0 ? b->choice[sg->depth_dim] : 0];
        for (uint32_t l = 0; l < depth && x >= 0; l++) {
            int32_t st = l == 0 ? sg->stride : 1;
            uint32_t d = sg->first_layer + l;
            x = b->choice ? chain_layer(b, x, nas__dim_label(s, d, b->choice[d]), st, c, false)
                          : chain_mixed(b, x, si, l, st, c);
        }
    }
    if (ch->head_channels > 0) {
        x = nas__graph_add_conv(g, x, scale_chain(ch->head_channels, fmax(w, 1.0) * scale), 1, 1, 1, 1, false);
        x = nas__graph_add_relu6(g, nas__graph_add_bn(g, x));
    }
    head(b, x, false);
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Entry points                                                             */

static nas_status_t check_opts(nas__build_opts_t *o, const nas__build_opts_t *in, char *err)
{
    nas__build_opts_t d = NAS__BUILD_OPTS_INIT;
    *o = d;
    if (in && !nas__copy_opts(o, sizeof *o, in, in->struct_size))
        return nas__fail(err, NAS_E_INVAL, "build options: bad struct_size %zu", in->struct_size);
    const int32_t M = NAS__GRAPH_MAX_DIM;
    if (o->in_c < 1 || o->in_h < 1 || o->in_w < 1 || o->in_c > M || o->in_h > M || o->in_w > M)
        return nas__fail(err, NAS_E_INVAL, "build options: bad input shape %d x %d x %d", (int)o->in_c,
                         (int)o->in_h, (int)o->in_w);
    if (o->num_classes < 2 || o->num_classes > M)
        return nas__fail(err, NAS_E_INVAL, "build options: num_classes %d is not in 2..%d", (int)o->num_classes, M);
    if (!(o->label_smoothing >= 0.0f && o->label_smoothing < 1.0f))
        return nas__fail(err, NAS_E_INVAL, "build options: label_smoothing %g is not in [0, 1)",
                         (double)o->label_smoothing);
    if (!(o->channel_scale >= 0.0 && o->channel_scale <= 64.0))
        return nas__fail(err, NAS_E_INVAL, "build options: channel_scale %g is not in (0, 64]", o->channel_scale);
    if (o->cells_per_stage < 0 || o->cells_per_stage > NAS__MAX_CELLS_PER_STAGE)
        return nas__fail(err, NAS_E_INVAL, "build options: cells_per_stage %d is not in 0..%d",
                         (int)o->cells_per_stage, NAS__MAX_CELLS_PER_STAGE);
    if (o->stem_stride < 0 || o->stem_stride > 2)
        return nas__fail(err, NAS_E_INVAL, "build options: stem_stride %d is not 0, 1 or 2", (int)o->stem_stride);
    if (o->pool_bn < NAS__POOL_BN_AUTO || o->pool_bn > NAS__POOL_BN_ON)
        return nas__fail(err, NAS_E_INVAL, "build options: bad pool_bn %d", (int)o->pool_bn);
    if (!(o->supernet_width >= 0.0 && o->supernet_width <= NAS__MAX_WIDTH))
        return nas__fail(err, NAS_E_INVAL, "build options: supernet_width %g is not in (0, %g]", o->supernet_width,
                         NAS__MAX_WIDTH);
    return NAS_OK;
}

static nas_status_t build(nas__graph_t **out, const nas_space_t *s, const uint32_t *choice,
                          const nas__build_opts_t *opts, nas__mixed_mode_t mode, nas__supernet_map_t *map, char *err)
{
    bld_t *b = NULL;
    nas_context_t *ctx = nas__space_context(s);
    nas_status_t st;
    if (s->family != NAS_FAMILY_CELL && s->family != NAS_FAMILY_CHAIN)
        return nas__fail(err, NAS_E_UNSUPPORTED, "space '%s' has no network (family none)", s->name);
    if (!(b = nas__calloc(ctx, 1, sizeof *b)))
        return nas__fail(err, NAS_E_NOMEM, "out of memory building a network");
    b->s = s;
    b->choice = choice;
    b->mode = mode;
    b->map = map;
    if ((st = check_opts(&b->o, opts, err)) != NAS_OK)
        goto out_free_b;
    b->pool_bn = b->o.pool_bn == NAS__POOL_BN_ON;
    if ((st = nas__graph_create(&b->g, ctx)) != NAS_OK) {
        nas__fail(err, st, "out of memory creating a graph");
        goto out_free_b;
    }
    st = s->family == NAS_FAMILY_CELL ? build_cells(b, err) : build_chain(b);
    if (st == NAS_OK && b->st != NAS_OK)
        st = nas__fail(err, b->st, "out of memory building a supernet map");
    if (st == NAS_OK)
        st = nas__graph_validate(b->g, err);
    if (st != NAS_OK) {
        nas__graph_destroy(b->g);
        goto out_free_b;
    }
    *out = b->g;
out_free_b:
    nas__free(ctx, b);
    return st;
}

nas_status_t nas__build_graph(nas__graph_t **out, const nas_arch_t *arch, const nas__build_opts_t *opts,
                              char *errbuf)
{
    if (!out)
        return nas__fail(errbuf, NAS_E_INVAL, "nas__build_graph: out is NULL");
    *out = NULL;
    if (!arch)
        return nas__fail(errbuf, NAS_E_INVAL, "nas__build_graph: arch is NULL");
    return build(out, arch->space, arch->choice, opts, NAS__MIXED_WEIGHTED, NULL, errbuf);
}

void nas__supernet_map_destroy(nas__supernet_map_t *map)
{
    if (!map)
        return;
    nas__free(map->ctx, map->mixed);
    nas__free(map->ctx, map->cell_out);
    nas__free(map->ctx, map);
}

nas_status_t nas__build_supernet_map(nas__graph_t **out, nas__supernet_map_t **map, const nas_space_t *space,
                                     const nas__build_opts_t *opts, nas__mixed_mode_t mode, char *errbuf)
{
    if (map)
        *map = NULL;
    if (!out)
        return nas__fail(errbuf, NAS_E_INVAL, "nas__build_supernet: out is NULL");
    *out = NULL;
    if (!space || !nas__space_is_built(space))
        return nas__fail(errbuf, NAS_E_INVAL, "nas__build_supernet: no built space");
    nas__supernet_map_t *m = NULL;
    if (map) {
        nas_context_t *ctx = nas__space_context(space);
        if (!(m = nas__calloc(ctx, 1, sizeof *m)))
            return nas__fail(errbuf, NAS_E_NOMEM, "out of memory building a supernet map");
        m->ctx = ctx;
        m->space = space;
    }
    nas_status_t st = build(out, space, NULL, opts, mode, m, errbuf);
    if (st != NAS_OK) {
        nas__supernet_map_destroy(m);
        return st;
    }
    if (map)
        *map = m;
    return NAS_OK;
}

nas_status_t nas__build_supernet(nas__graph_t **out, const nas_space_t *space, const nas__build_opts_t *opts,
                                 nas__mixed_mode_t mode, char *errbuf)
{
    return nas__build_supernet_map(out, NULL, space, opts, mode, errbuf);
}
