/* Space files (docs/spaces.md): YAML -> the C builder API, so files and hosts share one validation
 * path. Builder errors carry a locus that is mapped back to the line and column of the offending value. */
#include "io/yaml_doc.h"
#include "space/space_internal.h"

#include <string.h>

typedef struct loader {
    nas_context_t *ctx;
    const nas__ydoc_t *doc;
    const nas__ynode_t *root, *cell, *macro, *chain, *hparams;
    nas_space_t *space;
} loader_t;

static const char *const top_keys[] = { "name", "description", "family", "cell", "macro", "chain",
                                        "hyperparameters", NULL };
static const char *const cell_keys[] = { "ops", "num_inputs", "num_nodes", "inputs_per_node", "cell_types",
                                         "output", NULL };
static const char *const macro_keys[] = { "stem_channels", "stages", "reduction", NULL };
static const char *const macro_stage_keys[] = { "cells", "channels", NULL };
static const char *const chain_keys[] = { "ops", "stem_channels", "head_channels", "width_multipliers", "stages",
                                          NULL };
static const char *const stage_keys[] = { "channels", "stride", "depths", NULL };
static const char *const hparam_keys[] = { "name", "type", "low", "high", "log_scale", "choices", "grid_points",
                                           NULL };

/* The YAML node a builder error points at (the closest that exists). */
static const nas__ynode_t *locate(const loader_t *L, const nas__locus_t *loc)
{
    const nas__ynode_t *sec = L->root;
    switch (loc->section) {
    case NAS__SEC_CELL: sec = L->cell; break;
    case NAS__SEC_MACRO: sec = L->macro; break;
    case NAS__SEC_CHAIN: sec = L->chain; break;
    case NAS__SEC_STAGE: {
        const nas__ynode_t *stages = nas__ymap_get(L->chain, "stages", NULL);
        sec = stages && stages->kind == NAS__Y_SEQ && loc->item >= 0 && (uint32_t)loc->item < stages->n
                  ? stages->items[loc->item] : L->chain;
        break;
    }
    case NAS__SEC_HPARAM:
        sec = L->hparams && loc->item >= 0 && (uint32_t)loc->item < L->hparams->n ? L->hparams->items[loc->item]
                                                                                   : L->hparams;
        break;
    default: break;
    }
    if (!sec)
        sec = L->root;
    if (!loc->key)
        return sec;
    const nas__ynode_t *v = nas__ymap_get(sec, loc->key, NULL);
    if (!v)
        return sec;
    if (loc->elem >= 0 && v->kind == NAS__Y_SEQ && (uint32_t)loc->elem < v->n)
        v = v->items[loc->elem];
    if (loc->subkey) {
        const nas__ynode_t *sub = nas__ymap_get(v, loc->subkey, NULL);
        if (sub)
            v = sub;
    }
    return v;
}

/* A builder call failed: the space's message, at the position of its locus, into the context. */
static nas_status_t builder_fail(const loader_t *L, nas_status_t st)
{
    if (st == NAS_E_NOMEM)
        return nas__ctx_fail(L->ctx, st, "%s: %s", L->doc->origin, nas_space_errmsg(L->space));
    return nas__yfail(L->doc, locate(L, &L->space->locus), st, "%s", nas_space_errmsg(L->space));
}

/* A list of strings (pointers into the tree), allocated through the context. */
static nas_status_t read_strings(const loader_t *L, const nas__ynode_t *node, const char *what, const char ***out,
                                 uint32_t *n)
{
    *out = NULL;
    *n = 0;
    nas_status_t st = nas__yexpect_seq(L->doc, node, what);
    if (st != NAS_OK)
        return st;
    if (node->n > NAS_SPACE_MAX_CHOICES)
        return nas__yfail(L->doc, node, NAS_E_RANGE, "%s has %u entries, over the limit of %d", what, node->n,
                          NAS_SPACE_MAX_CHOICES);
    const char **v = nas__calloc(L->ctx, node->n ? node->n : 1, sizeof *v);
    if (!v)
        return nas__ctx_fail(L->ctx, NAS_E_NOMEM, "%s: out of memory", L->doc->origin);
    for (uint32_t i = 0; i < node->n; i++) {
        if ((st = nas__yread_str(L->doc, node->items[i], what, &v[i])) != NAS_OK) {
            nas__free(L->ctx, v);
            return st;
        }
    }
    *out = v;
    *n = node->n;
    return NAS_OK;
}

