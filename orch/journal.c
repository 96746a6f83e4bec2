/* journal.c -- the search journal (journal.h) on SQLite: the schema, the checks on open, the
 * writer lock (flock on PATH.lock), and one prepared statement per operation (STMT_LIST). The
 * schema and its reasons: docs/search.md, "Journal". */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#ifndef ACTLAB_VERSION
#error "ACTLAB_VERSION must be defined (the Makefile passes it)"
#endif

#define BUSY_TIMEOUT_MS 10000

// ----------------------------------------------------------------------------
// names

static const char *const cand_names[] = {
#define X(ID, name) name,
    ORCH_CAND_STATUS_LIST(X)
#undef X
};

static const char *const state_names[] = {
#define X(ID, name) name,
    ORCH_TRIAL_STATE_LIST(X)
#undef X
};

const char *orch_cand_status_name(orch_cand_status s)
{
    return (int)s >= 0 && s < ORCH_CAND_COUNT ? cand_names[s] : NULL;
}

const char *orch_trial_state_name(orch_trial_state s)
{
    return (int)s >= 0 && s < ORCH_TRIAL_COUNT ? state_names[s] : NULL;
}

static int lookup(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

// ----------------------------------------------------------------------------
// statements

/* X(ID, sql) -- every statement the journal runs after open, prepared once. */
#define STMT_LIST(X)                                                                          \
    X(BEGIN,      "BEGIN IMMEDIATE")                                                         \
    X(COMMIT,     "COMMIT")                                                                  \
    X(ROLLBACK,   "ROLLBACK")                                                                \
    X(META_GET,   "SELECT value FROM meta WHERE key = ?1")                                   \
    X(CAND_FIND,  "SELECT " CAND_COLS " FROM candidate WHERE canon = ?1")                    \
    X(CAND_GET,   "SELECT " CAND_COLS " FROM candidate WHERE id = ?1")                       \
    X(CAND_EACH,  "SELECT " CAND_COLS " FROM candidate WHERE ?1 IS NULL OR status = ?1 "     \
                  "ORDER BY id")                                                             \
    X(CAND_ADD,   "INSERT INTO candidate(canon, expr, fp, n_params, status, reject_reason, "  \
                  "equiv_of, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")              \
    X(PROP_ADD,   "INSERT INTO proposal(ticket, candidate_id, parent_ticket, mutation, logp, " \
                  "tokens, trial_id, reward, created) "                                      \
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")                             \
    X(PROP_REWARD, "UPDATE proposal SET reward = ?2 WHERE ticket = ?1 AND reward IS NULL")   \
    X(PROP_WAIT_ALL, "SELECT " PROP_COLS " FROM proposal WHERE reward IS NULL "              \
                     "ORDER BY ticket")                                                      \
    X(PROP_EACH,  "SELECT " PROP_COLS " FROM proposal ORDER BY ticket")                       \
    X(PROP_WAIT_TRIAL, "SELECT " PROP_COLS " FROM proposal WHERE trial_id = ?1 "             \
                       "AND reward IS NULL ORDER BY ticket")                                 \
    X(TRIAL_FIND, "SELECT id FROM trial WHERE candidate_id = ?1 AND fidelity = ?2 "          \
                  "AND seed = ?3")                                                           \
    X(TRIAL_ADD,  "INSERT INTO trial(candidate_id, fidelity, seed, state, attempts, created) " \
                  "VALUES (?1, ?2, ?3, 'queued', 0, ?4)")                                    \
    X(TRIAL_GET,  "SELECT t.id, t.candidate_id, c.canon, c.expr, t.fidelity, t.seed, t.state, " \
                  "t.owner, t.lease_expiry, t.attempts, t.started, t.finished, t.val_acc, "   \
                  "t.test_acc, t.train_loss, t.epochs, t.wall_s, t.error "                   \
                  "FROM trial t JOIN candidate c ON c.id = t.candidate_id WHERE t.id = ?1")  \
    X(TRIAL_EACH, "SELECT t.id, t.candidate_id, c.canon, c.expr, t.fidelity, t.seed, t.state, " \
                  "t.owner, t.lease_expiry, t.attempts, t.started, t.finished, t.val_acc, "   \
                  "t.test_acc, t.train_loss, t.epochs, t.wall_s, t.error "                   \
                  "FROM trial t JOIN candidate c ON c.id = t.candidate_id "                  \
                  "WHERE ?1 IS NULL OR t.fidelity = ?1 ORDER BY t.id")                       \
    X(TRIAL_STATE, "SELECT state FROM trial WHERE id = ?1")                                  \
    X(TRIAL_NEXT, "SELECT id FROM trial WHERE state = 'queued' "                             \
                  "AND (?2 IS NULL OR fidelity = ?2) ORDER BY id LIMIT ?1")                  \
    X(TRIAL_LEASE, "UPDATE trial SET state = 'leased', owner = ?2, lease_expiry = ?3, "      \
                   "started = ?4 WHERE id = ?1 AND state = 'queued'")                        \
    X(TRIAL_FINISH, "UPDATE trial SET state = ?2, val_acc = ?3, test_acc = ?4, "             \
                    "train_loss = ?5, epochs = ?6, wall_s = ?7, error = ?8, finished = ?9, "  \
                    "lease_expiry = NULL WHERE id = ?1 "                                     \
                    "AND state NOT IN ('done', 'failed_candidate')")                         \
    X(TRIAL_REQUEUE, "UPDATE trial SET attempts = attempts + 1, owner = NULL, "              \
                     "lease_expiry = NULL, state = CASE WHEN attempts + 1 >= ?2 "            \
                     "THEN 'failed_infra' ELSE 'queued' END "                                \
                     "WHERE id = ?1 AND state = 'leased' RETURNING state")                   \
    X(TRIAL_REQUEUE_ALL, "UPDATE trial SET attempts = attempts + 1, owner = NULL, "          \
                         "lease_expiry = NULL, state = CASE WHEN attempts + 1 >= ?1 "        \
                         "THEN 'failed_infra' ELSE 'queued' END "                            \
                         "WHERE state = 'leased' RETURNING state")                           \
    X(TRIAL_RELEASE_ALL, "UPDATE trial SET owner = NULL, lease_expiry = NULL, "              \
                         "state = 'queued' WHERE state = 'leased'")                          \
    X(TRIAL_EXPIRED, "SELECT id FROM trial WHERE state = 'leased' AND lease_expiry < ?1 "    \
                     "ORDER BY id LIMIT ?2")                                                 \
    X(TRIAL_COUNTS, "SELECT state, COUNT(*) FROM trial WHERE ?1 IS NULL OR fidelity = ?1 "   \
                    "GROUP BY state")                                                        \
    X(TRIAL_TIMES, "SELECT COUNT(*), MIN(started), MAX(finished), SUM(wall_s) FROM trial "  \
                   "WHERE (?1 IS NULL OR fidelity = ?1) "                                  \
                   "AND state IN ('done', 'failed_candidate')")                              \
    X(TOP,        "SELECT c.id, c.canon, c.expr, COUNT(*), AVG(t.val_acc), MIN(t.val_acc), "  \
                  "MAX(t.val_acc), AVG(t.test_acc), AVG(t.val_acc * t.val_acc), "           \
                  "COUNT(t.test_acc), AVG(t.test_acc * t.test_acc) "                         \
                  "FROM trial t JOIN candidate c ON c.id = t.candidate_id "                  \
                  "WHERE t.fidelity = ?1 AND t.state = 'done' AND t.val_acc IS NOT NULL "    \
                  "AND c.status = 'kept' GROUP BY c.id "                                     \
                  "ORDER BY AVG(t.val_acc) DESC, c.id ASC LIMIT ?2")                         \
    X(STRAT_PUT,  "INSERT INTO strategy(state, created) VALUES (?1, ?2)")                    \
    X(STRAT_PRUNE, "DELETE FROM strategy WHERE version <= ?1")                               \
    X(STRAT_GET,  "SELECT version, state FROM strategy ORDER BY version DESC LIMIT 1")       \
    X(EVENT_ADD,  "INSERT INTO event(t, kind, detail) VALUES (?1, ?2, ?3)")

#define CAND_COLS "id, canon, expr, fp, n_params, status, reject_reason, equiv_of"
#define PROP_COLS "ticket, candidate_id, parent_ticket, mutation, logp, tokens, trial_id, reward"

enum {
#define X(ID, sql) S_##ID,
    STMT_LIST(X)
#undef X
    S_COUNT
};

static const char *const stmt_sql[] = {
#define X(ID, sql) sql,
    STMT_LIST(X)
#undef X
};

struct orch_journal {
    sqlite3      *db;
    sqlite3_stmt *st[S_COUNT];
    int           lock_fd;        /* -1 when read-only */
    int           writable;
    uint64_t      config_hash;
    char         *config_text;
    char         *path;
    char         *scratch;        /* borrowed strings handed out by the last call */
    size_t        scratch_len, scratch_cap;
    char          err[256];
};

// ----------------------------------------------------------------------------
// helpers

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void diag_set(act_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diag_set(act_diag *d, const char *fmt, ...)
{
    if (!d)
        return;
    d->line = d->col = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
}

/* The status for an SQLite result code. */
static int status_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE:
        return ACT_OK;
    case SQLITE_NOMEM:
        return ACT_ENOMEM;
    case SQLITE_CONSTRAINT: case SQLITE_MISMATCH: case SQLITE_RANGE: case SQLITE_TOOBIG:
        return ACT_EINVAL;
    case SQLITE_CORRUPT: case SQLITE_NOTADB: case SQLITE_FORMAT:
        return ACT_EFORMAT;
    case SQLITE_CANTOPEN:
        return ACT_ENOTFOUND;
    default:   /* FULL, IOERR, READONLY, BUSY, LOCKED, PERM, ... */
        return ACT_EIO;
    }
}

/* Records SQLite's message for a failed step of what; returns the status. */
static int fail(orch_journal *j, int rc, const char *what)
{
    snprintf(j->err, sizeof j->err, "journal '%s': %s: %s", j->path, what,
             j->db ? sqlite3_errmsg(j->db) : sqlite3_errstr(rc));
    return status_of(rc);
}

static int fail_msg(orch_journal *j, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_msg(orch_journal *j, int status, const char *fmt, ...)
{
    int k = snprintf(j->err, sizeof j->err, "journal '%s': ", j->path);
    va_list ap;
    va_start(ap, fmt);
    if (k > 0 && (size_t)k < sizeof j->err)
        vsnprintf(j->err + k, sizeof j->err - (size_t)k, fmt, ap);
    va_end(ap);
    return status;
}

/* The statement id, reset and unbound, ready for binding. */
static sqlite3_stmt *stmt(orch_journal *j, int id)
{
    sqlite3_stmt *s = j->st[id];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

/* Starts a call: clears the message and the borrowed strings of the previous call. */
static void enter(orch_journal *j)
{
    j->err[0] = '\0';
    j->scratch_len = 0;
}

/* Copies s (NULL stays NULL) into j's scratch; the result lives until the next call. The
 * scratch is grown before any pointer is handed out (reserve), so pointers stay valid. */
static int reserve(orch_journal *j, size_t need)
{
    if (need <= j->scratch_cap)
        return ACT_OK;
    size_t cap = j->scratch_cap ? j->scratch_cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(j->scratch, cap);
    if (!p)
        return fail_msg(j, ACT_ENOMEM, "out of memory");
    j->scratch = p;
    j->scratch_cap = cap;
    return ACT_OK;
}

/* Copies the text of column c of s into the scratch (reserved by the caller), or NULL. */
static const char *col_text(orch_journal *j, sqlite3_stmt *s, int c)
{
    const unsigned char *t = sqlite3_column_text(s, c);
    if (!t)
        return NULL;
    size_t n = (size_t)sqlite3_column_bytes(s, c);
    char *dst = j->scratch + j->scratch_len;
    memcpy(dst, t, n);
    dst[n] = '\0';
    j->scratch_len += n + 1;
    return dst;
}

/* Bytes the text columns cols[0..n) of the current row need in the scratch. */
static size_t text_need(sqlite3_stmt *s, const int *cols, int n)
{
    size_t need = 0;
    for (int i = 0; i < n; i++)
        need += (size_t)sqlite3_column_bytes(s, cols[i]) + 1;
    return need;
}

static double col_real(sqlite3_stmt *s, int c)
{
    return sqlite3_column_type(s, c) == SQLITE_NULL ? NAN : sqlite3_column_double(s, c);
}

/* Binds a double, NULL for a non-finite one. */
static int bind_real(sqlite3_stmt *s, int i, double v)
{
    return isfinite(v) ? sqlite3_bind_double(s, i, v) : sqlite3_bind_null(s, i);
}

static int bind_text(sqlite3_stmt *s, int i, const char *t)
{
    return t ? sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

/* Steps s to completion (a write): ACT_OK, or the status with the message recorded. */
static int run_write(orch_journal *j, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(s);
    int st = rc == SQLITE_DONE ? ACT_OK : fail(j, rc, what);
    sqlite3_reset(s);
    return st;
}

// ----------------------------------------------------------------------------
// schema

/* The CHECK list "'a', 'b', ..." of names[0..n) into buf. */
static void in_list(char *buf, size_t cap, const char *const *names, int n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s'%s'", i ? ", " : "", names[i]);
}

/* The schema (version ORCH_JOURNAL_VERSION) into *out (caller frees). */
static char *schema_sql(void)
{
    char cands[128], states[256];
    in_list(cands, sizeof cands, cand_names, ORCH_CAND_COUNT);
    in_list(states, sizeof states, state_names, ORCH_TRIAL_COUNT);
    static const char fmt[] =
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
        "CREATE TABLE candidate(\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  canon TEXT NOT NULL UNIQUE,\n"
        "  expr TEXT NOT NULL,\n"
        "  fp INTEGER NOT NULL,\n"
        "  n_params INTEGER NOT NULL,\n"
        "  status TEXT NOT NULL CHECK (status IN (%s)),\n"
        "  reject_reason TEXT CHECK ((status = 'rejected') = (reject_reason IS NOT NULL)),\n"
        "  equiv_of INTEGER REFERENCES candidate(id)\n"
        "    CHECK ((status = 'duplicate') = (equiv_of IS NOT NULL)),\n"
        "  created REAL NOT NULL);\n"
        "CREATE INDEX candidate_fp ON candidate(fp);\n"
        "CREATE TABLE trial(\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  candidate_id INTEGER NOT NULL REFERENCES candidate(id),\n"
        "  fidelity TEXT NOT NULL,\n"
        "  seed INTEGER NOT NULL,\n"
        "  state TEXT NOT NULL CHECK (state IN (%s)),\n"
        "  owner TEXT,\n"
        "  lease_expiry REAL,\n"
        "  attempts INTEGER NOT NULL DEFAULT 0,\n"
        "  created REAL NOT NULL,\n"
        "  started REAL,\n"
        "  finished REAL,\n"
        "  val_acc REAL, test_acc REAL, train_loss REAL, epochs INTEGER, wall_s REAL,\n"
        "  error TEXT,\n"
        "  UNIQUE(candidate_id, fidelity, seed));\n"
        "CREATE INDEX trial_state ON trial(state, id);\n"
        "CREATE INDEX trial_fidelity ON trial(fidelity, state);\n"
        "CREATE TABLE proposal(\n"
        "  ticket INTEGER PRIMARY KEY,\n"
        "  candidate_id INTEGER NOT NULL REFERENCES candidate(id),\n"
        "  parent_ticket INTEGER REFERENCES proposal(ticket),\n"
        "  mutation TEXT,\n"
        "  logp REAL NOT NULL,\n"
        "  tokens BLOB,\n"
        "  trial_id INTEGER REFERENCES trial(id),\n"
        "  reward REAL,\n"
        "  created REAL NOT NULL);\n"
        "CREATE INDEX proposal_trial ON proposal(trial_id) WHERE reward IS NULL;\n"
        "CREATE INDEX proposal_candidate ON proposal(candidate_id);\n"
        "CREATE TABLE strategy(version INTEGER PRIMARY KEY, state BLOB NOT NULL,\n"
        "  created REAL NOT NULL);\n"
        "CREATE TABLE event(seq INTEGER PRIMARY KEY, t REAL NOT NULL, kind TEXT NOT NULL,\n"
        "  detail TEXT);\n";
    size_t cap = sizeof fmt + sizeof cands + sizeof states;
    char *sql = malloc(cap);
    if (sql)
        snprintf(sql, cap, fmt, cands, states);
    return sql;
}

static const char *const tables[] = { "meta", "candidate", "trial", "proposal", "strategy",
                                      "event" };

// ----------------------------------------------------------------------------
// open, create, close

/* One integer from a PRAGMA or query; rc in *rc. */
static int64_t query_int(sqlite3 *db, const char *sql, int *rc)
{
    sqlite3_stmt *s = NULL;
    int64_t v = 0;
    *rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (*rc == SQLITE_OK) {
        *rc = sqlite3_step(s);
        if (*rc == SQLITE_ROW) {
            v = sqlite3_column_int64(s, 0);
            *rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    return v;
}

static orch_journal *journal_alloc(const char *path)
{
    orch_journal *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->lock_fd = -1;
    j->path = strdup(path);
    if (!j->path) {
        free(j);
        return NULL;
    }
    return j;
}

void orch_journal_close(orch_journal *j)
{
    if (!j)
        return;
    if (j->db && !sqlite3_get_autocommit(j->db))
        sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(j->st[i]);
    sqlite3_close(j->db);   /* the last connection checkpoints the WAL into the file */
    if (j->lock_fd >= 0)
        close(j->lock_fd);  /* releases the flock; the lock file stays (unlinking it would race) */
    free(j->config_text);
    free(j->scratch);
    free(j->path);
    free(j);
}

/* Takes the writer lock PATH.lock (flock, pid written into it). */
static int take_lock(orch_journal *j, act_diag *d)
{
    size_t n = strlen(j->path) + 6;
    char *lp = malloc(n);
    if (!lp) {
        diag_set(d, "out of memory");
        return ACT_ENOMEM;
    }
    snprintf(lp, n, "%s.lock", j->path);
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        diag_set(d, "journal '%s': cannot create its lock '%s': %s", j->path, lp,
                 strerror(errno));
        free(lp);
        return ACT_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t k = pread(fd, pid, sizeof pid - 1, 0);
        pid[k > 0 ? k : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        if (e == EWOULDBLOCK)
            diag_set(d, "journal '%s' is in use by another writer%s%s%s (lock '%s')", j->path,
                     pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "", lp);
        else
            diag_set(d, "journal '%s': cannot lock '%s': %s", j->path, lp, strerror(e));
        close(fd);
        free(lp);
        return ACT_EIO;
    }
    char me[32];
    int m = snprintf(me, sizeof me, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, me, (size_t)m, 0) != m) {
        diag_set(d, "journal '%s': cannot write its lock '%s': %s", j->path, lp,
                 strerror(errno));
        close(fd);
        free(lp);
        return ACT_EIO;
    }
    free(lp);
    j->lock_fd = fd;
    return ACT_OK;
}

/* The connection's per-open settings and the prepared statements. */
static int setup(orch_journal *j, act_diag *d)
{
    char sql[160];
    snprintf(sql, sizeof sql, "PRAGMA busy_timeout = %d; PRAGMA foreign_keys = ON; %s",
             BUSY_TIMEOUT_MS,
             j->writable ? "PRAGMA synchronous = FULL;" : "PRAGMA query_only = 1;");
    int rc = sqlite3_exec(j->db, sql, NULL, NULL, NULL);
    for (int i = 0; rc == SQLITE_OK && i < S_COUNT; i++)
        rc = sqlite3_prepare_v3(j->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &j->st[i],
                                NULL);
    if (rc != SQLITE_OK) {
        diag_set(d, "journal '%s': cannot set up: %s", j->path, sqlite3_errmsg(j->db));
        return status_of(rc);
    }
    return ACT_OK;
}

/* Reads the configuration from meta into j. */
static int read_config(orch_journal *j, act_diag *d)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(j->db, "SELECT key, value FROM meta WHERE key IN "
                                "('format', 'schema_version', 'config', 'config_hash')",
                                -1, &s, NULL);
    int have = 0;
    const char *bad = NULL;
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        if ((rc = sqlite3_step(s)) != SQLITE_ROW)
            break;
        const char *k = (const char *)sqlite3_column_text(s, 0);
        const char *v = (const char *)sqlite3_column_text(s, 1);
        if (!k || !v)
            continue;
        if (strcmp(k, "format") == 0) {
            have |= 1;
            if (strcmp(v, ORCH_JOURNAL_FORMAT) != 0)
                bad = "meta 'format' is not " ORCH_JOURNAL_FORMAT;
        } else if (strcmp(k, "schema_version") == 0) {
            have |= 2;
            if (atoi(v) != ORCH_JOURNAL_VERSION)
                bad = "meta 'schema_version' differs from user_version";
        } else if (strcmp(k, "config") == 0) {
            have |= 4;
            free(j->config_text);
            j->config_text = strdup(v);
            if (!j->config_text) {
                rc = SQLITE_NOMEM;
                break;
            }
        } else {
            have |= 8;
            char *end;
            errno = 0;
            j->config_hash = strtoull(v, &end, 16);
            if (errno || end == v || *end)
                bad = "meta 'config_hash' is not a hexadecimal number";
        }
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        diag_set(d, "journal '%s': cannot read meta: %s", j->path, sqlite3_errmsg(j->db));
        return status_of(rc);
    }
    if (!bad && have != 15)
        bad = "meta lacks one of format, schema_version, config, config_hash";
    if (bad) {
        diag_set(d, "'%s' is not a usable actlab journal: %s", j->path, bad);
        return ACT_EFORMAT;
    }
    return ACT_OK;
}

/* The checks of orch_journal_open, all reads: header, tables, quick_check. */
static int validate(orch_journal *j, act_diag *d)
{
    int rc;
    int64_t app = query_int(j->db, "PRAGMA application_id", &rc);
    if (rc != SQLITE_OK) {
        if ((rc & 0xff) == SQLITE_CORRUPT)
            diag_set(d, "journal '%s' is corrupt: %s", j->path, sqlite3_errmsg(j->db));
        else
            diag_set(d, "'%s' is not an actlab journal: %s", j->path, sqlite3_errmsg(j->db));
        return status_of(rc);
    }
    if (app != ORCH_JOURNAL_APP_ID) {
        diag_set(d, "'%s' is not an actlab journal (application_id %lld, expected %d)",
                 j->path, (long long)app, ORCH_JOURNAL_APP_ID);
        return ACT_EFORMAT;
    }
    int64_t ver = query_int(j->db, "PRAGMA user_version", &rc);
    if (rc != SQLITE_OK || ver != ORCH_JOURNAL_VERSION) {
        diag_set(d, "journal '%s' has schema version %lld; this actlab reads version %d",
                 j->path, (long long)ver, ORCH_JOURNAL_VERSION);
        return ACT_EFORMAT;
    }
    sqlite3_stmt *s = NULL;
    rc = sqlite3_prepare_v2(j->db, "PRAGMA quick_check", -1, &s, NULL);
    const char *first = NULL;
    char msg[160] = "";
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        const char *r = (const char *)sqlite3_column_text(s, 0);
        if (!first && r && strcmp(r, "ok") != 0) {
            snprintf(msg, sizeof msg, "%s", r);
            first = msg;
        }
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE && !first) {
        snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(j->db));
        first = msg;
    }
    sqlite3_finalize(s);
    if (first) {
        diag_set(d, "journal '%s' is corrupt (quick_check: %s)", j->path, first);
        return ACT_EFORMAT;
    }
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char q[128];
        snprintf(q, sizeof q, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                 "name = '%s'", tables[i]);
        if (query_int(j->db, q, &rc) != 1 || rc != SQLITE_OK) {
            diag_set(d, "'%s' is not a usable actlab journal: no table '%s'", j->path,
                     tables[i]);
            return ACT_EFORMAT;
        }
    }
    return read_config(j, d);
}

