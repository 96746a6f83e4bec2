/* test_act_accuracy.c -- accuracy of every activation (value and every gradient) against the
 * long-double reference on a dense grid and special values, on every ISA path; finite-
 * difference gradient checks; ACON identities; per-channel layouts; thread reproducibility;
 * and the block vector math of src/act/vmath.h against double libm. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/act_kern.h"
#include "act/vmath.h"
#include "act_eval.h"
#include "actlab/act.h"
#include "actlab/expr.h"
#include "test.h"

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static float rng_unif(uint64_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)((double)(rng_next(s) >> 40) * 0x1p-24);
}

/* The grid: [-100, 100] in steps of 0.01, 4096 random points in [-30, 30], special values. */
static float *grid_new(size_t *n)
{
    static const float sp[] = { 0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-45f, -1e-45f, 1e-40f,
                                -1e-40f, FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX, 88.8f, -88.8f,
                                89, -89, 1e4f, -1e4f, 88.72283905f, -88.72283905f, 87.3f,
                                -87.3f, 1e-7f, -1e-7f, 1e-20f, -1e-20f, 3, -3, 6, 1e6f, -1e6f,
                                1e30f, -1e30f, 1e13f, -1e13f, 1e19f, -1e19f };
    size_t ns = sizeof sp / sizeof sp[0], m = 20001 + 4096 + ns;
    float *x = malloc(m * sizeof *x);
    size_t k = 0;
    for (int i = -10000; i <= 10000; i++)
        x[k++] = (float)(i * 0.01);
    uint64_t s = 42;
    for (int i = 0; i < 4096; i++)
        x[k++] = rng_unif(&s, -30, 30);
    for (size_t i = 0; i < ns; i++)
        x[k++] = sp[i];
    *n = k;
    return x;
}

/* |x * dr/dx| of output `w` (0 f, 1 d, 2 + k dp_k) of the reference, by a central difference
 * over x (1 +- 2^-16). */
static double ref_sens(act_act_id id, float x, const float *p, int w, const ref_val *r0)
{
    if (!isfinite(x) || x == 0.0f)
        return 0.0;
    if (w == 0)
        return fabs((double)x * r0->d);
    float xa = x * (1.0f + 0x1p-16f), xb = x * (1.0f - 0x1p-16f);
    ref_val ra, rb;
    ref_act_eval(id, xa, p, &ra);
    ref_act_eval(id, xb, p, &rb);
    double va = w == 1 ? ra.d : ra.dp[w - 2], vb = w == 1 ? rb.d : rb.dp[w - 2];
    double s = fabs((double)x * (va - vb) / ((double)xa - (double)xb));
    return isfinite(s) ? s : 0.0;
}

typedef struct acc_stats {
    double worst;      /* max err/tol */
    double maxrel[2];  /* max relative error where |ref| >= 1e-6: forward, backward */
} acc_stats;

/* Checks one ISA (strict or condition-aware) over the grid for every activation and
 * parameter set; prints the max relative errors per activation. */
static void accuracy_on(act_isa isa, int strict)
{
    size_t n;
    float *x = grid_new(&n);
    float *f = malloc(n * sizeof *f), *d = malloc(n * sizeof *d);
    float *dp = malloc(3 * n * sizeof *dp);
    int rc = act_isa_set(isa);
    CHECKF(rc == ACT_OK, "act_isa_set(%s): %s", act_isa_name(isa), act_strerror(rc));
    if (rc != ACT_OK) {
        free(x), free(f), free(d), free(dp);
        return;
    }
    fprintf(stderr, "  accuracy %s (%s): max rel err fwd / bwd (|ref| >= 1e-6)\n",
            act_isa_name(isa), strict ? "strict" : "condition-aware");
    for (int id = 0; id < ACT_ACT_COUNT; id++) {
        const act_act_desc *desc = act_act_info((act_act_id)id);
        acc_stats st = { 0, { 0, 0 } };
        int bad = 0;
        for (int set = 0; set < act_n_psets((act_act_id)id); set++) {
            float p[3];
            act_pset((act_act_id)id, set, p);
            act_eval((act_act_id)id, p, x, n, f, d, dp);
            for (size_t i = 0; i < n; i++) {
                ref_val r;
                ref_act_eval((act_act_id)id, x[i], p, &r);
                for (int w = 0; w < 2 + desc->n_params; w++) {
                    double rv = w == 0 ? r.f : (w == 1 ? r.d : r.dp[w - 2]);
                    double t = w == 0 ? r.tf : (w == 1 ? r.td : r.tdp[w - 2]);
                    double got = w == 0 ? f[i] : (w == 1 ? d[i] : dp[(size_t)(w - 2) * n + i]);
                    double xs = strict ? 0.0 : ref_sens((act_act_id)id, x[i], p, w, &r);
                    double tol = act_tol(rv, t, xs, strict);
                    if (!act_ok(got, rv, tol)) {
                        if (bad++ < 5)
                            fprintf(stderr, "    %s set %d out %d x=%.9g: got %.9g ref %.9g "
                                    "tol %.3g\n", desc->name, set, w, x[i], got, rv, tol);
                        test_failures += bad == 1;
                        continue;
                    }
                    if (isfinite(rv) && fabs(rv) >= 1e-6 && fabs(rv) < 3e38) {
                        double e = fabs(got - rv) / fabs(rv);
                        st.maxrel[w > 0] = fmax(st.maxrel[w > 0], e);
                    }
                }
            }
        }
        fprintf(stderr, "    %-12s %.2e / %.2e%s\n", desc->name, st.maxrel[0], st.maxrel[1],
                bad ? "  FAIL" : "");
    }
    CHECK(act_isa_set(act_isa_best()) == ACT_OK);
    free(x), free(f), free(d), free(dp);
}

