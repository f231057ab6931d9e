/*
 * The "reinforce" strategy and its controller: the LSTM's forward pass against a plain reference,
 * gradients against finite differences, learning on toy spaces (categorical, binned INT and FLOAT,
 * conditional), NAS-Bench-201 against random search, repeats and exhaustion, save/load
 * equivalence, damaged states, bad parameters, out of memory.
 */
#include "testutil.h"
#include "search/search_internal.h"
#include "search/controller.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A searcher of strategy `name` with parameters kv ("k=v k=v", NULL: none). */
static nas_searcher_t *make_named(nas_space_t *space, const char *name, uint64_t seed, const char *objectives,
                                  const char *kv)
{
    nas_context_t *ctx = nas__space_context(space);
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", kv ? kv : "");
    for (char *tok = strtok(buf, " "), *eq; tok; tok = strtok(NULL, " ")) {
        assert_non_null(eq = strchr(tok, '='));
        *eq = '\0';
        assert_int_equal(nas_params_set(p, tok, eq + 1), NAS_OK);
    }
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    o.seed = seed;
    o.objectives = objectives;
    nas_searcher_t *s = NULL;
    if (nas_searcher_create(&s, space, name, p, &o) != NAS_OK)
        fail_msg("%s %s: %s", name, kv ? kv : "", nas_context_errmsg(ctx));
    nas_params_destroy(p);
    return s;
}

static nas_searcher_t *make(nas_space_t *space, uint64_t seed, const char *objectives, const char *kv)
{
    return make_named(space, "reinforce", seed, objectives, kv);
}

/* A space of n categorical hyperparameters with k options each. */
static nas_space_t *cat_space(nas_context_t *ctx, uint32_t n, uint32_t k)
{
    static const char *const labels[] = { "a", "b", "c", "d", "e", "f", "g", "h" };
    nas_space_t *s = NULL;
    assert_int_equal(nas_space_create(&s, ctx, "toy"), NAS_OK);
    for (uint32_t d = 0; d < n; d++) {
        char name[16];
        snprintf(name, sizeof name, "x%u", (unsigned)d);
        nas_hparam_spec_t h = { sizeof h, name, NAS_DIM_CATEGORICAL, 0, 0, false, labels, k, 0 };
        assert_int_equal(nas_space_add_hparam(s, &h), NAS_OK);
    }
    assert_int_equal(nas_space_build(s), NAS_OK);
    return s;
}

/* ---------------------------------------------------------------------- */
/* Controller                                                              */

