/* test_expr_space.c -- tests of the core-unit search space: candidate <-> expression round
 * trips, sampling, dedup semantics, the candidate pipeline (act_space_propose), and the
 * filter/dedup counts of the 1-unit space. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/space.h"
#include "test.h"

/* canonical text of e, or NULL */
static char *canon_text(const act_expr *e)
{
    act_expr *c = NULL;
    char *s = NULL;
    int rc = act_expr_canonical(e, &c);
    if (rc == ACT_OK)
        rc = act_expr_print(c, ACT_EXPR_TEXT, &s);
    CHECKF(rc == ACT_OK, "canonical text: %s", act_strerror(rc));
    act_expr_free(c);
    return s;
}

static void check_cand_roundtrip(const act_space_cand *c, const char *what)
{
    act_expr *e = NULL, *e2 = NULL;
    act_space_cand back;
    CHECK(act_space_to_expr(c, &e) == ACT_OK);
    if (!e)
        return;
    int rc = act_space_from_expr(e, &back);
    CHECKF(rc == ACT_OK, "%s: from_expr failed (%d)", what, rc);
    if (rc == ACT_OK)
        CHECK(act_space_to_expr(&back, &e2) == ACT_OK);
    char *a = canon_text(e), *b = e2 ? canon_text(e2) : NULL;
    CHECKF(a && b && strcmp(a, b) == 0, "%s: '%s' -> units -> '%s'", what, a, b);
    free(a);
    free(b);
    act_expr_free(e);
    act_expr_free(e2);
}

void test_space_templates_roundtrip(void)
{
    const act_space_preset *full = act_space_preset_lookup("full");
    CHECK(full && act_space_count(full, 1) == 6250);
    CHECK(act_space_count(full, 2) == 6250ull * 4 * 6250);
    CHECK(act_space_count(act_space_preset_lookup("bxg"), 1) == 250);
    CHECK(act_space_preset_lookup("nope") == NULL);
    for (uint64_t i = 0; i < 6250; i += 7) {
        act_space_cand c;
        CHECK(act_space_nth(full, 1, i, &c) == ACT_OK);
        CHECK(c.unit[0].binary == i / 625 && c.unit[0].un1 == (i / 25) % 25 &&
              c.unit[0].un2 == i % 25);
        char what[32];
        snprintf(what, sizeof what, "1-unit #%llu", (unsigned long long)i);
        check_cand_roundtrip(&c, what);
    }
    /* the paper's examples are single units ((atan x)^2 - x composes two unaries: not one) */
    static const char *const ex[] = { "x*sigmoid(beta*x)", "max(x, sigmoid(x))", "cos(x) - x",
                                      "sinc(x) + x", "min(x, sin(x))", "max(x, tanh(x))" };
    for (size_t k = 0; k < sizeof ex / sizeof *ex; k++) {
        act_expr *e = NULL;
        act_space_cand c;
        act_diag d;
        CHECK(act_expr_parse(ex[k], &e, &d) == ACT_OK);
        CHECKF(e && act_space_from_expr(e, &c) == ACT_OK && c.n_units == 1, "%s", ex[k]);
        act_expr_free(e);
    }
    act_expr *e = NULL;
    act_space_cand c;
    act_diag d;
    CHECK(act_expr_parse("mish(x) + x", &e, &d) == ACT_OK);
    CHECK(e && act_space_from_expr(e, &c) == ACT_ENOTFOUND);
    act_expr_free(e);
    CHECK(act_expr_parse("atan(x)^2 - x", &e, &d) == ACT_OK);
    CHECK(e && act_space_from_expr(e, &c) == ACT_ENOTFOUND);
    act_expr_free(e);
}

