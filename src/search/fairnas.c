/*
 * "fairnas": FairNAS's strict fairness (Chu, Zhang & Xu, ICCV 2021; the supernet training of
 * SCARLET-NAS), then the search phase of spos.
 *
 * Each weight step takes one training batch and n sub-models, n = the most choices of any
 * categorical architecture decision (width excluded): every decision takes, over the n, a random
 * permutation of its choices, so that every choice of every decision is trained exactly once per
 * step. A decision with fewer choices k < n lines up independent permutations and cuts them at n
 * (each choice then trains floor(n/k) or ceil(n/k) times per step; FairNAS's spaces have equal k).
 * A decision that is inactive in a sub-model (a chain layer past its depth) is not trained there.
 * The n forward/backward passes on the same batch sum their gradients (src/nn/accum.h) and one SGD
 * step applies the sum, as FairNAS's code does (loss.backward per model, one optimizer.step).
 * The epoch's train_loss and train_acc are the means over the sub-models.
 *
 * How often each path of each mixed node ran is counted; after the epochs the run reports
 * "fairnas fairness S steps n models: every path ran A..B times" (A == B == S when all decisions
 * have n choices and are always active, as in NAS-Bench-201's cells).
 *
 * Parameters: those of spos.c with the same defaults (epochs 5, batch_size 64, w_lr 0.05, w_momentum
 * 0.9, w_wd 4e-5, grad_clip 5, search evolution, search_trials 100, population 20, recalib_batches 8,
 * eval_batches 8, cost auto, cost_limit 0, latency_cache, arch_path, supernet_path, retrain_epochs 0,
 * alphas_path). A step costs n forward/backward passes.
 *
 * ask/tell: fairnas drives its own search (ask: NAS_E_UNSUPPORTED).
 */
#include "nn/accum.h"
#include "search/search_internal.h"
#include "search/supernet_search.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct fairnas {
    nas__oneshot_cfg_t cfg;
    nas__ss_t ss;
    char *alphas_path;
    nas_context_t *ctx;
    nas_rng_t *rng;            /* the searcher's */
    nas_space_t *space;
    uint32_t n;                /* sub-models per step */
    nas_arch_t **archs;        /* n */
    uint32_t *paths;
    float *acc;                /* accumulated gradients */
    uint64_t *count;           /* per path of each mixed node: times it ran */
    uint32_t *pos;             /* per mixed node: its first path in count */
    uint64_t steps;
} fairnas_t;
_Static_assert(offsetof(fairnas_t, cfg) == 0, "nas__oneshot_run_hook reads the cfg at the start of the state");

/* ---------------------------------------------------------------------- */
/* Sub-models                                                              */

static bool fair_dim(const nas_space_t *space, uint32_t d, nas_dim_info_t *di)
{
    di->struct_size = sizeof *di;
    return nas_space_dim_info(space, d, di) == NAS_OK && di->kind == NAS_DIM_CATEGORICAL &&
           di->role != NAS_ROLE_WIDTH && di->num_choices > 0;
}

uint32_t nas__fairnas_num_models(const nas_space_t *space)
{
    uint32_t n = 1;
    for (uint32_t d = 0; d < nas_space_num_arch_dims(space); d++) {
        nas_dim_info_t di;
        if (fair_dim(space, d, &di) && di.num_choices > n)
            n = di.num_choices;
    }
    return n;
}

