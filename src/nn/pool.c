/* pool.c -- max pooling and average pooling (k x k, stride; max pooling may pad, its windows
 * clipped to the plane; argmax kept for the backward pass, ties go to the first; 2x2 stride 2
 * forward in AVX-512 / AVX2), and global average pooling (N, C, H, W) -> (N, C). */
#include <stdint.h>
#include <string.h>

#include "actlab/act.h"
#include "nn/layers.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

enum { ARGMAX };

int acti_pool_add(act_net *net, acti_layer_kind kind, int in, int k, int stride, int pad)
{
    const acti_tensor src = net->tensors[in];
    if (pad < 0 || (pad > 0 && kind != ACTI_L_MAXPOOL) || pad > k / 2)
        return ACT_EINVAL;
    if (k < 1 || stride < 1 || src.h + 2 * pad < k || src.w + 2 * pad < k)
        return ACT_ESHAPE;
    acti_layer *l;
    int li = acti_layer_new(net, kind, in, &l);
    if (li < 0)
        return li;
    l->k = k;
    l->stride = stride;
    l->pad = pad;
    int oh = (src.h + 2 * pad - k) / stride + 1, ow = (src.w + 2 * pad - k) / stride + 1;
    int t = acti_tensor_new(net, src.c, oh, ow);
    if (t < 0)
        return t;
    if (kind == ACTI_L_MAXPOOL)
        net->layers[li].ws[ARGMAX] = acti_ws_new(net, net->cfg.max_batch * net->tensors[t].size);
    net->layers[li].out = t;
    return t;
}

/* One plane, any k, stride and pad: the reference. The window (clipped to the plane: pad <= k/2
 * leaves it at least one value) starts at its first value, replaced by each later value (row by
 * row) that is greater: ties go to the first, a NaN is kept only where it comes first (no
 * comparison with it is true). */
static void mp_fwd_ref(const float *xp, float *yp, int32_t *ap, int H, int W, int OH, int OW,
                       int k, int stride, int pad)
{
    for (int oh = 0; oh < OH; oh++) {
        int h0 = oh * stride - pad, h1 = h0 + k;
        h0 = h0 < 0 ? 0 : h0;
        h1 = h1 > H ? H : h1;
        for (int ow = 0; ow < OW; ow++) {
            int w0 = ow * stride - pad, w1 = w0 + k;
            w0 = w0 < 0 ? 0 : w0;
            w1 = w1 > W ? W : w1;
            int best = h0 * W + w0;
            float m = xp[best];
            for (int ih = h0; ih < h1; ih++)
                for (int iw = w0; iw < w1; iw++) {
                    int j = ih * W + iw;
                    if (xp[j] > m) {
                        m = xp[j];
                        best = j;
                    }
                }
            yp[oh * OW + ow] = m;
            ap[oh * OW + ow] = best;
        }
    }
}

static void mp_bwd_ref(const float *dyp, const int32_t *ap, float *dxp, int ohw)
{
    for (int o = 0; o < ohw; o++)
        dxp[ap[o]] += dyp[o];
}

#if defined(__x86_64__) || defined(__i386__)
#define T512 __attribute__((target("avx512f")))
#define T256 __attribute__((target("avx2")))

/* Plain loads and stores where 16 lanes stay inside the plane: the lanes past a row's end
 * read or write the next row of the same plane, which this thread rewrites later (store) or
 * never uses (load); masked ones only at the plane's end. */
static inline T512 __m512 ld512(const float *p, const float *end, __mmask16 m)
{
    return p + 16 <= end ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
}

/* 2x2 stride 2, 16 outputs per step: even and odd columns of the two input rows split by
 * permutes, then the reference's three comparisons in its order (greater-than, ordered: false
 * for NaN, like C's >). */
