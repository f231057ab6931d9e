/* Running a plan: forward, backward, optimizer steps, parameters at the edges, mixed nodes. */
#include "nn/plan.h"

#include <math.h>
#include <string.h>

const char *nas__plan_errmsg(const nas__plan_t *p) { return p ? p->errmsg : ""; }
int32_t nas__plan_batch(const nas__plan_t *p) { return p->opts.batch; }
int64_t nas__plan_steps(const nas__plan_t *p) { return p->steps; }
double nas__plan_loss(const nas__plan_t *p) { return p->loss; }
int64_t nas__plan_correct(const nas__plan_t *p) { return p->correct; }
double nas__plan_last_grad_norm(const nas__plan_t *p) { return p->grad_norm; }

static size_t nfloats(const nas__tensor_t *t)
{
    return nas__tensor_bytes(t) / sizeof(float);
}

void nas__plan_stats(const nas__plan_t *p, nas__plan_stats_t *out)
{
    memset(out, 0, sizeof *out);
    out->primitives = nas__dev_primitives(p->dev) - p->prims0;
    out->ops = p->n_ops;
    out->fused_bn_relu = p->fused;
    out->step_reorders = p->step_reorders;
    out->input_reorders = p->input_reorders;
    out->weight_reorders = p->weight_reorders;
    out->ref_kernels = p->ref_prims;
    out->activation_bytes = p->act.bytes;
    out->param_bytes = p->params.bytes;
    for (uint32_t i = 0; i < p->n_params; i++)
        out->params += p->params_v[i].info.elems;
}

void nas__plan_describe(const nas__plan_t *p, nas__sb_t *sb)
{
    for (uint32_t v = 0; v < p->n; v++) {
        const pnode_t *pn = &p->nodes[v];
        if (pn->op) {
            nas__sb_printf(sb, "%3u %-8s ", v, nas__node_kind_name(pn->gkind));
            nas__op_describe(pn->op, sb);
        } else if (pn->kind == PK_FUSED) {
            nas__sb_printf(sb, "%3u %-8s fused into the batch norm\n", v, nas__node_kind_name(pn->gkind));
        }
    }
}

nas_status_t nas__plan_set_input(nas__plan_t *p, const float *x)
{
    if (!p || !x)
        return NAS_E_INVAL;
    nas__tensor_t *t = p->nodes[p->input].val;
    memcpy(nas__tensor_data(t), x, nas__tensor_elems(t) * sizeof *x);
    return NAS_OK;
}

nas_status_t nas__plan_set_labels(nas__plan_t *p, const int32_t *labels)
{
    if (!p || !labels)
        return NAS_E_INVAL;
    if (p->loss_node < 0)
        return nas__fail(p->errmsg, NAS_E_STATE, "the graph has no loss");
    return nas__op_loss_set_labels(p->nodes[p->loss_node].op, labels, p->errmsg);
}

/* Whether a node runs in this step's forward (fwd) or backward: single mode runs the selected path;
 * binary mode also runs the second sampled path's forward (for its gate gradient), not its backward. */
static bool path_active(const nas__plan_t *p, const pnode_t *pn, bool fwd)
{
    if (pn->mixed < 0)
        return true;
    const pnode_t *m = &p->nodes[pn->mixed];
    if (m->mode == NAS__MIXED_WEIGHTED || (uint32_t)pn->path == m->sel)
        return true;
    return fwd && m->mode == NAS__MIXED_BINARY && (uint32_t)pn->path == m->sel2;
}

static void softmax_alphas(nas__plan_t *p)
{
    for (uint32_t m = 0; m < p->n_mixed; m++) {
        const pnode_t *mn = &p->nodes[p->mixed_nodes[m]];
        const float *a = p->alpha + mn->alpha_off;
        float *w = p->aw + mn->alpha_off, mx = a[0];
        for (uint32_t k = 1; k < mn->n_paths; k++)
            mx = a[k] > mx ? a[k] : mx;
        double z = 0;
        for (uint32_t k = 0; k < mn->n_paths; k++)
            z += exp((double)a[k] - mx);
        for (uint32_t k = 0; k < mn->n_paths; k++)
            w[k] = (float)(exp((double)a[k] - mx) / z);
    }
}

