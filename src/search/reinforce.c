/*
 * The "reinforce" strategy: a policy-gradient controller (Williams 1992) as used for NAS by
 * Zoph & Le (2017) and as the REINFORCE baseline of NAS-Bench-201.
 *
 * Policy (controller.c): one categorical step per active decision, in decision order.
 * CATEGORICAL decisions and INT decisions of at most SMALL_INT values are categoricals over their
 * options. Wider INT decisions and FLOAT decisions are cut into `bins` equal bins of their range
 * ([low, high + 1) for INT), log-spaced with log_scale: the policy picks a bin, then the value is
 * drawn uniformly (log-uniformly with log_scale) within it (INT: floored). Decisions with a single
 * value are not steps. A conditional decision is a step only when active, so inactive ones neither
 * are sampled nor count in the log-probability. controller=lstm puts an LSTM over the steps.
 *
 * Learning: the reward is the first objective's score (nas_searcher_scores: larger is better).
 * A failed or infeasible trial (score -inf), or one whose score is not finite, gets
 * `failure_reward`, by default the worst reward of a successful trial so far (0 before any).
 * The advantage is the reward minus a moving-average baseline taken before it is updated
 * (b <- decay b + (1 - decay) r; the first reward sets b, so its advantage is 0); with
 * normalize=true it is divided by the standard deviation of all rewards so far. Each tell adds the
 * gradient of -advantage * log pi(choices) - entropy * (entropy of the steps), recomputed under
 * the current policy from the choices stored for that trial id, so results may come back in any
 * order; every `batch` tells the mean gradient makes one Adam step.
 *
 * Repeats: with unique=true (the default) an arch already proposed is never proposed again. Up to
 * `max_retries` policy draws are made; then up to `max_retries` uniform draws (nas_space_sample);
 * then a finite space is scanned in grid order from a random index. Such a fallback point is
 * trained on as if the policy had drawn it (its bins read back from its values). Once a finite
 * space is used up, ask gives NAS_E_EXHAUSTED; an infinite one gives it when every draw repeats.
 * unique=false proposes every policy draw as it comes (the original algorithm; never exhausted).
 *
 * Parameters (defaults): controller (independent | lstm), hidden (32; lstm, 1..512), bins (8,
 * 2..256), lr (0.05 independent, 0.002 lstm; (0, 10]), baseline_decay (0.95, [0, 1)), entropy
 * (0, [0, 100]), batch (1, 1..1000000), normalize (false), failure_reward (see above; finite),
 * max_retries (100, 1..10000000), unique (true), temperature (1, > 0) and tanh_constant (0: none):
 * the controller's logits l become tanh_constant * tanh(l / temperature), or l / temperature (ENAS's
 * shaping, which keeps the policy from collapsing early). Adam: beta1 0.9, beta2 0.999, eps 1e-8.
 */
#include "search/search_internal.h"
#include "search/controller.h"

#include <math.h>
#include <string.h>

#define SMALL_INT 64
#define MAX_RETRIES 10000000
#define MAX_BATCH 1000000
#define STATE_TAG 0x314c524e52ull   /* "RNRL1" */
#define INIT_STREAM 0x4c53544d494e4954ull

enum { DIM_FIXED, DIM_CHOICE, DIM_BINS };

typedef struct rl_dim {
    int mode;
    bool is_int, log_scale;
    double low, high;     /* bounds of the value */
    double tlo, thi;      /* DIM_BINS: the binned range, in log space with log_scale */
} rl_dim_t;

typedef struct pending {
    uint64_t id;
    uint32_t *choice;     /* per decision: option or bin index, NAS__CTRL_NONE when not a step */
} pending_t;

typedef struct rl_state {
    nas_context_t *ctx;
    nas__ctrl_t ctrl;
    rl_dim_t *dims;
    uint32_t num_dims;
    nas_arch_t *tmpl;      /* nas_arch_create()'s arch: what draws start from */
    /* Parameters. */
    int kind;
    int64_t hidden, bins, batch, max_retries;
    double lr, decay, entropy, failure_reward;
    double temperature, tanh_c;   /* logit shaping of the controller (controller.h) */
    bool has_failure_reward, normalize, unique;
    /* Learning. */
    double baseline, worst, rmean, rm2;
    bool have_baseline, have_worst;
    uint64_t nrewards, nacc;
    /* Proposals. */
    nas__u64set_t seen;
    bool finite;
    uint64_t size, proposed;
    pending_t *pend;       /* outstanding trials; slots past num_pend keep their buffers for reuse */
    uint32_t num_pend, cap_pend;
} rl_state_t;

