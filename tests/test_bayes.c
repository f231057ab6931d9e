/* Model-based and multi-fidelity searchers: tpe, sh, hyperband, bohb. */
#include "testutil.h"
#include "search/search_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NB201_SEEDS 30
#define NB201_QUERIES 100

/* A searcher with params given as "key=value" strings (NULL-terminated list, or NULL). */
static nas_status_t try_searcher(nas_searcher_t **out, nas_space_t *space, const char *name, uint64_t seed,
                                 const char *const *kv)
{
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, nas__space_context(space)), NAS_OK);
    for (; kv && *kv; kv++) {
        char key[64];
        const char *eq = strchr(*kv, '=');
        assert_non_null(eq);
        snprintf(key, sizeof key, "%.*s", (int)(eq - *kv), *kv);
        assert_int_equal(nas_params_set(p, key, eq + 1), NAS_OK);
    }
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    o.seed = seed;
    o.objectives = "test_acc:max";
    nas_status_t st = nas_searcher_create(out, space, name, p, &o);
    nas_params_destroy(p);
    return st;
}

static nas_searcher_t *searcher(nas_space_t *space, const char *name, uint64_t seed, const char *const *kv)
{
    nas_searcher_t *s = NULL;
    nas_status_t st = try_searcher(&s, space, name, seed, kv);
    if (st != NAS_OK)
        fail_msg("searcher '%s': %s: %s", name, nas_status_name(st), nas_context_errmsg(nas__space_context(space)));
    return s;
}

/* A uniform number in [0, 1) from an arch and a salt. */
static double unit(const nas_arch_t *a, uint64_t salt)
{
    return (double)(nas__mix64(nas_arch_hash(a) ^ nas__mix64(salt)) >> 11) * 0x1.0p-53;
}

/*
 * The synthetic objective: test_acc from the arch and the fidelity: +1.5 per architecture decision
 * at option 3 (NB201: nor_conv_3x3), lr best at 0.01 (-8 per squared decade), epochs best at 40,
 * sgd over adam, plus an arch-dependent gain with the fidelity so that rankings change between
 * rungs. About 10% of the archs fail, whatever the fidelity.
 */
static void synth(const nas_candidate_t *c, nas_result_t *res)
{
    const nas_arch_t *a = c->arch;
    const nas_space_t *space = nas_arch_space(a);
    nas_result_clear(res);
    if (unit(a, 7) < 0.1) {
        assert_int_equal(nas_result_set_status(res, NAS_E_DIVERGED, "synthetic failure"), NAS_OK);
        return;
    }
    double acc = 50 + 5 * unit(a, 1) + 10 * log1p(c->fidelity) * unit(a, 2), v;
    uint32_t d, ch;
    bool on;
    for (d = 0; d < nas_space_num_arch_dims(space); d++)
        if (nas_arch_is_active(a, d, &on) == NAS_OK && on && nas_arch_get(a, d, &ch) == NAS_OK && ch == 3)
            acc += 1.5;
    if (nas_space_find_dim(space, "lr", &d) == NAS_OK && nas_arch_get_value(a, d, &v) == NAS_OK)
        acc -= 8 * (log10(v) + 2) * (log10(v) + 2);
    if (nas_space_find_dim(space, "epochs", &d) == NAS_OK && nas_arch_get_value(a, d, &v) == NAS_OK)
        acc -= 0.005 * (v - 40) * (v - 40);
    if (nas_space_find_dim(space, "optimizer", &d) == NAS_OK && nas_arch_get(a, d, &ch) == NAS_OK && ch == 0)
        acc += 1;
    assert_int_equal(nas_result_set_metric(res, "test_acc", acc), NAS_OK);
}

/* The synthetic objective as a host evaluator. */
static nas_status_t synth_create(nas_evaluator_t *self, const nas_params_t *params, void **state)
{
    (void)self;
    (void)params;
    *state = NULL;
    return NAS_OK;
}

static void synth_destroy(void *state)
{
    (void)state;
}

static nas_status_t synth_evaluate(nas_evaluator_t *self, void *state, const nas_candidate_t *cand, nas_result_t *res)
{
    (void)self;
    (void)state;
    synth(cand, res);
    return NAS_OK;
}

