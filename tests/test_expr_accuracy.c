/* test_expr_accuracy.c -- value and derivative of every unary primitive of the expression
 * language on every evaluation path (the float program on each supported ISA, the fused sigmoid
 * and tanh gates, the double evaluator) against an independent long-double reference, on a grid
 * that closes in on every removable singularity, root, series threshold and overflow edge. A
 * closed form that cancels (sinc' near 0, sigmoid' and tanh' in the tails) fails here. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/expr.h"
#include "expr/expr_int.h"      /* acti_instr: check that the gated forms really fuse */
#include "test.h"

typedef long double LD;

// ----------------------------------------------------------------------------
// long-double reference (x86-64: 64-bit significand, 2^-64 rounding)

#define LD_PI 3.14159265358979323846264338327950288L

/* sinc and sinc' by their Taylor series below 0.5 (30 terms: the first omitted one is below
 * 0.25^30/61! ~ 1e-102), the closed forms above, where the cancellation in a cos a - sin a
 * costs at most a factor 6/a^2 = 24 of 2^-64 (~1.3e-18, far below the double tolerance). */
static LD ref_sinc(LD a)
{
    if (fabsl(a) >= 0.5L)
        return sinl(a) / a;
    LD s = 1, t = 1;
    for (int k = 1; k <= 30; k++) {
        t *= -a * a / ((LD)(2 * k) * (LD)(2 * k + 1));   /* (-1)^k a^2k / (2k+1)! */
        s += t;
    }
    return s;
}

static LD ref_dsinc(LD a)
{
    if (fabsl(a) >= 0.5L)
        return (a * cosl(a) - sinl(a)) / (a * a);
    LD s = 0, t = -a / 6;                                /* (-1)^k a^(2k-1) / (2k+1)! */
    for (int k = 1; k <= 30; k++) {
        s += (LD)(2 * k) * t;
        t *= -a * a / ((LD)(2 * k + 2) * (LD)(2 * k + 3));
    }
    return s;
}

static LD ref_sig(LD a) { return 1 / (1 + expl(-a)); }
static LD ref_dsig(LD a)
{
    LD e = expl(-fabsl(a));
    return e / ((1 + e) * (1 + e));
}
static LD ref_sp(LD a) { return a > 0 ? a + log1pl(expl(-a)) : log1pl(expl(a)); }
static LD ref_dtanh(LD a)
{
    LD c = coshl(a);
    return 1 / (c * c);
}

static LD r_neg(LD a) { return -a; }
static LD r_mone(LD a) { (void)a; return -1; }
static LD r_sign(LD a) { return a > 0 ? 1 : (a < 0 ? -1 : 0); }
static LD r_sq(LD a) { return a * a; }
static LD r_2x(LD a) { return 2 * a; }
static LD r_cube(LD a) { return a * a * a; }
static LD r_3sq(LD a) { return 3 * a * a; }
static LD r_p5(LD a) { return a * a * a * a * a; }
static LD r_5p4(LD a) { return 5 * a * a * a * a; }
static LD r_inv(LD a) { return 1 / a; }
static LD r_dinv(LD a) { return -1 / (a * a); }
static LD r_dsqrt(LD a) { return 0.5L / sqrtl(a); }
static LD r_nsin(LD a) { return -sinl(a); }
static LD r_dasinh(LD a) { return 1 / sqrtl(1 + a * a); }
static LD r_datan(LD a) { return 1 / (1 + a * a); }
static LD r_derf(LD a) { return 2 / sqrtl(LD_PI) * expl(-a * a); }

typedef LD ldfun(LD);

