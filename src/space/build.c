/* nas_space_build(): turn the copied spec into decisions (dims), shared label lists, groups and sizes. */
#include "space/space_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define LOC(sec, item, key) (&(nas__locus_t){ (sec), (item), (key), -1, NULL })

void nas__space_free_built(nas_space_t *s)
{
    nas_context_t *ctx = s->ctx;
    for (uint32_t i = 0; i < s->num_dims; i++)
        nas__free(ctx, s->dims[i].name);
    nas__free(ctx, s->dims);
    for (uint32_t i = 0; i < s->num_labels; i++) {
        nas__free(ctx, s->labels[i].label);
        nas__free(ctx, s->labels[i].number);
        nas__free(ctx, s->labels[i].text);
        nas__free(ctx, s->labels[i].members);
    }
    nas__free(ctx, s->labels);
    nas__free(ctx, s->groups);
    nas__free(ctx, s->cell_first_dim);
    nas__free(ctx, s->node_labels);
    nas__free(ctx, s->size_arch);
    nas__free(ctx, s->size_all);
    s->dims = NULL;
    s->labels = NULL;
    s->groups = NULL;
    s->cell_first_dim = NULL;
    s->node_labels = NULL;
    s->size_arch = s->size_all = NULL;
    s->num_dims = s->num_arch_dims = s->num_labels = s->cap_labels = s->num_groups = 0;
    s->width_dim = -1;
    s->cell_ops_labels = -1;
    s->grid_ok = false;
    s->grid_size = 0;
}

static nas_status_t nomem(nas_space_t *s)
{
    return nas__space_fail(s, NAS_E_NOMEM, NULL, "out of memory building the space");
}

/*
 * Add a label list of n entries: `borrow` points at strings the spec owns, or `text` holds n
 * NUL-terminated strings back to back (owned by the list from now on, also on failure).
 */
static nas_status_t add_labels(nas_space_t *s, uint32_t n, const char *const *borrow, char *text, int32_t *out)
{
    nas_context_t *ctx = s->ctx;
    if (!nas__grow(ctx, (void **)&s->labels, &s->cap_labels, s->num_labels + 1, sizeof *s->labels)) {
        nas__free(ctx, text);
        return nomem(s);
    }
    nas__labels_t *L = &s->labels[s->num_labels];
    memset(L, 0, sizeof *L);
    L->text = text;
    s->num_labels++;   /* from here on the list is freed with the space */
    L->label = nas__calloc(ctx, n, sizeof *L->label);
    L->number = nas__calloc(ctx, n, sizeof *L->number);
    if (!L->label || !L->number)
        return nomem(s);
    L->n = n;
    const char *p = text;
    for (uint32_t i = 0; i < n; i++) {
        if (borrow) {
            L->label[i] = borrow[i];
        } else {
            L->label[i] = p;
            p += strlen(p) + 1;
        }
        double v;
        L->number[i] = nas__parse_double(L->label[i], &v) ? v : NAN;
    }
    *out = (int32_t)(s->num_labels - 1);
    return NAS_OK;
}

static uint64_t binomial(uint32_t n, uint32_t k)
{
    uint64_t r = 1;
    for (uint32_t i = 1; i <= k; i++)
        r = r * (n - k + i) / i;   /* exact at every step; n <= 32 keeps it small */
    return r;
}

