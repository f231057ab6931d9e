/*
 * Latency lookup table of a chain space at batch 1 (ProxylessNAS's latency term).
 *
 * WHAT IS MEASURED. For every width option w of the space, the network splits into parts whose
 * costs add up: the stem (image in, conv3x3 + BN + ReLU6), one part per active layer (an inverted
 * residual; skip costs 0: it emits no node), and the head ([conv1x1 + BN + ReLU6] + pool + FC +
 * reading the logits out). Each distinct (input shape, stride, channels, kernel, expansion) is
 * measured once, in inference mode, with the executor's real kernels and layouts, by the timing loop
 * of nas_model_latency (copy in, forward, [copy the logits out]; warm-up, then `runs` timed forwards,
 * summarized by their lower quartile, which is within a few percent of the median on a quiet machine
 * and much steadier on a loaded one). A part is measured in a chain context, so that its input
 * arrives in the layout a network gives it and the input reorder from the plain image layout (which
 * only the stem pays) is not counted: the plan
 *     input(3 x H x W) -> conv3x3 + BN + ReLU6 to the part's input shape [-> an expansion-1 inverted
 *     residual, when in the network the part follows a layer] -> the part
 * is timed interleaved with the same plan without the part; the difference (at least 0) is the cost.
 * The head's plan also copies the logits out.
 *
 * CALIBRATION. Parts measured alone run with warm caches; a whole network does not (its weights
 * and activations do not all fit). So `calib_archs` random architectures (seeded) are built whole
 * and timed like nas_model_latency, and two constants are fitted by least squares:
 *     measured ~= scale x (sum of the parts' raw costs) + overhead x (active non-skip layers)
 * (with a scale only when that fit is degenerate or gives a negative overhead, which would let small
 * networks cost less than nothing; on the test machine, 2 threads, 224 x 224, scale came out at
 * 1.01-1.06 and overhead at 0-0.06 ms: the chain context already accounts for most inter-op costs).
 * A scale outside [0.67, 1.5] is not applied (info.calibrated = 0, a warning is logged): it only
 * came out that way when other processes loaded the cores during the build.
 * Every entry then stores scale x raw (+ overhead for a layer), so every prediction stays a plain
 * sum of table entries and the expected latency stays linear in each decision's probabilities.
 *
 * PREDICTIONS.  lat(arch) = stem[w] + head[w] + sum over active layers of op[w][layer][choice].
 * Expected latency for independent per-decision probabilities (layout: every architecture decision
 * in dim order, num_choices values each; rows are used as given, not renormalized):
 *     E = sum_w P(w) (stem[w] + head[w] + sum_layers P(layer active) sum_c p_layer[c] op[w][layer][c])
 * where P(layer l of a stage active) = sum of the depth decision's p over depths > l (1 or 0 with a
 * fixed depth) and P(w) is the width decision's p (1 without one). E is multilinear, so one-hot
 * probabilities give exactly lat(arch), and its gradient w.r.t. every probability is exact.
 *
 * CACHE. A versioned text file: header, the key (space name, a hash of its decisions and structure,
 * the build options that shape the network, the CPU model and thread count), the
 * calibration, every entry as a hexadecimal float (exact round trip), and a checksum line.
 * nas__latlut_open() loads it when the key matches and the file is intact, else rebuilds and rewrites it.
 *
 * Threads: a table is used by one thread at a time; building it runs the device's threads.
 */
#ifndef NAS_NN_LATENCY_H
#define NAS_NN_LATENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"
#include "dnnl/dnn.h"
#include "nn/build.h"

#define NAS__LATLUT_KEY_CAP 512
#define NAS__LATLUT_MAX_FILE (16u << 20)

typedef struct nas__latlut nas__latlut_t;

typedef struct nas__latlut_opts {
    size_t struct_size;         /* sizeof(nas__latlut_opts_t) */
    nas__build_opts_t build;    /* input shape, classes, channel_scale, stem_stride of the networks */
    uint32_t warmup;            /* untimed forwards before each measurement (default 5) */
    uint32_t runs;              /* timed forwards per measurement, >= 3 (default 40) */
    uint32_t calib_archs;       /* whole networks timed to fit scale and overhead (default 6; 0: scale 1,
                                 * overhead 0; 1: scale only) */
    uint64_t seed;              /* sampling of the calibration networks (default 1) */
    uint32_t rounds;            /* every part and calibration network is timed this often and keeps its
                                 * smallest time, so a burst of load spoils a round, not an entry
                                 * (1..100, default 2) */
} nas__latlut_opts_t;

