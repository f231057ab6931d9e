/*
 * Evolution, local search and NSGA-II, mostly on the NAS-Bench-201 table: search quality against
 * random, save/load equivalence, damaged states, a two-objective front against the brute-force
 * one, constraints, failed trials, repeats, local optima, bad parameters, other spaces, OOM.
 */
#include "testutil.h"
#include "search/search_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARCH_CAP 256
#define NB201_SIZE 15625
#define MAX_WIDTH 8

/* The host evaluator's state: the table, and a failure rate (trials whose arch hash is divisible
 * by fail_mod fail; 0: none). */
typedef struct host {
    nas_evaluator_t *table;
    uint64_t fail_mod;
} host_t;

typedef struct fixture {
    nas_context_t *ctx;
    nas_space_t *space;
    nas_evaluator_t *table;   /* test_acc (NB201 only) */
    nas_evaluator_t *host;    /* test_acc and convs */
    host_t hs;
} fixture_t;

/* A searcher setup; kv is a NULL-terminated list of key, value pairs (or NULL). */
typedef struct setup {
    const char *name, *objectives, *constraints;
    const char *const *kv;
    int width;   /* asks outstanding at once */
} setup_t;

static int count_convs(const char *s)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, "conv")) != NULL; p += 4)
        n++;
    return n;
}

static nas_status_t host_create(nas_evaluator_t *self, const nas_params_t *params, void **state)
{
    (void)params;
    *state = nas_evaluator_user_data(self);
    return NAS_OK;
}

static void host_destroy(void *state)
{
    (void)state;
}

/* The table's test_acc plus "convs", the number of conv ops in the cell. */
static nas_status_t host_evaluate(nas_evaluator_t *self, void *state, const nas_candidate_t *cand, nas_result_t *res)
{
    (void)self;
    host_t *h = state;
    char s[ARCH_CAP];
    nas_status_t st = nas_evaluator_evaluate(h->table, cand, res);
    if (st != NAS_OK || (st = nas_arch_to_string(cand->arch, NAS_STRING_ARCH_ONLY, s, sizeof s, NULL)) != NAS_OK)
        return st;
    nas_result_set_metric(res, "convs", count_convs(s));
    if (h->fail_mod && nas_arch_hash(cand->arch) % h->fail_mod == 0)
        nas_result_set_status(res, NAS_E_DIVERGED, "failed on purpose");
    return NAS_OK;
}

/* For spaces without a table: test_acc = 100 - sum over active decisions of |value - target| /
 * range (a target per decision), convs = active decisions above their midpoint. */
static nas_status_t synth_evaluate(nas_evaluator_t *self, void *state, const nas_candidate_t *cand, nas_result_t *res)
{
    (void)state;
    nas_space_t *space = nas_evaluator_space(self);
    double acc = 100, convs = 0;
    for (uint32_t d = 0; d < nas_space_num_dims(space); d++) {
        nas_dim_info_t info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        bool active;
        double v;
        uint32_t c;
        assert_int_equal(nas_space_dim_info(space, d, &info), NAS_OK);
        assert_int_equal(nas_arch_is_active(cand->arch, d, &active), NAS_OK);
        if (!active)
            continue;
        if (info.kind == NAS_DIM_CATEGORICAL && nas_arch_get(cand->arch, d, &c) == NAS_OK)
            v = c;
        else
            assert_int_equal(nas_arch_get_value(cand->arch, d, &v), NAS_OK);
        double span = info.high > info.low ? info.high - info.low : 1;
        acc -= fabs(v - (info.low + fmod(0.618 * (d + 1), 1.0) * span)) / span;
        convs += v > info.low + span / 2;
    }
    nas_result_set_metric(res, "test_acc", acc);
    nas_result_set_metric(res, "convs", convs);
    return NAS_OK;
}

/* NAS-Bench-201 with the table (space_file NULL), or another space with the synthetic evaluator. */
static void fx_init(fixture_t *f, const char *space_file)
{
    memset(f, 0, sizeof *f);
    f->ctx = tu_context_plain(1);
    if (nas_space_load_file(&f->space, f->ctx, tu_src_path(space_file ? space_file : "spaces/nas-bench-201.yaml")))
        fail_msg("space: %s", nas_context_errmsg(f->ctx));
    nas_evaluator_vtable_t vt = { NAS_PLUGIN_ABI_VERSION, sizeof vt, "host", "table + convs", host_create,
                                  host_destroy, space_file ? synth_evaluate : host_evaluate, &f->hs };
    if (!space_file) {
        nas_params_t *p = NULL;
        assert_int_equal(nas_params_create(&p, f->ctx), NAS_OK);
        assert_int_equal(nas_params_set(p, "path", tu_src_path("data/nb201/cifar10_test.csv")), NAS_OK);
        if (nas_evaluator_create(&f->table, f->space, "table", p) != NAS_OK)
            fail_msg("table: %s", nas_context_errmsg(f->ctx));
        nas_params_destroy(p);
        f->hs.table = f->table;
    }
    assert_int_equal(nas_context_register_evaluator(f->ctx, &vt), NAS_OK);
    assert_int_equal(nas_evaluator_create(&f->host, f->space, "host", NULL), NAS_OK);
}

static void fx_free(fixture_t *f)
{
    nas_evaluator_destroy(f->host);
    nas_evaluator_destroy(f->table);
    nas_space_destroy(f->space);
    nas_context_destroy(f->ctx);
}

