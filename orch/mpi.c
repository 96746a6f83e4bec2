/* mpi.c -- the MPI transport (mpi.h): the coordinator's side on rank 0, the worker's channel on
 * the other ranks, and the start-up setup between them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi.h"

#ifndef ACTLAB_MPI

int orch_mpi_available(void) { return 0; }

static int unsupported(act_diag *diag)
{
    if (diag)
        snprintf(diag->msg, sizeof diag->msg, "this actlab was built without MPI (install "
                 "libopenmpi-dev, or another MPI whose `pkg-config mpi-c` works, and rebuild)");
    return ACT_EUNSUPPORTED;
}

int orch_mpi_init(int *rank, int *size, act_diag *diag)
{
    (void)rank, (void)size;
    return unsupported(diag);
}

void orch_mpi_finalize(int peer_alive) { (void)peer_alive; }

int orch_mpi_send_setup(int argc, char *const argv[], act_diag *diag)
{
    (void)argc, (void)argv;
    return unsupported(diag);
}

int orch_mpi_recv_setup(double timeout_s, int *argc, char ***argv, act_diag *diag)
{
    (void)timeout_s, (void)argc, (void)argv;
    return unsupported(diag);
}

int orch_mpi_new(orch_mpi **out, act_diag *diag)
{
    if (out)
        *out = NULL;
    return unsupported(diag);
}

static int no_size(void *impl) { (void)impl; return 0; }
static int no_poll(void *impl, double t, orch_pool_event *ev, act_diag *d)
{
    (void)impl, (void)t, (void)ev;
    return unsupported(d);
}
static int no_send(void *impl, int i, const orch_msg *m)
{
    (void)impl, (void)i, (void)m;
    return ACT_EUNSUPPORTED;
}
static void no_kill(void *impl, int i) { (void)impl, (void)i; }
static int no_respawn(void *impl, int i, act_diag *d)
{
    (void)impl, (void)i;
    return unsupported(d);
}

orch_transport orch_mpi_transport(orch_mpi *m)
{
    orch_transport t = { "mpi", m, no_size, no_poll, no_send, no_kill, no_respawn };
    return t;
}

void orch_mpi_free(orch_mpi *m, double grace_s) { (void)m, (void)grace_s; }

int orch_mpi_channel_new(orch_channel *ch, double send_timeout_s, act_diag *diag)
{
    (void)send_timeout_s;
    if (ch)
        memset(ch, 0, sizeof *ch);
    return unsupported(diag);
}

void orch_mpi_channel_free(orch_channel *ch, double grace_s) { (void)ch, (void)grace_s; }

#else /* ACTLAB_MPI */

#include <mpi.h>

enum { TAG_SETUP = 1, TAG_MSG = 2, TAG_FIN = 3, SETUP_MAX = 16384 };

static int g_inited;          /* MPI_Init called here */
/* MPI_Finalize waits for every rank, the dead ones included (measured: Open MPI 4.1.4 with
 * --enable-recovery hangs in it after a rank's SIGKILL). So rank 0 finalizes only when no rank
 * was lost, and tells each worker so after its stop (TAG_FIN); a worker finalizes only when
 * told to. Without finalize the processes just exit, which --enable-recovery accepts. */
