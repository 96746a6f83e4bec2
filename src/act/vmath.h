/* vmath.h -- internal elementwise vector math over blocks (acti_ = cross-file internal).
 * Each function computes y[i] = f(x[i]) for i < n, dispatched on act_isa_get() to the
 * AVX-512, AVX2+FMA or scalar implementation; y may alias x exactly. Accuracy of every path is
 * tested against a double-precision reference (tests/test_act*.c). Used by the expression
 * evaluator (src/expr) for its primitives, so it never calls scalar libm per element. */
#ifndef ACTLAB_VMATH_H
#define ACTLAB_VMATH_H

#include <stddef.h>

#define ACTI_VMATH_LIST(X) \
    X(exp)      \
    X(expm1)    \
    X(log)      \
    X(log1p)    \
    X(sqrt)     \
    X(sin)      \
    X(cos)      \
    X(tan)      \
    X(sinh)     \
    X(cosh)     \
    X(tanh)     \
    X(asinh)    \
    X(atan)     \
    X(erf)      \
    X(erfc)     \
    X(sigmoid)  \
    X(softplus)

#define X(name) void acti_vec_##name(const float *x, float *y, size_t n);
ACTI_VMATH_LIST(X)
#undef X

#endif
