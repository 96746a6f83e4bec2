/* test_orch_journal.c -- tests of the search journal (orch/journal.h): create/open round trip;
 * refusal of an existing path, non-journal, random, truncated and other-version files (each left
 * byte for byte unchanged); the writer lock (a second writer refused, a SIGKILLed holder
 * releases it); read-only opens beside the writer; every operation; the leaderboard's order; a
 * size cap failing a transaction like a full disk; and kill -9 at random moments while a child
 * commits (every committed row survives, integrity_check passes). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "actlab/rng.h"
#include "orch/journal.h"
#include "test.h"

// ----------------------------------------------------------------------------
// helpers

static const char cfg_text[] = "data=fashion-mnist\nmodel=mlp:256x2\nact=relu\n";
static const uint64_t cfg_hash = 0xfedcba9876543210u;

/* The bytes of path in *buf (caller frees); its size, or -1. */
static long slurp(const char *path, unsigned char **buf)
{
    *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!*buf || fread(*buf, 1, (size_t)n, f) != (size_t)n)
        n = -1;
    fclose(f);
    return n;
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static orch_journal *create(const char *path)
{
    orch_journal *j = NULL;
    act_diag d = { 0 };
    int rc = orch_journal_create(path, cfg_text, cfg_hash, &j, &d);
    CHECKF(rc == ACT_OK && j, "create %s: %s (%s)", path, act_strerror(rc), d.msg);
    return j;
}

static orch_journal *open_j(const char *path, int writable)
{
    orch_journal *j = NULL;
    act_diag d = { 0 };
    int rc = orch_journal_open(path, writable, &j, &d);
    CHECKF(rc == ACT_OK && j, "open %s (writable %d): %s (%s)", path, writable,
           act_strerror(rc), d.msg);
    return j;
}

/* One integer from sql on a plain SQLite connection to path (read-only); -1 on error. */
static long long sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return v;
}

/* The first text of sql on path, into out. */
static void sql_text(const char *path, const char *sql, char *out, size_t cap)
{
    sqlite3 *db = NULL;
    out[0] = '\0';
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
            snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
}

static int sql_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* Adds a kept candidate "c<i>" and returns its id (0 on failure, checked). */
static int64_t add_cand(orch_journal *j, const char *canon, orch_cand_status status,
                        int64_t equiv_of)
{
    orch_candidate c = { 0 };
    c.canon = canon;
    c.expr = canon;
    c.fp = 0x8000000000000001u;   /* above INT64_MAX: must round-trip */
    c.n_params = 1;
    c.status = status;
    c.reject_reason = status == ORCH_CAND_REJECTED ? "constant" : NULL;
    c.equiv_of = equiv_of;
    int64_t id = 0;
    int rc = orch_candidate_add(j, &c, &id);
    CHECKF(rc == ACT_OK && id > 0, "candidate_add %s: %s (%s)", canon, act_strerror(rc),
           orch_journal_error(j));
    return id;
}

static orch_result result(double val)
{
    orch_result r = { 0 };
    r.state = ORCH_TRIAL_DONE;
    r.val_acc = val;
    r.test_acc = val - 0.01;
    r.train_loss = 0.5;
    r.epochs = 1;
    r.wall_s = 2.0;
    return r;
}

// ----------------------------------------------------------------------------
// create, open, refuse

void test_orch_journal_roundtrip(void)
{
    char dir[64], path[128];
    if (!test_tmpdir(dir, "journal"))
        return;
    snprintf(path, sizeof path, "%s/s.journal", dir);
    orch_journal *j = create(path);
    if (!j)
        goto out;
    CHECK(strcmp(orch_journal_config_text(j), cfg_text) == 0);
    CHECK(orch_journal_config_hash(j) == cfg_hash);
    orch_journal_close(j);

    CHECK(sql_int(path, "PRAGMA application_id") == ORCH_JOURNAL_APP_ID);
    CHECK(sql_int(path, "PRAGMA user_version") == ORCH_JOURNAL_VERSION);
    char s[128];
    sql_text(path, "PRAGMA journal_mode", s, sizeof s);
    CHECKF(strcmp(s, "wal") == 0, "journal_mode %s", s);
    sql_text(path, "SELECT value FROM meta WHERE key = 'config_hash'", s, sizeof s);
    CHECKF(strcmp(s, "fedcba9876543210") == 0, "config_hash %s", s);
    sql_text(path, "SELECT value FROM meta WHERE key = 'format'", s, sizeof s);
    CHECK(strcmp(s, ORCH_JOURNAL_FORMAT) == 0);
    CHECK(sql_int(path, "SELECT count(*) FROM meta WHERE key IN ('actlab_version', 'created', "
                  "'schema_version', 'config')") == 4);

    for (int w = 0; w < 2; w++) {
        j = open_j(path, w);
        if (!j)
            continue;
        CHECK(strcmp(orch_journal_config_text(j), cfg_text) == 0);
        CHECK(orch_journal_config_hash(j) == cfg_hash);
        orch_journal_close(j);
    }
    orch_journal *none = (orch_journal *)1;
    act_diag d = { 0 };
    snprintf(path, sizeof path, "%s/missing.journal", dir);
    CHECK(orch_journal_open(path, 0, &none, &d) == ACT_ENOTFOUND && !none);
    CHECK(strstr(d.msg, path) != NULL);
    snprintf(path, sizeof path, "%s/nodir/s.journal", dir);
    none = (orch_journal *)1;
    CHECK(orch_journal_create(path, cfg_text, 1, &none, &d) == ACT_ENOTFOUND && !none);
out:
    test_rmdir_all(dir);
}

