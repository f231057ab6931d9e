/* Compiling a graph into a plan: ops, gradient routing, memory arenas, parameter initialization. */
#include "nn/plan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static nas_status_t track(nas__plan_t *p, nas__tensor_t *t)
{
    if (!nas__grow(p->ctx, (void **)&p->owned, &p->cap_owned, p->n_owned + 1, sizeof *p->owned)) {
        nas__tensor_destroy(t);
        return nas__fail(p->ctx->errmsg, NAS_E_NOMEM, "out of memory compiling a plan");
    }
    p->owned[p->n_owned++] = (owned_t){ t, -1, -1 };
    return NAS_OK;
}

static nas_status_t new_like(nas__plan_t *p, const nas__tensor_t *like, nas__tensor_t **out)
{
    nas_status_t st = nas__tensor_create_like(out, like);
    return st == NAS_OK ? track(p, *out) : st;
}

void nas__plan_destroy(nas__plan_t *p)
{
    if (!p)
        return;
    nas_context_t *ctx = p->ctx;
    for (uint32_t v = 0; p->nodes && v < p->n; v++) {
        pnode_t *pn = &p->nodes[v];
        nas__op_destroy(pn->op);
        for (uint32_t k = 0; pn->adapt && k < pn->n_paths; k++)
            nas__op_destroy(pn->adapt[k]);
        nas__free(ctx, pn->edge_src);
        nas__free(ctx, pn->edge_d);
        nas__free(ctx, pn->edge_acc);
        nas__free(ctx, pn->path_zero);
        nas__free(ctx, pn->adapt);
        nas__free(ctx, pn->pval);
        nas__free(ctx, pn->pgrad);
    }
    for (uint32_t i = 0; i < p->n_owned; i++)
        nas__tensor_destroy(p->owned[i].t);
    nas__free(ctx, p->owned);
    nas__free(ctx, p->nodes);
    nas__free(ctx, p->params_v);
    nas__free(ctx, p->mixed_nodes);
    if (!p->opts.share)
        nas__free(ctx, p->alpha);
    arena_t *ar[] = { &p->act, &p->scratch, &p->params, &p->grads, &p->mom, &p->var, &p->stats };
    for (size_t i = 0; i < sizeof ar / sizeof *ar; i++)
        nas__arena_free(ctx, ar[i]);
    nas__free(ctx, p);
}

/* Per-node edge lists (mixed nodes: their path outputs) and membership. */
static nas_status_t build_edges(nas__plan_t *p, const nas__graph_t *g)
{
    for (uint32_t v = 0; v < p->n; v++) {
        const nas__node_t *gn = nas__graph_node(g, (int32_t)v);
        pnode_t *pn = &p->nodes[v];
        pn->gkind = gn->kind;
        pn->mixed = gn->mixed;
        pn->path = gn->path;
        pn->n_edge = gn->kind == NAS__NODE_MIXED ? gn->n_paths : gn->kind == NAS__NODE_INPUT ? 0 : gn->n_in;
        if (!pn->n_edge)
            continue;
        pn->edge_src = nas__calloc(p->ctx, pn->n_edge, sizeof *pn->edge_src);
        pn->edge_d = nas__calloc(p->ctx, pn->n_edge, sizeof *pn->edge_d);
        pn->edge_acc = nas__calloc(p->ctx, pn->n_edge, sizeof *pn->edge_acc);
        if (!pn->edge_src || !pn->edge_d || !pn->edge_acc)
            return nas__fail(p->ctx->errmsg, NAS_E_NOMEM, "out of memory compiling a plan");
        for (uint32_t i = 0; i < pn->n_edge; i++)
            pn->edge_src[i] = gn->kind == NAS__NODE_MIXED ? nas__graph_path_out(g, (int32_t)v, i)
                                                          : nas__graph_in(g, (int32_t)v, i);
    }
    return NAS_OK;
}

static void mark_need_grad(nas__plan_t *p, const nas__graph_t *g)
{
    for (uint32_t v = 0; v < p->n && p->opts.train; v++) {
        pnode_t *pn = &p->nodes[v];
        const nas__node_t *gn = nas__graph_node(g, (int32_t)v);
        bool need = gn->params > 0 || gn->kind == NAS__NODE_MIXED ||
                    (gn->kind == NAS__NODE_INPUT && p->opts.input_grad);
        for (uint32_t i = 0; i < pn->n_edge && !need; i++)
            need = p->nodes[pn->edge_src[i]].need_grad;
        pn->need_grad = need;
    }
}

