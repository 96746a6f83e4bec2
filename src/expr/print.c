/* print.c -- printers: canonical infix text (round-trips through act_expr_parse), LaTeX, a
 * standalone C function and a PyTorch nn.Module. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/act_src.h"
#include "expr/expr_int.h"

// ----------------------------------------------------------------------------
// growable string

typedef struct sbuf {
    char  *s;
    size_t n, cap;
    int    oom;
} sbuf;

__attribute__((format(printf, 2, 3)))
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap : 256;
        while (cap <= b->n + (size_t)k)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_printf(b, "%s", s);
}

/* Shortest decimal that reads back as the same float; always valid in the expression language,
 * C and Python (a '.' or exponent is added where needed when c_style is set). */
static void fmt_float(float v, char *buf, size_t size, int c_style)
{
    if (v == floorf(v) && fabsf(v) < 1e9f) {
        snprintf(buf, size, "%.0f", (double)v);          /* 1000, not 1e+03 */
        if (c_style)
            strncat(buf, ".0", size - strlen(buf) - 1);
        return;
    }
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, size, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v)
            break;
    }
    if (c_style && !strpbrk(buf, ".e"))
        strncat(buf, ".0", size - strlen(buf) - 1);
}

// ----------------------------------------------------------------------------
// canonical text

enum { PREC_ADD = 1, PREC_MUL = 2, PREC_NEG = 3, PREC_POW = 4, PREC_ATOM = 5 };

static int prec(const acti_enode *nd)
{
    switch ((act_expr_op)nd->op) {
    case ACT_EXPR_ADD: case ACT_EXPR_SUB:
        return PREC_ADD;
    case ACT_EXPR_MUL: case ACT_EXPR_DIV:
        return PREC_MUL;
    case ACT_EXPR_NEG:
        return PREC_NEG;
    case ACT_EXPR_CONST:
        return signbit(nd->c) ? PREC_NEG : PREC_ATOM;
    case ACT_EXPR_POWI:
        return PREC_POW;
    case ACT_EXPR_INPUT: case ACT_EXPR_EPS: case ACT_EXPR_PARAM: case ACT_EXPR_HOLE:
    case ACT_EXPR_ABS: case ACT_EXPR_SQRT: case ACT_EXPR_EXP: case ACT_EXPR_LOG:
    case ACT_EXPR_SIN: case ACT_EXPR_COS: case ACT_EXPR_SINH: case ACT_EXPR_COSH:
    case ACT_EXPR_TANH: case ACT_EXPR_ASINH: case ACT_EXPR_ATAN: case ACT_EXPR_SINC:
    case ACT_EXPR_SIGMOID: case ACT_EXPR_SOFTPLUS: case ACT_EXPR_ERF: case ACT_EXPR_MAX:
    case ACT_EXPR_MIN: case ACT_EXPR_ACT: case ACT_EXPR_OP_COUNT:
        break;
    }
    return PREC_ATOM;
}

typedef struct printer {
    const act_expr *e;
    sbuf            b;
    int             one_param;      /* print beta rather than beta1 */
    int             latex;
} printer;

static void print_node(printer *pr, int i);

static void print_operand(printer *pr, int i, int min, int right)
{
    int p = prec(&pr->e->node[i]);
    int paren = p < min || (right && p == PREC_NEG);
    if (paren)
        sb_puts(&pr->b, pr->latex ? "\\left(" : "(");
    print_node(pr, i);
    if (paren)
        sb_puts(&pr->b, pr->latex ? "\\right)" : ")");
}

