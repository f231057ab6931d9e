/*
 * The NAS-Bench-201 study: search strategies compared on the CIFAR-10 test-accuracy table, public
 * API only (include/libnas/nas.h), the way a host application would run them.
 *
 *   nb201_study [--runs 500] [--budget 300] [--strategies random,local,evolution,reinforce,bohb,tpe]
 *               [--space spaces/nas-bench-201.yaml] [--table data/nb201/cifar10_test.csv]
 *               [--out out/nb201-study]
 *
 * For each strategy: one `table` evaluator (loading the table is the expensive part), then R
 * independent runs (seeds 1..R, a fresh searcher each) of `budget` queries, one query being one
 * ask + evaluate + tell. A searcher never sees the budget (nas_searcher_create has no budget
 * parameter), so its first 100 queries are the same in a run of 100 and in a run of 300: the
 * 100-query figures are read off the anytime curves of the 300-query runs.
 *
 * Printed: per strategy and budget (100 and `budget`), the mean ± std (over runs) of the best test
 * accuracy found, the mean number of queries to reach 94.0% and to reach the table's optimum over
 * the runs that reached it (with the fraction of runs that did), and the queries per second of the
 * search loop itself. Written into --out: nb201_anytime.csv (mean and std of the best accuracy
 * after q queries, q = 1..budget, per strategy), nb201_anytime.svg (the mean curves) and
 * nb201_summary.csv (the table). Last line: nb201_rea_mean_at_100=XX.XX (regularized evolution's
 * mean best accuracy after 100 queries). A strategy that is not registered is reported as not
 * available and skipped.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libnas/nas.h>

#include "svg.h"

#define METRIC "test_acc"
#define TARGET 94.0
#define SHORT_BUDGET 100
#define MAX_STRATEGIES 16
#define MAX_BUDGETS 2

/*
 * Strategy parameters: the library's defaults unless NAS-Bench-201's own settings differ. Those
 * are in the benchmark authors' scripts (D-X-Y/AutoDL-Projects, exps/NATS-algos/run-all.sh and
 * reinforce.py; Dong et al., NATS-Bench, TPAMI 2021, which repeats the NAS-Bench-201 protocol):
 *   REA:       --ea_population 10 --ea_sample_size 3 (one edge mutated per child: our default)
 *   REINFORCE: independent per-edge categoricals, Adam with --learning_rate 0.01, baseline an
 *              exponential moving average with --EMA_momentum 0.9
 *   BOHB:      --num_samples 4 (draws scored by the model: our n_candidates) --random_fraction 0.0
 *              --bandwidth_factor 3 (no counterpart: our bohb's model is a product of per-decision
 *              densities, not a KDE); fidelities stay our defaults (1..27, eta 3)
 * Local search (White et al. 2020) and TPE have no NAS-Bench-201 setting there: defaults.
 * All our sample-based strategies propose an architecture at most once per run by default
 * (reinforce: unique=true), so every query is a new architecture; the original REINFORCE and REA
 * may re-query one. A table lookup ignores the fidelity: bohb's low-fidelity queries return the
 * final accuracy, and its promotions (the same arch again at a larger fidelity) each cost a query.
 */
typedef struct strategy_params {
    const char *name;
    const char *kv[8];     /* key, value, key, value, ..., NULL */
} strategy_params_t;

static const strategy_params_t literature[] = {
    { "evolution", { "population", "10", "sample", "3", NULL } },
    { "reinforce", { "controller", "independent", "lr", "0.01", "baseline_decay", "0.9", NULL } },
    { "bohb", { "n_candidates", "4", "random_fraction", "0", NULL } },
};

typedef struct args {
    int runs, budget;
    const char *strategies, *space, *table, *out;
} args_t;

/* What one strategy's runs add up to. */
typedef struct study {
    const char *name;
    bool available, failed, defaults_only;
    char note[256];
    int runs;
    double *sum, *sumsq;      /* per query (0-based): best-so-far over runs */
    double *final;            /* runs x budgets: best after each budget */
    int *hit_target, *hit_opt;/* per run: first query (1-based) reaching it, 0 if never */
    double loop_seconds, load_seconds;  /* in ask + evaluate + tell; loading the table */
    long long queries;
} study_t;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void log_sink(void *user_data, int32_t level, const char *message)
{
    (void)user_data;
    fprintf(stderr, "nb201_study: libnas %s: %s\n", level == NAS_LOG_ERROR ? "error" : "warning", message);
}

