/*
 * "enas": Efficient Neural Architecture Search via Parameter Sharing (Pham, Guan, Zoph, Le & Dean,
 * ICML 2018), on the one-shot driver (src/search/oneshot.c) with the controller of the "reinforce"
 * strategy (src/search/controller.c).
 *
 * A single-path supernet (NAS__MIXED_SINGLE) and a policy over the architecture decisions of the space
 * (roles OP, INPUTS and DEPTH with more than one option; width and hyperparameters keep their first
 * option, as in darts' derive), one categorical step per active decision in decision order, with
 * independent logits or an LSTM over the steps. Alternating, as in ENAS:
 *   weights     every training batch samples an architecture from the policy, sets its paths
 *               (nas__supernet_paths: edges a k-input cell does not pick take none, layers past the
 *               depth take "off") and makes one SGD step of the shared weights on it;
 *   controller  after each epoch's batches, controller_steps architectures are sampled, each scored on
 *               the next validation batch with the shared weights: reward = that batch's accuracy in
 *               [0, 1]; advantage = reward - b with a moving-average baseline taken before its update
 *               (b <- decay b + (1 - decay) reward, the first reward sets b); the gradient of
 *               -advantage log pi(arch) - entropy H(pi) is accumulated and every controller_batch
 *               samples (and at the end of the epoch) their mean makes one Adam step;
 *   derive      after the last epoch (or when the budget ends the supernet phase), the controller's
 *               greedy architecture (arg max at every step) and derive_samples sampled ones (repeats
 *               dropped) are scored on the same derive_batches validation batches; the most accurate
 *               (ties: the earlier, so the greedy one first) is retrained by the train evaluator as the
 *               run's one trial.
 * BN: rewards and derive scores come from training-mode forwards (batch statistics, no backward), as
 * ENAS evaluates its child models with the shared weights; those forwards also move the supernet's BN
 * running averages, which nothing reads (the supernet is never run in inference mode).
 *
 * Log: the driver's line per epoch (train_loss, train_acc; no arch: "-"), then, after each epoch's
 * controller training, nas_run_report(run, "enas controller E/N: reward R entropy H baseline B greedy
 * ARCH") with the mean reward and the mean entropy (nats, summed over a sequence's steps) of that
 * epoch's samples, and after the derive "enas derive: K candidates, best accuracy A on B validation
 * batches: ARCH". With alphas_path, the file's "weights" are the controller's probabilities (those along
 * the greedy sequence for the LSTM) on the mixed nodes of all-edges cells and chain layers (those of
 * k-input cells, and chain layers with an extra "off" path, stay uniform); epoch 0: uniform.
 *
 * Parameters (defaults): the driver's epochs (10), batch_size (64), w_lr (0.05, cosine to w_lr_min
 * 0.0005), w_momentum (0.9), w_wd (1e-4), grad_clip (5), retrain_epochs (0: the evaluator's),
 * alphas_path; controller (lstm | independent), controller_hidden (64, lstm: 1..512), controller_lr
 * (0.0035 for the LSTM: ten times the paper's 3.5e-4, as these searches take far fewer controller
 * steps; 0.05 independent, as reinforce; (0, 10]), controller_steps (50 per epoch, 1..1e6),
 * controller_batch (1, samples per Adam step, 1..1e6), entropy (1e-4, [0, 100]), baseline_decay
 * (0.95, [0, 1)), derive_samples (10, 0..100000), derive_batches (4, 1..100000), temperature (1,
 * > 0) and tanh_constant (0: none): the controller's logits become tanh_constant * tanh(l /
 * temperature) (ENAS's shaping; the paper's values are 5 and 2.5), or l / temperature without a tanh
 * constant. DARTS's arch_lr, arch_wd, alpha_init_std, max_skip and keep_none are refused (no
 * architecture weights). Not supported: save/load.
 *
 * Stopping: the run is polled before every controller sample and derive batch; a cancel returns
 * NAS_E_ABORTED at once (no trial), a spent budget skips the rest of the controller's training (the
 * derive, on the policy as it is, and the retrain still run).
 *
 * ask/tell: as darts ("enas drives its own search: use nas_run_execute").
 */
