/* expr.h -- the activation-expression language: parse, print, canonicalise, compile, evaluate.
 *
 * An expression is an infix formula in x (grammar and semantics: docs/expr-grammar.md):
 *     x*sigmoid(beta*x)    max(x, sigmoid(x))    log(abs(x) + eps)    x1/(x2 + eps) style forms
 * It can write the 25 unary and 10 binary primitives of "Searching for Activation Functions"
 * (Ramachandran, Zoph, Le 2017), call every built-in activation (mish(x), acon_c(x, 1.5, 0.25, 2)),
 * use numeric constants, the named constant eps (default ACT_EXPR_EPS_DEFAULT, settable) and the
 * trainable per-channel parameters beta (= beta1), beta2, ..., beta8.
 *
 * Life cycle:
 *     act_expr *e;  act_diag d;
 *     act_expr_parse("x*sigmoid(beta*x)", &e, &d);      // tree, owned by e (one arena)
 *     act_expr_prog *p;  act_expr_compile(e, &p);      // flat program, independent of e
 *     act_fn fn;  act_expr_fn(p, &fn);                 // usable anywhere a built-in goes
 *     act_expr_forward(p, beta, ACT_PER_CHANNEL, x, y, shape);
 *     act_expr_prog_free(p);  act_expr_free(e);
 *
 * Evaluation works in cache-sized blocks: backward recomputes the forward values of one block,
 * so extra memory is O(block), never a full-size buffer per node. Nothing here prints or keeps
 * global state; a compiled program is read-only and may be used by several threads at once.
 */
#ifndef ACTLAB_EXPR_H
#define ACTLAB_EXPR_H

#include <stddef.h>
#include "actlab/act.h"
#include "actlab/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ACT_EXPR_EPS_DEFAULT 1e-7f  /* eps in log(|x| + eps) and x1/(x2 + eps) */
#define ACT_EXPR_MAX_LEN     65536  /* bytes of source text (ACT_ELIMIT beyond) */
#define ACT_EXPR_MAX_DEPTH   200    /* nesting of the tree, parentheses and calls (ACT_ELIMIT) */
#define ACT_EXPR_MAX_NODES   65536  /* distinct tree nodes (ACT_ELIMIT) */
#define ACT_EXPR_MAX_INSTR   1000   /* instructions of a compiled program (ACT_ELIMIT) */
#define ACT_EXPR_MAX_PARAMS  ACT_FN_MAX_PARAMS   /* beta1 .. beta8 */
#define ACT_EXPR_MAX_POW     64     /* |k| of an integer power x^k */

/*
 * X(ID, name, arity, call) -- every node of an expression tree.
 *   name   the printed operator or function name
 *   arity  number of expression operands
 *   call   1: written as a function call name(a[, b]) in the language
 */
#define ACT_EXPR_OP_LIST(X)          \
    X(INPUT,    "x",        0, 0)    \
    X(CONST,    "const",    0, 0)    \
    X(EPS,      "eps",      0, 0)    \
    X(PARAM,    "beta",     0, 0)    \
    X(HOLE,     "hole",     0, 0)    /* template placeholder x1, x2 (search space only) */ \
    X(NEG,      "-",        1, 0)    \
    X(ADD,      "+",        2, 0)    \
    X(SUB,      "-",        2, 0)    \
    X(MUL,      "*",        2, 0)    \
    X(DIV,      "/",        2, 0)    \
    X(POWI,     "^",        1, 0)    /* a^k, integer k */ \
    X(ABS,      "abs",      1, 1)    \
    X(SQRT,     "sqrt",     1, 1)    \
    X(EXP,      "exp",      1, 1)    \
    X(LOG,      "log",      1, 1)    \
    X(SIN,      "sin",      1, 1)    \
    X(COS,      "cos",      1, 1)    \
    X(SINH,     "sinh",     1, 1)    \
    X(COSH,     "cosh",     1, 1)    \
    X(TANH,     "tanh",     1, 1)    \
    X(ASINH,    "asinh",    1, 1)    \
    X(ATAN,     "atan",     1, 1)    \
    X(SINC,     "sinc",     1, 1)    /* sin(a)/a, 1 at 0 (unnormalised) */ \
    X(SIGMOID,  "sigmoid",  1, 1)    \
    X(SOFTPLUS, "softplus", 1, 1)    \
    X(ERF,      "erf",      1, 1)    \
    X(MAX,      "max",      2, 1)    /* NaN-propagating; tie: gradient to a */ \
    X(MIN,      "min",      2, 1)    \
    X(ACT,      "act",      1, 0)    /* a built-in activation with constant parameters */

