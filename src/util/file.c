/* file.c -- output files written atomically (include/actlab/file.h): a uniquely named temporary
 * file beside the destination, flushed, fsync'ed, renamed over it, the directory fsync'ed. Used
 * by the CLI's output files (tools/actlab/cli.c) and by checkpoints (src/nn/ckpt.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actlab/file.h"

#define SUFFIX_LEN 6            /* ".XXXXXX", as mkstemp */

/* Writes the message into d (may be NULL) and returns status. */
static int fail(act_diag *d, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(act_diag *d, int status, const char *fmt, ...)
{
    if (d) {
        va_list ap;
        d->line = d->col = 0;
        va_start(ap, fmt);
        vsnprintf(d->msg, sizeof d->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

static void ok(act_diag *d)
{
    if (d)
        *d = (act_diag){ 0 };
}

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
    size_t n = strlen(dir) + strlen(base) + 4 + SUFFIX_LEN;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "%s%s.%s.XXXXXX", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", base);
    return t;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Creates the file t ("....XXXXXX", the X's replaced) with O_EXCL, as mkstemp does, but with
 * mode 0666 so that the kernel applies the umask, as fopen() would: reading the umask means
 * setting it, which would change process state under other threads. Returns the descriptor, or
 * -1 with errno set. */
static int create_unique(char *t)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char *x = t + strlen(t) - SUFFIX_LEN;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                 ((uint64_t)getpid() << 12) ^ (uint64_t)(uintptr_t)&ts;
    for (int attempt = 0; attempt < 1000; attempt++) {
        uint64_t r = splitmix64(&s);
        for (int i = 0; i < SUFFIX_LEN; i++, r /= 62)
            x[i] = abc[r % 62];
        int fd = open(t, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

static void release(act_file *f)
{
    free(f->path);
    free(f->tmp);
    *f = (act_file){ 0 };
}

/* ACT_OK if dir is an existing directory. */
static int check_dir(const char *dir, act_diag *d)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return fail(d, ACT_ENOTFOUND, "directory '%s' does not exist", dir);
        if (errno == ENOTDIR)
            return fail(d, ACT_EINVAL, "cannot use directory '%s': %s", dir, strerror(errno));
        return fail(d, ACT_EIO, "cannot use directory '%s': %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return fail(d, ACT_EINVAL, "'%s' is not a directory", dir);
    return ACT_OK;
}

/* fsync of directory dir: ACT_OK, or ACT_EIO with the reason in d. */
static int sync_dir(const char *dir, act_diag *d)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(d, ACT_EIO, "cannot sync directory '%s': %s", dir, strerror(errno));
    int rc = fsync(fd) == 0 ? ACT_OK : fail(d, ACT_EIO, "cannot sync directory '%s': %s", dir,
                                           strerror(errno));
    close(fd);
    return rc;
}

// ----------------------------------------------------------------------------

int act_file_open(act_file *f, const char *path, unsigned flags, act_diag *d)
{
    if (!f)
        return fail(d, ACT_EINVAL, "no act_file to open");
    *f = (act_file){ 0 };
    if (!path || !*path)
        return fail(d, ACT_EINVAL, "empty file name");
    if (path[strlen(path) - 1] == '/')
        return fail(d, ACT_EINVAL, "'%s' names a directory, not a file", path);
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        return fail(d, ACT_EINVAL, "'%s' is a directory", path);
    if (exists && !S_ISREG(st.st_mode) && (flags & ACT_FILE_DURABLE))
        return fail(d, ACT_EINVAL, "'%s' is not a regular file", path);
    if (!(f->path = strdup(path)))
        return fail(d, ACT_ENOMEM, "out of memory");
    f->flags = flags;
    if (exists && !S_ISREG(st.st_mode)) {           // a device or FIFO: written in place
        if (!(f->f = fopen(path, "w"))) {
            int rc = fail(d, ACT_EIO, "cannot open '%s': %s", path, strerror(errno));
            release(f);
            return rc;
        }
        f->name = f->path;
        ok(d);
        return ACT_OK;
    }
    char *dir = dir_of(path);
    int rc = dir ? check_dir(dir, d) : fail(d, ACT_ENOMEM, "out of memory");
    if (rc != ACT_OK) {
        free(dir);
        release(f);
        return rc;
    }
    const char *slash = strrchr(path, '/');
    f->tmp = tmp_name(dir, slash ? slash + 1 : path);
    int fd = f->tmp ? create_unique(f->tmp) : -1;
    if (fd < 0) {
        rc = f->tmp ? fail(d, ACT_EIO, "cannot create a file in '%s': %s", dir, strerror(errno))
                    : fail(d, ACT_ENOMEM, "out of memory");
        free(dir);
        release(f);
        return rc;
    }
    free(dir);
    // a replaced file keeps its permissions; a new one has 0666 & ~umask from open()
    if ((exists && fchmod(fd, st.st_mode & 07777) != 0) || !(f->f = fdopen(fd, "w"))) {
        rc = fail(d, ACT_EIO, "cannot write '%s': %s", f->tmp, strerror(errno));
        close(fd);
        unlink(f->tmp);
        release(f);
        return rc;
    }
    f->name = f->tmp;
    ok(d);
    return ACT_OK;
}

int act_file_write(act_file *f, const void *data, size_t n)
{
    if (!f || !f->f || (n > 0 && !data))
        return ACT_EINVAL;
    if (n > 0 && fwrite(data, 1, n, f->f) != n) {
        if (!f->err)
            f->err = errno ? errno : EIO;
        return ACT_EIO;
    }
    return ACT_OK;
}

int act_file_commit(act_file *f, act_diag *d)
{
    if (!f)
        return fail(d, ACT_EINVAL, "no act_file to commit");
    if (!f->f) {
        int rc = fail(d, ACT_EINVAL, "'%s' is not open for writing",
                      f->path ? f->path : "(null)");
        release(f);
        return rc;
    }
    // The error flag may be left by an earlier write; errno then still tells why, unless a
    // later call overwrote it ("write error" when it is 0). act_file_write kept its errno.
    int e = f->err;
    if (!e && (fflush(f->f) != 0 || ferror(f->f)))
        e = errno ? errno : -1;
    if (!e && f->tmp && fsync(fileno(f->f)) != 0)
        e = errno;
    if (fclose(f->f) != 0 && !e)
        e = errno ? errno : -1;
    f->f = NULL;
    if (!e && f->tmp && rename(f->tmp, f->path) != 0)
        e = errno;
    if (e) {
        int rc = fail(d, ACT_EIO, "cannot write '%s': %s", f->path,
                      e > 0 ? strerror(e) : "write error");
        if (f->tmp)
            unlink(f->tmp);
        release(f);
        return rc;
    }
    int rc = ACT_OK;
    if (f->tmp) {                                   // make the rename durable
        char *dir = dir_of(f->path);
        if (!dir)
            rc = fail(d, ACT_ENOMEM, "out of memory");
        else
            rc = sync_dir(dir, d);
        free(dir);
        if (!(f->flags & ACT_FILE_DURABLE))         // best effort: some file systems refuse
            rc = ACT_OK;                            // a directory fsync
    }
    release(f);
    if (rc == ACT_OK)
        ok(d);
    return rc;
}

void act_file_abort(act_file *f)
{
    if (!f)
        return;
    if (f->f)
        fclose(f->f);
    if (f->tmp)
        unlink(f->tmp);
    release(f);
}

int act_file_write_atomic(const char *path, const void *data, size_t n, unsigned flags,
                          act_diag *d)
{
    act_file f;
    int rc = act_file_open(&f, path, flags, d);
    if (rc != ACT_OK)
        return rc;
    if ((rc = act_file_write(&f, data, n)) != ACT_OK) {
        rc = fail(d, rc, "cannot write '%s': %s", path,
                  rc == ACT_EIO ? strerror(f.err) : act_strerror(rc));
        act_file_abort(&f);
        return rc;
    }
    return act_file_commit(&f, d);
}

int act_file_check(const char *path, act_diag *d)
{
    struct stat st;
    if (path && *path && stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        if (access(path, W_OK) != 0)
            return fail(d, ACT_EIO, "cannot write '%s': %s", path, strerror(errno));
        ok(d);
        return ACT_OK;
    }
    act_file f;
    int rc = act_file_open(&f, path, 0, d);
    if (rc != ACT_OK)
        return rc;
    act_file_abort(&f);
    return ACT_OK;
}

int act_file_mkdir(const char *dir, act_diag *d)
{
    if (!dir || !*dir)
        return fail(d, ACT_EINVAL, "empty directory name");
    char *p = strdup(dir);
    if (!p)
        return fail(d, ACT_ENOMEM, "out of memory");
    for (char *s = p + 1;; s++) {                  // mkdir -p
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            int rc = fail(d, e == ENOTDIR ? ACT_EINVAL : e == ENOENT ? ACT_ENOTFOUND : ACT_EIO,
                          "cannot create directory '%s': %s", p, strerror(e));
            free(p);
            return rc;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    int rc = check_dir(dir, d);
    if (rc != ACT_OK)
        return rc;
    char *t = tmp_name(dir, "actlab");
    int fd = t ? create_unique(t) : -1;
    if (fd < 0) {
        rc = t ? fail(d, ACT_EIO, "cannot create files in '%s': %s", dir, strerror(errno))
               : fail(d, ACT_ENOMEM, "out of memory");
        free(t);
        return rc;
    }
    close(fd);
    unlink(t);
    free(t);
    ok(d);
    return ACT_OK;
}

int act_file_read(const char *path, char **out, size_t *len, act_diag *d)
{
    if (!out)
        return fail(d, ACT_EINVAL, "act_file_read: out is NULL");
    *out = NULL;
    if (!path)
        return fail(d, ACT_EINVAL, "act_file_read: path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(d, errno == ENOENT ? ACT_ENOTFOUND : ACT_EIO, "cannot read '%s': %s", path,
                    strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            size_t nc = cap ? 2 * cap : 8192;
            char *q = realloc(buf, nc);
            if (!q) {
                free(buf);
                fclose(f);
                return fail(d, ACT_ENOMEM, "cannot read '%s': out of memory", path);
            }
            buf = q;
            cap = nc;
        }
        size_t k = fread(buf + n, 1, cap - n - 1, f);
        n += k;
        if (k == 0)
            break;
    }
    int bad = ferror(f), e = errno;
    fclose(f);
    if (bad) {
        free(buf);
        return fail(d, ACT_EIO, "cannot read '%s': %s", path, strerror(e ? e : EIO));
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    ok(d);
    return ACT_OK;
}
