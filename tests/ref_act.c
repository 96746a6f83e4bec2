/* ref_act.c -- the independent long-double reference (see ref_act.h). Each case is the
 * textbook formula (docs/activations.md; sources: docs/references.md), in long double; t* hold
 * the sum of the magnitudes of the summed terms (the conditioning of each sum, used by SIMD
 * tolerances). */
#include <math.h>
#include <string.h>

#include "ref_act.h"

typedef long double LD;

static LD sig(LD z) { return 1.0L / (1.0L + expl(-z)); }
static LD sigc(LD z) { return 1.0L / (1.0L + expl(z)); }   /* 1 - sig(z) */

#define SET(o, F, TF, D, TD)                                            \
    do {                                                                \
        (o)->f = (double)(F);                                           \
        (o)->tf = (double)(TF);                                         \
        (o)->d = (double)(D);                                           \
        (o)->td = (double)(TD);                                         \
    } while (0)

static void swish_ref(LD x, LD b, ref_val *o)
{
    LD s = sig(b * x), sc = sigc(b * x);
    LD t1 = s, t2 = b * x * s * sc;
    SET(o, x * s, fabsl(x * s), t1 + t2, fabsl(t1) + fabsl(t2));
    o->dp[0] = (double)(x * x * s * sc);
    o->tdp[0] = fabs(o->dp[0]);
}

static void acon_ref(LD x, LD p1, LD p2, LD b, ref_val *o, int np_first)
{
    LD d = p1 - p2, z = b * d * x, S = sig(z), Sc = sigc(z);
    LD f1 = d * x * S, f2 = p2 * x;
    LD d1 = d * S, d2 = b * d * d * x * S * Sc;
    SET(o, f1 + f2, fabsl(f1) + fabsl(f2), d1 + d2 + p2, fabsl(d1) + fabsl(d2) + fabsl(p2));
    LD a1 = x * S, a2 = b * d * x * x * S * Sc;         /* df/dp1 */
    LD c1 = x * Sc, c2 = -b * d * x * x * S * Sc;       /* df/dp2 */
    LD g = d * d * x * x * S * Sc;                      /* df/db */
    if (np_first == 0) {                                /* acon_c: p1, p2, b */
        o->dp[0] = (double)(a1 + a2);
        o->tdp[0] = (double)(fabsl(a1) + fabsl(a2));
        o->dp[1] = (double)(c1 + c2);
        o->tdp[1] = (double)(fabsl(c1) + fabsl(c2));
        o->dp[2] = (double)g;
        o->tdp[2] = fabs(o->dp[2]);
    } else {                                            /* acon_b: p (= p2), b */
        o->dp[0] = (double)(c1 + c2);
        o->tdp[0] = (double)(fabsl(c1) + fabsl(c2));
        o->dp[1] = (double)g;
        o->tdp[1] = fabs(o->dp[1]);
    }
}

