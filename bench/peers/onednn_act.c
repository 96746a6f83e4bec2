/* onednn_act.c -- oneDNN 2.x eltwise primitives timed the way `actlab bench` times its kernels
 * (benchmark-only peer; built by bench/peers/run.sh with -ldnnl, never part of the library).
 *   onednn_act [--sizes 16,20,24] [--reps N] [--reps-large N] [--min-ms M] [NAME...]
 * NAME is an actlab activation name (relu, silu, gelu, ...). Threads: OMP_NUM_THREADS.
 * Forward is forward_training src -> dst; backward is backward from src (diff_dst, src ->
 * diff_src). Inputs x ~ U(-4, 4), dy ~ U(-1, 1), seeded. Time = min over reps, each rep
 * repeats the call until it lasts >= min-ms. Prints CSV rows:
 *   impl,activation,dir,log2n,threads,ns_per_elem */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <oneapi/dnnl/dnnl.h>

#define CHECK(call)                                                                   \
    do {                                                                              \
        dnnl_status_t st_ = (call);                                                   \
        if (st_ != dnnl_success) {                                                    \
            fprintf(stderr, "onednn_act: %s failed (status %d) at line %d\n", #call,  \
                    (int)st_, __LINE__);                                              \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

/* actlab name -> oneDNN algorithm and alpha, beta (oneDNN 2.6 semantics). */
static const struct alg {
    const char *name;
    dnnl_alg_kind_t alg;
    float alpha, beta;
} algs[] = {
    { "relu",       dnnl_eltwise_relu,       0.0f,  0.0f },
    { "leaky_relu", dnnl_eltwise_relu,       0.01f, 0.0f },  /* relu with negative slope */
    { "elu",        dnnl_eltwise_elu,        1.0f,  0.0f },
    { "softplus",   dnnl_eltwise_soft_relu,  1.0f,  0.0f },  /* log(1 + e^x) */
    { "sigmoid",    dnnl_eltwise_logistic,   0.0f,  0.0f },
    { "tanh",       dnnl_eltwise_tanh,       0.0f,  0.0f },
    { "relu6",      dnnl_eltwise_clip_v2,    0.0f,  6.0f },
    { "hardswish",  dnnl_eltwise_hardswish,  0.0f,  0.0f },
    { "silu",       dnnl_eltwise_swish,      1.0f,  0.0f },  /* x*sigmoid(alpha*x) */
    { "gelu",       dnnl_eltwise_gelu_erf,   0.0f,  0.0f },
    { "gelu_tanh",  dnnl_eltwise_gelu_tanh,  0.0f,  0.0f },
    { "mish",       dnnl_eltwise_mish,       0.0f,  0.0f },
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct run {
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    int nargs;
    dnnl_exec_arg_t args[3];
};

static double run_iters(struct run *r, long iters)
{
    double t0 = now();
    for (long i = 0; i < iters; i++)
        CHECK(dnnl_primitive_execute(r->prim, r->stream, r->nargs, r->args));
    CHECK(dnnl_stream_wait(r->stream));
    return now() - t0;
}

/* min seconds per call; the calibration run that reaches min_s counts as the first rep */
static double measure(struct run *r, int reps, double min_s)
{
    /* Calibrate on the fastest per-call time of >= 3 growing runs, so that one stalled run
     * (a descheduled thread on a loaded machine) cannot fix the count at a single call. */
    long iters = 1;
    double per = 1e30, t;
    run_iters(r, 1);                            /* warm-up: caches, pages, thread pool */
    for (int k = 0;; k++) {
        t = run_iters(r, iters);
        if (t / (double)iters < per)
            per = t / (double)iters;
        if ((k >= 2 && t >= 0.1 * min_s) || iters >= (1L << 40))
            break;
        iters = iters * 4 > 1000000000L ? iters : iters * 4;
    }
    double want = per > 0 ? min_s / per : 1.0;
    iters = want < 1.0 ? 1 : want > 1e12 ? (long)1e12 : (long)want + 1;
    t = run_iters(r, iters);
    double best = t / (double)iters;
    for (int i = 1; i < reps; i++) {
        t = run_iters(r, iters) / (double)iters;
        if (t < best)
            best = t;
    }
    return best;
}

int main(int argc, char **argv)
{
    int sizes[8] = { 16, 20, 24 }, n_sizes = 3, reps = 5, reps_large = 3;
    double min_s = 0.025;
    const char *names[64];
    int n_names = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) {
            n_sizes = 0;
            for (char *s = strtok(argv[++i], ","); s && n_sizes < 8; s = strtok(NULL, ","))
                sizes[n_sizes++] = atoi(s);
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--reps-large") == 0 && i + 1 < argc) {
            reps_large = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--min-ms") == 0 && i + 1 < argc) {
            min_s = 1e-3 * atof(argv[++i]);
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: onednn_act [--sizes L] [--reps N] [--reps-large N] "
                            "[--min-ms M] [NAME...]\n");
            return 2;
        } else if (n_names < 64) {
            names[n_names++] = argv[i];
        }
    }
    if (n_names == 0)
        for (size_t k = 0; k < sizeof algs / sizeof algs[0]; k++)
            names[n_names++] = algs[k].name;

    int max_log = 0;
    for (int i = 0; i < n_sizes; i++)
        max_log = sizes[i] > max_log ? sizes[i] : max_log;
    size_t max_n = (size_t)1 << max_log;
    float *x = aligned_alloc(64, max_n * 4), *y = aligned_alloc(64, max_n * 4);
    float *dy = aligned_alloc(64, max_n * 4), *dx = aligned_alloc(64, max_n * 4);
    if (!x || !y || !dy || !dx) {
        fprintf(stderr, "onednn_act: out of memory\n");
        return 1;
    }
    uint64_t seed = 1;
    for (size_t i = 0; i < max_n; i++) {
        x[i] = -4.0f + 8.0f * (float)(next(&seed) >> 40) * 0x1.0p-24f;
        dy[i] = -1.0f + 2.0f * (float)(next(&seed) >> 40) * 0x1.0p-24f;
    }
    memset(y, 0, max_n * 4);
    memset(dx, 0, max_n * 4);

    dnnl_engine_t eng;
    dnnl_stream_t stream;
    CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags));
    int threads = omp_get_max_threads();

    for (int a = 0; a < n_names; a++) {
        const struct alg *al = NULL;
        for (size_t k = 0; k < sizeof algs / sizeof algs[0]; k++)
            if (strcmp(algs[k].name, names[a]) == 0)
                al = &algs[k];
        if (!al) {
            fprintf(stderr, "onednn_act: no oneDNN algorithm for '%s' (skipped)\n", names[a]);
            continue;
        }
        for (int si = 0; si < n_sizes; si++) {
            size_t n = (size_t)1 << sizes[si];
            int r = n >= ((size_t)1 << 22) ? reps_large : reps;
            dnnl_dims_t dims = { (dnnl_dim_t)n };
            dnnl_memory_desc_t md;
            CHECK(dnnl_memory_desc_init_by_tag(&md, 1, dims, dnnl_f32, dnnl_a));
            dnnl_memory_t mx, my, mdy, mdx;
            CHECK(dnnl_memory_create(&mx, &md, eng, x));
            CHECK(dnnl_memory_create(&my, &md, eng, y));
            CHECK(dnnl_memory_create(&mdy, &md, eng, dy));
            CHECK(dnnl_memory_create(&mdx, &md, eng, dx));

            dnnl_eltwise_desc_t fd, bd;
            dnnl_primitive_desc_t fpd, bpd;
            CHECK(dnnl_eltwise_forward_desc_init(&fd, dnnl_forward_training, al->alg, &md,
                                                 al->alpha, al->beta));
            CHECK(dnnl_primitive_desc_create(&fpd, &fd, NULL, eng, NULL));
            CHECK(dnnl_eltwise_backward_desc_init(&bd, al->alg, &md, &md, al->alpha, al->beta));
            CHECK(dnnl_primitive_desc_create(&bpd, &bd, NULL, eng, fpd));
            const char *fimpl = "?", *bimpl = "?";
            dnnl_primitive_desc_query(fpd, dnnl_query_impl_info_str, 0, &fimpl);
            dnnl_primitive_desc_query(bpd, dnnl_query_impl_info_str, 0, &bimpl);

            struct run fr = { NULL, stream, 2, { { DNNL_ARG_SRC, mx }, { DNNL_ARG_DST, my } } };
            struct run br = { NULL, stream, 3, { { DNNL_ARG_SRC, mx }, { DNNL_ARG_DIFF_DST, mdy },
                                                 { DNNL_ARG_DIFF_SRC, mdx } } };
            CHECK(dnnl_primitive_create(&fr.prim, fpd));
            CHECK(dnnl_primitive_create(&br.prim, bpd));
            double tf = measure(&fr, r, min_s), tb = measure(&br, r, min_s);
            printf("onednn,%s,fwd,%d,%d,%.6g,%s\n", al->name, sizes[si], threads,
                   1e9 * tf / (double)n, fimpl);
            printf("onednn,%s,bwd,%d,%d,%.6g,%s\n", al->name, sizes[si], threads,
                   1e9 * tb / (double)n, bimpl);
            fflush(stdout);
            dnnl_primitive_destroy(fr.prim);
            dnnl_primitive_destroy(br.prim);
            dnnl_primitive_desc_destroy(fpd);
            dnnl_primitive_desc_destroy(bpd);
            dnnl_memory_destroy(mx);
            dnnl_memory_destroy(my);
            dnnl_memory_destroy(mdy);
            dnnl_memory_destroy(mdx);
        }
    }
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(eng);
    free(x);
    free(y);
    free(dy);
    free(dx);
    return 0;
}
