/* The table evaluator: NAS-Bench-201 lookups, CSV dialect, malformed files with their line numbers. */
#include "testutil.h"
#include "search/search_internal.h"

#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const NB201_OPS[] = { "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3" };

#define CONV3 "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
#define BEST "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
#define NONE "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
#define SKIP "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"

static nas_space_t *cell_space(nas_context_t *ctx, uint32_t num_ops, uint32_t nodes)
{
    nas_space_t *s = NULL;
    assert_int_equal(nas_space_create(&s, ctx, "nb201"), NAS_OK);
    nas_cell_spec_t c = { sizeof c, NB201_OPS, num_ops, 1, nodes, 0, NULL, 0, NAS_CELL_OUTPUT_LAST };
    assert_int_equal(nas_space_set_cell(s, &c), NAS_OK);
    nas_macro_stage_t st[3] = { { 5, 16 }, { 5, 32 }, { 5, 64 } };
    nas_macro_spec_t m = { sizeof m, 16, st, 3, NAS_REDUCTION_RESIDUAL };
    assert_int_equal(nas_space_set_macro(s, &m), NAS_OK);
    assert_int_equal(nas_space_build(s), NAS_OK);
    return s;
}

static nas_space_t *nb201(nas_context_t *ctx)
{
    return cell_space(ctx, 5, 3);
}

/* A table evaluator over `path` (NULL: no path parameter) with up to two more parameters. */
static nas_status_t make_table(nas_context_t *ctx, nas_evaluator_t **out, nas_space_t *space, const char *path,
                               const char *k1, const char *v1, const char *k2, const char *v2)
{
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
    if (path)
        assert_int_equal(nas_params_set(p, "path", path), NAS_OK);
    if (k1)
        assert_int_equal(nas_params_set(p, k1, v1), NAS_OK);
    if (k2)
        assert_int_equal(nas_params_set(p, k2, v2), NAS_OK);
    nas_status_t st = nas_evaluator_create(out, space, "table", p);
    nas_params_destroy(p);
    return st;
}

/* Evaluate the arch given by its string. */
static nas_status_t lookup(nas_evaluator_t *ev, const char *arch, nas_result_t *res)
{
    nas_space_t *space = nas_evaluator_space(ev);
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, space), NAS_OK);
    assert_int_equal(nas_arch_from_string(a, arch), NAS_OK);
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    c.arch = a;
    nas_status_t st = nas_evaluator_evaluate(ev, &c, res);
    nas_arch_destroy(a);
    return st;
}

static double metric(const nas_result_t *res, const char *name)
{
    double v = -1;
    assert_int_equal(nas_result_get_metric(res, name, &v), NAS_OK);
    return v;
}