static int usage(void)
{
    fprintf(stderr, "usage: nb201_study [--runs R] [--budget B] [--strategies a,b,...] [--space FILE] "
                    "[--table FILE] [--out DIR]\n");
    return 2;
}

static int parse_args(int argc, char **argv, args_t *a)
{
    *a = (args_t){ 500, 300, "random,local,evolution,reinforce,bohb,tpe", "spaces/nas-bench-201.yaml",
                   "data/nb201/cifar10_test.csv", "out/nb201-study" };
    for (int i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        char *end = NULL;
        if (strcmp(k, "--runs") == 0)
            a->runs = (int)strtol(v, &end, 10);
        else if (strcmp(k, "--budget") == 0)
            a->budget = (int)strtol(v, &end, 10);
        else if (strcmp(k, "--strategies") == 0)
            a->strategies = v;
        else if (strcmp(k, "--space") == 0)
            a->space = v;
        else if (strcmp(k, "--table") == 0)
            a->table = v;
        else if (strcmp(k, "--out") == 0)
            a->out = v;
        else
            return usage();
        if (end && *end)
            return usage();
    }
    if (a->runs < 1 || a->runs > 1000000 || a->budget < 1 || a->budget > 1000000)
        return usage();
    return 0;
}

static bool registered(nas_context_t *ctx, const char *name)
{
    const char *n, *d;
    for (uint32_t i = 0; i < nas_context_num_searchers(ctx); i++)
        if (nas_context_searcher_at(ctx, i, &n, &d) == NAS_OK && strcmp(n, name) == 0)
            return true;
    return false;
}

static nas_status_t make_evaluator(nas_evaluator_t **ev, nas_space_t *space, nas_context_t *ctx, const char *table)
{
    nas_params_t *p = NULL;
    nas_status_t st = nas_params_create(&p, ctx);
    if (st == NAS_OK)
        st = nas_params_set(p, "path", table);
    if (st == NAS_OK)
        st = nas_evaluator_create(ev, space, "table", p);
    nas_params_destroy(p);
    return st;
}

/* The table's optimum (and how many archs reach TARGET), by evaluating the whole grid. */
static nas_status_t table_optimum(nas_context_t *ctx, nas_space_t *space, nas_evaluator_t *ev, double *opt,
                                  uint64_t *n_opt, uint64_t *n_target, uint64_t *size)
{
    nas_arch_t *arch = NULL;
    nas_result_t *res = NULL;
    nas_status_t st = nas_space_grid_size(space, size);
    if (st == NAS_OK)
        st = nas_arch_create(&arch, space);
    if (st == NAS_OK)
        st = nas_result_create(&res, ctx);
    *opt = -INFINITY;
    *n_opt = *n_target = 0;
    double *vals = st == NAS_OK ? malloc((size_t)*size * sizeof *vals) : NULL;
    if (st == NAS_OK && !vals)
        st = NAS_E_NOMEM;
    nas_candidate_t cand = NAS_CANDIDATE_INIT;
    cand.arch = arch;
    for (uint64_t i = 0; st == NAS_OK && i < *size; i++) {
        cand.trial_id = i;
        double v = NAN;
        if ((st = nas_space_enumerate(space, arch, i)) == NAS_OK &&
            (st = nas_evaluator_evaluate(ev, &cand, res)) == NAS_OK && nas_result_status(res) == NAS_OK)
            nas_result_get_metric(res, METRIC, &v);
        vals[i] = v;
        if (v > *opt)
            *opt = v;
    }
    for (uint64_t i = 0; st == NAS_OK && i < *size; i++) {
        *n_opt += vals[i] == *opt;
        *n_target += vals[i] >= TARGET;
    }
    free(vals);
    nas_result_destroy(res);
    nas_arch_destroy(arch);
    return st;
}

static const strategy_params_t *literature_params(const char *name)
{
    for (size_t i = 0; i < sizeof literature / sizeof literature[0]; i++)
        if (strcmp(literature[i].name, name) == 0)
            return &literature[i];
    return NULL;
}

