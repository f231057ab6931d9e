/*
 * The reinforce strategy's policy (see controller.h): independent logits or a one-layer LSTM,
 * a forward pass one step at a time (sampling needs each choice before the next step), and the
 * exact gradient of the REINFORCE loss with an entropy bonus.
 *
 * LSTM step t, with x_t the start vector (t = 0) or the embedding of the previous choice, and
 * h_{-1} = c_{-1} = 0:  a = W [x_t; h_{t-1}] + b;  i, f, o = sigmoid(a_i, a_f, a_o);  g = tanh(a_g);
 * c_t = f c_{t-1} + i g;  h_t = o tanh(c_t);  logits of decision d_t = W_o[d_t] h_t + b_o[d_t].
 */
#include "search/controller.h"

#include <math.h>
#include <string.h>

#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-8
#define INIT_RANGE 0.1
#define CACHE_VECS 8        /* x, i, f, g, o, c, tanh(c), h */
#define SPARE_NODES 1024    /* trie nodes beyond one full sequence */
#define MAX_NODE_DOUBLES (1u << 26)
#define NO_NODE UINT32_MAX
/* work: a (4H) in the forward pass; dh_next, dc_next, dh (H each), da (4H), dxh (2H) in the backward one */

enum { CX, CI, CF, CG, CO, CC, CT, CH };

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* Doubles per trie node: the cache, then the logits and the probabilities (max_ncat each). */
static size_t node_size(const nas__ctrl_t *c)
{
    return (size_t)CACHE_VECS * c->hidden + 2 * (size_t)c->max_ncat;
}

static double *node_vec(const nas__ctrl_t *c, uint32_t node, int which)
{
    return c->node_data + node * node_size(c) + (size_t)which * c->hidden;
}

/* Vector `which` of step t of the sequence being run. */
static double *cache_vec(const nas__ctrl_t *c, uint32_t t, int which)
{
    return node_vec(c, c->seq_node[t], which);
}

/* Logits of step t. */
static double *step_z(const nas__ctrl_t *c, uint32_t t)
{
    if (c->kind != NAS__CTRL_LSTM)
        return c->z + c->off_z[c->seq_dim[t]];
    return node_vec(c, c->seq_node[t], CACHE_VECS);
}

/* Offsets of every block; the number of parameters (past the limit: UINT64_MAX). */
static uint64_t layout(nas__ctrl_t *c)
{
    uint64_t n = 0, h = c->hidden;
    if (c->kind == NAS__CTRL_LSTM) {
        c->off_start = (size_t)n;
        n += h;
        c->off_w = (size_t)n;
        n += 8 * h * h;
        c->off_b = (size_t)n;
        n += 4 * h;
    }
    uint64_t nz = 0;
    for (uint32_t d = 0; d < c->num_dims; d++) {
        uint64_t k = c->ncat[d];
        c->off_z[d] = (size_t)nz;
        nz += k;
        c->off_head[d] = (size_t)n;
        n += c->kind == NAS__CTRL_LSTM ? k * (h + 1) : k;
        if (c->kind == NAS__CTRL_LSTM) {
            c->off_emb[d] = (size_t)n;
            n += k * h;
        }
        if (n > NAS__CTRL_MAX_PARAMS)
            return UINT64_MAX;
    }
    c->num_z = (size_t)nz;
    return n;
}

