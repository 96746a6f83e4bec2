/* nn.h -- the training engine: float32 NCHW networks with explicit forward and backward passes,
 * any activation (built-in or expression, through act_fn), optimisers, data readers, training.
 *
 * A network is built from a model spec string ("mlp:512x2", "cnn", "resnet:3,preact") and owns
 * every buffer it will ever use: all parameters in one block with a parallel gradient block
 * (segments describe which slice is what), and one arena for activations, their gradients and
 * the layers' scratch, sized for cfg.max_batch. Forward, loss and backward never allocate.
 *
 * Threads: the net runs one pool, OpenMP, with cfg.threads threads, and splits every GEMM over
 * that team itself; the GEMM back-end (OpenBLAS or oneDNN, act_gemm below) always runs one
 * thread per call (OpenBLAS set to one thread process-wide, openblas_set_num_threads(1); oneDNN
 * called with the caller's OpenMP thread count at 1), so no two pools compete for the cores.
 * Same seed + same threads + same back-end = same bits; MLPs give the same bits for any thread
 * count too (each output element is one GEMM sum in a fixed order, whatever the split).
 *
 * Nothing here prints or exits; everything returns an act_status.
 */
#ifndef ACTLAB_NN_H
#define ACTLAB_NN_H

#include <stddef.h>
#include <stdint.h>
#include "actlab/act.h"
#include "actlab/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Activations of a network.
 *
 * ACT_NN_ACT_FN takes ANY act_fn: a built-in (act_act_fn(id)) or a compiled expression; the
 * layer only calls fn->forward / fn->backward with (n_params, C) per-channel parameters when
 * per_channel is on (ACT_PER_CHANNEL), or n_params scalars otherwise. The act_fn is borrowed and
 * must outlive the net. The others need the engine (convs, BN, a generator network). */
#define ACT_NN_ACT_KIND_LIST(X)                                                        \
    X(FN,         fn,         "any act_fn: built-in or expression")                   \
    X(META_ACON,  meta_acon,  "Meta-ACON-C: beta = s(BN(fc2(BN(fc1(mean_hw x)))))")   \
    X(FRELU,      frelu,      "FReLU: max(x, BN(dwconv3x3(x)))")                      \
    X(ACON_FRELU, acon_frelu, "ACON-FReLU: BN((x - T) s(x - T) + T), T = BN(dwconv(x))")

typedef enum act_nn_act_kind {
#define X(ID, name, help) ACT_NN_ACT_##ID,
    ACT_NN_ACT_KIND_LIST(X)
#undef X
    ACT_NN_ACT_KIND_COUNT
} act_nn_act_kind;

typedef struct act_nn_act {
    act_nn_act_kind kind;
    const act_fn   *fn;          /* ACT_NN_ACT_FN: borrowed; NULL means relu */
    int             per_channel; /* -1: the act_fn's ACT_ACT_CHANNEL flag; 0: scalar; 1: per C */
    int             paper_init;  /* 1: a built-in's parameters start at act_act_init_params(
                                    ACT_INIT_PAPER) (ACON-C p1, p2 ~ N(0,1)), drawn from the net's
                                    init stream; 0: ACT_INIT_DEFAULT. Expressions start at their
                                    defaults either way; Meta-ACON's p1, p2 are always N(0,1) */
    int             has_params;  /* 1: start from params[] instead (overrides paper_init) */
    float           params[ACT_FN_MAX_PARAMS];
    int             meta_r;      /* Meta-ACON reduction r; hidden = max(r, C / r). Default 16 */
    int             meta_bn;     /* Meta-ACON generator BNs on (1, the paper) or off (yolov5) */
} act_nn_act;

/* Defaults for kind: relu for FN, r = 16, bn on, paper init, per_channel -1. */
ACT_API act_nn_act act_nn_act_default(act_nn_act_kind kind);

/* Parses "relu", any built-in name, "meta_acon", "frelu", "acon_frelu". "expr:..." is not
 * resolved here (ACT_EUNSUPPORTED): the caller compiles the expression to an act_fn and sets
 * kind = ACT_NN_ACT_FN, fn = it. ACT_ENOTFOUND for an unknown name. */
