/* act_dump.c -- bit-identity check of the activation kernels across a refactor: writes the status
 * and every output (y, dx with and without ACT_DX_ASSIGN, dp) of every activation, for scalar
 * and per-channel parameter layouts, default, perturbed, preset and invalid parameter sets, on a
 * grid of x with the special values (+-0, subnormals, tails +-88/+-150, inf, NaN), sizes that
 * take the threaded and the non-temporal-store paths, to one binary file. Small outputs are
 * written raw, large ones as a 64-bit FNV-1a hash. The kernel dump uses the public API only, so
 * the same file builds against the code before and after a change (the export mode builds call
 * nodes through src/expr/expr_int.h); compare the outputs with cmp:
 *   cc -O2 -fopenmp -Iinclude -Isrc dev/act_dump.c build/h5/libactlab.a -lm -o build/h5/act_dump
 *   for isa in scalar avx2 avx512; do for t in 1 2; do
 *       ACTLAB_ISA=$isa ACTLAB_THREADS=$t build/h5/act_dump out/dump-$isa-$t.bin; done; done
 * The ISA and the thread count come from the environment; the first line of stderr echoes them.
 *   build/h5/act_dump --exports DIR   writes `actlab expr c` / `expr torch` of every built-in
 *   (a call node with each parameter set, also sigmoid/tanh/softplus, which the parser reads as
 *   primitives) and of a few parsed expressions to DIR/NAME-SET.c and .py, and for each built-in
 *   DIR/NAME-SET.ref: "%a %a" lines of x and the library's ACTLAB_ISA=scalar f(x) on specials
 *   and -20..20 by 0.01, to compare with the compiled export evaluated on the same x. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "actlab/expr.h"
#include "expr/expr_int.h"

static FILE *out;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static float rng_unif(uint64_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)((double)(rng_next(s) >> 40) * 0x1p-24);
}

static uint64_t fnv(const void *p, size_t bytes)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < bytes; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* a tagged record: tag text, status, then the array raw (n <= 4096) or its hash */
static void put(const char *tag, int status, const float *a, size_t n)
{
    char t[96] = { 0 };
    snprintf(t, sizeof t, "%s", tag);
    fwrite(t, 1, sizeof t, out);
    fwrite(&status, sizeof status, 1, out);
    uint64_t nn = n;
    fwrite(&nn, sizeof nn, 1, out);
    if (!a)
        return;
    if (n <= 4096) {
        fwrite(a, sizeof *a, n, out);
    } else {
        uint64_t h = fnv(a, n * sizeof *a);
        fwrite(&h, sizeof h, 1, out);
    }
}

static const float special[] = {
    0.0f, -0.0f, 1e-45f, -1e-45f, 1e-40f, -1e-40f, FLT_MIN, -FLT_MIN, 1e-20f, -1e-20f, 1e-7f,
    -1e-7f, 0.5f, -0.5f, 1, -1, 3, -3, 6, -6, 20, -20, 87.3f, -87.3f, 88, -88, 88.72283905f,
    -88.72283905f, 88.8f, -88.8f, 89, -89, 100, -100, 150, -150, 1e4f, -1e4f, 1e13f, -1e13f,
    1e19f, -1e19f, 1e30f, -1e30f, FLT_MAX, -FLT_MAX, INFINITY, -INFINITY, NAN, -NAN,
};
#define NSPECIAL (sizeof special / sizeof special[0])

/* n values: specials first, then a ramp over [-12, 12], then uniform over [-40, 40], with a
 * special every 997 elements (so that vectors with a NaN or a tail lane occur everywhere) */
static void fill_x(float *x, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        if (i < NSPECIAL)
            x[i] = special[i];
        else if (i < 1200)
            x[i] = -12.0f + 24.0f * (float)(i - NSPECIAL) / (float)(1200 - NSPECIAL);
        else if (i % 997 == 0)
            x[i] = special[(i / 997) % NSPECIAL];
        else
            x[i] = rng_unif(&s, -40, 40);
    }
}

static void fill_dy(float *dy, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++)
        dy[i] = rng_unif(&s, -1, 1);
}

#define MAXSETS 16

/* The parameter sets of id: defaults, two perturbations (up and down from the defaults), the
 * hand-picked sets the tests used before issue 9, and every preset. Returns the count. */
