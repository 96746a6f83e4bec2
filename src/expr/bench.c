/* bench.c -- act_expr_bench_fn: forward/backward timing of any act_fn on the calling thread,
 * the helper behind `actlab expr bench` (and for `actlab bench --expr`). */
#include <stdlib.h>
#include <time.h>

#include "actlab/expr.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int act_expr_bench_fn(const act_fn *f, size_t n, int reps, double *fwd_ns, double *bwd_ns)
{
    if (!f || !f->forward || !f->backward || n == 0 || reps < 1 || !fwd_ns || !bwd_ns)
        return ACT_EINVAL;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    float *dy = malloc(n * sizeof *dy), *dx = malloc(n * sizeof *dx);
    int rc = ACT_ENOMEM;
    if (!x || !y || !dy || !dx)
        goto done;
    uint64_t s = 12345;
    for (size_t i = 0; i < n; i++) {            /* roughly N(0, 1): sum of 4 uniforms */
        double u = 0.0;
        for (int k = 0; k < 4; k++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            u += (double)(s >> 11) * 0x1.0p-53;
        }
        x[i] = (float)((u - 2.0) * 1.7320508075688772);
        dy[i] = 1.0f;
        dx[i] = 0.0f;
    }
    float dp[ACT_FN_MAX_PARAMS] = { 0 };
    act_shape sh = act_shape_flat(n);
    double bf = 1e30, bb = 1e30;
    for (int r = 0; r <= reps; r++) {          /* r = 0 is the warm-up */
        double t0 = now_s();
        if ((rc = f->forward(f, NULL, 0, x, y, sh)) != ACT_OK)
            goto done;
        double t1 = now_s();
        if ((rc = f->backward(f, NULL, ACT_DX_ASSIGN, x, dy, dx, dp, sh)) != ACT_OK)
            goto done;
        double t2 = now_s();
        if (r > 0) {
            bf = t1 - t0 < bf ? t1 - t0 : bf;
            bb = t2 - t1 < bb ? t2 - t1 : bb;
        }
    }
    *fwd_ns = bf * 1e9 / (double)n;
    *bwd_ns = bb * 1e9 / (double)n;
    rc = ACT_OK;
done:
    free(x);
    free(y);
    free(dy);
    free(dx);
    return rc;
}
