/* test_nn_ckpt.c -- the run record and its guards (issue 8): activation parameters refused
 * before training and when they leave the domain during training (never a silent zero layer),
 * checkpoints that record the optimiser, the training configuration and every epoch, refuse a
 * conflicting resume, and validate every field they read (crafted files with a valid CRC). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "actlab/expr.h"
#include "actlab/nn.h"
#include "nn/nn_impl.h"
#include "synth.h"
#include "test.h"


static int new_net(const act_fn *fn, const float *params, act_net **net, act_diag *d)
{
    act_net_config c = act_net_config_default();
    c.model = "mlp:16x1";
    c.in_h = c.in_w = 8;
    c.max_batch = 32;
    c.n_classes = 3;
    c.act.fn = fn;
    if (params) {
        c.act.has_params = 1;
        memcpy(c.act.params, params, (size_t)fn->n_params * sizeof(float));
    }
    return act_net_new(&c, net, d);
}

static act_train_config small_cfg(int epochs)
{
    act_train_config c = act_train_config_default();
    c.epochs = epochs;
    c.batch = 30;
    c.val_size = 100;
    c.sched.lr = 0.02f;
    return c;
}

/* The first segment of an activation parameter named name ("...act.beta"). */
static const act_param_seg *act_seg(const act_net *net, const char *name)
{
    for (int i = 0; i < act_net_n_segments(net); i++) {
        const act_param_seg *s = act_net_segment(net, i);
        const char *dot = strrchr(s->name, '.');
        if ((s->flags & ACT_SEG_ACT) && dot && !strcmp(dot + 1, name))
            return s;
    }
    return NULL;
}

void test_nn_act_params_refused(void)
{
    struct { act_act_id id; int k; float v; } bad[] = {
        { ACT_ACT_SWISH, 0, NAN }, { ACT_ACT_ACON_C, 0, INFINITY }, { ACT_ACT_SMU1, 1, NAN },
        { ACT_ACT_SOFTPLUS, 0, 0.0f },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const act_fn *fn = act_act_fn(bad[i].id);
        float p[ACT_FN_MAX_PARAMS];
        memcpy(p, fn->defaults, sizeof p);
        p[bad[i].k] = bad[i].v;
        act_net *net = NULL;
        act_diag d;
        int rc = new_net(fn, p, &net, &d);
        CHECKF(rc == ACT_EINVAL && !net && strstr(d.msg, fn->name) &&
               strstr(d.msg, fn->param_names[bad[i].k]), "%s: rc %d, '%s'", fn->name, rc, d.msg);
        act_net_free(net);
        /* the defaults themselves are accepted */
        rc = new_net(fn, fn->defaults, &net, &d);
        CHECKF(rc == ACT_OK, "%s defaults: %s", fn->name, d.msg);
        act_net_free(net);
    }
}

/* A parameter that leaves the domain during training stops the run with a status that says so,
 * where the layer used to keep stale outputs and the run ended "ok" at chance accuracy. */
void test_nn_act_params_leave_domain(void)
{
    act_dataset tr, te;
    test_synth(&tr, 600, 1, 1);
    test_synth(&te, 300, 1, 2);
    const act_fn *fn = act_act_fn(ACT_ACT_SOFTPLUS);
    const float bad[] = { 0.0f, NAN, INFINITY };
    const int want[] = { ACT_ERANGE, ACT_EDIVERGED, ACT_EDIVERGED };
    for (int i = 0; i < 3; i++) {
        act_net *net = NULL;
        act_diag d;
        if (new_net(fn, NULL, &net, &d) != ACT_OK) {
            CHECKF(0, "%s", d.msg);
            break;
        }
        const act_param_seg *s = act_seg(net, "beta");
        CHECK(s != NULL);
        if (!s) {
            act_net_free(net);
            break;
        }
        /* what the optimiser could leave behind: one channel's beta out of the domain */
        act_net_params(net)[s->offset + s->size / 2] = bad[i];
        act_train_config c = small_cfg(2);
        int done = -1;
        int rc = act_train_run(net, &c, &tr, &te, NULL, &done, &d);
        CHECKF(rc == want[i] && done == 0 && strstr(d.msg, "beta") && strstr(d.msg, "epoch 1"),
               "beta=%g: rc %d (want %d), done %d, '%s'", (double)bad[i], rc, want[i], done,
               d.msg);
        if (i == 0)
            CHECKF(strstr(d.msg, "channel"), "%s", d.msg);
        /* the pass itself: a status, the failing layer, and no loss from stale outputs */
        float x[64] = { 0 };
        int y = 0;
        rc = act_net_forward(net, x, 1, 1, NULL);
        CHECK(rc != ACT_OK && act_net_failed_layer(net) >= 0);
        CHECK(act_net_loss(net, &y, 1, 0.0f, NULL, NULL) != ACT_OK);
        act_net_free(net);
    }
    act_data_free(&tr);
    act_data_free(&te);
}