#include "search/controller.h"
#include "search/oneshot.h"
#include "search/search_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define INIT_STREAM 0x454e41534354524cull   /* "ENASCTRL": the LSTM's initial weights */
#define MAX_COUNT 1000000
#define MAX_DERIVE 100000
#define LOG_FLOOR (-69.0)                      /* log of a probability that underflowed */

typedef struct enas {
    nas__oneshot_cfg_t cfg;
    char *alphas_path;
    nas_context_t *ctx;
    nas_rng_t *rng;               /* the searcher's */
    nas__ctrl_t ctrl;
    uint32_t num_dims;
    bool *step;                   /* per decision: a step of the policy */
    uint32_t *choice;             /* the sequence being drawn (NAS__CTRL_NONE: not a step) */
    uint32_t *paths, n_paths;     /* per mixed node of the run's supernet */
    nas_arch_t *tmpl, *arch;      /* nas_arch_create()'s arch; scratch */
    /* Parameters. */
    int kind;
    int64_t hidden, steps, batch, derive_samples, derive_batches;
    double lr, entropy, decay;
    double temperature, tanh_c;   /* logit shaping of the controller (controller.h) */
    /* Learning. */
    double baseline;
    bool have_baseline;
} enas_t;
_Static_assert(offsetof(enas_t, cfg) == 0, "nas__oneshot_run_hook reads the cfg at the start of the state");

static void enas_destroy(void *state)
{
    enas_t *e = state;
    if (!e)
        return;
    nas__ctrl_free(&e->ctrl);
    nas__free(e->ctx, e->alphas_path);
    nas__free(e->ctx, e->step);
    nas__free(e->ctx, e->choice);
    nas__free(e->ctx, e->paths);
    nas_arch_destroy(e->tmpl);
    nas_arch_destroy(e->arch);
    nas__free(e->ctx, e);
}

/* ---------------------------------------------------------------------- */
/* Architectures                                                           */

/* Draw a sequence into e->choice and arch: sampled, or the arg max of every step (greedy). */
static nas_status_t draw(enas_t *e, nas_arch_t *arch, bool greedy, char *errbuf)
{
    nas__ctrl_t *c = &e->ctrl;
    nas_status_t st = nas_arch_copy(arch, e->tmpl);
    nas__ctrl_begin(c);
    for (uint32_t d = 0; d < e->num_dims && st == NAS_OK; d++) {
        bool active = false;
        e->choice[d] = NAS__CTRL_NONE;
        if (!e->step[d] || (st = nas_arch_is_active(arch, d, &active)) != NAS_OK || !active)
            continue;
        uint32_t k = 0;
        if (greedy) {
            const double *p = nas__ctrl_step(c, d);
            for (uint32_t j = 1; j < c->ncat[d]; j++)
                k = p[j] > p[k] ? j : k;
            nas__ctrl_choose(c, k);
        } else {
            k = nas__ctrl_sample(c, d, e->rng);
        }
        e->choice[d] = k;
        st = nas_arch_set(arch, d, k);
    }
    return st == NAS_OK ? NAS_OK : nas__fail(errbuf, st, "enas: drawing an architecture: %s", nas_status_str(st));
}

/* Rebuild the architecture of a stored sequence. */
static nas_status_t replay(enas_t *e, nas_arch_t *arch, const uint32_t *choice, char *errbuf)
{
    nas_status_t st = nas_arch_copy(arch, e->tmpl);
    for (uint32_t d = 0; d < e->num_dims && st == NAS_OK; d++)
        if (choice[d] != NAS__CTRL_NONE)
            st = nas_arch_set(arch, d, choice[d]);
    return st == NAS_OK ? NAS_OK : nas__fail(errbuf, st, "enas: rebuilding an architecture: %s", nas_status_str(st));
}