static nas_searcher_t *make(fixture_t *f, const setup_t *u, uint64_t seed)
{
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, f->ctx), NAS_OK);
    for (const char *const *kv = u->kv; kv && kv[0]; kv += 2)
        assert_int_equal(nas_params_set(p, kv[0], kv[1]), NAS_OK);
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    o.seed = seed;
    o.objectives = u->objectives ? u->objectives : "test_acc:max";
    o.constraints = u->constraints;
    nas_searcher_t *s = NULL;
    if (nas_searcher_create(&s, f->space, u->name, p, &o) != NAS_OK)
        fail_msg("searcher '%s': %s", u->name, nas_context_errmsg(f->ctx));
    nas_params_destroy(p);
    return s;
}

/* A finished run of s against ev for at most `trials` trials. */
static nas_run_t *run_for(nas_searcher_t *s, nas_evaluator_t *ev, uint64_t trials)
{
    nas_run_opts_t o = NAS_RUN_OPTS_INIT;
    o.max_trials = trials;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, s, ev, &o), NAS_OK);
    if (nas_run_execute(run) != NAS_OK)
        fail_msg("run of '%s': %s", nas_searcher_name(s), nas_run_errmsg(run));
    return run;
}

/* Metric of history entry i (the best successful one when i == UINT64_MAX); its arch in *arch. */
static double metric_of(const nas_run_t *run, uint64_t i, const char *name, const char **arch)
{
    const nas_result_t *res;
    double v = NAN;
    if (i == UINT64_MAX)
        assert_int_equal(nas_run_best(run, &i), NAS_OK);
    assert_int_equal(nas_run_trial(run, i, NULL, arch, &res), NAS_OK);
    assert_int_equal(nas_result_get_metric(res, name, &v), NAS_OK);
    return v;
}

/*
 * Drive a (and b in lockstep unless NULL) for `batches` rounds of `width` asks, each round's
 * results told in reverse order. Returns how many of b's asks differed from a's (arch string or
 * fidelity); each is told the result of its own candidate. a's arch strings go to seen[*nseen++]
 * when seen is not NULL.
 */
static int lockstep(fixture_t *f, nas_evaluator_t *ev, nas_searcher_t *a, nas_searcher_t *b, int batches, int width,
                    char (*seen)[ARCH_CAP], int *nseen)
{
    nas_searcher_t *s[2] = { a, b };
    nas_candidate_t c[2][MAX_WIDTH];
    nas_result_t *r[2][MAX_WIDTH];
    char str[2][ARCH_CAP];
    int diff = 0;
    assert_true(width >= 1 && width <= MAX_WIDTH);
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < width; i++) {
            c[j][i] = (nas_candidate_t)NAS_CANDIDATE_INIT;
            assert_int_equal(nas_arch_create(&c[j][i].arch, f->space), NAS_OK);
            assert_int_equal(nas_result_create(&r[j][i], f->ctx), NAS_OK);
        }
    for (int k = 0; k < batches; k++) {
        for (int i = 0; i < width; i++) {
            for (int j = 0; j < 2 && s[j]; j++) {
                if (nas_searcher_ask(s[j], &c[j][i]) != NAS_OK)
                    fail_msg("ask of '%s': %s", nas_searcher_name(s[j]), nas_searcher_errmsg(s[j]));
                assert_int_equal(nas_evaluator_evaluate(ev, &c[j][i], r[j][i]), NAS_OK);
                assert_int_equal(nas_arch_to_string(c[j][i].arch, 0, str[j], ARCH_CAP, NULL), NAS_OK);
            }
            if (seen)
                snprintf(seen[(*nseen)++], ARCH_CAP, "%s", str[0]);
            diff += b && (strcmp(str[0], str[1]) != 0 || c[0][i].fidelity != c[1][i].fidelity);
        }
        for (int i = width - 1; i >= 0; i--)
            for (int j = 0; j < 2 && s[j]; j++)
                assert_int_equal(nas_searcher_tell(s[j], &c[j][i], r[j][i]), NAS_OK);
    }
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < width; i++) {
            nas_arch_destroy(c[j][i].arch);
            nas_result_destroy(r[j][i]);
        }
    return diff;
}

/* ---------------------------------------------------------------------- */
/* (a) Search quality                                                      */

#define SEEDS 30
#define QUERIES 100

static double mean_best(fixture_t *f, const setup_t *u, double *out)
{
    double sum = 0;
    for (int i = 0; i < SEEDS; i++) {
        nas_searcher_t *s = make(f, u, 1000 + (uint64_t)i);
        nas_run_t *run = run_for(s, f->table, QUERIES);
        assert_int_equal(nas_run_num_trials(run), QUERIES);
        sum += out[i] = metric_of(run, UINT64_MAX, "test_acc", NULL);
        nas_run_destroy(run);
        nas_searcher_destroy(s);
    }
    return sum / SEEDS;
}

static void test_quality(void **state)
{
    (void)state;
    fixture_t f;
    fx_init(&f, NULL);
    static const char *const small[] = { "population", "20", "sample", "5", NULL };
    const setup_t rnd = { .name = "random" }, evo = { .name = "evolution", .kv = small }, def = { .name = "evolution" },
                  loc = { .name = "local" };
    double b_rnd[SEEDS], b_evo[SEEDS], b_def[SEEDS], b_loc[SEEDS];
    double m_rnd = mean_best(&f, &rnd, b_rnd), m_evo = mean_best(&f, &evo, b_evo);
    double m_def = mean_best(&f, &def, b_def), m_loc = mean_best(&f, &loc, b_loc);
    int evo_wins = 0, loc_wins = 0;
    for (int i = 0; i < SEEDS; i++) {
        evo_wins += b_evo[i] > b_rnd[i];
        loc_wins += b_loc[i] > b_rnd[i];
    }
    printf("NB201 cifar10 test_acc, mean best of %d queries over %d seeds: random %.3f, evolution (P=20, S=5) "
           "%.3f, evolution (defaults) %.3f, local %.3f; per seed, evolution beats random %d times, local %d\n",
           QUERIES, SEEDS, m_rnd, m_evo, m_def, m_loc, evo_wins, loc_wins);
    assert_true(m_evo > m_rnd + 0.15);
    assert_true(m_loc > m_rnd + 0.15);
    assert_true(m_def > m_rnd);
    assert_true(evo_wins >= 20 && loc_wins >= 18);
    fx_free(&f);
}

