/* fuzz_expr.c -- libFuzzer harness for the expression language: parse -> print -> parse must
 * give an equal tree; canonicalisation must be idempotent and round-trip; every accepted
 * expression compiles (or hits a limit) and evaluates forward/backward in float and double
 * without sanitizer reports. Built and run by fuzz/fuzz.mk (`make fuzz`). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/expr.h"

#define REQUIRE(c)                                                               \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "fuzz_expr: %s:%d: %s\n", __FILE__, __LINE__, #c);   \
            abort();                                                             \
        }                                                                        \
    } while (0)

static void roundtrip(const act_expr *e)
{
    char *s = NULL;
    act_expr *e2 = NULL;
    act_diag d;
    REQUIRE(act_expr_print(e, ACT_EXPR_TEXT, &s) == ACT_OK);
    int rc = act_expr_parse(s, &e2, &d);
    if (rc == ACT_ELIMIT) {                  /* printing may add parentheses: limits apply */
        free(s);
        return;
    }
    if (rc != ACT_OK)
        fprintf(stderr, "reparse of '%s' failed: %s\n", s, d.msg);
    REQUIRE(rc == ACT_OK);
    REQUIRE(act_expr_equal(e, e2));
    act_expr_free(e2);
    free(s);
}

static void evaluate(const act_expr *e)
{
    act_expr_prog *p = NULL;
    int rc = act_expr_compile(e, &p);
    REQUIRE(rc == ACT_OK || rc == ACT_ELIMIT);
    if (rc != ACT_OK)
        return;
    enum { N = 37 };
    float x[N], y[N], dy[N], dx[N], beta[2 * ACT_EXPR_MAX_PARAMS], dp[2 * ACT_EXPR_MAX_PARAMS];
    double xd[N], yd[N], dyd[N], dxd[N], bd[ACT_EXPR_MAX_PARAMS], dpd[ACT_EXPR_MAX_PARAMS];
    for (int i = 0; i < N; i++) {
        x[i] = (float)(i - 18) * 0.37f;
        dy[i] = 1.0f;
        dx[i] = 0.0f;
        xd[i] = x[i];
        dyd[i] = 1.0;
        dxd[i] = 0.0;
    }
    for (int k = 0; k < 2 * ACT_EXPR_MAX_PARAMS; k++) {
        beta[k] = 0.5f + 0.1f * (float)k;
        dp[k] = 0.0f;
    }
    for (int k = 0; k < ACT_EXPR_MAX_PARAMS; k++) {
        bd[k] = 0.7;
        dpd[k] = 0.0;
    }
    act_shape s = { 1, 2, 18 };              /* 36 elements, 2 channels */
    REQUIRE(act_expr_forward(p, beta, ACT_PER_CHANNEL, x, y, s) == ACT_OK);
    REQUIRE(act_expr_backward(p, beta, ACT_PER_CHANNEL, x, dy, dx, dp, s) == ACT_OK);
    REQUIRE(act_expr_forward(p, NULL, 0, x, y, act_shape_flat(N)) == ACT_OK);
    REQUIRE(act_expr_backward(p, NULL, ACT_DX_ASSIGN, x, dy, dy, NULL, act_shape_flat(N)) ==
            ACT_OK);
    REQUIRE(act_expr_forward_d(p, bd, xd, yd, N) == ACT_OK);
    REQUIRE(act_expr_backward_d(p, bd, xd, dyd, dxd, dpd, N) == ACT_OK);
    act_fn fn;
    REQUIRE(act_expr_fn(p, &fn) == ACT_OK);
    act_expr_prog_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 70000)
        return 0;
    char *src = malloc(size + 1);
    if (!src)
        return 0;
    memcpy(src, data, size);
    src[size] = '\0';
    act_expr *e = NULL;
    act_diag d;
    int rc = act_expr_parse(src, &e, &d);
    REQUIRE(rc == ACT_OK || rc == ACT_EPARSE || rc == ACT_ELIMIT);
    REQUIRE((rc == ACT_OK) == (e != NULL));
    if (rc == ACT_EPARSE) {
        char caret[512];
        REQUIRE(d.line >= 1 && d.col >= 1 && d.msg[0]);
        act_expr_format_error(src, &d, caret, sizeof caret);
    }
    if (e) {
        roundtrip(e);
        act_expr *c = NULL, *c2 = NULL;
        REQUIRE(act_expr_canonical(e, &c) == ACT_OK);
        roundtrip(c);
        REQUIRE(act_expr_canonical(c, &c2) == ACT_OK);
        char *a = NULL, *b = NULL;
        REQUIRE(act_expr_print(c, ACT_EXPR_TEXT, &a) == ACT_OK);
        REQUIRE(act_expr_print(c2, ACT_EXPR_TEXT, &b) == ACT_OK);
        if (strcmp(a, b) != 0)
            fprintf(stderr, "canonical not idempotent: '%s' -> '%s'\n", a, b);
        REQUIRE(strcmp(a, b) == 0);
        free(a);
        free(b);
        for (int f = ACT_EXPR_LATEX; f <= ACT_EXPR_TORCH; f++) {
            char *t = NULL;
            REQUIRE(act_expr_print(e, (act_expr_format)f, &t) == ACT_OK);
            free(t);
        }
        evaluate(e);
        evaluate(c);
        act_expr_free(c);
        act_expr_free(c2);
        act_expr_free(e);
    }
    free(src);
    return 0;
}
