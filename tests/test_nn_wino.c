/* test_nn_wino.c -- the Winograd F(4x4, 3x3) convolution (src/nn/winograd.c) against a naive
 * double-precision reference (forward, dx, dw, db) over many shapes, batch 1 and 3, 1 and 2
 * threads, on every instruction set this CPU has; plus a net of Winograd layers against the
 * same net computed with the plain sums, and a directional finite-difference check of it. */
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "actlab/nn.h"
#include "nn/nn_impl.h"
#include "ref_conv.h"
#include "test.h"

/* Tolerance, relative to the sum of the absolute values of the terms of each output (so that
 * cancellation cannot hide or fake an error). F(4x4, 3x3) with points 0, +-1, +-2 rounds every
 * term through the transforms: the 2-D input transform amplifies by up to (row sum of |B^T|)^2
 * = 10^2, the output transform by up to 19 per dimension (A^T's row 1, 1, 8, 8, 1), against
 * G's 1/4 .. 1/24; a crude bound is eps * 100 * 19 ~ 1.1e-4 of the sum of |terms|, and dw also
 * sums many tiles in float. Measured worst over the cases below (the same on avx512, avx2 and
 * scalar; ACTLAB_WINO_VERBOSE=1 prints it): fwd 5.3e-6, dx 1.8e-6, dw 7.5e-6. 2e-5 leaves 2.7x
 * margin and still fails when one transform coefficient is off by 1e-4 (checked by mutation). */
#define WINO_TOL 2e-5

typedef struct wcase { int c, h, w, oc, p; } wcase;

static int b_one(act_net *net, void *ctx, act_diag *diag)
{
    (void)diag;
    const wcase *c = ctx;
    return acti_conv_add(net, 0, c->oc, 3, 1, c->p, 1);
}

/* worst |err| / sum|terms| over n values */
static double rel_err(const float *got, const double *ref, const double *abs_sum, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - ref[i]) / fmax(abs_sum[i], 1e-30);
        if (!(e <= worst))   /* NaN too */
            worst = isnan(e) ? INFINITY : e;
    }
    return worst;
}

