/* libnas: search spaces (nas_space_t) and architectures (nas_arch_t). */
#ifndef LIBNAS_SPACE_H
#define LIBNAS_SPACE_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A search space: decisions (architecture choices and hyperparameters) and the structure they fill. */
typedef struct nas_space nas_space_t;
/** One point of a space: a value for every decision. Belongs to one space. */
typedef struct nas_arch nas_arch_t;

/** Space families. */
typedef enum nas_family {
    NAS_FAMILY_NONE = 0,   /**< only hyperparameters */
    NAS_FAMILY_CELL = 1,   /**< DAG cells whose edges pick operations (NAS-Bench-201, DARTS) */
    NAS_FAMILY_CHAIN = 2   /**< stages of layers with per-layer choices (ProxylessNAS, MobileNet) */
} nas_family_t;

/** Kinds of decision (dimension). */
typedef enum nas_dim_kind {
    NAS_DIM_CATEGORICAL = 0, /**< one of num_choices labelled options */
    NAS_DIM_INT = 1,         /**< integer in [low, high] */
    NAS_DIM_FLOAT = 2        /**< real in [low, high] */
} nas_dim_kind_t;

/** What a decision means in the network. */
typedef enum nas_dim_role {
    NAS_ROLE_OP = 0,          /**< operation of a cell edge or chain layer */
    NAS_ROLE_INPUTS = 1,      /**< set of input nodes of a cell node (labels like "0,2") */
    NAS_ROLE_DEPTH = 2,       /**< number of layers of a chain stage */
    NAS_ROLE_WIDTH = 3,       /**< width multiplier of a chain */
    NAS_ROLE_HPARAM = 4       /**< training hyperparameter */
} nas_dim_role_t;

/** Description of one decision; filled by nas_space_dim_info(). Strings are owned by the space. */
typedef struct nas_dim_info {
    size_t struct_size;      /**< set by the caller: sizeof(nas_dim_info_t) */
    const char *name;        /**< unique, e.g. "cell/edge_2_1", "stage1/layer0", "lr" */
    int32_t kind;            /**< nas_dim_kind_t */
    int32_t role;            /**< nas_dim_role_t */
    uint32_t num_choices;    /**< categorical: options; int: high - low + 1; float: 0 */
    double low, high;        /**< int and float: bounds (inclusive) */
    bool log_scale;          /**< int and float: sampled uniformly in log space */
    int32_t parent;          /**< index of the decision this one depends on, or -1 */
    int32_t parent_min;      /**< active only when the parent's choice index >= parent_min */
} nas_dim_info_t;

/* ---------------------------------------------------------------------- */
/* Loading and building                                                   */

/** Limits that keep a hostile space file from exhausting memory. */
#define NAS_SPACE_MAX_DIMS 4096
#define NAS_SPACE_MAX_CHOICES 256
#define NAS_SPACE_MAX_NODES 32
#define NAS_SPACE_MAX_FILE_BYTES (4u << 20)

/**
 * Load a space from a YAML file (format: docs/spaces.md). Unknown keys are errors; anchors and
 * aliases are refused; files over NAS_SPACE_MAX_FILE_BYTES are refused before parsing.
 * @param[out] out  the space; NULL on failure
 * @return NAS_OK; NAS_E_IO (unreadable file); NAS_E_PARSE (bad YAML); NAS_E_SPEC (invalid space);
 *         NAS_E_RANGE (over a NAS_SPACE_MAX_* limit); NAS_E_NOMEM. On failure the message,
 *         "FILE:LINE:COLUMN: what", is in nas_context_errmsg(ctx). Since 0.1.
 */
NAS_API nas_status_t nas_space_load_file(nas_space_t **out, nas_context_t *ctx, const char *path);

/**
 * Load a space from YAML text of `len` bytes (need not be NUL-terminated). `origin` names the text
 * in messages (NULL: "<string>"). Statuses as nas_space_load_file(). Since 0.1.
 */
