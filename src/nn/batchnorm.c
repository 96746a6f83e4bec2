/* batchnorm.c -- batch normalisation over (N, C, HW) with trainable scale and shift and running
 * statistics (momentum 0.1, unbiased running variance, as PyTorch). A training batch with one
 * value per channel (N*HW < 2) uses the running statistics and leaves them alone: with batch
 * statistics x - mean would be 0, the output the shift whatever the input, with no input
 * gradient (docs/references.md, "Batch norm"). The layer splits samples across threads
 * where rows are long (acti_bn_fwd_any, below); acti_bn_fwd / acti_bn_bwd split channels.
 *
 * Two passes each way, each walking a block of up to 32 channels sample by sample (contiguous
 * memory; measured faster than channel by channel, even where a channel's rows fit in L2):
 * forward sums (x - K, (x - K)^2), then y = a x + b; backward sums (dy, dy (x - mean)), then
 * dx += A dy + B x + D. Sums go in 16 float lanes per row (element j of a row in lane j mod 16),
 * added lane by lane into 16 doubles per channel, which are summed in lane order at the end.
 * AVX-512 (one register), AVX2 (two) and scalar code do the same float operations in the same
 * order (no FMA: -std=c11 keeps -ffp-contract=off), so results are bit-identical across ISAs
 * and do not depend on the thread count (tests/test_nn_bnpool.c checks both). */
#include <stdint.h>
#include <string.h>

#include "actlab/act.h"
#include "nn/layers.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BN_X86 1
#endif

enum { GAMMA, BETA, RMEAN, RVAR };
enum { MEAN, INVSTD, PART };

enum { L = 16,          /* lanes of the row sums */
       BN_CB = 32,      /* channels per block (stack: 2 * BN_CB * L doubles) */
       BN_PF = 256,     /* the sums prefetch this many floats ahead (1 KB: measured best of
                           0.25-8 KB, 2x on a cold 64x7x7 batch, where rows are short) */
       BN_NB = 8,       /* samples per partial sum of the sample-split path */
       BN_ROWS = 16 };  /* the layer splits samples across threads from this HW up */

/* A block of channels [c0, c1) over all N samples. Per-channel arrays are indexed c - c0. */
typedef struct bn_job {
    const float *x, *g;       /* x; dy (backward) */
    float *y;                 /* y (forward) or dx (backward) */
    const float *k;           /* shift of the sums: K (forward) or the mean (backward) */
    const float *A, *B, *D;   /* output pass coefficients */
    double *s1, *s2;          /* lane sums, (c1 - c0, L) */
    size_t N, C, HW, c0, c1;
} bn_job;

static inline const float *row(const float *p, const bn_job *j, size_t n, size_t c)
{
    return p + (n * j->C + c) * j->HW;
}

#define INL inline __attribute__((always_inline))

/* --- scalar: the reference for the vector code, lane for lane ------------------------------ */

/* bwd 0: s1 += x - k, s2 += (x - k)^2; bwd 1: s1 += g, s2 += g (x - k). */
static INL void sums_scalar(const bn_job *j, int bwd)
{
    for (size_t n = 0; n < j->N; n++)
        for (size_t c = j->c0; c < j->c1; c++) {
            const float *p = row(j->x, j, n, c), *g = bwd ? row(j->g, j, n, c) : NULL;
            float k = j->k[c - j->c0], a[L] = { 0 }, b[L] = { 0 };
            for (size_t i0 = 0; i0 < j->HW; i0 += L) {
                int nl = j->HW - i0 < L ? (int)(j->HW - i0) : L;
                for (int l = 0; l < nl; l++) {
                    float d = p[i0 + (size_t)l] - k;
                    if (bwd) {
                        a[l] += g[i0 + (size_t)l];
                        b[l] += g[i0 + (size_t)l] * d;
                    } else {
                        a[l] += d;
                        b[l] += d * d;
                    }
                }
            }
            double *s1 = j->s1 + (c - j->c0) * L, *s2 = j->s2 + (c - j->c0) * L;
            for (int l = 0; l < L; l++) {
                s1[l] += (double)a[l];
                s2[l] += (double)b[l];
            }
        }
}

/* bwd 0: y = x A + B; bwd 1: y += (g A + x B) + D; bwd 2: y = (g A + x B) + D. */
static INL void out_scalar(const bn_job *j, int bwd)
{
    for (size_t n = 0; n < j->N; n++)
        for (size_t c = j->c0; c < j->c1; c++) {
            const float *p = row(j->x, j, n, c);
            float *q = j->y + (n * j->C + c) * j->HW;
            float A = j->A[c - j->c0], B = j->B[c - j->c0];
            if (!bwd) {
                for (size_t i = 0; i < j->HW; i++)
                    q[i] = p[i] * A + B;
                continue;
            }
            const float *g = row(j->g, j, n, c);
            float D = j->D[c - j->c0];
            for (size_t i = 0; i < j->HW; i++) {
                float t = g[i] * A + p[i] * B;
                if (bwd == 2)
                    q[i] = t + D;
                else
                    q[i] += t + D;
            }
        }
}

static void fwd_sums_scalar(const bn_job *j) { sums_scalar(j, 0); }
static void bwd_sums_scalar(const bn_job *j) { sums_scalar(j, 1); }
static void fwd_out_scalar(const bn_job *j) { out_scalar(j, 0); }
static void bwd_out_scalar(const bn_job *j) { out_scalar(j, 1); }
static void set_out_scalar(const bn_job *j) { out_scalar(j, 2); }

