/* test_nn_dwconv.c -- the depthwise convolution's fast form (acti_dw_fwd / acti_dw_bwd: whole
 * rows per tap, or the whole plane per tap on small stride-1 planes) against its one-output-at-a-
 * time reference (acti_dw_*_ref), on odd shapes, strides, paddings and kernel sizes, with and
 * without bias and dx; and the fast form's bits the same on every ISA this CPU has and for any
 * split of the channels (threads split channels). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "nn/nn_impl.h"
#include "test.h"

typedef struct dw_bufs {
    float *y, *dx, *dw, *db;
} dw_bufs;

static float urand(uint64_t *s, double lo, double hi)
{
    return (float)(lo + (hi - lo) * acti_rng_uniform(s));
}

static void set(float *p, size_t n, float v)
{
    for (size_t i = 0; i < n; i++)
        p[i] = v;
}

/* |a - b| within tol times the scale of the terms summed (sum of |terms|, bounded by mag). */
static int near(float a, float b, double mag)
{
    return fabs((double)a - (double)b) <= 1e-5 * mag + 1e-6;
}

static void dw_one(int N, int C, int H, int W, int k, int stride, int pad, int bias, int with_dx)
{
    acti_dw_shape s = { (size_t)N, C, H, W, k, stride, pad, (H + 2 * pad - k) / stride + 1,
                        (W + 2 * pad - k) / stride + 1 };
    size_t nx = (size_t)N * (size_t)C * (size_t)(H * W);
    size_t ny = (size_t)N * (size_t)C * (size_t)(s.OH * s.OW), nw = (size_t)(C * k * k);
    float *x = malloc(nx * sizeof *x), *g = malloc(ny * sizeof *g);
    float *w = malloc(nw * sizeof *w), *b = malloc((size_t)C * sizeof *b);
    dw_bufs ref, cur, first;
    dw_bufs *all[3] = { &ref, &cur, &first };
    for (int i = 0; i < 3; i++) {
        all[i]->y = malloc(ny * sizeof(float));
        all[i]->dx = malloc(nx * sizeof(float));
        all[i]->dw = malloc(nw * sizeof(float));
        all[i]->db = malloc((size_t)C * sizeof(float));
    }
    uint64_t r = (uint64_t)(N * 1000003 + C * 7919 + H * 31 + W + k * 101 + stride * 13 + pad);
    for (size_t i = 0; i < nx; i++)
        x[i] = urand(&r, -2.0, 2.0);
    for (size_t i = 0; i < ny; i++)
        g[i] = urand(&r, -1.0, 1.0);
    for (size_t i = 0; i < nw; i++)
        w[i] = urand(&r, -1.0, 1.0);
    for (int c = 0; c < C; c++)
        b[c] = urand(&r, -0.5, 0.5);
    const float *bp = bias ? b : NULL;
    /* the reference; dx, dw and db start at 0.25: both forms accumulate */
    set(ref.dx, nx, 0.25f);
    set(ref.dw, nw, 0.25f);
    set(ref.db, (size_t)C, 0.25f);
    acti_dw_fwd_ref(&s, 0, C, x, w, bp, ref.y);
    acti_dw_bwd_ref(&s, 0, C, x, w, g, with_dx ? ref.dx : NULL, ref.dw, bias ? ref.db : NULL);
    act_isa isa0 = act_isa_get();
    int runs = 0;
    for (int isa = 0; isa < ACT_ISA_COUNT; isa++) {
        if (!act_isa_supported((act_isa)isa) || act_isa_set((act_isa)isa) != ACT_OK)
            continue;
        for (int split = 1; split <= 3; split += 2) {   /* channels in 1 or 3 ranges */
            set(cur.dx, nx, 0.25f);
            set(cur.dw, nw, 0.25f);
            set(cur.db, (size_t)C, 0.25f);
            for (int t = 0; t < split; t++) {
                int c0 = C * t / split, c1 = C * (t + 1) / split;
                acti_dw_fwd(&s, c0, c1, x, w, bp, cur.y);
                acti_dw_bwd(&s, c0, c1, x, w, g, with_dx ? cur.dx : NULL, cur.dw,
                            bias ? cur.db : NULL);
            }
            int bad = 0;
            double mx = 4.0 * k * k;   /* |terms| of one output <= 2 k^2 + |bias| */
            for (size_t i = 0; i < ny && !bad; i++)
                bad = !near(cur.y[i], ref.y[i], mx) ? 1 : 0;
            for (size_t i = 0; i < nx && !bad; i++)
                bad = !near(cur.dx[i], ref.dx[i], mx) ? 2 : 0;
            double mw = 2.0 * (double)N * s.OH * s.OW;   /* terms of one weight gradient */
            for (size_t i = 0; i < nw && !bad; i++)
                bad = !near(cur.dw[i], ref.dw[i], mw) ? 3 : 0;
            for (int c = 0; c < C && !bad; c++)
                bad = !near(cur.db[c], ref.db[c], mw) ? 4 : 0;
            CHECKF(!bad, "dwconv N %d C %d %dx%d k %d stride %d pad %d bias %d dx %d on %s, "
                   "%d ranges: %s differs from the reference", N, C, H, W, k, stride, pad, bias,
                   with_dx, act_isa_name((act_isa)isa), split,
                   bad == 1 ? "y" : bad == 2 ? "dx" : bad == 3 ? "dw" : "db");
            if (runs++ == 0) {
                memcpy(first.y, cur.y, ny * sizeof(float));
                memcpy(first.dx, cur.dx, nx * sizeof(float));
                memcpy(first.dw, cur.dw, nw * sizeof(float));
                memcpy(first.db, cur.db, (size_t)C * sizeof(float));
            } else {
                CHECKF(!memcmp(first.y, cur.y, ny * sizeof(float)) &&
                       !memcmp(first.dx, cur.dx, nx * sizeof(float)) &&
                       !memcmp(first.dw, cur.dw, nw * sizeof(float)) &&
                       !memcmp(first.db, cur.db, (size_t)C * sizeof(float)),
                       "dwconv N %d C %d %dx%d k %d stride %d pad %d: %s with %d ranges gives "
                       "other bits than the first run", N, C, H, W, k, stride, pad,
                       act_isa_name((act_isa)isa), split);
            }
        }
    }
    CHECK(act_isa_set(isa0) == ACT_OK);
    for (int i = 0; i < 3; i++) {
        free(all[i]->y);
        free(all[i]->dx);
        free(all[i]->dw);
        free(all[i]->db);
    }
    free(x);
    free(g);
    free(w);
    free(b);
}