static void wino_case(const wcase *cc, int N, int threads, uint64_t seed, double worst[3])
{
    int OH = cc->h + 2 * cc->p - 2, OW = cc->w + 2 * cc->p - 2;
    const ref_conv_shape rs = { N, cc->c, cc->h, cc->w, cc->oc, 3, 1, cc->p, OH, OW };
    size_t nx = (size_t)N * (size_t)(cc->c * cc->h * cc->w), ny = (size_t)N * (size_t)(cc->oc * OH * OW);
    size_t nw = (size_t)(cc->oc * cc->c * 9);
    float *x = malloc(nx * sizeof *x), *dy = malloc(ny * sizeof *dy);
    double *ref = malloc(ny * sizeof *ref), *aref = malloc(ny * sizeof *aref);
    double *rdx = malloc(nx * sizeof *rdx), *adx = malloc(nx * sizeof *adx);
    double *rdw = malloc(nw * sizeof *rdw), *adw = malloc(nw * sizeof *adw);
    double *rdb = malloc((size_t)cc->oc * sizeof *rdb);
    uint64_t s = seed;
    for (size_t i = 0; i < nx; i++)
        x[i] = (float)acti_rng_uniform(&s) - 0.5f;
    for (size_t i = 0; i < ny; i++)
        dy[i] = (float)acti_rng_uniform(&s) - 0.5f;
    act_net_config cfg = act_net_config_default();
    cfg.in_c = cc->c;
    cfg.in_h = cc->h;
    cfg.in_w = cc->w;
    cfg.max_batch = (size_t)N;
    cfg.threads = threads;
    cfg.n_classes = cc->oc * OH * OW;
    cfg.conv_algo = ACT_CONV_WINOGRAD;
    act_net *net = NULL;
    int rc = acti_net_create(&cfg, b_one, (void *)(uintptr_t)cc, &net, NULL);
    CHECKF(rc == ACT_OK, "create %d", rc);
    if (rc == ACT_OK) {
        const acti_layer *l = &net->layers[0];
        float *w = acti_P(net, l, 0), *b = acti_P(net, l, 1);
        for (size_t i = 0; i < (size_t)cc->oc; i++)
            b[i] = (float)acti_rng_uniform(&s) - 0.5f;
        net->tensors[0].needs_grad = 1;
        const float *y;
        rc = act_net_forward(net, x, (size_t)N, 1, &y);
        if (rc != ACT_OK) {
            CHECKF(0, "C%d %dx%d OC%d pad %d N%d T%d: forward: %s", cc->c, cc->h, cc->w, cc->oc,
                   cc->p, N, threads, act_strerror(rc));
            act_net_free(net);
            goto done;
        }
        ref_conv_fwd(&rs, x, w, b, ref, aref);
        double e0 = rel_err(y, ref, aref, ny);
        memcpy(acti_grad(net, net->logits_t), dy, ny * sizeof *dy);
        /* a non-zero start: dx must accumulate */
        float *gx = acti_grad(net, 0);
        for (size_t i = 0; i < nx; i++)
            gx[i] = 0.25f;
        rc = act_net_backward(net);
        if (rc != ACT_OK) {
            CHECKF(0, "C%d %dx%d OC%d pad %d N%d T%d: backward: %s", cc->c, cc->h, cc->w, cc->oc,
                   cc->p, N, threads, act_strerror(rc));
            act_net_free(net);
            goto done;
        }
        ref_conv_bwd(&rs, x, w, dy, rdx, adx, rdw, adw, rdb);
        for (size_t i = 0; i < nx; i++)
            rdx[i] += 0.25, adx[i] += 0.25;
        double e1 = rel_err(gx, rdx, adx, nx);
        double e2 = rel_err(acti_G(net, l, 0), rdw, adw, nw);
        const float *gb = acti_G(net, l, 1);
        int bad_db = 0;
        for (int i = 0; i < cc->oc; i++)
            bad_db |= !(fabs((double)gb[i] - rdb[i]) <= 1e-5 * (1.0 + fabs(rdb[i])) * OH * OW * N);
        const char *isa = act_isa_name(act_isa_get());
        CHECKF(e0 <= WINO_TOL, "%s C%d %dx%d OC%d pad %d N%d T%d: forward rel err %.3g", isa,
               cc->c, cc->h, cc->w, cc->oc, cc->p, N, threads, e0);
        CHECKF(e1 <= WINO_TOL, "%s C%d %dx%d OC%d pad %d N%d T%d: dx rel err %.3g", isa, cc->c,
               cc->h, cc->w, cc->oc, cc->p, N, threads, e1);
        CHECKF(e2 <= WINO_TOL, "%s C%d %dx%d OC%d pad %d N%d T%d: dw rel err %.3g", isa, cc->c,
               cc->h, cc->w, cc->oc, cc->p, N, threads, e2);
        CHECKF(!bad_db, "%s C%d %dx%d OC%d pad %d: db differs", isa, cc->c, cc->h, cc->w,
               cc->oc, cc->p);
        worst[0] = fmax(worst[0], e0);
        worst[1] = fmax(worst[1], e1);
        worst[2] = fmax(worst[2], e2);
        act_net_free(net);
    }
done:
    free(x);
    free(dy);
    free(ref);
    free(aref);
    free(rdx);
    free(adx);
    free(rdw);
    free(adw);
    free(rdb);
}

/* The models' shapes (resnet:3's 16x28x28, 32x14x14, 64x7x7; cnn's 1x28x28 and 32x26x26
 * valid), the smallest planes (3x3 valid is one partial tile, 3x3 same), planes that are not
 * whole tiles and not square, odd and single channel counts, batch 1 and 3, 1 and 2 threads. */
void test_nn_wino_matches_reference(void)
{
    static const wcase cases[] = {
        { 16, 28, 28, 16, 1 }, { 32, 14, 14, 32, 1 }, { 64, 7, 7, 64, 1 }, { 1, 28, 28, 32, 0 },
        { 32, 26, 26, 64, 0 }, { 3, 3, 3, 5, 0 },     { 5, 3, 3, 3, 1 },   { 1, 4, 4, 1, 1 },
        { 17, 5, 9, 3, 1 },    { 3, 9, 5, 17, 0 },    { 16, 7, 14, 16, 0 }, { 7, 4, 5, 1, 0 },
        { 33, 9, 7, 20, 1 },   { 16, 14, 9, 32, 0 },  { 2, 26, 28, 3, 1 },
    };
    act_isa keep = act_isa_get();
    double worst[ACT_ISA_COUNT][3] = { { 0 } };
    for (int isa = 0; isa < ACT_ISA_COUNT; isa++) {
        if (!act_isa_supported((act_isa)isa))
            continue;
        int rc_isa = act_isa_set((act_isa)isa);
        CHECKF(rc_isa == ACT_OK, "act_isa_set(%s): %s", act_isa_name((act_isa)isa),
               act_strerror(rc_isa));
        if (rc_isa != ACT_OK)
            continue;
        for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
            for (int N = 1; N <= 3; N += 2)
                for (int th = 1; th <= 2; th++)
                    wino_case(&cases[ci], N, th, 300 + ci, worst[isa]);
    }
    CHECK(act_isa_set(keep) == ACT_OK);
    if (getenv("ACTLAB_WINO_VERBOSE"))
        for (int isa = 0; isa < ACT_ISA_COUNT; isa++)
            printf("  %-7s worst rel err fwd %.3g dx %.3g dw %.3g\n", act_isa_name((act_isa)isa),
                   worst[isa][0], worst[isa][1], worst[isa][2]);
}

