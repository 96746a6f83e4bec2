/* act_scalar.h -- the single source of truth for every activation's math (scalar reference).
 *   float act_<name>_f(float x, const float *p)             value
 *   float act_<name>_d(float x, const float *p, float *dp)  df/dx; writes df/dp[k] for k < np
 * Sources of the formulas and defaults, and the numerical facts below: docs/references.md.
 * Numerics are part of the definition: stable forms live here, never in callers.
 * The reference computes internally in double and rounds once, so value and every gradient are
 * within about one float ulp even where float arithmetic would cancel (near roots of f').
 * NaN in gives NaN out (value and every gradient); infinite x gives the mathematical limit
 * (evaluated at |x| = 1e100, which every limit here reaches in float); finite x never NaN.
 * Parameters are finite (act_act_check_params). The SIMD kernels (act_simd.h) mirror these.
 * `actlab expr c` exports act_<name>_f with the helpers and constants it names, each with the
 * comment right above it (act_src.c): start every definition at column 0, one `#define` per
 * line, `static inline TYPE NAME(` on one line. Adding an activation: docs/internals.md. */
#ifndef ACTLAB_ACT_SCALAR_H
#define ACTLAB_ACT_SCALAR_H

#include <math.h>

#define ACT_SQRT1_2     0.70710678118654752440   /* 1/sqrt(2)   */
#define ACT_INV_SQRT2PI 0.39894228040143267794   /* 1/sqrt(2pi) */
#define ACT_INV_SQRTPI  0.56418958354775628695   /* 1/sqrt(pi)  */
#define ACT_SELU_ALPHA  1.6732632423543772848170429916717
#define ACT_SELU_LAMBDA 1.0507009873554804934193349852946
#define ACT_GELU_K      0.79788456080286535588   /* sqrt(2/pi) */
#define ACT_GELU_C      0.044715

/* x as a double, with +-inf replaced by +-1e100: large enough that every activation and
 * gradient has reached its limit in float, small enough that x^3 stays finite in double. */
static inline double act_xd(float x)
{
    return isinf(x) ? copysign(1e100, (double)x) : (double)x;
}

/* NaN input: every gradient and the derivative are NaN too. */
static inline float act_nan_d(float x, float *dp, int np)
{
    for (int k = 0; k < np; k++)
        dp[k] = x;
    return x;
}

/* sigmoid in double, with its complement *sc = 1 - s, both accurate in the tails. */
static inline double act_sig2(double z, double *sc)
{
    double e = exp(-fabs(z));           /* (0, 1]: never overflows */
    double r = 1.0 / (1.0 + e);
    double lo = e * r;                  /* sigmoid(-|z|) */
    *sc = z >= 0.0 ? lo : r;
    return z >= 0.0 ? r : lo;
}

/* log(1 + e^z) in double, without overflow. */
static inline double act_sp(double z)
{
    return fmax(z, 0.0) + log1p(exp(-fabs(z)));
}

/* Float helpers kept for other modules (the expression engine). */
static inline float act_sigmoid(float x)
{
    double sc;
    return isnan(x) ? x : (float)act_sig2(act_xd(x), &sc);
}

static inline float act_softplus(float x)
{
    return isnan(x) ? x : (float)act_sp(act_xd(x));
}

// ----------------------------------------------------------------------------
// piecewise-linear family

/* relu: max(x, 0); f' = x > 0 (strict) */
static inline float act_relu_f(float x, const float *p)
{
    (void)p;
    return isnan(x) ? x : (x > 0.0f ? x : 0.0f);
}
static inline float act_relu_d(float x, const float *p, float *dp)
{
    (void)p;
    if (isnan(x))
        return act_nan_d(x, dp, 0);
    return x > 0.0f ? 1.0f : 0.0f;
}

/* leaky_relu: p = {a}; f = x > 0 ? x : a x; df/dx = x > 0 ? 1 : a; df/da = x > 0 ? 0 : x.
 * a = 0 and x = -inf give 0 (the function is 0 there), not 0*inf. */
static inline float act_leaky_relu_f(float x, const float *p)
{
    if (isnan(x))
        return x;
    return x > 0.0f ? x : (p[0] == 0.0f ? 0.0f : p[0] * x);
}
static inline float act_leaky_relu_d(float x, const float *p, float *dp)
{
    if (isnan(x))
        return act_nan_d(x, dp, 1);
    dp[0] = x > 0.0f ? 0.0f : x;
    return x > 0.0f ? 1.0f : p[0];
}

