/* Models: creation from an architecture, the inference and training graphs, cached plans, the state. */
#include "model/model_internal.h"

#include "data/dataset.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Fingerprints                                                            */

static uint64_t h_u64(uint64_t h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return nas__hash_bytes(b, sizeof b, h);
}

static uint64_t h_f64(uint64_t h, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return h_u64(h, u);
}

static uint64_t h_str(uint64_t h, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return nas__hash_bytes(s ? s : "", n, h_u64(h, n));
}

uint64_t nas__space_fingerprint(const nas_space_t *space)
{
    uint64_t h = h_str(0x6e61732d73706163ull, nas_space_name(space));
    h = h_u64(h, (uint64_t)(uint32_t)nas_space_family(space));
    uint32_t nd = nas_space_num_dims(space);
    h = h_u64(h, nd);
    h = h_u64(h, nas_space_num_arch_dims(space));
    for (uint32_t d = 0; d < nd; d++) {
        nas_dim_info_t di = { .struct_size = sizeof di };
        if (nas_space_dim_info(space, d, &di) != NAS_OK)
            continue;
        h = h_str(h, di.name);
        h = h_u64(h, ((uint64_t)(uint32_t)di.kind << 32) | (uint32_t)di.role);
        h = h_u64(h, ((uint64_t)di.num_choices << 1) | di.log_scale);
        h = h_f64(h_f64(h, di.low), di.high);
        h = h_u64(h, ((uint64_t)(uint32_t)di.parent << 32) | (uint32_t)di.parent_min);
        for (uint32_t c = 0; di.kind == NAS_DIM_CATEGORICAL && c < di.num_choices; c++) {
            const char *label = NULL;
            if (nas_space_dim_label(space, d, c, &label) == NAS_OK)
                h = h_str(h, label);
        }
    }
    return h;
}

uint64_t nas__graph_fingerprint(const nas__graph_t *g)
{
    uint32_t n = nas__graph_num_nodes(g);
    uint64_t h = h_u64(0x6e61732d67726170ull, n);
    h = h_u64(h, (uint64_t)(uint32_t)nas__graph_output(g));
    for (uint32_t v = 0; v < n; v++) {
        const nas__node_t *nd = nas__graph_node(g, (int32_t)v);
        h = h_u64(h, ((uint64_t)nd->kind << 32) | nd->n_in);
        for (uint32_t i = 0; i < nd->n_in; i++)
            h = h_u64(h, (uint32_t)nas__graph_in(g, (int32_t)v, i));
        h = h_u64(h, ((uint64_t)(uint32_t)nd->out.c << 32) | (uint32_t)nd->out.h);
        h = h_u64(h, ((uint64_t)(uint32_t)nd->out.w << 32) | (uint32_t)nd->k);
        h = h_u64(h, ((uint64_t)(uint32_t)nd->stride << 32) | (uint32_t)nd->pad);
        h = h_u64(h, ((uint64_t)(uint32_t)nd->dilation << 32) | (uint32_t)nd->groups);
        h = h_u64(h, ((uint64_t)(uint32_t)nd->top << 32) | (uint32_t)nd->left);
        h = h_u64(h, nd->bias);
    }
    return h;
}

/* ---------------------------------------------------------------------- */
/* Graphs                                                                  */

/* Re-add node `id` of src to g, its inputs mapped through map. Returns the new id or -1. */
static int32_t copy_node(nas__graph_t *g, const nas__graph_t *src, int32_t id, const int32_t *map, int32_t *ins)
{
    const nas__node_t *n = nas__graph_node(src, id);
    for (uint32_t i = 0; i < n->n_in; i++)
        ins[i] = map[nas__graph_in(src, id, i)];
    int32_t x = n->n_in ? ins[0] : -1;
    switch (n->kind) {
    case NAS__NODE_INPUT: return nas__graph_add_input(g, n->out.c, n->out.h, n->out.w);
    case NAS__NODE_CONV:
        return nas__graph_add_conv(g, x, n->out.c, n->k, n->stride, n->dilation, n->groups, n->bias);
    case NAS__NODE_BN: return nas__graph_add_bn(g, x);
    case NAS__NODE_RELU: return nas__graph_add_relu(g, x);
    case NAS__NODE_RELU6: return nas__graph_add_relu6(g, x);
    case NAS__NODE_HSWISH: return nas__graph_add_hswish(g, x);
    case NAS__NODE_MAXPOOL: return nas__graph_add_maxpool(g, x, n->k, n->stride, n->pad);
    case NAS__NODE_AVGPOOL: return nas__graph_add_avgpool(g, x, n->k, n->stride, n->pad);
    case NAS__NODE_GAP: return nas__graph_add_gap(g, x);
    case NAS__NODE_FC: return nas__graph_add_fc(g, x, n->out.c, n->bias);
    case NAS__NODE_IDENTITY: return nas__graph_add_identity(g, x);
    case NAS__NODE_ZERO: return nas__graph_add_zero(g, x, n->stride);
    case NAS__NODE_CROP: return nas__graph_add_crop(g, x, n->top, n->left, n->out.h, n->out.w);
    case NAS__NODE_SUM: return nas__graph_add_sum(g, n->n_in, ins);
    case NAS__NODE_CONCAT: return nas__graph_add_concat(g, n->n_in, ins);
    default:
        return nas__graph_fail(g, NAS_E_UNSUPPORTED, "model: a %s node cannot be part of a model",
                               nas__node_kind_name(n->kind));
    }
}

