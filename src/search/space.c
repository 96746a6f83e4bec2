/* space.c -- the core-unit search space (include/actlab/space.h): templates, conversion to and
 * from expression trees, enumeration, sampling, presets, degenerate filters, fingerprints, the
 * functional dedup index and the per-candidate pipeline (act_space_propose). Counts for the
 * 1-unit space: docs/expr-grammar.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/rng.h"
#include "actlab/space.h"
#define ACTI_EXPR_TREE_API          /* only the tree API: the contract in expr_int.h */
#include "expr/expr_int.h"

static const char *const unary_t[] = {
#define X(ID, t) [ACT_SPACE_U_##ID] = t,
    ACT_SPACE_UNARY_LIST(X)
#undef X
};
static const char *const binary_t[] = {
#define X(ID, t) [ACT_SPACE_B_##ID] = t,
    ACT_SPACE_BINARY_LIST(X)
#undef X
};
_Static_assert(sizeof unary_t / sizeof *unary_t == 25, "the paper has 25 unary functions");
_Static_assert(sizeof binary_t / sizeof *binary_t == 10, "the paper has 10 binary functions");

const char *act_space_unary_template(act_space_unary u)
{
    return (unsigned)u < ACT_SPACE_UNARY_COUNT ? unary_t[u] : NULL;
}

const char *act_space_binary_template(act_space_binary b)
{
    return (unsigned)b < ACT_SPACE_BINARY_COUNT ? binary_t[b] : NULL;
}

// ----------------------------------------------------------------------------
// presets

#define U(ID) (1u << ACT_SPACE_U_##ID)
#define B(ID) (1u << ACT_SPACE_B_##ID)
#define ALL_U ((1u << ACT_SPACE_UNARY_COUNT) - 1u)
#define ALL_B ((1u << ACT_SPACE_BINARY_COUNT) - 1u)

static const act_space_preset presets[] = {
    { "full", "all 25 unary and 10 binary functions (the paper's space)", ALL_U, ALL_B, 0 },
    { "bxg", "the b(x, g(x)) form of the best functions: last unit's first input is x itself",
      ALL_U, ALL_B, 1 },
    { "no-div", "the full space without x1/(x2 + eps) (division did poorly in the paper)",
      ALL_U, ALL_B & ~B(DIV), 0 },
    { "smooth", "no kinks: drops abs, max/min and exp(-beta|x1 - x2|)",
      ALL_U & ~(U(ABS) | U(RELU) | U(MIN0) | U(LOG)), ALL_B & ~(B(MAX) | B(MIN) | B(LAPD)), 0 },
    { "basic", "a small ReLU-family set: x, -x, |x|, x^2, beta*x, max(x,0), min(x,0), sigmoid, "
      "tanh; +, *, -, max, min, sigmoid(x1)*x2",
      U(X) | U(NEG) | U(ABS) | U(SQUARE) | U(SCALE) | U(RELU) | U(MIN0) | U(SIGMOID) | U(TANH),
      B(ADD) | B(MUL) | B(SUB) | B(MAX) | B(MIN) | B(SIGMUL), 0 },
};

const act_space_preset *act_space_preset_lookup(const char *name)
{
    for (size_t i = 0; name && i < sizeof presets / sizeof *presets; i++)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    return NULL;
}

const act_space_preset *act_space_preset_at(int i)
{
    if (i < 0 || (size_t)i >= sizeof presets / sizeof *presets)
        return NULL;
    return &presets[i];
}

// ----------------------------------------------------------------------------
// candidate <-> expression

/* Instantiates template src in e with holes h[0..2) and its beta as parameter *np. */
static int apply_template(act_expr *e, const char *src, const int *h, int *np)
{
    act_expr *t;
    int rc = acti_expr_parse(src, 1, &t, NULL);
    if (rc != ACT_OK)
        return rc;
    int tp = act_expr_n_params(t);
    if (*np + tp > ACT_EXPR_MAX_PARAMS) {
        act_expr_free(t);
        return ACT_ELIMIT;
    }
    int pmap[1] = { *np };
    int r = acti_expr_copy(e, t, acti_expr_root(t), h, pmap);
    *np += tp;
    act_expr_free(t);
    return r;
}

