/*
 * The executor: a graph compiled for one batch size into a plan. Compiling creates every oneDNN
 * primitive and every buffer once (activations, gradients, parameters, optimizer state); forward,
 * backward and the optimizer step then run with no allocation and no primitive creation.
 *
 * Parameters, their gradients and optimizer state live in contiguous buffers (weights that get
 * weight decay first, then BN parameters and biases), each tensor in the blocked layout oneDNN chose;
 * plain layouts (OIHW, NCHW) appear only at the edges: nas__plan_get_param/set_param, export/import.
 *
 * Mixed nodes: architecture weights (alphas, K per mixed node) live in their own contiguous buffer
 * with their gradients (weighted mode) and their own optimizer state (nas__plan_arch_step, Adam
 * for DARTS). Single-path mode runs only the selected path (nas__plan_set_path), forward and
 * backward; the gradients of the other paths' parameters are zero after that backward, and the alpha
 * gradient of the selected path is <dL/dy, y_sel>, the gradient of a gate that multiplies the path's
 * output by 1 (straight-through estimators: GDAS, ProxylessNAS); the other paths' alpha gradients are 0.
 *
 * Threads: a plan is used by one thread at a time (like every handle).
 */
#ifndef NAS_NN_EXEC_H
#define NAS_NN_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"
#include "dnnl/dnn.h"
#include "dnnl/optim.h"
#include "nn/graph.h"

typedef struct nas__plan nas__plan_t;

typedef struct nas__plan_opts {
    size_t struct_size;
    int32_t batch;          /* samples per forward */
    bool train;             /* create backward primitives, gradients and optimizer state */
    bool input_grad;        /* also compute the gradient of the input (gradient checks) */
    uint64_t init_stream;   /* RNG stream for He initialization (seed: the context's) */
    float alpha_init_std;   /* alphas start as N(0, std^2) (0: all zero, a uniform mixture) */
    /* Share parameters, their gradients, optimizer state, BN running statistics and alphas with
     * this plan of the same graph (e.g. an evaluation plan of another batch size, the last partial
     * batch of an epoch, a batch-1 latency plan): no copy, updates are seen by both. `share` must
     * outlive this plan, must be a training plan if this one is, and must have chosen the same
     * parameter layouts (NAS_E_UNSUPPORTED otherwise: use nas__plan_copy_state then). */
    nas__plan_t *share;
} nas__plan_opts_t;

#define NAS__PLAN_OPTS_INIT { sizeof(nas__plan_opts_t), 1, false, false, 0, 0.0f, NULL }

typedef struct nas__plan_stats {
    uint64_t primitives;       /* primitives the plan created (compile time only) */
    uint32_t ops;              /* oneDNN-backed ops */
    uint32_t fused_bn_relu;    /* BN + ReLU pairs run as one primitive */
    uint32_t step_reorders;    /* layout reorders run inside a training step (0 on the fast path) */
    uint32_t input_reorders;   /* layout reorders of the input batch (the edge) */
    uint32_t weight_reorders;  /* weight reorders per step (conv backward data's transposed blocks) */
    uint32_t ref_kernels;      /* primitives on oneDNN's reference kernels (0 on the fast path) */
    size_t activation_bytes;   /* activations, gradients, workspaces */
    size_t param_bytes;        /* parameters (padded blocked layouts) */
    int64_t params;            /* trainable scalars (logical) */
} nas__plan_stats_t;

/* Compile. The graph must validate; it is not referenced after this returns. Messages go to the
 * context's errmsg. */
nas_status_t nas__plan_create(nas__plan_t **out, nas__dev_t *dev, const nas__graph_t *g, const nas__plan_opts_t *opts);
void nas__plan_destroy(nas__plan_t *p);
const char *nas__plan_errmsg(const nas__plan_t *p);
void nas__plan_stats(const nas__plan_t *p, nas__plan_stats_t *out);
/* One line per op: the kernels and layouts oneDNN chose. */
void nas__plan_describe(const nas__plan_t *p, nas__sb_t *sb);
int32_t nas__plan_batch(const nas__plan_t *p);

/* Data of the next forward: batch x C x H x W floats (NCHW), and batch labels (graphs with a loss). */
nas_status_t nas__plan_set_input(nas__plan_t *p, const float *x);
nas_status_t nas__plan_set_labels(nas__plan_t *p, const int32_t *labels);

/* Forward. train: batch statistics (and BN running averages are updated); else running statistics. */
nas_status_t nas__plan_forward(nas__plan_t *p, bool train);
/* Loss and correct predictions of the last forward (graphs with a loss). */
double nas__plan_loss(const nas__plan_t *p);
int64_t nas__plan_correct(const nas__plan_t *p);
/* Output of the last forward in plain layout (batch x C x H x W floats; for a graph ending in a loss,
 * one float: the mean loss). */
