/* Parameter sets: string key/value pairs, typed getters, and the record of which keys were read. */
#include "core/internal.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Names of the keys asked for since the last reset, for the "unknown parameter" message. */
#define ASKED_CAP 256

typedef struct param {
    char *key;
    char *value;
    bool used;
} param_t;

struct nas_params {
    nas_context_t *ctx;
    param_t *items;
    uint32_t count, cap;
    char asked[ASKED_CAP];   /* "a, b, c" (truncated silently: it only feeds a message) */
    char errmsg[NAS_ERRMSG_CAP];
};

nas_status_t nas_params_create(nas_params_t **out, nas_context_t *ctx)
{
    if (!out)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_params_create: out is NULL");
    *out = NULL;
    if (!ctx)
        return NAS_E_INVAL;
    nas_params_t *p = nas__calloc(ctx, 1, sizeof *p);
    if (!p)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating a parameter set");
    p->ctx = ctx;
    *out = p;
    return NAS_OK;
}

void nas_params_destroy(nas_params_t *params)
{
    if (!params)
        return;
    for (uint32_t i = 0; i < params->count; i++) {
        nas__free(params->ctx, params->items[i].key);
        nas__free(params->ctx, params->items[i].value);
    }
    nas__free(params->ctx, params->items);
    nas__free(params->ctx, params);
}

const char *nas_params_errmsg(const nas_params_t *params)
{
    return params ? params->errmsg : "";
}

static param_t *find(const nas_params_t *p, const char *key)
{
    for (uint32_t i = 0; i < p->count; i++)
        if (strcmp(p->items[i].key, key) == 0)
            return &p->items[i];
    return NULL;
}

nas_status_t nas_params_set(nas_params_t *params, const char *key, const char *value)
{
    if (!params)
        return NAS_E_INVAL;
    if (!nas__valid_key(key))
        return nas__fail(params->errmsg, NAS_E_INVAL, "parameter key '%s' is not of the form [A-Za-z0-9_.-]+ (at most 128)",
                         key ? key : "(null)");
    if (!value)
        return nas__fail(params->errmsg, NAS_E_INVAL, "parameter '%s': value is NULL", key);
    size_t vlen = strlen(value);
    if (vlen > NAS__PARAMS_MAX_VALUE)
        return nas__fail(params->errmsg, NAS_E_RANGE, "parameter '%s': value of %zu bytes is over the limit of %u",
                         key, vlen, NAS__PARAMS_MAX_VALUE);
    char *v = nas__strndup(params->ctx, value, vlen);
    if (!v)
        return nas__fail(params->errmsg, NAS_E_NOMEM, "out of memory setting parameter '%s'", key);
    param_t *it = find(params, key);
    if (it) {
        nas__free(params->ctx, it->value);
        it->value = v;
        it->used = false;
        return NAS_OK;
    }
    if (params->count >= NAS__PARAMS_MAX_KEYS) {
        nas__free(params->ctx, v);
        return nas__fail(params->errmsg, NAS_E_RANGE, "more than %d parameters", NAS__PARAMS_MAX_KEYS);
    }
    char *k = nas__strdup(params->ctx, key);
    if (!k || !nas__grow(params->ctx, (void **)&params->items, &params->cap, params->count + 1, sizeof *params->items)) {
        nas__free(params->ctx, k);
        nas__free(params->ctx, v);
        return nas__fail(params->errmsg, NAS_E_NOMEM, "out of memory setting parameter '%s'", key);
    }
    params->items[params->count++] = (param_t){ k, v, false };
    return NAS_OK;
}

uint32_t nas_params_count(const nas_params_t *params)
{
    return params ? params->count : 0;
}

nas_status_t nas_params_at(const nas_params_t *params, uint32_t i, const char **key, const char **value)
{
    if (!params)
        return NAS_E_INVAL;
    if (i >= params->count)
        return nas__fail(((nas_params_t *)params)->errmsg, NAS_E_RANGE, "parameter index %u past the end (%u)",
                         (unsigned)i, (unsigned)params->count);
    if (key)
        *key = params->items[i].key;
    if (value)
        *value = params->items[i].value;
    return NAS_OK;
}

/* Remember that `key` was asked for, and mark it used if present. Returns the entry or NULL. */
static param_t *lookup(const nas_params_t *cp, const char *key)
{
    nas_params_t *p = (nas_params_t *)cp;   /* read flags are logically const, see search_internal.h */
    size_t klen = strlen(key), alen = strlen(p->asked);
    bool seen = false;
    for (const char *s = p->asked; *s;) {
        const char *e = strstr(s, ", ");
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == klen && memcmp(s, key, n) == 0) {
            seen = true;
            break;
        }
        s = e ? e + 2 : s + n;
    }
    if (!seen && alen + klen + 3 < ASKED_CAP) {
        if (alen) {
            memcpy(p->asked + alen, ", ", 2);
            alen += 2;
        }
        memcpy(p->asked + alen, key, klen + 1);
    }
    param_t *it = find(p, key);
    if (it)
        it->used = true;
    return it;
}

