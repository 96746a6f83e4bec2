/* act_eval.h -- test helpers: evaluate the library per element (value, df/dx, df/dp_k),
 * parameter sets used across the act tests, and the accuracy bounds. */
#ifndef ACTLAB_ACT_EVAL_H
#define ACTLAB_ACT_EVAL_H

#include <stddef.h>

#include "actlab/act.h"
#include "ref_act.h"

/* The number of parameter sets of id: 1 without parameters; else the defaults, two sets derived
 * from them (every parameter moved up and down, within the list's constraints), and every
 * named preset beside "default". */
int act_n_psets(act_act_id id);

/* Parameter set `set` (0 default, 1 and 2 perturbed, 3... presets) of id into
 * p[ACT_ACT_MAX_PARAMS] (unused slots 0). A set out of range, or one that act_act_check_params
 * refuses, is a failed check. */
void act_pset(act_act_id id, int set, float *p);

/* f[i], d[i] and dp[k*n + i] at x[i] through the public kernels on the current ISA:
 * forward and backward (ACT_DX_ASSIGN, dy = 1) on a flat vector with scalar params, and the
 * per-element parameter gradients through the per-channel layout (1, n, 1). dp may be NULL. */
void act_eval(act_act_id id, const float *p, const float *x, size_t n, float *f, float *d,
              float *dp);

/* Allowed error of a float result against the long-double reference r (value rv, terms t,
 * sensitivity xs = |x * dr/dx|). strict: 1e-6 |r|, or 1e-12 where |r| < 1e-6. Otherwise also
 * + 8 * 2^-24 * (t + xs): the rounding of the summed terms and of the argument in float. */
double act_tol(double rv, double t, double xs, int strict);

/* 1 if got is acceptable for reference value rv within tol (NaN and infinities exact). */
int act_ok(double got, double rv, double tol);

#endif
