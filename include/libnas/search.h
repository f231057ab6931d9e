/* libnas: parameters, trial results, searchers, evaluators and the run driver. */
#ifndef LIBNAS_SEARCH_H
#define LIBNAS_SEARCH_H

#include "core.h"
#include "space.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------- */
/* Parameters: string key/value pairs for strategies and evaluators        */

/**
 * Parameters of a searcher or evaluator ("population" = "50"). Values are kept as strings and
 * parsed by whoever reads them, with a clear message for a bad value. Keys never read by the
 * strategy they were given to are an error at creation (catches typos).
 */
typedef struct nas_params nas_params_t;

/** Create an empty parameter set. Since 0.1. */
NAS_API nas_status_t nas_params_create(nas_params_t **out, nas_context_t *ctx);
/** Destroy a parameter set. NULL is a no-op. Since 0.1. */
NAS_API void nas_params_destroy(nas_params_t *params);
/** Set (or replace) key to value; both copied. Keys: [A-Za-z0-9_.-]+. Since 0.1. */
NAS_API nas_status_t nas_params_set(nas_params_t *params, const char *key, const char *value);
/** Number of keys. Since 0.1. */
NAS_API uint32_t nas_params_count(const nas_params_t *params);
/** Key and value at index i (insertion order; owned by params). NAS_E_RANGE past the end. Since 0.1. */
NAS_API nas_status_t nas_params_at(const nas_params_t *params, uint32_t i, const char **key, const char **value);
/** Raw value of key; NAS_E_NOT_FOUND if absent. Marks the key as used. Since 0.1. */
NAS_API nas_status_t nas_params_get_string(const nas_params_t *params, const char *key, const char **out);
/** Integer value; *out = def if absent; NAS_E_INVAL with a message if not an integer. Marks the key as used. Since 0.1. */
NAS_API nas_status_t nas_params_get_int(const nas_params_t *params, const char *key, int64_t def, int64_t *out);
/** Real value; *out = def if absent; NAS_E_INVAL if not a finite number. Marks the key as used. Since 0.1. */
NAS_API nas_status_t nas_params_get_double(const nas_params_t *params, const char *key, double def, double *out);
/** Boolean (true/false/yes/no/1/0); *out = def if absent. Marks the key as used. Since 0.1. */
NAS_API nas_status_t nas_params_get_bool(const nas_params_t *params, const char *key, bool def, bool *out);
/** Last detailed error message of calls on this parameter set; never NULL. Since 0.1. */
NAS_API const char *nas_params_errmsg(const nas_params_t *params);

/* ---------------------------------------------------------------------- */
/* Results                                                                 */

/** The measured outcome of one trial: status, named metrics, cost. */
typedef struct nas_result nas_result_t;

/** Create an empty result (status NAS_OK, no metrics, cost 0). Since 0.1. */
NAS_API nas_status_t nas_result_create(nas_result_t **out, nas_context_t *ctx);
/** Destroy a result. NULL is a no-op. Since 0.1. */
NAS_API void nas_result_destroy(nas_result_t *res);
/** Reset to the state after creation. Since 0.1. */
NAS_API void nas_result_clear(nas_result_t *res);
/** Copy src into dst. Since 0.1. */
NAS_API nas_status_t nas_result_copy(nas_result_t *dst, const nas_result_t *src);
/** Set the trial status and an optional message (copied; NULL: none). A failed trial is still a result. Since 0.1. */
NAS_API nas_status_t nas_result_set_status(nas_result_t *res, nas_status_t status, const char *message);
/** Trial status. Since 0.1. */
NAS_API nas_status_t nas_result_status(const nas_result_t *res);
/** Trial message ("" if none; owned by the result). Since 0.1. */
NAS_API const char *nas_result_message(const nas_result_t *res);
/** Set (or replace) a named metric. NaN and infinities are accepted and recorded as such. Since 0.1. */
NAS_API nas_status_t nas_result_set_metric(nas_result_t *res, const char *name, double value);
/** Named metric; NAS_E_NOT_FOUND if absent. Since 0.1. */
NAS_API nas_status_t nas_result_get_metric(const nas_result_t *res, const char *name, double *out);
/** Number of metrics. Since 0.1. */
NAS_API uint32_t nas_result_num_metrics(const nas_result_t *res);
/** Metric at index i, in the order they were first set. Since 0.1. */
NAS_API nas_status_t nas_result_metric_at(const nas_result_t *res, uint32_t i, const char **name, double *value);
/** Set the cost of the trial in seconds (measured or simulated; >= 0). Since 0.1. */
NAS_API nas_status_t nas_result_set_cost(nas_result_t *res, double seconds);
/** Cost in seconds. Since 0.1. */
NAS_API double nas_result_cost(const nas_result_t *res);

