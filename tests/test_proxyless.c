/*
 * ProxylessNAS (src/search/proxyless.c): a tiny search on a cell space (binarized paths, two-path
 * alpha updates, derive, retrain); on a chain space, the latency term pushes the architecture weights
 * towards the cheap ops and lowers the expected latency, and the latency table is built once, cached
 * to the given file and loaded by the next search; refusals of bad parameters.
 * (The executor's binary mode itself is tested in test_exec.c: test_binary_mode.)
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char CELL_YAML[] = "name: px-cell\n"
                                "family: cell\n"
                                "cell:\n"
                                "  ops: [none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3]\n"
                                "  num_inputs: 1\n"
                                "  num_nodes: 3\n"
                                "  inputs_per_node: 0\n"
                                "  output: last\n"
                                "macro:\n"
                                "  stem_channels: 16\n"
                                "  stages:\n"
                                "    - {cells: 1, channels: 16}\n"
                                "    - {cells: 1, channels: 32}\n"
                                "  reduction: residual\n";

static const char CHAIN_YAML[] = "name: px-chain\n"
                                 "family: chain\n"
                                 "chain:\n"
                                 "  ops: [mb3_e3, mb7_e6, skip]\n"
                                 "  stem_channels: 16\n"
                                 "  head_channels: 64\n"
                                 "  stages:\n"
                                 "    - {channels: 16, stride: 2, depths: [3]}\n"
                                 "    - {channels: 32, stride: 2, depths: [2]}\n";

typedef struct capture {
    int epochs, trials, tables_built, tables_loaded, n_lat;
    double lat[16];
} capture_t;

static void on_progress(void *user, const nas_progress_t *p)
{
    capture_t *c = user;
    const char *s = p->last_arch ? p->last_arch : "", *q;
    if ((q = strstr(s, "expected_latency_ms ")) && c->n_lat < 16)
        c->lat[c->n_lat++] = atof(q + 20);
    else if (strstr(s, "latency table"))
        *(strstr(s, "(built)") ? &c->tables_built : &c->tables_loaded) += 1;
    else if (strstr(s, " epoch "))
        c->epochs++;
    else if (!strstr(s, "the derived architecture for "))   /* not the announcement of the retrain */
        c->trials++;
}

/* The n floats of epoch e's "weights" in an alphas file. */
static void read_weights(const char *text, int e, float *out, size_t n)
{
    const char *q = text;
    for (int i = 0; i <= e; i++) {
        q = strstr(q, "\"weights\":");
        assert_non_null(q);
        q++;
    }
    q = strchr(q, '[');
    for (size_t i = 0; i < n; i++) {
        while (*q && !(*q == '-' || (*q >= '0' && *q <= '9')))
            q++;
        char *end = NULL;
        out[i] = strtof(q, &end);
        if (end == q)
            fail_msg("epoch %d: weight %zu does not parse", e, i);
        q = end;
    }
}

/* A proxyless search with `kv` on `yaml` over ~700 Fashion-MNIST images, one retrain; the alphas
 * file's text (free it) in *alphas. */