/* Run arch's paths from now on. */
static nas_status_t set_paths(enas_t *e, nas__oneshot_t *os, const nas_arch_t *arch)
{
    uint32_t n = os->map->num_mixed;
    if (e->n_paths != n || !e->paths) {
        nas__free(e->ctx, e->paths);
        e->n_paths = 0;
        if (!(e->paths = nas__calloc(e->ctx, n ? n : 1, sizeof *e->paths)))
            return nas__fail(os->errmsg, NAS_E_NOMEM, "enas: out of memory");
        e->n_paths = n;
    }
    char err[NAS_ERRMSG_CAP] = "";
    nas_status_t st = nas__supernet_paths(os->map, arch, e->paths, err);
    if (st != NAS_OK)
        return nas__fail(os->errmsg, st, "enas: the supernet cannot run a sampled architecture: %s", err);
    for (uint32_t m = 0; m < n; m++)
        if ((st = nas__plan_set_path(os->plan, m, e->paths[m])) != NAS_OK)
            return nas__fail(os->errmsg, st, "enas: path %u of mixed node %u", (unsigned)e->paths[m], (unsigned)m);
    return NAS_OK;
}

/* Before every weight step: a fresh sample of the policy. */
static nas_status_t enas_sample(nas__oneshot_t *os, void *user)
{
    enas_t *e = user;
    nas_status_t st = draw(e, e->arch, false, os->errmsg);
    return st == NAS_OK ? set_paths(e, os, e->arch) : st;
}

/* Correct predictions of the current paths on the current validation batch (training-mode BN). */
static nas_status_t score(nas__oneshot_t *os, int64_t *correct)
{
    nas_status_t st;
    if ((st = nas__plan_set_input(os->plan, os->xv)) != NAS_OK ||
        (st = nas__plan_set_labels(os->plan, os->yv)) != NAS_OK || (st = nas__plan_forward(os->plan, true)) != NAS_OK)
        return nas__fail(os->errmsg, st, "enas: scoring an architecture: %s", nas__plan_errmsg(os->plan));
    *correct = nas__plan_correct(os->plan);
    return NAS_OK;
}