/* Opens path both ways and expects a refusal with status want, a message naming path and
 * containing word, the file byte for byte as before, and no lock file left. */
static void expect_refused(const char *path, int want, const char *word)
{
    unsigned char *before, *after;
    long n0 = slurp(path, &before);
    CHECK(n0 >= 0);
    for (int w = 0; w < 2; w++) {
        orch_journal *j = (orch_journal *)1;
        act_diag d = { 0 };
        int rc = orch_journal_open(path, w, &j, &d);
        CHECKF(rc == want && j == NULL, "%s (writable %d): %s, expected %s (%s)", path, w,
               act_status_name(rc), act_status_name(want), d.msg);
        CHECKF(strstr(d.msg, path) && strstr(d.msg, word), "message '%s' lacks '%s'", d.msg,
               word);
        if (j && rc == ACT_OK)
            orch_journal_close(j);
    }
    long n1 = slurp(path, &after);
    CHECKF(n1 == n0 && (n0 < 0 || memcmp(before, after, (size_t)n0) == 0),
           "%s changed (%ld -> %ld bytes)", path, n0, n1);
    char lock[160];
    snprintf(lock, sizeof lock, "%s.lock", path);
    CHECKF(!file_exists(lock), "refused %s left %s", path, lock);
    free(before);
    free(after);
}

void test_orch_journal_refuses(void)
{
    char dir[64], path[128];
    if (!test_tmpdir(dir, "journal"))
        return;
    act_rng rng = act_rng_seed(11);

    /* create never overwrites: an existing journal, and any other file */
    snprintf(path, sizeof path, "%s/s.journal", dir);
    orch_journal *j = create(path);
    if (j) {
        for (int i = 0; i < 300; i++) {
            char canon[64];
            snprintf(canon, sizeof canon, "candidate-%03d-with-some-length-to-fill", i);
            add_cand(j, canon, ORCH_CAND_KEPT, 0);
        }
        orch_journal_close(j);
    }
    unsigned char *before, *after;
    long n0 = slurp(path, &before);
    orch_journal *k = (orch_journal *)1;
    act_diag d = { 0 };
    CHECK(orch_journal_create(path, cfg_text, cfg_hash, &k, &d) == ACT_EINVAL && !k);
    CHECKF(strstr(d.msg, path) && strstr(d.msg, "exists"), "%s", d.msg);
    long n1 = slurp(path, &after);
    CHECK(n0 > 0 && n1 == n0 && memcmp(before, after, (size_t)n0) == 0);
    free(after);

    /* a journal of another schema version */
    char other[128];
    snprintf(other, sizeof other, "%s/v2.journal", dir);
    FILE *f = fopen(other, "wb");
    CHECK(f && fwrite(before, 1, (size_t)n0, f) == (size_t)n0);
    if (f)
        fclose(f);
    CHECK(sql_exec(other, "PRAGMA user_version = 2") == SQLITE_OK);
    expect_refused(other, ACT_EFORMAT, "schema version 2");

    /* a truncated journal (the last third of its pages gone) */
    snprintf(other, sizeof other, "%s/trunc.journal", dir);
    f = fopen(other, "wb");
    long cut = n0 / 4096 * 2 / 3 * 4096;
    CHECK(cut >= 4096 && f && fwrite(before, 1, (size_t)cut, f) == (size_t)cut);
    if (f)
        fclose(f);
    expect_refused(other, ACT_EFORMAT, "corrupt");

    /* a journal with one b-tree page overwritten in the middle (only quick_check sees it) */
    snprintf(other, sizeof other, "%s/flipped.journal", dir);
    f = fopen(other, "wb");
    long page = n0 / 4096 / 2 * 4096;
    CHECK(page >= 4096);
    for (long i = 0; i < 64 && page + 100 + i < n0; i++)
        before[page + 100 + i] ^= 0x5a;
    CHECK(f && fwrite(before, 1, (size_t)n0, f) == (size_t)n0);
    if (f)
        fclose(f);
    expect_refused(other, ACT_EFORMAT, "corrupt");
    free(before);

    /* an SQLite file of something else */
    snprintf(other, sizeof other, "%s/other.db", dir);
    CHECK(sql_exec(other, "CREATE TABLE t(x); INSERT INTO t VALUES (1);") == SQLITE_OK);
    expect_refused(other, ACT_EFORMAT, "not an actlab journal");
    /* ... with actlab's application_id but not its tables */
    CHECK(sql_exec(other, "PRAGMA application_id = 1097026156; PRAGMA user_version = 1")
          == SQLITE_OK);
    expect_refused(other, ACT_EFORMAT, "no table");

    /* random bytes, and an empty file */
    snprintf(other, sizeof other, "%s/random.journal", dir);
    f = fopen(other, "wb");
    for (int i = 0; f && i < 8192; i++)
        fputc((int)(act_rng_next(&rng) & 0xff), f);
    if (f)
        fclose(f);
    expect_refused(other, ACT_EFORMAT, "not an actlab journal");
    snprintf(other, sizeof other, "%s/empty.journal", dir);
    f = fopen(other, "wb");
    if (f)
        fclose(f);
    expect_refused(other, ACT_EFORMAT, "application_id 0");
    test_rmdir_all(dir);
}

