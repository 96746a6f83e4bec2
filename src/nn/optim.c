/* optim.c -- SGD (momentum, Nesterov; PyTorch's formulation), Adam and AdamW over the LEARN
 * segments of a flat parameter block: a net's (act_optim_step) or any other (act_optim_step_block,
 * one update loop for both); weight decay only on DECAY segments (conv and dense weights);
 * optional global-norm gradient clipping; learning-rate schedules. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_impl.h"

struct act_optim {
    act_optim_config cfg;
    size_t   n;          /* floats per moment buffer (= the parameter block) */
    uint64_t step;
    float   *m, *v;      /* one allocation: m then v */
};

static const char *const opt_names[] = {
#define X(ID, name) [ACT_OPT_##ID] = #name,
    ACT_OPT_LIST(X)
#undef X
};

static const char *const sched_names[] = {
#define X(ID, name) [ACT_SCHED_##ID] = #name,
    ACT_SCHED_LIST(X)
#undef X
};

const char *act_opt_name(act_opt_kind kind)
{
    return (unsigned)kind < ACT_OPT_COUNT ? opt_names[kind] : "unknown";
}

int act_opt_lookup(const char *name, act_opt_kind *out)
{
    for (int i = 0; name && i < ACT_OPT_COUNT; i++)
        if (strcmp(name, opt_names[i]) == 0) {
            *out = (act_opt_kind)i;
            return ACT_OK;
        }
    return ACT_ENOTFOUND;
}

const char *act_sched_name(act_sched_kind kind)
{
    return (unsigned)kind < ACT_SCHED_COUNT ? sched_names[kind] : "unknown";
}

int act_sched_lookup(const char *name, act_sched_kind *out)
{
    for (int i = 0; name && i < ACT_SCHED_COUNT; i++)
        if (strcmp(name, sched_names[i]) == 0) {
            *out = (act_sched_kind)i;
            return ACT_OK;
        }
    return ACT_ENOTFOUND;
}

act_optim_config act_optim_config_default(act_opt_kind kind)
{
    act_optim_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.momentum = kind == ACT_OPT_SGD ? 0.9f : 0.0f;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.eps = 1e-8f;
    c.weight_decay = kind == ACT_OPT_ADAMW ? 0.01f : 0.0f;
    return c;
}

act_optim *act_optim_new_block(const act_optim_config *cfg, size_t n)
{
    if (!cfg || (unsigned)cfg->kind >= ACT_OPT_COUNT ||
        n > (SIZE_MAX - sizeof(act_optim)) / (2 * sizeof(float)))
        return NULL;
    act_optim *o = malloc(sizeof *o + 2 * n * sizeof(float));
    if (!o)
        return NULL;
    o->cfg = *cfg;
    o->n = n;
    o->step = 0;
    o->m = (float *)(o + 1);
    o->v = o->m + n;
    memset(o->m, 0, 2 * n * sizeof(float));
    return o;
}

act_optim *act_optim_new(const act_optim_config *cfg, const act_net *net)
{
    return net ? act_optim_new_block(cfg, net->n_params) : NULL;
}

void act_optim_free(act_optim *opt)
{
    free(opt);
}

float *act_optim_state(act_optim *opt, size_t *n)
{
    if (n)
        *n = opt ? 2 * opt->n : 0;
    return opt ? opt->m : NULL;
}

uint64_t *act_optim_step_count(act_optim *opt)
{
    return opt ? &opt->step : NULL;
}

act_opt_kind act_optim_kind(const act_optim *opt)
{
    return opt ? opt->cfg.kind : ACT_OPT_SGD;
}

/* Sum of squares of the LEARN gradients in 16 double lanes: a fixed order (the same for every
 * thread count) that vectorises, where one running double sum is a 4-cycle dependency chain per
 * element (18% of an mlp:512x2 step). */
static double grad_sq(const float *grads, const act_param_seg *segs, int n_segs)
{
    double acc[16] = { 0 };
    for (int i = 0; i < n_segs; i++) {
        const act_param_seg *s = &segs[i];
        if (!(s->flags & ACT_SEG_LEARN))
            continue;
        const float *g = grads + s->offset;
        size_t j = 0;
        for (; j + 16 <= s->size; j += 16)
            for (int k = 0; k < 16; k++)
                acc[k] += (double)g[j + k] * (double)g[j + k];
        for (; j < s->size; j++)
            acc[j % 16] += (double)g[j] * (double)g[j];
    }
    double sq = 0.0;
    for (int k = 0; k < 16; k++)
        sq += acc[k];
    return sq;
}

/* The update loops read every setting from locals (a store through w could alias *cfg
 * otherwise, which blocks vectorisation) and zero the gradient as they consume it, which
 * replaces act_net_backward's memset of the gradient block. */
static void sgd_seg(float *restrict w, float *restrict g, float *restrict m, size_t n, float lr,
                    float scale, float wd, float mom, int nesterov)
{
    if (mom == 0.0f) {
#pragma omp simd
        for (size_t j = 0; j < n; j++) {
            float gj = g[j] * scale + wd * w[j];
            w[j] -= lr * gj;
            g[j] = 0.0f;
        }
    } else if (nesterov) {
#pragma omp simd
        for (size_t j = 0; j < n; j++) {
            float gj = g[j] * scale + wd * w[j];
            float mj = mom * m[j] + gj;
            m[j] = mj;
            w[j] -= lr * (gj + mom * mj);
            g[j] = 0.0f;
        }
    } else {
#pragma omp simd
        for (size_t j = 0; j < n; j++) {
            float gj = g[j] * scale + wd * w[j];
            float mj = mom * m[j] + gj;
            m[j] = mj;
            w[j] -= lr * mj;
            g[j] = 0.0f;
        }
    }
}