static int cand_valid(const act_space_cand *c)
{
    if (!c || c->n_units < 1 || c->n_units > ACT_SPACE_MAX_UNITS)
        return 0;
    for (int u = 0; u < c->n_units; u++) {
        const act_space_unit *q = &c->unit[u];
        if (q->binary >= ACT_SPACE_BINARY_COUNT || q->un1 >= ACT_SPACE_UNARY_COUNT ||
            q->un2 >= ACT_SPACE_UNARY_COUNT || q->in1 > u || q->in2 > u)
            return 0;
    }
    return 1;
}

int act_space_to_expr(const act_space_cand *c, act_expr **out)
{
    if (!out || !cand_valid(c))
        return ACT_EINVAL;
    *out = NULL;
    act_expr *e = acti_expr_new();
    if (!e)
        return ACT_ENOMEM;
    int val[ACT_SPACE_MAX_UNITS + 1], np = 0, r;
    r = val[0] = acti_expr_leaf(e, ACT_EXPR_INPUT, 0, 0.0f);
    for (int u = 0; r >= 0 && u < c->n_units; u++) {
        const act_space_unit *q = &c->unit[u];
        int h[2];
        int h1[2] = { val[q->in1], -1 }, h2[2] = { val[q->in2], -1 };
        if ((h[0] = apply_template(e, unary_t[q->un1], h1, &np)) < 0) {
            r = h[0];
            break;
        }
        if ((h[1] = apply_template(e, unary_t[q->un2], h2, &np)) < 0) {
            r = h[1];
            break;
        }
        r = val[u + 1] = apply_template(e, binary_t[q->binary], h, &np);
    }
    if (r >= 0)
        r = acti_expr_set_root(e, val[c->n_units]);
    if (r < 0) {
        act_expr_free(e);
        return r;
    }
    *out = e;
    return ACT_OK;
}

typedef struct matcher {
    const act_expr *e;
    act_expr       *tu[ACT_SPACE_UNARY_COUNT];
    act_expr       *tb[ACT_SPACE_BINARY_COUNT];
    act_space_cand *c;
    int            *memo;          /* node -> unit index + 1, 0 unknown */
    int             limit;         /* at most this many units (iterative deepening) */
} matcher;

static int match_t(const act_expr *t, int ti, const act_expr *e, int ei, int *hole, int *param)
{
    const acti_enode *tn = acti_expr_node(t, ti), *en = acti_expr_node(e, ei);
    if (tn->op == ACT_EXPR_HOLE) {
        if (hole[tn->k] < 0)
            hole[tn->k] = ei;
        return hole[tn->k] == ei;
    }
    if (tn->op == ACT_EXPR_PARAM) {
        if (en->op != ACT_EXPR_PARAM)
            return 0;
        if (param[tn->k] < 0)
            param[tn->k] = en->k;
        return param[tn->k] == en->k;
    }
    if (tn->op != en->op || tn->k != en->k || memcmp(&tn->c, &en->c, sizeof tn->c) != 0 ||
        memcmp(tn->p, en->p, sizeof tn->p) != 0)
        return 0;
    int h0[2] = { hole[0], hole[1] }, p0 = param[0];
    if ((tn->a < 0 || match_t(t, tn->a, e, en->a, hole, param)) &&
        (tn->b < 0 || match_t(t, tn->b, e, en->b, hole, param)))
        return 1;
    act_expr_op op = (act_expr_op)tn->op;
    if (op != ACT_EXPR_ADD && op != ACT_EXPR_MUL && op != ACT_EXPR_MAX && op != ACT_EXPR_MIN)
        return 0;
    hole[0] = h0[0];                              /* commutative: try the operands swapped */
    hole[1] = h0[1];
    param[0] = p0;
    return match_t(t, tn->a, e, en->b, hole, param) && match_t(t, tn->b, e, en->a, hole, param);
}

static int match_unit(matcher *m, int ei);

/* input index for a unary's argument node: 0 for x, j+1 for unit j; -1 if none */
static int match_value(matcher *m, int ei)
{
    if (acti_expr_node(m->e, ei)->op == ACT_EXPR_INPUT)
        return 0;
    return match_unit(m, ei);
}

static void restore(matcher *m, int n_units)
{
    m->c->n_units = n_units;
    for (int i = 0, n = act_expr_n_nodes(m->e); i < n; i++)
        if (m->memo[i] > n_units)
            m->memo[i] = 0;
}

