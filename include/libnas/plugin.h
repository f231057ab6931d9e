/* libnas: vtables through which strategies and evaluators (built-in or the host's) are registered. */
#ifndef LIBNAS_PLUGIN_H
#define LIBNAS_PLUGIN_H

#include "core.h"
#include "space.h"
#include "search.h"

#ifdef __cplusplus
extern "C" {
#endif

/** ABI version of the vtables below. A vtable with a different abi_version is refused (NAS_E_ABI). */
#define NAS_PLUGIN_ABI_VERSION 1u

/**
 * A byte stream a strategy writes its state to (save) or reads it back from (load). Values are
 * stored in a fixed little-endian encoding, so a state file moves between machines.
 */
typedef struct nas_state_writer nas_state_writer_t;
typedef struct nas_state_reader nas_state_reader_t;

/**
 * A search strategy. Vtables are copied at registration (name and description too); they grow only
 * by appending members, and optional members past the caller's struct_size count as NULL.
 * Required: name, create, destroy, ask, tell. Each call gets the searcher handle, whose accessors
 * (nas_searcher_space(), nas_searcher_rng(), nas_searcher_scores(), nas_searcher_set_errmsg())
 * give the strategy what it needs, and the state its create() returned.
 */
typedef struct nas_searcher_vtable {
    uint32_t abi_version;   /**< NAS_PLUGIN_ABI_VERSION */
    size_t struct_size;     /**< sizeof(nas_searcher_vtable_t) as the plugin was built */
    const char *name;       /**< unique among searchers: [a-z0-9_-]+ */
    const char *description;
    /** Read parameters (every key given must be read) and create the state. */
    nas_status_t (*create)(nas_searcher_t *self, const nas_params_t *params, void **state);
    /** Free the state (called once, also when create failed after setting *state). */
    void (*destroy)(void *state);
    /** Fill cand->arch and cand->fidelity; trial_id is already set. NAS_E_EXHAUSTED when done. */
    nas_status_t (*ask)(nas_searcher_t *self, void *state, nas_candidate_t *cand);
    /** Learn from a finished trial (failed ones too). */
    nas_status_t (*tell)(nas_searcher_t *self, void *state, const nas_candidate_t *cand, const nas_result_t *res);
    void *user_data;        /**< passed to nothing by the library; read it with nas_searcher_user_data() */
    /* Optional, since 0.1 (struct_size covers them or they count as NULL). */
    /**
     * Write everything ask/tell depend on (population, model, counters; not the parameters, which
     * create() reads again). Called between trials: no trial is outstanding.
     */
    nas_status_t (*save)(nas_searcher_t *self, void *state, nas_state_writer_t *w);
    /**
     * Restore what save wrote, into a state just made by create() with the same parameters. A
     * strategy without save/load is resumed by replaying the journal through ask and tell, which
     * needs ask to be a function of the seed and what it was told.
     */
    nas_status_t (*load)(nas_searcher_t *self, void *state, nas_state_reader_t *r);
    /**
     * Optional: drive the whole search (one-shot strategies that train a supernet). When set,
     * nas_run_execute() calls it once instead of its ask/evaluate/tell loop. It evaluates the
     * architectures it wants recorded (e.g. the derived one, retrained) with nas_run_evaluate_arch(),
     * which journals them like any trial, polls nas_run_should_stop() between units of work, and
     * returns NAS_OK when done (NAS_E_ABORTED when stopped by a cancel). ask/tell are still required
     * and are used when the searcher runs outside nas_run_execute().
     */
    nas_status_t (*run)(nas_searcher_t *self, void *state, nas_run_t *run);
} nas_searcher_vtable_t;

/** An evaluator. Same rules as nas_searcher_vtable_t. Required: name, create, destroy, evaluate. */
typedef struct nas_evaluator_vtable {
    uint32_t abi_version;
    size_t struct_size;
    const char *name;       /**< unique among evaluators: [a-z0-9_-]+ */
    const char *description;
    nas_status_t (*create)(nas_evaluator_t *self, const nas_params_t *params, void **state);
    void (*destroy)(void *state);
    /** Measure cand into res (already cleared). A failed trial is a status in res, not a return value. */
    nas_status_t (*evaluate)(nas_evaluator_t *self, void *state, const nas_candidate_t *cand, nas_result_t *res);
    void *user_data;        /**< read it with nas_evaluator_user_data() */
} nas_evaluator_vtable_t;

/**
 * Register a searcher in a context. Built-ins come through this same call.
 * @return NAS_OK; NAS_E_ABI (abi_version or struct_size); NAS_E_INVAL (missing required member,
 *         bad name); NAS_E_EXISTS (name taken); NAS_E_NOMEM. Since 0.1.
 */
NAS_API nas_status_t nas_context_register_searcher(nas_context_t *ctx, const nas_searcher_vtable_t *vt);
/** Register an evaluator. Statuses as nas_context_register_searcher(). Since 0.1. */
NAS_API nas_status_t nas_context_register_evaluator(nas_context_t *ctx, const nas_evaluator_vtable_t *vt);

/** Number of registered searchers. Since 0.1. */
NAS_API uint32_t nas_context_num_searchers(const nas_context_t *ctx);
/** Name and description of searcher i (registration order; owned by the context). Since 0.1. */
NAS_API nas_status_t nas_context_searcher_at(const nas_context_t *ctx, uint32_t i, const char **name,
                                             const char **description);
/** Number of registered evaluators. Since 0.1. */
NAS_API uint32_t nas_context_num_evaluators(const nas_context_t *ctx);
/** Name and description of evaluator i. Since 0.1. */
NAS_API nas_status_t nas_context_evaluator_at(const nas_context_t *ctx, uint32_t i, const char **name,
                                              const char **description);

/* State streams. Writers fail only with NAS_E_NOMEM (then every later write is a no-op and the
 * save fails); readers give NAS_E_CORRUPT when the data ends early or is malformed. */
/** Append len raw bytes. Since 0.1. */
NAS_API nas_status_t nas_state_write(nas_state_writer_t *w, const void *data, size_t len);
/** Append an unsigned 64-bit integer. Since 0.1. */
NAS_API nas_status_t nas_state_write_u64(nas_state_writer_t *w, uint64_t v);
/** Append a double, bit-exactly (NaN and infinities included). Since 0.1. */
NAS_API nas_status_t nas_state_write_f64(nas_state_writer_t *w, double v);
/** Append n doubles. Since 0.1. */
NAS_API nas_status_t nas_state_write_f64s(nas_state_writer_t *w, const double *v, size_t n);
/** Append a string (NULL is written as ""). Since 0.1. */
NAS_API nas_status_t nas_state_write_str(nas_state_writer_t *w, const char *s);
/** Append an architecture as its canonical string. Since 0.1. */
NAS_API nas_status_t nas_state_write_arch(nas_state_writer_t *w, const nas_arch_t *arch);
/** Read len raw bytes. Since 0.1. */
NAS_API nas_status_t nas_state_read(nas_state_reader_t *r, void *data, size_t len);
/** Read an unsigned 64-bit integer. Since 0.1. */
NAS_API nas_status_t nas_state_read_u64(nas_state_reader_t *r, uint64_t *v);
/** Read a u64 that must be <= max (a count about to size an allocation): NAS_E_CORRUPT if larger. Since 0.1. */
NAS_API nas_status_t nas_state_read_count(nas_state_reader_t *r, uint64_t max, uint64_t *v);
/** Read a double. Since 0.1. */
NAS_API nas_status_t nas_state_read_f64(nas_state_reader_t *r, double *v);
/** Read n doubles. Since 0.1. */
NAS_API nas_status_t nas_state_read_f64s(nas_state_reader_t *r, double *v, size_t n);
/** Read a string; *s points into the reader's data (NUL-terminated), valid during load. Since 0.1. */
NAS_API nas_status_t nas_state_read_str(nas_state_reader_t *r, const char **s);
/** Read an architecture into arch (of the searcher's space); NAS_E_CORRUPT if it does not parse. Since 0.1. */
NAS_API nas_status_t nas_state_read_arch(nas_state_reader_t *r, nas_arch_t *arch);
/** Bytes left to read. Since 0.1. */
NAS_API size_t nas_state_remaining(const nas_state_reader_t *r);

/**
 * For a strategy's create(): declare that ask() is sure to return NAS_E_EXHAUSTED after finitely many
 * calls (e.g. it walks a finite list), so that a run of it needs no budget (nas_run_create() refuses a
 * run without one otherwise). Since 0.1.
 */
NAS_API void nas_searcher_set_finite(nas_searcher_t *s, bool finite);
/** Whether the searcher's strategy declared itself finite (grid, or nas_searcher_set_finite()). Since 0.1. */
NAS_API bool nas_searcher_is_finite(const nas_searcher_t *s);

/** user_data of the vtable a searcher was created from. Since 0.1. */
NAS_API void *nas_searcher_user_data(const nas_searcher_t *s);
/** user_data of the vtable an evaluator was created from. Since 0.1. */
NAS_API void *nas_evaluator_user_data(const nas_evaluator_t *ev);

#ifdef __cplusplus
}
#endif
#endif /* LIBNAS_PLUGIN_H */