nas_status_t nas__ctrl_init(nas__ctrl_t *c, nas_context_t *ctx, int kind, uint32_t num_dims, const uint32_t *ncat,
                            uint32_t hidden, nas_rng_t *rng)
{
    memset(c, 0, sizeof *c);
    c->ctx = ctx;
    c->kind = kind;
    c->temperature = 1.0;
    c->num_dims = num_dims;
    c->hidden = kind == NAS__CTRL_LSTM ? hidden : 0;
    if (kind == NAS__CTRL_LSTM && (hidden < 1 || hidden > NAS__CTRL_MAX_HIDDEN))
        return NAS_E_RANGE;
    size_t nd = num_dims ? num_dims : 1;
    c->ncat = nas__calloc(ctx, nd, sizeof *c->ncat);
    c->off_head = nas__calloc(ctx, nd, sizeof *c->off_head);
    c->off_emb = nas__calloc(ctx, nd, sizeof *c->off_emb);
    c->off_z = nas__calloc(ctx, nd, sizeof *c->off_z);
    c->seq_dim = nas__calloc(ctx, nd, sizeof *c->seq_dim);
    c->seq_choice = nas__calloc(ctx, nd, sizeof *c->seq_choice);
    c->fresh = nas__calloc(ctx, nd, sizeof *c->fresh);
    if (!c->ncat || !c->off_head || !c->off_emb || !c->off_z || !c->seq_dim || !c->seq_choice || !c->fresh)
        return NAS_E_NOMEM;
    for (uint32_t d = 0; d < num_dims; d++) {
        c->ncat[d] = ncat[d];
        if (ncat[d] > c->max_ncat)
            c->max_ncat = ncat[d];
    }
    uint64_t n = layout(c);
    c->max_nodes = num_dims + SPARE_NODES;
    if (n > NAS__CTRL_MAX_PARAMS || (uint64_t)c->max_nodes * node_size(c) > MAX_NODE_DOUBLES)
        return NAS_E_RANGE;
    c->num_params = (size_t)n;   /* 0 when no decision is a step */
    c->theta = nas__calloc(ctx, 4 * c->num_params + 1, sizeof *c->theta);
    c->z = nas__calloc(ctx, 3 * (c->num_z ? c->num_z : 1), sizeof *c->z);
    if (!c->theta || !c->z)
        return NAS_E_NOMEM;
    c->grad = c->theta + c->num_params;
    c->m = c->grad + c->num_params;
    c->v = c->m + c->num_params;
    c->p = c->z + c->num_z;
    c->dz = c->p + c->num_z;
    if (kind != NAS__CTRL_LSTM)
        return NAS_OK;   /* zero logits: the uniform policy */
    c->node_data = nas__calloc(ctx, c->max_nodes, node_size(c) * sizeof *c->node_data);
    c->node_dim = nas__calloc(ctx, c->max_nodes, sizeof *c->node_dim);
    c->node_child = nas__calloc(ctx, c->max_nodes, (size_t)c->max_ncat * sizeof *c->node_child);
    c->seq_node = nas__calloc(ctx, nd, sizeof *c->seq_node);
    c->work = nas__calloc(ctx, 13 * (size_t)hidden, sizeof *c->work);
    if (!c->node_data || !c->node_dim || !c->node_child || !c->seq_node || !c->work)
        return NAS_E_NOMEM;
    nas__ctrl_invalidate(c);
    for (size_t i = 0; i < c->num_params; i++)
        c->theta[i] = INIT_RANGE * (2.0 * nas_rng_uniform(rng) - 1.0);
    for (uint32_t d = 0; d < num_dims; d++)
        memset(c->theta + c->off_head[d] + (size_t)ncat[d] * hidden, 0, ncat[d] * sizeof *c->theta);
    return NAS_OK;
}

void nas__ctrl_free(nas__ctrl_t *c)
{
    nas_context_t *ctx = c->ctx;
    nas__free(ctx, c->ncat);
    nas__free(ctx, c->off_head);
    nas__free(ctx, c->off_emb);
    nas__free(ctx, c->off_z);
    nas__free(ctx, c->seq_dim);
    nas__free(ctx, c->seq_choice);
    nas__free(ctx, c->fresh);
    nas__free(ctx, c->theta);
    nas__free(ctx, c->z);
    nas__free(ctx, c->node_data);
    nas__free(ctx, c->node_dim);
    nas__free(ctx, c->node_child);
    nas__free(ctx, c->seq_node);
    nas__free(ctx, c->work);
    memset(c, 0, sizeof *c);
}

void nas__ctrl_begin(nas__ctrl_t *c)
{
    c->steps = 0;
    if (c->kind == NAS__CTRL_LSTM && c->max_nodes - c->num_nodes < c->num_dims) {
        c->num_nodes = 0;   /* a whole sequence must fit: start the trie over */
        c->root = NO_NODE;
    }
}

/* y = A x + y for A (rows x cols, row-major). */
static void gemv_add(const double *a, const double *x, double *y, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++) {
        const double *row = a + r * cols;
        double s = 0.0;
        for (size_t k = 0; k < cols; k++)
            s += row[k] * x[k];
        y[r] += s;
    }
}

/*
 * a += W [x; hp] over rows of 2H (hp may be NULL: zeros). Four rows at a time: independent sums
 * keep the pipeline busy, and each row still adds its terms in index order (bitwise the plain loop).
 */
