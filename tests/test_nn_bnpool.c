/* test_nn_bnpool.c -- batch norm (acti_bn_fwd / acti_bn_bwd) and max pooling against naive
 * double references on odd sizes, on every ISA this CPU has, and bit-identity of the results
 * across ISAs and across 1 and 2 threads (the engine promises both for these layers). */
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "actlab/nn.h"
#include "nn/nn_impl.h"
#include "test.h"

static float urand(uint64_t *s, double lo, double hi)
{
    return (float)(lo + (hi - lo) * acti_rng_uniform(s));
}

/* ---------------------------------------------------------------------------------------------
 * Batch norm. The buffers of one run over (N, C, HW). */
typedef struct bn_case {
    size_t N, C, HW;
    int assign;   /* backward writes dx (the engine's first writer); dx0 then holds NaN */
    double *part; /* non-NULL: the layer's form (samples split across threads for HW >= 16) */
    float *x, *dy, *y, *dx, *gamma, *beta, *rmean, *rvar, *mean, *invstd, *dgamma, *dbeta;
} bn_case;

/* Runs forward then backward (dx starts at dx0, dgamma/dbeta at 0.5: both accumulate) on nt
 * threads, from running statistics rm0, rv0. */
static void bn_run(bn_case *b, int use_batch, int nt, const float *rm0, const float *rv0,
                   const float *dx0)
{
    size_t T = b->N * b->C * b->HW;
    memcpy(b->rmean, rm0, b->C * sizeof(float));
    memcpy(b->rvar, rv0, b->C * sizeof(float));
    memcpy(b->dx, dx0, T * sizeof(float));
    for (size_t c = 0; c < b->C; c++)
        b->dgamma[c] = b->dbeta[c] = 0.5f;
#pragma omp parallel num_threads(nt)
    acti_bn_fwd_any(ACTI_TID(), ACTI_NT(), use_batch, b->x, b->gamma, b->beta, b->rmean, b->rvar,
                    b->mean, b->invstd, b->y, b->N, b->C, b->HW, b->part);
#pragma omp parallel num_threads(nt)
    acti_bn_bwd_any(ACTI_TID(), ACTI_NT(), use_batch, b->x, b->gamma, b->mean, b->invstd, b->dy,
                    b->dx, b->dgamma, b->dbeta, b->N, b->C, b->HW, b->assign, b->part);
}

/* The textbook formulas in double, checked against one run. */
static void bn_check_ref(const bn_case *b, int use_batch, const float *rm0, const float *rv0,
                         const float *dx0, const char *isa)
{
    size_t N = b->N, C = b->C, HW = b->HW, M = N * HW;
    for (size_t c = 0; c < C; c++) {
        double mu, var;
        if (use_batch) {
            double s = 0.0, sq = 0.0;
            for (size_t n = 0; n < N; n++)
                for (size_t i = 0; i < HW; i++)
                    s += (double)b->x[(n * C + c) * HW + i];
            mu = s / (double)M;
            for (size_t n = 0; n < N; n++)
                for (size_t i = 0; i < HW; i++) {
                    double d = (double)b->x[(n * C + c) * HW + i] - mu;
                    sq += d * d;
                }
            var = sq / (double)M;
            CHECK_CLOSE(b->rmean[c], 0.9 * rm0[c] + 0.1 * mu, 1e-5, 1e-5, "%s rmean c %zu", isa, c);
            CHECK_CLOSE(b->rvar[c], 0.9 * rv0[c] + 0.1 * sq / (double)(M - 1), 1e-5, 1e-5,
                        "%s rvar c %zu", isa, c);
        } else {
            mu = rm0[c];
            var = rv0[c];
            CHECK(b->rmean[c] == rm0[c] && b->rvar[c] == rv0[c]);
        }
        double is = 1.0 / sqrt(var + (double)ACTI_BN_EPS), g = b->gamma[c];
        CHECK_CLOSE(b->mean[c], mu, 1e-5, 1e-5, "%s mean c %zu", isa, c);
        CHECK_CLOSE(b->invstd[c], is, 0.0, 1e-5, "%s invstd c %zu", isa, c);
        double sd = 0.0, sdh = 0.0;
        for (size_t n = 0; n < N; n++)
            for (size_t i = 0; i < HW; i++) {
                size_t o = (n * C + c) * HW + i;
                double h = ((double)b->x[o] - mu) * is;
                CHECK_CLOSE(b->y[o], g * h + (double)b->beta[c], 1e-5, 1e-5,
                            "%s y N %zu C %zu HW %zu at %zu", isa, N, C, HW, o);
                sd += (double)b->dy[o];
                sdh += (double)b->dy[o] * h;
            }
        CHECK_CLOSE(b->dbeta[c], 0.5 + sd, 1e-4, 1e-5, "%s dbeta c %zu", isa, c);
        CHECK_CLOSE(b->dgamma[c], 0.5 + sdh, 1e-4, 1e-5, "%s dgamma c %zu", isa, c);
        for (size_t n = 0; n < N; n++)
            for (size_t i = 0; i < HW; i++) {
                size_t o = (n * C + c) * HW + i;
                double h = ((double)b->x[o] - mu) * is, d = (double)b->dy[o];
                if (use_batch)
                    d -= (sd + h * sdh) / (double)M;
                /* the dx formula's terms reach |g is dy|: tolerance relative to them */
                double scale = fabs(g * is) * (fabs((double)b->dy[o]) + fabs(sd) / (double)M +
                                               fabs(h * sdh) / (double)M) + fabs(dx0[o]);
                CHECK_CLOSE(b->dx[o], (double)dx0[o] + g * is * d, 1e-5 * scale + 1e-6, 0.0,
                            "%s dx N %zu C %zu HW %zu at %zu", isa, N, C, HW, o);
            }
    }
}

