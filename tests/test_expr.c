/* test_expr.c -- tests of the expression language: parser errors and limits, the bad-input
 * corpus, round trips, canonical rules, every primitive against double precision, the reference
 * test vectors, swish against the built-in, per-channel layout, random gradient checks. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/expr.h"
#include "expr/expr_int.h"      /* acti_expr_compile: programs with and without fusion */
#include "test.h"

static act_expr *P(const char *s)
{
    act_expr *e = NULL;
    act_diag d;
    int rc = act_expr_parse(s, &e, &d);
    CHECKF(rc == ACT_OK, "parse '%s': %d %s (col %d)", s, rc, d.msg, d.col);
    return e;
}

static act_expr_prog *C(const char *s)
{
    act_expr *e = P(s);
    act_expr_prog *p = NULL;
    if (e)
        CHECK(act_expr_compile(e, &p) == ACT_OK);
    act_expr_free(e);
    return p;
}

static char *text(const act_expr *e, act_expr_format f)
{
    char *s = NULL;
    CHECK(act_expr_print(e, f, &s) == ACT_OK);
    return s;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double urand(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

// ----------------------------------------------------------------------------
// parser

static void expect_error(const char *src, int status, int col, const char *needle)
{
    act_expr *e = NULL;
    act_diag d;
    int rc = act_expr_parse(src, &e, &d);
    CHECKF(rc == status, "'%.40s': status %d, want %d (%s)", src, rc, status, d.msg);
    CHECK(e == NULL);
    if (col > 0)
        CHECKF(d.col == col, "'%.40s': column %d, want %d (%s)", src, d.col, col, d.msg);
    if (needle)
        CHECKF(strstr(d.msg, needle) != NULL, "'%.40s': message '%s' lacks '%s'", src, d.msg,
               needle);
    act_expr_free(e);
}

void test_expr_parse_errors(void)
{
    expect_error("sigmod(x)", ACT_EPARSE, 1, "did you mean 'sigmoid'");
    expect_error("x*sigmod(x)", ACT_EPARSE, 3, "did you mean 'sigmoid'");
    expect_error("x + tnah(x)", ACT_EPARSE, 5, "did you mean 'tanh'");
    expect_error("mihs(x)", ACT_EPARSE, 1, "did you mean 'mish'");
    expect_error("x + y", ACT_EPARSE, 5, "unknown name 'y'");
    expect_error("bta*x", ACT_EPARSE, 1, "did you mean 'beta'");
    expect_error("beta9*x", ACT_EPARSE, 1, "beta8");
    expect_error("x +", ACT_EPARSE, 4, "end of input");
    expect_error("(x + 1", ACT_EPARSE, 7, "')'");
    expect_error("x + 1)", ACT_EPARSE, 6, "unmatched");
    expect_error("max(x)", ACT_EPARSE, 1, "2 arguments");
    expect_error("sin(x, x)", ACT_EPARSE, 1, "1 argument");
    expect_error("x^0.5", ACT_EPARSE, 3, "integer");
    expect_error("x^beta", ACT_EPARSE, 3, "integer");
    expect_error("x^2^3", ACT_EPARSE, 4, "parentheses");
    expect_error("x $ 2", ACT_EPARSE, 3, "'$'");
    expect_error("swish(x, beta)", ACT_EPARSE, 10, "must be a number");
    expect_error("softplus(x) + celu(x, 0)", ACT_EPARSE, 15, "invalid parameters");
    expect_error("1e999*x", ACT_EPARSE, 1, "float range");
    expect_error("", ACT_EPARSE, 1, "empty");
    expect_error("x\n  + sigmod(x)", ACT_EPARSE, 5, "sigmoid");
    act_diag d;
    act_expr *e;
    CHECK(act_expr_parse("x\n  + sigmod(x)", &e, &d) == ACT_EPARSE && d.line == 2);
    /* the caret line points at the column */
    char buf[256];
    CHECK(act_expr_parse("x*sigmod(x)", &e, &d) == ACT_EPARSE);
    act_expr_format_error("x*sigmod(x)", &d, buf, sizeof buf);
    CHECKF(strcmp(buf, "  x*sigmod(x)\n    ^") == 0, "caret: '%s'", buf);
    CHECK(act_expr_parse(NULL, &e, &d) == ACT_EINVAL);
}

void test_expr_parse_limits(void)
{
    size_t n = 100000;
    char *s = malloc(2 * n + 2);
    if (!s)
        return;
    memset(s, '(', n);                       /* 100k nested parentheses */
    s[n] = 'x';
    memset(s + n + 1, ')', n);
    s[2 * n + 1] = '\0';
    s[ACT_EXPR_MAX_LEN - 1] = '\0';          /* keep it under the length limit */
    expect_error(s, ACT_ELIMIT, 0, "nested");
    memset(s, '-', ACT_EXPR_MAX_LEN - 2);    /* unary minus chain */
    s[ACT_EXPR_MAX_LEN - 2] = 'x';
    s[ACT_EXPR_MAX_LEN - 1] = '\0';
    expect_error(s, ACT_ELIMIT, 0, NULL);
    free(s);
    size_t big = 10u << 20;                  /* a 10 MB string */
    char *b = malloc(big + 1);
    if (!b)
        return;
    for (size_t i = 0; i < big; i += 2) {
        b[i] = 'x';
        b[i + 1] = '+';
    }
    b[big - 1] = 'x';
    b[big] = '\0';
    expect_error(b, ACT_ELIMIT, 0, "longer");
    /* a long left-deep sum exceeds the depth limit: error, not recursion */
    b[60000] = '\0';
    b[59999] = 'x';
    expect_error(b, ACT_ELIMIT, 0, NULL);
    free(b);
    /* just below the limits is fine */
    char ok[2 * 150 + 2];
    memset(ok, '(', 150);
    ok[150] = 'x';
    memset(ok + 151, ')', 150);
    ok[301] = '\0';
    act_expr *e = P(ok);
    act_expr_free(e);
}

void test_expr_bad_corpus(void)
{
    const char *dir = "tests/data/expr_bad";
    DIR *d = opendir(dir);
    CHECKF(d != NULL, "cannot open %s (run from the repository root)", dir);
    if (!d)
        return;
    int files = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        size_t cap = 1 << 16, len = 0;
        char *s = malloc(cap + 1);
        size_t k;
        while (s && (k = fread(s + len, 1, cap - len, f)) > 0) {
            len += k;
            if (len == cap) {
                char *t = realloc(s, 2 * cap + 1);
                if (!t)
                    break;
                s = t;
                cap *= 2;
            }
        }
        fclose(f);
        if (!s)
            continue;
        s[len] = '\0';
        /* a file may end in one newline; interior NULs end the string early */
        if (len && s[len - 1] == '\n')
            s[len - 1] = '\0';
        act_expr *e = NULL;
        act_diag dg;
        int rc = act_expr_parse(s, &e, &dg);
        if (rc == ACT_OK) {
            /* a few corpus files parse but must fail to compile (too many instructions) */
            act_expr_prog *p = NULL;
            rc = act_expr_compile(e, &p);
            act_expr_prog_free(p);
        }
        CHECKF(rc < 0, "%s: bad input was accepted", de->d_name);
        CHECKF(rc != ACT_EPARSE || dg.col >= 1, "%s: parse error without a column", de->d_name);
        act_expr_free(e);
        free(s);
        files++;
    }
    closedir(d);
    CHECKF(files >= 20, "only %d files in %s", files, dir);
}

// ----------------------------------------------------------------------------
// round trips

static const char *const examples[] = {
    "x", "-x", "abs(x)", "x^2", "x^3", "sqrt(x)", "beta*x", "x + beta", "log(abs(x) + eps)",
    "exp(x)", "sin(x)", "cos(x)", "sinh(x)", "cosh(x)", "tanh(x)", "asinh(x)", "atan(x)",
    "sinc(x)", "max(x, 0)", "min(x, 0)", "sigmoid(x)", "softplus(x)", "exp(-x^2)", "erf(x)",
    "beta", "x*sigmoid(beta*x)", "max(x, sigmoid(x))", "cos(x) - x", "atan(x)^2 - x",
    "sinc(x) + x", "x*asinh(x)^2", "min(x, sin(x))", "max(x, tanh(x))",
    "x/(sin(x) + eps)", "exp(-beta*(x - sin(x))^2)", "exp(-beta*abs(x - cos(x)))",
    "beta*x + (1 - beta)*tanh(x)", "sigmoid(x)*x", "mish(x)", "acon_c(x, 1.5, 0.25, 2)",
    "gelu(x) - 2.5e-3*x^-1", "-(-x)", "(-2)^2 + x", "x - (x - 1)", "x/(x/2)", "-x^2",
    "(-x)^2", "x*-x", "beta1*beta2 + beta3*x", "x - -1", "0.1 + pi*x", "x^(-2)",
};

static void roundtrip(const char *src)
{
    act_expr *e = P(src);
    if (!e)
        return;
    char *s = text(e, ACT_EXPR_TEXT);
    act_expr *e2 = s ? P(s) : NULL;
    CHECKF(e2 && act_expr_equal(e, e2), "parse(print('%s')) = '%s' differs", src, s);
    char *s2 = e2 ? text(e2, ACT_EXPR_TEXT) : NULL;
    CHECKF(s && s2 && strcmp(s, s2) == 0, "print is not stable: '%s' vs '%s'", s, s2);
    /* canonical form: idempotent, and the same function */
    act_expr *c = NULL, *c2 = NULL;
    CHECK(act_expr_canonical(e, &c) == ACT_OK);
    char *cs = c ? text(c, ACT_EXPR_TEXT) : NULL;
    act_expr *cp = cs ? P(cs) : NULL;
    CHECKF(cp && act_expr_equal(c, cp), "canonical '%s' does not round-trip", cs);
    if (c)
        CHECK(act_expr_canonical(c, &c2) == ACT_OK);
    char *cs2 = c2 ? text(c2, ACT_EXPR_TEXT) : NULL;
    CHECKF(cs && cs2 && strcmp(cs, cs2) == 0, "canonical not idempotent: '%s' -> '%s'", cs, cs2);
    act_expr_prog *pa = NULL, *pb = NULL;
    if (c && act_expr_compile(e, &pa) == ACT_OK && act_expr_compile(c, &pb) == ACT_OK) {
        double xs[9] = { -3, -1.1, -0.4, -1e-3, 0.013, 0.5, 1.3, 2.2, 4.1 }, ya[9], yb[9];
        double beta[8] = { 1.3, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3 };   /* renumbering-proof */
        int ra = act_expr_forward_d(pa, beta, xs, ya, 9);
        int rb = act_expr_forward_d(pb, beta, xs, yb, 9);
        CHECKF(ra == ACT_OK && rb == ACT_OK, "'%s' forward_d %s, canonical '%s' forward_d %s",
               src, act_strerror(ra), cs, act_strerror(rb));
        for (int i = 0; ra == ACT_OK && rb == ACT_OK && i < 9; i++)
            if (isfinite(ya[i]))
                CHECK_CLOSE(ya[i], yb[i], 1e-6, 1e-6, "'%s' vs canonical '%s' at %g", src, cs,
                            xs[i]);
    }
    act_expr_prog_free(pa);
    act_expr_prog_free(pb);
    free(s);
    free(s2);
    free(cs);
    free(cs2);
    act_expr_free(e);
    act_expr_free(e2);
    act_expr_free(c);
    act_expr_free(c2);
    act_expr_free(cp);
}

void test_expr_roundtrip_examples(void)
{
    for (size_t i = 0; i < sizeof examples / sizeof *examples; i++)
        roundtrip(examples[i]);
}

/* Random well-formed expression text from the grammar (depth-limited). act: allow built-ins. */
static void gen(uint64_t *r, int depth, int act, char *buf, size_t size)
{
    static const char *const un[] = { "abs", "exp", "sin", "cos", "sinh", "cosh", "tanh",
                                      "asinh", "atan", "sinc", "sigmoid", "softplus", "erf",
                                      "sqrt", "log" };
    static const char *const leaves[] = { "x", "x", "x", "beta", "beta2", "eps", "0.5", "2",
                                          "1.5", "3" };
    static const char *const acts[] = { "mish", "gelu", "silu", "swish", "elu" };
    char a[2048], b[2048];
    int k = depth <= 0 ? 0 : (int)(rng_next(r) % 13);
    if (k == 0) {
        snprintf(buf, size, "%s", leaves[rng_next(r) % 10]);
        return;
    }
    gen(r, depth - 1, act, a, sizeof a);
    switch (k) {
    case 1: case 2: {
        const char *f = un[rng_next(r) % 15];
        if (strcmp(f, "sqrt") == 0 || strcmp(f, "log") == 0)
            snprintf(buf, size, "%s(abs(%s) + 0.5)", f, a);      /* stay in the domain */
        else
            snprintf(buf, size, "%s(%s)", f, a);
        return;
    }
    case 3: snprintf(buf, size, "-%s", a); return;
    case 4: snprintf(buf, size, "(%s)^%d", a, (int)(rng_next(r) % 4)); return;
    case 5:
        snprintf(buf, size, act ? "%s(%s)" : "tanh(%s%s)", act ? acts[rng_next(r) % 5] : "",
                 a);
        return;
    default:
        break;
    }
    gen(r, depth - 1, act, b, sizeof b);
    switch (k) {
    case 6:  snprintf(buf, size, "%s + %s", a, b); break;
    case 7:  snprintf(buf, size, "(%s) - (%s)", a, b); break;
    case 8:  snprintf(buf, size, "(%s)*(%s)", a, b); break;
    case 9:  snprintf(buf, size, "(%s)/(abs(%s) + 1)", a, b); break;
    case 10: snprintf(buf, size, "max(%s, %s)", a, b); break;
    case 11: snprintf(buf, size, "min(%s, %s)", a, b); break;
    default: snprintf(buf, size, "sigmoid(%s)*(%s)", a, b); break;
    }
}

void test_expr_roundtrip_random(void)
{
    uint64_t r = 42;
    char buf[8192];
    for (int i = 0; i < 1000; i++) {
        gen(&r, 1 + i % 4, 1, buf, sizeof buf);
        roundtrip(buf);
    }
}

static void expect_canon(const char *src, const char *want)
{
    act_expr *e = P(src), *c = NULL;
    if (!e)
        return;
    CHECK(act_expr_canonical(e, &c) == ACT_OK);
    char *s = c ? text(c, ACT_EXPR_TEXT) : NULL;
    CHECKF(s && strcmp(s, want) == 0, "canonical('%s') = '%s', want '%s'", src, s, want);
    free(s);
    act_expr_free(e);
    act_expr_free(c);
}

void test_expr_canonical_rules(void)
{
    expect_canon("sigmoid(x)*x", "x*sigmoid(x)");
    expect_canon("max(sigmoid(x), x)", "max(x, sigmoid(x))");
    expect_canon("x + 0", "x");
    expect_canon("1*x", "x");
    expect_canon("x^1", "x");
    expect_canon("-(-x)", "x");
    expect_canon("sin(x) - sin(x)", "0");
    expect_canon("max(tanh(x), tanh(x))", "tanh(x)");
    expect_canon("abs(x)^2", "x^2");
    expect_canon("(-x)^2", "x^2");
    expect_canon("max(x, 0) + min(x, 0)", "x");
    expect_canon("min(x, 0) + max(x, 0)", "x");
    expect_canon("2*3 + x", "6 + x");
    expect_canon("exp(-beta*(sin(x) - x)^2)", "exp(-(beta*(x - sin(x))^2))");
    expect_canon("exp(-beta*abs(sin(x) - x))", "exp(-(beta*abs(x - sin(x))))");
    expect_canon("beta2 + beta1*x", "beta1 + beta2*x");
    expect_canon("x - -sin(x)", "x + sin(x)");
    expect_canon("x + (-2)", "x - 2");
    expect_canon("exp(1000) + x", "x + exp(1000)");      /* non-finite folds are kept */
    /* parameter initial values follow the renumbering */
    act_expr *e = P("beta2 + beta1*x"), *c = NULL;
    if (e) {
        CHECK(act_expr_set_param_init(e, 0, 0.25f) == ACT_OK);
        CHECK(act_expr_set_param_init(e, 1, 4.0f) == ACT_OK);
        CHECK(act_expr_canonical(e, &c) == ACT_OK);
        CHECK(c && act_expr_param_init(c, 0) == 4.0f && act_expr_param_init(c, 1) == 0.25f);
    }
    act_expr_free(e);
    act_expr_free(c);
}

// ----------------------------------------------------------------------------
// values and gradients

typedef double dfun(double);
static double r_sinc(double x) { return x == 0 ? 1.0 : sin(x) / x; }
static double r_sig(double x) { return 1.0 / (1.0 + exp(-x)); }
static double r_sp(double x) { return x > 30 ? x : log1p(exp(x)); }
static double r_gauss(double x) { return exp(-x * x); }
static double r_log(double x) { return log(fabs(x) + (double)1e-7f); }
static double r_relu(double x) { return x > 0 ? x : 0; }
static double r_min0(double x) { return x < 0 ? x : 0; }
static double r_sq(double x) { return x * x; }
static double r_cube(double x) { return x * x * x; }
static double r_neg(double x) { return -x; }
static double r_id(double x) { return x; }
static double r_b(double x) { return 1.3 * x; }
static double r_shift(double x) { return x + 1.3; }

void test_expr_primitives_vs_double(void)
{
    static const struct { const char *src; dfun *f; double lo; } prim[] = {
        { "x", r_id, -20 }, { "-x", r_neg, -20 }, { "abs(x)", fabs, -20 },
        { "x^2", r_sq, -20 }, { "x^3", r_cube, -20 }, { "sqrt(x)", sqrt, 0 },
        { "beta*x", r_b, -20 }, { "x + beta", r_shift, -20 },
        { "log(abs(x) + eps)", r_log, -20 }, { "exp(x)", exp, -20 }, { "sin(x)", sin, -20 },
        { "cos(x)", cos, -20 }, { "sinh(x)", sinh, -20 }, { "cosh(x)", cosh, -20 },
        { "tanh(x)", tanh, -20 }, { "asinh(x)", asinh, -20 }, { "atan(x)", atan, -20 },
        { "sinc(x)", r_sinc, -20 }, { "max(x, 0)", r_relu, -20 }, { "min(x, 0)", r_min0, -20 },
        { "sigmoid(x)", r_sig, -20 }, { "softplus(x)", r_sp, -20 },
        { "exp(-x^2)", r_gauss, -20 }, { "erf(x)", erf, -20 }, { "1.3", NULL, -20 },
    };
    enum { N = 801 };
    float x[N], y[N];
    double xd[N], yd[N];
    for (size_t k = 0; k < sizeof prim / sizeof *prim; k++) {
        act_expr *e = P(prim[k].src);
        act_expr_prog *p = NULL;
        if (!e || act_expr_compile(e, &p) != ACT_OK) {
            CHECKF(!e, "compile '%s' failed", prim[k].src);     /* !e: P() reported it */
            act_expr_free(e);
            continue;
        }
        float b = 1.3f;
        double bd = 1.3;
        for (int i = 0; i < N; i++) {
            x[i] = (float)(prim[k].lo + (20.0 - prim[k].lo) * i / (N - 1)) + 1e-3f;
            xd[i] = (double)x[i];
        }
        int rf = act_expr_forward(p, &b, 0, x, y, act_shape_flat(N));
        int rd = act_expr_forward_d(p, &bd, xd, yd, N);
        CHECKF(rf == ACT_OK && rd == ACT_OK, "%s: forward %s, forward_d %s", prim[k].src,
               act_strerror(rf), act_strerror(rd));
        for (int i = 0; rf == ACT_OK && rd == ACT_OK && i < N; i++) {
            double ref = prim[k].f ? prim[k].f(xd[i]) : (double)1.3f;
            CHECK_CLOSE(yd[i], ref, 1e-15, 1e-13, "%s (double) at %g", prim[k].src, xd[i]);
            CHECK_CLOSE(y[i], ref, 1e-6, 4e-6, "%s (float) at %g", prim[k].src, xd[i]);
        }
        act_expr_prog_free(p);
        act_expr_free(e);
    }
    /* sinc at and near 0 (never 0/0); NaN propagates through max/min */
    act_expr_prog *p = C("sinc(x)");
    float z[3] = { 0.0f, 1e-5f, -1e-5f }, zy[3];
    if (p) {
        CHECK(act_expr_forward(p, NULL, 0, z, zy, act_shape_flat(3)) == ACT_OK &&
              zy[0] == 1.0f && zy[1] == 1.0f && zy[2] == 1.0f);
    }
    act_expr_prog_free(p);
    p = C("max(sqrt(x), exp(x)) + min(x, sqrt(x))");
    float xn[2] = { -1.0f, 4.0f }, yn[2];
    if (p) {
        int rc = act_expr_forward(p, NULL, 0, xn, yn, act_shape_flat(2));
        CHECKF(rc == ACT_OK, "max/min forward: %s", act_strerror(rc));
        if (rc == ACT_OK) {
            CHECK(isnan(yn[0]));
            CHECK_CLOSE(yn[1], exp(4.0) + 2.0, 1e-3, 1e-6, "max/min at 4");
        }
    }
    act_expr_prog_free(p);
    /* built-in calls equal the built-in kernels */
    for (int i = 0; i < ACT_ACT_COUNT; i++) {
        const act_act_desc *d = act_act_info((act_act_id)i);
        char src[64];
        snprintf(src, sizeof src, "%s(x)", d->name);
        act_expr_prog *q = C(src);
        float xs[5] = { -2.5f, -0.3f, 0.0f, 0.7f, 3.0f }, ya[5], yb[5];
        if (!q)
            continue;
        int ra = act_expr_forward(q, NULL, 0, xs, ya, act_shape_flat(5));
        int rb = act_act_forward((act_act_id)i, NULL, 0, xs, yb, act_shape_flat(5));
        CHECKF(ra == ACT_OK && rb == ACT_OK, "%s: expression forward %s, kernel forward %s",
               d->name, act_strerror(ra), act_strerror(rb));
        for (int j = 0; ra == ACT_OK && rb == ACT_OK && j < 5; j++)  /* sigmoid, tanh, softplus(x)
                                                                        are the vmath primitives */
            CHECK_CLOSE(ya[j], yb[j], 1e-7, 1e-6, "%s(%g)", d->name, (double)xs[j]);
        act_expr_prog_free(q);
    }
}

/* f and f' of the top functions of the Swish search (arXiv 1710.05941), exact to the 10 digits
 * written (docs/references.md, "Test vectors") */
void test_expr_test_vectors(void)
{
    static const float xs[7] = { -3, -1, -0.5f, 0, 0.5f, 1, 3 };
    static const struct { const char *src; double f[7], d[7]; } tv[] = {
        { "max(x, sigmoid(x))",
          { 0.04742587318, 0.2689414214, 0.3775406688, 0.5, 0.6224593312, 1, 3 },
          { 0.04517665973, 0.1966119332, 0.2350037122, 0.25, 0.2350037122, 1, 1 } },
        { "cos(x) - x",
          { 2.010007503, 1.540302306, 1.377582562, 1, 0.3775825619, -0.4596976941, -3.989992497 },
          { -0.8588799919, -0.1585290152, -0.5205744614, -1, -1.479425539, -1.841470985,
            -1.141120008 } },
        { "min(x, sin(x))",
          { -3, -1, -0.5, 0, 0.4794255386, 0.8414709848, 0.1411200081 },
          { 1, 1, 1, 1, 0.8775825619, 0.5403023059, -0.9899924966 } },
        { "atan(x)^2 - x",
          { 4.560115342, 1.616850275, 0.7149691053, 0, -0.2850308947, -0.3831497249,
            -1.439884658 },
          { -1.249809154, -1.785398163, -1.741836174, -1, -0.2581638256, -0.2146018366,
            -0.7501908455 } },
        { "max(x, tanh(x))",
          { -0.9950547537, -0.761594156, -0.4621171573, 0, 0.5, 1, 3 },
          { 0.009866037165, 0.4199743416, 0.786447733, 1, 1, 1, 1 } },
        { "sinc(x) + x",
          { -2.952959997, -0.1585290152, 0.4588510772, 1, 1.458851077, 1.841470985, 3.047040003 },
          { 1.3456775, 1.301168679, 1.162537031, 1, 0.8374629694, 0.6988313211, 0.6543225002 } },
        { "x*asinh(x)^2",
          { -9.920242575, -0.7768193999, -0.1157824103, 0, 0.1157824103, 0.7768193999,
            9.920242575 },
          { 6.757007094, 2.02326988, 0.6619737615, 0, 0.6619737615, 2.02326988, 6.757007094 } },
    };
    for (size_t k = 0; k < sizeof tv / sizeof *tv; k++) {
        act_expr_prog *p = C(tv[k].src);
        if (!p)
            continue;
        float y[7], dx[7], one[7] = { 1, 1, 1, 1, 1, 1, 1 };
        int rf = act_expr_forward(p, NULL, 0, xs, y, act_shape_flat(7));
        int rb = act_expr_backward(p, NULL, ACT_DX_ASSIGN, xs, one, dx, NULL, act_shape_flat(7));
        CHECKF(rf == ACT_OK && rb == ACT_OK, "%s: forward %s, backward %s", tv[k].src,
               act_strerror(rf), act_strerror(rb));
        for (int i = 0; rf == ACT_OK && rb == ACT_OK && i < 7; i++) {
            CHECK_CLOSE(y[i], tv[k].f[i], 1e-7, 5e-7, "%s at %g", tv[k].src, (double)xs[i]);
            CHECK_CLOSE(dx[i], tv[k].d[i], 1e-7, 5e-7, "d %s at %g", tv[k].src, (double)xs[i]);
        }
        act_expr_prog_free(p);
    }
}

void test_expr_swish_matches_builtin(void)
{
    act_expr_prog *p = C("x*sigmoid(beta*x)");
    if (!p)
        return;
    act_fn fn;
    CHECK(act_expr_fn(p, &fn) == ACT_OK);
    CHECK(fn.n_params == 1 && strcmp(fn.param_names[0], "beta") == 0);
    CHECK(fn.defaults[0] == 1.0f && fn.learnable == 1u);
    enum { N = 2000 };
    static float x[N], ya[N], yb[N], dy[N], da[N], db[N];
    uint64_t r = 7;
    for (int i = 0; i < N; i++) {
        x[i] = (float)(urand(&r) * 24.0 - 12.0);
        dy[i] = (float)(urand(&r) - 0.5);
    }
    static const float betas[] = { 1.0f, 0.7f, 1.6f, -0.4f };
    for (size_t t = 0; t < sizeof betas / sizeof *betas; t++) {
        float b = betas[t], pa = 0.0f, pb = 0.0f;
        CHECK(fn.forward(&fn, &b, 0, x, ya, act_shape_flat(N)) == ACT_OK);
        CHECK(act_act_forward(ACT_ACT_SWISH, &b, 0, x, yb, act_shape_flat(N)) == ACT_OK);
        for (int i = 0; i < N; i++) {
            da[i] = 0.5f;                            /* backward accumulates */
            db[i] = 0.5f;
        }
        CHECK(fn.backward(&fn, &b, 0, x, dy, da, &pa, act_shape_flat(N)) == ACT_OK);
        CHECK(act_act_backward(ACT_ACT_SWISH, &b, 0, x, dy, db, &pb, act_shape_flat(N)) ==
              ACT_OK);
        /* the program is one MULF lowered to the swish kernel: y and dx are the kernel's */
        int same = 1;
        for (int i = 0; i < N; i++)
            same &= ya[i] == yb[i] && da[i] == db[i];
        CHECKF(same, "swish beta=%g: lowered MULF differs from the built-in", (double)b);
        CHECK_CLOSE(pa, pb, 1e-4, 1e-5, "dswish/dbeta beta=%g", (double)b);
    }
    act_expr_prog_free(p);
}

/* per-channel parameters on (outer, C, inner) equal channel-by-channel scalar calls; dx
 * accumulates (fan-out: x used three times) or is assigned; dx may alias dy */
void test_expr_per_channel_layout(void)
{
    act_expr_prog *p = C("x*sigmoid(beta1*x) + beta2*tanh(x)*x");
    if (!p)
        return;
    enum { O = 3, CH = 5, IN = 7, N = O * CH * IN };
    float x[N], y[N], dy[N], dx[N], dx2[N], dp[2 * CH] = { 0 }, pc[2 * CH];
    uint64_t r = 9;
    for (int i = 0; i < N; i++) {
        x[i] = (float)(urand(&r) * 8 - 4);
        dy[i] = (float)(urand(&r) * 2 - 1);
        dx[i] = 0.25f;
    }
    for (int c = 0; c < CH; c++) {
        pc[c] = 0.5f + 0.3f * (float)c;
        pc[CH + c] = 1.5f - 0.2f * (float)c;
    }
    act_shape s = { O, CH, IN };
    CHECK(act_expr_forward(p, pc, ACT_PER_CHANNEL, x, y, s) == ACT_OK);
    CHECK(act_expr_backward(p, pc, ACT_PER_CHANNEL, x, dy, dx, dp, s) == ACT_OK);
    for (int c = 0; c < CH; c++) {
        float q[2] = { pc[c], pc[CH + c] }, dq[2] = { 0, 0 };
        for (int o = 0; o < O; o++) {
            size_t off = ((size_t)o * CH + (size_t)c) * IN;
            float yr[IN], dr[IN];
            int rf = act_expr_forward(p, q, 0, x + off, yr, act_shape_flat(IN));
            int rb = act_expr_backward(p, q, ACT_DX_ASSIGN, x + off, dy + off, dr, dq,
                                       act_shape_flat(IN));
            CHECKF(rf == ACT_OK && rb == ACT_OK, "c=%d o=%d: forward %s, backward %s", c, o,
                   act_strerror(rf), act_strerror(rb));
            for (int i = 0; rf == ACT_OK && rb == ACT_OK && i < IN; i++) {
                CHECK_CLOSE(y[off + i], yr[i], 1e-7, 1e-6, "y c=%d", c);   /* vector vs tail */
                CHECK_CLOSE(dx[off + i], 0.25 + (double)dr[i], 1e-6, 1e-6, "dx c=%d", c);
            }
        }
        CHECK_CLOSE(dp[c], dq[0], 1e-5, 1e-5, "dbeta1 c=%d", c);
        CHECK_CLOSE(dp[CH + c], dq[1], 1e-5, 1e-5, "dbeta2 c=%d", c);
    }
    /* ACT_DX_ASSIGN with dx aliasing dy */
    memcpy(dx2, dy, sizeof dx2);
    float dpa[2 * CH] = { 0 };
    CHECK(act_expr_backward(p, pc, ACT_PER_CHANNEL | ACT_DX_ASSIGN, x, dx2, dx2, dpa, s) ==
          ACT_OK);
    for (int i = 0; i < N; i++)
        CHECK_CLOSE(dx2[i], dx[i] - 0.25, 1e-6, 1e-6, "aliased dx at %d", i);
    /* forward in place */
    memcpy(dx2, x, sizeof dx2);
    int rc = act_expr_forward(p, pc, ACT_PER_CHANNEL, dx2, dx2, s);
    CHECKF(rc == ACT_OK, "in-place forward: %s", act_strerror(rc));
    for (int i = 0; rc == ACT_OK && i < N; i++)
        CHECK(dx2[i] == y[i]);
    /* argument errors */
    CHECK(act_expr_forward(p, NULL, ACT_PER_CHANNEL, x, y, s) == ACT_EINVAL);
    CHECK(act_expr_forward(NULL, pc, 0, x, y, s) == ACT_EINVAL);
    CHECK(act_expr_backward(p, pc, 0, x, NULL, dx, NULL, s) == ACT_EINVAL);
    act_expr_prog_free(p);
}

/* central difference of the double program in x (which < 0) or in parameter which; NaN (and
 * a failed check) if an evaluation fails */
static double fd(const act_expr_prog *p, double *beta, double x, int which, double h)
{
    double xp = x, xm = x, yp, ym;
    int rp, rm;
    if (which < 0) {
        xp = x + h;
        xm = x - h;
        rp = act_expr_forward_d(p, beta, &xp, &yp, 1);
        rm = act_expr_forward_d(p, beta, &xm, &ym, 1);
    } else {
        double b = beta[which];
        beta[which] = b + h;
        rp = act_expr_forward_d(p, beta, &x, &yp, 1);
        beta[which] = b - h;
        rm = act_expr_forward_d(p, beta, &x, &ym, 1);
        beta[which] = b;
    }
    CHECKF(rp == ACT_OK && rm == ACT_OK, "forward_d at x=%g: %s, %s", x, act_strerror(rp),
           act_strerror(rm));
    return rp == ACT_OK && rm == ACT_OK ? (yp - ym) / (2 * h) : NAN;
}

void test_expr_gradcheck_random(void)
{
    uint64_t r = 2024;
    char buf[8192];
    int exprs = 0, points = 0, skipped = 0;
    double mass = 0.0;
    /* distinct, unround values: no ties such as max(beta1, beta2) at beta1 = beta2 */
    static const double betas[3][2] = { { 1.05, 1.27 }, { 0.7, 1.33 }, { 1.61, -0.45 } };
    for (int it = 0; it < 1500 && exprs < 1000; it++) {
        gen(&r, 1 + it % 4, 0, buf, sizeof buf);
        act_expr *e = P(buf);
        act_expr_prog *p = NULL;
        if (!e || act_expr_compile(e, &p) != ACT_OK) {
            act_expr_free(e);
            continue;
        }
        int np = act_expr_prog_n_params(p), checked = 0;
        for (int bset = 0; bset < 3; bset++) {
            double beta[8] = { betas[bset][0], betas[bset][1], 1, 1, 1, 1, 1, 1 };
            for (int t = 0; t < 4; t++) {
                double x = urand(&r) * 6 - 3, y, one = 1.0, dx = 0.0, dp[8] = { 0 };
                int rf = act_expr_forward_d(p, beta, &x, &y, 1);
                int rb = act_expr_backward_d(p, beta, &x, &one, &dx, dp, 1);
                CHECKF(rf == ACT_OK && rb == ACT_OK, "'%s' at x=%.17g: forward_d %s, "
                       "backward_d %s", buf, x, act_strerror(rf), act_strerror(rb));
                for (int w = -1; rf == ACT_OK && rb == ACT_OK && w < np; w++) {
                    double h = 1e-5 * fmax(1.0, w < 0 ? fabs(x) : fabs(beta[w]));
                    double c1 = fd(p, beta, x, w, h), c2 = fd(p, beta, x, w, h / 4);
                    double c3 = fd(p, beta, x, w, h / 16);
                    double an = w < 0 ? dx : dp[w];
                    /* skip kinks, poles and overflow: the difference quotient must converge */
                    if (!isfinite(y) || !isfinite(c1) || !isfinite(c2) || !isfinite(an) ||
                        fabs(y) > 1e8 || fabs(c1 - c2) > 1e-6 * (1 + fabs(c1)) ||
                        fabs(c2 - c3) > 1e-6 * (1 + fabs(c2))) {
                        skipped++;
                        continue;
                    }
                    CHECK_CLOSE(an, c2, 1e-6, 1e-6, "d/d%s%d of '%s' at x=%.17g beta=(%g, %g) "
                                "(seed 2024, expr %d)", w < 0 ? "x" : "beta", w + 1, buf, x,
                                beta[0], beta[1], it);
                    mass += fabs(c2);
                    points++;
                    checked++;
                }
            }
        }
        exprs += checked > 0;
        act_expr_prog_free(p);
        act_expr_free(e);
    }
    CHECKF(exprs >= 1000, "only %d expressions had checkable points", exprs);
    CHECKF(points > 5 * skipped, "%d points checked, %d skipped", points, skipped);
    CHECK(mass > 1.0);                       /* an all-zero gradient must not pass */
}

/* max |a - b| / (rtol (|a| + |b|) + atol); NaN only where exactly one is NaN */
static double rel_gap(const double *a, const double *b, size_t n, double rtol, double atol)
{
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i]) || isnan(b[i])) {
            if (isnan(a[i]) != isnan(b[i]))
                return NAN;
            continue;
        }
        if (a[i] == b[i])
            continue;
        double e = fabs(a[i] - b[i]) / (rtol * (fabs(a[i]) + fabs(b[i])) + atol);
        w = e > w ? e : w;
    }
    return w;
}

