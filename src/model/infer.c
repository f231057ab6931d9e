/* Inference with a model: evaluation on a data set, prediction for a batch, measured latency. */
#include "model/model_internal.h"

#include "data/loader.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Cross-entropy of one row of logits for `label`, and whether its arg max (lowest on ties) is the label. */
static double row_loss(const float *z, uint32_t k, int32_t label, bool *hit)
{
    uint32_t best = 0;
    for (uint32_t j = 1; j < k; j++)
        if (z[j] > z[best])
            best = j;
    double mx = z[best], s = 0.0;
    for (uint32_t j = 0; j < k; j++)
        s += exp((double)z[j] - mx);
    *hit = best == (uint32_t)label;
    return mx + log(s) - (double)z[label];
}

/* Forward a full batch already in x (batch rows) and read the logits. */
static nas_status_t forward(nas_model_t *m, nas__plan_t *p, const float *x, float *logits)
{
    nas_status_t st;
    if ((st = nas__plan_set_input(p, x)) != NAS_OK || (st = nas__plan_forward(p, false)) != NAS_OK ||
        (st = nas__plan_read_output(p, logits)) != NAS_OK)
        return nas__fail(m->errmsg, st, "forward: %s", nas__plan_errmsg(p));
    return NAS_OK;
}

typedef struct evalbuf {
    float *x, *logits;
    int32_t *y;
} evalbuf_t;

static nas_status_t eval_batches(nas_model_t *m, nas__plan_t *p, nas__loader_t *l, const nas_eval_opts_t *o,
                                 uint32_t batch, const evalbuf_t *b, nas_eval_result_t *r)
{
    size_t chw = nas__model_chw(m);
    uint32_t k = (uint32_t)m->bopts.num_classes;
    double loss = 0.0;
    for (;;) {
        if (o->cancel && o->cancel(o->cancel_user_data))
            return nas__fail(m->errmsg, NAS_E_ABORTED, "nas_model_evaluate: cancelled after %llu samples",
                             (unsigned long long)r->samples);
        uint32_t count = 0;
        nas_status_t st = nas__loader_next(l, b->x, b->y, &count);
        if (st == NAS_E_EXHAUSTED)
            break;
        if (st != NAS_OK)
            return nas__fail(m->errmsg, st, "nas_model_evaluate: %s", nas__loader_errmsg(l));
        if (count < batch)   /* rows are independent in inference: pad the last batch with zeros */
            memset(b->x + (size_t)count * chw, 0, (size_t)(batch - count) * chw * sizeof *b->x);
        if ((st = forward(m, p, b->x, b->logits)) != NAS_OK)
            return st;
        for (uint32_t i = 0; i < count; i++) {
            bool hit;
            loss += row_loss(b->logits + (size_t)i * k, k, b->y[i], &hit);
            r->correct += hit;
        }
        r->samples += count;
    }
    r->loss = loss / (double)r->samples;
    r->accuracy = 100.0 * (double)r->correct / (double)r->samples;
    return NAS_OK;
}

nas_status_t nas_model_evaluate(nas_model_t *m, const nas_dataset_t *ds, const nas_eval_opts_t *opts,
                                nas_eval_result_t *result)
{
    if (!m)
        return NAS_E_INVAL;
    if (!ds || !result || result->struct_size < sizeof result->struct_size)
        return nas__fail(m->errmsg, NAS_E_INVAL, "nas_model_evaluate: NULL data set or result, or result->struct_size "
                         "not set");
    nas_eval_opts_t o = NAS_EVAL_OPTS_INIT;
    if (opts && !nas__copy_opts(&o, sizeof o, opts, opts->struct_size))
        return nas__fail(m->errmsg, NAS_E_INVAL, "nas_model_evaluate: opts->struct_size %zu is too small",
                         opts->struct_size);
    if (o.batch_size < 1)
        return nas__fail(m->errmsg, NAS_E_INVAL, "nas_model_evaluate: batch_size must be >= 1 (got 0)");
    nas_status_t st = nas__model_check_data(m, ds, "nas_model_evaluate");
    if (st != NAS_OK)
        return st;
    double t0 = nas__now();
    uint64_t n = nas_dataset_num_samples(ds);
    uint32_t batch = n < o.batch_size ? (uint32_t)n : o.batch_size;
    nas__plan_t *p = NULL;
    if ((st = nas__model_plan(m, (int32_t)batch, &p)) != NAS_OK)
        return st;
    nas__loader_t *l = NULL;
    if ((st = nas__loader_create(&l, ds, batch, 0, 0)) != NAS_OK)
        return nas__fail(m->errmsg, st, "nas_model_evaluate: %s", nas_context_errmsg(m->ctx));
    evalbuf_t b;
    b.x = nas__malloc(m->ctx, (size_t)batch * nas__model_chw(m) * sizeof *b.x);
    b.logits = nas__malloc(m->ctx, (size_t)batch * (size_t)m->bopts.num_classes * sizeof *b.logits);
    b.y = nas__malloc(m->ctx, (size_t)batch * sizeof *b.y);
    nas_eval_result_t r;
    memset(&r, 0, sizeof r);
    if (!b.x || !b.logits || !b.y)
        st = nas__fail(m->errmsg, NAS_E_NOMEM, "nas_model_evaluate: out of memory for a batch of %u", batch);
    else
        st = eval_batches(m, p, l, &o, batch, &b, &r);
    if (st == NAS_OK) {
        r.struct_size = result->struct_size < sizeof r ? result->struct_size : sizeof r;
        r.seconds = nas__now() - t0;
        memcpy(result, &r, r.struct_size);
    }
    nas__free(m->ctx, b.x);
    nas__free(m->ctx, b.logits);
    nas__free(m->ctx, b.y);
    nas__loader_destroy(l);
    return st;
}