/* Number of consumer edges of u, and whether its only consumer is a ReLU in the same path. */
static uint32_t consumers(const nas__plan_t *p, int32_t u, int32_t *only)
{
    uint32_t c = 0;
    *only = -1;
    for (uint32_t v = (uint32_t)u + 1; v < p->n; v++)
        for (uint32_t i = 0; i < p->nodes[v].n_edge; i++)
            if (p->nodes[v].edge_src[i] == u) {
                c++;
                *only = (int32_t)v;
            }
    return c;
}

static bool can_fuse_relu(const nas__plan_t *p, int32_t bn)
{
    int32_t r;
    if (p->nodes[bn].gkind != NAS__NODE_BN || bn == p->output || consumers(p, bn, &r) != 1)
        return false;
    const pnode_t *a = &p->nodes[bn], *b = &p->nodes[r];
    return b->gkind == NAS__NODE_RELU && b->mixed == a->mixed && b->path == a->path;
}

static nas_status_t create_op(nas__plan_t *p, const nas__graph_t *g, int32_t v)
{
    pnode_t *pn = &p->nodes[v];
    const nas__node_t *gn = nas__graph_node(g, v);
    char *err = p->ctx->errmsg;
    nas__tensor_t *srcs[16];
    bool need[16];
    if (pn->n_edge > 16)
        return nas__fail(err, NAS_E_UNSUPPORTED, "node %d: more than 16 inputs", (int)v);
    for (uint32_t i = 0; i < pn->n_edge; i++) {
        srcs[i] = p->nodes[pn->edge_src[i]].val;
        need[i] = p->nodes[pn->edge_src[i]].need_grad;
    }
    nas__op_cfg_t cfg = { p->opts.train && pn->need_grad, need, p->opts.share ? p->opts.share->nodes[v].op : NULL };
    nas__dev_t *dev = p->dev;
    nas_status_t st;
    switch (gn->kind) {
    case NAS__NODE_CONV: {
        nas__conv_attr_t a = { gn->out.c, gn->k, gn->stride, gn->pad, gn->dilation, gn->groups, gn->bias };
        st = nas__op_conv_create(&pn->op, dev, srcs[0], &a, &cfg, err);
        break;
    }
    case NAS__NODE_BN: {
        bool fuse = can_fuse_relu(p, v);
        st = nas__op_bn_create(&pn->op, dev, srcs[0], fuse, &cfg, err);
        p->fused += fuse && st == NAS_OK;
        break;
    }
    case NAS__NODE_RELU:
    case NAS__NODE_RELU6:
    case NAS__NODE_HSWISH: {
        nas__eltwise_kind_t k = gn->kind == NAS__NODE_RELU    ? NAS__ELTWISE_RELU
                                : gn->kind == NAS__NODE_RELU6 ? NAS__ELTWISE_RELU6
                                                              : NAS__ELTWISE_HSWISH;
        st = nas__op_eltwise_create(&pn->op, dev, srcs[0], k, &cfg, err);
        break;
    }
    case NAS__NODE_MAXPOOL:
        st = nas__op_pool_create(&pn->op, dev, srcs[0], NAS__POOL_MAX, gn->k, gn->stride, gn->pad, &cfg, err);
        break;
    case NAS__NODE_AVGPOOL:
        st = nas__op_pool_create(&pn->op, dev, srcs[0], NAS__POOL_AVG, gn->k, gn->stride, gn->pad, &cfg, err);
        break;
    case NAS__NODE_GAP:
        st = nas__op_pool_create(&pn->op, dev, srcs[0], NAS__POOL_GAP, 0, 1, 0, &cfg, err);
        break;
    case NAS__NODE_FC:
        st = nas__op_ip_create(&pn->op, dev, srcs[0], gn->out.c, gn->bias, &cfg, err);
        break;
    case NAS__NODE_ZERO:
        st = nas__op_zero_create(&pn->op, dev, srcs[0], gn->stride, &cfg, err);
        break;
    case NAS__NODE_CROP:
        st = nas__op_crop_create(&pn->op, dev, srcs[0], gn->top, gn->left, gn->out.h, gn->out.w, &cfg, err);
        break;
    case NAS__NODE_SUM:
        st = nas__op_sum_create(&pn->op, dev, pn->n_edge, srcs, &cfg, err);
        break;
    case NAS__NODE_CONCAT:
        st = nas__op_concat_create(&pn->op, dev, pn->n_edge, srcs, &cfg, err);
        break;
    case NAS__NODE_LOSS:
        st = nas__op_loss_create(&pn->op, dev, srcs[0], gn->smoothing, &cfg, err);
        break;
    default:
        return nas__fail(err, NAS_E_INTERNAL, "node %d: no op for kind %s", (int)v, nas__node_kind_name(gn->kind));
    }
    if (st != NAS_OK) {
        size_t len = strlen(err);
        if (len + 48 < NAS_ERRMSG_CAP)
            snprintf(err + len, NAS_ERRMSG_CAP - len, " (node %d, %s)", (int)v, nas__node_kind_name(gn->kind));
        return st;
    }
    pn->kind = PK_OP;
    pn->val = nas__op_dst(pn->op);
    p->n_ops++;
    uint32_t r = nas__op_num_reorders(pn->op);
    p->weight_reorders += nas__op_num_weight_reorders(pn->op);
    p->ref_prims += nas__op_num_ref_prims(pn->op);
    if (pn->n_edge && pn->edge_src[0] == p->input)
        p->input_reorders += r;
    else
        p->step_reorders += r;
    return NAS_OK;
}

