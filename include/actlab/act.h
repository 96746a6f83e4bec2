/* act.h -- built-in activation functions: one list, exact and fast forward/backward kernels.
 *
 * Every activation is one row of ACT_ACT_LIST. The enum, the name lookup, the descriptor
 * table, the scalar/AVX2/AVX-512 kernels, the CLI listing, docs/activations.md and the tests
 * are all generated from it.
 *
 * Data layout: x is (outer, channels, inner), contiguous. One call serves dense (N, C)
 * tensors (outer = N, inner = 1) and conv (N, C, H, W) tensors (outer = N, inner = H*W).
 * Parameters are either scalar, p[k], or per channel, p[k*channels + c] (parameter-major),
 * chosen by the ACT_PER_CHANNEL flag. Parameter gradients dp have the same shape as p.
 *
 * Kernels never allocate, never print; they return an act_status.
 */
#ifndef ACTLAB_ACT_H
#define ACTLAB_ACT_H

#include <stddef.h>
#include <stdint.h>
#include "actlab/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ACT_ACT_MAX_PARAMS 3

/* Flags describing an activation's math (the `flags` column). */
#define ACT_ACT_KINK    0x1u  /* not differentiable at the points in the kink columns */
#define ACT_ACT_CHANNEL 0x2u  /* layers make its parameters per channel by default */
#define ACT_ACT_RANDP   0x4u  /* nmaac/acon acon.py draws p1, p2 from N(0,1) (ACON-C) */

/*
 * X(ID, name, np, flags, learn, n0, d0, n1, d1, n2, d2, nk, k0, k1, nz, cost, vec, formula, torch)
 *   ID        enum suffix                ACT_ACT_SWISH
 *   name      C identifier and CLI name  "swish"; the math is act_<name>_f / _d (act_scalar.h)
 *   np        number of parameters       0..ACT_ACT_MAX_PARAMS
 *   flags     ACT_ACT_* above
 *   learn     bit k set: parameter k is learnable (trained, never weight-decayed)
 *   nK, dK    parameter K's name and default (unused slots: _ and 0)
 *   nk,k0,k1  number of kinks at the default parameters, and where they are
 *   nz        bit k set: parameter k must be nonzero (every parameter must be finite)
 *   cost      MEM: a few ALU ops per element, bound by memory (threads from 2^16 elements,
 *             non-temporal stores of DRAM-sized outputs); MATH: transcendental (threads from 2^14)
 *   vec       1: has vector kernels (vf_/vd_<name> in act_simd.h, acti_prep_<name> in
 *             act_prep.h); 0: every ISA runs the scalar reference
 *   formula   one line of math, for `actlab list` and docs/activations.md
 *   torch     the PyTorch export (act_expr_print): X the input, P0..P2 the parameters
 * Adding an activation: docs/internals.md.
 */
