/* conv3x3.c -- direct 3x3 stride-1 pad-1 convolution of one sample for small channel counts
 * (no im2col, no copies): each (H, W) plane is read as one flat vector of H*W positions; an
 * output block of OB channels x NV vectors of positions accumulates over the input channels and
 * the 9 taps with broadcast-weight FMAs, and a per-(vector, tap) lane mask zeroes the padding.
 * Serves the forward pass and the input gradient (the same conv of dy with the flipped kernel).
 * AVX-512 and AVX2+FMA versions chosen by act_isa_get(); returns 0 where it does not apply so
 * the caller falls back to the im2col path (the reference, tests/test_nn_grad.c). */
#include <stdint.h>
#include <string.h>

#include "actlab/act.h"
#include "nn/layers.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define D3_X86 1
#endif

enum { D3_MAXVEC = 512, D3_M16 = D3_MAXVEC * 9 / 2 };   /* planes up to 512 vectors */

/* One direct conv: out (CO, P) (+)= sum over in channels b and taps t of
 * w[a*sa + b*sb + (flip ? 8 - t : t)] * in (CI, P) shifted by tap t; P = h*w. The kernels read
 * the weights packed as (CO/OB, CI, 9, OB), so one block's broadcasts sit at fixed offsets. */
typedef struct d3_args {
    const float *in, *w, *bias;   /* w: the source of d3_pack, or the packed weights */
    float *out;
    size_t sa, sb;
    int ci, co, h, wd, flip, acc;
} d3_args;

static int d3_ob(void)
{
    return act_isa_get() == ACT_ISA_AVX512 ? 8 : 4;   /* OB512, OB256 */
}

static void d3_pack(const d3_args *a, float *pack)
{
    int ob = d3_ob();
    float *d = pack;
    for (int o0 = 0; o0 < a->co; o0 += ob)
        for (int b = 0; b < a->ci; b++)
            for (int t = 0; t < 9; t++)
                for (int o = 0; o < ob; o++)
                    *d++ = a->w[(size_t)(o0 + o) * a->sa + (size_t)b * a->sb +
                                (size_t)(a->flip ? 8 - t : t)];
}

/* bit j of m[q*9 + t]: lane j of vector q (width vw) reads a real input at tap t */
static void d3_masks(uint16_t *m, int h, int wd, int vw, int nvec)
{
    int P = h * wd;
    for (int q = 0; q < nvec; q++)
        for (int t = 0; t < 9; t++) {
            int dh = t / 3 - 1, dw = t % 3 - 1;
            unsigned bits = 0;
            for (int j = 0; j < vw; j++) {
                int p = q * vw + j, oh = p / wd, ow = p % wd;
                int ih = oh + dh, iw = ow + dw;
                if (p < P && ih >= 0 && ih < h && iw >= 0 && iw < wd)
                    bits |= 1u << j;
            }
            m[q * 9 + t] = (uint16_t)bits;
        }
}

#ifdef D3_X86
#define T512 __attribute__((target("avx512f,fma")))
#define T256 __attribute__((target("avx2,fma")))
#define INL  inline __attribute__((always_inline))

enum { OB512 = 8, NV512 = 3, OB256 = 4, NV256 = 3 };

