/* cmd_expr.c -- `actlab expr` (print, latex, c, torch, canon, eval, plot, fingerprint, bench an
 * activation expression) and `actlab space` (enumerate, sample, presets of the core-unit search
 * space). The library does the work; this file parses options and prints. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actlab/expr.h"
#include "actlab/space.h"
#include "cli.h"
#include "commands.h"
#include "plot.h"

static void expr_usage(FILE *f)
{
    fprintf(f,
            "usage: actlab expr ACTION [OPTIONS] \"EXPR\" [X...]\n"
            "\n"
            "actions:\n"
            "  print        canonical infix text (reads back to the same expression)\n"
            "  canon        the canonical form (folded, commutative operands ordered)\n"
            "  latex        LaTeX math\n"
            "  c            a standalone C function act_expr_f(x, beta)\n"
            "  torch        a PyTorch nn.Module (beta as per-channel nn.Parameter)\n"
            "  eval         one tab-separated line per X: x, f(x), df/dx, df/dbeta_k (%%.9g),\n"
            "               exactly like `actlab eval`\n"
            "  plot         f and f' on [--xmin, --xmax] into -o FILE.svg|png\n"
            "  fingerprint  degenerate-filter verdict and the functional fingerprint\n"
            "  bench        ns/element forward/backward vs the built-in swish (n = 2^20, 1 thread)\n"
            "\n"
            "options:\n"
            "  -p, --param K=V   initial value of beta (= beta1), beta2, ...; repeatable\n"
            "  --eps V           the constant eps (default 1e-07)\n"
            "  -o, --output F    output file (plot; print/latex/c/torch: instead of stdout)\n"
            "  --xmin A --xmax B plot range (default -5 5)\n"
            "  -n N              bench: elements (default 1048576)\n"
            "  --header / --no-header   eval: column names (default: when stdout is a TTY)\n"
            "  -h, --help        show this help\n"
            "\n"
            "grammar: docs/expr-grammar.md. example: actlab expr eval \"x*sigmoid(beta*x)\" "
            "-p beta=2 -1 0 1\n");
}

/* "beta=V", "beta2=V": the initial value of a parameter */
static int set_param(const char *cmd, act_expr *e, const char *kv)
{
    const char *eq = strchr(kv, '=');
    int k = -1;
    float v;
    if (eq && eq - kv == 4 && strncmp(kv, "beta", 4) == 0)
        k = 0;
    else if (eq && eq - kv == 5 && strncmp(kv, "beta", 4) == 0 && kv[4] >= '1' &&
             kv[4] < '1' + ACT_EXPR_MAX_PARAMS)
        k = kv[4] - '1';
    if (k < 0) {
        cli_error(cmd, "parameter '%s' is not of the form betaK=VALUE (K = 1..%d or none)", kv,
                  ACT_EXPR_MAX_PARAMS);
        return -1;
    }
    if (cli_parse_float(eq + 1, &v) != 0 || act_expr_set_param_init(e, k, v) != ACT_OK) {
        cli_error(cmd, "value of %.*s must be a finite number, got '%s'", (int)(eq - kv), kv,
                  eq + 1);
        return -1;
    }
    return 0;
}

static int is_number(const char *s)
{
    float v;
    return cli_parse_float(s, &v) == 0;
}

// ----------------------------------------------------------------------------
// actions

static int do_print(const char *cmd, const act_expr *e, act_expr_format fmt, int canon,
                    const char *out)
{
    int rc = out ? cli_check_output(cmd, "-o", out, 0) : CLI_EXIT_OK;
    if (rc != CLI_EXIT_OK)
        return rc;
    act_expr *c = NULL;
    if (canon && act_expr_canonical(e, &c) != ACT_OK) {
        cli_error(cmd, "canonicalisation failed");
        return CLI_EXIT_FAILURE;
    }
    char *s;
    rc = act_expr_print(c ? c : e, fmt, &s);
    act_expr_free(c);
    if (rc != ACT_OK) {
        cli_error(cmd, "printing failed: %s", act_strerror(rc));
        return CLI_EXIT_FAILURE;
    }
    size_t n = strlen(s);
    int need_nl = fmt == ACT_EXPR_TEXT || fmt == ACT_EXPR_LATEX;
    if (out) {
        if (need_nl) {
            char *t = realloc(s, n + 2);
            if (!t) {
                free(s);
                cli_error(cmd, "out of memory");
                return CLI_EXIT_FAILURE;
            }
            s = t;
            s[n++] = '\n';
            s[n] = '\0';
        }
        char err[2048];
        rc = CLI_EXIT_OK;
        if (cli_write_atomic(out, s, n, err, sizeof err) != 0) {
            cli_error(cmd, "%s", err);
            rc = CLI_EXIT_FAILURE;
        }
    } else {
        fputs(s, stdout);
        if (need_nl)
            putchar('\n');
        rc = CLI_EXIT_OK;
    }
    free(s);
    return rc;
}

