/* act.c -- the descriptor table, lookup, parameter helpers and the generic (scalar) kernels,
 * all generated from ACT_ACT_LIST; the math is in act_scalar.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "actlab/rng.h"
#include "act/act_kern.h"
#include "act/act_prep.h"
#include "act/act_scalar.h"

// ----------------------------------------------------------------------------
// descriptor table


static const act_act_desc act_desc[] = {
#define X(ID, name, np, flags, learn, n0, d0, n1, d1, n2, d2, nk, k0, k1, nz, cost, vec, formula, \
          ...)                                                                                 \
    [ACT_ACT_##ID] = { #name, formula, np, flags, learn, nz,                                    \
                       { #n0, #n1, #n2 }, { d0, d1, d2 }, nk, { k0, k1 } },
    ACT_ACT_LIST(X)
#undef X
};

_Static_assert(sizeof act_desc / sizeof act_desc[0] == ACT_ACT_COUNT,
               "act_desc out of sync with ACT_ACT_LIST");

const act_act_desc *act_act_info(act_act_id id)
{
    if ((unsigned)id >= ACT_ACT_COUNT)
        return NULL;
    return &act_desc[id];
}

int act_act_lookup(const char *name, act_act_id *out)
{
    if (!name || !out)
        return ACT_EINVAL;
    for (int i = 0; i < ACT_ACT_COUNT; i++) {
        if (strcmp(act_desc[i].name, name) == 0) {
            *out = (act_act_id)i;
            return ACT_OK;
        }
    }
    return ACT_ENOTFOUND;   /* never fall back silently to relu */
}

int act_act_param_index(act_act_id id, const char *pname, int *k)
{
    const act_act_desc *d = act_act_info(id);
    if (!d || !pname || !k)
        return ACT_EINVAL;
    for (int j = 0; j < d->n_params; j++) {
        if (strcmp(d->param_names[j], pname) == 0) {
            *k = j;
            return ACT_OK;
        }
    }
    return ACT_ENOTFOUND;
}

/* X(activation, preset, p0, p1, p2) -- named parameter sets beside "default". */
#define ACT_PRESET_LIST(X)                                     \
    X(SMU,  "original", 0.25f, 1e6f, 0.0f)                     \
    X(SMU1, "original", 0.25f, 4.352665993287951e-9f, 0.0f)

int act_act_preset(act_act_id id, const char *preset, float *p)
{
    const act_act_desc *d = act_act_info(id);
    if (!d || !preset || !p)
        return ACT_EINVAL;
    if (strcmp(preset, "default") == 0) {
        memcpy(p, d->defaults, (size_t)d->n_params * sizeof *p);
        return ACT_OK;
    }
#define X(ID, name, p0, p1, p2)                                        \
    if (id == ACT_ACT_##ID && strcmp(preset, name) == 0) {             \
        const float v[ACT_ACT_MAX_PARAMS] = { p0, p1, p2 };            \
        memcpy(p, v, (size_t)d->n_params * sizeof *p);                 \
        return ACT_OK;                                                 \
    }
    ACT_PRESET_LIST(X)
#undef X
    return ACT_ENOTFOUND;
}

