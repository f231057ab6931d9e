/*
 * The "tpe" strategy: Tree-structured Parzen Estimator (Bergstra et al. 2011) over every decision
 * of the space, architecture and hyperparameters jointly (the model is in density.h).
 *
 * The first n_startup asks are uniform draws. After that each ask fits l on the best
 * ceil(gamma n) told trials and g on the rest (failed and infeasible trials score -inf and always
 * land in g; with several objectives only the first counts), draws n_candidates points from l and
 * proposes the one with the largest l/g. Conditional decisions are modelled over the trials where
 * they were active. Nothing is proposed twice: a drawn point proposed before gives way to the next
 * best; when a whole batch was proposed before, up to two more batches are drawn, then uniform
 * draws (max_retries of them), then, in a finite space, a scan of the grid from a random index; a
 * finite space is exhausted after its size in asks. Asks depend only on the searcher's random
 * stream and the results told; trials asked but not yet told are not modelled (only kept out of
 * later proposals).
 *
 * Parameters: n_startup (int, default 20, [1, 1000000]); gamma (default 0.15, (0, 1));
 * n_candidates (int, default 24, [1, 100000]); prior_weight (default 1.0, (0, 1000000]);
 * max_retries (int, default 100, [1, 10000000]).
 */
#include "search/density.h"

#include <math.h>

#define DEFAULT_STARTUP 20
#define DEFAULT_GAMMA 0.15
#define DEFAULT_CANDIDATES 24
#define DEFAULT_PRIOR_WEIGHT 1.0
#define DEFAULT_RETRIES 100
#define BATCHES 3            /* batches of candidates before uniform draws */
#define NOT_FITTED UINT32_MAX

typedef struct tpe {
    nas_context_t *ctx;
    nas__density_t model;
    nas__obs_t obs;
    nas__u64set_t seen;      /* hashes of every proposed arch */
    double *x;               /* one point */
    int64_t n_startup, n_candidates, max_retries;
    double gamma;
    bool finite;             /* the grid enumerates exactly the points sampling can give */
    uint64_t size;
    uint32_t fitted;         /* observations the model was fitted on (a pure function of them) */
} tpe_t;

static void tpe_destroy(void *state)
{
    tpe_t *t = state;
    if (!t)
        return;
    nas__density_free(&t->model);
    nas__obs_free(&t->obs);
    nas__u64set_free(&t->seen);
    nas__free(t->ctx, t->x);
    nas__free(t->ctx, t);
}

static nas_status_t tpe_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas_searcher_context(self);
    nas_space_t *space = nas_searcher_space(self);
    tpe_t *t = nas__calloc(ctx, 1, sizeof *t);
    if (!t)
        return NAS_E_NOMEM;
    t->ctx = ctx;
    t->fitted = NOT_FITTED;
    nas__u64set_init(&t->seen, ctx);
    nas__obs_init(&t->obs, ctx, nas_space_num_dims(space));
    *state = t;
    double prior_weight;
    nas_status_t st;
    if ((st = nas__search_param_int(self, params, "n_startup", DEFAULT_STARTUP, 1, 1000000, &t->n_startup)) !=
            NAS_OK ||
        (st = nas__search_param_double(self, params, "gamma", DEFAULT_GAMMA, 0.0, 1.0, 3, &t->gamma)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "n_candidates", DEFAULT_CANDIDATES, 1, 100000,
                                    &t->n_candidates)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "prior_weight", DEFAULT_PRIOR_WEIGHT, 0.0, 1e6, 1,
                                       &prior_weight)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "max_retries", DEFAULT_RETRIES, 1, 10000000, &t->max_retries)) !=
            NAS_OK)
        return st;
    if ((st = nas__density_init(&t->model, space, prior_weight)) != NAS_OK)
        return st;
    if (!(t->x = nas__calloc(ctx, t->model.num_dims ? t->model.num_dims : 1, sizeof *t->x)))
        return NAS_E_NOMEM;
    t->size = nas__search_finite_size(space);
    t->finite = t->size > 0;
    nas__searcher_set_finite(self, t->finite);
    return NAS_OK;
}

