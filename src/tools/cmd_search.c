/* nas search: run an experiment file; journal.jsonl, summary.json and best.json in the output folder. */
#if !defined(_XOPEN_SOURCE) || _XOPEN_SOURCE < 700
#undef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* realpath */
#endif
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_help_search(FILE *f)
{
    fputs("usage: nas search EXPERIMENT.yaml [--out DIR] [--trials N] [--seed S] [--force]\n"
          "                  [--quiet | --verbose] [--json]\n"
          "       nas search --resume OUT_DIR [--trials N] [--quiet | --verbose] [--json]\n"
          "\n"
          "Run the search an experiment file describes (space, searcher, evaluator, budget) and\n"
          "write into the output folder (the experiment's 'output', created with its parents):\n"
          "  journal.jsonl   one JSON line per finished trial, after a header line\n"
          "  summary.json    the run summary written by the library\n"
          "  best.json       the best trial (architecture, trial id, metrics) and the summary\n"
          "  search.args     what --resume needs: the experiment file (and a hash of it), seed, trials\n"
          "  searcher.state  the strategy's checkpoint (rewritten at most every second)\n"
          "Then print a short summary. Ctrl-C (or SIGTERM) stops after the running trial: finished\n"
          "trials stay in the journal and the exit code is 130.\n"
          "\n"
          "--resume continues a search that was stopped or killed at any point (kill -9 and power\n"
          "loss included): the finished trials are taken back from the journal, the strategy is\n"
          "restored from its checkpoint and the journal, and the search goes on where it stopped;\n"
          "with the same seed it ends with the same journal and best result as a run that was\n"
          "never interrupted. The experiment file must be unchanged (--force skips that check).\n"
          "\n"
          "  -o, --out DIR     output folder (overrides the experiment's 'output')\n"
          "  -t, --trials N    trial budget (overrides the experiment's max_trials)\n"
          "  -s, --seed S      random seed (overrides the experiment's seed)\n"
          "  -f, --force       overwrite the results of an earlier search in the output folder\n"
          "  -r, --resume DIR  continue the search whose results are in DIR\n"
          "  -q, --quiet       print nothing but errors\n"
          "  -v, --verbose     one line per trial on stderr, and the library's info messages\n"
          "      --json        print best.json on stdout instead of the text summary\n",
          f);
}

/* What the progress callback needs. */
typedef struct progress_state {
    bool tty;              /* draw a single updating line on stderr */
    bool verbose;          /* one line per trial on stderr */
    bool drawn;            /* a progress line is on screen */
    double last_draw;      /* elapsed seconds at the last redraw */
    const char *objective; /* name of the first objective */
} progress_state_t;

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static bool cancel_cb(void *user_data)
{
    (void)user_data;
    return interrupted != 0;
}

static void progress_cb(void *user_data, const nas_progress_t *p)
{
    progress_state_t *ps = user_data;
    if (!p || p->struct_size < sizeof *p)
        return;
    char best[128] = "";
    if (!isnan(p->best_score)) {
        char v[40];
        cli_format_double(v, sizeof v, p->best_score);
        snprintf(best, sizeof best, "  best %s%s%s (trial %" PRIu64 ")", ps->objective, *ps->objective ? " " : "",
                 v, p->best_trial);
    }
    char total[32] = "";
    if (p->max_trials)
        snprintf(total, sizeof total, "/%" PRIu64, p->max_trials);
    if (ps->verbose) {
        fprintf(stderr, "trial %" PRIu64 "%s: %s %s%s\n", p->trials_done, total, nas_status_name(p->last_status),
                p->last_arch ? p->last_arch : "", best);
        return;
    }
    if (!ps->tty)
        return;
    bool last = p->max_trials && p->trials_done >= p->max_trials;
    if (ps->drawn && !last && p->elapsed_seconds - ps->last_draw < 0.1)
        return;
    ps->last_draw = p->elapsed_seconds;
    ps->drawn = true;
    fprintf(stderr, "\r\033[Ktrial %" PRIu64 "%s", p->trials_done, total);
    if (p->trials_failed)
        fprintf(stderr, " (%" PRIu64 " failed)", p->trials_failed);
    fprintf(stderr, "%s  %.1fs", best, p->elapsed_seconds);
    fflush(stderr);
}