/* ---------------------------------------------------------------------- */
/* Candidates                                                              */

/** A proposal: which trial, which architecture (with hyperparameters), at which fidelity. */
typedef struct nas_candidate {
    size_t struct_size;   /**< sizeof(nas_candidate_t) */
    uint64_t trial_id;    /**< assigned by the searcher, 0, 1, 2, ... in ask order */
    nas_arch_t *arch;     /**< created by the caller from the searcher's space; filled by ask */
    double fidelity;      /**< training budget (e.g. epochs); 0: the evaluator's default */
} nas_candidate_t;

#define NAS_CANDIDATE_INIT { sizeof(nas_candidate_t), 0, NULL, 0.0 }

/* ---------------------------------------------------------------------- */
/* Searchers                                                               */

/** A search strategy instance: proposes candidates (ask) and learns from results (tell). */
typedef struct nas_searcher nas_searcher_t;

/** Options for nas_searcher_create(). */
typedef struct nas_searcher_opts {
    size_t struct_size;       /**< sizeof(nas_searcher_opts_t) */
    uint64_t seed;            /**< 0: derived from the context seed */
    const char *objectives;   /**< "metric:max" or "m1:max,m2:min"; NULL: "accuracy:max" */
    /**
     * Hard constraints, "metric<=X" or "metric>=X", comma-separated (e.g. "latency_ms<=5,params<=1e6");
     * NULL: none. A result that breaks one is infeasible: it scores -inf and is never the best.
     */
    const char *constraints;
} nas_searcher_opts_t;

#define NAS_SEARCHER_OPTS_INIT { sizeof(nas_searcher_opts_t), 0, NULL, NULL }

/**
 * Create a searcher of the registered strategy `name` over `space`.
 * @param[in] params  strategy parameters or NULL; every key must be read by the strategy
 * @return NAS_OK; NAS_E_NOT_FOUND (no such strategy); NAS_E_INVAL (bad parameter or objectives);
 *         the strategy's own status. Message in nas_context_errmsg(). Since 0.1.
 */
NAS_API nas_status_t nas_searcher_create(nas_searcher_t **out, nas_space_t *space, const char *name,
                                         const nas_params_t *params, const nas_searcher_opts_t *opts);
/** Destroy a searcher. NULL is a no-op. Since 0.1. */
NAS_API void nas_searcher_destroy(nas_searcher_t *s);
/** Last detailed error message; never NULL. Since 0.1. */
NAS_API const char *nas_searcher_errmsg(const nas_searcher_t *s);
/** Registered name of the strategy. Since 0.1. */
NAS_API const char *nas_searcher_name(const nas_searcher_t *s);

/**
 * Propose the next candidate. cand->arch must be an arch of the searcher's space.
 * Several candidates may be outstanding at once (asked, not yet told).
 * @return NAS_OK; NAS_E_EXHAUSTED when the strategy has nothing more to propose. Since 0.1.
 */
NAS_API nas_status_t nas_searcher_ask(nas_searcher_t *s, nas_candidate_t *cand);

/**
 * Report the result of an asked candidate (matched by trial_id). A failed trial is told too.
 * @return NAS_OK; NAS_E_STATE for a trial that is not outstanding. Since 0.1.
 */
NAS_API nas_status_t nas_searcher_tell(nas_searcher_t *s, const nas_candidate_t *cand, const nas_result_t *res);

