/* worker.c -- the worker loop (worker.h) and the synthetic fidelity's evaluator. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actlab/expr.h"
#include "actlab/rng.h"
#include "worker.h"

struct orch_worker {
    orch_channel ch;
    int64_t      trial;    /* the running trial, 0 between trials */
    int          stopped;  /* a stop arrived while a trial ran */
    int          has_next; /* next: a message that came while a trial ran, taken next */
    orch_msg     next;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int orch_worker_heartbeat(orch_worker *w, int epoch, double loss)
{
    /* what came while the trial ran, in order: keepalives, or a stop (the search ended
     * early); anything else waits for the loop, and so does what follows it */
    while (!w->has_next && w->ch.wait(w->ch.impl, 0.0) == 1) {
        if (w->ch.recv(w->ch.impl, &w->next, NULL) != ACT_OK)
            return ACT_EIO;    /* the input ended or is not a message: the loop says which */
        if (w->next.kind == ORCH_MSG_STOP) {
            w->stopped = 1;
            return ACT_ECANCELED;
        }
        w->has_next = w->next.kind != ORCH_MSG_KEEPALIVE;
    }
    orch_msg m = orch_msg_init(ORCH_MSG_HEARTBEAT);
    m.trial = w->trial;
    m.epoch = epoch < 0 ? 0 : epoch;
    m.loss = loss;
    return w->ch.send(w->ch.impl, &m);
}

/* The descriptor channel: impl points to the worker's two descriptors. */
typedef struct fd_pair {
    int in, out;
} fd_pair;