/* First non-empty message, or NULL. */
static const char *pick(const char *a, const char *b)
{
    if (a && *a)
        return a;
    if (b && *b)
        return b;
    return NULL;
}

static uint64_t count_failed(const nas_run_t *run)
{
    uint64_t n = nas_run_num_trials(run), failed = 0;
    for (uint64_t i = 0; i < n; i++) {
        const char *arch;
        const nas_result_t *res;
        uint64_t id;
        if (nas_run_trial(run, i, &id, &arch, &res) == NAS_OK && nas_result_status(res) != NAS_OK)
            failed++;
    }
    return failed;
}

static void write_metrics(FILE *f, const nas_result_t *res)
{
    fputc('{', f);
    for (uint32_t i = 0; i < nas_result_num_metrics(res); i++) {
        const char *name;
        double v;
        if (nas_result_metric_at(res, i, &name, &v) != NAS_OK)
            continue;
        fputs(i ? ", " : "", f);
        cli_json_string(f, name);
        fputs(": ", f);
        cli_json_number(f, v);
    }
    fputc('}', f);
}

/* The run and what it ran, for the outputs. */
typedef struct search_info {
    const nas_experiment_t *exp;
    const char *experiment_path;
    nas_run_t *run;
    const char *summary_json;   /* contents of summary.json, or NULL */
} search_info_t;

static void write_best_json(FILE *f, const search_info_t *si)
{
    const nas_run_t *run = si->run;
    uint64_t best_index;
    fputs("{\n  \"experiment\": ", f);
    cli_json_string(f, nas_experiment_name(si->exp));
    fputs(",\n  \"experiment_file\": ", f);
    cli_json_string(f, si->experiment_path);
    fputs(",\n  \"space\": ", f);
    cli_json_string(f, nas_space_name(nas_experiment_space(si->exp)));
    fputs(",\n  \"searcher\": ", f);
    cli_json_string(f, nas_experiment_searcher(si->exp));
    fputs(",\n  \"evaluator\": ", f);
    cli_json_string(f, nas_experiment_evaluator(si->exp));
    fputs(",\n  \"objectives\": ", f);
    cli_json_string(f, nas_experiment_objectives(si->exp));
    fputs(",\n  \"best\": ", f);
    const char *arch;
    const nas_result_t *res;
    uint64_t id;
    if (nas_run_best(run, &best_index) == NAS_OK && nas_run_trial(run, best_index, &id, &arch, &res) == NAS_OK) {
        fprintf(f, "{\"trial\": %" PRIu64 ", \"arch\": ", id);
        cli_json_string(f, arch);
        fputs(", \"metrics\": ", f);
        write_metrics(f, res);
        fputs(", \"cost\": ", f);
        cli_json_number(f, nas_result_cost(res));
        fputc('}', f);
    } else {
        fputs("null", f);
    }
    fprintf(f, ",\n  \"trials\": %" PRIu64 ",\n  \"failed\": %" PRIu64 ",\n  \"stop_reason\": ",
            nas_run_num_trials(run), count_failed(run));
    cli_json_string(f, nas_run_stop_reason(run));
    fputs(",\n  \"elapsed_seconds\": ", f);
    cli_json_number(f, nas_run_elapsed(run));
    fputs(",\n  \"journal\": \"journal.jsonl\"", f);
    if (si->summary_json) {
        fputs(",\n  \"summary\": ", f);
        fputs(si->summary_json, f);
    }
    fputs("\n}\n", f);
}

static bool best_json_cb(FILE *f, const void *si)
{
    write_best_json(f, si);
    return true;
}

/* summary.json as the library wrote it, trimmed, if it looks like one JSON object. */
static char *read_summary(const char *path)
{
    size_t len;
    char *s = cli_read_file(path, 1u << 20, &len);
    if (!s)
        return NULL;
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
        s[--len] = '\0';
    if (len < 2 || s[0] != '{' || s[len - 1] != '}') {
        free(s);
        return NULL;
    }
    return s;
}