static int g_finalize_ok = 1;
static char *g_setup;         /* the setup's bytes and argv (worker ranks) */
static char **g_setup_argv;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void sleep_us(long us)
{
    struct timespec ts = { us / 1000000L, (us % 1000000L) * 1000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The next idle sleep while polling: from 20 us up to 1 ms, so a burst of messages is taken
 * at once and an idle rank costs almost no CPU (an oversubscribed machine needs that: a rank
 * spinning in a blocking MPI call takes a core from the ranks that train). */
static long backoff(long us) { return us < 1000 ? us * 2 : 1000; }

static int mpi_fail(act_diag *diag, int rc, const char *what)
{
    if (diag) {
        char s[MPI_MAX_ERROR_STRING];
        int n = 0;
        if (MPI_Error_string(rc, s, &n) != MPI_SUCCESS)
            snprintf(s, sizeof s, "error %d", rc);
        snprintf(diag->msg, sizeof diag->msg, "MPI: %s: %.200s", what, s);
    }
    return ACT_EIO;
}

int orch_mpi_available(void) { return 1; }

int orch_mpi_init(int *rank, int *size, act_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
    if (!rank || !size)
        return ACT_EINVAL;
    int flag = 0;
    MPI_Initialized(&flag);
    if (!flag) {
        int provided = 0;
        int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS)
            return mpi_fail(diag, rc, "MPI_Init_thread");
        g_inited = 1;
        /* errors come back as codes, never abort the job from inside a call */
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return ACT_OK;
}

void orch_mpi_finalize(int peer_alive)
{
    if (g_inited && peer_alive && g_finalize_ok)
        MPI_Finalize();
    if (g_inited) {
        free(g_setup_argv);
        free(g_setup);
        g_setup_argv = NULL;
        g_setup = NULL;
    }
    g_inited = 0;
}

// ----------------------------------------------------------------------------
// sends that never block: a buffer per message, kept until MPI_Isend completes

typedef struct send_slot {
    MPI_Request req;
    int         len;
    char        buf[ORCH_MSG_MAX];
} send_slot;

typedef struct sends {
    send_slot *s;
    int        n;
} sends;

/* Completes what has completed: the number of sends still in flight. */
static int sends_reap(sends *q)
{
    int busy = 0;
    for (int i = 0; i < q->n; i++) {
        if (q->s[i].req == MPI_REQUEST_NULL)
            continue;
        int done = 0;
        if (MPI_Test(&q->s[i].req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS || done)
            q->s[i].req = MPI_REQUEST_NULL;
        else
            busy++;
    }
    return busy;
}

/* A free slot, growing the list up to max slots; NULL when all max are in flight. */
static send_slot *sends_slot(sends *q, int max)
{
    for (int i = 0; i < q->n; i++)
        if (q->s[i].req == MPI_REQUEST_NULL)
            return &q->s[i];
    sends_reap(q);
    for (int i = 0; i < q->n; i++)
        if (q->s[i].req == MPI_REQUEST_NULL)
            return &q->s[i];
    if (q->n >= max)
        return NULL;
    int n = q->n ? 2 * q->n : 8;
    if (n > max)
        n = max;
    send_slot *s = realloc(q->s, (size_t)n * sizeof *s);
    if (!s)
        return NULL;
    for (int i = q->n; i < n; i++)
        s[i].req = MPI_REQUEST_NULL;
    q->s = s;
    int first = q->n;
    q->n = n;
    return &q->s[first];
}

static int sends_post(sends *q, int max, int rank, const orch_msg *m)
{
    send_slot *s = sends_slot(q, max);
    if (!s)
        return ACT_EIO;
    size_t len = 0;
    int st = orch_msg_encode(m, s->buf, sizeof s->buf, &len);
    if (st != ACT_OK)
        return st;
    s->len = (int)len;
    if (MPI_Isend(s->buf, s->len, MPI_BYTE, rank, TAG_MSG, MPI_COMM_WORLD, &s->req) !=
        MPI_SUCCESS) {
        s->req = MPI_REQUEST_NULL;
        return ACT_EIO;
    }
    return ACT_OK;
}

/* Waits up to grace_s for the sends in flight, then lets go of the rest (MPI frees them when
 * they complete, if ever: a send to a dead rank may not). */
static void sends_drain(sends *q, double grace_s)
{
    double end = now_s() + grace_s;
    long us = 20;
    while (sends_reap(q) > 0 && now_s() < end) {
        sleep_us(us);
        us = backoff(us);
    }
    for (int i = 0; i < q->n; i++)
        if (q->s[i].req != MPI_REQUEST_NULL)
            MPI_Request_free(&q->s[i].req);
    free(q->s);
    q->s = NULL;
    q->n = 0;
}

/* A posted receive's buffer; cancelled at the end (MPI_Cancel, then its completion). */
typedef struct recv_slot {
    MPI_Request req;
    char        buf[ORCH_MSG_MAX];
} recv_slot;

static int recv_post(recv_slot *r, int source)
{
    r->req = MPI_REQUEST_NULL;
    return MPI_Irecv(r->buf, (int)sizeof r->buf, MPI_BYTE, source, TAG_MSG, MPI_COMM_WORLD,
                     &r->req) == MPI_SUCCESS ? ACT_OK : ACT_EIO;
}

static void recv_cancel(recv_slot *r)
{
    if (r->req == MPI_REQUEST_NULL)
        return;
    MPI_Cancel(&r->req);
    MPI_Wait(&r->req, MPI_STATUS_IGNORE);
}

// ----------------------------------------------------------------------------
// the setup

int orch_mpi_send_setup(int argc, char *const argv[], act_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
    int size = 0;
    if (!g_inited || argc < 0 || (argc && !argv))
        return ACT_EINVAL;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    static char buf[SETUP_MAX];      /* kept until the sends complete: one setup per process */
    size_t len = 0;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]) + 1;
        if (len + n > sizeof buf) {
            if (diag)
                snprintf(diag->msg, sizeof diag->msg, "the worker options are longer than "
                         "%d bytes", SETUP_MAX);
            return ACT_ELIMIT;
        }
        memcpy(buf + len, argv[i], n);
        len += n;
    }
    MPI_Request *req = calloc((size_t)(size > 1 ? size - 1 : 1), sizeof *req);
    if (!req)
        return ACT_ENOMEM;
    int st = ACT_OK;
    for (int r = 1; r < size; r++) {
        int rc = MPI_Isend(buf, (int)len, MPI_BYTE, r, TAG_SETUP, MPI_COMM_WORLD, &req[r - 1]);
        if (rc != MPI_SUCCESS) {
            req[r - 1] = MPI_REQUEST_NULL;
            st = mpi_fail(diag, rc, "sending the setup");
        }
    }
    /* a dead rank may never take its setup: the requests are left to complete on their own */
    for (int r = 1; r < size; r++)
        if (req[r - 1] != MPI_REQUEST_NULL)
            MPI_Request_free(&req[r - 1]);
    free(req);
    return st;
}