static double sig(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* The LSTM written out plainly: probabilities of every step of a sequence, into ref. */
static void lstm_reference(const nas__ctrl_t *c, const uint32_t *choice, double *ref)
{
    size_t H = c->hidden, out = 0;
    double h[NAS__CTRL_MAX_HIDDEN] = { 0 }, cell[NAS__CTRL_MAX_HIDDEN] = { 0 }, x[NAS__CTRL_MAX_HIDDEN];
    const double *th = c->theta;
    memcpy(x, th + c->off_start, H * sizeof *x);
    for (uint32_t d = 0; d < c->num_dims; d++) {
        if (choice[d] == NAS__CTRL_NONE)
            continue;
        double a[4 * NAS__CTRL_MAX_HIDDEN], z[16], sum = 0.0;
        for (size_t r = 0; r < 4 * H; r++) {
            a[r] = th[c->off_b + r];
            for (size_t k = 0; k < H; k++)
                a[r] += th[c->off_w + r * 2 * H + k] * x[k] + th[c->off_w + r * 2 * H + H + k] * h[k];
        }
        for (size_t k = 0; k < H; k++) {
            cell[k] = sig(a[H + k]) * cell[k] + sig(a[k]) * tanh(a[2 * H + k]);
            h[k] = sig(a[3 * H + k]) * tanh(cell[k]);
        }
        uint32_t n = c->ncat[d];
        for (uint32_t j = 0; j < n; j++) {
            z[j] = th[c->off_head[d] + n * H + j];
            for (size_t k = 0; k < H; k++)
                z[j] += th[c->off_head[d] + j * H + k] * h[k];
            z[j] = c->tanh_c > 0.0 ? c->tanh_c * tanh(z[j] / c->temperature) : z[j] / c->temperature;
            sum += exp(z[j]);
        }
        for (uint32_t j = 0; j < n; j++)
            ref[out++] = exp(z[j]) / sum;
        memcpy(x, th + c->off_emb[d] + choice[d] * H, H * sizeof *x);
    }
}

/* Run a sequence step by step and compare every probability with the reference. */
static void check_forward(nas__ctrl_t *c, const uint32_t *choice)
{
    double ref[64];
    lstm_reference(c, choice, ref);
    nas__ctrl_begin(c);
    size_t at = 0;
    for (uint32_t d = 0; d < c->num_dims; d++) {
        if (choice[d] == NAS__CTRL_NONE)
            continue;
        const double *p = nas__ctrl_step(c, d);
        for (uint32_t j = 0; j < c->ncat[d]; j++, at++)
            if (fabs(p[j] - ref[at]) > 1e-12)
                fail_msg("decision %u option %u: %.15g, reference %.15g", (unsigned)d, (unsigned)j, p[j], ref[at]);
        nas__ctrl_choose(c, choice[d]);
    }
}

/* temperature and tanh_c: the logit shaping (1 and 0: none). */
static void check_controller(nas_context_t *ctx, nas_rng_t *rng, int kind, double temperature, double tanh_c)
{
    const uint32_t ncat[6] = { 3, 5, 0, 2, 4, 3 };
    uint32_t choice[6] = { 2, 4, NAS__CTRL_NONE, 1, NAS__CTRL_NONE, 0 };
    nas__ctrl_t c;
    assert_int_equal(nas__ctrl_init(&c, ctx, kind, 6, ncat, 5, rng), NAS_OK);
    c.temperature = temperature;
    c.tanh_c = tanh_c;
    unsigned seed = 7;
    for (size_t i = 0; i < c.num_params; i++)
        c.theta[i] = 0.8 * (2.0 * rand_r(&seed) / RAND_MAX - 1.0);
    nas__ctrl_invalidate(&c);
    if (kind == NAS__CTRL_LSTM) {
        /* The plain formulas, for sequences sharing prefixes with earlier ones (kept steps are
         * reused) and for enough of them that the kept steps get dropped. */
        for (int n = 0; n < 800; n++) {
            uint32_t other[6];
            for (uint32_t d = 0; d < 6; d++)
                other[d] = ncat[d] && rand_r(&seed) % 4 ? (uint32_t)rand_r(&seed) % ncat[d] : NAS__CTRL_NONE;
            check_forward(&c, n % 2 ? choice : other);
        }
    }
    /* Gradient against central differences for every parameter, entropy bonus included. */
    const double adv = 1.7, ent = 0.3, h = 1e-6;
    memset(c.grad, 0, c.num_params * sizeof *c.grad);
    nas__ctrl_loss(&c, choice, adv, ent, c.grad);
    double worst = 0.0;
    size_t nonzero = 0;
    for (size_t i = 0; i < c.num_params; i++) {
        double keep = c.theta[i], l[2];
        for (int side = 0; side < 2; side++) {
            c.theta[i] = keep + (side ? -h : h);
            nas__ctrl_invalidate(&c);
            l[side] = nas__ctrl_loss(&c, choice, adv, ent, NULL);
        }
        c.theta[i] = keep;
        double num = (l[0] - l[1]) / (2 * h), err = fabs(num - c.grad[i]) / fmax(1.0, fabs(num));
        worst = fmax(worst, err);
        nonzero += c.grad[i] != 0.0;
        if (err > 1e-6)
            fail_msg("controller %d: parameter %zu: analytic %.10g, numeric %.10g", kind, i, c.grad[i], num);
    }
    printf("controller %s (temperature %g, tanh %g): %zu parameters, %zu with a gradient, worst relative error "
           "%.2e\n", kind == NAS__CTRL_LSTM ? "lstm" : "independent", temperature, tanh_c, c.num_params, nonzero,
           worst);
    assert_true(nonzero > c.num_params / 3);
    nas__ctrl_free(&c);
}

static void test_controller(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 5, 0), NAS_OK);
    for (int kind = NAS__CTRL_INDEPENDENT; kind <= NAS__CTRL_LSTM; kind++) {
        check_controller(ctx, rng, kind, 1.0, 0.0);
        check_controller(ctx, rng, kind, 5.0, 2.5);   /* ENAS's shaping */
        check_controller(ctx, rng, kind, 0.5, 0.0);   /* a temperature alone */
    }
    nas__ctrl_t c;   /* over the size limit */
    uint32_t wide[2] = { 256, 256 };
    assert_int_equal(nas__ctrl_init(&c, ctx, NAS__CTRL_LSTM, 2, wide, NAS__CTRL_MAX_HIDDEN + 1, rng), NAS_E_RANGE);
    nas__ctrl_free(&c);
    nas_rng_destroy(rng);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Asking and telling                                                      */

/* Reward of an arch (metric "r"; NaN: the trial fails); *hit says whether it is a best one. */
typedef double (*reward_fn)(const nas_arch_t *a, bool *hit);

