/* Supernet paths <-> architecture decisions: the path each mixed node takes for an arch, and the arch
 * derived from architecture weights (semantics: build.h). */
#include "nn/build.h"

#include <math.h>
#include <string.h>

#include "space/space_internal.h"

#define MAXN NAS_SPACE_MAX_NODES

static bool is_none_op(const nas_space_t *s, uint32_t p)
{
    return s->family == NAS_FAMILY_CELL && p < s->cell.num_ops && strcmp(s->cell.ops[p], "none") == 0;
}

static int32_t none_path(const nas_space_t *s)
{
    for (uint32_t p = 0; s->family == NAS_FAMILY_CELL && p < s->cell.num_ops; p++)
        if (is_none_op(s, p))
            return (int32_t)p;
    return -1;
}

nas_status_t nas__supernet_paths(const nas__supernet_map_t *map, const nas_arch_t *arch, uint32_t *paths,
                                 char *errbuf)
{
    if (!map || !arch || !paths)
        return nas__fail(errbuf, NAS_E_INVAL, "nas__supernet_paths: NULL argument");
    const nas_space_t *s = map->space;
    if (arch->space != s)
        return nas__fail(errbuf, NAS_E_INVAL, "nas__supernet_paths: the arch belongs to another space");
    const uint32_t *ch = arch->choice;
    for (uint32_t m = 0; m < map->num_mixed; m++) {
        const nas__mixed_map_t *e = &map->mixed[m];
        if (e->role == NAS__MIXED_CELL_EDGE) {
            paths[m] = ch[e->dim];
        } else if (e->role == NAS__MIXED_CHAIN_LAYER) {
            bool on = nas__dim_active(s, ch, (uint32_t)e->dim);
            paths[m] = on ? ch[e->dim] : (uint32_t)e->off_path;
        } else {
            uint32_t d = (uint32_t)e->inputs_dim, k = s->cell.inputs_per_node;
            const uint8_t *mem = s->labels[s->dims[d].labels].members + (size_t)ch[d] * k;
            int32_t p = none_path(s);
            for (uint32_t r = 0; r < k; r++)
                if (mem[r] == (uint32_t)e->from)
                    p = (int32_t)ch[d + 1 + r];
            if (p < 0)
                return nas__fail(errbuf, NAS_E_UNSUPPORTED, "edge %d -> %d of cell %d is not picked and the cell "
                                 "ops have no 'none' to stand for its absence", (int)e->from, (int)e->to, (int)e->cell);
            paths[m] = (uint32_t)p;
        }
    }
    return NAS_OK;
}

/* Arg max of w[0..n) skipping `skip` (-1: none) and, with no_none, the none op; ties: the lower index. */
static uint32_t argmax(const nas_space_t *s, const double *w, uint32_t n, int32_t skip, bool no_none)
{
    int32_t best = -1;
    for (uint32_t p = 0; p < n; p++) {
        if ((int32_t)p == skip || (no_none && is_none_op(s, p)))
            continue;
        if (best < 0 || w[p] > w[best])
            best = (int32_t)p;
    }
    return best < 0 ? 0 : (uint32_t)best;
}

typedef struct derive {
    const nas_space_t *s;
    const nas__supernet_map_t *map;
    int32_t *off;       /* per arch dim (CELL_EDGE, CHAIN_LAYER): offset of its sums in acc, or -1 */
    int32_t *off_path;  /* per arch dim: the layer's off path */
    int32_t *pick;      /* per (type, to, from): offset in acc, or -1 */
    int32_t *pick_dim;  /* per (type, to): the INPUTS decision, or -1 */
    double *acc;
} derive_t;

static void derive_chain(const derive_t *dv, uint32_t *ch)
{
    const nas_space_t *s = dv->s;
    for (uint32_t si = 0; si < s->num_stages; si++) {
        const nas__stage_t *sg = &s->stages[si];
        uint32_t max = sg->depths[sg->num_depths - 1], keep = 0, best[NAS_SPACE_MAX_DIMS];
        if (max > NAS_SPACE_MAX_DIMS || dv->off[sg->first_layer] < 0)
            continue;
        for (uint32_t l = 0; l < max; l++) {
            uint32_t d = sg->first_layer + l;
            uint32_t n = s->dims[d].num_choices + (dv->off_path[d] == (int32_t)s->dims[d].num_choices);
            best[l] = argmax(s, dv->acc + dv->off[d], n, -1, false);
            if ((int32_t)best[l] != dv->off_path[d])
                keep = l + 1;
        }
        uint32_t depth = max;
        if (sg->depth_dim >= 0) {
            uint32_t c = 0;
            while (sg->depths[c] < keep)
                c++;
            ch[sg->depth_dim] = c;
            depth = sg->depths[c];
        }
        for (uint32_t l = 0; l < depth; l++) {
            uint32_t d = sg->first_layer + l, b = best[l];
            if (b >= s->dims[d].num_choices)    /* voted off but kept: the best real op */
                b = argmax(s, dv->acc + dv->off[d], s->dims[d].num_choices, -1, false);
            ch[d] = b;
        }
    }
}