ACT_API ACT_NODISCARD int act_nn_act_parse(const char *name, act_nn_act *out);

/* ---------------------------------------------------------------------------------------------
 * Networks */

typedef struct act_net act_net;   /* opaque: owns parameters, gradients, activations, scratch */

/* How 3x3 stride-1 convolutions are computed. AUTO: Winograd where it applies and measured
 * faster, else the direct/im2col kernels. GEMM: never Winograd (direct 3x3 kernel or im2col +
 * sgemm: the plain sums). WINOGRAD: Winograd wherever it applies (tests). Winograd computes the
 * same convolution with fewer multiplications; its float rounding differs (about 1e-6 relative
 * to the largest term). */
typedef enum act_conv_algo { ACT_CONV_AUTO, ACT_CONV_GEMM, ACT_CONV_WINOGRAD } act_conv_algo;

/* Initial conv/dense weights (docs/training.md, "Learning rates and initialisation"); activation
 * and BN parameters start the same under every rule.
 *   HE     N(0, 2/fan_in), biases 0: the default, derived for ReLU.
 *   TORCH  PyTorch's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases: a
 *          smaller scale (std 1/sqrt(3 fan_in)) that BN-free nets with ACON-C's random slopes need.
 *   GAIN   N(0, g^2/fan_in), biases 0, g = act_nn_act_gain of the net's activation at its initial
 *          parameters: the forward second moment is kept for pre-activations ~ N(0, 1) (He for
 *          ReLU, g = sqrt(2)). One g for every layer: E[f(z)^2] averaged over every channel of
 *          every activation layer. Needs an ACT_NN_ACT_FN activation (else ACT_EINVAL).
 *   LSUV   HE, then data-driven (Mishkin & Matas 2015): act_train_run's first call that does not
 *          resume runs act_net_lsuv on one batch of the training split before training.
 * X(ID, name) */
#define ACT_NN_INIT_LIST(X) X(HE, he) X(TORCH, torch) X(GAIN, gain) X(LSUV, lsuv)

typedef enum act_nn_init {
#define X(ID, name) ACT_NN_INIT_##ID,
    ACT_NN_INIT_LIST(X)
#undef X
    ACT_NN_INIT_COUNT
} act_nn_init;

ACT_API const char *act_nn_init_name(act_nn_init i);                  /* "unknown" if invalid */
ACT_API ACT_NODISCARD int act_nn_init_lookup(const char *name, act_nn_init *out); /* ENOTFOUND */

/* The gain g = 1 / sqrt(E[f(z)^2]), z ~ N(0, 1), of fn at parameters p (parameter-major
 * (fn->n_params, channels); NULL: fn's defaults, channels 1), E averaged over the channels:
 * weights N(0, g^2/fan_in) keep a layer's pre-activations at second moment 1 when its inputs'
 * pre-activations are N(0, 1). E by the trapezoid rule on [-10, 10], step 1/200, in double over
 * fn's float forward. relu: sqrt(2); the identity: 1; tanh: 1.5925. ACT_EINVAL if fn refuses p
 * or E is not finite and positive (f(z) = 0, or overflow inside [-10, 10]). */
ACT_API ACT_NODISCARD int act_nn_act_gain(const act_fn *fn, const float *p, size_t channels,
                                          double *gain);

/* The GEMM back-end of the dense layers and the im2col/1x1 convolutions (every other kernel is
 * actlab's own). Both compute the same products; their float rounding differs (~1e-7 relative
 * to sum |a_ik b_kj|), so a run's bits depend on the back-end as on the thread count. ONEDNN
 * exists when actlab was built with oneDNN (act_gemm_supported); it is the default then, as it
 * measured faster on the engine's shapes (docs/training.md, "GEMM back-end"). */
#define ACT_GEMM_LIST(X) X(OPENBLAS, openblas) X(ONEDNN, onednn)

typedef enum act_gemm {
#define X(ID, name) ACT_GEMM_##ID,
    ACT_GEMM_LIST(X)
#undef X
    ACT_GEMM_COUNT
} act_gemm;