nas_status_t nas__plan_read_output(nas__plan_t *p, float *out);
/* Graphs without a loss: the gradient of the output to start the next backward from (plain). */
nas_status_t nas__plan_set_output_grad(nas__plan_t *p, const float *g);
/* Backward after a training forward: parameter (and alpha, input) gradients. */
nas_status_t nas__plan_backward(nas__plan_t *p);
nas_status_t nas__plan_read_input_grad(nas__plan_t *p, float *out);
/* Optimizer step on the parameters; the step counter drives the schedule. */
nas_status_t nas__plan_step(nas__plan_t *p, const nas__optim_cfg_t *cfg);
int64_t nas__plan_steps(const nas__plan_t *p);
/* Gradient norm measured by the last clipped step (0 when not clipping). */
double nas__plan_last_grad_norm(const nas__plan_t *p);
/* The whole training step: input, labels, forward, divergence check, backward, step.
 * NAS_E_DIVERGED (nothing updated) when the loss is NaN or infinite. */
nas_status_t nas__plan_train_step(nas__plan_t *p, const float *x, const int32_t *labels, const nas__optim_cfg_t *cfg,
                                  double *loss);

/* Parameters: tensors in graph order. */
typedef struct nas__plan_param {
    int32_t node;            /* graph node */
    nas__param_kind_t kind;
    bool decay;
    int64_t elems;           /* logical elements (plain layout size) */
} nas__plan_param_t;

uint32_t nas__plan_num_params(const nas__plan_t *p);
void nas__plan_param(const nas__plan_t *p, uint32_t i, nas__plan_param_t *out);
nas_status_t nas__plan_get_param(nas__plan_t *p, uint32_t i, float *plain);
nas_status_t nas__plan_set_param(nas__plan_t *p, uint32_t i, const float *plain);
nas_status_t nas__plan_get_param_grad(nas__plan_t *p, uint32_t i, float *plain);
/* Whole state in plain layouts: every parameter in order, then BN running mean and variance per BN. */
int64_t nas__plan_state_elems(const nas__plan_t *p);
nas_status_t nas__plan_export(nas__plan_t *p, float *dst, int64_t n);
nas_status_t nas__plan_import(nas__plan_t *p, const float *src, int64_t n);
/* Copy parameters and running statistics between plans of the same graph (e.g. training plan to a
 * batch-1 inference plan): a memcpy where layouts agree, a reorder where they differ. */
nas_status_t nas__plan_copy_state(nas__plan_t *dst, nas__plan_t *src);

/* Momentum of every BN's running averages in later training forwards (default NAS__BN_MOMENTUM). BN
 * recalibration of a sampled path (single-path supernets): momentum 1 / (k + 1) for the k-th of K
 * training forwards (no backward) gives the running statistics the plain average of K batches. */
void nas__plan_set_bn_momentum(nas__plan_t *p, float momentum);

/*
 * The state (nas__plan_export's layout) of the network the supernet runs with `paths` (one per mixed
 * node): the parameters and BN statistics of nodes outside mixed nodes and on the chosen paths, in
 * graph order, so that it imports into the discrete network of the architecture (nas__build_graph)
 * to fine-tune with inherited weights. Like the discrete builder, it drops nodes that compute zeros
 * (none ops in front of them everywhere) and nodes that reach neither the output nor one of the
 * `n_keep` nodes `keep` (which discrete networks always build: cell outputs, nas__supernet_map_t)
 * but through none ops. skip_pool_bn drops BN nodes right after a pooling node on a path
 * (supernet-only BN: nas__supernet_map_t.pool_bn). dst NULL: only *n, the count; else cap floats.
 * NAS_E_RANGE for a bad path or a too small cap.
 */
nas_status_t nas__plan_export_paths(nas__plan_t *p, const uint32_t *paths, bool skip_pool_bn, const int32_t *keep,
                                    uint32_t n_keep, float *dst, int64_t cap, int64_t *n);

/* Mixed nodes, numbered in graph order. */
uint32_t nas__plan_num_mixed(const nas__plan_t *p);
uint32_t nas__plan_mixed_paths(const nas__plan_t *p, uint32_t m);
/* Single-path mode: the path to run from now on (default 0). */
nas_status_t nas__plan_set_path(nas__plan_t *p, uint32_t m, uint32_t path);
/* Binary mode (ProxylessNAS): `path` runs (gate 1: its forward and backward) and `second` runs its
 * forward only (gate 0), so that backward gives both gates' gradients <dL/dy, y_k> in the alpha
 * gradients (the other paths' entries stay 0); second UINT32_MAX (or == path): one path, as
 * nas__plan_set_path. Only two paths' activations are ever held. NAS_E_RANGE for bad indices,
 * NAS_E_STATE for a second path on a node that is not in binary mode. */
nas_status_t nas__plan_set_binary_paths(nas__plan_t *p, uint32_t m, uint32_t path, uint32_t second);
/* All alphas (contiguous, K per mixed node in order), their gradients, and mixed m's offset. */
float *nas__plan_alphas(nas__plan_t *p, uint32_t *n);
const float *nas__plan_alpha_grads(const nas__plan_t *p);
uint32_t nas__plan_alpha_offset(const nas__plan_t *p, uint32_t m);
nas_status_t nas__plan_arch_step(nas__plan_t *p, const nas__optim_cfg_t *cfg);

#endif /* NAS_NN_EXEC_H */