// ----------------------------------------------------------------------------
// A net of Winograd layers: against the plain sums, and by finite differences

static int b_net(act_net *net, void *ctx, act_diag *diag)
{
    (void)ctx, (void)diag;
    act_nn_act a = act_nn_act_default(ACT_NN_ACT_FN);
    a.fn = act_act_fn(ACT_ACT_SILU);
    int t = acti_conv_add(net, 0, 8, 3, 1, 1, 1);   /* 3 -> 8 same */
    if (t >= 0)
        t = acti_nn_act_add(net, t, &a);
    if (t >= 0)
        t = acti_conv_add(net, t, 16, 3, 1, 0, 0);  /* 8 -> 16 valid, 9x7 -> 7x5 */
    if (t >= 0)
        t = acti_nn_act_add(net, t, &a);
    if (t >= 0)
        t = acti_conv_add(net, t, 16, 3, 1, 1, 1);  /* 16 -> 16 same */
    if (t >= 0)
        t = acti_dense_add(net, t, 3);
    return t;
}

static act_net *make_net(act_conv_algo algo, int threads)
{
    act_net_config cfg = act_net_config_default();
    cfg.in_c = 3;
    cfg.in_h = 9;
    cfg.in_w = 7;
    cfg.max_batch = 3;
    cfg.threads = threads;
    cfg.n_classes = 3;
    cfg.conv_algo = algo;
    act_net *net = NULL;
    int rc = acti_net_create(&cfg, b_net, NULL, &net, NULL);
    CHECKF(rc == ACT_OK, "create %d", rc);
    if (net) {
        uint64_t s = 77;
        for (size_t i = 0; i < net->n_params; i++)   /* perturbed, biases non-zero */
            net->params[i] += 0.3f * (float)(acti_rng_uniform(&s) - 0.5);
        net->tensors[0].needs_grad = 1;
    }
    return net;
}

/* L = sum r . logits */
static double net_loss(act_net *net, const float *x, const float *r)
{
    const float *y;
    int rc = act_net_forward(net, x, 3, 1, &y);
    CHECKF(rc == ACT_OK, "net forward: %s", act_strerror(rc));
    if (rc != ACT_OK)
        return NAN;
    double l = 0.0;
    for (int i = 0; i < 9; i++)
        l += (double)r[i] * (double)y[i];
    return l;
}

static void net_grad(act_net *net, const float *x, const float *r, float *gx)
{
    net_loss(net, x, r);
    memcpy(acti_grad(net, net->logits_t), r, 9 * sizeof *r);
    memset(acti_grad(net, 0), 0, 3 * 3 * 63 * sizeof(float));
    memset(net->grads, 0, net->n_params * sizeof(float));
    int rc = act_net_backward(net);
    CHECKF(rc == ACT_OK, "net backward: %s", act_strerror(rc));
    memcpy(gx, acti_grad(net, 0), 3 * 3 * 63 * sizeof(float));
}