static const char *latex_fn(act_expr_op op)
{
    switch (op) {
    case ACT_EXPR_EXP:      return "\\exp";
    case ACT_EXPR_LOG:      return "\\log";
    case ACT_EXPR_SIN:      return "\\sin";
    case ACT_EXPR_COS:      return "\\cos";
    case ACT_EXPR_SINH:     return "\\sinh";
    case ACT_EXPR_COSH:     return "\\cosh";
    case ACT_EXPR_TANH:     return "\\tanh";
    case ACT_EXPR_ASINH:    return "\\operatorname{asinh}";
    case ACT_EXPR_ATAN:     return "\\arctan";
    case ACT_EXPR_SINC:     return "\\operatorname{sinc}";
    case ACT_EXPR_SIGMOID:  return "\\sigma";
    case ACT_EXPR_SOFTPLUS: return "\\operatorname{softplus}";
    case ACT_EXPR_ERF:      return "\\operatorname{erf}";
    case ACT_EXPR_MAX:      return "\\max";
    case ACT_EXPR_MIN:      return "\\min";
    case ACT_EXPR_INPUT: case ACT_EXPR_CONST: case ACT_EXPR_EPS: case ACT_EXPR_PARAM:
    case ACT_EXPR_HOLE: case ACT_EXPR_NEG: case ACT_EXPR_ADD: case ACT_EXPR_SUB:
    case ACT_EXPR_MUL: case ACT_EXPR_DIV: case ACT_EXPR_POWI: case ACT_EXPR_ABS:
    case ACT_EXPR_SQRT: case ACT_EXPR_ACT: case ACT_EXPR_OP_COUNT:
        break;
    }
    return "?";
}

static void print_node(printer *pr, int i)
{
    const acti_enode *nd = &pr->e->node[i];
    act_expr_op op = (act_expr_op)nd->op;
    sbuf *b = &pr->b;
    char num[48];
    int L = pr->latex;
    switch (op) {
    case ACT_EXPR_INPUT: sb_puts(b, "x"); return;
    case ACT_EXPR_EPS:   sb_puts(b, L ? "\\epsilon" : "eps"); return;
    case ACT_EXPR_HOLE:  sb_printf(b, L ? "x_{%d}" : "x%d", nd->k + 1); return;
    case ACT_EXPR_PARAM:
        if (pr->one_param)
            sb_puts(b, L ? "\\beta" : "beta");
        else
            sb_printf(b, L ? "\\beta_{%d}" : "beta%d", nd->k + 1);
        return;
    case ACT_EXPR_CONST:
        fmt_float(nd->c, num, sizeof num, 0);
        if (L && strchr(num, 'e')) {
            double m;
            int ex;
            if (sscanf(num, "%lge%d", &m, &ex) == 2)
                snprintf(num, sizeof num, "%g \\cdot 10^{%d}", m, ex);
        }
        sb_puts(b, num);
        return;
    case ACT_EXPR_NEG:
        sb_puts(b, "-");
        if (pr->e->node[nd->a].op == ACT_EXPR_CONST) {  /* -(2), not the constant -2 */
            sb_puts(b, L ? "\\left(" : "(");
            print_node(pr, nd->a);
            sb_puts(b, L ? "\\right)" : ")");
            return;
        }
        print_operand(pr, nd->a, PREC_POW, 0);
        return;
    case ACT_EXPR_ADD: case ACT_EXPR_SUB:
        print_operand(pr, nd->a, PREC_ADD, 0);
        sb_puts(b, op == ACT_EXPR_ADD ? " + " : " - ");
        print_operand(pr, nd->b, PREC_MUL, 1);
        return;
    case ACT_EXPR_MUL:
        print_operand(pr, nd->a, PREC_MUL, 0);
        sb_puts(b, L ? " \\cdot " : "*");
        print_operand(pr, nd->b, PREC_NEG, 1);
        return;
    case ACT_EXPR_DIV:
        if (L) {
            sb_puts(b, "\\frac{");
            print_node(pr, nd->a);
            sb_puts(b, "}{");
            print_node(pr, nd->b);
            sb_puts(b, "}");
            return;
        }
        print_operand(pr, nd->a, PREC_MUL, 0);
        sb_puts(b, "/");
        print_operand(pr, nd->b, PREC_NEG, 1);
        return;
    case ACT_EXPR_POWI:
        if (L) {
            sb_puts(b, "{");
            print_operand(pr, nd->a, PREC_ATOM, 0);
            sb_printf(b, "}^{%d}", nd->k);
            return;
        }
        print_operand(pr, nd->a, PREC_ATOM, 0);
        sb_printf(b, "^%d", nd->k);
        return;
    case ACT_EXPR_ABS:
        if (L) {
            sb_puts(b, "\\left|");
            print_node(pr, nd->a);
            sb_puts(b, "\\right|");
            return;
        }
        break;
    case ACT_EXPR_SQRT:
        if (L) {
            sb_puts(b, "\\sqrt{");
            print_node(pr, nd->a);
            sb_puts(b, "}");
            return;
        }
        break;
    case ACT_EXPR_ACT: {
        const act_act_desc *d = act_act_info((act_act_id)nd->k);
        int custom = memcmp(nd->p, d->defaults, (size_t)d->n_params * sizeof(float)) != 0;
        sb_printf(b, L ? "\\operatorname{%s}\\left(" : "%s(", d->name);
        print_node(pr, nd->a);
        for (int j = 0; custom && j < d->n_params; j++) {
            fmt_float(nd->p[j], num, sizeof num, 0);
            sb_printf(b, ", %s", num);
        }
        sb_puts(b, L ? "\\right)" : ")");
        return;
    }
    case ACT_EXPR_EXP: case ACT_EXPR_LOG: case ACT_EXPR_SIN: case ACT_EXPR_COS:
    case ACT_EXPR_SINH: case ACT_EXPR_COSH: case ACT_EXPR_TANH: case ACT_EXPR_ASINH:
    case ACT_EXPR_ATAN: case ACT_EXPR_SINC: case ACT_EXPR_SIGMOID: case ACT_EXPR_SOFTPLUS:
    case ACT_EXPR_ERF: case ACT_EXPR_MAX: case ACT_EXPR_MIN: case ACT_EXPR_OP_COUNT:
        break;
    }
    /* function call */
    sb_printf(b, L ? "%s\\left(" : "%s(", L ? latex_fn(op) : act_expr_op_name(op));
    print_node(pr, nd->a);
    if (nd->b >= 0) {
        sb_puts(b, ", ");
        print_node(pr, nd->b);
    }
    sb_puts(b, L ? "\\right)" : ")");
}

