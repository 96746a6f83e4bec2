/* fidelity.c -- the table of named fidelities (fidelity.h), generated from one list, and the
 * run configuration of a trial at a row. The values and why: docs/search.md, "Fidelities". */
#include <stdio.h>
#include <string.h>

#include "fidelity.h"

/* The paper's budget (Ramachandran et al. 2017, ResNet-20 on CIFAR-10): 10K steps. On
 * Fashion-MNIST's 60,000 training images less actlab train's 5,000 validation images, at its
 * batch of 128, an epoch is 430 steps, so 24 epochs are 10,320 steps: the fewest whole epochs
 * that reach 10K (tests/test_orch_fidelity.c checks these against act_train_config_default()). */
enum {
    FM_TRAIN_IMAGES = 60000,
    DEFAULT_VAL     = 5000,   /* act_train_config_default().val_size */
    DEFAULT_BATCH   = 128,    /* act_train_config_default().batch */
    PAPER_STEPS     = 10000,
    EPOCH_STEPS     = (FM_TRAIN_IMAGES - DEFAULT_VAL + DEFAULT_BATCH - 1) / DEFAULT_BATCH,
    PAPER_EPOCHS    = (PAPER_STEPS + EPOCH_STEPS - 1) / EPOCH_STEPS,
};

/* X(name, synthetic, model, train_limit, val_size, test_limit, epochs, lr, time_cap_s, higher,
 *   help) -- higher: the row finalize trains the winners at by default
 * Every real row holds out actlab train's default validation split (5,000 images): the rows
 * are `actlab train --model M --train-limit N --epochs E --per-channel on --test-limit T`,
 * as dev/proxy_validate.sh ran them. The time caps are 15-100x the slowest trial that script
 * measured at one thread (dev/proxy/results.csv): a cap fails runaway trials, not slow ones. */
#define FIDELITY_LIST(X)                                                                       \
    X("synthetic", 1, NULL, 0, 0, 0, 9, 0.0f, 0.0, "synthetic",                                \
      "analytic score against x*sigmoid(x), no training (tests and demonstrations)")           \
    X("mlp", 0, "mlp:256x2", 12000, DEFAULT_VAL, 5000, 2, 0.0f, 120.0, "resnet1",              \
      "mlp:256x2, 12k images x 2 epochs (~1 s a trial): cheap, but ranks poorly")              \
    X("cnn", 0, "cnn", 6000, DEFAULT_VAL, 5000, 1, 0.0f, 300.0, "resnet1",                     \
      "cnn, 6k images x 1 epoch (~5 s a trial): separates good from poor, ranks less well")    \
    X("proxy", 0, "resnet:1", 6000, DEFAULT_VAL, 5000, 1, 0.0f, 300.0, "resnet1",              \
      "resnet:1, 6k images x 1 epoch (~6 s a trial): the default, validated against resnet1")  \
    X("resnet1", 0, "resnet:1", 30000, DEFAULT_VAL, 5000, 3, 0.0f, 1800.0, "paper",            \
      "resnet:1, 30k images x 3 epochs (~85 s): the reference the proxy is validated by")      \
    X("paper", 0, "resnet:3", 0, DEFAULT_VAL, 0, PAPER_EPOCHS, 0.0f, 0.0, "paper",             \
      "ResNet-20 (resnet:3), all 55k images for the paper's 10K steps: a scale-out setting, "  \
      "hours per trial on one core")

static const orch_fidelity table[] = {
#define X(name, syn, model, tl, val, test, ep, lr, cap, up, help) \
    { name, help, syn, model, tl, val, test, ep, lr, cap, up },
    FIDELITY_LIST(X)
#undef X
};

#define N_ROWS ((int)(sizeof table / sizeof table[0]))

/* ", synthetic, mlp, ...": the names from the same list; the leading ", " is skipped. */
static const char names[] =
#define X(name, syn, model, tl, val, test, ep, lr, cap, up, help) ", " name
    FIDELITY_LIST(X)
#undef X
    ;

const orch_fidelity *orch_fidelity_at(int i)
{
    return i >= 0 && i < N_ROWS ? &table[i] : NULL;
}

const orch_fidelity *orch_fidelity_lookup(const char *name)
{
    for (int i = 0; name && i < N_ROWS; i++)
        if (!strcmp(table[i].name, name))
            return &table[i];
    return NULL;
}

const orch_fidelity *orch_fidelity_rung(const char *name, int *stop_epoch)
{
    const orch_fidelity *f = orch_fidelity_lookup(name);
    if (f) {
        if (stop_epoch)
            *stop_epoch = f->epochs;
        return f;
    }
    const char *dash = name ? strrchr(name, '-') : NULL;
    if (!dash || dash[1] != 'e' || dash[2] < '1' || dash[2] > '9')
        return NULL;
    int k = 0;
    for (const char *p = dash + 2; *p; p++) {
        if (*p < '0' || *p > '9' || k > 100000)
            return NULL;
        k = 10 * k + (*p - '0');
    }
    char base[32];
    size_t n = (size_t)(dash - name);
    if (n >= sizeof base)
        return NULL;
    memcpy(base, name, n);
    base[n] = 0;
    f = orch_fidelity_lookup(base);
    if (!f || k >= f->epochs)
        return NULL;
    if (stop_epoch)
        *stop_epoch = k;
    return f;
}

int orch_fidelity_rung_name(const orch_fidelity *f, int epoch, char *buf, size_t cap)
{
    if (!f || !buf || epoch < 1 || epoch > f->epochs)
        return ACT_EINVAL;
    int n = epoch == f->epochs ? snprintf(buf, cap, "%s", f->name)
                               : snprintf(buf, cap, "%s-e%d", f->name, epoch);
    return n < 0 || (size_t)n >= cap ? ACT_ELIMIT : ACT_OK;
}

const char *orch_fidelity_names(void)
{
    return names + 2;
}

int orch_fidelity_run_config(const orch_fidelity *f, const char *expr, uint64_t seed,
                             int threads, char *act_buf, size_t act_cap, act_run_config *out)
{
    if (!f || !expr || !act_buf || !out || f->synthetic || !f->model || threads < 1)
        return ACT_EINVAL;
    int n = snprintf(act_buf, act_cap, "expr:%s", expr);
    if (n < 0 || (size_t)n >= act_cap)
        return ACT_ELIMIT;
    act_run_config c = act_run_config_default();
    c.data = ORCH_FIDELITY_DATA;
    c.model = f->model;
    c.act = act_buf;
    c.per_channel = 1;
    c.threads = threads;
    c.train.seed = seed;
    c.train.val_size = f->val_size;
    c.train.train_limit = f->train_limit;
    c.train.test_limit = f->test_limit;
    c.train.epochs = f->epochs;
    c.train.sched.lr = f->lr;
    *out = c;
    return ACT_OK;
}
