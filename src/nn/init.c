/* init.c -- weight initialisations matched to the activation (nn.h, act_nn_init): the analytic
 * gain g = 1 / sqrt(E[f(z)^2]), z ~ N(0, 1) (act_nn_act_gain; net.c draws N(0, g^2/fan_in) with
 * it), and LSUV, the data-driven rescaling of each layer to unit output variance on one batch
 * (act_net_lsuv; act_train_run calls it). The He and PyTorch rules themselves are in net.c.
 * Uses the layer structs and the forward pass (layers.h); net.c calls acti_net_gain only. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/layers.h"

static const char *const init_names[] = {
#define X(ID, name) [ACT_NN_INIT_##ID] = #name,
    ACT_NN_INIT_LIST(X)
#undef X
};

const char *act_nn_init_name(act_nn_init i)
{
    return (unsigned)i < ACT_NN_INIT_COUNT ? init_names[i] : "unknown";
}

int act_nn_init_lookup(const char *name, act_nn_init *out)
{
    for (int i = 0; name && i < ACT_NN_INIT_COUNT; i++)
        if (!strcmp(name, init_names[i])) {
            if (out)
                *out = (act_nn_init)i;
            return ACT_OK;
        }
    return ACT_ENOTFOUND;
}

// ----------------------------------------------------------------------------
// the analytic gain

/* E[f(z)^2] for z ~ N(0, 1): the trapezoid rule on [-10, 10] with GAIN_PTS points (step 1/200).
 * The Gaussian weight beyond 10 is below 1e-22; the rule converges faster than any power of the
 * step for a smooth f, and kinks on the grid (0, +-3, +-6) cost nothing measurable: relu gives
 * 0.5 to 1e-9. f runs in float (the net's kernel); the sum is in double. */
enum { GAIN_PTS = 4001 };

static int second_moment(const act_fn *f, const float *p, double *e)
{
    float x[GAIN_PTS], y[GAIN_PTS];
    const double lo = -10.0, h = 20.0 / (GAIN_PTS - 1);
    for (int i = 0; i < GAIN_PTS; i++)
        x[i] = (float)(lo + h * (double)i);
    int rc = f->forward(f, f->n_params ? p : NULL, 0u, x, y, act_shape_flat(GAIN_PTS));
    if (rc != ACT_OK)
        return ACT_EINVAL;
    double s = 0.0;
    for (int i = 0; i < GAIN_PTS; i++) {
        double z = (double)x[i], fy = (double)y[i];
        double w = (i == 0 || i == GAIN_PTS - 1 ? 0.5 : 1.0) * exp(-0.5 * z * z);
        s += w * fy * fy;
    }
    *e = s * h * 0.39894228040143267794;   /* 1 / sqrt(2 pi) */
    return isfinite(*e) ? ACT_OK : ACT_EINVAL;
}

/* Adds E[f^2] averaged over the channels of parameter block p ((n_params, C), or NULL: the
 * defaults) to *sum. Channels with the parameters of the one before reuse its value. */
static int add_moment(const act_fn *f, const float *p, size_t C, double *sum)
{
    float prev[ACT_FN_MAX_PARAMS], pc[ACT_FN_MAX_PARAMS];
    double e = 0.0, tot = 0.0;
    for (size_t c = 0; c < C; c++) {
        for (int k = 0; k < f->n_params; k++)
            pc[k] = p ? p[(size_t)k * C + c] : f->defaults[k];
        if (c == 0 || memcmp(pc, prev, (size_t)f->n_params * sizeof(float))) {
            int rc = second_moment(f, pc, &e);
            if (rc != ACT_OK)
                return rc;
            memcpy(prev, pc, sizeof pc);
        }
        tot += e;
    }
    *sum += tot / (double)C;
    return ACT_OK;
}

static int gain_of(double e, double *gain)
{
    if (!(e > 0.0) || !isfinite(e))
        return ACT_EINVAL;
    *gain = 1.0 / sqrt(e);
    return ACT_OK;
}

int act_nn_act_gain(const act_fn *fn, const float *p, size_t channels, double *gain)
{
    if (!fn || !fn->forward || !gain || fn->n_params < 0 || fn->n_params > ACT_FN_MAX_PARAMS ||
        channels == 0 || (!p && channels != 1))
        return ACT_EINVAL;
    double e = 0.0;
    int rc = add_moment(fn, p, channels, &e);
    return rc == ACT_OK ? gain_of(e, gain) : rc;
}