// ----------------------------------------------------------------------------
// SSA code generation (C and PyTorch)

enum { H_SIGMOID = 1, H_SOFTPLUS = 2, H_SINC = 4, H_MAX = 8, H_MIN = 16, H_POWI = 32 };

/* The PyTorch form of each built-in, with X the input and P0..P2 its constant parameters: the
 * torch column of ACT_ACT_LIST. The C form is the scalar reference itself (act_src.h). */
static const char *const builtin_torch[ACT_ACT_COUNT] = {
#define X(ID, name, np, flags, learn, n0, d0, n1, d1, n2, d2, nk, k0, k1, nz, cost, vec, formula, \
          torch)                                                                              \
    [ACT_ACT_##ID] = torch,
    ACT_ACT_LIST(X)
#undef X
};

typedef struct gen {
    const act_expr *e;
    sbuf            b;
    int             torch;
    unsigned        helpers;
    char           *reach;
    unsigned char   used[ACT_ACT_COUNT];    /* C: the built-ins called (their act_<name>_f) */
} gen;

/* The operand reference: a variable, or an inline literal for constants and eps. */
static void operand(gen *g, int i, char *buf, size_t size)
{
    const acti_enode *nd = &g->e->node[i];
    char num[48];
    switch ((act_expr_op)nd->op) {
    case ACT_EXPR_CONST:
        fmt_float(nd->c, num, sizeof num, 1);
        snprintf(buf, size, g->torch ? "%s" : "%sf", num);
        if (signbit(nd->c)) {
            char t[64];
            snprintf(t, sizeof t, "(%s)", buf);
            snprintf(buf, size, "%s", t);
        }
        return;
    case ACT_EXPR_EPS:
        snprintf(buf, size, g->torch ? "self.eps" : "eps");
        return;
    case ACT_EXPR_INPUT:
        snprintf(buf, size, "x");
        return;
    case ACT_EXPR_PARAM:
        snprintf(buf, size, g->torch ? "b%d" : "beta[%d]", nd->k + (g->torch ? 1 : 0));
        return;
    case ACT_EXPR_HOLE: case ACT_EXPR_NEG: case ACT_EXPR_ADD: case ACT_EXPR_SUB:
    case ACT_EXPR_MUL: case ACT_EXPR_DIV: case ACT_EXPR_POWI: case ACT_EXPR_ABS:
    case ACT_EXPR_SQRT: case ACT_EXPR_EXP: case ACT_EXPR_LOG: case ACT_EXPR_SIN:
    case ACT_EXPR_COS: case ACT_EXPR_SINH: case ACT_EXPR_COSH: case ACT_EXPR_TANH:
    case ACT_EXPR_ASINH: case ACT_EXPR_ATAN: case ACT_EXPR_SINC: case ACT_EXPR_SIGMOID:
    case ACT_EXPR_SOFTPLUS: case ACT_EXPR_ERF: case ACT_EXPR_MAX: case ACT_EXPR_MIN:
    case ACT_EXPR_ACT: case ACT_EXPR_OP_COUNT:
        break;
    }
    snprintf(buf, size, "t%d", i);
}

