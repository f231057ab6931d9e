/*
 * A host-defined search strategy, registered through nas_searcher_vtable_t and run end to end
 * with the built-in table evaluator on the NAS-Bench-201 CIFAR-10 table.
 *
 * The strategy is a hill-climber: a few random samples, then every candidate is the best
 * architecture so far with one decision changed. After `patience` trials without improvement it
 * climbs again from a fresh random sample (the run keeps the overall best either way).
 *
 * usage: custom_searcher [SPACE.yaml [TABLE.csv [TRIALS [SEED]]]]
 * Defaults: the NAS-Bench-201 space and table of the source tree, 300 trials, seed 1.
 */
#include <libnas/nas.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef NAS_SOURCE_ROOT
#  define NAS_SOURCE_ROOT "."
#endif

/* State of one hill-climbing searcher. */
typedef struct climb {
    nas_arch_t *best;        /* current point of the climb */
    double best_score;       /* its score (larger is better); -INFINITY before the first success */
    int64_t init;            /* random samples before climbing */
    int64_t patience;        /* trials without improvement before a restart */
    int64_t edits;           /* decisions changed per step */
    int64_t told;            /* results received */
    int64_t since_improved;  /* results since the last improvement */
} climb_t;

static void climb_destroy(void *state)
{
    climb_t *c = state;
    if (!c)
        return;
    nas_arch_destroy(c->best);
    free(c);
}

static nas_status_t read_param(nas_searcher_t *self, const nas_params_t *params, const char *key, int64_t def,
                               int64_t min, int64_t *out)
{
    *out = def;
    if (!params)
        return NAS_OK;
    nas_status_t st = nas_params_get_int(params, key, def, out);
    if (st != NAS_OK) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
        return st;
    }
    if (*out < min) {
        char msg[128];
        snprintf(msg, sizeof msg, "hill-climb: parameter '%s' must be at least %" PRId64, key, min);
        nas_searcher_set_errmsg(self, msg);
        return NAS_E_INVAL;
    }
    return NAS_OK;
}

static nas_status_t climb_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    climb_t *c = calloc(1, sizeof *c);
    if (!c)
        return NAS_E_NOMEM;
    *state = c;   /* destroy() is called even if a step below fails */
    c->best_score = -INFINITY;
    nas_status_t st;
    if ((st = read_param(self, params, "init", 10, 1, &c->init)) != NAS_OK ||
        (st = read_param(self, params, "patience", 60, 1, &c->patience)) != NAS_OK ||
        (st = read_param(self, params, "edits", 1, 1, &c->edits)) != NAS_OK)
        return st;
    return nas_arch_create(&c->best, nas_searcher_space(self));
}

static nas_status_t climb_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    climb_t *c = state;
    nas_space_t *space = nas_searcher_space(self);
    nas_rng_t *rng = nas_searcher_rng(self);
    cand->fidelity = 0.0;
    if (c->told < c->init || !isfinite(c->best_score))
        return nas_space_sample(space, cand->arch, rng);
    return nas_space_mutate(space, cand->arch, c->best, rng, (uint32_t)c->edits);
}

static nas_status_t climb_tell(nas_searcher_t *self, void *state, const nas_candidate_t *cand,
                               const nas_result_t *res)
{
    climb_t *c = state;
    double score;
    nas_status_t st = nas_searcher_scores(self, res, &score, 1);
    if (st != NAS_OK)
        return st;
    c->told++;
    if (score > c->best_score) {
        c->best_score = score;
        c->since_improved = 0;
        return nas_arch_copy(c->best, cand->arch);
    }
    if (++c->since_improved >= c->patience) {
        /* Stuck on a local optimum: forget it; the next candidates are random until one succeeds. */
        c->best_score = -INFINITY;
        c->since_improved = 0;
    }
    return NAS_OK;
}

static const nas_searcher_vtable_t climb_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "hill-climb",
    .description = "hill-climbing from the best so far, one decision at a time (example plugin)",
    .create = climb_create,
    .destroy = climb_destroy,
    .ask = climb_ask,
    .tell = climb_tell,
    .user_data = NULL,
};

static int fail(const char *what, nas_status_t st, const char *msg)
{
    fprintf(stderr, "custom_searcher: %s: %s\n", what, msg && *msg ? msg : nas_status_str(st));
    return 1;
}

int main(int argc, char **argv)
{
    const char *space_path = argc > 1 ? argv[1] : NAS_SOURCE_ROOT "/spaces/nas-bench-201.yaml";
    const char *table_path = argc > 2 ? argv[2] : NAS_SOURCE_ROOT "/data/nb201/cifar10_test.csv";
    uint64_t trials = argc > 3 ? strtoull(argv[3], NULL, 10) : 300;
    uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
    if (trials == 0)
        return fail("arguments", NAS_E_INVAL, "TRIALS must be a positive integer");

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
    if ((st = nas_context_create(&ctx, &copts)) != NAS_OK)
        return fail("context", st, NULL);
    if ((st = nas_context_register_searcher(ctx, &climb_vtable)) != NAS_OK) {
        fail("register", st, nas_context_errmsg(ctx));
        goto out;
    }
    if ((st = nas_space_load_file(&space, ctx, space_path)) != NAS_OK) {
        fail("space", st, nas_context_errmsg(ctx));
        goto out;
    }
    if ((st = nas_params_create(&params, ctx)) != NAS_OK || (st = nas_params_set(params, "path", table_path)) != NAS_OK) {
        fail("params", st, NULL);
        goto out;
    }
    if ((st = nas_evaluator_create(&ev, space, "table", params)) != NAS_OK) {
        fail("table evaluator", st, nas_context_errmsg(ctx));
        goto out;
    }
    nas_searcher_opts_t sopts = NAS_SEARCHER_OPTS_INIT;
    sopts.seed = seed;
    sopts.objectives = "test_acc:max";
    if ((st = nas_searcher_create(&searcher, space, "hill-climb", NULL, &sopts)) != NAS_OK) {
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

    uint64_t best, trial_id;
    const char *arch;
    const nas_result_t *res;
    double acc;
    if ((st = nas_run_best(run, &best)) != NAS_OK ||
        (st = nas_run_trial(run, best, &trial_id, &arch, &res)) != NAS_OK ||
        (st = nas_result_get_metric(res, "test_acc", &acc)) != NAS_OK) {
        fail("best", st, nas_run_errmsg(run));
        goto out;
    }
    printf("searcher: %s, %" PRIu64 " trials, stopped: %s\n", nas_searcher_name(searcher), nas_run_num_trials(run),
           nas_run_stop_reason(run));
    printf("best trial: %" PRIu64 "\n", trial_id);
    printf("best arch: %s\n", arch);
    printf("best test_acc: %.4f\n", acc);
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
