/*
 * The "supernet" evaluator: scores any architecture of the space in milliseconds with the weights
 * it inherits from a supernet trained by spos or fairnas (their supernet_path parameter), so that
 * black-box strategies (random, evolution, nsga2, ...) can search a trained supernet too. Also the
 * supernet file format and the scoring shared with those strategies (eval/supernet_internal.h).
 *
 * Per candidate: select the architecture's paths in the supernet (nas__supernet_paths: unpicked
 * cell inputs take none, chain layers past the depth are off), recalibrate BN on recalib_batches
 * fixed training batches (the running statistics become the mean of those batches' statistics),
 * then run eval_batches fixed validation batches in inference mode. Width decisions do not change
 * the score (the supernet is built at one width, its largest option); hyperparameters neither.
 *
 * Parameters:
 *   weights          the supernet file (required)
 *   recalib_batches  training batches for the BN recalibration (default 8, 1..100000)
 *   eval_batches     validation batches scored (default 8, 1..100000; fewer if the split is smaller)
 *   the rest         the "train" evaluator's data parameters (dataset, data_dir, train_images,
 *                    train_labels, max_samples, val_fraction, normalize, seed, ...; see train.c): the
 *                    data is loaded and split exactly as that evaluator does. Use the values of the
 *                    search that trained the supernet (the normalization follows the training split).
 *                    The batch size is the one the supernet was trained with (capped by the splits).
 *
 * Metrics: accuracy (validation, percent, as the train evaluator's), val_loss, params and flops of
 * the architecture's own network, eval_seconds. Cost: wall-clock seconds. A candidate that fails
 * (e.g. a cell arch the supernet cannot express) is a trial with its status.
 *
 * Refusals at creation: no weights parameter (NAS_E_INVAL), a missing file (NAS_E_NOT_FOUND), a
 * damaged one (NAS_E_CORRUPT), one of another space or network, or data of another shape
 * (NAS_E_INVAL); each with a message naming the file.
 */
#include "model/model_internal.h"
#include "search/search_internal.h"
#include "data/loader.h"
#include "eval/supernet_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define MAGIC "NASSUPER"
#define VERSION 1u
#define FIXED 96u
#define MAX_NAME 256u

/* ---------------------------------------------------------------------- */
/* Build options                                                           */

void nas__supernet_build_opts(const nas__train_setup_t *ts, nas__build_opts_t *bo)
{
    nas__build_opts_t d = NAS__BUILD_OPTS_INIT;
    uint32_t c, h, w, k = nas_dataset_num_classes(ts->train);
    nas_dataset_shape(ts->train, &c, &h, &w);
    *bo = d;
    bo->in_c = (int32_t)c;
    bo->in_h = (int32_t)h;
    bo->in_w = (int32_t)w;
    bo->num_classes = k < 2 ? 2 : (int32_t)k;
    bo->label_smoothing = (float)ts->topts.label_smoothing;
    bo->channel_scale = ts->mopts.channel_scale;
    bo->cells_per_stage = ts->mopts.cells_per_stage;
    bo->stem_stride = ts->mopts.stem_stride;
}

