/* wino_products.c -- the Winograd layer's 36 batched products (src/nn/winograd.c's register-
 * blocked kernel, M[xi] = V[xi] U[xi]: tiles x C times C x OC) against oneDNN's dnnl_sgemm and
 * OpenBLAS on the same shapes, one thread, GFLOPS (best of 5 runs of >= 20 ms), after checking
 * that the three agree. The shapes are one chunk of the models' Winograd layers (rows = the
 * chunk's tiles, as wg_make_plan sizes it). Includes winograd.c to reach its static kernel:
 *   make B=build all
 *   cc -O2 -fopenmp -Iinclude -Isrc -D_GNU_SOURCE dev/wino_products.c build/libactlab.a \
 *      $(pkg-config --cflags --libs openblas) -ldnnl -lz -lm -o build/wino_products
 *   OMP_NUM_THREADS=1 ./build/wino_products
 */
#include <cblas.h>
#include <math.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <time.h>

#include "../src/nn/winograd.c"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void)
{
    static const struct { int C, OC, H; } layers[] = {
        { 16, 16, 28 }, { 32, 32, 14 }, { 64, 64, 7 }, { 32, 64, 26 }, { 3, 16, 28 },
    };
    act_isa isa = wg_isa();
    printf("Winograd products, one chunk, %s kernel vs dnnl_sgemm vs cblas_sgemm, GFLOPS\n",
           act_isa_name(isa));
    printf("%-12s %6s %4s %4s %8s %8s %8s\n", "layer", "rows", "K", "N", "actlab", "onednn",
           "openblas");
    for (size_t li = 0; li < sizeof layers / sizeof layers[0]; li++) {
        wg_plan p;
        wg_make_plan(&p, layers[li].C, layers[li].OC, layers[li].H, layers[li].H, 1);
        int rows = (int)p.R, K = p.C, N = p.OCs;
        float *A = malloc(sizeof(float) * (size_t)rows * (size_t)p.Cs);
        float *B = malloc(sizeof(float) * (size_t)K * (size_t)N);
        float *C[3];
        for (int k = 0; k < 3; k++)
            C[k] = malloc(sizeof(float) * (size_t)rows * (size_t)N);
        for (size_t i = 0; i < (size_t)rows * (size_t)p.Cs; i++)
            A[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
        for (size_t i = 0; i < (size_t)K * (size_t)N; i++)
            B[i] = (float)((i * 40503u) % 1000) * 1e-3f - 0.5f;
        wg_mm g = { A, B, C[0], (size_t)p.Cs, 1, (size_t)N, (size_t)N, rows, K, N / WG_L, 0 };
        double best[3] = { 0, 0, 0 }, flop = 2.0 * rows * K * N;
        for (int r = 0; r < 5; r++)
            for (int lib = 0; lib < 3; lib++) {
                int it = 0;
                double t0 = now(), t;
                do {
                    if (lib == 0)
                        wg_mm_run(isa, &g);
                    else if (lib == 1)
                        (void)dnnl_sgemm('N', 'N', rows, N, K, 1.0f, A, p.Cs, B, N, 0.0f, C[1], N);
                    else
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, N, K, 1.0f,
                                    A, p.Cs, B, N, 0.0f, C[2], N);
                    it++;
                    t = now() - t0;
                } while (t < 0.02);
                double gf = flop * it / t * 1e-9;
                best[lib] = gf > best[lib] ? gf : best[lib];
            }
        double err = 0.0;
        for (size_t i = 0; i < (size_t)rows * (size_t)N; i++)
            err = fmax(err, fmax(fabs(C[0][i] - C[1][i]), fabs(C[0][i] - C[2][i])));
        char name[32];
        snprintf(name, sizeof name, "%dx%dx%d>%d", layers[li].C, layers[li].H, layers[li].H,
                 layers[li].OC);
        printf("%-12s %6d %4d %4d %8.1f %8.1f %8.1f%s\n", name, rows, K, N, best[0], best[1],
               best[2], err > 1e-3 ? "  MISMATCH" : "");
        free(A), free(B), free(C[0]), free(C[1]), free(C[2]);
    }
    return 0;
}