/* A context, a space, an evaluator (the NB201 table or the synthetic one) and a spare arch. */
typedef struct fx {
    nas_context_t *ctx;
    nas_space_t *space;
    nas_evaluator_t *ev;
    nas_arch_t *arch;
} fx_t;

static fx_t fx_open(const char *space_rel, bool table)
{
    fx_t f = { tu_context_plain(3), NULL, NULL, NULL };
    if (nas_space_load_file(&f.space, f.ctx, tu_src_path(space_rel)) != NAS_OK)
        fail_msg("%s: %s", space_rel, nas_context_errmsg(f.ctx));
    nas_params_t *p = NULL;
    if (table) {
        assert_int_equal(nas_params_create(&p, f.ctx), NAS_OK);
        assert_int_equal(nas_params_set(p, "path", tu_src_path("data/nb201/cifar10_test.csv")), NAS_OK);
    } else {
        nas_evaluator_vtable_t vt = { NAS_PLUGIN_ABI_VERSION, sizeof vt, "synth", "test objective", synth_create,
                                      synth_destroy, synth_evaluate, NULL };
        assert_int_equal(nas_context_register_evaluator(f.ctx, &vt), NAS_OK);
    }
    assert_int_equal(nas_evaluator_create(&f.ev, f.space, table ? "table" : "synth", p), NAS_OK);
    nas_params_destroy(p);
    assert_int_equal(nas_arch_create(&f.arch, f.space), NAS_OK);
    return f;
}

static void fx_close(fx_t *f)
{
    nas_arch_destroy(f->arch);
    nas_evaluator_destroy(f->ev);
    nas_space_destroy(f->space);
    nas_context_destroy(f->ctx);
}

/* One trial as the tests see it. */
typedef struct trial {
    double fidelity, score;
    uint64_t hash;
} trial_t;

/* n sequential ask / evaluate / tell, recording each trial into out (if not NULL); the best score. */
static double drive(fx_t *f, nas_searcher_t *s, int n, trial_t *out)
{
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, f->ctx), NAS_OK);
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    c.arch = f->arch;
    double best = -INFINITY;
    for (int i = 0; i < n; i++) {
        double v = -INFINITY;
        assert_int_equal(nas_searcher_ask(s, &c), NAS_OK);
        assert_int_equal(nas_evaluator_evaluate(f->ev, &c, res), NAS_OK);
        assert_int_equal(nas_searcher_tell(s, &c, res), NAS_OK);
        if (nas_result_status(res) != NAS_OK || nas_result_get_metric(res, "test_acc", &v) != NAS_OK)
            v = -INFINITY;
        best = fmax(best, v);
        if (out)
            out[i] = (trial_t){ c.fidelity, v, nas_arch_hash(f->arch) };
    }
    nas_result_destroy(res);
    return best;
}

static int cmp_trial_desc(const void *a, const void *b)
{
    double x = ((const trial_t *)a)->score, y = ((const trial_t *)b)->score;
    return (x < y) - (x > y);
}

/* ---------------------------------------------------------------------- */
/* (a) NAS-Bench-201: tpe and single-fidelity bohb against random          */

static void nb201_study(fx_t *f, const char *name, const char *const *kv, double *mean, double *sd)
{
    double sum = 0, sq = 0;
    for (uint64_t seed = 1; seed <= NB201_SEEDS; seed++) {
        nas_searcher_t *s = searcher(f->space, name, seed, kv);
        double b = drive(f, s, NB201_QUERIES, NULL);
        nas_searcher_destroy(s);
        sum += b;
        sq += b * b;
    }
    *mean = sum / NB201_SEEDS;
    *sd = sqrt(fmax(sq / NB201_SEEDS - *mean * *mean, 0.0));
}

