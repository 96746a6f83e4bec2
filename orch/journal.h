/* journal.h -- the search's durable journal: one SQLite file (WAL, synchronous=FULL) holding every
 * candidate, strategy proposal, trial, lease, result, strategy state and event of one search, so
 * that a coordinator killed at any moment resumes from what it committed. Part of the
 * orchestration component (orch/, libactlab_orch.a), which the CLI links with SQLite; the
 * library (libactlab) knows nothing of it.
 *
 *     orch_journal *j;  act_diag d;
 *     if (orch_journal_create("s.journal", cfg_text, cfg_hash, &j, &d) != ACT_OK) ...  // d.msg
 *     orch_journal_begin(j);                      // BEGIN IMMEDIATE: group several operations
 *     orch_trial_finish(j, id, &result, &applied);  ... more results ...
 *     if (orch_journal_commit(j) != ACT_OK) ...  // rolled back; orch_journal_error(j) says why
 *     orch_journal_close(j);
 *
 * One writer: a writable journal holds an exclusive flock(2) on "PATH.lock" (which holds the
 * writer's pid), released by the kernel when the process ends, also by kill -9; a second writer
 * is refused, naming that pid. Read-only opens (status, top) take no lock and work while the
 * writer runs. An operation outside begin/commit is its own transaction (one fsync); inside, it
 * joins the caller's. A failed operation leaves the transaction open: call orch_journal_rollback
 * (safe when SQLite already rolled back, as it may on a full disk). The schema, the states and
 * the queries: docs/search.md, "Journal". Never put the journal on a network file system: WAL
 * needs shared memory between the processes of one host (sqlite.org/wal.html).
 *
 * Statuses: ACT_EINVAL (bad argument, an existing file on create, a state change that does not
 * apply, a constraint violated), ACT_ENOTFOUND (no such file, row or ticket), ACT_EFORMAT (not
 * an actlab journal, another schema version, corrupt), ACT_EIO (the system or SQLite refused:
 * a full disk, a size cap, permissions, the writer lock held), ACT_ENOMEM, ACT_ECANCELED (a
 * callback stopped an iteration). After a failure orch_journal_error(j) gives a one-line
 * message. An orch_journal is used by one thread at a time and never across fork(): a child
 * forked while a writer is open inherits the lock's descriptor (it is O_CLOEXEC, so exec drops
 * it). Nothing here prints or exits.
 */
#ifndef ACTLAB_ORCH_JOURNAL_H
#define ACTLAB_ORCH_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include "actlab/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ORCH_JOURNAL_APP_ID  0x41634a6c   /* PRAGMA application_id: "AcJl" */
#define ORCH_JOURNAL_VERSION 1            /* PRAGMA user_version: the schema's version */
#define ORCH_JOURNAL_FORMAT  "actlab-journal"   /* meta 'format' */

/* X(ID, name) -- a candidate's verdict (candidate.status). */
#define ORCH_CAND_STATUS_LIST(X)   \
    X(REJECTED,  "rejected")       \
    X(DUPLICATE, "duplicate")      \
    X(KEPT,      "kept")

typedef enum orch_cand_status {
#define X(ID, name) ORCH_CAND_##ID,
    ORCH_CAND_STATUS_LIST(X)
#undef X
    ORCH_CAND_COUNT
} orch_cand_status;

/* X(ID, name) -- a trial's state (trial.state). queued -> leased -> done | failed_candidate;
 * leased -> queued again (requeue) until max_attempts, then failed_infra. */
#define ORCH_TRIAL_STATE_LIST(X)              \
    X(QUEUED,           "queued")             \
    X(LEASED,           "leased")             \
    X(DONE,             "done")               \
    X(FAILED_CANDIDATE, "failed_candidate")   \
    X(FAILED_INFRA,     "failed_infra")

typedef enum orch_trial_state {
#define X(ID, name) ORCH_TRIAL_##ID,
    ORCH_TRIAL_STATE_LIST(X)
#undef X
    ORCH_TRIAL_COUNT
} orch_trial_state;

/* Static names; NULL out of range. */
const char *orch_cand_status_name(orch_cand_status s);
const char *orch_trial_state_name(orch_trial_state s);

