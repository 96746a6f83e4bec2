/* data.c -- data set readers: IDX (MNIST, Fashion-MNIST; gzip or plain) and the CIFAR-10/100
 * binary format. Every header field is checked before anything is allocated; a file must end
 * exactly where its data does (gzip: every member's CRC-32 and length checked, nothing after the
 * last member); every error names the file and the problem (act_diag). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nn/nn_impl.h"

#define MAX_SIDE 4096u
#define MAX_BYTES ((size_t)1 << 32)

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int failf(act_diag *d, int rc, const char *path, const char *fmt, ...)
{
    if (d) {
        d->line = d->col = 0;
        int k = snprintf(d->msg, sizeof d->msg, "%s: ", path);
        if (k < 0 || (size_t)k >= sizeof d->msg)
            k = 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->msg + k, sizeof d->msg - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

// ----------------------------------------------------------------------------
// A byte source over one file: plain bytes, or gzip (RFC 1952) inflated with zlib. A gzip file
// may hold several members (`cat a.gz b.gz`, as gzip -d and zlib's gzread accept): their data is
// concatenated and inflate checks each member's CRC-32 and ISIZE trailer. Bytes after the last
// member that do not start another member are an error (gzip -d only warns; a data set that
// fails its own framing is not trusted). Plain and gzip are told apart by the magic 1f 8b: no
// IDX file (00 00 08 ..) or CIFAR file (first byte a label < 100) starts with it.

typedef struct src {
    FILE         *f;
    const char   *path;
    int           gz;           /* gzip members, else plain bytes */
    int           in_member;    /* gz: inflate is inside a member */
    int           eof;          /* the file has no more bytes to read */
    size_t        n_read;       /* bytes read from the file so far */
    z_stream      z;            /* next_in/avail_in: the unread part of buf (both modes) */
    unsigned char buf[1 << 16];
} src;

/* Tops the buffer up to at least need bytes unless the file ends first. */
static int src_fill(src *s, size_t need, act_diag *d)
{
    if (s->z.avail_in >= need || s->eof)
        return ACT_OK;
    memmove(s->buf, s->z.next_in, s->z.avail_in);
    s->z.next_in = s->buf;
    size_t want = sizeof s->buf - s->z.avail_in;
    size_t got = fread(s->buf + s->z.avail_in, 1, want, s->f);
    s->z.avail_in += (uInt)got;
    s->n_read += got;
    if (got < want) {
        if (ferror(s->f))
            return failf(d, ACT_EIO, s->path, "read error (%s)", strerror(errno));
        s->eof = 1;
    }
    return ACT_OK;
}

static void src_close(src *s)
{
    if (!s)
        return;
    if (s->gz)
        inflateEnd(&s->z);
    if (s->f)
        fclose(s->f);
    free(s);
}

static int src_open(const char *path, src **out, act_diag *d)
{
    *out = NULL;
    src *s = malloc(sizeof *s);
    if (!s)
        return ACT_ENOMEM;
    memset(s, 0, offsetof(src, buf));
    s->path = path;
    s->z.next_in = s->buf;
    s->f = fopen(path, "rb");
    if (!s->f) {
        int e = errno;
        free(s);
        return failf(d, ACT_EIO, path, "cannot open (%s)", strerror(e));
    }
    int rc = src_fill(s, 2, d);
    if (rc == ACT_OK && s->z.avail_in >= 2 && s->buf[0] == 0x1f && s->buf[1] == 0x8b) {
        if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
            rc = ACT_ENOMEM;
        else
            s->gz = s->in_member = 1;
    }
    if (rc != ACT_OK) {
        src_close(s);
        return rc;
    }
    *out = s;
    return ACT_OK;
}

/* gz, between members: starts the next one (*more = 1) or finds the end of the file. */
static int src_next_member(src *s, int *more, act_diag *d)
{
    *more = 0;
    int rc = src_fill(s, 2, d);
    if (rc != ACT_OK || s->z.avail_in == 0)
        return rc;
    if (s->z.avail_in >= 2 && s->z.next_in[0] == 0x1f && s->z.next_in[1] == 0x8b) {
        inflateReset(&s->z);
        s->in_member = *more = 1;
        return ACT_OK;
    }
    size_t at = s->n_read - s->z.avail_in, extra = 0;
    while (s->z.avail_in > 0) {
        extra += s->z.avail_in;
        s->z.avail_in = 0;
        rc = src_fill(s, 1, d);
        if (rc != ACT_OK)
            return rc;
    }
    return failf(d, ACT_EFORMAT, s->path,
                 "%zu byte%s of trailing garbage after the gzip data (file offset %zu)", extra,
                 plural(extra), at);
}