/* Waits up to timeout_s (< 0: forever) for input: 1 readable (or closed), 0 timed out, -1 error. */
static int fd_wait(void *impl, double timeout_s)
{
    int fd = ((const fd_pair *)impl)->in;
    double end = now_s() + timeout_s;
    for (;;) {
        int ms = -1;
        if (timeout_s >= 0) {
            double left = end - now_s();
            ms = left <= 0 ? 0 : (int)(left * 1000.0) + 1;
        }
        struct pollfd p = { fd, POLLIN, 0 };
        int r = poll(&p, 1, ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        return r > 0;
    }
}

static int fd_recv(void *impl, orch_msg *m, act_diag *diag)
{
    return orch_msg_read(((const fd_pair *)impl)->in, m, diag);
}

static int fd_send(void *impl, const orch_msg *m)
{
    return orch_msg_write(((const fd_pair *)impl)->out, m);
}

int orch_worker_run(const orch_worker_config *cfg, act_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
    if (!cfg || !cfg->eval || !(cfg->silence_s >= 0) ||
        (cfg->chan ? !cfg->chan->wait || !cfg->chan->recv || !cfg->chan->send
                   : cfg->in_fd < 0 || cfg->out_fd < 0))
        return ACT_EINVAL;
    fd_pair fds = { cfg->in_fd, cfg->out_fd };
    orch_worker w;
    memset(&w, 0, sizeof w);
    w.ch = (orch_channel){ &fds, fd_wait, fd_recv, fd_send };
    if (cfg->chan)
        w.ch = *cfg->chan;
    orch_msg m = orch_msg_init(ORCH_MSG_HELLO);
    m.pid = (int64_t)getpid();
    int rc = w.ch.send(w.ch.impl, &m);
    while (rc == ACT_OK) {
        if (w.has_next) {   /* it came while the last trial ran */
            m = w.next;
            w.has_next = 0;
        } else {
            int ready = w.ch.wait(w.ch.impl, cfg->silence_s > 0 ? cfg->silence_s : -1.0);
            if (ready == 0) {
                if (diag)
                    snprintf(diag->msg, sizeof diag->msg, "no message from the coordinator "
                             "for %g s: it is gone", cfg->silence_s);
                return ACT_ECANCELED;
            }
            if (ready < 0)
                return ACT_EIO;
            rc = w.ch.recv(w.ch.impl, &m, diag);
            if (rc != ACT_OK)
                break;
        }
        switch (m.kind) {
        case ORCH_MSG_KEEPALIVE:
            break;
        case ORCH_MSG_STOP:
            return ACT_OK;
        case ORCH_MSG_TASK: {
            orch_msg r = orch_msg_init(ORCH_MSG_RESULT);
            r.trial = w.trial = m.trial;
            double t0 = now_s();
            rc = cfg->eval(&w, &m, &r, cfg->ctx);
            w.trial = 0;
            if (w.stopped)
                return ACT_OK;   /* told to stop while the trial ran: it is abandoned */
            if (rc != ACT_OK) {
                if (diag && !diag->msg[0] && r.error[0])   /* why the worker cannot go on */
                    snprintf(diag->msg, sizeof diag->msg, "trial %lld: %.200s",
                             (long long)m.trial, r.error);
                break;
            }
            r.kind = ORCH_MSG_RESULT;
            r.trial = m.trial;
            if (isnan(r.wall_s))
                r.wall_s = now_s() - t0;
            rc = w.ch.send(w.ch.impl, &r);
            break;
        }
        case ORCH_MSG_HELLO:
        case ORCH_MSG_HEARTBEAT:
        case ORCH_MSG_RESULT:
        case ORCH_MSG_COUNT:
            if (diag)
                snprintf(diag->msg, sizeof diag->msg, "a worker does not take %s messages",
                         orch_msg_name(m.kind));
            return ACT_EFORMAT;
        }
    }
    return rc;
}

// ----------------------------------------------------------------------------
// the synthetic fidelity

enum { SYN_POINTS = 201 };

int orch_synthetic_eval(orch_worker *w, const orch_msg *task, orch_msg *result, void *ctx)
{
    int ms = ctx ? *(const int *)ctx : 0;
    for (int slept = 0; slept < ms; slept += 100) {   /* stands in for training time */
        int step = ms - slept < 100 ? ms - slept : 100;
        struct timespec ts = { step / 1000, (long)(step % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        if (orch_worker_heartbeat(w, slept / 100, NAN) != ACT_OK)
            return ACT_EIO;
    }
    act_expr *e = NULL;
    act_expr_prog *p = NULL;
    act_diag d;
    int rc = act_expr_parse(task->expr, &e, &d);
    if (rc == ACT_OK)
        rc = act_expr_compile(e, &p);
    act_expr_free(e);
    if (rc != ACT_OK) {
        result->outcome = ORCH_OUTCOME_ERROR;
        snprintf(result->error, sizeof result->error, "expression: %s%s%.200s",
                 act_strerror(rc), rc == ACT_EPARSE ? ": " : "", rc == ACT_EPARSE ? d.msg : "");
        return ACT_OK;
    }
    double x[SYN_POINTS], y[SYN_POINTS], mse = 0.0;
    for (int i = 0; i < SYN_POINTS; i++)
        x[i] = -5.0 + 10.0 * i / (SYN_POINTS - 1);
    rc = act_expr_forward_d(p, NULL, x, y, SYN_POINTS);
    act_expr_prog_free(p);
    if (rc != ACT_OK)
        return rc;
    for (int i = 0; i < SYN_POINTS; i++) {
        double t = x[i] / (1.0 + exp(-x[i]));
        mse += (y[i] - t) * (y[i] - t) / SYN_POINTS;
    }
    result->epochs = 0;
    if (!isfinite(mse)) {
        result->outcome = ORCH_OUTCOME_FAILED;
        snprintf(result->error, sizeof result->error, "synthetic: non-finite on [-5, 5]");
        return ACT_OK;
    }
    /* the seeded "training noise": the same (expression, seed) gives the same score */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *c = task->expr; *c; c++)
        h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
    act_rng r = act_rng_seed(h ^ task->seed);
    double score = 0.1 + 0.85 / (1.0 + mse);
    result->outcome = ORCH_OUTCOME_OK;
    result->val_acc = score + 0.002 * (2.0 * act_rng_uniform(&r) - 1.0);
    result->test_acc = score + 0.002 * (2.0 * act_rng_uniform(&r) - 1.0);
    if (!task->test)
        result->test_acc = NAN;   /* as a training worker: no test set unless asked */
    result->train_loss = mse;
    return ACT_OK;
}
