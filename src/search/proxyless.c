/*
 * "proxyless": ProxylessNAS (Cai, Zhu & Han, ICLR 2019): search on the target task and hardware with
 * binarized paths and a latency term measured on this CPU.
 *
 * The supernet is built in binary mode (src/nn/exec.h, nas__plan_set_binary_paths): at most two
 * candidate paths of a mixed node run in a step, so its activation memory is that of about two
 * networks, not of every candidate (DARTS). Architecture weights alpha are tied across the cells of
 * a type (cell spaces) as in darts.c; on chain spaces every layer has its own.
 *   weight step   per decision one path sampled from p = softmax(alpha) (uniformly during the
 *                 warm-up epochs), SGD on the training batch (only that path's activations)
 *   arch step     per decision two distinct paths a, b sampled from p without replacement; the one
 *                 that runs is drawn from q = softmax over (alpha_a, alpha_b), the other runs its forward
 *                 only; the executor returns both gate gradients G_k = <dL/dy, y_k> and
 *                     dL/dalpha_i = sum_{j in {a,b}} G_j q_j (delta_ij - q_i)   (i in {a, b}, 0 else)
 *                 Adam (betas 0 and 0.999: no momentum, so unsampled alphas stay), then alpha_a and
 *                 alpha_b are shifted by one constant so that log(e^alpha_a + e^alpha_b) is unchanged:
 *                 the other paths keep their probabilities (ProxylessNAS's two-path update)
 *   latency       chain spaces: the latency lookup table of src/nn/latency.h at batch 1 for the
 *                 evaluator's input shape (built once with oneDNN on this CPU, cached to a file and
 *                 reused), E[lat] = sum over paths of p x the path's table entry (exact, differentiable
 *                 in alpha); with target_latency_ms = T > 0 the architecture loss is
 *                     mul:  CE x (E[lat] / T)^beta          add:  CE + lambda x E[lat] / T
 *                 (CE: the validation batch's cross-entropy). Cell spaces have no table: a target is
 *                 refused (NAS_E_UNSUPPORTED) there.
 * Derive (the arg max path per decision, DARTS's rule for cells), log, retrain: src/search/oneshot.c.
 *
 * Parameters: warmup_epochs 1 (weights only, uniform paths), target_latency_ms 0 (no latency term),
 * latency_loss "mul" (beta 0.6) or "add" (lambda 0.1), latency_cache (default
 * $XDG_CACHE_HOME/libnas or ~/.cache/libnas/latency-<key hash>.lut; "" for no file), and those of
 * darts.c with ProxylessNAS's values: epochs 10, batch_size 64, w_lr 0.05 (cosine to 0.001),
 * w_momentum 0.9, w_wd 4e-5, grad_clip 5, arch_lr 1e-3, arch_wd 0, alpha_init_std 0, max_skip -1,
 * keep_none false, retrain_epochs 0, alphas_path.
 * The per-epoch report line "proxyless expected_latency_ms E" follows each epoch when a table is used.
 *
 * ask/tell: as darts ("proxyless drives its own search: use nas_run_execute").
 */
#include "search/oneshot.h"
#include "search/search_internal.h"

#include "eval/eval_internal.h"
#include "nn/latency.h"
#include "space/space_internal.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct proxyless {
    nas__oneshot_cfg_t cfg;
    char *alphas_path, *cache;
    bool cache_set;
    nas_context_t *ctx;
    nas_rng_t *rng;                   /* the searcher's */
    uint32_t warmup_epochs;
    double target_ms, beta, lambda;
    bool mul;
    nas__dev_t *dev;                  /* for the latency table */
    nas__latlut_t *lut;
    uint32_t width;                   /* the table's width option of the supernet */
    uint32_t n;                       /* the plan's alphas: the buffers below have n entries */
    uint32_t *a, *b;                  /* per decision (at its alpha offset): the sampled paths; a runs */
    float *old_a, *old_b;             /* their alphas before the update */
    uint8_t *seen;
    double *w, *g;                    /* total_paths: path probabilities, dE/dw */
    uint32_t total_paths;
    double last_ms;                   /* the last expected latency (NaN: none) */
} proxyless_t;
_Static_assert(offsetof(proxyless_t, cfg) == 0, "nas__oneshot_run_hook reads the cfg at the start of the state");