/* a unary whose template matches node ei: writes its id and the input index */
static int match_unary(matcher *m, int ei, int *un, int *in)
{
    for (int k = 1; k <= ACT_SPACE_UNARY_COUNT; k++) {       /* identity (0) last */
        int u = k % ACT_SPACE_UNARY_COUNT;
        int hole[2] = { -1, -1 }, param[1] = { -1 };
        const act_expr *t = m->tu[u];
        if (!match_t(t, acti_expr_root(t), m->e, ei, hole, param))
            continue;
        int save = m->c->n_units;
        int v = hole[0] < 0 ? 0 : match_value(m, hole[0]);
        if (v >= 0) {
            *un = u;
            *in = v;
            return 1;
        }
        restore(m, save);
    }
    return 0;
}

static int match_unit(matcher *m, int ei)
{
    if (m->memo[ei])
        return m->memo[ei];
    if (m->c->n_units >= m->limit)
        return -1;
    for (int b = 0; b < ACT_SPACE_BINARY_COUNT; b++) {
        int hole[2] = { -1, -1 }, param[1] = { -1 };
        const act_expr *t = m->tb[b];
        if (!match_t(t, acti_expr_root(t), m->e, ei, hole, param))
            continue;
        int save = m->c->n_units, u1, u2, i1, i2;
        if (match_unary(m, hole[0], &u1, &i1) && match_unary(m, hole[1], &u2, &i2) &&
            m->c->n_units < m->limit) {
            act_space_unit q = { (uint8_t)b, (uint8_t)i1, (uint8_t)i2, (uint8_t)u1,
                                 (uint8_t)u2 };
            m->c->unit[m->c->n_units++] = q;
            return m->memo[ei] = m->c->n_units;
        }
        restore(m, save);
    }
    return -1;
}

int act_space_from_expr(const act_expr *e, act_space_cand *out)
{
    if (!e || !out || acti_expr_root(e) < 0)
        return ACT_EINVAL;
    size_t n_nodes = (size_t)act_expr_n_nodes(e);
    matcher m = { .e = e, .c = out };
    int rc = ACT_OK;
    memset(out, 0, sizeof *out);
    for (int u = 0; u < ACT_SPACE_UNARY_COUNT && rc == ACT_OK; u++)
        rc = acti_expr_parse(unary_t[u], 1, &m.tu[u], NULL);
    for (int b = 0; b < ACT_SPACE_BINARY_COUNT && rc == ACT_OK; b++)
        rc = acti_expr_parse(binary_t[b], 1, &m.tb[b], NULL);
    if (rc == ACT_OK && !(m.memo = calloc(n_nodes, sizeof *m.memo)))
        rc = ACT_ENOMEM;
    /* the fewest units first: x*sigmoid(beta*x) is one unit, not (beta*x) then x*sigmoid(.) */
    for (m.limit = 1; rc == ACT_OK && m.limit <= ACT_SPACE_MAX_UNITS; m.limit++) {
        memset(m.memo, 0, n_nodes * sizeof *m.memo);
        out->n_units = 0;
        int r = match_unit(&m, acti_expr_root(e));
        if (r > 0 && r == out->n_units)
            break;
        if (m.limit == ACT_SPACE_MAX_UNITS)
            rc = ACT_ENOTFOUND;
    }
    for (int u = 0; u < ACT_SPACE_UNARY_COUNT; u++)
        act_expr_free(m.tu[u]);
    for (int b = 0; b < ACT_SPACE_BINARY_COUNT; b++)
        act_expr_free(m.tb[b]);
    free(m.memo);
    return rc;
}

// ----------------------------------------------------------------------------
// enumeration and sampling

static int allowed(uint32_t mask, int n, int *list)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if (mask & (1u << i))
            list[k++] = i;
    return k;
}

/* the choices of unit u: (binaries, inputs for in1, inputs for in2, unaries 1, unaries 2) */
static void unit_radix(const act_space_preset *ps, int n_units, int u, int *nb, int *ni1,
                       int *ni2, int *nu1, int *nu2, int *bl, int *ul)
{
    *nb = allowed(ps->binary_mask, ACT_SPACE_BINARY_COUNT, bl);
    *nu2 = allowed(ps->unary_mask, ACT_SPACE_UNARY_COUNT, ul);
    *ni1 = *ni2 = u + 1;
    *nu1 = *nu2;
    if (ps->bxg && u == n_units - 1) {
        *ni1 = 1;
        *nu1 = 1;
    }
}