#define NAS__LATLUT_OPTS_INIT { sizeof(nas__latlut_opts_t), NAS__BUILD_OPTS_INIT, 5, 40, 6, 1, 2 }

/* Build statistics. */
typedef struct nas__latlut_info {
    uint32_t measured;          /* distinct parts timed */
    uint32_t calibrated;        /* whole networks timed for the fit */
    double scale, overhead_ms;  /* the fit */
    double build_seconds;       /* 0 for a loaded table */
} nas__latlut_info_t;

/*
 * Build the table of a built chain space (NAS_E_UNSUPPORTED for other families). opts NULL: defaults.
 * *out NULL on failure; errbuf NULL or NAS_ERRMSG_CAP bytes. The space must outlive the table.
 * Returns NAS_OK, NAS_E_INVAL, NAS_E_UNSUPPORTED, NAS_E_NOMEM, a build or plan status.
 */
nas_status_t nas__latlut_build(nas__latlut_t **out, nas__dev_t *dev, nas_space_t *space,
                               const nas__latlut_opts_t *opts, char *errbuf);
void nas__latlut_destroy(nas__latlut_t *t);

/* The key a table of (space, opts, device) carries, into key (NAS__LATLUT_KEY_CAP bytes). */
nas_status_t nas__latlut_key(const nas__dev_t *dev, const nas_space_t *space, const nas__latlut_opts_t *opts,
                             char *key);
const char *nas__latlut_key_of(const nas__latlut_t *t);
void nas__latlut_info(const nas__latlut_t *t, nas__latlut_info_t *out);

/* Write the cache file (atomically). */
nas_status_t nas__latlut_save(const nas__latlut_t *t, const char *path, char *errbuf);
/*
 * Load a cache file for (space, opts, device). NAS_E_NOT_FOUND (no file), NAS_E_STATE (its key
 * differs), NAS_E_PARSE / NAS_E_CORRUPT (damaged: bad syntax, missing entries, checksum), NAS_E_IO.
 */
nas_status_t nas__latlut_load(nas__latlut_t **out, nas__dev_t *dev, nas_space_t *space,
                              const nas__latlut_opts_t *opts, const char *path, char *errbuf);
/* Load the cache if it is valid for the key, else build and save it; *rebuilt (may be NULL) says
 * which. A failure to save is reported (the built table is still returned in *out). */
nas_status_t nas__latlut_open(nas__latlut_t **out, nas__dev_t *dev, nas_space_t *space,
                              const nas__latlut_opts_t *opts, const char *path, bool *rebuilt, char *errbuf);

/* Predicted batch-1 latency of arch (an arch of the table's space), in milliseconds. */
nas_status_t nas__latlut_predict(const nas__latlut_t *t, const nas_arch_t *arch, double *ms);
/* Length of a probability (or alpha) vector: the sum of num_choices over the architecture decisions. */
uint32_t nas__latlut_num_probs(const nas__latlut_t *t);
/* Offset of decision `dim`'s row in that vector. */
uint32_t nas__latlut_prob_offset(const nas__latlut_t *t, uint32_t dim);
/* Expected latency E (ms) for probabilities p, and dE/dp into grad (may be NULL); NaN: NAS_E_INVAL. */
nas_status_t nas__latlut_expected(const nas__latlut_t *t, const double *p, double *ms, double *grad);
/* Same with p = softmax(alpha) per decision; grad is dE/dalpha. */
nas_status_t nas__latlut_expected_softmax(const nas__latlut_t *t, const double *alpha, double *ms, double *grad);

/*
 * Expected latency over a chain supernet's per-path weights (map->total_paths values in the layout
 * of nas__supernet_derive: the paths of mixed node 0, then 1, ...; e.g. softmax(alpha) or
 * ProxylessNAS's path probabilities): stem + head + sum over mixed nodes and paths of w x the path's
 * table entry, the appended "off" path costing 0. `width` is the index of the width option the
 * supernet was built at (0 without a width decision). grad (may be NULL; total_paths values) gets
 * dE/dw, the path costs. NAS_E_INVAL for another space's map, a bad width or NaN weights.
 */
nas_status_t nas__latlut_expected_paths(const nas__latlut_t *t, const nas__supernet_map_t *map, uint32_t width,
                                        const double *w, double *ms, double *grad);

#endif /* NAS_NN_LATENCY_H */
