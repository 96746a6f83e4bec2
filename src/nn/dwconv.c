/* dwconv.c -- depthwise k x k convolution (one filter per channel; stride, padding, optional
 * bias): the kernels used by FReLU / ACON-FReLU and a standalone layer. Threads split channels,
 * so every weight gradient has one writer. A reference (one output at a time, acti_dw_*_ref)
 * and the fast form the layers use (whole rows per kernel tap), tested against it. */
#include <string.h>

#include "actlab/act.h"
#include "nn/layers.h"

enum { W, B };

enum { DW_L = 16,        /* lanes of the weight and bias gradient sums */
       DW_ACC = 4096 };  /* floats of column sums per block (16 KB of stack) */

// ----------------------------------------------------------------------------
// the reference: one output (and its gradient terms) at a time

void acti_dw_fwd_ref(const acti_dw_shape *s, int c0, int c1, const float *x, const float *w,
                     const float *b, float *y)
{
    size_t ihw = (size_t)s->H * (size_t)s->W, ohw = (size_t)s->OH * (size_t)s->OW;
    for (size_t n = 0; n < s->N; n++)
        for (int c = c0; c < c1; c++) {
            const float *xp = x + (n * (size_t)s->C + (size_t)c) * ihw;
            const float *wc = w + (size_t)c * (size_t)(s->k * s->k);
            float *yp = y + (n * (size_t)s->C + (size_t)c) * ohw;
            float bias = b ? b[c] : 0.0f;
            for (int oh = 0; oh < s->OH; oh++)
                for (int ow = 0; ow < s->OW; ow++) {
                    float acc = bias;
                    for (int kh = 0; kh < s->k; kh++) {
                        int ih = oh * s->stride - s->pad + kh;
                        if (ih < 0 || ih >= s->H)
                            continue;
                        for (int kw = 0; kw < s->k; kw++) {
                            int iw = ow * s->stride - s->pad + kw;
                            if (iw >= 0 && iw < s->W)
                                acc += wc[kh * s->k + kw] * xp[ih * s->W + iw];
                        }
                    }
                    yp[oh * s->OW + ow] = acc;
                }
        }
}

void acti_dw_bwd_ref(const acti_dw_shape *s, int c0, int c1, const float *x, const float *w,
                     const float *dy, float *dx, float *dw, float *db)
{
    size_t ihw = (size_t)s->H * (size_t)s->W, ohw = (size_t)s->OH * (size_t)s->OW;
    int kk = s->k * s->k;
    for (int c = c0; c < c1; c++) {
        const float *wc = w + (size_t)c * (size_t)kk;
        float gw[64], gb = 0.0f;   /* k <= 8 */
        memset(gw, 0, sizeof gw);
        for (size_t n = 0; n < s->N; n++) {
            const float *xp = x + (n * (size_t)s->C + (size_t)c) * ihw;
            const float *gp = dy + (n * (size_t)s->C + (size_t)c) * ohw;
            float *dxp = dx ? dx + (n * (size_t)s->C + (size_t)c) * ihw : NULL;
            for (int oh = 0; oh < s->OH; oh++)
                for (int ow = 0; ow < s->OW; ow++) {
                    float g = gp[oh * s->OW + ow];
                    gb += g;
                    for (int kh = 0; kh < s->k; kh++) {
                        int ih = oh * s->stride - s->pad + kh;
                        if (ih < 0 || ih >= s->H)
                            continue;
                        for (int kw = 0; kw < s->k; kw++) {
                            int iw = ow * s->stride - s->pad + kw;
                            if (iw < 0 || iw >= s->W)
                                continue;
                            gw[kh * s->k + kw] += g * xp[ih * s->W + iw];
                            if (dxp)
                                dxp[ih * s->W + iw] += g * wc[kh * s->k + kw];
                        }
                    }
                }
        }
        for (int j = 0; j < kk; j++)
            dw[(size_t)c * (size_t)kk + (size_t)j] += gw[j];
        if (db)
            db[c] += gb;
    }
}

