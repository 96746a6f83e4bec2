/* vmath.c -- elementwise block vector math (see vmath.h): dispatch on act_isa_get() once per
 * call to the AVX-512 / AVX2 blocks of act_simd.h (every function of vmath.h), scalar libm
 * otherwise. */
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
VMATH_VECTOR(log, logf)
VMATH_VECTOR(log1p, log1pf)
VMATH_VECTOR(sqrt, sqrtf)
VMATH_VECTOR(sin, sinf)
VMATH_VECTOR(cos, cosf)
VMATH_VECTOR(tan, tanf)
VMATH_VECTOR(sinh, sinhf)
VMATH_VECTOR(cosh, coshf)
VMATH_VECTOR(tanh, tanhf)
VMATH_VECTOR(asinh, asinhf)
VMATH_VECTOR(atan, atanf)
VMATH_VECTOR(erf, erff)
VMATH_VECTOR(erfc, erfcf)
VMATH_VECTOR(sigmoid, sigmoid1)
VMATH_VECTOR(softplus, softplus1)
