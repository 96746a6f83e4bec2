/* run.h -- one training run as a library call: what `actlab train` does (the activation named by
 * text, the network, the optimiser's default learning rate, training, the record), for programs
 * that train many candidates (the search's workers).
 *
 *     act_run_config c = act_run_config_default();
 *     c.model = "mlp:256x2";
 *     c.act = "expr:max(x, sigmoid(beta*x))";
 *     c.train.on_batch = past_deadline;          // non-zero stops the run: ACT_ECANCELED
 *     act_run_result r;
 *     int rc = act_run_train(&c, &train, &test, &r, &diag);
 *
 * A run's configuration has one canonical text form (act_run_config_write): "key=value" lines in
 * a fixed order, floats to 9 significant digits (they read back exactly). act_run_config_read
 * parses it back, act_run_config_hash identifies an experiment (everything but the thread count,
 * which does not change results), and checkpoints store it, so a run can be resumed from the
 * checkpoint alone. Nothing here prints or exits. */
#ifndef ACTLAB_RUN_H
#define ACTLAB_RUN_H

#include <stdint.h>
#include "actlab/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct act_run_config {
    const char      *data;          /* the data set's name, recorded ("fashion-mnist") */
    const char      *model;         /* "mlp:256x2", "cnn", "resnet:3", ... (act_net_config) */
    const char      *act;           /* "relu", any built-in, "meta_acon", "frelu", "acon_frelu",
                                       or "expr:FORMULA" */
    int              n_params;      /* initial activation parameters, by name: 0..ACT_FN_MAX_PARAMS */
    const char      *param_names[ACT_FN_MAX_PARAMS];
    float            param_values[ACT_FN_MAX_PARAMS];
    int              per_channel;   /* -1: the activation's own choice; 0: scalar; 1: per channel */
    int              act_stem;      /* 1: the stem's activation is replaced too (default) */
    int              meta_r;        /* Meta-ACON reduction (16) */
    int              meta_bn;       /* Meta-ACON generator BNs (1) */
    act_nn_init      init;          /* ACT_NN_INIT_HE; TORCH, GAIN, LSUV (nn.h): "init=" */
    act_conv_algo    conv;          /* ACT_CONV_AUTO */
    int              threads;       /* 1 */
    act_gemm         gemm;          /* act_gemm_default() */
    int              profile;       /* time every layer (act_net_profile); not part of the text */
    act_train_config train;         /* train.seed seeds the weights too; train.sched.lr 0: the
                                       optimiser's default (act_run_default_lr) */
} act_run_config;

/* relu on mlp:256x2, fashion-mnist, act_train_config_default() with lr 0 (the default). */
ACT_API act_run_config act_run_config_default(void);

/* The learning rate a run uses when train.sched.lr is 0: SGD 0.02, Adam and AdamW 0.001. */
ACT_API float act_run_default_lr(act_opt_kind kind);

/* The canonical text of c into *out (NUL-terminated, owned by the caller: free()). The lr is
 * written as used (act_run_default_lr when 0). ACT_EINVAL for a value that cannot be written
 * (a string with a newline, NULL model or act), ACT_ENOMEM. */
ACT_API ACT_NODISCARD int act_run_config_write(const act_run_config *c, char **out);

/* The "train.*" lines alone (the part act_train_run records and checks on resume). */
ACT_API ACT_NODISCARD int act_train_config_write(const act_train_config *t, char **out);

/* Parses text (act_run_config_write's form, lines in any order; a missing key keeps its default)
 * into *c. Strings of *c point into *strings, owned by the caller (free() after the last use of
 * *c). ACT_EFORMAT with diag (line, key) for an unknown key, a repeated one, or a bad value. */
ACT_API ACT_NODISCARD int act_run_config_read(const char *text, act_run_config *c,
                                              char **strings, act_diag *diag);

/* FNV-1a 64 of the canonical text without the threads and gemm lines (how a machine computes
 * the experiment, not which one it is): equal for the same experiment. */
ACT_API ACT_NODISCARD int act_run_config_hash(const act_run_config *c, uint64_t *hash);

/* The value of key in canonical text (a pointer into text, its length in *len), or NULL. For
 * parameters ("param.beta") and every other key alike. */
ACT_API const char *act_run_text_value(const char *text, const char *key, size_t *len);

/* ---------------------------------------------------------------------------------------------
 * The activation of a run, resolved: a built-in, an engine kind, or a compiled expression, with
 * c's parameter values (checked: finite and accepted by the function), per_channel and
 * Meta-ACON settings. Owns what an expression needs (tree, program, act_fn). */
typedef struct act_run_act act_run_act;

/* ACT_EPARSE (diag: the expression's error), ACT_ENOTFOUND (unknown name or parameter name),
 * ACT_EINVAL (a parameter value the function refuses; diag names it). */
ACT_API ACT_NODISCARD int act_run_act_new(const act_run_config *c, act_run_act **out,
                                          act_diag *diag);
ACT_API void act_run_act_free(act_run_act *a);                        /* NULL is a no-op */
/* The act_nn_act for act_net_config.act, borrowing a (valid until act_run_act_free). */
ACT_API const act_nn_act *act_run_act_get(const act_run_act *a);

/* The network of c for data shaped like `like` (channels, size, class count), with activation
 * a (borrowed: it must outlive the net), max batch c->train.batch, seed c->train.seed. */
ACT_API ACT_NODISCARD int act_run_net_new(const act_run_config *c, const act_dataset *like,
                                          const act_run_act *a, act_net **out, act_diag *diag);

/* The run-level lines of the canonical text (all but train.*) into *out (caller frees): what
 * act_train_config.run_info carries into checkpoints, act_train_run adding the train.* lines. */
ACT_API ACT_NODISCARD int act_run_info(const act_run_config *c, char **out);

/* ---------------------------------------------------------------------------------------------
 * Training */

typedef struct act_run_result {
    int             status;         /* what act_run_train returned */
    int             epochs;         /* completed, resumed ones included */
    int             resumed;        /* epochs that came from train.resume's checkpoint */
    act_epoch_stats last;           /* the last completed epoch (epoch 0: none) */
    size_t          n_params;       /* learnable */
    double          seconds;        /* wall time of this call */
} act_run_result;

/* Builds the network of c for data shaped like train (channels, size, class count; max batch
 * = train.batch), resolves the activation, trains with c->train, and fills *r (also on
 * failure). c->train's checkpoint records the run's canonical text; with train.resume set, the
 * checkpoint must record the same run (every key but threads, gemm and train.epochs: ACT_EINVAL
 * naming the first difference). Returns act_train_run's status, or the first setup error. */
ACT_API ACT_NODISCARD int act_run_train(const act_run_config *c, const act_dataset *train,
                                        const act_dataset *test, act_run_result *r,
                                        act_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