#ifdef BN_X86
/* The address BN_PF floats past p (an integer: may lie past the array; prefetch never faults). */
static inline void prefetch_ahead(const float *p)
{
    _mm_prefetch((const char *)((uintptr_t)p + BN_PF * sizeof(float)), _MM_HINT_T0);
}

#define T512 __attribute__((target("avx512f")))
#define T256 __attribute__((target("avx2")))

/* --- AVX-512: one register of 16 lanes, masked tail ---------------------------------------- */

static INL T512 void lanes512(double *s, __m512 v)
{
    __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    _mm512_storeu_pd(s, _mm512_add_pd(_mm512_loadu_pd(s), lo));
    _mm512_storeu_pd(s + 8, _mm512_add_pd(_mm512_loadu_pd(s + 8), hi));
}

static INL T512 void sums512(const bn_job *j, int bwd)
{
    size_t HW = j->HW, F = HW / L * L;
    __mmask16 tm = (__mmask16)((1u << (HW - F)) - 1u);
    for (size_t n = 0; n < j->N; n++)
        for (size_t c = j->c0; c < j->c1; c++) {
            const float *p = row(j->x, j, n, c), *g = bwd ? row(j->g, j, n, c) : NULL;
            __m512 k = _mm512_set1_ps(j->k[c - j->c0]);
            __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps();
            for (size_t i = 0; i < HW; i += L) {
                prefetch_ahead(p + i);
                if (bwd)
                    prefetch_ahead(g + i);
            }
            for (size_t i = 0; i < F; i += L) {
                __m512 d = _mm512_sub_ps(_mm512_loadu_ps(p + i), k);
                if (bwd) {
                    __m512 gv = _mm512_loadu_ps(g + i);
                    a = _mm512_add_ps(a, gv);
                    b = _mm512_add_ps(b, _mm512_mul_ps(gv, d));
                } else {
                    a = _mm512_add_ps(a, d);
                    b = _mm512_add_ps(b, _mm512_mul_ps(d, d));
                }
            }
            if (tm) {
                /* plain loads while 16 lanes stay inside the tensor (masked ones are slow
                 * where they miss the cache); the masked adds ignore the other lanes */
                int in = (n * j->C + c) * HW + F + L <= j->N * j->C * HW;
                __m512 d = _mm512_sub_ps(in ? _mm512_loadu_ps(p + F)
                                            : _mm512_maskz_loadu_ps(tm, p + F), k);
                if (bwd) {
                    __m512 gv = in ? _mm512_loadu_ps(g + F) : _mm512_maskz_loadu_ps(tm, g + F);
                    a = _mm512_mask_add_ps(a, tm, a, gv);
                    b = _mm512_mask_add_ps(b, tm, b, _mm512_mul_ps(gv, d));
                } else {
                    a = _mm512_mask_add_ps(a, tm, a, d);
                    b = _mm512_mask_add_ps(b, tm, b, _mm512_mul_ps(d, d));
                }
            }
            lanes512(j->s1 + (c - j->c0) * L, a);
            lanes512(j->s2 + (c - j->c0) * L, b);
        }
}

/* The output of 16 values: full (plain loads) or the masked tail. */
static INL T512 __m512 outv512(const float *p, const float *g, const float *q, __mmask16 m,
                               int full, __m512 A, __m512 B, __m512 D, int bwd)
{
    __m512 x = full ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
    if (!bwd)
        return _mm512_add_ps(_mm512_mul_ps(x, A), B);
    __m512 gv = full ? _mm512_loadu_ps(g) : _mm512_maskz_loadu_ps(m, g);
    __m512 t = _mm512_add_ps(_mm512_mul_ps(gv, A), _mm512_mul_ps(x, B));
    if (bwd == 2)
        return _mm512_add_ps(t, D);
    __m512 qv = full ? _mm512_loadu_ps(q) : _mm512_maskz_loadu_ps(m, q);
    return _mm512_add_ps(qv, _mm512_add_ps(t, D));
}

static INL T512 void out512(const bn_job *j, int bwd)
{
    size_t HW = j->HW, F = HW / L * L;
    __mmask16 tm = (__mmask16)((1u << (HW - F)) - 1u);
    for (size_t n = 0; n < j->N; n++)
        for (size_t c = j->c0; c < j->c1; c++) {
            const float *p = row(j->x, j, n, c), *g = bwd ? row(j->g, j, n, c) : NULL;
            float *q = j->y + (n * j->C + c) * j->HW;
            __m512 A = _mm512_set1_ps(j->A[c - j->c0]), B = _mm512_set1_ps(j->B[c - j->c0]);
            __m512 D = bwd ? _mm512_set1_ps(j->D[c - j->c0]) : B;
            for (size_t i = 0; i < F; i += L)
                _mm512_storeu_ps(q + i, outv512(p + i, bwd ? g + i : NULL, q + i, 0, 1, A, B, D,
                                                bwd));
            if (!tm)
                continue;
            if (F + L <= (j->c1 - c) * HW) {
                /* the 16 lanes end inside this block's rows of sample n: plain loads, and a store
                 * that keeps the next rows' values (this thread rewrites them right after) */
                __m512 v = outv512(p + F, bwd ? g + F : NULL, q + F, 0, 1, A, B, D, bwd);
                _mm512_storeu_ps(q + F, _mm512_mask_mov_ps(_mm512_loadu_ps(q + F), tm, v));
            } else {
                _mm512_mask_storeu_ps(q + F, tm, outv512(p + F, bwd ? g + F : NULL, q + F, tm, 0,
                                                         A, B, D, bwd));
            }
        }
}

