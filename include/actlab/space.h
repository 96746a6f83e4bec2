/* space.h -- the search space of "Searching for Activation Functions" (Ramachandran, Zoph, Le
 * 2017, arXiv 1710.05941): core units b(u1(x1), u2(x2)) chained k times, where each unit's
 * inputs are x or the output of an earlier unit and the function is the last unit's output.
 *
 * Primitives are expression templates (expr.h), so a candidate converts to and from an
 * expression tree. On top: enumeration of a whole space (1 unit: 25*25*10 = 6,250), uniform
 * random sampling of k-unit candidates, named presets (restricted primitive sets, the b(x, g(x))
 * form), degenerate filters and a numeric fingerprint for functional dedup (the rules, their
 * reasons and the counts they give: docs/expr-grammar.md, "Search space"; sources:
 * docs/references.md), and the whole per-candidate pipeline as one call
 * (act_space_propose). Nothing here prints or keeps global state.
 */
#ifndef ACTLAB_SPACE_H
#define ACTLAB_SPACE_H

#include <stddef.h>
#include <stdint.h>
#include "actlab/expr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(ID, template) -- the 25 unary primitives; x1 is the input. */
#define ACT_SPACE_UNARY_LIST(X)          \
    X(X,        "x1")                   \
    X(NEG,      "-x1")                  \
    X(ABS,      "abs(x1)")              \
    X(SQUARE,   "x1^2")                 \
    X(CUBE,     "x1^3")                 \
    X(SQRT,     "sqrt(x1)")             \
    X(SCALE,    "beta*x1")              \
    X(SHIFT,    "x1 + beta")            \
    X(LOG,      "log(abs(x1) + eps)")   \
    X(EXP,      "exp(x1)")              \
    X(SIN,      "sin(x1)")              \
    X(COS,      "cos(x1)")              \
    X(SINH,     "sinh(x1)")             \
    X(COSH,     "cosh(x1)")             \
    X(TANH,     "tanh(x1)")             \
    X(ASINH,    "asinh(x1)")            \
    X(ATAN,     "atan(x1)")             \
    X(SINC,     "sinc(x1)")             \
    X(RELU,     "max(x1, 0)")           \
    X(MIN0,     "min(x1, 0)")           \
    X(SIGMOID,  "sigmoid(x1)")          \
    X(SOFTPLUS, "softplus(x1)")         \
    X(GAUSS,    "exp(-x1^2)")           \
    X(ERF,      "erf(x1)")              \
    X(BETA,     "beta")

/* X(ID, template) -- the 10 binary primitives of x1, x2. */
#define ACT_SPACE_BINARY_LIST(X)                   \
    X(ADD,     "x1 + x2")                         \
    X(MUL,     "x1*x2")                           \
    X(SUB,     "x1 - x2")                         \
    X(DIV,     "x1/(x2 + eps)")                   \
    X(MAX,     "max(x1, x2)")                     \
    X(MIN,     "min(x1, x2)")                     \
    X(SIGMUL,  "sigmoid(x1)*x2")                  \
    X(GAUSSD,  "exp(-beta*(x1 - x2)^2)")          \
    X(LAPD,    "exp(-beta*abs(x1 - x2))")         \
    X(MIX,     "beta*x1 + (1 - beta)*x2")

typedef enum act_space_unary {
#define X(ID, t) ACT_SPACE_U_##ID,
    ACT_SPACE_UNARY_LIST(X)
#undef X
    ACT_SPACE_UNARY_COUNT
} act_space_unary;

typedef enum act_space_binary {
#define X(ID, t) ACT_SPACE_B_##ID,
    ACT_SPACE_BINARY_LIST(X)
#undef X
    ACT_SPACE_BINARY_COUNT
} act_space_binary;

ACT_API const char *act_space_unary_template(act_space_unary u);    /* NULL if out of range */
ACT_API const char *act_space_binary_template(act_space_binary b);

#define ACT_SPACE_MAX_UNITS 8

/* One core unit. Inputs: 0 = x, j >= 1 = the output of unit j-1 (an earlier unit). */
typedef struct act_space_unit {
    uint8_t binary, in1, in2, un1, un2;
} act_space_unit;

typedef struct act_space_cand {
    int            n_units;                       /* 1..ACT_SPACE_MAX_UNITS */
    act_space_unit unit[ACT_SPACE_MAX_UNITS];     /* the function is the last unit */
} act_space_cand;

/* A search space: allowed primitives and the form. */
typedef struct act_space_preset {
    const char *name;
    const char *help;
    uint32_t    unary_mask;         /* bit u: unary u allowed */
    uint32_t    binary_mask;        /* bit b: binary b allowed */
    int         bxg;                /* 1: the last unit is b(x, g(x)) (in1 = x, u1 = identity) */
} act_space_preset;

/* The named presets: "full", "bxg", "no-div", "smooth", "basic". NULL if unknown. */
ACT_API const act_space_preset *act_space_preset_lookup(const char *name);
/* The i-th preset (0-based), NULL past the end: for listing. */
ACT_API const act_space_preset *act_space_preset_at(int i);

/* Expression tree of a candidate in *out (caller frees). Every beta occurrence gets its own
 * parameter (beta1, beta2, ... in unit order, u1 before u2 before b). ACT_ELIMIT if that needs
 * more than ACT_EXPR_MAX_PARAMS; ACT_EINVAL for an invalid candidate. */
ACT_API ACT_NODISCARD int act_space_to_expr(const act_space_cand *c, act_expr **out);

/* The inverse: a candidate whose expression equals e (act_expr_equal up to parameter
 * numbering), or ACT_ENOTFOUND if e is not a chain of core units. */
ACT_API ACT_NODISCARD int act_space_from_expr(const act_expr *e, act_space_cand *out);

