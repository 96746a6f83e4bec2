/* cmd_demo.c -- `actlab demo`, the main job (`make run`): a plot of every activation with its
 * derivative, a few composite figures, an index of what was written, then a short benchmark.
 * The work is a list of steps (DEMO_STEP_LIST); a step is one function over demo_ctx. Every
 * figure is drawn by cmd_plot from an argument vector, so each has a reproducible command. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "commands.h"

#define MAX_FILES 256

typedef struct demo_ctx {
    const char *cmd;                    /* "demo", for messages */
    const char *out;                    /* output directory */
    int         quick;                  /* PNG only, fewer samples, no benchmark */
    int         n_files;
    char       *files[MAX_FILES];       /* written, relative to out; owned (strdup) */
    char       *commands[MAX_FILES];    /* the actlab command that made files[i], or NULL */
} demo_ctx;

typedef int demo_step(demo_ctx *ctx);   /* 0, or a CLI_EXIT_* code; prints its own errors */

static demo_step step_search, step_activation_plots, step_composite_plots, step_compare,
                 step_index, step_benchmark;

/* X(function, title) -- run in order. */
#define DEMO_STEP_LIST(X)                                                      \
    X(step_search,           "a search for activation functions on Fashion-MNIST") \
    X(step_activation_plots, "every activation with its derivative")          \
    X(step_composite_plots,  "composite figures")                             \
    X(step_compare,          "training comparison on Fashion-MNIST")          \
    X(step_index,            "index of the figures")                          \
    X(step_benchmark,        "benchmark summary")

static const struct demo_step_entry {
    demo_step  *run;
    const char *title;
} demo_steps[] = {
#define X(fn, title) { fn, title },
    DEMO_STEP_LIST(X)
#undef X
};

// ----------------------------------------------------------------------------
// helpers

