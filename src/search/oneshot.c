/* The one-shot driver: supernet training with weight and architecture steps, derive, log, retrain. */
#include "search/oneshot.h"

#include "eval/eval_internal.h"
#include "nn/graph.h"
#include "search/search_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Statistics of one epoch. */
typedef struct epoch_log {
    double train_loss, train_acc, val_loss, val_acc, tau;
    char *arch;
} epoch_log_t;

/* The driver's own state around the public part. */
typedef struct driver {
    nas__oneshot_t os;
    nas_run_t *run;
    nas__dev_t *dev;
    nas__loader_t *lt, *lv;
    uint64_t val_epoch;
    float *x;                    /* two batches of images: training then validation */
    int32_t *y;                  /* two batches of labels */
    float *grad, *am, *av;       /* alpha gradient and Adam state (n_alpha each) */
    uint32_t *paths;             /* scratch for the skip guard */
    float *hist;                 /* (epochs + 1) x total_paths per-path weights */
    epoch_log_t *log;            /* epochs + 1 */
    uint32_t logged;             /* entries of hist and log filled */
    int64_t arch_steps;
    nas_arch_t *arch;
    /* Output files: the cfg's, else next to the run's journal (alphas.json, derived.yaml), else none. */
    char alphas_path[1024], derived_path[1024];
} driver_t;

static void path_weights(const nas__oneshot_t *os, float *w)
{
    uint32_t n = 0;
    const float *a = nas__plan_alphas(os->plan, &n);
    float *out = w;
    for (uint32_t m = 0; m < os->map->num_mixed; m++) {
        uint32_t k = os->map->mixed[m].n_paths;
        const float *al = a + os->alpha_off[m];
        double mx = al[0], z = 0.0;
        for (uint32_t i = 1; i < k; i++)
            mx = al[i] > mx ? al[i] : mx;
        for (uint32_t i = 0; i < k; i++)
            z += exp(al[i] - mx);
        for (uint32_t i = 0; i < k; i++)
            out[i] = (float)(exp(al[i] - mx) / z);
        out += k;
    }
}

/* ---------------------------------------------------------------------- */
/* Setup                                                                   */

static nas_status_t fail(driver_t *d, nas_status_t st, const char *what, const char *msg)
{
    return nas__fail(d->os.errmsg, st, "%s: %s: %s", d->os.cfg->name, what, msg);
}

/* Tie the alphas of the mixed nodes of one decision to the first of them. */
static nas_status_t tie_alphas(nas__graph_t *g, const nas__supernet_map_t *map)
{
    for (uint32_t m = 1; m < map->num_mixed; m++)
        for (uint32_t o = 0; o < m; o++)
            if (nas__oneshot_same_decision(&map->mixed[m], &map->mixed[o])) {
                nas_status_t st = nas__graph_mixed_share_alphas(g, map->mixed[m].node, map->mixed[o].node);
                if (st != NAS_OK)
                    return st;
                break;
            }
    return NAS_OK;
}