/* out channels [o0, o0 + OB512), vectors [q0, q0 + nv) */
static INL T512 void blk512(const d3_args *a, const uint16_t *m, int o0, int q0, int nv)
{
    const int P = a->h * a->wd, W = a->wd;
    __m512 acc[OB512][NV512];
    __mmask16 mk[9][NV512];
#pragma GCC unroll 16
    for (int v = 0; v < NV512; v++)
#pragma GCC unroll 16
        for (int t = 0; t < 9; t++)
            mk[t][v] = v < nv ? (__mmask16)m[(q0 + v) * 9 + t] : 0;
#pragma GCC unroll 16
    for (int o = 0; o < OB512; o++)
#pragma GCC unroll 16
        for (int v = 0; v < NV512; v++)
            acc[o][v] = _mm512_setzero_ps();
    const float *wb = a->w + (size_t)o0 * (size_t)a->ci * 9;
    for (int b = 0; b < a->ci; b++, wb += 9 * OB512) {
        const float *xb = a->in + (size_t)b * (size_t)P + (size_t)q0 * 16;
#pragma GCC unroll 16
        for (int t = 0; t < 9; t++) {
            const int off = (t / 3 - 1) * W + (t % 3 - 1);
            __m512 xv[NV512];
#pragma GCC unroll 16
            for (int v = 0; v < NV512; v++)
                if (v < nv)
                    xv[v] = _mm512_maskz_loadu_ps(mk[t][v], xb + v * 16 + off);
#pragma GCC unroll 16
            for (int o = 0; o < OB512; o++) {
                __m512 wv = _mm512_set1_ps(wb[t * OB512 + o]);
#pragma GCC unroll 16
                for (int v = 0; v < NV512; v++)
                    if (v < nv)
                        acc[o][v] = _mm512_fmadd_ps(wv, xv[v], acc[o][v]);
            }
        }
    }
#pragma GCC unroll 16
    for (int o = 0; o < OB512; o++) {
        float *yo = a->out + (size_t)(o0 + o) * (size_t)P + (size_t)q0 * 16;
        __m512 bv = _mm512_set1_ps(a->bias ? a->bias[o0 + o] : 0.0f);
#pragma GCC unroll 16
        for (int v = 0; v < NV512; v++) {
            if (v >= nv)
                continue;
            int rem = P - (q0 + v) * 16;
            __mmask16 sm = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1u);
            __m512 r = a->acc ? _mm512_add_ps(_mm512_maskz_loadu_ps(sm, yo + v * 16), acc[o][v])
                              : _mm512_add_ps(acc[o][v], bv);
            _mm512_mask_storeu_ps(yo + v * 16, sm, r);
        }
    }
}

static T512 void run512(const d3_args *a, const uint16_t *m, int nvec)
{
    for (int q = 0; q < nvec; q += NV512)
        for (int o = 0; o < a->co; o += OB512) {
            if (nvec - q >= NV512)
                blk512(a, m, o, q, NV512);
            else if (nvec - q == 2)
                blk512(a, m, o, q, 2);
            else
                blk512(a, m, o, q, 1);
        }
}

/* Weight gradient, out channels [o0, o0 + nob) x in channel c x 9 taps over nb samples:
 * g[(c*9 + t)*co + o] += sum over n, p of dy[n][o][p] x[n][c][p shifted by t] */
static INL T512 void dw512(const float *x, const float *dy, float *g, const uint16_t *m,
                           size_t xs, size_t ys, int nb, int c, int o0, int nob, int co, int h,
                           int wd)
{
    const int P = h * wd, nvec = (P + 15) / 16;
    __m512 acc[3][9];
#pragma GCC unroll 16
    for (int o = 0; o < 3; o++)
#pragma GCC unroll 16
        for (int t = 0; t < 9; t++)
            acc[o][t] = _mm512_setzero_ps();
    for (int n = 0; n < nb; n++) {
        const float *xc = x + (size_t)n * xs + (size_t)c * (size_t)P;
        const float *yo = dy + (size_t)n * ys + (size_t)o0 * (size_t)P;
        for (int q = 0; q < nvec; q++) {
            int rem = P - q * 16;
            __mmask16 sm = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1u);
            __m512 dv[3];
#pragma GCC unroll 16
            for (int o = 0; o < 3; o++)
                if (o < nob)
                    dv[o] = _mm512_maskz_loadu_ps(sm, yo + (size_t)o * (size_t)P + q * 16);
#pragma GCC unroll 16
            for (int t = 0; t < 9; t++) {
                const int off = (t / 3 - 1) * wd + (t % 3 - 1);
                __m512 xv = _mm512_maskz_loadu_ps((__mmask16)m[q * 9 + t], xc + q * 16 + off);
#pragma GCC unroll 16
                for (int o = 0; o < 3; o++)
                    if (o < nob)
                        acc[o][t] = _mm512_fmadd_ps(dv[o], xv, acc[o][t]);
            }
        }
    }
#pragma GCC unroll 16
    for (int o = 0; o < 3; o++)
#pragma GCC unroll 16
        for (int t = 0; t < 9; t++)
            if (o < nob)
                g[(size_t)(c * 9 + t) * (size_t)co + (size_t)(o0 + o)] +=
                    _mm512_reduce_add_ps(acc[o][t]);
}

