/* ckpt.c -- checkpoints: a header (magic, version, sizes, model fingerprint, epoch, optimiser
 * kind and step, dropout RNG), the parameter block, the optimiser moments, the record of every
 * completed epoch, the run's configuration text, and a CRC-32 of it all. Written through
 * act_file (src/util/file.c) with ACT_FILE_DURABLE: a unique temporary file in the same
 * directory, fsynced, renamed over PATH and the directory fsynced, so a crash leaves the old
 * checkpoint or the new one, never a mix. Every field read back is
 * range-checked before it is used, and the file's size must be exactly what the header says. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "actlab/file.h"
#include "nn/nn_impl.h"

#define MAGIC "ACTLCKP2"
#define VERSION 2u
#define HIST_DOUBLES 11   /* act_epoch_stats as stored: see put_stats */
#define MAX_PARAMS ((uint64_t)1 << 32)

typedef struct ckpt_header {
    char     magic[8];
    uint32_t version, header_bytes;
    uint64_t n_params, n_opt, fingerprint, opt_step, rng;
    int32_t  epoch, opt_kind;      /* opt_kind -1: no optimiser state */
    uint32_t n_hist, info_len;
} ckpt_header;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* The model spec, every segment's name and size, and every activation layer's function name:
 * swish and an expression with one parameter "beta" have the same segments. */
static uint64_t fingerprint(const act_net *net)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv(h, net->model, strlen(net->model));
    for (int i = 0; i < net->n_segs; i++) {
        h = fnv(h, net->segs[i].name, strlen(net->segs[i].name));
        h = fnv(h, &net->segs[i].size, sizeof net->segs[i].size);
    }
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].kind == ACTI_L_ACT && net->layers[i].fn && net->layers[i].fn->name)
            h = fnv(h, net->layers[i].fn->name, strlen(net->layers[i].fn->name) + 1);
    return h;
}

static void put_stats(double *d, const act_epoch_stats *s)
{
    const double v[HIST_DOUBLES] = { (double)s->epoch, s->train_loss, s->train_acc, s->val_loss,
                                     s->val_acc, s->test_loss, s->test_acc, s->seconds,
                                     s->images_per_s, s->lr, s->wall_s };
    memcpy(d, v, sizeof v);
}

static void get_stats(const double *d, act_epoch_stats *s)
{
    memset(s, 0, sizeof *s);
    s->epoch = (int)d[0];
    s->train_loss = d[1];
    s->train_acc = d[2];
    s->val_loss = d[3];
    s->val_acc = d[4];
    s->test_loss = d[5];
    s->test_acc = d[6];
    s->seconds = d[7];
    s->images_per_s = d[8];
    s->lr = d[9];
    s->wall_s = d[10];
}

int act_ckpt_save(const char *path, const act_net *net, act_optim *opt, const act_ckpt_meta *m)
{
    if (!path || !net || !m || m->epoch < 0 || m->epoch > ACT_TRAIN_MAX_EPOCHS ||
        (m->epoch > 0 && !m->hist))
        return ACT_EINVAL;
    size_t info_len = m->info ? strlen(m->info) : 0;
    if (info_len > ACT_CKPT_MAX_INFO)
        return ACT_ELIMIT;
    for (int i = 0; i < m->epoch; i++)
        if (m->hist[i].epoch != i + 1)
            return ACT_EINVAL;
    size_t n_opt = 0;
    const float *st = opt ? act_optim_state(opt, &n_opt) : NULL;
    ckpt_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.version = VERSION;
    h.header_bytes = (uint32_t)sizeof h;
    h.n_params = net->n_params;
    h.n_opt = n_opt;
    h.fingerprint = fingerprint(net);
    h.opt_step = opt ? *act_optim_step_count(opt) : 0;
    h.rng = net->rng;
    h.epoch = m->epoch;
    h.opt_kind = opt ? (int32_t)act_optim_kind(opt) : -1;
    h.n_hist = (uint32_t)m->epoch;
    h.info_len = (uint32_t)info_len;
    double *hist = malloc(((size_t)m->epoch + 1) * HIST_DOUBLES * sizeof(double));
    if (!hist)
        return ACT_ENOMEM;
    for (int i = 0; i < m->epoch; i++)
        put_stats(hist + (size_t)i * HIST_DOUBLES, &m->hist[i]);
    size_t hist_bytes = (size_t)m->epoch * HIST_DOUBLES * sizeof(double);

    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, (const Bytef *)&h, sizeof h);
    crc = crc32_z(crc, (const Bytef *)net->params, net->n_params * sizeof(float));
    if (n_opt)
        crc = crc32_z(crc, (const Bytef *)st, n_opt * sizeof(float));
    crc = crc32_z(crc, (const Bytef *)hist, hist_bytes);
    if (info_len)
        crc = crc32_z(crc, (const Bytef *)m->info, info_len);
    uint32_t c32 = (uint32_t)crc;

    /* act_file: a unique temporary file (two processes saving to one path never share one),
     * fsync'ed, renamed, and the directory fsync'ed, a failure of which is an error here: the
     * checkpoint promises durability. */
    act_file f;
    act_diag d;
    int rc = act_file_open(&f, path, ACT_FILE_DURABLE, &d);
    if (rc == ACT_OK) {
        if (act_file_write(&f, &h, sizeof h) != ACT_OK ||
            act_file_write(&f, net->params, net->n_params * sizeof(float)) != ACT_OK ||
            act_file_write(&f, st, n_opt * sizeof(float)) != ACT_OK ||
            act_file_write(&f, hist, hist_bytes) != ACT_OK ||
            act_file_write(&f, m->info, info_len) != ACT_OK ||
            act_file_write(&f, &c32, sizeof c32) != ACT_OK) {
            act_file_abort(&f);
            rc = ACT_EIO;
        } else {
            rc = act_file_commit(&f, &d);
        }
    }
    free(hist);
    /* the statuses of before act_file (no act_diag here): ACT_EIO for any file error */
    return rc == ACT_OK || rc == ACT_ENOMEM ? rc : ACT_EIO;
}

