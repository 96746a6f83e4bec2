/* test_nn_train.c -- optimisers (one step against hand-computed values; weight decay only on
 * weights), schedules, data readers (valid, gzip, corrupt, truncated, wrong magic, hostile
 * headers), checkpoints (round trip, corruption, resume gives the same bits), determinism per
 * thread count, synthetic data a small MLP and CNN learn, and Fashion-MNIST >= 85%. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "actlab/nn.h"
#include "nn/nn_impl.h"
#include "synth.h"
#include "test.h"

static act_net *small_net(const char *model, act_act_id act, int side, size_t batch, int threads)
{
    act_net_config c = act_net_config_default();
    c.model = model;
    c.in_h = c.in_w = side;
    c.max_batch = batch;
    c.threads = threads;
    c.n_classes = 3;
    c.act.fn = act_act_fn(act);
    act_net *net = NULL;
    act_diag d;
    int rc = act_net_new(&c, &net, &d);
    CHECKF(rc == ACT_OK, "%s: %s", model, d.msg);
    return net;
}

void test_nn_optim_step(void)
{
    act_net *net = small_net("mlp:4x1", ACT_ACT_ACON_C, 2, 2, 1);
    if (!net)
        return;
    size_t n = act_net_n_params(net);
    float *w = act_net_params(net), *g = act_net_grads(net);
    float *w0 = malloc(n * sizeof *w0);
    for (size_t i = 0; i < n; i++) {
        w[i] = 0.5f;
        g[i] = 0.25f;
    }
    memcpy(w0, w, n * sizeof *w0);
    /* SGD, momentum 0.9, wd 0.1, two steps: v1 = g + wd w; w1 = w - lr v1; v2 = 0.9 v1 + g'. */
    act_optim_config oc = act_optim_config_default(ACT_OPT_SGD);
    oc.weight_decay = 0.1f;
    act_optim *o = act_optim_new(&oc, net);
    CHECK(act_optim_step(o, net, 0.1f) == ACT_OK);
    for (int i = 0; i < act_net_n_segments(net); i++) {
        const act_param_seg *s = act_net_segment(net, i);
        for (size_t j = 0; j < s->size; j++) {
            float want = !(s->flags & ACT_SEG_LEARN) ? 0.5f
                         : (s->flags & ACT_SEG_DECAY) ? 0.5f - 0.1f * (0.25f + 0.05f)
                                                      : 0.5f - 0.1f * 0.25f;
            CHECK_CLOSE(w[s->offset + j], want, 1e-7, 1e-6, "sgd %s", s->name);
            /* activation parameters are never decayed */
            if (s->flags & ACT_SEG_ACT)
                CHECK(!(s->flags & ACT_SEG_DECAY));
        }
    }
    act_optim_free(o);
    /* The step consumed the gradient: every segment's gradient is zero again. */
    int zero = 1;
    for (int i = 0; i < act_net_n_segments(net); i++) {
        const act_param_seg *s = act_net_segment(net, i);
        for (size_t j = 0; j < s->size; j++)
            zero &= g[s->offset + j] == 0.0f;
    }
    CHECK(zero);
    /* Adam: the first step moves every learnable parameter by lr (sign of g), AdamW decays. */
    memcpy(w, w0, n * sizeof *w0);
    for (size_t i = 0; i < n; i++)
        g[i] = 0.25f;
    oc = act_optim_config_default(ACT_OPT_ADAMW);
    oc.weight_decay = 0.5f;
    o = act_optim_new(&oc, net);
    CHECK(act_optim_step(o, net, 0.01f) == ACT_OK);
    for (int i = 0; i < act_net_n_segments(net); i++) {
        const act_param_seg *s = act_net_segment(net, i);
        if (!(s->flags & ACT_SEG_LEARN))
            continue;
        float d = (s->flags & ACT_SEG_DECAY) ? 0.01f * 0.5f * 0.5f : 0.0f;
        CHECK_CLOSE(w[s->offset], 0.5f - d - 0.01f, 1e-6, 1e-5, "adamw %s", s->name);
    }
    /* A non-finite gradient is divergence, parameters untouched. */
    memcpy(w0, w, n * sizeof *w0);
    g[0] = NAN;
    CHECK(act_optim_step(o, net, 0.01f) == ACT_EDIVERGED);
    CHECK(memcmp(w0, w, n * sizeof *w0) == 0);
    act_optim_free(o);
    /* Clipping: global norm scaled to clip. */
    for (size_t i = 0; i < n; i++)
        g[i] = 3.0f;
    memcpy(w, w0, n * sizeof *w0);
    oc = act_optim_config_default(ACT_OPT_SGD);
    oc.momentum = 0.0f;
    oc.clip_norm = 1.0f;
    o = act_optim_new(&oc, net);
    CHECK(o && act_optim_step(o, net, 1.0f) == ACT_OK);
    double moved = 0.0;
    for (size_t i = 0; i < n; i++)
        moved += ((double)w[i] - (double)w0[i]) * ((double)w[i] - (double)w0[i]);
    CHECK_CLOSE(sqrt(moved), 1.0, 1e-4, 0, "clipped step length");
    act_optim_free(o);
    free(w0);
    act_net_free(net);
}