static void test_nb201(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = nb201(ctx);
    nas_evaluator_t *ev = NULL;
    double t0 = nas__now();
    nas_status_t st = make_table(ctx, &ev, space, tu_src_path("data/nb201/cifar10_test.csv"), NULL, NULL, NULL, NULL);
    double t = nas__now() - t0;
    if (st != NAS_OK)
        fail_msg("%s", nas_context_errmsg(ctx));
    print_message("NB201 table (15625 rows) loaded in %.3f s\n", t);
    assert_string_equal(nas_evaluator_name(ev), "table");
    assert_ptr_equal(nas_evaluator_space(ev), space);
    assert_ptr_equal(nas_evaluator_context(ev), ctx);
    assert_null(nas_evaluator_context(NULL));
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, ctx), NAS_OK);
    assert_int_equal(lookup(ev, BEST, res), NAS_OK);
    assert_int_equal(nas_result_status(res), NAS_OK);
    assert_true(fabs(metric(res, "test_acc") - 94.3733) < 1e-9);
    assert_int_equal(nas_result_num_metrics(res), 1);
    assert_true(nas_result_cost(res) == 0.0);
    assert_int_equal(lookup(ev, CONV3, res), NAS_OK);
    assert_true(fabs(metric(res, "test_acc") - 93.76) < 1e-9);

    /* Every arch of the space is in the table, and 94.3733 is the largest value. */
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, space), NAS_OK);
    nas_candidate_t c = NAS_CANDIDATE_INIT;
    c.arch = a;
    double best = -1;
    for (uint64_t i = 0; i < 15625; i++) {
        assert_int_equal(nas_space_enumerate(space, a, i), NAS_OK);
        assert_int_equal(nas_evaluator_evaluate(ev, &c, res), NAS_OK);
        assert_int_equal(nas_result_status(res), NAS_OK);
        double v = metric(res, "test_acc");
        best = v > best ? v : best;
    }
    assert_true(fabs(best - 94.3733) < 1e-9);

    /* Bad arguments are evaluator errors, not trial results. */
    assert_int_equal(nas_evaluator_evaluate(ev, NULL, res), NAS_E_INVAL);
    assert_int_equal(nas_evaluator_evaluate(ev, &c, NULL), NAS_E_INVAL);
    c.arch = NULL;
    assert_int_equal(nas_evaluator_evaluate(ev, &c, res), NAS_E_INVAL);
    assert_true(strlen(nas_evaluator_errmsg(ev)) > 0);
    nas_arch_destroy(a);
    nas_result_destroy(res);
    nas_evaluator_destroy(ev);
    nas_evaluator_destroy(NULL);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

static void test_nb201_yaml_space(void **state)
{
    (void)state;
    /* The shipped space file and the shipped table agree. */
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = NULL;
    nas_status_t st = nas_space_load_file(&space, ctx, tu_src_path("spaces/nas-bench-201.yaml"));
    if (st != NAS_OK)
        fail_msg("loading spaces/nas-bench-201.yaml: %s: %s", nas_status_name(st), nas_context_errmsg(ctx));
    nas_evaluator_t *ev = NULL;
    if (make_table(ctx, &ev, space, tu_src_path("data/nb201/cifar10_test.csv"), NULL, NULL, NULL, NULL) != NAS_OK)
        fail_msg("%s", nas_context_errmsg(ctx));
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, ctx), NAS_OK);
    assert_int_equal(lookup(ev, BEST, res), NAS_OK);
    assert_true(fabs(metric(res, "test_acc") - 94.3733) < 1e-9);
    nas_result_destroy(res);
    nas_evaluator_destroy(ev);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

static const char *tmpfile_with(const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/t.csv", tu_tmpdir());
    assert_int_equal(tu_write_file(path, text), 0);
    return path;
}

static void test_missing_key_and_cost(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = nb201(ctx);
    const char *path = tmpfile_with("arch,acc,train_seconds\n" CONV3 ",93.5,1200.5\n" NONE ",10,3\n");
    nas_evaluator_t *ev = NULL;
    if (make_table(ctx, &ev, space, path, "cost_column", "train_seconds", "key_column", "arch") != NAS_OK)
        fail_msg("%s", nas_context_errmsg(ctx));
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, ctx), NAS_OK);
    assert_int_equal(lookup(ev, CONV3, res), NAS_OK);
    assert_true(metric(res, "acc") == 93.5);
    assert_true(metric(res, "train_seconds") == 1200.5);   /* stays a metric */
    assert_true(nas_result_cost(res) == 1200.5);
    const char *name;
    assert_int_equal(nas_result_metric_at(res, 0, &name, NULL), NAS_OK);
    assert_string_equal(name, "acc");   /* file order */

    /* Missing: a failed trial, not an evaluator failure; the result is cleared first. */
    assert_int_equal(lookup(ev, SKIP, res), NAS_OK);
    assert_int_equal(nas_result_status(res), NAS_E_NOT_FOUND);
    assert_non_null(strstr(nas_result_message(res), SKIP));
    assert_int_equal(nas_result_num_metrics(res), 0);
    assert_true(nas_result_cost(res) == 0.0);
    /* And the next lookup is fine again. */
    assert_int_equal(lookup(ev, NONE, res), NAS_OK);
    assert_int_equal(nas_result_status(res), NAS_OK);
    assert_true(nas_result_cost(res) == 3.0);
    nas_result_destroy(res);
    nas_evaluator_destroy(ev);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

