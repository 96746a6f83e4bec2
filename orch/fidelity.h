/* fidelity.h -- the search's named fidelities, one table (orch/fidelity.c): what a trial of
 * each costs and what it trains. A task names its fidelity (proto.h's "fidelity" field); the
 * worker looks the row up and either scores the expression analytically (synthetic) or trains
 * it (orch/train_eval.h). Rewards of different fidelities are never compared.
 *
 * A real row is exactly an `actlab train` run: model, Fashion-MNIST, act expr:EXPR, per-channel
 * parameters (beta per channel, as in the paper), the optimiser's defaults (SGD, momentum 0.9,
 * lr 0.02, batch 128), the validation split held out of the training set (act_train_run: the
 * last val_size images of a seeded shuffle of all 60,000, so it never overlaps the training
 * images and never touches the test set), then train_limit training images, epochs, and
 * test_limit test images evaluated and reported but never used for selection. The mlp, proxy and
 * resnet1 rows are dev/proxy_validate.sh's mlp12k2, cnn6k1 and ref_resnet1_30k3, so the figures
 * in docs/search.md ("Fidelities") describe them. Nothing here allocates, prints or exits.
 */
#ifndef ACTLAB_ORCH_FIDELITY_H
#define ACTLAB_ORCH_FIDELITY_H

#include <stddef.h>
#include <stdint.h>

#include "actlab/run.h"

#define ORCH_FIDELITY_DATA "fashion-mnist"   /* the data set of every real row */

typedef struct orch_fidelity {
    const char *name;        /* [a-z0-9_-]+ ; also the value of the proto "fidelity" field */
    const char *help;        /* one line for --help / docs */
    int         synthetic;   /* 1: no training (orch_synthetic_eval) */
    const char *model;       /* act_run_config.model; NULL for synthetic */
    size_t      train_limit; /* training images (0: all but the validation split) */
    size_t      val_size;    /* held out of the training set for validation (the reward) */
    size_t      test_limit;  /* test images evaluated, 0: all (reported, never for selection) */
    int         epochs;
    float       lr;          /* 0: the optimiser's default (act_run_default_lr) */
    double      time_cap_s;  /* a trial training longer fails ("time cap"); 0: none */
    const char *higher;      /* the row `search finalize` trains the winners at by default */
} orch_fidelity;

/* The row named name, or NULL if there is none (name may be NULL). Static storage. */
const orch_fidelity *orch_fidelity_lookup(const char *name);
/* Row i (0, 1, ... in table order), or NULL past the end or for i < 0. */
const orch_fidelity *orch_fidelity_at(int i);
/* Every name in table order, comma-separated ("synthetic, mlp, proxy, resnet1, paper"), for
 * error messages. Static storage. */
const char *orch_fidelity_names(void);

/* A rung of a fidelity (ASHA, docs/search.md "Multi-fidelity"): "NAME" is the row with all its
 * epochs, "NAME-eK" (1 <= K < epochs) the same run -- the same configuration, learning-rate
 * schedule and data order, on the full budget -- stopped after epoch K. The row, and K in
 * *stop_epoch (may be NULL); NULL for a name that is neither. The synthetic row has a nominal 9
 * epochs so that its rungs exist (a rung takes K/9 of --synthetic-ms). */
const orch_fidelity *orch_fidelity_rung(const char *name, int *stop_epoch);
/* The name of f's rung at epoch (1..epochs) into buf: "NAME" at f->epochs, else "NAME-eK". */
ACT_NODISCARD int orch_fidelity_rung_name(const orch_fidelity *f, int epoch, char *buf,
                                          size_t cap);

/* The run configuration of one trial of a real row f: act_run_config_default() with model
 * f->model, data ORCH_FIDELITY_DATA, act "expr:" expr, per_channel 1, train.seed = seed (also
 * the weights' seed), f's val_size, train_limit, test_limit, epochs and lr, and threads. out's
 * act points into act_buf (act_cap bytes, the caller's: keep it as long as *out); model and
 * data point to static strings. ACT_EINVAL for a NULL argument, a synthetic row or threads < 1;
 * ACT_ELIMIT when "expr:" expr does not fit in act_buf. *out is untouched on failure. */
ACT_NODISCARD int orch_fidelity_run_config(const orch_fidelity *f, const char *expr,
                                           uint64_t seed, int threads, char *act_buf,
                                           size_t act_cap, act_run_config *out);

#endif