NAS_API nas_status_t nas_space_load_string(nas_space_t **out, nas_context_t *ctx, const char *yaml,
                                           size_t len, const char *origin);

/**
 * Create an empty space to build through the C API: set a family (nas_space_set_cell() and
 * nas_space_set_macro(), or nas_space_set_chain() and nas_space_add_stage()), add hyperparameters,
 * then nas_space_build(). A space is usable for sampling only after a successful build.
 * Each builder call validates and copies its spec at once (a failed call changes nothing); errors
 * go to nas_space_errmsg(). `name` may be NULL (""). Failure messages of this call go to the
 * context. Since 0.1.
 */
NAS_API nas_status_t nas_space_create(nas_space_t **out, nas_context_t *ctx, const char *name);

/**
 * The YAML text a space was loaded from (nas_space_load_file() or nas_space_load_string()), owned
 * by the space; models made from it embed it (nas_model_opts_t.space_yaml), so their files load
 * without the space. *len (optional) gets its length; the text is also NUL-terminated.
 * @return NAS_OK; NAS_E_INVAL (NULL space or text); NAS_E_NOT_FOUND (a space built through the C
 *         API or inline in an experiment file has no text of its own). Since 0.1.
 */
NAS_API nas_status_t nas_space_yaml(const nas_space_t *space, const char **text, size_t *len);

/** Destroy a space. Every arch of it must be destroyed first. NULL is a no-op. Since 0.1. */
NAS_API void nas_space_destroy(nas_space_t *space);

/** Last detailed error message of calls on this space or its archs; "" if none; never NULL. Since 0.1. */
NAS_API const char *nas_space_errmsg(const nas_space_t *space);

/** How the output of a cell is formed. */
typedef enum nas_cell_output {
    NAS_CELL_OUTPUT_LAST = 0,   /**< the last node (NAS-Bench-201) */
    NAS_CELL_OUTPUT_CONCAT = 1  /**< concatenation of all intermediate nodes (DARTS) */
} nas_cell_output_t;

/** Cell structure. Arrays are copied. */
typedef struct nas_cell_spec {
    size_t struct_size;            /**< sizeof(nas_cell_spec_t) */
    const char *const *ops;        /**< candidate operations of every edge (names: docs/spaces.md) */
    uint32_t num_ops;
    uint32_t num_inputs;           /**< input nodes: 1 (NAS-Bench-201) or 2 (DARTS) */
    uint32_t num_nodes;            /**< computed nodes after the inputs */
    uint32_t inputs_per_node;      /**< 0: an edge from every earlier node; k: each node picks k distinct earlier nodes */
    const char *const *cell_types; /**< names of cell types with their own choices, e.g. {"normal","reduce"}; NULL: one type */
    uint32_t num_cell_types;
    int32_t output;                /**< nas_cell_output_t */
} nas_cell_spec_t;

/** Set the cell structure (family becomes NAS_FAMILY_CELL). Only before nas_space_build(). Since 0.1. */
NAS_API nas_status_t nas_space_set_cell(nas_space_t *space, const nas_cell_spec_t *spec);

/** How a cell network reduces resolution between stages. */
typedef enum nas_reduction {
    NAS_REDUCTION_RESIDUAL = 0,   /**< a fixed residual block with stride 2 (NAS-Bench-201) */
    NAS_REDUCTION_CELL = 1        /**< a searched cell of type "reduce" (DARTS) */
} nas_reduction_t;

/** One stage of the macro skeleton around cells. */
typedef struct nas_macro_stage {
    uint32_t cells;       /**< cells in the stage (>= 1) */
    int32_t channels;     /**< channels of the stage (> 0) */
} nas_macro_stage_t;

