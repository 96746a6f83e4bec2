/* net.h -- level 0 of the training engine (src/nn): the net, tensor and layer structs, the
 * builder primitives every layer calls (tensors, layers, parameter blocks and their
 * initialisation, segments, workspaces), threading helpers and the explicit RNG; net.c.
 * Include order, each level using only those below it:
 *   net.h (net.c) <- layers.h (one .c per layer; pass.c) <- models.h (models.c: activation
 *   resolution, the model zoo) <- nn_impl.h (all: train.c, ckpt.c, optim.c, data.c, tests).
 * Nothing here knows a layer's code: the layer kinds are data (names, enum). */
#ifndef ACTLAB_NN_NET_H
#define ACTLAB_NN_NET_H

#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include "actlab/act.h"
#include "actlab/nn.h"
#include "actlab/rng.h"

#ifdef _OPENMP
#include <omp.h>
#define ACTI_TID() omp_get_thread_num()
#define ACTI_NT() omp_get_num_threads()
#else
#define ACTI_TID() 0
#define ACTI_NT() 1
#endif

/* X(ID, name) -- every layer kind; each has acti_<name>_forward / _backward (layers.h). */
#define ACTI_LAYER_LIST(X)    \
    X(DENSE,      dense)      \
    X(CONV,       conv)       \
    X(DWCONV,     dwconv)     \
    X(BN,         bn)         \
    X(MAXPOOL,    maxpool)    \
    X(AVGPOOL,    avgpool)    \
    X(GAP,        gap)        \
    X(ADD,        add)        \
    X(DROPOUT,    dropout)    \
    X(FLATTEN,    flatten)    \
    X(ACT,        act)        \
    X(META_ACON,  meta_acon)  \
    X(FRELU,      frelu)      \
    X(ACON_FRELU, acon_frelu) \
    X(SLICE,      slice)      \
    X(CONCAT,     concat)     \
    X(SHUFFLE,    shuffle)

typedef enum acti_layer_kind {
#define X(ID, name) ACTI_L_##ID,
    ACTI_LAYER_LIST(X)
#undef X
    ACTI_L_COUNT
} acti_layer_kind;

/* One activation tensor: (N, c, h, w) values and gradients, sized for max_batch. */
typedef struct acti_tensor {
    int    c, h, w;
    size_t size;           /* c * h * w, per sample */
    size_t val_off, grad_off;   /* into net->arena */
    int    needs_grad;     /* 0 for the input: nobody reads its gradient */
    int    clear;          /* backward zeroes the gradient first (its first writer accumulates) */
} acti_tensor;

#define ACTI_MAX_SLOTS 20

typedef struct acti_layer {
    acti_layer_kind kind;
    int    in0, in1, out;  /* tensor ids (in1 only for ADD and CONCAT; -1 otherwise) */
    int    k, stride, pad; /* conv, dwconv, pools; SLICE: k = first channel; SHUFFLE: k = groups */
    int    oc;             /* output channels / features */
    int    chunk;          /* CONV: samples per im2col GEMM */
    int    hidden;         /* META_ACON generator width */
    int    bn;             /* META_ACON: generator BNs; DENSE/CONV/DWCONV: has a bias */
    int    use_batch;      /* BN-bearing layers: the last forward used batch statistics */
    float  rate;           /* DROPOUT */
    unsigned act_flags;    /* ACT: ACT_PER_CHANNEL or 0 */
    int    n_act_params;   /* ACT: parameters per channel (or scalars) */
    const act_fn *fn;      /* ACT */
    size_t p[ACTI_MAX_SLOTS];   /* parameter offsets (float index into params / grads) */
    size_t ws[ACTI_MAX_SLOTS];  /* workspace offsets (float index into the arena) */
    size_t n_params;
    unsigned assign;       /* bit k: backward writes input k's gradient (=), being its first
                              writer (plan_grads in net.c); else it accumulates (+=) */
    double t_fwd, t_bwd;
} acti_layer;

/* ---------------------------------------------------------------------------------------------
 * Initialisation. Every parameter block says how it starts when it is added; act_net_new
 * applies the rules in the order the blocks were added, drawing from one RNG stream seeded by
 * cfg.seed, so that order is part of what a seed means: a layer adds its blocks in a fixed
 * order, and no value depends on a name or an offset. */
