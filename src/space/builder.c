/* Building a space through the C API: create, set the structure, add hyperparameters, build.
 * Every spec is validated and copied when it is given, so a YAML file and a C host share one
 * validation path; errors record a locus the YAML loader turns into a line and column. */
#include "space/space_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nas_status_t nas__space_fail(nas_space_t *space, nas_status_t st, const nas__locus_t *locus, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nas__vfail(space->errmsg, st, fmt, ap);
    va_end(ap);
    space->locus = locus ? *locus : (nas__locus_t){ NAS__SEC_TOP, -1, NULL, -1, NULL };
    return st;
}

#define LOC(sec, item, key, elem) (&(nas__locus_t){ (sec), (item), (key), (elem), NULL })
#define LOC2(sec, key, elem, subkey) (&(nas__locus_t){ (sec), -1, (key), (elem), (subkey) })

bool nas__valid_label(const char *s)
{
    if (!s || !*s || strlen(s) > NAS__MAX_LABEL)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '+' || c == '-'))
            return false;
    }
    return true;
}

bool nas__parse_double(const char *s, double *out)
{
    if (!s || !*s || strlen(s) > 64)
        return false;
    char c = s[0];
    if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.'))
        return false;  /* no leading blanks, no "nan"/"inf" */
    char *end;
    double v = nas__strtod(s, &end);
    if (*end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static void free_strings(nas_context_t *ctx, char **v, uint32_t n)
{
    if (!v)
        return;
    for (uint32_t i = 0; i < n; i++)
        nas__free(ctx, v[i]);
    nas__free(ctx, v);
}

static char **copy_strings(nas_context_t *ctx, const char *const *v, uint32_t n)
{
    char **out = nas__calloc(ctx, n ? n : 1, sizeof *out);
    if (!out)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        if (!(out[i] = nas__strdup(ctx, v[i]))) {
            free_strings(ctx, out, i);
            return NULL;
        }
    }
    return out;
}

static void free_cell(nas_context_t *ctx, nas__cell_t *c)
{
    free_strings(ctx, c->ops, c->num_ops);
    free_strings(ctx, c->types, c->num_types);
    memset(c, 0, sizeof *c);
}

static void free_chain(nas_context_t *ctx, nas__chain_t *c)
{
    free_strings(ctx, c->ops, c->num_ops);
    nas__free(ctx, c->widths);
    memset(c, 0, sizeof *c);
}

static void free_hparam(nas_context_t *ctx, nas__hparam_t *h)
{
    nas__free(ctx, h->name);
    free_strings(ctx, h->choices, h->num_choices);
}

nas_status_t nas_space_create(nas_space_t **out, nas_context_t *ctx, const char *name)
{
    if (!out)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_space_create: out is NULL");
    *out = NULL;
    if (!ctx)
        return NAS_E_INVAL;
    if (!name)
        name = "";
    if (strlen(name) > NAS__MAX_NAME)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "space name longer than %d bytes", NAS__MAX_NAME);
    nas_space_t *s = nas__calloc(ctx, 1, sizeof *s);
    if (!s)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating a space");
    s->ctx = ctx;
    s->width_dim = -1;
    s->cell_ops_labels = -1;
    s->locus = (nas__locus_t){ NAS__SEC_TOP, -1, NULL, -1, NULL };
    if (!(s->name = nas__strdup(ctx, name))) {
        nas__free(ctx, s);
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating a space");
    }
    *out = s;
    return NAS_OK;
}

void nas_space_destroy(nas_space_t *space)
{
    if (!space)
        return;
    nas_context_t *ctx = space->ctx;
    nas__space_free_built(space);
    free_cell(ctx, &space->cell);
    nas__free(ctx, space->macro.stages);
    free_chain(ctx, &space->chain);
    for (uint32_t i = 0; i < space->num_stages; i++)
        nas__free(ctx, space->stages[i].depths);
    nas__free(ctx, space->stages);
    for (uint32_t i = 0; i < space->num_hparams; i++)
        free_hparam(ctx, &space->hparams[i]);
    nas__free(ctx, space->hparams);
    nas__free(ctx, space->name);
    nas__free(ctx, space->yaml);
    nas__free(ctx, space);
}

