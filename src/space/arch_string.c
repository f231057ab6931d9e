/* Canonical strings of archs (docs/spaces.md "Canonical strings") and their parser.
 *   cell, all edges (NAS-Bench-201):  |op~0|+|op~0|op~1|+|op~0|op~1|op~2|
 *   cell, k inputs per node (DARTS):  |op~a|op~b|+|op~a|op~b|...   (a < b), per cell type
 *                                     "normal:" ... "/reduce:" ... when there are several types
 *   chain:                            width=0.75:mb3_e3,mb5_e6|mb7_e6,skip,mb3_e3|...
 *   hyperparameters:                  ;name=value after the architecture, in declaration order */
#include "space/space_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Writing into the caller's buffer: never past cap, but count the full length. */

typedef struct out {
    char *buf;
    size_t cap, len;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->buf && o->len + n < o->cap)
        memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void puts_(out_t *o, const char *s)
{
    put(o, s, strlen(s));
}

static void putu(out_t *o, uint64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    put(o, b, (size_t)n);
}

static void write_cell(const nas_space_t *s, const uint32_t *choice, out_t *o)
{
    const nas__cell_t *c = &s->cell;
    uint32_t types = c->num_types ? c->num_types : 1, total = c->num_inputs + c->num_nodes, k = c->inputs_per_node;
    for (uint32_t t = 0; t < types; t++) {
        if (t > 0)
            put(o, "/", 1);
        if (types > 1) {
            puts_(o, c->types[t]);
            put(o, ":", 1);
        }
        uint32_t d = s->cell_first_dim[t];
        for (uint32_t i = c->num_inputs; i < total; i++) {
            put(o, i > c->num_inputs ? "+|" : "|", i > c->num_inputs ? 2 : 1);
            if (k == 0) {
                for (uint32_t j = 0; j < i; j++, d++) {
                    puts_(o, nas__dim_label(s, d, choice[d]));
                    put(o, "~", 1);
                    putu(o, j);
                    put(o, "|", 1);
                }
                continue;
            }
            const nas__labels_t *in = &s->labels[s->dims[d].labels];
            const uint8_t *row = in->members + (size_t)choice[d] * k;
            for (uint32_t j = 0; j < k; j++) {
                puts_(o, nas__dim_label(s, d + 1 + j, choice[d + 1 + j]));
                put(o, "~", 1);
                putu(o, row[j]);
                put(o, "|", 1);
            }
            d += 1 + k;
        }
    }
}

static uint32_t stage_depth(const nas__stage_t *g, const uint32_t *choice)
{
    return g->depths[g->depth_dim >= 0 ? choice[g->depth_dim] : 0];
}

static void write_chain(const nas_space_t *s, const uint32_t *choice, out_t *o)
{
    if (s->width_dim >= 0) {
        puts_(o, "width=");
        puts_(o, nas__dim_label(s, (uint32_t)s->width_dim, choice[s->width_dim]));
        put(o, ":", 1);
    }
    for (uint32_t si = 0; si < s->num_stages; si++) {
        const nas__stage_t *g = &s->stages[si];
        if (si > 0)
            put(o, "|", 1);
        uint32_t depth = stage_depth(g, choice);
        for (uint32_t l = 0; l < depth; l++) {
            if (l > 0)
                put(o, ",", 1);
            puts_(o, nas__dim_label(s, g->first_layer + l, choice[g->first_layer + l]));
        }
    }
}

static void write_value(const nas_space_t *s, const nas_arch_t *a, uint32_t d, out_t *o)
{
    const nas__dim_t *dim = &s->dims[d];
    char b[48];
    switch (dim->kind) {
    case NAS_DIM_CATEGORICAL:
        puts_(o, nas__dim_label(s, d, a->choice[d]));
        break;
    case NAS_DIM_INT:
        snprintf(b, sizeof b, "%.0f", dim->low + a->choice[d]);
        puts_(o, b);
        break;
    default:
        nas__fmt_double(b, sizeof b, a->value[d]);
        puts_(o, b);
    }
}

