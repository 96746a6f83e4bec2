/* proto.c -- coordinator/worker messages (proto.h): text encoding, strict decoding, framing. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"

static const char *const msg_names[] = {
#define X(ID, name, help) [ORCH_MSG_##ID] = name,
    ORCH_MSG_LIST(X)
#undef X
};

static const char *const outcome_names[] = {
#define X(ID, name) [ORCH_OUTCOME_##ID] = name,
    ORCH_OUTCOME_LIST(X)
#undef X
};

const char *orch_msg_name(orch_msg_kind k)
{
    return (unsigned)k < ORCH_MSG_COUNT ? msg_names[k] : "unknown";
}

const char *orch_outcome_name(orch_outcome o)
{
    return (unsigned)o < ORCH_OUTCOME_COUNT ? outcome_names[o] : "unknown";
}

orch_msg orch_msg_init(orch_msg_kind k)
{
    orch_msg m;
    memset(&m, 0, sizeof m);
    m.kind = k;
    m.version = ORCH_PROTO_VERSION;
    m.val_acc = m.test_acc = m.train_loss = m.wall_s = m.loss = NAN;
    return m;
}

/* The fields, X(key, kinds mask, type, member): I64 / U64 / INT / DBL / STR / OUTCOME. A field
 * is written and required for the kinds in its mask. */
#define K(ID) (1u << ORCH_MSG_##ID)
#define ORCH_FIELD_LIST(X)                                                        \
    X("pid", K(HELLO), I64, pid)                                                  \
    X("version", K(HELLO), INT, version)                                          \
    X("trial", K(TASK) | K(HEARTBEAT) | K(RESULT), I64, trial)                    \
    X("fidelity", K(TASK), STR, fidelity)                                         \
    X("seed", K(TASK), U64, seed)                                                 \
    X("expr", K(TASK), STR, expr)                                                 \
    X("test", K(TASK), INT, test)                                                 \
    X("epoch", K(HEARTBEAT), INT, epoch)                                          \
    X("loss", K(HEARTBEAT), DBL, loss)                                            \
    X("outcome", K(RESULT), OUTCOME, outcome)                                     \
    X("val_acc", K(RESULT), DBL, val_acc)                                         \
    X("test_acc", K(RESULT), DBL, test_acc)                                       \
    X("train_loss", K(RESULT), DBL, train_loss)                                   \
    X("wall_s", K(RESULT), DBL, wall_s)                                           \
    X("epochs", K(RESULT), INT, epochs)                                           \
    X("error", K(RESULT), STR, error)

enum {
#define X(key, kinds, type, member) F_##member,
    ORCH_FIELD_LIST(X)
#undef X
    F_COUNT
};

typedef struct { char *p; size_t cap, n; int over; } obuf;

static void put(obuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(obuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->n, b->n < b->cap ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0 || b->n + (size_t)k >= b->cap)   /* vsnprintf needs room for its NUL too */
        b->over = 1;
    else
        b->n += (size_t)k;
}

static int fidelity_ok(const char *s)
{
    if (!s[0])
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static int has_newline(const char *s, size_t cap)
{
    return memchr(s, '\n', strnlen(s, cap)) != NULL || strnlen(s, cap) == cap;
}

int orch_msg_encode(const orch_msg *m, char *buf, size_t cap, size_t *len)
{
    if (!m || !buf || !len || (unsigned)m->kind >= ORCH_MSG_COUNT)
        return ACT_EINVAL;
    unsigned bit = 1u << m->kind;
    if ((bit & (K(TASK) | K(HEARTBEAT) | K(RESULT))) && m->trial < 1)
        return ACT_EINVAL;
    if ((bit & K(TASK)) && (!fidelity_ok(m->fidelity) || has_newline(m->expr, sizeof m->expr) ||
                            has_newline(m->fidelity, sizeof m->fidelity) || !m->expr[0]))
        return ACT_EINVAL;
    if ((bit & K(RESULT)) && ((unsigned)m->outcome >= ORCH_OUTCOME_COUNT ||
                              has_newline(m->error, sizeof m->error) || m->epochs < 0))
        return ACT_EINVAL;
    if ((bit & K(HEARTBEAT)) && m->epoch < 0)
        return ACT_EINVAL;
    char tmp[ORCH_MSG_MAX + 1];   /* + vsnprintf's NUL: a message is at most ORCH_MSG_MAX */
    obuf b = { tmp, sizeof tmp, 0, 0 };
    put(&b, "%s\n", msg_names[m->kind]);
#define W_I64(key, v) put(&b, "%s=%" PRId64 "\n", key, v)
#define W_U64(key, v) put(&b, "%s=%" PRIu64 "\n", key, v)
#define W_INT(key, v) put(&b, "%s=%d\n", key, v)
#define W_DBL(key, v) put(&b, "%s=%.17g\n", key, v)
#define W_STR(key, v) put(&b, "%s=%s\n", key, v)
#define W_OUTCOME(key, v) put(&b, "%s=%s\n", key, outcome_names[v])
#define X(key, kinds, type, member) \
    if ((kinds) & bit)              \
        W_##type(key, m->member);
    ORCH_FIELD_LIST(X)
#undef X
    if (b.over || b.n > cap)
        return ACT_ELIMIT;
    memcpy(buf, tmp, b.n);
    *len = b.n;
    return ACT_OK;
}

static int fail(act_diag *d, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(act_diag *d, int line, const char *fmt, ...)
{
    if (d) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->msg, sizeof d->msg, fmt, ap);
        va_end(ap);
        d->line = line;
    }
    return ACT_EFORMAT;
}