// ----------------------------------------------------------------------------
// the fast form: whole output rows, one kernel tap at a time
//
// For each output row and each tap (kh, kw), y[ow] += w * x[ow * stride - pad + kw] over the
// outputs whose input lies inside the row (no padding tests in the loop: it vectorises); dx
// takes the same terms the other way, the taps in the order kw = k-1..0 (the reference's order
// for one input). Small stride-1 planes go through the flat form below instead. The weight and
// bias gradients are sums over every output: first per tap and output column over the samples
// and rows (a block of columns at a time), then column ow into lane ow mod DW_L in column
// order, then the lanes in order. All of it is plain float arithmetic per element, so the bits
// do not depend on the vector width (the ISA) and, with threads splitting channels, not on the
// thread count; the sums are the reference's, added in another order.
// tests/test_nn_dwconv.c checks both forms against the reference and for the same bits on
// every ISA and channel split. Compiled three times (AVX-512, AVX2, baseline) from one source.

#define INL inline __attribute__((always_inline))

/* The output columns [lo, hi) whose input column ow * stride - pad + kw lies in [0, W). */
static INL void dw_cols(const acti_dw_shape *s, int kw, int *lo, int *hi)
{
    int a = s->pad - kw, b = s->W - 1 + s->pad - kw;
    int l = a > 0 ? (a + s->stride - 1) / s->stride : 0;
    int h = b < 0 ? 0 : b / s->stride + 1;
    h = h < s->OW ? h : s->OW;
    *lo = l;
    *hi = h > l ? h : l;
}

/* --- stride 1 on small planes: the whole plane as one flat loop per tap ---------------------
 * With the input zero-padded into xp (row stride Wp = W + 2P), output (oh, ow) sits at flat
 * index i = oh Wp + ow and tap (kh, kw) reads xp[i + kh Wp + kw]: one loop over
 * i < (OH - 1) Wp + OW per tap, the columns past OW computed and dropped. Short rows (7x7, 14x14
 * planes) then cost one long vector loop instead of a loop per row. Padding taps add w * 0. */
enum { DW_FLAT = 4096 };   /* floats per scratch plane (16 KB each, 4 on the stack) */

static INL int dw_flat_ok(const acti_dw_shape *s)
{
    size_t hp = (size_t)s->H + 2 * (size_t)s->pad, wp = (size_t)s->W + 2 * (size_t)s->pad;
    size_t gh = (size_t)s->H + (size_t)s->k - 1, gw = (size_t)s->W + (size_t)s->k - 1;
    return s->stride == 1 && s->pad <= s->k - 1 && hp * wp + 2 * DW_L <= DW_FLAT &&
           gh * gw + 2 * DW_L <= DW_FLAT;
}

/* dst (rows of width wd, zero border of b0 rows/columns before and b1 after, plus DW_L zeros
 * past the end) from src (h x w). */
static INL void dw_pad(float *dst, const float *src, int h, int w, int b0, int b1)
{
    int wd = w + b0 + b1, hd = h + b0 + b1;
    memset(dst, 0, ((size_t)hd * (size_t)wd + 2 * DW_L) * sizeof *dst);
    for (int r = 0; r < h; r++)
        memcpy(dst + (size_t)(r + b0) * (size_t)wd + b0, src + (size_t)r * (size_t)w,
               (size_t)w * sizeof *dst);
}

static INL void dw_fwd_flat(const acti_dw_shape *s, const float *xp, const float *wc,
                            float bias, float *yp, float *xs, float *ys)
{
    const int k = s->k, P = s->pad, Wp = s->W + 2 * P;
    const int L = (s->OH - 1) * Wp + s->OW;
    dw_pad(xs, xp, s->H, s->W, P, P);
    for (int i = 0; i < L; i++)
        ys[i] = bias;
    for (int kh = 0; kh < k; kh++)
        for (int kw = 0; kw < k; kw++) {
            const float *xo = xs + kh * Wp + kw;
            float wv = wc[kh * k + kw];
#pragma omp simd
            for (int i = 0; i < L; i++)
                ys[i] += wv * xo[i];
        }
    for (int oh = 0; oh < s->OH; oh++)
        memcpy(yp + (size_t)oh * (size_t)s->OW, ys + (size_t)oh * (size_t)Wp,
               (size_t)s->OW * sizeof *yp);
}