/* A searcher with three trials outstanding at a time, told back in the order 2, 0, 1. */
typedef struct trio {
    nas_searcher_t *s;
    nas_candidate_t c[3];
    nas_result_t *res;
    reward_fn f;
    bool fail;          /* every 7th trial fails */
    uint32_t hits;      /* best archs asked since last reset */
} trio_t;

static void trio_init(trio_t *t, nas_searcher_t *s, reward_fn f, bool fail)
{
    memset(t, 0, sizeof *t);
    t->s = s;
    t->f = f;
    t->fail = fail;
    for (int i = 0; i < 3; i++) {
        t->c[i] = (nas_candidate_t)NAS_CANDIDATE_INIT;
        assert_int_equal(nas_arch_create(&t->c[i].arch, nas_searcher_space(s)), NAS_OK);
    }
    assert_int_equal(nas_result_create(&t->res, nas_searcher_context(s)), NAS_OK);
}

static void trio_free(trio_t *t)
{
    for (int i = 0; i < 3; i++)
        nas_arch_destroy(t->c[i].arch);
    nas_result_destroy(t->res);
    nas_searcher_destroy(t->s);
}

/* One round: three asks (their strings into out unless NULL), then three tells. */
static void trio_round(trio_t *t, char (*out)[256])
{
    for (int i = 0; i < 3; i++) {
        assert_int_equal(nas_searcher_ask(t->s, &t->c[i]), NAS_OK);
        if (out)
            assert_int_equal(nas_arch_to_string(t->c[i].arch, 0, out[i], 256, NULL), NAS_OK);
    }
    for (int j = 0; j < 3; j++) {
        nas_candidate_t *c = &t->c[(j + 2) % 3];
        bool hit;
        double r = t->f(c->arch, &hit);
        nas_result_clear(t->res);
        assert_int_equal(nas_result_set_metric(t->res, "r", r), NAS_OK);
        if (isnan(r) || (t->fail && c->trial_id % 7 == 3))
            assert_int_equal(nas_result_set_status(t->res, NAS_E_DIVERGED, "boom"), NAS_OK);
        t->hits += hit;
        assert_int_equal(nas_searcher_tell(t->s, c, t->res), NAS_OK);
    }
}

/* Run `rounds` rounds; the share of best archs among the asks of the last 66 rounds. */
static double learn(nas_space_t *space, const char *kv, uint32_t rounds, reward_fn f)
{
    trio_t t;
    trio_init(&t, make(space, 11, "r:max", kv), f, false);
    for (uint32_t r = 0; r < rounds; r++) {
        if (r + 66 == rounds)
            t.hits = 0;
        trio_round(&t, NULL);
    }
    trio_free(&t);
    return t.hits / 198.0;
}

/* Reward: number of decisions equal to the target (d mod 4). */
static double toy_reward(const nas_arch_t *a, bool *hit)
{
    uint32_t n = nas_space_num_dims(nas_arch_space(a)), hits = 0, k;
    for (uint32_t d = 0; d < n; d++) {
        assert_int_equal(nas_arch_get(a, d, &k), NAS_OK);
        hits += k == d % 4;
    }
    *hit = hits == n;
    return hits;
}

/* 8 decisions of 4 options. With unique=false the policy's own draws are proposed, so the share
 * of the target estimates its probability. */
static void check_toy(nas_context_t *ctx)
{
    nas_space_t *space = cat_space(ctx, 8, 4);
    double ind = learn(space, "unique=false", 334, toy_reward);
    double lstm = learn(space, "unique=false controller=lstm", 334, toy_reward);
    double flat = learn(space, "unique=false lr=1e-9", 334, toy_reward);   /* the target is 4^-8 */
    double batch = learn(space, "unique=false batch=4 lr=0.1 normalize=true", 334, toy_reward);
    printf("toy: share of the target in the last 198 of 1002 asks: independent %.3f, lstm %.3f, lr=1e-9 %.3f, "
           "batch=4 %.3f\n", ind, lstm, flat, batch);
    assert_true(ind > 0.9);
    assert_true(lstm > 0.9);
    assert_true(flat < 0.05);
    assert_true(batch > 0.9);
    nas_space_destroy(space);
}

/* Reward peaking at n = 750 in [0, 999] (binned INT), lr = 0.25 in [1e-4, 1] (binned, log scale)
 * and k = 3 in [1, 10] (small INT); best: the bins [700, 800) and [0.158, 0.398) with k = 3. */
