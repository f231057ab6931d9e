/* The searcher handle: registry lookup, objectives, random stream, trial ids, outstanding trials. */
#include "search/search_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_OBJECTIVES 64
#define MAX_OBJECTIVES_TEXT 4096
#define DEFAULT_OBJECTIVES "accuracy:max"
/* Stream of the searcher's generator under its seed (trials will use their ids as streams). */
#define SEARCHER_STREAM 0x5345415243484552ull

typedef struct objective {
    char *name;
    bool maximize;
} objective_t;

/* A hard constraint: metric <= bound (le) or metric >= bound. */
typedef struct constraint {
    char *metric;
    bool le;
    double bound;
} constraint_t;

/* An asked, not yet told trial, with the hash of the arch it proposed. */
typedef struct pending {
    uint64_t id;
    uint64_t hash;
} pending_t;

struct nas_searcher {
    nas_context_t *ctx;
    nas_space_t *space;
    nas_searcher_vtable_t vt;   /* copy of the registry entry (the registry may move) */
    char *name;
    void *state;
    bool created;               /* vt.create succeeded: destroy is owed */
    nas_rng_t *rng;
    uint64_t seed;
    objective_t *obj;
    uint32_t num_obj;
    constraint_t *con;
    uint32_t num_con;
    bool broken;                /* a load failed half-way: the state is not usable */
    uint64_t next_trial;
    pending_t *pending;         /* sorted by id (ids are handed out in increasing order) */
    uint32_t num_pending, cap_pending;
    bool finite;
    char errmsg[NAS_ERRMSG_CAP];
};

/* ---------------------------------------------------------------------- */
/* Objectives                                                              */

static const char *trim(const char *s, const char *end, const char **tend)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *tend = end;
    return s;
}

static bool valid_objective_name(const char *s, size_t n)
{
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static nas_status_t parse_objectives(nas_searcher_t *s, const char *text)
{
    nas_context_t *ctx = s->ctx;
    if (strlen(text) > MAX_OBJECTIVES_TEXT)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "objectives: longer than %d bytes", MAX_OBJECTIVES_TEXT);
    uint32_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    if (n > MAX_OBJECTIVES)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "objectives '%s': more than %d objectives", text, MAX_OBJECTIVES);
    s->obj = nas__calloc(ctx, n, sizeof *s->obj);
    if (!s->obj)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory parsing objectives");
    const char *p = text;
    for (uint32_t i = 0; i < n; i++) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *colon = NULL;
        for (const char *q = p; q < end; q++)
            if (*q == ':')
                colon = q;
        const char *tend, *name = trim(p, colon ? colon : end, &tend);
        size_t nlen = (size_t)(tend - name);
        if (!colon)
            return nas__ctx_fail(ctx, NAS_E_INVAL,
                                 "objectives '%s': objective %u ('%.*s') has no direction; write NAME:max or NAME:min",
                                 text, (unsigned)i + 1, (int)(end - p), p);
        const char *dend, *dir = trim(colon + 1, end, &dend);
        size_t dlen = (size_t)(dend - dir);
        bool max;
        if (dlen == 3 && memcmp(dir, "max", 3) == 0)
            max = true;
        else if (dlen == 3 && memcmp(dir, "min", 3) == 0)
            max = false;
        else
            return nas__ctx_fail(ctx, NAS_E_INVAL, "objectives '%s': direction '%.*s' of objective %u is not max or min",
                                 text, (int)dlen, dir, (unsigned)i + 1);
        if (!valid_objective_name(name, nlen) || memchr(name, ':', nlen))
            return nas__ctx_fail(ctx, NAS_E_INVAL, "objectives '%s': objective %u has an empty or invalid metric name",
                                 text, (unsigned)i + 1);
        for (uint32_t j = 0; j < i; j++)
            if (strlen(s->obj[j].name) == nlen && memcmp(s->obj[j].name, name, nlen) == 0)
                return nas__ctx_fail(ctx, NAS_E_INVAL, "objectives '%s': metric '%.*s' appears twice", text,
                                     (int)nlen, name);
        if (!(s->obj[i].name = nas__strndup(ctx, name, nlen)))
            return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory parsing objectives");
        s->obj[i].maximize = max;
        s->num_obj = i + 1;
        p = end + (comma ? 1 : 0);
    }
    return NAS_OK;
}

