/* test_orch_fidelity.c -- the fidelity table (orch/fidelity.h) and the training evaluator
 * (orch/train_eval.h): every row's name, lookup and listing; the real rows as `actlab train`
 * runs them (dev/proxy_validate.sh's arguments, the paper's 10K steps); a trial's run
 * configuration as act_run_config_read reads the same text. Real trials at the mlp row cut to a
 * few batches per epoch (orch_train_ctx.max_batches) on Fashion-MNIST: the result is
 * act_run_train's validation accuracy, bit for bit, the same seed gives the same bits, the data
 * is read once; outcomes for a bad expression, an unknown fidelity, a diverging candidate, the
 * time cap, missing data, the synthetic row; and through the worker loop: heartbeats, and a
 * trial stopped with ACT_EIO once the coordinator is gone. */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../orch/fidelity.h"
#include "../orch/train_eval.h"
#include "test.h"

#define SWISH "x*sigmoid(beta*x)"

static orch_msg task(const char *fidelity, const char *expr, uint64_t seed)
{
    orch_msg m = orch_msg_init(ORCH_MSG_TASK);
    m.trial = 1;
    m.seed = seed;
    snprintf(m.fidelity, sizeof m.fidelity, "%s", fidelity);
    snprintf(m.expr, sizeof m.expr, "%s", expr);
    m.test = 1;
    return m;
}

/* The result of task at fidelity f (NULL: the row task names) evaluated without a worker. */
static orch_msg eval(orch_train_ctx *c, const orch_fidelity *f, const orch_msg *t, int *status)
{
    orch_msg r = orch_msg_init(ORCH_MSG_RESULT);
    r.trial = t->trial;
    int rc = f ? orch_train_eval_at(NULL, f, t, &r, c) : orch_train_eval(NULL, t, &r, c);
    if (status)
        *status = rc;
    else
        CHECKF(rc == ACT_OK, "eval of '%s' at %s: %d (%s)", t->expr, f ? f->name : t->fidelity,
               rc, r.error);
    return r;
}

/* A context that runs 5 batches per epoch: a trial of the mlp row in well under a second. */
static orch_train_ctx quick_ctx(void)
{
    orch_train_ctx c;
    orch_train_ctx_init(&c);
    c.max_batches = 5;
    return c;
}

// ----------------------------------------------------------------------------
// the table