static void rl_destroy(void *state)
{
    rl_state_t *r = state;
    if (!r)
        return;
    nas_context_t *ctx = r->ctx;
    for (uint32_t i = 0; i < r->cap_pend; i++)
        nas__free(ctx, r->pend[i].choice);
    nas__free(ctx, r->pend);
    nas__u64set_free(&r->seen);
    nas_arch_destroy(r->tmpl);
    nas__ctrl_free(&r->ctrl);
    nas__free(ctx, r->dims);
    nas__free(ctx, r);
}

static nas_status_t read_params(nas_searcher_t *self, rl_state_t *r, const nas_params_t *params)
{
    const char *ctrl = "independent", *fr;
    nas_status_t st = nas_params_get_string(params, "controller", &ctrl);
    if (st != NAS_OK && st != NAS_E_NOT_FOUND)
        goto out_params;
    if (strcmp(ctrl, "independent") == 0) {
        r->kind = NAS__CTRL_INDEPENDENT;
    } else if (strcmp(ctrl, "lstm") == 0) {
        r->kind = NAS__CTRL_LSTM;
    } else {
        return nas__search_fail(self, NAS_E_INVAL,
                                "parameter 'controller' must be 'independent' or 'lstm' (got '%.100s')", ctrl);
    }
    st = nas_params_get_string(params, "failure_reward", &fr);
    if (st != NAS_OK && st != NAS_E_NOT_FOUND)
        goto out_params;
    r->has_failure_reward = st == NAS_OK;
    if ((st = nas_params_get_double(params, "failure_reward", 0.0, &r->failure_reward)) != NAS_OK)
        goto out_params;
    double lr_def = r->kind == NAS__CTRL_LSTM ? 0.002 : 0.05;
    if ((st = nas__search_param_int(self, params, "hidden", 32, 1, NAS__CTRL_MAX_HIDDEN, &r->hidden)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "bins", 8, 2, 256, &r->bins)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "batch", 1, 1, MAX_BATCH, &r->batch)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "max_retries", 100, 1, MAX_RETRIES, &r->max_retries)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "lr", lr_def, 0.0, 10.0, 1, &r->lr)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "baseline_decay", 0.95, 0.0, 1.0, 2, &r->decay)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "entropy", 0.0, 0.0, 100.0, 0, &r->entropy)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "temperature", 1.0, 0.0, 1e6, 1, &r->temperature)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "tanh_constant", 0.0, 0.0, 1e6, 0, &r->tanh_c)) != NAS_OK ||
        (st = nas__search_param_bool(self, params, "normalize", false, &r->normalize)) != NAS_OK ||
        (st = nas__search_param_bool(self, params, "unique", true, &r->unique)) != NAS_OK)
        return st;
    return NAS_OK;
out_params:
    nas_searcher_set_errmsg(self, nas_params_errmsg(params));
    return st;
}

/* How each decision is drawn, and its number of policy options (0: not a step). */
static nas_status_t setup_dims(nas_searcher_t *self, rl_state_t *r, uint32_t *ncat)
{
    nas_space_t *space = nas_searcher_space(self);
    for (uint32_t d = 0; d < r->num_dims; d++) {
        nas_dim_info_t info = { .struct_size = sizeof info };
        nas_status_t st = nas_space_dim_info(space, d, &info);
        if (st != NAS_OK)
            return st;
        rl_dim_t *x = &r->dims[d];
        x->is_int = info.kind == NAS_DIM_INT;
        x->log_scale = info.log_scale && info.low > 0.0;
        x->low = info.low;
        x->high = info.high;
        bool wide = info.kind == NAS_DIM_FLOAT || (x->is_int && info.num_choices > SMALL_INT);
        if (wide && x->low < x->high) {
            double hi = x->is_int ? x->high + 1.0 : x->high;
            x->mode = DIM_BINS;
            x->tlo = x->log_scale ? log(x->low) : x->low;
            x->thi = x->log_scale ? log(hi) : hi;
            ncat[d] = (uint32_t)r->bins;
        } else if (!wide && info.num_choices > 1) {
            x->mode = DIM_CHOICE;
            ncat[d] = info.num_choices;
        } else {
            x->mode = DIM_FIXED;
            ncat[d] = 0;
        }
    }
    return NAS_OK;
}