static void test_nb201_beats_random(void **state)
{
    (void)state;
    static const char *const bohb1[] = { "min_fidelity=1", "max_fidelity=1", NULL };
    fx_t f = fx_open("spaces/nas-bench-201.yaml", true);
    double r, rs, t, ts, b, bs;
    nb201_study(&f, "random", NULL, &r, &rs);
    nb201_study(&f, "tpe", NULL, &t, &ts);
    nb201_study(&f, "bohb", bohb1, &b, &bs);
    print_message("NB201 cifar10, %d seeds x %d queries, mean (sd) best test_acc: random %.3f (%.3f), "
                  "tpe %.3f (%.3f), bohb %.3f (%.3f)\n", NB201_SEEDS, NB201_QUERIES, r, rs, t, ts, b, bs);
    /* The standard error of each mean is about sd / sqrt(30) ~ 0.03. */
    assert_true(t > r + 0.25);
    assert_true(b > r + 0.2);
    fx_close(&f);
}

/* ---------------------------------------------------------------------- */
/* (b) Hyperband brackets against the paper's table, and promotions        */

/* Li et al. 2018, Table 1 (R = 81, eta = 3): per bracket s = 4..0, the (n_i, r_i) of its rungs. */
static const struct {
    int rungs;
    int n[5], r[5];
} PAPER[5] = {
    { 5, { 81, 27, 9, 3, 1 }, { 1, 3, 9, 27, 81 } },
    { 4, { 34, 11, 3, 1 }, { 3, 9, 27, 81 } },
    { 3, { 15, 5, 1 }, { 9, 27, 81 } },
    { 2, { 8, 2 }, { 27, 81 } },
    { 1, { 5 }, { 81 } },
};

/*
 * Check the trials against brackets first..last of the table: fidelities and counts exactly, every
 * rung above 0 the best of the rung below (best first, failed ones never), rung-0 configurations
 * all distinct. Returns the number of trials the brackets made.
 */
static int check_brackets(const trial_t *t, int first, int last)
{
    int pos = 0, fresh = 0;
    trial_t sorted[81];
    uint64_t seen[143];
    for (int b = first; b <= last; b++) {
        for (int i = 0; i < PAPER[b].rungs; i++) {
            int n = PAPER[b].n[i], m = i ? PAPER[b].n[i - 1] : 0;
            for (int j = 0; j < n; j++)
                if (t[pos + j].fidelity != PAPER[b].r[i])
                    fail_msg("bracket %d rung %d trial %d: fidelity %g, expected %d", b, i, j, t[pos + j].fidelity,
                             PAPER[b].r[i]);
            memcpy(sorted, t + pos - m, (size_t)m * sizeof *sorted);
            qsort(sorted, (size_t)m, sizeof *sorted, cmp_trial_desc);
            for (int j = 0; j < n && i > 0; j++)
                if (t[pos + j].hash != sorted[j].hash || sorted[j].score == -INFINITY)
                    fail_msg("bracket %d rung %d: promoted #%d is not the #%d best of the rung below", b, i, j, j);
            for (int j = 0; j < n && i == 0; j++) {
                for (int k = 0; k < fresh; k++)
                    assert_true(seen[k] != t[pos + j].hash);
                seen[fresh++] = t[pos + j].hash;
            }
            pos += n;
        }
    }
    return pos;
}

static void test_hyperband_table(void **state)
{
    (void)state;
    static const char *const kv[] = { "min_fidelity=1", "max_fidelity=81", "eta=3", NULL };
    fx_t f = fx_open("spaces/nas-bench-201.yaml", false);
    trial_t t[207];
    for (int k = 0; k < 3; k++) {
        const char *name = k == 0 ? "sh" : k == 1 ? "hyperband" : "bohb";
        nas_searcher_t *s = searcher(f.space, name, 11, kv);
        drive(&f, s, k ? 207 : 122, t);
        /* sh repeats bracket s_max; the others cycle through all five, then start again. */
        int n = check_brackets(t, 0, k ? 4 : 0);
        assert_int_equal(n, k ? 206 : 121);
        assert_true(t[n].fidelity == 1.0);
        nas_searcher_destroy(s);
    }
    fx_close(&f);
}