static char *search(const char *yaml, const char *const (*kv)[2], size_t n, capture_t *cap)
{
    nas_context_t *ctx = tu_context_threads(4);
    nas_space_t *s = NULL;
    if (nas_space_load_string(&s, ctx, yaml, strlen(yaml), NULL) != NAS_OK)
        fail_msg("space: %s", nas_context_errmsg(ctx));
    static const char *const ekv[][2] = {
        { "dataset", "fashion-mnist" }, { "max_samples", "704" }, { "val_fraction", "0.36" },
        { "epochs", "1" },              { "batch_size", "64" },   { "latency", "false" },
    };
    nas_params_t *ep = tu_params(ctx, ekv, sizeof ekv / sizeof ekv[0]);
    nas_evaluator_t *ev = NULL;
    if (nas_evaluator_create(&ev, s, "train", ep) != NAS_OK)
        fail_msg("train evaluator: %s", nas_context_errmsg(ctx));
    /* the alphas file where the parameter says; derived.yaml next to the run's journal by default */
    char dir[300], path[600], journal[600], derived[600];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    snprintf(path, sizeof path, "%s/px-alphas.json", dir);
    snprintf(journal, sizeof journal, "%s/px-journal.jsonl", dir);
    snprintf(derived, sizeof derived, "%s/derived.yaml", dir);
    nas_params_t *sp = tu_params(ctx, kv, n);
    assert_int_equal(nas_params_set(sp, "alphas_path", path), NAS_OK);
    nas_searcher_opts_t so = NAS_SEARCHER_OPTS_INIT;
    so.seed = 11;
    nas_searcher_t *se = NULL;
    if (nas_searcher_create(&se, s, "proxyless", sp, &so) != NAS_OK)
        fail_msg("proxyless: %s", nas_context_errmsg(ctx));
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 1;
    ro.progress = on_progress;
    ro.progress_user_data = cap;
    ro.journal_path = journal;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, se, ev, &ro), NAS_OK);
    nas_status_t st = nas_run_execute(run);
    if (st != NAS_OK)
        fail_msg("proxyless: %s: %s", nas_status_name(st), nas_run_errmsg(run));
    assert_int_equal(nas_run_num_trials(run), 1);
    uint64_t id;
    const char *arch;
    const nas_result_t *res;
    assert_int_equal(nas_run_trial(run, 0, &id, &arch, &res), NAS_OK);
    if (nas_result_status(res) != NAS_OK)
        fail_msg("the retrain failed: %s", nas_result_message(res));
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, s), NAS_OK);
    assert_int_equal(nas_arch_from_string(a, arch), NAS_OK);
    nas_arch_destroy(a);
    size_t len = 0;
    char *yaml_text = tu_read_file(derived, &len), want[1024];
    assert_non_null(yaml_text);
    snprintf(want, sizeof want, "arch: \"%s\"\n", arch);
    if (!strstr(yaml_text, want) || !strstr(yaml_text, "strategy: \"proxyless\"") || !strstr(yaml_text, "choices:\n"))
        fail_msg("derived.yaml does not name the retrained arch %s:\n%s", arch, yaml_text);
    free(yaml_text);
    char *text = tu_read_file(path, &len);
    assert_non_null(text);
    remove(path);
    remove(journal);
    remove(derived);
    remove(dir);
    assert_non_null(strstr(text, "\"strategy\":\"proxyless\""));
    nas_run_destroy(run);
    nas_searcher_destroy(se);
    nas_evaluator_destroy(ev);
    nas_params_destroy(sp);
    nas_params_destroy(ep);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
    return text;
}

/* Cell space: two epochs (no warm-up), the alphas move, stay distributions, stay tied across cells. */
static void test_cell_search(void **unused)
{
    (void)unused;
    static const char *const kv[][2] = { { "epochs", "2" }, { "warmup_epochs", "0" }, { "arch_lr", "0.05" } };
    capture_t cap = { 0 };
    char *text = search(CELL_YAML, kv, 3, &cap);
    assert_int_equal(cap.epochs, 3); /* the initial weights and two epochs */
    enum { EDGES = 6, OPS = 5, NW = 2 * EDGES * OPS };
    float w0[NW], w2[NW];
    read_weights(text, 0, w0, NW);
    read_weights(text, 2, w2, NW);
    double moved = 0.0;
    for (int m = 0; m < 2 * EDGES; m++) {
        double sum = 0.0;
        for (int k = 0; k < OPS; k++) {
            sum += w2[m * OPS + k];
            moved = fmax(moved, fabs(w2[m * OPS + k] - w0[m * OPS + k]));
            if (m < EDGES)
                assert_true(w2[m * OPS + k] == w2[(m + EDGES) * OPS + k]);
        }
        assert_true(fabs(sum - 1.0) < 1e-4);
    }
    if (!(moved > 1e-2))
        fail_msg("the architecture weights did not move (largest change %g)", moved);
    free(text);
}