/* 1 if pr has a MULF lowered to the built-in swish kernel (acti_instr.swish) */
static int has_lowered(const act_expr_prog *pr)
{
    int n = 0;
    for (int i = 0; i < pr->n; i++)
        n += pr->ins[i].swish != 0;
    return n > 0;
}

/* The float evaluations of pf (fused) and pu (unfused) on shape sh with parameters p (flags:
 * ACT_PER_CHANNEL or 0, nch channels): forward equal bitwise, except that a lowered MULF runs
 * the swish kernel's sigmoid (not vmath's) and then agrees to 2e-6 relative + 1e-6 absolute;
 * backward (dx accumulated and assigned, parameter gradients) to 1e-5 either way. */
static void check_float_pair(const act_expr_prog *pf, const act_expr_prog *pu, const char *src,
                             const float *p, unsigned flags, act_shape sh, size_t nch,
                             const float *x, const float *dyf)
{
    enum { N = 700 };
    static float y1[N], y2[N], g1[N], g2[N];
    static double a1[N], a2[N];
    float dpa[64] = { 0 }, dpb[64] = { 0 };
    size_t np = (size_t)act_expr_prog_n_params(pf), n = sh.outer * sh.channels * sh.inner;
    if (n > N || np * nch > 64) {
        CHECK(n <= N && np * nch <= 64);
        return;
    }
    CHECK(act_expr_forward(pf, p, flags, x, y1, sh) == ACT_OK);
    CHECK(act_expr_forward(pu, p, flags, x, y2, sh) == ACT_OK);
    for (size_t i = 0; i < n; i++) {
        a1[i] = y1[i];
        a2[i] = y2[i];
    }
    double ef = has_lowered(pf) ? rel_gap(a1, a2, n, 2e-6, 1e-6) : rel_gap(a1, a2, n, 0, 0);
    CHECKF(ef <= 1, "fused float forward differs (%g x tol, flags %u, inner %zu): %s", ef,
           flags, sh.inner, src);
    for (int assign = 0; assign < 2; assign++) {
        for (size_t i = 0; i < n; i++)
            g1[i] = g2[i] = 0.25f;
        unsigned fl = flags | (assign ? ACT_DX_ASSIGN : 0);
        CHECK(act_expr_backward(pf, p, fl, x, dyf, g1, dpa, sh) == ACT_OK);
        CHECK(act_expr_backward(pu, p, fl, x, dyf, g2, dpb, sh) == ACT_OK);
        double q1[64], q2[64];
        for (size_t i = 0; i < n; i++) {
            a1[i] = g1[i];
            a2[i] = g2[i];
        }
        for (size_t k = 0; k < np * nch; k++) {
            q1[k] = dpa[k];
            q2[k] = dpb[k];
        }
        double e1 = rel_gap(a1, a2, n, 1e-5, 1e-6), e2 = rel_gap(q1, q2, np * nch, 1e-5, 1e-4);
        CHECKF(e1 <= 1 && e2 <= 1, "fused float backward (assign %d, flags %u, inner %zu) "
               "differs (dx %g, dp %g x tol): %s", assign, flags, sh.inner, e1, e2, src);
    }
}

