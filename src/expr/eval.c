/* eval.c -- forward and backward of a compiled program over (outer, channels, inner) tensors,
 * in cache-sized blocks: every instruction gets one block-sized buffer on the stack, and backward
 * recomputes the block's forward values, so extra memory is O(block) whatever n is. The op math
 * is eval_impl.h, instantiated for float (trainer, vmath kernels) and double. */
#include <math.h>
#include <string.h>

#include "act/vmath.h"
#include "expr/expr_int.h"

#define SCRATCH_BYTES 98304     /* per call, on the stack */
#define BLOCK_MAX     256       /* elements per block: 256 measured best (L1-resident; 512-2048 re-measured slower with fused programs) */
#define BLOCK_SWISH   1024     /* ... except where a MULF runs as the swish kernel: its per-call
                                 * cost (~30-70 ns) wants longer blocks */

// ----------------------------------------------------------------------------
// float instantiation

#define T       float
#define ONE     1.0f
#define VEC(nm, a, y, m) acti_vec_##nm((a), (y), (m))
/* Built-in calls inside an expression: parse checked their parameters (act_act_check_params)
 * and the buffers are the program's own, so the kernels cannot fail. */
#define ACT_FWD(in, a, y, m) \
    ACT_IGNORE(act_act_forward((act_act_id)(in)->k, (in)->p, 0, (a), (y), act_shape_flat(m)))
#define ACT_BWD(in, a, gi, ga, m, asg)                                                   \
    ACT_IGNORE(act_act_backward((act_act_id)(in)->k, (in)->p, (asg) ? ACT_DX_ASSIGN : 0, (a), \
                                (gi), (ga), NULL, act_shape_flat(m)))
/* lowered MULF: u sigmoid(beta u) as the built-in swish kernel, beta a scalar */
#define SWISH_OK 1
#define SWISH_FWD(beta, u, y, m) swish_fwd((beta), (u), (y), (m))
#define SWISH_BWD(beta, u, gi, gu, db, m, asg) swish_bwd((beta), (u), (gi), (gu), (db), (m), (asg))

static int swish_fwd(float beta, const float *u, float *y, size_t m)
{
    return act_act_forward(ACT_ACT_SWISH, &beta, 0, u, y, act_shape_flat(m));
}

static int swish_bwd(float beta, const float *u, const float *gi, float *gu, float *db, size_t m,
                     int assign)
{
    return act_act_backward(ACT_ACT_SWISH, &beta, assign ? ACT_DX_ASSIGN : 0, u, gi, gu, db,
                            act_shape_flat(m));
}

#define TARGET
#define FN(nm)  nm##_f
#include "expr/eval_impl.h"
#undef TARGET
#undef FN

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_X86 1
#define TARGET __attribute__((target("avx2,fma")))
#define FN(nm)  nm##_f256
#include "expr/eval_impl.h"
#undef TARGET
#undef FN
#define TARGET __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")))
#define FN(nm)  nm##_f512
#include "expr/eval_impl.h"
#undef TARGET
#undef FN
#endif

#undef T
#undef ONE
#undef VEC
#undef ACT_FWD
#undef ACT_BWD
#undef SWISH_OK
#undef SWISH_FWD
#undef SWISH_BWD

typedef void fwd_block_fn(const act_expr_prog *pr, float *const *v, float *const *aux,
                          const float *x, float *t1, float *t2, size_t m, int only_live,
                          int pconst);
typedef void bwd_block_fn(const act_expr_prog *pr, float *const *v, float *const *aux,
                          float *const *g, const float *x, const float *dy, float *t1, float *t2,
                          size_t m, int dx_acc, int pconst);

typedef struct kernels {
    fwd_block_fn *fwd;
    bwd_block_fn *bwd;
    void        (*copy)(float *y, const float *a, size_t m);
    float       (*sum)(const float *a, size_t m);
} kernels;

/* the block kernels for the instruction set in use (act_isa_get), chosen once per call */
static kernels pick_kernels(void)
{
    kernels k = { forward_block_f, backward_block_f, copy_f, sum_f };
#ifdef HAVE_X86
    switch (act_isa_get()) {
    case ACT_ISA_AVX512:
        k = (kernels){ forward_block_f512, backward_block_f512, copy_f512, sum_f512 };
        break;
    case ACT_ISA_AVX2:
        k = (kernels){ forward_block_f256, backward_block_f256, copy_f256, sum_f256 };
        break;
    case ACT_ISA_SCALAR: case ACT_ISA_COUNT:
        break;
    }
#endif
    return k;
}

