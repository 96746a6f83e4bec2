/* vmath.c -- elementwise block vector math (see vmath.h): dispatch on act_isa_get() once per
 * call to the AVX-512 / AVX2 blocks of act_simd.h (exp, expm1, tanh, sigmoid, softplus, erf,
 * erfc, sqrt), scalar libm otherwise and for the functions without a vector version yet. */
#include <math.h>

#include "act/act_kern.h"
#include "act/act_scalar.h"
#include "act/vmath.h"

static inline float sigmoid1(float x) { return act_sigmoid(x); }
static inline float softplus1(float x) { return act_softplus(x); }

static const acti_vm *vm_table(void)
{
    switch (act_isa_get()) {
    case ACT_ISA_AVX512:
        return &acti_vm_avx512;
    case ACT_ISA_AVX2:
        return &acti_vm_avx2;
    case ACT_ISA_SCALAR:
    case ACT_ISA_COUNT:
        break;
    }
    return NULL;
}

#define VMATH_SCALAR(name, fn)                                    \
    void acti_vec_##name(const float *x, float *y, size_t n)     \
    {                                                             \
        for (size_t i = 0; i < n; i++)                            \
            y[i] = fn(x[i]);                                      \
    }

#define VMATH_VECTOR(name, fn)                                    \
    void acti_vec_##name(const float *x, float *y, size_t n)     \
    {                                                             \
        const acti_vm *t = vm_table();                            \
        if (t) {                                                  \
            t->name(x, y, n);                                     \
            return;                                               \
        }                                                         \
        for (size_t i = 0; i < n; i++)                            \
            y[i] = fn(x[i]);                                      \
    }

VMATH_VECTOR(exp, expf)
VMATH_VECTOR(expm1, expm1f)
VMATH_SCALAR(log, logf)
VMATH_SCALAR(log1p, log1pf)
VMATH_VECTOR(sqrt, sqrtf)
VMATH_SCALAR(sin, sinf)
VMATH_SCALAR(cos, cosf)
VMATH_SCALAR(tan, tanf)
VMATH_SCALAR(sinh, sinhf)
VMATH_SCALAR(cosh, coshf)
VMATH_VECTOR(tanh, tanhf)
VMATH_SCALAR(asinh, asinhf)
VMATH_SCALAR(atan, atanf)
VMATH_VECTOR(erf, erff)
VMATH_VECTOR(erfc, erfcf)
VMATH_VECTOR(sigmoid, sigmoid1)
VMATH_VECTOR(softplus, softplus1)
