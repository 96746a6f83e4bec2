/* test_nn_data.c -- the data readers' integrity checks: corrupt gzip (a flipped data byte, CRC or
 * length), trailing bytes after a plain file or a gzip stream, concatenated gzip members, and
 * labels outside the data set's class count (act_data_load_idx's n_classes, act_data_open's
 * fixed counts). Small synthetic files in a mkdtemp directory. The older format checks (magic,
 * truncation, hostile headers) are in test_nn_train.c (nn_idx_reader). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "actlab/nn.h"
#include "test.h"

// ----------------------------------------------------------------------------
// file helpers

static void put32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

/* Writes p[0..n) to path: plain (level < 0) or as one gzip member at that level ("a": appends
 * another member). */
static void write_data(const char *path, const void *p, size_t n, int level, int append)
{
    if (level < 0) {
        FILE *f = fopen(path, append ? "ab" : "wb");
        CHECK(f != NULL);
        if (!f)
            return;
        CHECK(fwrite(p, 1, n, f) == n);
        fclose(f);
        return;
    }
    char mode[8];
    snprintf(mode, sizeof mode, "%sb%d", append ? "a" : "w", level);
    gzFile f = gzopen(path, mode);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(gzwrite(f, p, (unsigned)n) == (int)n);
    CHECK(gzclose(f) == Z_OK);
}

/* Reads the whole file; *n its size. Caller frees. */
static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    unsigned char *b = malloc(size > 0 ? (size_t)size : 1);
    *n = fread(b, 1, size > 0 ? (size_t)size : 0, f);
    fclose(f);
    return b;
}

/* XORs byte i of the file (i < 0: counted from the end) with 0x55. */
static void flip(const char *path, long i)
{
    size_t n;
    unsigned char *b = slurp(path, &n);
    if (!b)
        return;
    size_t at = i < 0 ? n - (size_t)-i : (size_t)i;
    CHECK(at < n);
    b[at] ^= 0x55;
    write_data(path, b, n, -1, 0);
    free(b);
}

/* IDX images: count images of 2x2, pixel j of the file = 7 * j + 1. */
static size_t idx_images(unsigned char *b, uint32_t count)
{
    put32(b, 0x803);
    put32(b + 4, count);
    put32(b + 8, 2);
    put32(b + 12, 2);
    for (uint32_t j = 0; j < 4 * count; j++)
        b[16 + j] = (unsigned char)(7 * j + 1);
    return 16 + 4 * (size_t)count;
}

static size_t idx_labels(unsigned char *b, uint32_t count, const unsigned char *labels)
{
    put32(b, 0x801);
    put32(b + 4, count);
    memcpy(b + 8, labels, count);
    return 8 + (size_t)count;
}

typedef struct tmp { char dir[64], img[128], lab[128], cf[128]; } tmp;

static int tmp_make(tmp *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/actlab-data-XXXXXX");
    CHECK(mkdtemp(t->dir) != NULL);
    snprintf(t->img, sizeof t->img, "%s/img", t->dir);
    snprintf(t->lab, sizeof t->lab, "%s/lab", t->dir);
    snprintf(t->cf, sizeof t->cf, "%s/c.bin", t->dir);
    return t->dir[0] != 0;
}

static void tmp_remove(const tmp *t)
{
    remove(t->img);
    remove(t->lab);
    remove(t->cf);
    CHECK(rmdir(t->dir) == 0);
}

/* act_data_load_idx must fail with rc and a message naming path and containing what. */
static void expect_idx(const tmp *t, int rc_want, const char *path, const char *what, int line)
{
    act_dataset d;
    act_diag dg;
    dg.msg[0] = 0;
    int rc = act_data_load_idx(t->img, t->lab, 10, &d, &dg);
    CHECKF(rc == rc_want && strstr(dg.msg, path) && strstr(dg.msg, what),
           "line %d: rc %d (want %d), msg '%s' (want '%s' and '%s')", line, rc, rc_want, dg.msg,
           path, what);
    if (rc == ACT_OK)
        act_data_free(&d);
    CHECK(d.x == NULL && d.y == NULL && d.n == 0);
}