typedef enum acti_init_kind {
    ACTI_INIT_ZERO,
    ACTI_INIT_ONE,
    ACTI_INIT_HE,     /* conv / dense weights of fan in `fan`: N(0, 2 / fan); under
                         ACT_NN_INIT_TORCH U(-1/sqrt(fan), 1/sqrt(fan)), as PyTorch */
    ACTI_INIT_BIAS,   /* their biases: 0; under ACT_NN_INIT_TORCH U(+-1/sqrt(fan)) */
    ACTI_INIT_ACT     /* an activation's parameters: acti_act_init below */
} acti_init_kind;

/* An activation's parameters: `rows` rows of `channels` floats, parameter-major (the layout of
 * act_act_init_params and of an ACT layer's block). given: every row k is p[k]. Otherwise a
 * built-in fn (act_act_fn(id)) takes act_act_init_params(id, how) (the one place that knows
 * ACON-C's paper initialisation; rows < fn->n_params keeps the first rows, as Meta-ACON's p1, p2
 * of ACON-C); any other fn (an expression) starts at fn->defaults. */
typedef struct acti_act_init {
    const act_fn *fn;          /* borrowed: outlives the net */
    size_t        channels;    /* C for per-channel parameters, 1 for scalars */
    int           rows;        /* 1 .. fn->n_params */
    act_init      how;         /* built-ins: ACT_INIT_PAPER or ACT_INIT_DEFAULT */
    int           given;
    float         p[ACT_FN_MAX_PARAMS];
} acti_act_init;

typedef struct acti_init {
    acti_init_kind kind;
    size_t         off, size;  /* the block: floats into params (set by acti_param_block) */
    size_t         fan;        /* HE, BIAS: fan in */
    acti_act_init  act;        /* ACT */
} acti_init;

struct act_net {
    act_net_config cfg;
    char         model[ACT_NET_MAX_SPEC];
    int          n_layers, cap_layers;
    acti_layer  *layers;
    int          n_tensors, cap_tensors;
    acti_tensor *tensors;
    int          n_segs, cap_segs;
    act_param_seg *segs;
    int          n_inits, cap_inits;
    acti_init   *inits;        /* one per parameter block, in the order they were added */
    size_t       n_params;     /* floats in params (and grads) */
    float       *params;       /* one block: params then grads */
    float       *grads;
    size_t       arena_floats;
    float       *arena;        /* tensors' values and gradients, layer workspaces */
    size_t       n_cur;        /* batch of the last forward */
    int          threads, max_threads;
    int          train;        /* mode of the last forward */
    int          grads_zero;   /* act_optim_step left the gradient block zero */
    uint64_t     rng;          /* dropout; explicit state owned by the net */
    size_t       ws_col;       /* shared conv scratch: max_threads * col_floats */
    size_t       col_floats;
    size_t       conv_chunk_floats;  /* target conv scratch per thread (tests may lower it) */
    size_t       ws_red;       /* shared reduction scratch: ACTI_GROUPS * red_floats */
    size_t       red_floats;
    size_t       ws_shared;    /* scratch one layer's threads share (Winograd weights) */
    size_t       shared_floats;
    const int   *labels;
    int          logits_t;     /* tensor id of the logits */
    int          build_err;    /* first allocation failure while building */
    int          failed_layer; /* the layer whose last forward / backward failed; -1: none */
    int          lsuv_pending; /* ACT_NN_INIT_LSUV: act_net_lsuv has not run and no weights
                                  were loaded (act_train_run runs it first) */
    size_t       failed_n;     /* the batch of that pass */
};

/* ---------------------------------------------------------------------------------------------
 * Builder (net.c). acti_net_create checks cfg, runs build(net, ctx, diag), which adds layers
 * from tensor 0 (the input) and returns the logits' tensor id or a negative status, then plans
 * the gradient buffers, allocates the parameter block and the arena and applies the
 * initialisation rules. act_net_new (models.c) passes the model zoo's builder; tests pass
 * their own. */
typedef int acti_build_fn(act_net *net, void *ctx, act_diag *diag);
ACT_NODISCARD int acti_net_create(const act_net_config *cfg, acti_build_fn *build, void *ctx,
                                  act_net **out, act_diag *diag);
ACT_NODISCARD int acti_tensor_new(act_net *net, int c, int h, int w);
ACT_NODISCARD int acti_layer_new(act_net *net, acti_layer_kind kind, int in0, acti_layer **out);
/* Adds a block of size floats to layer li, started by *init (copied; off and size are filled
 * in here); returns its offset. A failure to record it is reported by acti_net_create. */
