/* proto.h -- the messages between the search coordinator and its workers, transport-neutral:
 * the same bytes go through a pipe to a local worker process or in one MPI message.
 *
 * A message is a kind and its fields as text, one "key=value" line each ("task\ntrial=12\n
 * fidelity=proxy\nseed=3\nexpr=max(x, sigmoid(x))\n"); doubles are written with 17 significant
 * digits, so they come back bit for bit. On a byte stream each message is framed by its length,
 * 4 bytes little-endian, at most ORCH_MSG_MAX. Messages carry ids, the fidelity's name, the seed
 * and the expression, never data or weights: a worker loads its data once (docs/search.md,
 * "Workers").
 *
 * Decoding is strict: an unknown kind, an unknown or repeated key, a missing required field, a
 * value out of range or a field of another kind is ACT_EFORMAT with diag naming it, so that a
 * mismatched peer (another protocol version) is an error, not a silent misreading. The library
 * part of actlab is not used beyond act_status and act_diag; nothing here prints or exits.
 */
#ifndef ACTLAB_ORCH_PROTO_H
#define ACTLAB_ORCH_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "actlab/status.h"

#define ORCH_PROTO_VERSION 2   /* 2: task.test */
#define ORCH_MSG_MAX       8192        /* bytes of one encoded message */
#define ORCH_EXPR_MAX      2048        /* bytes of an expression, with its NUL */

/* X(ID, name, direction) -- the message kinds. */
#define ORCH_MSG_LIST(X)                                                                       \
    X(HELLO,     "hello",     "worker -> coordinator: pid, version; sent once at start")      \
    X(TASK,      "task",      "coordinator -> worker: trial, fidelity, seed, expr, test")     \
    X(HEARTBEAT, "heartbeat", "worker -> coordinator: trial, epoch, loss; while training")    \
    X(RESULT,    "result",    "worker -> coordinator: trial, outcome and the figures")        \
    X(KEEPALIVE, "keepalive", "coordinator -> worker: the coordinator is alive")              \
    X(STOP,      "stop",      "coordinator -> worker: finish and exit")

typedef enum orch_msg_kind {
#define X(ID, name, help) ORCH_MSG_##ID,
    ORCH_MSG_LIST(X)
#undef X
    ORCH_MSG_COUNT
} orch_msg_kind;

/* X(ID, name) -- how a trial ended, as a worker reports it. FAILED: the candidate failed
 * (diverged, non-finite, refused parameters): a terminal result with the floor reward, never
 * retried. ERROR: the worker could not run the trial (bad expression for this build, out of
 * memory, data missing): an infrastructure failure, retried elsewhere up to a limit. */
#define ORCH_OUTCOME_LIST(X) X(OK, "ok") X(FAILED, "failed") X(ERROR, "error")

typedef enum orch_outcome {
#define X(ID, name) ORCH_OUTCOME_##ID,
    ORCH_OUTCOME_LIST(X)
#undef X
    ORCH_OUTCOME_COUNT
} orch_outcome;

typedef struct orch_msg {
    orch_msg_kind kind;
    int64_t  trial;                  /* task, heartbeat, result: >= 1 */
    /* hello */
    int64_t  pid;
    int      version;                /* ORCH_PROTO_VERSION */
    /* task */
    char     fidelity[32];           /* a fidelity's name: [a-z0-9_-]+ */
    uint64_t seed;
    char     expr[ORCH_EXPR_MAX];    /* no newline */
    int      test;                   /* 1: also evaluate the test set (reported, never the
                                        reward: finalize); 0: validation only (a search) */
    /* heartbeat */
    int      epoch;                  /* >= 0 */
    double   loss;
    /* result */
    orch_outcome outcome;
    double   val_acc, test_acc;      /* NaN when not measured */
    double   train_loss, wall_s;
    int      epochs;
    char     error[256];             /* FAILED / ERROR: why (no newline); "" for OK */
} orch_msg;

const char *orch_msg_name(orch_msg_kind k);          /* "unknown" if out of range */
const char *orch_outcome_name(orch_outcome o);

/* A message of kind k with every field at its neutral value (trial 0, NaN figures, ""). */
orch_msg orch_msg_init(orch_msg_kind k);

/* The text of m into buf (cap bytes, not NUL-terminated), its length in *len. ACT_EINVAL for a
 * field the kind requires that is invalid (trial < 1, a newline in a string, a bad fidelity
 * name), ACT_ELIMIT when it does not fit in cap (or ORCH_MSG_MAX). */
ACT_NODISCARD int orch_msg_encode(const orch_msg *m, char *buf, size_t cap, size_t *len);

/* Parses len bytes (orch_msg_encode's form) into *m. ACT_EFORMAT with diag (may be NULL) naming
 * the line and what is wrong. */
ACT_NODISCARD int orch_msg_decode(const char *buf, size_t len, orch_msg *m, act_diag *diag);

/* Blocking framed I/O on a file descriptor (a pipe or socket), restarting on EINTR and partial
 * transfers. write: ACT_EIO with errno kept (EPIPE when the peer is gone; the caller ignores
 * SIGPIPE). read: ACT_OK with a message; ACT_ENOTFOUND at a clean end of stream (EOF before any
 * byte of a frame); ACT_EIO on a read error or EOF inside a frame; ACT_EFORMAT for a frame
 * longer than ORCH_MSG_MAX or a payload that does not decode. */
ACT_NODISCARD int orch_msg_write(int fd, const orch_msg *m);
ACT_NODISCARD int orch_msg_read(int fd, orch_msg *m, act_diag *diag);

/* Incremental reading for a coordinator that polls many descriptors: feed the bytes read()
 * returned, then take whole messages out. One per peer; zero-initialise it. */
typedef struct orch_reader {
    unsigned char buf[4 + ORCH_MSG_MAX];
    size_t        have;
} orch_reader;

/* Appends n bytes. ACT_ELIMIT if they do not fit (the caller reads at most
 * orch_reader_room() bytes at a time). */
ACT_NODISCARD int orch_reader_feed(orch_reader *r, const void *bytes, size_t n);
size_t orch_reader_room(const orch_reader *r);
/* The next whole message: ACT_OK and *m; ACT_ENOTFOUND when no whole frame is buffered yet;
 * ACT_EFORMAT for a bad frame (the stream cannot be trusted after it: drop the peer). */
ACT_NODISCARD int orch_reader_next(orch_reader *r, orch_msg *m, act_diag *diag);

#endif