/** Macro skeleton of a cell network: stem, stages, reductions between stages. */
typedef struct nas_macro_spec {
    size_t struct_size;               /**< sizeof(nas_macro_spec_t) */
    int32_t stem_channels;            /**< > 0 */
    const nas_macro_stage_t *stages;  /**< copied */
    uint32_t num_stages;
    int32_t reduction;                /**< nas_reduction_t */
} nas_macro_spec_t;

/** Set the macro skeleton of a cell space. Only before nas_space_build(). Since 0.1. */
NAS_API nas_status_t nas_space_set_macro(nas_space_t *space, const nas_macro_spec_t *spec);

/** Chain structure: a stem, stages of layers, a head. */
typedef struct nas_chain_spec {
    size_t struct_size;                 /**< sizeof(nas_chain_spec_t) */
    const char *const *ops;             /**< per-layer candidates, e.g. "mb3_e3", "mb7_e6", "skip" */
    uint32_t num_ops;
    int32_t stem_channels;              /**< > 0 */
    int32_t head_channels;              /**< channels of the last 1x1 conv before pooling; 0: none */
    const double *width_multipliers;    /**< a decision when more than one; NULL: 1.0 */
    uint32_t num_width_multipliers;
} nas_chain_spec_t;

/** Set the chain structure (family becomes NAS_FAMILY_CHAIN). Only before nas_space_build(). Since 0.1. */
NAS_API nas_status_t nas_space_set_chain(nas_space_t *space, const nas_chain_spec_t *spec);

/**
 * One stage of a chain. The first layer of a stage applies the stride and the channel change,
 * so it cannot be "skip"; the other layers may be. Layer counts above the chosen depth are inactive.
 */
typedef struct nas_stage_spec {
    size_t struct_size;       /**< sizeof(nas_stage_spec_t) */
    int32_t channels;         /**< output channels (> 0) */
    int32_t stride;           /**< 1 or 2 */
    const uint32_t *depths;   /**< allowed layer counts, strictly increasing, >= 1; copied */
    uint32_t num_depths;      /**< 1: fixed depth; more: a decision */
} nas_stage_spec_t;

/** Append a stage to a chain space. Only before nas_space_build(). Since 0.1. */
NAS_API nas_status_t nas_space_add_stage(nas_space_t *space, const nas_stage_spec_t *spec);

/** A hyperparameter searched jointly with the architecture. */
typedef struct nas_hparam_spec {
    size_t struct_size;          /**< sizeof(nas_hparam_spec_t) */
    const char *name;            /**< unique among all decisions; [A-Za-z0-9_.-]+ */
    int32_t kind;                /**< nas_dim_kind_t */
    double low, high;            /**< INT and FLOAT: inclusive bounds, low <= high (low > 0 with log_scale) */
    bool log_scale;              /**< INT and FLOAT: uniform in log space */
    const char *const *choices;  /**< CATEGORICAL: labels (numbers or words); copied */
    uint32_t num_choices;
    uint32_t grid_points;        /**< FLOAT: points used by grid enumeration (0: 5) */
} nas_hparam_spec_t;

/** Add a hyperparameter. Only before nas_space_build(). Since 0.1. */
NAS_API nas_status_t nas_space_add_hparam(nas_space_t *space, const nas_hparam_spec_t *spec);

/**
 * Validate and freeze the space: unknown ops, empty lists, bad channels, duplicate names and sizes
 * over the limits are reported here (NAS_E_SPEC / NAS_E_RANGE) with a message. Since 0.1.
 */
NAS_API nas_status_t nas_space_build(nas_space_t *space);

/* ---------------------------------------------------------------------- */
/* Queries (on a built space)                                             */

/** Name of the space (owned by the space). Since 0.1. */
NAS_API const char *nas_space_name(const nas_space_t *space);
/** Family of the space (nas_family_t). Since 0.1. */
NAS_API int32_t nas_space_family(const nas_space_t *space);
/** Number of decisions, hyperparameters included. Since 0.1. */
NAS_API uint32_t nas_space_num_dims(const nas_space_t *space);
/** Number of architecture decisions (they come first; hyperparameters follow). Since 0.1. */
NAS_API uint32_t nas_space_num_arch_dims(const nas_space_t *space);