/* ---------------------------------------------------------------------- */
/* (b) Save/load equivalence and determinism                               */

static uint8_t *save_state(nas_searcher_t *s, size_t *len)
{
    assert_int_equal(nas_searcher_save(s, NULL, 0, len), NAS_E_RANGE);
    uint8_t *buf = malloc(*len);
    assert_non_null(buf);
    if (nas_searcher_save(s, buf, *len, len) != NAS_OK)
        fail_msg("save of '%s': %s", nas_searcher_name(s), nas_searcher_errmsg(s));
    return buf;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Offset of the strategy's part of a saved state (layout: nas_searcher_save in searcher.c). */
static size_t strategy_offset(const uint8_t *d, size_t len)
{
    size_t off = 16;   /* magic, version */
    for (int field = 0; field < 5; field++) {   /* name, seed, objectives, space name, dims */
        assert_true(off + 8 <= len);
        off += field == 1 || field == 4 ? 8 : 8 + le64(d + off) + 1;
    }
    off += 8 + 32;   /* next trial, random state */
    assert_true(off + 8 <= len);
    assert_int_equal(le64(d + off), len - off - 16);
    return off + 8;
}

/* The state d with its strategy part replaced by part[0, plen); length and checksum fixed. */
static uint8_t *with_part(const uint8_t *d, size_t off, const uint8_t *part, size_t plen, size_t *len)
{
    *len = off + plen + 8;
    uint8_t *out = malloc(*len);
    assert_non_null(out);
    memcpy(out, d, off);
    put64(out + off - 8, plen);
    memcpy(out + off, part, plen);
    put64(out + off + plen, nas__hash_bytes(out, off + plen, 0));
    return out;
}

static const char *const evo_x[] = { "population", "12", "sample", "4", "crossover_prob", "0.5", NULL };
static const char *const loc_first[] = { "first_improvement", "true", "max_neighbours", "10", NULL };
static const char *const nsga_small[] = { "population", "10", NULL };
static const setup_t SETUPS[] = {
    { "evolution", NULL, NULL, NULL, 3 },
    { "evolution", NULL, NULL, evo_x, 1 },
    { "local", NULL, NULL, NULL, 1 },
    { "local", NULL, NULL, NULL, 4 },   /* asks ahead of tells: probes */
    { "local", NULL, NULL, loc_first, 2 },
    { "nsga2", "test_acc:max,convs:min", "convs<=4", nsga_small, 1 },
    { "nsga2", "test_acc:max,convs:min", NULL, NULL, 3 },
    { "nsga2", NULL, NULL, nsga_small, 1 },
};

static void test_save_load(void **state)
{
    (void)state;
    fixture_t f;
    fx_init(&f, NULL);
    for (size_t k = 0; k < sizeof SETUPS / sizeof SETUPS[0]; k++) {
        const setup_t *u = &SETUPS[k];
        /* A and C from the start, told the same: ask is a function of the seed and the tells. */
        nas_searcher_t *a = make(&f, u, 77), *c = make(&f, u, 77), *b = make(&f, u, 77);
        assert_int_equal(lockstep(&f, f.host, a, c, 70 / u->width + 1, u->width, NULL, NULL), 0);
        size_t len, flen, n;
        uint8_t *buf = save_state(a, &len);
        if (nas_searcher_load(b, buf, len) != NAS_OK)
            fail_msg("load of '%s': %s", u->name, nas_searcher_errmsg(b));
        assert_int_equal(nas_searcher_num_asked(b), nas_searcher_num_asked(a));
        /*
         * The control, to show the check can fail: a twin with A's random stream and trial counter
         * but the strategy part of a searcher never asked (what a load that forgot the strategy's
         * state would give) proposes differently from an exact copy.
         */
        nas_searcher_t *fresh = make(&f, u, 77), *copy = make(&f, u, 77), *twin = make(&f, u, 77);
        uint8_t *fbuf = save_state(fresh, &flen);
        size_t off = strategy_offset(buf, len), foff = strategy_offset(fbuf, flen);
        uint8_t *twin_state = with_part(buf, off, fbuf + foff, flen - foff - 8, &n);
        assert_int_equal(nas_searcher_load(copy, buf, len), NAS_OK);
        assert_int_equal(nas_searcher_load(twin, twin_state, n), NAS_OK);
        int later = 50 / u->width + 1;
        int control = lockstep(&f, f.host, copy, twin, later, u->width, NULL, NULL);
        int ab_diff = lockstep(&f, f.host, a, b, later, u->width, NULL, NULL);
        printf("%s (width %d): %d of the next %d asks equal after load; a twin without the strategy state "
               "differs on %d\n", u->name, u->width, later * u->width - ab_diff, later * u->width, control);
        assert_int_equal(ab_diff, 0);
        assert_true(control > 0);
        /* A state saved by one strategy is refused by another; a seed mismatch too. */
        setup_t o = { strcmp(u->name, "local") ? "local" : "evolution", u->objectives, u->constraints, NULL, 1 };
        nas_searcher_t *other = make(&f, &o, 77), *seed = make(&f, u, 78);
        assert_int_equal(nas_searcher_load(other, buf, len), NAS_E_INVAL);
        assert_int_equal(nas_searcher_load(seed, buf, len), NAS_E_INVAL);
        nas_searcher_t *all[] = { a, b, c, fresh, copy, twin, other, seed };
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            nas_searcher_destroy(all[i]);
        free(twin_state);
        free(fbuf);
        free(buf);
    }
    fx_free(&f);
}

/* ---------------------------------------------------------------------- */
/* (c) Damaged states                                                      */

/*
 * Load into a fresh searcher: one that took the state must go on; one whose strategy refused it
 * (the core's checks passed) is unusable.
 */
static nas_status_t try_load(fixture_t *f, const setup_t *u, const uint8_t *d, size_t len)
{
    nas_searcher_t *s = make(f, u, 77);
    nas_status_t st = nas_searcher_load(s, d, len);
    if (st == NAS_OK) {
        lockstep(f, f->host, s, NULL, 20, 2, NULL, NULL);
    } else if (len > 8 && le64(d + len - 8) == nas__hash_bytes(d, len - 8, 0)) {
        nas_candidate_t c = NAS_CANDIDATE_INIT;
        assert_int_equal(nas_arch_create(&c.arch, f->space), NAS_OK);
        assert_int_equal(nas_searcher_ask(s, &c), NAS_E_STATE);
        nas_arch_destroy(c.arch);
    }
    nas_searcher_destroy(s);
    return st;
}

static void test_damaged_state(void **state)
{
    (void)state;
    fixture_t f;
    fx_init(&f, NULL);
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, f.ctx, 5, 0), NAS_OK);
    static const size_t which[] = { 0, 3, 5 };   /* evolution, local with probes, nsga2 with a constraint */
    for (size_t w = 0; w < 3; w++) {
        const setup_t *u = &SETUPS[which[w]];
        nas_searcher_t *a = make(&f, u, 77);
        lockstep(&f, f.host, a, NULL, 25 / u->width + 1, u->width, NULL, NULL);
        size_t len, n, off;
        uint8_t *buf = save_state(a, &len), *d;
        off = strategy_offset(buf, len);
        size_t plen = len - off - 8, step = 1 + plen / 400;
        uint8_t *bad = malloc(plen + 1);
        memcpy(bad, buf + off, plen);
        /* Rebuilt untouched, it is the same state (the helper is right). */
        d = with_part(buf, off, bad, plen, &n);
        assert_memory_equal(d, buf, len);
        free(d);
        /* Truncations of the strategy part, and one byte too many. */
        int corrupt = 0, tries = 0;
        for (size_t t = 0; t < plen; t += step, tries++) {
            d = with_part(buf, off, bad, t, &n);
            corrupt += try_load(&f, u, d, n) == NAS_E_CORRUPT;
            free(d);
        }
        assert_int_equal(corrupt, tries);
        bad[plen] = 0;
        d = with_part(buf, off, bad, plen + 1, &n);
        assert_int_equal(try_load(&f, u, d, n), NAS_E_CORRUPT);
        free(d);
        /* Random damage with a valid checksum: refused as corrupt, or taken and still usable. */
        int refused = 0;
        for (int k = 0; k < 300; k++) {
            memcpy(bad, buf + off, plen);
            size_t at = (size_t)nas_rng_below(rng, plen);
            if (k % 4 == 0)
                bad[at] ^= (uint8_t)(1u << nas_rng_below(rng, 8));
            else if (k % 4 == 1)
                bad[at] = 0xFF;
            else if (k % 4 == 2 && at + 8 <= plen)
                put64(bad + at, UINT64_MAX - nas_rng_below(rng, 3));
            else
                for (size_t i = at; i < plen && i < at + 16; i++)
                    bad[i] = (uint8_t)nas_rng_u64(rng);
            d = with_part(buf, off, bad, plen, &n);
            nas_status_t st = try_load(&f, u, d, n);
            assert_true(st == NAS_OK || st == NAS_E_CORRUPT);
            refused += st == NAS_E_CORRUPT;
            free(d);
        }
        printf("%s: %zu-byte state part; %d truncations refused; of 300 damaged copies %d refused as corrupt, "
               "the others usable\n", u->name, plen, tries, refused);
        assert_true(refused > 30);
        /* Garbage without a valid checksum never reaches the strategy. */
        memset(bad, 0xAB, plen);
        assert_int_equal(try_load(&f, u, bad, plen), NAS_E_CORRUPT);
        free(bad);
        free(buf);
        nas_searcher_destroy(a);
    }
    nas_rng_destroy(rng);
    fx_free(&f);
}