static void gates(const double *w, const double *x, const double *hp, double *a, size_t h)
{
    size_t r = 0, cols = 2 * h;
    for (; r + 4 <= 4 * h; r += 4) {
        const double *w0 = w + r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        for (size_t k = 0; k < h; k++) {
            s0 += w0[k] * x[k];
            s1 += w1[k] * x[k];
            s2 += w2[k] * x[k];
            s3 += w3[k] * x[k];
        }
        if (hp)
            for (size_t k = 0; k < h; k++) {
                s0 += w0[h + k] * hp[k];
                s1 += w1[h + k] * hp[k];
                s2 += w2[h + k] * hp[k];
                s3 += w3[h + k] * hp[k];
            }
        a[r] += s0;
        a[r + 1] += s1;
        a[r + 2] += s2;
        a[r + 3] += s3;
    }
}

/* One LSTM step at position t from input x, into the step's node. */
static void lstm_forward(nas__ctrl_t *c, uint32_t t, const double *x)
{
    size_t h = c->hidden;
    double *a = c->work;   /* 4H pre-activations */
    double *xs = cache_vec(c, t, CX);
    memcpy(xs, x, h * sizeof *xs);
    memcpy(a, c->theta + c->off_b, 4 * h * sizeof *a);
    gates(c->theta + c->off_w, xs, t > 0 ? cache_vec(c, t - 1, CH) : NULL, a, h);
    double *gi = cache_vec(c, t, CI), *gf = cache_vec(c, t, CF), *gg = cache_vec(c, t, CG);
    double *go = cache_vec(c, t, CO), *cc = cache_vec(c, t, CC), *ct = cache_vec(c, t, CT);
    double *hh = cache_vec(c, t, CH);
    const double *cp = t > 0 ? cache_vec(c, t - 1, CC) : NULL;
    for (size_t k = 0; k < h; k++) {
        gi[k] = sigmoid(a[k]);
        gf[k] = sigmoid(a[h + k]);
        gg[k] = tanh(a[2 * h + k]);
        go[k] = sigmoid(a[3 * h + k]);
        cc[k] = (cp ? gf[k] * cp[k] : 0.0) + gi[k] * gg[k];
        ct[k] = tanh(cc[k]);
        hh[k] = go[k] * ct[k];
    }
}

/* The shaped logits (see controller.h) in place of the raw ones. */
static void shape(const nas__ctrl_t *c, double *z, uint32_t n)
{
    if (c->tanh_c > 0.0) {
        for (uint32_t k = 0; k < n; k++)
            z[k] = c->tanh_c * tanh(z[k] / c->temperature);
    } else if (c->temperature != 1.0) {
        for (uint32_t k = 0; k < n; k++)
            z[k] /= c->temperature;
    }
}

/* dL/d(raw logits) from dL/d(shaped logits) dz and the shaped logits z. */
static void unshape_grad(const nas__ctrl_t *c, const double *z, double *dz, uint32_t n)
{
    if (c->tanh_c > 0.0) {
        for (uint32_t k = 0; k < n; k++) {
            double t = z[k] / c->tanh_c;
            dz[k] *= c->tanh_c / c->temperature * (1.0 - t * t);
        }
    } else if (c->temperature != 1.0) {
        for (uint32_t k = 0; k < n; k++)
            dz[k] /= c->temperature;
    }
}

/* Softmax of the decision's logits into its probability slot. */
static void softmax(const double *z, double *p, uint32_t n)
{
    double mx = z[0];
    for (uint32_t k = 1; k < n; k++)
        mx = z[k] > mx ? z[k] : mx;
    double sum = 0.0;
    for (uint32_t k = 0; k < n; k++)
        sum += (p[k] = exp(z[k] - mx));
    for (uint32_t k = 0; k < n; k++)
        p[k] /= sum;
}