void test_nn_dwconv_matches_reference(void)
{
    /* small planes (the flat form for stride 1) */
    dw_one(3, 5, 7, 7, 3, 1, 1, 1, 1);
    dw_one(2, 4, 14, 14, 3, 1, 1, 0, 1);
    dw_one(2, 3, 28, 28, 3, 1, 1, 1, 0);
    dw_one(2, 3, 4, 4, 3, 1, 1, 1, 1);
    dw_one(2, 3, 5, 9, 5, 1, 2, 1, 1);
    dw_one(2, 3, 6, 5, 3, 1, 0, 0, 1);
    dw_one(1, 2, 1, 1, 3, 1, 1, 1, 1);
    dw_one(2, 3, 9, 7, 3, 1, 2, 1, 1);   /* pad past k - 1: the row form */
    /* strides 2 and 3 (the row form) */
    dw_one(2, 4, 14, 14, 3, 2, 1, 1, 1);
    dw_one(2, 3, 7, 7, 3, 2, 1, 0, 1);
    dw_one(2, 3, 9, 11, 5, 3, 2, 1, 1);
    /* a plane past the flat form's scratch (the row form), with rows longer than a block */
    dw_one(1, 2, 70, 70, 3, 1, 1, 1, 1);
    dw_one(1, 2, 3, 600, 3, 1, 1, 1, 1);
    dw_one(1, 1, 40, 40, 8, 1, 3, 1, 1);
}