static void mixed_forward(nas__plan_t *p, pnode_t *mn, bool train)
{
    float *dst = nas__tensor_data(mn->val);
    size_t n = nfloats(mn->val);
    if (mn->mode != NAS__MIXED_WEIGHTED) {
        uint32_t k = mn->sel, k2 = mn->sel2;
        if (mn->adapt[k])
            nas__op_forward(mn->adapt[k], train);
        if (k2 != NAS__NO_PATH && k2 != k && mn->adapt[k2])
            nas__op_forward(mn->adapt[k2], train);
        if (mn->path_zero[k])
            nas__k_zero(dst, n);
        else
            nas__k_copy(dst, nas__tensor_data(mn->pval[k]), n);
        /* the forward-only path's output outlives its shared region (plan.h) */
        if (mn->probe && k2 != NAS__NO_PATH && k2 != k && !mn->path_zero[k2])
            nas__k_copy(nas__tensor_data(mn->probe), nas__tensor_data(mn->pval[k2]), n);
        return;
    }
    const float *w = p->aw + mn->alpha_off;
    bool first = true;
    for (uint32_t k = 0; k < mn->n_paths; k++) {
        if (mn->path_zero[k])
            continue;
        if (mn->adapt[k])
            nas__op_forward(mn->adapt[k], train);
        if (first)
            nas__k_scale(dst, nas__tensor_data(mn->pval[k]), w[k], n);
        else
            nas__k_axpy(dst, nas__tensor_data(mn->pval[k]), w[k], n);
        first = false;
    }
    if (first)
        nas__k_zero(dst, n);
}

nas_status_t nas__plan_forward(nas__plan_t *p, bool train)
{
    if (!p)
        return NAS_E_INVAL;
    if (train && !p->opts.train)
        return nas__fail(p->errmsg, NAS_E_STATE, "training forward on an inference plan");
    nas__dev_enter(p->dev);
    softmax_alphas(p);
    for (uint32_t v = 0; v < p->n; v++) {
        pnode_t *pn = &p->nodes[v];
        if (!path_active(p, pn, true))
            continue;
        if (pn->kind == PK_OP)
            nas__op_forward(pn->op, train);
        else if (pn->kind == PK_MIXED)
            mixed_forward(p, pn, train);
    }
    nas__dev_wait(p->dev);
    if (p->loss_node >= 0)
        nas__op_loss_result(p->nodes[p->loss_node].op, &p->loss, &p->correct);
    p->fwd_train_done = train;
    return NAS_OK;
}

nas_status_t nas__plan_read_output(nas__plan_t *p, float *out)
{
    if (!p || !out)
        return NAS_E_INVAL;
    return nas__tensor_read_plain(p->nodes[p->output].val, out, p->errmsg);
}

nas_status_t nas__plan_set_output_grad(nas__plan_t *p, const float *g)
{
    if (!p || !g)
        return NAS_E_INVAL;
    nas__tensor_t *d = p->nodes[p->output].dval;
    if (!d)
        return nas__fail(p->errmsg, NAS_E_STATE, "the output has no gradient (inference plan or nothing to train)");
    nas_status_t st = nas__tensor_write_plain(d, g, p->errmsg);
    p->out_grad_set = st == NAS_OK;
    return st;
}

/* After a node's backward: add the scratch gradients into their producers'. */
static void accumulate(nas__plan_t *p, const pnode_t *pn)
{
    for (uint32_t i = 0; i < pn->n_edge; i++)
        if (pn->edge_acc[i] && pn->edge_d[i] && pn->edge_d[i] != p->nodes[pn->edge_src[i]].dval)
            nas__k_add(nas__tensor_data(p->nodes[pn->edge_src[i]].dval), nas__tensor_data(pn->edge_d[i]),
                       nfloats(pn->edge_d[i]));
}

