/*
 * The "evolution" strategy: regularized (aging) evolution, Real et al., "Regularized Evolution for
 * Image Classifier Architecture Search", AAAI 2019.
 *
 * The population is a queue of the last `population` results to arrive, failed trials included
 * (their score is -inf). The first `population` asks are uniform samples. Every later ask runs a
 * tournament: `sample` distinct members drawn uniformly, the best by the first objective is the
 * parent, and the child is the parent changed by `mutations` edits (nas_space_mutate). With
 * probability `crossover_prob` the child is instead the crossover of the tournament's two best,
 * then mutated. When a result arrives it joins the queue and, past `population` members, the
 * oldest leaves: age, not fitness, decides who dies.
 *
 * Several asks may be outstanding. A result joins when it arrives, whichever trial it answers
 * (the core has matched it to its trial and checked the arch, so nothing is kept per trial here);
 * while no result has arrived, asks past the first `population` are samples too. A failed trial
 * never wins a tournament (a tournament of failed members only gives a fresh sample) but still
 * ages out in its turn.
 *
 * No arch is proposed twice while avoidable: a child that was proposed before is bred again (up
 * to RETRIES times), then replaced by a sample (RETRIES draws); only when all of those were
 * proposed before (a nearly exhausted finite space) does a repeat go out.
 *
 * Parameters: population (int in [1, 100000], default 50); sample (tournament size, int in
 * [1, population], default min(10, population)); mutations (edits per child, int in [1, 4096],
 * default 1); crossover_prob (real in [0, 1], default 0).
 */
#include "search/search_internal.h"

#include <math.h>

#define DEFAULT_POPULATION 50
#define DEFAULT_SAMPLE 10
#define MAX_POPULATION 100000
#define RETRIES 64

typedef struct member {
    nas_arch_t *arch;
    double score;       /* first objective, larger is better; -inf for a failed or infeasible trial */
} member_t;

typedef struct evo_state {
    nas_context_t *ctx;
    uint32_t pop_size, tourney, edits;
    double crossover_prob;
    member_t *ring;     /* pop_size slots; the i-th oldest member is ring[(head + i) % pop_size] */
    uint32_t head, count;
    uint32_t *pick;     /* pop_size scratch indices for tournaments */
    nas_arch_t *mate;   /* crossover child before mutation */
    nas__u64set_t proposed;   /* hashes of every arch asked */
    uint64_t asked;
} evo_state_t;

static void evo_destroy(void *state)
{
    evo_state_t *e = state;
    if (!e)
        return;
    if (e->ring)
        for (uint32_t i = 0; i < e->pop_size; i++)
            nas_arch_destroy(e->ring[i].arch);
    nas_arch_destroy(e->mate);
    nas__u64set_free(&e->proposed);
    nas__free(e->ctx, e->pick);
    nas__free(e->ctx, e->ring);
    nas__free(e->ctx, e);
}

static nas_status_t read_params(nas_searcher_t *self, evo_state_t *e, const nas_params_t *params)
{
    int64_t pop, tourney, edits;
    nas_status_t st;
    if ((st = nas__search_param_int(self, params, "population", DEFAULT_POPULATION, 1, MAX_POPULATION, &pop)) !=
            NAS_OK ||
        (st = nas__search_param_int(self, params, "sample", pop < DEFAULT_SAMPLE ? pop : DEFAULT_SAMPLE, 1, pop,
                                    &tourney)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "mutations", 1, 1, NAS_SPACE_MAX_DIMS, &edits)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "crossover_prob", 0.0, 0.0, 1.0, 0, &e->crossover_prob)) !=
            NAS_OK)
        return st;
    e->pop_size = (uint32_t)pop;
    e->tourney = (uint32_t)tourney;
    e->edits = (uint32_t)edits;
    return NAS_OK;
}

static nas_status_t evo_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas_searcher_context(self);
    nas_space_t *space = nas_searcher_space(self);
    evo_state_t *e = nas__calloc(ctx, 1, sizeof *e);
    if (!e)
        return NAS_E_NOMEM;
    e->ctx = ctx;
    nas__u64set_init(&e->proposed, ctx);
    *state = e;
    nas_status_t st = read_params(self, e, params);
    if (st != NAS_OK)
        return st;
    e->ring = nas__calloc(ctx, e->pop_size, sizeof *e->ring);
    e->pick = nas__calloc(ctx, e->pop_size, sizeof *e->pick);
    if (!e->ring || !e->pick || nas_arch_create(&e->mate, space) != NAS_OK)
        goto out_nomem;
    for (uint32_t i = 0; i < e->pop_size; i++)
        if (nas_arch_create(&e->ring[i].arch, space) != NAS_OK)
            goto out_nomem;
    return NAS_OK;

out_nomem:
    nas_searcher_set_errmsg(self, "out of memory creating the population");
    return NAS_E_NOMEM;
}

static member_t *member(evo_state_t *e, uint32_t i)
{
    return &e->ring[(e->head + i) % e->pop_size];
}

/* A uniform sample, unproposed if one comes up in RETRIES draws (else the last draw). */
static nas_status_t fresh(nas_searcher_t *self, evo_state_t *e, nas_arch_t *out)
{
    return nas__search_sample_fresh(self, &e->proposed, RETRIES, out, NULL);
}

/*
 * Draw min(sample, count) distinct members (a partial Fisher-Yates shuffle); the best and second
 * best by score go to *best and *second, ties to the member drawn first. Members scoring -inf
 * (failed) never place: *best is UINT32_MAX when all drawn failed, *second when fewer than two
 * succeeded.
 */
