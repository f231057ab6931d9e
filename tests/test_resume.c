/*
 * Checkpoints and resumes: the state streams, save/load of every built-in strategy, constraints
 * and the Pareto front, and runs stopped, torn and resumed that must end with the journal of a
 * run never interrupted.
 */
#include "testutil.h"

#include "search/search_internal.h"

#include <math.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The NAS-Bench-201 space and its CIFAR-10 table. */
typedef struct fixture {
    nas_context_t *ctx;
    nas_space_t *space;
    nas_evaluator_t *ev;
} fixture_t;

static void fx_init(fixture_t *f)
{
    f->ctx = tu_context_plain(7);
    assert_int_equal(nas_space_load_file(&f->space, f->ctx, tu_src_path("spaces/nas-bench-201.yaml")), NAS_OK);
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, f->ctx), NAS_OK);
    assert_int_equal(nas_params_set(p, "path", tu_src_path("data/nb201/cifar10_test.csv")), NAS_OK);
    if (nas_evaluator_create(&f->ev, f->space, "table", p) != NAS_OK)
        fail_msg("table: %s", nas_context_errmsg(f->ctx));
    nas_params_destroy(p);
}

static void fx_free(fixture_t *f)
{
    nas_evaluator_destroy(f->ev);
    nas_space_destroy(f->space);
    nas_context_destroy(f->ctx);
}

static nas_searcher_t *searcher(fixture_t *f, const char *name, uint64_t seed, const char *constraints)
{
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    o.seed = seed;
    o.objectives = "test_acc:max";
    o.constraints = constraints;
    nas_searcher_t *s = NULL;
    if (nas_searcher_create(&s, f->space, name, NULL, &o) != NAS_OK)
        fail_msg("searcher %s: %s", name, nas_context_errmsg(f->ctx));
    return s;
}

/* One-shot strategies (a run hook: darts, gdas) train a supernet on the train evaluator and are
 * neither asked nor resumed by replay: the ask/tell and resume tests skip them. */
static bool drives_itself(fixture_t *f, const char *name)
{
    nas_searcher_t *s = searcher(f, name, 1, NULL);
    bool r = nas__searcher_has_run(s);
    nas_searcher_destroy(s);
    return r;
}

/* ---------------------------------------------------------------------- */
/* State streams, through a host strategy that saves what it is given      */

typedef struct stream_case {
    double f[5];
    uint64_t u;
    char text[32];
    bool load_ok;
} stream_case_t;

static nas_status_t sc_create(nas_searcher_t *self, const nas_params_t *params, void **state)
{
    (void)params;
    *state = nas_searcher_user_data(self);
    return NAS_OK;
}

static void sc_destroy(void *state)
{
    (void)state;
}

static nas_status_t sc_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    (void)state;
    return nas_space_sample(nas_searcher_space(self), cand->arch, nas_searcher_rng(self));
}

static nas_status_t sc_tell(nas_searcher_t *self, void *state, const nas_candidate_t *cand, const nas_result_t *res)
{
    (void)self, (void)state, (void)cand, (void)res;
    return NAS_OK;
}

static nas_status_t sc_save(nas_searcher_t *self, void *state, nas_state_writer_t *w)
{
    stream_case_t *c = state;
    nas_arch_t *a = NULL;
    nas_status_t st = nas_arch_create(&a, nas_searcher_space(self));
    if (st == NAS_OK)
        st = nas_space_enumerate(nas_searcher_space(self), a, 1234);
    if (st == NAS_OK)
        st = nas_state_write_f64s(w, c->f, 5);
    if (st == NAS_OK)
        st = nas_state_write_u64(w, c->u);
    if (st == NAS_OK)
        st = nas_state_write_str(w, c->text);
    if (st == NAS_OK)
        st = nas_state_write_arch(w, a);
    nas_arch_destroy(a);
    return st;
}

static nas_status_t sc_load(nas_searcher_t *self, void *state, nas_state_reader_t *r)
{
    stream_case_t *c = state;
    nas_arch_t *a = NULL, *b = NULL;
    const char *text;
    nas_status_t st = nas_state_read_f64s(r, c->f, 5);
    if (st == NAS_OK)
        st = nas_state_read_u64(r, &c->u);
    if (st == NAS_OK)
        st = nas_state_read_str(r, &text);
    if (st == NAS_OK) {
        snprintf(c->text, sizeof c->text, "%s", text);
        st = nas_arch_create(&a, nas_searcher_space(self));
    }
    if (st == NAS_OK)
        st = nas_arch_create(&b, nas_searcher_space(self));
    if (st == NAS_OK)
        st = nas_state_read_arch(r, a);
    if (st == NAS_OK && nas_space_enumerate(nas_searcher_space(self), b, 1234) == NAS_OK)
        c->load_ok = nas_arch_equal(a, b);
    uint64_t big;
    assert_int_equal(nas_state_read_u64(r, &big), NAS_E_CORRUPT);   /* nothing is left */
    nas_arch_destroy(a);
    nas_arch_destroy(b);
    return st;
}

