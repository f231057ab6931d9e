/*
 * The "local" strategy: local search over one-edit neighbourhoods, the baseline of White, Nolen,
 * Savani, "Exploring the Loss Landscape in Neural Architecture Search", UAI 2021 (NASLib's "ls").
 *
 * Start at a uniform sample. Its neighbours are every arch one edit away: each active decision set
 * to each of its other values (CATEGORICAL and INT with at most 16 values), or moved by -0.2,
 * -0.05, +0.05, +0.2 of its (log) range, clipped (FLOAT and wider INT). A decision switched on by
 * an edit of its parent takes its first value (nas_arch_set). The neighbours are visited in a
 * random order, at most `max_neighbours` of them. Once all are known, move to the best if it beats
 * the current arch (best improvement), else the current arch is a local optimum: restart from a
 * fresh sample (restart=true) or stop with NAS_E_EXHAUSTED. With first_improvement=true the move
 * happens as soon as one neighbour beats the current arch.
 *
 * Every arch asked is remembered (hash -> score, -inf for failed or infeasible trials): a
 * neighbour or start already evaluated is never asked again, its known score is used instead, and
 * one still outstanding from an earlier round counts for the current one when it arrives. An ask
 * that comes while the round waits for outstanding results (asks ahead of tells) gets a probe: an
 * unevaluated uniform sample, remembered like any result but moving nothing.
 *
 * Parameters: restart (bool, default true); max_neighbours (int in [0, 1000000], 0 = all,
 * default 0); first_improvement (bool, default false).
 */
#include "search/search_internal.h"

#include <math.h>
#include <string.h>

#define RETRIES 100           /* draws for a start or a probe */
#define MAX_RESTARTS 1000     /* restarts within one ask before giving up (a fully known space) */
#define MAX_NEIGHBOURS 1000000
#define NARROW_INT 16         /* INT decisions with more values are stepped like FLOAT ones */
#define NO_ROUND UINT64_MAX

static const double STEPS[4] = { -0.2, -0.05, 0.05, 0.2 };

enum { PHASE_START, PHASE_WAIT_START, PHASE_NEIGHBOURS, PHASE_DONE };

/* One neighbour: the current arch with decision `dim` set to `choice` (or `value` for FLOAT). */
typedef struct edit {
    uint32_t dim, choice;
    double value;
} edit_t;

/* An arch asked: its score (NaN while outstanding) and the round waiting for it. */
typedef struct known {
    uint64_t hash;
    double score;
    uint64_t round;
} known_t;

typedef struct local_state {
    nas_context_t *ctx;
    bool restart, first_improvement;
    uint32_t max_nb;                /* 0: all */
    nas_dim_info_t *dims;
    uint32_t num_dims;
    int phase;
    uint64_t round;                 /* one per start and per move */
    nas_arch_t *cur, *best, *tmp;   /* current arch; best neighbour so far in this round; scratch */
    double cur_score, best_score;
    bool has_best;
    edit_t *nb;                     /* neighbours of cur, in visiting order; room for nb_max */
    uint32_t nb_count, nb_max, nb_next;
    uint32_t round_pending;         /* neighbours of this round outstanding */
    known_t *known;                 /* in insertion order */
    uint32_t known_count, known_cap;
    uint32_t *slots;                /* open addressing: 0 empty, else index + 1 into known */
    uint32_t slot_cap;              /* power of two, > 2 * known_count */
} local_state_t;

static void local_destroy(void *state)
{
    local_state_t *l = state;
    if (!l)
        return;
    nas_arch_destroy(l->cur);
    nas_arch_destroy(l->best);
    nas_arch_destroy(l->tmp);
    nas__free(l->ctx, l->dims);
    nas__free(l->ctx, l->nb);
    nas__free(l->ctx, l->known);
    nas__free(l->ctx, l->slots);
    nas__free(l->ctx, l);
}

/* ---------------------------------------------------------------------- */
/* Known archs: hash -> entry, entries kept in insertion order             */

static uint32_t known_find(const local_state_t *l, uint64_t h)
{
    if (!l->slot_cap)
        return UINT32_MAX;
    for (uint32_t i = (uint32_t)nas__mix64(h) & (l->slot_cap - 1);; i = (i + 1) & (l->slot_cap - 1)) {
        uint32_t k = l->slots[i];
        if (!k)
            return UINT32_MAX;
        if (l->known[k - 1].hash == h)
            return k - 1;
    }
}