void act_ckpt_meta_free(act_ckpt_meta *m)
{
    if (!m)
        return;
    free(m->info);
    free(m->hist);
    memset(m, 0, sizeof *m);
}

/* The whole file, checked: size, header fields, CRC, the record. On success *buf owns the
 * bytes and *hp is the header; the caller frees *buf. */
static int read_checked(const char *path, ckpt_header *hp, unsigned char **buf, act_diag *diag)
{
    *buf = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(diag->msg, sizeof diag->msg, "%s: cannot open: %s", path, strerror(errno));
        return ACT_EIO;
    }
    struct stat sb;
    const char *why = NULL;
    char whybuf[160];
    ckpt_header h;
    unsigned char *b = NULL;
    int rc = ACT_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        why = "not a regular file";
    } else if ((size_t)sb.st_size < sizeof h + 4) {
        why = "truncated (shorter than a checkpoint header)";
    } else {
        ssize_t k = pread(fd, &h, sizeof h, 0);
        if (k != (ssize_t)sizeof h)
            why = "cannot read the header";
    }
    if (!why && (memcmp(h.magic, MAGIC, 8) != 0 || h.version != VERSION ||
                 h.header_bytes != sizeof h)) {
        why = memcmp(h.magic, "ACTLCKP1", 8) == 0
                  ? "a checkpoint of an older actlab (format 1: no run configuration); start a "
                    "new run"
                  : "not an actlab checkpoint (bad magic or version)";
    }
    uint64_t want = 0;
    if (!why) {
        /* Every count is bounded before it enters a size computation. */
        if (h.n_params == 0 || h.n_params > MAX_PARAMS || h.n_opt > 2 * h.n_params) {
            snprintf(whybuf, sizeof whybuf, "header claims %llu parameters and %llu optimiser "
                     "floats: outside the limits", (unsigned long long)h.n_params,
                     (unsigned long long)h.n_opt);
            why = whybuf;
        } else if (h.epoch < 0 || h.epoch > ACT_TRAIN_MAX_EPOCHS ||
                   h.n_hist != (uint32_t)h.epoch) {
            snprintf(whybuf, sizeof whybuf, "header claims epoch %d with %u recorded epochs "
                     "(valid: 0..%d, one record each)", (int)h.epoch, (unsigned)h.n_hist,
                     ACT_TRAIN_MAX_EPOCHS);
            why = whybuf;
        } else if (h.opt_kind < -1 || h.opt_kind >= ACT_OPT_COUNT ||
                   (h.opt_kind == -1) != (h.n_opt == 0)) {
            snprintf(whybuf, sizeof whybuf, "header names optimiser %d (valid: -1..%d)",
                     (int)h.opt_kind, ACT_OPT_COUNT - 1);
            why = whybuf;
        } else if (h.info_len > ACT_CKPT_MAX_INFO) {
            snprintf(whybuf, sizeof whybuf, "run configuration of %u bytes (at most %d)",
                     (unsigned)h.info_len, ACT_CKPT_MAX_INFO);
            why = whybuf;
        } else {
            want = sizeof h + 4 * (h.n_params + h.n_opt) +
                   (uint64_t)h.n_hist * HIST_DOUBLES * sizeof(double) + h.info_len + 4;
            if ((uint64_t)sb.st_size != want) {
                snprintf(whybuf, sizeof whybuf, "%s: the file has %llu bytes, its header "
                         "describes %llu", (uint64_t)sb.st_size < want ? "truncated"
                                                                       : "trailing data",
                         (unsigned long long)sb.st_size, (unsigned long long)want);
                why = whybuf;
            }
        }
    }
    if (!why) {
        b = malloc((size_t)want);
        if (!b) {
            rc = ACT_ENOMEM;
        } else {
            size_t got = 0;
            while (got < want) {
                ssize_t k = pread(fd, b + got, (size_t)(want - got), (off_t)got);
                if (k < 0 && errno == EINTR)
                    continue;
                if (k <= 0)
                    break;
                got += (size_t)k;
            }
            if (got != want) {
                why = "truncated while reading";
            } else {
                uint32_t c32;
                memcpy(&c32, b + want - 4, 4);
                if ((uint32_t)crc32_z(crc32(0L, Z_NULL, 0), b, (size_t)want - 4) != c32)
                    why = "checksum mismatch (corrupt file)";
            }
        }
    }
    if (!why) {
        const unsigned char *hp2 = b + sizeof h + 4 * (h.n_params + h.n_opt);
        for (uint32_t i = 0; i < h.n_hist && !why; i++) {
            double d[HIST_DOUBLES];
            memcpy(d, hp2 + (size_t)i * sizeof d, sizeof d);
            if (d[0] != (double)(i + 1) || !(d[7] >= 0.0 && d[7] < 1e9) ||
                !(d[10] >= 0.0 && d[10] < 1e9)) {
                snprintf(whybuf, sizeof whybuf, "epoch record %u is malformed", i + 1);
                why = whybuf;
            }
        }
        const unsigned char *info = hp2 + (size_t)h.n_hist * HIST_DOUBLES * sizeof(double);
        if (!why && memchr(info, 0, h.info_len))
            why = "run configuration holds a NUL byte";
    }
    close(fd);
    if (why) {
        snprintf(diag->msg, sizeof diag->msg, "%s: %s", path, why);
        free(b);
        return ACT_EFORMAT;
    }
    if (rc != ACT_OK) {
        free(b);
        return rc;
    }
    *hp = h;
    *buf = b;
    return ACT_OK;
}

