/* ref_conv.h -- naive double-precision reference convolution (tests only): NCHW, OC x C x k x k
 * weights, stride s, zero padding p; no shared code with src/nn. */
#ifndef ACTLAB_REF_CONV_H
#define ACTLAB_REF_CONV_H

#include <stddef.h>

typedef struct ref_conv_shape { int N, C, H, W, OC, k, s, p, OH, OW; } ref_conv_shape;

/* y = conv(x, w) + b (b may be NULL); ay (may be NULL): the sum of |terms| of each output. */
void ref_conv_fwd(const ref_conv_shape *sh, const float *x, const float *w, const float *b,
                  double *y, double *ay);

/* dx, dw, db of L = sum dy . y, overwritten; adx, adw (may be NULL): the sums of |terms|. */
void ref_conv_bwd(const ref_conv_shape *sh, const float *x, const float *w, const float *dy,
                  double *dx, double *adx, double *dw, double *adw, double *db);

#endif