// ----------------------------------------------------------------------------
// the writer lock and readers

void test_orch_journal_writer_lock(void)
{
    char dir[64], path[128];
    if (!test_tmpdir(dir, "journal"))
        return;
    snprintf(path, sizeof path, "%s/s.journal", dir);
    orch_journal *w = create(path);
    if (!w)
        goto out;
    char me[32];
    snprintf(me, sizeof me, "pid %ld", (long)getpid());

    /* a second writer is refused, naming the holder */
    orch_journal *w2 = (orch_journal *)1;
    act_diag d = { 0 };
    CHECK(orch_journal_open(path, 1, &w2, &d) == ACT_EIO && !w2);
    CHECKF(strstr(d.msg, me) && strstr(d.msg, path), "%s", d.msg);

    /* a reader works beside the writer and sees each commit */
    orch_journal *r = open_j(path, 0);
    CHECK(add_cand(w, "a", ORCH_CAND_KEPT, 0) > 0);
    orch_candidate c;
    if (r) {
        CHECK(orch_candidate_find(r, "a", &c) == ACT_OK && strcmp(c.canon, "a") == 0);
        CHECK(orch_candidate_find(r, "b", &c) == ACT_ENOTFOUND);
        CHECK(orch_event_add(r, "x", NULL) == ACT_EIO);      /* read-only */
        CHECK(orch_journal_begin(r) == ACT_EIO);
    }
    CHECK(orch_journal_begin(w) == ACT_OK);
    add_cand(w, "b", ORCH_CAND_KEPT, 0);
    if (r)   /* not committed yet: invisible */
        CHECK(orch_candidate_find(r, "b", &c) == ACT_ENOTFOUND);
    CHECK(orch_journal_commit(w) == ACT_OK);
    if (r)
        CHECK(orch_candidate_find(r, "b", &c) == ACT_OK);
    orch_journal_close(w);
    orch_journal_close(r);

    /* a child holds the lock; SIGKILL releases it */
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        orch_journal *cj = NULL;
        char ok = orch_journal_open(path, 1, &cj, NULL) == ACT_OK ? 'y' : 'n';
        if (write(pfd[1], &ok, 1) != 1)
            _exit(2);
        for (;;)
            pause();
    }
    close(pfd[1]);
    char ok = 0;
    CHECK(pid > 0 && read(pfd[0], &ok, 1) == 1 && ok == 'y');
    close(pfd[0]);
    char his[32];
    snprintf(his, sizeof his, "pid %ld", (long)pid);
    w2 = (orch_journal *)1;
    CHECK(orch_journal_open(path, 1, &w2, &d) == ACT_EIO && !w2);
    CHECKF(strstr(d.msg, his) != NULL, "%s (expected %s)", d.msg, his);
    r = open_j(path, 0);   /* readers are not blocked by the writer */
    orch_journal_close(r);
    if (pid > 0) {
        kill(pid, SIGKILL);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
    }
    w = open_j(path, 1);
    if (w)
        CHECK(orch_candidate_find(w, "b", &c) == ACT_OK);
    orch_journal_close(w);
out:
    test_rmdir_all(dir);
}

// ----------------------------------------------------------------------------
// operations

static int count_cb(void *ctx, const orch_candidate *c)
{
    (void)c;
    ++*(int *)ctx;
    return 0;
}

typedef struct tickets { int n; uint64_t t[8]; int64_t trial[8]; } tickets;

static int ticket_cb(void *ctx, const orch_proposal *p)
{
    tickets *t = ctx;
    if (t->n < 8) {
        t->t[t->n] = p->ticket;
        t->trial[t->n] = p->trial_id;
    }
    t->n++;
    return 0;
}

static void test_candidates(orch_journal *j, int64_t *a, int64_t *b)
{
    *a = add_cand(j, "max(x, 0)", ORCH_CAND_KEPT, 0);
    *b = add_cand(j, "x*sigmoid(x)", ORCH_CAND_KEPT, 0);
    int64_t dup = add_cand(j, "max(0, x)+0", ORCH_CAND_DUPLICATE, *a);
    int64_t rej = add_cand(j, "x - x", ORCH_CAND_REJECTED, 0);
    CHECK(*a > 0 && *b > *a && dup > *b && rej > dup);
    orch_candidate c;
    CHECK(orch_candidate_find(j, "max(0, x)+0", &c) == ACT_OK);
    CHECK(c.id == dup && c.status == ORCH_CAND_DUPLICATE && c.equiv_of == *a);
    CHECK(c.fp == 0x8000000000000001u && c.n_params == 1 && !c.reject_reason);
    CHECK(orch_candidate_get(j, rej, &c) == ACT_OK);
    CHECK(c.status == ORCH_CAND_REJECTED && c.reject_reason &&
          strcmp(c.reject_reason, "constant") == 0 && c.equiv_of == 0);
    CHECK(orch_candidate_get(j, 999, &c) == ACT_ENOTFOUND);
    CHECK(orch_candidate_find(j, "nope", &c) == ACT_ENOTFOUND);

    /* refused: a canon taken, a duplicate of nothing, a rejection without a reason */
    orch_candidate bad = { 0 };
    bad.canon = bad.expr = "max(x, 0)";
    bad.status = ORCH_CAND_KEPT;
    int64_t id;
    CHECK(orch_candidate_add(j, &bad, &id) == ACT_EINVAL);
    bad.canon = "new";
    bad.status = ORCH_CAND_DUPLICATE;
    bad.equiv_of = 12345;
    CHECK(orch_candidate_add(j, &bad, &id) == ACT_EINVAL);
    bad.status = ORCH_CAND_REJECTED;
    bad.equiv_of = 0;
    CHECK(orch_candidate_add(j, &bad, &id) == ACT_EINVAL);
    CHECK(strstr(orch_journal_error(j), "constraint") != NULL);

    int n = 0;
    CHECK(orch_candidate_each(j, ORCH_CAND_KEPT, count_cb, &n) == ACT_OK && n == 2);
    n = 0;
    CHECK(orch_candidate_each(j, ORCH_CAND_COUNT, count_cb, &n) == ACT_OK && n == 4);
}