static int src_inflate_error(src *s, int zr, act_diag *d)
{
    const char *m = s->z.msg ? s->z.msg : "invalid stream";
    size_t at = s->n_read - s->z.avail_in;
    if (zr == Z_MEM_ERROR)
        return ACT_ENOMEM;
    if (strcmp(m, "incorrect data check") == 0)
        return failf(d, ACT_EFORMAT, s->path, "corrupt compressed data: CRC mismatch "
                     "(the CRC-32 in the gzip trailer does not match the data)");
    if (strcmp(m, "incorrect length check") == 0)
        return failf(d, ACT_EFORMAT, s->path, "corrupt compressed data: length mismatch "
                     "(the gzip trailer's ISIZE does not match the data)");
    return failf(d, ACT_EFORMAT, s->path, "corrupt compressed data (%s, near file offset %zu)",
                 m, at);
}

/* Reads up to n bytes into p; *got < n only where the data end. Errors: EIO, EFORMAT (corrupt
 * or cut-off gzip, trailing garbage after the last member), ENOMEM. */
static int src_read(src *s, void *p, size_t n, size_t *got, act_diag *d)
{
    unsigned char *o = p;
    size_t left = n;
    int rc = ACT_OK;
    while (left > 0 && rc == ACT_OK) {
        if (!s->gz) {
            if (s->z.avail_in == 0 && left >= sizeof s->buf && !s->eof) {
                size_t r = fread(o, 1, left, s->f);   /* large reads skip the buffer */
                s->n_read += r;
                o += r;
                left -= r;
                if (left > 0 && ferror(s->f))
                    rc = failf(d, ACT_EIO, s->path, "read error (%s)", strerror(errno));
                else if (left > 0)
                    s->eof = 1;
                continue;
            }
            rc = src_fill(s, 1, d);
            if (rc != ACT_OK || s->z.avail_in == 0)
                break;
            size_t k = left < s->z.avail_in ? left : s->z.avail_in;
            memcpy(o, s->z.next_in, k);
            s->z.next_in += k;
            s->z.avail_in -= (uInt)k;
            o += k;
            left -= k;
            continue;
        }
        if (!s->in_member) {
            int more;
            rc = src_next_member(s, &more, d);
            if (rc != ACT_OK || !more)
                break;
        }
        rc = src_fill(s, 1, d);
        if (rc != ACT_OK)
            break;
        if (s->z.avail_in == 0) {
            rc = failf(d, ACT_EFORMAT, s->path,
                       "truncated: the gzip data end in the middle of a member");
            break;
        }
        uInt chunk = left > UINT_MAX ? UINT_MAX : (uInt)left;
        s->z.next_out = o;
        s->z.avail_out = chunk;
        int zr = inflate(&s->z, Z_NO_FLUSH);
        size_t made = chunk - s->z.avail_out;
        o += made;
        left -= made;
        if (zr == Z_STREAM_END)
            s->in_member = 0;
        else if (zr != Z_OK)        /* with input and room for output, Z_BUF_ERROR is too */
            rc = src_inflate_error(s, zr, d);
    }
    *got = n - left;
    return rc;
}

/* Reads exactly n bytes; a short read is EFORMAT with "truncated" + what. */
static int src_read_all(src *s, void *p, size_t n, const char *what, act_diag *d)
{
    size_t got;
    int rc = src_read(s, p, n, &got, d);
    if (rc == ACT_OK && got < n)
        rc = failf(d, ACT_EFORMAT, s->path, "truncated: %s", what);
    return rc;
}

/* After the m items (unit) the header declares, the file must end: no more data, and (gzip)
 * every trailer read and checked. */