static void register_stream_case(nas_context_t *ctx, stream_case_t *c)
{
    nas_searcher_vtable_t vt = { NAS_PLUGIN_ABI_VERSION, sizeof vt, "stream", "test", sc_create, sc_destroy,
                                 sc_ask, sc_tell, c, sc_save, sc_load, NULL };
    assert_int_equal(nas_context_register_searcher(ctx, &vt), NAS_OK);
}

static void test_state_stream(void **unused)
{
    (void)unused;
    fixture_t f;
    fx_init(&f);
    stream_case_t a = { { -0.0, NAN, INFINITY, 1e-310, 0.1 }, UINT64_MAX, "h\xc3\xa9llo", false };
    stream_case_t b;
    memset(&b, 0, sizeof b);
    register_stream_case(f.ctx, &a);
    nas_searcher_t *sa = searcher(&f, "stream", 5, NULL);
    size_t len = 0;
    assert_int_equal(nas_searcher_save(sa, NULL, 0, &len), NAS_E_RANGE);
    assert_true(len > 64);
    unsigned char *buf = malloc(len);
    assert_int_equal(nas_searcher_save(sa, buf, len, &len), NAS_OK);
    nas_searcher_destroy(sa);

    /* Same strategy name, another state behind it. */
    nas_context_t *ctx2 = f.ctx;
    (void)ctx2;
    nas_searcher_vtable_t vt = { NAS_PLUGIN_ABI_VERSION, sizeof vt, "stream2", "test", sc_create, sc_destroy,
                                 sc_ask, sc_tell, &b, sc_save, sc_load, NULL };
    assert_int_equal(nas_context_register_searcher(f.ctx, &vt), NAS_OK);
    nas_searcher_t *other = searcher(&f, "stream2", 5, NULL);
    assert_int_equal(nas_searcher_load(other, buf, len), NAS_E_INVAL);   /* saved by "stream" */
    assert_non_null(strstr(nas_searcher_errmsg(other), "another strategy"));
    nas_searcher_destroy(other);

    /* Load into a fresh "stream" searcher whose state is b. */
    nas_searcher_vtable_t *none = NULL;
    (void)none;
    nas_searcher_t *sb = searcher(&f, "stream", 5, NULL);
    stream_case_t saved = a;
    memset(&a, 0, sizeof a);
    assert_int_equal(nas_searcher_load(sb, buf, len), NAS_OK);
    assert_true(signbit(a.f[0]) && a.f[0] == 0.0);
    assert_true(isnan(a.f[1]));
    assert_true(isinf(a.f[2]) && a.f[2] > 0);
    assert_true(a.f[3] == saved.f[3] && a.f[4] == saved.f[4]);
    assert_true(a.u == UINT64_MAX);
    assert_string_equal(a.text, saved.text);
    assert_true(a.load_ok);
    nas_searcher_destroy(sb);

    /* Another seed refuses; every truncation and a flipped bit anywhere are refused cleanly. */
    nas_searcher_t *s9 = searcher(&f, "stream", 9, NULL);
    assert_int_equal(nas_searcher_load(s9, buf, len), NAS_E_INVAL);
    nas_searcher_destroy(s9);
    for (size_t cut = 0; cut < len; cut += 1 + cut / 8) {
        nas_searcher_t *s = searcher(&f, "stream", 5, NULL);
        assert_int_equal(nas_searcher_load(s, buf, cut), NAS_E_CORRUPT);
        nas_searcher_destroy(s);
    }
    for (size_t i = 0; i < len; i += 7) {
        buf[i] ^= 0x10;
        nas_searcher_t *s = searcher(&f, "stream", 5, NULL);
        assert_int_equal(nas_searcher_load(s, buf, len), NAS_E_CORRUPT);
        nas_searcher_destroy(s);
        buf[i] ^= 0x10;
    }
    free(buf);
    fx_free(&f);
}

