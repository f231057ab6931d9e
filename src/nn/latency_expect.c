/* Latency table predictions: one architecture, and the expected latency with its gradients (see latency.h). */
#include "nn/latency_internal.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Predictions                                                             */

nas_status_t nas__latlut_predict(const nas__latlut_t *t, const nas_arch_t *arch, double *ms)
{
    if (!t || !arch || !ms || arch->space != t->space)
        return NAS_E_INVAL;
    const nas_space_t *s = t->space;
    uint32_t w = s->width_dim >= 0 ? arch->choice[s->width_dim] : 0;
    double sum = t->estem[w] + t->ehead[w];
    for (uint32_t d = 0; d < t->nd; d++)
        if (nas__latlut_is_layer(s, d) && nas__dim_active(s, arch->choice, d))
            sum += *nas__latlut_at(t->eff, t, w, d, arch->choice[d]);
    *ms = sum;
    return NAS_OK;
}

uint32_t nas__latlut_num_probs(const nas__latlut_t *t)
{
    return t->poff[t->nd];
}

uint32_t nas__latlut_prob_offset(const nas__latlut_t *t, uint32_t dim)
{
    return t->poff[dim < t->nd ? dim : t->nd];
}

/* Probability that layer l of stage sg is active. */
static double p_active(const nas__latlut_t *t, const nas__stage_t *sg, uint32_t l, const double *p)
{
    if (sg->depth_dim < 0)
        return 1.0;
    double a = 0.0;
    for (uint32_t c = 0; c < sg->num_depths; c++)
        a += sg->depths[c] > l ? p[t->poff[sg->depth_dim] + c] : 0.0;
    return a;
}

nas_status_t nas__latlut_expected(const nas__latlut_t *t, const double *p, double *ms, double *grad)
{
    if (!t || !p || !ms)
        return NAS_E_INVAL;
    const nas_space_t *s = t->space;
    uint32_t np = t->poff[t->nd];
    for (uint32_t i = 0; i < np; i++)
        if (!isfinite(p[i]))
            return NAS_E_INVAL;
    if (grad)
        memset(grad, 0, np * sizeof *grad);
    int32_t wd = s->width_dim;
    double e = 0.0;
    for (uint32_t w = 0; w < t->nw; w++) {
        double pw = wd >= 0 ? p[t->poff[wd] + w] : 1.0, sum = t->estem[w] + t->ehead[w];
        for (uint32_t si = 0; si < s->num_stages; si++) {
            const nas__stage_t *sg = &s->stages[si];
            for (uint32_t l = 0; l < sg->depths[sg->num_depths - 1]; l++) {
                uint32_t d = sg->first_layer + l, o = t->poff[d];
                double a = p_active(t, sg, l, p), lat = 0.0;
                for (uint32_t c = 0; c < s->dims[d].num_choices; c++) {
                    lat += p[o + c] * *nas__latlut_at(t->eff, t, w, d, c);
                    if (grad)
                        grad[o + c] += pw * a * *nas__latlut_at(t->eff, t, w, d, c);
                }
                sum += a * lat;
                for (uint32_t c = 0; grad && sg->depth_dim >= 0 && c < sg->num_depths; c++)
                    if (sg->depths[c] > l)
                        grad[t->poff[sg->depth_dim] + c] += pw * lat;
            }
        }
        e += pw * sum;
        if (grad && wd >= 0)
            grad[t->poff[wd] + w] += sum;
    }
    *ms = e;
    return NAS_OK;
}

nas_status_t nas__latlut_expected_softmax(const nas__latlut_t *t, const double *alpha, double *ms, double *grad)
{
    if (!t || !alpha || !ms)
        return NAS_E_INVAL;
    uint32_t np = t->poff[t->nd];
    double *p = nas__malloc(t->ctx, 2 * (size_t)(np ? np : 1) * sizeof *p);
    if (!p)
        return NAS_E_NOMEM;
    double *g = p + np;
    nas_status_t st = NAS_OK;
    for (uint32_t d = 0; d < t->nd && st == NAS_OK; d++) {
        uint32_t o = t->poff[d], n = t->poff[d + 1] - o;
        double mx = -INFINITY, z = 0.0;
        for (uint32_t c = 0; c < n; c++)
            mx = fmax(mx, alpha[o + c]);
        for (uint32_t c = 0; c < n; c++)
            z += (p[o + c] = exp(alpha[o + c] - mx));
        for (uint32_t c = 0; c < n; c++)
            p[o + c] /= z;
        if (n && !isfinite(mx))
            st = NAS_E_INVAL;
    }
    if (st == NAS_OK)
        st = nas__latlut_expected(t, p, ms, grad ? g : NULL);
    for (uint32_t d = 0; grad && st == NAS_OK && d < t->nd; d++) {
        uint32_t o = t->poff[d], n = t->poff[d + 1] - o;
        double dot = 0.0;
        for (uint32_t c = 0; c < n; c++)
            dot += p[o + c] * g[o + c];
        for (uint32_t c = 0; c < n; c++)
            grad[o + c] = p[o + c] * (g[o + c] - dot);
    }
    nas__free(t->ctx, p);
    return st;
}


nas_status_t nas__latlut_expected_paths(const nas__latlut_t *t, const nas__supernet_map_t *map, uint32_t width,
                                        const double *w, double *ms, double *grad)
{
    if (!t || !map || !w || !ms || map->space != t->space || width >= t->nw)
        return NAS_E_INVAL;
    const nas_space_t *s = t->space;
    double e = t->estem[width] + t->ehead[width];
    uint32_t off = 0;
    for (uint32_t m = 0; m < map->num_mixed; m++) {
        const nas__mixed_map_t *mm = &map->mixed[m];
        if (mm->role != NAS__MIXED_CHAIN_LAYER || mm->dim < 0 || (uint32_t)mm->dim >= t->nd)
            return NAS_E_INVAL;
        for (uint32_t p = 0; p < mm->n_paths; p++) {
            /* paths past the decision's choices are the appended "off" identity: free */
            double lat = p < s->dims[mm->dim].num_choices ? *nas__latlut_at(t->eff, t, width, (uint32_t)mm->dim, p)
                                                          : 0.0;
            if (!isfinite(w[off + p]))
                return NAS_E_INVAL;
            e += w[off + p] * lat;
            if (grad)
                grad[off + p] = lat;
        }
        off += mm->n_paths;
    }
    *ms = e;
    return NAS_OK;
}