static void slot_put(local_state_t *l, uint32_t k)
{
    uint32_t i = (uint32_t)nas__mix64(l->known[k].hash) & (l->slot_cap - 1);
    while (l->slots[i])
        i = (i + 1) & (l->slot_cap - 1);
    l->slots[i] = k + 1;
}

/* Add a new hash (not present); returns its index or UINT32_MAX when out of memory. */
static uint32_t known_add(local_state_t *l, uint64_t h, double score, uint64_t round)
{
    if (l->known_count >= UINT32_MAX / 4 ||
        !nas__grow(l->ctx, (void **)&l->known, &l->known_cap, l->known_count + 1, sizeof *l->known))
        return UINT32_MAX;
    if (2 * (l->known_count + 1) >= l->slot_cap) {
        uint32_t cap = l->slot_cap ? 2 * l->slot_cap : 64;
        uint32_t *s = nas__calloc(l->ctx, cap, sizeof *s);
        if (!s)
            return UINT32_MAX;
        nas__free(l->ctx, l->slots);
        l->slots = s;
        l->slot_cap = cap;
        for (uint32_t k = 0; k < l->known_count; k++)
            slot_put(l, k);
    }
    uint32_t k = l->known_count++;
    l->known[k] = (known_t){ h, score, round };
    slot_put(l, k);
    return k;
}

/* ---------------------------------------------------------------------- */
/* Parameters and creation                                                 */

static bool stepped(const nas_dim_info_t *d)
{
    return d->kind == NAS_DIM_FLOAT || (d->kind == NAS_DIM_INT && d->num_choices > NARROW_INT);
}

/* Most neighbours decision d can contribute. */
static uint32_t max_edits(const nas_dim_info_t *d)
{
    if (stepped(d))
        return 4;
    return d->num_choices ? d->num_choices - 1 : 0;
}

static nas_status_t read_params(nas_searcher_t *self, local_state_t *l, const nas_params_t *params)
{
    nas_status_t st;
    int64_t cap;
    if ((st = nas__search_param_bool(self, params, "restart", true, &l->restart)) != NAS_OK ||
        (st = nas__search_param_bool(self, params, "first_improvement", false, &l->first_improvement)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "max_neighbours", 0, 0, MAX_NEIGHBOURS, &cap)) != NAS_OK)
        return st;
    l->max_nb = (uint32_t)cap;
    return NAS_OK;
}

static nas_status_t local_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas_searcher_context(self);
    nas_space_t *space = nas_searcher_space(self);
    local_state_t *l = nas__calloc(ctx, 1, sizeof *l);
    if (!l)
        return NAS_E_NOMEM;
    l->ctx = ctx;
    *state = l;
    nas_status_t st = read_params(self, l, params);
    if (st != NAS_OK)
        return st;
    l->num_dims = nas_space_num_dims(space);
    l->dims = nas__calloc(ctx, l->num_dims ? l->num_dims : 1, sizeof *l->dims);
    if (!l->dims || nas_arch_create(&l->cur, space) != NAS_OK || nas_arch_create(&l->best, space) != NAS_OK ||
        nas_arch_create(&l->tmp, space) != NAS_OK) {
        nas_searcher_set_errmsg(self, "out of memory creating the local search");
        return NAS_E_NOMEM;
    }
    uint64_t room = 0;
    for (uint32_t d = 0; d < l->num_dims; d++) {
        l->dims[d].struct_size = sizeof l->dims[d];
        if ((st = nas_space_dim_info(space, d, &l->dims[d])) != NAS_OK)
            return st;
        room += max_edits(&l->dims[d]);
    }
    /* Room for every neighbour once, so that moving never allocates (at most 4096 * 255 edits). */
    l->nb_max = (uint32_t)room;
    if (!(l->nb = nas__calloc(ctx, room ? (size_t)room : 1, sizeof *l->nb))) {
        nas_searcher_set_errmsg(self, "out of memory creating the local search");
        return NAS_E_NOMEM;
    }
    l->phase = PHASE_START;
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Neighbourhoods                                                          */

/* The stepped values of decision d around x, distinct from x and from each other. */
static void push_steps(local_state_t *l, uint32_t d, double x)
{
    const nas_dim_info_t *di = &l->dims[d];
    uint32_t first = l->nb_count;
    for (int k = 0; k < 4; k++) {
        double y;
        if (di->log_scale && di->low > 0)
            y = exp(log(x) + STEPS[k] * (log(di->high) - log(di->low)));
        else
            y = x + STEPS[k] * (di->high - di->low);
        if (di->kind == NAS_DIM_INT)
            y = floor(y + 0.5);
        y = y < di->low ? di->low : y > di->high ? di->high : y;
        if (y == 0)
            y = 0.0;   /* no -0: equal archs must hash equal */
        bool dup = y == x;
        for (uint32_t i = first; i < l->nb_count && !dup; i++)
            dup = l->nb[i].value == y;
        if (!dup)
            l->nb[l->nb_count++] = (edit_t){ d, di->kind == NAS_DIM_INT ? (uint32_t)(y - di->low) : 0, y };
    }
}