/* Chain space with a strong latency term: the expected latency falls from epoch to epoch and the
 * expensive op loses weight everywhere; the table is built, cached, and loaded by the next search. */
static void test_latency_term(void **unused)
{
    (void)unused;
    char dir[300], cache[600];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    snprintf(cache, sizeof cache, "%s/px-latency.lut", dir);
    const char *const kv[][2] = { { "epochs", "3" },           { "warmup_epochs", "0" },
                                  { "arch_lr", "0.1" },        { "target_latency_ms", "0.01" },
                                  { "latency_loss", "add" },   { "lambda", "1" },
                                  { "latency_cache", cache } };
    capture_t cap = { 0 };
    char *text = search(CHAIN_YAML, kv, 7, &cap);
    assert_int_equal(cap.tables_built, 1);
    assert_int_equal(cap.n_lat, 3);
    fprintf(stderr, "expected latency per epoch: %.4f %.4f %.4f ms\n", cap.lat[0], cap.lat[1], cap.lat[2]);
    if (!(cap.lat[2] < cap.lat[0]))
        fail_msg("the expected latency did not fall: %.4f -> %.4f ms", cap.lat[0], cap.lat[2]);
    enum { LAYERS = 5, OPS = 3 };
    float w0[LAYERS * OPS + 8], w3[LAYERS * OPS + 8];
    /* layers with the skip option have 3 paths; the first of a stage may have 2 (no skip): read
     * generously and compare the mb7_e6 weight (path 1) of layer 0, which every layer has */
    read_weights(text, 0, w0, 2);
    read_weights(text, 3, w3, 2);
    if (!(w3[1] < w0[1]))
        fail_msg("mb7_e6's weight in layer 0 did not fall: %.4f -> %.4f", w0[1], w3[1]);
    free(text);
    FILE *f = fopen(cache, "r");
    assert_non_null(f);
    fclose(f);
    /* the next search loads the table */
    const char *const kv2[][2] = { { "epochs", "1" },         { "warmup_epochs", "0" },
                                   { "target_latency_ms", "1" }, { "latency_cache", cache } };
    capture_t cap2 = { 0 };
    free(search(CHAIN_YAML, kv2, 4, &cap2));
    assert_int_equal(cap2.tables_built, 0);
    assert_int_equal(cap2.tables_loaded, 1);
    remove(cache);
    remove(dir);
}

static bool cancel_now(void *user)
{
    (void)user;
    return true;
}

/* One run of a 1-epoch proxyless search over the journal (resume or not, cancelled at once or not);
 * returns the run's status and its number of trials. */
static nas_status_t journaled_run(const char *journal, bool resume, bool cancel, uint64_t *trials)
{
    nas_context_t *ctx = tu_context_threads(4);
    nas_space_t *s = NULL;
    assert_int_equal(nas_space_load_string(&s, ctx, CELL_YAML, strlen(CELL_YAML), NULL), NAS_OK);
    static const char *const ekv[][2] = { { "dataset", "fashion-mnist" }, { "max_samples", "512" },
                                          { "val_fraction", "0.25" },     { "epochs", "0.5" },
                                          { "latency", "false" } };
    nas_params_t *ep = tu_params(ctx, ekv, sizeof ekv / sizeof ekv[0]);
    static const char *const skv[][2] = { { "epochs", "1" }, { "warmup_epochs", "0" } };
    nas_params_t *sp = tu_params(ctx, skv, 2);
    nas_evaluator_t *ev = NULL;
    assert_int_equal(nas_evaluator_create(&ev, s, "train", ep), NAS_OK);
    nas_searcher_opts_t so = NAS_SEARCHER_OPTS_INIT;
    so.seed = 3;
    nas_searcher_t *se = NULL;
    assert_int_equal(nas_searcher_create(&se, s, "proxyless", sp, &so), NAS_OK);
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.journal_path = journal;
    ro.resume = resume;
    ro.cancel = cancel ? cancel_now : NULL;
    nas_run_t *run = NULL;
    if (nas_run_create(&run, se, ev, &ro) != NAS_OK)
        fail_msg("run: %s", nas_context_errmsg(ctx));
    nas_status_t st = nas_run_execute(run);
    *trials = nas_run_num_trials(run);
    nas_run_destroy(run);
    nas_searcher_destroy(se);
    nas_evaluator_destroy(ev);
    nas_params_destroy(sp);
    nas_params_destroy(ep);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
    return st;
}