static void print_text_summary(const search_info_t *si, const char *out_dir)
{
    const nas_run_t *run = si->run;
    uint64_t n = nas_run_num_trials(run);
    printf("experiment: %s (%s over %s, evaluator %s)\n", nas_experiment_name(si->exp),
           nas_experiment_searcher(si->exp), nas_space_name(nas_experiment_space(si->exp)),
           nas_experiment_evaluator(si->exp));
    uint64_t failed = count_failed(run);
    printf("trials: %" PRIu64 " (%" PRIu64 " failed), stopped: %s, elapsed: %.2f s\n", n, failed,
           nas_run_stop_reason(run), nas_run_elapsed(run));
    uint64_t best_index, id;
    const char *arch;
    const nas_result_t *res;
    if (nas_run_best(run, &best_index) == NAS_OK && nas_run_trial(run, best_index, &id, &arch, &res) == NAS_OK) {
        printf("best: trial %" PRIu64 " %s\n", id, arch);
        for (uint32_t i = 0; i < nas_result_num_metrics(res); i++) {
            const char *name;
            double v;
            char buf[64];
            if (nas_result_metric_at(res, i, &name, &v) != NAS_OK)
                continue;
            cli_format_double(buf, sizeof buf, v);
            printf("  %s: %s\n", name, buf);
        }
    } else if (n == 0 || failed == n) {
        printf("best: none (no successful trial)\n");
    } else {
        printf("best: none (no trial reported a value for the objectives '%s')\n", nas_experiment_objectives(si->exp));
    }
    printf("results: %s (journal.jsonl, summary.json, best.json)\n", out_dir);
}

/* Remove the files of an earlier search (for --force). */
static int clear_old(const char *dir)
{
    static const char *const names[] = { "journal.jsonl", "summary.json", "best.json", "search.args",
                                         "searcher.state" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *p = cli_join(dir, names[i]);
        if (!p) {
            cli_error("out of memory");
            return CLI_FAIL;
        }
        if (remove(p) != 0 && errno != ENOENT) {
            cli_error("cannot remove '%s': %s", p, strerror(errno));
            free(p);
            return CLI_FAIL;
        }
        free(p);
    }
    return CLI_OK;
}

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

