/* YAML text -> a tree of nodes with positions, through libyaml's event parser. */
#include "io/yaml_doc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

/* ---------------------------------------------------------------------- */
/* Messages                                                                */

nas_status_t nas__yfail(const nas__ydoc_t *doc, const nas__ynode_t *node, nas_status_t st, const char *fmt, ...)
{
    char what[NAS_ERRMSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return nas__ctx_fail(doc->ctx, st, "%s:%u:%u: %s", doc->origin, node ? node->line : 1u, node ? node->col : 1u,
                         what);
}

/* ---------------------------------------------------------------------- */
/* Tree                                                                    */

static void free_node(nas_context_t *ctx, nas__ynode_t *n)
{
    if (!n)
        return;
    for (uint32_t i = 0; i < n->n; i++)
        free_node(ctx, n->items[i]);
    nas__free(ctx, n->items);
    nas__free(ctx, n->text);
    nas__free(ctx, n);
}

void nas__ydoc_free(nas__ydoc_t *doc)
{
    if (!doc)
        return;
    nas_context_t *ctx = doc->ctx;
    free_node(ctx, doc->root);
    nas__free(ctx, doc->origin);
    nas__free(ctx, doc);
}

typedef struct builder {
    nas__ydoc_t *doc;
    const char *text;
    size_t len;
    nas__ynode_t *stack[NAS__YAML_MAX_DEPTH];
    uint32_t depth;
    uint32_t documents;
} builder_t;

static nas_status_t fail_at(builder_t *b, const yaml_mark_t *m, nas_status_t st, const char *what)
{
    return nas__ctx_fail(b->doc->ctx, st, "%s:%zu:%zu: %s", b->doc->origin, m->line + 1, m->column + 1, what);
}

/* Line and column of a byte offset (reader errors come with an offset only). */
static void offset_mark(const builder_t *b, size_t off, yaml_mark_t *m)
{
    m->line = m->column = 0;
    for (size_t i = 0; i < off && i < b->len; i++) {
        if (b->text[i] == '\n') {
            m->line++;
            m->column = 0;
        } else {
            m->column++;
        }
    }
}

static nas_status_t parser_error(builder_t *b, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR)
        return nas__ctx_fail(b->doc->ctx, NAS_E_NOMEM, "%s: out of memory parsing YAML", b->doc->origin);
    yaml_mark_t m = p->problem_mark;
    if (p->error == YAML_READER_ERROR)
        offset_mark(b, p->problem_offset, &m);
    char what[512];
    if (p->context)
        snprintf(what, sizeof what, "%s (%s started at line %zu, column %zu)", p->problem ? p->problem : "syntax error",
                 p->context, p->context_mark.line + 1, p->context_mark.column + 1);
    else
        snprintf(what, sizeof what, "%s", p->problem ? p->problem : "syntax error");
    return fail_at(b, &m, NAS_E_PARSE, what);
}

static bool key_equal(const nas__ynode_t *a, const nas__ynode_t *b)
{
    return a->kind == NAS__Y_SCALAR && b->kind == NAS__Y_SCALAR && strcmp(a->text, b->text) == 0;
}

/* Attach a new node to the open container (or make it the root). */
static nas_status_t attach(builder_t *b, nas__ynode_t *node, const yaml_mark_t *m)
{
    nas_context_t *ctx = b->doc->ctx;
    if (b->depth == 0) {
        b->doc->root = node;
        return NAS_OK;
    }
    nas__ynode_t *top = b->stack[b->depth - 1];
    if (top->kind == NAS__Y_MAP && top->n % 2 == 0) {
        if (node->kind != NAS__Y_SCALAR) {
            free_node(ctx, node);
            return fail_at(b, m, NAS_E_PARSE, "a mapping key must be a plain value, not a list or a mapping");
        }
        if (top->n / 2 >= NAS__YAML_MAX_KEYS) {
            free_node(ctx, node);
            return fail_at(b, m, NAS_E_RANGE, "a mapping with more than 4096 keys");
        }
        for (uint32_t i = 0; i < top->n; i += 2) {
            if (key_equal(top->items[i], node)) {
                char what[256];
                snprintf(what, sizeof what, "duplicate key '%.64s' (first at line %u)", node->text,
                         top->items[i]->line);
                free_node(ctx, node);
                return fail_at(b, m, NAS_E_PARSE, what);
            }
        }
    }
    if (!nas__grow(ctx, (void **)&top->items, &top->cap, top->n + 1, sizeof *top->items)) {
        free_node(ctx, node);
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "%s: out of memory parsing YAML", b->doc->origin);
    }
    top->items[top->n++] = node;
    return NAS_OK;
}

