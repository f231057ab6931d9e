/* The search phase of spos and fairnas over their trained supernet (see supernet_search.h). */
#include "search/supernet_search.h"

#include "nn/latency.h"
#include "search/search_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const cost_names[] = { "auto", "latency", "params", "flops" };
static const char *const cost_metrics[] = { "", "latency_ms", "params", "flops" };

/* ---------------------------------------------------------------------- */
/* Parameters                                                              */

void nas__ss_free(nas__ss_t *ss)
{
    if (!ss || !ss->ctx)
        return;
    nas__free(ss->ctx, ss->supernet_path);
    nas__free(ss->ctx, ss->arch_path);
    nas__free(ss->ctx, ss->latency_lut);
    ss->supernet_path = ss->arch_path = ss->latency_lut = NULL;
}

/* An optional non-empty path parameter, copied. */
static nas_status_t path_param(nas_searcher_t *self, const nas_params_t *params, const char *key, char **out)
{
    const char *v = NULL;
    nas_status_t st = nas_params_get_string(params, key, &v);
    if (st == NAS_E_NOT_FOUND)
        return NAS_OK;
    if (st != NAS_OK) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
        return st;
    }
    if (!v[0])
        return nas__search_fail(self, NAS_E_INVAL, "parameter '%s': empty path", key);
    if (!(*out = nas__strdup(nas_searcher_context(self), v)))
        return NAS_E_NOMEM;
    return NAS_OK;
}

/* A string parameter that must be one of names; index into *out. */
static nas_status_t choice_param(nas_searcher_t *self, const nas_params_t *params, const char *key,
                                 const char *const *names, int n, int *out)
{
    const char *v = NULL;
    nas_status_t st = nas_params_get_string(params, key, &v);
    if (st == NAS_E_NOT_FOUND)
        return NAS_OK;
    if (st != NAS_OK) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
        return st;
    }
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return NAS_OK;
        }
    return nas__search_fail(self, NAS_E_INVAL, "parameter '%s': unknown value '%.100s'", key, v);
}

nas_status_t nas__ss_params(nas_searcher_t *self, const nas_params_t *params, nas__ss_t *ss)
{
    static const char *const searches[] = { "evolution", "nsga2" };
    ss->ctx = nas_searcher_context(self);
    int search = strcmp(ss->search, "nsga2") == 0, cost = ss->cost;
    int64_t trials = ss->trials, pop = ss->population, nr = ss->recalib_batches, ne = ss->eval_batches;
    nas_status_t st;
    if ((st = choice_param(self, params, "search", searches, 2, &search)) != NAS_OK ||
        (st = choice_param(self, params, "cost", cost_names, 4, &cost)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "search_trials", trials, 1, 10000000, &trials)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "population", pop, 2, 100000, &pop)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "recalib_batches", nr, 0, 100000, &nr)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "eval_batches", ne, 1, 100000, &ne)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "cost_limit", ss->cost_limit, 0.0, 1e300, 0,
                                       &ss->cost_limit)) != NAS_OK ||
        (st = path_param(self, params, "supernet_path", &ss->supernet_path)) != NAS_OK ||
        (st = path_param(self, params, "arch_path", &ss->arch_path)) != NAS_OK ||
        (st = path_param(self, params, "latency_cache", &ss->latency_lut)) != NAS_OK)
        return st;
    snprintf(ss->search, sizeof ss->search, "%s", searches[search]);
    ss->cost = cost;
    ss->trials = (uint32_t)trials;
    ss->population = (uint32_t)pop;
    ss->recalib_batches = (uint32_t)nr;
    ss->eval_batches = (uint32_t)ne;
    if (ss->cost == NAS__SS_COST_LATENCY && nas_space_family(nas_searcher_space(self)) != NAS_FAMILY_CHAIN)
        return nas__search_fail(self, NAS_E_UNSUPPORTED, "parameter 'cost': latency needs a chain space (the latency "
                                "table covers chains only); use params or flops");
    return NAS_OK;
}

nas_status_t nas__ss_set_paths(nas__oneshot_t *os, const nas_arch_t *arch, uint32_t *paths)
{
    char err[NAS_ERRMSG_CAP] = "";
    nas_status_t st = nas__supernet_paths(os->map, arch, paths, err);
    if (st != NAS_OK)
        return nas__fail(os->errmsg, st, "%s: sampling paths: %s", os->cfg->name, err);
    for (uint32_t m = 0; m < os->map->num_mixed; m++)
        if ((st = nas__plan_set_path(os->plan, m, paths[m])) != NAS_OK)
            return nas__fail(os->errmsg, st, "%s: path %u of mixed node %u: %s", os->cfg->name, (unsigned)paths[m],
                             (unsigned)m, nas__plan_errmsg(os->plan));
    return NAS_OK;
}