ACT_API const char *act_gemm_name(act_gemm g);                         /* "unknown" if invalid */
ACT_API ACT_NODISCARD int act_gemm_lookup(const char *name, act_gemm *out);  /* ACT_ENOTFOUND */
ACT_API int act_gemm_supported(act_gemm g);                  /* 1 if this build has it */
/* The default for new nets: ACTLAB_GEMM=openblas|onednn from the environment when it names a
 * supported back-end (read once; the CLI reports any other value), else ONEDNN where built in,
 * else OPENBLAS. */
ACT_API act_gemm act_gemm_default(void);

typedef struct act_net_config {
    const char *model;       /* "mlp:WxD[,bn][,dropout=p]", "cnn", "resnet:N[,preact]",
                                "shufflenetv2:W", "mobilenet:ALPHA", "tfnet[:W]"
                                (docs/training.md) */
    int         in_c, in_h, in_w;
    int         n_classes;
    act_nn_act  act;         /* the activation that replaces the model's ReLUs */
    int         act_stem;    /* 1: replace the stem's (first) activation too; 0: it stays relu */
    size_t      max_batch;   /* largest batch forward() will see */
    int         threads;     /* >= 1 */
    uint64_t    seed;        /* parameter init and dropout */
    int         profile;     /* 1: time every layer (act_net_profile) */
    act_conv_algo conv_algo; /* ACT_CONV_AUTO */
    act_nn_init init;        /* ACT_NN_INIT_HE; GAIN, LSUV: matched to the activation */
    act_gemm    gemm;        /* act_gemm_default(); ACT_EUNSUPPORTED if not built in */
} act_net_config;

ACT_API act_net_config act_net_config_default(void);

/* Builds the net. On failure *out is NULL, and diag (may be NULL) says what was wrong with the
 * model spec. ACT_EPARSE for a bad spec, ACT_EINVAL for bad sizes or for activation parameters
 * (act.has_params) that are not finite or that the activation refuses, ACT_ELIMIT for a spec of
 * ACT_NET_MAX_SPEC characters or more, ACT_ENOMEM. */
#define ACT_NET_MAX_SPEC 128
ACT_API ACT_NODISCARD int  act_net_new(const act_net_config *cfg, act_net **out, act_diag *diag);
ACT_API void act_net_free(act_net *net);                     /* NULL is a no-op */

/* Parameter segments: slices of the parameter block with a name and flags. */
#define ACT_SEG_LEARN 0x1u   /* trained by the optimiser */
#define ACT_SEG_DECAY 0x2u   /* weight decay applies: conv/dense weights only (never p1, p2, beta,
                                PReLU a, BN gamma/beta, biases) */
#define ACT_SEG_ACT   0x4u   /* an activation's parameter */
typedef struct act_param_seg {
    size_t      offset, size;   /* in floats, into act_net_params() */
    unsigned    flags;          /* ACT_SEG_* (none: a buffer such as BN running stats) */
    int         layer;
    char        name[32];       /* "l3.dense.w", "l4.act.p1" */
} act_param_seg;

ACT_API size_t act_net_n_params(const act_net *net);        /* floats in the parameter block */
ACT_API size_t act_net_n_learnable(const act_net *net);     /* floats in LEARN segments */
/* The parameter and gradient blocks, owned by net, valid until act_net_free(). */
ACT_API float *act_net_params(act_net *net);
ACT_API float *act_net_grads(act_net *net);
ACT_API int    act_net_n_segments(const act_net *net);
ACT_API const act_param_seg *act_net_segment(const act_net *net, int i);  /* NULL if out of range */

/* The layer whose last forward or backward failed (the pass returned its status: an
 * activation kernel that refused parameters which left its domain during training), or -1. */
ACT_API int act_net_failed_layer(const act_net *net);

/* Shape of the input and of the logits. */
ACT_API int act_net_n_classes(const act_net *net);
ACT_API int act_net_threads(const act_net *net);
ACT_API act_gemm act_net_gemm(const act_net *net);
/* 1 .. the threads at creation */
ACT_API ACT_NODISCARD int act_net_set_threads(act_net *net, int threads);