typedef struct orch_journal orch_journal;   /* opaque: the SQLite connection, its prepared
                                               statements, the lock's descriptor */

// ----------------------------------------------------------------------------
// files and transactions

/* Creates a new journal at path for the run configuration config_text (act_run_config_write's
 * text) and its hash (act_run_config_hash), opened for writing, in *out (close with
 * orch_journal_close). Refuses a path that exists (ACT_EINVAL: never overwrites), takes the
 * writer lock, writes the schema and meta in one transaction. On failure *out is NULL, the
 * message is in d (may be NULL) and nothing is left at path. */
ACT_NODISCARD int orch_journal_create(const char *path, const char *config_text,
                                      uint64_t config_hash, orch_journal **out, act_diag *d);

/* Opens an existing journal, for writing (writable != 0: takes the writer lock) or reading.
 * Checks, before any write, that it is an SQLite file with actlab's application_id,
 * user_version ORCH_JOURNAL_VERSION, the tables and meta keys of this schema, and that PRAGMA
 * quick_check passes; a file that fails is refused (ACT_EFORMAT, d names the file and what is
 * wrong) and left unchanged. A read-only journal refuses every write (ACT_EIO). */
ACT_NODISCARD int orch_journal_open(const char *path, int writable, orch_journal **out,
                                    act_diag *d);

/* Rolls back an open transaction, finalizes, closes, releases the lock. NULL is a no-op. */
void orch_journal_close(orch_journal *j);

/* The message of the last failed call on j ("" if none); owned by j, valid until the next call. */
const char *orch_journal_error(const orch_journal *j);

/* BEGIN IMMEDIATE (takes SQLite's write lock now, so no later statement waits for it). */
ACT_NODISCARD int orch_journal_begin(orch_journal *j);
/* COMMIT: durable when it returns ACT_OK (the WAL is fsync'ed). On failure the transaction is
 * rolled back and the journal holds the last committed state. */
ACT_NODISCARD int orch_journal_commit(orch_journal *j);
/* ROLLBACK; ACT_OK also when no transaction is open. */
ACT_NODISCARD int orch_journal_rollback(orch_journal *j);

/* The run configuration from meta: borrowed, owned by j until orch_journal_close. */
const char *orch_journal_config_text(const orch_journal *j);
uint64_t    orch_journal_config_hash(const orch_journal *j);

/* Caps the database at max_bytes (rounded down to pages; PRAGMA max_page_count) for this
 * connection: a write past it fails with ACT_EIO as on a full disk. 0 lifts the cap. */
ACT_NODISCARD int orch_journal_set_max_size(orch_journal *j, uint64_t max_bytes);

// ----------------------------------------------------------------------------
// candidates: one row per canonical form

typedef struct orch_candidate {
    int64_t          id;              /* set by orch_candidate_add */
    const char      *canon;           /* the canonical form (act_space_proposal.canon): key */
    const char      *expr;            /* the text as first proposed */
    uint64_t         fp;              /* act_space_fingerprint */
    int              n_params;
    orch_cand_status status;
    const char      *reject_reason;   /* rejected: the filter's verdict; else NULL */
    int64_t          equiv_of;        /* duplicate: the kept candidate it equals; else 0 */
} orch_candidate;

/* The candidate with canonical form canon into *out (strings borrowed from j until its next
 * call), or ACT_ENOTFOUND. */
ACT_NODISCARD int orch_candidate_find(orch_journal *j, const char *canon, orch_candidate *out);
/* The candidate with id. */
ACT_NODISCARD int orch_candidate_get(orch_journal *j, int64_t id, orch_candidate *out);
/* Inserts c (c->id ignored) and writes its id into *id. ACT_EINVAL if canon is taken or
 * equiv_of names no candidate. */
ACT_NODISCARD int orch_candidate_add(orch_journal *j, const orch_candidate *c, int64_t *id);

/* Calls fn for every candidate of status (or all: ORCH_CAND_COUNT) in id order; the strings
 * live during the call (for rebuilding a dedup index on resume). A non-zero return from fn
 * stops: ACT_ECANCELED. No other call on j from inside fn. */
ACT_NODISCARD int orch_candidate_each(orch_journal *j, orch_cand_status status,
                                      int (*fn)(void *ctx, const orch_candidate *c), void *ctx);