static int fill_meta(const ckpt_header *h, const unsigned char *b, act_ckpt_meta *m)
{
    memset(m, 0, sizeof *m);
    const unsigned char *hp = b + sizeof *h + 4 * (h->n_params + h->n_opt);
    const unsigned char *info = hp + (size_t)h->n_hist * HIST_DOUBLES * sizeof(double);
    m->epoch = h->epoch;
    m->opt_kind = h->opt_kind;
    m->info = malloc((size_t)h->info_len + 1);
    m->hist = malloc(((size_t)h->n_hist + 1) * sizeof *m->hist);
    if (!m->info || !m->hist) {
        act_ckpt_meta_free(m);
        return ACT_ENOMEM;
    }
    memcpy(m->info, info, h->info_len);
    m->info[h->info_len] = '\0';
    for (uint32_t i = 0; i < h->n_hist; i++) {
        double d[HIST_DOUBLES];
        memcpy(d, hp + (size_t)i * sizeof d, sizeof d);
        get_stats(d, &m->hist[i]);
    }
    return ACT_OK;
}

int act_ckpt_read_meta(const char *path, act_ckpt_meta *m, act_diag *diag)
{
    act_diag dummy;
    if (!diag)
        diag = &dummy;
    memset(diag, 0, sizeof *diag);
    if (!path || !m)
        return ACT_EINVAL;
    memset(m, 0, sizeof *m);
    ckpt_header h;
    unsigned char *b;
    int rc = read_checked(path, &h, &b, diag);
    if (rc != ACT_OK)
        return rc;
    rc = fill_meta(&h, b, m);
    free(b);
    return rc;
}

int act_ckpt_load(const char *path, act_net *net, act_optim *opt, act_ckpt_meta *m,
                  act_diag *diag)
{
    act_diag dummy;
    if (!diag)
        diag = &dummy;
    memset(diag, 0, sizeof *diag);
    if (m)
        memset(m, 0, sizeof *m);
    if (!path || !net)
        return ACT_EINVAL;
    ckpt_header h;
    unsigned char *b;
    int rc = read_checked(path, &h, &b, diag);
    if (rc != ACT_OK)
        return rc;
    size_t n_opt = 0;
    float *st = opt ? act_optim_state(opt, &n_opt) : NULL;
    const char *why = NULL;
    char whybuf[160];
    if (h.n_params != net->n_params || h.fingerprint != fingerprint(net)) {
        why = "checkpoint of a different model or activation";
    } else if (opt && (h.n_opt != n_opt || h.opt_kind != (int32_t)act_optim_kind(opt))) {
        snprintf(whybuf, sizeof whybuf, "holds the state of optimiser %s; this run uses %s",
                 h.opt_kind < 0 ? "(none)" : act_opt_name((act_opt_kind)h.opt_kind),
                 act_opt_name(act_optim_kind(opt)));
        why = whybuf;
    }
    if (why) {
        snprintf(diag->msg, sizeof diag->msg, "%s: %s", path, why);
        free(b);
        return ACT_EFORMAT;
    }
    if (m && (rc = fill_meta(&h, b, m)) != ACT_OK) {
        free(b);
        return rc;
    }
    memcpy(net->params, b + sizeof h, h.n_params * sizeof(float));
    if (opt) {
        memcpy(st, b + sizeof h + 4 * h.n_params, n_opt * sizeof(float));
        *act_optim_step_count(opt) = h.opt_step;
    }
    net->rng = h.rng;
    net->lsuv_pending = 0;   /* trained weights: LSUV must not rescale them */
    free(b);
    return ACT_OK;
}