uint64_t act_space_count(const act_space_preset *ps, int n_units)
{
    if (!ps || n_units < 1 || n_units > ACT_SPACE_MAX_UNITS)
        return 0;
    uint64_t total = 1;
    for (int u = 0; u < n_units; u++) {
        int nb, ni1, ni2, nu1, nu2, bl[32], ul[32];
        unit_radix(ps, n_units, u, &nb, &ni1, &ni2, &nu1, &nu2, bl, ul);
        uint64_t f = (uint64_t)nb * (uint64_t)ni1 * (uint64_t)ni2 * (uint64_t)nu1 * (uint64_t)nu2;
        if (f && total > UINT64_MAX / f)
            return UINT64_MAX;
        total *= f;
    }
    return total;
}

int act_space_nth(const act_space_preset *ps, int n_units, uint64_t i, act_space_cand *out)
{
    if (!ps || !out || i >= act_space_count(ps, n_units))
        return ACT_EINVAL;
    out->n_units = n_units;
    for (int u = n_units - 1; u >= 0; u--) {
        int nb, ni1, ni2, nu1, nu2, bl[32], ul[32];
        unit_radix(ps, n_units, u, &nb, &ni1, &ni2, &nu1, &nu2, bl, ul);
        act_space_unit *q = &out->unit[u];
        int un2 = (int)(i % (uint64_t)nu2); i /= (uint64_t)nu2;
        int un1 = (int)(i % (uint64_t)nu1); i /= (uint64_t)nu1;
        int in2 = (int)(i % (uint64_t)ni2); i /= (uint64_t)ni2;
        int in1 = (int)(i % (uint64_t)ni1); i /= (uint64_t)ni1;
        int b = (int)(i % (uint64_t)nb);    i /= (uint64_t)nb;
        q->binary = (uint8_t)bl[b];
        q->in1 = (uint8_t)in1;
        q->in2 = (uint8_t)in2;
        q->un1 = (uint8_t)(nu1 == 1 && ps->bxg && u == n_units - 1 ? ACT_SPACE_U_X : ul[un1]);
        q->un2 = (uint8_t)ul[un2];
    }
    return ACT_OK;
}

static int below(act_rng *rng, int n)
{
    return (int)act_rng_below(rng, (uint64_t)n);
}

static int n_betas(const act_space_cand *c)
{
    int n = 0;
    for (int u = 0; u < c->n_units; u++) {
        const act_space_unit *q = &c->unit[u];
        n += strstr(unary_t[q->un1], "beta") != NULL;
        n += strstr(unary_t[q->un2], "beta") != NULL;
        n += strstr(binary_t[q->binary], "beta") != NULL;
    }
    return n;
}

int act_space_sample(const act_space_preset *ps, int n_units, uint64_t *state,
                     act_space_cand *out)
{
    if (!ps || !state || !out || act_space_count(ps, n_units) == 0)
        return ACT_EINVAL;
    act_rng r = act_rng_seed(*state), *rng = &r;
    int rc = ACT_ELIMIT;
    for (int tries = 0; tries < 1000 && rc != ACT_OK; tries++) {
        out->n_units = n_units;
        for (int u = 0; u < n_units; u++) {
            int nb, ni1, ni2, nu1, nu2, bl[32], ul[32];
            unit_radix(ps, n_units, u, &nb, &ni1, &ni2, &nu1, &nu2, bl, ul);
            act_space_unit *q = &out->unit[u];
            q->binary = (uint8_t)bl[below(rng, nb)];
            q->in1 = (uint8_t)below(rng, ni1);
            q->in2 = (uint8_t)below(rng, ni2);
            q->un1 = (uint8_t)(nu1 == 1 && ps->bxg && u == n_units - 1 ? ACT_SPACE_U_X
                                                                     : ul[below(rng, nu1)]);
            q->un2 = (uint8_t)ul[below(rng, nu2)];
        }
        if (n_betas(out) <= ACT_EXPR_MAX_PARAMS)
            rc = ACT_OK;
    }
    *state = r.state;
    return rc;
}