/* Asks while a rung awaits results start the next bracket; promotions wait for the whole rung. */
static void test_hyperband_async(void **state)
{
    (void)state;
    static const char *const kv[] = { "max_fidelity=81", NULL };
    fx_t f = fx_open("spaces/nas-bench-201.yaml", false);
    nas_searcher_t *s = searcher(f.space, "hyperband", 5, kv);
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, f.ctx), NAS_OK);
    enum { N = 83 };
    nas_candidate_t c[N];
    trial_t t[N];
    for (int i = 0; i < N; i++) {
        c[i] = (nas_candidate_t)NAS_CANDIDATE_INIT;
        assert_int_equal(nas_arch_create(&c[i].arch, f.space), NAS_OK);
        if (i < 82)
            assert_int_equal(nas_searcher_ask(s, &c[i]), NAS_OK);
        assert_true(i >= 81 || c[i].fidelity == 1.0);
    }
    assert_true(c[81].fidelity == 3.0);   /* bracket s = 3 started early */
    for (int i = 81; i-- > 0;) {          /* told in reverse */
        synth(&c[i], res);
        assert_int_equal(nas_searcher_tell(s, &c[i], res), NAS_OK);
        t[i].hash = nas_arch_hash(c[i].arch);
        if (nas_result_status(res) != NAS_OK || nas_result_get_metric(res, "test_acc", &t[i].score) != NAS_OK)
            t[i].score = -INFINITY;
    }
    assert_int_equal(nas_searcher_ask(s, &c[82]), NAS_OK);
    assert_true(c[82].fidelity == 3.0);
    qsort(t, 81, sizeof *t, cmp_trial_desc);
    assert_true(nas_arch_hash(c[82].arch) == t[0].hash);   /* the first promotion: the best of rung 0 */
    for (int i = 0; i < N; i++)
        nas_arch_destroy(c[i].arch);
    nas_result_destroy(res);
    nas_searcher_destroy(s);
    fx_close(&f);
}

/* ---------------------------------------------------------------------- */
/* (c) Joint architecture + hyperparameter search                          */

static int cmp_double_asc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of |log10(lr) + 2| over proposals 100..149 of a search, and the share of nor_conv_3x3 edges. */
static double lr_spread(const char *name, uint64_t seed, double *conv_share)
{
    fx_t f = fx_open("spaces/nb201-hparams.yaml", false);
    nas_searcher_t *s = searcher(f.space, name, seed, NULL);
    uint32_t lr, arch_dims = nas_space_num_arch_dims(f.space), ch;
    assert_int_equal(nas_space_find_dim(f.space, "lr", &lr), NAS_OK);
    drive(&f, s, 100, NULL);
    double dev[50], v;
    int convs = 0;
    for (int i = 0; i < 50; i++) {
        drive(&f, s, 1, NULL);   /* f.arch keeps the proposal */
        assert_int_equal(nas_arch_get_value(f.arch, lr, &v), NAS_OK);
        dev[i] = fabs(log10(v) + 2);
        for (uint32_t d = 0; d < arch_dims; d++)
            convs += nas_arch_get(f.arch, d, &ch) == NAS_OK && ch == 3;
    }
    qsort(dev, 50, sizeof *dev, cmp_double_asc);
    *conv_share = convs / (50.0 * arch_dims);
    nas_searcher_destroy(s);
    fx_close(&f);
    return dev[25];
}

static void test_joint_hparams(void **state)
{
    (void)state;
    double tpe = 0, rnd = 0, tconv = 0, rconv = 0, conv;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        tpe += lr_spread("tpe", seed, &conv) / 3;
        tconv += conv / 3;
        rnd += lr_spread("random", seed, &conv) / 3;
        rconv += conv / 3;
    }
    print_message("lr optimum 0.01: median |log10(lr) + 2| of proposals 100-149: tpe %.3f, random %.3f; "
                  "share of nor_conv_3x3 edges: tpe %.2f, random %.2f\n", tpe, rnd, tconv, rconv);
    assert_true(tpe < 0.15);   /* uniform over the 2 decades: about 0.5 */
    assert_true(rnd > 0.3);
    assert_true(tconv > 0.45 && rconv < 0.3);
}

/* ---------------------------------------------------------------------- */
/* (d) Save and load                                                       */

static size_t save_state(nas_searcher_t *s, uint8_t **buf)
{
    size_t len = 0;
    assert_int_equal(nas_searcher_save(s, NULL, 0, &len), NAS_E_RANGE);
    assert_non_null(*buf = malloc(len));
    assert_int_equal(nas_searcher_save(s, *buf, len, &len), NAS_OK);
    return len;
}