static void test_trials(orch_journal *j, int64_t a, int64_t b)
{
    int64_t t1, t2, t3, t;
    int is_new;
    CHECK(orch_trial_add(j, a, "e1", 1, &t1, &is_new) == ACT_OK && is_new);
    CHECK(orch_trial_add(j, a, "e1", 2, &t2, &is_new) == ACT_OK && is_new);
    CHECK(orch_trial_add(j, b, "e1", UINT64_MAX, &t3, &is_new) == ACT_OK && is_new);
    CHECK(orch_trial_add(j, a, "e1", 1, &t, &is_new) == ACT_OK && !is_new && t == t1);
    CHECK(orch_trial_add(j, 999, "e1", 1, &t, &is_new) == ACT_EINVAL);
    CHECK(t1 < t2 && t2 < t3);

    int64_t ids[8];
    size_t n;
    CHECK(orch_trial_next(j, ids, 2, &n) == ACT_OK && n == 2 && ids[0] == t1 && ids[1] == t2);
    CHECK(orch_trial_lease(j, t1, "w1", 100.0) == ACT_OK);
    CHECK(orch_trial_lease(j, t1, "w2", 100.0) == ACT_EINVAL);     /* not queued */
    CHECK(orch_trial_lease(j, 999, "w2", 100.0) == ACT_ENOTFOUND);
    CHECK(orch_trial_lease(j, t2, "w2", 200.0) == ACT_OK);
    CHECK(orch_trial_next(j, ids, 8, &n) == ACT_OK && n == 1 && ids[0] == t3);
    CHECK(orch_trial_expired(j, 150.0, ids, 8, &n) == ACT_OK && n == 1 && ids[0] == t1);

    orch_trial tr;
    CHECK(orch_trial_get(j, t1, &tr) == ACT_OK);
    CHECK(tr.state == ORCH_TRIAL_LEASED && tr.owner && strcmp(tr.owner, "w1") == 0);
    CHECK(tr.lease_expiry == 100.0 && tr.started > 1e9 && isnan(tr.finished));
    CHECK(strcmp(tr.canon, "max(x, 0)") == 0 && strcmp(tr.fidelity, "e1") == 0 && tr.seed == 1);
    CHECK(orch_trial_get(j, t3, &tr) == ACT_OK && tr.seed == UINT64_MAX);

    /* finish is idempotent: the first result stays */
    orch_result r = result(0.875);
    int applied = -1;
    CHECK(orch_trial_finish(j, t1, &r, &applied) == ACT_OK && applied == 1);
    orch_result r2 = result(0.5);
    CHECK(orch_trial_finish(j, t1, &r2, &applied) == ACT_OK && applied == 0);
    r2.state = ORCH_TRIAL_FAILED_CANDIDATE;
    CHECK(orch_trial_finish(j, t1, &r2, &applied) == ACT_OK && applied == 0);
    CHECK(orch_trial_get(j, t1, &tr) == ACT_OK);
    CHECK(tr.state == ORCH_TRIAL_DONE && tr.result.val_acc == 0.875 && tr.result.epochs == 1);
    CHECK(isnan(tr.lease_expiry) && tr.finished >= tr.started);
    CHECK(orch_trial_finish(j, 999, &r, &applied) == ACT_ENOTFOUND && applied == 0);
    r2.state = ORCH_TRIAL_LEASED;
    CHECK(orch_trial_finish(j, t2, &r2, &applied) == ACT_EINVAL);

    /* requeue: attempts + 1, failed_infra at max_attempts; a finished trial stays */
    orch_trial_state s;
    CHECK(orch_trial_requeue(j, t1, 3, &s) == ACT_OK && s == ORCH_TRIAL_DONE);
    CHECK(orch_trial_requeue(j, t2, 2, &s) == ACT_OK && s == ORCH_TRIAL_QUEUED);
    CHECK(orch_trial_get(j, t2, &tr) == ACT_OK && tr.attempts == 1 && !tr.owner);
    CHECK(orch_trial_requeue(j, t2, 2, &s) == ACT_OK && s == ORCH_TRIAL_QUEUED);  /* not leased */
    CHECK(orch_trial_get(j, t2, &tr) == ACT_OK && tr.attempts == 1);
    CHECK(orch_trial_lease(j, t2, "w3", 300.0) == ACT_OK);
    CHECK(orch_trial_requeue(j, t2, 2, &s) == ACT_OK && s == ORCH_TRIAL_FAILED_INFRA);
    CHECK(orch_trial_get(j, t2, &tr) == ACT_OK && tr.attempts == 2);
    CHECK(orch_trial_requeue(j, 999, 2, &s) == ACT_ENOTFOUND);

    /* a late result for a failed_infra trial is accepted; a candidate failure is terminal */
    r2 = result(0.25);
    r2.state = ORCH_TRIAL_FAILED_CANDIDATE;
    r2.val_acc = NAN;
    r2.error = "diverged";
    CHECK(orch_trial_finish(j, t2, &r2, &applied) == ACT_OK && applied == 1);
    CHECK(orch_trial_get(j, t2, &tr) == ACT_OK && tr.state == ORCH_TRIAL_FAILED_CANDIDATE);
    CHECK(isnan(tr.result.val_acc) && tr.result.error && strcmp(tr.result.error, "diverged") == 0);
    CHECK(orch_trial_finish(j, t2, &r, &applied) == ACT_OK && applied == 0);

    /* resume: every leased trial back to the queue */
    CHECK(orch_trial_lease(j, t3, "w4", 400.0) == ACT_OK);
    size_t q, f;
    CHECK(orch_trial_requeue_leased(j, 3, &q, &f) == ACT_OK && q == 1 && f == 0);
    CHECK(orch_trial_lease(j, t3, "w4", 400.0) == ACT_OK);
    CHECK(orch_trial_requeue_leased(j, 2, &q, &f) == ACT_OK && q == 0 && f == 1);
    CHECK(orch_trial_requeue_leased(j, 2, &q, &f) == ACT_OK && q == 0 && f == 0);

    int64_t counts[ORCH_TRIAL_COUNT];
    CHECK(orch_trial_counts(j, NULL, counts) == ACT_OK);
    CHECK(counts[ORCH_TRIAL_QUEUED] == 0 && counts[ORCH_TRIAL_LEASED] == 0);
    CHECK(counts[ORCH_TRIAL_DONE] == 1 && counts[ORCH_TRIAL_FAILED_CANDIDATE] == 1);
    CHECK(counts[ORCH_TRIAL_FAILED_INFRA] == 1);
    CHECK(orch_trial_add(j, a, "e2", 1, &t, &is_new) == ACT_OK && is_new);
    CHECK(orch_trial_counts(j, "e2", counts) == ACT_OK);
    CHECK(counts[ORCH_TRIAL_QUEUED] == 1 && counts[ORCH_TRIAL_DONE] == 0);
}

