/*
 * Space -> network. nas__build_graph() turns one architecture of a built space into a discrete nn
 * graph; nas__build_supernet() turns a whole space into a supernet whose OP decisions are mixed
 * nodes. Both end in the softmax cross-entropy loss. Hyperparameter decisions are ignored here
 * (they belong to training). Parameter and FLOP counts come from the graph (nas__graph_params,
 * nas__graph_flops).
 *
 * CELL FAMILY. The skeleton is the space's macro (without one: NAS-Bench-201's, stem 16 and stages
 * {5 x 16, 5 x 32, 5 x 64} with residual reductions, or, when the cell has a type named "reduce",
 * the DARTS search network's, stem 48 and stages {2 x 16, 2 x 32, 2 x 64} with reduction cells).
 *   stem         conv3x3 (C_in -> stem channels, stride opts.stem_stride, default 1) + BN
 *   stages       `cells` cells each, C = the stage's channels
 *   reductions   between stages: residual (NAS-Bench-201's ResNet basic block: ReLU-conv3x3/2-BN,
 *                ReLU-conv3x3-BN, shortcut avgpool 2x2/2 + conv1x1, sum; at an odd height or width
 *                the shortcut pools 3x3/2 with padding 1, excluding padding, so both branches give
 *                ceil(H/2)), or one cell of type "reduce" with the next stage's C
 *   head         [BN + ReLU for NAS-Bench-201-like networks] + global average pool + FC (bias)
 *   Networks are "DARTS-like" when the cell has >= 2 inputs, outputs a concat, or the reductions are
 *   cells; otherwise "NAS-Bench-201-like".
 *   Cell inputs: input t of a cell with k inputs is the output of the cell k - t back (node k-1 the
 *   previous cell, node 0 the oldest; the stem stands in before the first cell). DARTS-like cells
 *   preprocess every input to C channels at the previous cell's resolution: factorized reduce when
 *   the input has a higher resolution (repeated per halving), else ReLU-conv1x1-BN. NAS-Bench-201-
 *   like cells take the input as is (ReLU-conv1x1-BN only if its channels differ from C).
 *   Nodes: node i = sum over its edges j -> i of op(node j). Normal cells use the type "normal" if
 *   there is one, else the first type not named "reduce". In a reduction cell the edges from the
 *   inputs have stride 2. Ops (C -> C):
 *     none          the edge is dropped (a zero node in a supernet path)
 *     skip_connect  identity; stride 2: factorized reduce (at an odd size or channel count:
 *                   ReLU-conv1x1/2-BN, same parameter count)
 *     nor_conv_KxK  ReLU, conv KxK, BN
 *     sep_conv_KxK  (ReLU, depthwise KxK, pointwise 1x1, BN) twice; the stride is in the first
 *     dil_conv_KxK  ReLU, depthwise KxK dilation 2, pointwise 1x1, BN
 *     avg_pool_3x3  3x3, padding 1, excluding padding;  max_pool_3x3: 3x3, padding 1.
 *                   + BN when opts.pool_bn says so (default: only in supernets of DARTS-like
 *                   networks, as DARTS's search network does)
 *   Output: the last node, or the channel concat of all computed nodes (C x num_nodes channels).
 *   Pruning (discrete graphs): a node is ZERO when none of its edges is an op other than none from a
 *   non-zero node; edges out of zero nodes are dropped (NB: in PyTorch a nor_conv of zeros yields
 *   its BN shift; we drop it). A node that reaches the cell output through no remaining edge is dead
 *   and not built, nor are the preprocessing of unused inputs (so such archs count fewer parameters
 *   than NAS-Bench-201's table, whose networks keep dead ops). A zero cell output becomes a zero
 *   node, so an architecture whose cell output is disconnected from its input still gives a valid
 *   graph: its output is a constant (the stem and residual blocks feeding the zeros remain).
 *
 * CHAIN FAMILY. stem conv3x3 (C_in -> stem, stride opts.stem_stride: default 2 when min(H, W) >= 64,
 * else 1) + BN + ReLU6; per stage its active layers (the depth decision, or the only depth): mbK_eE
 * is nas__graph_add_inverted_residual (expansion E, kernel K; layer 0 applies the stage's stride and
 * channel change), skip is the identity; [1x1 conv to the head channels + BN + ReLU6]; global average
 * pool; FC (bias). Channels: with a multiplier m = width x opts.channel_scale other than 1, every
 * channel count c becomes MobileNet's make_divisible(c m, 8) (nearest multiple of 8, at least 8, and
 * not below 0.9 c m); the head uses max(width, 1) x channel_scale (MobileNetV2: the head only grows).
 * With m == 1 the space's channel counts are used as written.
 *
 * SUPERNETS. The same networks with every OP decision a mixed node holding all its candidates:
 *   cells   one mixed node per edge j -> i of every cell, for EVERY earlier node j (DARTS's
 *           supernet; the INPUTS decisions of k-input cells do not exist in it); path p is op p of
 *           the space's cell op list (none: a zero node; skip: an identity or the stride-2 reduce).
 *           Nothing is pruned. Every cell has its own mixed nodes (the executor gives each its own
 *           alphas); tying the alphas of one decision across cells is the strategy's job: the map
 *           says which mixed nodes belong to the same decision.
 *   chains  one mixed node per layer up to the stage's largest depth; path p is choice p of the
 *           layer's decision (layer 0 has no skip). A layer that the depth decision can switch off
 *           gets an extra identity path "off" at the end unless skip is one of its candidates (then
 *           skip stands for "off"). The width decision is not searched: the supernet is built at
 *           opts.supernet_width (default: the largest multiplier).
 * Mixed index m (nas__graph_mixed_index, the executor's numbering) is map->mixed[m].
 *
 * Threads: as for every handle, one thread at a time per space (allocations go through its context);
 * the space and the arch are only read.
 */
