/* search_rules.c -- the search tests' statement of the space's rules (search_rules.h). */
#include "actlab/expr.h"
#include "search_rules.h"

int test_search_valid(const act_space_preset *ps, int max_units, const act_space_cand *c)
{
    if (c->n_units < 1 || c->n_units > max_units)
        return 0;
    for (int u = 0; u < ACT_SPACE_MAX_UNITS; u++) {
        const act_space_unit *q = &c->unit[u];
        if (u >= c->n_units) {
            if (q->binary || q->in1 || q->in2 || q->un1 || q->un2)
                return 0;
            continue;
        }
        int last = u == c->n_units - 1;
        if (!(ps->binary_mask & (1u << q->binary)) || !(ps->unary_mask & (1u << q->un2)) ||
            q->in1 > u || q->in2 > u)
            return 0;
        if (ps->bxg && last && (q->in1 != 0 || q->un1 != ACT_SPACE_U_X))
            return 0;
        if (!(ps->bxg && last) && !(ps->unary_mask & (1u << q->un1)))
            return 0;
    }
    act_expr *e = NULL;
    int rc = act_space_to_expr(c, &e);
    act_expr_free(e);
    return rc == ACT_OK;
}