const char *act_act_preset_name(act_act_id id, int i)
{
    if (!act_act_info(id) || i < 0)
        return NULL;
    if (i == 0)
        return "default";
    int k = 0;
#define X(ID, name, p0, p1, p2)                                        \
    if (id == ACT_ACT_##ID && ++k == i)                                \
        return name;
    ACT_PRESET_LIST(X)
#undef X
    return NULL;
}

int act_act_check_params(act_act_id id, const float *p)
{
    const act_act_desc *d = act_act_info(id);
    if (!d)
        return ACT_EINVAL;
    if (!p)
        return ACT_OK;
    for (int k = 0; k < d->n_params; k++)         /* the list's nz column: -0 counts as 0 */
        if (!isfinite(p[k]) || (((d->nonzero >> k) & 1u) && p[k] == 0.0f))
            return ACT_EINVAL;
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// scalar block kernels (the reference path; same interface as the vector ISAs)

static void act_row_p(const float *pt, size_t L, size_t j, float *pc)
{
    for (int k = 0; k < ACT_ACT_MAX_PARAMS; k++)
        pc[k] = pt[(size_t)k * L + j];
}

#define X(ID, name, np, ...)                                                                \
    static void act_##name##_fwd(const float *q, const float *p, const float *x, float *y,   \
                                 size_t n)                                                  \
    {                                                                                       \
        (void)q;                                                                            \
        for (size_t i = 0; i < n; i++)                                                      \
            y[i] = act_##name##_f(x[i], p);                                                 \
    }                                                                                       \
    static void act_##name##_bwd(const float *q, const float *p, const float *x,             \
                                 const float *dy, float *dx, size_t n, int assign,          \
                                 double *acc)                                               \
    {                                                                                       \
        (void)q;                                                                            \
        double s[ACT_ACT_MAX_PARAMS + 1] = { 0 };                                           \
        for (size_t i = 0; i < n; i++) {                                                    \
            float local[ACT_ACT_MAX_PARAMS + 1];                                            \
            float g = dy[i] * act_##name##_d(x[i], p, local);                               \
            dx[i] = assign ? g : dx[i] + g;                                                 \
            for (int k = 0; k < (np); k++)                                                  \
                s[k] += (double)(dy[i] * local[k]);                                         \
        }                                                                                   \
        for (int k = 0; acc && k < (np); k++)                                               \
            acc[k] += s[k];                                                                 \
    }                                                                                       \
    static void act_##name##_fwdr(const float *qt, const float *pt, size_t L, const float *x, \
                                  float *y, size_t rows, size_t ld)                         \
    {                                                                                       \
        (void)qt;                                                                           \
        for (size_t r = 0; r < rows; r++)                                                   \
            for (size_t j = 0; j < L; j++) {                                                \
                float pc[ACT_ACT_MAX_PARAMS];                                               \
                act_row_p(pt, L, j, pc);                                                    \
                y[r * ld + j] = act_##name##_f(x[r * ld + j], pc);                          \
            }                                                                               \
    }                                                                                       \
    static void act_##name##_bwdr(const float *qt, const float *pt, size_t L, const float *x, \
                                  const float *dy, float *dx, size_t rows, size_t ld,       \
                                  int assign, double *acc)                                  \
    {                                                                                       \
        (void)qt;                                                                           \
        for (size_t r = 0; r < rows; r++)                                                   \
            for (size_t j = 0; j < L; j++) {                                                \
                float pc[ACT_ACT_MAX_PARAMS], local[ACT_ACT_MAX_PARAMS + 1];                \
                size_t i = r * ld + j;                                                      \
                act_row_p(pt, L, j, pc);                                                    \
                float g = dy[i] * act_##name##_d(x[i], pc, local);                          \
                dx[i] = assign ? g : dx[i] + g;                                             \
                for (int k = 0; acc && k < (np); k++)                                       \
                    acc[(size_t)k * L + j] += (double)(dy[i] * local[k]);                   \
            }                                                                               \
    }
ACT_ACT_LIST(X)
#undef X

