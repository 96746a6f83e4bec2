/* cmd_bench.c -- `actlab bench`: every kernel, validated against the scalar reference, then
 * timed forward and backward at several sizes, thread counts and instruction sets, against the
 * STREAM copy (forward) / triad (backward) bound measured in the same run. Also the short
 * bench_summary() that `actlab demo` prints. The machinery is in bench_core.c. With --expr,
 * activation expressions (compiled programs) are validated against their double-precision
 * evaluation and timed beside the built-in swish, against the expression-evaluator targets. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/expr.h"
#include "bench.h"
#include "cli.h"
#include "commands.h"

#define MAX_SIZES   8
#define MAX_THREADS 8
#define MAX_EXPRS   16

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
    if (act_isa_set(isa0) != ACT_OK || act_threads_set(threads0) != ACT_OK) {
        fprintf(f, "kernel benchmark: cannot restore isa %s, %d threads\n", act_isa_name(isa0),
                threads0);
        failed = 1;
    }
    return failed ? -1 : 0;
}

// ----------------------------------------------------------------------------
// --expr: activation expressions beside the built-in swish

#define EXPR_TARGET_SWISH 1.5      /* x*sigmoid(beta*x): at most 1.5x the built-in swish */
#define EXPR_TARGET_OTHER 3.0      /* any other expression: at most 3x */
#define EXPR_VALID_N      4096     /* validation points, x ~ U(-4, 4), dy ~ U(-1, 1) */
#define EXPR_RTOL         1e-3     /* float program vs its double evaluation */
#define EXPR_ATOL         1e-5

typedef struct bench_expr {
    act_expr      *e;
    act_expr_prog *prog;
    act_fn         fn;
    double         target;         /* EXPR_TARGET_SWISH or EXPR_TARGET_OTHER */
    int            ok;             /* validated */
    double         err;            /* max error / tolerance of the validation */
} bench_expr;

/* Canonical text of e into *out (free()); NULL on failure. Returns an act_status. */
static int expr_canon_text(const act_expr *e, char **out)
{
    act_expr *c = NULL;
    *out = NULL;
    int rc = act_expr_canonical(e, &c);
    if (rc == ACT_OK)
        rc = act_expr_print(c, ACT_EXPR_TEXT, out);
    act_expr_free(c);
    return rc;
}

/* *same = 1 if e is swish, x*sigmoid(beta*x), up to the canonical form. Returns an act_status. */
static int expr_is_swish(const act_expr *e, int *same)
{
    act_expr *s = NULL;
    char *a = NULL, *b = NULL;
    *same = 0;
    int rc = act_expr_parse("x*sigmoid(beta*x)", &s, NULL);
    if (rc == ACT_OK)
        rc = expr_canon_text(e, &a);
    if (rc == ACT_OK)
        rc = expr_canon_text(s, &b);
    if (rc == ACT_OK)
        *same = strcmp(a, b) == 0;
    free(a);
    free(b);
    act_expr_free(s);
    return rc;
}

static int expr_load(const char *cmd, const char *src, bench_expr *be)
{
    memset(be, 0, sizeof *be);
    if (cli_parse_expr(cmd, src, &be->e) != 0)
        return -1;
    int swish = 0;
    int rc = act_expr_compile(be->e, &be->prog);
    if (rc == ACT_OK)
        rc = act_expr_fn(be->prog, &be->fn);
    if (rc == ACT_OK)
        rc = expr_is_swish(be->e, &swish);
    if (rc != ACT_OK) {
        cli_error(cmd, "--expr '%s': %s", src, act_strerror(rc));
        act_expr_prog_free(be->prog);
        act_expr_free(be->e);
        return -1;
    }
    be->target = swish ? EXPR_TARGET_SWISH : EXPR_TARGET_OTHER;
    return 0;
}

/* max |got - ref| / (RTOL |ref| + atol) over n values; NaN where exactly one is NaN */
static double expr_err(const float *got, const double *ref, size_t n, double atol)
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
        double e = fabs(g - r) / (EXPR_RTOL * fabs(r) + atol);
        if (!(e <= worst))
            worst = e;
    }
    return worst;
}

/* Validates the float program (current ISA) against its double evaluation: y, dx and dp on
 * EXPR_VALID_N seeded points. Sets be->ok and be->err; returns an act_status. */
