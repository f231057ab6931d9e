/* Plan memory: aligned arenas for activations, gradients, scratchpad, parameters (weights with decay
 * first), optimizer state and BN statistics; parameter initialization. */
#include "nn/plan.h"

#include <math.h>
#include <string.h>

void nas__arena_free(nas_context_t *ctx, arena_t *a)
{
    nas__free(ctx, a->raw);
    memset(a, 0, sizeof *a);
}

nas_status_t nas__arena_alloc(nas_context_t *ctx, arena_t *a, size_t bytes)
{
    a->raw = nas__malloc(ctx, bytes + NAS__ALIGN);
    if (!a->raw)
        return nas__fail(ctx->errmsg, NAS_E_NOMEM, "out of memory: %zu bytes for a plan", bytes);
    a->base = (float *)(((uintptr_t)a->raw + NAS__ALIGN - 1) & ~(uintptr_t)(NAS__ALIGN - 1));
    a->bytes = bytes;
    memset(a->base, 0, bytes);
    return NAS_OK;
}

/* Activation-lifetime tensors: op outputs and buffers, and the plan's own tensors. */

static bool in_slot(const nas__plan_t *p, const pnode_t *pn);

/* Every op (slotted: only with all true). */
static void each_op_of(nas__plan_t *p, bool all, void (*fn)(nas__op_t *op, void *arg), void *arg)
{
    for (uint32_t v = 0; v < p->n; v++) {
        pnode_t *pn = &p->nodes[v];
        if (pn->op && (all || !in_slot(p, pn)))
            fn(pn->op, arg);
        for (uint32_t k = 0; pn->adapt && k < pn->n_paths; k++)
            if (pn->adapt[k])
                fn(pn->adapt[k], arg);
    }
}

static void each_op(nas__plan_t *p, void (*fn)(nas__op_t *op, void *arg), void *arg)
{
    each_op_of(p, true, fn, arg);
}

typedef struct carve {
    arena_t *a;
    size_t off;
    bool bind;
} carve_t;

static void carve_tensor(nas__tensor_t *t, carve_t *c)
{
    size_t b = plan_align(nas__tensor_bytes(t));
    if (c->bind)
        nas__tensor_bind(t, (char *)c->a->base + c->off);
    c->off += b;
}

static void carve_op(nas__op_t *op, void *arg)
{
    carve_t *c = arg;
    if (nas__op_dst(op))
        carve_tensor(nas__op_dst(op), c);
    for (uint32_t i = 0; i < nas__op_num_buffers(op); i++)
        carve_tensor(nas__op_buffer(op, i), c);
}

/* Whether node v's op is carved into its mixed node's path slots (single and binary modes) rather
 * than on its own: only one (binary: two) of the paths runs in a step. */
static bool in_slot(const nas__plan_t *p, const pnode_t *pn)
{
    return pn->op && pn->mixed >= 0 && p->nodes[pn->mixed].mode != NAS__MIXED_WEIGHTED;
}

static size_t op_bytes(nas__op_t *op)
{
    size_t b = nas__op_dst(op) ? plan_align(nas__tensor_bytes(nas__op_dst(op))) : 0;
    for (uint32_t i = 0; i < nas__op_num_buffers(op); i++)
        b += plan_align(nas__tensor_bytes(nas__op_buffer(op, i)));
    return b;
}

/* Whether every binary node's paths run right before it with no other mixed node's path in between,
 * so that the forward-only paths can all share one region (see plan.h). */
static bool probes_can_share(const nas__plan_t *p)
{
    for (uint32_t v = 0; v < p->n; v++) {
        if (p->nodes[v].kind != PK_MIXED || p->nodes[v].mode != NAS__MIXED_BINARY)
            continue;
        uint32_t lo = v;
        for (uint32_t u = 0; u < v; u++)
            if (p->nodes[u].mixed == (int32_t)v) {
                lo = u;
                break;
            }
        for (uint32_t u = lo; u < v; u++)
            if (p->nodes[u].mixed >= 0 && p->nodes[u].mixed != (int32_t)v)
                return false;
    }
    return true;
}