/*
 * Copy src without its loss node: the output becomes the loss's input (the logits), and with
 * `loss` a new loss with `smoothing` is appended. Node ids before the loss are unchanged.
 */
static nas_status_t copy_graph(const nas__graph_t *src, bool loss, float smoothing, nas__graph_t **out, char *errbuf)
{
    *out = NULL;
    nas_context_t *ctx = nas__graph_context(src);
    uint32_t n = nas__graph_num_nodes(src);
    int32_t *map = nas__calloc(ctx, n ? n : 1, 2 * sizeof *map);
    if (!map)
        return nas__fail(errbuf, NAS_E_NOMEM, "out of memory copying a network of %u nodes", (unsigned)n);
    int32_t *ins = map + n;   /* no node has more inputs than there are nodes */
    nas__graph_t *g = NULL;
    nas_status_t st = nas__graph_create(&g, ctx);
    if (st != NAS_OK) {
        nas__fail(errbuf, st, "out of memory copying a network");
        goto out_free_map;
    }
    int32_t logits = nas__graph_output(src);
    for (uint32_t v = 0; v < n; v++) {
        const nas__node_t *nd = nas__graph_node(src, (int32_t)v);
        if (nd->kind == NAS__NODE_LOSS) {
            logits = nas__graph_in(src, (int32_t)v, 0);
            map[v] = -1;
            continue;
        }
        map[v] = copy_node(g, src, (int32_t)v, map, ins);
    }
    if (logits >= 0 && map[logits] >= 0) {
        if (loss)
            nas__graph_add_loss(g, map[logits], smoothing);
        else
            nas__graph_set_output(g, map[logits]);
    } else {
        nas__graph_fail(g, NAS_E_INTERNAL, "model: the network has no output");
    }
    if ((st = nas__graph_validate(g, errbuf)) != NAS_OK) {
        nas__graph_destroy(g);
        g = NULL;
    }
    *out = g;
out_free_map:
    nas__free(ctx, map);
    return st;
}

nas_status_t nas__model_train_graph(const nas_model_t *m, float smoothing, nas__graph_t **out, char *errbuf)
{
    return copy_graph(m->graph, true, smoothing, out, errbuf);
}

/* ---------------------------------------------------------------------- */
/* Plans and state                                                         */

static nas_status_t compile(nas_model_t *m, int32_t batch, uint64_t init_stream, nas__plan_t **out)
{
    nas__plan_opts_t o = NAS__PLAN_OPTS_INIT;
    o.batch = batch;
    o.train = false;
    o.init_stream = init_stream;
    nas_status_t st = nas__plan_create(out, m->dev, m->graph, &o);
    if (st != NAS_OK)
        nas__fail(m->errmsg, st, "compiling the network for batch %d: %s", (int)batch, nas_context_errmsg(m->ctx));
    return st;
}