static int expr_validate(bench_expr *be, uint64_t seed)
{
    enum { N = EXPR_VALID_N };
    const act_expr_prog *p = be->prog;
    int np = act_expr_prog_n_params(p);
    float *xf = malloc(4 * N * sizeof *xf);
    double *xd = malloc(4 * N * sizeof *xd);
    int rc = ACT_ENOMEM;
    be->ok = 0;
    be->err = NAN;
    if (!xf || !xd)
        goto done;
    float *dyf = xf + N, *yf = xf + 2 * N, *dxf = xf + 3 * N;
    double *dyd = xd + N, *yd = xd + 2 * N, *dxd = xd + 3 * N;
    uint64_t s = seed;
    for (size_t i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        xf[i] = -4.0f + 8.0f * (float)(s >> 40) * 0x1.0p-24f;
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        dyf[i] = -1.0f + 2.0f * (float)(s >> 40) * 0x1.0p-24f;
        xd[i] = xf[i];
        dyd[i] = dyf[i];
        dxd[i] = 0.0;
    }
    float dpf[ACT_EXPR_MAX_PARAMS] = { 0 };
    double dpd[ACT_EXPR_MAX_PARAMS] = { 0 };
    act_shape sh = act_shape_flat(N);
    if ((rc = act_expr_forward(p, NULL, 0, xf, yf, sh)) != ACT_OK ||
        (rc = act_expr_backward(p, NULL, ACT_DX_ASSIGN, xf, dyf, dxf, dpf, sh)) != ACT_OK ||
        (rc = act_expr_forward_d(p, NULL, xd, yd, N)) != ACT_OK ||
        (rc = act_expr_backward_d(p, NULL, xd, dyd, dxd, dpd, N)) != ACT_OK)
        goto done;
    double err = expr_err(yf, yd, N, EXPR_ATOL), e2 = expr_err(dxf, dxd, N, EXPR_ATOL);
    double e3 = expr_err(dpf, dpd, (size_t)np, EXPR_ATOL * N);
    if (isnan(e2) || e2 > err)
        err = e2;
    if (isnan(e3) || e3 > err)
        err = e3;
    be->err = err;
    be->ok = err <= 1.0;
done:
    free(xf);
    free(xd);
    return rc;
}

/* Times every expression at each size, thread count and ISA beside the built-in swish (the
 * two interleaved over `rounds` rounds of act_expr_bench_fn with `reps` calls; min of all).
 * Prints the table (and CSV rows). Returns the exit status. */