static void test_dialect(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = nb201(ctx);
    static const char *const good[] = {
        /* BOM, CRLF, no final newline */
        "\xEF\xBB\xBF" "arch,acc\r\n" CONV3 ",93.5\r\n" NONE ",10",
        /* blank lines, spaces around fields, a quoted key and a quoted number */
        "\n\n  arch , acc \n\n \"" CONV3 "\" , \"93.5\" \n   \n" NONE ",  1e1\n\n",
        /* old Mac line ends, key column last, a quoted header with an escaped quote and a comma */
        "\"a \"\"x\"\", y\",acc,arch\r1,93.5," CONV3 "\r2,10," NONE "\r",
        /* nan is a value (a missing measurement) */
        "arch,acc\n" CONV3 ",93.5\n" NONE ",nan\n",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        nas_evaluator_t *ev = NULL;
        if (make_table(ctx, &ev, space, tmpfile_with(good[i]), NULL, NULL, NULL, NULL) != NAS_OK)
            fail_msg("case %zu: %s", i, nas_context_errmsg(ctx));
        nas_result_t *res = NULL;
        assert_int_equal(nas_result_create(&res, ctx), NAS_OK);
        assert_int_equal(lookup(ev, CONV3, res), NAS_OK);
        assert_true(metric(res, "acc") == 93.5);
        assert_int_equal(lookup(ev, NONE, res), NAS_OK);
        if (i == 3)
            assert_true(isnan(metric(res, "acc")));
        else
            assert_true(metric(res, "acc") == 10.0);
        if (i == 2) {
            assert_true(metric(res, "a \"x\", y") == 2.0);
        }
        nas_result_destroy(res);
        nas_evaluator_destroy(ev);
    }
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

static void test_params_errors(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = nb201(ctx);
    const char *path = tmpfile_with("arch,acc\n" CONV3 ",93.5\n");
    nas_evaluator_t *ev = (nas_evaluator_t *)0x1;
    assert_int_equal(make_table(ctx, &ev, space, NULL, NULL, NULL, NULL, NULL), NAS_E_INVAL);
    assert_null(ev);
    assert_non_null(strstr(nas_context_errmsg(ctx), "'path'"));
    assert_int_equal(make_table(ctx, &ev, space, path, "pathh", "x", NULL, NULL), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(ctx), "unknown parameter 'pathh' for evaluator 'table'"));
    assert_int_equal(make_table(ctx, &ev, space, path, "cost_column", "arch", NULL, NULL), NAS_E_INVAL);
    assert_int_equal(make_table(ctx, &ev, space, "", NULL, NULL, NULL, NULL), NAS_E_INVAL);
    assert_int_equal(make_table(ctx, &ev, space, path, "key_column", "acc", NULL, NULL), NAS_E_PARSE);  /* 93.5 is no arch */
    assert_int_equal(nas_evaluator_create(&ev, space, "no-such", NULL), NAS_E_NOT_FOUND);
    assert_int_equal(nas_evaluator_create(&ev, space, "table", NULL), NAS_E_INVAL);
    assert_int_equal(nas_evaluator_create(NULL, space, "table", NULL), NAS_E_INVAL);
    nas_space_t *raw = NULL;
    assert_int_equal(nas_space_create(&raw, ctx, "raw"), NAS_OK);
    assert_int_equal(nas_evaluator_create(&ev, raw, "table", NULL), NAS_E_STATE);
    nas_space_destroy(raw);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Malformed tables                                                         */

typedef struct bad_case {
    const char *what;
    const char *text;
    nas_status_t status;
    int line;                /* expected "PATH:LINE:" in the message; 0: just the path */
    const char *needle;      /* a further substring of the message, or NULL */
    const char *cost_column;
} bad_case_t;

static const bad_case_t BAD[] = {
    { "empty file", "", NAS_E_PARSE, 1, "empty file", NULL },
    { "only blank lines", "\n  \n\r\n", NAS_E_PARSE, 4, "empty file", NULL },
    { "header only", "arch,acc\n", NAS_E_PARSE, 2, "no data rows", NULL },
    { "no key column", "name,acc\n" CONV3 ",1\n", NAS_E_PARSE, 1, "'arch'", NULL },
    { "no metric column", "arch\n" CONV3 "\n", NAS_E_PARSE, 1, "no metric", NULL },
    { "duplicate column", "arch,acc,acc\n" CONV3 ",1,2\n", NAS_E_PARSE, 1, "'acc' appears twice", NULL },
    { "empty column name", "arch,,acc\n" CONV3 ",1,2\n", NAS_E_PARSE, 1, "column 2", NULL },
    { "ragged long row", "arch,acc\n" CONV3 ",1\n" NONE ",1,2\n", NAS_E_PARSE, 3, "3 fields", NULL },
    { "ragged short row", "arch,acc,x\n" CONV3 ",1,2\n\n" NONE ",1\n", NAS_E_PARSE, 4, "2 fields", NULL },
    { "non-numeric value", "arch,acc\n" CONV3 ",1\n" NONE ",ninety\n", NAS_E_PARSE, 3, "'ninety' is not a number", NULL },
    { "empty value", "arch,acc\n" CONV3 ",\n", NAS_E_PARSE, 2, "column 'acc'", NULL },
    { "number with junk", "arch,acc\n" CONV3 ",93.5%\n", NAS_E_PARSE, 2, "not a number", NULL },
    { "duplicate key", "arch,acc\n" CONV3 ",1\n" NONE ",2\n" CONV3 ",3\n", NAS_E_PARSE, 4, "first on line 2", NULL },
    { "not an arch", "arch,acc\n" CONV3 ",1\n|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|,2\n", NAS_E_PARSE, 3,
      "not an architecture of space 'nb201'", NULL },
    { "empty key", "arch,acc\n,1\n", NAS_E_PARSE, 2, "empty key", NULL },
    { "unterminated quote", "arch,acc\n" CONV3 ",1\n\"" NONE ",2\n" SKIP ",3\n", NAS_E_PARSE, 3, "unterminated", NULL },
    { "text after quote", "arch,acc\n\"" CONV3 "\"x,1\n", NAS_E_PARSE, 2, "after a closing quote", NULL },
    { "quote inside field", "arch,acc\n" CONV3 ",9\"3\n", NAS_E_PARSE, 2, "quote inside", NULL },
    { "multi-line quoted value", "arch,acc\n" CONV3 ",1\n" NONE ",\"9\n3\"\n", NAS_E_PARSE, 3, "not a number", NULL },
    { "line count after a quoted newline", "arch,acc\n\"" CONV3 "\",\"1\n\"\n" NONE ",x\n", NAS_E_PARSE, 2,
      "not a number", NULL },
    { "missing cost column", "arch,acc\n" CONV3 ",1\n", NAS_E_PARSE, 1, "cost column 'secs'", "secs" },
    { "negative cost", "arch,acc,secs\n" CONV3 ",1,2\n" NONE ",1,-2\n", NAS_E_PARSE, 3, "cost", "secs" },
    { "infinite cost", "arch,acc,secs\n" CONV3 ",1,inf\n", NAS_E_PARSE, 2, "cost", "secs" },
};

static void expect_error(nas_context_t *ctx, nas_space_t *space, const char *path, const bad_case_t *b)
{
    nas_evaluator_t *ev = (nas_evaluator_t *)0x1;
    nas_status_t st = make_table(ctx, &ev, space, path, b->cost_column ? "cost_column" : NULL, b->cost_column, NULL, NULL);
    const char *msg = nas_context_errmsg(ctx);
    if (st != b->status)
        fail_msg("%s: got %s, expected %s (%s)", b->what, nas_status_name(st), nas_status_name(b->status), msg);
    assert_null(ev);
    char where[600];
    if (b->line)
        snprintf(where, sizeof where, "%s:%d: ", path, b->line);
    else
        snprintf(where, sizeof where, "%s", path);
    if (!strstr(msg, where))
        fail_msg("%s: message lacks '%s': %s", b->what, where, msg);
    if (b->needle && !strstr(msg, b->needle))
        fail_msg("%s: message lacks '%s': %s", b->what, b->needle, msg);
    if (!strstr(msg, "evaluator 'table'"))
        fail_msg("%s: message does not name the evaluator: %s", b->what, msg);
}

static void test_malformed(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = nb201(ctx);
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++)
        expect_error(ctx, space, tmpfile_with(BAD[i].text), &BAD[i]);

    /* Missing file, a folder. */
    bad_case_t missing = { "missing file", NULL, NAS_E_IO, 0, "cannot open", NULL };
    expect_error(ctx, space, "/nonexistent/folder/t.csv", &missing);
    bad_case_t folder = { "a folder", NULL, NAS_E_IO, 0, "folder", NULL };
    expect_error(ctx, space, tu_tmpdir(), &folder);

    /* A NUL byte. */
    const char *path = tmpfile_with("");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("arch,acc\n" CONV3 ",1\n", f);
    fwrite(NONE ",\0" "2\n", 1, sizeof(NONE) + 3, f);
    fclose(f);
    bad_case_t nul = { "NUL byte", NULL, NAS_E_PARSE, 3, "NUL", NULL };
    expect_error(ctx, space, path, &nul);

    /* A line over 1 MiB. */
    size_t n = (1u << 20) + 100;
    char *big = malloc(n + 256);
    strcpy(big, "arch,acc\n" CONV3 ",");
    size_t at = strlen(big);
    memset(big + at, '1', n);
    strcpy(big + at + n, "\n");
    bad_case_t longline = { "long line", NULL, NAS_E_RANGE, 2, "1 MiB", NULL };
    expect_error(ctx, space, tmpfile_with(big), &longline);
    free(big);

    /* A file over 256 MiB (sparse: nothing is written). */
    path = tmpfile_with("arch,acc\n");
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)(257u << 20)), 0);
    close(fd);
    bad_case_t huge = { "huge file", NULL, NAS_E_RANGE, 0, "over the limit", NULL };
    expect_error(ctx, space, path, &huge);
    unlink(path);

    /* A table of another space: the NB201 table on a 2-op, 2-node cell space. */
    nas_space_t *tiny = cell_space(ctx, 2, 2);
    bad_case_t other = { "other space", NULL, NAS_E_PARSE, 2, "not an architecture", NULL };
    expect_error(ctx, tiny, tu_src_path("data/nb201/cifar10_test.csv"), &other);
    nas_space_destroy(tiny);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