void test_orch_fidelity_table(void)
{
    int n = 0;
    char expect[256] = "";
    for (const orch_fidelity *f; (f = orch_fidelity_at(n)) != NULL; n++) {
        CHECKF(orch_fidelity_lookup(f->name) == f, "%s does not look itself up", f->name);
        int ok = f->name[0] != '\0';
        for (const char *p = f->name; *p; p++)
            ok &= islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' ||
                  *p == '-';
        CHECKF(ok, "name '%s' is not [a-z0-9_-]+", f->name);
        /* the name travels in a task message: it must fit and encode */
        orch_msg t = task(f->name, "x", 1);
        char buf[ORCH_MSG_MAX];
        size_t len;
        CHECKF(strlen(f->name) < sizeof t.fidelity && orch_msg_encode(&t, buf, sizeof buf, &len)
               == ACT_OK, "%s does not go into a task", f->name);
        CHECKF(f->help && f->help[0] && !strchr(f->help, '\n'), "%s: help", f->name);
        for (int k = 0; k < n; k++)
            CHECKF(strcmp(orch_fidelity_at(k)->name, f->name) != 0, "%s twice", f->name);
        snprintf(expect + strlen(expect), sizeof expect - strlen(expect), "%s%s",
                 n ? ", " : "", f->name);
        if (f->synthetic) {
            CHECKF(!f->model, "%s: synthetic with a model", f->name);
            continue;
        }
        /* real rows: actlab train's validation split, out of the training set */
        CHECKF(f->model && f->epochs >= 1 && f->val_size == act_train_config_default().val_size
               && f->time_cap_s >= 0 && f->lr >= 0, "%s: row values", f->name);
    }
    CHECKF(n == 6, "%d rows", n);
    for (int i = 0; i < n; i++) {   /* finalize's default: a row, real above real */
        const orch_fidelity *f = orch_fidelity_at(i), *up = orch_fidelity_lookup(f->higher);
        CHECKF(up && up->synthetic == f->synthetic, "%s: higher '%s'", f->name, f->higher);
    }
    CHECK(!strcmp(orch_fidelity_lookup("proxy")->higher, "resnet1"));
    CHECKF(!strcmp(orch_fidelity_names(), expect), "names '%s', rows '%s'",
           orch_fidelity_names(), expect);
    CHECK(orch_fidelity_at(-1) == NULL && orch_fidelity_at(n) == NULL);
    CHECK(orch_fidelity_lookup("nope") == NULL && orch_fidelity_lookup("") == NULL &&
          orch_fidelity_lookup(NULL) == NULL && orch_fidelity_lookup("MLP") == NULL);
    const orch_fidelity *s = orch_fidelity_lookup("synthetic");
    CHECK(s && s->synthetic && strstr(s->help, "no training"));

    /* dev/proxy_validate.sh's FIDELITIES, with --per-channel on --test-limit 5000 */
    static const struct { const char *name, *model; size_t train_limit; int epochs; } dev[] = {
        { "mlp", "mlp:256x2", 12000, 2 },      /* mlp12k2 */
        { "cnn", "cnn", 6000, 1 },             /* cnn6k1 */
        { "proxy", "resnet:1", 6000, 1 },      /* resnet1_6k1 */
        { "resnet1", "resnet:1", 30000, 3 },   /* ref_resnet1_30k3 */
    };
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) {
        const orch_fidelity *f = orch_fidelity_lookup(dev[i].name);
        CHECKF(f && !f->synthetic && !strcmp(f->model, dev[i].model) &&
               f->train_limit == dev[i].train_limit && f->epochs == dev[i].epochs &&
               f->test_limit == 5000 && f->lr == 0.0f && f->time_cap_s > 0,
               "%s is not proxy_validate.sh's row", dev[i].name);
    }
    CHECK(orch_fidelity_lookup("mlp")->time_cap_s == 120.0 &&
          orch_fidelity_lookup("proxy")->time_cap_s == 300.0 &&
          orch_fidelity_lookup("resnet1")->time_cap_s == 1800.0);

    /* paper: ResNet-20, every training image, the fewest whole epochs reaching 10K steps */
    const orch_fidelity *p = orch_fidelity_lookup("paper");
    act_train_config d = act_train_config_default();
    size_t steps = (60000 - d.val_size + d.batch - 1) / d.batch;   /* per epoch */
    CHECKF(p && !strcmp(p->model, "resnet:3") && p->train_limit == 0 && p->test_limit == 0 &&
           p->time_cap_s == 0 && p->lr == 0.0f && (size_t)p->epochs * steps >= 10000 &&
           (size_t)(p->epochs - 1) * steps < 10000 && strstr(p->help, "scale-out"),
           "paper: %d epochs of %zu steps", p ? p->epochs : 0, steps);
}