/* One sample's plane: the weight and bias gradient lanes (gl, gbl) and, with dxp, dx. The
 * gradient of output i is laid out as the forward's flat index (zero in the dropped columns, so
 * they add nothing); dx is the forward with the kernel turned round over dy padded by k-1-P. */
static INL void dw_bwd_flat(const acti_dw_shape *s, const float *xp, const float *gp,
                            const float *wc, float *dxp, float (*gl)[DW_L], float *gbl,
                            float *xs, float *gs, float *ts)
{
    const int k = s->k, P = s->pad, Wp = s->W + 2 * P;
    const int L = (s->OH - 1) * Wp + s->OW, L16 = (L + DW_L - 1) / DW_L * DW_L;
    dw_pad(xs, xp, s->H, s->W, P, P);
    memset(gs, 0, (size_t)L16 * sizeof *gs);
    for (int oh = 0; oh < s->OH; oh++)
        memcpy(gs + (size_t)oh * (size_t)Wp, gp + (size_t)oh * (size_t)s->OW,
               (size_t)s->OW * sizeof *gs);
    for (int i0 = 0; i0 < L16; i0 += DW_L) {
#pragma omp simd
        for (int l = 0; l < DW_L; l++)
            gbl[l] += gs[i0 + l];
    }
    for (int kh = 0; kh < k; kh++)
        for (int kw = 0; kw < k; kw++) {
            const float *xo = xs + kh * Wp + kw;
            float a[DW_L];   /* in registers across the loop */
            memcpy(a, gl[kh * k + kw], sizeof a);
            for (int i0 = 0; i0 < L16; i0 += DW_L) {
#pragma omp simd
                for (int l = 0; l < DW_L; l++)
                    a[l] += gs[i0 + l] * xo[i0 + l];
            }
            memcpy(gl[kh * k + kw], a, sizeof a);
        }
    if (!dxp)
        return;
    const int Q = k - 1 - P, Gw = s->W + k - 1, M = (s->H - 1) * Gw + s->W;
    dw_pad(gs, gp, s->OH, s->OW, Q, Q);   /* dy padded: (H + k - 1) x (W + k - 1) */
    for (int i = 0; i < M; i++)
        ts[i] = 0.0f;
    for (int kh = 0; kh < k; kh++)
        for (int kw = 0; kw < k; kw++) {
            const float *go = gs + (k - 1 - kh) * Gw + (k - 1 - kw);
            float wv = wc[kh * k + kw];
#pragma omp simd
            for (int i = 0; i < M; i++)
                ts[i] += go[i] * wv;
        }
    for (int ih = 0; ih < s->H; ih++) {
        float *d = dxp + (size_t)ih * (size_t)s->W;
        const float *t = ts + (size_t)ih * (size_t)Gw;
#pragma omp simd
        for (int iw = 0; iw < s->W; iw++)
            d[iw] += t[iw];
    }
}

