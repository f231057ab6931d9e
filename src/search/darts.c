/*
 * "darts": Differentiable Architecture Search (Liu, Simonyan & Yang, ICLR 2019), first and second order.
 *
 * A weighted supernet (every edge the softmax(alpha)-weighted sum of its candidate ops; alphas tied
 * across the cells of a type) trains with SGD on the train evaluator's training split while the
 * alphas follow Adam on its validation split, one step each per batch; then the strongest ops are
 * derived (nas__supernet_derive on softmax(alpha) with none's weight zeroed, DARTS's rule: the strongest
 * non-zero op per NAS-Bench-201 edge; DARTS cells: the two strongest inputs per node with their best
 * op; keep_none true lets none win edges, NAS-Bench-201's rule) and retrained from scratch by the
 * train evaluator as the run's one trial. The driver is src/search/oneshot.c.
 *
 * Parameters (defaults: DARTS's search settings, except epochs and batch_size):
 *   epochs 10, batch_size 64 (0: the evaluator's), w_lr 0.025 (cosine to w_lr_min 0.001), w_momentum
 *   0.9, w_wd 3e-4, grad_clip 5, arch_lr 3e-4, arch_wd 1e-3 (Adam, betas 0.5 and 0.999), alpha_init_std
 *   1e-3, max_skip 2 (-1: no limit), keep_none false, retrain_epochs 0 (the evaluator's), alphas_path
 *   (none: the weights are only reported), order 1.
 *
 * order 1: first-order DARTS (the weights are constants of the architecture step: the gradient of the
 * validation loss at w). order 2: the unrolled gradient of L_val(w', alpha), w' = w - xi (dL_train/dw +
 * w_wd w) with xi the current weight learning rate (no momentum in the unrolled step), approximated
 * as in DARTS: dL_val/dalpha(w') - xi (dL_train/dalpha(w+) - dL_train/dalpha(w-)) / (2 eps),
 * w+- = w +- eps dL_val/dw(w'), eps = 0.01 / |dL_val/dw(w')|; four more forward/backward passes per
 * step, and the weights and BN statistics are restored afterwards (nas__darts_unrolled_grad). Tested:
 * state restored, the second-order term present, the first-order limit as xi -> 0; NOT matched to
 * finite differences of the unrolled loss: in float32 the executor's alpha gradients move by ~1e-4
 * under weight perturbations of norm ~1e-3, which the Hessian-vector difference amplifies.
 *
 * max_skip: DARTS is known to collapse into cells of skip connections (parameter-free ops win the
 * softmax early, Zela et al. 2020, Chen et al. 2019); derive keeps at most max_skip skip_connect edges
 * per cell, dropping the weakest extra ones (P-DARTS's limit of 2). Chain spaces ignore it.
 *
 * ask/tell: DARTS drives its own search through the run hook; ask outside nas_run_execute() fails with
 * NAS_E_UNSUPPORTED ("darts drives its own search: use nas_run_execute"); tell does nothing.
 */
#include "search/oneshot.h"
#include "search/search_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct darts {
    nas__oneshot_cfg_t cfg;
    char *alphas_path;
    nas_context_t *ctx;
    nas__darts_unroll_t unroll;
} darts_t;
_Static_assert(offsetof(darts_t, cfg) == 0, "nas__oneshot_run_hook reads the cfg at the start of the state");

static void darts_destroy(void *state)
{
    darts_t *d = state;
    if (!d)
        return;
    nas__darts_unroll_free(&d->unroll);
    nas__free(d->ctx, d->alphas_path);
    nas__free(d->ctx, d);
}

/* ---------------------------------------------------------------------- */
/* Second order                                                            */

void nas__darts_unroll_free(nas__darts_unroll_t *u)
{
    if (u->ctx)
        nas__free(u->ctx, u->state);
    memset(u, 0, sizeof *u);
}