/* One program compiled with and without fusion: double forward equal bitwise (fusion keeps the
 * operations and their order), double gradients to 1e-12; float as check_float_pair: per-channel
 * parameters on short channel runs (no block lies in one channel, so no MULF is lowered), on
 * long ones (most blocks lowered), and scalar parameters. Returns 1 if fused. */
static int check_fused_pair(const char *src, uint64_t seed)
{
    enum { N = 700, C = 5 };
    act_expr *e = P(src);
    act_expr_prog *pf = NULL, *pu = NULL;
    int fused = 0;
    if (!e || acti_expr_compile(e, 1, &pf) != ACT_OK || acti_expr_compile(e, 0, &pu) != ACT_OK)
        goto done;
    fused = act_expr_prog_n_instr(pf) < act_expr_prog_n_instr(pu);
    static double xd[N], yf[N], yu[N], dxf[N], dxu[N], dy[N];
    static float x[N], dyf[N];
    double beta[8] = { 1.05, 1.27, 0.7, 1.33, 1.61, -0.45, 0.9, 1.1 }, dp1[8] = { 0 };
    double dp2[8] = { 0 };
    for (size_t i = 0; i < N; i++) {
        xd[i] = urand(&seed) * 8 - 4;
        dy[i] = urand(&seed) * 2 - 1;
        x[i] = (float)xd[i];
        dyf[i] = (float)dy[i];
        dxf[i] = dxu[i] = 0.5;
    }
    CHECK(act_expr_forward_d(pf, beta, xd, yf, N) == ACT_OK);
    CHECK(act_expr_forward_d(pu, beta, xd, yu, N) == ACT_OK);
    CHECKF(rel_gap(yf, yu, N, 0, 0) == 0, "fused forward_d differs: %s", src);
    CHECK(act_expr_backward_d(pf, beta, xd, dy, dxf, dp1, N) == ACT_OK);
    CHECK(act_expr_backward_d(pu, beta, xd, dy, dxu, dp2, N) == ACT_OK);
    double gx = rel_gap(dxf, dxu, N, 1e-12, 1e-12), gp = rel_gap(dp1, dp2, 8, 1e-12, 1e-10);
    CHECKF(gx <= 1 && gp <= 1, "fused backward_d differs (dx %g, dp %g x tol): %s", gx, gp, src);
    /* float: (N/C/7, C, 7)-shaped per-channel parameters, (1, 2, N/2), scalar parameters */
    float pc[8 * C];
    for (int k = 0; k < 8 * C; k++)
        pc[k] = 0.6f + 0.05f * (float)k;
    act_shape sh = { N / (C * 7), C, 7 }, sl = { 1, 2, N / 2 };
    check_float_pair(pf, pu, src, pc, ACT_PER_CHANNEL, sh, C, x, dyf);
    check_float_pair(pf, pu, src, pc, ACT_PER_CHANNEL, sl, 2, x, dyf);
    check_float_pair(pf, pu, src, pc, 0, act_shape_flat(N), 1, x, dyf);
done:
    act_expr_prog_free(pf);
    act_expr_prog_free(pu);
    act_expr_free(e);
    return fused;
}

