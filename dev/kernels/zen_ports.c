/* zen_ports.c -- reciprocal throughput and latency, in core cycles, of the 512-bit instructions
 * the vector kernels (src/act/act_simd.h, AVX-512 path) are made of, measured on the machine it
 * runs on: the instruction floor of a kernel is its op counts times these. The core clock comes
 * from a chain of dependent integer adds (1 cycle each on every x86 core since the P6), so no
 * performance counters are needed (they are not exposed in most VMs). Throughput: 12
 * independent chains (enough to cover a latency of 12 at one instruction per cycle); latency:
 * one chain. Each figure is the minimum of 7 runs. Not part of `make` (dev/README.md):
 *   cc -O2 -mavx512f -mavx512dq -mavx512bw -mavx512vl -mfma dev/kernels/zen_ports.c \
 *      -o build/zen_ports && build/zen_ports */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* core clock in Hz: 4 dependent adds per iteration, 1 cycle each */
static double clock_hz(void)
{
    double best = 0;
    for (int r = 0; r < 5; r++) {
        uint64_t n = 50000000, a = 0;
        double t0 = now();
        for (uint64_t i = 0; i < n; i++)
            __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(a));
        double hz = 4.0 * (double)n / (now() - t0);
        if (hz > best)
            best = hz;
    }
    return best;
}

#define ITERS 2000000
#define KEEP(v) __asm__ volatile("" : "+v"(v))

/* OP(a) updates a from itself (and constants b, c); 12 chains or 1 chain */
#define BENCH(name, OP)                                                                     \
    static double tp_##name(void)                                                           \
    {                                                                                       \
        __m512 a0 = _mm512_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;      \
        __m512 a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;                      \
        __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);                      \
        KEEP(b); KEEP(c);                                                                   \
        double t0 = now();                                                                  \
        for (int i = 0; i < ITERS; i++) {                                                   \
            OP(a0); OP(a1); OP(a2); OP(a3); OP(a4); OP(a5);                                 \
            OP(a6); OP(a7); OP(a8); OP(a9); OP(a10); OP(a11);                               \
            KEEP(a0); KEEP(a1); KEEP(a2); KEEP(a3); KEEP(a4); KEEP(a5);                     \
            KEEP(a6); KEEP(a7); KEEP(a8); KEEP(a9); KEEP(a10); KEEP(a11);                   \
        }                                                                                   \
        double t = now() - t0;                                                              \
        volatile float sink = _mm512_reduce_add_ps(_mm512_add_ps(a0, a11));                 \
        (void)sink;                                                                         \
        return t / (12.0 * ITERS);                                                          \
    }                                                                                       \
    static double lat_##name(void)                                                          \
    {                                                                                       \
        __m512 a0 = _mm512_set1_ps(1.0f);                                                   \
        __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);                      \
        KEEP(b); KEEP(c);                                                                   \
        double t0 = now();                                                                  \
        for (int i = 0; i < ITERS; i++) {                                                   \
            OP(a0); KEEP(a0); OP(a0); KEEP(a0); OP(a0); KEEP(a0); OP(a0); KEEP(a0);         \
        }                                                                                   \
        double t = now() - t0;                                                              \
        volatile float sink = _mm512_reduce_add_ps(a0);                                     \
        (void)sink;                                                                         \
        return t / (4.0 * ITERS);                                                           \
    }

#define OP_FMA(a)   a = _mm512_fmadd_ps(a, b, c)
#define OP_MUL(a)   a = _mm512_mul_ps(a, b)
#define OP_ADD(a)   a = _mm512_add_ps(a, c)
#define OP_MAX(a)   a = _mm512_max_ps(a, c)
#define OP_AND(a)   a = _mm512_and_ps(a, b)
#define OP_TERN(a)  a = _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(a), \
                        _mm512_castps_si512(b), _mm512_castps_si512(c), 0x96))
#define OP_RND(a)   a = _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define OP_SCALEF(a) a = _mm512_scalef_ps(a, c)
#define OP_DIV(a)   a = _mm512_div_ps(a, b)
#define OP_RCP14(a) a = _mm512_rcp14_ps(a)
#define OP_GETEXP(a) a = _mm512_getexp_ps(a)
#define OP_CVT(a)   a = _mm512_castsi512_ps(_mm512_cvtps_epi32(a))
#define OP_PADD(a)  a = _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(a),            \
                        _mm512_castps_si512(c)))