static nas_status_t unroll_alloc(nas__oneshot_t *os, nas__darts_unroll_t *u)
{
    nas__plan_t *p = os->plan;
    size_t nw = 0;
    for (uint32_t i = 0; i < nas__plan_num_params(p); i++) {
        nas__plan_param_t pp;
        nas__plan_param(p, i, &pp);
        nw += (size_t)pp.elems;
    }
    int64_t ns = nas__plan_state_elems(p);
    if (u->state && u->n_state == ns && u->n_w == nw && u->n_alpha == os->n_alpha)
        return NAS_OK;
    nas__darts_unroll_free(u);
    u->ctx = os->ctx;
    u->state = nas__malloc(os->ctx, ((size_t)ns + 3 * nw + os->n_alpha + 1) * sizeof *u->state);
    if (!u->state)
        return nas__fail(os->errmsg, NAS_E_NOMEM, "darts: out of memory for the unrolled step");
    u->n_state = ns;
    u->n_w = nw;
    u->n_alpha = os->n_alpha;
    u->w = u->state + ns;
    u->g = u->w + nw;
    u->dv = u->g + nw;
    u->da = u->dv + nw;
    return NAS_OK;
}

/* Forward and backward of one batch in training mode. */
static nas_status_t fwd_bwd(nas__plan_t *p, const float *x, const int32_t *y)
{
    nas_status_t st;
    if ((st = nas__plan_set_input(p, x)) != NAS_OK || (st = nas__plan_set_labels(p, y)) != NAS_OK ||
        (st = nas__plan_forward(p, true)) != NAS_OK || (st = nas__plan_backward(p)) != NAS_OK)
        return st;
    return isfinite(nas__plan_loss(p)) ? NAS_OK : NAS_E_DIVERGED;
}

/* Set every parameter to base + c * dir (wd: also - c * wd * base for decayed tensors, when dir is a
 * gradient step). */
static nas_status_t set_params(nas__plan_t *p, const float *base, const float *dir, double c, double wd, float *tmp)
{
    size_t off = 0;
    for (uint32_t i = 0; i < nas__plan_num_params(p); i++) {
        nas__plan_param_t pp;
        nas__plan_param(p, i, &pp);
        double dk = pp.decay ? wd : 0.0;
        for (int64_t k = 0; k < pp.elems; k++)
            tmp[k] = (float)(base[off + k] + c * (dir[off + k] + dk * base[off + k]));
        nas_status_t st = nas__plan_set_param(p, i, tmp);
        if (st != NAS_OK)
            return st;
        off += (size_t)pp.elems;
    }
    return NAS_OK;
}

/* Read every parameter (w) or every parameter gradient (g) into dst. */
static nas_status_t get_all(nas__plan_t *p, float *dst, bool grads)
{
    size_t off = 0;
    for (uint32_t i = 0; i < nas__plan_num_params(p); i++) {
        nas__plan_param_t pp;
        nas__plan_param(p, i, &pp);
        nas_status_t st = grads ? nas__plan_get_param_grad(p, i, dst + off) : nas__plan_get_param(p, i, dst + off);
        if (st != NAS_OK)
            return st;
        off += (size_t)pp.elems;
    }
    return NAS_OK;
}

static nas_status_t unrolled(nas__oneshot_t *os, nas__darts_unroll_t *u, float *grad)
{
    nas__plan_t *p = os->plan;
    const double xi = nas__lr_at(&os->wcfg, nas__plan_steps(p)), wd = os->wcfg.weight_decay;
    float *tmp = u->dv;   /* scratch until dv is read */
    nas_status_t st;
    /* w' = w - xi (dL_train/dw + wd w) */
    if ((st = nas__plan_export(p, u->state, u->n_state)) != NAS_OK || (st = get_all(p, u->w, false)) != NAS_OK ||
        (st = fwd_bwd(p, os->xt, os->yt)) != NAS_OK || (st = get_all(p, u->g, true)) != NAS_OK ||
        (st = set_params(p, u->w, u->g, -xi, wd, tmp)) != NAS_OK)
        return st;
    /* dL_val/dalpha and dL_val/dw at w' */
    if ((st = fwd_bwd(p, os->xv, os->yv)) != NAS_OK || (st = get_all(p, u->dv, true)) != NAS_OK)
        return st;
    memcpy(grad, nas__plan_alpha_grads(p), os->n_alpha * sizeof *grad);
    double norm = 0.0;
    for (size_t k = 0; k < u->n_w; k++)
        norm += (double)u->dv[k] * u->dv[k];
    norm = sqrt(norm);
    if (norm > 0.0) {
        const double eps = 0.01 / norm;
        tmp = u->g;   /* the training gradient is no longer needed */
        if ((st = set_params(p, u->w, u->dv, eps, 0.0, tmp)) != NAS_OK || (st = fwd_bwd(p, os->xt, os->yt)) != NAS_OK)
            return st;
        memcpy(u->da, nas__plan_alpha_grads(p), os->n_alpha * sizeof *u->da);
        if ((st = set_params(p, u->w, u->dv, -eps, 0.0, tmp)) != NAS_OK || (st = fwd_bwd(p, os->xt, os->yt)) != NAS_OK)
            return st;
        const float *dm = nas__plan_alpha_grads(p);
        for (uint32_t k = 0; k < os->n_alpha; k++)
            grad[k] -= (float)(xi * ((double)u->da[k] - dm[k]) / (2.0 * eps));
    }
    return nas__plan_import(p, u->state, u->n_state);   /* weights and BN statistics as they were */
}