static T512 void fwd_sums512(const bn_job *j) { sums512(j, 0); }
static T512 void bwd_sums512(const bn_job *j) { sums512(j, 1); }
static T512 void fwd_out512(const bn_job *j) { out512(j, 0); }
static T512 void bwd_out512(const bn_job *j) { out512(j, 1); }
static T512 void set_out512(const bn_job *j) { out512(j, 2); }

/* --- AVX2: lanes 0-7 and 8-15 in two registers; the tail by vmaskmovps and a lane mask ----- */

static const int32_t ones_then_zeros[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

static INL T256 __m256i mask256(size_t r)   /* the first r lanes (r <= 8) */
{
    return _mm256_loadu_si256((const __m256i *)(const void *)(ones_then_zeros + 8 - r));
}

static INL T256 void lanes256(double *s, __m256 v)
{
    __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    _mm256_storeu_pd(s, _mm256_add_pd(_mm256_loadu_pd(s), lo));
    _mm256_storeu_pd(s + 4, _mm256_add_pd(_mm256_loadu_pd(s + 4), hi));
}

/* a, b += the terms of 8 values at p (and g); m: lanes that count (loads and adds elsewhere
 * see 0, and adding +0 to a lane sum leaves it unchanged: it never holds -0) */
static INL T256 void step256(const float *p, const float *g, __m256 k, __m256i m, int full,
                             int plain, __m256 *a, __m256 *b, int bwd)
{
    __m256 x = plain ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
    __m256 d = _mm256_sub_ps(x, k), u, v;
    if (bwd) {
        u = plain ? _mm256_loadu_ps(g) : _mm256_maskload_ps(g, m);
        v = _mm256_mul_ps(u, d);
    } else {
        u = d;
        v = _mm256_mul_ps(d, d);
    }
    if (!full) {
        u = _mm256_and_ps(u, _mm256_castsi256_ps(m));
        v = _mm256_and_ps(v, _mm256_castsi256_ps(m));
    }
    *a = _mm256_add_ps(*a, u);
    *b = _mm256_add_ps(*b, v);
}

static INL T256 void sums256(const bn_job *j, int bwd)
{
    size_t HW = j->HW, F = HW / L * L, r = HW - F;
    __m256i m0 = mask256(r < 8 ? r : 8), m1 = mask256(r < 8 ? 0 : r - 8), z = mask256(0);
    for (size_t n = 0; n < j->N; n++)
        for (size_t c = j->c0; c < j->c1; c++) {
            const float *p = row(j->x, j, n, c), *g = bwd ? row(j->g, j, n, c) : NULL;
            __m256 k = _mm256_set1_ps(j->k[c - j->c0]);
            __m256 a0 = _mm256_setzero_ps(), b0 = a0, a1 = a0, b1 = a0;
            for (size_t i = 0; i < HW; i += L) {
                prefetch_ahead(p + i);
                if (bwd)
                    prefetch_ahead(g + i);
            }
            for (size_t i = 0; i < F; i += L) {
                step256(p + i, bwd ? g + i : NULL, k, z, 1, 1, &a0, &b0, bwd);
                step256(p + i + 8, bwd ? g + i + 8 : NULL, k, z, 1, 1, &a1, &b1, bwd);
            }
            if (r) {   /* plain loads while inside the tensor, as in sums512 */
                int in = (n * j->C + c) * HW + F + L <= j->N * j->C * HW;
                step256(p + F, bwd ? g + F : NULL, k, m0, 0, in, &a0, &b0, bwd);
                step256(p + F + 8, bwd ? g + F + 8 : NULL, k, m1, 0, in, &a1, &b1, bwd);
            }
            double *s1 = j->s1 + (c - j->c0) * L, *s2 = j->s2 + (c - j->c0) * L;
            lanes256(s1, a0);
            lanes256(s1 + 8, a1);
            lanes256(s2, b0);
            lanes256(s2 + 8, b1);
        }
}

static INL T256 __m256 outv256(const float *p, const float *g, const float *q, __m256i m,
                               int full, __m256 A, __m256 B, __m256 D, int bwd)
{
    __m256 x = full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
    if (!bwd)
        return _mm256_add_ps(_mm256_mul_ps(x, A), B);
    __m256 gv = full ? _mm256_loadu_ps(g) : _mm256_maskload_ps(g, m);
    __m256 t = _mm256_add_ps(_mm256_mul_ps(gv, A), _mm256_mul_ps(x, B));
    if (bwd == 2)
        return _mm256_add_ps(t, D);
    __m256 qv = full ? _mm256_loadu_ps(q) : _mm256_maskload_ps(q, m);
    return _mm256_add_ps(qv, _mm256_add_ps(t, D));
}

static INL T256 void out256(const bn_job *j, int bwd)
{
    size_t HW = j->HW, F = HW / 8 * 8, r = HW - F;
    __m256i m = mask256(r), z = mask256(0);
    for (size_t n = 0; n < j->N; n++)
        for (size_t c = j->c0; c < j->c1; c++) {
            const float *p = row(j->x, j, n, c), *g = bwd ? row(j->g, j, n, c) : NULL;
            float *q = j->y + (n * j->C + c) * j->HW;
            __m256 A = _mm256_set1_ps(j->A[c - j->c0]), B = _mm256_set1_ps(j->B[c - j->c0]);
            __m256 D = bwd ? _mm256_set1_ps(j->D[c - j->c0]) : B;
            for (size_t i = 0; i < F; i += 8)
                _mm256_storeu_ps(q + i, outv256(p + i, bwd ? g + i : NULL, q + i, z, 1, A, B, D,
                                                bwd));
            if (!r)
                continue;
            if (F + 8 <= (j->c1 - c) * HW) {   /* as in out512 */
                __m256 v = outv256(p + F, bwd ? g + F : NULL, q + F, z, 1, A, B, D, bwd);
                _mm256_storeu_ps(q + F, _mm256_blendv_ps(_mm256_loadu_ps(q + F), v,
                                                         _mm256_castsi256_ps(m)));
            } else {
                _mm256_maskstore_ps(q + F, m, outv256(p + F, bwd ? g + F : NULL, q + F, m, 0, A,
                                                      B, D, bwd));
            }
        }
}

static T256 void fwd_sums256(const bn_job *j) { sums256(j, 0); }
static T256 void bwd_sums256(const bn_job *j) { sums256(j, 1); }
static T256 void fwd_out256(const bn_job *j) { out256(j, 0); }
static T256 void bwd_out256(const bn_job *j) { out256(j, 1); }
static T256 void set_out256(const bn_job *j) { out256(j, 2); }
#endif

/* --- HW == 1 (batch norm after a dense layer): the channels are the contiguous axis ----------
 * The code above walks rows of one value each through 16 lanes; here a block of up to BN_DB
 * channels is walked sample by sample, vectorised over the channels. Each channel still sums its
 * values in sample order, each term in float and the sums in double (forward: d = x - k, s1 +=
 * d, s2 += d d; backward: s1 += g, s2 += g (x - k)), which is what the lane code computes for a
 * row of one value (lane 0 holds it, the other lanes stay +0), so the bits are the same as
 * there, for every ISA and thread count (tests/test_nn_bnpool.c checks both). Measured on
 * mlp:128x50,bn: the layer 12x faster than through the lanes (docs/training.md). */
enum { BN_DB = 256 };   /* channels per block (stack: 2 BN_DB doubles, 3 BN_DB floats) */

/* Sums over one sample's channels [0, n): g NULL forward, else backward. */
static INL void dsums_scalar(const float *x, const float *g, const float *k, double *s1,
                             double *s2, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        float d = x[c] - k[c];
        float u = g ? g[c] : d, v = g ? g[c] * d : d * d;
        s1[c] += (double)u;
        s2[c] += (double)v;
    }
}