/* Forward pass. x is (n, in_c, in_h, in_w); n <= max_batch. train: batch statistics in BN,
 * dropout on. *logits (n, n_classes) is owned by net, valid until the next call. A layer whose
 * kernel refuses its input stops the pass with that status (act_net_failed_layer says which);
 * no loss or backward may follow it. */
ACT_API ACT_NODISCARD int act_net_forward(act_net *net, const float *x, size_t n, int train,
                                          const float **logits);

/* Softmax cross-entropy of the last forward's logits against labels (n of them, in
 * [0, n_classes)), with label smoothing eps: target = (1 - eps) onehot + eps / K.
 * *loss is the batch mean; *correct (may be NULL) counts argmax hits. Also stores
 * d(loss)/d(logits) for act_net_backward(). ACT_EINVAL for a label out of range. */
ACT_API ACT_NODISCARD int act_net_loss(act_net *net, const int *labels, size_t n, float smoothing,
                                       double *loss, size_t *correct);

/* Backward pass from the stored d(loss)/d(logits): sets the gradient block to dloss/dparams
 * (it is zeroed first). Call after act_net_forward(train) and act_net_loss(). */
ACT_API ACT_NODISCARD int act_net_backward(act_net *net);

/* Per-layer profile: layer i's kind ("dense", "bn", "frelu", an ACT layer's activation name),
 * output shape, accumulated forward / backward seconds (cfg.profile on), parameter floats and
 * ACT_LAYER_* flags. ACT_EINVAL if i is out of range. */
#define ACT_LAYER_BN 0x1u   /* batch normalisation inside: a BN layer, FReLU and ACON-FReLU (the
                               funnel's BN; ACON-FReLU's output BN), Meta-ACON with generator
                               BNs (meta_bn: they normalise the switching factor only) */
typedef struct act_layer_info {
    const char *kind;
    int         c, h, w;
    double      fwd_s, bwd_s;
    size_t      n_params;
    unsigned    flags;        /* ACT_LAYER_* */
} act_layer_info;
ACT_API int act_net_n_layers(const act_net *net);
ACT_API ACT_NODISCARD int act_net_layer_info(const act_net *net, int i, act_layer_info *out);
/* 1 if some layer of net has ACT_LAYER_BN: the net batch-normalises somewhere (what a hint
 * about BN-free nets asks; a layer's kind name cannot tell, FReLU has its BN inside). */
ACT_API int act_net_has_bn(const act_net *net);
ACT_API void act_net_profile_reset(act_net *net);

/* LSUV (layer-sequential unit variance, Mishkin & Matas 2015, without their orthogonal
 * pre-init): runs x (n, in_c, in_h, in_w), n <= max_batch, forward in evaluation mode (dropout
 * off, BN on its running statistics; nothing but the weights changes) and, layer by layer in
 * forward order, scales each dense, conv and depthwise conv layer's weights (not its bias) until
 * the variance of its output over the batch is within tol of 1, at most max_iter scalings per
 * layer. On one thread whatever the net's count: the same weights for any thread count.
 * ACT_EINVAL (diag names the layer) for an output variance that is 0 or not finite; a failed
 * forward's status. act_train_run calls it with ACT_LSUV_TOL and ACT_LSUV_MAX_ITER. */
#define ACT_LSUV_TOL      0.01
#define ACT_LSUV_MAX_ITER 10
ACT_API ACT_NODISCARD int act_net_lsuv(act_net *net, const float *x, size_t n, double tol,
                                       int max_iter, act_diag *diag);

/* ---------------------------------------------------------------------------------------------
 * Optimisers and schedules */

#define ACT_OPT_LIST(X) \
    X(SGD,   sgd)       \
    X(ADAM,  adam)      \
    X(ADAMW, adamw)

typedef enum act_opt_kind {
#define X(ID, name) ACT_OPT_##ID,
    ACT_OPT_LIST(X)
#undef X
    ACT_OPT_COUNT
} act_opt_kind;

typedef struct act_optim_config {
    act_opt_kind kind;
    float momentum;       /* SGD: 0.9 */
    int   nesterov;       /* SGD */
    float beta1, beta2, eps;   /* Adam(W): 0.9, 0.999, 1e-8 */
    float weight_decay;   /* on ACT_SEG_DECAY segments only; L2 for SGD/Adam, decoupled AdamW */
    float clip_norm;      /* > 0: scale gradients so their global L2 norm is <= clip_norm */
} act_optim_config;