int orch_journal_open(const char *path, int writable, orch_journal **out, act_diag *d)
{
    if (!out)
        return ACT_EINVAL;
    *out = NULL;
    if (!path || !*path) {
        diag_set(d, "journal: empty path");
        return ACT_EINVAL;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        diag_set(d, "journal '%s': %s", path, strerror(errno));
        return errno == ENOENT ? ACT_ENOTFOUND : ACT_EIO;
    }
    if (!S_ISREG(sb.st_mode)) {
        diag_set(d, "journal '%s' is not a regular file", path);
        return ACT_EINVAL;
    }
    orch_journal *j = journal_alloc(path);
    if (!j) {
        diag_set(d, "out of memory");
        return ACT_ENOMEM;
    }
    j->writable = writable != 0;
    /* The checks run read-only, so a file that fails them is never written; the writer then
     * reopens read-write under the lock. */
    int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &j->db, flags, NULL);
    int st = rc == SQLITE_OK ? ACT_OK : ACT_EIO;
    if (st != ACT_OK)
        diag_set(d, "journal '%s': cannot open: %s", path, sqlite3_errstr(rc));
    if (st == ACT_OK) {
        sqlite3_busy_timeout(j->db, BUSY_TIMEOUT_MS);
        st = validate(j, d);
    }
    if (st == ACT_OK && j->writable) {
        sqlite3_close(j->db);
        j->db = NULL;
        st = take_lock(j, d);
        if (st == ACT_OK) {
            rc = sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                 NULL);
            if (rc != SQLITE_OK) {
                diag_set(d, "journal '%s': cannot open for writing: %s", path,
                         j->db ? sqlite3_errmsg(j->db) : sqlite3_errstr(rc));
                st = status_of(rc) == ACT_ENOTFOUND ? ACT_EIO : status_of(rc);
            }
        }
        if (st == ACT_OK) {   /* the file may have been replaced while unlocked */
            int64_t app = query_int(j->db, "PRAGMA application_id", &rc);
            if (rc != SQLITE_OK || app != ORCH_JOURNAL_APP_ID) {
                diag_set(d, "journal '%s' changed while it was opened", path);
                st = ACT_EFORMAT;
            }
        }
    }
    if (st == ACT_OK)
        st = setup(j, d);
    if (st != ACT_OK) {
        orch_journal_close(j);
        return st;
    }
    *out = j;
    return ACT_OK;
}

