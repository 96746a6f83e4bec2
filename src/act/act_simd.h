/* act_simd.h -- the vector kernels of every activation, written once over a small vector
 * vocabulary (V, VADD, VFMA, ...) that act_avx2.c and act_avx512.c define before including
 * this file. Math lives in the vf_<name> / vd_<name> functions (mirrors of act_scalar.h, in
 * float with polynomial exp/erfc); the block loops and the tables are generated from
 * ACT_ACT_LIST for its rows with vec 1 (a row with vec 0 has no vf_/vd_ and runs the scalar
 * reference on every ISA). Lanes with |x| > q[ACTI_Q_BIG], inf or NaN take the scalar reference.
 * Accuracy is tested against a long-double reference (tests/test_act_accuracy.c). */
#ifndef ACTV_TARGET
#error "include act_simd.h from an ISA file (act_avx2.c, act_avx512.c)"
#endif

#include "act/act_kern.h"
#include "act/act_scalar.h"

#define ACTV_FN static inline __attribute__((always_inline)) ACTV_TARGET

// ----------------------------------------------------------------------------
// vector math primitives

/* exp(hi + lo), |lo| << 1, for hi in [-104, 88.8] (the callers clamp: two max/min, which run
 * beside the FMA pipes): Cody-Waite reduction to r = hi + lo - n ln2, |r| <= ln2/2 + |lo|, a
 * degree-6 minimax polynomial for e^r (relative error 1.9e-9; the float result is within 1.5
 * ulp, checked on every float in [-87.3, 88.7]), scaled by 2^n with VSCALE, which rounds a
 * result below FLT_MIN to a subnormal or 0 and one above FLT_MAX to inf as exp does. No range
 * test: a compare into a mask register takes an FMA-pipe slot on Zen 4 (measured by
 * dev/kernels/zen_ports.c), and the FMA pipes bound these kernels. */
ACTV_FN V vexp_core(V hi, V lo, int has_lo)
{
    V n = VROUND(VMUL(hi, VSET1(1.44269504088896341f)));
    V r;
    if (has_lo) {
        r = VFMA(n, VSET1(-0.693359375f), hi);
        r = VADD(VFMA(n, VSET1(2.12194440e-4f), r), lo);
    } else {
        r = VFMA(n, VSET1(-0.693147182f), hi);
    }
    V p = VSET1(1.3836846130416145e-3f);
    p = VFMA(p, r, VSET1(8.374815798188244e-3f));
    p = VFMA(p, r, VSET1(4.166822556699289e-2f));
    p = VFMA(p, r, VSET1(1.6666420169947696e-1f));
    p = VFMA(p, r, VSET1(4.9999992079827704e-1f));
    p = VFMA(p, r, VSET1(1.0000000363231762f));
    p = VFMA(p, r, VSET1(1.0f));
    return VSCALE(p, n);
}

ACTV_FN V vexp_hl(V hi, V lo) { return vexp_core(hi, lo, 1); }

/* exp(x) for any x (+-inf and NaN included: the clamps map NaN to a bound, but those lanes take
 * the scalar reference); vexp_le0 for x <= 0 (one clamp) */
ACTV_FN V vexp(V x)
{
    return vexp_core(VMIN(VMAX(x, VSET1(-104.0f)), VSET1(88.8f)), x, 0);
}
ACTV_FN V vexp_le0(V x) { return vexp_core(VMAX(x, VSET1(-104.0f)), x, 0); }

/* 1/a for a in [1, 2^100]; the one place the kernels take reciprocals. A correctly rounded
 * division: on Zen 4 a 512-bit vdivps occupies the divider for 6 cycles but the FMA pipes for
 * only about 3 (dev/kernels/zen_ports.c), and the estimate plus one Newton step (rcp14/rcp + 2
 * FMA, rel. error 2^-22) takes 3 FMA-pipe cycles too: it measured 0-15% slower on every
 * sigmoid-, tanh- and erfc-based kernel (both ISAs, side by side, dev/quick_bench.c), since
 * these kernels are bound by the FMA pipes. */
ACTV_FN V vrcp(V a)
{
    return VDIV(VSET1(1.0f), a);
}

/* expm1(x), relative accuracy near 0, and *e = exp(x), from one reduction x = n ln2 + r:
 * e^r - 1 = r q(r), q a degree-5 minimax fit of (e^r - 1)/r (relative error 1.1e-8), then
 * expm1 = t (e^r - 1) + (t - 1), t = 2^n (exact; no cancellation: n != 0 only for
 * |x| > ln2/2). x is clamped at -104 (t = 0 below: expm1 = -1, e = 0, as exp gives); x <= 87.33
 * needs no other care (vexpm1e_87: the kernels, whose arguments are <= 0 or, for celu with
 * alpha < 0, <= 80); above it t overflows, and vexpm1e (vmath's expm1) sends those lanes
 * (rare) to e = vexp(x), expm1 = e - 1. */
ACTV_FN V vexpm1e_87(V x, V *e)
{
    x = VMAX(x, VSET1(-104.0f));
    V n = VROUND(VMUL(x, VSET1(1.44269504088896341f)));
    V r = VFMA(n, VSET1(-0.693359375f), x);
    r = VFMA(n, VSET1(2.12194440e-4f), r);
    V q = VSET1(1.3888872863461398e-3f);
    q = VFMA(q, r, VSET1(8.36906856141775e-3f));
    q = VFMA(q, r, VSET1(4.1667136207694695e-2f));
    q = VFMA(q, r, VSET1(1.666650621958354e-1f));
    q = VFMA(q, r, VSET1(4.9999998124799694e-1f));
    q = VFMA(q, r, VSET1(1.0f));
    V m = VMUL(r, q);
    V t = VSCALE(VSET1(1.0f), n);
    *e = VFMA(t, m, t);
    return VFMA(t, m, VSUB(t, VSET1(1.0f)));
}

ACTV_FN V vexpm1e(V x, V *e)
{
    V y = vexpm1e_87(x, e);
    if (VANY(VGT(x, VSET1(87.33f)))) {
        VM big = VGT(x, VSET1(87.33f));
        *e = VSEL(big, vexp(x), *e);
        y = VSEL(big, VSUB(*e, VSET1(1.0f)), y);
    }
    return y;
}

/* log(1 + f) for f in [-0.2929, 0.4142] (Cephes logf polynomial) */
ACTV_FN V vlogpoly(V f)
{
    V z = VMUL(f, f);
    V y = VSET1(7.0376836292e-2f);
    y = VFMA(y, f, VSET1(-1.1514610310e-1f));
    y = VFMA(y, f, VSET1(1.1676998740e-1f));
    y = VFMA(y, f, VSET1(-1.2420140846e-1f));
    y = VFMA(y, f, VSET1(1.4249322787e-1f));
    y = VFMA(y, f, VSET1(-1.6668057665e-1f));
    y = VFMA(y, f, VSET1(2.0000714765e-1f));
    y = VFMA(y, f, VSET1(-2.4999993993e-1f));
    y = VFMA(y, f, VSET1(3.3333331174e-1f));
    y = VMUL(VMUL(y, f), z);
    y = VFMA(z, VSET1(-0.5f), y);
    return VADD(f, y);
}

