/*
 * The latency lookup table (src/nn/latency*.c) on a small chain space with depth and width
 * decisions, one thread: build, predictions, save/load round trip, keys, damaged cache files,
 * expected latency (one-hot = prediction) and its gradients against finite differences.
 * No assertion on timing accuracy: timings are noisy on a shared machine.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "nn/latency.h"

static const char tiny_yaml[] =
    "name: tiny-chain\n"
    "family: chain\n"
    "chain:\n"
    "  ops: [mb3_e3, mb5_e6, skip]\n"
    "  stem_channels: 8\n"
    "  head_channels: 32\n"
    "  width_multipliers: [0.5, 1.0]\n"
    "  stages:\n"
    "    - {channels: 8, stride: 1, depths: [1, 2]}\n"
    "    - {channels: 16, stride: 2, depths: [2]}\n";

typedef struct fix {
    nas_context_t *ctx;
    nas_space_t *space;
    nas__dev_t *dev;
    nas__latlut_t *t;
    nas__latlut_opts_t o;
    nas_arch_t *arch;
    nas_rng_t *rng;
    char path[512];
} fix_t;

static nas__latlut_opts_t small_opts(void)
{
    nas__latlut_opts_t o = NAS__LATLUT_OPTS_INIT;
    o.build.in_h = o.build.in_w = 12;
    o.build.num_classes = 4;
    o.warmup = 1;
    o.runs = 3;
    o.calib_archs = 2;
    return o;
}

static int setup(void **state)
{
    fix_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    nas_context_opts_t co = NAS_CONTEXT_OPTS_INIT;
    co.num_threads = 1;
    co.seed = 3;
    assert_int_equal(nas_context_create(&f->ctx, &co), NAS_OK);
    assert_int_equal(nas_space_load_string(&f->space, f->ctx, tiny_yaml, strlen(tiny_yaml), "tiny"), NAS_OK);
    assert_int_equal(nas__dev_create(&f->dev, f->ctx), NAS_OK);
    f->o = small_opts();
    char err[NAS_ERRMSG_CAP] = "";
    nas_status_t st = nas__latlut_build(&f->t, f->dev, f->space, &f->o, err);
    if (st != NAS_OK)
        fprintf(stderr, "build: %s\n", err);
    assert_int_equal(st, NAS_OK);
    assert_int_equal(nas_arch_create(&f->arch, f->space), NAS_OK);
    assert_int_equal(nas_rng_create(&f->rng, f->ctx, 5, 0), NAS_OK);
    snprintf(f->path, sizeof f->path, "%s/lut.txt", tu_tmpdir());
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix_t *f = *state;
    nas_rng_destroy(f->rng);
    nas_arch_destroy(f->arch);
    nas__latlut_destroy(f->t);
    nas__dev_destroy(f->dev);
    nas_space_destroy(f->space);
    nas_context_destroy(f->ctx);
    free(f);
    return 0;
}

/* One-hot probabilities of the current arch (inactive decisions: their choice 0, any value works). */
static void one_hot(const fix_t *f, double *p)
{
    uint32_t np = nas__latlut_num_probs(f->t), nd = nas_space_num_arch_dims(f->space);
    memset(p, 0, np * sizeof *p);
    for (uint32_t d = 0; d < nd; d++) {
        uint32_t c = 0;
        assert_int_equal(nas_arch_get(f->arch, d, &c), NAS_OK);
        p[nas__latlut_prob_offset(f->t, d) + c] = 1.0;
    }
}