#define ACT_ACT_LIST(X)                                                                             \
    X(RELU,       relu,        0, ACT_ACT_KINK, 0x0, _, 0.0f, _, 0.0f, _, 0.0f, 1, 0.0f, 0.0f,      \
      0x0, MEM, 1, "max(x, 0)",                                                                     \
      "torch.relu(X)")                                                                              \
    X(LEAKY_RELU, leaky_relu,  1, ACT_ACT_KINK, 0x0, a, 0.01f, _, 0.0f, _, 0.0f, 1, 0.0f, 0.0f,     \
      0x0, MEM, 1, "x > 0 ? x : a*x",                                                               \
      "torch.where(X > 0, X, P0 * X)")                                                              \
    X(PRELU,      prelu,       1, ACT_ACT_KINK | ACT_ACT_CHANNEL, 0x1, a, 0.25f, _, 0.0f, _, 0.0f,  \
      1, 0.0f, 0.0f, 0x0, MEM, 1, "max(x, 0) + a*min(x, 0)",                                        \
      "torch.where(X > 0, X, P0 * X)")                                                              \
    X(ELU,        elu,         1, ACT_ACT_KINK, 0x0, alpha, 1.0f, _, 0.0f, _, 0.0f, 1, 0.0f, 0.0f,  \
      0x0, MATH, 1, "x > 0 ? x : alpha*(exp(x) - 1)",                                               \
      "F.elu(X, P0)")                                                                               \
    X(SELU,       selu,        0, ACT_ACT_KINK, 0x0, _, 0.0f, _, 0.0f, _, 0.0f, 1, 0.0f, 0.0f,      \
      0x0, MATH, 1, "lambda*(x > 0 ? x : alpha*(exp(x) - 1)), alpha=1.6732632, lambda=1.0507010",   \
      "F.selu(X)")                                                                                  \
    X(CELU,       celu,        1, 0, 0x0, alpha, 1.0f, _, 0.0f, _, 0.0f, 0, 0.0f, 0.0f,             \
      0x1, MATH, 1, "max(x, 0) + min(0, alpha*(exp(x/alpha) - 1))",                                 \
      "F.celu(X, P0)")                                                                              \
    X(SOFTPLUS,   softplus,    2, 0, 0x0, beta, 1.0f, threshold, 20.0f, _, 0.0f, 0, 0.0f, 0.0f,     \
      0x1, MATH, 1, "beta*x > threshold ? x : log(1 + exp(beta*x))/beta",                           \
      "F.softplus(X, P0, P1)")                                                                      \
    X(SIGMOID,    sigmoid,     0, 0, 0x0, _, 0.0f, _, 0.0f, _, 0.0f, 0, 0.0f, 0.0f,                 \
      0x0, MATH, 1, "1/(1 + exp(-x))",                                                              \
      "torch.sigmoid(X)")                                                                           \
    X(TANH,       tanh,        0, 0, 0x0, _, 0.0f, _, 0.0f, _, 0.0f, 0, 0.0f, 0.0f,                 \
      0x0, MATH, 1, "tanh(x)",                                                                      \
      "torch.tanh(X)")                                                                              \
    X(HARDSIGMOID, hardsigmoid, 0, ACT_ACT_KINK, 0x0, _, 0.0f, _, 0.0f, _, 0.0f, 2, -3.0f, 3.0f,    \
      0x0, MEM, 1, "clip(x/6 + 1/2, 0, 1)",                                                         \
      "F.hardsigmoid(X)")                                                                           \
    X(HARDSWISH,  hardswish,   0, ACT_ACT_KINK, 0x0, _, 0.0f, _, 0.0f, _, 0.0f, 2, -3.0f, 3.0f,     \
      0x0, MEM, 1, "x*clip(x/6 + 1/2, 0, 1)",                                                       \
      "F.hardswish(X)")                                                                             \
    X(RELU6,      relu6,       0, ACT_ACT_KINK, 0x0, _, 0.0f, _, 0.0f, _, 0.0f, 2, 0.0f, 6.0f,      \
      0x0, MEM, 1, "min(max(x, 0), 6)",                                                             \
      "F.relu6(X)")                                                                                 \
    X(SILU,       silu,        0, 0, 0x0, _, 0.0f, _, 0.0f, _, 0.0f, 0, 0.0f, 0.0f,                 \
      0x0, MATH, 1, "x*sigmoid(x)  (Swish-1)",                                                      \
      "F.silu(X)")                                                                                  \
    X(SWISH,      swish,       1, ACT_ACT_CHANNEL, 0x1, beta, 1.0f, _, 0.0f, _, 0.0f,               \
      0, 0.0f, 0.0f, 0x0, MATH, 1, "x*sigmoid(beta*x)",                                             \
      "X * torch.sigmoid(P0 * X)")                                                                  \
    X(GELU,       gelu,        0, 0, 0x0, _, 0.0f, _, 0.0f, _, 0.0f, 0, 0.0f, 0.0f,                 \
      0x0, MATH, 1, "x*Phi(x) = x/2*(1 + erf(x/sqrt(2)))",                                          \
      "F.gelu(X)")                                                                                  \
    X(GELU_TANH,  gelu_tanh,   0, 0, 0x0, _, 0.0f, _, 0.0f, _, 0.0f, 0, 0.0f, 0.0f,                 \
      0x0, MATH, 1, "x/2*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3)))",                                \
      "F.gelu(X, approximate='tanh')")                                                              \
    X(MISH,       mish,        0, 0, 0x0, _, 0.0f, _, 0.0f, _, 0.0f, 0, 0.0f, 0.0f,                 \
      0x0, MATH, 1, "x*tanh(softplus(x))",                                                          \
      "F.mish(X)")                                                                                  \
    X(ACON_A,     acon_a,      1, ACT_ACT_CHANNEL, 0x1, beta, 1.0f, _, 0.0f, _, 0.0f,               \
      0, 0.0f, 0.0f, 0x0, MATH, 1, "x*sigmoid(beta*x)  (ACON-A: smooth max(x, 0))",                 \
      "X * torch.sigmoid(P0 * X)")                                                                  \
    X(ACON_B,     acon_b,      2, ACT_ACT_CHANNEL, 0x3, p, 0.25f, beta, 1.0f, _, 0.0f, 0, 0.0f,     \
      0.0f, 0x0, MATH, 1, "(1 - p)*x*sigmoid(beta*(1 - p)*x) + p*x  (ACON-B: smooth max(x, p*x))",  \
      "(1 - P0) * X * torch.sigmoid(P1 * (1 - P0) * X) + P0 * X")                                   \
    X(ACON_C,     acon_c,      3, ACT_ACT_CHANNEL | ACT_ACT_RANDP, 0x7, p1, 1.0f, p2, 0.0f, beta,   \
      1.0f, 0, 0.0f, 0.0f, 0x0, MATH, 1, "(p1 - p2)*x*sigmoid(beta*(p1 - p2)*x) + p2*x  (ACON-C)",  \
      "(P0 - P1) * X * torch.sigmoid(P2 * (P0 - P1) * X) + P1 * X")                                 \
    X(SMU,        smu,         2, 0, 0x2, alpha, 0.01f, mu, 2.5f, _, 0.0f, 0, 0.0f, 0.0f,           \
      0x0, MATH, 1, "((1 + alpha)*x + (1 - alpha)*x*erf(mu*(1 - alpha)*x))/2",                      \
      "0.5 * ((1 + P0) * X + (1 - P0) * X * torch.erf(P1 * (1 - P0) * X))")                         \
    X(SMU1,       smu1,        2, 0, 0x2, alpha, 0.01f, mu, 4.332461424154261e-9f, _, 0.0f, 0,      \
      0.0f, 0.0f, 0x0, MATH, 1, "((1 + alpha)*x + sqrt((1 - alpha)^2*x^2 + mu^2))/2",               \
      "0.5 * ((1 + P0) * X + torch.sqrt(((1 - P0) * X) ** 2 + P1 ** 2))")

