/* Training a model: option checks, the data subset, the loop with progress, cancel and divergence. */
#include "model/model_internal.h"

#include "data/loader.h"

#include <math.h>
#include <string.h>

/* NAS_E_INVAL naming the bad option. */
#define BAD(...) return nas__fail(errbuf, NAS_E_INVAL, __VA_ARGS__)

nas_status_t nas__train_opts_check(const nas_train_opts_t *o, char *errbuf)
{
    if (o->batch_size < 1)
        BAD("batch_size must be >= 1 (got 0)");
    if (o->epochs == 0 && o->steps == 0)
        BAD("epochs and steps are both 0: give one of them");
    if (o->optimizer != NAS_OPTIMIZER_SGD && o->optimizer != NAS_OPTIMIZER_ADAM)
        BAD("unknown optimizer %d (NAS_OPTIMIZER_SGD 0 or NAS_OPTIMIZER_ADAM 1)", (int)o->optimizer);
    if (!(isfinite(o->lr) && o->lr > 0.0))
        BAD("lr %g must be finite and > 0", o->lr);
    if (!(o->momentum >= 0.0 && o->momentum < 1.0))
        BAD("momentum %g is outside [0, 1)", o->momentum);
    if (!(isfinite(o->weight_decay) && o->weight_decay >= 0.0))
        BAD("weight_decay %g must be finite and >= 0", o->weight_decay);
    if (o->schedule != NAS_SCHEDULE_CONSTANT && o->schedule != NAS_SCHEDULE_COSINE && o->schedule != NAS_SCHEDULE_STEP)
        BAD("unknown schedule %d (NAS_SCHEDULE_CONSTANT 0, COSINE 1 or STEP 2)", (int)o->schedule);
    if (!(isfinite(o->warmup_epochs) && o->warmup_epochs >= 0.0))
        BAD("warmup_epochs %g must be finite and >= 0", o->warmup_epochs);
    if (!(o->lr_min >= 0.0 && o->lr_min <= o->lr))
        BAD("lr_min %g is outside [0, lr]", o->lr_min);
    if (o->schedule == NAS_SCHEDULE_STEP && !(isfinite(o->step_epochs) && o->step_epochs > 0.0))
        BAD("step_epochs %g must be > 0 with the step schedule", o->step_epochs);
    if (o->schedule == NAS_SCHEDULE_STEP && !(o->gamma > 0.0 && o->gamma <= 1.0))
        BAD("gamma %g is outside (0, 1]", o->gamma);
    if (!(o->label_smoothing >= 0.0 && o->label_smoothing < 1.0))
        BAD("label_smoothing %g is outside [0, 1)", o->label_smoothing);
    if (!(isfinite(o->grad_clip) && o->grad_clip >= 0.0))
        BAD("grad_clip %g must be finite and >= 0 (0: no clipping)", o->grad_clip);
    if (!(o->max_loss >= 0.0))
        BAD("max_loss %g must be >= 0 (0: automatic, INFINITY: no limit)", o->max_loss);
    if (!(o->data_fraction > 0.0 && o->data_fraction <= 1.0))
        BAD("data_fraction %g is outside (0, 1]", o->data_fraction);
    return NAS_OK;
}

/* The samples to train on: all of ds, or a stratified subset of data_fraction of them. */
static nas_status_t pick_samples(nas_model_t *m, const nas_dataset_t *ds, double fraction, uint64_t seed,
                                 nas_dataset_t **view)
{
    *view = NULL;
    uint64_t n = nas_dataset_num_samples(ds), k = (uint64_t)llround(fraction * (double)n);
    if (k >= n)
        return NAS_OK;
    if (k == 0)
        return nas__fail(m->errmsg, NAS_E_INVAL, "nas_model_train: data_fraction %g of %llu samples leaves none",
                         fraction, (unsigned long long)n);
    nas_dataset_t *rest = NULL;
    nas_status_t st = nas_dataset_split(ds, fraction, nas__mix64(seed ^ 0x66726163ull), &rest, view);
    nas_dataset_destroy(rest);
    if (st != NAS_OK)
        return nas__fail(m->errmsg, st, "nas_model_train: data_fraction %g: %s", fraction, nas_dataset_errmsg(ds));
    return NAS_OK;
}

static void optim_cfg(const nas_train_opts_t *o, uint64_t steps_per_epoch, uint64_t total, nas__optim_cfg_t *c)
{
    nas__optim_defaults(c);
    c->kind = o->optimizer == NAS_OPTIMIZER_ADAM ? NAS__OPT_ADAM : NAS__OPT_SGD;
    c->lr = (float)o->lr;
    c->momentum = (float)o->momentum;
    c->nesterov = o->nesterov && o->momentum > 0.0;
    c->weight_decay = (float)o->weight_decay;
    c->clip_norm = (float)o->grad_clip;
    c->sched = o->schedule == NAS_SCHEDULE_COSINE ? NAS__LR_COSINE
             : o->schedule == NAS_SCHEDULE_STEP   ? NAS__LR_STEP
                                                  : NAS__LR_CONST;
    c->warmup_steps = (int64_t)llround(o->warmup_epochs * (double)steps_per_epoch);
    c->total_steps = (int64_t)total;
    c->step_size = (int64_t)llround(o->step_epochs * (double)steps_per_epoch);
    if (c->step_size < 1)
        c->step_size = 1;
    c->gamma = (float)o->gamma;
    c->lr_min = (float)o->lr_min;
}