/* "m<=X,m>=Y": one constraint per comma-separated item. */
static nas_status_t parse_constraints(nas_searcher_t *s, const char *text)
{
    nas_context_t *ctx = s->ctx;
    if (strlen(text) > MAX_OBJECTIVES_TEXT)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "constraints: longer than %d bytes", MAX_OBJECTIVES_TEXT);
    const char *tend, *all = trim(text, text + strlen(text), &tend);
    if (all == tend)
        return NAS_OK;
    uint32_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    if (n > MAX_OBJECTIVES)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "constraints '%s': more than %d constraints", text, MAX_OBJECTIVES);
    if (!(s->con = nas__calloc(ctx, n, sizeof *s->con)))
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory parsing constraints");
    const char *p = text;
    for (uint32_t i = 0; i < n; i++) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *op = NULL;
        for (const char *q = p; q + 1 < end && !op; q++)
            if ((q[0] == '<' || q[0] == '>') && q[1] == '=')
                op = q;
        if (!op)
            return nas__ctx_fail(ctx, NAS_E_INVAL, "constraints '%s': item %u ('%.*s') is not METRIC<=VALUE or "
                                 "METRIC>=VALUE", text, (unsigned)i + 1, (int)(end - p), p);
        const char *nend, *name = trim(p, op, &nend);
        size_t nlen = (size_t)(nend - name);
        if (!valid_objective_name(name, nlen))
            return nas__ctx_fail(ctx, NAS_E_INVAL, "constraints '%s': item %u has an empty or invalid metric name",
                                 text, (unsigned)i + 1);
        const char *vend, *val = trim(op + 2, end, &vend);
        char num[64];
        size_t vlen = (size_t)(vend - val);
        char *stop = NULL;
        double bound = NAN;
        if (vlen > 0 && vlen < sizeof num) {
            memcpy(num, val, vlen);
            num[vlen] = '\0';
            bound = nas__strtod(num, &stop);
        }
        if (!stop || *stop || !isfinite(bound))
            return nas__ctx_fail(ctx, NAS_E_INVAL, "constraints '%s': bound '%.*s' of item %u is not a finite number",
                                 text, (int)vlen, val, (unsigned)i + 1);
        if (!(s->con[i].metric = nas__strndup(ctx, name, nlen)))
            return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory parsing constraints");
        s->con[i].le = op[0] == '<';
        s->con[i].bound = bound;
        s->num_con = i + 1;
        p = end + (comma ? 1 : 0);
    }
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Life cycle                                                              */

static void free_searcher(nas_searcher_t *s)
{
    nas_context_t *ctx = s->ctx;
    if (s->obj) {
        for (uint32_t i = 0; i < s->num_obj; i++)
            nas__free(ctx, s->obj[i].name);
        nas__free(ctx, s->obj);
    }
    if (s->con) {
        for (uint32_t i = 0; i < s->num_con; i++)
            nas__free(ctx, s->con[i].metric);
        nas__free(ctx, s->con);
    }
    nas__free(ctx, s->pending);
    nas_rng_destroy(s->rng);
    nas__free(ctx, s->name);
    nas__free(ctx, s);
}

/* Copy the strategy's message (or a default) into the context's, prefixed with the strategy name. */
static nas_status_t strategy_failed(nas_searcher_t *s, nas_status_t st, const char *what)
{
    if (s->errmsg[0])
        return nas__ctx_fail(s->ctx, st, "searcher '%s': %s", s->name, s->errmsg);
    return nas__ctx_fail(s->ctx, st, "searcher '%s': %s failed (%s)", s->name, what, nas_status_str(st));
}