/* Load `len` bytes of `data` as a set of hashes into a fresh set; the status, the set's size in *count. */
static nas_status_t load_hashes(nas_context_t *ctx, const void *data, size_t len, bool sorted, size_t *count)
{
    nas__u64set_t set;
    nas__u64set_init(&set, ctx);
    nas_state_reader_t r = { data, len, 0 };
    nas_status_t st = nas__search_load_hashes(&set, sorted, &r);
    *count = set.count;
    if (st == NAS_OK)
        assert_int_equal(nas_state_remaining(&r), 0);
    nas__u64set_free(&set);
    return st;
}

/* The proposed-hash sets of the strategies: table order or sorted, read back either way; a repeated key,
 * a count past the data, and (sorted) keys out of order are damage. */
static void test_hash_sets(void **unused)
{
    (void)unused;
    nas_context_t *ctx = tu_context_plain(1);
    nas__u64set_t a, b;
    nas__u64set_init(&a, ctx);
    nas__u64set_init(&b, ctx);
    bool added;
    for (uint64_t k = 0; k < 300; k++) {   /* the same keys, inserted in two orders */
        assert_int_equal(nas__u64set_insert(&a, nas__mix64(k), &added), NAS_OK);
        assert_int_equal(nas__u64set_insert(&b, nas__mix64(299 - k), &added), NAS_OK);
    }
    for (int sorted = 0; sorted < 2; sorted++) {
        nas_state_writer_t wa, wb;
        nas__sb_init(&wa.sb, ctx);
        nas__sb_init(&wb.sb, ctx);
        assert_int_equal(nas__search_save_hashes(&a, sorted, &wa), NAS_OK);
        assert_int_equal(nas__search_save_hashes(&b, sorted, &wb), NAS_OK);
        assert_int_equal(wa.sb.len, 8 * 301);
        size_t n;
        assert_int_equal(load_hashes(ctx, wa.sb.data, wa.sb.len, sorted, &n), NAS_OK);
        assert_int_equal(n, 300);
        assert_int_equal(load_hashes(ctx, wa.sb.data, wa.sb.len, !sorted, &n), sorted ? NAS_OK : NAS_E_CORRUPT);
        if (sorted)   /* equal sets, equal bytes */
            assert_memory_equal(wa.sb.data, wb.sb.data, wa.sb.len);
        assert_int_equal(load_hashes(ctx, wa.sb.data, wa.sb.len - 8, sorted, &n), NAS_E_CORRUPT);
        memcpy(wa.sb.data + 16, wa.sb.data + 8, 8);   /* key 1 repeats key 0 */
        assert_int_equal(load_hashes(ctx, wa.sb.data, wa.sb.len, sorted, &n), NAS_E_CORRUPT);
        nas__sb_free(&wa.sb);
        nas__sb_free(&wb.sb);
    }
    nas__u64set_free(&a);
    nas__u64set_free(&b);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Every built-in strategy saves and loads its whole state                 */

/* Ask, evaluate on the table, tell. The arch string goes into out (if not NULL). */
static void step(fixture_t *f, nas_searcher_t *s, nas_arch_t *arch, nas_result_t *res, char *out, size_t cap,
                 double *fidelity)
{
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    c.arch = arch;
    nas_status_t st = nas_searcher_ask(s, &c);
    if (st != NAS_OK)
        fail_msg("%s ask: %s", nas_searcher_name(s), nas_searcher_errmsg(s));
    nas_result_clear(res);
    assert_int_equal(nas_evaluator_evaluate(f->ev, &c, res), NAS_OK);
    if (out)
        assert_int_equal(nas_arch_to_string(arch, 0, out, cap, NULL), NAS_OK);
    if (fidelity)
        *fidelity = c.fidelity;
    if (nas_searcher_tell(s, &c, res) != NAS_OK)
        fail_msg("%s tell: %s", nas_searcher_name(s), nas_searcher_errmsg(s));
}

static void test_builtins_save_load(void **unused)
{
    (void)unused;
    fixture_t f;
    fx_init(&f);
    nas_arch_t *arch = NULL;
    nas_result_t *res = NULL;
    assert_int_equal(nas_arch_create(&arch, f.space), NAS_OK);
    assert_int_equal(nas_result_create(&res, f.ctx), NAS_OK);
    uint32_t n = nas_context_num_searchers(f.ctx), tested = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *name, *desc;
        assert_int_equal(nas_context_searcher_at(f.ctx, i, &name, &desc), NAS_OK);
        if (drives_itself(&f, name))
            continue;
        nas_searcher_t *a = searcher(&f, name, 11, NULL);
        if (!nas_searcher_can_save(a))
            fail_msg("built-in strategy '%s' cannot save its state", name);
        for (int k = 0; k < 37; k++)
            step(&f, a, arch, res, NULL, 0, NULL);
        size_t len = 0;
        assert_int_equal(nas_searcher_save(a, NULL, 0, &len), NAS_E_RANGE);
        void *buf = malloc(len);
        assert_int_equal(nas_searcher_save(a, buf, len, &len), NAS_OK);
        nas_searcher_t *b = searcher(&f, name, 11, NULL);
        if (nas_searcher_load(b, buf, len) != NAS_OK)
            fail_msg("%s: load: %s", name, nas_searcher_errmsg(b));
        assert_int_equal(nas_searcher_num_asked(b), 37);
        /* From here both must propose the same candidates. */
        for (int k = 0; k < 60; k++) {
            char sa[512], sb[512];
            double fa, fb;
            step(&f, a, arch, res, sa, sizeof sa, &fa);
            step(&f, b, arch, res, sb, sizeof sb, &fb);
            if (strcmp(sa, sb) != 0 || fa != fb)
                fail_msg("%s: after load, ask %d gives %s (%g) instead of %s (%g)", name, k, sb, fb, sa, fa);
        }
        /* A loaded searcher cannot be loaded again; one with a trial outstanding cannot save. */
        assert_int_equal(nas_searcher_load(b, buf, len), NAS_E_STATE);
        nas_candidate_t c = NAS_CANDIDATE_INIT;
        c.arch = arch;
        assert_int_equal(nas_searcher_ask(a, &c), NAS_OK);
        assert_int_equal(nas_searcher_save(a, buf, len, &len), NAS_E_STATE);
        free(buf);
        nas_searcher_destroy(a);
        nas_searcher_destroy(b);
        tested++;
    }
    assert_true(tested >= 2);
    nas_result_destroy(res);
    nas_arch_destroy(arch);
    fx_free(&f);
}

