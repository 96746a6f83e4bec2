/* cli.c -- helpers shared by the actlab subcommands (see cli.h): number and parameter parsing,
 * error printing, atomic output files. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

// ----------------------------------------------------------------------------
// output files

/* The directory part of path ("." when it has none, "/" for "/x"); malloc'ed, NULL if out of
 * memory. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* "DIR/.BASE.XXXXXX" (no doubled '/' after "/"); malloc'ed, NULL if out of memory. */
static char *tmp_name(const char *dir, const char *base)
{
    size_t n = strlen(dir) + strlen(base) + 10;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "%s%s.%s.XXXXXX", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", base);
    return t;
}

static void out_release(cli_out *o)
{
    free(o->path);
    free(o->tmp);
    *o = (cli_out){ 0 };
}

/* 0 if dir is an existing directory, else -1 with the reason in err. */
static int check_dir(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            snprintf(err, errlen, "directory '%s' does not exist", dir);
        else
            snprintf(err, errlen, "cannot use directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "'%s' is not a directory", dir);
        return -1;
    }
    return 0;
}

int cli_out_open(cli_out *o, const char *path, char *err, size_t errlen)
{
    *o = (cli_out){ 0 };
    if (!path || !*path) {
        snprintf(err, errlen, "empty file name");
        return -1;
    }
    if (path[strlen(path) - 1] == '/') {
        snprintf(err, errlen, "'%s' names a directory, not a file", path);
        return -1;
    }
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "'%s' is a directory", path);
        return -1;
    }
    if (!(o->path = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (exists && !S_ISREG(st.st_mode)) {           // a device or FIFO: written in place
        if (!(o->f = fopen(path, "w"))) {
            snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
            out_release(o);
            return -1;
        }
        o->name = o->path;
        return 0;
    }
    char *dir = dir_of(path);
    if (!dir || check_dir(dir, err, errlen) != 0) {
        if (!dir)
            snprintf(err, errlen, "out of memory");
        free(dir);
        out_release(o);
        return -1;
    }
    const char *slash = strrchr(path, '/');
    o->tmp = tmp_name(dir, slash ? slash + 1 : path);
    int fd = o->tmp ? mkstemp(o->tmp) : -1;
    if (fd < 0) {
        if (o->tmp)
            snprintf(err, errlen, "cannot create a file in '%s': %s", dir, strerror(errno));
        else
            snprintf(err, errlen, "out of memory");
        free(dir);
        out_release(o);
        return -1;
    }
    free(dir);
    mode_t mode;
    if (exists) {
        mode = st.st_mode & 07777;                  // a replaced file keeps its permissions
    } else {
        mode_t mask = umask(0);                     // mkstemp makes 0600; fopen would make
        umask(mask);                                // 0666 & ~umask
        mode = 0666 & ~mask;
    }
    if (fchmod(fd, mode) != 0 || !(o->f = fdopen(fd, "w"))) {
        snprintf(err, errlen, "cannot write '%s': %s", o->tmp, strerror(errno));
        close(fd);
        unlink(o->tmp);
        out_release(o);
        return -1;
    }
    o->name = o->tmp;
    return 0;
}

int cli_out_commit(cli_out *o, char *err, size_t errlen)
{
    if (!o->f) {
        snprintf(err, errlen, "'%s' is not open for writing", o->path ? o->path : "(null)");
        out_release(o);
        return -1;
    }
    // The error flag may be left by an earlier write; errno then still tells why, unless a
    // later call overwrote it ("write error" when it is 0).
    int e = 0;
    if (fflush(o->f) != 0 || ferror(o->f))
        e = errno ? errno : -1;
    if (!e && o->tmp && fsync(fileno(o->f)) != 0)
        e = errno;
    if (fclose(o->f) != 0 && !e)
        e = errno ? errno : -1;
    o->f = NULL;
    if (!e && o->tmp && rename(o->tmp, o->path) != 0)
        e = errno;
    if (e) {
        snprintf(err, errlen, "cannot write '%s': %s", o->path, e > 0 ? strerror(e) : "write error");
        if (o->tmp)
            unlink(o->tmp);
        out_release(o);
        return -1;
    }
    char *dir = o->tmp ? dir_of(o->path) : NULL;
    int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY) : -1;
    if (dfd >= 0) {                                 // make the rename durable (best effort:
        fsync(dfd);                                 // some file systems refuse a directory)
        close(dfd);
    }
    free(dir);
    out_release(o);
    return 0;
}

void cli_out_abort(cli_out *o)
{
    if (o->f)
        fclose(o->f);
    if (o->tmp)
        unlink(o->tmp);
    out_release(o);
}

int cli_write_atomic(const char *path, const void *data, size_t n, char *err, size_t errlen)
{
    cli_out o;
    if (cli_out_open(&o, path, err, errlen) != 0)
        return -1;
    if (n > 0 && fwrite(data, 1, n, o.f) != n) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        cli_out_abort(&o);
        return -1;
    }
    return cli_out_commit(&o, err, errlen);
}

int cli_out_check(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (path && *path && stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        if (access(path, W_OK) != 0) {
            snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    cli_out o;
    if (cli_out_open(&o, path, err, errlen) != 0)
        return -1;
    cli_out_abort(&o);
    return 0;
}

int cli_out_dir(const char *dir, char *err, size_t errlen)
{
    if (!dir || !*dir) {
        snprintf(err, errlen, "empty directory name");
        return -1;
    }
    char *p = strdup(dir);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (char *s = p + 1;; s++) {                  // mkdir -p
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create directory '%s': %s", p, strerror(errno));
            free(p);
            return -1;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    if (check_dir(dir, err, errlen) != 0)
        return -1;
    char *t = tmp_name(dir, "actlab");
    int fd = t ? mkstemp(t) : -1;
    if (fd < 0) {
        if (t)
            snprintf(err, errlen, "cannot create files in '%s': %s", dir, strerror(errno));
        else
            snprintf(err, errlen, "out of memory");
        free(t);
        return -1;
    }
    close(fd);
    unlink(t);
    free(t);
    return 0;
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
