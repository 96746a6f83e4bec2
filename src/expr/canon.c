/* canon.c -- canonical form of an expression: constant folding, identity folding, a fixed order
 * for the operands of commutative ops, and parameters renumbered by first appearance. Each rule
 * is an exact identity on finite floats (IEEE negation and subtraction are sign-symmetric), so
 * the canonical tree computes bit-identical values wherever the original is finite. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_int.h"

double acti_expr_eval1(const acti_enode *nd, double a, double b, double eps)
{
    switch ((act_expr_op)nd->op) {
    case ACT_EXPR_CONST:   return (double)nd->c;
    case ACT_EXPR_EPS:     return eps;
    case ACT_EXPR_INPUT: case ACT_EXPR_PARAM: case ACT_EXPR_HOLE: case ACT_EXPR_OP_COUNT:
        return NAN;
    case ACT_EXPR_NEG:     return -a;
    case ACT_EXPR_ADD:     return a + b;
    case ACT_EXPR_SUB:     return a - b;
    case ACT_EXPR_MUL:     return a * b;
    case ACT_EXPR_DIV:     return a / b;
    case ACT_EXPR_POWI: {
        double r = 1.0;
        for (int e = abs(nd->k); e; e--)
            r *= a;
        return nd->k < 0 ? 1.0 / r : r;
    }
    case ACT_EXPR_ABS:     return fabs(a);
    case ACT_EXPR_SQRT:    return sqrt(a);
    case ACT_EXPR_EXP:     return exp(a);
    case ACT_EXPR_LOG:     return log(a);
    case ACT_EXPR_SIN:     return sin(a);
    case ACT_EXPR_COS:     return cos(a);
    case ACT_EXPR_SINH:    return sinh(a);
    case ACT_EXPR_COSH:    return cosh(a);
    case ACT_EXPR_TANH:    return tanh(a);
    case ACT_EXPR_ASINH:   return asinh(a);
    case ACT_EXPR_ATAN:    return atan(a);
    case ACT_EXPR_SINC:    return fabs(a) < 1e-4 ? 1.0 - a * a / 6.0 : sin(a) / a;
    case ACT_EXPR_SIGMOID: return 1.0 / (1.0 + exp(-a));
    case ACT_EXPR_SOFTPLUS: return fmax(a, 0.0) + log1p(exp(-fabs(a)));
    case ACT_EXPR_ERF:     return erf(a);
    case ACT_EXPR_MAX:     return (a >= b || isnan(a)) ? a : b;
    case ACT_EXPR_MIN:     return (a <= b || isnan(a)) ? a : b;
    case ACT_EXPR_ACT: {
        float fa = (float)a, fy = 0.0f;
        /* parse checked the node's parameters (act_act_check_params): the call cannot fail */
        ACT_IGNORE(act_act_forward((act_act_id)nd->k, nd->p, 0, &fa, &fy, act_shape_flat(1)));
        return (double)fy;
    }
    }
    return NAN;
}

// ----------------------------------------------------------------------------
// order

static int rank(act_expr_op op)
{
    switch (op) {
    case ACT_EXPR_CONST: return 0;
    case ACT_EXPR_EPS:   return 1;
    case ACT_EXPR_PARAM: return 2;
    case ACT_EXPR_INPUT: return 3;
    case ACT_EXPR_HOLE:  return 4;
    case ACT_EXPR_NEG: case ACT_EXPR_ADD: case ACT_EXPR_SUB: case ACT_EXPR_MUL:
    case ACT_EXPR_DIV: case ACT_EXPR_POWI: case ACT_EXPR_ABS: case ACT_EXPR_SQRT:
    case ACT_EXPR_EXP: case ACT_EXPR_LOG: case ACT_EXPR_SIN: case ACT_EXPR_COS:
    case ACT_EXPR_SINH: case ACT_EXPR_COSH: case ACT_EXPR_TANH: case ACT_EXPR_ASINH:
    case ACT_EXPR_ATAN: case ACT_EXPR_SINC: case ACT_EXPR_SIGMOID: case ACT_EXPR_SOFTPLUS:
    case ACT_EXPR_ERF: case ACT_EXPR_MAX: case ACT_EXPR_MIN: case ACT_EXPR_ACT:
    case ACT_EXPR_OP_COUNT:
        break;
    }
    return 5 + (int)op;
}

