/* Recursive-descent JSON reader with a depth limit; every node is owned by its parent. */
#include "json_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *p, *start, *end;
    char *err;
    size_t errcap;
    bool failed;
} parser_t;

static bool fail(parser_t *ps, const char *what)
{
    if (!ps->failed && ps->errcap)
        snprintf(ps->err, ps->errcap, "offset %zu: %s", (size_t)(ps->p - ps->start), what);
    ps->failed = true;
    return false;
}

static bool nomem(parser_t *ps)
{
    if (!ps->failed && ps->errcap)
        snprintf(ps->err, ps->errcap, "out of memory");
    ps->failed = true;
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
        return fail(ps, "invalid literal");
    ps->p += n;
    return true;
}

/* A growable byte buffer for strings. */
typedef struct buf {
    char *data;
    size_t len, cap;
} buf_t;

static bool buf_put(parser_t *ps, buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return nomem(ps);
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
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
        return fail(ps, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(ps->p[i]);
        if (h < 0)
            return fail(ps, "bad \\u escape");
        v = v * 16 + (uint32_t)h;
    }
    ps->p += 4;
    *out = v;
    return true;
}

static bool put_utf8(parser_t *ps, buf_t *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return buf_put(ps, b, u, n);
}

/* One escape after the backslash. */
static bool escape(parser_t *ps, buf_t *b)
{
    if (ps->p >= ps->end)
        return fail(ps, "truncated escape");
    char c = *ps->p++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = strchr(from, c);
    if (c && k)
        return buf_put(ps, b, &to[k - from], 1);
    if (c != 'u')
        return fail(ps, "invalid escape");
    uint32_t cp;
    if (!hex4(ps, &cp))
        return false;
    if (cp >= 0xd800 && cp < 0xdc00) {
        uint32_t lo;
        if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
            return fail(ps, "unpaired surrogate");
        ps->p += 2;
        if (!hex4(ps, &lo))
            return false;
        if (lo < 0xdc00 || lo > 0xdfff)
            return fail(ps, "unpaired surrogate");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        return fail(ps, "unpaired surrogate");
    }
    if (cp == 0)
        return fail(ps, "\\u0000 in a string");
    return put_utf8(ps, b, cp);
}

/* Length of the valid UTF-8 sequence at p (shortest form, no surrogates, at most U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;
    if (n == 0 || p[0] > 0xf4 || p[0] == 0xc0 || p[0] == 0xc1 || (size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) || (p[0] == 0xf0 && p[1] < 0x90) ||
        (p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

/*
 * A string after its opening quote; *out is malloc'd. Bytes that are not valid UTF-8 become
 * U+FFFD, so that what the tool prints back is valid UTF-8 (a file name in a message may not be).
 */
static bool string(parser_t *ps, char **out)
{
    buf_t b = { NULL, 0, 0 };
    bool ok = buf_put(ps, &b, "", 0);
    while (ok) {
        const char *run = ps->p;
        while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && (unsigned char)*ps->p >= 0x20 &&
               (unsigned char)*ps->p < 0x80)
            ps->p++;
        ok = buf_put(ps, &b, run, (size_t)(ps->p - run));
        if (!ok)
            break;
        if (ps->p >= ps->end) {
            ok = fail(ps, "unterminated string");
        } else if (*ps->p == '"') {
            ps->p++;
            *out = b.data;
            return true;
        } else if (*ps->p == '\\') {
            ps->p++;
            ok = escape(ps, &b);
        } else if ((unsigned char)*ps->p >= 0x80) {
            size_t n = utf8_len((const unsigned char *)ps->p, (const unsigned char *)ps->end);
            ok = n ? buf_put(ps, &b, ps->p, n) : buf_put(ps, &b, "\xef\xbf\xbd", 3);
            ps->p += n ? n : 1;
        } else {
            ok = fail(ps, "control character in a string");
        }
    }
    free(b.data);
    return false;
}

/* A number, checked against the JSON grammar, read with strtod (the tool never sets a locale). */
static bool number(parser_t *ps, double *out)
{
    const char *s = ps->p, *q = s;
    if (q < ps->end && *q == '-')
        q++;
    if (q < ps->end && *q == '0') {
        q++;
    } else if (q < ps->end && *q >= '1' && *q <= '9') {
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    } else {
        return fail(ps, "invalid value");
    }
    if (q < ps->end && *q == '.') {
        q++;
        if (q >= ps->end || *q < '0' || *q > '9')
            return fail(ps, "digit expected after '.'");
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= ps->end || *q < '0' || *q > '9')
            return fail(ps, "digit expected in the exponent");
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    size_t n = (size_t)(q - s);
    char small[64], *copy = n < sizeof small ? small : malloc(n + 1);
    if (!copy)
        return nomem(ps);
    memcpy(copy, s, n);
    copy[n] = '\0';
    *out = strtod(copy, NULL);
    if (copy != small)
        free(copy);
    ps->p = q;
    return true;
}

