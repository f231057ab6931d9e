/*
 * The "grid" strategy: every point of nas_space_enumerate() once, in index order or, with
 * shuffle=true, in a seeded pseudo-random order. The shuffled order is a bijection of [0, N):
 * a Feistel network over the smallest even power of two >= N, walked until it lands below N
 * (at most 4 steps on average), so memory stays O(1) whatever N is.
 *
 * Parameters: shuffle (bool, default false).
 */
#include "search/search_internal.h"

#define ROUNDS 6

typedef struct grid_state {
    nas_context_t *ctx;
    uint64_t size;          /* grid points */
    uint64_t next;          /* position of the next ask */
    bool shuffle;
    uint32_t half_bits;     /* each Feistel half has this many bits */
    uint64_t keys[ROUNDS];
} grid_state_t;

static uint64_t feistel(const grid_state_t *g, uint64_t x)
{
    uint32_t h = g->half_bits;
    uint64_t mask = (1ull << h) - 1;
    uint64_t left = x >> h, right = x & mask;
    for (int i = 0; i < ROUNDS; i++) {
        uint64_t f = nas__mix64(right ^ g->keys[i]) & mask;
        uint64_t t = right;
        right = left ^ f;
        left = t;
    }
    return (left << h) | right;
}

/* The grid index of position `pos` (a permutation of [0, size)). */
static uint64_t grid_index(const grid_state_t *g, uint64_t pos)
{
    if (!g->shuffle)
        return pos;
    /* Cycle walking: the Feistel permutation restricted to [0, size) is again a permutation. */
    uint64_t x = pos;
    do {
        x = feistel(g, x);
    } while (x >= g->size);
    return x;
}

static void grid_destroy(void *state)
{
    grid_state_t *g = state;
    if (g)
        nas__free(g->ctx, g);
}

static nas_status_t grid_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas_searcher_context(self);
    grid_state_t *g = nas__calloc(ctx, 1, sizeof *g);
    if (!g)
        return NAS_E_NOMEM;
    g->ctx = ctx;
    *state = g;
    nas_status_t st = nas__search_param_bool(self, params, "shuffle", false, &g->shuffle);
    if (st != NAS_OK)
        return st;
    if ((st = nas_space_grid_size(nas_searcher_space(self), &g->size)) != NAS_OK)
        return nas__search_space_failed(self, st);
    g->half_bits = 1;
    while (g->half_bits < 32 && (1ull << (2 * g->half_bits)) < g->size)
        g->half_bits++;
    nas_rng_t *rng = nas_searcher_rng(self);
    for (int i = 0; i < ROUNDS; i++)
        g->keys[i] = nas_rng_u64(rng);
    nas__searcher_set_finite(self, true);
    return NAS_OK;
}

static nas_status_t grid_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    grid_state_t *g = state;
    if (g->next >= g->size)
        return nas__search_fail(self, NAS_E_EXHAUSTED, "all %llu grid points have been proposed",
                                (unsigned long long)g->size);
    nas_status_t st = nas_space_enumerate(nas_searcher_space(self), cand->arch, grid_index(g, g->next));
    if (st != NAS_OK)
        return nas__search_space_failed(self, st);
    g->next++;
    return NAS_OK;
}

/* State: the position (the permutation keys come from the seed at create). */
static nas_status_t grid_save(nas_searcher_t *self, void *state, nas_state_writer_t *w)
{
    (void)self;
    return nas_state_write_u64(w, ((grid_state_t *)state)->next);
}

static nas_status_t grid_load(nas_searcher_t *self, void *state, nas_state_reader_t *r)
{
    (void)self;
    grid_state_t *g = state;
    return nas_state_read_count(r, g->size, &g->next);
}

static const nas_searcher_vtable_t grid_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "grid",
    .description = "every grid point once, in order or shuffled (params: shuffle)",
    .create = grid_create,
    .destroy = grid_destroy,
    .ask = grid_ask,
    .tell = nas__search_tell_nothing,
    .save = grid_save,
    .load = grid_load,
    .user_data = NULL,
};

nas_status_t nas__register_grid(nas_context_t *ctx)
{
    return nas_context_register_searcher(ctx, &grid_vtable);
}
