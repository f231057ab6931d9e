/* Parameters: typed getters, defaults, bad values, insertion order, unused-key detection. */
#include "testutil.h"
#include "search/search_internal.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static nas_params_t *make(nas_context_t *ctx)
{
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
    assert_non_null(p);
    return p;
}

static void test_set_get_order(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_params_t *p = make(ctx);
    assert_int_equal(nas_params_count(p), 0);
    assert_int_equal(nas_params_set(p, "population", "50"), NAS_OK);
    assert_int_equal(nas_params_set(p, "rate", "0.25"), NAS_OK);
    assert_int_equal(nas_params_set(p, "name.x-y_Z", "hello world"), NAS_OK);
    assert_int_equal(nas_params_count(p), 3);
    /* Replacing keeps the position. */
    assert_int_equal(nas_params_set(p, "population", "60"), NAS_OK);
    assert_int_equal(nas_params_count(p), 3);
    const char *k, *v;
    assert_int_equal(nas_params_at(p, 0, &k, &v), NAS_OK);
    assert_string_equal(k, "population");
    assert_string_equal(v, "60");
    assert_int_equal(nas_params_at(p, 2, &k, &v), NAS_OK);
    assert_string_equal(k, "name.x-y_Z");
    assert_string_equal(v, "hello world");
    assert_int_equal(nas_params_at(p, 3, &k, &v), NAS_E_RANGE);

    /* Values are copied. */
    char buf[8] = "abc";
    assert_int_equal(nas_params_set(p, "copy", buf), NAS_OK);
    buf[0] = 'X';
    const char *got;
    assert_int_equal(nas_params_get_string(p, "copy", &got), NAS_OK);
    assert_string_equal(got, "abc");
    assert_int_equal(nas_params_get_string(p, "absent", &got), NAS_E_NOT_FOUND);

    /* Bad keys. */
    assert_int_equal(nas_params_set(p, "bad key", "1"), NAS_E_INVAL);
    assert_non_null(strstr(nas_params_errmsg(p), "bad key"));
    assert_int_equal(nas_params_set(p, "", "1"), NAS_E_INVAL);
    assert_int_equal(nas_params_set(p, NULL, "1"), NAS_E_INVAL);
    assert_int_equal(nas_params_set(p, "k", NULL), NAS_E_INVAL);
    assert_int_equal(nas_params_set(p, "k=v", "1"), NAS_E_INVAL);
    assert_int_equal(nas_params_count(p), 4);
    nas_params_destroy(p);
    nas_params_destroy(NULL);
    nas_context_destroy(ctx);
}

static void test_int(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_params_t *p = make(ctx);
    int64_t v = 0;
    assert_int_equal(nas_params_get_int(p, "n", 17, &v), NAS_OK);
    assert_int_equal(v, 17);
    static const struct { const char *text; int64_t want; } good[] = {
        { "0", 0 }, { "42", 42 }, { "-7", -7 }, { "+9", 9 },
        { "9223372036854775807", INT64_MAX }, { "-9223372036854775808", INT64_MIN },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(nas_params_set(p, "n", good[i].text), NAS_OK);
        assert_int_equal(nas_params_get_int(p, "n", 0, &v), NAS_OK);
        assert_true(v == good[i].want);
    }
    static const char *const bad[] = { "", " 1", "1 ", "1.5", "abc", "0x10", "12abc", "9223372036854775808", "1e3" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(nas_params_set(p, "n", bad[i]), NAS_OK);
        v = 99;
        assert_int_equal(nas_params_get_int(p, "n", 0, &v), NAS_E_INVAL);
        assert_int_equal(v, 99);   /* untouched on failure */
        assert_non_null(strstr(nas_params_errmsg(p), "'n'"));
    }
    assert_int_equal(nas_params_get_int(p, "n", 0, NULL), NAS_E_INVAL);
    assert_int_equal(nas_params_get_int(p, NULL, 0, &v), NAS_E_INVAL);
    nas_params_destroy(p);
    nas_context_destroy(ctx);
}

static void test_double(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_params_t *p = make(ctx);
    double d = 0;
    assert_int_equal(nas_params_get_double(p, "lr", 0.5, &d), NAS_OK);
    assert_true(d == 0.5);
    assert_int_equal(nas_params_set(p, "lr", "1e-3"), NAS_OK);
    assert_int_equal(nas_params_get_double(p, "lr", 0.5, &d), NAS_OK);
    assert_true(d == 1e-3);
    assert_int_equal(nas_params_set(p, "lr", "-2.5"), NAS_OK);
    assert_int_equal(nas_params_get_double(p, "lr", 0.5, &d), NAS_OK);
    assert_true(d == -2.5);
    static const char *const bad[] = { "", "nan", "inf", "-inf", "1e999", "abc", "1.0x", " 1", "1,5" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(nas_params_set(p, "lr", bad[i]), NAS_OK);
        assert_int_equal(nas_params_get_double(p, "lr", 0.0, &d), NAS_E_INVAL);
        assert_non_null(strstr(nas_params_errmsg(p), "lr"));
    }
    nas_params_destroy(p);
    nas_context_destroy(ctx);
}


static void test_double_locale(void **state)
{
    (void)state;
    /* A host that switched LC_NUMERIC to a comma locale still gets "0.25" read as 0.25. */
    if (!tu_comma_locale()) {
        skip();
        return;
    }
    char probe[16];
    snprintf(probe, sizeof probe, "%.2f", 0.25);
    assert_string_equal(probe, "0,25");   /* the switch took effect */
    nas_context_t *ctx = tu_context_plain(1);
    nas_params_t *p = make(ctx);
    assert_int_equal(nas_params_set(p, "lr", "0.25"), NAS_OK);
    double d = 0;
    nas_status_t st = nas_params_get_double(p, "lr", 0.0, &d);
    setlocale(LC_NUMERIC, "C");
    assert_int_equal(st, NAS_OK);
    assert_true(d == 0.25);
    nas_params_destroy(p);
    nas_context_destroy(ctx);
}

