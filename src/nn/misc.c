/* misc.c -- residual add (y = a + b) and inverted dropout (train: keep with probability 1 - p
 * and scale by 1/(1-p), the mask drawn from the net's own RNG in element order; eval: copy). */
#include <string.h>

#include "nn/layers.h"

enum { MASK };

int acti_add_add(act_net *net, int a, int b)
{
    const acti_tensor ta = net->tensors[a], tb = net->tensors[b];
    if (ta.c != tb.c || ta.h != tb.h || ta.w != tb.w)
        return ACT_ESHAPE;
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_ADD, a, &l);
    if (li < 0)
        return li;
    l->in1 = b;
    int t = acti_tensor_new(net, ta.c, ta.h, ta.w);
    net->layers[li].out = t;
    return t;
}

int acti_add_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    size_t m = n * net->tensors[l->out].size;
    const float *a = acti_val(net, l->in0), *b = acti_val(net, l->in1);
    float *y = acti_val(net, l->out);
    int T = net->threads;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t lo, hi;
        acti_nn_range(m, ACTI_TID(), ACTI_NT(), &lo, &hi);
        for (size_t i = lo; i < hi; i++)
            y[i] = a[i] + b[i];
    }
    return ACT_OK;
}

int acti_add_backward(act_net *net, acti_layer *l, size_t n)
{
    size_t m = n * net->tensors[l->out].size;
    const float *dy = acti_grad(net, l->out);
    int ids[2] = { l->in0, l->in1 }, T = net->threads;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t lo, hi;
        acti_nn_range(m, ACTI_TID(), ACTI_NT(), &lo, &hi);
        for (int k = 0; k < 2; k++) {
            if (!net->tensors[ids[k]].needs_grad)
                continue;
            float *d = acti_grad(net, ids[k]);
            if (l->assign & (1u << k))
                memcpy(d + lo, dy + lo, (hi - lo) * sizeof(float));
            else
                for (size_t i = lo; i < hi; i++)
                    d[i] += dy[i];
        }
    }
    return ACT_OK;
}

int acti_dropout_add(act_net *net, int in, float rate)
{
    const acti_tensor src = net->tensors[in];
    if (!(rate >= 0.0f && rate < 1.0f))
        return ACT_EINVAL;
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_DROPOUT, in, &l);
    if (li < 0)
        return li;
    l->rate = rate;
    l->ws[MASK] = acti_ws_new(net, net->cfg.max_batch * src.size);
    int t = acti_tensor_new(net, src.c, src.h, src.w);
    net->layers[li].out = t;
    return t;
}

int acti_dropout_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    size_t m = n * net->tensors[l->out].size;
    const float *x = acti_val(net, l->in0);
    float *y = acti_val(net, l->out), *mask = acti_ws(net, l->ws[MASK]);
    float keep = 1.0f - l->rate, scale = 1.0f / keep;
    for (size_t i = 0; i < m; i++) {
        mask[i] = !train ? 1.0f : (acti_rng_uniform(&net->rng) < (double)keep ? scale : 0.0f);
        y[i] = x[i] * mask[i];
    }
    return ACT_OK;
}

int acti_dropout_backward(act_net *net, acti_layer *l, size_t n)
{
    size_t m = n * net->tensors[l->out].size;
    const float *dy = acti_grad(net, l->out), *mask = acti_ws(net, l->ws[MASK]);
    float *dx = acti_grad(net, l->in0);
    if (l->assign & 1u)
        for (size_t i = 0; i < m; i++)
            dx[i] = dy[i] * mask[i];
    else
        for (size_t i = 0; i < m; i++)
            dx[i] += dy[i] * mask[i];
    return ACT_OK;
}