static nas_status_t rl_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas_searcher_context(self);
    nas_space_t *space = nas_searcher_space(self);
    rl_state_t *r = nas__calloc(ctx, 1, sizeof *r);
    if (!r)
        return NAS_E_NOMEM;
    r->ctx = ctx;
    nas__u64set_init(&r->seen, ctx);
    *state = r;
    nas_status_t st = read_params(self, r, params);
    if (st != NAS_OK)
        return st;
    r->num_dims = nas_space_num_dims(space);
    uint32_t *ncat = nas__calloc(ctx, r->num_dims ? r->num_dims : 1, sizeof *ncat);
    r->dims = nas__calloc(ctx, r->num_dims ? r->num_dims : 1, sizeof *r->dims);
    if (!ncat || !r->dims) {
        nas__free(ctx, ncat);
        nas_searcher_set_errmsg(self, "reinforce: out of memory");
        return NAS_E_NOMEM;
    }
    nas_rng_t *init = NULL;
    if ((st = setup_dims(self, r, ncat)) != NAS_OK || (st = nas_arch_create(&r->tmpl, space)) != NAS_OK ||
        (st = nas_rng_create(&init, ctx, nas__searcher_seed(self), INIT_STREAM)) != NAS_OK) {
        nas__free(ctx, ncat);
        nas_searcher_set_errmsg(self, "reinforce: cannot set up the decisions of the space");
        return st;
    }
    st = nas__ctrl_init(&r->ctrl, ctx, r->kind, r->num_dims, ncat, (uint32_t)r->hidden, init);
    r->ctrl.temperature = r->temperature;
    r->ctrl.tanh_c = r->tanh_c;
    nas_rng_destroy(init);
    nas__free(ctx, ncat);
    if (st != NAS_OK) {
        nas_searcher_set_errmsg(self, st == NAS_E_RANGE ? "reinforce: the controller would have more than 2^24 "
                                                          "parameters (fewer bins or a smaller hidden size)"
                                                        : "reinforce: out of memory creating the controller");
        return st;
    }
    r->size = r->unique ? nas__search_finite_size(space) : 0;
    r->finite = r->size > 0;
    nas__searcher_set_finite(self, r->finite);
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Drawing                                                                 */

/* Set decision d of arch to option or bin k (a value drawn within the bin). */
static nas_status_t put(const rl_state_t *r, nas_arch_t *arch, uint32_t d, uint32_t k, nas_rng_t *rng)
{
    const rl_dim_t *x = &r->dims[d];
    if (x->mode == DIM_CHOICE)
        return nas_arch_set(arch, d, k);
    double t = x->tlo + ((double)k + nas_rng_uniform(rng)) / (double)r->bins * (x->thi - x->tlo);
    double v = x->log_scale ? exp(t) : t;
    if (x->is_int)
        v = floor(v);
    v = v < x->low ? x->low : v > x->high ? x->high : v;
    return x->is_int ? nas_arch_set(arch, d, (uint32_t)(v - x->low)) : nas_arch_set_value(arch, d, v);
}

/* One draw of the policy into arch, its steps into choice. */
static nas_status_t draw(nas_searcher_t *self, rl_state_t *r, nas_arch_t *arch, uint32_t *choice)
{
    nas_rng_t *rng = nas_searcher_rng(self);
    nas_status_t st = nas_arch_copy(arch, r->tmpl);
    nas__ctrl_begin(&r->ctrl);
    for (uint32_t d = 0; d < r->num_dims && st == NAS_OK; d++) {
        bool active = false;
        choice[d] = NAS__CTRL_NONE;
        if (r->dims[d].mode == DIM_FIXED || (st = nas_arch_is_active(arch, d, &active)) != NAS_OK || !active)
            continue;
        choice[d] = nas__ctrl_sample(&r->ctrl, d, rng);
        st = put(r, arch, d, choice[d], rng);
    }
    return st == NAS_OK ? NAS_OK : nas__search_space_failed(self, st);
}

