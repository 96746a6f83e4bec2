/* batchnorm.c -- batch normalisation over (N, C, HW) with trainable scale and shift and running
 * statistics (momentum 0.1, unbiased running variance, as PyTorch). A training batch with one
 * value per channel (N*HW < 2) uses the running statistics and leaves them alone, instead of
 * dividing by sqrt(eps) (reference/activations.md 3.3). Channels are split across threads. */
#include <string.h>

#include "nn/nn_impl.h"

enum { GAMMA, BETA, RMEAN, RVAR };
enum { MEAN, INVSTD };

/* Row sums in 16 float lanes (four 4-wide vectors, GNU vector extension: SSE on any x86-64,
 * no reassociation needed), combined in double. The lane order is fixed, so results do not
 * depend on the ISA or thread count. */
typedef float v4f __attribute__((vector_size(16)));

static inline v4f ld4(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void lanes_to(v4f a, v4f b, double *x1, double *x2)
{
    for (int e = 0; e < 4; e++) {
        *x1 += (double)a[e];
        *x2 += (double)b[e];
    }
}

static inline void st4(float *p, v4f v)
{
    memcpy(p, &v, sizeof v);
}

/* q = a p + b over n values. */
static void row_affine(const float *p, float *q, size_t n, float a, float b)
{
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        st4(q + j, ld4(p + j) * a + b);
        st4(q + j + 4, ld4(p + j + 4) * a + b);
    }
    for (; j < n; j++)
        q[j] = a * p[j] + b;
}

/* q += A g + B p + D over n values. */
static void row_bwd(const float *g, const float *p, float *q, size_t n, float A, float B, float D)
{
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
        st4(q + j, ld4(q + j) + (ld4(g + j) * A + ld4(p + j) * B + D));
    for (; j < n; j++)
        q[j] += A * g[j] + B * p[j] + D;
}

/* s1 += sum(p - k), s2 += sum((p - k)^2) over one row of n values. */
static void row_sum2(const float *p, size_t n, float k, double *s1, double *s2)
{
    v4f a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
    v4f b0 = { 0 }, b1 = { 0 }, b2 = { 0 }, b3 = { 0 };
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        v4f d0 = ld4(p + j) - k, d1 = ld4(p + j + 4) - k;
        v4f d2 = ld4(p + j + 8) - k, d3 = ld4(p + j + 12) - k;
        a0 += d0;
        a1 += d1;
        a2 += d2;
        a3 += d3;
        b0 += d0 * d0;
        b1 += d1 * d1;
        b2 += d2 * d2;
        b3 += d3 * d3;
    }
    double x1 = 0.0, x2 = 0.0;
    for (; j < n; j++) {
        double d = (double)(p[j] - k);
        x1 += d;
        x2 += d * d;
    }
    lanes_to(a0, b0, &x1, &x2);
    lanes_to(a1, b1, &x1, &x2);
    lanes_to(a2, b2, &x1, &x2);
    lanes_to(a3, b3, &x1, &x2);
    *s1 += x1;
    *s2 += x2;
}

/* s1 += sum(g), s2 += sum(g * (p - k)) over one row. */
static void row_dot2(const float *g, const float *p, size_t n, float k, double *s1, double *s2)
{
    v4f a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
    v4f b0 = { 0 }, b1 = { 0 }, b2 = { 0 }, b3 = { 0 };
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        v4f g0 = ld4(g + j), g1 = ld4(g + j + 4), g2 = ld4(g + j + 8), g3 = ld4(g + j + 12);
        a0 += g0;
        a1 += g1;
        a2 += g2;
        a3 += g3;
        b0 += g0 * (ld4(p + j) - k);
        b1 += g1 * (ld4(p + j + 4) - k);
        b2 += g2 * (ld4(p + j + 8) - k);
        b3 += g3 * (ld4(p + j + 12) - k);
    }
    double x1 = 0.0, x2 = 0.0;
    for (; j < n; j++) {
        x1 += (double)g[j];
        x2 += (double)g[j] * (double)(p[j] - k);
    }
    lanes_to(a0, b0, &x1, &x2);
    lanes_to(a1, b1, &x1, &x2);
    lanes_to(a2, b2, &x1, &x2);
    lanes_to(a3, b3, &x1, &x2);
    *s1 += x1;
    *s2 += x2;
}

/* Statistics in one pass over x: sums of x - K and (x - K)^2 with K the channel's first value
 * (the shifted-data variance: no cancellation while |mean - K| is a few standard deviations,
 * which one sample of the channel guarantees in practice), then one pass writing y. */
