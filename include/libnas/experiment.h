/* libnas: experiment files: space, strategy, evaluator, budget and output folder in one YAML file. */
#ifndef LIBNAS_EXPERIMENT_H
#define LIBNAS_EXPERIMENT_H

#include "core.h"
#include "space.h"
#include "search.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A parsed experiment file (format: docs/experiments.md). Relative paths in it (the space
 * file, the output folder, and evaluator or searcher parameters named "path" or ending in "_path"
 * or "_file") are resolved against the experiment file's folder.
 */
typedef struct nas_experiment nas_experiment_t;

/**
 * Load an experiment and the space it names or holds inline.
 * @return NAS_OK; NAS_E_IO; NAS_E_PARSE; NAS_E_SPEC (unknown key, missing section, bad value);
 *         the space loader's statuses. Message "FILE:LINE:COLUMN: what" in nas_context_errmsg(). Since 0.1.
 */
NAS_API nas_status_t nas_experiment_load_file(nas_experiment_t **out, nas_context_t *ctx, const char *path);
/** Load from YAML text; relative paths resolve against `base_dir` (NULL: the current folder). Since 0.1. */
NAS_API nas_status_t nas_experiment_load_string(nas_experiment_t **out, nas_context_t *ctx, const char *yaml,
                                                size_t len, const char *base_dir);
/** Destroy an experiment (and the space it owns). NULL is a no-op. Since 0.1. */
NAS_API void nas_experiment_destroy(nas_experiment_t *exp);

/** The experiment's space (owned by the experiment). Since 0.1. */
NAS_API nas_space_t *nas_experiment_space(const nas_experiment_t *exp);
/** Name of the experiment ("" if none). Since 0.1. */
NAS_API const char *nas_experiment_name(const nas_experiment_t *exp);
/** Strategy name (default "random"). Since 0.1. */
NAS_API const char *nas_experiment_searcher(const nas_experiment_t *exp);
/** Strategy parameters (owned by the experiment; never NULL). Since 0.1. */
NAS_API const nas_params_t *nas_experiment_searcher_params(const nas_experiment_t *exp);
/** Objectives string, e.g. "test_acc:max" (default "accuracy:max"). Since 0.1. */
NAS_API const char *nas_experiment_objectives(const nas_experiment_t *exp);
/** searcher.constraints joined with commas ("" when none), for nas_searcher_opts_t.constraints. Since 0.1. */
NAS_API const char *nas_experiment_constraints(const nas_experiment_t *exp);
/** Evaluator name (default "table"). Since 0.1. */
NAS_API const char *nas_experiment_evaluator(const nas_experiment_t *exp);
/** Evaluator parameters (owned by the experiment; never NULL). Since 0.1. */
NAS_API const nas_params_t *nas_experiment_evaluator_params(const nas_experiment_t *exp);
/** Seed of the searcher (0 if the file sets none). Since 0.1. */
NAS_API uint64_t nas_experiment_seed(const nas_experiment_t *exp);
/** Output folder, resolved ("" if the file sets none). Since 0.1. */
NAS_API const char *nas_experiment_output_dir(const nas_experiment_t *exp);
/** Copy the budget (max_trials, max_seconds, max_cost) into opts; other members untouched. Since 0.1. */
NAS_API nas_status_t nas_experiment_budget(const nas_experiment_t *exp, nas_run_opts_t *opts);

#ifdef __cplusplus
}
#endif
#endif /* LIBNAS_EXPERIMENT_H */