static nas_status_t graph_fp(const nas_space_t *space, const nas__build_opts_t *bo, uint64_t *fp, char *errbuf)
{
    nas__graph_t *g = NULL;
    nas__supernet_map_t *map = NULL;
    nas_status_t st = nas__build_supernet_map(&g, &map, space, bo, NAS__MIXED_SINGLE, errbuf);
    if (st != NAS_OK)
        return st;
    *fp = nas__graph_fingerprint(g);
    nas__supernet_map_destroy(map);
    nas__graph_destroy(g);
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Files                                                                   */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void putf64(uint8_t *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    put64(p, u);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static double getf64(const uint8_t *p)
{
    uint64_t u = get64(p);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static uint32_t crc_of(const uint8_t *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

nas_status_t nas__supernet_save(nas_context_t *ctx, const char *path, const nas_space_t *space,
                                const nas__build_opts_t *bo, nas__plan_t *plan, uint32_t batch, char *errbuf)
{
    const char *name = nas_space_name(space);
    size_t L = strlen(name);
    if (L > MAX_NAME)
        return nas__fail(errbuf, NAS_E_RANGE, "%s: the space name is longer than %u bytes", path, MAX_NAME);
    uint64_t gfp = 0;
    nas_status_t st = graph_fp(space, bo, &gfp, errbuf);
    if (st != NAS_OK)
        return st;
    int64_t n = nas__plan_state_elems(plan);
    size_t size = FIXED + L + 8 + 4 * (size_t)n + 4;
    if (size > NAS__SUPERNET_MAX_FILE)
        return nas__fail(errbuf, NAS_E_RANGE, "%s: the supernet (%lld floats) is too large for a file", path,
                         (long long)n);
    uint8_t *buf = nas__malloc(ctx, size);
    float *state = nas__malloc(ctx, ((size_t)n + 1) * sizeof *state);
    if (!buf || !state) {
        st = nas__fail(errbuf, NAS_E_NOMEM, "%s: out of memory", path);
        goto out_free;
    }
    if ((st = nas__plan_export(plan, state, n)) != NAS_OK) {
        nas__fail(errbuf, st, "%s: %s", path, nas__plan_errmsg(plan));
        goto out_free;
    }
    memcpy(buf, MAGIC, 8);
    put32(buf + 8, VERSION);
    put32(buf + 12, (uint32_t)NAS__MIXED_SINGLE);
    put64(buf + 16, size);
    put64(buf + 24, nas__space_fingerprint(space));
    put32(buf + 32, (uint32_t)bo->in_c);
    put32(buf + 36, (uint32_t)bo->in_h);
    put32(buf + 40, (uint32_t)bo->in_w);
    put32(buf + 44, (uint32_t)bo->num_classes);
    putf64(buf + 48, bo->channel_scale);
    put32(buf + 56, (uint32_t)bo->cells_per_stage);
    put32(buf + 60, (uint32_t)bo->stem_stride);
    putf64(buf + 64, bo->supernet_width);
    put64(buf + 72, gfp);
    put32(buf + 80, nas__plan_num_mixed(plan));
    uint32_t tp = 0;
    for (uint32_t m = 0; m < nas__plan_num_mixed(plan); m++)
        tp += nas__plan_mixed_paths(plan, m);
    put32(buf + 84, tp);
    put32(buf + 88, batch);
    put32(buf + 92, (uint32_t)L);
    memcpy(buf + FIXED, name, L);
    uint8_t *q = buf + FIXED + L;
    put64(q, (uint64_t)n);
    q += 8;
    for (int64_t i = 0; i < n; i++, q += 4) {
        uint32_t u;
        memcpy(&u, &state[i], sizeof u);
        put32(q, u);
    }
    put32(q, crc_of(buf, size - 4));
    st = nas__write_file_atomic(ctx, path, (const char *)buf, size, errbuf);
out_free:
    nas__free(ctx, state);
    nas__free(ctx, buf);
    return st;
}

void nas__supernet_file_free(nas__supernet_file_t *f)
{
    if (f && f->ctx)
        nas__free(f->ctx, f->state);
    if (f)
        f->state = NULL;
}

static nas_status_t corrupt(char *errbuf, const char *path, const char *why)
{
    return nas__fail(errbuf, NAS_E_CORRUPT, "%s: not a valid supernet file: %s", path, why);
}

static nas_status_t parse(const uint8_t *b, size_t len, const char *path, const nas_space_t *space,
                          nas__supernet_file_t *f, char *errbuf)
{
    if (len < FIXED + 8 + 4)
        return corrupt(errbuf, path, "too short");
    if (memcmp(b, MAGIC, 8) != 0)
        return corrupt(errbuf, path, "bad magic");
    if (get64(b + 16) != len)
        return corrupt(errbuf, path, "truncated or extended (its recorded size differs)");
    if (get32(b + len - 4) != crc_of(b, len - 4))
        return corrupt(errbuf, path, "checksum mismatch");
    if (get32(b + 8) != VERSION)
        return nas__fail(errbuf, NAS_E_UNSUPPORTED, "%s: supernet file version %u (this library reads %u)", path,
                         (unsigned)get32(b + 8), VERSION);
    if (get32(b + 12) != (uint32_t)NAS__MIXED_SINGLE)
        return corrupt(errbuf, path, "unknown mixed mode");
    uint32_t L = get32(b + 92);
    if (L > MAX_NAME || FIXED + (size_t)L + 8 + 4 > len)
        return corrupt(errbuf, path, "bad space name length");
    uint64_t n = get64(b + FIXED + L);
    if (n > len / 4 || FIXED + (size_t)L + 8 + 4 * n + 4 != len)
        return corrupt(errbuf, path, "the state length does not match the file size");
    nas__build_opts_t bo = NAS__BUILD_OPTS_INIT;
    bo.in_c = (int32_t)get32(b + 32);
    bo.in_h = (int32_t)get32(b + 36);
    bo.in_w = (int32_t)get32(b + 40);
    bo.num_classes = (int32_t)get32(b + 44);
    bo.channel_scale = getf64(b + 48);
    bo.cells_per_stage = (int32_t)get32(b + 56);
    bo.stem_stride = (int32_t)get32(b + 60);
    bo.supernet_width = getf64(b + 64);
    if (bo.in_c < 1 || bo.in_h < 1 || bo.in_w < 1 || bo.in_c > NAS__GRAPH_MAX_DIM || bo.in_h > NAS__GRAPH_MAX_DIM ||
        bo.in_w > NAS__GRAPH_MAX_DIM || bo.num_classes < 2 || bo.num_classes > 65535 ||
        !(bo.channel_scale >= 0.0 && bo.channel_scale <= 64.0) || bo.cells_per_stage < 0 ||
        bo.cells_per_stage > 1024 || bo.stem_stride < 0 || bo.stem_stride > 2 ||
        !(bo.supernet_width >= 0.0 && bo.supernet_width <= 16.0))
        return corrupt(errbuf, path, "build options out of range");
    const char *sname = nas_space_name(space);
    if (strlen(sname) != L || memcmp(sname, b + FIXED, L) != 0)
        return nas__fail(errbuf, NAS_E_INVAL, "%s: the supernet was trained on space '%.*s', not '%s'", path, (int)L,
                         (const char *)(b + FIXED), sname);
    f->space_fp = get64(b + 24);
    if (f->space_fp != nas__space_fingerprint(space))
        return nas__fail(errbuf, NAS_E_INVAL, "%s: space '%s' differs from the one the supernet was trained on (its "
                         "decisions or their options changed)", path, sname);
    f->bo = bo;
    f->graph_fp = get64(b + 72);
    f->num_mixed = get32(b + 80);
    f->total_paths = get32(b + 84);
    f->batch = get32(b + 88);
    if (f->batch == 0)
        return corrupt(errbuf, path, "batch 0");
    f->n_state = (int64_t)n;
    f->state = nas__malloc(f->ctx, (size_t)(n + 1) * sizeof *f->state);
    if (!f->state)
        return nas__fail(errbuf, NAS_E_NOMEM, "%s: out of memory", path);
    const uint8_t *q = b + FIXED + L + 8;
    for (uint64_t i = 0; i < n; i++, q += 4) {
        uint32_t u = get32(q);
        memcpy(&f->state[i], &u, sizeof u);
    }
    return NAS_OK;
}

nas_status_t nas__supernet_load(nas_context_t *ctx, const char *path, const nas_space_t *space,
                                nas__supernet_file_t *out, char *errbuf)
{
    memset(out, 0, sizeof *out);
    out->ctx = ctx;
    char *data = NULL;
    size_t len = 0;
    nas_status_t st = nas__read_file(ctx, path, NAS__SUPERNET_MAX_FILE, &data, &len, errbuf);
    if (st != NAS_OK)
        return st;
    st = parse((const uint8_t *)data, len, path, space, out, errbuf);
    nas__free(ctx, data);
    if (st != NAS_OK)
        nas__supernet_file_free(out);
    return st;
}

/* ---------------------------------------------------------------------- */
/* Scoring                                                                 */

void nas__supernet_eval_free(nas__supernet_eval_t *se)
{
    if (!se || !se->ctx)
        return;
    nas__free(se->ctx, se->x);
    nas__free(se->ctx, se->y);
    nas__free(se->ctx, se->paths);
    memset(se, 0, sizeof *se);
}

/* Up to `want` full batches of ds into x, y; *got the count. */
static nas_status_t take_batches(nas_context_t *ctx, const nas_dataset_t *ds, uint32_t batch, uint32_t want,
                                 uint64_t seed, float *x, int32_t *y, size_t chw, uint32_t *got, char *errbuf)
{
    nas__loader_t *l = NULL;
    nas_status_t st = nas__loader_create(&l, ds, batch, NAS__LOADER_SHUFFLE | NAS__LOADER_DROP_LAST, seed);
    if (st != NAS_OK)
        return nas__fail(errbuf, st, "supernet scoring data: %s", nas_context_errmsg(ctx));
    *got = 0;
    while (*got < want) {
        uint32_t count = 0;
        st = nas__loader_next(l, x + (size_t)*got * batch * chw, y + (size_t)*got * batch, &count);
        if (st == NAS_E_EXHAUSTED) {
            st = NAS_OK;
            break;
        }
        if (st != NAS_OK) {
            nas__fail(errbuf, st, "supernet scoring data: %s", nas__loader_errmsg(l));
            break;
        }
        (*got)++;
    }
    nas__loader_destroy(l);
    return st;
}

nas_status_t nas__supernet_eval_init(nas__supernet_eval_t *se, nas__plan_t *plan, const nas__supernet_map_t *map,
                                     const nas_dataset_t *recal, const nas_dataset_t *eval, uint32_t recalib_batches,
                                     uint32_t eval_batches, uint64_t seed, char *errbuf)
{
    memset(se, 0, sizeof *se);
    se->ctx = map->ctx;
    se->plan = plan;
    se->map = map;
    se->batch = (uint32_t)nas__plan_batch(plan);
    uint32_t c, h, w;
    nas_dataset_shape(recal, &c, &h, &w);
    se->chw = (size_t)c * h * w;
    uint64_t nr = nas_dataset_num_samples(recal) / se->batch, ne = nas_dataset_num_samples(eval) / se->batch;
    nr = nr < recalib_batches ? nr : recalib_batches;
    ne = ne < eval_batches ? ne : eval_batches;
    if ((nr == 0 && recalib_batches > 0) || ne == 0)
        return nas__fail(errbuf, NAS_E_RANGE, "supernet scoring: the training or validation split has fewer than %u "
                         "samples (one batch)", (unsigned)se->batch);
    size_t nb = (size_t)(nr + ne);
    se->x = nas__malloc(se->ctx, nb * se->batch * se->chw * sizeof *se->x);
    se->y = nas__malloc(se->ctx, nb * se->batch * sizeof *se->y);
    se->paths = nas__calloc(se->ctx, map->num_mixed + 1, sizeof *se->paths);
    if (!se->x || !se->y || !se->paths) {
        nas__supernet_eval_free(se);
        return nas__fail(errbuf, NAS_E_NOMEM, "supernet scoring: out of memory for %zu batches", nb);
    }
    nas_status_t st = nr == 0 ? NAS_OK : take_batches(se->ctx, recal, se->batch, (uint32_t)nr, nas__mix64(seed ^ 0x72656361ull), se->x,
                                   se->y, se->chw, &se->n_recalib, errbuf);
    if (st == NAS_OK)
        st = take_batches(se->ctx, eval, se->batch, (uint32_t)ne, nas__mix64(seed ^ 0x6576616cull),
                          se->x + nr * se->batch * se->chw, se->y + nr * se->batch, se->chw, &se->n_eval, errbuf);
    if (st == NAS_OK && ((se->n_recalib == 0 && nr > 0) || se->n_eval == 0))
        st = nas__fail(errbuf, NAS_E_RANGE, "supernet scoring: no full batch of data");
    if (st != NAS_OK)
        nas__supernet_eval_free(se);
    return st;
}

nas_status_t nas__supernet_recalibrate(nas__plan_t *plan, const float *x, const int32_t *y, uint32_t batches,
                                       size_t batch_floats)
{
    size_t b = (size_t)nas__plan_batch(plan);
    nas_status_t st = NAS_OK;
    for (uint32_t k = 0; st == NAS_OK && k < batches; k++) {
        nas__plan_set_bn_momentum(plan, 1.0f / (float)(k + 1));
        if ((st = nas__plan_set_input(plan, x + k * batch_floats)) == NAS_OK &&
            (st = nas__plan_set_labels(plan, y + k * b)) == NAS_OK)
            st = nas__plan_forward(plan, true);
    }
    nas__plan_set_bn_momentum(plan, NAS__BN_MOMENTUM);
    return st;
}

nas_status_t nas__supernet_eval_arch(nas__supernet_eval_t *se, const nas_arch_t *arch, double *accuracy,
                                     double *loss, char *errbuf)
{
    nas_status_t st = nas__supernet_paths(se->map, arch, se->paths, errbuf);
    if (st != NAS_OK)
        return st;
    for (uint32_t m = 0; m < se->map->num_mixed; m++)
        if ((st = nas__plan_set_path(se->plan, m, se->paths[m])) != NAS_OK)
            return nas__fail(errbuf, st, "supernet scoring: %s", nas__plan_errmsg(se->plan));
    size_t bf = se->batch * se->chw;
    if ((st = nas__supernet_recalibrate(se->plan, se->x, se->y, se->n_recalib, bf)) != NAS_OK)
        return nas__fail(errbuf, st, "supernet scoring: BN recalibration: %s", nas__plan_errmsg(se->plan));
    double l = 0.0, correct = 0.0;
    const float *x = se->x + se->n_recalib * bf;
    const int32_t *y = se->y + (size_t)se->n_recalib * se->batch;
    for (uint32_t e = 0; e < se->n_eval; e++) {
        if ((st = nas__plan_set_input(se->plan, x + e * bf)) != NAS_OK ||
            (st = nas__plan_set_labels(se->plan, y + (size_t)e * se->batch)) != NAS_OK ||
            (st = nas__plan_forward(se->plan, false)) != NAS_OK)
            return nas__fail(errbuf, st, "supernet scoring: %s", nas__plan_errmsg(se->plan));
        l += nas__plan_loss(se->plan);
        correct += (double)nas__plan_correct(se->plan);
    }
    *loss = l / se->n_eval;
    *accuracy = 100.0 * correct / ((double)se->n_eval * se->batch);
    if (!isfinite(*loss))
        return nas__fail(errbuf, NAS_E_DIVERGED, "supernet scoring: the loss is not finite");
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* The evaluator                                                           */

typedef struct supev {
    nas_context_t *ctx;
    nas_params_t *inner_params;
    nas_evaluator_t *inner;      /* a "train" evaluator: the data, loaded and split as it does */
    nas__dev_t *dev;
    nas__supernet_map_t *map;
    nas__plan_t *plan;
    nas__supernet_eval_t se;
    nas__build_opts_t bo;
} supev_t;

static void supev_destroy(void *state)
{
    supev_t *s = state;
    if (!s)
        return;
    nas__supernet_eval_free(&s->se);
    nas__plan_destroy(s->plan);
    nas__supernet_map_destroy(s->map);
    nas__dev_destroy(s->dev);
    nas_evaluator_destroy(s->inner);
    nas_params_destroy(s->inner_params);
    nas__free(s->ctx, s);
}

static nas_status_t fail(nas_evaluator_t *self, nas_status_t st, const char *msg)
{
    nas_evaluator_set_errmsg(self, msg);
    return st;
}

static bool own_key(const char *k)
{
    return strcmp(k, "weights") == 0 || strcmp(k, "recalib_batches") == 0 || strcmp(k, "eval_batches") == 0;
}

/* The data: a "train" evaluator over the parameters that are not ours. */
static nas_status_t make_inner(nas_evaluator_t *self, supev_t *s, const nas_params_t *params)
{
    nas_status_t st = nas_params_create(&s->inner_params, s->ctx);
    if (st != NAS_OK)
        return fail(self, st, "out of memory");
    for (uint32_t i = 0; params && i < nas_params_count(params); i++) {
        const char *k = NULL, *v = NULL;
        if (nas_params_at(params, i, &k, &v) != NAS_OK || own_key(k))
            continue;
        nas_params_get_string(params, k, &v);   /* marks it used: the train evaluator checks it */
        if ((st = nas_params_set(s->inner_params, k, v)) != NAS_OK)
            return fail(self, st, "out of memory");
    }
    if ((st = nas_evaluator_create(&s->inner, nas_evaluator_space(self), "train", s->inner_params)) != NAS_OK) {
        char msg[NAS_ERRMSG_CAP];
        snprintf(msg, sizeof msg, "data: %s", nas_context_errmsg(s->ctx));
        return fail(self, st, msg);
    }
    return NAS_OK;
}

static nas_status_t get_count(nas_evaluator_t *self, const nas_params_t *p, const char *key, int64_t def,
                              uint32_t *out)
{
    int64_t v = def;
    nas_status_t st = nas_params_get_int(p, key, def, &v);
    if (st != NAS_OK)
        return fail(self, st, nas_params_errmsg(p));
    if (v < 1 || v > 100000) {
        char msg[160];
        snprintf(msg, sizeof msg, "parameter '%s': %lld is outside [1, 100000]", key, (long long)v);
        return fail(self, NAS_E_INVAL, msg);
    }
    *out = (uint32_t)v;
    return NAS_OK;
}

/* The supernet of the file, checked against the space and the data, with the file's state. */
static nas_status_t load_supernet(nas_evaluator_t *self, supev_t *s, const char *path, uint32_t nr, uint32_t ne)
{
    nas_space_t *space = nas_evaluator_space(self);
    char err[NAS_ERRMSG_CAP] = "";
    nas__supernet_file_t f;
    nas_status_t st = nas__supernet_load(s->ctx, path, space, &f, err);
    if (st != NAS_OK)
        return fail(self, st, err);
    nas__train_setup_t ts;
    nas__graph_t *g = NULL;
    if ((st = nas__train_setup(s->inner, &ts, err)) != NAS_OK) {
        fail(self, st, err);
        goto out_free;
    }
    nas__build_opts_t dbo;
    nas__supernet_build_opts(&ts, &dbo);
    if (dbo.in_c != f.bo.in_c || dbo.in_h != f.bo.in_h || dbo.in_w != f.bo.in_w || dbo.num_classes > f.bo.num_classes) {
        snprintf(err, sizeof err, "%s: the supernet takes %d x %d x %d images of %d classes; the data has %d x %d x %d "
                 "of %d", path, (int)f.bo.in_c, (int)f.bo.in_h, (int)f.bo.in_w, (int)f.bo.num_classes, (int)dbo.in_c,
                 (int)dbo.in_h, (int)dbo.in_w, (int)dbo.num_classes);
        st = fail(self, NAS_E_INVAL, err);
        goto out_free;
    }
    s->bo = f.bo;
    s->bo.label_smoothing = 0.0f;
    if ((st = nas__build_supernet_map(&g, &s->map, space, &s->bo, NAS__MIXED_SINGLE, err)) != NAS_OK) {
        fail(self, st, err);
        goto out_free;
    }
    if (nas__graph_fingerprint(g) != f.graph_fp || s->map->num_mixed != f.num_mixed ||
        s->map->total_paths != f.total_paths) {
        snprintf(err, sizeof err, "%s: the supernet built from space '%s' and the file's options differs from the one "
                 "saved", path, nas_space_name(space));
        st = fail(self, NAS_E_INVAL, err);
        goto out_free;
    }
    uint64_t nt = nas_dataset_num_samples(ts.train), nv = nas_dataset_num_samples(ts.val);
    uint64_t b = f.batch;
    b = b > nt ? nt : b;
    b = b > nv ? nv : b;
    nas__plan_opts_t po = NAS__PLAN_OPTS_INIT;
    po.batch = (int32_t)(b ? b : 1);
    po.train = true;
    if ((st = nas__dev_create(&s->dev, s->ctx)) != NAS_OK || (st = nas__plan_create(&s->plan, s->dev, g, &po)) != NAS_OK) {
        snprintf(err, sizeof err, "compiling the supernet: %s", nas_context_errmsg(s->ctx));
        fail(self, st, err);
        goto out_free;
    }
    if (nas__plan_state_elems(s->plan) != f.n_state) {
        snprintf(err, sizeof err, "%s: the file holds %lld state values, the supernet %lld", path,
                 (long long)f.n_state, (long long)nas__plan_state_elems(s->plan));
        st = fail(self, NAS_E_INVAL, err);
        goto out_free;
    }
    if ((st = nas__plan_import(s->plan, f.state, f.n_state)) != NAS_OK) {
        fail(self, st, nas__plan_errmsg(s->plan));
        goto out_free;
    }
    uint64_t seed = ts.topts.seed ? ts.topts.seed : nas_context_seed(s->ctx);
    if ((st = nas__supernet_eval_init(&s->se, s->plan, s->map, ts.train, ts.val, nr, ne, seed, err)) != NAS_OK)
        fail(self, st, err);
out_free:
    nas__graph_destroy(g);
    nas__supernet_file_free(&f);
    return st;
}

static nas_status_t supev_create(nas_evaluator_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas__evaluator_context(self);
    supev_t *s = nas__calloc(ctx, 1, sizeof *s);
    if (!s)
        return NAS_E_NOMEM;
    *state = s;
    s->ctx = ctx;
    const char *path = NULL;
    nas_status_t st = params ? nas_params_get_string(params, "weights", &path) : NAS_E_NOT_FOUND;
    if (st == NAS_E_NOT_FOUND || (st == NAS_OK && !path[0]))
        return fail(self, NAS_E_INVAL, "parameter 'weights': the supernet file (written by spos or fairnas with "
                    "supernet_path) is required");
    if (st != NAS_OK)
        return fail(self, st, nas_params_errmsg(params));
    uint32_t nr = 8, ne = 8;
    if ((st = get_count(self, params, "recalib_batches", 8, &nr)) != NAS_OK ||
        (st = get_count(self, params, "eval_batches", 8, &ne)) != NAS_OK)
        return st;
    if ((st = make_inner(self, s, params)) != NAS_OK)
        return st;
    return load_supernet(self, s, path, nr, ne);
}

static nas_status_t supev_evaluate(nas_evaluator_t *self, void *state, const nas_candidate_t *cand,
                                   nas_result_t *res)
{
    (void)self;
    supev_t *s = state;
    double t0 = nas__now(), acc = 0.0, loss = 0.0;
    char err[NAS_ERRMSG_CAP] = "";
    nas_status_t st = nas__supernet_eval_arch(&s->se, cand->arch, &acc, &loss, err);
    nas__graph_t *g = NULL;
    if (st == NAS_OK && (st = nas__build_graph(&g, cand->arch, &s->bo, err)) == NAS_OK) {
        if ((st = nas_result_set_metric(res, "accuracy", acc)) != NAS_OK ||
            (st = nas_result_set_metric(res, "val_loss", loss)) != NAS_OK ||
            (st = nas_result_set_metric(res, "params", (double)nas__graph_params(g))) != NAS_OK ||
            (st = nas_result_set_metric(res, "flops", (double)nas__graph_flops(g))) != NAS_OK ||
            (st = nas_result_set_metric(res, "eval_seconds", nas__now() - t0)) != NAS_OK) {
            nas__graph_destroy(g);
            return st;
        }
    }
    nas__graph_destroy(g);
    if (st == NAS_E_NOMEM)
        return st;
    if (st != NAS_OK && (st = nas_result_set_status(res, st, err)) != NAS_OK)
        return st;
    return nas_result_set_cost(res, nas__now() - t0);
}

static const nas_evaluator_vtable_t supernet_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_evaluator_vtable_t),
    .name = "supernet",
    .description = "scores architectures with weights inherited from a supernet trained by spos or fairnas, BN "
                   "recalibrated per candidate (params: weights, recalib_batches, eval_batches, and the train "
                   "evaluator's data parameters)",
    .create = supev_create,
    .destroy = supev_destroy,
    .evaluate = supev_evaluate,
    .user_data = NULL,
};

nas_status_t nas__register_supernet(nas_context_t *ctx)
{
    return nas_context_register_evaluator(ctx, &supernet_vtable);
}