nas_status_t nas_space_yaml(const nas_space_t *space, const char **text, size_t *len)
{
    if (!space || !text)
        return NAS_E_INVAL;
    if (!space->yaml)
        return nas__fail(((nas_space_t *)space)->errmsg, NAS_E_NOT_FOUND, "space '%s' was not loaded from YAML text "
                         "of its own (built through the C API, or inline in an experiment file)", space->name);
    *text = space->yaml;
    if (len)
        *len = space->yaml_len;
    return NAS_OK;
}

const char *nas_space_errmsg(const nas_space_t *space)
{
    return space ? space->errmsg : "";
}

/* Common checks of a builder call; copies the caller's spec (of its own size) over zeros. */
static nas_status_t begin(nas_space_t *space, const void *spec, void *local, size_t local_size, const char *fn)
{
    if (!space)
        return NAS_E_INVAL;
    if (space->built)
        return nas__space_fail(space, NAS_E_STATE, NULL, "%s: the space is already built", fn);
    memset(local, 0, local_size);
    if (!spec || !nas__copy_opts(local, local_size, spec, *(const size_t *)spec))
        return nas__space_fail(space, NAS_E_INVAL, NULL, "%s: missing spec or bad struct_size", fn);
    return NAS_OK;
}

/* Names in a list: present, valid under `ok`, distinct. */
static nas_status_t check_names(nas_space_t *space, const char *const *v, uint32_t n, bool (*ok)(const char *),
                                int32_t sec, const char *key, const char *what, const char *expected)
{
    if (n > 0 && !v)
        return nas__space_fail(space, NAS_E_INVAL, LOC(sec, -1, key, -1), "%s: the list is NULL", key);
    for (uint32_t i = 0; i < n; i++) {
        if (!v[i])
            return nas__space_fail(space, NAS_E_INVAL, LOC(sec, -1, key, (int32_t)i), "%s: entry %u is NULL", key, i);
        if (!ok(v[i]))
            return nas__space_fail(space, NAS_E_SPEC, LOC(sec, -1, key, (int32_t)i), "unknown %s '%.64s' (expected %s)",
                                   what, v[i], expected);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(v[i], v[j]) == 0)
                return nas__space_fail(space, NAS_E_SPEC, LOC(sec, -1, key, (int32_t)i), "duplicate %s '%s' in %s",
                                       what, v[i], key);
    }
    return NAS_OK;
}

static bool is_cell_op(const char *s) { return nas__op_parse_cell(s, NULL); }
static bool is_chain_op(const char *s) { return nas__op_parse_chain(s, NULL); }

static nas_status_t check_ops(nas_space_t *space, const char *const *ops, uint32_t n, int32_t sec, bool chain)
{
    if (n == 0 || !ops)
        return nas__space_fail(space, NAS_E_SPEC, LOC(sec, -1, "ops", -1), "the op list is empty");
    if (n > NAS_SPACE_MAX_CHOICES)
        return nas__space_fail(space, NAS_E_RANGE, LOC(sec, -1, "ops", -1), "%u ops, over the limit of %d", n,
                               NAS_SPACE_MAX_CHOICES);
    return check_names(space, ops, n, chain ? is_chain_op : is_cell_op, sec, "ops", "op",
                       chain ? nas__op_chain_vocabulary() : nas__op_cell_vocabulary());
}

static bool channels_ok(int32_t c)
{
    return c > 0 && c <= NAS__MAX_CHANNELS;
}