/* mode 0: y = x A + B; 1: y += (g A + x B) + D; 2: y = (g A + x B) + D. */
static INL void dout_scalar(const float *x, const float *g, float *y, const float *A,
                            const float *B, const float *D, size_t n, int mode)
{
    for (size_t c = 0; c < n; c++) {
        if (mode == 0) {
            y[c] = x[c] * A[c] + B[c];
            continue;
        }
        float t = g[c] * A[c] + x[c] * B[c];
        y[c] = mode == 2 ? t + D[c] : y[c] + (t + D[c]);
    }
}

#ifdef BN_X86
static T512 void dsums512(const float *x, const float *g, const float *k, double *s1,
                          double *s2, size_t n)
{
    size_t c = 0;
    for (; c + 16 <= n; c += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + c), _mm512_loadu_ps(k + c));
        __m512 u = d, v;
        if (g) {
            u = _mm512_loadu_ps(g + c);
            v = _mm512_mul_ps(u, d);
        } else {
            v = _mm512_mul_ps(d, d);
        }
        lanes512(s1 + c, u);   /* 16 doubles at s1 + c, each += its float */
        lanes512(s2 + c, v);
    }
    dsums_scalar(x + c, g ? g + c : NULL, k + c, s1 + c, s2 + c, n - c);
}

static T512 void dout512(const float *x, const float *g, float *y, const float *A,
                         const float *B, const float *D, size_t n, int mode)
{
    size_t c = 0;
    for (; c + 16 <= n; c += 16) {
        __m512 xv = _mm512_loadu_ps(x + c), r;
        if (mode == 0) {
            r = _mm512_add_ps(_mm512_mul_ps(xv, _mm512_loadu_ps(A + c)), _mm512_loadu_ps(B + c));
        } else {
            __m512 t = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(g + c), _mm512_loadu_ps(A + c)),
                                     _mm512_mul_ps(xv, _mm512_loadu_ps(B + c)));
            r = _mm512_add_ps(t, _mm512_loadu_ps(D + c));
            if (mode == 1)
                r = _mm512_add_ps(_mm512_loadu_ps(y + c), r);
        }
        _mm512_storeu_ps(y + c, r);
    }
    dout_scalar(x + c, g ? g + c : NULL, y + c, A + c, B + c, D ? D + c : NULL, n - c, mode);
}

static T256 void dsums256(const float *x, const float *g, const float *k, double *s1,
                          double *s2, size_t n)
{
    size_t c = 0;
    for (; c + 8 <= n; c += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + c), _mm256_loadu_ps(k + c));
        __m256 u = d, v;
        if (g) {
            u = _mm256_loadu_ps(g + c);
            v = _mm256_mul_ps(u, d);
        } else {
            v = _mm256_mul_ps(d, d);
        }
        lanes256(s1 + c, u);
        lanes256(s2 + c, v);
    }
    dsums_scalar(x + c, g ? g + c : NULL, k + c, s1 + c, s2 + c, n - c);
}

