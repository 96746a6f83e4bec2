/* act_scalar.h -- the single source of truth for every activation's math (scalar reference).
 *   float act_<name>_f(float x, const float *p)             value
 *   float act_<name>_d(float x, const float *p, float *dp)  df/dx; writes df/dp[k] for k < np
 * Formulas, defaults and derivatives: shared/reference/activations.md (cited per function).
 * Numerics are part of the definition: stable forms live here, never in callers.
 * NaN in gives NaN out (value and every gradient); infinite x gives the mathematical limit. */
#ifndef ACTLAB_ACT_SCALAR_H
#define ACTLAB_ACT_SCALAR_H

#include <math.h>

#define ACT_SQRT1_2     0.70710678118654752440f  /* 1/sqrt(2)   */
#define ACT_INV_SQRT2PI 0.39894228040143267794f  /* 1/sqrt(2pi) */
#define ACT_INV_SQRTPI  0.56418958354775628695f  /* 1/sqrt(pi)  */
#define ACT_SELU_ALPHA  1.6732632423543772848f
#define ACT_SELU_LAMBDA 1.0507009873554804934f

/* v, unless x is NaN: then x (so a branch-selected constant never hides a NaN input). */
static inline float act_nanpass(float x, float v) { return isnan(x) ? x : v; }

/* sigmoid, with its complement: *sc = 1 - s, both accurate (no 1 - s cancellation). */
static inline float act_sigmoid2(float x, float *sc)
{
    float e = expf(-fabsf(x));          /* in (0, 1]: never overflows */
    float r = 1.0f / (1.0f + e);
    float lo = e * r;                   /* sigmoid(-|x|) */
    if (isnan(x)) {
        *sc = x;
        return x;
    }
    *sc = x >= 0.0f ? lo : r;
    return x >= 0.0f ? r : lo;
}

static inline float act_sigmoid(float x)
{
    float sc;
    return act_sigmoid2(x, &sc);
}

/* log(1 + e^x) without overflow */
static inline float act_softplus(float x)
{
    return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
}

/* relu: max(x, 0); f' = x > 0 (strict) */
static inline float act_relu_f(float x, const float *p) { (void)p; return x < 0.0f ? 0.0f : x; }
static inline float act_relu_d(float x, const float *p, float *dp)
{
    (void)p; (void)dp;
    return act_nanpass(x, x > 0.0f ? 1.0f : 0.0f);
}

/* leaky_relu: p = {a}; f = x > 0 ? x : a x; df/da = x > 0 ? 0 : x (not learnable; given anyway) */
static inline float act_leaky_relu_f(float x, const float *p) { return x > 0.0f ? x : p[0] * x; }
static inline float act_leaky_relu_d(float x, const float *p, float *dp)
{
    dp[0] = x > 0.0f ? 0.0f : x;
    return act_nanpass(x, x > 0.0f ? 1.0f : p[0]);
}

/* prelu: p = {a} (per channel, init 0.25; Swish paper baseline); df/da = min(x, 0) */
static inline float act_prelu_f(float x, const float *p) { return act_leaky_relu_f(x, p); }
static inline float act_prelu_d(float x, const float *p, float *dp) { return act_leaky_relu_d(x, p, dp); }

/* elu: p = {alpha}; f = x > 0 ? x : alpha expm1(x); df/dalpha = x > 0 ? 0 : expm1(x) */
static inline float act_elu_f(float x, const float *p) { return x > 0.0f ? x : p[0] * expm1f(x); }
static inline float act_elu_d(float x, const float *p, float *dp)
{
    dp[0] = x > 0.0f ? 0.0f : expm1f(x);
    return x > 0.0f ? 1.0f : p[0] * expf(x);
}

/* selu: lambda (x > 0 ? x : alpha expm1(x)); PyTorch constants */
static inline float act_selu_f(float x, const float *p)
{
    (void)p;
    return ACT_SELU_LAMBDA * (x > 0.0f ? x : ACT_SELU_ALPHA * expm1f(x));
}
static inline float act_selu_d(float x, const float *p, float *dp)
{
    (void)p; (void)dp;
    return x > 0.0f ? ACT_SELU_LAMBDA : ACT_SELU_LAMBDA * ACT_SELU_ALPHA * expf(x);
}

