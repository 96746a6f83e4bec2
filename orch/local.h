/* local.h -- the embedded transport of a search: N worker processes on this machine, each the
 * program argv names (`actlab search worker`) started with fork + exec and spoken to over two
 * pipes with the messages of proto.h. The coordinator polls the pool for events: a message from
 * worker i, or the death of worker i (its exit status: detected at once, as its end of the pipe
 * closes, and reaped with waitpid); it sends tasks, replaces dead workers and kills stragglers.
 * Leases, requeues and the journal are the coordinator's, not the pool's.
 *
 * exec, not a bare fork: a forked child would inherit the coordinator's descriptors (the
 * journal's lock among them) and keep them alive after the coordinator dies. The pool ignores
 * SIGPIPE for the process (a write to a dead worker is an error, not a signal). Nothing here
 * prints or exits; one thread uses a pool.
 */
#ifndef ACTLAB_ORCH_LOCAL_H
#define ACTLAB_ORCH_LOCAL_H

#include <sys/types.h>

#include "proto.h"

#define ORCH_POOL_MAX 256

typedef struct orch_pool orch_pool;

/* X(ID) -- what orch_pool_poll reports. */
typedef enum orch_pool_event_kind {
    ORCH_POOL_MESSAGE,   /* worker i sent msg */
    ORCH_POOL_EXITED,    /* worker i is gone: status as waitpid gave it (WIFEXITED, ...);
                            a message it could not finish is dropped */
    ORCH_POOL_TIMEOUT,   /* nothing within the timeout */
} orch_pool_event_kind;

typedef struct orch_pool_event {
    orch_pool_event_kind kind;
    int      worker;     /* 0..n-1 */
    pid_t    pid;
    int      status;     /* EXITED */
    orch_msg msg;        /* MESSAGE */
} orch_pool_event;

/* Starts n workers (1..ORCH_POOL_MAX) running argv[0] with argv (argv[0] a path; NULL-ended);
 * *out owns them. ACT_EINVAL for bad arguments, ACT_EIO when a pipe or fork fails (diag says
 * which; the workers already started are stopped). A program that cannot be executed shows as
 * an EXITED event with exit status 127. */
ACT_NODISCARD int orch_pool_new(int n, char *const argv[], orch_pool **out, act_diag *diag);

/* Stops every worker: sends stop, closes its pipes, waits up to grace_s for it to exit, then
 * SIGKILLs and reaps it. NULL is a no-op. */
void orch_pool_free(orch_pool *p, double grace_s);

int   orch_pool_size(const orch_pool *p);
pid_t orch_pool_pid(const orch_pool *p, int i);       /* 0 while worker i is dead */

/* The next event, waiting up to timeout_s (0: do not wait; < 0: forever). Messages already
 * buffered come first, in worker order. ACT_OK with *ev; ACT_EFORMAT when worker i sent bytes
 * that are not a message (ev->worker says which: kill and replace it); ACT_EIO when poll
 * fails. */
ACT_NODISCARD int orch_pool_poll(orch_pool *p, double timeout_s, orch_pool_event *ev,
                                 act_diag *diag);

/* Sends m to worker i. ACT_EIO when it is dead or its pipe is closed (an EXITED event follows);
 * ACT_EINVAL for a bad i or a message that does not encode. */
ACT_NODISCARD int orch_pool_send(orch_pool *p, int i, const orch_msg *m);

/* SIGKILLs worker i (a straggler, or one that sent garbage); its EXITED event follows. */
void orch_pool_kill(orch_pool *p, int i);

/* Starts a new worker in slot i after its EXITED event. ACT_EINVAL if worker i is alive. */
ACT_NODISCARD int orch_pool_respawn(orch_pool *p, int i, act_diag *diag);

#endif
