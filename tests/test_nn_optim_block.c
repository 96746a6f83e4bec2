/* test_nn_optim_block.c -- optimisers on a plain parameter block (act_optim_new_block,
 * act_optim_step_block): SGD with momentum and Adam against steps computed by hand, segments
 * (learn, decay, neither, gaps), bad arguments, and the same bits as act_optim_step on a net's
 * block for every optimiser, with 1 and 2 threads on the net side. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/nn.h"
#include "test.h"

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static float uniform(uint64_t *s)     /* [-0.5, 0.5) */
{
    return (float)((double)(splitmix64(s) >> 11) * 0x1.0p-53 - 0.5);
}

void test_nn_optim_block_hand(void)
{
    /* block of 8: [0, 3) learns and decays, [3, 5) learns, [5, 6) neither (a buffer), 6 and 7
     * in no segment (a gap: never touched) */
    const act_param_seg segs[3] = {
        { .offset = 0, .size = 3, .flags = ACT_SEG_LEARN | ACT_SEG_DECAY },
        { .offset = 3, .size = 2, .flags = ACT_SEG_LEARN },
        { .offset = 5, .size = 1, .flags = 0 },
    };
    const float w0[8] = { 0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 3.0f, 7.0f, 8.0f };
    const float g1[8] = { 0.25f, -0.5f, 1.0f, 0.125f, 2.0f, 9.0f, 9.0f, 9.0f };
    const float g2[8] = { -0.5f, 0.75f, 0.1f, 1.5f, -0.25f, 9.0f, 9.0f, 9.0f };
    const float lr = 0.1f, wd = 0.1f;

    /* SGD, momentum 0.9, by hand: d = g + wd w (decay segments); m = 0.9 m + d; w -= lr m */
    act_optim_config oc = act_optim_config_default(ACT_OPT_SGD);
    oc.weight_decay = wd;
    act_optim *o = act_optim_new_block(&oc, 8);
    CHECK(o != NULL);
    float w[8], g[8];
    double hw[8], hm[8] = { 0 };
    memcpy(w, w0, sizeof w);
    for (int i = 0; i < 8; i++)
        hw[i] = w0[i];
    for (int step = 0; o && step < 2; step++) {
        const float *gs = step ? g2 : g1;
        memcpy(g, gs, sizeof g);
        CHECK(act_optim_step_block(o, w, g, 8, segs, 3, lr) == ACT_OK);
        for (int i = 0; i < 5; i++) {
            double d = (double)gs[i] + (i < 3 ? (double)wd * hw[i] : 0.0);
            hm[i] = 0.9 * hm[i] + d;
            hw[i] -= (double)lr * hm[i];
        }
        for (int i = 0; i < 8; i++)
            CHECK_CLOSE(w[i], hw[i], 1e-6, 1e-6, "sgd step %d, float %d", step + 1, i);
        for (int i = 0; i < 6; i++)
            CHECK(g[i] == 0.0f);                    /* consumed, learning or not */
        CHECK(g[6] == 9.0f && g[7] == 9.0f);        /* the gap is not touched */
    }
    CHECK(o && *act_optim_step_count(o) == 2);
    act_optim_free(o);

    /* Adam by hand: m = b1 m + (1-b1) d; v = b2 v + (1-b2) d^2;
     * w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) */
    oc = act_optim_config_default(ACT_OPT_ADAM);
    oc.weight_decay = wd;
    o = act_optim_new_block(&oc, 8);
    CHECK(o != NULL);
    double hv[8] = { 0 };
    memset(hm, 0, sizeof hm);
    memcpy(w, w0, sizeof w);
    for (int i = 0; i < 8; i++)
        hw[i] = w0[i];
    for (int step = 0; o && step < 2; step++) {
        const float *gs = step ? g2 : g1;
        memcpy(g, gs, sizeof g);
        CHECK(act_optim_step_block(o, w, g, 8, segs, 3, 0.01f) == ACT_OK);
        double t = step + 1, b1 = (double)0.9f, b2 = (double)0.999f;   /* the float betas */
        for (int i = 0; i < 5; i++) {
            double d = (double)gs[i] + (i < 3 ? (double)wd * hw[i] : 0.0);
            hm[i] = b1 * hm[i] + (1 - b1) * d;
            hv[i] = b2 * hv[i] + (1 - b2) * d * d;
            hw[i] -= 0.01 * (hm[i] / (1 - pow(b1, t))) / (sqrt(hv[i] / (1 - pow(b2, t))) + 1e-8);
        }
        for (int i = 0; i < 8; i++)
            CHECK_CLOSE(w[i], hw[i], 1e-6, 1e-5, "adam step %d, float %d", step + 1, i);
    }
    /* the moments are the state a checkpoint stores: m then v */
    size_t ns = 0;
    const float *st = o ? act_optim_state(o, &ns) : NULL;
    CHECK(ns == 16);
    for (int i = 0; st && i < 5; i++) {
        CHECK_CLOSE(st[i], hm[i], 1e-7, 1e-5, "adam m[%d]", i);
        CHECK_CLOSE(st[8 + i], hv[i], 1e-9, 1e-5, "adam v[%d]", i);
    }

    /* NULL segments: the whole block learns and decays */
    act_optim_free(o);
    oc = act_optim_config_default(ACT_OPT_SGD);
    oc.momentum = 0.0f;
    oc.weight_decay = wd;
    o = act_optim_new_block(&oc, 8);
    memcpy(w, w0, sizeof w);
    memcpy(g, g1, sizeof g);
    CHECK(o && act_optim_step_block(o, w, g, 8, NULL, 0, lr) == ACT_OK);
    for (int i = 0; i < 8; i++)
        CHECK_CLOSE(w[i], (double)w0[i] - (double)lr * ((double)g1[i] + (double)wd * w0[i]), 1e-6,
                    1e-6, "whole block, float %d", i);

    /* bad arguments: nothing moves; a non-finite gradient is divergence, nothing moves */
    memcpy(w, w0, sizeof w);
    memcpy(g, g1, sizeof g);
    const act_param_seg outside = { .offset = 6, .size = 3, .flags = ACT_SEG_LEARN };
    CHECK(act_optim_step_block(o, w, g, 7, NULL, 0, lr) == ACT_EINVAL);
    CHECK(act_optim_step_block(o, w, g, 8, &outside, 1, lr) == ACT_EINVAL);
    CHECK(act_optim_step_block(o, w, g, 8, NULL, 2, lr) == ACT_EINVAL);
    CHECK(act_optim_step_block(o, w, g, 8, NULL, 0, NAN) == ACT_EINVAL);
    CHECK(act_optim_step_block(NULL, w, g, 8, NULL, 0, lr) == ACT_EINVAL);
    g[2] = INFINITY;
    CHECK(act_optim_step_block(o, w, g, 8, NULL, 0, lr) == ACT_EDIVERGED);
    CHECK(memcmp(w, w0, sizeof w) == 0 && g[0] == g1[0]);
    CHECK(act_optim_new_block(NULL, 8) == NULL);
    act_optim_config bad = oc;
    bad.kind = ACT_OPT_COUNT;
    CHECK(act_optim_new_block(&bad, 8) == NULL);
    CHECK(act_optim_new_block(&oc, SIZE_MAX / 4) == NULL);
    act_optim_free(o);
}