void test_act_accuracy_scalar(void)
{
    accuracy_on(ACT_ISA_SCALAR, 1);
}

void test_act_accuracy_simd(void)
{
    for (int isa = 1; isa < ACT_ISA_COUNT; isa++)
        if (act_isa_supported((act_isa)isa))
            accuracy_on((act_isa)isa, 0);
}

// ----------------------------------------------------------------------------
// finite differences (double arithmetic on the scalar path), defaults and perturbed params

static int near_kink(act_act_id id, const float *p, float x, double h)
{
    const act_act_desc *d = act_act_info(id);
    for (int k = 0; k < d->n_kinks; k++)
        if (fabs((double)x - d->kinks[k]) <= 2 * h)
            return 1;
    if (id == ACT_ACT_SMU1 && fabsf(p[1]) < 1e-3f && fabs(x) <= 2 * h)   /* kink of width ~mu */
        return 1;
    if (id == ACT_ACT_SMU && p[1] > 1e3f && fabs(x) <= 2 * h)     /* kink of width ~1/mu */
        return 1;
    if (id == ACT_ACT_SOFTPLUS && fabs((double)p[0] * x - p[1]) <= 2 * fabs(p[0]) * h)
        return 1;                                             /* PyTorch threshold switch */
    return 0;
}

static double f_at(act_act_id id, const float *p, float x)
{
    float y;
    int rc = act_act_forward(id, p, 0, &x, &y, act_shape_flat(1));
    CHECKF(rc == ACT_OK, "%s forward at x=%g p=(%g, %g, %g): %s", act_act_info(id)->name, x,
           p[0], p[1], p[2], act_strerror(rc));
    return rc == ACT_OK ? y : NAN;
}

/* Central differences with steps h and h/2 (the float steps actually taken), combined by
 * Richardson extrapolation: the truncation error is O(h^4), which keeps the check exact enough
 * where f grows exponentially in a parameter (celu with alpha < 0: e^(x/alpha)). */
static double fd_x(act_act_id id, const float *p, float x, double h)
{
    double d[2];
    for (int j = 0; j < 2; j++) {
        float xa = (float)(x + h / (1 + j)), xb = (float)(x - h / (1 + j));
        d[j] = (f_at(id, p, xa) - f_at(id, p, xb)) / ((double)xa - (double)xb);
    }
    return d[1] + (d[1] - d[0]) / 3.0;
}

static double fd_p(act_act_id id, const float *p, int k, float x, double h)
{
    double d[2];
    for (int j = 0; j < 2; j++) {
        float pa[ACT_ACT_MAX_PARAMS], pb[ACT_ACT_MAX_PARAMS];
        memcpy(pa, p, sizeof pa);
        memcpy(pb, p, sizeof pb);
        pa[k] = (float)(p[k] + h / (1 + j));
        pb[k] = (float)(p[k] - h / (1 + j));
        d[j] = (f_at(id, pa, x) - f_at(id, pb, x)) / ((double)pa[k] - (double)pb[k]);
    }
    return d[1] + (d[1] - d[0]) / 3.0;
}