static void test_build_predict(void **state)
{
    fix_t *f = *state;
    nas__latlut_info_t info;
    nas__latlut_info(f->t, &info);
    assert_true(info.measured > 0);
    assert_true(info.calibrated == 2 || info.calibrated == 0);   /* 0: an implausible fit, not applied */
    assert_true(info.scale > 0.0 && info.overhead_ms >= 0.0);
    assert_non_null(strstr(nas__latlut_key_of(f->t), "space=tiny-chain;"));
    assert_non_null(strstr(nas__latlut_key_of(f->t), ";threads=1"));
    uint32_t np = nas__latlut_num_probs(f->t);
    assert_int_equal(np, 2 + 2 + 3 + 2 + 3 + 2);   /* depth, 2 layers; 2 layers; width */
    double *p = calloc(np, sizeof *p);
    for (int i = 0; i < 20; i++) {
        double ms = -1.0, e = -1.0;
        assert_int_equal(nas_space_sample(f->space, f->arch, f->rng), NAS_OK);
        assert_int_equal(nas__latlut_predict(f->t, f->arch, &ms), NAS_OK);
        assert_true(isfinite(ms) && ms > 0.0);
        one_hot(f, p);
        assert_int_equal(nas__latlut_expected(f->t, p, &e, NULL), NAS_OK);
        assert_true(fabs(e - ms) <= 1e-12 * ms);
    }
    free(p);
}

static void check_grad(fix_t *f, bool softmax)
{
    uint32_t np = nas__latlut_num_probs(f->t);
    double *p = calloc(np, sizeof *p), *g = calloc(np, sizeof *g);
    for (uint32_t i = 0; i < np; i++)
        p[i] = softmax ? nas_rng_normal(f->rng) : 0.1 + nas_rng_uniform(f->rng);
    double e = 0.0;
    nas_status_t st = softmax ? nas__latlut_expected_softmax(f->t, p, &e, g) : nas__latlut_expected(f->t, p, &e, g);
    assert_int_equal(st, NAS_OK);
    for (uint32_t i = 0; i < np; i++) {
        double h = 1e-5, ep = 0.0, em = 0.0, keep = p[i];
        p[i] = keep + h;
        assert_int_equal(softmax ? nas__latlut_expected_softmax(f->t, p, &ep, NULL)
                                 : nas__latlut_expected(f->t, p, &ep, NULL), NAS_OK);
        p[i] = keep - h;
        assert_int_equal(softmax ? nas__latlut_expected_softmax(f->t, p, &em, NULL)
                                 : nas__latlut_expected(f->t, p, &em, NULL), NAS_OK);
        p[i] = keep;
        double fd = (ep - em) / (2 * h);
        if (fabs(fd - g[i]) > 1e-6 * (1.0 + fabs(e)))
            fail_msg("%s gradient %u: analytic %.10g, finite difference %.10g", softmax ? "alpha" : "p", i, g[i], fd);
    }
    if (softmax) {   /* a constant added to one decision's alphas changes nothing */
        double sum = 0.0;
        for (uint32_t i = 0; i < nas__latlut_prob_offset(f->t, 1); i++)
            sum += g[i];
        assert_true(fabs(sum) < 1e-9 * (1.0 + fabs(e)));
    }
    free(p);
    free(g);
}

static void test_gradient_p(void **state)
{
    check_grad(*state, false);
}

static void test_gradient_alpha(void **state)
{
    check_grad(*state, true);
}

/* Supernet layout: one-hot path weights of an arch at the supernet's width give its prediction. */
static void test_paths(void **state)
{
    fix_t *f = *state;
    char err[NAS_ERRMSG_CAP] = "";
    nas__graph_t *g = NULL;
    nas__supernet_map_t *map = NULL;
    assert_int_equal(nas__build_supernet_map(&g, &map, f->space, &f->o.build, NAS__MIXED_WEIGHTED, err), NAS_OK);
    uint32_t wd = 0;
    assert_int_equal(nas_space_find_dim(f->space, "width", &wd), NAS_OK);
    uint32_t *paths = calloc(map->num_mixed, sizeof *paths);
    double *w = calloc(map->total_paths, sizeof *w), *grad = calloc(map->total_paths, sizeof *grad);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(nas_space_sample(f->space, f->arch, f->rng), NAS_OK);
        assert_int_equal(nas_arch_set(f->arch, wd, 1), NAS_OK);   /* the supernet's (largest) width */
        assert_int_equal(nas__supernet_paths(map, f->arch, paths, err), NAS_OK);
        memset(w, 0, map->total_paths * sizeof *w);
        for (uint32_t m = 0, off = 0; m < map->num_mixed; off += map->mixed[m++].n_paths)
            w[off + paths[m]] = 1.0;
        double want = 0.0, got = -1.0;
        assert_int_equal(nas__latlut_predict(f->t, f->arch, &want), NAS_OK);
        assert_int_equal(nas__latlut_expected_paths(f->t, map, 1, w, &got, grad), NAS_OK);
        assert_true(fabs(got - want) <= 1e-12 * want);
    }
    double e0 = 0.0, e1 = 0.0;   /* linear: the gradient is the change per unit weight */
    assert_int_equal(nas__latlut_expected_paths(f->t, map, 1, w, &e0, grad), NAS_OK);
    w[0] += 1.0;
    assert_int_equal(nas__latlut_expected_paths(f->t, map, 1, w, &e1, NULL), NAS_OK);
    assert_true(fabs(e1 - e0 - grad[0]) <= 1e-12 * (1.0 + e1));
    assert_int_equal(nas__latlut_expected_paths(f->t, map, 2, w, &e0, NULL), NAS_E_INVAL);
    free(w);
    free(grad);
    free(paths);
    nas__supernet_map_destroy(map);
    nas__graph_destroy(g);
}