/* Whether the run asks to stop (a spent budget: *stop); a cancel is NAS_E_ABORTED. */
static nas_status_t poll_stop(nas__oneshot_t *os, const char *where, bool *stop)
{
    *stop = nas_run_should_stop(os->run);
    if (*stop && strcmp(nas_run_stop_reason(os->run), "cancelled") == 0)
        return nas__fail(os->errmsg, NAS_E_ABORTED, "enas: cancelled in %s", where);
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Controller                                                              */

/*
 * The greedy architecture into e->arch, and the policy's probabilities along its sequence as the
 * alphas (log p) of the mixed nodes they map onto, for the log.
 */
static nas_status_t policy_to_alphas(enas_t *e, nas__oneshot_t *os)
{
    nas__ctrl_t *c = &e->ctrl;
    float *alpha = nas__plan_alphas(os->plan, NULL);
    nas_status_t st = draw(e, e->arch, true, os->errmsg);
    if (st != NAS_OK)
        return st;
    nas__ctrl_begin(c);
    for (uint32_t d = 0; d < e->num_dims; d++) {
        if (e->choice[d] == NAS__CTRL_NONE)
            continue;
        const double *p = nas__ctrl_step(c, d);
        nas__ctrl_choose(c, e->choice[d]);
        for (uint32_t m = 0; m < os->map->num_mixed; m++) {
            const nas__mixed_map_t *mm = &os->map->mixed[m];
            if (mm->role == NAS__MIXED_CELL_PICK || mm->dim != (int32_t)d || mm->n_paths != c->ncat[d])
                continue;
            for (uint32_t k = 0; k < mm->n_paths; k++)
                alpha[os->alpha_off[m] + k] = (float)(p[k] > 0.0 ? fmax(log(p[k]), LOG_FLOOR) : LOG_FLOOR);
        }
    }
    return NAS_OK;
}

/* One sample's contribution: reward, baseline, gradient; its entropy into *ent. */
static void learn(enas_t *e, double reward, double *ent)
{
    nas__ctrl_t *c = &e->ctrl;
    if (!e->have_baseline) {
        e->baseline = reward;
        e->have_baseline = true;
    }
    double adv = reward - e->baseline;
    e->baseline = e->decay * e->baseline + (1.0 - e->decay) * reward;
    *ent = -nas__ctrl_loss(c, e->choice, 0.0, 1.0, NULL);
    nas__ctrl_loss(c, e->choice, adv, e->entropy, c->grad);
}

/* After each epoch: controller_steps REINFORCE samples on validation batches, then the log line. */
static nas_status_t enas_epoch_end(nas__oneshot_t *os, void *user, uint32_t epoch)
{
    enas_t *e = user;
    nas__ctrl_t *c = &e->ctrl;
    double sum_r = 0.0, sum_h = 0.0;
    int64_t n = 0, acc = 0;
    nas_status_t st = NAS_OK;
    for (; n < e->steps; n++) {
        bool stop = false;
        int64_t correct = 0;
        double h = 0.0, reward;
        if ((st = poll_stop(os, "the controller's training", &stop)) != NAS_OK || stop)
            break;
        if ((st = draw(e, e->arch, false, os->errmsg)) != NAS_OK || (st = set_paths(e, os, e->arch)) != NAS_OK ||
            (st = nas__oneshot_next_val(os)) != NAS_OK || (st = score(os, &correct)) != NAS_OK)
            break;
        reward = (double)correct / (double)os->batch;
        learn(e, reward, &h);
        sum_r += reward;
        sum_h += h;
        if (++acc == e->batch) {
            nas__ctrl_adam(c, e->lr, 1.0 / (double)acc);
            acc = 0;
        }
    }
    if (acc > 0 && st == NAS_OK)
        nas__ctrl_adam(c, e->lr, 1.0 / (double)acc);
    if (st != NAS_OK)
        return st;
    if ((st = policy_to_alphas(e, os)) != NAS_OK || n == 0)
        return st;   /* no sample (the budget ended the supernet phase): no line */
    char arch[4096] = "-", what[4096 + 256];
    if (nas_arch_to_string(e->arch, 0, arch, sizeof arch, NULL) != NAS_OK)
        snprintf(arch, sizeof arch, "-");
    double dn = (double)n;
    snprintf(what, sizeof what, "enas controller %u/%u: reward %.4f entropy %.4f baseline %.4f greedy %s",
             (unsigned)epoch + 1, (unsigned)os->cfg->epochs, sum_r / dn, sum_h / dn, e->baseline, arch);
    nas_run_report(os->run, what);
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Derive                                                                  */

/* The candidates (greedy first, then samples without repeats) into cand (num_dims each); their count.
 * Equal sequences give equal architectures (inactive decisions are not steps). */
static nas_status_t candidates(enas_t *e, nas__oneshot_t *os, uint32_t *cand, uint32_t *count)
{
    size_t row = e->num_dims * sizeof *e->choice;
    *count = 0;
    for (int64_t i = 0; i <= e->derive_samples; i++) {
        nas_status_t st = draw(e, e->arch, i == 0, os->errmsg);
        if (st != NAS_OK)
            return st;
        uint32_t j = 0;
        while (j < *count && memcmp(cand + (size_t)j * e->num_dims, e->choice, row) != 0)
            j++;
        if (j == *count)
            memcpy(cand + (size_t)(*count)++ * e->num_dims, e->choice, row);
    }
    return NAS_OK;
}

/* Score every candidate on the same validation batches; the best into arch. */
static nas_status_t enas_derive(nas__oneshot_t *os, void *user, nas_arch_t *arch)
{
    enas_t *e = user;
    size_t nc = (size_t)e->derive_samples + 1, nd = e->num_dims ? e->num_dims : 1;
    uint32_t *cand = nas__calloc(e->ctx, nc * nd, sizeof *cand);
    int64_t *correct = nas__calloc(e->ctx, nc, sizeof *correct);
    uint32_t count = 0, best = 0;
    int64_t batches = 0;
    nas_status_t st = NAS_OK;
    if (!cand || !correct) {
        st = nas__fail(os->errmsg, NAS_E_NOMEM, "enas: out of memory");
        goto out_free;
    }
    if ((st = candidates(e, os, cand, &count)) != NAS_OK)
        goto out_free;
    for (; batches < e->derive_batches && count > 1; batches++) {
        bool stop = false;   /* a spent budget does not cut the derive short: the retrain follows anyway */
        if ((st = poll_stop(os, "the derive", &stop)) != NAS_OK || (st = nas__oneshot_next_val(os)) != NAS_OK)
            break;
        for (uint32_t i = 0; i < count && st == NAS_OK; i++) {
            int64_t k = 0;
            if ((st = replay(e, e->arch, cand + (size_t)i * e->num_dims, os->errmsg)) == NAS_OK &&
                (st = set_paths(e, os, e->arch)) == NAS_OK && (st = score(os, &k)) == NAS_OK)
                correct[i] += k;
        }
        if (st != NAS_OK)
            break;
    }
    if (st != NAS_OK)
        goto out_free;
    for (uint32_t i = 1; i < count; i++)
        best = correct[i] > correct[best] ? i : best;
    if ((st = replay(e, arch, cand + (size_t)best * e->num_dims, os->errmsg)) != NAS_OK)
        goto out_free;
    char buf[4096] = "-", what[4096 + 256];
    if (nas_arch_to_string(arch, 0, buf, sizeof buf, NULL) != NAS_OK)
        snprintf(buf, sizeof buf, "-");
    double acc = batches > 0 ? 100.0 * (double)correct[best] / ((double)batches * os->batch) : NAN;
    snprintf(what, sizeof what, "enas derive: %u candidates, best accuracy %.2f on %lld validation batches: %s",
             (unsigned)count, acc, (long long)batches, buf);
    nas_run_report(os->run, what);
out_free:
    nas__free(e->ctx, correct);
    nas__free(e->ctx, cand);
    return st;
}

/* ---------------------------------------------------------------------- */
/* Parameters                                                              */

static nas_status_t read_params(nas_searcher_t *self, enas_t *e, const nas_params_t *params)
{
    const char *ctrl = "lstm";
    nas_status_t st = nas_params_get_string(params, "controller", &ctrl);
    if (st != NAS_OK && st != NAS_E_NOT_FOUND) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
        return st;
    }
    if (strcmp(ctrl, "independent") == 0)
        e->kind = NAS__CTRL_INDEPENDENT;
    else if (strcmp(ctrl, "lstm") == 0)
        e->kind = NAS__CTRL_LSTM;
    else
        return nas__search_fail(self, NAS_E_INVAL,
                                "parameter 'controller' must be 'independent' or 'lstm' (got '%.100s')", ctrl);
    double lr_def = e->kind == NAS__CTRL_LSTM ? 0.0035 : 0.05;
    if ((st = nas__search_param_int(self, params, "controller_hidden", 64, 1, NAS__CTRL_MAX_HIDDEN, &e->hidden)) !=
            NAS_OK ||
        (st = nas__search_param_double(self, params, "controller_lr", lr_def, 0.0, 10.0, 1, &e->lr)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "controller_steps", 50, 1, MAX_COUNT, &e->steps)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "controller_batch", 1, 1, MAX_COUNT, &e->batch)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "entropy", 1e-4, 0.0, 100.0, 0, &e->entropy)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "temperature", 1.0, 0.0, 1e6, 1, &e->temperature)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "tanh_constant", 0.0, 0.0, 1e6, 0, &e->tanh_c)) != NAS_OK ||
        (st = nas__search_param_double(self, params, "baseline_decay", 0.95, 0.0, 1.0, 2, &e->decay)) != NAS_OK ||
        (st = nas__search_param_int(self, params, "derive_samples", 10, 0, MAX_DERIVE, &e->derive_samples)) !=
            NAS_OK ||
        (st = nas__search_param_int(self, params, "derive_batches", 4, 1, MAX_DERIVE, &e->derive_batches)) != NAS_OK)
        return st;
    return NAS_OK;
}

