/* eval_impl.h -- the per-op forward and backward math of a compiled program over one block,
 * written once and included twice by eval.c: T = float (the trainer's kernels, primitives from
 * src/act/vmath.h) and T = double (fingerprints and gradient checks). Needs T, FN(name),
 * VEC(name, a, y, m), ACT_FWD(...), ACT_BWD(...), ONE, TARGET (a function attribute selecting
 * the instruction set, or nothing) and SWISH_OK (1: lowered MULF instructions, acti_instr.swish,
 * run as the built-in swish kernel through SWISH_FWD(beta, u, y, m) and
 * SWISH_BWD(beta, u, gi, gu, dbeta, m, assign), which return an act_status) defined by the
 * includer.
 *
 * Semantics (docs/expr-grammar.md): max/min propagate NaN and give a tie's gradient to the first
 * argument; |a|' = sign(a), 0 at 0; sinc(a) = sin(a)/a with 1 - a^2/6 for |a| < 1e-4.
 *
 * Derivatives are written so that none cancels (tests/test_expr_accuracy.c checks value and
 * derivative of every primitive on every path against a long-double reference, to 8 ulps of
 * |f| + |x f'|): sinc' by its Taylor series where a cos a - sin a loses digits, sigmoid' and
 * tanh' from exp(-|a|) instead of y(1 - y) and (1 - y)(1 + y), which are 0 once y rounds to 1,
 * asinh' without squaring a huge a. */

#define VAL(idx) ((idx) == pr->input ? x : (const T *)v[idx])
#define LOOP _Pragma("omp simd") for (size_t j = 0; j < m; j++)

/* y = a^k by binary powering over the block; t is scratch. */
TARGET static void FN(powi)(const T *a, T *y, T *t, int k, size_t m)
{
    int e = k < 0 ? -k : k;
    if (e == 1) {
        LOOP
            y[j] = a[j];
    } else if (e == 2) {
        LOOP
            y[j] = a[j] * a[j];
    } else if (e == 3) {
        LOOP
            y[j] = a[j] * a[j] * a[j];
    } else {
        LOOP {
            t[j] = a[j];                            /* read a first: y may alias a */
            y[j] = ONE;
        }
        for (; e; e >>= 1) {
            if (e & 1)
                LOOP
                    y[j] *= t[j];
            if (e > 1)
                LOOP
                    t[j] *= t[j];
        }
    }
    if (k < 0)
        LOOP
            y[j] = ONE / y[j];
}

/* aux = F(b * c3) (or F(b)) of a gated instruction (MULF, MAXF, MINF) */
TARGET static void FN(gate)(const act_expr_prog *pr, const acti_instr *in, T *const *v,
                            T *const *aux, const T *x, size_t m)
{
    T *s = aux[in->aux];
    const T *z = VAL(in->b);
    if (in->c3 >= 0) {
        const T *c = VAL(in->c3);
        LOOP s[j] = z[j] * c[j];
        z = s;
    }
    if (in->k == ACT_EXPR_SIGMOID)
        VEC(sigmoid, z, s, m);
    else
        VEC(tanh, z, s, m);
}

/* BODY(SEL) with SEL the condition, per element j, that operand a wins over the gate s[j] in
 * the max or min of in (MAXF, MINF), in its argument order: NaN-propagating, ties to the first
 * argument. One copy of the loop per case, so each vectorises with its own comparison. */
#define MAXF_CASES(in, BODY)                                                     \
    do {                                                                         \
        int case_ = 2 * ((in)->op == ACTI_OP_MINF) + ((in)->order != 0);         \
        if (case_ == 0)                                                          \
            BODY(a[j] >= s[j] || a[j] != a[j]);                                  \
        else if (case_ == 1)                                                     \
            BODY(!(s[j] >= a[j] || s[j] != s[j]));                               \
        else if (case_ == 2)                                                     \
            BODY(a[j] <= s[j] || a[j] != a[j]);                                  \
        else                                                                     \
            BODY(!(s[j] <= a[j] || s[j] != s[j]));                               \
    } while (0)