/* fsync of path's directory, so that a new file's name survives a crash. */
static int sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

/* Removes a journal that create could not finish (its file and SQLite's side files). */
static void remove_files(const char *path)
{
    static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
    char p[PATH_MAX];
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
}

int orch_journal_create(const char *path, const char *config_text, uint64_t config_hash,
                        orch_journal **out, act_diag *d)
{
    if (!out)
        return ACT_EINVAL;
    *out = NULL;
    if (!path || !*path || !config_text) {
        diag_set(d, "journal: empty path or no configuration");
        return ACT_EINVAL;
    }
    if (strlen(path) + 10 > PATH_MAX) {
        diag_set(d, "journal '%s': path too long", path);
        return ACT_EINVAL;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        if (e == EEXIST)
            diag_set(d, "journal '%s' exists; choose a new path (a journal is never "
                     "overwritten)", path);
        else
            diag_set(d, "journal '%s': cannot create: %s", path, strerror(e));
        return e == EEXIST ? ACT_EINVAL : e == ENOENT ? ACT_ENOTFOUND : ACT_EIO;
    }
    close(fd);
    orch_journal *j = journal_alloc(path);
    if (!j) {
        unlink(path);
        diag_set(d, "out of memory");
        return ACT_ENOMEM;
    }
    j->writable = 1;
    j->config_hash = config_hash;
    j->config_text = strdup(config_text);
    char *schema = schema_sql();
    int st = j->config_text && schema ? ACT_OK : ACT_ENOMEM;
    if (st != ACT_OK)
        diag_set(d, "out of memory");
    if (st == ACT_OK)
        st = take_lock(j, d);
    int rc = SQLITE_OK;
    if (st == ACT_OK) {
        rc = sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(j->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
                              NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(j->db, schema, NULL, NULL, NULL);
        char prag[128];
        snprintf(prag, sizeof prag, "PRAGMA application_id = %d; PRAGMA user_version = %d;",
                 ORCH_JOURNAL_APP_ID, ORCH_JOURNAL_VERSION);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(j->db, prag, NULL, NULL, NULL);
        sqlite3_stmt *s = NULL;
        if (rc == SQLITE_OK)
            rc = sqlite3_prepare_v2(j->db, "INSERT INTO meta(key, value) VALUES (?1, ?2)", -1,
                                    &s, NULL);
        char hash[20], ver[12], created[32];
        snprintf(hash, sizeof hash, "%016llx", (unsigned long long)config_hash);
        snprintf(ver, sizeof ver, "%d", ORCH_JOURNAL_VERSION);
        snprintf(created, sizeof created, "%.3f", now_s());
        const char *kv[][2] = {
            { "format", ORCH_JOURNAL_FORMAT }, { "schema_version", ver },
            { "actlab_version", ACTLAB_VERSION }, { "config", config_text },
            { "config_hash", hash }, { "created", created },
        };
        for (size_t i = 0; rc == SQLITE_OK && i < sizeof kv / sizeof kv[0]; i++) {
            sqlite3_reset(s);
            sqlite3_bind_text(s, 1, kv[i][0], -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, kv[i][1], -1, SQLITE_STATIC);
            rc = sqlite3_step(s);
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
        sqlite3_finalize(s);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            diag_set(d, "journal '%s': cannot create: %s", path,
                     j->db ? sqlite3_errmsg(j->db) : sqlite3_errstr(rc));
            st = status_of(rc) == ACT_ENOTFOUND ? ACT_EIO : status_of(rc);
        }
    }
    free(schema);
    if (st == ACT_OK && sync_dir(path) != 0) {
        diag_set(d, "journal '%s': cannot sync its directory: %s", path, strerror(errno));
        st = ACT_EIO;
    }
    if (st == ACT_OK)
        st = setup(j, d);
    if (st != ACT_OK) {
        int had_lock = j->lock_fd >= 0;
        orch_journal_close(j);
        if (had_lock)           /* only remove what this call created and locked */
            remove_files(path);
        else
            unlink(path);
        return st;
    }
    *out = j;
    return ACT_OK;
}

const char *orch_journal_error(const orch_journal *j)
{
    return j ? j->err : "";
}

const char *orch_journal_config_text(const orch_journal *j)
{
    return j->config_text;
}

uint64_t orch_journal_config_hash(const orch_journal *j)
{
    return j->config_hash;
}

int orch_journal_set_max_size(orch_journal *j, uint64_t max_bytes)
{
    enter(j);
    int rc;
    int64_t page = query_int(j->db, "PRAGMA page_size", &rc);
    if (rc != SQLITE_OK || page <= 0)
        return fail(j, rc, "page_size");
    /* max_page_count = 0 keeps the current cap; the largest value lifts it. */
    long long pages = max_bytes ? (long long)(max_bytes / (uint64_t)page) : 4294967294LL;
    if (pages < 1)
        pages = 1;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", pages);
    (void)query_int(j->db, sql, &rc);
    return rc == SQLITE_OK ? ACT_OK : fail(j, rc, "max_page_count");
}

// ----------------------------------------------------------------------------
// transactions

int orch_journal_begin(orch_journal *j)
{
    enter(j);
    return run_write(j, stmt(j, S_BEGIN), "begin");
}

int orch_journal_commit(orch_journal *j)
{
    enter(j);
    int st = run_write(j, stmt(j, S_COMMIT), "commit");
    if (st != ACT_OK && !sqlite3_get_autocommit(j->db)) {
        char keep[sizeof j->err];
        memcpy(keep, j->err, sizeof keep);
        if (run_write(j, stmt(j, S_ROLLBACK), "rollback") == ACT_OK)
            memcpy(j->err, keep, sizeof keep);
    }
    return st;
}

int orch_journal_rollback(orch_journal *j)
{
    enter(j);
    if (sqlite3_get_autocommit(j->db))
        return ACT_OK;   /* nothing open (SQLite may have rolled back itself) */
    return run_write(j, stmt(j, S_ROLLBACK), "rollback");
}

// ----------------------------------------------------------------------------
// candidates

/* Fills *c from a CAND_COLS row (strings into the scratch). */
static int cand_row(orch_journal *j, sqlite3_stmt *s, orch_candidate *c)
{
    static const int tcols[] = { 1, 2, 6 };
    int st = reserve(j, j->scratch_len + text_need(s, tcols, 3));
    if (st != ACT_OK)
        return st;
    c->id = sqlite3_column_int64(s, 0);
    c->canon = col_text(j, s, 1);
    c->expr = col_text(j, s, 2);
    c->fp = (uint64_t)sqlite3_column_int64(s, 3);
    c->n_params = sqlite3_column_int(s, 4);
    int k = lookup(cand_names, ORCH_CAND_COUNT, (const char *)sqlite3_column_text(s, 5));
    if (k < 0)
        return fail_msg(j, ACT_EFORMAT, "candidate %lld has an unknown status",
                        (long long)c->id);
    c->status = (orch_cand_status)k;
    c->reject_reason = col_text(j, s, 6);
    c->equiv_of = sqlite3_column_int64(s, 7);
    return ACT_OK;
}

/* Steps a one-row query into *out with row(); ACT_ENOTFOUND without a row. */
static int one_cand(orch_journal *j, sqlite3_stmt *s, orch_candidate *out, const char *what)
{
    int rc = sqlite3_step(s);
    int st;
    if (rc == SQLITE_ROW)
        st = cand_row(j, s, out);
    else if (rc == SQLITE_DONE)
        st = fail_msg(j, ACT_ENOTFOUND, "%s: no such candidate", what);
    else
        st = fail(j, rc, what);
    sqlite3_reset(s);
    return st;
}

int orch_candidate_find(orch_journal *j, const char *canon, orch_candidate *out)
{
    enter(j);
    if (!canon || !out)
        return fail_msg(j, ACT_EINVAL, "candidate find: NULL argument");
    sqlite3_stmt *s = stmt(j, S_CAND_FIND);
    sqlite3_bind_text(s, 1, canon, -1, SQLITE_STATIC);
    return one_cand(j, s, out, "candidate find");
}

int orch_candidate_get(orch_journal *j, int64_t id, orch_candidate *out)
{
    enter(j);
    if (!out)
        return fail_msg(j, ACT_EINVAL, "candidate get: NULL argument");
    sqlite3_stmt *s = stmt(j, S_CAND_GET);
    sqlite3_bind_int64(s, 1, id);
    return one_cand(j, s, out, "candidate get");
}

int orch_candidate_add(orch_journal *j, const orch_candidate *c, int64_t *id)
{
    enter(j);
    const char *status = c ? orch_cand_status_name(c->status) : NULL;
    if (!c || !c->canon || !c->expr || !status)
        return fail_msg(j, ACT_EINVAL, "candidate add: NULL or invalid argument");
    sqlite3_stmt *s = stmt(j, S_CAND_ADD);
    sqlite3_bind_text(s, 1, c->canon, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, c->expr, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (int64_t)c->fp);
    sqlite3_bind_int(s, 4, c->n_params);
    sqlite3_bind_text(s, 5, status, -1, SQLITE_STATIC);
    bind_text(s, 6, c->reject_reason);
    if (c->equiv_of)
        sqlite3_bind_int64(s, 7, c->equiv_of);
    sqlite3_bind_double(s, 8, now_s());
    int st = run_write(j, s, "candidate add");
    if (st == ACT_OK && id)
        *id = sqlite3_last_insert_rowid(j->db);
    return st;
}

int orch_candidate_each(orch_journal *j, orch_cand_status status,
                        int (*fn)(void *ctx, const orch_candidate *c), void *ctx)
{
    enter(j);
    if (!fn)
        return fail_msg(j, ACT_EINVAL, "candidate each: NULL callback");
    sqlite3_stmt *s = stmt(j, S_CAND_EACH);
    bind_text(s, 1, orch_cand_status_name(status));
    int rc, st = ACT_OK;
    while (st == ACT_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        j->scratch_len = 0;
        orch_candidate c;
        st = cand_row(j, s, &c);
        if (st == ACT_OK && fn(ctx, &c) != 0)
            st = ACT_ECANCELED;
    }
    if (st == ACT_OK && rc != SQLITE_DONE)
        st = fail(j, rc, "candidate each");
    sqlite3_reset(s);
    return st;
}

// ----------------------------------------------------------------------------
// proposals

int orch_proposal_add(orch_journal *j, const orch_proposal *p)
{
    enter(j);
    if (!p || p->n_tokens < 0 || (p->n_tokens > 0 && !p->tokens) || p->ticket > INT64_MAX ||
        p->parent_ticket > INT64_MAX || (p->has_reward && !isfinite(p->reward)) ||
        !isfinite(p->logp))
        return fail_msg(j, ACT_EINVAL, "proposal add: NULL or invalid argument");
    sqlite3_stmt *s = stmt(j, S_PROP_ADD);
    sqlite3_bind_int64(s, 1, (int64_t)p->ticket);
    sqlite3_bind_int64(s, 2, p->candidate_id);
    if (p->parent_ticket)
        sqlite3_bind_int64(s, 3, (int64_t)p->parent_ticket);
    bind_text(s, 4, p->mutation);
    sqlite3_bind_double(s, 5, p->logp);
    if (p->n_tokens > 0)
        sqlite3_bind_blob(s, 6, p->tokens, p->n_tokens, SQLITE_STATIC);
    if (p->trial_id)
        sqlite3_bind_int64(s, 7, p->trial_id);
    if (p->has_reward)
        sqlite3_bind_double(s, 8, p->reward);
    sqlite3_bind_double(s, 9, now_s());
    return run_write(j, s, "proposal add");
}

int orch_proposal_set_reward(orch_journal *j, uint64_t ticket, double reward)
{
    enter(j);
    if (!isfinite(reward) || ticket > INT64_MAX)
        return fail_msg(j, ACT_EINVAL, "proposal reward: non-finite reward or bad ticket");
    sqlite3_stmt *s = stmt(j, S_PROP_REWARD);
    sqlite3_bind_int64(s, 1, (int64_t)ticket);
    sqlite3_bind_double(s, 2, reward);
    int st = run_write(j, s, "proposal reward");
    if (st == ACT_OK && sqlite3_changes(j->db) != 1)
        st = fail_msg(j, ACT_ENOTFOUND, "no proposal %llu waits for a reward",
                      (unsigned long long)ticket);
    return st;
}

/* Calls fn for the rows of s (PROP_COLS), stopping at a non-zero return. */
static int proposal_rows(orch_journal *j, sqlite3_stmt *s,
                         int (*fn)(void *ctx, const orch_proposal *p), void *ctx,
                         const char *what)
{
    int rc, st = ACT_OK;
    while (st == ACT_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        orch_proposal p = { 0 };
        p.ticket = (uint64_t)sqlite3_column_int64(s, 0);
        p.candidate_id = sqlite3_column_int64(s, 1);
        p.parent_ticket = (uint64_t)sqlite3_column_int64(s, 2);
        p.mutation = (const char *)sqlite3_column_text(s, 3);
        p.logp = sqlite3_column_double(s, 4);
        p.tokens = sqlite3_column_blob(s, 5);
        p.n_tokens = sqlite3_column_bytes(s, 5);
        p.trial_id = sqlite3_column_int64(s, 6);
        p.has_reward = sqlite3_column_type(s, 7) != SQLITE_NULL;
        p.reward = p.has_reward ? sqlite3_column_double(s, 7) : 0.0;
        if (fn(ctx, &p) != 0)
            st = ACT_ECANCELED;
    }
    if (st == ACT_OK && rc != SQLITE_DONE)
        st = fail(j, rc, what);
    sqlite3_reset(s);
    return st;
}

int orch_proposal_waiting(orch_journal *j, int64_t trial_id,
                          int (*fn)(void *ctx, const orch_proposal *p), void *ctx)
{
    enter(j);
    if (!fn)
        return fail_msg(j, ACT_EINVAL, "proposal waiting: NULL callback");
    sqlite3_stmt *s = stmt(j, trial_id ? S_PROP_WAIT_TRIAL : S_PROP_WAIT_ALL);
    if (trial_id)
        sqlite3_bind_int64(s, 1, trial_id);
    return proposal_rows(j, s, fn, ctx, "proposal waiting");
}

int orch_proposal_each(orch_journal *j, int (*fn)(void *ctx, const orch_proposal *p),
                       void *ctx)
{
    enter(j);
    if (!fn)
        return fail_msg(j, ACT_EINVAL, "proposal each: NULL callback");
    return proposal_rows(j, stmt(j, S_PROP_EACH), fn, ctx, "proposal each");
}

// ----------------------------------------------------------------------------
// trials

int orch_trial_add(orch_journal *j, int64_t candidate_id, const char *fidelity, uint64_t seed,
                   int64_t *id, int *is_new)
{
    enter(j);
    if (!fidelity || !id || !is_new)
        return fail_msg(j, ACT_EINVAL, "trial add: NULL argument");
    sqlite3_stmt *s = stmt(j, S_TRIAL_FIND);
    sqlite3_bind_int64(s, 1, candidate_id);
    sqlite3_bind_text(s, 2, fidelity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (int64_t)seed);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        *is_new = 0;
        sqlite3_reset(s);
        return ACT_OK;
    }
    int st = rc == SQLITE_DONE ? ACT_OK : fail(j, rc, "trial find");
    sqlite3_reset(s);
    if (st != ACT_OK)
        return st;
    s = stmt(j, S_TRIAL_ADD);
    sqlite3_bind_int64(s, 1, candidate_id);
    sqlite3_bind_text(s, 2, fidelity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (int64_t)seed);
    sqlite3_bind_double(s, 4, now_s());
    st = run_write(j, s, "trial add");
    if (st == ACT_OK) {
        *id = sqlite3_last_insert_rowid(j->db);
        *is_new = 1;
    }
    return st;
}

