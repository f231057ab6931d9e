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
    nas_status_t st = nas__search_param_int(self, params, "max_retries", DEFAULT_RETRIES, 1, MAX_RETRIES,
                                            &r->max_retries);
    if (st != NAS_OK)
        return st;
    r->size = nas__search_finite_size(space);
    r->finite = r->size > 0;
    nas__searcher_set_finite(self, r->finite);
    return NAS_OK;
}

static nas_status_t random_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    random_state_t *r = state;
    if (r->finite && r->proposed >= r->size)
        return nas__search_fail(self, NAS_E_EXHAUSTED, "all %llu architectures of the space have been proposed",
                                (unsigned long long)r->size);
    bool found;
    nas_status_t st = nas__search_sample_fresh(self, &r->seen, r->max_retries, cand->arch, &found);
    if (st == NAS_OK && !found && r->finite)
        st = nas__search_scan_fresh(self, &r->seen, r->size, cand->arch, &found);
    if (st != NAS_OK)
        return st;
    if (!found && r->finite)
        return nas__search_fail(self, NAS_E_EXHAUSTED, "every architecture of the space has been proposed");
    if (!found)
        return nas__search_fail(self, NAS_E_EXHAUSTED, "%lld draws in a row gave architectures proposed before",
                                (long long)r->max_retries);
    if ((st = nas__search_remember(self, &r->seen, cand->arch)) == NAS_OK)
        r->proposed++;
    return st;
}

/* State: proposals so far and the set of their hashes (in table order; reloading rebuilds the table). */
static nas_status_t random_save(nas_searcher_t *self, void *state, nas_state_writer_t *w)
{
    (void)self;
    random_state_t *r = state;
    nas_state_write_u64(w, r->proposed);
    return nas__search_save_hashes(&r->seen, false, w);
}

static nas_status_t random_load(nas_searcher_t *self, void *state, nas_state_reader_t *r)
{
    random_state_t *rs = state;
    nas_status_t st = nas_state_read_u64(r, &rs->proposed);
    if (st == NAS_OK)
        st = nas__search_load_hashes(&rs->seen, false, r);
    return st == NAS_E_NOMEM ? nas__search_failed(self, st, "loading the state") : st;
}

static const nas_searcher_vtable_t random_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "random",
    .description = "uniform random sampling without repeats (params: max_retries)",
    .create = random_create,
    .destroy = random_destroy,
    .ask = random_ask,
    .tell = nas__search_tell_nothing,   /* random search learns nothing */
    .user_data = NULL,
    .save = random_save,
    .load = random_load,
};

nas_status_t nas__register_random(nas_context_t *ctx)
{
    return nas_context_register_searcher(ctx, &random_vtable);
}
