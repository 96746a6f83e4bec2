/* bench_core.c -- the measuring machinery of `actlab bench` (see bench.h): seeded input buffers,
 * STREAM copy/triad loops written with intrinsics (so gcc cannot turn them into memcpy), the
 * scalar reference, validation against it, and the min-over-repetitions timer. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BENCH_X86 1
#endif

#include "actlab/rng.h"
#include "bench.h"

struct bench_bufs {
    size_t max_n;
    float *x, *dy;                 /* inputs */
    float *y, *dx;                 /* outputs of the kernel under test */
    float *yref, *dxref;           /* scalar reference */
    float  p[ACT_ACT_MAX_PARAMS * BENCH_CHANNELS];
    float  dp[ACT_ACT_MAX_PARAMS * BENCH_CHANNELS];
    float  dpref[ACT_ACT_MAX_PARAMS * BENCH_CHANNELS];
    float *a, *bb, *c;             /* STREAM arrays (alias y, dx, x: same memory, same sizes) */
};

// ----------------------------------------------------------------------------
// buffers

static float bench_uniform(act_rng *s, float lo, float hi)
{
    float u = (float)(act_rng_next(s) >> 40) * 0x1.0p-24f;   /* [0, 1), 24 bits */
    return lo + (hi - lo) * u;
}

static float *bench_alloc(size_t n)
{
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    return aligned_alloc(64, bytes);
}

bench_bufs *bench_bufs_new(size_t max_n, uint64_t seed)
{
    bench_bufs *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->max_n = max_n;
    b->x = bench_alloc(max_n);
    b->dy = bench_alloc(max_n);
    b->y = bench_alloc(max_n);
    b->dx = bench_alloc(max_n);
    b->yref = bench_alloc(max_n);
    b->dxref = bench_alloc(max_n);
    if (!b->x || !b->dy || !b->y || !b->dx || !b->yref || !b->dxref) {
        bench_bufs_free(b);
        return NULL;
    }
    act_rng s = act_rng_seed(seed);
    for (size_t i = 0; i < max_n; i++) {
        b->x[i] = bench_uniform(&s, -4.0f, 4.0f);
        b->dy[i] = bench_uniform(&s, -1.0f, 1.0f);
    }
    memset(b->y, 0, max_n * sizeof(float));         /* touch every page once */
    memset(b->dx, 0, max_n * sizeof(float));
    memset(b->yref, 0, max_n * sizeof(float));
    memset(b->dxref, 0, max_n * sizeof(float));
    b->a = b->x;                                   /* STREAM: c = a (+ s*b) */
    b->bb = b->dy;
    b->c = b->y;
    return b;
}

void bench_bufs_free(bench_bufs *b)
{
    if (!b)
        return;
    free(b->x);
    free(b->dy);
    free(b->y);
    free(b->dx);
    free(b->yref);
    free(b->dxref);
    free(b);
}

// ----------------------------------------------------------------------------
// timer: min over repetitions, each repetition >= min_s

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs `iters` calls and returns the seconds they took. */
typedef double bench_run_fn(void *ctx, long iters);

/* Minimum seconds per call. The calibration run that first lasts >= min_s counts as the
 * first repetition. */
static double bench_measure(bench_run_fn *run, void *ctx, int reps, double min_s)
{
    /* Calibrate on the fastest per-call time of >= 3 growing runs, so that one stalled run
     * (a descheduled thread on a loaded machine) cannot fix the count at a single call. */
    long iters = 1;
    double per = 1e30, t;
    run(ctx, 1);                            /* warm-up: caches, pages, thread pool */
    for (int k = 0;; k++) {
        t = run(ctx, iters);
        if (t / (double)iters < per)
            per = t / (double)iters;
        if ((k >= 2 && t >= 0.1 * min_s) || iters >= (1L << 40))
            break;
        iters = iters * 4 > 1000000000L ? iters : iters * 4;
    }
    double want = per > 0 ? min_s / per : 1.0;
    iters = want < 1.0 ? 1 : want > 1e12 ? (long)1e12 : (long)want + 1;
    t = run(ctx, iters);
    double best = t / (double)iters;
    for (int r = 1; r < reps; r++) {
        t = run(ctx, iters) / (double)iters;
        if (t < best)
            best = t;
    }
    return best;
}

