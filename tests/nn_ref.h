/*
 * A plain C reference of the network IR in double precision, for test_ops.c and test_exec.c:
 * forward of every node kind, and finite-difference gradients of a scalar objective (the loss, or
 * sum(R * output) for graphs without one). Written for clarity, not speed: small shapes only.
 */
#ifndef NAS_TESTS_NN_REF_H
#define NAS_TESTS_NN_REF_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/exec.h"
#include "nn/graph.h"

typedef struct ref_net {
    const nas__graph_t *g;
    int n;                 /* batch */
    uint32_t nodes;
    double **v;            /* per node: n x C x H x W */
    double **w, **b;       /* conv / fc weight and bias; bn scale (w) and shift (b) */
    double **rmean, **rvar;
    double **alpha;        /* per mixed node: K alphas */
    uint32_t *sel;         /* per mixed node: selected path (single mode) */
    bool train;            /* batch statistics in BN */
    const int32_t *labels;
    const double *r;       /* weights of the objective when the graph has no loss */
} ref_net_t;

static size_t ref_size(const ref_net_t *r, int32_t id)
{
    const nas__node_t *nd = nas__graph_node(r->g, id);
    return (size_t)r->n * nd->out.c * nd->out.h * nd->out.w;
}

static ref_net_t *ref_create(const nas__graph_t *g, int n)
{
    ref_net_t *r = calloc(1, sizeof *r);
    r->g = g;
    r->n = n;
    r->nodes = nas__graph_num_nodes(g);
    r->v = calloc(r->nodes, sizeof *r->v);
    r->w = calloc(r->nodes, sizeof *r->w);
    r->b = calloc(r->nodes, sizeof *r->b);
    r->rmean = calloc(r->nodes, sizeof *r->rmean);
    r->rvar = calloc(r->nodes, sizeof *r->rvar);
    r->alpha = calloc(r->nodes, sizeof *r->alpha);
    r->sel = calloc(r->nodes, sizeof *r->sel);
    for (uint32_t i = 0; i < r->nodes; i++)
        r->v[i] = calloc(ref_size(r, (int32_t)i) + 1, sizeof(double));
    r->train = true;
    return r;
}

static void ref_destroy(ref_net_t *r)
{
    for (uint32_t i = 0; i < r->nodes; i++) {
        free(r->v[i]);
        free(r->w[i]);
        free(r->b[i]);
        free(r->rmean[i]);
        free(r->rvar[i]);
        free(r->alpha[i]);
    }
    free(r->v);
    free(r->w);
    free(r->b);
    free(r->rmean);
    free(r->rvar);
    free(r->alpha);
    free(r->sel);
    free(r);
}

static double *ref_dup(const float *f, int64_t n)
{
    double *d = malloc((size_t)(n > 0 ? n : 1) * sizeof *d);
    for (int64_t i = 0; i < n; i++)
        d[i] = f[i];
    return d;
}

/* Parameters, running statistics and alphas as the plan has them now. */
static void ref_load(ref_net_t *r, nas__plan_t *p)
{
    for (uint32_t i = 0; i < nas__plan_num_params(p); i++) {
        nas__plan_param_t info;
        nas__plan_param(p, i, &info);
        float *buf = malloc((size_t)info.elems * sizeof *buf);
        assert_int_equal(nas__plan_get_param(p, i, buf), NAS_OK);
        double **slot = info.kind == NAS__PARAM_WEIGHT || info.kind == NAS__PARAM_SCALE ? &r->w[info.node]
                                                                                         : &r->b[info.node];
        free(*slot);
        *slot = ref_dup(buf, info.elems);
        free(buf);
    }
    int64_t ns = nas__plan_state_elems(p);
    float *st = malloc((size_t)ns * sizeof *st);
    assert_int_equal(nas__plan_export(p, st, ns), NAS_OK);
    int64_t off = 0;
    for (uint32_t i = 0; i < nas__plan_num_params(p); i++) {
        nas__plan_param_t info;
        nas__plan_param(p, i, &info);
        off += info.elems;
    }
    for (uint32_t v = 0; v < r->nodes; v++) {
        const nas__node_t *nd = nas__graph_node(r->g, (int32_t)v);
        if (nd->kind != NAS__NODE_BN)
            continue;
        free(r->rmean[v]);
        free(r->rvar[v]);
        r->rmean[v] = ref_dup(st + off, nd->out.c);
        r->rvar[v] = ref_dup(st + off + nd->out.c, nd->out.c);
        off += 2 * nd->out.c;
    }
    free(st);
    uint32_t na;
    float *al = nas__plan_alphas(p, &na);
    uint32_t m = 0;
    for (uint32_t v = 0; v < r->nodes; v++) {
        const nas__node_t *nd = nas__graph_node(r->g, (int32_t)v);
        if (nd->kind != NAS__NODE_MIXED)
            continue;
        if (nd->alpha_of == (int32_t)v) { /* nodes sharing alphas read the owner's */
            free(r->alpha[v]);
            r->alpha[v] = ref_dup(al + nas__plan_alpha_offset(p, m), nd->n_paths);
        }
        m++;
    }
}