void test_orch_fidelity_run_config(void)
{
    char act[64], *want = NULL, *got = NULL, *strings = NULL;
    act_diag d;
    for (int i = 0; orch_fidelity_at(i); i++) {
        const orch_fidelity *f = orch_fidelity_at(i);
        act_run_config c;
        if (f->synthetic) {
            CHECK(orch_fidelity_run_config(f, SWISH, 3, 1, act, sizeof act, &c) == ACT_EINVAL);
            continue;
        }
        CHECK(orch_fidelity_run_config(f, SWISH, 3, 2, act, sizeof act, &c) == ACT_OK);
        CHECKF(!strcmp(c.act, "expr:" SWISH) && c.act == act && c.per_channel == 1 &&
               c.train.seed == 3 && c.threads == 2 && !strcmp(c.data, "fashion-mnist") &&
               !strcmp(c.model, f->model) && c.train.train_limit == f->train_limit &&
               c.train.val_size == f->val_size && c.train.test_limit == f->test_limit &&
               c.train.epochs == f->epochs && c.train.max_batches == 0 && !c.train.on_batch,
               "%s: the run configuration", f->name);
        /* `actlab train --model M --train-limit N --epochs E --test-limit T --per-channel on
         * --act expr:X --seed 3 --threads 2` as the text act_run_config_read takes */
        char text[512];
        int k = snprintf(text, sizeof text, "model=%s\nact=expr:" SWISH "\nper_channel=1\n"
                         "threads=2\ntrain.epochs=%d\ntrain.seed=3\n", f->model, f->epochs);
        if (f->train_limit)
            k += snprintf(text + k, sizeof text - (size_t)k, "train.train_limit=%zu\n",
                          f->train_limit);
        if (f->test_limit)
            snprintf(text + k, sizeof text - (size_t)k, "train.test_limit=%zu\n", f->test_limit);
        act_run_config r;
        CHECKF(act_run_config_read(text, &r, &strings, &d) == ACT_OK, "%s", d.msg);
        CHECK(act_run_config_write(&r, &want) == ACT_OK && act_run_config_write(&c, &got) ==
              ACT_OK);
        CHECKF(want && got && !strcmp(want, got), "%s:\n%s\nvs\n%s", f->name, got, want);
        free(want);
        free(got);
        free(strings);
        want = got = strings = NULL;
    }
    act_run_config c;
    const orch_fidelity *m = orch_fidelity_lookup("mlp");
    CHECK(orch_fidelity_run_config(m, SWISH, 1, 0, act, sizeof act, &c) == ACT_EINVAL);
    CHECK(orch_fidelity_run_config(m, NULL, 1, 1, act, sizeof act, &c) == ACT_EINVAL);
    CHECK(orch_fidelity_run_config(NULL, SWISH, 1, 1, act, sizeof act, &c) == ACT_EINVAL);
    CHECK(orch_fidelity_run_config(m, SWISH, 1, 1, act, 5 + strlen(SWISH), &c) == ACT_ELIMIT);
    CHECK(orch_fidelity_run_config(m, SWISH, 1, 1, act, 6 + strlen(SWISH), &c) == ACT_OK);
}

// ----------------------------------------------------------------------------
// trials

/* The OK result is act_run_train's run of the same configuration, bit for bit: the validation
 * accuracy is the reward, the test accuracy reported beside it. */
void test_orch_fidelity_train(void)
{
    orch_train_ctx c = quick_ctx();
    orch_msg t = task("mlp", SWISH, 1);
    orch_msg r = eval(&c, NULL, &t, NULL);
    CHECKF(r.outcome == ORCH_OUTCOME_OK && !r.error[0], "%s: %s",
           orch_outcome_name(r.outcome), r.error);
    CHECKF(isfinite(r.val_acc) && r.val_acc >= 0 && r.val_acc <= 1 && isfinite(r.test_acc) &&
           isfinite(r.train_loss) && r.epochs == 2 && r.wall_s > 0,
           "val %g test %g loss %g epochs %d wall %g", r.val_acc, r.test_acc, r.train_loss,
           r.epochs, r.wall_s);
    CHECKF(r.val_acc > 0.3, "5 batches x 2 epochs of swish: validation accuracy %.4f", r.val_acc);
    CHECK(c.loads == 1 && c.loaded && c.train.n == 60000 && c.test.n == 10000);
    if (!c.loaded) {
        fprintf(stderr, "  Fashion-MNIST missing (install dataset-fashion-mnist): %s\n", r.error);
        orch_train_ctx_free(&c);
        return;
    }

    /* the same run through the library */
    char act[64];
    act_run_config rc;
    CHECK(orch_fidelity_run_config(orch_fidelity_lookup("mlp"), SWISH, 1, 1, act, sizeof act,
                                   &rc) == ACT_OK);
    rc.train.max_batches = 5;
    act_run_result ref;
    act_diag d;
    CHECKF(act_run_train(&rc, &c.train, &c.test, &ref, &d) == ACT_OK, "%s", d.msg);
    CHECKF(!memcmp(&r.val_acc, &ref.last.val_acc, sizeof r.val_acc) &&
           !memcmp(&r.test_acc, &ref.last.test_acc, sizeof r.test_acc) &&
           r.train_loss == ref.last.train_loss,
           "val %.9g test %.9g loss %.9g; act_run_train: val %.9g test %.9g loss %.9g",
           r.val_acc, r.test_acc, r.train_loss, ref.last.val_acc, ref.last.test_acc,
           ref.last.train_loss);
    CHECK(r.val_acc != ref.last.train_acc);

    /* the same seed: the same bits, from the data already read; another seed: other bits */
    orch_msg again = eval(&c, NULL, &t, NULL);
    CHECK(again.outcome == ORCH_OUTCOME_OK && !memcmp(&again.val_acc, &r.val_acc,
                                                      sizeof r.val_acc));
    t.seed = 2;
    orch_msg other = eval(&c, NULL, &t, NULL);
    CHECK(other.outcome == ORCH_OUTCOME_OK && other.val_acc != r.val_acc);
    CHECKF(c.loads == 1, "the data was read %d times for three trials", c.loads);

    /* a search's trial (test 0) skips the test set; its validation accuracy is the same */
    t.seed = 1;
    t.test = 0;
    orch_msg vo = eval(&c, NULL, &t, NULL);
    CHECKF(vo.outcome == ORCH_OUTCOME_OK && isnan(vo.test_acc) &&
           !memcmp(&vo.val_acc, &r.val_acc, sizeof r.val_acc),
           "without the test set: val %.9g (with: %.9g), test %g", vo.val_acc, r.val_acc,
           vo.test_acc);
    orch_train_ctx_free(&c);
    CHECK(!c.loaded && c.train.x == NULL);
}