static void proxyless_destroy(void *state)
{
    proxyless_t *p = state;
    if (!p)
        return;
    nas__latlut_destroy(p->lut);
    nas__dev_destroy(p->dev);
    nas__free(p->ctx, p->alphas_path);
    nas__free(p->ctx, p->cache);
    nas__free(p->ctx, p->a);
    nas__free(p->ctx, p->w);
    nas__free(p->ctx, p);
}

/* Per-decision buffers for the plan's alphas (once). */
static nas_status_t buffers(proxyless_t *p, nas__oneshot_t *os)
{
    if (p->n == os->n_alpha && p->total_paths == os->map->total_paths)
        return NAS_OK;
    nas__free(p->ctx, p->a);
    nas__free(p->ctx, p->w);
    size_t n = (size_t)os->n_alpha + 1, tp = (size_t)os->map->total_paths + 1;
    /* one block: a, b (uint32), old_a, old_b (float), seen (bytes) */
    p->a = nas__calloc(p->ctx, n, 2 * sizeof(uint32_t) + 2 * sizeof(float) + 1);
    p->w = nas__calloc(p->ctx, 2 * tp, sizeof(double));
    if (!p->a || !p->w) {
        p->n = 0;
        return nas__fail(os->errmsg, NAS_E_NOMEM, "proxyless: out of memory");
    }
    p->b = p->a + n;
    p->old_a = (float *)(p->b + n);
    p->old_b = p->old_a + n;
    p->seen = (uint8_t *)(p->old_b + n);
    p->g = p->w + tp;
    p->n = os->n_alpha;
    p->total_paths = os->map->total_paths;
    return NAS_OK;
}

/* A path drawn from softmax(alpha[0..k)), skipping `not` (UINT32_MAX: none); uniform when flat. */
static uint32_t draw(nas_rng_t *rng, const float *alpha, uint32_t k, uint32_t not, bool flat)
{
    double mx = -INFINITY, e[NAS__GRAPH_MAX_PATHS], z = 0.0;
    for (uint32_t i = 0; i < k; i++)
        if (i != not && alpha[i] > mx)
            mx = alpha[i];
    for (uint32_t i = 0; i < k; i++) {
        e[i] = i == not ? 0.0 : flat ? 1.0 : exp(alpha[i] - mx);
        z += e[i];
    }
    double u = nas_rng_uniform(rng) * z;
    uint32_t last = 0;
    for (uint32_t i = 0; i < k; i++) {
        if (e[i] <= 0.0)
            continue;
        last = i;
        if (u < e[i])
            return i;
        u -= e[i];
    }
    return last;
}

/* Sample every decision (tied mixed nodes share one) and set the plan's paths: two per decision
 * for an architecture step, one for a weight step. */
static nas_status_t sample(nas__oneshot_t *os, proxyless_t *p, bool two, bool flat)
{
    nas_status_t st = buffers(p, os);
    if (st != NAS_OK)
        return st;
    memset(p->seen, 0, p->n);
    float *al = nas__plan_alphas(os->plan, NULL);
    for (uint32_t m = 0; m < os->map->num_mixed; m++) {
        uint32_t off = os->alpha_off[m], k = os->map->mixed[m].n_paths;
        if (!p->seen[off]) {
            p->seen[off] = 1;
            uint32_t a = draw(p->rng, al + off, k, UINT32_MAX, flat), b = a;
            if (two && k > 1) {
                b = draw(p->rng, al + off, k, a, flat);
                double qa = 1.0 / (1.0 + exp((double)al[off + b] - al[off + a]));
                if (nas_rng_uniform(p->rng) >= qa) { /* b runs, a is probed */
                    uint32_t t = a;
                    a = b;
                    b = t;
                }
            }
            p->a[off] = a;
            p->b[off] = b;
            p->old_a[off] = al[off + a];
            p->old_b[off] = al[off + b];
        }
        st = nas__plan_set_binary_paths(os->plan, m, p->a[off], p->b[off] == p->a[off] ? UINT32_MAX : p->b[off]);
        if (st != NAS_OK)
            return nas__fail(os->errmsg, st, "proxyless: paths %u, %u of mixed node %u", (unsigned)p->a[off],
                             (unsigned)p->b[off], (unsigned)m);
    }
    return NAS_OK;
}