static nas_status_t build(driver_t *d, const nas__train_setup_t *ts)
{
    nas__oneshot_t *os = &d->os;
    const nas__oneshot_cfg_t *cfg = os->cfg;
    nas__build_opts_t bo = NAS__BUILD_OPTS_INIT;
    uint32_t c, h, w, k = nas_dataset_num_classes(ts->train);
    nas_dataset_shape(ts->train, &c, &h, &w);
    bo.in_c = (int32_t)c;
    bo.in_h = (int32_t)h;
    bo.in_w = (int32_t)w;
    bo.num_classes = k < 2 ? 2 : (int32_t)k;
    bo.label_smoothing = (float)ts->topts.label_smoothing;
    bo.channel_scale = ts->mopts.channel_scale;
    bo.cells_per_stage = ts->mopts.cells_per_stage;
    bo.stem_stride = ts->mopts.stem_stride;
    nas__graph_t *g = NULL;
    char err[NAS_ERRMSG_CAP] = "";
    nas_status_t st = nas__build_supernet_map(&g, &os->map, nas_searcher_space(os->self), &bo, cfg->mode, err);
    if (st != NAS_OK)
        return fail(d, st, "building the supernet", err);
    if (os->map->num_mixed == 0) {
        nas__graph_destroy(g);
        return fail(d, NAS_E_UNSUPPORTED, "building the supernet", "the space has no decision to search");
    }
    if ((st = tie_alphas(g, os->map)) != NAS_OK) {
        st = fail(d, st, "tying architecture weights", nas__graph_errmsg(g));
        nas__graph_destroy(g);
        return st;
    }
    nas__plan_opts_t po = NAS__PLAN_OPTS_INIT;
    po.batch = (int32_t)os->batch;
    po.train = true;
    po.init_stream = nas__mix64(nas__searcher_seed(os->self) ^ 0x6f6e6573686f74ull);
    po.alpha_init_std = (float)cfg->alpha_init_std;
    if ((st = nas__dev_create(&d->dev, os->ctx)) == NAS_OK)
        st = nas__plan_create(&os->plan, d->dev, g, &po);
    nas__graph_destroy(g);
    if (st != NAS_OK)
        return fail(d, st, "compiling the supernet", nas_context_errmsg(os->ctx));
    os->alpha_off = nas__calloc(os->ctx, os->map->num_mixed, sizeof *os->alpha_off);
    if (!os->alpha_off)
        return NAS_E_NOMEM;
    for (uint32_t m = 0; m < os->map->num_mixed; m++)
        os->alpha_off[m] = nas__plan_alpha_offset(os->plan, m);
    nas__plan_alphas(os->plan, &os->n_alpha);
    return NAS_OK;
}

static nas_status_t setup(driver_t *d, nas_evaluator_t *ev)
{
    nas__oneshot_t *os = &d->os;
    const nas__oneshot_cfg_t *cfg = os->cfg;
    nas__train_setup_t ts;
    char err[NAS_ERRMSG_CAP] = "";
    nas_status_t st = nas__train_setup(ev, &ts, err);
    if (st != NAS_OK)
        return fail(d, st, "data", err);
    uint64_t nt = nas_dataset_num_samples(ts.train), nv = nas_dataset_num_samples(ts.val);
    uint64_t b = cfg->batch_size ? cfg->batch_size : ts.topts.batch_size;
    b = b > nt ? nt : b;
    b = b > nv ? nv : b;
    if (b == 0)
        return fail(d, NAS_E_INVAL, "data", "the training or validation split is empty");
    os->batch = (uint32_t)b;
    uint64_t seed = nas__searcher_seed(os->self);
    uint32_t flags = NAS__LOADER_SHUFFLE | NAS__LOADER_DROP_LAST;
    if ((st = nas__loader_create(&d->lt, ts.train, os->batch, flags | (ts.topts.augment ? NAS__LOADER_AUGMENT : 0u),
                                 nas__mix64(seed ^ 1))) != NAS_OK ||
        (st = nas__loader_create(&d->lv, ts.val, os->batch, flags, nas__mix64(seed ^ 2))) != NAS_OK)
        return fail(d, st, "data", nas_context_errmsg(os->ctx));
    if ((st = build(d, &ts)) != NAS_OK)
        return st;
    uint32_t c, h, w;
    nas_dataset_shape(ts.train, &c, &h, &w);
    size_t chw = (size_t)c * h * w * os->batch;
    uint32_t tp = os->map->total_paths, na = os->n_alpha;
    d->x = nas__malloc(os->ctx, 2 * chw * sizeof *d->x);
    d->y = nas__malloc(os->ctx, 2 * (size_t)os->batch * sizeof *d->y);
    d->grad = nas__calloc(os->ctx, 3 * (size_t)na + 1, sizeof *d->grad);
    d->paths = nas__calloc(os->ctx, os->map->num_mixed, sizeof *d->paths);
    d->hist = nas__calloc(os->ctx, ((size_t)cfg->epochs + 1) * tp, sizeof *d->hist);
    d->log = nas__calloc(os->ctx, (size_t)cfg->epochs + 1, sizeof *d->log);
    if (!d->x || !d->y || !d->grad || !d->paths || !d->hist || !d->log)
        return fail(d, NAS_E_NOMEM, "setup", "out of memory");
    d->am = d->grad + na;
    d->av = d->am + na;
    os->xt = d->x;
    os->xv = d->x + chw;
    os->yt = d->y;
    os->yv = d->y + os->batch;
    uint64_t spe = nas__loader_batches_per_epoch(d->lt);
    nas__optim_defaults(&os->wcfg);
    os->wcfg.kind = NAS__OPT_SGD;
    os->wcfg.lr = (float)cfg->w_lr;
    os->wcfg.momentum = (float)cfg->w_momentum;
    os->wcfg.nesterov = false;
    os->wcfg.weight_decay = (float)cfg->w_wd;
    os->wcfg.clip_norm = (float)cfg->w_clip;
    os->wcfg.sched = NAS__LR_COSINE;
    os->wcfg.total_steps = (int64_t)(spe * cfg->epochs);
    os->wcfg.lr_min = (float)cfg->w_lr_min;
    if ((st = nas_arch_create(&d->arch, nas_searcher_space(os->self))) != NAS_OK)
        return fail(d, st, "setup", "out of memory");
    return NAS_OK;
}