static void test_bool(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_params_t *p = make(ctx);
    bool b = false;
    assert_int_equal(nas_params_get_bool(p, "shuffle", true, &b), NAS_OK);
    assert_true(b);
    static const char *const yes[] = { "true", "yes", "1", "TRUE", "Yes" };
    static const char *const no[] = { "false", "no", "0", "False", "NO" };
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(nas_params_set(p, "shuffle", yes[i]), NAS_OK);
        assert_int_equal(nas_params_get_bool(p, "shuffle", false, &b), NAS_OK);
        assert_true(b);
        assert_int_equal(nas_params_set(p, "shuffle", no[i]), NAS_OK);
        assert_int_equal(nas_params_get_bool(p, "shuffle", true, &b), NAS_OK);
        assert_false(b);
    }
    static const char *const bad[] = { "", "2", "on", "truee", "y" };
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(nas_params_set(p, "shuffle", bad[i]), NAS_OK);
        assert_int_equal(nas_params_get_bool(p, "shuffle", true, &b), NAS_E_INVAL);
        assert_non_null(strstr(nas_params_errmsg(p), "shuffle"));
    }
    nas_params_destroy(p);
    nas_context_destroy(ctx);
}

static void test_null_params_is_empty(void **state)
{
    (void)state;
    int64_t i = 0;
    double d = 0;
    bool b = false;
    const char *s = NULL;
    assert_int_equal(nas_params_get_int(NULL, "a", 3, &i), NAS_OK);
    assert_int_equal(i, 3);
    assert_int_equal(nas_params_get_double(NULL, "a", 1.5, &d), NAS_OK);
    assert_true(d == 1.5);
    assert_int_equal(nas_params_get_bool(NULL, "a", true, &b), NAS_OK);
    assert_true(b);
    assert_int_equal(nas_params_get_string(NULL, "a", &s), NAS_E_NOT_FOUND);
    assert_int_equal(nas_params_count(NULL), 0);
    assert_string_equal(nas_params_errmsg(NULL), "");
    assert_int_equal(nas__params_check_unused(NULL, NULL, "x"), NAS_OK);
}

static void test_unused(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_params_t *p = make(ctx);
    char err[NAS_ERRMSG_CAP] = "";
    assert_int_equal(nas_params_set(p, "population", "5"), NAS_OK);
    assert_int_equal(nas_params_set(p, "populaton", "5"), NAS_OK);
    nas__params_reset_used(p);
    int64_t v;
    assert_int_equal(nas_params_get_int(p, "population", 1, &v), NAS_OK);
    assert_int_equal(nas_params_get_int(p, "edits", 1, &v), NAS_OK);   /* absent: still listed as read */
    assert_int_equal(nas__params_check_unused(p, err, "searcher 'evo'"), NAS_E_INVAL);
    assert_non_null(strstr(err, "unknown parameter 'populaton' for searcher 'evo'"));
    assert_non_null(strstr(err, "population, edits"));

    /* Reading it clears the error; a bad value still counts as read. */
    assert_int_equal(nas_params_set(p, "populaton", "x"), NAS_OK);
    assert_int_equal(nas_params_get_int(p, "populaton", 1, &v), NAS_E_INVAL);
    assert_int_equal(nas__params_check_unused(p, err, "searcher 'evo'"), NAS_OK);

    /* A reset forgets. */
    nas__params_reset_used(p);
    assert_int_equal(nas__params_check_unused(p, err, "evaluator 'table'"), NAS_E_INVAL);
    assert_non_null(strstr(err, "'population' for evaluator 'table' (it takes no parameters)"));
    /* Replacing a value makes it unread again. */
    assert_int_equal(nas_params_get_int(p, "population", 1, &v), NAS_OK);
    assert_int_equal(nas_params_get_string(p, "populaton", &(const char *){NULL}), NAS_OK);
    assert_int_equal(nas__params_check_unused(p, err, "x"), NAS_OK);
    assert_int_equal(nas_params_set(p, "population", "7"), NAS_OK);
    assert_int_equal(nas__params_check_unused(p, err, "x"), NAS_E_INVAL);
    nas_params_destroy(p);
    nas_context_destroy(ctx);
}

static void test_limits(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_params_t *p = make(ctx);
    char key[32];
    for (int i = 0; i < NAS__PARAMS_MAX_KEYS; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(nas_params_set(p, key, "v"), NAS_OK);
    }
    assert_int_equal(nas_params_set(p, "one_more", "v"), NAS_E_RANGE);
    assert_int_equal(nas_params_set(p, "k5", "replaced"), NAS_OK);   /* replacing is fine at the limit */
    char *big = malloc(NAS__PARAMS_MAX_VALUE + 2);
    memset(big, 'a', NAS__PARAMS_MAX_VALUE + 1);
    big[NAS__PARAMS_MAX_VALUE + 1] = '\0';
    assert_int_equal(nas_params_set(p, "k1", big), NAS_E_RANGE);
    free(big);
    char longkey[200];
    memset(longkey, 'a', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_int_equal(nas_params_set(p, longkey, "v"), NAS_E_INVAL);
    nas_params_destroy(p);
    nas_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get_order),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_double),
        cmocka_unit_test(test_double_locale),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_null_params_is_empty),
        cmocka_unit_test(test_unused),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
