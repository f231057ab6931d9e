/*
 * The Tree-structured Parzen Estimator model (Bergstra et al. 2011) shared by "tpe" (tpe.c) and
 * "bohb" (hyperband.c).
 *
 * A point is one double per decision: the choice index of a CATEGORICAL or INT decision, the value
 * of a FLOAT one, NaN where the decision is inactive. Observations are points with a score (the
 * first objective, sign-adjusted, -inf for failed or infeasible trials) kept in best-first order.
 *
 * The model splits the observations into the best ceil(gamma n) with a finite score (l) and the
 * rest (g), and fits per decision, over the observations where it is active:
 *   CATEGORICAL  smoothed counts (count + prior_weight / K) / (n + prior_weight);
 *   INT, FLOAT   a mixture of Gaussians truncated to the range, in log space for log_scale ones:
 *                one kernel per observation plus a prior kernel (mid-range, sigma = range, weight
 *                prior_weight); bandwidths by Bergstra's adaptive Parzen rule: the larger distance to
 *                a sorted neighbour, clipped to [range / min(100, n + 1), range]. INT values are
 *                scored by the mass of their unit bin, and drawn by rounding.
 * The joint densities are products over the active decisions (no cross-decision covariance).
 */
#ifndef NAS_SEARCH_DENSITY_H
#define NAS_SEARCH_DENSITY_H

#include "search/search_internal.h"

/* A decision as the model sees it. */
typedef struct nas__ddim {
    int32_t kind;            /* nas_dim_kind_t */
    int32_t parent;          /* -1 or an earlier decision */
    int32_t parent_min;
    uint32_t num_choices;    /* CATEGORICAL and INT */
    uint32_t cat_off;        /* CATEGORICAL: offset of its choices in the model's tables */
    double low, high;        /* INT and FLOAT bounds */
    bool log_scale;
    bool fixed;              /* a single possible value: not modelled */
    double tlo, thi;         /* INT and FLOAT: bounds in model space (INT bins included) */
} nas__ddim_t;

/* A truncated Gaussian kernel with its precomputed factors. */
typedef struct nas__kernel {
    double mu, sigma;
    double pdf;              /* w / (sigma z sqrt(2 pi)), z the mass inside the range */
    double mass;             /* w / z */
    double cw;               /* cumulative weight, for drawing */
} nas__kernel_t;

/* Observations, best first. */
typedef struct nas__obs {
    nas_context_t *ctx;
    uint32_t num_dims;
    uint32_t count, cap;
    double *x;               /* count x num_dims */
    double *score;
    uint32_t *order;         /* indices by score, best first; ties in the order they came */
} nas__obs_t;

/* The space's decisions and the fitted l and g. */
typedef struct nas__density {
    nas_context_t *ctx;
    nas_space_t *space;
    uint32_t num_dims;
    nas__ddim_t *dim;
    double prior_weight;
    uint32_t num_cat;        /* choices over all CATEGORICAL decisions */
    double *cat_cdf;         /* l's cumulative probabilities */
    double *cat_lr;          /* log l - log g per choice */
    double *cat_cnt;         /* counts during a fit: good, then bad */
    nas__kernel_t *kern;     /* kernels of l and g of the numeric decisions */
    size_t *kern_off;        /* 2 per decision: first kernel of l, of g */
    uint32_t *kern_n;
    double *work;            /* sorted values during a fit */
    double *cand;            /* candidate points and their scores */
    double *cand_score;
    size_t kern_cap, work_cap, cand_cap, score_cap;
} nas__density_t;

/* Describe the space's decisions (the space must be built). NAS_E_NOMEM. */
nas_status_t nas__density_init(nas__density_t *m, nas_space_t *space, double prior_weight);
void nas__density_free(nas__density_t *m);

/* An arch as a point, and back (inactive decisions set to their first option). */
nas_status_t nas__density_point_from_arch(const nas__density_t *m, const nas_arch_t *arch, double *x);
nas_status_t nas__density_point_to_arch(const nas__density_t *m, const double *x, nas_arch_t *arch);
/* Whether x is a point of the space (checks loaded data before it indexes anything). */
bool nas__density_point_valid(const nas__density_t *m, const double *x);

/*
 * Fit l on the best ceil(gamma n) observations with a finite score and g on the rest (failed
 * trials are always in g). With no observation both are the prior. NAS_E_NOMEM.
 */
nas_status_t nas__density_fit(nas__density_t *m, const nas__obs_t *obs, double gamma);

/*
 * Draw n points from l and write into arch the one with the largest l/g whose arch hash is not in
 * `seen` (ties: the earlier draw). *found is false when every draw had been seen. NAS_E_NOMEM.
 */
nas_status_t nas__density_propose(nas__density_t *m, nas_rng_t *rng, uint32_t n, const nas__u64set_t *seen,
                                  nas_arch_t *arch, bool *found);

void nas__obs_init(nas__obs_t *o, nas_context_t *ctx, uint32_t num_dims);
void nas__obs_free(nas__obs_t *o);
/* Add a point (copied) with its score (NaN counts as -inf). NAS_E_NOMEM. */
nas_status_t nas__obs_add(nas__obs_t *o, const double *x, double score);
/*
 * State: the points and scores in the order they came (the ranking is rebuilt on load). Writes
 * fail only for memory, and then every later write fails too: savers return their last write's status.
 */
nas_status_t nas__obs_save(const nas__obs_t *o, nas_state_writer_t *w);
nas_status_t nas__obs_load(nas__obs_t *o, const nas__density_t *m, nas_state_reader_t *r);

#endif /* NAS_SEARCH_DENSITY_H */