/* A one-shot search killed before its retrain starts over on resume; resumed after it, it is done
 * and keeps its one trial (no second search, no second trial in the journal). */
static void test_resume(void **unused)
{
    (void)unused;
    char dir[300], journal[600];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    snprintf(journal, sizeof journal, "%s/journal.jsonl", dir);
    uint64_t n = 0;
    assert_int_equal(journaled_run(journal, false, true, &n), NAS_E_ABORTED);
    assert_int_equal(n, 0);
    assert_int_equal(journaled_run(journal, true, false, &n), NAS_OK);
    assert_int_equal(n, 1);
    size_t len = 0;
    char *before = tu_read_file(journal, &len);
    assert_non_null(before);
    assert_int_equal(journaled_run(journal, true, false, &n), NAS_OK);
    assert_int_equal(n, 1);
    char *after = tu_read_file(journal, &len);
    assert_non_null(after);
    assert_string_equal(before, after);
    free(before);
    free(after);
    char p[700];
    static const char *const files[] = { "journal.jsonl", "alphas.json", "derived.yaml" };
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        remove(p);
    }
    remove(dir);
}

static void test_refusals(void **unused)
{
    (void)unused;
    nas_context_t *ctx = tu_context_threads(1);
    nas_space_t *cell = NULL, *chain = NULL;
    assert_int_equal(nas_space_load_string(&cell, ctx, CELL_YAML, strlen(CELL_YAML), NULL), NAS_OK);
    assert_int_equal(nas_space_load_string(&chain, ctx, CHAIN_YAML, strlen(CHAIN_YAML), NULL), NAS_OK);
    static const struct {
        int chain;
        const char *key, *value;
        nas_status_t want;
    } cases[] = {
        { 0, "target_latency_ms", "5", NAS_E_UNSUPPORTED }, { 1, "target_latency_ms", "-1", NAS_E_INVAL },
        { 1, "latency_loss", "pow", NAS_E_INVAL },          { 1, "warmup_epochs", "-1", NAS_E_INVAL },
        { 1, "beta", "0", NAS_E_INVAL },                    { 1, "lambda", "-2", NAS_E_INVAL },
        { 0, "epochs", "0", NAS_E_INVAL },                  { 1, "target_latency_ms", "fast", NAS_E_INVAL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nas_params_t *p = NULL;
        assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
        assert_int_equal(nas_params_set(p, cases[i].key, cases[i].value), NAS_OK);
        nas_searcher_t *se = NULL;
        nas_status_t st = nas_searcher_create(&se, cases[i].chain ? chain : cell, "proxyless", p, NULL);
        if (st != cases[i].want)
            fail_msg("%s=%s: %s, want %s (%s)", cases[i].key, cases[i].value, nas_status_name(st),
                     nas_status_name(cases[i].want), nas_context_errmsg(ctx));
        assert_null(se);
        assert_true(strlen(nas_context_errmsg(ctx)) > 0);
        nas_params_destroy(p);
    }
    /* ask outside a run */
    nas_searcher_t *se = NULL;
    assert_int_equal(nas_searcher_create(&se, cell, "proxyless", NULL, NULL), NAS_OK);
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, cell), NAS_OK);
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    c.arch = a;
    assert_int_equal(nas_searcher_ask(se, &c), NAS_E_UNSUPPORTED);
    assert_non_null(strstr(nas_searcher_errmsg(se), "nas_run_execute"));
    nas_arch_destroy(a);
    nas_searcher_destroy(se);
    nas_space_destroy(cell);
    nas_space_destroy(chain);
    nas_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_cell_search),
        cmocka_unit_test(test_latency_term),
        cmocka_unit_test(test_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
