/* batchnorm.c -- batch normalisation over (N, C, HW) with trainable scale and shift and running
 * statistics (momentum 0.1, unbiased running variance, as PyTorch). A training batch with one
 * value per channel (N*HW < 2) uses the running statistics and leaves them alone, instead of
 * dividing by sqrt(eps) (reference/activations.md 3.3). Channels are split across threads. */
#include <string.h>

#include "nn/nn_impl.h"

enum { GAMMA, BETA, RMEAN, RVAR };
enum { MEAN, INVSTD };

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
            double s = 0.0, ss = 0.0;
            for (size_t n = 0; n < N; n++) {
                const float *p = x + (n * C + c) * HW;
                for (size_t j = 0; j < HW; j++)
                    s += (double)p[j];
            }
            double m = s / (double)M;
            for (size_t n = 0; n < N; n++) {
                const float *p = x + (n * C + c) * HW;
                for (size_t j = 0; j < HW; j++) {
                    double d = (double)p[j] - m;
                    ss += d * d;
                }
            }
            double var = ss / (double)M;
            mu = (float)m;
            is = (float)(1.0 / sqrt(var + (double)ACTI_BN_EPS));
            rmean[c] = (1.0f - ACTI_BN_MOMENTUM) * rmean[c] + ACTI_BN_MOMENTUM * mu;
            rvar[c] = (1.0f - ACTI_BN_MOMENTUM) * rvar[c] +
                      ACTI_BN_MOMENTUM * (float)(ss / (double)(M - 1));
        } else {
            mu = rmean[c];
            is = 1.0f / sqrtf(rvar[c] + ACTI_BN_EPS);
        }
        mean[c] = mu;
        invstd[c] = is;
        float a = gamma[c] * is, b = beta[c] - mu * a;
        for (size_t n = 0; n < N; n++) {
            const float *p = x + (n * C + c) * HW;
            float *q = y + (n * C + c) * HW;
            for (size_t j = 0; j < HW; j++)
                q[j] = a * p[j] + b;
        }
    }
}

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
        for (size_t n = 0; n < N; n++) {
            const float *p = x + (n * C + c) * HW, *g = dy + (n * C + c) * HW;
            for (size_t j = 0; j < HW; j++) {
                sd += (double)g[j];
                sdx += (double)g[j] * (double)((p[j] - mu) * is);
            }
        }
        dgamma[c] += (float)sdx;
        dbeta[c] += (float)sd;
        if (!dx)
            continue;
        float k = gamma[c] * is;
        float a = use_batch ? (float)(sd / (double)M) : 0.0f;
        float b = use_batch ? (float)(sdx / (double)M) : 0.0f;
        for (size_t n = 0; n < N; n++) {
            const float *p = x + (n * C + c) * HW, *g = dy + (n * C + c) * HW;
            float *q = dx + (n * C + c) * HW;
            for (size_t j = 0; j < HW; j++)
                q[j] += k * (g[j] - a - (p[j] - mu) * is * b);
        }
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
