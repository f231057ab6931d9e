/* The context: allocator, log sink, threads, seed, and the registry of searchers and evaluators. */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *libc_malloc(void *ud, size_t size)
{
    (void)ud;
    return malloc(size);
}

static void *libc_realloc(void *ud, void *ptr, size_t size)
{
    (void)ud;
    return realloc(ptr, size);
}

static void libc_free(void *ud, void *ptr)
{
    (void)ud;
    free(ptr);
}

static nas_status_t register_builtins(nas_context_t *ctx)
{
    nas_status_t st;
    if ((st = nas__register_random(ctx)) != NAS_OK)
        return st;
    if ((st = nas__register_grid(ctx)) != NAS_OK)
        return st;
    if ((st = nas__register_evolution(ctx)) != NAS_OK || (st = nas__register_local(ctx)) != NAS_OK ||
        (st = nas__register_nsga2(ctx)) != NAS_OK || (st = nas__register_reinforce(ctx)) != NAS_OK ||
        (st = nas__register_tpe(ctx)) != NAS_OK || (st = nas__register_hyperband(ctx)) != NAS_OK)
        return st;
    if ((st = nas__register_darts(ctx)) != NAS_OK || (st = nas__register_gdas(ctx)) != NAS_OK)
        return st;
    if ((st = nas__register_spos(ctx)) != NAS_OK || (st = nas__register_fairnas(ctx)) != NAS_OK ||
        (st = nas__register_supernet(ctx)) != NAS_OK)
        return st;
    if ((st = nas__register_proxyless(ctx)) != NAS_OK)
        return st;
    if ((st = nas__register_enas(ctx)) != NAS_OK)
        return st;
    if ((st = nas__register_table(ctx)) != NAS_OK)
        return st;
    return nas__register_train(ctx);
}

/* Threads of a context created with num_threads 0: NAS_NUM_THREADS when it is a count, else every core. */
static int32_t default_threads(void)
{
    const char *env = getenv("NAS_NUM_THREADS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v > 0 && v < 4096)
            return (int32_t)v;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 4096 ? (int32_t)n : 1;
}

nas_status_t nas_context_create(nas_context_t **out, const nas_context_opts_t *opts)
{
    if (!out)
        return NAS_E_INVAL;
    *out = NULL;
    nas_context_opts_t o = NAS_CONTEXT_OPTS_INIT;
    if (opts && !nas__copy_opts(&o, sizeof o, opts, opts->struct_size))
        return NAS_E_INVAL;

    nas_allocator_t alloc = { sizeof alloc, libc_malloc, libc_realloc, libc_free, NULL };
    if (o.allocator) {
        if (o.allocator->struct_size < sizeof alloc || !o.allocator->malloc_fn || !o.allocator->realloc_fn ||
            !o.allocator->free_fn)
            return NAS_E_INVAL;
        alloc = *o.allocator;
    }
    if (o.num_threads < 0 || o.log_level < NAS_LOG_ERROR || o.log_level > NAS_LOG_DEBUG)
        return NAS_E_INVAL;

    nas_context_t *ctx = alloc.malloc_fn(alloc.user_data, sizeof *ctx);
    if (!ctx)
        return NAS_E_NOMEM;
    memset(ctx, 0, sizeof *ctx);
    ctx->alloc = alloc;
    ctx->log_fn = o.log_fn;
    ctx->log_user_data = o.log_user_data;
    ctx->log_level = o.log_level;
    ctx->seed = o.seed;
    ctx->num_threads = o.num_threads ? o.num_threads : default_threads();
    nas_status_t st = register_builtins(ctx);
    if (st != NAS_OK) {
        nas_context_destroy(ctx);
        return st;
    }
    *out = ctx;
    return NAS_OK;
}

void nas_context_destroy(nas_context_t *ctx)
{
    if (!ctx)
        return;
    for (uint32_t i = ctx->num_attachments; i-- > 0;) {
        nas__attachment_t *a = &ctx->attachments[i];
        a->release(ctx, a->object);
        nas__free(ctx, a->name);
    }
    nas__free(ctx, ctx->attachments);
    for (uint32_t i = 0; i < ctx->num_searchers; i++) {
        nas__free(ctx, ctx->searchers[i].name);
        nas__free(ctx, ctx->searchers[i].description);
    }
    for (uint32_t i = 0; i < ctx->num_evaluators; i++) {
        nas__free(ctx, ctx->evaluators[i].name);
        nas__free(ctx, ctx->evaluators[i].description);
    }
    nas__free(ctx, ctx->searchers);
    nas__free(ctx, ctx->evaluators);
    nas_allocator_t a = ctx->alloc;
    a.free_fn(a.user_data, ctx);
}

const char *nas_context_errmsg(const nas_context_t *ctx)
{
    return ctx ? ctx->errmsg : "";
}

uint64_t nas_context_seed(const nas_context_t *ctx)
{
    return ctx ? ctx->seed : 0;
}

int32_t nas_context_num_threads(const nas_context_t *ctx)
{
    return ctx ? ctx->num_threads : 1;
}

void nas_context_log(nas_context_t *ctx, int32_t level, const char *message)
{
    if (message)
        nas__logf(ctx, level, "%s", message);
}

/* ---------------------------------------------------------------------- */
/* Registry                                                                */

/* Checks shared by both kinds of vtable: ABI, size (`required` covers every required member), name. */
static nas_status_t check_vtable(nas_context_t *ctx, const char *kind, uint32_t abi, size_t size, size_t required,
                                 const char *name)
{
    if (abi != NAS_PLUGIN_ABI_VERSION)
        return nas__ctx_fail(ctx, NAS_E_ABI, "%s vtable has ABI version %u, this library speaks %u", kind,
                             (unsigned)abi, NAS_PLUGIN_ABI_VERSION);
    if (size < required)
        return nas__ctx_fail(ctx, NAS_E_ABI, "%s vtable struct_size %zu is smaller than the required %zu", kind,
                             size, required);
    if (!nas__valid_name(name))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "%s name '%s' is not of the form [a-z0-9_-]+ (at most 128)", kind,
                             name ? name : "(null)");
    return NAS_OK;
}

