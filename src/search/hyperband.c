/*
 * "sh", "hyperband" and "bohb": successive halving (Jamieson & Talwalkar 2016), Hyperband (Li et
 * al. 2018) and BOHB (Falkner et al. 2018), three vtables on one engine.
 *
 * Brackets as in the Hyperband paper: R = max_fidelity / min_fidelity, s_max = floor(log_eta R).
 * Bracket s has s + 1 rungs; rung 0 has n = ceil((s_max + 1) eta^s / (s + 1)) configurations at
 * fidelity max_fidelity eta^-s; rung i + 1 takes the best floor(n_i / eta) of rung i (by the first
 * objective; failed trials are never promoted, so a rung may come out smaller) at eta times the
 * fidelity; the last rung runs at max_fidelity. A promoted configuration is asked again, same arch,
 * larger fidelity: a new trial. "hyperband" and "bohb" cycle through s = s_max, ..., 0 for ever;
 * "sh" repeats bracket s_max. With min_fidelity == max_fidelity every bracket is one configuration
 * at max_fidelity: Hyperband becomes random search and BOHB model-based sampling.
 *
 * Configurations of a new rung 0 are uniform draws not proposed before (up to max_retries draws,
 * then a repeat is accepted: a bracket never runs dry). BOHB draws a random_fraction of them
 * uniformly and the rest from the TPE model of density.h (a product of per-decision densities,
 * not the multivariate KDE of the paper) fitted on the largest fidelity with at least
 * min_points_in_model results, with gamma as the good fraction and n_candidates draws from l.
 *
 * Asynchronous asks: ask hands out, oldest bracket first and highest rung first, a promoted
 * configuration waiting to run, else a new configuration of an unfilled rung 0. When every active
 * bracket only awaits results, the next bracket starts early, so ask never blocks; promotion waits
 * until every trial of the rung has been told. A sequential driver (ask, evaluate, tell) therefore
 * runs the brackets strictly one after the other, exactly as in the paper.
 *
 * Parameters: min_fidelity (default 1, (0, 1e9]); max_fidelity (default max(27, min_fidelity), [min_fidelity, 1e9],
 * at most 1e6 min_fidelity); eta (default 3, [1.5, 1000]); max_retries (int, default 100,
 * [1, 10000000]); BOHB also: gamma (default 0.15, (0, 1)), n_candidates (int, default 64,
 * [1, 100000]), random_fraction (default 1/3, [0, 1]), min_points_in_model (int, default the number
 * of decisions + 1, [2, 1000000]), prior_weight (default 1, (0, 1e6]).
 */
#include "search/density.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { VAR_SH, VAR_HB, VAR_BOHB };
enum { SLOT_WAITING, SLOT_ASKED, SLOT_TOLD };

typedef struct slot {
    uint64_t trial;          /* once asked */
    double score;            /* once told */
    uint32_t state;
} slot_t;

typedef struct rung {
    uint32_t planned;        /* size in the paper's schedule */
    uint32_t num, cap;       /* configurations in the rung so far */
    uint32_t next, told;     /* handed out (a prefix of the slots), told */
    bool full;               /* rung 0: num == planned; rung i + 1: promotion happened */
    double fidelity;
    double *x;               /* num points */
    slot_t *slot;
} rung_t;

typedef struct bracket {
    uint64_t id;             /* 0, 1, 2, ... in the order brackets start */
    uint32_t s;              /* s + 1 rungs */
    rung_t *rung;
} bracket_t;

/* An outstanding trial: where its slot is. Sorted by trial id. */
typedef struct pend {
    uint64_t trial, bracket;
    uint32_t rung, slot;
} pend_t;

typedef struct rank { double score; uint32_t idx; } rank_t;

typedef struct hb {
    nas_context_t *ctx;
    int variant;
    double min_fid, max_fid, eta, gamma, random_fraction;
    int64_t max_retries, n_candidates, min_points;
    uint32_t s_max, nd;
    uint64_t next_bracket;
    bracket_t *br;
    uint32_t num_br, cap_br;
    pend_t *pend;
    uint32_t num_pend, cap_pend;
    rank_t *rank;
    uint32_t cap_rank;
    nas__u64set_t seen;      /* hashes of every rung-0 configuration */
    nas__density_t model;
    nas__obs_t *obs;         /* BOHB: results per fidelity level 0..s_max (level s_max: max_fidelity) */
    uint32_t fit_level, fit_count;
} hb_t;