#define OP_SLL(a)   a = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(a), 1))
#define OP_BLEND(a) a = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(b, c, _CMP_LT_OQ), a, c)
#define OP_CMPSEL(a) a = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, c, _CMP_LT_OQ), a, b)
#define OP_MASKMOV(a) a = _mm512_mask_mov_ps(a, _mm512_cmp_ps_mask(b, c, _CMP_LT_OQ), c)
#define OP_FIXUP(a) a = _mm512_fixupimm_ps(a, b, _mm512_castps_si512(c), 0)
#define OP_SQRT(a)  a = _mm512_sqrt_ps(a)
#define OP_PERM(a)  a = _mm512_permutexvar_ps(_mm512_castps_si512(c), a)

BENCH(fma, OP_FMA)
BENCH(mul, OP_MUL)
BENCH(add, OP_ADD)
BENCH(max, OP_MAX)
BENCH(and, OP_AND)
BENCH(tern, OP_TERN)
BENCH(rnd, OP_RND)
BENCH(scalef, OP_SCALEF)
BENCH(div, OP_DIV)
BENCH(rcp14, OP_RCP14)
BENCH(getexp, OP_GETEXP)
BENCH(cvt, OP_CVT)
BENCH(padd, OP_PADD)
BENCH(sll, OP_SLL)
BENCH(blend, OP_BLEND)
BENCH(cmpsel, OP_CMPSEL)
BENCH(maskmov, OP_MASKMOV)
BENCH(fixup, OP_FIXUP)
BENCH(perm, OP_PERM)
BENCH(sqrt, OP_SQRT)


/* two instruction kinds mixed 1:1 on 12 chains: cycles per pair. 1 = they issue in the same
 * cycle (different pipes); 2 = they share the pipes. */
#define MIX(name, OPA, OPB)                                                                 \
    static double mix_##name(void)                                                          \
    {                                                                                       \
        __m512 a0 = _mm512_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;      \
        __m512 a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;                      \
        __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);                      \
        KEEP(b); KEEP(c);                                                                   \
        double t0 = now();                                                                  \
        for (int i = 0; i < ITERS; i++) {                                                   \
            OPA(a0); OPB(a1); OPA(a2); OPB(a3); OPA(a4); OPB(a5);                           \
            OPA(a6); OPB(a7); OPA(a8); OPB(a9); OPA(a10); OPB(a11);                         \
            KEEP(a0); KEEP(a1); KEEP(a2); KEEP(a3); KEEP(a4); KEEP(a5);                     \
            KEEP(a6); KEEP(a7); KEEP(a8); KEEP(a9); KEEP(a10); KEEP(a11);                   \
        }                                                                                   \
        double t = now() - t0;                                                              \
        volatile float sink = _mm512_reduce_add_ps(_mm512_add_ps(a0, a11));                 \
        (void)sink;                                                                         \
        return t / (6.0 * ITERS);                                                           \
    }
MIX(fma_add, OP_FMA, OP_ADD)
MIX(fma_rnd, OP_FMA, OP_RND)
MIX(add_rnd, OP_ADD, OP_RND)
MIX(fma_scalef, OP_FMA, OP_SCALEF)
MIX(add_scalef, OP_ADD, OP_SCALEF)
MIX(fma_rcp14, OP_FMA, OP_RCP14)
MIX(add_rcp14, OP_ADD, OP_RCP14)
MIX(fma_getexp, OP_FMA, OP_GETEXP)
MIX(add_getexp, OP_ADD, OP_GETEXP)
MIX(fma_cvt, OP_FMA, OP_CVT)
MIX(add_cvt, OP_ADD, OP_CVT)
MIX(fma_sll, OP_FMA, OP_SLL)
MIX(add_sll, OP_ADD, OP_SLL)
MIX(fma_max, OP_FMA, OP_MAX)
MIX(add_max, OP_ADD, OP_MAX)
MIX(fma_and, OP_FMA, OP_AND)
MIX(fma_padd, OP_FMA, OP_PADD)
MIX(fma_blend, OP_FMA, OP_CMPSEL)
MIX(add_blend, OP_ADD, OP_CMPSEL)
MIX(fma_perm, OP_FMA, OP_PERM)
MIX(add_perm, OP_ADD, OP_PERM)


