/* act_avx512.c -- AVX-512 (F, DQ, BW, VL) instantiation of the vector kernels in act_simd.h.
 * Only these functions carry the AVX-512 target attribute; dispatch happens in act.c. */
#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#define ACTV_TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
#define ACTV_ISA    avx512

#define V        __m512
#define VM       __mmask16
#define VW       16
/* A broadcast constant passed through an empty asm: gcc can no longer fold it into the
 * instructions as a {1to16} memory operand, each of which costs a load (Zen 4 sustains about one
 * 512-bit load a cycle), and keeps it in a register, hoisted out of the loops. */
static inline __attribute__((always_inline)) ACTV_TARGET __m512 avx512_set1(float c)
{
    __m512 v = _mm512_set1_ps(c);
    __asm__("" : "+v"(v));
    return v;
}
#define VSET1    avx512_set1
#define VZERO    _mm512_setzero_ps
#define VLOAD    _mm512_loadu_ps
#define VSTORE   _mm512_storeu_ps
#define VADD     _mm512_add_ps
#define VSUB     _mm512_sub_ps
#define VMUL     _mm512_mul_ps
#define VDIV     _mm512_div_ps
#define VFMA     _mm512_fmadd_ps     /* a*b + c */
#define VFMS     _mm512_fmsub_ps     /* a*b - c */
#define VFNMA    _mm512_fnmadd_ps    /* c - a*b */
#define VMAX     _mm512_max_ps
#define VMIN     _mm512_min_ps
#define VSQRT    _mm512_sqrt_ps
#define VABS     _mm512_abs_ps
#define VNEG(a)  _mm512_xor_ps((a), _mm512_set1_ps(-0.0f))
#define VROUND(a) _mm512_roundscale_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VSCALE   _mm512_scalef_ps
#define VSTREAM  _mm512_stream_ps    /* 64-byte aligned */
#define VSTORE_HEAD(p, v, m) _mm512_mask_storeu_ps((p), (__mmask16)((1u << (m)) - 1), (v))
#define VGT(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_GT_OQ)
#define VGE(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_GE_OQ)
#define VLT(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ)
#define VLE(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_LE_OQ)
#define VAND_M(a, b) ((VM)((a) & (b)))
#define VSEL(m, a, b) _mm512_mask_blend_ps((m), (b), (a))
#define VANY(m)  ((m) != 0)
#define VUNSAFE(x, big) (_mm512_cmp_ps_mask(_mm512_abs_ps(x), (big), _CMP_NLE_UQ) != 0)
#define VUNSAFE_RANGE(x, lo, hi) \
    ((_mm512_cmp_ps_mask((x), (lo), _CMP_NGE_UQ) | _mm512_cmp_ps_mask((x), (hi), _CMP_NLE_UQ)) != 0)

/* x = m 2^e, m in [1, 2), for positive normal x */
static inline ACTV_TARGET __m512 avx512_frexp(__m512 x, __m512 *e)
{
    *e = _mm512_getexp_ps(x);
    return _mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);
}
#define VFREXP avx512_frexp

#include "act/act_simd.h"