void test_space_sample_roundtrip(void)
{
    uint64_t rng = 5;
    int hist[ACT_SPACE_BINARY_COUNT] = { 0 };
    for (int i = 0; i < 300; i++) {
        act_space_cand c;
        int k = 1 + i % 3;
        CHECK(act_space_sample(act_space_preset_lookup("full"), k, &rng, &c) == ACT_OK);
        CHECK(c.n_units == k);
        hist[c.unit[0].binary]++;
        char what[32];
        snprintf(what, sizeof what, "sample %d", i);
        check_cand_roundtrip(&c, what);
    }
    for (int b = 0; b < ACT_SPACE_BINARY_COUNT; b++)          /* roughly uniform: 30 each */
        CHECKF(hist[b] > 10 && hist[b] < 60, "binary %d drawn %d times of 300", b, hist[b]);
    /* presets restrict the draw */
    const act_space_preset *bxg = act_space_preset_lookup("bxg");
    for (int i = 0; i < 50; i++) {
        act_space_cand c;
        CHECK(act_space_sample(bxg, 2, &rng, &c) == ACT_OK);
        CHECK(c.unit[1].in1 == 0 && c.unit[1].un1 == ACT_SPACE_U_X);
    }
    const act_space_preset *nodiv = act_space_preset_lookup("no-div");
    for (int i = 0; i < 50; i++) {
        act_space_cand c;
        CHECK(act_space_sample(nodiv, 1, &rng, &c) == ACT_OK);
        CHECK(c.unit[0].binary != ACT_SPACE_B_DIV);
    }
}

static act_expr_prog *compile_canon(const char *s)
{
    act_expr *e = NULL, *c = NULL;
    act_expr_prog *p = NULL;
    act_diag d;
    int rc = act_expr_parse(s, &e, &d);
    if (rc == ACT_OK)
        rc = act_expr_canonical(e, &c);
    if (rc == ACT_OK)
        rc = act_expr_compile(c, &p);
    CHECKF(rc == ACT_OK && p != NULL, "%s: %s", s, act_strerror(rc));
    act_expr_free(e);
    act_expr_free(c);
    return p;
}

static void expect_same(const char *a, const char *b, int same)
{
    act_expr_prog *pa = compile_canon(a), *pb = compile_canon(b);
    uint64_t fa = 0, fb = 1;
    if (!pa || !pb)
        goto done;
    int ra = act_space_fingerprint(pa, &fa), rb = act_space_fingerprint(pb, &fb);
    CHECKF(ra == ACT_OK && rb == ACT_OK, "fingerprint of '%s': %s, of '%s': %s", a,
           act_strerror(ra), b, act_strerror(rb));
    if (ra != ACT_OK || rb != ACT_OK)
        goto done;
    CHECKF((fa == fb) == same, "fingerprints of '%s' and '%s' %s", a, b,
           same ? "differ" : "collide");
    CHECKF(act_space_equivalent(pa, pb) == same, "'%s' vs '%s': equivalence should be %d", a, b,
           same);
done:
    act_expr_prog_free(pa);
    act_expr_prog_free(pb);
}

static void expect_verdict(const char *s, act_space_verdict want)
{
    act_expr_prog *p = compile_canon(s);
    act_space_verdict v = ACT_SPACE_VERDICT_COUNT;
    if (p)
        CHECK(act_space_filter(p, &v) == ACT_OK);
    CHECKF(v == want, "'%s': verdict %s, want %s", s, act_space_verdict_name(v),
           act_space_verdict_name(want));
    act_expr_prog_free(p);
}