nas_status_t nas__supernet_pin_width(nas_arch_t *arch)
{
    const nas_space_t *space = nas_arch_space(arch);
    uint32_t nd = nas_space_num_arch_dims(space);
    for (uint32_t d = 0; d < nd; d++) {
        nas_dim_info_t di = { .struct_size = sizeof di };
        if (nas_space_dim_info(space, d, &di) != NAS_OK || di.role != NAS_ROLE_WIDTH ||
            di.kind != NAS_DIM_CATEGORICAL)
            continue;
        uint32_t best = 0;
        double vbest = -INFINITY, v;
        nas_status_t st = NAS_OK;
        for (uint32_t c = 0; st == NAS_OK && c < di.num_choices; c++) {
            if ((st = nas_arch_set(arch, d, c)) == NAS_OK && nas_arch_get_value(arch, d, &v) == NAS_OK && v > vbest) {
                vbest = v;
                best = c;
            }
        }
        if (st != NAS_OK || (st = nas_arch_set(arch, d, best)) != NAS_OK)
            return st;
    }
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* The search phase                                                        */

typedef struct record {
    char *arch;
    double acc, loss, cost;
    bool ok;
} record_t;

typedef struct phase {
    nas__oneshot_t *os;
    nas__ss_t *ss;
    nas_context_t *ctx;
    nas_space_t *space;
    nas__build_opts_t bo;
    nas__supernet_eval_t se;
    nas__dev_t *dev;
    nas__latlut_t *lut;
    int32_t cost;                 /* resolved: LATENCY, PARAMS or FLOPS */
    bool need_cost;               /* told to the strategy (nsga2 or a limit); else only recorded when cheap */
    nas_searcher_t *inner;
    record_t *rec;
    uint32_t n_rec;
    nas_arch_t *best;
    int64_t best_i;
} phase_t;

static nas_status_t pfail(phase_t *p, nas_status_t st, const char *what, const char *msg)
{
    return nas__fail(p->os->errmsg, st, "%s: %s: %s", p->os->cfg->name, what, msg);
}

static nas_status_t cost_of(phase_t *p, const nas_arch_t *arch, double *cost, char *err)
{
    *cost = NAN;
    if (p->cost == NAS__SS_COST_LATENCY) {
        if (!p->lut)
            return NAS_OK;
        nas_status_t st = nas__latlut_predict(p->lut, arch, cost);
        return st == NAS_OK ? NAS_OK : nas__fail(err, st, "latency prediction failed");
    }
    nas__graph_t *g = NULL;
    nas_status_t st = nas__build_graph(&g, arch, &p->bo, err);
    if (st != NAS_OK)
        return st;
    *cost = (double)(p->cost == NAS__SS_COST_FLOPS ? nas__graph_flops(g) : nas__graph_params(g));
    nas__graph_destroy(g);
    return NAS_OK;
}

static nas_status_t open_lut(phase_t *p)
{
    char err[NAS_ERRMSG_CAP] = "";
    nas__latlut_opts_t lo = NAS__LATLUT_OPTS_INIT;
    lo.build = p->bo;
    lo.build.label_smoothing = 0.0f;
    nas_status_t st = nas__dev_create(&p->dev, p->ctx);
    if (st != NAS_OK)
        return pfail(p, st, "latency table", nas_context_errmsg(p->ctx));
    nas_run_report(p->os->run, "building the latency table");
    if (p->ss->latency_lut)
        st = nas__latlut_open(&p->lut, p->dev, p->space, &lo, p->ss->latency_lut, NULL, err);
    else
        st = nas__latlut_build(&p->lut, p->dev, p->space, &lo, err);
    if (st != NAS_OK && p->lut)   /* built, not saved: use it */
        st = NAS_OK;
    return st == NAS_OK ? NAS_OK : pfail(p, st, "latency table", err);
}

static nas_status_t make_inner(phase_t *p)
{
    nas__ss_t *ss = p->ss;
    nas_params_t *params = NULL;
    nas_status_t st = nas_params_create(&params, p->ctx);
    char buf[64], obj[96], con[96];
    snprintf(buf, sizeof buf, "%u", (unsigned)ss->population);
    if (st == NAS_OK)
        st = nas_params_set(params, "population", buf);
    if (st != NAS_OK) {
        nas_params_destroy(params);
        return pfail(p, NAS_E_NOMEM, "search", "out of memory");
    }
    const char *metric = cost_metrics[p->cost];
    bool nsga = strcmp(ss->search, "nsga2") == 0;
    snprintf(obj, sizeof obj, nsga ? "accuracy:max,%s:min" : "accuracy:max", metric);
    char lim[40];
    nas__fmt_double(lim, sizeof lim, ss->cost_limit);
    snprintf(con, sizeof con, "%s<=%s", metric, lim);
    nas_searcher_opts_t so = NAS_SEARCHER_OPTS_INIT;
    so.seed = nas__mix64(nas__searcher_seed(p->os->self) ^ 0x7365617263680aull);
    so.objectives = obj;
    so.constraints = ss->cost_limit > 0.0 ? con : NULL;
    st = nas_searcher_create(&p->inner, p->space, ss->search, params, &so);
    nas_params_destroy(params);
    return st == NAS_OK ? NAS_OK : pfail(p, st, "search", nas_context_errmsg(p->ctx));
}

static bool feasible(const phase_t *p, const record_t *r)
{
    return r->ok && (p->ss->cost_limit <= 0.0 || (isfinite(r->cost) && r->cost <= p->ss->cost_limit));
}

/* Whether record a is a better answer than b (see the top of supernet_search.h). */
static bool better(const phase_t *p, const record_t *a, const record_t *b)
{
    bool fa = feasible(p, a), fb = feasible(p, b);
    if (fa != fb)
        return fa;
    if (!fa)
        return a->ok && (!b->ok || a->cost < b->cost);
    if (a->acc != b->acc)
        return a->acc > b->acc;
    return a->cost < b->cost;
}

/* Score one candidate (pinned width in e) into r and the result for the strategy. */
static nas_status_t score(phase_t *p, nas_arch_t *e, record_t *r, nas_result_t *res)
{
    char err[NAS_ERRMSG_CAP] = "";
    r->acc = r->loss = r->cost = NAN;
    nas_status_t st = nas__supernet_eval_arch(&p->se, e, &r->acc, &r->loss, err);
    if (st == NAS_OK && (p->need_cost || p->cost != NAS__SS_COST_LATENCY))
        st = cost_of(p, e, &r->cost, err);
    if (st == NAS_E_NOMEM)
        return pfail(p, st, "search", "out of memory");
    r->ok = st == NAS_OK;
    if (!r->ok)
        return nas_result_set_status(res, st, err);
    if ((st = nas_result_set_metric(res, "accuracy", r->acc)) != NAS_OK ||
        (st = nas_result_set_metric(res, "val_loss", r->loss)) != NAS_OK ||
        (st = nas_result_set_metric(res, cost_metrics[p->cost], r->cost)) != NAS_OK)
        return st;
    return NAS_OK;
}

static nas_status_t search_loop(phase_t *p)
{
    nas__oneshot_t *os = p->os;
    nas_arch_t *a = NULL, *e = NULL;
    nas_result_t *res = NULL;
    nas_status_t st;
    if ((st = nas_arch_create(&a, p->space)) != NAS_OK || (st = nas_arch_create(&e, p->space)) != NAS_OK ||
        (st = nas_arch_create(&p->best, p->space)) != NAS_OK || (st = nas_result_create(&res, p->ctx)) != NAS_OK) {
        st = pfail(p, NAS_E_NOMEM, "search", "out of memory");
        goto out_free;
    }
    p->rec = nas__calloc(p->ctx, p->ss->trials, sizeof *p->rec);
    if (!p->rec) {
        st = pfail(p, NAS_E_NOMEM, "search", "out of memory");
        goto out_free;
    }
    p->best_i = -1;
    for (uint32_t t = 0; t < p->ss->trials; t++) {
        if (nas_run_should_stop(os->run)) {
            if (strcmp(nas_run_stop_reason(os->run), "cancelled") == 0)
                st = nas__fail(os->errmsg, NAS_E_ABORTED, "%s: cancelled in the search phase", os->cfg->name);
            break;
        }
        nas_candidate_t cand = NAS_CANDIDATE_INIT;
        cand.arch = a;
        if ((st = nas_searcher_ask(p->inner, &cand)) == NAS_E_EXHAUSTED) {
            st = NAS_OK;
            break;
        }
        if (st != NAS_OK) {
            st = pfail(p, st, "search", nas_searcher_errmsg(p->inner));
            break;
        }
        nas_result_clear(res);
        record_t *r = &p->rec[p->n_rec];
        if ((st = nas_arch_copy(e, a)) != NAS_OK || (st = nas__supernet_pin_width(e)) != NAS_OK ||
            (st = score(p, e, r, res)) != NAS_OK) {
            if (!os->errmsg[0])
                pfail(p, st, "search", "cannot score a candidate");
            break;
        }
        if ((st = nas_searcher_tell(p->inner, &cand, res)) != NAS_OK) {
            st = pfail(p, st, "search", nas_searcher_errmsg(p->inner));
            break;
        }
        char s[4096];
        if (nas_arch_to_string(e, 0, s, sizeof s, NULL) != NAS_OK)
            snprintf(s, sizeof s, "?");
        if (!(r->arch = nas__strdup(p->ctx, s))) {
            st = pfail(p, NAS_E_NOMEM, "search", "out of memory");
            break;
        }
        p->n_rec++;
        if (p->best_i < 0 || better(p, r, &p->rec[p->best_i])) {
            p->best_i = (int64_t)(p->n_rec - 1);
            if ((st = nas_arch_copy(p->best, e)) != NAS_OK)
                break;
        }
        char what[4096 + 256];
        const record_t *b = &p->rec[p->best_i];
        snprintf(what, sizeof what, "%s search %u/%u accuracy %.2f %s %g best %.2f arch %s", os->cfg->name,
                 (unsigned)t + 1, (unsigned)p->ss->trials, r->acc, cost_metrics[p->cost], r->cost, b->acc,
                 r->ok ? r->arch : nas_result_message(res));
        nas_run_report(os->run, what);
    }
out_free:
    nas_result_destroy(res);
    nas_arch_destroy(e);
    nas_arch_destroy(a);
    return st;
}

/* Whether record i is on the Pareto front of (accuracy max, cost min) among the successful ones. */
static bool on_front(const phase_t *p, uint32_t i)
{
    const record_t *r = &p->rec[i];
    if (!r->ok)
        return false;
    for (uint32_t j = 0; j < p->n_rec; j++) {
        const record_t *q = &p->rec[j];
        if (j == i || !q->ok)
            continue;
        bool ge = q->acc >= r->acc && (!(q->cost > r->cost) || isnan(r->cost));
        bool gt = q->acc > r->acc || q->cost < r->cost;
        if (ge && gt)
            return false;
    }
    return true;
}

static nas_status_t write_json(phase_t *p, const char *path)
{
    nas__sb_t sb;
    nas__sb_init(&sb, p->ctx);
    nas__sb_puts(&sb, "{\"strategy\":");
    nas__sb_json_str(&sb, p->os->cfg->name);
    nas__sb_puts(&sb, ",\"search\":");
    nas__sb_json_str(&sb, p->ss->search);
    nas__sb_puts(&sb, ",\"cost\":");
    nas__sb_json_str(&sb, cost_metrics[p->cost]);
    nas__sb_puts(&sb, ",\"cost_limit\":");
    nas__sb_json_num(&sb, p->ss->cost_limit);
    nas__sb_puts(&sb, ",\"candidates\":[");
    for (uint32_t i = 0; i < p->n_rec; i++) {
        const record_t *r = &p->rec[i];
        nas__sb_puts(&sb, i ? ",{\"arch\":" : "{\"arch\":");
        nas__sb_json_str(&sb, r->arch);
        nas__sb_puts(&sb, ",\"accuracy\":");
        nas__sb_json_num(&sb, r->acc);
        nas__sb_puts(&sb, ",\"val_loss\":");
        nas__sb_json_num(&sb, r->loss);
        nas__sb_puts(&sb, ",\"cost\":");
        nas__sb_json_num(&sb, r->cost);
        nas__sb_printf(&sb, ",\"ok\":%s,\"pareto\":%s}", r->ok ? "true" : "false", on_front(p, i) ? "true" : "false");
    }
    nas__sb_puts(&sb, "],\"derived\":");
    nas__sb_json_str(&sb, p->best_i >= 0 ? p->rec[p->best_i].arch : "");
    nas__sb_puts(&sb, "}\n");
    char err[NAS_ERRMSG_CAP] = "";
    nas_status_t st = sb.failed ? NAS_E_NOMEM : nas__write_file_atomic(p->ctx, path, sb.data, sb.len, err);
    nas__sb_free(&sb);
    if (st == NAS_E_NOMEM)
        return pfail(p, st, "writing the search", "out of memory");
    return st == NAS_OK ? NAS_OK : pfail(p, st, "writing the search", err);
}

static nas_status_t run_phase(phase_t *p, nas_arch_t *arch)
{
    nas__oneshot_t *os = p->os;
    nas__ss_t *ss = p->ss;
    char err[NAS_ERRMSG_CAP] = "";
    nas__train_setup_t ts;
    nas_status_t st = nas__train_setup(nas_run_evaluator(os->run), &ts, err);
    if (st != NAS_OK)
        return pfail(p, st, "data", err);
    nas__supernet_build_opts(&ts, &p->bo);
    char path[1024];
    if (nas__oneshot_output_path(os, ss->supernet_path, "supernet.bin", path, sizeof path) &&
        (st = nas__supernet_save(p->ctx, path, p->space, &p->bo, os->plan, os->batch, err)) != NAS_OK)
        return pfail(p, st, "saving the supernet", err);
    uint64_t seed = ts.topts.seed ? ts.topts.seed : nas_context_seed(p->ctx);
    if ((st = nas__supernet_eval_init(&p->se, os->plan, os->map, ts.train, ts.val, ss->recalib_batches,
                                      ss->eval_batches, seed, err)) != NAS_OK)
        return pfail(p, st, "search", err);
    bool chain = nas_space_family(p->space) == NAS_FAMILY_CHAIN;
    p->cost = ss->cost != NAS__SS_COST_AUTO ? ss->cost : chain ? NAS__SS_COST_LATENCY : NAS__SS_COST_PARAMS;
    p->need_cost = strcmp(ss->search, "nsga2") == 0 || ss->cost_limit > 0.0;
    if (p->cost == NAS__SS_COST_LATENCY && p->need_cost && (st = open_lut(p)) != NAS_OK)
        return st;
    if ((st = make_inner(p)) != NAS_OK || (st = search_loop(p)) != NAS_OK)
        return st;
    if (p->best_i < 0) {
        /* the budget ended the run before any candidate: a uniform sample is the answer */
        if ((st = nas_space_sample(p->space, arch, nas_searcher_rng(os->self))) != NAS_OK)
            return pfail(p, st, "derive", nas_space_errmsg(p->space));
        if ((st = nas__supernet_pin_width(arch)) != NAS_OK)
            return pfail(p, st, "derive", "cannot pin the width");
    } else if (!p->rec[p->best_i].ok) {
        return pfail(p, NAS_E_INVAL, "search", "no candidate could be scored on the supernet");
    } else if ((st = nas_arch_copy(arch, p->best)) != NAS_OK) {
        return pfail(p, st, "derive", "cannot copy the architecture");
    }
    if (p->best_i >= 0) {
        char what[4096 + 128];
        const record_t *b = &p->rec[p->best_i];
        snprintf(what, sizeof what, "%s derived accuracy %.2f %s %g arch %s", os->cfg->name, b->acc,
                 cost_metrics[p->cost], b->cost, b->arch);
        nas_run_report(os->run, what);
    }
    return nas__oneshot_output_path(os, ss->arch_path, "candidates.json", path, sizeof path) ? write_json(p, path)
                                                                                            : NAS_OK;
}

nas_status_t nas__ss_derive(nas__oneshot_t *os, nas__ss_t *ss, nas_arch_t *arch)
{
    phase_t p;
    memset(&p, 0, sizeof p);
    p.os = os;
    p.ss = ss;
    p.ctx = os->ctx;
    p.space = nas_searcher_space(os->self);
    nas_status_t st = run_phase(&p, arch);
    for (uint32_t i = 0; i < p.n_rec; i++)
        nas__free(p.ctx, p.rec[i].arch);
    nas__free(p.ctx, p.rec);
    nas_arch_destroy(p.best);
    nas_searcher_destroy(p.inner);
    nas__latlut_destroy(p.lut);
    nas__dev_destroy(p.dev);
    nas__supernet_eval_free(&p.se);
    return st;
}