static INL void dw_fwd_body(const acti_dw_shape *s, int c0, int c1, const float *x,
                            const float *w, const float *b, float *y)
{
    size_t ihw = (size_t)s->H * (size_t)s->W, ohw = (size_t)s->OH * (size_t)s->OW;
    const int k = s->k, S = s->stride, P = s->pad;
    int lo[8], hi[8];
    for (int kw = 0; kw < k; kw++)
        dw_cols(s, kw, &lo[kw], &hi[kw]);
    const int flat = dw_flat_ok(s);
    float xs[DW_FLAT], ys[DW_FLAT];
    for (size_t n = 0; n < s->N; n++)
        for (int c = c0; c < c1; c++) {
            const float *xp = x + (n * (size_t)s->C + (size_t)c) * ihw;
            const float *wc = w + (size_t)c * (size_t)(k * k);
            float *yp = y + (n * (size_t)s->C + (size_t)c) * ohw;
            float bias = b ? b[c] : 0.0f;
            if (flat) {
                dw_fwd_flat(s, xp, wc, bias, yp, xs, ys);
                continue;
            }
            for (int oh = 0; oh < s->OH; oh++) {
                float *yr = yp + (size_t)oh * (size_t)s->OW;
                for (int ow = 0; ow < s->OW; ow++)
                    yr[ow] = bias;
                for (int kh = 0; kh < k; kh++) {
                    int ih = oh * S - P + kh;
                    if (ih < 0 || ih >= s->H)
                        continue;
                    const float *xr = xp + (size_t)ih * (size_t)s->W;
                    for (int kw = 0; kw < k; kw++) {
                        float wv = wc[kh * k + kw];
                        int o = kw - P;
                        if (S == 1) {
#pragma omp simd
                            for (int ow = lo[kw]; ow < hi[kw]; ow++)
                                yr[ow] += wv * xr[ow + o];
                        } else {
#pragma omp simd
                            for (int ow = lo[kw]; ow < hi[kw]; ow++)
                                yr[ow] += wv * xr[ow * S + o];
                        }
                    }
                }
            }
        }
}

static INL void dw_bwd_body(const acti_dw_shape *s, int c0, int c1, const float *x,
                            const float *w, const float *dy, float *dx, float *dw, float *db)
{
    size_t ihw = (size_t)s->H * (size_t)s->W, ohw = (size_t)s->OH * (size_t)s->OW;
    const int k = s->k, S = s->stride, P = s->pad, kk = k * k;
    const int bw = DW_ACC / kk / DW_L * DW_L;   /* columns per block: >= DW_L for k <= 8 */
    int lo[8], hi[8];
    for (int kw = 0; kw < k; kw++)
        dw_cols(s, kw, &lo[kw], &hi[kw]);
    float acc[DW_ACC], gbc[DW_ACC / DW_L];   /* per tap and column of a block; per column */
    const int flat = dw_flat_ok(s);
    float xs[DW_FLAT], gs[DW_FLAT], ts[DW_FLAT];
    for (int c = c0; c < c1; c++) {
        const float *wc = w + (size_t)c * (size_t)kk;
        float gl[64][DW_L], gbl[DW_L];   /* the lanes */
        memset(gl, 0, (size_t)kk * sizeof gl[0]);
        memset(gbl, 0, sizeof gbl);
        for (size_t n = 0; flat && n < s->N; n++) {
            size_t o = n * (size_t)s->C + (size_t)c;
            dw_bwd_flat(s, x + o * ihw, dy + o * ohw, wc, dx ? dx + o * ihw : NULL, gl, gbl, xs,
                        gs, ts);
        }
        for (int b0 = 0; !flat && b0 < s->OW; b0 += bw) {
            int m = s->OW - b0 < bw ? s->OW - b0 : bw;
            memset(acc, 0, (size_t)(kk * bw) * sizeof acc[0]);
            memset(gbc, 0, (size_t)m * sizeof gbc[0]);
            for (size_t n = 0; n < s->N; n++) {
                const float *xp = x + (n * (size_t)s->C + (size_t)c) * ihw;
                const float *gp = dy + (n * (size_t)s->C + (size_t)c) * ohw;
                float *dxp = dx && b0 == 0 ? dx + (n * (size_t)s->C + (size_t)c) * ihw : NULL;
                for (int oh = 0; oh < s->OH; oh++) {
                    const float *gr = gp + (size_t)oh * (size_t)s->OW;
#pragma omp simd
                    for (int j = 0; j < m; j++)
                        gbc[j] += gr[b0 + j];
                    for (int kh = 0; kh < k; kh++) {
                        int ih = oh * S - P + kh;
                        if (ih < 0 || ih >= s->H)
                            continue;
                        const float *xr = xp + (size_t)ih * (size_t)s->W;
                        float *dr = dxp ? dxp + (size_t)ih * (size_t)s->W : NULL;
                        for (int kw = 0; kw < k; kw++) {   /* the column sums of this tap */
                            int l0 = lo[kw] > b0 ? lo[kw] : b0;
                            int l1 = hi[kw] < b0 + m ? hi[kw] : b0 + m;
                            float *a = acc + (kh * k + kw) * bw - b0;
                            int o = kw - P;
                            if (S == 1) {
#pragma omp simd
                                for (int ow = l0; ow < l1; ow++)
                                    a[ow] += gr[ow] * xr[ow + o];
                            } else {
#pragma omp simd
                                for (int ow = l0; ow < l1; ow++)
                                    a[ow] += gr[ow] * xr[ow * S + o];
                            }
                        }
                        for (int kw = k - 1; dr && kw >= 0; kw--) {   /* dx: the reference's order */
                            float wv = wc[kh * k + kw];
                            int o = kw - P;
                            if (S == 1) {
#pragma omp simd
                                for (int ow = lo[kw]; ow < hi[kw]; ow++)
                                    dr[ow + o] += gr[ow] * wv;
                            } else {
#pragma omp simd
                                for (int ow = lo[kw]; ow < hi[kw]; ow++)
                                    dr[ow * S + o] += gr[ow] * wv;
                            }
                        }
                    }
                }
            }
            for (int t = 0; t < kk; t++)   /* column b0 + j into lane (b0 + j) mod DW_L */
                for (int j = 0; j < m; j++)
                    gl[t][j % DW_L] += acc[t * bw + j];
            for (int j = 0; j < m; j++)
                gbl[j % DW_L] += gbc[j];
        }
        for (int t = 0; t < kk; t++) {
            float sum = 0.0f;
            for (int l = 0; l < DW_L; l++)
                sum += gl[t][l];
            dw[(size_t)c * (size_t)kk + (size_t)t] += sum;
        }
        if (db) {
            float sum = 0.0f;
            for (int l = 0; l < DW_L; l++)
                sum += gbl[l];
            db[c] += sum;
        }
    }
}

