/* bench.h -- the kernel benchmark behind `actlab bench`, callable by `actlab demo`. */
#ifndef ACTLAB_BENCH_H
#define ACTLAB_BENCH_H

#include <stdio.h>

/* A short summary (a few activations, n = 2^20, 1 thread: ns/elem fwd/bwd and fraction of the
 * copy/triad bound measured in the same run), printed to f. Returns 0, or -1 if a kernel failed
 * validation against the scalar reference. */
int bench_summary(FILE *f);

#endif