static nas_status_t create_mixed(nas__plan_t *p, const nas__graph_t *g, int32_t v)
{
    pnode_t *pn = &p->nodes[v];
    const nas__node_t *gn = nas__graph_node(g, v);
    char *err = p->ctx->errmsg;
    pn->kind = PK_MIXED;
    pn->mode = gn->mode;
    pn->sel2 = NAS__NO_PATH;
    pn->n_paths = gn->n_paths;
    pn->path_zero = nas__calloc(p->ctx, pn->n_paths, sizeof *pn->path_zero);
    pn->adapt = nas__calloc(p->ctx, pn->n_paths, sizeof *pn->adapt);
    pn->pval = nas__calloc(p->ctx, pn->n_paths, sizeof *pn->pval);
    pn->pgrad = nas__calloc(p->ctx, pn->n_paths, sizeof *pn->pgrad);
    if (!pn->path_zero || !pn->adapt || !pn->pval || !pn->pgrad)
        return nas__fail(err, NAS_E_NOMEM, "out of memory compiling a plan");
    const nas__tensor_t *ref = p->nodes[pn->edge_src[0]].val;
    for (uint32_t k = 0; k < pn->n_paths; k++) {
        pnode_t *po = &p->nodes[pn->edge_src[k]];
        pn->path_zero[k] = po->gkind == NAS__NODE_ZERO;
        pn->pval[k] = po->val;
        if (nas__tensor_same_layout(po->val, ref))
            continue;
        bool need = po->need_grad;
        nas__op_cfg_t cfg = { p->opts.train, &need, NULL };
        nas_status_t st = nas__op_reorder_create(&pn->adapt[k], p->dev, po->val, ref, &cfg, err);
        if (st != NAS_OK)
            return st;
        pn->pval[k] = nas__op_dst(pn->adapt[k]);
        p->step_reorders += nas__op_num_reorders(pn->adapt[k]);
    }
    nas_status_t st = new_like(p, ref, &pn->val);
    if (st != NAS_OK)
        return st;
    if (pn->mode == NAS__MIXED_BINARY && (st = new_like(p, ref, &pn->probe)) != NAS_OK)
        return st;
    pn->own_val = true;
    if (gn->alpha_of != v) {
        pn->alpha_off = p->nodes[gn->alpha_of].alpha_off; /* shared architecture weights */
    } else {
        pn->alpha_off = p->n_alpha;
        p->n_alpha += pn->n_paths;
    }
    p->mixed_nodes[p->n_mixed++] = v;
    return NAS_OK;
}

static nas_status_t create_nodes(nas__plan_t *p, const nas__graph_t *g)
{
    for (uint32_t v = 0; v < p->n; v++) {
        pnode_t *pn = &p->nodes[v];
        const nas__node_t *gn = nas__graph_node(g, (int32_t)v);
        nas_status_t st = NAS_OK;
        if (gn->kind == NAS__NODE_INPUT) {
            int64_t dims[4] = { p->opts.batch, gn->out.c, gn->out.h, gn->out.w };
            pn->kind = PK_INPUT;
            st = nas__tensor_create_plain(&pn->val, p->dev, 4, dims);
            if (st == NAS_OK)
                st = track(p, pn->val);
            pn->own_val = true;
        } else if (gn->kind == NAS__NODE_IDENTITY) {
            pn->kind = PK_IDENTITY;
            pn->val = p->nodes[pn->edge_src[0]].val;
        } else if (gn->kind == NAS__NODE_RELU && can_fuse_relu(p, pn->edge_src[0])) {
            pn->kind = PK_FUSED;
            pn->val = p->nodes[pn->edge_src[0]].val;
        } else if (gn->kind == NAS__NODE_MIXED) {
            st = create_mixed(p, g, (int32_t)v);
        } else {
            st = create_op(p, g, (int32_t)v);
        }
        if (st != NAS_OK)
            return st;
    }
    return NAS_OK;
}