/* f(x) = scale * F(x) and f' = scale * F'(x); fused: the program must contain this fused op */
static const struct prim {
    const char *src;
    ldfun      *f, *d;
    LD          scale;
    int         fused;          /* acti_iop of a fused gate, or -1 */
} prims[] = {
    { "-x",          r_neg,    r_mone,    1, -1 },
    { "abs(x)",      fabsl,    r_sign,    1, -1 },
    { "x^2",         r_sq,     r_2x,      1, -1 },
    { "x^3",         r_cube,   r_3sq,     1, -1 },
    { "x^5",         r_p5,     r_5p4,     1, -1 },
    { "x^-1",        r_inv,    r_dinv,    1, -1 },
    { "sqrt(x)",     sqrtl,    r_dsqrt,   1, -1 },
    { "exp(x)",      expl,     expl,      1, -1 },
    { "log(x)",      logl,     r_inv,     1, -1 },
    { "sin(x)",      sinl,     cosl,      1, -1 },
    { "cos(x)",      cosl,     r_nsin,    1, -1 },
    { "sinh(x)",     sinhl,    coshl,     1, -1 },
    { "cosh(x)",     coshl,    sinhl,     1, -1 },
    { "tanh(x)",     tanhl,    ref_dtanh, 1, -1 },
    { "asinh(x)",    asinhl,   r_dasinh,  1, -1 },
    { "atan(x)",     atanl,    r_datan,   1, -1 },
    { "sinc(x)",     ref_sinc, ref_dsinc, 1, -1 },
    { "sigmoid(x)",  ref_sig,  ref_dsig,  1, -1 },
    { "softplus(x)", ref_sp,   ref_sig,   1, -1 },
    { "erf(x)",      erfl,     r_derf,    1, -1 },
    /* the gates of the fused instructions (compile.c): a F(b), max/min(F(b), a) */
    { "2*sigmoid(x)",        ref_sig, ref_dsig,  2, ACTI_OP_MULF },
    { "2*tanh(x)",           tanhl,   ref_dtanh, 2, ACTI_OP_MULF },
    { "min(sigmoid(x), 2)",  ref_sig, ref_dsig,  1, ACTI_OP_MINF },
    { "max(tanh(x), -2)",    tanhl,   ref_dtanh, 1, ACTI_OP_MAXF },
};
enum { N_PRIMS = sizeof prims / sizeof prims[0] };

/* |x r'(x)| of output w (0: the value, r' = f'; 1: the derivative, r' = f'' by a central
 * difference over x (1 +- 2^-20) in long double: ~1e-12 relative, plenty for a tolerance) */
static LD ref_sens(const struct prim *p, LD x, int w)
{
    if (x == 0 || !isfinite(x))
        return 0;
    if (w == 0)
        return fabsl(x * p->scale * p->d(x));
    LD h = 0x1p-20L * x;
    LD s = fabsl(p->scale * x * (p->d(x + h) - p->d(x - h)) / (2 * h));
    return isfinite(s) ? s : 0;
}

// ----------------------------------------------------------------------------
// the grid

static void push(double *g, size_t *n, size_t cap, double v)
{
    if (*n + 2 <= cap) {
        g[(*n)++] = v;
        g[(*n)++] = -v;
    }
}

/* float values v and its neighbours within k ulps, both signs */
static void push_ulps(double *g, size_t *n, size_t cap, float v, int k)
{
    float lo = v, hi = v;
    push(g, n, cap, v);
    for (int i = 0; i < k; i++) {
        lo = nextafterf(lo, 0.0f);
        hi = nextafterf(hi, INFINITY);
        push(g, n, cap, lo);
        push(g, n, cap, hi);
    }
}

/* The roots of tan a = a (the extrema of sinc, roots of sinc') in (k pi, k pi + pi/2): Newton
 * on a cos a - sin a from just below k pi + pi/2. */
static LD tan_root(int k)
{
    LD a = k * LD_PI + LD_PI / 2 - 1 / (k * LD_PI + LD_PI / 2);
    for (int i = 0; i < 60; i++)
        a -= (a * cosl(a) - sinl(a)) / (-a * sinl(a));
    return a;
}

/* Every grid point is a float (the float paths take them exactly); both signs. dbl adds
 * points only a double can hold (past the float range, the double-only thresholds). */