#if defined(__x86_64__) || defined(__i386__)
#define DW_X86 1
__attribute__((target("avx512f"))) static void dw_fwd512(const acti_dw_shape *s, int c0,
                                                         int c1, const float *x,
                                                         const float *w, const float *b,
                                                         float *y)
{
    dw_fwd_body(s, c0, c1, x, w, b, y);
}

__attribute__((target("avx2"))) static void dw_fwd256(const acti_dw_shape *s, int c0, int c1,
                                                      const float *x, const float *w,
                                                      const float *b, float *y)
{
    dw_fwd_body(s, c0, c1, x, w, b, y);
}

__attribute__((target("avx512f"))) static void dw_bwd512(const acti_dw_shape *s, int c0,
                                                         int c1, const float *x,
                                                         const float *w, const float *dy,
                                                         float *dx, float *dw, float *db)
{
    dw_bwd_body(s, c0, c1, x, w, dy, dx, dw, db);
}

__attribute__((target("avx2"))) static void dw_bwd256(const acti_dw_shape *s, int c0, int c1,
                                                      const float *x, const float *w,
                                                      const float *dy, float *dx, float *dw,
                                                      float *db)
{
    dw_bwd_body(s, c0, c1, x, w, dy, dx, dw, db);
}
#endif

static void dw_fwd_base(const acti_dw_shape *s, int c0, int c1, const float *x, const float *w,
                        const float *b, float *y)
{
    dw_fwd_body(s, c0, c1, x, w, b, y);
}

static void dw_bwd_base(const acti_dw_shape *s, int c0, int c1, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, float *db)
{
    dw_bwd_body(s, c0, c1, x, w, dy, dx, dw, db);
}