static void set_life(nas__plan_t *p, const nas__tensor_t *t, int32_t first, int32_t last)
{
    for (uint32_t i = 0; i < p->n_owned; i++)
        if (p->owned[i].t == t) {
            p->owned[i].first = first;
            p->owned[i].last = last;
        }
}

/* Backward steps during which each gradient buffer holds data: from its first writer to its last
 * reader. Gradients seeded or read outside backward, zeroed up front, or never written stay whole-life. */
static void set_lifetimes(nas__plan_t *p)
{
    int32_t n = (int32_t)p->n;
    for (int32_t v = 0; v < n; v++) {
        pnode_t *pn = &p->nodes[v];
        int32_t t = n - 1 - v;
        if (pn->dval) {
            int32_t first = -1;
            for (int32_t c = n - 1; c > v && first < 0; c--)
                for (uint32_t i = 0; i < p->nodes[c].n_edge; i++)
                    if (p->nodes[c].edge_src[i] == v && p->nodes[c].kind != PK_FUSED)
                        first = n - 1 - c;
            int32_t last = pn->kind == PK_FUSED ? n - 1 - pn->edge_src[0] : t; /* the BN reads it */
            if (first >= 0 && v != p->input && v != p->output && !pn->zero_grad_first)
                set_life(p, pn->dval, first, last);
        }
        for (uint32_t i = 0; i < pn->n_edge; i++)
            if (pn->edge_d[i] && pn->edge_d[i] != p->nodes[pn->edge_src[i]].dval)
                set_life(p, pn->edge_d[i], t, t);
        for (uint32_t k = 0; pn->pgrad && k < pn->n_paths; k++)
            if (pn->pgrad[k])
                set_life(p, pn->pgrad[k], t, t);
    }
}

/* Gradient tensors and where each backward writes: the first writer of a gradient (the consumer
 * that runs first in backward) writes it directly, later ones write a scratch that is added. */
static nas_status_t route_grads(nas__plan_t *p)
{
    char *err = p->ctx->errmsg;
    nas_status_t st;
    for (uint32_t v = 0; v < p->n; v++) {
        pnode_t *pn = &p->nodes[v];
        bool fused_bn = pn->gkind == NAS__NODE_BN && pn->kind == PK_OP && can_fuse_relu(p, (int32_t)v);
        if (!pn->need_grad || pn->gkind == NAS__NODE_LOSS || fused_bn)
            continue;
        if ((st = new_like(p, pn->val, &pn->dval)) != NAS_OK)
            return st;
    }
    /* Inputs of single-path mixed nodes: which consumers run changes from step to step. */
    for (uint32_t m = 0; m < p->n_mixed; m++) {
        pnode_t *mn = &p->nodes[p->mixed_nodes[m]];
        if (mn->mode == NAS__MIXED_WEIGHTED)
            continue;
        for (uint32_t v = 0; v < p->n; v++)
            if (p->nodes[v].mixed == p->mixed_nodes[m])
                for (uint32_t i = 0; i < p->nodes[v].n_edge; i++) {
                    pnode_t *u = &p->nodes[p->nodes[v].edge_src[i]];
                    if (u->mixed != p->mixed_nodes[m])
                        u->zero_grad_first = true;
                }
    }
    for (int32_t v = (int32_t)p->n - 1; v >= 0; v--) {
        pnode_t *pn = &p->nodes[v];
        if (!pn->need_grad)
            continue;
        for (uint32_t i = 0; i < pn->n_edge; i++) {
            pnode_t *u = &p->nodes[pn->edge_src[i]];
            if (!u->need_grad || pn->kind == PK_FUSED)
                continue;
            if (!u->dval)
                return nas__fail(err, NAS_E_INTERNAL, "node %d: input %d has no gradient tensor", (int)v,
                                 (int)pn->edge_src[i]);
            /* Walking v downwards, the first edge met is the first to run in backward. */
            bool first = !u->zero_grad_first && !u->claimed;
            u->claimed = true;
            pn->edge_acc[i] = !first;
            /* Identity and unadapted mixed edges add or scale straight into the producer's gradient. */
            bool direct = pn->kind == PK_IDENTITY || (pn->kind == PK_MIXED && !pn->adapt[i]);
            if (first || direct) {
                pn->edge_d[i] = u->dval;
            } else if ((st = new_like(p, u->val, &pn->edge_d[i])) != NAS_OK) {
                return st;
            }
        }
    }
    /* Hand the gradient tensors to the ops. */
    for (uint32_t v = 0; v < p->n; v++) {
        pnode_t *pn = &p->nodes[v];
        if (!pn->need_grad)
            continue;
        if (pn->kind == PK_OP && pn->op) {
            nas__tensor_t *ddst = pn->dval;
            if (pn->gkind == NAS__NODE_BN && !ddst) {
                int32_t r;
                consumers(p, (int32_t)v, &r);
                ddst = p->nodes[r].dval;
            }
            if ((st = nas__op_set_grads(pn->op, pn->edge_d, ddst, err)) != NAS_OK)
                return st;
        } else if (pn->kind == PK_MIXED) {
            for (uint32_t k = 0; k < pn->n_paths; k++) {
                if (!pn->adapt[k])
                    continue;
                if ((st = new_like(p, pn->pval[k], &pn->pgrad[k])) != NAS_OK ||
                    (st = nas__op_set_grads(pn->adapt[k], &pn->edge_d[k], pn->pgrad[k], err)) != NAS_OK)
                    return st;
            }
        }
    }
    return NAS_OK;
}