/* In torch, a call argument must be a tensor: wrap literals. */
static void tensor_operand(gen *g, int i, char *buf, size_t size)
{
    act_expr_op op = (act_expr_op)g->e->node[i].op;
    char t[64];
    operand(g, i, t, sizeof t);
    if (g->torch && (op == ACT_EXPR_CONST || op == ACT_EXPR_EPS))
        snprintf(buf, size, "torch.full_like(x, %s)", t);
    else
        snprintf(buf, size, "%s", t);
}

/* A PyTorch form (builtin_torch) with X replaced by xv and Pk by the parameter p[k]. */
static void subst(sbuf *b, const char *code, const char *xv, const float *p)
{
    char num[48];
    for (const char *s = code; *s; s++) {
        if (*s == 'X') {
            sb_puts(b, xv);
        } else if (*s == 'P' && s[1] >= '0' && s[1] <= '2') {
            fmt_float(p[s[1] - '0'], num, sizeof num, 1);
            sb_printf(b, signbit(p[s[1] - '0']) ? "(%s)" : "%s", num);
            s++;
        } else {
            sb_printf(b, "%c", *s);
        }
    }
}

static int gen_node(gen *g, int i)
{
    const acti_enode *nd = &g->e->node[i];
    act_expr_op op = (act_expr_op)nd->op;
    char a[96] = "", bb[96] = "";
    int T = g->torch;
    sbuf *b = &g->b;
    if (nd->a >= 0)
        tensor_operand(g, nd->a, a, sizeof a);
    if (nd->b >= 0)
        tensor_operand(g, nd->b, bb, sizeof bb);
    if (op == ACT_EXPR_ADD || op == ACT_EXPR_SUB || op == ACT_EXPR_MUL || op == ACT_EXPR_DIV ||
        op == ACT_EXPR_NEG || op == ACT_EXPR_POWI) {
        operand(g, nd->a, a, sizeof a);             /* arithmetic takes literals directly */
        if (nd->b >= 0)
            operand(g, nd->b, bb, sizeof bb);
    }
    sb_printf(b, T ? "        t%d = " : "    const float t%d = ", i);
    switch (op) {
    case ACT_EXPR_INPUT: case ACT_EXPR_CONST: case ACT_EXPR_EPS: case ACT_EXPR_PARAM:
        sb_puts(b, "0");                            /* not reached: leaves are inlined */
        break;
    case ACT_EXPR_HOLE: case ACT_EXPR_OP_COUNT:
        return ACT_EINVAL;
    case ACT_EXPR_NEG: sb_printf(b, "-%s", a); break;
    case ACT_EXPR_ADD: sb_printf(b, "%s + %s", a, bb); break;
    case ACT_EXPR_SUB: sb_printf(b, "%s - %s", a, bb); break;
    case ACT_EXPR_MUL: sb_printf(b, "%s * %s", a, bb); break;
    case ACT_EXPR_DIV: sb_printf(b, "%s / %s", a, bb); break;
    case ACT_EXPR_POWI:
        if (T) {
            sb_printf(b, "%s ** %d", a, nd->k);
        } else {
            g->helpers |= H_POWI;
            sb_printf(b, "act_powi_(%s, %d)", a, nd->k);
        }
        break;
    case ACT_EXPR_ABS:   sb_printf(b, T ? "torch.abs(%s)" : "fabsf(%s)", a); break;
    case ACT_EXPR_SQRT:  sb_printf(b, T ? "torch.sqrt(%s)" : "sqrtf(%s)", a); break;
    case ACT_EXPR_EXP:   sb_printf(b, T ? "torch.exp(%s)" : "expf(%s)", a); break;
    case ACT_EXPR_LOG:   sb_printf(b, T ? "torch.log(%s)" : "logf(%s)", a); break;
    case ACT_EXPR_SIN:   sb_printf(b, T ? "torch.sin(%s)" : "sinf(%s)", a); break;
    case ACT_EXPR_COS:   sb_printf(b, T ? "torch.cos(%s)" : "cosf(%s)", a); break;
    case ACT_EXPR_SINH:  sb_printf(b, T ? "torch.sinh(%s)" : "sinhf(%s)", a); break;
    case ACT_EXPR_COSH:  sb_printf(b, T ? "torch.cosh(%s)" : "coshf(%s)", a); break;
    case ACT_EXPR_TANH:  sb_printf(b, T ? "torch.tanh(%s)" : "tanhf(%s)", a); break;
    case ACT_EXPR_ASINH: sb_printf(b, T ? "torch.asinh(%s)" : "asinhf(%s)", a); break;
    case ACT_EXPR_ATAN:  sb_printf(b, T ? "torch.atan(%s)" : "atanf(%s)", a); break;
    case ACT_EXPR_ERF:   sb_printf(b, T ? "torch.erf(%s)" : "erff(%s)", a); break;
    case ACT_EXPR_SINC:
        g->helpers |= H_SINC;
        sb_printf(b, T ? "_sinc(%s)" : "act_sinc_(%s)", a);
        break;
    case ACT_EXPR_SIGMOID:
        g->helpers |= H_SIGMOID;
        sb_printf(b, T ? "torch.sigmoid(%s)" : "act_sigmoid_(%s)", a);
        break;
    case ACT_EXPR_SOFTPLUS:
        g->helpers |= H_SOFTPLUS;
        sb_printf(b, T ? "F.softplus(%s)" : "act_softplus_(%s)", a);
        break;
    case ACT_EXPR_MAX:
        g->helpers |= H_MAX;
        sb_printf(b, T ? "torch.maximum(%s, %s)" : "act_max_(%s, %s)", a, bb);
        break;
    case ACT_EXPR_MIN:
        g->helpers |= H_MIN;
        sb_printf(b, T ? "torch.minimum(%s, %s)" : "act_min_(%s, %s)", a, bb);
        break;
    case ACT_EXPR_ACT: {
        const act_act_desc *d = act_act_info((act_act_id)nd->k);
        if (!d)
            return ACT_EINVAL;
        if (T) {
            subst(b, builtin_torch[nd->k], a, nd->p);
            break;
        }
        g->used[nd->k] = 1;                 /* act_<name>_f(x, (const float[]){ p0, ... }) */
        sb_printf(b, "act_%s_f(%s, ", d->name, a);
        if (d->n_params == 0)
            sb_puts(b, "(const float *)0");
        for (int j = 0; j < d->n_params; j++) {
            char num[48];
            fmt_float(nd->p[j], num, sizeof num, 1);
            sb_printf(b, "%s%sf", j ? ", " : "(const float[]){ ", num);
        }
        sb_puts(b, d->n_params ? " })" : ")");
        break;
    }
    }
    sb_puts(b, T ? "\n" : ";\n");
    return ACT_OK;
}