/* ---------------------------------------------------------------------- */
/* Prediction                                                              */

#define PREDICT_MAX_BATCH 256u

/* Plans for prediction come in few sizes (1, powers of two up to 256) so that they stay cached. */
static uint32_t predict_batch(uint64_t n)
{
    uint32_t b = 1;
    while (b < n && b < PREDICT_MAX_BATCH)
        b *= 2;
    return b;
}

static void softmax_row(float *z, uint32_t k)
{
    float mx = z[0];
    for (uint32_t j = 1; j < k; j++)
        mx = z[j] > mx ? z[j] : mx;
    double s = 0.0;
    for (uint32_t j = 0; j < k; j++)
        s += exp((double)z[j] - mx);
    for (uint32_t j = 0; j < k; j++)
        z[j] = (float)(exp((double)z[j] - mx) / s);
}

/* Copy rows [0, count) of x into xb, normalized with the model's normalization if asked; zero the rest. */
static void fill_input(const nas_model_t *m, const float *x, uint32_t count, uint32_t batch, bool norm, float *xb)
{
    size_t chw = nas__model_chw(m), hw = chw / (size_t)m->bopts.in_c;
    if (!norm) {
        memcpy(xb, x, (size_t)count * chw * sizeof *xb);
    } else {
        for (uint32_t i = 0; i < count; i++)
            for (int32_t c = 0; c < m->bopts.in_c; c++) {
                const float *src = x + i * chw + (size_t)c * hw;
                float *dst = xb + i * chw + (size_t)c * hw, mean = m->mean[c], inv = 1.0f / m->std[c];
                for (size_t j = 0; j < hw; j++)
                    dst[j] = (src[j] - mean) * inv;
            }
    }
    memset(xb + (size_t)count * chw, 0, (size_t)(batch - count) * chw * sizeof *xb);
}

nas_status_t nas_model_predict(nas_model_t *m, const float *x, uint64_t n, uint32_t flags, float *out,
                               size_t out_cap)
{
    if (!m)
        return NAS_E_INVAL;
    if (!x || !out || n == 0)
        return nas__fail(m->errmsg, NAS_E_INVAL, "nas_model_predict: NULL x or out, or n is 0");
    if (flags & ~(NAS_PREDICT_LOGITS | NAS_PREDICT_NORMALIZE))
        return nas__fail(m->errmsg, NAS_E_INVAL, "nas_model_predict: unknown flags 0x%x", flags);
    uint32_t k = (uint32_t)m->bopts.num_classes;
    if (n > out_cap / k)
        return nas__fail(m->errmsg, NAS_E_RANGE, "nas_model_predict: out holds %zu floats, %llu samples of %u "
                         "classes need more", out_cap, (unsigned long long)n, k);
    uint32_t batch = predict_batch(n);
    nas__plan_t *p = NULL;
    nas_status_t st = nas__model_plan(m, (int32_t)batch, &p);
    if (st != NAS_OK)
        return st;
    size_t chw = nas__model_chw(m);
    float *xb = nas__malloc(m->ctx, (size_t)batch * chw * sizeof *xb);
    float *zb = nas__malloc(m->ctx, (size_t)batch * k * sizeof *zb);
    if (!xb || !zb) {
        st = nas__fail(m->errmsg, NAS_E_NOMEM, "nas_model_predict: out of memory for a batch of %u", batch);
        goto out_free;
    }
    for (uint64_t done = 0; done < n;) {
        uint32_t count = n - done < batch ? (uint32_t)(n - done) : batch;
        fill_input(m, x + done * chw, count, batch, flags & NAS_PREDICT_NORMALIZE, xb);
        if ((st = forward(m, p, xb, zb)) != NAS_OK)
            goto out_free;
        for (uint32_t i = 0; i < count; i++) {
            float *row = out + (done + i) * k;
            memcpy(row, zb + (size_t)i * k, k * sizeof *row);
            if (!(flags & NAS_PREDICT_LOGITS))
                softmax_row(row, k);
        }
        done += count;
    }
out_free:
    nas__free(m->ctx, xb);
    nas__free(m->ctx, zb);
    return st;
}