void test_space_dedup_semantics(void)
{
    expect_same("x - max(x, 0)", "min(x, 0)", 1);
    expect_same("max(x, 0) - min(x, 0)", "abs(x)", 1);
    expect_same("exp(x) - sinh(x)", "cosh(x)", 1);
    expect_same("sigmoid(x)*x", "x*sigmoid(x)", 1);
    expect_same("beta*x", "x", 0);                   /* beta-dependent: never merged */
    expect_same("x*sigmoid(beta*x)", "x*sigmoid(x)", 0);
    expect_same("max(x, 10)", "x", 0);               /* differs only far out: caught */
    expect_verdict("sqrt(x) + x", ACT_SPACE_NONFINITE);
    expect_verdict("max(sqrt(x), exp(x))", ACT_SPACE_NONFINITE);   /* NaN propagates */
    expect_verdict("exp(-beta*(x - x)^2)", ACT_SPACE_CONSTANT);
    expect_verdict("beta*x + (1 - beta)*x", ACT_SPACE_LINEAR);
    expect_verdict("x/(min(x, 0) + eps)", ACT_SPACE_EXPLODING);
    expect_verdict("x*sigmoid(beta*x)", ACT_SPACE_KEEP);
    act_space_index *ix = act_space_index_new();
    act_expr_prog *p[3] = { compile_canon("abs(x)"), compile_canon("max(x, -x)"),
                            compile_canon("x^2") };
    int rep, is_new;
    for (int i = 0; i < 3; i++)
        CHECK(p[i] && act_space_index_add(ix, p[i], &rep, &is_new) == ACT_OK);
    CHECK(act_space_index_add(ix, p[1], &rep, &is_new) == ACT_OK && rep == 0 && !is_new);
    CHECK(act_space_index_add(ix, p[2], &rep, &is_new) == ACT_OK && rep == 1 && !is_new);
    act_space_index_free(ix);
    for (int i = 0; i < 3; i++)
        act_expr_prog_free(p[i]);
}

/* The whole 1-unit space: counts pinned (docs/expr-grammar.md explains them against the
 * reference 6,250 -> 5,267 kept -> 3,374 distinct). A change in semantics shows up here. */
void test_space_one_unit_counts(void)
{
    const act_space_preset *full = act_space_preset_lookup("full");
    int counts[ACT_SPACE_VERDICT_COUNT] = { 0 }, distinct = 0;
    act_expr_prog **progs = calloc(6250, sizeof *progs);
    act_space_index *ix = act_space_index_new();
    if (!progs || !ix) {
        free(progs);
        act_space_index_free(ix);
        return;
    }
    for (uint64_t i = 0; i < 6250; i++) {
        act_space_cand c;
        act_expr *e = NULL, *ce = NULL;
        act_space_verdict v = ACT_SPACE_VERDICT_COUNT;
        int rc = act_space_nth(full, 1, i, &c);
        CHECKF(rc == ACT_OK, "act_space_nth(full, 1, %llu): %s", (unsigned long long)i,
               act_strerror(rc));
        if (rc == ACT_OK && act_space_to_expr(&c, &e) == ACT_OK &&
            act_expr_canonical(e, &ce) == ACT_OK && act_expr_compile(ce, &progs[i]) == ACT_OK &&
            act_space_filter(progs[i], &v) == ACT_OK)
            counts[v]++;
        if (v == ACT_SPACE_KEEP) {
            int rep, is_new = 0;
            CHECK(act_space_index_add(ix, progs[i], &rep, &is_new) == ACT_OK);
            distinct += is_new;
        }
        act_expr_free(e);
        act_expr_free(ce);
    }
    CHECK(counts[ACT_SPACE_NONFINITE] == 487);
    CHECK(counts[ACT_SPACE_CONSTANT] == 150);
    CHECK(counts[ACT_SPACE_LINEAR] == 203);
    CHECK(counts[ACT_SPACE_EXPLODING] == 233);
    CHECKF(counts[ACT_SPACE_KEEP] == 5177, "kept %d", counts[ACT_SPACE_KEEP]);
    CHECKF(distinct == 3316, "distinct %d", distinct);
    act_space_index_free(ix);
    for (int i = 0; i < 6250; i++)
        act_expr_prog_free(progs[i]);
    free(progs);
}

/* Appends sin(x + lo) + ... + sin(x + hi) to buf as a balanced tree (depth log2 of the terms). */
static void balanced_sum(char *buf, size_t cap, size_t *len, int lo, int hi)
{
    if (lo == hi) {
        *len += (size_t)snprintf(buf + *len, cap - *len, "sin(x + %d)", lo);
        return;
    }
    int mid = (lo + hi) / 2;
    *len += (size_t)snprintf(buf + *len, cap - *len, "(");
    balanced_sum(buf, cap, len, lo, mid);
    *len += (size_t)snprintf(buf + *len, cap - *len, " + ");
    balanced_sum(buf, cap, len, mid + 1, hi);
    *len += (size_t)snprintf(buf + *len, cap - *len, ")");
}

