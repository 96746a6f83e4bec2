/* test_nn_run.c -- a training run as a library call (include/actlab/run.h): the configuration's
 * canonical text (round trip, hash, errors), the activation resolved from text with checked
 * parameters, act_run_train (trains, stops at a callback's request, resumes the same run only),
 * the kernels' thread count restored, and the input-channel and model-spec limits as errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actlab/run.h"
#include "nn/nn_impl.h"
#include "synth.h"
#include "test.h"


static act_run_config small(void)
{
    act_run_config c = act_run_config_default();
    c.data = "synthetic";
    c.model = "mlp:16x1";
    c.train.epochs = 2;
    c.train.batch = 30;
    c.train.val_size = 100;
    return c;
}

void test_nn_run_config_text(void)
{
    act_run_config c = small();
    c.act = "expr:max(x, sigmoid(beta*x))";
    c.n_params = 1;
    c.param_names[0] = "beta";
    c.param_values[0] = 1.25f;
    c.train.opt = act_optim_config_default(ACT_OPT_ADAMW);
    c.train.sched.lr = 0.0031f;
    c.train.opt.clip_norm = 0.7f;
    c.train.seed = 12345678901ULL;
    char *t = NULL, *t2 = NULL, *strings = NULL;
    act_diag d;
    CHECK(act_run_config_write(&c, &t) == ACT_OK);
    act_run_config r;
    CHECKF(t && act_run_config_read(t, &r, &strings, &d) == ACT_OK, "%s", d.msg);
    CHECK(t && act_run_config_write(&r, &t2) == ACT_OK && !strcmp(t, t2));
    CHECK(r.train.seed == 12345678901ULL && r.train.opt.kind == ACT_OPT_ADAMW &&
          r.train.sched.lr == 0.0031f && r.n_params == 1 && !strcmp(r.param_names[0], "beta"));
    uint64_t h1, h2, h3;
    CHECK(act_run_config_hash(&c, &h1) == ACT_OK);
    c.threads = 2;   /* threads do not change results: same experiment */
    CHECK(act_run_config_hash(&c, &h2) == ACT_OK && h1 == h2);
    c.train.seed++;
    CHECK(act_run_config_hash(&c, &h3) == ACT_OK && h3 != h1);
    /* lr 0 is written as the lr the run uses */
    act_run_config z = small();
    char *tz = NULL;
    CHECK(act_run_config_write(&z, &tz) == ACT_OK && tz && strstr(tz, "train.lr=0.0199999996\n"));
    free(tz);
    /* errors name the line */
    const char *bad[] = { "model=cnn\nfoo=1\n", "train.batch=0\n", "train.batch=12x\n",
                          "model=a\nmodel=b\n", "train.opt=rmsprop\n", "init=xavier\n",
                          "noequals\n", "param.beta=abc\n" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *st = NULL;
        int rc = act_run_config_read(bad[i], &r, &st, &d);
        CHECKF(rc == ACT_EFORMAT && !st && strstr(d.msg, "line"), "'%s': rc %d, '%s'", bad[i],
               rc, d.msg);
    }
    /* a value that cannot be written */
    c.model = "mlp:8x1\ntrain.batch=1";
    char *tb = NULL;
    CHECK(act_run_config_write(&c, &tb) == ACT_EINVAL && !tb);
    free(t);
    free(t2);
    free(strings);
}