static double *grid_new(size_t *n, int dbl)
{
    size_t cap = 40000, k = 0;
    double *g = malloc(cap * sizeof *g);
    if (!g)
        return NULL;
    g[k++] = 0.0;
    for (int i = 1; i <= 3000; i++)                     /* (-30, 30) every 0.01 */
        push(g, &k, cap, (float)(i * 0.01));
    for (int i = -38 * 16; i <= 38 * 16; i++)           /* 1e-38 .. 1e38, 16 a decade */
        push(g, &k, cap, (float)pow(10.0, i / 16.0));
    /* approaching the removable singularity and the series thresholds */
    static const float near0[] = { 1e-30f, 1e-20f, 1e-10f, 1e-8f, 1e-7f, 1e-6f, 1e-5f, 3e-5f,
                                   5e-5f, 1e-4f, 1.5e-4f, 2e-4f, 3e-4f, 5e-4f, 7e-4f, 1e-3f,
                                   2e-3f, 5e-3f, 1e-2f, 2e-2f, 5e-2f, 0.1f, 0.2f, 0.3f, 0.5f,
                                   0.7f, 1.0f, 1.25f, 1.5f, 1.75f, 2.0f, 2.5f, 3.0f };
    for (size_t i = 0; i < sizeof near0 / sizeof *near0; i++)
        push_ulps(g, &k, cap, near0[i], 2);
    for (int j = 1; j <= 40; j++)                       /* 2^-j: binary thresholds */
        push_ulps(g, &k, cap, ldexpf(1.0f, -j), 1);
    /* roots: sin, sinc (k pi), cos (k pi + pi/2), sinc' (tan a = a) */
    for (int j = 1; j <= 20; j++) {
        push_ulps(g, &k, cap, (float)(j * LD_PI), 3);
        push_ulps(g, &k, cap, (float)(j * LD_PI - LD_PI / 2), 3);
        push_ulps(g, &k, cap, (float)tan_root(j), 3);
    }
    /* overflow and range edges: a^2 (1.8e19), exp (88.7), the vmath ranges (2^20, 4096, 1e18) */
    static const float edge[] = { 9.0f, 10.0f, 15.0f, 17.0f, 20.0f, 40.0f, 44.0f, 80.0f,
                                  87.0f, 87.5f, 88.0f, 88.7f, 88.8f, 89.0f, 90.0f, 100.0f,
                                  1e3f, 4096.0f, 1e4f, 1048576.0f, 1e6f, 1e9f, 1e10f, 1e15f,
                                  1e18f, 1.8e19f, 1.85e19f, 1e20f, 1e25f, 1e30f, 1e36f,
                                  3e38f };
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++)
        push_ulps(g, &k, cap, edge[i], 1);
    if (dbl) {
        static const double dx[] = { 1e-300, 1e-200, 1e-100, 1e-50, 1e-16, 1e-12, 1e-9,
                                     2e-5, 1e40, 1e100, 1e150, 1.2e154, 1.4e154, 1e160, 1e200,
                                     1e300 };
        for (size_t i = 0; i < sizeof dx / sizeof *dx; i++)
            push(g, &k, cap, dx[i]);
        for (int j = 1; j <= 20; j++)
            push(g, &k, cap, (double)tan_root(j));
    }
    *n = k;
    return g;
}

// ----------------------------------------------------------------------------
// checks

/*
 * The tolerance of a result against the reference r at x, in units u of the path (2^-24 float,
 * 2^-53 double):
 *     tol = K u (|r| + |x r'|) + floor,   K = 8
 * K u |r| is "a few ulps" (vmath's sin/cos are within 2.1 ulp, tan 3.8, and a derivative formula
 * adds a rounding or two); K u |x r'| is the error of rounding the input by K ulps, which no
 * formula can beat near a root of r (cos at pi/2 in float, sinc' at tan a = a) -- but it is
 * not slack near a removable singularity: for sinc' near 0, |x r'| = |r|, so a closed form that
 * loses 6/a^2 ulps fails from |a| ~ 0.8 down. floor: results below FLT_MIN (2^-126) are flushed
 * to 0 by the vector exp, or subnormal (absolute precision 2^-149), and a derivative scales
 * such an exp by at most 4 (tanh' = 4t/(1 + t)^2): 2^-122 (1.9e-37) covers both. The double
 * path's floor is the same argument at DBL_MIN: 2^-1018.
 */