/* Total order on subtrees that ignores parameter indices (they are renumbered afterwards). */
static int cmp(const act_expr *e, int i, int j)
{
    if (i == j)
        return 0;
    const acti_enode *x = &e->node[i], *y = &e->node[j];
    int rx = rank((act_expr_op)x->op), ry = rank((act_expr_op)y->op);
    if (rx != ry)
        return rx < ry ? -1 : 1;
    if (x->op != ACT_EXPR_PARAM && x->k != y->k)
        return x->k < y->k ? -1 : 1;
    uint32_t cx, cy;
    memcpy(&cx, &x->c, 4);
    memcpy(&cy, &y->c, 4);
    if (cx != cy)
        return x->c < y->c ? -1 : (x->c > y->c ? 1 : (cx < cy ? -1 : 1));
    int r = memcmp(x->p, y->p, sizeof x->p);
    if (r)
        return r < 0 ? -1 : 1;
    if (x->a >= 0 && (r = cmp(e, x->a, y->a)) != 0)
        return r;
    if (x->b >= 0 && (r = cmp(e, x->b, y->b)) != 0)
        return r;
    return 0;
}

// ----------------------------------------------------------------------------
// rewriting

typedef struct canon {
    act_expr *out;
} canon;

static const acti_enode *N(canon *c, int i) { return &c->out->node[i]; }

static int is_const(canon *c, int i, float v)
{
    return N(c, i)->op == ACT_EXPR_CONST && N(c, i)->c == v;
}

static int cst(canon *c, float v)
{
    return acti_expr_leaf(c->out, ACT_EXPR_CONST, 0, v);
}

static int mk(canon *c, act_expr_op op, int a, int b, int k, const float *p);

static int mk1(canon *c, act_expr_op op, int a, int k)
{
    return mk(c, op, a, -1, k, NULL);
}

static int mk2(canon *c, act_expr_op op, int a, int b)
{
    return mk(c, op, a, b, 0, NULL);
}

static int is_commutative(act_expr_op op)
{
    return op == ACT_EXPR_ADD || op == ACT_EXPR_MUL || op == ACT_EXPR_MAX || op == ACT_EXPR_MIN;
}

/* SUB(a, b) with a, b ordered, for the symmetric contexts (a-b)^2k and |a-b| */
static int ordered_sub(canon *c, int s)
{
    const acti_enode *n = N(c, s);
    if (n->op == ACT_EXPR_SUB && cmp(c->out, n->a, n->b) > 0)
        return mk2(c, ACT_EXPR_SUB, n->b, n->a);
    return s;
}

