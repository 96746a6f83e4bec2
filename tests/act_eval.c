/* act_eval.c -- test helpers for the act tests (see act_eval.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act_eval.h"
#include "test.h"

/* Sets 1 and 2 move every parameter d away from its default, up and down through zero:
 *   up = d + (|d|/2 + 1/4),   down = d - (3|d|/4 + 1/2)
 * so beta = 1 becomes 1.75 and -0.25, a default of 0 becomes 0.25 and -0.5, a tiny one (SMU-1
 * mu = 4e-9) becomes 0.25 and -0.5 (large enough for the finite differences), a large one
 * (softplus threshold 20) 30.25 and 4.5. A parameter that must be nonzero (the list's nz column)
 * and lands on 0 takes 1/4. Nothing here names an activation: a new row is covered as it is. */
static float act_perturb(const act_act_desc *d, int k, int set)
{
    double v = d->defaults[k];
    float p = (float)(set == 1 ? v + (0.5 * fabs(v) + 0.25) : v - (0.75 * fabs(v) + 0.5));
    if (p == 0.0f && ((d->nonzero >> k) & 1u))
        p = 0.25f;
    return p;
}

/* the named presets beside "default" (act_act_preset_name 1, 2, ...) */
static int act_n_presets(act_act_id id)
{
    int n = 0;
    while (act_act_preset_name(id, n + 1) != NULL)
        n++;
    return n;
}

int act_n_psets(act_act_id id)
{
    const act_act_desc *d = act_act_info(id);
    if (!d)
        return 0;
    return d->n_params == 0 ? 1 : 3 + act_n_presets(id);
}

void act_pset(act_act_id id, int set, float *p)
{
    const act_act_desc *d = act_act_info(id);
    for (int k = 0; k < ACT_ACT_MAX_PARAMS; k++)
        p[k] = 0.0f;
    CHECKF(d && set >= 0 && set < act_n_psets(id), "act_pset: activation %d has no set %d",
           (int)id, set);
    if (!d || set < 0 || set >= act_n_psets(id))
        return;
    if (set <= 2) {
        for (int k = 0; k < d->n_params; k++)
            p[k] = set == 0 ? d->defaults[k] : act_perturb(d, k, set);
    } else {
        int rc = act_act_preset(id, act_act_preset_name(id, set - 2), p);
        CHECKF(rc == ACT_OK, "act_pset: %s preset %s: %s", d->name,
               act_act_preset_name(id, set - 2), act_strerror(rc));
    }
    int rc = act_act_check_params(id, p);
    CHECKF(rc == ACT_OK, "act_pset: %s set %d is not a valid parameter set", d->name, set);
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
