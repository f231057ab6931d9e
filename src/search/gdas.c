/*
 * "gdas": Gradient-based search using Differentiable Architecture Sampler (Dong & Yang, CVPR 2019).
 *
 * A single-path supernet: before every forward, each decision (alphas tied across the cells of a
 * type) samples one op with the Gumbel-max trick, h = one_hot(arg max) - stop_grad(s) + s with
 * s = softmax((log_softmax(alpha) + g) / tau), g ~ Gumbel(0, 1). The forward runs only the sampled
 * op (its output times h_sel = 1), the weights train on the training split, and the alphas get the
 * straight-through gradient of the validation loss through the soft sample:
 *   dL/dalpha_i = (G / tau) s_sel (delta_{i,sel} - s_i),  G = <dL/dy, y_sel> (the executor's gate gradient).
 * (The other ops are not run, so their entries of h get no gradient of their own, as in GDAS's code,
 * where they contribute only a zero scalar.) tau anneals linearly from tau_max to tau_min over the
 * epochs. Derive, retrain and log as DARTS (src/search/oneshot.c), on softmax(alpha).
 *
 * Parameters: tau_max 10, tau_min 0.1, and those of darts.c (defaults: epochs 10, batch_size 64,
 * w_lr 0.025 cosine to 0.001, w_momentum 0.9, w_wd 5e-4, grad_clip 5, arch_lr 3e-4, arch_wd 1e-3,
 * alpha_init_std 1e-3, max_skip -1 (GDAS has no guard), keep_none false, retrain_epochs 0, alphas_path)
 * but order.
 * The weight optimizer steps every parameter each step: unsampled ops see zero gradients but keep
 * their momentum and weight decay (PyTorch skips parameters without a gradient).
 *
 * ask/tell: as darts ("gdas drives its own search: use nas_run_execute").
 */
#include "search/oneshot.h"
#include "search/search_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct gdas {
    nas__oneshot_cfg_t cfg;
    char *alphas_path;
    nas_context_t *ctx;
    nas_rng_t *rng;              /* the searcher's */
    double tau_max, tau_min;
    uint32_t n;                  /* the plan's alphas; the buffers below have n entries */
    float *soft;                 /* the last sample's soft weights, at each decision's offset */
    uint32_t *sel;               /* the last sample's op, at each decision's offset */
    uint8_t *seen;
} gdas_t;
_Static_assert(offsetof(gdas_t, cfg) == 0, "nas__oneshot_run_hook reads the cfg at the start of the state");

static void gdas_destroy(void *state)
{
    gdas_t *g = state;
    if (!g)
        return;
    nas__free(g->ctx, g->alphas_path);
    nas__free(g->ctx, g->soft);
    nas__free(g->ctx, g->sel);
    nas__free(g->ctx, g->seen);
    nas__free(g->ctx, g);
}

static void gdas_epoch_begin(nas__oneshot_t *os, void *user, uint32_t epoch)
{
    gdas_t *g = user;
    uint32_t n = os->cfg->epochs;
    double f = n > 1 ? (double)epoch / (double)(n - 1) : 0.0;
    os->tau = (float)(g->tau_max - (g->tau_max - g->tau_min) * f);
}

/* One Gumbel-softmax sample of k ops from alphas a: soft weights into s, the arg max returned. */
static uint32_t gumbel_sample(nas_rng_t *rng, const float *a, uint32_t k, double tau, float *s)
{
    double mx = a[0], z = 0.0;
    for (uint32_t i = 1; i < k; i++)
        mx = a[i] > mx ? a[i] : mx;
    for (uint32_t i = 0; i < k; i++)
        z += exp(a[i] - mx);
    double lse = mx + log(z), o[NAS__GRAPH_MAX_PATHS], omx = -INFINITY;
    uint32_t best = 0;
    for (uint32_t i = 0; i < k; i++) {
        double u = nas_rng_uniform(rng);
        u = u < 1e-20 ? 1e-20 : u;
        o[i] = (a[i] - lse - log(-log(u))) / tau;
        if (o[i] > omx) {
            omx = o[i];
            best = i;
        }
    }
    double zs = 0.0;
    for (uint32_t i = 0; i < k; i++)
        zs += exp(o[i] - omx);
    for (uint32_t i = 0; i < k; i++)
        s[i] = (float)(exp(o[i] - omx) / zs);
    return best;
}