void test_act_gradcheck(void)
{
    static const float xs[] = { -7.3f, -4.1f, -2.6f, -1.7f, -1.1f, -0.62f, -0.27f, -0.04f, 0,
                                0.09f, 0.33f, 0.71f, 1.3f, 2.2f, 3.4f, 5.9f, 8.8f, 14.5f };
    enum { NX = sizeof xs / sizeof xs[0] };
    CHECK(act_isa_set(ACT_ISA_SCALAR) == ACT_OK);
    for (int id = 0; id < ACT_ACT_COUNT; id++) {
        const act_act_desc *desc = act_act_info((act_act_id)id);
        int checked[1 + ACT_ACT_MAX_PARAMS] = { 0 };    /* df/dx, df/dp_k checks made */
        for (int set = 0; set < act_n_psets((act_act_id)id); set++) {
            float p[3], f[NX], d[NX], dp[3 * NX];
            act_pset((act_act_id)id, set, p);
            act_eval((act_act_id)id, p, xs, NX, f, d, dp);
            int nonzero = 0;
            for (int i = 0; i < NX; i++) {
                double h = 1e-3 * fmax(1.0, fabs(xs[i]));
                if (near_kink((act_act_id)id, p, xs[i], h))
                    continue;
                double fd = fd_x((act_act_id)id, p, xs[i], h);
                CHECK_CLOSE(d[i], fd, 1e-3, 1e-3, "%s set %d df/dx at x=%g", desc->name, set,
                            xs[i]);
                checked[0]++;
                nonzero += fabs(d[i]) > 1e-3;
                for (int k = 0; k < desc->n_params; k++) {
                    if (fabs(p[k]) < 1e-3f)     /* SMU-1 mu = 4e-9, ACON-C p2 = 0: below float FD */
                        continue;
                    double hp = 1e-3 * fmax(1.0, fabs(p[k]));
                    float pa[3], pb[3];
                    memcpy(pa, p, sizeof pa);
                    memcpy(pb, p, sizeof pb);
                    pa[k] = (float)(p[k] + hp);
                    pb[k] = (float)(p[k] - hp);
                    if (id == ACT_ACT_SOFTPLUS && (near_kink((act_act_id)id, pa, xs[i], h) ||
                                                   near_kink((act_act_id)id, pb, xs[i], h)))
                        continue;
                    double fdp = fd_p((act_act_id)id, p, k, xs[i], hp);
                    CHECK_CLOSE(dp[k * NX + i], fdp, 1e-3, 1e-3, "%s set %d df/d%s at x=%g",
                                desc->name, set, desc->param_names[k], xs[i]);
                    checked[1 + k]++;
                }
            }
            CHECKF(nonzero > 0, "%s set %d: all gradients zero", desc->name, set);
        }
        /* every gradient of every row is checked somewhere: no skip rule may swallow one */
        CHECKF(checked[0] > 0, "%s: df/dx never checked", desc->name);
        for (int k = 0; k < desc->n_params; k++)
            CHECKF(checked[1 + k] > 0, "%s: df/d%s never checked against finite differences",
                   desc->name, desc->param_names[k]);
    }
    CHECK(act_isa_set(act_isa_best()) == ACT_OK);
}

// ----------------------------------------------------------------------------
// identities: ACON-C(1, 0, 1) == silu == swish(1) == acon_a(1); acon_b(p, b) == acon_c(1, p, b)

void test_act_acon_identities(void)
{
    enum { N = 1000 };
    float x[N];
    uint64_t s = 9;
    for (int i = 0; i < N; i++)
        x[i] = rng_unif(&s, -12, 12);
    for (int isa = 0; isa < ACT_ISA_COUNT; isa++) {
        if (!act_isa_supported((act_isa)isa))
            continue;
        int rc_isa = act_isa_set((act_isa)isa);
        CHECKF(rc_isa == ACT_OK, "act_isa_set(%s): %s", act_isa_name((act_isa)isa),
               act_strerror(rc_isa));
        if (rc_isa != ACT_OK)
            continue;
        static float f[5][N], d[5][N], dp[5][3 * N];
        const float pc[3] = { 1, 0, 1 }, one = 1.0f;
        act_eval(ACT_ACT_SILU, NULL, x, N, f[0], d[0], NULL);
        act_eval(ACT_ACT_ACON_C, pc, x, N, f[1], d[1], dp[1]);
        act_eval(ACT_ACT_SWISH, &one, x, N, f[2], d[2], dp[2]);
        act_eval(ACT_ACT_ACON_A, &one, x, N, f[3], d[3], dp[3]);
        for (int i = 0; i < N; i++) {
            for (int j = 1; j < 4; j++) {
                CHECK_CLOSE(f[j][i], f[0][i], 1e-30, 1e-6, "f %d x=%g isa %d", j, x[i], isa);
                CHECK_CLOSE(d[j][i], d[0][i], 1e-7, 1e-6, "d %d x=%g isa %d", j, x[i], isa);
            }
            CHECK_CLOSE(dp[1][2 * N + i], dp[2][i], 1e-30, 1e-6, "dbeta x=%g", x[i]);
            CHECK(dp[3][i] == dp[2][i]);
        }
        const float pb[2] = { 0.35f, 1.9f }, pcb[3] = { 1.0f, 0.35f, 1.9f };
        act_eval(ACT_ACT_ACON_B, pb, x, N, f[0], d[0], dp[0]);
        act_eval(ACT_ACT_ACON_C, pcb, x, N, f[1], d[1], dp[1]);
        for (int i = 0; i < N; i++) {
            CHECK_CLOSE(f[0][i], f[1][i], 1e-30, 1e-6, "acon_b f x=%g", x[i]);
            CHECK_CLOSE(d[0][i], d[1][i], 1e-7, 1e-6, "acon_b d x=%g", x[i]);
            CHECK_CLOSE(dp[0][i], dp[1][N + i], 1e-7, 1e-6, "acon_b dp x=%g", x[i]);
            CHECK_CLOSE(dp[0][N + i], dp[1][2 * N + i], 1e-7, 1e-6, "acon_b db x=%g", x[i]);
        }
    }
    CHECK(act_isa_set(act_isa_best()) == ACT_OK);
}

