/* shuffle.c -- the channel plumbing of ShuffleNetV2 (Ma et al. 2018, arXiv 1807.11164): a slice
 * of channels [c0, c0 + c) (the channel split is two slices), the concatenation of two tensors
 * along channels, and the channel shuffle of g groups (the (g, C/g) grid of channels read
 * transposed). Pure data movement over (N, C, H*W) planes. Threads split the samples, so a
 * sample's planes, and the gradient planes they feed, have one writer. */
#include <string.h>

#include "nn/layers.h"

static size_t plane(const act_net *net, int t)
{
    return (size_t)net->tensors[t].h * (size_t)net->tensors[t].w;
}

// ----------------------------------------------------------------------------
// slice: x (N, C, H, W) -> y (N, c, H, W), y[:, j] = x[:, c0 + j]

int acti_slice_add(act_net *net, int in, int c0, int c)
{
    const acti_tensor src = net->tensors[in];
    if (c0 < 0 || c < 1 || c0 > src.c - c)
        return ACT_ESHAPE;
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_SLICE, in, &l);
    if (li < 0)
        return li;
    l->k = c0;
    l->oc = c;
    int t = acti_tensor_new(net, c, src.h, src.w);
    net->layers[li].out = t;
    return t;
}

int acti_slice_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    size_t hw = plane(net, l->in0), C = (size_t)net->tensors[l->in0].c;
    size_t run = (size_t)l->oc * hw, skip = (size_t)l->k * hw;
    const float *x = acti_val(net, l->in0);
    float *y = acti_val(net, l->out);
    int T = net->threads;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t lo, hi;
        acti_nn_range(n, ACTI_TID(), ACTI_NT(), &lo, &hi);
        for (size_t i = lo; i < hi; i++)
            memcpy(y + i * run, x + i * C * hw + skip, run * sizeof(float));
    }
    return ACT_OK;
}

/* Adds: the slice covers only its channels of the input's gradient (net.c, can_assign). */
int acti_slice_backward(act_net *net, acti_layer *l, size_t n)
{
    if (!net->tensors[l->in0].needs_grad)
        return ACT_OK;
    size_t hw = plane(net, l->in0), C = (size_t)net->tensors[l->in0].c;
    size_t run = (size_t)l->oc * hw, skip = (size_t)l->k * hw;
    const float *dy = acti_grad(net, l->out);
    float *dx = acti_grad(net, l->in0);
    int T = net->threads;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t lo, hi;
        acti_nn_range(n, ACTI_TID(), ACTI_NT(), &lo, &hi);
        for (size_t i = lo; i < hi; i++) {
            const float *g = dy + i * run;
            float *d = dx + i * C * hw + skip;
            for (size_t j = 0; j < run; j++)
                d[j] += g[j];
        }
    }
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// concat: a (N, Ca, H, W), b (N, Cb, H, W) -> y (N, Ca + Cb, H, W), a's channels first

int acti_concat_add(act_net *net, int a, int b)
{
    const acti_tensor ta = net->tensors[a], tb = net->tensors[b];
    if (ta.h != tb.h || ta.w != tb.w)
        return ACT_ESHAPE;
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_CONCAT, a, &l);
    if (li < 0)
        return li;
    l->in1 = b;
    l->oc = ta.c + tb.c;
    int t = acti_tensor_new(net, ta.c + tb.c, ta.h, ta.w);
    net->layers[li].out = t;
    return t;
}

int acti_concat_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    size_t ra = net->tensors[l->in0].size, rb = net->tensors[l->in1].size;
    const float *a = acti_val(net, l->in0), *b = acti_val(net, l->in1);
    float *y = acti_val(net, l->out);
    int T = net->threads;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t lo, hi;
        acti_nn_range(n, ACTI_TID(), ACTI_NT(), &lo, &hi);
        for (size_t i = lo; i < hi; i++) {
            memcpy(y + i * (ra + rb), a + i * ra, ra * sizeof(float));
            memcpy(y + i * (ra + rb) + ra, b + i * rb, rb * sizeof(float));
        }
    }
    return ACT_OK;
}

/* Writes (=) or adds each input's part as planned (acti_layer.assign), input 0 before input 1
 * within a sample: a concat of a tensor with itself adds its second part to its first. */
int acti_concat_backward(act_net *net, acti_layer *l, size_t n)
{
    int ids[2] = { l->in0, l->in1 }, T = net->threads;
    size_t r[2] = { net->tensors[l->in0].size, net->tensors[l->in1].size };
    const float *dy = acti_grad(net, l->out);
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t lo, hi;
        acti_nn_range(n, ACTI_TID(), ACTI_NT(), &lo, &hi);
        for (size_t i = lo; i < hi; i++)
            for (int k = 0; k < 2; k++) {
                if (!net->tensors[ids[k]].needs_grad)
                    continue;
                const float *g = dy + i * (r[0] + r[1]) + (k ? r[0] : 0);
                float *d = acti_grad(net, ids[k]) + i * r[k];
                if (l->assign & (1u << k))
                    memcpy(d, g, r[k] * sizeof(float));
                else
                    for (size_t j = 0; j < r[k]; j++)
                        d[j] += g[j];
            }
    }
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// shuffle: x (N, C, H, W) -> y, channel q * (C/g) + j of x is channel j * g + q of y
// (torch: x.view(N, g, C/g, H, W).transpose(1, 2).reshape(N, C, H, W))

int acti_shuffle_add(act_net *net, int in, int groups)
{
    const acti_tensor src = net->tensors[in];
    if (groups < 1 || src.c % groups != 0)
        return ACT_ESHAPE;
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_SHUFFLE, in, &l);
    if (li < 0)
        return li;
    l->k = groups;
    l->oc = src.c;
    int t = acti_tensor_new(net, src.c, src.h, src.w);
    net->layers[li].out = t;
    return t;
}

int acti_shuffle_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    size_t hw = plane(net, l->in0), C = (size_t)l->oc, g = (size_t)l->k, cpg = C / g;
    const float *x = acti_val(net, l->in0);
    float *y = acti_val(net, l->out);
    int T = net->threads;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t lo, hi;
        acti_nn_range(n, ACTI_TID(), ACTI_NT(), &lo, &hi);
        for (size_t i = lo; i < hi; i++)
            for (size_t q = 0; q < g; q++)
                for (size_t j = 0; j < cpg; j++)
                    memcpy(y + (i * C + j * g + q) * hw, x + (i * C + q * cpg + j) * hw,
                           hw * sizeof(float));
    }
    return ACT_OK;
}

int acti_shuffle_backward(act_net *net, acti_layer *l, size_t n)
{
    if (!net->tensors[l->in0].needs_grad)
        return ACT_OK;
    size_t hw = plane(net, l->in0), C = (size_t)l->oc, g = (size_t)l->k, cpg = C / g;
    const float *dy = acti_grad(net, l->out);
    float *dx = acti_grad(net, l->in0);
    int T = net->threads, assign = (l->assign & 1u) != 0;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t lo, hi;
        acti_nn_range(n, ACTI_TID(), ACTI_NT(), &lo, &hi);
        for (size_t i = lo; i < hi; i++)
            for (size_t q = 0; q < g; q++)
                for (size_t j = 0; j < cpg; j++) {
                    const float *s = dy + (i * C + j * g + q) * hw;
                    float *d = dx + (i * C + q * cpg + j) * hw;
                    if (assign)
                        memcpy(d, s, hw * sizeof(float));
                    else
                        for (size_t e = 0; e < hw; e++)
                            d[e] += s[e];
                }
    }
    return ACT_OK;
}
