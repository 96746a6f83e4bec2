/* bench.h -- the kernel benchmark behind `actlab bench`, callable by `actlab demo`.
 *
 * bench_core.c holds the measuring machinery (seeded buffers, STREAM copy/triad bounds, scalar
 * reference, validation, timing); cmd_bench.c holds the command line, the table and the summary.
 * Timing: min over repetitions, each repetition repeats the call until it lasts >= min_ms.
 * Bytes per element as STREAM counts them (McCalpin, https://www.cs.virginia.edu/stream/: reads
 * plus writes, no write-allocate traffic): forward 8 (read x, write y), backward 12 (read x
 * and dy, write dx); parameter gradients are not counted. Recorded runs: bench/RESULTS.md. */
#ifndef ACTLAB_BENCH_H
#define ACTLAB_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "actlab/act.h"

/* A short summary (a few activations, n = 2^20, 1 thread: ns/elem fwd/bwd and fraction of the
 * copy/triad bound measured in the same run), printed to f. Returns 0, or -1 if a kernel failed
 * validation against the scalar reference. */
int bench_summary(FILE *f);

/* ---------------------------------------------------------------------------------------------
 * Internal interface of bench_core.c (used by cmd_bench.c only). */

enum { BENCH_FWD, BENCH_BWD, BENCH_DIRS };

#define BENCH_CHANNELS 64          /* per-channel parameters: x is (outer, 64, inner) */
#define BENCH_RTOL     1e-5        /* validation: |got - ref| <= RTOL*|ref| + ATOL */
#define BENCH_ATOL     1e-6        /* (for dp: ATOL per element summed into it) */

typedef struct bench_cfg {
    int      reps;                 /* repetitions below 2^22 elements */
    int      reps_large;           /* repetitions at >= 2^22 elements */
    double   min_s;                /* each repetition lasts at least this long */
    uint64_t seed;                 /* inputs: x ~ U(-4, 4), dy ~ U(-1, 1) */
} bench_cfg;

/* Validation of one kernel against the scalar reference. */
typedef struct bench_check {
    int    status;                 /* act_status of the call under test (ACT_OK) */
    int    ok;                     /* 1 if every value is within tolerance */
    double err;                    /* max |got - ref| / tolerance over y (fwd) or dx and dp */
} bench_check;

typedef struct bench_bufs bench_bufs;   /* opaque: owns every array of one run */

/* Allocates and fills arrays for up to max_n elements. NULL on allocation failure.
 * bench_bufs_free(NULL) is a no-op. */
bench_bufs *bench_bufs_new(size_t max_n, uint64_t seed);
void        bench_bufs_free(bench_bufs *b);

/* Name of the instruction set the STREAM loops use ("avx512", "avx2", "sse2", "scalar"). */
const char *bench_stream_isa(void);

/* STREAM bound at n elements with `threads` threads (one OpenMP region, each thread on its
 * own slice): ns per element of copy (8 B/elem) and triad (12 B/elem). */
void bench_bound(bench_bufs *b, size_t n, int threads, const bench_cfg *cfg,
                 double *copy_ns, double *triad_ns);

/* The layout a benchmark of id at n uses: flat with default scalar parameters, or, for an
 * activation with learnable parameters, (outer, BENCH_CHANNELS, inner) per channel. */
act_shape bench_shape(act_act_id id, size_t n, unsigned *flags);

/* Computes the scalar, single-thread reference forward and backward of id at n (restores the
 * ISA and thread count afterwards). Returns an act_status. */
int bench_reference(bench_bufs *b, act_act_id id, size_t n);

/* Runs id at n with isa and threads once, forward and backward, and compares them with the
 * last bench_reference() of the same id and n. Leaves isa and threads set. */
void bench_validate(bench_bufs *b, act_act_id id, size_t n, act_isa isa, int threads,
                    bench_check *fwd, bench_check *bwd);

/* ns per element of one call of id at n in direction dir (forward, or backward with
 * ACT_DX_ASSIGN and parameter gradients when learnable), with the ISA and thread count
 * currently set. Negative on a kernel error. */
double bench_time_kernel(bench_bufs *b, act_act_id id, size_t n, int dir, const bench_cfg *cfg);

#endif