static int parse_args(int argc, char **argv, search_args_t *a, bool *help)
{
    cli_opt_t opts[] = {
        { "out", 'o', true, NULL, false },     { "trials", 't', true, NULL, false },
        { "seed", 's', true, NULL, false },    { "force", 'f', false, NULL, false },
        { "quiet", 'q', false, NULL, false },  { "verbose", 'v', false, NULL, false },
        { "json", 0, false, NULL, false },     { "help", 'h', false, NULL, false },
        { "resume", 'r', true, NULL, false },
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    int rc = cli_parse("search", argc, argv, opts, nopts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    memset(a, 0, sizeof *a);
    *help = cli_opt(opts, nopts, "help")->seen;
    if (*help)
        return CLI_OK;
    cli_opt_t *o = cli_opt(opts, nopts, "resume");
    if (o->seen) {
        if (o->value[0] == '\0') {
            cli_error("search: --resume needs the output folder of the search");
            return CLI_USAGE;
        }
        if (npos || cli_opt(opts, nopts, "out")->seen || cli_opt(opts, nopts, "seed")->seen) {
            cli_error("search: --resume takes the experiment, folder and seed from %s/search.args: do not give "
                      "an experiment file, --out or --seed with it", o->value);
            return CLI_USAGE;
        }
        a->resume = o->value;
    } else if (npos != 1) {
        cli_error("search: missing the experiment file (usage: nas search EXPERIMENT.yaml [--out DIR])");
        return CLI_USAGE;
    } else {
        a->experiment = pos[0];
    }
    o = cli_opt(opts, nopts, "out");
    if (o->seen && o->value[0] == '\0') {
        cli_error("search: --out needs a folder name");
        return CLI_USAGE;
    }
    a->out = o->seen ? o->value : NULL;
    o = cli_opt(opts, nopts, "trials");
    if (o->seen && (rc = cli_parse_u64(o->value, "search: --trials", 1, UINT64_MAX, &a->trials)) != CLI_OK)
        return rc;
    o = cli_opt(opts, nopts, "seed");
    a->has_seed = o->seen;
    if (o->seen && (rc = cli_parse_u64(o->value, "search: --seed", 0, UINT64_MAX, &a->seed)) != CLI_OK)
        return rc;
    a->force = cli_opt(opts, nopts, "force")->seen;
    a->json = cli_opt(opts, nopts, "json")->seen;
    bool quiet = cli_opt(opts, nopts, "quiet")->seen, verbose = cli_opt(opts, nopts, "verbose")->seen;
    if (quiet && verbose) {
        cli_error("search: --quiet and --verbose exclude each other");
        return CLI_USAGE;
    }
    a->verbosity = quiet ? -1 : verbose ? 1 : 0;
    return CLI_OK;
}

/* Prepare the output folder; *journal is malloc'd. */
static int prepare_output(const search_args_t *a, const char *dir, char **journal)
{
    int rc = cli_mkdir_p(dir);
    if (rc != CLI_OK)
        return rc;
    *journal = cli_join(dir, "journal.jsonl");
    if (!*journal) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    if (cli_exists(*journal) && !a->force) {
        cli_error("search: '%s' already exists: an earlier search wrote there (pass --force to overwrite it, "
                  "or choose another folder with --out)", *journal);
        return CLI_FAIL;
    }
    return a->force ? clear_old(dir) : CLI_OK;
}

/* FNV-1a of a file's bytes as 16 hex digits into hex[17]; false if unreadable. */
static bool file_hash(const char *path, char hex[17])
{
    size_t len;
    char *text = cli_read_file(path, 64u << 20, &len);
    if (!text)
        return false;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 0x100000001b3ull;
    free(text);
    snprintf(hex, 17, "%016" PRIx64, h);
    return true;
}

static bool text_cb(FILE *f, const void *text)
{
    return fputs(text, f) >= 0;
}

/* search.args: what a later --resume needs to rebuild the same search. */
static int save_args(const search_args_t *a, const char *dir, uint64_t trials)
{
    char *abs = realpath(a->experiment, NULL);
    char hex[17];
    if (!abs || !file_hash(abs, hex)) {
        cli_error("cannot read '%s': %s", a->experiment, strerror(errno));
        free(abs);
        return CLI_FAIL;
    }
    if (strchr(abs, '\n')) {
        cli_error("search: the experiment's path has a newline in it; --resume could not read it back");
        free(abs);
        return CLI_FAIL;
    }
    size_t cap = strlen(abs) + 256;
    char *text = malloc(cap), *path = cli_join(dir, "search.args");
    int rc = CLI_FAIL;
    if (!text || !path) {
        cli_error("out of memory");
    } else {
        snprintf(text, cap, "# written by nas search, read by nas search --resume\nexperiment=%s\n"
                 "experiment_hash=%s\nhas_seed=%d\nseed=%" PRIu64 "\ntrials=%" PRIu64 "\n",
                 abs, hex, a->has_seed ? 1 : 0, a->seed, trials);
        rc = cli_write_file_atomic(path, text_cb, text);
    }
    free(path);
    free(text);
    free(abs);
    return rc;
}

/* Read DIR/search.args into a (experiment, seed, trials unless --trials was given). */
static int load_args(search_args_t *a, const char *dir, bool force)
{
    char *path = cli_join(dir, "search.args");
    size_t len;
    char *text = path ? cli_read_file(path, 1u << 16, &len) : NULL;
    if (!text) {
        cli_error("search: cannot resume from '%s': no readable search.args there (is it the output folder of "
                  "a nas search?)", dir);
        free(path);
        return CLI_FAIL;
    }
    char hash[17] = "";
    bool have_exp = false, have_seed = false;
    int rc = CLI_OK;
    for (char *line = strtok(text, "\n"); line && rc == CLI_OK; line = strtok(NULL, "\n")) {
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq)
            continue;
        *eq = '\0';
        const char *k = line, *v = eq + 1;
        uint64_t n;
        if (strcmp(k, "experiment") == 0) {
            free(a->experiment_buf);
            a->experiment_buf = strdup(v);
            a->experiment = a->experiment_buf;
            have_exp = a->experiment_buf != NULL;
        } else if (strcmp(k, "experiment_hash") == 0 && strlen(v) == 16) {
            memcpy(hash, v, 17);
        } else if (strcmp(k, "has_seed") == 0) {
            a->has_seed = strcmp(v, "1") == 0;
        } else if (strcmp(k, "seed") == 0) {
            rc = cli_parse_u64(v, "search.args: seed", 0, UINT64_MAX, &a->seed);
            have_seed = true;
        } else if (strcmp(k, "trials") == 0) {
            rc = cli_parse_u64(v, "search.args: trials", 0, UINT64_MAX, &n);
            if (rc == CLI_OK && !a->trials)
                a->trials = n;
        }
    }
    free(text);
    if (rc == CLI_OK && (!have_exp || !have_seed || !hash[0])) {
        cli_error("search: %s is incomplete (experiment, experiment_hash and seed are needed)", path);
        rc = CLI_FAIL;
    }
    char now[17];
    if (rc == CLI_OK && !file_hash(a->experiment, now)) {
        cli_error("search: cannot resume: the experiment file '%s' is not readable: %s", a->experiment,
                  strerror(errno));
        rc = CLI_FAIL;
    } else if (rc == CLI_OK && strcmp(now, hash) != 0 && !force) {
        cli_error("search: cannot resume: the experiment file '%s' changed since the search started (pass --force "
                  "to resume with it anyway)", a->experiment);
        rc = CLI_FAIL;
    }
    free(path);
    return rc;
}

/* Run the loop with Ctrl-C wired to the cancel callback. */
static nas_status_t execute(nas_run_t *run)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;   /* a second Ctrl-C ends the process at once */
    interrupted = 0;
    struct sigaction old_term;
    bool installed = sigaction(SIGINT, &sa, &old) == 0;
    bool installed_term = sigaction(SIGTERM, &sa, &old_term) == 0;
    nas_status_t st = nas_run_execute(run);
    if (installed)
        sigaction(SIGINT, &old, NULL);
    if (installed_term)
        sigaction(SIGTERM, &old_term, NULL);
    return st;
}