/* The steps that would have given arch (bins read back from the values). */
static nas_status_t read_back(nas_searcher_t *self, const rl_state_t *r, const nas_arch_t *arch, uint32_t *choice)
{
    nas_status_t st = NAS_OK;
    for (uint32_t d = 0; d < r->num_dims && st == NAS_OK; d++) {
        const rl_dim_t *x = &r->dims[d];
        bool active = false;
        choice[d] = NAS__CTRL_NONE;
        if (x->mode == DIM_FIXED || (st = nas_arch_is_active(arch, d, &active)) != NAS_OK || !active)
            continue;
        if (x->mode == DIM_CHOICE) {
            st = nas_arch_get(arch, d, &choice[d]);
            continue;
        }
        double v;
        if ((st = nas_arch_get_value(arch, d, &v)) != NAS_OK)
            break;
        double t = x->log_scale ? log(v) : v;
        double b = floor((t - x->tlo) / (x->thi - x->tlo) * (double)r->bins);
        choice[d] = b < 0.0 ? 0 : b >= (double)r->bins ? (uint32_t)r->bins - 1 : (uint32_t)b;
    }
    return st == NAS_OK ? NAS_OK : nas__search_space_failed(self, st);
}

/* Slot i of the outstanding trials, with its choice buffer (both made on first use); NULL without memory. */
static pending_t *pending_slot(rl_state_t *r, uint32_t i)
{
    uint32_t cap = r->cap_pend;
    if (!nas__grow(r->ctx, (void **)&r->pend, &r->cap_pend, i + 1, sizeof *r->pend))
        return NULL;
    for (uint32_t k = cap; k < r->cap_pend; k++)
        r->pend[k].choice = NULL;
    pending_t *p = &r->pend[i];
    if (!p->choice && !(p->choice = nas__calloc(r->ctx, r->num_dims ? r->num_dims : 1, sizeof *p->choice)))
        return NULL;
    return p;
}

/* An unproposed arch: policy draws, then uniform draws, then the scan; NAS_E_EXHAUSTED if none. */
static nas_status_t draw_unique(nas_searcher_t *self, rl_state_t *r, nas_arch_t *arch, uint32_t *choice)
{
    nas_status_t st;
    bool found = false;
    for (int64_t i = 0; i < r->max_retries; i++) {
        if ((st = draw(self, r, arch, choice)) != NAS_OK)
            return st;
        if (!nas__u64set_has(&r->seen, nas_arch_hash(arch)))
            return NAS_OK;
    }
    if ((st = nas__search_sample_fresh(self, &r->seen, r->max_retries, arch, &found)) != NAS_OK ||
        (!found && r->finite && (st = nas__search_scan_fresh(self, &r->seen, r->size, arch, &found)) != NAS_OK))
        return st;
    if (found)
        return read_back(self, r, arch, choice);
    return nas__search_fail(self, NAS_E_EXHAUSTED, "%lld draws in a row gave architectures proposed before",
                            (long long)r->max_retries);
}

static nas_status_t rl_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    rl_state_t *r = state;
    if (r->finite && r->proposed >= r->size)
        return nas__search_fail(self, NAS_E_EXHAUSTED, "all %llu architectures of the space have been proposed",
                                (unsigned long long)r->size);
    pending_t *p = pending_slot(r, r->num_pend);
    if (!p)
        return nas__search_fail(self, NAS_E_NOMEM, "out of memory");
    nas_status_t st = r->unique ? draw_unique(self, r, cand->arch, p->choice) : draw(self, r, cand->arch, p->choice);
    if (st == NAS_OK && r->unique)
        st = nas__search_remember(self, &r->seen, cand->arch);
    if (st != NAS_OK)
        return st;
    p->id = cand->trial_id;
    r->num_pend++;
    r->proposed++;
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Learning                                                                */

