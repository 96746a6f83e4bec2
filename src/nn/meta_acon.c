/* meta_acon.c -- Meta-ACON-C exactly as class MetaAconC of nmaac/acon acon.py (arXiv 2009.04759;
 * what is taken from it: docs/references.md, "Meta-ACON's generator"):
 *   m = mean_hw x;  beta = s(BN2(fc2(BN1(fc1(m)))))  (no nonlinearity between fc1 and fc2;
 *   hidden = max(r, C / r); BNs optional);  y = (p1 - p2) x s(beta (p1 - p2) x) + p2 x.
 * The ACON-C kernel runs per sample with parameters {p1, p2, beta[n]} and its beta gradient
 * is exactly g_beta[n, c]. Generator BN at a batch of one uses the running statistics. */
#include <string.h>

#include "nn/layers.h"

enum { P1, P2, W1, B1, G1, BE1, RM1, RV1, W2, B2, G2, BE2, RM2, RV2 };
enum { M, H1, A1, H2, A2, BETA, MEAN1, IS1, MEAN2, IS2, PB, DPB, GA2, GH2, GA1, GH1, GM };

int acti_meta_acon_add(act_net *net, int in, int r, int bn)
{
    const acti_tensor src = net->tensors[in];
    if (r < 1)
        return ACT_EINVAL;
    acti_layer *l;
    int li = acti_layer_new(net, ACTI_L_META_ACON, in, &l);
    if (li < 0)
        return li;
    size_t C = (size_t)src.c, N = net->cfg.max_batch;
    int hid = src.c / r > r ? src.c / r : r;
    l->hidden = hid;
    l->bn = bn;
    size_t H = (size_t)hid;
    /* p1, p2: the first two rows of ACON-C's paper initialisation (torch.randn in acon.py). */
    acti_init init;
    memset(&init, 0, sizeof init);
    init.kind = ACTI_INIT_ACT;
    init.act.fn = act_act_fn(ACT_ACT_ACON_C);
    init.act.channels = C;
    init.act.rows = 2;
    init.act.how = ACT_INIT_PAPER;
    size_t off = acti_param_block(net, li, 2 * C, &init);
    l = &net->layers[li];
    l->p[P1] = off;
    l->p[P2] = off + C;
    int rc = acti_param_seg(net, li, "p1", off, C, ACT_SEG_LEARN | ACT_SEG_ACT);
    if (rc == ACT_OK)
        rc = acti_param_seg(net, li, "p2", off + C, C, ACT_SEG_LEARN | ACT_SEG_ACT);
    if (rc != ACT_OK)
        return rc;
    /* Both biases take fc1's fan in (C) under --init torch, as the name-based lookup this
     * replaced did; PyTorch's fc2 bias bound is 1/sqrt(H). Kept so that seeds keep their values. */
    l->p[W1] = acti_param_new(net, li, "fc1.w", H * C, ACT_SEG_LEARN | ACT_SEG_DECAY | ACT_SEG_ACT,
                              ACTI_INIT_HE, C);
    l->p[B1] = acti_param_new(net, li, "fc1.b", H, ACT_SEG_LEARN | ACT_SEG_ACT, ACTI_INIT_BIAS, C);
    l->p[W2] = acti_param_new(net, li, "fc2.w", C * H, ACT_SEG_LEARN | ACT_SEG_DECAY | ACT_SEG_ACT,
                              ACTI_INIT_HE, H);
    l->p[B2] = acti_param_new(net, li, "fc2.b", C, ACT_SEG_LEARN | ACT_SEG_ACT, ACTI_INIT_BIAS, C);
    if (bn) {
        const char *nm[] = { "bn1.gamma", "bn1.beta", "bn1.rmean", "bn1.rvar",
                             "bn2.gamma", "bn2.beta", "bn2.rmean", "bn2.rvar" };
        int slot[] = { G1, BE1, RM1, RV1, G2, BE2, RM2, RV2 };
        for (int i = 0; i < 8; i++) {
            size_t sz = i < 4 ? H : C;
            unsigned fl = (i % 4) < 2 ? ACT_SEG_LEARN | ACT_SEG_ACT : 0u;
            acti_init_kind how = (i % 4 == 0 || i % 4 == 3) ? ACTI_INIT_ONE : ACTI_INIT_ZERO;
            net->layers[li].p[slot[i]] = acti_param_new(net, li, nm[i], sz, fl, how, 0);
        }
    }
    size_t ws_size[] = { [M] = N * C, [H1] = N * H, [A1] = N * H, [H2] = N * C, [A2] = N * C,
                         [BETA] = N * C, [MEAN1] = H, [IS1] = H, [MEAN2] = C, [IS2] = C,
                         [PB] = N * 3 * C, [DPB] = N * 3 * C, [GA2] = N * C, [GH2] = N * C,
                         [GA1] = N * H, [GH1] = N * H, [GM] = N * C };
    for (int i = 0; i <= GM; i++)
        net->layers[li].ws[i] = acti_ws_new(net, ws_size[i]);
    int t = acti_tensor_new(net, src.c, src.h, src.w);
    net->layers[li].out = t;
    return t;
}