#define REQUIRED_SIZE(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))

nas_status_t nas_context_register_searcher(nas_context_t *ctx, const nas_searcher_vtable_t *vt)
{
    if (!ctx)
        return NAS_E_INVAL;
    if (!vt)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "searcher vtable is NULL");
    size_t required = REQUIRED_SIZE(nas_searcher_vtable_t, tell);
    size_t size = vt->struct_size < sizeof *vt ? vt->struct_size : sizeof *vt;
    nas_status_t st = check_vtable(ctx, "searcher", vt->abi_version, vt->struct_size, required,
                                   size >= REQUIRED_SIZE(nas_searcher_vtable_t, name) ? vt->name : NULL);
    if (st != NAS_OK)
        return st;
    if (!vt->create || !vt->destroy || !vt->ask || !vt->tell)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "searcher '%s': create, destroy, ask and tell are required", vt->name);
    bool has_save = size >= REQUIRED_SIZE(nas_searcher_vtable_t, save) && vt->save;
    bool has_load = size >= REQUIRED_SIZE(nas_searcher_vtable_t, load) && vt->load;
    if (has_save != has_load)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "searcher '%s': save and load go together (give both or neither)",
                             vt->name);
    if (nas__find_searcher(ctx, vt->name))
        return nas__ctx_fail(ctx, NAS_E_EXISTS, "a searcher named '%s' is already registered", vt->name);

    struct nas__searcher_entry e;
    memset(&e, 0, sizeof e);
    memcpy(&e.vt, vt, size);
    e.vt.struct_size = sizeof e.vt;
    e.name = nas__strdup(ctx, vt->name);
    e.description = nas__strdup(ctx, vt->description ? vt->description : "");
    if (!e.name || !e.description ||
        !nas__grow(ctx, (void **)&ctx->searchers, &ctx->cap_searchers, ctx->num_searchers + 1, sizeof e)) {
        nas__free(ctx, e.name);
        nas__free(ctx, e.description);
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory registering searcher '%s'", vt->name);
    }
    e.vt.name = e.name;
    e.vt.description = e.description;
    ctx->searchers[ctx->num_searchers++] = e;
    return NAS_OK;
}