/* log1p(e) for e in [0, 1], without forming 1 + e: 2 atanh(s), s = e/(2 + e) in [0, 1/3],
 * atanh(s)/s = g(s^2) a degree-4 minimax fit on [0, 1/9] (relative error 4e-9): one
 * division and 6 FMA/MUL (the Cephes log polynomial with its range split took 18 ops) */
ACTV_FN V vlog1p01(V e)
{
    V s = VDIV(e, VADD(e, VSET1(2.0f)));
    V w = VMUL(s, s);
    V g = VSET1(1.4089167559857155e-1f);
    g = VFMA(g, w, VSET1(1.3980301352899216e-1f));
    g = VFMA(g, w, VSET1(2.0012455142819752e-1f));
    g = VFMA(g, w, VSET1(3.3333157340949915e-1f));
    g = VFMA(g, w, VSET1(1.0f));
    return VMUL(VADD(s, s), g);
}

/* sigmoid(z) and 1 - sigmoid(z), both accurate in the tails */
ACTV_FN V vsig2(V z, V *sc)
{
    V e = vexp_le0(VNEG(VABS(z)));
    V r = vrcp(VADD(VSET1(1.0f), e));
    V lo = VMUL(e, r);
    VM pos = VGE(z, VZERO());
    *sc = VSEL(pos, lo, r);
    return VSEL(pos, r, lo);
}

/* erfc(z) for z >= 0, given z^2 = zh + zl (exactly where the caller can): erfc(z) =
 * t e^(-z^2) g(2t - 1), t = 1/(1 + z/2), g a degree-10 Chebyshev fit of erfcx(z)/t on
 * t in [0, 1] (relative error 1.1e-7 with float coefficients). *ez = e^(-z^2), which the
 * derivatives of gelu and smu reuse. */
ACTV_FN V verfc_sq(V z, V zh, V zl, V *ez)
{
    V t = vrcp(VFMA(z, VSET1(0.5f), VSET1(1.0f)));
    V u = VFMA(t, VSET1(2.0f), VSET1(-1.0f));
    V p = VSET1(4.4288415665505454e-05f);
    p = VFMA(p, u, VSET1(-3.67643624485936e-05f));
    p = VFMA(p, u, VSET1(-0.00030471908394247293f));
    p = VFMA(p, u, VSET1(0.0004310400108806789f));
    p = VFMA(p, u, VSET1(0.0015338470693677664f));
    p = VFMA(p, u, VSET1(-0.003243732964619994f));
    p = VFMA(p, u, VSET1(-0.010753311216831207f));
    p = VFMA(p, u, VSET1(0.018221748992800713f));
    p = VFMA(p, u, VSET1(0.13973595201969147f));
    p = VFMA(p, u, VSET1(0.34358030557632446f));
    p = VFMA(p, u, VSET1(0.5107913613319397f));
    /* z^2 > 87.33 is common (SMU with mu = 2.5 at |x| > 3.8): clamped here and zeroed by a
     * blend, so that vexp's rare-lane branch is never taken (it would mispredict) */
    VM under = VGT(zh, VSET1(87.33f));
    *ez = VSEL(under, VZERO(), vexp_hl(VNEG(VMIN(zh, VSET1(87.33f))), VNEG(zl)));
    return VMUL(VMUL(t, p), *ez);
}

ACTV_FN V verfc_pos(V z)
{
    V zh = VMUL(z, z), zl = VFMS(z, z, zh), ez;
    return verfc_sq(z, zh, zl, &ez);
}

/* erfc(-a) = 1 + erf(a) (the GELU/SMU gate), from E = erfc(|a|), a^2 = ah + al;
 * *m = erfc(a) = 1 - erf(a), *ez = e^(-a^2) */
ACTV_FN V verfc_neg(V a, V ah, V al, V *m, V *ez)
{
    V E = verfc_sq(VABS(a), ah, al, ez);
    VM neg = VLE(a, VZERO());
    V big = VSUB(VSET1(2.0f), E);
    *m = VSEL(neg, big, E);
    return VSEL(neg, E, big);
}

/* x/sqrt2 and (x/sqrt2)^2 = x^2/2 split exactly into hi + lo */
ACTV_FN V vhalfsq(V x, V *ah, V *al)
{
    V xx = VMUL(x, x);
    *ah = VMUL(xx, VSET1(0.5f));
    *al = VMUL(VFMS(x, x, xx), VSET1(0.5f));
    return VMUL(x, VSET1(0.70710678118654752f));
}

/* erf(x): odd Taylor series for |x| < 0.5, else sign(x) (1 - erfc(|x|)) */
ACTV_FN V verf(V x)
{
    V z = VMUL(x, x);
    V p = VSET1(-1.0f / 1320);
    p = VFMA(p, z, VSET1(1.0f / 216));
    p = VFMA(p, z, VSET1(-1.0f / 42));
    p = VFMA(p, z, VSET1(1.0f / 10));
    p = VFMA(p, z, VSET1(-1.0f / 3));
    p = VFMA(p, z, VSET1(1.0f));
    p = VMUL(p, VMUL(x, VSET1(1.1283791670955126f)));
    V a = VABS(x);
    V r = VSUB(VSET1(1.0f), verfc_pos(a));
    r = VSEL(VLT(x, VZERO()), VNEG(r), r);
    return VSEL(VLT(a, VSET1(0.5f)), p, r);
}

/* tanh(x) = sign(x) (-m)/(2 + m), m = expm1(-2|x|); *e = exp(-2|x|); x itself for
 * |x| < 2^-13 (tanh(+-0) = +-0) */
ACTV_FN V vtanh_e(V x, V *e)
{
    V m = vexpm1e_87(VMUL(VABS(x), VSET1(-2.0f)), e);
    V t = VDIV(VNEG(m), VADD(VSET1(2.0f), m));
    t = VSEL(VLT(x, VZERO()), VNEG(t), t);
    return VSEL(VLT(VABS(x), VSET1(0x1p-13f)), x, t);
}

ACTV_FN V vsoftplus(V z)
{
    return VADD(VMAX(z, VZERO()), vlog1p01(vexp_le0(VNEG(VABS(z)))));
}

// ----------------------------------------------------------------------------
// activations: vf_<name>(x, q) = f, vd_<name>(x, q, g) = df/dx with g[k] = df/dp_k.
// Finite x with |x| <= q[ACTI_Q_BIG] only (see the file comment).

ACTV_FN V vf_relu(V x, const V *q) { (void)q; return VMAX(VZERO(), x); }
ACTV_FN V vd_relu(V x, const V *q, V *g)
{
    (void)q; (void)g;
    return VSEL(VGT(x, VZERO()), VSET1(1.0f), VZERO());
}

ACTV_FN V vf_leaky_relu(V x, const V *q) { return VSEL(VGT(x, VZERO()), x, VMUL(q[0], x)); }
ACTV_FN V vd_leaky_relu(V x, const V *q, V *g)
{
    VM pos = VGT(x, VZERO());
    g[0] = VSEL(pos, VZERO(), x);
    return VSEL(pos, VSET1(1.0f), q[0]);
}
ACTV_FN V vf_prelu(V x, const V *q) { return vf_leaky_relu(x, q); }
ACTV_FN V vd_prelu(V x, const V *q, V *g) { return vd_leaky_relu(x, q, g); }