static void mixed_backward(nas__plan_t *p, pnode_t *mn)
{
    const float *g = nas__tensor_data(mn->dval);
    size_t n = nfloats(mn->dval);
    const float *w = p->aw + mn->alpha_off;
    float *da = p->dalpha + mn->alpha_off;
    bool single = mn->mode != NAS__MIXED_WEIGHTED;
    if (!single) {
        /* d alpha_j = w_j (<g, y_j> - sum_k w_k <g, y_k>) */
        double gk[NAS__GRAPH_MAX_PATHS], s = 0;
        for (uint32_t k = 0; k < mn->n_paths; k++) {
            gk[k] = mn->path_zero[k] ? 0.0 : nas__k_dot(g, nas__tensor_data(mn->pval[k]), n);
            s += w[k] * gk[k];
        }
        for (uint32_t k = 0; k < mn->n_paths; k++)
            da[k] += (float)(w[k] * (gk[k] - s)); /* summed over the nodes sharing these alphas */
    } else if (!mn->path_zero[mn->sel]) {
        /* The gradient of a gate (1 in the forward) on the selected path: <g, y_sel>, for straight-through
         * estimators (GDAS, ProxylessNAS); the other paths' entries stay 0. */
        da[mn->sel] += (float)nas__k_dot(g, nas__tensor_data(mn->pval[mn->sel]), n);
    }
    /* Binary mode: the second path's gate (0 in the forward) gets <g, y_sel2> too (ProxylessNAS). */
    uint32_t k2 = mn->sel2;
    if (mn->mode == NAS__MIXED_BINARY && k2 != NAS__NO_PATH && k2 != mn->sel && !mn->path_zero[k2])
        da[k2] += (float)nas__k_dot(g, nas__tensor_data(mn->probe ? mn->probe : mn->pval[k2]), n);
    for (uint32_t k = 0; k < mn->n_paths; k++) {
        if ((single && k != mn->sel) || !mn->edge_d[k])
            continue;
        float wk = single ? 1.0f : w[k];
        if (mn->adapt[k]) {
            nas__k_scale(nas__tensor_data(mn->pgrad[k]), g, wk, n);
            nas__op_backward(mn->adapt[k]);
            if (mn->edge_acc[k])
                nas__k_add(nas__tensor_data(p->nodes[mn->edge_src[k]].dval), nas__tensor_data(mn->edge_d[k]),
                           nfloats(mn->edge_d[k]));
        } else if (mn->edge_acc[k]) {
            nas__k_axpy(nas__tensor_data(mn->edge_d[k]), g, wk, n);
        } else {
            nas__k_scale(nas__tensor_data(mn->edge_d[k]), g, wk, n);
        }
    }
}

nas_status_t nas__plan_backward(nas__plan_t *p)
{
    if (!p)
        return NAS_E_INVAL;
    if (!p->opts.train || !p->fwd_train_done)
        return nas__fail(p->errmsg, NAS_E_STATE, "backward needs a training forward first");
    if (p->loss_node < 0 && !p->out_grad_set)
        return nas__fail(p->errmsg, NAS_E_STATE, "backward without a loss needs nas__plan_set_output_grad");
    nas__dev_enter(p->dev);
    memset(p->dalpha, 0, p->n_alpha * sizeof *p->dalpha);
    for (uint32_t v = 0; v < p->n; v++)
        if (p->nodes[v].zero_grad_first && p->nodes[v].dval)
            nas__k_zero(nas__tensor_data(p->nodes[v].dval), nfloats(p->nodes[v].dval));
    for (int32_t v = (int32_t)p->n - 1; v >= 0; v--) {
        pnode_t *pn = &p->nodes[v];
        if (!pn->need_grad || !path_active(p, pn, false))
            continue;
        switch (pn->kind) {
        case PK_OP:
            nas__op_backward(pn->op);
            accumulate(p, pn);
            break;
        case PK_IDENTITY:
            if (pn->edge_d[0]) {
                float *d = nas__tensor_data(pn->edge_d[0]);
                if (pn->edge_acc[0])
                    nas__k_add(d, nas__tensor_data(pn->dval), nfloats(pn->dval));
                else
                    nas__k_copy(d, nas__tensor_data(pn->dval), nfloats(pn->dval));
            }
            break;
        case PK_MIXED:
            mixed_backward(p, pn);
            break;
        default:
            break;
        }
    }
    /* Single-path mode: the other paths' parameters got no gradient in this step. */
    for (uint32_t i = 0; i < p->n_params; i++) {
        pparam_t *pp = &p->params_v[i];
        if (pp->g && !path_active(p, &p->nodes[pp->node], false))
            nas__k_zero(nas__tensor_data(pp->g), nfloats(pp->g));
    }
    nas__dev_wait(p->dev);
    p->out_grad_set = false;
    return NAS_OK;
}