/* Accessors for strategies (plugins included). */
/** The searcher's space. Since 0.1. */
NAS_API nas_space_t *nas_searcher_space(const nas_searcher_t *s);
/** The context of the searcher's space. Since 0.1. */
NAS_API nas_context_t *nas_searcher_context(const nas_searcher_t *s);
/** The searcher's random stream (seeded from its seed). Since 0.1. */
NAS_API nas_rng_t *nas_searcher_rng(const nas_searcher_t *s);
/** Set the searcher's error message (for strategies reporting a failure). Since 0.1. */
NAS_API void nas_searcher_set_errmsg(nas_searcher_t *s, const char *message);
/** Number of objectives. Since 0.1. */
NAS_API uint32_t nas_searcher_num_objectives(const nas_searcher_t *s);
/** Name and direction (true = maximize) of objective i. Since 0.1. */
NAS_API nas_status_t nas_searcher_objective(const nas_searcher_t *s, uint32_t i, const char **name, bool *maximize);
/**
 * Objective values of a result, sign-adjusted so that larger is better (out[i] = -metric for
 * "min"). A failed trial, or a missing or NaN metric, gives -INFINITY for that objective. Since 0.1.
 */
NAS_API nas_status_t nas_searcher_scores(const nas_searcher_t *s, const nas_result_t *res, double *out, uint32_t n);
/**
 * How far a result is from meeting the constraints: 0 when feasible (or none are set), else the
 * sum over broken constraints of |value - bound| / max(|bound|, 1); +inf for a failed trial or a
 * missing constrained metric. Since 0.1.
 */
NAS_API double nas_searcher_violation(const nas_searcher_t *s, const nas_result_t *res);
/** Number of constraints. Since 0.1. */
NAS_API uint32_t nas_searcher_num_constraints(const nas_searcher_t *s);

/**
 * Save the searcher's whole state (its random stream, trial counter and the strategy's own state)
 * into buf. NAS_E_RANGE with *len set when cap is too small (buf may be NULL then);
 * NAS_E_UNSUPPORTED when the strategy has no save; NAS_E_STATE while a trial is outstanding. Since 0.1.
 */
NAS_API nas_status_t nas_searcher_save(nas_searcher_t *s, void *buf, size_t cap, size_t *len);
/**
 * Restore a state saved by nas_searcher_save() into a searcher just created with the same
 * strategy, parameters, seed, objectives and space (and not yet asked). NAS_E_CORRUPT for damaged
 * data; NAS_E_INVAL when it was saved by another strategy or setup; NAS_E_UNSUPPORTED. Since 0.1.
 */
NAS_API nas_status_t nas_searcher_load(nas_searcher_t *s, const void *data, size_t len);
/** Whether the strategy implements save and load. Since 0.1. */
NAS_API bool nas_searcher_can_save(const nas_searcher_t *s);
/** Number of trials asked so far (the next trial id). Since 0.1. */
NAS_API uint64_t nas_searcher_num_asked(const nas_searcher_t *s);

/* ---------------------------------------------------------------------- */
/* Evaluators                                                              */

/** Measures candidates: trains them, looks them up in a table, or asks the host. */
typedef struct nas_evaluator nas_evaluator_t;

/**
 * Create an evaluator of the registered kind `name` for `space` ("table" reads params "path",
 * optional "key_column" (default "arch") and "cost_column").
 * @return NAS_OK; NAS_E_NOT_FOUND (no such evaluator); NAS_E_INVAL (bad parameter); its own status. Since 0.1.
 */
NAS_API nas_status_t nas_evaluator_create(nas_evaluator_t **out, nas_space_t *space, const char *name,
                                          const nas_params_t *params);
/** Destroy an evaluator. NULL is a no-op. Since 0.1. */
NAS_API void nas_evaluator_destroy(nas_evaluator_t *ev);
/** Last detailed error message; never NULL. Since 0.1. */
NAS_API const char *nas_evaluator_errmsg(const nas_evaluator_t *ev);
/** Registered name. Since 0.1. */
NAS_API const char *nas_evaluator_name(const nas_evaluator_t *ev);

/**
 * Evaluate a candidate into `res` (cleared first). A trial that fails (missing table key,
 * diverged training, ...) gives NAS_OK with the failure in nas_result_status(res); a non-OK
 * return means the evaluator itself cannot go on (bad argument, out of memory, aborted). Since 0.1.
 */
