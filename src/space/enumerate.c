/* The grid: a bijection between [0, grid size) and the distinct archs (FLOAT dims on their grid points).
 * Index 0 is every first option; the first decision varies slowest, the last one fastest. Inside a
 * group with a selector (a stage and its depth), the settings are listed by selector choice, then
 * over the decisions that choice makes active, so inactive layers never multiply the count. */
#include "space/space_internal.h"

static void set_dim(const nas_space_t *s, nas_arch_t *a, uint32_t d, uint32_t k)
{
    if (s->dims[d].kind == NAS_DIM_FLOAT) {
        a->choice[d] = 0;
        a->value[d] = nas__float_grid_value(&s->dims[d], k);
    } else {
        a->choice[d] = k;
    }
}

static bool active_at(const nas__dim_t *dim, uint32_t sel, uint32_t c)
{
    return dim->parent < 0 || (dim->parent == (int32_t)sel && c >= (uint32_t)dim->parent_min);
}

static void set_group(const nas_space_t *s, nas_arch_t *a, const nas__group_t *g, uint64_t q)
{
    uint32_t end = g->first + g->count;
    if (g->selector < 0) {
        for (uint32_t d = end; d-- > g->first;) {
            uint32_t n = s->dims[d].grid_points;
            set_dim(s, a, d, (uint32_t)(q % n));
            q /= n;
        }
        return;
    }
    uint32_t sel = (uint32_t)g->selector;
    uint64_t p = 1;
    for (uint32_t c = 0; c < s->dims[sel].num_choices; c++) {
        /* p: settings of the decisions active when the selector is c (fits: it is at most g->grid). */
        for (uint32_t d = g->first; d < end; d++) {
            const nas__dim_t *dim = &s->dims[d];
            if (d != sel && nas__switched_on_at(dim, sel, c))
                p *= dim->grid_points;
        }
        if (q >= p) {
            q -= p;
            continue;
        }
        a->choice[sel] = c;
        for (uint32_t d = end; d-- > g->first;) {
            if (d == sel)
                continue;
            if (!active_at(&s->dims[d], sel, c)) {
                a->choice[d] = 0;
                continue;
            }
            uint32_t n = s->dims[d].grid_points;
            set_dim(s, a, d, (uint32_t)(q % n));
            q /= n;
        }
        return;
    }
}

nas_status_t nas_space_enumerate(const nas_space_t *space, nas_arch_t *out, uint64_t index)
{
    if (!space || !out)
        return NAS_E_INVAL;
    nas_space_t *s = (nas_space_t *)space;
    if (!space->built)
        return nas__space_fail(s, NAS_E_STATE, NULL, "nas_space_enumerate: the space is not built");
    if (out->space != space)
        return nas__space_fail(s, NAS_E_INVAL, NULL, "nas_space_enumerate: the arch belongs to another space");
    if (!space->grid_ok)
        return nas__space_fail(s, NAS_E_RANGE, NULL, "the grid of the space has more than 2^64 points");
    if (index >= space->grid_size)
        return nas__space_fail(s, NAS_E_RANGE, NULL, "grid index %llu past the end (%llu points)",
                               (unsigned long long)index, (unsigned long long)space->grid_size);
    for (uint32_t i = space->num_groups; i-- > 0;) {
        const nas__group_t *g = &space->groups[i];
        set_group(space, out, g, index % g->grid);
        index /= g->grid;
    }
    return NAS_OK;
}
