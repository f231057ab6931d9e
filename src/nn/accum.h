/*
 * Gradient accumulation over several backward passes of one plan before one optimizer step
 * (FairNAS: the gradients of n sub-models of one batch are summed, then one update).
 *
 *   nas__plan_grads_accumulate(p, acc, first)   acc = grads (first) or acc + grads, every parameter
 *   nas__plan_grads_load(p, acc)                grads = acc, so that nas__plan_step applies the sum
 *
 * acc holds nas__plan_grad_floats(p) floats in the plan's own (blocked, padded) gradient layout: it is
 * only meaningful to these calls. Single-path backward passes leave zeros in the gradients of the
 * paths they did not run, so the sum is each parameter's gradient summed over the passes that used it.
 * Threads: as the plan (one thread at a time).
 */
#ifndef NAS_NN_ACCUM_H
#define NAS_NN_ACCUM_H

#include <stdbool.h>
#include <stddef.h>

#include "nn/exec.h"

/* Floats of the plan's parameter gradients (0 for an inference plan). */
size_t nas__plan_grad_floats(const nas__plan_t *p);
/* NAS_E_STATE for an inference plan (message in the plan). */
nas_status_t nas__plan_grads_accumulate(nas__plan_t *p, float *acc, bool first);
nas_status_t nas__plan_grads_load(nas__plan_t *p, const float *acc);

#endif /* NAS_NN_ACCUM_H */