void test_nn_schedules(void)
{
    act_sched_config s = { ACT_SCHED_STEP, 0.1f, 0.0f, 2.0f, 0.1f, 0.0f };
    CHECK_CLOSE(act_sched_lr(&s, 1.9, 10), 0.1, 1e-7, 1e-6, "step before");
    CHECK_CLOSE(act_sched_lr(&s, 2.0, 10), 0.01, 1e-7, 1e-5, "step after");
    s.kind = ACT_SCHED_COSINE;
    s.warmup_epochs = 1.0f;
    CHECK_CLOSE(act_sched_lr(&s, 0.5, 5), 0.05, 1e-7, 1e-5, "warm-up half way");
    CHECK_CLOSE(act_sched_lr(&s, 1.0, 5), 0.1, 1e-7, 1e-5, "cosine start");
    CHECK_CLOSE(act_sched_lr(&s, 3.0, 5), 0.05, 1e-7, 1e-5, "cosine middle");
    CHECK_CLOSE(act_sched_lr(&s, 5.0, 5), 0.0, 1e-7, 1e-5, "cosine end");
    s.kind = ACT_SCHED_CONSTANT;
    s.warmup_epochs = 0.0f;
    CHECK_CLOSE(act_sched_lr(&s, 4.0, 5), 0.1, 1e-7, 1e-6, "constant");
}

// ----------------------------------------------------------------------------
// data readers

static void put32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

static void write_file(const char *path, const void *p, size_t n, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        gzwrite(f, p, (unsigned)n);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(p, 1, n, f);
        fclose(f);
    }
}

