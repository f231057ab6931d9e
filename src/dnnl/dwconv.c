/*
 * Backward data and backward weights of depthwise convolutions (groups == input == output channels)
 * over channel-blocked activations (nChw16c) and group-blocked weights (Goihw16g), for any kernel,
 * stride, dilation and padding. oneDNN 2.6 has only reference kernels for many of these (5x5
 * backward weights, dilated backward data and weights), about a hundred times slower than a
 * vectorized loop over the 16 channels of a block.
 *
 * Every inner loop runs over the 16 contiguous lanes of a channel block. The weight gradient sums
 * partial results over a fixed number of batch chunks in a fixed order, so it does not depend on
 * the number of threads.
 */
#include "dnnl/priv.h"

#include <string.h>

#define LANES 16
/* Batch chunks of the weight gradient's partial sums (fewer when the batch is smaller). */
#define DW_CHUNKS 8

/* Vector variants of the hot loops, chosen at load time (GCC on x86-64; elsewhere the default). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#  define DW_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#  define DW_CLONES
#endif

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* Outputs o in [*lo, *hi) whose input i = o * s + off lies in [0, in). */
static void out_range(int64_t off, int64_t s, int64_t in, int64_t out, int64_t *lo, int64_t *hi)
{
    *lo = off >= 0 ? 0 : ceil_div(-off, s);
    *hi = in - 1 - off < 0 ? 0 : (in - 1 - off) / s + 1;
    if (*hi > out)
        *hi = out;
    if (*lo > *hi)
        *lo = *hi;
}

/* An activation layout of one inner block of 16 over channels (nChw16c and its strided views). */
static bool act_layout(const dnnl_memory_desc_t *md, int64_t c, int64_t *off, int64_t st[4])
{
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    if (md->ndims != 4 || md->data_type != dnnl_f32 || md->format_kind != dnnl_blocked || md->extra.flags ||
        md->dims[1] != c || b->inner_nblks != 1 || b->inner_blks[0] != LANES || b->inner_idxs[0] != 1 ||
        md->padded_dims[1] != ceil_div(c, LANES) * LANES)
        return false;
    for (int i = 0; i < 4; i++) {
        if (md->padded_offsets[i] || (i != 1 && md->padded_dims[i] != md->dims[i]))
            return false;
        st[i] = b->strides[i];
    }
    *off = md->offset0;
    return true;
}

/* Depthwise weights (G, 1, 1, KH, KW) with one inner block of 16 over G (Goihw16g). */
static bool wei_layout(const dnnl_memory_desc_t *md, int64_t c, int64_t *off, int64_t st[3])
{
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    if (md->ndims != 5 || md->data_type != dnnl_f32 || md->format_kind != dnnl_blocked || md->extra.flags ||
        md->dims[0] != c || md->dims[1] != 1 || md->dims[2] != 1 || b->inner_nblks != 1 ||
        b->inner_blks[0] != LANES || b->inner_idxs[0] != 0 || md->padded_dims[0] != ceil_div(c, LANES) * LANES)
        return false;
    for (int i = 0; i < 5; i++)
        if (md->padded_offsets[i] || (i != 0 && md->padded_dims[i] != md->dims[i]))
            return false;
    st[0] = b->strides[0];
    st[1] = b->strides[3];
    st[2] = b->strides[4];
    *off = md->offset0;
    return true;
}

bool nas__dw_applies(nas__dw_t *d, const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *wei,
                     const dnnl_memory_desc_t *dst, const int64_t *strides, const int64_t *dil, const int64_t *pl)
{
    memset(d, 0, sizeof *d);
    if (src->ndims != 4 || dst->ndims != 4 || wei->ndims != 5)
        return false;
    int64_t c = src->dims[1];
    if (!act_layout(src, c, &d->so, d->ss) || !act_layout(dst, c, &d->dof, d->ds) ||
        !wei_layout(wei, c, &d->wo, d->ws) || dst->dims[0] != src->dims[0])
        return false;
    d->n = src->dims[0];
    d->c = c;
    d->cb = ceil_div(c, LANES);
    d->ih = src->dims[2];
    d->iw = src->dims[3];
    d->oh = dst->dims[2];
    d->ow = dst->dims[3];
    d->kh = wei->dims[3];
    d->kw = wei->dims[4];
    d->sh = strides[0];
    d->sw = strides[1];
    d->dh = dil[0] + 1;
    d->dw = dil[1] + 1;
    d->ph = pl[0];
    d->pw = pl[1];
    d->chunks = d->n < DW_CHUNKS ? d->n : DW_CHUNKS;
    return d->n > 0 && d->sh > 0 && d->sw > 0 && d->dh > 0 && d->dw > 0;
}

size_t nas__dw_scratch_floats(const nas__dw_t *d)
{
    return (size_t)(d->chunks * d->cb * (d->kh * d->kw + 1) * LANES);
}

/* One row ih of diff_src in one channel block of one image: zeroed, then every tap's share of the
 * output gradient rows that read it. ds: the row; w: the block's weights; dd: the block's output
 * gradient (row 0). */