static int psets(act_act_id id, float p[MAXSETS][ACT_ACT_MAX_PARAMS])
{
    static const float old[ACT_ACT_COUNT][2][ACT_ACT_MAX_PARAMS] = {
        [ACT_ACT_LEAKY_RELU] = { { 0.2f }, { 0.0f } },
        [ACT_ACT_PRELU]      = { { 0.6f }, { -0.25f } },
        [ACT_ACT_ELU]        = { { 0.7f }, { 1.3f } },
        [ACT_ACT_CELU]       = { { 1.8f }, { 0.5f } },
        [ACT_ACT_SOFTPLUS]   = { { 1.7f, 15.0f }, { -1.3f, 20.0f } },
        [ACT_ACT_SWISH]      = { { 1.6f }, { -0.8f } },
        [ACT_ACT_ACON_A]     = { { 0.6f }, { 2.5f } },
        [ACT_ACT_ACON_B]     = { { 0.35f, 1.9f }, { -0.5f, 0.8f } },
        [ACT_ACT_ACON_C]     = { { 1.5f, 0.25f, 2.0f }, { -0.7f, 1.2f, 0.5f } },
        [ACT_ACT_SMU]        = { { 0.25f, 1.0f }, { 0.25f, 1e6f } },
        [ACT_ACT_SMU1]       = { { 0.25f, 1.0f }, { 0.25f, 4.352665993287951e-9f } },
    };
    const act_act_desc *d = act_act_info(id);
    int n = 0;
    memset(p, 0, MAXSETS * sizeof p[0]);
    memcpy(p[n++], d->defaults, sizeof p[0]);
    if (d->n_params == 0)
        return n;
    for (int sgn = -1; sgn <= 1; sgn += 2) {
        for (int k = 0; k < d->n_params; k++) {
            double v = d->defaults[k];
            p[n][k] = (float)(v + sgn * (0.5 * fabs(v) + 0.25));
            if (p[n][k] == 0.0f)
                p[n][k] = (float)(v + sgn * (fabs(v) + 0.5));
        }
        n++;
    }
    for (int j = 0; j < 2; j++)
        memcpy(p[n++], old[id][j], sizeof p[0]);
    const char *pn;
    for (int j = 1; (pn = act_act_preset_name(id, j)) != NULL && n < MAXSETS; j++)
        if (act_act_preset(id, pn, p[n]) == ACT_OK)
            n++;
    return n;
}

/* flat (scalar parameters): forward, backward accumulating with dp, with ACT_DX_ASSIGN and
 * dp NULL, in place (dx aliases dy) */
static void run_flat(act_act_id id, const char *what, const float *p, const float *x, size_t n,
                     size_t yoff)
{
    const act_act_desc *d = act_act_info(id);
    float *ybuf = malloc((n + yoff) * sizeof *ybuf), *y = ybuf + yoff;
    float *dy = malloc(n * sizeof *dy), *dx = malloc(n * sizeof *dx);
    float dp[ACT_ACT_MAX_PARAMS] = { 0.5f, -0.25f, 2.0f };
    char tag[96];
    fill_dy(dy, n, 7 + n);
    int rc = act_act_forward(id, p, 0, x, y, act_shape_flat(n));
    snprintf(tag, sizeof tag, "%s %s n%zu y", d->name, what, n);
    put(tag, rc, rc == ACT_OK ? y : NULL, n);
    for (size_t i = 0; i < n; i++)
        dx[i] = 0.5f;
    rc = act_act_backward(id, p, 0, x, dy, dx, dp, act_shape_flat(n));
    snprintf(tag, sizeof tag, "%s %s n%zu dx", d->name, what, n);
    put(tag, rc, rc == ACT_OK ? dx : NULL, n);
    snprintf(tag, sizeof tag, "%s %s n%zu dp", d->name, what, n);
    put(tag, rc, rc == ACT_OK ? dp : NULL, (size_t)d->n_params);
    rc = act_act_backward(id, p, ACT_DX_ASSIGN, x, dy, dx, NULL, act_shape_flat(n));
    snprintf(tag, sizeof tag, "%s %s n%zu dx=", d->name, what, n);
    put(tag, rc, rc == ACT_OK ? dx : NULL, n);
    memcpy(dx, dy, n * sizeof *dx);
    rc = act_act_backward(id, p, ACT_DX_ASSIGN, x, dx, dx, NULL, act_shape_flat(n));
    snprintf(tag, sizeof tag, "%s %s n%zu dx=dy", d->name, what, n);
    put(tag, rc, rc == ACT_OK ? dx : NULL, n);
    free(ybuf), free(dy), free(dx);
}

