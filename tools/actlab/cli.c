/* cli.c -- helpers shared by the actlab subcommands (see cli.h): number and parameter parsing,
 * error printing, atomic output files. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "actlab %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_html(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f); break;
        }
    }
}

int cli_parse_double(const char *s, double *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || end == s)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_float(const char *s, float *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    float v = strtof(s, &end);
    if (*end != '\0' || end == s)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_long(const char *s, long *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || end == s || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_expr(const char *cmd, const char *src, act_expr **e)
{
    act_diag d;
    int rc = act_expr_parse(src, e, &d);
    if (rc == ACT_OK)
        return 0;
    char caret[512];
    act_expr_format_error(src, &d, caret, sizeof caret);
    if (d.col > 0)
        cli_error(cmd, "%d:%d: %s", d.line, d.col, d.msg[0] ? d.msg : act_strerror(rc));
    else
        cli_error(cmd, "%s", d.msg[0] ? d.msg : act_strerror(rc));
    if (caret[0] && d.col > 0 && d.col <= ACT_EXPR_MAX_LEN)
        fprintf(stderr, "%s\n", caret);
    return -1;
}

int cli_lookup_act(const char *cmd, const char *name, act_act_id *id)
{
    if (act_act_lookup(name, id) == ACT_OK)
        return 0;
    cli_error(cmd, "unknown activation '%s'; valid names are:", name);
    for (int i = 0; i < ACT_ACT_COUNT; i++)
        fprintf(stderr, "%s%s", i ? ", " : "  ", act_act_info((act_act_id)i)->name);
    fputc('\n', stderr);
    return -1;
}

int cli_set_param(const char *cmd, act_act_id id, const char *kv, float *p)
{
    const act_act_desc *d = act_act_info(id);
    const char *eq = strchr(kv, '=');
    char key[64];
    int k;
    if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key) {
        cli_error(cmd, "parameter '%s' is not of the form NAME=VALUE", kv);
        return -1;
    }
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    if (act_act_param_index(id, key, &k) != ACT_OK) {
        if (d->n_params == 0) {
            cli_error(cmd, "%s has no parameters (got '%s')", d->name, key);
        } else {
            cli_error(cmd, "%s has no parameter '%s'; valid parameters:", d->name, key);
            for (int j = 0; j < d->n_params; j++)
                fprintf(stderr, "  %s (default %g)\n", d->param_names[j], (double)d->defaults[j]);
        }
        return -1;
    }
    if (cli_parse_float(eq + 1, &p[k]) != 0) {
        cli_error(cmd, "value of %s must be a number, got '%s'", key, eq + 1);
        return -1;
    }
    return 0;
}

// ----------------------------------------------------------------------------
// output files: the library's act_file (include/actlab/file.h), its act_diag message copied
// into err

/* -1 with d's message in err if rc is not ACT_OK; else 0. */
static int to_err(int rc, const act_diag *d, char *err, size_t errlen)
{
    if (rc == ACT_OK)
        return 0;
    snprintf(err, errlen, "%s", d->msg[0] ? d->msg : act_strerror(rc));
    return -1;
}

int cli_out_open(cli_out *o, const char *path, char *err, size_t errlen)
{
    act_diag d;
    return to_err(act_file_open(o, path, 0, &d), &d, err, errlen);
}

int cli_out_commit(cli_out *o, char *err, size_t errlen)
{
    act_diag d;
    return to_err(act_file_commit(o, &d), &d, err, errlen);
}

void cli_out_abort(cli_out *o)
{
    act_file_abort(o);
}

int cli_write_atomic(const char *path, const void *data, size_t n, char *err, size_t errlen)
{
    act_diag d;
    return to_err(act_file_write_atomic(path, data, n, 0, &d), &d, err, errlen);
}

int cli_out_check(const char *path, char *err, size_t errlen)
{
    act_diag d;
    return to_err(act_file_check(path, &d), &d, err, errlen);
}

int cli_out_dir(const char *dir, char *err, size_t errlen)
{
    act_diag d;
    return to_err(act_file_mkdir(dir, &d), &d, err, errlen);
}

/* Prints "actlab CMD: OPT 'PATH': ERR", or "OPT: ERR" when err already names 'PATH'. */
static void output_error(const char *cmd, const char *opt, const char *path, const char *err)
{
    size_t n = strlen(path);
    const char *q = err;
    int named = 0;
    while (!named && (q = strchr(q, '\'')) != NULL) {
        named = strncmp(q + 1, path, n) == 0 && q[n + 1] == '\'';
        q++;
    }
    if (named)
        cli_error(cmd, "%s: %s", opt, err);
    else
        cli_error(cmd, "%s '%s': %s", opt, path, err);
}

int cli_check_output(const char *cmd, const char *opt, const char *path, int is_dir)
{
    if (!path || !*path) {
        cli_error(cmd, "%s '': empty %s name", opt, is_dir ? "directory" : "file");
        return CLI_EXIT_USAGE;
    }
    char err[2048];
    if ((is_dir ? cli_out_dir(path, err, sizeof err) : cli_out_check(path, err, sizeof err)) == 0)
        return CLI_EXIT_OK;
    output_error(cmd, opt, path, err);
    return CLI_EXIT_FAILURE;
}

int cli_open_output(const char *cmd, const char *opt, const char *path, cli_out *o)
{
    *o = (cli_out){ 0 };
    if (!path || !*path) {
        cli_error(cmd, "%s '': empty file name", opt);
        return CLI_EXIT_USAGE;
    }
    char err[2048];
    if (cli_out_open(o, path, err, sizeof err) == 0)
        return CLI_EXIT_OK;
    output_error(cmd, opt, path, err);
    return CLI_EXIT_FAILURE;
}