/* ---------------------------------------------------------------------- */
/* (d) NSGA-II: two objectives, the true front, constraints                */

#define MAX_CONVS 6
#define FRONT_TRIALS 1000

/* best[c]: the best test_acc of the archs with c convs, over the whole space. */
static void brute_force(fixture_t *f, double *best)
{
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    nas_result_t *res = NULL;
    assert_int_equal(nas_arch_create(&c.arch, f->space), NAS_OK);
    assert_int_equal(nas_result_create(&res, f->ctx), NAS_OK);
    for (int k = 0; k <= MAX_CONVS; k++)
        best[k] = -INFINITY;
    for (uint64_t i = 0; i < NB201_SIZE; i++) {
        double acc, convs;
        assert_int_equal(nas_space_enumerate(f->space, c.arch, i), NAS_OK);
        assert_int_equal(nas_evaluator_evaluate(f->host, &c, res), NAS_OK);
        assert_int_equal(nas_result_get_metric(res, "test_acc", &acc), NAS_OK);
        assert_int_equal(nas_result_get_metric(res, "convs", &convs), NAS_OK);
        best[(int)convs] = fmax(best[(int)convs], acc);
    }
    nas_result_destroy(res);
    nas_arch_destroy(c.arch);
}

/* Whether (acc, convs) is a point of the true front restricted to convs <= max_c. */
static bool on_front(const double *best, int max_c, double acc, int convs)
{
    bool on = convs <= max_c && acc == best[convs];
    for (int k = 0; k < convs && on; k++)
        on = best[k] < acc;
    return on;
}