static int bench_exprs(const char *cmd, const char *const *srcs, int n_exprs, const int *sizes,
                       int n_sizes, const int *threads, int n_threads, const act_isa *isas,
                       int n_isas, int reps, int rounds, uint64_t seed, FILE *csv)
{
    bench_expr be[MAX_EXPRS];
    int n_loaded = 0, status = CLI_EXIT_OK;
    for (; n_loaded < n_exprs; n_loaded++)
        if (expr_load(cmd, srcs[n_loaded], &be[n_loaded]) != 0) {
            status = CLI_EXIT_USAGE;
            break;
        }
    if (status != CLI_EXIT_OK)
        goto done;
    const act_fn *swish = act_act_fn(ACT_ACT_SWISH);
    act_isa isa0 = act_isa_get();
    int threads0 = act_threads_get();
    printf("# actlab bench --expr: each expression validated against its double-precision\n"
           "# evaluation (|err| <= %g |ref| + %g), then timed beside the built-in swish: min over\n"
           "# %d round(s) x %d calls, interleaved; N(0,1)-like x, dy = 1, default parameters.\n"
           "# targets: x*sigmoid(beta*x) <= %.1fx swish, other expressions <= %.1fx\n",
           EXPR_RTOL, EXPR_ATOL, rounds, reps, EXPR_TARGET_SWISH, EXPR_TARGET_OTHER);
    for (int i = 0; i < n_exprs; i++)
        printf("# E%d = %s  (%d instructions)\n", i + 1, act_expr_prog_text(be[i].prog),
               act_expr_prog_n_instr(be[i].prog));
    printf("%-4s %-3s %5s %3s %-6s %9s %9s %6s %6s %-7s %s\n", "expr", "dir", "n", "thr",
           "isa", "ns/elem", "swish_ns", "ratio", "target", "verdict", "check");
    fflush(stdout);
    for (int k = 0; k < n_isas; k++) {
        int rc_isa = act_isa_set(isas[k]);
        if (rc_isa != ACT_OK) {
            cli_error(cmd, "--isa %s: %s", act_isa_name(isas[k]), act_strerror(rc_isa));
            status = CLI_EXIT_FAILURE;
            continue;
        }
        for (int i = 0; i < n_exprs; i++) {
            int rc = expr_validate(&be[i], seed);
            if (rc != ACT_OK || !be[i].ok) {
                char check[64];
                if (rc != ACT_OK)
                    snprintf(check, sizeof check, "FAIL (%s)", act_strerror(rc));
                else
                    snprintf(check, sizeof check, "FAIL (err %.3g x tol)", be[i].err);
                printf("E%-3d %-3s %5s %3s %-6s %9s %9s %6s %6s %-7s %s\n", i + 1, "-", "-",
                       "-", act_isa_name(isas[k]), "-", "-", "-", "-", "-", check);
                status = CLI_EXIT_FAILURE;
                continue;
            }
            for (int si = 0; si < n_sizes; si++) {
                size_t n = (size_t)1 << sizes[si];
                for (int ti = 0; ti < n_threads; ti++) {
                    rc = act_threads_set(threads[ti]);
                    if (rc != ACT_OK)
                        cli_error(cmd, "--threads %d: %s", threads[ti], act_strerror(rc));
                    double best[2][BENCH_DIRS] = { { 1e30, 1e30 }, { 1e30, 1e30 } };
                    for (int r = 0; r < rounds && rc == ACT_OK; r++) {
                        double t[2][BENCH_DIRS];
                        rc = act_expr_bench_fn(&be[i].fn, n, reps, &t[0][0], &t[0][1]);
                        if (rc == ACT_OK)
                            rc = act_expr_bench_fn(swish, n, reps, &t[1][0], &t[1][1]);
                        for (int f = 0; rc == ACT_OK && f < 2; f++)
                            for (int d = 0; d < BENCH_DIRS; d++)
                                best[f][d] = t[f][d] < best[f][d] ? t[f][d] : best[f][d];
                    }
                    if (rc != ACT_OK) {
                        printf("E%-3d %-3s  2^%-2d %3d %-6s %9s %9s %6s %6s %-7s FAIL (%s)\n",
                               i + 1, "-", sizes[si], threads[ti], act_isa_name(isas[k]), "-",
                               "-", "-", "-", "-", act_strerror(rc));
                        status = CLI_EXIT_FAILURE;
                        continue;
                    }
                    for (int d = 0; d < BENCH_DIRS; d++) {
                        double ratio = best[0][d] / best[1][d];
                        const char *verdict = ratio <= be[i].target ? "PASS" : "MISS";
                        printf("E%-3d %-3s  2^%-2d %3d %-6s %9.4f %9.4f %6.2f %6.1f %-7s ok\n",
                               i + 1, dir_names[d], sizes[si], threads[ti],
                               act_isa_name(isas[k]), best[0][d], best[1][d], ratio,
                               be[i].target, verdict);
                        if (csv)
                            fprintf(csv, "\"%s\",%s,%d,%d,%s,%.6g,%.6g,%.4g,%.2g,%s,1\n",
                                    act_expr_prog_text(be[i].prog), dir_names[d], sizes[si],
                                    threads[ti], act_isa_name(isas[k]), best[0][d],
                                    best[1][d], ratio, be[i].target, verdict);
                    }
                    fflush(stdout);
                    if (ferror(stdout)) {   // main() reports it; stop timing
                        status = CLI_EXIT_FAILURE;
                        goto restore;
                    }
                }
            }
        }
    }
restore:
    if (act_isa_set(isa0) != ACT_OK || act_threads_set(threads0) != ACT_OK) {
        cli_error(cmd, "cannot restore isa %s, %d threads", act_isa_name(isa0), threads0);
        status = CLI_EXIT_FAILURE;
    }
done:
    for (int i = 0; i < n_loaded; i++) {
        act_expr_prog_free(be[i].prog);
        act_expr_free(be[i].e);
    }
    return status;
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
        "  --expr EXPR     time an activation expression instead (repeatable, at most %d):\n"
        "                  validated against its double-precision evaluation, then timed\n"
        "                  with act_expr_bench_fn beside the built-in swish, interleaved;\n"
        "                  ratio and PASS/MISS vs the targets (%.1fx for x*sigmoid(beta*x),\n"
        "                  %.1fx otherwise). Defaults here: --sizes 20, --threads 1, 3 rounds\n"
        "                  of --reps 5 calls (--quick: 2^12, 1 round of 2)\n"
        "  -h, --help      this text\n"
        "Output: one row per activation, direction, size, thread count and ISA; exit status 1\n"
        "if any kernel fails validation, 2 on a bad command line.\n",
        BENCH_CHANNELS, BENCH_RTOL, BENCH_ATOL, MAX_EXPRS, EXPR_TARGET_SWISH,
        EXPR_TARGET_OTHER);
}