size_t acti_param_block(act_net *net, int li, size_t size, const acti_init *init);
/* Names [off, off + size) of layer li's blocks as a segment "l<li>.<kind>.<name>". */
ACT_NODISCARD int acti_param_seg(act_net *net, int li, const char *name, size_t off, size_t size,
                                 unsigned flags);
/* A block that is one segment, started by how (fan: HE, BIAS); returns its offset. */
size_t acti_param_new(act_net *net, int li, const char *name, size_t size, unsigned flags,
                      acti_init_kind how, size_t fan);
size_t acti_ws_new(act_net *net, size_t floats);
void   acti_need_col(act_net *net, size_t floats);   /* conv scratch per thread */
#define ACTI_CONV_CHUNK_FLOATS ((size_t)1 << 20)     /* 4 MB of im2col scratch per thread */
void   acti_need_red(act_net *net, size_t floats);   /* reduction scratch per group */
void   acti_need_shared(act_net *net, size_t floats);   /* scratch shared by a layer's team */
/* Fixed sample groups: a layer whose parameter gradients sum over the batch (act, conv) sums
 * each group's samples into the group's slot of the reduction scratch and adds the slots in
 * group order; threads take whole groups. The groups depend on n alone, so the gradients do
 * not depend on the thread count (tests/test_nn_gemm.c). */
enum { ACTI_GROUPS = 16 };
static inline int acti_n_groups(size_t n)
{
    return n < ACTI_GROUPS ? (n ? (int)n : 1) : ACTI_GROUPS;
}
/* The same with at least min samples per group (fewer groups for a layer whose per-group
 * overhead is large; still a function of the shapes alone). */
static inline int acti_n_groups_min(size_t n, size_t min)
{
    size_t q = min > 1 ? n / min : n;
    return q < 1 ? 1 : q < ACTI_GROUPS ? (int)q : ACTI_GROUPS;
}

static inline acti_tensor *acti_t(act_net *net, int id) { return &net->tensors[id]; }
static inline float *acti_val(act_net *net, int id) { return net->arena + net->tensors[id].val_off; }
static inline float *acti_grad(act_net *net, int id) { return net->arena + net->tensors[id].grad_off; }
static inline float *acti_ws(act_net *net, size_t off) { return net->arena + off; }
static inline float *acti_P(act_net *net, const acti_layer *l, int k) { return net->params + l->p[k]; }
static inline float *acti_G(act_net *net, const acti_layer *l, int k) { return net->grads + l->p[k]; }

/* The gain of act_nn_act_gain over net's activation layers, at their initial parameters: E[f^2]
 * averaged over the channels of each layer, then over the layers (init.c). A net without any
 * uses its configured activation's initial parameters. ACT_EINVAL with diag as act_nn_act_gain.
 * Reads the layer structs and the parameter block only (no pass). */
ACT_NODISCARD int acti_net_gain(const act_net *net, double *gain, act_diag *diag);

/* 1 for the run-record keys that say how this machine computes an experiment, not which one it
 * is (threads, gemm): left out of act_run_config_hash and free to change on resume (run.c). */
int acti_run_key_varies(const char *key, size_t len);

/* Splits [0, total) into nt near-equal ranges; thread tid gets [*lo, *hi) (gemm.c). */
void acti_nn_range(size_t total, int tid, int nt, size_t *lo, size_t *hi);

double acti_now(void);   /* monotonic seconds */

/* ---------------------------------------------------------------------------------------------
 * RNG: the engine keeps its states as plain uint64_t (net->rng, a checkpoint field; the training
 * loop's shuffles); these draw through the one generator, include/actlab/rng.h. */
static inline uint64_t acti_rng_next(uint64_t *s)
{
    act_rng r = { *s };
    uint64_t v = act_rng_next(&r);
    *s = r.state;
    return v;
}
static inline double acti_rng_uniform(uint64_t *s)   /* [0, 1) */
{
    act_rng r = { *s };
    double v = act_rng_uniform(&r);
    *s = r.state;
    return v;
}
static inline double acti_rng_normal(uint64_t *s)
{
    act_rng r = { *s };
    double v = act_rng_normal(&r);
    *s = r.state;
    return v;
}

#endif
