/* act_layer.c -- an activation layer over any act_fn (built-in or expression) with scalar or
 * per-channel parameters (n_params, C), split over the batch across the thread team; the
 * parameter gradients are summed per fixed sample group and the groups added in order
 * (acti_n_groups), so they depend on neither scheduling nor the thread count.
 * A layer (layers.h); which activation a model asks for is resolved above, in models.c. */
#include <string.h>

#include "nn/layers.h"

enum { P };

int acti_act_add(act_net *net, int in, const act_fn *f, int per_channel, act_init how,
                 const float *p0)
{
    const acti_tensor src = net->tensors[in];
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_ACT, in, &l);
    if (li < 0)
        return li;
    size_t C = per_channel ? (size_t)src.c : 1;
    l->fn = f;
    l->act_flags = per_channel ? ACT_PER_CHANNEL : 0u;
    l->n_act_params = f->n_params;
    if (f->n_params > 0) {
        acti_init init;
        memset(&init, 0, sizeof init);
        init.kind = ACTI_INIT_ACT;
        init.act.fn = f;
        init.act.channels = C;
        init.act.rows = f->n_params;
        init.act.how = how;
        init.act.given = p0 != NULL;
        for (int k = 0; p0 && k < f->n_params; k++)
            init.act.p[k] = p0[k];
        size_t off = acti_param_block(net, li, (size_t)f->n_params * C, &init);
        for (int k = 0; k < f->n_params; k++) {
            unsigned fl = ACT_SEG_ACT | (((f->learnable >> k) & 1u) ? ACT_SEG_LEARN : 0u);
            l = &net->layers[li];
            l->p[k] = off + (size_t)k * C;
            int rc = acti_param_seg(net, li, f->param_names[k] ? f->param_names[k] : "p",
                                    l->p[k], C, fl);
            if (rc != ACT_OK)
                return rc;
        }
        acti_need_red(net, (size_t)f->n_params * C);
    }
    int t = acti_tensor_new(net, src.c, src.h, src.w);
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
        acti_nn_range(n, ACTI_TID(), ACTI_NT(), &lo, &hi);
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
    int Q = acti_n_groups(n);
#pragma omp parallel num_threads(T) if (T > 1)
    {
        int tid = ACTI_TID(), nt = ACTI_NT();
        int groups = np ? Q : nt;   /* without parameters: a thread's share is its "group" */
        size_t q0 = (size_t)tid, q1 = q0 + 1;
        if (np)
            acti_nn_range((size_t)Q, tid, nt, &q0, &q1);
        for (size_t q = q0; q < q1; q++) {
            size_t lo, hi;
            acti_nn_range(n, (int)q, groups, &lo, &hi);
            act_shape s = { hi - lo, (size_t)t->c, (size_t)t->h * (size_t)t->w };
            float *mine = np ? red + q * net->red_floats : NULL;
            if (mine)
                memset(mine, 0, np * sizeof(float));
            int rc = hi > lo ? f->backward(f, p, flags, x + lo * per, dy + lo * per,
                                           dx + lo * per, mine, s)
                             : ACT_OK;
            if (rc != ACT_OK) {
#pragma omp critical(acti_act_err)
                err = rc;
            }
        }
#pragma omp barrier
        size_t j0, j1;   /* each thread adds the groups, in order, for its share of dp */
        acti_nn_range(np, tid, nt, &j0, &j1);
        for (int k = 0; k < Q && np; k++)
            for (size_t j = j0; j < j1; j++)
                dp[j] += red[(size_t)k * net->red_floats + j];
    }
    return err;
}
