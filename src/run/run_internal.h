/* Internals of src/run: the journal and the summary writer. */
#ifndef NAS_RUN_INTERNAL_H
#define NAS_RUN_INTERNAL_H

#include "search/search_internal.h"

/*
 * The journal: append-only JSON lines, one write() and one fsync() per line.
 *
 *   {"type":"header","format":1,"libnas":"0.1.0","space":"...","searcher":"...","evaluator":"...",
 *    "objectives":"m:max","seed":N,"budget":{"max_trials":N,"max_seconds":X,"max_cost":X},"time":UNIX}
 *   {"type":"trial","trial":ID,"arch":"...","fidelity":X,"status":"ok","message":"...",
 *    "metrics":{"name":X,...},"cost":X,"elapsed":X}
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
void nas__journal_close(nas__journal_t *j);

/* JSON pieces shared by the journal and the summary. */
void nas__json_metrics(nas__sb_t *sb, const nas_result_t *res);
void nas__json_budget(nas__sb_t *sb, const nas_run_opts_t *opts);

/* fsync of the folder holding `path` (best effort: errors are ignored). */
void nas__fsync_folder(nas_context_t *ctx, const char *path);
/* Write `len` bytes to path atomically: a temporary file in the same folder, fsync, rename, fsync of the folder. */
nas_status_t nas__write_file_atomic(nas_context_t *ctx, const char *path, const char *data, size_t len, char *errbuf);

#endif /* NAS_RUN_INTERNAL_H */