int orch_mpi_recv_setup(double timeout_s, int *argc, char ***argv, act_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
    if (!g_inited || !argc || !argv)
        return ACT_EINVAL;
    *argc = 0;
    *argv = NULL;
    char *buf = malloc(SETUP_MAX + 1);
    if (!buf)
        return ACT_ENOMEM;
    MPI_Request req;
    int rc = MPI_Irecv(buf, SETUP_MAX, MPI_BYTE, 0, TAG_SETUP, MPI_COMM_WORLD, &req);
    if (rc != MPI_SUCCESS) {
        free(buf);
        return mpi_fail(diag, rc, "receiving the setup");
    }
    double end = now_s() + timeout_s;
    long us = 20;
    MPI_Status status;
    for (;;) {
        int done = 0;
        rc = MPI_Test(&req, &done, &status);
        if (rc != MPI_SUCCESS) {
            free(buf);
            return mpi_fail(diag, rc, "receiving the setup");
        }
        if (done)
            break;
        if (timeout_s >= 0 && now_s() >= end) {
            MPI_Cancel(&req);
            MPI_Wait(&req, MPI_STATUS_IGNORE);
            free(buf);
            if (diag)
                snprintf(diag->msg, sizeof diag->msg, "no setup from rank 0 within %g s: the "
                         "coordinator is gone", timeout_s);
            return ACT_ECANCELED;
        }
        sleep_us(us);
        us = backoff(us);
    }
    int len = 0;
    MPI_Get_count(&status, MPI_BYTE, &len);
    if (len < 0 || len > SETUP_MAX || (len > 0 && buf[len - 1] != 0)) {
        free(buf);
        if (diag)
            snprintf(diag->msg, sizeof diag->msg, "rank 0 sent a malformed setup (%d bytes)",
                     len);
        return ACT_EFORMAT;
    }
    int n = 0;
    for (int i = 0; i < len; i++)
        n += buf[i] == 0;
    char **v = calloc((size_t)n + 1, sizeof *v);
    if (!v) {
        free(buf);
        return ACT_ENOMEM;
    }
    for (int i = 0, k = 0; i < len; k++) {
        v[k] = buf + i;
        i += (int)strlen(buf + i) + 1;
    }
    free(g_setup_argv);
    free(g_setup);
    g_setup = buf;
    g_setup_argv = v;
    *argc = n;
    *argv = v;
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// rank 0: the coordinator's transport

enum { COORD_SENDS_MAX = 1 << 16 };

struct orch_mpi {
    int        n;           /* workers: ranks 1..n */
    uint8_t   *dead;        /* by worker */
    int       *exited;      /* workers killed whose EXITED event is still to be reported */
    int        n_exited;
    recv_slot  rx;
    sends      tx;
};

int orch_mpi_new(orch_mpi **out, act_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
    if (!out)
        return ACT_EINVAL;
    *out = NULL;
    int rank = -1, size = 0;
    if (!g_inited)
        return ACT_EINVAL;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank != 0 || size < 2) {
        if (diag)
            snprintf(diag->msg, sizeof diag->msg, "the coordinator is rank 0 of at least 2 "
                     "(this is rank %d of %d): start it with mpirun -np N, N >= 2", rank, size);
        return ACT_EINVAL;
    }
    orch_mpi *m = calloc(1, sizeof *m);
    if (!m)
        return ACT_ENOMEM;
    m->n = size - 1;
    m->dead = calloc((size_t)m->n, 1);
    m->exited = calloc((size_t)m->n, sizeof *m->exited);
    if (!m->dead || !m->exited || recv_post(&m->rx, MPI_ANY_SOURCE) != ACT_OK) {
        free(m->dead);
        free(m->exited);
        free(m);
        return ACT_ENOMEM;
    }
    *out = m;
    return ACT_OK;
}

