/*
 * Internals of src/model: the layout of nas_model_t, shared by model.c (creation, graphs, plans,
 * state), fit.c (training), infer.c (evaluation, prediction, latency) and file.c (save, load).
 *
 * The weights live in one plain buffer, `state` (nas__plan_export order: every parameter in graph
 * order, then the BN running mean and variance of every BN). Plans are compiled on demand and
 * loaded from it; a training call exports back into it and bumps `version`, so a cached inference
 * plan knows when to reload.
 */
#ifndef NAS_MODEL_INTERNAL_H
#define NAS_MODEL_INTERNAL_H

#include "core/internal.h"
#include "dnnl/dnn.h"
#include "nn/build.h"
#include "nn/exec.h"
#include "nn/graph.h"

/* Kinds of the tensors of the state, as stored in model files (append-only). */
typedef enum nas__tensor_kind {
    NAS__TK_WEIGHT = 0,   /* conv OIHW (groups: O x I/G x KH x KW), fc O x (C H W) */
    NAS__TK_BIAS = 1,
    NAS__TK_BN_SCALE = 2,
    NAS__TK_BN_SHIFT = 3,
    NAS__TK_BN_MEAN = 4,  /* running statistics */
    NAS__TK_BN_VAR = 5
} nas__tensor_kind_t;

/* One tensor of the state: its graph node, kind and number of floats. */
typedef struct nas__tdesc {
    uint32_t node;
    uint32_t kind;        /* nas__tensor_kind_t */
    uint64_t elems;
} nas__tdesc_t;

/* Cached inference plans (one per batch size; least recently used goes). */
#define NAS__MODEL_PLAN_SLOTS 2

typedef struct nas__pslot {
    nas__plan_t *plan;    /* NULL: empty */
    int32_t batch;
    uint64_t version;     /* state version loaded into it */
    uint64_t used;        /* for LRU */
} nas__pslot_t;

struct nas_model {
    nas_context_t *ctx;
    nas__dev_t *dev;
    nas__graph_t *graph;          /* inference network: input -> logits (no loss node) */
    nas__build_opts_t bopts;      /* shape, classes and overrides it was built with */
    char *arch;                   /* canonical string, hyperparameters included */
    char *space_name;
    char *space_yaml;             /* NULL: none */
    size_t space_yaml_len;
    uint64_t space_fp, graph_fp;
    nas_space_t *own_space;       /* loaded from a file's YAML; NULL otherwise */
    int64_t params, flops;
    uint64_t steps_trained;
    /* Weights. */
    float *state;
    int64_t state_n;
    nas__tdesc_t *tensors;
    uint32_t num_tensors;
    uint64_t version;
    nas__pslot_t slots[NAS__MODEL_PLAN_SLOTS];
    uint64_t clock;               /* LRU counter */
    /* Input normalization (channels floats each, one block at mean). */
    float *mean, *std;
    char errmsg[NAS_ERRMSG_CAP];
};

/* Per-sample floats of the input, and classes. */
static inline size_t nas__model_chw(const nas_model_t *m)
{
    return (size_t)m->bopts.in_c * (size_t)m->bopts.in_h * (size_t)m->bopts.in_w;
}

/* The inference network of `arch` (input -> logits) built with `bopts`. Message in the context. */
nas_status_t nas__model_graph(const nas_arch_t *arch, const nas__build_opts_t *bopts, nas__graph_t **out);

/*
 * The model of `arch` built with `bopts` (shape, classes, overrides; label smoothing ignored), with
 * weights initialized from (context seed, seed). `graph`, if not NULL, is its nas__model_graph()
 * (taken over, also on failure); NULL: built here. The space's YAML is not set here. Messages in
 * the context. Used by nas_model_create() and nas_model_load().
 */
nas_status_t nas__model_build(nas_model_t **out, const nas_arch_t *arch, const nas__build_opts_t *bopts,
                              uint64_t seed, nas__graph_t *graph);

/*
 * Copy of the inference graph ending in a softmax cross-entropy loss with `smoothing` (node ids of
 * the network are unchanged: the loss is appended). Message in errbuf.
 */
nas_status_t nas__model_train_graph(const nas_model_t *m, float smoothing, nas__graph_t **out, char *errbuf);

/* An inference plan of `batch` samples holding the current weights (cached). Message in m->errmsg. */
nas_status_t nas__model_plan(nas_model_t *m, int32_t batch, nas__plan_t **out);

/* Fingerprint of a space (name, family, every decision with its options) and of a graph (every node
 * with its attributes, inputs and shapes): 64-bit hashes stable across platforms. */
uint64_t nas__space_fingerprint(const nas_space_t *space);
uint64_t nas__graph_fingerprint(const nas__graph_t *g);

/* Whether ds has the model's shape and at most its classes (message in m->errmsg otherwise). */
nas_status_t nas__model_check_data(nas_model_t *m, const nas_dataset_t *ds, const char *who);

/* Check training options (after nas__copy_opts): NAS_E_INVAL with a message naming the option. */
nas_status_t nas__train_opts_check(const nas_train_opts_t *o, char *errbuf);

/* Copy a data set's normalization into the model (identity when it has none). */
void nas__model_take_normalization(nas_model_t *m, const nas_dataset_t *ds);

#endif /* NAS_MODEL_INTERNAL_H */