void test_nn_idx_reader(void)
{
    char dir[] = "/tmp/actlab-idx-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char img[256], lab[256];
    snprintf(img, sizeof img, "%s/img.gz", dir);
    snprintf(lab, sizeof lab, "%s/lab", dir);
    unsigned char ib[16 + 3 * 4], lb[8 + 3];
    put32(ib, 0x803);
    put32(ib + 4, 3);
    put32(ib + 8, 2);
    put32(ib + 12, 2);
    for (int i = 0; i < 12; i++)
        ib[16 + i] = (unsigned char)(i * 20);
    put32(lb, 0x801);
    put32(lb + 4, 3);
    lb[8] = 0;
    lb[9] = 4;
    lb[10] = 1;
    write_file(img, ib, sizeof ib, 1);
    write_file(lab, lb, sizeof lb, 0);
    act_dataset d;
    act_diag dg;
    int rc = act_data_load_idx(img, lab, 10, &d, &dg);
    CHECKF(rc == ACT_OK, "%s", dg.msg);
    CHECK(d.n == 3 && d.h == 2 && d.w == 2 && d.c == 1 && d.n_classes == 10);
    CHECK(rc == ACT_OK && d.x[5] == 100 && d.y[1] == 4);
    act_data_free(&d);
    /* truncated image data */
    write_file(img, ib, sizeof ib - 3, 1);
    rc = act_data_load_idx(img, lab, 10, &d, &dg);
    CHECKF(rc == ACT_EFORMAT && strstr(dg.msg, img) && strstr(dg.msg, "truncated"), "%s", dg.msg);
    /* wrong magic (labels where images belong) */
    rc = act_data_load_idx(lab, lab, 10, &d, &dg);
    CHECKF(rc == ACT_EFORMAT && strstr(dg.msg, "magic"), "%s", dg.msg);
    /* hostile header: 4e9 images of 4096 x 4096 */
    put32(ib + 4, 0xffffffffu);
    put32(ib + 8, 4096);
    put32(ib + 12, 4096);
    write_file(img, ib, 16, 0);
    rc = act_data_load_idx(img, lab, 10, &d, &dg);
    CHECKF(rc == ACT_ELIMIT && strstr(dg.msg, img), "%s", dg.msg);
    /* label count mismatch */
    put32(ib + 4, 2);
    put32(ib + 8, 2);
    put32(ib + 12, 2);
    write_file(img, ib, 16 + 8, 0);
    rc = act_data_load_idx(img, lab, 10, &d, &dg);
    CHECKF(rc == ACT_EFORMAT && strstr(dg.msg, "labels"), "%s", dg.msg);
    /* corrupt gzip stream */
    unsigned char junk[64] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef };
    write_file(img, junk, sizeof junk, 0);
    rc = act_data_load_idx(img, lab, 10, &d, &dg);
    CHECKF(rc == ACT_EFORMAT, "corrupt gzip: %s", dg.msg);
    /* missing file */
    rc = act_data_load_idx("/nonexistent/x", lab, 10, &d, &dg);
    CHECKF(rc == ACT_EIO && strstr(dg.msg, "/nonexistent/x"), "%s", dg.msg);
    /* CIFAR-10: two records, then a truncated file */
    char cf[256];
    snprintf(cf, sizeof cf, "%s/c.bin", dir);
    unsigned char *rec = calloc(2, 3073);
    rec[0] = 7;
    rec[3073] = 2;
    rec[3073 + 5] = 99;
    write_file(cf, rec, 2 * 3073, 0);
    const char *files[1] = { cf };
    rc = act_data_load_cifar(files, 1, 0, &d, &dg);
    CHECKF(rc == ACT_OK && d.n == 2 && d.y[0] == 7 && d.y[1] == 2 && d.x[3072 + 4] == 99 &&
           d.c == 3, "%s", dg.msg);
    act_data_free(&d);
    write_file(cf, rec, 3073 + 100, 0);
    rc = act_data_load_cifar(files, 1, 0, &d, &dg);
    CHECKF(rc == ACT_EFORMAT && strstr(dg.msg, "truncated"), "%s", dg.msg);
    rec[0] = 200;
    write_file(cf, rec, 3073, 0);
    rc = act_data_load_cifar(files, 1, 0, &d, &dg);
    CHECKF(rc == ACT_EFORMAT, "%s", dg.msg);
    free(rec);
    remove(img);
    remove(lab);
    remove(cf);
    rmdir(dir);
}

// ----------------------------------------------------------------------------
// synthetic data: 3 classes of 8x8 images (a bright row, column or diagonal) plus noise


static double train_synth(const char *model, act_act_id act, int threads, int epochs,
                          float *params_out, size_t n_out, const char *ckpt, const char *resume)
{
    act_dataset tr, te;
    test_synth(&tr, 600, 1, 1);
    test_synth(&te, 300, 1, 2);
    act_net *net = small_net(model, act, 8, 32, threads);
    if (!net)
        return 0.0;
    act_train_config c = act_train_config_default();
    c.epochs = epochs;
    c.batch = 30;      /* 500 training images: the last batch is short */
    c.val_size = 100;
    c.sched.lr = 0.02f;
    c.checkpoint = ckpt;
    c.resume = resume;
    act_epoch_stats st;
    act_diag d;
    int rc = act_train_run(net, &c, &tr, &te, &st, NULL, &d);
    CHECKF(rc == ACT_OK, "%s: %s %s", model, act_strerror(rc), d.msg);
    if (params_out)
        memcpy(params_out, act_net_params(net), n_out * sizeof(float));
    act_net_free(net);
    act_data_free(&tr);
    act_data_free(&te);
    return rc == ACT_OK ? st.test_acc : 0.0;
}