static bool value(parser_t *ps, jr_t *v, int depth);

/* Append a zeroed item (and key slot for objects) to v; capacities run 4, 8, 16, ... */
static jr_t *add_item(parser_t *ps, jr_t *v)
{
    if (v->n >= JR_MAX_ITEMS) {
        fail(ps, "too many items");
        return NULL;
    }
    if (v->n == 0 || (v->n >= 4 && (v->n & (v->n - 1)) == 0)) {
        size_t cap = v->n ? (size_t)v->n * 2 : 4;
        jr_t *it = realloc(v->items, cap * sizeof *it);
        if (!it) {
            nomem(ps);
            return NULL;
        }
        v->items = it;
        if (v->type == JR_OBJ) {
            char **k = realloc(v->keys, cap * sizeof *k);
            if (!k) {
                nomem(ps);
                return NULL;
            }
            v->keys = k;
        }
    }
    jr_t *it = &v->items[v->n];
    memset(it, 0, sizeof *it);
    if (v->type == JR_OBJ)
        v->keys[v->n] = NULL;
    v->n++;
    return it;
}

/* Items of an array or members of an object, after the opening bracket. */
static bool container(parser_t *ps, jr_t *v, int depth)
{
    bool obj = v->type == JR_OBJ;
    char close = obj ? '}' : ']';
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return true;
    }
    for (;;) {
        skip_ws(ps);
        jr_t *it = add_item(ps, v);
        if (!it)
            return false;
        if (obj) {
            if (ps->p >= ps->end || *ps->p != '"')
                return fail(ps, "object key expected");
            ps->p++;
            if (!string(ps, &v->keys[v->n - 1]))
                return false;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return fail(ps, "':' expected");
            ps->p++;
        }
        if (!value(ps, it, depth + 1))
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
        return fail(ps, obj ? "',' or '}' expected" : "',' or ']' expected");
    }
}

static bool value(parser_t *ps, jr_t *v, int depth)
{
    if (depth > JR_MAX_DEPTH)
        return fail(ps, "nested too deeply");
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, "value expected");
    switch (*ps->p) {
    case '{':
    case '[':
        v->type = *ps->p == '{' ? JR_OBJ : JR_ARR;
        ps->p++;
        return container(ps, v, depth);
    case '"':
        ps->p++;
        v->type = JR_STR;
        return string(ps, &v->str);
    case 't':
        v->type = JR_BOOL;
        v->b = true;
        return literal(ps, "true");
    case 'f':
        v->type = JR_BOOL;
        return literal(ps, "false");
    case 'n':
        v->type = JR_NULL;
        return literal(ps, "null");
    default:
        v->type = JR_NUM;
        return number(ps, &v->num);
    }
}

static void free_inner(jr_t *v)
{
    for (uint32_t i = 0; i < v->n; i++) {
        free_inner(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
}

void jr_free(jr_t *v)
{
    if (!v)
        return;
    free_inner(v);
    free(v);
}

jr_t *jr_parse(const char *text, size_t len, char *err, size_t errcap)
{
    parser_t ps = { text, text, text + len, err, errcap, false };
    jr_t *v = calloc(1, sizeof *v);
    if (!v) {
        nomem(&ps);
        return NULL;
    }
    if (value(&ps, v, 0)) {
        skip_ws(&ps);
        if (ps.p == ps.end)
            return v;
        fail(&ps, "trailing characters after the value");
    }
    jr_free(v);
    return NULL;
}

const jr_t *jr_get(const jr_t *obj, const char *key)
{
    if (!obj || obj->type != JR_OBJ)
        return NULL;
    for (uint32_t i = obj->n; i-- > 0;)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}

const char *jr_str(const jr_t *obj, const char *key)
{
    const jr_t *v = jr_get(obj, key);
    return v && v->type == JR_STR ? v->str : NULL;
}

bool jr_num(const jr_t *obj, const char *key, double *out)
{
    const jr_t *v = jr_get(obj, key);
    if (!v || v->type != JR_NUM)
        return false;
    *out = v->num;
    return true;
}