static T512 void rundw512(const float *x, const float *dy, float *g, const uint16_t *m,
                          size_t xs, size_t ys, int nb, int ci, int co, int h, int wd)
{
    for (int o0 = 0; o0 < co; o0 += 3)
        for (int c = 0; c < ci; c++) {
            if (co - o0 >= 3)
                dw512(x, dy, g, m, xs, ys, nb, c, o0, 3, co, h, wd);
            else if (co - o0 == 2)
                dw512(x, dy, g, m, xs, ys, nb, c, o0, 2, co, h, wd);
            else
                dw512(x, dy, g, m, xs, ys, nb, c, o0, 1, co, h, wd);
        }
}

static INL T256 __m256i mask256(unsigned bits)
{
    const __m256i sel = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), sel), sel);
}

/* m32: the masks as 8 x int32 per (vector, tap); inner: every lane's address lies in the
 * plane, so a plain load and an AND replace the (slower) masked load */
static INL T256 void blk256(const d3_args *a, const int32_t *m32, int o0, int q0, int nv,
                            int inner)
{
    const int P = a->h * a->wd, W = a->wd;
    __m256 acc[OB256][NV256];
#pragma GCC unroll 16
    for (int o = 0; o < OB256; o++)
#pragma GCC unroll 16
        for (int v = 0; v < NV256; v++)
            acc[o][v] = _mm256_setzero_ps();
    const float *wb = a->w + (size_t)o0 * (size_t)a->ci * 9;
    for (int b = 0; b < a->ci; b++, wb += 9 * OB256) {
        const float *xb = a->in + (size_t)b * (size_t)P + (size_t)q0 * 8;
#pragma GCC unroll 16
        for (int t = 0; t < 9; t++) {
            const int off = (t / 3 - 1) * W + (t % 3 - 1);
            __m256 xv[NV256];
#pragma GCC unroll 16
            for (int v = 0; v < NV256; v++)
                if (v < nv) {
                    __m256i mk = _mm256_loadu_si256((const __m256i *)(m32 + ((q0 + v) * 9 + t) * 8));
                    xv[v] = inner ? _mm256_and_ps(_mm256_loadu_ps(xb + v * 8 + off),
                                                  _mm256_castsi256_ps(mk))
                                  : _mm256_maskload_ps(xb + v * 8 + off, mk);
                }
#pragma GCC unroll 16
            for (int o = 0; o < OB256; o++) {
                __m256 wv = _mm256_broadcast_ss(wb + t * OB256 + o);
#pragma GCC unroll 16
                for (int v = 0; v < NV256; v++)
                    if (v < nv)
                        acc[o][v] = _mm256_fmadd_ps(wv, xv[v], acc[o][v]);
            }
        }
    }
#pragma GCC unroll 16
    for (int o = 0; o < OB256; o++) {
        float *yo = a->out + (size_t)(o0 + o) * (size_t)P + (size_t)q0 * 8;
        __m256 bv = _mm256_set1_ps(a->bias ? a->bias[o0 + o] : 0.0f);
#pragma GCC unroll 16
        for (int v = 0; v < NV256; v++) {
            if (v >= nv)
                continue;
            int rem = P - (q0 + v) * 8;
            __m256i sm = mask256(rem >= 8 ? 0xffu : (1u << rem) - 1u);
            __m256 r = a->acc ? _mm256_add_ps(_mm256_maskload_ps(yo + v * 8, sm), acc[o][v])
                              : _mm256_add_ps(acc[o][v], bv);
            _mm256_maskstore_ps(yo + v * 8, sm, r);
        }
    }
}

static INL T256 float hsum256(__m256 v)
{
    __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    a = _mm_add_ps(a, _mm_movehl_ps(a, a));
    a = _mm_add_ss(a, _mm_movehdup_ps(a));
    return _mm_cvtss_f32(a);
}