/* ---------------------------------------------------------------------- */
/* Brackets                                                                */

static uint32_t bracket_s(const hb_t *h, uint64_t id)
{
    return h->variant == VAR_SH ? h->s_max : h->s_max - (uint32_t)(id % ((uint64_t)h->s_max + 1));
}

static void free_bracket(hb_t *h, bracket_t *b)
{
    for (uint32_t i = 0; b->rung && i <= b->s; i++) {
        nas__free(h->ctx, b->rung[i].x);
        nas__free(h->ctx, b->rung[i].slot);
    }
    nas__free(h->ctx, b->rung);
    b->rung = NULL;
}

/* Room for `need` configurations in a rung. */
static bool rung_reserve(hb_t *h, rung_t *r, uint32_t need)
{
    if (need <= r->cap)
        return true;
    uint32_t cap = r->cap ? r->cap : 8;
    while (cap < need)
        cap = cap > UINT32_MAX / 2 ? need : cap * 2;
    size_t nd = h->nd ? h->nd : 1;
    double *x = nas__realloc(h->ctx, r->x, (size_t)cap * nd * sizeof *x);
    if (!x)
        return false;
    r->x = x;
    slot_t *s = nas__realloc(h->ctx, r->slot, (size_t)cap * sizeof *s);
    if (!s)
        return false;
    r->slot = s;
    r->cap = cap;
    return true;
}

/* Append bracket `id` with its schedule (no configuration yet). */
static nas_status_t add_bracket(hb_t *h, uint64_t id)
{
    if (!nas__grow(h->ctx, (void **)&h->br, &h->cap_br, h->num_br + 1, sizeof *h->br))
        return NAS_E_NOMEM;
    bracket_t *b = &h->br[h->num_br];
    b->id = id;
    b->s = bracket_s(h, id);
    if (!(b->rung = nas__calloc(h->ctx, (size_t)b->s + 1, sizeof *b->rung)))
        return NAS_E_NOMEM;
    double n = ceil((h->s_max + 1.0) * pow(h->eta, b->s) / (b->s + 1.0) * (1 - 1e-12));
    for (uint32_t i = 0; i <= b->s; i++) {
        b->rung[i].planned = (uint32_t)n;
        b->rung[i].fidelity = i == b->s ? h->max_fid : h->max_fid / pow(h->eta, b->s - i);
        n = floor(n / h->eta * (1 + 1e-12));
    }
    h->num_br++;
    return NAS_OK;
}

static void remove_bracket(hb_t *h, bracket_t *b)
{
    free_bracket(h, b);
    uint32_t i = (uint32_t)(b - h->br);
    memmove(b, b + 1, (h->num_br - i - 1) * sizeof *b);
    h->num_br--;
}