/* The policy's steps: architecture decisions (op, inputs, depth) with a choice to make. */
static nas_status_t setup_controller(nas_searcher_t *self, enas_t *e)
{
    nas_space_t *space = nas_searcher_space(self);
    uint32_t *ncat = nas__calloc(e->ctx, e->num_dims ? e->num_dims : 1, sizeof *ncat);
    if (!ncat)
        return nas__search_fail(self, NAS_E_NOMEM, "out of memory");
    nas_status_t st = NAS_OK;
    for (uint32_t d = 0; d < e->num_dims && st == NAS_OK; d++) {
        nas_dim_info_t info = { .struct_size = sizeof info };
        if ((st = nas_space_dim_info(space, d, &info)) != NAS_OK)
            break;
        bool arch = info.role == NAS_ROLE_OP || info.role == NAS_ROLE_INPUTS || info.role == NAS_ROLE_DEPTH;
        e->step[d] = arch && info.kind != NAS_DIM_FLOAT && info.num_choices > 1;
        ncat[d] = e->step[d] ? info.num_choices : 0;
    }
    nas_rng_t *init = NULL;
    if (st != NAS_OK || (st = nas_rng_create(&init, e->ctx, nas__searcher_seed(self), INIT_STREAM)) != NAS_OK) {
        nas__free(e->ctx, ncat);
        return nas__search_failed(self, st, "setting up the decisions of the space");
    }
    st = nas__ctrl_init(&e->ctrl, e->ctx, e->kind, e->num_dims, ncat, (uint32_t)e->hidden, init);
    e->ctrl.temperature = e->temperature;
    e->ctrl.tanh_c = e->tanh_c;
    nas_rng_destroy(init);
    nas__free(e->ctx, ncat);
    if (st == NAS_E_RANGE)
        return nas__search_fail(self, st, "the controller would have more than 2^24 parameters "
                                          "(a smaller controller_hidden)");
    return st == NAS_OK ? NAS_OK : nas__search_fail(self, st, "out of memory creating the controller");
}