nas_status_t nas__plan_read_input_grad(nas__plan_t *p, float *out)
{
    if (!p || !out)
        return NAS_E_INVAL;
    nas__tensor_t *d = p->nodes[p->input].dval;
    if (!d)
        return nas__fail(p->errmsg, NAS_E_STATE, "the plan was compiled without input_grad");
    return nas__tensor_read_plain(d, out, p->errmsg);
}

nas_status_t nas__plan_step(nas__plan_t *p, const nas__optim_cfg_t *cfg)
{
    if (!p || !cfg)
        return NAS_E_INVAL;
    if (!p->opts.train)
        return nas__fail(p->errmsg, NAS_E_STATE, "optimizer step on an inference plan");
    nas__dev_enter(p->dev);
    p->grad_norm = nas__optim_step(cfg, p->steps, p->params.base, p->grads.base, p->mom.base, p->var.base,
                                   p->n_param_floats, p->n_decay_floats);
    p->steps++;
    return NAS_OK;
}

nas_status_t nas__plan_train_step(nas__plan_t *p, const float *x, const int32_t *labels, const nas__optim_cfg_t *cfg,
                                  double *loss)
{
    nas_status_t st;
    if ((st = nas__plan_set_input(p, x)) != NAS_OK || (st = nas__plan_set_labels(p, labels)) != NAS_OK ||
        (st = nas__plan_forward(p, true)) != NAS_OK)
        return st;
    if (loss)
        *loss = p->loss;
    if (!isfinite(p->loss))
        return nas__fail(p->errmsg, NAS_E_DIVERGED, "training diverged: loss is %g at step %lld", p->loss,
                         (long long)p->steps);
    if ((st = nas__plan_backward(p)) != NAS_OK)
        return st;
    return nas__plan_step(p, cfg);
}

/* ---- parameters at the edges ---- */

uint32_t nas__plan_num_params(const nas__plan_t *p) { return p->n_params; }

void nas__plan_param(const nas__plan_t *p, uint32_t i, nas__plan_param_t *out)
{
    const pparam_t *pp = &p->params_v[i];
    out->node = pp->node;
    out->kind = pp->info.kind;
    out->decay = pp->info.decay;
    out->elems = pp->info.elems;
}

nas_status_t nas__plan_get_param(nas__plan_t *p, uint32_t i, float *plain)
{
    if (!p || i >= p->n_params || !plain)
        return NAS_E_INVAL;
    return nas__tensor_read_plain(p->params_v[i].t, plain, p->errmsg);
}

nas_status_t nas__plan_set_param(nas__plan_t *p, uint32_t i, const float *plain)
{
    if (!p || i >= p->n_params || !plain)
        return NAS_E_INVAL;
    return nas__tensor_write_plain(p->params_v[i].t, plain, p->errmsg);
}

nas_status_t nas__plan_get_param_grad(nas__plan_t *p, uint32_t i, float *plain)
{
    if (!p || i >= p->n_params || !plain)
        return NAS_E_INVAL;
    if (!p->params_v[i].g)
        return nas__fail(p->errmsg, NAS_E_STATE, "inference plans have no gradients");
    return nas__tensor_read_plain(p->params_v[i].g, plain, p->errmsg);
}

/* Parameters by graph order (the arena orders them by decay first). */
static uint32_t graph_order(const nas__plan_t *p, uint32_t j)
{
    uint32_t seen = 0;
    for (uint32_t v = 0; v < p->n; v++)
        for (uint32_t i = 0; i < p->n_params; i++)
            if (p->params_v[i].node == (int32_t)v) {
                /* params of one node keep their op order inside each decay class: weight before bias */
                if (seen++ == j)
                    return i;
            }
    return 0;
}

