/* wino_bench.c -- ms per batch of one 3x3 stride-1 conv layer (the models' shapes), Winograd
 * against the existing path (--conv gemm: direct conv3x3 or im2col + sgemm): forward, backward
 * without the input gradient (dw + db) and with it (dx = the difference). Validates the two
 * against each other first. Median of 7 rounds, the algorithms alternating. Not part of `make`:
 *   cc -O2 -fopenmp -Iinclude -Isrc dev/wino_bench.c build/wino/libactlab.a \
 *      $(pkg-config --libs openblas) -lz -lm -o build/wino/wino_bench
 *   taskset -c 1 build/wino/wino_bench [batch] [threads] [layer name filter, e.g. s1] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/nn.h"
#include "nn/nn_impl.h"

typedef struct shape { int c, h, w, oc, p; const char *what; } shape;

static int b_one(act_net *net, void *ctx, act_diag *diag)
{
    (void)diag;
    const shape *s = ctx;
    return acti_conv_add(net, 0, s->oc, 3, 1, s->p, 1);
}

/* Reports a failed call rc (what, on layer s, algorithm a); returns rc. */
static int failed(int rc, const char *what, const shape *s, int a)
{
    if (rc != ACT_OK)
        fprintf(stderr, "wino_bench: %s: %s (%s): %s\n", s->what, what, a ? "winograd" : "gemm",
                act_strerror(rc));
    return rc;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    size_t N = argc > 1 ? (size_t)atoi(argv[1]) : 128;
    int T = argc > 2 ? atoi(argv[2]) : 1;
    static const shape shapes[] = {
        { 1, 28, 28, 32, 0, "cnn stem" },     { 32, 26, 26, 64, 0, "cnn conv2" },
        { 3, 28, 28, 16, 1, "resnet stem" },  { 16, 28, 28, 16, 1, "resnet s1" },
        { 32, 14, 14, 32, 1, "resnet s2" },   { 64, 7, 7, 64, 1, "resnet s3" },
    };
    printf("%-12s %-14s %8s %8s %8s %8s   (ms per batch of %zu, %d threads)\n", "layer", "shape",
           "algo", "fwd", "dw+db", "dx", N, T);
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const shape *s = &shapes[si];
        if (argc > 3 && !strstr(s->what, argv[3]))
            continue;
        act_net *net[2];
        int OH = s->h + 2 * s->p - 2, OW = s->w + 2 * s->p - 2;
        size_t nx = N * (size_t)(s->c * s->h * s->w), ny = N * (size_t)(s->oc * OH * OW);
        float *x = malloc(nx * sizeof *x);
        uint64_t r = 1;
        for (size_t i = 0; i < nx; i++)
            x[i] = (float)acti_rng_uniform(&r) - 0.5f;
        for (int a = 0; a < 2; a++) {
            act_net_config cfg = act_net_config_default();
            cfg.in_c = s->c, cfg.in_h = s->h, cfg.in_w = s->w;
            cfg.max_batch = N, cfg.threads = T, cfg.n_classes = s->oc * OH * OW;
            cfg.conv_algo = a ? ACT_CONV_WINOGRAD : ACT_CONV_GEMM;
            if (acti_net_create(&cfg, b_one, (void *)(uintptr_t)s, &net[a], NULL) != ACT_OK)
                return 1;
            if (a)
                memcpy(net[1]->params, net[0]->params, net[0]->n_params * sizeof(float));
        }
        /* validate: forward outputs and weight gradients agree */
        const float *y0, *y1;
        if (failed(act_net_forward(net[0], x, N, 1, &y0), "forward", s, 0) != ACT_OK ||
            failed(act_net_forward(net[1], x, N, 1, &y1), "forward", s, 1) != ACT_OK)
            return 1;
        double e = 0.0, m = 0.0;
        for (size_t i = 0; i < ny; i++) {
            e = fmax(e, fabs((double)y0[i] - (double)y1[i]));
            m = fmax(m, fabs((double)y0[i]));
        }
        if (!(e <= 1e-4 * m)) {
            printf("%s: forward differs (%.3g of %.3g)\n", s->what, e, m);
            return 1;
        }
        double t[2][3][7];
        for (int rep = 0; rep < 7; rep++)
            for (int a = 0; a < 2; a++) {
                act_net *n = net[a];
                float *g = acti_grad(n, n->logits_t);
                for (size_t i = 0; i < ny; i++)
                    g[i] = 1e-3f * (float)(i % 7);
                double t0 = acti_now();
                int rc = failed(act_net_forward(n, x, N, 1, &y0), "forward", s, a);
                double t1 = acti_now();
                n->tensors[0].needs_grad = 0;
                if (rc == ACT_OK)
                    rc = failed(acti_conv_backward(n, &n->layers[0], N), "dw+db", s, a);
                double t2 = acti_now();
                n->tensors[0].needs_grad = 1;
                if (rc == ACT_OK)
                    rc = failed(acti_conv_backward(n, &n->layers[0], N), "dx+dw+db", s, a);
                double t3 = acti_now();
                if (rc != ACT_OK)            /* no timings of a failed call */
                    return 1;
                t[a][0][rep] = 1e3 * (t1 - t0);
                t[a][1][rep] = 1e3 * (t2 - t1);
                t[a][2][rep] = 1e3 * ((t3 - t2) - (t2 - t1));
            }
        char sh[32];
        snprintf(sh, sizeof sh, "%dx%dx%d>%d p%d", s->c, s->h, s->w, s->oc, s->p);
        for (int a = 0; a < 2; a++) {
            for (int k = 0; k < 3; k++)
                qsort(t[a][k], 7, sizeof(double), cmp);
            printf("%-12s %-14s %8s %8.2f %8.2f %8.2f\n", s->what, sh, a ? "winograd" : "gemm",
                   t[a][0][3], t[a][1][3], t[a][2][3]);
        }
        act_net_free(net[0]);
        act_net_free(net[1]);
        free(x);
    }
    return 0;
}