static nas_status_t proxyless_sample(nas__oneshot_t *os, void *user)
{
    return sample(os, user, true, false);
}

static nas_status_t proxyless_weight_step(nas__oneshot_t *os, void *user, double *loss, double *correct)
{
    proxyless_t *p = user;
    nas_status_t st = sample(os, p, false, p->cfg.no_arch_step);
    if (st != NAS_OK)
        return st;
    double l = 0.0;
    if ((st = nas__plan_train_step(os->plan, os->xt, os->yt, &os->wcfg, &l)) != NAS_OK)
        return nas__fail(os->errmsg, st, "proxyless: weight step: %s", nas__plan_errmsg(os->plan));
    *loss += l;
    *correct += (double)nas__plan_correct(os->plan);
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Latency                                                                 */

/* The default cache file: <cache dir>/libnas/latency-<hash of the key>.lut ("" when there is no home). */
static nas_status_t default_cache(proxyless_t *p, const char *key, char *path, size_t cap)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[1024];
    if (xdg && xdg[0])
        snprintf(dir, sizeof dir, "%s/libnas", xdg);
    else if (home && home[0])
        snprintf(dir, sizeof dir, "%s/.cache/libnas", home);
    else {
        path[0] = '\0';
        return NAS_OK;
    }
    /* the parent of a missing ~/.cache too */
    char parent[1024];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (mkdir(parent, 0755) != 0 && errno != EEXIST)
            dir[0] = '\0';
    }
    if (dir[0] && mkdir(dir, 0755) != 0 && errno != EEXIST)
        dir[0] = '\0';
    if (!dir[0]) {
        nas__logf(p->ctx, NAS_LOG_WARN, "proxyless: no cache directory: the latency table is not kept");
        path[0] = '\0';
        return NAS_OK;
    }
    snprintf(path, cap, "%s/latency-%016llx.lut", dir,
             (unsigned long long)nas__hash_bytes(key, strlen(key), 0x6c6174656e6379ull));
    return NAS_OK;
}

/* The table of the searched chain space at the evaluator's input shape (once). */
static nas_status_t open_table(nas__oneshot_t *os, proxyless_t *p)
{
    if (p->lut)
        return NAS_OK;
    nas_space_t *space = nas_searcher_space(os->self);
    if (space->family != NAS_FAMILY_CHAIN)
        return nas__fail(os->errmsg, NAS_E_UNSUPPORTED,
                         "proxyless: a latency target needs a chain space (the latency table covers chains only)");
    nas__train_setup_t ts;
    char err[NAS_ERRMSG_CAP] = "";
    nas_status_t st = nas__train_setup(nas_run_evaluator(os->run), &ts, err);
    if (st != NAS_OK)
        return nas__fail(os->errmsg, st, "proxyless: %s", err);
    nas__latlut_opts_t lo = NAS__LATLUT_OPTS_INIT;
    uint32_t c, h, w;
    nas_dataset_shape(ts.train, &c, &h, &w);
    lo.build.in_c = (int32_t)c;
    lo.build.in_h = (int32_t)h;
    lo.build.in_w = (int32_t)w;
    uint32_t k = nas_dataset_num_classes(ts.train);
    lo.build.num_classes = k < 2 ? 2 : (int32_t)k;
    lo.build.channel_scale = ts.mopts.channel_scale;
    lo.build.stem_stride = ts.mopts.stem_stride;
    if (!p->dev && (st = nas__dev_create(&p->dev, p->ctx)) != NAS_OK)
        return nas__fail(os->errmsg, st, "proxyless: latency table: %s", nas_context_errmsg(p->ctx));
    char key[NAS__LATLUT_KEY_CAP], path[1200];
    if ((st = nas__latlut_key(p->dev, space, &lo, key)) != NAS_OK)
        return nas__fail(os->errmsg, st, "proxyless: latency table key");
    if (p->cache_set)
        snprintf(path, sizeof path, "%s", p->cache);
    else
        default_cache(p, key, path, sizeof path);
    bool rebuilt = false;
    st = path[0] ? nas__latlut_open(&p->lut, p->dev, space, &lo, path, &rebuilt, err)
                 : nas__latlut_build(&p->lut, p->dev, space, &lo, err);
    if (!p->lut)
        return nas__fail(os->errmsg, st, "proxyless: latency table: %s", err);
    if (st != NAS_OK)
        nas__logf(p->ctx, NAS_LOG_WARN, "proxyless: latency table not cached: %s", err);
    /* the supernet's width: the largest option (nas__build_supernet's default) */
    const nas__chain_t *ch = &space->chain;
    p->width = 0;
    for (uint32_t i = 1; i < ch->num_widths; i++)
        if (ch->widths[i] > ch->widths[p->width])
            p->width = i;
    char msg[1400];
    snprintf(msg, sizeof msg, "proxyless latency table %s%s", path[0] ? path : "(not cached)",
             path[0] ? (rebuilt ? " (built)" : " (loaded)") : "");
    nas_run_report(os->run, msg);
    return NAS_OK;
}

