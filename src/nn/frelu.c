/* frelu.c -- FReLU y = max(x, T), T = BN(dwconv3x3(x) + b) (Ma et al. 2020), and ACON-FReLU
 * y = BN2((x - T) s(x - T) + T) (TFNet, stride 1), as single layers. Every step is local to a
 * channel, so each thread runs its channel range through the whole layer without barriers. */
#include <stdio.h>
#include <string.h>

#include "nn/layers.h"

enum { W, B, G1, BE1, RM1, RV1, G2, BE2, RM2, RV2 };
enum { U, TT, Z, MEAN1, IS1, MEAN2, IS2, GT, GU, GZ };

static float sigm(float z)
{
    if (z >= 0.0f)
        return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

static void add_bn(act_net *net, int li, const char *tag, int slot, size_t C)
{
    char nm[24];
    acti_layer *l = &net->layers[li];
    snprintf(nm, sizeof nm, "%s.gamma", tag);
    l->p[slot] = acti_param_new(net, li, nm, C, ACT_SEG_LEARN | ACT_SEG_ACT, ACTI_INIT_ONE, 0);
    snprintf(nm, sizeof nm, "%s.beta", tag);
    l->p[slot + 1] = acti_param_new(net, li, nm, C, ACT_SEG_LEARN | ACT_SEG_ACT, ACTI_INIT_ZERO, 0);
    snprintf(nm, sizeof nm, "%s.rmean", tag);
    l->p[slot + 2] = acti_param_new(net, li, nm, C, 0, ACTI_INIT_ZERO, 0);
    snprintf(nm, sizeof nm, "%s.rvar", tag);
    l->p[slot + 3] = acti_param_new(net, li, nm, C, 0, ACTI_INIT_ONE, 0);
}

int acti_frelu_add(act_net *net, int in, int acon)
{
    const acti_tensor src = net->tensors[in];
    acti_layer *l;
    int li = acti_layer_new(net, acon ? ACTI_L_ACON_FRELU : ACTI_L_FRELU, in, &l);
    if (li < 0)
        return li;
    size_t C = (size_t)src.c, big = net->cfg.max_batch * src.size;
    l->k = 3;
    l->stride = 1;
    l->pad = 1;
    l->p[W] = acti_param_new(net, li, "dw.w", C * 9, ACT_SEG_LEARN | ACT_SEG_DECAY | ACT_SEG_ACT,
                             ACTI_INIT_HE, 9);
    l->p[B] = acti_param_new(net, li, "dw.b", C, ACT_SEG_LEARN | ACT_SEG_ACT, ACTI_INIT_BIAS, 9);
    add_bn(net, li, "bn1", G1, C);
    if (acon)
        add_bn(net, li, "bn2", G2, C);
    int slots[] = { U, TT, Z, GT, GU, GZ };
    for (int i = 0; i < 6; i++)
        net->layers[li].ws[slots[i]] = acti_ws_new(net, big);
    int small[] = { MEAN1, IS1, MEAN2, IS2 };
    for (int i = 0; i < 4; i++)
        net->layers[li].ws[small[i]] = acti_ws_new(net, C);
    int t = acti_tensor_new(net, src.c, src.h, src.w);
    net->layers[li].out = t;
    return t;
}

static acti_dw_shape shape3(const acti_tensor *t, size_t n)
{
    acti_dw_shape s = { n, t->c, t->h, t->w, 3, 1, 1, t->h, t->w };
    return s;
}

/* Zeroes channels [c0, c1) of an (N, C, HW) buffer. */
static void zero_channels(float *p, size_t N, size_t C, size_t HW, size_t c0, size_t c1)
{
    for (size_t n = 0; n < N; n++)
        memset(p + (n * C + c0) * HW, 0, (c1 - c0) * HW * sizeof(float));
}

static void frelu_fwd(act_net *net, acti_layer *l, size_t n, int train, int acon)
{
    const acti_tensor *t = &net->tensors[l->in0];
    size_t C = (size_t)t->c, HW = (size_t)t->h * (size_t)t->w;
    acti_dw_shape s = shape3(t, n);
    const float *x = acti_val(net, l->in0);
    float *u = acti_ws(net, l->ws[U]), *tt = acti_ws(net, l->ws[TT]), *z = acti_ws(net, l->ws[Z]);
    float *y = acti_val(net, l->out);
    l->use_batch = train && n * HW >= 2;
    int T = net->threads;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        int tid = ACTI_TID(), nt = ACTI_NT();
        size_t lo, hi;
        acti_nn_range(C, tid, nt, &lo, &hi);
        acti_dw_fwd(&s, (int)lo, (int)hi, x, acti_P(net, l, W), acti_P(net, l, B), u);
        acti_bn_fwd(tid, nt, l->use_batch, u, acti_P(net, l, G1), acti_P(net, l, BE1),
                    acti_P(net, l, RM1), acti_P(net, l, RV1), acti_ws(net, l->ws[MEAN1]),
                    acti_ws(net, l->ws[IS1]), tt, n, C, HW);
        float *dst = acon ? z : y;
        for (size_t i = 0; i < n; i++)
            for (size_t j = (i * C + lo) * HW; j < (i * C + hi) * HW; j++) {
                if (acon) {
                    float d = x[j] - tt[j];
                    dst[j] = d * sigm(d) + tt[j];
                } else {
                    dst[j] = x[j] >= tt[j] ? x[j] : tt[j];
                }
            }
        if (acon)
            acti_bn_fwd(tid, nt, l->use_batch, z, acti_P(net, l, G2), acti_P(net, l, BE2),
                        acti_P(net, l, RM2), acti_P(net, l, RV2), acti_ws(net, l->ws[MEAN2]),
                        acti_ws(net, l->ws[IS2]), y, n, C, HW);
    }
}