static int bn_same(const bn_case *a, const bn_case *b)
{
    size_t T = a->N * a->C * a->HW, C = a->C;
    return !memcmp(a->y, b->y, T * sizeof(float)) && !memcmp(a->dx, b->dx, T * sizeof(float)) &&
           !memcmp(a->rmean, b->rmean, C * sizeof(float)) &&
           !memcmp(a->rvar, b->rvar, C * sizeof(float)) &&
           !memcmp(a->mean, b->mean, C * sizeof(float)) &&
           !memcmp(a->invstd, b->invstd, C * sizeof(float)) &&
           !memcmp(a->dgamma, b->dgamma, C * sizeof(float)) &&
           !memcmp(a->dbeta, b->dbeta, C * sizeof(float));
}

static void bn_alloc(bn_case *b, size_t N, size_t C, size_t HW)
{
    size_t T = N * C * HW;
    b->N = N;
    b->C = C;
    b->HW = HW;
    float **big[] = { &b->x, &b->dy, &b->y, &b->dx };
    float **small[] = { &b->gamma, &b->beta, &b->rmean, &b->rvar, &b->mean, &b->invstd,
                        &b->dgamma, &b->dbeta };
    for (size_t i = 0; i < sizeof big / sizeof *big; i++)
        *big[i] = malloc(T * sizeof(float));
    for (size_t i = 0; i < sizeof small / sizeof *small; i++)
        *small[i] = malloc(C * sizeof(float));
}

static void bn_release(bn_case *b)
{
    float *all[] = { b->x, b->dy, b->y, b->dx, b->gamma, b->beta, b->rmean, b->rvar, b->mean,
                     b->invstd, b->dgamma, b->dbeta };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free(all[i]);
}