static int cmp_rank(const void *a, const void *b)
{
    const rank_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/*
 * Rung i is complete: its best floor(n_i / eta) with a finite score go to rung i + 1, best first.
 * Memory was reserved by the caller. Returns whether the bracket is over.
 */
static bool promote(hb_t *h, bracket_t *b, uint32_t i)
{
    if (i == b->s)
        return true;
    rung_t *r = &b->rung[i], *up = &b->rung[i + 1];
    uint32_t n = 0;
    for (uint32_t j = 0; j < r->num; j++)
        if (r->slot[j].score > -INFINITY)
            h->rank[n++] = (rank_t){ r->slot[j].score, j };
    if (n > 1)
        qsort(h->rank, n, sizeof *h->rank, cmp_rank);
    uint32_t k = n < up->planned ? n : up->planned;
    for (uint32_t j = 0; j < k; j++) {
        memcpy(up->x + (size_t)j * h->nd, r->x + (size_t)h->rank[j].idx * h->nd, h->nd * sizeof *up->x);
        up->slot[j] = (slot_t){ 0, NAN, SLOT_WAITING };
    }
    up->num = k;
    up->full = true;
    return k == 0;
}

/* ---------------------------------------------------------------------- */
/* Ask and tell                                                            */

/* A new rung-0 configuration into arch: uniform, or (BOHB) from the model of the largest fidelity with data. */
static nas_status_t new_config(nas_searcher_t *self, hb_t *h, nas_arch_t *arch)
{
    nas_rng_t *rng = nas_searcher_rng(self);
    bool found = false;
    nas_status_t st = NAS_OK;
    if (h->variant == VAR_BOHB) {
        double u = nas_rng_uniform(rng);
        uint32_t level = h->s_max + 1;
        while (level-- > 0 && h->obs[level].count < (uint64_t)h->min_points)
            ;
        if (level <= h->s_max && u >= h->random_fraction) {
            if (h->fit_level != level || h->fit_count != h->obs[level].count) {
                h->fit_level = UINT32_MAX;
                if ((st = nas__density_fit(&h->model, &h->obs[level], h->gamma)) != NAS_OK)
                    return st;
                h->fit_level = level;
                h->fit_count = h->obs[level].count;
            }
            st = nas__density_propose(&h->model, rng, (uint32_t)h->n_candidates, &h->seen, arch, &found);
        }
    }
    if (!found && st == NAS_OK)
        st = nas__search_sample_fresh(self, &h->seen, h->max_retries, arch, &found);
    return st;
}

/* Hand out slot `next` of rung i of b as trial cand->trial_id. */
static nas_status_t hand_out(hb_t *h, bracket_t *b, uint32_t i, nas_candidate_t *cand)
{
    rung_t *r = &b->rung[i];
    nas_status_t st = nas__density_point_to_arch(&h->model, r->x + (size_t)r->next * h->nd, cand->arch);
    if (st != NAS_OK)
        return st;
    cand->fidelity = r->fidelity;
    h->pend[h->num_pend++] = (pend_t){ cand->trial_id, b->id, i, r->next };
    r->slot[r->next].state = SLOT_ASKED;
    r->slot[r->next].trial = cand->trial_id;
    r->next++;
    return NAS_OK;
}

static nas_status_t fill_rung0(nas_searcher_t *self, hb_t *h, bracket_t *b, nas_candidate_t *cand)
{
    rung_t *r = &b->rung[0];
    bool added;
    nas_status_t st;
    if (!rung_reserve(h, r, r->num + 1))
        return NAS_E_NOMEM;
    if ((st = new_config(self, h, cand->arch)) != NAS_OK ||
        (st = nas__u64set_insert(&h->seen, nas_arch_hash(cand->arch), &added)) != NAS_OK ||
        (st = nas__density_point_from_arch(&h->model, cand->arch, r->x + (size_t)r->num * h->nd)) != NAS_OK)
        return st;
    r->slot[r->num++] = (slot_t){ 0, NAN, SLOT_WAITING };
    r->full = r->num == r->planned;
    return hand_out(h, b, 0, cand);
}

static nas_status_t hb_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    hb_t *h = state;
    nas_status_t st;
    if (!nas__grow(h->ctx, (void **)&h->pend, &h->cap_pend, h->num_pend + 1, sizeof *h->pend))
        return nas__search_failed(self, NAS_E_NOMEM, "asking");
    for (uint32_t k = 0; k < h->num_br; k++) {
        bracket_t *b = &h->br[k];
        for (uint32_t i = b->s + 1; i-- > 0;)
            if (b->rung[i].next < b->rung[i].num)
                return (st = hand_out(h, b, i, cand)) == NAS_OK ? NAS_OK : nas__search_failed(self, st, "asking");
        if (!b->rung[0].full)
            return (st = fill_rung0(self, h, b, cand)) == NAS_OK ? NAS_OK : nas__search_failed(self, st, "asking");
    }
    if ((st = add_bracket(h, h->next_bracket)) != NAS_OK)
        return nas__search_failed(self, st, "starting a bracket");
    h->next_bracket++;
    st = fill_rung0(self, h, &h->br[h->num_br - 1], cand);
    return st == NAS_OK ? NAS_OK : nas__search_failed(self, st, "asking");
}

static uint32_t find_pend(const hb_t *h, uint64_t trial)
{
    uint32_t lo = 0, hi = h->num_pend;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (h->pend[mid].trial < trial)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->num_pend && h->pend[lo].trial == trial ? lo : h->num_pend;
}

