/* compile.c -- expression tree -> flat program (one instruction per distinct reachable node, in
 * topological order; then common patterns fused into one instruction, ACTI_FUSED_LIST, and the
 * gradient-buffer flags of backward), and the act_fn descriptor that runs it. Evaluation is in
 * eval.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_int.h"

// ----------------------------------------------------------------------------
// fusion and gradient flags

_Static_assert((int)ACTI_OP_ACT == (int)ACT_EXPR_ACT && (int)ACTI_OP_MULF == ACT_EXPR_OP_COUNT,
               "acti_iop must extend act_expr_op");
_Static_assert(ACTI_G_ALIAS_A == 8 * ACTI_G_FIRST_A && ACTI_G_ALIAS_B == 8 * ACTI_G_FIRST_B &&
               ACTI_G_ALIAS_C == 8 * ACTI_G_FIRST_C, "alias bits are the first bits * 8");

static int is_gate(const acti_instr *in)
{
    return in->op == ACTI_OP_SIGMOID || in->op == ACTI_OP_TANH;
}

/* Operand slots of in in the order backward writes their gradients: operand index and its
 * ACTI_G_FIRST_* bit. MULF with c3 == a and MAXF/MINF with b == a write a's gradient once (one
 * combined loop). */
static int grad_slots(const acti_instr *in, int32_t op[3], int32_t bit[3])
{
    int n = 0;
    if (in->a >= 0)
        op[n] = in->a, bit[n++] = ACTI_G_FIRST_A;
    if (in->b >= 0 && !((in->op == ACTI_OP_MAXF || in->op == ACTI_OP_MINF) && in->b == in->a))
        op[n] = in->b, bit[n++] = ACTI_G_FIRST_B;
    if (in->c3 >= 0 && !(in->op == ACTI_OP_MULF && in->c3 == in->a))
        op[n] = in->c3, bit[n++] = ACTI_G_FIRST_C;
    return n;
}

/* 1 if the gradient in passes to the operand in slot bit is its own gradient unchanged */
static int passes_through(const acti_instr *in, int32_t bit)
{
    switch ((acti_iop)in->op) {
    case ACTI_OP_ADD:  return 1;
    case ACTI_OP_SUB:  return bit == ACTI_G_FIRST_A;
    case ACTI_OP_POWI: return in->k == 1;
    case ACTI_OP_FMA:  return bit == ACTI_G_FIRST_C;
    case ACTI_OP_INPUT: case ACTI_OP_CONST: case ACTI_OP_EPS: case ACTI_OP_PARAM:
    case ACTI_OP_HOLE: case ACTI_OP_NEG: case ACTI_OP_MUL: case ACTI_OP_DIV: case ACTI_OP_ABS:
    case ACTI_OP_SQRT: case ACTI_OP_EXP: case ACTI_OP_LOG: case ACTI_OP_SIN: case ACTI_OP_COS:
    case ACTI_OP_SINH: case ACTI_OP_COSH: case ACTI_OP_TANH: case ACTI_OP_ASINH:
    case ACTI_OP_ATAN: case ACTI_OP_SINC: case ACTI_OP_SIGMOID: case ACTI_OP_SOFTPLUS:
    case ACTI_OP_ERF: case ACTI_OP_MAX: case ACTI_OP_MIN: case ACTI_OP_ACT: case ACTI_OP_MULF:
    case ACTI_OP_MAXF: case ACTI_OP_MINF: case ACTI_OP_COUNT:
        break;
    }
    return 0;
}

#define R_OWN 0x1
#define R_A   0x2
#define R_B   0x4
#define R_C   0x8

/* The forward values the backward of in reads (R_*): its own and its operands'. The gated ops
 * read their gate from aux, computed by their forward or, when they are not live, recomputed
 * by their backward from b and c3. */
static int bwd_reads(const acti_instr *in)
{
    switch ((acti_iop)in->op) {
    case ACTI_OP_INPUT: case ACTI_OP_CONST: case ACTI_OP_EPS: case ACTI_OP_PARAM:
    case ACTI_OP_HOLE: case ACTI_OP_NEG: case ACTI_OP_ADD: case ACTI_OP_SUB: case ACTI_OP_COUNT:
        return 0;
    case ACTI_OP_MUL: case ACTI_OP_MAX: case ACTI_OP_MIN: case ACTI_OP_FMA:
    case ACTI_OP_MAXF: case ACTI_OP_MINF:
        return R_A | R_B;
    case ACTI_OP_DIV:
        return R_OWN | R_B;
    case ACTI_OP_POWI:
        return in->k == 0 || in->k == 1 ? 0 : R_A;
    case ACTI_OP_SQRT: case ACTI_OP_EXP:
        return R_OWN;
    case ACTI_OP_ABS: case ACTI_OP_LOG: case ACTI_OP_SIN: case ACTI_OP_COS: case ACTI_OP_SINH:
    case ACTI_OP_COSH: case ACTI_OP_ASINH: case ACTI_OP_ATAN: case ACTI_OP_SINC:
    case ACTI_OP_SOFTPLUS: case ACTI_OP_ERF: case ACTI_OP_ACT:
    case ACTI_OP_TANH: case ACTI_OP_SIGMOID:    /* their slopes come from exp(-|a|) */
        return R_A;
    case ACTI_OP_MULF:
        return R_A | R_B | R_C;
    }
    return R_OWN | R_A | R_B | R_C;
}