void test_nn_learns_synthetic(void)
{
    double a = train_synth("mlp:32x2", ACT_ACT_SILU, 1, 3, NULL, 0, NULL, NULL);
    CHECKF(a >= 0.95, "mlp test accuracy %.3f", a);
    a = train_synth("cnn", ACT_ACT_SILU, 2, 2, NULL, 0, NULL, NULL);
    CHECKF(a >= 0.95, "cnn test accuracy %.3f", a);
    a = train_synth("resnet:1", ACT_ACT_ACON_C, 2, 2, NULL, 0, NULL, NULL);
    CHECKF(a >= 0.9, "resnet test accuracy %.3f", a);
}

void test_nn_deterministic_and_resume(void)
{
    act_net *net = small_net("mlp:16x2,dropout=0.1", ACT_ACT_SWISH, 8, 32, 2);
    if (!net)
        return;
    size_t n = act_net_n_params(net);
    act_net_free(net);
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    /* same seed, same threads: same bits */
    train_synth("mlp:16x2,dropout=0.1", ACT_ACT_SWISH, 2, 2, a, n, NULL, NULL);
    train_synth("mlp:16x2,dropout=0.1", ACT_ACT_SWISH, 2, 2, b, n, NULL, NULL);
    CHECK(memcmp(a, b, n * sizeof *a) == 0);
    /* 1 epoch + checkpoint + resume for the 2nd == 2 epochs straight */
    char path[] = "/tmp/actlab-ckpt-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    train_synth("mlp:16x2,dropout=0.1", ACT_ACT_SWISH, 2, 1, NULL, 0, path, NULL);
    train_synth("mlp:16x2,dropout=0.1", ACT_ACT_SWISH, 2, 2, b, n, NULL, path);
    CHECK(memcmp(a, b, n * sizeof *a) == 0);
    /* a corrupt checkpoint is an error naming the file */
    FILE *f = fopen(path, "r+b");
    fseek(f, 100, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    act_net *m = small_net("mlp:16x2,dropout=0.1", ACT_ACT_SWISH, 8, 32, 2);
    act_diag d;
    CHECKF(act_ckpt_load(path, m, NULL, NULL, &d) == ACT_EFORMAT && strstr(d.msg, path), "%s",
           d.msg);
    act_net *other = small_net("mlp:17x2", ACT_ACT_SWISH, 8, 32, 2);
    act_ckpt_meta meta = { 0, -1, NULL, NULL };
    CHECK(act_ckpt_save(path, other, NULL, &meta) == ACT_OK);
    CHECKF(act_ckpt_load(path, m, NULL, NULL, &d) == ACT_EFORMAT, "%s", d.msg);
    act_net_free(other);
    act_net_free(m);
    remove(path);
    free(a);
    free(b);
}

void test_nn_bad_specs(void)
{
    const char *bad[] = { "mlp", "mlp:0x2", "mlp:10x2,bogus", "resnet:0", "cnnx", "vgg",
                          "mlp:10x2,dropout=1.5", "resnet:1,pre" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        act_net_config c = act_net_config_default();
        c.model = bad[i];
        act_net *net = (act_net *)1;
        act_diag d;
        int rc = act_net_new(&c, &net, &d);
        CHECKF(rc != ACT_OK && net == NULL && d.msg[0], "spec '%s' accepted", bad[i]);
    }
    /* the width multipliers are the papers' (a message names them), nothing else */
    static const struct { const char *spec, *says; } widths[] = {
        { "shufflenetv2:0.3", "0.5, 1.0, 1.5, 2.0" }, { "shufflenetv2", "shufflenetv2:W" },
        { "shufflenetv2:0.5,bn", "0.5, 1.0" },         { "shufflenetv2: 0.5", "0.5, 1.0" },
        { "mobilenet:x", "0.25, 0.5, 0.75, 1.0" },    { "mobilenet", "mobilenet:ALPHA" },
        { "mobilenet:0.3", "0.25, 0.5" },             { "tfnet:0.7", "tfnet or tfnet:W" },
        { "tfnet:", "0.5, 1.0, 1.5, 2.0" },
    };
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        act_net_config c = act_net_config_default();
        c.model = widths[i].spec;
        act_net *net = (act_net *)1;
        act_diag d;
        int rc = act_net_new(&c, &net, &d);
        CHECKF(rc == ACT_EPARSE && net == NULL && strstr(d.msg, widths[i].says),
               "spec '%s': %d '%s'", widths[i].spec, rc, d.msg);
    }
    static const char *const good[] = { "shufflenetv2:1", "shufflenetv2:2.0", "mobilenet:1.00",
                                        "mobilenet:0.75", "tfnet", "tfnet:1.5" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        act_net_config c = act_net_config_default();
        c.model = good[i];
        c.max_batch = 1;
        act_net *net = NULL;
        act_diag d;
        CHECKF(act_net_new(&c, &net, &d) == ACT_OK, "spec '%s': %s", good[i], d.msg);
        act_net_free(net);
    }
    act_nn_act a;
    CHECK(act_nn_act_parse("nope", &a) == ACT_ENOTFOUND);
    CHECK(act_nn_act_parse("meta_acon", &a) == ACT_OK && a.kind == ACT_NN_ACT_META_ACON);
    CHECK(act_nn_act_parse("expr:x", &a) == ACT_EUNSUPPORTED);
}