#define TOL_K 8.0

typedef struct stats {
    double worst;       /* max err / tol */
    double ulps;        /* max (err - floor) / (u (|r| + |x r'|)) */
    int    bad;
} stats;

/* Records got against reference r (long double) in st; prints the first failures. */
static void check_one(stats *st, const char *what, const char *path, double x, double got,
                      LD r, LD xs, double u, double fmax_, double floor_)
{
    int ok;
    double err = 0, tol = TOL_K * u * (double)(fabsl(r) + xs) + floor_;
    if (isnan(r))
        ok = isnan(got);
    else if (fabsl(r) > (LD)fmax_)                    /* beyond the path's range: inf */
        ok = isinf(got) && (got > 0) == (r > 0);
    else if (!isfinite(got))
        ok = 0;
    else {
        err = (double)fabsl((LD)got - r);
        ok = err <= tol;
        if (fabsl(r) + xs > 0)                      /* ulps beyond the floor */
            st->ulps = fmax(st->ulps, fmax(err - floor_, 0) / (u * (double)(fabsl(r) + xs)));
        st->worst = fmax(st->worst, err / tol);
    }
    if (!ok) {
        if (st->bad < 4)
            fprintf(stderr, "    %s %s at x=%.9g: got %.9g ref %.9Lg tol %.3g\n", what, path,
                    x, got, r, tol);
        st->bad++;
    }
}

/* 1 if prog contains an instruction of op */
static int has_op(const act_expr_prog *p, int op)
{
    for (int i = 0; i < p->n; i++)
        if (p->ins[i].op == op)
            return 1;
    return 0;
}

enum { N_PATHS = ACT_ISA_COUNT + 1 };     /* the float program per ISA, then the double one */

