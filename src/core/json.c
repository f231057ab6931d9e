/* Recursive-descent JSON reader with a depth limit; every node is owned by its parent. */
#include "core/json.h"

#include <math.h>
#include <string.h>

typedef struct parser {
    nas_context_t *ctx;
    const char *p, *start, *end;
    char *errbuf;
    nas_status_t st;
} parser_t;

static bool fail(parser_t *ps, nas_status_t st, const char *what)
{
    if (ps->st == NAS_OK)
        ps->st = nas__fail(ps->errbuf, st, "offset %zu: %s", (size_t)(ps->p - ps->start), what);
    return false;
}

static void skip_ws(parser_t *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool literal(parser_t *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, NAS_E_PARSE, "invalid literal");
    ps->p += n;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool hex4(parser_t *ps, uint32_t *out)
{
    if (ps->end - ps->p < 4)
        return fail(ps, NAS_E_PARSE, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(ps->p[i]);
        if (h < 0)
            return fail(ps, NAS_E_PARSE, "bad \\u escape");
        v = v * 16 + (uint32_t)h;
    }
    ps->p += 4;
    *out = v;
    return true;
}

static void put_utf8(nas__sb_t *sb, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    nas__sb_append(sb, b, n);
}

static bool escape(parser_t *ps, nas__sb_t *sb)
{
    if (ps->p >= ps->end)
        return fail(ps, NAS_E_PARSE, "unterminated string");
    char c = *ps->p++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = strchr(from, c);
    if (k && c) {
        nas__sb_putc(sb, to[k - from]);
        return true;
    }
    if (c != 'u')
        return fail(ps, NAS_E_PARSE, "bad escape");
    uint32_t cp;
    if (!hex4(ps, &cp))
        return false;
    if (cp >= 0xd800 && cp < 0xdc00) {
        uint32_t lo;
        if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
            return fail(ps, NAS_E_PARSE, "unpaired surrogate");
        ps->p += 2;
        if (!hex4(ps, &lo))
            return false;
        if (lo < 0xdc00 || lo > 0xdfff)
            return fail(ps, NAS_E_PARSE, "unpaired surrogate");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        return fail(ps, NAS_E_PARSE, "unpaired surrogate");
    }
    if (cp == 0)
        return fail(ps, NAS_E_PARSE, "NUL in a string");
    put_utf8(sb, cp);
    return true;
}

static bool string(parser_t *ps, char **out)
{
    ps->p++;   /* the opening quote */
    nas__sb_t sb;
    nas__sb_init(&sb, ps->ctx);
    nas__sb_append(&sb, "", 0);
    for (;;) {
        const char *run = ps->p;
        while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && (unsigned char)*ps->p >= 0x20)
            ps->p++;
        nas__sb_append(&sb, run, (size_t)(ps->p - run));
        if (ps->p >= ps->end) {
            nas__sb_free(&sb);
            return fail(ps, NAS_E_PARSE, "unterminated string");
        }
        char c = *ps->p++;
        if (c == '"')
            break;
        if (c != '\\' || !escape(ps, &sb)) {
            nas__sb_free(&sb);
            if (c != '\\')
                ps->p--;
            return fail(ps, NAS_E_PARSE, "control character in a string");
        }
    }
    if (sb.failed) {
        nas__sb_free(&sb);
        return fail(ps, NAS_E_NOMEM, "out of memory");
    }
    if (!sb.data && !(sb.data = nas__strdup(ps->ctx, "")))
        return fail(ps, NAS_E_NOMEM, "out of memory");
    *out = sb.data;
    return true;
}

static bool number(parser_t *ps, double *out)
{
    const char *q = ps->p;
    if (q < ps->end && *q == '-')
        q++;
    if (q >= ps->end || *q < '0' || *q > '9')
        return fail(ps, NAS_E_PARSE, "invalid value");
    if (*q == '0' && q + 1 < ps->end && q[1] >= '0' && q[1] <= '9')
        return fail(ps, NAS_E_PARSE, "leading zero in a number");
    while (q < ps->end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' || *q == '+' ||
                           *q == '-'))
        q++;
    char buf[64];
    size_t n = (size_t)(q - ps->p);
    if (n >= sizeof buf)
        return fail(ps, NAS_E_PARSE, "number too long");
    memcpy(buf, ps->p, n);
    buf[n] = '\0';
    char *stop = NULL;
    double v = nas__strtod(buf, &stop);
    if (!stop || *stop || !isfinite(v))
        return fail(ps, NAS_E_PARSE, "invalid number");
    ps->p = q;
    *out = v;
    return true;
}

static bool value(parser_t *ps, nas__json_t *v, int depth);