int64_t nas__plan_state_elems(const nas__plan_t *p)
{
    int64_t n = 0;
    for (uint32_t i = 0; i < p->n_params; i++)
        n += p->params_v[i].info.elems;
    for (uint32_t v = 0; v < p->n; v++)
        for (uint32_t i = 0; p->nodes[v].op && i < nas__op_num_stats(p->nodes[v].op); i++)
            n += (int64_t)nas__tensor_elems(nas__op_stat(p->nodes[v].op, i));
    return n;
}

static nas_status_t state_io(nas__plan_t *p, float *buf, int64_t n, bool write)
{
    if (n != nas__plan_state_elems(p))
        return nas__fail(p->errmsg, NAS_E_INVAL, "state has %lld values, the plan %lld", (long long)n,
                         (long long)nas__plan_state_elems(p));
    int64_t off = 0;
    for (uint32_t j = 0; j < p->n_params; j++) {
        pparam_t *pp = &p->params_v[graph_order(p, j)];
        nas_status_t st = write ? nas__tensor_write_plain(pp->t, buf + off, p->errmsg)
                                : nas__tensor_read_plain(pp->t, buf + off, p->errmsg);
        if (st != NAS_OK)
            return st;
        off += pp->info.elems;
    }
    for (uint32_t v = 0; v < p->n; v++)
        for (uint32_t i = 0; p->nodes[v].op && i < nas__op_num_stats(p->nodes[v].op); i++) {
            nas__tensor_t *t = nas__op_stat(p->nodes[v].op, i);
            size_t e = nas__tensor_elems(t);
            if (write)
                memcpy(nas__tensor_data(t), buf + off, e * sizeof(float));
            else
                memcpy(buf + off, nas__tensor_data(t), e * sizeof(float));
            off += (int64_t)e;
        }
    return NAS_OK;
}

nas_status_t nas__plan_export(nas__plan_t *p, float *dst, int64_t n)
{
    if (!p || !dst)
        return NAS_E_INVAL;
    return state_io(p, dst, n, false);
}

nas_status_t nas__plan_import(nas__plan_t *p, const float *src, int64_t n)
{
    if (!p || !src)
        return NAS_E_INVAL;
    return state_io(p, (float *)src, n, true);
}

nas_status_t nas__plan_copy_state(nas__plan_t *dst, nas__plan_t *src)
{
    if (!dst || !src)
        return NAS_E_INVAL;
    if (dst->n != src->n || dst->n_params != src->n_params)
        return nas__fail(dst->errmsg, NAS_E_INVAL, "copy_state: plans of different graphs");
    for (uint32_t i = 0; i < dst->n_params; i++) {
        if (dst->params_v[i].info.elems != src->params_v[i].info.elems)
            return nas__fail(dst->errmsg, NAS_E_INVAL, "copy_state: parameter %u differs in size", i);
        nas_status_t st = nas__tensor_convert(dst->params_v[i].t, src->params_v[i].t, dst->errmsg);
        if (st != NAS_OK)
            return st;
    }
    for (uint32_t v = 0; v < dst->n; v++) {
        nas__op_t *a = dst->nodes[v].op, *b = src->nodes[v].op;
        for (uint32_t i = 0; a && b && i < nas__op_num_stats(a) && i < nas__op_num_stats(b); i++)
            memcpy(nas__tensor_data(nas__op_stat(a, i)), nas__tensor_data(nas__op_stat(b, i)),
                   nas__tensor_elems(nas__op_stat(a, i)) * sizeof(float));
    }
    if (dst->n_alpha == src->n_alpha)
        memcpy(dst->alpha, src->alpha, src->n_alpha * sizeof(float));
    return NAS_OK;
}

/* ---- mixed nodes ---- */

uint32_t nas__plan_num_mixed(const nas__plan_t *p) { return p->n_mixed; }

uint32_t nas__plan_mixed_paths(const nas__plan_t *p, uint32_t m)
{
    return m < p->n_mixed ? p->nodes[p->mixed_nodes[m]].n_paths : 0;
}