void test_orch_fidelity_outcomes(void)
{
    orch_train_ctx c = quick_ctx();
    /* errors of the worker: the expression, the fidelity (no data needed for either) */
    orch_msg t = task("mlp", "x*sigmoid(", 1);
    orch_msg r = eval(&c, NULL, &t, NULL);
    CHECKF(r.outcome == ORCH_OUTCOME_ERROR && strstr(r.error, "expression"), "%s: '%s'",
           orch_outcome_name(r.outcome), r.error);
    t = task("mlp", "nosuchfn(x)", 1);
    r = eval(&c, NULL, &t, NULL);
    CHECKF(r.outcome == ORCH_OUTCOME_ERROR && strstr(r.error, "expression"), "%s: '%s'",
           orch_outcome_name(r.outcome), r.error);
    t = task("nope", SWISH, 1);
    r = eval(&c, NULL, &t, NULL);
    CHECKF(r.outcome == ORCH_OUTCOME_ERROR && strstr(r.error, "nope") &&
           strstr(r.error, orch_fidelity_names()), "%s: '%s'", orch_outcome_name(r.outcome),
           r.error);
    CHECK(c.loads == 0);

    /* the synthetic row is orch_synthetic_eval, bit for bit */
    t = task("synthetic", SWISH, 4);
    r = eval(&c, NULL, &t, NULL);
    orch_msg s = orch_msg_init(ORCH_MSG_RESULT);
    CHECK(orch_synthetic_eval(NULL, &t, &s, NULL) == ACT_OK);
    CHECK(r.outcome == ORCH_OUTCOME_OK && s.outcome == ORCH_OUTCOME_OK &&
          !memcmp(&r.val_acc, &s.val_acc, sizeof r.val_acc) &&
          !memcmp(&r.test_acc, &s.test_acc, sizeof r.test_acc));
    t = task("synthetic", "sqrt(x)", 4);
    r = eval(&c, NULL, &t, NULL);
    CHECK(r.outcome == ORCH_OUTCOME_FAILED && c.loads == 0);

    /* failures of the candidate: it diverges; it runs past the time cap */
    t = task("mlp", "exp(exp(x))", 1);
    r = eval(&c, NULL, &t, NULL);
    CHECKF(r.outcome == ORCH_OUTCOME_FAILED && strstr(r.error, "diverged") && isnan(r.val_acc),
           "exp(exp(x)): %s '%s' %g", orch_outcome_name(r.outcome), r.error, r.val_acc);
    orch_fidelity capped = *orch_fidelity_lookup("mlp");
    capped.time_cap_s = 1e-6;   /* past it at the first batch */
    t = task("mlp", SWISH, 1);
    r = eval(&c, &capped, &t, NULL);
    CHECKF(r.outcome == ORCH_OUTCOME_FAILED && !strcmp(r.error, "time cap of 1e-06 s exceeded")
           && isnan(r.val_acc) && r.epochs == 0, "capped: %s '%s' %d epochs",
           orch_outcome_name(r.outcome), r.error, r.epochs);
    orch_fidelity hot = *orch_fidelity_lookup("mlp");
    hot.lr = 1e4f;   /* swish at this step size: the loss leaves the floats within 5 batches */
    r = eval(&c, &hot, &t, NULL);
    CHECKF(r.outcome == ORCH_OUTCOME_FAILED && strstr(r.error, "diverged"), "lr 1e4: %s '%s'",
           orch_outcome_name(r.outcome), r.error);
    CHECK(c.loads == 1);
    orch_train_ctx_free(&c);

    /* data that is not there: the worker cannot go on (after an ERROR for a bad expression,
     * which needs no data) */
    orch_train_ctx m = quick_ctx();
    m.data_dir = "/nonexistent/actlab-test";
    t = task("mlp", "x*sigmoid(", 1);
    r = eval(&m, NULL, &t, NULL);
    CHECK(r.outcome == ORCH_OUTCOME_ERROR && m.loads == 0);
    t = task("mlp", SWISH, 1);
    int st = ACT_OK;
    r = eval(&m, NULL, &t, &st);
    CHECKF(st != ACT_OK && r.outcome == ORCH_OUTCOME_ERROR && strstr(r.error, "data") &&
           m.loads == 1 && !m.loaded, "missing data: %d '%s'", st, r.error);
    orch_train_ctx_free(&m);
}