static nas_status_t hb_tell(nas_searcher_t *self, void *state, const nas_candidate_t *cand, const nas_result_t *res)
{
    hb_t *h = state;
    uint32_t k = find_pend(h, cand->trial_id);
    bracket_t *b = NULL;
    for (uint32_t i = 0; k < h->num_pend && i < h->num_br && !b; i++)
        b = h->br[i].id == h->pend[k].bracket ? &h->br[i] : NULL;
    if (!b)
        return nas__search_fail(self, NAS_E_STATE, "trial %llu is not one of its outstanding trials",
                                (unsigned long long)cand->trial_id);
    pend_t p = h->pend[k];
    rung_t *r = &b->rung[p.rung];
    double score;
    nas_status_t st = nas_searcher_scores(self, res, &score, 1);
    if (st != NAS_OK)
        return st;
    score = isnan(score) ? -INFINITY : score;
    bool complete = r->full && r->told + 1 == r->num;
    /* Everything that can fail comes first, so a failed tell changes nothing. */
    if (complete && p.rung < b->s &&
        (!rung_reserve(h, &b->rung[p.rung + 1], b->rung[p.rung + 1].planned) ||
         !nas__grow(h->ctx, (void **)&h->rank, &h->cap_rank, r->num, sizeof *h->rank)))
        return nas__search_failed(self, NAS_E_NOMEM, "promoting");
    if (h->variant == VAR_BOHB &&
        (st = nas__obs_add(&h->obs[h->s_max - b->s + p.rung], r->x + (size_t)p.slot * h->nd, score)) != NAS_OK)
        return nas__search_failed(self, st, "recording a result");
    r->slot[p.slot].state = SLOT_TOLD;
    r->slot[p.slot].score = score;
    r->told++;
    memmove(&h->pend[k], &h->pend[k + 1], (h->num_pend - k - 1) * sizeof *h->pend);
    h->num_pend--;
    if (complete && promote(h, b, p.rung))
        remove_bracket(h, b);
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Save and load                                                           */

/*
 * State: the bracket counter, the rung-0 hashes, the active brackets (per rung: whether it is full,
 * then per configuration its point, state, trial id and score; outstanding trials are the slots in
 * state "asked", keyed by their trial ids), then BOHB's results per fidelity level.
 */
static nas_status_t hb_save(nas_searcher_t *self, void *state, nas_state_writer_t *w)
{
    (void)self;
    hb_t *h = state;
    nas_state_write_u64(w, h->next_bracket);
    nas_status_t st = nas__search_save_hashes(&h->seen, true, w);
    if (st != NAS_OK)
        return st;
    st = nas_state_write_u64(w, h->num_br);
    for (uint32_t k = 0; k < h->num_br; k++) {
        const bracket_t *b = &h->br[k];
        nas_state_write_u64(w, b->id);
        for (uint32_t i = 0; i <= b->s; i++) {
            const rung_t *r = &b->rung[i];
            nas_state_write_u64(w, r->full);
            st = nas_state_write_u64(w, r->num);
            for (uint32_t j = 0; j < r->num; j++) {
                nas_state_write_f64s(w, r->x + (size_t)j * h->nd, h->nd);
                nas_state_write_u64(w, r->slot[j].state);
                nas_state_write_u64(w, r->slot[j].trial);
                st = nas_state_write_f64(w, r->slot[j].score);
            }
        }
    }
    for (uint32_t l = 0; h->variant == VAR_BOHB && l <= h->s_max; l++)
        st = nas__obs_save(&h->obs[l], w);
    return st;
}

static nas_status_t load_rung(hb_t *h, rung_t *r, nas_state_reader_t *rd)
{
    uint64_t full, num, state, trial;
    nas_status_t st = nas_state_read_count(rd, 1, &full);
    if (st == NAS_OK)
        st = nas_state_read_count(rd, r->planned, &num);
    if (st == NAS_OK && num > nas_state_remaining(rd) / (8 * ((size_t)h->nd + 3)))
        st = NAS_E_CORRUPT;
    if (st != NAS_OK)
        return st;
    if (!rung_reserve(h, r, num ? (uint32_t)num : 1))
        return NAS_E_NOMEM;
    r->full = full != 0;
    for (uint32_t j = 0; j < num; j++) {
        double *x = r->x + (size_t)j * h->nd;
        slot_t *s = &r->slot[j];
        if ((st = nas_state_read_f64s(rd, x, h->nd)) != NAS_OK || (st = nas_state_read_count(rd, 2, &state)) != NAS_OK ||
            (st = nas_state_read_u64(rd, &trial)) != NAS_OK || (st = nas_state_read_f64(rd, &s->score)) != NAS_OK)
            return st;
        /* Handed out in order: the asked and told slots come first. */
        if (!nas__density_point_valid(&h->model, x) || (state != SLOT_WAITING && r->next != j))
            return NAS_E_CORRUPT;
        s->state = (uint32_t)state;
        s->trial = trial;
        s->score = state == SLOT_TOLD ? (isnan(s->score) ? -INFINITY : s->score) : NAN;
        r->next += state != SLOT_WAITING;
        r->told += state == SLOT_TOLD;
    }
    r->num = (uint32_t)num;
    return NAS_OK;
}

/* A loaded bracket must be one that ask and tell can have left behind. */
static bool bracket_consistent(const bracket_t *b, uint64_t prev_id, uint64_t next_bracket, bool first)
{
    if (b->id >= next_bracket || (!first && b->id <= prev_id))
        return false;
    for (uint32_t i = 0; i <= b->s; i++) {
        const rung_t *r = &b->rung[i];
        bool complete = r->full && r->told == r->num;
        if (i == 0 ? r->full != (r->num == r->planned) : !r->full && r->num != 0)
            return false;
        if (i == b->s ? complete : complete != (b->rung[i + 1].full && b->rung[i + 1].num > 0))
            return false;
    }
    return true;
}

static int cmp_pend(const void *a, const void *b)
{
    uint64_t x = ((const pend_t *)a)->trial, y = ((const pend_t *)b)->trial;
    return (x > y) - (x < y);
}

/* The outstanding trials from the slots in state "asked"; their ids must be distinct. */
static nas_status_t rebuild_pending(hb_t *h)
{
    for (uint32_t k = 0; k < h->num_br; k++)
        for (uint32_t i = 0; i <= h->br[k].s; i++)
            for (uint32_t j = 0; j < h->br[k].rung[i].num; j++) {
                if (h->br[k].rung[i].slot[j].state != SLOT_ASKED)
                    continue;
                if (!nas__grow(h->ctx, (void **)&h->pend, &h->cap_pend, h->num_pend + 1, sizeof *h->pend))
                    return NAS_E_NOMEM;
                h->pend[h->num_pend++] = (pend_t){ h->br[k].rung[i].slot[j].trial, h->br[k].id, i, j };
            }
    if (h->num_pend > 1)
        qsort(h->pend, h->num_pend, sizeof *h->pend, cmp_pend);
    for (uint32_t k = 1; k < h->num_pend; k++)
        if (h->pend[k].trial == h->pend[k - 1].trial)
            return NAS_E_CORRUPT;
    return NAS_OK;
}

static nas_status_t hb_load(nas_searcher_t *self, void *state, nas_state_reader_t *rd)
{
    hb_t *h = state;
    uint64_t num_br, id, prev = 0;
    nas_status_t st;
    if ((st = nas_state_read_u64(rd, &h->next_bracket)) != NAS_OK ||
        (st = nas__search_load_hashes(&h->seen, true, rd)) != NAS_OK ||
        (st = nas_state_read_count(rd, nas_state_remaining(rd) / 8, &num_br)) != NAS_OK)
        goto out;
    for (uint64_t k = 0; k < num_br; k++) {
        if ((st = nas_state_read_u64(rd, &id)) != NAS_OK || (st = add_bracket(h, id)) != NAS_OK)
            goto out;
        bracket_t *b = &h->br[h->num_br - 1];
        for (uint32_t i = 0; i <= b->s && st == NAS_OK; i++)
            st = load_rung(h, &b->rung[i], rd);
        if (st == NAS_OK && !bracket_consistent(b, prev, h->next_bracket, k == 0))
            st = NAS_E_CORRUPT;
        if (st != NAS_OK)
            goto out;
        prev = id;
    }
    for (uint32_t l = 0; h->variant == VAR_BOHB && l <= h->s_max && st == NAS_OK; l++)
        st = nas__obs_load(&h->obs[l], &h->model, rd);
    if (st == NAS_OK)
        st = rebuild_pending(h);
out:
    h->fit_level = UINT32_MAX;
    if (st == NAS_E_NOMEM)
        nas__search_failed(self, st, "loading the state");
    return st;
}

/* ---------------------------------------------------------------------- */
/* Life cycle                                                              */

static void hb_destroy(void *state)
{
    hb_t *h = state;
    if (!h)
        return;
    for (uint32_t k = 0; k < h->num_br; k++)
        free_bracket(h, &h->br[k]);
    nas__free(h->ctx, h->br);
    nas__free(h->ctx, h->pend);
    nas__free(h->ctx, h->rank);
    nas__u64set_free(&h->seen);
    for (uint32_t l = 0; h->obs && l <= h->s_max; l++)
        nas__obs_free(&h->obs[l]);
    nas__free(h->ctx, h->obs);
    nas__density_free(&h->model);
    nas__free(h->ctx, h);
}

static nas_status_t read_params(nas_searcher_t *self, hb_t *h, const nas_params_t *params, double *prior_weight)
{
    nas_status_t st;
    if ((st = nas__search_param_double(self, params, "min_fidelity", 1.0, 0.0, 1e9, 1, &h->min_fid)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "max_fidelity", fmax(27.0, h->min_fid), h->min_fid,
                                       fmin(1e9, h->min_fid * 1e6), 0, &h->max_fid)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "eta", 3.0, 1.5, 1000.0, 0, &h->eta)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "max_retries", 100, 1, 10000000, &h->max_retries)) != NAS_OK)
        return st;
    *prior_weight = 1.0;
    if (h->variant != VAR_BOHB)
        return NAS_OK;
    if ((st = nas__search_param_double(self, params, "gamma", 0.15, 0.0, 1.0, 3, &h->gamma)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "n_candidates", 64, 1, 100000, &h->n_candidates)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "random_fraction", 1.0 / 3.0, 0.0, 1.0, 0,
                                       &h->random_fraction)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "min_points_in_model", (int64_t)h->nd + 1, 2, 1000000,
                                    &h->min_points)) != NAS_OK)
        return st;
    return nas__search_param_double(self, params, "prior_weight", 1.0, 0.0, 1e6, 1, prior_weight);
}