const double *nas__ctrl_step(nas__ctrl_t *c, uint32_t d)
{
    uint32_t t = c->steps++, n = c->ncat[d];
    c->seq_dim[t] = d;
    c->seq_choice[t] = 0;
    if (c->kind != NAS__CTRL_LSTM) {
        double *z = c->z + c->off_z[d], *p = c->p + c->off_z[d];
        if (!c->fresh[d]) {
            memcpy(z, c->theta + c->off_head[d], n * sizeof *z);
            shape(c, z, n);
            softmax(z, p, n);
            c->fresh[d] = true;
        }
        return p;
    }
    /* The trie's slot for this prefix: the root, or the previous step's child for its choice. */
    uint32_t *slot = &c->root;
    if (t > 0)
        slot = &c->node_child[(size_t)c->seq_node[t - 1] * c->max_ncat + c->seq_choice[t - 1]];
    uint32_t node = *slot;
    if (node != NO_NODE && c->node_dim[node] == d) {
        c->seq_node[t] = node;
        return node_vec(c, node, CACHE_VECS) + c->max_ncat;
    }
    /* A new node (begin() left room for the whole sequence). One for another decision (activity
     * that hung on a value drawn within a bin) is left behind, not overwritten. */
    node = c->num_nodes++;
    *slot = node;
    c->node_dim[node] = d;
    for (uint32_t k = 0; k < c->max_ncat; k++)
        c->node_child[(size_t)node * c->max_ncat + k] = NO_NODE;
    c->seq_node[t] = node;
    size_t h = c->hidden;
    const double *x = c->theta + c->off_start;
    if (t > 0)
        x = c->theta + c->off_emb[c->seq_dim[t - 1]] + (size_t)c->seq_choice[t - 1] * h;
    lstm_forward(c, t, x);
    double *z = node_vec(c, node, CACHE_VECS), *p = z + c->max_ncat;
    const double *wo = c->theta + c->off_head[d];
    memcpy(z, wo + (size_t)n * h, n * sizeof *z);
    gemv_add(wo, cache_vec(c, t, CH), z, n, h);
    shape(c, z, n);
    softmax(z, p, n);
    return p;
}

void nas__ctrl_choose(nas__ctrl_t *c, uint32_t k)
{
    if (c->steps > 0)
        c->seq_choice[c->steps - 1] = k;
}

uint32_t nas__ctrl_sample(nas__ctrl_t *c, uint32_t d, nas_rng_t *rng)
{
    const double *p = nas__ctrl_step(c, d);
    uint32_t n = c->ncat[d], k = 0;
    double u = nas_rng_uniform(rng), cum = p[0];
    while (k + 1 < n && !(u < cum))   /* rounding (or a NaN) leaving u uncovered picks the last */
        cum += p[++k];
    nas__ctrl_choose(c, k);
    return k;
}

void nas__ctrl_invalidate(nas__ctrl_t *c)
{
    c->num_nodes = 0;
    c->root = NO_NODE;
    if (c->fresh)
        memset(c->fresh, 0, c->num_dims * sizeof *c->fresh);
}

/* Backprop through time of dz (per decision slot) over the sequence just run, into grad. */
static void lstm_backward(nas__ctrl_t *c, double *grad)
{
    size_t h = c->hidden;
    double *dh_next = c->work + 4 * h, *dc_next = dh_next + h, *dh = dc_next + h, *da = dh + h, *dxh = da + 4 * h;
    memset(dh_next, 0, 2 * h * sizeof *dh_next);
    const double *w = c->theta + c->off_w;
    double *gw = grad + c->off_w, *gb = grad + c->off_b;
    for (uint32_t t = c->steps; t-- > 0;) {
        uint32_t d = c->seq_dim[t], n = c->ncat[d];
        const double *dz = c->dz + c->off_z[d], *hh = cache_vec(c, t, CH);
        const double *wo = c->theta + c->off_head[d];
        double *gwo = grad + c->off_head[d], *gbo = gwo + (size_t)n * h;
        memcpy(dh, dh_next, h * sizeof *dh);
        for (uint32_t k = 0; k < n; k++) {
            gbo[k] += dz[k];
            for (size_t j = 0; j < h; j++) {
                gwo[(size_t)k * h + j] += dz[k] * hh[j];
                dh[j] += wo[(size_t)k * h + j] * dz[k];
            }
        }
        const double *gi = cache_vec(c, t, CI), *gf = cache_vec(c, t, CF), *gg = cache_vec(c, t, CG);
        const double *go = cache_vec(c, t, CO), *ct = cache_vec(c, t, CT), *x = cache_vec(c, t, CX);
        const double *cp = t > 0 ? cache_vec(c, t - 1, CC) : NULL, *hp = t > 0 ? cache_vec(c, t - 1, CH) : NULL;
        for (size_t k = 0; k < h; k++) {
            double dc = dc_next[k] + dh[k] * go[k] * (1.0 - ct[k] * ct[k]);
            double cprev = cp ? cp[k] : 0.0;
            da[k] = dc * gg[k] * gi[k] * (1.0 - gi[k]);
            da[h + k] = dc * cprev * gf[k] * (1.0 - gf[k]);
            da[2 * h + k] = dc * gi[k] * (1.0 - gg[k] * gg[k]);
            da[3 * h + k] = dh[k] * ct[k] * go[k] * (1.0 - go[k]);
            dc_next[k] = dc * gf[k];
        }
        memset(dxh, 0, 2 * h * sizeof *dxh);
        for (size_t r = 0; r < 4 * h; r++) {
            const double *row = w + r * 2 * h;
            double *grow = gw + r * 2 * h, g = da[r];
            gb[r] += g;
            if (g == 0.0)
                continue;
            for (size_t k = 0; k < h; k++) {
                grow[k] += g * x[k];
                dxh[k] += row[k] * g;
            }
            if (hp)
                for (size_t k = 0; k < h; k++) {
                    grow[h + k] += g * hp[k];
                    dxh[h + k] += row[h + k] * g;
                }
        }
        double *gx = grad + c->off_start;
        if (t > 0)
            gx = grad + c->off_emb[c->seq_dim[t - 1]] + (size_t)c->seq_choice[t - 1] * h;
        for (size_t k = 0; k < h; k++)
            gx[k] += dxh[k];
        memcpy(dh_next, dxh + h, h * sizeof *dh_next);
    }
}