void test_nn_run_act_resolve(void)
{
    act_run_config c = small();
    act_run_act *a = NULL;
    act_diag d;
    struct { const char *act; const char *p; float v; int rc; const char *msg; } cases[] = {
        { "expr:x*sigmoid(beta*x)", "beta", 2.0f, ACT_OK, "" },
        { "swish", "beta", 0.5f, ACT_OK, "" },
        { "swish", "gamma", 0.5f, ACT_ENOTFOUND, "no parameter 'gamma'" },
        { "softplus", "beta", 0.0f, ACT_EINVAL, "beta=0" },
        { "expr:x*sigmoid(beta*x)", "beta", NAN, ACT_EINVAL, "beta=nan" },
        { "meta_acon", "beta", 1.0f, ACT_EINVAL, "takes no parameter" },
        { "no_such_act", NULL, 0.0f, ACT_ENOTFOUND, "unknown activation" },
        { "expr:x*", NULL, 0.0f, ACT_EPARSE, "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        c.act = cases[i].act;
        c.n_params = cases[i].p ? 1 : 0;
        c.param_names[0] = cases[i].p;
        c.param_values[0] = cases[i].v;
        int rc = act_run_act_new(&c, &a, &d);
        CHECKF(rc == cases[i].rc && strstr(d.msg, cases[i].msg) && (rc == ACT_OK) == !!a,
               "%s: rc %d, '%s'", cases[i].act, rc, d.msg);
        if (rc == ACT_OK && cases[i].p) {
            const act_nn_act *n = act_run_act_get(a);
            CHECK(n->has_params && n->params[0] == cases[i].v);
        }
        act_run_act_free(a);
        a = NULL;
    }
}

typedef struct stop_at { int after, seen; } stop_at;

static int stop_batch(void *user, const act_train_progress *p)
{
    stop_at *s = user;
    (void)p;
    return ++s->seen >= s->after;
}

void test_nn_run_train(void)
{
    act_dataset tr, te;
    test_synth(&tr, 600, 1, 1);
    test_synth(&te, 300, 1, 2);
    char dir[] = "/tmp/actlab-run-XXXXXX", path[64];
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    snprintf(path, sizeof path, "%s/ck", dir);
    act_diag d;
    act_run_result r, straight;
    act_run_config c = small();
    c.act = "expr:x*sigmoid(beta*x)";
    CHECK(act_threads_set(2) == ACT_OK);
    int rc = act_run_train(&c, &tr, &te, &straight, &d);
    CHECKF(rc == ACT_OK && straight.status == ACT_OK && straight.epochs == 2 &&
           straight.last.epoch == 2 && straight.last.test_acc > 0.9 && straight.n_params > 0,
           "rc %d, %s, test acc %g", rc, d.msg, straight.last.test_acc);
    CHECK(act_threads_get() == 2);   /* the caller's kernel thread count, restored */
    CHECK(act_threads_set(1) == ACT_OK);

    /* a callback stops the run cleanly; the checkpoint of epoch 1 resumes to the same end */
    stop_at s = { 17 + 3, 0 };   /* 17 batches an epoch: stop in epoch 2 */
    c.train.checkpoint = path;
    c.train.on_batch = stop_batch;
    c.train.user = &s;
    rc = act_run_train(&c, &tr, &te, &r, &d);
    CHECKF(rc == ACT_ECANCELED && r.epochs == 1 && strstr(d.msg, "epoch 2, batch 3"),
           "rc %d, epochs %d, %s", rc, r.epochs, d.msg);
    c.train.on_batch = NULL;
    c.train.checkpoint = NULL;
    c.train.resume = path;
    rc = act_run_train(&c, &tr, &te, &r, &d);
    CHECKF(rc == ACT_OK && r.resumed == 1 && r.epochs == 2 &&
           r.last.test_loss == straight.last.test_loss &&
           r.last.train_loss == straight.last.train_loss, "rc %d, %s: loss %.9g vs %.9g", rc,
           d.msg, r.last.train_loss, straight.last.train_loss);
    /* another activation, model or seed is another run: refused, naming the key */
    const char *what[] = { "act=", "model=", "train.seed=" };
    for (int i = 0; i < 3; i++) {
        act_run_config o = c;
        if (i == 0)
            o.act = "swish";
        else if (i == 1)
            o.model = "mlp:17x1";
        else
            o.train.seed = 9;
        rc = act_run_train(&o, &tr, &te, &r, &d);
        CHECKF(rc == ACT_EINVAL && strstr(d.msg, what[i]), "%s: rc %d, %s", what[i], rc, d.msg);
    }
    /* more input channels than the normalisation handles: a documented error */
    act_dataset wide;
    test_synth(&wide, 200, ACT_TRAIN_MAX_CHANNELS + 1, 3);
    act_run_config w = small();
    rc = act_run_train(&w, &wide, NULL, &r, &d);
    CHECKF(rc == ACT_ELIMIT && strstr(d.msg, "channels"), "rc %d, %s", rc, d.msg);
    act_data_free(&wide);
    /* a model spec longer than the net keeps: an error, not a truncated spec */
    char spec[ACT_NET_MAX_SPEC + 16] = "mlp:16x1";
    while (strlen(spec) < ACT_NET_MAX_SPEC)
        strcat(spec, ",bn");
    w.model = spec;
    rc = act_run_train(&w, &tr, NULL, &r, &d);
    CHECKF(rc == ACT_ELIMIT && strstr(d.msg, "model spec"), "rc %d, %s", rc, d.msg);
    remove(path);
    rmdir(dir);
    act_data_free(&tr);
    act_data_free(&te);
}