static double bins_reward(const nas_arch_t *a, bool *hit)
{
    double n, lr, k;
    assert_int_equal(nas_arch_get_value(a, 0, &n), NAS_OK);
    assert_int_equal(nas_arch_get_value(a, 1, &lr), NAS_OK);
    assert_int_equal(nas_arch_get_value(a, 2, &k), NAS_OK);
    assert_true(n >= 0 && n <= 999 && n == floor(n) && lr >= 1e-4 && lr <= 1 && k >= 1 && k <= 10 && k == floor(k));
    *hit = n >= 700 && n < 800 && lr >= 0.158 && lr < 0.398 && k == 3;
    return -fabs(n - 750) / 100 - fabs(log10(lr) - log10(0.25)) * 2.5 - fabs(k - 3);
}

static void check_bins(nas_context_t *ctx)
{
    nas_space_t *space = NULL;
    assert_int_equal(nas_space_create(&space, ctx, "mixed"), NAS_OK);
    nas_hparam_spec_t n = { sizeof n, "n", NAS_DIM_INT, 0, 999, false, NULL, 0, 0 };
    nas_hparam_spec_t lr = { sizeof lr, "lr", NAS_DIM_FLOAT, 1e-4, 1, true, NULL, 0, 0 };
    nas_hparam_spec_t k = { sizeof k, "k", NAS_DIM_INT, 1, 10, false, NULL, 0, 0 };
    assert_int_equal(nas_space_add_hparam(space, &n), NAS_OK);
    assert_int_equal(nas_space_add_hparam(space, &lr), NAS_OK);
    assert_int_equal(nas_space_add_hparam(space, &k), NAS_OK);
    assert_int_equal(nas_space_build(space), NAS_OK);
    /* Without an entropy bonus either policy can settle early in a bin next to the best one. */
    double ind = learn(space, "bins=10 entropy=0.05", 400, bins_reward);
    double lstm = learn(space, "bins=10 entropy=0.05 controller=lstm", 400, bins_reward);
    printf("bins: share of the best bins in the last 198 of 1200 asks: independent %.3f, lstm %.3f (uniform 0.001)\n",
           ind, lstm);
    assert_true(ind > 0.5);
    assert_true(lstm > 0.5);
    nas_space_destroy(space);
}

/* A chain with conditional layers; reward: layers of stage 1 using mb7_e6 (best 4: depth 4, all mb7_e6). */
static double chain_reward(const nas_arch_t *a, bool *hit)
{
    char str[1024];
    assert_int_equal(nas_arch_to_string(a, 0, str, sizeof str, NULL), NAS_OK);
    char *stage = strchr(str, ':'), *end = stage ? strchr(stage, '|') : NULL;   /* "width=..:ops|ops|..." */
    assert_non_null(end);
    *end = '\0';
    double r = 0;
    for (char *p = strstr(stage, "mb7_e6"); p; p = strstr(p + 1, "mb7_e6"))
        r++;
    *hit = r == 4;
    return r;
}

/* Nothing changes before `batch` results are in: the first 2 rounds (6 asks) equal those of a
 * searcher that never takes a step, the third (after the step) does not. */
static void check_batch(nas_context_t *ctx)
{
    nas_space_t *space = cat_space(ctx, 8, 4);
    trio_t a, b;
    trio_init(&a, make(space, 5, "r:max", "unique=false batch=6 lr=1"), toy_reward, false);
    trio_init(&b, make(space, 5, "r:max", "unique=false batch=1000000 lr=1"), toy_reward, false);
    int differ = 0;
    for (int r = 0; r < 3; r++) {
        char x[3][256], y[3][256];
        trio_round(&a, x);
        trio_round(&b, y);
        for (int i = 0; i < 3; i++)
            differ += r < 2 ? 100 * (strcmp(x[i], y[i]) != 0) : strcmp(x[i], y[i]) != 0;
    }
    assert_true(differ > 0 && differ < 100);
    trio_free(&a);
    trio_free(&b);
    nas_space_destroy(space);
}

/* One decision: option 0 scores -5, option 1 -10, option 2 fails. */
static double fail_reward(const nas_arch_t *a, bool *hit)
{
    uint32_t k;
    assert_int_equal(nas_arch_get(a, 0, &k), NAS_OK);
    *hit = k == 2;
    return k == 0 ? -5 : k == 1 ? -10 : NAN;
}

