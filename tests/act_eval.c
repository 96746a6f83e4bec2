/* act_eval.c -- test helpers for the act tests (see act_eval.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act_eval.h"
#include "test.h"

/* Perturbed parameter sets: non-degenerate values, negative slopes and betas, the "original"
 * SMU presets, the section-7 test points (ACON-C 1.5/0.25/2, SMU 0.25/1, SMU-1 0.25/1). */
static const float act_psets[ACT_ACT_COUNT][2][ACT_ACT_MAX_PARAMS] = {
    [ACT_ACT_LEAKY_RELU] = { { 0.2f }, { 0.0f } },
    [ACT_ACT_PRELU]      = { { 0.6f }, { -0.25f } },
    [ACT_ACT_ELU]        = { { 0.7f }, { 1.3f } },
    [ACT_ACT_CELU]       = { { 1.8f }, { 0.5f } },
    [ACT_ACT_SOFTPLUS]   = { { 1.7f, 15.0f }, { -1.3f, 20.0f } },
    [ACT_ACT_SWISH]      = { { 1.6f }, { -0.8f } },
    [ACT_ACT_ACON_A]     = { { 0.6f }, { 2.5f } },
    [ACT_ACT_ACON_B]     = { { 0.35f, 1.9f }, { -0.5f, 0.8f } },
    [ACT_ACT_ACON_C]     = { { 1.5f, 0.25f, 2.0f }, { -0.7f, 1.2f, 0.5f } },
    [ACT_ACT_SMU]        = { { 0.25f, 1.0f }, { 0.25f, 1e6f } },
    [ACT_ACT_SMU1]       = { { 0.25f, 1.0f }, { 0.25f, 4.352665993287951e-9f } },
};

void act_pset(act_act_id id, int set, float *p)
{
    const act_act_desc *d = act_act_info(id);
    for (int k = 0; k < ACT_ACT_MAX_PARAMS; k++)
        p[k] = k < d->n_params ? (set == 0 ? d->defaults[k] : act_psets[id][set - 1][k]) : 0.0f;
}

void act_eval(act_act_id id, const float *p, const float *x, size_t n, float *f, float *d,
              float *dp)
{
    const act_act_desc *desc = act_act_info(id);
    int np = desc->n_params;
    float *one = malloc(n * sizeof *one);
    for (size_t i = 0; i < n; i++)
        one[i] = 1.0f;
    int rc = act_act_forward(id, p, 0, x, f, act_shape_flat(n));
    CHECKF(rc == ACT_OK, "act_eval %s: forward: %s", desc->name, act_strerror(rc));
    float sdp[ACT_ACT_MAX_PARAMS] = { 0 };
    rc = act_act_backward(id, p, ACT_DX_ASSIGN, x, one, d, sdp, act_shape_flat(n));
    CHECKF(rc == ACT_OK, "act_eval %s: backward: %s", desc->name, act_strerror(rc));
    if (dp && np > 0) {
        float *pc = malloc((size_t)np * n * sizeof *pc);
        for (int k = 0; k < np; k++)
            for (size_t i = 0; i < n; i++)
                pc[(size_t)k * n + i] = p[k];
        float *tmp = malloc(n * sizeof *tmp);
        memset(dp, 0, (size_t)np * n * sizeof *dp);
        act_shape s = { 1, n, 1 };
        rc = act_act_backward(id, pc, ACT_PER_CHANNEL | ACT_DX_ASSIGN, x, one, tmp, dp, s);
        CHECKF(rc == ACT_OK, "act_eval %s: per-channel backward: %s", desc->name,
               act_strerror(rc));
        free(tmp);
        free(pc);
    }
    free(one);
}

double act_tol(double rv, double t, double xs, int strict)
{
    double a = fabs(rv);
    double tol = a >= 1e-6 ? 1e-6 * a : 1e-12;
    if (!strict)
        tol += 8.0 * 0x1p-24 * (fabs(t) + fabs(xs));
    return tol;
}

int act_ok(double got, double rv, double tol)
{
    if (isnan(rv))
        return isnan(got);
    if (isnan(got))
        return 0;
    if (fabs(rv) > 3.4028234663852886e38)           /* beyond FLT_MAX: must be inf */
        return isinf(got) && (got > 0) == (rv > 0);
    if (isinf(got))
        return 0;
    return fabs(got - rv) <= tol;
}