/**
 * Describe decision `dim`. out->struct_size must be set; only that many bytes are written.
 * CATEGORICAL decisions report low = 0 and high = num_choices - 1. NAS_E_RANGE for a bad index. Since 0.1.
 */
NAS_API nas_status_t nas_space_dim_info(const nas_space_t *space, uint32_t dim, nas_dim_info_t *out);

/** Label of option `choice` of a categorical decision (owned by the space). Since 0.1. */
NAS_API nas_status_t nas_space_dim_label(const nas_space_t *space, uint32_t dim, uint32_t choice,
                                         const char **out);

/** What nas_space_size() counts. */
typedef enum nas_size_what {
    NAS_SIZE_ARCH = 0,   /**< distinct architectures */
    NAS_SIZE_ALL = 1     /**< architectures x hyperparameter settings ("inf" with a FLOAT hyperparameter) */
} nas_size_what_t;

/**
 * Exact size of the space as a decimal string (inactive decisions do not multiply the count).
 * @param[out] buf  receives the NUL-terminated string; `cap` bytes
 * @param[out] len  if not NULL, the string length (also on NAS_E_RANGE, so the caller can retry)
 * @return NAS_OK; NAS_E_RANGE if cap is too small. Since 0.1.
 */
NAS_API nas_status_t nas_space_size(const nas_space_t *space, int32_t what, char *buf, size_t cap, size_t *len);

/** Size as an integer; NAS_E_RANGE if it exceeds UINT64_MAX or is infinite. Since 0.1. */
NAS_API nas_status_t nas_space_size_u64(const nas_space_t *space, int32_t what, uint64_t *out);

/* ---------------------------------------------------------------------- */
/* Architectures                                                           */

/** Create an arch of a built space, set to the first option of every decision (index 0 of the grid). Since 0.1. */
NAS_API nas_status_t nas_arch_create(nas_arch_t **out, nas_space_t *space);
/** Destroy an arch. NULL is a no-op. Since 0.1. */
NAS_API void nas_arch_destroy(nas_arch_t *arch);
/** Copy src into dst (same space). Since 0.1. */
NAS_API nas_status_t nas_arch_copy(nas_arch_t *dst, const nas_arch_t *src);
/** The space an arch belongs to. Since 0.1. */
NAS_API nas_space_t *nas_arch_space(const nas_arch_t *arch);

/** Choice index of a CATEGORICAL or INT decision (INT: value - low); NAS_E_INVAL for a FLOAT one. Since 0.1. */
NAS_API nas_status_t nas_arch_get(const nas_arch_t *arch, uint32_t dim, uint32_t *out);
/**
 * Set the choice of a CATEGORICAL or INT decision. Choices of decisions made inactive are reset to 0,
 * so equal architectures compare equal. NAS_E_RANGE for a bad index or choice; NAS_E_INVAL for a
 * FLOAT decision; NAS_E_STATE for a non-zero choice of an inactive decision (set its parent first). Since 0.1.
 */
NAS_API nas_status_t nas_arch_set(nas_arch_t *arch, uint32_t dim, uint32_t choice);
/** Numeric value of a decision: FLOAT and INT values; CATEGORICAL: the label as a number if it is one, else the index. Since 0.1. */
NAS_API nas_status_t nas_arch_get_value(const nas_arch_t *arch, uint32_t dim, double *out);
/**
 * Set a FLOAT or INT decision by value (INT must be integral), or a CATEGORICAL one to the option whose
 * label is that number. NAS_E_RANGE outside the bounds, for NaN, or when no label matches. Since 0.1.
 */