/* Offsets of the slotted ops inside their path and the slot sizes; the regions follow `off`. */
static size_t place_slots(nas__plan_t *p, size_t off)
{
    p->probe_shared = probes_can_share(p);
    p->probe_bytes = 0;
    for (uint32_t v = 0; v < p->n; v++) {
        pnode_t *mn = &p->nodes[v];
        if (mn->kind != PK_MIXED || mn->mode == NAS__MIXED_WEIGHTED)
            continue;
        size_t used[NAS__GRAPH_MAX_PATHS] = { 0 }, mx = 0;
        for (uint32_t u = 0; u < p->n; u++) {
            pnode_t *pn = &p->nodes[u];
            if (pn->mixed != (int32_t)v || !in_slot(p, pn))
                continue;
            pn->rel_off = used[pn->path];
            used[pn->path] += op_bytes(pn->op);
            mx = used[pn->path] > mx ? used[pn->path] : mx;
        }
        mn->region = off;
        mn->slot_bytes = mx;
        mn->in_slot1 = NAS__NO_PATH;
        bool own_second = mn->mode == NAS__MIXED_BINARY && !p->probe_shared;
        off += mx * (own_second ? 2u : 1u);
        if (mn->mode == NAS__MIXED_BINARY && mx > p->probe_bytes)
            p->probe_bytes = mx;
    }
    p->probe_region = off;
    return p->probe_shared ? off + p->probe_bytes : off;
}

void nas__plan_bind_path(nas__plan_t *p, int32_t v, uint32_t k, uint32_t slot)
{
    pnode_t *mn = &p->nodes[v];
    size_t at = slot == 0 ? mn->region : p->probe_shared ? p->probe_region : mn->region + mn->slot_bytes;
    arena_t a = { NULL, (float *)((char *)p->act.base + at), 0 };
    for (uint32_t u = 0; u < p->n; u++) {
        pnode_t *pn = &p->nodes[u];
        if (pn->mixed != v || (uint32_t)pn->path != k || !in_slot(p, pn))
            continue;
        carve_t c = { &a, pn->rel_off, true };
        carve_op(pn->op, &c);
    }
}

static void scratch_max(nas__op_t *op, void *arg)
{
    size_t *m = arg, b = nas__op_scratchpad_bytes(op);
    if (b > *m)
        *m = b;
}

static void scratch_set(nas__op_t *op, void *arg)
{
    nas__op_set_scratchpad(op, arg);
}

/* Offsets of the plan's own tensors: whole-life ones one after the other, gradient buffers by
 * lifetime, sharing memory with an earlier buffer of the same layout that is dead by then (a greedy
 * interval colouring, in order of first use). */
static nas_status_t place_owned(nas__plan_t *p, size_t base, size_t *offs, size_t *end)
{
    uint32_t n = p->n_owned;
    uint32_t *order = nas__calloc(p->ctx, n + 1, sizeof *order);
    int32_t *free_at = nas__calloc(p->ctx, n + 1, sizeof *free_at); /* per slot owner: last step used */
    if (!order || !free_at) {
        nas__free(p->ctx, order);
        nas__free(p->ctx, free_at);
        return nas__fail(p->ctx->errmsg, NAS_E_NOMEM, "out of memory compiling a plan");
    }
    size_t off = base;
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (p->owned[i].first < 0) {
            offs[i] = off;
            off += plan_align(nas__tensor_bytes(p->owned[i].t));
        } else {
            order[m++] = i;
        }
    }
    for (uint32_t a = 1; a < m; a++) /* insertion sort by first use: m is small */
        for (uint32_t b = a; b > 0 && p->owned[order[b]].first < p->owned[order[b - 1]].first; b--) {
            uint32_t x = order[b];
            order[b] = order[b - 1];
            order[b - 1] = x;
        }
    /* A slot is identified by the first tensor placed in it; free_at[slot] = its last use so far. */
    for (uint32_t a = 0; a < m; a++) {
        owned_t *o = &p->owned[order[a]];
        bool placed = false;
        for (uint32_t b = 0; b < a && !placed; b++) {
            owned_t *s = &p->owned[order[b]];
            if (free_at[b] < 0 || free_at[b] >= o->first || !nas__tensor_same_layout(s->t, o->t))
                continue;
            offs[order[a]] = offs[order[b]];
            free_at[b] = o->last;
            free_at[a] = -1; /* not a slot of its own */
            placed = true;
        }
        if (!placed) {
            offs[order[a]] = off;
            off += plan_align(nas__tensor_bytes(o->t));
            free_at[a] = o->last;
        }
    }
    *end = off;
    nas__free(p->ctx, order);
    nas__free(p->ctx, free_at);
    return NAS_OK;
}