static void test_round_trip(void **state)
{
    fix_t *f = *state;
    char err[NAS_ERRMSG_CAP] = "";
    assert_int_equal(nas__latlut_save(f->t, f->path, err), NAS_OK);
    nas__latlut_t *u = NULL;
    assert_int_equal(nas__latlut_load(&u, f->dev, f->space, &f->o, f->path, err), NAS_OK);
    assert_string_equal(nas__latlut_key_of(u), nas__latlut_key_of(f->t));
    for (int i = 0; i < 20; i++) {
        double a = 0.0, b = 1.0;
        assert_int_equal(nas_space_sample(f->space, f->arch, f->rng), NAS_OK);
        assert_int_equal(nas__latlut_predict(f->t, f->arch, &a), NAS_OK);
        assert_int_equal(nas__latlut_predict(u, f->arch, &b), NAS_OK);
        assert_true(a == b);   /* hexadecimal floats: exact */
    }
    nas__latlut_info_t iu;
    nas__latlut_info(u, &iu);
    assert_true(iu.build_seconds == 0.0);
    nas__latlut_destroy(u);
    /* open() reuses a valid file */
    bool rebuilt = true;
    assert_int_equal(nas__latlut_open(&u, f->dev, f->space, &f->o, f->path, &rebuilt, err), NAS_OK);
    assert_false(rebuilt);
    nas__latlut_destroy(u);
}

static void test_key_change(void **state)
{
    fix_t *f = *state;
    char err[NAS_ERRMSG_CAP] = "";
    assert_int_equal(nas__latlut_save(f->t, f->path, err), NAS_OK);
    nas__latlut_opts_t o = f->o;
    o.build.num_classes = 5;
    char k1[NAS__LATLUT_KEY_CAP], k2[NAS__LATLUT_KEY_CAP];
    assert_int_equal(nas__latlut_key(f->dev, f->space, &f->o, k1), NAS_OK);
    assert_int_equal(nas__latlut_key(f->dev, f->space, &o, k2), NAS_OK);
    assert_string_not_equal(k1, k2);
    nas__latlut_t *u = NULL;
    assert_int_equal(nas__latlut_load(&u, f->dev, f->space, &o, f->path, err), NAS_E_STATE);
    assert_null(u);
    bool rebuilt = false;
    assert_int_equal(nas__latlut_open(&u, f->dev, f->space, &o, f->path, &rebuilt, err), NAS_OK);
    assert_true(rebuilt);
    assert_string_equal(nas__latlut_key_of(u), k2);
    nas__latlut_destroy(u);
    /* the file now holds the new key: open() with it again loads */
    assert_int_equal(nas__latlut_open(&u, f->dev, f->space, &o, f->path, &rebuilt, err), NAS_OK);
    assert_false(rebuilt);
    nas__latlut_destroy(u);
    /* another space with the same shape of decisions has another key */
    nas_space_t *s2 = NULL;
    char *yaml = strdup(tiny_yaml);
    memcpy(strstr(yaml, "channels: 16"), "channels: 24", 12);
    assert_int_equal(nas_space_load_string(&s2, f->ctx, yaml, strlen(yaml), "tiny2"), NAS_OK);
    assert_int_equal(nas__latlut_key(f->dev, s2, &f->o, k2), NAS_OK);
    assert_string_not_equal(k1, k2);
    nas_space_destroy(s2);
    free(yaml);
}