/* The advantage of a trial's score, updating the baseline and the reward statistics. */
static double advantage(rl_state_t *r, double score)
{
    double reward;
    if (isfinite(score)) {
        reward = score;
        if (!r->have_worst || score < r->worst)
            r->worst = score;
        r->have_worst = true;
    } else {
        reward = r->has_failure_reward ? r->failure_reward : r->have_worst ? r->worst : 0.0;
    }
    if (!r->have_baseline) {
        r->baseline = reward;
        r->have_baseline = true;
    }
    double adv = reward - r->baseline;
    r->baseline = r->decay * r->baseline + (1.0 - r->decay) * reward;
    /* Welford's running variance of the rewards. */
    r->nrewards++;
    double delta = reward - r->rmean;
    r->rmean += delta / (double)r->nrewards;
    r->rm2 += delta * (reward - r->rmean);
    if (r->normalize && r->nrewards >= 2) {
        double sd = sqrt(r->rm2 / (double)(r->nrewards - 1));
        if (sd > 1e-12)
            adv /= sd;
    }
    return adv;
}

static nas_status_t rl_tell(nas_searcher_t *self, void *state, const nas_candidate_t *cand,
                            const nas_result_t *res)
{
    rl_state_t *r = state;
    uint32_t i = 0;
    while (i < r->num_pend && r->pend[i].id != cand->trial_id)
        i++;
    if (i == r->num_pend) {
        nas_searcher_set_errmsg(self, "reinforce: told a trial it did not propose");
        return NAS_E_STATE;
    }
    double score;
    nas_status_t st = nas_searcher_scores(self, res, &score, 1);
    if (st != NAS_OK)
        return st;
    double adv = advantage(r, score);
    nas__ctrl_loss(&r->ctrl, r->pend[i].choice, adv, r->entropy, r->ctrl.grad);
    if (++r->nacc >= (uint64_t)r->batch) {
        nas__ctrl_adam(&r->ctrl, r->lr, 1.0 / (double)r->nacc);
        r->nacc = 0;
    }
    /* Keep the buffer: swap the told entry with the last outstanding one. */
    pending_t done = r->pend[i];
    r->pend[i] = r->pend[--r->num_pend];
    r->pend[r->num_pend] = done;
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Save and load                                                           */

static nas_status_t rl_save(nas_searcher_t *self, void *state, nas_state_writer_t *w)
{
    (void)self;
    rl_state_t *r = state;
    nas__ctrl_t *c = &r->ctrl;
    nas_state_write_u64(w, STATE_TAG);
    nas_state_write_u64(w, (uint64_t)r->kind);
    nas_state_write_u64(w, r->num_dims);
    nas_state_write_u64(w, c->num_params);
    nas_state_write_f64s(w, c->theta, c->num_params);
    nas_state_write_f64s(w, c->m, c->num_params);
    nas_state_write_f64s(w, c->v, c->num_params);
    nas_state_write_u64(w, c->adam_t);
    nas_state_write_u64(w, r->nacc);
    if (r->nacc)
        nas_state_write_f64s(w, c->grad, c->num_params);
    nas_state_write_u64(w, (uint64_t)r->have_baseline | (uint64_t)r->have_worst << 1);
    double stats[4] = { r->baseline, r->worst, r->rmean, r->rm2 };
    nas_state_write_f64s(w, stats, 4);
    nas_state_write_u64(w, r->nrewards);
    nas_state_write_u64(w, r->proposed);
    nas_state_write_u64(w, r->num_pend);
    for (uint32_t i = 0; i < r->num_pend; i++) {
        nas_state_write_u64(w, r->pend[i].id);
        for (uint32_t d = 0; d < r->num_dims; d++)
            nas_state_write_u64(w, r->pend[i].choice[d]);
    }
    return nas__search_save_hashes(&r->seen, false, w);
}

static bool all_finite(const double *v, size_t n, bool nonneg)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]) || (nonneg && v[i] < 0.0))
            return false;
    return true;
}

/* u64 fields that must be small; NAS_E_CORRUPT otherwise. */
static nas_status_t read_exact(nas_state_reader_t *rd, uint64_t want)
{
    uint64_t v;
    nas_status_t st = nas_state_read_u64(rd, &v);
    return st != NAS_OK ? st : v == want ? NAS_OK : NAS_E_CORRUPT;
}

