/* expr_int.h -- internals of the expression module shared by src/expr and src/search:
 * the node arena (hash-consed, so equal subtrees are one node), the builder used by the parser,
 * the canonicaliser and the search space, and the compiled program. */
#ifndef ACTLAB_EXPR_INT_H
#define ACTLAB_EXPR_INT_H

#include <stdint.h>

#include "actlab/expr.h"

/* One tree node. Children are indices of EARLIER nodes, so the array is topologically sorted. */
typedef struct acti_enode {
    int32_t op;                         /* act_expr_op */
    int32_t a, b;                       /* operand indices, -1 if unused */
    int32_t k;                          /* POWI exponent, PARAM/HOLE index, ACT id; else 0 */
    float   c;                          /* CONST value; else 0 */
    float   p[ACT_ACT_MAX_PARAMS];      /* ACT parameters (defaults filled); else 0 */
    int32_t depth;                      /* 1 for leaves */
} acti_enode;

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

act_expr *acti_expr_new(void);
/* Adds (or finds) a node; returns its index, or a negative act_status (ENOMEM, ELIMIT). */
int  acti_expr_add(act_expr *e, const acti_enode *nd);
int  acti_expr_leaf(act_expr *e, act_expr_op op, int k, float c);
int  acti_expr_un(act_expr *e, act_expr_op op, int a, int k);
int  acti_expr_bin(act_expr *e, act_expr_op op, int a, int b);
/* Copies the subtree at index i of src into dst, mapping HOLE j to hole[j] (if hole != NULL)
 * and PARAM j to pmap[j] (if pmap != NULL). Returns the index in dst or a negative status. */
int  acti_expr_copy(act_expr *dst, const act_expr *src, int i, const int *hole, const int *pmap);

/* Parse with template holes x1, x2 allowed (search space templates). */
int  acti_expr_parse(const char *src, int allow_holes, act_expr **out, act_diag *diag);

/* Scalar double-precision evaluation of one op on operand values (constant folding). */
double acti_expr_eval1(const acti_enode *nd, double a, double b, double eps);

// ----------------------------------------------------------------------------
// compiled program

typedef struct acti_instr {
    int32_t op, a, b, k;
    float   c;
    float   p[ACT_ACT_MAX_PARAMS];
    int32_t need_grad;                  /* depends on x or a parameter */
} acti_instr;

struct act_expr_prog {
    acti_instr *ins;
    int         n;
    int         n_params;
    int         input;                  /* index of the INPUT instruction, -1 if none */
    float       eps;
    float       init[ACT_EXPR_MAX_PARAMS];
    char       *text;
    char        pname[ACT_EXPR_MAX_PARAMS][8];
};

#endif