static void test_canonical_keys(void **state)
{
    (void)state;
    /* Keys are stored in canonical form: a lookup by arch finds them, and two spellings of one
     * arch are duplicates. Here the spelling is the canonical one; the table holds one row. */
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = nb201(ctx);
    nas_evaluator_t *ev = NULL;
    assert_int_equal(make_table(ctx, &ev, space, tmpfile_with("acc,arch\n1," CONV3 "\n"), NULL, NULL, NULL, NULL), NAS_OK);
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, ctx), NAS_OK);
    assert_int_equal(lookup(ev, CONV3, res), NAS_OK);
    assert_int_equal(nas_result_status(res), NAS_OK);
    assert_int_equal(lookup(ev, NONE, res), NAS_OK);
    assert_int_equal(nas_result_status(res), NAS_E_NOT_FOUND);
    nas_result_destroy(res);
    nas_evaluator_destroy(ev);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}


static void test_locale(void **state)
{
    (void)state;
    if (!tu_comma_locale()) {
        skip();
        return;
    }
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *space = nb201(ctx);
    nas_evaluator_t *ev = NULL;
    nas_status_t st = make_table(ctx, &ev, space, tmpfile_with("arch,acc\n" CONV3 ",93.5\n"), NULL, NULL, NULL, NULL);
    setlocale(LC_NUMERIC, "C");
    if (st != NAS_OK)
        fail_msg("%s", nas_context_errmsg(ctx));
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, ctx), NAS_OK);
    assert_int_equal(lookup(ev, CONV3, res), NAS_OK);
    assert_true(metric(res, "acc") == 93.5);
    nas_result_destroy(res);
    nas_evaluator_destroy(ev);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* A host evaluator through the vtable                                      */