nas_status_t nas_space_set_cell(nas_space_t *space, const nas_cell_spec_t *spec)
{
    nas_cell_spec_t c;
    nas_status_t st = begin(space, spec, &c, sizeof c, "nas_space_set_cell");
    if (st != NAS_OK)
        return st;
    if (space->has_chain)
        return nas__space_fail(space, NAS_E_STATE, LOC(NAS__SEC_CELL, -1, NULL, -1),
                               "a space is either a cell or a chain: this one is a chain");
    if ((st = check_ops(space, c.ops, c.num_ops, NAS__SEC_CELL, false)) != NAS_OK)
        return st;
    if (c.num_inputs < 1)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_CELL, -1, "num_inputs", -1),
                               "num_inputs must be at least 1");
    if (c.num_nodes < 1)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_CELL, -1, "num_nodes", -1),
                               "num_nodes must be at least 1");
    if ((uint64_t)c.num_inputs + c.num_nodes > NAS_SPACE_MAX_NODES)
        return nas__space_fail(space, NAS_E_RANGE, LOC(NAS__SEC_CELL, -1, "num_nodes", -1),
                               "%u input and %u computed nodes, over the limit of %d nodes", c.num_inputs,
                               c.num_nodes, NAS_SPACE_MAX_NODES);
    if (c.inputs_per_node > c.num_inputs)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_CELL, -1, "inputs_per_node", -1),
                               "inputs_per_node is %u but the first computed node has only %u earlier nodes",
                               c.inputs_per_node, c.num_inputs);
    if (c.num_cell_types > NAS__MAX_CELL_TYPES)
        return nas__space_fail(space, NAS_E_RANGE, LOC(NAS__SEC_CELL, -1, "cell_types", -1),
                               "%u cell types, over the limit of %d", c.num_cell_types, NAS__MAX_CELL_TYPES);
    if ((st = check_names(space, c.cell_types, c.num_cell_types, nas__valid_name, NAS__SEC_CELL, "cell_types",
                          "cell type name", "[a-z0-9_-]+")) != NAS_OK)
        return st;
    if (c.output != NAS_CELL_OUTPUT_LAST && c.output != NAS_CELL_OUTPUT_CONCAT)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_CELL, -1, "output", -1),
                               "output must be last or concat (got %d)", (int)c.output);

    nas__cell_t cell = { 0 };
    cell.num_inputs = c.num_inputs;
    cell.num_nodes = c.num_nodes;
    cell.inputs_per_node = c.inputs_per_node;
    cell.output = c.output;
    if (!(cell.ops = copy_strings(space->ctx, c.ops, c.num_ops)))
        goto out_nomem;
    cell.num_ops = c.num_ops;
    if (c.num_cell_types > 0) {
        if (!(cell.types = copy_strings(space->ctx, c.cell_types, c.num_cell_types)))
            goto out_free_cell;
        cell.num_types = c.num_cell_types;
    }
    free_cell(space->ctx, &space->cell);
    space->cell = cell;
    space->has_cell = true;
    return NAS_OK;

out_free_cell:
    free_cell(space->ctx, &cell);
out_nomem:
    return nas__space_fail(space, NAS_E_NOMEM, NULL, "out of memory copying the cell spec");
}

