/* Latency lookup table of chain spaces at batch 1: measurement, calibration, predictions (see latency.h). */
#include "nn/latency.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/exec.h"
#include "nn/latency_internal.h"

/* One part of a network: the stem, a layer (inverted residual) or the head. */
typedef enum part_kind { PART_STEM, PART_LAYER, PART_HEAD } part_kind_t;

typedef struct part {
    part_kind_t kind;
    nas__shape_t in;
    int32_t c, stride, k, e;  /* stem: c, stride; layer: out channels, stride, kernel, expansion; head: c (0: none) */
    int32_t classes;
    bool after_layer;         /* its input comes out of a layer (else out of the stem) */
} part_t;

#define CONTEXT_C 3
/* Calibration scales outside this range are not applied (see calibrate()). */
#define CALIB_MIN 0.67
#define CALIB_MAX 1.5

typedef struct memo {
    part_t part;
    double ms;
} memo_t;

/* The measuring state of one build. */
typedef struct meter {
    nas_context_t *ctx;
    nas__dev_t *dev;
    nas__latlut_opts_t o;
    float *x, *z;             /* input (largest seen) and logits */
    size_t nx;
    double *ta, *tb;          /* timings of a run */
    memo_t *memo;
    uint32_t n_memo, cap_memo;
    char *err;
} meter_t;

/* ---------------------------------------------------------------------- */
/* Geometry (the rules of nas__build_graph's chain networks)              */

/* MobileNet's _make_divisible(v, 8), as in build.c. */
static int32_t make_div(double v)
{
    double r = floor((v + 4.0) / 8.0) * 8.0;
    if (r < 8.0)
        r = 8.0;
    if (r < 0.9 * v)
        r += 8.0;
    return r > NAS__GRAPH_MAX_DIM + 1.0 ? NAS__GRAPH_MAX_DIM + 1 : (int32_t)r;
}

static int32_t chan(int32_t c, double m)
{
    return m == 1.0 ? c : make_div(c * m);
}

static double cscale(const nas__latlut_opts_t *o)
{
    return o->build.channel_scale > 0.0 ? o->build.channel_scale : 1.0;
}

static int32_t stem_stride(const nas__build_opts_t *b)
{
    if (b->stem_stride)
        return b->stem_stride;
    return b->in_h >= 64 && b->in_w >= 64 ? 2 : 1;
}

/* Output size of a "same"-padded odd-kernel conv. */
static int32_t strided(int32_t n, int32_t stride)
{
    return (n - 1) / stride + 1;
}

static int32_t emit_part(nas__graph_t *g, int32_t x, const part_t *pt)
{
    switch (pt->kind) {
    case PART_STEM:
        x = nas__graph_add_conv(g, x, pt->c, 3, pt->stride, 1, 1, false);
        return nas__graph_add_relu6(g, nas__graph_add_bn(g, x));
    case PART_LAYER:
        return nas__graph_add_inverted_residual(g, x, pt->e, pt->k, pt->stride, pt->c);
    case PART_HEAD:
        if (pt->c > 0)
            x = nas__graph_add_relu6(g, nas__graph_add_bn(g, nas__graph_add_conv(g, x, pt->c, 1, 1, 1, 1, false)));
        return nas__graph_add_fc(g, nas__graph_add_gap(g, x), pt->classes, true);
    }
    return -1;
}

/* Parts other than the stem: input(3 x H x W) -> conv3x3 + BN + ReLU6 to pt->in [-> the part]. The stem
 * has no context: it eats the image. */
