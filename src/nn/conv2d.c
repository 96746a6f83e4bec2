/* conv2d.c -- 2-D convolution (stride, padding, optional bias) by im2col + sgemm, one sample per
 * GEMM, samples split across the thread team; weight gradients are reduced in thread order.
 * 1x1 stride-1 convs skip im2col. Reference: acti_conv_ref in tests/test_nn_layers.c. */
#include <string.h>

#include "nn/nn_impl.h"

enum { W, B };

static int conv_direct(const acti_layer *l) { return l->k == 1 && l->stride == 1 && l->pad == 0; }

int acti_conv_add(act_net *net, int in, int oc, int k, int stride, int pad, int bias)
{
    const acti_tensor src = net->tensors[in];
    if (k < 1 || stride < 1 || pad < 0 || oc < 1 || k > 64 || oc > 65536)
        return ACT_EINVAL;
    int oh = (src.h + 2 * pad - k) / stride + 1, ow = (src.w + 2 * pad - k) / stride + 1;
    if (src.h + 2 * pad < k || src.w + 2 * pad < k || oh < 1 || ow < 1)
        return ACT_ESHAPE;
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_CONV, in, &l);
    if (li < 0)
        return li;
    size_t ckk = (size_t)src.c * (size_t)k * (size_t)k;
    l->oc = oc;
    l->k = k;
    l->stride = stride;
    l->pad = pad;
    l->bn = bias;
    l->p[W] = acti_param_new(net, li, "w", (size_t)oc * ckk, ACT_SEG_LEARN | ACT_SEG_DECAY,
                             ACTI_INIT_HE, ckk);
    if (bias)
        net->layers[li].p[B] = acti_param_new(net, li, "b", (size_t)oc, ACT_SEG_LEARN,
                                              ACTI_INIT_ZERO, 0);
    acti_need_col(net, ckk * (size_t)oh * (size_t)ow);
    acti_need_red(net, (size_t)oc * ckk + (size_t)oc);
    int t = acti_tensor_new(net, oc, oh, ow);
    net->layers[li].out = t;
    return t;
}

// x (C, H, W) -> col (C*K*K, OH*OW)
static void im2col(const float *x, float *col, int C, int H, int Wd, int k, int s, int pad,
                   int OH, int OW)
{
    size_t ohw = (size_t)OH * (size_t)OW;
    for (int c = 0; c < C; c++)
        for (int kh = 0; kh < k; kh++)
            for (int kw = 0; kw < k; kw++) {
                float *dst = col + ((size_t)(c * k + kh) * (size_t)k + (size_t)kw) * ohw;
                for (int oh = 0; oh < OH; oh++, dst += OW) {
                    int ih = oh * s - pad + kh;
                    if (ih < 0 || ih >= H) {
                        memset(dst, 0, (size_t)OW * sizeof(float));
                        continue;
                    }
                    const float *src = x + ((size_t)c * (size_t)H + (size_t)ih) * (size_t)Wd;
                    for (int ow = 0; ow < OW; ow++) {
                        int iw = ow * s - pad + kw;
                        dst[ow] = (iw >= 0 && iw < Wd) ? src[iw] : 0.0f;
                    }
                }
            }
}

// col (C*K*K, OH*OW) added into dx (C, H, W)
static void col2im(const float *col, float *dx, int C, int H, int Wd, int k, int s, int pad,
                   int OH, int OW)
{
    size_t ohw = (size_t)OH * (size_t)OW;
    for (int c = 0; c < C; c++)
        for (int kh = 0; kh < k; kh++)
            for (int kw = 0; kw < k; kw++) {
                const float *src = col + ((size_t)(c * k + kh) * (size_t)k + (size_t)kw) * ohw;
                for (int oh = 0; oh < OH; oh++, src += OW) {
                    int ih = oh * s - pad + kh;
                    if (ih < 0 || ih >= H)
                        continue;
                    float *dst = dx + ((size_t)c * (size_t)H + (size_t)ih) * (size_t)Wd;
                    for (int ow = 0; ow < OW; ow++) {
                        int iw = ow * s - pad + kw;
                        if (iw >= 0 && iw < Wd)
                            dst[iw] += src[ow];
                    }
                }
            }
}

