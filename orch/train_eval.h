/* train_eval.h -- the evaluator a search worker runs (an orch_eval_fn, orch/worker.h): a task's
 * fidelity is looked up in the table (orch/fidelity.h); the synthetic row is scored by
 * orch_synthetic_eval, a real row is trained with act_run_train as `actlab train` would train it.
 *
 *     orch_train_ctx c;
 *     orch_train_ctx_init(&c);                       // data_dir NULL: act_data_open's default
 *     orch_worker_config w = { 0, 1, 600.0, orch_train_eval, &c };
 *     int rc = orch_worker_run(&w, &diag);
 *     orch_train_ctx_free(&c);
 *
 * Outcomes: OK with val_acc (the reward: validation accuracy after the last epoch), test_acc
 * (reported only), train_loss (the last epoch's mean), epochs and wall_s (the training run,
 * without the first trial's data loading). FAILED, the candidate's fault and never retried:
 * training diverged (ACT_EDIVERGED), its parameters left their domain (ACT_ERANGE), a non-finite
 * validation accuracy, or the fidelity's time cap ("time cap of N s exceeded"). ERROR, the
 * worker's fault: an unknown fidelity, an expression that does not parse or compile, out of
 * memory, any other failure of the run. The data is read on the first real task and kept for
 * every later one. While training, a heartbeat goes out at most once a second (the first at the
 * first batch); when it cannot be sent the coordinator is gone, and the trial stops. Nothing
 * here prints or exits; a context serves one worker (one thread).
 */
#ifndef ACTLAB_ORCH_TRAIN_EVAL_H
#define ACTLAB_ORCH_TRAIN_EVAL_H

#include "actlab/nn.h"
#include "fidelity.h"
#include "worker.h"

typedef struct orch_train_ctx {
    const char *data_dir;      /* NULL: the default search path act_data_open uses */
    int         threads;       /* per trial (1) */
    int         synthetic_ms;  /* for the synthetic fidelity: passed to orch_synthetic_eval */
    const char *ckpt_dir;      /* ASHA: where a candidate's run is checkpointed between rungs
                                  (NULL: every rung trains from scratch, the same numbers) */
    size_t      max_batches;   /* tests and benchmarks only: > 0 stops every epoch after this
                                  many batches (act_train_config.max_batches); 0: off. A trial
                                  run so is not the fidelity's trial */
    /* private: set by the evaluator */
    int         loads;         /* times the data was read (once per worker: tests check it) */
    int         resumed;       /* epochs the last trial took from a checkpoint (ASHA) */
    int         loaded;        /* train and test hold the data */
    act_dataset train, test;
} orch_train_ctx;

/* Zeroes c, threads 1; the data is not read until the first real task. */
void orch_train_ctx_init(orch_train_ctx *c);
/* Frees the data; c can be used again (it will read the data again). NULL is a no-op. */
void orch_train_ctx_free(orch_train_ctx *c);

/* The orch_eval_fn (ctx: an orch_train_ctx). Returns ACT_OK with result's outcome set (see the
 * header comment), or, when the worker cannot go on: the status of reading the data (ACT_EIO,
 * ACT_EFORMAT, ...; result->error says why), ACT_EIO when a heartbeat could not be sent (the
 * coordinator is gone), ACT_EINVAL for a NULL argument. w may be NULL (no heartbeats) only
 * while synthetic_ms is 0, as orch_synthetic_eval needs a worker to sleep with heartbeats. */
ACT_NODISCARD int orch_train_eval(orch_worker *w, const orch_msg *task, orch_msg *result,
                                  void *ctx);

/* orch_train_eval at fidelity f instead of the row task->fidelity names (task->fidelity is not
 * read): for tests and benchmarks that need a row the table does not hold (a tiny time cap, a
 * huge learning rate). */
ACT_NODISCARD int orch_train_eval_at(orch_worker *w, const orch_fidelity *f,
                                     const orch_msg *task, orch_msg *result, orch_train_ctx *c);

/* orch_train_eval_at stopped after epoch stop (1..f->epochs) of the full run: an ASHA rung
 * ("NAME-eK" names, orch_fidelity_rung). With c->ckpt_dir, it continues the candidate's
 * checkpoint from an earlier rung and leaves one for the next (removed at the top rung). */
ACT_NODISCARD int orch_train_eval_rung(orch_worker *w, const orch_fidelity *f, int stop,
                                       const orch_msg *task, orch_msg *result,
                                       orch_train_ctx *c);

#endif