static void test_proposals(orch_journal *j, int64_t a)
{
    int64_t t1, t2;
    int is_new;
    CHECK(orch_trial_add(j, a, "p", 1, &t1, &is_new) == ACT_OK);
    CHECK(orch_trial_add(j, a, "p", 2, &t2, &is_new) == ACT_OK);
    uint8_t tok[5] = { 1, 0, 0, 3, 4 };
    orch_proposal p = { 0 };
    p.ticket = 1;
    p.candidate_id = a;
    p.tokens = tok;
    p.n_tokens = 5;
    p.logp = -2.5;
    p.trial_id = t1;
    CHECK(orch_proposal_add(j, &p) == ACT_OK);
    CHECK(orch_proposal_add(j, &p) == ACT_EINVAL);          /* ticket taken */
    p.ticket = 2;
    p.parent_ticket = 1;
    p.mutation = "unary";
    CHECK(orch_proposal_add(j, &p) == ACT_OK);              /* a repeat: same trial */
    p.ticket = 3;
    p.parent_ticket = 77;                                   /* no such parent */
    CHECK(orch_proposal_add(j, &p) == ACT_EINVAL);
    p.parent_ticket = 0;
    p.trial_id = 0;                                         /* rejected: floor reward now */
    p.has_reward = 1;
    p.reward = 0.1;
    CHECK(orch_proposal_add(j, &p) == ACT_OK);
    p.ticket = 4;
    p.has_reward = 0;
    p.trial_id = t2;
    CHECK(orch_proposal_add(j, &p) == ACT_OK);

    tickets tk = { 0 };
    CHECK(orch_proposal_waiting(j, 0, ticket_cb, &tk) == ACT_OK);
    CHECK(tk.n == 3 && tk.t[0] == 1 && tk.t[1] == 2 && tk.t[2] == 4 && tk.trial[2] == t2);
    tk.n = 0;
    CHECK(orch_proposal_waiting(j, t1, ticket_cb, &tk) == ACT_OK);
    CHECK(tk.n == 2 && tk.t[0] == 1 && tk.t[1] == 2);
    CHECK(orch_proposal_set_reward(j, 2, 0.9) == ACT_OK);
    CHECK(orch_proposal_set_reward(j, 2, 0.8) == ACT_ENOTFOUND);    /* already rewarded */
    CHECK(orch_proposal_set_reward(j, 3, 0.8) == ACT_ENOTFOUND);
    CHECK(orch_proposal_set_reward(j, 42, 0.8) == ACT_ENOTFOUND);
    CHECK(orch_proposal_set_reward(j, 1, NAN) == ACT_EINVAL);
    tk.n = 0;
    CHECK(orch_proposal_waiting(j, t1, ticket_cb, &tk) == ACT_OK && tk.n == 1 && tk.t[0] == 1);
}

