/* Elementwise kernels over equal-layout buffers: accumulation of gradients, mixed-node sums. */
#include "dnnl/dnn.h"

#include <math.h>
#include <string.h>

/* Below this many floats a parallel region costs more than it saves. */
#define PAR_MIN 32768
/* Reductions split into a fixed number of chunks so the result does not depend on the thread count. */
#define RED_CHUNKS 64

void nas__k_zero(float *d, size_t n)
{
    if (n < PAR_MIN) {
        memset(d, 0, n * sizeof *d);
        return;
    }
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < RED_CHUNKS; c++) {
        size_t lo = n * c / RED_CHUNKS, hi = n * (c + 1) / RED_CHUNKS;
        memset(d + lo, 0, (hi - lo) * sizeof *d);
    }
}

void nas__k_copy(float *restrict d, const float *restrict s, size_t n)
{
    if (n < PAR_MIN) {
        memcpy(d, s, n * sizeof *d);
        return;
    }
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < RED_CHUNKS; c++) {
        size_t lo = n * c / RED_CHUNKS, hi = n * (c + 1) / RED_CHUNKS;
        memcpy(d + lo, s + lo, (hi - lo) * sizeof *d);
    }
}

void nas__k_add(float *restrict d, const float *restrict s, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= PAR_MIN)
    for (size_t i = 0; i < n; i++)
        d[i] += s[i];
}

void nas__k_scale(float *restrict d, const float *restrict s, float a, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= PAR_MIN)
    for (size_t i = 0; i < n; i++)
        d[i] = a * s[i];
}

void nas__k_axpy(float *restrict d, const float *restrict s, float a, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= PAR_MIN)
    for (size_t i = 0; i < n; i++)
        d[i] += a * s[i];
}

double nas__k_dot(const float *a, const float *b, size_t n)
{
    double part[RED_CHUNKS];
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
    for (size_t c = 0; c < RED_CHUNKS; c++) {
        size_t lo = n * c / RED_CHUNKS, hi = n * (c + 1) / RED_CHUNKS;
        float acc[16] = { 0 };
        size_t i = lo;
        for (; i + 16 <= hi; i += 16)
            for (int j = 0; j < 16; j++)
                acc[j] += a[i + j] * b[i + j];
        double s = 0;
        for (; i < hi; i++)
            s += (double)a[i] * b[i];
        for (int j = 0; j < 16; j++)
            s += acc[j];
        part[c] = s;
    }
    double s = 0;
    for (size_t c = 0; c < RED_CHUNKS; c++)
        s += part[c];
    return s;
}

double nas__k_sumsq(const float *a, size_t n)
{
    return nas__k_dot(a, a, n);
}

bool nas__k_finite(const float *a, size_t n)
{
    /* inf - inf and NaN - NaN are NaN: one pass, no branches in the loop. */
    float acc = 0.0f;
    for (size_t i = 0; i < n; i++)
        acc += a[i] - a[i];
    return acc == 0.0f;
}