static int parse_i64(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno || x < lo || x > hi || *v == '+' || *v == ' ')
        return -1;
    *out = (int64_t)x;
    return 0;
}

static int parse_u64(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *end || errno || *v < '0' || *v > '9')
        return -1;
    *out = (uint64_t)x;
    return 0;
}

static int parse_dbl(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (!*v || *end || *v == ' ')   /* overflow gives inf, which is a valid value to carry */
        return -1;
    *out = x;
    return 0;
}

int orch_msg_decode(const char *buf, size_t len, orch_msg *m, act_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
    if (!buf || !m)
        return ACT_EINVAL;
    if (len > ORCH_MSG_MAX)
        return fail(diag, 0, "message of %zu bytes (at most %d)", len, ORCH_MSG_MAX);
    if (len == 0 || buf[len - 1] != '\n')
        return fail(diag, 0, "message does not end with a newline");
    if (memchr(buf, '\0', len))
        return fail(diag, 0, "message holds a NUL byte");
    const char *line = buf, *endbuf = buf + len;
    const char *nl = memchr(line, '\n', (size_t)(endbuf - line));
    size_t kl = (size_t)(nl - line);
    int kind = -1;
    for (int k = 0; k < ORCH_MSG_COUNT; k++)
        if (strlen(msg_names[k]) == kl && !memcmp(msg_names[k], line, kl))
            kind = k;
    if (kind < 0)
        return fail(diag, 1, "unknown message kind '%.*s'", (int)(kl < 40 ? kl : 40), line);
    *m = orch_msg_init((orch_msg_kind)kind);
    unsigned bit = 1u << kind;
    unsigned char seen[F_COUNT] = { 0 };
    char v[ORCH_EXPR_MAX];
    int ln = 1;
    for (line = nl + 1; line < endbuf; line = nl + 1) {
        ln++;
        nl = memchr(line, '\n', (size_t)(endbuf - line));
        const char *eq = memchr(line, '=', (size_t)(nl - line));
        if (!eq)
            return fail(diag, ln, "line %d: no '=' in '%.*s'", ln,
                        (int)(nl - line < 40 ? nl - line : 40), line);
        size_t keyl = (size_t)(eq - line), vl = (size_t)(nl - eq - 1);
        int f = -1, f_kinds = 0, i = 0;
#define X(key, kinds, type, member)                                             \
        if (f < 0 && strlen(key) == keyl && !memcmp(key, line, keyl))             \
            f = i, f_kinds = (int)(kinds);                                        \
        i++;
        ORCH_FIELD_LIST(X)
#undef X
        if (f < 0 || !((unsigned)f_kinds & bit))
            return fail(diag, ln, "line %d: %s key '%.*s' in a %s message", ln,
                        f < 0 ? "unknown" : "misplaced", (int)(keyl < 40 ? keyl : 40), line,
                        msg_names[kind]);
        if (seen[f]++)
            return fail(diag, ln, "line %d: repeated key '%.*s'", ln, (int)keyl, line);
        if (vl >= sizeof v)
            return fail(diag, ln, "line %d: value of %zu bytes", ln, vl);
        memcpy(v, eq + 1, vl);
        v[vl] = '\0';
        int bad = 0;
        int64_t i64;
        switch (f) {
        case F_pid: bad = parse_i64(v, 1, INT64_MAX, &m->pid); break;
        case F_version: bad = parse_i64(v, 0, 1 << 20, &i64); m->version = (int)i64; break;
        case F_trial: bad = parse_i64(v, 1, INT64_MAX, &m->trial); break;
        case F_fidelity:
            bad = vl >= sizeof m->fidelity || !fidelity_ok(v);
            if (!bad)
                memcpy(m->fidelity, v, vl + 1);
            break;
        case F_seed: bad = parse_u64(v, &m->seed); break;
        case F_expr:
            bad = vl == 0 || vl >= sizeof m->expr;
            if (!bad)
                memcpy(m->expr, v, vl + 1);
            break;
        case F_test: bad = parse_i64(v, 0, 1, &i64); m->test = (int)i64; break;
        case F_epoch: bad = parse_i64(v, 0, INT32_MAX, &i64); m->epoch = (int)i64; break;
        case F_loss: bad = parse_dbl(v, &m->loss); break;
        case F_outcome:
            bad = 1;
            for (int o = 0; o < ORCH_OUTCOME_COUNT; o++)
                if (!strcmp(v, outcome_names[o]))
                    m->outcome = (orch_outcome)o, bad = 0;
            break;
        case F_val_acc: bad = parse_dbl(v, &m->val_acc); break;
        case F_test_acc: bad = parse_dbl(v, &m->test_acc); break;
        case F_train_loss: bad = parse_dbl(v, &m->train_loss); break;
        case F_wall_s: bad = parse_dbl(v, &m->wall_s); break;
        case F_epochs: bad = parse_i64(v, 0, INT32_MAX, &i64); m->epochs = (int)i64; break;
        case F_error:
            bad = vl >= sizeof m->error;
            if (!bad)
                memcpy(m->error, v, vl + 1);
            break;
        default: bad = 1; break;
        }
        if (bad)
            return fail(diag, ln, "line %d: bad value for '%.*s': '%.40s'", ln, (int)keyl, line,
                        v);
    }
    int i = 0;
#define X(key, kinds, type, member)                                                    \
    if (((kinds) & bit) && !seen[i])                                                    \
        return fail(diag, 0, "%s message without '%s'", msg_names[kind], key);          \
    i++;
    ORCH_FIELD_LIST(X)
#undef X
    if (kind == ORCH_MSG_HELLO && m->version != ORCH_PROTO_VERSION)
        return fail(diag, 0, "protocol version %d (this build speaks %d)", m->version,
                    ORCH_PROTO_VERSION);
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// framing

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int orch_msg_write(int fd, const orch_msg *m)
{
    unsigned char frame[4 + ORCH_MSG_MAX];
    size_t n;
    int rc = orch_msg_encode(m, (char *)frame + 4, ORCH_MSG_MAX, &n);
    if (rc != ACT_OK)
        return rc;
    put_u32(frame, (uint32_t)n);
    for (size_t off = 0, total = n + 4; off < total;) {
        ssize_t w = write(fd, frame + off, total - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return ACT_EIO;
        off += (size_t)w;
    }
    return ACT_OK;
}

/* Reads exactly n bytes: 1 on success, 0 at EOF before the first byte, -1 otherwise. */
static int read_full(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 && got == 0)
            return 0;
        if (r <= 0) {
            if (r == 0)
                errno = EPIPE;   /* EOF inside a frame */
            return -1;
        }
        got += (size_t)r;
    }
    return 1;
}

