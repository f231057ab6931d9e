/*
 * The run driver: ask -> evaluate -> tell under a budget, with a journal, a history and a summary.
 *
 * Budgets: a trial starts only while every budget set has room (trials done < max_trials, wall
 * clock < max_seconds, summed trial cost < max_cost); the trial that crosses a budget is kept.
 * A run without any budget is allowed only when its searcher declared itself finite (the
 * built-in grid, and random on a countable space), and then ends when the searcher is exhausted.
 * The cancel callback is polled before every trial; an evaluator that returns NAS_E_ABORTED
 * (a host evaluator watching the same flag) stops the run at once as a cancel does.
 */
#include "run/run_internal.h"

#include <math.h>
#include <string.h>

typedef struct trial {
    uint64_t id;
    char *arch;            /* canonical string with hyperparameters */
    nas_result_t *res;
} trial_t;

struct nas_run {
    nas_context_t *ctx;
    nas_searcher_t *searcher;
    nas_evaluator_t *ev;
    nas_run_opts_t o;             /* journal_path points at our copy */
    nas__journal_t journal;
    bool has_journal;
    nas_arch_t *arch;             /* the candidate being run */
    nas_result_t *res;
    char *str;                    /* its string */
    size_t str_cap;
    trial_t *trials;
    uint32_t num_trials, cap_trials;
    uint64_t failed;
    double cost;
    double elapsed;               /* seconds spent in finished executes */
    double started;               /* clock at the start of the running execute */
    bool running;
    int64_t best;                 /* index in trials, -1 */
    double best_score;            /* sign-adjusted first objective of the best */
    bool warned_objective;        /* a successful trial lacked the first objective (logged once) */
    const char *stop_reason;
    char errmsg[NAS_ERRMSG_CAP];
};

static bool budget_ok(double v)
{
    return isfinite(v) && v >= 0.0;
}

nas_status_t nas_run_create(nas_run_t **out, nas_searcher_t *searcher, nas_evaluator_t *evaluator,
                            const nas_run_opts_t *opts)
{
    nas_context_t *ctx = nas_searcher_context(searcher);
    if (!out)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_run_create: out is NULL");
    *out = NULL;
    if (!searcher || !evaluator)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_run_create: searcher or evaluator is NULL");
    if (nas_searcher_space(searcher) != nas_evaluator_space(evaluator))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_run_create: searcher and evaluator work on different spaces");
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    if (opts && !nas__copy_opts(&o, sizeof o, opts, opts->struct_size))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_run_create: opts->struct_size %zu is too small", opts->struct_size);
    if (!budget_ok(o.max_seconds) || !budget_ok(o.max_cost))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_run_create: max_seconds and max_cost must be finite and >= 0");
    if (!o.max_trials && o.max_seconds == 0.0 && o.max_cost == 0.0 && !nas__searcher_finite(searcher))
        return nas__ctx_fail(ctx, NAS_E_INVAL,
                             "nas_run_create: searcher '%s' may never be exhausted: set a budget (max_trials, "
                             "max_seconds or max_cost)", nas_searcher_name(searcher));

    nas_run_t *run = nas__calloc(ctx, 1, sizeof *run);
    if (!run)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating a run");
    run->ctx = ctx;
    run->searcher = searcher;
    run->ev = evaluator;
    run->o = o;
    run->o.journal_path = NULL;
    run->best = -1;
    run->best_score = -INFINITY;
    run->stop_reason = "";
    run->journal.fd = -1;
    nas_status_t st;
    if ((st = nas_arch_create(&run->arch, nas_searcher_space(searcher))) != NAS_OK ||
        (st = nas_result_create(&run->res, ctx)) != NAS_OK) {
        nas__ctx_fail(ctx, st, "out of memory creating a run");
        goto out_destroy;
    }
    if (o.journal_path) {
        run->has_journal = true;
        if ((st = nas__journal_open(&run->journal, ctx, o.journal_path, ctx->errmsg)) != NAS_OK ||
            (st = nas__journal_header(&run->journal, searcher, evaluator, &o, ctx->errmsg)) != NAS_OK)
            goto out_destroy;
        run->o.journal_path = run->journal.path;
    }
    *out = run;
    return NAS_OK;

out_destroy:
    nas_run_destroy(run);
    return st;
}

