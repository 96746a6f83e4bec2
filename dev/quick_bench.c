/* quick_bench.c -- ns/elem of every activation, fwd and bwd (ACT_DX_ASSIGN, dp NULL),
 * n = 2^20, 1 thread, per ISA; min of 7 reps of ~20 ms. Every kernel is first checked against
 * the scalar reference (ACT_ISA_SCALAR, the same inputs and parameters) with actlab bench's
 * tolerance, |got - ref| <= 1e-5 |ref| + 1e-6 (dp: 1e-6 per summed term), NaN where the
 * reference has NaN; a kernel that fails prints FAIL with its error and is not timed, and the
 * program exits 1. Not part of `make` (dev/README.md):
 *   cc -O2 -march=native -Iinclude -Isrc dev/quick_bench.c build/libactlab.a -fopenmp -lm \
 *      -o build/quick_bench
 *   build/quick_bench [log2 n] [C] [names]   C > 0: per-channel (n/C, C) rows, bwd with dp;
 *   names: comma-separated list of activations to time (default all)
 *   build/quick_bench nt [log2 n] [names]    forward with plain against non-temporal stores
 *   (the block kernels' fwd and fwdnt side by side, interleaved rounds, 1 thread), beside an
 *   AVX-512 copy with plain and with streaming stores measured in the same run
 *   build/quick_bench_ab [log2 n] [names]   A/B: the block kernels of the working tree against
 *   those of a base commit, fwd and bwd (assign, no dp), both ISAs, 9 interleaved rounds, 1 thread.
 *   Build (base = HEAD here; the base copy's symbols get an _old suffix):
 *     mkdir -p build/ab/act && git show HEAD:src/act/act_simd.h > build/ab/act/act_simd.h
 *     for i in avx2 avx512; do cc -O2 -Ibuild/ab -Iinclude -Isrc -c src/act/act_$i.c \
 *        -Dacti_kern_$i=acti_kern_${i}_old -Dacti_vm_$i=acti_vm_${i}_old -o build/ab/$i.o; done
 *     cc -O2 -march=native -DQB_AB -Iinclude -Isrc dev/quick_bench.c build/ab/avx2.o \
 *        build/ab/avx512.o build/libactlab.a -fopenmp -lm -o build/quick_bench_ab
 * The block kernels (nt, A/B) get their derived constants from acti_act_prep, as the dispatcher
 * does; rows without vector kernels (the vec column 0) have none and are skipped there. */
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actlab/act.h"
#include "act/act_kern.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int selected(const char *names, const char *name)
{
    char key[64], list[512];
    if (!names)
        return 1;
    snprintf(key, sizeof key, ",%s,", name);
    snprintf(list, sizeof list, ",%s,", names);
    return strstr(list, key) != NULL;
}

// ----------------------------------------------------------------------------
// validation against the scalar reference (tools/actlab/bench_core.c's rule)

#define QB_RTOL 1e-5
#define QB_ATOL 1e-6

/* max over i of |got - ref| / (RTOL |ref| + atol); NaN where exactly one of them is NaN. At
 * most 1 passes. */
static double qb_err(const float *got, const float *ref, size_t n, double atol)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], r = ref[i];
        if (isnan(g) || isnan(r)) {
            if (isnan(g) != isnan(r))
                return NAN;
            continue;
        }
        if (g == r)
            continue;
        double e = fabs(g - r) / (QB_RTOL * fabs(r) + atol);
        if (!(e <= worst))
            worst = e;
    }
    return worst;
}

static int qb_ok(double err)
{
    return err <= 1.0;                  /* false for NaN */
}

/* y = f(x) (and, with dy, dx = dy f'(x), dp summed if dp) of id with the scalar reference;
 * restores the ISA in use. An act_status. */
static int qb_reference(act_act_id id, const float *p, unsigned flags, const float *x,
                        const float *dy, float *y, float *dx, float *dp, act_shape s)
{
    act_isa isa = act_isa_get();
    int rc = act_isa_set(ACT_ISA_SCALAR);
    if (rc == ACT_OK)
        rc = act_act_forward(id, p, flags, x, y, s);
    if (rc == ACT_OK && dy)
        rc = act_act_backward(id, p, flags | ACT_DX_ASSIGN, x, dy, dx, dp, s);
    int rc2 = act_isa_set(isa);
    return rc != ACT_OK ? rc : rc2;
}

static void copy_plain(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_loadu_ps(x + i));
}

static void copy_nt(const float *x, float *y, size_t n)   /* y 64-byte aligned */
{
    for (size_t i = 0; i < n; i += 16)
        _mm512_stream_ps(y + i, _mm512_loadu_ps(x + i));
    _mm_sfence();
}

