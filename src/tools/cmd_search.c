/* nas search: run an experiment file; journal.jsonl, summary.json and best.json in the output folder. */
#include "progress.h"
#include "search.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
          "Progress goes to stderr. On a terminal it is one line redrawn in place: a bar when a\n"
          "budget bounds the run (trials, seconds or cost: the one furthest along), trial k/N, the\n"
          "failures, the best so far, the time elapsed and an estimate of the time left (\"--\" until\n"
          "one is known), and what a one-shot strategy is doing (supernet epochs). Otherwise (a\n"
          "pipe, a log file, TERM=dumb) it is plain lines, one per finished trial and one per\n"
          "strategy message, without control characters:\n"
          "  [  12.3s] trial 5/20 ok test_acc 88.12 | best 89.01 (trial 3) | eta 1m40s\n"
          "A failed trial shows its status and message instead of the value.\n"
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
          "  -q, --quiet       print nothing but errors (and the JSON of --json)\n"
          "  -v, --verbose     also the plain lines above the bar on a terminal, the architecture\n"
          "                    in each line, and the library's info messages\n"
          "      --json        print best.json on stdout instead of the text summary (stdout then\n"
          "                    holds only JSON; the progress stays on stderr)\n",
          f);
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

/* Run the loop with Ctrl-C and SIGTERM wired to the cancel callback. */
static nas_status_t execute(nas_run_t *run)
{
    cli_trap_signals();
    nas_status_t st = nas_run_execute(run);
    cli_untrap_signals();
    return st;
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
    if (!a->resume && search_save_args(a, dir, a->trials) != CLI_OK) {
        free(checkpoint);
        goto out_free_searcher;
    }
    ropts.resume = a->resume != NULL;
    ropts.checkpoint_path = checkpoint;
    ropts.journal_path = journal;
    progress_t ps;
    progress_init(&ps, stderr, a->verbosity, progress_is_terminal(stderr));
    ropts.progress = progress_search_cb;
    ropts.progress_user_data = &ps;
    ropts.cancel = cli_cancel_cb;
    st = nas_run_create(&run, searcher, ev, &ropts);
    free(checkpoint);
    if (st != NAS_OK) {
        progress_end(&ps, false);
        cli_lib_error(st, pick(nas_context_errmsg(ctx), nas_searcher_errmsg(searcher)),
                      a->resume ? "cannot resume the run" : "cannot start the run");
        goto out_free_searcher;
    }
    if (a->resume && a->verbosity >= 0)
        fprintf(stderr, "nas: resuming %s: %" PRIu64 " finished trials taken back from the journal\n", dir,
                nas_run_num_resumed(run));

    const char *objective;
    bool maximize;
    if (nas_searcher_objective(searcher, 0, &objective, &maximize) != NAS_OK)
        objective = NULL;
    progress_budget_t budget = { ropts.max_trials, ropts.max_seconds, ropts.max_cost };
    progress_attach_run(&ps, run, &budget, objective);
    progress_start_clock(&ps);

    st = execute(run);
    bool interrupted = st == NAS_E_ABORTED && cli_interrupted();
    progress_end(&ps, interrupted);
    search_info_t si = { exp, a->experiment, run, NULL };
    rc = search_report(a, &si, dir);
    if (interrupted) {
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
    int rc = search_parse_args(argc, argv, &a, &help);
    if (rc != CLI_OK)
        return rc;
    if (help) {
        cli_help_search(stdout);
        return CLI_OK;
    }
    nas_context_t *ctx;
    nas_experiment_t *exp = NULL;
    char *journal = NULL;
    if (a.resume && (rc = search_load_args(&a, a.resume, a.force)) != CLI_OK) {
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