nas_status_t nas__darts_unrolled_grad(nas__oneshot_t *os, nas__darts_unroll_t *u, float *grad)
{
    nas_status_t st = unroll_alloc(os, u);
    if (st == NAS_OK && (st = unrolled(os, u, grad)) != NAS_OK) {
        nas__fail(os->errmsg, st, "darts: unrolled architecture step: %s",
                  st == NAS_E_DIVERGED ? "the loss is not finite" : nas__plan_errmsg(os->plan));
        if (u->state)
            nas__plan_import(os->plan, u->state, u->n_state);
    }
    return st;
}

static nas_status_t darts_arch_grad2(nas__oneshot_t *os, void *user, float *grad)
{
    darts_t *d = user;
    return nas__darts_unrolled_grad(os, &d->unroll, grad);
}

static nas_status_t darts_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas_searcher_context(self);
    darts_t *d = nas__calloc(ctx, 1, sizeof *d);
    if (!d)
        return NAS_E_NOMEM;
    *state = d;
    d->ctx = ctx;
    nas__oneshot_cfg_t *c = &d->cfg;
    c->name = "darts";
    c->mode = NAS__MIXED_WEIGHTED;
    c->epochs = 10;
    c->batch_size = 64;
    c->w_lr = 0.025;
    c->w_lr_min = 0.001;
    c->w_momentum = 0.9;
    c->w_wd = 3e-4;
    c->w_clip = 5.0;
    c->arch_lr = 3e-4;
    c->arch_wd = 1e-3;
    c->arch_beta1 = 0.5;
    c->arch_beta2 = 0.999;
    c->alpha_init_std = 1e-3;
    c->max_skip = 2;
    nas_status_t st = nas__oneshot_params(self, params, c, &d->alphas_path);
    if (st != NAS_OK)
        return st;
    int64_t order = 1;
    if ((st = nas_params_get_int(params, "order", 1, &order)) != NAS_OK) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
        return st;
    }
    if (order != 1 && order != 2) {
        nas_searcher_set_errmsg(self, "parameter 'order': must be 1 or 2");
        return NAS_E_INVAL;
    }
    if (order == 2) {
        c->user = d;
        c->arch_grad = darts_arch_grad2;
    }
    return NAS_OK;
}

static const nas_searcher_vtable_t darts_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "darts",
    .description = "DARTS (order 1 or 2): weighted supernet, alphas by Adam on the validation split, derive and "
                   "retrain; needs the train evaluator (params: epochs, arch_lr, w_lr, max_skip, alphas_path, ...)",
    .create = darts_create,
    .destroy = darts_destroy,
    .ask = nas__oneshot_ask,
    .tell = nas__search_tell_nothing,
    .user_data = NULL,
    .save = NULL,
    .load = NULL,
    .run = nas__oneshot_run_hook,
};

nas_status_t nas__register_darts(nas_context_t *ctx)
{
    return nas_context_register_searcher(ctx, &darts_vtable);
}
