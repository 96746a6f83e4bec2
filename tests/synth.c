/* synth.c -- the synthetic data set of the engine's tests (synth.h). */
#include <stdlib.h>

#include "actlab/rng.h"
#include "synth.h"

void test_synth(act_dataset *d, size_t n, int c, uint64_t seed)
{
    act_rng r = act_rng_seed(seed);
    d->n = n;
    d->c = c;
    d->h = d->w = 8;
    d->n_classes = 3;
    d->x = malloc(n * 64 * (size_t)c);
    d->y = malloc(n);
    for (size_t i = 0; i < n && d->x && d->y; i++) {
        int k = (int)(act_rng_next(&r) % 3), pos = (int)(act_rng_next(&r) % 8);
        d->y[i] = (uint8_t)k;
        for (int p = 0; p < 64 * c; p++) {
            int row = (p % 64) / 8, col = p % 8;
            int on = k == 0 ? row == pos : k == 1 ? col == pos : row == col;
            d->x[i * 64 * (size_t)c + (size_t)p] =
                (uint8_t)((on ? 200 : 0) + (int)(act_rng_next(&r) % 50));
        }
    }
}
