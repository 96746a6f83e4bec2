/* ref_act.h -- independent long-double reference for every activation (tests only):
 * straightforward textbook formulas (docs/activations.md, sources in docs/references.md), no
 * shared code with src/act. */
#ifndef ACTLAB_REF_ACT_H
#define ACTLAB_REF_ACT_H

#include "actlab/act.h"

typedef struct ref_val {
    double f, d, dp[ACT_ACT_MAX_PARAMS];     /* value, df/dx, df/dp_k */
    double tf, td, tdp[ACT_ACT_MAX_PARAMS];  /* sum of |terms| of each (>= |value|) */
} ref_val;

/* Evaluates activation id at float x with parameters p (n_params floats). +-inf x is
 * evaluated at +-1e300 (long double), which reaches every limit in float. */
void ref_act_eval(act_act_id id, float x, const float *p, ref_val *out);

#endif