void nas_run_destroy(nas_run_t *run)
{
    if (!run)
        return;
    for (uint32_t i = 0; i < run->num_trials; i++) {
        nas__free(run->ctx, run->trials[i].arch);
        nas_result_destroy(run->trials[i].res);
    }
    nas__free(run->ctx, run->trials);
    if (run->has_journal)
        nas__journal_close(&run->journal);
    nas_arch_destroy(run->arch);
    nas_result_destroy(run->res);
    nas__free(run->ctx, run->str);
    nas__free(run->ctx, run);
}

const char *nas_run_errmsg(const nas_run_t *run)
{
    return run ? run->errmsg : "";
}

/* ---------------------------------------------------------------------- */
/* The loop                                                                 */

/* The canonical string of run->arch into run->str. */
static nas_status_t arch_string(nas_run_t *run)
{
    size_t len = 0;
    nas_status_t st = nas_arch_to_string(run->arch, 0, run->str, run->str_cap, &len);
    if (st == NAS_E_RANGE && len + 1 > run->str_cap) {
        char *p = nas__realloc(run->ctx, run->str, len + 1);
        if (!p)
            return nas__fail(run->errmsg, NAS_E_NOMEM, "out of memory writing an architecture string");
        run->str = p;
        run->str_cap = len + 1;
        st = nas_arch_to_string(run->arch, 0, run->str, run->str_cap, &len);
    }
    if (st != NAS_OK)
        return nas__fail(run->errmsg, st, "cannot write the candidate as a string: %s",
                         nas_space_errmsg(nas_arch_space(run->arch)));
    return NAS_OK;
}

/* Append the finished trial to the history and update the counters and the best. */
static nas_status_t record(nas_run_t *run, const nas_candidate_t *cand)
{
    if (run->num_trials == UINT32_MAX ||
        !nas__grow(run->ctx, (void **)&run->trials, &run->cap_trials, run->num_trials + 1, sizeof *run->trials))
        return nas__fail(run->errmsg, NAS_E_NOMEM, "out of memory recording trial %llu",
                         (unsigned long long)cand->trial_id);
    trial_t t = { cand->trial_id, nas__strdup(run->ctx, run->str), NULL };
    nas_status_t st = t.arch ? nas_result_create(&t.res, run->ctx) : NAS_E_NOMEM;
    if (st == NAS_OK)
        st = nas_result_copy(t.res, run->res);
    if (st != NAS_OK) {
        nas__free(run->ctx, t.arch);
        nas_result_destroy(t.res);
        return nas__fail(run->errmsg, st, "out of memory recording trial %llu", (unsigned long long)cand->trial_id);
    }
    run->trials[run->num_trials++] = t;
    run->cost += nas_result_cost(t.res);
    if (nas_result_status(t.res) != NAS_OK) {
        run->failed++;
        return NAS_OK;
    }
    double score;
    const char *objective = NULL;
    double value;
    if (!run->warned_objective && nas_searcher_objective(run->searcher, 0, &objective, NULL) == NAS_OK &&
        nas_result_get_metric(t.res, objective, &value) == NAS_E_NOT_FOUND) {
        /* A typo in the objectives would otherwise give a search with no best and no word why. */
        run->warned_objective = true;
        nas__logf(run->ctx, NAS_LOG_WARN,
                  "trial %llu succeeded but reported no metric '%s' (the first objective): it cannot be ranked",
                  (unsigned long long)t.id, objective);
    }
    if (nas_searcher_scores(run->searcher, t.res, &score, 1) == NAS_OK && score > run->best_score) {
        run->best_score = score;
        run->best = (int64_t)run->num_trials - 1;
    }
    return NAS_OK;
}

static void report_progress(nas_run_t *run, nas_status_t last_status)
{
    if (!run->o.progress)
        return;
    nas_progress_t p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.trials_done = run->num_trials;
    p.trials_failed = run->failed;
    p.max_trials = run->o.max_trials;
    p.elapsed_seconds = nas_run_elapsed(run);
    p.cost_seconds = run->cost;
    p.best_score = NAN;
    p.best_trial = UINT64_MAX;
    if (run->best >= 0) {
        const trial_t *b = &run->trials[run->best];
        const char *name;
        double v;
        if (nas_searcher_objective(run->searcher, 0, &name, NULL) == NAS_OK &&
            nas_result_get_metric(b->res, name, &v) == NAS_OK)
            p.best_score = v;
        p.best_trial = b->id;
    }
    p.last_arch = run->str;
    p.last_status = last_status;
    run->o.progress(run->o.progress_user_data, &p);
}