nas_status_t nas__model_plan(nas_model_t *m, int32_t batch, nas__plan_t **out)
{
    *out = NULL;
    nas__pslot_t *slot = NULL, *lru = &m->slots[0];
    for (int i = 0; i < NAS__MODEL_PLAN_SLOTS; i++) {
        nas__pslot_t *s = &m->slots[i];
        if (s->plan && s->batch == batch)
            slot = s;
        if (!s->plan || (lru->plan && s->used < lru->used))
            lru = s;
    }
    if (!slot) {
        slot = lru;
        nas__plan_destroy(slot->plan);
        slot->plan = NULL;
        nas_status_t st = compile(m, batch, 0, &slot->plan);
        if (st != NAS_OK)
            return st;
        slot->batch = batch;
        slot->version = m->version - 1;   /* force a load */
    }
    if (slot->version != m->version) {
        nas_status_t st = nas__plan_import(slot->plan, m->state, m->state_n);
        if (st != NAS_OK)
            return nas__fail(m->errmsg, st, "loading the weights into a plan: %s", nas__plan_errmsg(slot->plan));
        slot->version = m->version;
    }
    slot->used = ++m->clock;
    *out = slot->plan;
    return NAS_OK;
}

/*
 * The tensor table in export order (nas__plan_export): parameters by graph node, within a node in
 * the plan's order; then the running mean and variance of every BN node.
 */
static nas_status_t tensor_table(nas_model_t *m, nas__plan_t *p)
{
    uint32_t np = nas__plan_num_params(p), nbn = 0, nn = nas__graph_num_nodes(m->graph);
    for (uint32_t v = 0; v < nn; v++)
        nbn += nas__graph_node(m->graph, (int32_t)v)->kind == NAS__NODE_BN;
    uint32_t n = np + 2 * nbn, t = 0;
    m->tensors = nas__calloc(m->ctx, n ? n : 1, sizeof *m->tensors);
    if (!m->tensors)
        return nas__fail(m->ctx->errmsg, NAS_E_NOMEM, "out of memory for the tensor table");
    m->num_tensors = n;
    static const uint32_t kinds[] = { [NAS__PARAM_WEIGHT] = NAS__TK_WEIGHT, [NAS__PARAM_BIAS] = NAS__TK_BIAS,
                                      [NAS__PARAM_SCALE] = NAS__TK_BN_SCALE, [NAS__PARAM_SHIFT] = NAS__TK_BN_SHIFT };
    uint64_t total = 0;
    for (uint32_t v = 0; v < nn; v++)
        for (uint32_t i = 0; i < np; i++) {
            nas__plan_param_t pp;
            nas__plan_param(p, i, &pp);
            if (pp.node != (int32_t)v)
                continue;
            m->tensors[t++] = (nas__tdesc_t){ v, kinds[pp.kind], (uint64_t)pp.elems };
            total += (uint64_t)pp.elems;
        }
    for (uint32_t v = 0; v < nn; v++) {
        const nas__node_t *nd = nas__graph_node(m->graph, (int32_t)v);
        if (nd->kind != NAS__NODE_BN)
            continue;
        m->tensors[t++] = (nas__tdesc_t){ v, NAS__TK_BN_MEAN, (uint64_t)nd->out.c };
        m->tensors[t++] = (nas__tdesc_t){ v, NAS__TK_BN_VAR, (uint64_t)nd->out.c };
        total += 2 * (uint64_t)nd->out.c;
    }
    if (t != n || (int64_t)total != nas__plan_state_elems(p))
        return nas__fail(m->ctx->errmsg, NAS_E_INTERNAL, "model: the plan's state has %lld values, the tensor "
                         "table %llu", (long long)nas__plan_state_elems(p), (unsigned long long)total);
    return NAS_OK;
}

/* Initial weights: a batch-1 plan initialized from (context seed, stream), exported into the state. */
static nas_status_t init_state(nas_model_t *m, uint64_t seed)
{
    uint64_t stream = nas__mix64(seed ^ 0x6d6f64656c696e69ull);
    nas__plan_t *p = NULL;
    nas_status_t st = compile(m, 1, stream, &p);
    if (st != NAS_OK)
        return nas__fail(m->ctx->errmsg, st, "%s", m->errmsg);
    if ((st = tensor_table(m, p)) != NAS_OK)
        goto out_destroy;
    m->state_n = nas__plan_state_elems(p);
    m->state = nas__malloc(m->ctx, (size_t)(m->state_n ? m->state_n : 1) * sizeof *m->state);
    if (!m->state) {
        st = nas__fail(m->ctx->errmsg, NAS_E_NOMEM, "out of memory for %lld weights", (long long)m->state_n);
        goto out_destroy;
    }
    if ((st = nas__plan_export(p, m->state, m->state_n)) != NAS_OK) {
        nas__fail(m->ctx->errmsg, st, "reading the initial weights: %s", nas__plan_errmsg(p));
        goto out_destroy;
    }
    m->version = 1;
    m->slots[0] = (nas__pslot_t){ p, 1, m->version, ++m->clock };
    return NAS_OK;
out_destroy:
    nas__plan_destroy(p);
    return st;
}

