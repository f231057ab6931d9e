/* Engine and stream: one CPU engine and one in-order stream per device; OpenMP team size. */
#include "dnnl/priv.h"

#include <omp.h>
#include <stdio.h>

nas_status_t nas__dnnl_fail(char *err, dnnl_status_t s, const char *what)
{
    nas_status_t st;
    switch (s) {
    case dnnl_out_of_memory: st = NAS_E_NOMEM; break;
    case dnnl_unimplemented: st = NAS_E_UNSUPPORTED; break;
    case dnnl_invalid_arguments: st = NAS_E_INVAL; break;
    default: st = NAS_E_INTERNAL; break;
    }
    return nas__fail(err, st, "oneDNN: %s failed (status %d)", what, (int)s);
}

nas_status_t nas__dev_create(nas__dev_t **out, nas_context_t *ctx)
{
    if (!out)
        return NAS_E_INVAL;
    *out = NULL;
    if (!ctx)
        return NAS_E_INVAL;
    char *err = ctx->errmsg;
    nas__dev_t *dev = nas__calloc(ctx, 1, sizeof *dev);
    if (!dev)
        return nas__fail(err, NAS_E_NOMEM, "out of memory creating a device");
    dev->ctx = ctx;
    dev->threads = nas_context_num_threads(ctx);
    dnnl_status_t s = dnnl_engine_create(&dev->engine, dnnl_cpu, 0);
    if (s == dnnl_success)
        s = dnnl_stream_create(&dev->stream, dev->engine, dnnl_stream_default_flags);
    if (s != dnnl_success) {
        nas__dev_destroy(dev);
        return nas__dnnl_fail(err, s, "creating the CPU engine and stream");
    }
    *out = dev;
    return NAS_OK;
}

void nas__dev_destroy(nas__dev_t *dev)
{
    if (!dev)
        return;
    if (dev->stream)
        dnnl_stream_destroy(dev->stream);
    if (dev->engine)
        dnnl_engine_destroy(dev->engine);
    nas__free(dev->ctx, dev);
}

nas_context_t *nas__dev_context(const nas__dev_t *dev) { return dev->ctx; }
int32_t nas__dev_threads(const nas__dev_t *dev) { return dev->threads; }
uint64_t nas__dev_primitives(const nas__dev_t *dev) { return dev->primitives; }

void nas__dev_enter(const nas__dev_t *dev)
{
    if (omp_get_max_threads() != dev->threads)
        omp_set_num_threads(dev->threads);
}

void nas__dev_wait(nas__dev_t *dev)
{
    dnnl_stream_wait(dev->stream);
}