/* The models of issue 12 on 28x28 inputs: their parameter counts (10 classes; ShuffleNetV2
 * 0.5x and 1.0x are torchvision's shufflenet_v2_x0_5 / x1_0 less the 1000-class fc and two input
 * channels of the stem, plus a 10-class fc); every activation is the run's: built with frelu
 * (or acon_frelu, or an expression) each has as many of those layers as it has ACT layers with
 * relu and no other, with --keep-stem (act_stem 0) all but the stem. */
void test_nn_mobile_models_act(void)
{
    static const struct { const char *model; size_t params; } cases[] = {
        { "shufflenetv2:0.5", 351610 }, { "shufflenetv2:1.0", 1263422 },
        { "mobilenet:0.25", 215498 },   { "tfnet", 285442 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n_act[4] = { 0, 0, 0, 0 };   /* relu: ACT; frelu: FRELU; acon_frelu; keep-stem */
        for (int k = 0; k < 4; k++) {
            act_net_config c = act_net_config_default();
            c.model = cases[i].model;
            c.max_batch = 1;
            c.act = act_nn_act_default(k == 0 ? ACT_NN_ACT_FN
                                       : k == 2 ? ACT_NN_ACT_ACON_FRELU : ACT_NN_ACT_FRELU);
            c.act_stem = k != 3;
            act_net *net = NULL;
            act_diag d;
            int rc = act_net_new(&c, &net, &d);
            CHECKF(rc == ACT_OK, "%s: %s", cases[i].model, d.msg);
            if (rc != ACT_OK)
                continue;
            if (k == 0)
                CHECKF(act_net_n_learnable(net) == cases[i].params, "%s: %zu parameters",
                       cases[i].model, act_net_n_learnable(net));
            int acts = 0, frelu = 0, acon = 0;
            for (int j = 0; j < net->n_layers; j++) {
                acts += net->layers[j].kind == ACTI_L_ACT;
                frelu += net->layers[j].kind == ACTI_L_FRELU;
                acon += net->layers[j].kind == ACTI_L_ACON_FRELU;
            }
            n_act[k] = k == 0 ? acts : k == 2 ? acon : frelu;
            CHECKF(k == 0 || acts == (k == 3), "%s (%d): %d ACT layers", cases[i].model, k, acts);
            CHECKF(k == 2 || acon == 0, "%s (%d): %d ACON-FReLU", cases[i].model, k, acon);
            act_net_free(net);
        }
        CHECKF(n_act[0] > 10 && n_act[1] == n_act[0] && n_act[2] == n_act[0] &&
               n_act[3] == n_act[0] - 1, "%s: %d relu, %d frelu, %d acon_frelu, %d frelu with "
               "--keep-stem", cases[i].model, n_act[0], n_act[1], n_act[2], n_act[3]);
    }
}

/* The models of issue 12 learn: 12 SGD steps (lr 0.05, momentum 0.9) on one batch of 32
 * synthetic 8x8 images (3 classes) halve the training loss, with silu, per-channel ACON-C and
 * FReLU (TFNet with ACON-FReLU, whose last stages are 1x1 planes here, swings at this rate: it
 * trains on 28x28, tests/cli/train.sh). 1 and 3 threads give the same parameters, bit for bit
 * (as nn_threads_same_bits for the other models; 3 threads split the batch 11/11/10). */
void test_nn_mobile_models_learn(void)
{
    static const struct { const char *model; act_nn_act_kind kind; act_act_id id; } cases[] = {
        { "shufflenetv2:0.5", ACT_NN_ACT_FN, ACT_ACT_SILU },
        { "mobilenet:0.25", ACT_NN_ACT_FN, ACT_ACT_ACON_C },
        { "tfnet", ACT_NN_ACT_FRELU, ACT_ACT_RELU },
    };
    enum { N = 32 };
    act_dataset ds;
    test_synth(&ds, N, 1, 7);
    static float x[N * 64];
    int labels[N];
    for (size_t i = 0; i < N * 64; i++)
        x[i] = (float)ds.x[i] / 255.0f - 0.5f;
    for (int i = 0; i < N; i++)
        labels[i] = ds.y[i];
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        float *res[2] = { NULL, NULL };
        size_t np = 0;
        for (int k = 0; k < 2; k++) {
            act_net_config c = act_net_config_default();
            c.model = cases[ci].model;
            c.in_h = c.in_w = 8;
            c.max_batch = N;
            c.n_classes = 3;
            c.threads = k ? 3 : 1;
            c.act = act_nn_act_default(cases[ci].kind);
            if (cases[ci].kind == ACT_NN_ACT_FN)
                c.act.fn = act_act_fn(cases[ci].id);
            act_net *net = NULL;
            act_diag d;
            int rc = act_net_new(&c, &net, &d);
            CHECKF(rc == ACT_OK, "%s: %s", cases[ci].model, d.msg);
            if (rc != ACT_OK)
                break;
            act_optim_config oc = act_optim_config_default(ACT_OPT_SGD);
            act_optim *o = act_optim_new(&oc, net);
            CHECK(o != NULL);
            double first = 0.0, last = 0.0;
            for (int step = 0; o && rc == ACT_OK && step < 12; step++) {
                double loss = 0.0;
                rc = act_net_forward(net, x, N, 1, NULL);
                if (rc == ACT_OK)
                    rc = act_net_loss(net, labels, N, 0.0f, &loss, NULL);
                if (rc == ACT_OK)
                    rc = act_net_backward(net);
                if (rc == ACT_OK)
                    rc = act_optim_step(o, net, 0.05f);
                first = step == 0 ? loss : first;
                last = loss;
            }
            CHECKF(rc == ACT_OK && last < 0.5 * first, "%s, %d threads: loss %.4f -> %.4f (%s)",
                   cases[ci].model, c.threads, first, last, act_strerror(rc));
            np = net->n_params;
            res[k] = malloc(np * sizeof(float));
            if (res[k])
                memcpy(res[k], net->params, np * sizeof(float));
            act_optim_free(o);
            act_net_free(net);
        }
        CHECKF(res[0] && res[1] && !memcmp(res[0], res[1], np * sizeof(float)),
               "%s: 1 and 3 threads differ", cases[ci].model);
        free(res[0]);
        free(res[1]);
    }
    act_data_free(&ds);
}