/* A searcher of `name` with its study parameters (or, with `defaults`, the library's defaults). */
static nas_status_t make_searcher(nas_searcher_t **s, nas_space_t *space, nas_context_t *ctx, const char *name,
                                  uint64_t seed, bool defaults)
{
    const strategy_params_t *lp = defaults ? NULL : literature_params(name);
    nas_params_t *p = NULL;
    nas_status_t st = lp ? nas_params_create(&p, ctx) : NAS_OK;
    for (int k = 0; st == NAS_OK && lp && lp->kv[k]; k += 2)
        st = nas_params_set(p, lp->kv[k], lp->kv[k + 1]);
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    o.seed = seed;
    o.objectives = METRIC ":max";
    if (st == NAS_OK)
        st = nas_searcher_create(s, space, name, p, &o);
    nas_params_destroy(p);
    return st;
}

/* The run's objects that live across runs of one strategy. */
typedef struct loop {
    nas_evaluator_t *ev;
    nas_arch_t *arch;
    nas_result_t *res;
    double opt;
    int budget;
} loop_t;

/* One run of lp->budget queries: best-so-far into curve[], first queries reaching the target and
 * the optimum into hit_t / hit_o (0: never). An exhausted searcher keeps its best to the end. */
static nas_status_t one_run(study_t *sd, const loop_t *lp, nas_searcher_t *s, double *curve, int *hit_t,
                            int *hit_o)
{
    nas_candidate_t cand = NAS_CANDIDATE_INIT;
    cand.arch = lp->arch;
    double best = -INFINITY;
    *hit_t = *hit_o = 0;
    int q = 0;
    for (; q < lp->budget; q++) {
        double t0 = now();
        nas_status_t st = nas_searcher_ask(s, &cand);
        if (st == NAS_E_EXHAUSTED)
            break;
        const char *msg = st == NAS_OK ? NULL : nas_searcher_errmsg(s);
        if (st == NAS_OK && (st = nas_evaluator_evaluate(lp->ev, &cand, lp->res)) != NAS_OK)
            msg = nas_evaluator_errmsg(lp->ev);
        if (st == NAS_OK && (st = nas_searcher_tell(s, &cand, lp->res)) != NAS_OK)
            msg = nas_searcher_errmsg(s);
        sd->loop_seconds += now() - t0;
        if (st != NAS_OK) {
            snprintf(sd->note, sizeof sd->note, "query %d: %s (%s)", q + 1, msg && *msg ? msg : "",
                     nas_status_name(st));
            return st;
        }
        sd->queries++;
        double v;
        if (nas_result_status(lp->res) == NAS_OK && nas_result_get_metric(lp->res, METRIC, &v) == NAS_OK && v > best)
            best = v;
        curve[q] = best;
        if (!*hit_t && best >= TARGET)
            *hit_t = q + 1;
        if (!*hit_o && best >= lp->opt)
            *hit_o = q + 1;
    }
    for (; q < lp->budget; q++)
        curve[q] = best;
    return NAS_OK;
}

static bool study_alloc(study_t *sd, int runs, int budget, int nb)
{
    sd->sum = calloc((size_t)budget, sizeof *sd->sum);
    sd->sumsq = calloc((size_t)budget, sizeof *sd->sumsq);
    sd->final = calloc((size_t)runs * (size_t)nb, sizeof *sd->final);
    sd->hit_target = calloc((size_t)runs, sizeof *sd->hit_target);
    sd->hit_opt = calloc((size_t)runs, sizeof *sd->hit_opt);
    return sd->sum && sd->sumsq && sd->final && sd->hit_target && sd->hit_opt;
}

static void study_free(study_t *sd)
{
    free(sd->sum);
    free(sd->sumsq);
    free(sd->final);
    free(sd->hit_target);
    free(sd->hit_opt);
}