static int t_size(void *impl) { return ((orch_mpi *)impl)->n; }

static int t_poll(void *impl, double timeout_s, orch_pool_event *ev, act_diag *diag)
{
    orch_mpi *m = impl;
    memset(ev, 0, sizeof *ev);
    double end = now_s() + timeout_s;
    long us = 20;
    for (;;) {
        if (m->n_exited > 0) {
            ev->kind = ORCH_POOL_EXITED;
            ev->worker = m->exited[0];
            ev->status = 9;   /* as waitpid would say for SIGKILL: the rank is given up */
            memmove(m->exited, m->exited + 1, (size_t)--m->n_exited * sizeof *m->exited);
            return ACT_OK;
        }
        sends_reap(&m->tx);
        int done = 0;
        MPI_Status status;
        int rc = MPI_Test(&m->rx.req, &done, &status);
        if (rc != MPI_SUCCESS)
            return mpi_fail(diag, rc, "MPI_Test");
        if (done) {
            int len = 0, src = status.MPI_SOURCE;
            MPI_Get_count(&status, MPI_BYTE, &len);
            orch_msg msg;
            act_diag d;
            int st = orch_msg_decode(m->rx.buf, (size_t)(len > 0 ? len : 0), &msg, &d);
            if (recv_post(&m->rx, MPI_ANY_SOURCE) != ACT_OK)
                return mpi_fail(diag, MPI_ERR_OTHER, "MPI_Irecv");
            int w = src - 1;
            if (w < 0 || w >= m->n || m->dead[w])
                continue;   /* a rank given up on: its late messages are not heard */
            ev->worker = w;
            if (st != ACT_OK) {
                if (diag)
                    snprintf(diag->msg, sizeof diag->msg, "rank %d: %.200s", src, d.msg);
                return ACT_EFORMAT;
            }
            ev->kind = ORCH_POOL_MESSAGE;
            ev->pid = msg.kind == ORCH_MSG_HELLO ? (pid_t)msg.pid : 0;
            ev->msg = msg;
            return ACT_OK;
        }
        double left = end - now_s();
        if (timeout_s >= 0 && left <= 0) {
            ev->kind = ORCH_POOL_TIMEOUT;
            ev->worker = -1;
            return ACT_OK;
        }
        sleep_us(timeout_s >= 0 && left * 1e6 < us ? (long)(left * 1e6) + 1 : us);
        us = backoff(us);
    }
}

static int t_send(void *impl, int i, const orch_msg *msg)
{
    orch_mpi *m = impl;
    if (i < 0 || i >= m->n)
        return ACT_EINVAL;
    if (m->dead[i])
        return ACT_EIO;
    return sends_post(&m->tx, COORD_SENDS_MAX, i + 1, msg);
}

static void t_kill(void *impl, int i)
{
    orch_mpi *m = impl;
    if (i < 0 || i >= m->n || m->dead[i])
        return;
    m->dead[i] = 1;
    m->exited[m->n_exited++] = i;
}

static int t_respawn(void *impl, int i, act_diag *diag)
{
    (void)impl;
    if (diag)
        snprintf(diag->msg, sizeof diag->msg, "an MPI rank (worker %d) is not replaced", i);
    return ACT_EUNSUPPORTED;
}

orch_transport orch_mpi_transport(orch_mpi *m)
{
    orch_transport t = { "mpi", m, t_size, t_poll, t_send, t_kill, t_respawn };
    return t;
}