static int gen_body(gen *g)
{
    const act_expr *e = g->e;
    g->reach = calloc((size_t)e->n, 1);
    if (!g->reach)
        return ACT_ENOMEM;
    g->reach[e->root] = 1;
    for (int i = e->root; i >= 0; i--) {
        if (!g->reach[i])
            continue;
        if (e->node[i].a >= 0)
            g->reach[e->node[i].a] = 1;
        if (e->node[i].b >= 0)
            g->reach[e->node[i].b] = 1;
    }
    int rc = ACT_OK;
    for (int i = 0; i <= e->root && rc == ACT_OK; i++) {
        act_expr_op op = (act_expr_op)e->node[i].op;
        if (op == ACT_EXPR_HOLE)
            rc = ACT_EINVAL;
        if (!g->reach[i] || op == ACT_EXPR_INPUT || op == ACT_EXPR_CONST ||
            op == ACT_EXPR_EPS || op == ACT_EXPR_PARAM)
            continue;
        rc = gen_node(g, i);
    }
    char r[96];
    tensor_operand(g, e->root, r, sizeof r);
    sb_printf(&g->b, g->torch ? "        return torch.broadcast_to(%s, x.shape)\n" : "    return %s;\n", r);
    free(g->reach);
    return rc;
}

static int print_text(const act_expr *e, int latex, sbuf *b)
{
    printer pr = { .e = e, .latex = latex };
    pr.one_param = act_expr_n_params(e) == 1;
    print_node(&pr, e->root);
    *b = pr.b;
    return ACT_OK;
}