/*
 * Make cur = arch with the given score, list its neighbours (shuffled, capped) and start a new
 * round. Cannot fail: the list's room (every decision's most edits) was reserved at create.
 */
static void move_to(nas_searcher_t *self, local_state_t *l, const nas_arch_t *arch, double score)
{
    if (arch != l->cur)
        nas_arch_copy(l->cur, arch);
    l->cur_score = score;
    l->nb_count = l->nb_next = l->round_pending = 0;
    l->has_best = false;
    l->best_score = -INFINITY;
    l->round++;
    for (uint32_t d = 0; d < l->num_dims; d++) {
        const nas_dim_info_t *di = &l->dims[d];
        bool active = false;
        nas_arch_is_active(l->cur, d, &active);
        if (!active)
            continue;
        if (stepped(di)) {
            double x = 0;
            nas_arch_get_value(l->cur, d, &x);
            if (di->low < di->high)
                push_steps(l, d, x);
        } else {
            uint32_t c = 0;
            nas_arch_get(l->cur, d, &c);
            for (uint32_t v = 0; v < di->num_choices; v++)
                if (v != c)
                    l->nb[l->nb_count++] = (edit_t){ d, v, 0.0 };
        }
    }
    nas_rng_t *rng = nas_searcher_rng(self);
    for (uint32_t i = l->nb_count; i > 1; i--) {
        uint32_t j = (uint32_t)nas_rng_below(rng, i);
        edit_t t = l->nb[i - 1];
        l->nb[i - 1] = l->nb[j];
        l->nb[j] = t;
    }
    if (l->max_nb && l->nb_count > l->max_nb)
        l->nb_count = l->max_nb;
    l->phase = PHASE_NEIGHBOURS;
}

/* out = cur with edit e applied. */
static nas_status_t apply(const local_state_t *l, nas_arch_t *out, const edit_t *e)
{
    nas_status_t st = nas_arch_copy(out, l->cur);
    if (st != NAS_OK)
        return st;
    if (l->dims[e->dim].kind == NAS_DIM_FLOAT)
        return nas_arch_set_value(out, e->dim, e->value);
    return nas_arch_set(out, e->dim, e->choice);
}

/* A neighbour's score is known: keep the round's best, and move at once in first-improvement mode. */
static void consider(nas_searcher_t *self, local_state_t *l, const nas_arch_t *arch, double score)
{
    if (!l->has_best || score > l->best_score) {
        nas_arch_copy(l->best, arch);
        l->best_score = score;
        l->has_best = true;
    }
    if (l->first_improvement && score > l->cur_score)
        move_to(self, l, l->best, l->best_score);
}

/* ---------------------------------------------------------------------- */
/* Ask and tell                                                            */

static nas_status_t remember(nas_searcher_t *self, local_state_t *l, const nas_arch_t *arch, uint64_t round)
{
    if (known_add(l, nas_arch_hash(arch), NAN, round) == UINT32_MAX)
        return nas__search_failed(self, NAS_E_NOMEM, "remembering proposed architectures");
    return NAS_OK;
}

/* An unevaluated sample into out; NAS_E_EXHAUSTED when RETRIES draws all hit known archs. */
static nas_status_t probe(nas_searcher_t *self, local_state_t *l, nas_arch_t *out)
{
    for (int i = 0; i < RETRIES; i++) {
        nas_status_t st = nas_space_sample(nas_searcher_space(self), out, nas_searcher_rng(self));
        if (st != NAS_OK)
            return st;
        if (known_find(l, nas_arch_hash(out)) == UINT32_MAX)
            return remember(self, l, out, NO_ROUND);
    }
    return nas__search_fail(self, NAS_E_EXHAUSTED, "%d samples in a row were architectures asked before", RETRIES);
}

/*
 * Draw a start: an unasked one is proposed (*proposed = true); an evaluated one is adopted at once.
 * Outstanding ones are drawn again; when every draw is, a probe goes out instead.
 */
