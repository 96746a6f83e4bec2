/* local.c -- local worker processes over pipes (local.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "local.h"

typedef struct worker {
    pid_t       pid;      /* 0: dead and reaped */
    int         to, from; /* -1 when closed */
    int         eof;      /* its output ended: it is exiting */
    orch_reader rd;
} worker;

struct orch_pool {
    int     n;
    char  **argv;         /* a deep copy */
    worker *w;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void nap_ms(int ms)
{
    struct timespec ts = { 0, (long)ms * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int spawn(orch_pool *p, int i, act_diag *diag)
{
    worker *w = &p->w[i];
    int down[2], up[2];
    if (pipe2(down, O_CLOEXEC) != 0)
        goto fail_pipe;
    if (pipe2(up, O_CLOEXEC) != 0) {
        close(down[0]);
        close(down[1]);
        goto fail_pipe;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(down[0]), close(down[1]), close(up[0]), close(up[1]);
        if (diag)
            snprintf(diag->msg, sizeof diag->msg, "worker %d: fork: %s", i, strerror(errno));
        return ACT_EIO;
    }
    if (pid == 0) {   /* the child: stdin, stdout to the pipes (dup2 clears close-on-exec) */
        if (dup2(down[0], 0) < 0 || dup2(up[1], 1) < 0)
            _exit(127);
        signal(SIGPIPE, SIG_DFL);
        execv(p->argv[0], p->argv);
        _exit(127);
    }
    close(down[0]);
    close(up[1]);
    int fl = fcntl(up[0], F_GETFL);
    if (fl >= 0)
        (void)fcntl(up[0], F_SETFL, fl | O_NONBLOCK);
    memset(w, 0, sizeof *w);
    w->pid = pid;
    w->to = down[1];
    w->from = up[0];
    return ACT_OK;
fail_pipe:
    if (diag)
        snprintf(diag->msg, sizeof diag->msg, "worker %d: pipe: %s", i, strerror(errno));
    return ACT_EIO;
}

int orch_pool_new(int n, char *const argv[], orch_pool **out, act_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
    if (!out || !argv || !argv[0] || n < 1 || n > ORCH_POOL_MAX)
        return ACT_EINVAL;
    *out = NULL;
    signal(SIGPIPE, SIG_IGN);
    orch_pool *p = calloc(1, sizeof *p);
    int argc = 0;
    while (argv[argc])
        argc++;
    if (p) {
        p->w = calloc((size_t)n, sizeof *p->w);
        p->argv = calloc((size_t)argc + 1, sizeof *p->argv);
    }
    if (!p || !p->w || !p->argv) {
        if (p)
            free(p->w), free(p->argv);
        free(p);
        return ACT_ENOMEM;
    }
    for (int i = 0; i < argc; i++)
        if (!(p->argv[i] = strdup(argv[i]))) {
            orch_pool_free(p, 0);
            return ACT_ENOMEM;
        }
    for (int i = 0; i < n; i++)
        p->w[i].to = p->w[i].from = -1;
    for (p->n = 0; p->n < n; p->n++) {
        int rc = spawn(p, p->n, diag);
        if (rc != ACT_OK) {
            orch_pool_free(p, 1.0);
            return rc;
        }
    }
    *out = p;
    return ACT_OK;
}

void orch_pool_free(orch_pool *p, double grace_s)
{
    if (!p)
        return;
    orch_msg stop = orch_msg_init(ORCH_MSG_STOP);
    for (int i = 0; i < p->n; i++) {
        worker *w = &p->w[i];
        if (w->pid > 0 && w->to >= 0)
            ACT_IGNORE(orch_msg_write(w->to, &stop));   /* a dead one is killed below */
        close_fd(&w->to);
        close_fd(&w->from);
    }
    double end = now_s() + grace_s;
    for (;;) {
        int left = 0;
        for (int i = 0; i < p->n; i++) {
            worker *w = &p->w[i];
            if (w->pid > 0 && waitpid(w->pid, NULL, WNOHANG) == w->pid)
                w->pid = 0;
            left += w->pid > 0;
        }
        if (!left || now_s() >= end)
            break;
        nap_ms(5);
    }
    for (int i = 0; i < p->n; i++)
        if (p->w[i].pid > 0) {
            kill(p->w[i].pid, SIGKILL);
            while (waitpid(p->w[i].pid, NULL, 0) < 0 && errno == EINTR) {
            }
        }
    for (int i = 0; p->argv && p->argv[i]; i++)
        free(p->argv[i]);
    free(p->argv);
    free(p->w);
    free(p);
}

int orch_pool_size(const orch_pool *p) { return p ? p->n : 0; }

pid_t orch_pool_pid(const orch_pool *p, int i)
{
    return p && i >= 0 && i < p->n ? p->w[i].pid : 0;
}

/* Worker i's output ended: reap it (it is exiting; one that keeps running without its output
 * is killed after a second) and fill the event. */
static void reap(orch_pool *p, int i, orch_pool_event *ev)
{
    worker *w = &p->w[i];
    int st = 0;
    double end = now_s() + 1.0;
    pid_t r;
    while ((r = waitpid(w->pid, &st, WNOHANG)) == 0 && now_s() < end)
        nap_ms(2);
    if (r == 0) {
        kill(w->pid, SIGKILL);
        while ((r = waitpid(w->pid, &st, 0)) < 0 && errno == EINTR) {
        }
    }
    ev->kind = ORCH_POOL_EXITED;
    ev->worker = i;
    ev->pid = w->pid;
    ev->status = st;
    close_fd(&w->to);
    close_fd(&w->from);
    w->pid = 0;
    w->eof = 0;
    w->rd.have = 0;
}

int orch_pool_poll(orch_pool *p, double timeout_s, orch_pool_event *ev, act_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
    if (!p || !ev)
        return ACT_EINVAL;
    double end = now_s() + (timeout_s > 0 ? timeout_s : 0);
    struct pollfd fds[ORCH_POOL_MAX];
    int who[ORCH_POOL_MAX];
    for (;;) {
        for (int i = 0; i < p->n; i++) {   /* whole messages already read, in worker order */
            worker *w = &p->w[i];
            if (w->pid <= 0)
                continue;
            int rc = orch_reader_next(&w->rd, &ev->msg, diag);
            if (rc == ACT_OK || rc == ACT_EFORMAT) {
                ev->kind = ORCH_POOL_MESSAGE;
                ev->worker = i;
                ev->pid = w->pid;
                return rc;
            }
        }
        for (int i = 0; i < p->n; i++)
            if (p->w[i].pid > 0 && p->w[i].eof) {
                reap(p, i, ev);
                return ACT_OK;
            }
        int nf = 0;
        for (int i = 0; i < p->n; i++)
            if (p->w[i].pid > 0 && p->w[i].from >= 0) {
                fds[nf] = (struct pollfd){ p->w[i].from, POLLIN, 0 };
                who[nf++] = i;
            }
        int ms = -1;
        if (timeout_s >= 0) {
            double left = end - now_s();
            ms = left <= 0 ? 0 : (int)(left * 1000.0) + 1;
        }
        if (nf == 0) {   /* nobody to hear from */
            if (ms != 0)
                nap_ms(ms < 0 || ms > 50 ? 50 : ms);
            if (timeout_s >= 0 && now_s() >= end) {
                ev->kind = ORCH_POOL_TIMEOUT;
                return ACT_OK;
            }
            continue;
        }
        int r = poll(fds, (nfds_t)nf, ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            if (diag)
                snprintf(diag->msg, sizeof diag->msg, "poll: %s", strerror(errno));
            return ACT_EIO;
        }
        if (r == 0) {
            ev->kind = ORCH_POOL_TIMEOUT;
            return ACT_OK;
        }
        for (int k = 0; k < nf; k++) {
            if (!fds[k].revents)
                continue;
            worker *w = &p->w[who[k]];
            size_t room = orch_reader_room(&w->rd);
            unsigned char buf[4096];
            ssize_t got = read(w->from, buf, room < sizeof buf ? room : sizeof buf);
            if (got > 0)
                ACT_IGNORE(orch_reader_feed(&w->rd, buf, (size_t)got));   /* fits: room */
            else if (got == 0 || (errno != EAGAIN && errno != EINTR))
                w->eof = 1;
        }
        if (timeout_s >= 0 && now_s() >= end) {   /* bytes, but no whole message in time */
            int whole = 0;
            for (int i = 0; i < p->n; i++)
                whole |= p->w[i].pid > 0 && (p->w[i].eof || p->w[i].rd.have >= 4);
            if (!whole) {
                ev->kind = ORCH_POOL_TIMEOUT;
                return ACT_OK;
            }
        }
    }
}

int orch_pool_send(orch_pool *p, int i, const orch_msg *m)
{
    if (!p || i < 0 || i >= p->n || !m)
        return ACT_EINVAL;
    if (p->w[i].pid <= 0 || p->w[i].to < 0)
        return ACT_EIO;
    return orch_msg_write(p->w[i].to, m);
}

void orch_pool_kill(orch_pool *p, int i)
{
    if (p && i >= 0 && i < p->n && p->w[i].pid > 0)
        kill(p->w[i].pid, SIGKILL);
}

int orch_pool_respawn(orch_pool *p, int i, act_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
    if (!p || i < 0 || i >= p->n || p->w[i].pid > 0)
        return ACT_EINVAL;
    return spawn(p, i, diag);
}