/* per channel: channel c takes parameter set c % ns */
static void run_pc(act_act_id id, float sets[][ACT_ACT_MAX_PARAMS], int ns, act_shape s)
{
    const act_act_desc *d = act_act_info(id);
    int np = d->n_params;
    size_t n = s.outer * s.channels * s.inner, C = s.channels;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    float *dy = malloc(n * sizeof *dy), *dx = malloc(n * sizeof *dx);
    float *p = malloc((size_t)(np ? np : 1) * C * sizeof *p);
    float *dp = malloc((size_t)(np ? np : 1) * C * sizeof *dp);
    char tag[96];
    fill_x(x, n, 11 + n);
    fill_dy(dy, n, 13 + n);
    for (size_t c = 0; c < C; c++)
        for (int k = 0; k < np; k++)
            p[(size_t)k * C + c] = sets[c % (size_t)ns][k];
    for (size_t j = 0; j < (size_t)np * C; j++)
        dp[j] = 0.125f;
    int rc = act_act_forward(id, p, ACT_PER_CHANNEL, x, y, s);
    snprintf(tag, sizeof tag, "%s pc %zux%zux%zu y", d->name, s.outer, s.channels, s.inner);
    put(tag, rc, rc == ACT_OK ? y : NULL, n);
    for (size_t i = 0; i < n; i++)
        dx[i] = -0.5f;
    rc = act_act_backward(id, p, ACT_PER_CHANNEL, x, dy, dx, dp, s);
    snprintf(tag, sizeof tag, "%s pc %zux%zux%zu dx", d->name, s.outer, s.channels, s.inner);
    put(tag, rc, rc == ACT_OK ? dx : NULL, n);
    snprintf(tag, sizeof tag, "%s pc %zux%zux%zu dp", d->name, s.outer, s.channels, s.inner);
    put(tag, rc, rc == ACT_OK ? dp : NULL, (size_t)np * C);
    rc = act_act_backward(id, p, ACT_PER_CHANNEL | ACT_DX_ASSIGN, x, dy, dx, NULL, s);
    snprintf(tag, sizeof tag, "%s pc %zux%zux%zu dx=", d->name, s.outer, s.channels, s.inner);
    put(tag, rc, rc == ACT_OK ? dx : NULL, n);
    free(x), free(y), free(dy), free(dx), free(p), free(dp);
}

static int write_text(const char *dir, const char *name, const char *ext, const act_expr *e,
                      act_expr_format fmt)
{
    char path[512], *text = NULL;
    int rc = act_expr_print(e, fmt, &text);
    if (rc != ACT_OK) {
        fprintf(stderr, "%s.%s: %s\n", name, ext, act_strerror(rc));
        return 1;
    }
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
        perror(path);
        free(text);
        return 1;
    }
    free(text);
    return 0;
}

/* DIR/NAME.ref: "%a %a" lines of x and the scalar reference's f(x) (ACTLAB_ISA=scalar): the
 * specials below, then -20 .. 20 by 0.01 */
