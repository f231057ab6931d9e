/* Internals of src/space: the layout of nas_space_t and nas_arch_t, the op vocabulary, big numbers. */
#ifndef NAS_SPACE_INTERNAL_H
#define NAS_SPACE_INTERNAL_H

#include "core/internal.h"

/* Limits beside the public NAS_SPACE_MAX_* ones (docs/spaces.md lists them all). */
#define NAS__MAX_CELL_TYPES 8
#define NAS__MAX_STAGES 64
#define NAS__MAX_CELLS_PER_STAGE 1024
#define NAS__MAX_CHANNELS 65536
#define NAS__MAX_NAME 128          /* decision, space and cell-type names */
#define NAS__MAX_LABEL 64          /* categorical labels */
#define NAS__MAX_WIDTH 16.0        /* width multipliers are in (0, 16] */
#define NAS__MAX_INT_ABS 1e15      /* INT bounds are integers of at most this magnitude */
#define NAS__DEFAULT_GRID_POINTS 5u

/* ---------------------------------------------------------------------- */
/* Operations                                                              */

typedef enum nas__op_kind {
    NAS__OP_NONE = 0,     /* zero: the edge is absent */
    NAS__OP_SKIP = 1,     /* identity (cells: skip_connect; chains: skip) */
    NAS__OP_CONV = 2,     /* ReLU-conv-BN, kernel k (nor_conv_kxk) */
    NAS__OP_SEP_CONV = 3, /* separable conv applied twice (DARTS) */
    NAS__OP_DIL_CONV = 4, /* dilated separable conv, dilation 2 (DARTS) */
    NAS__OP_AVG_POOL = 5,
    NAS__OP_MAX_POOL = 6,
    NAS__OP_MBCONV = 7    /* inverted residual: kernel k, expansion e */
} nas__op_kind_t;

typedef struct nas__op {
    int32_t kind;       /* nas__op_kind_t */
    int32_t kernel;     /* 0 for none/skip */
    int32_t expansion;  /* MBCONV only, else 0 */
    int32_t dilation;   /* 1, or 2 for DIL_CONV */
} nas__opdef_t;

/* Parse an op name of a cell space / a chain space; false if it is not in the vocabulary. */
bool nas__op_parse_cell(const char *name, nas__opdef_t *out);
bool nas__op_parse_chain(const char *name, nas__opdef_t *out);
/* Comma-separated vocabularies for messages (static strings). */
const char *nas__op_cell_vocabulary(void);
const char *nas__op_chain_vocabulary(void);

/* ---------------------------------------------------------------------- */
/* Big decimal numbers (base 1e9 limbs) for exact sizes                    */

typedef struct nas__big {
    nas_context_t *ctx;
    uint32_t *limb;    /* little-endian base-1e9 digits; n >= 1 once set */
    uint32_t n, cap;
    bool failed;       /* an allocation failed: the value is meaningless */
} nas__big_t;

void nas__big_init(nas__big_t *b, nas_context_t *ctx, uint32_t value);
void nas__big_free(nas__big_t *b);
void nas__big_mul_u32(nas__big_t *b, uint32_t v);
void nas__big_add(nas__big_t *b, const nas__big_t *a);
void nas__big_mul(nas__big_t *b, const nas__big_t *a);
void nas__big_copy(nas__big_t *b, const nas__big_t *a);
/* Decimal string allocated through the context; NULL on failure. */
char *nas__big_to_string(const nas__big_t *b);

/* ---------------------------------------------------------------------- */
/* Specification copied by the builder                                     */

/* Where the last builder error belongs, so the YAML loader can point at the line and column. */
typedef enum nas__section {
    NAS__SEC_TOP = 0,    /* the space itself */
    NAS__SEC_CELL = 1,
    NAS__SEC_MACRO = 2,
    NAS__SEC_CHAIN = 3,
    NAS__SEC_STAGE = 4,  /* chain stage `item` */
    NAS__SEC_HPARAM = 5  /* hyperparameter `item` */
} nas__section_t;

typedef struct nas__locus {
    int32_t section;      /* nas__section_t */
    int32_t item;         /* stage or hyperparameter index; -1 */
    const char *key;      /* the member as its YAML key ("ops", "channels"); NULL: the section */
    int32_t elem;         /* index in the list under key; -1 */
    const char *subkey;   /* key inside that element (macro stages); NULL */
} nas__locus_t;

typedef struct nas__cell {
    char **ops;
    uint32_t num_ops;
    uint32_t num_inputs, num_nodes, inputs_per_node;
    char **types;          /* NULL when num_types == 0 (one unnamed type, "cell") */
    uint32_t num_types;
    int32_t output;
} nas__cell_t;

typedef struct nas__macro {
    int32_t stem_channels;
    nas_macro_stage_t *stages;
    uint32_t num_stages;
    int32_t reduction;
} nas__macro_t;

typedef struct nas__chain {
    char **ops;
    uint32_t num_ops;
    int32_t stem_channels, head_channels;
    double *widths;        /* num_widths >= 1 (default {1.0}) */
    uint32_t num_widths;
} nas__chain_t;

typedef struct nas__stage {
    int32_t channels, stride;
    uint32_t *depths;
    uint32_t num_depths;
    /* Set by the build. */
    uint32_t first_dim;    /* the depth decision if any, else layer 0 */
    int32_t depth_dim;     /* -1 with a fixed depth */
    uint32_t first_layer;  /* dim of layer 0 */
} nas__stage_t;

