/* Architectures: one value per decision, kept in canonical form (inactive decisions at choice 0). */
#include "space/space_internal.h"

#include <math.h>
#include <string.h>

void nas__arch_normalize(const nas_space_t *s, uint32_t *choice)
{
    /* Parents come before their children, so one pass settles chains of dependencies. */
    for (uint32_t d = 0; d < s->num_dims; d++)
        if (!nas__dim_active(s, choice, d))
            choice[d] = 0;
}

nas_status_t nas_arch_create(nas_arch_t **out, nas_space_t *space)
{
    if (!out)
        return NAS_E_INVAL;
    *out = NULL;
    if (!space)
        return NAS_E_INVAL;
    if (!space->built)
        return nas__space_fail(space, NAS_E_STATE, NULL, "nas_arch_create: the space is not built");
    uint32_t n = space->num_dims;
    /* One block: the struct, then the doubles, then the choices. */
    size_t head = (sizeof(nas_arch_t) + sizeof(double) - 1) / sizeof(double) * sizeof(double);
    size_t bytes = head + (size_t)n * (sizeof(double) + sizeof(uint32_t));
    nas_arch_t *a = nas__calloc(space->ctx, 1, bytes);
    if (!a)
        return nas__space_fail(space, NAS_E_NOMEM, NULL, "out of memory creating an arch");
    a->space = space;
    a->value = (double *)(void *)((char *)a + head);
    a->choice = (uint32_t *)(void *)(a->value + n);
    for (uint32_t d = 0; d < n; d++)
        if (space->dims[d].kind == NAS_DIM_FLOAT)
            a->value[d] = space->dims[d].low;
    *out = a;
    return NAS_OK;
}

void nas_arch_destroy(nas_arch_t *arch)
{
    if (arch)
        nas__free(arch->space->ctx, arch);
}

nas_space_t *nas_arch_space(const nas_arch_t *arch)
{
    return arch ? arch->space : NULL;
}

nas_status_t nas_arch_copy(nas_arch_t *dst, const nas_arch_t *src)
{
    if (!dst || !src)
        return NAS_E_INVAL;
    if (dst->space != src->space)
        return nas__space_fail(dst->space, NAS_E_INVAL, NULL, "nas_arch_copy: the archs belong to different spaces");
    if (dst != src) {
        uint32_t n = dst->space->num_dims;
        memcpy(dst->choice, src->choice, n * sizeof *dst->choice);
        memcpy(dst->value, src->value, n * sizeof *dst->value);
    }
    return NAS_OK;
}

static nas_status_t check_dim(const nas_arch_t *arch, uint32_t dim, const char *fn)
{
    if (!arch)
        return NAS_E_INVAL;
    if (dim >= arch->space->num_dims)
        return nas__space_fail(arch->space, NAS_E_RANGE, NULL, "%s: decision %u out of range (the space has %u)", fn,
                               dim, arch->space->num_dims);
    return NAS_OK;
}

nas_status_t nas_arch_get(const nas_arch_t *arch, uint32_t dim, uint32_t *out)
{
    nas_status_t st = check_dim(arch, dim, "nas_arch_get");
    if (st != NAS_OK)
        return st;
    if (!out)
        return NAS_E_INVAL;
    const nas__dim_t *d = &arch->space->dims[dim];
    if (d->kind == NAS_DIM_FLOAT)
        return nas__space_fail(arch->space, NAS_E_INVAL, NULL,
                               "decision '%s' is a FLOAT: read it with nas_arch_get_value()", d->name);
    *out = arch->choice[dim];
    return NAS_OK;
}

nas_status_t nas_arch_set(nas_arch_t *arch, uint32_t dim, uint32_t choice)
{
    nas_status_t st = check_dim(arch, dim, "nas_arch_set");
    if (st != NAS_OK)
        return st;
    nas_space_t *s = arch->space;
    const nas__dim_t *d = &s->dims[dim];
    if (d->kind == NAS_DIM_FLOAT)
        return nas__space_fail(s, NAS_E_INVAL, NULL, "decision '%s' is a FLOAT: set it with nas_arch_set_value()",
                               d->name);
    if (choice >= d->num_choices)
        return nas__space_fail(s, NAS_E_RANGE, NULL, "choice %u of '%s' out of range (%u choices)", choice, d->name,
                               d->num_choices);
    if (choice != 0 && !nas__dim_active(s, arch->choice, dim))
        return nas__space_fail(s, NAS_E_STATE, NULL, "decision '%s' is inactive: set '%s' first", d->name,
                               s->dims[d->parent].name);
    arch->choice[dim] = choice;
    nas__arch_normalize(s, arch->choice);
    return NAS_OK;
}