static int src_finish(src *s, size_t m, const char *unit, act_diag *d)
{
    unsigned char tmp[4096];
    size_t extra = 0, got;
    do {
        int rc = src_read(s, tmp, sizeof tmp, &got, d);
        if (rc != ACT_OK)
            return rc;
        extra += got;
    } while (got == sizeof tmp);
    if (extra > 0)
        return failf(d, ACT_EFORMAT, s->path,
                     "%zu byte%s of trailing data after the %zu %s the header declares", extra,
                     plural(extra), m, unit);
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// IDX

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Opens an IDX file and checks magic (type 0x08 = unsigned byte, ndim); dims out. */
static int idx_open(const char *path, int ndim, uint32_t *dims, src **out, act_diag *d)
{
    src *s;
    int rc = src_open(path, &s, d);
    if (rc != ACT_OK)
        return rc;
    unsigned char h[16];
    rc = src_read_all(s, h, 4, "the file ends inside the header", d);
    if (rc == ACT_OK && (h[0] != 0 || h[1] != 0 || h[2] != 0x08 || h[3] != ndim))
        rc = failf(d, ACT_EFORMAT, path, "bad magic %02x%02x%02x%02x (expected 000008%02x: IDX %s)",
                   h[0], h[1], h[2], h[3], ndim, ndim == 3 ? "images" : "labels");
    else if (rc == ACT_OK)
        rc = src_read_all(s, h + 4, 4 * (size_t)ndim, "the file ends inside the header", d);
    if (rc != ACT_OK) {
        src_close(s);
        return rc;
    }
    for (int i = 0; i < ndim; i++)
        dims[i] = be32(h + 4 + 4 * i);
    *out = s;
    return ACT_OK;
}

int act_data_load_idx(const char *images, const char *labels, int n_classes, act_dataset *out,
                      act_diag *diag)
{
    if (!out)
        return ACT_EINVAL;
    memset(out, 0, sizeof *out);
    if (!images || !labels || n_classes < 1 || n_classes > 256)
        return ACT_EINVAL;
    uint32_t di[3], dl[1];
    src *fi = NULL, *fl = NULL;
    int rc = idx_open(images, 3, di, &fi, diag);
    if (rc != ACT_OK)
        return rc;
    if (di[0] == 0 || di[0] > ACT_DATA_MAX_IMAGES || di[1] == 0 || di[1] > MAX_SIDE ||
        di[2] == 0 || di[2] > MAX_SIDE || (size_t)di[0] * di[1] * di[2] > MAX_BYTES) {
        src_close(fi);
        return failf(diag, ACT_ELIMIT, images, "header claims %u images of %ux%u: outside the "
                     "limits (1..%u images, sides 1..%u, 4 GiB)", di[0], di[1], di[2],
                     ACT_DATA_MAX_IMAGES, MAX_SIDE);
    }
    rc = idx_open(labels, 1, dl, &fl, diag);
    if (rc != ACT_OK) {
        src_close(fi);
        return rc;
    }
    if (dl[0] != di[0]) {
        src_close(fi);
        src_close(fl);
        return failf(diag, ACT_EFORMAT, labels, "%u labels for %u images in %s", dl[0], di[0],
                     images);
    }
    size_t n = di[0], px = (size_t)di[1] * di[2];
    out->x = malloc(n * px);
    out->y = malloc(n);
    if (!out->x || !out->y)
        rc = ACT_ENOMEM;
    if (rc == ACT_OK)
        rc = src_read_all(fi, out->x, n * px, "the file ends before the data does", diag);
    if (rc == ACT_OK)
        rc = src_finish(fi, n, "images", diag);
    if (rc == ACT_OK)
        rc = src_read_all(fl, out->y, n, "the file ends before the data does", diag);
    if (rc == ACT_OK)
        rc = src_finish(fl, n, "labels", diag);
    src_close(fi);
    src_close(fl);
    if (rc != ACT_OK) {
        act_data_free(out);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if (out->y[i] >= n_classes) {
            failf(diag, ACT_EFORMAT, labels, "record %zu has label %d; expected 0..%d (%d "
                  "classes)", i, out->y[i], n_classes - 1, n_classes);
            act_data_free(out);
            return ACT_EFORMAT;
        }
    }
    out->n = n;
    out->c = 1;
    out->h = (int)di[1];
    out->w = (int)di[2];
    out->n_classes = n_classes;
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// CIFAR

/* Appends the records of one file to out (capacity *cap records). */
static int cifar_file(const char *path, int cifar100, act_dataset *out, size_t *cap,
                      unsigned char *buf, act_diag *d)
{
    size_t rec = 3072 + (cifar100 ? 2u : 1u), here = 0;
    unsigned k = cifar100 ? 100u : 10u;
    src *s;
    int rc = src_open(path, &s, d);
    if (rc != ACT_OK)
        return rc;
    for (;;) {
        size_t got;
        rc = src_read(s, buf, rec, &got, d);
        if (rc != ACT_OK || got == 0)
            break;
        if (got != rec) {
            rc = failf(d, ACT_EFORMAT, path, "truncated: %zu byte%s after record %zu: not a "
                       "whole number of %zu-byte CIFAR records", got, plural(got), here, rec);
            break;
        }
        unsigned label = buf[cifar100 ? 1 : 0];
        if (label >= k) {
            rc = failf(d, ACT_EFORMAT, path, "record %zu has label %u; expected 0..%u (%u "
                       "classes): not a CIFAR-%u file", here, label, k - 1, k, k);
            break;
        }
        if (out->n == *cap) {
            if (*cap == ACT_DATA_MAX_IMAGES) {
                rc = failf(d, ACT_ELIMIT, path, "more than %u records", ACT_DATA_MAX_IMAGES);
                break;
            }
            size_t nc = *cap ? *cap * 2 : 256;   /* grows with the records actually read */
            nc = nc > ACT_DATA_MAX_IMAGES ? ACT_DATA_MAX_IMAGES : nc;
            uint8_t *nx = realloc(out->x, nc * 3072);
            if (nx)
                out->x = nx;
            uint8_t *ny = nx ? realloc(out->y, nc) : NULL;
            if (!nx || !ny) {
                rc = ACT_ENOMEM;
                break;
            }
            out->y = ny;
            *cap = nc;
        }
        memcpy(out->x + out->n * 3072, buf + rec - 3072, 3072);
        out->y[out->n++] = (uint8_t)label;
        here++;
    }
    src_close(s);
    if (rc == ACT_OK && here == 0)
        rc = failf(d, ACT_EFORMAT, path, "empty file");
    return rc;
}

int act_data_load_cifar(const char *const *files, int n_files, int cifar100, act_dataset *out,
                        act_diag *diag)
{
    if (!files || n_files < 1 || !out)
        return ACT_EINVAL;
    memset(out, 0, sizeof *out);
    unsigned char *buf = malloc(3074);
    if (!buf)
        return ACT_ENOMEM;
    int rc = ACT_OK;
    size_t cap = 0;
    for (int fi = 0; fi < n_files && rc == ACT_OK; fi++)
        rc = cifar_file(files[fi], cifar100, out, &cap, buf, diag);
    free(buf);
    if (rc != ACT_OK) {
        act_data_free(out);
        return rc;
    }
    out->c = 3;
    out->h = out->w = 32;
    out->n_classes = cifar100 ? 100 : 10;
    return ACT_OK;
}

void act_data_free(act_dataset *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

/* dir/name, or dir/name.gz if only that exists. */
static void find_file(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s.gz", dir, name);
    FILE *f = fopen(out, "rb");
    if (f) {
        fclose(f);
        return;
    }
    snprintf(out, cap, "%s/%s", dir, name);
}

int act_data_open(const char *name, const char *dir, act_dataset *train, act_dataset *test,
                  act_diag *diag)
{
    if (!name || !train || !test)
        return ACT_EINVAL;
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    char a[1024], b[1024];
    int rc;
    if (strcmp(name, "fashion-mnist") == 0 || strcmp(name, "mnist") == 0) {
        if (!dir)
            dir = name[0] == 'f' ? "/usr/share/datasets/fashion-mnist" : "/usr/share/datasets/mnist";
        find_file(a, sizeof a, dir, "train-images-idx3-ubyte");
        find_file(b, sizeof b, dir, "train-labels-idx1-ubyte");
        rc = act_data_load_idx(a, b, 10, train, diag);
        if (rc != ACT_OK)
            return rc;
        find_file(a, sizeof a, dir, "t10k-images-idx3-ubyte");
        find_file(b, sizeof b, dir, "t10k-labels-idx1-ubyte");
        rc = act_data_load_idx(a, b, 10, test, diag);
    } else if (strcmp(name, "cifar10") == 0) {
        if (!dir)
            dir = "data/cifar-10-batches-bin";
        char f[5][1024];
        const char *fp[5];
        for (int i = 0; i < 5; i++) {
            char nm[32];
            snprintf(nm, sizeof nm, "data_batch_%d.bin", i + 1);
            find_file(f[i], sizeof f[i], dir, nm);
            fp[i] = f[i];
        }
        rc = act_data_load_cifar(fp, 5, 0, train, diag);
        if (rc != ACT_OK)
            return rc;
        find_file(a, sizeof a, dir, "test_batch.bin");
        const char *t1[1] = { a };
        rc = act_data_load_cifar(t1, 1, 0, test, diag);
    } else if (strcmp(name, "cifar100") == 0) {
        if (!dir)
            dir = "data/cifar-100-binary";
        find_file(a, sizeof a, dir, "train.bin");
        const char *t0[1] = { a };
        rc = act_data_load_cifar(t0, 1, 1, train, diag);
        if (rc != ACT_OK)
            return rc;
        find_file(b, sizeof b, dir, "test.bin");
        const char *t1[1] = { b };
        rc = act_data_load_cifar(t1, 1, 1, test, diag);
    } else {
        if (diag)
            snprintf(diag->msg, sizeof diag->msg,
                     "unknown data set '%s' (fashion-mnist, mnist, cifar10, cifar100)", name);
        return ACT_ENOTFOUND;
    }
    if (rc != ACT_OK) {
        act_data_free(train);
        return rc;
    }
    if (train->c != test->c || train->h != test->h || train->w != test->w) {
        act_data_free(train);
        act_data_free(test);
        if (diag)
            snprintf(diag->msg, sizeof diag->msg, "%s: train and test images differ in shape", name);
        return ACT_EFORMAT;
    }
    return ACT_OK;   /* n_classes: the data set's (10 or 100), set by the loaders */
}
