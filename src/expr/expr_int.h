/* expr_int.h -- internals of the expression module: the node arena (hash-consed, so equal
 * subtrees are one node), the builder used by the parser, the canonicaliser and the search space,
 * and the compiled program.
 *
 * Contract with src/search. The search space (src/search/space.c) builds expression trees from
 * templates and matches trees against them; it may use only the section "tree API for
 * src/search" below: parse a template, create a tree, add leaves, copy a subtree with holes and
 * parameters renumbered, read a node, get and set the root. It defines ACTI_EXPR_TREE_API before
 * including this header, which hides everything else (the fields of struct act_expr, the
 * builder's other calls, the compiled program), so the compiler enforces the contract. The
 * section's calls keep their meaning as long as the tree is a topologically sorted node array
 * (children before parents) with hash-consing; a change to that is a change to the contract.
 */
#ifndef ACTLAB_EXPR_INT_H
#define ACTLAB_EXPR_INT_H

#include <stdint.h>

#include "actlab/expr.h"

// ----------------------------------------------------------------------------
// tree API for src/search

/* One tree node. Children are indices of EARLIER nodes, so the array is topologically sorted.
 * Read through acti_expr_node(); the arena's nodes are never modified once added. */
typedef struct acti_enode {
    int32_t op;                         /* act_expr_op */
    int32_t a, b;                       /* operand indices, -1 if unused */
    int32_t k;                          /* POWI exponent, PARAM/HOLE index, ACT id; else 0 */
    float   c;                          /* CONST value; else 0 */
    float   p[ACT_ACT_MAX_PARAMS];      /* ACT parameters (defaults filled); else 0 */
    int32_t depth;                      /* 1 for leaves */
} acti_enode;

/* An empty tree (root -1, default eps and initial values), owned by the caller (act_expr_free);
 * NULL on ENOMEM. */
act_expr *acti_expr_new(void);

/* Parses src; with allow_holes, the template placeholders x1, x2 are HOLE 0, 1 (search space
 * templates). The tree is owned by the caller, as act_expr_parse. */
ACT_NODISCARD int acti_expr_parse(const char *src, int allow_holes, act_expr **out, act_diag *diag);

/* Adds (or finds: equal nodes are one) a leaf; returns its index, or a negative act_status
 * (ENOMEM, ELIMIT). */
ACT_NODISCARD int acti_expr_leaf(act_expr *e, act_expr_op op, int k, float c);

/* Copies the subtree at index i of src into dst, mapping HOLE j to hole[j] (if hole != NULL)
 * and PARAM j to pmap[j] (if pmap != NULL). Returns the index in dst or a negative status. */
ACT_NODISCARD int acti_expr_copy(act_expr *dst, const act_expr *src, int i, const int *hole,
                                 const int *pmap);

/* Node i of e (0 <= i < act_expr_n_nodes(e)), owned by e and valid until the next node is
 * added. */
const acti_enode *acti_expr_node(const act_expr *e, int i);

/* The root's index (-1 while empty); setting it to an existing node: ACT_OK, else ACT_EINVAL. */
int acti_expr_root(const act_expr *e);
ACT_NODISCARD int acti_expr_set_root(act_expr *e, int i);

#ifndef ACTI_EXPR_TREE_API
// ----------------------------------------------------------------------------
// the arena (src/expr only)

struct act_expr {
    acti_enode *node;
    int         n, cap;
    int32_t    *ht;                     /* open-addressing hash of node -> index, -1 empty */
    int         ht_cap;
    int         root;                   /* -1 while empty */
    float       eps;
    float       init[ACT_EXPR_MAX_PARAMS];
};

/* arity of an op (0, 1 or 2) and whether it is written as a call */
int  acti_expr_arity(act_expr_op op);

/* Adds (or finds) a node; returns its index, or a negative act_status (ENOMEM, ELIMIT). */
ACT_NODISCARD int acti_expr_add(act_expr *e, const acti_enode *nd);
ACT_NODISCARD int acti_expr_un(act_expr *e, act_expr_op op, int a, int k);
ACT_NODISCARD int acti_expr_bin(act_expr *e, act_expr_op op, int a, int b);

/* Scalar double-precision evaluation of one op on operand values (constant folding). */
double acti_expr_eval1(const acti_enode *nd, double a, double b, double eps);

// ----------------------------------------------------------------------------
// compiled program