ACTV_FN V vf_elu(V x, const V *q)
{
    V e, m = vexpm1e_87(VMIN(x, VZERO()), &e);
    return VSEL(VGT(x, VZERO()), x, VMUL(q[0], m));
}
ACTV_FN V vd_elu(V x, const V *q, V *g)
{
    V e, m = vexpm1e_87(VMIN(x, VZERO()), &e);
    VM pos = VGT(x, VZERO());
    g[0] = VSEL(pos, VZERO(), m);
    return VSEL(pos, VSET1(1.0f), VMUL(q[0], e));
}

ACTV_FN V vf_selu(V x, const V *q)
{
    V e, m = vexpm1e_87(VMIN(x, VZERO()), &e);
    return VSEL(VGT(x, VZERO()), VMUL(q[0], x), VMUL(q[1], m));
}
ACTV_FN V vd_selu(V x, const V *q, V *g)
{
    (void)g;
    V e = vexp_le0(VMIN(x, VZERO()));
    return VSEL(VGT(x, VZERO()), q[0], VMUL(q[1], e));
}

/* celu: q = {alpha, 1/alpha} */
ACTV_FN V vf_celu(V x, const V *q)
{
    V e, m = vexpm1e_87(VMUL(VMIN(x, VZERO()), q[1]), &e);
    return VSEL(VGT(x, VZERO()), x, VMUL(q[0], m));
}
ACTV_FN V vd_celu(V x, const V *q, V *g)
{
    /* t clamped: e = 0 below -87.3, and t e must stay 0 when x/alpha overflows */
    V t = VMAX(VMUL(VMIN(x, VZERO()), q[1]), VSET1(-100.0f));
    V e, m = vexpm1e_87(t, &e);
    VM pos = VGT(x, VZERO());
    g[0] = VSEL(pos, VZERO(), VFNMA(t, e, m));
    return VSEL(pos, VSET1(1.0f), e);
}

/* softplus: q = {beta, threshold, 1/beta, 1/beta^2} */
ACTV_FN V vf_softplus(V x, const V *q)
{
    V z = VMUL(q[0], x);
    return VSEL(VGT(z, q[1]), x, VMUL(vsoftplus(z), q[2]));
}
ACTV_FN V vd_softplus(V x, const V *q, V *g)
{
    V z = VMUL(q[0], x);
    V a = VNEG(VABS(z));
    V e = vexp_le0(a);
    V r = vrcp(VADD(VSET1(1.0f), e));
    V sa = VMUL(e, r);                                  /* s(a) = s(-|z|) */
    V h = VSUB(VMUL(a, sa), vlog1p01(e));
    VM lin = VGT(z, q[1]);
    g[0] = VSEL(lin, VZERO(), VMUL(h, q[3]));
    g[1] = VZERO();
    V s = VSEL(VGE(z, VZERO()), r, sa);
    return VSEL(lin, VSET1(1.0f), s);
}

ACTV_FN V vf_sigmoid(V x, const V *q)
{
    (void)q;
    V sc;
    return vsig2(x, &sc);
}
ACTV_FN V vd_sigmoid(V x, const V *q, V *g)
{
    (void)q; (void)g;
    V sc, s = vsig2(x, &sc);
    return VMUL(s, sc);
}

ACTV_FN V vf_tanh(V x, const V *q)
{
    (void)q;
    V e;
    return vtanh_e(x, &e);
}
ACTV_FN V vd_tanh(V x, const V *q, V *g)
{
    (void)q; (void)g;
    V e = vexp_le0(VMUL(VABS(x), VSET1(-2.0f)));
    V r = vrcp(VADD(VSET1(1.0f), e));
    return VMUL(VMUL(VSET1(4.0f), e), VMUL(r, r));
}

ACTV_FN V vf_hardsigmoid(V x, const V *q)
{
    (void)q;
    V v = VFMA(x, VSET1(1.0f / 6), VSET1(0.5f));
    return VMIN(VSET1(1.0f), VMAX(VZERO(), v));
}
ACTV_FN V vd_hardsigmoid(V x, const V *q, V *g)
{
    (void)q; (void)g;
    VM in = VAND_M(VGT(x, VSET1(-3.0f)), VLT(x, VSET1(3.0f)));
    return VSEL(in, VSET1(1.0f / 6), VZERO());
}

ACTV_FN V vf_hardswish(V x, const V *q)
{
    (void)q;
    V v = VMUL(VMUL(x, VADD(x, VSET1(3.0f))), VSET1(1.0f / 6));
    return VSEL(VLE(x, VSET1(-3.0f)), VZERO(), VSEL(VGE(x, VSET1(3.0f)), x, v));
}
ACTV_FN V vd_hardswish(V x, const V *q, V *g)
{
    (void)q; (void)g;
    V v = VFMA(x, VSET1(1.0f / 3), VSET1(0.5f));
    return VSEL(VLE(x, VSET1(-3.0f)), VZERO(), VSEL(VGE(x, VSET1(3.0f)), VSET1(1.0f), v));
}

ACTV_FN V vf_relu6(V x, const V *q) { (void)q; return VMIN(VSET1(6.0f), VMAX(VZERO(), x)); }
ACTV_FN V vd_relu6(V x, const V *q, V *g)
{
    (void)q; (void)g;
    VM in = VAND_M(VGT(x, VZERO()), VLT(x, VSET1(6.0f)));
    return VSEL(in, VSET1(1.0f), VZERO());
}

/* swish at z = b x: f = x s(z); df/dx = s + z s (1-s); df/db = x^2 s (1-s) */
ACTV_FN V vswish_d(V x, V z, V *gb)
{
    V sc, s = vsig2(z, &sc);
    V ss = VMUL(s, sc);
    *gb = VMUL(VMUL(x, ss), x);
    return VFMA(z, ss, s);
}
ACTV_FN V vf_silu(V x, const V *q)
{
    (void)q;
    V sc;
    return VMUL(x, vsig2(x, &sc));
}
ACTV_FN V vd_silu(V x, const V *q, V *g)
{
    (void)q; (void)g;
    V gb;
    return vswish_d(x, x, &gb);
}
ACTV_FN V vf_swish(V x, const V *q)
{
    V sc;
    return VMUL(x, vsig2(VMUL(q[0], x), &sc));
}
ACTV_FN V vd_swish(V x, const V *q, V *g) { return vswish_d(x, VMUL(q[0], x), &g[0]); }
ACTV_FN V vf_acon_a(V x, const V *q) { return vf_swish(x, q); }
ACTV_FN V vd_acon_a(V x, const V *q, V *g) { return vd_swish(x, q, g); }

/* acon_c: q = {d, b d, p2, d^2}; f = x (d S + p2); u = S + z S (1-S);
 * df/dx = d u + p2; dp1 = x u; dp2 = x (1-S)(1 - z S); db = d^2 x^2 S (1-S) */
ACTV_FN V vf_acon_c(V x, const V *q)
{
    V sc, s = vsig2(VMUL(q[1], x), &sc);
    return VMUL(x, VFMA(q[0], s, q[2]));
}
ACTV_FN V vd_acon_c(V x, const V *q, V *g)
{
    V z = VMUL(q[1], x);
    V sc, s = vsig2(z, &sc);
    V ss = VMUL(s, sc);
    V u = VFMA(z, ss, s);
    g[0] = VMUL(x, u);
    g[1] = VMUL(x, VMUL(sc, VFNMA(z, s, VSET1(1.0f))));
    g[2] = VMUL(VMUL(VMUL(x, ss), x), q[3]);
    return VFMA(q[0], u, q[2]);
}
ACTV_FN V vf_acon_b(V x, const V *q) { return vf_acon_c(x, q); }
ACTV_FN V vd_acon_b(V x, const V *q, V *g)
{
    V h[3];
    V d = vd_acon_c(x, q, h);
    g[0] = h[1];
    g[1] = h[2];
    return d;
}

