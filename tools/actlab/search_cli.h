/* search_cli.h -- the `actlab search` actions that live outside cmd_search.c. */
#ifndef ACTLAB_SEARCH_CLI_H
#define ACTLAB_SEARCH_CLI_H

/* `actlab search report FILE -o DIR` (cmd_search_report.c); argv[0] is "report". */
int search_report(int argc, char **argv);

#endif