/*
 * A and B in lockstep for n trials: rounds of 1..4 outstanding asks, told in a round-dependent
 * order; every ask must be the same (arch, fidelity bits, trial id).
 */
static void lockstep(nas_searcher_t *a, nas_searcher_t *b, int n, int round)
{
    nas_candidate_t ca[4], cb[4];
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, nas_searcher_context(a)), NAS_OK);
    for (int i = 0; i < 4; i++) {
        ca[i] = cb[i] = (nas_candidate_t)NAS_CANDIDATE_INIT;
        assert_int_equal(nas_arch_create(&ca[i].arch, nas_searcher_space(a)), NAS_OK);
        assert_int_equal(nas_arch_create(&cb[i].arch, nas_searcher_space(a)), NAS_OK);
    }
    for (int done = 0; done < n; round++) {
        int m = 1 + round % 4;
        for (int i = 0; i < m; i++) {
            char sa[256], sb[256];
            assert_int_equal(nas_searcher_ask(a, &ca[i]), NAS_OK);
            assert_int_equal(nas_searcher_ask(b, &cb[i]), NAS_OK);
            assert_int_equal(nas_arch_to_string(ca[i].arch, 0, sa, sizeof sa, NULL), NAS_OK);
            assert_int_equal(nas_arch_to_string(cb[i].arch, 0, sb, sizeof sb, NULL), NAS_OK);
            assert_string_equal(sa, sb);
            assert_true(nas_arch_equal(ca[i].arch, cb[i].arch) && ca[i].trial_id == cb[i].trial_id);
            assert_memory_equal(&ca[i].fidelity, &cb[i].fidelity, sizeof(double));
        }
        for (int k = 0; k < m; k++) {
            int i = round % 2 ? m - 1 - k : (k + round) % m;
            synth(&ca[i], res);
            assert_int_equal(nas_searcher_tell(a, &ca[i], res), NAS_OK);
            assert_int_equal(nas_searcher_tell(b, &cb[i], res), NAS_OK);
        }
        done += m;
    }
    for (int i = 0; i < 4; i++) {
        nas_arch_destroy(ca[i].arch);
        nas_arch_destroy(cb[i].arch);
    }
    nas_result_destroy(res);
}

/* A runs `before` trials, saves; a fresh B loads; both go on in lockstep; then a C loads A's later state. */
static void check_resume(const char *space_rel, const char *name, const char *const *kv, int before, int after)
{
    fx_t f = fx_open(space_rel, false);
    nas_searcher_t *a = searcher(f.space, name, 77, kv), *b = searcher(f.space, name, 77, kv);
    nas_searcher_t *c = searcher(f.space, name, 77, kv);
    drive(&f, a, before, NULL);
    uint8_t *buf, *buf2;
    size_t len = save_state(a, &buf);
    assert_int_equal(nas_searcher_load(b, buf, len), NAS_OK);
    assert_true(nas_searcher_num_asked(b) == (uint64_t)before);
    lockstep(a, b, after, 0);
    /* Same history, same state to the byte; a state with early-started brackets reloads too. */
    free(buf);
    size_t la = save_state(a, &buf2);
    len = save_state(b, &buf);
    assert_true(la == len);
    assert_memory_equal(buf, buf2, len);
    assert_int_equal(nas_searcher_load(c, buf2, la), NAS_OK);
    lockstep(a, c, after / 2, 1);
    free(buf);
    free(buf2);
    nas_searcher_destroy(a);
    nas_searcher_destroy(b);
    nas_searcher_destroy(c);
    fx_close(&f);
}