#define AT(p, c, h, w, C, H, W) (p)[(((size_t)(n) * (C) + (c)) * (H) + (h)) * (W) + (w)]

static void ref_conv(ref_net_t *r, int32_t v, const nas__node_t *nd, const nas__node_t *in, const double *x, double *y)
{
    int C = in->out.c, H = in->out.h, W = in->out.w, O = nd->out.c, OH = nd->out.h, OW = nd->out.w;
    int G = nd->groups, icg = C / G, ocg = O / G, k = nd->k;
    const double *w = r->w[v], *b = r->b[v];
    for (int n = 0; n < r->n; n++)
        for (int o = 0; o < O; o++) {
            int gi = o / ocg;
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    double s = nd->bias ? b[o] : 0.0;
                    for (int ci = 0; ci < icg; ci++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * nd->stride - nd->pad + ky * nd->dilation;
                                int ix = ox * nd->stride - nd->pad + kx * nd->dilation;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                    continue;
                                s += w[((size_t)o * icg + ci) * k * k + ky * k + kx] * AT(x, gi * icg + ci, iy, ix, C, H, W);
                            }
                    AT(y, o, oy, ox, O, OH, OW) = s;
                }
        }
}

static void ref_pool(ref_net_t *r, const nas__node_t *nd, const nas__node_t *in, const double *x, double *y)
{
    int C = in->out.c, H = in->out.h, W = in->out.w, OH = nd->out.h, OW = nd->out.w;
    int kh = nd->kind == NAS__NODE_GAP ? H : nd->k, kw = nd->kind == NAS__NODE_GAP ? W : nd->k;
    int s = nd->kind == NAS__NODE_GAP ? 1 : nd->stride, p = nd->kind == NAS__NODE_GAP ? 0 : nd->pad;
    for (int n = 0; n < r->n; n++)
        for (int c = 0; c < C; c++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    double m = -INFINITY, sum = 0;
                    int cnt = 0;
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++) {
                            int iy = oy * s - p + ky, ix = ox * s - p + kx;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                continue;
                            double a = AT(x, c, iy, ix, C, H, W);
                            m = a > m ? a : m;
                            sum += a;
                            cnt++;
                        }
                    AT(y, c, oy, ox, C, OH, OW) = nd->kind == NAS__NODE_MAXPOOL ? m : sum / cnt;
                }
}

static void ref_bn(ref_net_t *r, int32_t v, const nas__node_t *nd, const double *x, double *y)
{
    int C = nd->out.c, H = nd->out.h, W = nd->out.w;
    double cnt = (double)r->n * H * W;
    for (int c = 0; c < C; c++) {
        double mean = 0, var = 0;
        if (r->train) {
            for (int n = 0; n < r->n; n++)
                for (int i = 0; i < H * W; i++)
                    mean += AT(x, c, i / W, i % W, C, H, W);
            mean /= cnt;
            for (int n = 0; n < r->n; n++)
                for (int i = 0; i < H * W; i++) {
                    double d = AT(x, c, i / W, i % W, C, H, W) - mean;
                    var += d * d;
                }
            var /= cnt;
        } else {
            mean = r->rmean[v][c];
            var = r->rvar[v][c];
        }
        double inv = 1.0 / sqrt(var + NAS__BN_EPS);
        for (int n = 0; n < r->n; n++)
            for (int i = 0; i < H * W; i++)
                AT(y, c, i / W, i % W, C, H, W) = r->w[v][c] * (AT(x, c, i / W, i % W, C, H, W) - mean) * inv + r->b[v][c];
    }
}

static double ref_loss(ref_net_t *r, const nas__node_t *nd, const double *x)
{
    int k = nas__graph_node(r->g, nas__graph_in(r->g, nas__graph_output(r->g), 0))->out.c;
    double eps = nd->smoothing, total = 0;
    for (int n = 0; n < r->n; n++) {
        const double *z = x + (size_t)n * k;
        double m = z[0];
        for (int j = 1; j < k; j++)
            m = z[j] > m ? z[j] : m;
        double s = 0;
        for (int j = 0; j < k; j++)
            s += exp(z[j] - m);
        double lse = m + log(s);
        for (int j = 0; j < k; j++) {
            double q = (j == r->labels[n] ? 1.0 - eps : 0.0) + eps / k;
            total -= q * (z[j] - lse);
        }
    }
    return total / r->n;
}