ACT_API act_optim_config act_optim_config_default(act_opt_kind kind);
/* ACT_OK / ACT_ENOTFOUND */
ACT_API ACT_NODISCARD int act_opt_lookup(const char *name, act_opt_kind *out);
ACT_API const char *act_opt_name(act_opt_kind kind);

typedef struct act_optim act_optim;   /* opaque: the moment buffers (one allocation) */

/* An optimiser for net's parameter block, or for any block of n floats (a controller network):
 * owned by the caller. NULL: ENOMEM or a bad cfg. act_optim_free(NULL) is a no-op. */
ACT_API ACT_NODISCARD act_optim *act_optim_new(const act_optim_config *cfg, const act_net *net);
ACT_API ACT_NODISCARD act_optim *act_optim_new_block(const act_optim_config *cfg, size_t n);
ACT_API void act_optim_free(act_optim *opt);
/* One update of every LEARN segment of net with learning rate lr. ACT_EDIVERGED if the
 * gradient is not finite (parameters and gradients untouched). On success the gradient block
 * is left zero (consumed), so the next act_net_backward() skips clearing it: gradients written
 * through act_net_grads() between the two are added to. */
ACT_API ACT_NODISCARD int act_optim_step(act_optim *opt, act_net *net, float lr);
/* The same update of a caller-owned block: params[0..n) from grads[0..n), n as at creation,
 * on the calling thread. segs[0..n_segs) say which floats learn (ACT_SEG_LEARN) and decay
 * (ACT_SEG_DECAY), as a net's segments do; segs NULL with n_segs 0: the whole block, learning
 * and decaying. Floats in no segment are untouched; the gradients of every segment are zeroed
 * (consumed). ACT_EDIVERGED as act_optim_step; ACT_EINVAL for a segment outside the block.
 * act_optim_step is this call on the net's block and segments. */
ACT_API ACT_NODISCARD int act_optim_step_block(act_optim *opt, float *params, float *grads,
                                               size_t n, const act_param_seg *segs, int n_segs,
                                               float lr);
/* The moment buffers (for checkpoints): *n floats at *state, owned by opt; the step count. */
ACT_API float *act_optim_state(act_optim *opt, size_t *n);
ACT_API uint64_t *act_optim_step_count(act_optim *opt);
ACT_API act_opt_kind act_optim_kind(const act_optim *opt);

#define ACT_SCHED_LIST(X) \
    X(CONSTANT, constant) \
    X(STEP,     step)     \
    X(COSINE,   cosine)

typedef enum act_sched_kind {
#define X(ID, name) ACT_SCHED_##ID,
    ACT_SCHED_LIST(X)
#undef X
    ACT_SCHED_COUNT
} act_sched_kind;

typedef struct act_sched_config {
    act_sched_kind kind;
    float lr;             /* base learning rate */
    float warmup_epochs;  /* linear warm-up from 0 over this many epochs (0: none) */
    float step_every;     /* STEP: multiply by gamma every step_every epochs */
    float gamma;          /* STEP: 0.1 */
    float min_lr;         /* COSINE: the floor */
} act_sched_config;

ACT_API ACT_NODISCARD int act_sched_lookup(const char *name, act_sched_kind *out);
ACT_API const char *act_sched_name(act_sched_kind kind);
/* Learning rate at fractional epoch t in [0, epochs]. */
ACT_API float act_sched_lr(const act_sched_config *s, double t, int epochs);

/* ---------------------------------------------------------------------------------------------
 * Data: IDX (MNIST, Fashion-MNIST; plain or .gz) and CIFAR-10/100 binary. */

typedef struct act_dataset {
    size_t   n;            /* images */
    int      c, h, w;
    int      n_classes;    /* the data set's, never inferred: every label is < n_classes */
    uint8_t *x;            /* (n, c, h, w) bytes; owned */
    uint8_t *y;            /* (n) labels; owned */
} act_dataset;

#define ACT_DATA_MAX_IMAGES 10000000u  /* hostile headers beyond this are ACT_ELIMIT */

