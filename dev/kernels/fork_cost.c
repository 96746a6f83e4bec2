/* fork_cost.c -- what a 2-thread split costs and gains on small calls: the time of an empty
 * OpenMP parallel region (fork + join) of 2 threads, and act_act_forward of sigmoid, silu, gelu
 * and relu at 2^12 .. 2^17 elements with 1 and 2 threads (act_threads_set; the library's own
 * threshold decides whether the 2-thread call splits). Min of 7 rounds of >= 20 ms.
 *   cc -O2 -fopenmp -Iinclude dev/kernels/fork_cost.c build/libactlab.a -lm -o build/fork_cost
 *   (add the libraries `make` links, e.g. $(pkg-config --libs openblas) -lz) */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "actlab/act.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static volatile int sink;

int main(void)
{
    double best = 1e9;
    for (int r = 0; r < 7; r++) {
        int reps = 0;
        double t0 = now(), t;
        do {
#pragma omp parallel num_threads(2)
            sink = omp_get_thread_num();
            reps++;
            t = now() - t0;
        } while (t < 0.02);
        if (t / reps < best)
            best = t / reps;
    }
    printf("empty parallel region, 2 threads: %.2f us\n", best * 1e6);
    const char *names[] = { "relu", "sigmoid", "silu", "gelu" };
    size_t N = (size_t)1 << 17;
    float *x = malloc(N * 4), *y = malloc(N * 4);
    if (!x || !y)
        return 1;
    for (size_t i = 0; i < N; i++)
        x[i] = -4.0f + 8.0f * (float)rand() / (float)RAND_MAX;
    printf("%-8s %6s %10s %10s %6s\n", "act", "log2n", "1T ns/el", "2T ns/el", "2T/1T");
    for (int a = 0; a < 4; a++) {
        act_act_id id;
        if (act_act_lookup(names[a], &id) != ACT_OK)
            return 1;
        for (int lg = 12; lg <= 17; lg++) {
            size_t n = (size_t)1 << lg;
            double b[2] = { 1e9, 1e9 };
            for (int r = 0; r < 7; r++)
                for (int t = 1; t <= 2; t++) {
                    if (act_threads_set(t) != ACT_OK)
                        return 1;
                    int reps = 0;
                    double t0 = now(), el;
                    do {
                        if (act_act_forward(id, NULL, 0, x, y, act_shape_flat(n)) != ACT_OK)
                            return 1;
                        reps++;
                        el = now() - t0;
                    } while (el < 0.02);
                    double ns = el / reps / (double)n * 1e9;
                    if (ns < b[t - 1])
                        b[t - 1] = ns;
                }
            printf("%-8s %6d %10.4f %10.4f %6.2f\n", names[a], lg, b[0], b[1], b[1] / b[0]);
        }
    }
    free(x);
    free(y);
    return 0;
}