static const acti_kern act_kern_scalar[ACT_ACT_COUNT] = {
#define X(ID, name, ...)                                                                    \
    [ACT_ACT_##ID] = { act_##name##_fwd, act_##name##_bwd, act_##name##_fwdr, act_##name##_bwdr },
    ACT_ACT_LIST(X)
#undef X
};

/* The list's vec column: acti_prep_<name> for the rows with vector kernels; the others have no
 * derived constants (the scalar reference reads p). */
#define ACT_PREP_1(name) acti_prep_##name
#define ACT_PREP_0(name) NULL

typedef float act_prep_fn(const float *p, float *q);
static act_prep_fn *const act_prep[ACT_ACT_COUNT] = {
#define X(ID, name, np, flags, learn, n0, d0, n1, d1, n2, d2, nk, k0, k1, nz, cost, vec, ...)  \
    [ACT_ACT_##ID] = ACT_PREP_##vec(name),
    ACT_ACT_LIST(X)
#undef X
};

static const unsigned char act_vec[ACT_ACT_COUNT] = {
#define X(ID, name, np, flags, learn, n0, d0, n1, d1, n2, d2, nk, k0, k1, nz, cost, vec, ...)  \
    [ACT_ACT_##ID] = vec,
    ACT_ACT_LIST(X)
#undef X
};

static const unsigned char act_cost[ACT_ACT_COUNT] = {
#define X(ID, name, np, flags, learn, n0, d0, n1, d1, n2, d2, nk, k0, k1, nz, cost, ...)       \
    [ACT_ACT_##ID] = ACTI_COST_##cost,
    ACT_ACT_LIST(X)
#undef X
};

/* The kernels of id on the ISA in use: chosen once per call, never per element. A row without
 * vector kernels (vec 0) runs the scalar reference on every ISA. */
static const acti_kern *act_kern(act_act_id id)
{
    if (act_vec[id]) {
        switch (act_isa_get()) {
        case ACT_ISA_AVX512:
            return &acti_kern_avx512[id];
        case ACT_ISA_AVX2:
            return &acti_kern_avx2[id];
        case ACT_ISA_SCALAR:
        case ACT_ISA_COUNT:
            break;
        }
    }
    return &act_kern_scalar[id];
}

/* Derived constants q of parameter set p (scalar, double). */
static void act_q(act_act_id id, const float *p, float *q)
{
    for (int j = 0; j < ACTI_Q_MAX; j++)
        q[j] = 0.0f;
    q[ACTI_Q_BIG] = act_prep[id] ? act_prep[id](p, q) : -1.0f;
}

void acti_act_prep(act_act_id id, const float *p, float *q)
{
    act_q(id, p, q);
}

// ----------------------------------------------------------------------------
// threading: fixed blocks, so that every result is independent of the thread count

#define ACT_BLOCK      16384u   /* elements per block (at least) */
#define ACT_MAX_BLOCKS 256u     /* partial sums live on the stack */

/* Below this many elements a call stays on one thread. An empty 2-thread OpenMP region costs
 * about 1.2 us on the project VM (Zen 4, 2 vCPUs; dev/kernels/fork_cost.c), and a flat call is
 * split into blocks of at least ACT_BLOCK elements, so below 2 ACT_BLOCK there is one block and
 * the second thread idles: at 2^14 elements 2 threads measured 1.07-1.32x the 1-thread time
 * (gelu, silu, sigmoid), at 2^15 0.58-0.67x. Transcendental kernels (cost MATH) split from
 * 2 ACT_BLOCK = 2^15; the relu class (cost MEM, 0.08 ns/elem in cache) from 2^16 (2 threads
 * 0.92x at 2^16, 0.67x at 2^17; 1.00x at 2^14 and 2^15). */
static size_t act_thread_min(act_act_id id)
{
    return act_cost[id] == ACTI_COST_MEM ? 1u << 16 : 2u * ACT_BLOCK;
}

/* Block size for n elements: ACT_BLOCK, or larger so that there are at most ACT_MAX_BLOCKS. */
static size_t act_block(size_t n)
{
    size_t b = (n + ACT_MAX_BLOCKS - 1) / ACT_MAX_BLOCKS;
    b = (b + 63) & ~(size_t)63;
    return b > ACT_BLOCK ? b : ACT_BLOCK;
}

/* Non-temporal stores of y pay off only once x and y no longer fit in the caches (in cache
 * they are slower: about 2x for relu at 2^16 elements), and only for kernels that are bound by
 * memory: the relu class (both measured side by side by dev/quick_bench.c nt). */
#define ACT_NT_MIN ((size_t)1 << 22)   /* elements: x + y = 32 MiB */

acti_plan acti_act_plan(act_act_id id, size_t n)
{
    acti_plan pl;
    int t = act_threads_get();
    pl.kern = act_kern(id);
    pl.threads = (t > 1 && n >= act_thread_min(id)) ? t : 1;
    pl.nt = n >= ACT_NT_MIN && act_cost[id] == ACTI_COST_MEM && pl.kern->fwdnt != NULL;
    return pl;
}

static void act_fwd_flat(const acti_kern *k, int nt, int nts, const float *q, const float *p,
                         const float *x, float *y, size_t n)
{
    acti_fwd_fn *f = nts ? k->fwdnt : k->fwd;
    if (nt <= 1 && !nts) {   /* blocks start at multiples of 64: the same bits as one call */
        f(q, p, x, y, n);
        return;
    }
    /* The streaming kernel's head (up to the first 64-byte boundary of y) and tail run other
     * code than its body, so it always goes block by block: the same bits for any thread count */
    size_t bs = act_block(n), nb = (n + bs - 1) / bs;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (size_t b = 0; b < nb; b++) {
        size_t lo = b * bs, m = n - lo < bs ? n - lo : bs;
        f(q, p, x + lo, y + lo, m);
    }
}

/* acc[k] += sum over the n elements; the blocks and their summation order depend on n only. */
static void act_bwd_flat(const acti_kern *k, int nt, const float *q, const float *p,
                         const float *x, const float *dy, float *dx, size_t n, int assign,
                         double *acc)
{
    size_t bs = act_block(n), nb = (n + bs - 1) / bs;
    if (nb <= 1 || (!acc && nt <= 1)) {
        k->bwd(q, p, x, dy, dx, n, assign, acc);
        return;
    }
    double part[ACT_MAX_BLOCKS][ACT_ACT_MAX_PARAMS];
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (size_t b = 0; b < nb; b++) {
        size_t lo = b * bs, m = n - lo < bs ? n - lo : bs;
        for (int j = 0; j < ACT_ACT_MAX_PARAMS; j++)
            part[b][j] = 0.0;
        k->bwd(q, p, x + lo, dy + lo, dx + lo, m, assign, acc ? part[b] : NULL);
    }
    for (size_t b = 0; acc && b < nb; b++)
        for (int j = 0; j < ACT_ACT_MAX_PARAMS; j++)
            acc[j] += part[b][j];
}

// ----------------------------------------------------------------------------
// per-channel layouts with a small inner size (dense (N, C): inner 1): rows of L = C I
// positions, cut into column chunks of w positions (a multiple of 64, so a channel never
// straddles two chunks when I divides 64) and groups of rows; the constants of a chunk are
// derived once per item and loaded as vectors along the row. Chunks and groups depend on the
// shape only, so every result is independent of the thread count.

#define ACT_ROW_GROUPS 4u

static void act_channel_params(const act_act_desc *d, const float *p, size_t C, size_t c,
                               float *pc)
{
    for (int j = 0; j < ACT_ACT_MAX_PARAMS; j++)
        pc[j] = j < d->n_params ? p[(size_t)j * C + c] : 0.0f;
}


static int act_use_rows(act_shape s)
{
    return s.inner > 0 && s.inner < 64 && 64 % s.inner == 0;   /* inner 0: an empty tensor */
}

static size_t act_row_w(size_t L)   /* about L/8, in [64, ACTI_ROW_W] */
{
    size_t w = (L / 8 + 63) & ~(size_t)63;
    return w < 64 ? 64 : w > ACTI_ROW_W ? ACTI_ROW_W : w;
}

static size_t act_row_groups(size_t rows)   /* groups of at least 64 rows */
{
    size_t g = rows / 64;
    return g < 1 ? 1 : g > ACT_ROW_GROUPS ? ACT_ROW_GROUPS : g;
}

/* qt[k*m + j], pt[k*m + j]: the constants and parameters of row positions j0 .. j0+m */
static void act_row_consts(act_act_id id, const float *p, act_shape s, size_t j0, size_t m,
                           float *qt, float *pt)
{
    const act_act_desc *d = &act_desc[id];
    float pc[ACT_ACT_MAX_PARAMS], qc[ACTI_Q_MAX];
    size_t last = (size_t)-1;
    for (size_t j = 0; j < m; j++) {
        size_t c = (j0 + j) / s.inner;
        if (c != last) {
            act_channel_params(d, p, s.channels, c, pc);
            act_q(id, pc, qc);
            last = c;
        }
        for (int k = 0; k < ACTI_Q_MAX; k++)
            qt[(size_t)k * m + j] = qc[k];
        for (int k = 0; k < ACT_ACT_MAX_PARAMS; k++)
            pt[(size_t)k * m + j] = pc[k];
    }
}

static void act_fwd_rows(const acti_kern *k, act_act_id id, int nt, const float *p,
                         const float *x, float *y, act_shape s)
{
    size_t L = s.channels * s.inner, R = s.outer, w = act_row_w(L), nc = (L + w - 1) / w;
    size_t ng = act_row_groups(R), rg = (R + ng - 1) / ng;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (size_t it = 0; it < nc * ng; it++) {
        size_t j0 = it % nc * w, r0 = it / nc * rg;
        size_t m = L - j0 < w ? L - j0 : w, rr = R - r0 < rg ? R - r0 : rg;
        float qt[ACTI_Q_MAX * ACTI_ROW_W], pt[ACT_ACT_MAX_PARAMS * ACTI_ROW_W];
        if (r0 >= R)
            continue;
        act_row_consts(id, p, s, j0, m, qt, pt);
        k->fwdr(qt, pt, m, x + r0 * L + j0, y + r0 * L + j0, rr, L);
    }
}

/* dp[k*C + c] += the channel sums of acc ([np][m], positions j0 .. j0+m) */
static void act_row_dp(int np, const double *acc, size_t m, size_t j0, act_shape s, float *dp)
{
    for (int k = 0; k < np; k++)
        for (size_t j = 0; j < m; j += s.inner) {
            double t = 0.0;
            for (size_t i = 0; i < s.inner; i++)
                t += acc[(size_t)k * m + j + i];
            dp[(size_t)k * s.channels + (j0 + j) / s.inner] += (float)t;
        }
}

static void act_bwd_rows(const acti_kern *k, act_act_id id, int nt, const float *p,
                         const float *x, const float *dy, float *dx, float *dp, int assign,
                         act_shape s)
{
    int np = dp ? act_desc[id].n_params : 0;
    size_t L = s.channels * s.inner, R = s.outer, w = act_row_w(L), nc = (L + w - 1) / w;
    /* with parameter gradients, row groups only when there is a single chunk: their
     * partial sums are added in group order */
    size_t ng = (np && nc > 1) ? 1 : act_row_groups(R), rg = (R + ng - 1) / ng;
    double part[ACT_ROW_GROUPS][ACT_ACT_MAX_PARAMS * ACTI_ROW_W];
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (size_t it = 0; it < nc * ng; it++) {
        size_t j0 = it % nc * w, r0 = it / nc * rg;
        size_t m = L - j0 < w ? L - j0 : w, rr = R - r0 < rg ? R - r0 : rg;
        float qt[ACTI_Q_MAX * ACTI_ROW_W], pt[ACT_ACT_MAX_PARAMS * ACTI_ROW_W];
        double acc[ACT_ACT_MAX_PARAMS * ACTI_ROW_W];
        double *a = ng > 1 ? part[it / nc] : acc;
        for (size_t j = 0; j < (size_t)np * m; j++)
            a[j] = 0.0;
        if (r0 >= R)
            continue;
        act_row_consts(id, p, s, j0, m, qt, pt);
        k->bwdr(qt, pt, m, x + r0 * L + j0, dy + r0 * L + j0, dx + r0 * L + j0, rr, L, assign,
                np ? a : NULL);
        if (np && ng == 1)
            act_row_dp(np, a, m, j0, s, dp);
    }
    if (np && ng > 1) {   /* nc == 1: m == L */
        for (size_t g = 1; g < ng; g++)
            for (size_t j = 0; j < (size_t)np * L; j++)
                part[0][j] += part[g][j];
        act_row_dp(np, part[0], L, 0, s, dp);
    }
}

// ----------------------------------------------------------------------------
// public kernels

static int act_args_ok(act_act_id id, const float *p, unsigned flags, const float *x,
                       const float *y, act_shape s)
{
    if ((unsigned)id >= ACT_ACT_COUNT)
        return ACT_EINVAL;
    size_t n = s.outer * s.channels * s.inner;
    if (n && (!x || !y))
        return ACT_EINVAL;
    if ((flags & ACT_PER_CHANNEL) && !p && act_desc[id].n_params > 0)
        return ACT_EINVAL;
    if (!(flags & ACT_PER_CHANNEL))
        return act_act_check_params(id, p);
    for (size_t c = 0; c < s.channels && act_desc[id].n_params > 0; c++) {
        float pc[ACT_ACT_MAX_PARAMS];
        for (int j = 0; j < act_desc[id].n_params; j++)
            pc[j] = p[(size_t)j * s.channels + c];
        if (act_act_check_params(id, pc) != ACT_OK)
            return ACT_EINVAL;
    }
    return ACT_OK;
}

int act_act_forward(act_act_id id, const float *p, unsigned flags, const float *x, float *y,
                    act_shape s)
{
    int rc = act_args_ok(id, p, flags, x, y, s);
    if (rc != ACT_OK)
        return rc;
    const act_act_desc *d = &act_desc[id];
    size_t n = s.outer * s.channels * s.inner;
    acti_plan plan = acti_act_plan(id, n);
    const acti_kern *k = plan.kern;
    int nt = plan.threads;
    float q[ACTI_Q_MAX];
    if (!p)
        p = d->defaults;
    if (!(flags & ACT_PER_CHANNEL) || d->n_params == 0) {
        act_q(id, p, q);
        act_fwd_flat(k, nt, plan.nt, q, p, x, y, n);
        return ACT_OK;
    }
    if (act_use_rows(s)) {
        act_fwd_rows(k, id, nt, p, x, y, s);
        return ACT_OK;
    }
    size_t C = s.channels, I = s.inner, planes = s.outer * C;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (size_t pl = 0; pl < planes; pl++) {
        float pc[ACT_ACT_MAX_PARAMS], qc[ACTI_Q_MAX];
        act_channel_params(d, p, C, pl % C, pc);
        act_q(id, pc, qc);
        k->fwd(qc, pc, x + pl * I, y + pl * I, I);
    }
    return ACT_OK;
}

int act_act_backward(act_act_id id, const float *p, unsigned flags, const float *x,
                     const float *dy, float *dx, float *dp, act_shape s)
{
    int rc = act_args_ok(id, p, flags, x, dx, s);
    if (rc != ACT_OK)
        return rc;
    size_t n = s.outer * s.channels * s.inner;
    if (n && !dy)
        return ACT_EINVAL;
    const act_act_desc *d = &act_desc[id];
    acti_plan plan = acti_act_plan(id, n);
    const acti_kern *k = plan.kern;
    int assign = (flags & ACT_DX_ASSIGN) != 0;
    int nt = plan.threads;
    int want = dp && d->n_params > 0;
    float q[ACTI_Q_MAX];
    if (!p)
        p = d->defaults;
    if (!(flags & ACT_PER_CHANNEL) || d->n_params == 0) {
        double acc[ACT_ACT_MAX_PARAMS] = { 0 };
        act_q(id, p, q);
        act_bwd_flat(k, nt, q, p, x, dy, dx, n, assign, want ? acc : NULL);
        for (int j = 0; want && j < d->n_params; j++)
            dp[j] += (float)acc[j];
        return ACT_OK;
    }
    if (act_use_rows(s)) {
        act_bwd_rows(k, id, nt, p, x, dy, dx, want ? dp : NULL, assign, s);
        return ACT_OK;
    }
    /* per channel: one thread per channel, the outer index summed in order */
    size_t C = s.channels, I = s.inner;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (size_t c = 0; c < C; c++) {
        float pc[ACT_ACT_MAX_PARAMS], qc[ACTI_Q_MAX];
        double acc[ACT_ACT_MAX_PARAMS] = { 0 };
        act_channel_params(d, p, C, c, pc);
        act_q(id, pc, qc);
        for (size_t o = 0; o < s.outer; o++) {
            size_t off = (o * C + c) * I;
            k->bwd(qc, pc, x + off, dy + off, dx + off, I, assign, want ? acc : NULL);
        }
        for (int j = 0; want && j < d->n_params; j++)
            dp[(size_t)j * C + c] += (float)acc[j];
    }
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// parameter initialisation

int act_act_init_params(act_act_id id, act_init how, uint64_t seed, size_t channels, float *p)
{
    const act_act_desc *d = act_act_info(id);
    if (!d || (channels && d->n_params && !p))
        return ACT_EINVAL;
    for (int j = 0; j < d->n_params; j++)
        for (size_t c = 0; c < channels; c++)
            p[(size_t)j * channels + c] = d->defaults[j];
    if (how == ACT_INIT_PAPER && (d->flags & ACT_ACT_RANDP)) {
        act_rng s = act_rng_seed(seed);             /* 2 draws a value: 4 C in all */
        for (int j = 0; j < 2; j++)                 /* p1, p2 ~ N(0, 1) per channel */
            for (size_t c = 0; c < channels; c++)
                p[(size_t)j * channels + c] = (float)act_rng_normal(&s);
    }
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// act_fn descriptors of the built-ins

/* ctx of a built-in's act_fn: its id */
static const act_act_id act_fn_id[ACT_ACT_COUNT] = {
#define X(ID, ...) [ACT_ACT_##ID] = ACT_ACT_##ID,
    ACT_ACT_LIST(X)
#undef X
};

static int act_fn_builtin_fwd(const act_fn *f, const float *p, unsigned flags, const float *x,
                              float *y, act_shape s)
{
    return act_act_forward(*(const act_act_id *)f->ctx, p, flags, x, y, s);
}

static int act_fn_builtin_bwd(const act_fn *f, const float *p, unsigned flags, const float *x,
                              const float *dy, float *dx, float *dp, act_shape s)
{
    return act_act_backward(*(const act_act_id *)f->ctx, p, flags, x, dy, dx, dp, s);
}

static const act_fn act_fn_table[] = {
#define X(ID, name, np, flags, learn, n0, d0, n1, d1, n2, d2, ...)                               \
    [ACT_ACT_##ID] = { #name, np, learn, flags, { #n0, #n1, #n2 }, { d0, d1, d2 },           \
                       act_fn_builtin_fwd, act_fn_builtin_bwd, &act_fn_id[ACT_ACT_##ID] },
    ACT_ACT_LIST(X)
#undef X
};

const act_fn *act_act_fn(act_act_id id)
{
    if ((unsigned)id >= ACT_ACT_COUNT)
        return NULL;
    return &act_fn_table[id];
}

int act_fn_check_params(const act_fn *f, const float *p, act_diag *diag)
{
    if (!f || (f->n_params > 0 && !p))
        return ACT_EINVAL;
    float x = 0.5f, y;
    int bad = f->forward(f, p, 0u, &x, &y, act_shape_flat(1)) != ACT_OK;
    for (int k = 0; k < f->n_params; k++)
        bad |= !isfinite(p[k]);
    if (!bad)
        return ACT_OK;
    if (diag) {
        int len = snprintf(diag->msg, sizeof diag->msg, "%.128s is not defined at", f->name);
        for (int k = 0; k < f->n_params && len > 0 && (size_t)len < sizeof diag->msg; k++)
            len += snprintf(diag->msg + len, sizeof diag->msg - (size_t)len, "%s %s=%g",
                            k ? "," : "", f->param_names[k] ? f->param_names[k] : "p",
                            (double)p[k]);
    }
    return ACT_EINVAL;
}
