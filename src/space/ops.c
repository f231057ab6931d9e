/* The op vocabulary: names a space file may use, and what each one means for the network builder. */
#include "space/space_internal.h"

#include <string.h>

struct named_op {
    const char *name;
    nas__opdef_t op;
};

/* Cell ops: NAS-Bench-201 (nor_conv = ReLU-conv-BN) and DARTS. */
static const struct named_op cell_ops[] = {
    { "none",         { NAS__OP_NONE, 0, 0, 1 } },
    { "skip_connect", { NAS__OP_SKIP, 0, 0, 1 } },
    { "nor_conv_1x1", { NAS__OP_CONV, 1, 0, 1 } },
    { "nor_conv_3x3", { NAS__OP_CONV, 3, 0, 1 } },
    { "nor_conv_5x5", { NAS__OP_CONV, 5, 0, 1 } },
    { "avg_pool_3x3", { NAS__OP_AVG_POOL, 3, 0, 1 } },
    { "max_pool_3x3", { NAS__OP_MAX_POOL, 3, 0, 1 } },
    { "sep_conv_3x3", { NAS__OP_SEP_CONV, 3, 0, 1 } },
    { "sep_conv_5x5", { NAS__OP_SEP_CONV, 5, 0, 1 } },
    { "sep_conv_7x7", { NAS__OP_SEP_CONV, 7, 0, 1 } },
    { "dil_conv_3x3", { NAS__OP_DIL_CONV, 3, 0, 2 } },
    { "dil_conv_5x5", { NAS__OP_DIL_CONV, 5, 0, 2 } },
};

bool nas__op_parse_cell(const char *name, nas__opdef_t *out)
{
    if (!name)
        return false;
    for (size_t i = 0; i < sizeof cell_ops / sizeof cell_ops[0]; i++) {
        if (strcmp(name, cell_ops[i].name) == 0) {
            if (out)
                *out = cell_ops[i].op;
            return true;
        }
    }
    return false;
}

/* Chain ops: "skip", or "mbK_eE" (inverted residual, kernel K in {3,5,7}, expansion E in {1,3,4,6}). */
bool nas__op_parse_chain(const char *name, nas__opdef_t *out)
{
    if (!name)
        return false;
    if (strcmp(name, "skip") == 0) {
        if (out)
            *out = (nas__opdef_t){ NAS__OP_SKIP, 0, 0, 1 };
        return true;
    }
    if (strlen(name) != 6 || strncmp(name, "mb", 2) != 0 || name[3] != '_' || name[4] != 'e')
        return false;
    int k = name[2] - '0', e = name[5] - '0';
    if ((k != 3 && k != 5 && k != 7) || (e != 1 && e != 3 && e != 4 && e != 6))
        return false;
    if (out)
        *out = (nas__opdef_t){ NAS__OP_MBCONV, k, e, 1 };
    return true;
}

const char *nas__op_cell_vocabulary(void)
{
    return "none, skip_connect, nor_conv_1x1, nor_conv_3x3, nor_conv_5x5, avg_pool_3x3, max_pool_3x3, "
           "sep_conv_3x3, sep_conv_5x5, sep_conv_7x7, dil_conv_3x3, dil_conv_5x5";
}

const char *nas__op_chain_vocabulary(void)
{
    return "skip and mbK_eE with kernel K in 3, 5, 7 and expansion E in 1, 3, 4, 6 (e.g. mb3_e6)";
}
