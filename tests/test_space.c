/* Search spaces: shipped files, sizes, canonical strings, enumeration, sampling, mutation,
 * crossover, depth normalization, hyperparameters, the builder API, bad input, limits, OOM. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NB201_ARCH "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"

/* A small chain: layer 0 has 2 options (no skip), the others 3; stage 0 depth 1|2, stage 1 depth 2|3,
 * width 0.5|1. By hand: stage 0: 2 + 2*3 = 8; stage 1: 2*3 + 2*3*3 = 24; total 2 * 8 * 24 = 384. */
static const char small_chain[] =
    "name: small\n"
    "family: chain\n"
    "chain:\n"
    "  ops: [mb3_e3, mb5_e6, skip]\n"
    "  stem_channels: 16\n"
    "  width_multipliers: [0.5, 1.0]\n"
    "  stages:\n"
    "    - {channels: 16, stride: 1, depths: [1, 2]}\n"
    "    - {channels: 32, stride: 2, depths: [2, 3]}\n";

static nas_space_t *load_rel(nas_context_t *ctx, const char *rel)
{
    nas_space_t *s = NULL;
    nas_status_t st = nas_space_load_file(&s, ctx, tu_src_path(rel));
    if (st != NAS_OK)
        fail_msg("loading %s: %s: %s", rel, nas_status_name(st), nas_context_errmsg(ctx));
    return s;
}

static nas_space_t *load_text(nas_context_t *ctx, const char *yaml)
{
    nas_space_t *s = NULL;
    nas_status_t st = nas_space_load_string(&s, ctx, yaml, strlen(yaml), NULL);
    if (st != NAS_OK)
        fail_msg("loading YAML: %s: %s", nas_status_name(st), nas_context_errmsg(ctx));
    return s;
}

static nas_arch_t *new_arch(nas_space_t *s)
{
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, s), NAS_OK);
    return a;
}

/* Canonical string into a malloc'd buffer. */
static char *str_of(const nas_arch_t *a, uint32_t flags)
{
    size_t len = 0;
    char small[4];
    nas_status_t st = nas_arch_to_string(a, flags, small, sizeof small, &len);
    assert_int_equal(st, len < sizeof small ? NAS_OK : NAS_E_RANGE);
    char *buf = malloc(len + 1);
    assert_int_equal(nas_arch_to_string(a, flags, buf, len + 1, NULL), NAS_OK);
    assert_int_equal(strlen(buf), len);
    return buf;
}

static void assert_size(const nas_space_t *s, int32_t what, const char *expected)
{
    char buf[256];
    size_t len = 0;
    assert_int_equal(nas_space_size(s, what, buf, sizeof buf, &len), NAS_OK);
    assert_string_equal(buf, expected);
    assert_int_equal(len, strlen(expected));
}

static uint32_t dim_of(const nas_space_t *s, const char *name)
{
    uint32_t d = UINT32_MAX;
    assert_int_equal(nas_space_find_dim(s, name, &d), NAS_OK);
    return d;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* All strings distinct (sorts the array). */
static void assert_distinct(char **v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_str);
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i - 1], v[i]) == 0)
            fail_msg("duplicate string %s", v[i]);
}

