/*
 * Optimizer kernels over contiguous parameter buffers (no oneDNN types: plain floats). One call
 * updates every parameter in one pass; the first n_decay elements get weight decay, the rest
 * (BN scale and shift, biases by default) do not.
 */
#ifndef NAS_DNNL_OPTIM_H
#define NAS_DNNL_OPTIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum nas__opt_kind { NAS__OPT_SGD = 0, NAS__OPT_ADAM = 1 } nas__opt_kind_t;
typedef enum nas__lr_kind { NAS__LR_CONST = 0, NAS__LR_COSINE = 1, NAS__LR_STEP = 2 } nas__lr_kind_t;

typedef struct nas__optim_cfg {
    nas__opt_kind_t kind;
    float lr;            /* base learning rate */
    float momentum;      /* SGD (PyTorch semantics, no dampening) */
    bool nesterov;
    float weight_decay;  /* L2 added to the gradient (PyTorch's SGD and Adam) */
    bool decay_all;      /* also decay BN parameters and biases */
    float beta1, beta2, eps; /* Adam */
    float clip_norm;     /* clip the global gradient norm to this; 0: no clipping */
    /* Schedule over steps: linear warm-up from 0 over warmup_steps, then constant, cosine to lr_min
     * at total_steps, or step decay by gamma every step_size steps. */
    nas__lr_kind_t sched;
    int64_t warmup_steps, total_steps, step_size;
    float gamma, lr_min;
} nas__optim_cfg_t;

/* SGD, lr 0.1, momentum 0.9, wd 5e-4, no clipping, constant schedule. */
void nas__optim_defaults(nas__optim_cfg_t *cfg);
/* Learning rate at step t (0-based). */
float nas__lr_at(const nas__optim_cfg_t *c, int64_t t);
/* Update p (and m, v: state buffers of n floats, v used by Adam only) from gradients g at step t.
 * Returns the gradient norm before clipping (computed only when clipping; else 0). */
double nas__optim_step(const nas__optim_cfg_t *c, int64_t t, float *p, const float *g, float *m, float *v,
                       size_t n, size_t n_decay);

#endif /* NAS_DNNL_OPTIM_H */