nas_status_t nas__plan_bind_activations(nas__plan_t *p)
{
    carve_t c = { &p->act, 0, false };
    each_op_of(p, false, carve_op, &c);
    size_t own_base = place_slots(p, c.off);
    size_t *offs = nas__calloc(p->ctx, p->n_owned + 1, sizeof *offs), end = 0;
    if (!offs)
        return nas__fail(p->ctx->errmsg, NAS_E_NOMEM, "out of memory compiling a plan");
    nas_status_t st = place_owned(p, own_base, offs, &end);
    if (st == NAS_OK)
        st = nas__arena_alloc(p->ctx, &p->act, end);
    if (st != NAS_OK) {
        nas__free(p->ctx, offs);
        return st;
    }
    c.off = 0;
    c.bind = true;
    each_op_of(p, false, carve_op, &c);
    for (uint32_t v = 0; v < p->n; v++) /* every path in slot 0 */
        if (p->nodes[v].kind == PK_MIXED && p->nodes[v].mode != NAS__MIXED_WEIGHTED)
            for (uint32_t k = 0; k < p->nodes[v].n_paths; k++)
                nas__plan_bind_path(p, (int32_t)v, k, 0);
    for (uint32_t i = 0; i < p->n_owned; i++)
        nas__tensor_bind(p->owned[i].t, (char *)p->act.base + offs[i]);
    nas__free(p->ctx, offs);
    size_t sp = 0;
    each_op(p, scratch_max, &sp);
    if (sp) {
        if ((st = nas__arena_alloc(p->ctx, &p->scratch, sp)) != NAS_OK)
            return st;
        each_op(p, scratch_set, p->scratch.base);
    }
    return NAS_OK;
}

/* Parameters in graph order, weights with decay first: one contiguous buffer each for parameters,
 * gradients, momentum (SGD, Adam's m) and Adam's v. */
static arena_t borrow(const arena_t *a)
{
    return (arena_t){ NULL, a->base, a->bytes };
}

/* Bind parameters, gradients, state and running statistics to another plan's buffers. */
static nas_status_t share_params(nas__plan_t *p, nas__plan_t *o)
{
    char *err = p->ctx->errmsg;
    if (o->n != p->n || o->n_params != p->n_params || o->n_alpha != p->n_alpha || o->n_decay_floats != p->n_decay_floats ||
        o->n_param_floats != p->n_param_floats)
        return nas__fail(err, NAS_E_INVAL, "share: the other plan was compiled from another graph");
    if (p->opts.train && !o->opts.train)
        return nas__fail(err, NAS_E_STATE, "share: a training plan can only share a training plan's state");
    for (uint32_t i = 0; i < p->n_params; i++)
        if (!nas__tensor_same_layout(p->params_v[i].t, o->params_v[i].t))
            return nas__fail(err, NAS_E_UNSUPPORTED, "share: parameter %u has another layout in this plan (copy the "
                             "state with nas__plan_copy_state instead)", i);
    p->params = borrow(&o->params);
    p->grads = borrow(&o->grads);
    p->mom = borrow(&o->mom);
    p->var = borrow(&o->var);
    p->stats = borrow(&o->stats);
    for (uint32_t i = 0; i < p->n_params; i++) {
        pparam_t *pp = &p->params_v[i];
        nas__tensor_bind(pp->t, p->params.base + pp->off);
        if (pp->g)
            nas__tensor_bind(pp->g, p->grads.base + pp->off);
    }
    for (uint32_t v = 0; v < p->n; v++) {
        nas__op_t *a = p->nodes[v].op, *b = o->nodes[v].op;
        for (uint32_t i = 0; a && b && i < nas__op_num_stats(a); i++)
            nas__tensor_bind(nas__op_stat(a, i), nas__tensor_data(nas__op_stat(b, i)));
    }
    return NAS_OK;
}