// ----------------------------------------------------------------------------
// probes, filters, fingerprints

#define NP_GRID   401
#define NP_NORMAL 256
#define NP        (NP_GRID + NP_NORMAL)
#define NQ        (301 + 128)

static const char *const verdict_name[] = {
#define X(ID, name) [ACT_SPACE_##ID] = name,
    ACT_SPACE_VERDICT_LIST(X)
#undef X
};

const char *act_space_verdict_name(act_space_verdict v)
{
    return (unsigned)v < ACT_SPACE_VERDICT_COUNT ? verdict_name[v] : NULL;
}

/* P: 401 points -10 + 0.05 (i + 1/2) (0 is never a probe) and 256 N(0,1) points (seed 1) */
static void probe_p(double *x)
{
    act_rng s = act_rng_seed(1);
    for (int i = 0; i < NP_GRID; i++)
        x[i] = -10.0 + 0.05 * ((double)i + 0.5);
    for (int i = 0; i < NP_NORMAL; i++)
        x[NP_GRID + i] = act_rng_normal(&s);
}

/* Q: 301 points on [-20, 20] offset by half a step and 128 N(0, 5^2) points (seed 2) */
static void probe_q(double *x)
{
    act_rng s = act_rng_seed(2);
    for (int i = 0; i < 301; i++)
        x[i] = -20.0 + (40.0 / 301.0) * ((double)i + 0.5);
    for (int i = 0; i < 128; i++)
        x[301 + i] = 5.0 * act_rng_normal(&s);
}

/* the two parameter vectors */
static void beta_set(int which, double *p)
{
    static const double b2[ACT_EXPR_MAX_PARAMS] = { 0.7, 1.3, 0.45, 1.6, 0.85, 1.15, 0.6, 1.45 };
    for (int k = 0; k < ACT_EXPR_MAX_PARAMS; k++)
        p[k] = which ? b2[k] : 1.0;
}

int act_space_filter(const act_expr_prog *p, act_space_verdict *v)
{
    if (!p || !v)
        return ACT_EINVAL;
    double xd[NP];
    float x[NP], y[NP];
    probe_p(xd);
    for (int i = 0; i < NP; i++)
        x[i] = (float)xd[i];
    act_space_verdict worst = ACT_SPACE_KEEP;
    for (int set = 0; set < 2; set++) {
        double pd[ACT_EXPR_MAX_PARAMS];
        float pf[ACT_EXPR_MAX_PARAMS];
        beta_set(set, pd);
        for (int k = 0; k < ACT_EXPR_MAX_PARAMS; k++)
            pf[k] = (float)pd[k];
        int rc = act_expr_forward(p, pf, 0, x, y, act_shape_flat(NP));
        if (rc != ACT_OK)
            return rc;
        act_space_verdict w = ACT_SPACE_KEEP;
        double mx = -INFINITY, mn = INFINITY;
        double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, nl = 0;
        for (int i = 0; i < NP; i++) {
            double f = (double)y[i];
            if (!isfinite(f)) {
                w = ACT_SPACE_NONFINITE;
                break;
            }
            mx = fmax(mx, f);
            mn = fmin(mn, f);
            if (i < NP_GRID && fabs(xd[i]) <= 5.0) {
                double xi = (double)x[i];
                sx += xi; sy += f; sxx += xi * xi; sxy += xi * f; syy += f * f; nl += 1;
            }
        }
        /* float values: a tolerance of a few ulp, so the result cannot depend on whether a lane
         * took the vector or the scalar path (they may differ by an ulp) */
        if (w == ACT_SPACE_KEEP && mx - mn <= 1e-6 * (1.0 + fabs(mx)))
            w = ACT_SPACE_CONSTANT;
        if (w == ACT_SPACE_KEEP) {
            double cxx = sxx - sx * sx / nl, cxy = sxy - sx * sy / nl, cyy = syy - sy * sy / nl;
            double r2 = cyy > 0 ? (cxy * cxy) / (cxx * cyy) : 1.0;
            if (r2 > 0.9999)
                w = ACT_SPACE_LINEAR;
        }
        if (w == ACT_SPACE_KEEP)
            for (int i = 0; i < NP; i++)
                if (fabs(xd[i]) <= 3.0 && fabs((double)y[i]) > 1e3)
                    w = ACT_SPACE_EXPLODING;
        if (w != ACT_SPACE_KEEP && (worst == ACT_SPACE_KEEP || w < worst))
            worst = w;
    }
    *v = worst;
    return ACT_OK;
}

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *s = data;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* value rounded to 30 significant bits; one pattern for NaN and for zero */
static uint64_t quantise(double v)
{
    uint64_t b;
    if (isnan(v))
        return 0x7ff8000000000000ULL;
    if (v == 0.0)
        return 0;
    memcpy(&b, &v, sizeof b);
    if (isinf(v))
        return b;
    const int drop = 52 - 29;
    b += 1ULL << (drop - 1);
    return b & ~((1ULL << drop) - 1);
}

