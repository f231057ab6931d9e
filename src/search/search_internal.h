/* Internals shared by src/core/params.c, src/search, src/eval and src/run. */
#ifndef NAS_SEARCH_INTERNAL_H
#define NAS_SEARCH_INTERNAL_H

#include "core/internal.h"


/* ---------------------------------------------------------------------- */
/* Searchers (src/search/searcher.c)                                       */

/* Effective seed of the searcher's random stream (opts.seed, or the context's when that was 0). */
/* The run's journal path (src/run/run.c), or NULL when it keeps none. */
const char *nas__run_journal_path(const nas_run_t *run);
uint64_t nas__searcher_seed(const nas_searcher_t *s);

/*
 * A strategy that is sure to return NAS_E_EXHAUSTED after finitely many asks says so from its
 * create(); a run of such a searcher needs no budget. Host strategies say so with the public
 * nas_searcher_set_finite().
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
/* Make the next trial id at least `next` (a resumed run hook goes on after the trials taken back). */
void nas__searcher_skip_ids(nas_searcher_t *s, uint64_t next);

/* Append the objectives in their canonical form "m1:max,m2:min". */
void nas__searcher_objectives_string(const nas_searcher_t *s, nas__sb_t *sb);

/* ---------------------------------------------------------------------- */
/* Helpers of the built-in strategies (src/search/common.c)                */

/* A tell for strategies that learn nothing from results (the vtable requires one). */
nas_status_t nas__search_tell_nothing(nas_searcher_t *self, void *state, const nas_candidate_t *cand,
                                      const nas_result_t *res);

/* Set the searcher's message to "NAME: " and the formatted text (NAME: its strategy) and return st. */
nas_status_t nas__search_fail(nas_searcher_t *self, nas_status_t st, const char *fmt, ...) NAS_PRINTF(3, 4);
/* "NAME: " and the space's last message, for a failed call on the searcher's space; returns st. */
nas_status_t nas__search_space_failed(nas_searcher_t *self, nas_status_t st);
/* "NAME: out of memory WHAT" for NAS_E_NOMEM, else "NAME: WHAT: " and the space's last message; returns st. */
nas_status_t nas__search_failed(nas_searcher_t *self, nas_status_t st, const char *what);

/*
 * Parameters: read key (default def) and check lo <= v <= hi, the bounds excluded where `open` has
 * 1 (low) or 2 (high). A value that does not parse gives the parameters' message; one out of range
 * NAS_E_INVAL with "parameter 'KEY' must be in RANGE (got V)".
 */
nas_status_t nas__search_param_int(nas_searcher_t *self, const nas_params_t *params, const char *key, int64_t def,
                                   int64_t lo, int64_t hi, int64_t *out);
nas_status_t nas__search_param_double(nas_searcher_t *self, const nas_params_t *params, const char *key, double def,
                                      double lo, double hi, int open, double *out);
nas_status_t nas__search_param_bool(nas_searcher_t *self, const nas_params_t *params, const char *key, bool def,
                                    bool *out);

/*
 * The number of points of a space that sampling and the grid both cover exactly, or 0 when it has
 * none or sampling can give more (a FLOAT decision draws anywhere in its range: size "inf").
 */
uint64_t nas__search_finite_size(const nas_space_t *space);

/*
 * Up to `tries` uniform draws (nas_space_sample with the searcher's stream; at least one) until one
 * is not in `seen`; otherwise the last draw stays in arch. *fresh (may be NULL) tells which.
 * A failed draw sets nas__search_space_failed().
 */
nas_status_t nas__search_sample_fresh(nas_searcher_t *self, const nas__u64set_t *seen, int64_t tries, nas_arch_t *arch,
                                      bool *fresh);
/*
 * The first grid point not in `seen` from a random index on, wrapping around (one draw of the
 * searcher's stream; size: the grid size, > 0). *found is false when all are in `seen`. A failed
 * enumeration sets nas__search_space_failed().
 */
nas_status_t nas__search_scan_fresh(nas_searcher_t *self, const nas__u64set_t *seen, uint64_t size, nas_arch_t *arch,
                                    bool *found);
/* Add arch's hash to the proposed set; NAS_E_NOMEM with "NAME: out of memory remembering ...". */
nas_status_t nas__search_remember(nas_searcher_t *self, nas__u64set_t *seen, const nas_arch_t *arch);

/*
 * State of a set of arch hashes: the count, then the keys, in increasing order when `sorted` (equal
 * sets, equal bytes) else in table order (reloading rebuilds the table). Saving returns its last
 * write's status (NAS_E_NOMEM if any write failed). Loading into an empty set gives NAS_E_CORRUPT
 * for a repeated key, or one out of order when `sorted`; NAS_E_NOMEM.
 */
nas_status_t nas__search_save_hashes(const nas__u64set_t *set, bool sorted, nas_state_writer_t *w);
nas_status_t nas__search_load_hashes(nas__u64set_t *set, bool sorted, nas_state_reader_t *r);

/* ---------------------------------------------------------------------- */
/* Evaluators (src/eval/evaluator.c)                                       */

/* The context of the evaluator's space. */
nas_context_t *nas__evaluator_context(const nas_evaluator_t *ev);

#endif /* NAS_SEARCH_INTERNAL_H */
