/* compile.c -- expression tree -> flat program (one instruction per distinct reachable node, in
 * topological order), and the act_fn descriptor that runs it. Evaluation is in eval.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_int.h"

int act_expr_compile(const act_expr *e, act_expr_prog **out)
{
    if (!e || !out || e->root < 0)
        return ACT_EINVAL;
    *out = NULL;
    int *map = malloc((size_t)e->n * sizeof *map);
    if (!map)
        return ACT_ENOMEM;
    for (int i = 0; i < e->n; i++)
        map[i] = -1;
    map[e->root] = -2;
    int n = 0;
    for (int i = e->root; i >= 0; i--) {
        if (map[i] != -2)
            continue;
        n++;
        if (e->node[i].op == ACT_EXPR_HOLE) {
            free(map);
            return ACT_EINVAL;
        }
        if (e->node[i].a >= 0)
            map[e->node[i].a] = -2;
        if (e->node[i].b >= 0)
            map[e->node[i].b] = -2;
    }
    if (n > ACT_EXPR_MAX_INSTR) {
        free(map);
        return ACT_ELIMIT;
    }
    act_expr_prog *p = calloc(1, sizeof *p);
    if (!p || !(p->ins = calloc((size_t)n, sizeof *p->ins))) {
        free(p);
        free(map);
        return ACT_ENOMEM;
    }
    p->input = -1;
    for (int i = 0; i <= e->root; i++) {
        if (map[i] != -2)
            continue;
        const acti_enode *nd = &e->node[i];
        acti_instr *in = &p->ins[p->n];
        in->op = nd->op;
        in->a = nd->a >= 0 ? map[nd->a] : -1;
        in->b = nd->b >= 0 ? map[nd->b] : -1;
        in->k = nd->k;
        in->c = nd->c;
        memcpy(in->p, nd->p, sizeof in->p);
        in->need_grad = nd->op == ACT_EXPR_INPUT || nd->op == ACT_EXPR_PARAM ||
                        (in->a >= 0 && p->ins[in->a].need_grad) ||
                        (in->b >= 0 && p->ins[in->b].need_grad);
        if (nd->op == ACT_EXPR_INPUT)
            p->input = p->n;
        if (nd->op == ACT_EXPR_PARAM && nd->k + 1 > p->n_params)
            p->n_params = nd->k + 1;
        map[i] = p->n++;
    }
    free(map);
    p->eps = e->eps;
    memcpy(p->init, e->init, sizeof p->init);
    for (int k = 0; k < ACT_EXPR_MAX_PARAMS; k++) {
        if (p->n_params == 1)
            snprintf(p->pname[k], sizeof p->pname[k], "beta");
        else
            snprintf(p->pname[k], sizeof p->pname[k], "beta%d", k + 1);
    }
    int rc = act_expr_print(e, ACT_EXPR_TEXT, &p->text);
    if (rc != ACT_OK) {
        act_expr_prog_free(p);
        return rc;
    }
    *out = p;
    return ACT_OK;
}

void act_expr_prog_free(act_expr_prog *p)
{
    if (!p)
        return;
    free(p->ins);
    free(p->text);
    free(p);
}

int act_expr_prog_n_params(const act_expr_prog *p)
{
    return p ? p->n_params : 0;
}

int act_expr_prog_n_instr(const act_expr_prog *p)
{
    return p ? p->n : 0;
}

const char *act_expr_prog_text(const act_expr_prog *p)
{
    return p ? p->text : NULL;
}

// ----------------------------------------------------------------------------
// act_fn

static int fn_forward(const act_fn *f, const float *p, unsigned flags, const float *x, float *y,
                      act_shape s)
{
    return act_expr_forward((const act_expr_prog *)f->ctx, p, flags, x, y, s);
}

static int fn_backward(const act_fn *f, const float *p, unsigned flags, const float *x,
                       const float *dy, float *dx, float *dp, act_shape s)
{
    return act_expr_backward((const act_expr_prog *)f->ctx, p, flags, x, dy, dx, dp, s);
}

int act_expr_fn(const act_expr_prog *prog, act_fn *out)
{
    if (!prog || !out)
        return ACT_EINVAL;
    memset(out, 0, sizeof *out);
    out->name = prog->text;
    out->n_params = prog->n_params;
    out->learnable = (1u << prog->n_params) - 1u;
    for (int i = 0; i < prog->n; i++) {
        act_expr_op op = (act_expr_op)prog->ins[i].op;
        if (op == ACT_EXPR_ABS || op == ACT_EXPR_MAX || op == ACT_EXPR_MIN)
            out->flags |= ACT_ACT_KINK;
        if (op == ACT_EXPR_ACT)
            out->flags |= act_act_info((act_act_id)prog->ins[i].k)->flags & ACT_ACT_KINK;
    }
    if (prog->n_params > 0)
        out->flags |= ACT_ACT_CHANNEL;
    for (int k = 0; k < prog->n_params; k++) {
        out->param_names[k] = prog->pname[k];
        out->defaults[k] = prog->init[k];
    }
    out->forward = fn_forward;
    out->backward = fn_backward;
    out->ctx = (void *)(size_t)0;
    memcpy(&out->ctx, &prog, sizeof prog);          /* ctx is void *: keep the pointer as is */
    return ACT_OK;
}