static nas_status_t on_node(builder_t *b, const yaml_event_t *ev, int32_t kind)
{
    nas_context_t *ctx = b->doc->ctx;
    const yaml_mark_t *m = &ev->start_mark;
    const yaml_char_t *anchor = kind == NAS__Y_SCALAR ? ev->data.scalar.anchor
                                : kind == NAS__Y_SEQ  ? ev->data.sequence_start.anchor
                                                      : ev->data.mapping_start.anchor;
    if (anchor)
        return fail_at(b, m, NAS_E_PARSE, "anchors (&name) are not supported");
    if (++b->doc->num_nodes > NAS__YAML_MAX_NODES)
        return fail_at(b, m, NAS_E_RANGE, "more than 1048576 YAML nodes");
    if (kind != NAS__Y_SCALAR && b->depth >= NAS__YAML_MAX_DEPTH)
        return fail_at(b, m, NAS_E_RANGE, "YAML nested more than 64 levels deep");
    nas__ynode_t *node = nas__calloc(ctx, 1, sizeof *node);
    if (!node)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "%s: out of memory parsing YAML", b->doc->origin);
    node->kind = kind;
    node->line = (uint32_t)m->line + 1;
    node->col = (uint32_t)m->column + 1;
    if (kind == NAS__Y_SCALAR) {
        const char *v = (const char *)ev->data.scalar.value;
        size_t n = ev->data.scalar.length;
        if (memchr(v, '\0', n)) {
            free_node(ctx, node);
            return fail_at(b, m, NAS_E_PARSE, "a NUL character in a value");
        }
        if (!(node->text = nas__strndup(ctx, v, n))) {
            free_node(ctx, node);
            return nas__ctx_fail(ctx, NAS_E_NOMEM, "%s: out of memory parsing YAML", b->doc->origin);
        }
        const char *tag = (const char *)ev->data.scalar.tag;
        node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !(tag && strcmp(tag, YAML_STR_TAG) == 0);
    }
    nas_status_t st = attach(b, node, m);
    if (st != NAS_OK)
        return st;
    if (kind != NAS__Y_SCALAR)
        b->stack[b->depth++] = node;
    return NAS_OK;
}

/* One event; *done at the end of the stream. */
static nas_status_t on_event(builder_t *b, const yaml_event_t *ev, bool *done)
{
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        *done = true;
        return NAS_OK;
    case YAML_DOCUMENT_START_EVENT:
        if (++b->documents > 1)
            return fail_at(b, &ev->start_mark, NAS_E_PARSE, "more than one YAML document ('---') in the file");
        return NAS_OK;
    case YAML_ALIAS_EVENT:
        return fail_at(b, &ev->start_mark, NAS_E_PARSE, "aliases (*name) are not supported");
    case YAML_SCALAR_EVENT:
        return on_node(b, ev, NAS__Y_SCALAR);
    case YAML_SEQUENCE_START_EVENT:
        return on_node(b, ev, NAS__Y_SEQ);
    case YAML_MAPPING_START_EVENT:
        return on_node(b, ev, NAS__Y_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (b->depth > 0)
            b->depth--;
        return NAS_OK;
    default:
        return NAS_OK;
    }
}

nas_status_t nas__ydoc_parse(nas__ydoc_t **out, nas_context_t *ctx, const char *text, size_t len, const char *origin)
{
    *out = NULL;
    if (!origin)
        origin = "<string>";
    if (!text && len > 0)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "%s: the YAML text is NULL", origin);
    nas__ydoc_t *doc = nas__calloc(ctx, 1, sizeof *doc);
    if (!doc)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "%s: out of memory parsing YAML", origin);
    doc->ctx = ctx;
    if (!(doc->origin = nas__strdup(ctx, origin))) {
        nas__free(ctx, doc);
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "%s: out of memory parsing YAML", origin);
    }
    builder_t b;
    memset(&b, 0, sizeof b);
    b.doc = doc;
    b.text = text ? text : "";
    b.len = len;

    nas_status_t st = NAS_OK;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        st = nas__ctx_fail(ctx, NAS_E_NOMEM, "%s: out of memory parsing YAML", origin);
        goto out_free_doc;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)b.text, len);
    for (bool done = false; !done && st == NAS_OK;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            st = parser_error(&b, &parser);
            break;
        }
        st = on_event(&b, &ev, &done);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    if (st != NAS_OK)
        goto out_free_doc;
    *out = doc;
    return NAS_OK;