/* Every run of one strategy. False when it could not run (the note says why). */
static bool run_strategy(study_t *sd, nas_context_t *ctx, nas_space_t *space, const args_t *a, double opt,
                         const int *budgets, int nb)
{
    loop_t lp = { NULL, NULL, NULL, opt, a->budget };
    double *curve = malloc((size_t)a->budget * sizeof *curve);
    double t0 = now();
    nas_status_t st = make_evaluator(&lp.ev, space, ctx, a->table);
    sd->load_seconds = now() - t0;
    if (st != NAS_OK)
        snprintf(sd->note, sizeof sd->note, "table evaluator: %s", nas_context_errmsg(ctx));
    if (st == NAS_OK && ((st = nas_arch_create(&lp.arch, space)) != NAS_OK ||
                         (st = nas_result_create(&lp.res, ctx)) != NAS_OK || !curve ||
                         !study_alloc(sd, a->runs, a->budget, nb)))
        snprintf(sd->note, sizeof sd->note, "out of memory");
    bool ok = st == NAS_OK && curve && sd->sum;
    for (int r = 0; ok && r < a->runs; r++) {
        nas_searcher_t *s = NULL;
        st = make_searcher(&s, space, ctx, sd->name, (uint64_t)r + 1, sd->defaults_only);
        if (st == NAS_E_INVAL && r == 0 && !sd->defaults_only && literature_params(sd->name)) {
            fprintf(stderr, "nb201_study: %s rejects the NAS-Bench-201 settings (%s); using its defaults\n",
                    sd->name, nas_context_errmsg(ctx));
            sd->defaults_only = true;
            st = make_searcher(&s, space, ctx, sd->name, (uint64_t)r + 1, true);
        }
        if (st != NAS_OK) {
            snprintf(sd->note, sizeof sd->note, "cannot create the searcher: %s", nas_context_errmsg(ctx));
            ok = false;
            break;
        }
        int ht, ho;
        ok = one_run(sd, &lp, s, curve, &ht, &ho) == NAS_OK;
        nas_searcher_destroy(s);
        if (!ok)
            break;
        for (int q = 0; q < a->budget; q++) {
            sd->sum[q] += curve[q];
            sd->sumsq[q] += curve[q] * curve[q];
        }
        for (int b = 0; b < nb; b++)
            sd->final[(size_t)r * (size_t)nb + (size_t)b] = curve[budgets[b] - 1];
        sd->hit_target[r] = ht;
        sd->hit_opt[r] = ho;
        sd->runs = r + 1;
    }
    free(curve);
    nas_result_destroy(lp.res);
    nas_arch_destroy(lp.arch);
    nas_evaluator_destroy(lp.ev);
    sd->failed = !ok;
    return ok;
}

/* ---------------------------------------------------------------------- */
/* Results                                                                 */

static void mean_std(const double *x, int n, int stride, double *mean, double *std)
{
    double s = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++)
        s += x[(size_t)i * (size_t)stride];
    *mean = n ? s / n : NAN;
    for (int i = 0; i < n; i++) {
        double d = x[(size_t)i * (size_t)stride] - *mean;
        ss += d * d;
    }
    *std = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
}

/* Mean queries over the runs that reached within `budget`, and the fraction of runs that did. */
static void reach(const int *hit, int runs, int budget, double *mean, double *frac)
{
    double s = 0.0;
    int k = 0;
    for (int r = 0; r < runs; r++)
        if (hit[r] > 0 && hit[r] <= budget) {
            s += hit[r];
            k++;
        }
    *mean = k ? s / k : NAN;
    *frac = runs ? (double)k / runs : 0.0;
}

static void fmt_reach(char *buf, size_t cap, double mean, double frac)
{
    if (isnan(mean))
        snprintf(buf, cap, "-      (%5.1f%%)", 100.0 * frac);
    else
        snprintf(buf, cap, "%6.1f (%5.1f%%)", mean, 100.0 * frac);
}

static double rate(const study_t *sd)
{
    return sd->loop_seconds > 0 ? (double)sd->queries / sd->loop_seconds : NAN;
}