static nas_status_t part_graph(nas_context_t *ctx, const part_t *pt, bool with_part, nas__graph_t **out, char *err)
{
    nas__graph_t *g = NULL;
    nas_status_t st = nas__graph_create(&g, ctx);
    if (st != NAS_OK)
        return nas__fail(err, st, "out of memory for a latency graph");
    bool stem = pt->kind == PART_STEM;
    int32_t x = nas__graph_add_input(g, stem ? pt->in.c : CONTEXT_C, pt->in.h, pt->in.w);
    if (!stem)   /* the context: a stem-like conv gives the part's input in the layout a network has there */
        x = nas__graph_add_relu6(g, nas__graph_add_bn(g, nas__graph_add_conv(g, x, pt->in.c, 3, 1, 1, 1, false)));
    if (!stem && pt->after_layer)   /* ... and so does a layer, whose kernels choose other layouts */
        x = nas__graph_add_inverted_residual(g, x, 1, 3, 1, pt->in.c);
    if (with_part)
        emit_part(g, x, pt);
    if ((st = nas__graph_validate(g, err)) != NAS_OK) {
        nas__graph_destroy(g);
        return st;
    }
    *out = g;
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Timing                                                                  */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/*
 * The lower quartile of n timings: on a quiet machine within a few percent of the median that
 * nas_model_latency reports, and far steadier on a shared one, where other processes preempt some
 * runs (with OpenMP threads waiting at barriers, such runs can take many times longer).
 */
static double low_quartile(double *t, uint32_t n)
{
    qsort(t, n, sizeof *t, cmp_double);
    return t[(n - 1) / 4];
}

/* One forward as nas_model_latency times it: copy the input in, run, and (read) copy the output out. */
static nas_status_t run_once(meter_t *mt, nas__plan_t *p, bool read, double *ms)
{
    double t0 = nas__now();
    nas_status_t st = nas__plan_set_input(p, mt->x);
    if (st == NAS_OK)
        st = nas__plan_forward(p, false);
    if (st == NAS_OK && read)
        st = nas__plan_read_output(p, mt->z);
    if (ms)
        *ms = (nas__now() - t0) * 1e3;
    return st != NAS_OK ? nas__fail(mt->err, st, "latency run: %s", nas__plan_errmsg(p)) : NAS_OK;
}

/* Times (lower quartiles) of plans a and b (NULL: none) run interleaved, so both see the same machine state. */
static nas_status_t time_pair(meter_t *mt, nas__plan_t *a, bool read_a, nas__plan_t *b, double *ma, double *mb)
{
    nas_status_t st = NAS_OK;
    for (uint32_t i = 0; i < mt->o.warmup && st == NAS_OK; i++) {
        st = run_once(mt, a, read_a, NULL);
        if (st == NAS_OK && b)
            st = run_once(mt, b, false, NULL);
    }
    for (uint32_t i = 0; i < mt->o.runs && st == NAS_OK; i++) {
        bool b_first = b && i % 2;
        if (b_first)
            st = run_once(mt, b, false, &mt->tb[i]);
        if (st == NAS_OK)
            st = run_once(mt, a, read_a, &mt->ta[i]);
        if (st == NAS_OK && b && !b_first)
            st = run_once(mt, b, false, &mt->tb[i]);
    }
    if (st != NAS_OK)
        return st;
    *ma = low_quartile(mt->ta, mt->o.runs);
    if (b)
        *mb = low_quartile(mt->tb, mt->o.runs);
    return NAS_OK;
}

static nas_status_t ensure_input(meter_t *mt, nas__shape_t s)
{
    size_t n = (size_t)s.c * (size_t)s.h * (size_t)s.w;
    if (n <= mt->nx)
        return NAS_OK;
    float *x = nas__realloc(mt->ctx, mt->x, n * sizeof *x);
    if (!x)
        return nas__fail(mt->err, NAS_E_NOMEM, "out of memory for a latency input");
    for (size_t i = 0; i < n; i++)   /* fixed values in [0, 1), as nas_model_latency uses */
        x[i] = (float)(nas__mix64(i) >> 40) * (1.0f / 16777216.0f);
    mt->x = x;
    mt->nx = n;
    return NAS_OK;
}

static nas_status_t plan_of(meter_t *mt, nas__graph_t *g, nas__plan_t **p)
{
    nas__plan_opts_t po = NAS__PLAN_OPTS_INIT;
    nas_status_t st = nas__plan_create(p, mt->dev, g, &po);
    nas__graph_destroy(g);
    return st != NAS_OK ? nas__fail(mt->err, st, "latency plan: %s", nas_context_errmsg(mt->ctx)) : NAS_OK;
}

/* Time a whole graph (consumed) as nas_model_latency does. */
static nas_status_t time_graph(meter_t *mt, nas__graph_t *g, double *ms)
{
    nas__plan_t *p = NULL;
    nas_status_t st = ensure_input(mt, nas__graph_node(g, nas__graph_input_node(g))->out);
    if (st != NAS_OK) {
        nas__graph_destroy(g);
        return st;
    }
    if ((st = plan_of(mt, g, &p)) == NAS_OK)
        st = time_pair(mt, p, true, NULL, ms, NULL);
    nas__plan_destroy(p);
    return st;
}

/* Cost of one part: stem alone; a layer or the head minus its context. Memoized. */
static nas_status_t measure(meter_t *mt, const part_t *pt, double *ms)
{
    for (uint32_t i = 0; i < mt->n_memo; i++) {
        const part_t *q = &mt->memo[i].part;
        if (q->kind == pt->kind && q->in.c == pt->in.c && q->in.h == pt->in.h && q->in.w == pt->in.w &&
            q->c == pt->c && q->stride == pt->stride && q->k == pt->k && q->e == pt->e && q->classes == pt->classes &&
            q->after_layer == pt->after_layer) {
            *ms = mt->memo[i].ms;
            return NAS_OK;
        }
    }
    nas__graph_t *g = NULL;
    nas__plan_t *pa = NULL, *pb = NULL;
    double ma = 0.0, mb = 0.0;
    nas__shape_t in = pt->in;
    if (pt->kind != PART_STEM)
        in.c = CONTEXT_C;
    nas_status_t st = ensure_input(mt, in);
    if (st == NAS_OK && (st = part_graph(mt->ctx, pt, true, &g, mt->err)) == NAS_OK)
        st = plan_of(mt, g, &pa);
    if (st == NAS_OK && pt->kind != PART_STEM && (st = part_graph(mt->ctx, pt, false, &g, mt->err)) == NAS_OK)
        st = plan_of(mt, g, &pb);
    if (st == NAS_OK)
        st = time_pair(mt, pa, pt->kind == PART_HEAD, pb, &ma, &mb);
    nas__plan_destroy(pa);
    nas__plan_destroy(pb);
    if (st != NAS_OK)
        return st;
    *ms = fmax(ma - mb, 0.0);
    if (!nas__grow(mt->ctx, (void **)&mt->memo, &mt->cap_memo, mt->n_memo + 1, sizeof *mt->memo))
        return nas__fail(mt->err, NAS_E_NOMEM, "out of memory for the latency table");
    mt->memo[mt->n_memo].part = *pt;
    mt->memo[mt->n_memo++].ms = *ms;
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* The table                                                               */

bool nas__latlut_is_layer(const nas_space_t *s, uint32_t d)
{
    return s->dims[d].role == NAS_ROLE_OP;
}

bool nas__latlut_is_skip(const nas_space_t *s, uint32_t d, uint32_t c)
{
    nas__opdef_t op;
    return !nas__op_parse_chain(nas__dim_label(s, d, c), &op) || op.kind == NAS__OP_SKIP;
}

nas_status_t nas__latlut_alloc(nas__latlut_t **out, nas__dev_t *dev, nas_space_t *s, const nas__latlut_opts_t *o,
                                char *err)
{
    *out = NULL;
    if (!s || !dev || !nas__space_is_built(s))
        return nas__fail(err, NAS_E_INVAL, "latency table: NULL or unbuilt space, or NULL device");
    if (s->family != NAS_FAMILY_CHAIN)
        return nas__fail(err, NAS_E_UNSUPPORTED, "latency table: space '%s' is not a chain space", s->name);
    nas_context_t *ctx = nas__space_context(s);
    nas__latlut_t *t = nas__calloc(ctx, 1, sizeof *t);
    if (!t)
        return nas__fail(err, NAS_E_NOMEM, "out of memory for a latency table");
    t->ctx = ctx;
    t->space = s;
    t->nw = s->chain.num_widths;
    t->nd = s->num_arch_dims;
    t->mc = 1;
    for (uint32_t d = 0; d < t->nd; d++)
        t->mc = s->dims[d].num_choices > t->mc ? s->dims[d].num_choices : t->mc;
    size_t n = (size_t)t->nw * t->nd * t->mc;
    t->raw = nas__calloc(ctx, 2 * n + 4 * (size_t)t->nw, sizeof *t->raw);
    t->poff = nas__calloc(ctx, t->nd + 1, sizeof *t->poff);
    if (!t->raw || !t->poff) {
        nas__latlut_destroy(t);
        return nas__fail(err, NAS_E_NOMEM, "out of memory for a latency table");
    }
    t->eff = t->raw + n;
    t->stem = t->eff + n;
    t->head = t->stem + t->nw;
    t->estem = t->head + t->nw;
    t->ehead = t->estem + t->nw;
    for (uint32_t d = 0; d < t->nd; d++)
        t->poff[d + 1] = t->poff[d] + s->dims[d].num_choices;
    t->info.scale = 1.0;
    nas__latlut_key(dev, s, o, t->key);
    *out = t;
    return NAS_OK;
}

/* Calibrated entries from the raw ones. */
void nas__latlut_apply_calib(nas__latlut_t *t)
{
    const nas_space_t *s = t->space;
    double a = t->info.scale, b = t->info.overhead_ms;
    for (uint32_t w = 0; w < t->nw; w++) {
        t->estem[w] = a * t->stem[w];
        t->ehead[w] = a * t->head[w];
        for (uint32_t d = 0; d < t->nd; d++)
            for (uint32_t c = 0; c < s->dims[d].num_choices && nas__latlut_is_layer(s, d); c++)
                *nas__latlut_at(t->eff, t, w, d, c) =
                    nas__latlut_is_skip(s, d, c) ? 0.0 : a * *nas__latlut_at(t->raw, t, w, d, c) + b;
    }
}

/* Walk the parts of a network of width w (choice: NULL for all parts of the table). */
typedef nas_status_t (*part_fn)(void *user, const part_t *pt, uint32_t d, uint32_t c);

static nas_status_t walk(const nas__latlut_t *t, const nas__latlut_opts_t *o, uint32_t w, const uint32_t *choice,
                         part_fn fn, void *user)
{
    const nas_space_t *s = t->space;
    const nas__build_opts_t *b = &o->build;
    double m = s->chain.widths[w] * cscale(o);
    part_t pt = { PART_STEM, { b->in_c, b->in_h, b->in_w }, chan(s->chain.stem_channels, m), stem_stride(b), 0, 0,
                  b->num_classes, false };
    nas_status_t st = fn(user, &pt, UINT32_MAX, 0);
    nas__shape_t x = { pt.c, strided(b->in_h, pt.stride), strided(b->in_w, pt.stride) };
    for (uint32_t si = 0; si < s->num_stages && st == NAS_OK; si++) {
        const nas__stage_t *sg = &s->stages[si];
        int32_t c = chan(sg->channels, m);
        uint32_t depth = sg->depths[sg->num_depths - 1];
        if (choice && sg->depth_dim >= 0)
            depth = sg->depths[choice[sg->depth_dim]];
        for (uint32_t l = 0; l < depth && st == NAS_OK; l++) {
            uint32_t d = sg->first_layer + l;
            pt.kind = PART_LAYER;
            pt.in = x;
            pt.c = c;
            pt.stride = l == 0 ? sg->stride : 1;
            pt.after_layer = si > 0 || l > 0;
            for (uint32_t ci = 0; ci < s->dims[d].num_choices && st == NAS_OK; ci++) {
                nas__opdef_t op;
                if (choice && ci != choice[d])
                    continue;
                if (!nas__op_parse_chain(nas__dim_label(s, d, ci), &op))
                    return NAS_E_SPEC;
                pt.k = op.kernel;
                pt.e = op.expansion;
                if (op.kind != NAS__OP_SKIP)
                    st = fn(user, &pt, d, ci);
            }
            if (l == 0)
                x = (nas__shape_t){ c, strided(x.h, pt.stride), strided(x.w, pt.stride) };
        }
    }
    double hm = fmax(s->chain.widths[w], 1.0) * cscale(o);
    part_t hd = { PART_HEAD, x, s->chain.head_channels > 0 ? chan(s->chain.head_channels, hm) : 0, 0, 0, 0,
                  b->num_classes, true };
    return st == NAS_OK ? fn(user, &hd, UINT32_MAX, 1) : st;
}

typedef struct fill {
    nas__latlut_t *t;
    meter_t *mt;
    uint32_t w;
    bool first;               /* the first round: set, later rounds keep the smaller time */
} fill_t;

static nas_status_t fill_part(void *user, const part_t *pt, uint32_t d, uint32_t c)
{
    fill_t *f = user;
    double ms = 0.0;
    nas_status_t st = measure(f->mt, pt, &ms);
    if (st != NAS_OK)
        return st;
    if (pt->kind == PART_STEM)
        f->t->stem[f->w] = f->first ? ms : fmin(f->t->stem[f->w], ms);
    else if (pt->kind == PART_HEAD)
        f->t->head[f->w] = f->first ? ms : fmin(f->t->head[f->w], ms);
    else {
        double *e = nas__latlut_at(f->t->raw, f->t, f->w, d, c);
        *e = f->first ? ms : fmin(*e, ms);
    }
    return NAS_OK;
}

/* The whole network of an arch, as nas_model_latency runs it (no loss; logits out). */
typedef struct whole {
    nas__graph_t *g;
    int32_t x;
} whole_t;

static nas_status_t whole_part(void *user, const part_t *pt, uint32_t d, uint32_t c)
{
    (void)d;
    (void)c;
    whole_t *wh = user;
    if (pt->kind == PART_STEM)
        wh->x = nas__graph_add_input(wh->g, pt->in.c, pt->in.h, pt->in.w);
    wh->x = emit_part(wh->g, wh->x, pt);
    return NAS_OK;
}

/* Time the whole network of arch; check its parts against nas__build_graph's network (same FLOPs and
 * parameters: the geometry above follows build.c). */
static nas_status_t time_arch(nas__latlut_t *t, meter_t *mt, const nas_arch_t *arch, double *ms)
{
    const nas_space_t *s = t->space;
    uint32_t w = s->width_dim >= 0 ? arch->choice[s->width_dim] : 0;
    nas__graph_t *ref = NULL;
    whole_t wh = { NULL, -1 };
    nas_status_t st = nas__build_graph(&ref, arch, &mt->o.build, mt->err);
    if (st != NAS_OK)
        return st;
    if ((st = nas__graph_create(&wh.g, t->ctx)) != NAS_OK) {
        nas__graph_destroy(ref);
        return nas__fail(mt->err, st, "out of memory for a latency graph");
    }
    st = walk(t, &mt->o, w, arch->choice, whole_part, &wh);
    if (st == NAS_OK)
        st = nas__graph_validate(wh.g, mt->err);
    if (st == NAS_OK && (nas__graph_flops(wh.g) != nas__graph_flops(ref) ||
                         nas__graph_params(wh.g) != nas__graph_params(ref)))
        st = nas__fail(mt->err, NAS_E_INTERNAL, "latency table: its network differs from nas__build_graph's "
                       "(%lld vs %lld FLOPs)", (long long)nas__graph_flops(wh.g), (long long)nas__graph_flops(ref));
    nas__graph_destroy(ref);
    if (st != NAS_OK) {
        nas__graph_destroy(wh.g);
        return st;
    }
    return time_graph(mt, wh.g, ms);
}

/* Fit measured ~= scale x raw + overhead x layers (least squares; scale only when that is degenerate). */
static void fit(nas__latlut_info_t *info, const double *m, const double *r, const double *n, uint32_t k)
{
    double srr = 0, srn = 0, snn = 0, smr = 0, smn = 0;
    for (uint32_t i = 0; i < k; i++) {
        srr += r[i] * r[i];
        srn += r[i] * n[i];
        snn += n[i] * n[i];
        smr += m[i] * r[i];
        smn += m[i] * n[i];
    }
    double det = srr * snn - srn * srn;
    info->scale = srr > 0.0 ? smr / srr : 1.0;
    info->overhead_ms = 0.0;
    if (k >= 2 && det > 1e-9 * srr * snn) {
        double a = (smr * snn - smn * srn) / det, b = (srr * smn - srn * smr) / det;
        if (a > 0.0 && b >= 0.0) {   /* a negative overhead would make small networks cost < 0 */
            info->scale = a;
            info->overhead_ms = b;
        }
    }
}

static uint32_t active_layers(const nas_space_t *s, const uint32_t *choice)
{
    uint32_t n = 0;
    for (uint32_t d = 0; d < s->num_arch_dims; d++)
        n += nas__latlut_is_layer(s, d) && nas__dim_active(s, choice, d) && !nas__latlut_is_skip(s, d, choice[d]);
    return n;
}

static nas_status_t calibrate(nas__latlut_t *t, meter_t *mt, nas_space_t *s)
{
    uint32_t k = mt->o.calib_archs;
    nas_arch_t *arch = NULL;
    nas_rng_t *rng = NULL;
    double *v = nas__calloc(t->ctx, 3 * (size_t)k, sizeof *v);
    nas_status_t st = v ? nas_arch_create(&arch, s) : NAS_E_NOMEM;
    if (st == NAS_OK)
        st = nas_rng_create(&rng, t->ctx, mt->o.seed, 0x1a7e);
    for (uint32_t i = 0; i < k && st == NAS_OK; i++) {
        if ((st = nas_space_sample(s, arch, rng)) != NAS_OK)
            break;
        v[i] = INFINITY;
        for (uint32_t r = 0; r < mt->o.rounds && st == NAS_OK; r++) {
            double ms = 0.0;
            if ((st = time_arch(t, mt, arch, &ms)) == NAS_OK)
                v[i] = fmin(v[i], ms);
        }
        if (st != NAS_OK)
            break;
        nas__latlut_predict(t, arch, &v[k + i]);   /* still the raw table: scale 1, overhead 0 */
        v[2 * k + i] = active_layers(s, arch->choice);
    }
    if (st == NAS_OK) {
        fit(&t->info, v, v + k, v + 2 * k, k);
        t->info.calibrated = k;
        if (t->info.scale < CALIB_MIN || t->info.scale > CALIB_MAX) {
            /* On a quiet machine the fit is a small correction (scale 1.01-1.06 with 2 threads); one this
             * far from 1 means other processes were loading the cores: the raw table is the better bet. */
            nas__logf(t->ctx, NAS_LOG_WARN, "latency table: calibration scale %.3f is implausible (machine "
                      "loaded?): not applied", t->info.scale);
            t->info.scale = 1.0;
            t->info.overhead_ms = 0.0;
            t->info.calibrated = 0;
        }
    } else if (mt->err && !mt->err[0]) {
        nas__fail(mt->err, st, "latency calibration failed");
    }
    nas_rng_destroy(rng);
    nas_arch_destroy(arch);
    nas__free(t->ctx, v);
    return st;
}

nas_status_t nas__latlut_build(nas__latlut_t **out, nas__dev_t *dev, nas_space_t *space,
                               const nas__latlut_opts_t *opts, char *errbuf)
{
    if (!out)
        return nas__fail(errbuf, NAS_E_INVAL, "nas__latlut_build: out is NULL");
    *out = NULL;
    meter_t mt;
    memset(&mt, 0, sizeof mt);
    nas__latlut_opts_t d = NAS__LATLUT_OPTS_INIT;
    mt.o = d;
    if (opts && !nas__copy_opts(&mt.o, sizeof mt.o, opts, opts->struct_size))
        return nas__fail(errbuf, NAS_E_INVAL, "nas__latlut_build: bad struct_size %zu", opts->struct_size);
    if (mt.o.runs < 3 || mt.o.runs > 100000 || mt.o.warmup > 100000 || mt.o.calib_archs > 10000 ||
        mt.o.rounds < 1 || mt.o.rounds > 100)
        return nas__fail(errbuf, NAS_E_INVAL, "nas__latlut_build: runs %u must be in 3..100000, rounds %u in 1..100, "
                         "warmup and calib_archs at most 100000 and 10000", mt.o.runs, mt.o.rounds);
    nas__latlut_t *t = NULL;
    nas_status_t st = nas__latlut_alloc(&t, dev, space, &mt.o, errbuf);
    if (st != NAS_OK)
        return st;
    double t0 = nas__now();
    mt.ctx = t->ctx;
    mt.dev = dev;
    mt.err = errbuf;
    mt.ta = nas__calloc(t->ctx, 2 * (size_t)mt.o.runs, sizeof *mt.ta);
    mt.z = nas__calloc(t->ctx, (size_t)mt.o.build.num_classes > 0 ? (size_t)mt.o.build.num_classes : 1,
                       sizeof *mt.z);
    if (!mt.ta || !mt.z)
        st = nas__fail(errbuf, NAS_E_NOMEM, "out of memory for latency timings");
    mt.tb = mt.ta ? mt.ta + mt.o.runs : NULL;
    nas__dev_enter(dev);
    for (uint32_t r = 0; r < mt.o.rounds && st == NAS_OK; r++) {
        mt.n_memo = 0;   /* measure every part again */
        for (uint32_t w = 0; w < t->nw && st == NAS_OK; w++) {
            fill_t f = { t, &mt, w, r == 0 };
            st = walk(t, &mt.o, w, NULL, fill_part, &f);
        }
    }
    nas__latlut_apply_calib(t);
    if (st == NAS_OK && mt.o.calib_archs > 0 && (st = calibrate(t, &mt, space)) == NAS_OK)
        nas__latlut_apply_calib(t);
    t->info.measured = mt.n_memo;
    t->info.build_seconds = nas__now() - t0;
    nas__free(t->ctx, mt.ta);
    nas__free(t->ctx, mt.z);
    nas__free(t->ctx, mt.x);
    nas__free(t->ctx, mt.memo);
    if (st != NAS_OK) {
        nas__latlut_destroy(t);
        return st;
    }
    *out = t;
    return NAS_OK;
}

void nas__latlut_destroy(nas__latlut_t *t)
{
    if (!t)
        return;
    nas__free(t->ctx, t->raw);
    nas__free(t->ctx, t->poff);
    nas__free(t->ctx, t);
}

const char *nas__latlut_key_of(const nas__latlut_t *t)
{
    return t->key;
}

void nas__latlut_info(const nas__latlut_t *t, nas__latlut_info_t *out)
{
    *out = t->info;
}
