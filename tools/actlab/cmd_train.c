/* cmd_train.c -- placeholder until this command is implemented. */
#include "cli.h"
#include "commands.h"

int cmd_train(int argc, char **argv)
{
    (void)argc;
    cli_error(argv[0], "not implemented yet");
    return CLI_EXIT_FAILURE;
}

int cmd_compare(int argc, char **argv)
{
    (void)argc;
    cli_error(argv[0], "not implemented yet");
    return CLI_EXIT_FAILURE;
}