/* gelu: Phi = erfc(-x/sqrt2)/2; f' = Phi + x e^(-x^2/2)/sqrt(2 pi) */
ACTV_FN V vf_gelu(V x, const V *q)
{
    (void)q;
    V ah, al, a = vhalfsq(x, &ah, &al);
    V m, ez, P2 = verfc_neg(a, ah, al, &m, &ez);
    return VMUL(VMUL(x, VSET1(0.5f)), P2);
}
ACTV_FN V vd_gelu(V x, const V *q, V *g)
{
    (void)q; (void)g;
    V ah, al, a = vhalfsq(x, &ah, &al);
    V m, ez, P2 = verfc_neg(a, ah, al, &m, &ez);
    V ph = VMUL(VSET1(0.39894228040143268f), ez);
    return VFMA(x, ph, VMUL(P2, VSET1(0.5f)));
}

/* gelu_tanh: f = x s(2u), u = k (x + 0.044715 x^3);
 * f' = s + 2 x s (1-s) k (1 + 3*0.044715 x^2) */
ACTV_FN V vgt_u2(V x)
{
    V x2 = VMUL(x, x);
    return VMUL(x, VFMA(x2, VSET1((float)(2.0 * ACT_GELU_K * ACT_GELU_C)),
                        VSET1((float)(2.0 * ACT_GELU_K))));
}
ACTV_FN V vf_gelu_tanh(V x, const V *q)
{
    (void)q;
    V sc;
    return VMUL(x, vsig2(vgt_u2(x), &sc));
}
ACTV_FN V vd_gelu_tanh(V x, const V *q, V *g)
{
    (void)q; (void)g;
    V sc, s = vsig2(vgt_u2(x), &sc);
    V x2 = VMUL(x, x);
    V k = VFMA(x2, VSET1((float)(2.0 * ACT_GELU_K * 3.0 * ACT_GELU_C)),
               VSET1((float)(2.0 * ACT_GELU_K)));
    return VFMA(VMUL(VMUL(x, VMUL(s, sc)), k), VSET1(1.0f), s);
}

/* mish: e = e^min(x, 20), n = e (e + 2), t = n/(n+2), 1 - t = 2/(n+2), s(x) = e/(1+e);
 * f' = t + x (1-t)(1+t) s */
ACTV_FN V vf_mish(V x, const V *q)
{
    (void)q;
    V e = vexp(VMIN(x, VSET1(20.0f)));
    V n = VMUL(e, VADD(e, VSET1(2.0f)));
    return VMUL(x, VDIV(n, VADD(n, VSET1(2.0f))));
}
ACTV_FN V vd_mish(V x, const V *q, V *g)
{
    (void)q; (void)g;
    V e = vexp(VMIN(x, VSET1(20.0f)));
    V n = VMUL(e, VADD(e, VSET1(2.0f)));
    V r = vrcp(VADD(n, VSET1(2.0f)));
    V t = VMUL(n, r), omt = VADD(r, r);
    V s = VDIV(e, VADD(e, VSET1(1.0f)));
    V h = VMUL(VMUL(omt, VADD(t, VSET1(1.0f))), s);
    h = VSEL(VGT(x, VSET1(20.0f)), VZERO(), h);         /* x (1-t^2) s < 1e-15 there */
    return VFMA(x, h, t);
}

/* smu: q = {alpha, c, mu c, mu, c^2}; u = mu c x; f = x (a + c erfc(-u)/2);
 * f' = a + c erfc(-u)/2 + c u g, g = e^(-u^2)/sqrt(pi); dmu = c^2 x^2 g;
 * dalpha = x erfc(u)/2 - mu c x^2 g */
ACTV_FN V vf_smu(V x, const V *q)
{
    V u = VMUL(q[2], x), uu = VMUL(u, u), ul = VFMS(u, u, uu);
    V m, ez, P2 = verfc_neg(u, uu, ul, &m, &ez);
    return VMUL(x, VFMA(VMUL(q[1], VSET1(0.5f)), P2, q[0]));
}
ACTV_FN V vd_smu(V x, const V *q, V *g)
{
    V u = VMUL(q[2], x), uu = VMUL(u, u), ul = VFMS(u, u, uu);
    V m, ez, P2 = verfc_neg(u, uu, ul, &m, &ez);
    V gg = VMUL(VSET1(0.56418958354775629f), ez);
    V x2g = VMUL(VMUL(x, gg), x);
    g[1] = VMUL(q[4], x2g);
    g[0] = VFNMA(q[2], x2g, VMUL(VMUL(x, m), VSET1(0.5f)));
    V d = VFMA(VMUL(q[1], VSET1(0.5f)), P2, q[0]);
    return VFMA(VMUL(q[1], u), gg, d);
}

/* smu1: q = {alpha, c, mu, mu^2}; r = sqrt((c x)^2 + mu^2), 1 -+ q formed without
 * cancellation (see act_scalar.h); f = ((1+a) x + r)/2 */
ACTV_FN V vf_smu1(V x, const V *q)
{
    V cx = VMUL(q[1], x);
    V r = VSQRT(VFMA(cx, cx, q[3]));
    return VMUL(VFMA(VADD(q[0], VSET1(1.0f)), x, r), VSET1(0.5f));
}
ACTV_FN V vd_smu1(V x, const V *q, V *g)
{
    V cx = VMUL(q[1], x);
    V r = VSQRT(VFMA(cx, cx, q[3]));
    V ir = VDIV(VSET1(1.0f), r);
    V qq = VMUL(cx, ir);
    V small = VDIV(VMUL(q[3], ir), VADD(r, VABS(cx)));    /* mu^2/(r (r + |c x|)) */
    VM pos = VGT(cx, VZERO());
    V opq = VSEL(pos, VADD(VSET1(1.0f), qq), small);
    V omq = VSEL(pos, small, VSUB(VSET1(1.0f), qq));
    g[1] = VMUL(VMUL(q[2], ir), VSET1(0.5f));
    g[0] = VMUL(VMUL(x, omq), VSET1(0.5f));
    return VFMA(VMUL(q[1], VSET1(0.5f)), opq, q[0]);
}

// ----------------------------------------------------------------------------
// block loops, generated for the rows of ACT_ACT_LIST with vector kernels (vec 1)

#define ACTV_CAT2(a, b) a##b
#define ACTV_CAT(a, b) ACTV_CAT2(a, b)

/* The hot loops live in leaf functions without calls (fwdv_, fwdntv_, bwdv_): they return the
 * index of the first vector with an unsafe lane (or the end), and the caller runs that vector
 * with the scalar reference and calls them again. A call inside the loop would make gcc keep
 * every loop constant in memory (all vector registers are call-clobbered in the x86-64 SysV
 * ABI) and feed each use from a load; on Zen 4 (about one 512-bit load a cycle) that load
 * traffic, not the arithmetic, bounded the transcendental kernels. */
