/* winograd.c -- Winograd F(4x4, 3x3) convolution (Lavin & Gray 2016; points 0, +-1, +-2, inf)
 * for 3x3 stride-1 layers with padding 0 or 1, all three training passes. Per chunk of samples:
 * the input is copied to a zero-padded channels-last plane, each 6x6 tile is transformed
 * (V = B^T d B, 16 channels per vector), then 36 independent products M[xi] = V[xi] U[xi] with
 * U = G g G^T (tiles x C times C x OC), and Y = A^T M A per tile. Backward uses the exact
 * gradient of that computation: dM = A dY A^T, dV[xi] = dM[xi] U[xi]^T, dx += B dV B^T
 * (scatter-add into overlapping tiles), dU[xi] = V[xi]^T dM[xi], dw += G^T dU G.
 * The products run on an AVX-512 or AVX2 register-blocked kernel chosen by act_isa_get(), or
 * plain C; the transforms are written once on 16-lane GNU vectors and compiled per target.
 * Reference: conv_ref in tests/test_nn_grad.c and tests/test_nn_wino.c. */
#include <stdint.h>
#include <string.h>

#include "actlab/act.h"
#include "nn/layers.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define WG_X86 1
#define T512 __attribute__((target("avx512f,fma")))
#define T256 __attribute__((target("avx2,fma")))
#endif
#define INL inline __attribute__((always_inline))

/* 16 floats; unaligned loads and stores (scratch offsets are multiples of 16 floats, the
 * arena's thread slices need not be) */
typedef float wv __attribute__((vector_size(64), aligned(4), may_alias));

enum { WG_L = 16, WG_CHUNK_FLOATS = 96 * 1024 };   /* lanes; chunk data per thread (384 KB) */

typedef struct wg_plan {
    int    C, OC, H, W, pad, OH, OW;
    int    tH, tW, nt;      /* tiles per sample: tH x tW */
    int    Cs, OCs;         /* channel counts rounded up to 16 lanes */
    int    Hp, Wp, Ho, Wo;  /* padded input plane (4 tH + 2, 4 tW + 2), padded output (4 tH, 4 tW) */
    size_t ns, R;           /* samples per chunk, tile rows per chunk (ns * nt) */
    size_t vs, ms;          /* floats between V[xi] and V[xi+1], M[xi] and M[xi+1] */
    size_t u, xt, v, m, yt, b, floats;   /* scratch offsets per thread, total */
} wg_plan;

static size_t up16(size_t n) { return (n + 15) & ~(size_t)15; }

/* n floats rounded up to an odd number of 64-byte lines: the 36 V[xi] / M[xi] blocks are
 * written (input transform) and read (output transform) one vector each per tile, 36 streams;
 * at a power-of-two stride (R * Cs = 16 * 32 floats for 32x14x14) they fall into 2-4 of the L1's
 * 64 sets and evict each other. An odd line count puts the 36 streams in 36 different sets. */
static size_t odd_lines(size_t n)
{
    n = up16(n);
    return (n / 16) % 2 ? n : n + 16;
}

static void wg_make_plan(wg_plan *p, int C, int OC, int H, int W, int pad)
{
    p->C = C, p->OC = OC, p->H = H, p->W = W, p->pad = pad;
    p->OH = H + 2 * pad - 2, p->OW = W + 2 * pad - 2;
    p->tH = (p->OH + 3) / 4, p->tW = (p->OW + 3) / 4, p->nt = p->tH * p->tW;
    p->Cs = (int)up16((size_t)C), p->OCs = (int)up16((size_t)OC);
    p->Hp = 4 * p->tH + 2, p->Wp = 4 * p->tW + 2, p->Ho = 4 * p->tH, p->Wo = 4 * p->tW;
    size_t xt = (size_t)p->Hp * (size_t)p->Wp * (size_t)p->Cs;
    size_t yt = (size_t)p->Ho * (size_t)p->Wo * (size_t)p->OCs;
    size_t per = xt + yt + 36 * (size_t)p->nt * (size_t)(p->Cs + p->OCs);
    p->ns = WG_CHUNK_FLOATS / per;
    if (p->ns < 1)
        p->ns = 1;
    p->R = p->ns * (size_t)p->nt;
    p->vs = odd_lines(p->R * (size_t)p->Cs), p->ms = odd_lines(p->R * (size_t)p->OCs);
    /* dU (36, C, OCs) for the weight gradient (U and UT are the caller's: acti_wino_weights) */
    p->u = 0;
    p->xt = p->u + up16(36 * (size_t)C * (size_t)p->OCs);
    p->v = p->xt + up16(p->ns * xt);
    p->m = p->v + 36 * p->vs;
    p->yt = p->m + 36 * p->ms;
    p->b = p->yt + up16(p->ns * yt);
    p->floats = p->b + up16((size_t)OC);
}

// ----------------------------------------------------------------------------
// Transforms, 16 channels per vector (math once; compiled per target by the wrappers below)

