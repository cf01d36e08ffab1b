/* rng.c — splitmix64 (Steele, Lea, Flood 2014): 64 bits of state, one add and
 * a mixing function per draw. Everything random in search/ goes through it,
 * so a seed fixes every crop, flip and generated dataset byte.
 */
#include "search/data.h"

void srch_rng_seed(Rng *r, uint64_t seed)
{
    r->state = seed;
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t srch_rng_next(Rng *r)
{
    r->state += 0x9E3779B97F4A7C15ull;
    return mix64(r->state);
}

uint32_t srch_rng_below(Rng *r, uint32_t n)
{
    NASC_ASSERT(n >= 1);
    /* (top 32 bits * n) >> 32: bias below n / 2^32, irrelevant for crops */
    return (uint32_t)(((srch_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

float srch_rng_float(Rng *r)
{
    return (float)(srch_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

uint64_t srch_rng_mix(uint64_t seed, uint64_t stream)
{
    return mix64(mix64(seed + 0x9E3779B97F4A7C15ull) ^ (stream * 0xD1B54A32D192ED03ull));
}
