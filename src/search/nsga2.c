/*
 * The "nsga2" strategy: NSGA-II, Deb, Pratap, Agarwal, Meyarivan, "A Fast and Elitist Multiobjective
 * Genetic Algorithm: NSGA-II", IEEE TEVC 2002, over all the searcher's objectives, with Deb's
 * constrained domination: a feasible result dominates an infeasible one, of two infeasible ones the
 * smaller violation (nas_searcher_violation) dominates, and of two feasible ones Pareto dominance
 * on the scores decides. Failed trials have violation +inf: they lose to everything else.
 *
 * Generation 0 is `population` uniform samples. Each later offspring is bred from the population:
 * with probability `crossover_prob` the crossover (nas_space_crossover) of two parents, else one
 * parent, then `mutations` edits (nas_space_mutate); each parent is the winner of a binary
 * tournament on (rank, then crowding distance). A generation is the next `population` results to
 * arrive: when they are all in, parents and offspring are sorted into fronts (fast non-dominated
 * sort) and the best `population` survive, whole fronts first, the last front cut by crowding
 * distance. Asked one at a time this is Deb's generational scheme exactly. When asks run ahead of
 * tells, an ask past the generation's batch is bred from the current population anyway and its
 * result counts towards the next generation; before the first selection such asks are samples.
 * With one objective the fronts are the score levels and this is a (mu + mu) elitist GA with
 * tournament selection.
 *
 * No arch is proposed twice while avoidable: a child proposed before is bred again (up to RETRIES
 * times), then replaced by a sample (RETRIES draws); only then does a repeat go out.
 *
 * Parameters: population (int in [2, 100000], default 50); crossover_prob (real in [0, 1],
 * default 0.9); mutations (edits per child, int in [0, 4096], default 1).
 */
#include "search/search_internal.h"

#include <math.h>
#include <stdlib.h>

#define DEFAULT_POPULATION 50
#define MAX_POPULATION 100000
#define RETRIES 64

typedef struct member {
    nas_arch_t *arch;
    double *f;          /* num_obj scores, larger is better (-inf when failed or infeasible) */
    double viol;        /* 0 when feasible; +inf when failed */
    uint32_t rank;      /* front index from the last selection (population members only) */
    double crowd;       /* crowding distance within that front */
} member_t;

typedef struct sort_key {
    double v;
    uint32_t i;
} sort_key_t;

typedef struct nsga_state {
    nas_context_t *ctx;
    uint32_t pop_size, num_obj, edits;
    double crossover_prob;
    member_t *m;        /* 2 * pop_size: the population [0, npop), then the arrivals [npop, npop + narr) */
    member_t *tmp;      /* 2 * pop_size: reordering after a selection */
    double *scores;     /* 2 * pop_size * num_obj: the members' f point here */
    uint32_t npop, narr;
    uint32_t *count;    /* per member: dominators not yet ranked */
    uint32_t *order;    /* members front by front */
    sort_key_t *keys;   /* sorting scratch */
    nas_arch_t *mate;
    nas__u64set_t proposed;
} nsga_state_t;

static void nsga_destroy(void *state)
{
    nsga_state_t *g = state;
    if (!g)
        return;
    if (g->m)
        for (uint32_t i = 0; i < 2 * g->pop_size; i++)
            nas_arch_destroy(g->m[i].arch);
    nas_arch_destroy(g->mate);
    nas__u64set_free(&g->proposed);
    nas__free(g->ctx, g->m);
    nas__free(g->ctx, g->tmp);
    nas__free(g->ctx, g->scores);
    nas__free(g->ctx, g->count);
    nas__free(g->ctx, g->order);
    nas__free(g->ctx, g->keys);
    nas__free(g->ctx, g);
}

static nas_status_t read_params(nas_searcher_t *self, nsga_state_t *g, const nas_params_t *params)
{
    int64_t pop, edits;
    nas_status_t st;
    if ((st = nas__search_param_int(self, params, "population", DEFAULT_POPULATION, 2, MAX_POPULATION, &pop)) !=
            NAS_OK ||
        (st = nas__search_param_int(self, params, "mutations", 1, 0, NAS_SPACE_MAX_DIMS, &edits)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "crossover_prob", 0.9, 0.0, 1.0, 0, &g->crossover_prob)) !=
            NAS_OK)
        return st;
    g->pop_size = (uint32_t)pop;
    g->edits = (uint32_t)edits;
    return NAS_OK;
}

