/* cmd_bench.c -- placeholder until this command is implemented. */
#include "bench.h"
#include "cli.h"
#include "commands.h"

int bench_summary(FILE *f)
{
    fprintf(f, "benchmark: not implemented yet\n");
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    (void)argc;
    cli_error(argv[0], "not implemented yet");
    return CLI_EXIT_FAILURE;
}
