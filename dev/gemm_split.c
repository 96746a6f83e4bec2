/* gemm_split.c -- does a GEMM back-end give the same bits for a product computed whole and cut
 * into parts? For OpenBLAS and oneDNN, every transpose case and shapes from 2 to 784, C = A B is
 * computed in one call and again as row parts (or column parts) of p rows (the last part takes
 * the remainder, from p to 2p - 1); it prints, per part size p, how many of the cuts gave other
 * bits than the whole call, and the first such shape. This is why src/nn/gemm.c cuts products
 * into parts fixed by the shape, not by the thread count. One thread each:
 *
 *   cc -O2 -std=c11 -fopenmp dev/gemm_split.c -o build/gemm_split \
 *      $(pkg-config --cflags --libs openblas) -ldnnl
 *   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 ./build/gemm_split
 */
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>

static void mm(int lib, int ta, int tb, int M, int N, int K, const float *A, int lda,
               const float *B, int ldb, float *C, int ldc)
{
    if (lib == 0)
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                    tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A, lda, B, ldb, 1.0f, C, ldc);
    else if (dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, 1.0f, A, lda, B, ldb, 1.0f, C,
                        ldc) != dnnl_success)
        abort();
}

int main(void)
{
    static const int dims[] = { 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17, 24, 32, 37, 64, 70, 81,
                                128, 300, 512, 784 };
    static const int parts[] = { 1, 2, 4, 8, 16, 32, 64 };
    int nd = (int)(sizeof dims / sizeof dims[0]);
    for (int lib = 0; lib < 2; lib++)
        for (size_t pi = 0; pi < sizeof parts / sizeof parts[0]; pi++) {
            int p = parts[pi], bad = 0, tot = 0;
            char first[96] = "";
            for (int t = 0; t < 4; t++)
                for (int a = 0; a < nd; a++)
                    for (int b = 0; b < nd; b++)
                        for (int c = 0; c < nd; c++) {
                            int ta = t & 1, tb = t >> 1, M = dims[a], N = dims[b], K = dims[c];
                            if ((long)M * N * K > 4000000 || (M < 2 * p && N < 2 * p))
                                continue;
                            int lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
                            float *A = malloc(sizeof(float) * (size_t)M * K);
                            float *B = malloc(sizeof(float) * (size_t)K * N);
                            float *C[3];
                            for (int k = 0; k < 3; k++)
                                C[k] = calloc((size_t)M * N, sizeof(float));
                            srand(1);
                            for (int i = 0; i < M * K; i++)
                                A[i] = (float)rand() / (float)RAND_MAX - 0.5f;
                            for (int i = 0; i < K * N; i++)
                                B[i] = (float)rand() / (float)RAND_MAX - 0.5f;
                            mm(lib, ta, tb, M, N, K, A, lda, B, ldb, C[0], ldc);
                            for (int dim = 1; dim <= 2; dim++) {   /* 1: rows, 2: columns */
                                int D = dim == 1 ? M : N;
                                if (D < 2 * p)
                                    continue;
                                for (int i = 0; i < D; i += p) {
                                    int h = D - i < 2 * p ? D - i : p;
                                    if (dim == 1)
                                        mm(lib, ta, tb, h, N, K, ta ? A + i : A + i * lda, lda,
                                           B, ldb, C[1] + i * ldc, ldc);
                                    else
                                        mm(lib, ta, tb, M, h, K, A, lda, tb ? B + i * ldb : B + i,
                                           ldb, C[2] + i, ldc);
                                    if (h != p)
                                        break;
                                }
                                int d = 0;
                                for (int i = 0; i < M * N; i++)
                                    d += C[0][i] != C[dim][i];
                                tot++;
                                if (d && !bad++)
                                    snprintf(first, sizeof first, "%s ta%d tb%d M%d N%d K%d",
                                             dim == 1 ? "rows" : "cols", ta, tb, M, N, K);
                            }
                            free(A), free(B), free(C[0]), free(C[1]), free(C[2]);
                        }
            printf("%-8s parts of %2d: %5d of %5d cuts give other bits  %s\n",
                   lib ? "oneDNN" : "OpenBLAS", p, bad, tot, first);
        }
    return 0;
}
