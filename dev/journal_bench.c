/* journal_bench.c -- how many trial results per second the search journal (orch/journal.h)
 * commits, with one result per transaction and with group commits of 10 and 100. A result is
 * what the coordinator journals when a worker reports: orch_trial_finish, the reward of the
 * proposal waiting on the trial, an event. Every transaction is durable (WAL, synchronous=FULL:
 * an fsync per commit), so the one-per-transaction rate is the disk's fsync rate. Each run
 * checks afterwards that every result is in the journal (FAIL otherwise).
 *
 *     make all B=build
 *     cc -O2 -Iinclude -I. dev/journal_bench.c build/libactlab_orch.a build/libactlab.a \
 *        -lsqlite3 -lm -o build/journal_bench
 *     ./build/journal_bench [DIR [N]]     # journals in DIR (default .), N results per run (5000)
 *
 * Put DIR on the disk the journal will live on: /tmp on tmpfs never syncs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "orch/journal.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define TRY(call)                                                                   \
    do {                                                                            \
        int rc_ = (call);                                                           \
        if (rc_ != ACT_OK) {                                                        \
            fprintf(stderr, "%s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #call,      \
                    act_strerror(rc_), orch_journal_error(j));                      \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

/* One run: n leased trials with a waiting proposal each (set up in one transaction), then
 * their results in groups of `group`. Returns results per second, or -1 on a failed check. */
static double run(const char *dir, int n, int group)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/journal_bench_%d_%ld.journal", dir, group, (long)getpid());
    orch_journal *j = NULL;
    act_diag d;
    if (orch_journal_create(path, "bench=1\n", 1, &j, &d) != ACT_OK) {
        fprintf(stderr, "%s\n", d.msg);
        exit(1);
    }
    int64_t *trial = malloc((size_t)n * sizeof *trial);
    if (!trial)
        exit(1);
    TRY(orch_journal_begin(j));
    for (int i = 0; i < n; i++) {
        char canon[32];
        snprintf(canon, sizeof canon, "c%d", i);
        orch_candidate c = { 0 };
        c.canon = c.expr = canon;
        c.status = ORCH_CAND_KEPT;
        int64_t cid;
        int is_new;
        TRY(orch_candidate_add(j, &c, &cid));
        TRY(orch_trial_add(j, cid, "epochs=1", 1, &trial[i], &is_new));
        orch_proposal p = { 0 };
        p.ticket = (uint64_t)i + 1;
        p.candidate_id = cid;
        p.trial_id = trial[i];
        TRY(orch_proposal_add(j, &p));
        TRY(orch_trial_lease(j, trial[i], "worker-1", 1e12));
    }
    TRY(orch_journal_commit(j));

    double t0 = now_s();
    for (int i = 0; i < n; i += group) {
        TRY(orch_journal_begin(j));
        for (int k = i; k < i + group && k < n; k++) {
            orch_result r = { 0 };
            r.state = ORCH_TRIAL_DONE;
            r.val_acc = 0.5 + 1e-5 * k;
            r.test_acc = r.val_acc;
            r.train_loss = 0.3;
            r.epochs = 1;
            r.wall_s = 1.0;
            int applied;
            TRY(orch_trial_finish(j, trial[k], &r, &applied));
            TRY(orch_proposal_set_reward(j, (uint64_t)k + 1, r.val_acc));
            TRY(orch_event_add(j, "result", "worker-1"));
        }
        TRY(orch_journal_commit(j));
    }
    double dt = now_s() - t0;

    int64_t counts[ORCH_TRIAL_COUNT];
    TRY(orch_trial_counts(j, NULL, counts));
    int ok = counts[ORCH_TRIAL_DONE] == n && counts[ORCH_TRIAL_LEASED] == 0;
    orch_journal_close(j);
    free(trial);
    static const char *const sfx[] = { "", "-wal", "-shm", ".lock" };
    for (int i = 0; i < 4; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
    return ok ? n / dt : -1;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    int n = argc > 2 ? atoi(argv[2]) : 5000;
    if (n < 1) {
        fprintf(stderr, "usage: journal_bench [DIR [N]]\n");
        return 2;
    }
    printf("%-22s %12s %14s\n", "results/transaction", "results/s", "commits/s");
    int fail = 0;
    static const int groups[] = { 1, 10, 100 };
    for (int g = 0; g < 3; g++) {
        double r = run(dir, n, groups[g]);
        if (r < 0) {
            printf("%-22d %12s\n", groups[g], "FAIL");
            fail = 1;
        } else {
            printf("%-22d %12.0f %14.0f\n", groups[g], r, r / groups[g]);
        }
    }
    return fail;
}
