/* dwconv.c -- depthwise k x k convolution (one filter per channel; stride, padding, optional
 * bias): the kernels used by FReLU / ACON-FReLU and a standalone layer. Threads split channels,
 * so every weight gradient has one writer. */
#include <string.h>

#include "nn/layers.h"

enum { W, B };

void acti_dw_fwd(const acti_dw_shape *s, int c0, int c1, const float *x, const float *w,
                 const float *b, float *y)
{
    size_t ihw = (size_t)s->H * (size_t)s->W, ohw = (size_t)s->OH * (size_t)s->OW;
    for (size_t n = 0; n < s->N; n++)
        for (int c = c0; c < c1; c++) {
            const float *xp = x + (n * (size_t)s->C + (size_t)c) * ihw;
            const float *wc = w + (size_t)c * (size_t)(s->k * s->k);
            float *yp = y + (n * (size_t)s->C + (size_t)c) * ohw;
            float bias = b ? b[c] : 0.0f;
            for (int oh = 0; oh < s->OH; oh++)
                for (int ow = 0; ow < s->OW; ow++) {
                    float acc = bias;
                    for (int kh = 0; kh < s->k; kh++) {
                        int ih = oh * s->stride - s->pad + kh;
                        if (ih < 0 || ih >= s->H)
                            continue;
                        for (int kw = 0; kw < s->k; kw++) {
                            int iw = ow * s->stride - s->pad + kw;
                            if (iw >= 0 && iw < s->W)
                                acc += wc[kh * s->k + kw] * xp[ih * s->W + iw];
                        }
                    }
                    yp[oh * s->OW + ow] = acc;
                }
        }
}

void acti_dw_bwd(const acti_dw_shape *s, int c0, int c1, const float *x, const float *w,
                 const float *dy, float *dx, float *dw, float *db)
{
    size_t ihw = (size_t)s->H * (size_t)s->W, ohw = (size_t)s->OH * (size_t)s->OW;
    int kk = s->k * s->k;
    for (int c = c0; c < c1; c++) {
        const float *wc = w + (size_t)c * (size_t)kk;
        float gw[64], gb = 0.0f;   /* k <= 8 */
        memset(gw, 0, sizeof gw);
        for (size_t n = 0; n < s->N; n++) {
            const float *xp = x + (n * (size_t)s->C + (size_t)c) * ihw;
            const float *gp = dy + (n * (size_t)s->C + (size_t)c) * ohw;
            float *dxp = dx ? dx + (n * (size_t)s->C + (size_t)c) * ihw : NULL;
            for (int oh = 0; oh < s->OH; oh++)
                for (int ow = 0; ow < s->OW; ow++) {
                    float g = gp[oh * s->OW + ow];
                    gb += g;
                    for (int kh = 0; kh < s->k; kh++) {
                        int ih = oh * s->stride - s->pad + kh;
                        if (ih < 0 || ih >= s->H)
                            continue;
                        for (int kw = 0; kw < s->k; kw++) {
                            int iw = ow * s->stride - s->pad + kw;
                            if (iw < 0 || iw >= s->W)
                                continue;
                            gw[kh * s->k + kw] += g * xp[ih * s->W + iw];
                            if (dxp)
                                dxp[ih * s->W + iw] += g * wc[kh * s->k + kw];
                        }
                    }
                }
        }
        for (int j = 0; j < kk; j++)
            dw[(size_t)c * (size_t)kk + (size_t)j] += gw[j];
        if (db)
            db[c] += gb;
    }
}

// ----------------------------------------------------------------------------
// the layer

static acti_dw_shape dw_shape(const act_net *net, const acti_layer *l, size_t n)
{
    const acti_tensor *ti = &net->tensors[l->in0], *to = &net->tensors[l->out];
    acti_dw_shape s = { n, ti->c, ti->h, ti->w, l->k, l->stride, l->pad, to->h, to->w };
    return s;
}

int acti_dwconv_add(act_net *net, int in, int k, int stride, int pad, int bias)
{
    const acti_tensor src = net->tensors[in];
    if (k < 1 || k > 8 || stride < 1 || pad < 0)
        return ACT_EINVAL;
    int oh = (src.h + 2 * pad - k) / stride + 1, ow = (src.w + 2 * pad - k) / stride + 1;
    if (src.h + 2 * pad < k || src.w + 2 * pad < k)
        return ACT_ESHAPE;
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_DWCONV, in, &l);
    if (li < 0)
        return li;
    l->k = k;
    l->stride = stride;
    l->pad = pad;
    l->bn = bias;
    l->oc = src.c;
    l->p[W] = acti_param_new(net, li, "w", (size_t)src.c * (size_t)(k * k),
                             ACT_SEG_LEARN | ACT_SEG_DECAY, ACTI_INIT_HE, (size_t)(k * k));
    if (bias)
        net->layers[li].p[B] = acti_param_new(net, li, "b", (size_t)src.c, ACT_SEG_LEARN,
                                              ACTI_INIT_BIAS, (size_t)(k * k));
    int t = acti_tensor_new(net, src.c, oh, ow);
    net->layers[li].out = t;
    return t;
}

int acti_dwconv_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    acti_dw_shape s = dw_shape(net, l, n);
    const float *b = l->bn ? acti_P(net, l, B) : NULL;
    int T = net->threads;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t lo, hi;
        acti_nn_range((size_t)s.C, ACTI_TID(), ACTI_NT(), &lo, &hi);
        acti_dw_fwd(&s, (int)lo, (int)hi, acti_val(net, l->in0), acti_P(net, l, W), b,
                    acti_val(net, l->out));
    }
    return ACT_OK;
}

int acti_dwconv_backward(act_net *net, acti_layer *l, size_t n)
{
    acti_dw_shape s = dw_shape(net, l, n);
    float *db = l->bn ? acti_G(net, l, B) : NULL;
    float *dx = net->tensors[l->in0].needs_grad ? acti_grad(net, l->in0) : NULL;
    int T = net->threads;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t lo, hi;
        acti_nn_range((size_t)s.C, ACTI_TID(), ACTI_NT(), &lo, &hi);
        acti_dw_bwd(&s, (int)lo, (int)hi, acti_val(net, l->in0), acti_P(net, l, W),
                    acti_grad(net, l->out), dx, acti_G(net, l, W), db);
    }
    return ACT_OK;
}