int orch_msg_read(int fd, orch_msg *m, act_diag *diag)
{
    unsigned char hdr[4], body[ORCH_MSG_MAX];
    int r = read_full(fd, hdr, 4);
    if (r == 0)
        return ACT_ENOTFOUND;
    if (r < 0)
        return ACT_EIO;
    uint32_t n = get_u32(hdr);
    if (n == 0 || n > ORCH_MSG_MAX)
        return fail(diag, 0, "frame of %" PRIu32 " bytes (1 to %d)", n, ORCH_MSG_MAX);
    if (read_full(fd, body, n) != 1)
        return ACT_EIO;
    return orch_msg_decode((const char *)body, n, m, diag);
}

size_t orch_reader_room(const orch_reader *r)
{
    return sizeof r->buf - r->have;
}

int orch_reader_feed(orch_reader *r, const void *bytes, size_t n)
{
    if (n > orch_reader_room(r))
        return ACT_ELIMIT;
    memcpy(r->buf + r->have, bytes, n);
    r->have += n;
    return ACT_OK;
}

int orch_reader_next(orch_reader *r, orch_msg *m, act_diag *diag)
{
    if (r->have < 4)
        return ACT_ENOTFOUND;
    uint32_t n = get_u32(r->buf);
    if (n == 0 || n > ORCH_MSG_MAX)
        return fail(diag, 0, "frame of %" PRIu32 " bytes (1 to %d)", n, ORCH_MSG_MAX);
    if (r->have < 4 + (size_t)n)
        return ACT_ENOTFOUND;
    int rc = orch_msg_decode((const char *)r->buf + 4, n, m, diag);
    memmove(r->buf, r->buf + 4 + n, r->have - 4 - n);
    r->have -= 4 + (size_t)n;
    return rc;
}