int act_space_fingerprint(const act_expr_prog *p, uint64_t *fp)
{
    if (!p || !fp)
        return ACT_EINVAL;
    double x[NP], y[NP];
    probe_p(x);
    uint64_t h = 1469598103934665603ULL;
    int np = act_expr_prog_n_params(p);
    h = fnv(h, &np, sizeof np);
    for (int set = 0; set < 2; set++) {
        double pd[ACT_EXPR_MAX_PARAMS];
        beta_set(set, pd);
        int rc = act_expr_forward_d(p, pd, x, y, NP);
        if (rc != ACT_OK)
            return rc;
        for (int i = 0; i < NP; i++) {
            uint64_t q = quantise(y[i]);
            h = fnv(h, &q, sizeof q);
        }
    }
    *fp = h;
    return ACT_OK;
}

static int agree(const act_expr_prog *a, const act_expr_prog *b, const double *x, int n)
{
    double ya[NQ > NP ? NQ : NP], yb[NQ > NP ? NQ : NP];
    for (int set = 0; set < 2; set++) {
        double pd[ACT_EXPR_MAX_PARAMS];
        beta_set(set, pd);
        if (act_expr_forward_d(a, pd, x, ya, (size_t)n) != ACT_OK ||
            act_expr_forward_d(b, pd, x, yb, (size_t)n) != ACT_OK)
            return 0;
        for (int i = 0; i < n; i++) {
            if (isnan(ya[i]) || isnan(yb[i])) {
                if (isnan(ya[i]) != isnan(yb[i]))
                    return 0;
                continue;
            }
            if (ya[i] == yb[i])
                continue;
            if (!(fabs(ya[i] - yb[i]) < 1e-9 * fmax(fabs(ya[i]), fabs(yb[i]))))
                return 0;
        }
    }
    return 1;
}

int act_space_equivalent(const act_expr_prog *a, const act_expr_prog *b)
{
    if (!a || !b || act_expr_prog_n_params(a) != act_expr_prog_n_params(b))
        return 0;
    double xp[NP], xq[NQ];
    probe_p(xp);
    probe_q(xq);
    return agree(a, b, xp, NP) && agree(a, b, xq, NQ);
}

// ----------------------------------------------------------------------------
// dedup index

typedef struct ix_entry {
    uint64_t             fp;
    const act_expr_prog *prog;
    act_expr_prog       *own;       /* prog when the index owns it (act_space_propose), else NULL */
    int                  rep;
    int                  next;      /* chain in the bucket, -1 ends */
} ix_entry;

struct act_space_index {
    ix_entry *ent;
    int       n, cap;
    int      *bucket;               /* head entry per bucket, -1 empty */
    int       nb;
};

act_space_index *act_space_index_new(void)
{
    act_space_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return NULL;
    ix->nb = 4096;
    ix->bucket = malloc((size_t)ix->nb * sizeof *ix->bucket);
    if (!ix->bucket) {
        free(ix);
        return NULL;
    }
    for (int i = 0; i < ix->nb; i++)
        ix->bucket[i] = -1;
    return ix;
}

void act_space_index_free(act_space_index *ix)
{
    if (!ix)
        return;
    for (int i = 0; i < ix->n; i++)
        act_expr_prog_free(ix->ent[i].own);
    free(ix->ent);
    free(ix->bucket);
    free(ix);
}