nas_status_t nas__model_graph(const nas_arch_t *arch, const nas__build_opts_t *bopts, nas__graph_t **out)
{
    nas_context_t *ctx = nas__space_context(nas_arch_space(arch));
    nas__graph_t *full = NULL;
    nas_status_t st = nas__build_graph(&full, arch, bopts, ctx->errmsg);
    if (st != NAS_OK) {
        *out = NULL;
        return st;
    }
    st = copy_graph(full, false, 0.0f, out, ctx->errmsg);
    nas__graph_destroy(full);
    return st;
}

nas_status_t nas__model_build(nas_model_t **out, const nas_arch_t *arch, const nas__build_opts_t *bopts,
                              uint64_t seed, nas__graph_t *graph)
{
    *out = NULL;
    const nas_space_t *space = nas_arch_space(arch);
    nas_context_t *ctx = nas__space_context(space);
    nas_model_t *m = nas__calloc(ctx, 1, sizeof *m);
    if (!m) {
        nas__graph_destroy(graph);
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating a model");
    }
    m->ctx = ctx;
    m->graph = graph;
    m->bopts = *bopts;
    m->bopts.label_smoothing = 0.0f;
    nas_status_t st;
    size_t len = 0;
    nas_arch_to_string(arch, 0, NULL, 0, &len);
    m->arch = nas__malloc(ctx, len + 1);
    m->space_name = nas__strdup(ctx, nas_space_name(space));
    m->mean = nas__malloc(ctx, 2 * (size_t)bopts->in_c * sizeof *m->mean);
    if (!m->arch || !m->space_name || !m->mean) {
        st = nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating a model");
        goto out_destroy;
    }
    if ((st = nas_arch_to_string(arch, 0, m->arch, len + 1, NULL)) != NAS_OK) {
        nas__ctx_fail(ctx, st, "model: cannot write the architecture as a string");
        goto out_destroy;
    }
    m->std = m->mean + bopts->in_c;
    for (int32_t c = 0; c < bopts->in_c; c++) {
        m->mean[c] = 0.0f;
        m->std[c] = 1.0f;
    }
    m->space_fp = nas__space_fingerprint(space);
    if (!m->graph && (st = nas__model_graph(arch, &m->bopts, &m->graph)) != NAS_OK)
        goto out_destroy;
    m->graph_fp = nas__graph_fingerprint(m->graph);
    m->params = nas__graph_params(m->graph);
    m->flops = nas__graph_flops(m->graph);
    if ((st = nas__dev_create(&m->dev, ctx)) != NAS_OK || (st = init_state(m, seed)) != NAS_OK)
        goto out_destroy;
    *out = m;
    return NAS_OK;
out_destroy:
    nas_model_destroy(m);
    return st;
}

/* ---------------------------------------------------------------------- */
/* Public API                                                              */

/* Build options from the public ones; message in the context. */
static nas_status_t resolve_opts(nas_context_t *ctx, const nas_model_opts_t *o, nas__build_opts_t *b)
{
    nas__build_opts_t d = NAS__BUILD_OPTS_INIT;
    *b = d;
    uint32_t c = o->channels, h = o->height, w = o->width, k = o->num_classes;
    if (o->dataset) {
        nas_dataset_shape(o->dataset, &c, &h, &w);
        k = nas_dataset_num_classes(o->dataset);
        if (k < 2)
            k = 2;   /* a data set holding one class still trains a classifier of two */
    }
    if (c < 1 || h < 1 || w < 1 || c > NAS__GRAPH_MAX_DIM || h > NAS__GRAPH_MAX_DIM || w > NAS__GRAPH_MAX_DIM)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_model_create: input shape %u x %u x %u: give a data set or "
                             "channels, height and width in 1..%d", c, h, w, NAS__GRAPH_MAX_DIM);
    if (k < 2 || k > NAS_DATA_MAX_CLASSES)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_model_create: num_classes %u is outside 2..%u", k,
                             NAS_DATA_MAX_CLASSES);
    if (!(o->channel_scale >= 0.0 && o->channel_scale <= 64.0))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_model_create: channel_scale %g is outside (0, 64] (0: none)",
                             o->channel_scale);
    if (o->cells_per_stage < 0 || o->cells_per_stage > 1024)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_model_create: cells_per_stage %d is outside 1..1024 (0: none)",
                             (int)o->cells_per_stage);
    if (o->stem_stride < 0 || o->stem_stride > 2)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_model_create: stem_stride %d is not 1 or 2 (0: default)",
                             (int)o->stem_stride);
    b->in_c = (int32_t)c;
    b->in_h = (int32_t)h;
    b->in_w = (int32_t)w;
    b->num_classes = (int32_t)k;
    b->channel_scale = o->channel_scale;
    b->cells_per_stage = o->cells_per_stage;
    b->stem_stride = o->stem_stride;
    return NAS_OK;
}