static nas_status_t hb_create_variant(nas_searcher_t *self, const nas_params_t *params, void **state, int variant)
{
    nas_context_t *ctx = nas_searcher_context(self);
    nas_space_t *space = nas_searcher_space(self);
    hb_t *h = nas__calloc(ctx, 1, sizeof *h);
    if (!h)
        return NAS_E_NOMEM;
    h->ctx = ctx;
    h->variant = variant;
    h->nd = nas_space_num_dims(space);
    h->fit_level = UINT32_MAX;
    nas__u64set_init(&h->seen, ctx);
    *state = h;
    double prior_weight;
    nas_status_t st = read_params(self, h, params, &prior_weight);
    if (st != NAS_OK)
        return st;
    /* s_max = floor(log_eta R), with a little slack so R = 81, eta = 3 gives 4 whatever the rounding. */
    double R = h->max_fid / h->min_fid, p = 1.0;
    while (p * h->eta <= R * (1 + 1e-9)) {
        p *= h->eta;
        h->s_max++;
    }
    if ((st = nas__density_init(&h->model, space, prior_weight)) != NAS_OK)
        return st;
    if (variant == VAR_BOHB) {
        if (!(h->obs = nas__calloc(ctx, (size_t)h->s_max + 1, sizeof *h->obs)))
            return NAS_E_NOMEM;
        for (uint32_t l = 0; l <= h->s_max; l++)
            nas__obs_init(&h->obs[l], ctx, h->nd);
    }
    return NAS_OK;
}