// ----------------------------------------------------------------------------
// in the worker loop

/* The evaluator of a forked worker whose coordinator is gone: exits at once with what
 * orch_train_eval returned (10: ACT_EIO, the trial stopped at its failed heartbeat; 11: it
 * trained to the end regardless, and only the result's write would have failed). */
static int eval_and_exit(orch_worker *w, const orch_msg *task, orch_msg *result, void *ctx)
{
    int rc = orch_train_eval(w, task, result, ctx);
    _exit(rc == ACT_EIO ? 10 : 11);
}

void test_orch_fidelity_worker(void)
{
    signal(SIGPIPE, SIG_IGN);
    orch_train_ctx c = quick_ctx();
    int down[2], up[2];
    if (pipe(down) || pipe(up)) {
        CHECK(!"pipe");
        return;
    }
    /* A forked worker gets two tasks at once (the second comes while the first trains, and
     * waits for it), and stop once both results are in; it loads the data once. */
    orch_msg t1 = task("mlp", SWISH, 1), t2 = task("mlp", "max(x, 0)", 1);
    t2.trial = 2;
    orch_msg stop = orch_msg_init(ORCH_MSG_STOP);
    pid_t pid = fork();
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        orch_worker_config cfg = { down[0], up[1], 0.0, orch_train_eval, &c, NULL };
        int rc = orch_worker_run(&cfg, NULL);
        _exit(rc == ACT_OK && c.loads == 1 ? 0 : 1);
    }
    close(down[0]);
    close(up[1]);
    CHECK(pid > 0 && orch_msg_write(down[1], &t1) == ACT_OK &&
          orch_msg_write(down[1], &t2) == ACT_OK);
    orch_msg m;
    CHECK(orch_msg_read(up[0], &m, NULL) == ACT_OK && m.kind == ORCH_MSG_HELLO);
    int beats[3] = { 0, 0, 0 }, results = 0;
    while (orch_msg_read(up[0], &m, NULL) == ACT_OK) {
        if (m.kind == ORCH_MSG_HEARTBEAT && m.trial >= 1 && m.trial <= 2) {
            beats[m.trial]++;
            CHECK(m.epoch >= 1 && m.epoch <= 2 && isfinite(m.loss));
        } else if (m.kind == ORCH_MSG_RESULT && m.trial == results + 1) {
            results++;
            CHECKF(m.outcome == ORCH_OUTCOME_OK && m.val_acc > 0.3 && m.epochs == 2,
                   "trial %lld: %s '%s' %g", (long long)m.trial, orch_outcome_name(m.outcome),
                   m.error, m.val_acc);
            CHECKF(beats[m.trial] >= 1, "trial %lld: no heartbeat", (long long)m.trial);
            if (results == 2)
                CHECK(orch_msg_write(down[1], &stop) == ACT_OK);
        } else {
            CHECKF(0, "unexpected %s for trial %lld", orch_msg_name(m.kind), (long long)m.trial);
        }
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECKF(results == 2 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "results %d, worker status %#x (1: the loop failed or loaded the data twice)",
           results, status);
    close(up[0]);
    close(down[1]);

    /* In this process: a stop that comes while a trial trains (the search ended early) ends
     * the trial at its next heartbeat, without a result, and the loop with ACT_OK. */
    if (pipe(down) || pipe(up)) {
        CHECK(!"pipe");
        orch_train_ctx_free(&c);
        return;
    }
    CHECK(orch_msg_write(down[1], &t1) == ACT_OK && orch_msg_write(down[1], &stop) == ACT_OK);
    orch_worker_config cfg = { down[0], up[1], 0.0, orch_train_eval, &c, NULL };
    act_diag d;
    int rc = orch_worker_run(&cfg, &d);
    CHECKF(rc == ACT_OK, "worker loop: %d %s", rc, d.msg);
    close(up[1]);
    CHECK(orch_msg_read(up[0], &m, NULL) == ACT_OK && m.kind == ORCH_MSG_HELLO);
    int n_beats = 0;
    while (orch_msg_read(up[0], &m, NULL) == ACT_OK) {
        CHECKF(m.kind != ORCH_MSG_RESULT, "a result for the trial stopped mid-way");
        n_beats += m.kind == ORCH_MSG_HEARTBEAT;
    }
    CHECKF(n_beats == 0, "%d heartbeats: the stop is read before the first", n_beats);
    close(up[0]);
    close(down[0]);
    close(down[1]);

    /* A forked worker whose coordinator is gone: the first heartbeat fails (EPIPE) and the
     * trial stops with ACT_EIO. The child has the data already. */
    if (pipe(down) || pipe(up)) {
        CHECK(!"pipe");
        orch_train_ctx_free(&c);
        return;
    }
    pid = fork();
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        orch_worker_config wc = { down[0], up[1], 30.0, eval_and_exit, &c, NULL };
        ACT_IGNORE(orch_worker_run(&wc, NULL));   /* the evaluator exits */
        _exit(12);
    }
    close(down[0]);
    close(up[1]);
    CHECK(pid > 0 && orch_msg_read(up[0], &m, NULL) == ACT_OK && m.kind == ORCH_MSG_HELLO);
    close(up[0]);   /* the coordinator stops listening */
    CHECK(orch_msg_write(down[1], &t1) == ACT_OK);
    status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 10, "worker status %#x", status);
    close(down[1]);
    orch_train_ctx_free(&c);
}

