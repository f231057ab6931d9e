/* Stored samples to normalized floats: plain, and shifted/mirrored for augmentation. Hot path of the loader. */
#include "data/dataset.h"

/* The library is built with OpenMP; its simd pragma vectorizes these loops at -O2 as well. */
#if defined(_OPENMP)
#  define NAS_SIMD _Pragma("omp simd")
#else
#  define NAS_SIMD
#endif

void nas__store_fill_plane(const struct nas__store *s, uint64_t pos, uint32_t c, float scale, float shift,
                           float *restrict out)
{
    size_t hw = (size_t)s->h * s->w;
    size_t base = (size_t)pos * s->chw + (size_t)c * hw;
    if (s->is_u8) {
        const uint8_t *restrict p = s->u8 + base;
        NAS_SIMD
        for (size_t k = 0; k < hw; k++)
            out[k] = (float)p[k] * scale + shift;
    } else {
        const float *restrict p = s->f32 + base;
        NAS_SIMD
        for (size_t k = 0; k < hw; k++)
            out[k] = p[k] * scale + shift;
    }
}

/* Row x in [lo, hi) reads source column x + d (forward) or d - x (mirrored, d = w - 1 + dx). */
static void row_u8(const uint8_t *restrict src, float *restrict o, int64_t lo, int64_t hi, int64_t d, bool flip,
                   float scale, float shift)
{
    if (flip) {
        NAS_SIMD
        for (int64_t x = lo; x < hi; x++)
            o[x] = (float)src[d - x] * scale + shift;
    } else {
        NAS_SIMD
        for (int64_t x = lo; x < hi; x++)
            o[x] = (float)src[x + d] * scale + shift;
    }
}

static void row_f32(const float *restrict src, float *restrict o, int64_t lo, int64_t hi, int64_t d, bool flip,
                    float scale, float shift)
{
    if (flip) {
        NAS_SIMD
        for (int64_t x = lo; x < hi; x++)
            o[x] = src[d - x] * scale + shift;
    } else {
        NAS_SIMD
        for (int64_t x = lo; x < hi; x++)
            o[x] = src[x + d] * scale + shift;
    }
}

void nas__store_fill_plane_aug(const struct nas__store *s, uint64_t pos, uint32_t c, float scale, float shift,
                               int32_t dy, int32_t dx, bool flip, float *restrict out)
{
    int64_t h = s->h, w = s->w;
    size_t base = (size_t)pos * s->chw + (size_t)c * (size_t)(h * w);
    /* A raw zero after normalization is exactly `shift`. */
    float zero = shift;
    /* Columns whose source lies inside the image. */
    int64_t lo, hi, d;
    if (flip) {
        lo = dx > 0 ? dx : 0;
        hi = dx < 0 ? w + dx : w;
        d = w - 1 + dx;
    } else {
        lo = dx < 0 ? -(int64_t)dx : 0;
        hi = dx > 0 ? w - dx : w;
        d = dx;
    }
    if (hi < lo)
        hi = lo;
    for (int64_t y = 0; y < h; y++) {
        float *o = out + y * w;
        int64_t sy = y + dy;
        if (sy < 0 || sy >= h) {
            for (int64_t x = 0; x < w; x++)
                o[x] = zero;
            continue;
        }
        for (int64_t x = 0; x < lo; x++)
            o[x] = zero;
        if (s->is_u8)
            row_u8(s->u8 + base + (size_t)(sy * w), o, lo, hi, d, flip, scale, shift);
        else
            row_f32(s->f32 + base + (size_t)(sy * w), o, lo, hi, d, flip, scale, shift);
        for (int64_t x = hi; x < w; x++)
            o[x] = zero;
    }
}