typedef enum act_act_id {
#define X(ID, ...) ACT_ACT_##ID,
    ACT_ACT_LIST(X)
#undef X
    ACT_ACT_COUNT
} act_act_id;

/* Read-only description of one activation; see act_act_info(). */
typedef struct act_act_desc {
    const char *name;                               /* "swish" */
    const char *formula;                            /* "x*sigmoid(beta*x)" */
    int         n_params;                           /* 0..ACT_ACT_MAX_PARAMS */
    unsigned    flags;                              /* ACT_ACT_* */
    unsigned    learnable;                          /* bit k: parameter k is learnable */
    unsigned    nonzero;                            /* bit k: parameter k must be nonzero */
    const char *param_names[ACT_ACT_MAX_PARAMS];    /* "beta"; "_" for unused slots */
    float       defaults[ACT_ACT_MAX_PARAMS];
    int         n_kinks;                            /* at the default parameters */
    float       kinks[2];
} act_act_desc;

/* Descriptor of id; NULL if id is out of range. Static storage. */
ACT_API const act_act_desc *act_act_info(act_act_id id);

/* Finds an activation by name. ACT_OK, or ACT_ENOTFOUND (*out untouched). */
ACT_API ACT_NODISCARD int act_act_lookup(const char *name, act_act_id *out);

/* Index of parameter `pname` of id in *k. ACT_OK, or ACT_ENOTFOUND. */
ACT_API ACT_NODISCARD int act_act_param_index(act_act_id id, const char *pname, int *k);

/*
 * Named parameter presets: "default" for every activation, and for smu / smu1 also
 * "original" (arXiv v1 values: alpha 0.25, mu 1e6 / mu 4.352665993287951e-9).
 * Writes n_params values into p. ACT_OK or ACT_ENOTFOUND.
 */
ACT_API ACT_NODISCARD int act_act_preset(act_act_id id, const char *preset, float *p);

/* The i-th preset name of id ("default" is i = 0), or NULL past the last. Static storage. */
ACT_API const char *act_act_preset_name(act_act_id id, int i);

/* Checks that parameter values are valid for id: every one finite, and nonzero where the
 * descriptor's `nonzero` says so (softplus beta, celu alpha). ACT_OK or ACT_EINVAL. Called by
 * the kernels on scalar parameters and on every channel's parameters. */
ACT_API ACT_NODISCARD int act_act_check_params(act_act_id id, const float *p);

/* ---------------------------------------------------------------------------------------------
 * Kernels */

typedef struct act_shape {
    size_t outer, channels, inner;
} act_shape;

/* A flat vector of n elements with scalar parameters. */
static inline act_shape act_shape_flat(size_t n)
{
    act_shape s = { 1, 1, n };
    return s;
}

/* Flags for the kernels. */
#define ACT_PER_CHANNEL 0x1u  /* p is (n_params, channels); else p holds n_params scalars */
#define ACT_DX_ASSIGN   0x2u  /* backward writes dx = ... instead of accumulating dx += ... */

/*
 * y = f(x; p) over a tensor of shape s.
 * p may be NULL: the defaults, as scalars (then ACT_PER_CHANNEL must not be set).
 * x and y may alias exactly (in place); no other overlap.
 * ACT_EINVAL for a bad id, NULL x/y with elements, or invalid scalar parameters.
 */
ACT_API ACT_NODISCARD int act_act_forward(act_act_id id, const float *p, unsigned flags,
                                          const float *x, float *y, act_shape s);

