/* coord.h -- the search's coordinator: the loop that turns a strategy's proposals into trials,
 * hands them to workers over a transport, journals every result with the strategy's state in
 * the same transaction, and survives the death of workers (re-queued, replaced) and of itself
 * (resume from the journal). docs/search.md, "Coordinator", says what each step does and why.
 *
 *     orch_transport t = orch_pool_transport(pool);
 *     orch_coord_opts o = { .transport = &t, .stop = &sigint_flag };
 *     orch_coord_summary s;
 *     int st = orch_coord_run(journal, &cfg, &o, &s, &diag);
 *
 * The coordinator is the journal's only writer; workers never see it. Every proposal goes
 * through one pipeline: canonical form -> degenerate filters -> functional dedup (act_space_*)
 * -> the journal, where a rejected candidate gets the floor reward without training, a
 * duplicate of a finished candidate reuses its result and a duplicate of a queued or running
 * one waits for it. Nothing here prints or exits; progress goes to a callback.
 */
#ifndef ACTLAB_ORCH_COORD_H
#define ACTLAB_ORCH_COORD_H

#include <signal.h>
#include <stdint.h>
#include "journal.h"
#include "local.h"
#include "search_config.h"

/* A transport: workers 0..size-1 that take messages and report events (a local process pool
 * here; MPI ranks in the same shape). respawn may return ACT_EUNSUPPORTED: the slot stays dead. */
typedef struct orch_transport {
    const char *name;                                  /* "local" */
    void       *impl;
    int  (*size)(void *impl);
    int  (*poll)(void *impl, double timeout_s, orch_pool_event *ev, act_diag *diag);
    int  (*send)(void *impl, int i, const orch_msg *m);
    void (*kill)(void *impl, int i);
    int  (*respawn)(void *impl, int i, act_diag *diag);
} orch_transport;

/* The local pool as a transport (borrows p). */
orch_transport orch_pool_transport(orch_pool *p);

/* X(ID, name) -- why a search stopped. */
#define ORCH_STOP_LIST(X)                                                  \
    X(NONE,        "running")                                              \
    X(BUDGET,      "budget reached")                                       \
    X(TIME,        "time budget reached")                                  \
    X(EXHAUSTED,   "space exhausted")                                      \
    X(NO_NEW,      "no new candidate in a long run of proposals")          \
    X(MAX_FAILED,  "max-failed reached")                                   \
    X(INTERRUPTED, "interrupted")                                          \
    X(ERROR,       "error")

typedef enum orch_stop_reason {
#define X(ID, name) ORCH_STOP_##ID,
    ORCH_STOP_LIST(X)
#undef X
    ORCH_STOP_COUNT
} orch_stop_reason;

const char *orch_stop_name(orch_stop_reason r);

/* Where a search stands (the callback's argument; counts are of the whole journal). */
typedef struct orch_progress {
    int64_t trials[ORCH_TRIAL_COUNT];   /* by state */
    int64_t proposals;                  /* strategy proposals journaled */
    int64_t rejected, duplicates;       /* candidates by verdict */
    int64_t this_run_done;              /* trials finished since this run started */
    double  elapsed_s;                  /* of this run */
    double  best_val;                   /* NaN until a trial is done */
    char    best_expr[256];
    /* the trial that just finished (finished != 0), for a per-trial log line */
    int     finished;
    int64_t trial;
    orch_trial_state state;
    double  val_acc, wall_s;
    char    expr[256], error[128];
} orch_progress;

typedef struct orch_coord_opts {
    orch_transport *transport;
    volatile sig_atomic_t *stop;    /* non-zero: stop now (Ctrl-C); may be NULL */
    void  (*progress)(void *user, const orch_progress *p);   /* after each finished trial and
                                       every tick_s; may be NULL */
    void   *user;
    double  tick_s;                 /* 0: 1 s */
    int     group_max;              /* results per journal transaction at most (0: 256) */
    double  keepalive_s;            /* 0: 5 s (workers watch for the coordinator's silence) */
} orch_coord_opts;

typedef struct orch_coord_summary {
    orch_stop_reason reason;
    int64_t          trials_done;   /* this run */
    int64_t          requeued;      /* trials re-queued after a worker's death or silence */
    int64_t          workers_replaced;
    double           elapsed_s;
} orch_coord_summary;

/* Runs (or resumes) the search cfg (checked; its canonical text must be the journal's, budget
 * and the other stop keys aside) on an open writable journal j until a stop condition: budget,
 * time budget, the strategy exhausted, max_failed, *o->stop, or an error. On a clean stop the
 * trials still running are abandoned and returned to the queue (they re-run on resume); the
 * journal is consistent at every commit, and after kill -9 at any moment a resume re-runs no
 * finished trial. Returns ACT_OK for every stop but an error (s->reason says which); ACT_EIO
 * when the journal refuses a write (disk full: the last committed state stays intact and
 * resumable), ACT_EFORMAT when the journal does not match the strategy state it holds, or
 * the status of a worker or transport failure that leaves no way on, with diag.
 */
ACT_NODISCARD int orch_coord_run(orch_journal *j, const orch_search_config *cfg,
                                 const orch_coord_opts *o, orch_coord_summary *s,
                                 act_diag *diag);

/* A fixed list of trials instead of a strategy (`actlab search finalize`): every expression
 * through the candidate pipeline, trained at fidelity with seeds 1..n_seeds. Idempotent: the
 * trials that exist are not trained again, so an interrupted finalize resumes. */
typedef struct orch_trial_plan {
    const char        *fidelity;
    const char *const *exprs;
    int                n_exprs;
    int                n_seeds;    /* 1..1000 */
    int64_t           *cand_ids;   /* out, n_exprs: the candidate whose trials stand for
                                      exprs[i] (the kept one it equals); 0 if rejected */
} orch_trial_plan;

/* orch_coord_run for plan: the journal's strategy is not touched, the stop keys of cfg apply
 * (its budget does not), only the plan's trials run. */
ACT_NODISCARD int orch_coord_run_plan(orch_journal *j, const orch_search_config *cfg,
                                      const orch_trial_plan *plan, const orch_coord_opts *o,
                                      orch_coord_summary *s, act_diag *diag);

#endif