/* The acceptance test: mlp:256x2 with relu, 2 epochs on all of Fashion-MNIST, >= 85% test. */
void test_nn_fashion_mnist_85(void)
{
    act_dataset tr, te;
    if (!test_fashion(&tr, &te))
        return;
    act_diag d;
    int rc;
    act_net_config c = act_net_config_default();
    c.model = "mlp:256x2";
    c.threads = 1;   /* CI shares the cores: one thread is fastest under contention */
    act_net *net = NULL;
    rc = act_net_new(&c, &net, &d);
    CHECK(rc == ACT_OK);
    act_train_config t = act_train_config_default();
    t.epochs = 2;
    t.sched.lr = 0.05f;
    t.val_size = 0;
    act_epoch_stats st;
    rc = act_train_run(net, &t, &tr, &te, &st, NULL, &d);
    CHECKF(rc == ACT_OK, "%s", d.msg);
    CHECKF(st.test_acc >= 0.85, "test accuracy %.4f after 2 epochs", st.test_acc);
    act_net_free(net);
    act_data_free(&tr);
    act_data_free(&te);
}

/* Backward clears only the gradient buffers whose first writer accumulates (plan_grads in
 * net.c); the others are written with = by their first writer. Filling every activation
 * gradient with NaN before backward must not change a single bit of the parameter gradients,
 * for every model shape (views, residual fan-out, dropout, Meta-ACON, FReLU, channel slices,
 * concats and shuffles) and thread count. */