/* live (acti_instr): walking down, an instruction whose backward runs marks what it reads, and
 * a live computed instruction marks its operands (its forward needs them). */
static void mark_live(act_expr_prog *p)
{
    for (int i = 0; i < p->n; i++)
        p->ins[i].live = 0;
    for (int i = p->n - 1; i >= 0; i--) {
        acti_instr *in = &p->ins[i];
        int r = in->need_grad ? bwd_reads(in) : 0;
        if (r & R_OWN)
            in->live = 1;
        int leaf = in->op == ACTI_OP_INPUT || in->op == ACTI_OP_CONST || in->op == ACTI_OP_EPS ||
                   in->op == ACTI_OP_PARAM || in->op == ACTI_OP_HOLE;
        if (in->live && !leaf)
            r |= R_A | R_B | R_C;
        if ((r & R_A) && in->a >= 0)
            p->ins[in->a].live = 1;
        if ((r & R_B) && in->b >= 0)
            p->ins[in->b].live = 1;
        if ((r & R_C) && in->c3 >= 0)
            p->ins[in->c3].live = 1;
    }
}

/* 1 if in is a MULF the float evaluator may run as the built-in swish kernel: u sigmoid(b u)
 * with b a leaf whose block buffer is a constant fill (CONST, EPS; PARAM where the block lies in
 * one channel, decided per block by the evaluator). */
static int lowers_to_swish(const act_expr_prog *p, const acti_instr *in)
{
    if (in->op != ACTI_OP_MULF || in->k != ACT_EXPR_SIGMOID || in->c3 < 0 || in->c3 != in->a ||
        in->b == in->a)
        return 0;
    int32_t op = p->ins[in->b].op;
    return op == ACTI_OP_CONST || op == ACTI_OP_EPS || op == ACTI_OP_PARAM;
}

/* need_grad, input, and gflags: for each operand gradient buffer, the first writer in backward
 * order assigns; a sole writer passing its gradient through makes the buffer an alias (not for
 * leaves: the drivers read INPUT and PARAM gradients from their own buffers). */
static int finish(act_expr_prog *p)
{
    int32_t *writes = calloc((size_t)p->n, sizeof *writes);
    if (!writes)
        return ACT_ENOMEM;
    p->input = -1;
    for (int i = 0; i < p->n; i++) {
        acti_instr *in = &p->ins[i];
        in->need_grad = in->op == ACTI_OP_INPUT || in->op == ACTI_OP_PARAM ||
                        (in->a >= 0 && p->ins[in->a].need_grad) ||
                        (in->b >= 0 && p->ins[in->b].need_grad) ||
                        (in->c3 >= 0 && p->ins[in->c3].need_grad);
        if (in->op == ACTI_OP_INPUT)
            p->input = i;
        in->gflags = 0;
        in->swish = lowers_to_swish(p, in);
        int32_t op[3], bit[3];
        int ns = in->need_grad ? grad_slots(in, op, bit) : 0;
        for (int k = 0; k < ns; k++)
            writes[op[k]] += p->ins[op[k]].need_grad != 0;
    }
    for (int i = p->n - 1; i >= 0; i--) {
        acti_instr *in = &p->ins[i];
        int32_t op[3], bit[3];
        int ns = in->need_grad ? grad_slots(in, op, bit) : 0;
        for (int k = 0; k < ns; k++) {
            const acti_instr *o = &p->ins[op[k]];
            if (!o->need_grad || writes[op[k]] < 0)
                continue;
            in->gflags |= bit[k];
            if (writes[op[k]] == 1 && o->a >= 0 && passes_through(in, bit[k]))
                in->gflags |= bit[k] * 8;                  /* ACTI_G_ALIAS_x */
            writes[op[k]] = -1;                             /* seen */
        }
    }
    free(writes);
    mark_live(p);
    return ACT_OK;
}

/* Rewrites the instructions into fused ones where an intermediate has a single use, then drops
 * the absorbed instructions. */