/* prelu: p = {a} (per channel, init 0.25; Swish paper baseline); df/da = min(x, 0) */
static inline float act_prelu_f(float x, const float *p) { return act_leaky_relu_f(x, p); }
static inline float act_prelu_d(float x, const float *p, float *dp)
{
    return act_leaky_relu_d(x, p, dp);
}

/* hardsigmoid: clip(x/6 + 1/2, 0, 1); f' = 1/6 on the open interval (-3, 3) */
static inline float act_hardsigmoid_f(float x, const float *p)
{
    (void)p;
    if (isnan(x))
        return x;
    return (float)fmin(fmax((double)x / 6.0 + 0.5, 0.0), 1.0);
}
static inline float act_hardsigmoid_d(float x, const float *p, float *dp)
{
    (void)p;
    if (isnan(x))
        return act_nan_d(x, dp, 0);
    return (x > -3.0f && x < 3.0f) ? (float)(1.0 / 6.0) : 0.0f;
}

/* hardswish: x clip(x/6 + 1/2, 0, 1) = 0 (x <= -3), x (x >= 3), x (x + 3)/6 between;
 * f' = 0 for x <= -3, x/3 + 1/2 on (-3, 3), 1 for x >= 3 */
static inline float act_hardswish_f(float x, const float *p)
{
    (void)p;
    if (isnan(x) || x >= 3.0f)
        return x;
    if (x <= -3.0f)
        return 0.0f;
    double xd = x;
    return (float)(xd * (xd + 3.0) / 6.0);
}
static inline float act_hardswish_d(float x, const float *p, float *dp)
{
    (void)p;
    if (isnan(x))
        return act_nan_d(x, dp, 0);
    return x <= -3.0f ? 0.0f : (x >= 3.0f ? 1.0f : (float)((double)x / 3.0 + 0.5));
}

/* relu6: min(max(x, 0), 6); f' = 1 on the open interval (0, 6) */
static inline float act_relu6_f(float x, const float *p)
{
    (void)p;
    return isnan(x) ? x : fminf(fmaxf(x, 0.0f), 6.0f);
}
static inline float act_relu6_d(float x, const float *p, float *dp)
{
    (void)p;
    if (isnan(x))
        return act_nan_d(x, dp, 0);
    return (x > 0.0f && x < 6.0f) ? 1.0f : 0.0f;
}

// ----------------------------------------------------------------------------
// exponential family

/* elu: p = {alpha}; f = x > 0 ? x : alpha expm1(x); f' = x > 0 ? 1 : alpha e^x;
 * df/dalpha = x > 0 ? 0 : expm1(x) (exp(x) - 1 would cancel near 0: docs/references.md) */
static inline float act_elu_f(float x, const float *p)
{
    if (isnan(x) || x > 0.0f)
        return x;
    return (float)((double)p[0] * expm1(act_xd(x)));
}
static inline float act_elu_d(float x, const float *p, float *dp)
{
    if (isnan(x))
        return act_nan_d(x, dp, 1);
    if (x > 0.0f) {
        dp[0] = 0.0f;
        return 1.0f;
    }
    double xd = act_xd(x);
    dp[0] = (float)expm1(xd);
    return (float)((double)p[0] * exp(xd));
}

/* selu: lambda (x > 0 ? x : alpha expm1(x)) (PyTorch constants); kink at 0 (x <= 0 branch) */
static inline float act_selu_f(float x, const float *p)
{
    (void)p;
    if (isnan(x))
        return x;
    double xd = act_xd(x);
    return (float)(ACT_SELU_LAMBDA * (x > 0.0f ? xd : ACT_SELU_ALPHA * expm1(xd)));
}
static inline float act_selu_d(float x, const float *p, float *dp)
{
    (void)p;
    if (isnan(x))
        return act_nan_d(x, dp, 0);
    return (float)(x > 0.0f ? ACT_SELU_LAMBDA : ACT_SELU_LAMBDA * ACT_SELU_ALPHA * exp(act_xd(x)));
}

/* celu: p = {alpha != 0}; f = x > 0 ? x : alpha expm1(x/alpha)   (PyTorch CELU)
 * df/dx = x > 0 ? 1 : e^t; df/dalpha = x > 0 ? 0 : expm1(t) - t e^t, t = x/alpha.
 * For alpha < 0 the left branch grows like e^|t|; overflow gives the signed infinite limit. */