out_free_doc:
    nas__ydoc_free(doc);
    return st;
}

nas_status_t nas__ydoc_load_file(nas__ydoc_t **out, nas_context_t *ctx, const char *path, size_t max_bytes)
{
    *out = NULL;
    char *text;
    size_t len;
    nas_status_t st = nas__read_file(ctx, path, max_bytes, &text, &len, ctx->errmsg);
    if (st == NAS_E_NOT_FOUND)
        st = NAS_E_IO;
    if (st != NAS_OK)
        return st;
    st = nas__ydoc_parse(out, ctx, text, len, path);
    nas__free(ctx, text);
    return st;
}

/* ---------------------------------------------------------------------- */
/* Readers                                                                 */

const nas__ynode_t *nas__ymap_get(const nas__ynode_t *map, const char *key, const nas__ynode_t **key_node)
{
    if (key_node)
        *key_node = NULL;
    if (!map || map->kind != NAS__Y_MAP)
        return NULL;
    for (uint32_t i = 0; i + 1 < map->n; i += 2) {
        if (strcmp(map->items[i]->text, key) == 0) {
            if (key_node)
                *key_node = map->items[i];
            return map->items[i + 1];
        }
    }
    return NULL;
}

bool nas__ynode_is_null(const nas__ynode_t *node)
{
    if (!node || node->kind != NAS__Y_SCALAR || !node->plain)
        return false;
    const char *t = node->text;
    return !*t || strcmp(t, "~") == 0 || strcmp(t, "null") == 0 || strcmp(t, "Null") == 0 || strcmp(t, "NULL") == 0;
}

static const char *kind_name(const nas__ynode_t *node)
{
    if (nas__ynode_is_null(node))
        return "nothing";
    switch (node->kind) {
    case NAS__Y_MAP: return "a mapping";
    case NAS__Y_SEQ: return "a list";
    default: return node->plain ? "a plain value" : "a quoted string";
    }
}

nas_status_t nas__yexpect_map(const nas__ydoc_t *doc, const nas__ynode_t *node, const char *what)
{
    if (node && node->kind == NAS__Y_MAP)
        return NAS_OK;
    return nas__yfail(doc, node, NAS_E_SPEC, "%s must be a mapping (key: value lines), not %s", what,
                      node ? kind_name(node) : "missing");
}

nas_status_t nas__yexpect_seq(const nas__ydoc_t *doc, const nas__ynode_t *node, const char *what)
{
    if (node && node->kind == NAS__Y_SEQ)
        return NAS_OK;
    return nas__yfail(doc, node, NAS_E_SPEC, "%s must be a list ([a, b] or '- ' lines), not %s", what,
                      node ? kind_name(node) : "missing");
}

/* Edit distance of two short strings, a swap of neighbours counting as one edit (for "did you mean"). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* Characters two strings share (as bags): breaks ties between equally distant suggestions. */
static size_t common_chars(const char *a, const char *b)
{
    size_t ca[256] = { 0 }, n = 0;
    for (; *a; a++)
        ca[(unsigned char)*a]++;
    for (; *b; b++)
        if (ca[(unsigned char)*b]) {
            ca[(unsigned char)*b]--;
            n++;
        }
    return n;
}