/* ---------------------------------------------------------------------- */
/* Constraints and the Pareto front                                         */

static void test_constraints(void **unused)
{
    (void)unused;
    fixture_t f;
    fx_init(&f);
    static const char *const bad[] = { "acc", "acc<5x", "<=3", "acc<=", "acc<=inf", "acc==3", "a<=1,,b>=2" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
        o.constraints = bad[i];
        nas_searcher_t *s = NULL;
        assert_int_equal(nas_searcher_create(&s, f.space, "random", NULL, &o), NAS_E_INVAL);
        assert_non_null(strstr(nas_context_errmsg(f.ctx), "constraints"));
        assert_null(s);
    }
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    o.objectives = "acc:max,lat:min";
    o.constraints = " lat <= 2 , acc>=50";
    nas_searcher_t *s = NULL;
    assert_int_equal(nas_searcher_create(&s, f.space, "random", NULL, &o), NAS_OK);
    assert_int_equal(nas_searcher_num_constraints(s), 2);
    nas_result_t *r = NULL;
    assert_int_equal(nas_result_create(&r, f.ctx), NAS_OK);
    nas_result_set_metric(r, "acc", 60);
    nas_result_set_metric(r, "lat", 1.5);
    assert_true(nas_searcher_violation(s, r) == 0.0);
    double sc[2];
    assert_int_equal(nas_searcher_scores(s, r, sc, 2), NAS_OK);
    assert_true(sc[0] == 60 && sc[1] == -1.5);
    nas_result_set_metric(r, "lat", 3.0);   /* 1 over a bound of 2: 0.5 */
    nas_result_set_metric(r, "acc", 40);    /* 10 under 50: 0.2 */
    assert_true(fabs(nas_searcher_violation(s, r) - 0.7) < 1e-12);
    assert_int_equal(nas_searcher_scores(s, r, sc, 2), NAS_OK);
    assert_true(isinf(sc[0]) && sc[0] < 0 && isinf(sc[1]));
    nas_result_clear(r);
    nas_result_set_metric(r, "acc", 60);    /* lat missing */
    assert_true(isinf(nas_searcher_violation(s, r)));
    nas_result_destroy(r);
    nas_searcher_destroy(s);
    fx_free(&f);
}

/* A host evaluator with two metrics over NB201: the table's accuracy and the number of 3x3 convs. */
static nas_status_t two_create(nas_evaluator_t *self, const nas_params_t *params, void **state)
{
    (void)params;
    *state = nas_evaluator_user_data(self);
    return NAS_OK;
}

static void two_destroy(void *state)
{
    (void)state;
}

