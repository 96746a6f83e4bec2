/* cmd_bench.c -- `actlab bench`: every kernel, validated against the scalar reference, then
 * timed forward and backward at several sizes, thread counts and instruction sets, against the
 * STREAM copy (forward) / triad (backward) bound measured in the same run. Also the short
 * bench_summary() that `actlab demo` prints. The machinery is in bench_core.c. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "commands.h"

#define MAX_SIZES   8
#define MAX_THREADS 8

static const double bytes_per_elem[BENCH_DIRS] = { 8.0, 12.0 };
static const char *const dir_names[BENCH_DIRS] = { "fwd", "bwd" };

/* One measured (or failed) kernel. */
typedef struct bench_row {
    bench_check check;
    double ns;                     /* ns per element; < 0 when not timed */
    double bound_ns;               /* copy (fwd) or triad (bwd) at the same n and threads */
} bench_row;

/* Validates id at n with isa and threads against the current reference, then times it. */
static void bench_one(bench_bufs *b, act_act_id id, size_t n, act_isa isa, int threads,
                      const bench_cfg *cfg, const double bound[BENCH_DIRS], bench_row row[BENCH_DIRS])
{
    bench_check chk[BENCH_DIRS];
    bench_validate(b, id, n, isa, threads, &chk[BENCH_FWD], &chk[BENCH_BWD]);
    for (int d = 0; d < BENCH_DIRS; d++) {
        row[d].check = chk[d];
        row[d].bound_ns = bound[d];
        row[d].ns = chk[d].ok ? bench_time_kernel(b, id, n, d, cfg) : -1.0;
        if (chk[d].ok && row[d].ns < 0) {
            row[d].check.ok = 0;   /* the kernel returned an error while being timed */
            row[d].check.status = ACT_EINVAL;
        }
    }
}

static void bench_check_text(const bench_check *c, char *buf, size_t size)
{
    if (c->status != ACT_OK)
        snprintf(buf, size, "FAIL (%s)", act_strerror(c->status));
    else if (!c->ok)
        snprintf(buf, size, "FAIL (err %.3g x tol)", c->err);
    else
        snprintf(buf, size, "ok");
}

// ----------------------------------------------------------------------------
// bench_summary: a few activations at 2^20, 1 thread, best ISA

int bench_summary(FILE *f)
{
    static const char *const names[] = { "silu", "gelu", "mish", "acon_c", "smu", "relu" };
    const size_t n = (size_t)1 << 20;
    const bench_cfg cfg = { 3, 3, 0.010, 1 };
    act_isa isa0 = act_isa_get(), isa = act_isa_best();
    int threads0 = act_threads_get(), failed = 0;
    bench_bufs *b = bench_bufs_new(n, cfg.seed);
    if (!b) {
        fprintf(f, "kernel benchmark: out of memory\n");
        return -1;
    }
    double bound[BENCH_DIRS];
    bench_bound(b, n, 1, &cfg, &bound[BENCH_FWD], &bound[BENCH_BWD]);
    fprintf(f, "kernel benchmark: n = 2^20, 1 thread, isa %s; bound = STREAM copy %.3f / triad "
               "%.3f ns/elem, measured now\n", act_isa_name(isa), bound[0], bound[1]);
    fprintf(f, "  %-10s %12s %7s %12s %7s\n", "activation", "fwd ns/elem", "%bound",
            "bwd ns/elem", "%bound");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        act_act_id id;
        bench_row row[BENCH_DIRS];
        if (act_act_lookup(names[i], &id) != ACT_OK)
            continue;
        if (bench_reference(b, id, n) != ACT_OK) {
            fprintf(f, "  %-10s FAIL (scalar reference returned an error)\n", names[i]);
            failed = 1;
            continue;
        }
        bench_one(b, id, n, isa, 1, &cfg, bound, row);
        fprintf(f, "  %-10s", names[i]);
        for (int d = 0; d < BENCH_DIRS; d++) {
            if (row[d].check.ok) {
                fprintf(f, " %12.3f %6.0f%%", row[d].ns, 100.0 * row[d].bound_ns / row[d].ns);
            } else {
                char buf[64];
                bench_check_text(&row[d].check, buf, sizeof buf);
                fprintf(f, " %20s", buf);
                failed = 1;
            }
        }
        fputc('\n', f);
    }
    bench_bufs_free(b);
    act_isa_set(isa0);
    act_threads_set(threads0);
    return failed ? -1 : 0;
}