nas_status_t nas__fairnas_submodels(const nas_space_t *space, nas_rng_t *rng, nas_arch_t *const *archs, uint32_t n)
{
    nas_context_t *ctx = nas__space_context(space);
    uint32_t *seq = nas__malloc(ctx, (2 * (size_t)n + 1) * sizeof *seq), *blk = seq + n;
    if (!seq)
        return NAS_E_NOMEM;
    nas_status_t st = NAS_OK;
    for (uint32_t i = 0; st == NAS_OK && i < n; i++)
        st = nas_space_sample(space, archs[i], rng);
    /* Decisions without a parent first: setting a parent (a depth) may reset its children. */
    for (int pass = 0; st == NAS_OK && pass < 2; pass++) {
        for (uint32_t d = 0; st == NAS_OK && d < nas_space_num_arch_dims(space); d++) {
            nas_dim_info_t di;
            if (!fair_dim(space, d, &di) || (di.parent >= 0) != (pass == 1))
                continue;
            uint32_t k = di.num_choices;   /* <= n */
            for (uint32_t b = 0; b < n; b += k) {   /* shuffled 0..k-1, one after the other, cut at n */
                for (uint32_t i = 0; i < k; i++)
                    blk[i] = i;
                for (uint32_t i = k; i > 1; i--) {
                    uint32_t j = (uint32_t)nas_rng_below(rng, i), t = blk[i - 1];
                    blk[i - 1] = blk[j];
                    blk[j] = t;
                }
                for (uint32_t i = 0; i < k && b + i < n; i++)
                    seq[b + i] = blk[i];
            }
            for (uint32_t i = 0; st == NAS_OK && i < n; i++) {
                bool active = true;
                if (pass == 1 && (st = nas_arch_is_active(archs[i], d, &active)) != NAS_OK)
                    break;
                if (active)
                    st = nas_arch_set(archs[i], d, seq[i]);
            }
        }
    }
    nas__free(ctx, seq);
    return st;
}

/* ---------------------------------------------------------------------- */
/* Training                                                                */

static void fairnas_destroy(void *state)
{
    fairnas_t *f = state;
    if (!f)
        return;
    nas__ss_free(&f->ss);
    for (uint32_t i = 0; f->archs && i < f->n; i++)
        nas_arch_destroy(f->archs[i]);
    nas__free(f->ctx, f->archs);
    nas__free(f->ctx, f->paths);
    nas__free(f->ctx, f->acc);
    nas__free(f->ctx, f->count);
    nas__free(f->ctx, f->pos);
    nas__free(f->ctx, f->alphas_path);
    nas__free(f->ctx, f);
}

/* Buffers sized by the supernet, at the first step. */
static nas_status_t prepare(fairnas_t *f, nas__oneshot_t *os)
{
    if (f->archs)
        return NAS_OK;
    uint32_t nm = os->map->num_mixed;
    f->n = nas__fairnas_num_models(f->space);
    f->archs = nas__calloc(f->ctx, f->n, sizeof *f->archs);
    f->paths = nas__calloc(f->ctx, nm + 1, sizeof *f->paths);
    f->acc = nas__malloc(f->ctx, (nas__plan_grad_floats(os->plan) + 1) * sizeof *f->acc);
    f->count = nas__calloc(f->ctx, os->map->total_paths + 1, sizeof *f->count);
    f->pos = nas__calloc(f->ctx, nm + 1, sizeof *f->pos);
    bool ok = f->archs && f->paths && f->acc && f->count && f->pos;
    for (uint32_t i = 0; ok && i < f->n; i++)
        ok = nas_arch_create(&f->archs[i], f->space) == NAS_OK;
    if (!ok)
        return nas__fail(os->errmsg, NAS_E_NOMEM, "fairnas: out of memory");
    for (uint32_t m = 1; m < nm; m++)
        f->pos[m] = f->pos[m - 1] + os->map->mixed[m - 1].n_paths;
    return NAS_OK;
}

static nas_status_t plan_failed(nas__oneshot_t *os, nas_status_t st)
{
    return nas__fail(os->errmsg, st, "fairnas: weight step: %s", nas__plan_errmsg(os->plan));
}