static nas_status_t two_evaluate(nas_evaluator_t *self, void *state, const nas_candidate_t *cand, nas_result_t *res)
{
    (void)self;
    nas_evaluator_t *table = state;
    nas_status_t st = nas_evaluator_evaluate(table, cand, res);
    char s[512];
    if (st == NAS_OK)
        st = nas_arch_to_string(cand->arch, 0, s, sizeof s, NULL);
    double convs = 0;
    for (const char *p = s; (p = strstr(p, "conv_3x3")) != NULL; p++)
        convs++;
    return st == NAS_OK ? nas_result_set_metric(res, "convs", convs) : st;
}

static void test_pareto(void **unused)
{
    (void)unused;
    fixture_t f;
    fx_init(&f);
    nas_evaluator_vtable_t vt = { NAS_PLUGIN_ABI_VERSION, sizeof vt, "two", "test", two_create, two_destroy,
                                  two_evaluate, f.ev };
    assert_int_equal(nas_context_register_evaluator(f.ctx, &vt), NAS_OK);
    nas_evaluator_t *two = NULL;
    assert_int_equal(nas_evaluator_create(&two, f.space, "two", NULL), NAS_OK);
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    o.seed = 3;
    o.objectives = "test_acc:max,convs:min";
    o.constraints = "convs<=4";
    nas_searcher_t *s = NULL;
    assert_int_equal(nas_searcher_create(&s, f.space, "random", NULL, &o), NAS_OK);
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 300;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, s, two, &ro), NAS_OK);
    assert_int_equal(nas_run_execute(run), NAS_OK);
    uint64_t n = 0, idx[64];
    assert_int_equal(nas_run_pareto(run, NULL, 0, &n), NAS_E_RANGE);
    assert_true(n >= 2 && n <= 64);
    assert_int_equal(nas_run_pareto(run, idx, 64, &n), NAS_OK);
    /* Brute force: the front is exactly the feasible trials no other trial dominates (one per tie). */
    uint64_t total = nas_run_num_trials(run), expect = 0;
    double *acc = calloc(total, sizeof *acc), *cv = calloc(total, sizeof *cv);
    for (uint64_t i = 0; i < total; i++) {
        const nas_result_t *r;
        assert_int_equal(nas_run_trial(run, i, NULL, NULL, &r), NAS_OK);
        assert_int_equal(nas_result_get_metric(r, "test_acc", &acc[i]), NAS_OK);
        assert_int_equal(nas_result_get_metric(r, "convs", &cv[i]), NAS_OK);
    }
    for (uint64_t i = 0; i < total; i++) {
        if (cv[i] > 4)
            continue;
        bool dominated = false;
        for (uint64_t j = 0; j < total && !dominated; j++)
            dominated = cv[j] <= 4 && ((acc[j] >= acc[i] && cv[j] <= cv[i] && (acc[j] > acc[i] || cv[j] < cv[i])) ||
                                       (j < i && acc[j] == acc[i] && cv[j] == cv[i]));
        if (!dominated) {
            assert_true(expect < n && idx[expect] == i);
            expect++;
        }
    }
    assert_int_equal(expect, n);
    /* Its best is feasible, and the summary lists the front. */
    uint64_t best;
    assert_int_equal(nas_run_best(run, &best), NAS_OK);
    assert_true(cv[best] <= 4);
    char path[512];
    snprintf(path, sizeof path, "%s/summary.json", tu_tmpdir());
    assert_int_equal(nas_run_write_summary(run, path), NAS_OK);
    char *text = tu_read_file(path, NULL);
    assert_non_null(strstr(text, "\"pareto\": ["));
    assert_non_null(strstr(text, "\"constraints\": \"convs<=4\""));
    free(text);
    free(acc);
    free(cv);
    nas_run_destroy(run);
    nas_searcher_destroy(s);
    nas_evaluator_destroy(two);
    fx_free(&f);
}

/* ---------------------------------------------------------------------- */
/* Runs stopped and resumed                                                 */

/* The journal without its wall-clock fields ("time" of the header, "elapsed" of trials). */
static char *normalized_journal(const char *path)
{
    char *t = tu_read_file(path, NULL);
    assert_non_null(t);
    static const char *const keys[] = { ",\"time\":", ",\"elapsed\":" };
    for (size_t k = 0; k < 2; k++) {
        char *p;
        while ((p = strstr(t, keys[k])) != NULL) {
            char *e = p + strlen(keys[k]);
            while (*e && *e != ',' && *e != '}')
                e++;
            memmove(p, e, strlen(e) + 1);
        }
    }
    return t;
}