static nas_status_t nsga_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas_searcher_context(self);
    nas_space_t *space = nas_searcher_space(self);
    nsga_state_t *g = nas__calloc(ctx, 1, sizeof *g);
    if (!g)
        return NAS_E_NOMEM;
    g->ctx = ctx;
    nas__u64set_init(&g->proposed, ctx);
    *state = g;
    nas_status_t st = read_params(self, g, params);
    if (st != NAS_OK)
        return st;
    g->num_obj = nas_searcher_num_objectives(self);
    uint32_t n = 2 * g->pop_size;
    g->m = nas__calloc(ctx, n, sizeof *g->m);
    g->tmp = nas__calloc(ctx, n, sizeof *g->tmp);
    g->scores = nas__calloc(ctx, (size_t)n * g->num_obj, sizeof *g->scores);
    g->count = nas__calloc(ctx, n, sizeof *g->count);
    g->order = nas__calloc(ctx, n, sizeof *g->order);
    g->keys = nas__calloc(ctx, n, sizeof *g->keys);
    if (!g->m || !g->tmp || !g->scores || !g->count || !g->order || !g->keys ||
        nas_arch_create(&g->mate, space) != NAS_OK)
        goto out_nomem;
    for (uint32_t i = 0; i < n; i++) {
        g->m[i].f = g->scores + (size_t)i * g->num_obj;
        if (nas_arch_create(&g->m[i].arch, space) != NAS_OK)
            goto out_nomem;
    }
    return NAS_OK;

out_nomem:
    nas_searcher_set_errmsg(self, "out of memory creating the population");
    return NAS_E_NOMEM;
}

/* ---------------------------------------------------------------------- */
/* Ranking                                                                 */

/* Deb's constrained domination: whether a dominates b. */
static bool dominates(const nsga_state_t *g, const member_t *a, const member_t *b)
{
    if (a->viol > 0 || b->viol > 0)
        return a->viol < b->viol;
    bool better = false;
    for (uint32_t k = 0; k < g->num_obj; k++) {
        if (a->f[k] < b->f[k])
            return false;
        better |= a->f[k] > b->f[k];
    }
    return better;
}

/* Ascending by value, then by index: a total order, so the result never depends on qsort. */
static int key_cmp(const void *pa, const void *pb)
{
    const sort_key_t *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* Crowding distances of the members order[lo, hi). */
static void crowding(nsga_state_t *g, uint32_t lo, uint32_t hi)
{
    uint32_t n = hi - lo;
    for (uint32_t i = lo; i < hi; i++)
        g->m[g->order[i]].crowd = 0.0;
    for (uint32_t k = 0; k < g->num_obj; k++) {
        for (uint32_t i = 0; i < n; i++)
            g->keys[i] = (sort_key_t){ g->m[g->order[lo + i]].f[k], g->order[lo + i] };
        qsort(g->keys, n, sizeof *g->keys, key_cmp);
        g->m[g->keys[0].i].crowd = INFINITY;
        g->m[g->keys[n - 1].i].crowd = INFINITY;
        double span = g->keys[n - 1].v - g->keys[0].v;
        if (!(isfinite(span) && span > 0))
            continue;
        for (uint32_t i = 1; i + 1 < n; i++) {
            double d = (g->keys[i + 1].v - g->keys[i - 1].v) / span;
            if (isfinite(d))
                g->m[g->keys[i].i].crowd += d;
        }
    }
}

/* Sort order[lo, hi) by crowding distance, largest first (ties by index). */
static void sort_by_crowding(nsga_state_t *g, uint32_t lo, uint32_t hi)
{
    for (uint32_t i = lo; i < hi; i++)
        g->keys[i - lo] = (sort_key_t){ -g->m[g->order[i]].crowd, g->order[i] };
    qsort(g->keys, hi - lo, sizeof *g->keys, key_cmp);
    for (uint32_t i = lo; i < hi; i++)
        g->order[i] = g->keys[i - lo].i;
}

/*
 * Environmental selection over the population and the arrivals: fast non-dominated sort, then
 * whole fronts while they fit and the last one cut by crowding distance. Survivors move to the
 * front of m[] (in front order); the others' slots become free arrival slots.
 */
static void select_survivors(nsga_state_t *g)
{
    uint32_t n = g->npop + g->narr, done = 0, taken = 0;
    for (uint32_t i = 0; i < n; i++) {
        g->count[i] = 0;
        g->m[i].rank = UINT32_MAX;
    }
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++) {
            if (dominates(g, &g->m[i], &g->m[j]))
                g->count[j]++;
            else if (dominates(g, &g->m[j], &g->m[i]))
                g->count[i]++;
        }
    for (uint32_t i = 0; i < n; i++)
        if (!g->count[i]) {
            g->m[i].rank = 0;
            g->order[done++] = i;
        }
    for (uint32_t lo = 0, rank = 0; lo < done && taken < g->pop_size; rank++) {
        uint32_t hi = done;
        for (uint32_t a = lo; a < hi; a++)
            for (uint32_t r = 0; r < n; r++)
                if (g->m[r].rank == UINT32_MAX && dominates(g, &g->m[g->order[a]], &g->m[r]) && --g->count[r] == 0) {
                    g->m[r].rank = rank + 1;
                    g->order[done++] = r;
                }
        crowding(g, lo, hi);
        if (taken + (hi - lo) > g->pop_size)
            sort_by_crowding(g, lo, hi);
        taken = taken + (hi - lo) < g->pop_size ? taken + (hi - lo) : g->pop_size;
        lo = hi;
    }
    /* Members never reached (behind the last front needed) follow in index order. */
    for (uint32_t i = 0; i < n && done < n; i++)
        if (g->m[i].rank == UINT32_MAX)
            g->order[done++] = i;
    for (uint32_t i = 0; i < n; i++)
        g->tmp[i] = g->m[g->order[i]];
    for (uint32_t i = 0; i < n; i++)
        g->m[i] = g->tmp[i];
    g->npop = taken;
    g->narr = 0;
}

