/* gemm_bench.c -- OpenBLAS cblas_sgemm against oneDNN dnnl_sgemm on the shapes the engine calls
 * (row-major; printed by the models at batch 128, 1 thread), one thread each, GFLOPS as the best
 * of REPS timed runs of >= 20 ms, after checking both against a double-precision reference: the
 * error is max |C - C_ref| / (sum_k |a_ik b_kj|), which is ~1e-7 for a correct float GEMM.
 * The OpenBLAS kernel is the one it detects, or the one OPENBLAS_CORETYPE names; oneDNN's is
 * capped by DNNL_MAX_CPU_ISA (e.g. AVX2). Run both ways to see each ISA:
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -fopenmp dev/gemm_bench.c -o build/gemm_bench \
 *      $(pkg-config --libs openblas) -ldnnl -lm
 *   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 ./build/gemm_bench
 *   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell DNNL_MAX_CPU_ISA=AVX2 \
 *      ./build/gemm_bench
 */
#include <cblas.h>
#include <math.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *openblas_get_corename(void);

typedef struct { const char *what; int ta, tb, M, N, K; } shape;

static const shape shapes[] = {
    { "mlp:512x2 fc1 fwd", 0, 1, 128, 512, 784 },  { "mlp:512x2 fc1 dw", 1, 0, 512, 784, 128 },
    { "mlp:512x2 fc2 fwd", 0, 1, 128, 512, 512 },  { "mlp:512x2 fc2 dx", 0, 0, 128, 512, 512 },
    { "mlp:512x2 fc2 dw", 1, 0, 512, 512, 128 },   { "mlp:256x20 fwd", 0, 1, 128, 256, 256 },
    { "mlp:256x20 dx", 0, 0, 128, 256, 256 },      { "mlp:256x20 dw", 1, 0, 256, 256, 128 },
    { "2 thr: 512x2 fc2 fwd", 0, 1, 64, 512, 512 }, { "2 thr: 256x20 dw", 1, 0, 128, 256, 128 },
    { "cnn fc 9216 fwd", 0, 1, 128, 128, 9216 },   { "cnn fc 9216 dx", 0, 0, 128, 9216, 128 },
    { "cnn fc 9216 dw", 1, 0, 128, 9216, 128 },    { "cnn conv1 fwd", 0, 0, 32, 25012, 9 },
    { "resnet s2 16>32 fwd", 0, 0, 32, 5880, 144 }, { "resnet s2 16>32 dw", 0, 1, 144, 32, 5880 },
    { "resnet s2 16>32 dx", 1, 0, 144, 5880, 32 }, { "resnet s2 32>64 fwd", 0, 0, 64, 2940, 288 },
    { "resnet s2 32>64 dw", 0, 1, 288, 64, 2940 }, { "resnet s2 32>64 dx", 1, 0, 288, 2940, 64 },
    { "resnet stem fwd", 0, 0, 16, 41552, 9 },     { "resnet 1x1 32>64 dw", 0, 1, 32, 64, 6272 },
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float uni(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((double)(*s >> 40) * 0x1p-24 * 2.0 - 1.0);
}

/* C = op(A) op(B), row-major; lda etc. are the stored row lengths */
static void run(int lib, const shape *s, const float *A, const float *B, float *C)
{
    int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    if (lib == 0) {
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                    s->tb ? CblasTrans : CblasNoTrans, s->M, s->N, s->K, 1.0f, A, lda, B, ldb,
                    0.0f, C, s->N);
    } else if (dnnl_sgemm(s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->M, s->N, s->K, 1.0f, A, lda,
                          B, ldb, 0.0f, C, s->N) != dnnl_success) {
        fprintf(stderr, "dnnl_sgemm failed on %s\n", s->what);
        exit(1);
    }
}

static double check(const shape *s, const float *A, const float *B, const float *C)
{
    double worst = 0.0;
    for (int i = 0; i < s->M; i += 7)
        for (int j = 0; j < s->N; j += 5) {
            double acc = 0.0, mag = 0.0;
            for (int k = 0; k < s->K; k++) {
                double a = s->ta ? A[(size_t)k * s->M + i] : A[(size_t)i * s->K + k];
                double b = s->tb ? B[(size_t)j * s->K + k] : B[(size_t)k * s->N + j];
                acc += a * b;
                mag += fabs(a * b);
            }
            double e = fabs((double)C[(size_t)i * s->N + j] - acc) / (mag > 0 ? mag : 1.0);
            worst = e > worst ? e : worst;
        }
    return worst;
}

int main(void)
{
    int reps = getenv("REPS") ? atoi(getenv("REPS")) : 5;
    printf("OpenBLAS core: %s; oneDNN max ISA: %s; GFLOPS, 1 thread, best of %d\n",
           openblas_get_corename(), getenv("DNNL_MAX_CPU_ISA") ? getenv("DNNL_MAX_CPU_ISA")
                                                                 : "(all)", reps);
    printf("%-22s %6s %6s %6s %9s %9s %7s %9s %9s\n", "shape", "M", "N", "K", "openblas",
           "onednn", "ratio", "err_blas", "err_dnnl");
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const shape *s = &shapes[si];
        size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
        float *A = malloc(na * 4), *B = malloc(nb * 4), *C = malloc(nc * 4);
        unsigned long long seed = 42 + si;
        for (size_t i = 0; i < na; i++)
            A[i] = uni(&seed);
        for (size_t i = 0; i < nb; i++)
            B[i] = uni(&seed);
        double gf[2], err[2];
        double flop = 2.0 * s->M * s->N * s->K;
        for (int lib = 0; lib < 2; lib++) {
            memset(C, 0, nc * 4);
            run(lib, s, A, B, C);
            err[lib] = check(s, A, B, C);
        }
        gf[0] = gf[1] = 0.0;
        for (int r = 0; r < reps; r++)
            for (int lib = 0; lib < 2; lib++) {   /* alternating, so load changes hit both */
                int it = 0;
                double t0 = now(), t;
                do {
                    run(lib, s, A, B, C);
                    it++;
                    t = now() - t0;
                } while (t < 0.02);
                double g = flop * it / t * 1e-9;
                gf[lib] = g > gf[lib] ? g : gf[lib];
            }
        printf("%-22s %6d %6d %6d %9.1f %9.1f %7.2f %9.1e %9.1e\n", s->what, s->M, s->N, s->K,
               gf[0], gf[1], gf[1] / gf[0], err[0], err[1]);
        free(A);
        free(B);
        free(C);
    }
    return 0;
}