/* min ns/elem of one call of f over reps of >= 50 ms, 5 rounds interleaved with the others */
typedef struct nt_case {
    const char *label;
    acti_fwd_fn *fwd;
    void (*copy)(const float *, float *, size_t);
    double best;
} nt_case;

static void nt_time(nt_case *c, int nc, const float *x, float *y, size_t n, const float *q,
                    const float *p)
{
    for (int k = 0; k < nc; k++)
        c[k].best = 1e9;
    for (int r = 0; r < 5; r++)
        for (int k = 0; k < nc; k++) {
            int reps = 0;
            double t0 = now(), t;
            do {
                if (c[k].fwd)
                    c[k].fwd(q, p, x, y, n);
                else
                    c[k].copy(x, y, n);
                reps++;
                t = now() - t0;
            } while (t < 0.05);
            double ns = t / reps / (double)n * 1e9;
            if (ns < c[k].best)
                c[k].best = ns;
        }
}

static int nt_main(int argc, char **argv)
{
    size_t n = (size_t)1 << (argc > 2 ? atoi(argv[2]) : 24);
    const char *names = argc > 3 ? argv[3] : "relu,leaky_relu,prelu,relu6,hardsigmoid,hardswish";
    float *x = aligned_alloc(64, n * 4), *y = aligned_alloc(64, n * 4);
    float *yref = malloc(n * 4);
    int status = 0;
    if (!x || !y || !yref) {
        fprintf(stderr, "quick_bench: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        x[i] = -4.0f + 8.0f * (float)rand() / (float)RAND_MAX;
        y[i] = 0.0f;
    }
    nt_case cp[2] = { { "copy", NULL, copy_plain, 0 }, { "copy NT", NULL, copy_nt, 0 } };
    nt_time(cp, 2, x, y, n, NULL, NULL);
    printf("n = 2^%d, 1 thread: copy %.3f, copy NT %.3f ns/elem (same run)\n",
           argc > 2 ? atoi(argv[2]) : 24, cp[0].best, cp[1].best);
    for (int isa = ACT_ISA_AVX2; isa <= ACT_ISA_AVX512; isa++) {
        if (!act_isa_supported((act_isa)isa))
            continue;
        const acti_kern *kt = isa == ACT_ISA_AVX512 ? acti_kern_avx512 : acti_kern_avx2;
        for (int id = 0; id < ACT_ACT_COUNT; id++) {
            const act_act_desc *d = act_act_info((act_act_id)id);
            if (!selected(names, d->name) || !kt[id].fwd || !kt[id].fwdnt)
                continue;
            float q[ACTI_Q_MAX];
            acti_act_prep((act_act_id)id, d->defaults, q);   /* as the dispatcher does */
            nt_case c[2] = { { "plain", kt[id].fwd, NULL, 0 }, { "NT", kt[id].fwdnt, NULL, 0 } };
            int rc = qb_reference((act_act_id)id, NULL, 0, x, NULL, yref, NULL, NULL,
                                  act_shape_flat(n));
            double err[2] = { 0, 0 };
            for (int k = 0; k < 2 && rc == ACT_OK; k++) {    /* validate before timing */
                memset(y, 0xff, n * 4);                      /* NaN: an unwritten y fails */
                c[k].fwd(q, d->defaults, x, y, n);
                err[k] = qb_err(y, yref, n, QB_ATOL);
            }
            if (rc != ACT_OK || !qb_ok(err[0]) || !qb_ok(err[1])) {
                printf("%-7s %-12s FAIL: reference %s, error plain %.3g NT %.3g (> 1)\n",
                       act_isa_name((act_isa)isa), d->name, act_strerror(rc), err[0], err[1]);
                status = 1;
                continue;
            }
            nt_time(c, 2, x, y, n, q, d->defaults);
            printf("%-7s %-12s fwd plain %.3f  NT %.3f ns/elem  (NT/copy %.0f%%, NT/copy NT %.0f%%)\n",
                   act_isa_name((act_isa)isa), d->name, c[0].best, c[1].best,
                   100.0 * cp[0].best / c[1].best, 100.0 * cp[1].best / c[1].best);
        }
    }
    free(x);
    free(y);
    free(yref);
    return status;
}

#ifdef QB_AB
extern const acti_kern acti_kern_avx2_old[ACT_ACT_COUNT];
extern const acti_kern acti_kern_avx512_old[ACT_ACT_COUNT];

/* min ns/elem of [old fwd, new fwd, old bwd, new bwd] over 9 interleaved rounds */
static void ab_time(const acti_kern *ko, const acti_kern *kn, const float *q, const float *p,
                    const float *x, const float *dy, float *y, size_t n, double best[4])
{
    for (int k = 0; k < 4; k++)
        best[k] = 1e9;
    for (int r = 0; r < 9; r++)
        for (int k = 0; k < 4; k++) {
            const acti_kern *kk = k & 1 ? kn : ko;
            int reps = 0;
            double t0 = now(), t;
            do {
                if (k < 2)
                    kk->fwd(q, p, x, y, n);
                else
                    kk->bwd(q, p, x, dy, y, n, 1, NULL);
                reps++;
                t = now() - t0;
            } while (t < 0.01);
            double ns = t / reps / (double)n * 1e9;
            if (ns < best[k])
                best[k] = ns;
        }
}

/* The worst error of k's fwd and bwd (assign) against the scalar reference. */
static double ab_check(const acti_kern *k, const float *q, const float *p, const float *x,
                       const float *dy, float *y, const float *yref, const float *dxref,
                       size_t n)
{
    memset(y, 0xff, n * 4);
    k->fwd(q, p, x, y, n);
    double e = qb_err(y, yref, n, QB_ATOL);
    memset(y, 0xff, n * 4);
    k->bwd(q, p, x, dy, y, n, 1, NULL);
    double e2 = qb_err(y, dxref, n, QB_ATOL);
    return isnan(e) || isnan(e2) ? NAN : e > e2 ? e : e2;
}

static int ab_main(int argc, char **argv)
{
    size_t n = (size_t)1 << (argc > 1 ? atoi(argv[1]) : 20);
    const char *names = argc > 2 ? argv[2] : NULL;
    float *x = malloc(n * 4), *y = malloc(n * 4), *dy = malloc(n * 4);
    float *yref = malloc(n * 4), *dxref = malloc(n * 4);
    int status = 0;
    if (!x || !y || !dy || !yref || !dxref) {
        fprintf(stderr, "quick_bench: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        x[i] = -4.0f + 8.0f * (float)rand() / (float)RAND_MAX;
        dy[i] = -1.0f + 2.0f * (float)rand() / (float)RAND_MAX;
    }
    printf("ns/elem, n = 2^%d, 1 thread, min of 9 interleaved rounds: old -> new (new/old)\n",
           argc > 1 ? atoi(argv[1]) : 20);
    for (int isa = ACT_ISA_AVX2; isa <= ACT_ISA_AVX512; isa++) {
        if (!act_isa_supported((act_isa)isa))
            continue;
        int w = isa == ACT_ISA_AVX512;
        for (int id = 0; id < ACT_ACT_COUNT; id++) {
            const act_act_desc *d = act_act_info((act_act_id)id);
            const acti_kern *ko = &(w ? acti_kern_avx512_old : acti_kern_avx2_old)[id];
            const acti_kern *kn = &(w ? acti_kern_avx512 : acti_kern_avx2)[id];
            if (!selected(names, d->name) || !ko->fwd || !kn->fwd)
                continue;
            float q[ACTI_Q_MAX];
            acti_act_prep((act_act_id)id, d->defaults, q);   /* the working tree's prep */
            int rc = qb_reference((act_act_id)id, NULL, 0, x, dy, yref, dxref, NULL,
                                  act_shape_flat(n));
            double eo = rc == ACT_OK ? ab_check(ko, q, d->defaults, x, dy, y, yref, dxref, n) : 0;
            double en = rc == ACT_OK ? ab_check(kn, q, d->defaults, x, dy, y, yref, dxref, n) : 0;
            if (rc != ACT_OK || !qb_ok(eo) || !qb_ok(en)) {
                printf("%-7s %-12s FAIL: reference %s, error old %.3g new %.3g (> 1)\n",
                       act_isa_name((act_isa)isa), d->name, act_strerror(rc), eo, en);
                status = 1;
                continue;
            }
            double b[4];
            ab_time(ko, kn, q, d->defaults, x, dy, y, n, b);
            printf("%-7s %-12s fwd %.3f -> %.3f (%.2f)  bwd %.3f -> %.3f (%.2f)\n",
                   act_isa_name((act_isa)isa), d->name, b[0], b[1], b[1] / b[0], b[2], b[3],
                   b[3] / b[2]);
        }
    }
    free(x);
    free(y);
    free(dy);
    free(yref);
    free(dxref);
    return status;
}
#endif

int main(int argc, char **argv)
{
#ifdef QB_AB
    return ab_main(argc, argv);
#endif
    if (argc > 1 && strcmp(argv[1], "nt") == 0)
        return nt_main(argc, argv);
    size_t n = (size_t)1 << (argc > 1 ? atoi(argv[1]) : 20);
    size_t C = argc > 2 ? (size_t)atoi(argv[2]) : 0;
    act_shape sh = C ? (act_shape){ n / C, C, 1 } : act_shape_flat(n);
    int status = 0;
    unsigned pcf = C ? ACT_PER_CHANNEL : 0;
    size_t np = 3 * (C ? C : 1);
    float *x = malloc(n * 4), *y = malloc(n * 4), *dy = malloc(n * 4);
    float *p = malloc(np * 4), *dp = calloc(np, 4);
    float *yref = malloc(n * 4), *dxref = malloc(n * 4), *dpref = calloc(np, 4);
    if (!x || !y || !dy || !p || !dp || !yref || !dxref || !dpref) {
        fprintf(stderr, "quick_bench: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        x[i] = -4.0f + 8.0f * (float)rand() / (float)RAND_MAX;
        dy[i] = -1.0f + 2.0f * (float)rand() / (float)RAND_MAX;
    }
    if (act_threads_set(1) != ACT_OK) {
        fprintf(stderr, "quick_bench: cannot use 1 thread\n");
        return 1;
    }
    for (int isa = ACT_ISA_AVX2; isa <= ACT_ISA_AVX512; isa++) {
        if (act_isa_set((act_isa)isa) != ACT_OK)
            continue;
        for (int id = 0; id < ACT_ACT_COUNT; id++) {
            const act_act_desc *d = act_act_info((act_act_id)id);
            if (C && d->n_params == 0)
                continue;
            if (!selected(argc > 3 ? argv[3] : NULL, d->name))
                continue;
            for (int k = 0; C && k < d->n_params; k++)
                for (size_t c = 0; c < C; c++)
                    p[(size_t)k * C + c] = d->defaults[k];
            /* validate before timing: the reference, then this ISA once, dp zeroed */
            const float *pp = C ? p : NULL;
            size_t ndp = C ? (size_t)d->n_params * C : 0;
            memset(dpref, 0, np * 4);
            memset(dp, 0, np * 4);
            memset(y, 0xff, n * 4);                          /* NaN: an unwritten y fails */
            int rc = qb_reference((act_act_id)id, pp, pcf, x, dy, yref, dxref,
                                  C ? dpref : NULL, sh);
            double ef = 0, eb = 0;
            if (rc == ACT_OK)
                rc = act_act_forward((act_act_id)id, pp, pcf, x, y, sh);
            if (rc == ACT_OK) {
                ef = qb_err(y, yref, n, QB_ATOL);
                memset(y, 0xff, n * 4);
                rc = act_act_backward((act_act_id)id, pp, pcf | ACT_DX_ASSIGN, x, dy, y,
                                      C ? dp : NULL, sh);
            }
            if (rc == ACT_OK) {
                eb = qb_err(y, dxref, n, QB_ATOL);
                /* each dp entry sums n / C terms: ATOL per term */
                double e2 = qb_err(dp, dpref, ndp, QB_ATOL * (double)(C ? n / C : 1));
                if (isnan(e2) || e2 > eb)
                    eb = e2;
            }
            if (rc == ACT_OK && (!qb_ok(ef) || !qb_ok(eb))) {
                printf("%-7s %-12s FAIL: error against the scalar reference fwd %.3g bwd %.3g "
                       "(> 1)\n", act_isa_name((act_isa)isa), d->name, ef, eb);
                status = 1;
                continue;
            }
            double best[2] = { 1e9, 1e9 };
            for (int dir = 0; dir < 2 && rc == ACT_OK; dir++) {
                for (int r = 0; r < 7 && rc == ACT_OK; r++) {
                    int reps = 0;
                    double t0 = now(), t;
                    do {
                        if (dir == 0)
                            rc = act_act_forward((act_act_id)id, C ? p : NULL, pcf, x, y, sh);
                        else
                            rc = act_act_backward((act_act_id)id, C ? p : NULL,
                                                  pcf | ACT_DX_ASSIGN, x, dy, y, C ? dp : NULL,
                                                  sh);
                        reps++;
                        t = now() - t0;
                    } while (rc == ACT_OK && t < 0.02);
                    double ns = t / reps / (double)n * 1e9;
                    if (ns < best[dir])
                        best[dir] = ns;
                }
            }
            if (rc != ACT_OK) {             /* no timings of a failed call */
                printf("%-7s %-12s FAIL (%s)\n", act_isa_name((act_isa)isa), d->name,
                       act_strerror(rc));
                status = 1;
                continue;
            }
            printf("%-7s %-12s fwd %.3f  bwd %.3f ns/elem\n", act_isa_name((act_isa)isa),
                   act_act_info((act_act_id)id)->name, best[0], best[1]);
        }
    }
    free(x);
    free(y);
    free(dy);
    free(p);
    free(dp);
    free(yref);
    free(dxref);
    free(dpref);
    return status;
}