nas_status_t nas_arch_get_value(const nas_arch_t *arch, uint32_t dim, double *out)
{
    nas_status_t st = check_dim(arch, dim, "nas_arch_get_value");
    if (st != NAS_OK)
        return st;
    if (!out)
        return NAS_E_INVAL;
    const nas_space_t *s = arch->space;
    const nas__dim_t *d = &s->dims[dim];
    uint32_t c = arch->choice[dim];
    switch (d->kind) {
    case NAS_DIM_FLOAT:
        *out = arch->value[dim];
        break;
    case NAS_DIM_INT:
        *out = d->low + c;
        break;
    default: {
        double v = s->labels[d->labels].number[c];
        *out = isnan(v) ? (double)c : v;
    }
    }
    return NAS_OK;
}

nas_status_t nas_arch_set_value(nas_arch_t *arch, uint32_t dim, double value)
{
    nas_status_t st = check_dim(arch, dim, "nas_arch_set_value");
    if (st != NAS_OK)
        return st;
    nas_space_t *s = arch->space;
    const nas__dim_t *d = &s->dims[dim];
    if (d->kind == NAS_DIM_CATEGORICAL) {
        /* A categorical decision accepts the value of one of its numeric labels. */
        const nas__labels_t *L = &s->labels[d->labels];
        for (uint32_t c = 0; c < L->n; c++)
            if (L->number[c] == value)
                return nas_arch_set(arch, dim, c);
        return nas__space_fail(s, NAS_E_RANGE, NULL, "decision '%s' has no choice with the value %g", d->name, value);
    }
    if (!(value >= d->low && value <= d->high))
        return nas__space_fail(s, NAS_E_RANGE, NULL, "value %g of '%s' is outside [%g, %g]", value, d->name, d->low,
                               d->high);
    if (d->kind == NAS_DIM_INT) {
        if (value != floor(value))
            return nas__space_fail(s, NAS_E_RANGE, NULL, "value %g of the integer decision '%s' is not an integer",
                                   value, d->name);
        return nas_arch_set(arch, dim, (uint32_t)(value - d->low));
    }
    arch->value[dim] = value == 0 ? 0.0 : value;   /* no -0: equal archs must hash equal */
    return NAS_OK;
}

nas_status_t nas_arch_is_active(const nas_arch_t *arch, uint32_t dim, bool *out)
{
    nas_status_t st = check_dim(arch, dim, "nas_arch_is_active");
    if (st != NAS_OK)
        return st;
    if (!out)
        return NAS_E_INVAL;
    *out = nas__dim_active(arch->space, arch->choice, dim);
    return NAS_OK;
}

bool nas_arch_equal(const nas_arch_t *a, const nas_arch_t *b)
{
    if (!a || !b || a->space != b->space)
        return false;
    const nas_space_t *s = a->space;
    for (uint32_t d = 0; d < s->num_dims; d++) {
        if (s->dims[d].kind == NAS_DIM_FLOAT ? a->value[d] != b->value[d] : a->choice[d] != b->choice[d])
            return false;
    }
    return true;
}

uint64_t nas_arch_hash(const nas_arch_t *arch)
{
    if (!arch)
        return 0;
    const nas_space_t *s = arch->space;
    uint64_t h = nas__mix64(s->num_dims);
    for (uint32_t d = 0; d < s->num_dims; d++) {
        uint64_t v;
        if (s->dims[d].kind == NAS_DIM_FLOAT) {
            double x = arch->value[d];
            memcpy(&v, &x, sizeof v);
        } else {
            v = arch->choice[d];
        }
        h = nas__mix64(h ^ nas__mix64(v + d));
    }
    return h;
}