static T256 void dout256(const float *x, const float *g, float *y, const float *A,
                         const float *B, const float *D, size_t n, int mode)
{
    size_t c = 0;
    for (; c + 8 <= n; c += 8) {
        __m256 xv = _mm256_loadu_ps(x + c), r;
        if (mode == 0) {
            r = _mm256_add_ps(_mm256_mul_ps(xv, _mm256_loadu_ps(A + c)), _mm256_loadu_ps(B + c));
        } else {
            __m256 t = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(g + c), _mm256_loadu_ps(A + c)),
                                     _mm256_mul_ps(xv, _mm256_loadu_ps(B + c)));
            r = _mm256_add_ps(t, _mm256_loadu_ps(D + c));
            if (mode == 1)
                r = _mm256_add_ps(_mm256_loadu_ps(y + c), r);
        }
        _mm256_storeu_ps(y + c, r);
    }
    dout_scalar(x + c, g ? g + c : NULL, y + c, A + c, B + c, D ? D + c : NULL, n - c, mode);
}
#endif

static void dsums(act_isa isa, const float *x, const float *g, const float *k, double *s1,
                  double *s2, size_t n)
{
#ifdef BN_X86
    if (isa == ACT_ISA_AVX512) {
        dsums512(x, g, k, s1, s2, n);
        return;
    }
    if (isa == ACT_ISA_AVX2) {
        dsums256(x, g, k, s1, s2, n);
        return;
    }
#endif
    (void)isa;
    dsums_scalar(x, g, k, s1, s2, n);
}

static void dout(act_isa isa, const float *x, const float *g, float *y, const float *A,
                 const float *B, const float *D, size_t n, int mode)
{
#ifdef BN_X86
    if (isa == ACT_ISA_AVX512) {
        dout512(x, g, y, A, B, D, n, mode);
        return;
    }
    if (isa == ACT_ISA_AVX2) {
        dout256(x, g, y, A, B, D, n, mode);
        return;
    }
#endif
    (void)isa;
    dout_scalar(x, g, y, A, B, D, n, mode);
}

static void run_sums(act_isa isa, const bn_job *j, int bwd)
{
    size_t nc = j->c1 - j->c0;
    memset(j->s1, 0, nc * L * sizeof *j->s1);
    memset(j->s2, 0, nc * L * sizeof *j->s2);
#ifdef BN_X86
    if (isa == ACT_ISA_AVX512) {
        bwd ? bwd_sums512(j) : fwd_sums512(j);
        return;
    }
    if (isa == ACT_ISA_AVX2) {
        bwd ? bwd_sums256(j) : fwd_sums256(j);
        return;
    }
#endif
    (void)isa;
    bwd ? bwd_sums_scalar(j) : fwd_sums_scalar(j);
}

static void run_out(act_isa isa, const bn_job *j, int bwd)
{
#ifdef BN_X86
    if (isa == ACT_ISA_AVX512) {
        bwd == 2 ? set_out512(j) : bwd ? bwd_out512(j) : fwd_out512(j);
        return;
    }
    if (isa == ACT_ISA_AVX2) {
        bwd == 2 ? set_out256(j) : bwd ? bwd_out256(j) : fwd_out256(j);
        return;
    }
#endif
    (void)isa;
    bwd == 2 ? set_out_scalar(j) : bwd ? bwd_out_scalar(j) : fwd_out_scalar(j);
}

/* The 16 lane sums of one channel, in lane order. */
static double lane_total(const double *s)
{
    double t = 0.0;
    for (int l = 0; l < L; l++)
        t += s[l];
    return t;
}

/* Statistics from the sums of x - K and (x - K)^2 with K the channel's first value (the
 * shifted-data variance: no cancellation while |mean - K| is a few standard deviations, which
 * one sample of the channel guarantees in practice), then one pass writing y. */
/* Channel c's statistics from the sums of x - K and (x - K)^2 over M values (use_batch), or
 * its running statistics, and the output pass's y = A x + B. keep: this call owns the channel's
 * outputs (running statistics, mean, invstd; one thread per channel). */
static void fwd_coef(int use_batch, double s, double ss, float K, size_t M, size_t c, int keep,
                     const float *gamma, const float *beta, float *rmean, float *rvar,
                     float *mean, float *invstd, float *A, float *B)
{
    float mu, is;
    if (use_batch) {
        double d = s / (double)M;
        double m = (double)K + d;
        double sq = ss - s * d;   /* sum of squared deviations from the mean */
        if (sq < 0.0)
            sq = 0.0;
        double var = sq / (double)M;
        mu = (float)m;
        is = (float)(1.0 / sqrt(var + (double)ACTI_BN_EPS));
        if (keep) {
            rmean[c] = (1.0f - ACTI_BN_MOMENTUM) * rmean[c] + ACTI_BN_MOMENTUM * mu;
            rvar[c] = (1.0f - ACTI_BN_MOMENTUM) * rvar[c] +
                      ACTI_BN_MOMENTUM * (float)(sq / (double)(M - 1));
        }
    } else {
        mu = rmean[c];
        is = 1.0f / sqrtf(rvar[c] + ACTI_BN_EPS);
    }
    if (keep) {
        mean[c] = mu;
        invstd[c] = is;
    }
    *A = gamma[c] * is;
    *B = beta[c] - mu * *A;
}

/* Channel c's parameter gradients from the sums of dy (sd) and dy (x - mean) (sdx) over M
 * values (added when keep), and the output pass's dx (+)= A dy + B x + D. */