static nas_status_t fairnas_weight_step(nas__oneshot_t *os, void *user, double *loss, double *correct)
{
    fairnas_t *f = user;
    nas__plan_t *p = os->plan;
    nas_status_t st = prepare(f, os);
    if (st != NAS_OK)
        return st;
    if ((st = nas__fairnas_submodels(f->space, f->rng, f->archs, f->n)) != NAS_OK)
        return nas__fail(os->errmsg, st, "fairnas: sub-models: %s", nas_space_errmsg(f->space));
    if ((st = nas__plan_set_input(p, os->xt)) != NAS_OK || (st = nas__plan_set_labels(p, os->yt)) != NAS_OK)
        return plan_failed(os, st);
    double lsum = 0.0, csum = 0.0;
    for (uint32_t i = 0; i < f->n; i++) {
        if ((st = nas__ss_set_paths(os, f->archs[i], f->paths)) != NAS_OK)
            return st;
        if ((st = nas__plan_forward(p, true)) != NAS_OK)
            return plan_failed(os, st);
        double l = nas__plan_loss(p);
        if (!isfinite(l))
            return nas__fail(os->errmsg, NAS_E_DIVERGED, "fairnas: the training loss is not finite");
        lsum += l;
        csum += (double)nas__plan_correct(p);
        if ((st = nas__plan_backward(p)) != NAS_OK || (st = nas__plan_grads_accumulate(p, f->acc, i == 0)) != NAS_OK)
            return plan_failed(os, st);
        for (uint32_t m = 0; m < os->map->num_mixed; m++)
            f->count[f->pos[m] + f->paths[m]]++;
    }
    if ((st = nas__plan_grads_load(p, f->acc)) != NAS_OK || (st = nas__plan_step(p, &os->wcfg)) != NAS_OK)
        return plan_failed(os, st);
    f->steps++;
    *loss += lsum / f->n;
    *correct += csum / f->n;
    return NAS_OK;
}

static nas_status_t fairnas_derive(nas__oneshot_t *os, void *user, nas_arch_t *arch)
{
    fairnas_t *f = user;
    if (f->count) {
        uint64_t lo = UINT64_MAX, hi = 0;
        for (uint32_t k = 0; k < os->map->total_paths; k++) {
            lo = f->count[k] < lo ? f->count[k] : lo;
            hi = f->count[k] > hi ? f->count[k] : hi;
        }
        char what[200];
        snprintf(what, sizeof what, "fairnas fairness %llu steps %u models: every path ran %llu..%llu times",
                 (unsigned long long)f->steps, (unsigned)f->n, (unsigned long long)lo, (unsigned long long)hi);
        nas_run_report(os->run, what);
    }
    return nas__ss_derive(os, &f->ss, arch);
}

static nas_status_t fairnas_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas_searcher_context(self);
    fairnas_t *f = nas__calloc(ctx, 1, sizeof *f);
    if (!f)
        return NAS_E_NOMEM;
    *state = f;
    f->ctx = ctx;
    f->rng = nas_searcher_rng(self);
    f->space = nas_searcher_space(self);
    f->ss.ctx = ctx;
    nas__oneshot_cfg_t *c = &f->cfg;
    nas__spos_defaults(c, &f->ss);
    c->name = f->ss.name = "fairnas";
    c->user = f;
    c->weight_step = fairnas_weight_step;
    c->derive = fairnas_derive;
    nas_status_t st = nas__oneshot_refuse_arch_params(self, params, "fairnas");
    if (st == NAS_OK)
        st = nas__oneshot_params(self, params, c, &f->alphas_path);
    if (st == NAS_OK)
        st = nas__ss_params(self, params, &f->ss);
    return st;
}

static const nas_searcher_vtable_t fairnas_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "fairnas",
    .description = "FairNAS: every choice of every decision trained once per step (n sub-models, summed gradients), "
                   "then evolution or NSGA-II on the supernet and retrain; needs the train evaluator (params: as spos)",
    .create = fairnas_create,
    .destroy = fairnas_destroy,
    .ask = nas__oneshot_ask,
    .tell = nas__search_tell_nothing,
    .user_data = NULL,
    .save = NULL,
    .load = NULL,
    .run = nas__oneshot_run_hook,
};

nas_status_t nas__register_fairnas(nas_context_t *ctx)
{
    return nas_context_register_searcher(ctx, &fairnas_vtable);
}