/* dw512 with 8 lanes and one out channel at a time (16 registers) */
static T256 void rundw256(const float *x, const float *dy, float *g, const int32_t *m32,
                          size_t xs, size_t ys, int nb, int ci, int co, int h, int wd)
{
    const int P = h * wd, nvec = (P + 7) / 8;
    for (int o = 0; o < co; o++)
        for (int c = 0; c < ci; c++) {
            __m256 acc[9];
#pragma GCC unroll 16
            for (int t = 0; t < 9; t++)
                acc[t] = _mm256_setzero_ps();
            for (int n = 0; n < nb; n++) {
                const float *xc = x + (size_t)n * xs + (size_t)c * (size_t)P;
                const float *yo = dy + (size_t)n * ys + (size_t)o * (size_t)P;
                for (int q = 0; q < nvec; q++) {
                    int rem = P - q * 8;
                    const int32_t *mq = m32 + q * 72;
                    if (rem >= 8 && q * 8 - wd - 1 >= 0 && q * 8 + 8 + wd + 1 <= P) {
                        __m256 dv = _mm256_loadu_ps(yo + q * 8);
#pragma GCC unroll 16
                        for (int t = 0; t < 9; t++) {
                            const int off = (t / 3 - 1) * wd + (t % 3 - 1);
                            __m256 mk = _mm256_castsi256_ps(
                                _mm256_loadu_si256((const __m256i *)(mq + t * 8)));
                            __m256 xv = _mm256_and_ps(_mm256_loadu_ps(xc + q * 8 + off), mk);
                            acc[t] = _mm256_fmadd_ps(dv, xv, acc[t]);
                        }
                        continue;
                    }
                    __m256 dv = _mm256_maskload_ps(yo + q * 8, mask256(rem >= 8 ? 0xffu : (1u << rem) - 1u));
#pragma GCC unroll 16
                    for (int t = 0; t < 9; t++) {
                        const int off = (t / 3 - 1) * wd + (t % 3 - 1);
                        __m256i mk = _mm256_loadu_si256((const __m256i *)(mq + t * 8));
                        __m256 xv = _mm256_maskload_ps(xc + q * 8 + off, mk);
                        acc[t] = _mm256_fmadd_ps(dv, xv, acc[t]);
                    }
                }
            }
#pragma GCC unroll 16
            for (int t = 0; t < 9; t++)
                g[(size_t)(c * 9 + t) * (size_t)co + (size_t)o] += hsum256(acc[t]);
        }
}

static T256 void run256(const d3_args *a, const int32_t *m32, int nvec)
{
    const int P = a->h * a->wd, W = a->wd;
    for (int q = 0; q < nvec; q += NV256) {
        int inner = q * 8 - W - 1 >= 0 && (q + NV256) * 8 + W + 1 <= P;
        for (int o = 0; o < a->co; o += OB256) {
            if (nvec - q >= NV256 && inner)
                blk256(a, m32, o, q, NV256, 1);
            else if (nvec - q >= NV256)
                blk256(a, m32, o, q, NV256, 0);
            else if (nvec - q == 2)
                blk256(a, m32, o, q, 2, 0);
            else
                blk256(a, m32, o, q, 1, 0);
        }
    }
}
#endif

static int d3_run(const d3_args *a)
{
#ifdef D3_X86
    act_isa isa = act_isa_get();
    int vw = isa == ACT_ISA_AVX512 ? 16 : isa == ACT_ISA_AVX2 ? 8 : 0;
    int ob = isa == ACT_ISA_AVX512 ? OB512 : OB256;
    int P = a->h * a->wd;
    if (!vw || a->co % ob != 0 || P < 1)
        return 0;
    int nvec = (P + vw - 1) / vw;
    if (nvec > D3_MAXVEC)
        return 0;
    /* the masks follow the packed weights (acti_conv3x3_pack) */
    const uint16_t *m = (const uint16_t *)(a->w + (size_t)a->ci * (size_t)a->co * 9);
    if (vw == 16)
        run512(a, m, nvec);
    else
        run256(a, (const int32_t *)(a->w + (size_t)a->ci * (size_t)a->co * 9 + D3_M16), nvec);
    return 1;
#else
    (void)a;
    return 0;
#endif
}