static void bwd_coef(int use_batch, double sd, double sdx, size_t M, size_t c, int keep,
                     const float *gamma, const float *mean, const float *invstd, float *dgamma,
                     float *dbeta, float *A, float *B, float *D)
{
    float mu = mean[c], is = invstd[c];
    sdx *= (double)is;
    if (keep) {
        dgamma[c] += (float)sdx;
        dbeta[c] += (float)sd;
    }
    /* dx = k (dy - a - (x - mu) is b) */
    float k = gamma[c] * is;
    float a = use_batch ? (float)(sd / (double)M) : 0.0f;
    float b = use_batch ? (float)(sdx / (double)M) : 0.0f;
    *A = k;
    *B = -k * is * b;
    *D = k * (mu * is * b - a);
}

/* HW == 1, channels [lo, hi): the forward and backward of acti_bn_fwd / acti_bn_bwd. */
static void fwd_dense(act_isa isa, int use_batch, const float *x, const float *gamma,
                      const float *beta, float *rmean, float *rvar, float *mean, float *invstd,
                      float *y, size_t N, size_t C, size_t lo, size_t hi)
{
    double s1[BN_DB], s2[BN_DB];
    float A[BN_DB], B[BN_DB];
    for (size_t c0 = lo; c0 < hi; c0 += BN_DB) {
        size_t nc = hi - c0 < BN_DB ? hi - c0 : BN_DB;
        if (use_batch) {   /* K: the first sample's row */
            memset(s1, 0, nc * sizeof *s1);
            memset(s2, 0, nc * sizeof *s2);
            for (size_t n = 0; n < N; n++)
                dsums(isa, x + n * C + c0, NULL, x + c0, s1, s2, nc);
        }
        for (size_t c = c0; c < c0 + nc; c++)
            fwd_coef(use_batch, use_batch ? s1[c - c0] : 0.0, use_batch ? s2[c - c0] : 0.0, x[c],
                     N, c, 1, gamma, beta, rmean, rvar, mean, invstd, &A[c - c0], &B[c - c0]);
        for (size_t n = 0; n < N; n++)
            dout(isa, x + n * C + c0, NULL, y + n * C + c0, A, B, NULL, nc, 0);
    }
}

static void bwd_dense(act_isa isa, int use_batch, const float *x, const float *gamma,
                      const float *mean, const float *invstd, const float *dy, float *dx,
                      float *dgamma, float *dbeta, size_t N, size_t C, size_t lo, size_t hi,
                      int assign)
{
    double s1[BN_DB], s2[BN_DB];
    float A[BN_DB], B[BN_DB], D[BN_DB];
    for (size_t c0 = lo; c0 < hi; c0 += BN_DB) {
        size_t nc = hi - c0 < BN_DB ? hi - c0 : BN_DB;
        memset(s1, 0, nc * sizeof *s1);
        memset(s2, 0, nc * sizeof *s2);
        for (size_t n = 0; n < N; n++)
            dsums(isa, x + n * C + c0, dy + n * C + c0, mean + c0, s1, s2, nc);
        for (size_t c = c0; c < c0 + nc; c++)
            bwd_coef(use_batch, s1[c - c0], s2[c - c0], N, c, 1, gamma, mean, invstd, dgamma,
                     dbeta, &A[c - c0], &B[c - c0], &D[c - c0]);
        for (size_t n = 0; dx && n < N; n++)
            dout(isa, x + n * C + c0, dy + n * C + c0, dx + n * C + c0, A, B, D, nc,
                 assign ? 2 : 1);
    }
}

void acti_bn_fwd(int tid, int nt, int use_batch, const float *x, const float *gamma,
                 const float *beta, float *rmean, float *rvar, float *mean, float *invstd,
                 float *y, size_t N, size_t C, size_t HW)
{
    size_t lo, hi;
    acti_nn_range(C, tid, nt, &lo, &hi);
    size_t M = N * HW;
    act_isa isa = act_isa_get();
    if (HW == 1) {
        fwd_dense(isa, use_batch, x, gamma, beta, rmean, rvar, mean, invstd, y, N, C, lo, hi);
        return;
    }
    double s1[BN_CB * L], s2[BN_CB * L];
    float K[BN_CB], A[BN_CB], B[BN_CB];
    for (size_t c0 = lo; c0 < hi; c0 += BN_CB) {
        size_t c1 = c0 + BN_CB < hi ? c0 + BN_CB : hi;
        bn_job j = { x, NULL, y, K, A, B, NULL, s1, s2, N, C, HW, c0, c1 };
        if (use_batch) {
            for (size_t c = c0; c < c1; c++)
                K[c - c0] = x[c * HW];
            run_sums(isa, &j, 0);
        }
        for (size_t c = c0; c < c1; c++)
            fwd_coef(use_batch, use_batch ? lane_total(s1 + (c - c0) * L) : 0.0,
                     use_batch ? lane_total(s2 + (c - c0) * L) : 0.0, x[c * HW], M, c, 1,
                     gamma, beta, rmean, rvar, mean, invstd, &A[c - c0], &B[c - c0]);
        run_out(isa, &j, 0);
    }
}

/* One pass for the sums of dy and dy (x - mean), one adding dx = A dy + B x + D (writing it
 * when assign). */
