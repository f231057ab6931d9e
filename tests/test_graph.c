/* The network IR: shapes, parameter and FLOP counts, mixed nodes, validation errors. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "nn/graph.h"

static nas__graph_t *new_graph(nas_context_t *ctx)
{
    nas__graph_t *g = NULL;
    assert_int_equal(nas__graph_create(&g, ctx), NAS_OK);
    return g;
}

static void expect_shape(const nas__graph_t *g, int32_t id, int32_t c, int32_t h, int32_t w)
{
    assert_true(id >= 0);
    const nas__node_t *n = nas__graph_node(g, id);
    if (n->out.c != c || n->out.h != h || n->out.w != w)
        fail_msg("node %d (%s) is %d x %d x %d, expected %d x %d x %d", (int)id, nas__node_kind_name(n->kind),
                 (int)n->out.c, (int)n->out.h, (int)n->out.w, (int)c, (int)h, (int)w);
}

static void expect_error(nas__graph_t *g, nas_status_t st, const char *needle)
{
    assert_int_equal(nas__graph_status(g), st);
    if (!strstr(nas__graph_errmsg(g), needle))
        fail_msg("message '%s' does not mention '%s'", nas__graph_errmsg(g), needle);
}

static int32_t block(nas__graph_t *g, int32_t x, int32_t c)
{
    return nas__graph_add_relu(g, nas__graph_add_bn(g, nas__graph_add_conv(g, x, c, 3, 1, 1, 1, false)));
}

static void test_reference_net_counts(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas__graph_t *g = new_graph(ctx);
    int32_t x = nas__graph_add_input(g, 1, 28, 28);
    x = block(g, x, 32);
    x = block(g, x, 32);
    x = nas__graph_add_maxpool(g, x, 2, 2, 0);
    expect_shape(g, x, 32, 14, 14);
    x = block(g, x, 64);
    x = block(g, x, 64);
    x = nas__graph_add_maxpool(g, x, 2, 2, 0);
    x = block(g, x, 128);
    expect_shape(g, x, 128, 7, 7);
    x = nas__graph_add_gap(g, x);
    expect_shape(g, x, 128, 1, 1);
    x = nas__graph_add_fc(g, x, 10, true);
    int32_t l = nas__graph_add_loss(g, x, 0.1f);
    assert_int_equal(nas__graph_status(g), NAS_OK);
    assert_int_equal(nas__graph_validate(g, NULL), NAS_OK);
    assert_int_equal(nas__graph_output(g), l);
    /* convs 288 + 9216 + 18432 + 36864 + 73728, BN 2*(32+32+64+64+128), fc 1280 + 10 */
    assert_int_equal(nas__graph_params(g), 140458);
    int64_t macs = 28 * 28 * 32 * 9 + 28 * 28 * 32 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 14 * 14 * 64 * 64 * 9 +
                   7 * 7 * 128 * 64 * 9 + 1280;
    assert_int_equal(nas__graph_flops(g), 2 * macs);
    nas__graph_destroy(g);
    nas_context_destroy(ctx);
}