static int do_eval(const char *cmd, const act_expr_prog *p, char **xs, int n, int header)
{
    int np = act_expr_prog_n_params(p);
    act_fn fn;
    int frc = act_expr_fn(p, &fn);
    if (frc != ACT_OK) {
        cli_error(cmd, "%s", act_strerror(frc));
        return CLI_EXIT_FAILURE;
    }
    float *x = malloc((size_t)(n ? n : 1) * sizeof *x);
    if (!x) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    for (int i = 0; i < n; i++) {
        if (cli_parse_float(xs[i], &x[i]) != 0) {
            cli_error(cmd, "X must be a number, got '%s'", xs[i]);
            free(x);
            return CLI_EXIT_USAGE;
        }
    }
    if (n == 0) {
        cli_error(cmd, "no points given (usage: actlab expr eval EXPR X...)");
        free(x);
        return CLI_EXIT_USAGE;
    }
    if (header) {
        printf("x\tf\tdf/dx");
        for (int k = 0; k < np; k++)
            printf("\tdf/d%s", fn.param_names[k]);
        putchar('\n');
    }
    int rc = CLI_EXIT_OK;
    for (int i = 0; i < n; i++) {
        float y, one = 1.0f, dx = 0.0f, dp[ACT_EXPR_MAX_PARAMS] = { 0 };
        int st = act_expr_forward(p, fn.defaults, 0, &x[i], &y, act_shape_flat(1));
        if (st == ACT_OK)
            st = act_expr_backward(p, fn.defaults, ACT_DX_ASSIGN, &x[i], &one, &dx, dp,
                                   act_shape_flat(1));
        if (st != ACT_OK) {
            cli_error(cmd, "evaluation failed: %s", act_strerror(st));
            rc = CLI_EXIT_FAILURE;
            break;
        }
        printf("%.9g\t%.9g\t%.9g", (double)x[i], (double)y, (double)dx);
        for (int k = 0; k < np; k++)
            printf("\t%.9g", (double)dp[k]);
        putchar('\n');
    }
    free(x);
    return rc;
}

