/* cli.h -- helpers shared by the actlab subcommands: strict number parsing, -p k=v parameters,
 * error printing. Exit codes (documented in README and `actlab --help`): */
#ifndef ACTLAB_CLI_H
#define ACTLAB_CLI_H

#include <stddef.h>
#include "actlab/act.h"
#include "actlab/expr.h"

enum {
    CLI_EXIT_OK       = 0,   /* success */
    CLI_EXIT_FAILURE  = 1,   /* the work failed: I/O error, bad data, failed validation */
    CLI_EXIT_USAGE    = 2,   /* bad command line: unknown option, name or value */
    CLI_EXIT_DIVERGED = 3,   /* training diverged (non-finite loss) */
};

/* Prints "actlab CMD: message\n" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict parsing: the whole string must be a number (inf/nan accepted for floats).
 * Return 0 on success, -1 otherwise. */
int cli_parse_float(const char *s, float *out);
int cli_parse_double(const char *s, double *out);
int cli_parse_long(const char *s, long *out);

/* The shortest decimal that reads back as v (0.01f prints as 0.01, not 0.00999999978); writes it
 * into buf and returns buf. */
const char *cli_fmt_float(float v, char *buf, size_t len);

/* Parses an expression; on error prints "actlab CMD: LINE:COL: message" and the caret line.
 * Returns 0, or -1 with *e untouched. */
int cli_parse_expr(const char *cmd, const char *src, act_expr **e);

/* Looks up a built-in activation; on failure prints the error and the list of valid names. */
int cli_lookup_act(const char *cmd, const char *name, act_act_id *id);

/* Applies "k=v" to the parameters p of activation id; prints an error naming the valid
 * parameters on failure. Returns 0 or -1. */
int cli_set_param(const char *cmd, act_act_id id, const char *kv, float *p);

#endif
