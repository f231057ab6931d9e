/* Composite blocks built from primitive nodes through the public builder (no IR internals). */
#include "nn/graph.h"

int32_t nas__graph_add_factorized_reduce(nas__graph_t *g, int32_t in, int32_t out_c)
{
    if (!g || !nas__graph_check_input(g, in, "factorized_reduce"))
        return -1;
    nas__shape_t s = nas__graph_node(g, in)->out;
    if (out_c < 2 || out_c % 2 != 0)
        return nas__graph_fail(g, NAS_E_INVAL, "factorized_reduce on node %d: output channels %d must be even", (int)in,
                     (int)out_c);
    if (s.h % 2 != 0 || s.w % 2 != 0 || s.h < 2 || s.w < 2)
        return nas__graph_fail(g, NAS_E_INVAL, "factorized_reduce on node %d: input %d x %d must have even height and width",
                     (int)in, (int)s.h, (int)s.w);
    int32_t r = nas__graph_add_relu(g, in);
    int32_t c1 = nas__graph_add_conv(g, r, out_c / 2, 1, 2, 1, 1, false);
    int32_t sh = nas__graph_add_crop(g, r, 1, 1, s.h - 1, s.w - 1);
    int32_t c2 = nas__graph_add_conv(g, sh, out_c / 2, 1, 2, 1, 1, false);
    int32_t cat[2] = { c1, c2 };
    int32_t c = nas__graph_add_concat(g, 2, cat);
    return nas__graph_add_bn(g, c);
}

int32_t nas__graph_add_inverted_residual(nas__graph_t *g, int32_t in, int32_t expand, int32_t k, int32_t stride,
                                         int32_t out_c)
{
    if (!g || !nas__graph_check_input(g, in, "inverted_residual"))
        return -1;
    nas__shape_t s = nas__graph_node(g, in)->out;
    if (expand < 1 || expand > 64 || (int64_t)s.c * expand > NAS__GRAPH_MAX_DIM)
        return nas__graph_fail(g, NAS_E_INVAL, "inverted_residual on node %d: bad expansion ratio %d", (int)in, (int)expand);
    int32_t hidden = s.c * expand, x = in;
    if (expand != 1) {
        x = nas__graph_add_conv(g, x, hidden, 1, 1, 1, 1, false);
        x = nas__graph_add_relu6(g, nas__graph_add_bn(g, x));
    }
    x = nas__graph_add_conv(g, x, hidden, k, stride, 1, hidden, false);
    x = nas__graph_add_relu6(g, nas__graph_add_bn(g, x));
    x = nas__graph_add_conv(g, x, out_c, 1, 1, 1, 1, false);
    x = nas__graph_add_bn(g, x);
    if (stride == 1 && s.c == out_c) {
        int32_t ins[2] = { in, x };
        x = nas__graph_add_sum(g, 2, ins);
    }
    return x;
}