static void test_strategy_events(orch_journal *j)
{
    uint8_t *buf;
    size_t len;
    int64_t v;
    CHECK(orch_strategy_get(j, &buf, &len, &v) == ACT_ENOTFOUND && !buf);
    uint8_t s1[3] = { 1, 2, 3 }, s2[4] = { 4, 5, 6, 0 };
    CHECK(orch_strategy_put(j, s1, 3, 0, &v) == ACT_OK && v == 1);
    CHECK(orch_strategy_put(j, s2, 4, 0, &v) == ACT_OK && v == 2);
    CHECK(orch_strategy_get(j, &buf, &len, &v) == ACT_OK && v == 2 && len == 4);
    CHECK(buf && memcmp(buf, s2, 4) == 0);
    free(buf);
    CHECK(orch_strategy_put(j, s1, 3, 2, &v) == ACT_OK && v == 3);
    CHECK(orch_strategy_put(j, s1, 3, 2, &v) == ACT_OK && v == 4);
    CHECK(orch_strategy_get(j, &buf, &len, &v) == ACT_OK && v == 4 && len == 3);
    free(buf);
    CHECK(orch_event_add(j, "start", "workers=2") == ACT_OK);
    CHECK(orch_event_add(j, "stop", NULL) == ACT_OK);
}

void test_orch_journal_operations(void)
{
    char dir[64], path[128];
    if (!test_tmpdir(dir, "journal"))
        return;
    snprintf(path, sizeof path, "%s/s.journal", dir);
    orch_journal *j = create(path);
    if (!j)
        goto out;
    int64_t a, b;
    test_candidates(j, &a, &b);
    test_trials(j, a, b);
    test_proposals(j, a);
    test_strategy_events(j);

    /* a rolled-back transaction leaves nothing; a committed one stays */
    orch_candidate c;
    CHECK(orch_journal_begin(j) == ACT_OK);
    add_cand(j, "gone", ORCH_CAND_KEPT, 0);
    CHECK(orch_journal_rollback(j) == ACT_OK);
    CHECK(orch_journal_rollback(j) == ACT_OK);      /* none open: fine */
    CHECK(orch_candidate_find(j, "gone", &c) == ACT_ENOTFOUND);
    CHECK(orch_journal_begin(j) == ACT_OK);
    add_cand(j, "kept", ORCH_CAND_KEPT, 0);
    CHECK(orch_journal_commit(j) == ACT_OK);
    orch_journal_close(j);

    j = open_j(path, 0);
    if (j) {
        CHECK(orch_candidate_find(j, "kept", &c) == ACT_OK);
        uint8_t *buf;
        size_t len;
        int64_t v;
        CHECK(orch_strategy_get(j, &buf, &len, &v) == ACT_OK && v == 4);
        free(buf);
        orch_journal_close(j);
    }
    CHECK(sql_int(path, "SELECT count(*) FROM strategy") == 2);
    CHECK(sql_int(path, "SELECT count(*) FROM event") == 2);
    CHECK(sql_int(path, "SELECT count(*) FROM proposal") == 4);
    CHECK(sql_int(path, "PRAGMA foreign_key_check") == -1);   /* no rows */
out:
    test_rmdir_all(dir);
}

// ----------------------------------------------------------------------------
// leaderboard

typedef struct top_rows { int n; int64_t id[16]; double val[16], lo[16], hi[16]; int64_t nt[16]; }
    top_rows;

static int top_cb(void *ctx, const orch_top_row *r)
{
    top_rows *t = ctx;
    if (t->n < 16) {
        t->id[t->n] = r->candidate_id;
        t->val[t->n] = r->val_acc;
        t->lo[t->n] = r->val_min;
        t->hi[t->n] = r->val_max;
        t->nt[t->n] = r->n_trials;
    }
    t->n++;
    return 0;
}

/* Adds trials of candidate cand at fidelity with the given val_accs, all done. */
static void done_trials(orch_journal *j, int64_t cand, const char *fid, const double *val,
                        int n)
{
    for (int i = 0; i < n; i++) {
        int64_t t;
        int is_new, applied;
        orch_result r = result(val[i]);
        CHECK(orch_trial_add(j, cand, fid, (uint64_t)i + 1, &t, &is_new) == ACT_OK);
        CHECK(orch_trial_finish(j, t, &r, &applied) == ACT_OK && applied == 1);
    }
}

