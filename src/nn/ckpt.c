/* ckpt.c -- checkpoints: header (magic, version, sizes, model fingerprint, epoch, optimiser
 * step, dropout RNG), the parameter block, the optimiser moments, a CRC-32 of it all. Written
 * to PATH.tmp, flushed and renamed over PATH, so a crash never leaves a half-written file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nn/nn_impl.h"

#define MAGIC "ACTLCKP1"

typedef struct ckpt_header {
    char     magic[8];
    uint64_t n_params, n_opt, fingerprint, opt_step, rng;
    int32_t  epoch, version;
} ckpt_header;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t fingerprint(const act_net *net)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv(h, net->model, strlen(net->model));
    for (int i = 0; i < net->n_segs; i++) {
        h = fnv(h, net->segs[i].name, strlen(net->segs[i].name));
        h = fnv(h, &net->segs[i].size, sizeof net->segs[i].size);
    }
    return h;
}

int act_ckpt_save(const char *path, const act_net *net, act_optim *opt, int epoch)
{
    if (!path || !net)
        return ACT_EINVAL;
    size_t n_opt = 0;
    const float *st = opt ? act_optim_state(opt, &n_opt) : NULL;
    ckpt_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.n_params = net->n_params;
    h.n_opt = n_opt;
    h.fingerprint = fingerprint(net);
    h.opt_step = opt ? *act_optim_step_count(opt) : 0;
    h.rng = net->rng;
    h.epoch = epoch;
    h.version = 1;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return ACT_EINVAL;
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return ACT_EIO;
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, (const Bytef *)&h, sizeof h);
    crc = crc32_z(crc, (const Bytef *)net->params, net->n_params * sizeof(float));
    if (n_opt)
        crc = crc32_z(crc, (const Bytef *)st, n_opt * sizeof(float));
    uint32_t c32 = (uint32_t)crc;
    int ok = fwrite(&h, sizeof h, 1, f) == 1 &&
             fwrite(net->params, sizeof(float), net->n_params, f) == net->n_params &&
             (!n_opt || fwrite(st, sizeof(float), n_opt, f) == n_opt) &&
             fwrite(&c32, sizeof c32, 1, f) == 1 && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return ACT_EIO;
    }
    return ACT_OK;
}

int act_ckpt_load(const char *path, act_net *net, act_optim *opt, int *epoch, act_diag *diag)
{
    if (!path || !net)
        return ACT_EINVAL;
    act_diag dummy;
    if (!diag)
        diag = &dummy;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(diag->msg, sizeof diag->msg, "%s: cannot open", path);
        return ACT_EIO;
    }
    ckpt_header h;
    size_t n_opt = 0;
    float *st = opt ? act_optim_state(opt, &n_opt) : NULL;
    int rc = ACT_OK;
    const char *why = NULL;
    float *p = NULL, *s = NULL;
    if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, MAGIC, 8) != 0 || h.version != 1)
        why = "not an actlab checkpoint (bad magic or version)";
    else if (h.n_params != net->n_params || h.fingerprint != fingerprint(net))
        why = "checkpoint of a different model or activation";
    else if (opt && h.n_opt != n_opt)
        why = "checkpoint of a different optimiser state";
    if (!why) {
        p = malloc(h.n_params * sizeof(float));
        s = malloc((h.n_opt ? h.n_opt : 1) * sizeof(float));
        uint32_t c32;
        if (!p || !s) {
            rc = ACT_ENOMEM;
        } else if (fread(p, sizeof(float), h.n_params, f) != h.n_params ||
                   (h.n_opt && fread(s, sizeof(float), h.n_opt, f) != h.n_opt) ||
                   fread(&c32, sizeof c32, 1, f) != 1) {
            why = "truncated";
        } else {
            uLong crc = crc32(0L, Z_NULL, 0);
            crc = crc32(crc, (const Bytef *)&h, sizeof h);
            crc = crc32_z(crc, (const Bytef *)p, h.n_params * sizeof(float));
            if (h.n_opt)
                crc = crc32_z(crc, (const Bytef *)s, h.n_opt * sizeof(float));
            if ((uint32_t)crc != c32)
                why = "checksum mismatch (corrupt file)";
        }
    }
    fclose(f);
    if (why) {
        snprintf(diag->msg, sizeof diag->msg, "%s: %s", path, why);
        rc = ACT_EFORMAT;
    }
    if (rc == ACT_OK) {
        memcpy(net->params, p, h.n_params * sizeof(float));
        if (opt) {
            memcpy(st, s, n_opt * sizeof(float));
            *act_optim_step_count(opt) = h.opt_step;
        }
        net->rng = h.rng;
        if (epoch)
            *epoch = h.epoch;
    }
    free(p);
    free(s);
    return rc;
}