nas_status_t nas__plan_set_path(nas__plan_t *p, uint32_t m, uint32_t path)
{
    if (!p || m >= p->n_mixed || path >= p->nodes[p->mixed_nodes[m]].n_paths)
        return NAS_E_RANGE;
    return nas__plan_set_binary_paths(p, m, path, NAS__NO_PATH);
}

nas_status_t nas__plan_set_binary_paths(nas__plan_t *p, uint32_t m, uint32_t path, uint32_t second)
{
    if (!p || m >= p->n_mixed)
        return NAS_E_RANGE;
    int32_t v = p->mixed_nodes[m];
    pnode_t *mn = &p->nodes[v];
    if (path >= mn->n_paths || (second != NAS__NO_PATH && second >= mn->n_paths))
        return NAS_E_RANGE;
    if (second != NAS__NO_PATH && second != path && mn->mode != NAS__MIXED_BINARY)
        return nas__fail(p->errmsg, NAS_E_STATE, "mixed node %u: a second path needs binary mode", (unsigned)m);
    if (second == path)
        second = NAS__NO_PATH;
    if (mn->mode == NAS__MIXED_BINARY) {
        /* Every path sits in slot 0 but in_slot1; make that `second` (a few pointer updates). */
        if (mn->in_slot1 != NAS__NO_PATH && mn->in_slot1 != second) {
            nas__plan_bind_path(p, v, mn->in_slot1, 0);
            mn->in_slot1 = NAS__NO_PATH;
        }
        if (second != NAS__NO_PATH && mn->in_slot1 != second) {
            nas__plan_bind_path(p, v, second, 1);
            mn->in_slot1 = second;
        }
    }
    mn->sel = path;
    mn->sel2 = second;
    return NAS_OK;
}

float *nas__plan_alphas(nas__plan_t *p, uint32_t *n)
{
    if (n)
        *n = p->n_alpha;
    return p->alpha;
}

const float *nas__plan_alpha_grads(const nas__plan_t *p) { return p->dalpha; }

uint32_t nas__plan_alpha_offset(const nas__plan_t *p, uint32_t m)
{
    return m < p->n_mixed ? p->nodes[p->mixed_nodes[m]].alpha_off : 0;
}

nas_status_t nas__plan_arch_step(nas__plan_t *p, const nas__optim_cfg_t *cfg)
{
    if (!p || !cfg)
        return NAS_E_INVAL;
    if (!p->opts.train)
        return nas__fail(p->errmsg, NAS_E_STATE, "architecture step on an inference plan");
    nas__optim_step(cfg, p->arch_steps, p->alpha, p->dalpha, p->amom, p->avar, p->n_alpha, p->n_alpha);
    p->arch_steps++;
    return NAS_OK;
}

void nas__plan_set_bn_momentum(nas__plan_t *p, float momentum)
{
    for (uint32_t v = 0; p && v < p->n; v++)
        if (p->nodes[v].op && p->nodes[v].gkind == NAS__NODE_BN)
            nas__op_bn_set_momentum(p->nodes[v].op, momentum);
}

/* Which nodes the network of `paths` keeps (see nas__plan_export_paths): the discrete builder drops
 * nodes that compute zeros (none ops everywhere in front of them) and nodes that reach the output only
 * through none ops, so the export does too: nonzero forward, live backward from the output. */