static void teardown(driver_t *d)
{
    nas_context_t *ctx = d->os.ctx;
    for (uint32_t e = 0; d->log && e < d->logged; e++)
        nas__free(ctx, d->log[e].arch);
    nas__free(ctx, d->log);
    nas__free(ctx, d->hist);
    nas__free(ctx, d->paths);
    nas__free(ctx, d->grad);
    nas__free(ctx, d->y);
    nas__free(ctx, d->x);
    nas__free(ctx, d->os.alpha_off);
    nas_arch_destroy(d->arch);
    nas__plan_destroy(d->os.plan);
    nas__dev_destroy(d->dev);
    nas__loader_destroy(d->lt);
    nas__loader_destroy(d->lv);
    nas__supernet_map_destroy(d->os.map);
}

/* ---------------------------------------------------------------------- */
/* Log                                                                     */

static void write_json(driver_t *d, nas__sb_t *sb)
{
    const nas__supernet_map_t *map = d->os.map;
    nas__sb_puts(sb, "{\"strategy\":");
    nas__sb_json_str(sb, d->os.cfg->name);
    nas__sb_puts(sb, ",\"mixed\":[");
    for (uint32_t m = 0; m < map->num_mixed; m++) {
        const nas__mixed_map_t *mm = &map->mixed[m];
        nas__sb_printf(sb, "%s{\"cell\":%d,\"to\":%d,\"from\":%d,\"dim\":%d,\"paths\":%u}", m ? "," : "",
                       (int)mm->cell, (int)mm->to, (int)mm->from, (int)mm->dim, (unsigned)mm->n_paths);
    }
    nas__sb_puts(sb, "],\"epochs\":[");
    for (uint32_t e = 0; e < d->logged; e++) {
        const epoch_log_t *l = &d->log[e];
        nas__sb_printf(sb, "%s{\"epoch\":%u,\"train_loss\":", e ? "," : "", (unsigned)e);
        nas__sb_json_num(sb, l->train_loss);
        nas__sb_puts(sb, ",\"train_acc\":");
        nas__sb_json_num(sb, l->train_acc);
        nas__sb_puts(sb, ",\"val_loss\":");
        nas__sb_json_num(sb, l->val_loss);
        nas__sb_puts(sb, ",\"val_acc\":");
        nas__sb_json_num(sb, l->val_acc);
        nas__sb_puts(sb, ",\"tau\":");
        nas__sb_json_num(sb, l->tau);
        nas__sb_puts(sb, ",\"arch\":");
        nas__sb_json_str(sb, l->arch ? l->arch : "");
        nas__sb_puts(sb, ",\"weights\":[");
        const float *w = d->hist + (size_t)e * map->total_paths;
        for (uint32_t m = 0; m < map->num_mixed; m++) {
            nas__sb_puts(sb, m ? ",[" : "[");
            for (uint32_t k = 0; k < map->mixed[m].n_paths; k++, w++) {
                if (k)
                    nas__sb_putc(sb, ',');
                nas__sb_json_num(sb, *w);
            }
            nas__sb_putc(sb, ']');
        }
        nas__sb_puts(sb, "]}");
    }
    nas__sb_puts(sb, "]}\n");
}

