/* net.c -- the network's level 0 (nn/net.h): the builder primitives every layer calls (tensors,
 * layers, parameter blocks with their initialisation rules, segments, workspaces), creation
 * (checks, gradient plan, one parameter block, one arena, initialisation), accessors.
 * It calls no layer: layers (layers.h) use it; the model zoo (models.c) and the passes (pass.c)
 * sit above both. Order: net.h <- layers.h (and pass.c) <- models.h <- nn_impl.h. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/net.h"

#define ALIGN_FLOATS 16   /* 64-byte alignment of every block */

static size_t round_up(size_t n) { return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS; }

double acti_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
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

size_t acti_param_block(act_net *net, int li, size_t size, const acti_init *init)
{
    size_t off = net->n_params;
    net->n_params += round_up(size);
    net->layers[li].n_params += size;
    if (grow((void **)&net->inits, &net->cap_inits, net->n_inits + 1, sizeof(acti_init))) {
        net->build_err = ACT_ENOMEM;   /* reported by acti_net_create() */
        return off;
    }
    acti_init *r = &net->inits[net->n_inits++];
    *r = *init;
    r->off = off;
    r->size = size;
    return off;
}

int acti_param_seg(act_net *net, int li, const char *name, size_t off, size_t size,
                   unsigned flags)
{
    if (grow((void **)&net->segs, &net->cap_segs, net->n_segs + 1, sizeof(act_param_seg)))
        return ACT_ENOMEM;
    act_param_seg *s = &net->segs[net->n_segs];
    s->offset = off;
    s->size = size;
    s->flags = flags;
    s->layer = li;
    snprintf(s->name, sizeof s->name, "l%d.%s.%s", li, layer_names[net->layers[li].kind], name);
    net->n_segs++;
    return ACT_OK;
}