static void print_table(FILE *f, const study_t *sd, int ns, const int *budgets, int nb)
{
    fprintf(f, "%-10s %6s  %-17s  %-22s  %-22s  %10s\n", "strategy", "budget", "best test_acc", "queries to 94.00%",
            "queries to optimum", "queries/s");
    for (int i = 0; i < ns; i++) {
        const study_t *s = &sd[i];
        if (!s->available || s->failed) {
            fprintf(f, "%-10s %s\n", s->name, s->available ? s->note : "not available (not registered)");
            continue;
        }
        for (int b = 0; b < nb; b++) {
            double m, sdv, tm, tf, om, of;
            char t[40], o[40];
            mean_std(&s->final[b], s->runs, nb, &m, &sdv);
            reach(s->hit_target, s->runs, budgets[b], &tm, &tf);
            reach(s->hit_opt, s->runs, budgets[b], &om, &of);
            fmt_reach(t, sizeof t, tm, tf);
            fmt_reach(o, sizeof o, om, of);
            fprintf(f, "%-10s %6d  %6.2f +- %-6.2f   %-22s  %-22s  %10.0f\n", s->name, budgets[b], m, sdv, t, o,
                    rate(s));
        }
    }
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static FILE *open_out(const char *dir, const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "nb201_study: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static bool write_csvs(const args_t *a, const study_t *sd, int ns, const int *budgets, int nb)
{
    char path[4200];
    FILE *f = open_out(a->out, "nb201_anytime.csv", path, sizeof path);
    if (!f)
        return false;
    fputs("queries", f);
    for (int i = 0; i < ns; i++)
        if (sd[i].available && !sd[i].failed)
            fprintf(f, ",%s_mean,%s_std", sd[i].name, sd[i].name);
    fputc('\n', f);
    for (int q = 0; q < a->budget; q++) {
        fprintf(f, "%d", q + 1);
        for (int i = 0; i < ns; i++) {
            const study_t *s = &sd[i];
            if (!s->available || s->failed)
                continue;
            double m = s->sum[q] / s->runs, var = s->runs > 1 ? (s->sumsq[q] - s->runs * m * m) / (s->runs - 1) : 0;
            fprintf(f, ",%.4f,%.4f", m, sqrt(var > 0 ? var : 0));
        }
        fputc('\n', f);
    }
    bool ok = fclose(f) == 0;
    if (!(f = open_out(a->out, "nb201_summary.csv", path, sizeof path)))
        return false;
    fputs("strategy,budget,runs,best_mean,best_std,q94_mean,q94_frac,qopt_mean,qopt_frac,queries_per_s,settings\n", f);
    for (int i = 0; i < ns; i++) {
        const study_t *s = &sd[i];
        for (int b = 0; s->available && !s->failed && b < nb; b++) {
            double m, sdv, tm, tf, om, of;
            mean_std(&s->final[b], s->runs, nb, &m, &sdv);
            reach(s->hit_target, s->runs, budgets[b], &tm, &tf);
            reach(s->hit_opt, s->runs, budgets[b], &om, &of);
            fprintf(f, "%s,%d,%d,%.4f,%.4f,%.2f,%.4f,%.2f,%.4f,%.0f,%s\n", s->name, budgets[b], s->runs, m, sdv, tm,
                    tf, om, of, rate(s), s->defaults_only || !literature_params(s->name) ? "defaults" : "nb201");
        }
    }
    return fclose(f) == 0 && ok;
}

static bool write_svg(const args_t *a, const study_t *sd, int ns, double opt)
{
    svg_fig_t *fig = svg_fig_create(1, 760, 480);
    double *y = malloc((size_t)a->budget * sizeof *y);
    char title[160], path[4200], err[512] = "out of memory";
    snprintf(title, sizeof title, "NAS-Bench-201 CIFAR-10: mean best test accuracy over %d runs", a->runs);
    bool ok = fig && y && svg_panel_labels(fig, 0, title, "queries", "test accuracy (%)");
    double lo = opt;
    int q_lo = a->budget < 10 ? a->budget - 1 : 9;   /* the range starts at the 10th query */
    for (int i = 0; ok && i < ns; i++) {
        const study_t *s = &sd[i];
        if (!s->available || s->failed)
            continue;
        for (int q = 0; q < a->budget; q++)
            y[q] = s->sum[q] / s->runs;
        lo = fmin(lo, y[q_lo]);
        ok = svg_panel_add(fig, 0, SVG_LINE, NULL, y, (size_t)a->budget, NULL, s->name);
    }
    double ox[2] = { 1, a->budget }, oy[2] = { opt, opt };
    char olab[64];
    snprintf(olab, sizeof olab, "optimum %.2f", opt);
    ok = ok && svg_panel_add(fig, 0, SVG_LINE, ox, oy, 2, "#999999", olab);
    if (ok) {
        /* From the worst mean at the 10th query (at most 4 points below the optimum) to the optimum. */
        svg_panel_range(fig, 0, 1, a->budget, floor(fmax(lo, opt - 4.0) * 2) / 2, opt + 0.15);
        snprintf(path, sizeof path, "%s/nb201_anytime.svg", a->out);
        ok = svg_fig_save(fig, path, err, sizeof err);
    }
    if (!ok)
        fprintf(stderr, "nb201_study: cannot write the plot: %s\n", err);
    free(y);
    svg_fig_destroy(fig);
    return ok;
}

int main(int argc, char **argv)
{
    args_t a;
    if (parse_args(argc, argv, &a) != 0)
        return 2;
    nas_context_opts_t co = NAS_CONTEXT_OPTS_INIT;
    co.log_fn = log_sink;
    co.num_threads = 1;
    nas_context_t *ctx = NULL;
    nas_space_t *space = NULL;
    nas_evaluator_t *ev = NULL;
    if (nas_context_create(&ctx, &co) != NAS_OK || nas_space_load_file(&space, ctx, a.space) != NAS_OK) {
        fprintf(stderr, "nb201_study: %s\n", ctx ? nas_context_errmsg(ctx) : "cannot create a context");
        nas_context_destroy(ctx);
        return 1;
    }
    double opt;
    uint64_t n_opt, n_target, size;
    if (make_evaluator(&ev, space, ctx, a.table) != NAS_OK ||
        table_optimum(ctx, space, ev, &opt, &n_opt, &n_target, &size) != NAS_OK || !isfinite(opt)) {
        fprintf(stderr, "nb201_study: cannot read the table %s: %s\n", a.table, nas_context_errmsg(ctx));
        nas_evaluator_destroy(ev);
        nas_space_destroy(space);
        nas_context_destroy(ctx);
        return 1;
    }
    nas_evaluator_destroy(ev);
    int budgets[MAX_BUDGETS], nb = 0;
    if (a.budget > SHORT_BUDGET)
        budgets[nb++] = SHORT_BUDGET;
    budgets[nb++] = a.budget;
    printf("NAS-Bench-201, CIFAR-10 test accuracy (%s): %llu architectures, optimum %.4f (%llu of them), "
           "%llu reach %.2f%%\n", a.table, (unsigned long long)size, opt, (unsigned long long)n_opt,
           (unsigned long long)n_target, TARGET);
    printf("%d runs per strategy (seeds 1..%d) of %d queries (ask + evaluate + tell); the %d-query figures are "
           "read off the same runs\n\n", a.runs, a.runs, a.budget, SHORT_BUDGET);

    study_t sd[MAX_STRATEGIES];
    memset(sd, 0, sizeof sd);
    char names[1024];
    snprintf(names, sizeof names, "%s", a.strategies);
    int ns = 0;
    for (char *save = NULL, *tok = strtok_r(names, ",", &save); tok && ns < MAX_STRATEGIES;
         tok = strtok_r(NULL, ",", &save)) {
        study_t *s = &sd[ns++];
        s->name = tok;
        s->available = registered(ctx, tok);
        if (!s->available) {
            fprintf(stderr, "nb201_study: %s: not available (not registered)\n", tok);
            continue;
        }
        double t0 = now();
        run_strategy(s, ctx, space, &a, opt, budgets, nb);
        fprintf(stderr, "nb201_study: %s: %d runs in %.1f s (table load %.2f s)%s%s\n", tok, s->runs, now() - t0,
                s->load_seconds, s->failed ? ": failed: " : "", s->failed ? s->note : "");
    }
    for (int i = 0; i < ns; i++) {
        const strategy_params_t *lp = sd[i].available ? literature_params(sd[i].name) : NULL;
        printf("%-10s settings: ", sd[i].name);
        if (!sd[i].available)
            printf("-\n");
        else if (!lp || sd[i].defaults_only)
            printf("defaults\n");
        else
            for (int k = 0; lp->kv[k]; k += 2)
                printf("%s=%s%s", lp->kv[k], lp->kv[k + 1], lp->kv[k + 2] ? " " : " (NAS-Bench-201's)\n");
    }
    printf("\n");
    print_table(stdout, sd, ns, budgets, nb);
    int rc = 0;
    if (mkdir_p(a.out) != 0) {
        fprintf(stderr, "nb201_study: cannot create %s: %s\n", a.out, strerror(errno));
        rc = 1;
    } else if (!write_csvs(&a, sd, ns, budgets, nb) || !write_svg(&a, sd, ns, opt)) {
        rc = 1;
    } else {
        printf("\nwritten: %s/nb201_anytime.csv, %s/nb201_anytime.svg, %s/nb201_summary.csv\n", a.out, a.out, a.out);
    }
    double rea = NAN;
    for (int i = 0; i < ns; i++)
        if (strcmp(sd[i].name, "evolution") == 0 && sd[i].available && !sd[i].failed && a.budget >= SHORT_BUDGET)
            rea = sd[i].sum[SHORT_BUDGET - 1] / sd[i].runs;
    for (int i = 0; i < ns; i++)
        study_free(&sd[i]);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
    printf("nb201_rea_mean_at_100=%.2f\n", rea);
    return rc;
}