/* Records a written file (name relative to ctx->out) and the command that wrote it. */
static int add_file(demo_ctx *ctx, const char *name, const char *command)
{
    if (ctx->n_files == MAX_FILES) {
        cli_error(ctx->cmd, "too many output files");
        return CLI_EXIT_FAILURE;
    }
    ctx->files[ctx->n_files] = strdup(name);
    ctx->commands[ctx->n_files] = command ? strdup(command) : NULL;
    if (!ctx->files[ctx->n_files] || (command && !ctx->commands[ctx->n_files])) {
        free(ctx->files[ctx->n_files]);
        free(ctx->commands[ctx->n_files]);
        cli_error(ctx->cmd, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    ctx->n_files++;
    printf("  %s/%s\n", ctx->out, name);
    return 0;
}

/*
 * Draws one figure with `actlab plot ARGS... -o OUT/NAME.EXT` for each format (PNG, and SVG
 * unless quick). args is NULL-terminated and excludes "plot" and -o.
 */
static int demo_plot(demo_ctx *ctx, const char *name, const char *const *args)
{
    static const char *const exts[] = { "png", "svg" };
    char command[1024] = "actlab plot";
    for (const char *const *a = args; *a; a++) {
        int quote = strpbrk(*a, " ,()") != NULL && (*a)[0] != '-';
        snprintf(command + strlen(command), sizeof command - strlen(command),
                 quote ? " '%s'" : " %s", *a);
    }
    for (int e = 0; e < (ctx->quick ? 1 : 2); e++) {
        char file[256], path[4096];
        char *argv[64];
        int argc = 0;
        snprintf(file, sizeof file, "%s.%s", name, exts[e]);
        snprintf(path, sizeof path, "%s/%s", ctx->out, file);
        argv[argc++] = "plot";
        for (const char *const *a = args; *a && argc < 58; a++)
            argv[argc++] = (char *)(uintptr_t)*a;   // getopt permutes the array, not strings
        if (ctx->quick) {
            argv[argc++] = "--points";
            argv[argc++] = "201";
        }
        argv[argc++] = "-o";
        argv[argc++] = path;
        argv[argc] = NULL;
        optind = 0;                     // glibc: fully reinitialise getopt for this call
        int rc = cmd_plot(argc, argv);
        if (rc != CLI_EXIT_OK)
            return rc;
        char full[sizeof command + sizeof file + 8];
        snprintf(full, sizeof full, "%s -o %s", command, file);
        if (add_file(ctx, file, full) != 0)
            return CLI_EXIT_FAILURE;
    }
    return 0;
}

// ----------------------------------------------------------------------------
// steps

static int step_activation_plots(demo_ctx *ctx)
{
    for (int i = 0; i < ACT_ACT_COUNT; i++) {
        const act_act_desc *d = act_act_info((act_act_id)i);
        double a = -5.0, b = 5.0;               // wide enough to show every kink
        for (int k = 0; k < d->n_kinks; k++) {
            if (d->kinks[k] - 2.0 < a)
                a = d->kinks[k] - 2.0;
            if (d->kinks[k] + 2.0 > b)
                b = d->kinks[k] + 2.0;
        }
        char range[64], title[160], name[96];
        snprintf(range, sizeof range, "%g:%g", a, b);
        snprintf(title, sizeof title, "%s: %s", d->name, d->formula);
        snprintf(name, sizeof name, "act_%s", d->name);
        const char *args[] = { d->name, "--deriv", "--range", range, "--title", title, NULL };
        int rc = demo_plot(ctx, name, args);
        if (rc)
            return rc;
    }
    return 0;
}

static int step_composite_plots(demo_ctx *ctx)
{
    static const struct {
        const char *name;
        const char *args[16];
    } figs[] = {
        { "smoothmax_relu_swish",
          { "relu", "swish", "--sweep", "beta=0.1,0.5,1,2,10", "--deriv", "--range", "-6:6",
            "--title", "Swish is a smooth maximum: x*sigmoid(beta*x) -> relu as beta grows",
            NULL } },
        { "acon_c_beta_sweep",
          { "acon_c", "-p", "p1=1.2", "-p", "p2=-0.8", "--sweep", "beta=0.5,1,2,10", "--deriv",
            "--range", "-6:6", "--title", "ACON-C, p1 = 1.2, p2 = -0.8: beta switches "
            "between linear and non-linear", NULL } },
        { "smu_smu1_leaky_relu",
          { "leaky_relu:a=0.25", "smu:alpha=0.25,mu=1", "smu:alpha=0.25,mu=4",
            "smu1:alpha=0.25,mu=0.5", "smu1:alpha=0.25,mu=0.1", "--deriv", "--range", "-3:3",
            "--title", "SMU and SMU-1: smooth approximations of leaky ReLU (alpha = 0.25)",
            NULL } },
        { "gelu_silu_mish",
          { "gelu", "silu", "mish", "--deriv", "--range", "-5:3",
            "--title", "GELU vs SiLU vs Mish", NULL } },
    };
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
        int rc = demo_plot(ctx, figs[i].name, figs[i].args);
        if (rc)
            return rc;
    }
    return 0;
}

/* index.md: every figure (as an image link) with the command that reproduces it. */
static int step_index(demo_ctx *ctx)
{
    char path[4096], err[2048];
    if (snprintf(path, sizeof path, "%s/index.md", ctx->out) >= (int)sizeof path) {
        cli_error(ctx->cmd, "output directory name too long");
        return CLI_EXIT_FAILURE;
    }
    cli_out o;
    if (cli_out_open(&o, path, err, sizeof err) != 0) {
        cli_error(ctx->cmd, "%s", err);
        return CLI_EXIT_FAILURE;
    }
    fprintf(o.f, "# actlab demo\n\nWritten by `actlab demo%s`. Each figure is reproduced by the "
                 "command under it.\n", ctx->quick ? " --quick" : "");
    for (int i = 0; i < ctx->n_files; i++) {
        if (!ctx->commands[i])
            continue;
        fprintf(o.f, "\n## %s\n\n![%s](%s)\n\n    %s\n", ctx->files[i], ctx->files[i],
                ctx->files[i], ctx->commands[i]);
    }
    if (cli_out_commit(&o, err, sizeof err) != 0) {
        cli_error(ctx->cmd, "%s", err);
        return CLI_EXIT_FAILURE;
    }
    return add_file(ctx, "index.md", NULL);
}

/* The quick comparison of `actlab compare --quick`: relu, swish, acon_c and smu trained on a
 * Fashion-MNIST subset over several seeds; its table, curves and bars go to OUT/compare/. */
static int step_compare(demo_ctx *ctx)
{
    if (ctx->quick) {
        printf("  skipped (--quick); run `actlab compare --quick` for it\n");
        return 0;
    }
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s/compare", ctx->out) >= (int)sizeof dir) {
        cli_error(ctx->cmd, "output directory name too long");
        return CLI_EXIT_FAILURE;
    }
    char *args[] = { "compare", "--quick", "--out", dir, NULL };
    fflush(stdout);
    optind = 0;
    int rc = cmd_compare(4, args);
    fflush(stdout);
    if (rc != CLI_EXIT_OK)
        return rc;
    static const char *const outputs[] = {
        "compare.csv", "curves.png", "curves.svg", "bars.png", "bars.svg",
    };
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        char name[64], path[4200];
        struct stat st;
        snprintf(name, sizeof name, "compare/%s", outputs[i]);
        snprintf(path, sizeof path, "%s/%s", ctx->out, name);
        if (stat(path, &st) == 0 && (rc = add_file(ctx, name, "actlab compare --quick")) != 0)
            return rc;
    }
    return 0;
}