/*
 * X(ID, name) -- fused instructions: patterns of tree ops that compile.c rewrites into one
 * instruction (fewer passes over a block, no buffers for the intermediates). They exist only in
 * compiled programs; their math is exactly that of the ops they replace (same operations, same
 * order), so forward values do not change.
 *   MULF  y = a * F(z), z = b * c3 (or z = b when c3 < 0); F = sigmoid or tanh (k holds the
 *         tree op); aux keeps F(z) for backward. Covers x*sigmoid(beta*x), sigmoid(x1)*x2,
 *         x*tanh(beta*x), x*sigmoid(x). Lowered (acti_instr.swish) when F = sigmoid, c3 == a
 *         (one operand u) and b is a CONST, EPS or PARAM leaf: the float evaluator then runs
 *         y = u sigmoid(b u) per block as the built-in swish kernel with beta = b (one fused
 *         pass, the kernel's sigmoid: forward within ~1e-6 relative of the unlowered value, not
 *         bitwise), wherever b's block buffer is a constant fill; the double evaluator does not.
 *   MAXF  y = max(a, F(b)) (order 0) or max(F(b), a) (order 1), NaN-propagating with ties to the
 *         first argument as MAX; F and aux as MULF. Covers max(x, sigmoid(x)).
 *   MINF  the same with min.
 *   FMA   y = a * b + c3 (rounded twice, as the tree: no contraction)
 */
#define ACTI_FUSED_LIST(X) \
    X(MULF, "mulf")        \
    X(MAXF, "maxf")        \
    X(MINF, "minf")        \
    X(FMA,  "fma")

/* every instruction op: the tree ops (same values as act_expr_op), then the fused ones */
typedef enum acti_iop {
#define X(ID, name, arity, call) ACTI_OP_##ID,
    ACT_EXPR_OP_LIST(X)
#undef X
#define X(ID, name) ACTI_OP_##ID,
    ACTI_FUSED_LIST(X)
#undef X
    ACTI_OP_COUNT
} acti_iop;

/* gflags of an instruction, for each operand slot (a, b, c3): FIRST: the first gradient written
 * into that operand's buffer in backward order, so it assigns instead of accumulating (no zeroing
 * pass); ALIAS: also the only one, and the contribution is the instruction's own gradient, so
 * the operand's gradient buffer simply points at it (no pass at all). */
#define ACTI_G_FIRST_A 0x1
#define ACTI_G_FIRST_B 0x2
#define ACTI_G_FIRST_C 0x4
#define ACTI_G_ALIAS_A 0x8
#define ACTI_G_ALIAS_B 0x10
#define ACTI_G_ALIAS_C 0x20             /* ACTI_G_ALIAS_x == 8 * ACTI_G_FIRST_x */

typedef struct acti_instr {
    int32_t op;                         /* acti_iop */
    int32_t a, b, c3;                   /* operand indices, -1 if unused (c3: fused ops only) */
    int32_t k;                          /* as acti_enode.k; MULF: the op F */
    float   c;
    float   p[ACT_ACT_MAX_PARAMS];
    int32_t need_grad;                  /* depends on x or a parameter */
    int32_t aux;                        /* index of an extra block buffer (MULF, MAXF, MINF: the
                                         * gate F), else -1 */
    int32_t order;                      /* MAXF, MINF: 1 if the gate is the first argument */
    int32_t gflags;                     /* ACTI_G_* */
    int32_t live;                       /* backward reads this forward value (its own backward,
                                         * or one that computes a value read): backward's
                                         * forward pass evaluates only these; a gated op that
                                         * is not live recomputes its gate in backward */
    int32_t swish;                      /* MULF lowered to the built-in swish kernel (above) */
} acti_instr;

/* Compiles e; fuse = 0 keeps one instruction per tree node (tests compare the two). */
ACT_NODISCARD int acti_expr_compile(const act_expr *e, int fuse, act_expr_prog **out);

struct act_expr_prog {
    acti_instr *ins;
    int         n;
    int         n_params;
    int         input;                  /* index of the INPUT instruction, -1 if none */
    int         n_aux;                  /* extra block buffers (acti_instr.aux) */
    float       eps;
    float       init[ACT_EXPR_MAX_PARAMS];
    char       *text;
    char        pname[ACT_EXPR_MAX_PARAMS][8];
};

#endif /* ACTI_EXPR_TREE_API */
#endif