/*
 * Run u for FRONT_TRIALS on (test_acc:max, convs:min) and compare its Pareto front with the true
 * one: returns how many true front points it holds; *gap is the sum over c = 0..max_c of (the best
 * acc with at most c convs) - (the best found with at most c convs), *worst the largest term.
 */
static int front_quality(fixture_t *f, const setup_t *u, uint64_t seed, int max_c, const double *best, double *gap,
                         double *worst)
{
    nas_searcher_t *s = make(f, u, seed);
    nas_run_t *run = run_for(s, f->host, FRONT_TRIALS);
    uint64_t *idx = malloc(NB201_SIZE * sizeof *idx), n;
    double *acc = malloc(NB201_SIZE * sizeof *acc), found[MAX_CONVS + 1], top = -INFINITY;
    int *convs = malloc(NB201_SIZE * sizeof *convs), hits = 0;
    assert_int_equal(nas_run_pareto(run, idx, NB201_SIZE, &n), NAS_OK);
    assert_true(n >= 1);
    for (int k = 0; k <= MAX_CONVS; k++)
        found[k] = -INFINITY;
    for (uint64_t i = 0; i < n; i++) {
        acc[i] = metric_of(run, idx[i], "test_acc", NULL);
        convs[i] = (int)metric_of(run, idx[i], "convs", NULL);
        assert_true(convs[i] <= max_c);   /* feasible trials only */
        hits += on_front(best, max_c, acc[i], convs[i]);
        for (int k = convs[i]; k <= MAX_CONVS; k++)
            found[k] = fmax(found[k], acc[i]);
    }
    for (uint64_t i = 0; i < n; i++)   /* mutually non-dominated */
        for (uint64_t j = 0; j < n; j++)
            assert_false(i != j && acc[i] >= acc[j] && convs[i] <= convs[j] && (acc[i] > acc[j] || convs[i] < convs[j]));
    *gap = *worst = 0;
    for (int k = 0; k <= max_c; k++) {
        top = fmax(top, best[k]);
        *gap += top - found[k];
        *worst = fmax(*worst, top - found[k]);
    }
    free(idx);
    free(acc);
    free(convs);
    nas_run_destroy(run);
    nas_searcher_destroy(s);
    return hits;
}

static void test_nsga2_front(void **state)
{
    (void)state;
    fixture_t f;
    fx_init(&f, NULL);
    static const char *const kv[] = { "population", "30", NULL };
    const char *obj = "test_acc:max,convs:min";
    const setup_t nsga = { "nsga2", obj, NULL, kv, 1 }, nsga3 = { "nsga2", obj, "convs<=3", kv, 1 },
                  rnd = { "random", obj, NULL, NULL, 1 }, rnd3 = { "random", obj, "convs<=3", NULL, 1 };
    double best[MAX_CONVS + 1], g[4] = { 0 }, w[4] = { 0 }, gi, wi;
    int pts = 0, pts3 = 0, h[4] = { 0 }, runs = 5;
    brute_force(&f, best);
    for (int k = 0; k <= MAX_CONVS; k++) {
        pts += on_front(best, MAX_CONVS, best[k], k);
        pts3 += on_front(best, 3, best[k], k);
    }
    for (int r = 0; r < runs; r++) {
        const setup_t *u[4] = { &nsga, &rnd, &nsga3, &rnd3 };
        for (int i = 0; i < 4; i++) {
            h[i] += front_quality(&f, u[i], 10 + (uint64_t)r, i < 2 ? MAX_CONVS : 3, best, &gi, &wi);
            g[i] += gi / runs;
            w[i] = fmax(w[i], wi);
        }
    }
    printf("true front (test_acc:max, convs:min): %d points (%d with convs<=3). Per run of %d trials (%d runs): "
           "nsga2 finds %.1f of them (summed gap %.3f, worst point %.3f below), random %.1f (gap %.3f); with "
           "convs<=3, nsga2 %.1f (gap %.3f, worst %.3f), random %.1f (gap %.3f)\n", pts, pts3, FRONT_TRIALS, runs,
           (double)h[0] / runs, g[0], w[0], (double)h[1] / runs, g[1], (double)h[2] / runs, g[2], w[2],
           (double)h[3] / runs, g[3]);
    assert_true(h[0] >= 3 * runs && 2 * h[2] >= 3 * runs);
    assert_true(w[0] < 0.3 && w[2] < 0.3);
    assert_true(g[0] < 0.5 * g[1] && g[2] < 0.5 * g[3]);
    fx_free(&f);
}

/*
 * Constrained domination seen in the population itself: drive NSGA-II (P = 10) under convs <= 1
 * one trial at a time, save after every result and read the population from the state (layout in
 * nsga2.c). Each infeasible member (counted here from the string) ranks below every feasible one,
 * and below every infeasible one of smaller violation; the final population is feasible.
 */