/* celu: p = {alpha != 0}; f = x > 0 ? x : alpha expm1(x/alpha)
 * df/dx = x > 0 ? 1 : e^(x/alpha); df/dalpha = x > 0 ? 0 : expm1(t) - t e^t, t = x/alpha */
static inline float act_celu_f(float x, const float *p) { return x > 0.0f ? x : p[0] * expm1f(x / p[0]); }
static inline float act_celu_d(float x, const float *p, float *dp)
{
    float t = x / p[0], e = expf(t);
    dp[0] = x > 0.0f ? 0.0f : expm1f(t) - (e == 0.0f ? 0.0f : t * e);
    return x > 0.0f ? 1.0f : e;
}

/* softplus: p = {beta != 0, threshold}; z = beta x; f = z > threshold ? x : sp(z)/beta (PyTorch)
 * df/dx = s(z); df/dbeta = (x s(z) - f)/beta = g(-|z|)/beta^2 with g(a) = a s(a) - log1p(e^a),
 * an even function of z written without cancellation; df/dthreshold = 0. */
static inline float act_softplus_f(float x, const float *p)
{
    float z = p[0] * x;
    return z > p[1] ? x : act_softplus(z) / p[0];
}
static inline float act_softplus_d(float x, const float *p, float *dp)
{
    float z = p[0] * x;
    float a = -fabsf(z), e = expf(a);
    float g = e == 0.0f ? 0.0f : a * (e / (1.0f + e)) - log1pf(e);
    dp[0] = z > p[1] ? 0.0f : act_nanpass(x, g / (p[0] * p[0]));
    dp[1] = act_nanpass(x, 0.0f);
    return z > p[1] ? 1.0f : act_sigmoid(z);
}

/* sigmoid: f' = s (1 - s) = e/(1+e)^2 with e = exp(-|x|) (accurate in both tails) */
static inline float act_sigmoid_f(float x, const float *p) { (void)p; return act_sigmoid(x); }
static inline float act_sigmoid_d(float x, const float *p, float *dp)
{
    (void)p; (void)dp;
    float sc, s = act_sigmoid2(x, &sc);
    return s * sc;
}

/* tanh: f' = 1 - tanh^2 = 4 e/(1+e)^2, e = exp(-2|x|) (accurate in the tails) */
static inline float act_tanh_f(float x, const float *p) { (void)p; return tanhf(x); }
static inline float act_tanh_d(float x, const float *p, float *dp)
{
    (void)p; (void)dp;
    float e = expf(-2.0f * fabsf(x)), r = 1.0f / (1.0f + e);
    return act_nanpass(x, 4.0f * e * r * r);
}

/* hardsigmoid: clip(x/6 + 1/2, 0, 1); f' = 1/6 on the open interval (-3, 3) */
static inline float act_hardsigmoid_f(float x, const float *p)
{
    (void)p;
    float v = x / 6.0f + 0.5f;
    return isnan(x) ? x : fminf(fmaxf(v, 0.0f), 1.0f);
}
static inline float act_hardsigmoid_d(float x, const float *p, float *dp)
{
    (void)p; (void)dp;
    return act_nanpass(x, (x > -3.0f && x < 3.0f) ? 1.0f / 6.0f : 0.0f);
}

/* hardswish: x clip(x/6 + 1/2, 0, 1); f' = 0 for x <= -3, x/3 + 1/2 on (-3, 3), 1 for x >= 3 */
static inline float act_hardswish_f(float x, const float *p) { return x * act_hardsigmoid_f(x, p); }
static inline float act_hardswish_d(float x, const float *p, float *dp)
{
    (void)p; (void)dp;
    float d = x <= -3.0f ? 0.0f : (x >= 3.0f ? 1.0f : x / 3.0f + 0.5f);
    return act_nanpass(x, d);
}

/* relu6: min(max(x, 0), 6); f' = 1 on the open interval (0, 6) */
static inline float act_relu6_f(float x, const float *p)
{
    (void)p;
    return isnan(x) ? x : fminf(fmaxf(x, 0.0f), 6.0f);
}
static inline float act_relu6_d(float x, const float *p, float *dp)
{
    (void)p; (void)dp;
    return act_nanpass(x, (x > 0.0f && x < 6.0f) ? 1.0f : 0.0f);
}

