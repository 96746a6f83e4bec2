/* sig_variants.c -- probes of the FMA-pipe model of docs/internals.md (Kernel speed): cycles
 * per element of small call-free loops with their constants in registers (exp with a degree-5
 * polynomial, chains of 4 and 8 dependent FMAs, 1/(1+x), 1/(1+exp)) beside the library's
 * sigmoid block kernel, in L1 (2^11 elements), L2 (2^16) and L3 (2^20). If the FMA pipes bound
 * a loop, its cycles per 16 elements come out near its FMA-pipe op count (a division: about 3
 * of them, plus 6 cycles of the divider). Includes the library's AVX-512 instantiation under
 * other names. Not part of `make` (dev/README.md):
 *   cc -O2 -Iinclude -Isrc dev/kernels/sig_variants.c -lm -o build/sig_variants
 *   build/sig_variants */
#define acti_kern_avx512 dev_kern_avx512
#define acti_vm_avx512   dev_vm_avx512
#include "../../src/act/act_avx512.c"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double clock_hz(void)   /* 4 dependent integer adds per iteration, 1 cycle each */
{
    double best = 0;
    for (int r = 0; r < 5; r++) {
        uint64_t n = 20000000, a = 0;
        double t0 = now();
        for (uint64_t i = 0; i < n; i++)
            __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(a));
        double hz = 4.0 * (double)n / (now() - t0);
        if (hz > best)
            best = hz;
    }
    return best;
}

/* constants laundered through an empty asm: kept in registers, never {1to16} operands */
#define LAUNDER(v) __asm__("" : "+v"(v))
typedef struct kexp { V log2e, shift, ln2, c5, c4, c3, c2, c1, one, lo; } kexp;
static ACTV_TARGET void kexp_init(kexp *k)
{
    k->log2e = VSET1(1.44269504088896341f); LAUNDER(k->log2e);
    k->shift = VSET1(12582912.0f); LAUNDER(k->shift);
    k->ln2 = VSET1(-0.693147182f); LAUNDER(k->ln2);
    k->c5 = VSET1(0x1.0fe590p-7f); LAUNDER(k->c5);
    k->c4 = VSET1(0x1.575f4ep-5f); LAUNDER(k->c4);
    k->c3 = VSET1(0x1.555a1ap-3f); LAUNDER(k->c3);
    k->c2 = VSET1(0x1.fffd1ap-2f); LAUNDER(k->c2);
    k->c1 = VSET1(0x1.fffff6p-1f); LAUNDER(k->c1);
    k->one = VSET1(1.0f); LAUNDER(k->one);
    k->lo = VSET1(-87.33f); LAUNDER(k->lo);
}

/* e^x: shifter rounding (t = x log2e + 1.5 2^23), one-FMA reduction, degree 5, 2^n added to
 * the exponent field: 7 FMA-pipe ops (speed probe; x in [-87.33, 0]) */
ACTV_FN V vexp5r(V x, const kexp *k)
{
    V t = VFMA(x, k->log2e, k->shift);
    V n = VSUB(t, k->shift);
    V r = VFMA(n, k->ln2, x);
    V p = VFMA(k->c5, r, k->c4);
    p = VFMA(p, r, k->c3);
    p = VFMA(p, r, k->c2);
    p = VFMA(p, r, k->c1);
    p = VFMA(p, r, k->one);
    __m512i e = _mm512_slli_epi32(_mm512_castps_si512(t), 23);
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), e));
}

/* one vector per iteration, one range compare (as the library's loops), no call inside */
#define LEAF(name, BODY)                                                                    \
    static __attribute__((noinline)) ACTV_TARGET void loop_##name(const float *x, float *y, \
                                                                  size_t n)                 \
    {                                                                                       \
        kexp k;                                                                             \
        kexp_init(&k);                                                                      \
        V big = VSET1(1e30f);                                                               \
        for (size_t i = 0; i + VW <= n; i += VW) {                                          \
            V z = VLOAD(x + i);                                                             \
            if (VUNSAFE(z, big))                                                            \
                break;                                                                      \
            VSTORE(y + i, BODY);                                                            \
        }                                                                                   \
    }
LEAF(fma4, ({ V a_ = VFMA(z, k.c1, k.c2); a_ = VFMA(a_, z, k.c3); a_ = VFMA(a_, z, k.c4);
              VFMA(a_, z, k.c5); }))
LEAF(fma8, ({ V a_ = VFMA(z, k.c1, k.c2); a_ = VFMA(a_, z, k.c3); a_ = VFMA(a_, z, k.c4);
              a_ = VFMA(a_, z, k.c5); a_ = VFMA(a_, z, k.c1); a_ = VFMA(a_, z, k.c2);
              a_ = VFMA(a_, z, k.c3); VFMA(a_, z, k.c4); }))
LEAF(exp5, vexp5r(VMAX(VNEG(VABS(z)), k.lo), &k))
LEAF(div, VDIV(k.one, VADD(z, k.one)))
LEAF(divexp, VDIV(k.one, VADD(vexp5r(VMAX(VNEG(VABS(z)), k.lo), &k), k.one)))

typedef void loop_fn(const float *x, float *y, size_t n);

static void lib_sigmoid(const float *x, float *y, size_t n)
{
    float q[ACTI_Q_MAX] = { 0 };
    q[ACTI_Q_BIG] = 1e30f;
    dev_kern_avx512[ACT_ACT_SIGMOID].fwd(q, NULL, x, y, n);
}

int main(void)
{
    static const struct { const char *name; int a_ops; loop_fn *f; } v[] = {
        { "4 dependent FMA", 5, loop_fma4 },   { "8 dependent FMA", 9, loop_fma8 },
        { "exp (degree 5)", 8, loop_exp5 },    { "1/(1+x)", 4, loop_div },
        { "1/(1+exp)", 11, loop_divexp },      { "library fwd_sigmoid", 14, lib_sigmoid },
    };
    enum { NV = sizeof v / sizeof v[0] };
    double hz = clock_hz();
    size_t N = (size_t)1 << 20;
    float *x = aligned_alloc(64, N * 4), *y = aligned_alloc(64, N * 4);
    if (!x || !y)
        return 1;
    for (size_t i = 0; i < N; i++)
        x[i] = -4.0f + 8.0f * (float)rand() / (float)RAND_MAX;
    size_t sizes[] = { 2048, (size_t)1 << 16, (size_t)1 << 20 };
    double best[NV][3];
    for (int k = 0; k < NV; k++)
        for (int s = 0; s < 3; s++)
            best[k][s] = 1e9;
    for (int round = 0; round < 7; round++)
        for (int s = 0; s < 3; s++)
            for (int k = 0; k < NV; k++) {
                int reps = 0;
                double t0 = now(), t;
                do {
                    v[k].f(x, y, sizes[s]);
                    reps++;
                    t = now() - t0;
                } while (t < 0.005);
                double c = t / reps / (double)sizes[s] * hz * 16;
                if (c < best[k][s])
                    best[k][s] = c;
            }
    printf("core clock %.3f GHz; cycles per 16 elements, min of 7 interleaved rounds\n",
           hz / 1e9);
    printf("%-22s %12s %8s %8s %8s\n", "loop", "FMA-pipe ops", "2^11", "2^16", "2^20");
    for (int k = 0; k < NV; k++)
        printf("%-22s %12d %8.1f %8.1f %8.1f\n", v[k].name, v[k].a_ops, best[k][0],
               best[k][1], best[k][2]);
    free(x);
    free(y);
    return 0;
}