/* The reason to stop before the next trial, or NULL to go on. */
static const char *budget_spent(nas_run_t *run)
{
    if (run->o.max_trials && run->num_trials >= run->o.max_trials)
        return "max_trials";
    if (run->o.max_seconds > 0.0 && nas_run_elapsed(run) >= run->o.max_seconds)
        return "max_seconds";
    if (run->o.max_cost > 0.0 && run->cost >= run->o.max_cost)
        return "max_cost";
    return NULL;
}

/* One trial: ask, evaluate, record, journal, tell. NAS_E_EXHAUSTED when the searcher is done. */
static nas_status_t one_trial(nas_run_t *run)
{
    nas_candidate_t cand = NAS_CANDIDATE_INIT;
    cand.arch = run->arch;
    nas_status_t st = nas_searcher_ask(run->searcher, &cand);
    if (st == NAS_E_EXHAUSTED)
        return st;
    if (st != NAS_OK)
        return nas__fail(run->errmsg, st, "%s", nas_searcher_errmsg(run->searcher));
    if ((st = arch_string(run)) != NAS_OK)
        return st;
    double t0 = nas__now();
    st = nas_evaluator_evaluate(run->ev, &cand, run->res);
    double elapsed = nas__now() - t0;
    if (st != NAS_OK)
        return nas__fail(run->errmsg, st, "%s", nas_evaluator_errmsg(run->ev));
    if ((st = record(run, &cand)) != NAS_OK)
        return st;
    if (run->has_journal && (st = nas__journal_trial(&run->journal, &cand, run->str, run->res, elapsed,
                                                     run->errmsg)) != NAS_OK)
        return st;
    if ((st = nas_searcher_tell(run->searcher, &cand, run->res)) != NAS_OK)
        return nas__fail(run->errmsg, st, "%s", nas_searcher_errmsg(run->searcher));
    report_progress(run, nas_result_status(run->res));
    return NAS_OK;
}

nas_status_t nas_run_execute(nas_run_t *run)
{
    if (!run)
        return NAS_E_INVAL;
    if (run->running)
        return nas__fail(run->errmsg, NAS_E_STATE, "nas_run_execute: the run is already executing");
    run->running = true;
    run->started = nas__now();
    run->errmsg[0] = '\0';
    nas_status_t st = NAS_OK;
    for (;;) {
        const char *spent = budget_spent(run);
        if (spent) {
            run->stop_reason = spent;
            break;
        }
        if (run->o.cancel && run->o.cancel(run->o.cancel_user_data)) {
            run->stop_reason = "cancelled";
            st = nas__fail(run->errmsg, NAS_E_ABORTED, "cancelled by the caller after %u trials",
                           (unsigned)run->num_trials);
            break;
        }
        st = one_trial(run);
        if (st == NAS_E_EXHAUSTED) {
            run->stop_reason = "exhausted";
            st = NAS_OK;
            break;
        }
        if (st != NAS_OK) {
            run->stop_reason = st == NAS_E_ABORTED ? "cancelled" : "error";
            break;
        }
    }
    run->elapsed += nas__now() - run->started;
    run->running = false;
    return st;
}

/* ---------------------------------------------------------------------- */
/* Results                                                                  */

uint64_t nas_run_num_trials(const nas_run_t *run)
{
    return run ? run->num_trials : 0;
}

nas_status_t nas_run_trial(const nas_run_t *run, uint64_t i, uint64_t *trial_id, const char **arch,
                           const nas_result_t **result)
{
    if (!run)
        return NAS_E_INVAL;
    if (i >= run->num_trials)
        return nas__fail(((nas_run_t *)run)->errmsg, NAS_E_RANGE, "trial index %llu past the end (%u)",
                         (unsigned long long)i, (unsigned)run->num_trials);
    const trial_t *t = &run->trials[i];
    if (trial_id)
        *trial_id = t->id;
    if (arch)
        *arch = t->arch;
    if (result)
        *result = t->res;
    return NAS_OK;
}