/* compare into a mask register consumed by kortest (the kernels' range tests), alone and
 * beside FMAs: cycles per compare */
static volatile int kt_sink;
static double tp_cmp_kortest(int with_fma)
{
    __m512 a0 = _mm512_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, f0 = a0, f1 = a0, f2 = a0, f3 = a0;
    __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);
    KEEP(b); KEEP(c);
    int acc = 0;
    double t0 = now();
    for (int i = 0; i < ITERS; i++) {
        __mmask16 k0 = _mm512_cmp_ps_mask(a0, b, _CMP_GT_OQ), k1 = _mm512_cmp_ps_mask(a1, b, _CMP_GT_OQ);
        __mmask16 k2 = _mm512_cmp_ps_mask(a2, b, _CMP_GT_OQ), k3 = _mm512_cmp_ps_mask(a3, b, _CMP_GT_OQ);
        acc += _kortestz_mask16_u8(k0, k1) + _kortestz_mask16_u8(k2, k3);
        if (with_fma) {
            OP_FMA(f0); OP_FMA(f1); OP_FMA(f2); OP_FMA(f3);
            KEEP(f0); KEEP(f1); KEEP(f2); KEEP(f3);
        }
        KEEP(a0); KEEP(a1); KEEP(a2); KEEP(a3);
    }
    double t = now() - t0;
    kt_sink = acc + (int)_mm512_reduce_add_ps(_mm512_add_ps(f0, f3));
    return t / (4.0 * ITERS);
}
static double tp_cmpk(void) { return tp_cmp_kortest(0); }
static double tp_cmpk_fma(void) { return tp_cmp_kortest(1); }

/* FMA with an embedded-broadcast memory operand (how gcc feeds the kernels' constants) */
static const float bc_const[4] = { 0.999f, 0.001f, 0.5f, 0.25f };
static double tp_fma_bcast(void)
{
    __m512 a0 = _mm512_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
    __m512 a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    const float *cp = bc_const;
    __asm__ volatile("" : "+r"(cp));
#define OP_FMAB(a) __asm__ volatile("vfmadd213ps %1%{1to16%}, %2, %0" : "+v"(a) : "m"(cp[0]), "v"(a0))
    double t0 = now();
    for (int i = 0; i < ITERS; i++) {
        OP_FMAB(a1); OP_FMAB(a2); OP_FMAB(a3); OP_FMAB(a4); OP_FMAB(a5); OP_FMAB(a6);
        OP_FMAB(a7); OP_FMAB(a8); OP_FMAB(a9); OP_FMAB(a10); OP_FMAB(a11); OP_FMAB(a1);
    }
    double t = now() - t0;
    volatile float sink = _mm512_reduce_add_ps(_mm512_add_ps(a1, a11));
    (void)sink;
    return t / (12.0 * ITERS);
}


/* one op of a kind beside one FMA on each of 6 chains: cycles per (op, FMA) pair; 1 = the op
 * issues beside the FMA pipes, 2 = it takes an FMA-pipe cycle */
#define BESIDE(name, OPX)                                                                   \
    static double bes_##name(void)                                                          \
    {                                                                                       \
        __m512 a0 = _mm512_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;      \
        __m512 f0 = a0, f1 = a0, f2 = a0, f3 = a0, f4 = a0, f5 = a0;                        \
        __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);                      \
        KEEP(b); KEEP(c);                                                                   \
        double t0 = now();                                                                  \
        for (int i = 0; i < ITERS; i++) {                                                   \
            OPX(a0); OP_FMA(f0); OPX(a1); OP_FMA(f1); OPX(a2); OP_FMA(f2);                  \
            OPX(a3); OP_FMA(f3); OPX(a4); OP_FMA(f4); OPX(a5); OP_FMA(f5);                  \
            KEEP(a0); KEEP(a1); KEEP(a2); KEEP(a3); KEEP(a4); KEEP(a5);                     \
            KEEP(f0); KEEP(f1); KEEP(f2); KEEP(f3); KEEP(f4); KEEP(f5);                     \
        }                                                                                   \
        double t = now() - t0;                                                              \
        volatile float sink = _mm512_reduce_add_ps(_mm512_add_ps(a0, f5));                 \
        (void)sink;                                                                         \
        return t / (6.0 * ITERS);                                                           \
    }