int acti_conv3x3_ok(int c, int oc, int h, int w, int dx)
{
#ifdef D3_X86
    act_isa isa = act_isa_get();
    int vw = isa == ACT_ISA_AVX512 ? 16 : isa == ACT_ISA_AVX2 ? 8 : 0;
    int ob = isa == ACT_ISA_AVX512 ? OB512 : OB256;
    int nout = dx ? c : oc;
    /* C < 8 (the stem): too few FMAs per block to pay for its masks and stores; the K = 9
     * GEMM measured 2.7x faster for C = 1 */
    /* AVX2 backward (one out channel per dw pass) measured slower than im2col on 14x14 and 7x7
     * planes (resnet:3 32x14x14 69 vs 58 ms, 64x7x7 80 vs 49) and faster on 28x28 (68 vs 79) */
    if (vw == 8 && dx && h * w < 392)
        return 0;
    return vw && c >= 8 && c <= 64 && oc <= 64 && nout % ob == 0 &&
           (h * w + vw - 1) / vw <= D3_MAXVEC;
#else
    (void)c, (void)oc, (void)h, (void)w, (void)dx;
    return 0;
#endif
}

// x (C, H, W); pack from acti_conv3x3_pack(dx = 0); y (OC, H, W) = conv(x) + b (b may be NULL)
int acti_conv3x3_fwd(const float *x, const float *pack, const float *b, float *y, int C, int OC,
                     int H, int Wd)
{
    d3_args a = { x, pack, b, y, (size_t)C * 9, 9, C, OC, H, Wd, 0, 0 };
    return d3_run(&a);
}

// dy (OC, H, W); pack from acti_conv3x3_pack(dx = 1); dx (C, H, W) += conv of dy with the
// flipped, transposed kernel
int acti_conv3x3_dx(const float *dy, const float *pack, float *dx, int C, int OC, int H, int Wd)
{
    d3_args a = { dy, pack, NULL, dx, 9, (size_t)C * 9, OC, C, H, Wd, 1, 1 };
    return d3_run(&a);
}

// w (OC, C, 3, 3) -> pack (C*OC*9 + ACTI_CONV3X3_MASK_FLOATS floats: the weights in the
// kernels' order, then the lane masks of an (H, W) plane) for acti_conv3x3_fwd (dx = 0) or
// acti_conv3x3_dx (dx = 1); after acti_conv3x3_ok
void acti_conv3x3_pack(const float *w, float *pack, int C, int OC, int H, int Wd, int dx)
{
    d3_args a = { NULL, w, NULL, NULL, dx ? 9 : (size_t)C * 9, dx ? (size_t)C * 9 : 9,
                  dx ? OC : C, dx ? C : OC, 0, 0, dx, 0 };
    d3_pack(&a, pack);
    int vw = act_isa_get() == ACT_ISA_AVX512 ? 16 : 8, nvec = (H * Wd + vw - 1) / vw;
    if (nvec > D3_MAXVEC)
        return;
    uint16_t *m = (uint16_t *)(pack + (size_t)C * (size_t)OC * 9);
    d3_masks(m, H, Wd, vw, nvec);
    if (vw == 8) {   /* AVX2: each mask also as 8 x int32 (0 or -1) after the bits */
        int32_t *m32 = (int32_t *)(pack + (size_t)C * (size_t)OC * 9 + D3_M16);
        for (int i = 0; i < nvec * 9; i++)
            for (int j = 0; j < 8; j++)
                m32[i * 8 + j] = (m[i] >> j) & 1 ? -1 : 0;
    }
}

// x (nb, C, H, W) and dy (nb, OC, H, W), sample strides xs, ys; g (C*9, OC) += the weight
// gradient, transposed; pack from acti_conv3x3_pack (its masks); after acti_conv3x3_ok(dx = 1)
void acti_conv3x3_dw(const float *x, const float *dy, const float *pack, float *g, size_t xs,
                     size_t ys, int nb, int C, int OC, int H, int Wd)
{
#ifdef D3_X86
    const uint16_t *m = (const uint16_t *)(pack + (size_t)C * (size_t)OC * 9);
    if (act_isa_get() == ACT_ISA_AVX512)
        rundw512(x, dy, g, m, xs, ys, nb, C, OC, H, Wd);
    else
        rundw256(x, dy, g, (const int32_t *)(pack + (size_t)C * (size_t)OC * 9 + D3_M16), xs, ys,
                 nb, C, OC, H, Wd);
#else
    (void)x, (void)dy, (void)pack, (void)g, (void)xs, (void)ys, (void)nb, (void)C, (void)OC,
        (void)H, (void)Wd;
#endif
}
