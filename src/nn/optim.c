/* optim.c -- SGD (momentum, Nesterov; PyTorch's formulation), Adam and AdamW over the LEARN
 * segments of a net's flat parameter block; weight decay only on DECAY segments (conv and
 * dense weights); optional global-norm gradient clipping; learning-rate schedules. */
#include <stdlib.h>
#include <string.h>

#include "nn/nn_impl.h"

struct act_optim {
    act_optim_config cfg;
    size_t   n;          /* floats per moment buffer (= the net's parameter block) */
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

act_optim *act_optim_new(const act_optim_config *cfg, const act_net *net)
{
    if (!cfg || !net || (unsigned)cfg->kind >= ACT_OPT_COUNT)
        return NULL;
    size_t n = net->n_params;
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

int act_optim_step(act_optim *opt, act_net *net, float lr)
{
    if (!opt || !net || opt->n != net->n_params || !isfinite(lr))
        return ACT_EINVAL;
    const act_optim_config *c = &opt->cfg;
    double sq = 0.0;
    for (int i = 0; i < net->n_segs; i++) {
        const act_param_seg *s = &net->segs[i];
        if (!(s->flags & ACT_SEG_LEARN))
            continue;
        const float *g = net->grads + s->offset;
        for (size_t j = 0; j < s->size; j++)
            sq += (double)g[j] * (double)g[j];
    }
    if (!isfinite(sq))
        return ACT_EDIVERGED;
    float scale = 1.0f;
    if (c->clip_norm > 0.0f && sqrt(sq) > (double)c->clip_norm)
        scale = (float)((double)c->clip_norm / (sqrt(sq) + 1e-6));
    opt->step++;
    float bc1 = 1.0f - powf(c->beta1, (float)opt->step);
    float bc2 = 1.0f - powf(c->beta2, (float)opt->step);
    for (int i = 0; i < net->n_segs; i++) {
        const act_param_seg *s = &net->segs[i];
        if (!(s->flags & ACT_SEG_LEARN))
            continue;
        float *w = net->params + s->offset, *g = net->grads + s->offset;
        float *m = opt->m + s->offset, *v = opt->v + s->offset;
        float wd = (s->flags & ACT_SEG_DECAY) ? c->weight_decay : 0.0f;
        switch (c->kind) {
        case ACT_OPT_SGD:
            for (size_t j = 0; j < s->size; j++) {
                float gj = g[j] * scale + wd * w[j];
                if (c->momentum != 0.0f) {
                    m[j] = c->momentum * m[j] + gj;
                    gj = c->nesterov ? gj + c->momentum * m[j] : m[j];
                }
                w[j] -= lr * gj;
            }
            break;
        case ACT_OPT_ADAM:
        case ACT_OPT_ADAMW: {
            int decoupled = c->kind == ACT_OPT_ADAMW;
            for (size_t j = 0; j < s->size; j++) {
                float gj = g[j] * scale;
                if (decoupled)
                    w[j] -= lr * wd * w[j];
                else
                    gj += wd * w[j];
                m[j] = c->beta1 * m[j] + (1.0f - c->beta1) * gj;
                v[j] = c->beta2 * v[j] + (1.0f - c->beta2) * gj * gj;
                w[j] -= lr * (m[j] / bc1) / (sqrtf(v[j] / bc2) + c->eps);
            }
            break;
        }
        case ACT_OPT_COUNT:
            return ACT_EINVAL;
        }
    }
    return ACT_OK;
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