static void bn_one(size_t N, size_t C, size_t HW, uint64_t seed)
{
    size_t T = N * C * HW;
    bn_case ref, cur;
    bn_alloc(&ref, N, C, HW);
    bn_alloc(&cur, N, C, HW);
    float *rm0 = malloc(C * sizeof(float)), *rv0 = malloc(C * sizeof(float));
    float *dx0 = malloc(T * sizeof(float)), *nan0 = malloc(T * sizeof(float));
    float *zero0 = calloc(T, sizeof(float));
    uint64_t s = seed;
    for (size_t c = 0; c < C; c++) {
        ref.gamma[c] = cur.gamma[c] = urand(&s, 0.5, 1.5);
        ref.beta[c] = cur.beta[c] = urand(&s, -0.5, 0.5);
        rm0[c] = urand(&s, -1.0, 1.0);
        rv0[c] = urand(&s, 0.5, 2.0);
    }
    for (size_t n = 0; n < N; n++)   /* per-channel offsets and scales: the shift matters */
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < HW; i++) {
                size_t o = (n * C + c) * HW + i;
                ref.x[o] = cur.x[o] = (float)(c % 5) * 2.0f + (float)(c % 3 + 1) * urand(&s, -1, 1);
                ref.dy[o] = cur.dy[o] = urand(&s, -1.0, 1.0);
                dx0[o] = urand(&s, -1.0, 1.0);
                nan0[o] = NAN;
            }
    act_isa isa0 = act_isa_get();
    double *part[2] = { malloc(acti_bn_part_doubles(N, C) * sizeof(double)),
                        malloc(acti_bn_part_doubles(N, C) * sizeof(double)) };
    for (int k = 0; k < 8; k++) {
        int use_batch = k & 1, assign = (k >> 1) & 1, split = k >> 2;
        ref.assign = cur.assign = assign;
        ref.part = split ? part[0] : NULL;
        cur.part = split ? part[1] : NULL;
        if (use_batch && N * HW < 2)
            continue;   /* the engine uses running statistics there */
        int first = 1;
        for (int isa = 0; isa < ACT_ISA_COUNT; isa++) {
            if (!act_isa_supported((act_isa)isa))
                continue;
            int rc_isa = act_isa_set((act_isa)isa);
            CHECKF(rc_isa == ACT_OK, "act_isa_set(%s): %s", act_isa_name((act_isa)isa),
                   act_strerror(rc_isa));
            if (rc_isa != ACT_OK)
                continue;
            for (int nt = 1; nt <= 2; nt++) {
                bn_case *b = first ? &ref : &cur;
                bn_run(b, use_batch, nt, rm0, rv0, assign ? nan0 : dx0);
                if (first)
                    bn_check_ref(b, use_batch, rm0, rv0, assign ? zero0 : dx0,
                                 act_isa_name((act_isa)isa));
                else
                    CHECKF(bn_same(&ref, &cur), "bn N %zu C %zu HW %zu batch %d assign %d split "
                           "%d: %s, %d threads differs from the first run", N, C, HW, use_batch,
                           assign, split,
                           act_isa_name((act_isa)isa), nt);
                first = 0;
            }
        }
    }
    CHECK(act_isa_set(isa0) == ACT_OK);
    bn_release(&ref);
    bn_release(&cur);
    free(rm0);
    free(rv0);
    free(dx0);
    free(nan0);
    free(zero0);
    free(part[0]);
    free(part[1]);
}

static void bn_matches_reference(void)
{
    static const size_t hws[] = { 1, 5, 7, 16, 17, 49, 196, 784 };
    for (size_t i = 0; i < sizeof hws / sizeof hws[0]; i++)
        for (size_t N = 1; N <= 3; N += 2) {
            bn_one(N, 5, hws[i], 11 + hws[i] * 3 + N);
            if (hws[i] <= 49)
                bn_one(N, 37, hws[i], 7 + hws[i]);   /* more channels than one block */
        }
    /* several sample blocks of the split form (8 samples each), the last one partial */
    bn_one(19, 6, 17, 5);
    bn_one(26, 37, 49, 6);
    /* after a dense layer (HW 1): more channels than one block of the dense form (256), and
     * counts that leave vector tails */
    bn_one(40, 300, 1, 21);
    bn_one(7, 23, 1, 22);
}

/* ---------------------------------------------------------------------------------------------
 * Max pooling, through a net (input -> maxpool -> flatten -> dense) whose layer 0 is run
 * directly. */
typedef struct mp_shape { int c, h, w, k, stride, pad; } mp_shape;

static int mp_build(act_net *net, void *ctx, act_diag *diag)
{
    (void)diag;
    const mp_shape *sh = ctx;
    int t = acti_pool_add(net, ACTI_L_MAXPOOL, 0, sh->k, sh->stride, sh->pad);
    if (t >= 0)
        t = acti_flatten_add(net, t);
    if (t >= 0)
        t = acti_dense_add(net, t, 2);
    return t;
}