void test_expr_accuracy_primitives(void)
{
    size_t nf, nd;
    double *gd = grid_new(&nd, 1), *gf = grid_new(&nf, 0);
    float *xf = malloc(nf * sizeof *xf), *yf = malloc(nf * sizeof *yf);
    float *df = malloc(nf * sizeof *df), *one = malloc(nf * sizeof *one);
    double *yd = malloc(nd * sizeof *yd), *dd = malloc(nd * sizeof *dd);
    LD *rf = malloc(nd * sizeof *rf), *rd = malloc(nd * sizeof *rd);
    LD *sf = malloc(nd * sizeof *sf), *sd = malloc(nd * sizeof *sd);
    if (!gd || !gf || !xf || !yf || !df || !one || !yd || !dd || !rf || !rd || !sf || !sd) {
        CHECK(!"out of memory");
        goto done;
    }
    for (size_t i = 0; i < nf; i++) {
        xf[i] = (float)gf[i];
        one[i] = 1.0f;
    }
    act_isa isa0 = act_isa_get();
    fprintf(stderr, "  max error in ulps of |r| + |x r'| (value / derivative); tolerance %g\n"
            "  %-20s", TOL_K, "");
    for (int pth = 0; pth < N_PATHS; pth++)
        fprintf(stderr, " %15s", pth < ACT_ISA_COUNT ? act_isa_name((act_isa)pth) : "double");
    fputc('\n', stderr);
    for (int k = 0; k < N_PRIMS; k++) {
        const struct prim *pr = &prims[k];
        act_expr *e = NULL;
        act_diag dg;
        act_expr_prog *p = NULL;
        CHECKF(act_expr_parse(pr->src, &e, &dg) == ACT_OK, "parse %s", pr->src);
        if (!e || act_expr_compile(e, &p) != ACT_OK) {
            CHECKF(0, "compile %s", pr->src);
            act_expr_free(e);
            continue;
        }
        if (pr->fused >= 0)
            CHECKF(has_op(p, pr->fused), "%s did not fuse", pr->src);
        for (size_t i = 0; i < nd; i++) {       /* the reference once, at the double grid */
            LD x = (LD)gd[i];
            rf[i] = pr->scale * pr->f(x);
            rd[i] = pr->scale * pr->d(x);
            sf[i] = ref_sens(pr, x, 0);
            sd[i] = ref_sens(pr, x, 1);
        }
        double ulp_f[N_PATHS], ulp_d[N_PATHS];
        int ran[N_PATHS] = { 0 };
        for (int pth = 0; pth < N_PATHS; pth++) {
            stats s0 = { 0, 0, 0 }, s1 = { 0, 0, 0 };
            char path[32];
            if (pth < ACT_ISA_COUNT) {
                if (!act_isa_supported((act_isa)pth))
                    continue;
                int rc_isa = act_isa_set((act_isa)pth);
                CHECKF(rc_isa == ACT_OK, "act_isa_set(%s): %s", act_isa_name((act_isa)pth),
                       act_strerror(rc_isa));
                if (rc_isa != ACT_OK)
                    continue;
                snprintf(path, sizeof path, "(float %s)", act_isa_name((act_isa)pth));
                CHECK(act_expr_forward(p, NULL, 0, xf, yf, act_shape_flat(nf)) == ACT_OK);
                CHECK(act_expr_backward(p, NULL, ACT_DX_ASSIGN, xf, one, df, NULL,
                                        act_shape_flat(nf)) == ACT_OK);
                /* gd starts with the float grid, so the references line up */
                for (size_t i = 0; i < nf; i++) {
                    check_one(&s0, pr->src, path, gf[i], yf[i], rf[i], sf[i], 0x1p-24,
                              FLT_MAX, 0x1p-122);
                    check_one(&s1, pr->src, path, gf[i], df[i], rd[i], sd[i], 0x1p-24,
                              FLT_MAX, 0x1p-122);
                }
            } else {
                snprintf(path, sizeof path, "(double)");
                for (size_t i = 0; i < nd; i++) {
                    dd[i] = 0;                  /* backward_d accumulates */
                    yd[i] = 1;                  /* dy */
                }
                CHECK(act_expr_backward_d(p, NULL, gd, yd, dd, NULL, nd) == ACT_OK);
                CHECK(act_expr_forward_d(p, NULL, gd, yd, nd) == ACT_OK);
                for (size_t i = 0; i < nd; i++) {
                    check_one(&s0, pr->src, path, gd[i], yd[i], rf[i], sf[i], 0x1p-53,
                              DBL_MAX, 0x1p-1018);
                    check_one(&s1, pr->src, path, gd[i], dd[i], rd[i], sd[i], 0x1p-53,
                              DBL_MAX, 0x1p-1018);
                }
            }
            if (s0.bad || s1.bad) {
                fprintf(stderr, "    %s %s: %d value and %d derivative points out of "
                        "tolerance (worst %.3g and %.3g x tol)\n", pr->src, path, s0.bad,
                        s1.bad, s0.worst, s1.worst);
                test_failures++;
            }
            ulp_f[pth] = s0.ulps;
            ulp_d[pth] = s1.ulps;
            ran[pth] = 1;
        }
        fprintf(stderr, "  %-20s", pr->src);
        for (int pth = 0; pth < N_PATHS; pth++) {
            char cell[32] = "-";
            if (ran[pth])
                snprintf(cell, sizeof cell, "%.2g / %.2g", ulp_f[pth], ulp_d[pth]);
            fprintf(stderr, " %15s", cell);
        }
        fputc('\n', stderr);
        act_expr_prog_free(p);
        act_expr_free(e);
    }
    CHECK(act_isa_set(isa0) == ACT_OK);
done:
    free(gd), free(gf), free(xf), free(yf), free(df), free(one);
    free(yd), free(dd), free(rf), free(rd), free(sf), free(sd);
}