static nas_status_t enas_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas_searcher_context(self);
    nas_space_t *space = nas_searcher_space(self);
    enas_t *e = nas__calloc(ctx, 1, sizeof *e);
    if (!e)
        return NAS_E_NOMEM;
    *state = e;
    e->ctx = ctx;
    e->rng = nas_searcher_rng(self);
    nas__oneshot_cfg_t *c = &e->cfg;
    c->name = "enas";
    c->mode = NAS__MIXED_SINGLE;
    c->epochs = 10;
    c->batch_size = 64;
    c->w_lr = 0.05;
    c->w_lr_min = 0.0005;
    c->w_momentum = 0.9;
    c->w_wd = 1e-4;
    c->w_clip = 5.0;
    c->arch_lr = 3e-4;          /* unused: no architecture step */
    c->arch_beta1 = 0.5;
    c->arch_beta2 = 0.999;
    c->alpha_init_std = 0.0;    /* the logged weights start uniform, as the independent policy */
    c->max_skip = UINT32_MAX;
    c->user = e;
    c->no_arch_step = true;
    c->sample = enas_sample;
    c->epoch_end = enas_epoch_end;
    c->derive = enas_derive;
    nas_status_t st;
    if ((st = nas__oneshot_refuse_arch_params(self, params, "enas")) != NAS_OK ||
        (st = nas__oneshot_params(self, params, c, &e->alphas_path)) != NAS_OK ||
        (st = read_params(self, e, params)) != NAS_OK)
        return st;
    e->num_dims = nas_space_num_dims(space);
    size_t nd = e->num_dims ? e->num_dims : 1;
    e->step = nas__calloc(ctx, nd, sizeof *e->step);
    e->choice = nas__calloc(ctx, nd, sizeof *e->choice);
    if (!e->step || !e->choice || nas_arch_create(&e->tmpl, space) != NAS_OK ||
        nas_arch_create(&e->arch, space) != NAS_OK)
        return nas__search_fail(self, NAS_E_NOMEM, "out of memory");
    return setup_controller(self, e);
}

static const nas_searcher_vtable_t enas_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_searcher_vtable_t),
    .name = "enas",
    .description = "ENAS: single-path supernet trained on architectures sampled by a REINFORCE controller "
                   "rewarded with their shared-weights validation accuracy, derive and retrain; needs the "
                   "train evaluator (params: epochs, controller, controller_lr, controller_steps, ...)",
    .create = enas_create,
    .destroy = enas_destroy,
    .ask = nas__oneshot_ask,
    .tell = nas__search_tell_nothing,
    .user_data = NULL,
    .save = NULL,
    .load = NULL,
    .run = nas__oneshot_run_hook,
};

nas_status_t nas__register_enas(nas_context_t *ctx)
{
    return nas_context_register_searcher(ctx, &enas_vtable);
}
