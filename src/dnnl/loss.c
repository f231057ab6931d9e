/* Softmax cross-entropy with label smoothing (a small hand-written kernel over plain N x K logits). */
#include "dnnl/priv.h"

#include <math.h>
#include <string.h>

typedef struct loss_op {
    nas__op_t base;
    nas__adapter_t ad;
    nas__tensor_t *prob; /* softmax of the last forward (N x K, plain) */
    int32_t *labels;
    int64_t n, k;
    float smoothing, grad_scale;
    double loss;
    int64_t correct;
} loss_op_t;

static void loss_forward(nas__op_t *op, bool train)
{
    loss_op_t *l = (loss_op_t *)op;
    (void)train;
    nas__adapter_fwd(op, &l->ad);
    const float *x = nas__tensor_data(nas__adapter_src(op, &l->ad, 0));
    float *p = nas__tensor_data(l->prob);
    int64_t n = l->n, k = l->k;
    double eps = l->smoothing, total = 0;
    int64_t correct = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *xi = x + i * k;
        float *pi = p + i * k;
        int64_t arg = 0;
        for (int64_t j = 1; j < k; j++)
            if (xi[j] > xi[arg])
                arg = j;
        double m = xi[arg], z = 0, sum_logits = 0;
        for (int64_t j = 0; j < k; j++) {
            z += exp((double)xi[j] - m);
            sum_logits += (double)xi[j] - m;
        }
        double logz = log(z);
        for (int64_t j = 0; j < k; j++)
            pi[j] = (float)exp((double)xi[j] - m - logz);
        int32_t y = l->labels[i];
        /* -sum_j q_j log p_j with q = (1 - eps) onehot(y) + eps / K */
        double nll = -((double)xi[y] - m - logz);
        double smooth = -(sum_logits - (double)k * logz) / (double)k;
        total += (1.0 - eps) * nll + eps * smooth;
        correct += arg == y;
    }
    l->loss = total / (double)n;
    l->correct = correct;
    *nas__tensor_data(op->dst) = (float)l->loss;
}

static void loss_backward(nas__op_t *op)
{
    loss_op_t *l = (loss_op_t *)op;
    if (!op->dsrc[0])
        return;
    float *g = nas__tensor_data(nas__adapter_dsrc(op, &l->ad, 0));
    const float *p = nas__tensor_data(l->prob);
    int64_t n = l->n, k = l->k;
    float s = l->grad_scale / (float)n, off = l->smoothing / (float)k, on = 1.0f - l->smoothing + off;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < k; j++)
            g[i * k + j] = s * (p[i * k + j] - off);
        g[i * k + l->labels[i]] -= s * (on - off);
    }
    nas__adapter_bwd(op, &l->ad);
}

static nas_status_t loss_set_grads(nas__op_t *op, char *err)
{
    (void)err;
    nas__adapter_bind_grads(op, &((loss_op_t *)op)->ad, 0);
    return NAS_OK;
}

static void loss_destroy(nas__op_t *op)
{
    nas__free(op->dev->ctx, ((loss_op_t *)op)->labels);
}

static const nas__op_vt_t loss_vt = { "softmax_ce", loss_forward, loss_backward, loss_set_grads, loss_destroy };

nas_status_t nas__op_loss_create(nas__op_t **out, nas__dev_t *dev, nas__tensor_t *logits, float smoothing,
                                 const nas__op_cfg_t *cfg, char *err)
{
    *out = NULL;
    const dnnl_memory_desc_t *md = &logits->md;
    int64_t k = 1;
    for (int i = 1; i < md->ndims; i++)
        k *= md->dims[i];
    if (md->ndims < 2 || k < 2 || !(smoothing >= 0.0f && smoothing < 1.0f))
        return nas__fail(err, NAS_E_INVAL, "loss: needs N x K logits with K >= 2 and smoothing in [0, 1)");
    loss_op_t *l;
    nas__op_cfg_t cf = cfg ? *cfg : (nas__op_cfg_t){ 0 };
    nas_status_t st = nas__op_alloc((nas__op_t **)&l, dev, sizeof *l, &loss_vt, 1, &logits, &cf, err);
    if (st != NAS_OK)
        return st;
    nas__op_t *op = &l->base;
    l->ad.fwd = l->ad.bwd = -1;
    l->n = md->dims[0];
    l->k = k;
    l->smoothing = smoothing;
    l->grad_scale = 1.0f;
    dnnl_memory_desc_t plain, one;
    dnnl_dims_t pd = { l->n, k }, od = { 1 };
    if (dnnl_memory_desc_init_by_tag(&one, 1, od, dnnl_f32, dnnl_x) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&plain, md->ndims, md->dims, dnnl_f32, nas__plain_tag(md->ndims)) != dnnl_success) {
        st = nas__fail(err, NAS_E_INTERNAL, "loss: memory descs");
        goto fail;
    }
    if ((st = nas__adapter_init(op, &l->ad, 0, &plain, err)) != NAS_OK || (st = nas__op_new_dst(op, &one, err)) != NAS_OK)
        goto fail;
    dnnl_memory_desc_t pmd;
    if (dnnl_memory_desc_init_by_tag(&pmd, 2, pd, dnnl_f32, dnnl_nc) != dnnl_success) {
        st = nas__fail(err, NAS_E_INTERNAL, "loss: memory descs");
        goto fail;
    }
    if ((st = nas__op_new_buf(op, &pmd, &l->prob, err)) != NAS_OK)
        goto fail;
    l->labels = nas__calloc(dev->ctx, (size_t)l->n, sizeof *l->labels);
    if (!l->labels) {
        st = nas__fail(err, NAS_E_NOMEM, "out of memory for labels");
        goto fail;
    }
    *out = op;
    return NAS_OK;
fail:
    nas__op_destroy(op);
    return st;
}

nas_status_t nas__op_loss_set_labels(nas__op_t *op, const int32_t *labels, char *err)
{
    loss_op_t *l = (loss_op_t *)op;
    if (op->vt != &loss_vt)
        return nas__fail(err, NAS_E_INVAL, "not a loss op");
    for (int64_t i = 0; i < l->n; i++)
        if (labels[i] < 0 || labels[i] >= l->k)
            return nas__fail(err, NAS_E_RANGE, "label %d of sample %lld is outside [0, %lld)", (int)labels[i],
                             (long long)i, (long long)l->k);
    memcpy(l->labels, labels, (size_t)l->n * sizeof *labels);
    return NAS_OK;
}

void nas__op_loss_result(const nas__op_t *op, double *loss, int64_t *correct)
{
    const loss_op_t *l = (const loss_op_t *)op;
    if (loss)
        *loss = l->loss;
    if (correct)
        *correct = l->correct;
}

void nas__op_loss_set_grad_scale(nas__op_t *op, float scale)
{
    ((loss_op_t *)op)->grad_scale = scale;
}