static void test_save_load(void **state)
{
    (void)state;
    static const char *const mf[] = { "min_fidelity=1", "max_fidelity=27", NULL };
    static const char *const tpe[] = { "n_startup=10", NULL };
    check_resume("spaces/nb201-hparams.yaml", "tpe", tpe, 0, 30);
    check_resume("spaces/nb201-hparams.yaml", "tpe", tpe, 30, 60);
    check_resume("spaces/mobile-depth-width.yaml", "tpe", tpe, 25, 40);   /* conditional decisions */
    /* 27 + 9 + 3 + 1 = 40 trials make bracket s = 3; at 50, bracket s = 2 is in rung 0. */
    check_resume("spaces/nas-bench-201.yaml", "hyperband", mf, 50, 80);
    check_resume("spaces/nas-bench-201.yaml", "sh", mf, 31, 40);
    check_resume("spaces/nb201-hparams.yaml", "bohb", mf, 33, 120);
    check_resume("spaces/nb201-hparams.yaml", "bohb", mf, 75, 60);
    check_resume("spaces/mobile-depth-width.yaml", "bohb", mf, 60, 60);
}

/* ---------------------------------------------------------------------- */
/* (e) Damaged states                                                      */

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Where the strategy's part of a searcher state starts (after the header of searcher.c). */
static size_t strategy_offset(const uint8_t *d, size_t len)
{
    size_t off = 16;                    /* magic, format version */
    off += 8 + le64(d + off) + 1;       /* strategy name */
    off += 8;                           /* seed */
    off += 8 + le64(d + off) + 1;       /* objectives and constraints */
    off += 8 + le64(d + off) + 1;       /* space name */
    off += 8 + 8 + 32 + 8;              /* dims, next trial, random state, strategy length */
    assert_true(off <= len - 8 && le64(d + off - 8) == len - 8 - off);
    return off;
}

/* d[0..n) as a state (strategy part from off to n, length and checksum fixed) loaded into a fresh searcher. */
static nas_status_t load_patched(fx_t *f, const char *name, const char *const *kv, const uint8_t *d, size_t off,
                                 size_t n, bool use)
{
    uint8_t *t = malloc(n + 8);
    assert_non_null(t);
    memcpy(t, d, n);
    put_le64(t + off - 8, n - off);
    put_le64(t + n, nas__hash_bytes(t, n, 0));
    nas_searcher_t *s = searcher(f->space, name, 77, kv);
    nas_status_t st = nas_searcher_load(s, t, n + 8);
    free(t);
    if (use && st == NAS_OK)
        drive(f, s, 5, NULL);   /* what loaded must work */
    nas_searcher_destroy(s);
    return st;
}

/* count_at: offset in the strategy's part of a count (that of the set of proposed archs). */
static void check_garbage(const char *space_rel, const char *name, const char *const *kv, int before, size_t count_at)
{
    fx_t f = fx_open(space_rel, false);
    nas_searcher_t *a = searcher(f.space, name, 77, kv);
    drive(&f, a, before, NULL);
    uint8_t *buf;
    size_t len = save_state(a, &buf), off = strategy_offset(buf, len), end = len - 8;
    /* The untouched state loads; every truncation of the strategy's part is refused. */
    assert_int_equal(load_patched(&f, name, kv, buf, off, end, false), NAS_OK);
    for (size_t n = off; n < end; n++)
        if (load_patched(&f, name, kv, buf, off, n, false) != NAS_E_CORRUPT)
            fail_msg("%s: the state cut to %zu of %zu strategy bytes was not refused", name, n - off, end - off);
    /* Damaged bytes: refused, or loaded into a searcher that still works. */
    int refused = 0, loaded = 0;
    static const uint8_t flips[] = { 0xff, 0x80, 0x01 };
    for (size_t p = off; p < end; p++) {
        for (size_t k = 0; k < sizeof flips; k++) {
            buf[p] ^= flips[k];
            nas_status_t st = load_patched(&f, name, kv, buf, off, end, true);
            buf[p] ^= flips[k];
            if (st != NAS_OK && st != NAS_E_CORRUPT)
                fail_msg("%s: byte %zu ^ %#x: %s", name, p - off, flips[k], nas_status_name(st));
            refused += st != NAS_OK;
            loaded += st == NAS_OK;
        }
    }
    /* Counts too large for the data are refused before anything is allocated for them. */
    uint64_t count = le64(buf + off + count_at);
    put_le64(buf + off + count_at, UINT64_MAX);
    assert_int_equal(load_patched(&f, name, kv, buf, off, end, false), NAS_E_CORRUPT);
    put_le64(buf + off + count_at, count + 1);
    assert_int_equal(load_patched(&f, name, kv, buf, off, end, false), NAS_E_CORRUPT);
    print_message("%s: %zu state bytes, %d damaged copies refused, %d loaded\n", name, end - off, refused, loaded);
    assert_true(refused > 0);
    free(buf);
    nas_searcher_destroy(a);
    fx_close(&f);
}