nas_status_t nas_arch_to_string(const nas_arch_t *arch, uint32_t flags, char *buf, size_t cap, size_t *len)
{
    if (!arch)
        return NAS_E_INVAL;
    const nas_space_t *s = arch->space;
    out_t o = { buf, cap, 0 };
    if (s->family == NAS_FAMILY_CELL)
        write_cell(s, arch->choice, &o);
    else if (s->family == NAS_FAMILY_CHAIN)
        write_chain(s, arch->choice, &o);
    if (!(flags & NAS_STRING_ARCH_ONLY)) {
        for (uint32_t d = s->num_arch_dims; d < s->num_dims; d++) {
            put(&o, ";", 1);
            puts_(&o, s->dims[d].name);
            put(&o, "=", 1);
            write_value(s, arch, d, &o);
        }
    }
    if (len)
        *len = o.len;
    if (!buf || o.len >= cap) {
        if (buf && cap)
            buf[0] = '\0';
        return nas__space_fail(arch->space, NAS_E_RANGE, NULL,
                               "nas_arch_to_string: the string has %zu bytes, the buffer holds %zu", o.len + 1, cap);
    }
    buf[o.len] = '\0';
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Parsing                                                                 */

typedef struct parser {
    nas_space_t *space;
    const char *str;
    size_t pos;
    uint32_t *choice;   /* working copy; committed only on success */
    double *value;
} parser_t;

static nas_status_t perr(parser_t *p, const char *fmt, ...) NAS_PRINTF(2, 3);
static nas_status_t perr(parser_t *p, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *at = p->str + p->pos;
    return nas__space_fail(p->space, NAS_E_PARSE, NULL, "arch string, character %zu: %s (at \"%.20s%s\")", p->pos + 1,
                           what, at, strlen(at) > 20 ? "..." : "");
}

static bool is_sep(char c)
{
    return c == '\0' || c == '~' || c == '|' || c == '+' || c == '/' || c == ';' || c == ',' || c == ':' || c == '=';
}

/* A token up to the next separator. */
static size_t token(const parser_t *p)
{
    size_t n = 0;
    while (!is_sep(p->str[p->pos + n]))
        n++;
    return n;
}

static nas_status_t expect(parser_t *p, char c, const char *where)
{
    if (p->str[p->pos] != c)
        return perr(p, "expected '%c' %s", c, where);
    p->pos++;
    return NAS_OK;
}

/* The choice of categorical dim d whose label is the next token. */
static nas_status_t read_label(parser_t *p, uint32_t d, const char *what)
{
    size_t n = token(p);
    if (n == 0)
        return perr(p, "expected %s for '%s'", what, p->space->dims[d].name);
    const nas__labels_t *L = &p->space->labels[p->space->dims[d].labels];
    for (uint32_t c = 0; c < L->n; c++) {
        if (strlen(L->label[c]) == n && memcmp(L->label[c], p->str + p->pos, n) == 0) {
            p->choice[d] = c;
            p->pos += n;
            return NAS_OK;
        }
    }
    return perr(p, "'%.*s' is not a valid %s for '%s'", (int)(n > 64 ? 64 : n), p->str + p->pos, what,
                p->space->dims[d].name);
}

static nas_status_t read_node_index(parser_t *p, uint32_t *out)
{
    uint32_t v = 0;
    size_t n = 0;
    while (p->str[p->pos + n] >= '0' && p->str[p->pos + n] <= '9' && n < 3)
        v = v * 10 + (uint32_t)(p->str[p->pos + n++] - '0');
    if (n == 0 || (p->str[p->pos + n] >= '0' && p->str[p->pos + n] <= '9'))
        return perr(p, "expected a node number after '~'");
    if (n > 1 && p->str[p->pos] == '0')
        return perr(p, "node numbers have no leading zeros");
    p->pos += n;
    *out = v;
    return NAS_OK;
}

static nas_status_t parse_cell(parser_t *p)
{
    const nas_space_t *s = p->space;
    const nas__cell_t *c = &s->cell;
    uint32_t types = c->num_types ? c->num_types : 1, total = c->num_inputs + c->num_nodes, k = c->inputs_per_node;
    nas_status_t st;
    for (uint32_t t = 0; t < types; t++) {
        if (t > 0 && (st = expect(p, '/', "between cell types")) != NAS_OK)
            return st;
        if (types > 1) {
            size_t n = strlen(c->types[t]);
            if (strncmp(p->str + p->pos, c->types[t], n) != 0 || p->str[p->pos + n] != ':')
                return perr(p, "expected '%s:' (cell type %u of %u)", c->types[t], t + 1, types);
            p->pos += n + 1;
        }
        uint32_t d = s->cell_first_dim[t];
        for (uint32_t i = c->num_inputs; i < total; i++) {
            if (i > c->num_inputs && (st = expect(p, '+', "between nodes")) != NAS_OK)
                return st;
            if ((st = expect(p, '|', "at the start of a node")) != NAS_OK)
                return st;
            uint32_t entries = k ? k : i, node[NAS_SPACE_MAX_NODES];
            uint8_t row8[NAS_SPACE_MAX_NODES];
            for (uint32_t j = 0; j < entries; j++) {
                uint32_t od = k ? d + 1 + j : d + j;
                if ((st = read_label(p, od, "op")) != NAS_OK)
                    return st;
                if ((st = expect(p, '~', "after an op")) != NAS_OK)
                    return st;
                size_t at = p->pos;
                if ((st = read_node_index(p, &node[j])) != NAS_OK)
                    return st;
                if (k == 0 && node[j] != j) {
                    p->pos = at;
                    return perr(p, "node %u lists its edges from nodes 0..%u in order: expected ~%u", i, i - 1, j);
                }
                if (k > 0 && (node[j] >= i || (j > 0 && node[j] <= node[j - 1]))) {
                    p->pos = at;
                    return perr(p, "node %u takes %u distinct earlier nodes in increasing order (0..%u)", i, k, i - 1);
                }
                if ((st = expect(p, '|', "after an edge")) != NAS_OK)
                    return st;
            }
            if (!is_sep(p->str[p->pos]) || p->str[p->pos] == '~')
                return perr(p, "node %u has exactly %u %s", i, entries, k ? "inputs" : "edges");
            if (k > 0) {
                /* The INPUTS choice is the row of the node's input sets that lists these nodes. */
                const nas__labels_t *in = &s->labels[s->dims[d].labels];
                for (uint32_t j = 0; j < k; j++)
                    row8[j] = (uint8_t)node[j];
                for (uint32_t r = 0; r < in->n; r++) {
                    if (memcmp(in->members + (size_t)r * k, row8, k) == 0) {
                        p->choice[d] = r;
                        break;
                    }
                }
                d += 1 + k;
            } else {
                d += i;
            }
        }
    }
    return NAS_OK;
}

static nas_status_t parse_chain(parser_t *p)
{
    const nas_space_t *s = p->space;
    nas_status_t st;
    if (s->width_dim >= 0) {
        if (strncmp(p->str + p->pos, "width=", 6) != 0)
            return perr(p, "expected 'width=' (the space has a width decision)");
        p->pos += 6;
        uint32_t wd = (uint32_t)s->width_dim;
        size_t n = token(p);
        char num[64];
        double w;
        snprintf(num, sizeof num, "%.*s", (int)(n < 63 ? n : 63), p->str + p->pos);
        const nas__labels_t *L = &s->labels[s->dims[wd].labels];
        uint32_t c = 0;
        if (n > 0 && n < 63 && nas__parse_double(num, &w))
            while (c < L->n && L->number[c] != w)
                c++;
        else
            c = L->n;
        if (c == L->n)
            return perr(p, "'%s' is not one of the width multipliers of the space", num);
        p->choice[wd] = c;
        p->pos += n;
        if ((st = expect(p, ':', "after the width")) != NAS_OK)
            return st;
    }
    for (uint32_t si = 0; si < s->num_stages; si++) {
        const nas__stage_t *g = &s->stages[si];
        uint32_t max = g->depths[g->num_depths - 1], l = 0;
        if (si > 0 && (st = expect(p, '|', "between stages")) != NAS_OK)
            return st;
        for (;; l++) {
            if (l > 0 && p->str[p->pos] != ',')
                break;
            if (l > 0)
                p->pos++;
            if (l >= max)
                return perr(p, "stage %u has at most %u layers", si, max);
            if (l == 0 && strncmp(p->str + p->pos, "skip", 4) == 0 && is_sep(p->str[p->pos + 4]))
                return perr(p, "the first layer of stage %u cannot be skip", si);
            if ((st = read_label(p, g->first_layer + l, "op")) != NAS_OK)
                return st;
        }
        uint32_t k = 0;
        while (k < g->num_depths && g->depths[k] != l)
            k++;
        if (k == g->num_depths)
            return perr(p, "stage %u has %u layers, which is not one of its allowed depths", si, l);
        if (g->depth_dim >= 0)
            p->choice[g->depth_dim] = k;
        for (; l < max; l++)
            p->choice[g->first_layer + l] = 0;
    }
    if (p->str[p->pos] == '|')
        return perr(p, "the space has %u stages", s->num_stages);
    return NAS_OK;
}

static nas_status_t parse_int_value(parser_t *p, uint32_t d, const char *v, size_t n)
{
    const nas__dim_t *dim = &p->space->dims[d];
    char buf[32];
    if (n == 0 || n >= sizeof buf)
        return perr(p, "'%s' needs an integer", dim->name);
    memcpy(buf, v, n);
    buf[n] = '\0';
    char *end;
    long long x = strtoll(buf, &end, 10);
    if (*end != '\0' || buf[0] == ' ' || buf[0] == '+')
        return perr(p, "'%s' needs an integer", dim->name);
    if ((double)x < dim->low || (double)x > dim->high)
        return perr(p, "%lld is outside the range of '%s' [%.0f, %.0f]", x, dim->name, dim->low, dim->high);
    p->choice[d] = (uint32_t)((double)x - dim->low);
    return NAS_OK;
}

static nas_status_t parse_hparams(parser_t *p)
{
    const nas_space_t *s = p->space;
    uint64_t seen[NAS_SPACE_MAX_DIMS / 64] = { 0 };
    while (p->str[p->pos] == ';') {
        p->pos++;
        size_t n = 0;
        while (p->str[p->pos + n] && p->str[p->pos + n] != '=' && p->str[p->pos + n] != ';')
            n++;
        uint32_t d = s->num_arch_dims;
        while (d < s->num_dims && !(strlen(s->dims[d].name) == n && memcmp(s->dims[d].name, p->str + p->pos, n) == 0))
            d++;
        if (d == s->num_dims)
            return perr(p, "unknown hyperparameter '%.*s'", (int)(n > 64 ? 64 : n), p->str + p->pos);
        if (seen[d / 64] >> (d % 64) & 1)
            return perr(p, "hyperparameter '%s' is given twice", s->dims[d].name);
        seen[d / 64] |= 1ull << (d % 64);
        p->pos += n;
        if (p->str[p->pos] != '=')
            return perr(p, "expected '=' after '%s'", s->dims[d].name);
        p->pos++;
        const char *v = p->str + p->pos;
        size_t vn = 0;
        while (v[vn] && v[vn] != ';')
            vn++;
        const nas__dim_t *dim = &s->dims[d];
        nas_status_t st = NAS_OK;
        if (dim->kind == NAS_DIM_CATEGORICAL) {
            const nas__labels_t *L = &s->labels[dim->labels];
            uint32_t c = 0;
            while (c < L->n && !(strlen(L->label[c]) == vn && memcmp(L->label[c], v, vn) == 0))
                c++;
            if (c == L->n)
                return perr(p, "'%.*s' is not a choice of '%s'", (int)(vn > 64 ? 64 : vn), v, dim->name);
            p->choice[d] = c;
        } else if (dim->kind == NAS_DIM_INT) {
            st = parse_int_value(p, d, v, vn);
        } else {
            char buf[72];
            double x;
            snprintf(buf, sizeof buf, "%.*s", (int)(vn < 71 ? vn : 71), v);
            if (vn == 0 || vn > 64 || !nas__parse_double(buf, &x))
                return perr(p, "'%s' needs a finite number", dim->name);
            if (x < dim->low || x > dim->high)
                return perr(p, "%s is outside the range of '%s' [%g, %g]", buf, dim->name, dim->low, dim->high);
            p->value[d] = x == 0 ? 0.0 : x;
        }
        if (st != NAS_OK)
            return st;
        p->pos += vn;
    }
    if (p->str[p->pos] != '\0')
        return perr(p, "unexpected text after the architecture");
    return NAS_OK;
}

nas_status_t nas_arch_from_string(nas_arch_t *arch, const char *str)
{
    if (!arch || !str)
        return NAS_E_INVAL;
    nas_space_t *s = arch->space;
    uint32_t n = s->num_dims;
    void *mem = nas__malloc(s->ctx, (size_t)n * (sizeof(double) + sizeof(uint32_t)));
    if (!mem)
        return nas__space_fail(s, NAS_E_NOMEM, NULL, "out of memory parsing an arch string");
    parser_t p = { s, str, 0, NULL, mem };
    p.choice = (uint32_t *)(void *)(p.value + n);
    memcpy(p.value, arch->value, n * sizeof *p.value);
    memcpy(p.choice, arch->choice, n * sizeof *p.choice);
    nas_status_t st = NAS_OK;
    if (s->family == NAS_FAMILY_CELL)
        st = parse_cell(&p);
    else if (s->family == NAS_FAMILY_CHAIN)
        st = parse_chain(&p);
    if (st == NAS_OK)
        st = parse_hparams(&p);
    if (st == NAS_OK) {
        nas__arch_normalize(s, p.choice);
        memcpy(arch->value, p.value, n * sizeof *p.value);
        memcpy(arch->choice, p.choice, n * sizeof *p.choice);
    }
    nas__free(s->ctx, mem);
    return st;
}