/* The representative functionally equal to p (fingerprint fp), or -1. */
static int ix_find(const act_space_index *ix, uint64_t fp, const act_expr_prog *p)
{
    int b = (int)(fp & (uint64_t)(ix->nb - 1));
    for (int j = ix->bucket[b]; j >= 0; j = ix->ent[j].next)
        if (ix->ent[j].fp == fp && act_space_equivalent(ix->ent[j].prog, p))
            return ix->ent[j].rep;
    return -1;
}

/* Room for one more entry: ACT_OK or ACT_ENOMEM (ix unchanged). */
static int ix_reserve(act_space_index *ix)
{
    if (ix->n < ix->cap)
        return ACT_OK;
    int cap = ix->cap ? 2 * ix->cap : 256;
    ix_entry *e = realloc(ix->ent, (size_t)cap * sizeof *e);
    if (!e)
        return ACT_ENOMEM;
    ix->ent = e;
    ix->cap = cap;
    return ACT_OK;
}

/* Adds p as a new representative (after ix_reserve), borrowed, or owned if own (== p); returns
 * its id. */
static int ix_insert(act_space_index *ix, uint64_t fp, const act_expr_prog *p, act_expr_prog *own)
{
    int b = (int)(fp & (uint64_t)(ix->nb - 1));
    ix_entry *e = &ix->ent[ix->n];
    e->fp = fp;
    e->prog = p;
    e->rep = ix->n;
    e->own = own;
    e->next = ix->bucket[b];
    ix->bucket[b] = ix->n;
    return ix->n++;
}

int act_space_index_add(act_space_index *ix, const act_expr_prog *p, int *rep, int *is_new)
{
    if (!ix || !p || !rep || !is_new)
        return ACT_EINVAL;
    uint64_t fp;
    int rc = act_space_fingerprint(p, &fp);
    if (rc != ACT_OK)
        return rc;
    int r = ix_find(ix, fp, p);
    if (r >= 0) {
        *rep = r;
        *is_new = 0;
        return ACT_OK;
    }
    if ((rc = ix_reserve(ix)) != ACT_OK)
        return rc;
    *rep = ix_insert(ix, fp, p, NULL);
    *is_new = 1;
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// the candidate pipeline

void act_space_proposal_free(act_space_proposal *p)
{
    if (!p)
        return;
    free(p->text);
    free(p->canon);
    act_expr_prog_free(p->prog);
    *p = (act_space_proposal){ .rep = -1 };
}

int act_space_propose(act_space_index *ix, const act_expr *e, unsigned flags,
                      act_space_proposal *out)
{
    if (!out)
        return ACT_EINVAL;
    *out = (act_space_proposal){ .verdict = ACT_SPACE_KEEP, .rep = -1 };
    if (!e || (flags & ~(ACT_SPACE_PROPOSE_FILTER | ACT_SPACE_PROPOSE_DEDUP)) ||
        ((flags & ACT_SPACE_PROPOSE_DEDUP) && !ix))
        return ACT_EINVAL;
    act_expr *c = NULL;
    int rc = act_expr_canonical(e, &c);
    if (rc == ACT_OK)
        rc = act_expr_print(e, ACT_EXPR_TEXT, &out->text);
    if (rc == ACT_OK)
        rc = act_expr_print(c, ACT_EXPR_TEXT, &out->canon);
    if (rc == ACT_OK)
        rc = act_expr_compile(c, &out->prog);
    if (rc == ACT_OK && (flags & ACT_SPACE_PROPOSE_FILTER))
        rc = act_space_filter(out->prog, &out->verdict);
    if (rc == ACT_OK)
        rc = act_space_fingerprint(out->prog, &out->fp);
    if (rc == ACT_OK && (flags & ACT_SPACE_PROPOSE_DEDUP) && out->verdict == ACT_SPACE_KEEP) {
        /* the index keeps its own program, compiled again from the same tree (the same
         * program), so that out stays independent of ix */
        act_expr_prog *own = NULL;
        int r = ix_find(ix, out->fp, out->prog);
        if (r < 0 && (rc = ix_reserve(ix)) == ACT_OK &&
            (rc = act_expr_compile(c, &own)) == ACT_OK) {
            r = ix_insert(ix, out->fp, own, own);
            out->is_new = 1;
        }
        out->rep = r;
    }
    act_expr_free(c);
    if (rc != ACT_OK)
        act_space_proposal_free(out);
    return rc;
}