static int print_c(const act_expr *e, sbuf *out)
{
    gen g = { .e = e, .torch = 0 };
    int rc = gen_body(&g);
    sbuf text = { 0 };
    print_text(e, 0, &text);
    int np = act_expr_n_params(e);
    char eps[48];
    fmt_float(e->eps, eps, sizeof eps, 1);
    sb_printf(out, "/* Generated by actlab: f(x) = %s\n", text.s ? text.s : "");
    sb_printf(out, " * beta[0..%d): trainable parameters (one value per channel in training); "
              "eps = %s. */\n#include <math.h>\n\n", np, eps);
    if (g.helpers & H_SIGMOID)
        sb_puts(out, "static float act_sigmoid_(float x)\n{\n    float e = expf(-fabsf(x)), "
                "r = 1.0f / (1.0f + e);\n    return x >= 0.0f ? r : e * r;\n}\n\n");
    if (g.helpers & H_SOFTPLUS)
        sb_puts(out, "static float act_softplus_(float x)\n{\n    return fmaxf(x, 0.0f) + "
                "log1pf(expf(-fabsf(x)));\n}\n\n");
    if (g.helpers & H_SINC)
        sb_puts(out, "static float act_sinc_(float x)   /* sin(x)/x, 1 at 0 */\n{\n    return "
                "fabsf(x) < 1e-4f ? 1.0f - x * x / 6.0f : sinf(x) / x;\n}\n\n");
    if (g.helpers & H_MAX)
        sb_puts(out, "static float act_max_(float a, float b)   /* NaN-propagating */\n{\n"
                "    return (a >= b || a != a) ? a : b;\n}\n\n");
    if (g.helpers & H_MIN)
        sb_puts(out, "static float act_min_(float a, float b)   /* NaN-propagating */\n{\n"
                "    return (a <= b || a != a) ? a : b;\n}\n\n");
    if (g.helpers & H_POWI)
        sb_puts(out, "static float act_powi_(float a, int k)\n{\n    float r = 1.0f, p = a;\n"
                "    for (int m = k < 0 ? -k : k; m; m >>= 1, p *= p)\n        if (m & 1)\n"
                "            r *= p;\n    return k < 0 ? 1.0f / r : r;\n}\n\n");
    int any = 0;
    for (int id = 0; id < ACT_ACT_COUNT; id++)
        any |= g.used[id];
    if (any && rc == ACT_OK) {              /* the built-ins: the scalar reference's own code */
        char *defs;
        rc = acti_act_c_source(g.used, &defs);
        if (rc == ACT_OK) {
            sb_printf(out, "/* The built-in activations: actlab's scalar reference "
                      "(src/act/act_scalar.h), computed in\n * double and rounded once. */\n\n"
                      "%s\n", defs);
            free(defs);
        }
    }
    sb_printf(out, "float act_expr_f(float x, const float *beta)\n{\n");
    sb_printf(out, "    const float eps = %sf;\n    (void)eps;\n    (void)beta;\n", eps);
    sb_puts(out, g.b.s ? g.b.s : "");
    sb_puts(out, "}\n");
    free(g.b.s);
    free(text.s);
    return g.b.oom || text.oom ? ACT_ENOMEM : rc;
}

