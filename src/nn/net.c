/* net.c -- the network: builder (tensors, layers, parameter segments, one parameter block and
 * one arena), model specs (mlp, cnn, resnet), forward / loss / backward dispatch, profile. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/nn_impl.h"

#define ALIGN_FLOATS 16   /* 64-byte alignment of every block */

static size_t round_up(size_t n) { return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS; }

double acti_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// ----------------------------------------------------------------------------
// activation choice

act_nn_act act_nn_act_default(act_nn_act_kind kind)
{
    act_nn_act a;
    memset(&a, 0, sizeof a);
    a.kind = kind;
    a.fn = kind == ACT_NN_ACT_FN ? act_act_fn(ACT_ACT_RELU) : NULL;
    a.per_channel = -1;
    a.paper_init = 1;
    a.meta_r = 16;
    a.meta_bn = 1;
    return a;
}

int act_nn_act_parse(const char *name, act_nn_act *out)
{
    if (!name || !out)
        return ACT_EINVAL;
    if (strncmp(name, "expr:", 5) == 0)
        return ACT_EUNSUPPORTED;
#define X(ID, nm, help)                                         \
    if (ACT_NN_ACT_##ID != ACT_NN_ACT_FN && strcmp(name, #nm) == 0) { \
        *out = act_nn_act_default(ACT_NN_ACT_##ID);               \
        return ACT_OK;                                            \
    }
    ACT_NN_ACT_KIND_LIST(X)
#undef X
    act_act_id id;
    int rc = act_act_lookup(name, &id);
    if (rc != ACT_OK)
        return rc;
    *out = act_nn_act_default(ACT_NN_ACT_FN);
    out->fn = act_act_fn(id);
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// builder

static int grow(void **p, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return ACT_OK;
    int nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, (size_t)nc * elem);
    if (!q)
        return ACT_ENOMEM;
    *p = q;
    *cap = nc;
    return ACT_OK;
}

int acti_tensor_new(act_net *net, int c, int h, int w)
{
    if (c <= 0 || h <= 0 || w <= 0)
        return ACT_ESHAPE;
    if (grow((void **)&net->tensors, &net->cap_tensors, net->n_tensors + 1, sizeof(acti_tensor)))
        return ACT_ENOMEM;
    acti_tensor *t = &net->tensors[net->n_tensors];
    t->c = c;
    t->h = h;
    t->w = w;
    t->size = (size_t)c * (size_t)h * (size_t)w;
    t->needs_grad = 1;
    size_t bytes = round_up(net->cfg.max_batch * t->size);
    t->val_off = net->arena_floats;
    t->grad_off = net->arena_floats + bytes;
    net->arena_floats += 2 * bytes;
    return net->n_tensors++;
}

int acti_layer_new(act_net *net, acti_layer_kind kind, int in0, acti_layer **out)
{
    if (grow((void **)&net->layers, &net->cap_layers, net->n_layers + 1, sizeof(acti_layer)))
        return ACT_ENOMEM;
    acti_layer *l = &net->layers[net->n_layers];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->in0 = in0;
    l->in1 = -1;
    l->out = -1;
    *out = l;
    return net->n_layers++;
}

static const char *const layer_names[] = {
#define X(ID, name) [ACTI_L_##ID] = #name,
    ACTI_LAYER_LIST(X)
#undef X
};

size_t acti_param_block(act_net *net, int li, size_t size)
{
    size_t off = net->n_params;
    net->n_params += round_up(size);
    net->layers[li].n_params += size;
    return off;
}

int acti_param_seg(act_net *net, int li, const char *name, size_t off, size_t size,
                   unsigned flags, acti_init how, size_t fan)
{
    if (grow((void **)&net->segs, &net->cap_segs, net->n_segs + 1, sizeof(act_param_seg)))
        return ACT_ENOMEM;
    void *q = realloc(net->seg_init, (size_t)net->cap_segs * sizeof(acti_seg_init));
    if (!q)
        return ACT_ENOMEM;
    net->seg_init = q;
    act_param_seg *s = &net->segs[net->n_segs];
    s->offset = off;
    s->size = size;
    s->flags = flags;
    s->layer = li;
    snprintf(s->name, sizeof s->name, "l%d.%s.%s", li, layer_names[net->layers[li].kind], name);
    net->seg_init[net->n_segs].how = how;
    net->seg_init[net->n_segs].fan = fan;
    net->n_segs++;
    return ACT_OK;
}

size_t acti_param_new(act_net *net, int li, const char *name, size_t size, unsigned flags,
                      acti_init how, size_t fan)
{
    size_t off = acti_param_block(net, li, size);
    if (acti_param_seg(net, li, name, off, size, flags, how, fan) != ACT_OK)
        net->build_err = ACT_ENOMEM;   /* reported by act_net_new() */
    return off;
}

size_t acti_ws_new(act_net *net, size_t floats)
{
    size_t off = net->arena_floats;
    net->arena_floats += round_up(floats ? floats : 1);
    return off;
}

void acti_need_col(act_net *net, size_t floats)
{
    if (floats > net->col_floats)
        net->col_floats = floats;
}

void acti_need_red(act_net *net, size_t floats)
{
    if (floats > net->red_floats)
        net->red_floats = floats;
}

// ----------------------------------------------------------------------------
// model specs

/* The activation at a replaceable position; stem: the first one of the model. */
static int act_here(act_net *net, int in, int stem)
{
    act_nn_act relu = act_nn_act_default(ACT_NN_ACT_FN);
    const act_nn_act *a = (stem && !net->cfg.act_stem) ? &relu : &net->cfg.act;
    return acti_act_add(net, in, a, stem);
}

#define TRY(expr)              \
    do {                       \
        t = (expr);            \
        if (t < 0)             \
            return t;          \
    } while (0)

static int build_mlp(act_net *net, const char *args, act_diag *diag)
{
    int width = 0, depth = 0, bn = 0;
    float drop = 0.0f;
    char rest[96] = "";
    if (sscanf(args, "%dx%d%95s", &width, &depth, rest) < 2 || width <= 0 || depth < 0 ||
        width > 65536 || depth > 1000) {
        snprintf(diag->msg, sizeof diag->msg, "mlp: expected mlp:WIDTHxDEPTH[,bn][,dropout=p]");
        return ACT_EPARSE;
    }
    for (char *tok = strtok(rest, ","); tok; tok = strtok(NULL, ",")) {
        if (strcmp(tok, "bn") == 0) {
            bn = 1;
        } else if (sscanf(tok, "dropout=%f", &drop) == 1 && drop >= 0.0f && drop < 1.0f) {
        } else {
            snprintf(diag->msg, sizeof diag->msg, "mlp: unknown option '%s' (bn, dropout=p)",
                     tok);
            return ACT_EPARSE;
        }
    }
    int t = 0;
    TRY(acti_flatten_add(net, 0));
    for (int d = 0; d < depth; d++) {
        TRY(acti_dense_add(net, t, width));
        if (bn)
            TRY(acti_bn_add(net, t));
        TRY(act_here(net, t, d == 0));
        if (drop > 0.0f)
            TRY(acti_dropout_add(net, t, drop));
    }
    TRY(acti_dense_add(net, t, net->cfg.n_classes));
    return t;
}

/* The small CNN of the PyTorch throughput anchor (reference/performance.md section 7):
 * conv3x3(C->32), act, conv3x3(32->64), act, maxpool2, fc(->128), act, fc(->classes). */
static int build_cnn(act_net *net, act_diag *diag)
{
    int t = 0;
    if (net->cfg.in_h < 6 || net->cfg.in_w < 6) {
        snprintf(diag->msg, sizeof diag->msg, "cnn: input must be at least 6x6");
        return ACT_ESHAPE;
    }
    TRY(acti_conv_add(net, 0, 32, 3, 1, 0, 1));
    TRY(act_here(net, t, 1));
    TRY(acti_conv_add(net, t, 64, 3, 1, 0, 1));
    TRY(act_here(net, t, 0));
    TRY(acti_pool_add(net, ACTI_L_MAXPOOL, t, 2, 2));
    TRY(acti_flatten_add(net, t));
    TRY(acti_dense_add(net, t, 128));
    TRY(act_here(net, t, 0));
    TRY(acti_dense_add(net, t, net->cfg.n_classes));
    return t;
}

/* CIFAR ResNet-(6N+2) (He et al. 2016, section 4.2): 3 stages of N basic blocks with 16, 32,
 * 64 channels; projection shortcuts (1x1 conv + BN) where the shape changes. preact: the
 * pre-activation block (He et al., "Identity Mappings"). */
static int build_resnet(act_net *net, const char *args, act_diag *diag)
{
    int nb = 0, preact = 0;
    char rest[96] = "";
    if (sscanf(args, "%d%95s", &nb, rest) < 1 || nb < 1 || nb > 100) {
        snprintf(diag->msg, sizeof diag->msg, "resnet: expected resnet:N[,preact] (N >= 1)");
        return ACT_EPARSE;
    }
    for (char *tok = strtok(rest, ","); tok; tok = strtok(NULL, ",")) {
        if (strcmp(tok, "preact") == 0) {
            preact = 1;
        } else {
            snprintf(diag->msg, sizeof diag->msg, "resnet: unknown option '%s' (preact)", tok);
            return ACT_EPARSE;
        }
    }
    int t = 0;
    TRY(acti_conv_add(net, 0, 16, 3, 1, 1, 0));
    if (!preact) {
        TRY(acti_bn_add(net, t));
        TRY(act_here(net, t, 1));
    }
    int cin = 16;
    for (int s = 0; s < 3; s++) {
        int cout = 16 << s;
        for (int b = 0; b < nb; b++) {
            int stride = (s > 0 && b == 0) ? 2 : 1;
            int x = t, h, sc;
            if (preact) {
                int a;
                TRY(acti_bn_add(net, x));
                TRY(act_here(net, t, s == 0 && b == 0));
                a = t;
                TRY(acti_conv_add(net, a, cout, 3, stride, 1, 0));
                TRY(acti_bn_add(net, t));
                TRY(act_here(net, t, 0));
                TRY(acti_conv_add(net, t, cout, 3, 1, 1, 0));
                h = t;
                if (stride != 1 || cin != cout) {
                    TRY(acti_conv_add(net, a, cout, 1, stride, 0, 0));
                    sc = t;
                } else {
                    sc = x;
                }
                TRY(acti_add_add(net, h, sc));
            } else {
                TRY(acti_conv_add(net, x, cout, 3, stride, 1, 0));
                TRY(acti_bn_add(net, t));
                TRY(act_here(net, t, 0));
                TRY(acti_conv_add(net, t, cout, 3, 1, 1, 0));
                TRY(acti_bn_add(net, t));
                h = t;
                if (stride != 1 || cin != cout) {
                    TRY(acti_conv_add(net, x, cout, 1, stride, 0, 0));
                    TRY(acti_bn_add(net, t));
                    sc = t;
                } else {
                    sc = x;
                }
                TRY(acti_add_add(net, h, sc));
                TRY(act_here(net, t, 0));
            }
            cin = cout;
        }
    }
    if (preact) {
        TRY(acti_bn_add(net, t));
        TRY(act_here(net, t, 0));
    }
    TRY(acti_gap_add(net, t));
    TRY(acti_dense_add(net, t, net->cfg.n_classes));
    return t;
}

#undef TRY

// ----------------------------------------------------------------------------
// construction

act_net_config act_net_config_default(void)
{
    act_net_config c;
    memset(&c, 0, sizeof c);
    c.model = "mlp:256x2";
    c.in_c = 1;
    c.in_h = 28;
    c.in_w = 28;
    c.n_classes = 10;
    c.act = act_nn_act_default(ACT_NN_ACT_FN);
    c.act_stem = 1;
    c.max_batch = 128;
    c.threads = 1;
    c.seed = 1;
    return c;
}

static float act_param_value(const act_net *net, const acti_layer *l, int k, uint64_t *rng)
{
    const act_nn_act *a = &net->cfg.act;
    const act_fn *f = l->fn;
    int random = a->paper_init && (f->flags & ACT_ACT_RANDP) && k < 2 && !a->has_params;
    if (random)
        return (float)acti_rng_normal(rng);
    if (a->has_params && f == a->fn)
        return a->params[k];
    return f->defaults[k];
}

/* TORCH init: a conv/dense bias (a zero-initialised segment named "*.b" of a layer whose
 * weights are He-initialised) is drawn like PyTorch's, U(+-1/sqrt(fan_in)); returns that fan_in,
 * or 0 for any other segment. */
static size_t torch_bias(const act_net *net, int seg)
{
    const char *name = net->segs[seg].name;
    size_t len = strlen(name);
    if (len < 2 || strcmp(name + len - 2, ".b") != 0)
        return 0;
    for (int i = 0; i < net->n_segs; i++)
        if (net->segs[i].layer == net->segs[seg].layer && net->seg_init[i].how == ACTI_INIT_HE)
            return net->seg_init[i].fan;
    return 0;
}

static void init_params(act_net *net)
{
    uint64_t rng = net->cfg.seed * 0x2545f4914f6cdd1dULL + 12345;
    memset(net->params, 0, 2 * net->n_params * sizeof(float));
    for (int i = 0; i < net->n_segs; i++) {
        const act_param_seg *s = &net->segs[i];
        const acti_seg_init *in = &net->seg_init[i];
        float *p = net->params + s->offset;
        const acti_layer *l = &net->layers[s->layer];
        switch (in->how) {
        case ACTI_INIT_ZERO:
            if (net->cfg.init == ACT_NN_INIT_TORCH && torch_bias(net, i) > 0) {
                double b = 1.0 / sqrt((double)torch_bias(net, i));
                for (size_t j = 0; j < s->size; j++)
                    p[j] = (float)(b * (2.0 * acti_rng_uniform(&rng) - 1.0));
            }
            break;
        case ACTI_INIT_ONE:
            for (size_t j = 0; j < s->size; j++)
                p[j] = 1.0f;
            break;
        case ACTI_INIT_HE:
            if (net->cfg.init == ACT_NN_INIT_TORCH) {
                double b = 1.0 / sqrt((double)in->fan);
                for (size_t j = 0; j < s->size; j++)
                    p[j] = (float)(b * (2.0 * acti_rng_uniform(&rng) - 1.0));
                break;
            }
            /* fall through */
        case ACTI_INIT_LECUN: {
            double sd = sqrt((in->how == ACTI_INIT_HE ? 2.0 : 1.0) / (double)in->fan);
            for (size_t j = 0; j < s->size; j++)
                p[j] = (float)(sd * acti_rng_normal(&rng));
            break;
        }
        case ACTI_INIT_ACT: {
            /* Activation parameter k of layer l: segment index within the layer. */
            int k = 0;
            while (k < ACTI_MAX_SLOTS - 1 && l->p[k] != s->offset)
                k++;
            if (l->kind == ACTI_L_META_ACON) {   /* p1, p2 ~ N(0, 1), the paper */
                for (size_t j = 0; j < s->size; j++)
                    p[j] = (float)acti_rng_normal(&rng);
                break;
            }
            for (size_t j = 0; j < s->size; j++)
                p[j] = act_param_value(net, l, k, &rng);
            break;
        }
        }
    }
}

static int build_spec(act_net *net, void *ctx, act_diag *diag)
{
    (void)ctx;
    const act_net_config *cfg = &net->cfg;
    char spec[128];
    snprintf(spec, sizeof spec, "%s", cfg->model);
    char *colon = strchr(spec, ':');
    const char *args = colon ? colon + 1 : "";
    if (colon)
        *colon = '\0';
    if (strcmp(spec, "mlp") == 0)
        return build_mlp(net, args, diag);
    if (strcmp(spec, "cnn") == 0 && !colon)
        return build_cnn(net, diag);
    if (strcmp(spec, "resnet") == 0)
        return build_resnet(net, args, diag);
    snprintf(diag->msg, sizeof diag->msg,
             "unknown model '%s' (mlp:WxD[,bn][,dropout=p], cnn, resnet:N[,preact])", cfg->model);
    return ACT_EPARSE;
}

int act_net_new(const act_net_config *cfg, act_net **out, act_diag *diag)
{
    return acti_net_create(cfg, build_spec, NULL, out, diag);
}

/* Layer kinds whose backward can write (=) an input's gradient instead of adding to it. */
static int can_assign(acti_layer_kind k)
{
    return k == ACTI_L_ACT || k == ACTI_L_ADD || k == ACTI_L_DROPOUT || k == ACTI_L_DENSE ||
           k == ACTI_L_BN || k == ACTI_L_MAXPOOL || k == ACTI_L_GAP;
}

/* The first writer of a gradient buffer in backward order (the last consumer in forward order)
 * writes it when its kind can (acti_layer.assign), so backward needs no clear there; buffers
 * whose first writer accumulates, or that nobody writes, are cleared (acti_tensor.clear).
 * Views (flatten) share their source's buffer and are matched by offset. */
static void plan_grads(act_net *net)
{
    int nt = net->n_tensors;
    for (int i = 0; i < nt; i++)
        net->tensors[i].clear = 0;
    for (int i = net->n_layers - 1; i >= 0; i--) {
        acti_layer *l = &net->layers[i];
        int ids[2] = { l->in0, l->kind == ACTI_L_ADD ? l->in1 : -1 };
        l->assign = 0;
        for (int k = 0; k < 2; k++) {
            if (ids[k] < 0 || !net->tensors[ids[k]].needs_grad || l->kind == ACTI_L_FLATTEN)
                continue;
            size_t off = net->tensors[ids[k]].grad_off;
            int seen = 0;   /* written by a layer later in forward order? (clear 1 or 2) */
            for (int t = 0; t < nt; t++)
                seen |= net->tensors[t].grad_off == off && net->tensors[t].clear;
            if (seen)
                continue;
            int first = can_assign(l->kind);
            if (first)
                l->assign |= 1u << k;
            for (int t = 0; t < nt; t++)   /* 1: written first with =, 2: first with += */
                if (net->tensors[t].grad_off == off)
                    net->tensors[t].clear = first ? 1 : 2;
        }
    }
    size_t logits = net->tensors[net->logits_t].grad_off;
    for (int t = 0; t < nt; t++) {
        acti_tensor *x = &net->tensors[t];
        x->clear = x->needs_grad && x->grad_off != logits && x->clear != 1;
    }
}

int acti_net_create(const act_net_config *cfg, acti_build_fn *build, void *ctx, act_net **out,
                    act_diag *diag)
{
    act_diag dummy;
    if (!diag)
        diag = &dummy;
    memset(diag, 0, sizeof *diag);
    if (!out)
        return ACT_EINVAL;
    *out = NULL;
    if (!cfg || !cfg->model || cfg->in_c <= 0 || cfg->in_h <= 0 || cfg->in_w <= 0 ||
        cfg->n_classes < 2 || cfg->max_batch == 0 || cfg->threads < 1 || cfg->threads > 256 ||
        (size_t)cfg->in_c * (size_t)cfg->in_h * (size_t)cfg->in_w > ((size_t)1 << 24) ||
        cfg->max_batch > ((size_t)1 << 20)) {
        snprintf(diag->msg, sizeof diag->msg, "invalid network configuration");
        return ACT_EINVAL;
    }
    if ((unsigned)cfg->act.kind >= ACT_NN_ACT_KIND_COUNT ||
        (cfg->act.kind == ACT_NN_ACT_FN && cfg->act.fn &&
         (cfg->act.fn->n_params < 0 || cfg->act.fn->n_params > ACT_FN_MAX_PARAMS ||
          !cfg->act.fn->forward || !cfg->act.fn->backward))) {
        snprintf(diag->msg, sizeof diag->msg, "invalid activation descriptor");
        return ACT_EINVAL;
    }
    if (cfg->act.kind == ACT_NN_ACT_FN && cfg->act.fn && cfg->act.has_params) {
        /* Parameters given by the caller: refuse what the kernel would refuse at the first
         * forward (a non-finite value, softplus beta = 0), before any training is spent. */
        const act_fn *f = cfg->act.fn;
        float x = 0.5f, y;
        int prc = f->forward(f, cfg->act.params, 0u, &x, &y, act_shape_flat(1));
        for (int k = 0; k < f->n_params; k++)
            if (!isfinite(cfg->act.params[k]))
                prc = ACT_EINVAL;
        if (prc != ACT_OK) {
            int len = snprintf(diag->msg, sizeof diag->msg, "%s refuses the parameters", f->name);
            for (int k = 0; k < f->n_params && len > 0 && (size_t)len < sizeof diag->msg; k++)
                len += snprintf(diag->msg + len, sizeof diag->msg - (size_t)len, "%s %s=%g",
                                k ? "," : "", f->param_names[k] ? f->param_names[k] : "p",
                                (double)cfg->act.params[k]);
            return ACT_EINVAL;
        }
    }
    act_net *net = calloc(1, sizeof *net);
    if (!net)
        return ACT_ENOMEM;
    net->cfg = *cfg;
    net->failed_layer = -1;
    if (!net->cfg.act.fn && net->cfg.act.kind == ACT_NN_ACT_FN)
        net->cfg.act.fn = act_act_fn(ACT_ACT_RELU);
    if (net->cfg.act.meta_r < 1)
        net->cfg.act.meta_r = 16;
    snprintf(net->model, sizeof net->model, "%s", cfg->model);
    net->cfg.model = net->model;
    net->threads = net->max_threads = cfg->threads;
    net->rng = cfg->seed ^ 0xd1b54a32d192ed03ULL;
    net->conv_chunk_floats = ACTI_CONV_CHUNK_FLOATS;

    int rc = acti_tensor_new(net, cfg->in_c, cfg->in_h, cfg->in_w);
    if (rc < 0)
        goto fail;
    net->tensors[0].needs_grad = 0;
    rc = build(net, ctx, diag);
    if (rc < 0)
        goto fail;
    if (net->build_err) {
        rc = net->build_err;
        goto fail;
    }
    net->logits_t = rc;
    if (net->tensors[rc].size != (size_t)cfg->n_classes) {
        rc = ACT_ESHAPE;
        goto fail;
    }
    plan_grads(net);
    net->ws_col = acti_ws_new(net, net->col_floats * (size_t)net->max_threads);
    net->ws_red = acti_ws_new(net, net->red_floats * (size_t)net->max_threads);

    rc = ACT_ENOMEM;
    if (net->n_params == 0)
        net->n_params = ALIGN_FLOATS;
    net->params = aligned_alloc(64, 2 * net->n_params * sizeof(float));
    net->arena = aligned_alloc(64, net->arena_floats * sizeof(float));
    if (!net->params || !net->arena)
        goto fail;
    net->grads = net->params + net->n_params;
    memset(net->arena, 0, net->arena_floats * sizeof(float));
    init_params(net);
    openblas_set_num_threads(1);   /* one pool: ours (see nn.h) */
    *out = net;
    return ACT_OK;
fail:
    if (rc == ACT_ESHAPE && !diag->msg[0])
        snprintf(diag->msg, sizeof diag->msg, "model '%s' does not fit a %dx%dx%d input",
                 cfg->model, cfg->in_c, cfg->in_h, cfg->in_w);
    act_net_free(net);
    return rc;
}

void act_net_free(act_net *net)
{
    if (!net)
        return;
    free(net->layers);
    free(net->tensors);
    free(net->segs);
    free(net->seg_init);
    free(net->params);
    free(net->arena);
    free(net);
}

// ----------------------------------------------------------------------------
// accessors

size_t act_net_n_params(const act_net *net) { return net ? net->n_params : 0; }
float *act_net_params(act_net *net) { return net ? net->params : NULL; }
float *act_net_grads(act_net *net) { return net ? net->grads : NULL; }
int act_net_n_segments(const act_net *net) { return net ? net->n_segs : 0; }
int act_net_n_classes(const act_net *net) { return net ? net->cfg.n_classes : 0; }
int act_net_threads(const act_net *net) { return net ? net->threads : 0; }
int act_net_n_layers(const act_net *net) { return net ? net->n_layers : 0; }

size_t act_net_n_learnable(const act_net *net)
{
    size_t n = 0;
    for (int i = 0; net && i < net->n_segs; i++)
        if (net->segs[i].flags & ACT_SEG_LEARN)
            n += net->segs[i].size;
    return n;
}

const act_param_seg *act_net_segment(const act_net *net, int i)
{
    if (!net || i < 0 || i >= net->n_segs)
        return NULL;
    return &net->segs[i];
}

int act_net_set_threads(act_net *net, int threads)
{
    if (!net || threads < 1 || threads > net->max_threads)
        return ACT_EINVAL;
    net->threads = threads;
    return ACT_OK;
}

int act_net_layer_info(const act_net *net, int i, act_layer_info *out)
{
    if (!net || !out || i < 0 || i >= net->n_layers)
        return ACT_EINVAL;
    const acti_layer *l = &net->layers[i];
    const acti_tensor *t = &net->tensors[l->out];
    out->kind = layer_names[l->kind];
    if (l->kind == ACTI_L_ACT)
        out->kind = l->fn->name;
    out->c = t->c;
    out->h = t->h;
    out->w = t->w;
    out->fwd_s = l->t_fwd;
    out->bwd_s = l->t_bwd;
    out->n_params = l->n_params;
    return ACT_OK;
}

int act_net_failed_layer(const act_net *net)
{
    return net ? net->failed_layer : -1;
}

void act_net_profile_reset(act_net *net)
{
    for (int i = 0; net && i < net->n_layers; i++)
        net->layers[i].t_fwd = net->layers[i].t_bwd = 0.0;
}

// ----------------------------------------------------------------------------
// passes

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

int act_net_forward(act_net *net, const float *x, size_t n, int train, const float **logits)
{
    if (!net || !x || n == 0 || n > net->cfg.max_batch)
        return ACT_EINVAL;
    memcpy(acti_val(net, 0), x, n * net->tensors[0].size * sizeof(float));
    net->n_cur = n;
    net->train = train;
    int prof = net->cfg.profile;
    net->failed_layer = -1;
    for (int i = 0; i < net->n_layers; i++) {
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