static T512 void mp2_fwd512(const float *xp, float *yp, int32_t *ap, int H, int W, int OH, int OW)
{
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    const float *xe = xp + (size_t)H * (size_t)W;
    const float *ye = yp + (size_t)OH * (size_t)OW;
    for (int oh = 0; oh < OH; oh++) {
        const float *r0 = xp + (size_t)(2 * oh) * (size_t)W, *r1 = r0 + W;
        for (int ow = 0; ow < OW; ow += 16) {
            int cnt = OW - ow < 16 ? OW - ow : 16, e = 2 * cnt;
            __mmask16 mo = (__mmask16)((1u << cnt) - 1u);
            __mmask16 m0 = (__mmask16)(e >= 16 ? 0xffffu : (1u << e) - 1u);
            __mmask16 m1 = (__mmask16)(e >= 32 ? 0xffffu : e > 16 ? (1u << (e - 16)) - 1u : 0u);
            __m512 a0 = ld512(r0 + 2 * ow, xe, m0), a1 = ld512(r0 + 2 * ow + 16, xe, m1);
            __m512 b0 = ld512(r1 + 2 * ow, xe, m0), b1 = ld512(r1 + 2 * ow + 16, xe, m1);
            __m512 x01 = _mm512_permutex2var_ps(a0, od, a1);
            __m512 x10 = _mm512_permutex2var_ps(b0, ev, b1);
            __m512 x11 = _mm512_permutex2var_ps(b0, od, b1);
            __m512 m = _mm512_permutex2var_ps(a0, ev, a1);
            __m512i base = _mm512_add_epi32(_mm512_set1_epi32(2 * oh * W + 2 * ow), ev);
            __m512i idx = base;
            __mmask16 k = _mm512_cmp_ps_mask(x01, m, _CMP_GT_OQ);
            m = _mm512_mask_mov_ps(m, k, x01);
            idx = _mm512_mask_add_epi32(idx, k, base, _mm512_set1_epi32(1));
            k = _mm512_cmp_ps_mask(x10, m, _CMP_GT_OQ);
            m = _mm512_mask_mov_ps(m, k, x10);
            idx = _mm512_mask_add_epi32(idx, k, base, _mm512_set1_epi32(W));
            k = _mm512_cmp_ps_mask(x11, m, _CMP_GT_OQ);
            m = _mm512_mask_mov_ps(m, k, x11);
            idx = _mm512_mask_add_epi32(idx, k, base, _mm512_set1_epi32(W + 1));
            float *y = yp + oh * OW + ow;
            int32_t *a = ap + oh * OW + ow;
            if (y + 16 <= ye) {
                _mm512_storeu_ps(y, m);
                _mm512_storeu_si512(a, idx);
            } else {
                _mm512_mask_storeu_ps(y, mo, m);
                _mm512_mask_storeu_epi32(a, mo, idx);
            }
        }
    }
}

static const int32_t ones_then_zeros[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

static inline T256 __m256i mask256(int r)   /* the first r lanes, 0 <= r <= 8 */
{
    return _mm256_loadu_si256((const __m256i *)(const void *)(ones_then_zeros + 8 - r));
}

static inline T256 __m256 gt_take(__m256 x, __m256 *m, __m256i *idx, __m256i cand)
{
    __m256 k = _mm256_cmp_ps(x, *m, _CMP_GT_OQ);
    *idx = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(*idx),
                                                _mm256_castsi256_ps(cand), k));
    return *m = _mm256_blendv_ps(*m, x, k);
}

static inline T256 __m256 ld256(const float *p, const float *end, __m256i m)
{
    return p + 8 <= end ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
}

