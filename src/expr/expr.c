/* expr.c -- the expression tree: a hash-consed node arena (equal subtrees are one node), the
 * builder used by the parser, canonicaliser and search space, and small accessors (including
 * the tree API for src/search, expr_int.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_int.h"

static const struct {
    const char *name;
    int         arity;
} op_info[] = {
#define X(ID, name, arity, call) [ACT_EXPR_##ID] = { name, arity },
    ACT_EXPR_OP_LIST(X)
#undef X
};

_Static_assert(sizeof op_info / sizeof op_info[0] == ACT_EXPR_OP_COUNT, "op table out of sync");

const char *act_expr_op_name(act_expr_op op)
{
    if ((unsigned)op >= ACT_EXPR_OP_COUNT)
        return NULL;
    return op_info[op].name;
}

int acti_expr_arity(act_expr_op op)
{
    return (unsigned)op < ACT_EXPR_OP_COUNT ? op_info[op].arity : 0;
}

// ----------------------------------------------------------------------------
// arena

act_expr *acti_expr_new(void)
{
    act_expr *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->root = -1;
    e->eps = ACT_EXPR_EPS_DEFAULT;
    for (int k = 0; k < ACT_EXPR_MAX_PARAMS; k++)
        e->init[k] = 1.0f;
    return e;
}

void act_expr_free(act_expr *e)
{
    if (!e)
        return;
    free(e->node);
    free(e->ht);
    free(e);
}

static uint64_t node_hash(const acti_enode *nd)
{
    uint64_t h = 1469598103934665603ULL;            /* FNV-1a over the identifying fields */
    uint32_t w[5 + ACT_ACT_MAX_PARAMS];
    w[0] = (uint32_t)nd->op;
    w[1] = (uint32_t)nd->a;
    w[2] = (uint32_t)nd->b;
    w[3] = (uint32_t)nd->k;
    memcpy(&w[4], &nd->c, 4);
    memcpy(&w[5], nd->p, sizeof nd->p);
    const unsigned char *s = (const unsigned char *)w;
    for (size_t i = 0; i < sizeof w; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int node_same(const acti_enode *x, const acti_enode *y)
{
    return x->op == y->op && x->a == y->a && x->b == y->b && x->k == y->k &&
           memcmp(&x->c, &y->c, sizeof x->c) == 0 && memcmp(x->p, y->p, sizeof x->p) == 0;
}

static int ht_grow(act_expr *e)
{
    int cap = e->ht_cap ? 2 * e->ht_cap : 64;
    int32_t *ht = malloc((size_t)cap * sizeof *ht);
    if (!ht)
        return ACT_ENOMEM;
    for (int i = 0; i < cap; i++)
        ht[i] = -1;
    for (int i = 0; i < e->n; i++) {
        size_t j = (size_t)node_hash(&e->node[i]) & (size_t)(cap - 1);
        while (ht[j] >= 0)
            j = (j + 1) & (size_t)(cap - 1);
        ht[j] = i;
    }
    free(e->ht);
    e->ht = ht;
    e->ht_cap = cap;
    return ACT_OK;
}

int acti_expr_add(act_expr *e, const acti_enode *nd0)
{
    acti_enode nd = *nd0;
    int ar = acti_expr_arity((act_expr_op)nd.op);
    int da = ar >= 1 && nd.a >= 0 ? e->node[nd.a].depth : 0;
    int db = ar >= 2 && nd.b >= 0 ? e->node[nd.b].depth : 0;
    if (ar < 1)
        nd.a = -1;
    if (ar < 2)
        nd.b = -1;
    nd.depth = 1 + (da > db ? da : db);
    if (nd.depth > ACT_EXPR_MAX_DEPTH)
        return ACT_ELIMIT;
    if (2 * (e->n + 1) > e->ht_cap && ht_grow(e) != ACT_OK)
        return ACT_ENOMEM;
    size_t j = (size_t)node_hash(&nd) & (size_t)(e->ht_cap - 1);
    while (e->ht[j] >= 0) {
        if (node_same(&e->node[e->ht[j]], &nd))
            return e->ht[j];
        j = (j + 1) & (size_t)(e->ht_cap - 1);
    }
    if (e->n >= ACT_EXPR_MAX_NODES)
        return ACT_ELIMIT;
    if (e->n == e->cap) {
        int cap = e->cap ? 2 * e->cap : 32;
        acti_enode *p = realloc(e->node, (size_t)cap * sizeof *p);
        if (!p)
            return ACT_ENOMEM;
        e->node = p;
        e->cap = cap;
    }
    e->node[e->n] = nd;
    e->ht[j] = e->n;
    return e->n++;
}

int acti_expr_leaf(act_expr *e, act_expr_op op, int k, float c)
{
    acti_enode nd = { .op = (int32_t)op, .a = -1, .b = -1, .k = k, .c = c };
    return acti_expr_add(e, &nd);
}

int acti_expr_un(act_expr *e, act_expr_op op, int a, int k)
{
    if (a < 0)
        return a;
    acti_enode nd = { .op = (int32_t)op, .a = a, .b = -1, .k = k };
    return acti_expr_add(e, &nd);
}

int acti_expr_bin(act_expr *e, act_expr_op op, int a, int b)
{
    if (a < 0)
        return a;
    if (b < 0)
        return b;
    acti_enode nd = { .op = (int32_t)op, .a = a, .b = b };
    return acti_expr_add(e, &nd);
}

int acti_expr_copy(act_expr *dst, const act_expr *src, int i, const int *hole, const int *pmap)
{
    /* iterative over the topologically sorted arena: shared subtrees are copied once */
    int *map = malloc((size_t)(i + 1) * sizeof *map);
    if (!map)
        return ACT_ENOMEM;
    for (int j = 0; j <= i; j++)
        map[j] = -1;
    map[i] = -2;                                    /* -2: reachable, not yet copied */
    for (int j = i; j >= 0; j--) {
        if (map[j] != -2)
            continue;
        const acti_enode *s = &src->node[j];
        if (s->op == ACT_EXPR_HOLE && hole)
            continue;
        if (s->a >= 0)
            map[s->a] = -2;
        if (s->b >= 0)
            map[s->b] = -2;
    }
    int r = ACT_OK;
    for (int j = 0; j <= i; j++) {
        if (map[j] != -2)
            continue;
        const acti_enode *s = &src->node[j];
        acti_enode nd = *s;
        if (s->op == ACT_EXPR_HOLE && hole) {
            map[j] = hole[s->k];
            continue;
        }
        if (s->op == ACT_EXPR_PARAM && pmap)
            nd.k = pmap[s->k];
        if (s->a >= 0)
            nd.a = map[s->a];
        if (s->b >= 0)
            nd.b = map[s->b];
        if ((r = acti_expr_add(dst, &nd)) < 0)
            break;
        map[j] = r;
    }
    if (r >= 0)
        r = map[i];
    free(map);
    return r;
}

act_expr *act_expr_clone(const act_expr *e)
{
    if (!e)
        return NULL;
    act_expr *c = acti_expr_new();
    if (!c)
        return NULL;
    c->eps = e->eps;
    memcpy(c->init, e->init, sizeof c->init);
    if (e->root >= 0 && (c->root = acti_expr_copy(c, e, e->root, NULL, NULL)) < 0) {
        act_expr_free(c);
        return NULL;
    }
    return c;
}

// ----------------------------------------------------------------------------
// accessors

int act_expr_n_params(const act_expr *e)
{
    int n = 0;
    if (!e || e->root < 0)
        return 0;
    /* only nodes reachable from the root count: the arena may hold dead nodes */
    char *seen = calloc((size_t)e->n, 1);
    if (!seen)
        return 0;
    seen[e->root] = 1;
    for (int i = e->root; i >= 0; i--) {
        if (!seen[i])
            continue;
        const acti_enode *nd = &e->node[i];
        if (nd->op == ACT_EXPR_PARAM && nd->k + 1 > n)
            n = nd->k + 1;
        if (nd->a >= 0)
            seen[nd->a] = 1;
        if (nd->b >= 0)
            seen[nd->b] = 1;
    }
    free(seen);
    return n;
}

int act_expr_n_nodes(const act_expr *e)
{
    return e ? e->n : 0;
}

const acti_enode *acti_expr_node(const act_expr *e, int i)
{
    return &e->node[i];
}

int acti_expr_root(const act_expr *e)
{
    return e ? e->root : -1;
}

int acti_expr_set_root(act_expr *e, int i)
{
    if (!e || i < 0 || i >= e->n)
        return ACT_EINVAL;
    e->root = i;
    return ACT_OK;
}

int act_expr_depth(const act_expr *e)
{
    return e && e->root >= 0 ? e->node[e->root].depth : 0;
}

float act_expr_eps(const act_expr *e)
{
    return e ? e->eps : ACT_EXPR_EPS_DEFAULT;
}

int act_expr_set_eps(act_expr *e, float eps)
{
    if (!e || !isfinite(eps) || eps < 0.0f)
        return ACT_EINVAL;
    e->eps = eps;
    return ACT_OK;
}

float act_expr_param_init(const act_expr *e, int k)
{
    if (!e || k < 0 || k >= ACT_EXPR_MAX_PARAMS)
        return 0.0f;
    return e->init[k];
}

int act_expr_set_param_init(act_expr *e, int k, float v)
{
    if (!e || k < 0 || k >= ACT_EXPR_MAX_PARAMS || !isfinite(v))
        return ACT_EINVAL;
    e->init[k] = v;
    return ACT_OK;
}

int act_expr_equal(const act_expr *a, const act_expr *b)
{
    if (!a || !b || a->root < 0 || b->root < 0)
        return 0;
    /* copy a into a clone of b: hash-consing maps equal trees to the same node */
    act_expr *t = act_expr_clone(b);
    if (!t)
        return 0;
    int r = acti_expr_copy(t, a, a->root, NULL, NULL);
    int eq = r == t->root;
    act_expr_free(t);
    return eq;
}
