/* gemm.c -- the one GEMM entry point of the engine: row-major CBLAS sgemm, split across the
 * calling OpenMP team over the larger output dimension (OpenBLAS itself runs one thread). */
#include <cblas.h>

#include "nn/layers.h"

void acti_nn_range(size_t total, int tid, int nt, size_t *lo, size_t *hi)
{
    size_t q = total / (size_t)nt, r = total % (size_t)nt, t = (size_t)tid;
    *lo = t * q + (t < r ? t : r);
    *hi = *lo + q + (t < r ? 1 : 0);
}

void acti_gemm(int tid, int nt, int ta, int tb, int M, int N, int K, float alpha,
               const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    size_t lo = 0, hi;
    if (nt <= 1) {
        hi = (size_t)(M > N ? M : N);
    } else if (M >= N) {
        acti_nn_range((size_t)M, tid, nt, &lo, &hi);
    } else {
        acti_nn_range((size_t)N, tid, nt, &lo, &hi);
    }
    if (hi <= lo)
        return;
    enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE TB = tb ? CblasTrans : CblasNoTrans;
    if (nt <= 1) {
        cblas_sgemm(CblasRowMajor, TA, TB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    } else if (M >= N) {
        /* rows [lo, hi) of op(A) and C */
        const float *a = ta ? A + lo : A + lo * (size_t)lda;
        cblas_sgemm(CblasRowMajor, TA, TB, (int)(hi - lo), N, K, alpha, a, lda, B, ldb, beta,
                    C + lo * (size_t)ldc, ldc);
    } else {
        /* columns [lo, hi) of op(B) and C */
        const float *b = tb ? B + lo * (size_t)ldb : B + lo;
        cblas_sgemm(CblasRowMajor, TA, TB, M, (int)(hi - lo), K, alpha, A, lda, b, ldb, beta,
                    C + lo, ldc);
    }
}
