/*
 * A host-defined evaluator, registered through nas_evaluator_vtable_t and driven by the built-in
 * "evolution" strategy: the most accurate NAS-Bench-201 cell whose CIFAR-10 network fits a
 * parameter budget (e.g. the memory of a small device).
 *
 * The evaluator "budget-table" builds each candidate's network (nas_model_create, no training) to
 * count its parameters and FLOPs. A network over the budget is a failed trial (NAS_E_BUDGET, with
 * a message), so the expensive measure is never paid for it; the others are looked up in the
 * benchmark table by the built-in "table" evaluator, which this one wraps. Metrics: test_acc (from
 * the table), params, mflops. Cost: the wall-clock seconds of the evaluation.
 *
 * usage: custom_evaluator [TABLE.csv [MAX_PARAMS [TRIALS [SEED]]]]
 * Defaults: the NAS-Bench-201 CIFAR-10 table of the source tree, 400000 parameters, 200 trials, seed 1.
 */
#include <libnas/nas.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef NAS_SOURCE_ROOT
#  define NAS_SOURCE_ROOT "."
#endif

/* State of one budget-table evaluator. */
typedef struct budget {
    nas_context_t *ctx;      /* where nas_model_create() leaves its messages */
    nas_evaluator_t *table;  /* the wrapped built-in evaluator */
    double max_params;
} budget_t;

static void budget_destroy(void *state)
{
    budget_t *b = state;
    if (!b)
        return;
    nas_evaluator_destroy(b->table);
    free(b);
}

static nas_status_t budget_create(nas_evaluator_t *self, const nas_params_t *params, void **state)
{
    budget_t *b = calloc(1, sizeof *b);
    if (!b)
        return NAS_E_NOMEM;
    *state = b;   /* destroy() is called even if a step below fails */
    b->ctx = nas_evaluator_context(self);

    const char *path = NULL;
    nas_status_t st;
    if (!params || nas_params_get_string(params, "path", &path) != NAS_OK) {
        nas_evaluator_set_errmsg(self, "parameter 'path' (the benchmark table) is required");
        return NAS_E_INVAL;
    }
    if ((st = nas_params_get_double(params, "max_params", 1e6, &b->max_params)) != NAS_OK) {
        nas_evaluator_set_errmsg(self, nas_params_errmsg(params));
        return st;
    }
    if (!(b->max_params >= 1)) {
        nas_evaluator_set_errmsg(self, "parameter 'max_params' must be at least 1");
        return NAS_E_INVAL;
    }

    /* The wrapped evaluator gets its own parameters: every key given to one must be read by it. */
    nas_params_t *tp = NULL;
    if ((st = nas_params_create(&tp, b->ctx)) == NAS_OK && (st = nas_params_set(tp, "path", path)) == NAS_OK)
        st = nas_evaluator_create(&b->table, nas_evaluator_space(self), "table", tp);
    nas_params_destroy(tp);
    if (st != NAS_OK)
        nas_evaluator_set_errmsg(self, nas_context_errmsg(b->ctx));   /* names the table and what is wrong */
    return st;
}

static double now_seconds(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/*
 * A return status other than NAS_OK stops the whole search: it is kept for what this evaluator
 * cannot get past (out of memory, a failing table). A candidate that fails is a result status.
 */
static nas_status_t budget_evaluate(nas_evaluator_t *self, void *state, const nas_candidate_t *cand,
                                    nas_result_t *res)
{
    budget_t *b = state;
    double start = now_seconds();

    /* The network as it would be trained on CIFAR-10: 3x32x32 inputs, 10 classes. */
    nas_model_opts_t mo = NAS_MODEL_OPTS_INIT;
    mo.channels = 3;
    mo.height = mo.width = 32;
    mo.num_classes = 10;
    nas_model_t *model = NULL;
    nas_model_info_t info = { .struct_size = sizeof info };
    nas_status_t st = nas_model_create(&model, cand->arch, &mo);
    if (st == NAS_OK)
        st = nas_model_info(model, &info);
    nas_model_destroy(model);
    if (st == NAS_E_NOMEM)
        return st;
    if (st != NAS_OK)   /* this candidate cannot be built: a failed trial, the search goes on */
        return nas_result_set_status(res, st, nas_context_errmsg(b->ctx));

    if ((double)info.params > b->max_params) {
        char msg[128];
        snprintf(msg, sizeof msg, "%" PRId64 " params, over the budget of %.0f", info.params, b->max_params);
        if ((st = nas_result_set_status(res, NAS_E_BUDGET, msg)) != NAS_OK)
            return st;
    } else if ((st = nas_evaluator_evaluate(b->table, cand, res)) != NAS_OK) {
        nas_evaluator_set_errmsg(self, nas_evaluator_errmsg(b->table));
        return st;
    }
    /* The table's metrics (if it ran), then ours; failed trials keep theirs too, for the journal. */
    if ((st = nas_result_set_metric(res, "params", (double)info.params)) != NAS_OK ||
        (st = nas_result_set_metric(res, "mflops", (double)info.flops / 1e6)) != NAS_OK)
        return st;
    return nas_result_set_cost(res, now_seconds() - start);
}

/* Whether s is a decimal integer (no sign), into *out. */
static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return false;
    *out = strtoull(s, &end, 10);
    return *end == '\0';
}

static int fail(const char *what, nas_status_t st, const char *msg)
{
    fprintf(stderr, "custom_evaluator: %s: %s\n", what, msg && *msg ? msg : nas_status_str(st));
    return 1;
}