/* Cancel once the run holds `stop_at` trials (a stop the budget does not know about). */
typedef struct stopper {
    nas_run_t *run;
    uint64_t stop_at;
} stopper_t;

static bool stop_cb(void *user_data)
{
    stopper_t *st = user_data;
    return nas_run_num_trials(st->run) >= st->stop_at;
}

/* A run of `name` (budget 120 trials) with journal and checkpoint in dir, stopped after `trials`. */
static nas_status_t run_to(fixture_t *f, const char *name, const char *dir, uint64_t trials, bool resume,
                           uint64_t *resumed)
{
    stopper_t stop = { NULL, trials };
    char journal[512], ckpt[512];
    snprintf(journal, sizeof journal, "%s/journal.jsonl", dir);
    snprintf(ckpt, sizeof ckpt, "%s/searcher.state", dir);
    nas_searcher_t *s = searcher(f, name, 21, NULL);
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 120;
    ro.journal_path = journal;
    ro.checkpoint_path = ckpt;
    ro.resume = resume;
    ro.cancel = stop_cb;
    ro.cancel_user_data = &stop;
    nas_run_t *run = NULL;
    nas_status_t st = nas_run_create(&run, s, f->ev, &ro);
    if (st == NAS_OK) {
        stop.run = run;
        if (resumed)
            *resumed = nas_run_num_resumed(run);
        st = nas_run_execute(run);
        if (st == NAS_E_ABORTED && trials < 120)
            st = NAS_OK;
        if (st != NAS_OK)
            fail_msg("%s: %s", name, nas_run_errmsg(run));
        assert_int_equal(nas_run_num_trials(run), trials);
    } else {
        print_message("run_to %s: %s\n", name, nas_context_errmsg(f->ctx));
    }
    nas_run_destroy(run);
    nas_searcher_destroy(s);
    return st;
}

static void append(const char *path, const char *text)
{
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void copy_file(const char *from, const char *to)
{
    size_t len;
    char *t = tu_read_file(from, &len);
    assert_non_null(t);
    FILE *fp = fopen(to, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(t, 1, len, fp), len);
    fclose(fp);
    free(t);
}

static void test_resume_matches_uninterrupted(void **unused)
{
    (void)unused;
    fixture_t f;
    fx_init(&f);
    uint32_t n = nas_context_num_searchers(f.ctx);
    for (uint32_t i = 0; i < n; i++) {
        const char *name, *desc;
        assert_int_equal(nas_context_searcher_at(f.ctx, i, &name, &desc), NAS_OK);
        if (drives_itself(&f, name))
            continue;
        char ref[512], dir[512], path[600], ckpt[600], old[600];
        snprintf(ref, sizeof ref, "%s", tu_tmpdir());
        assert_int_equal(run_to(&f, name, ref, 120, false, NULL), NAS_OK);
        snprintf(path, sizeof path, "%s/journal.jsonl", ref);
        char *want = normalized_journal(path);

        /* Stopped at 20, the checkpoint of 20 kept aside; on to 45; a torn line; the old checkpoint back. */
        snprintf(dir, sizeof dir, "%s", tu_tmpdir());
        snprintf(path, sizeof path, "%s/journal.jsonl", dir);
        snprintf(ckpt, sizeof ckpt, "%s/searcher.state", dir);
        snprintf(old, sizeof old, "%s/old.state", dir);
        uint64_t resumed = 0;
        assert_int_equal(run_to(&f, name, dir, 20, false, NULL), NAS_OK);
        copy_file(ckpt, old);
        assert_int_equal(run_to(&f, name, dir, 45, true, &resumed), NAS_OK);
        assert_int_equal(resumed, 20);
        append(path, "{\"type\":\"trial\",\"trial\":45,\"arch\":\"|nor_co");
        copy_file(old, ckpt);   /* covers 20 of 45: trials 20..44 are replayed */
        assert_int_equal(run_to(&f, name, dir, 70, true, &resumed), NAS_OK);
        assert_int_equal(resumed, 45);
        /* No checkpoint at all: the whole journal is replayed. */
        assert_int_equal(unlink(ckpt), 0);
        assert_int_equal(run_to(&f, name, dir, 120, true, &resumed), NAS_OK);
        assert_int_equal(resumed, 70);
        char *got = normalized_journal(path);
        if (strcmp(want, got) != 0)
            fail_msg("%s: the resumed journal differs from the uninterrupted one", name);
        free(got);
        free(want);
    }
    fx_free(&f);
}

static void test_resume_refuses(void **unused)
{
    (void)unused;
    fixture_t f;
    fx_init(&f);
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    assert_int_equal(run_to(&f, "evolution", dir, 10, false, NULL), NAS_OK);

    /* Another strategy or seed than the journal's. */
    nas_searcher_t *s = searcher(&f, "random", 21, NULL);
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 20;
    ro.journal_path = path;
    ro.resume = true;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, s, f.ev, &ro), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(f.ctx), "searcher 'evolution'"));
    nas_searcher_destroy(s);
    s = searcher(&f, "evolution", 22, NULL);
    assert_int_equal(nas_run_create(&run, s, f.ev, &ro), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(f.ctx), "seed"));
    nas_searcher_destroy(s);

    /* A damaged line in the middle is an error, not a torn tail. */
    size_t len;
    char *t = tu_read_file(path, &len);
    char *third = strchr(strchr(strchr(t, '\n') + 1, '\n') + 1, '\n') + 1;
    third[0] = '#';
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.jsonl", dir);
    FILE *fp = fopen(bad, "wb");
    fwrite(t, 1, len, fp);
    fclose(fp);
    free(t);
    ro.journal_path = bad;
    s = searcher(&f, "evolution", 21, NULL);
    assert_int_equal(nas_run_create(&run, s, f.ev, &ro), NAS_E_CORRUPT);
    if (!strstr(nas_context_errmsg(f.ctx), ":4: damaged journal line"))
        fail_msg("unexpected message: %s", nas_context_errmsg(f.ctx));
    nas_searcher_destroy(s);

    /* Resume without a journal path. */
    ro.journal_path = NULL;
    s = searcher(&f, "evolution", 21, NULL);
    assert_int_equal(nas_run_create(&run, s, f.ev, &ro), NAS_E_INVAL);
    nas_searcher_destroy(s);
    fx_free(&f);
}