// ----------------------------------------------------------------------------
// checkpoints

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* Writes b with its trailing CRC-32 recomputed, as a crafted file would have it. */
static void write_with_crc(const char *path, char *b, size_t n)
{
    uint32_t c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)b, (uInt)(n - 4));
    memcpy(b + n - 4, &c, 4);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

/* Header offsets of the format (src/nn/ckpt.c ckpt_header). */
enum { OFF_EPOCH = 56, OFF_OPT = 60, OFF_NHIST = 64, OFF_INFO = 68, HEADER = 72 };

void test_nn_ckpt_validates_fields(void)
{
    char dir[] = "/tmp/actlab-ckpt-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char good[256], bad[256];
    snprintf(good, sizeof good, "%s/good", dir);
    snprintf(bad, sizeof bad, "%s/bad", dir);
    act_dataset tr, te;
    test_synth(&tr, 600, 1, 1);
    test_synth(&te, 300, 1, 2);
    act_net *net = NULL;
    act_diag d;
    CHECK(new_net(act_act_fn(ACT_ACT_SWISH), NULL, &net, &d) == ACT_OK);
    act_train_config c = small_cfg(2);
    c.checkpoint = good;
    c.run_info = "who=test\n";
    CHECK(act_train_run(net, &c, &tr, &te, NULL, NULL, &d) == ACT_OK);
    size_t n = 0;
    char *orig = read_file(good, &n);
    CHECK(orig && n > HEADER + 8);
    act_ckpt_meta m;
    CHECKF(act_ckpt_read_meta(good, &m, &d) == ACT_OK, "%s", d.msg);
    CHECK(m.epoch == 2 && m.opt_kind == ACT_OPT_SGD && m.hist && m.hist[0].epoch == 1 &&
          m.hist[1].epoch == 2 && m.hist[1].test_acc > 0.5 && m.hist[1].wall_s > 0.0);
    CHECKF(m.info && strstr(m.info, "train.batch=30\n") && strstr(m.info, "who=test\n"), "%s",
           m.info ? m.info : "(null)");
    act_ckpt_meta_free(&m);
    CHECK(m.info == NULL && m.hist == NULL);

    struct { int off, size; int64_t v; const char *what; } cases[] = {
        { OFF_EPOCH, 4, -3, "epoch -3" },
        { OFF_EPOCH, 4, INT_MIN, "epoch -2147483648" },
        { OFF_EPOCH, 4, 3, "epoch 3 with 2" },
        { OFF_NHIST, 4, 7, "with 7 recorded" },
        { OFF_OPT, 4, 9, "optimiser 9" },
        { OFF_OPT, 4, -2, "optimiser -2" },
        { OFF_INFO, 4, 1000000, "run configuration of 1000000 bytes" },
        { OFF_INFO, 4, 3, "has" },            /* size no longer matches */
        { 16, 8, 0, "0 parameters" },          /* n_params */
        { 24, 8, (int64_t)1 << 40, "optimiser floats" },   /* n_opt */
    };
    for (size_t i = 0; orig && i < sizeof cases / sizeof cases[0]; i++) {
        char *b = malloc(n);
        memcpy(b, orig, n);
        if (cases[i].size == 4) {
            int32_t v = (int32_t)cases[i].v;
            memcpy(b + cases[i].off, &v, 4);
        } else {
            memcpy(b + cases[i].off, &cases[i].v, 8);
        }
        write_with_crc(bad, b, n);
        free(b);
        act_ckpt_meta mm;
        int rc = act_ckpt_read_meta(bad, &mm, &d);
        CHECKF(rc == ACT_EFORMAT && strstr(d.msg, bad) && strstr(d.msg, cases[i].what),
               "case %zu: rc %d, '%s' (want '%s')", i, rc, d.msg, cases[i].what);
        rc = act_ckpt_load(bad, net, NULL, NULL, &d);
        CHECKF(rc == ACT_EFORMAT, "case %zu load: rc %d", i, rc);
        int done = -1;
        act_train_config r = small_cfg(5);
        r.resume = bad;
        rc = act_train_run(net, &r, &tr, &te, NULL, &done, &d);
        CHECKF(rc == ACT_EFORMAT && done == 0, "case %zu resume: rc %d, done %d", i, rc, done);
    }
    /* a record whose epoch numbers are out of order; a NUL inside the configuration */
    if (orig) {
        char *b = malloc(n);
        int32_t info_len;
        memcpy(&info_len, orig + OFF_INFO, 4);
        size_t info_off = n - 4 - (size_t)info_len, rec_off = info_off - 2 * 11 * sizeof(double);
        memcpy(b, orig, n);
        double e = 7.0;
        memcpy(b + rec_off, &e, sizeof e);
        write_with_crc(bad, b, n);
        act_ckpt_meta mm;
        CHECKF(act_ckpt_read_meta(bad, &mm, &d) == ACT_EFORMAT && strstr(d.msg, "record 1"),
               "%s", d.msg);
        memcpy(b, orig, n);
        b[info_off + 3] = '\0';
        write_with_crc(bad, b, n);
        CHECKF(act_ckpt_read_meta(bad, &mm, &d) == ACT_EFORMAT && strstr(d.msg, "NUL"), "%s",
               d.msg);
        /* trailing bytes and truncation, CRC or not */
        FILE *f = fopen(bad, "wb");
        fwrite(orig, 1, n, f);
        fputc(0, f);
        fclose(f);
        CHECKF(act_ckpt_read_meta(bad, &mm, &d) == ACT_EFORMAT && strstr(d.msg, "trailing"),
               "%s", d.msg);
        f = fopen(bad, "wb");
        fwrite(orig, 1, n - 9, f);
        fclose(f);
        CHECKF(act_ckpt_read_meta(bad, &mm, &d) == ACT_EFORMAT && strstr(d.msg, "truncated"),
               "%s", d.msg);
        /* one flipped bit anywhere after the header is a checksum mismatch */
        memcpy(b, orig, n);
        b[HEADER + 5] ^= 0x10;
        f = fopen(bad, "wb");
        fwrite(b, 1, n, f);
        fclose(f);
        CHECKF(act_ckpt_read_meta(bad, &mm, &d) == ACT_EFORMAT && strstr(d.msg, "checksum"),
               "%s", d.msg);
        free(b);
    }
    free(orig);
    act_net_free(net);
    act_data_free(&tr);
    act_data_free(&te);
    remove(good);
    remove(bad);
    rmdir(dir);
}