// ----------------------------------------------------------------------------
// double instantiation: libm per element (not a hot path)

static double d_sigmoid(double x)
{
    double e = exp(-fabs(x)), r = 1.0 / (1.0 + e);
    return isnan(x) ? x : (x >= 0 ? r : e * r);
}

static double d_softplus(double x)
{
    return fmax(x, 0.0) + log1p(exp(-fabs(x)));
}

#define DVEC(nm, fn)                                                     \
    static void dvec_##nm(const double *a, double *y, size_t m)         \
    {                                                                    \
        for (size_t j = 0; j < m; j++)                                   \
            y[j] = fn(a[j]);                                             \
    }
DVEC(sqrt, sqrt)
DVEC(exp, exp)
DVEC(log, log)
DVEC(sin, sin)
DVEC(cos, cos)
DVEC(sinh, sinh)
DVEC(cosh, cosh)
DVEC(tanh, tanh)
DVEC(asinh, asinh)
DVEC(atan, atan)
DVEC(erf, erf)
DVEC(sigmoid, d_sigmoid)
DVEC(softplus, d_softplus)

/* built-ins are float kernels: convert at the boundary */
static void d_act_fwd(const acti_instr *in, const double *a, double *y, size_t m)
{
    float fa[BLOCK_MAX], fy[BLOCK_MAX];
    for (size_t j = 0; j < m; j++)
        fa[j] = (float)a[j];
    ACT_IGNORE(act_act_forward((act_act_id)in->k, in->p, 0, fa, fy, act_shape_flat(m)));
    for (size_t j = 0; j < m; j++)
        y[j] = (double)fy[j];
}

static void d_act_bwd(const acti_instr *in, const double *a, const double *gi, double *ga,
                      size_t m, int assign)
{
    float fa[BLOCK_MAX], fg[BLOCK_MAX], fd[BLOCK_MAX];
    for (size_t j = 0; j < m; j++) {
        fa[j] = (float)a[j];
        fg[j] = (float)gi[j];
    }
    ACT_IGNORE(act_act_backward((act_act_id)in->k, in->p, ACT_DX_ASSIGN, fa, fg, fd, NULL,
                                act_shape_flat(m)));
    for (size_t j = 0; j < m; j++)
        ga[j] = assign ? (double)fd[j] : ga[j] + (double)fd[j];
}

#define T       double
#define ONE     1.0
#define TARGET
#define FN(nm)  nm##_d
#define VEC(nm, a, y, m) dvec_##nm((a), (y), (m))
#define ACT_FWD(in, a, y, m) d_act_fwd((in), (a), (y), (m))
#define ACT_BWD(in, a, gi, ga, m, asg) d_act_bwd((in), (a), (gi), (ga), (m), (asg))
#define SWISH_OK 0                      /* the reference keeps lowered MULFs on the general path */
#include "expr/eval_impl.h"
#undef T
#undef ONE
#undef TARGET
#undef FN
#undef VEC
#undef ACT_FWD
#undef ACT_BWD
#undef SWISH_OK

// ----------------------------------------------------------------------------
// drivers

/* 1 for the leaves: their buffers are filled by the drivers, never computed */
static int is_leaf(acti_iop op)
{
    return op == ACTI_OP_INPUT || op == ACTI_OP_CONST || op == ACTI_OP_EPS ||
           op == ACTI_OP_PARAM || op == ACTI_OP_HOLE;
}

/* Elements per block for nbuf buffers of elem bytes in the scratch area, at most cap. */
static size_t block_size(int nbuf, size_t elem, size_t cap)
{
    size_t b = SCRATCH_BYTES / elem / (size_t)nbuf;
    if (b > cap)
        b = cap;
    if (b >= 16)
        b &= ~(size_t)15;                       /* keep buffers 64-byte multiples */
    return b ? b : 1;
}

/* dst[j] = p[k*C + c] for elements start..start+m of an (outer, C, inner) tensor. */
static void fill_channel(float *dst, const float *pk, act_shape s, size_t start, size_t m)
{
    size_t c = (start / s.inner) % s.channels, r = start % s.inner;
    for (size_t j = 0; j < m;) {
        size_t run = s.inner - r < m - j ? s.inner - r : m - j;
        float v = pk[c];
        for (size_t q = 0; q < run; q++)
            dst[j + q] = v;
        j += run;
        r = 0;
        if (++c == s.channels)
            c = 0;
    }
}