static void free_all(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---------------------------------------------------------------------- */

static void test_nb201_space(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/nas-bench-201.yaml");
    assert_string_equal(nas_space_name(s), "nas-bench-201");
    assert_int_equal(nas_space_family(s), NAS_FAMILY_CELL);
    assert_int_equal(nas_space_num_dims(s), 6);
    assert_int_equal(nas_space_num_arch_dims(s), 6);
    assert_size(s, NAS_SIZE_ARCH, "15625");
    assert_size(s, NAS_SIZE_ALL, "15625");
    uint64_t n = 0;
    assert_int_equal(nas_space_size_u64(s, NAS_SIZE_ARCH, &n), NAS_OK);
    assert_int_equal(n, 15625);
    assert_int_equal(nas_space_grid_size(s, &n), NAS_OK);
    assert_int_equal(n, 15625);

    /* Edge j -> i is "cell/edge_i_j", in the order of the benchmark string. */
    static const char *const names[] = { "cell/edge_1_0", "cell/edge_2_0", "cell/edge_2_1",
                                         "cell/edge_3_0", "cell/edge_3_1", "cell/edge_3_2" };
    for (uint32_t d = 0; d < 6; d++) {
        nas_dim_info_t info;
        memset(&info, 0xab, sizeof info);
        info.struct_size = sizeof info;
        assert_int_equal(nas_space_dim_info(s, d, &info), NAS_OK);
        assert_string_equal(info.name, names[d]);
        assert_int_equal(info.kind, NAS_DIM_CATEGORICAL);
        assert_int_equal(info.role, NAS_ROLE_OP);
        assert_int_equal(info.num_choices, 5);
        assert_int_equal(info.parent, -1);
        assert_int_equal(dim_of(s, names[d]), d);
    }
    const char *label = NULL;
    assert_int_equal(nas_space_dim_label(s, 2, 3, &label), NAS_OK);
    assert_string_equal(label, "nor_conv_3x3");
    assert_int_equal(nas_space_dim_label(s, 2, 5, &label), NAS_E_RANGE);
    assert_int_equal(nas_space_dim_label(s, 6, 0, &label), NAS_E_RANGE);
    uint32_t d;
    assert_int_equal(nas_space_find_dim(s, "cell/edge_4_0", &d), NAS_E_NOT_FOUND);
    assert_non_null(strstr(nas_space_errmsg(s), "cell/edge_4_0"));

    /* An older, shorter nas_dim_info_t: nothing past its end is written. */
    unsigned char raw[sizeof(nas_dim_info_t) + 8];
    memset(raw, 0xcd, sizeof raw);
    size_t small = offsetof(nas_dim_info_t, num_choices);
    memcpy(raw, &small, sizeof small);
    assert_int_equal(nas_space_dim_info(s, 0, (nas_dim_info_t *)(void *)raw), NAS_OK);
    for (size_t i = small; i < sizeof raw; i++)
        assert_int_equal(raw[i], 0xcd);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_nb201_strings(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/nas-bench-201.yaml");
    nas_arch_t *a = new_arch(s);

    char *z = str_of(a, 0);
    assert_string_equal(z, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
    free(z);

    assert_int_equal(nas_arch_from_string(a, NB201_ARCH), NAS_OK);
    uint32_t c;
    assert_int_equal(nas_arch_get(a, dim_of(s, "cell/edge_3_0"), &c), NAS_OK);
    assert_int_equal(c, 1);   /* skip_connect */
    assert_int_equal(nas_arch_get(a, dim_of(s, "cell/edge_2_1"), &c), NAS_OK);
    assert_int_equal(c, 3);   /* nor_conv_3x3 */
    char *t = str_of(a, 0);
    assert_string_equal(t, NB201_ARCH);
    free(t);

    /* Building it by choices gives the same string. */
    nas_arch_t *b = new_arch(s);
    uint32_t choices[6] = { 3, 3, 3, 1, 3, 3 };
    for (uint32_t d = 0; d < 6; d++)
        assert_int_equal(nas_arch_set(b, d, choices[d]), NAS_OK);
    assert_true(nas_arch_equal(a, b));
    assert_int_equal(nas_arch_hash(a), nas_arch_hash(b));

    /* A buffer one byte short: NAS_E_RANGE, the length is still reported, no overflow. */
    size_t len = 0;
    char buf[sizeof NB201_ARCH];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(nas_arch_to_string(a, 0, buf, sizeof NB201_ARCH - 1, &len), NAS_E_RANGE);
    assert_int_equal(len, strlen(NB201_ARCH));
    assert_int_equal(buf[sizeof NB201_ARCH - 1], 'x');
    assert_int_equal(nas_arch_to_string(a, 0, buf, sizeof buf, &len), NAS_OK);
    nas_arch_destroy(a);
    nas_arch_destroy(b);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_from_string_rejects(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/nas-bench-201.yaml");
    nas_arch_t *a = new_arch(s), *before = new_arch(s);
    assert_int_equal(nas_arch_from_string(a, NB201_ARCH), NAS_OK);
    assert_int_equal(nas_arch_copy(before, a), NAS_OK);
    static const struct { const char *str; const char *where; } bad[] = {
        { "", "character 1" },
        { "garbage", "character 1" },
        { "|nor_conv_3x3~0|", "character 17" },
        { NB201_ARCH "extra", "character 96" },
        { "|nor_conv_3x3~0|+|nor_conv_9x9~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
          "character 19" },
        { "|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
          "character 15" },
        { "|nor_conv_3x3~0|+|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|", "character 34" },
        { "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
          "nor_conv_3x3~3|", "character 96" },
        { "|nor_conv_3x3~|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
          "character 15" },
        { "|nor_conv_3x3~0+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
          "character 16" },
        { "nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
          "character 1" },
        { NB201_ARCH ";lr=0.1", "unknown hyperparameter" },
        { "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|+", "character 96" },
        { "|~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|", "character 2" },
        { "|nor_conv_3x3~99999999999|+", "character 15" },
        { "|nor_conv_3x3~00|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
          "leading zeros" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nas_status_t st = nas_arch_from_string(a, bad[i].str);
        if (st != NAS_E_PARSE)
            fail_msg("'%s' gave %s, expected parse", bad[i].str, nas_status_name(st));
        if (!strstr(nas_space_errmsg(s), bad[i].where))
            fail_msg("'%s': message '%s' does not contain '%s'", bad[i].str, nas_space_errmsg(s), bad[i].where);
        assert_true(nas_arch_equal(a, before));
    }
    assert_int_equal(nas_arch_from_string(a, NULL), NAS_E_INVAL);
    nas_arch_destroy(a);
    nas_arch_destroy(before);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* Every enumerated NB201 string is distinct, round-trips, and is a key of the shipped benchmark table. */
static void test_nb201_enumerate(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/nas-bench-201.yaml");
    nas_arch_t *a = new_arch(s), *b = new_arch(s), *first = new_arch(s);
    char **v = calloc(15625, sizeof *v);
    for (uint64_t i = 0; i < 15625; i++) {
        assert_int_equal(nas_space_enumerate(s, a, i), NAS_OK);
        v[i] = str_of(a, 0);
        assert_int_equal(nas_arch_from_string(b, v[i]), NAS_OK);
        assert_true(nas_arch_equal(a, b));
    }
    assert_int_equal(nas_space_enumerate(s, a, 0), NAS_OK);
    assert_true(nas_arch_equal(a, first));   /* index 0 is the fresh arch */
    assert_int_equal(nas_space_enumerate(s, a, 15625), NAS_E_RANGE);
    assert_distinct(v, 15625);

    /* The table's keys: the same 15625 strings. */
    size_t len;
    char *csv = tu_read_file(tu_src_path("data/nb201/cifar10_test.csv"), &len);
    assert_non_null(csv);
    size_t found = 0;
    for (char *line = strtok(csv, "\n"); line; line = strtok(NULL, "\n")) {
        char *comma = strchr(line, ',');
        if (!comma || line[0] != '|')
            continue;
        *comma = '\0';
        found += bsearch(&line, v, 15625, sizeof *v, cmp_str) != NULL;
    }
    assert_int_equal(found, 15625);
    free(csv);
    free_all(v, 15625);
    nas_arch_destroy(a);
    nas_arch_destroy(b);
    nas_arch_destroy(first);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_darts(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/darts.yaml");
    assert_int_equal(nas_space_num_dims(s), 24);
    /* (180 * 8^8)^2 exactly. */
    assert_size(s, NAS_SIZE_ARCH, "9119789245425254400");
    assert_size(s, NAS_SIZE_ALL, "9119789245425254400");
    uint64_t n = 0;
    assert_int_equal(nas_space_size_u64(s, NAS_SIZE_ARCH, &n), NAS_OK);
    assert_true(n == 9119789245425254400ull);
    assert_int_equal(nas_space_grid_size(s, &n), NAS_OK);
    assert_true(n == 9119789245425254400ull);

    uint32_t in5 = dim_of(s, "reduce/node5/inputs");
    nas_dim_info_t info = { .struct_size = sizeof info };
    assert_int_equal(nas_space_dim_info(s, in5, &info), NAS_OK);
    assert_int_equal(info.role, NAS_ROLE_INPUTS);
    assert_int_equal(info.num_choices, 10);
    const char *label;
    assert_int_equal(nas_space_dim_label(s, in5, 0, &label), NAS_OK);
    assert_string_equal(label, "0,1");
    assert_int_equal(nas_space_dim_label(s, in5, 9, &label), NAS_OK);
    assert_string_equal(label, "3,4");
    assert_int_equal(nas_space_dim_info(s, dim_of(s, "normal/node2/inputs"), &info), NAS_OK);
    assert_int_equal(info.num_choices, 1);
    assert_int_equal(nas_space_dim_info(s, dim_of(s, "normal/node3/op1"), &info), NAS_OK);
    assert_int_equal(info.role, NAS_ROLE_OP);
    assert_int_equal(info.num_choices, 8);

    nas_arch_t *a = new_arch(s), *b = new_arch(s);
    char *z = str_of(a, 0);
    assert_string_equal(z, "normal:|none~0|none~1|+|none~0|none~1|+|none~0|none~1|+|none~0|none~1|"
                           "/reduce:|none~0|none~1|+|none~0|none~1|+|none~0|none~1|+|none~0|none~1|");
    free(z);
    /* Node 4 of the normal cell takes nodes 1 and 3 ("1,3" is pair 4 of 0,1 0,2 0,3 1,2 1,3 2,3). */
    assert_int_equal(nas_arch_set(a, dim_of(s, "normal/node4/inputs"), 4), NAS_OK);
    assert_int_equal(nas_arch_set(a, dim_of(s, "normal/node4/op0"), 4), NAS_OK);
    assert_int_equal(nas_arch_set(a, dim_of(s, "normal/node4/op1"), 7), NAS_OK);
    z = str_of(a, 0);
    assert_non_null(strstr(z, "+|sep_conv_3x3~1|dil_conv_5x5~3|+"));
    assert_int_equal(nas_arch_from_string(b, z), NAS_OK);
    assert_true(nas_arch_equal(a, b));
    free(z);

    /* Inputs out of order or repeated, missing type prefix: parse errors. */
    static const char *const bad[] = {
        "normal:|none~1|none~0|+|none~0|none~1|+|none~0|none~1|+|none~0|none~1|"
        "/reduce:|none~0|none~1|+|none~0|none~1|+|none~0|none~1|+|none~0|none~1|",
        "normal:|none~0|none~1|+|none~1|none~1|+|none~0|none~1|+|none~0|none~1|"
        "/reduce:|none~0|none~1|+|none~0|none~1|+|none~0|none~1|+|none~0|none~1|",
        "normal:|none~0|none~1|+|none~0|none~3|+|none~0|none~1|+|none~0|none~1|"
        "/reduce:|none~0|none~1|+|none~0|none~1|+|none~0|none~1|+|none~0|none~1|",
        "|none~0|none~1|+|none~0|none~1|+|none~0|none~1|+|none~0|none~1|",
        "normal:|none~0|none~1|+|none~0|none~1|+|none~0|none~1|+|none~0|none~1|",
        "normal:|none~0|none~1|none~1|+|none~0|none~1|+|none~0|none~1|+|none~0|none~1|"
        "/reduce:|none~0|none~1|+|none~0|none~1|+|none~0|none~1|+|none~0|none~1|",
        "reduce:|none~0|none~1|+|none~0|none~1|+|none~0|none~1|+|none~0|none~1|"
        "/normal:|none~0|none~1|+|none~0|none~1|+|none~0|none~1|+|none~0|none~1|",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (nas_arch_from_string(b, bad[i]) != NAS_E_PARSE)
            fail_msg("accepted %s", bad[i]);
        assert_true(nas_arch_equal(a, b));
    }

    /* Random archs round-trip. */
    nas_rng_t *rng;
    assert_int_equal(nas_rng_create(&rng, ctx, 5, 0), NAS_OK);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(nas_space_sample(s, a, rng), NAS_OK);
        char *t = str_of(a, 0);
        assert_int_equal(nas_arch_from_string(b, t), NAS_OK);
        assert_true(nas_arch_equal(a, b));
        free(t);
    }
    nas_rng_destroy(rng);
    nas_arch_destroy(a);
    nas_arch_destroy(b);
    nas_space_destroy(s);

    /* One cell type: no prefix. */
    s = load_text(ctx, "cell: {ops: [none, sep_conv_3x3], num_inputs: 2, num_nodes: 2, inputs_per_node: 2, "
                       "output: concat}\n");
    assert_size(s, NAS_SIZE_ARCH, "48");   /* (1 * 2^2) * (3 * 2^2) */
    a = new_arch(s);
    z = str_of(a, 0);
    assert_string_equal(z, "|none~0|none~1|+|none~0|none~1|");
    free(z);
    assert_int_equal(dim_of(s, "cell/node3/inputs"), 3);
    nas_arch_destroy(a);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_chain_size_and_enumerate(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_text(ctx, small_chain);
    assert_int_equal(nas_space_family(s), NAS_FAMILY_CHAIN);
    /* width + (depth + 2 layers) + (depth + 3 layers) */
    assert_int_equal(nas_space_num_dims(s), 8);
    assert_size(s, NAS_SIZE_ARCH, "384");
    uint64_t n = 0;
    assert_int_equal(nas_space_grid_size(s, &n), NAS_OK);
    assert_int_equal(n, 384);

    nas_dim_info_t info = { .struct_size = sizeof info };
    uint32_t l2 = dim_of(s, "stage1/layer2"), d1 = dim_of(s, "stage1/depth");
    assert_int_equal(nas_space_dim_info(s, l2, &info), NAS_OK);
    assert_int_equal(info.parent, (int32_t)d1);
    assert_int_equal(info.parent_min, 1);
    assert_int_equal(info.num_choices, 3);
    assert_int_equal(nas_space_dim_info(s, dim_of(s, "stage1/layer0"), &info), NAS_OK);
    assert_int_equal(info.parent, -1);
    assert_int_equal(info.num_choices, 2);   /* no skip in the first layer */
    assert_int_equal(nas_space_dim_info(s, dim_of(s, "width"), &info), NAS_OK);
    assert_int_equal(info.role, NAS_ROLE_WIDTH);
    assert_int_equal(nas_space_dim_info(s, d1, &info), NAS_OK);
    assert_int_equal(info.role, NAS_ROLE_DEPTH);

    nas_arch_t *a = new_arch(s), *b = new_arch(s);
    char **v = calloc(384, sizeof *v);
    uint64_t hashes[384];
    for (uint64_t i = 0; i < 384; i++) {
        assert_int_equal(nas_space_enumerate(s, a, i), NAS_OK);
        v[i] = str_of(a, 0);
        hashes[i] = nas_arch_hash(a);
        assert_int_equal(nas_arch_from_string(b, v[i]), NAS_OK);
        assert_true(nas_arch_equal(a, b));
        assert_int_equal(nas_arch_hash(b), hashes[i]);
        /* Inactive layers hold choice 0. */
        for (uint32_t d = 0; d < nas_space_num_dims(s); d++) {
            bool act;
            uint32_t c;
            assert_int_equal(nas_arch_is_active(a, d, &act), NAS_OK);
            assert_int_equal(nas_arch_get(a, d, &c), NAS_OK);
            if (!act)
                assert_int_equal(c, 0);
        }
    }
    assert_int_equal(nas_space_enumerate(s, a, 384), NAS_E_RANGE);
    assert_distinct(v, 384);
    for (int i = 0; i < 384; i++)
        for (int j = i + 1; j < 384; j++)
            assert_true(hashes[i] != hashes[j]);
    free_all(v, 384);
    nas_arch_destroy(a);
    nas_arch_destroy(b);
    nas_space_destroy(s);

    /* ProxylessNAS: (6 * 7^3)^5 * 6. */
    s = load_rel(ctx, "spaces/proxylessnas.yaml");
    assert_size(s, NAS_SIZE_ARCH, "221502229807900608");
    nas_space_destroy(s);
    /* Depth and width: 3 * (36 + 216 + 1296)^5 * 6 = 3 * 1548^5 * 6. */
    s = load_rel(ctx, "spaces/mobile-depth-width.yaml");
    assert_size(s, NAS_SIZE_ARCH, "160002690982631424");
    assert_size(s, NAS_SIZE_ALL, "inf");
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_chain_strings(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_text(ctx, small_chain);
    nas_arch_t *a = new_arch(s), *b = new_arch(s);
    char *z = str_of(a, 0);
    assert_string_equal(z, "width=0.5:mb3_e3|mb3_e3,mb3_e3");
    free(z);
    const char *good = "width=1:mb5_e6,skip|mb3_e3,skip,mb5_e6";
    assert_int_equal(nas_arch_from_string(a, good), NAS_OK);
    z = str_of(a, 0);
    assert_string_equal(z, good);
    free(z);
    uint32_t c;
    assert_int_equal(nas_arch_get(a, dim_of(s, "stage1/depth"), &c), NAS_OK);
    assert_int_equal(c, 1);
    double depth;
    assert_int_equal(nas_arch_get_value(a, dim_of(s, "stage1/depth"), &depth), NAS_OK);
    assert_true(depth == 3.0);
    assert_int_equal(nas_arch_get_value(a, dim_of(s, "width"), &depth), NAS_OK);
    assert_true(depth == 1.0);

    nas_arch_copy(b, a);
    static const char *const bad[] = {
        "mb5_e6,skip|mb3_e3,skip,mb5_e6",            /* no width */
        "width=0.7:mb5_e6,skip|mb3_e3,skip,mb5_e6",   /* not a multiplier of the space */
        "width=1:skip|mb3_e3,skip,mb5_e6",            /* first layer skip */
        "width=1:mb5_e6,skip,skip|mb3_e3,mb5_e6",     /* too many layers */
        "width=1:mb5_e6|mb3_e3",                      /* depth 1 not allowed in stage 1 */
        "width=1:mb5_e6|mb3_e3,mb3_e3|mb3_e3,mb3_e3", /* three stages */
        "width=1:mb5_e6",                             /* one stage */
        "width=1:mb5_e6,|mb3_e3,mb3_e3",              /* empty layer */
        "width=1:mb5_e3|mb3_e3,mb3_e3",               /* op not in the space */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (nas_arch_from_string(a, bad[i]) != NAS_E_PARSE)
            fail_msg("accepted %s", bad[i]);
        assert_non_null(strstr(nas_space_errmsg(s), "character"));
        assert_true(nas_arch_equal(a, b));
    }
    nas_arch_destroy(a);
    nas_arch_destroy(b);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_depth_normalization(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_text(ctx, small_chain);
    nas_arch_t *a = new_arch(s), *b = new_arch(s);
    uint32_t depth = dim_of(s, "stage1/depth"), l2 = dim_of(s, "stage1/layer2");
    bool act = true;
    assert_int_equal(nas_arch_is_active(a, l2, &act), NAS_OK);
    assert_false(act);
    /* An inactive decision can only be set to 0 (its canonical value). */
    assert_int_equal(nas_arch_set(a, l2, 2), NAS_E_STATE);
    assert_int_equal(nas_arch_set(a, l2, 0), NAS_OK);
    assert_int_equal(nas_arch_set(a, depth, 1), NAS_OK);
    assert_int_equal(nas_arch_is_active(a, l2, &act), NAS_OK);
    assert_true(act);
    assert_int_equal(nas_arch_set(a, l2, 2), NAS_OK);
    assert_false(nas_arch_equal(a, b));
    /* Back to depth 2: layer 2 is inactive again and reset, so a equals a fresh arch. */
    assert_int_equal(nas_arch_set(a, depth, 0), NAS_OK);
    uint32_t c = 9;
    assert_int_equal(nas_arch_get(a, l2, &c), NAS_OK);
    assert_int_equal(c, 0);
    assert_true(nas_arch_equal(a, b));
    assert_int_equal(nas_arch_hash(a), nas_arch_hash(b));

    /* Mutation and crossover keep the canonical form. */
    nas_rng_t *rng;
    assert_int_equal(nas_rng_create(&rng, ctx, 3, 0), NAS_OK);
    for (int i = 0; i < 500; i++) {
        assert_int_equal(nas_space_sample(s, a, rng), NAS_OK);
        assert_int_equal(nas_space_mutate(s, b, a, rng, 2), NAS_OK);
        assert_int_equal(nas_space_crossover(s, a, a, b, rng), NAS_OK);
        nas_arch_t *arcs[2] = { a, b };
        for (int k = 0; k < 2; k++) {
            for (uint32_t d = 0; d < nas_space_num_dims(s); d++) {
                assert_int_equal(nas_arch_is_active(arcs[k], d, &act), NAS_OK);
                assert_int_equal(nas_arch_get(arcs[k], d, &c), NAS_OK);
                if (!act)
                    assert_int_equal(c, 0);
            }
            /* Canonical: a string round trip gives the same hash. */
            char *t = str_of(arcs[k], 0);
            nas_arch_t *r = new_arch(s);
            assert_int_equal(nas_arch_from_string(r, t), NAS_OK);
            assert_true(nas_arch_equal(r, arcs[k]));
            assert_int_equal(nas_arch_hash(r), nas_arch_hash(arcs[k]));
            nas_arch_destroy(r);
            free(t);
        }
    }
    nas_rng_destroy(rng);
    nas_arch_destroy(a);
    nas_arch_destroy(b);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_sample(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/nas-bench-201.yaml");
    nas_arch_t *a = new_arch(s);
    nas_rng_t *r1, *r2, *r3;
    assert_int_equal(nas_rng_create(&r1, ctx, 42, 0), NAS_OK);
    assert_int_equal(nas_rng_create(&r2, ctx, 42, 0), NAS_OK);
    assert_int_equal(nas_rng_create(&r3, ctx, 43, 0), NAS_OK);
    uint32_t counts[6][5] = { { 0 } };
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(nas_space_sample(s, a, r1), NAS_OK);
        for (uint32_t d = 0; d < 6; d++) {
            uint32_t c;
            assert_int_equal(nas_arch_get(a, d, &c), NAS_OK);
            assert_true(c < 5);
            counts[d][c]++;
        }
    }
    /* Uniform: each op on each edge about 1000 times of 5000. */
    for (uint32_t d = 0; d < 6; d++)
        for (uint32_t c = 0; c < 5; c++)
            if (counts[d][c] < 850 || counts[d][c] > 1150)
                fail_msg("edge %u op %u drawn %u times of 5000", d, c, counts[d][c]);

    /* Deterministic for a seed; another seed gives another sequence. */
    nas_rng_destroy(r1);
    assert_int_equal(nas_rng_create(&r1, ctx, 42, 0), NAS_OK);
    int same = 0;
    nas_arch_t *b = new_arch(s), *c3 = new_arch(s);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(nas_space_sample(s, a, r1), NAS_OK);
        assert_int_equal(nas_space_sample(s, b, r2), NAS_OK);
        assert_int_equal(nas_space_sample(s, c3, r3), NAS_OK);
        assert_true(nas_arch_equal(a, b));
        same += nas_arch_equal(a, c3);
    }
    assert_true(same < 5);
    nas_rng_destroy(r1);
    nas_rng_destroy(r2);
    nas_rng_destroy(r3);
    nas_arch_destroy(a);
    nas_arch_destroy(b);
    nas_arch_destroy(c3);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static uint32_t count_diff(const nas_arch_t *a, const nas_arch_t *b, uint32_t dims)
{
    uint32_t n = 0;
    for (uint32_t d = 0; d < dims; d++) {
        double x, y;
        assert_int_equal(nas_arch_get_value(a, d, &x), NAS_OK);
        assert_int_equal(nas_arch_get_value(b, d, &y), NAS_OK);
        n += x != y;
    }
    return n;
}

static void test_mutate(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/nas-bench-201.yaml");
    nas_arch_t *p = new_arch(s), *c = new_arch(s);
    nas_rng_t *rng;
    assert_int_equal(nas_rng_create(&rng, ctx, 9, 0), NAS_OK);
    for (int rep = 0; rep < 200; rep++) {
        assert_int_equal(nas_space_sample(s, p, rng), NAS_OK);
        for (uint32_t k = 0; k <= 6; k++) {
            assert_int_equal(nas_space_mutate(s, c, p, rng, k), NAS_OK);
            assert_int_equal(count_diff(p, c, 6), k);
        }
        /* More edits than decisions: every decision changes once. */
        assert_int_equal(nas_space_mutate(s, c, p, rng, 50), NAS_OK);
        assert_int_equal(count_diff(p, c, 6), 6);
        /* In place. */
        assert_int_equal(nas_arch_copy(c, p), NAS_OK);
        assert_int_equal(nas_space_mutate(s, c, c, rng, 2), NAS_OK);
        assert_int_equal(count_diff(p, c, 6), 2);
    }
    nas_rng_destroy(rng);
    nas_arch_destroy(p);
    nas_arch_destroy(c);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_crossover(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/darts.yaml");
    uint32_t n = nas_space_num_dims(s);
    nas_arch_t *a = new_arch(s), *b = new_arch(s), *c = new_arch(s);
    /* b differs from a (all zeros) wherever a decision has a second option. */
    for (uint32_t d = 0; d < n; d++) {
        nas_dim_info_t info = { .struct_size = sizeof info };
        assert_int_equal(nas_space_dim_info(s, d, &info), NAS_OK);
        if (info.num_choices > 1)
            assert_int_equal(nas_arch_set(b, d, 1), NAS_OK);
    }
    nas_rng_t *rng;
    assert_int_equal(nas_rng_create(&rng, ctx, 11, 0), NAS_OK);
    uint32_t from_a = 0, from_b = 0;
    for (int rep = 0; rep < 300; rep++) {
        assert_int_equal(nas_space_crossover(s, c, a, b, rng), NAS_OK);
        for (uint32_t d = 0; d < n; d++) {
            uint32_t x, y, z;
            nas_arch_get(a, d, &x);
            nas_arch_get(b, d, &y);
            nas_arch_get(c, d, &z);
            assert_true(z == x || z == y);
        }
        /* A node's inputs and its two ops come from one parent (nodes 3..5 of both types). */
        static const char *const types[] = { "normal", "reduce" };
        for (int t = 0; t < 2; t++) {
            for (int node = 3; node <= 5; node++) {
                char name[64];
                snprintf(name, sizeof name, "%s/node%d/inputs", types[t], node);
                uint32_t d = dim_of(s, name), v0, v1, v2;
                nas_arch_get(c, d, &v0);
                nas_arch_get(c, d + 1, &v1);
                nas_arch_get(c, d + 2, &v2);
                assert_true(v0 == v1 && v1 == v2);
                from_a += v0 == 0;
                from_b += v0 == 1;
            }
        }
    }
    /* Both parents contribute, about half each. */
    assert_true(from_a > 700 && from_b > 700);
    nas_arch_destroy(a);
    nas_arch_destroy(b);
    nas_arch_destroy(c);
    nas_space_destroy(s);

    /* Chains: a stage's depth travels with its layers. */
    s = load_text(ctx, small_chain);
    a = new_arch(s);
    b = new_arch(s);
    c = new_arch(s);
    assert_int_equal(nas_arch_from_string(a, "width=0.5:mb5_e6|mb5_e6,mb5_e6"), NAS_OK);
    assert_int_equal(nas_arch_from_string(b, "width=1:mb3_e3,skip|mb3_e3,skip,skip"), NAS_OK);
    for (int rep = 0; rep < 200; rep++) {
        assert_int_equal(nas_space_crossover(s, c, a, b, rng), NAS_OK);
        char *t = str_of(c, 0);
        const char *stage1 = strchr(t, '|') + 1;
        assert_true(strcmp(stage1, "mb5_e6,mb5_e6") == 0 || strcmp(stage1, "mb3_e3,skip,skip") == 0);
        free(t);
    }
    nas_rng_destroy(rng);
    nas_arch_destroy(a);
    nas_arch_destroy(b);
    nas_arch_destroy(c);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_hparams(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/nb201-hparams.yaml");
    assert_int_equal(nas_space_num_dims(s), 10);
    assert_int_equal(nas_space_num_arch_dims(s), 6);
    assert_size(s, NAS_SIZE_ARCH, "15625");
    assert_size(s, NAS_SIZE_ALL, "inf");
    uint64_t n;
    assert_int_equal(nas_space_size_u64(s, NAS_SIZE_ALL, &n), NAS_E_RANGE);
    assert_int_equal(nas_space_grid_size(s, &n), NAS_OK);
    assert_int_equal(n, 15625ull * 3 * 3 * 2 * 41);

    uint32_t lr = dim_of(s, "lr"), bs = dim_of(s, "batch_size"), opt = dim_of(s, "optimizer"), ep = dim_of(s, "epochs");
    assert_int_equal(lr, 6);
    nas_dim_info_t info = { .struct_size = sizeof info };
    assert_int_equal(nas_space_dim_info(s, lr, &info), NAS_OK);
    assert_int_equal(info.kind, NAS_DIM_FLOAT);
    assert_int_equal(info.role, NAS_ROLE_HPARAM);
    assert_true(info.log_scale);
    assert_true(info.low == 0.001 && info.high == 0.1);
    assert_int_equal(nas_space_dim_info(s, ep, &info), NAS_OK);
    assert_int_equal(info.kind, NAS_DIM_INT);
    assert_int_equal(info.num_choices, 41);

    nas_arch_t *a = new_arch(s), *b = new_arch(s);
    double v;
    assert_int_equal(nas_arch_get_value(a, lr, &v), NAS_OK);
    assert_true(v == 0.001);   /* a fresh arch is grid point 0 */
    assert_int_equal(nas_arch_from_string(a, NB201_ARCH), NAS_OK);
    assert_int_equal(nas_arch_set_value(a, lr, 0.0123456789), NAS_OK);
    assert_int_equal(nas_arch_set_value(a, bs, 128), NAS_OK);
    assert_int_equal(nas_arch_set(a, opt, 1), NAS_OK);
    assert_int_equal(nas_arch_set_value(a, ep, 33), NAS_OK);
    assert_int_equal(nas_arch_set_value(a, ep, 33.5), NAS_E_RANGE);
    assert_int_equal(nas_arch_set_value(a, ep, 51), NAS_E_RANGE);
    assert_int_equal(nas_arch_set_value(a, lr, 0.2), NAS_E_RANGE);
    assert_int_equal(nas_arch_set_value(a, lr, NAN), NAS_E_RANGE);
    assert_int_equal(nas_arch_set_value(a, bs, 100), NAS_E_RANGE);
    assert_int_equal(nas_arch_get(a, lr, &(uint32_t){ 0 }), NAS_E_INVAL);
    char *t = str_of(a, 0);
    assert_string_equal(t, NB201_ARCH ";lr=0.0123456789;batch_size=128;optimizer=adam;epochs=33");
    assert_int_equal(nas_arch_from_string(b, t), NAS_OK);
    assert_true(nas_arch_equal(a, b));
    free(t);
    t = str_of(a, NAS_STRING_ARCH_ONLY);
    assert_string_equal(t, NB201_ARCH);
    free(t);
    assert_int_equal(nas_arch_get_value(b, bs, &v), NAS_OK);
    assert_true(v == 128);
    assert_int_equal(nas_arch_get_value(b, opt, &v), NAS_OK);
    assert_true(v == 1);   /* a word label: its index */

    /* A partial string keeps the other hyperparameters. */
    assert_int_equal(nas_arch_from_string(b, NB201_ARCH ";epochs=10"), NAS_OK);
    assert_int_equal(nas_arch_get_value(b, ep, &v), NAS_OK);
    assert_true(v == 10);
    assert_int_equal(nas_arch_get_value(b, lr, &v), NAS_OK);
    assert_true(v == 0.0123456789);
    static const char *const bad[] = {
        NB201_ARCH ";lr=0.5", NB201_ARCH ";lr=abc", NB201_ARCH ";lr=nan", NB201_ARCH ";lr=",
        NB201_ARCH ";batch_size=100", NB201_ARCH ";epochs=9", NB201_ARCH ";epochs=1.5",
        NB201_ARCH ";epochs=10;epochs=11", NB201_ARCH ";momentum=0.9", NB201_ARCH ";lr", NB201_ARCH ";",
    };
    nas_arch_copy(a, b);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (nas_arch_from_string(b, bad[i]) != NAS_E_PARSE)
            fail_msg("accepted %s", bad[i]);
        assert_true(nas_arch_equal(a, b));
    }

    /* Log-uniform sampling: about half the draws below the geometric middle (0.01). */
    nas_rng_t *rng;
    assert_int_equal(nas_rng_create(&rng, ctx, 1, 0), NAS_OK);
    int below = 0;
    for (int i = 0; i < 4000; i++) {
        assert_int_equal(nas_space_sample(s, a, rng), NAS_OK);
        assert_int_equal(nas_arch_get_value(a, lr, &v), NAS_OK);
        assert_true(v >= 0.001 && v <= 0.1);
        below += v < 0.01;
        /* Round trip of the shortest float form. */
        t = str_of(a, 0);
        assert_int_equal(nas_arch_from_string(b, t), NAS_OK);
        assert_true(nas_arch_equal(a, b));
        free(t);
    }
    assert_true(below > 1800 && below < 2200);
    /* Float mutations stay in range and move. */
    for (int i = 0; i < 500; i++) {
        assert_int_equal(nas_space_mutate(s, b, a, rng, 10), NAS_OK);
        assert_int_equal(count_diff(a, b, 10), 10);
        assert_int_equal(nas_arch_get_value(b, lr, &v), NAS_OK);
        assert_true(v >= 0.001 && v <= 0.1);
    }
    /* Grid: lr on 3 log-spaced points, both ends exact. */
    double seen[3] = { 0 };
    for (uint64_t i = 0; i < 3; i++) {
        /* The last decision varies fastest: lr is 4th from the end (x 3 x 2 x 41). */
        assert_int_equal(nas_space_enumerate(s, a, i * 3 * 2 * 41), NAS_OK);
        assert_int_equal(nas_arch_get_value(a, lr, &seen[i]), NAS_OK);
    }
    assert_true(seen[0] == 0.001 && seen[2] == 0.1);
    assert_true(fabs(seen[1] - 0.01) < 1e-12);
    nas_rng_destroy(rng);
    nas_arch_destroy(a);
    nas_arch_destroy(b);
    nas_space_destroy(s);

    /* Hyperparameters only: the string starts with ';'. */
    s = load_text(ctx, "name: hp\nfamily: none\nhyperparameters:\n"
                       "  - {name: wd, type: float, low: 0, high: 0.01}\n"
                       "  - {name: act, type: categorical, choices: [relu, \"gelu\"]}\n"
                       "  - {name: layers, type: int, low: -2, high: 2}\n");
    assert_int_equal(nas_space_family(s), NAS_FAMILY_NONE);
    assert_size(s, NAS_SIZE_ARCH, "1");
    assert_size(s, NAS_SIZE_ALL, "inf");
    a = new_arch(s);
    b = new_arch(s);
    t = str_of(a, 0);
    assert_string_equal(t, ";wd=0;act=relu;layers=-2");
    free(t);
    assert_int_equal(nas_arch_from_string(a, ";wd=0.005;act=gelu;layers=1"), NAS_OK);
    t = str_of(a, 0);
    assert_string_equal(t, ";wd=0.005;act=gelu;layers=1");
    assert_int_equal(nas_arch_from_string(b, t), NAS_OK);
    assert_true(nas_arch_equal(a, b));
    free(t);
    t = str_of(a, NAS_STRING_ARCH_ONLY);
    assert_string_equal(t, "");
    free(t);
    assert_int_equal(nas_space_grid_size(s, &n), NAS_OK);
    assert_int_equal(n, 5 * 2 * 5);
    nas_arch_destroy(a);
    nas_arch_destroy(b);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* The NB201 space and the small chain built through the C API equal the YAML ones. */
static void assert_same_space(nas_space_t *x, nas_space_t *y)
{
    assert_int_equal(nas_space_num_dims(x), nas_space_num_dims(y));
    assert_int_equal(nas_space_family(x), nas_space_family(y));
    char bx[64], by[64];
    assert_int_equal(nas_space_size(x, NAS_SIZE_ARCH, bx, sizeof bx, NULL), NAS_OK);
    assert_int_equal(nas_space_size(y, NAS_SIZE_ARCH, by, sizeof by, NULL), NAS_OK);
    assert_string_equal(bx, by);
    for (uint32_t d = 0; d < nas_space_num_dims(x); d++) {
        nas_dim_info_t ix = { .struct_size = sizeof ix }, iy = { .struct_size = sizeof iy };
        assert_int_equal(nas_space_dim_info(x, d, &ix), NAS_OK);
        assert_int_equal(nas_space_dim_info(y, d, &iy), NAS_OK);
        assert_string_equal(ix.name, iy.name);
        assert_int_equal(ix.num_choices, iy.num_choices);
        assert_int_equal(ix.parent, iy.parent);
        assert_int_equal(ix.parent_min, iy.parent_min);
    }
    uint64_t g;
    assert_int_equal(nas_space_grid_size(x, &g), NAS_OK);
    nas_arch_t *a = new_arch(x), *b = new_arch(y);
    for (uint64_t i = 0; i < g; i += 7) {
        assert_int_equal(nas_space_enumerate(x, a, i), NAS_OK);
        assert_int_equal(nas_space_enumerate(y, b, i), NAS_OK);
        char *sa = str_of(a, 0), *sb = str_of(b, 0);
        assert_string_equal(sa, sb);
        free(sa);
        free(sb);
    }
    nas_arch_destroy(a);
    nas_arch_destroy(b);
}

static nas_status_t build_nb201(nas_context_t *ctx, nas_space_t **out)
{
    static const char *const ops[] = { "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3" };
    nas_space_t *s = NULL;
    nas_status_t st = nas_space_create(&s, ctx, "nas-bench-201");
    if (st != NAS_OK)
        return st;
    nas_cell_spec_t cell = { sizeof cell, ops, 5, 1, 3, 0, NULL, 0, NAS_CELL_OUTPUT_LAST };
    nas_macro_stage_t stages[3] = { { 5, 16 }, { 5, 32 }, { 5, 64 } };
    nas_macro_spec_t macro = { sizeof macro, 16, stages, 3, NAS_REDUCTION_RESIDUAL };
    if ((st = nas_space_set_cell(s, &cell)) != NAS_OK || (st = nas_space_set_macro(s, &macro)) != NAS_OK ||
        (st = nas_space_build(s)) != NAS_OK) {
        nas_space_destroy(s);
        return st;
    }
    *out = s;
    return NAS_OK;
}

static void test_builder_matches_yaml(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *y = load_rel(ctx, "spaces/nas-bench-201.yaml"), *c = NULL;
    assert_int_equal(build_nb201(ctx, &c), NAS_OK);
    assert_same_space(y, c);
    assert_string_equal(nas_space_name(c), "nas-bench-201");
    /* The loaded space keeps its file's text; the built one has none. */
    const char *text = NULL;
    size_t len = 0;
    assert_int_equal(nas_space_yaml(y, &text, &len), NAS_OK);
    size_t file_len = 0;
    char *file = tu_read_file(NAS_SOURCE_ROOT "/spaces/nas-bench-201.yaml", &file_len);
    assert_non_null(file);
    assert_int_equal(len, file_len);
    assert_memory_equal(text, file, len);
    assert_int_equal(text[len], '\0');
    free(file);
    assert_int_equal(nas_space_yaml(c, &text, &len), NAS_E_NOT_FOUND);
    assert_non_null(strstr(nas_space_errmsg(c), "not loaded from YAML"));
    assert_int_equal(nas_space_yaml(NULL, &text, &len), NAS_E_INVAL);
    assert_int_equal(nas_space_yaml(y, NULL, &len), NAS_E_INVAL);
    /* Frozen after build. */
    nas_hparam_spec_t hp = { sizeof hp, "lr", NAS_DIM_FLOAT, 0.1, 1, false, NULL, 0, 0 };
    assert_int_equal(nas_space_add_hparam(c, &hp), NAS_E_STATE);
    assert_int_equal(nas_space_build(c), NAS_E_STATE);
    nas_space_destroy(y);
    nas_space_destroy(c);

    y = load_text(ctx, small_chain);
    assert_int_equal(nas_space_yaml(y, &text, NULL), NAS_OK);
    assert_string_equal(text, small_chain);
    assert_int_equal(nas_space_create(&c, ctx, "small"), NAS_OK);
    static const char *const ops[] = { "mb3_e3", "mb5_e6", "skip" };
    double widths[] = { 0.5, 1.0 };
    nas_chain_spec_t chain = { sizeof chain, ops, 3, 16, 0, widths, 2 };
    uint32_t d0[] = { 1, 2 }, d1[] = { 2, 3 };
    nas_stage_spec_t s0 = { sizeof s0, 16, 1, d0, 2 }, s1 = { sizeof s1, 32, 2, d1, 2 };
    assert_int_equal(nas_space_set_chain(c, &chain), NAS_OK);
    assert_int_equal(nas_space_add_stage(c, &s0), NAS_OK);
    assert_int_equal(nas_space_add_stage(c, &s1), NAS_OK);
    /* Not yet built: no archs. */
    nas_arch_t *a = (nas_arch_t *)0x1;
    assert_int_equal(nas_arch_create(&a, c), NAS_E_STATE);
    assert_null(a);
    assert_int_equal(nas_space_build(c), NAS_OK);
    assert_same_space(y, c);
    nas_space_destroy(y);
    nas_space_destroy(c);

    /* Builder errors: status and message on the space. */
    assert_int_equal(nas_space_create(&c, ctx, "bad"), NAS_OK);
    uint32_t dz[] = { 2, 2 };
    nas_stage_spec_t sz = { sizeof sz, 16, 1, dz, 2 };
    assert_int_equal(nas_space_add_stage(c, &sz), NAS_E_SPEC);
    assert_non_null(strstr(nas_space_errmsg(c), "strictly increasing"));
    sz.depths = d0;
    sz.stride = 3;
    assert_int_equal(nas_space_add_stage(c, &sz), NAS_E_SPEC);
    assert_non_null(strstr(nas_space_errmsg(c), "stride"));
    assert_int_equal(nas_space_set_chain(c, NULL), NAS_E_INVAL);
    static const char *const bad_ops[] = { "mb3_e3", "mb9_e6" };
    chain.ops = bad_ops;
    chain.num_ops = 2;
    assert_int_equal(nas_space_set_chain(c, &chain), NAS_E_SPEC);
    assert_non_null(strstr(nas_space_errmsg(c), "mb9_e6"));
    assert_int_equal(nas_space_build(c), NAS_E_SPEC);   /* nothing to search */
    nas_hparam_spec_t h2 = { sizeof h2, "lr", NAS_DIM_FLOAT, 1e-3, 1e-1, true, NULL, 0, 0 };
    assert_int_equal(nas_space_add_hparam(c, &h2), NAS_OK);
    assert_int_equal(nas_space_add_hparam(c, &h2), NAS_E_SPEC);
    assert_non_null(strstr(nas_space_errmsg(c), "duplicate"));
    assert_int_equal(nas_space_build(c), NAS_OK);
    nas_space_destroy(c);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Bad input                                                                */

struct bad_case {
    const char *yaml;
    nas_status_t status;
    const char *expect;   /* substring of the message */
};

static void test_bad_yaml(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        /* syntax */
        { "name: broken\nfamily: cell\ncell: [ops, {\n  oops\n", NAS_E_PARSE, "<string>:5:1:" },
        { "name: x\n  bad: indent\n", NAS_E_PARSE, "<string>:2:6:" },
        { "cell: {ops: [none], num_nodes: 1}\ncell: {ops: [none], num_nodes: 2}\n", NAS_E_PARSE, "duplicate key 'cell'" },
        { "a: &x [1]\nb: *x\n", NAS_E_PARSE, "<string>:1:4: anchors" },
        { "name: x\n---\nname: y\n", NAS_E_PARSE, "more than one YAML document" },
        { "", NAS_E_SPEC, "empty" },
        { "[1, 2]\n", NAS_E_SPEC, "<string>:1:1: a space must be a mapping" },
        /* keys */
        { "name: x\nfamly: cell\n", NAS_E_SPEC, "<string>:2:1: unknown key 'famly' in a space (did you mean 'family'?)" },
        { "cell: {ops: [none], num_nodes: 1, outptu: last}\n", NAS_E_SPEC, "<string>:1:35: unknown key 'outptu'" },
        { "cell: {ops: [none]}\n", NAS_E_SPEC, "needs the key 'num_nodes'" },
        /* ops */
        { "cell:\n  ops: [none, nor_conv_9x9]\n  num_nodes: 3\n", NAS_E_SPEC, "<string>:2:15: unknown op 'nor_conv_9x9'" },
        { "cell:\n  ops: []\n  num_nodes: 3\n", NAS_E_SPEC, "<string>:2:8: the op list is empty" },
        { "cell:\n  ops: [none, none]\n  num_nodes: 3\n", NAS_E_SPEC, "<string>:2:15: duplicate op 'none'" },
        { "cell:\n  ops: {none: 1}\n  num_nodes: 3\n", NAS_E_SPEC, "<string>:2:8: cell.ops must be a list" },
        { "cell:\n  ops: none\n  num_nodes: 3\n", NAS_E_SPEC, "<string>:2:8: cell.ops must be a list" },
        { "chain:\n  ops: [mb3_e3, sep_conv_3x3]\n  stem_channels: 8\n  stages: [{channels: 8, depths: [1]}]\n",
          NAS_E_SPEC, "<string>:2:17: unknown op 'sep_conv_3x3'" },
        /* types and values */
        { "cell:\n  ops: [none]\n  num_nodes: three\n", NAS_E_SPEC, "<string>:3:14: cell.num_nodes must be an integer" },
        { "cell:\n  ops: [none]\n  num_nodes: \"3\"\n", NAS_E_SPEC, "<string>:3:14: cell.num_nodes must be an integer" },
        { "cell:\n  ops: [none]\n  num_nodes: 0\n", NAS_E_SPEC, "<string>:3:14: num_nodes must be at least 1" },
        { "cell:\n  ops: [none]\n  num_nodes: 40\n", NAS_E_RANGE, "<string>:3:14:" },
        { "cell:\n  ops: [none]\n  num_nodes: 3\n  inputs_per_node: 2\n", NAS_E_SPEC,
          "<string>:4:20: inputs_per_node is 2" },
        { "cell:\n  ops: [none]\n  num_nodes: 3\n  output: sum\n", NAS_E_SPEC, "<string>:4:11: cell.output must be last or concat" },
        { "cell:\n  ops: [none]\n  num_nodes: 3\n  cell_types: [normal, normal]\n", NAS_E_SPEC,
          "<string>:4:24: duplicate cell type name 'normal'" },
        { "cell: {ops: [none], num_nodes: 1}\nmacro: {stem_channels: -4, stages: [{cells: 1, channels: 8}]}\n",
          NAS_E_SPEC, "<string>:2:24: stem_channels must be in 1..65536" },
        { "cell: {ops: [none], num_nodes: 1}\nmacro:\n  stem_channels: 8\n  stages:\n    - {cells: 1, channels: 8}\n"
          "    - {cells: 1, channels: 0}\n", NAS_E_SPEC, "<string>:6:28: macro stage 1: channels" },
        { "cell: {ops: [none], num_nodes: 1}\nmacro: {stem_channels: 8, stages: [{cells: 1, channels: 8}], "
          "reduction: cell}\n", NAS_E_SPEC, "reduction 'cell' needs a cell type named 'reduce'" },
        { "cell: {ops: [none], num_nodes: 1}\nmacro: {stem_channels: 8, stages: {cells: 1}}\n", NAS_E_SPEC,
          "<string>:2:35: macro.stages must be a list" },
        /* chains */
        { "chain:\n  ops: [mb3_e3]\n  stem_channels: 8\n  stages:\n    - {channels: 8, stride: 3, depths: [1]}\n",
          NAS_E_SPEC, "<string>:5:29: stage 0: stride must be 1 or 2" },
        { "chain:\n  ops: [mb3_e3]\n  stem_channels: 8\n  stages:\n    - {channels: 8, depths: [3, 2]}\n",
          NAS_E_SPEC, "<string>:5:33: stage 0: depths must be strictly increasing" },
        { "chain:\n  ops: [mb3_e3]\n  stem_channels: 8\n  stages:\n    - {channels: -8, depths: [1]}\n",
          NAS_E_SPEC, "<string>:5:18: stage 0: channels" },
        { "chain:\n  ops: [mb3_e3]\n  stem_channels: 8\n  stages:\n    - {channels: 8, depths: 2}\n",
          NAS_E_SPEC, "<string>:5:29: depths must be a list" },
        { "chain:\n  ops: [skip]\n  stem_channels: 8\n  stages: [{channels: 8, depths: [1]}]\n",
          NAS_E_SPEC, "first layer of a stage cannot be skip" },
        { "chain:\n  ops: [mb3_e3]\n  stem_channels: 8\n  width_multipliers: [1.0, 0]\n  stages: [{channels: 8, depths: [1]}]\n",
          NAS_E_SPEC, "<string>:4:28: width multiplier 1" },
        { "chain:\n  ops: [mb3_e3]\n  stem_channels: 8\n  stages: []\n", NAS_E_SPEC, "at least one stage" },
        { "family: cell\nchain:\n  ops: [mb3_e3]\n  stem_channels: 8\n  stages: [{channels: 8, depths: [1]}]\n",
          NAS_E_SPEC, "<string>:1:9: family cell needs a 'cell' section" },
        { "cell: {ops: [none], num_nodes: 1}\nchain: {ops: [mb3_e3]}\n", NAS_E_SPEC, "<string>:2:1: a space has a 'cell' or a 'chain'" },
        /* hyperparameters */
        { "hyperparameters:\n  - {name: lr, type: float, low: 0, high: 1, log_scale: true}\n", NAS_E_SPEC,
          "<string>:2:34: hyperparameter 'lr': log_scale needs low > 0" },
        { "hyperparameters:\n  - {name: lr, type: float, low: 2, high: 1}\n", NAS_E_SPEC,
          "<string>:2:34: hyperparameter 'lr': low (2) is greater than high (1)" },
        { "hyperparameters:\n  - {name: lr, type: float, low: .nan, high: 1}\n", NAS_E_SPEC, "<string>:2:34: low is NaN" },
        { "hyperparameters:\n  - {name: lr, type: float, low: 0.1, high: .inf}\n", NAS_E_SPEC, "<string>:2:45: high must be" },
        { "hyperparameters:\n  - {name: lr, type: float, low: abc, high: 1}\n", NAS_E_SPEC, "<string>:2:34: low must be a number" },
        { "hyperparameters:\n  - {name: lr, type: float, low: 1, high: 2}\n  - {name: lr, type: int, low: 1, high: 2}\n",
          NAS_E_SPEC, "<string>:3:12: duplicate hyperparameter name 'lr'" },
        { "hyperparameters:\n  - {name: bs, type: categorical, choices: [32, 32]}\n", NAS_E_SPEC,
          "<string>:2:49: hyperparameter 'bs': duplicate choice '32'" },
        { "hyperparameters:\n  - {name: bs, type: categorical, choices: []}\n", NAS_E_SPEC, "the list of choices is empty" },
        { "hyperparameters:\n  - {name: bs, type: categorical, choices: [a], low: 1}\n", NAS_E_SPEC,
          "<string>:2:49: key 'low' does not apply" },
        { "hyperparameters:\n  - {name: n, type: int, low: 1.5, high: 4}\n", NAS_E_SPEC, "low must be an integer" },
        { "hyperparameters:\n  - {name: n, type: integer, low: 1, high: 4}\n", NAS_E_SPEC, "<string>:2:21: type must be" },
        { "hyperparameters:\n  - {name: \"a b\", type: int, low: 1, high: 4}\n", NAS_E_SPEC, "<string>:2:12: hyperparameter 0: the name" },
        { "hyperparameters:\n  - {name: c, type: categorical, choices: [\"a;b\"]}\n", NAS_E_SPEC, "<string>:2:44: hyperparameter 'c': choice 0 must match" },
        { "hyperparameters: {name: lr}\n", NAS_E_SPEC, "<string>:1:18: hyperparameters must be a list" },
        { "name: x\n", NAS_E_SPEC, "no decisions" },
        { "name: [x]\ncell: {ops: [none], num_nodes: 1}\n", NAS_E_SPEC, "<string>:1:7: name must be a string" },
    };
    nas_context_t *ctx = tu_context_plain(1);
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nas_space_t *s = (nas_space_t *)0x1;
        nas_status_t st = nas_space_load_string(&s, ctx, cases[i].yaml, strlen(cases[i].yaml), NULL);
        const char *msg = nas_context_errmsg(ctx);
        if (st != cases[i].status || !strstr(msg, cases[i].expect)) {
            print_error("case %zu:\n%s\ngave %s '%s', expected %s with '%s'\n\n", i, cases[i].yaml,
                        nas_status_name(st), msg, nas_status_name(cases[i].status), cases[i].expect);
            failures++;
        }
        assert_null(s);
        assert_null(strchr(msg, '\n'));   /* one line */
    }
    assert_int_equal(failures, 0);
    nas_context_destroy(ctx);
}

static void test_limits(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = NULL;
    char path[512];
    const char *dir = tu_tmpdir();

    /* A file over the size limit is refused before parsing. */
    snprintf(path, sizeof path, "%s/big.yaml", dir);
    size_t big = NAS_SPACE_MAX_FILE_BYTES + 1;
    char *text = malloc(big + 1);
    memset(text, '#', big);
    text[big] = '\0';
    assert_int_equal(tu_write_file(path, text), 0);
    assert_int_equal(nas_space_load_file(&s, ctx, path), NAS_E_RANGE);
    assert_non_null(strstr(nas_context_errmsg(ctx), "limit"));
    assert_int_equal(nas_space_load_string(&s, ctx, text, big, "big"), NAS_E_RANGE);
    free(text);

    /* Missing file, folder. */
    snprintf(path, sizeof path, "%s/missing.yaml", dir);
    assert_int_equal(nas_space_load_file(&s, ctx, path), NAS_E_IO);
    assert_non_null(strstr(nas_context_errmsg(ctx), "missing.yaml"));
    assert_int_equal(nas_space_load_file(&s, ctx, dir), NAS_E_IO);

    /* Billion laughs: aliases are refused at the first one. */
    const char *laughs = "a: [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                         "b: [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                         "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
    assert_int_equal(nas_space_load_string(&s, ctx, laughs, strlen(laughs), NULL), NAS_E_PARSE);
    const char *laughs2 = "a: &a [lol, lol]\nb: [*a, *a]\n";
    assert_int_equal(nas_space_load_string(&s, ctx, laughs2, strlen(laughs2), NULL), NAS_E_PARSE);

    /* Deep nesting. */
    char deep[400];
    size_t n = 0;
    for (int i = 0; i < 150; i++)
        deep[n++] = '[';
    deep[n] = '\0';
    assert_int_equal(nas_space_load_string(&s, ctx, deep, n, NULL), NAS_E_RANGE);
    assert_non_null(strstr(nas_context_errmsg(ctx), "nested"));

    /* Too many decisions; too many ops; too many nodes of a DARTS-like cell. */
    const char *many = "chain:\n  ops: [mb3_e3]\n  stem_channels: 8\n  stages: [{channels: 8, depths: [4000]}, "
                       "{channels: 8, depths: [200]}]\n";
    assert_int_equal(nas_space_load_string(&s, ctx, many, strlen(many), NULL), NAS_E_RANGE);
    assert_non_null(strstr(nas_context_errmsg(ctx), "4096"));
    char ops[8192] = "hyperparameters:\n  - {name: x, type: categorical, choices: [";
    for (int i = 0; i < 300; i++)
        snprintf(ops + strlen(ops), sizeof ops - strlen(ops), "%sc%d", i ? ", " : "", i);
    strcat(ops, "]}\n");
    assert_int_equal(nas_space_load_string(&s, ctx, ops, strlen(ops), NULL), NAS_E_RANGE);
    const char *nodes = "cell: {ops: [none], num_inputs: 2, num_nodes: 25, inputs_per_node: 2}\n";
    assert_int_equal(nas_space_load_string(&s, ctx, nodes, strlen(nodes), NULL), NAS_E_RANGE);
    assert_non_null(strstr(nas_context_errmsg(ctx), "input sets"));
    /* Text that is not UTF-8. */
    const char bin[] = "name: \xff\xfe\x00x\n";
    assert_int_equal(nas_space_load_string(&s, ctx, bin, sizeof bin - 1, NULL), NAS_E_PARSE);
    assert_null(s);

    /* Garbage from a fixed generator: never a crash, always a clean status. */
    nas_rng_t *rng;
    assert_int_equal(nas_rng_create(&rng, ctx, 77, 0), NAS_OK);
    const char *src = "name: x\nfamily: chain\nchain:\n  ops: [mb3_e3, skip]\n  stem_channels: 8\n"
                      "  stages: [{channels: 8, stride: 2, depths: [1, 2]}]\n"
                      "hyperparameters:\n  - {name: lr, type: float, low: 0.1, high: 1, log_scale: true}\n";
    size_t sl = strlen(src);
    char buf[512];
    for (int i = 0; i < 3000; i++) {
        memcpy(buf, src, sl);
        int edits = 1 + (int)nas_rng_below(rng, 4);
        for (int e = 0; e < edits; e++)
            buf[nas_rng_below(rng, sl)] = " :[]{},-#&*!|>'\"\n0a9"[nas_rng_below(rng, 20)];
        nas_status_t st = nas_space_load_string(&s, ctx, buf, sl, NULL);
        assert_true(st == NAS_OK || st == NAS_E_PARSE || st == NAS_E_SPEC || st == NAS_E_RANGE);
        assert_true((st == NAS_OK) == (s != NULL));
        nas_space_destroy(s);
        s = NULL;
    }
    nas_rng_destroy(rng);
    nas_context_destroy(ctx);
}

static void test_api_misuse(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/nas-bench-201.yaml"), *o = load_rel(ctx, "spaces/darts.yaml");
    nas_arch_t *a = new_arch(s), *b = new_arch(o);
    assert_int_equal(nas_space_load_file(NULL, ctx, "x"), NAS_E_INVAL);
    assert_int_equal(nas_space_load_file(&s, NULL, "x"), NAS_E_INVAL);
    assert_null(s);
    s = nas_arch_space(a);
    assert_int_equal(nas_arch_create(NULL, s), NAS_E_INVAL);
    assert_int_equal(nas_arch_set(a, 6, 0), NAS_E_RANGE);
    assert_int_equal(nas_arch_set(a, 0, 5), NAS_E_RANGE);
    assert_int_equal(nas_arch_get(a, 99, &(uint32_t){ 0 }), NAS_E_RANGE);
    assert_int_equal(nas_arch_copy(a, b), NAS_E_INVAL);
    assert_false(nas_arch_equal(a, b));
    assert_false(nas_arch_equal(a, NULL));
    nas_rng_t *rng;
    assert_int_equal(nas_rng_create(&rng, ctx, 1, 0), NAS_OK);
    assert_int_equal(nas_space_sample(s, b, rng), NAS_E_INVAL);
    assert_int_equal(nas_space_sample(s, a, NULL), NAS_E_INVAL);
    assert_int_equal(nas_space_mutate(s, a, b, rng, 1), NAS_E_INVAL);
    assert_int_equal(nas_space_crossover(s, a, a, b, rng), NAS_E_INVAL);
    assert_int_equal(nas_space_enumerate(s, b, 0), NAS_E_INVAL);
    char buf[4];
    size_t len = 0;
    assert_int_equal(nas_space_size(s, NAS_SIZE_ARCH, buf, sizeof buf, &len), NAS_E_RANGE);
    assert_int_equal(len, 5);
    assert_int_equal(nas_space_size(s, 7, buf, sizeof buf, &len), NAS_E_INVAL);
    nas_dim_info_t info = { .struct_size = 0 };
    assert_int_equal(nas_space_dim_info(s, 0, &info), NAS_E_INVAL);
    assert_string_equal(nas_space_errmsg(NULL), "");
    nas_space_destroy(NULL);
    nas_arch_destroy(NULL);
    nas_rng_destroy(rng);
    nas_arch_destroy(a);
    nas_arch_destroy(b);
    nas_space_destroy(s);
    nas_space_destroy(o);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Out of memory                                                            */

static nas_status_t oom_load_darts(nas_context_t *ctx, void *arg)
{
    (void)arg;
    nas_space_t *s = NULL;
    nas_status_t st = nas_space_load_file(&s, ctx, tu_src_path("spaces/darts.yaml"));
    if (st == NAS_OK) {
        char buf[64];
        st = nas_space_size(s, NAS_SIZE_ARCH, buf, sizeof buf, NULL);
        if (st == NAS_OK && strcmp(buf, "9119789245425254400") != 0)
            st = NAS_E_INTERNAL;
    }
    nas_space_destroy(s);
    return st;
}

static nas_status_t oom_load_chain_hparams(nas_context_t *ctx, void *arg)
{
    (void)arg;
    nas_space_t *s = NULL;
    nas_status_t st = nas_space_load_file(&s, ctx, tu_src_path("spaces/mobile-depth-width.yaml"));
    nas_space_destroy(s);
    return st;
}

static nas_status_t oom_archs(nas_context_t *ctx, void *arg)
{
    (void)arg;
    nas_space_t *s = NULL;
    nas_arch_t *a = NULL, *b = NULL, *c = NULL;
    nas_rng_t *rng = NULL;
    nas_status_t st = build_nb201(ctx, &s);
    if (st != NAS_OK)
        return st;
    if ((st = nas_rng_create(&rng, ctx, 1, 2)) != NAS_OK || (st = nas_arch_create(&a, s)) != NAS_OK ||
        (st = nas_arch_create(&b, s)) != NAS_OK || (st = nas_arch_create(&c, s)) != NAS_OK)
        goto out;
    char buf[256];
    if ((st = nas_space_sample(s, a, rng)) != NAS_OK || (st = nas_space_mutate(s, b, a, rng, 2)) != NAS_OK ||
        (st = nas_space_crossover(s, c, a, b, rng)) != NAS_OK || (st = nas_space_enumerate(s, c, 77)) != NAS_OK ||
        (st = nas_arch_to_string(a, 0, buf, sizeof buf, NULL)) != NAS_OK ||
        (st = nas_arch_from_string(c, buf)) != NAS_OK)
        goto out;
    if (!nas_arch_equal(a, c))
        st = NAS_E_INTERNAL;
out:
    nas_arch_destroy(a);
    nas_arch_destroy(b);
    nas_arch_destroy(c);
    nas_rng_destroy(rng);
    nas_space_destroy(s);
    return st;
}

static void test_oom(void **state)
{
    (void)state;
    tu_oom_sweep(oom_load_darts, NULL);
    tu_oom_sweep(oom_load_chain_hparams, NULL);
    tu_oom_sweep(oom_archs, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nb201_space),
        cmocka_unit_test(test_nb201_strings),
        cmocka_unit_test(test_from_string_rejects),
        cmocka_unit_test(test_nb201_enumerate),
        cmocka_unit_test(test_darts),
        cmocka_unit_test(test_chain_size_and_enumerate),
        cmocka_unit_test(test_chain_strings),
        cmocka_unit_test(test_depth_normalization),
        cmocka_unit_test(test_sample),
        cmocka_unit_test(test_mutate),
        cmocka_unit_test(test_crossover),
        cmocka_unit_test(test_hparams),
        cmocka_unit_test(test_builder_matches_yaml),
        cmocka_unit_test(test_bad_yaml),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_api_misuse),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