// ----------------------------------------------------------------------------
// proposals: every strategy proposal, repeats included

typedef struct orch_proposal {
    uint64_t       ticket;        /* the strategy's ticket: key */
    int64_t        candidate_id;
    uint64_t       parent_ticket; /* evolution's parent; 0: none */
    const char    *mutation;      /* act_strategy_mutation_name; NULL: none */
    double         logp;
    const uint8_t *tokens;        /* n_tokens bytes (may be NULL when 0) */
    int            n_tokens;
    int64_t        trial_id;      /* the trial whose result is its reward; 0: none (rejected) */
    int            has_reward;    /* reward known (a rejected candidate's floor, a reused result) */
    double         reward;
} orch_proposal;

/* Inserts p. ACT_EINVAL for a ticket already journaled, an unknown candidate, trial or parent,
 * a non-finite reward. */
ACT_NODISCARD int orch_proposal_add(orch_journal *j, const orch_proposal *p);
/* Sets the reward of a proposal that waits for one; ACT_ENOTFOUND if none with ticket waits. */
ACT_NODISCARD int orch_proposal_set_reward(orch_journal *j, uint64_t ticket, double reward);
/* Calls fn for every proposal without a reward, in ticket order: those of trial_id, or all when
 * trial_id is 0 (on resume: to match the strategy's pending tickets). As orch_candidate_each. */
ACT_NODISCARD int orch_proposal_waiting(orch_journal *j, int64_t trial_id,
                                        int (*fn)(void *ctx, const orch_proposal *p), void *ctx);

/* Calls fn for every proposal in ticket order (has_reward and reward set), e.g. the learning
 * curve of a strategy. As orch_candidate_each. */
ACT_NODISCARD int orch_proposal_each(orch_journal *j,
                                     int (*fn)(void *ctx, const orch_proposal *p), void *ctx);

// ----------------------------------------------------------------------------
// trials: one training of a candidate at a fidelity and seed

typedef struct orch_result {
    orch_trial_state state;       /* ORCH_TRIAL_DONE or ORCH_TRIAL_FAILED_CANDIDATE */
    double           val_acc;     /* non-finite values are stored as NULL */
    double           test_acc;
    double           train_loss;
    int              epochs;
    double           wall_s;
    const char      *error;       /* failed_candidate: why (NULL: none) */
} orch_result;

typedef struct orch_trial {
    int64_t          id;
    int64_t          candidate_id;
    const char      *canon, *expr;  /* the candidate's (borrowed, as orch_candidate_find) */
    const char      *fidelity;
    uint64_t         seed;
    orch_trial_state state;
    const char      *owner;         /* NULL unless leased or finished */
    double           lease_expiry;  /* unix seconds; NAN when not leased */
    int              attempts;      /* requeues so far */
    double           started, finished;   /* unix seconds; NAN until set */
    orch_result      result;        /* when done or failed_candidate; NAN for missing values */
} orch_trial;

/* The trial (candidate_id, fidelity, seed): an existing one (*is_new = 0), or a new queued one
 * (*is_new = 1); its id in *id. ACT_EINVAL for an unknown candidate. */
ACT_NODISCARD int orch_trial_add(orch_journal *j, int64_t candidate_id, const char *fidelity,
                                 uint64_t seed, int64_t *id, int *is_new);
/* The trial with id (strings borrowed from j until its next call). */
ACT_NODISCARD int orch_trial_get(orch_journal *j, int64_t id, orch_trial *out);
/* Calls fn for every trial at fidelity (NULL: all) in id order, strings valid during the call.
 * As orch_candidate_each. */
ACT_NODISCARD int orch_trial_each(orch_journal *j, const char *fidelity,
                                  int (*fn)(void *ctx, const orch_trial *t), void *ctx);
/* The ids of up to cap queued trials in id order into ids[0..*n). */
ACT_NODISCARD int orch_trial_next(orch_journal *j, int64_t *ids, size_t cap, size_t *n);
/* The same among the trials at fidelity (NULL: any). */
ACT_NODISCARD int orch_trial_next_at(orch_journal *j, const char *fidelity, int64_t *ids,
                                     size_t cap, size_t *n);
