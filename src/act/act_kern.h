/* act_kern.h -- internal interface between the dispatcher (act.c) and the block kernels of each
 * ISA (act_avx2.c, act_avx512.c, generated from act_simd.h). A block kernel runs one contiguous
 * run of n elements that share one parameter set p; q holds values derived from p once per
 * call (act_prep.h): q[ACTI_Q_BIG] is the largest |x| the vector math handles, larger |x|,
 * inf and NaN lanes take the scalar reference (act_scalar.h). */
#ifndef ACTLAB_ACT_KERN_H
#define ACTLAB_ACT_KERN_H

#include <stddef.h>

#include "actlab/act.h"

#define ACTI_Q_MAX 8
#define ACTI_Q_BIG 7

/* y[i] = f(x[i]; p), i < n. y may alias x. */
typedef void acti_fwd_fn(const float *q, const float *p, const float *x, float *y, size_t n);
/* dx[i] (+)= dy[i] f'(x[i]); acc[k] += sum_i dy[i] df/dp_k (double; skipped if acc is NULL).
 * The summation order depends only on n: results are reproducible. */
typedef void acti_bwd_fn(const float *q, const float *p, const float *x, const float *dy,
                         float *dx, size_t n, int assign, double *acc);

/* Rows with a parameter set per position (per-channel layouts with a small inner size, e.g.
 * dense (N, C)): element j < L of row r is x[r*ld + j] and uses the parameters pt[k*L + j]
 * (k < ACT_ACT_MAX_PARAMS) and the derived constants qt[k*L + j] (k < ACTI_Q_MAX).
 * L <= ACTI_ROW_W. acc, if not NULL, is [np][L]: acc[k*L + j] += the sum over the rows of
 * dy df/dp_k at position j, in an order that depends only on rows and L. */
#define ACTI_ROW_W 256
typedef void acti_fwdr_fn(const float *qt, const float *pt, size_t L, const float *x, float *y,
                          size_t rows, size_t ld);
typedef void acti_bwdr_fn(const float *qt, const float *pt, size_t L, const float *x,
                          const float *dy, float *dx, size_t rows, size_t ld, int assign,
                          double *acc);

typedef struct acti_kern {
    acti_fwd_fn *fwd;
    acti_bwd_fn *bwd;
    acti_fwdr_fn *fwdr;
    acti_bwdr_fn *bwdr;
    acti_fwd_fn *fwdnt;   /* fwd with non-temporal stores of y (DRAM-sized n only) */
} acti_kern;

/* Indexed by act_act_id; the entries of rows without vector kernels (vec 0) are all NULL. */
extern const acti_kern acti_kern_avx2[ACT_ACT_COUNT];
extern const acti_kern acti_kern_avx512[ACT_ACT_COUNT];

/* The cost column of ACT_ACT_LIST (act.h). */
typedef enum acti_cost { ACTI_COST_MEM, ACTI_COST_MATH } acti_cost;

/* How act_act_forward / act_act_backward run id on n elements with the current ISA and thread
 * count (act.c; the tests check it against the list's cost and vec columns): the block kernels
 * (the ISA's if the row has vector kernels, else the scalar reference), the number of threads,
 * and whether a forward with scalar parameters stores y non-temporally (kern->fwdnt). */
typedef struct acti_plan {
    const acti_kern *kern;
    int              threads;
    int              nt;
} acti_plan;
acti_plan acti_act_plan(act_act_id id, size_t n);

/* q[0..ACTI_Q_MAX) = the derived constants of id's parameter set p (ACT_ACT_MAX_PARAMS floats),
 * as the dispatcher passes them to the block kernels. */
void acti_act_prep(act_act_id id, const float *p, float *q);

/* vmath blocks of the vector ISAs (every vmath.h function). */
typedef void acti_vm_fn(const float *x, float *y, size_t n);
typedef struct acti_vm {
    acti_vm_fn *exp, *expm1, *tanh, *sigmoid, *softplus, *erf, *erfc, *sqrt;
    acti_vm_fn *log, *log1p, *sin, *cos, *tan, *sinh, *cosh, *asinh, *atan;
} acti_vm;
extern const acti_vm acti_vm_avx2;
extern const acti_vm acti_vm_avx512;

#endif
