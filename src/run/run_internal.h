/* Internals of src/run: the journal and the summary writer. */
#ifndef NAS_RUN_INTERNAL_H
#define NAS_RUN_INTERNAL_H

#include "search/search_internal.h"

/*
 * The journal: append-only JSON lines, one write() and one fsync() per line.
 *
 *   {"type":"header","format":2,"libnas":"0.1.0","space":"...","searcher":"...","evaluator":"...",
 *    "objectives":"m:max","seed":N,"budget":{"max_trials":N,"max_seconds":X,"max_cost":X},"time":UNIX}
 *   {"type":"trial","trial":ID,"arch":"...","fidelity":X,"status":"ok","message":"...",
 *    "metrics":{"name":X,...},"cost":X,"elapsed":X}
 *   {"type":"front","trials":[ID,...]}   (2+ objectives: the Pareto front, when a run ends by its
 *    budget or by exhaustion; readers that take trials back skip it)
 *   {"type":"end","reason":"done"}   (a strategy's run hook returned NAS_OK, its search is over (a
 *    budget may have cut it short): a resume has nothing left to do. Format 2; in format 1 journals, which have no such line, a hook run that holds a
 *    trial counts as finished, as the built-in one-shot strategies end with their one trial)
 *
 * Every line is a complete JSON object ending in '\n', so a reader replays the trial lines that
 * parse and recognizes a torn last line (no newline, or not valid JSON) left by a crash. Each
 * trial line is self-contained (arch string, fidelity, full result) so a resume can tell the
 * searcher again without the history in memory. Non-finite metrics are written as null. One
 * journal file may hold several runs: each starts with its header line.
 */
typedef struct nas__journal {
    nas_context_t *ctx;
    int fd;                /* -1 when closed */
    char *path;
} nas__journal_t;

/* Open (create or append to) the journal at path. NAS_E_IO / NAS_E_NOMEM with "PATH: what" in errbuf. */
nas_status_t nas__journal_open(nas__journal_t *j, nas_context_t *ctx, const char *path, char *errbuf);
nas_status_t nas__journal_header(nas__journal_t *j, const nas_searcher_t *s, const nas_evaluator_t *ev,
                                 const nas_run_opts_t *opts, char *errbuf);
nas_status_t nas__journal_trial(nas__journal_t *j, const nas_candidate_t *cand, const char *arch,
                                const nas_result_t *res, double elapsed, char *errbuf);
/* {"type":"front","trials":[ID,...]}: the Pareto front when a run with several objectives ends. */
nas_status_t nas__journal_front(nas__journal_t *j, const uint64_t *ids, uint64_t n, char *errbuf);
nas_status_t nas__journal_end(nas__journal_t *j, const char *reason, char *errbuf);
void nas__journal_close(nas__journal_t *j);

/* JSON pieces shared by the journal and the summary. */
void nas__json_metrics(nas__sb_t *sb, const nas_result_t *res);
void nas__json_budget(nas__sb_t *sb, const nas_run_opts_t *opts);

/* A finished trial in the run's history. */
typedef struct nas__trial {
    uint64_t id;
    char *arch;            /* canonical string with hyperparameters */
    double fidelity;
    nas_result_t *res;
} nas__trial_t;

struct nas_run {
    nas_context_t *ctx;
    nas_searcher_t *searcher;
    nas_evaluator_t *ev;
    nas_run_opts_t o;             /* journal_path and checkpoint_path point at our copies */
    nas__journal_t journal;
    bool has_journal;
    char *checkpoint_path;
    void *ckpt_buf;               /* the last searcher state written */
    size_t ckpt_cap;
    double ckpt_time;             /* clock at the last checkpoint */
    uint64_t ckpt_trials;         /* trials it covers */
    nas_arch_t *arch;             /* the candidate being run */
    nas_result_t *res;
    char *str;                    /* its string */
    size_t str_cap;
    nas__trial_t *trials;
    uint32_t num_trials, cap_trials;
    uint64_t num_resumed;
    bool hook_done;               /* resumed: the journal says the run hook finished its search */
    uint64_t failed;
    double cost;
    double elapsed;               /* seconds spent in finished executes (and the resumed trials) */
    double started;               /* clock at the start of the running execute */
    bool running;
    int64_t best;                 /* index in trials, -1 */
    double best_score;            /* sign-adjusted first objective of the best */
    bool warned_objective;        /* a successful trial lacked the first objective (logged once) */
    const char *stop_reason;
    char errmsg[NAS_ERRMSG_CAP];
};

/* The canonical string of run->arch into run->str (grown as needed). */
nas_status_t nas__run_arch_string(nas_run_t *run);

/* Append a finished trial (arch string, result copied) to the history; update counters and best. */
nas_status_t nas__run_record(nas_run_t *run, uint64_t id, const char *arch, double fidelity, const nas_result_t *res);

/*
 * Evaluate cand in a child process (src/run/isolate.c): res gets the child's result, or a failed
 * trial (NAS_E_CRASHED, NAS_E_TIMEOUT); the return is non-OK only for what stops the run (the
 * evaluator's own failure, a cancel, no fork).
 */
nas_status_t nas__run_isolated(nas_run_t *run, const nas_candidate_t *cand, nas_result_t *res);

/*
 * Resume (src/run/resume.c), called by nas_run_create() before the journal is opened: read the
 * journal, cut a torn last line, check its header against this run, take its trials into the
 * history and bring the searcher to where it was (checkpoint, then replay). *has_header tells
 * whether the journal already has this run's header.
 */
nas_status_t nas__run_resume(nas_run_t *run, const char *journal_path, bool *has_header);

#endif /* NAS_RUN_INTERNAL_H */