/*
 * Accumulating backward pass. Takes the INPUT x (swish, gelu, mish cannot recover x from y):
 *   dx[i]  += dy[i] * df/dx(x[i]; p)               (= instead of += with ACT_DX_ASSIGN)
 *   dp[k]  += sum_i dy[i] * df/dp_k(x[i]; p)        scalar parameters, or per channel:
 *   dp[k*C + c] += sum over outer, inner of channel c.
 * dp may be NULL (parameter gradients skipped). dx may alias dy exactly.
 * Parameter gradients are bitwise identical whatever the thread count.
 */
ACT_API ACT_NODISCARD int act_act_backward(act_act_id id, const float *p, unsigned flags,
                                           const float *x, const float *dy, float *dx, float *dp,
                                           act_shape s);

/* Initial parameter values for a layer with `channels` channels, written parameter-major into
 * p (n_params * channels floats). ACT_INIT_DEFAULT: the defaults everywhere. ACT_INIT_PAPER:
 * as the official code (nmaac/acon acon.py), i.e. ACON-C p1, p2 ~ N(0, 1), beta = 1: the
 * normals are act_rng_normal draws (rng.h) from act_rng_seed(seed), p1 for every channel then
 * p2, which takes exactly 4 * channels act_rng_next steps (callers that continue the stream rely
 * on it). */
typedef enum act_init { ACT_INIT_DEFAULT, ACT_INIT_PAPER } act_init;
ACT_API ACT_NODISCARD int act_act_init_params(act_act_id id, act_init how, uint64_t seed,
                                              size_t channels, float *p);

/* ---------------------------------------------------------------------------------------------
 * Any activation: built-in or compiled expression, behind one descriptor (used by layers). */

#define ACT_FN_MAX_PARAMS 8

typedef struct act_fn act_fn;
struct act_fn {
    const char *name;                         /* "swish", or the expression's canonical text */
    int         n_params;                     /* 0..ACT_FN_MAX_PARAMS */
    unsigned    learnable;                    /* bit k: parameter k is learnable */
    unsigned    flags;                        /* ACT_ACT_* */
    const char *param_names[ACT_FN_MAX_PARAMS];
    float       defaults[ACT_FN_MAX_PARAMS];
    /* Same contracts as act_act_forward() / act_act_backward(); a dropped status is a
     * warning through the pointer too (GCC). */
    int (*forward)(const act_fn *f, const float *p, unsigned flags, const float *x, float *y,
                   act_shape s) ACT_NODISCARD;
    int (*backward)(const act_fn *f, const float *p, unsigned flags, const float *x,
                    const float *dy, float *dx, float *dp, act_shape s) ACT_NODISCARD;
    const void *ctx;                          /* owned by whoever made the act_fn */
};

/* The descriptor of a built-in activation; static storage, NULL if id is out of range. */
ACT_API const act_fn *act_act_fn(act_act_id id);

/* Whether f is defined at parameters p (f->n_params scalars): every value finite, and f's
 * forward accepts them (softplus beta = 0 is refused). ACT_OK, or ACT_EINVAL with diag (may be
 * NULL) "NAME is not defined at a=.., b=..". The one check behind -p values, act_net_new and
 * a training run whose parameters left the domain. */
ACT_API ACT_NODISCARD int act_fn_check_params(const act_fn *f, const float *p, act_diag *diag);

/* ---------------------------------------------------------------------------------------------
 * Run-time configuration: instruction set and threads.
 * Process-wide settings, read from ACTLAB_ISA and ACTLAB_THREADS on first use. */

#define ACT_ISA_LIST(X) \
    X(SCALAR, scalar)   \
    X(AVX2,   avx2)     \
    X(AVX512, avx512)

typedef enum act_isa {
#define X(ID, name) ACT_ISA_##ID,
    ACT_ISA_LIST(X)
#undef X
    ACT_ISA_COUNT
} act_isa;

ACT_API const char *act_isa_name(act_isa isa);
/* ACT_OK / ACT_ENOTFOUND */
ACT_API ACT_NODISCARD int act_isa_lookup(const char *name, act_isa *out);
ACT_API int  act_isa_supported(act_isa isa);                    /* 1 if this CPU can run it */
ACT_API act_isa act_isa_best(void);                             /* best supported */
ACT_API act_isa act_isa_get(void);                              /* the one in use */
/* Forces an instruction set; ACT_EUNSUPPORTED if this CPU lacks it. */
ACT_API ACT_NODISCARD int  act_isa_set(act_isa isa);

ACT_API int  act_threads_get(void);
/* Sets the number of threads the kernels may use (>= 1); ACT_EINVAL otherwise. */
ACT_API ACT_NODISCARD int  act_threads_set(int n);

#ifdef __cplusplus
}
#endif
#endif