/* mask producers, each consumed by a blend with a loop-invariant pair (blend: any pipe) */
#define OP_KCMPPS(a)  a = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, c, _CMP_LT_OQ), b, c)
#define OP_KPCMPD(a)  a = _mm512_mask_blend_ps(_mm512_cmpgt_epi32_mask(_mm512_castps_si512(a), \
                          _mm512_castps_si512(c)), b, c)
#define OP_KMOVD2M(a) a = _mm512_mask_blend_ps(_mm512_movepi32_mask(_mm512_castps_si512(a)), b, c)
#define OP_KTEST(a)   a = _mm512_mask_blend_ps(_mm512_test_epi32_mask(_mm512_castps_si512(a), \
                          _mm512_castps_si512(c)), b, c)
#define OP_SRAI(a)    a = _mm512_castsi512_ps(_mm512_srai_epi32(_mm512_castps_si512(a), 31))
#define OP_BLENDV(a)  a = _mm512_mask_blend_ps((__mmask16)0x5555, a, c)
BESIDE(kcmpps, OP_KCMPPS)
BESIDE(kpcmpd, OP_KPCMPD)
BESIDE(kmovd2m, OP_KMOVD2M)
BESIDE(ktest, OP_KTEST)
BESIDE(srai, OP_SRAI)
BESIDE(tern, OP_TERN)
BESIDE(blendv, OP_BLENDV)
BESIDE(mul, OP_MUL)
BESIDE(add, OP_ADD)
BESIDE(rcp14, OP_RCP14)
BESIDE(scalef, OP_SCALEF)
BESIDE(rnd, OP_RND)
BESIDE(max, OP_MAX)
BESIDE(sqrt, OP_SQRT)
BESIDE(getexp, OP_GETEXP)
BESIDE(fixup, OP_FIXUP)

/* FMA and ADD mixed 1:1: do the FMA and FADD pipes issue in the same cycle? */
static double tp_fma_add(void)
{
    __m512 a0 = _mm512_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
    __m512 a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);
    KEEP(b); KEEP(c);
    double t0 = now();
    for (int i = 0; i < ITERS; i++) {
        OP_FMA(a0); OP_ADD(a1); OP_FMA(a2); OP_ADD(a3); OP_FMA(a4); OP_ADD(a5);
        OP_FMA(a6); OP_ADD(a7); OP_FMA(a8); OP_ADD(a9); OP_FMA(a10); OP_ADD(a11);
        KEEP(a0); KEEP(a1); KEEP(a2); KEEP(a3); KEEP(a4); KEEP(a5);
        KEEP(a6); KEEP(a7); KEEP(a8); KEEP(a9); KEEP(a10); KEEP(a11);
    }
    double t = now() - t0;
    volatile float sink = _mm512_reduce_add_ps(_mm512_add_ps(a0, a11));
    (void)sink;
    return t / (12.0 * ITERS);
}

/* FMA and DIV mixed 4:1: does the divider run beside the FMA pipes? */
static double tp_fma_div(void)
{
    __m512 a0 = _mm512_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
    __m512 a6 = a0, a7 = a0, a8 = a0, a9 = a0;
    __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);
    KEEP(b); KEEP(c);
    double t0 = now();
    for (int i = 0; i < ITERS; i++) {
        OP_FMA(a0); OP_FMA(a1); OP_FMA(a2); OP_FMA(a3); OP_DIV(a4);
        OP_FMA(a5); OP_FMA(a6); OP_FMA(a7); OP_FMA(a8); OP_DIV(a9);
        KEEP(a0); KEEP(a1); KEEP(a2); KEEP(a3); KEEP(a4);
        KEEP(a5); KEEP(a6); KEEP(a7); KEEP(a8); KEEP(a9);
    }
    double t = now() - t0;
    volatile float sink = _mm512_reduce_add_ps(_mm512_add_ps(a0, a9));
    (void)sink;
    return t / (2.0 * ITERS);          /* per group of 4 FMA + 1 DIV */
}