static nas_status_t sh_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    return hb_create_variant(self, params, state, VAR_SH);
}

static nas_status_t hyperband_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    return hb_create_variant(self, params, state, VAR_HB);
}

static nas_status_t bohb_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    return hb_create_variant(self, params, state, VAR_BOHB);
}

#define HB_VTABLE(NAME, CREATE, DESC)                                                                          \
    {                                                                                                          \
        .abi_version = NAS_PLUGIN_ABI_VERSION, .struct_size = sizeof(nas_searcher_vtable_t), .name = NAME,     \
        .description = DESC, .create = CREATE, .destroy = hb_destroy, .ask = hb_ask, .tell = hb_tell,        \
        .user_data = NULL, .save = hb_save, .load = hb_load,                                                   \
    }

static const nas_searcher_vtable_t hb_vtables[] = {
    HB_VTABLE("sh", sh_create,
              "successive halving, repeated (params: min_fidelity, max_fidelity, eta, max_retries)"),
    HB_VTABLE("hyperband", hyperband_create,
              "Hyperband brackets of successive halving (params: min_fidelity, max_fidelity, eta, max_retries)"),
    HB_VTABLE("bohb", bohb_create,
              "Hyperband with TPE-sampled configurations (params: min_fidelity, max_fidelity, eta, max_retries, "
              "gamma, n_candidates, random_fraction, min_points_in_model, prior_weight)"),
};

nas_status_t nas__register_hyperband(nas_context_t *ctx)
{
    for (size_t i = 0; i < sizeof hb_vtables / sizeof hb_vtables[0]; i++) {
        nas_status_t st = nas_context_register_searcher(ctx, &hb_vtables[i]);
        if (st != NAS_OK)
            return st;
    }
    return NAS_OK;
}