static nas_status_t tpe_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    tpe_t *t = state;
    if (t->finite && t->seen.count >= t->size)
        return nas__search_fail(self, NAS_E_EXHAUSTED, "all %llu points of the space have been proposed",
                                (unsigned long long)t->size);
    nas_rng_t *rng = nas_searcher_rng(self);
    nas_status_t st = NAS_OK;
    bool found = false;
    if (t->obs.count >= (uint64_t)t->n_startup) {
        if (t->fitted != t->obs.count) {
            if ((st = nas__density_fit(&t->model, &t->obs, t->gamma)) != NAS_OK)
                return nas__search_failed(self, st, "fitting the model");
            t->fitted = t->obs.count;
        }
        for (int b = 0; b < BATCHES && !found && st == NAS_OK; b++)
            st = nas__density_propose(&t->model, rng, (uint32_t)t->n_candidates, &t->seen, cand->arch, &found);
    }
    if (!found && st == NAS_OK)
        st = nas__search_sample_fresh(self, &t->seen, t->max_retries, cand->arch, &found);
    if (st != NAS_OK)
        return nas__search_failed(self, st, "drawing a candidate");
    if (!found && t->finite && (st = nas__search_scan_fresh(self, &t->seen, t->size, cand->arch, &found)) != NAS_OK)
        return nas__search_failed(self, st, "enumerating the space");
    if (!found)
        return nas__search_fail(self, NAS_E_EXHAUSTED, "%lld draws in a row gave points proposed before",
                                (long long)t->max_retries);
    return nas__search_remember(self, &t->seen, cand->arch);
}

static nas_status_t tpe_tell(nas_searcher_t *self, void *state, const nas_candidate_t *cand, const nas_result_t *res)
{
    tpe_t *t = state;
    double score;
    nas_status_t st = nas_searcher_scores(self, res, &score, 1);
    if (st == NAS_OK)
        st = nas__density_point_from_arch(&t->model, cand->arch, t->x);
    if (st == NAS_OK)
        st = nas__obs_add(&t->obs, t->x, score);
    return st == NAS_OK ? NAS_OK : nas__search_failed(self, st, "recording a result");
}

/* State: the proposed hashes and the observations (the model is refitted from them). */
static nas_status_t tpe_save(nas_searcher_t *self, void *state, nas_state_writer_t *w)
{
    (void)self;
    tpe_t *t = state;
    nas_status_t st = nas__search_save_hashes(&t->seen, true, w);
    return st == NAS_OK ? nas__obs_save(&t->obs, w) : st;
}

static nas_status_t tpe_load(nas_searcher_t *self, void *state, nas_state_reader_t *r)
{
    tpe_t *t = state;
    nas_status_t st = nas__search_load_hashes(&t->seen, true, r);
    if (st == NAS_OK)
        st = nas__obs_load(&t->obs, &t->model, r);
    if (st == NAS_OK && t->finite && t->seen.count > t->size)
        st = NAS_E_CORRUPT;
    t->fitted = NOT_FITTED;
    return st == NAS_E_NOMEM ? nas__search_failed(self, st, "loading the state") : st;
}

static const nas_searcher_vtable_t tpe_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "tpe",
    .description = "Tree-structured Parzen Estimator over architecture and hyperparameters "
                   "(params: n_startup, gamma, n_candidates, prior_weight, max_retries)",
    .create = tpe_create,
    .destroy = tpe_destroy,
    .ask = tpe_ask,
    .tell = tpe_tell,
    .user_data = NULL,
    .save = tpe_save,
    .load = tpe_load,
};

nas_status_t nas__register_tpe(nas_context_t *ctx)
{
    return nas_context_register_searcher(ctx, &tpe_vtable);
}
