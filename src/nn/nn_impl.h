/* nn_impl.h -- internals of the training engine shared by src/nn/ (every .c): the net and layer
 * structs, the layer list, the builder, the threaded GEMM helper and the explicit RNG. */
#ifndef ACTLAB_NN_IMPL_H
#define ACTLAB_NN_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include "actlab/nn.h"

#ifdef _OPENMP
#include <omp.h>
#define ACTI_TID() omp_get_thread_num()
#define ACTI_NT() omp_get_num_threads()
#else
#define ACTI_TID() 0
#define ACTI_NT() 1
#endif

/* X(ID, name) -- every layer kind; each has acti_<name>_forward / _backward. */
#define ACTI_LAYER_LIST(X)  \
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
    X(ACON_FRELU, acon_frelu)

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
    int    in0, in1, out;  /* tensor ids (in1 only for ADD) */
    int    k, stride, pad; /* conv, dwconv, pools */
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
                              writer (acti_plan_grads); else it accumulates (+=) */
    double t_fwd, t_bwd;
} acti_layer;

/* Initialisers for parameter segments. */
typedef enum acti_init { ACTI_INIT_ZERO, ACTI_INIT_ONE, ACTI_INIT_HE, ACTI_INIT_LECUN,
                         ACTI_INIT_ACT } acti_init;

typedef struct acti_seg_init {
    acti_init how;
    size_t    fan;          /* HE / LECUN: fan in */
} acti_seg_init;

struct act_net {
    act_net_config cfg;
    char         model[128];
    int          n_layers, cap_layers;
    acti_layer  *layers;
    int          n_tensors, cap_tensors;
    acti_tensor *tensors;
    int          n_segs, cap_segs;
    act_param_seg *segs;
    acti_seg_init *seg_init;
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
    size_t       ws_red;       /* shared reduction scratch: max_threads * red_floats */
    size_t       red_floats;
    const int   *labels;
    int          logits_t;     /* tensor id of the logits */
    int          build_err;    /* first allocation failure while building */
    int          failed_layer; /* the layer whose last forward / backward failed; -1: none */
    size_t       failed_n;     /* the batch of that pass */
};

/* ---------------------------------------------------------------------------------------------
 * Builder (net.c). acti_net_create runs build(net, ctx, diag), which adds layers from tensor 0
 * (the input) and returns the logits' tensor id or a negative status; tests use it directly. */
typedef int acti_build_fn(act_net *net, void *ctx, act_diag *diag);
ACT_NODISCARD int acti_net_create(const act_net_config *cfg, acti_build_fn *build, void *ctx,
                                  act_net **out, act_diag *diag);
ACT_NODISCARD int acti_tensor_new(act_net *net, int c, int h, int w);
ACT_NODISCARD int acti_layer_new(act_net *net, acti_layer_kind kind, int in0, acti_layer **out);
/* Adds a parameter segment of size floats to layer li; returns its offset. */
size_t acti_param_new(act_net *net, int li, const char *name, size_t size, unsigned flags,
                      acti_init how, size_t fan);
/* A block of parameters without a segment, and a segment over part of a block. */
size_t acti_param_block(act_net *net, int li, size_t size);
ACT_NODISCARD int acti_param_seg(act_net *net, int li, const char *name, size_t off, size_t size,
                                 unsigned flags, acti_init how, size_t fan);
size_t acti_ws_new(act_net *net, size_t floats);
void   acti_need_col(act_net *net, size_t floats);   /* conv scratch per thread */
#define ACTI_CONV_CHUNK_FLOATS ((size_t)1 << 20)     /* 4 MB of im2col scratch per thread */
void   acti_need_red(act_net *net, size_t floats);   /* reduction scratch per thread */

