/* test_nn_gemm.c -- the GEMM back-ends (src/nn/gemm.c): names and lookup, the default, a net
 * that asks for a back-end this build lacks; acti_gemm's products, whole and in parts, against
 * the sums in double; every back-end's gradients against OpenBLAS's on models whose products run
 * through GEMM (dense layers, im2col and 1x1 convolutions, Meta-ACON's generator); and training
 * that gives the same bits for 1, 2 and 3 threads, for every model shape. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_impl.h"
#include "test.h"

void test_nn_gemm_names(void)
{
    act_gemm g;
    for (int i = 0; i < ACT_GEMM_COUNT; i++) {
        CHECK(act_gemm_lookup(act_gemm_name((act_gemm)i), &g) == ACT_OK && g == (act_gemm)i);
    }
    CHECK(act_gemm_lookup("mkl", &g) == ACT_ENOTFOUND);
    CHECK(act_gemm_lookup(NULL, &g) == ACT_ENOTFOUND);
    CHECK(!strcmp(act_gemm_name(ACT_GEMM_COUNT), "unknown"));
    CHECK(act_gemm_supported(ACT_GEMM_OPENBLAS));
    CHECK(act_gemm_supported(act_gemm_default()));
    CHECK(act_net_config_default().gemm == act_gemm_default());
    const char *env = getenv("ACTLAB_GEMM");
    if (!env || act_gemm_lookup(env, &g) != ACT_OK || !act_gemm_supported(g)) {
        /* oneDNN is the default wherever it is built in */
        CHECK(act_gemm_default() == (act_gemm_supported(ACT_GEMM_ONEDNN) ? ACT_GEMM_ONEDNN
                                                                          : ACT_GEMM_OPENBLAS));
    } else {
        CHECK(act_gemm_default() == g);
    }
    act_net_config c = act_net_config_default();
    act_net *net = NULL;
    act_diag d;
    c.gemm = ACT_GEMM_COUNT;
    CHECK(act_net_new(&c, &net, &d) == ACT_EINVAL && !net);
    if (!act_gemm_supported(ACT_GEMM_ONEDNN)) {
        c.gemm = ACT_GEMM_ONEDNN;
        CHECK(act_net_new(&c, &net, &d) == ACT_EUNSUPPORTED && !net);
        CHECKF(strstr(d.msg, "onednn") != NULL, "diag: %s", d.msg);
    }
    c.gemm = ACT_GEMM_OPENBLAS;
    CHECK(act_net_new(&c, &net, NULL) == ACT_OK && act_net_gemm(net) == ACT_GEMM_OPENBLAS);
    act_net_free(net);
}

enum { GN = 5, GSIDE = 12 };

/* One forward/loss/backward of model (threads th, back-end g) on a fixed batch: a copy of the
 * gradients (caller frees), or NULL. */
static float *grads_of(const char *model, act_nn_act_kind kind, act_gemm g, int th, size_t *np)
{
    static float x[GN * GSIDE * GSIDE];
    int labels[GN] = { 1, 7, 3, 0, 9 };
    uint64_t s = 11;
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = (float)(acti_rng_uniform(&s) * 2.0 - 1.0);
    act_net_config c = act_net_config_default();
    c.model = model;
    c.in_h = c.in_w = GSIDE;
    c.max_batch = GN;
    c.threads = th;
    c.gemm = g;
    c.conv_algo = ACT_CONV_GEMM;
    c.act = act_nn_act_default(kind);
    if (kind == ACT_NN_ACT_FN)
        c.act.fn = act_act_fn(ACT_ACT_SWISH);
    act_net *net = NULL;
    if (act_net_new(&c, &net, NULL) != ACT_OK)
        return NULL;
    float *out = NULL;
    if (act_net_forward(net, x, GN, 1, NULL) == ACT_OK &&
        act_net_loss(net, labels, GN, 0.0f, NULL, NULL) == ACT_OK &&
        act_net_backward(net) == ACT_OK && (out = malloc(net->n_params * sizeof *out)) != NULL) {
        memcpy(out, net->grads, net->n_params * sizeof *out);
        *np = net->n_params;
    }
    act_net_free(net);
    return out;
}

/* Every back-end's gradients match OpenBLAS's to float rounding (both are sums of the same
 * terms): 1e-4 relative to the largest gradient of the net, for 1 and 2 threads. A back-end that
 * transposes, offsets or strides a split block wrongly is off by O(1). */