size_t acti_param_new(act_net *net, int li, const char *name, size_t size, unsigned flags,
                      acti_init_kind how, size_t fan)
{
    acti_init init;
    memset(&init, 0, sizeof init);
    init.kind = how;
    init.fan = fan;
    size_t off = acti_param_block(net, li, size, &init);
    if (acti_param_seg(net, li, name, off, size, flags) != ACT_OK)
        net->build_err = ACT_ENOMEM;   /* reported by acti_net_create() */
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

void acti_need_shared(act_net *net, size_t floats)
{
    if (floats > net->shared_floats)
        net->shared_floats = floats;
}

// ----------------------------------------------------------------------------
// construction

/* The number of splitmix64 steps act_act_init_params(id, how, seed, channels) takes from seed:
 * under ACT_INIT_PAPER an ACT_ACT_RANDP activation draws p1 and p2 for every channel, each one
 * Box-Muller normal of two steps (act.h: "p1, p2 ~ N(0, 1) from seed"); nothing otherwise. The
 * net hands it its stream's state as the seed and moves its stream on by this many steps, so
 * the blocks after an activation's draw from where it left off. */
static uint64_t act_init_steps(act_act_id id, act_init how, size_t channels)
{
    const act_act_desc *d = act_act_info(id);
    return how == ACT_INIT_PAPER && (d->flags & ACT_ACT_RANDP) ? 2u * 2u * (uint64_t)channels : 0u;
}

/* Writes an activation's parameter block p (a->rows x a->channels) under rule a (net.h). */
static int init_act(const acti_act_init *a, float *p, uint64_t *rng)
{
    const act_fn *f = a->fn;
    size_t C = a->channels;
    int id = 0;
    while (id < ACT_ACT_COUNT && act_act_fn((act_act_id)id) != f)
        id++;
    if (a->given || id == ACT_ACT_COUNT) {   /* the caller's values, or an expression's defaults */
        for (int k = 0; k < a->rows; k++)
            for (size_t c = 0; c < C; c++)
                p[(size_t)k * C + c] = a->given ? a->p[k] : f->defaults[k];
        return ACT_OK;
    }
    /* A built-in: all its rows, or its first a->rows through a scratch copy. */
    float *all = a->rows == f->n_params ? p : malloc((size_t)f->n_params * C * sizeof(float));
    if (!all)
        return ACT_ENOMEM;
    int rc = act_act_init_params((act_act_id)id, a->how, *rng, C, all);
    for (uint64_t k = act_init_steps((act_act_id)id, a->how, C); k > 0; k--)
        (void)acti_rng_next(rng);
    if (all != p) {
        memcpy(p, all, (size_t)a->rows * C * sizeof(float));
        free(all);
    }
    return rc;
}

/* Applies the initialisation rules (net.h) in order, from one stream seeded by cfg.seed. gain > 0
 * (ACT_NN_INIT_GAIN): weights N(0, gain^2 / fan) instead of He's N(0, 2 / fan), from the same
 * draws; the stream, and so every other block, is the same as He's. */
static int init_params(act_net *net, double gain)
{
    uint64_t rng = net->cfg.seed * 0x2545f4914f6cdd1dULL + 12345;
    int torch = net->cfg.init == ACT_NN_INIT_TORCH;
    memset(net->params, 0, 2 * net->n_params * sizeof(float));
    for (int i = 0; i < net->n_inits; i++) {
        const acti_init *in = &net->inits[i];
        float *p = net->params + in->off;
        switch (in->kind) {
        case ACTI_INIT_ZERO:
            break;
        case ACTI_INIT_ONE:
            for (size_t j = 0; j < in->size; j++)
                p[j] = 1.0f;
            break;
        case ACTI_INIT_BIAS:
        case ACTI_INIT_HE:
            if (torch) {
                double b = 1.0 / sqrt((double)in->fan);
                for (size_t j = 0; j < in->size; j++)
                    p[j] = (float)(b * (2.0 * acti_rng_uniform(&rng) - 1.0));
            } else if (in->kind == ACTI_INIT_HE) {
                double fan = (double)in->fan;
                double sd = gain > 0.0 ? gain / sqrt(fan) : sqrt(2.0 / fan);
                for (size_t j = 0; j < in->size; j++)
                    p[j] = (float)(sd * acti_rng_normal(&rng));
            }
            break;
        case ACTI_INIT_ACT: {
            int rc = init_act(&in->act, p, &rng);
            if (rc != ACT_OK)
                return rc;
            break;
        }
        }
    }
    return ACT_OK;
}

/* Layer kinds whose backward can write (=) an input's gradient instead of adding to it (all of
 * it: a SLICE writes only its channels, so it adds). */
static int can_assign(acti_layer_kind k)
{
    return k == ACTI_L_ACT || k == ACTI_L_ADD || k == ACTI_L_DROPOUT || k == ACTI_L_DENSE ||
           k == ACTI_L_BN || k == ACTI_L_MAXPOOL || k == ACTI_L_GAP || k == ACTI_L_CONCAT ||
           k == ACTI_L_SHUFFLE;
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
        int ids[2] = { l->in0, l->in1 };   /* in1: ADD and CONCAT's second input, else -1 */
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
        int prc = act_fn_check_params(cfg->act.fn, cfg->act.params, diag);
        if (prc != ACT_OK)
            return prc;
    }
    if ((unsigned)cfg->init >= ACT_NN_INIT_COUNT) {
        snprintf(diag->msg, sizeof diag->msg, "invalid weight initialisation %d", (int)cfg->init);
        return ACT_EINVAL;
    }
    if (cfg->init == ACT_NN_INIT_GAIN && cfg->act.kind != ACT_NN_ACT_FN) {
        static const char *const kinds[] = {
#define X(ID, name, help) [ACT_NN_ACT_##ID] = #name,
            ACT_NN_ACT_KIND_LIST(X)
#undef X
        };
        snprintf(diag->msg, sizeof diag->msg, "init gain needs an activation function (a "
                 "built-in or expr:), not the layer %s: use lsuv",
                 (unsigned)cfg->act.kind < ACT_NN_ACT_KIND_COUNT ? kinds[cfg->act.kind] : "?");
        return ACT_EINVAL;
    }
    if ((unsigned)cfg->gemm >= ACT_GEMM_COUNT || !act_gemm_supported(cfg->gemm)) {
        snprintf(diag->msg, sizeof diag->msg, "GEMM back-end %s is not in this build",
                 act_gemm_name(cfg->gemm));
        return (unsigned)cfg->gemm >= ACT_GEMM_COUNT ? ACT_EINVAL : ACT_EUNSUPPORTED;
    }
    if (strlen(cfg->model) >= ACT_NET_MAX_SPEC) {
        snprintf(diag->msg, sizeof diag->msg, "model spec of %zu characters (at most %d)",
                 strlen(cfg->model), ACT_NET_MAX_SPEC - 1);
        return ACT_ELIMIT;
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
    net->ws_shared = acti_ws_new(net, net->shared_floats);
    net->ws_red = acti_ws_new(net, net->red_floats * (size_t)ACTI_GROUPS);

    rc = ACT_ENOMEM;
    if (net->n_params == 0)
        net->n_params = ALIGN_FLOATS;
    net->params = aligned_alloc(64, 2 * net->n_params * sizeof(float));
    net->arena = aligned_alloc(64, net->arena_floats * sizeof(float));
    if (!net->params || !net->arena)
        goto fail;
    net->grads = net->params + net->n_params;
    memset(net->arena, 0, net->arena_floats * sizeof(float));
    rc = init_params(net, 0.0);
    if (rc == ACT_OK && cfg->init == ACT_NN_INIT_GAIN) {
        /* the gain needs the activations' initial parameters, drawn after the weights of the
         * layers before them: draw everything, then again with the gain (the same stream) */
        double gain = 0.0;
        rc = acti_net_gain(net, &gain, diag);
        if (rc == ACT_OK)
            rc = init_params(net, gain);
    }
    if (rc != ACT_OK)
        goto fail;
    net->lsuv_pending = cfg->init == ACT_NN_INIT_LSUV;
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
    free(net->inits);
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
act_gemm act_net_gemm(const act_net *net) { return net ? net->cfg.gemm : ACT_GEMM_COUNT; }
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

/* ACT_LAYER_* flags of layer l (nn.h). A switch without default: a new kind must decide. */
static unsigned layer_flags(const acti_layer *l)
{
    switch (l->kind) {
    case ACTI_L_BN:
    case ACTI_L_FRELU:
    case ACTI_L_ACON_FRELU:
        return ACT_LAYER_BN;
    case ACTI_L_META_ACON:
        return l->bn ? ACT_LAYER_BN : 0u;
    case ACTI_L_DENSE:
    case ACTI_L_CONV:
    case ACTI_L_DWCONV:
    case ACTI_L_MAXPOOL:
    case ACTI_L_AVGPOOL:
    case ACTI_L_GAP:
    case ACTI_L_ADD:
    case ACTI_L_DROPOUT:
    case ACTI_L_FLATTEN:
    case ACTI_L_ACT:
    case ACTI_L_SLICE:
    case ACTI_L_CONCAT:
    case ACTI_L_SHUFFLE:
    case ACTI_L_COUNT:
        break;
    }
    return 0u;
}

int act_net_has_bn(const act_net *net)
{
    for (int i = 0; net && i < net->n_layers; i++)
        if (layer_flags(&net->layers[i]) & ACT_LAYER_BN)
            return 1;
    return 0;
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
    out->flags = layer_flags(l);
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