static inline float act_celu_f(float x, const float *p)
{
    if (isnan(x) || x > 0.0f)
        return x;
    double a = p[0];
    return (float)(a * expm1(act_xd(x) / a));
}
static inline float act_celu_d(float x, const float *p, float *dp)
{
    if (isnan(x))
        return act_nan_d(x, dp, 1);
    if (x > 0.0f) {
        dp[0] = 0.0f;
        return 1.0f;
    }
    double t = act_xd(x) / (double)p[0], e = exp(t);
    if (isinf(e))
        dp[0] = t > 1.0 ? -INFINITY : INFINITY;
    else
        dp[0] = (float)(e == 0.0 ? -1.0 : expm1(t) - t * e);
    return (float)e;
}

/* softplus: p = {beta != 0, threshold}; z = beta x; f = z > threshold ? x : sp(z)/beta (PyTorch)
 * df/dx = s(z); df/dbeta = (x s(z) - f)/beta = h(-|z|)/beta^2 with h(a) = a s(a) - log1p(e^a),
 * an even function of z written without cancellation; df/dthreshold = 0. */
static inline float act_softplus_f(float x, const float *p)
{
    if (isnan(x))
        return x;
    double b = p[0], z = b * act_xd(x);
    return z > (double)p[1] ? x : (float)(act_sp(z) / b);
}
static inline float act_softplus_d(float x, const float *p, float *dp)
{
    if (isnan(x))
        return act_nan_d(x, dp, 2);
    double b = p[0], z = b * act_xd(x);
    dp[1] = 0.0f;
    if (z > (double)p[1]) {
        dp[0] = 0.0f;
        return 1.0f;
    }
    double a = -fabs(z), e = exp(a);
    double h = e == 0.0 ? 0.0 : a * (e / (1.0 + e)) - log1p(e);
    dp[0] = (float)(h / (b * b));
    double sc;
    return (float)act_sig2(z, &sc);
}

/* sigmoid: f' = s (1 - s) (both factors accurate in the tails) */
static inline float act_sigmoid_f(float x, const float *p) { (void)p; return act_sigmoid(x); }
static inline float act_sigmoid_d(float x, const float *p, float *dp)
{
    (void)p;
    if (isnan(x))
        return act_nan_d(x, dp, 0);
    double sc, s = act_sig2(act_xd(x), &sc);
    return (float)(s * sc);
}

/* tanh: f' = 1 - tanh^2 = 4 e/(1+e)^2, e = exp(-2|x|) (accurate in the tails) */
static inline float act_tanh_f(float x, const float *p)
{
    (void)p;
    return isnan(x) ? x : (float)tanh((double)x);
}
static inline float act_tanh_d(float x, const float *p, float *dp)
{
    (void)p;
    if (isnan(x))
        return act_nan_d(x, dp, 0);
    double e = exp(-2.0 * fabs(act_xd(x))), r = 1.0 / (1.0 + e);
    return (float)(4.0 * e * r * r);
}

// ----------------------------------------------------------------------------
// sigmoid-gated family: swish, silu, acon

/* swish: p = {beta}; f = x s(beta x)   (Ramachandran, Zoph, Le 2017)
 * df/dx = s + z s (1-s), z = beta x; df/dbeta = x^2 s (1-s) */
static inline float act_swish_f(float x, const float *p)
{
    if (isnan(x))
        return x;
    double xd = act_xd(x), sc, s = act_sig2((double)p[0] * xd, &sc);
    return (float)(xd * s);
}
static inline float act_swish_d(float x, const float *p, float *dp)
{
    if (isnan(x))
        return act_nan_d(x, dp, 1);
    double xd = act_xd(x), z = (double)p[0] * xd, sc, s = act_sig2(z, &sc);
    double ss = s * sc;
    dp[0] = (float)(ss == 0.0 ? 0.0 : xd * xd * ss);
    return (float)(s + z * ss);
}

/* silu = swish with beta = 1 */
static inline float act_silu_f(float x, const float *p)
{
    (void)p;
    static const float one = 1.0f;
    return act_swish_f(x, &one);
}
static inline float act_silu_d(float x, const float *p, float *dp)
{
    (void)p; (void)dp;
    static const float one = 1.0f;
    float g;
    return act_swish_d(x, &one, &g);
}