void test_nn_gemm_backends_agree(void)
{
    static const struct { const char *model; act_nn_act_kind kind; } cases[] = {
        { "mlp:33x3,bn", ACT_NN_ACT_FN }, { "cnn", ACT_NN_ACT_FN },
        { "resnet:1", ACT_NN_ACT_FN }, { "resnet:1", ACT_NN_ACT_META_ACON },
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
        for (int th = 1; th <= 2; th++) {
            size_t n0 = 0, n1 = 0;
            float *ref = grads_of(cases[ci].model, cases[ci].kind, ACT_GEMM_OPENBLAS, th, &n0);
            CHECKF(ref != NULL, "%s: openblas run", cases[ci].model);
            for (int g = 0; ref && g < ACT_GEMM_COUNT; g++) {
                if (!act_gemm_supported((act_gemm)g) || g == ACT_GEMM_OPENBLAS)
                    continue;
                float *o = grads_of(cases[ci].model, cases[ci].kind, (act_gemm)g, th, &n1);
                CHECKF(o && n1 == n0, "%s: %s run", cases[ci].model, act_gemm_name((act_gemm)g));
                double big = 0.0, worst = 0.0;
                for (size_t i = 0; o && i < n0; i++)
                    big = fmax(big, fabs((double)ref[i]));
                for (size_t i = 0; o && i < n0; i++)
                    worst = fmax(worst, fabs((double)o[i] - (double)ref[i]));
                CHECKF(o && big > 0.0 && worst <= 1e-4 * big,
                       "%s, %d threads: %s gradients differ from openblas by %.3g (largest %.3g)",
                       cases[ci].model, th, act_gemm_name((act_gemm)g), worst, big);
                free(o);
            }
            free(ref);
        }
}

/* C = op(A) op(B) through acti_gemm for every back-end, whole and split over 2 and 3 "threads"
 * (called in turn with tid = 0..nt-1, as the layers do), against the sums in double: 1e-6 of
 * sum |a_ik b_kj| per element, for all four transpose cases, beta 0 and 1, and shapes that give
 * a part one row or column. */
void test_nn_gemm_products(void)
{
    static const int shapes[][3] = { { 1, 1, 1 }, { 7, 3, 5 }, { 3, 40, 17 }, { 65, 9, 130 },
                                     { 2, 300, 64 } };
    act_net_config c = act_net_config_default();
    act_net fake;
    memset(&fake, 0, sizeof fake);
    fake.cfg = c;
    uint64_t s = 7;
    for (int g = 0; g < ACT_GEMM_COUNT; g++) {
        if (!act_gemm_supported((act_gemm)g))
            continue;
        fake.cfg.gemm = (act_gemm)g;
        for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
            for (int t = 0; t < 4; t++)
                for (int nt = 1; nt <= 3; nt++) {
                    int M = shapes[si][0], N = shapes[si][1], K = shapes[si][2];
                    int ta = t & 1, tb = t >> 1, lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1;
                    int ldc = N + 2;
                    float beta = (float)(nt == 2);
                    float *A = malloc(sizeof(float) * (size_t)lda * (size_t)(ta ? K : M));
                    float *B = malloc(sizeof(float) * (size_t)ldb * (size_t)(tb ? N : K));
                    float *C = malloc(sizeof(float) * (size_t)ldc * (size_t)M);
                    float *C0 = malloc(sizeof(float) * (size_t)ldc * (size_t)M);
                    if (!A || !B || !C || !C0) {
                        CHECK(!"out of memory");
                        free(A), free(B), free(C), free(C0);
                        continue;
                    }
                    for (size_t i = 0; i < (size_t)lda * (size_t)(ta ? K : M); i++)
                        A[i] = (float)(acti_rng_uniform(&s) * 2.0 - 1.0);
                    for (size_t i = 0; i < (size_t)ldb * (size_t)(tb ? N : K); i++)
                        B[i] = (float)(acti_rng_uniform(&s) * 2.0 - 1.0);
                    for (size_t i = 0; i < (size_t)ldc * (size_t)M; i++)
                        C[i] = C0[i] = (float)(acti_rng_uniform(&s) * 2.0 - 1.0);
                    for (int tid = 0; tid < nt; tid++)
                        acti_gemm(&fake, tid, nt, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C,
                                  ldc);
                    double worst = 0.0;
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < ldc; j++) {
                            double want = (double)C0[i * ldc + j], mag = fabs(want);
                            if (j < N) {
                                want *= (double)beta;
                                mag *= (double)beta;
                                for (int k = 0; k < K; k++) {
                                    double a = ta ? A[k * lda + i] : A[i * lda + k];
                                    double b = tb ? B[j * ldb + k] : B[k * ldb + j];
                                    want += a * b;
                                    mag += fabs(a * b);
                                }
                            }
                            /* columns past N are not C's: untouched */
                            double e = fabs((double)C[i * ldc + j] - want);
                            worst = fmax(worst, j < N ? e / (mag > 0 ? mag : 1.0) : e * 1e30);
                        }
                    CHECKF(worst <= 1e-6, "%s M%d N%d K%d ta%d tb%d, %d parts: error %.3g",
                           act_gemm_name((act_gemm)g), M, N, K, ta, tb, nt, worst);
                    free(A), free(B), free(C), free(C0);
                }
    }
}