/* Derive from the current alphas, keep the epoch's weights and statistics, write and report them. */
static nas_status_t log_epoch(driver_t *d, const epoch_log_t *stats)
{
    nas__oneshot_t *os = &d->os;
    const nas__oneshot_cfg_t *cfg = os->cfg;
    uint32_t e = d->logged, tp = os->map->total_paths;
    float *w = d->hist + (size_t)e * tp;
    path_weights(os, w);
    float *scratch = nas__malloc(os->ctx, (size_t)tp * sizeof *scratch);
    if (!scratch)
        return fail(d, NAS_E_NOMEM, "derive", "out of memory");
    memcpy(scratch, w, (size_t)tp * sizeof *scratch);
    char err[NAS_ERRMSG_CAP] = "";
    nas_status_t st = cfg->derive ? NAS_OK
                                  : nas__oneshot_derive(os->map, scratch, cfg->max_skip, cfg->keep_none, d->arch, err);
    nas__free(os->ctx, scratch);
    if (st != NAS_OK)
        return fail(d, st, "derive", err);
    d->log[e] = *stats;
    d->log[e].arch = NULL;
    size_t len = 0;
    char buf[4096] = "-";
    if (!cfg->derive && (st = nas_arch_to_string(d->arch, 0, buf, sizeof buf, &len)) != NAS_OK)
        return fail(d, st, "derive", "cannot format the derived architecture");
    if (!(d->log[e].arch = nas__strndup(os->ctx, buf, strlen(buf))))
        return fail(d, NAS_E_NOMEM, "log", "out of memory");
    d->logged++;
    char what[4096 + 256];
    if (e == 0) /* the state before any training: no losses yet */
        snprintf(what, sizeof what, "%s epoch 0/%u (before training) arch %s", cfg->name, (unsigned)cfg->epochs, buf);
    else
        snprintf(what, sizeof what, "%s epoch %u/%u train_loss %.4f train_acc %.2f val_loss %.4f val_acc %.2f arch %s",
                 cfg->name, (unsigned)e, (unsigned)cfg->epochs, stats->train_loss, stats->train_acc, stats->val_loss,
                 stats->val_acc, buf);
    nas_run_report(d->run, what);
    if (!d->alphas_path[0])
        return NAS_OK;
    nas__sb_t sb;
    nas__sb_init(&sb, os->ctx);
    write_json(d, &sb);
    st = sb.failed ? NAS_E_NOMEM : nas__write_file_atomic(os->ctx, d->alphas_path, sb.data, sb.len, err);
    nas__sb_free(&sb);
    return st == NAS_OK ? NAS_OK : fail(d, st, "writing the architecture weights", err);
}

/* ---------------------------------------------------------------------- */
/* Training                                                                */

static nas_status_t next_val(driver_t *d);

nas_status_t nas__oneshot_next_val(nas__oneshot_t *os)
{
    return next_val((driver_t *)os);
}

static nas_status_t next_val(driver_t *d)
{
    uint32_t count = 0;
    nas_status_t st = nas__loader_next(d->lv, d->os.xv, d->os.yv, &count);
    if (st == NAS_E_EXHAUSTED) {
        if ((st = nas__loader_start_epoch(d->lv, ++d->val_epoch)) == NAS_OK)
            st = nas__loader_next(d->lv, d->os.xv, d->os.yv, &count);
    }
    return st == NAS_OK ? NAS_OK : fail(d, st, "validation data", nas__loader_errmsg(d->lv));
}