static bool grow(parser_t *ps, nas__json_t *v, uint32_t *cap, bool keys)
{
    if (v->n < *cap)
        return true;
    uint32_t nc = *cap ? *cap * 2 : 4;
    if (nc <= *cap)
        return fail(ps, NAS_E_PARSE, "too many items");
    nas__json_t *it = nas__realloc(ps->ctx, v->items, (size_t)nc * sizeof *it);
    if (!it)
        return fail(ps, NAS_E_NOMEM, "out of memory");
    v->items = it;
    if (keys) {
        char **k = nas__realloc(ps->ctx, v->keys, (size_t)nc * sizeof *k);
        if (!k)
            return fail(ps, NAS_E_NOMEM, "out of memory");
        v->keys = k;
    }
    *cap = nc;
    return true;
}

static bool container(parser_t *ps, nas__json_t *v, int depth, bool obj)
{
    char close = obj ? '}' : ']';
    v->type = obj ? NAS__J_OBJ : NAS__J_ARR;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return true;
    }
    uint32_t cap = 0;
    for (;;) {
        if (!grow(ps, v, &cap, obj))
            return false;
        nas__json_t *item = &v->items[v->n];
        memset(item, 0, sizeof *item);
        if (obj) {
            v->keys[v->n] = NULL;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"')
                return fail(ps, NAS_E_PARSE, "expected a member name");
            char *key;
            if (!string(ps, &key))
                return false;
            v->keys[v->n] = key;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                v->n++;
                return fail(ps, NAS_E_PARSE, "expected ':'");
            }
            ps->p++;
        }
        v->n++;
        if (!value(ps, item, depth + 1))
            return false;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return true;
        }
        return fail(ps, NAS_E_PARSE, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static bool value(parser_t *ps, nas__json_t *v, int depth)
{
    if (depth > NAS__JSON_MAX_DEPTH)
        return fail(ps, NAS_E_PARSE, "nested too deeply");
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, NAS_E_PARSE, "unexpected end of text");
    switch (*ps->p) {
    case '{':
        return container(ps, v, depth, true);
    case '[':
        return container(ps, v, depth, false);
    case '"':
        v->type = NAS__J_STR;
        return string(ps, &v->str);
    case 't':
        v->type = NAS__J_BOOL;
        v->b = true;
        return literal(ps, "true");
    case 'f':
        v->type = NAS__J_BOOL;
        return literal(ps, "false");
    case 'n':
        v->type = NAS__J_NULL;
        return literal(ps, "null");
    default:
        v->type = NAS__J_NUM;
        return number(ps, &v->num);
    }
}

static void free_children(nas_context_t *ctx, nas__json_t *v)
{
    for (uint32_t i = 0; i < v->n; i++) {
        free_children(ctx, &v->items[i]);
        if (v->keys)
            nas__free(ctx, v->keys[i]);
    }
    nas__free(ctx, v->items);
    nas__free(ctx, v->keys);
    nas__free(ctx, v->str);
}

void nas__json_free(nas_context_t *ctx, nas__json_t *v)
{
    if (!v)
        return;
    free_children(ctx, v);
    nas__free(ctx, v);
}

nas_status_t nas__json_parse(nas_context_t *ctx, const char *text, size_t len, nas__json_t **out, char *errbuf)
{
    *out = NULL;
    nas__json_t *v = nas__calloc(ctx, 1, sizeof *v);
    if (!v)
        return nas__fail(errbuf, NAS_E_NOMEM, "out of memory reading JSON");
    parser_t ps = { ctx, text, text, text + len, errbuf, NAS_OK };
    bool ok = value(&ps, v, 0);
    if (ok) {
        skip_ws(&ps);
        if (ps.p != ps.end)
            ok = fail(&ps, NAS_E_PARSE, "text after the value");
    }
    if (!ok) {
        nas__json_free(ctx, v);
        return ps.st;
    }
    *out = v;
    return NAS_OK;
}

const nas__json_t *nas__json_get(const nas__json_t *obj, const char *key)
{
    if (!obj || obj->type != NAS__J_OBJ)
        return NULL;
    for (uint32_t i = obj->n; i-- > 0;)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}

const char *nas__json_str(const nas__json_t *obj, const char *key)
{
    const nas__json_t *v = nas__json_get(obj, key);
    return v && v->type == NAS__J_STR ? v->str : NULL;
}

bool nas__json_num(const nas__json_t *obj, const char *key, double *out)
{
    const nas__json_t *v = nas__json_get(obj, key);
    if (!v || v->type != NAS__J_NUM)
        return false;
    *out = v->num;
    return true;
}