/* What the loop tracks. */
typedef struct fit {
    nas_model_t *m;
    const nas_train_opts_t *o;
    nas__plan_t *plan;
    nas__loader_t *loader;
    nas__optim_cfg_t oc;
    float *x;
    int32_t *y;
    uint32_t batch;
    uint64_t spe, total, step;
    uint32_t epochs;
    double max_loss;
    double t0;
    double win_loss, ep_loss;      /* sums since the last report / over this epoch */
    uint64_t win_correct, ep_correct, win_steps, ep_steps;
} fit_t;

static void report(fit_t *f, uint32_t epoch)
{
    if (!f->o->progress || f->win_steps == 0)
        return;
    nas_train_progress_t p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.step = f->step;
    p.total_steps = f->total;
    p.epoch = epoch;
    p.epochs = f->epochs;
    p.loss = f->win_loss / (double)f->win_steps;
    p.accuracy = 100.0 * (double)f->win_correct / ((double)f->win_steps * f->batch);
    p.lr = nas__lr_at(&f->oc, (int64_t)f->step - 1);
    p.elapsed_seconds = nas__now() - f->t0;
    f->o->progress(f->o->progress_user_data, &p);
    f->win_loss = 0.0;
    f->win_correct = f->win_steps = 0;
}

/* One epoch (or what is left of the step budget in it). */
static nas_status_t run_epoch(fit_t *f, uint32_t epoch)
{
    nas_model_t *m = f->m;
    const nas_train_opts_t *o = f->o;
    nas_status_t st;
    if (epoch > 0 && (st = nas__loader_start_epoch(f->loader, epoch)) != NAS_OK)
        return nas__fail(m->errmsg, st, "nas_model_train: %s", nas__loader_errmsg(f->loader));
    f->ep_loss = 0.0;
    f->ep_correct = f->ep_steps = 0;
    while (f->step < f->total) {
        if (o->cancel && o->cancel(o->cancel_user_data))
            return nas__fail(m->errmsg, NAS_E_ABORTED, "nas_model_train: cancelled after %llu of %llu steps",
                             (unsigned long long)f->step, (unsigned long long)f->total);
        uint32_t count = 0;
        st = nas__loader_next(f->loader, f->x, f->y, &count);
        if (st == NAS_E_EXHAUSTED)
            break;
        if (st != NAS_OK)
            return nas__fail(m->errmsg, st, "nas_model_train: %s", nas__loader_errmsg(f->loader));
        double loss = 0.0;
        if ((st = nas__plan_train_step(f->plan, f->x, f->y, &f->oc, &loss)) != NAS_OK)
            return nas__fail(m->errmsg, st, "nas_model_train: epoch %u: %s", (unsigned)epoch + 1,
                             nas__plan_errmsg(f->plan));
        uint64_t correct = (uint64_t)nas__plan_correct(f->plan);
        f->step++;
        if (loss > f->max_loss)
            return nas__fail(m->errmsg, NAS_E_DIVERGED, "nas_model_train: epoch %u: training diverged: loss %g at "
                             "step %llu is above max_loss %g", (unsigned)epoch + 1, loss, (unsigned long long)f->step,
                             f->max_loss);
        f->win_loss += loss;
        f->ep_loss += loss;
        f->win_correct += correct;
        f->ep_correct += correct;
        f->win_steps++;
        f->ep_steps++;
        if ((o->progress_every && f->step % o->progress_every == 0) || f->step == f->total)
            report(f, epoch);
    }
    if (!o->progress_every)
        report(f, epoch);
    return NAS_OK;
}

