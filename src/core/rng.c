/* xoshiro256** seeded through splitmix64 from (seed, stream): reproducible on every platform. */
#include "core/internal.h"

#include <math.h>

struct nas_rng {
    nas_context_t *ctx;
    uint64_t s[4];
};

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

nas_status_t nas_rng_create(nas_rng_t **out, nas_context_t *ctx, uint64_t seed, uint64_t stream)
{
    if (!out)
        return NAS_E_INVAL;
    *out = NULL;
    if (!ctx)
        return NAS_E_INVAL;
    nas_rng_t *r = nas__malloc(ctx, sizeof *r);
    if (!r)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating a random generator");
    r->ctx = ctx;
    uint64_t x = nas__mix64(seed) ^ nas__mix64(stream ^ 0x5851f42d4c957f2dull);
    for (int i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15ull;
        r->s[i] = nas__mix64(x);
    }
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;
    *out = r;
    return NAS_OK;
}

void nas_rng_destroy(nas_rng_t *rng)
{
    if (rng)
        nas__free(rng->ctx, rng);
}

uint64_t nas_rng_u64(nas_rng_t *rng)
{
    if (!rng)
        return 0;
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double nas_rng_uniform(nas_rng_t *rng)
{
    return (double)(nas_rng_u64(rng) >> 11) * 0x1.0p-53;
}

uint64_t nas_rng_below(nas_rng_t *rng, uint64_t n)
{
    if (n == 0 || !rng)
        return 0;
    /* Rejection on the top of the range removes the modulo bias. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = nas_rng_u64(rng);
    } while (x >= limit);
    return x % n;
}

double nas_rng_normal(nas_rng_t *rng)
{
    /* Box-Muller; u1 in (0, 1] so the log is finite. */
    double u1 = 1.0 - nas_rng_uniform(rng);
    double u2 = nas_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void nas__rng_get_state(const nas_rng_t *rng, uint64_t out[4])
{
    for (int i = 0; i < 4; i++)
        out[i] = rng->s[i];
}

bool nas__rng_set_state(nas_rng_t *rng, const uint64_t in[4])
{
    if (!(in[0] | in[1] | in[2] | in[3]))
        return false;
    for (int i = 0; i < 4; i++)
        rng->s[i] = in[i];
    return true;
}
