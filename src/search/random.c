/*
 * The "random" strategy: uniform draws from the space (nas_space_sample), never the same point twice.
 *
 * A set of arch hashes remembers what was proposed. Equal archs have equal hashes, so a repeat is
 * impossible; two different archs sharing a 64-bit hash (odds about n^2 / 2^65) would only make
 * one of them unreachable. When `max_retries` draws in a row hit proposed archs, a finite space is
 * scanned in grid order from a random index for the next unproposed point (the tail of a
 * coupon-collector run), so a finite space is exhausted exactly after its size in asks.
 *
 * Parameters: max_retries (int, default 100): draws per ask before the scan, or before an
 * infinite space is declared exhausted.
 */
#include "search/search_internal.h"

#include <stdio.h>

#define DEFAULT_RETRIES 100
#define MAX_RETRIES 10000000

typedef struct random_state {
    nas__u64set_t seen;
    int64_t max_retries;
    bool finite;        /* the grid enumerates exactly the points sampling can give */
    uint64_t size;      /* number of points when finite */
    uint64_t proposed;
} random_state_t;

static void random_destroy(void *state)
{
    random_state_t *r = state;
    if (!r)
        return;
    nas_context_t *ctx = r->seen.ctx;
    nas__u64set_free(&r->seen);
    nas__free(ctx, r);
}

static nas_status_t random_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas_searcher_context(self);
    nas_space_t *space = nas_searcher_space(self);
    random_state_t *r = nas__calloc(ctx, 1, sizeof *r);
    if (!r)
        return NAS_E_NOMEM;
    nas__u64set_init(&r->seen, ctx);
    *state = r;
    nas_status_t st = nas_params_get_int(params, "max_retries", DEFAULT_RETRIES, &r->max_retries);
    if (st != NAS_OK) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
        return st;
    }
    if (r->max_retries < 1 || r->max_retries > MAX_RETRIES) {
        char msg[128];
        snprintf(msg, sizeof msg, "parameter 'max_retries' must be in [1, %d]", MAX_RETRIES);
        nas_searcher_set_errmsg(self, msg);
        return NAS_E_INVAL;
    }
    /* Sampling draws FLOAT decisions anywhere in their range: such a space has size "inf" here. */
    uint64_t size, grid;
    if (nas_space_size_u64(space, NAS_SIZE_ALL, &size) == NAS_OK && nas_space_grid_size(space, &grid) == NAS_OK &&
        size == grid && size > 0) {
        r->finite = true;
        r->size = size;
    }
    nas__searcher_set_finite(self, r->finite);
    return NAS_OK;
}

static nas_status_t accept(nas_searcher_t *self, random_state_t *r, uint64_t h)
{
    bool added;
    nas_status_t st = nas__u64set_insert(&r->seen, h, &added);
    if (st != NAS_OK) {
        nas_searcher_set_errmsg(self, "random: out of memory remembering proposed architectures");
        return st;
    }
    r->proposed++;
    return NAS_OK;
}

static nas_status_t space_failed(nas_searcher_t *self, nas_status_t st)
{
    char msg[NAS_ERRMSG_CAP];
    snprintf(msg, sizeof msg, "random: %s", nas_space_errmsg(nas_searcher_space(self)));
    nas_searcher_set_errmsg(self, msg);
    return st;
}

/* The first unproposed grid point from a random index on (wrapping around); NAS_E_EXHAUSTED if none. */
static nas_status_t scan(nas_searcher_t *self, random_state_t *r, nas_arch_t *arch)
{
    nas_space_t *space = nas_searcher_space(self);
    uint64_t start = nas_rng_below(nas_searcher_rng(self), r->size);
    for (uint64_t k = 0; k < r->size; k++) {
        uint64_t idx = k < r->size - start ? start + k : k - (r->size - start);
        nas_status_t st = nas_space_enumerate(space, arch, idx);
        if (st != NAS_OK)
            return space_failed(self, st);
        uint64_t h = nas_arch_hash(arch);
        if (!nas__u64set_has(&r->seen, h))
            return accept(self, r, h);
    }
    nas_searcher_set_errmsg(self, "random: every architecture of the space has been proposed");
    return NAS_E_EXHAUSTED;
}

static nas_status_t random_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    random_state_t *r = state;
    if (r->finite && r->proposed >= r->size) {
        char msg[160];
        snprintf(msg, sizeof msg, "random: all %llu architectures of the space have been proposed",
                 (unsigned long long)r->size);
        nas_searcher_set_errmsg(self, msg);
        return NAS_E_EXHAUSTED;
    }
    nas_space_t *space = nas_searcher_space(self);
    nas_rng_t *rng = nas_searcher_rng(self);
    for (int64_t i = 0; i < r->max_retries; i++) {
        nas_status_t st = nas_space_sample(space, cand->arch, rng);
        if (st != NAS_OK)
            return space_failed(self, st);
        uint64_t h = nas_arch_hash(cand->arch);
        if (!nas__u64set_has(&r->seen, h))
            return accept(self, r, h);
    }
    if (r->finite)
        return scan(self, r, cand->arch);
    char msg[160];
    snprintf(msg, sizeof msg, "random: %lld draws in a row gave architectures proposed before",
             (long long)r->max_retries);
    nas_searcher_set_errmsg(self, msg);
    return NAS_E_EXHAUSTED;
}

static nas_status_t random_tell(nas_searcher_t *self, void *state, const nas_candidate_t *cand,
                                const nas_result_t *res)
{
    (void)self;
    (void)state;
    (void)cand;
    (void)res;
    return NAS_OK;   /* random search learns nothing */
}

/* State: proposals so far and the set of their hashes (in table order; reloading rebuilds the table). */
static nas_status_t random_save(nas_searcher_t *self, void *state, nas_state_writer_t *w)
{
    (void)self;
    random_state_t *r = state;
    nas_state_write_u64(w, r->proposed);
    nas_state_write_u64(w, r->seen.count);
    for (size_t i = 0; i < r->seen.cap; i++)
        if (r->seen.used[i])
            nas_state_write_u64(w, r->seen.keys[i]);
    return nas_state_write(w, "", 0);   /* NAS_E_NOMEM if any write above failed */
}

static nas_status_t random_load(nas_searcher_t *self, void *state, nas_state_reader_t *r)
{
    random_state_t *rs = state;
    uint64_t count, key;
    nas_status_t st;
    if ((st = nas_state_read_u64(r, &rs->proposed)) != NAS_OK ||
        (st = nas_state_read_count(r, nas_state_remaining(r) / 8, &count)) != NAS_OK)
        return st;
    for (uint64_t i = 0; i < count; i++) {
        bool added;
        if ((st = nas_state_read_u64(r, &key)) != NAS_OK)
            return st;
        if ((st = nas__u64set_insert(&rs->seen, key, &added)) != NAS_OK) {
            nas_searcher_set_errmsg(self, "random: out of memory loading the state");
            return st;
        }
        if (!added)
            return NAS_E_CORRUPT;
    }
    return NAS_OK;
}

static const nas_searcher_vtable_t random_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "random",
    .description = "uniform random sampling without repeats (params: max_retries)",
    .create = random_create,
    .destroy = random_destroy,
    .ask = random_ask,
    .tell = random_tell,
    .user_data = NULL,
    .save = random_save,
    .load = random_load,
};

nas_status_t nas__register_random(nas_context_t *ctx)
{
    return nas_context_register_searcher(ctx, &random_vtable);
}
