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
    if (!budget_ok(o.max_seconds) || !budget_ok(o.max_cost) || !budget_ok(o.trial_timeout))
        return nas__ctx_fail(ctx, NAS_E_INVAL,
                             "nas_run_create: max_seconds, max_cost and trial_timeout must be finite and >= 0");
    if (o.trial_timeout > 0.0)
        o.isolate = true;
    /* (a one-shot strategy ends by itself: its supernet epochs, then one retrain) */
    if (!o.max_trials && o.max_seconds == 0.0 && o.max_cost == 0.0 && !nas__searcher_finite(searcher) &&
        !nas__searcher_has_run(searcher))
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
    run->o.checkpoint_path = NULL;
    if (o.resume && !o.journal_path) {
        st = nas__ctx_fail(ctx, NAS_E_INVAL, "nas_run_create: resume needs journal_path");
        goto out_destroy;
    }
    if (o.checkpoint_path && !(run->checkpoint_path = nas__strdup(ctx, o.checkpoint_path))) {
        st = nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating a run");
        goto out_destroy;
    }
    run->o.checkpoint_path = run->checkpoint_path;
    bool has_header = false;
    if (o.resume && (st = nas__run_resume(run, o.journal_path, &has_header)) != NAS_OK) {
        nas__ctx_fail(ctx, st, "%s", run->errmsg);
        goto out_destroy;
    }
    if (o.journal_path) {
        run->has_journal = true;
        if ((st = nas__journal_open(&run->journal, ctx, o.journal_path, ctx->errmsg)) != NAS_OK ||
            (!has_header && (st = nas__journal_header(&run->journal, searcher, evaluator, &o, ctx->errmsg)) != NAS_OK))
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
    nas__free(run->ctx, run->checkpoint_path);
    nas__free(run->ctx, run->ckpt_buf);
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

nas_status_t nas__run_arch_string(nas_run_t *run)
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

nas_status_t nas__run_record(nas_run_t *run, uint64_t id, const char *arch, double fidelity, const nas_result_t *res)
{
    if (run->num_trials == UINT32_MAX ||
        !nas__grow(run->ctx, (void **)&run->trials, &run->cap_trials, run->num_trials + 1, sizeof *run->trials))
        return nas__fail(run->errmsg, NAS_E_NOMEM, "out of memory recording trial %llu", (unsigned long long)id);
    nas__trial_t t = { id, nas__strdup(run->ctx, arch), fidelity, NULL };
    nas_status_t st = t.arch ? nas_result_create(&t.res, run->ctx) : NAS_E_NOMEM;
    if (st == NAS_OK)
        st = nas_result_copy(t.res, res);
    if (st != NAS_OK) {
        nas__free(run->ctx, t.arch);
        nas_result_destroy(t.res);
        return nas__fail(run->errmsg, st, "out of memory recording trial %llu", (unsigned long long)id);
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
        const nas__trial_t *b = &run->trials[run->best];
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

/*
 * Write the searcher's state to the checkpoint file, at most every CHECKPOINT_SECONDS unless
 * forced (the end of an execute). Between checkpoints a resume replays the journal, which costs
 * the strategy's ask/tell time only, so the interval bounds the file traffic, not what is lost.
 */
#define CHECKPOINT_SECONDS 1.0

static nas_status_t checkpoint(nas_run_t *run, bool force)
{
    if (!run->checkpoint_path || !nas_searcher_can_save(run->searcher) ||
        run->ckpt_trials == nas_searcher_num_asked(run->searcher))
        return NAS_OK;
    double now = nas__now();
    if (!force && now - run->ckpt_time < CHECKPOINT_SECONDS)
        return NAS_OK;
    size_t len = 0;
    nas_status_t st = nas_searcher_save(run->searcher, run->ckpt_buf, run->ckpt_cap, &len);
    if (st == NAS_E_RANGE) {
        void *p = nas__realloc(run->ctx, run->ckpt_buf, len);
        if (!p)
            return nas__fail(run->errmsg, NAS_E_NOMEM, "out of memory saving the searcher's state");
        run->ckpt_buf = p;
        run->ckpt_cap = len;
        st = nas_searcher_save(run->searcher, run->ckpt_buf, run->ckpt_cap, &len);
    }
    if (st == NAS_E_STATE)
        return NAS_OK;   /* trials outstanding (a host drives the searcher too): next time */
    if (st != NAS_OK)
        return nas__fail(run->errmsg, st, "%s", nas_searcher_errmsg(run->searcher));
    if ((st = nas__write_file_atomic(run->ctx, run->checkpoint_path, run->ckpt_buf, len, run->errmsg)) != NAS_OK)
        return st;
    run->ckpt_time = now;
    run->ckpt_trials = nas_searcher_num_asked(run->searcher);
    return NAS_OK;
}

static nas_status_t pareto_front(nas_run_t *run, uint64_t **front, uint64_t *n);

/* The front as a journal line, by trial id. */
static nas_status_t journal_front(nas_run_t *run)
{
    uint64_t *front, n;
    nas_status_t st = pareto_front(run, &front, &n);
    if (st != NAS_OK)
        return st;
    for (uint64_t i = 0; i < n; i++)
        front[i] = run->trials[front[i]].id;
    st = nas__journal_front(&run->journal, front, n, run->errmsg);
    nas__free(run->ctx, front);
    return st;
}

/* One trial: ask, evaluate, record, journal, tell. NAS_E_EXHAUSTED when the searcher is done. */
/* Evaluate the candidate in run->arch (its string in run->str), record and journal it. */
static nas_status_t evaluate_record(nas_run_t *run, const nas_candidate_t *cand)
{
    nas_status_t st;
    double t0 = nas__now();
    if (run->o.isolate) {
        nas_result_clear(run->res);
        st = nas__run_isolated(run, cand, run->res);
    } else {
        st = nas_evaluator_evaluate(run->ev, cand, run->res);
        if (st != NAS_OK)
            nas__fail(run->errmsg, st, "%s", nas_evaluator_errmsg(run->ev));
    }
    double elapsed = nas__now() - t0;
    if (st != NAS_OK)
        return st;
    if ((st = nas__run_record(run, cand->trial_id, run->str, cand->fidelity, run->res)) != NAS_OK)
        return st;
    if (run->has_journal &&
        (st = nas__journal_trial(&run->journal, cand, run->str, run->res, elapsed, run->errmsg)) != NAS_OK)
        return st;
    return NAS_OK;
}

static nas_status_t one_trial(nas_run_t *run)
{
    nas_candidate_t cand = NAS_CANDIDATE_INIT;
    cand.arch = run->arch;
    nas_status_t st = nas_searcher_ask(run->searcher, &cand);
    if (st == NAS_E_EXHAUSTED)
        return st;
    if (st != NAS_OK)
        return nas__fail(run->errmsg, st, "%s", nas_searcher_errmsg(run->searcher));
    if ((st = nas__run_arch_string(run)) != NAS_OK || (st = evaluate_record(run, &cand)) != NAS_OK)
        return st;
    if ((st = nas_searcher_tell(run->searcher, &cand, run->res)) != NAS_OK)
        return nas__fail(run->errmsg, st, "%s", nas_searcher_errmsg(run->searcher));
    if ((st = checkpoint(run, false)) != NAS_OK)
        return st;
    report_progress(run, nas_result_status(run->res));
    return NAS_OK;
}

nas_status_t nas_run_evaluate_arch(nas_run_t *run, const nas_arch_t *arch, double fidelity,
                                   const nas_result_t **result)
{
    if (!run)
        return NAS_E_INVAL;
    if (!arch || nas_arch_space(arch) != nas_searcher_space(run->searcher))
        return nas__fail(run->errmsg, NAS_E_INVAL, "nas_run_evaluate_arch: arch is NULL or of another space");
    if (!isfinite(fidelity) || fidelity < 0.0)
        return nas__fail(run->errmsg, NAS_E_INVAL, "nas_run_evaluate_arch: fidelity %g must be finite and >= 0",
                         fidelity);
    nas_status_t st = nas_arch_copy(run->arch, arch);
    if (st != NAS_OK)
        return nas__fail(run->errmsg, st, "nas_run_evaluate_arch: cannot copy the arch");
    nas_candidate_t cand = NAS_CANDIDATE_INIT;
    cand.arch = run->arch;
    cand.fidelity = fidelity;
    cand.trial_id = nas__searcher_take_id(run->searcher);
    if ((st = nas__run_arch_string(run)) != NAS_OK || (st = evaluate_record(run, &cand)) != NAS_OK)
        return st;
    if (result)
        *result = run->trials[run->num_trials - 1].res;
    report_progress(run, nas_result_status(run->res));
    return NAS_OK;
}

bool nas_run_should_stop(nas_run_t *run)
{
    if (!run)
        return true;
    const char *spent = budget_spent(run);
    if (spent) {
        run->stop_reason = spent;
        return true;
    }
    if (run->o.cancel && run->o.cancel(run->o.cancel_user_data)) {
        run->stop_reason = "cancelled";
        return true;
    }
    return false;
}

nas_evaluator_t *nas_run_evaluator(const nas_run_t *run)
{
    return run ? run->ev : NULL;
}

void nas_run_report(nas_run_t *run, const char *what)
{
    if (!run || !run->o.progress)
        return;
    char *saved = run->str;
    run->str = (char *)(what ? what : "");
    report_progress(run, NAS_OK);
    run->str = saved;
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
    if (nas__searcher_has_run(run->searcher) && run->hook_done) {
        /* The journal says the strategy's search finished (its end line): nothing left to do. A run
         * killed before that starts the hook over; the trials it had finished stay taken back
         * (nas_run_num_resumed() tells the hook how many). */
        run->stop_reason = "done";
        run->running = false;
        return NAS_OK;
    }
    if (nas__searcher_has_run(run->searcher)) {
        /* A one-shot strategy drives the search itself. */
        run->stop_reason = "";
        st = nas__searcher_call_run(run->searcher, run);
        if (st != NAS_OK && st != NAS_E_ABORTED)
            nas__fail(run->errmsg, st, "%s", nas_searcher_errmsg(run->searcher));
        else if (st == NAS_E_ABORTED)
            nas__fail(run->errmsg, st, "cancelled by the caller after %u trials", (unsigned)run->num_trials);
        if (!run->stop_reason[0])
            run->stop_reason = st == NAS_OK ? "done" : st == NAS_E_ABORTED ? "cancelled" : "error";
        if (st == NAS_OK) {   /* the hook says its search is over (also when a budget cut it short) */
            run->hook_done = true;
            if (run->has_journal)
                st = nas__journal_end(&run->journal, "done", run->errmsg);
        }
        run->elapsed += nas__now() - run->started;
        run->running = false;
        return st;
    }
    for (;;) {
        if (nas_run_should_stop(run)) {   /* sets stop_reason */
            if (strcmp(run->stop_reason, "cancelled") == 0)
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
    nas_status_t cst = checkpoint(run, true);
    if (st == NAS_OK)
        st = cst;
    if (st == NAS_OK && run->has_journal && nas_searcher_num_objectives(run->searcher) > 1)
        st = journal_front(run);
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
    const nas__trial_t *t = &run->trials[i];
    if (trial_id)
        *trial_id = t->id;
    if (arch)
        *arch = t->arch;
    if (result)
        *result = t->res;
    return NAS_OK;
}

nas_status_t nas_run_trial_fidelity(const nas_run_t *run, uint64_t i, double *fidelity)
{
    if (!run || !fidelity)
        return NAS_E_INVAL;
    if (i >= run->num_trials)
        return nas__fail(((nas_run_t *)run)->errmsg, NAS_E_RANGE, "trial index %llu past the end (%u)",
                         (unsigned long long)i, (unsigned)run->num_trials);
    *fidelity = run->trials[i].fidelity;
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

uint64_t nas_run_num_resumed(const nas_run_t *run)
{
    return run ? run->num_resumed : 0;
}

/* a dominates b: no worse in every objective, better in one (sign-adjusted scores). */
static bool dominates(const double *a, const double *b, uint32_t k)
{
    bool better = false;
    for (uint32_t i = 0; i < k; i++) {
        if (a[i] < b[i])
            return false;
        better |= a[i] > b[i];
    }
    return better;
}

/* Indices of the front into *front (allocated; NULL when empty), its size into *n. */
static nas_status_t pareto_front(nas_run_t *run, uint64_t **front, uint64_t *n)
{
    *front = NULL;
    *n = 0;
    uint32_t k = nas_searcher_num_objectives(run->searcher);
    double *sc = nas__calloc(run->ctx, (size_t)run->num_trials * k + 1, sizeof *sc);
    uint64_t *cand = nas__calloc(run->ctx, (size_t)run->num_trials + 1, sizeof *cand);
    if (!sc || !cand) {
        nas__free(run->ctx, sc);
        nas__free(run->ctx, cand);
        return nas__fail(run->errmsg, NAS_E_NOMEM, "out of memory computing the Pareto front");
    }
    uint64_t m = 0;
    for (uint32_t i = 0; i < run->num_trials; i++) {
        double *v = &sc[m * k];
        nas_searcher_scores(run->searcher, run->trials[i].res, v, k);
        bool finite = true;
        for (uint32_t j = 0; j < k; j++)
            finite &= isfinite(v[j]) != 0;
        if (finite)
            cand[m++] = i;
    }
    uint64_t kept = 0;
    for (uint64_t a = 0; a < m; a++) {
        bool dominated = false;
        for (uint64_t b = 0; b < m && !dominated; b++)
            dominated = b != a && dominates(&sc[b * k], &sc[a * k], k);
        /* Equal score vectors: the first in history order stands for them. */
        for (uint64_t b = 0; b < a && !dominated; b++)
            dominated = memcmp(&sc[b * k], &sc[a * k], k * sizeof *sc) == 0;
        if (!dominated)
            cand[kept++] = cand[a];
    }
    nas__free(run->ctx, sc);
    *front = cand;
    *n = kept;
    return NAS_OK;
}

nas_status_t nas_run_pareto(const nas_run_t *crun, uint64_t *idx, uint64_t cap, uint64_t *n)
{
    if (!crun || !n)
        return NAS_E_INVAL;
    nas_run_t *run = (nas_run_t *)crun;   /* only the message changes */
    if (!idx && cap)
        return nas__fail(run->errmsg, NAS_E_INVAL, "nas_run_pareto: idx is NULL");
    uint64_t *front;
    nas_status_t st = pareto_front(run, &front, n);
    if (st != NAS_OK)
        return st;
    if (*n > cap)
        st = nas__fail(run->errmsg, NAS_E_RANGE, "the Pareto front has %llu trials, room for %llu",
                       (unsigned long long)*n, (unsigned long long)cap);
    else if (*n)
        memcpy(idx, front, *n * sizeof *idx);
    nas__free(run->ctx, front);
    return st;
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

static void trial_json(const nas_run_t *run, nas__sb_t *sb, uint64_t i)
{
    const nas__trial_t *t = &run->trials[i];
    nas__sb_printf(sb, "{\"index\": %llu, \"trial\": %llu, \"arch\": ", (unsigned long long)i,
                   (unsigned long long)t->id);
    nas__sb_json_str(sb, t->arch);
    nas__sb_puts(sb, ", \"metrics\": ");
    nas__json_metrics(sb, t->res);
    nas__sb_puts(sb, ", \"cost\": ");
    nas__sb_json_num(sb, nas_result_cost(t->res));
    nas__sb_putc(sb, '}');
}

/* "pareto": the front over every objective, in history order. */
static void pareto_json(const nas_run_t *run, nas__sb_t *sb)
{
    uint64_t *front, n;
    if (pareto_front((nas_run_t *)run, &front, &n) != NAS_OK) {
        sb->failed = true;
        return;
    }
    nas__sb_puts(sb, ",\n  \"pareto\": [");
    for (uint64_t i = 0; i < n; i++) {
        nas__sb_puts(sb, i ? ",\n    " : "\n    ");
        trial_json(run, sb, front[i]);
    }
    nas__sb_puts(sb, n ? "\n  ]" : "]");
    nas__free(run->ctx, front);
}

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
    nas__sb_puts(sb, ",\n  \"constraints\": ");
    nas__sb_init(&obj, run->ctx);
    nas__searcher_constraints_string(s, &obj);
    if (obj.failed)
        sb->failed = true;
    nas__sb_json_str(sb, obj.failed || !obj.data ? "" : obj.data);
    nas__sb_free(&obj);
    nas__sb_printf(sb, ",\n  \"seed\": %llu,\n  \"budget\": ", (unsigned long long)nas__searcher_seed(s));
    nas__json_budget(sb, &run->o);
    nas__sb_puts(sb, ",\n  \"journal\": ");
    if (run->has_journal)
        nas__sb_json_str(sb, run->journal.path);
    else
        nas__sb_puts(sb, "null");
    nas__sb_printf(sb, ",\n  \"trials\": %llu,\n  \"resumed\": %llu,\n  \"failed\": %llu,\n  \"cost_seconds\": ",
                   (unsigned long long)run->num_trials, (unsigned long long)run->num_resumed,
                   (unsigned long long)run->failed);
    nas__sb_json_num(sb, run->cost);
    nas__sb_puts(sb, ",\n  \"elapsed_seconds\": ");
    nas__sb_json_num(sb, nas_run_elapsed(run));
    nas__sb_puts(sb, ",\n  \"stop_reason\": ");
    nas__sb_json_str(sb, run->stop_reason);
    nas__sb_puts(sb, ",\n  \"best\": ");
    if (run->best < 0) {
        nas__sb_puts(sb, "null");
    } else {
        trial_json(run, sb, (uint64_t)run->best);
    }
    if (nas_searcher_num_objectives(s) > 1)
        pareto_json(run, sb);
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

const char *nas__run_journal_path(const nas_run_t *run)
{
    return run && run->has_journal ? run->o.journal_path : NULL;
}