void test_expr_fused_vs_unfused(void)
{
    static const char *const pats[] = {
        "x*sigmoid(beta*x)", "sigmoid(beta*x)*x", "sigmoid(x*beta)*x", "x*sigmoid(x)",
        "x*tanh(beta*x) + max(x, sigmoid(x))", "x*sigmoid(x*x)", "beta2*sigmoid(beta*x)",
        "sigmoid(x)*tanh(x)", "(x + 1)*sigmoid(beta*(x - 1))", "x*x + sigmoid(x)",
        "beta*x + (1 - beta)*sigmoid(x)", "x*sigmoid(beta*x) + x*sigmoid(beta*x)*2",
        "exp(-beta*(x - sin(x))^2)*tanh(x) + x^1", "(x + x*beta) - x*tanh(beta*x)",
        "sigmoid(2)*x", "x*tanh(beta)", "x^0*sigmoid(x) + sigmoid(x)*x",
        "max(sigmoid(x), x)", "min(x, tanh(beta*x))", "min(tanh(x), beta*x)",
        "max(beta, sigmoid(x))", "max(x, sigmoid(x))*x - min(sigmoid(beta*x), 0.5)",
    };
    int fused = 0;
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++)
        fused += check_fused_pair(pats[i], 77 + i);
    CHECKF(fused >= 19, "only %d of the patterns fused", fused);
    uint64_t r = 99;
    char buf[8192];
    int nf = 0;
    for (int it = 0; it < 400; it++) {
        gen(&r, 1 + it % 4, 0, buf, sizeof buf);
        nf += check_fused_pair(buf, 1000 + (uint64_t)it);
    }
    CHECKF(nf >= 20, "only %d random expressions fused", nf);
}