NAS_API nas_status_t nas_evaluator_evaluate(nas_evaluator_t *ev, const nas_candidate_t *cand, nas_result_t *res);

/** The context of the evaluator's space (for a plugin's own calls and their messages). Since 0.1. */
NAS_API nas_context_t *nas_evaluator_context(const nas_evaluator_t *ev);
/** The evaluator's space. Since 0.1. */
NAS_API nas_space_t *nas_evaluator_space(const nas_evaluator_t *ev);
/** Set the evaluator's error message (for evaluators reporting a failure). Since 0.1. */
NAS_API void nas_evaluator_set_errmsg(nas_evaluator_t *ev, const char *message);

/* ---------------------------------------------------------------------- */
/* Run driver                                                              */

/** Progress of a run, passed to the progress callback. */
typedef struct nas_progress {
    size_t struct_size;      /**< sizeof(nas_progress_t) as built into the library */
    uint64_t trials_done;    /**< finished trials, failed ones included */
    uint64_t trials_failed;
    uint64_t max_trials;     /**< 0: no trial budget */
    double elapsed_seconds;  /**< wall-clock since the run started */
    double cost_seconds;     /**< sum of trial costs (simulated time) */
    double best_score;       /**< best first objective so far (as a metric, not sign-adjusted); NaN if none */
    uint64_t best_trial;     /**< trial id of the best; UINT64_MAX if none */
    const char *last_arch;   /**< canonical string of the last trial; valid during the call */
    nas_status_t last_status;
} nas_progress_t;

/** Progress callback, called after each trial. */
typedef void (*nas_progress_fn)(void *user_data, const nas_progress_t *progress);
/** Cancel callback, polled between trials; return true to stop with NAS_E_ABORTED. */
typedef bool (*nas_cancel_fn)(void *user_data);

/** Options of a run. */
typedef struct nas_run_opts {
    size_t struct_size;          /**< sizeof(nas_run_opts_t) */
    uint64_t max_trials;         /**< 0: unlimited */
    double max_seconds;          /**< wall-clock budget; 0: unlimited */
    double max_cost;             /**< budget in trial cost (simulated seconds); 0: unlimited */
    const char *journal_path;    /**< append-only JSON lines, fsync'd per trial; NULL: none */
    nas_progress_fn progress;
    void *progress_user_data;
    nas_cancel_fn cancel;
    void *cancel_user_data;
    /**
     * Continue the search recorded in journal_path (required) instead of starting one: the journal's
     * header must match this run (space, searcher, evaluator, objectives, seed); its trials are
     * taken back into the history and the searcher is brought to where it was, from the checkpoint
     * when there is one and by replaying the journal after it. A torn last line is cut off. Since 0.1.
     */
    bool resume;
    /**
     * Searcher checkpoint, rewritten atomically after every trial when the strategy can save
     * (NULL: none; a resume then replays the whole journal). Since 0.1.
     */
    const char *checkpoint_path;
    /**
     * Evaluate each trial in a child process (fork), so that a trial that crashes (a signal, an
     * abort, exit) is recorded with NAS_E_CRASHED and the search goes on, and a cancel stops the
     * running trial at once (polled every 0.1 s). The evaluator is created in this process; what it
     * changes in its own state while evaluating is lost with the child. POSIX only. Since 0.1.
     */
    bool isolate;
    /**
     * Seconds a trial may take (0: no limit); implies isolate. A trial over the limit is killed and
     * recorded with NAS_E_TIMEOUT. Since 0.1.
     */
    double trial_timeout;
} nas_run_opts_t;

#define NAS_RUN_OPTS_INIT { sizeof(nas_run_opts_t), 0, 0.0, 0.0, NULL, NULL, NULL, NULL, NULL, false, NULL, false, 0.0 }

/** A run: the loop ask -> evaluate -> tell under a budget, its journal and its history. */
typedef struct nas_run nas_run_t;

/**
 * Create a run of `searcher` against `evaluator` (same space; both borrowed, must outlive the run).
 * At least one budget must be set unless the searcher can be exhausted (grid). Since 0.1.
 */