nas_status_t nas__plan_bind_params(nas__plan_t *p)
{
    uint32_t n = 0, s = 0;
    for (uint32_t v = 0; v < p->n; v++)
        if (p->nodes[v].op) {
            n += nas__op_num_params(p->nodes[v].op);
            s += nas__op_num_stats(p->nodes[v].op);
        }
    p->params_v = nas__calloc(p->ctx, n ? n : 1, sizeof *p->params_v);
    if (!p->params_v)
        return nas__fail(p->ctx->errmsg, NAS_E_NOMEM, "out of memory compiling a plan");
    size_t off = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t v = 0; v < p->n; v++) {
            nas__op_t *op = p->nodes[v].op;
            for (uint32_t i = 0; op && i < nas__op_num_params(op); i++) {
                nas__param_info_t info;
                nas__op_param_info(op, i, &info);
                if (info.decay != (pass == 0))
                    continue;
                pparam_t *pp = &p->params_v[p->n_params++];
                pp->node = (int32_t)v;
                pp->t = nas__op_param(op, i);
                pp->g = nas__op_param_grad(op, i);
                pp->info = info;
                pp->off = off;
                pp->mixed = p->nodes[v].mixed;
                pp->path = p->nodes[v].path;
                off += plan_align(nas__tensor_bytes(pp->t)) / sizeof(float);
            }
        }
        if (pass == 0)
            p->n_decay_floats = off;
    }
    p->n_param_floats = off;
    size_t bytes = off * sizeof(float);
    if (p->opts.share)
        return share_params(p, p->opts.share);
    nas_status_t st = nas__arena_alloc(p->ctx, &p->params, bytes);
    if (st == NAS_OK && p->opts.train) {
        if ((st = nas__arena_alloc(p->ctx, &p->grads, bytes)) == NAS_OK && (st = nas__arena_alloc(p->ctx, &p->mom, bytes)) == NAS_OK)
            st = nas__arena_alloc(p->ctx, &p->var, bytes);
    }
    if (st != NAS_OK)
        return st;
    for (uint32_t i = 0; i < p->n_params; i++) {
        pparam_t *pp = &p->params_v[i];
        nas__tensor_bind(pp->t, p->params.base + pp->off);
        if (pp->g)
            nas__tensor_bind(pp->g, p->grads.base + pp->off);
    }
    /* BN running statistics, plain. */
    size_t sb = 0;
    for (uint32_t v = 0; v < p->n; v++)
        for (uint32_t i = 0; p->nodes[v].op && i < nas__op_num_stats(p->nodes[v].op); i++)
            sb += plan_align(nas__tensor_bytes(nas__op_stat(p->nodes[v].op, i)));
    if (s && (st = nas__arena_alloc(p->ctx, &p->stats, sb)) != NAS_OK)
        return st;
    sb = 0;
    for (uint32_t v = 0; v < p->n; v++)
        for (uint32_t i = 0; p->nodes[v].op && i < nas__op_num_stats(p->nodes[v].op); i++) {
            nas__tensor_t *t = nas__op_stat(p->nodes[v].op, i);
            nas__tensor_bind(t, (char *)p->stats.base + sb);
            float *d = nas__tensor_data(t);
            for (size_t j = 0; j < nas__tensor_elems(t); j++)
                d[j] = i == 1 ? 1.0f : 0.0f; /* mean 0, variance 1 */
            sb += plan_align(nas__tensor_bytes(t));
        }
    return NAS_OK;
}

/* He-normal conv weights, PyTorch-default uniform fc weights, zero biases, BN scale 1 and shift 0;
 * deterministic from (context seed, opts.init_stream). */
nas_status_t nas__plan_init_params(nas__plan_t *p)
{
    if (p->opts.share)
        return NAS_OK;
    nas_rng_t *rng = NULL;
    nas_status_t st = nas_rng_create(&rng, p->ctx, nas_context_seed(p->ctx), p->opts.init_stream);
    if (st != NAS_OK)
        return st;
    size_t max = 1;
    for (uint32_t i = 0; i < p->n_params; i++)
        if ((size_t)p->params_v[i].info.elems > max)
            max = (size_t)p->params_v[i].info.elems;
    float *buf = nas__malloc(p->ctx, max * sizeof *buf);
    if (!buf) {
        nas_rng_destroy(rng);
        return nas__fail(p->ctx->errmsg, NAS_E_NOMEM, "out of memory initializing parameters");
    }
    for (uint32_t i = 0; i < p->n_params && st == NAS_OK; i++) {
        pparam_t *pp = &p->params_v[i];
        int64_t n = pp->info.elems;
        bool fc = p->nodes[pp->node].gkind == NAS__NODE_FC;
        double fan_in = pp->info.fan_in > 0 ? (double)pp->info.fan_in : 1.0;
        for (int64_t j = 0; j < n; j++) {
            switch (pp->info.kind) {
            case NAS__PARAM_WEIGHT:
                buf[j] = fc ? (float)((2.0 * nas_rng_uniform(rng) - 1.0) / sqrt(fan_in))
                            : (float)(nas_rng_normal(rng) * sqrt(2.0 / fan_in));
                break;
            case NAS__PARAM_SCALE: buf[j] = 1.0f; break;
            default: buf[j] = 0.0f; break;
            }
        }
        st = nas__tensor_write_plain(pp->t, buf, p->ctx->errmsg);
    }
    for (uint32_t a = 0; a < p->n_alpha; a++)
        p->alpha[a] = p->opts.alpha_init_std > 0 ? (float)(p->opts.alpha_init_std * nas_rng_normal(rng)) : 0.0f;
    nas__free(p->ctx, buf);
    nas_rng_destroy(rng);
    return st;
}