// ----------------------------------------------------------------------------
// per-channel layouts (N, C) and (N, C, H, W) against per-slice calls with scalar params

static void layout_case(act_act_id id, size_t N, size_t C, size_t I, uint64_t seed)
{
    const act_act_desc *desc = act_act_info(id);
    int np = desc->n_params;
    size_t n = N * C * I;
    float *x = malloc(n * sizeof *x), *dy = malloc(n * sizeof *dy);
    float *y = malloc(n * sizeof *y), *dx = malloc(n * sizeof *dx);
    float *xs = malloc(N * I * sizeof *xs), *ys = malloc(N * I * sizeof *ys);
    float *dys = malloc(N * I * sizeof *dys), *dxs = malloc(N * I * sizeof *dxs);
    float *p = malloc((size_t)(np ? np : 1) * C * sizeof *p);
    float *dp = calloc((size_t)(np ? np : 1) * C, sizeof *dp);
    float *dpe = malloc((size_t)(np ? np : 1) * N * I * sizeof *dpe);   /* df/dp_k per element */
    float *fe = malloc(N * I * sizeof *fe), *de = malloc(N * I * sizeof *de);
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        x[i] = rng_unif(&s, -5, 5);
        dy[i] = rng_unif(&s, -1, 1);
        dx[i] = 0.5f;                                   /* backward accumulates */
    }
    for (size_t c = 0; c < C; c++) {
        float q[3];
        act_pset(id, (int)(c % (size_t)act_n_psets(id)), q);
        for (int k = 0; k < np; k++)
            p[(size_t)k * C + c] = q[k];
    }
    act_shape sh = { N, C, I };
    CHECK(act_act_forward(id, p, ACT_PER_CHANNEL, x, y, sh) == ACT_OK);
    CHECK(act_act_backward(id, p, ACT_PER_CHANNEL, x, dy, dx, dp, sh) == ACT_OK);
    for (size_t c = 0; c < C; c++) {
        float q[3], g[3] = { 0, 0, 0 };
        for (int k = 0; k < np; k++)
            q[k] = p[(size_t)k * C + c];
        for (size_t o = 0; o < N; o++)
            for (size_t i = 0; i < I; i++) {
                xs[o * I + i] = x[(o * C + c) * I + i];
                dys[o * I + i] = dy[(o * C + c) * I + i];
                dxs[o * I + i] = 0.5f;
            }
        int rf = act_act_forward(id, q, 0, xs, ys, act_shape_flat(N * I));
        int rb = act_act_backward(id, q, 0, xs, dys, dxs, g, act_shape_flat(N * I));
        CHECKF(rf == ACT_OK && rb == ACT_OK, "%s per-slice c=%zu: forward %s, backward %s",
               desc->name, c, act_strerror(rf), act_strerror(rb));
        if (rf != ACT_OK || rb != ACT_OK)
            continue;
        /* the sums of dy df/dp_k are compared to 1e-5 of the sum of the magnitudes of their
         * terms, or of 10 |dy| where df/dp_k is small */
        double gabs[1 + ACT_ACT_MAX_PARAMS] = { 0 };
        if (np > 0)
            act_eval(id, q, xs, N * I, fe, de, dpe);
        for (size_t o = 0; o < N; o++)
            for (size_t i = 0; i < I; i++) {
                size_t a = (o * C + c) * I + i, b = o * I + i;
                CHECK_CLOSE(y[a], ys[b], 1e-6, 4e-6, "%s y (%zu,%zu,%zu)", desc->name, N, C, I);
                CHECK_CLOSE(dx[a], dxs[b], 1e-6, 4e-6, "%s dx (%zu,%zu,%zu)", desc->name, N, C,
                            I);
                gabs[0] += fabs(dys[b]) * 10;
                for (int k = 0; k < np; k++)
                    gabs[1 + k] += fabs(dys[b] * dpe[(size_t)k * N * I + b]);
            }
        for (int k = 0; k < np; k++)
            CHECK_CLOSE(dp[(size_t)k * C + c], g[k], 1e-5 * fmax(gabs[0], gabs[1 + k]), 1e-5,
                        "%s dp%d c=%zu", desc->name, k, c);
    }
    free(x), free(dy), free(y), free(dx), free(xs), free(ys), free(dys), free(dxs);
    free(p), free(dp), free(dpe), free(fe), free(de);
}