void acti_bn_bwd(int tid, int nt, int use_batch, const float *x, const float *gamma,
                 const float *mean, const float *invstd, const float *dy, float *dx,
                 float *dgamma, float *dbeta, size_t N, size_t C, size_t HW, int assign)
{
    size_t lo, hi;
    acti_nn_range(C, tid, nt, &lo, &hi);
    size_t M = N * HW;
    act_isa isa = act_isa_get();
    if (HW == 1) {
        bwd_dense(isa, use_batch, x, gamma, mean, invstd, dy, dx, dgamma, dbeta, N, C, lo, hi,
                  assign);
        return;
    }
    double s1[BN_CB * L], s2[BN_CB * L];
    float A[BN_CB], B[BN_CB], D[BN_CB];
    for (size_t c0 = lo; c0 < hi; c0 += BN_CB) {
        size_t c1 = c0 + BN_CB < hi ? c0 + BN_CB : hi;
        bn_job j = { x, dy, dx, mean + c0, A, B, D, s1, s2, N, C, HW, c0, c1 };
        run_sums(isa, &j, 1);
        for (size_t c = c0; c < c1; c++)
            bwd_coef(use_batch, lane_total(s1 + (c - c0) * L), lane_total(s2 + (c - c0) * L), M,
                     c, 1, gamma, mean, invstd, dgamma, dbeta, &A[c - c0], &B[c - c0],
                     &D[c - c0]);
        if (dx)
            run_out(isa, &j, assign ? 2 : 1);
    }
}
/* ---------------------------------------------------------------------------------------------
 * The sample-split form (the layer's, for HW >= BN_ROWS): each thread takes a range of samples,
 * as the conv before it and the activation after it do, so it reads what it wrote (measured at
 * 2 threads: the channel split scaled 1.16x, the sample-split layers around it 1.8-1.9x).
 * Pass 1 sums fixed blocks of BN_NB samples (16 float lanes per row as above, each block's lanes
 * totalled in lane order into part); after a barrier every thread adds the blocks in block
 * order (the same bits for any thread count), thread 0 keeps the statistics, and pass 2 writes
 * each thread's samples. Must be called by every thread of the team (it has a barrier). part:
 * 2 * ceil(N / BN_NB) * C doubles. */
size_t acti_bn_part_doubles(size_t N, size_t C)
{
    return 2 * ((N + BN_NB - 1) / BN_NB) * C;
}

/* Pass 1: forward (bwd 0) sums x - K with K each channel's first value, as the channel-split
 * form; backward (bwd 1) sums dy and dy (x - k) with k the mean. */
static void part_sums(act_isa isa, const float *x, const float *dy, const float *k, double *part,
                      int tid, int nt, size_t N, size_t C, size_t HW, int bwd)
{
    size_t nb = (N + BN_NB - 1) / BN_NB, lo, hi;
    acti_nn_range(nb, tid, nt, &lo, &hi);
    double s1[BN_CB * L], s2[BN_CB * L];
    float K[BN_CB];
    for (size_t b = lo; b < hi; b++) {
        size_t n0 = b * BN_NB, n1 = n0 + BN_NB < N ? n0 + BN_NB : N;
        for (size_t c0 = 0; c0 < C; c0 += BN_CB) {
            size_t c1 = c0 + BN_CB < C ? c0 + BN_CB : C;
            for (size_t c = c0; !bwd && c < c1; c++)
                K[c - c0] = x[c * HW];
            bn_job j = { x + n0 * C * HW, dy ? dy + n0 * C * HW : NULL, NULL,
                         bwd ? k + c0 : K, NULL, NULL, NULL, s1, s2, n1 - n0, C, HW, c0, c1 };
            run_sums(isa, &j, bwd);
            for (size_t c = c0; c < c1; c++) {
                part[b * C + c] = lane_total(s1 + (c - c0) * L);
                part[(nb + b) * C + c] = lane_total(s2 + (c - c0) * L);
            }
        }
    }
}

static void part_total(const double *part, size_t nb, size_t C, size_t c, double *t1, double *t2)
{
    double a = 0.0, b = 0.0;
    for (size_t k = 0; k < nb; k++) {
        a += part[k * C + c];
        b += part[(nb + k) * C + c];
    }
    *t1 = a;
    *t2 = b;
}

static void acti_bn_fwd_s(int tid, int nt, int use_batch, const float *x, const float *gamma,
                          const float *beta, float *rmean, float *rvar, float *mean,
                          float *invstd, float *y, size_t N, size_t C, size_t HW, double *part)
{
    act_isa isa = act_isa_get();
    size_t nb = (N + BN_NB - 1) / BN_NB, M = N * HW, lo, hi;
    float A[BN_CB], B[BN_CB];
    if (use_batch) {
        part_sums(isa, x, NULL, NULL, part, tid, nt, N, C, HW, 0);
#pragma omp barrier
    }
    acti_nn_range(N, tid, nt, &lo, &hi);
    for (size_t c0 = 0; c0 < C; c0 += BN_CB) {
        size_t c1 = c0 + BN_CB < C ? c0 + BN_CB : C;
        for (size_t c = c0; c < c1; c++) {
            double sum = 0.0, ss = 0.0;
            if (use_batch)
                part_total(part, nb, C, c, &sum, &ss);
            fwd_coef(use_batch, sum, ss, x[c * HW], M, c, tid == 0, gamma, beta, rmean, rvar,
                     mean, invstd, &A[c - c0], &B[c - c0]);
        }
        if (hi > lo) {
            bn_job j = { x + lo * C * HW, NULL, y + lo * C * HW, NULL, A, B, NULL, NULL, NULL,
                         hi - lo, C, HW, c0, c1 };
            run_out(isa, &j, 0);
        }
    }
}