nas_status_t nas_searcher_create(nas_searcher_t **out, nas_space_t *space, const char *name,
                                 const nas_params_t *params, const nas_searcher_opts_t *opts)
{
    if (!out)
        return space ? nas__ctx_fail(nas__space_context(space), NAS_E_INVAL, "nas_searcher_create: out is NULL") : NAS_E_INVAL;
    *out = NULL;
    if (!space)
        return NAS_E_INVAL;
    nas_context_t *ctx = nas__space_context(space);
    if (!nas__space_is_built(space))
        return nas__ctx_fail(ctx, NAS_E_STATE, "nas_searcher_create: the space is not built");
    if (!name)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_searcher_create: name is NULL");
    const struct nas__searcher_entry *e = nas__find_searcher(ctx, name);
    if (!e)
        return nas__ctx_fail(ctx, NAS_E_NOT_FOUND, "no searcher named '%s' is registered", name);
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    if (opts && !nas__copy_opts(&o, sizeof o, opts, opts->struct_size))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_searcher_create: opts->struct_size %zu is too small",
                             opts->struct_size);

    nas_searcher_t *s = nas__calloc(ctx, 1, sizeof *s);
    if (!s)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating searcher '%s'", name);
    s->ctx = ctx;
    s->space = space;
    s->vt = e->vt;
    s->seed = o.seed ? o.seed : nas_context_seed(ctx);
    nas_status_t st;
    if (!(s->name = nas__strdup(ctx, e->name))) {
        st = nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating searcher '%s'", name);
        goto out_free;
    }
    s->vt.name = s->name;
    s->vt.description = NULL;   /* owned by the registry; not needed here */
    if ((st = parse_objectives(s, o.objectives ? o.objectives : DEFAULT_OBJECTIVES)) != NAS_OK ||
        (o.constraints && (st = parse_constraints(s, o.constraints)) != NAS_OK))
        goto out_free;
    if ((st = nas_rng_create(&s->rng, ctx, s->seed, SEARCHER_STREAM)) != NAS_OK)
        goto out_free;

    nas__params_reset_used(params);
    void *state = NULL;
    st = s->vt.create(s, params, &state);
    s->state = state;
    if (st != NAS_OK) {
        strategy_failed(s, st, "create");
        goto out_destroy_state;
    }
    s->created = true;
    char who[160];
    snprintf(who, sizeof who, "searcher '%s'", s->name);
    if ((st = nas__params_check_unused(params, ctx->errmsg, who)) != NAS_OK)
        goto out_destroy_state;
    *out = s;
    return NAS_OK;

out_destroy_state:
    if (s->created || s->state)
        s->vt.destroy(s->state);
out_free:
    free_searcher(s);
    return st;
}

void nas_searcher_destroy(nas_searcher_t *s)
{
    if (!s)
        return;
    if (s->created)
        s->vt.destroy(s->state);
    free_searcher(s);
}

const char *nas_searcher_errmsg(const nas_searcher_t *s)
{
    return s ? s->errmsg : "";
}

const char *nas_searcher_name(const nas_searcher_t *s)
{
    return s ? s->name : "";
}

/* ---------------------------------------------------------------------- */
/* Ask and tell                                                            */

static nas_status_t check_candidate(nas_searcher_t *s, const nas_candidate_t *cand, const char *fn)
{
    if (!cand)
        return nas__fail(s->errmsg, NAS_E_INVAL, "%s: candidate is NULL", fn);
    if (cand->struct_size < sizeof *cand)
        return nas__fail(s->errmsg, NAS_E_INVAL, "%s: candidate struct_size %zu is smaller than %zu (use NAS_CANDIDATE_INIT)",
                         fn, cand->struct_size, sizeof *cand);
    if (!cand->arch)
        return nas__fail(s->errmsg, NAS_E_INVAL, "%s: candidate arch is NULL (create it with nas_arch_create)", fn);
    if (nas_arch_space(cand->arch) != s->space)
        return nas__fail(s->errmsg, NAS_E_INVAL, "%s: the candidate's arch belongs to another space", fn);
    return NAS_OK;
}

