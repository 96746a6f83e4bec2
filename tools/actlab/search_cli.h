/* search_cli.h -- the `actlab search` actions that live outside cmd_search.c. */
#ifndef ACTLAB_SEARCH_CLI_H
#define ACTLAB_SEARCH_CLI_H

/* `actlab search report FILE -o DIR` (cmd_search_report.c); argv[0] is "report". */
int search_report(int argc, char **argv);

#include <stdio.h>
#include "../../orch/journal.h"

/* The leaderboard's CSV form (cmd_search.c), one writer for `search top --format csv` and the
 * report's leaderboard.csv: the header line; one row. */
void search_csv_header(FILE *f);
void search_csv_row(FILE *f, int rank, const orch_top_row *r, const char *fidelity);

#endif