/* acon_c: p = {p1, p2, beta}; d = p1 - p2, z = beta d x, S = s(z)   (Ma et al., CVPR 2021)
 * f = d x S + p2 x; u = S (1 + z (1-S)) (SiLU' at z)
 * df/dx = d u + p2; df/dp1 = x u; df/dp2 = x (1 - u) = x (1-S)(1 - z S); df/dbeta = d^2 x^2 S (1-S) */
static inline float act_acon_c_f(float x, const float *p)
{
    if (isnan(x))
        return x;
    double d = (double)p[0] - (double)p[1], xd = act_xd(x);
    double sc, s = act_sig2((double)p[2] * d * xd, &sc);
    return (float)(d * xd * s + (double)p[1] * xd);
}
static inline float act_acon_c_d(float x, const float *p, float *dp)
{
    if (isnan(x))
        return act_nan_d(x, dp, 3);
    double d = (double)p[0] - (double)p[1], xd = act_xd(x);
    double z = (double)p[2] * d * xd, sc, s = act_sig2(z, &sc);
    double ss = s * sc;
    double u = ss == 0.0 ? s : s + z * ss;
    double omu = ss == 0.0 ? sc : sc * (1.0 - z * s);
    dp[0] = (float)(xd * u);
    dp[1] = (float)(xd * omu);
    dp[2] = (float)(ss == 0.0 ? 0.0 : d * d * xd * xd * ss);
    return (float)(d * u + (double)p[1]);
}

/* acon_a: p = {beta}; ACON-C with (p1, p2) = (1, 0): x s(beta x) = swish */
static inline float act_acon_a_f(float x, const float *p) { return act_swish_f(x, p); }
static inline float act_acon_a_d(float x, const float *p, float *dp)
{
    return act_swish_d(x, p, dp);
}

/* acon_b: p = {p, beta}; ACON-C with (p1, p2) = (1, p); df/dp = df/dp2 */
static inline float act_acon_b_f(float x, const float *p)
{
    float q[3] = { 1.0f, p[0], p[1] };
    return act_acon_c_f(x, q);
}
static inline float act_acon_b_d(float x, const float *p, float *dp)
{
    float q[3] = { 1.0f, p[0], p[1] }, g[3];
    float r = act_acon_c_d(x, q, g);
    dp[0] = g[1];
    dp[1] = g[2];
    return r;
}

// ----------------------------------------------------------------------------
// erf / tanh / softplus gated: gelu, gelu_tanh, mish, smu, smu1

/* gelu (erf form): x Phi(x) = x erfc(-x/sqrt2)/2 (1 + erf(x/sqrt2) cancels for x < 0 and is 0 in
 * float below x = -5.54; erfc keeps the left tail's relative accuracy: docs/references.md)
 * f' = Phi(x) + x phi(x) */
static inline float act_gelu_f(float x, const float *p)
{
    (void)p;
    if (isnan(x))
        return x;
    double xd = act_xd(x);
    return (float)(0.5 * xd * erfc(-xd * ACT_SQRT1_2));
}
static inline float act_gelu_d(float x, const float *p, float *dp)
{
    (void)p;
    if (isnan(x))
        return act_nan_d(x, dp, 0);
    double xd = act_xd(x), ph = ACT_INV_SQRT2PI * exp(-0.5 * xd * xd);
    return (float)(0.5 * erfc(-xd * ACT_SQRT1_2) + (ph == 0.0 ? 0.0 : xd * ph));
}

/* gelu_tanh: x/2 (1 + tanh(u)), u = k (x + 0.044715 x^3), k = sqrt(2/pi); 1 + tanh(u) = 2 s(2u)
 * f' = s + 2 x s (1-s) k (1 + 3*0.044715 x^2)  (x^3 is finite in double: no 0*inf) */
static inline float act_gelu_tanh_f(float x, const float *p)
{
    (void)p;
    if (isnan(x))
        return x;
    double xd = act_xd(x), u = ACT_GELU_K * (xd + ACT_GELU_C * xd * xd * xd), sc;
    return (float)(xd * act_sig2(2.0 * u, &sc));
}
static inline float act_gelu_tanh_d(float x, const float *p, float *dp)
{
    (void)p;
    if (isnan(x))
        return act_nan_d(x, dp, 0);
    double xd = act_xd(x), u = ACT_GELU_K * (xd + ACT_GELU_C * xd * xd * xd), sc;
    double s = act_sig2(2.0 * u, &sc), ss = s * sc;
    return (float)(s + (ss == 0.0 ? 0.0 : 2.0 * xd * ss * ACT_GELU_K * (1.0 + 3.0 * ACT_GELU_C * xd * xd)));
}