static inline acti_tensor *acti_t(act_net *net, int id) { return &net->tensors[id]; }
static inline float *acti_val(act_net *net, int id) { return net->arena + net->tensors[id].val_off; }
static inline float *acti_grad(act_net *net, int id) { return net->arena + net->tensors[id].grad_off; }
static inline float *acti_ws(act_net *net, size_t off) { return net->arena + off; }
static inline float *acti_P(act_net *net, const acti_layer *l, int k) { return net->params + l->p[k]; }
static inline float *acti_G(act_net *net, const acti_layer *l, int k) { return net->grads + l->p[k]; }

/* Layer constructors: return the output tensor id, or a negative act_status (ACT_NODISCARD, as
 * every status-returning function of the library). */
ACT_NODISCARD int acti_dense_add(act_net *net, int in, int out_features);
ACT_NODISCARD int acti_conv_add(act_net *net, int in, int oc, int k, int stride, int pad, int bias);
/* conv3x3.c: direct 3x3 stride-1 pad-1 conv of one sample (C, OC <= 64); fwd and dx
 * return 0 (nothing done) where it does not apply. ok: whether it applies (dx: for the input
 * gradient); pack: the weights in the kernels' order and the lane masks, once per call. */
int acti_conv3x3_ok(int c, int oc, int h, int w, int dx);
enum { ACTI_CONV3X3_MASK_FLOATS = 2304 + 36864 };   /* pack = C*OC*9 weights + this */
void acti_conv3x3_pack(const float *w, float *pack, int C, int OC, int H, int Wd, int dx);
int acti_conv3x3_fwd(const float *x, const float *pack, const float *b, float *y, int C, int OC,
                     int H, int Wd);
int acti_conv3x3_dx(const float *dy, const float *pack, float *dx, int C, int OC, int H, int Wd);
void acti_conv3x3_dw(const float *x, const float *dy, const float *pack, float *g, size_t xs,
                     size_t ys, int nb, int C, int OC, int H, int Wd);
/* winograd.c: F(4x4, 3x3) Winograd conv over n samples (3x3, stride 1, pad 0 or 1), with
 * per-thread scratch ws of acti_wino_floats(C, OC, H, W, pad) floats. ok: it applies; use: the
 * layer should take it under algo (AUTO: where it measured faster than the direct/im2col path).
 * fwd: y = conv(x, w) + b (b may be NULL). bwd: dx += the input gradient (dx may be NULL),
 * g (C*9, OC) += the weight gradient, transposed (the conv layer's partial-sum layout). */
int    acti_wino_ok(int k, int stride, int pad, int h, int w);
int    acti_wino_use(act_conv_algo algo, int c, int oc, int h, int w, int pad);
size_t acti_wino_floats(int c, int oc, int h, int w, int pad);
void   acti_wino_fwd(const float *x, const float *w, const float *b, float *y, size_t n, int C,
                     int OC, int H, int W, int pad, float *ws);
void   acti_wino_bwd(const float *x, const float *w, const float *dy, float *dx, float *g,
                     size_t n, int C, int OC, int H, int W, int pad, float *ws);
ACT_NODISCARD int acti_bn_add(act_net *net, int in);
ACT_NODISCARD int acti_pool_add(act_net *net, acti_layer_kind kind, int in, int k, int stride);
ACT_NODISCARD int acti_gap_add(act_net *net, int in);
ACT_NODISCARD int acti_dwconv_add(act_net *net, int in, int k, int stride, int pad, int bias);
ACT_NODISCARD int acti_add_add(act_net *net, int a, int b);
ACT_NODISCARD int acti_dropout_add(act_net *net, int in, float rate);
ACT_NODISCARD int acti_flatten_add(act_net *net, int in);
ACT_NODISCARD int acti_act_add(act_net *net, int in, const act_nn_act *a, int stem);
/* Meta-ACON, FReLU, ACON-FReLU */
ACT_NODISCARD int acti_special_act_add(act_net *net, int in, const act_nn_act *a);
ACT_NODISCARD int acti_meta_acon_add(act_net *net, int in, int r, int bn);
ACT_NODISCARD int acti_frelu_add(act_net *net, int in, int acon);