/* The documented semantics: the window's first value inside the plane, replaced by each later
 * one (row by row) that is strictly greater; backward adds dy to the argmax, outputs in order. */
static void mp_ref(const mp_shape *sh, int OH, int OW, size_t planes, const float *x,
                   const float *dy, float *y, int32_t *arg, float *dx)
{
    size_t ihw = (size_t)sh->h * (size_t)sh->w, ohw = (size_t)OH * (size_t)OW;
    for (size_t p = 0; p < planes; p++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                int best = -1;
                float m = 0.0f;
                for (int kh = 0; kh < sh->k; kh++)
                    for (int kw = 0; kw < sh->k; kw++) {
                        int ih = oh * sh->stride - sh->pad + kh;
                        int iw = ow * sh->stride - sh->pad + kw;
                        if (ih < 0 || ih >= sh->h || iw < 0 || iw >= sh->w)
                            continue;
                        int j = ih * sh->w + iw;
                        float v = x[p * ihw + (size_t)j];
                        if (best < 0 || v > m) {
                            m = v;
                            best = j;
                        }
                    }
                size_t o = p * ohw + (size_t)oh * (size_t)OW + (size_t)ow;
                y[o] = m;
                arg[o] = best;
                dx[p * ihw + (size_t)best] += dy[o];
            }
}

static void mp_one(mp_shape sh, size_t n, uint64_t seed)
{
    act_net_config cfg = act_net_config_default();
    cfg.in_c = sh.c;
    cfg.in_h = sh.h;
    cfg.in_w = sh.w;
    cfg.max_batch = n;
    cfg.threads = 2;
    cfg.n_classes = 2;
    act_net *net = NULL;
    int rc = acti_net_create(&cfg, mp_build, &sh, &net, NULL);
    CHECKF(rc == ACT_OK, "maxpool net %dx%dx%d k %d s %d p %d: %s", sh.c, sh.h, sh.w, sh.k,
           sh.stride, sh.pad, act_strerror(rc));
    if (rc != ACT_OK)
        return;
    acti_layer *l = &net->layers[0];
    CHECK(l->kind == ACTI_L_MAXPOOL);
    net->tensors[0].needs_grad = 1;
    const acti_tensor *to = &net->tensors[l->out];
    size_t planes = n * (size_t)sh.c, ni = planes * (size_t)(sh.h * sh.w);
    size_t no = planes * (size_t)(to->h * to->w);
    float *x = acti_val(net, 0), *y = acti_val(net, l->out), *dy = acti_grad(net, l->out);
    float *dx = acti_grad(net, 0);
    int32_t *arg = (int32_t *)(void *)acti_ws(net, l->ws[0]);
    float *dx0 = malloc(ni * sizeof(float)), *rdx = malloc(ni * sizeof(float));
    float *ry = malloc(no * sizeof(float)), *fy = malloc(no * sizeof(float));
    float *fdx = malloc(ni * sizeof(float));
    int32_t *rarg = malloc(no * sizeof(int32_t)), *farg = malloc(no * sizeof(int32_t));
    uint64_t s = seed;
    for (size_t i = 0; i < ni; i++) {   /* few distinct values: many ties; some NaN, -0, +0 */
        double u = acti_rng_uniform(&s);
        x[i] = u < 0.04 ? NAN : u < 0.1 ? -0.0f : u < 0.15 ? 0.0f : (float)(int)(8.0 * u) - 4.0f;
        dx0[i] = acti_rng_uniform(&s) < 0.3 ? -0.0f : urand(&s, -1.0, 1.0);
    }
    for (size_t i = 0; i < no; i++)
        dy[i] = urand(&s, -1.0, 1.0);
    memcpy(rdx, dx0, ni * sizeof(float));
    mp_ref(&sh, to->h, to->w, planes, x, dy, ry, rarg, rdx);
    act_isa isa0 = act_isa_get();
    int first = 1;
    for (int isa = 0; isa < ACT_ISA_COUNT; isa++) {
        if (!act_isa_supported((act_isa)isa))
            continue;
        int rc_isa = act_isa_set((act_isa)isa);
        CHECKF(rc_isa == ACT_OK, "act_isa_set(%s): %s", act_isa_name((act_isa)isa),
               act_strerror(rc_isa));
        if (rc_isa != ACT_OK)
            continue;
        for (int nt = 1; nt <= 2; nt++) {
            memset(y, 0xff, no * sizeof(float));
            memset(arg, 0xff, no * sizeof(int32_t));
            memcpy(dx, dx0, ni * sizeof(float));
            const char *what = "act_net_set_threads";
            rc = act_net_set_threads(net, nt);
            if (rc == ACT_OK) {
                what = "forward";
                rc = acti_maxpool_forward(net, l, n, 1);
            }
            if (rc == ACT_OK) {
                what = "backward";
                rc = acti_maxpool_backward(net, l, n);
            }
            CHECKF(rc == ACT_OK, "maxpool %dx%dx%d k %d s %d p %d n %zu: %s %d threads: %s: %s",
                   sh.c, sh.h, sh.w, sh.k, sh.stride, sh.pad, n, act_isa_name((act_isa)isa), nt,
                   what, act_strerror(rc));
            if (rc != ACT_OK)
                continue;
            /* bitwise: NaN and -0 must come through exactly as the reference has them */
            CHECKF(!memcmp(y, ry, no * sizeof(float)) && !memcmp(arg, rarg, no * sizeof(int32_t)),
                   "maxpool %dx%dx%d k %d s %d p %d n %zu: %s %d threads: y / argmax differ from "
                   "the reference", sh.c, sh.h, sh.w, sh.k, sh.stride, sh.pad, n,
                   act_isa_name((act_isa)isa), nt);
            CHECKF(!memcmp(dx, rdx, ni * sizeof(float)), "maxpool %dx%dx%d k %d s %d p %d n %zu: "
                   "%s %d threads: dx differs from the reference", sh.c, sh.h, sh.w, sh.k,
                   sh.stride, sh.pad, n, act_isa_name((act_isa)isa), nt);
            if (first) {
                memcpy(fy, y, no * sizeof(float));
                memcpy(farg, arg, no * sizeof(int32_t));
                memcpy(fdx, dx, ni * sizeof(float));
            } else {
                CHECK(!memcmp(fy, y, no * sizeof(float)) &&
                      !memcmp(farg, arg, no * sizeof(int32_t)) &&
                      !memcmp(fdx, dx, ni * sizeof(float)));
            }
            first = 0;
        }
    }
    CHECK(act_isa_set(isa0) == ACT_OK);
    free(dx0);
    free(rdx);
    free(ry);
    free(fy);
    free(fdx);
    free(rarg);
    free(farg);
    act_net_free(net);
}

