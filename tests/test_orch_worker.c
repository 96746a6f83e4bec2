/* test_orch_worker.c -- the worker loop (orch/worker.h) in a child process over two pipes, as a
 * coordinator drives it: hello with the child's pid; synthetic tasks answered with their trial
 * (swish scores near the top, relu lower, sqrt(x) a failed candidate, a bad expression an
 * error naming the problem, the same expression and seed the same bits); heartbeats carrying
 * the trial while a slow trial runs; and the four ways the loop ends: stop (0), end of input,
 * the watchdog, a message a worker does not take. */
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../orch/worker.h"
#include "test.h"

typedef struct child { pid_t pid; int to, from; } child;

/* Exit codes of the child: the loop's status, mapped. */
static int code_of(int rc)
{
    switch (rc) {
    case ACT_OK: return 0;
    case ACT_ENOTFOUND: return 10;
    case ACT_ECANCELED: return 11;
    case ACT_EFORMAT: return 12;
    default: return 13;
    }
}

static int start(child *c, double silence_s, int ms)
{
    int down[2], up[2];
    if (pipe(down) || pipe(up))
        return -1;
    c->pid = fork();
    if (c->pid < 0)
        return -1;
    if (c->pid == 0) {
        close(down[1]);
        close(up[0]);
        static int delay;
        delay = ms;
        orch_worker_config cfg = { down[0], up[1], silence_s, orch_synthetic_eval, &delay,
                                   NULL };
        _exit(code_of(orch_worker_run(&cfg, NULL)));
    }
    close(down[0]);
    close(up[1]);
    c->to = down[1];
    c->from = up[0];
    return 0;
}