void test_nn_wino_net(void)
{
    enum { NX = 3 * 3 * 63 };   /* batch 3 of (3, 9, 7) */
    float x[NX], r[9], gxw[NX], gxg[NX];
    uint64_t s = 9;
    for (int i = 0; i < NX; i++)
        x[i] = (float)(2.0 * acti_rng_uniform(&s) - 1.0);
    for (int i = 0; i < 9; i++)
        r[i] = (float)(acti_rng_uniform(&s) - 0.5);
    for (int th = 1; th <= 2; th++) {
        act_net *nw = make_net(ACT_CONV_WINOGRAD, th), *ng = make_net(ACT_CONV_GEMM, th);
        if (!nw || !ng) {
            act_net_free(nw);
            act_net_free(ng);
            continue;
        }
        /* identical parameters, gradients within Winograd's rounding of the plain sums */
        CHECK(nw->n_params == ng->n_params &&
              !memcmp(nw->params, ng->params, nw->n_params * sizeof(float)));
        double lw = net_loss(nw, x, r), lg = net_loss(ng, x, r);
        CHECK_CLOSE(lw, lg, 1e-5, 1e-5, "loss, %d threads", th);
        net_grad(nw, x, r, gxw);
        net_grad(ng, x, r, gxg);
        double gmax = 0.0, dmax = 0.0;
        for (size_t i = 0; i < nw->n_params; i++) {
            gmax = fmax(gmax, fabs((double)ng->grads[i]));
            dmax = fmax(dmax, fabs((double)nw->grads[i] - (double)ng->grads[i]));
        }
        CHECKF(gmax > 1e-3 && dmax <= 1e-5 * gmax, "param grads differ: %.3g of %.3g", dmax, gmax);
        gmax = dmax = 0.0;
        for (int i = 0; i < NX; i++) {
            gmax = fmax(gmax, fabs((double)gxg[i]));
            dmax = fmax(dmax, fabs((double)gxw[i] - (double)gxg[i]));
        }
        CHECKF(gmax > 1e-3 && dmax <= 1e-5 * gmax, "input grads differ: %.3g of %.3g", dmax, gmax);
        /* directional finite differences on the Winograd net (docs/internals.md, "Test
         * conventions": h = 1e-2, 3 seeded directions over parameters and input, symmetric
         * relative error <= 1e-3). Winograd's forward rounding (~5e-6 of the sum of |terms|,
         * ISA-dependent) is noise in each loss:
         * measured here as |L_winograd - L_gemm| (times 4 for the perturbed points), it bounds
         * the numeric derivative's error by 2 noise / (2 h); below that floor a difference
         * says nothing about the gradient (the comparison with the plain sums above, at 1e-5
         * of the largest gradient, is the tight check). */
        double floor_abs = 2.0 * (4.0 * fabs(lw - lg) + 1e-7) / 2e-2;
        size_t np = nw->n_params;
        float *g = malloc(np * sizeof *g), *p0 = malloc(np * sizeof *p0);
        double *v = malloc((np + NX) * sizeof *v);
        float xp[NX];
        net_grad(nw, x, r, gxw);
        memcpy(g, nw->grads, np * sizeof *g);
        memcpy(p0, nw->params, np * sizeof *p0);
        /* as tests/test_nn_grad.c gc_check: a direction almost orthogonal to the gradient
         * (|g.v| under a fifth of the typical |g| / sqrt(dims)) is redrawn */
        double full = 0.0;
        for (size_t i = 0; i < np + NX; i++) {
            double gi = i < np ? (double)g[i] : (double)gxw[i - np];
            full += gi * gi;
        }
        full = 0.2 * sqrt(full / (double)(np + NX));
        int accepted = 0;
        for (int d = 0; accepted < 3 && d < 12; d++) {
            uint64_t ds = 500 + (uint64_t)d;
            double norm = 0.0, gv = 0.0;
            for (size_t i = 0; i < np + NX; i++) {
                v[i] = acti_rng_uniform(&ds) - 0.5;
                norm += v[i] * v[i];
            }
            for (size_t i = 0; i < np + NX; i++) {
                v[i] /= sqrt(norm);
                gv += v[i] * (double)(i < np ? g[i] : gxw[i - np]);
            }
            if (fabs(gv) < full)
                continue;
            accepted++;
            double l[2];
            for (int sg = 0; sg < 2; sg++) {
                double h = sg ? -1e-2 : 1e-2;
                for (size_t i = 0; i < np; i++)
                    nw->params[i] = (float)((double)p0[i] + h * v[i]);
                for (int i = 0; i < NX; i++)
                    xp[i] = (float)((double)x[i] + h * v[np + (size_t)i]);
                l[sg] = net_loss(nw, xp, r);
            }
            memcpy(nw->params, p0, np * sizeof *p0);
            double num = (l[0] - l[1]) / 2e-2;
            double err = fabs(gv - num) / fmax(1e-8, fabs(gv) + fabs(num));
            CHECKF(err <= 1e-3 || fabs(gv - num) <= floor_abs,
                   "direction %d: analytic %.9g numeric %.9g (noise floor %.3g)", 500 + d, gv,
                   num, floor_abs);
        }
        CHECKF(accepted == 3, "only %d resolvable directions", accepted);
        free(g);
        free(p0);
        free(v);
        act_net_free(nw);
        act_net_free(ng);
    }
}