/* act_optim_step on a net and act_optim_step_block on a copy of its block with its segments:
 * the same bits, parameters and moments, for every optimiser, over three steps. */
void test_nn_optim_block_matches_net(void)
{
    struct { const char *model; int threads; } nets[2] = { { "mlp:4x1", 1 }, { "mlp:300x1", 2 } };
    for (int k = 0; k < 2; k++) {
        act_net_config c = act_net_config_default();
        c.model = nets[k].model;
        c.threads = nets[k].threads;
        c.act.fn = act_act_fn(ACT_ACT_ACON_C);     /* activation segments: learn, no decay */
        act_net *net = NULL;
        act_diag d;
        CHECKF(act_net_new(&c, &net, &d) == ACT_OK, "%s: %s", c.model, d.msg);
        if (!net)
            continue;
        size_t n = act_net_n_params(net);
        int ns = act_net_n_segments(net);
        CHECK(k == 0 || n >= 65536);                /* the net side runs on 2 threads */
        act_param_seg *segs = malloc((size_t)ns * sizeof *segs);
        float *w0 = malloc(n * sizeof *w0), *w = malloc(n * sizeof *w);
        float *g = malloc(n * sizeof *g);
        if (!segs || !w0 || !w || !g) {
            CHECK(0);
            free(segs), free(w0), free(w), free(g);
            act_net_free(net);
            continue;
        }
        for (int i = 0; i < ns; i++)
            segs[i] = *act_net_segment(net, i);
        memcpy(w0, act_net_params(net), n * sizeof *w0);
        for (int kind = 0; kind < ACT_OPT_COUNT; kind++) {
            act_optim_config oc = act_optim_config_default((act_opt_kind)kind);
            oc.weight_decay = 0.05f;
            oc.nesterov = kind == ACT_OPT_SGD;
            oc.clip_norm = 2.0f;
            act_optim *on = act_optim_new(&oc, net), *ob = act_optim_new_block(&oc, n);
            CHECK(on && ob);
            memcpy(act_net_params(net), w0, n * sizeof *w0);
            memcpy(w, w0, n * sizeof *w);
            uint64_t s = 11;
            for (int step = 0; on && ob && step < 3; step++) {
                float *gn = act_net_grads(net);
                for (size_t i = 0; i < n; i++)
                    g[i] = gn[i] = uniform(&s);
                CHECK(act_optim_step(on, net, 0.05f) == ACT_OK);
                CHECK(act_optim_step_block(ob, w, g, n, segs, ns, 0.05f) == ACT_OK);
            }
            size_t a = 0, b = 0;
            const float *sa = on ? act_optim_state(on, &a) : NULL;
            const float *sb = ob ? act_optim_state(ob, &b) : NULL;
            CHECKF(memcmp(act_net_params(net), w, n * sizeof *w) == 0, "%s, %s: parameters differ",
                   c.model, act_opt_name((act_opt_kind)kind));
            CHECKF(a == b && sa && sb && memcmp(sa, sb, a * sizeof *sa) == 0,
                   "%s, %s: moments differ", c.model, act_opt_name((act_opt_kind)kind));
            CHECK(memcmp(act_net_params(net), w0, n * sizeof *w0) != 0);   /* it moved */
            act_optim_free(on);
            act_optim_free(ob);
        }
        free(segs);
        free(w0);
        free(w);
        free(g);
        act_net_free(net);
    }
}