/* Files are plain or gzip; gzip may hold several members (concatenated, each CRC-32 and length
 * checked). A file must end where the data its header declares end: trailing bytes, a corrupt
 * or cut-off gzip stream are ACT_EFORMAT. diag->msg names the file and the problem. On failure
 * *out is zeroed (nothing to free). */

/* Reads an IDX image file (magic 0x803) and label file (0x801) of an n_classes-way problem
 * (1..256, else ACT_EINVAL): a label >= n_classes is ACT_EFORMAT "FILE: record I has label L;
 * expected 0..K-1 (K classes)". out->n_classes = n_classes. ACT_EIO, ACT_EFORMAT, ACT_ELIMIT. */
ACT_API ACT_NODISCARD int act_data_load_idx(const char *images, const char *labels, int n_classes,
                                            act_dataset *out, act_diag *diag);
/* Reads CIFAR binary batches: 1 label byte (CIFAR-10) or 2 (CIFAR-100: coarse, fine; the fine
 * label is used) then 3072 pixel bytes per record. out->n_classes is 10 or 100; a label beyond
 * it is ACT_EFORMAT naming the file and the record. */
ACT_API ACT_NODISCARD int act_data_load_cifar(const char *const *files, int n_files, int cifar100,
                                              act_dataset *out, act_diag *diag);
/* Opens a named data set: "fashion-mnist", "mnist", "cifar10" (10 classes), "cifar100" (100).
 * dir NULL: the default location (Fashion-MNIST: /usr/share/datasets/fashion-mnist from Debian's
 * dataset-fashion-mnist). Fills train and test; every label of both is checked against the
 * data set's class count. ACT_ENOTFOUND for an unknown name. */
ACT_API ACT_NODISCARD int act_data_open(const char *name, const char *dir, act_dataset *train,
                                        act_dataset *test, act_diag *diag);
ACT_API void act_data_free(act_dataset *d);                /* frees and zeroes; NULL ok */

/* ---------------------------------------------------------------------------------------------
 * Training */

typedef struct act_epoch_stats {
    int    epoch;                   /* 1-based */
    double train_loss, train_acc;
    double val_loss, val_acc;       /* NaN without a validation split */
    double test_loss, test_acc;     /* NaN without a test set */
    double seconds;                 /* training time of the epoch (no evaluation) */
    double images_per_s;
    double lr;                      /* at the end of the epoch */
    double wall_s;                  /* wall time of the epoch: training and evaluation */
} act_epoch_stats;

#define ACT_TRAIN_MAX_EPOCHS   100000
#define ACT_TRAIN_MAX_CHANNELS 16      /* input channels act_train_run normalises (ACT_ELIMIT) */

typedef struct act_train_progress {
    int    epoch, epochs;
    size_t batch, n_batches;
    size_t images;                  /* trained so far in this epoch */
    double loss;                    /* running mean this epoch */
    double images_per_s;
    double elapsed_s;
} act_train_progress;

typedef struct act_train_config {
    int              epochs;
    size_t           batch;
    act_optim_config opt;
    act_sched_config sched;
    float            label_smoothing;
    size_t           val_size;      /* held out from the training set after shuffling */
    size_t           train_limit;   /* 0: all; else train on the first train_limit images */
    size_t           test_limit;    /* 0: all */
    int              crop_pad;      /* random crop with this padding (0: off) */
    int              flip;          /* random horizontal flip */
    uint64_t         seed;          /* shuffling, augmentation (the net has its own seed) */
    const char      *checkpoint;    /* save here after every epoch (atomic); NULL: never */
    const char      *resume;        /* resume from this checkpoint; NULL: fresh. Every line
                                       of this run's record (train.* and run_info) must be in
                                       the stored one with the same value, except train.epochs
                                       and threads (ACT_EINVAL names the first difference) */
    const char      *run_info;      /* the caller's description of the run (key=value lines),
                                       stored in every checkpoint after the train.* lines */
    size_t           max_batches;   /* > 0: stop each epoch after this many batches (bench) */
    /* Progress, after every batch and every epoch (after its checkpoint). A non-zero return
     * stops the run cleanly: act_train_run returns ACT_ECANCELED (the last checkpoint stays
     * valid and resumable). Stopping after the last epoch is not a cancellation. */
    int (*on_batch)(void *user, const act_train_progress *p);
    int (*on_epoch)(void *user, const act_epoch_stats *s);
    void            *user;
} act_train_config;