/* 1-D B^T d: 6 -> 6 */
static INL void bt6(const wv d[6], wv t[6])
{
    t[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    t[1] = (d[3] + d[4]) - 4.0f * (d[1] + d[2]);
    t[2] = (d[4] - d[3]) + 4.0f * (d[1] - d[2]);
    t[3] = (d[4] - d[2]) + 2.0f * (d[3] - d[1]);
    t[4] = (d[4] - d[2]) - 2.0f * (d[3] - d[1]);
    t[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
}

/* 1-D A^T m: 6 -> 4 */
static INL void at4(const wv m[6], wv y[4])
{
    wv s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
    y[0] = m[0] + s12 + s34;
    y[1] = d12 + 2.0f * d34;
    y[2] = s12 + 4.0f * s34;
    y[3] = d12 + 8.0f * d34 + m[5];
}

/* 1-D A g (the transpose of at4): 4 -> 6 */
static INL void a6(const wv g[4], wv m[6])
{
    wv e = g[0] + g[2], o = g[1] + g[3];
    wv e4 = g[0] + 4.0f * g[2], o4 = 2.0f * g[1] + 8.0f * g[3];
    m[0] = g[0];
    m[1] = e + o;
    m[2] = e - o;
    m[3] = e4 + o4;
    m[4] = e4 - o4;
    m[5] = g[3];
}

/* 1-D B v (the transpose of bt6): 6 -> 6 */
static INL void b6(const wv v[6], wv d[6])
{
    wv s34 = v[3] - v[4];
    d[0] = 4.0f * v[0];
    d[1] = 4.0f * (v[2] - v[1] + v[5]) + 2.0f * (v[4] - v[3]);
    d[2] = -5.0f * v[0] - 4.0f * (v[1] + v[2]) - (v[3] + v[4]);
    d[3] = (v[1] - v[2]) + 2.0f * s34 - 5.0f * v[5];
    d[4] = v[0] + v[1] + v[2] + v[3] + v[4];
    d[5] = v[5];
}

/* V = B^T d B: d[r][s] at in + r*sr + s*ps (a 6x6 window of a channels-last plane: row and
 * pixel strides); V[xi] at out + xi*os */
static INL void tf_in(const float *in, size_t sr, size_t ps, float *out, size_t os)
{
    wv t[6][6];
#pragma GCC unroll 6
    for (int s = 0; s < 6; s++) {
        wv d[6], c[6];
#pragma GCC unroll 6
        for (int r = 0; r < 6; r++)
            d[r] = *(const wv *)(in + (size_t)r * sr + (size_t)s * ps);
        bt6(d, c);
#pragma GCC unroll 6
        for (int k = 0; k < 6; k++)
            t[k][s] = c[k];
    }
#pragma GCC unroll 6
    for (int k = 0; k < 6; k++) {
        wv v[6];
        bt6(t[k], v);
#pragma GCC unroll 6
        for (int l = 0; l < 6; l++)
            *(wv *)(out + (size_t)(k * 6 + l) * os) = v[l];
    }
}

/* Y = A^T M A (+ bias): M[xi] at in + xi*is; Y[i][j] at out + i*sr + j*ps */
static INL void tf_out(const float *in, size_t is, const float *bias, float *out, size_t sr,
                       size_t ps)
{
    wv t[4][6];
#pragma GCC unroll 6
    for (int l = 0; l < 6; l++) {
        wv m[6], y[4];
#pragma GCC unroll 6
        for (int k = 0; k < 6; k++)
            m[k] = *(const wv *)(in + (size_t)(k * 6 + l) * is);
        at4(m, y);
#pragma GCC unroll 6
        for (int i = 0; i < 4; i++)
            t[i][l] = y[i];
    }
    wv b = *(const wv *)bias;
#pragma GCC unroll 6
    for (int i = 0; i < 4; i++) {
        wv y[4];
        at4(t[i], y);
#pragma GCC unroll 6
        for (int j = 0; j < 4; j++)
            *(wv *)(out + (size_t)i * sr + (size_t)j * ps) = y[j] + b;
    }
}

/* dM = A dY A^T: dY[i][j] at in + i*sr + j*ps; dM[xi] at out + xi*os */
static INL void tf_dy(const float *in, size_t sr, size_t ps, float *out, size_t os)
{
    wv t[6][4];
#pragma GCC unroll 6
    for (int j = 0; j < 4; j++) {
        wv g[4], m[6];
#pragma GCC unroll 6
        for (int i = 0; i < 4; i++)
            g[i] = *(const wv *)(in + (size_t)i * sr + (size_t)j * ps);
        a6(g, m);
#pragma GCC unroll 6
        for (int k = 0; k < 6; k++)
            t[k][j] = m[k];
    }
#pragma GCC unroll 6
    for (int k = 0; k < 6; k++) {
        wv m[6];
        a6(t[k], m);
#pragma GCC unroll 6
        for (int l = 0; l < 6; l++)
            *(wv *)(out + (size_t)(k * 6 + l) * os) = m[l];
    }
}

/* dd += B dV B^T: dV[xi] at in + xi*is; dd[r][s] at out + r*sr + s*ps */
static INL void tf_dx(const float *in, size_t is, float *out, size_t sr, size_t ps)
{
    wv t[6][6];
#pragma GCC unroll 6
    for (int l = 0; l < 6; l++) {
        wv v[6], d[6];
#pragma GCC unroll 6
        for (int k = 0; k < 6; k++)
            v[k] = *(const wv *)(in + (size_t)(k * 6 + l) * is);
        b6(v, d);
#pragma GCC unroll 6
        for (int r = 0; r < 6; r++)
            t[r][l] = d[r];
    }
#pragma GCC unroll 6
    for (int r = 0; r < 6; r++) {
        wv d[6];
        b6(t[r], d);
#pragma GCC unroll 6
        for (int s = 0; s < 6; s++) {
            wv *o = (wv *)(out + (size_t)r * sr + (size_t)s * ps);
            *o += d[s];
        }
    }
}

// ----------------------------------------------------------------------------
// Layout changes: NCHW planes <-> zero-padded channels-last planes. AVX-512: 16 x 16 blocks
// transposed in registers (the scalar copies cost 2-6 cycles per float: strided stores).

/* A channels-last plane: pixel (i, j) of the NCHW plane at ((i + off) * pw + j + off) * cs */
typedef struct wg_hwc { int C, H, W, cs, pw, ph, off; } wg_hwc;

// src (C, H, W) -> dst (ph, pw, cs), zero outside
static void hwc_in_c(const wg_hwc *g, const float *src, float *dst)
{
    memset(dst, 0, (size_t)g->ph * (size_t)g->pw * (size_t)g->cs * sizeof(float));
    for (int i = 0; i < g->H; i++)
        for (int c = 0; c < g->C; c++) {
            const float *s = src + ((size_t)c * (size_t)g->H + (size_t)i) * (size_t)g->W;
            float *d = dst + ((size_t)(i + g->off) * (size_t)g->pw + (size_t)g->off) * (size_t)g->cs + c;
            for (int j = 0; j < g->W; j++)
                d[(size_t)j * (size_t)g->cs] = s[j];
        }
}

// dst (C, H, W) (+)= src (ph, pw, cs)
static void hwc_out_c(const wg_hwc *g, const float *src, float *dst, int add)
{
    for (int c = 0; c < g->C; c++)
        for (int i = 0; i < g->H; i++) {
            const float *s = src + ((size_t)(i + g->off) * (size_t)g->pw + (size_t)g->off) * (size_t)g->cs + c;
            float *d = dst + ((size_t)c * (size_t)g->H + (size_t)i) * (size_t)g->W;
            for (int j = 0; j < g->W; j++)
                d[j] = (add ? d[j] : 0.0f) + s[(size_t)j * (size_t)g->cs];
        }
}

#ifdef WG_X86
static INL T512 void tr16(__m512 r[16])
{
    __m512 t[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 16
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    }
#pragma GCC unroll 2
    for (int h = 0; h < 16; h += 8)
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) {
            t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
            t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
        }
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
}

static T512 void hwc_in512(const wg_hwc *g, const float *src, float *dst)
{
    const size_t cs = (size_t)g->cs, pw = (size_t)g->pw, plane = (size_t)g->H * (size_t)g->W;
    /* the padding: whole rows above and below, columns left and right */
    size_t row = pw * cs;
    memset(dst, 0, (size_t)g->off * row * sizeof(float));
    memset(dst + (size_t)(g->H + g->off) * row, 0,
           (size_t)(g->ph - g->H - g->off) * row * sizeof(float));
    for (int i = 0; i < g->H; i++) {
        float *d = dst + (size_t)(i + g->off) * row;
        memset(d, 0, (size_t)g->off * cs * sizeof(float));
        memset(d + (size_t)(g->W + g->off) * cs, 0,
               (size_t)((int)pw - g->W - g->off) * cs * sizeof(float));
    }
    /* channel blocks outer: 16 sequential read streams at a time */
    for (int c0 = 0; c0 < g->cs; c0 += 16) {
        __mmask16 cm[16];
        for (int c = 0; c < 16; c++)
            cm[c] = c0 + c < g->C ? (__mmask16)0xffff : 0;
        for (int i = 0; i < g->H; i++) {
            float *d = dst + ((size_t)(i + g->off) * pw + (size_t)g->off) * cs + (size_t)c0;
            const float *s0 = src + (size_t)c0 * plane + (size_t)i * (size_t)g->W;
            for (int j0 = 0; j0 < g->W; j0 += 16) {
                int nj = g->W - j0 < 16 ? g->W - j0 : 16;
                __mmask16 m = (__mmask16)((1u << nj) - 1u);
                __m512 r[16];
                const float *s = s0 + j0;
                if (i + 3 < g->H)   /* 16 interleaved streams: the hardware prefetch misses them */
                    for (int c = 0; c < 16; c++)
                        _mm_prefetch((const char *)(s + (size_t)c * plane + 3 * (size_t)g->W), _MM_HINT_T0);
#pragma GCC unroll 16
                for (int c = 0; c < 16; c++)
                    r[c] = _mm512_maskz_loadu_ps(m & cm[c], s + (size_t)c * plane);
                tr16(r);
                float *q = d + (size_t)j0 * cs;
                for (int j = 0; j < nj; j++)
                    _mm512_storeu_ps(q + (size_t)j * cs, r[j]);
            }
        }
    }
}

/* st: stream the stores (forward, whole planes); a constant in each instance */
static INL T512 void hwc_out512_b(const wg_hwc *g, const float *src, float *dst, int add,
                                  const int st)
{
    const size_t cs = (size_t)g->cs, pw = (size_t)g->pw, plane = (size_t)g->H * (size_t)g->W;
    wg_hwc f = *g;
    if (g->off == 0 && g->pw == g->W) {   /* no padding: the plane is one row of H*W pixels */
        f.W = g->H * g->W, f.pw = f.W, f.H = 1;
        g = &f;
    }
    for (int c0 = 0; c0 < g->C; c0 += 16) {
        __mmask16 cm[16];
        for (int c = 0; c < 16; c++)
            cm[c] = c0 + c < g->C ? (__mmask16)0xffff : 0;
        for (int i = 0; i < g->H; i++) {
            const float *s = src + ((size_t)(i + g->off) * pw + (size_t)g->off) * cs + (size_t)c0;
            float *d = dst + (size_t)c0 * plane + (size_t)i * (size_t)g->W;
            for (int j0 = 0; j0 < g->W; j0 += 16) {
                int nj = g->W - j0 < 16 ? g->W - j0 : 16;
                __mmask16 m = (__mmask16)((1u << nj) - 1u);
                __m512 r[16];
#pragma GCC unroll 16
                for (int j = 0; j < 16; j++)
                    r[j] = _mm512_maskz_loadu_ps(j < nj ? (__mmask16)0xffff : 0,
                                                 s + (size_t)(j0 + j) * cs);
                if (add && i + 3 < g->H)   /* dx: 16 read streams, as in hwc_in512 */
                    for (int c = 0; c < 16; c++)
                        _mm_prefetch((const char *)(d + (size_t)c * plane + (size_t)j0 + 3 * (size_t)g->W),
                                     _MM_HINT_T0);
                tr16(r);
#pragma GCC unroll 16
                for (int c = 0; c < 16; c++) {
                    float *q = d + (size_t)c * plane + (size_t)j0;
                    /* forward, whole planes: aligned full vectors streamed (a batch's output
                     * is MBs, written once; the streaming store skips the line's read for
                     * ownership). Not for padded rows: lines half streamed, half stored are slow */
                    if (st && nj == 16 && cm[c] && !((uintptr_t)q & 63)) {
                        _mm512_stream_ps(q, r[c]);
                        continue;
                    }
                    __m512 v = add ? _mm512_add_ps(_mm512_maskz_loadu_ps(m & cm[c], q), r[c]) : r[c];
                    _mm512_mask_storeu_ps(q, m & cm[c], v);
                }
            }
        }
    }
    if (st)
        _mm_sfence();   /* the streaming stores before the next layer reads */
}

static T512 void hwc_out512(const wg_hwc *g, const float *src, float *dst, int add)
{
    if (!add && g->off == 0 && g->pw == g->W)
        hwc_out512_b(g, src, dst, 0, 1);
    else
        hwc_out512_b(g, src, dst, add, 0);
}

static INL T256 void tr8(__m256 r[8])
{
    __m256 t[8], u[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

/* lanes below n set: a vmaskmov mask */
static INL T256 __m256i mask8(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* AVX2: as hwc_in512 with 8 x 8 blocks */
static T256 void hwc_in256(const wg_hwc *g, const float *src, float *dst)
{
    const size_t cs = (size_t)g->cs, pw = (size_t)g->pw, plane = (size_t)g->H * (size_t)g->W;
    size_t row = pw * cs;
    memset(dst, 0, (size_t)g->off * row * sizeof(float));
    memset(dst + (size_t)(g->H + g->off) * row, 0,
           (size_t)(g->ph - g->H - g->off) * row * sizeof(float));
    for (int i = 0; i < g->H; i++) {
        float *d = dst + (size_t)(i + g->off) * row;
        memset(d, 0, (size_t)g->off * cs * sizeof(float));
        memset(d + (size_t)(g->W + g->off) * cs, 0,
               (size_t)((int)pw - g->W - g->off) * cs * sizeof(float));
    }
    for (int c0 = 0; c0 < g->cs; c0 += 8) {
        int nc = g->C - c0 < 8 ? (g->C - c0 > 0 ? g->C - c0 : 0) : 8;
        for (int i = 0; i < g->H; i++) {
            float *d = dst + ((size_t)(i + g->off) * pw + (size_t)g->off) * cs + (size_t)c0;
            const float *s0 = src + (size_t)c0 * plane + (size_t)i * (size_t)g->W;
            for (int j0 = 0; j0 < g->W; j0 += 8) {
                int nj = g->W - j0 < 8 ? g->W - j0 : 8;
                __m256i m = mask8(nj);
                __m256 r[8];
                const float *s = s0 + j0;
                if (i + 3 < g->H)   /* interleaved streams: the hardware prefetch misses them */
                    for (int c = 0; c < nc; c++)
                        _mm_prefetch((const char *)(s + (size_t)c * plane + 3 * (size_t)g->W), _MM_HINT_T0);
#pragma GCC unroll 8
                for (int c = 0; c < 8; c++)
                    r[c] = c < nc ? _mm256_maskload_ps(s + (size_t)c * plane, m) : _mm256_setzero_ps();
                tr8(r);
                float *q = d + (size_t)j0 * cs;
                for (int j = 0; j < nj; j++)
                    _mm256_storeu_ps(q + (size_t)j * cs, r[j]);
            }
        }
    }
}

/* st: stream the stores (forward, whole planes); a constant in each instance */
static INL T256 void hwc_out256_b(const wg_hwc *g, const float *src, float *dst, int add,
                                  const int st)
{
    const size_t cs = (size_t)g->cs, pw = (size_t)g->pw, plane = (size_t)g->H * (size_t)g->W;
    wg_hwc f = *g;
    if (g->off == 0 && g->pw == g->W) {   /* no padding: the plane is one row of H*W pixels */
        f.W = g->H * g->W, f.pw = f.W, f.H = 1;
        g = &f;
    }
    for (int c0 = 0; c0 < g->C; c0 += 8) {
        int nc = g->C - c0 < 8 ? g->C - c0 : 8;
        for (int i = 0; i < g->H; i++) {
            const float *s = src + ((size_t)(i + g->off) * pw + (size_t)g->off) * cs + (size_t)c0;
            float *d = dst + (size_t)c0 * plane + (size_t)i * (size_t)g->W;
            for (int j0 = 0; j0 < g->W; j0 += 8) {
                int nj = g->W - j0 < 8 ? g->W - j0 : 8;
                __m256 r[8];
#pragma GCC unroll 8
                for (int j = 0; j < 8; j++)
                    r[j] = j < nj ? _mm256_loadu_ps(s + (size_t)(j0 + j) * cs) : _mm256_setzero_ps();
                if (add && i + 3 < g->H)   /* as in hwc_out512 */
                    for (int c = 0; c < nc; c++)
                        _mm_prefetch((const char *)(d + (size_t)c * plane + (size_t)j0 + 3 * (size_t)g->W),
                                     _MM_HINT_T0);
                tr8(r);
                for (int c = 0; c < nc; c++) {
                    float *q = d + (size_t)c * plane + (size_t)j0;
                    if (st && nj == 8 && !((uintptr_t)q & 31)) {   /* as in hwc_out512 */
                        _mm256_stream_ps(q, r[c]);
                    } else if (nj == 8) {
                        _mm256_storeu_ps(q, add ? _mm256_add_ps(_mm256_loadu_ps(q), r[c]) : r[c]);
                    } else {   /* the row's tail: no masked store (slow on some cores) */
                        float t[8];
                        _mm256_storeu_ps(t, r[c]);
                        for (int j = 0; j < nj; j++)
                            q[j] = (add ? q[j] : 0.0f) + t[j];
                    }
                }
            }
        }
    }
    if (st)
        _mm_sfence();
}

static T256 void hwc_out256(const wg_hwc *g, const float *src, float *dst, int add)
{
    if (!add && g->off == 0 && g->pw == g->W)
        hwc_out256_b(g, src, dst, 0, 1);
    else
        hwc_out256_b(g, src, dst, add, 0);
}
#endif

static void hwc_in(act_isa isa, const wg_hwc *g, const float *src, float *dst)
{
#ifdef WG_X86
    if (isa == ACT_ISA_AVX512) {
        hwc_in512(g, src, dst);
        return;
    }
    if (isa == ACT_ISA_AVX2) {
        hwc_in256(g, src, dst);
        return;
    }
#endif
    (void)isa;
    hwc_in_c(g, src, dst);
}

static void hwc_out(act_isa isa, const wg_hwc *g, const float *src, float *dst, int add)
{
#ifdef WG_X86
    if (isa == ACT_ISA_AVX512) {
        hwc_out512(g, src, dst, add);
        return;
    }
    if (isa == ACT_ISA_AVX2) {
        hwc_out256(g, src, dst, add);
        return;
    }
#endif
    (void)isa;
    hwc_out_c(g, src, dst, add);
}

// ----------------------------------------------------------------------------
// Weight transforms (double, once per call)

static const double wg_G[6][3] = {
    { 1.0 / 4, 0, 0 },
    { -1.0 / 6, -1.0 / 6, -1.0 / 6 },
    { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
    { 1.0 / 24, 1.0 / 12, 1.0 / 6 },
    { 1.0 / 24, -1.0 / 12, 1.0 / 6 },
    { 0, 0, 1 },
};

// w (OC, C, 3, 3) -> U (36, C, OCs) (tr 0) or UT (36, OC, Cs) (tr 1), U = G g G^T, pad lanes 0.
// Blocks of 16 along the contiguous index (o for U, c for UT) so the double loops vectorize.
static INL void wt_fwd_b(const wg_plan *p, const float *w, float *u, int tr)
{
    const int C = p->C, OC = p->OC;
    size_t rows = (size_t)(tr ? OC : C), ld = (size_t)(tr ? p->Cs : p->OCs);
    int nin = tr ? C : OC;   /* the contiguous index's extent */
    memset(u, 0, 36 * rows * ld * sizeof(float));
    for (size_t row = 0; row < rows; row++)
        for (int j0 = 0; j0 < nin; j0 += 16) {
            int nj = nin - j0 < 16 ? nin - j0 : 16;
            double g[9][16] = { { 0 } }, t[6][3][16];
            for (int j = 0; j < nj; j++) {
                size_t o = tr ? row : (size_t)(j0 + j), c = tr ? (size_t)(j0 + j) : row;
                const float *q = w + (o * (size_t)C + c) * 9;
                for (int e = 0; e < 9; e++)
                    g[e][j] = (double)q[e];
            }
            for (int k = 0; k < 6; k++)
                for (int b = 0; b < 3; b++)
                    for (int j = 0; j < 16; j++)
                        t[k][b][j] = wg_G[k][0] * g[b][j] + wg_G[k][1] * g[3 + b][j] +
                                     wg_G[k][2] * g[6 + b][j];
            for (int k = 0; k < 6; k++)
                for (int l = 0; l < 6; l++) {
                    float *q = u + (size_t)(k * 6 + l) * rows * ld + row * ld + (size_t)j0, r[16];
                    for (int j = 0; j < 16; j++)   /* all 16: a fixed count vectorizes */
                        r[j] = (float)(wg_G[l][0] * t[k][0][j] + wg_G[l][1] * t[k][1][j] +
                                       wg_G[l][2] * t[k][2][j]);
                    memcpy(q, r, (size_t)nj * sizeof(float));
                }
        }
}

// dU (36, C, OCs) -> g (C*9, OC) += G^T dU G (the conv layer's transposed partial sums),
// 16 output channels at a time
static INL void wt_bwd_b(const wg_plan *p, const float *du, float *g)
{
    const int C = p->C, OC = p->OC;
    size_t ld = (size_t)p->OCs, plane = (size_t)C * ld;
    for (int c = 0; c < C; c++)
        for (int o0 = 0; o0 < OC; o0 += 16) {
            int no = OC - o0 < 16 ? OC - o0 : 16;
            double t[3][6][16];   /* G^T dU */
            for (int a = 0; a < 3; a++)
                for (int l = 0; l < 6; l++) {
                    double s[16] = { 0 };
                    for (int k = 0; k < 6; k++) {
                        const float *q = du + (size_t)(k * 6 + l) * plane + (size_t)c * ld + (size_t)o0;
                        for (int j = 0; j < 16; j++)   /* the pad lanes of dU are 0 */
                            s[j] += wg_G[k][a] * (double)q[j];
                    }
                    for (int j = 0; j < 16; j++)
                        t[a][l][j] = s[j];
                }
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) {
                    double s[16] = { 0 };
                    for (int l = 0; l < 6; l++)
                        for (int j = 0; j < 16; j++)
                            s[j] += t[a][l][j] * wg_G[l][b];
                    float *q = g + (size_t)(c * 9 + a * 3 + b) * (size_t)OC + (size_t)o0;
                    for (int j = 0; j < no; j++)
                        q[j] += (float)s[j];
                }
        }
}

/* compiled per target: the 16-wide double loops become 2 zmm / 4 ymm vectors (the baseline
 * build has SSE2 only; these were 8% of the 64x7x7 forward, done by every thread) */
#ifdef WG_X86
static T512 void wt_fwd512(const wg_plan *p, const float *w, float *u, int tr) { wt_fwd_b(p, w, u, tr); }
static T256 void wt_fwd256(const wg_plan *p, const float *w, float *u, int tr) { wt_fwd_b(p, w, u, tr); }
static T512 void wt_bwd512(const wg_plan *p, const float *du, float *g) { wt_bwd_b(p, du, g); }
static T256 void wt_bwd256(const wg_plan *p, const float *du, float *g) { wt_bwd_b(p, du, g); }
#endif

static void wt_fwd(act_isa isa, const wg_plan *p, const float *w, float *u, int tr)
{
#ifdef WG_X86
    if (isa == ACT_ISA_AVX512) {
        wt_fwd512(p, w, u, tr);
        return;
    }
    if (isa == ACT_ISA_AVX2) {
        wt_fwd256(p, w, u, tr);
        return;
    }
#endif
    (void)isa;
    wt_fwd_b(p, w, u, tr);
}

static void wt_bwd(act_isa isa, const wg_plan *p, const float *du, float *g)
{
#ifdef WG_X86
    if (isa == ACT_ISA_AVX512) {
        wt_bwd512(p, du, g);
        return;
    }
    if (isa == ACT_ISA_AVX2) {
        wt_bwd256(p, du, g);
        return;
    }
#endif
    (void)isa;
    wt_bwd_b(p, du, g);
}

// ----------------------------------------------------------------------------
// The 36 products. One call: Cm[r][n] (+)= sum_k A[r*ars + k*aks] B[k*ldb + n] for r < rows,
// n < nvec*16: A is broadcast, B and Cm are read 16 lanes at a time (rows padded to 16).

typedef struct wg_mm {
    const float *A, *B;
    float  *Cm;
    size_t ars, aks, ldb, ldc;
    int    rows, K, nvec, acc;
} wg_mm;

static void mm_c(const wg_mm *g)
{
    for (int r = 0; r < g->rows; r++)
        for (int v = 0; v < g->nvec; v++) {
            float s[WG_L] = { 0 };
            for (int k = 0; k < g->K; k++) {
                float a = g->A[(size_t)r * g->ars + (size_t)k * g->aks];
                const float *b = g->B + (size_t)k * g->ldb + (size_t)v * WG_L;
                for (int j = 0; j < WG_L; j++)
                    s[j] += a * b[j];
            }
            float *c = g->Cm + (size_t)r * g->ldc + (size_t)v * WG_L;
            for (int j = 0; j < WG_L; j++)
                c[j] = g->acc ? c[j] + s[j] : s[j];
        }
}

#ifdef WG_X86
enum { RB512 = 12, RB256 = 6 };

/* NR rows x NV vectors of 16 accumulators over K */
static INL T512 void mk512(const wg_mm *g, int r0, int v0, const int NR, const int NV)
{
    __m512 c[RB512][2];
#pragma GCC unroll 16
    for (int r = 0; r < NR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            c[r][v] = _mm512_setzero_ps();
    const float *a = g->A + (size_t)r0 * g->ars, *b = g->B + (size_t)v0 * WG_L;
    const size_t ars = g->ars, aks = g->aks, ldb = g->ldb;
    for (int k = 0; k < g->K; k++, a += aks, b += ldb) {
        __m512 bv[2];
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            bv[v] = _mm512_loadu_ps(b + v * WG_L);
#pragma GCC unroll 16
        for (int r = 0; r < NR; r++) {
            __m512 av = _mm512_set1_ps(a[(size_t)r * ars]);
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++)
                c[r][v] = _mm512_fmadd_ps(av, bv[v], c[r][v]);
        }
    }
    float *o = g->Cm + (size_t)r0 * g->ldc + (size_t)v0 * WG_L;
#pragma GCC unroll 16
    for (int r = 0; r < NR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) {
            float *q = o + (size_t)r * g->ldc + v * WG_L;
            _mm512_storeu_ps(q, g->acc ? _mm512_add_ps(_mm512_loadu_ps(q), c[r][v]) : c[r][v]);
        }
}

#define WG_CASES12(F, NV) \
    case 1: F(1, NV); break; case 2: F(2, NV); break; case 3: F(3, NV); break;      \
    case 4: F(4, NV); break; case 5: F(5, NV); break; case 6: F(6, NV); break;      \
    case 7: F(7, NV); break; case 8: F(8, NV); break; case 9: F(9, NV); break;      \
    case 10: F(10, NV); break; case 11: F(11, NV); break; default: F(12, NV); break;

static T512 void mm512(const wg_mm *g)
{
    for (int v0 = 0; v0 < g->nvec; v0 += 2)
        for (int r0 = 0; r0 < g->rows; r0 += RB512) {
            int nr = g->rows - r0 < RB512 ? g->rows - r0 : RB512;
#define F(NR, NV) mk512(g, r0, v0, NR, NV)
            if (g->nvec - v0 >= 2) {
                switch (nr) { WG_CASES12(F, 2) }
            } else {
                switch (nr) { WG_CASES12(F, 1) }
            }
#undef F
        }
}

/* NR rows x 16 lanes (two 8-lane vectors) over K */
static INL T256 void mk256(const wg_mm *g, int r0, int v0, const int NR)
{
    __m256 c[RB256][2];
#pragma GCC unroll 16
    for (int r = 0; r < NR; r++)
        c[r][0] = c[r][1] = _mm256_setzero_ps();
    const float *a = g->A + (size_t)r0 * g->ars, *b = g->B + (size_t)v0 * WG_L;
    const size_t ars = g->ars, aks = g->aks, ldb = g->ldb;
    for (int k = 0; k < g->K; k++, a += aks, b += ldb) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 16
        for (int r = 0; r < NR; r++) {
            __m256 av = _mm256_broadcast_ss(a + (size_t)r * ars);
            c[r][0] = _mm256_fmadd_ps(av, b0, c[r][0]);
            c[r][1] = _mm256_fmadd_ps(av, b1, c[r][1]);
        }
    }
    float *o = g->Cm + (size_t)r0 * g->ldc + (size_t)v0 * WG_L;
#pragma GCC unroll 16
    for (int r = 0; r < NR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < 2; v++) {
            float *q = o + (size_t)r * g->ldc + v * 8;
            _mm256_storeu_ps(q, g->acc ? _mm256_add_ps(_mm256_loadu_ps(q), c[r][v]) : c[r][v]);
        }
}

static T256 void mm256(const wg_mm *g)
{
    for (int v0 = 0; v0 < g->nvec; v0++)
        for (int r0 = 0; r0 < g->rows; r0 += RB256) {
            switch (g->rows - r0) {
            case 1: mk256(g, r0, v0, 1); break;
            case 2: mk256(g, r0, v0, 2); break;
            case 3: mk256(g, r0, v0, 3); break;
            case 4: mk256(g, r0, v0, 4); break;
            case 5: mk256(g, r0, v0, 5); break;
            default: mk256(g, r0, v0, 6); break;
            }
        }
}
#endif

// ----------------------------------------------------------------------------
// Per-chunk stages (tiles t of the chunk: sample t / nt, tile row (t % nt) / tW, column % tW)

typedef struct wg_chunk {
    const wg_plan *p;
    size_t nb;              /* samples in this chunk */
    float *xt, *v, *m, *yt; /* planes; V: 36 x (R, Cs) at stride vs; M: 36 x (R, OCs) at ms */
    const float *bias;      /* (OCs) */
} wg_chunk;

/* Offset of tile t's top-left pixel in the chunk's channels-last planes of w x h pixels of cs
 * channels (sr = w * cs floats per row). */
static INL size_t tile_at(const wg_plan *p, size_t t, size_t sr, size_t h, size_t cs)
{
    size_t s = t / (size_t)p->nt, r = t % (size_t)p->nt;
    size_t ti = r / (size_t)p->tW, tj = r % (size_t)p->tW;
    return s * h * sr + 4 * ti * sr + 4 * tj * cs;
}

static INL void st_in(const wg_chunk *k)
{
    const wg_plan *p = k->p;
    size_t sr = (size_t)p->Wp * (size_t)p->Cs;
    size_t os = p->vs, ntc = k->nb * (size_t)p->nt;
    for (size_t t = 0; t < ntc; t++) {
        const float *in = k->xt + tile_at(p, t, sr, (size_t)p->Hp, (size_t)p->Cs);
        for (int cb = 0; cb < p->Cs; cb += WG_L)
            tf_in(in + cb, sr, (size_t)p->Cs, k->v + t * (size_t)p->Cs + (size_t)cb, os);
    }
}

static INL void st_out(const wg_chunk *k)
{
    const wg_plan *p = k->p;
    size_t sr = (size_t)p->Wo * (size_t)p->OCs;
    size_t is = p->ms, ntc = k->nb * (size_t)p->nt;
    for (size_t t = 0; t < ntc; t++) {
        float *out = k->yt + tile_at(p, t, sr, (size_t)p->Ho, (size_t)p->OCs);
        for (int ob = 0; ob < p->OCs; ob += WG_L)
            tf_out(k->m + t * (size_t)p->OCs + (size_t)ob, is, k->bias + ob, out + ob, sr,
                   (size_t)p->OCs);
    }
}

/* dM from the chunk's channels-last dy planes (in yt) into m */
static INL void st_dy(const wg_chunk *k)
{
    const wg_plan *p = k->p;
    size_t sr = (size_t)p->Wo * (size_t)p->OCs;
    size_t os = p->ms, ntc = k->nb * (size_t)p->nt;
    for (size_t t = 0; t < ntc; t++) {
        const float *in = k->yt + tile_at(p, t, sr, (size_t)p->Ho, (size_t)p->OCs);
        for (int ob = 0; ob < p->OCs; ob += WG_L)
            tf_dy(in + ob, sr, (size_t)p->OCs, k->m + t * (size_t)p->OCs + (size_t)ob, os);
    }
}

/* dV (in v) scattered into the zeroed channels-last dx planes (in xt) */
static INL void st_dx(const wg_chunk *k)
{
    const wg_plan *p = k->p;
    size_t sr = (size_t)p->Wp * (size_t)p->Cs;
    size_t is = p->vs, ntc = k->nb * (size_t)p->nt;
    for (size_t t = 0; t < ntc; t++) {
        float *out = k->xt + tile_at(p, t, sr, (size_t)p->Hp, (size_t)p->Cs);
        for (int cb = 0; cb < p->Cs; cb += WG_L)
            tf_dx(k->v + t * (size_t)p->Cs + (size_t)cb, is, out + cb, sr, (size_t)p->Cs);
    }
}

typedef enum wg_stage { WG_IN, WG_OUT, WG_DY, WG_DX } wg_stage;

static INL void st_run(const wg_chunk *k, wg_stage s)
{
    switch (s) {
    case WG_IN: st_in(k); break;
    case WG_OUT: st_out(k); break;
    case WG_DY: st_dy(k); break;
    case WG_DX: st_dx(k); break;
    }
}

#ifdef WG_X86
static T512 void st512(const wg_chunk *k, wg_stage s) { st_run(k, s); }
static T256 void st256(const wg_chunk *k, wg_stage s) { st_run(k, s); }
#endif
static void stc(const wg_chunk *k, wg_stage s) { st_run(k, s); }

static void wg_stage_run(act_isa isa, const wg_chunk *k, wg_stage s)
{
#ifdef WG_X86
    if (isa == ACT_ISA_AVX512) {
        st512(k, s);
        return;
    }
    if (isa == ACT_ISA_AVX2) {
        st256(k, s);
        return;
    }
#endif
    (void)isa;
    stc(k, s);
}

static void wg_mm_run(act_isa isa, const wg_mm *g)
{
    if (g->rows < 1 || g->nvec < 1)
        return;
#ifdef WG_X86
    if (isa == ACT_ISA_AVX512) {
        mm512(g);
        return;
    }
    if (isa == ACT_ISA_AVX2) {
        mm256(g);
        return;
    }
#endif
    (void)isa;
    mm_c(g);
}

static act_isa wg_isa(void)
{
    act_isa isa = act_isa_get();
#ifdef WG_X86
    return isa;
#else
    (void)isa;
    return ACT_ISA_SCALAR;
#endif
}

// ----------------------------------------------------------------------------
// Entry points

int acti_wino_ok(int k, int stride, int pad, int h, int w)
{
    return k == 3 && stride == 1 && (pad == 0 || pad == 1) && h + 2 * pad >= 3 &&
           w + 2 * pad >= 3;
}

size_t acti_wino_floats(int c, int oc, int h, int w, int pad)
{
    wg_plan p;
    wg_make_plan(&p, c, oc, h, w, pad);
    return p.floats;
}

size_t acti_wino_group_min(int h, int w, int pad)
{
    int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2, tiles = ((oh + 3) / 4) * ((ow + 3) / 4);
    return (size_t)((64 + tiles - 1) / tiles);
}

size_t acti_wino_u_floats(int c, int oc)
{
    size_t a = 36 * (size_t)c * up16((size_t)oc), b = 36 * (size_t)oc * up16((size_t)c);
    return a > b ? a : b;
}

void acti_wino_weights(const float *w, float *u, int C, int OC, int tr)
{
    wg_plan p;
    wg_make_plan(&p, C, OC, 3, 3, 0);   /* the weight transform reads C, OC, Cs, OCs alone */
    wt_fwd(wg_isa(), &p, w, u, tr);
}

// x (n, C, H, W); u: acti_wino_weights(w, tr 0); b (OC) or NULL; y (n, OC, OH, OW) = conv + b
void acti_wino_fwd(const float *x, const float *u, const float *b, float *y, size_t n, int C,
                   int OC, int H, int W, int pad, float *ws)
{
    wg_plan p;
    wg_make_plan(&p, C, OC, H, W, pad);
    act_isa isa = wg_isa();
    float *bias = ws + p.b;
    memset(bias, 0, (size_t)p.OCs * sizeof(float));
    for (int o = 0; b && o < OC; o++)
        bias[o] = b[o];
    size_t xs = (size_t)C * (size_t)H * (size_t)W, ys = (size_t)OC * (size_t)p.OH * (size_t)p.OW;
    size_t xtp = (size_t)p.Hp * (size_t)p.Wp * (size_t)p.Cs;
    size_t ytp = (size_t)p.Ho * (size_t)p.Wo * (size_t)p.OCs;
    const wg_hwc hx = { C, H, W, p.Cs, p.Wp, p.Hp, pad }, hy = { OC, p.OH, p.OW, p.OCs, p.Wo, p.Ho, 0 };
    for (size_t s0 = 0; s0 < n; s0 += p.ns) {
        wg_chunk k = { &p, n - s0 < p.ns ? n - s0 : p.ns, ws + p.xt, ws + p.v, ws + p.m,
                       ws + p.yt, bias };
        for (size_t j = 0; j < k.nb; j++)
            hwc_in(isa, &hx, x + (s0 + j) * xs, k.xt + j * xtp);
        wg_stage_run(isa, &k, WG_IN);
        int ntc = (int)(k.nb * (size_t)p.nt);
        for (int xi = 0; xi < 36; xi++) {
            wg_mm g = { k.v + (size_t)xi * p.vs, u + (size_t)xi * (size_t)C * (size_t)p.OCs,
                        k.m + (size_t)xi * p.ms, (size_t)p.Cs, 1, (size_t)p.OCs,
                        (size_t)p.OCs, ntc, C, p.OCs / WG_L, 0 };
            wg_mm_run(isa, &g);
        }
        wg_stage_run(isa, &k, WG_OUT);
        for (size_t j = 0; j < k.nb; j++)
            hwc_out(isa, &hy, k.yt + j * ytp, y + (s0 + j) * ys, 0);
    }
}

// x (n, C, H, W); dy (n, OC, OH, OW); dx (n, C, H, W) += the input gradient (dx may be NULL;
// ut: acti_wino_weights(w, tr 1), unused without dx); g (C*9, OC) += the weight gradient,
// transposed (the conv layer's partial sums of one sample group)
void acti_wino_bwd(const float *x, const float *ut, const float *dy, float *dx, float *g,
                   size_t n, int C, int OC, int H, int W, int pad, float *ws)
{
    wg_plan p;
    wg_make_plan(&p, C, OC, H, W, pad);
    act_isa isa = wg_isa();
    float *du = ws + p.u;
    memset(du, 0, 36 * (size_t)C * (size_t)p.OCs * sizeof(float));
    size_t xs = (size_t)C * (size_t)H * (size_t)W, ys = (size_t)OC * (size_t)p.OH * (size_t)p.OW;
    size_t xtp = (size_t)p.Hp * (size_t)p.Wp * (size_t)p.Cs;
    size_t ytp = (size_t)p.Ho * (size_t)p.Wo * (size_t)p.OCs;
    const wg_hwc hx = { C, H, W, p.Cs, p.Wp, p.Hp, pad }, hy = { OC, p.OH, p.OW, p.OCs, p.Wo, p.Ho, 0 };
    for (size_t s0 = 0; s0 < n; s0 += p.ns) {
        wg_chunk k = { &p, n - s0 < p.ns ? n - s0 : p.ns, ws + p.xt, ws + p.v, ws + p.m,
                       ws + p.yt, NULL };
        for (size_t j = 0; j < k.nb; j++) {
            hwc_in(isa, &hx, x + (s0 + j) * xs, k.xt + j * xtp);
            hwc_in(isa, &hy, dy + (s0 + j) * ys, k.yt + j * ytp);
        }
        wg_stage_run(isa, &k, WG_IN);
        wg_stage_run(isa, &k, WG_DY);
        int ntc = (int)(k.nb * (size_t)p.nt);
        /* dU[xi] (C, OCs) += V[xi]^T (C x tiles) dM[xi] (tiles x OCs) */
        for (int xi = 0; xi < 36; xi++) {
            wg_mm gm = { k.v + (size_t)xi * p.vs, k.m + (size_t)xi * p.ms,
                         du + (size_t)xi * (size_t)C * (size_t)p.OCs, 1, (size_t)p.Cs,
                         (size_t)p.OCs, (size_t)p.OCs, C, ntc, p.OCs / WG_L, 1 };
            wg_mm_run(isa, &gm);
        }
        if (!dx)
            continue;
        /* dV[xi] (tiles, Cs) = dM[xi] (tiles x OC) UT[xi] (OC x Cs), into v */
        for (int xi = 0; xi < 36; xi++) {
            wg_mm gm = { k.m + (size_t)xi * p.ms, ut + (size_t)xi * (size_t)OC * (size_t)p.Cs,
                         k.v + (size_t)xi * p.vs, (size_t)p.OCs, 1, (size_t)p.Cs,
                         (size_t)p.Cs, ntc, OC, p.Cs / WG_L, 0 };
            wg_mm_run(isa, &gm);
        }
        memset(k.xt, 0, k.nb * xtp * sizeof(float));
        wg_stage_run(isa, &k, WG_DX);
        for (size_t j = 0; j < k.nb; j++)
            hwc_out(isa, &hx, k.xt + j * xtp, dx + (s0 + j) * xs, 1);
    }
    wt_bwd(isa, &p, du, g);
}

/* AUTO: where Winograd measured faster than the existing path, per layer and pass (dev/wino_bench,
 * ms per batch of 128, 1 thread, Zen 4; existing path -> Winograd; fwd, dw+db, dx):
 *   avx512: 32x26x26>64 p0 31.3 -> 7.07, 30.3 -> 8.37, 31.2 -> 4.63
 *           16x28x28>16 4.29 -> 2.23, 4.93 -> 2.33, 2.99 -> 1.67
 *           32x14x14>32 3.40 -> 2.01, 4.39 -> 2.17, 2.69 -> 1.51
 *           64x7x7>64   3.07 -> 1.60, 5.03 -> 1.72, 2.97 -> 1.38
 *           stems: 3x28x28>16 2.54 -> 1.42, 2.81 -> 1.77, 1.80 -> 1.39;
 *                  1x28x28>32 p0 2.30 -> 2.24, 2.94 -> 2.69, 1.02 -> 1.76
 *   avx2:   16x28x28>16 5.84 -> 2.87, 11.7 -> 3.18; 32x14x14>32 5.31 -> 2.72, 7.22 -> 2.79;
 *           64x7x7>64 6.32 -> 2.33, 6.94 -> 2.23; 32x26x26>64 30.6 -> 10.4, 30.0 -> 12.3;
 *           3x28x28>16 2.57 -> 1.60, 2.77 -> 2.10; 1x28x28>32 2.29 -> 2.65, 2.96 -> 3.32
 * So: both passes, with a vector ISA, for 3 <= C <= 64, 8 <= OC <= 64 (the measured widths; a
 * 1-channel stem pays 16-lane channel padding and is even to slower) on planes of at least 7x7
 * (smaller planes waste most of each 4x4 output tile; not measured), pad 0 or 1. The direct and
 * im2col kernels keep their own tests (tests/test_nn_grad.c pins ACT_CONV_GEMM there). */
int acti_wino_use(act_conv_algo algo, int c, int oc, int h, int w, int pad)
{
    switch (algo) {
    case ACT_CONV_GEMM: return 0;
    case ACT_CONV_WINOGRAD: return 1;
    case ACT_CONV_AUTO: break;
    }
    act_isa isa = wg_isa();
    return (isa == ACT_ISA_AVX512 || isa == ACT_ISA_AVX2) && c >= 3 && c <= 64 && oc >= 8 &&
           oc <= 64 && h >= 7 && w >= 7 && (pad == 0 || pad == 1);
}
