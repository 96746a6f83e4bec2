/* main.c -- the actlab command-line tool: a table of subcommands built from commands.h, and the
 * one place where a failed write to standard output is detected and reported. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/nn.h"
#include "cli.h"
#include "commands.h"

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
#define X(name, fn, help) { #name, fn, help },
    CLI_COMMAND_LIST(X)
#undef X
};

static void usage(FILE *f)
{
    fprintf(f, "usage: actlab COMMAND [ARGS]   (actlab COMMAND --help for details)\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nexit codes: 0 success, 1 failure, 2 usage error, 3 training diverged or invalid\n"
               "environment: ACTLAB_ISA=scalar|avx2|avx512, ACTLAB_THREADS=N, "
               "ACTLAB_GEMM=openblas|onednn\n");
}

/*
 * Flushes and closes stdout after a command (cmd, NULL for `actlab --help`) returned rc. A write
 * error, now or earlier (the stream's error flag is sticky), prints "actlab CMD: cannot write to
 * standard output: REASON" and makes the exit code 1, unless rc already is a failure, which is
 * kept. Commands therefore never check their own printf()s; long ones only stop early when
 * ferror(stdout) is set. A closed pipe (`actlab list | head -1`) normally never gets here: the
 * default SIGPIPE action ends the process quietly, as for any Unix filter. If SIGPIPE is
 * ignored, the EPIPE is reported like any other write error.
 */
static int finish(const char *cmd, int rc)
{
    int e = 0;
    if (fflush(stdout) != 0 || ferror(stdout))
        e = errno ? errno : -1;
    // Closing fails with EBADF when stdout was closed before we started and nothing was
    // written (`actlab plot ... >&-`): not a write error.
    if (fclose(stdout) != 0 && !e && errno != EBADF)
        e = errno ? errno : -1;
    if (!e)
        return rc;
    fprintf(stderr, "actlab%s%s: cannot write to standard output: %s\n", cmd ? " " : "",
            cmd ? cmd : "", e > 0 ? strerror(e) : "write error");
    return rc != CLI_EXIT_OK ? rc : CLI_EXIT_FAILURE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return finish(NULL, CLI_EXIT_OK);
    }
    /* The library keeps its default for a bad ACTLAB_GEMM; here it is an error. */
    const char *gemm = getenv("ACTLAB_GEMM");
    act_gemm g;
    if (gemm && *gemm && (act_gemm_lookup(gemm, &g) != ACT_OK || !act_gemm_supported(g))) {
        fprintf(stderr, "actlab: ACTLAB_GEMM=%s: %s (valid: openblas%s)\n", gemm,
                act_gemm_lookup(gemm, &g) == ACT_OK ? "not in this build" : "unknown back-end",
                act_gemm_supported(ACT_GEMM_ONEDNN) ? ", onednn" : "");
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return finish(commands[i].name, commands[i].run(argc - 1, argv + 1));
    fprintf(stderr, "actlab: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