/* E[lat] under softmax(alpha) and, when grad is set, dE/dalpha added times `scale` into grad. */
static nas_status_t expected_latency(nas__oneshot_t *os, proxyless_t *p, double *ms, float *grad, double scale)
{
    const float *al = nas__plan_alphas(os->plan, NULL);
    const nas__supernet_map_t *map = os->map;
    uint32_t pos = 0;
    for (uint32_t m = 0; m < map->num_mixed; m++) {
        uint32_t off = os->alpha_off[m], k = map->mixed[m].n_paths;
        double mx = al[off], z = 0.0;
        for (uint32_t i = 1; i < k; i++)
            mx = al[off + i] > mx ? al[off + i] : mx;
        for (uint32_t i = 0; i < k; i++)
            z += exp(al[off + i] - mx);
        for (uint32_t i = 0; i < k; i++)
            p->w[pos + i] = exp(al[off + i] - mx) / z;
        pos += k;
    }
    nas_status_t st = nas__latlut_expected_paths(p->lut, map, p->width, p->w, ms, p->g);
    if (st != NAS_OK)
        return nas__fail(os->errmsg, st, "proxyless: expected latency");
    pos = 0;
    for (uint32_t m = 0; grad && m < map->num_mixed; m++) {
        uint32_t off = os->alpha_off[m], k = map->mixed[m].n_paths;
        double s = 0.0;
        for (uint32_t i = 0; i < k; i++)
            s += p->w[pos + i] * p->g[pos + i];
        for (uint32_t i = 0; i < k; i++) /* summed over mixed nodes that share the alphas */
            grad[off + i] += (float)(scale * p->w[pos + i] * (p->g[pos + i] - s));
        pos += k;
    }
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Architecture gradient and update                                        */

static nas_status_t proxyless_arch_grad(nas__oneshot_t *os, void *user, float *grad)
{
    proxyless_t *p = user;
    const float *gate = nas__plan_alpha_grads(os->plan), *al = nas__plan_alphas(os->plan, NULL);
    memset(grad, 0, os->n_alpha * sizeof *grad);
    memset(p->seen, 0, p->n);
    for (uint32_t m = 0; m < os->map->num_mixed; m++) {
        uint32_t off = os->alpha_off[m], a = p->a[off], b = p->b[off];
        if (p->seen[off] || a == b)
            continue;
        p->seen[off] = 1;
        double qa = 1.0 / (1.0 + exp((double)al[off + b] - al[off + a])), qb = 1.0 - qa;
        double ga = gate[off + a], gb = gate[off + b];
        /* sum_j G_j q_j (delta_ij - q_i) for i = a, b */
        grad[off + a] = (float)(ga * qa * (1.0 - qa) - gb * qb * qa);
        grad[off + b] = (float)(gb * qb * (1.0 - qb) - ga * qa * qb);
    }
    if (p->target_ms <= 0.0)
        return NAS_OK;
    nas_status_t st = open_table(os, p);
    if (st != NAS_OK)
        return st;
    double ce = nas__plan_loss(os->plan), e = 0.0;
    if ((st = expected_latency(os, p, &e, NULL, 0.0)) != NAS_OK)
        return st;
    p->last_ms = e;
    double r = e / p->target_ms;
    if (p->mul) {
        /* d/dalpha [CE r^beta] = r^beta dCE/dalpha + CE beta r^(beta-1) / T dE/dalpha */
        double f = pow(r, p->beta);
        for (uint32_t i = 0; i < os->n_alpha; i++)
            grad[i] = (float)(grad[i] * f);
        return expected_latency(os, p, &e, grad, ce * p->beta * f / (r > 0.0 ? r : 1.0) / p->target_ms);
    }
    return expected_latency(os, p, &e, grad, p->lambda / p->target_ms);
}

/* Keep log(e^alpha_a + e^alpha_b) as before the update: the other paths keep their probabilities. */
static nas_status_t proxyless_rescale(nas__oneshot_t *os, void *user)
{
    proxyless_t *p = user;
    float *al = nas__plan_alphas(os->plan, NULL);
    memset(p->seen, 0, p->n);
    for (uint32_t m = 0; m < os->map->num_mixed; m++) {
        uint32_t off = os->alpha_off[m], a = p->a[off], b = p->b[off];
        if (p->seen[off] || a == b)
            continue;
        p->seen[off] = 1;
        double o1 = p->old_a[off], o2 = p->old_b[off], n1 = al[off + a], n2 = al[off + b];
        double mo = fmax(o1, o2), mn = fmax(n1, n2);
        double shift = (mo + log(exp(o1 - mo) + exp(o2 - mo))) - (mn + log(exp(n1 - mn) + exp(n2 - mn)));
        al[off + a] = (float)(n1 + shift);
        al[off + b] = (float)(n2 + shift);
    }
    return NAS_OK;
}

static void proxyless_epoch_begin(nas__oneshot_t *os, void *user, uint32_t epoch)
{
    proxyless_t *p = user;
    (void)os;
    p->cfg.no_arch_step = epoch < p->warmup_epochs;
}

static nas_status_t proxyless_epoch_end(nas__oneshot_t *os, void *user, uint32_t epoch)
{
    proxyless_t *p = user;
    if (p->target_ms <= 0.0)
        return NAS_OK;
    nas_status_t st = open_table(os, p);
    double e = 0.0;
    if (st == NAS_OK)
        st = buffers(p, os);
    if (st == NAS_OK)
        st = expected_latency(os, p, &e, NULL, 0.0);
    if (st != NAS_OK)
        return st;
    char msg[160];
    snprintf(msg, sizeof msg, "proxyless epoch %u/%u expected_latency_ms %.4f target_ms %.4f", (unsigned)epoch + 1,
             (unsigned)p->cfg.epochs, e, p->target_ms);
    nas_run_report(os->run, msg);
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Setup                                                                   */

static nas_status_t params(nas_searcher_t *self, proxyless_t *p, const nas_params_t *params)
{
    int64_t warm = 1;
    const char *kind = "mul", *cache = NULL;
    nas_status_t st;
    p->target_ms = 0.0;
    p->beta = 0.6;
    p->lambda = 0.1;
    if ((st = nas_params_get_int(params, "warmup_epochs", warm, &warm)) != NAS_OK ||
        (st = nas_params_get_double(params, "target_latency_ms", p->target_ms, &p->target_ms)) != NAS_OK ||
        (st = nas_params_get_double(params, "beta", p->beta, &p->beta)) != NAS_OK ||
        (st = nas_params_get_double(params, "lambda", p->lambda, &p->lambda)) != NAS_OK) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
        return st;
    }
    st = nas_params_get_string(params, "latency_loss", &kind);
    if (st != NAS_OK && st != NAS_E_NOT_FOUND) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
        return st;
    }
    if (st == NAS_E_NOT_FOUND)
        kind = "mul";
    st = nas_params_get_string(params, "latency_cache", &cache);
    if (st != NAS_OK && st != NAS_E_NOT_FOUND) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
        return st;
    }
    if (st == NAS_OK) {
        p->cache_set = true;
        if (!(p->cache = nas__strdup(p->ctx, cache)))
            return NAS_E_NOMEM;
    }
    if (warm < 0 || warm > 100000)
        return nas__search_fail(self, NAS_E_INVAL, "parameter 'warmup_epochs': %lld is outside [0, 100000]",
                                (long long)warm);
    if (!(p->target_ms >= 0.0 && p->target_ms <= 1e6))
        return nas__search_fail(self, NAS_E_INVAL, "parameter 'target_latency_ms': need 0 (none) to 1e6 ms");
    if (!(p->beta > 0.0 && p->beta <= 10.0) || !(p->lambda >= 0.0 && p->lambda <= 1e6))
        return nas__search_fail(self, NAS_E_INVAL, "parameters 'beta' (0, 10] and 'lambda' [0, 1e6]");
    if (strcmp(kind, "mul") != 0 && strcmp(kind, "add") != 0)
        return nas__search_fail(self, NAS_E_INVAL, "parameter 'latency_loss': '%s' is not mul or add", kind);
    p->mul = strcmp(kind, "mul") == 0;
    p->warmup_epochs = (uint32_t)warm;
    if (p->target_ms > 0.0 && nas_searcher_space(self)->family != NAS_FAMILY_CHAIN)
        return nas__search_fail(self, NAS_E_UNSUPPORTED,
                                "a latency target needs a chain space (the latency table covers chains only)");
    return NAS_OK;
}