static int mk(canon *c, act_expr_op op, int a, int b, int k, const float *p)
{
    if (a < 0 && acti_expr_arity(op) >= 1)
        return a;
    if (b < 0 && acti_expr_arity(op) >= 2)
        return b;
    acti_enode nd = { .op = (int32_t)op, .a = a, .b = b, .k = k };
    if (p)
        memcpy(nd.p, p, sizeof nd.p);
    /* constant folding (double, then float; only finite results) */
    int ar = acti_expr_arity(op);
    if (ar >= 1 && N(c, a)->op == ACT_EXPR_CONST &&
        (ar < 2 || N(c, b)->op == ACT_EXPR_CONST)) {
        double v = acti_expr_eval1(&nd, (double)N(c, a)->c, ar >= 2 ? (double)N(c, b)->c : 0.0,
                                   (double)c->out->eps);
        float f = (float)v;
        if (isfinite(f))
            return cst(c, f);
    }
    if (is_commutative(op) && cmp(c->out, a, b) > 0) {
        int t = a;
        a = b;
        b = t;
        nd.a = a;
        nd.b = b;
    }
    const acti_enode *na = a >= 0 ? N(c, a) : NULL, *nb = b >= 0 ? N(c, b) : NULL;
    switch (op) {
    case ACT_EXPR_NEG:
        if (na->op == ACT_EXPR_NEG)
            return na->a;                                       /* -(-a) = a */
        if (na->op == ACT_EXPR_SUB)
            return mk2(c, ACT_EXPR_SUB, na->b, na->a);          /* -(a-b) = b-a */
        break;
    case ACT_EXPR_ADD:
        if (is_const(c, a, 0.0f))
            return b;
        if (nb->op == ACT_EXPR_NEG)
            return mk2(c, ACT_EXPR_SUB, a, nb->a);              /* a + -b = a - b */
        if (na->op == ACT_EXPR_NEG)
            return mk2(c, ACT_EXPR_SUB, b, na->a);
        if (na->op == ACT_EXPR_CONST && signbit(na->c))
            return mk2(c, ACT_EXPR_SUB, b, cst(c, -na->c));     /* -2 + a = a - 2 */
        if (na->op == ACT_EXPR_MAX && nb->op == ACT_EXPR_MIN && na->a == nb->a &&
            na->b == nb->b && is_const(c, na->a, 0.0f))
            return na->b;                                       /* max(a,0) + min(a,0) = a */
        break;
    case ACT_EXPR_SUB:
        if (a == b)
            return cst(c, 0.0f);                                /* a - a = 0 */
        if (is_const(c, b, 0.0f))
            return a;
        if (is_const(c, a, 0.0f))
            return mk1(c, ACT_EXPR_NEG, b, 0);
        if (nb->op == ACT_EXPR_NEG)
            return mk2(c, ACT_EXPR_ADD, a, nb->a);              /* a - -b = a + b */
        if (nb->op == ACT_EXPR_CONST && signbit(nb->c))
            return mk2(c, ACT_EXPR_ADD, a, cst(c, -nb->c));
        break;
    case ACT_EXPR_MUL:
        if (is_const(c, a, 1.0f))
            return b;
        if (is_const(c, a, -1.0f))
            return mk1(c, ACT_EXPR_NEG, b, 0);
        if (na->op == ACT_EXPR_NEG)
            return mk1(c, ACT_EXPR_NEG, mk2(c, ACT_EXPR_MUL, na->a, b), 0);
        if (nb->op == ACT_EXPR_NEG)
            return mk1(c, ACT_EXPR_NEG, mk2(c, ACT_EXPR_MUL, a, nb->a), 0);
        break;
    case ACT_EXPR_DIV:
        if (is_const(c, b, 1.0f))
            return a;
        if (na->op == ACT_EXPR_NEG)
            return mk1(c, ACT_EXPR_NEG, mk2(c, ACT_EXPR_DIV, na->a, b), 0);
        if (nb->op == ACT_EXPR_NEG)
            return mk1(c, ACT_EXPR_NEG, mk2(c, ACT_EXPR_DIV, a, nb->a), 0);
        break;
    case ACT_EXPR_POWI:
        if (k == 1)
            return a;
        if (k == 0)
            return cst(c, 1.0f);
        if (k % 2 == 0 && (na->op == ACT_EXPR_NEG || na->op == ACT_EXPR_ABS))
            return mk1(c, ACT_EXPR_POWI, na->a, k);             /* (-a)^2k = |a|^2k = a^2k */
        if (na->op == ACT_EXPR_NEG)
            return mk1(c, ACT_EXPR_NEG, mk1(c, ACT_EXPR_POWI, na->a, k), 0);
        if (k % 2 == 0 && na->op == ACT_EXPR_SUB) {
            int s = ordered_sub(c, a);
            if (s != a)
                return mk1(c, ACT_EXPR_POWI, s, k);
        }
        break;
    case ACT_EXPR_ABS:
        if (na->op == ACT_EXPR_NEG || na->op == ACT_EXPR_ABS)
            return mk1(c, ACT_EXPR_ABS, na->a, 0);
        if (na->op == ACT_EXPR_POWI && na->k % 2 == 0)
            return a;
        if (na->op == ACT_EXPR_SUB) {
            int s = ordered_sub(c, a);
            if (s != a)
                return mk1(c, ACT_EXPR_ABS, s, 0);
        }
        break;
    case ACT_EXPR_MAX: case ACT_EXPR_MIN:
        if (a == b)
            return a;
        break;
    case ACT_EXPR_INPUT: case ACT_EXPR_CONST: case ACT_EXPR_EPS: case ACT_EXPR_PARAM:
    case ACT_EXPR_HOLE: case ACT_EXPR_SQRT: case ACT_EXPR_EXP: case ACT_EXPR_LOG:
    case ACT_EXPR_SIN: case ACT_EXPR_COS: case ACT_EXPR_SINH: case ACT_EXPR_COSH:
    case ACT_EXPR_TANH: case ACT_EXPR_ASINH: case ACT_EXPR_ATAN: case ACT_EXPR_SINC:
    case ACT_EXPR_SIGMOID: case ACT_EXPR_SOFTPLUS: case ACT_EXPR_ERF: case ACT_EXPR_ACT:
    case ACT_EXPR_OP_COUNT:
        break;
    }
    return acti_expr_add(c->out, &nd);
}