// ----------------------------------------------------------------------------
// rungs (ASHA)

static int count_files(const char *dir, char *one, size_t cap)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') {
            n++;
            if (one)
                snprintf(one, cap, "%s/%s", dir, e->d_name);
        }
    if (d)
        closedir(d);
    return n;
}

/* A rung is the full run stopped early; promoting it continues the checkpoint, and the
 * continuation gives the numbers of the full run from scratch, bit for bit. */
void test_orch_fidelity_rungs(void)
{
    int k = 0;
    CHECK(orch_fidelity_rung("mlp-e1", &k) == orch_fidelity_lookup("mlp") && k == 1);
    CHECK(orch_fidelity_rung("mlp", &k) == orch_fidelity_lookup("mlp") && k == 2);
    CHECK(orch_fidelity_rung("synthetic-e3", &k) && k == 3);
    CHECK(!orch_fidelity_rung("mlp-e2", NULL) && !orch_fidelity_rung("mlp-e0", NULL) &&
          !orch_fidelity_rung("mlp-x1", NULL) && !orch_fidelity_rung("proxy-e1", NULL) &&
          !orch_fidelity_rung("mlp-e1x", NULL) && !orch_fidelity_rung("nope-e1", NULL));
    char name[32];
    CHECK(orch_fidelity_rung_name(orch_fidelity_lookup("mlp"), 1, name, sizeof name) ==
          ACT_OK && !strcmp(name, "mlp-e1"));
    CHECK(orch_fidelity_rung_name(orch_fidelity_lookup("mlp"), 2, name, sizeof name) ==
          ACT_OK && !strcmp(name, "mlp"));
    CHECK(orch_fidelity_rung_name(orch_fidelity_lookup("mlp"), 3, name, sizeof name) ==
          ACT_EINVAL);

    orch_train_ctx c = quick_ctx();
    orch_msg full = task("mlp", SWISH, 3), rung = task("mlp-e1", SWISH, 3);
    orch_msg a = eval(&c, NULL, &full, NULL);    /* from scratch, no checkpoints */
    orch_msg b = eval(&c, NULL, &rung, NULL);
    if (!c.loaded) {
        orch_train_ctx_free(&c);
        return;   /* no data: test_orch_fidelity_train said so */
    }
    CHECKF(a.outcome == ORCH_OUTCOME_OK && b.outcome == ORCH_OUTCOME_OK && a.epochs == 2 &&
           b.epochs == 1, "%s %s, epochs %d %d", a.error, b.error, a.epochs, b.epochs);
    char dir[] = "/tmp/actlab-rungs-XXXXXX", file[4200];
    CHECK(mkdtemp(dir) != NULL);
    c.ckpt_dir = dir;
    orch_msg b2 = eval(&c, NULL, &rung, NULL);
    CHECKF(!memcmp(&b2.val_acc, &b.val_acc, sizeof b.val_acc) && b2.epochs == 1,
           "rung 1 with a checkpoint: %.9g vs %.9g", b2.val_acc, b.val_acc);
    CHECKF(count_files(dir, file, sizeof file) == 1, "%d checkpoints after rung 1",
           count_files(dir, NULL, 0));
    orch_msg a2 = eval(&c, NULL, &full, NULL);    /* the promotion */
    CHECKF(c.resumed == 1, "the promotion trained from epoch %d, not from rung 1's checkpoint",
           c.resumed);
    CHECKF(!memcmp(&a2.val_acc, &a.val_acc, sizeof a.val_acc) &&
           !memcmp(&a2.test_acc, &a.test_acc, sizeof a.test_acc) && a2.epochs == 2,
           "continued %.9g / %.9g vs from scratch %.9g / %.9g", a2.val_acc, a2.test_acc,
           a.val_acc, a.test_acc);
    CHECKF(count_files(dir, NULL, 0) == 0, "the top rung must remove the checkpoint");

    /* a damaged checkpoint: the rung trains from scratch, the same numbers */
    b2 = eval(&c, NULL, &rung, NULL);
    CHECK(count_files(dir, file, sizeof file) == 1);
    FILE *f = fopen(file, "r+b");
    CHECK(f && fseek(f, 200, SEEK_SET) == 0 && fputs("damage", f) >= 0);
    if (f)
        fclose(f);
    a2 = eval(&c, NULL, &full, NULL);
    CHECKF(a2.outcome == ORCH_OUTCOME_OK && !memcmp(&a2.val_acc, &a.val_acc, sizeof a.val_acc),
           "after a damaged checkpoint: %s %.9g vs %.9g", a2.error, a2.val_acc, a.val_acc);
    CHECK(count_files(dir, NULL, 0) == 0);
    CHECK(rmdir(dir) == 0);
    orch_train_ctx_free(&c);
}
