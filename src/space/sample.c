/* Random archs: sample, mutate, crossover. */
#include "space/space_internal.h"

#include <math.h>
#include <string.h>

#define MUTATE_SPREAD 0.2   /* Gaussian step of INT and FLOAT mutations, as a fraction of the (log) range */

static nas_status_t check(const nas_space_t *space, const nas_arch_t *out, const nas_rng_t *rng, const char *fn)
{
    if (!space || !out)
        return NAS_E_INVAL;
    nas_space_t *s = (nas_space_t *)space;
    if (!space->built)
        return nas__space_fail(s, NAS_E_STATE, NULL, "%s: the space is not built", fn);
    if (out->space != space)
        return nas__space_fail(s, NAS_E_INVAL, NULL, "%s: the arch belongs to another space", fn);
    if (!rng)
        return nas__space_fail(s, NAS_E_INVAL, NULL, "%s: rng is NULL", fn);
    return NAS_OK;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void sample_dim(const nas__dim_t *d, nas_arch_t *a, uint32_t i, nas_rng_t *rng)
{
    double u = nas_rng_uniform(rng);
    switch (d->kind) {
    case NAS_DIM_FLOAT:
        if (d->log_scale)
            a->value[i] = clamp(exp(log(d->low) + u * (log(d->high) - log(d->low))), d->low, d->high);
        else
            a->value[i] = clamp(d->low + u * (d->high - d->low), d->low, d->high);
        if (a->value[i] == 0)
            a->value[i] = 0.0;
        break;
    case NAS_DIM_INT:
        if (d->log_scale) {
            /* Log-uniform over [low, high + 1), floored: each integer gets its share of log space. */
            double x = floor(exp(log(d->low) + u * (log(d->high + 1) - log(d->low))));
            a->choice[i] = (uint32_t)(clamp(x, d->low, d->high) - d->low);
            break;
        }
        /* fall through */
    default:
        a->choice[i] = (uint32_t)nas_rng_below(rng, d->num_choices);
    }
}

nas_status_t nas_space_sample(const nas_space_t *space, nas_arch_t *out, nas_rng_t *rng)
{
    nas_status_t st = check(space, out, rng, "nas_space_sample");
    if (st != NAS_OK)
        return st;
    for (uint32_t d = 0; d < space->num_dims; d++) {
        if (nas__dim_active(space, out->choice, d))
            sample_dim(&space->dims[d], out, d, rng);
        else
            out->choice[d] = 0;
    }
    return NAS_OK;
}

static bool mutable_dim(const nas_space_t *s, const nas_arch_t *a, uint32_t d)
{
    const nas__dim_t *dim = &s->dims[d];
    if (!nas__dim_active(s, a->choice, d))
        return false;
    return dim->kind == NAS_DIM_FLOAT ? dim->low < dim->high : dim->num_choices > 1;
}

/* An INT or FLOAT value one Gaussian step away, in the (log) range; never the same value. */
static double step(const nas__dim_t *d, double x, nas_rng_t *rng, bool integer)
{
    for (int tries = 0; tries < 8; tries++) {
        double y;
        if (d->log_scale) {
            double span = log(d->high) - log(d->low);
            y = exp(log(x) + MUTATE_SPREAD * span * nas_rng_normal(rng));
        } else {
            y = x + MUTATE_SPREAD * (d->high - d->low) * nas_rng_normal(rng);
        }
        if (integer)
            y = floor(y + 0.5);
        y = clamp(y, d->low, d->high);
        if (y != x)
            return y;
    }
    /* Stuck at a bound: take the nearest other value. */
    if (integer)
        return x < d->high ? x + 1 : x - 1;
    return x == d->low ? d->high : d->low;
}

static void mutate_dim(const nas_space_t *s, nas_arch_t *a, uint32_t d, nas_rng_t *rng)
{
    const nas__dim_t *dim = &s->dims[d];
    if (dim->kind == NAS_DIM_FLOAT) {
        double y = step(dim, a->value[d], rng, false);
        a->value[d] = y == 0 ? 0.0 : y;
        return;
    }
    uint32_t old = a->choice[d];
    if (dim->kind == NAS_DIM_INT && dim->num_choices > 16) {
        a->choice[d] = (uint32_t)(step(dim, dim->low + old, rng, true) - dim->low);
    } else {
        uint32_t c = (uint32_t)nas_rng_below(rng, dim->num_choices - 1);
        a->choice[d] = c >= old ? c + 1 : c;
    }
    /* A selector (a stage depth) that grew switches layers on: draw them, so a deeper stage
     * is not always padded with the first op. */
    const nas__group_t *g = &s->groups[dim->group];
    if (g->selector != (int32_t)d)
        return;
    for (uint32_t i = g->first; i < g->first + g->count; i++) {
        const nas__dim_t *c = &s->dims[i];
        if (c->parent == (int32_t)d) {
            bool was = old >= (uint32_t)c->parent_min, now = a->choice[d] >= (uint32_t)c->parent_min;
            if (now && !was)
                sample_dim(c, a, i, rng);
            else if (!now)
                a->choice[i] = 0;
        }
    }
}

nas_status_t nas_space_mutate(const nas_space_t *space, nas_arch_t *out, const nas_arch_t *parent, nas_rng_t *rng,
                              uint32_t edits)
{
    nas_status_t st = check(space, out, rng, "nas_space_mutate");
    if (st != NAS_OK)
        return st;
    if (!parent || parent->space != space)
        return nas__space_fail((nas_space_t *)space, NAS_E_INVAL, NULL,
                               "nas_space_mutate: the parent is NULL or belongs to another space");
    nas_arch_copy(out, parent);
    uint64_t edited[NAS_SPACE_MAX_DIMS / 64] = { 0 };
    for (uint32_t e = 0; e < edits; e++) {
        uint32_t n = 0;
        for (uint32_t d = 0; d < space->num_dims; d++)
            n += !(edited[d / 64] >> (d % 64) & 1) && mutable_dim(space, out, d);
        if (n == 0)
            break;   /* every decision that can change has changed */
        uint32_t r = (uint32_t)nas_rng_below(rng, n), d = 0;
        for (;; d++) {
            if (!(edited[d / 64] >> (d % 64) & 1) && mutable_dim(space, out, d) && r-- == 0)
                break;
        }
        mutate_dim(space, out, d, rng);
        edited[d / 64] |= 1ull << (d % 64);
    }
    return NAS_OK;
}

nas_status_t nas_space_crossover(const nas_space_t *space, nas_arch_t *out, const nas_arch_t *a, const nas_arch_t *b,
                                 nas_rng_t *rng)
{
    nas_status_t st = check(space, out, rng, "nas_space_crossover");
    if (st != NAS_OK)
        return st;
    if (!a || !b || a->space != space || b->space != space)
        return nas__space_fail((nas_space_t *)space, NAS_E_INVAL, NULL,
                               "nas_space_crossover: a parent is NULL or belongs to another space");
    /* Whole groups travel together, so a child's structure is always one parent's. */
    for (uint32_t i = 0; i < space->num_groups; i++) {
        const nas__group_t *g = &space->groups[i];
        const nas_arch_t *src = (nas_rng_u64(rng) >> 63) ? b : a;
        if (src == out)
            continue;
        memcpy(out->choice + g->first, src->choice + g->first, g->count * sizeof *out->choice);
        memcpy(out->value + g->first, src->value + g->first, g->count * sizeof *out->value);
    }
    return NAS_OK;
}