void test_expr_printers(void)
{
    act_expr *e = P("x*sigmoid(beta*x) + sinc(x)/(max(x, 0) + eps) + mish(x)^2");
    if (!e)
        return;
    char *l = text(e, ACT_EXPR_LATEX), *c = text(e, ACT_EXPR_C), *t = text(e, ACT_EXPR_TORCH);
    CHECKF(l && strstr(l, "\\sigma") && strstr(l, "\\beta") && strstr(l, "\\frac{") &&
           strstr(l, "\\epsilon"), "latex: %s", l);
    CHECKF(c && strstr(c, "float act_expr_f(float x, const float *beta)") &&
           strstr(c, "act_sinc_") && strstr(c, "act_max_") && strstr(c, "beta[0]"), "C: %s", c);
    CHECKF(t && strstr(t, "nn.Parameter(torch.full((channels,)") && strstr(t, "_sinc(") &&
           strstr(t, "torch.maximum") && strstr(t, "F.mish") && strstr(t, "class ActExpr"),
           "torch: %s", t);
    free(l);
    free(c);
    free(t);
    act_expr_free(e);
    CHECK(act_expr_print(NULL, ACT_EXPR_TEXT, &l) == ACT_EINVAL);
    CHECK(strcmp(act_expr_op_name(ACT_EXPR_SIGMOID), "sigmoid") == 0);
    CHECK(act_expr_op_name(ACT_EXPR_OP_COUNT) == NULL);
}
