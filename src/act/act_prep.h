/* act_prep.h -- per-call derived constants of each activation with vector kernels (vec 1 in
 * ACT_ACT_LIST; act_simd.h), computed once per parameter set in double: float
 * acti_prep_<name>(p, q) fills q[0..] and returns the largest |x| for which the vector math is
 * valid (q[ACTI_Q_BIG]). */
#ifndef ACTLAB_ACT_PREP_H
#define ACTLAB_ACT_PREP_H

#include <float.h>
#include <math.h>

#include "act/act_kern.h"
#include "act/act_scalar.h"

/* FLT_MAX/|s| (capped at FLT_MAX): |x| below it keeps s*x finite with some headroom. */
static inline float acti_act_range(double s, double head)
{
    double r = head / fmax(fabs(s), 1e-30);
    return (float)fmin(r, (double)FLT_MAX);
}

static inline float acti_prep_relu(const float *p, float *q) { (void)p; (void)q; return FLT_MAX; }
static inline float acti_prep_leaky_relu(const float *p, float *q) { q[0] = p[0]; return FLT_MAX; }
static inline float acti_prep_prelu(const float *p, float *q) { q[0] = p[0]; return FLT_MAX; }
static inline float acti_prep_elu(const float *p, float *q) { q[0] = p[0]; return FLT_MAX; }
static inline float acti_prep_selu(const float *p, float *q)
{
    (void)p;
    q[0] = (float)ACT_SELU_LAMBDA;
    q[1] = (float)(ACT_SELU_LAMBDA * ACT_SELU_ALPHA);
    return FLT_MAX;
}
static inline float acti_prep_celu(const float *p, float *q)
{
    q[0] = p[0];
    q[1] = (float)(1.0 / (double)p[0]);
    return p[0] < 0.0f ? (float)(80.0 * fabs((double)p[0])) : FLT_MAX;
}
static inline float acti_prep_softplus(const float *p, float *q)
{
    double b = p[0];
    q[0] = p[0];
    q[1] = p[1];
    q[2] = (float)(1.0 / b);
    q[3] = (float)(1.0 / (b * b));
    return acti_act_range(b, 1e37);
}
static inline float acti_prep_sigmoid(const float *p, float *q) { (void)p; (void)q; return FLT_MAX; }
static inline float acti_prep_tanh(const float *p, float *q) { (void)p; (void)q; return FLT_MAX; }
static inline float acti_prep_hardsigmoid(const float *p, float *q) { (void)p; (void)q; return FLT_MAX; }
static inline float acti_prep_hardswish(const float *p, float *q) { (void)p; (void)q; return FLT_MAX; }
static inline float acti_prep_relu6(const float *p, float *q) { (void)p; (void)q; return FLT_MAX; }
static inline float acti_prep_silu(const float *p, float *q) { (void)p; (void)q; return FLT_MAX; }
static inline float acti_prep_swish(const float *p, float *q)
{
    q[0] = p[0];
    return acti_act_range(p[0], 1e37);
}
static inline float acti_prep_gelu(const float *p, float *q) { (void)p; (void)q; return 1e18f; }
static inline float acti_prep_gelu_tanh(const float *p, float *q) { (void)p; (void)q; return 1e12f; }
static inline float acti_prep_mish(const float *p, float *q) { (void)p; (void)q; return FLT_MAX; }
static inline float acti_prep_acon_a(const float *p, float *q) { return acti_prep_swish(p, q); }
/* q: d = p1 - p2, b d, p2, d^2 */
static inline float acti_prep_acon_c(const float *p, float *q)
{
    double d = (double)p[0] - (double)p[1], bd = (double)p[2] * d;
    q[0] = (float)d;
    q[1] = (float)bd;
    q[2] = p[1];
    q[3] = (float)(d * d);
    /* and never beyond 1e18 (as smu): with d = 0 (p1 == p2) the vector path's d*x and x*x
     * products overflowed past |x| ~ 1.8e19 into inf * 0 = NaN in the parameter gradients */
    return fminf(fminf(acti_act_range(bd, 1e37), acti_act_range(d, 1e18)), 1e18f);
}
static inline float acti_prep_acon_b(const float *p, float *q)
{
    float r[3] = { 1.0f, p[0], p[1] };
    return acti_prep_acon_c(r, q);
}
/* q: alpha, c = 1 - alpha, mu c, mu, c^2 */
static inline float acti_prep_smu(const float *p, float *q)
{
    double c = 1.0 - (double)p[0];
    q[0] = p[0];
    q[1] = (float)c;
    q[2] = (float)((double)p[1] * c);
    q[3] = p[1];
    q[4] = (float)(c * c);
    return fminf(acti_act_range((double)p[1] * c, 1e18), 1e18f);
}
/* q: alpha, c, mu, mu^2; mu == 0 has a true kink at 0: always the scalar path */
static inline float acti_prep_smu1(const float *p, float *q)
{
    double c = 1.0 - (double)p[0], mu = p[1];
    q[0] = p[0];
    q[1] = (float)c;
    q[2] = p[1];
    q[3] = (float)(mu * mu);
    if (p[1] == 0.0f || fabs(mu) < 1e-18 || fabs(mu) > 1e18)
        return -1.0f;
    return acti_act_range(c, 1e18);
}

#endif