static void derive_pick(const derive_t *dv, uint32_t *ch)
{
    const nas_space_t *s = dv->s;
    const nas__cell_t *c = &s->cell;
    uint32_t types = c->num_types ? c->num_types : 1, total = c->num_inputs + c->num_nodes, k = c->inputs_per_node;
    for (uint32_t t = 0; t < types; t++) {
        for (uint32_t i = c->num_inputs; i < total; i++) {
            int32_t d = dv->pick_dim[t * MAXN + i];
            if (d < 0)
                continue;
            double strength[MAXN];
            uint32_t op[MAXN];
            bool taken[MAXN] = { false };
            for (uint32_t j = 0; j < i; j++) {
                int32_t o = dv->pick[(t * MAXN + i) * MAXN + j];
                op[j] = o < 0 ? 0 : argmax(s, dv->acc + o, c->num_ops, -1, true);
                strength[j] = o < 0 ? -INFINITY : dv->acc[o + (int32_t)op[j]];
            }
            for (uint32_t r = 0; r < k; r++) {
                int32_t best = -1;
                for (uint32_t j = 0; j < i; j++)
                    if (!taken[j] && (best < 0 || strength[j] > strength[best]))
                        best = (int32_t)j;
                taken[best] = true;
            }
            const nas__labels_t *L = &s->labels[s->dims[d].labels];
            for (uint32_t row = 0; row < L->n; row++) {
                const uint8_t *mem = L->members + (size_t)row * k;
                bool match = true;
                for (uint32_t r = 0; r < k; r++)
                    match = match && taken[mem[r]];
                if (!match)
                    continue;
                ch[d] = row;
                for (uint32_t r = 0; r < k; r++)
                    ch[d + 1 + r] = op[mem[r]];
                break;
            }
        }
    }
}

nas_status_t nas__supernet_derive(const nas__supernet_map_t *map, const float *weights, nas_arch_t *arch,
                                  char *errbuf)
{
    if (!map || !weights || !arch)
        return nas__fail(errbuf, NAS_E_INVAL, "nas__supernet_derive: NULL argument");
    const nas_space_t *s = map->space;
    if (arch->space != s)
        return nas__fail(errbuf, NAS_E_INVAL, "nas__supernet_derive: the arch belongs to another space");
    for (uint32_t i = 0; i < map->total_paths; i++)
        if (isnan(weights[i]))
            return nas__fail(errbuf, NAS_E_INVAL, "nas__supernet_derive: weight %u is NaN", i);
    nas_context_t *ctx = map->ctx;
    nas_status_t st = NAS_OK;
    uint32_t nd = s->num_dims, np = NAS__MAX_CELL_TYPES * MAXN * MAXN;
    derive_t dv = { s, map, nas__malloc(ctx, nd * sizeof(int32_t)), nas__malloc(ctx, nd * sizeof(int32_t)),
                    nas__malloc(ctx, np * sizeof(int32_t)), nas__malloc(ctx, NAS__MAX_CELL_TYPES * MAXN * sizeof(int32_t)),
                    nas__calloc(ctx, map->total_paths + 1, sizeof(double)) };
    uint32_t *ch = nas__malloc(ctx, (nd + 1) * sizeof *ch);
    if (!dv.off || !dv.off_path || !dv.pick || !dv.pick_dim || !dv.acc || !ch) {
        st = nas__fail(errbuf, NAS_E_NOMEM, "out of memory deriving an architecture");
        goto out_free;
    }
    memset(dv.off, 0xff, nd * sizeof(int32_t));
    memset(dv.off_path, 0xff, nd * sizeof(int32_t));
    memset(dv.pick, 0xff, np * sizeof(int32_t));
    memset(dv.pick_dim, 0xff, NAS__MAX_CELL_TYPES * MAXN * sizeof(int32_t));
    /* Sum the weights of the mixed nodes of one decision (or one edge of one cell type). */
    int32_t used = 0;
    const float *w = weights;
    for (uint32_t m = 0; m < map->num_mixed; w += map->mixed[m].n_paths, m++) {
        const nas__mixed_map_t *e = &map->mixed[m];
        int32_t *slot = e->role == NAS__MIXED_CELL_PICK ? &dv.pick[((uint32_t)e->cell_type * MAXN + (uint32_t)e->to) * MAXN +
                                                                  (uint32_t)e->from]
                                                        : &dv.off[e->dim];
        if (*slot < 0) {
            *slot = used;
            used += (int32_t)e->n_paths;
        }
        if (e->role == NAS__MIXED_CELL_PICK)
            dv.pick_dim[(uint32_t)e->cell_type * MAXN + (uint32_t)e->to] = e->inputs_dim;
        else
            dv.off_path[e->dim] = e->off_path;
        for (uint32_t p = 0; p < e->n_paths; p++)
            dv.acc[*slot + (int32_t)p] += w[p];
    }
    memcpy(ch, arch->choice, nd * sizeof *ch);
    for (uint32_t d = 0; d < nd; d++)
        if (dv.off[d] >= 0 && s->family == NAS_FAMILY_CELL)
            ch[d] = argmax(s, dv.acc + dv.off[d], s->dims[d].num_choices, -1, false);
    if (s->family == NAS_FAMILY_CHAIN)
        derive_chain(&dv, ch);
    else
        derive_pick(&dv, ch);
    nas__arch_normalize(s, ch);
    memcpy(arch->choice, ch, nd * sizeof *ch);
out_free:
    nas__free(ctx, ch);
    nas__free(ctx, dv.acc);
    nas__free(ctx, dv.pick_dim);
    nas__free(ctx, dv.pick);
    nas__free(ctx, dv.off_path);
    nas__free(ctx, dv.off);
    return st;
}
