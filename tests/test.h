/* test.h -- the test harness: CHECK macros, and the list of every test (one list per module,
 * in tests/list_*.h). A test is a void function that records failed checks. */
#ifndef ACTLAB_TEST_H
#define ACTLAB_TEST_H

#include <math.h>
#include <stdio.h>

extern int test_failures;   /* defined in tests/main.c; the only global in tests */

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            test_failures++;                                                         \
        }                                                                            \
    } while (0)

/* CHECK with a printf-style explanation on failure. */
#define CHECKF(cond, ...)                                                            \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                     \
            test_failures++;                                                         \
        }                                                                            \
    } while (0)

/* |a - b| <= atol + rtol * max(|a|, |b|); prints both values on failure. */
#define CHECK_CLOSE(a, b, atol, rtol, ...)                                           \
    do {                                                                             \
        double a_ = (a), b_ = (b);                                                   \
        double tol_ = (atol) + (rtol) * fmax(fabs(a_), fabs(b_));                    \
        if (!(fabs(a_ - b_) <= tol_)) {                                              \
            fprintf(stderr, "%s:%d: %s = %.9g vs %s = %.9g (tol %.3g): ",            \
                    __FILE__, __LINE__, #a, a_, #b, b_, tol_);                       \
            fprintf(stderr, __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                     \
            test_failures++;                                                         \
        }                                                                            \
    } while (0)

/* Shared helpers (tests/main.c). */
struct act_dataset;
/* A fresh directory /tmp/actlab-PREFIX-XXXXXX, its name in dir (>= 64 bytes); 0 on failure
 * (recorded as a failed check). */
int test_tmpdir(char *dir, const char *prefix);
/* Removes dir and everything in it (a failure is a failed check). */
void test_rmdir_all(const char *dir);
/* Fashion-MNIST (Debian's dataset-fashion-mnist) into tr, te; 0 when missing (recorded as a
 * failed check naming the package). */
int test_fashion(struct act_dataset *tr, struct act_dataset *te);

/* Each module keeps its own list, so modules never edit each other's files. */
#include "list_util.h"
#include "list_act.h"
#include "list_expr.h"
#include "list_nn.h"
#include "list_search.h"
#include "list_orch.h"
#include "list_proto.h"

#define TEST_LIST(X) TEST_LIST_UTIL(X) TEST_LIST_ACT(X) TEST_LIST_EXPR(X) TEST_LIST_NN(X) \
                     TEST_LIST_SEARCH(X) TEST_LIST_ORCH(X) TEST_LIST_PROTO(X)

#define X(name) void test_##name(void);
TEST_LIST(X)
#undef X

#endif