// ----------------------------------------------------------------------------
// the command

static void usage(FILE *f)
{
    fprintf(f,
        "usage: actlab bench [NAME...] [options]\n"
        "Validates every kernel (or the NAMEd ones) against the scalar reference, then times\n"
        "forward and backward (dx assigned; per-channel parameter gradients for learnable\n"
        "parameters, %d channels) against the STREAM copy/triad bound measured in the same run.\n"
        "Inputs: x ~ U(-4,4), dy ~ U(-1,1), seeded. Time = min over reps; each rep repeats the\n"
        "call until it lasts >= min-ms. Tolerance: |got-ref| <= %g |ref| + %g.\n"
        "  --sizes LIST    log2 of the element counts (default 10,16,20,24)\n"
        "  --threads LIST  thread counts (default 1,2)\n"
        "  --isa ISA       best|scalar|avx2|avx512|all (default best)\n"
        "  --reps N        repetitions (default 5; 3 at n >= 2^22)\n"
        "  --min-ms M      minimum length of one repetition in ms (default 25)\n"
        "  --seed N        input seed (default 1)\n"
        "  --quick         sizes 10,16, 1 thread, 2 reps of 2 ms (a smoke test)\n"
        "  --csv FILE      also write the rows as CSV\n"
        "  -h, --help      this text\n"
        "Output: one row per activation, direction, size, thread count and ISA; exit status 1\n"
        "if any kernel fails validation, 2 on a bad command line.\n",
        BENCH_CHANNELS, BENCH_RTOL, BENCH_ATOL);
}

/* "a,b,c" of integers in [lo, hi] into out (at most max). Returns the count, or -1. */
static int parse_list(const char *s, long lo, long hi, int *out, int max)
{
    char buf[256];
    int k = 0;
    if (!s || strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long v;
        if (k == max || cli_parse_long(tok, &v) != 0 || v < lo || v > hi)
            return -1;
        out[k++] = (int)v;
    }
    return k;
}

