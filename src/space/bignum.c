/* Exact non-negative integers in base 1e9, just enough for the size of a space (multiply, add, print). */
#include "space/space_internal.h"

#include <stdio.h>
#include <string.h>

#define BASE 1000000000u

static bool reserve(nas__big_t *b, uint32_t need)
{
    if (b->failed)
        return false;
    if (!nas__grow(b->ctx, (void **)&b->limb, &b->cap, need, sizeof *b->limb)) {
        b->failed = true;
        return false;
    }
    return true;
}

static void trim(nas__big_t *b)
{
    while (b->n > 1 && b->limb[b->n - 1] == 0)
        b->n--;
}

void nas__big_init(nas__big_t *b, nas_context_t *ctx, uint32_t value)
{
    b->ctx = ctx;
    b->limb = NULL;
    b->n = b->cap = 0;
    b->failed = false;
    if (!reserve(b, 2))
        return;
    b->limb[0] = value % BASE;
    b->limb[1] = value / BASE;
    b->n = 2;
    trim(b);
}

void nas__big_free(nas__big_t *b)
{
    nas__free(b->ctx, b->limb);
    b->limb = NULL;
    b->n = b->cap = 0;
}

void nas__big_mul_u32(nas__big_t *b, uint32_t v)
{
    if (b->failed || !reserve(b, b->n + 2))
        return;
    uint64_t carry = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        uint64_t t = (uint64_t)b->limb[i] * v + carry;
        b->limb[i] = (uint32_t)(t % BASE);
        carry = t / BASE;
    }
    while (carry) {
        b->limb[b->n++] = (uint32_t)(carry % BASE);
        carry /= BASE;
    }
    trim(b);
}

void nas__big_add(nas__big_t *b, const nas__big_t *a)
{
    if (a->failed) {
        b->failed = true;
        return;
    }
    uint32_t n = a->n > b->n ? a->n : b->n;
    if (b->failed || !reserve(b, n + 1))
        return;
    for (uint32_t i = b->n; i < n + 1; i++)
        b->limb[i] = 0;
    uint32_t carry = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = b->limb[i] + (i < a->n ? a->limb[i] : 0) + carry;
        carry = t >= BASE;
        b->limb[i] = carry ? t - BASE : t;
    }
    b->limb[n] = carry;
    b->n = n + 1;
    trim(b);
}

void nas__big_copy(nas__big_t *b, const nas__big_t *a)
{
    if (a->failed) {
        b->failed = true;
        return;
    }
    if (b->failed || !reserve(b, a->n))
        return;
    memcpy(b->limb, a->limb, (size_t)a->n * sizeof *a->limb);
    b->n = a->n;
}

void nas__big_mul(nas__big_t *b, const nas__big_t *a)
{
    if (a->failed) {
        b->failed = true;
        return;
    }
    if (b->failed)
        return;
    if (a->n == 1) {
        nas__big_mul_u32(b, a->limb[0]);
        return;
    }
    uint32_t n = a->n + b->n;
    uint32_t *r = nas__calloc(b->ctx, n, sizeof *r);
    if (!r) {
        b->failed = true;
        return;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        uint64_t carry = 0;
        for (uint32_t j = 0; j < a->n; j++) {
            uint64_t t = r[i + j] + (uint64_t)b->limb[i] * a->limb[j] + carry;
            r[i + j] = (uint32_t)(t % BASE);
            carry = t / BASE;
        }
        for (uint32_t k = i + a->n; carry; k++) {
            uint64_t t = r[k] + carry;
            r[k] = (uint32_t)(t % BASE);
            carry = t / BASE;
        }
    }
    nas__free(b->ctx, b->limb);
    b->limb = r;
    b->n = b->cap = n;
    trim(b);
}

char *nas__big_to_string(const nas__big_t *b)
{
    if (b->failed || b->n == 0)
        return NULL;
    size_t cap = (size_t)b->n * 9 + 1;
    char *s = nas__malloc(b->ctx, cap);
    if (!s)
        return NULL;
    int len = snprintf(s, cap, "%u", b->limb[b->n - 1]);
    for (uint32_t i = b->n - 1; i-- > 0;)
        len += snprintf(s + len, cap - (size_t)len, "%09u", b->limb[i]);
    return s;
}
