/* cmd_plot.c -- placeholder until this command is implemented. */
#include "cli.h"
#include "commands.h"

int cmd_plot(int argc, char **argv)
{
    (void)argc;
    cli_error(argv[0], "not implemented yet");
    return CLI_EXIT_FAILURE;
}