nas_status_t nas__plan_create(nas__plan_t **out, nas__dev_t *dev, const nas__graph_t *g, const nas__plan_opts_t *opts)
{
    if (!out)
        return NAS_E_INVAL;
    *out = NULL;
    if (!dev || !g)
        return NAS_E_INVAL;
    nas_context_t *ctx = nas__dev_context(dev);
    nas__plan_opts_t o = NAS__PLAN_OPTS_INIT;
    if (opts && !nas__copy_opts(&o, sizeof o, opts, opts->struct_size))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "plan options: bad struct_size");
    nas_status_t st = nas__graph_validate(g, ctx->errmsg);
    if (st != NAS_OK)
        return st;
    if (o.share && o.share->n != nas__graph_num_nodes(g))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "share: the other plan was compiled from another graph");
    if (o.batch < 1 || o.batch > (1 << 20))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "plan: batch size %d outside [1, 2^20]", (int)o.batch);
    nas__plan_t *p = nas__calloc(ctx, 1, sizeof *p);
    if (!p)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating a plan");
    p->ctx = ctx;
    p->dev = dev;
    p->opts = o;
    p->n = nas__graph_num_nodes(g);
    p->input = nas__graph_input_node(g);
    p->output = nas__graph_output(g);
    p->loss_node = nas__graph_node(g, p->output)->kind == NAS__NODE_LOSS ? p->output : -1;
    p->prims0 = nas__dev_primitives(dev);
    p->nodes = nas__calloc(ctx, p->n, sizeof *p->nodes);
    p->mixed_nodes = nas__calloc(ctx, nas__graph_num_mixed(g) + 1, sizeof *p->mixed_nodes);
    if (!p->nodes || !p->mixed_nodes) {
        st = nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating a plan");
        goto fail;
    }
    nas__dev_enter(dev);
    if ((st = build_edges(p, g)) != NAS_OK)
        goto fail;
    mark_need_grad(p, g);
    if ((st = create_nodes(p, g)) != NAS_OK)
        goto fail;
    if (p->opts.train && (st = route_grads(p)) != NAS_OK)
        goto fail;
    if (p->opts.train)
        set_lifetimes(p);
    if ((st = nas__plan_bind_activations(p)) != NAS_OK || (st = nas__plan_bind_params(p)) != NAS_OK)
        goto fail;
    /* alphas, their gradients, two optimizer state vectors and the softmax weights */
    p->alpha = p->opts.share ? p->opts.share->alpha : nas__calloc(ctx, 5 * (size_t)p->n_alpha + 1, sizeof *p->alpha);
    if (!p->alpha) {
        st = nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating a plan");
        goto fail;
    }
    p->dalpha = p->alpha + p->n_alpha;
    p->amom = p->dalpha + p->n_alpha;
    p->avar = p->amom + p->n_alpha;
    p->aw = p->avar + p->n_alpha;
    if ((st = nas__plan_init_params(p)) != NAS_OK)
        goto fail;
    *out = p;
    return NAS_OK;
fail:
    nas__plan_destroy(p);
    return st;
}