/* 1 if the PARAM buffers are constant over elements start..start+m: scalar parameters, or per
 * channel with the elements inside one channel's run of inner */
static int params_const(int per_ch, act_shape s, size_t start, size_t m)
{
    return !per_ch || start % s.inner + m <= s.inner;
}

/* dpk[c] += sum of g over the channel-c elements among start..start+m. */
static void reduce_channel(float *dpk, const float *g, act_shape s, size_t start, size_t m)
{
    size_t c = (start / s.inner) % s.channels, r = start % s.inner;
    for (size_t j = 0; j < m;) {
        size_t run = s.inner - r < m - j ? s.inner - r : m - j;
        double acc = 0.0;
        for (size_t q = 0; q < run; q++)
            acc += (double)g[j + q];
        dpk[c] += (float)acc;
        j += run;
        r = 0;
        if (++c == s.channels)
            c = 0;
    }
}

/* The block cap of a float call: BLOCK_SWISH where a lowered MULF will run the swish kernel on
 * (most) blocks: scalar parameters, or per channel with channel runs of a block or more; in
 * backward (bwd) only a MULF that is not live runs it (a live one keeps its gate) */
static size_t block_cap(const act_expr_prog *pr, int per_ch, act_shape s, int bwd)
{
    for (int i = 0; i < pr->n; i++)
        if (pr->ins[i].swish && !(bwd && pr->ins[i].live) && (!per_ch || s.inner >= BLOCK_SWISH))
            return BLOCK_SWISH;
    return BLOCK_MAX;
}

static int check_args(const act_expr_prog *pr, const float **p, unsigned *flags, const float *x,
                      const float *y, act_shape s, size_t *n)
{
    if (!pr)
        return ACT_EINVAL;
    *n = s.outer * s.channels * s.inner;
    if (*n && (!x || !y))
        return ACT_EINVAL;
    if (!*p) {
        if ((*flags & ACT_PER_CHANNEL) && pr->n_params > 0)
            return ACT_EINVAL;
        *p = pr->init;
    }
    if (pr->n_params == 0 || s.channels == 0)
        *flags &= ~ACT_PER_CHANNEL;
    return ACT_OK;
}

/* Fills the buffers that are constant over the call: CONST, EPS, scalar PARAM. */
static void fill_consts_f(const act_expr_prog *pr, float *const *v, const float *p, int per_ch,
                          size_t b)
{
    for (int i = 0; i < pr->n; i++) {
        const acti_instr *in = &pr->ins[i];
        float c;
        if (in->op == ACT_EXPR_CONST)
            c = in->c;
        else if (in->op == ACT_EXPR_EPS)
            c = pr->eps;
        else if (in->op == ACT_EXPR_PARAM && !per_ch)
            c = p[in->k];
        else
            continue;
        for (size_t j = 0; j < b; j++)
            v[i][j] = c;
    }
}

int act_expr_forward(const act_expr_prog *pr, const float *p, unsigned flags, const float *x,
                     float *y, act_shape s)
{
    size_t n;
    int rc = check_args(pr, &p, &flags, x, y, s, &n);
    if (rc != ACT_OK || n == 0)
        return rc;
    _Alignas(64) float scratch[SCRATCH_BYTES / sizeof(float)];
    float *v[ACT_EXPR_MAX_INSTR], *aux[ACT_EXPR_MAX_INSTR];
    int per_ch = (flags & ACT_PER_CHANNEL) != 0;
    size_t B = block_size(pr->n + pr->n_aux + 2, sizeof(float), block_cap(pr, per_ch, s, 0));
    for (int i = 0; i < pr->n; i++)
        v[i] = scratch + (size_t)i * B;
    for (int i = 0; i < pr->n_aux; i++)
        aux[i] = scratch + (size_t)(pr->n + i) * B;
    float *t1 = scratch + (size_t)(pr->n + pr->n_aux) * B, *t2 = t1 + B;
    fill_consts_f(pr, v, p, per_ch, B);
    kernels K = pick_kernels();
    fwd_block_fn *fwd = K.fwd;
    const int root = pr->n - 1;
    int direct = !is_leaf((acti_iop)pr->ins[root].op);
    for (size_t start = 0; start < n; start += B) {
        size_t m = n - start < B ? n - start : B;
        if (per_ch)
            for (int i = 0; i < pr->n; i++)
                if (pr->ins[i].op == ACT_EXPR_PARAM)
                    fill_channel(v[i], p + (size_t)pr->ins[i].k * s.channels, s, start, m);
        int pc = params_const(per_ch, s, start, m);
        if (direct) {
            v[root] = y + start;                    /* the last op writes the output */
            fwd(pr, v, aux, x + start, t1, t2, m, 0, pc);
            continue;
        }
        fwd(pr, v, aux, x + start, t1, t2, m, 0, pc);
        const float *r = root == pr->input ? x + start : v[root];
        if (r != y + start)
            memmove(y + start, r, m * sizeof *y);
    }
    return ACT_OK;
}

