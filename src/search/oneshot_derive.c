/* The one-shot derive: per-path weights to an architecture, with the none rule and the skip guard. */
#include "search/oneshot.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Derive                                                                  */

/* Whether mixed nodes a and b stand for the same decision (one per cell of a type). */
bool nas__oneshot_same_decision(const nas__mixed_map_t *a, const nas__mixed_map_t *b)
{
    if (a->role != b->role)
        return false;
    if (a->role == NAS__MIXED_CELL_EDGE)
        return a->dim == b->dim;
    if (a->role == NAS__MIXED_CELL_PICK)
        return a->cell_type == b->cell_type && a->to == b->to && a->from == b->from;
    return false;
}

/* Path index of the op `label` in mixed node m (cells), or -1. */
static int32_t op_path(const nas__supernet_map_t *map, uint32_t m, const char *label)
{
    const nas__mixed_map_t *mm = &map->mixed[m];
    int32_t dim = mm->role == NAS__MIXED_CELL_EDGE ? mm->dim : mm->role == NAS__MIXED_CELL_PICK ? mm->inputs_dim + 1 : -1;
    for (uint32_t p = 0; dim >= 0 && p < mm->n_paths; p++) {
        const char *l = NULL;
        if (nas_space_dim_label(map->space, (uint32_t)dim, p, &l) == NAS_OK && l && strcmp(l, label) == 0)
            return (int32_t)p;
    }
    return -1;
}

static int32_t skip_path(const nas__supernet_map_t *map, uint32_t m)
{
    return op_path(map, m, "skip_connect");
}

/* Offset of mixed node m's paths in a total_paths array. */
static uint32_t path_pos(const nas__supernet_map_t *map, uint32_t m)
{
    uint32_t pos = 0;
    for (uint32_t i = 0; i < m; i++)
        pos += map->mixed[i].n_paths;
    return pos;
}

/* The skip edge to drop (the weakest skip of the first cell over max_skip), or -1 when none. */
static int32_t weakest_extra_skip(const nas__supernet_map_t *map, const uint32_t *paths, const float *w,
                                  uint32_t max_skip)
{
    for (uint32_t m = 0; m < map->num_mixed; m++) {
        int32_t sp = skip_path(map, m);
        if (sp < 0 || paths[m] != (uint32_t)sp)
            continue;
        uint32_t count = 0;
        int32_t weakest = -1;
        float wmin = INFINITY;
        for (uint32_t k = m; k < map->num_mixed; k++) {
            int32_t sk = skip_path(map, k);
            if (map->mixed[k].cell != map->mixed[m].cell || sk < 0 || paths[k] != (uint32_t)sk)
                continue;
            count++;
            float v = w[path_pos(map, k) + (uint32_t)sk];
            if (v < wmin) {
                wmin = v;
                weakest = (int32_t)k;
            }
        }
        if (count > max_skip)
            return weakest;
    }
    return -1;
}

nas_status_t nas__oneshot_derive(const nas__supernet_map_t *map, float *weights, uint32_t max_skip, bool keep_none,
                                 nas_arch_t *arch, char *errbuf)
{
    for (uint32_t m = 0, pos = 0; !keep_none && m < map->num_mixed; pos += map->mixed[m].n_paths, m++) {
        int32_t np = op_path(map, m, "none");
        if (np >= 0)
            weights[pos + (uint32_t)np] = 0.0f;
    }
    nas_status_t st = nas__supernet_derive(map, weights, arch, errbuf);
    if (st != NAS_OK || max_skip == UINT32_MAX || map->num_mixed == 0 ||
        map->mixed[0].role == NAS__MIXED_CHAIN_LAYER)
        return st;
    uint32_t *paths = nas__calloc(map->ctx, map->num_mixed, sizeof *paths);
    if (!paths)
        return nas__fail(errbuf, NAS_E_NOMEM, "derive: out of memory");
    for (uint32_t iter = 0; iter <= map->total_paths; iter++) {
        /* Archs a supernet cannot express (no none op for unpicked inputs) keep the plain derive. */
        if (nas__supernet_paths(map, arch, paths, errbuf) != NAS_OK) {
            errbuf[0] = '\0';
            break;
        }
        int32_t k = weakest_extra_skip(map, paths, weights, max_skip);
        if (k < 0)
            break;
        int32_t sk = skip_path(map, (uint32_t)k);
        for (uint32_t m = 0; m < map->num_mixed; m++)
            if (nas__oneshot_same_decision(&map->mixed[m], &map->mixed[k]))
                weights[path_pos(map, m) + (uint32_t)sk] = 0.0f;
        if ((st = nas__supernet_derive(map, weights, arch, errbuf)) != NAS_OK)
            break;
    }
    nas__free(map->ctx, paths);
    return st;
}

/* softmax(alpha) of every mixed node, in the map's total_paths layout. */