/* Number of candidates with n_units units in preset (saturates at UINT64_MAX), and the i-th of
 * them in a fixed order (i < count). For 1 unit, i = (b*25 + u1)*25 + u2 over the full space. */
ACT_API uint64_t act_space_count(const act_space_preset *ps, int n_units);
ACT_API ACT_NODISCARD int act_space_nth(const act_space_preset *ps, int n_units, uint64_t i,
                                        act_space_cand *out);

/* A uniformly random candidate of preset with n_units units; *rng is the caller's state
 * (splitmix64), advanced. Candidates needing more than ACT_EXPR_MAX_PARAMS betas are redrawn. */
ACT_API ACT_NODISCARD int act_space_sample(const act_space_preset *ps, int n_units, uint64_t *rng,
                                           act_space_cand *out);

// ----------------------------------------------------------------------------
// degenerate filters and fingerprints

/* X(ID, name) -- outcome of the filters, in the order they are tested. */
#define ACT_SPACE_VERDICT_LIST(X)   \
    X(KEEP,      "kept")           \
    X(NONFINITE, "nonfinite")      \
    X(CONSTANT,  "constant")       \
    X(LINEAR,    "linear")         \
    X(EXPLODING, "exploding")

typedef enum act_space_verdict {
#define X(ID, name) ACT_SPACE_##ID,
    ACT_SPACE_VERDICT_LIST(X)
#undef X
    ACT_SPACE_VERDICT_COUNT
} act_space_verdict;

ACT_API const char *act_space_verdict_name(act_space_verdict v);

/*
 * Filters one compiled candidate with the trainer's float kernels (act_expr_forward) on the
 * probe set P (401 grid points on [-10, 10] offset by half a step, 256 fixed-seed N(0,1) points)
 * at two parameter vectors (all betas 1.0; and 0.7, 1.3, 0.45, 1.6, ...):
 *   nonfinite  any NaN or inf on P
 *   constant   max - min <= 1e-6 (1 + |max|) on P
 *   linear     least-squares R^2 > 0.9999 of f against x on the grid points in [-5, 5]
 *   exploding  |f| > 1e3 anywhere on |x| <= 3
 * Writes the first matching verdict (or KEEP) into *v.
 */
ACT_API ACT_NODISCARD int act_space_filter(const act_expr_prog *p, act_space_verdict *v);

/* 64-bit functional fingerprint: the double-precision evaluation of the same op table on P at
 * both parameter vectors, each value rounded to 30 significant bits (about 9 digits), hashed
 * with FNV-1a together with the number of parameters. */
ACT_API ACT_NODISCARD int act_space_fingerprint(const act_expr_prog *p, uint64_t *fp);

/* 1 if a and b agree (max relative difference < 1e-9, NaN and inf matching) on P and on a second,
 * independent probe set Q (another seed, range [-20, 20]) at both parameter vectors; else 0. */
ACT_API int act_space_equivalent(const act_expr_prog *a, const act_expr_prog *b);

/* Functional dedup index: fingerprint -> representatives, verified with act_space_equivalent.
 * Owned by the caller. It borrows the programs given to act_space_index_add (they must outlive
 * the index) and owns the copies act_space_propose adds. */
typedef struct act_space_index act_space_index;
ACT_API ACT_NODISCARD act_space_index *act_space_index_new(void);
ACT_API void act_space_index_free(act_space_index *ix);            /* NULL is a no-op */
/* Looks p up; if no verified equivalent exists, adds p (borrowed) as a new representative.
 * *rep is the id (insertion number) of the representative, *is_new 1 if p became one. */
ACT_API ACT_NODISCARD int act_space_index_add(act_space_index *ix, const act_expr_prog *p, int *rep,
                                              int *is_new);

// ----------------------------------------------------------------------------
// the candidate pipeline

#define ACT_SPACE_PROPOSE_FILTER 0x1u   /* run act_space_filter (without it: verdict KEEP) */
#define ACT_SPACE_PROPOSE_DEDUP  0x2u   /* look a kept candidate up in ix, adding it if new */

/* One candidate after act_space_propose. Every pointer is owned by the proposal and released
 * by act_space_proposal_free; a caller may take one over by setting the field to NULL. */
typedef struct act_space_proposal {
    char              *text;        /* act_expr_print(e, ACT_EXPR_TEXT): as proposed */
    char              *canon;       /* the same of its canonical form (act_expr_canonical) */
    act_expr_prog     *prog;        /* the canonical form, compiled */
    act_space_verdict  verdict;     /* act_space_filter's, or KEEP without the FILTER flag */
    uint64_t           fp;          /* act_space_fingerprint(prog) */
    int                rep;         /* DEDUP and KEEP: id of the representative in ix; else -1 */
    int                is_new;      /* 1 if the candidate became that representative */
} act_space_proposal;

/*
 * The pipeline the search runs once per proposal: canonicalise e (its eps and initial values
 * carry over), print e and the canonical form, compile it, filter it (ACT_SPACE_PROPOSE_FILTER),
 * fingerprint it and, if kept, deduplicate it against ix (ACT_SPACE_PROPOSE_DEDUP: ix must not
 * be NULL; it keeps a copy of a new representative, so out stays the caller's to free). e is
 * not modified. On failure *out holds nothing to release and ix is unchanged.
 */
ACT_API ACT_NODISCARD int act_space_propose(act_space_index *ix, const act_expr *e,
                                            unsigned flags, act_space_proposal *out);
/* Frees what p owns and zeroes it; NULL, or a zeroed proposal, is a no-op. */
ACT_API void act_space_proposal_free(act_space_proposal *p);

#ifdef __cplusplus
}
#endif
#endif