void test_orch_journal_top(void)
{
    char dir[64], path[128];
    if (!test_tmpdir(dir, "journal"))
        return;
    snprintf(path, sizeof path, "%s/s.journal", dir);
    orch_journal *j = create(path);
    if (!j)
        goto out;
    /* results inserted in an order that differs from both id and rank; c2 and c5 tie at
     * 0.625, c1, c3 and c4 at 0.5 */
    int64_t id[7];
    for (int i = 0; i < 7; i++) {
        char canon[16];
        snprintf(canon, sizeof canon, "c%d", i);
        id[i] = add_cand(j, canon, i == 6 ? ORCH_CAND_REJECTED : ORCH_CAND_KEPT, 0);
    }
    int64_t dup = add_cand(j, "d", ORCH_CAND_DUPLICATE, id[0]);
    const double v0[] = { 0.5 }, v1[] = { 0.75, 0.25 }, v2[] = { 0.625 },
                 v3[] = { 0.5, 0.5 }, v4[] = { 0.875, 0.125, 0.5 }, v5[] = { 0.5, 0.75 },
                 vdup[] = { 1.0 };
    done_trials(j, id[3], "e1", v3, 2);
    done_trials(j, id[5], "e1", v5, 2);
    done_trials(j, id[1], "e1", v1, 2);
    done_trials(j, id[2], "e1", v2, 1);
    done_trials(j, id[0], "e2", v0, 1);          /* other fidelity */
    done_trials(j, id[4], "e1", v4, 3);
    done_trials(j, id[6], "e1", vdup, 1);        /* rejected: never ranked */
    done_trials(j, dup, "e1", vdup, 1);          /* duplicate: never ranked */
    int64_t t;
    int is_new;
    CHECK(orch_trial_add(j, id[0], "e1", 9, &t, &is_new) == ACT_OK);   /* queued: no result */

    /* expected: c2 (0.625), c5 (0.625), then c1, c3, c4 (all 0.5) by id */
    const int want[] = { 2, 5, 1, 3, 4 };
    top_rows r = { 0 };
    CHECK(orch_top(j, "e1", 10, top_cb, &r) == ACT_OK);
    CHECKF(r.n == 5, "%d rows", r.n);
    for (int i = 0; i < 5 && i < r.n; i++)
        CHECKF(r.id[i] == id[want[i]], "rank %d: candidate %lld, expected %lld", i,
               (long long)r.id[i], (long long)id[want[i]]);
    CHECK(r.nt[0] == 1 && r.nt[1] == 2 && r.nt[4] == 3);
    CHECK(r.val[4] == 0.5 && r.lo[4] == 0.125 && r.hi[4] == 0.875);
    CHECK(r.lo[1] == 0.5 && r.hi[1] == 0.75);
    top_rows r2 = { 0 };
    CHECK(orch_top(j, "e1", 2, top_cb, &r2) == ACT_OK && r2.n == 2 && r2.id[1] == id[5]);
    top_rows r3 = { 0 };
    CHECK(orch_top(j, "e2", 10, top_cb, &r3) == ACT_OK && r3.n == 1 && r3.id[0] == id[0]);
    orch_journal_close(j);
out:
    test_rmdir_all(dir);
}

// ----------------------------------------------------------------------------
// failures: a full disk (size cap), kill -9

void test_orch_journal_full(void)
{
    char dir[64], path[128];
    if (!test_tmpdir(dir, "journal"))
        return;
    snprintf(path, sizeof path, "%s/s.journal", dir);
    orch_journal *j = create(path);
    if (!j)
        goto out;
    CHECK(orch_event_add(j, "before", "committed") == ACT_OK);
    CHECK(orch_journal_set_max_size(j, 64 * 1024) == ACT_OK);
    char big[2048];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(orch_journal_begin(j) == ACT_OK);
    int rc = ACT_OK, n = 0;
    while (rc == ACT_OK && n < 1000) {
        rc = orch_event_add(j, "fill", big);
        n++;
    }
    CHECKF(rc == ACT_EIO && n < 1000, "rc %s after %d events", act_status_name(rc), n);
    CHECKF(strstr(orch_journal_error(j), "full"), "%s", orch_journal_error(j));
    CHECK(orch_journal_rollback(j) == ACT_OK);
    /* the committed state is intact and readable */
    orch_journal *r = open_j(path, 0);
    orch_journal_close(r);
    CHECK(sql_int(path, "SELECT count(*) FROM event") == 1);
    /* the same through a commit that fails: nothing of the group stays */
    CHECK(orch_journal_begin(j) == ACT_OK);
    for (int i = 0; i < 5; i++)
        CHECK(orch_event_add(j, "small", "ok") == ACT_OK);
    CHECK(orch_journal_commit(j) == ACT_OK);
    CHECK(orch_journal_set_max_size(j, 0) == ACT_OK);   /* lifted */
    CHECK(orch_event_add(j, "after", big) == ACT_OK);
    orch_journal_close(j);
    CHECK(sql_int(path, "SELECT count(*) FROM event") == 7);
    char s[64];
    sql_text(path, "PRAGMA integrity_check", s, sizeof s);
    CHECK(strcmp(s, "ok") == 0);
out:
    test_rmdir_all(dir);
}

/* The child of test_orch_journal_commit_fails: the file size limit lets a group of events
 * into SQLite's cache but not into the WAL, so COMMIT itself fails. Exits 0 if the commit
 * failed with ACT_EIO, left no transaction open, and a later commit (limit lifted) works. */