/* Waits for the child; its exit code, or -1. */
static int finish(child *c)
{
    int st;
    close(c->to);
    close(c->from);
    if (waitpid(c->pid, &st, 0) != c->pid || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

static orch_msg task(int64_t trial, const char *expr, uint64_t seed)
{
    orch_msg m = orch_msg_init(ORCH_MSG_TASK);
    m.trial = trial;
    m.seed = seed;
    snprintf(m.fidelity, sizeof m.fidelity, "synthetic");
    snprintf(m.expr, sizeof m.expr, "%s", expr);
    return m;
}

/* Sends a task and returns its result (heartbeats counted into *beats, may be NULL). */
static orch_msg ask(child *c, int64_t trial, const char *expr, uint64_t seed, int *beats)
{
    orch_msg t = task(trial, expr, seed), m = orch_msg_init(ORCH_MSG_COUNT);
    CHECK(orch_msg_write(c->to, &t) == ACT_OK);
    for (;;) {
        act_diag d;
        int rc = orch_msg_read(c->from, &m, &d);
        CHECKF(rc == ACT_OK, "reading the answer to trial %lld: %d %s", (long long)trial, rc,
               d.msg);
        if (rc != ACT_OK || m.kind != ORCH_MSG_HEARTBEAT)
            break;
        CHECK(m.trial == trial);
        if (beats)
            ++*beats;
    }
    CHECK(m.kind == ORCH_MSG_RESULT && m.trial == trial);
    return m;
}

void test_orch_worker_tasks(void)
{
    signal(SIGPIPE, SIG_IGN);
    child c;
    if (start(&c, 0, 0) != 0) {
        CHECK(!"fork");
        return;
    }
    orch_msg m;
    CHECK(orch_msg_read(c.from, &m, NULL) == ACT_OK && m.kind == ORCH_MSG_HELLO &&
          m.pid == (int64_t)c.pid && m.version == ORCH_PROTO_VERSION);
    orch_msg sw = ask(&c, 7, "x*sigmoid(x)", 1, NULL);
    CHECKF(sw.outcome == ORCH_OUTCOME_OK && fabs(sw.val_acc - 0.95) <= 0.0021 &&
           sw.train_loss < 1e-12 && !sw.error[0], "swish: %s %.6f", orch_outcome_name(sw.outcome),
           sw.val_acc);
    orch_msg re = ask(&c, 8, "max(x, 0)", 1, NULL);
    CHECKF(re.outcome == ORCH_OUTCOME_OK && re.val_acc < sw.val_acc - 0.01 && re.val_acc > 0.1,
           "relu %.4f below swish %.4f (beyond the noise)", re.val_acc, sw.val_acc);
    orch_msg sq = ask(&c, 9, "sqrt(x)", 1, NULL);
    CHECKF(sq.outcome == ORCH_OUTCOME_FAILED && strstr(sq.error, "non-finite"), "sqrt: %s '%s'",
           orch_outcome_name(sq.outcome), sq.error);
    orch_msg bad = ask(&c, 10, "x*sigmoid(", 1, NULL);
    CHECKF(bad.outcome == ORCH_OUTCOME_ERROR && strstr(bad.error, "expression"), "bad: %s '%s'",
           orch_outcome_name(bad.outcome), bad.error);
    orch_msg again = ask(&c, 11, "x*sigmoid(x)", 1, NULL), other = ask(&c, 12, "x*sigmoid(x)",
                                                                      2, NULL);
    CHECK(!memcmp(&again.val_acc, &sw.val_acc, sizeof sw.val_acc));
    CHECK(other.val_acc != sw.val_acc && fabs(other.val_acc - sw.val_acc) <= 0.004);
    orch_msg k = orch_msg_init(ORCH_MSG_KEEPALIVE), s = orch_msg_init(ORCH_MSG_STOP);
    CHECK(orch_msg_write(c.to, &k) == ACT_OK && orch_msg_write(c.to, &s) == ACT_OK);
    CHECK(orch_msg_read(c.from, &m, NULL) == ACT_ENOTFOUND);   /* it exits: its end closes */
    CHECK(finish(&c) == 0);
}

void test_orch_worker_heartbeats(void)
{
    signal(SIGPIPE, SIG_IGN);
    child c;
    if (start(&c, 0, 350) != 0) {   /* each trial takes 350 ms: 4 heartbeats */
        CHECK(!"fork");
        return;
    }
    orch_msg m;
    CHECK(orch_msg_read(c.from, &m, NULL) == ACT_OK && m.kind == ORCH_MSG_HELLO);
    int beats = 0;
    orch_msg r = ask(&c, 3, "x*tanh(x)", 5, &beats);
    CHECKF(beats == 4 && r.outcome == ORCH_OUTCOME_OK && r.wall_s >= 0.3, "%d heartbeats, %g s",
           beats, r.wall_s);
    CHECK(finish(&c) == 10);   /* end of input: the coordinator is gone */
}

void test_orch_worker_ends(void)
{
    signal(SIGPIPE, SIG_IGN);
    child c;
    orch_msg m;
    /* the watchdog: nothing after hello */
    if (start(&c, 0.3, 0) == 0) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK(orch_msg_read(c.from, &m, NULL) == ACT_OK && m.kind == ORCH_MSG_HELLO);
        struct pollfd p = { c.from, POLLIN, 0 };   /* a broken watchdog fails, not hangs */
        int fired = poll(&p, 1, 5000) == 1;
        CHECK(fired);
        if (!fired)
            kill(c.pid, SIGKILL);
        CHECK(orch_msg_read(c.from, &m, NULL) == ACT_ENOTFOUND);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        CHECKF(s >= 0.25 && s < 5.0, "the watchdog fired after %.2f s", s);
        CHECK(finish(&c) == 11);
    }
    /* keepalives hold the watchdog off: 5 x 0.1 s apart outlast 0.3 s */
    if (start(&c, 0.3, 0) == 0) {
        CHECK(orch_msg_read(c.from, &m, NULL) == ACT_OK);
        orch_msg k = orch_msg_init(ORCH_MSG_KEEPALIVE);
        for (int i = 0; i < 5; i++) {
            struct timespec ts = { 0, 100000000L };
            nanosleep(&ts, NULL);
            CHECK(orch_msg_write(c.to, &k) == ACT_OK);
        }
        orch_msg r = ask(&c, 1, "x", 1, NULL);
        CHECK(r.outcome == ORCH_OUTCOME_OK);
        CHECK(finish(&c) == 10);
    }
    /* a message a worker does not take */
    if (start(&c, 0, 0) == 0) {
        CHECK(orch_msg_read(c.from, &m, NULL) == ACT_OK);
        orch_msg h = orch_msg_init(ORCH_MSG_HEARTBEAT);
        h.trial = 1;
        h.loss = 0.5;
        CHECK(orch_msg_write(c.to, &h) == ACT_OK);
        CHECK(finish(&c) == 12);
    }
}