/* Check that yaml loads into a space equal to `space` and keep a copy in the model. */
static nas_status_t attach_yaml(nas_model_t *m, const nas_space_t *space, const char *yaml, size_t len)
{
    nas_space_t *s = NULL;
    nas_status_t st = nas_space_load_string(&s, m->ctx, yaml, len, "space_yaml");
    if (st != NAS_OK)
        return st == NAS_E_NOMEM ? st : nas__ctx_fail(m->ctx, NAS_E_INVAL, "nas_model_create: space_yaml: %s",
                                                      nas_context_errmsg(m->ctx));
    bool same = strcmp(nas_space_name(s), nas_space_name(space)) == 0 &&
                nas__space_fingerprint(s) == nas__space_fingerprint(space);
    nas_space_destroy(s);
    if (!same)
        return nas__ctx_fail(m->ctx, NAS_E_INVAL, "nas_model_create: space_yaml describes another space than the "
                             "arch's ('%s')", nas_space_name(space));
    if (!(m->space_yaml = nas__strndup(m->ctx, yaml, len)))
        return nas__ctx_fail(m->ctx, NAS_E_NOMEM, "out of memory copying space_yaml");
    m->space_yaml_len = len;
    return NAS_OK;
}

nas_status_t nas_model_create(nas_model_t **out, const nas_arch_t *arch, const nas_model_opts_t *opts)
{
    if (out)
        *out = NULL;
    if (!arch)
        return NAS_E_INVAL;
    nas_space_t *space = nas_arch_space(arch);
    nas_context_t *ctx = nas__space_context(space);
    if (!out)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_model_create: out is NULL");
    if (!opts)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_model_create: opts is NULL: give a data set or the input shape "
                             "and classes (NAS_MODEL_OPTS_INIT)");
    nas_model_opts_t o = NAS_MODEL_OPTS_INIT;
    if (!nas__copy_opts(&o, sizeof o, opts, opts->struct_size))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_model_create: opts->struct_size %zu is too small",
                             opts->struct_size);
    if (o.space_yaml_len && !o.space_yaml)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_model_create: space_yaml is NULL with space_yaml_len %zu",
                             o.space_yaml_len);
    nas__build_opts_t b;
    nas_status_t st = resolve_opts(ctx, &o, &b);
    if (st != NAS_OK)
        return st;
    nas_model_t *m = NULL;
    if ((st = nas__model_build(&m, arch, &b, o.seed ? o.seed : nas_context_seed(ctx), NULL)) != NAS_OK)
        return st;
    if (o.space_yaml && (st = attach_yaml(m, space, o.space_yaml, o.space_yaml_len)) != NAS_OK) {
        nas_model_destroy(m);
        return st;
    }
    const char *own;
    size_t own_len;
    if (!o.space_yaml && nas_space_yaml(space, &own, &own_len) == NAS_OK) {
        /* The space's own text: it gives this very space, no need to load it again to check. */
        if (!(m->space_yaml = nas__strndup(ctx, own, own_len))) {
            nas_model_destroy(m);
            return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory copying the space's YAML");
        }
        m->space_yaml_len = own_len;
    }
    *out = m;
    return NAS_OK;
}

void nas_model_destroy(nas_model_t *m)
{
    if (!m)
        return;
    nas_context_t *ctx = m->ctx;
    for (int i = 0; i < NAS__MODEL_PLAN_SLOTS; i++)
        nas__plan_destroy(m->slots[i].plan);
    nas__dev_destroy(m->dev);
    nas__graph_destroy(m->graph);
    nas_space_destroy(m->own_space);
    nas__free(ctx, m->state);
    nas__free(ctx, m->tensors);
    nas__free(ctx, m->mean);
    nas__free(ctx, m->space_yaml);
    nas__free(ctx, m->space_name);
    nas__free(ctx, m->arch);
    nas__free(ctx, m);
}