static int bench_reps(const bench_cfg *cfg, size_t n)
{
    return n >= ((size_t)1 << 22) ? cfg->reps_large : cfg->reps;
}

// ----------------------------------------------------------------------------
// STREAM copy and triad (intrinsics: the loop measured is the loop written)

typedef void stream_fn(const float *a, const float *b, float *c, size_t lo, size_t hi);

static void copy_ref(const float *a, const float *b, float *c, size_t lo, size_t hi)
{
    (void)b;
    volatile float *vc = c;                       /* no memcpy: one store per element */
    for (size_t i = lo; i < hi; i++)
        vc[i] = a[i];
}

static void triad_ref(const float *a, const float *b, float *c, size_t lo, size_t hi)
{
    volatile float *vc = c;
    for (size_t i = lo; i < hi; i++)
        vc[i] = a[i] + 3.0f * b[i];
}

#ifdef BENCH_X86
__attribute__((target("avx512f")))
static void copy_avx512(const float *a, const float *b, float *c, size_t lo, size_t hi)
{
    (void)b;
    size_t i = lo;
    for (; i + 16 <= hi; i += 16)
        _mm512_storeu_ps(c + i, _mm512_loadu_ps(a + i));
    for (; i < hi; i++)
        c[i] = a[i];
}

__attribute__((target("avx512f")))
static void triad_avx512(const float *a, const float *b, float *c, size_t lo, size_t hi)
{
    const __m512 s = _mm512_set1_ps(3.0f);
    size_t i = lo;
    for (; i + 16 <= hi; i += 16)
        _mm512_storeu_ps(c + i, _mm512_fmadd_ps(s, _mm512_loadu_ps(b + i), _mm512_loadu_ps(a + i)));
    for (; i < hi; i++)
        c[i] = a[i] + 3.0f * b[i];
}

__attribute__((target("avx2,fma")))
static void copy_avx2(const float *a, const float *b, float *c, size_t lo, size_t hi)
{
    (void)b;
    size_t i = lo;
    for (; i + 8 <= hi; i += 8)
        _mm256_storeu_ps(c + i, _mm256_loadu_ps(a + i));
    for (; i < hi; i++)
        c[i] = a[i];
}

__attribute__((target("avx2,fma")))
static void triad_avx2(const float *a, const float *b, float *c, size_t lo, size_t hi)
{
    const __m256 s = _mm256_set1_ps(3.0f);
    size_t i = lo;
    for (; i + 8 <= hi; i += 8)
        _mm256_storeu_ps(c + i, _mm256_fmadd_ps(s, _mm256_loadu_ps(b + i), _mm256_loadu_ps(a + i)));
    for (; i < hi; i++)
        c[i] = a[i] + 3.0f * b[i];
}

static void copy_sse2(const float *a, const float *b, float *c, size_t lo, size_t hi)
{
    (void)b;
    size_t i = lo;
    for (; i + 4 <= hi; i += 4)
        _mm_storeu_ps(c + i, _mm_loadu_ps(a + i));
    for (; i < hi; i++)
        c[i] = a[i];
}

static void triad_sse2(const float *a, const float *b, float *c, size_t lo, size_t hi)
{
    const __m128 s = _mm_set1_ps(3.0f);
    size_t i = lo;
    for (; i + 4 <= hi; i += 4)
        _mm_storeu_ps(c + i, _mm_add_ps(_mm_loadu_ps(a + i), _mm_mul_ps(s, _mm_loadu_ps(b + i))));
    for (; i < hi; i++)
        c[i] = a[i] + 3.0f * b[i];
}
#endif

static int stream_level(void)     /* 3 avx512, 2 avx2, 1 sse2, 0 portable */
{
#ifdef BENCH_X86
    if (act_isa_supported(ACT_ISA_AVX512))
        return 3;
    if (act_isa_supported(ACT_ISA_AVX2))
        return 2;
    return 1;
#else
    return 0;
#endif
}

const char *bench_stream_isa(void)
{
    static const char *const names[] = { "scalar", "sse2", "avx2", "avx512" };
    return names[stream_level()];
}