/* A strategy whose asks depend on a global counter, not on its seed: replay must notice. */
static int drift;

static nas_status_t drift_ask(nas_searcher_t *self, void *state, nas_candidate_t *cand)
{
    (void)state;
    return nas_space_enumerate(nas_searcher_space(self), cand->arch, (uint64_t)(drift++ % 15625));
}

static void test_resume_detects_nondeterminism(void **unused)
{
    (void)unused;
    fixture_t f;
    fx_init(&f);
    nas_searcher_vtable_t vt = { NAS_PLUGIN_ABI_VERSION, sizeof vt, "drift", "test", sc_create, sc_destroy,
                                 drift_ask, sc_tell, NULL, NULL, NULL, NULL };
    assert_int_equal(nas_context_register_searcher(f.ctx, &vt), NAS_OK);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    assert_int_equal(run_to(&f, "drift", dir, 5, false, NULL), NAS_OK);
    char path[600];
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    nas_searcher_t *s = searcher(&f, "drift", 21, NULL);
    assert_false(nas_searcher_can_save(s));
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 10;
    ro.journal_path = path;
    ro.resume = true;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, s, f.ev, &ro), NAS_E_STATE);
    assert_non_null(strstr(nas_context_errmsg(f.ctx), "deterministic"));
    nas_searcher_destroy(s);
    /* Save without load is refused at registration. */
    nas_searcher_vtable_t half = vt;
    half.name = "half";
    half.save = sc_save;
    assert_int_equal(nas_context_register_searcher(f.ctx, &half), NAS_E_INVAL);
    fx_free(&f);
}

/* ---------------------------------------------------------------------- */
/* Trials in child processes: crashes, time limits, cancels                 */

/* A host evaluator that behaves by the first op of the arch: crash, hang, exit, or score. */
static nas_status_t wild_evaluate(nas_evaluator_t *self, void *state, const nas_candidate_t *cand, nas_result_t *res)
{
    (void)self;
    (void)state;
    char s[512];
    nas_arch_to_string(cand->arch, 0, s, sizeof s, NULL);
    if (strncmp(s, "|none~0|", 8) == 0)
        raise(SIGSEGV);
    if (strncmp(s, "|skip_connect~0|", 16) == 0)
        sleep(30);
    if (strncmp(s, "|avg_pool_3x3~0|", 16) == 0)
        exit(3);
    nas_result_set_metric(res, "test_acc", (double)(cand->trial_id % 7));
    return NAS_OK;
}

static bool cancel_soon(void *user_data)
{
    double *deadline = user_data;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9 >= *deadline;
}

