/*
 * Space -> network (src/nn/build.c): hand-computed parameter and FLOP counts per family, the published
 * NAS-Bench-201 and DARTS counts, pruning, shapes, random architectures of every shipped space,
 * supernets and their map to decisions, single paths, derive, bad arguments, OOM, and forward passes
 * through the executor.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "nn/build.h"
#include "nn/exec.h"
#include "nn/graph.h"

/* ---------------------------------------------------------------------- */
/* Helpers                                                                  */

/* NAS-Bench-201's cell on a small skeleton: stem 8, one cell per stage, 8/16/32 channels. */
static const char nb201_small[] =
    "name: nb201-small\n"
    "cell:\n"
    "  ops: [none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3]\n"
    "  num_nodes: 3\n"
    "macro:\n"
    "  stem_channels: 8\n"
    "  stages: [{cells: 1, channels: 8}, {cells: 1, channels: 16}, {cells: 1, channels: 32}]\n";

/* A DARTS cell on a small skeleton: normal (C 4), reduce (C 8), normal (C 8). */
static const char darts_small[] =
    "name: darts-small\n"
    "cell:\n"
    "  ops: [none, max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, "
    "dil_conv_5x5]\n"
    "  num_inputs: 2\n"
    "  num_nodes: 4\n"
    "  inputs_per_node: 2\n"
    "  cell_types: [normal, reduce]\n"
    "  output: concat\n"
    "macro:\n"
    "  stem_channels: 12\n"
    "  stages: [{cells: 1, channels: 4}, {cells: 1, channels: 8}]\n"
    "  reduction: cell\n";

/* A small chain with depth and width decisions. */
static const char chain_small[] =
    "name: chain-small\n"
    "chain:\n"
    "  ops: [mb3_e3, mb5_e6, mb3_e1, skip]\n"
    "  stem_channels: 16\n"
    "  head_channels: 64\n"
    "  width_multipliers: [0.5, 1.0]\n"
    "  stages:\n"
    "    - {channels: 16, stride: 1, depths: [1, 2]}\n"
    "    - {channels: 24, stride: 2, depths: [2, 3]}\n";

#define DARTS_V2                                                                                   \
    "normal:|sep_conv_3x3~0|sep_conv_3x3~1|+|sep_conv_3x3~0|sep_conv_3x3~1|+|skip_connect~0|"        \
    "sep_conv_3x3~1|+|skip_connect~0|dil_conv_3x3~2|/reduce:|max_pool_3x3~0|max_pool_3x3~1|+|"      \
    "max_pool_3x3~1|skip_connect~2|+|max_pool_3x3~0|skip_connect~2|+|max_pool_3x3~1|skip_connect~2|"

static const char *const shipped[] = { "spaces/nas-bench-201.yaml", "spaces/darts.yaml", "spaces/proxylessnas.yaml",
                                       "spaces/mobile-depth-width.yaml", "spaces/nb201-hparams.yaml" };
#define N_SHIPPED (sizeof shipped / sizeof shipped[0])

static nas_space_t *load_text(nas_context_t *ctx, const char *yaml)
{
    nas_space_t *s = NULL;
    if (nas_space_load_string(&s, ctx, yaml, strlen(yaml), NULL) != NAS_OK)
        fail_msg("loading YAML: %s", nas_context_errmsg(ctx));
    return s;
}

static nas_space_t *load_rel(nas_context_t *ctx, const char *rel)
{
    nas_space_t *s = NULL;
    if (nas_space_load_file(&s, ctx, tu_src_path(rel)) != NAS_OK)
        fail_msg("loading %s: %s", rel, nas_context_errmsg(ctx));
    return s;
}

static nas_arch_t *arch_of(nas_space_t *s, const char *str)
{
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, s), NAS_OK);
    if (str && nas_arch_from_string(a, str) != NAS_OK)
        fail_msg("arch '%s': %s", str, nas_space_errmsg(s));
    return a;
}

static nas__build_opts_t opts_for(int32_t c, int32_t h, int32_t w, int32_t classes)
{
    nas__build_opts_t o = NAS__BUILD_OPTS_INIT;
    o.in_c = c;
    o.in_h = h;
    o.in_w = w;
    o.num_classes = classes;
    return o;
}

static nas__graph_t *build(const nas_arch_t *a, const nas__build_opts_t *o)
{
    char err[NAS_ERRMSG_CAP] = "";
    nas__graph_t *g = NULL;
    nas_status_t st = nas__build_graph(&g, a, o, err);
    if (st != NAS_OK)
        fail_msg("build: %s: %s", nas_status_name(st), err);
    assert_int_equal(nas__graph_validate(g, NULL), NAS_OK);
    return g;
}

static nas__graph_t *supernet(const nas_space_t *s, const nas__build_opts_t *o, nas__mixed_mode_t mode,
                              nas__supernet_map_t **map)
{
    char err[NAS_ERRMSG_CAP] = "";
    nas__graph_t *g = NULL;
    nas_status_t st = nas__build_supernet_map(&g, map, s, o, mode, err);
    if (st != NAS_OK)
        fail_msg("supernet: %s: %s", nas_status_name(st), err);
    assert_int_equal(nas__graph_validate(g, NULL), NAS_OK);
    return g;
}

static int64_t params_of(const nas_arch_t *a, const nas__build_opts_t *o)
{
    nas__graph_t *g = build(a, o);
    int64_t p = nas__graph_params(g);
    nas__graph_destroy(g);
    return p;
}

static uint32_t count_kind(const nas__graph_t *g, nas__node_kind_t kind)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < nas__graph_num_nodes(g); i++)
        n += nas__graph_node(g, (int32_t)i)->kind == kind;
    return n;
}

static int32_t find_kind(const nas__graph_t *g, nas__node_kind_t kind)
{
    for (uint32_t i = 0; i < nas__graph_num_nodes(g); i++)
        if (nas__graph_node(g, (int32_t)i)->kind == kind)
            return (int32_t)i;
    return -1;
}

static void expect_shape(const nas__graph_t *g, int32_t id, int32_t c, int32_t h, int32_t w)
{
    assert_true(id >= 0);
    nas__shape_t s = nas__graph_node(g, id)->out;
    if (s.c != c || s.h != h || s.w != w)
        fail_msg("node %d (%s) is %d x %d x %d, expected %d x %d x %d", (int)id,
                 nas__node_kind_name(nas__graph_node(g, id)->kind), (int)s.c, (int)s.h, (int)s.w, (int)c, (int)h,
                 (int)w);
}

/* ---------------------------------------------------------------------- */
/* Cell family: NAS-Bench-201                                               */

/* Skeleton of nb201_small at 3 x 32 x 32, 10 classes (conv weights C_in*C_out*k*k, BN 2C, FC in*out+out):
 *   stem          conv 3->8 3x3: 216, BN 16                                        =   232
 *   res 8->16     conv_a 8*16*9 = 1152 + BN 32, conv_b 16*16*9 = 2304 + BN 32,
 *                 shortcut conv 8*16 = 128                                         =  3648
 *   res 16->32    4608 + 64 + 9216 + 64 + 512                                      = 14464
 *   last BN 32: 64; FC 32*10 + 10: 330                                             =   394
 *   total                                                                            18738 */
#define NB201_SMALL_SKELETON 18738

