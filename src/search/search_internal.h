/* Internals shared by src/core/params.c, src/search, src/eval and src/run. */
#ifndef NAS_SEARCH_INTERNAL_H
#define NAS_SEARCH_INTERNAL_H

#include "core/internal.h"


/* ---------------------------------------------------------------------- */
/* Searchers (src/search/searcher.c)                                       */

/* Effective seed of the searcher's random stream (opts.seed, or the context's when that was 0). */
uint64_t nas__searcher_seed(const nas_searcher_t *s);

/*
 * A strategy that is sure to return NAS_E_EXHAUSTED after finitely many asks says so from its
 * create(); a run of such a searcher needs no budget. Host strategies cannot (no public API), so
 * their runs always need a budget.
 */
void nas__searcher_set_finite(nas_searcher_t *s, bool finite);
bool nas__searcher_finite(const nas_searcher_t *s);

/* State streams (src/search/state.c). */
struct nas_state_writer {
    nas__sb_t sb;
};
struct nas_state_reader {
    const uint8_t *data;
    size_t len, off;
};

/* The constraints in their canonical form "m1<=X,m2>=Y" ("" when none). */
void nas__searcher_constraints_string(const nas_searcher_t *s, nas__sb_t *sb);
/* Whether a result is feasible (successful and within every constraint). */
bool nas__searcher_feasible(const nas_searcher_t *s, const nas_result_t *res);

/* The run hook of one-shot strategies (nas_searcher_vtable_t.run): whether there is one, calling
 * it, and taking the next trial id for a trial the hook evaluates itself. */
bool nas__searcher_has_run(const nas_searcher_t *s);
nas_status_t nas__searcher_call_run(nas_searcher_t *s, nas_run_t *run);
uint64_t nas__searcher_take_id(nas_searcher_t *s);

/* Append the objectives in their canonical form "m1:max,m2:min". */
void nas__searcher_objectives_string(const nas_searcher_t *s, nas__sb_t *sb);

/* ---------------------------------------------------------------------- */
/* Evaluators (src/eval/evaluator.c)                                       */

/* The context of the evaluator's space. */
nas_context_t *nas__evaluator_context(const nas_evaluator_t *ev);

#endif /* NAS_SEARCH_INTERNAL_H */
