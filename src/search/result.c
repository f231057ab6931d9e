/* Trial results: status, message, named metrics in first-set order, cost. */
#include "search/search_internal.h"

#include <math.h>
#include <string.h>

#define MAX_METRICS 4096
#define MAX_METRIC_NAME 256
#define MAX_MESSAGE (64u << 10)

typedef struct metric {
    char *name;
    double value;
} metric_t;

struct nas_result {
    nas_context_t *ctx;
    nas_status_t status;
    char *message;        /* NULL: none */
    metric_t *metrics;
    uint32_t count, cap;
    double cost;
};

nas_status_t nas_result_create(nas_result_t **out, nas_context_t *ctx)
{
    if (!out)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_result_create: out is NULL");
    *out = NULL;
    if (!ctx)
        return NAS_E_INVAL;
    nas_result_t *r = nas__calloc(ctx, 1, sizeof *r);
    if (!r)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating a result");
    r->ctx = ctx;
    r->status = NAS_OK;
    *out = r;
    return NAS_OK;
}

static void drop_contents(nas_result_t *r)
{
    for (uint32_t i = 0; i < r->count; i++)
        nas__free(r->ctx, r->metrics[i].name);
    r->count = 0;
    nas__free(r->ctx, r->message);
    r->message = NULL;
    r->status = NAS_OK;
    r->cost = 0.0;
}

void nas_result_destroy(nas_result_t *res)
{
    if (!res)
        return;
    drop_contents(res);
    nas__free(res->ctx, res->metrics);
    nas__free(res->ctx, res);
}

void nas_result_clear(nas_result_t *res)
{
    if (res)
        drop_contents(res);   /* the metric array keeps its capacity for the next trial */
}

nas_status_t nas_result_copy(nas_result_t *dst, const nas_result_t *src)
{
    if (!dst || !src)
        return NAS_E_INVAL;
    if (dst == src)
        return NAS_OK;
    nas_context_t *ctx = dst->ctx;
    /* Build everything first so that dst is untouched when an allocation fails. */
    char *msg = NULL;
    metric_t *m = NULL;
    uint32_t made = 0;
    if (src->message && !(msg = nas__strdup(ctx, src->message)))
        goto out_nomem;
    if (src->count) {
        m = nas__calloc(ctx, src->count, sizeof *m);
        if (!m)
            goto out_nomem;
        for (; made < src->count; made++) {
            m[made].value = src->metrics[made].value;
            if (!(m[made].name = nas__strdup(ctx, src->metrics[made].name)))
                goto out_nomem;
        }
    }
    drop_contents(dst);
    nas__free(ctx, dst->metrics);
    dst->metrics = m;
    dst->count = dst->cap = src->count;
    dst->message = msg;
    dst->status = src->status;
    dst->cost = src->cost;
    return NAS_OK;

out_nomem:
    for (uint32_t i = 0; i < made; i++)
        nas__free(ctx, m[i].name);
    nas__free(ctx, m);
    nas__free(ctx, msg);
    return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory copying a result");
}

nas_status_t nas_result_set_status(nas_result_t *res, nas_status_t status, const char *message)
{
    if (!res)
        return NAS_E_INVAL;
    char *msg = NULL;
    if (message && *message) {
        size_t n = strlen(message);
        if (n > MAX_MESSAGE)
            n = MAX_MESSAGE;   /* a trial message is informative only: keep its head */
        if (!(msg = nas__strndup(res->ctx, message, n)))
            return nas__ctx_fail(res->ctx, NAS_E_NOMEM, "out of memory setting a result message");
    }
    nas__free(res->ctx, res->message);
    res->message = msg;
    res->status = status;
    return NAS_OK;
}

nas_status_t nas_result_status(const nas_result_t *res)
{
    return res ? res->status : NAS_E_INVAL;
}

const char *nas_result_message(const nas_result_t *res)
{
    return res && res->message ? res->message : "";
}

static bool valid_metric_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f)
            return false;
    return n > 0 && n <= MAX_METRIC_NAME;
}

static metric_t *find_metric(const nas_result_t *res, const char *name)
{
    for (uint32_t i = 0; i < res->count; i++)
        if (strcmp(res->metrics[i].name, name) == 0)
            return &res->metrics[i];
    return NULL;
}

nas_status_t nas_result_set_metric(nas_result_t *res, const char *name, double value)
{
    if (!res)
        return NAS_E_INVAL;
    if (!name || !valid_metric_name(name))
        return nas__ctx_fail(res->ctx, NAS_E_INVAL, "metric name '%s' is empty, too long or has control characters",
                             name ? name : "(null)");
    metric_t *m = find_metric(res, name);
    if (m) {
        m->value = value;
        return NAS_OK;
    }
    if (res->count >= MAX_METRICS)
        return nas__ctx_fail(res->ctx, NAS_E_RANGE, "more than %d metrics in one result", MAX_METRICS);
    char *n = nas__strdup(res->ctx, name);
    if (!n || !nas__grow(res->ctx, (void **)&res->metrics, &res->cap, res->count + 1, sizeof *res->metrics)) {
        nas__free(res->ctx, n);
        return nas__ctx_fail(res->ctx, NAS_E_NOMEM, "out of memory setting metric '%s'", name);
    }
    res->metrics[res->count++] = (metric_t){ n, value };
    return NAS_OK;
}

nas_status_t nas_result_get_metric(const nas_result_t *res, const char *name, double *out)
{
    if (!res || !name || !out)
        return NAS_E_INVAL;
    metric_t *m = find_metric(res, name);
    if (!m)
        return NAS_E_NOT_FOUND;
    *out = m->value;
    return NAS_OK;
}

uint32_t nas_result_num_metrics(const nas_result_t *res)
{
    return res ? res->count : 0;
}

nas_status_t nas_result_metric_at(const nas_result_t *res, uint32_t i, const char **name, double *value)
{
    if (!res)
        return NAS_E_INVAL;
    if (i >= res->count)
        return NAS_E_RANGE;
    if (name)
        *name = res->metrics[i].name;
    if (value)
        *value = res->metrics[i].value;
    return NAS_OK;
}

nas_status_t nas_result_set_cost(nas_result_t *res, double seconds)
{
    if (!res)
        return NAS_E_INVAL;
    if (!(seconds >= 0.0) || !isfinite(seconds))
        return nas__ctx_fail(res->ctx, NAS_E_INVAL, "trial cost must be a finite number >= 0 (got %g)", seconds);
    res->cost = seconds;
    return NAS_OK;
}

double nas_result_cost(const nas_result_t *res)
{
    return res ? res->cost : 0.0;
}
