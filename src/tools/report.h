/* nas report: what it reads from a search's output folder (report_load.c) and prints (cmd_report.c). */
#ifndef NAS_TOOLS_REPORT_H
#define NAS_TOOLS_REPORT_H

#include "cli.h"
#include "json_read.h"

#define REPORT_MAX_OBJECTIVES 64
#define REPORT_MAX_JOURNAL_BYTES ((long long)1 << 31)
#define REPORT_MAX_SUMMARY_BYTES ((size_t)1 << 28)

typedef struct rep_objective {
    char *name;
    bool maximize;
} rep_objective_t;

typedef struct rep_constraint {
    char *metric;
    bool le;               /* metric <= bound, else metric >= bound */
    double bound;
} rep_constraint_t;

/* One trial line of the journal's last run. Strings point into `line`. */
typedef struct rep_trial {
    jr_t *line;            /* the parsed line (owned) */
    size_t lineno;         /* 1-based line of the journal */
    uint64_t id;
    const char *arch, *status, *message;
    const jr_t *metrics;   /* an object of numbers and nulls */
    double fidelity, cost, elapsed;
    bool ok;               /* status "ok" */
    bool feasible;         /* ok and within every constraint */
    bool on_front;         /* on the Pareto front (with 2+ objectives) */
} rep_trial_t;

typedef struct report {
    char *dir, *journal_path, *summary_path;
    jr_t *header;          /* the last header line */
    size_t header_line;
    jr_t *summary;         /* summary.json, NULL when there is none */
    bool summary_matches;  /* the summary describes the journal's last run */
    rep_objective_t obj[REPORT_MAX_OBJECTIVES];
    uint32_t num_obj;
    rep_constraint_t con[REPORT_MAX_OBJECTIVES];
    uint32_t num_con;
    rep_trial_t *t;
    uint32_t n, cap;
    double *score;         /* n x num_obj, sign-adjusted (larger is better), -inf when not usable */
    uint32_t runs;         /* header lines in the journal */
    bool torn;             /* a torn last line was ignored */
    uint64_t failed, infeasible;
    double cost, elapsed;  /* sums over the trials */
    uint32_t *ranked;      /* trials with a finite first score, best first (ties: earlier first) */
    uint32_t num_ranked;
    uint32_t *front;       /* Pareto front over all objectives, in history order */
    uint32_t num_front;
} report_t;

/* Read OUT_DIR's journal.jsonl (required) and summary.json (optional) and compute rankings and
 * the front. CLI_OK, or CLI_FAIL with the message printed. report_free() in both cases. */
int report_load(report_t *r, const char *dir);
void report_free(report_t *r);

/* Metric `name` of a trial: NaN when absent or null. */
double report_metric(const rep_trial_t *t, const char *name);

#endif /* NAS_TOOLS_REPORT_H */
