/* nas search: what its files share (cmd_search.c, search_args.c, search_output.c). */
#ifndef NAS_SEARCH_CMD_H
#define NAS_SEARCH_CMD_H

#include "cli.h"

/* Parsed command line of nas search. */
typedef struct search_args {
    const char *experiment;
    const char *resume;         /* output folder to resume, or NULL */
    char *experiment_buf;       /* the experiment path read from search.args (malloc'd) */
    const char *out;            /* NULL: the experiment's */
    uint64_t trials;            /* 0: the experiment's */
    uint64_t seed;
    bool has_seed, force, json;
    int verbosity;              /* -1 quiet, 0, 1 verbose */
} search_args_t;

/* The run and what it ran, for the outputs. */
typedef struct search_info {
    const nas_experiment_t *exp;
    const char *experiment_path;
    nas_run_t *run;
    const char *summary_json;   /* contents of summary.json, or NULL */
} search_info_t;

/* The command line into *a (zeroed first); *help when --help was given. CLI_OK or CLI_USAGE (message printed). */
int search_parse_args(int argc, char **argv, search_args_t *a, bool *help);
/* Write DIR/search.args for a later --resume. CLI_OK or CLI_FAIL (message printed). */
int search_save_args(const search_args_t *a, const char *dir, uint64_t trials);
/* Read DIR/search.args into a (experiment, seed, trials unless --trials was given); the experiment
 * file must hash as it did then unless force. CLI_OK or CLI_FAIL (message printed). */
int search_load_args(search_args_t *a, const char *dir, bool force);

/* Number of failed trials of the run. */
uint64_t search_count_failed(const nas_run_t *run);
/* Write summary.json and best.json into dir, then print best.json (--json) or the text summary on stdout. */
int search_report(const search_args_t *a, search_info_t *si, const char *dir);

#endif /* NAS_SEARCH_CMD_H */