int act_expr_backward(const act_expr_prog *pr, const float *p, unsigned flags, const float *x,
                      const float *dy, float *dx, float *dp, act_shape s)
{
    size_t n;
    int rc = check_args(pr, &p, &flags, x, dx, s, &n);
    if (rc != ACT_OK || n == 0)
        return rc;
    if (!dy)
        return ACT_EINVAL;
    _Alignas(64) float scratch[SCRATCH_BYTES / sizeof(float)];
    float *v[ACT_EXPR_MAX_INSTR], *g[ACT_EXPR_MAX_INSTR], *aux[ACT_EXPR_MAX_INSTR];
    int per_ch = (flags & ACT_PER_CHANNEL) != 0, assign = (flags & ACT_DX_ASSIGN) != 0;
    int ng = 0;
    for (int i = 0; i < pr->n; i++)
        ng += pr->ins[i].need_grad != 0;
    size_t B = block_size(pr->n + pr->n_aux + ng + 2, sizeof(float),
                          block_cap(pr, per_ch, s, 1));
    float *next = scratch;
    for (int i = 0; i < pr->n; i++, next += B)
        v[i] = next;
    for (int i = 0; i < pr->n_aux; i++, next += B)
        aux[i] = next;
    for (int i = 0; i < pr->n; i++) {
        g[i] = pr->ins[i].need_grad ? next : NULL;
        next += pr->ins[i].need_grad ? B : 0;
    }
    float *t1 = next, *t2 = next + B;
    fill_consts_f(pr, v, p, per_ch, B);
    kernels K = pick_kernels();
    fwd_block_fn *fwd = K.fwd;
    bwd_block_fn *bwd = K.bwd;
    double acc[ACT_EXPR_MAX_PARAMS] = { 0 };
    const int root = pr->n - 1, in = pr->input;
    for (size_t start = 0; start < n; start += B) {
        size_t m = n - start < B ? n - start : B;
        float *d = dx + start;
        if (per_ch)
            for (int i = 0; i < pr->n; i++)
                if (pr->ins[i].op == ACT_EXPR_PARAM)
                    fill_channel(v[i], p + (size_t)pr->ins[i].k * s.channels, s, start, m);
        int pc = params_const(per_ch, s, start, m);
        fwd(pr, v, aux, x + start, t1, t2, m, 1, pc);   /* only what backward reads */
        if (root == in) {                           /* f(x) = x */
            for (size_t j = 0; j < m; j++)
                d[j] = assign ? dy[start + j] : d[j] + dy[start + j];
        } else {
            /* dx accumulates in place: the input's gradient buffer is dx itself */
            const float *gr = dy + start;
            /* dx is dy: keep dy before dx changes; a leaf root (beta) is read from g[root] */
            if (g[root] && (dx == dy || is_leaf((acti_iop)pr->ins[root].op))) {
                K.copy(g[root], dy + start, m);
                gr = g[root];
            }
            if (in >= 0 && g[in])
                g[in] = d;
            bwd(pr, v, aux, g, x + start, gr, t1, t2, m, !assign, pc);
            if (assign && (in < 0 || !g[in]))
                memset(d, 0, m * sizeof *d);
        }
        if (!dp)
            continue;
        for (int i = 0; i < pr->n; i++) {
            if (pr->ins[i].op != ACT_EXPR_PARAM || !g[i])
                continue;
            int k = pr->ins[i].k;
            if (per_ch) {
                reduce_channel(dp + (size_t)k * s.channels, g[i], s, start, m);
            } else {
                acc[k] += (double)K.sum(g[i], m);   /* one block in float, blocks in double */
            }
        }
    }
    if (dp && !per_ch)
        for (int k = 0; k < pr->n_params; k++)
            dp[k] += (float)acc[k];
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// double drivers (flat, scalar parameters)

static void fill_consts_d(const act_expr_prog *pr, double *const *v, const double *p, size_t b)
{
    for (int i = 0; i < pr->n; i++) {
        const acti_instr *in = &pr->ins[i];
        double c;
        if (in->op == ACT_EXPR_CONST)
            c = (double)in->c;
        else if (in->op == ACT_EXPR_EPS)
            c = (double)pr->eps;
        else if (in->op == ACT_EXPR_PARAM)
            c = p ? p[in->k] : (double)pr->init[in->k];
        else
            continue;
        for (size_t j = 0; j < b; j++)
            v[i][j] = c;
    }
}

int act_expr_forward_d(const act_expr_prog *pr, const double *p, const double *x, double *y,
                       size_t n)
{
    if (!pr || (n && (!x || !y)))
        return ACT_EINVAL;
    if (n == 0)
        return ACT_OK;
    _Alignas(64) double scratch[SCRATCH_BYTES / sizeof(double)];
    double *v[ACT_EXPR_MAX_INSTR], *aux[ACT_EXPR_MAX_INSTR];
    size_t B = block_size(pr->n + pr->n_aux + 2, sizeof(double), BLOCK_MAX);
    for (int i = 0; i < pr->n; i++)
        v[i] = scratch + (size_t)i * B;
    for (int i = 0; i < pr->n_aux; i++)
        aux[i] = scratch + (size_t)(pr->n + i) * B;
    double *t1 = scratch + (size_t)(pr->n + pr->n_aux) * B, *t2 = t1 + B;
    fill_consts_d(pr, v, p, B);
    const int root = pr->n - 1;
    for (size_t start = 0; start < n; start += B) {
        size_t m = n - start < B ? n - start : B;
        forward_block_d(pr, v, aux, x + start, t1, t2, m, 0, 1);
        const double *r = root == pr->input ? x + start : v[root];
        if (r != y + start)
            memmove(y + start, r, m * sizeof *y);
    }
    return ACT_OK;
}

int act_expr_backward_d(const act_expr_prog *pr, const double *p, const double *x,
                        const double *dy, double *dx, double *dp, size_t n)
{
    if (!pr || (n && (!x || !dy || !dx)))
        return ACT_EINVAL;
    if (n == 0)
        return ACT_OK;
    _Alignas(64) double scratch[SCRATCH_BYTES / sizeof(double)];
    double *v[ACT_EXPR_MAX_INSTR], *g[ACT_EXPR_MAX_INSTR], *aux[ACT_EXPR_MAX_INSTR];
    int ng = 0;
    for (int i = 0; i < pr->n; i++)
        ng += pr->ins[i].need_grad != 0;
    size_t B = block_size(pr->n + pr->n_aux + ng + 2, sizeof(double), BLOCK_MAX);
    double *next = scratch;
    for (int i = 0; i < pr->n; i++, next += B)
        v[i] = next;
    for (int i = 0; i < pr->n_aux; i++, next += B)
        aux[i] = next;
    for (int i = 0; i < pr->n; i++) {
        g[i] = pr->ins[i].need_grad ? next : NULL;
        next += pr->ins[i].need_grad ? B : 0;
    }
    double *t1 = next, *t2 = next + B;
    fill_consts_d(pr, v, p, B);
    const int root = pr->n - 1;
    for (size_t start = 0; start < n; start += B) {
        size_t m = n - start < B ? n - start : B;
        forward_block_d(pr, v, aux, x + start, t1, t2, m, 1, 1);
        if (g[root] && is_leaf((acti_iop)pr->ins[root].op))
            copy_d(g[root], dy + start, m);         /* a leaf root is read from g[root] */
        backward_block_d(pr, v, aux, g, x + start, dy + start, t1, t2, m, 0, 1);
        if (pr->input >= 0 && g[pr->input])
            for (size_t j = 0; j < m; j++)
                dx[start + j] += g[pr->input][j];
        for (int i = 0; dp && i < pr->n; i++)
            if (pr->ins[i].op == ACT_EXPR_PARAM && g[i])
                dp[pr->ins[i].k] += sum_d(g[i], m);
    }
    return ACT_OK;
}