nas_status_t nas_space_set_macro(nas_space_t *space, const nas_macro_spec_t *spec)
{
    nas_macro_spec_t m;
    nas_status_t st = begin(space, spec, &m, sizeof m, "nas_space_set_macro");
    if (st != NAS_OK)
        return st;
    if (!channels_ok(m.stem_channels))
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_MACRO, -1, "stem_channels", -1),
                               "stem_channels must be in 1..%d (got %d)", NAS__MAX_CHANNELS, (int)m.stem_channels);
    if (m.num_stages == 0 || !m.stages)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_MACRO, -1, "stages", -1),
                               "the macro skeleton needs at least one stage");
    if (m.num_stages > NAS__MAX_STAGES)
        return nas__space_fail(space, NAS_E_RANGE, LOC(NAS__SEC_MACRO, -1, "stages", -1),
                               "%u stages, over the limit of %d", m.num_stages, NAS__MAX_STAGES);
    for (uint32_t i = 0; i < m.num_stages; i++) {
        if (m.stages[i].cells < 1 || m.stages[i].cells > NAS__MAX_CELLS_PER_STAGE)
            return nas__space_fail(space, NAS_E_SPEC, LOC2(NAS__SEC_MACRO, "stages", (int32_t)i, "cells"),
                                   "macro stage %u: cells must be in 1..%d (got %u)", i, NAS__MAX_CELLS_PER_STAGE,
                                   m.stages[i].cells);
        if (!channels_ok(m.stages[i].channels))
            return nas__space_fail(space, NAS_E_SPEC, LOC2(NAS__SEC_MACRO, "stages", (int32_t)i, "channels"),
                                   "macro stage %u: channels must be in 1..%d (got %d)", i, NAS__MAX_CHANNELS,
                                   (int)m.stages[i].channels);
    }
    if (m.reduction != NAS_REDUCTION_RESIDUAL && m.reduction != NAS_REDUCTION_CELL)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_MACRO, -1, "reduction", -1),
                               "reduction must be residual or cell (got %d)", (int)m.reduction);
    nas_macro_stage_t *stages = nas__malloc(space->ctx, m.num_stages * sizeof *stages);
    if (!stages)
        return nas__space_fail(space, NAS_E_NOMEM, NULL, "out of memory copying the macro spec");
    memcpy(stages, m.stages, m.num_stages * sizeof *stages);
    nas__free(space->ctx, space->macro.stages);
    space->macro = (nas__macro_t){ m.stem_channels, stages, m.num_stages, m.reduction };
    space->has_macro = true;
    return NAS_OK;
}

nas_status_t nas_space_set_chain(nas_space_t *space, const nas_chain_spec_t *spec)
{
    nas_chain_spec_t c;
    nas_status_t st = begin(space, spec, &c, sizeof c, "nas_space_set_chain");
    if (st != NAS_OK)
        return st;
    if (space->has_cell)
        return nas__space_fail(space, NAS_E_STATE, LOC(NAS__SEC_CHAIN, -1, NULL, -1),
                               "a space is either a cell or a chain: this one is a cell");
    if ((st = check_ops(space, c.ops, c.num_ops, NAS__SEC_CHAIN, true)) != NAS_OK)
        return st;
    if (c.num_ops == 1 && strcmp(c.ops[0], "skip") == 0)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_CHAIN, -1, "ops", -1),
                               "the op list has only skip, but the first layer of a stage cannot be skip");
    if (!channels_ok(c.stem_channels))
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_CHAIN, -1, "stem_channels", -1),
                               "stem_channels must be in 1..%d (got %d)", NAS__MAX_CHANNELS, (int)c.stem_channels);
    if (c.head_channels != 0 && !channels_ok(c.head_channels))
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_CHAIN, -1, "head_channels", -1),
                               "head_channels must be 0 (none) or in 1..%d (got %d)", NAS__MAX_CHANNELS,
                               (int)c.head_channels);
    if (c.num_width_multipliers > 0 && !c.width_multipliers)
        return nas__space_fail(space, NAS_E_INVAL, LOC(NAS__SEC_CHAIN, -1, "width_multipliers", -1),
                               "width_multipliers is NULL");
    if (c.num_width_multipliers > NAS_SPACE_MAX_CHOICES)
        return nas__space_fail(space, NAS_E_RANGE, LOC(NAS__SEC_CHAIN, -1, "width_multipliers", -1),
                               "%u width multipliers, over the limit of %d", c.num_width_multipliers,
                               NAS_SPACE_MAX_CHOICES);
    for (uint32_t i = 0; i < c.num_width_multipliers; i++) {
        double w = c.width_multipliers[i];
        if (!(w > 0 && w <= NAS__MAX_WIDTH))
            return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_CHAIN, -1, "width_multipliers", (int32_t)i),
                                   "width multiplier %u must be in (0, %g] (got %g)", i, NAS__MAX_WIDTH, w);
        for (uint32_t j = 0; j < i; j++)
            if (c.width_multipliers[j] == w)
                return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_CHAIN, -1, "width_multipliers", (int32_t)i),
                                       "duplicate width multiplier %g", w);
    }

    nas__chain_t chain = { 0 };
    chain.stem_channels = c.stem_channels;
    chain.head_channels = c.head_channels;
    if (!(chain.ops = copy_strings(space->ctx, c.ops, c.num_ops)))
        goto out_nomem;
    chain.num_ops = c.num_ops;
    chain.num_widths = c.num_width_multipliers ? c.num_width_multipliers : 1;
    if (!(chain.widths = nas__malloc(space->ctx, chain.num_widths * sizeof(double))))
        goto out_free_chain;
    if (c.num_width_multipliers)
        memcpy(chain.widths, c.width_multipliers, chain.num_widths * sizeof(double));
    else
        chain.widths[0] = 1.0;
    free_chain(space->ctx, &space->chain);
    space->chain = chain;
    space->has_chain = true;
    return NAS_OK;