#define ACTV_LEAF static __attribute__((noinline)) ACTV_TARGET
#define ACTV_BLOCKS_1(name, np)                                                              \
    ACTV_LEAF size_t fwdv_##name(const float *qs, const float *x, float *y, size_t i,       \
                                 size_t n, int nt)                                           \
    {                                                                                        \
        V q[ACTI_Q_MAX];                                                                     \
        for (int j = 0; j < ACTI_Q_MAX; j++)                                                 \
            q[j] = VSET1(qs[j]);                                                             \
        V big = VSET1(qs[ACTI_Q_BIG]);                                                       \
        if (nt) {                                                                            \
            for (; i + VW <= n; i += VW) {                                                   \
                V xv = VLOAD(x + i);                                                         \
                if (VUNSAFE(xv, big))                                                        \
                    break;                                                                   \
                VSTREAM(y + i, vf_##name(xv, q));                                            \
            }                                                                                \
            return i;                                                                        \
        }                                                                                    \
        for (; i + VW <= n; i += VW) {                                                       \
            V xv = VLOAD(x + i);                                                             \
            if (VUNSAFE(xv, big))                                                            \
                break;                                                                       \
            VSTORE(y + i, vf_##name(xv, q));                                                 \
        }                                                                                    \
        return i;                                                                            \
    }                                                                                        \
    /* vectors from i on by fwdv_ (plain or streaming stores), the unsafe ones and the tail    \
     * by the scalar reference */                                                            \
    static ACTV_TARGET void fwd_loop_##name(const float *qs, const float *p, const float *x, \
                                            float *y, size_t i, size_t n, int nt)            \
    {                                                                                        \
        for (;;) {                                                                           \
            i = fwdv_##name(qs, x, y, i, n, nt);                                             \
            if (i + VW > n)                                                                  \
                break;                                                                       \
            for (size_t j = i; j < i + VW; j++)                                              \
                y[j] = act_##name##_f(x[j], p);                                              \
            i += VW;                                                                         \
        }                                                                                    \
        for (; i < n; i++)                                                                   \
            y[i] = act_##name##_f(x[i], p);                                                  \
    }                                                                                        \
    static ACTV_TARGET void fwd_##name(const float *qs, const float *p, const float *x,      \
                                       float *y, size_t n)                                   \
    {                                                                                        \
        fwd_loop_##name(qs, p, x, y, 0, n, 0);                                               \
    }                                                                                        \
    /* fwd with non-temporal stores (DRAM-sized n): the lanes before the first 64-byte     \
     * boundary of y by a masked store, then aligned streaming stores, then sfence */        \
    static ACTV_TARGET void fwdnt_##name(const float *qs, const float *p, const float *x,    \
                                         float *y, size_t n)                                 \
    {                                                                                        \
        V q[ACTI_Q_MAX];                                                                     \
        for (int j = 0; j < ACTI_Q_MAX; j++)                                                 \
            q[j] = VSET1(qs[j]);                                                             \
        V big = VSET1(qs[ACTI_Q_BIG]);                                                       \
        size_t i = ((64 - (uintptr_t)y % 64) % 64) / sizeof(float);                          \
        if (n < 2 * VW || (uintptr_t)y % sizeof(float)) {                                   \
            fwd_##name(qs, p, x, y, n);                                                      \
            return;                                                                          \
        }                                                                                    \
        for (size_t h = 0; h < i; h += VW) {                                                 \
            size_t m = i - h < VW ? i - h : VW;                                              \
            V xv = VLOAD(x + h);                                                             \
            if (VUNSAFE(xv, big)) {                                                          \
                for (size_t j = h; j < h + m; j++)                                           \
                    y[j] = act_##name##_f(x[j], p);                                          \
                continue;                                                                    \
            }                                                                                \
            VSTORE_HEAD(y + h, vf_##name(xv, q), m);                                         \
        }                                                                                    \
        fwd_loop_##name(qs, p, x, y, i, n, 1);                                               \
        _mm_sfence();                                                                        \
    }                                                                                        \
    /* the backward's vector loop: ga[k] (VW floats each) are the running float sums of      \
     * dy df/dp_k, flushed into lane[k] (double) every 64 vectors; *chunk counts them */     \
    ACTV_LEAF size_t bwdv_##name(const float *qs, const float *x, const float *dy,          \
                                 float *dx, size_t i, size_t n, int assign, int want,        \
                                 float (*ga)[VW], double (*lane)[VW], int *chunk)            \
    {                                                                                        \
        V q[ACTI_Q_MAX];                                                                     \
        for (int j = 0; j < ACTI_Q_MAX; j++)                                                 \
            q[j] = VSET1(qs[j]);                                                             \
        V big = VSET1(qs[ACTI_Q_BIG]);                                                       \
        if (!want) {                                                                         \
            for (; i + VW <= n; i += VW) {                                                   \
                V xv = VLOAD(x + i), dyv = VLOAD(dy + i);                                    \
                if (VUNSAFE(xv, big))                                                        \
                    break;                                                                   \
                V g[ACT_ACT_MAX_PARAMS + 1];                                                 \
                V r = VMUL(dyv, vd_##name(xv, q, g));                                        \
                VSTORE(dx + i, assign ? r : VADD(VLOAD(dx + i), r));                         \
            }                                                                                \
            return i;                                                                        \
        }                                                                                    \
        V gs[ACT_ACT_MAX_PARAMS + 1];                                                        \
        for (int k = 0; k < (np); k++)                                                       \
            gs[k] = VLOAD(ga[k]);                                                            \
        for (; i + VW <= n; i += VW) {                                                       \
            V xv = VLOAD(x + i), dyv = VLOAD(dy + i);                                        \
            if (VUNSAFE(xv, big))                                                            \
                break;                                                                       \
            V g[ACT_ACT_MAX_PARAMS + 1];                                                     \
            V r = VMUL(dyv, vd_##name(xv, q, g));                                            \
            VSTORE(dx + i, assign ? r : VADD(VLOAD(dx + i), r));                             \
            for (int k = 0; k < (np); k++)                                                   \
                gs[k] = VFMA(dyv, g[k], gs[k]);                                              \
            if (++*chunk == 64) {                                                            \
                for (int k = 0; k < (np); k++) {                                             \
                    float tmp[VW];                                                           \
                    VSTORE(tmp, gs[k]);                                                      \
                    gs[k] = VZERO();                                                         \
                    for (int j = 0; j < VW; j++)                                             \
                        lane[k][j] += (double)tmp[j];                                        \
                }                                                                            \
                *chunk = 0;                                                                  \
            }                                                                                \
        }                                                                                    \
        for (int k = 0; k < (np); k++)                                                       \
            VSTORE(ga[k], gs[k]);                                                            \
        return i;                                                                            \
    }                                                                                        \
    static ACTV_TARGET void bwd_##name(const float *qs, const float *p, const float *x,      \
                                       const float *dy, float *dx, size_t n, int assign,     \
                                       double *acc)                                          \
    {                                                                                        \
        float ga[ACT_ACT_MAX_PARAMS + 1][VW];                                                \
        double lane[ACT_ACT_MAX_PARAMS + 1][VW], side[ACT_ACT_MAX_PARAMS + 1];               \
        for (int k = 0; k <= ACT_ACT_MAX_PARAMS; k++) {                                      \
            side[k] = 0.0;                                                                   \
            for (int j = 0; j < VW; j++) {                                                   \
                ga[k][j] = 0.0f;                                                             \
                lane[k][j] = 0.0;                                                            \
            }                                                                                \
        }                                                                                    \
        size_t i = 0;                                                                        \
        int chunk = 0;                                                                       \
        for (;;) {                                                                           \
            i = bwdv_##name(qs, x, dy, dx, i, n, assign, acc != NULL, ga, lane, &chunk);     \
            if (i + VW > n)                                                                  \
                break;                                                                       \
            for (size_t j = i; j < i + VW; j++) {                                            \
                float l[ACT_ACT_MAX_PARAMS + 1];                                             \
                float gj = dy[j] * act_##name##_d(x[j], p, l);                               \
                dx[j] = assign ? gj : dx[j] + gj;                                            \
                for (int k = 0; k < (np); k++)                                               \
                    side[k] += (double)(dy[j] * l[k]);                                       \
            }                                                                                \
            i += VW;                                                                         \
        }                                                                                    \
        for (; i < n; i++) {                                                                 \
            float l[ACT_ACT_MAX_PARAMS + 1];                                                 \
            float gj = dy[i] * act_##name##_d(x[i], p, l);                                   \
            dx[i] = assign ? gj : dx[i] + gj;                                                \
            for (int k = 0; k < (np); k++)                                                   \
                side[k] += (double)(dy[i] * l[k]);                                           \
        }                                                                                    \
        for (int k = 0; acc && k < (np); k++) {                                              \
            double s = side[k];                                                              \
            for (int j = 0; j < VW; j++)                                                     \
                s += lane[k][j] + (double)ga[k][j];                                          \
            acc[k] += s;                                                                     \
        }                                                                                    \
    }
#define ACTV_BLOCKS_0(name, np)
#define X(ID, name, np, flags, learn, n0, d0, n1, d1, n2, d2, nk, k0, k1, nz, cost, vec, ...) \
    ACTV_BLOCKS_##vec(name, np)
ACT_ACT_LIST(X)
#undef X

/* the parameters of row position j (scalar fallback lanes of the row kernels) */
static inline void actv_row_p(const float *pt, size_t L, size_t j, float *pc)
{
    for (int k = 0; k < ACT_ACT_MAX_PARAMS; k++)
        pc[k] = pt[(size_t)k * L + j];
}

/* Row kernels: the constants are loaded as vectors along the row; parameter gradients are
 * summed per position in float over at most 64 rows, then in double (fixed order). */
#define ACTV_ROWS_1(name, np)                                                                \
    static ACTV_TARGET void fwdr_##name(const float *qt, const float *pt, size_t L,         \
                                        const float *x, float *y, size_t rows, size_t ld)   \
    {                                                                                        \
        for (size_t r = 0; r < rows; r++) {                                                  \
            const float *xr = x + r * ld;                                                    \
            float *yr = y + r * ld;                                                          \
            size_t j = 0;                                                                    \
            for (; j + VW <= L; j += VW) {                                                   \
                V xv = VLOAD(xr + j), q[ACTI_Q_MAX];                                         \
                _Pragma("GCC unroll 8") /* unused constants: no load */                      \
                for (int k = 0; k < ACTI_Q_MAX; k++)                                         \
                    q[k] = VLOAD(qt + (size_t)k * L + j);                                    \
                if (VUNSAFE(xv, q[ACTI_Q_BIG])) {                                            \
                    for (size_t jj = j; jj < j + VW; jj++) {                                 \
                        float pc[ACT_ACT_MAX_PARAMS];                                        \
                        actv_row_p(pt, L, jj, pc);                                           \
                        yr[jj] = act_##name##_f(xr[jj], pc);                                 \
                    }                                                                        \
                    continue;                                                                \
                }                                                                            \
                VSTORE(yr + j, vf_##name(xv, q));                                            \
            }                                                                                \
            for (; j < L; j++) {                                                             \
                float pc[ACT_ACT_MAX_PARAMS];                                                \
                actv_row_p(pt, L, j, pc);                                                    \
                yr[j] = act_##name##_f(xr[j], pc);                                           \
            }                                                                                \
        }                                                                                    \
    }                                                                                        \
    static ACTV_TARGET void bwdr_##name(const float *qt, const float *pt, size_t L,         \
                                        const float *x, const float *dy, float *dx,         \
                                        size_t rows, size_t ld, int assign, double *acc)    \
    {                                                                                        \
        float fa[ACT_ACT_MAX_PARAMS + 1][ACTI_ROW_W];                                        \
        size_t Lv = L - L % VW;                                                              \
        for (int k = 0; acc && k < (np); k++)                                                \
            for (size_t j = 0; j < Lv; j++)                                                  \
                fa[k][j] = 0.0f;                                                             \
        for (size_t r = 0; r < rows; r++) {                                                  \
            const float *xr = x + r * ld, *dyr = dy + r * ld;                                \
            float *dxr = dx + r * ld;                                                        \
            size_t j = 0;                                                                    \
            for (; j < Lv; j += VW) {                                                        \
                V xv = VLOAD(xr + j), dyv = VLOAD(dyr + j), q[ACTI_Q_MAX];                   \
                _Pragma("GCC unroll 8") /* unused constants: no load */                      \
                for (int k = 0; k < ACTI_Q_MAX; k++)                                         \
                    q[k] = VLOAD(qt + (size_t)k * L + j);                                    \
                if (VUNSAFE(xv, q[ACTI_Q_BIG])) {                                            \
                    for (size_t jj = j; jj < j + VW; jj++) {                                 \
                        float pc[ACT_ACT_MAX_PARAMS], l[ACT_ACT_MAX_PARAMS + 1];             \
                        actv_row_p(pt, L, jj, pc);                                           \
                        float gj = dyr[jj] * act_##name##_d(xr[jj], pc, l);                  \
                        dxr[jj] = assign ? gj : dxr[jj] + gj;                                \
                        for (int k = 0; acc && k < (np); k++)                                \
                            acc[(size_t)k * L + jj] += (double)(dyr[jj] * l[k]);             \
                    }                                                                        \
                    continue;                                                                \
                }                                                                            \
                V g[ACT_ACT_MAX_PARAMS + 1];                                                 \
                V d = VMUL(dyv, vd_##name(xv, q, g));                                        \
                VSTORE(dxr + j, assign ? d : VADD(VLOAD(dxr + j), d));                       \
                for (int k = 0; acc && k < (np); k++)                                        \
                    VSTORE(fa[k] + j, VFMA(dyv, g[k], VLOAD(fa[k] + j)));                    \
            }                                                                                \
            for (; j < L; j++) {                                                             \
                float pc[ACT_ACT_MAX_PARAMS], l[ACT_ACT_MAX_PARAMS + 1];                     \
                actv_row_p(pt, L, j, pc);                                                    \
                float gj = dyr[j] * act_##name##_d(xr[j], pc, l);                            \
                dxr[j] = assign ? gj : dxr[j] + gj;                                          \
                for (int k = 0; acc && k < (np); k++)                                        \
                    acc[(size_t)k * L + j] += (double)(dyr[j] * l[k]);                       \
            }                                                                                \
            if (acc && (np) > 0 && ((r + 1) % 64 == 0 || r + 1 == rows)) {                   \
                for (int k = 0; k < (np); k++)                                               \
                    for (size_t jj = 0; jj < Lv; jj++) {                                     \
                        acc[(size_t)k * L + jj] += (double)fa[k][jj];                        \
                        fa[k][jj] = 0.0f;                                                    \
                    }                                                                        \
            }                                                                                \
        }                                                                                    \
    }
#define ACTV_ROWS_0(name, np)
#define X(ID, name, np, flags, learn, n0, d0, n1, d1, n2, d2, nk, k0, k1, nz, cost, vec, ...) \
    ACTV_ROWS_##vec(name, np)
ACT_ACT_LIST(X)
#undef X

/* rows with vec 0 have no entry: all NULL, and act.c runs the scalar reference for them */
#define ACTV_ENTRY_1(ID, name) \
    [ACT_ACT_##ID] = { fwd_##name, bwd_##name, fwdr_##name, bwdr_##name, fwdnt_##name },
#define ACTV_ENTRY_0(ID, name)
const acti_kern ACTV_CAT(acti_kern_, ACTV_ISA)[ACT_ACT_COUNT] = {
#define X(ID, name, np, flags, learn, n0, d0, n1, d1, n2, d2, nk, k0, k1, nz, cost, vec, ...) \
    ACTV_ENTRY_##vec(ID, name)
    ACT_ACT_LIST(X)
#undef X
};

// ----------------------------------------------------------------------------
// vmath blocks

#define ACTV_VM(name, expr, lo, hi)                                                          \
    static ACTV_TARGET void vm_##name(const float *x, float *y, size_t n)                    \
    {                                                                                        \
        size_t i = 0;                                                                        \
        for (; i + VW <= n; i += VW) {                                                       \
            V v = VLOAD(x + i);                                                              \
            if (VUNSAFE_RANGE(v, VSET1(lo), VSET1(hi))) {                                    \
                for (size_t j = i; j < i + VW; j++)                                          \
                    y[j] = vm1_##name(x[j]);                                                 \
                continue;                                                                    \
            }                                                                                \
            VSTORE(y + i, expr);                                                             \
        }                                                                                    \
        for (; i < n; i++)                                                                   \
            y[i] = vm1_##name(x[i]);                                                         \
    }

/* log(x) for positive normal finite x: x = m 2^e, m in [sqrt(1/2), sqrt(2)), log(m) by the
 * Cephes polynomial (vlogpoly), e ln2 added in two parts (about 1 ulp) */
ACTV_FN V vlog(V x)
{
    V e, m = VFREXP(x, &e);
    VM big = VGT(m, VSET1(1.41421356f));
    m = VSEL(big, VMUL(m, VSET1(0.5f)), m);
    e = VSEL(big, VADD(e, VSET1(1.0f)), e);
    V l = vlogpoly(VSUB(m, VSET1(1.0f)));               /* m - 1 exact */
    l = VFMA(e, VSET1(-2.12194440e-4f), l);
    return VFMA(e, VSET1(0.693359375f), l);
}

/* log1p(x) for x > -1 finite: log(u) + (x - (u - 1))/u, u = 1 + x rounded (the quotient
 * restores what the rounding of u lost); x itself where u == 1 (|x| < 2^-25, keeps -0) */
ACTV_FN V vlog1p(V x)
{
    V u = VADD(VSET1(1.0f), x);
    V c = VSUB(x, VSUB(u, VSET1(1.0f)));
    V l = VADD(vlog(u), VDIV(c, u));
    return VSEL(VLE(VABS(x), VSET1(0x1p-25f)), x, l);
}

/* sin or cos (cosine: cs = 1) of x, |x| <= ACTV_TRIG_BIG: x = j pi/2 + r, |r| <= pi/4, by a
 * three-part pi/2 with FMAs (x - j p1 exact; the rest errs by about 1e-23 j), then the Cephes
 * sinf/cosf polynomials on r, picked and signed by j mod 4 (exact for |j| < 2^21). Checked
 * on every float |x| <= 2^20 against double: sin, cos at most 2.1 ulp, tan 3.8 ulp. Larger
 * |x| take libm (Payne-Hanek). *t = tan(x) when want_tan (one division). */
#define ACTV_TRIG_BIG 1048576.0f
ACTV_FN V vsincos(V x, int cs, int want_tan, V *t)
{
    V j = VROUND(VMUL(x, VSET1(0.636619772f)));
    V r = VFNMA(j, VSET1(1.5707963705062866f), x);
    r = VFNMA(j, VSET1(-4.371138828673793e-08f), r);
    r = VFNMA(j, VSET1(-1.7151245100058819e-15f), r);
    V z = VMUL(r, r);
    V ps = VSET1(-1.9515295891e-4f);
    ps = VFMA(ps, z, VSET1(8.3321608736e-3f));
    ps = VFMA(ps, z, VSET1(-1.6666654611e-1f));
    ps = VFMA(VMUL(ps, z), r, r);                       /* sin r */
    V pc = VSET1(2.443315711809948e-5f);
    pc = VFMA(pc, z, VSET1(-1.388731625493765e-3f));
    pc = VFMA(pc, z, VSET1(4.166664568298827e-2f));
    pc = VFMA(VMUL(pc, z), z, VFMA(z, VSET1(-0.5f), VSET1(1.0f)));   /* cos r */
    /* q = j mod 4 (exact for |j| < 2^21), odd = q & 1 */
    V q = VFMA(VROUND(VFMA(j, VSET1(0.25f), VSET1(-0.375f))), VSET1(-4.0f), j);
    V o = VFMA(VROUND(VFMA(q, VSET1(0.5f), VSET1(-0.25f))), VSET1(-2.0f), q);
    VM odd = VGT(o, VSET1(0.5f));
    if (want_tan) {   /* tan = sin r / cos r, or -cos r / sin r for odd j */
        V tq = VDIV(VSEL(odd, VNEG(pc), ps), VSEL(odd, ps, pc));
        *t = VSEL(VLT(VABS(x), VSET1(1e-4f)), x, tq);
    }
    V v = VSEL(odd, pc, ps);
    VM neg = cs ? VAND_M(VGT(q, VSET1(0.5f)), VLT(q, VSET1(2.5f))) : VGT(q, VSET1(1.5f));
    if (cs)
        v = VSEL(odd, ps, pc);
    v = VSEL(neg, VNEG(v), v);
    return cs ? v : VSEL(VLT(VABS(x), VSET1(1e-4f)), x, v);   /* sin(+-0) = +-0 */
}

/* atan(x), Cephes atanf: |x| > tan(3pi/8): pi/2 + atan(-1/|x|); |x| > tan(pi/8):
 * pi/4 + atan((|x|-1)/(|x|+1)); one division; the offsets in two parts */
ACTV_FN V vatan(V x)
{
    V a = VABS(x);
    VM hi = VGT(a, VSET1(2.414213562373095f)), mid = VGT(a, VSET1(0.4142135623730950f));
    V num = VSEL(hi, VSET1(-1.0f), VSEL(mid, VSUB(a, VSET1(1.0f)), a));
    V den = VSEL(hi, a, VSEL(mid, VADD(a, VSET1(1.0f)), VSET1(1.0f)));
    V w = VDIV(num, den);
    V ohi = VSEL(hi, VSET1(1.5707963705062866f), VSEL(mid, VSET1(0.78539818525314331f), VZERO()));
    V olo = VSEL(hi, VSET1(-4.371138828673793e-08f),
                 VSEL(mid, VSET1(-2.1855694143368964e-08f), VZERO()));
    V z = VMUL(w, w);
    V p = VSET1(8.05374449538e-2f);
    p = VFMA(p, z, VSET1(-1.38776856032e-1f));
    p = VFMA(p, z, VSET1(1.99777106478e-1f));
    p = VFMA(p, z, VSET1(-3.33329491539e-1f));
    V y = VADD(VFMA(VMUL(p, z), w, olo), w);
    y = VADD(ohi, y);
    y = VSEL(VLT(x, VZERO()), VNEG(y), y);
    return VSEL(VLT(a, VSET1(1e-4f)), x, y);
}

/* asinh(x) = sign(x) log1p(w): w = a + a^2/(1 + sqrt(1 + a^2)) for a = |x| <= 2^12, else
 * w = 2a - 1 (log(2a), the dropped 1/(4a^2) below 2e-9 relative); |x| <= 1e18 */
ACTV_FN V vasinh(V x)
{
    V a = VABS(x), a2 = VMUL(a, a);
    V w = VADD(a, VDIV(a2, VADD(VSET1(1.0f), VSQRT(VADD(VSET1(1.0f), a2)))));
    w = VSEL(VGT(a, VSET1(4096.0f)), VFMA(a, VSET1(2.0f), VSET1(-1.0f)), w);
    V y = vlog1p(w);
    y = VSEL(VLT(x, VZERO()), VNEG(y), y);
    return VSEL(VLT(a, VSET1(1e-4f)), x, y);
}

/* sinh and cosh from h = e^(|x|/2): cosh = h^2/2 + 1/(2 h^2), sinh = h^2/2 - 1/(2 h^2)
 * (overflows only where the result does); sinh for |x| < 2 by its odd Taylor series to x^17 */
ACTV_FN V vcoshsinh(V x, int sh)
{
    V a = VABS(x);
    V h = vexp(VMUL(a, VSET1(0.5f)));
    V hh = VMUL(VMUL(h, VSET1(0.5f)), h);
    V ih = VDIV(VSET1(0.5f), VMUL(h, h));
    if (!sh)
        return VADD(hh, ih);
    V y = VSUB(hh, ih);
    y = VSEL(VLT(x, VZERO()), VNEG(y), y);
    V z = VMUL(x, x);
    V p = VSET1(1.0f / 355687428096000.0f);
    p = VFMA(p, z, VSET1(1.0f / 1307674368000.0f));
    p = VFMA(p, z, VSET1(1.0f / 6227020800.0f));
    p = VFMA(p, z, VSET1(1.0f / 39916800.0f));
    p = VFMA(p, z, VSET1(1.0f / 362880.0f));
    p = VFMA(p, z, VSET1(1.0f / 5040.0f));
    p = VFMA(p, z, VSET1(1.0f / 120.0f));
    p = VFMA(p, z, VSET1(1.0f / 6.0f));
    p = VFMA(VMUL(p, z), x, x);
    return VSEL(VLT(a, VSET1(2.0f)), p, y);
}

static inline float vm1_log(float x) { return logf(x); }
static inline float vm1_log1p(float x) { return log1pf(x); }
static inline float vm1_sin(float x) { return sinf(x); }
static inline float vm1_cos(float x) { return cosf(x); }
static inline float vm1_tan(float x) { return tanf(x); }
static inline float vm1_sinh(float x) { return sinhf(x); }
static inline float vm1_cosh(float x) { return coshf(x); }
static inline float vm1_asinh(float x) { return asinhf(x); }
static inline float vm1_atan(float x) { return atanf(x); }
static inline float vm1_exp(float x) { return expf(x); }
static inline float vm1_expm1(float x) { return expm1f(x); }
static inline float vm1_tanh(float x) { return tanhf(x); }
static inline float vm1_sigmoid(float x) { return act_sigmoid(x); }
static inline float vm1_softplus(float x) { return act_softplus(x); }
static inline float vm1_erf(float x) { return erff(x); }
static inline float vm1_erfc(float x) { return erfcf(x); }
static inline float vm1_sqrt(float x) { return sqrtf(x); }

ACTV_FN V vm_expm1_v(V x)
{
    V e;
    return vexpm1e(x, &e);
}
ACTV_FN V vm_tanh_v(V x)
{
    V e;
    return vtanh_e(x, &e);
}
ACTV_FN V vm_sigmoid_v(V x)
{
    V sc;
    return vsig2(x, &sc);
}
ACTV_FN V vm_erfc_v(V x)
{
    V xh = VMUL(x, x), xl = VFMS(x, x, xh), m, ez;
    verfc_neg(x, xh, xl, &m, &ez);
    return m;
}

ACTV_FN V vm_sin_v(V x)
{
    V t;
    return vsincos(x, 0, 0, &t);
}
ACTV_FN V vm_cos_v(V x)
{
    V t;
    return vsincos(x, 1, 0, &t);
}
ACTV_FN V vm_tan_v(V x)
{
    V t;
    vsincos(x, 0, 1, &t);
    return t;
}

ACTV_VM(exp, vexp(v), -1e30f, 1e30f)
ACTV_VM(expm1, vm_expm1_v(v), -1e30f, 1e30f)
ACTV_VM(tanh, vm_tanh_v(v), -1e30f, 1e30f)
ACTV_VM(sigmoid, vm_sigmoid_v(v), -1e30f, 1e30f)
ACTV_VM(softplus, vsoftplus(v), -1e30f, 1e30f)
ACTV_VM(erf, verf(v), -1e18f, 1e18f)
ACTV_VM(erfc, vm_erfc_v(v), -1e18f, 1e18f)
ACTV_VM(sqrt, VSQRT(v), 0.0f, FLT_MAX)
ACTV_VM(log, vlog(v), FLT_MIN, FLT_MAX)
ACTV_VM(log1p, vlog1p(v), -0.99999994f, FLT_MAX)
ACTV_VM(sin, vm_sin_v(v), -ACTV_TRIG_BIG, ACTV_TRIG_BIG)
ACTV_VM(cos, vm_cos_v(v), -ACTV_TRIG_BIG, ACTV_TRIG_BIG)
ACTV_VM(tan, vm_tan_v(v), -ACTV_TRIG_BIG, ACTV_TRIG_BIG)
ACTV_VM(sinh, vcoshsinh(v, 1), -FLT_MAX, FLT_MAX)
ACTV_VM(cosh, vcoshsinh(v, 0), -FLT_MAX, FLT_MAX)
ACTV_VM(asinh, vasinh(v), -1e18f, 1e18f)
ACTV_VM(atan, vatan(v), -FLT_MAX, FLT_MAX)


const acti_vm ACTV_CAT(acti_vm_, ACTV_ISA) = {
    vm_exp, vm_expm1, vm_tanh, vm_sigmoid, vm_softplus, vm_erf, vm_erfc, vm_sqrt,
    vm_log, vm_log1p, vm_sin, vm_cos, vm_tan, vm_sinh, vm_cosh, vm_asinh, vm_atan,
};