static void test_nsga2_constraints(void **state)
{
    (void)state;
    fixture_t f;
    fx_init(&f, NULL);
    const setup_t u = { "nsga2", "test_acc:max,convs:min", "convs<=1", nsga_small, 1 };
    nas_searcher_t *s = make(&f, &u, 3);
    int mixed = 0, by_violation = 0, infeasible = 0;
    for (int t = 0; t < 300; t++) {
        lockstep(&f, f.host, s, NULL, 1, 1, NULL, NULL);
        size_t len, off = 8;
        uint8_t *buf = save_state(s, &len);
        const uint8_t *d = buf + strategy_offset(buf, len);
        uint64_t npop = le64(d), rank[10];
        int convs[10];
        assert_true(npop == 0 || npop == 10);
        infeasible = 0;
        for (uint64_t i = 0; i < npop; i++) {   /* arch, 2 scores, violation, rank, crowding */
            const char *arch = (const char *)d + off + 8;
            assert_int_equal(strlen(arch), le64(d + off));
            off += 8 + strlen(arch) + 1 + 2 * 8;
            double viol;
            uint64_t bits = le64(d + off);
            memcpy(&viol, &bits, sizeof viol);
            rank[i] = le64(d + off + 8);
            off += 3 * 8;
            convs[i] = count_convs(arch);
            assert_true(viol == (convs[i] > 1 ? convs[i] - 1.0 : 0.0));   /* |value - bound| / max(|bound|, 1) */
            infeasible += convs[i] > 1;
        }
        for (uint64_t i = 0; i < npop; i++)
            for (uint64_t j = 0; j < npop; j++)
                if (convs[i] > 1 && convs[i] > convs[j]) {
                    assert_true(rank[i] > rank[j]);
                    mixed += convs[j] <= 1;
                    by_violation += convs[j] > 1;
                }
        free(buf);
    }
    printf("nsga2 with convs<=1: %d (feasible, infeasible) and %d (smaller, larger violation) pairs ranked in "
           "order; the final population has %d infeasible\n", mixed, by_violation, infeasible);
    assert_true(mixed > 0 && by_violation > 0);
    assert_int_equal(infeasible, 0);
    nas_searcher_destroy(s);
    fx_free(&f);
}

/* ---------------------------------------------------------------------- */
/* Failed trials, repeats, local optima                                    */

static int str_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Number of distinct strings among v[0, n) (sorts them). */
static int distinct(char (*v)[ARCH_CAP], int n)
{
    qsort(v, (size_t)n, ARCH_CAP, str_cmp);
    int d = n > 0;
    for (int i = 1; i < n; i++)
        d += strcmp(v[i - 1], v[i]) != 0;
    return d;
}

/* Edges whose op differs between two NB201 strings. */
static int edit_distance(const char *a, const char *b)
{
    int d = 0;
    while (*a && *b) {
        size_t la = strcspn(a, "|"), lb = strcspn(b, "|");
        d += la != lb || memcmp(a, b, la) != 0;
        a += la + (a[la] != 0);
        b += lb + (b[lb] != 0);
    }
    return d;
}

static void test_failed_trials_and_repeats(void **state)
{
    (void)state;
    fixture_t f;
    fx_init(&f, NULL);
    static char seen[600][ARCH_CAP];
    static const char *const evo_kv[] = { "population", "20", "sample", "5", NULL };
    static const char *const nsga_kv[] = { "population", "20", NULL };
    const setup_t all[3] = { { "evolution", NULL, NULL, evo_kv, 3 }, { "local", NULL, NULL, NULL, 3 },
                             { "nsga2", NULL, NULL, nsga_kv, 3 } };
    for (int fail = 0; fail < 3; fail++) {
        f.hs.fail_mod = (uint64_t[]){ 0, 3, 1 }[fail];   /* none, a third, every trial */
        for (int k = 0; k < 3; k++) {
            nas_searcher_t *s = make(&f, &all[k], 9);
            int n = 0;
            lockstep(&f, f.host, s, NULL, 100, 3, seen, &n);
            assert_int_equal(distinct(seen, n), n);   /* never a repeat */
            nas_searcher_destroy(s);
            if (f.hs.fail_mod != 3)
                continue;
            s = make(&f, &all[k], 9);
            nas_run_t *run = run_for(s, f.host, 150);
            double b = metric_of(run, UINT64_MAX, "test_acc", NULL);
            printf("%s with a third of the trials failing: best test_acc %.2f in 150 trials\n", all[k].name, b);
            assert_true(b > 93.5);
            nas_run_destroy(run);
            nas_searcher_destroy(s);
        }
    }
    /* Failed members never parent: after the first P asks, each child is one edit from a
     * successful arch told before (a fresh sample is the rare exception). */
    f.hs.fail_mod = 3;
    nas_searcher_t *s = make(&f, &all[0], 4);
    nas_run_t *run = run_for(s, f.host, 300);
    int n_ok = 0, near = 0;
    for (uint64_t t = 0; t < 300; t++) {
        const char *arch;
        const nas_result_t *res;
        assert_int_equal(nas_run_trial(run, t, NULL, &arch, &res), NAS_OK);
        for (int i = 0; i < n_ok && t >= 20; i++)
            if (edit_distance(arch, seen[i]) == 1) {
                near++;
                break;
            }
        if (nas_result_status(res) == NAS_OK)
            snprintf(seen[n_ok++], ARCH_CAP, "%s", arch);
    }
    printf("evolution with a third failing: %d of 280 children one edit from a successful arch\n", near);
    assert_true(near >= 266);
    /* Aging: the population (read from the state, layout in evolution.c) is the last 20 results in
     * the order they arrived, failed ones included with score -inf. */
    size_t len, off = 16;
    uint8_t *buf = save_state(s, &len);
    const uint8_t *d = buf + strategy_offset(buf, len);
    assert_int_equal(le64(d), 300);
    assert_int_equal(le64(d + 8), 20);
    for (uint64_t t = 280; t < 300; t++) {
        const char *arch, *member = (const char *)d + off + 8;
        const nas_result_t *res;
        assert_int_equal(nas_run_trial(run, t, NULL, &arch, &res), NAS_OK);
        assert_string_equal(member, arch);
        off += 8 + strlen(member) + 1;
        uint64_t bits = le64(d + off);
        double score;
        memcpy(&score, &bits, sizeof score);
        off += 8;
        assert_true(nas_result_status(res) == NAS_OK ? score > 0 : score == -INFINITY);
    }
    free(buf);
    nas_run_destroy(run);
    nas_searcher_destroy(s);
    fx_free(&f);
}