void test_act_per_channel_layout(void)
{
    for (int isa = 0; isa < ACT_ISA_COUNT; isa++) {
        if (!act_isa_supported((act_isa)isa))
            continue;
        int rc_isa = act_isa_set((act_isa)isa);
        CHECKF(rc_isa == ACT_OK, "act_isa_set(%s): %s", act_isa_name((act_isa)isa),
               act_strerror(rc_isa));
        if (rc_isa != ACT_OK)
            continue;
        for (int id = 0; id < ACT_ACT_COUNT; id++) {
            layout_case((act_act_id)id, 37, 53, 1, 1);            /* (N, C), C > strip tail */
            layout_case((act_act_id)id, 5, 150, 1, 2);
            layout_case((act_act_id)id, 3, 4, 37, 3);             /* (N, C, H, W) */
            layout_case((act_act_id)id, 2, 3, 1, 4);
            layout_case((act_act_id)id, 300, 40, 1, 5);           /* row groups, one chunk */
            layout_case((act_act_id)id, 130, 600, 1, 6);          /* several column chunks */
            layout_case((act_act_id)id, 70, 24, 4, 7);            /* rows with inner 4 */
        }
    }
    CHECK(act_isa_set(act_isa_best()) == ACT_OK);
}

// ----------------------------------------------------------------------------
// thread-count independence of the results (above the threading threshold)

static void threads_case(act_act_id id, act_shape sh, unsigned flags)
{
    const act_act_desc *desc = act_act_info(id);
    int np = desc->n_params;
    size_t n = sh.outer * sh.channels * sh.inner;
    size_t npc = (flags & ACT_PER_CHANNEL) ? sh.channels : 1;
    float *x = malloc(n * sizeof *x), *dy = malloc(n * sizeof *dy);
    float *y[2], *dx[2], *dp[2];
    float *p = malloc((size_t)(np ? np : 1) * npc * sizeof *p);
    uint64_t s = 5;
    for (size_t i = 0; i < n; i++) {
        x[i] = rng_unif(&s, -6, 6);
        dy[i] = rng_unif(&s, -1, 1);
    }
    for (size_t c = 0; c < npc; c++) {
        float q[3];
        act_pset(id, (int)(c % (size_t)act_n_psets(id)), q);
        for (int k = 0; k < np; k++)
            p[(size_t)k * npc + c] = q[k];
    }
    int ok = 1;
    for (int t = 0; t < 2; t++) {
        y[t] = malloc(n * sizeof *y[t]);
        dx[t] = malloc(n * sizeof *dx[t]);
        dp[t] = calloc((size_t)(np ? np : 1) * npc, sizeof *dp[t]);
        const char *what = "act_threads_set";
        int rc = act_threads_set(t + 1);
        if (rc == ACT_OK) {
            what = "forward";
            rc = act_act_forward(id, p, flags, x, y[t], sh);
        }
        if (rc == ACT_OK) {
            what = "backward";
            rc = act_act_backward(id, p, flags | ACT_DX_ASSIGN, x, dy, dx[t], dp[t], sh);
        }
        CHECKF(rc == ACT_OK, "%s flags %u, %d threads: %s: %s", desc->name, flags, t + 1, what,
               act_strerror(rc));
        ok = ok && rc == ACT_OK;
    }
    if (ok) {
        CHECKF(memcmp(y[0], y[1], n * sizeof(float)) == 0, "%s y", desc->name);
        CHECKF(memcmp(dx[0], dx[1], n * sizeof(float)) == 0, "%s dx", desc->name);
        CHECKF(memcmp(dp[0], dp[1], (size_t)np * npc * sizeof(float)) == 0, "%s dp flags %u",
               desc->name, flags);
    }
    for (int t = 0; t < 2; t++)
        free(y[t]), free(dx[t]), free(dp[t]);
    free(x), free(dy), free(p);
}

/* Empty tensors of every layout are no-ops that return ACT_OK (inner = 0 once divided by zero),
 * for the built-ins and a compiled expression. */
