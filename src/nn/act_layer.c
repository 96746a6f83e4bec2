/* act_layer.c -- an activation layer over any act_fn (built-in or expression) with scalar or
 * per-channel parameters (n_params, C), split over the batch across the thread team; the
 * parameter gradients are reduced in thread order, so they do not depend on scheduling. */
#include <string.h>

#include "nn/nn_impl.h"

enum { P };

int acti_act_add(act_net *net, int in, const act_nn_act *a, int stem)
{
    (void)stem;
    const acti_tensor src = net->tensors[in];
    int t;
    switch (a->kind) {
    case ACT_NN_ACT_FN:
        break;
    case ACT_NN_ACT_META_ACON:
    case ACT_NN_ACT_FRELU:
    case ACT_NN_ACT_ACON_FRELU:
        return acti_special_act_add(net, in, a);
    case ACT_NN_ACT_KIND_COUNT:
        return ACT_EINVAL;
    }
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_ACT, in, &l);
    if (li < 0)
        return li;
    const act_fn *f = a->fn ? a->fn : act_act_fn(ACT_ACT_RELU);
    int pc = a->per_channel < 0 ? (f->flags & ACT_ACT_CHANNEL) != 0 : a->per_channel != 0;
    size_t C = pc ? (size_t)src.c : 1;
    l->fn = f;
    l->act_flags = pc ? ACT_PER_CHANNEL : 0u;
    l->n_act_params = f->n_params;
    if (f->n_params > 0) {
        size_t off = acti_param_block(net, li, (size_t)f->n_params * C);
        for (int k = 0; k < f->n_params; k++) {
            unsigned fl = ACT_SEG_ACT | (((f->learnable >> k) & 1u) ? ACT_SEG_LEARN : 0u);
            l = &net->layers[li];
            l->p[k] = off + (size_t)k * C;
            int rc = acti_param_seg(net, li, f->param_names[k] ? f->param_names[k] : "p",
                                    l->p[k], C, fl, ACTI_INIT_ACT, 0);
            if (rc != ACT_OK)
                return rc;
        }
        acti_need_red(net, (size_t)f->n_params * C);
    }
    t = acti_tensor_new(net, src.c, src.h, src.w);
    net->layers[li].out = t;
    return t;
}

int acti_act_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    const acti_tensor *t = &net->tensors[l->in0];
    const float *x = acti_val(net, l->in0), *p = l->n_act_params ? acti_P(net, l, P) : NULL;
    float *y = acti_val(net, l->out);
    const act_fn *f = l->fn;
    size_t per = t->size;
    int T = net->threads, err = ACT_OK;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t lo, hi;
        acti_range(n, ACTI_TID(), ACTI_NT(), &lo, &hi);
        act_shape s = { hi - lo, (size_t)t->c, (size_t)t->h * (size_t)t->w };
        int rc = hi > lo ? f->forward(f, p, l->act_flags, x + lo * per, y + lo * per, s) : ACT_OK;
        if (rc != ACT_OK) {
#pragma omp critical(acti_act_err)
            err = rc;
        }
    }
    return err;
}

int acti_act_backward(act_net *net, acti_layer *l, size_t n)
{
    const acti_tensor *t = &net->tensors[l->in0];
    const float *x = acti_val(net, l->in0), *dy = acti_grad(net, l->out);
    const float *p = l->n_act_params ? acti_P(net, l, P) : NULL;
    float *dx = acti_grad(net, l->in0);
    float *dp = l->n_act_params ? acti_G(net, l, P) : NULL;
    size_t np = (size_t)l->n_act_params * ((l->act_flags & ACT_PER_CHANNEL) ? (size_t)t->c : 1);
    float *red = acti_ws(net, net->ws_red);
    const act_fn *f = l->fn;
    size_t per = t->size;
    int T = net->threads;
    unsigned flags = l->act_flags | ((l->assign & 1u) ? ACT_DX_ASSIGN : 0u);
    int err = ACT_OK;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        int tid = ACTI_TID(), nt = ACTI_NT();
        size_t lo, hi;
        acti_range(n, tid, nt, &lo, &hi);
        act_shape s = { hi - lo, (size_t)t->c, (size_t)t->h * (size_t)t->w };
        float *mine = np ? red + (size_t)tid * net->red_floats : NULL;
        if (mine)
            memset(mine, 0, np * sizeof(float));
        int rc = hi > lo ? f->backward(f, p, flags, x + lo * per, dy + lo * per, dx + lo * per,
                                       mine, s)
                         : ACT_OK;
        if (rc != ACT_OK) {
#pragma omp critical(acti_act_err)
            err = rc;
        }
#pragma omp barrier
#pragma omp single
        for (int k = 0; np && k < nt; k++)
            for (size_t j = 0; j < np; j++)
                dp[j] += red[(size_t)k * net->red_floats + j];
    }
    return err;
}
