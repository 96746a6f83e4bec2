/* test_rng.c -- the one RNG (include/actlab/rng.h): splitmix64's reference outputs, save and
 * restore by copying the state, ranges, and the moments of uniform and normal draws. */
#include <math.h>

#include "actlab/rng.h"
#include "test.h"

void test_util_rng(void)
{
    /* splitmix64 from state 0 (Vigna's reference implementation gives these three) */
    act_rng r = act_rng_seed(0);
    CHECK(act_rng_next(&r) == 0xe220a8397b1dcdafULL);
    CHECK(act_rng_next(&r) == 0x6e789e6aa1b965f4ULL);
    CHECK(act_rng_next(&r) == 0x06c45d188009454fULL);
    /* the state is all there is: a copy continues the same sequence */
    act_rng saved = r;
    uint64_t a = act_rng_next(&r), b = act_rng_next(&r);
    CHECK(act_rng_next(&saved) == a && act_rng_next(&saved) == b);
    /* ranges and moments over 200k draws (tolerances: > 6 standard errors) */
    r = act_rng_seed(7);
    const int n = 200000;
    double su = 0, su2 = 0, sn = 0, sn2 = 0;
    int out = 0, below_bad = 0;
    for (int i = 0; i < n; i++) {
        double u = act_rng_uniform(&r), z = act_rng_normal(&r);
        out += !(u >= 0.0 && u < 1.0) || !isfinite(z);
        below_bad += act_rng_below(&r, 10) >= 10;
        su += u;
        su2 += u * u;
        sn += z;
        sn2 += z * z;
    }
    CHECK(out == 0 && below_bad == 0);
    CHECK_CLOSE(su / n, 0.5, 0.004, 0, "uniform mean");
    CHECK_CLOSE(su2 / n - (su / n) * (su / n), 1.0 / 12.0, 0.002, 0, "uniform variance");
    CHECK_CLOSE(sn / n, 0.0, 0.014, 0, "normal mean");
    CHECK_CLOSE(sn2 / n, 1.0, 0.02, 0, "normal variance");
}