out_free_chain:
    free_chain(space->ctx, &chain);
out_nomem:
    return nas__space_fail(space, NAS_E_NOMEM, NULL, "out of memory copying the chain spec");
}

nas_status_t nas_space_add_stage(nas_space_t *space, const nas_stage_spec_t *spec)
{
    nas_stage_spec_t g;
    nas_status_t st = begin(space, spec, &g, sizeof g, "nas_space_add_stage");
    if (st != NAS_OK)
        return st;
    int32_t item = (int32_t)space->num_stages;
    if (space->num_stages >= NAS__MAX_STAGES)
        return nas__space_fail(space, NAS_E_RANGE, LOC(NAS__SEC_STAGE, item, NULL, -1),
                               "more than %d chain stages", NAS__MAX_STAGES);
    if (!channels_ok(g.channels))
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_STAGE, item, "channels", -1),
                               "stage %d: channels must be in 1..%d (got %d)", item, NAS__MAX_CHANNELS,
                               (int)g.channels);
    if (g.stride != 1 && g.stride != 2)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_STAGE, item, "stride", -1),
                               "stage %d: stride must be 1 or 2 (got %d)", item, (int)g.stride);
    if (g.num_depths == 0 || !g.depths)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_STAGE, item, "depths", -1),
                               "stage %d: the list of depths is empty", item);
    if (g.num_depths > NAS_SPACE_MAX_CHOICES)
        return nas__space_fail(space, NAS_E_RANGE, LOC(NAS__SEC_STAGE, item, "depths", -1),
                               "stage %d: %u depths, over the limit of %d", item, g.num_depths, NAS_SPACE_MAX_CHOICES);
    for (uint32_t i = 0; i < g.num_depths; i++) {
        if (g.depths[i] < 1)
            return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_STAGE, item, "depths", (int32_t)i),
                                   "stage %d: a depth must be at least 1", item);
        if (g.depths[i] > NAS_SPACE_MAX_DIMS)
            return nas__space_fail(space, NAS_E_RANGE, LOC(NAS__SEC_STAGE, item, "depths", (int32_t)i),
                                   "stage %d: depth %u is over the limit of %d layers", item, g.depths[i],
                                   NAS_SPACE_MAX_DIMS);
        if (i > 0 && g.depths[i] <= g.depths[i - 1])
            return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_STAGE, item, "depths", (int32_t)i),
                                   "stage %d: depths must be strictly increasing (%u after %u)", item, g.depths[i],
                                   g.depths[i - 1]);
    }
    if (!nas__grow(space->ctx, (void **)&space->stages, &space->cap_stages, space->num_stages + 1,
                   sizeof *space->stages))
        return nas__space_fail(space, NAS_E_NOMEM, NULL, "out of memory adding a stage");
    uint32_t *depths = nas__malloc(space->ctx, g.num_depths * sizeof *depths);
    if (!depths)
        return nas__space_fail(space, NAS_E_NOMEM, NULL, "out of memory adding a stage");
    memcpy(depths, g.depths, g.num_depths * sizeof *depths);
    space->stages[space->num_stages++] = (nas__stage_t){ g.channels, g.stride, depths, g.num_depths, 0, -1, 0 };
    return NAS_OK;
}

