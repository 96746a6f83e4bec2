/* conv2d.c -- 2-D convolution (stride, padding, optional bias) by im2col + sgemm over chunks of
 * samples: the columns of a chunk of B samples form one (C*K*K, B*OH*OW) matrix, so each GEMM is
 * (OC x B*OH*OW x C*K*K) instead of one small GEMM per sample; outputs are scattered back to NCHW.
 * Backward per chunk: wgrad as one GEMM (computed transposed, (CKK x OC) = col dy^T: OpenBLAS
 * runs the (OC x CKK) form with its long K at 37 GFLOPS for OC = 16, the transposed at 91), dgrad as one GEMM + col2im. Chunks are sized so a
 * thread's scratch stays near conv_chunk_floats; samples are split across the thread team and
 * weight gradients reduced in thread order. 1x1 stride-1 convs are direct per-sample GEMMs.
 * References: conv_ref / conv_ref_bwd in tests/test_nn_grad.c. */
#include <string.h>

#include "nn/layers.h"

enum { W, B };

static int conv_direct(const acti_layer *l) { return l->k == 1 && l->stride == 1 && l->pad == 0; }

/* Winograd (winograd.c) for both passes of this layer (one rule: it measured faster for both) */
static int conv_wino(const act_net *net, const acti_layer *l, const acti_tensor *ti)
{
    return acti_wino_ok(l->k, l->stride, l->pad, ti->h, ti->w) &&
           acti_wino_use(net->cfg.conv_algo, ti->c, l->oc, ti->h, ti->w, l->pad);
}

/* direct 3x3 kernel (conv3x3.c) for the forward pass (dx = 0) or the input gradient (dx = 1) */
static int conv_3x3(const acti_layer *l, const acti_tensor *ti, int dx)
{
    return l->k == 3 && l->stride == 1 && l->pad == 1 &&
           acti_conv3x3_ok(ti->c, l->oc, ti->h, ti->w, dx);
}

int acti_conv_add(act_net *net, int in, int oc, int k, int stride, int pad, int bias)
{
    const acti_tensor src = net->tensors[in];
    if (k < 1 || stride < 1 || pad < 0 || oc < 1 || k > 64 || oc > 65536)
        return ACT_EINVAL;
    int oh = (src.h + 2 * pad - k) / stride + 1, ow = (src.w + 2 * pad - k) / stride + 1;
    if (src.h + 2 * pad < k || src.w + 2 * pad < k || oh < 1 || ow < 1)
        return ACT_ESHAPE;
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_CONV, in, &l);
    if (li < 0)
        return li;
    size_t ckk = (size_t)src.c * (size_t)k * (size_t)k;
    l->oc = oc;
    l->k = k;
    l->stride = stride;
    l->pad = pad;
    l->bn = bias;
    l->p[W] = acti_param_new(net, li, "w", (size_t)oc * ckk, ACT_SEG_LEARN | ACT_SEG_DECAY,
                             ACTI_INIT_HE, ckk);
    if (bias)
        net->layers[li].p[B] = acti_param_new(net, li, "b", (size_t)oc, ACT_SEG_LEARN,
                                              ACTI_INIT_BIAS, ckk);
    /* Per thread: col (CKK, B*OHW), reused for dcol, and a (OC, B*OHW) output / dy buffer. */
    size_t per = (ckk + (size_t)oc) * (size_t)oh * (size_t)ow;
    size_t chunk = net->conv_chunk_floats / per;
    if (chunk < 1)
        chunk = 1;
    if (chunk > net->cfg.max_batch)
        chunk = net->cfg.max_batch;
    if (chunk > 4096)
        chunk = 4096;
    l->chunk = (int)chunk;
    if (!(k == 1 && stride == 1 && pad == 0))
        acti_need_col(net, chunk * per);
    if (k == 3 && stride == 1 && pad == 1)   /* packed weights of the direct kernel */
        acti_need_col(net, (size_t)oc * ckk + ACTI_CONV3X3_MASK_FLOATS);
    if (acti_wino_ok(k, stride, pad, src.h, src.w) && net->cfg.conv_algo != ACT_CONV_GEMM) {
        acti_need_col(net, acti_wino_floats(src.c, oc, src.h, src.w, pad));
        acti_need_shared(net, acti_wino_u_floats(src.c, oc));
    }
    acti_need_red(net, (size_t)oc * ckk + (size_t)oc);
    int t = acti_tensor_new(net, oc, oh, ow);
    net->layers[li].out = t;
    return t;
}