static int fuse(act_expr_prog *p)
{
    int n = p->n;
    int32_t *uses = calloc((size_t)n, sizeof *uses), *map = calloc((size_t)n, sizeof *map);
    if (!uses || !map) {
        free(uses);
        free(map);
        return ACT_ENOMEM;
    }
    acti_instr *ins = p->ins;
    uses[n - 1]++;
    for (int i = 0; i < n; i++) {
        if (ins[i].a >= 0)
            uses[ins[i].a]++;
        if (ins[i].b >= 0)
            uses[ins[i].b]++;
    }
    for (int i = 0; i < n; i++) {               /* map[j] = -1: j absorbed */
        acti_instr *in = &ins[i];
        if (in->op == ACTI_OP_MUL) {
            int f = -1, other = -1;
            if (is_gate(&ins[in->b]) && uses[in->b] == 1)
                f = in->b, other = in->a;
            else if (is_gate(&ins[in->a]) && uses[in->a] == 1)
                f = in->a, other = in->b;
            if (f >= 0) {                       /* other * F(z) */
                int z = ins[f].a, zb = z, zc = -1;
                if (ins[z].op == ACTI_OP_MUL && uses[z] == 1) {
                    zb = ins[z].a;              /* z = zb * zc, zc == other if possible */
                    zc = ins[z].b;
                    if (zb == other) {
                        zb = zc;
                        zc = other;
                    }
                    map[z] = -1;
                }
                map[f] = -1;
                in->op = ACTI_OP_MULF;
                in->k = ins[f].op;
                in->a = other;
                in->b = zb;
                in->c3 = zc;
                in->aux = p->n_aux++;
                continue;
            }
        }
        if (in->op == ACTI_OP_MAX || in->op == ACTI_OP_MIN) {
            int f = -1, other = -1, order = 0;
            if (is_gate(&ins[in->b]) && uses[in->b] == 1)
                f = in->b, other = in->a;
            else if (is_gate(&ins[in->a]) && uses[in->a] == 1)
                f = in->a, other = in->b, order = 1;
            if (f >= 0) {                       /* max(other, F(z)) or max(F(z), other) */
                map[f] = -1;
                in->op = in->op == ACTI_OP_MAX ? ACTI_OP_MAXF : ACTI_OP_MINF;
                in->k = ins[f].op;
                in->a = other;
                in->b = ins[f].a;
                in->c3 = -1;
                in->order = order;
                in->aux = p->n_aux++;
                continue;
            }
        }
        if (in->op == ACTI_OP_ADD) {
            int mu = -1, other = -1;
            if (ins[in->a].op == ACTI_OP_MUL && uses[in->a] == 1)
                mu = in->a, other = in->b;
            else if (ins[in->b].op == ACTI_OP_MUL && uses[in->b] == 1)
                mu = in->b, other = in->a;
            if (mu >= 0) {                      /* a*b + c */
                in->op = ACTI_OP_FMA;
                in->a = ins[mu].a;
                in->b = ins[mu].b;
                in->c3 = other;
                map[mu] = -1;
            }
        }
    }
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (map[i] < 0)
            continue;
        acti_instr in = ins[i];
        in.a = in.a >= 0 ? map[in.a] : -1;
        in.b = in.b >= 0 ? map[in.b] : -1;
        in.c3 = in.c3 >= 0 ? map[in.c3] : -1;
        ins[m] = in;
        map[i] = m++;
    }
    p->n = m;
    free(uses);
    free(map);
    return ACT_OK;
}

int act_expr_compile(const act_expr *e, act_expr_prog **out)
{
    return acti_expr_compile(e, 1, out);
}

int acti_expr_compile(const act_expr *e, int fuse_ops, act_expr_prog **out)
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
        in->c3 = -1;
        in->k = nd->k;
        in->c = nd->c;
        memcpy(in->p, nd->p, sizeof in->p);
        in->aux = -1;
        if (nd->op == ACT_EXPR_PARAM && nd->k + 1 > p->n_params)
            p->n_params = nd->k + 1;
        map[i] = p->n++;
    }
    free(map);
    int rc = fuse_ops ? fuse(p) : ACT_OK;
    if (rc == ACT_OK)
        rc = finish(p);
    if (rc != ACT_OK) {
        act_expr_prog_free(p);
        return rc;
    }
    p->eps = e->eps;
    memcpy(p->init, e->init, sizeof p->init);
    for (int k = 0; k < ACT_EXPR_MAX_PARAMS; k++) {
        if (p->n_params == 1)
            snprintf(p->pname[k], sizeof p->pname[k], "beta");
        else
            snprintf(p->pname[k], sizeof p->pname[k], "beta%d", k + 1);
    }
    rc = act_expr_print(e, ACT_EXPR_TEXT, &p->text);
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
        acti_iop op = (acti_iop)prog->ins[i].op;
        if (op == ACTI_OP_ABS || op == ACTI_OP_MAX || op == ACTI_OP_MIN || op == ACTI_OP_MAXF ||
            op == ACTI_OP_MINF)
            out->flags |= ACT_ACT_KINK;
        if (op == ACTI_OP_ACT)
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
    out->ctx = prog;
    return ACT_OK;
}