/* t = F'(z) for F = sigmoid (k = ACT_EXPR_SIGMOID) or tanh, from z itself: y(1 - y) and
 * (1 - y)(1 + y) cancel where y = F(z) is near 1 and are 0 once it rounds to 1 (float: z > 17
 * for sigmoid, |z| > 9 for tanh; relative error ~u/(1 - y) before that), while with e = exp(-|z|)
 * (sigmoid) or exp(-2|z|) (tanh), both in (0, 1],
 *     sigmoid'(z) = e/(1 + e)^2,    tanh'(z) = 4e/(1 + e)^2
 * are within a few ulps everywhere (0 only where the true value is below FLT_MIN). z may alias
 * t exactly. */
TARGET static void FN(slope)(int k, const T *z, T *t, size_t m)
{
    T s = k == ACT_EXPR_SIGMOID ? -ONE : (T)-2, c = k == ACT_EXPR_SIGMOID ? ONE : (T)4;
    LOOP t[j] = s * (z[j] < 0 ? -z[j] : z[j]);
    VEC(exp, t, t, m);
    LOOP t[j] = c * t[j] / ((ONE + t[j]) * (ONE + t[j]));
}

/* t = F'(z) of the gate of a gated instruction (MULF, MAXF, MINF), z = b * c3 (or b): F'(s)
 * is not taken from the gate s = F(z) (see slope). Costs an exp per element that s(1 - s) did
 * not: max(x, sigmoid(x)) backward 0.64 -> 0.97 ns per element (AVX-512, n = 2^18). */
TARGET static void FN(gate_slope)(const act_expr_prog *pr, const acti_instr *in, T *const *v,
                                  const T *x, T *t, size_t m)
{
    const T *z = VAL(in->b);
    if (in->c3 >= 0) {
        const T *c = VAL(in->c3);
        LOOP t[j] = z[j] * c[j];
        z = t;
    }
    FN(slope)(in->k, z, t, m);
}

/* sinc'(a), given s = sin a and c = cos a. The closed form (cos a - sin(a)/a)/a (no a^2: it
 * would overflow for |a| > 1.8e19 in float) subtracts nearly equal terms for small |a|: its
 * rounding errors, a few ulps of |cos a| + |sinc a|, are amplified by
 *     L(a) = (|cos a| + |sinc a|)/|cos a - sinc a|  ~  6/a^2
 * (L = 600 at 0.1, 11 at 0.7, 4.6 at 1, 1.2 at 1.5; (a cos a - sin a)/a^2 in float gave 0 at
 * 2e-4 and was 40% off at 5e-4). Below |a| = 1.5, where L falls to about 1 and the closed form
 * is as accurate as its sin and cos, the Taylor series
 *     sinc'(a) = sum_{k>=1} (-1)^k 2k a^(2k-1)/(2k+1)!  =  -a/3 + a^3/30 - a^5/840 + ...
 * by Horner in a^2, to 11 terms in double and 7 in float: the first omitted term is below
 * 4e-20 (double) and 5e-11 (float) relative at 1.5, under each type's rounding. One threshold
 * serves float and double: L depends on a only, and each path's sin and cos err by about an
 * ulp of its own type. Near the roots of sinc' (tan a = a: 4.49, 7.73, ...) the closed form
 * cancels too, but only relative to a derivative that is itself ~0: its error there is what
 * one ulp of a would cause, which no formula beats. */
