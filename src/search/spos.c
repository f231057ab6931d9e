/*
 * "spos": Single Path One-Shot NAS with uniform sampling (Guo et al., ECCV 2020).
 *
 * A single-path supernet (alphas tied across the cells of a type, never trained) trains with SGD
 * on the train evaluator's training split; before every weight step one architecture is drawn
 * uniformly from the space (nas_space_sample with the searcher's stream) and only its paths run
 * (nas__supernet_paths: unpicked cell inputs take none, chain layers past the depth are off). After
 * the epochs, a black-box strategy searches the trained supernet, every candidate scored with
 * inherited weights and BN statistics recalibrated for its paths (search/supernet_search.h); the
 * best is retrained from scratch by the train evaluator as the run's one trial. The driver is
 * src/search/oneshot.c: per-epoch log lines ("spos epoch E/N train_loss .. train_acc ..", the
 * validation fields NaN: there is no architecture step) and alphas_path as darts (the path weights
 * stay uniform: SPOS learns no architecture weights).
 *
 * Parameters (defaults for Fashion-MNIST on 2 cores):
 *   supernet   epochs 5, batch_size 64 (0: the evaluator's), w_lr 0.05 (cosine to w_lr_min 0),
 *              w_momentum 0.9, w_wd 4e-5 (SPOS's), grad_clip 5, retrain_epochs 0 (the evaluator's),
 *              alphas_path (none); the darts parameters arch_lr, arch_wd, alpha_init_std, max_skip
 *              and keep_none are refused (no architecture weights; the logged ones stay uniform).
 *   search     search "evolution" (or "nsga2"), search_trials 100, population 20, recalib_batches 8,
 *              eval_batches 8 (batches of batch_size: training batches for the BN recalibration,
 *              validation batches scored; the same fixed ones for every candidate), cost "auto"
 *              (latency for chain spaces, from the latency table; params for cell spaces, which have
 *              no latency table; or "params", "flops", "latency"), cost_limit 0 (none; else a
 *              constraint cost <= limit for the strategy and for the derive), latency_cache (a cache
 *              file for the latency table; none: built in memory), arch_path (JSON of the search:
 *              every candidate, the Pareto front, the derived arch; default candidates.json next to the
 *              run's journal), supernet_path (the trained supernet, for the "supernet" evaluator;
 *              default supernet.bin next to the journal).
 * The weight optimizer steps every parameter each step: unsampled ops see zero gradients but keep
 * their momentum and weight decay, as in gdas.c.
 *
 * ask/tell: spos drives its own search (ask: NAS_E_UNSUPPORTED, "use nas_run_execute").
 */
#include "search/search_internal.h"
#include "search/supernet_search.h"

#include <stdio.h>
#include <stddef.h>
#include <string.h>

typedef struct spos {
    nas__oneshot_cfg_t cfg;
    nas__ss_t ss;
    char *alphas_path;
    nas_context_t *ctx;
    nas_rng_t *rng;            /* the searcher's */
    nas_space_t *space;
    nas_arch_t *arch;
    uint32_t *paths;
} spos_t;
_Static_assert(offsetof(spos_t, cfg) == 0, "nas__oneshot_run_hook reads the cfg at the start of the state");

static void spos_destroy(void *state)
{
    spos_t *s = state;
    if (!s)
        return;
    nas__ss_free(&s->ss);
    nas_arch_destroy(s->arch);
    nas__free(s->ctx, s->paths);
    nas__free(s->ctx, s->alphas_path);
    nas__free(s->ctx, s);
}

static nas_status_t spos_sample(nas__oneshot_t *os, void *user)
{
    spos_t *s = user;
    if (!s->paths && !(s->paths = nas__calloc(s->ctx, os->map->num_mixed + 1, sizeof *s->paths)))
        return nas__fail(os->errmsg, NAS_E_NOMEM, "spos: out of memory");
    if (!s->arch && nas_arch_create(&s->arch, s->space) != NAS_OK)
        return nas__fail(os->errmsg, NAS_E_NOMEM, "spos: out of memory");
    nas_status_t st = nas_space_sample(s->space, s->arch, s->rng);
    if (st != NAS_OK)
        return nas__fail(os->errmsg, st, "spos: sampling: %s", nas_space_errmsg(s->space));
    return nas__ss_set_paths(os, s->arch, s->paths);
}

static nas_status_t spos_derive(nas__oneshot_t *os, void *user, nas_arch_t *arch)
{
    spos_t *s = user;
    return nas__ss_derive(os, &s->ss, arch);
}

void nas__spos_defaults(nas__oneshot_cfg_t *c, nas__ss_t *ss)
{
    c->mode = NAS__MIXED_SINGLE;
    c->epochs = 5;
    c->batch_size = 64;
    c->w_lr = 0.05;
    c->w_lr_min = 0.0;
    c->w_momentum = 0.9;
    c->w_wd = 4e-5;
    c->w_clip = 5.0;
    c->arch_lr = 3e-4;
    c->arch_wd = 1e-3;
    c->arch_beta1 = 0.5;
    c->arch_beta2 = 0.999;
    c->alpha_init_std = 0.0;
    c->max_skip = UINT32_MAX;
    c->no_arch_step = true;
    snprintf(ss->search, sizeof ss->search, "evolution");
    ss->trials = 100;
    ss->population = 20;
    ss->recalib_batches = 8;
    ss->eval_batches = 8;
    ss->cost = NAS__SS_COST_AUTO;
    ss->cost_limit = 0.0;
}

static nas_status_t spos_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas_searcher_context(self);
    spos_t *s = nas__calloc(ctx, 1, sizeof *s);
    if (!s)
        return NAS_E_NOMEM;
    *state = s;
    s->ctx = ctx;
    s->rng = nas_searcher_rng(self);
    s->space = nas_searcher_space(self);
    s->ss.ctx = ctx;
    nas__oneshot_cfg_t *c = &s->cfg;
    nas__spos_defaults(c, &s->ss);
    c->name = s->ss.name = "spos";
    c->user = s;
    c->sample = spos_sample;
    c->derive = spos_derive;
    nas_status_t st = nas__oneshot_refuse_arch_params(self, params, "spos");
    if (st == NAS_OK)
        st = nas__oneshot_params(self, params, c, &s->alphas_path);
    if (st == NAS_OK)
        st = nas__ss_params(self, params, &s->ss);
    return st;
}

static const nas_searcher_vtable_t spos_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "spos",
    .description = "single-path one-shot (uniform sampling), then evolution or NSGA-II on the trained supernet "
                   "with BN recalibration, and retrain; needs the train evaluator (params: epochs, search, "
                   "search_trials, cost, supernet_path, ...)",
    .create = spos_create,
    .destroy = spos_destroy,
    .ask = nas__oneshot_ask,
    .tell = nas__search_tell_nothing,
    .user_data = NULL,
    .save = NULL,
    .load = NULL,
    .run = nas__oneshot_run_hook,
};

nas_status_t nas__register_spos(nas_context_t *ctx)
{
    return nas_context_register_searcher(ctx, &spos_vtable);
}