void test_nn_backward_ignores_stale_grads(void)
{
    static const struct { const char *model; act_nn_act_kind kind; } cases[] = {
        { "mlp:16x3,bn,dropout=0.2", ACT_NN_ACT_FN }, { "cnn", ACT_NN_ACT_FN },
        { "resnet:1", ACT_NN_ACT_FN }, { "resnet:1,preact", ACT_NN_ACT_FN },
        { "resnet:1", ACT_NN_ACT_META_ACON }, { "cnn", ACT_NN_ACT_FRELU },
        { "resnet:1", ACT_NN_ACT_ACON_FRELU }, { "shufflenetv2:0.5", ACT_NN_ACT_FN },
        { "mobilenet:0.25", ACT_NN_ACT_FN }, { "tfnet", ACT_NN_ACT_ACON_FRELU },
    };
    enum { N = 3, SIDE = 12 };
    float x[N * SIDE * SIDE];
    int labels[N] = { 1, 7, 3 };
    uint64_t s = 5;
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = (float)((double)(acti_rng_next(&s) >> 11) * 0x1p-53 * 2.0 - 1.0);
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
        for (int th = 1; th <= 2; th++) {
            float *g[2] = { NULL, NULL };
            size_t np = 0;
            for (int dirty = 0; dirty < 2; dirty++) {
                act_net_config c = act_net_config_default();
                c.model = cases[ci].model;
                c.in_h = c.in_w = SIDE;
                c.max_batch = N;
                c.threads = th;
                c.act = act_nn_act_default(cases[ci].kind);
                if (cases[ci].kind == ACT_NN_ACT_FN)
                    c.act.fn = act_act_fn(ACT_ACT_SWISH);
                act_net *net = NULL;
                int rc = act_net_new(&c, &net, NULL);
                CHECKF(rc == ACT_OK, "%s: create %d", cases[ci].model, rc);
                if (rc != ACT_OK)
                    break;
                rc = act_net_forward(net, x, N, 1, NULL);
                if (rc == ACT_OK)
                    rc = act_net_loss(net, labels, N, 0.0f, NULL, NULL);
                CHECKF(rc == ACT_OK, "%s (dirty %d, %d threads): forward/loss: %s",
                       cases[ci].model, dirty, th, act_strerror(rc));
                if (rc != ACT_OK) {
                    act_net_free(net);
                    break;
                }
                for (int t = 1; dirty && t < net->n_tensors; t++) {
                    const acti_tensor *tt = &net->tensors[t];
                    if (t == net->logits_t || tt->grad_off == net->tensors[net->logits_t].grad_off)
                        continue;
                    float *d = acti_grad(net, t);
                    for (size_t i = 0; i < N * tt->size; i++)
                        d[i] = NAN;
                }
                rc = act_net_backward(net);
                CHECKF(rc == ACT_OK, "%s (dirty %d, %d threads): backward: %s", cases[ci].model,
                       dirty, th, act_strerror(rc));
                if (rc != ACT_OK) {
                    act_net_free(net);
                    break;
                }
                np = net->n_params;
                g[dirty] = malloc(np * sizeof(float));
                if (g[dirty])
                    memcpy(g[dirty], net->grads, np * sizeof(float));
                act_net_free(net);
            }
            CHECKF(g[0] && g[1] && !memcmp(g[0], g[1], np * sizeof(float)),
                   "%s (kind %d, %d threads): stale gradient buffers change the gradients",
                   cases[ci].model, (int)cases[ci].kind, th);
            free(g[0]);
            free(g[1]);
        }
}

/* --init torch: conv/dense weights and biases U(+-1/sqrt(fan_in)) (std 1/sqrt(3 fan_in)), as
 * PyTorch's defaults; he: weights N(0, 2/fan_in), biases 0. Activation parameters alike. */