static int write_ref(const char *dir, const char *name, act_act_id id, const float *p)
{
    static const float sp[] = { 0.0f, -0.0f, 1e-45f, -1e-45f, 1e-40f, -1e-40f, FLT_MIN,
        -FLT_MIN, 1e-7f, -1e-7f, 0.5f, -0.5f, 1, -1, 3, -3, 6, -6, 20, -20, 87.3f, -87.3f, 88, -88,
        88.8f, -88.8f, 100, -100, 150, -150, 1e4f, -1e4f, 1e19f, -1e19f, FLT_MAX, -FLT_MAX,
        INFINITY, -INFINITY, NAN };
    enum { NSP = sizeof sp / sizeof sp[0], N = NSP + 4001 };
    float x[N], y[N];
    for (int i = 0; i < N; i++)
        x[i] = i < NSP ? sp[i] : (float)(i - NSP - 2000) * 0.01f;
    act_isa isa = act_isa_get();
    int rc = act_isa_set(ACT_ISA_SCALAR);
    if (rc == ACT_OK)
        rc = act_act_forward(id, p, 0, x, y, act_shape_flat(N));
    if (act_isa_set(isa) != ACT_OK || rc != ACT_OK)
        return 1;
    char path[512];
    snprintf(path, sizeof path, "%s/%s.ref", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    for (int i = 0; i < N; i++)
        fprintf(f, "%a %a\n", (double)x[i], (double)y[i]);
    return fclose(f) != 0;
}

static int exports(const char *dir)
{
    int bad = 0;
    for (int i = 0; i < ACT_ACT_COUNT; i++) {
        act_act_id id = (act_act_id)i;
        float sets[MAXSETS][ACT_ACT_MAX_PARAMS];
        int ns = psets(id, sets);
        for (int j = 0; j < ns; j++) {
            act_expr *e = acti_expr_new();
            int xi = e ? acti_expr_leaf(e, ACT_EXPR_INPUT, 0, 0.0f) : -1;
            acti_enode nd = { .op = ACT_EXPR_ACT, .a = xi, .b = -1, .k = i };
            memcpy(nd.p, sets[j], sizeof nd.p);
            int root = xi >= 0 ? acti_expr_add(e, &nd) : -1;
            if (root < 0) {
                fprintf(stderr, "%s set %d: cannot build\n", act_act_info(id)->name, j);
                act_expr_free(e);
                return 1;
            }
            e->root = root;
            char name[64];
            snprintf(name, sizeof name, "%s-%d", act_act_info(id)->name, j);
            bad += write_text(dir, name, "c", e, ACT_EXPR_C);
            bad += write_text(dir, name, "py", e, ACT_EXPR_TORCH);
            bad += write_ref(dir, name, id, sets[j]);
            act_expr_free(e);
        }
    }
    static const char *const parsed[] = {
        "x*swish(x, -0.8) + mish(2*x)",
        "acon_c(x, 1.5, -0.25, 2) + x*smu(x) - gelu_tanh(x)/(1 + abs(x))",
        "beta*elu(x, 1.3) + celu(x*beta, 0.5) + selu(x) + leaky_relu(x, -0.2)",
        "hardswish(x) * hardsigmoid(x - 1) + relu6(3*x) + relu(-x) + prelu(x, 0.6)",
        "silu(x) + gelu(x) + acon_a(x, 2.5) + acon_b(x, -0.5, 0.8) + smu1(x, 0.25, 1)",
        "smu(x, 0.25, 1000000) + smu1(x) + sigmoid(x) + softplus(x) + tanh(x)",
    };
    for (size_t j = 0; j < sizeof parsed / sizeof parsed[0]; j++) {
        act_expr *e = NULL;
        act_diag dg;
        if (act_expr_parse(parsed[j], &e, &dg) != ACT_OK) {
            fprintf(stderr, "parse '%s': %s\n", parsed[j], dg.msg);
            return 1;
        }
        char name[64];
        snprintf(name, sizeof name, "parsed-%zu", j);
        bad += write_text(dir, name, "c", e, ACT_EXPR_C);
        bad += write_text(dir, name, "py", e, ACT_EXPR_TORCH);
        act_expr_free(e);
    }
    return bad != 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--exports") == 0)
        return exports(argv[2]);
    if (argc != 2) {
        fprintf(stderr, "usage: act_dump OUT.bin\n");
        return 2;
    }
    out = fopen(argv[1], "wb");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    fprintf(stderr, "act_dump: isa %s, %d threads\n", act_isa_name(act_isa_get()),
            act_threads_get());
    enum { NS = 1500, NM = (3 << 16) + 123, NB = (1 << 22) + 37 };
    float *xs = malloc(NS * sizeof *xs), *xm = malloc(NM * sizeof *xm);
    float *xb = malloc(NB * sizeof *xb);
    fill_x(xs, NS, 1);
    fill_x(xm, NM, 2);
    fill_x(xb, NB, 3);
    for (int i = 0; i < ACT_ACT_COUNT; i++) {
        act_act_id id = (act_act_id)i;
        const act_act_desc *d = act_act_info(id);
        float sets[MAXSETS][ACT_ACT_MAX_PARAMS];
        int ns = psets(id, sets);
        char what[48];
        run_flat(id, "pNULL", NULL, xs, NS, 0);
        for (int j = 0; j < ns; j++) {
            snprintf(what, sizeof what, "set%d", j);
            run_flat(id, what, sets[j], xs, NS, 0);
            run_flat(id, what, sets[j], xm, NM, 1);
        }
        run_flat(id, "big", d->defaults, xb, NB, 3);     /* non-temporal stores (relu class) */
        /* invalid parameters: status only (and the outputs when a set is accepted) */
        static const float bad[] = { 0.0f, -0.0f, NAN, INFINITY, -INFINITY, FLT_MAX, -FLT_MIN };
        for (int k = 0; k < d->n_params; k++)
            for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
                float p[ACT_ACT_MAX_PARAMS];
                memcpy(p, d->defaults, sizeof p);
                p[k] = bad[b];
                snprintf(what, sizeof what, "bad%d.%zu", k, b);
                run_flat(id, what, p, xs, 40, 0);
            }
        static const act_shape shapes[] = {
            { 37, 53, 1 }, { 5, 150, 1 }, { 2, 3, 1 }, { 300, 40, 1 }, { 130, 600, 1 },
            { 70, 24, 4 }, { 3, 4, 37 }, { 2500, 67, 1 }, { 3, 5, (1u << 14) + 3 },
            { 3000, 40, 1 }, { 200, 1000, 1 }, { 600, 300, 2 }, { 1, 1, 1000 },
        };
        for (size_t j = 0; j < sizeof shapes / sizeof shapes[0]; j++)
            run_pc(id, sets, ns, shapes[j]);
    }
    free(xs), free(xm), free(xb);
    if (fclose(out) != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