static float sigm(float z)
{
    if (z >= 0.0f)
        return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

int acti_meta_acon_forward(act_net *net, acti_layer *l, size_t n, int train)
{
    const acti_tensor *t = &net->tensors[l->in0];
    size_t C = (size_t)t->c, HW = (size_t)t->h * (size_t)t->w, H = (size_t)l->hidden;
    const float *x = acti_val(net, l->in0);
    float *y = acti_val(net, l->out);
    float *m = acti_ws(net, l->ws[M]), *h1 = acti_ws(net, l->ws[H1]);
    float *h2 = acti_ws(net, l->ws[H2]), *beta = acti_ws(net, l->ws[BETA]);
    float *a1 = l->bn ? acti_ws(net, l->ws[A1]) : h1, *a2 = l->bn ? acti_ws(net, l->ws[A2]) : h2;
    float *pb = acti_ws(net, l->ws[PB]);
    l->use_batch = train && n >= 2;
    float inv = 1.0f / (float)HW;
    for (size_t i = 0; i < n * C; i++) {
        float s = 0.0f;
        for (size_t j = 0; j < HW; j++)
            s += x[i * HW + j];
        m[i] = s * inv;
    }
    // h1 (N, H) = m W1^T + b1;  h2 (N, C) = a1 W2^T + b2
    for (size_t i = 0; i < n; i++)
        memcpy(h1 + i * H, acti_P(net, l, B1), H * sizeof(float));
    acti_gemm(net, 0, 1, 0, 1, (int)n, (int)H, (int)C, 1.0f, m, (int)C, acti_P(net, l, W1), (int)C,
              1.0f, h1, (int)H);
    if (l->bn)
        acti_bn_fwd(0, 1, l->use_batch, h1, acti_P(net, l, G1), acti_P(net, l, BE1),
                    acti_P(net, l, RM1), acti_P(net, l, RV1), acti_ws(net, l->ws[MEAN1]),
                    acti_ws(net, l->ws[IS1]), a1, n, H, 1);
    for (size_t i = 0; i < n; i++)
        memcpy(h2 + i * C, acti_P(net, l, B2), C * sizeof(float));
    acti_gemm(net, 0, 1, 0, 1, (int)n, (int)C, (int)H, 1.0f, a1, (int)H, acti_P(net, l, W2), (int)H,
              1.0f, h2, (int)C);
    if (l->bn)
        acti_bn_fwd(0, 1, l->use_batch, h2, acti_P(net, l, G2), acti_P(net, l, BE2),
                    acti_P(net, l, RM2), acti_P(net, l, RV2), acti_ws(net, l->ws[MEAN2]),
                    acti_ws(net, l->ws[IS2]), a2, n, C, 1);
    for (size_t i = 0; i < n * C; i++)
        beta[i] = sigm(a2[i]);
    const float *p1 = acti_P(net, l, P1), *p2 = acti_P(net, l, P2);
    int T = net->threads, err = ACT_OK;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (size_t i = 0; i < n; i++) {
        float *pi = pb + i * 3 * C;
        memcpy(pi, p1, C * sizeof(float));
        memcpy(pi + C, p2, C * sizeof(float));
        memcpy(pi + 2 * C, beta + i * C, C * sizeof(float));
        act_shape s = { 1, C, HW };
        int rc = act_act_forward(ACT_ACT_ACON_C, pi, ACT_PER_CHANNEL, x + i * C * HW,
                                 y + i * C * HW, s);
        if (rc != ACT_OK) {
#pragma omp critical(acti_meta_err)
            err = rc;
        }
    }
    return err;
}

int acti_meta_acon_backward(act_net *net, acti_layer *l, size_t n)
{
    const acti_tensor *t = &net->tensors[l->in0];
    size_t C = (size_t)t->c, HW = (size_t)t->h * (size_t)t->w, H = (size_t)l->hidden;
    const float *x = acti_val(net, l->in0), *dy = acti_grad(net, l->out);
    float *dx = acti_grad(net, l->in0);
    const float *m = acti_ws(net, l->ws[M]), *h1 = acti_ws(net, l->ws[H1]);
    const float *h2 = acti_ws(net, l->ws[H2]), *beta = acti_ws(net, l->ws[BETA]);
    const float *a1 = l->bn ? acti_ws(net, l->ws[A1]) : h1;
    const float *pb = acti_ws(net, l->ws[PB]);
    float *dpb = acti_ws(net, l->ws[DPB]), *ga2 = acti_ws(net, l->ws[GA2]);
    float *gh2 = l->bn ? acti_ws(net, l->ws[GH2]) : ga2;
    float *ga1 = acti_ws(net, l->ws[GA1]);
    float *gh1 = l->bn ? acti_ws(net, l->ws[GH1]) : ga1;
    float *gm = acti_ws(net, l->ws[GM]);
    int T = net->threads, err = ACT_OK;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (size_t i = 0; i < n; i++) {
        float *di = dpb + i * 3 * C;
        memset(di, 0, 3 * C * sizeof(float));
        act_shape s = { 1, C, HW };
        int rc = act_act_backward(ACT_ACT_ACON_C, pb + i * 3 * C, ACT_PER_CHANNEL,
                                  x + i * C * HW, dy + i * C * HW, dx + i * C * HW, di, s);
        if (rc != ACT_OK) {
#pragma omp critical(acti_meta_err)
            err = rc;
        }
    }
    if (err != ACT_OK)
        return err;
    float *dp1 = acti_G(net, l, P1), *dp2 = acti_G(net, l, P2);
    for (size_t i = 0; i < n; i++) {
        const float *di = dpb + i * 3 * C;
        for (size_t c = 0; c < C; c++) {
            dp1[c] += di[c];
            dp2[c] += di[C + c];
            float b = beta[i * C + c];
            ga2[i * C + c] = di[2 * C + c] * b * (1.0f - b);
        }
    }
    if (l->bn) {
        memset(gh2, 0, n * C * sizeof(float));
        acti_bn_bwd(0, 1, l->use_batch, h2, acti_P(net, l, G2), acti_ws(net, l->ws[MEAN2]),
                    acti_ws(net, l->ws[IS2]), ga2, gh2, acti_G(net, l, G2), acti_G(net, l, BE2),
                    n, C, 1, 0);
    }
    float *db2 = acti_G(net, l, B2), *db1 = acti_G(net, l, B1);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < C; c++)
            db2[c] += gh2[i * C + c];
    acti_gemm(net, 0, 1, 1, 0, (int)C, (int)H, (int)n, 1.0f, gh2, (int)C, a1, (int)H, 1.0f,
              acti_G(net, l, W2), (int)H);
    acti_gemm(net, 0, 1, 0, 0, (int)n, (int)H, (int)C, 1.0f, gh2, (int)C, acti_P(net, l, W2),
              (int)H, 0.0f, ga1, (int)H);
    if (l->bn) {
        memset(gh1, 0, n * H * sizeof(float));
        acti_bn_bwd(0, 1, l->use_batch, h1, acti_P(net, l, G1), acti_ws(net, l->ws[MEAN1]),
                    acti_ws(net, l->ws[IS1]), ga1, gh1, acti_G(net, l, G1), acti_G(net, l, BE1),
                    n, H, 1, 0);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < H; j++)
            db1[j] += gh1[i * H + j];
    acti_gemm(net, 0, 1, 1, 0, (int)H, (int)C, (int)n, 1.0f, gh1, (int)H, m, (int)C, 1.0f,
              acti_G(net, l, W1), (int)C);
    acti_gemm(net, 0, 1, 0, 0, (int)n, (int)C, (int)H, 1.0f, gh1, (int)H, acti_P(net, l, W1),
              (int)C, 0.0f, gm, (int)C);
    float inv = 1.0f / (float)HW;
    for (size_t i = 0; i < n * C; i++) {
        float g = gm[i] * inv;
        for (size_t j = 0; j < HW; j++)
            dx[i * HW + j] += g;
    }
    return ACT_OK;
}