static void test_garbage_state(void **state)
{
    (void)state;
    static const char *const mf[] = { "min_fidelity=1", "max_fidelity=9", NULL };
    static const char *const tpe[] = { "n_startup=5", NULL };
    check_garbage("spaces/nb201-hparams.yaml", "tpe", tpe, 12, 0);
    check_garbage("spaces/nas-bench-201.yaml", "hyperband", mf, 11, 8);   /* rung 1 half told */
    check_garbage("spaces/nb201-hparams.yaml", "bohb", mf, 16, 8);
}

/* ---------------------------------------------------------------------- */
/* (f) Parameters                                                          */

static void test_bad_params(void **state)
{
    (void)state;
    static const struct {
        const char *name, *kv, *needle;
    } bad[] = {
        { "tpe", "n_startup=0", "'n_startup' must be in [1, " },
        { "tpe", "gamma=0", "'gamma' must be in (0, 1)" },
        { "tpe", "gamma=1", "'gamma' must be in (0, 1)" },
        { "tpe", "gamma=high", "gamma" },
        { "tpe", "n_candidates=0", "'n_candidates' must be in [1, " },
        { "tpe", "prior_weight=0", "'prior_weight' must be in (0, " },
        { "tpe", "max_retries=-3", "'max_retries'" },
        { "tpe", "eta=3", "eta" },
        { "hyperband", "eta=1", "'eta' must be in [1.5, 1000]" },
        { "hyperband", "eta=1e9", "'eta' must be in [1.5, 1000]" },
        { "hyperband", "min_fidelity=0", "'min_fidelity' must be in (0, " },
        { "hyperband", "min_fidelity=-2", "'min_fidelity'" },
        { "hyperband", "max_fidelity=0.5", "'max_fidelity' must be in [1, 1e+06]" },
        { "hyperband", "max_fidelity=1e7", "'max_fidelity' must be in [1, 1e+06]" },
        { "hyperband", "gamma=0.2", "gamma" },
        { "sh", "max_retries=0", "'max_retries'" },
        { "bohb", "random_fraction=1.5", "'random_fraction' must be in [0, 1]" },
        { "bohb", "min_points_in_model=1", "'min_points_in_model' must be in [2, " },
        { "bohb", "gamma=1.2", "'gamma' must be in (0, 1)" },
        { "bohb", "n_candidates=-1", "'n_candidates'" },
        { "bohb", "prior_weight=-1", "'prior_weight'" },
    };
    fx_t f = fx_open("spaces/nas-bench-201.yaml", false);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *kv[] = { bad[i].kv, NULL };
        nas_searcher_t *s = NULL;
        nas_status_t st = try_searcher(&s, f.space, bad[i].name, 1, kv);
        if (st != NAS_E_INVAL || s || !strstr(nas_context_errmsg(f.ctx), bad[i].needle))
            fail_msg("%s %s: %s, '%s'", bad[i].name, bad[i].kv, nas_status_name(st), nas_context_errmsg(f.ctx));
    }
    /* The defaults are valid; min_fidelity == max_fidelity is one rung, every trial at max_fidelity. */
    static const char *const names[] = { "tpe", "sh", "hyperband", "bohb" };
    for (size_t i = 0; i < 4; i++) {
        nas_searcher_t *s = searcher(f.space, names[i], 1, NULL);
        assert_true(nas_searcher_can_save(s));
        nas_searcher_destroy(s);
    }
    static const char *const one[] = { "min_fidelity=2", "max_fidelity=2", "random_fraction=0", NULL };
    nas_searcher_t *s = searcher(f.space, "bohb", 1, one);
    trial_t t[30];
    drive(&f, s, 30, t);
    for (int i = 0; i < 30; i++)
        assert_true(t[i].fidelity == 2.0);
    nas_searcher_destroy(s);
    fx_close(&f);
}