static void test_nb201_small_counts(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_text(ctx, nb201_small);
    nas__build_opts_t o = opts_for(3, 32, 32, 10);

    /* node1 = conv3x3(0); node2 = skip(0) + conv1x1(1); node3 = avgpool(0) + none(1) + conv3x3(2).
     * Per cell of C channels: 2 x (9C^2 + 2C) + (C^2 + 2C):
     *   C=8: 2*592 + 80 = 1264;  C=16: 2*2336 + 288 = 4960;  C=32: 2*9280 + 1088 = 19648.
     * Total 18738 + 1264 + 4960 + 19648 = 44610. */
    nas_arch_t *a = arch_of(s, "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|");
    nas__graph_t *g = build(a, &o);
    assert_int_equal(nas__graph_params(g), 44610);
    /* Convs: stem 1 + 3 per residual block x 2 + 3 per cell x 3 = 16; 3 cells x 2 sums + 2 residual sums;
     * one avgpool per cell + one shortcut pool per residual block. */
    assert_int_equal(count_kind(g, NAS__NODE_CONV), 16);
    assert_int_equal(count_kind(g, NAS__NODE_SUM), 8);
    assert_int_equal(count_kind(g, NAS__NODE_AVGPOOL), 5);
    assert_int_equal(count_kind(g, NAS__NODE_ZERO), 0);
    expect_shape(g, find_kind(g, NAS__NODE_GAP), 32, 1, 1);
    expect_shape(g, find_kind(g, NAS__NODE_FC), 10, 1, 1);
    nas__graph_destroy(g);

    /* FLOPs of the all-none network (only convs and the FC count, 2 per multiply-add):
     *   stem 2*3*8*9*32*32 = 442368; res 8->16 at 16x16: 2*8*16*9*256 = 589824, 2*16*16*9*256 = 1179648,
     *   2*8*16*256 = 65536; res 16->32 at 8x8: 589824, 1179648, 65536; FC 2*32*10 = 640.  Sum 4113024. */
    nas_arch_t *none = arch_of(s, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
    g = build(none, &o);
    assert_int_equal(nas__graph_params(g), NB201_SMALL_SKELETON);
    assert_int_equal(nas__graph_flops(g), 4113024);
    nas__graph_destroy(g);

    nas_arch_destroy(none);
    nas_arch_destroy(a);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* The counts NAS-Bench-201 publishes for CIFAR-10 (3 x 32 x 32, 10 classes): 0.073306 M for the
 * all-none cell (the skeleton alone) and 1.531546 M for the all-nor_conv_3x3 cell; ImageNet16-120
 * (3 x 16 x 16, 120 classes): 0.080456 M for all-none (the classifier 64*120 + 120 instead of 650). */
static void test_nb201_published_counts(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/nas-bench-201.yaml");
    nas__build_opts_t o = opts_for(3, 32, 32, 10);
    nas_arch_t *none = arch_of(s, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
    nas_arch_t *conv = arch_of(s, "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
                                  "nor_conv_3x3~2|");
    assert_int_equal(params_of(none, &o), 73306);
    /* + 5 cells x 6 x (9C^2 + 2C) for C = 16, 32, 64: 70080 + 278400 + 1109760 */
    assert_int_equal(params_of(conv, &o), 1531546);
    nas__build_opts_t in16 = opts_for(3, 16, 16, 120);
    assert_int_equal(params_of(none, &in16), 80456);
    nas_arch_destroy(conv);
    nas_arch_destroy(none);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* All-none cells: the cell output is a zero node, the graph validates, and its output does not depend on
 * the input (a constant network). */
static void test_nb201_all_none(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/nas-bench-201.yaml");
    nas_arch_t *a = arch_of(s, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
    nas__build_opts_t o = opts_for(1, 28, 28, 10);
    nas__graph_t *g = build(a, &o);
    /* One zero node per cell (15), no cell op at all: the convs are stem + 3 per residual block. */
    assert_int_equal(count_kind(g, NAS__NODE_ZERO), 15);
    assert_int_equal(count_kind(g, NAS__NODE_CONV), 7);
    /* Disconnected input edges give the same: node 3 only sees nodes 1, 2, which see nothing. */
    nas_arch_t *b = arch_of(s, "|none~0|+|none~0|nor_conv_3x3~1|+|none~0|skip_connect~1|avg_pool_3x3~2|");
    nas__graph_t *h = build(b, &o);
    assert_int_equal(nas__graph_params(h), nas__graph_params(g));
    assert_int_equal(nas__graph_num_nodes(h), nas__graph_num_nodes(g));
    nas__graph_destroy(h);
    nas_arch_destroy(b);
    nas__graph_destroy(g);
    nas_arch_destroy(a);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_nb201_pruning(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_text(ctx, nb201_small);
    nas__build_opts_t o = opts_for(3, 32, 32, 10);
    /* Node 1 feeds only none edges (dead); node 2 has only none inputs (zero); node 3 = skip(0) = the input:
     * every cell is the identity, nothing but the skeleton is built. */
    nas_arch_t *a = arch_of(s, "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|");
    nas__graph_t *g = build(a, &o);
    assert_int_equal(nas__graph_params(g), NB201_SMALL_SKELETON);
    assert_int_equal(count_kind(g, NAS__NODE_CONV), 7);
    assert_int_equal(count_kind(g, NAS__NODE_ZERO), 0);
    assert_int_equal(count_kind(g, NAS__NODE_SUM), 2);
    nas__graph_destroy(g);
    nas_arch_destroy(a);

    /* Nodes 1 and 2 are computed but reach the output through none edges only: node 3 = conv1x1(0).
     * Per cell C^2 + 2C: 80 + 288 + 1088 = 1456. */
    a = arch_of(s, "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|none~2|");
    g = build(a, &o);
    assert_int_equal(nas__graph_params(g), NB201_SMALL_SKELETON + 1456);
    assert_int_equal(count_kind(g, NAS__NODE_CONV), 7 + 3);
    nas__graph_destroy(g);
    nas_arch_destroy(a);

    /* Node 1 is zero, so conv(1) -> 2 is dropped too: node 2 = conv3x3(0), node 3 = node 2.
     * Per cell 9C^2 + 2C: 592 + 2336 + 9280 = 12208. */
    a = arch_of(s, "|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|");
    g = build(a, &o);
    assert_int_equal(nas__graph_params(g), NB201_SMALL_SKELETON + 12208);
    assert_int_equal(count_kind(g, NAS__NODE_CONV), 7 + 3);
    assert_int_equal(count_kind(g, NAS__NODE_SUM), 2);
    nas__graph_destroy(g);
    nas_arch_destroy(a);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* Overrides: cells per stage, channel scale, stem stride, label smoothing. */
static void test_cell_overrides(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/nas-bench-201.yaml");
    nas_arch_t *conv = arch_of(s, "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
                                  "nor_conv_3x3~2|");
    /* channel_scale 0.5 and one cell per stage give nb201_small's skeleton + one all-conv cell per stage:
     * 18738 + 6 x (592 + 2336 + 9280) = 91986. */
    nas__build_opts_t o = opts_for(3, 32, 32, 10);
    o.channel_scale = 0.5;
    o.cells_per_stage = 1;
    o.label_smoothing = 0.1f;
    nas__graph_t *g = build(conv, &o);
    assert_int_equal(nas__graph_params(g), 18738 + 6 * (592 + 2336 + 9280));
    assert_true(fabsf(nas__graph_node(g, nas__graph_output(g))->smoothing - 0.1f) < 1e-7f);
    expect_shape(g, find_kind(g, NAS__NODE_GAP), 32, 1, 1);
    nas__graph_destroy(g);
    /* Stem stride 2: the last stage runs at 8 / 2 = 4 pixels. */
    o.stem_stride = 2;
    g = build(conv, &o);
    expect_shape(g, nas__graph_in(g, find_kind(g, NAS__NODE_GAP), 0), 32, 4, 4);
    nas__graph_destroy(g);
    /* Odd sizes: 3 x 7 x 7 reduces to 4 and 2 (the residual shortcut pools 3x3/2, padding 1). */
    nas__build_opts_t odd = opts_for(3, 7, 7, 10);
    g = build(conv, &odd);
    expect_shape(g, nas__graph_in(g, find_kind(g, NAS__NODE_GAP), 0), 64, 2, 2);
    assert_int_equal(nas__graph_params(g), 1531546);
    nas__graph_destroy(g);
    nas_arch_destroy(conv);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Cell family: DARTS                                                       */

/* DARTS_V2 (the genotype of the DARTS paper) in the evaluation network: C 36, 20 cells, stem 108,
 * 3 x 32 x 32, 10 classes. DARTS logs "param size = 3.349342MB" (auxiliary head excluded); an
 * independent PyTorch model of NetworkCIFAR gives 3349342, and 3347398 for 1 x 28 x 28 (stem 1 channel). */
static void test_darts_v2_counts(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/darts.yaml");
    nas_arch_t *a = arch_of(s, DARTS_V2);
    nas__build_opts_t o = opts_for(3, 32, 32, 10);
    nas__graph_t *g = build(a, &o);
    assert_int_equal(nas__graph_params(g), 3349342);
    expect_shape(g, nas__graph_in(g, find_kind(g, NAS__NODE_GAP), 0), 576, 8, 8);
    nas__graph_destroy(g);
    nas__build_opts_t m = opts_for(1, 28, 28, 10);
    g = build(a, &m);
    assert_int_equal(nas__graph_params(g), 3347398);
    expect_shape(g, nas__graph_in(g, find_kind(g, NAS__NODE_GAP), 0), 576, 7, 7);
    nas__graph_destroy(g);
    nas_arch_destroy(a);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* Normal + reduce + normal cells with concat outputs: 4 C channels per cell, the reduction halves the
 * resolution; counted by hand for a cell of skip connections and 3x3 max pools. */
static void test_darts_small_shapes(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_text(ctx, darts_small);
    nas_arch_t *a = arch_of(s, "normal:|skip_connect~0|max_pool_3x3~1|+|skip_connect~1|max_pool_3x3~2|+|"
                               "skip_connect~0|skip_connect~3|+|max_pool_3x3~2|skip_connect~4|/reduce:|"
                               "skip_connect~0|max_pool_3x3~1|+|skip_connect~1|max_pool_3x3~2|+|skip_connect~0|"
                               "skip_connect~3|+|max_pool_3x3~2|skip_connect~4|");
    nas__build_opts_t o = opts_for(3, 8, 8, 10);
    nas__graph_t *g = build(a, &o);
    /* The three cell outputs: concats of 4 inputs (factorized reduces concat 2). */
    int32_t cat[3];
    uint32_t n = 0;
    for (uint32_t i = 0; i < nas__graph_num_nodes(g); i++)
        if (nas__graph_node(g, (int32_t)i)->kind == NAS__NODE_CONCAT && nas__graph_node(g, (int32_t)i)->n_in == 4) {
            assert_true(n < 3);
            cat[n++] = (int32_t)i;
        }
    assert_int_equal(n, 3);
    expect_shape(g, cat[0], 16, 8, 8);
    expect_shape(g, cat[1], 32, 4, 4);
    expect_shape(g, cat[2], 32, 4, 4);
    assert_int_equal(nas__graph_in(g, find_kind(g, NAS__NODE_GAP), 0), cat[2]);
    /* Parameters by hand (no BN after pools in a discrete graph):
     *   stem conv 3->12 3x3: 324 + BN 24                                           =  348
     *   normal C=4: preprocess 2 x (12*4 + 8)                                       =  112
     *   reduce C=8: preprocess0 12->8: 96 + 16, preprocess1 16->8: 128 + 16; the three stride-2
     *     skips from the inputs (2 <- 0, 3 <- 1, 4 <- 0) are factorized reduces 8->8: 3 x (2*8*4 + 16)
     *                                                                              =  496
     *   normal C=8: preprocess0 is a factorized reduce 16->8: 2*16*4 + 16 = 144;
     *     preprocess1 32->8: 256 + 16                                              =  416
     *   FC 32*10 + 10                                                              =  330
     *   total 1702 */
    assert_int_equal(nas__graph_params(g), 1702);
    assert_int_equal(count_kind(g, NAS__NODE_CONCAT), 3 + 4); /* 4 factorized reduces */
    assert_int_equal(count_kind(g, NAS__NODE_CONV), 1 + 2 + 2 + 3 * 2 + 2 + 1);
    nas__graph_destroy(g);
    nas_arch_destroy(a);
    nas_space_destroy(s);

    /* A stem of C channels is still preprocessed (ReLU-conv1x1-BN, as DARTS always does):
     * stem 3->4: 108 + 8; cell 0: 2 x (16 + 8); reduce: 4->8: 32 + 16, 16->8: 144, FRs 240; cell 2 as
     * above 416; FC 330.  Total 116 + 48 + 432 + 416 + 330 = 1342. */
    char yaml[sizeof darts_small + 8];
    snprintf(yaml, sizeof yaml, "%s", darts_small);
    memcpy(strstr(yaml, "stem_channels: 12"), "stem_channels:  4", 17);
    s = load_text(ctx, yaml);
    a = arch_of(s, "normal:|skip_connect~0|max_pool_3x3~1|+|skip_connect~1|max_pool_3x3~2|+|"
                   "skip_connect~0|skip_connect~3|+|max_pool_3x3~2|skip_connect~4|/reduce:|"
                   "skip_connect~0|max_pool_3x3~1|+|skip_connect~1|max_pool_3x3~2|+|skip_connect~0|"
                   "skip_connect~3|+|max_pool_3x3~2|skip_connect~4|");
    g = build(a, &o);
    assert_int_equal(nas__graph_params(g), 1342);
    assert_int_equal(count_kind(g, NAS__NODE_CONV), 14);
    nas__graph_destroy(g);
    nas_arch_destroy(a);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* DARTS cells with none ops: a node with only none inputs is a zero part of the concat, and ops on it are
 * dropped (the sep_conv from node 2 here), so no depthwise conv is left. */
#define DARTS_ZERO_CELL "|none~0|none~1|+|skip_connect~0|sep_conv_3x3~2|+|skip_connect~1|skip_connect~3|+|none~2|" \
                        "skip_connect~4|"
static void test_darts_zero_nodes(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_text(ctx, darts_small);
    nas_arch_t *a = arch_of(s, "normal:" DARTS_ZERO_CELL "/reduce:" DARTS_ZERO_CELL);
    nas__build_opts_t o = opts_for(3, 8, 8, 10);
    nas__graph_t *g = build(a, &o);
    assert_int_equal(count_kind(g, NAS__NODE_ZERO), 3);
    uint32_t dw = 0, cats = 0;
    for (uint32_t i = 0; i < nas__graph_num_nodes(g); i++) {
        const nas__node_t *n = nas__graph_node(g, (int32_t)i);
        dw += n->kind == NAS__NODE_CONV && n->groups > 1;
        if (n->kind == NAS__NODE_CONCAT && n->n_in == 4) {
            /* Part 0 (node 2) is the zero node; the shapes agree with the other parts. */
            assert_int_equal(nas__graph_node(g, nas__graph_in(g, (int32_t)i, 0))->kind, NAS__NODE_ZERO);
            expect_shape(g, (int32_t)i, 4 * nas__graph_node(g, nas__graph_in(g, (int32_t)i, 1))->out.c,
                         nas__graph_node(g, nas__graph_in(g, (int32_t)i, 1))->out.h,
                         nas__graph_node(g, nas__graph_in(g, (int32_t)i, 1))->out.w);
            cats++;
        }
    }
    assert_int_equal(dw, 0);
    assert_int_equal(cats, 3);
    nas__graph_destroy(g);
    nas_arch_destroy(a);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Chain family                                                             */

/* The convs of a graph as (kernel, out channels, groups, stride) in node order. */
static uint32_t conv_list(const nas__graph_t *g, int32_t (*out)[4], uint32_t cap)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < nas__graph_num_nodes(g); i++) {
        const nas__node_t *nd = nas__graph_node(g, (int32_t)i);
        if (nd->kind != NAS__NODE_CONV)
            continue;
        assert_true(n < cap);
        out[n][0] = nd->k;
        out[n][1] = nd->out.c;
        out[n][2] = nd->groups;
        out[n][3] = nd->stride;
        n++;
    }
    return n;
}

static void test_chain_channels(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_text(ctx, chain_small);
    nas__build_opts_t o = opts_for(1, 28, 28, 10);
    int32_t got[64][4];

    /* Width 0.5: stem 16 -> 8; 16 -> 8; 24 -> 12 -> make_divisible 16; the head never shrinks (64).
     * Stage 0 depth 2: mb5_e6 (8 -> 8, hidden 48, residual), skip. Stage 1 depth 3: mb3_e1 (stride 2,
     * 8 -> 16, no expansion conv), mb3_e3 (16 -> 16, hidden 48), skip. */
    nas_arch_t *a = arch_of(s, "width=0.5:mb5_e6,skip|mb3_e1,mb3_e3,skip");
    nas__graph_t *g = build(a, &o);
    static const int32_t want[][4] = {
        { 3, 8, 1, 1 },                                   /* stem (28 < 64: stride 1) */
        { 1, 48, 1, 1 }, { 5, 48, 48, 1 }, { 1, 8, 1, 1 }, /* mb5_e6 */
        { 3, 8, 8, 2 }, { 1, 16, 1, 1 },                  /* mb3_e1 */
        { 1, 48, 1, 1 }, { 3, 48, 48, 1 }, { 1, 16, 1, 1 }, /* mb3_e3 */
        { 1, 64, 1, 1 },                                  /* head */
    };
    uint32_t n = conv_list(g, got, 64);
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (uint32_t i = 0; i < n; i++)
        if (memcmp(got[i], want[i], sizeof want[i]) != 0)
            fail_msg("conv %u: k %d, %d channels, %d groups, stride %d; expected %d, %d, %d, %d", i, got[i][0],
                     got[i][1], got[i][2], got[i][3], want[i][0], want[i][1], want[i][2], want[i][3]);
    /* Residual sums: mb5_e6 (stride 1, 8 -> 8) and mb3_e3 (16 -> 16). */
    assert_int_equal(count_kind(g, NAS__NODE_SUM), 2);
    expect_shape(g, nas__graph_in(g, find_kind(g, NAS__NODE_GAP), 0), 64, 14, 14);
    /* Parameters by hand: stem 1*8*9 + 16 = 88; mb5_e6: 8*48 + 96 + 48*25 + 96 + 48*8 + 16 = 2176;
     * mb3_e1: 8*9 + 16 + 8*16 + 32 = 248; mb3_e3: 16*48 + 96 + 48*9 + 96 + 48*16 + 32 = 2192;
     * head 16*64 + 128 = 1152; FC 64*10 + 10 = 650.  Total 6506. */
    assert_int_equal(nas__graph_params(g), 6506);
    nas__graph_destroy(g);
    nas_arch_destroy(a);

    /* Width 1.0: the space's channels as written; depth 1 and 2. */
    a = arch_of(s, "width=1:mb3_e3|mb3_e1,mb5_e6");
    g = build(a, &o);
    static const int32_t want1[][4] = {
        { 3, 16, 1, 1 }, { 1, 48, 1, 1 }, { 3, 48, 48, 1 }, { 1, 16, 1, 1 },
        { 3, 16, 16, 2 }, { 1, 24, 1, 1 }, { 1, 144, 1, 1 }, { 5, 144, 144, 1 }, { 1, 24, 1, 1 }, { 1, 64, 1, 1 },
    };
    n = conv_list(g, got, 64);
    assert_int_equal(n, sizeof want1 / sizeof want1[0]);
    for (uint32_t i = 0; i < n; i++)
        assert_memory_equal(got[i], want1[i], sizeof want1[i]);
    nas__graph_destroy(g);
    /* channel_scale 2 on top: 32, 32, 48; head 128; stem stride forced to 2. */
    o.channel_scale = 2.0;
    o.stem_stride = 2;
    g = build(a, &o);
    n = conv_list(g, got, 64);
    assert_int_equal(got[0][1], 32);
    assert_int_equal(got[0][3], 2);
    assert_int_equal(got[3][1], 32);
    assert_int_equal(got[n - 2][1], 48);
    assert_int_equal(got[n - 1][1], 128);
    expect_shape(g, nas__graph_in(g, find_kind(g, NAS__NODE_GAP), 0), 128, 7, 7);
    nas__graph_destroy(g);
    nas_arch_destroy(a);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* ProxylessNAS on ImageNet: stem stride 2 by default at 224 x 224; resolution 224 / 32 = 7 at the head. */
static void test_chain_imagenet(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/proxylessnas.yaml");
    nas_arch_t *a = arch_of(s, "mb3_e3,mb3_e3,mb3_e3,mb3_e3|mb3_e3,skip,skip,skip|mb3_e3,skip,skip,skip|"
                               "mb3_e3,skip,skip,skip|mb3_e3,skip,skip,skip|mb3_e3");
    nas__build_opts_t o = opts_for(3, 224, 224, 1000);
    nas__graph_t *g = build(a, &o);
    expect_shape(g, nas__graph_in(g, find_kind(g, NAS__NODE_GAP), 0), 1280, 7, 7);
    /* 9 inverted residuals of expansion 3 = 9 depthwise convs. */
    uint32_t dw = 0;
    for (uint32_t i = 0; i < nas__graph_num_nodes(g); i++)
        dw += nas__graph_node(g, (int32_t)i)->kind == NAS__NODE_CONV && nas__graph_node(g, (int32_t)i)->groups > 1;
    assert_int_equal(dw, 9);
    nas__graph_destroy(g);
    nas_arch_destroy(a);
    /* Against an independent PyTorch model (MobileNetV2 blocks, make_divisible(., 8), the head grown only
     * for widths above 1): a mixed ProxylessNAS arch, and a mobile-depth-width arch at width 0.75. */
    a = arch_of(s, "mb3_e3,mb5_e6,skip,mb7_e3|mb3_e6,mb3_e3,skip,skip|mb5_e3,mb7_e6,mb3_e3,skip|"
                   "mb3_e6,skip,mb5_e6,mb5_e3|mb7_e6,mb3_e3,skip,mb3_e6|mb5_e6");
    assert_int_equal(params_of(a, &o), 3693440);
    nas_arch_destroy(a);
    nas_space_destroy(s);
    s = load_rel(ctx, "spaces/mobile-depth-width.yaml");
    a = arch_of(s, "width=0.75:mb3_e3,mb5_e6|mb7_e6,mb3_e3,mb5_e3|mb3_e3,mb3_e3|mb3_e6,mb3_e6,mb3_e6,mb3_e6|"
                   "mb5_e3,mb5_e3|mb7_e6");
    assert_int_equal(params_of(a, &o), 2506784);
    nas_arch_destroy(a);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Every shipped space                                                      */

static void test_random_archs(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(7);
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 7, 1), NAS_OK);
    nas__build_opts_t shapes[2] = { opts_for(1, 28, 28, 10), opts_for(3, 32, 32, 10) };
    for (size_t f = 0; f < N_SHIPPED; f++) {
        nas_space_t *s = load_rel(ctx, shipped[f]);
        nas_arch_t *a = arch_of(s, NULL);
        for (int i = 0; i < 200; i++) {
            assert_int_equal(nas_space_sample(s, a, rng), NAS_OK);
            for (int k = 0; k < 2; k++) {
                char err[NAS_ERRMSG_CAP] = "";
                nas__graph_t *g = NULL;
                nas_status_t st = nas__build_graph(&g, a, &shapes[k], err);
                if (st != NAS_OK) {
                    char buf[4096];
                    nas_arch_to_string(a, 0, buf, sizeof buf, NULL);
                    fail_msg("%s, arch %s, input %d x %d: %s", shipped[f], buf, (int)shapes[k].in_c,
                             (int)shapes[k].in_h, err);
                }
                assert_int_equal(nas__graph_validate(g, NULL), NAS_OK);
                const nas__node_t *out = nas__graph_node(g, nas__graph_output(g));
                assert_int_equal(out->kind, NAS__NODE_LOSS);
                expect_shape(g, nas__graph_in(g, nas__graph_output(g), 0), 10, 1, 1);
                assert_true(nas__graph_params(g) > 0);
                assert_true(nas__graph_flops(g) > 0);
                nas__graph_destroy(g);
            }
        }
        nas_arch_destroy(a);
        nas_space_destroy(s);
    }
    nas_rng_destroy(rng);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Supernets                                                                */

static void check_map_indices(const nas__graph_t *g, const nas__supernet_map_t *map)
{
    assert_int_equal(map->num_mixed, nas__graph_num_mixed(g));
    uint32_t total = 0;
    for (uint32_t m = 0; m < map->num_mixed; m++) {
        const nas__mixed_map_t *e = &map->mixed[m];
        assert_int_equal(nas__graph_node(g, e->node)->kind, NAS__NODE_MIXED);
        assert_int_equal(nas__graph_mixed_index(g, e->node), (int32_t)m);
        assert_int_equal(nas__graph_node(g, e->node)->n_paths, e->n_paths);
        total += e->n_paths;
    }
    assert_int_equal(map->total_paths, total);
}

static void test_nb201_supernet(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/nas-bench-201.yaml");
    nas__build_opts_t o = opts_for(3, 32, 32, 10);
    nas__supernet_map_t *map = NULL;
    nas__graph_t *g = supernet(s, &o, NAS__MIXED_WEIGHTED, &map);
    /* 6 edges per cell, 15 cells. */
    assert_int_equal(nas__graph_num_mixed(g), 6 * 15);
    check_map_indices(g, map);
    static const nas__node_kind_t last[5] = { NAS__NODE_ZERO, NAS__NODE_IDENTITY, NAS__NODE_BN, NAS__NODE_BN,
                                              NAS__NODE_AVGPOOL };
    for (uint32_t m = 0; m < map->num_mixed; m++) {
        const nas__mixed_map_t *e = &map->mixed[m];
        assert_int_equal(e->role, NAS__MIXED_CELL_EDGE);
        assert_int_equal(e->n_paths, 5);
        assert_int_equal(e->cell, (int32_t)(m / 6));
        assert_int_equal(e->cell_type, 0);
        assert_int_equal(e->inputs_dim, -1);
        /* The decision is the edge's: its name says so, and its choices are the paths. */
        nas_dim_info_t info = { sizeof info, NULL, 0, 0, 0, 0, 0, false, 0, 0 };
        assert_int_equal(nas_space_dim_info(s, (uint32_t)e->dim, &info), NAS_OK);
        char name[64];
        snprintf(name, sizeof name, "cell/edge_%d_%d", (int)e->to, (int)e->from);
        assert_string_equal(info.name, name);
        assert_int_equal(info.num_choices, e->n_paths);
        for (uint32_t p = 0; p < 5; p++)
            assert_int_equal(nas__graph_node(g, nas__graph_path_out(g, e->node, p))->kind, last[p]);
    }
    /* The edges of one cell in decision order: (1,0), (2,0), (2,1), (3,0), (3,1), (3,2). */
    for (uint32_t m = 0; m < 6; m++)
        assert_int_equal(map->mixed[m].dim, (int32_t)m);
    /* Supernet parameters: per cell of C channels, 6 x (C^2 + 2C + 9C^2 + 2C) on top of the skeleton. */
    int64_t cells = 0;
    for (int32_t c = 16; c <= 64; c *= 2)
        cells += 5 * 6 * (10 * (int64_t)c * c + 4 * c);
    assert_int_equal(nas__graph_params(g), 73306 + cells);
    nas__supernet_map_destroy(map);
    nas__graph_destroy(g);
    /* The plain entry point builds the same graph; modes are passed through. */
    char err[NAS_ERRMSG_CAP];
    assert_int_equal(nas__build_supernet(&g, s, &o, NAS__MIXED_SINGLE, err), NAS_OK);
    assert_int_equal(nas__graph_num_mixed(g), 90);
    for (uint32_t i = 0; i < nas__graph_num_nodes(g); i++)
        if (nas__graph_node(g, (int32_t)i)->kind == NAS__NODE_MIXED)
            assert_int_equal(nas__graph_node(g, (int32_t)i)->mode, NAS__MIXED_SINGLE);
    nas__graph_destroy(g);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_darts_supernet(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_rel(ctx, "spaces/darts.yaml");
    /* DARTS's search network: 8 cells (2 per stage + 2 reduction cells), C = 16. */
    nas__build_opts_t o = opts_for(3, 32, 32, 10);
    o.cells_per_stage = 2;
    o.channel_scale = 16.0 / 36.0;
    nas__supernet_map_t *map = NULL;
    nas__graph_t *g = supernet(s, &o, NAS__MIXED_WEIGHTED, &map);
    assert_int_equal(nas__graph_num_mixed(g), 8 * 14);
    check_map_indices(g, map);
    uint32_t normal = 0, reduce = 0;
    for (uint32_t m = 0; m < map->num_mixed; m++) {
        const nas__mixed_map_t *e = &map->mixed[m];
        assert_int_equal(e->role, NAS__MIXED_CELL_PICK);
        assert_int_equal(e->n_paths, 8);
        assert_int_equal(e->dim, -1);
        bool red = e->cell == 2 || e->cell == 5;
        assert_int_equal(e->cell_type, red ? 1 : 0);
        normal += !red;
        reduce += red;
        nas_dim_info_t info = { sizeof info, NULL, 0, 0, 0, 0, 0, false, 0, 0 };
        assert_int_equal(nas_space_dim_info(s, (uint32_t)e->inputs_dim, &info), NAS_OK);
        char name[64];
        snprintf(name, sizeof name, "%s/node%d/inputs", red ? "reduce" : "normal", (int)e->to);
        assert_string_equal(info.name, name);
        assert_int_equal(info.role, NAS_ROLE_INPUTS);
        assert_true(e->from < e->to && e->to >= 2 && e->to <= 5);
        /* Edges from the inputs of reduction cells halve the resolution. */
        nas__shape_t in = nas__graph_node(g, nas__graph_in(g, e->node, 0))->out;
        nas__shape_t out = nas__graph_node(g, e->node)->out;
        assert_int_equal(out.h, red && e->from < 2 ? (in.h + 1) / 2 : in.h);
        assert_int_equal(out.c, in.c);
        /* BN after the pools (path 1 max, 2 avg) in DARTS's supernet. */
        assert_int_equal(nas__graph_node(g, nas__graph_path_out(g, e->node, 1))->kind, NAS__NODE_BN);
    }
    assert_int_equal(normal, 6 * 14);
    assert_int_equal(reduce, 2 * 14);
    expect_shape(g, nas__graph_in(g, find_kind(g, NAS__NODE_GAP), 0), 256, 8, 8);
    nas__supernet_map_destroy(map);
    nas__graph_destroy(g);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_chain_supernet(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas__build_opts_t o = opts_for(3, 32, 32, 10);
    /* ProxylessNAS: one mixed node per layer, 4 x 5 + 1; layer 0 has the 6 MBConvs, the others skip too
     * (depths are fixed, so no layer can be "off"). */
    nas_space_t *s = load_rel(ctx, "spaces/proxylessnas.yaml");
    nas__supernet_map_t *map = NULL;
    nas__graph_t *g = supernet(s, &o, NAS__MIXED_BINARY, &map);
    assert_int_equal(nas__graph_num_mixed(g), 21);
    check_map_indices(g, map);
    for (uint32_t m = 0; m < map->num_mixed; m++) {
        const nas__mixed_map_t *e = &map->mixed[m];
        assert_int_equal(e->role, NAS__MIXED_CHAIN_LAYER);
        assert_int_equal(e->n_paths, e->to == 0 ? 6u : 7u);
        assert_int_equal(e->off_path, -1);
        assert_int_equal(e->depth_dim, -1);
        nas_dim_info_t info = { sizeof info, NULL, 0, 0, 0, 0, 0, false, 0, 0 };
        assert_int_equal(nas_space_dim_info(s, (uint32_t)e->dim, &info), NAS_OK);
        char name[64];
        snprintf(name, sizeof name, "stage%d/layer%d", (int)e->cell, (int)e->to);
        assert_string_equal(info.name, name);
        assert_int_equal(info.num_choices, e->n_paths);
        if (e->to > 0)
            assert_int_equal(nas__graph_node(g, nas__graph_path_out(g, e->node, 6))->kind, NAS__NODE_IDENTITY);
    }
    nas__supernet_map_destroy(map);
    nas__graph_destroy(g);
    nas_space_destroy(s);

    /* mobile-depth-width: no skip op, so layers 2 and 3 of the searched stages get an "off" identity. */
    s = load_rel(ctx, "spaces/mobile-depth-width.yaml");
    g = supernet(s, &o, NAS__MIXED_SINGLE, &map);
    assert_int_equal(nas__graph_num_mixed(g), 4 * 5 + 1);
    check_map_indices(g, map);
    for (uint32_t m = 0; m < map->num_mixed; m++) {
        const nas__mixed_map_t *e = &map->mixed[m];
        bool optional = e->cell < 5 && e->to >= 2;
        assert_int_equal(e->n_paths, optional ? 7u : 6u);
        assert_int_equal(e->off_path, optional ? 6 : -1);
        if (e->cell < 5)
            assert_true(e->depth_dim >= 0);
        else
            assert_int_equal(e->depth_dim, -1);
        if (optional)
            assert_int_equal(nas__graph_node(g, nas__graph_path_out(g, e->node, 6))->kind, NAS__NODE_IDENTITY);
    }
    /* Built at the widest multiplier (1.25): 320 -> 400 channels in the last stage, head 1600. */
    expect_shape(g, nas__graph_in(g, find_kind(g, NAS__NODE_GAP), 0), 1600, 2, 2);
    nas__supernet_map_destroy(map);
    nas__graph_destroy(g);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* Parameters of a supernet along one path per mixed node: every node outside the mixed paths, plus the
 * chosen path's nodes. */
static int64_t single_path_params(const nas__graph_t *g, const nas__supernet_map_t *map, const uint32_t *paths)
{
    int64_t p = 0;
    for (uint32_t i = 0; i < nas__graph_num_nodes(g); i++) {
        const nas__node_t *n = nas__graph_node(g, (int32_t)i);
        if (n->kind == NAS__NODE_MIXED)
            continue;
        if (n->mixed < 0) {
            p += n->params;
            continue;
        }
        int32_t m = nas__graph_mixed_index(g, n->mixed);
        assert_true(m >= 0 && (uint32_t)m < map->num_mixed);
        p += n->path == (int32_t)paths[m] ? n->params : 0;
    }
    return p;
}

/* Is any cell op of the arch "none"? (None edges are pruned from discrete graphs with what they alone
 * feed, while a single path keeps the dead ops; there the counts legitimately differ.) */
static bool has_none(const nas_arch_t *a)
{
    char buf[4096];
    assert_int_equal(nas_arch_to_string(a, NAS_STRING_ARCH_ONLY, buf, sizeof buf, NULL), NAS_OK);
    return strstr(buf, "none~") != NULL;
}

/*
 * A single path through the supernet has the parameters of the discrete network of that architecture,
 * for archs without none ops, with pool BN off (DARTS's supernet puts BN after pools: 2C more per pool
 * path; checked too), and chains built at the arch's width.
 */
static void test_single_path_params(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(3);
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 3, 1), NAS_OK);
    for (size_t f = 0; f < N_SHIPPED; f++) {
        nas_space_t *s = load_rel(ctx, shipped[f]);
        nas__build_opts_t o = opts_for(1, 28, 28, 10);
        o.cells_per_stage = 2;
        o.pool_bn = NAS__POOL_BN_OFF;
        nas__build_opts_t bn = o;
        bn.pool_bn = NAS__POOL_BN_ON;
        nas__supernet_map_t *map = NULL, *map_bn = NULL;
        nas__graph_t *g = NULL, *g_bn = supernet(s, &bn, NAS__MIXED_SINGLE, &map_bn);
        uint32_t gw = 0;    /* for chains: the width the supernet was built at */
        nas_arch_t *a = arch_of(s, NULL);
        uint32_t *paths = calloc(map_bn->num_mixed + 1, sizeof *paths);
        int checked = 0;
        for (int i = 0; i < 400 && checked < 30; i++) {
            assert_int_equal(nas_space_sample(s, a, rng), NAS_OK);
            if (has_none(a))
                continue;
            uint32_t width_dim;
            if (nas_space_find_dim(s, "width", &width_dim) == NAS_OK) {
                double w;
                uint32_t wc;
                assert_int_equal(nas_arch_get_value(a, width_dim, &w), NAS_OK);
                assert_int_equal(nas_arch_get(a, width_dim, &wc), NAS_OK);
                o.supernet_width = w;
                if (!g || gw != wc) {
                    nas__graph_destroy(g);
                    nas__supernet_map_destroy(map);
                    g = supernet(s, &o, NAS__MIXED_SINGLE, &map);
                    gw = wc;
                }
            } else if (!g) {
                g = supernet(s, &o, NAS__MIXED_SINGLE, &map);
            }
            char err[NAS_ERRMSG_CAP];
            assert_int_equal(nas__supernet_paths(map, a, paths, err), NAS_OK);
            int64_t want = params_of(a, &o);
            assert_int_equal(single_path_params(g, map, paths), want);
            /* With BN after pools: 2C per pool path (C of the edge). Only the cell spaces have pools. */
            if (nas_space_family(s) == NAS_FAMILY_CELL) {
                int64_t extra = 0;
                for (uint32_t m = 0; m < map_bn->num_mixed; m++) {
                    const char *label = NULL;
                    uint32_t first;
                    nas_status_t st = nas_space_find_dim(s, "cell/edge_1_0", &first);
                    if (st != NAS_OK)
                        assert_int_equal(nas_space_find_dim(s, "normal/node2/op0", &first), NAS_OK);
                    assert_int_equal(nas_space_dim_label(s, first, paths[m], &label), NAS_OK);
                    if (strstr(label, "pool"))
                        extra += 2 * nas__graph_node(g_bn, map_bn->mixed[m].node)->out.c;
                }
                assert_int_equal(single_path_params(g_bn, map_bn, paths), want + extra);
            }
            checked++;
        }
        assert_true(checked >= 10);
        free(paths);
        nas_arch_destroy(a);
        nas__supernet_map_destroy(map);
        nas__supernet_map_destroy(map_bn);
        nas__graph_destroy(g);
        nas__graph_destroy(g_bn);
        nas_space_destroy(s);
    }
    nas_rng_destroy(rng);
    nas_context_destroy(ctx);
}

/* One-hot weights on the paths of an arch derive that arch back (DARTS: archs without none, which its
 * derive rule never picks). */
static void test_derive_roundtrip(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(5);
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 5, 2), NAS_OK);
    for (size_t f = 0; f < N_SHIPPED; f++) {
        nas_space_t *s = load_rel(ctx, shipped[f]);
        nas__build_opts_t o = opts_for(1, 28, 28, 10);
        o.cells_per_stage = 1;
        nas__supernet_map_t *map = NULL;
        nas__graph_t *g = supernet(s, &o, NAS__MIXED_WEIGHTED, &map);
        bool darts = map->mixed[0].role == NAS__MIXED_CELL_PICK;
        nas_arch_t *a = arch_of(s, NULL), *d = arch_of(s, NULL);
        uint32_t *paths = calloc(map->num_mixed, sizeof *paths);
        float *w = calloc(map->total_paths, sizeof *w);
        int checked = 0;
        for (int i = 0; i < 300 && checked < 50; i++) {
            assert_int_equal(nas_space_sample(s, a, rng), NAS_OK);
            if (darts && has_none(a))
                continue;
            char err[NAS_ERRMSG_CAP];
            assert_int_equal(nas__supernet_paths(map, a, paths, err), NAS_OK);
            float *p = w;
            for (uint32_t m = 0; m < map->num_mixed; p += map->mixed[m].n_paths, m++)
                for (uint32_t k = 0; k < map->mixed[m].n_paths; k++)
                    p[k] = k == paths[m] ? 0.9f : 0.1f / (float)map->mixed[m].n_paths;
            /* Start from another arch that shares the decisions a supernet does not search. */
            assert_int_equal(nas_space_sample(s, d, rng), NAS_OK);
            for (uint32_t dim = 0; dim < nas_space_num_dims(s); dim++) {
                nas_dim_info_t info = { sizeof info, NULL, 0, 0, 0, 0, 0, false, 0, 0 };
                assert_int_equal(nas_space_dim_info(s, dim, &info), NAS_OK);
                if ((info.role == NAS_ROLE_WIDTH || info.role == NAS_ROLE_HPARAM) && info.kind == NAS_DIM_FLOAT) {
                    double v;
                    assert_int_equal(nas_arch_get_value(a, dim, &v), NAS_OK);
                    assert_int_equal(nas_arch_set_value(d, dim, v), NAS_OK);
                } else if (info.role == NAS_ROLE_WIDTH || info.role == NAS_ROLE_HPARAM) {
                    uint32_t c;
                    assert_int_equal(nas_arch_get(a, dim, &c), NAS_OK);
                    assert_int_equal(nas_arch_set(d, dim, c), NAS_OK);
                }
            }
            assert_int_equal(nas__supernet_derive(map, w, d, err), NAS_OK);
            if (!nas_arch_equal(a, d)) {
                char x[4096], y[4096];
                nas_arch_to_string(a, 0, x, sizeof x, NULL);
                nas_arch_to_string(d, 0, y, sizeof y, NULL);
                fail_msg("%s: derived %s from %s", shipped[f], y, x);
            }
            checked++;
        }
        assert_true(checked >= 20);
        /* NaN weights are refused and leave the arch alone. */
        nas_arch_t *before = arch_of(s, NULL);
        assert_int_equal(nas_arch_copy(before, d), NAS_OK);
        w[0] = NAN;
        char err[NAS_ERRMSG_CAP];
        assert_int_equal(nas__supernet_derive(map, w, d, err), NAS_E_INVAL);
        assert_true(nas_arch_equal(before, d));
        nas_arch_destroy(before);
        free(w);
        free(paths);
        nas_arch_destroy(d);
        nas_arch_destroy(a);
        nas__supernet_map_destroy(map);
        nas__graph_destroy(g);
        nas_space_destroy(s);
    }
    nas_rng_destroy(rng);
    nas_context_destroy(ctx);
}

/* DARTS's derive rule: per node the two inputs with the strongest non-none op, skipping none. */
static void test_derive_darts_rule(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_text(ctx, darts_small);
    nas__build_opts_t o = opts_for(3, 8, 8, 10);
    nas__supernet_map_t *map = NULL;
    nas__graph_t *g = supernet(s, &o, NAS__MIXED_WEIGHTED, &map);
    float *w = calloc(map->total_paths, sizeof *w);
    /* Every edge: none strongest (0.5), then sep_conv_3x3 (path 4) at 0.1 * (from + 1), the rest 0.01;
     * in node 4 edge 0 prefers max_pool_3x3 at 0.45. Node i then picks its two highest sources. */
    float *p = w;
    for (uint32_t m = 0; m < map->num_mixed; p += map->mixed[m].n_paths, m++) {
        const nas__mixed_map_t *e = &map->mixed[m];
        for (uint32_t k = 0; k < e->n_paths; k++)
            p[k] = 0.01f;
        p[0] = 0.5f;
        p[4] = 0.1f * (float)(e->from + 1);
        if (e->to == 4 && e->from == 0)
            p[1] = 0.45f;
    }
    nas_arch_t *a = arch_of(s, NULL);
    char err[NAS_ERRMSG_CAP];
    assert_int_equal(nas__supernet_derive(map, w, a, err), NAS_OK);
    char buf[1024];
    assert_int_equal(nas_arch_to_string(a, 0, buf, sizeof buf, NULL), NAS_OK);
    const char *cell = "|sep_conv_3x3~0|sep_conv_3x3~1|+|sep_conv_3x3~1|sep_conv_3x3~2|+|max_pool_3x3~0|"
                       "sep_conv_3x3~3|+|sep_conv_3x3~3|sep_conv_3x3~4|";
    char want[1024];
    snprintf(want, sizeof want, "normal:%s/reduce:%s", cell, cell);
    assert_string_equal(buf, want);
    free(w);
    nas_arch_destroy(a);
    nas__supernet_map_destroy(map);
    nas__graph_destroy(g);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Errors, OOM                                                              */

static void test_bad_args(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_space_t *s = load_text(ctx, nb201_small);
    nas_arch_t *a = arch_of(s, NULL);
    char err[NAS_ERRMSG_CAP];
    nas__graph_t *g = (nas__graph_t *)1;
    assert_int_equal(nas__build_graph(NULL, a, NULL, err), NAS_E_INVAL);
    assert_int_equal(nas__build_graph(&g, NULL, NULL, err), NAS_E_INVAL);
    assert_null(g);
    /* NULL opts: 3 x 32 x 32, 10 classes. */
    assert_int_equal(nas__build_graph(&g, a, NULL, NULL), NAS_OK);
    expect_shape(g, nas__graph_input_node(g), 3, 32, 32);
    nas__graph_destroy(g);
    struct { const char *needle; void (*set)(nas__build_opts_t *); } cases[] = {
        { "num_classes", NULL }, { "label_smoothing", NULL }, { "input shape", NULL }, { "struct_size", NULL },
        { "channel_scale", NULL }, { "stem_stride", NULL }, { "cells_per_stage", NULL }, { "pool_bn", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nas__build_opts_t o = NAS__BUILD_OPTS_INIT;
        switch (i) {
        case 0: o.num_classes = 1; break;
        case 1: o.label_smoothing = 1.0f; break;
        case 2: o.in_h = 0; break;
        case 3: o.struct_size = 2; break;
        case 4: o.channel_scale = -1.0; break;
        case 5: o.stem_stride = 3; break;
        case 6: o.cells_per_stage = -1; break;
        default: o.pool_bn = 7; break;
        }
        g = (nas__graph_t *)1;
        assert_int_equal(nas__build_graph(&g, a, &o, err), NAS_E_INVAL);
        assert_null(g);
        if (!strstr(err, cases[i].needle))
            fail_msg("'%s' does not mention '%s'", err, cases[i].needle);
    }
    /* A smaller (older) options struct: the rest takes defaults. */
    nas__build_opts_t o = opts_for(1, 28, 28, 5);
    o.struct_size = offsetof(nas__build_opts_t, label_smoothing);
    o.cells_per_stage = 99;
    assert_int_equal(nas__build_graph(&g, a, &o, err), NAS_OK);
    expect_shape(g, nas__graph_in(g, nas__graph_output(g), 0), 5, 1, 1);
    assert_int_equal(count_kind(g, NAS__NODE_ZERO), 3); /* 3 cells, not 99 per stage */
    nas__graph_destroy(g);
    /* Channels past the graph's limit: a graph error, not a crash. */
    o = opts_for(3, 32, 32, 10);
    o.channel_scale = 64.0;
    nas_space_t *big = load_rel(ctx, "spaces/proxylessnas.yaml");
    nas_arch_t *b = arch_of(big, NULL);
    assert_int_not_equal(nas__build_graph(&g, b, &o, err), NAS_OK);
    assert_null(g);
    nas_arch_destroy(b);
    nas_space_destroy(big);
    /* A space of hyperparameters only has no network. */
    nas_space_t *hp = load_text(ctx, "family: none\nhyperparameters:\n  - {name: lr, type: float, low: 0.1, high: 1}\n");
    nas_arch_t *h = arch_of(hp, NULL);
    assert_int_equal(nas__build_graph(&g, h, NULL, err), NAS_E_UNSUPPORTED);
    assert_int_equal(nas__build_supernet(&g, hp, NULL, NAS__MIXED_WEIGHTED, err), NAS_E_UNSUPPORTED);
    assert_null(g);
    assert_int_equal(nas__build_supernet(&g, NULL, NULL, NAS__MIXED_WEIGHTED, err), NAS_E_INVAL);
    /* Derive and paths check their arguments and the arch's space. */
    nas__supernet_map_t *map = NULL;
    assert_int_equal(nas__build_supernet_map(&g, &map, s, NULL, NAS__MIXED_WEIGHTED, err), NAS_OK);
    float w[4096] = { 0 };
    uint32_t paths[64];
    assert_true(map->total_paths <= 4096 && map->num_mixed <= 64);
    assert_int_equal(nas__supernet_derive(map, w, h, err), NAS_E_INVAL);
    assert_int_equal(nas__supernet_paths(map, h, paths, err), NAS_E_INVAL);
    assert_int_equal(nas__supernet_derive(map, NULL, a, err), NAS_E_INVAL);
    assert_int_equal(nas__supernet_derive(map, w, a, err), NAS_OK);
    nas__supernet_map_destroy(map);
    nas__supernet_map_destroy(NULL);
    nas__graph_destroy(g);
    nas_arch_destroy(h);
    nas_space_destroy(hp);
    nas_arch_destroy(a);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static nas_status_t oom_body(nas_context_t *ctx, void *arg)
{
    const char *yaml = arg;
    nas_space_t *s = NULL;
    nas_arch_t *a = NULL;
    nas__graph_t *g = NULL;
    nas__supernet_map_t *map = NULL;
    nas_status_t st = nas_space_load_string(&s, ctx, yaml, strlen(yaml), NULL);
    if (st == NAS_OK)
        st = nas_arch_create(&a, s);
    if (st == NAS_OK)
        st = nas__build_graph(&g, a, NULL, NULL);
    nas__graph_destroy(g);
    g = NULL;
    if (st == NAS_OK)
        st = nas__build_supernet_map(&g, &map, s, NULL, NAS__MIXED_WEIGHTED, NULL);
    if (st == NAS_OK) {
        float w[512] = { 0 };
        st = nas__supernet_derive(map, w, a, NULL);
    }
    nas__supernet_map_destroy(map);
    nas__graph_destroy(g);
    nas_arch_destroy(a);
    nas_space_destroy(s);
    return st;
}

static void test_oom(void **state)
{
    (void)state;
    tu_oom_sweep(oom_body, (void *)darts_small);
    tu_oom_sweep(oom_body, (void *)chain_small);
}

/* ---------------------------------------------------------------------- */
/* Through the executor                                                     */

static nas__plan_t *compile(nas__dev_t *dev, const nas__graph_t *g, int batch, bool train)
{
    nas__plan_opts_t po = NAS__PLAN_OPTS_INIT;
    po.batch = batch;
    po.train = train;
    po.init_stream = 1;
    nas__plan_t *p = NULL;
    if (nas__plan_create(&p, dev, g, &po) != NAS_OK)
        fail_msg("compile: %s", nas_context_errmsg(nas__dev_context(dev)));
    return p;
}

static void fill(nas_rng_t *rng, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)nas_rng_normal(rng);
}

/* A small NB201 network at batch 2: the logits are 10 x 1 x 1, the loss finite; a training step runs. */
static void test_forward_discrete(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 1, 9), NAS_OK);
    nas_space_t *s = load_text(ctx, nb201_small);
    nas_arch_t *a = arch_of(s, "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|"
                               "nor_conv_3x3~2|");
    nas__build_opts_t o = opts_for(1, 28, 28, 10);
    nas__graph_t *g = build(a, &o);
    expect_shape(g, nas__graph_in(g, nas__graph_output(g), 0), 10, 1, 1);
    nas__plan_t *p = compile(dev, g, 2, true);
    float x[2 * 28 * 28];
    int32_t y[2] = { 3, 7 };
    fill(rng, x, 2 * 28 * 28);
    assert_int_equal(nas__plan_set_input(p, x), NAS_OK);
    assert_int_equal(nas__plan_set_labels(p, y), NAS_OK);
    assert_int_equal(nas__plan_forward(p, true), NAS_OK);
    double loss = nas__plan_loss(p);
    assert_true(isfinite(loss) && loss > 0.0);
    float out = 0.0f;
    assert_int_equal(nas__plan_read_output(p, &out), NAS_OK);
    assert_true(fabs(out - loss) < 1e-4 * fabs(loss) + 1e-6);
    nas__optim_cfg_t oc;
    nas__optim_defaults(&oc);
    double l2 = 0.0;
    assert_int_equal(nas__plan_train_step(p, x, y, &oc, &l2), NAS_OK);
    assert_true(isfinite(l2));
    nas__plan_destroy(p);
    nas__graph_destroy(g);
    nas_arch_destroy(a);
    /* A disconnected cell: the loss does not depend on the input. */
    a = arch_of(s, "|none~0|+|none~0|nor_conv_3x3~1|+|none~0|skip_connect~1|avg_pool_3x3~2|");
    g = build(a, &o);
    p = compile(dev, g, 2, false);
    double l[2];
    for (int k = 0; k < 2; k++) {
        fill(rng, x, 2 * 28 * 28);
        assert_int_equal(nas__plan_set_input(p, x), NAS_OK);
        assert_int_equal(nas__plan_set_labels(p, y), NAS_OK);
        assert_int_equal(nas__plan_forward(p, false), NAS_OK);
        l[k] = nas__plan_loss(p);
    }
    assert_true(isfinite(l[0]));
    assert_true(l[0] == l[1]);
    nas__plan_destroy(p);
    nas__graph_destroy(g);
    nas_arch_destroy(a);
    nas_space_destroy(s);

    /* Sums that take one node twice (all skips: node 2 = x + x) and DARTS cells with zero parts train. */
    struct { const char *yaml, *arch; } cases[2] = {
        { nb201_small, "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|"
                       "skip_connect~2|" },
        { darts_small, "normal:" DARTS_ZERO_CELL "/reduce:" DARTS_ZERO_CELL },
    };
    for (int k = 0; k < 2; k++) {
        s = load_text(ctx, cases[k].yaml);
        a = arch_of(s, cases[k].arch);
        g = build(a, &o);
        p = compile(dev, g, 2, true);
        fill(rng, x, 2 * 28 * 28);
        assert_int_equal(nas__plan_train_step(p, x, y, &oc, &l2), NAS_OK);
        assert_true(isfinite(l2) && l2 > 0.0);
        nas__plan_destroy(p);
        nas__graph_destroy(g);
        nas_arch_destroy(a);
        nas_space_destroy(s);
    }
    nas_rng_destroy(rng);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

/* Supernets run too: NB201 and DARTS (weighted, with an architecture step) and a chain (single path). */
static void test_forward_supernets(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 1, 10), NAS_OK);
    const char *yaml[3] = { nb201_small, darts_small, chain_small };
    for (int k = 0; k < 3; k++) {
        nas_space_t *s = load_text(ctx, yaml[k]);
        nas__build_opts_t o = opts_for(1, 16, 16, 10);
        nas__supernet_map_t *map = NULL;
        nas__mixed_mode_t mode = k < 2 ? NAS__MIXED_WEIGHTED : NAS__MIXED_SINGLE;
        nas__graph_t *g = supernet(s, &o, mode, &map);
        nas__plan_t *p = compile(dev, g, 2, true);
        assert_int_equal(nas__plan_num_mixed(p), map->num_mixed);
        uint32_t na = 0;
        nas__plan_alphas(p, &na);
        if (mode == NAS__MIXED_WEIGHTED)
            assert_int_equal(na, map->total_paths);
        for (uint32_t m = 0; m < map->num_mixed; m++)
            assert_int_equal(nas__plan_mixed_paths(p, m), map->mixed[m].n_paths);
        if (mode == NAS__MIXED_SINGLE) {
            nas_arch_t *a = arch_of(s, NULL);
            assert_int_equal(nas_space_sample(s, a, rng), NAS_OK);
            uint32_t paths[64];
            assert_true(map->num_mixed <= 64);
            assert_int_equal(nas__supernet_paths(map, a, paths, NULL), NAS_OK);
            for (uint32_t m = 0; m < map->num_mixed; m++)
                assert_int_equal(nas__plan_set_path(p, m, paths[m]), NAS_OK);
            nas_arch_destroy(a);
        }
        float x[2 * 16 * 16];
        int32_t y[2] = { 1, 2 };
        fill(rng, x, 2 * 16 * 16);
        nas__optim_cfg_t oc;
        nas__optim_defaults(&oc);
        double loss = 0.0;
        assert_int_equal(nas__plan_train_step(p, x, y, &oc, &loss), NAS_OK);
        assert_true(isfinite(loss));
        if (mode == NAS__MIXED_WEIGHTED)
            assert_int_equal(nas__plan_arch_step(p, &oc), NAS_OK);
        nas__plan_destroy(p);
        nas__supernet_map_destroy(map);
        nas__graph_destroy(g);
        nas_space_destroy(s);
    }
    nas_rng_destroy(rng);
    nas__dev_destroy(dev);
    nas_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nb201_small_counts),
        cmocka_unit_test(test_nb201_published_counts),
        cmocka_unit_test(test_nb201_all_none),
        cmocka_unit_test(test_nb201_pruning),
        cmocka_unit_test(test_cell_overrides),
        cmocka_unit_test(test_darts_v2_counts),
        cmocka_unit_test(test_darts_small_shapes),
        cmocka_unit_test(test_darts_zero_nodes),
        cmocka_unit_test(test_chain_channels),
        cmocka_unit_test(test_chain_imagenet),
        cmocka_unit_test(test_random_archs),
        cmocka_unit_test(test_nb201_supernet),
        cmocka_unit_test(test_darts_supernet),
        cmocka_unit_test(test_chain_supernet),
        cmocka_unit_test(test_single_path_params),
        cmocka_unit_test(test_derive_roundtrip),
        cmocka_unit_test(test_derive_darts_rule),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_forward_discrete),
        cmocka_unit_test(test_forward_supernets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
