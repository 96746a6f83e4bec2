/* test_orch_local.c -- the local worker pool (orch/local.h) with real processes: this test
 * binary re-executed as a synthetic worker (`run --orch-worker MS`, tests/main.c). Two workers
 * say hello and answer tasks; a worker SIGKILLed mid-trial is reported as killed by the signal
 * and replaced, and its replacement works; a program that cannot be executed exits 127; one
 * that writes bytes that are not messages is reported; the pool stops its workers when freed. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../orch/local.h"
#include "test.h"

/* The next event other than a heartbeat, waiting up to 10 s. */
static orch_pool_event next(orch_pool *p)
{
    orch_pool_event ev;
    for (;;) {
        act_diag d;
        int rc = orch_pool_poll(p, 10.0, &ev, &d);
        CHECKF(rc == ACT_OK, "poll: %d %s", rc, d.msg);
        if (rc != ACT_OK || ev.kind != ORCH_POOL_MESSAGE || ev.msg.kind != ORCH_MSG_HEARTBEAT)
            return ev;
    }
}

static orch_msg task(int64_t trial, const char *expr)
{
    orch_msg m = orch_msg_init(ORCH_MSG_TASK);
    m.trial = trial;
    m.seed = 1;
    snprintf(m.fidelity, sizeof m.fidelity, "synthetic");
    snprintf(m.expr, sizeof m.expr, "%s", expr);
    return m;
}

static char self[4096];

static int self_path(void)
{
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 0;
    self[n] = '\0';
    return 1;
}

void test_orch_local_pool(void)
{
    if (!self_path()) {
        CHECK(!"readlink /proc/self/exe");
        return;
    }
    char *argv[] = { self, "--orch-worker", "300", NULL };
    orch_pool *p = NULL;
    act_diag d;
    CHECK(orch_pool_new(2, argv, &p, &d) == ACT_OK && orch_pool_size(p) == 2);
    if (!p)
        return;
    int hello[2] = { 0, 0 };
    for (int k = 0; k < 2; k++) {
        orch_pool_event ev = next(p);
        CHECK(ev.kind == ORCH_POOL_MESSAGE && ev.msg.kind == ORCH_MSG_HELLO &&
              ev.msg.pid == (int64_t)orch_pool_pid(p, ev.worker));
        if (ev.kind == ORCH_POOL_MESSAGE)
            hello[ev.worker]++;
    }
    CHECK(hello[0] == 1 && hello[1] == 1);
    /* both work at once: 2 trials of 300 ms */
    orch_msg t0 = task(11, "x*sigmoid(x)"), t1 = task(12, "max(x, 0)");
    CHECK(orch_pool_send(p, 0, &t0) == ACT_OK && orch_pool_send(p, 1, &t1) == ACT_OK);
    int got = 0;
    for (int k = 0; k < 2; k++) {
        orch_pool_event ev = next(p);
        CHECK(ev.kind == ORCH_POOL_MESSAGE && ev.msg.kind == ORCH_MSG_RESULT &&
              ev.msg.trial == (ev.worker == 0 ? 11 : 12) &&
              ev.msg.outcome == ORCH_OUTCOME_OK);
        got++;
    }
    CHECK(got == 2);
    /* kill worker 1 in the middle of a trial: reported at once, replaced, the new one works */
    pid_t old = orch_pool_pid(p, 1);
    orch_msg t2 = task(13, "tanh(x)");
    CHECK(orch_pool_send(p, 1, &t2) == ACT_OK);
    orch_pool_event ev;
    do {   /* the first heartbeat: it is training */
        CHECK(orch_pool_poll(p, 10.0, &ev, &d) == ACT_OK);
    } while (ev.kind == ORCH_POOL_MESSAGE && ev.msg.kind != ORCH_MSG_HEARTBEAT);
    orch_pool_kill(p, 1);
    ev = next(p);
    CHECKF(ev.kind == ORCH_POOL_EXITED && ev.worker == 1 && ev.pid == old &&
           WIFSIGNALED(ev.status) && WTERMSIG(ev.status) == SIGKILL, "kind %d worker %d",
           (int)ev.kind, ev.worker);
    CHECK(orch_pool_pid(p, 1) == 0 && orch_pool_send(p, 1, &t2) == ACT_EIO);
    CHECK(orch_pool_respawn(p, 1, &d) == ACT_OK && orch_pool_pid(p, 1) != old);
    CHECK(orch_pool_respawn(p, 1, &d) == ACT_EINVAL);   /* alive */
    ev = next(p);
    CHECK(ev.kind == ORCH_POOL_MESSAGE && ev.worker == 1 && ev.msg.kind == ORCH_MSG_HELLO);
    CHECK(orch_pool_send(p, 1, &t2) == ACT_OK);
    ev = next(p);
    CHECK(ev.kind == ORCH_POOL_MESSAGE && ev.msg.kind == ORCH_MSG_RESULT && ev.msg.trial == 13);
    /* nothing more to say: a timeout */
    CHECK(orch_pool_poll(p, 0.05, &ev, &d) == ACT_OK && ev.kind == ORCH_POOL_TIMEOUT);
    pid_t pids[2] = { orch_pool_pid(p, 0), orch_pool_pid(p, 1) };
    orch_pool_free(p, 5.0);
    for (int i = 0; i < 2; i++)   /* stopped and reaped: no such process any more */
        CHECK(kill(pids[i], 0) != 0);
}

void test_orch_local_bad_programs(void)
{
    char *missing[] = { "/nonexistent/actlab", "search", "worker", NULL };
    orch_pool *p = NULL;
    act_diag d;
    CHECK(orch_pool_new(1, missing, &p, &d) == ACT_OK);
    if (p) {
        orch_pool_event ev = next(p);
        CHECK(ev.kind == ORCH_POOL_EXITED && WIFEXITED(ev.status) &&
              WEXITSTATUS(ev.status) == 127);
        orch_pool_free(p, 1.0);
    }
    /* bytes that are not messages ("hello\n" reads as a frame of 1.8 GB) */
    char *echo[] = { "/bin/echo", "hello", NULL };
    p = NULL;
    CHECK(orch_pool_new(1, echo, &p, &d) == ACT_OK);
    if (p) {
        orch_pool_event ev;
        int rc;
        do
            rc = orch_pool_poll(p, 10.0, &ev, &d);
        while (rc == ACT_OK && ev.kind == ORCH_POOL_TIMEOUT);
        CHECKF(rc == ACT_EFORMAT && ev.worker == 0 && strstr(d.msg, "frame"), "rc %d: %s", rc,
               d.msg);
        orch_pool_kill(p, 0);
        orch_pool_free(p, 1.0);
    }
    CHECK(orch_pool_new(0, echo, &p, &d) == ACT_EINVAL);
    char *none[] = { NULL };
    CHECK(orch_pool_new(1, none, &p, &d) == ACT_EINVAL);
}
