/* cli.h -- helpers shared by the actlab subcommands: strict number parsing, -p k=v parameters,
 * error printing, output files written atomically. Exit codes (documented in README and
 * `actlab --help`): */
#ifndef ACTLAB_CLI_H
#define ACTLAB_CLI_H

#include <stddef.h>
#include <stdio.h>
#include "actlab/act.h"
#include "actlab/expr.h"
#include "actlab/file.h"

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

/* s written to f with the characters HTML gives meaning to escaped (& < > " '): for text and
 * attribute values of the reports. s may be NULL (nothing written). */
void cli_html(FILE *f, const char *s);
int cli_parse_long(const char *s, long *out);


/* Parses an expression; on error prints "actlab CMD: LINE:COL: message" and the caret line.
 * Returns 0, or -1 with *e untouched. */
int cli_parse_expr(const char *cmd, const char *src, act_expr **e);

/* Looks up a built-in activation; on failure prints the error and the list of valid names. */
int cli_lookup_act(const char *cmd, const char *name, act_act_id *id);

/* Applies "k=v" to the parameters p of activation id; prints an error naming the valid
 * parameters on failure. Returns 0 or -1. */
int cli_set_param(const char *cmd, act_act_id id, const char *kv, float *p);

// ----------------------------------------------------------------------------
// Output files. Standard output needs nothing here: main() flushes and checks it once after
// every command and reports a write error as "actlab CMD: cannot write to standard output".
//
// Thin wrappers over the library's atomic writer (include/actlab/file.h, which states the
// rules): a temporary ".NAME.XXXXXX" beside the destination, renamed over it only when complete;
// a destination that is not a regular file (/dev/stdout, a FIFO) written in place. They turn its
// status and act_diag into the -1 / err convention of this file.
//
// Messages (in err, one line, no trailing newline) name the path; callers print them as
// cli_error(cmd, "OPTION '%s': %s", path, err) or use cli_check_output().

/* An output file being written (see cli_out_open): the library's act_file, whose fields f (the
 * stream to write), name (the file being written, for writers that open files by name, such as
 * PLplot), path and tmp (owned) are documented in file.h. */
typedef act_file cli_out;

/* Opens o for writing path: checks that path is not empty, not a directory, that its directory
 * exists, and creates the temporary file there. Returns 0, or -1 with a message in err and *o
 * holding nothing to release. */
int cli_out_open(cli_out *o, const char *path, char *err, size_t errlen);

/* Finishes o: fflush, ferror, fsync, fclose (every result checked), then renames the temporary
 * file over the destination and fsyncs the directory (best effort). Returns 0, or -1 with a message in err ("cannot write 'PATH':
 * REASON"), the temporary file removed and the destination untouched. Releases o either way. */
int cli_out_commit(cli_out *o, char *err, size_t errlen);

/* Discards o: closes and removes the temporary file. A no-op on a released cli_out. */
void cli_out_abort(cli_out *o);

/* Writes data[0..n) to path atomically (cli_out_open, fwrite, cli_out_commit). Returns 0, or
 * -1 with a message in err. */
int cli_write_atomic(const char *path, const void *data, size_t n, char *err, size_t errlen);

/* Checks, before any work, that path can be written by cli_out_open: the same checks, and the
 * temporary file is created and removed again (a destination written in place is only tested
 * with access(W_OK): opening a FIFO would block or end its reader). Returns 0, or -1 with a
 * message in err. */
int cli_out_check(const char *path, char *err, size_t errlen);

/* Creates directory dir and its parents if needed (mkdir -p), and checks that it is a
 * directory in which a file can be created. Returns 0, or -1 with a message in err. */
int cli_out_dir(const char *dir, char *err, size_t errlen);

/* For an output option OPT (such as "-o") given PATH on the command line: an empty path prints
 * "actlab CMD: OPT: empty file name" and returns CLI_EXIT_USAGE; a path that cli_out_check (or
 * cli_out_dir, when is_dir) rejects prints "actlab CMD: OPT 'PATH': REASON" and returns
 * CLI_EXIT_FAILURE; otherwise returns 0 (CLI_EXIT_OK). */
int cli_check_output(const char *cmd, const char *opt, const char *path, int is_dir);

/* cli_out_open for an output option, with the messages and exit codes of cli_check_output: for
 * writers that stream into o->f during the work and cli_out_commit (or cli_out_abort) after. */
int cli_open_output(const char *cmd, const char *opt, const char *path, cli_out *o);

#endif