/* The AVX2 forms of the two above: 8 outputs per step. */
static T256 void mp2_fwd256(const float *xp, float *yp, int32_t *ap, int H, int W, int OH, int OW)
{
    const __m256i ev = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const float *xe = xp + (size_t)H * (size_t)W;
    const float *ye = yp + (size_t)OH * (size_t)OW;
    for (int oh = 0; oh < OH; oh++) {
        const float *r0 = xp + (size_t)(2 * oh) * (size_t)W, *r1 = r0 + W;
        for (int ow = 0; ow < OW; ow += 8) {
            int cnt = OW - ow < 8 ? OW - ow : 8, e = 2 * cnt;
            __m256i mo = mask256(cnt), m0 = mask256(e < 8 ? e : 8), m1 = mask256(e < 8 ? 0 : e - 8);
            __m256 a0 = ld256(r0 + 2 * ow, xe, m0), a1 = ld256(r0 + 2 * ow + 8, xe, m1);
            __m256 b0 = ld256(r1 + 2 * ow, xe, m0), b1 = ld256(r1 + 2 * ow + 8, xe, m1);
            /* shuffle: (0 2 8 10 | 4 6 12 14), then 64-bit lanes (0 2 1 3) */
            __m256 m = _mm256_castpd_ps(_mm256_permute4x64_pd(
                _mm256_castps_pd(_mm256_shuffle_ps(a0, a1, 0x88)), 0xd8));
            __m256 x01 = _mm256_castpd_ps(_mm256_permute4x64_pd(
                _mm256_castps_pd(_mm256_shuffle_ps(a0, a1, 0xdd)), 0xd8));
            __m256 x10 = _mm256_castpd_ps(_mm256_permute4x64_pd(
                _mm256_castps_pd(_mm256_shuffle_ps(b0, b1, 0x88)), 0xd8));
            __m256 x11 = _mm256_castpd_ps(_mm256_permute4x64_pd(
                _mm256_castps_pd(_mm256_shuffle_ps(b0, b1, 0xdd)), 0xd8));
            __m256i base = _mm256_add_epi32(_mm256_set1_epi32(2 * oh * W + 2 * ow), ev);
            __m256i idx = base;
            gt_take(x01, &m, &idx, _mm256_add_epi32(base, _mm256_set1_epi32(1)));
            gt_take(x10, &m, &idx, _mm256_add_epi32(base, _mm256_set1_epi32(W)));
            gt_take(x11, &m, &idx, _mm256_add_epi32(base, _mm256_set1_epi32(W + 1)));
            float *y = yp + oh * OW + ow;
            int32_t *a = ap + oh * OW + ow;
            if (y + 8 <= ye) {
                _mm256_storeu_ps(y, m);
                _mm256_storeu_si256((void *)a, idx);
            } else {
                _mm256_maskstore_ps(y, mo, m);
                _mm256_maskstore_epi32(a, mo, idx);
            }
        }
    }
}

#define MP_X86 1
#endif

/* 2x2 stride 2 forward runs the vector kernels (bit-identical to the reference, tested); other
 * shapes and the scalar ISA the reference. Backward is the reference everywhere: vector forms
 * (merge-masked adds of dy over 16 columns) measured slower on cnn's 64x24x24 (1.45-1.8 vs
 * 1.2 ms per batch: the 16-lane chunk at a row's end overlaps the next row's). */
static int mp_vec(const acti_layer *l)
{
#ifdef MP_X86
    if (l->k == 2 && l->stride == 2 && l->pad == 0) {
        act_isa isa = act_isa_get();
        return isa == ACT_ISA_AVX512 ? 2 : isa == ACT_ISA_AVX2 ? 1 : 0;
    }
#else
    (void)l;
#endif
    return 0;
}

int acti_maxpool_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    const acti_tensor *ti = &net->tensors[l->in0], *to = &net->tensors[l->out];
    const float *x = acti_val(net, l->in0);
    float *y = acti_val(net, l->out);
    int32_t *arg = (int32_t *)(void *)acti_ws(net, l->ws[ARGMAX]);
    size_t planes = n * (size_t)ti->c, ihw = (size_t)ti->h * (size_t)ti->w;
    size_t ohw = (size_t)to->h * (size_t)to->w;
    int T = net->threads, v = mp_vec(l);
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (size_t p = 0; p < planes; p++) {
#ifdef MP_X86
        if (v == 2) {
            mp2_fwd512(x + p * ihw, y + p * ohw, arg + p * ohw, ti->h, ti->w, to->h, to->w);
            continue;
        }
        if (v == 1) {
            mp2_fwd256(x + p * ihw, y + p * ohw, arg + p * ohw, ti->h, ti->w, to->h, to->w);
            continue;
        }
#endif
        mp_fwd_ref(x + p * ihw, y + p * ohw, arg + p * ohw, ti->h, ti->w, to->h, to->w, l->k,
                   l->stride, l->pad);
    }
    return ACT_OK;
}

int acti_maxpool_backward(act_net *net, acti_layer *l, size_t n)
{
    const acti_tensor *ti = &net->tensors[l->in0], *to = &net->tensors[l->out];
    if (!ti->needs_grad)
        return ACT_OK;
    const float *dy = acti_grad(net, l->out);
    float *dx = acti_grad(net, l->in0);
    const int32_t *arg = (const int32_t *)(const void *)acti_ws(net, l->ws[ARGMAX]);
    size_t planes = n * (size_t)ti->c, ihw = (size_t)ti->h * (size_t)ti->w;
    size_t ohw = (size_t)to->h * (size_t)to->w;
    int T = net->threads, assign = (l->assign & 1u) != 0;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (size_t p = 0; p < planes; p++) {
        if (assign)   /* the first writer: clear the plane here, while it is in cache */
            memset(dx + p * ihw, 0, ihw * sizeof(float));
        mp_bwd_ref(dy + p * ohw, arg + p * ohw, dx + p * ihw, (int)ohw);
    }
    return ACT_OK;
}