#ifndef NAS_NN_BUILD_H
#define NAS_NN_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"
#include "nn/graph.h"

/* opts.pool_bn */
typedef enum nas__pool_bn {
    NAS__POOL_BN_AUTO = 0, /* BN after pooling in supernets of DARTS-like networks only */
    NAS__POOL_BN_OFF = 1,
    NAS__POOL_BN_ON = 2
} nas__pool_bn_t;

typedef struct nas__build_opts {
    size_t struct_size;     /* sizeof(nas__build_opts_t) */
    int32_t in_c, in_h, in_w; /* per-sample input shape, each 1..NAS__GRAPH_MAX_DIM (default 3 x 32 x 32) */
    int32_t num_classes;    /* >= 2 (default 10) */
    float label_smoothing;  /* [0, 1) (default 0) */
    /* Overrides for quick proxy training; 0 keeps what the space says. */
    double channel_scale;   /* multiplies every channel count: cells round(c x scale), at least 1;
                             * chains: see the top of this file. (0, 64] */
    int32_t cells_per_stage;/* cells of every stage of a cell network, 1..1024 (reduction cells between
                             * stages come on top: DARTS's 8-cell search network is 2 per stage) */
    int32_t stem_stride;    /* 1 or 2 (0: 1 for cell networks; chains 2 when min(H, W) >= 64, else 1) */
    int32_t pool_bn;        /* nas__pool_bn_t */
    double supernet_width;  /* chain supernets: the width multiplier, (0, 16] (0: the largest option) */
} nas__build_opts_t;

#define NAS__BUILD_OPTS_INIT { sizeof(nas__build_opts_t), 3, 32, 32, 10, 0.0f, 0.0, 0, 0, NAS__POOL_BN_AUTO, 0.0 }

/*
 * The discrete network of `arch`. opts NULL: defaults. *out is NULL on failure.
 * errbuf: NULL or NAS_ERRMSG_CAP bytes for the message.
 * Returns NAS_OK; NAS_E_INVAL (NULL arch or out, bad opts); NAS_E_UNSUPPORTED (family none);
 * a graph status (NAS_E_INVAL, NAS_E_RANGE: e.g. channels over NAS__GRAPH_MAX_DIM); NAS_E_NOMEM.
 */
nas_status_t nas__build_graph(nas__graph_t **out, const nas_arch_t *arch, const nas__build_opts_t *opts,
                              char *errbuf);

/* What a mixed node stands for. */
typedef enum nas__mixed_role {
    NAS__MIXED_CELL_EDGE = 0,  /* an edge of an all-edges cell: `dim` is the edge's OP decision */
    NAS__MIXED_CELL_PICK = 1,  /* an edge of a k-inputs cell: decided by node `to`'s INPUTS decision
                                * `inputs_dim` (is `from` picked?) and the OP decision that follows
                                * it for the picked input (inputs_dim + 1 + its rank among the picked) */
    NAS__MIXED_CHAIN_LAYER = 2 /* a chain layer: `dim` is the layer's OP decision */
} nas__mixed_role_t;