/* INPUTS labels of a node with `avail` earlier nodes picking k: every k-subset, lexicographic. */
static nas_status_t add_input_sets(nas_space_t *s, uint32_t avail, uint32_t k, int32_t *out)
{
    uint32_t n = (uint32_t)binomial(avail, k);
    size_t row = (size_t)k * 3;   /* "ab," per member */
    char *text = nas__malloc(s->ctx, n * row + 1);
    uint8_t *members = nas__malloc(s->ctx, (size_t)n * k);
    if (!text || !members) {
        nas__free(s->ctx, text);
        nas__free(s->ctx, members);
        return nomem(s);
    }
    uint32_t c[NAS_SPACE_MAX_NODES];
    for (uint32_t j = 0; j < k; j++)
        c[j] = j;
    char *p = text;
    for (uint32_t r = 0; r < n; r++) {
        for (uint32_t j = 0; j < k; j++) {
            members[(size_t)r * k + j] = (uint8_t)c[j];
            p += sprintf(p, j ? ",%u" : "%u", c[j]);
        }
        *p++ = '\0';
        /* Next subset: bump the rightmost member that can move, reset the ones after it. */
        uint32_t j = k;
        while (j > 0 && c[j - 1] == avail - k + j - 1)
            j--;
        if (j == 0)
            break;
        c[j - 1]++;
        for (uint32_t t = j; t < k; t++)
            c[t] = c[t - 1] + 1;
    }
    nas_status_t st = add_labels(s, n, NULL, text, out);
    if (st != NAS_OK) {
        nas__free(s->ctx, members);
        return st;
    }
    s->labels[*out].members = members;
    s->labels[*out].k = k;
    return NAS_OK;
}

/* Append a dim (the name is formatted here). */
static nas_status_t add_dim(nas_space_t *s, nas__dim_t proto, const char *fmt, ...) NAS_PRINTF(3, 4);
static nas_status_t add_dim(nas_space_t *s, nas__dim_t proto, const char *fmt, ...)
{
    char buf[NAS__MAX_NAME + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!(proto.name = nas__strdup(s->ctx, buf)))
        return nomem(s);
    if (proto.kind == NAS_DIM_CATEGORICAL)
        proto.num_choices = s->labels[proto.labels].n;
    if (proto.kind != NAS_DIM_FLOAT)
        proto.grid_points = proto.num_choices;
    if (proto.kind == NAS_DIM_CATEGORICAL) {
        proto.low = 0;
        proto.high = proto.num_choices - 1.0;
    }
    s->dims[s->num_dims++] = proto;
    return NAS_OK;
}

static nas__dim_t cat_dim(int32_t role, int32_t labels, uint32_t group)
{
    nas__dim_t d;
    memset(&d, 0, sizeof d);
    d.kind = NAS_DIM_CATEGORICAL;
    d.role = role;
    d.parent = -1;
    d.labels = labels;
    d.group = group;
    return d;
}

static uint32_t new_group(nas_space_t *s, int32_t selector)
{
    nas__group_t *g = &s->groups[s->num_groups];
    memset(g, 0, sizeof *g);
    g->first = s->num_dims;
    g->selector = selector;
    return s->num_groups++;
}

static void close_group(nas_space_t *s, uint32_t g)
{
    s->groups[g].count = s->num_dims - s->groups[g].first;
}

