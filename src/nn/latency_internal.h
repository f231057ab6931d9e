/* Internals shared by latency.c (measurement, predictions) and latency_file.c (the cache file). */
#ifndef NAS_NN_LATENCY_INTERNAL_H
#define NAS_NN_LATENCY_INTERNAL_H

#include "nn/latency.h"
#include "space/space_internal.h"

#define NAS__LATLUT_FORMAT "libnas-latlut 1"

struct nas__latlut {
    nas_context_t *ctx;
    const nas_space_t *space;
    char key[NAS__LATLUT_KEY_CAP];
    uint32_t nw, nd, mc;         /* widths, architecture decisions, largest num_choices */
    double *raw;                 /* measured cost (ms) [w][d][c]; 0 for skip and for non-OP decisions */
    double *stem, *head;         /* measured [w] */
    double *eff, *estem, *ehead; /* calibrated: what predictions sum */
    uint32_t *poff;              /* per decision: offset of its probability row; [nd]: the total */
    nas__latlut_info_t info;
};

static inline double *nas__latlut_at(double *v, const nas__latlut_t *t, uint32_t w, uint32_t d, uint32_t c)
{
    return &v[((size_t)w * t->nd + d) * t->mc + c];
}

/* Decision d is a layer's op; choice c of it is skip (no node). */
bool nas__latlut_is_layer(const nas_space_t *s, uint32_t d);
bool nas__latlut_is_skip(const nas_space_t *s, uint32_t d, uint32_t c);
/* An empty table for (space, opts, device), its key set; messages into err. */
nas_status_t nas__latlut_alloc(nas__latlut_t **out, nas__dev_t *dev, nas_space_t *s, const nas__latlut_opts_t *o,
                               char *err);
/* Recompute the calibrated entries from the raw ones and info.scale, info.overhead_ms. */
void nas__latlut_apply_calib(nas__latlut_t *t);

#endif /* NAS_NN_LATENCY_INTERNAL_H */