/* Optional integer key: keeps *out when absent. */
static nas_status_t opt_int(const loader_t *L, const nas__ynode_t *map, const char *key, const char *what,
                            int64_t lo, int64_t hi, int64_t *out)
{
    const nas__ynode_t *v = nas__ymap_get(map, key, NULL);
    return v ? nas__yread_int(L->doc, v, what, lo, hi, out) : NAS_OK;
}

static nas_status_t required(const loader_t *L, const nas__ynode_t *map, const char *key, const char *what)
{
    if (nas__ymap_get(map, key, NULL))
        return NAS_OK;
    return nas__yfail(L->doc, map, NAS_E_SPEC, "%s needs the key '%s'", what, key);
}

/* One word out of a list of choices. */
static nas_status_t read_enum(const loader_t *L, const nas__ynode_t *node, const char *what,
                              const char *const *words, int32_t *out)
{
    const char *s;
    nas_status_t st = nas__yread_str(L->doc, node, what, &s);
    if (st != NAS_OK)
        return st;
    for (int32_t i = 0; words[i]; i++) {
        if (strcmp(s, words[i]) == 0) {
            *out = i;
            return NAS_OK;
        }
    }
    return nas__yfail(L->doc, node, NAS_E_SPEC, "%s must be %s or %s, not '%.64s'", what, words[0], words[1], s);
}

static nas_status_t load_cell(loader_t *L)
{
    const nas__ydoc_t *doc = L->doc;
    const nas__ynode_t *m = L->cell;
    nas_status_t st;
    if ((st = nas__yexpect_map(doc, m, "cell")) != NAS_OK ||
        (st = nas__ycheck_keys(doc, m, "cell", cell_keys)) != NAS_OK ||
        (st = required(L, m, "ops", "cell")) != NAS_OK || (st = required(L, m, "num_nodes", "cell")) != NAS_OK)
        return st;
    nas_cell_spec_t spec;
    memset(&spec, 0, sizeof spec);
    spec.struct_size = sizeof spec;
    int64_t inputs = 1, nodes = 0, ipn = 0;
    if ((st = opt_int(L, m, "num_inputs", "cell.num_inputs", 0, UINT32_MAX, &inputs)) != NAS_OK ||
        (st = opt_int(L, m, "num_nodes", "cell.num_nodes", 0, UINT32_MAX, &nodes)) != NAS_OK ||
        (st = opt_int(L, m, "inputs_per_node", "cell.inputs_per_node", 0, UINT32_MAX, &ipn)) != NAS_OK)
        return st;
    spec.num_inputs = (uint32_t)inputs;
    spec.num_nodes = (uint32_t)nodes;
    spec.inputs_per_node = (uint32_t)ipn;
    const nas__ynode_t *v = nas__ymap_get(m, "output", NULL);
    static const char *const outputs[] = { "last", "concat", NULL };
    if (v && (st = read_enum(L, v, "cell.output", outputs, &spec.output)) != NAS_OK)
        return st;
    const char **ops = NULL, **types = NULL;
    if ((st = read_strings(L, nas__ymap_get(m, "ops", NULL), "cell.ops", &ops, &spec.num_ops)) != NAS_OK)
        return st;
    spec.ops = ops;
    v = nas__ymap_get(m, "cell_types", NULL);
    if (v && (st = read_strings(L, v, "cell.cell_types", &types, &spec.num_cell_types)) != NAS_OK)
        goto out_free;
    spec.cell_types = types;
    if ((st = nas_space_set_cell(L->space, &spec)) != NAS_OK)
        st = builder_fail(L, st);
out_free:
    nas__free(L->ctx, types);
    nas__free(L->ctx, ops);
    return st;
}