static nas_status_t start(nas_searcher_t *self, local_state_t *l, nas_arch_t *out, bool *proposed)
{
    for (int i = 0; i < RETRIES; i++) {
        nas_status_t st = nas_space_sample(nas_searcher_space(self), out, nas_searcher_rng(self));
        if (st != NAS_OK)
            return st;
        uint32_t k = known_find(l, nas_arch_hash(out));
        if (k == UINT32_MAX) {
            *proposed = true;
            if ((st = remember(self, l, out, l->round + 1)) != NAS_OK)
                return st;
            l->round++;
            l->phase = PHASE_WAIT_START;
            return NAS_OK;
        }
        if (!isnan(l->known[k].score)) {
            *proposed = false;
            move_to(self, l, out, l->known[k].score);
            return NAS_OK;
        }
    }
    *proposed = true;
    return probe(self, l, out);
}

/* Hand out the next unasked neighbour (*proposed = true), or use what is known and go on. */
static nas_status_t next_neighbour(nas_searcher_t *self, local_state_t *l, nas_arch_t *out, bool *proposed)
{
    *proposed = false;
    nas_status_t st = apply(l, out, &l->nb[l->nb_next]);
    if (st != NAS_OK)
        return st;
    uint32_t k = known_find(l, nas_arch_hash(out));
    if (k == UINT32_MAX) {
        *proposed = true;
        if ((st = remember(self, l, out, l->round)) != NAS_OK)
            return st;   /* the neighbour stays next */
        l->nb_next++;
        l->round_pending++;
        return NAS_OK;
    }
    l->nb_next++;
    if (isnan(l->known[k].score)) {   /* outstanding from earlier: its result will count here */
        if (l->known[k].round != l->round) {
            l->known[k].round = l->round;
            l->round_pending++;
        }
        return NAS_OK;
    }
    consider(self, l, out, l->known[k].score);
    return NAS_OK;
}

static nas_status_t local_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    local_state_t *l = state;
    nas_arch_t *out = cand->arch;
    nas_status_t st = NAS_OK;
    bool proposed = false;
    for (uint32_t restarts = 0; st == NAS_OK && !proposed;) {
        switch (l->phase) {
        case PHASE_START:
            if (restarts++ == MAX_RESTARTS) {
                proposed = true;
                st = probe(self, l, out);
            } else {
                st = start(self, l, out, &proposed);
            }
            break;
        case PHASE_WAIT_START:
            proposed = true;
            st = probe(self, l, out);
            break;
        case PHASE_NEIGHBOURS:
            if (l->nb_next < l->nb_count) {
                st = next_neighbour(self, l, out, &proposed);
            } else if (l->round_pending) {
                proposed = true;
                st = probe(self, l, out);
            } else if (l->has_best && l->best_score > l->cur_score) {
                move_to(self, l, l->best, l->best_score);
            } else {
                l->phase = l->restart ? PHASE_START : PHASE_DONE;
            }
            break;
        default:
            return nas__search_fail(self, NAS_E_EXHAUSTED, "reached a local optimum (restart=false)");
        }
    }
    if (st != NAS_OK && st != NAS_E_EXHAUSTED && st != NAS_E_NOMEM)
        return nas__search_space_failed(self, st);
    return st;
}

