/* dense.c -- fully connected layer y = x W^T + b (three sgemms per step), and flatten (a view:
 * the output tensor shares the input's memory). */
#include <string.h>

#include "nn/layers.h"

enum { W, B };

int acti_dense_add(act_net *net, int in, int out_features)
{
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_DENSE, in, &l);
    if (li < 0)
        return li;
    size_t fan = net->tensors[in].size;
    if (fan > ((size_t)1 << 28) / (size_t)out_features)
        return ACT_ELIMIT;
    l->oc = out_features;
    l->bn = 1;
    l->p[W] = acti_param_new(net, li, "w", (size_t)out_features * fan,
                             ACT_SEG_LEARN | ACT_SEG_DECAY, ACTI_INIT_HE, fan);
    l->p[B] = acti_param_new(net, li, "b", (size_t)out_features, ACT_SEG_LEARN, ACTI_INIT_BIAS,
                             fan);
    int t = acti_tensor_new(net, out_features, 1, 1);
    net->layers[li].out = t;
    return t;
}

// x (N, IN); W (OC, IN); b (OC); y (N, OC)
int acti_dense_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    int in = (int)net->tensors[l->in0].size, oc = l->oc, T = net->threads;
    const float *x = acti_val(net, l->in0), *w = acti_P(net, l, W), *b = acti_P(net, l, B);
    float *y = acti_val(net, l->out);
#pragma omp parallel num_threads(T) if (T > 1)
    {
        int tid = ACTI_TID(), nt = ACTI_NT();
        size_t lo, hi;
        acti_nn_range(n, tid, nt, &lo, &hi);
        for (size_t i = lo; i < hi; i++)
            memcpy(y + i * (size_t)oc, b, (size_t)oc * sizeof(float));
#pragma omp barrier
        acti_gemm(net, tid, nt, 0, 1, (int)n, oc, in, 1.0f, x, in, w, in, 1.0f, y, oc);
    }
    return ACT_OK;
}

// dx += dy W (= when l->assign);  dW += dy^T x;  db += sum_n dy
int acti_dense_backward(act_net *net, acti_layer *l, size_t n)
{
    int in = (int)net->tensors[l->in0].size, oc = l->oc, T = net->threads;
    int need_dx = net->tensors[l->in0].needs_grad;
    const float *x = acti_val(net, l->in0), *w = acti_P(net, l, W), *dy = acti_grad(net, l->out);
    float *dx = acti_grad(net, l->in0), *dw = acti_G(net, l, W), *db = acti_G(net, l, B);
#pragma omp parallel num_threads(T) if (T > 1)
    {
        int tid = ACTI_TID(), nt = ACTI_NT();
        if (need_dx)
            acti_gemm(net, tid, nt, 0, 0, (int)n, in, oc, 1.0f, dy, oc, w, in,
                      (l->assign & 1u) ? 0.0f : 1.0f, dx, in);
        acti_gemm(net, tid, nt, 1, 0, oc, in, (int)n, 1.0f, dy, oc, x, in, 1.0f, dw, in);
        size_t lo, hi;
        acti_nn_range((size_t)oc, tid, nt, &lo, &hi);
        for (size_t i = 0; i < n; i++) {
            const float *d = dy + i * (size_t)oc;
            for (size_t o = lo; o < hi; o++)
                db[o] += d[o];
        }
    }
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// flatten: (N, C, H, W) viewed as (N, C*H*W, 1, 1)

int acti_flatten_add(act_net *net, int in)
{
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_FLATTEN, in, &l);
    if (li < 0)
        return li;
    const acti_tensor src = net->tensors[in];
    size_t before = net->arena_floats;
    int t = acti_tensor_new(net, (int)src.size, 1, 1);
    if (t < 0)
        return t;
    net->arena_floats = before;      /* a view: no storage of its own */
    net->tensors[t].val_off = src.val_off;
    net->tensors[t].grad_off = src.grad_off;
    net->tensors[t].needs_grad = src.needs_grad;
    net->layers[li].out = t;
    return t;
}

int acti_flatten_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)net; (void)l; (void)n; (void)train;
    return ACT_OK;
}

int acti_flatten_backward(act_net *net, acti_layer *l, size_t n)
{
    (void)net; (void)l; (void)n;
    return ACT_OK;
}
