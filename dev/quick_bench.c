/* quick_bench.c -- ns/elem of every activation, fwd and bwd (ACT_DX_ASSIGN, dp NULL),
 * n = 2^20, 1 thread, per ISA; min of 7 reps of ~20 ms. Not part of `make`:
 *   cc -O2 -Iinclude dev/quick_bench.c build/libactlab.a -fopenmp -lm -o build/quick_bench
 *   build/quick_bench [log2 n] [C] [names]   C > 0: per-channel (n/C, C) rows, bwd with dp;
 *   names: comma-separated list of activations to time (default all) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actlab/act.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    size_t n = (size_t)1 << (argc > 1 ? atoi(argv[1]) : 20);
    size_t C = argc > 2 ? (size_t)atoi(argv[2]) : 0;
    act_shape sh = C ? (act_shape){ n / C, C, 1 } : act_shape_flat(n);
    unsigned pcf = C ? ACT_PER_CHANNEL : 0;
    float *x = malloc(n * 4), *y = malloc(n * 4), *dy = malloc(n * 4);
    float *p = malloc(3 * (C ? C : 1) * 4), *dp = calloc(3 * (C ? C : 1), 4);
    for (size_t i = 0; i < n; i++) {
        x[i] = -4.0f + 8.0f * (float)rand() / (float)RAND_MAX;
        dy[i] = -1.0f + 2.0f * (float)rand() / (float)RAND_MAX;
    }
    act_threads_set(1);
    for (int isa = ACT_ISA_AVX2; isa <= ACT_ISA_AVX512; isa++) {
        if (act_isa_set((act_isa)isa) != ACT_OK)
            continue;
        for (int id = 0; id < ACT_ACT_COUNT; id++) {
            const act_act_desc *d = act_act_info((act_act_id)id);
            if (C && d->n_params == 0)
                continue;
            if (argc > 3) {
                char key[64];
                snprintf(key, sizeof key, ",%s,", d->name);
                char list[512];
                snprintf(list, sizeof list, ",%s,", argv[3]);
                if (!strstr(list, key))
                    continue;
            }
            for (int k = 0; C && k < d->n_params; k++)
                for (size_t c = 0; c < C; c++)
                    p[(size_t)k * C + c] = d->defaults[k];
            double best[2] = { 1e9, 1e9 };
            for (int dir = 0; dir < 2; dir++) {
                for (int r = 0; r < 7; r++) {
                    int reps = 0;
                    double t0 = now(), t;
                    do {
                        if (dir == 0)
                            act_act_forward((act_act_id)id, C ? p : NULL, pcf, x, y, sh);
                        else
                            act_act_backward((act_act_id)id, C ? p : NULL, pcf | ACT_DX_ASSIGN, x,
                                             dy, y, C ? dp : NULL, sh);
                        reps++;
                        t = now() - t0;
                    } while (t < 0.02);
                    double ns = t / reps / (double)n * 1e9;
                    if (ns < best[dir])
                        best[dir] = ns;
                }
            }
            printf("%-7s %-12s fwd %.3f  bwd %.3f ns/elem\n", act_isa_name((act_isa)isa),
                   act_act_info((act_act_id)id)->name, best[0], best[1]);
        }
    }
    return 0;
}