typedef enum act_expr_op {
#define X(ID, name, arity, call) ACT_EXPR_##ID,
    ACT_EXPR_OP_LIST(X)
#undef X
    ACT_EXPR_OP_COUNT
} act_expr_op;

/* Printed name of an op ("sigmoid", "+"); NULL if out of range. Static storage. */
ACT_API const char *act_expr_op_name(act_expr_op op);

typedef struct act_expr act_expr;            /* opaque: a tree in one arena */
typedef struct act_expr_prog act_expr_prog;  /* opaque: a compiled flat program */

// ----------------------------------------------------------------------------
// trees

/*
 * Parses src (NUL-terminated) into a new tree in *out, owned by the caller (act_expr_free).
 * Errors: ACT_EPARSE (bad syntax, unknown name: diag has the 1-based line/col and a message,
 * with a "did you mean" hint for misspelt names), ACT_ELIMIT (longer than ACT_EXPR_MAX_LEN,
 * deeper than ACT_EXPR_MAX_DEPTH, ...), ACT_ENOMEM, ACT_EINVAL. diag may be NULL.
 */
ACT_API ACT_NODISCARD int  act_expr_parse(const char *src, act_expr **out, act_diag *diag);
ACT_API void act_expr_free(act_expr *e);                    /* NULL is a no-op */

/* A deep copy, or NULL on ENOMEM. */
ACT_API act_expr *act_expr_clone(const act_expr *e);

/* Writes two lines into buf (NUL-terminated, truncated to size): the source around diag->col
 * and a caret under it. Returns the number of bytes written, without the NUL. */
ACT_API size_t act_expr_format_error(const char *src, const act_diag *diag, char *buf,
                                     size_t size);

/* Number of parameters: 1 + the highest beta index used (0 if none). */
ACT_API int   act_expr_n_params(const act_expr *e);
/* Number of distinct nodes and the depth of the tree (a leaf has depth 1). */
ACT_API int   act_expr_n_nodes(const act_expr *e);
ACT_API int   act_expr_depth(const act_expr *e);

/* eps (ACT_EXPR_EPS_DEFAULT unless set; must be finite and >= 0, else ACT_EINVAL). */
ACT_API float act_expr_eps(const act_expr *e);
ACT_API ACT_NODISCARD int   act_expr_set_eps(act_expr *e, float eps);
/* Initial value of parameter k (default 1.0); ACT_EINVAL for k out of [0, ACT_EXPR_MAX_PARAMS)
 * or a non-finite value. */
ACT_API float act_expr_param_init(const act_expr *e, int k);
ACT_API ACT_NODISCARD int   act_expr_set_param_init(act_expr *e, int k, float v);

/* 1 if a and b are the same tree (ops, constants bitwise, parameter indices); else 0.
 * eps and initial values are settings, not part of the tree. */
ACT_API int act_expr_equal(const act_expr *a, const act_expr *b);

/*
 * Canonical form into *out (a new tree; e untouched): constants folded, identities removed
 * (a+0, a*1, a^1, -(-a), a-a, max(a,a), min(a,a), |a|^2k, max(a,0)+min(a,0), ...), children of
 * commutative ops (+, *, max, min, and (a-b)^2k, |a-b|) in a fixed order, and parameters
 * renumbered in order of first appearance (their initial values follow them). Every rule is an
 * identity for finite values; see docs/expr-grammar.md. Two strings with the same canonical
 * text are the same function.
 */
ACT_API ACT_NODISCARD int act_expr_canonical(const act_expr *e, act_expr **out);