/* A real search, small enough for the main job: aging evolution over the b(x, g(x)) space at
 * the proxy fidelity (a CNN on 6k Fashion-MNIST images, one epoch), 24 trainings with relu and
 * swish among them, then the leaderboard, the report and the winner as PyTorch code. The
 * journal makes a second `make run` a resume that has nothing left to do. */
static int demo_search_cmd(char **args)
{
    int argc = 0;
    while (args[argc])
        argc++;
    fflush(stdout);
    optind = 0;
    int rc = cmd_search(argc, args);
    fflush(stdout);
    return rc;
}

static int step_search(demo_ctx *ctx)
{
    if (ctx->quick) {
        printf("  skipped (--quick); see `actlab search --help`\n");
        return 0;
    }
    char dir[4096], db[4200], py[4200], old[4300];
    if (snprintf(dir, sizeof dir, "%s/search", ctx->out) >= (int)sizeof dir) {
        cli_error(ctx->cmd, "output directory name too long");
        return CLI_EXIT_FAILURE;
    }
    char err[4300];
    if (cli_out_dir(dir, err, sizeof err) != 0) {
        cli_error(ctx->cmd, "%s", err);
        return CLI_EXIT_FAILURE;
    }
    snprintf(db, sizeof db, "%s/search.db", dir);
    snprintf(py, sizeof py, "%s/winner.py", dir);
    char *run[] = { "search", "run", "--journal", db, "--space", "bxg", "--strategy",
                    "evolution", "--set", "evolution.population=8", "--set",
                    "evolution.tournament=3", "--fidelity", "proxy", "--budget", "24",
                    "--seed-expr", "max(x, 0)", "--seed-expr", "x*sigmoid(beta*x)", "--quiet",
                    NULL };
    char *again[] = { "search", "resume", db, "--quiet", NULL };
    struct stat st;
    int rc = CLI_EXIT_USAGE;
    if (stat(db, &st) == 0) {   /* an earlier make run: resume (nothing left, or the rest) */
        printf("  actlab search resume %s\n", db);
        rc = demo_search_cmd(again);
        if (rc == CLI_EXIT_USAGE) {
            /* made by another build (its fidelity means something else now): keep it aside,
             * never overwrite a journal, and search again */
            snprintf(old, sizeof old, "%s/search-%ld.db", dir, (long)time(NULL));
            if (rename(db, old) != 0) {
                cli_error(ctx->cmd, "cannot move '%s' aside", db);
                return CLI_EXIT_FAILURE;
            }
            printf("  kept the earlier journal as %s\n", old);
        }
    }
    if (rc == CLI_EXIT_USAGE) {
        printf("  actlab search run --space bxg --strategy evolution --fidelity proxy "
               "--budget 24 (one to three minutes on 2 cores)\n");
        rc = demo_search_cmd(run);
    }
    if (rc != CLI_EXIT_OK)
        return rc;
    char *top[] = { "search", "top", db, "-k", "10", NULL };
    char *report[] = { "search", "report", db, "-o", dir, "-k", "10", "--png", NULL };
    char *export[] = { "search", "export", db, "--rank", "1", "--as", "torch", "-o", py, NULL };
    if ((rc = demo_search_cmd(top)) != CLI_EXIT_OK ||
        (rc = demo_search_cmd(report)) != CLI_EXIT_OK ||
        (rc = demo_search_cmd(export)) != CLI_EXIT_OK)
        return rc;
    if ((rc = add_file(ctx, "search/search.db", "actlab search run ... (the journal)")) != 0 ||
        (rc = add_file(ctx, "search/index.html", "actlab search report")) != 0 ||
        (rc = add_file(ctx, "search/winner.py", "actlab search export --rank 1 --as torch")))
        return rc;
    return 0;
}

