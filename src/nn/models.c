/* models.c -- level 2 of the training engine: activation resolution (act_nn_act: defaults,
 * names, the layer that computes one) and the model zoo (a table of specs, one builder
 * function per model), act_net_new. Uses the layers (layers.h) and the builder (net.h) below
 * it; nothing below calls it. Order: net.h <- layers.h <- models.h (this) <- nn_impl.h.
 * Adding a model: one row in `models` and one builder function (docs/training.md). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/models.h"

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

/* The one place that maps an activation kind to its layer (models.h). */
int acti_nn_act_add(act_net *net, int in, const act_nn_act *a)
{
    switch (a->kind) {
    case ACT_NN_ACT_FN: {
        const act_fn *f = a->fn ? a->fn : act_act_fn(ACT_ACT_RELU);
        int pc = a->per_channel < 0 ? (f->flags & ACT_ACT_CHANNEL) != 0 : a->per_channel != 0;
        return acti_act_add(net, in, f, pc, a->paper_init ? ACT_INIT_PAPER : ACT_INIT_DEFAULT,
                            a->has_params ? a->params : NULL);
    }
    case ACT_NN_ACT_META_ACON:
        return acti_meta_acon_add(net, in, a->meta_r, a->meta_bn);
    case ACT_NN_ACT_FRELU:
        return acti_frelu_add(net, in, 0);
    case ACT_NN_ACT_ACON_FRELU:
        return acti_frelu_add(net, in, 1);
    case ACT_NN_ACT_KIND_COUNT:
        break;
    }
    return ACT_EINVAL;
}

// ----------------------------------------------------------------------------
// model zoo: builders get the spec's text after "name:" ("" when there is none) and return
// the logits' tensor id or a negative status (diag->msg says what was wrong with the spec)

/* The model's activation at a replaceable position; stem: the model's first one, which stays
 * relu when cfg.act_stem is 0. */