/* Set up the plan, the loader and the buffers, then run the epochs. */
static nas_status_t fit(fit_t *f, const nas_dataset_t *ds, uint64_t seed)
{
    nas_model_t *m = f->m;
    const nas_train_opts_t *o = f->o;
    uint32_t flags = NAS__LOADER_SHUFFLE | NAS__LOADER_DROP_LAST | (o->augment ? NAS__LOADER_AUGMENT : 0u);
    nas_status_t st = nas__loader_create(&f->loader, ds, f->batch, flags, seed);
    if (st != NAS_OK)
        return nas__fail(m->errmsg, st, "nas_model_train: %s", nas_context_errmsg(m->ctx));
    nas__graph_t *g = NULL;
    if ((st = nas__model_train_graph(m, (float)o->label_smoothing, &g, m->errmsg)) != NAS_OK)
        return st;
    nas__plan_opts_t po = NAS__PLAN_OPTS_INIT;
    po.batch = (int32_t)f->batch;
    po.train = true;
    st = nas__plan_create(&f->plan, m->dev, g, &po);
    nas__graph_destroy(g);
    if (st != NAS_OK)
        return nas__fail(m->errmsg, st, "nas_model_train: compiling the network for batch %u: %s", f->batch,
                         nas_context_errmsg(m->ctx));
    if ((st = nas__plan_import(f->plan, m->state, m->state_n)) != NAS_OK)
        return nas__fail(m->errmsg, st, "nas_model_train: %s", nas__plan_errmsg(f->plan));
    size_t chw = nas__model_chw(m);
    f->x = nas__malloc(m->ctx, (size_t)f->batch * chw * sizeof *f->x);
    f->y = nas__malloc(m->ctx, (size_t)f->batch * sizeof *f->y);
    if (!f->x || !f->y)
        return nas__fail(m->errmsg, NAS_E_NOMEM, "nas_model_train: out of memory for a batch of %u", f->batch);
    for (uint32_t e = 0; f->step < f->total; e++)
        if ((st = run_epoch(f, e)) != NAS_OK)
            return st;
    return NAS_OK;
}

nas_status_t nas_model_train(nas_model_t *m, const nas_dataset_t *train, const nas_train_opts_t *opts,
                             nas_train_result_t *result)
{
    if (!m)
        return NAS_E_INVAL;
    if (!train)
        return nas__fail(m->errmsg, NAS_E_INVAL, "nas_model_train: the data set is NULL");
    if (result && result->struct_size < sizeof result->struct_size)
        return nas__fail(m->errmsg, NAS_E_INVAL, "nas_model_train: result->struct_size is not set");
    nas_train_opts_t o = NAS_TRAIN_OPTS_INIT;
    if (opts && !nas__copy_opts(&o, sizeof o, opts, opts->struct_size))
        return nas__fail(m->errmsg, NAS_E_INVAL, "nas_model_train: opts->struct_size %zu is too small",
                         opts->struct_size);
    char why[NAS_ERRMSG_CAP];
    nas_status_t st = nas__train_opts_check(&o, why);
    if (st != NAS_OK)
        return nas__fail(m->errmsg, st, "nas_model_train: %s", why);
    if ((st = nas__model_check_data(m, train, "nas_model_train")) != NAS_OK)
        return st;
    fit_t f;
    memset(&f, 0, sizeof f);
    f.m = m;
    f.o = &o;
    f.t0 = nas__now();
    uint64_t seed = o.seed ? o.seed : nas_context_seed(m->ctx);
    nas_dataset_t *view = NULL;
    if ((st = pick_samples(m, train, o.data_fraction, seed, &view)) != NAS_OK)
        return st;
    const nas_dataset_t *ds = view ? view : train;
    uint64_t n = nas_dataset_num_samples(ds);
    f.batch = n < o.batch_size ? (uint32_t)n : o.batch_size;
    f.spe = n / f.batch;
    f.total = o.steps ? o.steps : (uint64_t)o.epochs * f.spe;
    f.epochs = (uint32_t)((f.total + f.spe - 1) / f.spe);
    optim_cfg(&o, f.spe, f.total, &f.oc);
    f.max_loss = o.max_loss > 0.0 ? o.max_loss : 100.0 * log((double)m->bopts.num_classes);

    st = fit(&f, ds, seed);
    /* Keep what was learnt, also after a cancel or a divergence (the diverged step changed nothing). */
    if (f.plan && f.step > 0) {
        nas_status_t e = nas__plan_export(f.plan, m->state, m->state_n);
        if (e != NAS_OK && st == NAS_OK)
            st = nas__fail(m->errmsg, e, "nas_model_train: reading the weights back: %s", nas__plan_errmsg(f.plan));
        m->version++;
        m->steps_trained += f.step;
    }
    if (st == NAS_OK)
        nas__model_take_normalization(m, train);
    if (result) {
        nas_train_result_t r;
        memset(&r, 0, sizeof r);
        r.struct_size = result->struct_size < sizeof r ? result->struct_size : sizeof r;
        r.steps = f.step;
        r.epochs = f.spe ? (double)f.step / (double)f.spe : 0.0;
        r.loss = f.ep_steps ? f.ep_loss / (double)f.ep_steps : NAN;
        r.accuracy = f.ep_steps ? 100.0 * (double)f.ep_correct / ((double)f.ep_steps * f.batch) : NAN;
        r.seconds = nas__now() - f.t0;
        r.samples = n;
        r.batch_size = f.batch;
        memcpy(result, &r, r.struct_size);
    }
    nas__free(m->ctx, f.x);
    nas__free(m->ctx, f.y);
    nas__plan_destroy(f.plan);
    nas__loader_destroy(f.loader);
    nas_dataset_destroy(view);
    return st;
}