/* Common argument checks of the getters; NULL params behave as an empty set. */
static nas_status_t check_get(const nas_params_t *p, const char *key, const void *out)
{
    if (!key || !out) {
        if (p)
            nas__fail(((nas_params_t *)p)->errmsg, NAS_E_INVAL, "nas_params_get: key or out is NULL");
        return NAS_E_INVAL;
    }
    return NAS_OK;
}

nas_status_t nas_params_get_string(const nas_params_t *params, const char *key, const char **out)
{
    nas_status_t st = check_get(params, key, out);
    if (st != NAS_OK)
        return st;
    param_t *it = params ? lookup(params, key) : NULL;
    if (!it) {
        if (params)
            nas__fail(((nas_params_t *)params)->errmsg, NAS_E_NOT_FOUND, "no parameter '%s'", key);
        return NAS_E_NOT_FOUND;
    }
    *out = it->value;
    return NAS_OK;
}

nas_status_t nas_params_get_int(const nas_params_t *params, const char *key, int64_t def, int64_t *out)
{
    nas_status_t st = check_get(params, key, out);
    if (st != NAS_OK)
        return st;
    param_t *it = params ? lookup(params, key) : NULL;
    if (!it) {
        *out = def;
        return NAS_OK;
    }
    const char *s = it->value;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    /* strtoll skips leading blanks; a value is the number and nothing else. */
    if (*s == '\0' || isspace((unsigned char)*s) || *end != '\0')
        return nas__fail(((nas_params_t *)params)->errmsg, NAS_E_INVAL, "parameter '%s': '%s' is not an integer",
                         key, s);
    if (errno == ERANGE)
        return nas__fail(((nas_params_t *)params)->errmsg, NAS_E_INVAL,
                         "parameter '%s': %s does not fit in 64 bits", key, s);
    *out = (int64_t)v;
    return NAS_OK;
}

nas_status_t nas_params_get_double(const nas_params_t *params, const char *key, double def, double *out)
{
    nas_status_t st = check_get(params, key, out);
    if (st != NAS_OK)
        return st;
    param_t *it = params ? lookup(params, key) : NULL;
    if (!it) {
        *out = def;
        return NAS_OK;
    }
    const char *s = it->value;
    char *end = NULL;
    double v = nas__strtod(s, &end);
    if (*s == '\0' || isspace((unsigned char)*s) || *end != '\0')
        return nas__fail(((nas_params_t *)params)->errmsg, NAS_E_INVAL, "parameter '%s': '%s' is not a number",
                         key, s);
    if (!isfinite(v))
        return nas__fail(((nas_params_t *)params)->errmsg, NAS_E_INVAL, "parameter '%s': '%s' is not a finite number",
                         key, s);
    *out = v;
    return NAS_OK;
}

static bool ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (x != *b)
            return false;
    }
    return *a == *b;
}

nas_status_t nas_params_get_bool(const nas_params_t *params, const char *key, bool def, bool *out)
{
    nas_status_t st = check_get(params, key, out);
    if (st != NAS_OK)
        return st;
    param_t *it = params ? lookup(params, key) : NULL;
    if (!it) {
        *out = def;
        return NAS_OK;
    }
    const char *s = it->value;
    if (ieq(s, "true") || ieq(s, "yes") || strcmp(s, "1") == 0) {
        *out = true;
        return NAS_OK;
    }
    if (ieq(s, "false") || ieq(s, "no") || strcmp(s, "0") == 0) {
        *out = false;
        return NAS_OK;
    }
    return nas__fail(((nas_params_t *)params)->errmsg, NAS_E_INVAL,
                     "parameter '%s': '%s' is not a boolean (true/false/yes/no/1/0)", key, s);
}

void nas__params_reset_used(const nas_params_t *cp)
{
    if (!cp)
        return;
    nas_params_t *p = (nas_params_t *)cp;
    for (uint32_t i = 0; i < p->count; i++)
        p->items[i].used = false;
    p->asked[0] = '\0';
}

nas_status_t nas__params_check_unused(const nas_params_t *p, char *errbuf, const char *who)
{
    if (!p)
        return NAS_OK;
    for (uint32_t i = 0; i < p->count; i++) {
        if (p->items[i].used)
            continue;
        if (p->asked[0])
            return nas__fail(errbuf, NAS_E_INVAL, "unknown parameter '%s' for %s (it reads: %s)", p->items[i].key, who,
                             p->asked);
        return nas__fail(errbuf, NAS_E_INVAL, "unknown parameter '%s' for %s (it takes no parameters)",
                         p->items[i].key, who);
    }
    return NAS_OK;
}
