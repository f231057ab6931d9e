/* Random search over the NAS-Bench-201 space, scored by the shipped CIFAR-10 table (run from the source root). */
#include <libnas/nas.h>
#include <stdio.h>

int main(void)
{
    nas_context_t *ctx = NULL;
    nas_space_t *space = NULL;
    nas_params_t *params = NULL;
    nas_evaluator_t *ev = NULL;
    nas_searcher_t *searcher = NULL;
    nas_run_t *run = NULL;
    nas_searcher_opts_t sopts = NAS_SEARCHER_OPTS_INIT;
    nas_run_opts_t ropts = NAS_RUN_OPTS_INIT;
    int rc = 1;

    if (nas_context_create(&ctx, NULL) != NAS_OK)
        return 1;
    /* The space and the table evaluator; on failure the context holds "FILE:LINE:COLUMN: what". */
    if (nas_space_load_file(&space, ctx, "spaces/nas-bench-201.yaml") != NAS_OK ||
        nas_params_create(&params, ctx) != NAS_OK ||
        nas_params_set(params, "path", "data/nb201/cifar10_test.csv") != NAS_OK ||
        nas_evaluator_create(&ev, space, "table", params) != NAS_OK) {
        fprintf(stderr, "error: %s\n", nas_context_errmsg(ctx));
        goto out;
    }
    /* 100 random trials, maximizing the table's test_acc column. */
    sopts.seed = 42;
    sopts.objectives = "test_acc:max";
    ropts.max_trials = 100;
    if (nas_searcher_create(&searcher, space, "random", NULL, &sopts) != NAS_OK ||
        nas_run_create(&run, searcher, ev, &ropts) != NAS_OK) {
        fprintf(stderr, "error: %s\n", nas_context_errmsg(ctx));
        goto out;
    }
    if (nas_run_execute(run) != NAS_OK) {
        fprintf(stderr, "error: %s\n", nas_run_errmsg(run));
        goto out;
    }
    uint64_t best, trial;
    const char *arch;
    const nas_result_t *res;
    double acc;
    if (nas_run_best(run, &best) == NAS_OK && nas_run_trial(run, best, &trial, &arch, &res) == NAS_OK &&
        nas_result_get_metric(res, "test_acc", &acc) == NAS_OK) {
        printf("best of %u trials: trial %u, test_acc %.2f\n%s\n", (unsigned)nas_run_num_trials(run),
               (unsigned)trial, acc, arch);
        rc = 0;
    }
out:
    nas_run_destroy(run);
    nas_searcher_destroy(searcher);
    nas_evaluator_destroy(ev);
    nas_params_destroy(params);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
    return rc;
}