/* Forward of the whole graph; returns the objective. */
static double ref_forward(ref_net_t *r, const double *x)
{
    const nas__graph_t *g = r->g;
    double obj = 0;
    for (uint32_t v = 0; v < r->nodes; v++) {
        const nas__node_t *nd = nas__graph_node(g, (int32_t)v);
        double *y = r->v[v];
        size_t ny = ref_size(r, (int32_t)v);
        int32_t i0 = nd->n_in ? nas__graph_in(g, (int32_t)v, 0) : -1;
        const nas__node_t *in = i0 >= 0 ? nas__graph_node(g, i0) : NULL;
        const double *a = i0 >= 0 ? r->v[i0] : NULL;
        switch (nd->kind) {
        case NAS__NODE_INPUT: memcpy(y, x, ny * sizeof *y); break;
        case NAS__NODE_CONV: ref_conv(r, (int32_t)v, nd, in, a, y); break;
        case NAS__NODE_BN: ref_bn(r, (int32_t)v, nd, a, y); break;
        case NAS__NODE_RELU:
            for (size_t i = 0; i < ny; i++)
                y[i] = a[i] > 0 ? a[i] : 0;
            break;
        case NAS__NODE_RELU6:
            for (size_t i = 0; i < ny; i++)
                y[i] = a[i] < 0 ? 0 : a[i] > 6 ? 6 : a[i];
            break;
        case NAS__NODE_HSWISH:
            for (size_t i = 0; i < ny; i++) {
                double t = a[i] + 3;
                y[i] = a[i] * (t < 0 ? 0 : t > 6 ? 6 : t) / 6;
            }
            break;
        case NAS__NODE_MAXPOOL:
        case NAS__NODE_AVGPOOL:
        case NAS__NODE_GAP: ref_pool(r, nd, in, a, y); break;
        case NAS__NODE_FC: {
            int fi = in->out.c * in->out.h * in->out.w;
            for (int n = 0; n < r->n; n++)
                for (int o = 0; o < nd->out.c; o++) {
                    double s = nd->bias ? r->b[v][o] : 0;
                    for (int i = 0; i < fi; i++)
                        s += r->w[v][(size_t)o * fi + i] * a[(size_t)n * fi + i];
                    y[(size_t)n * nd->out.c + o] = s;
                }
            break;
        }
        case NAS__NODE_IDENTITY: memcpy(y, a, ny * sizeof *y); break;
        case NAS__NODE_ZERO: memset(y, 0, ny * sizeof *y); break;
        case NAS__NODE_CROP:
            for (int n = 0; n < r->n; n++)
                for (int c = 0; c < nd->out.c; c++)
                    for (int h = 0; h < nd->out.h; h++)
                        for (int w = 0; w < nd->out.w; w++)
                            AT(y, c, h, w, nd->out.c, nd->out.h, nd->out.w) =
                                AT(a, c, h + nd->top, w + nd->left, in->out.c, in->out.h, in->out.w);
            break;
        case NAS__NODE_SUM:
            memset(y, 0, ny * sizeof *y);
            for (uint32_t j = 0; j < nd->n_in; j++)
                for (size_t i = 0; i < ny; i++)
                    y[i] += r->v[nas__graph_in(g, (int32_t)v, j)][i];
            break;
        case NAS__NODE_CONCAT: {
            int coff = 0, hw = nd->out.h * nd->out.w;
            for (uint32_t j = 0; j < nd->n_in; j++) {
                int32_t s = nas__graph_in(g, (int32_t)v, j);
                int cs = nas__graph_node(g, s)->out.c;
                for (int n = 0; n < r->n; n++)
                    memcpy(y + ((size_t)n * nd->out.c + coff) * hw, r->v[s] + (size_t)n * cs * hw,
                           (size_t)cs * hw * sizeof *y);
                coff += cs;
            }
            break;
        }
        case NAS__NODE_MIXED: {
            memset(y, 0, ny * sizeof *y);
            if (nd->mode == NAS__MIXED_SINGLE) {
                memcpy(y, r->v[nas__graph_path_out(g, (int32_t)v, r->sel[v])], ny * sizeof *y);
                break;
            }
            const double *al = r->alpha[nd->alpha_of];
            double m = -INFINITY, z = 0;
            for (uint32_t k = 0; k < nd->n_paths; k++)
                m = al[k] > m ? al[k] : m;
            for (uint32_t k = 0; k < nd->n_paths; k++)
                z += exp(al[k] - m);
            for (uint32_t k = 0; k < nd->n_paths; k++) {
                double wk = exp(al[k] - m) / z;
                const double *pk = r->v[nas__graph_path_out(g, (int32_t)v, k)];
                for (size_t i = 0; i < ny; i++)
                    y[i] += wk * pk[i];
            }
            break;
        }
        case NAS__NODE_LOSS: y[0] = obj = ref_loss(r, nd, a); break;
        default: fail_msg("reference: unknown node kind %d", (int)nd->kind);
        }
    }
    int32_t out = nas__graph_output(g);
    if (nas__graph_node(g, out)->kind != NAS__NODE_LOSS) {
        size_t ny = ref_size(r, out);
        for (size_t i = 0; i < ny; i++)
            obj += r->r[i] * r->v[out][i];
    }
    return obj;
}

/* Central difference of the objective in coordinate *p. */
static double ref_fd(ref_net_t *r, const double *x, double *p, double eps)
{
    double keep = *p;
    *p = keep + eps;
    double a = ref_forward(r, x);
    *p = keep - eps;
    double b = ref_forward(r, x);
    *p = keep;
    return (a - b) / (2 * eps);
}

#endif /* NAS_TESTS_NN_REF_H */