/* Fills t from the row of s (TRIAL_GET's columns); strings copied into j's buffer when copy,
 * else the row's own (valid until the next step). ACT_EFORMAT for an unknown state. */
static int trial_row(orch_journal *j, sqlite3_stmt *s, orch_trial *t, int copy)
{
    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(s, 0);
    t->candidate_id = sqlite3_column_int64(s, 1);
#define TEXT(c) (copy ? col_text(j, s, c) : (const char *)sqlite3_column_text(s, c))
    t->canon = TEXT(2);
    t->expr = TEXT(3);
    t->fidelity = TEXT(4);
    t->owner = TEXT(7);
    t->result.error = TEXT(17);
#undef TEXT
    t->seed = (uint64_t)sqlite3_column_int64(s, 5);
    int k = lookup(state_names, ORCH_TRIAL_COUNT, (const char *)sqlite3_column_text(s, 6));
    t->lease_expiry = col_real(s, 8);
    t->attempts = sqlite3_column_int(s, 9);
    t->started = col_real(s, 10);
    t->finished = col_real(s, 11);
    t->result.val_acc = col_real(s, 12);
    t->result.test_acc = col_real(s, 13);
    t->result.train_loss = col_real(s, 14);
    t->result.epochs = sqlite3_column_int(s, 15);
    t->result.wall_s = col_real(s, 16);
    if (k < 0)
        return fail_msg(j, ACT_EFORMAT, "trial %lld has an unknown state", (long long)t->id);
    t->state = t->result.state = (orch_trial_state)k;
    return ACT_OK;
}

