/* train.c -- the training loop: seeded split and shuffling, per-channel normalisation, random
 * crop and flip, mini-batches of any size (the last one may be short), schedule, optimiser,
 * per-epoch validation and test, divergence detection, checkpoint and resume. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "actlab/run.h"
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

/* The first line of this run's record (the train.* lines, then run_info) whose value differs
 * in the stored record; train.epochs (a resume may train longer), threads and gemm (how the
 * machine computes the same experiment: acti_run_key_varies) may change. */
static int same_run(const char *stored, const char *mine, const char *path, act_diag *diag)
{
    for (const char *line = mine; *line;) {
        const char *end = strchr(line, '\n'), *eq = strchr(line, '=');
        if (!end)
            end = line + strlen(line);
        if (!eq || eq > end) {
            line = *end ? end + 1 : end;
            continue;
        }
        char key[96];
        snprintf(key, sizeof key, "%.*s", (int)(eq - line), line);
        size_t a_len = (size_t)(end - eq - 1), b_len = 0;
        const char *b = act_run_text_value(stored, key, &b_len);
        if (strcmp(key, "train.epochs") && !acti_run_key_varies(key, strlen(key)) &&
            (!b || a_len != b_len || strncmp(eq + 1, b, a_len))) {
            int bl = b ? (b_len < 48 ? (int)b_len : 48) : 6, al = a_len < 48 ? (int)a_len : 48;
            snprintf(diag->msg, sizeof diag->msg, "%.60s: the checkpoint's run has %.40s=%.*s, "
                     "this one %.40s=%.*s (a resume continues the stored run)", path, key, bl,
                     b ? b : "(none)", key, al, eq + 1);
            return ACT_EINVAL;
        }
        line = *end ? end + 1 : end;
    }
    return ACT_OK;
}

/* A pass that failed at a layer: an activation parameter that became non-finite is a divergence;
 * a finite one outside the activation's domain (softplus beta = 0) is ERANGE. Names the layer,
 * the function, the parameter and the channel. */
