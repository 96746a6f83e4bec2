/* train_eval.c -- the training evaluator of a search worker (train_eval.h): the fidelity's run
 * configuration, the data read once per worker, act_run_train with the heartbeats and the time
 * cap in its callbacks, and the mapping of the run's status to an outcome. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actlab/run.h"
#include "train_eval.h"

/* At most one heartbeat a second: enough for a coordinator's silence limit of tens of seconds,
 * and a batch of the cheapest row takes a few milliseconds, so most batches send nothing. */
#define BEAT_S 1.0

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void orch_train_ctx_init(orch_train_ctx *c)
{
    memset(c, 0, sizeof *c);
    c->threads = 1;
}

void orch_train_ctx_free(orch_train_ctx *c)
{
    if (!c)
        return;
    if (c->loaded) {
        act_data_free(&c->train);
        act_data_free(&c->test);
    }
    c->loaded = 0;
}

static void outcome(orch_msg *r, orch_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void outcome(orch_msg *r, orch_outcome o, const char *fmt, ...)
{
    r->outcome = o;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    for (char *p = r->error; *p; p++)   /* the protocol refuses a newline in a field */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

// ----------------------------------------------------------------------------
// the callbacks of one training run

typedef struct trial {
    orch_worker *w;          /* NULL: no heartbeats */
    double       t0, last_beat;
    double       cap_s;      /* the fidelity's time cap, 0: none */
    int          epochs;
    int          stop;       /* the rung's last epoch (< epochs: stop there, ASHA) */
    int          stopped;    /* stopped at the rung */
    int          capped;     /* stopped by the time cap */
    int          lost;       /* a heartbeat could not be sent: the coordinator is gone */
} trial;

static int over_cap(trial *t)
{
    if (t->cap_s > 0 && now_s() - t->t0 > t->cap_s)
        t->capped = 1;
    return t->capped;
}

static int beat(trial *t, int epoch, double loss)
{
    double now = now_s();
    if (!t->w || now - t->last_beat < BEAT_S)
        return 0;
    t->last_beat = now;
    if (orch_worker_heartbeat(t->w, epoch, loss) != ACT_OK)
        t->lost = 1;
    return t->lost;
}

static int on_batch(void *user, const act_train_progress *p)
{
    trial *t = user;
    return over_cap(t) || beat(t, p->epoch, p->loss);
}

/* Evaluation at the end of an epoch takes time too (the paper row's 10,000 test images), so
 * the cap is checked here as well; after the last epoch the trial is done whatever its time. */
static int on_epoch(void *user, const act_epoch_stats *s)
{
    trial *t = user;
    if (s->epoch >= t->stop && t->stop < t->epochs)
        return t->stopped = 1;   /* the rung is done; its checkpoint is written */
    if (s->epoch < t->epochs && over_cap(t))
        return 1;
    return beat(t, s->epoch, s->train_loss);
}

// ----------------------------------------------------------------------------
// the evaluator

/* FNV-1a 64 of the bytes of s, continuing h. */
static uint64_t fnv(uint64_t h, const void *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= ((const unsigned char *)s)[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* The checkpoint of (fidelity, expression, seed) in dir: every rung of one candidate's run
 * continues the same file. */
static int ckpt_path(const char *dir, const orch_fidelity *f, const orch_msg *task, char *buf,
                     size_t cap)
{
    uint64_t h = fnv(0xcbf29ce484222325ULL, task->expr, strlen(task->expr));
    h = fnv(h, &task->seed, sizeof task->seed);
    int n = snprintf(buf, cap, "%s/%s-%016llx.ckpt", dir, f->name, (unsigned long long)h);
    return n > 0 && (size_t)n < cap;
}

int orch_train_eval_at(orch_worker *w, const orch_fidelity *f, const orch_msg *task,
                       orch_msg *result, orch_train_ctx *c)
{
    return orch_train_eval_rung(w, f, f ? f->epochs : 0, task, result, c);
}

int orch_train_eval_rung(orch_worker *w, const orch_fidelity *f, int stop,
                         const orch_msg *task, orch_msg *result, orch_train_ctx *c)
{
    if (!f || !task || !result || !c || stop < 1 || stop > f->epochs)
        return ACT_EINVAL;
    if (f->synthetic) {
        int ms = (int)((long long)c->synthetic_ms * stop / f->epochs);
        int st = orch_synthetic_eval(w, task, result, &ms);
        result->epochs = stop;
        return st;
    }
    result->error[0] = '\0';
    char act[ORCH_EXPR_MAX + 8];
    act_run_config rc;
    int st = orch_fidelity_run_config(f, task->expr, task->seed, c->threads > 0 ? c->threads : 1,
                                      act, sizeof act, &rc);
    if (st != ACT_OK) {
        outcome(result, ORCH_OUTCOME_ERROR, "fidelity %s: %s", f->name, act_strerror(st));
        return ACT_OK;
    }
    rc.train.max_batches = c->max_batches;

    /* The expression before the data: a candidate this build cannot parse or compile is the
     * same ERROR whether or not the data is there. */
    act_diag d;
    act_run_act *a = NULL;
    st = act_run_act_new(&rc, &a, &d);
    act_run_act_free(a);
    if (st != ACT_OK) {
        const char *m = strncmp(d.msg, "expression: ", 12) ? d.msg : d.msg + 12;
        outcome(result, ORCH_OUTCOME_ERROR, "expression: %s%s%.200s", act_strerror(st),
                m[0] ? ": " : "", m);
        return ACT_OK;
    }
    if (!c->loaded) {   /* once per worker: every later trial trains on the same bytes */
        c->loads++;
        st = act_data_open(rc.data, c->data_dir, &c->train, &c->test, &d);
        if (st != ACT_OK) {
            outcome(result, ORCH_OUTCOME_ERROR, "data: %.200s", d.msg[0] ? d.msg
                                                                        : act_strerror(st));
            return st;
        }
        c->loaded = 1;
    }

    /* A rung continues the candidate's checkpoint when there is one (ASHA's promotion): the
     * configuration is the full run's, so the continuation is the run from scratch, epoch for
     * epoch (a checkpoint stores parameters, optimiser moments and the dropout RNG; each
     * epoch's data order depends only on the seed and the epoch). Without a checkpoint
     * directory, or with an unusable file, the rung trains from scratch: the same numbers. */
    char path[4096];
    int have_path = c->ckpt_dir && f->epochs > 1 &&
                    ckpt_path(c->ckpt_dir, f, task, path, sizeof path);
    if (have_path) {
        act_ckpt_meta m = { 0 };
        act_diag d2;
        if (act_ckpt_read_meta(path, &m, &d2) == ACT_OK && m.epoch >= 1 && m.epoch < stop)
            rc.train.resume = path;
        else if (m.epoch >= stop)
            have_path = 0;   /* a later epoch than this rung's: leave it, train from scratch */
        act_ckpt_meta_free(&m);
        if (have_path && stop < f->epochs)
            rc.train.checkpoint = path;
    }
    trial t = { w, now_s(), 0.0, f->time_cap_s, f->epochs, stop, 0, 0, 0 };
    t.last_beat = t.t0 - BEAT_S;   /* the first batch sends one: the trial has started */
    rc.train.on_batch = on_batch;
    rc.train.on_epoch = on_epoch;
    rc.train.user = &t;
    act_run_result r;
    const act_dataset *test = task->test ? &c->test : NULL;   /* a search needs no test set */
    st = act_run_train(&rc, &c->train, test, &r, &d);
    if (st != ACT_OK && rc.train.resume && !t.stopped && !t.capped && !t.lost &&
        st != ACT_EDIVERGED && st != ACT_ERANGE) {
        /* the checkpoint does not continue this run (another build's record, damage):
         * from scratch, which gives the same numbers */
        rc.train.resume = NULL;
        t.t0 = now_s();
        st = act_run_train(&rc, &c->train, test, &r, &d);
    }
    if (t.stopped && st == ACT_ECANCELED)
        st = ACT_OK;
    c->resumed = r.resumed;
    if (have_path && (stop == f->epochs || st != ACT_OK))
        (void)unlink(path);   /* the top rung, or a run that ended: nothing continues it */
    if (t.lost)
        return ACT_EIO;
    result->epochs = r.epochs;
    result->wall_s = r.seconds;
    result->val_acc = result->test_acc = result->train_loss = (double)NAN;
    switch (st) {
    case ACT_OK:
        if (!isfinite(r.last.val_acc)) {   /* no reward can come from it */
            outcome(result, ORCH_OUTCOME_FAILED, "validation accuracy is not finite");
            break;
        }
        result->outcome = ORCH_OUTCOME_OK;
        result->val_acc = r.last.val_acc;
        result->test_acc = r.last.test_acc;
        result->train_loss = r.last.train_loss;
        break;
    case ACT_EDIVERGED:
        outcome(result, ORCH_OUTCOME_FAILED, "diverged: %.200s", d.msg);
        break;
    case ACT_ERANGE:
        outcome(result, ORCH_OUTCOME_FAILED, "parameters left their domain: %.200s", d.msg);
        break;
    case ACT_ECANCELED:
        if (t.capped) {
            outcome(result, ORCH_OUTCOME_FAILED, "time cap of %g s exceeded", f->time_cap_s);
            break;
        }
        outcome(result, ORCH_OUTCOME_ERROR, "training: %s: %.200s", act_strerror(st), d.msg);
        break;
    default:
        outcome(result, ORCH_OUTCOME_ERROR, "training: %s%s%.200s", act_strerror(st),
                d.msg[0] ? ": " : "", d.msg);
        break;
    }
    return ACT_OK;
}

int orch_train_eval(orch_worker *w, const orch_msg *task, orch_msg *result, void *ctx)
{
    if (!task || !result || !ctx)
        return ACT_EINVAL;
    int stop = 0;
    const orch_fidelity *f = orch_fidelity_rung(task->fidelity, &stop);
    if (!f) {
        outcome(result, ORCH_OUTCOME_ERROR, "unknown fidelity '%.31s' (known: %s)",
                task->fidelity, orch_fidelity_names());
        return ACT_OK;
    }
    return orch_train_eval_rung(w, f, stop, task, result, ctx);
}