/* tanh(sp(x)) and 1 - tanh(sp(x)) in double: with E = e^-x (x >= 0), t = (1 + 2E)/(1 + 2E + 2E^2);
 * with e = e^x (x < 0), n = e (e + 2), t = n/(n + 2)  (darknet #5452). */
static inline double act_mish_t(double x, double *omt)
{
    if (x >= 0.0) {
        double e = exp(-x), den = 1.0 + 2.0 * e + 2.0 * e * e;
        *omt = 2.0 * e * e / den;
        return (1.0 + 2.0 * e) / den;
    }
    double e = exp(x), n = e * (e + 2.0);
    *omt = 2.0 / (n + 2.0);
    return n / (n + 2.0);
}

/* mish: x tanh(sp(x)); f' = t + x (1 - t^2) s(x), t = tanh(sp(x)) */
static inline float act_mish_f(float x, const float *p)
{
    (void)p;
    if (isnan(x))
        return x;
    double xd = act_xd(x), omt;
    return (float)(xd * act_mish_t(xd, &omt));
}
static inline float act_mish_d(float x, const float *p, float *dp)
{
    (void)p;
    if (isnan(x))
        return act_nan_d(x, dp, 0);
    double xd = act_xd(x), omt, t = act_mish_t(xd, &omt), sc, s = act_sig2(xd, &sc);
    double g = omt * (1.0 + t) * s;
    return (float)(t + (g == 0.0 ? 0.0 : xd * g));
}

/* smu: p = {alpha, mu}; c = 1 - alpha, u = mu c x   (Biswas et al., CVPR 2022)
 * f = ((1+a) x + c x erf(u))/2 = x (a + c erfc(-u)/2)      (no cancellation for x < 0)
 * df/dx = a + c erfc(-u)/2 + c u g, g = e^(-u^2)/sqrt(pi)
 * df/dmu = c^2 x^2 g; df/dalpha = x erfc(u)/2 - mu c x^2 g */
static inline float act_smu_f(float x, const float *p)
{
    if (isnan(x))
        return x;
    double a = p[0], c = 1.0 - a, xd = act_xd(x), u = (double)p[1] * c * xd;
    return (float)(xd * (a + 0.5 * c * erfc(-u)));
}
static inline float act_smu_d(float x, const float *p, float *dp)
{
    if (isnan(x))
        return act_nan_d(x, dp, 2);
    double a = p[0], mu = p[1], c = 1.0 - a, xd = act_xd(x), u = mu * c * xd;
    double g = ACT_INV_SQRTPI * exp(-u * u);
    double x2g = g == 0.0 ? 0.0 : xd * xd * g;
    dp[1] = (float)(c * c * x2g);
    dp[0] = (float)(0.5 * xd * erfc(u) - mu * c * x2g);
    return (float)(a + 0.5 * c * erfc(-u) + (g == 0.0 ? 0.0 : c * u * g));
}

/* smu1: p = {alpha, mu}; r = hypot(c x, mu), c = 1 - alpha, q = c x / r
 * f = ((1+a) x + r)/2; df/dx = ((1+a) + c q)/2 = a + c (1+q)/2; df/dmu = mu/(2r);
 * df/dalpha = x (1 - q)/2. 1 -+ q are formed as mu^2/(r (r +- c x)) where they cancel. */
static inline float act_smu1_f(float x, const float *p)
{
    if (isnan(x))
        return x;
    double a = p[0], c = 1.0 - a, xd = act_xd(x);
    return (float)(0.5 * ((1.0 + a) * xd + hypot(c * xd, (double)p[1])));
}
static inline float act_smu1_d(float x, const float *p, float *dp)
{
    if (isnan(x))
        return act_nan_d(x, dp, 2);
    double a = p[0], mu = p[1], c = 1.0 - a, xd = act_xd(x), cx = c * xd, r = hypot(cx, mu);
    double opq, omq;                                    /* 1 + q, 1 - q */
    if (r == 0.0) {
        opq = omq = 1.0;
    } else if (cx > 0.0) {
        omq = mu * mu / (r * (r + cx));
        opq = 1.0 + cx / r;
    } else {
        opq = mu * mu / (r * (r - cx));
        omq = 1.0 - cx / r;
    }
    dp[1] = (float)(r == 0.0 ? 0.5 : 0.5 * mu / r);
    dp[0] = (float)(0.5 * xd * omq);
    return (float)(a + 0.5 * c * opq);
}

#endif
