/* The nas tool's progress display (src/tools/progress.c): durations, budget fraction, ETA, line fitting, modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "progress.h"

/* |got - want| <= tol, with both values in the failure message. */
#define assert_near(got, want, tol)                                                                   \
    do {                                                                                              \
        double got_ = (got), want_ = (want);                                                          \
        if (!(fabs(got_ - want_) <= (tol)))                                                           \
            fail_msg("%s = %.17g, expected %.17g", #got, got_, want_);                                \
    } while (0)

static void check_duration(double seconds, const char *want)
{
    char buf[32];
    progress_duration(buf, sizeof buf, seconds);
    assert_string_equal(buf, want);
}

static void test_duration(void **state)
{
    (void)state;
    check_duration(0.0, "0s");
    check_duration(0.4, "0s");
    check_duration(7.0, "7s");
    check_duration(59.4, "59s");
    check_duration(59.6, "1m00s");   /* rounded first: never "60s" */
    check_duration(185.0, "3m05s");
    check_duration(3599.0, "59m59s");
    check_duration(3600.0, "1h00m");
    check_duration(3725.0, "1h02m");
    check_duration(86399.0, "23h59m");
    check_duration(86400.0 + 3 * 3600.0 + 59.0, "1d03h");
    check_duration(-1.0, "--");
    check_duration(NAN, "--");
    check_duration(INFINITY, "--");
    char small[4];
    progress_duration(small, sizeof small, 185.0);   /* cut, still terminated */
    assert_int_equal(strlen(small), 3);
}

static nas_progress_t prog(uint64_t done, double elapsed, double cost)
{
    nas_progress_t p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.trials_done = done;
    p.elapsed_seconds = elapsed;
    p.cost_seconds = cost;
    p.best_score = NAN;
    p.best_trial = UINT64_MAX;
    return p;
}

static void test_fraction(void **state)
{
    (void)state;
    progress_budget_t none = { 0, 0.0, 0.0 }, trials = { 20, 0.0, 0.0 }, both = { 20, 60.0, 0.0 },
                      cost = { 0, 0.0, 100.0 };
    nas_progress_t p = prog(5, 30.0, 90.0);
    assert_true(isnan(progress_fraction(&none, &p)));
    assert_near(progress_fraction(&trials, &p), 0.25, 1e-12);
    assert_near(progress_fraction(&both, &p), 0.5, 1e-12);    /* the time budget is further along */
    assert_near(progress_fraction(&cost, &p), 0.9, 1e-12);
    p = prog(25, 1.0, 0.0);
    assert_near(progress_fraction(&trials, &p), 1.0, 1e-12);  /* never past the end */
}

static void test_eta(void **state)
{
    (void)state;
    progress_budget_t none = { 0, 0.0, 0.0 }, trials = { 20, 0.0, 0.0 }, both = { 20, 20.0, 0.0 },
                      cost = { 0, 0.0, 100.0 }, time = { 0, 60.0, 0.0 };
    nas_progress_t p = prog(5, 10.0, 25.0);
    assert_true(isnan(progress_eta(&none, &p)));                    /* nothing bounds the run */
    assert_near(progress_eta(&trials, &p), 30.0, 1e-9);     /* 2 s a trial, 15 left */
    assert_near(progress_eta(&both, &p), 10.0, 1e-9);       /* the time budget ends first */
    assert_near(progress_eta(&cost, &p), 30.0, 1e-9);       /* 75 cost left at 0.4 s each */
    assert_near(progress_eta(&time, &p), 50.0, 1e-9);
    p = prog(0, 3.0, 0.0);
    assert_true(isnan(progress_eta(&trials, &p)));                  /* no trial yet: unknown */
    assert_near(progress_eta(&time, &p), 57.0, 1e-9);
    p = prog(20, 40.0, 0.0);
    assert_near(progress_eta(&trials, &p), 0.0, 1e-9);
    p = prog(3, 90.0, 0.0);
    assert_near(progress_eta(&time, &p), 0.0, 1e-9);        /* over time: 0, not negative */
}

static size_t columns(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static void test_search_line_fits(void **state)
{
    (void)state;
    progress_t p;
    progress_init(&p, stderr, 0, true);
    progress_budget_t b = { 300, 0.0, 0.0 };
    progress_attach_run(&p, NULL, &b, "test_acc");
    snprintf(p.note, sizeof p.note, "darts epoch 3/50 train_loss 0.1234 train_acc 88.12 val_acc 87.00 arch |é|");
    nas_progress_t np = prog(123, 75.0, 0.0);
    np.trials_failed = 4;
    np.best_score = 93.9867;
    np.best_trial = 117;
    char line[1024];
    for (int w = 1; w <= 220; w++) {
        progress_search_line(&p, &np, w, line, sizeof line);
        assert_true(columns(line) + 1 <= (size_t)(w > 1 ? w : 1));
        assert_false(has_control(line));
    }
    progress_search_line(&p, &np, 80, line, sizeof line);
    assert_non_null(strstr(line, "trial 123/300 (4 failed)"));
    assert_non_null(strstr(line, "% trial"));        /* a bar fits in 80 columns */
    assert_non_null(strstr(line, "eta 1m48s"));      /* 177 trials at 75/123 s each */
    progress_search_line(&p, &np, 220, line, sizeof line);
    assert_non_null(strstr(line, "best test_acc 93.9867 (trial 117)"));
    assert_non_null(strstr(line, "| darts epoch 3/50"));
    assert_non_null(strstr(line, "|é|"));
    /* No budget: no bar, and no estimate. */
    progress_budget_t unbounded = { 0, 0.0, 0.0 };
    progress_attach_run(&p, NULL, &unbounded, "test_acc");
    progress_search_line(&p, &np, 200, line, sizeof line);
    assert_null(strchr(line, '#'));
    assert_non_null(strstr(line, "trial 123 (4 failed)"));
    assert_non_null(strstr(line, "eta --"));
    progress_end(&p, false);
}

/* Read back what went to f. */
static char *slurp(FILE *f)
{
    long n = ftell(f);
    assert_true(n >= 0);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    rewind(f);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    return s;
}

static void test_plain_lines(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    progress_t p;
    progress_init(&p, f, 0, false);
    assert_true(p.lines);
    assert_false(p.bar);
    progress_budget_t b = { 3, 0.0, 0.0 };
    progress_attach_run(&p, NULL, &b, "acc");
    nas_progress_t np = prog(0, 0.5, 0.0);
    np.last_arch = "supernet epoch 1/2\twith a tab";
    progress_search_cb(&p, &np);                      /* a report: no trial finished */
    np = prog(1, 1.0, 0.0);
    np.best_score = 50.0;
    np.best_trial = 0;
    progress_search_cb(&p, &np);
    np = prog(2, 2.0, 0.0);
    np.last_status = NAS_E_DIVERGED;
    np.trials_failed = 1;
    np.best_score = 50.0;
    np.best_trial = 0;
    progress_search_cb(&p, &np);
    progress_end(&p, false);
    char *s = slurp(f);
    assert_false(strchr(s, '\r') || strchr(s, '\033') || strchr(s, '\t'));
    assert_string_equal(s, "[   0.5s] supernet epoch 1/2 with a tab\n"
                           "[   1.0s] trial 1/3 ok | best 50 (trial 0) | eta 2s\n"
                           "[   2.0s] trial 2/3 diverged | best 50 (trial 0) | eta 1s\n");
    free(s);
    fclose(f);
}

static void test_quiet_and_bar(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    progress_t p;
    progress_init(&p, f, -1, true);                   /* --quiet on a terminal: nothing */
    nas_progress_t np = prog(1, 1.0, 0.0);
    progress_search_cb(&p, &np);
    progress_end(&p, false);
    assert_int_equal(ftell(f), 0);

    progress_init(&p, f, 0, true);
    p.width = 100;
    progress_budget_t b = { 2, 0.0, 0.0 };
    progress_attach_run(&p, NULL, &b, "acc");
    np = prog(1, 0.01, 0.0);
    progress_search_cb(&p, &np);
    np = prog(2, 0.02, 0.0);                          /* the last trial: drawn though it comes soon */
    progress_search_cb(&p, &np);
    progress_suspend();                               /* a log line is coming: the bar goes */
    assert_false(p.drawn);
    progress_search_cb(&p, &np);
    progress_end(&p, true);                           /* interrupted: the last state stays, with a newline */
    char *s = slurp(f);
    assert_non_null(strstr(s, "\r\033[K[###################] 100% trial 2/2 | 0s, eta 0s"));   /* 99 / 5 wide */
    assert_ptr_equal(strchr(s, '\n'), s + strlen(s) - 1);   /* one newline, at the very end */
    free(s);
    fclose(f);
}

static void test_clock(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    progress_t p;
    progress_init(&p, f, 0, true);
    p.width = 100;
    progress_budget_t b = { 0, 10.0, 0.0 };
    progress_attach_run(&p, NULL, &b, "acc");
    nas_progress_t np = prog(1, 0.0, 0.0);
    progress_search_cb(&p, &np);
    progress_start_clock(&p);
    /* A long trial: no call, but the clock redraws the line with the time moved on (waits up to 30 s). */
    long first = -1, size = -1;
    for (int i = 0; i < 300 && size <= first; i++) {
        pthread_mutex_lock(&p.lock);
        size = ftell(f);
        if (first < 0)
            first = size;
        pthread_mutex_unlock(&p.lock);
        if (size <= first) {
            struct timespec ts = { 0, 100 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    progress_end(&p, false);
    char *s = slurp(f);
    assert_non_null(strstr(s, "]   0% trial 1 | 0s, eta 10s"));
    /* A later frame, K seconds on (K rounded): the bar at about 10 K % of the 10 s budget and the
     * estimate K seconds shorter (each rounded on its own, hence the slack). */
    bool moved = false;
    for (char *fr = strstr(s, "\r\033[K"); fr && !moved; fr = strstr(fr + 1, "\r\033[K")) {
        int pct, k, eta;
        if (sscanf(fr, "\r\033[K[%*[#-]] %d%% trial 1 | %ds, eta %ds", &pct, &k, &eta) == 3 && k >= 1)
            moved = abs(eta + k - 10) <= 1 && pct >= 10 * k - 5 && pct <= 10 * k + 5;
    }
    assert_true(moved);
    free(s);
    fclose(f);
}

static nas_train_progress_t step(uint64_t k, uint32_t epoch, double loss, double acc)
{
    nas_train_progress_t t;
    memset(&t, 0, sizeof t);
    t.struct_size = sizeof t;
    t.step = k;
    t.total_steps = 4;
    t.epoch = epoch;
    t.epochs = 2;
    t.loss = loss;
    t.accuracy = acc;
    t.lr = 0.05;
    t.elapsed_seconds = (double)k;
    return t;
}

static void test_train_epochs(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    progress_t p;
    progress_init(&p, f, 0, false);
    nas_train_progress_t t[4] = { step(1, 0, 2.0, 10.0), step(2, 0, 1.0, 30.0), step(3, 1, 0.5, 60.0),
                                  step(4, 1, 0.25, 80.0) };
    for (int i = 0; i < 4; i++)
        progress_train_cb(&p, &t[i]);
    progress_end(&p, false);
    char *s = slurp(f);
    /* Per epoch: the mean of its steps, the time and estimate as at its last step. */
    assert_string_equal(s, "[   2.0s] epoch 1/2 loss 1.5000 accuracy 20.00% lr 0.05 | eta 2s\n"
                           "[   4.0s] epoch 2/2 loss 0.3750 accuracy 70.00% lr 0.05 | eta 0s\n");
    free(s);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration),     cmocka_unit_test(test_fraction),
        cmocka_unit_test(test_eta),          cmocka_unit_test(test_search_line_fits),
        cmocka_unit_test(test_plain_lines),  cmocka_unit_test(test_quiet_and_bar),
        cmocka_unit_test(test_train_epochs), cmocka_unit_test(test_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