static void test_shapes(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas__graph_t *g = new_graph(ctx);
    int32_t x = nas__graph_add_input(g, 8, 7, 9);
    expect_shape(g, nas__graph_add_conv(g, x, 6, 3, 2, 1, 1, true), 6, 4, 5);
    expect_shape(g, nas__graph_add_conv(g, x, 4, 5, 1, 2, 2, false), 4, 7, 9);
    expect_shape(g, nas__graph_add_conv(g, x, 8, 1, 2, 1, 8, false), 8, 4, 5);
    int32_t dw = nas__graph_add_conv(g, x, 8, 3, 1, 1, 8, false);
    assert_int_equal(nas__graph_node(g, dw)->params, 8 * 9);
    assert_int_equal(nas__graph_node(g, dw)->flops, 2 * 8 * 9 * 7 * 9);
    expect_shape(g, nas__graph_add_maxpool(g, x, 3, 2, 1), 8, 4, 5);
    expect_shape(g, nas__graph_add_avgpool(g, x, 3, 1, 1), 8, 7, 9);
    expect_shape(g, nas__graph_add_zero(g, x, 2), 8, 4, 5);
    expect_shape(g, nas__graph_add_crop(g, x, 1, 1, 6, 8), 8, 6, 8);
    int32_t ins[2] = { x, nas__graph_add_relu6(g, x) };
    expect_shape(g, nas__graph_add_concat(g, 2, ins), 16, 7, 9);
    expect_shape(g, nas__graph_add_sum(g, 2, ins), 8, 7, 9);
    int32_t fc = nas__graph_add_fc(g, x, 3, false);
    expect_shape(g, fc, 3, 1, 1);
    assert_int_equal(nas__graph_node(g, fc)->params, 8 * 7 * 9 * 3);
    int32_t ir = nas__graph_add_inverted_residual(g, x, 3, 5, 1, 8);
    assert_int_equal(nas__graph_node(g, ir)->kind, NAS__NODE_SUM); /* residual */
    expect_shape(g, ir, 8, 7, 9);
    int32_t ir2 = nas__graph_add_inverted_residual(g, x, 1, 3, 2, 16);
    assert_int_equal(nas__graph_node(g, ir2)->kind, NAS__NODE_BN); /* no residual, no expansion */
    expect_shape(g, ir2, 16, 4, 5);
    assert_int_equal(nas__graph_status(g), NAS_OK);
    nas__graph_destroy(g);

    g = new_graph(ctx);
    x = nas__graph_add_input(g, 8, 8, 6);
    int32_t fr = nas__graph_add_factorized_reduce(g, x, 12);
    expect_shape(g, fr, 12, 4, 3);
    assert_int_equal(nas__graph_node(g, fr)->kind, NAS__NODE_BN);
    assert_int_equal(nas__graph_params(g), 2 * 8 * 6 + 24);
    nas__graph_destroy(g);
    nas_context_destroy(ctx);
}