static nas_status_t load_macro(loader_t *L)
{
    const nas__ydoc_t *doc = L->doc;
    const nas__ynode_t *m = L->macro;
    nas_status_t st;
    if ((st = nas__yexpect_map(doc, m, "macro")) != NAS_OK ||
        (st = nas__ycheck_keys(doc, m, "macro", macro_keys)) != NAS_OK ||
        (st = required(L, m, "stem_channels", "macro")) != NAS_OK || (st = required(L, m, "stages", "macro")) != NAS_OK)
        return st;
    nas_macro_spec_t spec;
    memset(&spec, 0, sizeof spec);
    spec.struct_size = sizeof spec;
    int64_t stem = 0;
    if ((st = opt_int(L, m, "stem_channels", "macro.stem_channels", INT32_MIN, INT32_MAX, &stem)) != NAS_OK)
        return st;
    spec.stem_channels = (int32_t)stem;
    static const char *const reductions[] = { "residual", "cell", NULL };
    const nas__ynode_t *v = nas__ymap_get(m, "reduction", NULL);
    if (v && (st = read_enum(L, v, "macro.reduction", reductions, &spec.reduction)) != NAS_OK)
        return st;
    const nas__ynode_t *stages = nas__ymap_get(m, "stages", NULL);
    if ((st = nas__yexpect_seq(doc, stages, "macro.stages")) != NAS_OK)
        return st;
    if (stages->n > NAS__MAX_STAGES)
        return nas__yfail(doc, stages, NAS_E_RANGE, "macro.stages has %u entries, over the limit of %d", stages->n,
                          NAS__MAX_STAGES);
    nas_macro_stage_t ms[NAS__MAX_STAGES];
    for (uint32_t i = 0; i < stages->n; i++) {
        const nas__ynode_t *s = stages->items[i];
        int64_t cells = 0, ch = 0;
        if ((st = nas__yexpect_map(doc, s, "a macro stage")) != NAS_OK ||
            (st = nas__ycheck_keys(doc, s, "a macro stage", macro_stage_keys)) != NAS_OK ||
            (st = required(L, s, "cells", "a macro stage")) != NAS_OK ||
            (st = required(L, s, "channels", "a macro stage")) != NAS_OK ||
            (st = opt_int(L, s, "cells", "cells", 0, UINT32_MAX, &cells)) != NAS_OK ||
            (st = opt_int(L, s, "channels", "channels", INT32_MIN, INT32_MAX, &ch)) != NAS_OK)
            return st;
        ms[i].cells = (uint32_t)cells;
        ms[i].channels = (int32_t)ch;
    }
    spec.stages = ms;
    spec.num_stages = stages->n;
    if ((st = nas_space_set_macro(L->space, &spec)) != NAS_OK)
        return builder_fail(L, st);
    return NAS_OK;
}