static void tournament(evo_state_t *e, nas_rng_t *rng, uint32_t *best, uint32_t *second)
{
    uint32_t n = e->count, k = e->tourney < n ? e->tourney : n;
    for (uint32_t i = 0; i < n; i++)
        e->pick[i] = i;
    *best = *second = UINT32_MAX;
    double b1 = -INFINITY, b2 = -INFINITY;
    for (uint32_t i = 0; i < k; i++) {
        uint32_t j = i + (uint32_t)nas_rng_below(rng, n - i), t = e->pick[j];
        e->pick[j] = e->pick[i];
        e->pick[i] = t;
        double s = member(e, t)->score;
        if (s > b1) {
            *second = *best;
            b2 = b1;
            *best = t;
            b1 = s;
        } else if (s > b2) {
            *second = t;
            b2 = s;
        }
    }
}

static nas_status_t breed(nas_searcher_t *self, evo_state_t *e, nas_arch_t *out)
{
    nas_space_t *space = nas_searcher_space(self);
    nas_rng_t *rng = nas_searcher_rng(self);
    uint32_t best, second;
    tournament(e, rng, &best, &second);
    if (best == UINT32_MAX)
        return fresh(self, e, out);   /* failed members never parent a child */
    bool cross = second != UINT32_MAX && e->crossover_prob > 0.0 && nas_rng_uniform(rng) < e->crossover_prob;
    const nas_arch_t *parent = member(e, best)->arch;
    for (int i = 0; i < RETRIES; i++) {
        nas_status_t st = NAS_OK;
        if (cross) {
            st = nas_space_crossover(space, e->mate, parent, member(e, second)->arch, rng);
            if (st == NAS_OK)
                st = nas_space_mutate(space, out, e->mate, rng, e->edits);
        } else {
            st = nas_space_mutate(space, out, parent, rng, e->edits);
        }
        if (st != NAS_OK)
            return nas__search_space_failed(self, st);
        if (!nas__u64set_has(&e->proposed, nas_arch_hash(out)))
            return NAS_OK;
    }
    return fresh(self, e, out);
}

static nas_status_t evo_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    evo_state_t *e = state;
    nas_status_t st = e->asked < e->pop_size || e->count == 0 ? fresh(self, e, cand->arch)
                                                              : breed(self, e, cand->arch);
    if (st == NAS_OK && (st = nas__search_remember(self, &e->proposed, cand->arch)) == NAS_OK)
        e->asked++;
    return st;
}

static nas_status_t evo_tell(nas_searcher_t *self, void *state, const nas_candidate_t *cand, const nas_result_t *res)
{
    evo_state_t *e = state;
    double score;
    nas_status_t st = nas_searcher_scores(self, res, &score, 1);
    if (st != NAS_OK)
        return st;
    member_t *m;
    if (e->count < e->pop_size) {
        m = member(e, e->count++);
    } else {
        m = member(e, 0);   /* the oldest dies; the newcomer takes its slot at the young end */
        e->head = (e->head + 1) % e->pop_size;
    }
    m->score = score;
    return nas_arch_copy(m->arch, cand->arch);
}

/*
 * State: asks so far; the members, oldest first, as (arch, score); the hashes of the proposed
 * archs (in table order; only membership matters, so a reload may lay the table out differently).
 */
static nas_status_t evo_save(nas_searcher_t *self, void *state, nas_state_writer_t *w)
{
    (void)self;
    evo_state_t *e = state;
    nas_state_write_u64(w, e->asked);
    nas_state_write_u64(w, e->count);
    for (uint32_t i = 0; i < e->count; i++) {
        nas_state_write_arch(w, member(e, i)->arch);
        nas_state_write_f64(w, member(e, i)->score);
    }
    return nas__search_save_hashes(&e->proposed, false, w);
}

static nas_status_t evo_load(nas_searcher_t *self, void *state, nas_state_reader_t *r)
{
    evo_state_t *e = state;
    uint64_t count;
    nas_status_t st;
    if ((st = nas_state_read_u64(r, &e->asked)) != NAS_OK ||
        (st = nas_state_read_count(r, e->pop_size, &count)) != NAS_OK)
        return st;
    e->head = 0;
    e->count = 0;
    for (uint32_t i = 0; i < (uint32_t)count; i++) {
        member_t *m = &e->ring[i];
        if ((st = nas_state_read_arch(r, m->arch)) != NAS_OK || (st = nas_state_read_f64(r, &m->score)) != NAS_OK)
            return st;
        if (isnan(m->score))
            return NAS_E_CORRUPT;
        e->count++;
    }
    if (count > e->asked)
        return NAS_E_CORRUPT;
    if ((st = nas__search_load_hashes(&e->proposed, false, r)) == NAS_OK && e->proposed.count > e->asked)
        st = NAS_E_CORRUPT;
    return st == NAS_E_NOMEM ? nas__search_failed(self, st, "loading the state") : st;
}

static const nas_searcher_vtable_t evolution_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "evolution",
    .description = "regularized (aging) evolution (params: population, sample, mutations, crossover_prob)",
    .create = evo_create,
    .destroy = evo_destroy,
    .ask = evo_ask,
    .tell = evo_tell,
    .user_data = NULL,
    .save = evo_save,
    .load = evo_load,
};

nas_status_t nas__register_evolution(nas_context_t *ctx)
{
    return nas_context_register_searcher(ctx, &evolution_vtable);
}
