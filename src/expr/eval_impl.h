/* eval_impl.h -- the per-op forward and backward math of a compiled program over one block,
 * written once and included twice by eval.c: T = float (the trainer's kernels, primitives from
 * src/act/vmath.h) and T = double (fingerprints and gradient checks). Needs T, FN(name),
 * VEC(name, a, y, m), ACT_FWD(...), ACT_BWD(...), ONE and TARGET (a function attribute selecting
 * the instruction set, or nothing) defined by the includer.
 *
 * Semantics (docs/expr-grammar.md): max/min propagate NaN and give a tie's gradient to the first
 * argument; |a|' = sign(a), 0 at 0; sinc(a) = sin(a)/a with 1 - a^2/6 for |a| < 1e-4. */

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

/* Values of instructions 0..n_eval-1 on one block of m elements. CONST, EPS and PARAM buffers
 * are filled by the caller. v[i] may alias x exactly (every op reads a[j], b[j] before it
 * writes y[j], or works through t1, t2). */
TARGET static void FN(forward_block)(const act_expr_prog *pr, T *const *v, const T *x, T *t1,
                                     T *t2, size_t m, int n_eval)
{
    for (int i = 0; i < n_eval; i++) {
        const acti_instr *in = &pr->ins[i];
        T *y = v[i];
        const T *a = in->a >= 0 ? VAL(in->a) : NULL;
        const T *b = in->b >= 0 ? VAL(in->b) : NULL;
        switch ((act_expr_op)in->op) {
        case ACT_EXPR_INPUT: case ACT_EXPR_CONST: case ACT_EXPR_EPS: case ACT_EXPR_PARAM:
        case ACT_EXPR_HOLE: case ACT_EXPR_OP_COUNT:
            break;
        case ACT_EXPR_NEG: LOOP y[j] = -a[j]; break;
        case ACT_EXPR_ADD: LOOP y[j] = a[j] + b[j]; break;
        case ACT_EXPR_SUB: LOOP y[j] = a[j] - b[j]; break;
        case ACT_EXPR_MUL: LOOP y[j] = a[j] * b[j]; break;
        case ACT_EXPR_DIV: LOOP y[j] = a[j] / b[j]; break;
        case ACT_EXPR_POWI:
            if (in->k == 0)
                LOOP y[j] = ONE;
            else
                FN(powi)(a, y, t1, in->k, m);
            break;
        case ACT_EXPR_ABS:
            LOOP y[j] = a[j] < 0 ? -a[j] : (a[j] == 0 ? 0 : a[j]);
            break;
        case ACT_EXPR_SQRT:     VEC(sqrt, a, y, m); break;
        case ACT_EXPR_EXP:      VEC(exp, a, y, m); break;
        case ACT_EXPR_LOG:      VEC(log, a, y, m); break;
        case ACT_EXPR_SIN:      VEC(sin, a, y, m); break;
        case ACT_EXPR_COS:      VEC(cos, a, y, m); break;
        case ACT_EXPR_SINH:     VEC(sinh, a, y, m); break;
        case ACT_EXPR_COSH:     VEC(cosh, a, y, m); break;
        case ACT_EXPR_TANH:     VEC(tanh, a, y, m); break;
        case ACT_EXPR_ASINH:    VEC(asinh, a, y, m); break;
        case ACT_EXPR_ATAN:     VEC(atan, a, y, m); break;
        case ACT_EXPR_ERF:      VEC(erf, a, y, m); break;
        case ACT_EXPR_SIGMOID:  VEC(sigmoid, a, y, m); break;
        case ACT_EXPR_SOFTPLUS: VEC(softplus, a, y, m); break;
        case ACT_EXPR_SINC:
            VEC(sin, a, t1, m);
            LOOP {
                T s = a[j] < 0 ? -a[j] : a[j];
                y[j] = s < (T)1e-4f ? ONE - a[j] * a[j] / 6 : t1[j] / a[j];
            }
            break;
        case ACT_EXPR_MAX:
            LOOP
                y[j] = (a[j] >= b[j] || a[j] != a[j]) ? a[j] : b[j];
            break;
        case ACT_EXPR_MIN:
            LOOP
                y[j] = (a[j] <= b[j] || a[j] != a[j]) ? a[j] : b[j];
            break;
        case ACT_EXPR_ACT:
            ACT_FWD(in, a, y, m);
            break;
        }
    }
    (void)t2;
}

/* Gradients of one block: g[i] (NULL where !need_grad) must be zeroed by the caller, except the
 * root's, which is dy (read only). Accumulates down the tape (fan-out adds). */