int cmd_bench(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "sizes", required_argument, NULL, 's' },
        { "threads", required_argument, NULL, 't' },
        { "isa", required_argument, NULL, 'i' },
        { "reps", required_argument, NULL, 'r' },
        { "min-ms", required_argument, NULL, 'm' },
        { "seed", required_argument, NULL, 'S' },
        { "quick", no_argument, NULL, 'q' },
        { "csv", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cmd = "bench";
    int sizes[MAX_SIZES] = { 10, 16, 20, 24 }, n_sizes = 4;
    int threads[MAX_THREADS] = { 1, 2 }, n_threads = 2;
    int reps = -1, quick = 0, sizes_set = 0, threads_set = 0;
    double min_ms = -1;
    long seed = 1;
    const char *isa_arg = "best", *csv_path = NULL;
    int opt;
    long v;
    double dv;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            if ((n_sizes = parse_list(optarg, 4, 28, sizes, MAX_SIZES)) <= 0) {
                cli_error(cmd, "--sizes takes a list of log2 sizes in 4..28, e.g. 10,16,20");
                return CLI_EXIT_USAGE;
            }
            sizes_set = 1;
            break;
        case 't':
            if ((n_threads = parse_list(optarg, 1, 1024, threads, MAX_THREADS)) <= 0) {
                cli_error(cmd, "--threads takes a list of thread counts >= 1, e.g. 1,2");
                return CLI_EXIT_USAGE;
            }
            threads_set = 1;
            break;
        case 'i':
            isa_arg = optarg;
            break;
        case 'r':
            if (cli_parse_long(optarg, &v) != 0 || v < 1 || v > 1000) {
                cli_error(cmd, "--reps takes an integer in 1..1000, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            reps = (int)v;
            break;
        case 'm':
            if (cli_parse_double(optarg, &dv) != 0 || !(dv >= 0.0 && dv <= 60000.0)) {
                cli_error(cmd, "--min-ms takes a number of milliseconds, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            min_ms = dv;
            break;
        case 'S':
            if (cli_parse_long(optarg, &seed) != 0) {
                cli_error(cmd, "--seed takes an integer, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'q':
            quick = 1;
            break;
        case 'c':
            csv_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }

    /* activations */
    act_act_id ids[ACT_ACT_COUNT];
    int n_ids = 0;
    if (optind == argc) {
        for (int i = 0; i < ACT_ACT_COUNT; i++)
            ids[n_ids++] = (act_act_id)i;
    } else {
        for (int i = optind; i < argc; i++) {
            if (n_ids == ACT_ACT_COUNT || cli_lookup_act(cmd, argv[i], &ids[n_ids]) != 0)
                return CLI_EXIT_USAGE;
            n_ids++;
        }
    }

    /* instruction sets */
    act_isa isas[ACT_ISA_COUNT];
    int n_isas = 0;
    if (strcmp(isa_arg, "best") == 0) {
        isas[n_isas++] = act_isa_best();
    } else if (strcmp(isa_arg, "all") == 0) {
        for (int i = 0; i < ACT_ISA_COUNT; i++)
            if (act_isa_supported((act_isa)i))
                isas[n_isas++] = (act_isa)i;
    } else {
        act_isa want;
        if (act_isa_lookup(isa_arg, &want) != ACT_OK) {
            cli_error(cmd, "unknown --isa '%s'; valid: best, all, scalar, avx2, avx512", isa_arg);
            return CLI_EXIT_USAGE;
        }
        if (!act_isa_supported(want)) {
            cli_error(cmd, "this CPU cannot run --isa %s", isa_arg);
            return CLI_EXIT_FAILURE;
        }
        isas[n_isas++] = want;
    }

    if (quick) {
        if (!sizes_set) {
            sizes[0] = 10, sizes[1] = 16, n_sizes = 2;
        }
        if (!threads_set)
            n_threads = 1;
    }
    bench_cfg cfg;
    cfg.reps = reps > 0 ? reps : quick ? 2 : 5;
    cfg.reps_large = reps > 0 ? reps : quick ? 2 : 3;
    cfg.min_s = 1e-3 * (min_ms >= 0 ? min_ms : quick ? 2.0 : 25.0);
    cfg.seed = (uint64_t)seed;

    FILE *csv = NULL;
    if (csv_path) {
        csv = fopen(csv_path, "w");
        if (!csv) {
            cli_error(cmd, "cannot write '%s'", csv_path);
            return CLI_EXIT_FAILURE;
        }
        fprintf(csv, "activation,dir,log2n,threads,isa,ns_per_elem,gb_per_s,bound_ns_per_elem,"
                     "frac_of_bound,valid,err_over_tol\n");
    }

    size_t max_n = 0;
    for (int i = 0; i < n_sizes; i++)
        if (((size_t)1 << sizes[i]) > max_n)
            max_n = (size_t)1 << sizes[i];
    bench_bufs *b = bench_bufs_new(max_n, cfg.seed);
    if (!b) {
        cli_error(cmd, "out of memory for 2^%d elements", sizes[0]);
        if (csv)
            fclose(csv);
        return CLI_EXIT_FAILURE;
    }

    printf("# actlab bench: isa");
    for (int k = 0; k < n_isas; k++)
        printf(" %s", act_isa_name(isas[k]));
    printf(" (best %s); reps %d (%d at n >= 2^22), min %.3g ms per rep, seed %ld\n",
           act_isa_name(act_isa_best()), cfg.reps, cfg.reps_large, 1e3 * cfg.min_s, seed);
    FILE *la = fopen("/proc/loadavg", "r");     /* other load on this machine, if Linux */
    double l1;
    if (la && fscanf(la, "%lf", &l1) == 1)
        printf("# load average before the run: %.2f (timings on a loaded machine are noisy)\n", l1);
    if (la)
        fclose(la);
    printf("# bound: STREAM loops (%s) in one OpenMP region; fwd = copy 8 B/elem, "
           "bwd = triad 12 B/elem\n", bench_stream_isa());

    /* bounds for every (size, threads), measured once up front */
    double bound[MAX_SIZES][MAX_THREADS][BENCH_DIRS];
    for (int si = 0; si < n_sizes; si++) {
        for (int ti = 0; ti < n_threads; ti++) {
            size_t n = (size_t)1 << sizes[si];
            double *bd = bound[si][ti];
            bench_bound(b, n, threads[ti], &cfg, &bd[BENCH_FWD], &bd[BENCH_BWD]);
            printf("# bound n=2^%-2d threads=%d: copy %.4f ns/elem (%.1f GB/s), triad %.4f "
                   "ns/elem (%.1f GB/s)\n", sizes[si], threads[ti], bd[0], 8.0 / bd[0], bd[1],
                   12.0 / bd[1]);
        }
    }
    printf("%-12s %-3s %5s %3s %-6s %9s %8s %9s %7s  %s\n", "activation", "dir", "n", "thr",
           "isa", "ns/elem", "GB/s", "bound_ns", "%bound", "check");
    fflush(stdout);

    int failed = 0;
    bench_row rows[BENCH_DIRS][MAX_SIZES][MAX_THREADS][ACT_ISA_COUNT];
    for (int ai = 0; ai < n_ids; ai++) {
        act_act_id id = ids[ai];
        const char *name = act_act_info(id)->name;
        for (int si = 0; si < n_sizes; si++) {
            size_t n = (size_t)1 << sizes[si];
            int rc = bench_reference(b, id, n);
            for (int ti = 0; ti < n_threads; ti++) {
                for (int k = 0; k < n_isas; k++) {
                    bench_row *r[BENCH_DIRS] = { &rows[0][si][ti][k], &rows[1][si][ti][k] };
                    bench_row tmp[BENCH_DIRS];
                    if (rc != ACT_OK) {
                        for (int d = 0; d < BENCH_DIRS; d++)
                            tmp[d] = (bench_row){ { rc, 0, 0 }, -1.0, bound[si][ti][d] };
                    } else {
                        bench_one(b, id, n, isas[k], threads[ti], &cfg, bound[si][ti], tmp);
                    }
                    *r[0] = tmp[0];
                    *r[1] = tmp[1];
                }
            }
        }
        for (int d = 0; d < BENCH_DIRS; d++)
            for (int si = 0; si < n_sizes; si++)
                for (int ti = 0; ti < n_threads; ti++)
                    for (int k = 0; k < n_isas; k++) {
                        const bench_row *r = &rows[d][si][ti][k];
                        char check[64];
                        bench_check_text(&r->check, check, sizeof check);
                        if (!r->check.ok) {
                            failed = 1;
                            printf("%-12s %-3s  2^%-2d %3d %-6s %9s %8s %9.4f %7s  %s\n", name,
                                   dir_names[d], sizes[si], threads[ti], act_isa_name(isas[k]),
                                   "-", "-", r->bound_ns, "-", check);
                        } else {
                            printf("%-12s %-3s  2^%-2d %3d %-6s %9.4f %8.2f %9.4f %6.1f%%  %s\n",
                                   name, dir_names[d], sizes[si], threads[ti],
                                   act_isa_name(isas[k]), r->ns, bytes_per_elem[d] / r->ns,
                                   r->bound_ns, 100.0 * r->bound_ns / r->ns, check);
                        }
                        if (csv) {
                            double ns = r->check.ok ? r->ns : -1.0;
                            fprintf(csv, "%s,%s,%d,%d,%s,%.6g,%.6g,%.6g,%.6g,%d,%.3g\n", name,
                                    dir_names[d], sizes[si], threads[ti], act_isa_name(isas[k]),
                                    ns, r->check.ok ? bytes_per_elem[d] / ns : -1.0, r->bound_ns,
                                    r->check.ok ? r->bound_ns / ns : -1.0, r->check.ok,
                                    r->check.err);
                        }
                    }
        fflush(stdout);
    }

    bench_bufs_free(b);
    if (csv && fclose(csv) != 0) {
        cli_error(cmd, "write error on '%s'", csv_path);
        return CLI_EXIT_FAILURE;
    }
    if (failed) {
        fprintf(stderr, "actlab bench: some kernels FAILED validation against the scalar "
                        "reference (see the check column)\n");
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}