int acti_net_gain(const act_net *net, double *gain, act_diag *diag)
{
    double sum = 0.0;
    int layers = 0, rc = ACT_OK;
    const act_fn *f = net->cfg.act.fn;
    for (int i = 0; i < net->n_layers && rc == ACT_OK; i++) {
        const acti_layer *l = &net->layers[i];
        if (l->kind != ACTI_L_ACT)
            continue;
        size_t C = (l->act_flags & ACT_PER_CHANNEL) ? (size_t)net->tensors[l->in0].c : 1;
        f = l->fn;
        rc = add_moment(f, l->n_act_params ? net->params + l->p[0] : NULL, C, &sum);
        layers++;
    }
    if (layers == 0 && f)   /* no activation layer: the configured one, as it would start */
        rc = add_moment(f, net->cfg.act.has_params ? net->cfg.act.params : NULL, 1, &sum);
    if (rc == ACT_OK)
        rc = gain_of(layers ? sum / (double)layers : sum, gain);
    if (rc != ACT_OK)
        snprintf(diag->msg, sizeof diag->msg, "init gain: E[%.60s(z)^2] for z ~ N(0, 1) is not "
                 "finite and positive (or the function refuses its parameters)",
                 f ? f->name : "?");
    return rc;
}

// ----------------------------------------------------------------------------
// LSUV

/* The centred variance of the n samples of layer l's output, in double. */
static double out_variance(act_net *net, const acti_layer *l, size_t n)
{
    size_t m = n * net->tensors[l->out].size;
    const float *y = acti_val(net, l->out);
    double s = 0.0, ss = 0.0;
    for (size_t i = 0; i < m; i++) {
        s += (double)y[i];
        ss += (double)y[i] * (double)y[i];
    }
    double mean = s / (double)m;
    return ss / (double)m - mean * mean;
}

int act_net_lsuv(act_net *net, const float *x, size_t n, double tol, int max_iter,
                 act_diag *diag)
{
    act_diag dummy;
    if (!diag)
        diag = &dummy;
    memset(diag, 0, sizeof *diag);
    if (!net || !x || n == 0 || n > net->cfg.max_batch || !(tol > 0.0) || max_iter < 1)
        return ACT_EINVAL;
    /* one thread: the same weights whatever the net's count (convolutions round by it) */
    int threads = net->threads;
    net->threads = 1;
    memcpy(acti_val(net, 0), x, n * net->tensors[0].size * sizeof(float));
    net->n_cur = n;
    int done = 0, rc = ACT_OK;   /* layers [0, done) have run on x */
    for (int li = 0; li < net->n_layers && rc == ACT_OK; li++) {
        acti_layer *l = &net->layers[li];
        if (l->kind != ACTI_L_DENSE && l->kind != ACTI_L_CONV && l->kind != ACTI_L_DWCONV)
            continue;
        rc = acti_net_forward_layers(net, n, 0, done, li + 1);
        done = li + 1;
        for (int it = 0; rc == ACT_OK; it++) {
            double var = out_variance(net, l, n);
            if (!(var > 0.0) || !isfinite(var)) {
                act_layer_info info;
                if (act_net_layer_info(net, li, &info) != ACT_OK)
                    info.kind = "?";
                snprintf(diag->msg, sizeof diag->msg, "lsuv: layer %d (%s) has output variance "
                         "%g on the batch", li, info.kind, var);
                rc = ACT_EINVAL;
                break;
            }
            if (fabs(var - 1.0) <= tol || it == max_iter)
                break;
            float s = (float)(1.0 / sqrt(var));
            for (int k = 0; k < net->n_segs; k++) {   /* the weights: the decaying segment */
                const act_param_seg *sg = &net->segs[k];
                if (sg->layer != li || !(sg->flags & ACT_SEG_DECAY))
                    continue;
                float *w = net->params + sg->offset;
                for (size_t j = 0; j < sg->size; j++)
                    w[j] *= s;
            }
            rc = acti_net_forward_layers(net, n, 0, li, li + 1);
        }
    }
    net->threads = threads;
    net->n_cur = 0;   /* no loss or backward from these passes */
    if (rc == ACT_OK)
        net->lsuv_pending = 0;
    else if (!diag->msg[0])
        snprintf(diag->msg, sizeof diag->msg, "lsuv: the forward pass failed at layer %d: %s",
                 net->failed_layer, act_strerror(rc));
    return rc;
}
