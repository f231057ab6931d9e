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

/** user_data of the vtable a searcher was created from. Since 0.1. */
NAS_API void *nas_searcher_user_data(const nas_searcher_t *s);
/** user_data of the vtable an evaluator was created from. Since 0.1. */
NAS_API void *nas_evaluator_user_data(const nas_evaluator_t *ev);

#ifdef __cplusplus
}
#endif
#endif /* LIBNAS_PLUGIN_H */