static void acti_bn_bwd_s(int tid, int nt, int use_batch, const float *x, const float *gamma,
                          const float *mean, const float *invstd, const float *dy, float *dx,
                          float *dgamma, float *dbeta, size_t N, size_t C, size_t HW,
                          int assign, double *part)
{
    act_isa isa = act_isa_get();
    size_t nb = (N + BN_NB - 1) / BN_NB, M = N * HW, lo, hi;
    part_sums(isa, x, dy, mean, part, tid, nt, N, C, HW, 1);
#pragma omp barrier
    float A[BN_CB], B[BN_CB], D[BN_CB];
    acti_nn_range(N, tid, nt, &lo, &hi);
    for (size_t c0 = 0; c0 < C; c0 += BN_CB) {
        size_t c1 = c0 + BN_CB < C ? c0 + BN_CB : C;
        for (size_t c = c0; c < c1; c++) {
            double sd, sdx;
            part_total(part, nb, C, c, &sd, &sdx);
            bwd_coef(use_batch, sd, sdx, M, c, tid == 0, gamma, mean, invstd, dgamma, dbeta,
                     &A[c - c0], &B[c - c0], &D[c - c0]);
        }
        if (dx && hi > lo) {
            bn_job j = { x + lo * C * HW, dy + lo * C * HW, dx + lo * C * HW, mean + c0, A, B, D,
                         NULL, NULL, hi - lo, C, HW, c0, c1 };
            run_out(isa, &j, assign ? 2 : 1);
        }
    }
}

/* The layer's choice of form: the sample split where rows are long enough to stream. */
void acti_bn_fwd_any(int tid, int nt, int use_batch, const float *x, const float *gamma,
                     const float *beta, float *rmean, float *rvar, float *mean, float *invstd,
                     float *y, size_t N, size_t C, size_t HW, double *part)
{
    if (HW >= BN_ROWS && part)
        acti_bn_fwd_s(tid, nt, use_batch, x, gamma, beta, rmean, rvar, mean, invstd, y, N, C, HW,
                      part);
    else
        acti_bn_fwd(tid, nt, use_batch, x, gamma, beta, rmean, rvar, mean, invstd, y, N, C, HW);
}

void acti_bn_bwd_any(int tid, int nt, int use_batch, const float *x, const float *gamma,
                     const float *mean, const float *invstd, const float *dy, float *dx,
                     float *dgamma, float *dbeta, size_t N, size_t C, size_t HW, int assign,
                     double *part)
{
    if (HW >= BN_ROWS && part)
        acti_bn_bwd_s(tid, nt, use_batch, x, gamma, mean, invstd, dy, dx, dgamma, dbeta, N, C,
                      HW, assign, part);
    else
        acti_bn_bwd(tid, nt, use_batch, x, gamma, mean, invstd, dy, dx, dgamma, dbeta, N, C, HW,
                    assign);
}

int acti_bn_add(act_net *net, int in)
{
    const acti_tensor src = net->tensors[in];
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_BN, in, &l);
    if (li < 0)
        return li;
    size_t C = (size_t)src.c;
    l->p[GAMMA] = acti_param_new(net, li, "gamma", C, ACT_SEG_LEARN, ACTI_INIT_ONE, 0);
    l = &net->layers[li];
    l->p[BETA] = acti_param_new(net, li, "beta", C, ACT_SEG_LEARN, ACTI_INIT_ZERO, 0);
    l = &net->layers[li];
    l->p[RMEAN] = acti_param_new(net, li, "running_mean", C, 0, ACTI_INIT_ZERO, 0);
    l = &net->layers[li];
    l->p[RVAR] = acti_param_new(net, li, "running_var", C, 0, ACTI_INIT_ONE, 0);
    l = &net->layers[li];
    l->ws[MEAN] = acti_ws_new(net, C);
    l = &net->layers[li];
    l->ws[INVSTD] = acti_ws_new(net, C);
    l = &net->layers[li];
    l->ws[PART] = acti_ws_new(net, 2 * acti_bn_part_doubles(net->cfg.max_batch, C));
    int t = acti_tensor_new(net, src.c, src.h, src.w);
    net->layers[li].out = t;
    return t;
}

int acti_bn_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    const acti_tensor *t = &net->tensors[l->in0];
    size_t HW = (size_t)t->h * (size_t)t->w;
    l->use_batch = train && n * HW >= 2;
    int T = net->threads;
    double *part = (double *)(void *)acti_ws(net, l->ws[PART]);
#pragma omp parallel num_threads(T) if (T > 1)
    acti_bn_fwd_any(ACTI_TID(), ACTI_NT(), l->use_batch, acti_val(net, l->in0),
                    acti_P(net, l, GAMMA), acti_P(net, l, BETA), acti_P(net, l, RMEAN),
                    acti_P(net, l, RVAR), acti_ws(net, l->ws[MEAN]), acti_ws(net, l->ws[INVSTD]),
                    acti_val(net, l->out), n, (size_t)t->c, HW, part);
    return ACT_OK;
}

int acti_bn_backward(act_net *net, acti_layer *l, size_t n)
{
    const acti_tensor *t = &net->tensors[l->in0];
    size_t HW = (size_t)t->h * (size_t)t->w;
    int T = net->threads;
    float *dx = t->needs_grad ? acti_grad(net, l->in0) : NULL;
    double *part = (double *)(void *)acti_ws(net, l->ws[PART]);
#pragma omp parallel num_threads(T) if (T > 1)
    acti_bn_bwd_any(ACTI_TID(), ACTI_NT(), l->use_batch, acti_val(net, l->in0),
                    acti_P(net, l, GAMMA), acti_ws(net, l->ws[MEAN]), acti_ws(net, l->ws[INVSTD]),
                    acti_grad(net, l->out), dx, acti_G(net, l, GAMMA), acti_G(net, l, BETA), n,
                    (size_t)t->c, HW, (int)(l->assign & 1u), part);
    return ACT_OK;
}