/* Index of trial `id` among the outstanding ones, or num_pending. */
static uint32_t find_pending(const nas_searcher_t *s, uint64_t id)
{
    uint32_t lo = 0, hi = s->num_pending;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->pending[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->num_pending && s->pending[lo].id == id ? lo : s->num_pending;
}

nas_status_t nas_searcher_ask(nas_searcher_t *s, nas_candidate_t *cand)
{
    if (!s)
        return NAS_E_INVAL;
    nas_status_t st = check_candidate(s, cand, "nas_searcher_ask");
    if (st != NAS_OK)
        return st;
    if (s->broken)
        return nas__fail(s->errmsg, NAS_E_STATE, "searcher '%s': a failed load left it unusable", s->name);
    /* Room for the new outstanding trial first: once the strategy has proposed, recording cannot fail. */
    if (!nas__grow(s->ctx, (void **)&s->pending, &s->cap_pending, s->num_pending + 1, sizeof *s->pending))
        return nas__fail(s->errmsg, NAS_E_NOMEM, "out of memory: %u outstanding trials", (unsigned)s->num_pending);
    cand->trial_id = s->next_trial;
    cand->fidelity = 0.0;
    s->errmsg[0] = '\0';
    st = s->vt.ask(s, s->state, cand);
    if (st == NAS_E_EXHAUSTED) {
        if (!s->errmsg[0])
            nas__fail(s->errmsg, st, "searcher '%s' has nothing more to propose", s->name);
        return st;
    }
    if (st != NAS_OK) {
        if (!s->errmsg[0])
            nas__fail(s->errmsg, st, "searcher '%s': ask failed (%s)", s->name, nas_status_str(st));
        return st;
    }
    if (!isfinite(cand->fidelity) || cand->fidelity < 0.0)
        return nas__fail(s->errmsg, NAS_E_CALLBACK, "searcher '%s' proposed fidelity %g (must be finite and >= 0)",
                         s->name, cand->fidelity);
    cand->trial_id = s->next_trial;   /* whatever the strategy did to it */
    s->pending[s->num_pending++] = (pending_t){ s->next_trial, nas_arch_hash(cand->arch) };
    s->next_trial++;
    return NAS_OK;
}

nas_status_t nas_searcher_tell(nas_searcher_t *s, const nas_candidate_t *cand, const nas_result_t *res)
{
    if (!s)
        return NAS_E_INVAL;
    nas_status_t st = check_candidate(s, cand, "nas_searcher_tell");
    if (st != NAS_OK)
        return st;
    if (!res)
        return nas__fail(s->errmsg, NAS_E_INVAL, "nas_searcher_tell: result is NULL");
    uint32_t i = find_pending(s, cand->trial_id);
    if (i == s->num_pending)
        return nas__fail(s->errmsg, NAS_E_STATE, "trial %llu is not outstanding (%s)",
                         (unsigned long long)cand->trial_id,
                         cand->trial_id < s->next_trial ? "already told" : "never asked");
    if (s->pending[i].hash != nas_arch_hash(cand->arch))
        return nas__fail(s->errmsg, NAS_E_INVAL, "trial %llu: the candidate's arch differs from the one proposed",
                         (unsigned long long)cand->trial_id);
    s->errmsg[0] = '\0';
    st = s->vt.tell(s, s->state, cand, res);
    if (st != NAS_OK) {
        /* The trial stays outstanding, so the caller may tell it again. */
        if (!s->errmsg[0])
            nas__fail(s->errmsg, st, "searcher '%s': tell failed (%s)", s->name, nas_status_str(st));
        return st;
    }
    memmove(&s->pending[i], &s->pending[i + 1], (s->num_pending - i - 1) * sizeof *s->pending);
    s->num_pending--;
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Accessors                                                               */

nas_space_t *nas_searcher_space(const nas_searcher_t *s)
{
    return s ? s->space : NULL;
}

nas_context_t *nas_searcher_context(const nas_searcher_t *s)
{
    return s ? s->ctx : NULL;
}

nas_rng_t *nas_searcher_rng(const nas_searcher_t *s)
{
    return s ? s->rng : NULL;
}

void nas_searcher_set_errmsg(nas_searcher_t *s, const char *message)
{
    if (s)
        nas__fail(s->errmsg, NAS_OK, "%s", message ? message : "");
}

void *nas_searcher_user_data(const nas_searcher_t *s)
{
    return s ? s->vt.user_data : NULL;
}

uint32_t nas_searcher_num_objectives(const nas_searcher_t *s)
{
    return s ? s->num_obj : 0;
}

nas_status_t nas_searcher_objective(const nas_searcher_t *s, uint32_t i, const char **name, bool *maximize)
{
    if (!s)
        return NAS_E_INVAL;
    if (i >= s->num_obj)
        return nas__fail(((nas_searcher_t *)s)->errmsg, NAS_E_RANGE, "objective %u past the end (%u)", (unsigned)i,
                         (unsigned)s->num_obj);
    if (name)
        *name = s->obj[i].name;
    if (maximize)
        *maximize = s->obj[i].maximize;
    return NAS_OK;
}

nas_status_t nas_searcher_scores(const nas_searcher_t *s, const nas_result_t *res, double *out, uint32_t n)
{
    if (!s)
        return NAS_E_INVAL;
    if (!res || !out || n == 0)
        return nas__fail(((nas_searcher_t *)s)->errmsg, NAS_E_INVAL, "nas_searcher_scores: NULL result or output");
    bool ok = nas__searcher_feasible(s, res);
    for (uint32_t i = 0; i < n; i++) {
        double v = -INFINITY;
        if (ok && i < s->num_obj && nas_result_get_metric(res, s->obj[i].name, &v) == NAS_OK && !isnan(v))
            v = s->obj[i].maximize ? v : -v;
        else
            v = -INFINITY;
        out[i] = v;
    }
    return NAS_OK;
}

static bool constraint_value(const nas_searcher_t *s, uint32_t i, const nas_result_t *res, double *excess)
{
    double v;
    if (nas_result_get_metric(res, s->con[i].metric, &v) != NAS_OK || isnan(v))
        return false;
    double d = s->con[i].le ? v - s->con[i].bound : s->con[i].bound - v;
    *excess = d > 0.0 ? d / fmax(fabs(s->con[i].bound), 1.0) : 0.0;
    return true;
}

double nas_searcher_violation(const nas_searcher_t *s, const nas_result_t *res)
{
    if (!s || !res || nas_result_status(res) != NAS_OK)
        return INFINITY;
    double sum = 0.0;
    for (uint32_t i = 0; i < s->num_con; i++) {
        double e;
        if (!constraint_value(s, i, res, &e))
            return INFINITY;
        sum += e;
    }
    return sum;
}

uint32_t nas_searcher_num_constraints(const nas_searcher_t *s)
{
    return s ? s->num_con : 0;
}

bool nas__searcher_feasible(const nas_searcher_t *s, const nas_result_t *res)
{
    return nas_searcher_violation(s, res) == 0.0;
}

void nas__searcher_constraints_string(const nas_searcher_t *s, nas__sb_t *sb)
{
    for (uint32_t i = 0; i < s->num_con; i++) {
        if (i)
            nas__sb_putc(sb, ',');
        nas__sb_puts(sb, s->con[i].metric);
        nas__sb_puts(sb, s->con[i].le ? "<=" : ">=");
        nas__sb_double(sb, s->con[i].bound);
    }
}

/* ---------------------------------------------------------------------- */
/* Save and load                                                           */

#define STATE_MAGIC "NASSRCH1"
#define STATE_VERSION 1u

bool nas_searcher_can_save(const nas_searcher_t *s)
{
    return s && s->vt.save && s->vt.load;
}

uint64_t nas_searcher_num_asked(const nas_searcher_t *s)
{
    return s ? s->next_trial : 0;
}

/* The setup a state must match: strategy, seed, objectives, constraints, space. */
static void write_setup(const nas_searcher_t *s, nas_state_writer_t *w)
{
    nas_state_write_str(w, s->name);
    nas_state_write_u64(w, s->seed);
    nas__sb_t t;
    nas__sb_init(&t, s->ctx);
    nas__searcher_objectives_string(s, &t);
    nas__sb_puts(&t, ";");
    nas__searcher_constraints_string(s, &t);
    if (t.failed)
        w->sb.failed = true;
    else
        nas_state_write_str(w, t.data);
    nas__sb_free(&t);
    nas_state_write_str(w, nas_space_name(s->space));
    nas_state_write_u64(w, nas_space_num_dims(s->space));
}

nas_status_t nas_searcher_save(nas_searcher_t *s, void *buf, size_t cap, size_t *len)
{
    if (!s)
        return NAS_E_INVAL;
    if (!len)
        return nas__fail(s->errmsg, NAS_E_INVAL, "nas_searcher_save: len is NULL");
    if (!nas_searcher_can_save(s))
        return nas__fail(s->errmsg, NAS_E_UNSUPPORTED, "searcher '%s' cannot save its state", s->name);
    if (s->num_pending)
        return nas__fail(s->errmsg, NAS_E_STATE, "searcher '%s': cannot save with %u trials outstanding", s->name,
                         (unsigned)s->num_pending);
    if (s->broken)
        return nas__fail(s->errmsg, NAS_E_STATE, "searcher '%s': a failed load left it unusable", s->name);
    nas_state_writer_t w;
    nas__sb_init(&w.sb, s->ctx);
    nas_state_write(&w, STATE_MAGIC, 8);
    nas_state_write_u64(&w, STATE_VERSION);
    write_setup(s, &w);
    nas_state_write_u64(&w, s->next_trial);
    uint64_t rs[4];
    nas__rng_get_state(s->rng, rs);
    for (int i = 0; i < 4; i++)
        nas_state_write_u64(&w, rs[i]);
    size_t at = w.sb.len;
    nas_state_write_u64(&w, 0);   /* the strategy's length, patched below */
    s->errmsg[0] = '\0';
    nas_status_t st = s->vt.save(s, s->state, &w);
    if (st == NAS_OK && w.sb.failed)
        st = NAS_E_NOMEM;
    if (st != NAS_OK) {
        nas__sb_free(&w.sb);
        if (!s->errmsg[0])
            nas__fail(s->errmsg, st, "searcher '%s': save failed (%s)", s->name, nas_status_str(st));
        return st;
    }
    uint64_t blob = w.sb.len - at - 8;
    for (int i = 0; i < 8; i++)
        w.sb.data[at + (size_t)i] = (char)(uint8_t)(blob >> (8 * i));
    nas_state_write_u64(&w, nas__hash_bytes(w.sb.data, w.sb.len, 0));
    if (w.sb.failed) {
        nas__sb_free(&w.sb);
        return nas__fail(s->errmsg, NAS_E_NOMEM, "searcher '%s': out of memory saving its state", s->name);
    }
    *len = w.sb.len;
    st = NAS_OK;
    if (cap < w.sb.len || !buf)
        st = nas__fail(s->errmsg, NAS_E_RANGE, "searcher '%s': its state needs %zu bytes", s->name, w.sb.len);
    else
        memcpy(buf, w.sb.data, w.sb.len);
    nas__sb_free(&w.sb);
    return st;
}

static nas_status_t load_failed(nas_searcher_t *s, nas_status_t st, const char *what)
{
    return nas__fail(s->errmsg, st, "searcher '%s': cannot load the state: %s", s->name, what);
}

nas_status_t nas_searcher_load(nas_searcher_t *s, const void *data, size_t len)
{
    if (!s)
        return NAS_E_INVAL;
    if (!data && len)
        return nas__fail(s->errmsg, NAS_E_INVAL, "nas_searcher_load: data is NULL");
    if (!nas_searcher_can_save(s))
        return nas__fail(s->errmsg, NAS_E_UNSUPPORTED, "searcher '%s' cannot load a state", s->name);
    if (s->next_trial || s->num_pending || s->broken)
        return nas__fail(s->errmsg, NAS_E_STATE, "searcher '%s': load needs a searcher that was never asked",
                         s->name);
    const uint8_t *d = data;
    if (len < 16 || memcmp(d, STATE_MAGIC, 8) != 0)
        return load_failed(s, NAS_E_CORRUPT, "not a libnas searcher state");
    uint64_t sum = 0;
    for (int i = 0; i < 8; i++)
        sum |= (uint64_t)d[len - 8 + (size_t)i] << (8 * i);
    if (sum != nas__hash_bytes(d, len - 8, 0))
        return load_failed(s, NAS_E_CORRUPT, "checksum mismatch (damaged or truncated)");
    nas_state_reader_t r = { d, len - 8, 8 };
    uint64_t version, next, blob, rs[4];
    if (nas_state_read_u64(&r, &version) != NAS_OK || version != STATE_VERSION)
        return load_failed(s, NAS_E_CORRUPT, "unknown format version");
    nas_state_writer_t w;   /* our own setup, to compare with the saved one */
    nas__sb_init(&w.sb, s->ctx);
    write_setup(s, &w);
    if (w.sb.failed) {
        nas__sb_free(&w.sb);
        return load_failed(s, NAS_E_NOMEM, "out of memory");
    }
    bool same = r.len - r.off >= w.sb.len && memcmp(r.data + r.off, w.sb.data, w.sb.len) == 0;
    size_t setup_len = w.sb.len;
    nas__sb_free(&w.sb);
    if (!same) {
        const char *name = "?";
        nas_state_read_str(&r, &name);
        return load_failed(s, NAS_E_INVAL, name && strcmp(name, s->name) != 0
                                               ? "it was saved by another strategy"
                                               : "it was saved with another seed, objectives, constraints or space");
    }
    r.off += setup_len;
    if (nas_state_read_u64(&r, &next) != NAS_OK)
        return load_failed(s, NAS_E_CORRUPT, "truncated");
    for (int i = 0; i < 4; i++)
        if (nas_state_read_u64(&r, &rs[i]) != NAS_OK)
            return load_failed(s, NAS_E_CORRUPT, "truncated");
    if (nas_state_read_u64(&r, &blob) != NAS_OK || blob != r.len - r.off)
        return load_failed(s, NAS_E_CORRUPT, "the strategy's part has the wrong length");
    uint64_t old[4];
    nas__rng_get_state(s->rng, old);
    if (!nas__rng_set_state(s->rng, rs))
        return load_failed(s, NAS_E_CORRUPT, "invalid random state");
    s->errmsg[0] = '\0';
    nas_status_t st = s->vt.load(s, s->state, &r);
    if (st == NAS_OK && r.off != r.len)
        st = NAS_E_CORRUPT;
    if (st != NAS_OK) {
        s->broken = true;
        nas__rng_set_state(s->rng, old);
        if (!s->errmsg[0])
            nas__fail(s->errmsg, st, "searcher '%s': cannot load the state (%s)", s->name, nas_status_str(st));
        return st;
    }
    s->next_trial = next;
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Internals                                                               */

uint64_t nas__searcher_seed(const nas_searcher_t *s)
{
    return s->seed;
}

void nas__searcher_set_finite(nas_searcher_t *s, bool finite)
{
    s->finite = finite;
}

bool nas__searcher_finite(const nas_searcher_t *s)
{
    return s->finite;
}

void nas_searcher_set_finite(nas_searcher_t *s, bool finite)
{
    if (s)
        s->finite = finite;
}

bool nas_searcher_is_finite(const nas_searcher_t *s)
{
    return s && s->finite;
}

void nas__searcher_objectives_string(const nas_searcher_t *s, nas__sb_t *sb)
{
    for (uint32_t i = 0; i < s->num_obj; i++) {
        if (i)
            nas__sb_putc(sb, ',');
        nas__sb_puts(sb, s->obj[i].name);
        nas__sb_puts(sb, s->obj[i].maximize ? ":max" : ":min");
    }
}

bool nas__searcher_has_run(const nas_searcher_t *s)
{
    return s->vt.run != NULL;
}

nas_status_t nas__searcher_call_run(nas_searcher_t *s, nas_run_t *run)
{
    s->errmsg[0] = '\0';
    nas_status_t st = s->vt.run(s, s->state, run);
    if (st != NAS_OK && st != NAS_E_ABORTED && !s->errmsg[0])
        nas__fail(s->errmsg, st, "searcher '%s': run failed (%s)", s->name, nas_status_str(st));
    return st;
}

uint64_t nas__searcher_take_id(nas_searcher_t *s)
{
    return s->next_trial++;
}

void nas__searcher_skip_ids(nas_searcher_t *s, uint64_t next)
{
    if (s->next_trial < next)
        s->next_trial = next;
}