/* Forward / backward of each kind. n is the batch; train the mode. They return ACT_OK, or the
 * status of a kernel that refused its input (an activation whose parameters left its domain):
 * the pass stops there and act_net_forward / act_net_backward return it. */
#define X(ID, name)                                                              \
    ACT_NODISCARD int acti_##name##_forward(act_net *net, acti_layer *l, size_t n,   \
                                            int train);                           \
    ACT_NODISCARD int acti_##name##_backward(act_net *net, acti_layer *l, size_t n);
ACTI_LAYER_LIST(X)
#undef X

/* ---------------------------------------------------------------------------------------------
 * Kernels shared between layers */

/* C = alpha op(A) op(B) + beta C, row-major, split over the larger of M and N across the
 * calling OpenMP team (call from inside a parallel region with tid/nt) or run whole (nt 1). */
void acti_gemm(int tid, int nt, int ta, int tb, int M, int N, int K, float alpha,
               const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
void acti_range(size_t total, int tid, int nt, size_t *lo, size_t *hi);

/* Batch norm over (N, C, HW): per channel statistics over N*HW.
 * Train with N*HW >= 2: batch statistics, running stats updated (momentum 0.1), mean and
 * invstd saved. Otherwise (eval, or a batch of one value per channel): running statistics. */
void acti_bn_fwd(int tid, int nt, int use_batch, const float *x, const float *gamma,
                 const float *beta, float *rmean, float *rvar, float *mean, float *invstd,
                 float *y, size_t N, size_t C, size_t HW);
void acti_bn_bwd(int tid, int nt, int use_batch, const float *x, const float *gamma,
                 const float *mean, const float *invstd, const float *dy, float *dx,
                 float *dgamma, float *dbeta, size_t N, size_t C, size_t HW, int assign);
/* The layer's form: for HW >= 16 samples are split across threads (call from every thread of
 * the team: it has a barrier) with part = acti_bn_part_doubles(N, C) doubles of scratch; else,
 * or with part NULL, the channel-split acti_bn_fwd / acti_bn_bwd. */
size_t acti_bn_part_doubles(size_t N, size_t C);
void acti_bn_fwd_any(int tid, int nt, int use_batch, const float *x, const float *gamma,
                     const float *beta, float *rmean, float *rvar, float *mean, float *invstd,
                     float *y, size_t N, size_t C, size_t HW, double *part);
void acti_bn_bwd_any(int tid, int nt, int use_batch, const float *x, const float *gamma,
                     const float *mean, const float *invstd, const float *dy, float *dx,
                     float *dgamma, float *dbeta, size_t N, size_t C, size_t HW, int assign,
                     double *part);
#define ACTI_BN_EPS 1e-5f
#define ACTI_BN_MOMENTUM 0.1f

/* Depthwise k x k conv over (N, C, H, W) -> (N, C, OH, OW), pad, stride, channels [c0, c1);
 * w (C, k, k), b (C) may be NULL. Backward accumulates dx (if not NULL), dw, db. */
typedef struct acti_dw_shape { size_t N; int C, H, W, k, stride, pad, OH, OW; } acti_dw_shape;
void acti_dw_fwd(const acti_dw_shape *s, int c0, int c1, const float *x, const float *w,
                 const float *b, float *y);
void acti_dw_bwd(const acti_dw_shape *s, int c0, int c1, const float *x, const float *w,
                 const float *dy, float *dx, float *dw, float *db);

/* ---------------------------------------------------------------------------------------------
 * RNG: splitmix64, explicit state. */
static inline uint64_t acti_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static inline double acti_rng_uniform(uint64_t *s)   /* [0, 1) */
{
    return (double)(acti_rng_next(s) >> 11) * 0x1.0p-53;
}
static inline double acti_rng_normal(uint64_t *s)
{
    double u1 = ((double)(acti_rng_next(s) >> 11) + 0.5) * 0x1.0p-53;
    double u2 = acti_rng_uniform(s);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double acti_now(void);   /* monotonic seconds */

#endif