static stream_fn *stream_pick(int triad)
{
    switch (stream_level()) {
#ifdef BENCH_X86
    case 3: return triad ? triad_avx512 : copy_avx512;
    case 2: return triad ? triad_avx2 : copy_avx2;
    case 1: return triad ? triad_sse2 : copy_sse2;
#endif
    default: return triad ? triad_ref : copy_ref;
    }
}

struct stream_ctx {
    stream_fn *fn;
    const float *a, *b;
    float *c;
    size_t n;
    int threads;
};

/* One OpenMP region; each thread repeats the kernel on its own 64-byte aligned slice. */
static double stream_run(void *vctx, long iters)
{
    struct stream_ctx *k = vctx;
    double t0 = 0, t1 = 0;
#pragma omp parallel num_threads(k->threads)
    {
        int id = omp_get_thread_num(), nt = omp_get_num_threads();
        size_t per = (k->n / (size_t)nt) & ~(size_t)15;
        size_t lo = (size_t)id * per, hi = id == nt - 1 ? k->n : lo + per;
#pragma omp barrier
#pragma omp single
        t0 = bench_now();
        for (long it = 0; it < iters; it++)
            k->fn(k->a, k->b, k->c, lo, hi);
#pragma omp barrier
#pragma omp single
        t1 = bench_now();
    }
    return t1 - t0;
}

void bench_bound(bench_bufs *b, size_t n, int threads, const bench_cfg *cfg,
                 double *copy_ns, double *triad_ns)
{
    struct stream_ctx k = { stream_pick(0), b->a, b->bb, b->c, n, threads };
    *copy_ns = 1e9 * bench_measure(stream_run, &k, bench_reps(cfg, n), cfg->min_s) / (double)n;
    k.fn = stream_pick(1);
    *triad_ns = 1e9 * bench_measure(stream_run, &k, bench_reps(cfg, n), cfg->min_s) / (double)n;
}

// ----------------------------------------------------------------------------
// kernels: layout, reference, validation, timing

act_shape bench_shape(act_act_id id, size_t n, unsigned *flags)
{
    const act_act_desc *d = act_act_info(id);
    *flags = 0;
    if (!d || !d->learnable || n % BENCH_CHANNELS)
        return act_shape_flat(n);
    size_t inner = n / BENCH_CHANNELS < 256 ? n / BENCH_CHANNELS : 256;
    act_shape s = { n / (BENCH_CHANNELS * inner), BENCH_CHANNELS, inner };
    *flags = ACT_PER_CHANNEL;
    return s;
}

/* Parameters of id for its layout into *p: NULL (defaults) or per channel, as a layer
 * initialises them (ACON-C: p1, p2 ~ N(0, 1) as in nmaac/acon acon.py). Returns an act_status;
 * *p is NULL on failure. */
static int bench_params(bench_bufs *b, act_act_id id, unsigned flags, const float **p)
{
    *p = NULL;
    if (!(flags & ACT_PER_CHANNEL))
        return ACT_OK;
    int rc = act_act_init_params(id, ACT_INIT_PAPER, 12345, BENCH_CHANNELS, b->p);
    if (rc == ACT_OK)
        *p = b->p;
    return rc;
}

static size_t bench_n_dp(act_act_id id, unsigned flags)
{
    return (flags & ACT_PER_CHANNEL) ? (size_t)act_act_info(id)->n_params * BENCH_CHANNELS : 0;
}

int bench_reference(bench_bufs *b, act_act_id id, size_t n)
{
    unsigned flags;
    act_shape s = bench_shape(id, n, &flags);
    const float *p;
    act_isa isa = act_isa_get();
    int threads = act_threads_get();
    int rc = bench_params(b, id, flags, &p);
    if (rc == ACT_OK)
        rc = act_isa_set(ACT_ISA_SCALAR);
    if (rc == ACT_OK)
        rc = act_threads_set(1);
    memset(b->dpref, 0, sizeof b->dpref);
    if (rc == ACT_OK)
        rc = act_act_forward(id, p, flags, b->x, b->yref, s);
    if (rc == ACT_OK)
        rc = act_act_backward(id, p, flags | ACT_DX_ASSIGN, b->x, b->dy, b->dxref,
                              bench_n_dp(id, flags) ? b->dpref : NULL, s);
    /* restore what was in use (valid, as act_isa_get / act_threads_get returned it) */
    int rc_isa = act_isa_set(isa), rc_thr = act_threads_set(threads);
    return rc != ACT_OK ? rc : rc_isa != ACT_OK ? rc_isa : rc_thr;
}