void test_act_empty_shapes(void)
{
    const act_shape shapes[] = { { 2, 3, 0 }, { 0, 3, 4 }, { 0, 0, 0 }, { 2, 0, 5 }, { 0, 3, 0 } };
    float p[3 * ACT_ACT_MAX_PARAMS], dp[3 * ACT_ACT_MAX_PARAMS];
    float x = 1.0f, y = 2.0f, dy = 1.0f, dx = 3.0f;   /* never touched: n = 0 */
    act_expr *e;
    act_expr_prog *prog = NULL;
    CHECK(act_expr_parse("max(x, sigmoid(beta*x))", &e, NULL) == ACT_OK);
    CHECK(act_expr_compile(e, &prog) == ACT_OK);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        act_shape s = shapes[i];
        for (unsigned fl = 0; fl <= ACT_PER_CHANNEL; fl += ACT_PER_CHANNEL) {
            for (int id = 0; id < ACT_ACT_COUNT; id++) {
                const act_act_desc *d = act_act_info((act_act_id)id);
                for (int k = 0; k < 3 * d->n_params; k++)
                    p[k] = d->defaults[k / 3];
                CHECKF(act_act_forward((act_act_id)id, p, fl, &x, &y, s) == ACT_OK,
                       "%s shape %zu", d->name, i);
                CHECKF(act_act_backward((act_act_id)id, p, fl, &x, &dy, &dx, dp, s) == ACT_OK,
                       "%s shape %zu", d->name, i);
            }
            p[0] = p[1] = p[2] = 1.0f;
            CHECKF(act_expr_forward(prog, p, fl, &x, &y, s) == ACT_OK, "expr shape %zu", i);
            CHECKF(act_expr_backward(prog, p, fl, &x, &dy, &dx, dp, s) == ACT_OK,
                   "expr shape %zu", i);
        }
    }
    CHECK(y == 2.0f && dx == 3.0f);
    act_expr_prog_free(prog);
    act_expr_free(e);
}

void test_act_threads_bitwise(void)
{
    int t0 = act_threads_get();
    for (int id = 0; id < ACT_ACT_COUNT; id++) {
        act_shape flat = act_shape_flat((3u << 16) + 123);
        act_shape nc = { 2500, 67, 1 }, nchw = { 3, 5, (1u << 14) + 3 };
        threads_case((act_act_id)id, flat, 0);
        threads_case((act_act_id)id, nc, ACT_PER_CHANNEL);
        threads_case((act_act_id)id, nchw, ACT_PER_CHANNEL);
        act_shape dense = { 3000, 40, 1 }, wide = { 200, 1000, 1 }, in2 = { 600, 300, 2 };
        threads_case((act_act_id)id, dense, ACT_PER_CHANNEL);   /* row groups */
        threads_case((act_act_id)id, wide, ACT_PER_CHANNEL);    /* column chunks */
        threads_case((act_act_id)id, in2, ACT_PER_CHANNEL);
    }
    CHECK(act_threads_set(t0) == ACT_OK);
}

// ----------------------------------------------------------------------------
// non-temporal forward: the same values as the plain forward for every alignment of y, every
// short length, in place, and through act_act_forward at a DRAM-sized n

/* NaN in the same places; equal bitwise for the kernels whose vector and scalar paths agree
 * exactly (relu, leaky_relu, prelu, relu6); else to 1e-5, since the lanes that take the scalar
 * reference (tails, vectors with a NaN) depend on the alignment of y (1e-5: gelu_tanh and
 * smu1 differ from their scalar reference by up to 1.2e-6 near their zeros). */
static int nt_differ(const float *a, const float *b, int n, int exact)
{
    for (int i = 0; i < n; i++) {
        if (isnan(a[i]) != isnan(b[i]))
            return 1;
        if (isnan(a[i]) || memcmp(&a[i], &b[i], sizeof a[i]) == 0)
            continue;
        if (exact || fabsf(a[i] - b[i]) > 1e-5f * fabsf(a[i]) + 1e-12f)
            return 1;
    }
    return 0;
}

static int nt_exact(int id)
{
    return id == ACT_ACT_RELU || id == ACT_ACT_LEAKY_RELU || id == ACT_ACT_PRELU ||
           id == ACT_ACT_RELU6;
}