static nas_status_t build_cell(nas_space_t *s)
{
    const nas__cell_t *c = &s->cell;
    uint32_t types = c->num_types ? c->num_types : 1, total = c->num_inputs + c->num_nodes;
    nas_status_t st = add_labels(s, c->num_ops, (const char *const *)c->ops, NULL, &s->cell_ops_labels);
    if (st != NAS_OK)
        return st;
    if (!(s->cell_first_dim = nas__calloc(s->ctx, types, sizeof *s->cell_first_dim)) ||
        !(s->node_labels = nas__calloc(s->ctx, total, sizeof *s->node_labels)))
        return nomem(s);
    for (uint32_t i = 0; i < total; i++)
        s->node_labels[i] = -1;
    uint32_t k = c->inputs_per_node;
    if (k > 0) {
        for (uint32_t i = c->num_inputs; i < total; i++) {
            uint64_t n = binomial(i, k);
            if (n > NAS_SPACE_MAX_CHOICES)
                return nas__space_fail(s, NAS_E_RANGE, LOC(NAS__SEC_CELL, -1, "num_nodes"),
                                       "node %u picks %u of %u earlier nodes: %llu input sets, over the limit of %d",
                                       i, k, i, (unsigned long long)n, NAS_SPACE_MAX_CHOICES);
            if ((st = add_input_sets(s, i, k, &s->node_labels[i])) != NAS_OK)
                return st;
        }
    }
    for (uint32_t t = 0; t < types; t++) {
        const char *prefix = c->num_types ? c->types[t] : "cell";
        s->cell_first_dim[t] = s->num_dims;
        for (uint32_t i = c->num_inputs; i < total; i++) {
            if (k == 0) {
                for (uint32_t j = 0; j < i; j++) {
                    uint32_t g = new_group(s, -1);
                    if ((st = add_dim(s, cat_dim(NAS_ROLE_OP, s->cell_ops_labels, g), "%s/edge_%u_%u", prefix, i,
                                      j)) != NAS_OK)
                        return st;
                    close_group(s, g);
                }
                continue;
            }
            uint32_t g = new_group(s, -1);
            if ((st = add_dim(s, cat_dim(NAS_ROLE_INPUTS, s->node_labels[i], g), "%s/node%u/inputs", prefix,
                              i)) != NAS_OK)
                return st;
            for (uint32_t j = 0; j < k; j++)
                if ((st = add_dim(s, cat_dim(NAS_ROLE_OP, s->cell_ops_labels, g), "%s/node%u/op%u", prefix, i,
                                  j)) != NAS_OK)
                    return st;
            close_group(s, g);
        }
    }
    return NAS_OK;
}

static nas_status_t build_chain(nas_space_t *s)
{
    nas__chain_t *c = &s->chain;
    nas_status_t st;
    int32_t all_ops, first_ops;
    if ((st = add_labels(s, c->num_ops, (const char *const *)c->ops, NULL, &all_ops)) != NAS_OK)
        return st;
    /* The first layer of a stage has every op but skip. */
    const char *firsts[NAS_SPACE_MAX_CHOICES];
    uint32_t nf = 0;
    for (uint32_t i = 0; i < c->num_ops; i++)
        if (strcmp(c->ops[i], "skip") != 0)
            firsts[nf++] = c->ops[i];
    if ((st = add_labels(s, nf, firsts, NULL, &first_ops)) != NAS_OK)
        return st;

    if (c->num_widths > 1) {
        char *text = nas__malloc(s->ctx, (size_t)c->num_widths * 40);
        if (!text)
            return nomem(s);
        char *p = text;
        for (uint32_t i = 0; i < c->num_widths; i++)
            p += nas__fmt_double(p, 40, c->widths[i]) + 1;
        int32_t wl;
        if ((st = add_labels(s, c->num_widths, NULL, text, &wl)) != NAS_OK)
            return st;
        uint32_t g = new_group(s, -1);
        s->width_dim = (int32_t)s->num_dims;
        if ((st = add_dim(s, cat_dim(NAS_ROLE_WIDTH, wl, g), "width")) != NAS_OK)
            return st;
        close_group(s, g);
    }
    for (uint32_t si = 0; si < s->num_stages; si++) {
        nas__stage_t *sg = &s->stages[si];
        uint32_t max = sg->depths[sg->num_depths - 1];
        sg->first_dim = s->num_dims;
        sg->depth_dim = -1;
        uint32_t g = 0;
        bool grouped = sg->num_depths > 1;
        if (grouped) {
            char *text = nas__malloc(s->ctx, (size_t)sg->num_depths * 12);
            if (!text)
                return nomem(s);
            char *p = text;
            for (uint32_t i = 0; i < sg->num_depths; i++)
                p += sprintf(p, "%u", sg->depths[i]) + 1;
            int32_t dl;
            if ((st = add_labels(s, sg->num_depths, NULL, text, &dl)) != NAS_OK)
                return st;
            g = new_group(s, (int32_t)s->num_dims);
            sg->depth_dim = (int32_t)s->num_dims;
            if ((st = add_dim(s, cat_dim(NAS_ROLE_DEPTH, dl, g), "stage%u/depth", si)) != NAS_OK)
                return st;
        }
        sg->first_layer = s->num_dims;
        uint32_t k = 0;   /* first depth index whose depth exceeds the layer */
        for (uint32_t l = 0; l < max; l++) {
            while (sg->depths[k] <= l)
                k++;
            uint32_t lg = grouped ? g : new_group(s, -1);
            nas__dim_t d = cat_dim(NAS_ROLE_OP, l == 0 ? first_ops : all_ops, lg);
            if (grouped && k > 0) {
                d.parent = sg->depth_dim;
                d.parent_min = (int32_t)k;
            }
            if ((st = add_dim(s, d, "stage%u/layer%u", si, l)) != NAS_OK)
                return st;
            if (!grouped)
                close_group(s, lg);
        }
        if (grouped)
            close_group(s, g);
    }
    return NAS_OK;
}