nas_status_t nas__ycheck_keys(const nas__ydoc_t *doc, const nas__ynode_t *map, const char *what,
                              const char *const *allowed)
{
    for (uint32_t i = 0; i + 1 < map->n; i += 2) {
        const nas__ynode_t *k = map->items[i];
        size_t j = 0, best = 0, best_d = 99;
        for (; allowed[j]; j++) {
            if (strcmp(k->text, allowed[j]) == 0)
                break;
            size_t d = distance(k->text, allowed[j]);
            bool closer = d == best_d && common_chars(k->text, allowed[j]) > common_chars(k->text, allowed[best]);
            if (d < best_d || closer) {
                best_d = d;
                best = j;
            }
        }
        if (allowed[j])
            continue;
        if (best_d <= (strlen(k->text) >= 6 ? 3u : 2u))
            return nas__yfail(doc, k, NAS_E_SPEC, "unknown key '%.64s' in %s (did you mean '%s'?)", k->text, what,
                              allowed[best]);
        char list[512] = "";
        size_t len = 0;
        for (j = 0; allowed[j] && len < sizeof list - 64; j++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", j ? ", " : "", allowed[j]);
        return nas__yfail(doc, k, NAS_E_SPEC, "unknown key '%.64s' in %s (expected one of: %s)", k->text, what, list);
    }
    return NAS_OK;
}

nas_status_t nas__yread_str(const nas__ydoc_t *doc, const nas__ynode_t *node, const char *what, const char **out)
{
    if (!node || node->kind != NAS__Y_SCALAR || nas__ynode_is_null(node))
        return nas__yfail(doc, node, NAS_E_SPEC, "%s must be a string, not %s", what,
                          node ? kind_name(node) : "missing");
    *out = node->text;
    return NAS_OK;
}

static bool is_nan_text(const char *t)
{
    return strcasecmp(t, "nan") == 0 || strcasecmp(t, ".nan") == 0;
}

nas_status_t nas__yread_int(const nas__ydoc_t *doc, const nas__ynode_t *node, const char *what, int64_t lo,
                            int64_t hi, int64_t *out)
{
    if (!node || node->kind != NAS__Y_SCALAR || !node->plain || nas__ynode_is_null(node))
        return nas__yfail(doc, node, NAS_E_SPEC, "%s must be an integer, not %s", what,
                          node ? kind_name(node) : "missing");
    const char *t = node->text;
    const char *p = t + (*t == '-' || *t == '+');
    bool digits = *p != '\0';
    for (const char *q = p; *q; q++)
        digits &= *q >= '0' && *q <= '9';
    if (!digits)
        return nas__yfail(doc, node, NAS_E_SPEC, "%s must be an integer, not '%.64s'", what, t);
    errno = 0;
    long long v = strtoll(t, NULL, 10);
    if (errno == ERANGE || v < lo || v > hi)
        return nas__yfail(doc, node, NAS_E_SPEC, "%s must be in %lld..%lld (got %.64s)", what, (long long)lo,
                          (long long)hi, t);
    *out = v;
    return NAS_OK;
}

nas_status_t nas__yread_u64(const nas__ydoc_t *doc, const nas__ynode_t *node, const char *what, uint64_t *out)
{
    if (!node || node->kind != NAS__Y_SCALAR || !node->plain || nas__ynode_is_null(node))
        return nas__yfail(doc, node, NAS_E_SPEC, "%s must be a non-negative integer, not %s", what,
                          node ? kind_name(node) : "missing");
    const char *t = node->text;
    uint64_t v = 0;
    bool ok = *t != '\0';
    for (const char *q = t; *q && ok; q++) {
        uint64_t d = (uint64_t)(*q - '0');
        ok = *q >= '0' && *q <= '9' && v <= (UINT64_MAX - d) / 10;
        v = v * 10 + d;
    }
    if (!ok)
        return nas__yfail(doc, node, NAS_E_SPEC, "%s must be an integer in 0..18446744073709551615 (got '%.64s')",
                          what, t);
    *out = v;
    return NAS_OK;
}

nas_status_t nas__yread_double(const nas__ydoc_t *doc, const nas__ynode_t *node, const char *what, double *out)
{
    if (!node || node->kind != NAS__Y_SCALAR || !node->plain || nas__ynode_is_null(node))
        return nas__yfail(doc, node, NAS_E_SPEC, "%s must be a number, not %s", what,
                          node ? kind_name(node) : "missing");
    const char *t = node->text;
    if (is_nan_text(t))
        return nas__yfail(doc, node, NAS_E_SPEC, "%s is NaN; a finite number is needed", what);
    char c = t[0];
    char *end = NULL;
    double v = 0;
    bool ok = (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.';
    if (ok) {
        errno = 0;
        v = nas__strtod(t, &end);
        ok = end != t && *end == '\0';
    }
    if (!ok)
        return nas__yfail(doc, node, NAS_E_SPEC, "%s must be a number, not '%.64s'", what, t);
    if (!isfinite(v))
        return nas__yfail(doc, node, NAS_E_SPEC, "%s must be a finite number (got '%.64s')", what, t);
    *out = v;
    return NAS_OK;
}

nas_status_t nas__yread_bool(const nas__ydoc_t *doc, const nas__ynode_t *node, const char *what, bool *out)
{
    if (node && node->kind == NAS__Y_SCALAR && node->plain) {
        const char *t = node->text;
        if (strcmp(t, "true") == 0 || strcmp(t, "True") == 0 || strcmp(t, "yes") == 0) {
            *out = true;
            return NAS_OK;
        }
        if (strcmp(t, "false") == 0 || strcmp(t, "False") == 0 || strcmp(t, "no") == 0) {
            *out = false;
            return NAS_OK;
        }
    }
    return nas__yfail(doc, node, NAS_E_SPEC, "%s must be true or false", what);
}