typedef enum act_expr_format {
    ACT_EXPR_TEXT,    /* canonical infix text; act_expr_parse() reads it back to an equal tree */
    ACT_EXPR_LATEX,   /* LaTeX math (no $ delimiters) */
    ACT_EXPR_C,       /* a standalone C11 function: float act_expr_f(float x, const float *beta) */
    ACT_EXPR_TORCH,   /* a PyTorch nn.Module, beta as per-channel nn.Parameter */
} act_expr_format;

/*
 * Prints e in format fmt into a new NUL-terminated string in *out, owned by the caller (free()).
 * ACT_OK, ACT_ENOMEM, ACT_EINVAL (bad format, or a HOLE in C/PyTorch output).
 */
ACT_API ACT_NODISCARD int act_expr_print(const act_expr *e, act_expr_format fmt, char **out);

// ----------------------------------------------------------------------------
// compiled programs

/* Compiles e to a flat program in *out (owned by the caller: act_expr_prog_free). Identical
 * subtrees are computed once. ACT_ELIMIT past ACT_EXPR_MAX_INSTR instructions, ACT_EINVAL for a
 * template (HOLE) tree, ACT_ENOMEM. The program copies eps and the initial parameter values. */
ACT_API ACT_NODISCARD int  act_expr_compile(const act_expr *e, act_expr_prog **out);
ACT_API void act_expr_prog_free(act_expr_prog *p);          /* NULL is a no-op */

ACT_API int   act_expr_prog_n_params(const act_expr_prog *p);
ACT_API int   act_expr_prog_n_instr(const act_expr_prog *p);
/* Canonical text of the compiled tree (not the canonical form); owned by p. */
ACT_API const char *act_expr_prog_text(const act_expr_prog *p);

/*
 * y = f(x; beta) over a tensor of shape s: the same contract as act_act_forward().
 * p: n_params scalars, or (n_params, channels) with ACT_PER_CHANNEL; NULL: the initial values.
 * x and y may alias exactly.
 */
ACT_API ACT_NODISCARD int act_expr_forward(const act_expr_prog *prog, const float *p,
                                           unsigned flags,
                                           const float *x, float *y, act_shape s);

/*
 * The same contract as act_act_backward(): dx += dy * df/dx (= with ACT_DX_ASSIGN), and
 * dp[k] (or dp[k*C + c] with ACT_PER_CHANNEL) += sum of dy * df/dbeta_k; dp may be NULL.
 * dx may alias dy exactly. Kinks use the subgradients in docs/expr-grammar.md.
 */
ACT_API ACT_NODISCARD int act_expr_backward(const act_expr_prog *prog, const float *p,
                                            unsigned flags,
                                            const float *x, const float *dy, float *dx, float *dp,
                                            act_shape s);

/* Double-precision evaluation of the same op table (fingerprints, gradient checks): flat,
 * scalar parameters p (NULL: initial values). Built-in calls (ACT) are evaluated in float.
 * Backward accumulates: dx += dy f', dp[k] += sum dy df/dbeta_k (dp may be NULL). */
ACT_API ACT_NODISCARD int act_expr_forward_d(const act_expr_prog *prog, const double *p,
                                             const double *x,
                                             double *y, size_t n);
ACT_API ACT_NODISCARD int act_expr_backward_d(const act_expr_prog *prog, const double *p,
                                              const double *x,
                                              const double *dy, double *dx, double *dp, size_t n);

/*
 * Fills *out with a descriptor that evaluates prog through act_expr_forward/backward, so an
 * expression goes anywhere a built-in goes. out borrows prog (out->ctx, out->name): valid while
 * prog lives. Parameters are named "beta" (one) or "beta1".."betaK", all learnable.
 */
ACT_API ACT_NODISCARD int act_expr_fn(const act_expr_prog *prog, act_fn *out);

/*
 * Timing helper for `actlab bench --expr` and `actlab expr bench`: runs f forward and backward
 * (with scalar default parameters, dp accumulated) on n elements of N(0,1)-like inputs, reps
 * times after one warm-up, on the calling thread, and writes the best ns per element.
 * ACT_ENOMEM, ACT_EINVAL, or the kernel's status.
 */
ACT_API ACT_NODISCARD int act_expr_bench_fn(const act_fn *f, size_t n, int reps, double *fwd_ns,
                                            double *bwd_ns);

#ifdef __cplusplus
}
#endif
#endif
