/* The TPE density model (see density.h): points, observations, fit, draws and the l/g ratio. */
#include "search/density.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DRAW_TRIES 64                      /* rejection draws from a truncated kernel before clamping */
#define INV_SQRT2 0.70710678118654752440
#define INV_SQRT2PI 0.39894228040143267794
#define TINY 1e-300                        /* floor of a density before its log */

static double to_model(const nas__ddim_t *d, double v)
{
    return d->log_scale ? log(v) : v;
}

static double from_model(const nas__ddim_t *d, double t)
{
    return d->log_scale ? exp(t) : t;
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Grow an array to hold `need` elements (doubling; false on overflow or no memory). */
static bool reserve(nas_context_t *ctx, void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return false;
        n *= 2;
    }
    if (n > SIZE_MAX / elem)
        return false;
    void *q = nas__realloc(ctx, *p, n * elem);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

/* ---------------------------------------------------------------------- */
/* Decisions and points                                                    */

nas_status_t nas__density_init(nas__density_t *m, nas_space_t *space, double prior_weight)
{
    memset(m, 0, sizeof *m);
    m->ctx = nas__space_context(space);
    m->space = space;
    m->num_dims = nas_space_num_dims(space);
    m->prior_weight = prior_weight;
    size_t n = m->num_dims ? m->num_dims : 1;
    m->dim = nas__calloc(m->ctx, n, sizeof *m->dim);
    m->kern_off = nas__calloc(m->ctx, 2 * n, sizeof *m->kern_off);
    m->kern_n = nas__calloc(m->ctx, 2 * n, sizeof *m->kern_n);
    if (!m->dim || !m->kern_off || !m->kern_n)
        return NAS_E_NOMEM;
    for (uint32_t d = 0; d < m->num_dims; d++) {
        nas_dim_info_t info = { .struct_size = sizeof info };
        nas_status_t st = nas_space_dim_info(space, d, &info);
        if (st != NAS_OK)
            return st;
        nas__ddim_t *dd = &m->dim[d];
        dd->kind = info.kind;
        dd->parent = info.parent < (int32_t)d ? info.parent : -1;   /* parents come first */
        dd->parent_min = info.parent_min;
        dd->num_choices = info.num_choices;
        dd->low = info.low;
        dd->high = info.high;
        dd->log_scale = info.log_scale && info.kind != NAS_DIM_CATEGORICAL && info.low > 0;
        if (info.kind == NAS_DIM_CATEGORICAL) {
            dd->cat_off = m->num_cat;
            m->num_cat += info.num_choices;
            dd->fixed = info.num_choices <= 1;
        } else if (info.kind == NAS_DIM_INT) {
            dd->fixed = info.num_choices <= 1;
            dd->tlo = to_model(dd, info.low - 0.5);
            dd->thi = to_model(dd, info.high + 0.5);
        } else {
            dd->fixed = !(info.high > info.low);
            dd->tlo = to_model(dd, info.low);
            dd->thi = to_model(dd, info.high);
        }
    }
    size_t nc = m->num_cat ? m->num_cat : 1;
    m->cat_cdf = nas__calloc(m->ctx, nc, sizeof *m->cat_cdf);
    m->cat_lr = nas__calloc(m->ctx, nc, sizeof *m->cat_lr);
    m->cat_cnt = nas__calloc(m->ctx, 2 * nc, sizeof *m->cat_cnt);
    return m->cat_cdf && m->cat_lr && m->cat_cnt ? NAS_OK : NAS_E_NOMEM;
}

void nas__density_free(nas__density_t *m)
{
    nas_context_t *ctx = m->ctx;
    if (!ctx)
        return;
    nas__free(ctx, m->dim);
    nas__free(ctx, m->kern_off);
    nas__free(ctx, m->kern_n);
    nas__free(ctx, m->cat_cdf);
    nas__free(ctx, m->cat_lr);
    nas__free(ctx, m->cat_cnt);
    nas__free(ctx, m->kern);
    nas__free(ctx, m->work);
    nas__free(ctx, m->cand);
    nas__free(ctx, m->cand_score);
    memset(m, 0, sizeof *m);
}

/* Whether decision d is active in x (as nas_arch_is_active: an inactive parent counts as choice 0). */
static bool active(const nas__density_t *m, const double *x, uint32_t d)
{
    const nas__ddim_t *dd = &m->dim[d];
    if (dd->parent < 0)
        return true;
    double p = x[dd->parent];
    return (isnan(p) ? 0.0 : p) >= (double)dd->parent_min;
}

nas_status_t nas__density_point_from_arch(const nas__density_t *m, const nas_arch_t *arch, double *x)
{
    for (uint32_t d = 0; d < m->num_dims; d++) {
        bool on;
        uint32_t c;
        nas_status_t st = nas_arch_is_active(arch, d, &on);
        if (st == NAS_OK && !on)
            x[d] = NAN;
        else if (st == NAS_OK && m->dim[d].kind == NAS_DIM_FLOAT)
            st = nas_arch_get_value(arch, d, &x[d]);
        else if (st == NAS_OK && (st = nas_arch_get(arch, d, &c)) == NAS_OK)
            x[d] = (double)c;
        if (st != NAS_OK)
            return st;
    }
    return NAS_OK;
}

nas_status_t nas__density_point_to_arch(const nas__density_t *m, const double *x, nas_arch_t *arch)
{
    for (uint32_t d = 0; d < m->num_dims; d++) {
        const nas__ddim_t *dd = &m->dim[d];
        nas_status_t st;
        if (dd->kind == NAS_DIM_FLOAT)
            st = nas_arch_set_value(arch, d, isnan(x[d]) ? dd->low : x[d]);
        else
            st = nas_arch_set(arch, d, isnan(x[d]) ? 0u : (uint32_t)x[d]);
        if (st != NAS_OK)
            return st;
    }
    return NAS_OK;
}

bool nas__density_point_valid(const nas__density_t *m, const double *x)
{
    for (uint32_t d = 0; d < m->num_dims; d++) {
        const nas__ddim_t *dd = &m->dim[d];
        double v = x[d];
        if (!active(m, x, d)) {
            if (!isnan(v))
                return false;
        } else if (dd->kind == NAS_DIM_FLOAT) {
            if (!(v >= dd->low && v <= dd->high))
                return false;
        } else if (!(v >= 0 && v < (double)dd->num_choices && v == floor(v))) {
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------------- */
/* Observations                                                            */

void nas__obs_init(nas__obs_t *o, nas_context_t *ctx, uint32_t num_dims)
{
    memset(o, 0, sizeof *o);
    o->ctx = ctx;
    o->num_dims = num_dims;
}

void nas__obs_free(nas__obs_t *o)
{
    if (!o->ctx)
        return;
    nas__free(o->ctx, o->x);
    nas__free(o->ctx, o->score);
    nas__free(o->ctx, o->order);
    nas__obs_init(o, o->ctx, o->num_dims);
}

nas_status_t nas__obs_add(nas__obs_t *o, const double *x, double score)
{
    if (o->count == o->cap) {
        size_t nd = o->num_dims ? o->num_dims : 1;
        uint32_t cap = o->cap ? 2 * o->cap : 16;
        if (o->cap > UINT32_MAX / 4 || (size_t)cap > SIZE_MAX / sizeof(double) / nd)
            return NAS_E_NOMEM;
        double *nx = nas__realloc(o->ctx, o->x, (size_t)cap * nd * sizeof *nx);
        if (!nx)
            return NAS_E_NOMEM;
        o->x = nx;
        double *ns = nas__realloc(o->ctx, o->score, (size_t)cap * sizeof *ns);
        if (!ns)
            return NAS_E_NOMEM;
        o->score = ns;
        uint32_t *order = nas__realloc(o->ctx, o->order, (size_t)cap * sizeof *order);
        if (!order)
            return NAS_E_NOMEM;
        o->order = order;
        o->cap = cap;
    }
    uint32_t i = o->count;
    if (o->num_dims)
        memcpy(o->x + (size_t)i * o->num_dims, x, o->num_dims * sizeof *x);
    o->score[i] = isnan(score) ? -INFINITY : score;
    /* After every observation with a score at least as good: ties keep their order. */
    uint32_t lo = 0, hi = o->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (o->score[o->order[mid]] >= o->score[i])
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(o->order + lo + 1, o->order + lo, (o->count - lo) * sizeof *o->order);
    o->order[lo] = i;
    o->count++;
    return NAS_OK;
}

nas_status_t nas__obs_save(const nas__obs_t *o, nas_state_writer_t *w)
{
    nas_status_t st = nas_state_write_u64(w, o->count);
    for (uint32_t i = 0; i < o->count; i++) {
        nas_state_write_f64s(w, o->x + (size_t)i * o->num_dims, o->num_dims);
        st = nas_state_write_f64(w, o->score[i]);
    }
    return st;
}

nas_status_t nas__obs_load(nas__obs_t *o, const nas__density_t *m, nas_state_reader_t *r)
{
    uint64_t count;
    size_t per = 8 * ((size_t)o->num_dims + 1);
    nas_status_t st = nas_state_read_count(r, nas_state_remaining(r) / per, &count);
    if (st != NAS_OK)
        return st;
    double *x = nas__malloc(o->ctx, (o->num_dims ? o->num_dims : 1) * sizeof *x);
    if (!x)
        return NAS_E_NOMEM;
    for (uint64_t i = 0; i < count && st == NAS_OK; i++) {
        double score;
        if ((st = nas_state_read_f64s(r, x, o->num_dims)) == NAS_OK && (st = nas_state_read_f64(r, &score)) == NAS_OK)
            st = nas__density_point_valid(m, x) ? nas__obs_add(o, x, score) : NAS_E_CORRUPT;
    }
    nas__free(o->ctx, x);
    return st;
}

/* ---------------------------------------------------------------------- */
/* Fit                                                                     */

/* Standard normal mass of [a, b], accurate in both tails. */
static double gauss_mass(double a, double b)
{
    if (a >= 0)
        return 0.5 * (erfc(a * INV_SQRT2) - erfc(b * INV_SQRT2));
    if (b <= 0)
        return 0.5 * (erfc(-b * INV_SQRT2) - erfc(-a * INV_SQRT2));
    return 1.0 - 0.5 * erfc(-a * INV_SQRT2) - 0.5 * erfc(b * INV_SQRT2);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Adaptive Parzen estimator over k sorted values (Bergstra et al. 2011) plus the prior kernel. */
static void parzen(const nas__ddim_t *dd, const double *v, uint32_t k, double prior_weight, nas__kernel_t *out)
{
    double range = dd->thi - dd->tlo, mid = 0.5 * (dd->tlo + dd->thi);
    uint32_t p = 0;
    while (p < k && v[p] < mid)
        p++;
    for (uint32_t j = 0; j <= k; j++)
        out[j].mu = j < p ? v[j] : j == p ? mid : v[j - 1];
    double minsig = range / fmin(100.0, 1.0 + k), total = k + prior_weight, cw = 0.0;
    for (uint32_t j = 0; j <= k; j++) {
        double s = range;
        if (j != p) {
            double left = j > 0 ? out[j].mu - out[j - 1].mu : out[1].mu - out[0].mu;
            double right = j < k ? out[j + 1].mu - out[j].mu : out[k].mu - out[k - 1].mu;
            s = clampd(fmax(left, right), minsig, range);
        }
        double w = (j == p ? prior_weight : 1.0) / total;
        double z = fmax(gauss_mass((dd->tlo - out[j].mu) / s, (dd->thi - out[j].mu) / s), TINY);
        cw += w;
        out[j].sigma = s;
        out[j].pdf = w * INV_SQRT2PI / (s * z);
        out[j].mass = w / z;
        out[j].cw = cw;
    }
    out[k].cw = 1.0;
}

/* Fit one numeric decision's l (side 0: ranks below n_good) or g (side 1). */
static void fit_numeric(nas__density_t *m, const nas__obs_t *o, uint32_t d, uint32_t n_good, int side, size_t *next)
{
    const nas__ddim_t *dd = &m->dim[d];
    uint32_t from = side ? n_good : 0, to = side ? o->count : n_good, k = 0;
    for (uint32_t r = from; r < to; r++) {
        double v = o->x[(size_t)o->order[r] * o->num_dims + d];
        if (!isnan(v))
            m->work[k++] = to_model(dd, dd->kind == NAS_DIM_INT ? dd->low + v : v);
    }
    qsort(m->work, k, sizeof *m->work, cmp_double);
    m->kern_off[2 * d + (uint32_t)side] = *next;
    m->kern_n[2 * d + (uint32_t)side] = k + 1;
    parzen(dd, m->work, k, m->prior_weight, m->kern + *next);
    *next += (size_t)k + 1;
}

static void fit_categorical(nas__density_t *m, const nas__ddim_t *dd)
{
    uint32_t K = dd->num_choices;
    double *good = m->cat_cnt + dd->cat_off, *bad = m->cat_cnt + m->num_cat + dd->cat_off;
    double ng = 0, nb = 0, pw = m->prior_weight, cdf = 0;
    for (uint32_t c = 0; c < K; c++) {
        ng += good[c];
        nb += bad[c];
    }
    for (uint32_t c = 0; c < K; c++) {
        double pl = (good[c] + pw / K) / (ng + pw), pg = (bad[c] + pw / K) / (nb + pw);
        cdf += pl;
        m->cat_cdf[dd->cat_off + c] = cdf;
        m->cat_lr[dd->cat_off + c] = log(pl) - log(pg);
    }
}

nas_status_t nas__density_fit(nas__density_t *m, const nas__obs_t *o, double gamma)
{
    uint32_t n = o->count, n_ok = 0, nd = m->num_dims, num_numeric = 0;
    while (n_ok < n && o->score[o->order[n_ok]] > -INFINITY)
        n_ok++;
    double want = ceil(gamma * n);
    uint32_t n_good = want < (double)n_ok ? (uint32_t)want : n_ok;
    for (uint32_t d = 0; d < nd; d++)
        num_numeric += m->dim[d].kind != NAS_DIM_CATEGORICAL && !m->dim[d].fixed;
    if (!reserve(m->ctx, (void **)&m->work, &m->work_cap, (size_t)n + 1, sizeof *m->work) ||
        !reserve(m->ctx, (void **)&m->kern, &m->kern_cap, (size_t)num_numeric * ((size_t)n + 2) + 1,
                 sizeof *m->kern))
        return NAS_E_NOMEM;
    memset(m->cat_cnt, 0, 2 * (m->num_cat ? m->num_cat : 1) * sizeof *m->cat_cnt);
    for (uint32_t r = 0; r < n; r++) {
        const double *x = o->x + (size_t)o->order[r] * nd;
        double *cnt = m->cat_cnt + (r < n_good ? 0 : m->num_cat);
        for (uint32_t d = 0; d < nd; d++)
            if (m->dim[d].kind == NAS_DIM_CATEGORICAL && !isnan(x[d]))
                cnt[m->dim[d].cat_off + (uint32_t)x[d]] += 1.0;
    }
    size_t next = 0;
    for (uint32_t d = 0; d < nd; d++) {
        const nas__ddim_t *dd = &m->dim[d];
        if (dd->fixed)
            continue;
        if (dd->kind == NAS_DIM_CATEGORICAL) {
            fit_categorical(m, dd);
        } else {
            fit_numeric(m, o, d, n_good, 0, &next);
            fit_numeric(m, o, d, n_good, 1, &next);
        }
    }
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Draws and scores                                                        */

static double mix_pdf(const nas__kernel_t *k, uint32_t n, double t)
{
    double s = 0.0;
    for (uint32_t j = 0; j < n; j++) {
        double z = (t - k[j].mu) / k[j].sigma;
        s += k[j].pdf * exp(-0.5 * z * z);
    }
    return s;
}

static double mix_mass(const nas__kernel_t *k, uint32_t n, double a, double b)
{
    double s = 0.0;
    for (uint32_t j = 0; j < n; j++)
        s += k[j].mass * gauss_mass((a - k[j].mu) / k[j].sigma, (b - k[j].mu) / k[j].sigma);
    return s;
}

/* log l(x) - log g(x) over the active, modelled decisions. */
static double log_ratio(const nas__density_t *m, const double *x)
{
    double s = 0.0;
    for (uint32_t d = 0; d < m->num_dims; d++) {
        const nas__ddim_t *dd = &m->dim[d];
        if (isnan(x[d]) || dd->fixed)
            continue;
        if (dd->kind == NAS_DIM_CATEGORICAL) {
            s += m->cat_lr[dd->cat_off + (uint32_t)x[d]];
            continue;
        }
        const nas__kernel_t *l = m->kern + m->kern_off[2 * d], *g = m->kern + m->kern_off[2 * d + 1];
        uint32_t nl = m->kern_n[2 * d], ng = m->kern_n[2 * d + 1];
        double pl, pg;
        if (dd->kind == NAS_DIM_INT) {
            double a = fmax(to_model(dd, dd->low + x[d] - 0.5), dd->tlo);
            double b = fmin(to_model(dd, dd->low + x[d] + 0.5), dd->thi);
            pl = mix_mass(l, nl, a, b);
            pg = mix_mass(g, ng, a, b);
        } else {
            double t = to_model(dd, x[d]);
            pl = mix_pdf(l, nl, t);
            pg = mix_pdf(g, ng, t);
        }
        s += log(fmax(pl, TINY)) - log(fmax(pg, TINY));
    }
    return s;
}

static double draw_numeric(const nas__density_t *m, uint32_t d, nas_rng_t *rng)
{
    const nas__ddim_t *dd = &m->dim[d];
    const nas__kernel_t *k = m->kern + m->kern_off[2 * d];
    uint32_t n = m->kern_n[2 * d], j = 0;
    double u = nas_rng_uniform(rng);
    while (j + 1 < n && u >= k[j].cw)
        j++;
    double t = k[j].mu;
    for (int i = 0; i < DRAW_TRIES; i++) {
        t = k[j].mu + k[j].sigma * nas_rng_normal(rng);
        if (t >= dd->tlo && t <= dd->thi)
            break;
    }
    double v = from_model(dd, clampd(t, dd->tlo, dd->thi));
    if (dd->kind == NAS_DIM_INT)
        return clampd(floor(v + 0.5) - dd->low, 0.0, (double)dd->num_choices - 1);
    v = clampd(v, dd->low, dd->high);
    return v == 0 ? 0.0 : v;
}

/* A point drawn from l, decision by decision (parents first, so activity is known). */
static void draw_point(const nas__density_t *m, nas_rng_t *rng, double *x)
{
    for (uint32_t d = 0; d < m->num_dims; d++) {
        const nas__ddim_t *dd = &m->dim[d];
        if (!active(m, x, d)) {
            x[d] = NAN;
        } else if (dd->fixed) {
            x[d] = dd->kind == NAS_DIM_FLOAT ? dd->low : 0.0;
        } else if (dd->kind == NAS_DIM_CATEGORICAL) {
            double u = nas_rng_uniform(rng);
            uint32_t c = 0;
            while (c + 1 < dd->num_choices && u >= m->cat_cdf[dd->cat_off + c])
                c++;
            x[d] = (double)c;
        } else {
            x[d] = draw_numeric(m, d, rng);
        }
    }
}

nas_status_t nas__density_propose(nas__density_t *m, nas_rng_t *rng, uint32_t n, const nas__u64set_t *seen,
                                  nas_arch_t *arch, bool *found)
{
    size_t nd = m->num_dims;
    *found = false;
    if (!reserve(m->ctx, (void **)&m->cand, &m->cand_cap, (size_t)n * (nd ? nd : 1), sizeof *m->cand) ||
        !reserve(m->ctx, (void **)&m->cand_score, &m->score_cap, n, sizeof *m->cand_score))
        return NAS_E_NOMEM;
    for (uint32_t c = 0; c < n; c++) {
        draw_point(m, rng, m->cand + c * nd);
        m->cand_score[c] = log_ratio(m, m->cand + c * nd);
    }
    for (;;) {
        uint32_t best = n;
        for (uint32_t c = 0; c < n; c++)
            if (!isnan(m->cand_score[c]) && (best == n || m->cand_score[c] > m->cand_score[best]))
                best = c;
        if (best == n)
            return NAS_OK;
        nas_status_t st = nas__density_point_to_arch(m, m->cand + best * nd, arch);
        if (st != NAS_OK)
            return st;
        if (!seen || !nas__u64set_has(seen, nas_arch_hash(arch))) {
            *found = true;
            return NAS_OK;
        }
        m->cand_score[best] = NAN;   /* proposed before: the next best */
    }
}