static int step_benchmark(demo_ctx *ctx)
{
    if (ctx->quick) {
        printf("  skipped (--quick); run `actlab bench` for the full benchmark\n");
        return 0;
    }
    fflush(stdout);
    if (bench_summary(stdout) != 0) {
        cli_error(ctx->cmd, "a kernel failed validation against the scalar reference");
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

// ----------------------------------------------------------------------------
// command

static void demo_usage(FILE *f)
{
    fprintf(f,
            "usage: actlab demo [--out DIR] [--quick]\n"
            "\n"
            "The main job (`make run`): a small real search for activation functions (aging\n"
            "evolution, 24 trainings at the proxy fidelity, relu and swish among them) into\n"
            "DIR/search: its journal, leaderboard, report and the winner as PyTorch code; then\n"
            "a plot of every activation with its\n"
            "derivative, composite figures (smooth maximum relu/swish, ACON-C beta sweep,\n"
            "SMU/SMU-1/leaky ReLU, GELU/SiLU/Mish) and index.md with the command behind each\n"
            "figure; a quick training comparison (relu, swish, acon_c, smu on a Fashion-MNIST\n"
            "subset, `actlab compare --quick`) into DIR/compare; prints the files written, then\n"
            "a short kernel benchmark.\n"
            "\n"
            "  -o, --out DIR   output directory, created if needed (default: out)\n"
            "  -q, --quick     PNG only, fewer samples, no comparison or benchmark (for tests)\n"
            "  -h, --help      show this help\n");
}

int cmd_demo(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "out",   required_argument, NULL, 'o' },
        { "quick", no_argument,       NULL, 'q' },
        { "help",  no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    demo_ctx ctx = { .cmd = argv[0], .out = "out" };
    int c;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': ctx.out = optarg; break;
        case 'q': ctx.quick = 1; break;
        case 'h': demo_usage(stdout); return CLI_EXIT_OK;
        default:  demo_usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_error(ctx.cmd, "unexpected argument '%s'", argv[optind]);
        demo_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    // Created with its parents, and checked to take new files, before the work.
    int rc = cli_check_output(ctx.cmd, "--out", ctx.out, 1);
    if (rc != CLI_EXIT_OK)
        return rc;

    for (size_t i = 0; i < sizeof demo_steps / sizeof demo_steps[0] && rc == CLI_EXIT_OK; i++) {
        printf("%s%s:\n", i ? "\n" : "", demo_steps[i].title);
        rc = demo_steps[i].run(&ctx);
        fflush(stdout);
        if (rc == CLI_EXIT_OK && ferror(stdout))   // main() reports it; stop here
            rc = CLI_EXIT_FAILURE;
    }
    if (rc == CLI_EXIT_OK)
        printf("\nwrote %d files to %s/ (see %s/index.md)\n", ctx.n_files, ctx.out, ctx.out);
    for (int i = 0; i < ctx.n_files; i++) {
        free(ctx.files[i]);
        free(ctx.commands[i]);
    }
    return rc;
}