static bool integral(double v)
{
    return isfinite(v) && v == floor(v) && fabs(v) <= NAS__MAX_INT_ABS;
}

static nas_status_t check_hparam(nas_space_t *space, const nas_hparam_spec_t *h, int32_t item)
{
    const char *nm = h->name;
    if (!nm || !nas__valid_key(nm))
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_HPARAM, item, "name", -1),
                               "hyperparameter %d: the name must match [A-Za-z0-9_.-]+ (at most 128 bytes)", item);
    for (uint32_t i = 0; i < space->num_hparams; i++)
        if (strcmp(space->hparams[i].name, nm) == 0)
            return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_HPARAM, item, "name", -1),
                                   "duplicate hyperparameter name '%s'", nm);
    switch (h->kind) {
    case NAS_DIM_CATEGORICAL:
        if (h->num_choices == 0 || !h->choices)
            return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_HPARAM, item, "choices", -1),
                                   "hyperparameter '%s': the list of choices is empty", nm);
        if (h->num_choices > NAS_SPACE_MAX_CHOICES)
            return nas__space_fail(space, NAS_E_RANGE, LOC(NAS__SEC_HPARAM, item, "choices", -1),
                                   "hyperparameter '%s': %u choices, over the limit of %d", nm, h->num_choices,
                                   NAS_SPACE_MAX_CHOICES);
        for (uint32_t i = 0; i < h->num_choices; i++) {
            const char *c = h->choices[i];
            if (!nas__valid_label(c))
                return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_HPARAM, item, "choices", (int32_t)i),
                                       "hyperparameter '%s': choice %u must match [A-Za-z0-9_.+-]+ (at most %d bytes)",
                                       nm, i, NAS__MAX_LABEL);
            for (uint32_t j = 0; j < i; j++)
                if (strcmp(c, h->choices[j]) == 0)
                    return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_HPARAM, item, "choices", (int32_t)i),
                                           "hyperparameter '%s': duplicate choice '%s'", nm, c);
        }
        return NAS_OK;
    case NAS_DIM_INT:
    case NAS_DIM_FLOAT:
        break;
    default:
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_HPARAM, item, "type", -1),
                               "hyperparameter '%s': unknown kind %d", nm, (int)h->kind);
    }
    bool is_int = h->kind == NAS_DIM_INT;
    const char *bad = isnan(h->low) ? "low" : isnan(h->high) ? "high" : NULL;
    if (bad)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_HPARAM, item, bad, -1),
                               "hyperparameter '%s': %s is NaN", nm, bad);
    bad = !isfinite(h->low) ? "low" : !isfinite(h->high) ? "high" : NULL;
    if (bad)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_HPARAM, item, bad, -1),
                               "hyperparameter '%s': %s is infinite", nm, bad);
    if (is_int) {
        bad = !integral(h->low) ? "low" : !integral(h->high) ? "high" : NULL;
        if (bad)
            return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_HPARAM, item, bad, -1),
                                   "hyperparameter '%s': %s must be an integer of magnitude at most 1e15", nm, bad);
    }
    if (h->low > h->high)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_HPARAM, item, "low", -1),
                               "hyperparameter '%s': low (%g) is greater than high (%g)", nm, h->low, h->high);
    if (h->log_scale && h->low <= 0)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_HPARAM, item, "low", -1),
                               "hyperparameter '%s': log_scale needs low > 0 (got %g)", nm, h->low);
    if (is_int && h->high - h->low + 1 > (double)UINT32_MAX)
        return nas__space_fail(space, NAS_E_RANGE, LOC(NAS__SEC_HPARAM, item, "high", -1),
                               "hyperparameter '%s': more than %u integer values", nm, UINT32_MAX);
    if (!is_int && h->grid_points > NAS_SPACE_MAX_CHOICES)
        return nas__space_fail(space, NAS_E_RANGE, LOC(NAS__SEC_HPARAM, item, "grid_points", -1),
                               "hyperparameter '%s': %u grid points, over the limit of %d", nm, h->grid_points,
                               NAS_SPACE_MAX_CHOICES);
    return NAS_OK;
}

