/* net_init_dump.c -- bit-identity check of network construction across a refactor: for every
 * model spec and activation given, with --init he and torch, builds the net as `actlab train`
 * does (1x28x28 input, 10 classes, seed 1, stem replaced) and writes its segment table (name,
 * offset, size, flags) and its whole initial parameter block, raw, to one binary file. Uses the
 * public API only, so the same file builds against the code before and after a change:
 *   cc -O2 -fopenmp -Iinclude dev/net_init_dump.c build/h6/libactlab.a \
 *      $(pkg-config --libs openblas) -lz -lm -o build/h6/net_init_dump
 *   build/h6/net_init_dump out.bin mlp:64x2 cnn -- relu acon_c 'expr:x*sigmoid(beta*x)'
 * Specs come before "--", activations after; compare two runs' files with cmp. An activation
 * may carry options after '/': stem0 (cfg.act_stem 0), pc0 / pc1 (per_channel), paper0
 * (paper_init 0), bn0 (meta_bn 0), r=N (meta_r), p=V:V:.. (has_params); "builtins" stands for
 * every built-in activation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/actlab.h"

/* Resolves name as the CLI does: "expr:F" compiles F; anything else is act_nn_act_parse's. */
static int resolve(const char *name, act_nn_act *a, act_expr **e, act_expr_prog **prog,
                   act_fn *fn)
{
    if (strncmp(name, "expr:", 5) != 0)
        return act_nn_act_parse(name, a);
    act_diag d;
    int rc = act_expr_parse(name + 5, e, &d);
    if (rc == ACT_OK)
        rc = act_expr_compile(*e, prog);
    if (rc == ACT_OK)
        rc = act_expr_fn(*prog, fn);
    if (rc == ACT_OK) {
        *a = act_nn_act_default(ACT_NN_ACT_FN);
        a->fn = fn;
    }
    return rc;
}

/* Applies the '/' options of an activation argument to c. */
static int options(char *opts, act_net_config *c)
{
    for (char *o = strtok(opts, "/"); o; o = strtok(NULL, "/")) {
        if (!strcmp(o, "stem0")) {
            c->act_stem = 0;
        } else if (!strcmp(o, "pc0") || !strcmp(o, "pc1")) {
            c->act.per_channel = o[2] - '0';
        } else if (!strcmp(o, "paper0")) {
            c->act.paper_init = 0;
        } else if (!strcmp(o, "bn0")) {
            c->act.meta_bn = 0;
        } else if (!strncmp(o, "r=", 2)) {
            c->act.meta_r = atoi(o + 2);
        } else if (!strncmp(o, "p=", 2)) {
            char *q = o + 2;
            for (int k = 0; k < ACT_FN_MAX_PARAMS && *q; k++) {
                c->act.params[k] = strtof(q, &q);
                if (*q == ':')
                    q++;
            }
            c->act.has_params = 1;
        } else {
            return ACT_EINVAL;
        }
    }
    return ACT_OK;
}

static int dump(FILE *out, const char *spec, const char *arg, act_nn_init init)
{
    char act[256], opts[256] = "";
    snprintf(act, sizeof act, "%s", arg);
    char *slash = strncmp(act, "expr:", 5) ? strchr(act, '/') : strstr(act, " /");
    if (slash) {
        snprintf(opts, sizeof opts, "%s", slash + 1);
        *slash = '\0';
    }
    act_expr *e = NULL;
    act_expr_prog *prog = NULL;
    act_fn fn;
    act_net_config c = act_net_config_default();
    c.model = spec;
    c.in_c = 1;
    c.in_h = c.in_w = 28;
    c.n_classes = 10;
    c.max_batch = 128;
    c.threads = 2;
    c.seed = 1;
    c.init = init;
    int rc = resolve(act, &c.act, &e, &prog, &fn);
    if (rc == ACT_OK)
        rc = options(opts, &c);
    act_net *net = NULL;
    act_diag d;
    d.msg[0] = '\0';
    if (rc == ACT_OK)
        rc = act_net_new(&c, &net, &d);
    fprintf(out, "%s %s %s status %d %s\n", spec, arg,
            init == ACT_NN_INIT_TORCH ? "torch" : "he", rc, d.msg);
    if (rc == ACT_OK) {
        for (int i = 0; i < act_net_n_segments(net); i++) {
            const act_param_seg *s = act_net_segment(net, i);
            fprintf(out, "  %s %zu %zu %u %d\n", s->name, s->offset, s->size, s->flags, s->layer);
        }
        size_t n = act_net_n_params(net);
        fprintf(out, "  params %zu\n", n);
        if (fwrite(act_net_params(net), sizeof(float), n, out) != n)
            rc = ACT_EIO;
        fputc('\n', out);
    }
    act_net_free(net);
    act_expr_prog_free(prog);
    act_expr_free(e);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: net_init_dump OUT SPEC... -- ACT...\n");
        return 2;
    }
    int sep = 2;
    while (sep < argc && strcmp(argv[sep], "--") != 0)
        sep++;
    FILE *out = fopen(argv[1], "wb");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    int bad = 0;
    for (int m = 2; m < sep; m++)
        for (int a = sep + 1; a < argc; a++) {
            int all = !strcmp(argv[a], "builtins");
            for (int id = 0; id < (all ? ACT_ACT_COUNT : 1); id++)
                for (int init = 0; init < 2; init++) {
                    const char *name = all ? act_act_fn((act_act_id)id)->name : argv[a];
                    int rc = dump(out, argv[m], name, (act_nn_init)init);
                    if (rc != ACT_OK) {
                        fprintf(stderr, "%s / %s: %s\n", argv[m], name, act_strerror(rc));
                        bad = 1;
                    }
                }
        }
    if (fclose(out) != 0) {
        perror(argv[1]);
        return 1;
    }
    return bad;
}