/* act_space_propose on parsed text; the proposal is the caller's. */
static int propose_text(act_space_index *ix, const char *s, unsigned flags, act_space_proposal *p)
{
    act_expr *e = NULL;
    act_diag d;
    int rc = act_expr_parse(s, &e, &d);
    CHECKF(rc == ACT_OK, "%s: %s", s, d.msg);
    if (rc == ACT_OK)
        rc = act_space_propose(ix, e, flags, p);
    act_expr_free(e);
    return rc;
}

/* The pipeline as one call: texts, verdict, fingerprint; a duplicate gets the first one's
 * representative even after the first proposal is freed (the index keeps its own program); a
 * filtered candidate is not added; bad arguments leave nothing to free. */
void test_space_propose(void)
{
    const unsigned FD = ACT_SPACE_PROPOSE_FILTER | ACT_SPACE_PROPOSE_DEDUP;
    act_space_index *ix = act_space_index_new();
    act_space_proposal p;
    CHECK(ix && propose_text(ix, "max(x, 0) - min(x, 0)", FD, &p) == ACT_OK);
    CHECK(p.text && strcmp(p.text, "max(x, 0) - min(x, 0)") == 0);
    act_expr *e = NULL;
    CHECK(act_expr_parse("max(x, 0) - min(x, 0)", &e, NULL) == ACT_OK);
    char *want = e ? canon_text(e) : NULL;
    CHECK(want && p.canon && strcmp(p.canon, want) == 0);
    free(want);
    act_expr_free(e);
    uint64_t fp = 0;
    CHECK(p.prog && act_space_fingerprint(p.prog, &fp) == ACT_OK && fp == p.fp);
    CHECK(p.verdict == ACT_SPACE_KEEP && p.rep == 0 && p.is_new == 1);
    act_space_proposal_free(&p);                 /* the index must not need it */
    CHECK(p.text == NULL && p.canon == NULL && p.prog == NULL && p.rep == -1);
    act_space_proposal_free(&p);                 /* zeroed: a no-op */
    act_space_proposal_free(NULL);

    CHECK(propose_text(ix, "abs(x)", FD, &p) == ACT_OK);
    CHECKF(p.rep == 0 && p.is_new == 0, "abs(x): rep %d, new %d", p.rep, p.is_new);
    act_space_proposal_free(&p);
    /* filtered: a verdict, no representative, and the index does not grow */
    CHECK(propose_text(ix, "sqrt(x) + x", FD, &p) == ACT_OK);
    CHECK(p.verdict == ACT_SPACE_NONFINITE && p.rep == -1 && p.is_new == 0 && p.prog);
    act_space_proposal_free(&p);
    CHECK(propose_text(ix, "x^2", FD, &p) == ACT_OK && p.rep == 1 && p.is_new == 1);
    act_space_proposal_free(&p);
    /* without FILTER everything is kept; without DEDUP nothing is looked up (ix may be NULL) */
    CHECK(propose_text(ix, "sqrt(x) + x", ACT_SPACE_PROPOSE_DEDUP, &p) == ACT_OK);
    CHECK(p.verdict == ACT_SPACE_KEEP && p.rep == 2 && p.is_new == 1);
    act_space_proposal_free(&p);
    CHECK(propose_text(NULL, "x*x", ACT_SPACE_PROPOSE_FILTER, &p) == ACT_OK);
    CHECK(p.verdict == ACT_SPACE_KEEP && p.rep == -1 && p.is_new == 0);
    act_space_proposal_free(&p);
    /* act_space_index_add (borrowing) and propose share one numbering */
    act_expr_prog *sq = compile_canon("x*x");
    int rep = -1, is_new = -1;
    CHECK(sq && act_space_index_add(ix, sq, &rep, &is_new) == ACT_OK && rep == 1 && !is_new);
    act_expr_prog_free(sq);

    /* bad arguments */
    CHECK(propose_text(NULL, "x", ACT_SPACE_PROPOSE_DEDUP, &p) == ACT_EINVAL);
    CHECK(p.text == NULL && p.prog == NULL && p.rep == -1);
    CHECK(propose_text(ix, "x", 0x80u, &p) == ACT_EINVAL);
    CHECK(act_space_propose(ix, NULL, FD, &p) == ACT_EINVAL);
    CHECK(act_space_propose(ix, NULL, FD, NULL) == ACT_EINVAL);
    /* a failure after the texts were printed (too many instructions to compile): out is
     * released, ix unchanged (ASan: nothing leaks) */
    size_t cap = 1 << 15, len = 0;
    char *big = malloc(cap);
    if (big) {
        big[0] = '\0';
        balanced_sum(big, cap, &len, 1, 512);
        CHECK(propose_text(ix, big, FD, &p) == ACT_ELIMIT);
        CHECK(p.text == NULL && p.canon == NULL && p.prog == NULL && p.rep == -1);
        free(big);
    }
    CHECK(propose_text(ix, "x^3", FD, &p) == ACT_OK && p.rep == 3 && p.is_new == 1);
    act_space_proposal_free(&p);
    act_space_index_free(ix);

    /* the same rows as the step-by-step pipeline, over a slice of the 1-unit space */
    const act_space_preset *full = act_space_preset_lookup("full");
    act_space_index *a = act_space_index_new(), *b = act_space_index_new();
    act_expr_prog *progs[400] = { 0 };
    for (uint64_t i = 0; a && b && i < 400; i++) {
        act_space_cand ci;
        act_expr *ei = NULL, *ce = NULL;
        char *text = NULL, *canon = NULL;
        act_space_verdict v = ACT_SPACE_KEEP;
        uint64_t f = 0;
        int r = -1, nw = 0;
        int rc = act_space_nth(full, 1, i * 15, &ci);
        if (rc == ACT_OK)
            rc = act_space_to_expr(&ci, &ei);
        if (rc == ACT_OK)
            rc = act_expr_set_eps(ei, 1e-3f);
        if (rc == ACT_OK)
            rc = act_space_propose(a, ei, FD, &p);
        if (rc == ACT_OK)
            rc = act_expr_canonical(ei, &ce);
        if (rc == ACT_OK)
            rc = act_expr_print(ei, ACT_EXPR_TEXT, &text);
        if (rc == ACT_OK)
            rc = act_expr_print(ce, ACT_EXPR_TEXT, &canon);
        if (rc == ACT_OK)
            rc = act_expr_compile(ce, &progs[i]);
        if (rc == ACT_OK)
            rc = act_space_filter(progs[i], &v);
        if (rc == ACT_OK)
            rc = act_space_fingerprint(progs[i], &f);
        if (rc == ACT_OK && v == ACT_SPACE_KEEP)
            rc = act_space_index_add(b, progs[i], &r, &nw);
        CHECKF(rc == ACT_OK, "candidate %llu: %s", (unsigned long long)(i * 15),
               act_strerror(rc));
        if (rc == ACT_OK)
            CHECKF(!strcmp(p.text, text) && !strcmp(p.canon, canon) && p.verdict == v &&
                   p.fp == f && p.rep == r && p.is_new == nw,
                   "candidate %llu: '%s' %s rep %d vs '%s' %s rep %d",
                   (unsigned long long)(i * 15), p.canon, act_space_verdict_name(p.verdict),
                   p.rep, canon, act_space_verdict_name(v), r);
        act_space_proposal_free(&p);
        act_expr_free(ei);
        act_expr_free(ce);
        free(text);
        free(canon);
    }
    act_space_index_free(a);
    act_space_index_free(b);
    for (int i = 0; i < 400; i++)
        act_expr_prog_free(progs[i]);
}