/* Leases a queued trial to owner until expiry (unix seconds); started = now. ACT_EINVAL if the
 * trial is not queued. */
ACT_NODISCARD int orch_trial_lease(orch_journal *j, int64_t id, const char *owner,
                                   double expiry);
/* Records r for trial id. Idempotent: a trial that already has a result (done or
 * failed_candidate) keeps it and *applied = 0; otherwise (queued, leased, failed_infra: a late
 * result is accepted) *applied = 1. ACT_EINVAL for r->state not a result state. */
ACT_NODISCARD int orch_trial_finish(orch_journal *j, int64_t id, const orch_result *r,
                                    int *applied);
/* Returns a leased trial to the queue with attempts + 1, or to failed_infra when attempts + 1
 * >= max_attempts; *state is the state after the call (unchanged when it was not leased: a
 * result that came first wins). */
ACT_NODISCARD int orch_trial_requeue(orch_journal *j, int64_t id, int max_attempts,
                                     orch_trial_state *state);
/* orch_trial_requeue for every leased trial (on resume): counts into *n_queued, *n_failed. */
ACT_NODISCARD int orch_trial_requeue_leased(orch_journal *j, int max_attempts,
                                            size_t *n_queued, size_t *n_failed);
/* Returns every leased trial to the queue without counting an attempt (the coordinator stopped
 * or died, not the trial's worker: on a clean stop and on resume); the number in *n. */
ACT_NODISCARD int orch_trial_release_leased(orch_journal *j, size_t *n);
/* The ids of up to cap leased trials with lease_expiry < now, in id order. */
ACT_NODISCARD int orch_trial_expired(orch_journal *j, double now, int64_t *ids, size_t cap,
                                     size_t *n);
/* The number of trials in each state, at fidelity (NULL: all). */
ACT_NODISCARD int orch_trial_counts(orch_journal *j, const char *fidelity,
                                    int64_t counts[ORCH_TRIAL_COUNT]);

/* Finished trials (done or failed_candidate) at fidelity (NULL: all): how many, the earliest
 * start and latest finish (unix seconds) and the sum of their wall times (NaN when none). */
typedef struct orch_trial_times_t {
    int64_t n;
    double  first_started, last_finished, sum_wall_s;
} orch_trial_times_t;
ACT_NODISCARD int orch_trial_times(orch_journal *j, const char *fidelity,
                                   orch_trial_times_t *out);

/* One leaderboard row: a kept candidate's done trials at one fidelity. */
typedef struct orch_top_row {
    int64_t     candidate_id;
    const char *canon, *expr;
    int64_t     n_trials;         /* done trials with a val_acc (seeds) */
    double      val_acc;          /* their mean */
    double      val_min, val_max; /* the spread over seeds */
    double      test_acc;         /* mean over those with one; NAN if none */
    double      val_sd;           /* sample standard deviation over seeds; NAN below 2 */
    int64_t     n_test;           /* trials with a test_acc */
    double      test_sd;
} orch_top_row;

/* Calls fn for the k best kept candidates at fidelity: by mean val_acc, highest first, ties by
 * candidate id (lowest first), so the order is deterministic. As orch_candidate_each. */
ACT_NODISCARD int orch_top(orch_journal *j, const char *fidelity, size_t k,
                           int (*fn)(void *ctx, const orch_top_row *r), void *ctx);

// ----------------------------------------------------------------------------
// strategy states and events

/* Stores act_strategy_save's bytes as version max+1 (into *version, may be NULL), then deletes
 * all but the newest keep versions (0: keeps all). */
ACT_NODISCARD int orch_strategy_put(orch_journal *j, const uint8_t *buf, size_t len, size_t keep,
                                    int64_t *version);
/* The newest state: a copy in *buf (*len bytes, caller frees with free()), its version.
 * ACT_ENOTFOUND if none was stored. */
ACT_NODISCARD int orch_strategy_get(orch_journal *j, uint8_t **buf, size_t *len,
                                    int64_t *version);

/* Appends an event (kind: a short word; detail: free text, may be NULL) stamped with now. */
ACT_NODISCARD int orch_event_add(orch_journal *j, const char *kind, const char *detail);

#ifdef __cplusplus
}
#endif
#endif