int orch_trial_get(orch_journal *j, int64_t id, orch_trial *out)
{
    enter(j);
    if (!out)
        return fail_msg(j, ACT_EINVAL, "trial get: NULL argument");
    sqlite3_stmt *s = stmt(j, S_TRIAL_GET);
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    int st = ACT_OK;
    if (rc == SQLITE_DONE)
        st = fail_msg(j, ACT_ENOTFOUND, "no trial %lld", (long long)id);
    else if (rc != SQLITE_ROW)
        st = fail(j, rc, "trial get");
    static const int tcols[] = { 2, 3, 4, 7, 17 };
    if (st == ACT_OK)
        st = reserve(j, text_need(s, tcols, 5));
    if (st == ACT_OK)
        st = trial_row(j, s, out, 1);
    sqlite3_reset(s);
    return st;
}

int orch_trial_each(orch_journal *j, const char *fidelity,
                    int (*fn)(void *ctx, const orch_trial *t), void *ctx)
{
    enter(j);
    if (!fn)
        return fail_msg(j, ACT_EINVAL, "trial each: NULL callback");
    sqlite3_stmt *s = stmt(j, S_TRIAL_EACH);
    bind_text(s, 1, fidelity);
    int rc, st = ACT_OK;
    while (st == ACT_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        orch_trial t;
        st = trial_row(j, s, &t, 0);
        if (st == ACT_OK && fn(ctx, &t) != 0)
            st = ACT_ECANCELED;
    }
    if (st == ACT_OK && rc != SQLITE_DONE)
        st = fail(j, rc, "trial each");
    sqlite3_reset(s);
    return st;
}