static nas_status_t load_pending(rl_state_t *r, nas_state_reader_t *rd)
{
    uint64_t n, v;
    nas_status_t st = nas_state_read_count(rd, nas_state_remaining(rd) / 8 / ((uint64_t)r->num_dims + 1), &n);
    if (st != NAS_OK)
        return st;
    if (n > UINT32_MAX - 1)
        return NAS_E_CORRUPT;
    r->num_pend = 0;
    for (uint32_t i = 0; i < (uint32_t)n; i++) {
        pending_t *p = pending_slot(r, i);
        if (!p)
            return NAS_E_NOMEM;
        r->num_pend = i + 1;
        if ((st = nas_state_read_u64(rd, &p->id)) != NAS_OK)
            return st;
        for (uint32_t d = 0; d < r->num_dims; d++) {
            if ((st = nas_state_read_u64(rd, &v)) != NAS_OK)
                return st;
            if (v != NAS__CTRL_NONE && v >= r->ctrl.ncat[d])
                return NAS_E_CORRUPT;
            p->choice[d] = (uint32_t)v;
        }
    }
    return NAS_OK;
}

static nas_status_t rl_load(nas_searcher_t *self, void *state, nas_state_reader_t *rd)
{
    rl_state_t *r = state;
    nas__ctrl_t *c = &r->ctrl;
    uint64_t flags;
    nas_status_t st;
    if ((st = read_exact(rd, STATE_TAG)) != NAS_OK || (st = read_exact(rd, (uint64_t)r->kind)) != NAS_OK ||
        (st = read_exact(rd, r->num_dims)) != NAS_OK || (st = read_exact(rd, c->num_params)) != NAS_OK ||
        (st = nas_state_read_f64s(rd, c->theta, c->num_params)) != NAS_OK ||
        (st = nas_state_read_f64s(rd, c->m, c->num_params)) != NAS_OK ||
        (st = nas_state_read_f64s(rd, c->v, c->num_params)) != NAS_OK ||
        (st = nas_state_read_count(rd, 1ull << 62, &c->adam_t)) != NAS_OK ||
        (st = nas_state_read_count(rd, (uint64_t)r->batch - 1, &r->nacc)) != NAS_OK ||
        (r->nacc && (st = nas_state_read_f64s(rd, c->grad, c->num_params)) != NAS_OK) ||
        (st = nas_state_read_count(rd, 3, &flags)) != NAS_OK)
        return st;
    double stats[4];
    if ((st = nas_state_read_f64s(rd, stats, 4)) != NAS_OK || (st = nas_state_read_u64(rd, &r->nrewards)) != NAS_OK ||
        (st = nas_state_read_u64(rd, &r->proposed)) != NAS_OK)
        return st;
    if (!all_finite(c->theta, c->num_params, false) || !all_finite(c->m, c->num_params, false) ||
        !all_finite(c->v, c->num_params, true) || !all_finite(c->grad, c->num_params, false) ||
        !all_finite(stats, 3, false) || !all_finite(stats + 3, 1, true))
        return NAS_E_CORRUPT;
    nas__ctrl_invalidate(c);
    r->have_baseline = flags & 1;
    r->have_worst = flags & 2;
    r->baseline = stats[0];
    r->worst = stats[1];
    r->rmean = stats[2];
    r->rm2 = stats[3];
    if ((st = load_pending(r, rd)) == NAS_OK)
        st = nas__search_load_hashes(&r->seen, false, rd);
    return st == NAS_E_NOMEM ? nas__search_failed(self, st, "loading the state") : st;
}

static const nas_searcher_vtable_t reinforce_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "reinforce",
    .description = "policy-gradient controller, independent or LSTM (params: controller, hidden, bins, lr, "
                   "baseline_decay, entropy, batch, normalize, failure_reward, max_retries, unique)",
    .create = rl_create,
    .destroy = rl_destroy,
    .ask = rl_ask,
    .tell = rl_tell,
    .user_data = NULL,
    .save = rl_save,
    .load = rl_load,
};

nas_status_t nas__register_reinforce(nas_context_t *ctx)
{
    return nas_context_register_searcher(ctx, &reinforce_vtable);
}