static void test_isolated_trials(void **unused)
{
    (void)unused;
    fixture_t f;
    fx_init(&f);
    nas_evaluator_vtable_t vt = { NAS_PLUGIN_ABI_VERSION, sizeof vt, "wild", "test", two_create, two_destroy,
                                  wild_evaluate, NULL };
    assert_int_equal(nas_context_register_evaluator(f.ctx, &vt), NAS_OK);
    nas_evaluator_t *wild = NULL;
    assert_int_equal(nas_evaluator_create(&wild, f.space, "wild", NULL), NAS_OK);
    nas_searcher_t *s = NULL;
    nas_searcher_opts_t o = NAS_SEARCHER_OPTS_INIT;
    o.seed = 2;
    o.objectives = "test_acc:max";
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, f.ctx), NAS_OK);
    assert_int_equal(nas_params_set(p, "shuffle", "true"), NAS_OK);
    assert_int_equal(nas_searcher_create(&s, f.space, "grid", p, &o), NAS_OK);
    nas_params_destroy(p);
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 40;
    /* Long enough for a sanitizer build's child to print its crash report on a loaded machine before
     * the limit (at 0.3 s a crash was sometimes recorded as a timeout). */
    ro.trial_timeout = 1.0;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, s, wild, &ro), NAS_OK);
    assert_int_equal(nas_run_execute(run), NAS_OK);
    assert_int_equal(nas_run_num_trials(run), 40);
    int crashed = 0, timeouts = 0, exited = 0, ok = 0;
    for (uint64_t i = 0; i < 40; i++) {
        const char *arch;
        const nas_result_t *r;
        assert_int_equal(nas_run_trial(run, i, NULL, &arch, &r), NAS_OK);
        nas_status_t st = nas_result_status(r);
        if (strncmp(arch, "|none~0|", 8) == 0) {
            assert_int_equal(st, NAS_E_CRASHED);
            if (!strstr(nas_result_message(r), "signal 11"))
                fail_msg("crash message: %s", nas_result_message(r));
            crashed++;
        } else if (strncmp(arch, "|skip_connect~0|", 16) == 0) {
            assert_int_equal(st, NAS_E_TIMEOUT);
            assert_true(nas_result_cost(r) >= 1.0 && nas_result_cost(r) < 10.0);
            timeouts++;
        } else if (strncmp(arch, "|avg_pool_3x3~0|", 16) == 0) {
            assert_int_equal(st, NAS_E_CRASHED);
            assert_non_null(strstr(nas_result_message(r), "status 3"));
            exited++;
        } else {
            uint64_t id;
            double v;
            assert_int_equal(nas_run_trial(run, i, &id, NULL, NULL), NAS_OK);
            assert_int_equal(st, NAS_OK);
            assert_int_equal(nas_result_get_metric(r, "test_acc", &v), NAS_OK);
            assert_true(v == (double)(id % 7));   /* the child's metrics came back */
            ok++;
        }
    }
    assert_true(crashed > 0 && timeouts > 0 && exited > 0 && ok > 0);
    nas_run_destroy(run);

    /* A cancel stops a hanging trial at once; the trial is not recorded. */
    nas_searcher_destroy(s);
    assert_int_equal(nas_searcher_create(&s, f.space, "random", NULL, &o), NAS_OK);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double deadline = (double)ts.tv_sec + ts.tv_nsec * 1e-9 + 0.5;
    ro.trial_timeout = 0;
    ro.isolate = true;
    ro.max_trials = 100000;
    ro.cancel = cancel_soon;
    ro.cancel_user_data = &deadline;
    assert_int_equal(nas_run_create(&run, s, wild, &ro), NAS_OK);
    double t0 = deadline - 0.5;
    nas_status_t st = nas_run_execute(run);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    assert_int_equal(st, NAS_E_ABORTED);
    assert_true((double)ts.tv_sec + ts.tv_nsec * 1e-9 - t0 < 10.0);   /* not the 30 s of a hanging trial */
    nas_run_destroy(run);
    nas_searcher_destroy(s);
    nas_evaluator_destroy(wild);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_stream),
        cmocka_unit_test(test_hash_sets),
        cmocka_unit_test(test_builtins_save_load),
        cmocka_unit_test(test_constraints),
        cmocka_unit_test(test_pareto),
        cmocka_unit_test(test_resume_matches_uninterrupted),
        cmocka_unit_test(test_resume_refuses),
        cmocka_unit_test(test_resume_detects_nondeterminism),
        cmocka_unit_test(test_isolated_trials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
