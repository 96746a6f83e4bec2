/* pass.c -- the passes over a built net: forward (each layer in order), softmax cross-entropy
 * loss, backward (each layer in reverse), through a table of every kind's forward / backward.
 * Sits above the layers (layers.h), beside the model zoo; net.c below calls no layer.
 * Order: net.h <- layers.h (and pass.c) <- models.h <- nn_impl.h. */
#include <math.h>
#include <string.h>

#include "nn/layers.h"

typedef int layer_fn(act_net *net, acti_layer *l, size_t n, int train);
typedef int layer_bwd_fn(act_net *net, acti_layer *l, size_t n);

static layer_fn *const fwd_table[] = {
#define X(ID, name) [ACTI_L_##ID] = acti_##name##_forward,
    ACTI_LAYER_LIST(X)
#undef X
};
static layer_bwd_fn *const bwd_table[] = {
#define X(ID, name) [ACTI_L_##ID] = acti_##name##_backward,
    ACTI_LAYER_LIST(X)
#undef X
};

int acti_net_forward_layers(act_net *net, size_t n, int train, int from, int to)
{
    net->train = train;
    int prof = net->cfg.profile;
    net->failed_layer = -1;
    for (int i = from; i < to; i++) {
        acti_layer *l = &net->layers[i];
        double t0 = prof ? acti_now() : 0.0;
        int rc = fwd_table[l->kind](net, l, n, train);
        if (prof)
            l->t_fwd += acti_now() - t0;
        if (rc != ACT_OK) {   /* e.g. an activation whose parameters left its domain */
            net->failed_layer = i;
            net->failed_n = n;
            net->n_cur = 0;   /* no loss or backward from a failed forward */
            return rc;
        }
    }
    return ACT_OK;
}

int act_net_forward(act_net *net, const float *x, size_t n, int train, const float **logits)
{
    if (!net || !x || n == 0 || n > net->cfg.max_batch)
        return ACT_EINVAL;
    memcpy(acti_val(net, 0), x, n * net->tensors[0].size * sizeof(float));
    net->n_cur = n;
    int rc = acti_net_forward_layers(net, n, train, 0, net->n_layers);
    if (rc != ACT_OK)
        return rc;
    if (logits)
        *logits = acti_val(net, net->logits_t);
    return ACT_OK;
}

/* Softmax cross-entropy with label smoothing; writes dlogits = (softmax - target) / n into the
 * logits' gradient. Loss per row in double: log-sum-exp with the max subtracted. */
int act_net_loss(act_net *net, const int *labels, size_t n, float smoothing, double *loss,
                 size_t *correct)
{
    if (!net || !labels || n != net->n_cur || n == 0 || !(smoothing >= 0.0f) ||
        smoothing >= 1.0f)
        return ACT_EINVAL;
    int K = net->cfg.n_classes;
    const float *z = acti_val(net, net->logits_t);
    float *dz = acti_grad(net, net->logits_t);
    double total = 0.0;
    size_t hits = 0;
    float inv_n = 1.0f / (float)n;
    float off = smoothing / (float)K, on = 1.0f - smoothing + off;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= K)
            return ACT_EINVAL;
        const float *zi = z + i * (size_t)K;
        float *di = dz + i * (size_t)K;
        float m = zi[0];
        int arg = 0;
        for (int k = 1; k < K; k++) {
            if (zi[k] > m) {
                m = zi[k];
                arg = k;
            }
        }
        hits += arg == labels[i];
        double s = 0.0;
        for (int k = 0; k < K; k++)
            s += exp((double)(zi[k] - m));
        double lse = (double)m + log(s);
        double li = 0.0;
        for (int k = 0; k < K; k++) {
            float tk = k == labels[i] ? on : off;
            double pk = exp((double)zi[k] - lse);
            li -= (double)tk * ((double)zi[k] - lse);
            di[k] = ((float)pk - tk) * inv_n;
        }
        total += li;
    }
    if (loss)
        *loss = total / (double)n;
    if (correct)
        *correct = hits;
    return ACT_OK;
}

int act_net_backward(act_net *net)
{
    if (!net || net->n_cur == 0)
        return ACT_EINVAL;
    size_t n = net->n_cur;
    if (!net->grads_zero)
        memset(net->grads, 0, net->n_params * sizeof(float));
    net->grads_zero = 0;
    for (int i = 1; i < net->n_tensors; i++) {
        const acti_tensor *t = &net->tensors[i];
        if (t->clear)
            memset(net->arena + t->grad_off, 0, n * t->size * sizeof(float));
    }
    int prof = net->cfg.profile;
    net->failed_layer = -1;
    for (int i = net->n_layers - 1; i >= 0; i--) {
        acti_layer *l = &net->layers[i];
        double t0 = prof ? acti_now() : 0.0;
        int rc = bwd_table[l->kind](net, l, n);
        if (prof)
            l->t_bwd += acti_now() - t0;
        if (rc != ACT_OK) {
            net->failed_layer = i;
            net->failed_n = n;
            return rc;
        }
    }
    return ACT_OK;
}