static void frelu_bwd(act_net *net, acti_layer *l, size_t n, int acon)
{
    const acti_tensor *t = &net->tensors[l->in0];
    size_t C = (size_t)t->c, HW = (size_t)t->h * (size_t)t->w;
    acti_dw_shape s = shape3(t, n);
    const float *x = acti_val(net, l->in0), *dy = acti_grad(net, l->out);
    const float *u = acti_ws(net, l->ws[U]), *tt = acti_ws(net, l->ws[TT]);
    const float *z = acti_ws(net, l->ws[Z]);
    float *gt = acti_ws(net, l->ws[GT]), *gu = acti_ws(net, l->ws[GU]);
    float *gz = acti_ws(net, l->ws[GZ]);
    float *dx = acti_grad(net, l->in0);
    int T = net->threads;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        int tid = ACTI_TID(), nt = ACTI_NT();
        size_t lo, hi;
        acti_nn_range(C, tid, nt, &lo, &hi);
        const float *g = dy;
        if (acon) {
            zero_channels(gz, n, C, HW, lo, hi);
            acti_bn_bwd(tid, nt, l->use_batch, z, acti_P(net, l, G2), acti_ws(net, l->ws[MEAN2]),
                        acti_ws(net, l->ws[IS2]), dy, gz, acti_G(net, l, G2),
                        acti_G(net, l, BE2), n, C, HW, 0);
            g = gz;
        }
        for (size_t i = 0; i < n; i++)
            for (size_t j = (i * C + lo) * HW; j < (i * C + hi) * HW; j++) {
                if (acon) {
                    float d = x[j] - tt[j], sg = sigm(d);
                    float sl = sg * (1.0f + d * (1.0f - sg));     /* SiLU'(d) */
                    dx[j] += g[j] * sl;
                    gt[j] = g[j] * (1.0f - sl);
                } else {
                    int m = x[j] >= tt[j];                       /* ties go to x */
                    dx[j] += m ? g[j] : 0.0f;
                    gt[j] = m ? 0.0f : g[j];
                }
            }
        zero_channels(gu, n, C, HW, lo, hi);
        acti_bn_bwd(tid, nt, l->use_batch, u, acti_P(net, l, G1), acti_ws(net, l->ws[MEAN1]),
                    acti_ws(net, l->ws[IS1]), gt, gu, acti_G(net, l, G1), acti_G(net, l, BE1),
                    n, C, HW, 0);
        acti_dw_bwd(&s, (int)lo, (int)hi, x, acti_P(net, l, W), gu, dx, acti_G(net, l, W),
                    acti_G(net, l, B));
    }
}

int acti_frelu_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    frelu_fwd(net, l, n, train, 0);
    return ACT_OK;
}

int acti_frelu_backward(act_net *net, acti_layer *l, size_t n)
{
    frelu_bwd(net, l, n, 0);
    return ACT_OK;
}

int acti_acon_frelu_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    frelu_fwd(net, l, n, train, 1);
    return ACT_OK;
}

int acti_acon_frelu_backward(act_net *net, acti_layer *l, size_t n)
{
    frelu_bwd(net, l, n, 1);
    return ACT_OK;
}
