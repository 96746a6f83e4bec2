/* ref_conv.c -- the naive reference convolution of ref_conv.h. */
#include <math.h>
#include <string.h>

#include "ref_conv.h"

void ref_conv_fwd(const ref_conv_shape *sh, const float *x, const float *w, const float *b,
                  double *y, double *ay)
{
    int C = sh->C, H = sh->H, W = sh->W, OC = sh->OC, k = sh->k, OH = sh->OH, OW = sh->OW;
    for (int n = 0; n < sh->N; n++)
        for (int o = 0; o < OC; o++)
            for (int i = 0; i < OH; i++)
                for (int j = 0; j < OW; j++) {
                    double acc = b ? (double)b[o] : 0.0, a = fabs(acc);
                    for (int c = 0; c < C; c++)
                        for (int u = 0; u < k; u++)
                            for (int v = 0; v < k; v++) {
                                int ih = i * sh->s - sh->p + u, iw = j * sh->s - sh->p + v;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                    continue;
                                double t = (double)w[((o * C + c) * k + u) * k + v] *
                                           (double)x[((n * C + c) * H + ih) * W + iw];
                                acc += t;
                                a += fabs(t);
                            }
                    size_t q = ((size_t)(n * OC + o) * (size_t)OH + (size_t)i) * (size_t)OW +
                               (size_t)j;
                    y[q] = acc;
                    if (ay)
                        ay[q] = a;
                }
}

void ref_conv_bwd(const ref_conv_shape *sh, const float *x, const float *w, const float *dy,
                  double *dx, double *adx, double *dw, double *adw, double *db)
{
    int C = sh->C, H = sh->H, W = sh->W, OC = sh->OC, k = sh->k, OH = sh->OH, OW = sh->OW;
    size_t nx = (size_t)sh->N * (size_t)(C * H * W), nw = (size_t)(OC * C * k * k);
    memset(dx, 0, nx * sizeof *dx);
    memset(dw, 0, nw * sizeof *dw);
    memset(db, 0, (size_t)OC * sizeof *db);
    if (adx)
        memset(adx, 0, nx * sizeof *adx);
    if (adw)
        memset(adw, 0, nw * sizeof *adw);
    for (int n = 0; n < sh->N; n++)
        for (int o = 0; o < OC; o++)
            for (int i = 0; i < OH; i++)
                for (int j = 0; j < OW; j++) {
                    double g = (double)dy[((n * OC + o) * OH + i) * OW + j];
                    db[o] += g;
                    for (int c = 0; c < C; c++)
                        for (int u = 0; u < k; u++)
                            for (int v = 0; v < k; v++) {
                                int ih = i * sh->s - sh->p + u, iw = j * sh->s - sh->p + v;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                    continue;
                                size_t xi = (size_t)((n * C + c) * H + ih) * (size_t)W + (size_t)iw;
                                size_t wi = (size_t)(((o * C + c) * k + u) * k + v);
                                dw[wi] += g * (double)x[xi];
                                dx[xi] += g * (double)w[wi];
                                if (adw)
                                    adw[wi] += fabs(g * (double)x[xi]);
                                if (adx)
                                    adx[xi] += fabs(g * (double)w[wi]);
                            }
                }
}