static nas_status_t load_stage(loader_t *L, const nas__ynode_t *s)
{
    const nas__ydoc_t *doc = L->doc;
    nas_status_t st;
    int64_t ch = 0, stride = 1;
    if ((st = nas__yexpect_map(doc, s, "a chain stage")) != NAS_OK ||
        (st = nas__ycheck_keys(doc, s, "a chain stage", stage_keys)) != NAS_OK ||
        (st = required(L, s, "channels", "a chain stage")) != NAS_OK ||
        (st = required(L, s, "depths", "a chain stage")) != NAS_OK ||
        (st = opt_int(L, s, "channels", "channels", INT32_MIN, INT32_MAX, &ch)) != NAS_OK ||
        (st = opt_int(L, s, "stride", "stride", INT32_MIN, INT32_MAX, &stride)) != NAS_OK)
        return st;
    const nas__ynode_t *dn = nas__ymap_get(s, "depths", NULL);
    if ((st = nas__yexpect_seq(doc, dn, "depths")) != NAS_OK)
        return st;
    if (dn->n > NAS_SPACE_MAX_CHOICES)
        return nas__yfail(doc, dn, NAS_E_RANGE, "depths has %u entries, over the limit of %d", dn->n,
                          NAS_SPACE_MAX_CHOICES);
    uint32_t depths[NAS_SPACE_MAX_CHOICES];
    for (uint32_t i = 0; i < dn->n; i++) {
        int64_t d;
        if ((st = nas__yread_int(doc, dn->items[i], "a depth", 0, UINT32_MAX, &d)) != NAS_OK)
            return st;
        depths[i] = (uint32_t)d;
    }
    nas_stage_spec_t spec = { sizeof spec, (int32_t)ch, (int32_t)stride, depths, dn->n };
    if ((st = nas_space_add_stage(L->space, &spec)) != NAS_OK)
        return builder_fail(L, st);
    return NAS_OK;
}

static nas_status_t load_chain(loader_t *L)
{
    const nas__ydoc_t *doc = L->doc;
    const nas__ynode_t *m = L->chain;
    nas_status_t st;
    if ((st = nas__yexpect_map(doc, m, "chain")) != NAS_OK ||
        (st = nas__ycheck_keys(doc, m, "chain", chain_keys)) != NAS_OK ||
        (st = required(L, m, "ops", "chain")) != NAS_OK || (st = required(L, m, "stem_channels", "chain")) != NAS_OK ||
        (st = required(L, m, "stages", "chain")) != NAS_OK)
        return st;
    nas_chain_spec_t spec;
    memset(&spec, 0, sizeof spec);
    spec.struct_size = sizeof spec;
    int64_t stem = 0, head = 0;
    if ((st = opt_int(L, m, "stem_channels", "chain.stem_channels", INT32_MIN, INT32_MAX, &stem)) != NAS_OK ||
        (st = opt_int(L, m, "head_channels", "chain.head_channels", INT32_MIN, INT32_MAX, &head)) != NAS_OK)
        return st;
    spec.stem_channels = (int32_t)stem;
    spec.head_channels = (int32_t)head;
    double widths[NAS_SPACE_MAX_CHOICES];
    const nas__ynode_t *wn = nas__ymap_get(m, "width_multipliers", NULL);
    if (wn) {
        if ((st = nas__yexpect_seq(doc, wn, "chain.width_multipliers")) != NAS_OK)
            return st;
        if (wn->n > NAS_SPACE_MAX_CHOICES)
            return nas__yfail(doc, wn, NAS_E_RANGE, "chain.width_multipliers has %u entries, over the limit of %d",
                              wn->n, NAS_SPACE_MAX_CHOICES);
        if (wn->n == 0)
            return nas__yfail(doc, wn, NAS_E_SPEC, "chain.width_multipliers is empty (leave it out for 1.0)");
        for (uint32_t i = 0; i < wn->n; i++)
            if ((st = nas__yread_double(doc, wn->items[i], "a width multiplier", &widths[i])) != NAS_OK)
                return st;
        spec.width_multipliers = widths;
        spec.num_width_multipliers = wn->n;
    }
    const char **ops = NULL;
    if ((st = read_strings(L, nas__ymap_get(m, "ops", NULL), "chain.ops", &ops, &spec.num_ops)) != NAS_OK)
        return st;
    spec.ops = ops;
    st = nas_space_set_chain(L->space, &spec);
    nas__free(L->ctx, ops);
    if (st != NAS_OK)
        return builder_fail(L, st);
    const nas__ynode_t *stages = nas__ymap_get(m, "stages", NULL);
    if ((st = nas__yexpect_seq(doc, stages, "chain.stages")) != NAS_OK)
        return st;
    if (stages->n > NAS__MAX_STAGES)
        return nas__yfail(doc, stages, NAS_E_RANGE, "chain.stages has %u entries, over the limit of %d", stages->n,
                          NAS__MAX_STAGES);
    for (uint32_t i = 0; i < stages->n; i++)
        if ((st = load_stage(L, stages->items[i])) != NAS_OK)
            return st;
    return NAS_OK;
}