static int act_here(act_net *net, int in, int stem)
{
    act_nn_act relu = act_nn_act_default(ACT_NN_ACT_FN);
    const act_nn_act *a = (stem && !net->cfg.act_stem) ? &relu : &net->cfg.act;
    return acti_nn_act_add(net, in, a);
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
    char *save = NULL;
    for (char *tok = strtok_r(rest, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
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

/* The CNN of PyTorch's MNIST example (pytorch/examples mnist/main.py, class Net) without its
 * dropout, as bench/train/torch_bench.py builds it for the side-by-side benchmark:
 * conv3x3(C->32), act, conv3x3(32->64), act, maxpool2, fc(->128), act, fc(->classes). */
static int build_cnn(act_net *net, const char *args, act_diag *diag)
{
    (void)args;   /* takes none: models[].args is 0 */
    int t = 0;
    if (net->cfg.in_h < 6 || net->cfg.in_w < 6) {
        snprintf(diag->msg, sizeof diag->msg, "cnn: input must be at least 6x6");
        return ACT_ESHAPE;
    }
    TRY(acti_conv_add(net, 0, 32, 3, 1, 0, 1));
    TRY(act_here(net, t, 1));
    TRY(acti_conv_add(net, t, 64, 3, 1, 0, 1));
    TRY(act_here(net, t, 0));
    TRY(acti_pool_add(net, ACTI_L_MAXPOOL, t, 2, 2, 0));
    TRY(acti_flatten_add(net, t));
    TRY(acti_dense_add(net, t, 128));
    TRY(act_here(net, t, 0));
    TRY(acti_dense_add(net, t, net->cfg.n_classes));
    return t;
}

/* CIFAR ResNet-(6N+2) (He et al. 2016, arXiv 1512.03385, section 4.2): 3 stages of N basic
 * blocks with 16, 32, 64 channels; projection shortcuts (1x1 conv + BN) where the shape
 * changes. preact: the pre-activation block (He et al., "Identity Mappings", arXiv 1603.05027). */
static int build_resnet(act_net *net, const char *args, act_diag *diag)
{
    int nb = 0, preact = 0;
    char rest[96] = "";
    if (sscanf(args, "%d%95s", &nb, rest) < 1 || nb < 1 || nb > 100) {
        snprintf(diag->msg, sizeof diag->msg, "resnet: expected resnet:N[,preact] (N >= 1)");
        return ACT_EPARSE;
    }
    char *save = NULL;
    for (char *tok = strtok_r(rest, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
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

/* The index of the width multiplier in args in list[0..n) (as numbers: "1", "1.0" and "1.00"
 * are one), or -1 where args is none of them. */
static int pick_width(const char *args, const double *list, int n)
{
    char *end;
    if (!isdigit((unsigned char)args[0]))
        return -1;
    double v = strtod(args, &end);
    for (int i = 0; *end == '\0' && i < n; i++)
        if (fabs(v - list[i]) < 1e-9)
            return i;
    return -1;
}

/* conv1x1 (oc) + BN, and the act when act is set. */
static int pw_bn(act_net *net, int in, int oc, int act)
{
    int t;
    TRY(acti_conv_add(net, in, oc, 1, 1, 0, 0));
    TRY(acti_bn_add(net, t));
    if (act)
        TRY(act_here(net, t, 0));
    return t;
}

/* 3x3 depthwise conv (stride, pad 1) + BN. */
static int dw_bn(act_net *net, int in, int stride)
{
    int t;
    TRY(acti_dwconv_add(net, in, 3, stride, 1, 0));
    TRY(acti_bn_add(net, t));
    return t;
}

/* One ShuffleNetV2 unit of out channels (Ma et al. 2018, Fig. 3 (c) and (d)), b = out / 2.
 * Stride 1: split x in halves; the first passes, the second goes conv1x1-BN-act, dw3x3-BN,
 * conv1x1-BN-act. Stride 2: both branches see all of x: dw3x3/2-BN, conv1x1 (b)-BN-act; and
 * conv1x1 (b)-BN-act, dw3x3/2-BN, conv1x1-BN-act. Then concat and shuffle (2 groups). */
static int shuffle_unit(act_net *net, int x, int out, int stride)
{
    int t, b = out / 2, left, right;
    if (stride == 1) {
        TRY(acti_slice_add(net, x, 0, b));
        left = t;
        TRY(acti_slice_add(net, x, b, b));
        right = t;
    } else {
        TRY(dw_bn(net, x, 2));
        TRY(pw_bn(net, t, b, 1));
        left = t;
        right = x;
    }
    TRY(pw_bn(net, right, b, 1));
    TRY(dw_bn(net, t, stride));
    TRY(pw_bn(net, t, b, 1));
    TRY(acti_concat_add(net, left, t));
    TRY(acti_shuffle_add(net, t, 2));
    return t;
}

/* ShuffleNetV2 (Ma et al. 2018, arXiv 1807.11164, Table 5; the layout of torchvision's
 * shufflenetv2.py) for 28x28 inputs. Kept: stages of 4, 8, 4 units with the paper's channels
 * (0.5x 48/96/192, 1.0x 116/232/464, 1.5x 176/352/704, 2.0x 244/488/976), the first unit of each
 * stride 2; conv1x1 (1024; 2048 at 2.0x)-BN-act, global average pool, fc. Adapted: the stem is
 * conv3x3 (24) stride 1-BN-act with no max-pool (ImageNet: stride 2 and a 3x3/2 max-pool, 224 ->
 * 56), so the stages run at 14, 7 and 4 (ImageNet 28, 14, 7). Convs have no bias (BN follows). */
static int build_shufflenetv2(act_net *net, const char *args, act_diag *diag)
{
    static const double widths[] = { 0.5, 1.0, 1.5, 2.0 };
    static const int chans[][3] = { { 48, 96, 192 }, { 116, 232, 464 }, { 176, 352, 704 },
                                    { 244, 488, 976 } };
    static const int units[3] = { 4, 8, 4 };
    int w = pick_width(args, widths, 4), t;
    if (w < 0) {
        snprintf(diag->msg, sizeof diag->msg,
                 "shufflenetv2: expected shufflenetv2:W with W one of 0.5, 1.0, 1.5, 2.0");
        return ACT_EPARSE;
    }
    TRY(acti_conv_add(net, 0, 24, 3, 1, 1, 0));
    TRY(acti_bn_add(net, t));
    TRY(act_here(net, t, 1));
    for (int s = 0; s < 3; s++)
        for (int u = 0; u < units[s]; u++)
            TRY(shuffle_unit(net, t, chans[w][s], u == 0 ? 2 : 1));
    TRY(pw_bn(net, t, w == 3 ? 2048 : 1024, 1));
    TRY(acti_gap_add(net, t));
    TRY(acti_dense_add(net, t, net->cfg.n_classes));
    return t;
}

/* MobileNet v1 (Howard et al. 2017, arXiv 1704.04861, Table 1) with the paper's width
 * multipliers alpha (0.25, 0.5, 0.75, 1.0) for 28x28 inputs. Kept: the stem conv3x3 (32 alpha)
 * -BN-act, then 13 depthwise-separable blocks (dw3x3-BN-act, conv1x1-BN-act) to 64, 128, 128,
 * 256, 256, 512 (x6), 1024, 1024 channels (times alpha: 8 ... 256 at 0.25), global average pool,
 * fc. Adapted, the strides: ImageNet halves the size in the stem and in the blocks to 128, 256,
 * 512 and the first 1024 (224 -> 7); here the stem and the block to 128 keep stride 1, so the
 * size goes 28 -> 14 (at 256) -> 7 (at 512) -> 4 (at 1024), each stage at about half the
 * paper's size (56, 28, 14, 7). The last block is stride 1 (Table 1 prints s2 there, but its
 * input and output are both 7x7). Convs have no bias (BN follows). */
static int build_mobilenet(act_net *net, const char *args, act_diag *diag)
{
    static const double alphas[] = { 0.25, 0.5, 0.75, 1.0 };
    static const int chans[13] = { 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024,
                                   1024 };
    static const int strides[13] = { 1, 1, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1 };
    int i = pick_width(args, alphas, 4), t;
    if (i < 0) {
        snprintf(diag->msg, sizeof diag->msg,
                 "mobilenet: expected mobilenet:ALPHA with ALPHA one of 0.25, 0.5, 0.75, 1.0");
        return ACT_EPARSE;
    }
    double a = alphas[i];
    TRY(acti_conv_add(net, 0, (int)(32 * a), 3, 1, 1, 0));
    TRY(acti_bn_add(net, t));
    TRY(act_here(net, t, 1));
    for (int b = 0; b < 13; b++) {
        TRY(dw_bn(net, t, strides[b]));
        TRY(act_here(net, t, 0));
        TRY(pw_bn(net, t, (int)(chans[b] * a), 1));
    }
    TRY(acti_gap_add(net, t));
    TRY(acti_dense_add(net, t, net->cfg.n_classes));
    return t;
}

/* One TFNet block on x of C channels: main = conv1x1-BN-act-conv1x1-BN (C -> C); stride 1:
 * act(x + main(x)); stride 2: act at half the size on cat(x, main(x)) (2C channels). */
static int tf_block(act_net *net, int x, int stride)
{
    int t, c = net->tensors[x].c;
    TRY(pw_bn(net, x, c, 1));
    TRY(pw_bn(net, t, c, 0));
    if (stride == 1) {
        TRY(acti_add_add(net, x, t));
    } else {
        TRY(acti_concat_add(net, x, t));
        TRY(acti_pool_add(net, ACTI_L_MAXPOOL, t, 3, 2, 1));
    }
    TRY(act_here(net, t, 0));
    return t;
}

/* TFNet, the toy funnel network of the ACON paper (Ma et al., "Activate or Not: Learning
 * Customized Activation", CVPR 2021, arXiv 2009.04759; the authors' nmaac/acon TFNet/network.py),
 * for 28x28 inputs. From the paper: built only from 1x1 convs (with BN) and the activation,
 * ACON-FReLU there; here the run's activation (--act acon_frelu is the paper's, relu and frelu
 * the comparisons). Stem conv3x3 (16 W)-BN-act; stages of 2, 3, 8, 3 blocks (tf_block), the
 * first of each stride 2, doubling the channels (W = 0.5: 8 -> 16, 32, 64, 128); conv1x1
 * (1024)-BN-act, global average pool, dropout 0.2 for W > 0.5, fc. Adapted: the stem is stride 1
 * (ImageNet: 2), so the stages give 28 -> 14 -> 7 -> 4 -> 2 (ImageNet 56 ... 7); the paper's
 * stride-2 ACON-FReLU (x's side max-pooled 3x3/2, the condition T = BN(dwconv3x3/2(x))) is a
 * 3x3/2 max-pool (pad 1) followed by the activation at stride 1, so that every activation fits
 * there (acon_frelu then computes T on the pooled map); the stem's activation is the run's too
 * (the paper's ReLU with --keep-stem); no conv biases (BN follows each); actlab's initialisation
 * (He), not the paper's N(0, 1/C). */
static int build_tfnet(act_net *net, const char *args, act_diag *diag)
{
    static const double widths[] = { 0.5, 1.0, 1.5, 2.0 };
    static const int blocks[4] = { 2, 3, 8, 3 };
    int i = strchr(net->cfg.model, ':') ? pick_width(args, widths, 4) : 0, t;
    if (i < 0) {
        snprintf(diag->msg, sizeof diag->msg,
                 "tfnet: expected tfnet or tfnet:W with W one of 0.5, 1.0, 1.5, 2.0");
        return ACT_EPARSE;
    }
    double w = widths[i];
    TRY(acti_conv_add(net, 0, (int)(16 * w), 3, 1, 1, 0));
    TRY(acti_bn_add(net, t));
    TRY(act_here(net, t, 1));
    for (int s = 0; s < 4; s++)
        for (int b = 0; b < blocks[s]; b++)
            TRY(tf_block(net, t, b == 0 ? 2 : 1));
    TRY(pw_bn(net, t, 1024, 1));
    TRY(acti_gap_add(net, t));
    if (w > 0.5)
        TRY(acti_dropout_add(net, t, 0.2f));
    TRY(acti_dense_add(net, t, net->cfg.n_classes));
    return t;
}

#undef TRY

/* The model zoo. name: the spec up to ':'; args: 1 if it takes text after ':' (0: a spec with
 * a ':' is not this model); usage: its form, listed when a spec names no model. */
typedef int model_build_fn(act_net *net, const char *args, act_diag *diag);
static const struct model {
    const char     *name;
    int             args;
    const char     *usage;
    model_build_fn *build;
} models[] = {
    { "mlp",          1, "mlp:WxD[,bn][,dropout=p]", build_mlp },
    { "cnn",          0, "cnn",                      build_cnn },
    { "resnet",       1, "resnet:N[,preact]",        build_resnet },
    { "shufflenetv2", 1, "shufflenetv2:W",           build_shufflenetv2 },
    { "mobilenet",    1, "mobilenet:ALPHA",          build_mobilenet },
    { "tfnet",        1, "tfnet[:W]",                build_tfnet },
};
enum { N_MODELS = sizeof models / sizeof models[0] };

static int build_spec(act_net *net, void *ctx, act_diag *diag)
{
    (void)ctx;
    const char *spec = net->cfg.model, *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    for (int i = 0; i < N_MODELS; i++)
        if (strlen(models[i].name) == len && !strncmp(spec, models[i].name, len) &&
            (models[i].args || !colon))
            return models[i].build(net, colon ? colon + 1 : "", diag);
    int n = snprintf(diag->msg, sizeof diag->msg, "unknown model '%s' (", spec);
    for (int i = 0; i < N_MODELS && n > 0 && (size_t)n < sizeof diag->msg; i++)
        n += snprintf(diag->msg + n, sizeof diag->msg - (size_t)n, "%s%s", i ? ", " : "",
                      models[i].usage);
    if (n > 0 && (size_t)n < sizeof diag->msg)
        snprintf(diag->msg + n, sizeof diag->msg - (size_t)n, ")");
    return ACT_EPARSE;
}

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
    c.gemm = act_gemm_default();
    return c;
}

int act_net_new(const act_net_config *cfg, act_net **out, act_diag *diag)
{
    return acti_net_create(cfg, build_spec, NULL, out, diag);
}

