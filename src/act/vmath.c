/* vmath.c -- elementwise vector math (see vmath.h); portable scalar implementations, the
 * fallback for every ISA until a vector path exists. */
#include <math.h>

#include "act/act_scalar.h"
#include "act/vmath.h"

static inline float sigmoid1(float x) { return act_sigmoid(x); }
static inline float softplus1(float x) { return act_softplus(x); }

#define VMATH_SCALAR(name, fn)                                    \
    void acti_vec_##name(const float *x, float *y, size_t n)     \
    {                                                             \
        for (size_t i = 0; i < n; i++)                            \
            y[i] = fn(x[i]);                                      \
    }

VMATH_SCALAR(exp, expf)
VMATH_SCALAR(expm1, expm1f)
VMATH_SCALAR(log, logf)
VMATH_SCALAR(log1p, log1pf)
VMATH_SCALAR(sqrt, sqrtf)
VMATH_SCALAR(sin, sinf)
VMATH_SCALAR(cos, cosf)
VMATH_SCALAR(tan, tanf)
VMATH_SCALAR(sinh, sinhf)
VMATH_SCALAR(cosh, coshf)
VMATH_SCALAR(tanh, tanhf)
VMATH_SCALAR(asinh, asinhf)
VMATH_SCALAR(atan, atanf)
VMATH_SCALAR(erf, erff)
VMATH_SCALAR(erfc, erfcf)
VMATH_SCALAR(sigmoid, sigmoid1)
VMATH_SCALAR(softplus, softplus1)