double nas__ctrl_loss(nas__ctrl_t *c, const uint32_t *choice, double adv, double ent, double *grad)
{
    double loss = 0.0;
    nas__ctrl_begin(c);
    for (uint32_t d = 0; d < c->num_dims; d++) {
        if (choice[d] == NAS__CTRL_NONE || c->ncat[d] == 0)
            continue;
        uint32_t n = c->ncat[d], k = choice[d];
        const double *p = nas__ctrl_step(c, d);
        nas__ctrl_choose(c, k);
        const double *z = step_z(c, c->steps - 1);
        double *dz = c->dz + c->off_z[d];
        /* log p from the log-sum-exp, so a vanishing probability stays finite */
        double mx = z[0], sum = 0.0, entropy = 0.0;
        for (uint32_t j = 1; j < n; j++)
            mx = z[j] > mx ? z[j] : mx;
        for (uint32_t j = 0; j < n; j++)
            sum += exp(z[j] - mx);
        double lse = mx + log(sum);
        for (uint32_t j = 0; j < n; j++)
            entropy -= p[j] * (z[j] - lse);
        loss += -adv * (z[k] - lse) - ent * entropy;
        /* dL/dz_j = -adv (1[j = k] - p_j) + ent p_j (log p_j + H) */
        for (uint32_t j = 0; j < n; j++)
            dz[j] = -adv * ((j == k ? 1.0 : 0.0) - p[j]) + ent * p[j] * (z[j] - lse + entropy);
        unshape_grad(c, z, dz, n);
    }
    if (!grad)
        return loss;
    if (c->kind == NAS__CTRL_LSTM) {
        lstm_backward(c, grad);
        return loss;
    }
    for (uint32_t t = 0; t < c->steps; t++) {
        uint32_t d = c->seq_dim[t];
        for (uint32_t j = 0; j < c->ncat[d]; j++)
            grad[c->off_head[d] + j] += c->dz[c->off_z[d] + j];
    }
    return loss;
}

void nas__ctrl_adam(nas__ctrl_t *c, double lr, double scale)
{
    c->adam_t++;
    double t = (double)c->adam_t;
    double a = lr * sqrt(1.0 - pow(ADAM_B2, t)) / (1.0 - pow(ADAM_B1, t));
    double *restrict th = c->theta, *restrict gr = c->grad, *restrict m = c->m, *restrict v = c->v;
    for (size_t i = 0; i < c->num_params; i++) {
        double g = gr[i] * scale;
        m[i] = ADAM_B1 * m[i] + (1.0 - ADAM_B1) * g;
        v[i] = ADAM_B2 * v[i] + (1.0 - ADAM_B2) * g * g;
        th[i] -= a * m[i] / (sqrt(v[i]) + ADAM_EPS);
        gr[i] = 0.0;
    }
    nas__ctrl_invalidate(c);
}