/* Collects column 0 of up to cap rows of s into ids. */
static int collect_ids(orch_journal *j, sqlite3_stmt *s, int64_t *ids, size_t cap, size_t *n,
                       const char *what)
{
    int rc = SQLITE_DONE;
    *n = 0;
    while (*n < cap && (rc = sqlite3_step(s)) == SQLITE_ROW)
        ids[(*n)++] = sqlite3_column_int64(s, 0);
    int st = *n == cap || rc == SQLITE_DONE ? ACT_OK : fail(j, rc, what);
    sqlite3_reset(s);
    return st;
}

int orch_trial_next(orch_journal *j, int64_t *ids, size_t cap, size_t *n)
{
    return orch_trial_next_at(j, NULL, ids, cap, n);
}

int orch_trial_next_at(orch_journal *j, const char *fidelity, int64_t *ids, size_t cap,
                       size_t *n)
{
    enter(j);
    if ((!ids && cap) || !n)
        return fail_msg(j, ACT_EINVAL, "trial next: NULL argument");
    sqlite3_stmt *s = stmt(j, S_TRIAL_NEXT);
    sqlite3_bind_int64(s, 1, cap > INT64_MAX ? INT64_MAX : (int64_t)cap);
    bind_text(s, 2, fidelity);
    return collect_ids(j, s, ids, cap, n, "trial next");
}