typedef struct nas__hparam {
    char *name;
    int32_t kind;
    double low, high;
    bool log_scale;
    char **choices;
    uint32_t num_choices;
    uint32_t grid_points;
} nas__hparam_t;

/* ---------------------------------------------------------------------- */
/* Built space                                                             */

/* Labels shared by decisions (op lists, input sets, widths, depths, categorical hyperparameters). */
typedef struct nas__labels {
    const char **label;    /* n labels: into `text` or into strings the spec owns */
    double *number;        /* numeric value of each label, NaN when it is not a number */
    uint32_t n;
    char *text;            /* owned storage of generated labels, or NULL */
    uint8_t *members;      /* INPUTS labels: n rows of k node indices, ascending; else NULL */
    uint32_t k;
} nas__labels_t;

typedef struct nas__dim {
    char *name;
    int32_t kind, role;
    uint32_t num_choices;  /* CATEGORICAL, INT; FLOAT: 0 */
    double low, high;
    bool log_scale;
    int32_t parent, parent_min;
    int32_t labels;        /* index in space->labels (CATEGORICAL), else -1 */
    uint32_t grid_points;  /* FLOAT: points of the grid (1 when low == high); else num_choices */
    uint32_t group;
} nas__dim_t;

/*
 * Decisions that travel together: a DARTS node (inputs + its ops), a chain stage with a depth
 * decision (depth + layers), or one decision. The dims of a group are contiguous; `selector`
 * is the dim that switches the others on (parent of them all) or -1.
 */
typedef struct nas__group {
    uint32_t first, count;
    int32_t selector;
    uint64_t grid;         /* number of grid points of the group (valid when !grid_overflow) */
    bool grid_overflow;
} nas__group_t;

struct nas_space {
    nas_context_t *ctx;
    char *name;
    char *yaml;            /* the YAML text it was loaded from (NUL-terminated copy), or NULL */
    size_t yaml_len;
    int32_t family;
    bool built;
    char errmsg[NAS_ERRMSG_CAP];
    nas__locus_t locus;    /* of the last builder or build error */

    bool has_cell, has_macro, has_chain;
    nas__cell_t cell;
    nas__macro_t macro;
    nas__chain_t chain;
    nas__stage_t *stages;
    uint32_t num_stages, cap_stages;
    nas__hparam_t *hparams;
    uint32_t num_hparams, cap_hparams;

    /* Built. */
    nas__dim_t *dims;
    uint32_t num_dims, num_arch_dims;
    nas__labels_t *labels;
    uint32_t num_labels, cap_labels;
    nas__group_t *groups;
    uint32_t num_groups;
    uint32_t *cell_first_dim;  /* per cell type (max(num_types, 1) entries) */
    int32_t *node_labels;      /* per node of a cell with inputs_per_node > 0: its INPUTS labels, else -1 */
    int32_t cell_ops_labels;   /* labels of the cell ops */
    int32_t width_dim;         /* -1 without a width decision */
    char *size_arch, *size_all;
    uint64_t grid_size;
    bool grid_ok;
};

struct nas_arch {
    nas_space_t *space;
    uint32_t *choice;      /* per dim: choice index (FLOAT: unused, 0) */
    double *value;         /* per dim: FLOAT value (others: unused, 0) */
};

/* Set the space's message and locus; returns st. */
nas_status_t nas__space_fail(nas_space_t *space, nas_status_t st, const nas__locus_t *locus, const char *fmt, ...)
    NAS_PRINTF(4, 5);

/* Whether dim d is active given the choices. */
static inline bool nas__dim_active(const nas_space_t *s, const uint32_t *choice, uint32_t d)
{
    const nas__dim_t *dim = &s->dims[d];
    return dim->parent < 0 || choice[dim->parent] >= (uint32_t)dim->parent_min;
}

/* Whether a decision of a group with selector `sel` becomes active when the selector reaches choice c
 * (decisions without a parent count as switched on at 0): the active set only grows with c. */
static inline bool nas__switched_on_at(const nas__dim_t *dim, uint32_t sel, uint32_t c)
{
    return dim->parent < 0 ? c == 0 : dim->parent == (int32_t)sel && dim->parent_min == (int32_t)c;
}

/* Reset inactive decisions to choice 0 (the canonical form equal archs share). */
void nas__arch_normalize(const nas_space_t *s, uint32_t *choice);

/* Label of a choice of a CATEGORICAL dim. */
static inline const char *nas__dim_label(const nas_space_t *s, uint32_t d, uint32_t c)
{
    return s->labels[s->dims[d].labels].label[c];
}

/* Value of the k-th of g grid points of a FLOAT dim. */
double nas__float_grid_value(const nas__dim_t *dim, uint32_t k);

/* Build steps (build.c). */
nas_status_t nas__space_build_dims(nas_space_t *space);
void nas__space_free_built(nas_space_t *space);
nas_status_t nas__space_compute_sizes(nas_space_t *space);

/* Validate a categorical label: [A-Za-z0-9_.+-]+, at most NAS__MAX_LABEL bytes. */
bool nas__valid_label(const char *s);
/* Parse a whole string as a finite double. */
bool nas__parse_double(const char *s, double *out);

#endif /* NAS_SPACE_INTERNAL_H */
