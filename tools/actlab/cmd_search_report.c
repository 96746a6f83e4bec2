/* cmd_search_report.c -- `actlab search report FILE -o DIR` (to come). */
#include <stdio.h>

#include "cli.h"
#include "search_cli.h"

int search_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("search report", "not built yet");
    return CLI_EXIT_FAILURE;
}