static void test_learns(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    check_toy(ctx);
    check_bins(ctx);
    check_batch(ctx);
    /* A failure counts as the worst reward so far (-10 here, not 0), or as failure_reward. */
    nas_space_t *space = cat_space(ctx, 1, 3);
    double worst = learn(space, "unique=false", 100, fail_reward);
    double high = learn(space, "unique=false failure_reward=100", 100, fail_reward);
    printf("failures: share of the failing option in the last 198 of 300 asks: %.3f, failure_reward=100 %.3f\n",
           worst, high);
    assert_true(worst < 0.1 && high > 0.9);
    nas_space_destroy(space);
    space = NULL;
    assert_int_equal(nas_space_load_file(&space, ctx, tu_src_path("spaces/mobile-depth-width.yaml")), NAS_OK);
    double ind = learn(space, NULL, 134, chain_reward), lstm = learn(space, "controller=lstm", 134, chain_reward);
    printf("conditional: share of the best stage in the last 198 of 402 asks: independent %.3f, lstm %.3f "
           "(uniform 1/3888)\n", ind, lstm);
    assert_true(ind > 0.5);
    assert_true(lstm > 0.5);
    /* ENAS's logit shaping: the tanh bounds each decision's logits to +-2.5, so no option's share can
     * pass e^2.5 / (e^2.5 + (n - 1) e^-2.5) and the policy keeps exploring; it still learns the stage. */
    double shaped = learn(space, "controller=lstm temperature=5 tanh_constant=2.5", 134, chain_reward);
    printf("conditional, shaped logits (temperature 5, tanh 2.5): share of the best stage %.3f\n", shaped);
    assert_true(shaped > 0.3);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

/* Best test_acc of a 300-query run of `name` on the NAS-Bench-201 table; adds the run's seconds to *secs. */
static double nb201_best(nas_space_t *space, nas_evaluator_t *ev, const char *name, const char *kv, uint64_t seed,
                         double *secs)
{
    nas_searcher_t *s = make_named(space, name, seed, "test_acc:max", kv);
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 300;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, s, ev, &ro), NAS_OK);
    assert_int_equal(nas_run_execute(run), NAS_OK);
    assert_int_equal(nas_run_num_trials(run), 300);
    uint64_t best, id;
    const char *arch;
    const nas_result_t *res;
    double v;
    assert_int_equal(nas_run_best(run, &best), NAS_OK);
    assert_int_equal(nas_run_trial(run, best, &id, &arch, &res), NAS_OK);
    assert_int_equal(nas_result_get_metric(res, "test_acc", &v), NAS_OK);
    *secs += nas_run_elapsed(run);
    nas_run_destroy(run);
    nas_searcher_destroy(s);
    return v;
}

static void test_nb201(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = NULL;
    assert_int_equal(nas_space_load_file(&space, ctx, tu_src_path("spaces/nas-bench-201.yaml")), NAS_OK);
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
    assert_int_equal(nas_params_set(p, "path", tu_src_path("data/nb201/cifar10_test.csv")), NAS_OK);
    nas_evaluator_t *ev = NULL;
    assert_int_equal(nas_evaluator_create(&ev, space, "table", p), NAS_OK);
    nas_params_destroy(p);
    enum { SEEDS = 30 };
    double rl = 0, lstm = 0, rnd = 0, rl2 = 0, rnd2 = 0, t[3] = { 0, 0, 0 };
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        double a = nb201_best(space, ev, "reinforce", NULL, seed, &t[0]);
        double b = nb201_best(space, ev, "random", NULL, seed, &t[2]);
        rl += a / SEEDS;
        rl2 += a * a / SEEDS;
        rnd += b / SEEDS;
        rnd2 += b * b / SEEDS;
        lstm += nb201_best(space, ev, "reinforce", "controller=lstm", seed, &t[1]) / SEEDS;
    }
    printf("NAS-Bench-201, 300 queries, %d seeds, mean best test_acc: reinforce %.3f (sd %.3f), "
           "reinforce lstm %.3f, random %.3f (sd %.3f)\n", SEEDS, rl, sqrt(fmax(rl2 - rl * rl, 0)), lstm, rnd,
           sqrt(fmax(rnd2 - rnd * rnd, 0)));
    printf("  wall time per trial, table lookup included: reinforce %.1f us, lstm %.1f us, random %.1f us\n",
           t[0] / SEEDS / 300 * 1e6, t[1] / SEEDS / 300 * 1e6, t[2] / SEEDS / 300 * 1e6);
    /* The published REINFORCE beats random search on NB201; here the reward is the reported metric
     * itself, and with 30 seeds the standard error of each mean is near 0.03. */
    assert_true(rl >= rnd + 0.1);
    assert_true(lstm >= rnd + 0.1);
    nas_evaluator_destroy(ev);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

/* 81 archs, a policy that converges at once, one policy draw per ask: the fallbacks still give
 * every arch exactly once, then NAS_E_EXHAUSTED. */
