/* Private to src/nn/exec.c and src/nn/run.c: the compiled plan. */
#ifndef NAS_NN_PLAN_H
#define NAS_NN_PLAN_H

#include "nn/exec.h"

typedef enum pkind {
    PK_INPUT = 0, /* owns a plain NCHW value */
    PK_OP,        /* a oneDNN-backed op */
    PK_IDENTITY,  /* value aliases the input's; backward copies the gradient */
    PK_FUSED,     /* ReLU fused into the preceding BN: value and gradient belong to the BN op */
    PK_MIXED      /* candidate paths */
} pkind_t;

typedef struct pnode {
    pkind_t kind;
    nas__node_kind_t gkind;
    nas__op_t *op;
    nas__tensor_t *val;     /* value (borrowed from the op, or owned: input, mixed) */
    nas__tensor_t *dval;    /* gradient (owned), NULL when none flows here */
    bool own_val, need_grad;
    bool zero_grad_first;   /* consumers all accumulate: zeroed at the start of backward */
    bool claimed;           /* compile time: the first writer of dval is known */
    int32_t mixed, path;    /* graph membership: mixed node index (-1) and path */
    /* Edges to the inputs (mixed nodes: to the path outputs). */
    uint32_t n_edge;
    int32_t *edge_src;      /* producer node id */
    nas__tensor_t **edge_d; /* where this node's backward writes the producer's gradient */
    bool *edge_acc;         /* edge_d is a scratch added into the producer's dval afterwards */
    /* Mixed node. */
    uint32_t n_paths, alpha_off;
    nas__mixed_mode_t mode;
    uint32_t sel;           /* selected path (single and binary modes) */
    uint32_t sel2;          /* binary mode: the second sampled path (forward only, gate 0), or NAS__NO_PATH */
    /* Single and binary modes: the activations of the paths' ops live in `slots` slots of slot_bytes
     * at act offset `region` (one slot: every path in it; binary: sel in slot 0, sel2 in slot 1). */
    size_t region, slot_bytes;
    uint32_t in_slot1;      /* binary: the path bound to slot 1, or NAS__NO_PATH */
    nas__tensor_t *probe;   /* binary with a shared probe region: sel2's output, kept for backward (owned) */
    size_t rel_off;         /* op nodes of such paths: offset of the op's tensors inside its slot */
    bool *path_zero;        /* path output is a zero node: contributes nothing */
    nas__op_t **adapt;      /* per path: layout adapter to the mixed layout, or NULL */
    nas__tensor_t **pval;   /* per path: the value summed (path output or adapter output) */
    nas__tensor_t **pgrad;  /* per path: adapter's output gradient (owned), or NULL */
} pnode_t;

typedef struct pparam {
    int32_t node;
    nas__tensor_t *t, *g;
    nas__param_info_t info;
    size_t off;            /* float offset in the parameter arena */
    int32_t mixed, path;
} pparam_t;

typedef struct owned {
    nas__tensor_t *t;
    int32_t first, last; /* backward steps (node n-1 runs at step 0) */
} owned_t;

typedef struct arena {
    void *raw;
    float *base;
    size_t bytes;
} arena_t;

struct nas__plan {
    nas_context_t *ctx;
    nas__dev_t *dev;
    nas__plan_opts_t opts;
    uint32_t n;              /* nodes */
    pnode_t *nodes;
    int32_t input, output, loss_node;
    /* Memory. */
    arena_t act, scratch, params, grads, mom, var, stats;
    size_t n_param_floats, n_decay_floats;
    uint32_t n_params;
    pparam_t *params_v;
    /* Tensors the plan owns besides the ops' (gradients, scratches, owned values), with the backward
     * steps during which they hold data (first = -1: the whole plan lifetime). Gradient buffers of
     * equal layout whose lifetimes do not overlap share memory. */
    owned_t *owned;
    uint32_t n_owned, cap_owned;
    /* Alphas. */
    uint32_t n_mixed, n_alpha;
    int32_t *mixed_nodes;
    float *alpha, *dalpha, *amom, *avar, *aw; /* aw: softmax weights */
    int64_t arch_steps;
    /* State. */
    int64_t steps;
    double loss, grad_norm;
    int64_t correct;
    bool fwd_train_done, out_grad_set;
    uint64_t prims0;
    uint32_t fused, step_reorders, input_reorders, weight_reorders, ref_prims, n_ops;
    /* Binary mode: the second (forward-only) paths of all mixed nodes run in one shared region at act
     * offset probe_region (their intermediates die once the mixed node has copied the output into its
     * `probe`), when every such path runs right before its mixed node (probe_shared); else each binary
     * node has a second slot of its own. */
    bool probe_shared;
    size_t probe_region, probe_bytes;
    char errmsg[NAS_ERRMSG_CAP];
};

#define NAS__NO_PATH UINT32_MAX

/* Compile steps in memory.c. */
nas_status_t nas__arena_alloc(nas_context_t *ctx, arena_t *a, size_t bytes);
void nas__arena_free(nas_context_t *ctx, arena_t *a);
nas_status_t nas__plan_bind_activations(nas__plan_t *p);
nas_status_t nas__plan_bind_params(nas__plan_t *p);
nas_status_t nas__plan_init_params(nas__plan_t *p);
/* Binary mode: bind path k of mixed node (graph id) v to slot `slot` (0 or 1). */
void nas__plan_bind_path(nas__plan_t *p, int32_t v, uint32_t k, uint32_t slot);

/* Alignment helper shared by the files. */
static inline size_t plan_align(size_t x)
{
    return (x + NAS__ALIGN - 1) & ~(size_t)(NAS__ALIGN - 1);
}

#endif /* NAS_NN_PLAN_H */