/* swish: p = {beta}; f = x s(beta x)   (Ramachandran, Zoph, Le 2017)
 * df/dx = s + beta x s (1-s); df/dbeta = x^2 s (1-s) */
static inline float act_swish_f(float x, const float *p)
{
    float z = p[0] * x;
    return isinf(x) && z < 0.0f ? -0.0f * x : x * act_sigmoid(z);
}
static inline float act_swish_d(float x, const float *p, float *dp)
{
    float z = p[0] * x, sc, s = act_sigmoid2(z, &sc);
    float ss = s * sc;                                  /* s(1-s), 0 in the tails */
    dp[0] = ss == 0.0f ? act_nanpass(z, 0.0f) : x * x * ss;
    return ss == 0.0f ? act_nanpass(z, s) : s + z * ss;
}

/* silu = swish with beta = 1 */
static inline float act_silu_f(float x, const float *p) { (void)p; static const float one = 1.0f; return act_swish_f(x, &one); }
static inline float act_silu_d(float x, const float *p, float *dp)
{
    (void)p; (void)dp;
    float b = 1.0f, g;
    return act_swish_d(x, &b, &g);
}

/* gelu (erf form): x Phi(x) = x erfc(-x/sqrt2)/2 (accurate left tail)
 * f' = Phi(x) + x phi(x) */
static inline float act_gelu_f(float x, const float *p)
{
    (void)p;
    return 0.5f * x * erfcf(-x * ACT_SQRT1_2);
}
static inline float act_gelu_d(float x, const float *p, float *dp)
{
    (void)p; (void)dp;
    float ph = ACT_INV_SQRT2PI * expf(-0.5f * x * x);
    return 0.5f * erfcf(-x * ACT_SQRT1_2) + (ph == 0.0f ? act_nanpass(x, 0.0f) : x * ph);
}

/* gelu_tanh: x/2 (1 + tanh(k (x + 0.044715 x^3))), k = sqrt(2/pi)
 * f' = (1+t)/2 + x/2 (1 - t^2) k (1 + 3*0.044715 x^2); clamp |x| > 10 (0*inf in x^3). */
#define ACT_GELU_K 0.79788456080286535588f
#define ACT_GELU_C 0.044715f
static inline float act_gelu_tanh_f(float x, const float *p)
{
    (void)p;
    if (fabsf(x) > 10.0f)
        return x > 0.0f ? x : -0.0f;
    float u = ACT_GELU_K * (x + ACT_GELU_C * x * x * x);
    /* 1 + tanh(u) = 2 s(2u): no cancellation for u << 0 */
    return x * act_sigmoid(2.0f * u);
}
static inline float act_gelu_tanh_d(float x, const float *p, float *dp)
{
    (void)p; (void)dp;
    if (fabsf(x) > 10.0f)
        return x > 0.0f ? 1.0f : 0.0f;
    float u = ACT_GELU_K * (x + ACT_GELU_C * x * x * x);
    float sc, s = act_sigmoid2(2.0f * u, &sc);          /* (1+t)/2 = s, (1-t^2)/4 = s sc */
    return s + 2.0f * x * s * sc * ACT_GELU_K * (1.0f + 3.0f * ACT_GELU_C * x * x);
}

/* mish: x tanh(sp(x)); tanh(sp) = n/(n+2), n = e^2x + 2e^x (stable: darknet #5452)
 * f' = tanh(sp) + x (1 - tanh^2(sp)) s(x) */
static inline float act_mish_t(float x)        /* tanh(softplus(x)) */
{
    if (x > 20.0f)
        return 1.0f;
    float e = expf(x), n = e * (e + 2.0f);
    return n / (n + 2.0f);
}
static inline float act_mish_f(float x, const float *p)
{
    (void)p;
    if (isinf(x))
        return x > 0.0f ? x : -0.0f;
    return x * act_mish_t(x);
}
static inline float act_mish_d(float x, const float *p, float *dp)
{
    (void)p; (void)dp;
    if (isinf(x))
        return x > 0.0f ? 1.0f : 0.0f;
    float t = act_mish_t(x);
    float e = expf(-fabsf(x));
    /* 1 - t^2 = 4 (e^x + 1)... written as (1-t)(1+t), 1-t = 2/(n+2) */
    float ex = expf(fminf(x, 20.0f)), n = ex * (ex + 2.0f);
    float omt = 2.0f / (n + 2.0f);
    (void)e;
    return t + x * omt * (1.0f + t) * act_sigmoid(x);
}