static void adam_seg(float *restrict w, float *restrict g, float *restrict m, float *restrict v,
                     size_t n, float lr, float scale, float wd, int decoupled, float b1, float b2,
                     float bc1, float bc2, float eps)
{
#pragma omp simd
    for (size_t j = 0; j < n; j++) {
        float gj = g[j] * scale;
        if (decoupled)
            w[j] -= lr * wd * w[j];
        else
            gj += wd * w[j];
        m[j] = b1 * m[j] + (1.0f - b1) * gj;
        v[j] = b2 * v[j] + (1.0f - b2) * gj * gj;
        w[j] -= lr * (m[j] / bc1) / (sqrtf(v[j] / bc2) + eps);
        g[j] = 0.0f;
    }
}

/* The one update loop, for a net's block and for any other: params and grads hold opt->n
 * floats, segs[0..n_segs) say which of them learn and decay (checked to lie inside). T threads
 * each take a slice of every segment, so the bits do not depend on T. */
static int step_segs(act_optim *opt, float *params, float *grads, const act_param_seg *segs,
                     int n_segs, float lr, int T)
{
    if (!isfinite(lr) || n_segs < 0 || (n_segs > 0 && !segs))
        return ACT_EINVAL;
    for (int i = 0; i < n_segs; i++)
        if (segs[i].offset > opt->n || segs[i].size > opt->n - segs[i].offset)
            return ACT_EINVAL;
    const act_optim_config *c = &opt->cfg;
    double sq = grad_sq(grads, segs, n_segs);
    if (!isfinite(sq))
        return ACT_EDIVERGED;
    float scale = 1.0f;
    if (c->clip_norm > 0.0f && sqrt(sq) > (double)c->clip_norm)
        scale = (float)((double)c->clip_norm / (sqrt(sq) + 1e-6));
    opt->step++;
    float bc1 = 1.0f - powf(c->beta1, (float)opt->step);
    float bc2 = 1.0f - powf(c->beta2, (float)opt->step);
    if ((unsigned)c->kind >= ACT_OPT_COUNT)
        return ACT_EINVAL;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        int tid = ACTI_TID(), nt = ACTI_NT();
        for (int i = 0; i < n_segs; i++) {
            const act_param_seg *s = &segs[i];
            size_t lo, hi;
            acti_nn_range(s->size, tid, nt, &lo, &hi);
            size_t o = s->offset + lo, n = hi - lo;
            float *w = params + o, *g = grads + o;
            if (!(s->flags & ACT_SEG_LEARN)) {
                memset(g, 0, n * sizeof *g);
                continue;
            }
            float *m = opt->m + o, *v = opt->v + o;
            float wd = (s->flags & ACT_SEG_DECAY) ? c->weight_decay : 0.0f;
            switch (c->kind) {
            case ACT_OPT_SGD:
                sgd_seg(w, g, m, n, lr, scale, wd, c->momentum, c->nesterov);
                break;
            case ACT_OPT_ADAM:
            case ACT_OPT_ADAMW:
                adam_seg(w, g, m, v, n, lr, scale, wd, c->kind == ACT_OPT_ADAMW, c->beta1,
                         c->beta2, bc1, bc2, c->eps);
                break;
            case ACT_OPT_COUNT:
                break;
            }
        }
    }
    return ACT_OK;
}

int act_optim_step_block(act_optim *opt, float *params, float *grads, size_t n,
                         const act_param_seg *segs, int n_segs, float lr)
{
    if (!opt || n != opt->n || (n > 0 && (!params || !grads)))
        return ACT_EINVAL;
    act_param_seg all = { .offset = 0, .size = n, .flags = ACT_SEG_LEARN | ACT_SEG_DECAY };
    if (!segs && n_segs == 0) {
        segs = &all;
        n_segs = 1;
    }
    return step_segs(opt, params, grads, segs, n_segs, lr, 1);
}

int act_optim_step(act_optim *opt, act_net *net, float lr)
{
    if (!opt || !net || opt->n != net->n_params)
        return ACT_EINVAL;
    /* element-wise: one thread below 64k parameters, where the fork costs more than it saves */
    int T = net->n_params >= 65536 ? net->threads : 1;
    int rc = step_segs(opt, net->params, net->grads, net->segs, net->n_segs, lr, T);
    if (rc == ACT_OK)
        net->grads_zero = 1;   /* every segment consumed; padding between them is never written */
    return rc;
}

float act_sched_lr(const act_sched_config *s, double t, int epochs)
{
    if (!s)
        return 0.0f;
    double lr = (double)s->lr;
    if (s->warmup_epochs > 0.0f && t < (double)s->warmup_epochs)
        return (float)(lr * t / (double)s->warmup_epochs);
    switch (s->kind) {
    case ACT_SCHED_CONSTANT:
        break;
    case ACT_SCHED_STEP:
        if (s->step_every > 0.0f)
            lr *= pow((double)s->gamma, floor(t / (double)s->step_every));
        break;
    case ACT_SCHED_COSINE: {
        double w = (double)s->warmup_epochs, span = (double)epochs - w;
        double u = span > 0.0 ? (t - w) / span : 1.0;
        if (u > 1.0)
            u = 1.0;
        lr = (double)s->min_lr + 0.5 * (lr - (double)s->min_lr) * (1.0 + cos(3.141592653589793 * u));
        break;
    }
    case ACT_SCHED_COUNT:
        break;
    }
    return (float)lr;
}
