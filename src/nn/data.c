/* data.c -- data set readers: IDX (MNIST, Fashion-MNIST; gzip or plain through zlib) and the
 * CIFAR-10/100 binary format. Every header field is checked before anything is allocated, and
 * every error names the file and the problem (act_diag). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nn/nn_impl.h"

#define MAX_SIDE 4096u
#define MAX_BYTES ((size_t)1 << 32)

static int fail(act_diag *d, int rc, const char *path, const char *what)
{
    if (d) {
        d->line = d->col = 0;
        snprintf(d->msg, sizeof d->msg, "%s: %s", path, what);
    }
    return rc;
}

/* Reads exactly n bytes; ACT_OK, or EFORMAT (short: truncated / corrupt gzip) or EIO. */
static int read_all(gzFile f, void *buf, size_t n, const char *path, act_diag *d)
{
    unsigned char *p = buf;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(f, p, chunk);
        if (got < 0) {
            int err;
            const char *m = gzerror(f, &err);
            char buf2[160];
            snprintf(buf2, sizeof buf2, "corrupt compressed data (%s)", m ? m : "zlib error");
            return fail(d, err == Z_ERRNO ? ACT_EIO : ACT_EFORMAT, path, buf2);
        }
        if (got == 0)
            return fail(d, ACT_EFORMAT, path, "truncated: the file ends before the data does");
        p += got;
        n -= (size_t)got;
    }
    return ACT_OK;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Opens an IDX file and checks magic (type 0x08 = unsigned byte, ndim); dims out. */
static int idx_open(const char *path, int ndim, uint32_t *dims, gzFile *out, act_diag *d)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return fail(d, ACT_EIO, path, "cannot open");
    unsigned char h[16];
    int rc = read_all(f, h, 4, path, d);
    if (rc == ACT_OK && (h[0] != 0 || h[1] != 0 || h[2] != 0x08 || h[3] != ndim)) {
        char m[96];
        snprintf(m, sizeof m, "bad magic %02x%02x%02x%02x (expected 000008%02x: IDX %s)", h[0],
                 h[1], h[2], h[3], ndim, ndim == 3 ? "images" : "labels");
        rc = fail(d, ACT_EFORMAT, path, m);
    } else if (rc == ACT_OK) {
        rc = read_all(f, h + 4, 4 * (size_t)ndim, path, d);
        if (rc == ACT_EFORMAT)
            fail(d, rc, path, "truncated header");
    } else if (rc == ACT_EFORMAT) {
        fail(d, rc, path, "truncated header");
    }
    if (rc != ACT_OK) {
        gzclose(f);
        return rc;
    }
    for (int i = 0; i < ndim; i++)
        dims[i] = be32(h + 4 + 4 * i);
    *out = f;
    return ACT_OK;
}

int act_data_load_idx(const char *images, const char *labels, act_dataset *out, act_diag *diag)
{
    if (!images || !labels || !out)
        return ACT_EINVAL;
    memset(out, 0, sizeof *out);
    uint32_t di[3], dl[1];
    gzFile fi = NULL, fl = NULL;
    int rc = idx_open(images, 3, di, &fi, diag);
    if (rc != ACT_OK)
        return rc;
    char m[160];
    if (di[0] == 0 || di[0] > ACT_DATA_MAX_IMAGES || di[1] == 0 || di[1] > MAX_SIDE ||
        di[2] == 0 || di[2] > MAX_SIDE || (size_t)di[0] * di[1] * di[2] > MAX_BYTES) {
        snprintf(m, sizeof m, "header claims %u images of %ux%u: outside the limits "
                 "(1..%u images, sides 1..%u, 4 GiB)", di[0], di[1], di[2],
                 ACT_DATA_MAX_IMAGES, MAX_SIDE);
        gzclose(fi);
        return fail(diag, ACT_ELIMIT, images, m);
    }
    rc = idx_open(labels, 1, dl, &fl, diag);
    if (rc != ACT_OK) {
        gzclose(fi);
        return rc;
    }
    if (dl[0] != di[0]) {
        snprintf(m, sizeof m, "%u labels for %u images in %s", dl[0], di[0], images);
        gzclose(fi);
        gzclose(fl);
        return fail(diag, ACT_EFORMAT, labels, m);
    }
    size_t n = di[0], px = (size_t)di[1] * di[2];
    out->x = malloc(n * px);
    out->y = malloc(n);
    if (!out->x || !out->y) {
        rc = ACT_ENOMEM;
    } else {
        rc = read_all(fi, out->x, n * px, images, diag);
        if (rc == ACT_OK)
            rc = read_all(fl, out->y, n, labels, diag);
    }
    gzclose(fi);
    gzclose(fl);
    if (rc != ACT_OK) {
        act_data_free(out);
        return rc;
    }
    int maxl = 0;
    for (size_t i = 0; i < n; i++)
        maxl = out->y[i] > maxl ? out->y[i] : maxl;
    out->n = n;
    out->c = 1;
    out->h = (int)di[1];
    out->w = (int)di[2];
    out->n_classes = maxl + 1 < 2 ? 2 : maxl + 1;
    return ACT_OK;
}