/* parameters in order of first appearance, a before b (the printing order) */
static void param_order(const act_expr *e, int i, int *pmap, int *next, char *seen)
{
    if (seen[i])
        return;
    seen[i] = 1;
    const acti_enode *nd = &e->node[i];
    if (nd->op == ACT_EXPR_PARAM && pmap[nd->k] < 0)
        pmap[nd->k] = (*next)++;
    if (nd->a >= 0)
        param_order(e, nd->a, pmap, next, seen);
    if (nd->b >= 0)
        param_order(e, nd->b, pmap, next, seen);
}

int act_expr_canonical(const act_expr *e, act_expr **out)
{
    if (!e || !out || e->root < 0)
        return ACT_EINVAL;
    *out = NULL;
    canon c = { acti_expr_new() };
    int *map = malloc((size_t)e->n * sizeof *map);
    if (!c.out || !map) {
        act_expr_free(c.out);
        free(map);
        return ACT_ENOMEM;
    }
    c.out->eps = e->eps;
    int r = ACT_OK;
    for (int i = 0; i <= e->root; i++) {              /* topological order: children first */
        const acti_enode *nd = &e->node[i];
        act_expr_op op = (act_expr_op)nd->op;
        if (acti_expr_arity(op) == 0 && op != ACT_EXPR_ACT) {
            acti_enode leaf = *nd;
            r = map[i] = acti_expr_add(c.out, &leaf);
        } else {
            r = map[i] = mk(&c, op, map[nd->a], nd->b >= 0 ? map[nd->b] : -1, nd->k,
                            op == ACT_EXPR_ACT ? nd->p : NULL);
        }
        if (r < 0)
            break;
    }
    int root = r >= 0 ? map[e->root] : r;
    free(map);
    if (root < 0) {
        act_expr_free(c.out);
        return root;
    }
    /* renumber parameters by first appearance; initial values follow */
    int pmap[ACT_EXPR_MAX_PARAMS], next = 0;
    for (int k = 0; k < ACT_EXPR_MAX_PARAMS; k++)
        pmap[k] = -1;
    char *seen = calloc((size_t)c.out->n, 1);
    if (!seen) {
        act_expr_free(c.out);
        return ACT_ENOMEM;
    }
    param_order(c.out, root, pmap, &next, seen);
    free(seen);
    act_expr *f = acti_expr_new();
    if (!f) {
        act_expr_free(c.out);
        return ACT_ENOMEM;
    }
    f->eps = e->eps;
    for (int k = 0; k < ACT_EXPR_MAX_PARAMS; k++)
        if (pmap[k] >= 0)
            f->init[pmap[k]] = e->init[k];
    for (int k = 0; k < ACT_EXPR_MAX_PARAMS; k++)
        if (pmap[k] < 0)
            pmap[k] = k;                                  /* unused: keep */
    f->root = acti_expr_copy(f, c.out, root, NULL, pmap);
    act_expr_free(c.out);
    if (f->root < 0) {
        int rc = f->root;
        act_expr_free(f);
        return rc;
    }
    *out = f;
    return ACT_OK;
}