DW_CLONES
static void data_row(const nas__dw_t *d, float *restrict ds, const float *restrict w, const float *restrict dd,
                     int64_t ih, int lanes)
{
    const int64_t scol = d->ss[3], dcol = d->ds[3];
    for (int64_t iw = 0; iw < d->iw; iw++) {
#pragma omp simd
        for (int l = 0; l < LANES; l++)
            ds[iw * scol + l] = 0.0f;
    }
    for (int64_t kh = 0; kh < d->kh; kh++) {
        int64_t th = ih + d->ph - kh * d->dh;
        if (th < 0 || th % d->sh || th / d->sh >= d->oh)
            continue;
        const float *ddr = dd + th / d->sh * d->ds[2];
        for (int64_t kw = 0; kw < d->kw; kw++) {
            const float *wk = w + kh * d->ws[1] + kw * d->ws[2];
            float wl[LANES];
            for (int l = 0; l < LANES; l++)
                wl[l] = wk[l];
            int64_t off = kw * d->dw - d->pw, lo, hi;
            out_range(off, d->sw, d->iw, d->ow, &lo, &hi);
            for (int64_t ow = lo; ow < hi; ow++) {
                float *o = ds + (ow * d->sw + off) * scol;
                const float *g = ddr + ow * dcol;
#pragma omp simd
                for (int l = 0; l < LANES; l++)
                    o[l] += wl[l] * g[l];
            }
        }
    }
    for (int64_t iw = 0; iw < d->iw && lanes < LANES; iw++)
        for (int l = lanes; l < LANES; l++)
            ds[iw * scol + l] = 0.0f; /* padded channels */
}

void nas__dw_bwd_data(const nas__dw_t *d, float *dsrc, const float *wei, const float *ddst)
{
    const nas__dw_t g = *d;
#pragma omp parallel for collapse(3) schedule(static)
    for (int64_t n = 0; n < g.n; n++)
        for (int64_t b = 0; b < g.cb; b++)
            for (int64_t ih = 0; ih < g.ih; ih++) {
                int64_t left = g.c - b * LANES;
                data_row(&g, dsrc + g.so + n * g.ss[0] + b * g.ss[1] + ih * g.ss[2], wei + g.wo + b * g.ws[0],
                         ddst + g.dof + n * g.ds[0] + b * g.ds[1], ih, left < LANES ? (int)left : LANES);
            }
}

/* Partial weight (and bias) gradient of one channel block over images [n0, n1): part holds KH x KW
 * x 16 tap sums, then 16 bias sums. src and dd point at the block of image 0. */
DW_CLONES
static void weights_part(const nas__dw_t *d, float *restrict part, const float *restrict src,
                         const float *restrict dd, int64_t n0, int64_t n1)
{
    const int64_t ntap = d->kh * d->kw, scol = d->ss[3], dcol = d->ds[3];
    float *pb = part + ntap * LANES;
    memset(part, 0, (size_t)(ntap + 1) * LANES * sizeof *part);
    for (int64_t n = n0; n < n1; n++)
        for (int64_t oh = 0; oh < d->oh; oh++) {
            const float *g = dd + n * d->ds[0] + oh * d->ds[2];
            float bacc[LANES] = { 0 };
            for (int64_t ow = 0; ow < d->ow; ow++) {
#pragma omp simd
                for (int l = 0; l < LANES; l++)
                    bacc[l] += g[ow * dcol + l];
            }
#pragma omp simd
            for (int l = 0; l < LANES; l++)
                pb[l] += bacc[l];
            for (int64_t kh = 0; kh < d->kh; kh++) {
                int64_t ih = oh * d->sh + kh * d->dh - d->ph;
                if (ih < 0 || ih >= d->ih)
                    continue;
                const float *s = src + n * d->ss[0] + ih * d->ss[2];
                for (int64_t kw = 0; kw < d->kw; kw++) {
                    int64_t off = kw * d->dw - d->pw, lo, hi;
                    out_range(off, d->sw, d->iw, d->ow, &lo, &hi);
                    float acc[LANES] = { 0 };
                    for (int64_t ow = lo; ow < hi; ow++) {
                        const float *x = s + (ow * d->sw + off) * scol, *y = g + ow * dcol;
#pragma omp simd
                        for (int l = 0; l < LANES; l++)
                            acc[l] += x[l] * y[l];
                    }
                    float *p = part + (kh * d->kw + kw) * LANES;
#pragma omp simd
                    for (int l = 0; l < LANES; l++)
                        p[l] += acc[l];
                }
            }
        }
}

void nas__dw_bwd_weights(const nas__dw_t *d, float *dwei, float *dbias, const float *src, const float *ddst,
                         float *part)
{
    const nas__dw_t g = *d;
    const int64_t ntap = g.kh * g.kw, psz = (ntap + 1) * LANES;
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t q = 0; q < g.chunks; q++)
        for (int64_t b = 0; b < g.cb; b++)
            weights_part(&g, part + (q * g.cb + b) * psz, src + g.so + b * g.ss[1], ddst + g.dof + b * g.ds[1],
                         g.n * q / g.chunks, g.n * (q + 1) / g.chunks);
    /* Chunks summed in order; padded channels get zero. */
    for (int64_t b = 0; b < g.cb; b++) {
        int64_t left = g.c - b * LANES;
        int lanes = left < LANES ? (int)left : LANES;
        for (int64_t t = 0; t <= ntap; t++) {
            float sum[LANES] = { 0 };
            for (int64_t q = 0; q < g.chunks; q++) {
                const float *p = part + (q * g.cb + b) * psz + t * LANES;
                for (int l = 0; l < LANES; l++)
                    sum[l] += p[l];
            }
            if (t == ntap) {
                for (int l = 0; l < lanes && dbias; l++)
                    dbias[b * LANES + l] = sum[l];
                continue;
            }
            float *w = dwei + g.wo + b * g.ws[0] + t / g.kw * g.ws[1] + t % g.kw * g.ws[2];
            for (int l = 0; l < LANES; l++)
                w[l] = l < lanes ? sum[l] : 0.0f;
        }
    }
}