void ref_act_eval(act_act_id id, float xf, const float *pf, ref_val *o)
{
    memset(o, 0, sizeof *o);
    LD x = isinf(xf) ? copysignl(1e300L, (LD)xf) : (LD)xf;
    LD p[ACT_ACT_MAX_PARAMS] = { 0 };
    const act_act_desc *desc = act_act_info(id);
    for (int k = 0; desc && k < desc->n_params; k++)
        p[k] = pf[k];
    const LD selu_a = 1.6732632423543772848170429916717L;
    const LD selu_l = 1.0507009873554804934193349852946L;
    const LD spi = 1.7724538509055160272981674833411L;   /* sqrt(pi) */
    const LD k = 0.79788456080286535587989211986876L;    /* sqrt(2/pi) */
    switch (id) {
    case ACT_ACT_RELU:
        SET(o, x > 0 ? x : 0, x > 0 ? x : 0, x > 0 ? 1 : 0, x > 0 ? 1 : 0);
        break;
    case ACT_ACT_LEAKY_RELU:
    case ACT_ACT_PRELU: {
        LD f = x > 0 ? x : (p[0] == 0 ? 0 : p[0] * x);
        SET(o, f, fabsl(f), x > 0 ? 1 : p[0], x > 0 ? 1 : fabsl(p[0]));
        o->dp[0] = (double)(x > 0 ? 0 : x);
        o->tdp[0] = fabs(o->dp[0]);
        break;
    }
    case ACT_ACT_ELU: {
        LD f = x > 0 ? x : p[0] * expm1l(x), d = x > 0 ? 1 : p[0] * expl(x);
        SET(o, f, fabsl(f), d, fabsl(d));
        o->dp[0] = (double)(x > 0 ? 0 : expm1l(x));
        o->tdp[0] = fabs(o->dp[0]);
        break;
    }
    case ACT_ACT_SELU: {
        LD f = selu_l * (x > 0 ? x : selu_a * expm1l(x));
        LD d = x > 0 ? selu_l : selu_l * selu_a * expl(x);
        SET(o, f, fabsl(f), d, fabsl(d));
        break;
    }
    case ACT_ACT_CELU: {
        LD t = x / p[0];
        LD f = x > 0 ? x : p[0] * expm1l(t), d = x > 0 ? 1 : expl(t);
        SET(o, f, fabsl(f), d, fabsl(d));
        LD a1 = x > 0 ? 0 : expm1l(t), a2 = x > 0 ? 0 : -t * expl(t);
        /* a1 + a2 = e^t (1 - t) - 1: the sum is inf - inf once e^t overflows (alpha < 0) */
        o->dp[0] = (double)(isinf(a2) ? a2 : a1 + a2);
        o->tdp[0] = (double)(fabsl(a1) + fabsl(a2));
        break;
    }
    case ACT_ACT_SOFTPLUS: {
        LD b = p[0], z = b * x;
        int lin = z > p[1];
        LD f = lin ? x : log1pl(expl(z)) / b;
        SET(o, f, fabsl(f), lin ? 1 : sig(z), lin ? 1 : sig(z));
        LD a1 = lin ? 0 : x * sig(z) / b, a2 = lin ? 0 : -f / b;
        o->dp[0] = (double)(a1 + a2);
        o->tdp[0] = (double)(fabsl(a1) + fabsl(a2));
        o->dp[1] = 0;
        break;
    }
    case ACT_ACT_SIGMOID:
        SET(o, sig(x), sig(x), sig(x) * sigc(x), sig(x) * sigc(x));
        break;
    case ACT_ACT_TANH: {
        LD c = coshl(x);
        SET(o, tanhl(x), fabsl(tanhl(x)), 1 / (c * c), 1 / (c * c));
        break;
    }
    case ACT_ACT_HARDSIGMOID: {
        LD v = x / 6 + 0.5L;
        v = v < 0 ? 0 : (v > 1 ? 1 : v);
        LD d = (x > -3 && x < 3) ? 1.0L / 6 : 0;
        SET(o, v, fabsl(x / 6) + 0.5L, d, d);
        break;
    }
    case ACT_ACT_HARDSWISH: {
        LD f = x <= -3 ? 0 : (x >= 3 ? x : x * (x + 3) / 6);
        LD d = x <= -3 ? 0 : (x >= 3 ? 1 : 2 * x / 6 + 0.5L);
        SET(o, f, fabsl(x * x / 6) + fabsl(x / 2), d, fabsl(x / 3) + 0.5L);
        break;
    }
    case ACT_ACT_RELU6: {
        LD f = x < 0 ? 0 : (x > 6 ? 6 : x);
        SET(o, f, f, (x > 0 && x < 6) ? 1 : 0, 1);
        break;
    }
    case ACT_ACT_SILU:
        swish_ref(x, 1, o);
        o->dp[0] = o->tdp[0] = 0;
        break;
    case ACT_ACT_SWISH:
    case ACT_ACT_ACON_A:
        swish_ref(x, p[0], o);
        break;
    case ACT_ACT_GELU: {
        LD Phi = 0.5L * erfcl(-x / sqrtl(2)), t2 = x * expl(-x * x / 2) / sqrtl(2 * acosl(-1));
        SET(o, x * Phi, fabsl(x * Phi), Phi + t2, Phi + fabsl(t2));
        break;
    }
    case ACT_ACT_GELU_TANH: {
        LD u = k * (x + 0.044715L * x * x * x);
        LD opt = 2 * sig(2 * u), omt = 2 * sigc(2 * u);      /* 1 + tanh u, 1 - tanh u */
        LD t1 = 0.5L * opt, t2 = 0.5L * opt * k * (x + 0.134145L * x * x * x) * omt;
        SET(o, 0.5L * x * opt, fabsl(0.5L * x * opt), t1 + t2, fabsl(t1) + fabsl(t2));
        break;
    }
    case ACT_ACT_MISH: {
        LD sp = log1pl(expl(x)), t = tanhl(sp), c = coshl(sp);
        LD t2 = x * sig(x) / (c * c);
        SET(o, x * t, fabsl(x * t), t + t2, fabsl(t) + fabsl(t2));
        break;
    }
    case ACT_ACT_ACON_B:
        acon_ref(x, 1, p[0], p[1], o, 1);
        break;
    case ACT_ACT_ACON_C:
        acon_ref(x, p[0], p[1], p[2], o, 0);
        break;
    case ACT_ACT_SMU: {
        LD a = p[0], mu = p[1], c = 1 - a, u = mu * c * x, e = expl(-u * u), er = erfl(u);
        LD f1 = (1 + a) * x, f2 = c * x * er;
        LD d1 = 1 + a, d2 = c * er, d3 = 2 / spi * c * u * e;
        SET(o, (f1 + f2) / 2, (fabsl(f1) + fabsl(f2)) / 2, (d1 + d2 + d3) / 2,
            (fabsl(d1) + fabsl(d2) + fabsl(d3)) / 2);
        o->dp[1] = (double)(c * c * x * x * e / spi);
        o->tdp[1] = fabs(o->dp[1]);
        LD a1 = x, a2 = -x * er, a3 = -2 / spi * mu * c * x * x * e;
        o->dp[0] = (double)((a1 + a2 + a3) / 2);
        o->tdp[0] = (double)((fabsl(a1) + fabsl(a2) + fabsl(a3)) / 2);
        break;
    }
    case ACT_ACT_SMU1: {
        LD a = p[0], mu = p[1], c = 1 - a, r = sqrtl(c * c * x * x + mu * mu);
        LD f1 = (1 + a) * x;
        LD d1 = 1 + a, d2 = c * c * x / r;
        SET(o, (f1 + r) / 2, (fabsl(f1) + r) / 2, (d1 + d2) / 2, (fabsl(d1) + fabsl(d2)) / 2);
        o->dp[1] = (double)(mu / (2 * r));
        o->tdp[1] = fabs(o->dp[1]);
        /* x - c x^2/r, with r - c x = mu^2/(r + c x) where c x > 0 (the plain form cancels) */
        LD da = c * x > 0 ? x * mu * mu / (r * (r + c * x)) : x - c * x * x / r;
        o->dp[0] = (double)(da / 2);
        o->tdp[0] = (double)((fabsl(x) + fabsl(c * x * x / r)) / 2);
        break;
    }
    case ACT_ACT_COUNT:
        break;
    }
    if (isnan(xf)) {
        o->f = o->d = xf;
        for (int j = 0; j < ACT_ACT_MAX_PARAMS; j++)
            o->dp[j] = xf;
    }
}