static nas_status_t build_hparams(nas_space_t *s)
{
    nas_status_t st;
    for (uint32_t i = 0; i < s->num_hparams; i++) {
        const nas__hparam_t *h = &s->hparams[i];
        for (uint32_t d = 0; d < s->num_dims; d++)
            if (strcmp(s->dims[d].name, h->name) == 0)
                return nas__space_fail(s, NAS_E_SPEC, LOC(NAS__SEC_HPARAM, (int32_t)i, "name"),
                                       "hyperparameter name '%s' is taken by an architecture decision", h->name);
        uint32_t g = new_group(s, -1);
        nas__dim_t d;
        memset(&d, 0, sizeof d);
        d.kind = h->kind;
        d.role = NAS_ROLE_HPARAM;
        d.parent = -1;
        d.labels = -1;
        d.group = g;
        if (h->kind == NAS_DIM_CATEGORICAL) {
            if ((st = add_labels(s, h->num_choices, (const char *const *)h->choices, NULL, &d.labels)) != NAS_OK)
                return st;
        } else {
            d.low = h->low;
            d.high = h->high;
            d.log_scale = h->log_scale;
            if (h->kind == NAS_DIM_INT)
                d.num_choices = (uint32_t)(h->high - h->low + 1);
            else
                d.grid_points = h->low == h->high ? 1 : h->grid_points;
        }
        if ((st = add_dim(s, d, "%s", h->name)) != NAS_OK)
            return st;
        close_group(s, g);
    }
    return NAS_OK;
}

nas_status_t nas__space_build_dims(nas_space_t *s)
{
    /* Count first, so a huge spec is refused before anything is allocated. */
    uint64_t n = s->num_hparams;
    if (s->has_cell) {
        const nas__cell_t *c = &s->cell;
        uint64_t per = 0;
        for (uint32_t i = c->num_inputs; i < c->num_inputs + c->num_nodes; i++)
            per += c->inputs_per_node ? 1 + c->inputs_per_node : i;
        n += per * (c->num_types ? c->num_types : 1);
    }
    if (s->has_chain) {
        n += s->chain.num_widths > 1;
        for (uint32_t i = 0; i < s->num_stages; i++)
            n += (s->stages[i].num_depths > 1) + s->stages[i].depths[s->stages[i].num_depths - 1];
    }
    if (n > NAS_SPACE_MAX_DIMS)
        return nas__space_fail(s, NAS_E_RANGE, NULL, "the space has %llu decisions, over the limit of %d",
                               (unsigned long long)n, NAS_SPACE_MAX_DIMS);
    if (!(s->dims = nas__calloc(s->ctx, n, sizeof *s->dims)) ||
        !(s->groups = nas__calloc(s->ctx, n, sizeof *s->groups)))
        return nomem(s);
    nas_status_t st = NAS_OK;
    if (s->has_cell)
        st = build_cell(s);
    else if (s->has_chain)
        st = build_chain(s);
    if (st != NAS_OK)
        return st;
    s->num_arch_dims = s->num_dims;
    return build_hparams(s);
}

/* ---------------------------------------------------------------------- */
/* Sizes                                                                   */

static bool mul_u64(uint64_t *acc, uint64_t v)
{
    if (v && *acc > UINT64_MAX / v)
        return false;
    *acc *= v;
    return true;
}