/* FMA and DIV mixed 8:1: does the divider take FMA-pipe cycles? */
static double tp_fma8_div(void)
{
    __m512 a0 = _mm512_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
    __m512 a6 = a0, a7 = a0, a8 = a0, a9 = a0;
    __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);
    KEEP(b); KEEP(c);
    double t0 = now();
    for (int i = 0; i < ITERS; i++) {
        OP_FMA(a0); OP_FMA(a1); OP_FMA(a2); OP_FMA(a3); OP_DIV(a4);
        OP_FMA(a5); OP_FMA(a6); OP_FMA(a7); OP_FMA(a8);
        OP_FMA(a0); OP_FMA(a1); OP_FMA(a2); OP_FMA(a3);
        OP_FMA(a5); OP_FMA(a6); OP_FMA(a7); OP_FMA(a8);
        OP_FMA(a9);
        KEEP(a0); KEEP(a1); KEEP(a2); KEEP(a3); KEEP(a4);
        KEEP(a5); KEEP(a6); KEEP(a7); KEEP(a8); KEEP(a9);
    }
    double t = now() - t0;
    volatile float sink = _mm512_reduce_add_ps(_mm512_add_ps(a0, a9));
    (void)sink;
    return t / ITERS;          /* per group of 17 FMA + 1 DIV */
}

/* 512-bit loads and stores per cycle, in L1 (4 KiB) */
static double tp_load(float *buf)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    double t0 = now();
    for (int i = 0; i < ITERS / 4; i++)
        for (int j = 0; j < 1024; j += 64) {
            __m512 l0 = _mm512_load_ps(buf + j), l1 = _mm512_load_ps(buf + j + 16);
            __m512 l2 = _mm512_load_ps(buf + j + 32), l3 = _mm512_load_ps(buf + j + 48);
            KEEP(l0); KEEP(l1); KEEP(l2); KEEP(l3);
            s0 = l0; s1 = l1; s2 = l2; s3 = l3;
        }
    double t = now() - t0;
    volatile float sink = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1),
                                                            _mm512_add_ps(s2, s3)));
    (void)sink;
    return t / ((double)(ITERS / 4) * 64);
}

static double tp_store(float *buf)
{
    __m512 v = _mm512_set1_ps(1.0f);
    KEEP(v);
    double t0 = now();
    for (int i = 0; i < ITERS / 4; i++)
        for (int j = 0; j < 1024; j += 64) {
            _mm512_store_ps(buf + j, v);
            _mm512_store_ps(buf + j + 16, v);
            _mm512_store_ps(buf + j + 32, v);
            _mm512_store_ps(buf + j + 48, v);
            __asm__ volatile("" ::: "memory");
        }
    return (now() - t0) / ((double)(ITERS / 4) * 64);
}

typedef double bench_fn(void);

static double best_of(bench_fn *f)
{
    double b = 1e9;
    for (int r = 0; r < 7; r++) {
        double t = f();
        if (t < b)
            b = t;
    }
    return b;
}

