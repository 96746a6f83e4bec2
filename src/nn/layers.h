/* layers.h -- level 1 of the training engine (src/nn): every layer kind's constructor and its
 * forward / backward, one .c per layer (dense.c, conv2d.c, dwconv.c, batchnorm.c, pool.c,
 * misc.c, act_layer.c, meta_acon.c, frelu.c, shuffle.c), and the kernels they share (gemm.c,
 * conv3x3.c, winograd.c, batchnorm.c, dwconv.c). Uses net.h only; the layers know nothing of
 * models or of act_nn_act. Order: net.h <- layers.h (and pass.c) <- models.h <- nn_impl.h. */
#ifndef ACTLAB_NN_LAYERS_H
#define ACTLAB_NN_LAYERS_H

#include "nn/net.h"

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
 * weights: w (OC, C, 3, 3) transformed into u (acti_wino_u_floats), for fwd (tr 0) or for
 * bwd's dx (tr 1): once per pass, shared by the threads. fwd: y = conv(x, w) + b (b may be
 * NULL). bwd: dx += the input gradient (dx may be NULL), g (C*9, OC) += the weight gradient,
 * transposed (the conv layer's partial-sum layout). */
int    acti_wino_ok(int k, int stride, int pad, int h, int w);
int    acti_wino_use(act_conv_algo algo, int c, int oc, int h, int w, int pad);
size_t acti_wino_floats(int c, int oc, int h, int w, int pad);
size_t acti_wino_u_floats(int c, int oc);
/* Samples per group for bwd's weight gradient (>= 64 tiles: each group call pays the dU
 * clear and back-transform, so small planes take bigger groups). */
size_t acti_wino_group_min(int h, int w, int pad);
void   acti_wino_weights(const float *w, float *u, int C, int OC, int tr);
void   acti_wino_fwd(const float *x, const float *u, const float *b, float *y, size_t n, int C,
                     int OC, int H, int W, int pad, float *ws);
void   acti_wino_bwd(const float *x, const float *ut, const float *dy, float *dx, float *g,
                     size_t n, int C, int OC, int H, int W, int pad, float *ws);
ACT_NODISCARD int acti_bn_add(act_net *net, int in);
/* pool.c: max or average pooling, k x k, stride; pad (max pooling only, pad <= k/2): windows
 * clipped to the plane, as PyTorch's -inf padding. */
ACT_NODISCARD int acti_pool_add(act_net *net, acti_layer_kind kind, int in, int k, int stride,
                                int pad);
ACT_NODISCARD int acti_gap_add(act_net *net, int in);
ACT_NODISCARD int acti_dwconv_add(act_net *net, int in, int k, int stride, int pad, int bias);
ACT_NODISCARD int acti_add_add(act_net *net, int a, int b);
ACT_NODISCARD int acti_dropout_add(act_net *net, int in, float rate);
ACT_NODISCARD int acti_flatten_add(act_net *net, int in);
/* act_layer.c: an activation layer of f (borrowed: outlives the net), parameters per channel
 * ((n_params, C), per_channel 1) or scalar (0). They start at p0 (f->n_params values) when it is
 * not NULL; else, for a built-in f, at act_act_init_params(how); else at f->defaults. */
ACT_NODISCARD int acti_act_add(act_net *net, int in, const act_fn *f, int per_channel,
                               act_init how, const float *p0);
/* meta_acon.c: Meta-ACON-C with reduction r and generator BNs (bn 1) or not; p1, p2 always start
 * as ACON-C's paper initialisation (torch.randn in nmaac/acon acon.py). */
ACT_NODISCARD int acti_meta_acon_add(act_net *net, int in, int r, int bn);
/* frelu.c: FReLU (acon 0) or ACON-FReLU (acon 1). */
ACT_NODISCARD int acti_frelu_add(act_net *net, int in, int acon);
/* shuffle.c, ShuffleNetV2's channel plumbing. slice: channels [c0, c0 + c) of in (a channel
 * split is two slices); concat: a's channels then b's (same H, W; a may be b); shuffle: channel
 * q * (C/groups) + j of in becomes channel j * groups + q (groups must divide C). */
ACT_NODISCARD int acti_slice_add(act_net *net, int in, int c0, int c);
ACT_NODISCARD int acti_concat_add(act_net *net, int a, int b);
ACT_NODISCARD int acti_shuffle_add(act_net *net, int in, int groups);

/* Forward / backward of each kind. n is the batch; train the mode. They return ACT_OK, or the
 * status of a kernel that refused its input (an activation whose parameters left its domain):
 * the pass stops there and act_net_forward / act_net_backward return it. */
#define X(ID, name)                                                              \
    ACT_NODISCARD int acti_##name##_forward(act_net *net, acti_layer *l, size_t n,   \
                                            int train);                           \
    ACT_NODISCARD int acti_##name##_backward(act_net *net, acti_layer *l, size_t n);
ACTI_LAYER_LIST(X)
#undef X

/* pass.c: layers [from, to) of a forward pass on the batch already in the input tensor and in
 * the outputs of the layers before `from` (net->n_cur = n set by the caller); a failure is
 * recorded as act_net_forward records it. act_net_forward is this over every layer. */
ACT_NODISCARD int acti_net_forward_layers(act_net *net, size_t n, int train, int from, int to);

/* ---------------------------------------------------------------------------------------------
 * Kernels shared between layers */

/* C = alpha op(A) op(B) + beta C, row-major, by the net's GEMM back-end (cfg.gemm), split over
 * the larger of M and N across the calling OpenMP team (call from inside a parallel region with
 * tid/nt) or run whole (nt 1). */
void acti_gemm(const act_net *net, int tid, int nt, int ta, int tb, int M, int N, int K,
               float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C,
               int ldc);

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
/* The references the two are tested against (one output at a time; the same sums, added in
 * another order). */
void acti_dw_fwd_ref(const acti_dw_shape *s, int c0, int c1, const float *x, const float *w,
                     const float *b, float *y);
void acti_dw_bwd_ref(const acti_dw_shape *s, int c0, int c1, const float *x, const float *w,
                     const float *dy, float *dx, float *dw, float *db);

#endif
