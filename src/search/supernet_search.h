/*
 * What the single-path one-shot strategies (spos.c, fairnas.c) share (the supernet file and the
 * scoring of architectures on a supernet are the evaluator's: eval/supernet_internal.h).
 *
 * SEARCH PHASE (supernet_search.c), the derive hook of the one-shot driver (search/oneshot.h): after
 * the supernet epochs, [the trained supernet is written to supernet_path], then a black-box strategy
 * of the registry ("evolution" or "nsga2") runs search_trials asks over the searcher's space through
 * its public ask/tell API; each candidate is scored on the supernet with inherited weights and BN
 * statistics recalibrated for its paths (nas__supernet_eval_arch), and told with the metrics
 * accuracy (%, maximized) and, for nsga2 or with a cost_limit, the cost (minimized): latency_ms
 * (chain spaces: the latency lookup table of src/nn/latency.h, batch 1), params or flops (of the
 * sub-network). The derived architecture is the most accurate feasible candidate (cost <= cost_limit
 * when one is set; ties: the cheaper one); when none is feasible, the cheapest. Each candidate is
 * reported (nas_run_report "NAME search T/N accuracy A COST C best B"), and arch_path, when set,
 * gets a JSON file (atomically) with every candidate, the Pareto front of (accuracy, cost) and the
 * derived architecture. A width decision is pinned to the width the supernet was built at (its
 * largest option) in every candidate scored, since the supernet cannot tell widths apart;
 * hyperparameter decisions keep what the strategy proposed (they do not change the supernet's score).
 * The run's budget ends the search phase early (the best so far is derived); a cancel is
 * NAS_E_ABORTED.
 *
 * Threads: one thread at a time per object, as every handle.
 */
#ifndef NAS_SEARCH_SUPERNET_SEARCH_H
#define NAS_SEARCH_SUPERNET_SEARCH_H

#include "core/internal.h"
#include "eval/eval_internal.h"
#include "eval/supernet_internal.h"
#include "nn/build.h"
#include "nn/exec.h"
#include "search/oneshot.h"

/* ---------------------------------------------------------------------- */
/* The search phase (supernet_search.c)                                     */

typedef enum nas__ss_cost { NAS__SS_COST_AUTO = 0, NAS__SS_COST_LATENCY, NAS__SS_COST_PARAMS, NAS__SS_COST_FLOPS } nas__ss_cost_t;

typedef struct nas__ss {
    nas_context_t *ctx;
    const char *name;                 /* strategy, for messages and reports */
    char search[16];                  /* "evolution" or "nsga2" */
    uint32_t trials, population, recalib_batches, eval_batches;
    int32_t cost;                     /* nas__ss_cost_t */
    double cost_limit;                /* 0: none */
    char *supernet_path, *arch_path, *latency_lut;   /* owned, NULL when not given */
} nas__ss_t;

/*
 * Read the search-phase parameters (search, search_trials, population, recalib_batches,
 * eval_batches, cost, cost_limit, latency_lut, supernet_path, arch_path) with the defaults ss holds.
 * Message in the searcher.
 */
nas_status_t nas__ss_params(nas_searcher_t *self, const nas_params_t *params, nas__ss_t *ss);
void nas__ss_free(nas__ss_t *ss);

/* The derive hook's body: save the supernet (supernet_path), search, write arch_path, derive into arch.
 * Message in os->errmsg. */
nas_status_t nas__ss_derive(nas__oneshot_t *os, nas__ss_t *ss, nas_arch_t *arch);

/* Set every width decision of arch to its largest option (the width a supernet is built at). */
nas_status_t nas__supernet_pin_width(nas_arch_t *arch);

/* The defaults of spos (spos.c), which fairnas shares. */
void nas__spos_defaults(nas__oneshot_cfg_t *c, nas__ss_t *ss);

/* Single-path sampling shared by the strategies: select the paths of arch (message in os->errmsg). */
nas_status_t nas__ss_set_paths(nas__oneshot_t *os, const nas_arch_t *arch, uint32_t *paths);

/* ---------------------------------------------------------------------- */
/* FairNAS's sub-models (fairnas.c), exposed for the tests                   */

/* n: the most choices of a categorical architecture decision (width decisions excluded), >= 1. */
uint32_t nas__fairnas_num_models(const nas_space_t *space);
/*
 * n architectures (archs[0..n-1], created by the caller) for one step: every categorical
 * architecture decision but width takes, over the n, a random permutation of its choices (a
 * decision with k < n choices: independent permutations one after the other, cut at n, so each
 * choice appears floor(n/k) or ceil(n/k) times). Other decisions keep a uniform sample.
 */
nas_status_t nas__fairnas_submodels(const nas_space_t *space, nas_rng_t *rng, nas_arch_t *const *archs, uint32_t n);

#endif /* NAS_SEARCH_SUPERNET_SEARCH_H */