int main(void)
{
    static const struct { const char *name; bench_fn *tp, *lat; } ops[] = {
        { "vfmadd231ps", tp_fma, lat_fma },     { "vmulps", tp_mul, lat_mul },
        { "vaddps", tp_add, lat_add },          { "vmaxps", tp_max, lat_max },
        { "vandps", tp_and, lat_and },          { "vpternlogd", tp_tern, lat_tern },
        { "vrndscaleps", tp_rnd, lat_rnd },     { "vscalefps", tp_scalef, lat_scalef },
        { "vdivps", tp_div, lat_div },          { "vrcp14ps", tp_rcp14, lat_rcp14 },
        { "vgetexpps", tp_getexp, lat_getexp }, { "vcvtps2dq", tp_cvt, lat_cvt },
        { "vpaddd", tp_padd, lat_padd },        { "vpslld", tp_sll, lat_sll },
        { "vcmpps+vblendmps", tp_blend, lat_blend },
        { "vcmpps->vblendmps (dep)", tp_cmpsel, lat_cmpsel },
        { "vcmpps+vmovaps{k}", tp_maskmov, lat_maskmov },
        { "vfixupimmps", tp_fixup, lat_fixup }, { "vpermps", tp_perm, lat_perm },
        { "vsqrtps", tp_sqrt, lat_sqrt },
    };
    double hz = clock_hz();
    printf("core clock %.3f GHz (dependent integer adds)\n", hz / 1e9);
    printf("%-26s %10s %10s\n", "zmm instruction", "cyc/instr", "latency");
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        printf("%-26s %10.2f %10.2f\n", ops[i].name, best_of(ops[i].tp) * hz,
               best_of(ops[i].lat) * hz);
    printf("%-26s %10.2f\n", "vfmadd+vaddps 1:1 (each)", best_of(tp_fma_add) * hz);
    static const struct { const char *name; bench_fn *f; } mixes[] = {
        { "fma+add", mix_fma_add },       { "fma+rndscale", mix_fma_rnd },
        { "add+rndscale", mix_add_rnd },  { "fma+scalef", mix_fma_scalef },
        { "add+scalef", mix_add_scalef }, { "fma+rcp14", mix_fma_rcp14 },
        { "add+rcp14", mix_add_rcp14 },   { "fma+getexp", mix_fma_getexp },
        { "add+getexp", mix_add_getexp }, { "fma+cvtps2dq", mix_fma_cvt },
        { "add+cvtps2dq", mix_add_cvt },  { "fma+pslld", mix_fma_sll },
        { "add+pslld", mix_add_sll },     { "fma+max", mix_fma_max },
        { "add+max", mix_add_max },       { "fma+and", mix_fma_and },
        { "fma+paddd", mix_fma_padd },    { "fma+cmp/blend", mix_fma_blend },
        { "add+cmp/blend", mix_add_blend }, { "fma+permps", mix_fma_perm },
        { "add+permps", mix_add_perm },
    };
    printf("pairs mixed 1:1, cycles per pair (1: separate pipes, 2: shared)\n");
    for (size_t i = 0; i < sizeof mixes / sizeof mixes[0]; i++)
        printf("  %-24s %10.2f\n", mixes[i].name, best_of(mixes[i].f) * hz);
    static const struct { const char *name; bench_fn *f; } bes[] = {
        { "vcmpps->k, vblendmps", bes_kcmpps }, { "vpcmpgtd->k, vblendmps", bes_kpcmpd },
        { "vpmovd2m, vblendmps", bes_kmovd2m }, { "vptestmd, vblendmps", bes_ktest },
        { "vpsrad", bes_srai }, { "vpternlogd", bes_tern }, { "vblendmps", bes_blendv },
        { "vmulps", bes_mul }, { "vaddps", bes_add }, { "vrcp14ps", bes_rcp14 },
        { "vscalefps", bes_scalef }, { "vrndscaleps", bes_rnd }, { "vmaxps", bes_max },
        { "vsqrtps", bes_sqrt }, { "vgetexpps", bes_getexp }, { "vfixupimmps", bes_fixup },
    };
    printf("beside one vfmadd each, cycles per (op, FMA) pair (1: not on the FMA pipes)\n");
    for (size_t i = 0; i < sizeof bes / sizeof bes[0]; i++)
        printf("  %-24s %10.2f\n", bes[i].name, best_of(bes[i].f) * hz);
    printf("%-26s %10.2f\n", "vcmpps->k + kortest", best_of(tp_cmpk) * hz);
    printf("%-26s %10.2f\n", " same + 1 vfmadd each", best_of(tp_cmpk_fma) * hz);
    printf("%-26s %10.2f\n", "vfmadd m32{1to16}", best_of(tp_fma_bcast) * hz);
    printf("%-26s %10.2f\n", "17 vfmadd + 1 vdivps", best_of(tp_fma8_div) * hz);
    printf("%-26s %10.2f\n", "4 vfmadd + 1 vdivps", best_of(tp_fma_div) * hz);
    float *buf = aligned_alloc(64, 4096);
    if (!buf)
        return 1;
    for (int i = 0; i < 1024; i++)
        buf[i] = (float)i;
    double bl = 1e9, bs = 1e9;
    for (int r = 0; r < 7; r++) {
        double l = tp_load(buf), s = tp_store(buf);
        bl = l < bl ? l : bl;
        bs = s < bs ? s : bs;
    }
    printf("%-26s %10.2f\n", "vmovaps load (L1)", bl * hz);
    printf("%-26s %10.2f\n", "vmovaps store (L1)", bs * hz);
    free(buf);
    return 0;
}