void acti_bn_fwd(int tid, int nt, int use_batch, const float *x, const float *gamma,
                 const float *beta, float *rmean, float *rvar, float *mean, float *invstd,
                 float *y, size_t N, size_t C, size_t HW)
{
    size_t lo, hi;
    acti_range(C, tid, nt, &lo, &hi);
    size_t M = N * HW;
    for (size_t c = lo; c < hi; c++) {
        float mu, is;
        if (use_batch) {
            float K = x[c * HW];
            double s = 0.0, ss = 0.0;
            for (size_t n = 0; n < N; n++)
                row_sum2(x + (n * C + c) * HW, HW, K, &s, &ss);
            double d = s / (double)M;
            double m = (double)K + d;
            double sq = ss - s * d;   /* sum of squared deviations from the mean */
            if (sq < 0.0)
                sq = 0.0;
            double var = sq / (double)M;
            mu = (float)m;
            is = (float)(1.0 / sqrt(var + (double)ACTI_BN_EPS));
            rmean[c] = (1.0f - ACTI_BN_MOMENTUM) * rmean[c] + ACTI_BN_MOMENTUM * mu;
            rvar[c] = (1.0f - ACTI_BN_MOMENTUM) * rvar[c] +
                      ACTI_BN_MOMENTUM * (float)(sq / (double)(M - 1));
        } else {
            mu = rmean[c];
            is = 1.0f / sqrtf(rvar[c] + ACTI_BN_EPS);
        }
        mean[c] = mu;
        invstd[c] = is;
        float a = gamma[c] * is, b = beta[c] - mu * a;
        for (size_t n = 0; n < N; n++)
            row_affine(x + (n * C + c) * HW, y + (n * C + c) * HW, HW, a, b);
    }
}

/* One pass for the sums of dy and dy (x - mean), one writing dx = A dy + B x + D. */
void acti_bn_bwd(int tid, int nt, int use_batch, const float *x, const float *gamma,
                 const float *mean, const float *invstd, const float *dy, float *dx,
                 float *dgamma, float *dbeta, size_t N, size_t C, size_t HW)
{
    size_t lo, hi;
    acti_range(C, tid, nt, &lo, &hi);
    size_t M = N * HW;
    for (size_t c = lo; c < hi; c++) {
        float mu = mean[c], is = invstd[c];
        double sd = 0.0, sdx = 0.0;
        for (size_t n = 0; n < N; n++)
            row_dot2(dy + (n * C + c) * HW, x + (n * C + c) * HW, HW, mu, &sd, &sdx);
        sdx *= (double)is;
        dgamma[c] += (float)sdx;
        dbeta[c] += (float)sd;
        if (!dx)
            continue;
        /* dx = k (dy - a - (x - mu) is b) */
        float k = gamma[c] * is;
        float a = use_batch ? (float)(sd / (double)M) : 0.0f;
        float b = use_batch ? (float)(sdx / (double)M) : 0.0f;
        float A = k, Bx = -k * is * b, D = k * (mu * is * b - a);
        for (size_t n = 0; n < N; n++)
            row_bwd(dy + (n * C + c) * HW, x + (n * C + c) * HW, dx + (n * C + c) * HW, HW, A,
                    Bx, D);
    }
}

int acti_bn_add(act_net *net, int in)
{
    const acti_tensor src = net->tensors[in];
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_BN, in, &l);
    if (li < 0)
        return li;
    size_t C = (size_t)src.c;
    l->p[GAMMA] = acti_param_new(net, li, "gamma", C, ACT_SEG_LEARN, ACTI_INIT_ONE, 0);
    l = &net->layers[li];
    l->p[BETA] = acti_param_new(net, li, "beta", C, ACT_SEG_LEARN, ACTI_INIT_ZERO, 0);
    l = &net->layers[li];
    l->p[RMEAN] = acti_param_new(net, li, "running_mean", C, 0, ACTI_INIT_ZERO, 0);
    l = &net->layers[li];
    l->p[RVAR] = acti_param_new(net, li, "running_var", C, 0, ACTI_INIT_ONE, 0);
    l = &net->layers[li];
    l->ws[MEAN] = acti_ws_new(net, C);
    l = &net->layers[li];
    l->ws[INVSTD] = acti_ws_new(net, C);
    int t = acti_tensor_new(net, src.c, src.h, src.w);
    net->layers[li].out = t;
    return t;
}

void acti_bn_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    const acti_tensor *t = &net->tensors[l->in0];
    size_t HW = (size_t)t->h * (size_t)t->w;
    l->use_batch = train && n * HW >= 2;
    int T = net->threads;
#pragma omp parallel num_threads(T) if (T > 1)
    acti_bn_fwd(ACTI_TID(), ACTI_NT(), l->use_batch, acti_val(net, l->in0), acti_P(net, l, GAMMA),
                acti_P(net, l, BETA), acti_P(net, l, RMEAN), acti_P(net, l, RVAR),
                acti_ws(net, l->ws[MEAN]), acti_ws(net, l->ws[INVSTD]), acti_val(net, l->out),
                n, (size_t)t->c, HW);
}

void acti_bn_backward(act_net *net, acti_layer *l, size_t n)
{
    const acti_tensor *t = &net->tensors[l->in0];
    size_t HW = (size_t)t->h * (size_t)t->w;
    int T = net->threads;
    float *dx = t->needs_grad ? acti_grad(net, l->in0) : NULL;
#pragma omp parallel num_threads(T) if (T > 1)
    acti_bn_bwd(ACTI_TID(), ACTI_NT(), l->use_batch, acti_val(net, l->in0), acti_P(net, l, GAMMA),
                acti_ws(net, l->ws[MEAN]), acti_ws(net, l->ws[INVSTD]), acti_grad(net, l->out),
                dx, acti_G(net, l, GAMMA), acti_G(net, l, BETA), n, (size_t)t->c, HW);
}