static void test_mixed(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas__graph_t *g = new_graph(ctx);
    int32_t x = nas__graph_add_input(g, 4, 6, 6);
    assert_int_equal(nas__graph_mixed_begin(g, x, NAS__MIXED_WEIGHTED), NAS_OK);
    int32_t c = nas__graph_add_conv(g, nas__graph_add_relu(g, x), 4, 3, 1, 1, 1, false);
    assert_int_equal(nas__graph_mixed_end_path(g, c), NAS_OK);
    assert_int_equal(nas__graph_mixed_end_path(g, nas__graph_add_identity(g, x)), NAS_OK);
    assert_int_equal(nas__graph_mixed_end_path(g, nas__graph_add_zero(g, x, 1)), NAS_OK);
    int32_t m = nas__graph_mixed_end(g);
    assert_true(m >= 0);
    const nas__node_t *mn = nas__graph_node(g, m);
    assert_int_equal(mn->kind, NAS__NODE_MIXED);
    assert_int_equal(mn->n_paths, 3);
    assert_int_equal(nas__graph_path_out(g, m, 0), c);
    assert_int_equal(nas__graph_node(g, c)->mixed, m);
    assert_int_equal(nas__graph_node(g, c)->path, 0);
    assert_int_equal(mn->params, 4 * 4 * 9);
    assert_int_equal(nas__graph_params(g), 4 * 4 * 9); /* counted once */
    assert_int_equal(nas__graph_num_mixed(g), 1);
    assert_int_equal(nas__graph_mixed_index(g, m), 0);
    expect_shape(g, m, 4, 6, 6);
    assert_int_equal(nas__graph_output(g), m);
    /* a second mixed node can use the first one's alphas if it has as many paths */
    nas__graph_mixed_begin(g, m, NAS__MIXED_WEIGHTED);
    nas__graph_mixed_end_path(g, nas__graph_add_identity(g, m));
    nas__graph_mixed_end_path(g, nas__graph_add_zero(g, m, 1));
    nas__graph_mixed_end_path(g, nas__graph_add_maxpool(g, m, 3, 1, 1));
    int32_t m2 = nas__graph_mixed_end(g);
    assert_int_equal(nas__graph_node(g, m2)->alpha_of, m2);
    assert_int_equal(nas__graph_mixed_share_alphas(g, m2, m), NAS_OK);
    assert_int_equal(nas__graph_node(g, m2)->alpha_of, m);
    assert_int_equal(nas__graph_num_mixed(g), 2);
    /* a path-internal node cannot be used outside */
    assert_int_equal(nas__graph_add_relu(g, c), -1);
    expect_error(g, NAS_E_INVAL, "internal to path");
    nas__graph_destroy(g);
    nas_context_destroy(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    struct {
        const char *needle;
        nas_status_t st;
        int which;
    } cases[] = {
        { "divisible", NAS_E_INVAL, 0 },       { "does not exist", NAS_E_INVAL, 1 },
        { "but input", NAS_E_INVAL, 2 },       { "does not fit", NAS_E_INVAL, 3 },
        { "K x 1 x 1", NAS_E_INVAL, 4 },       { "first and only", NAS_E_STATE, 5 },
        { "end without begin", NAS_E_STATE, 6 }, { "path 1 gives", NAS_E_INVAL, 7 },
        { "neither the mixed input", NAS_E_INVAL, 8 }, { "nested", NAS_E_UNSUPPORTED, 9 },
        { "no candidate path", NAS_E_INVAL, 10 }, { "even height", NAS_E_INVAL, 11 },
        { "padding", NAS_E_INVAL, 12 },        { "smoothing", NAS_E_INVAL, 13 },
        { "already has a loss", NAS_E_STATE, 14 }, { "outside", NAS_E_INVAL, 15 },
        { "bad output channel", NAS_E_INVAL, 16 }, { "has 1 paths", NAS_E_INVAL, 17 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        nas__graph_t *g = new_graph(ctx);
        int32_t x = nas__graph_add_input(g, 6, 5, 5), y;
        switch (cases[i].which) {
        case 0: nas__graph_add_conv(g, x, 8, 3, 1, 1, 4, false); break;
        case 1: nas__graph_add_relu(g, 42); break;
        case 2: {
            int32_t ins[2] = { x, nas__graph_add_maxpool(g, x, 2, 2, 0) };
            nas__graph_add_sum(g, 2, ins);
            break;
        }
        case 3: nas__graph_add_maxpool(g, x, 7, 1, 0); break;
        case 4: nas__graph_add_loss(g, x, 0.0f); break;
        case 5: nas__graph_add_input(g, 1, 1, 1); break;
        case 6: nas__graph_mixed_end(g); break;
        case 7:
            nas__graph_mixed_begin(g, x, NAS__MIXED_SINGLE);
            nas__graph_mixed_end_path(g, nas__graph_add_identity(g, x));
            nas__graph_mixed_end_path(g, nas__graph_add_conv(g, x, 6, 3, 2, 1, 1, false));
            break;
        case 8:
            y = nas__graph_add_relu(g, x);
            nas__graph_mixed_begin(g, x, NAS__MIXED_WEIGHTED);
            nas__graph_add_relu(g, y);
            break;
        case 9:
            nas__graph_mixed_begin(g, x, NAS__MIXED_WEIGHTED);
            nas__graph_mixed_begin(g, x, NAS__MIXED_WEIGHTED);
            break;
        case 10:
            nas__graph_mixed_begin(g, x, NAS__MIXED_WEIGHTED);
            nas__graph_mixed_end(g);
            break;
        case 11: nas__graph_add_factorized_reduce(g, x, 8); break;
        case 12: nas__graph_add_avgpool(g, x, 3, 1, 2); break;
        case 13: nas__graph_add_loss(g, nas__graph_add_fc(g, x, 3, true), 1.0f); break;
        case 14:
            y = nas__graph_add_fc(g, x, 3, true);
            nas__graph_add_loss(g, y, 0.0f);
            nas__graph_add_loss(g, y, 0.0f);
            break;
        case 15: nas__graph_add_crop(g, x, 1, 1, 5, 2); break;
        case 16: nas__graph_add_conv(g, x, 0, 3, 1, 1, 1, false); break;
        case 17: {
            int32_t a, b;
            nas__graph_mixed_begin(g, x, NAS__MIXED_WEIGHTED);
            nas__graph_mixed_end_path(g, nas__graph_add_identity(g, x));
            nas__graph_mixed_end_path(g, nas__graph_add_relu(g, x));
            a = nas__graph_mixed_end(g);
            nas__graph_mixed_begin(g, a, NAS__MIXED_WEIGHTED);
            nas__graph_mixed_end_path(g, nas__graph_add_identity(g, a));
            b = nas__graph_mixed_end(g);
            nas__graph_mixed_share_alphas(g, b, a);
            break;
        }
        }
        expect_error(g, cases[i].st, cases[i].needle);
        /* sticky: later calls are no-ops and keep the first message */
        char first[NAS_ERRMSG_CAP];
        snprintf(first, sizeof first, "%s", nas__graph_errmsg(g));
        assert_int_equal(nas__graph_add_relu(g, x), -1);
        assert_string_equal(nas__graph_errmsg(g), first);
        assert_int_equal(nas__graph_validate(g, ctx->errmsg), cases[i].st);
        nas__graph_destroy(g);
    }
    /* whole-graph checks */
    nas__graph_t *g = new_graph(ctx);
    assert_int_equal(nas__graph_validate(g, ctx->errmsg), NAS_E_INVAL);
    int32_t x = nas__graph_add_input(g, 2, 4, 4);
    assert_int_equal(nas__graph_validate(g, ctx->errmsg), NAS_E_INVAL); /* no output */
    nas__graph_add_relu(g, x);
    assert_int_equal(nas__graph_validate(g, ctx->errmsg), NAS_OK);
    nas__graph_mixed_begin(g, x, NAS__MIXED_WEIGHTED);
    assert_int_equal(nas__graph_validate(g, ctx->errmsg), NAS_E_STATE); /* open mixed node */
    nas__graph_destroy(g);
    nas__graph_destroy(NULL);
    assert_int_equal(nas__graph_create(NULL, ctx), NAS_E_INVAL);
    nas_context_destroy(ctx);
}

static nas_status_t build_some(nas_context_t *ctx, void *arg)
{
    (void)arg;
    nas__graph_t *g = NULL;
    nas_status_t st = nas__graph_create(&g, ctx);
    if (st != NAS_OK)
        return st;
    int32_t x = nas__graph_add_input(g, 16, 8, 8);
    nas__graph_mixed_begin(g, x, NAS__MIXED_WEIGHTED);
    nas__graph_mixed_end_path(g, nas__graph_add_factorized_reduce(g, x, 16));
    nas__graph_mixed_end_path(g, nas__graph_add_maxpool(g, x, 3, 2, 1));
    x = nas__graph_mixed_end(g);
    x = nas__graph_add_inverted_residual(g, nas__graph_add_conv(g, x, 16, 1, 1, 1, 1, false), 3, 3, 1, 16);
    int32_t ins[2] = { x, x };
    x = nas__graph_add_concat(g, 2, ins);
    x = nas__graph_add_avgpool(g, nas__graph_add_conv(g, x, 16, 1, 1, 1, 1, false), 3, 1, 1);
    nas__graph_add_loss(g, nas__graph_add_fc(g, nas__graph_add_gap(g, x), 10, true), 0.1f);
    st = nas__graph_status(g);
    nas__graph_destroy(g);
    return st;
}

static void test_oom(void **state)
{
    (void)state;
    tu_oom_sweep(build_some, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_net_counts), cmocka_unit_test(test_shapes), cmocka_unit_test(test_mixed),
        cmocka_unit_test(test_errors),               cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