static void test_exhausts(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = cat_space(ctx, 4, 3);
    static char seen[81][256];
    for (int kind = 0; kind < 2; kind++) {
        trio_t t;
        trio_init(&t, make(space, 9, "r:max", kind ? "controller=lstm lr=0.5 max_retries=1" : "lr=1 max_retries=1"),
                  toy_reward, true);
        for (int r = 0; r < 27; r++)
            trio_round(&t, &seen[3 * r]);
        for (int i = 0; i < 81; i++)
            for (int j = 0; j < i; j++)
                assert_string_not_equal(seen[i], seen[j]);
        assert_int_equal(nas_searcher_ask(t.s, &t.c[0]), NAS_E_EXHAUSTED);
        assert_non_null(strstr(nas_searcher_errmsg(t.s), "81"));
        trio_free(&t);
    }
    nas_space_destroy(space);
    space = cat_space(ctx, 2, 1);   /* nothing to choose: no step at all, one arch */
    nas_searcher_t *s = make(space, 9, "r:max", "controller=lstm");
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    assert_int_equal(nas_arch_create(&c.arch, space), NAS_OK);
    assert_int_equal(nas_searcher_ask(s, &c), NAS_OK);
    assert_int_equal(nas_searcher_ask(s, &c), NAS_E_EXHAUSTED);
    nas_arch_destroy(c.arch);
    nas_searcher_destroy(s);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Save and load                                                           */

static unsigned char *save(nas_searcher_t *s, size_t *len)
{
    assert_int_equal(nas_searcher_save(s, NULL, 0, len), NAS_E_RANGE);
    unsigned char *buf = malloc(*len);
    assert_non_null(buf);
    assert_int_equal(nas_searcher_save(s, buf, *len, len), NAS_OK);
    return buf;
}

/* A runs 5 rounds and saves; B loads; then the same 20 rounds give the same asks in both (75 of
 * the 81 archs: repeats are drawn often). */
static void check_save_load(const char *kv)
{
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = cat_space(ctx, 4, 3);
    trio_t a, b;
    trio_init(&a, make(space, 21, "r:max", kv), toy_reward, true);
    char before[15][256], x[3][256], y[3][256];
    for (int r = 0; r < 5; r++)
        trio_round(&a, &before[3 * r]);
    size_t len;
    unsigned char *buf = save(a.s, &len);
    trio_init(&b, make(space, 21, "r:max", kv), toy_reward, true);
    assert_int_equal(nas_searcher_load(b.s, buf, len), NAS_OK);
    assert_int_equal(nas_searcher_num_asked(b.s), 15);
    for (int r = 0; r < 20; r++) {
        trio_round(&a, x);
        trio_round(&b, y);
        for (int i = 0; i < 3; i++) {
            assert_string_equal(x[i], y[i]);
            for (int j = 0; j < 15 && !strstr(kv ? kv : "", "unique=false"); j++)
                assert_string_not_equal(y[i], before[j]);   /* B remembers what A proposed */
        }
    }
    assert_int_equal(nas_searcher_ask(b.s, &b.c[0]), NAS_OK);
    assert_int_equal(nas_searcher_save(b.s, NULL, 0, &len), NAS_E_STATE);   /* a trial is outstanding */
    nas_searcher_t *c = make(space, 22, "r:max", kv);
    assert_int_equal(nas_searcher_load(c, buf, len), NAS_E_INVAL);   /* another seed */
    nas_searcher_destroy(c);
    free(buf);
    trio_free(&a);
    trio_free(&b);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

/* Load `len` bytes into a fresh searcher; on success it must keep working. */
static nas_status_t try_load(nas_space_t *space, const char *kv, const unsigned char *buf, size_t len)
{
    trio_t t;
    trio_init(&t, make(space, 21, "r:max", kv), toy_reward, false);
    nas_status_t st = nas_searcher_load(t.s, buf, len);
    for (int i = 0; i < 3 && st == NAS_OK; i++) {
        nas_status_t a = nas_searcher_ask(t.s, &t.c[0]);
        assert_true(a == NAS_OK || a == NAS_E_EXHAUSTED);
        if (a == NAS_OK)
            assert_int_equal(nas_searcher_tell(t.s, &t.c[0], t.res), NAS_OK);
    }
    trio_free(&t);
    return st;
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Replace the strategy's part of a state (at `at`, after its length) by blob[0..n), with a valid checksum. */
static size_t rebuild(unsigned char *out, const unsigned char *orig, size_t at, const unsigned char *blob, size_t n)
{
    memcpy(out, orig, at);
    memcpy(out + at, blob, n);
    for (int i = 0; i < 8; i++)
        out[at - 8 + (size_t)i] = (unsigned char)((uint64_t)n >> (8 * i));
    uint64_t sum = nas__hash_bytes(out, at + n, 0);
    for (int i = 0; i < 8; i++)
        out[at + n + (size_t)i] = (unsigned char)(sum >> (8 * i));
    return at + n + 8;
}

static void check_damaged(const char *kv)
{
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = cat_space(ctx, 6, 4);
    trio_t a;
    trio_init(&a, make(space, 21, "r:max", kv), toy_reward, true);
    for (int r = 0; r < 3; r++)
        trio_round(&a, NULL);
    size_t len;
    unsigned char *buf = save(a.s, &len);
    trio_free(&a);
    assert_int_equal(try_load(space, kv, buf, len - 1), NAS_E_CORRUPT);   /* the checksum's job */
    unsigned char *junk = malloc(len + 256), *blob = malloc(len);
    assert_true(junk && blob);
    unsigned seed = 99;
    for (size_t i = 0; i < len; i++)
        junk[i] = (unsigned char)rand_r(&seed);
    assert_int_equal(try_load(space, kv, junk, len), NAS_E_CORRUPT);
    size_t at = 0;   /* the strategy's part starts with its tag "RNRL1" */
    for (size_t i = 8; i + 8 <= len && !at; i++)
        if (memcmp(buf + i, "RNRL1\0\0\0", 8) == 0)
            at = i;
    assert_true(at > 0);
    size_t n = len - 8 - at;
    memcpy(blob, buf + at, n);
    assert_int_equal(try_load(space, kv, junk, rebuild(junk, buf, at, blob, n)), NAS_OK);
    /* Every truncation of the strategy's part, re-checksummed, is caught by the strategy. */
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(try_load(space, kv, junk, rebuild(junk, buf, at, blob, cut)), NAS_E_CORRUPT);
    /* An outstanding trial (the API saves none; the format carries them): its choices are checked. */
    const unsigned char *b = buf + at;
    uint64_t np = le64(b + 24), nacc = le64(b + 8 * (5 + 3 * np)), dims = 6;
    size_t off = 8 * (13 + 3 * (size_t)np + (nacc ? (size_t)np : 0));   /* the count of outstanding trials */
    assert_true(off + 8 <= n && le64(b + off) == 0);
    unsigned char *more = malloc(n + 8 * (1 + dims));
    assert_non_null(more);
    memcpy(more, b, off);
    const uint64_t add[8] = { 1, 999, 3, 2, 1, 0, NAS__CTRL_NONE, 3 };   /* 1 trial: its id and choices */
    for (uint64_t i = 0; i < 2 + dims; i++)
        for (int j = 0; j < 8; j++)
            more[off + 8 * i + (size_t)j] = (unsigned char)(add[i] >> (8 * j));
    memcpy(more + off + 8 * (2 + dims), b + off + 8, n - off - 8);
    assert_int_equal(try_load(space, kv, junk, rebuild(junk, buf, at, more, n + 8 * (1 + dims))), NAS_OK);
    more[off + 8 * 3] = 4;   /* option 4 of a decision with 4 */
    assert_int_equal(try_load(space, kv, junk, rebuild(junk, buf, at, more, n + 8 * (1 + dims))), NAS_E_CORRUPT);
    free(more);
    /* Flipped bytes: loaded (a weight changed) or refused, never a crash. */
    uint32_t refused = 0;
    for (int k = 0; k < 1500; k++) {
        memcpy(blob, buf + at, n);
        size_t pos = (size_t)rand_r(&seed) % n;
        blob[pos] = k % 3 ? blob[pos] ^ (unsigned char)(1u << (rand_r(&seed) % 8)) : 0xff;
        nas_status_t st = try_load(space, kv, junk, rebuild(junk, buf, at, blob, n));
        assert_true(st == NAS_OK || st == NAS_E_CORRUPT);
        refused += st == NAS_E_CORRUPT;
    }
    printf("damaged states (%s): %zu-byte strategy part, %u of 1500 flips refused\n", kv, n, refused);
    assert_true(refused > 0);
    free(blob);
    free(junk);
    free(buf);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

static void test_state(void **state)
{
    (void)state;
    check_save_load(NULL);
    check_save_load("batch=2 entropy=0.01 normalize=true");
    check_save_load("controller=lstm batch=2");
    check_save_load("controller=lstm unique=false failure_reward=-3");
    check_damaged("batch=2");
    check_damaged("controller=lstm hidden=3 batch=4");
}

/* ---------------------------------------------------------------------- */
/* Parameters and out of memory                                            */

static void test_bad_params(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = cat_space(ctx, 3, 3);
    static const char *const cases[][3] = {
        { "controller", "gru", "'independent' or 'lstm'" }, { "hidden", "0", "[1, 512]" },
        { "hidden", "513", "[1, 512]" }, { "bins", "1", "[2, 256]" }, { "bins", "300", "[2, 256]" },
        { "batch", "0", "[1, 1000000]" }, { "max_retries", "0", "[1, 10000000]" }, { "lr", "0", "(0, 10]" },
        { "lr", "-1", "(0, 10]" }, { "lr", "11", "(0, 10]" }, { "lr", "abc", "not a number" },
        { "baseline_decay", "1", "[0, 1)" }, { "baseline_decay", "-0.5", "[0, 1)" }, { "entropy", "-1", "[0, 100]" },
        { "temperature", "0", "temperature" }, { "tanh_constant", "-1", "tanh_constant" },
        { "normalize", "maybe", "boolean" }, { "unique", "2", "boolean" }, { "failure_reward", "inf", "finite" },
        { "batch", "1.5", "not an integer" }, { "lstm_size", "3", "unknown parameter" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nas_params_t *p = NULL;
        assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
        assert_int_equal(nas_params_set(p, cases[i][0], cases[i][1]), NAS_OK);
        nas_searcher_t *s = NULL;
        nas_status_t st = nas_searcher_create(&s, space, "reinforce", p, NULL);
        const char *msg = nas_context_errmsg(ctx);
        if (st != NAS_E_INVAL || !strstr(msg, cases[i][0]) || !strstr(msg, cases[i][2]))
            fail_msg("%s=%s: %s: %s", cases[i][0], cases[i][1], nas_status_name(st), msg);
        assert_null(s);
        nas_params_destroy(p);
    }
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

/* Create, ask and tell, save, load into another, ask and tell; any allocation may fail. */
static nas_status_t oom_body(nas_context_t *ctx, void *arg)
{
    static const char *const labels[] = { "a", "b", "c" };
    nas_hparam_spec_t hx = { sizeof hx, "x", NAS_DIM_CATEGORICAL, 0, 0, false, labels, 3, 0 };
    nas_hparam_spec_t hy = { sizeof hy, "y", NAS_DIM_FLOAT, 1e-3, 1, true, NULL, 0, 0 };
    nas_space_t *space = NULL;
    nas_params_t *p = NULL;
    nas_searcher_t *a = NULL, *b = NULL;
    nas_result_t *res = NULL;
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    void *buf = NULL;
    size_t len = 0;
    nas_status_t st;
    if ((st = nas_space_create(&space, ctx, "oom")) != NAS_OK || (st = nas_space_add_hparam(space, &hx)) != NAS_OK ||
        (st = nas_space_add_hparam(space, &hy)) != NAS_OK || (st = nas_space_build(space)) != NAS_OK ||
        (st = nas_params_create(&p, ctx)) != NAS_OK || (st = nas_params_set(p, "controller", arg)) != NAS_OK ||
        (st = nas_params_set(p, "batch", "2")) != NAS_OK ||
        (st = nas_searcher_create(&a, space, "reinforce", p, NULL)) != NAS_OK ||
        (st = nas_arch_create(&c.arch, space)) != NAS_OK || (st = nas_result_create(&res, ctx)) != NAS_OK ||
        (st = nas_result_set_metric(res, "accuracy", 1)) != NAS_OK)
        goto out;
    for (int i = 0; i < 3 && st == NAS_OK; i++)
        if ((st = nas_searcher_ask(a, &c)) == NAS_OK)
            st = nas_searcher_tell(a, &c, res);
    if (st != NAS_OK || (st = nas_searcher_save(a, NULL, 0, &len)) != NAS_E_RANGE)
        goto out;
    assert_non_null(buf = malloc(len));
    if ((st = nas_searcher_save(a, buf, len, &len)) == NAS_OK &&
        (st = nas_searcher_create(&b, space, "reinforce", p, NULL)) == NAS_OK &&
        (st = nas_searcher_load(b, buf, len)) == NAS_OK && (st = nas_searcher_ask(b, &c)) == NAS_OK)
        st = nas_searcher_tell(b, &c, res);
out:
    free(buf);
    nas_result_destroy(res);
    nas_arch_destroy(c.arch);
    nas_searcher_destroy(b);
    nas_searcher_destroy(a);
    nas_params_destroy(p);
    nas_space_destroy(space);
    return st;
}

static void test_oom(void **state)
{
    (void)state;
    tu_oom_sweep(oom_body, "independent");
    tu_oom_sweep(oom_body, "lstm");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_controller),
        cmocka_unit_test(test_learns),
        cmocka_unit_test(test_nb201),
        cmocka_unit_test(test_exhausts),
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