static int pass_failed(act_net *net, int rc, int ep, size_t b, act_diag *diag)
{
    int li = act_net_failed_layer(net);
    if (li < 0)
        return rc;
    const acti_layer *l = &net->layers[li];
    char where[96];
    act_layer_info info;
    if (act_net_layer_info(net, li, &info) != ACT_OK)
        info.kind = "?";
    snprintf(where, sizeof where, "epoch %d, batch %zu: layer %d (%s)", ep + 1, b + 1, li,
             l->kind == ACTI_L_ACT && l->fn ? l->fn->name : info.kind);
    for (int i = 0; i < net->n_segs; i++) {   /* every parameter and buffer of the layer */
        const act_param_seg *sg = &net->segs[i];
        if (sg->layer != li)
            continue;
        for (size_t j = 0; j < sg->size; j++) {
            float v = net->params[sg->offset + j];
            if (!isfinite(v)) {
                snprintf(diag->msg, sizeof diag->msg, "%s: parameter %s[%zu] became %g",
                         where, sg->name, j, (double)v);
                return ACT_EDIVERGED;
            }
        }
    }
    /* Non-finite values entering the layer (a generator such as Meta-ACON's turns them into
     * parameters the kernel refuses): the net diverged upstream. */
    const acti_tensor *in = &net->tensors[l->in0];
    const float *xin = net->arena + in->val_off;
    for (size_t j = 0; j < net->failed_n * in->size; j++)
        if (!isfinite(xin[j])) {
            snprintf(diag->msg, sizeof diag->msg, "%s: its input holds %g (sample %zu)", where,
                     (double)xin[j], j / in->size);
            return ACT_EDIVERGED;
        }
    if (l->kind == ACTI_L_ACT && l->fn && l->n_act_params > 0) {
        size_t C = (l->act_flags & ACT_PER_CHANNEL) ? (size_t)net->tensors[l->in0].c : 1;
        const float *p = net->params + l->p[0];
        for (size_t c = 0; c < C; c++) {
            float pc[ACT_FN_MAX_PARAMS];
            for (int k = 0; k < l->n_act_params; k++)
                pc[k] = p[(size_t)k * C + c];
            act_diag why;
            if (act_fn_check_params(l->fn, pc, &why) != ACT_OK) {
                snprintf(diag->msg, sizeof diag->msg, "%.80s: parameters left the "
                         "activation's domain at channel %zu: %.80s", where, c, why.msg);
                return ACT_ERANGE;
            }
        }
    }
    snprintf(diag->msg, sizeof diag->msg, "%s failed: %s", where, act_strerror(rc));
    return rc == ACT_EINVAL ? ACT_ERANGE : rc;
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
    if (!net || !cfg || !train) {
        snprintf(diag->msg, sizeof diag->msg, "act_train_run: NULL net, config or data");
        return ACT_EINVAL;
    }
    if (cfg->batch == 0 || cfg->batch > net->cfg.max_batch || cfg->epochs < 1 ||
        cfg->epochs > ACT_TRAIN_MAX_EPOCHS) {
        snprintf(diag->msg, sizeof diag->msg, "batch %zu (valid: 1..%zu, the net's max_batch), "
                 "epochs %d (valid: 1..%d)", cfg->batch, net->cfg.max_batch, cfg->epochs,
                 ACT_TRAIN_MAX_EPOCHS);
        return ACT_EINVAL;
    }
    if (train->c > ACT_TRAIN_MAX_CHANNELS) {
        snprintf(diag->msg, sizeof diag->msg, "data with %d channels: at most %d", train->c,
                 ACT_TRAIN_MAX_CHANNELS);
        return ACT_ELIMIT;
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
    /* The net splits the activation kernels across its own threads: the kernels' own thread
     * count is 1 during the run and the caller's again after it (1 and the value read back are
     * always valid). */
    int kernel_threads = act_threads_get();
    ACT_IGNORE(act_threads_set(1));

    size_t N = train->n, per = (size_t)train->c * (size_t)train->h * (size_t)train->w;
    size_t n_val = cfg->val_size, n_tr = N - n_val;
    if (cfg->train_limit && cfg->train_limit < n_tr)
        n_tr = cfg->train_limit;
    size_t n_test = test ? test->n : 0;
    if (cfg->test_limit && cfg->test_limit < n_test)
        n_test = cfg->test_limit;

    if (cfg->run_info && strlen(cfg->run_info) > ACT_CKPT_MAX_INFO - 4096) {
        snprintf(diag->msg, sizeof diag->msg, "run_info is longer than %d bytes",
                 ACT_CKPT_MAX_INFO - 4096);
        return ACT_ELIMIT;
    }
    uint32_t *perm = malloc(N * sizeof *perm);
    uint32_t *order = malloc(n_tr * sizeof *order);
    float *xb = malloc(net->cfg.max_batch * per * sizeof(float));
    int *yb = malloc(net->cfg.max_batch * sizeof(int));
    act_optim *opt = act_optim_new(&cfg->opt, net);
    /* the checkpoint's run record: the train.* lines (train.epochs first), then run_info */
    char *info = NULL, *tr = NULL;
    act_epoch_stats *hist = calloc((size_t)cfg->epochs, sizeof *hist);
    act_ckpt_meta stored = { 0 };
    if (act_train_config_write(cfg, &tr) == ACT_OK) {
        size_t a = strlen(tr), b = cfg->run_info ? strlen(cfg->run_info) : 0;
        if ((info = malloc(a + b + 1)) != NULL) {
            memcpy(info, tr, a);
            memcpy(info + a, cfg->run_info ? cfg->run_info : "", b + 1);
        }
    }
    free(tr);
    if (!perm || !order || !xb || !yb || !opt || !info || !hist) {
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

    if (!cfg->resume && net->lsuv_pending) {   /* ACT_NN_INIT_LSUV: before the first step */
        size_t m = cfg->batch < n_tr ? cfg->batch : n_tr;
        for (size_t i = 0; i < m; i++)
            load_image(train, perm[i], mean, istd, 0, 0, 0, xb + i * per);
        rc = act_net_lsuv(net, xb, m, ACT_LSUV_TOL, ACT_LSUV_MAX_ITER, diag);
        if (rc != ACT_OK)
            goto out;
    }
    int start = 0;
    if (cfg->resume) {
        /* Check the stored configuration before anything is loaded into net and opt. */
        rc = act_ckpt_read_meta(cfg->resume, &stored, diag);
        if (rc == ACT_OK)
            rc = same_run(stored.info, info, cfg->resume, diag);
        act_ckpt_meta_free(&stored);
        if (rc == ACT_OK)
            rc = act_ckpt_load(cfg->resume, net, opt, &stored, diag);
        if (rc != ACT_OK)
            goto out;
        start = stored.epoch;
        if (start > 0)
            memcpy(hist, stored.hist, (size_t)(start < cfg->epochs ? start : cfg->epochs) *
                                          sizeof *hist);
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
            else
                rc = pass_failed(net, rc, ep, b, diag);
            if (rc == ACT_OK && !isfinite(l))
                rc = ACT_EDIVERGED;
            if (rc == ACT_OK && (rc = act_net_backward(net)) != ACT_OK)
                rc = pass_failed(net, rc, ep, b, diag);
            if (rc == ACT_OK)
                rc = act_optim_step(opt, net, lr);
            if (rc != ACT_OK) {
                if (rc == ACT_EDIVERGED && !diag->msg[0])
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
                if (cfg->on_batch(cfg->user, &p) != 0) {
                    snprintf(diag->msg, sizeof diag->msg, "stopped by the caller at epoch %d, "
                             "batch %zu", ep + 1, b + 1);
                    rc = ACT_ECANCELED;
                    goto out;
                }
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
        if (rc != ACT_OK) {
            if (act_net_failed_layer(net) >= 0)
                rc = pass_failed(net, rc, ep, n_batches, diag);
            goto out;
        }
        st.wall_s = acti_now() - t0;
        hist[ep] = st;
        if (cfg->checkpoint) {
            act_ckpt_meta m = { ep + 1, -1, info, hist };
            rc = act_ckpt_save(cfg->checkpoint, net, opt, &m);
            if (rc != ACT_OK) {
                snprintf(diag->msg, sizeof diag->msg, "%s: cannot write checkpoint: %s",
                         cfg->checkpoint, act_strerror(rc));
                goto out;
            }
        }
        if (last)
            *last = st;
        if (done)
            *done = ep + 1;
        if (cfg->on_epoch && cfg->on_epoch(cfg->user, &st) != 0 && ep + 1 < cfg->epochs) {
            snprintf(diag->msg, sizeof diag->msg, "stopped by the caller after epoch %d of %d",
                     ep + 1, cfg->epochs);
            rc = ACT_ECANCELED;
            goto out;
        }
    }
out:
    ACT_IGNORE(act_threads_set(kernel_threads));
    act_ckpt_meta_free(&stored);
    free(info);
    free(hist);
    act_optim_free(opt);
    free(perm);
    free(order);
    free(xb);
    free(yb);
    return rc;
}