void test_act_nt_stores(void)
{
    enum { N = 300, BIGN = (1 << 22) + 37 };
    static float x[N + 16], y0[N + 16], y1[N + 16];
    uint64_t s = 5;
    for (int i = 0; i < N + 16; i++)
        x[i] = i % 97 == 0 ? NAN : rng_unif(&s, -8, 8);
    for (int isa = ACT_ISA_AVX2; isa < ACT_ISA_COUNT; isa++) {
        if (!act_isa_supported((act_isa)isa))
            continue;
        const acti_kern *kt = isa == ACT_ISA_AVX512 ? acti_kern_avx512 : acti_kern_avx2;
        for (int id = 0; id < ACT_ACT_COUNT; id++) {
            if (!kt[id].fwd)                        /* vec 0: the scalar reference only */
                continue;
            float p[ACT_ACT_MAX_PARAMS], q[ACTI_Q_MAX];
            act_pset((act_act_id)id, act_n_psets((act_act_id)id) > 1, p);
            acti_act_prep((act_act_id)id, p, q);
            int exact = nt_exact(id);
            int bad = 0;
            for (int off = 0; off < 16; off++)
                for (int n = 0; n <= N; n += n < 40 ? 1 : 37) {
                    kt[id].fwd(q, p, x + off, y0 + off, (size_t)n);
                    for (int inplace = 0; inplace < 2; inplace++) {
                        memcpy(y1 + off, x + off, (size_t)n * sizeof(float));
                        kt[id].fwdnt(q, p, inplace ? y1 + off : x + off, y1 + off, (size_t)n);
                        bad += nt_differ(y0 + off, y1 + off, n, exact);
                    }
                }
            CHECKF(bad == 0, "fwdnt %s isa %s: %d mismatches",
                   act_act_info((act_act_id)id)->name, act_isa_name((act_isa)isa), bad);
        }
    }
    CHECK(act_isa_set(act_isa_best()) == ACT_OK);
    const acti_kern *kb = act_isa_best() == ACT_ISA_AVX512 ? acti_kern_avx512 : acti_kern_avx2;
    float *bx = malloc((size_t)BIGN * sizeof *bx), *by = malloc((size_t)(BIGN + 3) * sizeof *by);
    float *br = malloc((size_t)BIGN * sizeof *br);
    CHECK(bx && by && br);
    for (int i = 0; bx && by && br && i < BIGN; i++)
        bx[i] = (float)(i % 2001 - 1000) * 0.01f;
    for (int id = 0; bx && by && br && act_isa_best() != ACT_ISA_SCALAR && id < ACT_ACT_COUNT;
         id++) {
        if (!acti_act_plan((act_act_id)id, BIGN).nt)      /* the rows that stream (cost MEM) */
            continue;
        const float *p = act_act_info((act_act_id)id)->defaults;
        float q[ACTI_Q_MAX];
        acti_act_prep((act_act_id)id, p, q);
        kb[id].fwd(q, p, bx, br, BIGN);
        CHECK(act_act_forward((act_act_id)id, NULL, 0, bx, by + 3, act_shape_flat(BIGN)) == ACT_OK);
        CHECKF(!nt_differ(br, by + 3, BIGN, nt_exact(id)), "%s at 2^22+37",
               act_act_info((act_act_id)id)->name);
        /* the streaming path gives the same bits for 1 and 2 threads (it did not for
         * hardsigmoid and hardswish: one call's head and tail against per-block ones) */
        int t0 = act_threads_get();
        memcpy(br, by + 3, (size_t)BIGN * sizeof *br);   /* the same y, the same alignment */
        CHECK(act_threads_set(t0 == 1 ? 2 : 1) == ACT_OK);
        CHECK(act_act_forward((act_act_id)id, NULL, 0, bx, by + 3, act_shape_flat(BIGN)) == ACT_OK);
        CHECK(act_threads_set(t0) == ACT_OK);
        CHECKF(!memcmp(br, by + 3, (size_t)BIGN * sizeof *br), "%s at 2^22+37: threads %d and "
               "%d differ", act_act_info((act_act_id)id)->name, t0, t0 == 1 ? 2 : 1);
    }
    free(br);
    free(bx);
    free(by);
}

// ----------------------------------------------------------------------------
// vmath blocks against double libm

static double d_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double d_softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

/* cond: 1 allows the input-conditioning term |x f'(x)| in the vector tolerance (act_tol);
 * the functions written for vmath (log ... atan) meet 1e-6 |f| + 8 ulp without it, sin, cos
 * and tan over |x| <= 2^20 (the fast reduction's range; beyond it, libm) included. */
static const struct {
    const char *name;
    void (*fn)(const float *, float *, size_t);
    double (*ref)(double);
    float lo, hi;
    int cond;
} vm_cases[] = {
    { "exp", acti_vec_exp, exp, -104, 89, 1 },        { "expm1", acti_vec_expm1, expm1, -30, 89, 1 },
    { "log", acti_vec_log, log, 0, 1e30f, 0 },        { "log1p", acti_vec_log1p, log1p, -1, 1e6f, 0 },
    { "sqrt", acti_vec_sqrt, sqrt, 0, 1e30f, 1 },     { "sin", acti_vec_sin, sin, -2e6f, 2e6f, 0 },
    { "cos", acti_vec_cos, cos, -2e6f, 2e6f, 0 },     { "tan", acti_vec_tan, tan, -2e6f, 2e6f, 0 },
    { "sinh", acti_vec_sinh, sinh, -90, 90, 0 },      { "cosh", acti_vec_cosh, cosh, -90, 90, 0 },
    { "tanh", acti_vec_tanh, tanh, -20, 20, 1 },      { "asinh", acti_vec_asinh, asinh, -1e20f, 1e20f, 0 },
    { "atan", acti_vec_atan, atan, -1e4f, 1e4f, 0 },  { "erf", acti_vec_erf, erf, -6, 6, 1 },
    { "erfc", acti_vec_erfc, erfc, -6, 10.5f, 1 },    { "sigmoid", acti_vec_sigmoid, d_sigmoid, -104, 104, 1 },
    { "softplus", acti_vec_softplus, d_softplus, -104, 200, 1 },
};