/* ---------------------------------------------------------------------- */
/* Ask and tell                                                            */

/* A uniform sample, unproposed if one comes up in RETRIES draws (else the last draw). */
static nas_status_t fresh(nas_searcher_t *self, nsga_state_t *g, nas_arch_t *out)
{
    return nas__search_sample_fresh(self, &g->proposed, RETRIES, out, NULL);
}

/* Binary tournament: lower rank wins, then larger crowding distance, then the first drawn. */
static const nas_arch_t *tournament(const nsga_state_t *g, nas_rng_t *rng)
{
    uint32_t i = (uint32_t)nas_rng_below(rng, g->npop);
    uint32_t j = (uint32_t)nas_rng_below(rng, g->npop - 1);
    j += j >= i;
    const member_t *a = &g->m[i], *b = &g->m[j];
    if (b->rank < a->rank || (b->rank == a->rank && b->crowd > a->crowd))
        a = b;
    return a->arch;
}

static nas_status_t breed(nas_searcher_t *self, nsga_state_t *g, nas_arch_t *out)
{
    nas_space_t *space = nas_searcher_space(self);
    nas_rng_t *rng = nas_searcher_rng(self);
    for (int i = 0; i < RETRIES; i++) {
        nas_status_t st;
        if (g->crossover_prob > 0.0 && nas_rng_uniform(rng) < g->crossover_prob) {
            const nas_arch_t *a = tournament(g, rng), *b = tournament(g, rng);
            st = nas_space_crossover(space, g->mate, a, b, rng);
        } else {
            st = nas_arch_copy(g->mate, tournament(g, rng));
        }
        if (st == NAS_OK)
            st = nas_space_mutate(space, out, g->mate, rng, g->edits);
        if (st != NAS_OK)
            return nas__search_space_failed(self, st);
        if (!nas__u64set_has(&g->proposed, nas_arch_hash(out)))
            return NAS_OK;
    }
    return fresh(self, g, out);
}

static nas_status_t nsga_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    nsga_state_t *g = state;
    nas_status_t st = g->npop ? breed(self, g, cand->arch) : fresh(self, g, cand->arch);
    return st == NAS_OK ? nas__search_remember(self, &g->proposed, cand->arch) : st;
}