nas_status_t nas_space_add_hparam(nas_space_t *space, const nas_hparam_spec_t *spec)
{
    nas_hparam_spec_t h;
    nas_status_t st = begin(space, spec, &h, sizeof h, "nas_space_add_hparam");
    if (st != NAS_OK)
        return st;
    int32_t item = (int32_t)space->num_hparams;
    if (space->num_hparams >= NAS_SPACE_MAX_DIMS)
        return nas__space_fail(space, NAS_E_RANGE, LOC(NAS__SEC_HPARAM, item, NULL, -1),
                               "more than %d hyperparameters", NAS_SPACE_MAX_DIMS);
    if ((st = check_hparam(space, &h, item)) != NAS_OK)
        return st;
    if (!nas__grow(space->ctx, (void **)&space->hparams, &space->cap_hparams, space->num_hparams + 1,
                   sizeof *space->hparams))
        goto out_nomem;
    nas__hparam_t hp = { 0 };
    hp.kind = h.kind;
    if (h.kind != NAS_DIM_CATEGORICAL) {
        hp.low = h.low == 0 ? 0.0 : h.low;   /* no -0 */
        hp.high = h.high == 0 ? 0.0 : h.high;
        hp.log_scale = h.log_scale;
    }
    if (h.kind == NAS_DIM_FLOAT)
        hp.grid_points = h.grid_points ? h.grid_points : NAS__DEFAULT_GRID_POINTS;
    if (!(hp.name = nas__strdup(space->ctx, h.name)))
        goto out_nomem;
    if (h.kind == NAS_DIM_CATEGORICAL) {
        if (!(hp.choices = copy_strings(space->ctx, h.choices, h.num_choices))) {
            nas__free(space->ctx, hp.name);
            goto out_nomem;
        }
        hp.num_choices = h.num_choices;
    }
    space->hparams[space->num_hparams++] = hp;
    return NAS_OK;

out_nomem:
    return nas__space_fail(space, NAS_E_NOMEM, NULL, "out of memory adding a hyperparameter");
}

static bool has_type(const nas__cell_t *c, const char *name)
{
    for (uint32_t i = 0; i < c->num_types; i++)
        if (strcmp(c->types[i], name) == 0)
            return true;
    return false;
}

nas_status_t nas_space_build(nas_space_t *space)
{
    if (!space)
        return NAS_E_INVAL;
    if (space->built)
        return nas__space_fail(space, NAS_E_STATE, NULL, "the space is already built");
    if (space->has_macro && !space->has_cell)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_MACRO, -1, NULL, -1),
                               "a macro skeleton belongs to a cell space, but this space has no cell");
    if (space->num_stages > 0 && !space->has_chain)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_STAGE, 0, NULL, -1),
                               "chain stages were added but the space has no chain structure");
    if (space->has_chain && space->num_stages == 0)
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_CHAIN, -1, "stages", -1),
                               "a chain needs at least one stage");
    if (space->has_macro && space->macro.reduction == NAS_REDUCTION_CELL && !has_type(&space->cell, "reduce"))
        return nas__space_fail(space, NAS_E_SPEC, LOC(NAS__SEC_MACRO, -1, "reduction", -1),
                               "reduction 'cell' needs a cell type named 'reduce' in cell_types");
    if (!space->has_cell && !space->has_chain && space->num_hparams == 0)
        return nas__space_fail(space, NAS_E_SPEC, NULL,
                               "the space has no decisions: give a cell, a chain or hyperparameters");
    space->family = space->has_cell ? NAS_FAMILY_CELL : space->has_chain ? NAS_FAMILY_CHAIN : NAS_FAMILY_NONE;
    nas_status_t st = nas__space_build_dims(space);
    if (st == NAS_OK)
        st = nas__space_compute_sizes(space);
    if (st != NAS_OK) {
        nas__space_free_built(space);
        return st;
    }
    space->built = true;
    return NAS_OK;
}