/* ---------------------------------------------------------------------- */
/* Latency                                                                 */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void summarize(double *t, uint32_t n, nas_latency_t *r)
{
    qsort(t, n, sizeof *t, cmp_double);
    r->runs = n;
    r->median_ms = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    uint32_t rank = (uint32_t)ceil(0.9 * n);
    r->p90_ms = t[rank ? rank - 1 : 0];
    r->min_ms = t[0];
    double s = 0.0;
    for (uint32_t i = 0; i < n; i++)
        s += t[i];
    r->mean_ms = s / n;
}

nas_status_t nas_model_latency(nas_model_t *m, const nas_latency_opts_t *opts, nas_latency_t *result)
{
    if (!m)
        return NAS_E_INVAL;
    if (!result || result->struct_size < sizeof result->struct_size)
        return nas__fail(m->errmsg, NAS_E_INVAL, "nas_model_latency: result is NULL or its struct_size not set");
    nas_latency_opts_t o = NAS_LATENCY_OPTS_INIT;
    if (opts && !nas__copy_opts(&o, sizeof o, opts, opts->struct_size))
        return nas__fail(m->errmsg, NAS_E_INVAL, "nas_model_latency: opts->struct_size %zu is too small",
                         opts->struct_size);
    if (o.batch < 1 || o.batch > 65536 || o.runs < 1 || !(o.max_seconds >= 0.0))
        return nas__fail(m->errmsg, NAS_E_INVAL, "nas_model_latency: batch %u must be in 1..65536, runs %u >= 1 "
                         "and max_seconds %g >= 0", o.batch, o.runs, o.max_seconds);
    nas__plan_t *p = NULL;
    nas_status_t st = nas__model_plan(m, (int32_t)o.batch, &p);
    if (st != NAS_OK)
        return st;
    size_t chw = nas__model_chw(m), nx = (size_t)o.batch * chw;
    float *x = nas__malloc(m->ctx, nx * sizeof *x);
    float *z = nas__malloc(m->ctx, (size_t)o.batch * (size_t)m->bopts.num_classes * sizeof *z);
    double *t = nas__malloc(m->ctx, o.runs * sizeof *t);
    if (!x || !z || !t) {
        st = nas__fail(m->errmsg, NAS_E_NOMEM, "nas_model_latency: out of memory");
        goto out_free;
    }
    for (size_t i = 0; i < nx; i++)   /* fixed values in [0, 1): no denormals, no data-dependent shortcuts */
        x[i] = (float)(nas__mix64(i) >> 40) * (1.0f / 16777216.0f);
    for (uint32_t i = 0; i < o.warmup; i++)
        if ((st = forward(m, p, x, z)) != NAS_OK)
            goto out_free;
    double start = nas__now();
    uint32_t done = 0;
    while (done < o.runs) {
        double t0 = nas__now();
        if ((st = forward(m, p, x, z)) != NAS_OK)
            goto out_free;
        double t1 = nas__now();
        t[done++] = (t1 - t0) * 1e3;
        if (o.max_seconds > 0.0 && done >= 3 && t1 - start > o.max_seconds)
            break;
    }
    nas_latency_t r;
    memset(&r, 0, sizeof r);
    r.struct_size = result->struct_size < sizeof r ? result->struct_size : sizeof r;
    r.batch = o.batch;
    summarize(t, done, &r);
    memcpy(result, &r, r.struct_size);
out_free:
    nas__free(m->ctx, x);
    nas__free(m->ctx, z);
    nas__free(m->ctx, t);
    return st;
}