ACT_API act_train_config act_train_config_default(void);

/* Trains net on train (the last val_size images after a seeded shuffle are the validation
 * split), evaluates on test (may be NULL) after each epoch. Normalises each channel with the
 * mean and std of the training split. ACT_EDIVERGED as soon as a loss is not finite,
 * ACT_ERANGE when an activation's parameters leave its domain, ACT_ECANCELED when a callback
 * stops it, ACT_ELIMIT for data with more than ACT_TRAIN_MAX_CHANNELS channels. The epochs
 * completed are in *done (may be NULL) and the last epoch's numbers in *last. The kernels'
 * thread count (act_threads_set) is 1 during the run and restored after it. A net made with
 * ACT_NN_INIT_LSUV is first given act_net_lsuv on the first cfg->batch images of the training
 * split (in the order train.seed shuffles the data to hold out the validation split; no
 * augmentation), once: by the first call that does not resume (a resume, or any act_ckpt_load,
 * loads weights instead). */
ACT_API ACT_NODISCARD int act_train_run(act_net *net, const act_train_config *cfg,
                                        const act_dataset *train,
                                        const act_dataset *test, act_epoch_stats *last, int *done,
                                        act_diag *diag);

/* Accuracy and mean loss of net on images [0, n) of d (eval mode), normalised with mean/std
 * (per channel, d->c values each). Uses batches of at most the net's max_batch. */
ACT_API ACT_NODISCARD int act_net_evaluate(act_net *net, const act_dataset *d, size_t n,
                                           const float *mean,
                                           const float *std, double *loss, double *acc);

/* Checkpoints: parameters, optimiser kind, step and moments, a fingerprint of the model (spec,
 * segments, activation names), the dropout RNG, and the run's record: the epochs completed, the
 * statistics of each, and the run's configuration as text (act_train_run stores its own
 * "train.*" lines, then act_train_config.run_info). Saved to a unique temporary file in the same
 * directory, fsynced, renamed over path, the directory fsynced: after a crash path holds the
 * previous checkpoint or the new one. Every field read back is range-checked and the file must
 * be exactly as long as its header says (ACT_EFORMAT, diag names the file and the field). */
#define ACT_CKPT_MAX_INFO 65536   /* bytes of run configuration text */

typedef struct act_ckpt_meta {
    int              epoch;     /* epochs completed, 0..ACT_TRAIN_MAX_EPOCHS */
    int              opt_kind;  /* act_opt_kind of the stored state, -1 none (read only) */
    char            *info;      /* NUL-terminated run configuration; save: may be NULL */
    act_epoch_stats *hist;      /* hist[0..epoch): hist[i].epoch == i + 1 */
} act_ckpt_meta;

/* Saves net, opt (may be NULL) and m->epoch, m->info, m->hist (m->opt_kind is ignored). */
ACT_API ACT_NODISCARD int act_ckpt_save(const char *path, const act_net *net, act_optim *opt,
                                        const act_ckpt_meta *m);
/* Loads into net and opt (may be NULL): ACT_EFORMAT unless the file belongs to the same model
 * and activation and (with opt) holds the same optimiser's state. m (may be NULL) receives the
 * record, owned by the caller (act_ckpt_meta_free). net and opt are untouched on failure. */
ACT_API ACT_NODISCARD int act_ckpt_load(const char *path, act_net *net, act_optim *opt,
                                        act_ckpt_meta *m,
                                        act_diag *diag);
/* Reads and checks a checkpoint's record without a net (to rebuild the run it belongs to). */
ACT_API ACT_NODISCARD int act_ckpt_read_meta(const char *path, act_ckpt_meta *m, act_diag *diag);
ACT_API void act_ckpt_meta_free(act_ckpt_meta *m);   /* frees and zeroes; NULL is a no-op */

#ifdef __cplusplus
}
#endif
#endif