/* acon_c: p = {p1, p2, beta}; d = p1 - p2, z = beta d x, S = s(z)   (Ma et al., CVPR 2021)
 * f = d x S + p2 x; u = S (1 + z (1-S)) (SiLU' at z)
 * df/dx = d u + p2; df/dp1 = x u; df/dp2 = x - x u; df/dbeta = d^2 x^2 S (1-S) */
static inline float act_acon_c_f(float x, const float *p)
{
    float d = p[0] - p[1];
    float z = p[2] * d * x;
    float dxs = isinf(x) && z < 0.0f ? 0.0f : d * x * act_sigmoid(z);
    return dxs + p[1] * x;
}
static inline float act_acon_c_d(float x, const float *p, float *dp)
{
    float d = p[0] - p[1];
    float z = p[2] * d * x, sc, s = act_sigmoid2(z, &sc);
    float ss = s * sc;
    float u = ss == 0.0f ? act_nanpass(z, s) : s + z * ss;
    float xu = (u == 0.0f) ? act_nanpass(x, 0.0f) : x * u;
    dp[0] = xu;
    dp[1] = x * (u == 0.0f ? 1.0f : sc - z * ss);       /* x (1 - u), without 1 - u cancellation */
    dp[2] = ss == 0.0f ? act_nanpass(z, 0.0f) : d * d * x * x * ss;
    return d * u + p[1];
}

/* acon_a: p = {beta}; ACON-C with (p1, p2) = (1, 0): x s(beta x) */
static inline float act_acon_a_f(float x, const float *p) { return act_swish_f(x, p); }
static inline float act_acon_a_d(float x, const float *p, float *dp) { return act_swish_d(x, p, dp); }

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

/* smu: p = {alpha, mu}; c = 1 - alpha, u = mu c x   (Biswas et al., CVPR 2022)
 * f = ((1+a) x + c x erf(u))/2 = x (a + c erfc(-u)/2)      (no cancellation for x < 0)
 * df/dx = (1+a)/2 + c/2 erf(u) + c u e^(-u^2)/sqrt(pi)
 * df/dmu = c^2 x^2 e^(-u^2)/sqrt(pi); df/dalpha = (x - x erf(u))/2 - mu c x^2 e^(-u^2)/sqrt(pi) */
static inline float act_smu_f(float x, const float *p)
{
    float c = 1.0f - p[0], u = p[1] * c * x;
    return x * (p[0] + 0.5f * c * erfcf(-u));
}
static inline float act_smu_d(float x, const float *p, float *dp)
{
    float c = 1.0f - p[0], u = p[1] * c * x;
    float g = ACT_INV_SQRTPI * expf(-u * u);            /* e^(-u^2)/sqrt(pi) */
    float cx = c * x;
    dp[1] = g == 0.0f ? act_nanpass(x, 0.0f) : cx * cx * g;
    dp[0] = 0.5f * x * erfcf(u) - (g == 0.0f ? act_nanpass(x, 0.0f) : p[1] * c * x * x * g);
    return p[0] + 0.5f * c * erfcf(-u) + (g == 0.0f ? act_nanpass(x, 0.0f) : c * u * g);
}

/* smu1: p = {alpha, mu}; r = hypot(c x, mu), c = 1 - alpha
 * f = ((1+a) x + r)/2; df/dx = ((1+a) + c^2 x/r)/2; df/dmu = mu/(2r);
 * df/dalpha = (x - c x^2/r)/2 */
static inline float act_smu1_f(float x, const float *p)
{
    float c = 1.0f - p[0];
    return 0.5f * ((1.0f + p[0]) * x + hypotf(c * x, p[1]));
}
static inline float act_smu1_d(float x, const float *p, float *dp)
{
    float c = 1.0f - p[0], r = hypotf(c * x, p[1]);
    float q = isinf(x) ? copysignf(1.0f, x) : (r == 0.0f ? 0.0f : c * x / r);  /* c x / r */
    dp[1] = isinf(x) ? 0.0f : (r == 0.0f ? 0.5f : 0.5f * p[1] / r);
    dp[0] = 0.5f * (x - x * q);
    return 0.5f * ((1.0f + p[0]) + c * q);
}

#endif