/* special inputs: NaN, infinities, signed zeros, the float range ends, subnormals, the
 * domain edges of log/log1p, the trig reduction's edge, values near multiples of pi/2 */
static const float vm_special[] = {
    NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-30f, -1e-30f, 1e-40f, -1e-40f, 1.17549435e-38f,
    3.40282347e38f, -3.40282347e38f, 1.0f, -1.0f, 0.5f, -0.5f, -0.99999994f, -1.0000001f,
    1048576.0f, -1048576.0f, 1048576.1f, 1e7f, 1e30f, -1e30f, 1.5707964f, 3.1415927f,
    -4.712389f, 355.0f, 103993.0f, 88.7f, 89.4f, -89.4f, 89.5f, 4096.0f, 4097.0f, 1e18f,
    2e18f, 2.4142137f, 0.41421357f, 1.4142135f, 1e-4f, -1e-4f, 2.0f, -2.0f,
};
#define VM_NSPECIAL (sizeof vm_special / sizeof vm_special[0])

void test_act_vmath_accuracy(void)
{
    enum { N = 40000 };
    static float x[N + VM_NSPECIAL], y[N + VM_NSPECIAL];
    const int M = N + (int)VM_NSPECIAL;
    for (int isa = 0; isa < ACT_ISA_COUNT; isa++) {
        if (!act_isa_supported((act_isa)isa))
            continue;
        int rc_isa = act_isa_set((act_isa)isa);
        CHECKF(rc_isa == ACT_OK, "act_isa_set(%s): %s", act_isa_name((act_isa)isa),
               act_strerror(rc_isa));
        if (rc_isa != ACT_OK)
            continue;
        for (size_t c = 0; c < sizeof vm_cases / sizeof vm_cases[0]; c++) {
            uint64_t s = 77;
            for (int i = 0; i < N; i++) {
                float lo = vm_cases[c].lo, hi = vm_cases[c].hi;
                x[i] = i < N / 2 ? lo + (hi - lo) * (float)i / (N / 2)
                                 : rng_unif(&s, fmaxf(lo, -8), fminf(hi, 8));
            }
            for (size_t k = 0; k < VM_NSPECIAL; k++)
                x[N + k] = vm_special[k];
            vm_cases[c].fn(x, y, (size_t)M);
            double worst = 0;
            int bad = 0;
            for (int i = 0; i < M; i++) {
                double r = vm_cases[c].ref((double)x[i]);
                double xs = 0;
                if (vm_cases[c].cond && isa != ACT_ISA_SCALAR && isfinite(x[i]) && x[i] != 0.0f) {
                    double h = fabs((double)x[i]) * 0x1p-20;
                    xs = fabs((double)x[i] * (vm_cases[c].ref(x[i] + h) -
                                              vm_cases[c].ref(x[i] - h)) / (2 * h));
                    if (!isfinite(xs))
                        xs = 0;
                }
                double tol = act_tol(r, fabs(r), xs, isa == ACT_ISA_SCALAR);
                int ok = act_ok(y[i], r, tol);
                if (ok && r == 0.0 && y[i] == 0.0f)          /* signed zeros as libm */
                    ok = !signbit(r) == !signbit(y[i]);
                if (!ok) {
                    if (bad++ < 3)
                        fprintf(stderr, "    vmath %s isa %s x=%.9g got %.9g ref %.9g\n",
                                vm_cases[c].name, act_isa_name((act_isa)isa), x[i], y[i], r);
                } else if (fabs(r) >= 1e-6 && isfinite(r) && isfinite(y[i])) {
                    worst = fmax(worst, fabs(y[i] - r) / fabs(r));
                }
            }
            CHECKF(bad == 0, "vmath %s isa %s: %d bad", vm_cases[c].name,
                   act_isa_name((act_isa)isa), bad);
            if (isa != ACT_ISA_SCALAR)
                fprintf(stderr, "  vmath %-8s %-6s max rel err %.2e\n", vm_cases[c].name,
                        act_isa_name((act_isa)isa), worst);
        }
    }
    CHECK(act_isa_set(act_isa_best()) == ACT_OK);
}