/* max over i of |got - ref| / (RTOL |ref| + atol); NaN where exactly one of them is NaN. */
static double bench_err(const float *got, const float *ref, size_t n, double atol)
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
        double e = fabs(g - r) / (BENCH_RTOL * fabs(r) + atol);
        if (!(e <= worst))
            worst = e;
    }
    return worst;
}

static void bench_fill_check(bench_check *c, int rc, double err)
{
    c->status = rc;
    c->err = err;
    c->ok = rc == ACT_OK && err <= 1.0;           /* false for NaN */
}

void bench_validate(bench_bufs *b, act_act_id id, size_t n, act_isa isa, int threads,
                    bench_check *fwd, bench_check *bwd)
{
    unsigned flags;
    act_shape s = bench_shape(id, n, &flags);
    const float *p;
    size_t ndp = bench_n_dp(id, flags);
    int rc = bench_params(b, id, flags, &p);
    if (rc == ACT_OK)
        rc = act_isa_set(isa);
    if (rc == ACT_OK)
        rc = act_threads_set(threads);
    if (rc != ACT_OK) {                           /* nothing ran: both directions fail */
        bench_fill_check(fwd, rc, 0);
        bench_fill_check(bwd, rc, 0);
        return;
    }

    memset(b->y, 0xff, n * sizeof(float));        /* NaN: an element left unwritten fails */
    rc = act_act_forward(id, p, flags, b->x, b->y, s);
    bench_fill_check(fwd, rc, rc == ACT_OK ? bench_err(b->y, b->yref, n, BENCH_ATOL) : 0);

    memset(b->dx, 0xff, n * sizeof(float));
    memset(b->dp, 0, sizeof b->dp);
    rc = act_act_backward(id, p, flags | ACT_DX_ASSIGN, b->x, b->dy, b->dx, ndp ? b->dp : NULL, s);
    double err = 0;
    if (rc == ACT_OK) {
        err = bench_err(b->dx, b->dxref, n, BENCH_ATOL);
        /* each dp entry sums outer*inner terms: allow ATOL per term */
        double e2 = bench_err(b->dp, b->dpref, ndp, BENCH_ATOL * (double)(s.outer * s.inner));
        if (isnan(e2) || e2 > err)
            err = e2;
    }
    bench_fill_check(bwd, rc, err);
}

struct kern_ctx {
    act_act_id id;
    const float *p;
    unsigned flags;
    act_shape s;
    bench_bufs *b;
    float *dp;
    int dir;
    int rc;
};

static double kern_run(void *vctx, long iters)
{
    struct kern_ctx *k = vctx;
    bench_bufs *b = k->b;
    int rc = ACT_OK;
    double t0 = bench_now();
    if (k->dir == BENCH_FWD) {
        for (long it = 0; it < iters; it++)
            rc |= act_act_forward(k->id, k->p, k->flags, b->x, b->y, k->s);
    } else {
        for (long it = 0; it < iters; it++)
            rc |= act_act_backward(k->id, k->p, k->flags | ACT_DX_ASSIGN, b->x, b->dy, b->dx,
                                   k->dp, k->s);
    }
    double t = bench_now() - t0;
    if (rc != ACT_OK)
        k->rc = rc;
    return t;
}

double bench_time_kernel(bench_bufs *b, act_act_id id, size_t n, int dir, const bench_cfg *cfg)
{
    struct kern_ctx k;
    k.id = id;
    k.s = bench_shape(id, n, &k.flags);
    if (bench_params(b, id, k.flags, &k.p) != ACT_OK)
        return -1.0;
    k.b = b;
    k.dp = bench_n_dp(id, k.flags) ? b->dp : NULL;   /* accumulates; stays finite */
    k.dir = dir;
    k.rc = ACT_OK;
    memset(b->dp, 0, sizeof b->dp);
    double t = bench_measure(kern_run, &k, bench_reps(cfg, n), cfg->min_s);
    return k.rc == ACT_OK ? 1e9 * t / (double)n : -1.0;
}
