/* train.c -- the training loop: seeded split and shuffling, per-channel normalisation, random
 * crop and flip, mini-batches of any size (the last one may be short), schedule, optimiser,
 * per-epoch validation and test, divergence detection, checkpoint and resume. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "nn/nn_impl.h"

act_train_config act_train_config_default(void)
{
    act_train_config c;
    memset(&c, 0, sizeof c);
    c.epochs = 5;
    c.batch = 128;
    c.opt = act_optim_config_default(ACT_OPT_SGD);
    c.sched.kind = ACT_SCHED_CONSTANT;
    c.sched.lr = 0.01f;
    c.sched.gamma = 0.1f;
    c.sched.step_every = 30.0f;
    c.val_size = 5000;
    c.seed = 1;
    return c;
}

static void shuffle(uint32_t *a, size_t n, uint64_t *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(acti_rng_next(rng) % i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* Image idx of d into x (c, h, w), normalised; crop offsets (dy, dx) with zero fill, flip. */
static void load_image(const act_dataset *d, size_t idx, const float *mean, const float *istd,
                       int oy, int ox, int flip, float *x)
{
    int H = d->h, W = d->w;
    const uint8_t *src = d->x + idx * (size_t)d->c * (size_t)H * (size_t)W;
    for (int c = 0; c < d->c; c++) {
        const uint8_t *s = src + (size_t)c * (size_t)H * (size_t)W;
        float *o = x + (size_t)c * (size_t)H * (size_t)W;
        float m = mean[c], is = istd[c];
        for (int i = 0; i < H; i++) {
            int si = i + oy;
            for (int j = 0; j < W; j++) {
                int sj = (flip ? W - 1 - j : j) + ox;
                float v = 0.0f;
                if (si >= 0 && si < H && sj >= 0 && sj < W)
                    v = ((float)s[si * W + sj] * (1.0f / 255.0f) - m) * is;
                o[i * W + j] = v;
            }
        }
    }
}

static int eval_indices(act_net *net, const act_dataset *d, const uint32_t *idx, size_t n,
                        const float *mean, const float *istd, float *xb, int *yb, double *loss,
                        double *acc)
{
    size_t B = net->cfg.max_batch, per = (size_t)d->c * (size_t)d->h * (size_t)d->w;
    double tot = 0.0;
    size_t hits = 0;
    for (size_t s = 0; s < n; s += B) {
        size_t m = n - s < B ? n - s : B;
        for (size_t i = 0; i < m; i++) {
            size_t k = idx ? idx[s + i] : s + i;
            load_image(d, k, mean, istd, 0, 0, 0, xb + i * per);
            yb[i] = d->y[k];
        }
        int rc = act_net_forward(net, xb, m, 0, NULL);
        double l;
        size_t h;
        if (rc == ACT_OK)
            rc = act_net_loss(net, yb, m, 0.0f, &l, &h);
        if (rc != ACT_OK)
            return rc;
        tot += l * (double)m;
        hits += h;
    }
    *loss = n ? tot / (double)n : (double)NAN;
    *acc = n ? (double)hits / (double)n : (double)NAN;
    return ACT_OK;
}

static int check_shape(const act_net *net, const act_dataset *d)
{
    if (!d || !d->x || d->c != net->cfg.in_c || d->h != net->cfg.in_h || d->w != net->cfg.in_w)
        return ACT_ESHAPE;
    for (size_t i = 0; i < d->n; i++)
        if (d->y[i] >= net->cfg.n_classes)
            return ACT_EINVAL;
    return ACT_OK;
}

int act_net_evaluate(act_net *net, const act_dataset *d, size_t n, const float *mean,
                     const float *std, double *loss, double *acc)
{
    if (!net || !d || !mean || !std || !loss || !acc || n > d->n)
        return ACT_EINVAL;
    int rc = check_shape(net, d);
    if (rc != ACT_OK)
        return rc;
    size_t per = (size_t)d->c * (size_t)d->h * (size_t)d->w;
    float *xb = malloc(net->cfg.max_batch * per * sizeof(float));
    int *yb = malloc(net->cfg.max_batch * sizeof(int));
    float istd[16];
    if (!xb || !yb || d->c > 16) {
        free(xb);
        free(yb);
        return xb && yb ? ACT_EINVAL : ACT_ENOMEM;
    }
    for (int c = 0; c < d->c; c++)
        istd[c] = 1.0f / std[c];
    rc = eval_indices(net, d, NULL, n, mean, istd, xb, yb, loss, acc);
    free(xb);
    free(yb);
    return rc;
}

