/* rng.h -- the one random number generator of actlab: splitmix64 (Steele, Lea, Flood 2014, as
 * in Vigna's public-domain reference), explicit state, no globals. The state is the whole of an
 * act_rng: copy the struct (or its one uint64_t) to save it, assign it back to restore it, which
 * is how checkpoints and the search's journal store it. Header-only: the engine draws one value
 * per dropout element, where a call would cost more than the generator.
 *
 *     act_rng r = act_rng_seed(42);
 *     double u = act_rng_uniform(&r);         // [0, 1), 53 random bits
 *     double z = act_rng_normal(&r);          // N(0, 1), Box-Muller, two draws
 */
#ifndef ACTLAB_RNG_H
#define ACTLAB_RNG_H

#include <math.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct act_rng {
    uint64_t state;   /* all of it: save and restore by copying */
} act_rng;

static inline act_rng act_rng_seed(uint64_t seed)
{
    act_rng r = { seed };
    return r;
}

/* The next 64 random bits. */
static inline uint64_t act_rng_next(act_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform on [0, 1) from the top 53 bits. */
static inline double act_rng_uniform(act_rng *r)
{
    return (double)(act_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n) for n >= 1, as floor(uniform * n) (bias below 2^-53 n). */
static inline uint64_t act_rng_below(act_rng *r, uint64_t n)
{
    return (uint64_t)(act_rng_uniform(r) * (double)n);
}

/* N(0, 1) by Box-Muller: u1 in (0, 1) (never 0: no log(0)), u2 in [0, 1); one value a call. */
static inline double act_rng_normal(act_rng *r)
{
    double u1 = ((double)(act_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
    double u2 = act_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#ifdef __cplusplus
}
#endif
#endif
