/* Growable strings with JSON helpers, shortest round-trip doubles, and a set of 64-bit keys. */
#include "core/internal.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nas__sb_init(nas__sb_t *sb, nas_context_t *ctx)
{
    sb->ctx = ctx;
    sb->data = NULL;
    sb->len = sb->cap = 0;
    sb->failed = false;
}

void nas__sb_free(nas__sb_t *sb)
{
    nas__free(sb->ctx, sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

static bool sb_reserve(nas__sb_t *sb, size_t extra)
{
    if (sb->failed)
        return false;
    if (extra > SIZE_MAX / 2 - sb->len) {
        sb->failed = true;
        return false;
    }
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return true;
    size_t ncap = sb->cap ? sb->cap : 64;
    while (ncap < need)
        ncap *= 2;
    char *p = nas__realloc(sb->ctx, sb->data, ncap);
    if (!p) {
        sb->failed = true;
        return false;
    }
    sb->data = p;
    sb->cap = ncap;
    return true;
}

void nas__sb_append(nas__sb_t *sb, const char *s, size_t n)
{
    if (!sb_reserve(sb, n))
        return;
    if (n)
        memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void nas__sb_puts(nas__sb_t *sb, const char *s)
{
    nas__sb_append(sb, s, strlen(s));
}

void nas__sb_putc(nas__sb_t *sb, char c)
{
    nas__sb_append(sb, &c, 1);
}

void nas__sb_printf(nas__sb_t *sb, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        nas__sb_append(sb, small, (size_t)n);
        return;
    }
    if (!sb_reserve(sb, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

int nas__fmt_double(char *buf, size_t cap, double v)
{
    if (isnan(v))
        return snprintf(buf, cap, "nan");
    if (isinf(v))
        return snprintf(buf, cap, v > 0 ? "inf" : "-inf");
    /* The shortest of %.15g..%.17g that reads back exactly. */
    int n = 0;
    locale_t old = nas__c_locale_enter();
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    nas__c_locale_leave(old);
    return n;
}

void nas__sb_double(nas__sb_t *sb, double v)
{
    char buf[40];
    int n = nas__fmt_double(buf, sizeof buf, v);
    nas__sb_append(sb, buf, (size_t)n);
}

void nas__sb_json_num(nas__sb_t *sb, double v)
{
    if (!isfinite(v))
        nas__sb_puts(sb, "null");
    else
        nas__sb_double(sb, v);
}

void nas__sb_json_str(nas__sb_t *sb, const char *s)
{
    nas__sb_putc(sb, '"');
    if (s) {
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
            unsigned char c = *p;
            switch (c) {
            case '"': nas__sb_puts(sb, "\\\""); break;
            case '\\': nas__sb_puts(sb, "\\\\"); break;
            case '\n': nas__sb_puts(sb, "\\n"); break;
            case '\r': nas__sb_puts(sb, "\\r"); break;
            case '\t': nas__sb_puts(sb, "\\t"); break;
            default:
                if (c < 0x20)
                    nas__sb_printf(sb, "\\u%04x", c);
                else
                    nas__sb_putc(sb, (char)c);
            }
        }
    }
    nas__sb_putc(sb, '"');
}

/* ---------------------------------------------------------------------- */

void nas__u64set_init(nas__u64set_t *set, nas_context_t *ctx)
{
    set->ctx = ctx;
    set->keys = NULL;
    set->used = NULL;
    set->count = set->cap = 0;
}

void nas__u64set_free(nas__u64set_t *set)
{
    nas__free(set->ctx, set->keys);
    nas__free(set->ctx, set->used);
    set->keys = NULL;
    set->used = NULL;
    set->count = set->cap = 0;
}

static size_t slot_of(const nas__u64set_t *set, uint64_t key)
{
    size_t mask = set->cap - 1;
    size_t i = (size_t)nas__mix64(key) & mask;
    while (set->used[i] && set->keys[i] != key)
        i = (i + 1) & mask;
    return i;
}

static nas_status_t rehash(nas__u64set_t *set, size_t ncap)
{
    uint64_t *keys = nas__calloc(set->ctx, ncap, sizeof *keys);
    uint8_t *used = nas__calloc(set->ctx, ncap, 1);
    if (!keys || !used) {
        nas__free(set->ctx, keys);
        nas__free(set->ctx, used);
        return NAS_E_NOMEM;
    }
    nas__u64set_t n = { set->ctx, keys, used, 0, ncap };
    for (size_t i = 0; i < set->cap; i++) {
        if (set->used[i]) {
            size_t j = slot_of(&n, set->keys[i]);
            n.used[j] = 1;
            n.keys[j] = set->keys[i];
            n.count++;
        }
    }
    nas__u64set_free(set);
    *set = n;
    return NAS_OK;
}

nas_status_t nas__u64set_insert(nas__u64set_t *set, uint64_t key, bool *added)
{
    if (added)
        *added = false;
    if ((set->count + 1) * 4 > set->cap * 3) {
        size_t ncap = set->cap ? set->cap * 2 : 64;
        if (ncap < set->cap)
            return NAS_E_NOMEM;
        nas_status_t st = rehash(set, ncap);
        if (st != NAS_OK)
            return st;
    }
    size_t i = slot_of(set, key);
    if (!set->used[i]) {
        set->used[i] = 1;
        set->keys[i] = key;
        set->count++;
        if (added)
            *added = true;
    }
    return NAS_OK;
}

bool nas__u64set_has(const nas__u64set_t *set, uint64_t key)
{
    if (!set->cap)
        return false;
    return set->used[slot_of(set, key)] != 0;
}