/* Ends the --csv file o (if open) of a run that returned status: written if the table is whole
 * (status OK, or FAILURE for failed validations, which the CSV records), discarded after a
 * usage error or when stdout failed (the run stopped early). Returns status, or FAILURE if the
 * CSV could not be written. */
static int finish_csv(const char *cmd, cli_out *o, int status)
{
    char err[2048];
    if (!o->f)
        return status;
    if (status == CLI_EXIT_USAGE || ferror(stdout)) {
        cli_out_abort(o);
        return status;
    }
    if (cli_out_commit(o, err, sizeof err) != 0) {
        cli_error(cmd, "--csv: %s", err);
        return CLI_EXIT_FAILURE;
    }
    return status;
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
        { "expr", required_argument, NULL, 'e' },
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
    const char *exprs[MAX_EXPRS];
    int n_exprs = 0;
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
        case 'e':
            if (n_exprs == MAX_EXPRS) {
                cli_error(cmd, "at most %d --expr options", MAX_EXPRS);
                return CLI_EXIT_USAGE;
            }
            exprs[n_exprs++] = optarg;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }

    if (n_exprs > 0 && optind < argc) {
        cli_error(cmd, "--expr times expressions only; drop the activation names");
        return CLI_EXIT_USAGE;
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

    if (n_exprs > 0) {
        if (!sizes_set) {
            sizes[0] = quick ? 12 : 20;
            n_sizes = 1;
        }
        if (!threads_set)
            n_threads = 1;
        cli_out ecsv = { 0 };
        int st = csv_path ? cli_open_output(cmd, "--csv", csv_path, &ecsv) : CLI_EXIT_OK;
        if (st != CLI_EXIT_OK)
            return st;
        if (ecsv.f)
            fprintf(ecsv.f, "expression,dir,log2n,threads,isa,ns_per_elem,swish_ns_per_elem,"
                            "ratio,target,verdict,valid\n");
        st = bench_exprs(cmd, exprs, n_exprs, sizes, n_sizes, threads, n_threads, isas, n_isas,
                         reps > 0 ? reps : quick ? 2 : 5, quick ? 1 : 3, (uint64_t)seed, ecsv.f);
        if (st == CLI_EXIT_FAILURE && !ferror(stdout))
            fprintf(stderr, "actlab bench: some expressions FAILED validation against their "
                            "double-precision evaluation (see the check column)\n");
        return finish_csv(cmd, &ecsv, st);
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

    cli_out csv_out = { 0 };
    int st = csv_path ? cli_open_output(cmd, "--csv", csv_path, &csv_out) : CLI_EXIT_OK;
    if (st != CLI_EXIT_OK)
        return st;
    FILE *csv = csv_out.f;
    if (csv)
        fprintf(csv, "activation,dir,log2n,threads,isa,ns_per_elem,gb_per_s,bound_ns_per_elem,"
                     "frac_of_bound,valid,err_over_tol\n");

    size_t max_n = 0;
    for (int i = 0; i < n_sizes; i++)
        if (((size_t)1 << sizes[i]) > max_n)
            max_n = (size_t)1 << sizes[i];
    bench_bufs *b = bench_bufs_new(max_n, cfg.seed);
    if (!b) {
        cli_error(cmd, "out of memory for 2^%d elements", sizes[0]);
        cli_out_abort(&csv_out);
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
        if (ferror(stdout))                     // main() reports it; stop timing
            break;
    }

    bench_bufs_free(b);
    if (finish_csv(cmd, &csv_out, CLI_EXIT_OK) != CLI_EXIT_OK)
        return CLI_EXIT_FAILURE;
    if (failed) {
        fprintf(stderr, "actlab bench: some kernels FAILED validation against the scalar "
                        "reference (see the check column)\n");
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}