/* Output columns [lo, hi) of a row read input columns ow*s - pad + kw inside [0, W). */
static void ow_range(int kw, int s, int pad, int iw, int OW, int *lo, int *hi)
{
    int a = pad - kw, e = iw + pad - kw;
    int l = a > 0 ? (a + s - 1) / s : 0;
    int h = e > 0 ? (e + s - 1) / s : 0;
    if (h > OW)
        h = OW;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

// x (C, H, W) -> col (C*K*K, OH*OW) with row stride ld (the sample's columns of a chunk)
static void im2col(const float *x, float *col, size_t ld, int C, int H, int Wd, int k, int s,
                   int pad, int OH, int OW)
{
    for (int kw = 0; kw < k; kw++) {
        int lo, hi;
        ow_range(kw, s, pad, Wd, OW, &lo, &hi);
        for (int c = 0; c < C; c++)
            for (int kh = 0; kh < k; kh++) {
                float *dst = col + (size_t)((c * k + kh) * k + kw) * ld;
                const float *xc = x + (size_t)c * (size_t)H * (size_t)Wd;
                for (int oh = 0; oh < OH; oh++, dst += OW) {
                    int ih = oh * s - pad + kh;
                    if (ih < 0 || ih >= H) {
                        memset(dst, 0, (size_t)OW * sizeof(float));
                        continue;
                    }
                    const float *src = xc + (size_t)ih * (size_t)Wd - pad + kw;
                    for (int ow = 0; ow < lo; ow++)
                        dst[ow] = 0.0f;
                    if (s == 1) {
                        memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof(float));
                    } else {
                        for (int ow = lo; ow < hi; ow++)
                            dst[ow] = src[ow * s];
                    }
                    for (int ow = hi; ow < OW; ow++)
                        dst[ow] = 0.0f;
                }
            }
    }
}

// col (C*K*K, OH*OW), row stride ld, added into dx (C, H, W)
static void col2im(const float *col, size_t ld, float *dx, int C, int H, int Wd, int k, int s,
                   int pad, int OH, int OW)
{
    for (int c = 0; c < C; c++)
        for (int kh = 0; kh < k; kh++)
            for (int kw = 0; kw < k; kw++) {
                int lo, hi;
                ow_range(kw, s, pad, Wd, OW, &lo, &hi);
                const float *src = col + (size_t)((c * k + kh) * k + kw) * ld;
                float *xc = dx + (size_t)c * (size_t)H * (size_t)Wd;
                for (int oh = 0; oh < OH; oh++, src += OW) {
                    int ih = oh * s - pad + kh;
                    if (ih < 0 || ih >= H)
                        continue;
                    float *dst = xc + (size_t)ih * (size_t)Wd - pad + kw;
                    if (s == 1) {
                        for (int ow = lo; ow < hi; ow++)
                            dst[ow] += src[ow];
                    } else {
                        for (int ow = lo; ow < hi; ow++)
                            dst[ow * s] += src[ow];
                    }
                }
            }
}

/* Forward of samples [lo, hi) by one thread (col: its scratch, holding the direct kernel's
 * packed weights when d3). */
static void fwd_samples(act_net *net, acti_layer *l, size_t lo, size_t hi, float *col,
                        const float *u, int d3)
{
    const acti_tensor *ti = &net->tensors[l->in0], *to = &net->tensors[l->out];
    const float *x = acti_val(net, l->in0), *w = acti_P(net, l, W);
    const float *b = l->bn ? acti_P(net, l, B) : NULL;
    float *y = acti_val(net, l->out);
    int ckk = ti->c * l->k * l->k, ohw = to->h * to->w, oc = l->oc, direct = conv_direct(l);
    if (u) {   /* Winograd, with the transformed weights */
        acti_wino_fwd(x + lo * ti->size, u, b, y + lo * to->size, hi - lo, ti->c, oc, ti->h,
                      ti->w, l->pad, col);
        return;
    }
    if (d3) {
        for (size_t i = lo; i < hi; i++)
            acti_conv3x3_fwd(x + i * ti->size, col, b, y + i * to->size, ti->c, oc, ti->h,
                             ti->w);
        return;
    }
    for (size_t i0 = lo; i0 < hi; i0 += direct ? 1 : (size_t)l->chunk) {
        size_t nb = direct ? 1 : hi - i0 < (size_t)l->chunk ? hi - i0 : (size_t)l->chunk;
        size_t ld = nb * (size_t)ohw;
        float *yi = y + i0 * to->size;
        if (direct) {
            acti_gemm(net, 0, 1, 0, 0, oc, ohw, ckk, 1.0f, w, ckk, x + i0 * ti->size, ohw, 0.0f,
                      yi, ohw);
        } else {
            for (size_t j = 0; j < nb; j++)
                im2col(x + (i0 + j) * ti->size, col + j * (size_t)ohw, ld, ti->c, ti->h, ti->w,
                       l->k, l->stride, l->pad, to->h, to->w);
            /* one sample: its (OC, OHW) output is already NCHW */
            float *out = nb == 1 ? yi : col + (size_t)ckk * ld;
            acti_gemm(net, 0, 1, 0, 0, oc, (int)ld, ckk, 1.0f, w, ckk, col, (int)ld, 0.0f, out,
                      (int)ld);
            if (nb > 1) {
                for (size_t j = 0; j < nb; j++)
                    for (int o = 0; o < oc; o++)
                        memcpy(yi + j * to->size + (size_t)o * (size_t)ohw,
                               out + (size_t)o * ld + j * (size_t)ohw,
                               (size_t)ohw * sizeof(float));
            }
        }
        for (size_t j = 0; b && j < nb; j++)
            for (int o = 0; o < oc; o++) {
                float *r = yi + j * to->size + (size_t)o * (size_t)ohw;
                for (int p = 0; p < ohw; p++)
                    r[p] += b[o];
            }
    }
}