static int do_plot(const char *cmd, const act_expr_prog *p, const char *out, double xmin,
                   double xmax)
{
    enum { NPT = 601 };
    if (!out || !*out) {
        cli_error(cmd, "plot needs -o FILE.svg or FILE.png");
        return CLI_EXIT_USAGE;
    }
    if (!plot_device(out)) {
        cli_error(cmd, "unsupported plot format for '%s' (use .svg or .png)", out);
        return CLI_EXIT_USAGE;
    }
    if (!(xmax > xmin)) {
        cli_error(cmd, "--xmax must be greater than --xmin");
        return CLI_EXIT_USAGE;
    }
    int rc = cli_check_output(cmd, "-o", out, 0);
    if (rc != CLI_EXIT_OK)
        return rc;
    float xf[NPT], yf[NPT], gf[NPT], one[NPT];
    double x[NPT], y[NPT], g[NPT];
    for (int i = 0; i < NPT; i++) {
        x[i] = xmin + (xmax - xmin) * i / (NPT - 1);
        xf[i] = (float)x[i];
        one[i] = 1.0f;
    }
    if (act_expr_forward(p, NULL, 0, xf, yf, act_shape_flat(NPT)) != ACT_OK ||
        act_expr_backward(p, NULL, ACT_DX_ASSIGN, xf, one, gf, NULL, act_shape_flat(NPT)) !=
            ACT_OK) {
        cli_error(cmd, "evaluation failed");
        return CLI_EXIT_FAILURE;
    }
    for (int i = 0; i < NPT; i++) {
        y[i] = (double)yf[i];
        g[i] = (double)gf[i];
    }
    const char *text = act_expr_prog_text(p);
    plot_series s[2] = {
        { .label = "f(x)", .x = x, .y = y, .n = NPT },
        { .label = "f'(x)", .x = x, .y = g, .n = NPT, .dashed = 1 },
    };
    plot_panel pn = { .kind = PLOT_LINES, .title = text, .xlabel = "x", .ylabel = "value",
                      .series = s, .n_series = 2, .xmin = xmin, .xmax = xmax };
    plot_figure fig = { .panels = &pn, .n_panels = 1 };
    char err[256];
    if (plot_write(out, &fig, err, sizeof err) != 0) {
        cli_error(cmd, "%s", err);
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

static int do_fingerprint(const char *cmd, const act_expr *e)
{
    act_expr *c = NULL;
    act_expr_prog *p = NULL;
    char *text = NULL;
    int rc = act_expr_canonical(e, &c);
    if (rc == ACT_OK)
        rc = act_expr_compile(c, &p);
    if (rc == ACT_OK)
        rc = act_expr_print(c, ACT_EXPR_TEXT, &text);
    act_space_verdict v = ACT_SPACE_KEEP;
    uint64_t fp = 0;
    if (rc == ACT_OK)
        rc = act_space_filter(p, &v);
    if (rc == ACT_OK)
        rc = act_space_fingerprint(p, &fp);
    if (rc == ACT_OK)
        printf("canonical\t%s\nverdict\t%s\nfingerprint\t%016llx\nparams\t%d\n", text,
               act_space_verdict_name(v), (unsigned long long)fp, act_expr_prog_n_params(p));
    else
        cli_error(cmd, "%s", act_strerror(rc));
    free(text);
    act_expr_prog_free(p);
    act_expr_free(c);
    return rc == ACT_OK ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

static int do_bench(const char *cmd, const act_expr_prog *p, long n)
{
    act_fn fe;
    int saved = act_threads_get();
    double ef, eb, sf, sb;
    int rc = act_expr_fn(p, &fe);
    if (rc == ACT_OK)
        rc = act_threads_set(1);
    if (rc == ACT_OK)
        rc = act_expr_bench_fn(&fe, (size_t)n, 5, &ef, &eb);
    if (rc == ACT_OK)
        rc = act_expr_bench_fn(act_act_fn(ACT_ACT_SWISH), (size_t)n, 5, &sf, &sb);
    int rc_thr = act_threads_set(saved);     /* saved came from act_threads_get: valid */
    if (rc == ACT_OK)
        rc = rc_thr;
    if (rc != ACT_OK) {
        cli_error(cmd, "benchmark failed: %s", act_strerror(rc));
        return CLI_EXIT_FAILURE;
    }
    printf("# n = %ld, 1 thread, isa %s, best of 5; ns per element\n", n,
           act_isa_name(act_isa_get()));
    printf("%-28s %10s %10s\n", "function", "forward", "backward");
    printf("%-28.28s %10.3f %10.3f\n", act_expr_prog_text(p), ef, eb);
    printf("%-28s %10.3f %10.3f\n", "swish (built-in)", sf, sb);
    printf("%-28s %10.2f %10.2f\n", "ratio expr/swish", ef / sf, eb / sb);
    return CLI_EXIT_OK;
}

int cmd_expr(int argc, char **argv)
{
    enum { OPT_EPS = 256, OPT_XMIN, OPT_XMAX, OPT_HEADER, OPT_NO_HEADER };
    static const struct option longopts[] = {
        { "param",     required_argument, NULL, 'p' },
        { "eps",       required_argument, NULL, OPT_EPS },
        { "output",    required_argument, NULL, 'o' },
        { "xmin",      required_argument, NULL, OPT_XMIN },
        { "xmax",      required_argument, NULL, OPT_XMAX },
        { "header",    no_argument,       NULL, OPT_HEADER },
        { "no-header", no_argument,       NULL, OPT_NO_HEADER },
        { "help",      no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cmd = "expr";
    const char *out = NULL, *eps_s = NULL;
    double xmin = -5.0, xmax = 5.0;
    long n = 1L << 20;
    int header = isatty(STDOUT_FILENO);
    int rc = CLI_EXIT_USAGE, n_pos = 0, n_kv = 0;
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    char **kv = calloc((size_t)argc + 1, sizeof *kv);
    act_expr *e = NULL;
    act_expr_prog *prog = NULL;
    if (!pos || !kv) {
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    optind = 1;
    for (;;) {
        if (optind < argc && argv[optind][0] == '-' && is_number(argv[optind])) {
            pos[n_pos++] = argv[optind++];
            continue;
        }
        int c = getopt_long(argc, argv, "-p:o:n:h", longopts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 1:   pos[n_pos++] = optarg; break;
        case 'p': kv[n_kv++] = optarg; break;
        case 'o': out = optarg; break;
        case 'n':
            if (cli_parse_long(optarg, &n) != 0 || n < 1 || n > (1L << 30)) {
                cli_error(cmd, "-n must be an integer in [1, 2^30], got '%s'", optarg);
                goto done;
            }
            break;
        case OPT_EPS: eps_s = optarg; break;
        case OPT_XMIN:
        case OPT_XMAX:
            if (cli_parse_double(optarg, c == OPT_XMIN ? &xmin : &xmax) != 0) {
                cli_error(cmd, "--xmin/--xmax need a number, got '%s'", optarg);
                goto done;
            }
            break;
        case OPT_HEADER:    header = 1; break;
        case OPT_NO_HEADER: header = 0; break;
        case 'h': expr_usage(stdout); rc = CLI_EXIT_OK; goto done;
        default:  expr_usage(stderr); goto done;
        }
    }
    while (optind < argc)
        pos[n_pos++] = argv[optind++];
    if (n_pos < 2) {
        cli_error(cmd, n_pos ? "missing expression" : "missing action");
        expr_usage(stderr);
        goto done;
    }
    const char *action = pos[0];
    static const char *const actions[] = { "print", "canon", "latex", "c", "torch", "eval",
                                           "plot", "fingerprint", "bench" };
    int known = 0;
    for (size_t i = 0; i < sizeof actions / sizeof *actions; i++)
        known |= strcmp(action, actions[i]) == 0;
    if (!known) {
        cli_error(cmd, "unknown action '%s' (print, canon, latex, c, torch, eval, plot, "
                  "fingerprint, bench)", action);
        goto done;
    }
    if (cli_parse_expr(cmd, pos[1], &e) != 0)
        goto done;
    for (int i = 0; i < n_kv; i++)
        if (set_param(cmd, e, kv[i]) != 0)
            goto done;
    if (eps_s) {
        float eps;
        if (cli_parse_float(eps_s, &eps) != 0 || act_expr_set_eps(e, eps) != ACT_OK) {
            cli_error(cmd, "--eps must be a finite number >= 0, got '%s'", eps_s);
            goto done;
        }
    }
    if (strcmp(action, "eval") != 0 && n_pos > 2) {
        cli_error(cmd, "unexpected argument '%s' (quote the expression)", pos[2]);
        goto done;
    }
    if (strcmp(action, "print") == 0)
        rc = do_print(cmd, e, ACT_EXPR_TEXT, 0, out);
    else if (strcmp(action, "canon") == 0)
        rc = do_print(cmd, e, ACT_EXPR_TEXT, 1, out);
    else if (strcmp(action, "latex") == 0)
        rc = do_print(cmd, e, ACT_EXPR_LATEX, 0, out);
    else if (strcmp(action, "c") == 0)
        rc = do_print(cmd, e, ACT_EXPR_C, 0, out);
    else if (strcmp(action, "torch") == 0)
        rc = do_print(cmd, e, ACT_EXPR_TORCH, 0, out);
    else if (strcmp(action, "fingerprint") == 0)
        rc = do_fingerprint(cmd, e);
    else {
        int st = act_expr_compile(e, &prog);
        if (st != ACT_OK) {
            cli_error(cmd, "cannot compile: %s", act_strerror(st));
            rc = CLI_EXIT_FAILURE;
            goto done;
        }
        if (strcmp(action, "eval") == 0)
            rc = do_eval(cmd, prog, pos + 2, n_pos - 2, header);
        else if (strcmp(action, "plot") == 0)
            rc = do_plot(cmd, prog, out, xmin, xmax);
        else
            rc = do_bench(cmd, prog, n);
    }
done:
    act_expr_prog_free(prog);
    act_expr_free(e);
    free(pos);
    free(kv);
    return rc;
}

// ----------------------------------------------------------------------------
// actlab space

static void space_usage(FILE *f)
{
    fprintf(f,
            "usage: actlab space enumerate --units 1 [--filter] [--dedup] [--preset P] -o F.csv\n"
            "       actlab space sample --units K [-n N] [--seed S] [--preset P]\n"
            "       actlab space presets | primitives\n"
            "\n"
            "enumerate  every candidate b(u1(x1), u2(x2)) of the space (1 unit: 6,250) into a CSV\n"
            "           (id, binary, unary1, unary2, expr, canonical, verdict, fingerprint, rep);\n"
            "           prints the counts. --filter drops degenerate candidates (non-finite,\n"
            "           constant, linear, exploding), --dedup merges functionally equal ones.\n"
            "sample     N uniformly random K-unit candidates, one canonical expression a line\n"
            "\n"
            "  --units K      core units (enumerate: up to 10^6 candidates)\n"
            "  --preset P     search space (default full; see `actlab space presets`)\n"
            "  --eps V        eps in log(|x| + eps) and x1/(x2 + eps) (default 1e-07)\n"
            "  -h, --help     show this help\n");
}

typedef struct enum_row {
    act_space_cand     cand;
    act_space_verdict  verdict;
    int                rep;         /* -1 unless deduplicated */
    uint64_t           fp;
    char              *expr, *canon;
} enum_row;

/* The CSV of `space enumerate -o`, written atomically: one row per candidate (only the kept ones
 * with --filter --dedup), rep = the row of the first functionally equal candidate or -1. */
static int write_csv(const char *cmd, const char *out, const enum_row *rows, uint64_t total,
                     int filter, int dedup)
{
    char err[2048];
    int *rep_row = dedup ? malloc((size_t)(total + 1) * sizeof *rep_row) : NULL;
    if (dedup && !rep_row) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    cli_out o;
    if (cli_out_open(&o, out, err, sizeof err) != 0) {
        cli_error(cmd, "-o: %s", err);
        free(rep_row);
        return CLI_EXIT_FAILURE;
    }
    fputs("id,units(b:in1:in2:u1:u2),expr,canonical,verdict,fingerprint,rep\n", o.f);
    int reps = 0;
    for (uint64_t i = 0; i < total && !ferror(o.f); i++) {
        const enum_row *r = &rows[i];
        if (dedup && r->rep >= 0 && r->rep == reps)
            rep_row[reps++] = (int)i;
        if (filter && r->verdict != ACT_SPACE_KEEP && dedup)
            continue;
        fprintf(o.f, "%llu,", (unsigned long long)i);
        for (int u = 0; u < r->cand.n_units; u++) {
            const act_space_unit *q = &r->cand.unit[u];
            fprintf(o.f, "%s%d:%d:%d:%d:%d", u ? " " : "", q->binary, q->in1, q->in2, q->un1,
                    q->un2);
        }
        fprintf(o.f, ",\"%s\",\"%s\",%s,%016llx,%d\n", r->expr, r->canon,
                act_space_verdict_name(r->verdict), (unsigned long long)r->fp,
                dedup && r->rep >= 0 ? rep_row[r->rep] : -1);
    }
    free(rep_row);
    if (cli_out_commit(&o, err, sizeof err) != 0) {
        cli_error(cmd, "%s", err);
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

static int space_enumerate(const char *cmd, const act_space_preset *ps, int units, int filter,
                           int dedup, const char *out, float eps)
{
    uint64_t total = act_space_count(ps, units);
    if (total > 1000000) {
        cli_error(cmd, "%llu candidates is too many to enumerate; use `actlab space sample`",
                  (unsigned long long)total);
        return CLI_EXIT_USAGE;
    }
    int rc = out ? cli_check_output(cmd, "-o", out, 0) : CLI_EXIT_OK;
    if (rc != CLI_EXIT_OK)
        return rc;
    enum_row *rows = calloc((size_t)total, sizeof *rows);
    act_space_index *ix = act_space_index_new();
    int counts[ACT_SPACE_VERDICT_COUNT] = { 0 };
    int n_distinct = 0, n_canon = 0;
    unsigned flags = (filter ? ACT_SPACE_PROPOSE_FILTER : 0u) |
                     (dedup ? ACT_SPACE_PROPOSE_DEDUP : 0u);
    if (!rows || !ix) {
        cli_error(cmd, "out of memory");
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    /* canonical-string dedup: a small open hash of the canonical texts */
    size_t hcap = 1;
    while (hcap < 2 * total)
        hcap *= 2;
    int *hs = malloc(hcap * sizeof *hs);
    if (!hs) {
        cli_error(cmd, "out of memory");
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    for (size_t i = 0; i < hcap; i++)
        hs[i] = -1;
    for (uint64_t i = 0; i < total && rc == CLI_EXIT_OK; i++) {
        enum_row *r = &rows[i];
        act_expr *e = NULL;
        act_space_proposal pr;
        int st = act_space_nth(ps, units, i, &r->cand);
        if (st == ACT_OK)
            st = act_space_to_expr(&r->cand, &e);
        if (st == ACT_OK)
            st = act_expr_set_eps(e, eps);
        if (st == ACT_OK)
            st = act_space_propose(ix, e, flags, &pr);  // canonical, print, compile, filter,
        act_expr_free(e);                               // fingerprint, dedup
        if (st != ACT_OK) {
            cli_error(cmd, "candidate %llu: %s", (unsigned long long)i, act_strerror(st));
            rc = CLI_EXIT_FAILURE;
            break;
        }
        r->expr = pr.text;                              // the row takes the texts over
        r->canon = pr.canon;
        pr.text = pr.canon = NULL;
        r->verdict = pr.verdict;
        r->fp = pr.fp;
        r->rep = pr.rep;
        n_distinct += pr.is_new;
        act_space_proposal_free(&pr);
        uint64_t h = 1469598103934665603ULL;
        for (const char *s = r->canon; *s; s++)
            h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        size_t j = (size_t)h & (hcap - 1);
        while (hs[j] >= 0 && strcmp(rows[hs[j]].canon, r->canon) != 0)
            j = (j + 1) & (hcap - 1);
        if (hs[j] < 0) {
            hs[j] = (int)i;
            n_canon++;
        }
        counts[r->verdict]++;
    }
    free(hs);
    if (rc != CLI_EXIT_OK)
        goto done;

    if (out && (rc = write_csv(cmd, out, rows, total, filter, dedup)) != CLI_EXIT_OK)
        goto done;
    printf("space %s, %d unit%s: %llu candidates\n", ps->name, units, units == 1 ? "" : "s",
           (unsigned long long)total);
    printf("distinct canonical strings: %d\n", n_canon);
    if (filter) {
        for (int v = 1; v < ACT_SPACE_VERDICT_COUNT; v++)
            printf("rejected %-10s %d\n", act_space_verdict_name((act_space_verdict)v),
                   counts[v]);
        printf("kept: %d\n", counts[ACT_SPACE_KEEP]);
    }
    if (dedup)
        printf("distinct functions%s: %d\n", filter ? " among kept" : "", n_distinct);
done:
    for (uint64_t i = 0; rows && i < total; i++) {
        free(rows[i].expr);
        free(rows[i].canon);
    }
    free(rows);
    act_space_index_free(ix);
    return rc;
}

static int space_sample(const char *cmd, const act_space_preset *ps, int units, long n,
                        uint64_t seed)
{
    for (long i = 0; i < n; i++) {
        act_space_cand c;
        act_expr *e = NULL, *ce = NULL;
        char *s = NULL;
        int st = act_space_sample(ps, units, &seed, &c);
        if (st == ACT_OK)
            st = act_space_to_expr(&c, &e);
        if (st == ACT_OK)
            st = act_expr_canonical(e, &ce);
        if (st == ACT_OK)
            st = act_expr_print(ce, ACT_EXPR_TEXT, &s);
        if (st == ACT_OK)
            printf("%s\n", s);
        free(s);
        act_expr_free(e);
        act_expr_free(ce);
        if (st != ACT_OK) {
            cli_error(cmd, "%s", act_strerror(st));
            return CLI_EXIT_FAILURE;
        }
        if (ferror(stdout))             // main() reports it; no point sampling on
            return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

int cmd_space(int argc, char **argv)
{
    enum { OPT_UNITS = 256, OPT_FILTER, OPT_DEDUP, OPT_PRESET, OPT_SEED, OPT_EPS };
    static const struct option longopts[] = {
        { "units",  required_argument, NULL, OPT_UNITS },
        { "filter", no_argument,       NULL, OPT_FILTER },
        { "dedup",  no_argument,       NULL, OPT_DEDUP },
        { "preset", required_argument, NULL, OPT_PRESET },
        { "seed",   required_argument, NULL, OPT_SEED },
        { "eps",    required_argument, NULL, OPT_EPS },
        { "output", required_argument, NULL, 'o' },
        { "help",   no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cmd = "space", *out = NULL, *action = NULL;
    const act_space_preset *ps = act_space_preset_lookup("full");
    long units = 1, n = 10, seed = 1;
    int filter = 0, dedup = 0;
    float eps = ACT_EXPR_EPS_DEFAULT;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "-o:n:h", longopts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 1:
            if (action) {
                cli_error(cmd, "unexpected argument '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            action = optarg;
            break;
        case OPT_UNITS:
            if (cli_parse_long(optarg, &units) != 0 || units < 1 || units > ACT_SPACE_MAX_UNITS) {
                cli_error(cmd, "--units must be 1..%d, got '%s'", ACT_SPACE_MAX_UNITS, optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'n':
            if (cli_parse_long(optarg, &n) != 0 || n < 0) {
                cli_error(cmd, "-n must be a non-negative integer, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_SEED:
            if (cli_parse_long(optarg, &seed) != 0) {
                cli_error(cmd, "--seed must be an integer, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_EPS:
            if (cli_parse_float(optarg, &eps) != 0 || !(eps >= 0.0f) || eps > 1e30f) {
                cli_error(cmd, "--eps must be a finite number >= 0, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_PRESET:
            if (!(ps = act_space_preset_lookup(optarg))) {
                cli_error(cmd, "unknown preset '%s'; valid presets:", optarg);
                for (int i = 0; act_space_preset_at(i); i++)
                    fprintf(stderr, "  %s\n", act_space_preset_at(i)->name);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_FILTER: filter = 1; break;
        case OPT_DEDUP:  dedup = 1; break;
        case 'o':        out = optarg; break;
        case 'h':        space_usage(stdout); return CLI_EXIT_OK;
        default:         space_usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    if (!action) {
        cli_error(cmd, "missing action");
        space_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(action, "enumerate") == 0)
        return space_enumerate(cmd, ps, (int)units, filter, dedup, out, eps);
    if (strcmp(action, "sample") == 0)
        return space_sample(cmd, ps, (int)units, n, (uint64_t)seed);
    if (strcmp(action, "presets") == 0) {
        for (int i = 0; act_space_preset_at(i); i++)
            printf("%-8s %s\n", act_space_preset_at(i)->name, act_space_preset_at(i)->help);
        return CLI_EXIT_OK;
    }
    if (strcmp(action, "primitives") == 0) {
        for (int u = 0; u < ACT_SPACE_UNARY_COUNT; u++)
            printf("unary  %2d  %s\n", u, act_space_unary_template((act_space_unary)u));
        for (int b = 0; b < ACT_SPACE_BINARY_COUNT; b++)
            printf("binary %2d  %s\n", b, act_space_binary_template((act_space_binary)b));
        return CLI_EXIT_OK;
    }
    cli_error(cmd, "unknown action '%s' (enumerate, sample, presets, primitives)", action);
    return CLI_EXIT_USAGE;
}
