/* gemm.c -- the one GEMM entry point of the engine and its back-ends: row-major sgemm by
 * OpenBLAS (CBLAS) or oneDNN (dnnl_sgemm, when built with ACTLAB_ONEDNN), split across the
 * calling OpenMP team over the larger output dimension; each back-end call runs one thread. */
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>

#include <cblas.h>
#ifdef ACTLAB_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#include "nn/layers.h"

static const char *const gemm_names[] = {
#define X(ID, name) [ACT_GEMM_##ID] = #name,
    ACT_GEMM_LIST(X)
#undef X
};

const char *act_gemm_name(act_gemm g)
{
    return (unsigned)g < ACT_GEMM_COUNT ? gemm_names[g] : "unknown";
}

int act_gemm_lookup(const char *name, act_gemm *out)
{
    for (int i = 0; name && i < ACT_GEMM_COUNT; i++) {
        if (strcmp(gemm_names[i], name) == 0) {
            *out = (act_gemm)i;
            return ACT_OK;
        }
    }
    return ACT_ENOTFOUND;
}

int act_gemm_supported(act_gemm g)
{
    switch (g) {
    case ACT_GEMM_OPENBLAS:
        return 1;
    case ACT_GEMM_ONEDNN:
#ifdef ACTLAB_ONEDNN
        return 1;
#else
        return 0;
#endif
    case ACT_GEMM_COUNT:
        break;
    }
    return 0;
}

static atomic_int gemm_default = -1;   /* -1: not decided yet */

act_gemm act_gemm_default(void)
{
    int v = atomic_load(&gemm_default);
    if (v >= 0)
        return (act_gemm)v;
    act_gemm g = act_gemm_supported(ACT_GEMM_ONEDNN) ? ACT_GEMM_ONEDNN : ACT_GEMM_OPENBLAS;
    const char *env = getenv("ACTLAB_GEMM");
    act_gemm want;
    if (env && *env && act_gemm_lookup(env, &want) == ACT_OK && act_gemm_supported(want))
        g = want;   /* any other value keeps the default; the CLI reports it */
    atomic_store(&gemm_default, (int)g);
    return g;
}

void acti_nn_range(size_t total, int tid, int nt, size_t *lo, size_t *hi)
{
    size_t q = total / (size_t)nt, r = total % (size_t)nt, t = (size_t)tid;
    *lo = t * q + (t < r ? t : r);
    *hi = *lo + q + (t < r ? 1 : 0);
}

/* One back-end call on the calling thread. oneDNN's OpenMP build threads a call over
 * omp_get_max_threads() when it is made outside a parallel region (the net's 1-thread case) and
 * runs it on one thread inside one: the caller's thread count is set to 1 around the call, so it
 * is one thread either way and the bits do not depend on the environment's OMP_NUM_THREADS.
 * Should oneDNN refuse a call (it only does for bad arguments or memory for its packing
 * buffers), OpenBLAS computes it: the same product, rounded its own way. */
static void sgemm1(act_gemm g, int ta, int tb, int M, int N, int K, float alpha, const float *A,
                   int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
#ifdef ACTLAB_ONEDNN
    if (g == ACT_GEMM_ONEDNN) {
#ifdef _OPENMP
        int saved = omp_get_max_threads();
        omp_set_num_threads(1);
#endif
        dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, lda, B,
                                      ldb, beta, C, ldc);
#ifdef _OPENMP
        omp_set_num_threads(saved);
#endif
        if (st == dnnl_success)
            return;
    }
#else
    (void)g;
#endif
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* The partition of a product into parts, one back-end call each: the larger of M and N in
 * P = clamp(D / GEMM_PART, 1, GEMM_MAX_PARTS) near-equal parts, P from the shape alone. A
 * back-end does not give the same bits for a block computed whole and in pieces (measured for
 * both: a row or column split changes the last bits of up to 1 in 8 elements on small shapes,
 * dev/gemm_bench.c's notes), so the parts do not follow the thread count: threads take whole
 * parts, and 1 thread makes the same calls as 8. Results then do not depend on the thread
 * count; the extra calls cost a few percent at one thread (docs/training.md). */
enum { GEMM_PART = 128, GEMM_MAX_PARTS = 8 };

void acti_gemm(const act_net *net, int tid, int nt, int ta, int tb, int M, int N, int K,
               float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C,
               int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    act_gemm g = net->cfg.gemm;
    int D = M >= N ? M : N, P = D / GEMM_PART;
    P = P < 1 ? 1 : P > GEMM_MAX_PARTS ? GEMM_MAX_PARTS : P;
    size_t p0, p1;   /* this thread's parts */
    acti_nn_range((size_t)P, nt > 1 ? tid : 0, nt > 1 ? nt : 1, &p0, &p1);
    for (size_t p = p0; p < p1; p++) {
        size_t lo, hi;
        acti_nn_range((size_t)D, (int)p, P, &lo, &hi);
        if (M >= N) {   /* rows [lo, hi) of op(A) and C */
            const float *a = ta ? A + lo : A + lo * (size_t)lda;
            sgemm1(g, ta, tb, (int)(hi - lo), N, K, alpha, a, lda, B, ldb, beta,
                   C + lo * (size_t)ldc, ldc);
        } else {        /* columns [lo, hi) of op(B) and C */
            const float *b = tb ? B + lo * (size_t)ldb : B + lo;
            sgemm1(g, ta, tb, M, (int)(hi - lo), K, alpha, A, lda, b, ldb, beta, C + lo, ldc);
        }
    }
}
