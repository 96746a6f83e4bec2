/* act_avx2.c -- AVX2 + FMA instantiation of the vector kernels in act_simd.h. Only these
 * functions carry the AVX2 target attribute; dispatch happens in act.c. */
#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#define ACTV_TARGET __attribute__((target("avx2,fma")))
#define ACTV_ISA    avx2

/* p * 2^n for integral n, in two steps so that the result overflows to inf and underflows
 * gradually (n clamped to [-252, 254]: beyond that the result is inf or 0 anyway). */
static inline ACTV_TARGET __m256 avx2_scale(__m256 p, __m256 n)
{
    n = _mm256_min_ps(_mm256_max_ps(n, _mm256_set1_ps(-252.0f)), _mm256_set1_ps(254.0f));
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i a = _mm256_srai_epi32(ni, 1), b = _mm256_sub_epi32(ni, a);
    __m256 sa = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(a, _mm256_set1_epi32(127)), 23));
    __m256 sb = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(b, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, sa), sb);
}

/* x = m 2^e, m in [1, 2), for positive normal x */
static inline ACTV_TARGET __m256 avx2_frexp(__m256 x, __m256 *e)
{
    __m256i b = _mm256_castps_si256(x);
    *e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(b, 23), _mm256_set1_epi32(127)));
    b = _mm256_or_si256(_mm256_and_si256(b, _mm256_set1_epi32(0x007fffff)),
                        _mm256_set1_epi32(0x3f800000));
    return _mm256_castsi256_ps(b);
}

#define V        __m256
#define VM       __m256
#define VW       8
#define VSET1    _mm256_set1_ps
#define VZERO    _mm256_setzero_ps
#define VLOAD    _mm256_loadu_ps
#define VSTORE   _mm256_storeu_ps
#define VADD     _mm256_add_ps
#define VSUB     _mm256_sub_ps
#define VMUL     _mm256_mul_ps
#define VDIV     _mm256_div_ps
#define VFMA     _mm256_fmadd_ps
#define VFMS     _mm256_fmsub_ps
#define VFNMA    _mm256_fnmadd_ps
#define VMAX     _mm256_max_ps
#define VMIN     _mm256_min_ps
#define VSQRT    _mm256_sqrt_ps
#define VABS(a)  _mm256_andnot_ps(_mm256_set1_ps(-0.0f), (a))
#define VNEG(a)  _mm256_xor_ps((a), _mm256_set1_ps(-0.0f))
#define VROUND(a) _mm256_round_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VSCALE   avx2_scale
#define VFREXP   avx2_frexp
#define VSTREAM  _mm256_stream_ps    /* 32-byte aligned */
/* store lanes j < m of v (m <= 8) */
#define VSTORE_HEAD(p, v, m) \
    _mm256_maskstore_ps((p), _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(m)), \
                                                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)), (v))
#define VGT(a, b) _mm256_cmp_ps((a), (b), _CMP_GT_OQ)
#define VGE(a, b) _mm256_cmp_ps((a), (b), _CMP_GE_OQ)
#define VLT(a, b) _mm256_cmp_ps((a), (b), _CMP_LT_OQ)
#define VLE(a, b) _mm256_cmp_ps((a), (b), _CMP_LE_OQ)
#define VAND_M   _mm256_and_ps
#define VSEL(m, a, b) _mm256_blendv_ps((b), (a), (m))
#define VANY(m)  (_mm256_movemask_ps(m) != 0)
#define VUNSAFE(x, big) (_mm256_movemask_ps(_mm256_cmp_ps(VABS(x), (big), _CMP_NLE_UQ)) != 0)
#define VUNSAFE_RANGE(x, lo, hi) \
    (_mm256_movemask_ps(_mm256_or_ps(_mm256_cmp_ps((x), (lo), _CMP_NGE_UQ), \
                                     _mm256_cmp_ps((x), (hi), _CMP_NLE_UQ))) != 0)

#include "act/act_simd.h"
