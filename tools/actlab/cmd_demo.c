/* cmd_demo.c -- placeholder until this command is implemented. */
#include "cli.h"
#include "commands.h"

int cmd_demo(int argc, char **argv)
{
    (void)argc;
    cli_error(argv[0], "not implemented yet");
    return CLI_EXIT_FAILURE;
}