static nas_status_t nsga_tell(nas_searcher_t *self, void *state, const nas_candidate_t *cand, const nas_result_t *res)
{
    nsga_state_t *g = state;
    member_t *m = &g->m[g->npop + g->narr];
    nas_status_t st = nas_searcher_scores(self, res, m->f, g->num_obj);
    if (st == NAS_OK)
        st = nas_arch_copy(m->arch, cand->arch);
    if (st != NAS_OK)
        return st;
    m->viol = nas_searcher_violation(self, res);
    m->rank = UINT32_MAX;
    m->crowd = 0.0;
    if (++g->narr == g->pop_size)
        select_survivors(g);
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Save and load                                                           */

/*
 * State: the population (count, then per member: arch, num_obj scores, violation, rank,
 * crowding), the arrivals of the generation under way (count, then arch, scores, violation), and
 * the hashes of the proposed archs (count, then the keys in table order). The tests read the
 * population from this layout.
 */
static void save_member(const nsga_state_t *g, nas_state_writer_t *w, const member_t *m, bool ranked)
{
    nas_state_write_arch(w, m->arch);
    nas_state_write_f64s(w, m->f, g->num_obj);
    nas_state_write_f64(w, m->viol);
    if (ranked) {
        nas_state_write_u64(w, m->rank);
        nas_state_write_f64(w, m->crowd);
    }
}

static nas_status_t nsga_save(nas_searcher_t *self, void *state, nas_state_writer_t *w)
{
    (void)self;
    nsga_state_t *g = state;
    nas_state_write_u64(w, g->npop);
    for (uint32_t i = 0; i < g->npop; i++)
        save_member(g, w, &g->m[i], true);
    nas_state_write_u64(w, g->narr);
    for (uint32_t i = 0; i < g->narr; i++)
        save_member(g, w, &g->m[g->npop + i], false);
    return nas__search_save_hashes(&g->proposed, false, w);
}

static nas_status_t load_member(nsga_state_t *g, nas_state_reader_t *r, member_t *m, bool ranked)
{
    uint64_t rank = UINT32_MAX;
    nas_status_t st;
    m->crowd = 0.0;
    if ((st = nas_state_read_arch(r, m->arch)) != NAS_OK || (st = nas_state_read_f64s(r, m->f, g->num_obj)) != NAS_OK ||
        (st = nas_state_read_f64(r, &m->viol)) != NAS_OK ||
        (ranked && ((st = nas_state_read_count(r, 2 * (uint64_t)g->pop_size, &rank)) != NAS_OK ||
                    (st = nas_state_read_f64(r, &m->crowd)) != NAS_OK)))
        return st;
    for (uint32_t k = 0; k < g->num_obj; k++)
        if (isnan(m->f[k]))
            return NAS_E_CORRUPT;
    if (!(m->viol >= 0) || !(m->crowd >= 0))
        return NAS_E_CORRUPT;
    m->rank = (uint32_t)rank;
    return NAS_OK;
}

static nas_status_t nsga_load(nas_searcher_t *self, void *state, nas_state_reader_t *r)
{
    nsga_state_t *g = state;
    uint64_t npop, narr;
    nas_status_t st;
    /* A selection leaves exactly pop_size members and runs as soon as pop_size results are in. */
    if ((st = nas_state_read_count(r, g->pop_size, &npop)) != NAS_OK)
        return st;
    if (npop != 0 && npop != g->pop_size)
        return NAS_E_CORRUPT;
    for (uint32_t i = 0; i < npop; i++)
        if ((st = load_member(g, r, &g->m[i], true)) != NAS_OK)
            return st;
    g->npop = (uint32_t)npop;
    if ((st = nas_state_read_count(r, g->pop_size - 1, &narr)) != NAS_OK)
        return st;
    for (uint32_t i = 0; i < narr; i++)
        if ((st = load_member(g, r, &g->m[npop + i], false)) != NAS_OK)
            return st;
    g->narr = (uint32_t)narr;
    st = nas__search_load_hashes(&g->proposed, false, r);
    return st == NAS_E_NOMEM ? nas__search_failed(self, st, "loading the state") : st;
}

static const nas_searcher_vtable_t nsga2_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "nsga2",
    .description = "NSGA-II over all objectives with constrained domination (params: population, "
                   "crossover_prob, mutations)",
    .create = nsga_create,
    .destroy = nsga_destroy,
    .ask = nsga_ask,
    .tell = nsga_tell,
    .user_data = NULL,
    .save = nsga_save,
    .load = nsga_load,
};

nas_status_t nas__register_nsga2(nas_context_t *ctx)
{
    return nas_context_register_searcher(ctx, &nsga2_vtable);
}