/* Architecture step on the next validation batch; adds its loss and correct count. */
static nas_status_t arch_step(driver_t *d, double *loss, double *correct)
{
    nas__oneshot_t *os = &d->os;
    const nas__oneshot_cfg_t *cfg = os->cfg;
    nas_status_t st = next_val(d);
    if (st == NAS_OK && cfg->sample)
        st = cfg->sample(os, cfg->user);
    if (st != NAS_OK)
        return st;
    if ((st = nas__plan_set_input(os->plan, os->xv)) != NAS_OK ||
        (st = nas__plan_set_labels(os->plan, os->yv)) != NAS_OK || (st = nas__plan_forward(os->plan, true)) != NAS_OK)
        return fail(d, st, "architecture step", nas__plan_errmsg(os->plan));
    double l = nas__plan_loss(os->plan);
    if (!isfinite(l))
        return fail(d, NAS_E_DIVERGED, "architecture step", "the validation loss is not finite");
    *loss += l;
    *correct += (double)nas__plan_correct(os->plan);
    if ((st = nas__plan_backward(os->plan)) != NAS_OK)
        return fail(d, st, "architecture step", nas__plan_errmsg(os->plan));
    if (cfg->arch_grad) {
        if ((st = cfg->arch_grad(os, cfg->user, d->grad)) != NAS_OK)
            return st;
    } else {
        memcpy(d->grad, nas__plan_alpha_grads(os->plan), os->n_alpha * sizeof *d->grad);
    }
    nas__optim_cfg_t ac;
    nas__optim_defaults(&ac);
    ac.kind = NAS__OPT_ADAM;
    ac.lr = (float)cfg->arch_lr;
    ac.weight_decay = (float)cfg->arch_wd;
    ac.beta1 = (float)cfg->arch_beta1;
    ac.beta2 = (float)cfg->arch_beta2;
    ac.sched = NAS__LR_CONST;
    nas__optim_step(&ac, d->arch_steps++, nas__plan_alphas(os->plan, NULL), d->grad, d->am, d->av, os->n_alpha,
                    os->n_alpha);
    return cfg->arch_update_end ? cfg->arch_update_end(os, cfg->user) : NAS_OK;
}

static nas_status_t weight_step(driver_t *d, double *loss, double *correct)
{
    nas__oneshot_t *os = &d->os;
    if (os->cfg->weight_step)
        return os->cfg->weight_step(os, os->cfg->user, loss, correct);
    nas_status_t st = os->cfg->sample ? os->cfg->sample(os, os->cfg->user) : NAS_OK;
    if (st != NAS_OK)
        return st;
    double l = 0.0;
    if ((st = nas__plan_train_step(os->plan, os->xt, os->yt, &os->wcfg, &l)) != NAS_OK)
        return fail(d, st, "weight step", nas__plan_errmsg(os->plan));
    *loss += l;
    *correct += (double)nas__plan_correct(os->plan);
    return NAS_OK;
}

/* One epoch; *stopped when the run asks to stop (cancel: NAS_E_ABORTED). */
static nas_status_t run_epoch(driver_t *d, uint32_t e, bool *stopped)
{
    nas__oneshot_t *os = &d->os;
    nas_status_t st;
    if (e > 0 && (st = nas__loader_start_epoch(d->lt, e)) != NAS_OK)
        return fail(d, st, "training data", nas__loader_errmsg(d->lt));
    if (os->cfg->epoch_begin)
        os->cfg->epoch_begin(os, os->cfg->user, e);
    epoch_log_t s = { 0.0, 0.0, 0.0, 0.0, os->tau, NULL };
    double steps = 0.0;
    for (;;) {
        if (nas_run_should_stop(d->run)) {
            *stopped = true;
            if (strcmp(nas_run_stop_reason(d->run), "cancelled") == 0)
                return nas__fail(os->errmsg, NAS_E_ABORTED, "%s: cancelled in epoch %u", os->cfg->name,
                                 (unsigned)e + 1);
            break;
        }
        uint32_t count = 0;
        st = nas__loader_next(d->lt, os->xt, os->yt, &count);
        if (st == NAS_E_EXHAUSTED)
            break;
        if (st != NAS_OK)
            return fail(d, st, "training data", nas__loader_errmsg(d->lt));
        if ((!os->cfg->no_arch_step && (st = arch_step(d, &s.val_loss, &s.val_acc)) != NAS_OK) ||
            (st = weight_step(d, &s.train_loss, &s.train_acc)) != NAS_OK)
            return st;
        steps += 1.0;
    }
    if (os->cfg->epoch_end && (st = os->cfg->epoch_end(os, os->cfg->user, e)) != NAS_OK)
        return st;
    if (steps > 0.0) {
        s.train_loss /= steps;
        s.val_loss /= steps;
        s.train_acc *= 100.0 / (steps * os->batch);
        s.val_acc *= 100.0 / (steps * os->batch);
        if (os->cfg->no_arch_step)
            s.val_loss = s.val_acc = NAN;
    } else {
        s.train_loss = s.val_loss = s.train_acc = s.val_acc = NAN;
    }
    return log_epoch(d, &s);
}

