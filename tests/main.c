/* main.c -- the test runner: runs every test in TEST_LIST (or those whose name contains
 * argv[1]), prints ok/FAIL per test and ends with "N passed, N failed"; exits non-zero on
 * any failure. Every test starts on the instruction set in use at start-up (ACTLAB_ISA, or
 * the best one), whatever the tests before it set. `run --orch-worker MS` is not a test: it is
 * a synthetic search worker on stdin/stdout (MS milliseconds per trial), the program the local
 * worker pool's tests (test_orch_local.c) execute. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actlab/act.h"
#include "actlab/nn.h"
#include "../orch/worker.h"
#include "test.h"

int test_failures;

static const struct {
    const char *name;
    void (*run)(void);
} tests[] = {
#define X(name) { #name, test_##name },
    TEST_LIST(X)
#undef X
};

int test_tmpdir(char *dir, const char *prefix)
{
    snprintf(dir, 64, "/tmp/actlab-%.32s-XXXXXX", prefix);
    int ok = mkdtemp(dir) != NULL;
    CHECKF(ok, "mkdtemp: %s", strerror(errno));
    return ok;
}

void test_rmdir_all(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int test_fashion(act_dataset *tr, act_dataset *te)
{
    act_diag d;
    int rc = act_data_open("fashion-mnist", NULL, tr, te, &d);
    CHECKF(rc == ACT_OK, "Fashion-MNIST missing (install dataset-fashion-mnist): %s", d.msg);
    return rc == ACT_OK;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--orch-worker")) {
        static int ms;
        ms = atoi(argv[2]);
        orch_worker_config cfg = { 0, 1, 30.0, orch_synthetic_eval, &ms, NULL };
        return orch_worker_run(&cfg, NULL) == ACT_OK ? 0 : 1;
    }
    const char *filter = argc > 1 ? argv[1] : "";
    int passed = 0, failed = 0;
    act_isa isa0 = act_isa_get();

    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (!strstr(tests[i].name, filter))
            continue;
        int before = test_failures;
        if (act_isa_set(isa0) != ACT_OK) {     /* isa0 was in use, so it is supported */
            fprintf(stderr, "%s: cannot restore the instruction set %s\n", tests[i].name,
                    act_isa_name(isa0));
            test_failures++;
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        tests[i].run();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        int ok = test_failures == before;
        printf("%-48s %s  (%.2f s)\n", tests[i].name, ok ? "ok" : "FAIL", s);
        fflush(stdout);
        ok ? passed++ : failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;   /* a test binary that cannot fail is not a test */
}