/* Write summary.json and best.json and print the outcome. */
static int report(const search_args_t *a, search_info_t *si, const char *dir)
{
    int rc = CLI_OK;
    char *summary_path = cli_join(dir, "summary.json"), *best_path = cli_join(dir, "best.json");
    if (!summary_path || !best_path) {
        cli_error("out of memory");
        rc = CLI_FAIL;
        goto out_free;
    }
    nas_status_t st = nas_run_write_summary(si->run, summary_path);
    char *summary = NULL;
    if (st == NAS_OK)
        summary = read_summary(summary_path);
    else
        cli_lib_error(st, nas_run_errmsg(si->run), "cannot write summary.json");
    si->summary_json = summary;
    rc = cli_write_file_atomic(best_path, best_json_cb, si);
    if (st != NAS_OK)
        rc = CLI_FAIL;
    if (rc == CLI_OK && a->json) {
        write_best_json(stdout, si);
    } else if (rc == CLI_OK && a->verbosity >= 0) {
        print_text_summary(si, dir);
    }
    si->summary_json = NULL;
    free(summary);
out_free:
    free(best_path);
    free(summary_path);
    return rc;
}

/* Create searcher, evaluator and run, execute, report. */
static int run_experiment(const search_args_t *a, nas_context_t *ctx, nas_experiment_t *exp, const char *dir,
                          const char *journal)
{
    nas_space_t *space = nas_experiment_space(exp);
    nas_evaluator_t *ev = NULL;
    nas_searcher_t *searcher = NULL;
    nas_run_t *run = NULL;
    int rc = CLI_FAIL;

    nas_status_t st = nas_evaluator_create(&ev, space, nas_experiment_evaluator(exp),
                                           nas_experiment_evaluator_params(exp));
    if (st != NAS_OK) {
        cli_lib_error(st, nas_context_errmsg(ctx), "cannot create the evaluator");
        return CLI_FAIL;
    }
    nas_searcher_opts_t sopts = NAS_SEARCHER_OPTS_INIT;
    sopts.seed = a->has_seed ? a->seed : nas_experiment_seed(exp);
    sopts.objectives = nas_experiment_objectives(exp);
    const char *constraints = nas_experiment_constraints(exp);
    sopts.constraints = constraints && *constraints ? constraints : NULL;
    st = nas_searcher_create(&searcher, space, nas_experiment_searcher(exp), nas_experiment_searcher_params(exp),
                             &sopts);
    if (st != NAS_OK) {
        cli_lib_error(st, nas_context_errmsg(ctx), "cannot create the searcher");
        goto out_free_ev;
    }

    progress_state_t ps = { false, a->verbosity > 0, false, 0.0, "" };
    ps.tty = a->verbosity == 0 && isatty(STDERR_FILENO);
    bool maximize;
    if (nas_searcher_objective(searcher, 0, &ps.objective, &maximize) != NAS_OK || !ps.objective)
        ps.objective = "";
    nas_run_opts_t ropts = NAS_RUN_OPTS_INIT;
    if ((st = nas_experiment_budget(exp, &ropts)) != NAS_OK) {
        cli_lib_error(st, nas_context_errmsg(ctx), "cannot read the budget");
        goto out_free_searcher;
    }
    if (a->trials)
        ropts.max_trials = a->trials;
    char *checkpoint = cli_join(dir, "searcher.state");
    if (!checkpoint) {
        cli_error("out of memory");
        goto out_free_searcher;
    }
    if (!a->resume && save_args(a, dir, a->trials) != CLI_OK) {
        free(checkpoint);
        goto out_free_searcher;
    }
    ropts.resume = a->resume != NULL;
    ropts.checkpoint_path = checkpoint;
    ropts.journal_path = journal;
    ropts.progress = progress_cb;
    ropts.progress_user_data = &ps;
    ropts.cancel = cancel_cb;
    st = nas_run_create(&run, searcher, ev, &ropts);
    free(checkpoint);
    if (st != NAS_OK) {
        cli_lib_error(st, pick(nas_context_errmsg(ctx), nas_searcher_errmsg(searcher)),
                      a->resume ? "cannot resume the run" : "cannot start the run");
        goto out_free_searcher;
    }
    if (a->resume && a->verbosity >= 0)
        fprintf(stderr, "nas: resuming %s: %" PRIu64 " finished trials taken back from the journal\n", dir,
                nas_run_num_resumed(run));

    st = execute(run);
    if (ps.drawn)
        fputs("\r\033[K", stderr);
    search_info_t si = { exp, a->experiment, run, NULL };
    rc = report(a, &si, dir);
    if (st == NAS_E_ABORTED && interrupted) {
        fprintf(stderr, "nas: interrupted: %" PRIu64 " finished trials kept in %s\n", nas_run_num_trials(run),
                journal);
        rc = CLI_INTERRUPTED;
    } else if (st != NAS_OK) {
        cli_lib_error(st, pick(nas_run_errmsg(run), nas_searcher_errmsg(searcher)), "the search failed");
        rc = CLI_FAIL;
    }
    nas_run_destroy(run);
out_free_searcher:
    nas_searcher_destroy(searcher);
out_free_ev:
    nas_evaluator_destroy(ev);
    return rc;
}