TARGET static inline T FN(dsinc)(T a, T s, T c)
{
    T z = a * a, p = (T)(-1.0 / 93405312000.0);
    if (sizeof(T) > sizeof(float)) {            /* (compile-time) 7 terms suffice in float */
        p = (T)(-1.0 / 1175091669949317120000.0);
        p = p * z + (T)(1.0 / 2554547108585472000.0);
        p = p * z + (T)(-1.0 / 6758061133824000.0);
        p = p * z + (T)(1.0 / 22230464256000.0);
        p = p * z + (T)(-1.0 / 93405312000.0);
    }
    p = p * z + (T)(1.0 / 518918400.0);
    p = p * z + (T)(-1.0 / 3991680.0);
    p = p * z + (T)(1.0 / 45360.0);
    p = p * z + (T)(-1.0 / 840.0);
    p = p * z + (T)(1.0 / 30.0);
    p = p * z + (T)(-1.0 / 3.0);
    T r = (c - s / a) / a;
    return (a < 0 ? -a : a) < (T)1.5f ? a * p : r;
}

#if SWISH_OK
/* 1 if the lowered MULF in may run as the swish kernel on this block: its b buffer is a constant
 * fill (pconst: the PARAM buffers are, i.e. the block lies in one channel) */
static inline int FN(swish_here)(const act_expr_prog *pr, const acti_instr *in, int pconst)
{
    return in->swish && (pconst || pr->ins[in->b].op != ACTI_OP_PARAM);
}
#endif

/* Values of the instructions on one block of m elements: all of them, or with only_live (the
 * backward pass) only those backward reads (acti_instr.live). CONST, EPS and PARAM buffers are
 * filled by the caller (pconst: the PARAM ones are constant over the block), aux buffers hold
 * the gates of MULF, MAXF, MINF (not of a MULF run as the swish kernel). v[i] may alias x
 * exactly (every op reads a[j], b[j] before it writes y[j], or works through t1, t2). */
TARGET static void FN(forward_block)(const act_expr_prog *pr, T *const *v, T *const *aux,
                                     const T *x, T *t1, T *t2, size_t m, int only_live,
                                     int pconst)
{
    for (int i = 0; i < pr->n; i++) {
        const acti_instr *in = &pr->ins[i];
        if (only_live && !in->live)
            continue;
        T *y = v[i];
        const T *a = in->a >= 0 ? VAL(in->a) : NULL;
        const T *b = in->b >= 0 ? VAL(in->b) : NULL;
        switch ((acti_iop)in->op) {
        case ACTI_OP_INPUT: case ACTI_OP_CONST: case ACTI_OP_EPS: case ACTI_OP_PARAM:
        case ACTI_OP_HOLE: case ACTI_OP_COUNT:
            break;
        case ACTI_OP_NEG: LOOP y[j] = -a[j]; break;
        case ACTI_OP_ADD: LOOP y[j] = a[j] + b[j]; break;
        case ACTI_OP_SUB: LOOP y[j] = a[j] - b[j]; break;
        case ACTI_OP_MUL: LOOP y[j] = a[j] * b[j]; break;
        case ACTI_OP_DIV: LOOP y[j] = a[j] / b[j]; break;
        case ACTI_OP_POWI:
            if (in->k == 0)
                LOOP y[j] = ONE;
            else
                FN(powi)(a, y, t1, in->k, m);
            break;
        case ACTI_OP_ABS:
            LOOP y[j] = a[j] < 0 ? -a[j] : (a[j] == 0 ? 0 : a[j]);
            break;
        case ACTI_OP_SQRT:     VEC(sqrt, a, y, m); break;
        case ACTI_OP_EXP:      VEC(exp, a, y, m); break;
        case ACTI_OP_LOG:      VEC(log, a, y, m); break;
        case ACTI_OP_SIN:      VEC(sin, a, y, m); break;
        case ACTI_OP_COS:      VEC(cos, a, y, m); break;
        case ACTI_OP_SINH:     VEC(sinh, a, y, m); break;
        case ACTI_OP_COSH:     VEC(cosh, a, y, m); break;
        case ACTI_OP_TANH:     VEC(tanh, a, y, m); break;
        case ACTI_OP_ASINH:    VEC(asinh, a, y, m); break;
        case ACTI_OP_ATAN:     VEC(atan, a, y, m); break;
        case ACTI_OP_ERF:      VEC(erf, a, y, m); break;
        case ACTI_OP_SIGMOID:  VEC(sigmoid, a, y, m); break;
        case ACTI_OP_SOFTPLUS: VEC(softplus, a, y, m); break;
        case ACTI_OP_SINC:
            VEC(sin, a, t1, m);
            LOOP {
                T s = a[j] < 0 ? -a[j] : a[j];
                y[j] = s < (T)1e-4f ? ONE - a[j] * a[j] / 6 : t1[j] / a[j];
            }
            break;
        case ACTI_OP_MAX:
            LOOP
                y[j] = (a[j] >= b[j] || a[j] != a[j]) ? a[j] : b[j];
            break;
        case ACTI_OP_MIN:
            LOOP
                y[j] = (a[j] <= b[j] || a[j] != a[j]) ? a[j] : b[j];
            break;
        case ACTI_OP_ACT:
            ACT_FWD(in, a, y, m);
            break;
        case ACTI_OP_MULF:
#if SWISH_OK
            /* u sigmoid(beta u) in one pass; a beta the kernel rejects takes the general path */
            /* (not in backward's forward pass: a live MULF keeps its gate for backward) */
            if (!only_live && FN(swish_here)(pr, in, pconst) && SWISH_FWD(b[0], a, y, m) == ACT_OK)
                break;
#endif
            FN(gate)(pr, in, v, aux, x, m);
            LOOP y[j] = a[j] * aux[in->aux][j];
            break;
        case ACTI_OP_MAXF: case ACTI_OP_MINF: {
            const T *s = aux[in->aux];
            FN(gate)(pr, in, v, aux, x, m);
#define MAXF_FWD(SEL) LOOP y[j] = (SEL) ? a[j] : s[j]
            MAXF_CASES(in, MAXF_FWD);
#undef MAXF_FWD
            break;
        }
        case ACTI_OP_FMA: {
            const T *c = VAL(in->c3);
            LOOP y[j] = a[j] * b[j] + c[j];
            break;
        }
        }
    }
    (void)t2;
    (void)pconst;
}

