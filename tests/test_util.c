/* test_util.c -- tests of src/util: the status list, the atomic file writer. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actlab/file.h"
#include "actlab/status.h"
#include "test.h"

void test_status_strings_are_complete(void)
{
#define X(NAME, value, msg)                                                   \
    CHECK(strcmp(act_strerror(ACT_##NAME), msg) == 0);                        \
    CHECK(strcmp(act_status_name(ACT_##NAME), #NAME) == 0);
    ACT_STATUS_LIST(X)
#undef X
    CHECK(strcmp(act_strerror(12345), "unknown error") == 0);
}

// ----------------------------------------------------------------------------
// act_file: output files written atomically

/* Names in dir other than the ones a test made on purpose: temporary files left behind. */
static int n_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* The whole file at path in buf (NUL-terminated); its size, or -1. */
static long slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (long)n;
}

void test_util_file_atomic(void)
{
    char dir[] = "/tmp/actlab-file-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char path[256], buf[256];
    act_diag d;
    snprintf(path, sizeof path, "%s/out.txt", dir);
    mode_t mask = umask(022);           // the test's own umask: new files are 0644

    CHECKF(act_file_write_atomic(path, "hello\n", 6, 0, &d) == ACT_OK, "%s", d.msg);
    CHECK(slurp(path, buf, sizeof buf) == 6 && strcmp(buf, "hello\n") == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644);
    CHECK(n_entries(dir) == 1);

    CHECK(chmod(path, 0600) == 0);      // a replaced file keeps its permissions
    act_file f;
    CHECKF(act_file_open(&f, path, 0, &d) == ACT_OK, "%s", d.msg);
    CHECK(f.f && f.tmp && strcmp(f.path, path) == 0 && f.name == f.tmp);
    CHECK(strncmp(f.tmp, dir, strlen(dir)) == 0 && strstr(f.tmp, "/.out.txt."));
    CHECK(act_file_write(&f, "new ", 4) == ACT_OK);
    fprintf(f.f, "text\n");
    CHECK(slurp(path, buf, sizeof buf) == 6);       // not replaced before the commit
    CHECK(n_entries(dir) == 2);
    CHECKF(act_file_commit(&f, &d) == ACT_OK, "%s", d.msg);
    CHECK(f.f == NULL && f.path == NULL && f.tmp == NULL);
    CHECK(slurp(path, buf, sizeof buf) == 9 && strcmp(buf, "new text\n") == 0);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
    CHECK(n_entries(dir) == 1);

    CHECK(act_file_open(&f, path, ACT_FILE_DURABLE, &d) == ACT_OK);  // abort: nothing changes
    CHECK(act_file_write(&f, "x", 1) == ACT_OK);
    act_file_abort(&f);
    act_file_abort(&f);                                 // a no-op on a released act_file
    CHECK(slurp(path, buf, sizeof buf) == 9 && n_entries(dir) == 1);
    CHECK(act_file_commit(&f, &d) == ACT_EINVAL);       // released: nothing to commit
    CHECK(act_file_write(&f, "x", 1) == ACT_EINVAL);

    CHECKF(act_file_write_atomic(path, "durable", 7, ACT_FILE_DURABLE, &d) == ACT_OK, "%s",
           d.msg);
    CHECK(slurp(path, buf, sizeof buf) == 7 && n_entries(dir) == 1);
    CHECK(act_file_check(path, &d) == ACT_OK && n_entries(dir) == 1);
    char *all = NULL;                                   // read back whole
    size_t len = 0;
    CHECKF(act_file_read(path, &all, &len, &d) == ACT_OK, "%s", d.msg);
    CHECK(all && len == 7 && memcmp(all, "durable", 8) == 0);   // NUL-terminated
    free(all);
    char big[20000];                                    // past the first buffer, with NULs
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7 % 251);
    CHECK(act_file_write_atomic(path, big, sizeof big, 0, &d) == ACT_OK);
    CHECK(act_file_read(path, &all, NULL, &d) == ACT_OK && all && memcmp(all, big, sizeof big)
          == 0 && all[sizeof big] == '\0');
    free(all);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none.txt", dir);
    CHECK(act_file_read(missing, &all, &len, &d) == ACT_ENOTFOUND && all == NULL &&
          strstr(d.msg, "none.txt"));
    CHECK(act_file_read(dir, &all, &len, &d) == ACT_EIO && all == NULL);   // a directory
    umask(mask);
    remove(path);
    rmdir(dir);
}

