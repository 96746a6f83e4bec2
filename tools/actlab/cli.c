/* cli.c -- helpers shared by the actlab subcommands (see cli.h). */
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

const char *cli_fmt_float(float v, char *buf, size_t len)
{
    for (int prec = 6; prec < 9; prec++) {
        snprintf(buf, len, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v)
            return buf;
    }
    snprintf(buf, len, "%.9g", (double)v);
    return buf;
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