/* Hand the supernet's weights on the derived paths to the train evaluator for the retrain. */
static nas_status_t inherit(driver_t *d)
{
    nas__oneshot_t *os = &d->os;
    char err[NAS_ERRMSG_CAP] = "";
    int64_t n = 0;
    nas_status_t st = nas__supernet_paths(os->map, d->arch, d->paths, err);
    if (st != NAS_OK)
        return fail(d, st, "fine-tuning", err);
    if ((st = nas__plan_export_paths(os->plan, d->paths, os->map->pool_bn, os->map->cell_out,
                                           os->map->num_cells, NULL, 0, &n)) != NAS_OK)
        return fail(d, st, "fine-tuning", nas__plan_errmsg(os->plan));
    float *state = nas__malloc(os->ctx, (size_t)(n ? n : 1) * sizeof *state);
    if (!state)
        return fail(d, NAS_E_NOMEM, "fine-tuning", "out of memory");
    if ((st = nas__plan_export_paths(os->plan, d->paths, os->map->pool_bn, os->map->cell_out,
                                           os->map->num_cells, state, n, &n)) != NAS_OK) {
        nas__free(os->ctx, state);
        return fail(d, st, "fine-tuning", nas__plan_errmsg(os->plan));
    }
    st = nas__train_inherit(nas_run_evaluator(d->run), state, n, err);
    return st == NAS_OK ? NAS_OK : fail(d, st, "fine-tuning", err);
}

bool nas__oneshot_output_path(const nas__oneshot_t *os, const char *given, const char *name, char *out, size_t cap)
{
    const char *journal = nas__run_journal_path(os->run), *slash = journal ? strrchr(journal, '/') : NULL;
    if (given)
        snprintf(out, cap, "%s", given);
    else if (journal && !slash)
        snprintf(out, cap, "%s", name);
    else if (journal)
        snprintf(out, cap, "%.*s/%s", (int)(slash - journal), journal, name);
    else
        out[0] = '\0';
    return out[0] != '\0';
}

/* cfg's output paths, or alphas.json and derived.yaml in the folder of the run's journal. */
static void output_paths(driver_t *d)
{
    const nas__oneshot_cfg_t *cfg = d->os.cfg;
    nas__oneshot_output_path(&d->os, cfg->alphas_path, "alphas.json", d->alphas_path, sizeof d->alphas_path);
    nas__oneshot_output_path(&d->os, cfg->derived_path, "derived.yaml", d->derived_path, sizeof d->derived_path);
}