/* ---------------------------------------------------------------------- */
/* Out of memory; no repeats and exhaustion in a finite space             */

/* 3 edges of {none, skip}: 8 archs. NULL when out of memory. */
static nas_space_t *tiny_space(nas_context_t *ctx)
{
    static const char *const ops[] = { "none", "skip_connect" };
    nas_space_t *s = NULL;
    nas_status_t st = nas_space_create(&s, ctx, "tiny");
    nas_cell_spec_t c = { sizeof c, ops, 2, 1, 2, 0, NULL, 0, NAS_CELL_OUTPUT_LAST };
    nas_macro_stage_t stg[1] = { { 1, 8 } };
    nas_macro_spec_t m = { sizeof m, 8, stg, 1, NAS_REDUCTION_RESIDUAL };
    if (st == NAS_OK && (st = nas_space_set_cell(s, &c)) == NAS_OK && (st = nas_space_set_macro(s, &m)) == NAS_OK)
        st = nas_space_build(s);
    if (st != NAS_OK) {
        nas_space_destroy(s);
        return NULL;
    }
    return s;
}

#define TRY(x)                          \
    do {                                \
        if ((st = (x)) != NAS_OK)       \
            goto out;                   \
    } while (0)

/*
 * Create, trials (some failed), save, load into a second searcher, one more ask. On the 8 archs of
 * the tiny space tpe proposes each once, then is exhausted.
 */
static nas_status_t body_oom(nas_context_t *ctx, void *arg)
{
    const char *name = arg;
    bool tpe = strcmp(name, "tpe") == 0;
    nas_space_t *space = tiny_space(ctx);
    nas_params_t *p = NULL;
    nas_searcher_t *a = NULL, *b = NULL;
    nas_arch_t *arch = NULL;
    nas_result_t *res = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    nas_status_t st = NAS_OK;
    if (!space)
        return NAS_E_NOMEM;
    TRY(nas_params_create(&p, ctx));
    TRY(nas_params_set(p, tpe ? "n_startup" : "max_fidelity", "3"));
    TRY(nas_searcher_create(&a, space, name, p, NULL));
    TRY(nas_searcher_create(&b, space, name, p, NULL));
    TRY(nas_arch_create(&arch, space));
    TRY(nas_result_create(&res, ctx));
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    c.arch = arch;
    uint64_t seen[8];
    for (int i = 0; i < (tpe ? 8 : 40); i++) {
        TRY(nas_searcher_ask(a, &c));
        for (int j = 0; tpe && j < i; j++)
            assert_true(seen[j] != nas_arch_hash(arch));
        seen[i % 8] = nas_arch_hash(arch);
        TRY(nas_result_set_metric(res, "accuracy", unit(arch, 1)));
        TRY(nas_result_set_status(res, unit(arch, 2) < 0.2 ? NAS_E_DIVERGED : NAS_OK, NULL));
        TRY(nas_searcher_tell(a, &c, res));
    }
    if ((st = nas_searcher_save(a, NULL, 0, &len)) != NAS_E_RANGE)
        goto out;
    assert_non_null(buf = malloc(len));
    TRY(nas_searcher_save(a, buf, len, &len));
    TRY(nas_searcher_load(b, buf, len));
    st = nas_searcher_ask(b, &c);
    if (tpe && st != NAS_E_NOMEM)
        assert_int_equal(st, NAS_E_EXHAUSTED);
    if (st == NAS_E_EXHAUSTED)
        st = NAS_OK;
out:
    free(buf);
    nas_result_destroy(res);
    nas_arch_destroy(arch);
    nas_searcher_destroy(a);
    nas_searcher_destroy(b);
    nas_params_destroy(p);
    nas_space_destroy(space);
    return st;
}

static void test_oom(void **state)
{
    (void)state;
    tu_oom_sweep(body_oom, (void *)"tpe");
    tu_oom_sweep(body_oom, (void *)"bohb");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nb201_beats_random),
        cmocka_unit_test(test_hyperband_table),
        cmocka_unit_test(test_hyperband_async),
        cmocka_unit_test(test_joint_hparams),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_garbage_state),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