/* Gradients of one block. g[i] is the gradient buffer of instruction i (NULL where !need_grad);
 * the root's is dy (read only). The first write into a buffer (ACTI_G_FIRST_*) assigns, later
 * ones accumulate (fan-out adds), so nothing needs zeroing, except that with dx_acc the input's
 * buffer (dx) always accumulates. A sole pass-through writer (ACTI_G_ALIAS_*) only points the
 * operand's gradient at its own. Every need_grad operand of a need_grad instruction is written. */
/* g where sel, else 0 */
TARGET static inline T FN(pick)(int sel, T g)
{
    return sel ? g : 0;
}

#define GRAD(gp, first, expr)                 \
    do {                                      \
        if (first)                            \
            LOOP (gp)[j] = (expr);            \
        else                                  \
            LOOP (gp)[j] += (expr);           \
    } while (0)

/* the gradients of operands a and b (ea into ga, eb into gb, either may be NULL): one loop when
 * both are written into different buffers, else one loop each (same buffer: a's first) */
#define GRAD_AB(ea, eb)                                                          \
    do {                                                                         \
        if (ga && gb && ga != gb) {                                              \
            if (fa && fb)                                                        \
                LOOP { ga[j] = (ea); gb[j] = (eb); }                             \
            else if (fa)                                                         \
                LOOP { ga[j] = (ea); gb[j] += (eb); }                            \
            else if (fb)                                                         \
                LOOP { ga[j] += (ea); gb[j] = (eb); }                            \
            else                                                                 \
                LOOP { ga[j] += (ea); gb[j] += (eb); }                           \
        } else {                                                                 \
            if (ga) GRAD(ga, fa, (ea));                                          \
            if (gb) GRAD(gb, fb, (eb));                                          \
        }                                                                        \
    } while (0)