static nas_status_t host_ev_create(nas_evaluator_t *self, const nas_params_t *params, void **state)
{
    double *scale = malloc(sizeof *scale);
    if (!scale)
        return NAS_E_NOMEM;
    *state = scale;
    nas_status_t st = nas_params_get_double(params, "scale", 1.0, scale);
    if (st != NAS_OK)
        nas_evaluator_set_errmsg(self, nas_params_errmsg(params));
    return st;
}

static void host_ev_destroy(void *state)
{
    free(state);
}

static nas_status_t host_ev_evaluate(nas_evaluator_t *self, void *state, const nas_candidate_t *cand,
                                     nas_result_t *res)
{
    assert_int_equal(nas_result_num_metrics(res), 0);   /* cleared by the library */
    uint32_t c0;
    assert_int_equal(nas_arch_get(cand->arch, 0, &c0), NAS_OK);
    if (c0 == 0) {
        nas_evaluator_set_errmsg(self, "edge 0 is none: refusing to go on");
        return NAS_E_CALLBACK;
    }
    return nas_result_set_metric(res, "score", *(double *)state * c0);
}

static void test_host_evaluator(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_evaluator_vtable_t vt = { NAS_PLUGIN_ABI_VERSION, sizeof vt, "host-eval", "test", host_ev_create,
                                  host_ev_destroy, host_ev_evaluate, NULL };
    assert_int_equal(nas_context_register_evaluator(ctx, &vt), NAS_OK);
    assert_int_equal(nas_context_register_evaluator(ctx, &vt), NAS_E_EXISTS);
    nas_space_t *space = nb201(ctx);
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
    assert_int_equal(nas_params_set(p, "scale", "2.5"), NAS_OK);
    nas_evaluator_t *ev = NULL;
    assert_int_equal(nas_evaluator_create(&ev, space, "host-eval", p), NAS_OK);
    assert_null(nas_evaluator_user_data(ev));
    nas_result_t *res = NULL;
    assert_int_equal(nas_result_create(&res, ctx), NAS_OK);
    assert_int_equal(nas_result_set_metric(res, "stale", 1), NAS_OK);
    assert_int_equal(lookup(ev, CONV3, res), NAS_OK);
    assert_true(metric(res, "score") == 7.5);
    assert_int_equal(lookup(ev, NONE, res), NAS_E_CALLBACK);
    assert_string_equal(nas_evaluator_errmsg(ev), "edge 0 is none: refusing to go on");
    nas_evaluator_destroy(ev);
    assert_int_equal(nas_params_set(p, "scale", "big"), NAS_OK);
    assert_int_equal(nas_evaluator_create(&ev, space, "host-eval", p), NAS_E_INVAL);
    assert_non_null(strstr(nas_context_errmsg(ctx), "evaluator 'host-eval': parameter 'scale'"));
    nas_result_destroy(res);
    nas_params_destroy(p);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nb201),
        cmocka_unit_test(test_nb201_yaml_space),
        cmocka_unit_test(test_missing_key_and_cost),
        cmocka_unit_test(test_dialect),
        cmocka_unit_test(test_params_errors),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_canonical_keys),
        cmocka_unit_test(test_locale),
        cmocka_unit_test(test_host_evaluator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