// x (N, C, H, W); w (OC, C, K, K); y (N, OC, OH, OW)
int acti_conv_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    const acti_tensor *ti = &net->tensors[l->in0];
    int wino = conv_wino(net, l, ti), d3 = !wino && conv_3x3(l, ti, 0), T = net->threads;
    int Q = acti_n_groups(n);
    float *u = wino ? acti_ws(net, net->ws_shared) : NULL;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        int tid = ACTI_TID();
        size_t q0, q1;   /* whole sample groups: the same GEMM calls for any thread count */
        acti_nn_range((size_t)Q, tid, ACTI_NT(), &q0, &q1);
        float *col = acti_ws(net, net->ws_col) + (size_t)tid * net->col_floats;
        if (d3 && q0 < q1)
            acti_conv3x3_pack(acti_P(net, l, W), col, ti->c, l->oc, ti->h, ti->w, 0);
        if (wino) {
#pragma omp single
            acti_wino_weights(acti_P(net, l, W), u, ti->c, l->oc, 0);
        }
        for (size_t q = q0; q < q1; q++) {
            size_t lo, hi;
            acti_nn_range(n, (int)q, Q, &lo, &hi);
            if (lo < hi)
                fwd_samples(net, l, lo, hi, col, u, d3);
        }
    }
    return ACT_OK;
}

/* Backward of samples [lo, hi) by one thread: dx, and the weight and bias gradients of these
 * samples added to mdw (CKK, OC) and mdb (OC), one group's slot (col: the thread's scratch,
 * holding the direct kernels' packed weights when d3). */