int act_train_run(act_net *net, const act_train_config *cfg, const act_dataset *train,
                  const act_dataset *test, act_epoch_stats *last, int *done, act_diag *diag)
{
    act_diag dummy;
    if (!diag)
        diag = &dummy;
    memset(diag, 0, sizeof *diag);
    if (done)
        *done = 0;
    if (!net || !cfg || !train || cfg->batch == 0 || cfg->batch > net->cfg.max_batch ||
        cfg->epochs < 1 || train->c > 16) {
        snprintf(diag->msg, sizeof diag->msg, "invalid training configuration");
        return ACT_EINVAL;
    }
    int rc = check_shape(net, train);
    if (rc == ACT_OK && test)
        rc = check_shape(net, test);
    if (rc != ACT_OK) {
        snprintf(diag->msg, sizeof diag->msg,
                 "data (%dx%dx%d, labels < %d) does not fit the network (%dx%dx%d, %d classes)",
                 train->c, train->h, train->w, train->n_classes, net->cfg.in_c, net->cfg.in_h,
                 net->cfg.in_w, net->cfg.n_classes);
        return rc;
    }
    if (cfg->val_size >= train->n) {
        snprintf(diag->msg, sizeof diag->msg, "validation split (%zu) leaves no training data",
                 cfg->val_size);
        return ACT_EINVAL;
    }
    act_threads_set(1);   /* the net splits the activation kernels across its own threads */

    size_t N = train->n, per = (size_t)train->c * (size_t)train->h * (size_t)train->w;
    size_t n_val = cfg->val_size, n_tr = N - n_val;
    if (cfg->train_limit && cfg->train_limit < n_tr)
        n_tr = cfg->train_limit;
    size_t n_test = test ? test->n : 0;
    if (cfg->test_limit && cfg->test_limit < n_test)
        n_test = cfg->test_limit;

    uint32_t *perm = malloc(N * sizeof *perm);
    uint32_t *order = malloc(n_tr * sizeof *order);
    float *xb = malloc(net->cfg.max_batch * per * sizeof(float));
    int *yb = malloc(net->cfg.max_batch * sizeof(int));
    act_optim *opt = act_optim_new(&cfg->opt, net);
    if (!perm || !order || !xb || !yb || !opt) {
        rc = ACT_ENOMEM;
        goto out;
    }
    uint64_t rng = cfg->seed ^ 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < N; i++)
        perm[i] = (uint32_t)i;
    shuffle(perm, N, &rng);
    const uint32_t *val_idx = perm + (N - n_val);

    /* Per-channel mean and std of the training split, in double. */
    float mean[16], istd[16];
    for (int c = 0; c < train->c; c++) {
        double s = 0.0, ss = 0.0;
        size_t hw = (size_t)train->h * (size_t)train->w;
        for (size_t i = 0; i < n_tr; i++) {
            const uint8_t *p = train->x + (size_t)perm[i] * per + (size_t)c * hw;
            for (size_t j = 0; j < hw; j++) {
                double v = (double)p[j] / 255.0;
                s += v;
                ss += v * v;
            }
        }
        double cnt = (double)(n_tr * hw), m = s / cnt, var = ss / cnt - m * m;
        mean[c] = (float)m;
        istd[c] = (float)(1.0 / sqrt(var > 1e-12 ? var : 1e-12));
    }

    int start = 0;
    if (cfg->resume) {
        rc = act_ckpt_load(cfg->resume, net, opt, &start, diag);
        if (rc != ACT_OK)
            goto out;
        if (start >= cfg->epochs) {
            snprintf(diag->msg, sizeof diag->msg, "%s: already trained for %d epochs",
                     cfg->resume, start);
            rc = ACT_EINVAL;
            goto out;
        }
    }
    size_t n_batches = (n_tr + cfg->batch - 1) / cfg->batch;
    if (cfg->max_batches && cfg->max_batches < n_batches)
        n_batches = cfg->max_batches;
    for (int ep = start; ep < cfg->epochs; ep++) {
        uint64_t erng = cfg->seed * 0x100000001b3ULL + (uint64_t)ep * 0x9e3779b97f4a7c15ULL + 7;
        memcpy(order, perm, n_tr * sizeof *order);
        shuffle(order, n_tr, &erng);
        double t0 = acti_now(), tot = 0.0;
        size_t hits = 0, seen = 0;
        float lr = 0.0f;
        for (size_t b = 0; b < n_batches; b++) {
            size_t s = b * cfg->batch, m = n_tr - s < cfg->batch ? n_tr - s : cfg->batch;
            for (size_t i = 0; i < m; i++) {
                int oy = 0, ox = 0, flip = 0;
                if (cfg->crop_pad > 0) {
                    uint64_t r = acti_rng_next(&erng);
                    int span = 2 * cfg->crop_pad + 1;
                    oy = (int)(r % (uint64_t)span) - cfg->crop_pad;
                    ox = (int)((r >> 20) % (uint64_t)span) - cfg->crop_pad;
                }
                if (cfg->flip)
                    flip = (acti_rng_next(&erng) >> 63) != 0;
                load_image(train, order[s + i], mean, istd, oy, ox, flip, xb + i * per);
                yb[i] = train->y[order[s + i]];
            }
            lr = act_sched_lr(&cfg->sched, (double)ep + (double)b / (double)n_batches,
                              cfg->epochs);
            double l;
            size_t h;
            rc = act_net_forward(net, xb, m, 1, NULL);
            if (rc == ACT_OK)
                rc = act_net_loss(net, yb, m, cfg->label_smoothing, &l, &h);
            if (rc == ACT_OK && !isfinite(l))
                rc = ACT_EDIVERGED;
            if (rc == ACT_OK)
                rc = act_net_backward(net);
            if (rc == ACT_OK)
                rc = act_optim_step(opt, net, lr);
            if (rc != ACT_OK) {
                if (rc == ACT_EDIVERGED)
                    snprintf(diag->msg, sizeof diag->msg,
                             "non-finite loss or gradient at epoch %d, batch %zu", ep + 1, b + 1);
                goto out;
            }
            tot += l * (double)m;
            hits += h;
            seen += m;
            if (cfg->on_batch) {
                double el = acti_now() - t0;
                act_train_progress p = { ep + 1, cfg->epochs, b + 1, n_batches, seen,
                                         tot / (double)seen, el > 0 ? (double)seen / el : 0.0, el };
                cfg->on_batch(cfg->user, &p);
            }
        }
        act_epoch_stats st;
        memset(&st, 0, sizeof st);
        st.epoch = ep + 1;
        st.seconds = acti_now() - t0;
        st.train_loss = tot / (double)seen;
        st.train_acc = (double)hits / (double)seen;
        st.images_per_s = st.seconds > 0 ? (double)seen / st.seconds : 0.0;
        st.lr = lr;
        st.val_loss = st.val_acc = st.test_loss = st.test_acc = (double)NAN;
        if (n_val)
            rc = eval_indices(net, train, val_idx, n_val, mean, istd, xb, yb, &st.val_loss,
                              &st.val_acc);
        if (rc == ACT_OK && test && n_test)
            rc = eval_indices(net, test, NULL, n_test, mean, istd, xb, yb, &st.test_loss,
                              &st.test_acc);
        if (rc != ACT_OK)
            goto out;
        if (last)
            *last = st;
        if (done)
            *done = ep + 1;
        if (cfg->checkpoint) {
            rc = act_ckpt_save(cfg->checkpoint, net, opt, ep + 1);
            if (rc != ACT_OK) {
                snprintf(diag->msg, sizeof diag->msg, "%s: cannot write checkpoint",
                         cfg->checkpoint);
                goto out;
            }
        }
        if (cfg->on_epoch)
            cfg->on_epoch(cfg->user, &st);
    }
out:
    act_optim_free(opt);
    free(perm);
    free(order);
    free(xb);
    free(yb);
    return rc;
}
