/*
 * Helpers of the built-in strategies (see search_internal.h): a tell that learns nothing, messages
 * prefixed with the strategy's name, parameters in a range, draws that avoid what was proposed
 * before, and the state of the set of proposed arch hashes.
 */
#include "search/search_internal.h"

#include <stdio.h>
#include <stdlib.h>

nas_status_t nas__search_tell_nothing(nas_searcher_t *self, void *state, const nas_candidate_t *cand,
                                      const nas_result_t *res)
{
    (void)self;
    (void)state;
    (void)cand;
    (void)res;
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Messages                                                                */

nas_status_t nas__search_fail(nas_searcher_t *self, nas_status_t st, const char *fmt, ...)
{
    char msg[NAS_ERRMSG_CAP];
    int n = snprintf(msg, sizeof msg, "%s: ", nas_searcher_name(self));
    if (n >= 0 && (size_t)n < sizeof msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
        va_end(ap);
    }
    nas_searcher_set_errmsg(self, msg);
    return st;
}

nas_status_t nas__search_space_failed(nas_searcher_t *self, nas_status_t st)
{
    return nas__search_fail(self, st, "%s", nas_space_errmsg(nas_searcher_space(self)));
}

nas_status_t nas__search_failed(nas_searcher_t *self, nas_status_t st, const char *what)
{
    if (st == NAS_E_NOMEM)
        return nas__search_fail(self, st, "out of memory %s", what);
    return nas__search_fail(self, st, "%s: %s", what, nas_space_errmsg(nas_searcher_space(self)));
}

/* ---------------------------------------------------------------------- */
/* Parameters                                                              */

nas_status_t nas__search_param_int(nas_searcher_t *self, const nas_params_t *params, const char *key, int64_t def,
                                   int64_t lo, int64_t hi, int64_t *out)
{
    nas_status_t st = nas_params_get_int(params, key, def, out);
    if (st != NAS_OK) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
        return st;
    }
    if (*out < lo || *out > hi) {
        char msg[192];
        snprintf(msg, sizeof msg, "parameter '%s' must be in [%lld, %lld] (got %lld)", key, (long long)lo,
                 (long long)hi, (long long)*out);
        nas_searcher_set_errmsg(self, msg);
        return NAS_E_INVAL;
    }
    return NAS_OK;
}

nas_status_t nas__search_param_double(nas_searcher_t *self, const nas_params_t *params, const char *key, double def,
                                      double lo, double hi, int open, double *out)
{
    nas_status_t st = nas_params_get_double(params, key, def, out);
    if (st != NAS_OK) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
        return st;
    }
    double v = *out;
    if (!(v >= lo && v <= hi) || ((open & 1) && v == lo) || ((open & 2) && v == hi)) {
        char msg[192];
        snprintf(msg, sizeof msg, "parameter '%s' must be in %c%g, %g%c (got %g)", key, open & 1 ? '(' : '[', lo, hi,
                 open & 2 ? ')' : ']', v);
        nas_searcher_set_errmsg(self, msg);
        return NAS_E_INVAL;
    }
    return NAS_OK;
}

nas_status_t nas__search_param_bool(nas_searcher_t *self, const nas_params_t *params, const char *key, bool def,
                                    bool *out)
{
    nas_status_t st = nas_params_get_bool(params, key, def, out);
    if (st != NAS_OK)
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
    return st;
}

/* ---------------------------------------------------------------------- */
/* Proposals not made before                                               */

uint64_t nas__search_finite_size(const nas_space_t *space)
{
    uint64_t size, grid;
    if (nas_space_size_u64(space, NAS_SIZE_ALL, &size) == NAS_OK && nas_space_grid_size(space, &grid) == NAS_OK &&
        size == grid)
        return size;
    return 0;
}

nas_status_t nas__search_sample_fresh(nas_searcher_t *self, const nas__u64set_t *seen, int64_t tries, nas_arch_t *arch,
                                      bool *fresh)
{
    nas_space_t *space = nas_searcher_space(self);
    nas_rng_t *rng = nas_searcher_rng(self);
    bool found = false;
    if (fresh)
        *fresh = false;
    for (int64_t i = 0; (i < tries || i == 0) && !found; i++) {
        nas_status_t st = nas_space_sample(space, arch, rng);
        if (st != NAS_OK)
            return nas__search_space_failed(self, st);
        found = !nas__u64set_has(seen, nas_arch_hash(arch));
    }
    if (fresh)
        *fresh = found;
    return NAS_OK;
}

nas_status_t nas__search_scan_fresh(nas_searcher_t *self, const nas__u64set_t *seen, uint64_t size, nas_arch_t *arch,
                                    bool *found)
{
    nas_space_t *space = nas_searcher_space(self);
    uint64_t start = nas_rng_below(nas_searcher_rng(self), size);
    *found = false;
    for (uint64_t k = 0; k < size && !*found; k++) {
        uint64_t idx = k < size - start ? start + k : k - (size - start);
        nas_status_t st = nas_space_enumerate(space, arch, idx);
        if (st != NAS_OK)
            return nas__search_space_failed(self, st);
        *found = !nas__u64set_has(seen, nas_arch_hash(arch));
    }
    return NAS_OK;
}

nas_status_t nas__search_remember(nas_searcher_t *self, nas__u64set_t *seen, const nas_arch_t *arch)
{
    bool added;
    nas_status_t st = nas__u64set_insert(seen, nas_arch_hash(arch), &added);
    return st == NAS_OK ? NAS_OK : nas__search_failed(self, st, "remembering proposed architectures");
}

/* ---------------------------------------------------------------------- */
/* State of a set of hashes                                                */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

nas_status_t nas__search_save_hashes(const nas__u64set_t *set, bool sorted, nas_state_writer_t *w)
{
    if (!sorted) {
        nas_status_t st = nas_state_write_u64(w, set->count);
        for (size_t i = 0; i < set->cap; i++)
            if (set->used[i])
                st = nas_state_write_u64(w, set->keys[i]);
        return st;   /* a failed write makes every later one fail: the last status tells */
    }
    uint64_t *keys = nas__malloc(set->ctx, (set->count ? set->count : 1) * sizeof *keys);
    if (!keys)
        return NAS_E_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < set->cap; i++)
        if (set->used[i])
            keys[n++] = set->keys[i];
    if (n > 1)
        qsort(keys, n, sizeof *keys, cmp_u64);
    nas_status_t st = nas_state_write_u64(w, n);
    for (size_t i = 0; i < n; i++)
        st = nas_state_write_u64(w, keys[i]);
    nas__free(set->ctx, keys);
    return st;
}

nas_status_t nas__search_load_hashes(nas__u64set_t *set, bool sorted, nas_state_reader_t *r)
{
    uint64_t count, key, prev = 0;
    nas_status_t st = nas_state_read_count(r, nas_state_remaining(r) / 8, &count);
    for (uint64_t i = 0; i < count && st == NAS_OK; i++) {
        bool added = true;
        if ((st = nas_state_read_u64(r, &key)) == NAS_OK && sorted && i > 0 && key <= prev)
            st = NAS_E_CORRUPT;
        if (st == NAS_OK && (st = nas__u64set_insert(set, key, &added)) == NAS_OK && !added)
            st = NAS_E_CORRUPT;
        prev = key;
    }
    return st;
}