/* Keys that do not apply to a hyperparameter of this type are errors, like unknown ones. */
static nas_status_t check_hparam_keys(const loader_t *L, const nas__ynode_t *h, int32_t kind, const char *type)
{
    static const char *const not_cat[] = { "low", "high", "log_scale", "grid_points", NULL };
    static const char *const not_int[] = { "choices", "grid_points", NULL };
    static const char *const not_float[] = { "choices", NULL };
    const char *const *bad = kind == NAS_DIM_CATEGORICAL ? not_cat : kind == NAS_DIM_INT ? not_int : not_float;
    for (uint32_t i = 0; bad[i]; i++) {
        const nas__ynode_t *k;
        if (nas__ymap_get(h, bad[i], &k))
            return nas__yfail(L->doc, k, NAS_E_SPEC, "key '%s' does not apply to a %s hyperparameter", bad[i], type);
    }
    static const char *const need_cat[] = { "choices", NULL };
    static const char *const need_num[] = { "low", "high", NULL };
    const char *const *need = kind == NAS_DIM_CATEGORICAL ? need_cat : need_num;
    for (uint32_t i = 0; need[i]; i++) {
        nas_status_t st = required(L, h, need[i], "this hyperparameter");
        if (st != NAS_OK)
            return st;
    }
    return NAS_OK;
}

static nas_status_t load_hparam(loader_t *L, const nas__ynode_t *h)
{
    const nas__ydoc_t *doc = L->doc;
    nas_status_t st;
    if ((st = nas__yexpect_map(doc, h, "a hyperparameter")) != NAS_OK ||
        (st = nas__ycheck_keys(doc, h, "a hyperparameter", hparam_keys)) != NAS_OK ||
        (st = required(L, h, "name", "a hyperparameter")) != NAS_OK ||
        (st = required(L, h, "type", "a hyperparameter")) != NAS_OK)
        return st;
    nas_hparam_spec_t spec;
    memset(&spec, 0, sizeof spec);
    spec.struct_size = sizeof spec;
    static const char *const types[] = { "categorical", "int", "float", NULL };
    const nas__ynode_t *tn = nas__ymap_get(h, "type", NULL);
    const char *tname;
    if ((st = nas__yread_str(doc, tn, "type", &tname)) != NAS_OK)
        return st;
    int32_t kind = -1;
    for (int32_t i = 0; types[i]; i++)
        if (strcmp(tname, types[i]) == 0)
            kind = i;
    if (kind < 0)
        return nas__yfail(doc, tn, NAS_E_SPEC, "type must be categorical, int or float, not '%.64s'", tname);
    spec.kind = kind;
    if ((st = check_hparam_keys(L, h, kind, tname)) != NAS_OK ||
        (st = nas__yread_str(doc, nas__ymap_get(h, "name", NULL), "name", &spec.name)) != NAS_OK)
        return st;
    const nas__ynode_t *v;
    v = nas__ymap_get(h, "log_scale", NULL);
    if (v && (st = nas__yread_bool(doc, v, "log_scale", &spec.log_scale)) != NAS_OK)
        return st;
    int64_t gp = 0;
    if ((st = opt_int(L, h, "grid_points", "grid_points", 1, NAS_SPACE_MAX_CHOICES, &gp)) != NAS_OK)
        return st;
    spec.grid_points = (uint32_t)gp;
    if (kind != NAS_DIM_CATEGORICAL) {
        if ((st = nas__yread_double(doc, nas__ymap_get(h, "low", NULL), "low", &spec.low)) != NAS_OK ||
            (st = nas__yread_double(doc, nas__ymap_get(h, "high", NULL), "high", &spec.high)) != NAS_OK)
            return st;
        if ((st = nas_space_add_hparam(L->space, &spec)) != NAS_OK)
            return builder_fail(L, st);
        return NAS_OK;
    }
    const char **choices = NULL;
    if ((st = read_strings(L, nas__ymap_get(h, "choices", NULL), "choices", &choices, &spec.num_choices)) != NAS_OK)
        return st;
    spec.choices = choices;
    st = nas_space_add_hparam(L->space, &spec);
    nas__free(L->ctx, choices);
    return st == NAS_OK ? NAS_OK : builder_fail(L, st);
}