void acti_dw_fwd(const acti_dw_shape *s, int c0, int c1, const float *x, const float *w,
                 const float *b, float *y)
{
#ifdef DW_X86
    act_isa isa = act_isa_get();
    if (isa == ACT_ISA_AVX512) {
        dw_fwd512(s, c0, c1, x, w, b, y);
        return;
    }
    if (isa == ACT_ISA_AVX2) {
        dw_fwd256(s, c0, c1, x, w, b, y);
        return;
    }
#endif
    dw_fwd_base(s, c0, c1, x, w, b, y);
}

void acti_dw_bwd(const acti_dw_shape *s, int c0, int c1, const float *x, const float *w,
                 const float *dy, float *dx, float *dw, float *db)
{
#ifdef DW_X86
    act_isa isa = act_isa_get();
    if (isa == ACT_ISA_AVX512) {
        dw_bwd512(s, c0, c1, x, w, dy, dx, dw, db);
        return;
    }
    if (isa == ACT_ISA_AVX2) {
        dw_bwd256(s, c0, c1, x, w, dy, dx, dw, db);
        return;
    }
#endif
    dw_bwd_base(s, c0, c1, x, w, dy, dx, dw, db);
}

// ----------------------------------------------------------------------------
// the layer

static acti_dw_shape dw_shape(const act_net *net, const acti_layer *l, size_t n)
{
    const acti_tensor *ti = &net->tensors[l->in0], *to = &net->tensors[l->out];
    acti_dw_shape s = { n, ti->c, ti->h, ti->w, l->k, l->stride, l->pad, to->h, to->w };
    return s;
}

int acti_dwconv_add(act_net *net, int in, int k, int stride, int pad, int bias)
{
    const acti_tensor src = net->tensors[in];
    if (k < 1 || k > 8 || stride < 1 || pad < 0)
        return ACT_EINVAL;
    int oh = (src.h + 2 * pad - k) / stride + 1, ow = (src.w + 2 * pad - k) / stride + 1;
    if (src.h + 2 * pad < k || src.w + 2 * pad < k)
        return ACT_ESHAPE;
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_DWCONV, in, &l);
    if (li < 0)
        return li;
    l->k = k;
    l->stride = stride;
    l->pad = pad;
    l->bn = bias;
    l->oc = src.c;
    l->p[W] = acti_param_new(net, li, "w", (size_t)src.c * (size_t)(k * k),
                             ACT_SEG_LEARN | ACT_SEG_DECAY, ACTI_INIT_HE, (size_t)(k * k));
    if (bias)
        net->layers[li].p[B] = acti_param_new(net, li, "b", (size_t)src.c, ACT_SEG_LEARN,
                                              ACTI_INIT_BIAS, (size_t)(k * k));
    int t = acti_tensor_new(net, src.c, oh, ow);
    net->layers[li].out = t;
    return t;
}

int acti_dwconv_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    acti_dw_shape s = dw_shape(net, l, n);
    const float *b = l->bn ? acti_P(net, l, B) : NULL;
    int T = net->threads;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t lo, hi;
        acti_nn_range((size_t)s.C, ACTI_TID(), ACTI_NT(), &lo, &hi);
        acti_dw_fwd(&s, (int)lo, (int)hi, acti_val(net, l->in0), acti_P(net, l, W), b,
                    acti_val(net, l->out));
    }
    return ACT_OK;
}

int acti_dwconv_backward(act_net *net, acti_layer *l, size_t n)
{
    acti_dw_shape s = dw_shape(net, l, n);
    float *db = l->bn ? acti_G(net, l, B) : NULL;
    float *dx = net->tensors[l->in0].needs_grad ? acti_grad(net, l->in0) : NULL;
    int T = net->threads;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t lo, hi;
        acti_nn_range((size_t)s.C, ACTI_TID(), ACTI_NT(), &lo, &hi);
        acti_dw_bwd(&s, (int)lo, (int)hi, acti_val(net, l->in0), acti_P(net, l, W),
                    acti_grad(net, l->out), dx, acti_G(net, l, W), db);
    }
    return ACT_OK;
}