static uint8_t *kept_nodes(nas__plan_t *p, const uint32_t *paths, bool skip_pool_bn, const int32_t *seeds,
                           uint32_t n_seeds)
{
    uint8_t *nz = nas__calloc(p->ctx, 2 * (size_t)p->n + 1, 1), *live = nz ? nz + p->n : NULL;
    if (!nz)
        return NULL;
    int32_t *sel = nas__calloc(p->ctx, p->n + 1, sizeof *sel);
    if (!sel) {
        nas__free(p->ctx, nz);
        return NULL;
    }
    for (uint32_t m = 0; m < p->n_mixed; m++)
        sel[p->mixed_nodes[m]] = (int32_t)paths[m];
    for (uint32_t v = 0; v < p->n; v++) {
        const pnode_t *pn = &p->nodes[v];
        bool on = pn->mixed < 0 || (uint32_t)pn->path == (uint32_t)sel[pn->mixed];
        if (!on || pn->gkind == NAS__NODE_ZERO)
            continue;
        if (pn->kind == PK_INPUT)
            nz[v] = 1;
        else if (pn->kind == PK_MIXED)
            nz[v] = nz[pn->edge_src[sel[v]]];
        else
            for (uint32_t i = 0; i < pn->n_edge; i++)
                nz[v] |= nz[pn->edge_src[i]];
    }
    if (p->output >= 0)
        live[p->output] = 1;
    if (p->loss_node >= 0)
        live[p->loss_node] = 1;
    for (uint32_t i = 0; i < n_seeds; i++)
        if (seeds[i] >= 0 && (uint32_t)seeds[i] < p->n)
            live[seeds[i]] = 1;
    for (uint32_t v = p->n; v-- > 0;) {
        const pnode_t *pn = &p->nodes[v];
        if (!live[v] || !nz[v])
            continue;
        for (uint32_t i = 0; i < pn->n_edge; i++)
            if (pn->kind != PK_MIXED || (int32_t)i == sel[v])
                live[pn->edge_src[i]] = 1;
    }
    for (uint32_t v = 0; v < p->n; v++) {
        const pnode_t *pn = &p->nodes[v];
        nz[v] = nz[v] && live[v];
        if (nz[v] && skip_pool_bn && pn->mixed >= 0 && pn->gkind == NAS__NODE_BN && pn->n_edge == 1) {
            nas__node_kind_t k = p->nodes[pn->edge_src[0]].gkind;
            nz[v] = k != NAS__NODE_MAXPOOL && k != NAS__NODE_AVGPOOL;
        }
    }
    nas__free(p->ctx, sel);
    return nz;
}

nas_status_t nas__plan_export_paths(nas__plan_t *p, const uint32_t *paths, bool skip_pool_bn, const int32_t *seeds,
                                    uint32_t n_seeds, float *dst, int64_t cap, int64_t *n)
{
    if (!p || !paths || !n)
        return NAS_E_INVAL;
    for (uint32_t m = 0; m < p->n_mixed; m++)
        if (paths[m] >= p->nodes[p->mixed_nodes[m]].n_paths)
            return nas__fail(p->errmsg, NAS_E_RANGE, "mixed node %u has no path %u", (unsigned)m, (unsigned)paths[m]);
    uint8_t *keep = kept_nodes(p, paths, skip_pool_bn, seeds, n_seeds);
    if (!keep)
        return nas__fail(p->errmsg, NAS_E_NOMEM, "out of memory exporting a state");
    nas_status_t st = NAS_OK;
    int64_t off = 0;
    for (uint32_t j = 0; j < p->n_params && st == NAS_OK; j++) {
        pparam_t *pp = &p->params_v[graph_order(p, j)];
        if (!keep[pp->node])
            continue;
        if (dst && off + pp->info.elems > cap)
            st = nas__fail(p->errmsg, NAS_E_RANGE, "export: %lld floats do not hold the state", (long long)cap);
        else if (dst)
            st = nas__tensor_read_plain(pp->t, dst + off, p->errmsg);
        off += pp->info.elems;
    }
    for (uint32_t v = 0; v < p->n && st == NAS_OK; v++) {
        if (!p->nodes[v].op || !keep[v])
            continue;
        for (uint32_t i = 0; i < nas__op_num_stats(p->nodes[v].op) && st == NAS_OK; i++) {
            nas__tensor_t *t = nas__op_stat(p->nodes[v].op, i);
            int64_t e = (int64_t)nas__tensor_elems(t);
            if (dst && off + e > cap)
                st = nas__fail(p->errmsg, NAS_E_RANGE, "export: %lld floats do not hold the state", (long long)cap);
            else if (dst)
                memcpy(dst + off, nas__tensor_data(t), (size_t)e * sizeof(float));
            off += e;
        }
    }
    nas__free(p->ctx, keep);
    *n = off;
    return st;
}
