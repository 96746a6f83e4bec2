/* parse.c -- lexer and recursive-descent parser of the expression language
 * (docs/expr-grammar.md). Errors carry a 1-based line/column and a "did you mean" hint; length,
 * nesting and node-count limits turn hostile input into ACT_ELIMIT, never a stack overflow. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_int.h"

typedef enum tok_kind {
    TOK_END, TOK_NUM, TOK_IDENT, TOK_LPAREN, TOK_RPAREN, TOK_COMMA,
    TOK_PLUS, TOK_MINUS, TOK_STAR, TOK_SLASH, TOK_CARET, TOK_BAD
} tok_kind;

typedef struct tok {
    tok_kind kind;
    size_t   pos, len;
    double   num;
} tok;

typedef struct parser {
    const char *src;
    size_t      len;
    size_t      pos;            /* lexer position (after the current token) */
    tok         cur;
    int         depth;
    int         allow_holes;
    act_expr   *e;
    act_diag   *diag;
    int         status;         /* first error */
} parser;

// ----------------------------------------------------------------------------
// errors

static void set_pos(const parser *ps, size_t pos, act_diag *d)
{
    int line = 1, col = 1;
    for (size_t i = 0; i < pos && i < ps->len; i++) {
        if (ps->src[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    d->line = line;
    d->col = col;
}

__attribute__((format(printf, 4, 5)))
static int fail(parser *ps, int status, size_t pos, const char *fmt, ...)
{
    if (ps->status != ACT_OK)
        return ps->status;
    ps->status = status;
    if (ps->diag) {
        va_list ap;
        set_pos(ps, pos, ps->diag);
        va_start(ap, fmt);
        vsnprintf(ps->diag->msg, sizeof ps->diag->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

static int node_fail(parser *ps, int r, size_t pos)
{
    if (r == ACT_ELIMIT)
        return fail(ps, ACT_ELIMIT, pos, "expression too large: more than %d levels of nesting "
                    "or %d distinct nodes", ACT_EXPR_MAX_DEPTH, ACT_EXPR_MAX_NODES);
    return fail(ps, r, pos, "%s", act_strerror(r));
}

/* optimal string alignment distance (Levenshtein plus adjacent transpositions) */
static int edit_distance(const char *a, size_t la, const char *b)
{
    size_t lb = strlen(b);
    int d[64][64];
    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

/* The closest known name to s[0..n) within edit distance 2 (1 for short names), or NULL. */
static const char *suggest(const char *s, size_t n, int call)
{
    static const char *const vars[] = { "x", "eps", "beta", "pi" };
    const char *best = NULL;
    int bd = n <= 3 ? 1 : 2;
    bd++;
    for (int i = 0; i < ACT_EXPR_OP_COUNT; i++) {
#define X(ID, name, arity, cl) if (i == ACT_EXPR_##ID && cl) {                         \
        int d = edit_distance(s, n, name);                                             \
        if (d < bd) { bd = d; best = name; } }
        ACT_EXPR_OP_LIST(X)
#undef X
    }
    for (int i = 0; i < ACT_ACT_COUNT; i++) {
        const char *nm = act_act_info((act_act_id)i)->name;
        int d = edit_distance(s, n, nm);
        if (d < bd) {
            bd = d;
            best = nm;
        }
    }
    if (!call) {
        for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
            int d = edit_distance(s, n, vars[i]);
            if (d < bd) {
                bd = d;
                best = vars[i];
            }
        }
    }
    return best;
}

// ----------------------------------------------------------------------------
// lexer

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

static void next(parser *ps)
{
    const char *s = ps->src;
    size_t i = ps->pos;
    while (i < ps->len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    tok t = { TOK_END, i, 0, 0.0 };
    if (i >= ps->len) {
        ps->cur = t;
        ps->pos = i;
        return;
    }
    char c = s[i];
    if (is_digit(c) || (c == '.' && i + 1 < ps->len && is_digit(s[i + 1]))) {
        size_t j = i;
        while (j < ps->len && is_digit(s[j]))
            j++;
        if (j < ps->len && s[j] == '.') {
            j++;
            while (j < ps->len && is_digit(s[j]))
                j++;
        }
        if (j < ps->len && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1;
            if (k < ps->len && (s[k] == '+' || s[k] == '-'))
                k++;
            if (k < ps->len && is_digit(s[k])) {
                while (k < ps->len && is_digit(s[k]))
                    k++;
                j = k;
            }
        }
        t.kind = TOK_NUM;
        t.len = j - i;
        char buf[80];
        if (t.len >= sizeof buf) {
            t.kind = TOK_BAD;
        } else {
            memcpy(buf, s + i, t.len);
            buf[t.len] = '\0';
            t.num = strtod(buf, NULL);
        }
    } else if (is_alpha(c)) {
        size_t j = i;
        while (j < ps->len && (is_alpha(s[j]) || is_digit(s[j])))
            j++;
        t.kind = TOK_IDENT;
        t.len = j - i;
    } else {
        t.len = 1;
        switch (c) {
        case '(': t.kind = TOK_LPAREN; break;
        case ')': t.kind = TOK_RPAREN; break;
        case ',': t.kind = TOK_COMMA; break;
        case '+': t.kind = TOK_PLUS; break;
        case '-': t.kind = TOK_MINUS; break;
        case '*': t.kind = TOK_STAR; break;
        case '/': t.kind = TOK_SLASH; break;
        case '^': t.kind = TOK_CARET; break;
        default:  t.kind = TOK_BAD; break;
        }
    }
    ps->cur = t;
    ps->pos = t.pos + t.len;
}

/* The kind of the token after the current one (no state change). */
static tok_kind peek(parser *ps)
{
    size_t save = ps->pos;
    tok cur = ps->cur;
    next(ps);
    tok_kind k = ps->cur.kind;
    ps->cur = cur;
    ps->pos = save;
    return k;
}

static const char *tok_desc(const tok *t)
{
    switch (t->kind) {
    case TOK_END:    return "end of input";
    case TOK_NUM:    return "a number";
    case TOK_IDENT:  return "a name";
    case TOK_LPAREN: return "'('";
    case TOK_RPAREN: return "')'";
    case TOK_COMMA:  return "','";
    case TOK_PLUS:   return "'+'";
    case TOK_MINUS:  return "'-'";
    case TOK_STAR:   return "'*'";
    case TOK_SLASH:  return "'/'";
    case TOK_CARET:  return "'^'";
    case TOK_BAD:    return "an invalid character";
    }
    return "?";
}

static int expect(parser *ps, tok_kind k, const char *what)
{
    if (ps->cur.kind != k) {
        if (ps->cur.kind == TOK_BAD)
            return fail(ps, ACT_EPARSE, ps->cur.pos, "unexpected character '%c'; expected %s",
                        ps->src[ps->cur.pos], what);
        return fail(ps, ACT_EPARSE, ps->cur.pos, "expected %s, found %s", what,
                    tok_desc(&ps->cur));
    }
    next(ps);
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// grammar

static int parse_expr(parser *ps);

static int add(parser *ps, int r, size_t pos)
{
    if (r < 0)
        return node_fail(ps, r, pos);
    return r;
}

static int enter(parser *ps)
{
    if (++ps->depth > ACT_EXPR_MAX_DEPTH)
        return fail(ps, ACT_ELIMIT, ps->cur.pos, "expression nested more than %d levels deep",
                    ACT_EXPR_MAX_DEPTH);
    return ACT_OK;
}

static int make_const(parser *ps, double v, size_t pos)
{
    float f = (float)v;
    if (!isfinite(f))
        return fail(ps, ACT_EPARSE, pos, "number out of the float range");
    return add(ps, acti_expr_leaf(ps->e, ACT_EXPR_CONST, 0, f), pos);
}

/* Comma-separated arguments of a call: args[0..*n), at most max. Current token is '('. */
static int parse_args(parser *ps, int *args, size_t *pos, int max, int *n)
{
    *n = 0;
    if (expect(ps, TOK_LPAREN, "'('") != ACT_OK)
        return ps->status;
    if (ps->cur.kind == TOK_RPAREN) {
        next(ps);
        return ACT_OK;
    }
    for (;;) {
        if (*n >= max)
            return fail(ps, ACT_EPARSE, ps->cur.pos, "too many arguments");
        pos[*n] = ps->cur.pos;
        int r = parse_expr(ps);
        if (r < 0)
            return r;
        args[(*n)++] = r;
        if (ps->cur.kind == TOK_COMMA) {
            next(ps);
            continue;
        }
        return expect(ps, TOK_RPAREN, "',' or ')'");
    }
}

static int parse_call(parser *ps, size_t pos, size_t nlen)
{
    const char *name = ps->src + pos;
    int args[1 + ACT_ACT_MAX_PARAMS + 1] = { 0 };
    size_t apos[1 + ACT_ACT_MAX_PARAMS + 1] = { 0 };
    int n = 0;
    act_expr_op op = ACT_EXPR_OP_COUNT;
    for (int i = 0; i < ACT_EXPR_OP_COUNT; i++) {
#define X(ID, nm, arity, cl) if (i == ACT_EXPR_##ID && cl && strlen(nm) == nlen &&             \
                                 memcmp(nm, name, nlen) == 0) op = ACT_EXPR_##ID;
        ACT_EXPR_OP_LIST(X)
#undef X
    }
    act_act_id id = ACT_ACT_COUNT;
    if (op == ACT_EXPR_OP_COUNT) {
        char buf[64];
        if (nlen < sizeof buf) {
            memcpy(buf, name, nlen);
            buf[nlen] = '\0';
            if (act_act_lookup(buf, &id) != ACT_OK)
                id = ACT_ACT_COUNT;
        }
        if (id == ACT_ACT_COUNT) {
            const char *s = suggest(name, nlen, 1);
            if (s)
                return fail(ps, ACT_EPARSE, pos, "unknown function '%.*s'; did you mean '%s'?",
                            (int)(nlen > 60 ? 60 : nlen), name, s);
            return fail(ps, ACT_EPARSE, pos, "unknown function '%.*s'",
                        (int)(nlen > 60 ? 60 : nlen), name);
        }
    }
    if (enter(ps) != ACT_OK)
        return ps->status;
    if (parse_args(ps, args, apos, 1 + ACT_ACT_MAX_PARAMS + 1, &n) != ACT_OK)
        return ps->status;
    ps->depth--;
    if (op != ACT_EXPR_OP_COUNT) {
        int ar = acti_expr_arity(op);
        if (n != ar)
            return fail(ps, ACT_EPARSE, pos, "'%.*s' takes %d argument%s, got %d", (int)nlen,
                        name, ar, ar == 1 ? "" : "s", n);
        if (ar == 1)
            return add(ps, acti_expr_un(ps->e, op, args[0], 0), pos);
        return add(ps, acti_expr_bin(ps->e, op, args[0], args[1]), pos);
    }
    const act_act_desc *d = act_act_info(id);
    if (n < 1 || n > 1 + d->n_params)
        return fail(ps, ACT_EPARSE, pos, "'%s' takes 1 to %d arguments (x, then constant "
                    "parameters), got %d", d->name, 1 + d->n_params, n);
    acti_enode nd = { .op = ACT_EXPR_ACT, .a = args[0], .b = -1, .k = (int32_t)id };
    for (int j = 0; j < d->n_params; j++)
        nd.p[j] = d->defaults[j];
    for (int j = 1; j < n; j++) {
        const acti_enode *c = &ps->e->node[args[j]];
        if (c->op != ACT_EXPR_CONST)
            return fail(ps, ACT_EPARSE, apos[j], "parameter %s of '%s' must be a number",
                        d->param_names[j - 1], d->name);
        nd.p[j - 1] = c->c;
    }
    if (act_act_check_params(id, nd.p) != ACT_OK)
        return fail(ps, ACT_EPARSE, pos, "invalid parameters for '%s'", d->name);
    return add(ps, acti_expr_add(ps->e, &nd), pos);
}

static int parse_primary(parser *ps)
{
    tok t = ps->cur;
    switch (t.kind) {
    case TOK_NUM:
        next(ps);
        return make_const(ps, t.num, t.pos);
    case TOK_LPAREN: {
        if (enter(ps) != ACT_OK)
            return ps->status;
        next(ps);
        int r = parse_expr(ps);
        if (r < 0)
            return r;
        if (expect(ps, TOK_RPAREN, "')'") != ACT_OK)
            return ps->status;
        ps->depth--;
        return r;
    }
    case TOK_IDENT: {
        const char *s = ps->src + t.pos;
        next(ps);
        if (ps->cur.kind == TOK_LPAREN)
            return parse_call(ps, t.pos, t.len);
        if (t.len == 1 && s[0] == 'x')
            return add(ps, acti_expr_leaf(ps->e, ACT_EXPR_INPUT, 0, 0.0f), t.pos);
        if (t.len == 3 && memcmp(s, "eps", 3) == 0)
            return add(ps, acti_expr_leaf(ps->e, ACT_EXPR_EPS, 0, 0.0f), t.pos);
        if (t.len == 2 && memcmp(s, "pi", 2) == 0)
            return make_const(ps, 3.14159265358979323846, t.pos);
        if (ps->allow_holes && t.len == 2 && s[0] == 'x' && (s[1] == '1' || s[1] == '2'))
            return add(ps, acti_expr_leaf(ps->e, ACT_EXPR_HOLE, s[1] - '1', 0.0f), t.pos);
        if (t.len >= 4 && memcmp(s, "beta", 4) == 0) {
            if (t.len == 4)
                return add(ps, acti_expr_leaf(ps->e, ACT_EXPR_PARAM, 0, 0.0f), t.pos);
            if (t.len == 5 && s[4] >= '1' && s[4] < '1' + ACT_EXPR_MAX_PARAMS)
                return add(ps, acti_expr_leaf(ps->e, ACT_EXPR_PARAM, s[4] - '1', 0.0f), t.pos);
            return fail(ps, ACT_EPARSE, t.pos, "unknown parameter '%.*s'; parameters are beta "
                        "(= beta1) to beta%d", (int)(t.len > 60 ? 60 : t.len), s,
                        ACT_EXPR_MAX_PARAMS);
        }
        const char *hint = suggest(s, t.len, 0);
        if (hint)
            return fail(ps, ACT_EPARSE, t.pos, "unknown name '%.*s'; did you mean '%s'?",
                        (int)(t.len > 60 ? 60 : t.len), s, hint);
        return fail(ps, ACT_EPARSE, t.pos, "unknown name '%.*s'",
                    (int)(t.len > 60 ? 60 : t.len), s);
    }
    case TOK_BAD:
        if (ps->cur.len > 1 || is_digit(ps->src[t.pos]))
            return fail(ps, ACT_EPARSE, t.pos, "number too long");
        return fail(ps, ACT_EPARSE, t.pos, "unexpected character '%c'", ps->src[t.pos]);
    case TOK_END: case TOK_RPAREN: case TOK_COMMA: case TOK_PLUS: case TOK_MINUS:
    case TOK_STAR: case TOK_SLASH: case TOK_CARET:
        break;
    }
    return fail(ps, ACT_EPARSE, t.pos, "expected a number, a name or '(', found %s",
                tok_desc(&t));
}

/* integer exponent after '^': [+-]INT or ([+-]INT) */
static int parse_exponent(parser *ps, int *k)
{
    int paren = 0, neg = 0;
    size_t pos = ps->cur.pos;
    if (ps->cur.kind == TOK_LPAREN) {
        paren = 1;
        next(ps);
    }
    if (ps->cur.kind == TOK_MINUS || ps->cur.kind == TOK_PLUS) {
        neg = ps->cur.kind == TOK_MINUS;
        next(ps);
    }
    double v = ps->cur.num;
    if (ps->cur.kind != TOK_NUM || v != floor(v) || fabs(v) > ACT_EXPR_MAX_POW)
        return fail(ps, ACT_EPARSE, pos, "the exponent must be an integer constant with "
                    "|k| <= %d (use sqrt or exp/log for other powers)", ACT_EXPR_MAX_POW);
    next(ps);
    if (paren && expect(ps, TOK_RPAREN, "')'") != ACT_OK)
        return ps->status;
    *k = neg ? -(int)v : (int)v;
    return ACT_OK;
}

static int parse_power(parser *ps)
{
    size_t pos = ps->cur.pos;
    int base = parse_primary(ps);
    if (base < 0 || ps->cur.kind != TOK_CARET)
        return base;
    next(ps);
    int k = 0;
    if (parse_exponent(ps, &k) != ACT_OK)
        return ps->status;
    if (ps->cur.kind == TOK_CARET)
        return fail(ps, ACT_EPARSE, ps->cur.pos, "chained powers need parentheses: (a^b)^c");
    return add(ps, acti_expr_un(ps->e, ACT_EXPR_POWI, base, k), pos);
}

static int parse_unary(parser *ps)
{
    size_t pos = ps->cur.pos;
    if (ps->cur.kind != TOK_MINUS && ps->cur.kind != TOK_PLUS)
        return parse_power(ps);
    int neg = ps->cur.kind == TOK_MINUS;
    if (enter(ps) != ACT_OK)
        return ps->status;
    next(ps);
    int r;
    if (neg && ps->cur.kind == TOK_NUM && peek(ps) != TOK_CARET) {
        double v = ps->cur.num;                 /* -2 is the constant -2, not -(2) */
        size_t p = ps->cur.pos;
        next(ps);
        r = make_const(ps, -v, p);
    } else {
        r = parse_unary(ps);
        if (r >= 0 && neg)
            r = add(ps, acti_expr_un(ps->e, ACT_EXPR_NEG, r, 0), pos);
    }
    ps->depth--;
    return r;
}

static int parse_term(parser *ps)
{
    int a = parse_unary(ps);
    while (a >= 0 && (ps->cur.kind == TOK_STAR || ps->cur.kind == TOK_SLASH)) {
        act_expr_op op = ps->cur.kind == TOK_STAR ? ACT_EXPR_MUL : ACT_EXPR_DIV;
        size_t pos = ps->cur.pos;
        next(ps);
        int b = parse_unary(ps);
        if (b < 0)
            return b;
        a = add(ps, acti_expr_bin(ps->e, op, a, b), pos);
    }
    return a;
}

static int parse_expr(parser *ps)
{
    int a = parse_term(ps);
    while (a >= 0 && (ps->cur.kind == TOK_PLUS || ps->cur.kind == TOK_MINUS)) {
        act_expr_op op = ps->cur.kind == TOK_PLUS ? ACT_EXPR_ADD : ACT_EXPR_SUB;
        size_t pos = ps->cur.pos;
        next(ps);
        int b = parse_term(ps);
        if (b < 0)
            return b;
        a = add(ps, acti_expr_bin(ps->e, op, a, b), pos);
    }
    return a;
}

int acti_expr_parse(const char *src, int allow_holes, act_expr **out, act_diag *diag)
{
    if (diag) {
        diag->line = 0;
        diag->col = 0;
        diag->msg[0] = '\0';
    }
    if (!src || !out)
        return ACT_EINVAL;
    *out = NULL;
    size_t len = strnlen(src, (size_t)ACT_EXPR_MAX_LEN + 1);
    if (len > ACT_EXPR_MAX_LEN) {
        if (diag) {
            diag->line = 1;
            diag->col = ACT_EXPR_MAX_LEN + 1;
            snprintf(diag->msg, sizeof diag->msg, "expression longer than %d bytes",
                     ACT_EXPR_MAX_LEN);
        }
        return ACT_ELIMIT;
    }
    parser ps = { .src = src, .len = len, .allow_holes = allow_holes, .diag = diag };
    ps.e = acti_expr_new();
    if (!ps.e)
        return ACT_ENOMEM;
    next(&ps);
    if (ps.cur.kind == TOK_END) {
        fail(&ps, ACT_EPARSE, ps.cur.pos, "empty expression");
    } else {
        int r = parse_expr(&ps);
        if (r >= 0 && ps.cur.kind != TOK_END) {
            if (ps.cur.kind == TOK_BAD)
                fail(&ps, ACT_EPARSE, ps.cur.pos, "unexpected character '%c'",
                     src[ps.cur.pos]);
            else if (ps.cur.kind == TOK_RPAREN)
                fail(&ps, ACT_EPARSE, ps.cur.pos, "unmatched ')'");
            else
                fail(&ps, ACT_EPARSE, ps.cur.pos, "expected an operator or end of input, "
                     "found %s", tok_desc(&ps.cur));
        }
        ps.e->root = r;
    }
    if (ps.status != ACT_OK) {
        act_expr_free(ps.e);
        return ps.status;
    }
    *out = ps.e;
    return ACT_OK;
}

int act_expr_parse(const char *src, act_expr **out, act_diag *diag)
{
    return acti_expr_parse(src, 0, out, diag);
}

size_t act_expr_format_error(const char *src, const act_diag *diag, char *buf, size_t size)
{
    if (!buf || size == 0)
        return 0;
    buf[0] = '\0';
    if (!src || !diag || diag->line < 1)
        return 0;
    /* find the start of the error line */
    const char *line = src;
    for (int l = 1; l < diag->line; l++) {
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    size_t llen = strcspn(line, "\n");
    size_t col = diag->col > 0 ? (size_t)diag->col - 1 : 0;
    if (col > llen)
        col = llen;
    size_t from = col > 40 ? col - 40 : 0;         /* window of 80 characters */
    size_t to = llen - from > 80 ? from + 80 : llen;
    const char *pre = from ? "..." : "", *post = to < llen ? "..." : "";
    int n = snprintf(buf, size, "  %s%.*s%s\n  %*s^", pre, (int)(to - from), line + from, post,
                     (int)(col - from + strlen(pre)), "");
    return n < 0 ? 0 : ((size_t)n < size ? (size_t)n : size - 1);
}