typedef struct nas__mixed_map {
    int32_t role;       /* nas__mixed_role_t */
    int32_t node;       /* the mixed node's graph id */
    uint32_t n_paths;
    int32_t dim;        /* CELL_EDGE, CHAIN_LAYER: the OP decision; path p is its choice p. CELL_PICK: -1
                         * (path p is op p of the cell op list, the choices of every cell OP decision) */
    int32_t inputs_dim; /* CELL_PICK: the INPUTS decision of node `to`; else -1 */
    int32_t cell_type;  /* cells: the type's index in cell_types (0 with one type); chains: -1 */
    int32_t cell;       /* cells: the cell's position in the network, 0.. (reduction cells count);
                         * chains: the stage */
    int32_t to, from;   /* cells: the edge from node `from` to node `to`; chains: to = layer, from = -1 */
    int32_t depth_dim;  /* chains: the stage's DEPTH decision, or -1 */
    int32_t off_path;   /* chains: the path meaning "layer off" (skip, or the appended identity), or -1 */
} nas__mixed_map_t;

typedef struct nas__supernet_map {
    nas_context_t *ctx;
    const nas_space_t *space;
    uint32_t num_mixed;
    nas__mixed_map_t *mixed; /* num_mixed entries in graph order: entry m is mixed index m */
    uint32_t total_paths;    /* sum of n_paths: the length of a per-path weight array */
    bool pool_bn;            /* the pooling paths end in a BN that discrete networks do not have */
    int32_t *cell_out;       /* cell networks: every cell's output node (discrete networks build each
                              * cell even when no later cell uses it); num_cells entries */
    uint32_t num_cells;
} nas__supernet_map_t;

/* The supernet of a built space (see the top of this file); `mode` is every mixed node's mode. */
nas_status_t nas__build_supernet(nas__graph_t **out, const nas_space_t *space, const nas__build_opts_t *opts,
                                 nas__mixed_mode_t mode, char *errbuf);

/* Same, and the map of its mixed nodes to the space's decisions (`*map` NULL on failure; free it with
 * nas__supernet_map_destroy). */
nas_status_t nas__build_supernet_map(nas__graph_t **out, nas__supernet_map_t **map, const nas_space_t *space,
                                     const nas__build_opts_t *opts, nas__mixed_mode_t mode, char *errbuf);
void nas__supernet_map_destroy(nas__supernet_map_t *map);

/*
 * The path of every mixed node that realizes `arch` (paths: map->num_mixed entries), e.g. for
 * single-path training (nas__plan_set_path). CELL_PICK edges the arch does not pick take the none op
 * (NAS_E_UNSUPPORTED when the cell ops have no none); layers past the chosen depth take off_path.
 */
nas_status_t nas__supernet_paths(const nas__supernet_map_t *map, const nas_arch_t *arch, uint32_t *paths,
                                 char *errbuf);

/*
 * Derive a discrete architecture from per-path weights (map->total_paths floats: the paths of mixed
 * node 0, then of 1, ...; the layout of nas__plan_alphas; pass softmax(alpha) per mixed node for
 * DARTS). Weights of mixed nodes of the same decision (one per cell of that type) are summed, then:
 *   CELL_EDGE     the decision takes the arg max path, none included (NAS-Bench-201's rule)
 *   CELL_PICK     node i picks the k inputs j whose best non-none weight is largest (ties: lower j),
 *                 each with its arg max non-none op (DARTS's rule)
 *   CHAIN_LAYER   arg max per layer; with a depth decision the depth is the smallest allowed one that
 *                 keeps every layer whose arg max is not "off"; layers kept but voted off take their
 *                 best other path
 * Decisions without mixed nodes (width, hyperparameters, cell types the network does not use) keep
 * their values in `arch`, which must belong to map->space. NaN weights are NAS_E_INVAL.
 */
nas_status_t nas__supernet_derive(const nas__supernet_map_t *map, const float *weights, nas_arch_t *arch,
                                  char *errbuf);

#endif /* NAS_NN_BUILD_H */