int cli_cmd_search(int argc, char **argv)
{
    search_args_t a;
    bool help;
    int rc = parse_args(argc, argv, &a, &help);
    if (rc != CLI_OK)
        return rc;
    if (help) {
        cli_help_search(stdout);
        return CLI_OK;
    }
    nas_context_t *ctx;
    nas_experiment_t *exp = NULL;
    char *journal = NULL;
    if (a.resume && (rc = load_args(&a, a.resume, a.force)) != CLI_OK) {
        free(a.experiment_buf);
        return rc;
    }
    if ((rc = cli_context(&ctx, a.seed, a.verbosity)) != CLI_OK) {
        free(a.experiment_buf);
        return rc;
    }
    nas_status_t st = nas_experiment_load_file(&exp, ctx, a.experiment);
    if (st != NAS_OK) {
        cli_lib_error(st, nas_context_errmsg(ctx), a.experiment);
        rc = CLI_FAIL;
        goto out_free_ctx;
    }
    const char *dir = a.resume ? a.resume : a.out ? a.out : nas_experiment_output_dir(exp);
    if (!dir || !*dir) {
        cli_error("search: no output folder: set 'output' in %s or pass --out DIR", a.experiment);
        rc = CLI_USAGE;
        goto out_free_exp;
    }
    if (a.resume) {
        if (!(journal = cli_join(dir, "journal.jsonl"))) {
            cli_error("out of memory");
            rc = CLI_FAIL;
            goto out_free_journal;
        }
    } else if ((rc = prepare_output(&a, dir, &journal)) != CLI_OK) {
        goto out_free_journal;
    }
    rc = run_experiment(&a, ctx, exp, dir, journal);
out_free_journal:
    free(journal);
out_free_exp:
    nas_experiment_destroy(exp);
out_free_ctx:
    nas_context_destroy(ctx);
    free(a.experiment_buf);
    return rc;
}