void test_nn_init_torch(void)
{
    for (int kind = 0; kind < 2; kind++) {
        act_net_config c = act_net_config_default();
        c.model = "cnn";
        c.init = kind ? ACT_NN_INIT_TORCH : ACT_NN_INIT_HE;
        act_net *net = NULL;
        int rc = act_net_new(&c, &net, NULL);
        CHECK(rc == ACT_OK);
        if (rc != ACT_OK)
            continue;
        int seen_w = 0, seen_b = 0;
        for (int i = 0; i < net->n_segs; i++) {
            const act_param_seg *s = &net->segs[i];
            const float *p = net->params + s->offset;
            size_t len = strlen(s->name), fan = 0;
            for (int j = 0; j < net->n_inits; j++)   /* the block's rule: weights or biases */
                if (net->inits[j].off == s->offset && (net->inits[j].kind == ACTI_INIT_HE ||
                                                       net->inits[j].kind == ACTI_INIT_BIAS))
                    fan = net->inits[j].fan;
            if (!fan)
                continue;
            double bound = 1.0 / sqrt((double)fan), s1 = 0.0, s2 = 0.0, mx = 0.0;
            for (size_t k = 0; k < s->size; k++) {
                s1 += p[k];
                s2 += (double)p[k] * p[k];
                mx = fmax(mx, fabs((double)p[k]));
            }
            double sd = sqrt(s2 / (double)s->size - (s1 / (double)s->size) * (s1 / (double)s->size));
            if (!strcmp(s->name + len - 2, ".w")) {
                double want = kind ? bound / sqrt(3.0) : sqrt(2.0 / (double)fan);
                CHECKF(fabs(sd / want - 1.0) < (s->size > 1000 ? 0.05 : 0.3),
                       "%s (init %d): std %g, want %g", s->name, kind, sd, want);
                CHECKF(!kind || mx <= bound, "%s: |w| %g beyond %g", s->name, mx, bound);
                seen_w++;
            } else if (!strcmp(s->name + len - 2, ".b")) {
                CHECKF(kind ? mx > 0.0 && mx <= bound : mx == 0.0, "%s (init %d): max |b| %g",
                       s->name, kind, mx);
                seen_b++;
            }
        }
        CHECKF(seen_w == 4 && seen_b == 4, "cnn: %d weights, %d biases", seen_w, seen_b);
        act_net_free(net);
    }
}

/* The optimiser step is element-wise and splits every segment across the net's threads: 1 and
 * 2 threads must give the same bits (SGD with Nesterov momentum and AdamW, over 2 steps, with
 * clipping active) on a net big enough to be split (> 64k parameters). */
void test_nn_optim_threads(void)
{
    act_opt_kind kinds[2] = { ACT_OPT_SGD, ACT_OPT_ADAMW };
    for (int k = 0; k < 2; k++) {
        float *res[2] = { NULL, NULL };
        size_t np = 0;
        for (int th = 1; th <= 2; th++) {
            act_net_config c = act_net_config_default();
            c.model = "mlp:300x1";
            c.threads = th;
            act_net *net = NULL;
            CHECK(act_net_new(&c, &net, NULL) == ACT_OK);
            if (!net)
                break;
            act_optim_config oc = act_optim_config_default(kinds[k]);
            oc.nesterov = 1;
            oc.weight_decay = 0.01f;
            oc.clip_norm = 0.5f;
            act_optim *o = act_optim_new(&oc, net);
            CHECK(o != NULL);
            np = net->n_params;
            CHECK(np > 65536);
            uint64_t s = 3;
            for (int step = 0; o && step < 2; step++) {
                for (size_t i = 0; i < np; i++)
                    net->grads[i] = (float)(acti_rng_uniform(&s) - 0.5);
                CHECK(act_optim_step(o, net, 0.1f) == ACT_OK);
            }
            res[th - 1] = malloc(np * sizeof(float));
            if (res[th - 1])
                memcpy(res[th - 1], net->params, np * sizeof(float));
            act_optim_free(o);
            act_net_free(net);
        }
        CHECKF(res[0] && res[1] && !memcmp(res[0], res[1], np * sizeof(float)),
               "optimiser %d: 1 and 2 threads differ", k);
        free(res[0]);
        free(res[1]);
    }
}