NAS_API nas_status_t nas_arch_set_value(nas_arch_t *arch, uint32_t dim, double value);
/** Whether a decision is active (its parent's choice enables it). Since 0.1. */
NAS_API nas_status_t nas_arch_is_active(const nas_arch_t *arch, uint32_t dim, bool *out);
/** Look a decision up by name; NAS_E_NOT_FOUND if there is none. Since 0.1. */
NAS_API nas_status_t nas_space_find_dim(const nas_space_t *space, const char *name, uint32_t *out);

/** Flags of nas_arch_to_string(). */
#define NAS_STRING_ARCH_ONLY 1u   /**< leave hyperparameters out (the key of a benchmark table) */

/**
 * Canonical string of an arch (formats: docs/spaces.md "Canonical strings"). For a NAS-Bench-201-like
 * cell it is the benchmark's own format,
 * e.g. "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|".
 * Hyperparameters follow as ";name=value" in declaration order (unless NAS_STRING_ARCH_ONLY).
 * Equal architectures give equal strings, and nas_arch_from_string() of the string gives an equal arch.
 * @param[out] buf  receives the NUL-terminated string; may be NULL with cap 0 to ask for the length
 * @param[out] len  if not NULL, the string length (also on NAS_E_RANGE)
 * @return NAS_OK; NAS_E_RANGE if cap is too small (buf then holds ""). Since 0.1.
 */
NAS_API nas_status_t nas_arch_to_string(const nas_arch_t *arch, uint32_t flags, char *buf, size_t cap, size_t *len);

/**
 * Parse a canonical string into `arch`. Missing hyperparameters keep their current values.
 * @return NAS_OK; NAS_E_PARSE with a message naming the offending position; arch unchanged on failure. Since 0.1.
 */
NAS_API nas_status_t nas_arch_from_string(nas_arch_t *arch, const char *str);

/** Whether two archs of the same space are equal (false for different spaces). Since 0.1. */
NAS_API bool nas_arch_equal(const nas_arch_t *a, const nas_arch_t *b);
/** Hash of an arch, consistent with nas_arch_equal(); stable across runs and platforms. Since 0.1. */
NAS_API uint64_t nas_arch_hash(const nas_arch_t *arch);

/** Draw every active decision uniformly (log-uniform for log_scale). Since 0.1. */
NAS_API nas_status_t nas_space_sample(const nas_space_t *space, nas_arch_t *out, nas_rng_t *rng);

/**
 * Mutate: copy `parent` to `out` then change `edits` randomly chosen distinct active decisions, each
 * to a different value (CATEGORICAL: another option; FLOAT and wide INT ranges: a Gaussian step of
 * 0.2 of the (log) range, clipped). A chain depth that grows draws the layers it switches on. With
 * more edits than changeable decisions, each changes once. out may be parent. Since 0.1.
 */
NAS_API nas_status_t nas_space_mutate(const nas_space_t *space, nas_arch_t *out, const nas_arch_t *parent,
                                      nas_rng_t *rng, uint32_t edits);

/** Uniform crossover: each decision from a or b with probability 1/2 (structural groups kept consistent). Since 0.1. */
NAS_API nas_status_t nas_space_crossover(const nas_space_t *space, nas_arch_t *out, const nas_arch_t *a,
                                         const nas_arch_t *b, nas_rng_t *rng);

/**
 * The `index`-th point of the grid (0 <= index < nas_space_grid_size(), FLOAT decisions on
 * grid_points points, both bounds included, log-spaced with log_scale). Distinct indices give distinct
 * archs; index 0 is what nas_arch_create() gives; the first decision varies slowest. NAS_E_RANGE past
 * the end, or when the grid has more than 2^64 points. Since 0.1.
 */
NAS_API nas_status_t nas_space_enumerate(const nas_space_t *space, nas_arch_t *out, uint64_t index);

/** Number of grid points: like nas_space_size_u64(NAS_SIZE_ALL) but FLOAT decisions count grid_points. Since 0.1. */
NAS_API nas_status_t nas_space_grid_size(const nas_space_t *space, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif /* LIBNAS_SPACE_H */