int main(int argc, char **argv)
{
    const char *table_path = argc > 1 ? argv[1] : NAS_SOURCE_ROOT "/data/nb201/cifar10_test.csv";
    const char *max_params = argc > 2 ? argv[2] : "400000";   /* checked by the evaluator */
    uint64_t trials = 200, seed = 1;
    if (argc > 5 || (argc > 3 && !parse_u64(argv[3], &trials)) || (argc > 4 && !parse_u64(argv[4], &seed)) ||
        trials == 0) {
        fprintf(stderr, "usage: custom_evaluator [TABLE.csv [MAX_PARAMS [TRIALS [SEED]]]]  (TRIALS > 0)\n");
        return 2;
    }

    nas_context_t *ctx = NULL;
    nas_space_t *space = NULL;
    nas_params_t *params = NULL;
    nas_evaluator_t *ev = NULL;
    nas_searcher_t *searcher = NULL;
    nas_run_t *run = NULL;
    int rc = 1;
    nas_status_t st;

    nas_context_opts_t copts = NAS_CONTEXT_OPTS_INIT;
    copts.seed = seed;
    copts.num_threads = 1;   /* networks are built here, never run: more threads would only wait */
    if ((st = nas_context_create(&ctx, &copts)) != NAS_OK)
        return fail("context", st, NULL);
    nas_evaluator_vtable_t vt = {
        .abi_version = NAS_PLUGIN_ABI_VERSION,
        .struct_size = sizeof(nas_evaluator_vtable_t),
        .name = "budget-table",
        .description = "benchmark table behind a parameter budget (example plugin)",
        .create = budget_create,
        .destroy = budget_destroy,
        .evaluate = budget_evaluate,
    };
    if ((st = nas_context_register_evaluator(ctx, &vt)) != NAS_OK) {
        fail("register", st, nas_context_errmsg(ctx));
        goto out;
    }
    if ((st = nas_space_load_file(&space, ctx, NAS_SOURCE_ROOT "/spaces/nas-bench-201.yaml")) != NAS_OK) {
        fail("space", st, nas_context_errmsg(ctx));
        goto out;
    }
    if ((st = nas_params_create(&params, ctx)) != NAS_OK || (st = nas_params_set(params, "path", table_path)) != NAS_OK ||
        (st = nas_params_set(params, "max_params", max_params)) != NAS_OK) {
        fail("params", st, params ? nas_params_errmsg(params) : NULL);
        goto out;
    }
    /* Its create() failing (a missing table, a bad budget) reports the evaluator's message here. */
    if ((st = nas_evaluator_create(&ev, space, "budget-table", params)) != NAS_OK) {
        fail("evaluator", st, nas_context_errmsg(ctx));
        goto out;
    }
    nas_searcher_opts_t sopts = NAS_SEARCHER_OPTS_INIT;
    sopts.seed = seed;
    sopts.objectives = "test_acc:max";
    if ((st = nas_searcher_create(&searcher, space, "evolution", NULL, &sopts)) != NAS_OK) {
        fail("searcher", st, nas_context_errmsg(ctx));
        goto out;
    }
    nas_run_opts_t ropts = NAS_RUN_OPTS_INIT;
    ropts.max_trials = trials;
    if ((st = nas_run_create(&run, searcher, ev, &ropts)) != NAS_OK) {
        fail("run", st, nas_context_errmsg(ctx));
        goto out;
    }
    if ((st = nas_run_execute(run)) != NAS_OK) {
        fail("search", st, nas_run_errmsg(run));
        goto out;
    }

    /* The history: failed trials are in it, with their status and message. */
    uint64_t n = nas_run_num_trials(run), over = 0, id;
    const char *arch, *example = NULL;
    const nas_result_t *res;
    for (uint64_t i = 0; i < n; i++) {
        if ((st = nas_run_trial(run, i, &id, &arch, &res)) != NAS_OK) {
            fail("history", st, nas_run_errmsg(run));
            goto out;
        }
        if (nas_result_status(res) == NAS_E_BUDGET) {
            over++;
            example = example ? example : nas_result_message(res);
        }
    }
    printf("trials: %" PRIu64 ", over the budget: %" PRIu64 "%s%s\n", n, over, example ? ", e.g. " : "",
           example ? example : "");

    uint64_t best;
    double acc, nparams, mflops;
    if ((st = nas_run_best(run, &best)) != NAS_OK || (st = nas_run_trial(run, best, &id, &arch, &res)) != NAS_OK ||
        (st = nas_result_get_metric(res, "test_acc", &acc)) != NAS_OK ||
        (st = nas_result_get_metric(res, "params", &nparams)) != NAS_OK ||
        (st = nas_result_get_metric(res, "mflops", &mflops)) != NAS_OK) {
        fail("best", st, st == NAS_E_NOT_FOUND ? "no trial fits the budget" : nas_run_errmsg(run));
        goto out;
    }
    printf("best: trial %" PRIu64 ", test_acc %.4f, params %.0f, mflops %.2f, cost %.4f s\n", id, acc, nparams, mflops,
           nas_result_cost(res));
    printf("arch: %s\n", arch);
    rc = 0;
out:
    nas_run_destroy(run);
    nas_searcher_destroy(searcher);
    nas_evaluator_destroy(ev);
    nas_params_destroy(params);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
    return rc;
}