// ----------------------------------------------------------------------------
// corrupt gzip: the data inflates, only the trailer can tell

/* Writes one gzip member of p[0..n) with stored (level 0) deflate blocks, so the data appear
 * verbatim and file byte -9 is the last data byte. The header's file name pads the member so
 * that the 8-byte trailer starts on a multiple of 8192 bytes: zlib's gzread reads its input in
 * 8 KiB chunks, so a reader that stops at the last data byte never loads the trailer. */
static void write_gz_aligned(const char *path, const void *p, size_t n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    CHECK(deflateInit2(&z, 0, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    size_t cap = deflateBound(&z, (uLong)n);
    unsigned char *out = malloc(cap + 8192 + 32);
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    size_t pad = 0;
    unsigned char *body = out + 8192 + 16;   /* deflate data, moved into place below */
    z.next_out = body;
    z.avail_out = (uInt)cap;
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    size_t dlen = z.total_out;
    deflateEnd(&z);
    pad = (8192 - (10 + 1 + dlen) % 8192) % 8192;   /* name bytes before its NUL */
    static const unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3 };  /* FNAME */
    memcpy(out, hdr, 10);
    memset(out + 10, 'a', pad);
    out[10 + pad] = 0;
    memmove(out + 11 + pad, body, dlen);
    size_t at = 11 + pad + dlen;
    uLong crc = crc32(crc32(0, NULL, 0), p, (uInt)n);
    for (int i = 0; i < 4; i++)
        out[at + (size_t)i] = (unsigned char)(crc >> 8 * i);
    for (int i = 0; i < 4; i++)
        out[at + 4 + (size_t)i] = (unsigned char)(n >> 8 * i);
    CHECK(at % 8192 == 0);
    write_data(path, out, at + 8, -1, 0);
    free(out);
}

/* IDX images: 100 images of 28x28 (pseudo-random pixels, > 64 KiB: several stored blocks). */
static size_t idx_images_big(unsigned char *b)
{
    put32(b, 0x803);
    put32(b + 4, 100);
    put32(b + 8, 28);
    put32(b + 12, 28);
    uint32_t s = 12345;
    for (size_t j = 0; j < 100 * 784; j++) {
        s = s * 1103515245u + 12345u;
        b[16 + j] = (unsigned char)(s >> 16);
    }
    return 16 + 100 * 784;
}

void test_nn_data_gzip_crc(void)
{
    tmp t;
    if (!tmp_make(&t))
        return;
    unsigned char *ib = malloc(16 + 100 * 784), lb[8 + 100], lab100[100] = { 0 };
    size_t ni = idx_images_big(ib), nl = idx_labels(lb, 100, lab100);
    write_data(t.lab, lb, nl, -1, 0);

    /* The well-formed file loads. */
    write_gz_aligned(t.img, ib, ni);
    act_dataset d;
    act_diag dg;
    int rc = act_data_load_idx(t.img, t.lab, 10, &d, &dg);
    CHECKF(rc == ACT_OK && d.n == 100 && d.h == 28 && d.x[100 * 784 - 1] == ib[ni - 1], "%s",
           dg.msg);
    act_data_free(&d);

    /* The last pixel flipped: it inflates without complaint; only the CRC-32 shows it. */
    flip(t.img, -9);
    expect_idx(&t, ACT_EFORMAT, t.img, "corrupt compressed data: CRC mismatch", __LINE__);
    /* A CRC-32 byte flipped, then an ISIZE byte. */
    write_gz_aligned(t.img, ib, ni);
    flip(t.img, -8);
    expect_idx(&t, ACT_EFORMAT, t.img, "corrupt compressed data: CRC mismatch", __LINE__);
    write_gz_aligned(t.img, ib, ni);
    flip(t.img, -1);
    expect_idx(&t, ACT_EFORMAT, t.img, "corrupt compressed data: length mismatch", __LINE__);

    /* A small compressed file, CRC flipped: zlib's read-ahead meets the trailer while reading
     * the header; the message must still say what is wrong (it said "truncated header"). */
    put32(ib + 4, 3);
    write_data(t.img, ib, 16 + 3 * 784, 6, 0);
    put32(ib + 4, 100);
    put32(lb + 4, 3);
    write_data(t.lab, lb, 8 + 3, -1, 0);
    put32(lb + 4, 100);
    flip(t.img, -8);
    expect_idx(&t, ACT_EFORMAT, t.img, "corrupt compressed data: CRC mismatch", __LINE__);

    /* The labels file goes through the same reader. */
    write_data(t.img, ib, ni, -1, 0);
    write_gz_aligned(t.lab, lb, nl);
    flip(t.lab, -7);
    expect_idx(&t, ACT_EFORMAT, t.lab, "CRC mismatch", __LINE__);
    free(ib);

    /* CIFAR-10, gzip, CRC flipped: the record loop reads to the end, the error names it. */
    unsigned char *rec = calloc(2, 3073);
    rec[0] = 3;
    rec[3073] = 9;
    write_data(t.cf, rec, 2 * 3073, 6, 0);
    flip(t.cf, -6);
    const char *files[1] = { t.cf };
    dg.msg[0] = 0;
    rc = act_data_load_cifar(files, 1, 0, &d, &dg);
    CHECKF(rc == ACT_EFORMAT && strstr(dg.msg, t.cf) && strstr(dg.msg, "CRC mismatch"),
           "cifar: rc %d, %s", rc, dg.msg);
    free(rec);
    tmp_remove(&t);
}

// ----------------------------------------------------------------------------
// trailing bytes: after a plain file, after a gzip member, inside the decompressed data

void test_nn_data_trailing(void)
{
    tmp t;
    if (!tmp_make(&t))
        return;
    unsigned char ib[16 + 4 * 3 + 8], lb[8 + 3 + 8], lab3[3] = { 2, 0, 1 };
    size_t ni = idx_images(ib, 3), nl = idx_labels(lb, 3, lab3);
    memcpy(ib + ni, "garbage!", 8);
    memcpy(lb + nl, "garbage!", 8);
    act_dataset d;
    act_diag dg;

    /* plain: 5 bytes after the images, 1 after the labels */
    write_data(t.img, ib, ni + 5, -1, 0);
    write_data(t.lab, lb, nl, -1, 0);
    expect_idx(&t, ACT_EFORMAT, t.img, "5 bytes of trailing data after the 3 images", __LINE__);
    write_data(t.img, ib, ni, -1, 0);
    write_data(t.lab, lb, nl + 1, -1, 0);
    expect_idx(&t, ACT_EFORMAT, t.lab, "1 byte of trailing data after the 3 labels", __LINE__);

    /* gzip: 4 extra bytes inside the member */
    write_data(t.lab, lb, nl, -1, 0);
    write_data(t.img, ib, ni + 4, 6, 0);
    expect_idx(&t, ACT_EFORMAT, t.img, "4 bytes of trailing data after the 3 images", __LINE__);

    /* gzip: bytes after the member that are not another member */
    write_data(t.img, ib, ni, 6, 0);
    write_data(t.img, "garbage!", 8, -1, 1);
    expect_idx(&t, ACT_EFORMAT, t.img, "8 bytes of trailing garbage after the gzip data",
               __LINE__);
    write_data(t.img, ib, ni, 6, 0);
    write_data(t.img, "\x1f", 1, -1, 1);
    expect_idx(&t, ACT_EFORMAT, t.img, "1 byte of trailing garbage", __LINE__);

    /* Concatenated members are one gzip file (RFC 1952, `cat a.gz b.gz`): accepted when the
     * data ends with the last member, trailing data when a member goes beyond. */
    write_data(t.img, ib, 20, 6, 0);
    write_data(t.img, ib + 20, ni - 20, 1, 1);
    int rc = act_data_load_idx(t.img, t.lab, 10, &d, &dg);
    CHECKF(rc == ACT_OK && d.n == 3 && d.x[11] == 78 && d.y[0] == 2, "members: %s", dg.msg);
    act_data_free(&d);
    write_data(t.img, "garbage!", 8, 6, 1);
    expect_idx(&t, ACT_EFORMAT, t.img, "8 bytes of trailing data after the 3 images", __LINE__);

    /* CIFAR-10: a gzip member then garbage; a plain file's partial record stays "truncated" */
    unsigned char *rec = calloc(3, 3073);   /* the last case writes 7 bytes past two records */
    rec[0] = 3;
    rec[3073] = 9;
    write_data(t.cf, rec, 2 * 3073, 6, 0);
    write_data(t.cf, "xyz", 3, -1, 1);
    const char *files[1] = { t.cf };
    dg.msg[0] = 0;
    rc = act_data_load_cifar(files, 1, 0, &d, &dg);
    CHECKF(rc == ACT_EFORMAT && strstr(dg.msg, t.cf) &&
           strstr(dg.msg, "3 bytes of trailing garbage"), "cifar: rc %d, %s", rc, dg.msg);
    write_data(t.cf, rec, 2 * 3073 + 7, -1, 0);
    rc = act_data_load_cifar(files, 1, 0, &d, &dg);
    CHECKF(rc == ACT_EFORMAT && strstr(dg.msg, t.cf) && strstr(dg.msg, "truncated"),
           "cifar: rc %d, %s", rc, dg.msg);
    free(rec);
    tmp_remove(&t);
}

// ----------------------------------------------------------------------------
// labels: the class count is the data set's, never inferred from the labels

/* Writes an MNIST-named set (train 3 images, test 2) into dir, gzip; labels as given. */
static void write_mnist(const char *dir, const unsigned char *train_y, const unsigned char *test_y)
{
    char p[160];
    unsigned char b[64];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", dir);
    write_data(p, b, idx_images(b, 3), 6, 0);
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte.gz", dir);
    write_data(p, b, idx_labels(b, 3, train_y), 6, 0);
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte.gz", dir);
    write_data(p, b, idx_images(b, 2), 6, 0);
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte.gz", dir);
    write_data(p, b, idx_labels(b, 2, test_y), 6, 0);
}

static void remove_mnist(const char *dir)
{
    static const char *const names[] = { "train-images-idx3-ubyte.gz",
                                         "train-labels-idx1-ubyte.gz",
                                         "t10k-images-idx3-ubyte.gz",
                                         "t10k-labels-idx1-ubyte.gz" };
    for (int i = 0; i < 4; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        remove(p);
    }
}

void test_nn_data_labels(void)
{
    tmp t;
    if (!tmp_make(&t))
        return;
    act_dataset tr, te;
    act_diag dg;

    /* valid: labels 0..3 only, still a 10-class problem */
    write_mnist(t.dir, (const unsigned char[]){ 0, 3, 1 }, (const unsigned char[]){ 2, 0 });
    int rc = act_data_open("mnist", t.dir, &tr, &te, &dg);
    CHECKF(rc == ACT_OK && tr.n == 3 && te.n == 2 && tr.n_classes == 10 && te.n_classes == 10,
           "rc %d, classes %d/%d: %s", rc, tr.n_classes, te.n_classes, rc ? dg.msg : "");
    act_data_free(&tr);
    act_data_free(&te);

    /* label 200 in the training labels: not a 201-way classifier */
    write_mnist(t.dir, (const unsigned char[]){ 0, 200, 1 }, (const unsigned char[]){ 2, 0 });
    dg.msg[0] = 0;
    rc = act_data_open("mnist", t.dir, &tr, &te, &dg);
    CHECKF(rc == ACT_EFORMAT && strstr(dg.msg, "train-labels-idx1-ubyte") &&
           strstr(dg.msg, "record 1 has label 200; expected 0..9 (10 classes)"),
           "rc %d, classes %d: %s", rc, tr.n_classes, dg.msg);
    CHECK(tr.x == NULL && te.x == NULL);
    act_data_free(&tr);
    act_data_free(&te);

    /* label 255 in the test labels: not a test accuracy of 0 with status ok */
    write_mnist(t.dir, (const unsigned char[]){ 0, 9, 1 }, (const unsigned char[]){ 2, 255 });
    dg.msg[0] = 0;
    rc = act_data_open("fashion-mnist", t.dir, &tr, &te, &dg);
    CHECKF(rc == ACT_EFORMAT && strstr(dg.msg, "t10k-labels-idx1-ubyte") &&
           strstr(dg.msg, "record 1 has label 255; expected 0..9 (10 classes)"),
           "rc %d, classes %d: %s", rc, te.n_classes, dg.msg);
    CHECK(tr.x == NULL && te.x == NULL);
    act_data_free(&tr);
    act_data_free(&te);
    remove_mnist(t.dir);

    /* act_data_load_idx takes the class count: labels 0, 4, 1 are a 5-way problem, not 4-way */
    unsigned char b[64];
    write_data(t.img, b, idx_images(b, 3), -1, 0);
    write_data(t.lab, b, idx_labels(b, 3, (const unsigned char[]){ 0, 4, 1 }), -1, 0);
    act_dataset d;
    rc = act_data_load_idx(t.img, t.lab, 5, &d, &dg);
    CHECKF(rc == ACT_OK && d.n_classes == 5 && d.y[1] == 4, "%s", dg.msg);
    act_data_free(&d);
    dg.msg[0] = 0;
    rc = act_data_load_idx(t.img, t.lab, 4, &d, &dg);
    CHECKF(rc == ACT_EFORMAT && strstr(dg.msg, t.lab) &&
           strstr(dg.msg, "record 1 has label 4; expected 0..3 (4 classes)") && d.x == NULL,
           "%s", dg.msg);
    CHECK(act_data_load_idx(t.img, t.lab, 0, &d, &dg) == ACT_EINVAL && d.x == NULL);
    CHECK(act_data_load_idx(t.img, t.lab, 257, &d, &dg) == ACT_EINVAL && d.x == NULL);
    write_data(t.lab, b, idx_labels(b, 3, (const unsigned char[]){ 255, 0, 1 }), -1, 0);
    rc = act_data_load_idx(t.img, t.lab, 256, &d, &dg);
    CHECKF(rc == ACT_OK && d.n_classes == 256 && d.y[0] == 255, "%s", dg.msg);
    act_data_free(&d);

    /* CIFAR-100: the fine label (second byte) is checked against 100 classes */
    unsigned char *rec = calloc(1, 3074);
    rec[0] = 19;
    rec[1] = 100;
    write_data(t.cf, rec, 3074, -1, 0);
    const char *files[1] = { t.cf };
    dg.msg[0] = 0;
    rc = act_data_load_cifar(files, 1, 1, &d, &dg);
    CHECKF(rc == ACT_EFORMAT && strstr(dg.msg, t.cf) &&
           strstr(dg.msg, "record 0 has label 100; expected 0..99 (100 classes)"), "%s", dg.msg);
    rec[1] = 99;
    write_data(t.cf, rec, 3074, -1, 0);
    rc = act_data_load_cifar(files, 1, 1, &d, &dg);
    CHECKF(rc == ACT_OK && d.n == 1 && d.n_classes == 100 && d.y[0] == 99, "%s", dg.msg);
    act_data_free(&d);
    free(rec);
    tmp_remove(&t);
}