// x (N, C, H, W); w (OC, C, K, K); y (N, OC, OH, OW)
void acti_conv_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    const acti_tensor *ti = &net->tensors[l->in0], *to = &net->tensors[l->out];
    const float *x = acti_val(net, l->in0), *w = acti_P(net, l, W);
    const float *b = l->bn ? acti_P(net, l, B) : NULL;
    float *y = acti_val(net, l->out);
    int ckk = ti->c * l->k * l->k, ohw = to->h * to->w, T = net->threads;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        int tid = ACTI_TID();
        size_t lo, hi;
        acti_range(n, tid, ACTI_NT(), &lo, &hi);
        float *col = acti_ws(net, net->ws_col) + (size_t)tid * 2 * net->col_floats;
        for (size_t i = lo; i < hi; i++) {
            const float *xi = x + i * ti->size;
            float *yi = y + i * to->size;
            const float *c = xi;
            if (!conv_direct(l)) {
                im2col(xi, col, ti->c, ti->h, ti->w, l->k, l->stride, l->pad, to->h, to->w);
                c = col;
            }
            acti_gemm(0, 1, 0, 0, l->oc, ohw, ckk, 1.0f, w, ckk, c, ohw, 0.0f, yi, ohw);
            for (int o = 0; b && o < l->oc; o++) {
                float *r = yi + (size_t)o * (size_t)ohw;
                for (int j = 0; j < ohw; j++)
                    r[j] += b[o];
            }
        }
    }
}

void acti_conv_backward(act_net *net, acti_layer *l, size_t n)
{
    const acti_tensor *ti = &net->tensors[l->in0], *to = &net->tensors[l->out];
    const float *x = acti_val(net, l->in0), *w = acti_P(net, l, W);
    const float *dy = acti_grad(net, l->out);
    float *dx = acti_grad(net, l->in0), *dw = acti_G(net, l, W);
    float *db = l->bn ? acti_G(net, l, B) : NULL;
    int ckk = ti->c * l->k * l->k, ohw = to->h * to->w, T = net->threads;
    int need_dx = ti->needs_grad;
    size_t nw = (size_t)l->oc * (size_t)ckk, nred = nw + (size_t)l->oc;
    float *red = acti_ws(net, net->ws_red);
#pragma omp parallel num_threads(T) if (T > 1)
    {
        int tid = ACTI_TID(), nt = ACTI_NT();
        size_t lo, hi;
        acti_range(n, tid, nt, &lo, &hi);
        float *col = acti_ws(net, net->ws_col) + (size_t)tid * 2 * net->col_floats;
        float *dcol = col + net->col_floats;
        float *mdw = red + (size_t)tid * net->red_floats, *mdb = mdw + nw;
        memset(mdw, 0, nred * sizeof(float));
        for (size_t i = lo; i < hi; i++) {
            const float *xi = x + i * ti->size, *dyi = dy + i * to->size;
            float *dxi = dx + i * ti->size;
            const float *c = xi;
            if (!conv_direct(l)) {
                im2col(xi, col, ti->c, ti->h, ti->w, l->k, l->stride, l->pad, to->h, to->w);
                c = col;
            }
            acti_gemm(0, 1, 0, 1, l->oc, ckk, ohw, 1.0f, dyi, ohw, c, ohw, 1.0f, mdw, ckk);
            for (int o = 0; db && o < l->oc; o++) {
                const float *r = dyi + (size_t)o * (size_t)ohw;
                float s = 0.0f;
                for (int j = 0; j < ohw; j++)
                    s += r[j];
                mdb[o] += s;
            }
            if (!need_dx)
                continue;
            if (conv_direct(l)) {
                acti_gemm(0, 1, 1, 0, ckk, ohw, l->oc, 1.0f, w, ckk, dyi, ohw, 1.0f, dxi, ohw);
            } else {
                acti_gemm(0, 1, 1, 0, ckk, ohw, l->oc, 1.0f, w, ckk, dyi, ohw, 0.0f, dcol, ohw);
                col2im(dcol, dxi, ti->c, ti->h, ti->w, l->k, l->stride, l->pad, to->h, to->w);
            }
        }
#pragma omp barrier
        size_t a, z;
        acti_range(nred, tid, nt, &a, &z);
        for (int k = 0; k < nt; k++) {
            const float *src = red + (size_t)k * net->red_floats;
            for (size_t j = a; j < z; j++) {
                if (j < nw)
                    dw[j] += src[j];
                else if (db)
                    db[j - nw] += src[j];
            }
        }
    }
}