int orch_trial_expired(orch_journal *j, double now, int64_t *ids, size_t cap, size_t *n)
{
    enter(j);
    if ((!ids && cap) || !n)
        return fail_msg(j, ACT_EINVAL, "trial expired: NULL argument");
    sqlite3_stmt *s = stmt(j, S_TRIAL_EXPIRED);
    sqlite3_bind_double(s, 1, now);
    sqlite3_bind_int64(s, 2, cap > INT64_MAX ? INT64_MAX : (int64_t)cap);
    return collect_ids(j, s, ids, cap, n, "trial expired");
}

/* The state of trial id into *state; ACT_ENOTFOUND. */
static int trial_state(orch_journal *j, int64_t id, orch_trial_state *state)
{
    sqlite3_stmt *s = stmt(j, S_TRIAL_STATE);
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    int st = ACT_OK;
    if (rc == SQLITE_ROW) {
        int k = lookup(state_names, ORCH_TRIAL_COUNT, (const char *)sqlite3_column_text(s, 0));
        if (k < 0)
            st = fail_msg(j, ACT_EFORMAT, "trial %lld has an unknown state", (long long)id);
        else
            *state = (orch_trial_state)k;
    } else {
        st = rc == SQLITE_DONE ? fail_msg(j, ACT_ENOTFOUND, "no trial %lld", (long long)id)
                               : fail(j, rc, "trial state");
    }
    sqlite3_reset(s);
    return st;
}

int orch_trial_lease(orch_journal *j, int64_t id, const char *owner, double expiry)
{
    enter(j);
    if (!owner || !isfinite(expiry))
        return fail_msg(j, ACT_EINVAL, "trial lease: no owner or a non-finite expiry");
    sqlite3_stmt *s = stmt(j, S_TRIAL_LEASE);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 3, expiry);
    sqlite3_bind_double(s, 4, now_s());
    int st = run_write(j, s, "trial lease");
    if (st != ACT_OK || sqlite3_changes(j->db) == 1)
        return st;
    orch_trial_state now;
    st = trial_state(j, id, &now);
    return st != ACT_OK ? st : fail_msg(j, ACT_EINVAL, "trial %lld is %s, not queued",
                                        (long long)id, orch_trial_state_name(now));
}

int orch_trial_finish(orch_journal *j, int64_t id, const orch_result *r, int *applied)
{
    enter(j);
    if (!r || !applied ||
        (r->state != ORCH_TRIAL_DONE && r->state != ORCH_TRIAL_FAILED_CANDIDATE))
        return fail_msg(j, ACT_EINVAL, "trial finish: NULL argument or not a result state");
    *applied = 0;
    sqlite3_stmt *s = stmt(j, S_TRIAL_FINISH);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, orch_trial_state_name(r->state), -1, SQLITE_STATIC);
    bind_real(s, 3, r->val_acc);
    bind_real(s, 4, r->test_acc);
    bind_real(s, 5, r->train_loss);
    sqlite3_bind_int(s, 6, r->epochs);
    bind_real(s, 7, r->wall_s);
    bind_text(s, 8, r->error);
    sqlite3_bind_double(s, 9, now_s());
    int st = run_write(j, s, "trial finish");
    if (st != ACT_OK)
        return st;
    if (sqlite3_changes(j->db) == 1) {
        *applied = 1;
        return ACT_OK;
    }
    orch_trial_state now;
    return trial_state(j, id, &now);   /* ACT_OK (a repeated result) or ACT_ENOTFOUND */
}

/* Counts the RETURNING states of a requeue statement. */
static int requeue_rows(orch_journal *j, sqlite3_stmt *s, size_t *n_queued, size_t *n_failed,
                        orch_trial_state *last)
{
    int rc;
    int st = ACT_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s, 0);
        int failed = t && strcmp(t, "failed_infra") == 0;
        *(failed ? n_failed : n_queued) += 1;
        *last = failed ? ORCH_TRIAL_FAILED_INFRA : ORCH_TRIAL_QUEUED;
    }
    if (rc != SQLITE_DONE)
        st = fail(j, rc, "trial requeue");
    sqlite3_reset(s);
    return st;
}