nas_status_t nas_run_best(const nas_run_t *run, uint64_t *index)
{
    if (!run || !index)
        return NAS_E_INVAL;
    if (run->best < 0)
        return nas__fail(((nas_run_t *)run)->errmsg, NAS_E_NOT_FOUND, "no successful trial with a finite score yet");
    *index = (uint64_t)run->best;
    return NAS_OK;
}

const char *nas_run_stop_reason(const nas_run_t *run)
{
    return run ? run->stop_reason : "";
}

double nas_run_elapsed(const nas_run_t *run)
{
    if (!run)
        return 0.0;
    return run->running ? run->elapsed + (nas__now() - run->started) : run->elapsed;
}

/* ---------------------------------------------------------------------- */
/* Summary                                                                  */

static void summary_json(const nas_run_t *run, nas__sb_t *sb)
{
    const nas_searcher_t *s = run->searcher;
    nas__sb_puts(sb, "{\n  \"libnas\": ");
    nas__sb_json_str(sb, nas_version_string());
    nas__sb_puts(sb, ",\n  \"space\": ");
    nas__sb_json_str(sb, nas_space_name(nas_searcher_space(s)));
    nas__sb_puts(sb, ",\n  \"searcher\": ");
    nas__sb_json_str(sb, nas_searcher_name(s));
    nas__sb_puts(sb, ",\n  \"evaluator\": ");
    nas__sb_json_str(sb, nas_evaluator_name(run->ev));
    nas__sb_puts(sb, ",\n  \"objectives\": ");
    nas__sb_t obj;
    nas__sb_init(&obj, run->ctx);
    nas__searcher_objectives_string(s, &obj);
    if (obj.failed)
        sb->failed = true;
    nas__sb_json_str(sb, obj.failed ? "" : obj.data);
    nas__sb_free(&obj);
    nas__sb_printf(sb, ",\n  \"seed\": %llu,\n  \"budget\": ", (unsigned long long)nas__searcher_seed(s));
    nas__json_budget(sb, &run->o);
    nas__sb_puts(sb, ",\n  \"journal\": ");
    if (run->has_journal)
        nas__sb_json_str(sb, run->journal.path);
    else
        nas__sb_puts(sb, "null");
    nas__sb_printf(sb, ",\n  \"trials\": %llu,\n  \"failed\": %llu,\n  \"cost_seconds\": ",
                   (unsigned long long)run->num_trials, (unsigned long long)run->failed);
    nas__sb_json_num(sb, run->cost);
    nas__sb_puts(sb, ",\n  \"elapsed_seconds\": ");
    nas__sb_json_num(sb, nas_run_elapsed(run));
    nas__sb_puts(sb, ",\n  \"stop_reason\": ");
    nas__sb_json_str(sb, run->stop_reason);
    nas__sb_puts(sb, ",\n  \"best\": ");
    if (run->best < 0) {
        nas__sb_puts(sb, "null");
    } else {
        const trial_t *b = &run->trials[run->best];
        nas__sb_printf(sb, "{\"index\": %lld, \"trial\": %llu, \"arch\": ", (long long)run->best,
                       (unsigned long long)b->id);
        nas__sb_json_str(sb, b->arch);
        nas__sb_puts(sb, ", \"metrics\": ");
        nas__json_metrics(sb, b->res);
        nas__sb_puts(sb, ", \"cost\": ");
        nas__sb_json_num(sb, nas_result_cost(b->res));
        nas__sb_putc(sb, '}');
    }
    nas__sb_puts(sb, "\n}\n");
}

nas_status_t nas_run_write_summary(const nas_run_t *crun, const char *path)
{
    if (!crun)
        return NAS_E_INVAL;
    nas_run_t *run = (nas_run_t *)crun;   /* only the message changes */
    if (!path || !*path)
        return nas__fail(run->errmsg, NAS_E_INVAL, "nas_run_write_summary: path is NULL or empty");
    nas__sb_t sb;
    nas__sb_init(&sb, run->ctx);
    summary_json(run, &sb);
    nas_status_t st = sb.failed ? nas__fail(run->errmsg, NAS_E_NOMEM, "out of memory writing the summary")
                                : nas__write_file_atomic(run->ctx, path, sb.data, sb.len, run->errmsg);
    nas__sb_free(&sb);
    return st;
}