/* The derived architecture as YAML at d->derived_path (atomically). */
static nas_status_t write_derived(driver_t *d)
{
    nas__oneshot_t *os = &d->os;
    const nas_space_t *space = nas_searcher_space(os->self);
    char buf[4096], err[NAS_ERRMSG_CAP] = "";
    size_t len = 0;
    nas_status_t st = nas_arch_to_string(d->arch, 0, buf, sizeof buf, &len);
    if (st != NAS_OK)
        return fail(d, st, "writing the derived architecture", "cannot format it");
    nas__sb_t sb;
    nas__sb_init(&sb, os->ctx);
    nas__sb_puts(&sb, "# The architecture a one-shot search derived (libnas); `arch` is its canonical string.\nspace: ");
    nas__sb_json_str(&sb, nas_space_name(space));
    nas__sb_puts(&sb, "\nstrategy: ");
    nas__sb_json_str(&sb, os->cfg->name);
    nas__sb_puts(&sb, "\narch: ");
    nas__sb_json_str(&sb, buf);
    nas__sb_puts(&sb, "\nchoices:\n");
    for (uint32_t dim = 0; dim < nas_space_num_arch_dims(space); dim++) {
        nas_dim_info_t di = { sizeof di, NULL, 0, 0, 0, 0.0, 0.0, false, -1, 0 };
        uint32_t c = 0;
        bool active = true;
        const char *label = NULL;
        if (nas_space_dim_info(space, dim, &di) != NAS_OK || nas_arch_get(d->arch, dim, &c) != NAS_OK ||
            nas_arch_is_active(d->arch, dim, &active) != NAS_OK)
            continue;
        nas__sb_puts(&sb, "  ");
        nas__sb_json_str(&sb, di.name);
        nas__sb_puts(&sb, ": ");
        if (!active)
            nas__sb_puts(&sb, "null   # inactive");
        else if (nas_space_dim_label(space, dim, c, &label) == NAS_OK && label)
            nas__sb_json_str(&sb, label);
        else
            nas__sb_printf(&sb, "%u", (unsigned)c);
        nas__sb_putc(&sb, '\n');
    }
    st = sb.failed ? NAS_E_NOMEM : nas__write_file_atomic(os->ctx, d->derived_path, sb.data, sb.len, err);
    nas__sb_free(&sb);
    return st == NAS_OK ? NAS_OK : fail(d, st, "writing the derived architecture", err);
}

nas_status_t nas__oneshot_run(nas_searcher_t *self, nas_run_t *run, const nas__oneshot_cfg_t *cfg)
{
    driver_t d;
    memset(&d, 0, sizeof d);
    d.os.ctx = nas_searcher_context(self);
    d.os.self = self;
    d.os.cfg = cfg;
    d.run = run;
    d.os.run = run;
    output_paths(&d);
    nas_status_t st = setup(&d, nas_run_evaluator(run));
    if (st == NAS_OK) {
        epoch_log_t init = { NAN, NAN, NAN, NAN, d.os.tau, NULL };
        st = log_epoch(&d, &init);
    }
    bool stopped = false;
    for (uint32_t e = 0; st == NAS_OK && !stopped && e < cfg->epochs; e++)
        st = run_epoch(&d, e, &stopped);
    if (st == NAS_OK && cfg->derive && (st = cfg->derive(&d.os, cfg->user, d.arch)) != NAS_OK && !d.os.errmsg[0])
        nas__fail(d.os.errmsg, st, "%s: deriving the architecture", cfg->name);
    if (st == NAS_OK && d.derived_path[0])
        st = write_derived(&d);
    if (st == NAS_OK && cfg->finetune)
        st = inherit(&d);
    if (st == NAS_OK) {
        char what[160], epochs[48] = "the evaluator's epochs";
        if (cfg->retrain_epochs > 0.0)
            snprintf(epochs, sizeof epochs, "%g epochs", cfg->retrain_epochs);
        snprintf(what, sizeof what, "%s: %s the derived architecture for %s", cfg->name,
                 cfg->finetune ? "fine-tuning" : "retraining", epochs);
        nas_run_report(run, what);
    }
    if (st == NAS_OK && (st = nas_run_evaluate_arch(run, d.arch, cfg->retrain_epochs, NULL)) != NAS_OK)
        nas__fail(d.os.errmsg, st, "%s: retraining the derived architecture: %s", cfg->name, nas_run_errmsg(run));
    if (st != NAS_OK)
        nas_searcher_set_errmsg(self, d.os.errmsg);
    teardown(&d);
    return st;
}

nas_status_t nas__oneshot_run_hook(nas_searcher_t *self, void *state, nas_run_t *run)
{
    return nas__oneshot_run(self, run, (const nas__oneshot_cfg_t *)state);
}

nas_status_t nas__oneshot_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    (void)state;
    (void)cand;
    return nas__search_fail(self, NAS_E_UNSUPPORTED, "it drives its own search: use nas_run_execute");
}
