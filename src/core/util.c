/* Allocation through the context, error messages, names, clock, hashing. */
#include "core/internal.h"

#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *nas__malloc(nas_context_t *ctx, size_t size)
{
    if (size == 0)
        size = 1;
    return ctx->alloc.malloc_fn(ctx->alloc.user_data, size);
}

void *nas__calloc(nas_context_t *ctx, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    void *p = nas__malloc(ctx, bytes);
    if (p && bytes)
        memset(p, 0, bytes);
    return p;
}

void *nas__realloc(nas_context_t *ctx, void *ptr, size_t size)
{
    if (size == 0)
        size = 1;
    if (!ptr)
        return ctx->alloc.malloc_fn(ctx->alloc.user_data, size);
    return ctx->alloc.realloc_fn(ctx->alloc.user_data, ptr, size);
}

bool nas__grow(nas_context_t *ctx, void **ptr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    uint64_t ncap = *cap ? (uint64_t)*cap * 2 : 8;
    while (ncap < need)
        ncap *= 2;
    if (ncap > UINT32_MAX)
        ncap = UINT32_MAX;
    if (ncap < need || (elem && ncap > SIZE_MAX / elem))
        return false;
    void *p = nas__realloc(ctx, *ptr, (size_t)ncap * elem);
    if (!p)
        return false;
    *ptr = p;
    *cap = (uint32_t)ncap;
    return true;
}

void nas__free(nas_context_t *ctx, void *ptr)
{
    if (ptr)
        ctx->alloc.free_fn(ctx->alloc.user_data, ptr);
}

char *nas__strndup(nas_context_t *ctx, const char *s, size_t n)
{
    char *d = nas__malloc(ctx, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *nas__strdup(nas_context_t *ctx, const char *s)
{
    return nas__strndup(ctx, s, strlen(s));
}

nas_status_t nas__vfail(char *errbuf, nas_status_t st, const char *fmt, va_list ap)
{
    if (errbuf)
        vsnprintf(errbuf, NAS_ERRMSG_CAP, fmt, ap);
    return st;
}

nas_status_t nas__fail(char *errbuf, nas_status_t st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nas__vfail(errbuf, st, fmt, ap);
    va_end(ap);
    return st;
}

nas_status_t nas__ctx_fail(nas_context_t *ctx, nas_status_t st, const char *fmt, ...)
{
    if (!ctx)
        return st;
    va_list ap;
    va_start(ap, fmt);
    nas__vfail(ctx->errmsg, st, fmt, ap);
    va_end(ap);
    nas__logf(ctx, NAS_LOG_DEBUG, "%s: %s", nas_status_name(st), ctx->errmsg);
    return st;
}

void nas__logf(nas_context_t *ctx, int32_t level, const char *fmt, ...)
{
    if (!ctx || !ctx->log_fn || level > ctx->log_level)
        return;
    char buf[NAS_ERRMSG_CAP + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ctx->log_fn(ctx->log_user_data, level, buf);
}

bool nas__copy_opts(void *dst, size_t dst_size, const void *src, size_t src_size)
{
    /* The first member of every options struct is its size: anything smaller is not one. */
    if (src_size < sizeof(size_t))
        return false;
    memcpy(dst, src, src_size < dst_size ? src_size : dst_size);
    *(size_t *)dst = dst_size;
    return true;
}

static bool valid_chars(const char *s, bool key)
{
    if (!s || !*s || strlen(s) > 128)
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (key)
            ok = ok || (c >= 'A' && c <= 'Z') || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

bool nas__valid_name(const char *s)
{
    return valid_chars(s, false);
}

bool nas__valid_key(const char *s)
{
    return valid_chars(s, true);
}

double nas__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t nas__mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t nas__hash_bytes(const void *data, size_t n, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull ^ nas__mix64(seed);
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return nas__mix64(h);
}

/* One C locale for the process, made once; uselocale() switches only the calling thread. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

locale_t nas__c_locale_enter(void)
{
    pthread_once(&c_locale_once, make_c_locale);
    return c_locale ? uselocale(c_locale) : (locale_t)0;
}

void nas__c_locale_leave(locale_t old)
{
    if (old)
        uselocale(old);
}

double nas__strtod(const char *s, char **end)
{
    locale_t old = nas__c_locale_enter();
    double v = strtod(s, end);
    nas__c_locale_leave(old);
    return v;
}