static nas_status_t local_tell(nas_searcher_t *self, void *state, const nas_candidate_t *cand,
                               const nas_result_t *res)
{
    local_state_t *l = state;
    double score;
    nas_status_t st = nas_searcher_scores(self, res, &score, 1);
    if (st != NAS_OK)
        return st;
    uint32_t k = known_find(l, nas_arch_hash(cand->arch));
    if (k == UINT32_MAX)
        return nas__search_fail(self, NAS_E_STATE, "told the result of an architecture it never asked");
    l->known[k].score = score;
    if (l->known[k].round != l->round)
        return NAS_OK;   /* a probe, or a neighbour of a round already left */
    l->known[k].round = NO_ROUND;
    if (l->phase == PHASE_WAIT_START) {
        move_to(self, l, cand->arch, score);
    } else if (l->phase == PHASE_NEIGHBOURS) {
        l->round_pending--;
        consider(self, l, cand->arch, score);
    }
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Save and load                                                           */

/*
 * State (no trial is outstanding): phase, round, current arch and score, the round's best
 * neighbour (flag, arch, score), the neighbour edits (dim, choice, value) and the next one to
 * visit, then the known archs (hash, score) in insertion order.
 */
static nas_status_t local_save(nas_searcher_t *self, void *state, nas_state_writer_t *w)
{
    (void)self;
    local_state_t *l = state;
    nas_state_write_u64(w, (uint64_t)l->phase);
    nas_state_write_u64(w, l->round);
    nas_state_write_arch(w, l->cur);
    nas_state_write_f64(w, l->cur_score);
    nas_state_write_u64(w, l->has_best);
    nas_state_write_arch(w, l->best);
    nas_state_write_f64(w, l->best_score);
    nas_state_write_u64(w, l->nb_count);
    for (uint32_t i = 0; i < l->nb_count; i++) {
        nas_state_write_u64(w, l->nb[i].dim);
        nas_state_write_u64(w, l->nb[i].choice);
        nas_state_write_f64(w, l->nb[i].value);
    }
    nas_state_write_u64(w, l->nb_next);
    nas_status_t st = nas_state_write_u64(w, l->known_count);
    for (uint32_t i = 0; i < l->known_count; i++) {
        nas_state_write_u64(w, l->known[i].hash);
        st = nas_state_write_f64(w, l->known[i].score);
    }
    return st;   /* a failed write makes every later one fail: the last status tells */
}

static nas_status_t load_edits(local_state_t *l, nas_state_reader_t *r)
{
    uint64_t n, dim, choice;
    nas_status_t st = nas_state_read_count(r, l->nb_max, &n);
    if (st != NAS_OK)
        return st;
    for (uint64_t i = 0; i < n; i++) {
        edit_t e;
        if ((st = nas_state_read_u64(r, &dim)) != NAS_OK || (st = nas_state_read_u64(r, &choice)) != NAS_OK ||
            (st = nas_state_read_f64(r, &e.value)) != NAS_OK)
            return st;
        if (dim >= l->num_dims || choice > UINT32_MAX)
            return NAS_E_CORRUPT;
        e.dim = (uint32_t)dim;
        e.choice = (uint32_t)choice;
        /* The edit must apply to the current arch (it checks ranges, activity and NaN). */
        if (apply(l, l->tmp, &e) != NAS_OK)
            return NAS_E_CORRUPT;
        l->nb[l->nb_count++] = e;
    }
    return NAS_OK;
}

static nas_status_t local_load(nas_searcher_t *self, void *state, nas_state_reader_t *r)
{
    local_state_t *l = state;
    uint64_t phase, has_best, next, n, h;
    nas_status_t st;
    if ((st = nas_state_read_count(r, PHASE_DONE, &phase)) != NAS_OK ||
        (st = nas_state_read_u64(r, &l->round)) != NAS_OK || (st = nas_state_read_arch(r, l->cur)) != NAS_OK ||
        (st = nas_state_read_f64(r, &l->cur_score)) != NAS_OK ||
        (st = nas_state_read_count(r, 1, &has_best)) != NAS_OK || (st = nas_state_read_arch(r, l->best)) != NAS_OK ||
        (st = nas_state_read_f64(r, &l->best_score)) != NAS_OK || (st = load_edits(l, r)) != NAS_OK ||
        (st = nas_state_read_count(r, l->nb_count, &next)) != NAS_OK ||
        (st = nas_state_read_count(r, nas_state_remaining(r) / 16, &n)) != NAS_OK)
        return st;
    /* Saved with nothing outstanding: never waiting for a start; the round is no id a known arch waits for. */
    if (phase == PHASE_WAIT_START || l->round == NO_ROUND || isnan(l->cur_score) || isnan(l->best_score))
        return NAS_E_CORRUPT;
    l->phase = (int)phase;
    l->has_best = has_best != 0;
    l->nb_next = (uint32_t)next;
    for (uint64_t i = 0; i < n; i++) {
        double score;
        if ((st = nas_state_read_u64(r, &h)) != NAS_OK || (st = nas_state_read_f64(r, &score)) != NAS_OK)
            return st;
        if (isnan(score) || known_find(l, h) != UINT32_MAX)
            return NAS_E_CORRUPT;
        if (known_add(l, h, score, NO_ROUND) == UINT32_MAX)
            return nas__search_failed(self, NAS_E_NOMEM, "loading the state");
    }
    return NAS_OK;
}

static const nas_searcher_vtable_t local_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "local",
    .description = "local search over one-edit neighbours with restarts (params: restart, max_neighbours, "
                   "first_improvement)",
    .create = local_create,
    .destroy = local_destroy,
    .ask = local_ask,
    .tell = local_tell,
    .user_data = NULL,
    .save = local_save,
    .load = local_load,
};

nas_status_t nas__register_local(nas_context_t *ctx)
{
    return nas_context_register_searcher(ctx, &local_vtable);
}