/* Three SGD steps (the last on a short batch) of every model shape give the same parameters,
 * bit for bit, with 1, 2 and 3 threads: batch 37 splits 19/18 and 13/12/12 by threads, while
 * the GEMM parts (gemm.c) and the sample groups of the act and conv gradients (net.h) follow the
 * shapes alone. For each back-end; convolutions by im2col, the direct kernels and Winograd. */
void test_nn_threads_same_bits(void)
{
    static const struct {
        const char *model;
        act_nn_act_kind kind;
        act_conv_algo conv;
        int all_gemms;
    } cases[] = {
        { "mlp:70x2", ACT_NN_ACT_FN, ACT_CONV_AUTO, 1 },
        { "mlp:40x2,bn,dropout=0.2", ACT_NN_ACT_FN, ACT_CONV_AUTO, 1 },
        { "cnn", ACT_NN_ACT_FN, ACT_CONV_GEMM, 1 },
        { "cnn", ACT_NN_ACT_FN, ACT_CONV_WINOGRAD, 0 },
        { "resnet:1", ACT_NN_ACT_FN, ACT_CONV_AUTO, 1 },
        { "resnet:1,preact", ACT_NN_ACT_FN, ACT_CONV_GEMM, 0 },
        { "resnet:1", ACT_NN_ACT_META_ACON, ACT_CONV_AUTO, 0 },
        { "cnn", ACT_NN_ACT_FRELU, ACT_CONV_AUTO, 0 },
        { "resnet:1", ACT_NN_ACT_ACON_FRELU, ACT_CONV_AUTO, 0 },
    };
    enum { NB = 37, SIDE = 12 };
    static float x[NB * SIDE * SIDE];
    int labels[NB];
    uint64_t s = 5;
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = (float)(acti_rng_uniform(&s) * 2.0 - 1.0);
    for (int i = 0; i < NB; i++)
        labels[i] = (int)(acti_rng_next(&s) % 10);
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
        for (int g = 0; g < ACT_GEMM_COUNT; g++) {
            if (!act_gemm_supported((act_gemm)g) ||
                (!cases[ci].all_gemms && (act_gemm)g != act_gemm_default()))
                continue;
            float *res[3] = { NULL, NULL, NULL };
            size_t np = 0;
            for (int th = 1; th <= 3; th++) {
                act_net_config c = act_net_config_default();
                c.model = cases[ci].model;
                c.in_h = c.in_w = SIDE;
                c.max_batch = NB;
                c.threads = th;
                c.gemm = (act_gemm)g;
                c.conv_algo = cases[ci].conv;
                c.act = act_nn_act_default(cases[ci].kind);
                if (cases[ci].kind == ACT_NN_ACT_FN)
                    c.act.fn = act_act_fn(ACT_ACT_SWISH);   /* a per-channel parameter */
                act_net *net = NULL;
                CHECK(act_net_new(&c, &net, NULL) == ACT_OK);
                if (!net)
                    break;
                act_optim_config oc = act_optim_config_default(ACT_OPT_SGD);
                act_optim *o = act_optim_new(&oc, net);
                CHECK(o != NULL);
                for (int step = 0; o && step < 3; step++) {
                    size_t n = step == 2 ? 5 : NB;
                    CHECK(act_net_forward(net, x, n, 1, NULL) == ACT_OK);
                    CHECK(act_net_loss(net, labels, n, 0.0f, NULL, NULL) == ACT_OK);
                    CHECK(act_net_backward(net) == ACT_OK);
                    CHECK(act_optim_step(o, net, 0.05f) == ACT_OK);
                }
                np = net->n_params;
                res[th - 1] = malloc(np * sizeof(float));
                if (res[th - 1])
                    memcpy(res[th - 1], net->params, np * sizeof(float));
                act_optim_free(o);
                act_net_free(net);
            }
            for (int th = 2; th <= 3; th++)
                CHECKF(res[0] && res[th - 1] && !memcmp(res[0], res[th - 1], np * sizeof(float)),
                       "%s (kind %d, conv %d), %s: 1 and %d threads differ", cases[ci].model,
                       (int)cases[ci].kind, (int)cases[ci].conv, act_gemm_name((act_gemm)g), th);
            for (int th = 0; th < 3; th++)
                free(res[th]);
        }
}