TARGET static void FN(backward_block)(const act_expr_prog *pr, T *const *v, T *const *aux,
                                      T *const *g, const T *x, const T *dy, T *t1, T *t2,
                                      size_t m, int dx_acc, int pconst)
{
    const T *gr[ACT_EXPR_MAX_INSTR];            /* gradients to read: g, or an alias */
    for (int i = 0; i < pr->n; i++)
        gr[i] = g[i];
    for (int i = pr->n - 1; i >= 0; i--) {
        const acti_instr *in = &pr->ins[i];
        if (!g[i])
            continue;
        const T *gi = i == pr->n - 1 ? dy : gr[i];
        const T *y = VAL(i);
        const T *a = in->a >= 0 ? VAL(in->a) : NULL;
        const T *b = in->b >= 0 ? VAL(in->b) : NULL;
        const T *c = in->c3 >= 0 ? VAL(in->c3) : NULL;
        T *ga = in->a >= 0 ? g[in->a] : NULL;
        T *gb = in->b >= 0 ? g[in->b] : NULL;
        T *gc = in->c3 >= 0 ? g[in->c3] : NULL;
        int gf = in->gflags;
        int fa = (gf & ACTI_G_FIRST_A) && !(dx_acc && in->a == pr->input);
        int fb = (gf & ACTI_G_FIRST_B) && !(dx_acc && in->b == pr->input);
        int fc = (gf & ACTI_G_FIRST_C) && !(dx_acc && in->c3 == pr->input);
        if (gf & ACTI_G_ALIAS_A) {
            gr[in->a] = gi;
            ga = NULL;
        }
        if (gf & ACTI_G_ALIAS_B) {
            gr[in->b] = gi;
            gb = NULL;
        }
        if (gf & ACTI_G_ALIAS_C) {
            gr[in->c3] = gi;
            gc = NULL;
        }
        switch ((acti_iop)in->op) {
        case ACTI_OP_INPUT: case ACTI_OP_CONST: case ACTI_OP_EPS: case ACTI_OP_PARAM:
        case ACTI_OP_HOLE: case ACTI_OP_COUNT:
            break;
        case ACTI_OP_NEG:
            GRAD(ga, fa, -gi[j]);
            break;
        case ACTI_OP_ADD:
            GRAD_AB(gi[j], gi[j]);
            break;
        case ACTI_OP_SUB:
            GRAD_AB(gi[j], -gi[j]);
            break;
        case ACTI_OP_MUL:
            GRAD_AB(gi[j] * b[j], gi[j] * a[j]);
            break;
        case ACTI_OP_DIV:
            GRAD_AB(gi[j] / b[j], -(gi[j] * y[j] / b[j]));
            break;
        case ACTI_OP_POWI: {
            int k = in->k;
            if (!ga)
                break;
            if (k == 0) {
                GRAD(ga, fa, 0);
            } else if (k == 1) {
                GRAD(ga, fa, gi[j]);
            } else if (k == 2) {
                GRAD(ga, fa, 2 * gi[j] * a[j]);
            } else {
                FN(powi)(a, t1, t2, k - 1, m);              /* k a^(k-1) */
                GRAD(ga, fa, (T)k * gi[j] * t1[j]);
            }
            break;
        }
        case ACTI_OP_ABS:
            GRAD(ga, fa, a[j] > 0 ? gi[j] : (a[j] < 0 ? -gi[j] : (a[j] == 0 ? 0 : a[j])));
            break;
        case ACTI_OP_SQRT:
            GRAD(ga, fa, gi[j] * (T)0.5f / y[j]);
            break;
        case ACTI_OP_EXP:
            GRAD(ga, fa, gi[j] * y[j]);
            break;
        case ACTI_OP_LOG:
            GRAD(ga, fa, gi[j] / a[j]);
            break;
        case ACTI_OP_SIN:
            VEC(cos, a, t1, m);
            GRAD(ga, fa, gi[j] * t1[j]);
            break;
        case ACTI_OP_COS:
            VEC(sin, a, t1, m);
            GRAD(ga, fa, -(gi[j] * t1[j]));
            break;
        case ACTI_OP_SINH:
            VEC(cosh, a, t1, m);
            GRAD(ga, fa, gi[j] * t1[j]);
            break;
        case ACTI_OP_COSH:
            VEC(sinh, a, t1, m);
            GRAD(ga, fa, gi[j] * t1[j]);
            break;
        case ACTI_OP_TANH:
            FN(slope)(ACT_EXPR_TANH, a, t1, m);
            GRAD(ga, fa, gi[j] * t1[j]);
            break;
        case ACTI_OP_ASINH:
            /* 1/sqrt(1 + a^2); 1/|a| beyond 2^60, where 1 + a^2 rounds to a^2 in both types
             * (float would overflow a^2 past 1.8e19 and return 0) */
            LOOP t1[j] = ONE + a[j] * a[j];
            VEC(sqrt, t1, t1, m);
            LOOP {
                T s = a[j] < 0 ? -a[j] : a[j];
                t1[j] = s > (T)0x1p60f ? s : t1[j];
            }
            GRAD(ga, fa, gi[j] / t1[j]);
            break;
        case ACTI_OP_ATAN:
            GRAD(ga, fa, gi[j] / (ONE + a[j] * a[j]));
            break;
        case ACTI_OP_SINC:
            VEC(sin, a, t1, m);
            VEC(cos, a, t2, m);
            LOOP t1[j] = FN(dsinc)(a[j], t1[j], t2[j]);
            GRAD(ga, fa, gi[j] * t1[j]);
            break;
        case ACTI_OP_SIGMOID:
            FN(slope)(ACT_EXPR_SIGMOID, a, t1, m);
            GRAD(ga, fa, gi[j] * t1[j]);
            break;
        case ACTI_OP_SOFTPLUS:
            VEC(sigmoid, a, t1, m);
            GRAD(ga, fa, gi[j] * t1[j]);
            break;
        case ACTI_OP_ERF:
            LOOP t1[j] = -a[j] * a[j];
            VEC(exp, t1, t1, m);
            GRAD(ga, fa, gi[j] * (T)1.12837916709551257390 * t1[j]);    /* 2/sqrt(pi) */
            break;
        case ACTI_OP_MAX:       /* gi passed as a value: a conditional load vectorises badly */
            GRAD_AB(FN(pick)(a[j] >= b[j] || a[j] != a[j], gi[j]),
                    FN(pick)(!(a[j] >= b[j] || a[j] != a[j]), gi[j]));
            break;
        case ACTI_OP_MIN:
            GRAD_AB(FN(pick)(a[j] <= b[j] || a[j] != a[j], gi[j]),
                    FN(pick)(!(a[j] <= b[j] || a[j] != a[j]), gi[j]));
            break;
        case ACTI_OP_ACT:
            ACT_BWD(in, a, gi, ga, m, fa);
            break;
        case ACTI_OP_MULF: {
            /* y = a F(z), z = b c */
            const T *s = aux[in->aux];
#if SWISH_OK
            if (!in->live && FN(swish_here)(pr, in, pconst)) {
                /* (a live MULF has its gate in aux already: the general path is cheaper)
                 * the swish kernel: u's gradient (into t1 if u has none), and beta's block sum
                 * as b's gradient, all in element 0 (the drivers sum b's buffer over the block,
                 * or over the block's one channel: they get exactly dbeta) */
                T db = 0;
                if (SWISH_BWD(b[0], a, gi, ga ? ga : t1, gb ? &db : NULL, m,
                              ga ? fa : 1) == ACT_OK) {
                    if (gb && fb) {
                        LOOP gb[j] = 0;
                        gb[0] = db;
                    } else if (gb) {
                        gb[0] += db;
                    }
                    break;
                }
            }
            if (!in->live)                              /* forward skipped it */
                FN(gate)(pr, in, v, aux, x, m);
#else
            if (!in->live)                              /* forward skipped it */
                FN(gate)(pr, in, v, aux, x, m);
#endif
            FN(gate_slope)(pr, in, v, x, t1, m);        /* F'(z), without cancellation */
#define MULF_BWD(DF)                                                                     \
    do {                                                                                 \
        if (c == a && ga && gb && ga != gb) {   /* a F(b a), e.g. swish: one loop */      \
            if (fa && fb)                                                                \
                LOOP { T d_ = gi[j] * a[j] * (DF); ga[j] = gi[j] * s[j] + d_ * b[j];      \
                       gb[j] = d_ * c[j]; }                                              \
            else if (fa)                                                                 \
                LOOP { T d_ = gi[j] * a[j] * (DF); ga[j] = gi[j] * s[j] + d_ * b[j];      \
                       gb[j] += d_ * c[j]; }                                             \
            else if (fb)                                                                 \
                LOOP { T d_ = gi[j] * a[j] * (DF); ga[j] += gi[j] * s[j] + d_ * b[j];     \
                       gb[j] = d_ * c[j]; }                                              \
            else                                                                         \
                LOOP { T d_ = gi[j] * a[j] * (DF); ga[j] += gi[j] * s[j] + d_ * b[j];     \
                       gb[j] += d_ * c[j]; }                                             \
        } else if (c == a) {                                                             \
            GRAD_AB(gi[j] * s[j] + gi[j] * a[j] * (DF) * b[j], gi[j] * a[j] * (DF) * c[j]); \
        } else if (c) {                                                                  \
            GRAD_AB(gi[j] * s[j], gi[j] * a[j] * (DF) * c[j]);                           \
        } else {                                                                         \
            GRAD_AB(gi[j] * s[j], gi[j] * a[j] * (DF));                                  \
        }                                                                                \
        if (gc && c != a)                                                                \
            GRAD(gc, fc, gi[j] * a[j] * (DF) * b[j]);                                    \
    } while (0)
            MULF_BWD(t1[j]);
#undef MULF_BWD
            break;
        }
        case ACTI_OP_MAXF: case ACTI_OP_MINF: {
            /* the other operand a takes gi where it wins, the gate's operand b gi F'(b) */
            const T *s = aux[in->aux];
            if (!in->live)
                FN(gate)(pr, in, v, aux, x, m);
            FN(gate_slope)(pr, in, v, x, t1, m);        /* F'(b), as in MULF */
#define MAXF_ONE(SEL) GRAD(ga, fa, FN(pick)(SEL, gi[j]) + FN(pick)(!(SEL), gi[j]) * t1[j])
#define MAXF_TWO(SEL) GRAD_AB(FN(pick)(SEL, gi[j]), FN(pick)(!(SEL), gi[j]) * t1[j])
            if (ga && b == a)                           /* max(x, sigmoid(x)): one loop */
                MAXF_CASES(in, MAXF_ONE);
            else if (b != a)
                MAXF_CASES(in, MAXF_TWO);
#undef MAXF_ONE
#undef MAXF_TWO
            break;
        }
        case ACTI_OP_FMA:
            GRAD_AB(gi[j] * b[j], gi[j] * a[j]);
            if (gc) GRAD(gc, fc, gi[j]);
            break;
        }
    }
    (void)pconst;
}

#undef GRAD
#undef GRAD_AB
#undef MAXF_CASES

/* block helpers compiled for the same instruction set (memset/memcpy inline as rep stos/movs,
 * which is slow for 2 KB blocks) */
TARGET static void FN(copy)(T *y, const T *a, size_t m)
{
    LOOP y[j] = a[j];
}

TARGET static T FN(sum)(const T *a, size_t m)
{
    T s = 0;
    _Pragma("omp simd reduction(+:s)")
    for (size_t j = 0; j < m; j++)
        s += a[j];
    return s;
}

#undef VAL
#undef LOOP