int orch_trial_requeue(orch_journal *j, int64_t id, int max_attempts, orch_trial_state *state)
{
    enter(j);
    if (!state || max_attempts < 1)
        return fail_msg(j, ACT_EINVAL, "trial requeue: NULL state or max_attempts < 1");
    sqlite3_stmt *s = stmt(j, S_TRIAL_REQUEUE);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, max_attempts);
    size_t q = 0, f = 0;
    int st = requeue_rows(j, s, &q, &f, state);
    if (st == ACT_OK && q + f == 0)
        st = trial_state(j, id, state);
    return st;
}

int orch_trial_requeue_leased(orch_journal *j, int max_attempts, size_t *n_queued,
                              size_t *n_failed)
{
    enter(j);
    if (!n_queued || !n_failed || max_attempts < 1)
        return fail_msg(j, ACT_EINVAL, "trial requeue: NULL count or max_attempts < 1");
    *n_queued = *n_failed = 0;
    sqlite3_stmt *s = stmt(j, S_TRIAL_REQUEUE_ALL);
    sqlite3_bind_int(s, 1, max_attempts);
    orch_trial_state last;
    return requeue_rows(j, s, n_queued, n_failed, &last);
}

int orch_trial_release_leased(orch_journal *j, size_t *n)
{
    enter(j);
    if (!n)
        return fail_msg(j, ACT_EINVAL, "trial release: NULL count");
    *n = 0;
    sqlite3_stmt *s = stmt(j, S_TRIAL_RELEASE_ALL);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return fail(j, rc, "trial release");
    *n = (size_t)sqlite3_changes(j->db);
    return ACT_OK;
}

int orch_trial_counts(orch_journal *j, const char *fidelity, int64_t counts[ORCH_TRIAL_COUNT])
{
    enter(j);
    if (!counts)
        return fail_msg(j, ACT_EINVAL, "trial counts: NULL argument");
    for (int i = 0; i < ORCH_TRIAL_COUNT; i++)
        counts[i] = 0;
    sqlite3_stmt *s = stmt(j, S_TRIAL_COUNTS);
    bind_text(s, 1, fidelity);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int k = lookup(state_names, ORCH_TRIAL_COUNT, (const char *)sqlite3_column_text(s, 0));
        if (k >= 0)
            counts[k] = sqlite3_column_int64(s, 1);
    }
    int st = rc == SQLITE_DONE ? ACT_OK : fail(j, rc, "trial counts");
    sqlite3_reset(s);
    return st;
}

int orch_trial_times(orch_journal *j, const char *fidelity, orch_trial_times_t *out)
{
    enter(j);
    if (!out)
        return fail_msg(j, ACT_EINVAL, "trial times: NULL argument");
    sqlite3_stmt *s = stmt(j, S_TRIAL_TIMES);
    bind_text(s, 1, fidelity);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->n = sqlite3_column_int64(s, 0);
        out->first_started = col_real(s, 1);
        out->last_finished = col_real(s, 2);
        out->sum_wall_s = col_real(s, 3);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? ACT_OK : fail(j, rc, "trial times");
}

/* The sample standard deviation of n values from their mean and mean square (NaN if n < 2). */
static double sample_sd(int64_t n, double mean, double mean_sq)
{
    if (n < 2 || !isfinite(mean) || !isfinite(mean_sq))
        return NAN;
    double var = (mean_sq - mean * mean) * (double)n / (double)(n - 1);
    return var > 0 ? sqrt(var) : 0.0;
}

int orch_top(orch_journal *j, const char *fidelity, size_t k,
             int (*fn)(void *ctx, const orch_top_row *r), void *ctx)
{
    enter(j);
    if (!fidelity || !fn)
        return fail_msg(j, ACT_EINVAL, "top: NULL argument");
    sqlite3_stmt *s = stmt(j, S_TOP);
    sqlite3_bind_text(s, 1, fidelity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, k > INT64_MAX ? INT64_MAX : (int64_t)k);
    int rc, st = ACT_OK;
    while (st == ACT_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        orch_top_row r;
        r.candidate_id = sqlite3_column_int64(s, 0);
        r.canon = (const char *)sqlite3_column_text(s, 1);
        r.expr = (const char *)sqlite3_column_text(s, 2);
        r.n_trials = sqlite3_column_int64(s, 3);
        r.val_acc = col_real(s, 4);
        r.val_min = col_real(s, 5);
        r.val_max = col_real(s, 6);
        r.test_acc = col_real(s, 7);
        r.n_test = sqlite3_column_int64(s, 9);
        r.val_sd = sample_sd(r.n_trials, r.val_acc, col_real(s, 8));
        r.test_sd = sample_sd(r.n_test, r.test_acc, col_real(s, 10));
        if (fn(ctx, &r) != 0)
            st = ACT_ECANCELED;
    }
    if (st == ACT_OK && rc != SQLITE_DONE)
        st = fail(j, rc, "top");
    sqlite3_reset(s);
    return st;
}

// ----------------------------------------------------------------------------
// strategy states and events

int orch_strategy_put(orch_journal *j, const uint8_t *buf, size_t len, size_t keep,
                      int64_t *version)
{
    enter(j);
    if (!buf || len == 0 || len > INT_MAX)
        return fail_msg(j, ACT_EINVAL, "strategy put: no bytes");
    sqlite3_stmt *s = stmt(j, S_STRAT_PUT);
    sqlite3_bind_blob(s, 1, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_double(s, 2, now_s());
    int st = run_write(j, s, "strategy put");
    if (st != ACT_OK)
        return st;
    int64_t v = sqlite3_last_insert_rowid(j->db);
    if (version)
        *version = v;
    if (keep == 0 || (uint64_t)keep >= (uint64_t)v)
        return ACT_OK;
    s = stmt(j, S_STRAT_PRUNE);
    sqlite3_bind_int64(s, 1, v - (int64_t)keep);
    return run_write(j, s, "strategy prune");
}

int orch_strategy_get(orch_journal *j, uint8_t **buf, size_t *len, int64_t *version)
{
    enter(j);
    if (!buf || !len)
        return fail_msg(j, ACT_EINVAL, "strategy get: NULL argument");
    *buf = NULL;
    *len = 0;
    sqlite3_stmt *s = stmt(j, S_STRAT_GET);
    int rc = sqlite3_step(s);
    int st = ACT_OK;
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(s, 1);
        const void *b = sqlite3_column_blob(s, 1);
        uint8_t *copy = malloc(n ? n : 1);
        if (!copy) {
            st = fail_msg(j, ACT_ENOMEM, "out of memory");
        } else {
            if (n)
                memcpy(copy, b, n);
            *buf = copy;
            *len = n;
            if (version)
                *version = sqlite3_column_int64(s, 0);
        }
    } else {
        st = rc == SQLITE_DONE ? fail_msg(j, ACT_ENOTFOUND, "no strategy state stored")
                               : fail(j, rc, "strategy get");
    }
    sqlite3_reset(s);
    return st;
}

int orch_event_add(orch_journal *j, const char *kind, const char *detail)
{
    enter(j);
    if (!kind)
        return fail_msg(j, ACT_EINVAL, "event add: no kind");
    sqlite3_stmt *s = stmt(j, S_EVENT_ADD);
    sqlite3_bind_double(s, 1, now_s());
    sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
    bind_text(s, 3, detail);
    return run_write(j, s, "event add");
}