static int print_torch(const act_expr *e, sbuf *out)
{
    gen g = { .e = e, .torch = 1 };
    int rc = gen_body(&g);
    sbuf text = { 0 };
    print_text(e, 0, &text);
    int np = act_expr_n_params(e);
    char num[48];
    if (g.helpers & H_SINC)
        sb_puts(out, "import math\n");
    sb_puts(out, "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n");
    /* sinc: autograd differentiates the formula it is given, and the derivative of sin(x)/x,
     * cos(x)/x - sin(x)/x^2, cancels for small |x| (0 at 2e-4 in float32), as in eval_impl.h.
     * So below |x| = 1.5 (the evaluator's threshold) the Taylor series of sinc, whose autograd
     * derivative is the series of sinc'; 12 terms: the first omitted one is below 1e-19
     * relative for the value and the derivative at 1.5, under float64 rounding. Each branch
     * gets a guarded input (0 or 1 where it is not taken), so the unselected one has finite
     * gradients: torch.where passes it 0 * grad, which is NaN if grad is inf or NaN. */
    if (g.helpers & H_SINC)
        sb_puts(out, "def _sinc(x):\n"
                "    \"\"\"sin(x)/x with sinc(0) = 1 (unnormalised; not torch.sinc). Below |x| = "
                "1.5 its Taylor\n"
                "    series, whose autograd derivative does not cancel as that of sin(x)/x "
                "does.\"\"\"\n"
                "    small = x.abs() < 1.5\n"
                "    xs = torch.where(small, x, torch.zeros_like(x))\n"
                "    xl = torch.where(small, torch.ones_like(x), x)\n"
                "    z, s = xs * xs, torch.zeros_like(x)\n"
                "    for k in range(11, -1, -1):        # sum_k (-1)^k z^k / (2k+1)!, Horner\n"
                "        s = s * z + (-1) ** k / math.factorial(2 * k + 1)\n"
                "    return torch.where(small, s, torch.sin(xl) / xl)\n\n\n");
    sb_printf(out, "class ActExpr(nn.Module):\n    \"\"\"f(x) = %s\n\n", text.s ? text.s : "");
    sb_puts(out, "    Generated by actlab. Each beta is a per-channel nn.Parameter of shape "
            "(channels,),\n    broadcast along dim 1 of an (N, C, ...) input. max/min "
            "propagate NaN (torch.maximum);\n    at ties torch splits the gradient, actlab "
            "gives it to the first argument.\n    \"\"\"\n\n");
    sb_puts(out, "    def __init__(self, channels=1");
    for (int k = 0; k < np; k++) {
        fmt_float(e->init[k], num, sizeof num, 1);
        sb_printf(out, ", beta%d_init=%s", k + 1, num);
    }
    fmt_float(e->eps, num, sizeof num, 1);
    sb_printf(out, "):\n        super().__init__()\n        self.eps = %s\n", num);
    for (int k = 0; k < np; k++)
        sb_printf(out, "        self.beta%d = nn.Parameter(torch.full((channels,), "
                  "float(beta%d_init)))\n", k + 1, k + 1);
    sb_puts(out, "\n    @staticmethod\n    def _per_channel(p, x):\n        if x.dim() < 2:\n"
            "            return p\n        return p.view([1, -1] + [1] * (x.dim() - 2))\n\n");
    sb_puts(out, "    def forward(self, x):\n");
    for (int k = 0; k < np; k++)
        sb_printf(out, "        b%d = self._per_channel(self.beta%d, x)\n", k + 1, k + 1);
    sb_puts(out, g.b.s ? g.b.s : "");
    free(g.b.s);
    free(text.s);
    return g.b.oom || text.oom ? ACT_ENOMEM : rc;
}

int act_expr_print(const act_expr *e, act_expr_format fmt, char **out)
{
    if (!e || !out || e->root < 0)
        return ACT_EINVAL;
    *out = NULL;
    sbuf b = { 0 };
    int rc = ACT_EINVAL;
    switch (fmt) {
    case ACT_EXPR_TEXT:  rc = print_text(e, 0, &b); break;
    case ACT_EXPR_LATEX: rc = print_text(e, 1, &b); break;
    case ACT_EXPR_C:     rc = print_c(e, &b); break;
    case ACT_EXPR_TORCH: rc = print_torch(e, &b); break;
    }
    if (rc == ACT_OK && (b.oom || !b.s))
        rc = ACT_ENOMEM;
    if (rc != ACT_OK) {
        free(b.s);
        return rc;
    }
    *out = b.s;
    return ACT_OK;
}