NAS_API nas_status_t nas_run_create(nas_run_t **out, nas_searcher_t *searcher, nas_evaluator_t *evaluator,
                                    const nas_run_opts_t *opts);
/** Destroy a run. NULL is a no-op. Since 0.1. */
NAS_API void nas_run_destroy(nas_run_t *run);
/** Last detailed error message; never NULL. Since 0.1. */
NAS_API const char *nas_run_errmsg(const nas_run_t *run);

/**
 * Run until a budget is spent, the searcher is exhausted, or the cancel callback asks to stop.
 * Failed trials are recorded and the run goes on.
 * @return NAS_OK (budget spent or searcher exhausted); NAS_E_ABORTED (cancelled; finished trials
 *         are kept); NAS_E_IO (journal); an evaluator or searcher status that stops the run. Since 0.1.
 */
NAS_API nas_status_t nas_run_execute(nas_run_t *run);

/** Number of finished trials. Since 0.1. */
NAS_API uint64_t nas_run_num_trials(const nas_run_t *run);
/**
 * Trial i of the history (in finishing order): its candidate string and result (owned by the run,
 * valid until the run is destroyed). Since 0.1.
 */
NAS_API nas_status_t nas_run_trial(const nas_run_t *run, uint64_t i, uint64_t *trial_id, const char **arch,
                                   const nas_result_t **result);
/** Fidelity trial i was evaluated at (0: the evaluator's default), as asked or as recorded in the journal. Since 0.1. */
NAS_API nas_status_t nas_run_trial_fidelity(const nas_run_t *run, uint64_t i, double *fidelity);
/** Index in the history of the best successful trial (first objective); NAS_E_NOT_FOUND if none. Since 0.1. */
NAS_API nas_status_t nas_run_best(const nas_run_t *run, uint64_t *index);
/** Why the last execute stopped ("max_trials", "max_seconds", "max_cost", "exhausted", "cancelled", "error"). Since 0.1. */
NAS_API const char *nas_run_stop_reason(const nas_run_t *run);
/**
 * The Pareto front of the successful, feasible trials over all objectives: indices into the
 * history, in history order. *n is set to the front's size; NAS_E_RANGE when cap is smaller. Since 0.1.
 */
NAS_API nas_status_t nas_run_pareto(const nas_run_t *run, uint64_t *idx, uint64_t cap, uint64_t *n);
/**
 * For a strategy's run hook: evaluate `arch` at `fidelity` with the run's evaluator as the next
 * trial (journal, history, best, progress, as for an asked candidate); *result (optional) points at
 * the recorded result, owned by the run. A failed trial is NAS_OK with the failure in the result.
 * Since 0.1.
 */
NAS_API nas_status_t nas_run_evaluate_arch(nas_run_t *run, const nas_arch_t *arch, double fidelity,
                                           const nas_result_t **result);
/** For a strategy's run hook: whether a budget is spent or the cancel callback asks to stop. Since 0.1. */
NAS_API bool nas_run_should_stop(nas_run_t *run);
/** The run's evaluator. Since 0.1. */
NAS_API nas_evaluator_t *nas_run_evaluator(const nas_run_t *run);
/** Report progress of a run hook's own work (e.g. supernet epochs) through the progress callback,
 *  with last_arch set to `what`. Since 0.1. */
NAS_API void nas_run_report(nas_run_t *run, const char *what);
/** Number of trials taken back from the journal by a resume. Since 0.1. */
NAS_API uint64_t nas_run_num_resumed(const nas_run_t *run);
/** Wall-clock seconds spent in execute so far. Since 0.1. */
NAS_API double nas_run_elapsed(const nas_run_t *run);

/**
 * Write the summary of the run (searcher, budget, trials, failures, best trial with its metrics)
 * as one JSON object to `path` (written to a temporary file, fsync'd, then renamed). Since 0.1.
 */
NAS_API nas_status_t nas_run_write_summary(const nas_run_t *run, const char *path);

#ifdef __cplusplus
}
#endif
#endif /* LIBNAS_SEARCH_H */