/* Without restarts, local search stops (NAS_E_EXHAUSTED) at an arch none of whose 24 neighbours is better. */
static void test_local_optimum(void **state)
{
    (void)state;
    fixture_t f;
    fx_init(&f, NULL);
    static const char *const best_kv[] = { "restart", "false", NULL };
    static const char *const first_kv[] = { "restart", "false", "first_improvement", "true", NULL };
    const setup_t u[2] = { { "local", NULL, NULL, best_kv, 1 }, { "local", NULL, NULL, first_kv, 1 } };
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    nas_arch_t *at = NULL;
    nas_result_t *res = NULL;
    assert_int_equal(nas_arch_create(&c.arch, f.space), NAS_OK);
    assert_int_equal(nas_arch_create(&at, f.space), NAS_OK);
    assert_int_equal(nas_result_create(&res, f.ctx), NAS_OK);
    for (int m = 0; m < 2; m++)
        for (uint64_t seed = 1; seed <= 10; seed++) {
            nas_searcher_t *s = make(&f, &u[m], seed);
            nas_run_t *run = run_for(s, f.table, 2000);
            assert_string_equal(nas_run_stop_reason(run), "exhausted");
            assert_true(nas_run_num_trials(run) > 20);
            const char *arch;
            double acc = metric_of(run, UINT64_MAX, "test_acc", &arch), v;
            assert_int_equal(nas_arch_from_string(at, arch), NAS_OK);
            for (uint32_t d = 0; d < 6; d++)
                for (uint32_t op = 0; op < 5; op++) {
                    assert_int_equal(nas_arch_copy(c.arch, at), NAS_OK);
                    assert_int_equal(nas_arch_set(c.arch, d, op), NAS_OK);
                    assert_int_equal(nas_evaluator_evaluate(f.table, &c, res), NAS_OK);
                    assert_int_equal(nas_result_get_metric(res, "test_acc", &v), NAS_OK);
                    assert_true(v <= acc);
                }
            if (seed == 1)
                printf("local (%s improvement, no restart), seed 1: stopped after %llu trials at %.2f\n",
                       m ? "first" : "best", (unsigned long long)nas_run_num_trials(run), acc);
            nas_run_destroy(run);
            nas_searcher_destroy(s);
        }
    nas_result_destroy(res);
    nas_arch_destroy(at);
    nas_arch_destroy(c.arch);
    fx_free(&f);
}

/* ---------------------------------------------------------------------- */
/* (e) Bad parameters                                                      */