int act_data_load_cifar(const char *const *files, int n_files, int cifar100, act_dataset *out,
                        act_diag *diag)
{
    if (!files || n_files < 1 || !out)
        return ACT_EINVAL;
    memset(out, 0, sizeof *out);
    size_t rec = 3072 + (cifar100 ? 2u : 1u), cap = 0, n = 0;
    unsigned char *buf = malloc(rec);
    if (!buf)
        return ACT_ENOMEM;
    int rc = ACT_OK;
    for (int fi = 0; fi < n_files && rc == ACT_OK; fi++) {
        gzFile f = gzopen(files[fi], "rb");
        if (!f) {
            rc = fail(diag, ACT_EIO, files[fi], "cannot open");
            break;
        }
        size_t here = 0;
        for (;;) {
            int got = gzread(f, buf, (unsigned)rec);
            if (got == 0)
                break;
            if (got < 0) {
                rc = fail(diag, ACT_EFORMAT, files[fi], "corrupt compressed data");
                break;
            }
            if ((size_t)got != rec) {
                rc = fail(diag, ACT_EFORMAT, files[fi],
                          "truncated: size is not a whole number of CIFAR records");
                break;
            }
            unsigned label = buf[cifar100 ? 1 : 0];
            if (label >= (cifar100 ? 100u : 10u)) {
                rc = fail(diag, ACT_EFORMAT, files[fi], "label out of range: not a CIFAR file");
                break;
            }
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 10000;
                if (nc > ACT_DATA_MAX_IMAGES) {
                    rc = fail(diag, ACT_ELIMIT, files[fi], "too many records");
                    break;
                }
                uint8_t *nx = realloc(out->x, nc * 3072), *ny;
                if (nx)
                    out->x = nx;
                ny = nx ? realloc(out->y, nc) : NULL;
                if (!nx || !ny) {
                    rc = ACT_ENOMEM;
                    break;
                }
                out->y = ny;
                cap = nc;
            }
            memcpy(out->x + n * 3072, buf + rec - 3072, 3072);
            out->y[n] = (uint8_t)label;
            n++;
            here++;
        }
        gzclose(f);
        if (rc == ACT_OK && here == 0)
            rc = fail(diag, ACT_EFORMAT, files[fi], "empty file");
    }
    free(buf);
    if (rc != ACT_OK) {
        act_data_free(out);
        return rc;
    }
    out->n = n;
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
        rc = act_data_load_idx(a, b, train, diag);
        if (rc != ACT_OK)
            return rc;
        find_file(a, sizeof a, dir, "t10k-images-idx3-ubyte");
        find_file(b, sizeof b, dir, "t10k-labels-idx1-ubyte");
        rc = act_data_load_idx(a, b, test, diag);
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
    int k = train->n_classes > test->n_classes ? train->n_classes : test->n_classes;
    train->n_classes = test->n_classes = k;
    return ACT_OK;
}