static void maxpool_matches_reference(void)
{
    static const mp_shape shapes[] = {
        { 3, 2, 2, 2, 2, 0 },   { 2, 5, 5, 2, 2, 0 },  { 3, 7, 7, 2, 2, 0 },
        { 2, 24, 24, 2, 2, 0 }, { 1, 28, 28, 2, 2, 0 }, { 2, 9, 6, 2, 2, 0 },
        { 1, 3, 35, 2, 2, 0 },  { 2, 14, 68, 2, 2, 0 }, { 1, 4, 33, 2, 2, 0 },
        { 2, 7, 7, 3, 2, 0 },   { 2, 6, 5, 2, 1, 0 },   { 1, 9, 9, 3, 3, 0 },
        /* padded (tfnet's 3x3 stride 2 pad 1: 28 -> 14 -> 7 -> 4 -> 2), one plane of 1x1 */
        { 2, 28, 28, 3, 2, 1 }, { 3, 7, 7, 3, 2, 1 },   { 2, 4, 4, 3, 2, 1 },
        { 1, 1, 1, 3, 2, 1 },   { 2, 6, 9, 2, 2, 1 },   { 1, 8, 5, 5, 1, 2 },
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (size_t n = 1; n <= 3; n += 2)
            mp_one(shapes[i], n, 100 + i * 7 + n);
}

void test_nn_bnpool_matches_reference(void)
{
    bn_matches_reference();
    maxpool_matches_reference();
}