static nas_status_t gdas_sample(nas__oneshot_t *os, void *user)
{
    gdas_t *g = user;
    if (g->n != os->n_alpha) {
        nas__free(g->ctx, g->soft);
        nas__free(g->ctx, g->sel);
        nas__free(g->ctx, g->seen);
        g->soft = nas__calloc(g->ctx, os->n_alpha + 1, sizeof *g->soft);
        g->sel = nas__calloc(g->ctx, os->n_alpha + 1, sizeof *g->sel);
        g->seen = nas__calloc(g->ctx, os->n_alpha + 1, 1);
        g->n = os->n_alpha;
        if (!g->soft || !g->sel || !g->seen) {
            g->n = 0;
            return nas__fail(os->errmsg, NAS_E_NOMEM, "gdas: out of memory");
        }
    }
    memset(g->seen, 0, g->n);
    const float *a = nas__plan_alphas(os->plan, NULL);
    for (uint32_t m = 0; m < os->map->num_mixed; m++) {
        uint32_t off = os->alpha_off[m], k = os->map->mixed[m].n_paths;
        if (!g->seen[off]) {
            g->seen[off] = 1;
            g->sel[off] = gumbel_sample(g->rng, a + off, k, os->tau, g->soft + off);
        }
        nas_status_t st = nas__plan_set_path(os->plan, m, g->sel[off]);
        if (st != NAS_OK)
            return nas__fail(os->errmsg, st, "gdas: path %u of mixed node %u", (unsigned)g->sel[off], (unsigned)m);
    }
    return NAS_OK;
}

static nas_status_t gdas_arch_grad(nas__oneshot_t *os, void *user, float *grad)
{
    gdas_t *g = user;
    const float *gate = nas__plan_alpha_grads(os->plan);
    memset(grad, 0, os->n_alpha * sizeof *grad);
    memset(g->seen, 0, g->n);
    for (uint32_t m = 0; m < os->map->num_mixed; m++) {
        uint32_t off = os->alpha_off[m], k = os->map->mixed[m].n_paths, sel = g->sel[off];
        if (g->seen[off])
            continue;
        g->seen[off] = 1;
        const float *s = g->soft + off;
        double c = (double)gate[off + sel] / os->tau * s[sel];
        for (uint32_t i = 0; i < k; i++)
            grad[off + i] = (float)(c * ((i == sel ? 1.0 : 0.0) - s[i]));
    }
    return NAS_OK;
}

static nas_status_t gdas_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas_searcher_context(self);
    gdas_t *g = nas__calloc(ctx, 1, sizeof *g);
    if (!g)
        return NAS_E_NOMEM;
    *state = g;
    g->ctx = ctx;
    g->rng = nas_searcher_rng(self);
    nas__oneshot_cfg_t *c = &g->cfg;
    c->name = "gdas";
    c->mode = NAS__MIXED_SINGLE;
    c->epochs = 10;
    c->batch_size = 64;
    c->w_lr = 0.025;
    c->w_lr_min = 0.001;
    c->w_momentum = 0.9;
    c->w_wd = 5e-4;
    c->w_clip = 5.0;
    c->arch_lr = 3e-4;
    c->arch_wd = 1e-3;
    c->arch_beta1 = 0.5;
    c->arch_beta2 = 0.999;
    c->alpha_init_std = 1e-3;
    c->max_skip = UINT32_MAX;
    c->user = g;
    c->epoch_begin = gdas_epoch_begin;
    c->sample = gdas_sample;
    c->arch_grad = gdas_arch_grad;
    nas_status_t st = nas__oneshot_params(self, params, c, &g->alphas_path);
    if (st != NAS_OK)
        return st;
    g->tau_max = 10.0;
    g->tau_min = 0.1;
    if ((st = nas_params_get_double(params, "tau_max", g->tau_max, &g->tau_max)) != NAS_OK ||
        (st = nas_params_get_double(params, "tau_min", g->tau_min, &g->tau_min)) != NAS_OK) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
        return st;
    }
    if (!(g->tau_min > 0.0 && g->tau_min <= g->tau_max && g->tau_max <= 1e6)) {
        nas_searcher_set_errmsg(self, "parameters 'tau_min', 'tau_max': need 0 < tau_min <= tau_max <= 1e6");
        return NAS_E_INVAL;
    }
    return NAS_OK;
}

static const nas_searcher_vtable_t gdas_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "gdas",
    .description = "GDAS: Gumbel-softmax single-path supernet with straight-through alphas and an annealed "
                   "temperature, derive and retrain; needs the train evaluator (params: epochs, tau_max, tau_min, ...)",
    .create = gdas_create,
    .destroy = gdas_destroy,
    .ask = nas__oneshot_ask,
    .tell = nas__search_tell_nothing,
    .user_data = NULL,
    .save = NULL,
    .load = NULL,
    .run = nas__oneshot_run_hook,
};

nas_status_t nas__register_gdas(nas_context_t *ctx)
{
    return nas_context_register_searcher(ctx, &gdas_vtable);
}