int acti_avgpool_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    const acti_tensor *ti = &net->tensors[l->in0], *to = &net->tensors[l->out];
    const float *x = acti_val(net, l->in0);
    float *y = acti_val(net, l->out);
    size_t planes = n * (size_t)ti->c, ihw = (size_t)ti->h * (size_t)ti->w;
    size_t ohw = (size_t)to->h * (size_t)to->w;
    float inv = 1.0f / (float)(l->k * l->k);
    int T = net->threads;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (size_t p = 0; p < planes; p++)
        for (int oh = 0; oh < to->h; oh++)
            for (int ow = 0; ow < to->w; ow++) {
                float s = 0.0f;
                for (int kh = 0; kh < l->k; kh++)
                    for (int kw = 0; kw < l->k; kw++)
                        s += x[p * ihw + (size_t)((oh * l->stride + kh) * ti->w + ow * l->stride + kw)];
                y[p * ohw + (size_t)oh * (size_t)to->w + (size_t)ow] = s * inv;
            }
    return ACT_OK;
}

int acti_avgpool_backward(act_net *net, acti_layer *l, size_t n)
{
    const acti_tensor *ti = &net->tensors[l->in0], *to = &net->tensors[l->out];
    if (!ti->needs_grad)
        return ACT_OK;
    const float *dy = acti_grad(net, l->out);
    float *dx = acti_grad(net, l->in0);
    size_t planes = n * (size_t)ti->c, ihw = (size_t)ti->h * (size_t)ti->w;
    size_t ohw = (size_t)to->h * (size_t)to->w;
    float inv = 1.0f / (float)(l->k * l->k);
    int T = net->threads;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (size_t p = 0; p < planes; p++)
        for (int oh = 0; oh < to->h; oh++)
            for (int ow = 0; ow < to->w; ow++) {
                float g = dy[p * ohw + (size_t)oh * (size_t)to->w + (size_t)ow] * inv;
                for (int kh = 0; kh < l->k; kh++)
                    for (int kw = 0; kw < l->k; kw++)
                        dx[p * ihw + (size_t)((oh * l->stride + kh) * ti->w + ow * l->stride + kw)] += g;
            }
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// global average pooling

int acti_gap_add(act_net *net, int in)
{
    const acti_tensor src = net->tensors[in];
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_GAP, in, &l);
    if (li < 0)
        return li;
    int t = acti_tensor_new(net, src.c, 1, 1);
    net->layers[li].out = t;
    return t;
}

int acti_gap_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    (void)train;
    const acti_tensor *ti = &net->tensors[l->in0];
    const float *x = acti_val(net, l->in0);
    float *y = acti_val(net, l->out);
    size_t planes = n * (size_t)ti->c, hw = (size_t)ti->h * (size_t)ti->w;
    float inv = 1.0f / (float)hw;
    for (size_t p = 0; p < planes; p++) {
        float s = 0.0f;
        for (size_t j = 0; j < hw; j++)
            s += x[p * hw + j];
        y[p] = s * inv;
    }
    return ACT_OK;
}

int acti_gap_backward(act_net *net, acti_layer *l, size_t n)
{
    const acti_tensor *ti = &net->tensors[l->in0];
    const float *dy = acti_grad(net, l->out);
    float *dx = acti_grad(net, l->in0);
    size_t planes = n * (size_t)ti->c, hw = (size_t)ti->h * (size_t)ti->w;
    float inv = 1.0f / (float)hw;
    for (size_t p = 0; p < planes; p++) {
        float g = dy[p] * inv;
        if (l->assign & 1u)
            for (size_t j = 0; j < hw; j++)
                dx[p * hw + j] = g;
        else
            for (size_t j = 0; j < hw; j++)
                dx[p * hw + j] += g;
    }
    return ACT_OK;
}
