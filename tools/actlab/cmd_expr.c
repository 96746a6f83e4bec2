/* cmd_expr.c -- placeholder until this command is implemented. */
#include "cli.h"
#include "commands.h"

int cmd_expr(int argc, char **argv)
{
    (void)argc;
    cli_error(argv[0], "not implemented yet");
    return CLI_EXIT_FAILURE;
}

int cmd_space(int argc, char **argv)
{
    (void)argc;
    cli_error(argv[0], "not implemented yet");
    return CLI_EXIT_FAILURE;
}