/* A resume continues the stored run: another optimiser, batch, seed, learning rate or
 * activation is refused (it used to load silently), and the record carries every epoch. */
void test_nn_ckpt_resume_same_run(void)
{
    char dir[] = "/tmp/actlab-ckpt-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/ck", dir);
    act_dataset tr, te;
    test_synth(&tr, 600, 1, 1);
    test_synth(&te, 300, 1, 2);
    act_net *net = NULL;
    act_diag d;
    CHECK(new_net(act_act_fn(ACT_ACT_SWISH), NULL, &net, &d) == ACT_OK);
    act_train_config c = small_cfg(1);
    c.opt = act_optim_config_default(ACT_OPT_ADAM);
    c.sched.lr = 0.001f;
    c.checkpoint = path;
    CHECK(act_train_run(net, &c, &tr, &te, NULL, NULL, &d) == ACT_OK);
    act_train_config r = c;
    r.epochs = 2;
    r.checkpoint = NULL;
    r.resume = path;
    struct { const char *key; act_train_config cfg; } diff[6];
    for (int i = 0; i < 6; i++)
        diff[i].cfg = r;
    diff[0].key = "train.opt=adam";
    diff[0].cfg.opt = act_optim_config_default(ACT_OPT_SGD);
    diff[1].key = "train.batch=30";
    diff[1].cfg.batch = 20;
    diff[2].key = "train.seed=1";
    diff[2].cfg.seed = 2;
    diff[3].key = "train.lr=0.00100000005";
    diff[3].cfg.sched.lr = 0.002f;
    diff[4].key = "train.train_limit=0";
    diff[4].cfg.train_limit = 300;
    diff[5].key = "train.clip_norm=0";
    diff[5].cfg.opt.clip_norm = 1.0f;
    float *p0 = malloc(act_net_n_params(net) * sizeof *p0);
    memcpy(p0, act_net_params(net), act_net_n_params(net) * sizeof *p0);
    for (int i = 0; i < 6; i++) {
        int done = -1;
        int rc = act_train_run(net, &diff[i].cfg, &tr, &te, NULL, &done, &d);
        CHECKF(rc == ACT_EINVAL && done == 0 && strstr(d.msg, diff[i].key), "%d: rc %d, '%s'",
               i, rc, d.msg);
        /* net untouched */
        CHECK(!memcmp(p0, act_net_params(net), act_net_n_params(net) * sizeof *p0));
    }
    /* the optimiser's kind is in the file, not just its size (SGD and Adam states are the
     * same size here) */
    act_optim_config sgd = act_optim_config_default(ACT_OPT_SGD);
    act_optim *o = act_optim_new(&sgd, net);
    CHECK(act_ckpt_load(path, net, o, NULL, &d) == ACT_EFORMAT && strstr(d.msg, "adam"));
    act_optim_free(o);
    /* another activation with the same segments (one parameter named beta) */
    act_expr *e = NULL;
    act_expr_prog *prog = NULL;
    act_fn fn;
    act_net *other = NULL;
    if (act_expr_parse("x*sigmoid(beta*x)", &e, &d) == ACT_OK &&
        act_expr_compile(e, &prog) == ACT_OK && act_expr_fn(prog, &fn) == ACT_OK &&
        new_net(&fn, NULL, &other, &d) == ACT_OK) {
        CHECK(act_ckpt_load(path, other, NULL, NULL, &d) == ACT_EFORMAT);
    } else {
        CHECKF(0, "expression net: %s", d.msg);
    }
    act_net_free(other);
    act_expr_prog_free(prog);
    act_expr_free(e);
    /* the same run continues, and its record holds both epochs */
    r.checkpoint = path;
    int done = 0;
    CHECKF(act_train_run(net, &r, &tr, &te, NULL, &done, &d) == ACT_OK && done == 2, "%s",
           d.msg);
    act_ckpt_meta m;
    CHECK(act_ckpt_read_meta(path, &m, &d) == ACT_OK && m.epoch == 2 && m.hist[0].epoch == 1 &&
          m.hist[1].epoch == 2 && m.opt_kind == ACT_OPT_ADAM);
    act_ckpt_meta_free(&m);
    /* a run already complete is refused, not re-run */
    CHECK(act_train_run(net, &r, &tr, &te, NULL, &done, &d) == ACT_EINVAL);
    free(p0);
    act_net_free(net);
    act_data_free(&tr);
    act_data_free(&te);
    remove(path);
    rmdir(dir);
}
