/* fuzz_ckpt.c -- libFuzzer harness for the checkpoint reader (act_ckpt_read_meta, act_ckpt_load
 * into a small net and optimiser). The first input byte picks the mode: odd = the rest is the
 * file as is; even = the rest with its CRC-32 appended, so mutations reach the field checks
 * behind the checksum. The input goes through a memfd (/proc/self/fd/N): the reader takes a path.
 * ACTLAB_FUZZ_SEEDS=DIR writes valid seeds (fresh, after one epoch, Adam) to DIR and exits. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "actlab/nn.h"

static act_net *net;
static act_optim *opt_sgd, *opt_adam;

static act_net *make_net(void)
{
    act_net_config c = act_net_config_default();
    c.model = "mlp:4x1";
    c.in_h = c.in_w = 2;
    c.max_batch = 2;
    c.n_classes = 3;
    c.act.fn = act_act_fn(ACT_ACT_SWISH);
    act_net *n = NULL;
    act_diag d;
    return act_net_new(&c, &n, &d) == ACT_OK ? n : NULL;
}

/* Seeds without their CRC (the even mode appends it), prefixed by the mode byte 0. */
static void write_seed(const char *dir, const char *name, act_optim *o, int epoch)
{
    char path[4096], tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/%s.ckpt", dir, name);
    act_epoch_stats hist[2];
    memset(hist, 0, sizeof hist);
    for (int i = 0; i < epoch; i++) {
        hist[i].epoch = i + 1;
        hist[i].train_loss = 1.0 / (i + 1);
        hist[i].seconds = hist[i].wall_s = 0.5;
    }
    act_ckpt_meta m = { epoch, -1, "train.epochs=2\ncli.--model=mlp:4x1\n", hist };
    if (act_ckpt_save(tmp, net, o, &m) != ACT_OK)
        return;
    FILE *f = fopen(tmp, "rb");
    if (!f)
        return;
    unsigned char buf[1 << 16];
    size_t n = fread(buf + 1, 1, sizeof buf - 1, f);
    fclose(f);
    remove(tmp);
    buf[0] = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f) {
        fwrite(buf, 1, n + 1 - 4, f);   /* without the CRC */
        fclose(f);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    net = make_net();
    act_optim_config c = act_optim_config_default(ACT_OPT_SGD);
    opt_sgd = act_optim_new(&c, net);
    c = act_optim_config_default(ACT_OPT_ADAM);
    opt_adam = act_optim_new(&c, net);
    if (!net || !opt_sgd || !opt_adam)
        abort();
    const char *seeds = getenv("ACTLAB_FUZZ_SEEDS");
    if (seeds) {
        write_seed(seeds, "fresh", NULL, 0);
        write_seed(seeds, "sgd1", opt_sgd, 1);
        write_seed(seeds, "adam2", opt_adam, 2);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fd = memfd_create("ckpt", 0);
    if (fd < 0)
        return 0;
    size_t n = size - 1;
    int ok = write(fd, data + 1, n) == (ssize_t)n;
    if (ok && !(data[0] & 1)) {
        uint32_t c = (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), data + 1, n);
        ok = write(fd, &c, 4) == 4;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (ok) {
        act_diag d;
        act_ckpt_meta m;
        if (act_ckpt_read_meta(path, &m, &d) == ACT_OK) {
            /* what a caller does with a record: walk it */
            volatile double s = 0.0;
            for (int i = 0; i < m.epoch; i++)
                s += m.hist[i].train_loss + (double)strlen(m.info);
            act_ckpt_meta_free(&m);
        }
        act_optim *o = (data[0] & 2) ? opt_adam : opt_sgd;
        if (act_ckpt_load(path, net, (data[0] & 4) ? NULL : o, &m, &d) == ACT_OK)
            act_ckpt_meta_free(&m);
    }
    close(fd);
    return 0;
}
