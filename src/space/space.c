/* Queries on a built space: names, decisions, labels, exact sizes. */
#include "space/space_internal.h"

#include <string.h>

static nas_status_t need_built(const nas_space_t *space, const char *fn)
{
    if (!space)
        return NAS_E_INVAL;
    if (!space->built)
        return nas__space_fail((nas_space_t *)space, NAS_E_STATE, NULL, "%s: the space is not built", fn);
    return NAS_OK;
}

const char *nas_space_name(const nas_space_t *space)
{
    return space ? space->name : "";
}

int32_t nas_space_family(const nas_space_t *space)
{
    return space ? space->family : NAS_FAMILY_NONE;
}

uint32_t nas_space_num_dims(const nas_space_t *space)
{
    return space && space->built ? space->num_dims : 0;
}

uint32_t nas_space_num_arch_dims(const nas_space_t *space)
{
    return space && space->built ? space->num_arch_dims : 0;
}

nas_status_t nas_space_dim_info(const nas_space_t *space, uint32_t dim, nas_dim_info_t *out)
{
    nas_status_t st = need_built(space, "nas_space_dim_info");
    if (st != NAS_OK)
        return st;
    if (!out || out->struct_size < sizeof(size_t))
        return nas__space_fail((nas_space_t *)space, NAS_E_INVAL, NULL, "nas_space_dim_info: bad out or struct_size");
    if (dim >= space->num_dims)
        return nas__space_fail((nas_space_t *)space, NAS_E_RANGE, NULL, "decision %u out of range (the space has %u)",
                               dim, space->num_dims);
    const nas__dim_t *d = &space->dims[dim];
    nas_dim_info_t info;
    memset(&info, 0, sizeof info);
    info.struct_size = out->struct_size;
    info.name = d->name;
    info.kind = d->kind;
    info.role = d->role;
    info.num_choices = d->num_choices;
    info.low = d->low;
    info.high = d->high;
    info.log_scale = d->log_scale;
    info.parent = d->parent;
    info.parent_min = d->parent_min;
    /* Write only what the caller's struct covers. */
    memcpy(out, &info, out->struct_size < sizeof info ? out->struct_size : sizeof info);
    return NAS_OK;
}

nas_status_t nas_space_dim_label(const nas_space_t *space, uint32_t dim, uint32_t choice, const char **out)
{
    nas_status_t st = need_built(space, "nas_space_dim_label");
    if (st != NAS_OK)
        return st;
    if (!out)
        return NAS_E_INVAL;
    if (dim >= space->num_dims)
        return nas__space_fail((nas_space_t *)space, NAS_E_RANGE, NULL, "decision %u out of range (the space has %u)",
                               dim, space->num_dims);
    const nas__dim_t *d = &space->dims[dim];
    if (d->kind != NAS_DIM_CATEGORICAL)
        return nas__space_fail((nas_space_t *)space, NAS_E_INVAL, NULL, "decision '%s' is not categorical", d->name);
    if (choice >= d->num_choices)
        return nas__space_fail((nas_space_t *)space, NAS_E_RANGE, NULL, "choice %u of '%s' out of range (%u choices)",
                               choice, d->name, d->num_choices);
    *out = nas__dim_label(space, dim, choice);
    return NAS_OK;
}

nas_status_t nas_space_find_dim(const nas_space_t *space, const char *name, uint32_t *out)
{
    nas_status_t st = need_built(space, "nas_space_find_dim");
    if (st != NAS_OK)
        return st;
    if (!name || !out)
        return NAS_E_INVAL;
    for (uint32_t i = 0; i < space->num_dims; i++) {
        if (strcmp(space->dims[i].name, name) == 0) {
            *out = i;
            return NAS_OK;
        }
    }
    return nas__space_fail((nas_space_t *)space, NAS_E_NOT_FOUND, NULL, "no decision named '%.128s'", name);
}

static const char *size_string(const nas_space_t *space, int32_t what)
{
    if (what == NAS_SIZE_ARCH)
        return space->size_arch;
    if (what == NAS_SIZE_ALL)
        return space->size_all;
    return NULL;
}

nas_status_t nas_space_size(const nas_space_t *space, int32_t what, char *buf, size_t cap, size_t *len)
{
    nas_status_t st = need_built(space, "nas_space_size");
    if (st != NAS_OK)
        return st;
    const char *s = size_string(space, what);
    if (!s)
        return nas__space_fail((nas_space_t *)space, NAS_E_INVAL, NULL, "nas_space_size: unknown what %d", (int)what);
    size_t n = strlen(s);
    if (len)
        *len = n;
    if (!buf || cap < n + 1) {
        if (buf && cap)
            buf[0] = '\0';
        return nas__space_fail((nas_space_t *)space, NAS_E_RANGE, NULL,
                               "nas_space_size: the size has %zu digits, the buffer holds %zu bytes", n, cap);
    }
    memcpy(buf, s, n + 1);
    return NAS_OK;
}

nas_status_t nas_space_size_u64(const nas_space_t *space, int32_t what, uint64_t *out)
{
    nas_status_t st = need_built(space, "nas_space_size_u64");
    if (st != NAS_OK)
        return st;
    const char *s = size_string(space, what);
    if (!s || !out)
        return nas__space_fail((nas_space_t *)space, NAS_E_INVAL, NULL, "nas_space_size_u64: bad argument");
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return nas__space_fail((nas_space_t *)space, NAS_E_RANGE, NULL,
                                   "the size of the space (%s) does not fit in 64 bits", s);
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return NAS_OK;
}

nas_status_t nas_space_grid_size(const nas_space_t *space, uint64_t *out)
{
    nas_status_t st = need_built(space, "nas_space_grid_size");
    if (st != NAS_OK)
        return st;
    if (!out)
        return NAS_E_INVAL;
    if (!space->grid_ok)
        return nas__space_fail((nas_space_t *)space, NAS_E_RANGE, NULL,
                               "the grid of the space has more than 2^64 points");
    *out = space->grid_size;
    return NAS_OK;
}

nas_context_t *nas__space_context(const nas_space_t *space)
{
    return space ? space->ctx : NULL;
}

bool nas__space_is_built(const nas_space_t *space)
{
    return space && space->built;
}