static void bwd_samples(act_net *net, acti_layer *l, size_t lo, size_t hi, float *col,
                        float *mdw, const float *ut, int wino, int d3)
{
    const acti_tensor *ti = &net->tensors[l->in0], *to = &net->tensors[l->out];
    const float *x = acti_val(net, l->in0), *w = acti_P(net, l, W);
    const float *dy = acti_grad(net, l->out);
    float *dx = acti_grad(net, l->in0);
    int db = l->bn, ckk = ti->c * l->k * l->k, ohw = to->h * to->w, oc = l->oc;
    int need_dx = ti->needs_grad, direct = conv_direct(l);
    float *mdb = mdw + (size_t)oc * (size_t)ckk;
    for (size_t j = lo; db && j < hi; j++)   /* the bias gradient, sample by sample */
        for (int o = 0; o < oc; o++) {
            const float *r = dy + j * to->size + (size_t)o * (size_t)ohw;
            float s = 0.0f;
            for (int p = 0; p < ohw; p++)
                s += r[p];
            mdb[o] += s;
        }
    if (wino && lo < hi) {
        acti_wino_bwd(x + lo * ti->size, ut, dy + lo * to->size,
                      need_dx ? dx + lo * ti->size : NULL, mdw, hi - lo, ti->c, oc, ti->h,
                      ti->w, l->pad, col);
    }
    if (wino)
        lo = hi;
    for (size_t i0 = lo; i0 < hi; i0 += direct ? 1 : (size_t)l->chunk) {
        size_t nb = direct ? 1 : hi - i0 < (size_t)l->chunk ? hi - i0 : (size_t)l->chunk;
        size_t ld = nb * (size_t)ohw;
        const float *dyi = dy + i0 * to->size;
        if (direct) {
            const float *xi = x + i0 * ti->size;
            acti_gemm(net, 0, 1, 0, 1, ckk, oc, ohw, 1.0f, xi, ohw, dyi, ohw, 1.0f, mdw, oc);
            if (need_dx)
                acti_gemm(net, 0, 1, 1, 0, ckk, ohw, oc, 1.0f, w, ckk, dyi, ohw, 1.0f,
                          dx + i0 * ti->size, ohw);
            continue;
        }
        if (d3) {
            acti_conv3x3_dw(x + i0 * ti->size, dyi, col, mdw, ti->size, to->size, (int)nb,
                            ti->c, oc, ti->h, ti->w);
            for (size_t j = 0; need_dx && j < nb; j++)
                acti_conv3x3_dx(dyi + j * to->size, col, dx + (i0 + j) * ti->size, ti->c, oc,
                                ti->h, ti->w);
            continue;
        }
        /* dy of the chunk as one (OC, B*OHW) matrix */
        const float *dyc = dyi;
        if (nb > 1) {
            float *g = col + (size_t)ckk * ld;
            for (size_t j = 0; j < nb; j++)
                for (int o = 0; o < oc; o++)
                    memcpy(g + (size_t)o * ld + j * (size_t)ohw,
                           dyi + j * to->size + (size_t)o * (size_t)ohw,
                           (size_t)ohw * sizeof(float));
            dyc = g;
        }
        for (size_t j = 0; j < nb; j++)
            im2col(x + (i0 + j) * ti->size, col + j * (size_t)ohw, ld, ti->c, ti->h, ti->w,
                   l->k, l->stride, l->pad, to->h, to->w);
        acti_gemm(net, 0, 1, 0, 1, ckk, oc, (int)ld, 1.0f, col, (int)ld, dyc, (int)ld, 1.0f,
                  mdw, oc);
        if (!need_dx)
            continue;
        /* col is dead after the weight gradient: it takes dcol (CKK, B*OHW) */
        acti_gemm(net, 0, 1, 1, 0, ckk, (int)ld, oc, 1.0f, w, ckk, dyc, (int)ld, 0.0f, col,
                  (int)ld);
        for (size_t j = 0; j < nb; j++)
            col2im(col + j * (size_t)ohw, ld, dx + (i0 + j) * ti->size, ti->c, ti->h, ti->w,
                   l->k, l->stride, l->pad, to->h, to->w);
    }
}

int acti_conv_backward(act_net *net, acti_layer *l, size_t n)
{
    const acti_tensor *ti = &net->tensors[l->in0];
    float *dw = acti_G(net, l, W), *db = l->bn ? acti_G(net, l, B) : NULL;
    int ckk = ti->c * l->k * l->k, oc = l->oc, T = net->threads;
    int wino = conv_wino(net, l, ti), d3 = !wino && conv_3x3(l, ti, 1);
    size_t nw = (size_t)oc * (size_t)ckk, nred = nw + (size_t)oc;
    float *red = acti_ws(net, net->ws_red);
    int Q = wino ? acti_n_groups_min(n, acti_wino_group_min(ti->h, ti->w, l->pad))
                 : acti_n_groups(n);
    int need_dx = ti->needs_grad;
    float *ut = wino && need_dx ? acti_ws(net, net->ws_shared) : NULL;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        int tid = ACTI_TID(), nt = ACTI_NT();
        size_t q0, q1;   /* whole sample groups, each summing into its own slot */
        acti_nn_range((size_t)Q, tid, nt, &q0, &q1);
        float *col = acti_ws(net, net->ws_col) + (size_t)tid * net->col_floats;
        if (d3 && q0 < q1)   /* the direct kernels' weights and masks; col is not used else */
            acti_conv3x3_pack(acti_P(net, l, W), col, ti->c, oc, ti->h, ti->w, 1);
        if (ut) {
#pragma omp single
            acti_wino_weights(acti_P(net, l, W), ut, ti->c, oc, 1);
        }
        for (size_t q = q0; q < q1; q++) {
            size_t lo, hi;
            acti_nn_range(n, (int)q, Q, &lo, &hi);
            float *mdw = red + q * net->red_floats;
            memset(mdw, 0, nred * sizeof(float));
            if (lo < hi)
                bwd_samples(net, l, lo, hi, col, mdw, ut, wino, d3);
        }
#pragma omp barrier
        /* dw (OC, CKK) += the groups' (CKK, OC) partial sums, in group order */
        size_t a, z;
        acti_nn_range((size_t)oc, tid, nt, &a, &z);
        for (int k = 0; k < Q; k++) {
            const float *src = red + (size_t)k * net->red_floats;
            for (size_t o = a; o < z; o++) {
                float *d = dw + o * (size_t)ckk;
                for (size_t q = 0; q < (size_t)ckk; q++)
                    d[q] += src[q * (size_t)oc + o];
                if (db)
                    db[o] += src[nw + o];
            }
        }
    }
    return ACT_OK;
}