const char *nas_model_errmsg(const nas_model_t *m)
{
    return m ? m->errmsg : "";
}

nas_status_t nas_model_info(const nas_model_t *m, nas_model_info_t *out)
{
    if (!m || !out || out->struct_size < sizeof out->struct_size)
        return NAS_E_INVAL;
    nas_model_info_t i;
    memset(&i, 0, sizeof i);
    i.struct_size = out->struct_size < sizeof i ? out->struct_size : sizeof i;
    i.channels = (uint32_t)m->bopts.in_c;
    i.height = (uint32_t)m->bopts.in_h;
    i.width = (uint32_t)m->bopts.in_w;
    i.num_classes = (uint32_t)m->bopts.num_classes;
    i.params = m->params;
    i.flops = m->flops;
    i.steps_trained = m->steps_trained;
    i.arch = m->arch;
    i.space_name = m->space_name;
    i.has_space_yaml = m->space_yaml != NULL;
    memcpy(out, &i, i.struct_size);
    return NAS_OK;
}

nas_space_t *nas_model_space(const nas_model_t *m)
{
    return m ? m->own_space : NULL;
}

nas_status_t nas_model_set_normalization(nas_model_t *m, const float *mean, const float *std, uint32_t channels)
{
    if (!m)
        return NAS_E_INVAL;
    if (channels != (uint32_t)m->bopts.in_c)
        return nas__fail(m->errmsg, NAS_E_INVAL, "normalization: %u channels given, the model has %d", channels,
                         (int)m->bopts.in_c);
    if (!mean != !std)
        return nas__fail(m->errmsg, NAS_E_INVAL, "normalization: give both mean and std, or neither");
    for (uint32_t c = 0; mean && c < channels; c++)
        if (!isfinite(mean[c]) || !isfinite(std[c]) || !(std[c] > 0.0f))
            return nas__fail(m->errmsg, NAS_E_RANGE, "normalization: channel %u: mean %g and std %g must be finite "
                             "and std > 0", c, (double)mean[c], (double)std[c]);
    for (uint32_t c = 0; c < channels; c++) {
        m->mean[c] = mean ? mean[c] : 0.0f;
        m->std[c] = std ? std[c] : 1.0f;
    }
    return NAS_OK;
}

nas_status_t nas_model_normalization(const nas_model_t *m, float *mean, float *std, uint32_t channels)
{
    if (!m || !mean || !std || channels != (uint32_t)m->bopts.in_c)
        return NAS_E_INVAL;
    memcpy(mean, m->mean, channels * sizeof *mean);
    memcpy(std, m->std, channels * sizeof *std);
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Helpers for the other files                                             */

nas_status_t nas__model_check_data(nas_model_t *m, const nas_dataset_t *ds, const char *who)
{
    uint32_t c, h, w;
    nas_dataset_shape(ds, &c, &h, &w);
    if (c != (uint32_t)m->bopts.in_c || h != (uint32_t)m->bopts.in_h || w != (uint32_t)m->bopts.in_w)
        return nas__fail(m->errmsg, NAS_E_INVAL, "%s: the data set's samples are %u x %u x %u, the model takes "
                         "%d x %d x %d", who, c, h, w, (int)m->bopts.in_c, (int)m->bopts.in_h, (int)m->bopts.in_w);
    uint32_t k = nas_dataset_num_classes(ds);
    if (k > (uint32_t)m->bopts.num_classes)
        return nas__fail(m->errmsg, NAS_E_INVAL, "%s: the data set has %u classes, the model %d", who, k,
                         (int)m->bopts.num_classes);
    if (nas_dataset_num_samples(ds) == 0)
        return nas__fail(m->errmsg, NAS_E_INVAL, "%s: the data set is empty", who);
    return NAS_OK;
}

void nas__model_take_normalization(nas_model_t *m, const nas_dataset_t *ds)
{
    for (int32_t c = 0; c < m->bopts.in_c; c++) {
        m->mean[c] = ds->mean ? ds->mean[c] : 0.0f;
        m->std[c] = ds->std ? ds->std[c] : 1.0f;
    }
}