TARGET static void FN(backward_block)(const act_expr_prog *pr, T *const *v, T *const *g,
                                      const T *x, const T *dy, T *t1, T *t2, size_t m)
{
    for (int i = pr->n - 1; i >= 0; i--) {
        const acti_instr *in = &pr->ins[i];
        if (!g[i])
            continue;
        const T *gi = i == pr->n - 1 ? dy : g[i];
        const T *y = VAL(i);
        const T *a = in->a >= 0 ? VAL(in->a) : NULL;
        const T *b = in->b >= 0 ? VAL(in->b) : NULL;
        T *ga = in->a >= 0 ? g[in->a] : NULL;
        T *gb = in->b >= 0 ? g[in->b] : NULL;
        switch ((act_expr_op)in->op) {
        case ACT_EXPR_INPUT: case ACT_EXPR_CONST: case ACT_EXPR_EPS: case ACT_EXPR_PARAM:
        case ACT_EXPR_HOLE: case ACT_EXPR_OP_COUNT:
            break;
        case ACT_EXPR_NEG:
            LOOP ga[j] -= gi[j];
            break;
        case ACT_EXPR_ADD:
            if (ga) LOOP ga[j] += gi[j];
            if (gb) LOOP gb[j] += gi[j];
            break;
        case ACT_EXPR_SUB:
            if (ga) LOOP ga[j] += gi[j];
            if (gb) LOOP gb[j] -= gi[j];
            break;
        case ACT_EXPR_MUL:
            if (ga) LOOP ga[j] += gi[j] * b[j];
            if (gb) LOOP gb[j] += gi[j] * a[j];
            break;
        case ACT_EXPR_DIV:
            if (ga) LOOP ga[j] += gi[j] / b[j];
            if (gb) LOOP gb[j] -= gi[j] * y[j] / b[j];
            break;
        case ACT_EXPR_POWI: {
            int k = in->k;
            if (k == 0)
                break;
            if (k == 1) {
                LOOP ga[j] += gi[j];
            } else if (k == 2) {
                LOOP ga[j] += 2 * gi[j] * a[j];
            } else {
                FN(powi)(a, t1, t2, k - 1, m);              /* k a^(k-1) */
                LOOP ga[j] += (T)k * gi[j] * t1[j];
            }
            break;
        }
        case ACT_EXPR_ABS:
            LOOP
                ga[j] += a[j] > 0 ? gi[j] : (a[j] < 0 ? -gi[j] : (a[j] == 0 ? 0 : a[j]));
            break;
        case ACT_EXPR_SQRT:
            LOOP ga[j] += gi[j] * (T)0.5f / y[j];
            break;
        case ACT_EXPR_EXP:
            LOOP ga[j] += gi[j] * y[j];
            break;
        case ACT_EXPR_LOG:
            LOOP ga[j] += gi[j] / a[j];
            break;
        case ACT_EXPR_SIN:
            VEC(cos, a, t1, m);
            LOOP ga[j] += gi[j] * t1[j];
            break;
        case ACT_EXPR_COS:
            VEC(sin, a, t1, m);
            LOOP ga[j] -= gi[j] * t1[j];
            break;
        case ACT_EXPR_SINH:
            VEC(cosh, a, t1, m);
            LOOP ga[j] += gi[j] * t1[j];
            break;
        case ACT_EXPR_COSH:
            VEC(sinh, a, t1, m);
            LOOP ga[j] += gi[j] * t1[j];
            break;
        case ACT_EXPR_TANH:
            LOOP ga[j] += gi[j] * (ONE - y[j]) * (ONE + y[j]);
            break;
        case ACT_EXPR_ASINH:
            LOOP t1[j] = ONE + a[j] * a[j];
            VEC(sqrt, t1, t1, m);
            LOOP ga[j] += gi[j] / t1[j];
            break;
        case ACT_EXPR_ATAN:
            LOOP ga[j] += gi[j] / (ONE + a[j] * a[j]);
            break;
        case ACT_EXPR_SINC:
            VEC(sin, a, t1, m);
            VEC(cos, a, t2, m);
            LOOP {
                T s = a[j] < 0 ? -a[j] : a[j], aj = a[j];
                T d = s < (T)1e-4f ? -aj / 3 + aj * aj * aj / 30
                                   : (aj * t2[j] - t1[j]) / (aj * aj);
                ga[j] += gi[j] * d;
            }
            break;
        case ACT_EXPR_SIGMOID:
            LOOP ga[j] += gi[j] * y[j] * (ONE - y[j]);
            break;
        case ACT_EXPR_SOFTPLUS:
            VEC(sigmoid, a, t1, m);
            LOOP ga[j] += gi[j] * t1[j];
            break;
        case ACT_EXPR_ERF:
            LOOP t1[j] = -a[j] * a[j];
            VEC(exp, t1, t1, m);
            LOOP
                ga[j] += gi[j] * (T)1.12837916709551257390f * t1[j];   /* 2/sqrt(pi) */
            break;
        case ACT_EXPR_MAX:
            LOOP {
                int sel = a[j] >= b[j] || a[j] != a[j];
                if (ga) ga[j] += sel ? gi[j] : 0;
                if (gb) gb[j] += sel ? 0 : gi[j];
            }
            break;
        case ACT_EXPR_MIN:
            LOOP {
                int sel = a[j] <= b[j] || a[j] != a[j];
                if (ga) ga[j] += sel ? gi[j] : 0;
                if (gb) gb[j] += sel ? 0 : gi[j];
            }
            break;
        case ACT_EXPR_ACT:
            ACT_BWD(in, a, gi, ga, m);
            break;
        }
    }
}

/* block helpers compiled for the same instruction set (memset/memcpy inline as rep stos/movs,
 * which is slow for 2 KB blocks) */
TARGET static void FN(zero)(T *y, size_t m)
{
    LOOP y[j] = 0;
}

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