void test_util_file_errors(void)
{
    char dir[] = "/tmp/actlab-file-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char p[512];
    act_diag d;
    act_file f;
    CHECK(act_file_open(&f, "", 0, &d) == ACT_EINVAL && strcmp(d.msg, "empty file name") == 0);
    CHECK(f.f == NULL && f.path == NULL);
    CHECK(act_file_open(&f, NULL, 0, NULL) == ACT_EINVAL);
    snprintf(p, sizeof p, "%s/", dir);
    CHECK(act_file_open(&f, p, 0, &d) == ACT_EINVAL && strstr(d.msg, "names a directory"));
    CHECK(act_file_open(&f, dir, 0, &d) == ACT_EINVAL && strstr(d.msg, "is a directory") &&
          strstr(d.msg, dir));
    snprintf(p, sizeof p, "%s/missing/x.csv", dir);
    CHECKF(act_file_open(&f, p, 0, &d) == ACT_ENOTFOUND && strstr(d.msg, "does not exist") &&
           strstr(d.msg, "/missing'"), "%s", d.msg);
    CHECK(act_file_check(p, &d) == ACT_ENOTFOUND);
    CHECK(act_file_write_atomic(p, "x", 1, 0, &d) == ACT_ENOTFOUND);
    snprintf(p, sizeof p, "%s/file", dir);
    CHECK(act_file_write_atomic(p, "x", 1, 0, &d) == ACT_OK);
    snprintf(p, sizeof p, "%s/file/x.csv", dir);        // the parent is a file
    CHECKF(act_file_open(&f, p, 0, &d) == ACT_EINVAL && strstr(d.msg, "not a directory"), "%s",
           d.msg);
    CHECK(act_file_mkdir(p, &d) == ACT_EINVAL && strstr(d.msg, "cannot create directory"));
    CHECK(act_file_mkdir("", &d) == ACT_EINVAL && strcmp(d.msg, "empty directory name") == 0);

    /* a non-regular destination is written in place, unless durability was asked for */
    CHECK(act_file_open(&f, "/dev/null", ACT_FILE_DURABLE, &d) == ACT_EINVAL &&
          strstr(d.msg, "not a regular file"));
    CHECKF(act_file_write_atomic("/dev/null", "x", 1, 0, &d) == ACT_OK, "%s", d.msg);
    CHECK(act_file_check("/dev/null", &d) == ACT_OK);
    if (access("/dev/full", W_OK) == 0) {               // a write that fails: ENOSPC
        CHECK(act_file_open(&f, "/dev/full", 0, &d) == ACT_OK && f.tmp == NULL);
        char big[8192] = { 0 };
        int rc = act_file_write(&f, big, sizeof big);   // fails here or at the flush
        CHECK(rc == ACT_OK || rc == ACT_EIO);
        CHECKF(act_file_commit(&f, &d) == ACT_EIO && strstr(d.msg, "cannot write '/dev/full'"),
               "%s", d.msg);
    }

    snprintf(p, sizeof p, "%s/a/b/c", dir);             // mkdir -p, then a test file
    CHECKF(act_file_mkdir(p, &d) == ACT_OK, "%s", d.msg);
    CHECK(n_entries(p) == 0);
    CHECK(act_file_mkdir(p, &d) == ACT_OK);             // exists already: fine
    rmdir(p);
    snprintf(p, sizeof p, "%s/a/b", dir);
    rmdir(p);
    snprintf(p, sizeof p, "%s/a", dir);
    rmdir(p);
    snprintf(p, sizeof p, "%s/file", dir);
    remove(p);
    CHECK(n_entries(dir) == 0);
    rmdir(dir);
}

// ----------------------------------------------------------------------------
// act_fmt_float: the number format of messages and summaries

void test_fmt_float_shortest_round_trip(void)
{
    char buf[32];
    CHECK(strcmp(act_fmt_float(0.05f, buf, sizeof buf), "0.05") == 0);
    CHECK(strcmp(act_fmt_float(0.01f, buf, sizeof buf), "0.01") == 0);
    CHECK(strcmp(act_fmt_float(1.0f, buf, sizeof buf), "1") == 0);
    CHECK(strcmp(act_fmt_float(-3e-4f, buf, sizeof buf), "-0.0003") == 0);
    CHECK(act_fmt_float(1.0f / 3.0f, buf, sizeof buf) == buf && strcmp(buf, "0.33333334") == 0);
    CHECK(strcmp(act_fmt_float(INFINITY, buf, sizeof buf), "inf") == 0);
    CHECK(strcmp(act_fmt_float(NAN, buf, sizeof buf), "nan") == 0 ||
          strcmp(buf, "-nan") == 0);
    /* every float of a sweep over the exponents reads back exactly, and is %.6g's form
     * wherever that reads back (more digits only where fewer would lose the value) */
    uint32_t bits = 0x00800001u;
    for (int i = 0; i < 20000; i++, bits = bits * 2654435761u + 12345u) {
        uint32_t b = bits & 0xff7fffffu;   /* finite, either sign */
        float v;
        memcpy(&v, &b, sizeof v);
        act_fmt_float(v, buf, sizeof buf);
        char six[32];
        snprintf(six, sizeof six, "%.6g", (double)v);
        CHECKF(strtof(buf, NULL) == v && (strcmp(buf, six) == 0) == (strtof(six, NULL) == v),
               "%.9g printed as %s", (double)v, buf);
    }
}