/* family, and the sections that go with it. */
static nas_status_t check_family(loader_t *L)
{
    const nas__ydoc_t *doc = L->doc;
    const nas__ynode_t *fam = nas__ymap_get(L->root, "family", NULL), *kc, *km, *kch;
    nas__ymap_get(L->root, "cell", &kc);
    nas__ymap_get(L->root, "macro", &km);
    nas__ymap_get(L->root, "chain", &kch);
    if (kc && kch)
        return nas__yfail(doc, kch, NAS_E_SPEC, "a space has a 'cell' or a 'chain' section, not both");
    if (!fam)
        return NAS_OK;
    static const char *const families[] = { "none", "cell", "chain", NULL };
    const char *f;
    nas_status_t st = nas__yread_str(doc, fam, "family", &f);
    if (st != NAS_OK)
        return st;
    int32_t family = -1;
    for (int32_t i = 0; families[i]; i++)
        if (strcmp(f, families[i]) == 0)
            family = i;
    if (family < 0)
        return nas__yfail(doc, fam, NAS_E_SPEC, "family must be cell, chain or none, not '%.64s'", f);
    if (family == NAS_FAMILY_CELL && !kc)
        return nas__yfail(doc, fam, NAS_E_SPEC, "family cell needs a 'cell' section");
    if (family == NAS_FAMILY_CHAIN && !kch)
        return nas__yfail(doc, fam, NAS_E_SPEC, "family chain needs a 'chain' section");
    const nas__ynode_t *extra = family != NAS_FAMILY_CELL && kc ? kc : family != NAS_FAMILY_CELL && km ? km
                                : family != NAS_FAMILY_CHAIN && kch ? kch : NULL;
    if (extra)
        return nas__yfail(doc, extra, NAS_E_SPEC, "section '%s' does not belong to a space of family %s", extra->text,
                          f);
    return NAS_OK;
}

nas_status_t nas__space_from_yaml(nas_space_t **out, nas_context_t *ctx, const nas__ydoc_t *doc,
                                  const nas__ynode_t *root, const char *default_name)
{
    *out = NULL;
    loader_t L;
    memset(&L, 0, sizeof L);
    L.ctx = ctx;
    L.doc = doc;
    L.root = root;
    nas_status_t st;
    if (!root)
        return nas__yfail(doc, NULL, NAS_E_SPEC, "the space is empty");
    if ((st = nas__yexpect_map(doc, root, "a space")) != NAS_OK ||
        (st = nas__ycheck_keys(doc, root, "a space", top_keys)) != NAS_OK || (st = check_family(&L)) != NAS_OK)
        return st;
    const char *name = default_name, *descr;
    const nas__ynode_t *v;
    if ((v = nas__ymap_get(root, "name", NULL)) && (st = nas__yread_str(doc, v, "name", &name)) != NAS_OK)
        return st;
    if (strlen(name) > NAS__MAX_NAME)
        return nas__yfail(doc, v, NAS_E_SPEC, "the name is longer than %d bytes", NAS__MAX_NAME);
    v = nas__ymap_get(root, "description", NULL);
    if (v && (st = nas__yread_str(doc, v, "description", &descr)) != NAS_OK)
        return st;
    L.cell = nas__ymap_get(root, "cell", NULL);
    L.macro = nas__ymap_get(root, "macro", NULL);
    L.chain = nas__ymap_get(root, "chain", NULL);
    L.hparams = nas__ymap_get(root, "hyperparameters", NULL);
    if (L.hparams && (st = nas__yexpect_seq(doc, L.hparams, "hyperparameters")) != NAS_OK)
        return st;
    if (L.hparams && L.hparams->n > NAS_SPACE_MAX_DIMS)
        return nas__yfail(doc, L.hparams, NAS_E_RANGE, "%u hyperparameters, over the limit of %d", L.hparams->n,
                          NAS_SPACE_MAX_DIMS);
    if ((st = nas_space_create(&L.space, ctx, name)) != NAS_OK)
        return st;
    if (L.cell && (st = load_cell(&L)) != NAS_OK)
        goto out_destroy;
    if (L.macro && (st = load_macro(&L)) != NAS_OK)
        goto out_destroy;
    if (L.chain && (st = load_chain(&L)) != NAS_OK)
        goto out_destroy;
    for (uint32_t i = 0; L.hparams && i < L.hparams->n; i++)
        if ((st = load_hparam(&L, L.hparams->items[i])) != NAS_OK)
            goto out_destroy;
    if ((st = nas_space_build(L.space)) != NAS_OK) {
        st = builder_fail(&L, st);
        goto out_destroy;
    }
    *out = L.space;
    return NAS_OK;

out_destroy:
    nas_space_destroy(L.space);
    return st;
}

