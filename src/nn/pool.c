/* pool.c -- max pooling and average pooling (k x k, stride, no padding; argmax kept for the
 * backward pass, ties go to the first), and global average pooling (N, C, H, W) -> (N, C). */
#include <stdint.h>
#include <string.h>

#include "nn/nn_impl.h"

enum { ARGMAX };

int acti_pool_add(act_net *net, acti_layer_kind kind, int in, int k, int stride)
{
    const acti_tensor src = net->tensors[in];
    if (k < 1 || stride < 1 || src.h < k || src.w < k)
        return ACT_ESHAPE;
    acti_layer *l;
    int li = acti_layer_new(net, kind, in, &l);
    if (li < 0)
        return li;
    l->k = k;
    l->stride = stride;
    int oh = (src.h - k) / stride + 1, ow = (src.w - k) / stride + 1;
    int t = acti_tensor_new(net, src.c, oh, ow);
    if (t < 0)
        return t;
    if (kind == ACTI_L_MAXPOOL)
        net->layers[li].ws[ARGMAX] = acti_ws_new(net, net->cfg.max_batch * net->tensors[t].size);
    net->layers[li].out = t;
    return t;
}

void acti_maxpool_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    const acti_tensor *ti = &net->tensors[l->in0], *to = &net->tensors[l->out];
    const float *x = acti_val(net, l->in0);
    float *y = acti_val(net, l->out);
    int32_t *arg = (int32_t *)(void *)acti_ws(net, l->ws[ARGMAX]);
    size_t planes = n * (size_t)ti->c, ihw = (size_t)ti->h * (size_t)ti->w;
    size_t ohw = (size_t)to->h * (size_t)to->w;
    int T = net->threads;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * ihw;
        for (int oh = 0; oh < to->h; oh++)
            for (int ow = 0; ow < to->w; ow++) {
                int best = (oh * l->stride) * ti->w + ow * l->stride;
                float m = xp[best];
                for (int kh = 0; kh < l->k; kh++)
                    for (int kw = 0; kw < l->k; kw++) {
                        int j = (oh * l->stride + kh) * ti->w + ow * l->stride + kw;
                        if (xp[j] > m) {
                            m = xp[j];
                            best = j;
                        }
                    }
                size_t o = p * ohw + (size_t)oh * (size_t)to->w + (size_t)ow;
                y[o] = m;
                arg[o] = best;
            }
    }
}

void acti_maxpool_backward(act_net *net, acti_layer *l, size_t n)
{
    const acti_tensor *ti = &net->tensors[l->in0], *to = &net->tensors[l->out];
    if (!ti->needs_grad)
        return;
    const float *dy = acti_grad(net, l->out);
    float *dx = acti_grad(net, l->in0);
    const int32_t *arg = (const int32_t *)(const void *)acti_ws(net, l->ws[ARGMAX]);
    size_t planes = n * (size_t)ti->c, ihw = (size_t)ti->h * (size_t)ti->w;
    size_t ohw = (size_t)to->h * (size_t)to->w;
    int T = net->threads;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (size_t p = 0; p < planes; p++)
        for (size_t o = 0; o < ohw; o++)
            dx[p * ihw + (size_t)arg[p * ohw + o]] += dy[p * ohw + o];
}

void acti_avgpool_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    const acti_tensor *ti = &net->tensors[l->in0], *to = &net->tensors[l->out];
    const float *x = acti_val(net, l->in0);
    float *y = acti_val(net, l->out);
    size_t planes = n * (size_t)ti->c, ihw = (size_t)ti->h * (size_t)ti->w;
    size_t ohw = (size_t)to->h * (size_t)to->w;
    float inv = 1.0f / (float)(l->k * l->k);
    int T = net->threads;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (size_t p = 0; p < planes; p++)
        for (int oh = 0; oh < to->h; oh++)
            for (int ow = 0; ow < to->w; ow++) {
                float s = 0.0f;
                for (int kh = 0; kh < l->k; kh++)
                    for (int kw = 0; kw < l->k; kw++)
                        s += x[p * ihw + (size_t)((oh * l->stride + kh) * ti->w + ow * l->stride + kw)];
                y[p * ohw + (size_t)oh * (size_t)to->w + (size_t)ow] = s * inv;
            }
}

void acti_avgpool_backward(act_net *net, acti_layer *l, size_t n)
{
    const acti_tensor *ti = &net->tensors[l->in0], *to = &net->tensors[l->out];
    if (!ti->needs_grad)
        return;
    const float *dy = acti_grad(net, l->out);
    float *dx = acti_grad(net, l->in0);
    size_t planes = n * (size_t)ti->c, ihw = (size_t)ti->h * (size_t)ti->w;
    size_t ohw = (size_t)to->h * (size_t)to->w;
    float inv = 1.0f / (float)(l->k * l->k);
    int T = net->threads;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (size_t p = 0; p < planes; p++)
        for (int oh = 0; oh < to->h; oh++)
            for (int ow = 0; ow < to->w; ow++) {
                float g = dy[p * ohw + (size_t)oh * (size_t)to->w + (size_t)ow] * inv;
                for (int kh = 0; kh < l->k; kh++)
                    for (int kw = 0; kw < l->k; kw++)
                        dx[p * ihw + (size_t)((oh * l->stride + kh) * ti->w + ow * l->stride + kw)] += g;
            }
}

// ----------------------------------------------------------------------------
// global average pooling

int acti_gap_add(act_net *net, int in)
{
    const acti_tensor src = net->tensors[in];
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_GAP, in, &l);
    if (li < 0)
        return li;
    int t = acti_tensor_new(net, src.c, 1, 1);
    net->layers[li].out = t;
    return t;
}

void acti_gap_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    const acti_tensor *ti = &net->tensors[l->in0];
    const float *x = acti_val(net, l->in0);
    float *y = acti_val(net, l->out);
    size_t planes = n * (size_t)ti->c, hw = (size_t)ti->h * (size_t)ti->w;
    float inv = 1.0f / (float)hw;
    for (size_t p = 0; p < planes; p++) {
        float s = 0.0f;
        for (size_t j = 0; j < hw; j++)
            s += x[p * hw + j];
        y[p] = s * inv;
    }
}

void acti_gap_backward(act_net *net, acti_layer *l, size_t n)
{
    const acti_tensor *ti = &net->tensors[l->in0];
    const float *dy = acti_grad(net, l->out);
    float *dx = acti_grad(net, l->in0);
    size_t planes = n * (size_t)ti->c, hw = (size_t)ti->h * (size_t)ti->w;
    float inv = 1.0f / (float)hw;
    for (size_t p = 0; p < planes; p++) {
        float g = dy[p] * inv;
        for (size_t j = 0; j < hw; j++)
            dx[p * hw + j] += g;
    }
}