/* Write `text` of len bytes as the cache file. */
static void put(const char *path, const char *text, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    fclose(fp);
}

static void test_damaged(void **state)
{
    fix_t *f = *state;
    char err[NAS_ERRMSG_CAP] = "";
    assert_int_equal(nas__latlut_save(f->t, f->path, err), NAS_OK);
    size_t len = 0;
    char *good = tu_read_file(f->path, &len);
    assert_non_null(good);
    char *bad = malloc(len + 64);
    for (int k = 0; k < 7; k++) {
        size_t n = len;
        memcpy(bad, good, len);
        switch (k) {
        case 0: bad[len / 2] ^= 0x01; break;                 /* one flipped bit: checksum */
        case 1: n = len / 2; break;                          /* truncated */
        case 2: n = 0; break;                                /* empty */
        case 3: n = (size_t)snprintf(bad, 64, "garbage\n"); break;
        case 4: bad[len - 3] = 'x'; break;                   /* bad checksum digits */
        case 5: bad[3] = '\0'; break;                        /* a NUL byte */
        case 6: memcpy(strstr(bad, "op 0"), "op 9", 4); break; /* bad index (checksum also breaks) */
        }
        put(f->path, bad, n);
        nas__latlut_t *u = NULL;
        nas_status_t st = nas__latlut_load(&u, f->dev, f->space, &f->o, f->path, err);
        assert_true(st == NAS_E_CORRUPT || st == NAS_E_PARSE);
        assert_null(u);
        bool rebuilt = false;
        assert_int_equal(nas__latlut_open(&u, f->dev, f->space, &f->o, f->path, &rebuilt, err), NAS_OK);
        assert_true(rebuilt);
        nas__latlut_destroy(u);
        assert_int_equal(nas__latlut_load(&u, f->dev, f->space, &f->o, f->path, err), NAS_OK);
        nas__latlut_destroy(u);
    }
    /* a missing file: NOT_FOUND from load, a build from open */
    remove(f->path);
    nas__latlut_t *u = NULL;
    assert_int_equal(nas__latlut_load(&u, f->dev, f->space, &f->o, f->path, err), NAS_E_NOT_FOUND);
    free(bad);
    free(good);
}

static void test_bad_args(void **state)
{
    fix_t *f = *state;
    char err[NAS_ERRMSG_CAP] = "";
    nas__latlut_t *u = NULL;
    nas_space_t *cell = NULL;
    assert_int_equal(nas_space_load_file(&cell, f->ctx, tu_src_path("spaces/nas-bench-201.yaml")), NAS_OK);
    assert_int_equal(nas__latlut_build(&u, f->dev, cell, NULL, err), NAS_E_UNSUPPORTED);
    assert_null(u);
    nas_space_destroy(cell);
    nas__latlut_opts_t o = f->o;
    o.runs = 2;
    assert_int_equal(nas__latlut_build(&u, f->dev, f->space, &o, err), NAS_E_INVAL);
    assert_int_equal(nas__latlut_build(NULL, f->dev, f->space, &o, err), NAS_E_INVAL);
    o = f->o;
    o.rounds = 0;
    assert_int_equal(nas__latlut_build(&u, f->dev, f->space, &o, err), NAS_E_INVAL);
    assert_null(u);
    double ms = 0.0;
    assert_int_equal(nas__latlut_predict(f->t, NULL, &ms), NAS_E_INVAL);
    uint32_t np = nas__latlut_num_probs(f->t);
    double *p = calloc(np, sizeof *p);
    p[0] = NAN;
    assert_int_equal(nas__latlut_expected(f->t, p, &ms, NULL), NAS_E_INVAL);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_predict),
        cmocka_unit_test(test_gradient_p),
        cmocka_unit_test(test_gradient_alpha),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_key_change),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