nas_status_t nas_context_register_evaluator(nas_context_t *ctx, const nas_evaluator_vtable_t *vt)
{
    if (!ctx)
        return NAS_E_INVAL;
    if (!vt)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "evaluator vtable is NULL");
    size_t required = REQUIRED_SIZE(nas_evaluator_vtable_t, evaluate);
    size_t size = vt->struct_size < sizeof *vt ? vt->struct_size : sizeof *vt;
    nas_status_t st = check_vtable(ctx, "evaluator", vt->abi_version, vt->struct_size, required,
                                   size >= REQUIRED_SIZE(nas_evaluator_vtable_t, name) ? vt->name : NULL);
    if (st != NAS_OK)
        return st;
    if (!vt->create || !vt->destroy || !vt->evaluate)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "evaluator '%s': create, destroy and evaluate are required", vt->name);
    if (nas__find_evaluator(ctx, vt->name))
        return nas__ctx_fail(ctx, NAS_E_EXISTS, "a evaluator named '%s' is already registered", vt->name);

    struct nas__evaluator_entry e;
    memset(&e, 0, sizeof e);
    memcpy(&e.vt, vt, size);
    e.vt.struct_size = sizeof e.vt;
    e.name = nas__strdup(ctx, vt->name);
    e.description = nas__strdup(ctx, vt->description ? vt->description : "");
    if (!e.name || !e.description ||
        !nas__grow(ctx, (void **)&ctx->evaluators, &ctx->cap_evaluators, ctx->num_evaluators + 1, sizeof e)) {
        nas__free(ctx, e.name);
        nas__free(ctx, e.description);
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory registering evaluator '%s'", vt->name);
    }
    e.vt.name = e.name;
    e.vt.description = e.description;
    ctx->evaluators[ctx->num_evaluators++] = e;
    return NAS_OK;
}

const struct nas__searcher_entry *nas__find_searcher(const nas_context_t *ctx, const char *name)
{
    if (!ctx || !name)
        return NULL;
    for (uint32_t i = 0; i < ctx->num_searchers; i++)
        if (strcmp(ctx->searchers[i].name, name) == 0)
            return &ctx->searchers[i];
    return NULL;
}

const struct nas__evaluator_entry *nas__find_evaluator(const nas_context_t *ctx, const char *name)
{
    if (!ctx || !name)
        return NULL;
    for (uint32_t i = 0; i < ctx->num_evaluators; i++)
        if (strcmp(ctx->evaluators[i].name, name) == 0)
            return &ctx->evaluators[i];
    return NULL;
}

uint32_t nas_context_num_searchers(const nas_context_t *ctx)
{
    return ctx ? ctx->num_searchers : 0;
}

nas_status_t nas_context_searcher_at(const nas_context_t *ctx, uint32_t i, const char **name, const char **description)
{
    if (!ctx)
        return NAS_E_INVAL;
    if (i >= ctx->num_searchers)
        return NAS_E_RANGE;
    if (name)
        *name = ctx->searchers[i].name;
    if (description)
        *description = ctx->searchers[i].description;
    return NAS_OK;
}

uint32_t nas_context_num_evaluators(const nas_context_t *ctx)
{
    return ctx ? ctx->num_evaluators : 0;
}

nas_status_t nas_context_evaluator_at(const nas_context_t *ctx, uint32_t i, const char **name,
                                      const char **description)
{
    if (!ctx)
        return NAS_E_INVAL;
    if (i >= ctx->num_evaluators)
        return NAS_E_RANGE;
    if (name)
        *name = ctx->evaluators[i].name;
    if (description)
        *description = ctx->evaluators[i].description;
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Attachments                                                             */

void *nas__ctx_attached(const nas_context_t *ctx, const char *kind, const char *name)
{
    if (!ctx || !name)
        return NULL;
    for (uint32_t i = 0; i < ctx->num_attachments; i++)
        if (strcmp(ctx->attachments[i].kind, kind) == 0 && strcmp(ctx->attachments[i].name, name) == 0)
            return ctx->attachments[i].object;
    return NULL;
}

nas_status_t nas__ctx_attach(nas_context_t *ctx, const char *kind, const char *name, void *object,
                             nas__release_fn release)
{
    if (nas__ctx_attached(ctx, kind, name))
        return nas__ctx_fail(ctx, NAS_E_EXISTS, "a %s named '%s' is already registered", kind, name);
    char *copy = nas__strdup(ctx, name);
    if (!copy || !nas__grow(ctx, (void **)&ctx->attachments, &ctx->cap_attachments, ctx->num_attachments + 1,
                            sizeof *ctx->attachments)) {
        nas__free(ctx, copy);
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory registering the %s '%s'", kind, name);
    }
    ctx->attachments[ctx->num_attachments++] = (nas__attachment_t){ kind, copy, object, release };
    return NAS_OK;
}