void orch_mpi_free(orch_mpi *m, double grace_s)
{
    if (!m)
        return;
    orch_msg stop = orch_msg_init(ORCH_MSG_STOP);
    int lost = 0;
    for (int i = 0; i < m->n; i++)
        lost += m->dead[i];
    static char fin[2];
    fin[0] = lost ? 0 : 1;   /* 1: finalize (every rank is there to) */
    MPI_Request r = MPI_REQUEST_NULL;
    for (int i = 0; i < m->n; i++)
        if (!m->dead[i]) {
            ACT_IGNORE(sends_post(&m->tx, COORD_SENDS_MAX, i + 1, &stop));
            if (MPI_Isend(fin, 1, MPI_BYTE, i + 1, TAG_FIN, MPI_COMM_WORLD, &r) == MPI_SUCCESS)
                MPI_Request_free(&r);
        }
    g_finalize_ok = !lost;
    sends_drain(&m->tx, grace_s);
    recv_cancel(&m->rx);
    free(m->dead);
    free(m->exited);
    free(m);
}

// ----------------------------------------------------------------------------
// a worker rank: the channel to rank 0

enum { WORKER_SENDS_MAX = 64 };

typedef struct wchan {
    recv_slot  rx;
    int        ready;       /* rx holds a message */
    MPI_Status status;
    sends      tx;
    double     send_timeout_s;
} wchan;

static int ch_wait(void *impl, double timeout_s)
{
    wchan *c = impl;
    double end = now_s() + timeout_s;
    long us = 20;
    while (!c->ready) {
        int done = 0;
        if (MPI_Test(&c->rx.req, &done, &c->status) != MPI_SUCCESS)
            return -1;
        if (done) {
            c->ready = 1;
            break;
        }
        sends_reap(&c->tx);
        double left = end - now_s();
        if (timeout_s >= 0 && left <= 0)
            return 0;
        sleep_us(timeout_s >= 0 && left * 1e6 < us ? (long)(left * 1e6) + 1 : us);
        us = backoff(us);
    }
    return 1;
}

static int ch_recv(void *impl, orch_msg *m, act_diag *diag)
{
    wchan *c = impl;
    if (ch_wait(c, -1.0) != 1)
        return ACT_EIO;
    int len = 0;
    MPI_Get_count(&c->status, MPI_BYTE, &len);
    int st = orch_msg_decode(c->rx.buf, (size_t)(len > 0 ? len : 0), m, diag);
    c->ready = 0;
    if (recv_post(&c->rx, 0) != ACT_OK)
        return ACT_EIO;
    return st;
}

static int ch_send(void *impl, const orch_msg *m)
{
    wchan *c = impl;
    double end = now_s() + c->send_timeout_s;
    long us = 20;
    for (;;) {
        int st = sends_post(&c->tx, WORKER_SENDS_MAX, 0, m);
        if (st != ACT_EIO || now_s() >= end)
            return st;   /* ACT_EIO here: every slot still in flight, the coordinator gone */
        sleep_us(us);
        us = backoff(us);
    }
}

int orch_mpi_channel_new(orch_channel *ch, double send_timeout_s, act_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
    if (!ch || !g_inited || !(send_timeout_s >= 0))
        return ACT_EINVAL;
    memset(ch, 0, sizeof *ch);
    wchan *c = calloc(1, sizeof *c);
    if (!c)
        return ACT_ENOMEM;
    c->send_timeout_s = send_timeout_s;
    g_finalize_ok = 0;   /* until rank 0 says so (orch_mpi_channel_free) */
    if (recv_post(&c->rx, 0) != ACT_OK) {
        free(c);
        return mpi_fail(diag, MPI_ERR_OTHER, "MPI_Irecv");
    }
    ch->impl = c;
    ch->wait = ch_wait;
    ch->recv = ch_recv;
    ch->send = ch_send;
    return ACT_OK;
}

void orch_mpi_channel_free(orch_channel *ch, double grace_s)
{
    if (!ch || !ch->impl)
        return;
    wchan *c = ch->impl;
    /* rank 0 says after its stop whether every rank finalizes */
    char fin = 0;
    MPI_Request r;
    if (MPI_Irecv(&fin, 1, MPI_BYTE, 0, TAG_FIN, MPI_COMM_WORLD, &r) == MPI_SUCCESS) {
        double end = now_s() + grace_s;
        long us = 20;
        int done = 0;
        while (MPI_Test(&r, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done &&
               now_s() < end) {
            sleep_us(us);
            us = backoff(us);
        }
        if (!done) {
            MPI_Cancel(&r);
            MPI_Wait(&r, MPI_STATUS_IGNORE);
        }
        g_finalize_ok = done && fin == 1;
    }
    sends_drain(&c->tx, grace_s);
    recv_cancel(&c->rx);
    free(c);
    memset(ch, 0, sizeof *ch);
}

#endif /* ACTLAB_MPI */