/* Grid points of one group: a product, or with a selector the sum over its choices of the
 * product over the decisions it makes active. */
static void group_grid(const nas_space_t *s, nas__group_t *g)
{
    bool ovf = false;
    uint64_t total = 0;
    if (g->selector < 0) {
        total = 1;
        for (uint32_t d = g->first; d < g->first + g->count; d++)
            ovf |= !mul_u64(&total, s->dims[d].grid_points);
    } else {
        uint32_t sel = (uint32_t)g->selector;
        uint64_t p = 1;
        for (uint32_t c = 0; c < s->dims[sel].num_choices; c++) {
            for (uint32_t d = g->first; d < g->first + g->count; d++) {
                const nas__dim_t *dim = &s->dims[d];
                if (d != sel && nas__switched_on_at(dim, sel, c))
                    ovf |= !mul_u64(&p, dim->grid_points);
            }
            if (p > UINT64_MAX - total)
                ovf = true;
            total += p;
        }
    }
    g->grid = ovf ? 0 : total;
    g->grid_overflow = ovf;
}

/* Exact number of distinct settings of one group (only called for groups without FLOAT dims). */
static void group_size(const nas_space_t *s, const nas__group_t *g, nas__big_t *out)
{
    if (g->selector < 0) {
        for (uint32_t d = g->first; d < g->first + g->count; d++)
            nas__big_mul_u32(out, s->dims[d].num_choices);
        return;
    }
    uint32_t sel = (uint32_t)g->selector;
    nas__big_t p, sum;
    nas__big_init(&p, s->ctx, 1);
    nas__big_init(&sum, s->ctx, 0);
    for (uint32_t c = 0; c < s->dims[sel].num_choices; c++) {
        for (uint32_t d = g->first; d < g->first + g->count; d++) {
            const nas__dim_t *dim = &s->dims[d];
            if (d != sel && nas__switched_on_at(dim, sel, c))
                nas__big_mul_u32(&p, dim->num_choices);
        }
        nas__big_add(&sum, &p);
    }
    nas__big_mul(out, &sum);
    nas__big_free(&p);
    nas__big_free(&sum);
}

nas_status_t nas__space_compute_sizes(nas_space_t *s)
{
    s->grid_ok = true;
    s->grid_size = 1;
    for (uint32_t i = 0; i < s->num_groups; i++) {
        group_grid(s, &s->groups[i]);
        if (s->groups[i].grid_overflow || !mul_u64(&s->grid_size, s->groups[i].grid))
            s->grid_ok = false;
    }
    if (!s->grid_ok)
        s->grid_size = 0;

    nas__big_t arch;
    nas__big_init(&arch, s->ctx, 1);
    bool inf = false;
    uint32_t i = 0;
    for (; i < s->num_groups && s->groups[i].first < s->num_arch_dims; i++)
        group_size(s, &s->groups[i], &arch);
    s->size_arch = nas__big_to_string(&arch);
    for (; i < s->num_groups; i++) {
        const nas__dim_t *d = &s->dims[s->groups[i].first];
        if (d->kind == NAS_DIM_FLOAT)
            inf |= d->low < d->high;
        else
            group_size(s, &s->groups[i], &arch);
    }
    s->size_all = inf ? nas__strdup(s->ctx, "inf") : nas__big_to_string(&arch);
    nas__big_free(&arch);
    if (!s->size_arch || !s->size_all)
        return nomem(s);
    return NAS_OK;
}

double nas__float_grid_value(const nas__dim_t *d, uint32_t k)
{
    if (d->grid_points <= 1 || k == 0)
        return d->low;
    if (k >= d->grid_points - 1)
        return d->high;
    double t = (double)k / (double)(d->grid_points - 1);
    double v = d->log_scale ? exp(log(d->low) + t * (log(d->high) - log(d->low))) : d->low + t * (d->high - d->low);
    return v < d->low ? d->low : v > d->high ? d->high : v;
}