static void test_bad_params(void **state)
{
    (void)state;
    fixture_t f;
    fx_init(&f, NULL);
    static const char *const bad[][3] = {
        { "evolution", "population", "0" }, { "evolution", "population", "100001" },
        { "evolution", "population", "ten" }, { "evolution", "sample", "0" }, { "evolution", "sample", "51" },
        { "evolution", "mutations", "0" }, { "evolution", "crossover_prob", "1.5" },
        { "evolution", "crossover_prob", "-0.1" }, { "evolution", "crossover_prob", "nan" },
        { "local", "max_neighbours", "-1" }, { "local", "max_neighbours", "1000001" },
        { "local", "restart", "maybe" }, { "local", "first_improvement", "2" }, { "nsga2", "population", "1" },
        { "nsga2", "mutations", "-1" }, { "nsga2", "crossover_prob", "2" }, { "nsga2", "population", "" },
        { "evolution", "populaton", "50" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nas_params_t *p = NULL;
        nas_searcher_t *s = NULL;
        assert_int_equal(nas_params_create(&p, f.ctx), NAS_OK);
        assert_int_equal(nas_params_set(p, bad[i][1], bad[i][2]), NAS_OK);
        nas_status_t st = nas_searcher_create(&s, f.space, bad[i][0], p, NULL);
        const char *msg = nas_context_errmsg(f.ctx);
        if (st != NAS_E_INVAL || !strstr(msg, bad[i][1]))
            fail_msg("%s %s=%s: %s, '%s'", bad[i][0], bad[i][1], bad[i][2], nas_status_name(st), msg);
        assert_null(s);
        nas_params_destroy(p);
    }
    /* The ends of the ranges are fine. */
    static const char *const evo[] = { "population", "1", "sample", "1", "mutations", "4096", "crossover_prob", "1",
                                       NULL };
    static const char *const loc[] = { "max_neighbours", "1", "restart", "yes", NULL };
    static const char *const nsga[] = { "population", "2", "mutations", "0", "crossover_prob", "0", NULL };
    const setup_t ok[3] = { { "evolution", NULL, NULL, evo, 1 }, { "local", NULL, NULL, loc, 1 },
                            { "nsga2", NULL, NULL, nsga, 1 } };
    for (int i = 0; i < 3; i++) {
        nas_searcher_t *s = make(&f, &ok[i], 1);
        lockstep(&f, f.table, s, NULL, 10, 1, NULL, NULL);
        nas_searcher_destroy(s);
    }
    fx_free(&f);
}

/* ---------------------------------------------------------------------- */
/* Spaces with FLOAT, wide INT and conditional decisions                   */

/*
 * A space with hyperparameters (log-scale FLOAT lr, INT epochs in [10, 50]) and a chain space with
 * conditional layers, on the synthetic function: no repeats, save/load equivalence (FLOAT values
 * travel as canonical strings), and local search without restarts climbs until it stops.
 */
static void test_other_spaces(void **state)
{
    (void)state;
    static const char *const files[] = { "spaces/nb201-hparams.yaml", "spaces/mobile-depth-width.yaml" };
    static char seen[400][ARCH_CAP];
    static const char *const no_restart[] = { "restart", "false", NULL };
    const setup_t all[3] = { { "evolution", NULL, NULL, evo_x, 2 }, { "local", NULL, NULL, NULL, 2 },
                             { "nsga2", "test_acc:max,convs:min", NULL, nsga_small, 2 } };
    const setup_t climb = { "local", NULL, NULL, no_restart, 1 };
    for (int i = 0; i < 2; i++) {
        fixture_t f;
        fx_init(&f, files[i]);
        for (int k = 0; k < 3; k++) {
            nas_searcher_t *a = make(&f, &all[k], 31), *b = make(&f, &all[k], 31);
            int n = 0;
            size_t len;
            lockstep(&f, f.host, a, NULL, 100, 2, seen, &n);
            uint8_t *buf = save_state(a, &len);
            if (nas_searcher_load(b, buf, len) != NAS_OK)
                fail_msg("%s on %s: load: %s", all[k].name, files[i], nas_searcher_errmsg(b));
            assert_int_equal(lockstep(&f, f.host, a, b, 100, 2, seen, &n), 0);
            assert_int_equal(distinct(seen, n), n);
            free(buf);
            nas_searcher_destroy(a);
            nas_searcher_destroy(b);
        }
        nas_searcher_t *s = make(&f, &climb, 5);
        nas_run_t *run = run_for(s, f.host, 5000);
        assert_string_equal(nas_run_stop_reason(run), "exhausted");
        double a0 = metric_of(run, 0, "test_acc", NULL), a1 = metric_of(run, UINT64_MAX, "test_acc", NULL);
        printf("local on %s: %llu trials, from %.3f to %.3f\n", files[i],
               (unsigned long long)nas_run_num_trials(run), a0, a1);
        assert_true(a1 > a0 + 0.5);
        nas_run_destroy(run);
        nas_searcher_destroy(s);
        fx_free(&f);
    }
}

/* ---------------------------------------------------------------------- */
/* Out of memory                                                           */

typedef struct oom_arg {
    char *yaml;
    size_t len;
    setup_t u;
} oom_arg_t;

/* Create, 40 trials with 2 outstanding (an ask that fails for memory is asked again), save, load. */
static nas_status_t oom_body(nas_context_t *ctx, void *arg)
{
    const oom_arg_t *a = arg;
    nas_space_t *space = NULL;
    nas_params_t *p = NULL;
    nas_searcher_t *s = NULL, *t = NULL;
    nas_result_t *res = NULL;
    nas_candidate_t c[2] = { NAS_CANDIDATE_INIT, NAS_CANDIDATE_INIT };
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    uint8_t *buf = NULL;
    size_t len;
    nas_status_t st;
    o.objectives = a->u.objectives;
    if ((st = nas_space_load_string(&space, ctx, a->yaml, a->len, NULL)) != NAS_OK ||
        (st = nas_params_create(&p, ctx)) != NAS_OK)
        goto out;
    for (const char *const *kv = a->u.kv; kv && kv[0]; kv += 2)
        if ((st = nas_params_set(p, kv[0], kv[1])) != NAS_OK)
            goto out;
    if ((st = nas_searcher_create(&s, space, a->u.name, p, &o)) != NAS_OK ||
        (st = nas_result_create(&res, ctx)) != NAS_OK || (st = nas_arch_create(&c[0].arch, space)) != NAS_OK ||
        (st = nas_arch_create(&c[1].arch, space)) != NAS_OK)
        goto out;
    for (int i = 0; i < 42; i++) {
        nas_candidate_t *ci = &c[i % 2];
        if (i >= 2 && (st = nas_searcher_tell(s, ci, res)) != NAS_OK)
            goto out;
        if (i >= 40)
            continue;
        if ((st = nas_searcher_ask(s, ci)) == NAS_E_NOMEM)
            st = nas_searcher_ask(s, ci);
        uint64_t h = nas_arch_hash(ci->arch);
        nas_result_clear(res);
        if (st != NAS_OK || (st = nas_result_set_metric(res, "test_acc", (double)(h % 1000) / 10)) != NAS_OK ||
            (st = nas_result_set_metric(res, "convs", (double)(h >> 20 & 7))) != NAS_OK)
            goto out;
    }
    if ((st = nas_searcher_save(s, NULL, 0, &len)) != NAS_E_RANGE)
        goto out;
    buf = malloc(len);
    if ((st = nas_searcher_save(s, buf, len, &len)) == NAS_OK &&
        (st = nas_searcher_create(&t, space, a->u.name, p, &o)) == NAS_OK)
        st = nas_searcher_load(t, buf, len);
out:
    free(buf);
    nas_arch_destroy(c[0].arch);
    nas_arch_destroy(c[1].arch);
    nas_result_destroy(res);
    nas_searcher_destroy(t);
    nas_searcher_destroy(s);
    nas_params_destroy(p);
    nas_space_destroy(space);
    return st;
}

static void test_oom(void **state)
{
    (void)state;
    static const char *const evo_kv[] = { "population", "8", "sample", "3", "crossover_prob", "0.5", NULL };
    static const char *const nsga_kv[] = { "population", "6", NULL };
    const setup_t all[3] = { { "evolution", "test_acc:max", NULL, evo_kv, 2 },
                             { "local", "test_acc:max", NULL, NULL, 2 },
                             { "nsga2", "test_acc:max,convs:min", NULL, nsga_kv, 2 } };
    oom_arg_t a;
    a.yaml = tu_read_file(tu_src_path("spaces/nb201-hparams.yaml"), &a.len);
    assert_non_null(a.yaml);
    for (int k = 0; k < 3; k++) {
        a.u = all[k];
        tu_oom_sweep(oom_body, &a);
    }
    free(a.yaml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quality),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_damaged_state),
        cmocka_unit_test(test_nsga2_front),
        cmocka_unit_test(test_nsga2_constraints),
        cmocka_unit_test(test_failed_trials_and_repeats),
        cmocka_unit_test(test_local_optimum),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_other_spaces),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