/* The file name without folder and extension, as the default name of a space. */
static void file_stem(const char *path, char *buf, size_t cap)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && dot != base)
        n = (size_t)(dot - base);
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, base, n);
    buf[n] = '\0';
}

/* Parse YAML text into a space that keeps a copy of the text (nas_space_yaml(); models embed it). */
static nas_status_t load_text(nas_space_t **out, nas_context_t *ctx, const char *yaml, size_t len, const char *origin,
                              const char *default_name)
{
    nas__ydoc_t *doc;
    nas_status_t st = nas__ydoc_parse(&doc, ctx, yaml, len, origin);
    if (st != NAS_OK)
        return st;
    st = nas__space_from_yaml(out, ctx, doc, doc->root, default_name);
    nas__ydoc_free(doc);
    if (st != NAS_OK)
        return st;
    if (!((*out)->yaml = nas__strndup(ctx, yaml, len))) {
        nas_space_destroy(*out);
        *out = NULL;
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "%s: out of memory keeping the YAML text", origin);
    }
    (*out)->yaml_len = len;
    return NAS_OK;
}

nas_status_t nas_space_load_string(nas_space_t **out, nas_context_t *ctx, const char *yaml, size_t len,
                                   const char *origin)
{
    if (!out)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_space_load_string: out is NULL");
    *out = NULL;
    if (!ctx)
        return NAS_E_INVAL;
    if (!yaml)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_space_load_string: yaml is NULL");
    if (!origin)
        origin = "<string>";
    if (len > NAS_SPACE_MAX_FILE_BYTES)
        return nas__ctx_fail(ctx, NAS_E_RANGE, "%s: %zu bytes of YAML, over the limit of %u", origin, len,
                             NAS_SPACE_MAX_FILE_BYTES);
    return load_text(out, ctx, yaml, len, origin, "space");
}

nas_status_t nas_space_load_file(nas_space_t **out, nas_context_t *ctx, const char *path)
{
    if (!out)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_space_load_file: out is NULL");
    *out = NULL;
    if (!ctx)
        return NAS_E_INVAL;
    if (!path)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_space_load_file: path is NULL");
    char *text;
    size_t len;
    nas_status_t st = nas__read_file(ctx, path, NAS_SPACE_MAX_FILE_BYTES, &text, &len, ctx->errmsg);
    if (st != NAS_OK)
        return st == NAS_E_NOT_FOUND ? NAS_E_IO : st;
    char stem[NAS__MAX_NAME + 1];
    file_stem(path, stem, sizeof stem);
    st = load_text(out, ctx, text, len, path, stem);
    nas__free(ctx, text);
    return st;
}
