/* Gradient accumulation across backward passes (see accum.h). */
#include "nn/accum.h"

#include "nn/plan.h"

#include <string.h>

size_t nas__plan_grad_floats(const nas__plan_t *p)
{
    return p && p->opts.train ? p->n_param_floats : 0;
}

nas_status_t nas__plan_grads_accumulate(nas__plan_t *p, float *acc, bool first)
{
    if (!p || !acc)
        return NAS_E_INVAL;
    if (!p->opts.train)
        return nas__fail(p->errmsg, NAS_E_STATE, "gradient accumulation on an inference plan");
    const float *g = p->grads.base;
    size_t n = p->n_param_floats;
    if (first) {
        memcpy(acc, g, n * sizeof *acc);
        return NAS_OK;
    }
    for (size_t i = 0; i < n; i++)
        acc[i] += g[i];
    return NAS_OK;
}

nas_status_t nas__plan_grads_load(nas__plan_t *p, const float *acc)
{
    if (!p || !acc)
        return NAS_E_INVAL;
    if (!p->opts.train)
        return nas__fail(p->errmsg, NAS_E_STATE, "gradient accumulation on an inference plan");
    memcpy(p->grads.base, acc, p->n_param_floats * sizeof *acc);
    return NAS_OK;
}
