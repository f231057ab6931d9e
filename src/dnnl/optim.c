/* SGD (momentum, Nesterov) and Adam over flat buffers; learning-rate schedules; norm clipping. */
#include "dnnl/optim.h"

#include <math.h>

#include "dnnl/dnn.h"

#define PAR_MIN 16384
#define PI 3.14159265358979323846

void nas__optim_defaults(nas__optim_cfg_t *cfg)
{
    *cfg = (nas__optim_cfg_t){ 0 };
    cfg->kind = NAS__OPT_SGD;
    cfg->lr = 0.1f;
    cfg->momentum = 0.9f;
    cfg->weight_decay = 5e-4f;
    cfg->beta1 = 0.9f;
    cfg->beta2 = 0.999f;
    cfg->eps = 1e-8f;
    cfg->sched = NAS__LR_CONST;
    cfg->gamma = 0.1f;
}

float nas__lr_at(const nas__optim_cfg_t *c, int64_t t)
{
    if (t < 0)
        t = 0;
    if (c->warmup_steps > 0 && t < c->warmup_steps)
        return c->lr * (float)(t + 1) / (float)c->warmup_steps;
    int64_t u = t - (c->warmup_steps > 0 ? c->warmup_steps : 0);
    switch (c->sched) {
    case NAS__LR_COSINE: {
        int64_t span = c->total_steps - (c->warmup_steps > 0 ? c->warmup_steps : 0);
        if (span <= 0)
            return c->lr;
        double f = u >= span ? 1.0 : (double)u / (double)span;
        return (float)(c->lr_min + 0.5 * (c->lr - c->lr_min) * (1.0 + cos(PI * f)));
    }
    case NAS__LR_STEP:
        if (c->step_size <= 0)
            return c->lr;
        return (float)(c->lr * pow(c->gamma, (double)(u / c->step_size)));
    default:
        return c->lr;
    }
}

static void sgd(float *restrict p, const float *restrict g, float *restrict m, size_t n, float lr, float mu, float wd,
                float gs, bool nesterov)
{
    if (mu == 0.0f) {
#pragma omp parallel for simd schedule(static) if (n >= PAR_MIN)
        for (size_t i = 0; i < n; i++)
            p[i] -= lr * (gs * g[i] + wd * p[i]);
        return;
    }
    if (nesterov) {
#pragma omp parallel for simd schedule(static) if (n >= PAR_MIN)
        for (size_t i = 0; i < n; i++) {
            float d = gs * g[i] + wd * p[i];
            float b = mu * m[i] + d;
            m[i] = b;
            p[i] -= lr * (d + mu * b);
        }
    } else {
#pragma omp parallel for simd schedule(static) if (n >= PAR_MIN)
        for (size_t i = 0; i < n; i++) {
            float b = mu * m[i] + gs * g[i] + wd * p[i];
            m[i] = b;
            p[i] -= lr * b;
        }
    }
}

static void adam(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n, float lr,
                 float b1, float b2, float eps, float wd, float gs, float c1, float c2)
{
#pragma omp parallel for simd schedule(static) if (n >= PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        float d = gs * g[i] + wd * p[i];
        float a = b1 * m[i] + (1.0f - b1) * d;
        float b = b2 * v[i] + (1.0f - b2) * d * d;
        m[i] = a;
        v[i] = b;
        p[i] -= lr * (a / c1) / (sqrtf(b / c2) + eps);
    }
}

double nas__optim_step(const nas__optim_cfg_t *c, int64_t t, float *p, const float *g, float *m, float *v,
                       size_t n, size_t n_decay)
{
    double norm = 0;
    float gs = 1.0f;
    if (c->clip_norm > 0) {
        norm = sqrt(nas__k_sumsq(g, n));
        if (norm > c->clip_norm)
            gs = (float)(c->clip_norm / (norm + 1e-6));
    }
    float lr = nas__lr_at(c, t);
    float wd_rest = c->decay_all ? c->weight_decay : 0.0f;
    if (n_decay > n)
        n_decay = n;
    size_t off[2] = { 0, n_decay }, len[2] = { n_decay, n - n_decay };
    float wd[2] = { c->weight_decay, wd_rest };
    for (int r = 0; r < 2; r++) {
        if (!len[r])
            continue;
        if (c->kind == NAS__OPT_ADAM) {
            float c1 = 1.0f - powf(c->beta1, (float)(t + 1)), c2 = 1.0f - powf(c->beta2, (float)(t + 1));
            adam(p + off[r], g + off[r], m + off[r], v + off[r], len[r], lr, c->beta1, c->beta2, c->eps, wd[r], gs,
                 c1, c2);
        } else {
            sgd(p + off[r], g + off[r], m + off[r], len[r], lr, c->momentum, wd[r], gs, c->nesterov);
        }
    }
    return norm;
}