static nas_status_t proxyless_create(nas_searcher_t *self, const nas_params_t *prm, void **state)
{
    nas_context_t *ctx = nas_searcher_context(self);
    proxyless_t *p = nas__calloc(ctx, 1, sizeof *p);
    if (!p)
        return NAS_E_NOMEM;
    *state = p;
    p->ctx = ctx;
    p->rng = nas_searcher_rng(self);
    p->last_ms = NAN;
    nas__oneshot_cfg_t *c = &p->cfg;
    c->name = "proxyless";
    c->mode = NAS__MIXED_BINARY;
    c->epochs = 10;
    c->batch_size = 64;
    c->w_lr = 0.05;
    c->w_lr_min = 0.001;
    c->w_momentum = 0.9;
    c->w_wd = 4e-5;
    c->w_clip = 5.0;
    c->arch_lr = 1e-3;
    c->arch_wd = 0.0;
    c->arch_beta1 = 0.0;
    c->arch_beta2 = 0.999;
    c->alpha_init_std = 0.0;
    c->max_skip = UINT32_MAX;
    c->user = p;
    c->epoch_begin = proxyless_epoch_begin;
    c->epoch_end = proxyless_epoch_end;
    c->sample = proxyless_sample;
    c->weight_step = proxyless_weight_step;
    c->arch_grad = proxyless_arch_grad;
    c->arch_update_end = proxyless_rescale;
    nas_status_t st = nas__oneshot_params(self, prm, c, &p->alphas_path);
    if (st != NAS_OK)
        return st;
    return params(self, p, prm);
}

static const nas_searcher_vtable_t proxyless_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "proxyless",
    .description = "ProxylessNAS: binarized-path supernet (two paths per step), alphas by the two-path gradient, "
                   "optional latency term from a lookup table measured on this CPU (chain spaces), derive and "
                   "retrain; needs the train evaluator (params: epochs, target_latency_ms, latency_loss, ...)",
    .create = proxyless_create,
    .destroy = proxyless_destroy,
    .ask = nas__oneshot_ask,
    .tell = nas__search_tell_nothing,
    .user_data = NULL,
    .save = NULL,
    .load = NULL,
    .run = nas__oneshot_run_hook,
};

nas_status_t nas__register_proxyless(nas_context_t *ctx)
{
    return nas_context_register_searcher(ctx, &proxyless_vtable);
}
