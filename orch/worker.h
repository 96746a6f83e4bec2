/* worker.h -- the worker side of a search (docs/search.md, "Workers"): one loop that any
 * transport runs over a pair of descriptors (a local worker process: its stdin and stdout). It
 * says hello, then answers each task with one result, sending heartbeats while a trial runs, and
 * exits on stop, at the end of its input (the coordinator is gone), or when the coordinator has
 * been silent for longer than the watchdog allows. The evaluation of a trial is a callback, so
 * the loop is the same for the synthetic fidelity (orch_synthetic_eval) and for training.
 */
#ifndef ACTLAB_ORCH_WORKER_H
#define ACTLAB_ORCH_WORKER_H

#include "proto.h"

/* Sends a heartbeat for the running trial (the evaluator calls it, e.g. once a second), after
 * taking what the coordinator sent meanwhile: ACT_OK; ACT_ECANCELED when it said stop (the
 * search ended early: the evaluator should stop, the loop then ends with ACT_OK); ACT_EIO
 * when the coordinator cannot be reached (the evaluator should stop). */
typedef struct orch_worker orch_worker;
ACT_NODISCARD int orch_worker_heartbeat(orch_worker *w, int epoch, double loss);

/* Evaluates task into result (its kind and trial are set by the loop; the evaluator fills the
 * outcome and figures). Returns ACT_OK when result holds an outcome (OK, FAILED or ERROR); any
 * other status ends the loop with it (the worker cannot go on, e.g. its data is unreadable). */
typedef int orch_eval_fn(orch_worker *w, const orch_msg *task, orch_msg *result, void *ctx);

/* Where a worker's messages come from and go to when they are not a pair of descriptors (an
 * MPI rank: orch/mpi.h). wait: 1 when a message is ready (or the input is closed), 0 after
 * timeout_s (< 0: wait forever), -1 on an error; recv: as orch_msg_read; send: as
 * orch_msg_write. */
typedef struct orch_channel {
    void *impl;
    int (*wait)(void *impl, double timeout_s);
    int (*recv)(void *impl, orch_msg *m, act_diag *diag);
    int (*send)(void *impl, const orch_msg *m);
} orch_channel;

typedef struct orch_worker_config {
    int           in_fd, out_fd;     /* messages from / to the coordinator (without chan) */
    double        silence_s;         /* exit after this long without any message (0: never) */
    orch_eval_fn *eval;
    void         *ctx;
    const orch_channel *chan;        /* NULL: in_fd and out_fd */
} orch_worker_config;

/* The loop. Returns ACT_OK after a stop message, ACT_ENOTFOUND at the end of the input,
 * ACT_ECANCELED when the watchdog fired, ACT_EFORMAT for a message it cannot read or one a
 * worker does not take (with diag), ACT_EIO when a write fails, or the evaluator's status. */
ACT_NODISCARD int orch_worker_run(const orch_worker_config *cfg, act_diag *diag);

/* The synthetic fidelity: no training. The score of expr is 0.1 + 0.85 / (1 + mse) for the mse
 * of f (betas at their initial values) against x*sigmoid(x) on 201 points of [-5, 5], plus a
 * seeded perturbation of at most 0.002 that stands in for training noise: a closed form that
 * ranks functions plausibly, for tests and demonstrations of the orchestration, and labelled
 * "synthetic" wherever it is reported. Non-finite values make the outcome FAILED (the
 * candidate failed); an expression that does not parse or compile is an ERROR. ctx may point to
 * an int of milliseconds the evaluation should take (it sleeps, sending a heartbeat every
 * 100 ms), so tests can kill workers mid-trial. */
ACT_NODISCARD int orch_synthetic_eval(orch_worker *w, const orch_msg *task, orch_msg *result,
                                      void *ctx);

#endif