static void commit_fails(const char *path)
{
    orch_journal *j = NULL;
    if (orch_journal_open(path, 1, &j, NULL) != ACT_OK)
        _exit(10);
    struct stat sb;
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", path);
    off_t now = stat(wal, &sb) == 0 ? sb.st_size : 0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) != 0)
        _exit(11);
    rlim_t soft = rl.rlim_cur;
    signal(SIGXFSZ, SIG_IGN);
    char big[2048];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    if (orch_journal_begin(j) != ACT_OK)
        _exit(12);
    for (int i = 0; i < 20; i++)
        if (orch_event_add(j, "group", big) != ACT_OK)
            _exit(13);
    rl.rlim_cur = (rlim_t)now + 8192;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        _exit(14);
    if (orch_journal_commit(j) != ACT_EIO)
        _exit(15);
    rl.rlim_cur = soft;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        _exit(16);
    /* no transaction left open: a new one starts and commits */
    if (orch_journal_begin(j) != ACT_OK || orch_event_add(j, "after", "ok") != ACT_OK ||
        orch_journal_commit(j) != ACT_OK)
        _exit(17);
    orch_journal_close(j);
    _exit(0);
}

void test_orch_journal_commit_fails(void)
{
    char dir[64], path[128];
    if (!test_tmpdir(dir, "journal"))
        return;
    snprintf(path, sizeof path, "%s/s.journal", dir);
    orch_journal *j = create(path);
    if (j) {
        CHECK(orch_event_add(j, "before", "committed") == ACT_OK);
        orch_journal_close(j);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0)
            commit_fails(path);
        int status = -1;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
        CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "child status %d (exit code: the step that failed)", status);
        CHECK(sql_int(path, "SELECT count(*) FROM event") == 2);
        CHECK(sql_int(path, "SELECT count(*) FROM event WHERE kind = 'group'") == 0);
        char s[64];
        sql_text(path, "PRAGMA integrity_check", s, sizeof s);
        CHECK(strcmp(s, "ok") == 0);
    }
    test_rmdir_all(dir);
}

/* The child of the kill -9 test: commits transaction i = 1, 2, ... (a candidate, its trial, a
 * result and an event, all or nothing) and reports i on fd after each commit. Never returns. */
static void commit_loop(const char *path, int fd)
{
    orch_journal *j = NULL;
    if (orch_journal_open(path, 1, &j, NULL) != ACT_OK)
        _exit(3);
    for (int32_t i = 1;; i++) {
        char canon[32];
        snprintf(canon, sizeof canon, "c%d", (int)i);
        orch_candidate c = { 0 };
        c.canon = c.expr = canon;
        c.status = ORCH_CAND_KEPT;
        int64_t cid, tid;
        int is_new, applied;
        orch_result r = result(0.5);
        if (orch_journal_begin(j) != ACT_OK || orch_candidate_add(j, &c, &cid) != ACT_OK ||
            orch_trial_add(j, cid, "e1", 1, &tid, &is_new) != ACT_OK ||
            orch_trial_finish(j, tid, &r, &applied) != ACT_OK ||
            orch_event_add(j, "result", canon) != ACT_OK || orch_journal_commit(j) != ACT_OK)
            _exit(4);
        if (write(fd, &i, sizeof i) != sizeof i)
            _exit(5);
    }
}

void test_orch_journal_kill9(void)
{
    char dir[64], path[128];
    if (!test_tmpdir(dir, "journal"))
        return;
    uint64_t seed = (uint64_t)time(NULL);
    act_rng rng = act_rng_seed(seed);
    for (int round = 0; round < 6; round++) {
        snprintf(path, sizeof path, "%s/s%d.journal", dir, round);
        orch_journal *j = create(path);
        if (!j)
            break;
        orch_journal_close(j);
        int pfd[2];
        CHECK(pipe(pfd) == 0);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(pfd[0]);
            commit_loop(path, pfd[1]);
        }
        close(pfd[1]);
        /* wait for a random number of commits (1..200), then kill at a random moment after */
        int32_t target = 1 + (int32_t)(act_rng_next(&rng) % 200), got = 0, i;
        while (got < target && read(pfd[0], &i, sizeof i) == sizeof i)
            got = i;
        usleep((useconds_t)(act_rng_next(&rng) % 3000));
        kill(pid, SIGKILL);
        while (read(pfd[0], &i, sizeof i) == sizeof i)
            got = i;
        close(pfd[0]);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
               "round %d: child ended otherwise (status %d; seed %llu)", round, status,
               (unsigned long long)seed);

        /* the writer lock went with the child; opening recovers the WAL */
        j = open_j(path, 1);
        if (!j)
            break;
        orch_journal_close(j);
        /* every reported commit is there, and every transaction is whole: candidates c1..cN,
         * each with its done trial and event */
        long long nc = sql_int(path, "SELECT count(*) FROM candidate");
        long long nd = sql_int(path, "SELECT count(*) FROM trial WHERE state = 'done'");
        long long ne = sql_int(path, "SELECT count(*) FROM event");
        long long mx = sql_int(path, "SELECT max(CAST(substr(canon, 2) AS INTEGER)) "
                               "FROM candidate");
        CHECKF(nc >= got && nd == nc && ne == nc && mx == nc,
               "round %d: reported %d commits, found %lld candidates (max c%lld), %lld done, "
               "%lld events (seed %llu)", round, (int)got, nc, mx, nd, ne,
               (unsigned long long)seed);
        char s[64];
        sql_text(path, "PRAGMA integrity_check", s, sizeof s);
        CHECKF(strcmp(s, "ok") == 0, "round %d: integrity_check: %s (seed %llu)", round, s,
               (unsigned long long)seed);
    }
    test_rmdir_all(dir);
}
