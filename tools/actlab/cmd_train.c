/* cmd_train.c -- `actlab train` (one run: progress, per-epoch lines, metrics.csv, summary.json,
 * checkpoints, --bench / --profile) and `actlab compare` (activations x seeds: mean +- std table,
 * learning-curve and bar plots). The engine is include/actlab/nn.h. */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actlab/expr.h"
#include "actlab/nn.h"
#include "cli.h"
#include "commands.h"
#include "plot.h"

#define MAX_EPOCHS 1000

typedef struct opts {
    const char      *data, *data_dir, *model, *act, *out, *resume;
    act_train_config tr;
    int              threads, quiet, profile, keep_stem, per_channel, meta_r, meta_bn;
    act_conv_algo    conv;
    act_nn_init      init;
    long             bench;           /* > 0: throughput mode, this many batches */
    int              n_params;        /* -p k=v given */
    char             pkv[ACT_FN_MAX_PARAMS][64];
    const char      *acts;            /* compare */
    int              seeds;
} opts;

typedef struct run_result {
    int             status;           /* act_status of act_train_run */
    int             epochs;           /* run in this invocation (rows of ep) */
    int             done;             /* completed in total, resumed ones included */
    act_epoch_stats ep[MAX_EPOCHS];
    double          seconds;          /* wall, training + evaluation */
    size_t          n_params;
} run_result;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// ----------------------------------------------------------------------------
// files

static int mkdir_p(const char *dir)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return (mkdir(buf, 0777) == 0 || errno == EEXIST) ? 0 : -1;
}

/* Writes text to path atomically (path.tmp, then rename). */
static int write_atomic(const char *path, const char *text)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int ok = fputs(text, f) >= 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

/* A growable string for CSV and JSON. */
typedef struct sbuf { char *s; size_t n, cap; } sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->n;
        va_start(ap, fmt);
        int k = b->s ? vsnprintf(b->s + b->n, room, fmt, ap) : -1;
        va_end(ap);
        if (k >= 0 && (size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (k >= 0 && nc < b->n + (size_t)k + 1)
            nc *= 2;
        char *q = realloc(b->s, nc);
        if (!q)
            return;
        b->s = q;
        b->cap = nc;
    }
}

static void json_num(sbuf *b, double v)
{
    if (isfinite(v))
        sb_printf(b, "%.6g", v);
    else
        sb_printf(b, "null");
}

// ----------------------------------------------------------------------------
// activation from a name: built-in, engine kinds, or "expr:FORMULA"

typedef struct act_holder {
    act_expr      *e;
    act_expr_prog *prog;
    act_fn         fn;
} act_holder;

static int resolve_act(const char *cmd, const opts *o, const char *name, act_nn_act *a,
                       act_holder *h)
{
    memset(h, 0, sizeof *h);
    if (strncmp(name, "expr:", 5) == 0) {
        act_diag d;
        int rc = act_expr_parse(name + 5, &h->e, &d);
        if (rc == ACT_OK)
            rc = act_expr_compile(h->e, &h->prog);
        if (rc == ACT_OK)
            rc = act_expr_fn(h->prog, &h->fn);
        if (rc != ACT_OK) {
            cli_error(cmd, "expression '%s': %s%s%s", name + 5, act_strerror(rc),
                      rc == ACT_EPARSE ? ": " : "", rc == ACT_EPARSE ? d.msg : "");
            return -1;
        }
        *a = act_nn_act_default(ACT_NN_ACT_FN);
        a->fn = &h->fn;
    } else {
        int rc = act_nn_act_parse(name, a);
        if (rc != ACT_OK) {
            cli_error(cmd, "unknown activation '%s'; valid: any built-in (actlab list), "
                      "meta_acon, frelu, acon_frelu, or expr:FORMULA", name);
            return -1;
        }
    }
    a->per_channel = o->per_channel;
    if (o->meta_r > 0)
        a->meta_r = o->meta_r;
    if (o->meta_bn >= 0)
        a->meta_bn = o->meta_bn;
    if (o->n_params > 0) {
        if (a->kind != ACT_NN_ACT_FN) {
            cli_error(cmd, "-p applies to act_fn activations only");
            return -1;
        }
        for (int k = 0; k < a->fn->n_params; k++)
            a->params[k] = a->fn->defaults[k];
        for (int i = 0; i < o->n_params; i++) {
            char key[64];
            const char *eq = strchr(o->pkv[i], '=');
            float v;
            if (!eq || (size_t)(eq - o->pkv[i]) >= sizeof key || cli_parse_float(eq + 1, &v)) {
                cli_error(cmd, "-p wants NAME=VALUE, got '%s'", o->pkv[i]);
                return -1;
            }
            memcpy(key, o->pkv[i], (size_t)(eq - o->pkv[i]));
            key[eq - o->pkv[i]] = '\0';
            int k = 0;
            while (k < a->fn->n_params && strcmp(a->fn->param_names[k], key) != 0)
                k++;
            if (k == a->fn->n_params) {
                cli_error(cmd, "%s has no parameter '%s'", a->fn->name, key);
                return -1;
            }
            a->params[k] = v;
        }
        a->has_params = 1;
    }
    return 0;
}

static void act_holder_free(act_holder *h)
{
    act_expr_prog_free(h->prog);
    act_expr_free(h->e);
}

// ----------------------------------------------------------------------------
// one run

typedef struct run_ctx {
    double      cpu[MAX_EPOCHS + 1];  /* process CPU seconds at the end of each epoch */
    const opts *o;
    run_result *r;
    int         tty;
    double      last_draw, t0;
    const char *metrics_path;
    const char *label;
} run_ctx;

static void on_batch(void *user, const act_train_progress *p)
{
    run_ctx *c = user;
    if (!c->tty || c->o->quiet)
        return;
    double t = now_s();
    if (t - c->last_draw < 0.2 && p->batch != p->n_batches)
        return;
    c->last_draw = t;
    int w = 24, fill = (int)((double)w * (double)p->batch / (double)p->n_batches);
    char bar[32];
    for (int i = 0; i < w; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[w] = '\0';
    double eta = p->images_per_s > 0 && p->batch > 0
                     ? p->elapsed_s * (double)(p->n_batches - p->batch) / (double)p->batch
                     : 0.0;
    fprintf(stderr, "\r%s epoch %d/%d [%s] %3d%%  %7.0f img/s  loss %.4f  ETA %4.0fs ",
            c->label, p->epoch, p->epochs, bar, (int)(100 * p->batch / p->n_batches),
            p->images_per_s, p->loss, eta);
    fflush(stderr);
}

static void write_metrics(const run_ctx *c)
{
    if (!c->metrics_path)
        return;
    sbuf b = { 0 };
    sb_printf(&b, "epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,seconds,"
                  "images_per_s,lr\n");
    for (int i = 0; i < c->r->epochs; i++) {
        const act_epoch_stats *e = &c->r->ep[i];
        sb_printf(&b, "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.4f,%.1f,%.6g\n", e->epoch,
                  e->train_loss, e->train_acc, e->val_loss, e->val_acc, e->test_loss,
                  e->test_acc, e->seconds, e->images_per_s, e->lr);
    }
    if (b.s && write_atomic(c->metrics_path, b.s) != 0)
        fprintf(stderr, "actlab train: cannot write %s\n", c->metrics_path);
    free(b.s);
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void on_epoch(void *user, const act_epoch_stats *s)
{
    run_ctx *c = user;
    if (c->r->epochs < MAX_EPOCHS) {
        c->cpu[c->r->epochs] = cpu_s();
        c->r->ep[c->r->epochs++] = *s;
    }
    if (c->tty && !c->o->quiet)
        fprintf(stderr, "\r\033[K");
    if (!c->o->quiet && c->o->bench == 0) {
        printf("%sepoch %d/%d  loss %.4f  train %.4f  val %.4f  test %.4f  %.0f img/s  %.1f s\n",
               c->label, s->epoch, c->o->tr.epochs, s->train_loss, s->train_acc, s->val_acc,
               s->test_acc, s->images_per_s, s->seconds);
        fflush(stdout);
    }
    write_metrics(c);
}

static const char *status_word(int rc)
{
    return rc == ACT_OK ? "ok" : rc == ACT_EDIVERGED ? "diverged" : "failed";
}

/* The names of act_conv_algo and act_nn_init values, in enum order. */
static const char *const conv_names[] = { "auto", "gemm", "winograd" };
static const char *const init_names[] = { "he", "torch" };

static int name_index(const char *const *names, int n, const char *s)
{
    for (int k = 0; k < n; k++)
        if (!strcmp(names[k], s))
            return k;
    return -1;
}

/* Whether the net normalises anywhere (a BN layer): a diverged run without one gets a hint. */
static int has_bn(const act_net *net)
{
    act_layer_info li;
    for (int i = 0; i < act_net_n_layers(net); i++)
        if (act_net_layer_info(net, i, &li) == ACT_OK && !strcmp(li.kind, "bn"))
            return 1;
    return 0;
}

static void write_summary(const opts *o, const char *path, const char *act, uint64_t seed,
                          const run_result *r)
{
    sbuf b = { 0 };
    const act_epoch_stats *l = r->epochs ? &r->ep[r->epochs - 1] : NULL;
    double ips = 0.0;
    for (int i = 0; i < r->epochs; i++)
        ips += r->ep[i].images_per_s / (double)r->epochs;
    sb_printf(&b, "{\n  \"status\": \"%s\",\n  \"epochs\": %d,\n  \"test_acc\": ",
              status_word(r->status), r->done);
    json_num(&b, l ? l->test_acc : NAN);
    sb_printf(&b, ",\n  \"val_acc\": ");
    json_num(&b, l ? l->val_acc : NAN);
    sb_printf(&b, ",\n  \"train_loss\": ");
    json_num(&b, l ? l->train_loss : NAN);
    sb_printf(&b, ",\n  \"train_acc\": ");
    json_num(&b, l ? l->train_acc : NAN);
    sb_printf(&b, ",\n  \"images_per_s\": ");
    json_num(&b, ips);
    sb_printf(&b, ",\n  \"seconds\": ");
    json_num(&b, r->seconds);
    sb_printf(&b, ",\n  \"n_params\": %zu,\n", r->n_params);
    const act_train_config *t = &o->tr;
    sb_printf(&b, "  \"config\": {\n    \"data\": \"%s\", \"model\": \"%s\", \"act\": \"",
              o->data, o->model);
    for (const char *p = act; *p; p++)   /* expressions may hold quotes or backslashes */
        sb_printf(&b, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
    sb_printf(&b, "\", \"act_stem\": %s,\n", o->keep_stem ? "false" : "true");
    sb_printf(&b, "    \"epochs\": %d, \"batch\": %zu, \"opt\": \"%s\", \"lr\": %g, "
                  "\"momentum\": %g, \"nesterov\": %s, \"weight_decay\": %g, \"clip\": %g,\n",
              t->epochs, t->batch, act_opt_name(t->opt.kind), (double)t->sched.lr,
              (double)t->opt.momentum, t->opt.nesterov ? "true" : "false",
              (double)t->opt.weight_decay, (double)t->opt.clip_norm);
    sb_printf(&b, "    \"sched\": \"%s\", \"warmup_epochs\": %g, \"label_smoothing\": %g, "
                  "\"val_size\": %zu, \"train_limit\": %zu, \"crop_pad\": %d, \"flip\": %s,\n",
              act_sched_name(t->sched.kind), (double)t->sched.warmup_epochs,
              (double)t->label_smoothing, t->val_size, t->train_limit, t->crop_pad,
              t->flip ? "true" : "false");
    sb_printf(&b, "    \"seed\": %llu, \"threads\": %d, \"init\": \"%s\", \"conv\": \"%s\"\n  }\n}\n",
              (unsigned long long)seed, o->threads, init_names[o->init], conv_names[o->conv]);
    if (b.s && write_atomic(path, b.s) != 0)
        fprintf(stderr, "actlab train: cannot write %s\n", path);
    free(b.s);
}

/* Trains one (activation, seed). out_dir may be NULL. Returns an act_status; r filled. */
static int run_one(const char *cmd, const opts *o, const char *act, uint64_t seed,
                   const act_dataset *train, const act_dataset *test, const char *out_dir,
                   const char *label, run_result *r)
{
    memset(r, 0, sizeof *r);
    act_nn_act a;
    act_holder h;
    if (resolve_act(cmd, o, act, &a, &h) != 0)
        return ACT_EINVAL;
    act_net_config nc = act_net_config_default();
    nc.model = o->model;
    nc.in_c = train->c;
    nc.in_h = train->h;
    nc.in_w = train->w;
    nc.n_classes = train->n_classes;
    nc.act = a;
    nc.act_stem = !o->keep_stem;
    nc.max_batch = o->tr.batch;
    nc.threads = o->threads;
    nc.seed = seed;
    nc.profile = o->profile;
    nc.conv_algo = o->conv;
    nc.init = o->init;
    act_net *net = NULL;
    act_diag d;
    int rc = act_net_new(&nc, &net, &d);
    if (rc != ACT_OK) {
        cli_error(cmd, "model '%s': %s%s%s", o->model, act_strerror(rc), d.msg[0] ? ": " : "",
                  d.msg);
        act_holder_free(&h);
        return rc;
    }
    r->n_params = act_net_n_learnable(net);
    char metrics[4096], ckpt[4096];
    act_train_config tc = o->tr;
    tc.seed = seed;
    run_ctx c = { { 0 }, o, r, isatty(2), 0.0, now_s(), NULL, label };
    if (out_dir) {
        snprintf(metrics, sizeof metrics, "%s/metrics.csv", out_dir);
        snprintf(ckpt, sizeof ckpt, "%s/checkpoint.bin", out_dir);
        c.metrics_path = metrics;
        tc.checkpoint = ckpt;
    }
    tc.resume = o->resume;
    tc.on_batch = on_batch;
    tc.on_epoch = on_epoch;
    tc.user = &c;
    if (o->bench > 0) {   /* throughput: epoch 1 warms up, epoch 2 is timed */
        tc.epochs = 2;
        tc.max_batches = (size_t)o->bench;
        tc.val_size = 0;
        tc.checkpoint = NULL;
        test = NULL;
    }
    int done = 0;
    rc = act_train_run(net, &tc, train, test, NULL, &done, &d);
    r->status = rc;
    r->done = done;
    r->seconds = now_s() - c.t0;
    if (c.tty && !o->quiet)
        fprintf(stderr, "\r\033[K");
    if (rc != ACT_OK)
        cli_error(cmd, "%s%s%s%s", act_strerror(rc), d.msg[0] ? ": " : "", d.msg,
                  rc == ACT_EDIVERGED && o->init == ACT_NN_INIT_HE && !has_bn(net)
                      ? " (a model without BN: try --init torch, or a smaller --lr)" : "");
    if (o->bench > 0 && r->epochs == 2) {
        /* CPU time of the timed epoch: robust to other jobs on shared cores (1 thread). */
        double cpu = c.cpu[1] - c.cpu[0];
        printf("bench model=%s act=%s batch=%zu threads=%d images_per_s=%.1f "
               "images_per_cpu_s=%.1f\n", o->model, act, o->tr.batch, o->threads,
               r->ep[1].images_per_s, cpu > 0 ? (double)(o->bench * (long)o->tr.batch) / cpu : 0.0);
        if (o->profile) {
            act_net_profile_reset(net);
            tc.epochs = 1;
            tc.on_epoch = NULL;
            tc.on_batch = NULL;
            act_train_run(net, &tc, train, NULL, NULL, NULL, &d);
            double tot = 0.0;
            for (int i = 0; i < act_net_n_layers(net); i++) {
                act_layer_info li;
                act_net_layer_info(net, i, &li);
                tot += li.fwd_s + li.bwd_s;
            }
            printf("profile (%ld batches): layer kind output fwd_ms bwd_ms share\n", o->bench);
            for (int i = 0; i < act_net_n_layers(net); i++) {
                act_layer_info li;
                act_net_layer_info(net, i, &li);
                printf("  %3d %-12s %4dx%-3dx%-3d %8.2f %8.2f %5.1f%%\n", i, li.kind, li.c, li.h,
                       li.w, 1e3 * li.fwd_s, 1e3 * li.bwd_s,
                       tot > 0 ? 100.0 * (li.fwd_s + li.bwd_s) / tot : 0.0);
            }
            printf("  layers total %.2f ms per batch\n", 1e3 * tot / (double)o->bench);
        }
    }
    if (out_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/summary.json", out_dir);
        write_summary(o, path, act, seed, r);
    }
    act_net_free(net);
    act_holder_free(&h);
    return rc;
}

// ----------------------------------------------------------------------------
// options shared by train and compare

enum { O_DATA_DIR = 256, O_MODEL, O_ACT, O_EPOCHS, O_BATCH, O_OPT, O_LR, O_MOMENTUM,
       O_NESTEROV, O_WD, O_CLIP, O_SCHED, O_WARMUP, O_STEP_EVERY, O_GAMMA, O_SMOOTH, O_VAL,
       O_TRAIN_LIMIT, O_TEST_LIMIT, O_CROP, O_FLIP, O_SEED, O_THREADS, O_OUT, O_RESUME,
       O_BENCH, O_PROFILE, O_QUIET, O_KEEP_STEM, O_PER_CHANNEL, O_META_R, O_META_BN, O_ACTS,
       O_SEEDS, O_QUICK, O_CONV, O_INIT, O_HELP };

static const struct option long_opts[] = {
    { "data", required_argument, 0, 'd' },        { "data-dir", required_argument, 0, O_DATA_DIR },
    { "model", required_argument, 0, O_MODEL },   { "act", required_argument, 0, O_ACT },
    { "epochs", required_argument, 0, O_EPOCHS }, { "batch", required_argument, 0, O_BATCH },
    { "opt", required_argument, 0, O_OPT },       { "lr", required_argument, 0, O_LR },
    { "momentum", required_argument, 0, O_MOMENTUM }, { "nesterov", no_argument, 0, O_NESTEROV },
    { "wd", required_argument, 0, O_WD },         { "weight-decay", required_argument, 0, O_WD },
    { "clip", required_argument, 0, O_CLIP },     { "sched", required_argument, 0, O_SCHED },
    { "warmup", required_argument, 0, O_WARMUP }, { "step-every", required_argument, 0, O_STEP_EVERY },
    { "gamma", required_argument, 0, O_GAMMA },   { "label-smoothing", required_argument, 0, O_SMOOTH },
    { "val", required_argument, 0, O_VAL },       { "train-limit", required_argument, 0, O_TRAIN_LIMIT },
    { "test-limit", required_argument, 0, O_TEST_LIMIT }, { "crop", required_argument, 0, O_CROP },
    { "flip", no_argument, 0, O_FLIP },           { "seed", required_argument, 0, O_SEED },
    { "threads", required_argument, 0, O_THREADS }, { "out", required_argument, 0, O_OUT },
    { "resume", required_argument, 0, O_RESUME }, { "bench", required_argument, 0, O_BENCH },
    { "profile", no_argument, 0, O_PROFILE },     { "quiet", no_argument, 0, O_QUIET },
    { "keep-stem", no_argument, 0, O_KEEP_STEM }, { "per-channel", required_argument, 0, O_PER_CHANNEL },
    { "meta-r", required_argument, 0, O_META_R }, { "meta-bn", required_argument, 0, O_META_BN },
    { "acts", required_argument, 0, O_ACTS },     { "seeds", required_argument, 0, O_SEEDS },
    { "quick", no_argument, 0, O_QUICK },         { "help", no_argument, 0, O_HELP },
    { "conv", required_argument, 0, O_CONV },     { "init", required_argument, 0, O_INIT },
    { 0, 0, 0, 0 },
};

static const char common_help[] =
    "  -d, --data NAME        fashion-mnist (default; Debian dataset-fashion-mnist), mnist,\n"
    "                         cifar10, cifar100\n"
    "      --data-dir DIR     where the data files are (IDX .gz or plain; CIFAR .bin)\n"
    "      --model SPEC       mlp:WIDTHxDEPTH[,bn][,dropout=p] | cnn | resnet:N[,preact]\n"
    "                         (default mlp:256x2; resnet:3 is ResNet-20)\n"
    "      --keep-stem        the stem (first) activation stays relu\n"
    "      --per-channel on|off  per-channel activation parameters (default: the activation's)\n"
    "      -p NAME=VALUE      initial activation parameter (repeatable)\n"
    "      --meta-r R         Meta-ACON reduction (16);  --meta-bn on|off  generator BN (on)\n"
    "      --epochs N (5)  --batch N (128)  --seed N (1)  --threads N (1)\n"
    "      --opt sgd|adam|adamw (sgd)  --lr X  --momentum X (0.9)  --nesterov\n"
    "                         lr default: sgd 0.02 (0.05 diverges for smooth activations\n"
    "                         and ACON-C without BN, e.g. cnn); adam/adamw 0.001\n"
    "      --wd X             weight decay, on conv/dense weights only (0; adamw 0.01)\n"
    "      --clip X           clip the global gradient norm to X\n"
    "      --sched constant|step|cosine (constant)  --warmup EPOCHS  --step-every E --gamma G\n"
    "      --label-smoothing X  --val N (5000 held out)  --train-limit N  --test-limit N\n"
    "      --crop PAD         random crop with padding;  --flip  random horizontal flip\n"
    "      --out DIR          write metrics.csv, summary.json, checkpoint.bin there\n"
    "      --init he|torch    conv/dense weights: N(0, 2/fan_in) (he, default) or PyTorch's\n"
    "                         U(+-1/sqrt(fan_in)) (torch: BN-free nets with acon_c, meta_acon)\n"
    "      --conv auto|gemm|winograd  3x3 convolution algorithm (auto: Winograd where it is\n"
    "                         faster; gemm: direct/im2col sums only)\n"
    "      --quiet            no progress or per-epoch lines\n"
    "exit codes: 0 ok, 1 failure, 2 usage, 3 training diverged (non-finite loss)\n";

static int parse_onoff(const char *s)
{
    return strcmp(s, "on") == 0 ? 1 : strcmp(s, "off") == 0 ? 0 : -1;
}

/* Returns -1 to continue, else an exit code. */
static int parse_opts(const char *cmd, int argc, char **argv, opts *o, int compare)
{
    memset(o, 0, sizeof *o);
    o->data = "fashion-mnist";
    o->model = "mlp:256x2";
    o->act = "relu";
    o->tr = act_train_config_default();
    o->tr.sched.lr = 0.0f;   /* unset: the optimiser's default below */
    o->threads = 1;
    o->per_channel = -1;
    o->meta_bn = -1;
    o->acts = "relu,swish,acon_c,smu";
    o->seeds = 3;
    int opt_set = 0, wd_set = 0, lr_set = 0;
    float wd = 0.0f, momentum = 0.9f;
    int nesterov = 0;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "d:p:h", long_opts, NULL)) != -1) {
        long v = 0;
        float f = 0.0f;
        const char *arg = optarg;
#define NEED_LONG(lo, hi)                                                          \
    if (cli_parse_long(arg, &v) || v < (lo) || v > (hi)) {                         \
        cli_error(cmd, "%s wants an integer in [%ld, %ld], got '%s'", argv[optind - 1], \
                  (long)(lo), (long)(hi), arg);                                    \
        return CLI_EXIT_USAGE;                                                     \
    }
#define NEED_FLOAT(lo, hi)                                                         \
    if (cli_parse_float(arg, &f) || !(f >= (lo) && f <= (hi))) {                   \
        cli_error(cmd, "%s wants a number in [%g, %g], got '%s'", argv[optind - 1],  \
                  (double)(lo), (double)(hi), arg);                                \
        return CLI_EXIT_USAGE;                                                     \
    }
        switch (ch) {
        case 'd': o->data = arg; break;
        case O_DATA_DIR: o->data_dir = arg; break;
        case O_MODEL: o->model = arg; break;
        case O_ACT: o->act = arg; break;
        case O_EPOCHS: NEED_LONG(1, MAX_EPOCHS); o->tr.epochs = (int)v; break;
        case O_BATCH: NEED_LONG(1, 65536); o->tr.batch = (size_t)v; break;
        case O_OPT:
            if (act_opt_lookup(arg, &o->tr.opt.kind) != ACT_OK) {
                cli_error(cmd, "unknown optimiser '%s' (sgd, adam, adamw)", arg);
                return CLI_EXIT_USAGE;
            }
            opt_set = 1;
            break;
        case O_LR: NEED_FLOAT(0.0f, 100.0f); o->tr.sched.lr = f; lr_set = 1; break;
        case O_MOMENTUM: NEED_FLOAT(0.0f, 0.9999f); momentum = f; break;
        case O_NESTEROV: nesterov = 1; break;
        case O_WD: NEED_FLOAT(0.0f, 10.0f); wd = f; wd_set = 1; break;
        case O_CLIP: NEED_FLOAT(0.0f, 1e9f); o->tr.opt.clip_norm = f; break;
        case O_SCHED:
            if (act_sched_lookup(arg, &o->tr.sched.kind) != ACT_OK) {
                cli_error(cmd, "unknown schedule '%s' (constant, step, cosine)", arg);
                return CLI_EXIT_USAGE;
            }
            break;
        case O_WARMUP: NEED_FLOAT(0.0f, 1000.0f); o->tr.sched.warmup_epochs = f; break;
        case O_STEP_EVERY: NEED_FLOAT(0.0f, 1000.0f); o->tr.sched.step_every = f; break;
        case O_GAMMA: NEED_FLOAT(0.0f, 1.0f); o->tr.sched.gamma = f; break;
        case O_SMOOTH: NEED_FLOAT(0.0f, 0.99f); o->tr.label_smoothing = f; break;
        case O_VAL: NEED_LONG(0, 100000000); o->tr.val_size = (size_t)v; break;
        case O_TRAIN_LIMIT: NEED_LONG(1, 100000000); o->tr.train_limit = (size_t)v; break;
        case O_TEST_LIMIT: NEED_LONG(1, 100000000); o->tr.test_limit = (size_t)v; break;
        case O_CROP: NEED_LONG(0, 64); o->tr.crop_pad = (int)v; break;
        case O_FLIP: o->tr.flip = 1; break;
        case O_SEED: NEED_LONG(0, 0x7fffffffL); o->tr.seed = (uint64_t)v; break;
        case O_THREADS: NEED_LONG(1, 256); o->threads = (int)v; break;
        case O_OUT: o->out = arg; break;
        case O_RESUME: o->resume = arg; break;
        case O_BENCH: NEED_LONG(1, 1000000); o->bench = v; break;
        case O_PROFILE: o->profile = 1; break;
        case O_QUIET: o->quiet = 1; break;
        case O_KEEP_STEM: o->keep_stem = 1; break;
        case O_PER_CHANNEL:
            if ((o->per_channel = parse_onoff(arg)) < 0) {
                cli_error(cmd, "--per-channel wants on or off");
                return CLI_EXIT_USAGE;
            }
            break;
        case O_META_R: NEED_LONG(1, 4096); o->meta_r = (int)v; break;
        case O_META_BN:
            if ((o->meta_bn = parse_onoff(arg)) < 0) {
                cli_error(cmd, "--meta-bn wants on or off");
                return CLI_EXIT_USAGE;
            }
            break;
        case 'p':
            if (o->n_params >= ACT_FN_MAX_PARAMS || strlen(arg) >= sizeof o->pkv[0]) {
                cli_error(cmd, "too many or too long -p values");
                return CLI_EXIT_USAGE;
            }
            snprintf(o->pkv[o->n_params++], sizeof o->pkv[0], "%s", arg);
            break;
        case O_CONV:
        case O_INIT: {
            int conv = ch == O_CONV;
            int k = name_index(conv ? conv_names : init_names, conv ? 3 : 2, arg);
            if (k < 0) {
                cli_error(cmd, conv ? "--conv wants auto, gemm or winograd, not '%s'"
                                    : "--init wants he or torch, not '%s'", arg);
                return CLI_EXIT_USAGE;
            }
            if (conv)
                o->conv = (act_conv_algo)k;
            else
                o->init = (act_nn_init)k;
            break;
        }
        case O_ACTS: o->acts = arg; break;
        case O_SEEDS: NEED_LONG(1, 100); o->seeds = (int)v; break;
        case O_QUICK:
            o->model = "mlp:256x2";
            o->acts = "relu,swish,acon_c,smu";
            o->seeds = 2;
            o->tr.epochs = 4;
            o->tr.train_limit = 12000;
            o->tr.test_limit = 5000;
            o->tr.val_size = 5000;
            o->tr.sched.lr = 0.02f;
            o->threads = 1;   /* robust when the cores are shared; see docs/training.md */
            break;
        case 'h':
        case O_HELP:
            if (compare)
                printf("usage: actlab compare [--acts a,b,...] [--seeds N] [--quick] [OPTIONS]\n"
                       "Trains every activation with every seed (1..N) and prints mean +- std\n"
                       "test accuracy and time per epoch; with --out DIR also compare.csv,\n"
                       "curves.svg/png (test accuracy per epoch) and bars.svg/png.\n"
                       "      --acts LIST        (relu,swish,acon_c,smu)  --seeds N (3)\n"
                       "      --quick            the `make run` comparison: relu, swish, acon_c,\n"
                       "                         smu; mlp:256x2; 12k images; 4 epochs; 2 seeds\n");
            else
                printf("usage: actlab train [OPTIONS]\n"
                       "Trains a network on real data; prints per-epoch loss and accuracy.\n"
                       "      --act NAME         built-in (actlab list), meta_acon, frelu,\n"
                       "                         acon_frelu, or expr:FORMULA (relu)\n"
                       "      --resume FILE      continue from a checkpoint\n"
                       "      --bench N          throughput only: N batches warm-up, N timed\n"
                       "      --profile          with --bench: per-layer forward/backward time\n");
            fputs(common_help, stdout);
            return CLI_EXIT_OK;
        default:
            cli_error(cmd, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
#undef NEED_LONG
#undef NEED_FLOAT
    }
    if (optind < argc) {
        cli_error(cmd, "unexpected argument '%s'", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    act_opt_kind k = o->tr.opt.kind;
    o->tr.opt = act_optim_config_default(k);
    if (!lr_set && o->tr.sched.lr == 0.0f)   /* --quick sets its own */
        o->tr.sched.lr = k == ACT_OPT_SGD ? 0.02f : 0.001f;
    if (k == ACT_OPT_SGD) {
        o->tr.opt.momentum = momentum;
        o->tr.opt.nesterov = nesterov;
    }
    if (wd_set)
        o->tr.opt.weight_decay = wd;
    if (!opt_set && nesterov && momentum == 0.0f) {
        cli_error(cmd, "--nesterov needs momentum");
        return CLI_EXIT_USAGE;
    }
    if (o->profile && o->bench == 0) {
        cli_error(cmd, "--profile goes with --bench N");
        return CLI_EXIT_USAGE;
    }
    return -1;
}

static int load_data(const char *cmd, const opts *o, act_dataset *train, act_dataset *test)
{
    act_diag d;
    int rc = act_data_open(o->data, o->data_dir, train, test, &d);
    if (rc != ACT_OK) {
        cli_error(cmd, "%s", d.msg[0] ? d.msg : act_strerror(rc));
        if (rc == ACT_EIO && strstr(o->data, "mnist"))
            fprintf(stderr, "  (install Debian's dataset-fashion-mnist: make deps, or pass "
                            "--data-dir)\n");
        return rc == ACT_ENOTFOUND ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    if (o->tr.val_size >= train->n) {
        cli_error(cmd, "--val %zu leaves no training images (the set has %zu)", o->tr.val_size,
                  train->n);
        act_data_free(train);
        act_data_free(test);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

static int exit_code(int rc)
{
    return rc == ACT_OK ? CLI_EXIT_OK : rc == ACT_EDIVERGED ? CLI_EXIT_DIVERGED
                                    : rc == ACT_EPARSE || rc == ACT_EINVAL ? CLI_EXIT_USAGE
                                                                          : CLI_EXIT_FAILURE;
}

int cmd_train(int argc, char **argv)
{
    opts o;
    int ec = parse_opts(argv[0], argc, argv, &o, 0);
    if (ec >= 0)
        return ec;
    if (o.out && mkdir_p(o.out) != 0) {
        cli_error(argv[0], "cannot create %s: %s", o.out, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    act_dataset train, test;
    if ((ec = load_data(argv[0], &o, &train, &test)) >= 0)
        return ec;
    if (!o.quiet && o.bench == 0) {
        size_t n_tr = train.n - o.tr.val_size, n_te = test.n;
        if (o.tr.train_limit && o.tr.train_limit < n_tr)
            n_tr = o.tr.train_limit;
        if (o.tr.test_limit && o.tr.test_limit < n_te)
            n_te = o.tr.test_limit;
        printf("train on %s (%zu train, %zu validation, %zu test images): model %s, act %s, "
               "%d epochs, batch %zu, %s lr %g, seed %llu, %d thread%s\n", o.data, n_tr,
               o.tr.val_size, n_te, o.model, o.act, o.tr.epochs, o.tr.batch,
               act_opt_name(o.tr.opt.kind), (double)o.tr.sched.lr,
               (unsigned long long)o.tr.seed, o.threads, o.threads == 1 ? "" : "s");
    }
    run_result *r = malloc(sizeof *r);
    if (!r) {
        act_data_free(&train);
        act_data_free(&test);
        return CLI_EXIT_FAILURE;
    }
    int rc = run_one(argv[0], &o, o.act, o.tr.seed, &train, &test, o.out, "", r);
    if (rc == ACT_OK && !o.quiet && o.bench == 0 && r->epochs)
        printf("done: test accuracy %.4f, validation %.4f, %.1f s\n",
               r->ep[r->epochs - 1].test_acc, r->ep[r->epochs - 1].val_acc, r->seconds);
    free(r);
    act_data_free(&train);
    act_data_free(&test);
    return exit_code(rc);
}

// ----------------------------------------------------------------------------
// compare

#define MAX_ACTS 16

static void mean_std(const double *v, int n, double *m, double *s)
{
    double a = 0.0, q = 0.0;
    for (int i = 0; i < n; i++)
        a += v[i];
    a /= n;
    for (int i = 0; i < n; i++)
        q += (v[i] - a) * (v[i] - a);
    *m = a;
    *s = n > 1 ? sqrt(q / (n - 1)) : 0.0;
}

static void compare_plots(const char *cmd, const char *dir, char names[][100], int n_act,
                          int epochs, const double *curve, const double *acc_m,
                          const double *acc_s)
{
    double *x = malloc((size_t)epochs * sizeof *x);
    plot_series *ls = calloc((size_t)n_act, sizeof *ls);
    if (!x || !ls) {
        free(x);
        free(ls);
        return;
    }
    for (int e = 0; e < epochs; e++)
        x[e] = e + 1;
    for (int a = 0; a < n_act; a++) {
        ls[a].label = names[a];
        ls[a].x = x;
        ls[a].y = curve + (size_t)a * (size_t)epochs;
        ls[a].n = (size_t)epochs;
    }
    plot_panel lp = { .kind = PLOT_LINES, .title = "test accuracy (mean over seeds)",
                      .xlabel = "epoch", .ylabel = "accuracy", .series = ls,
                      .n_series = n_act, .legend = PLOT_LEGEND_BOTTOM_RIGHT };
    plot_figure lf = { .panels = &lp, .n_panels = 1 };
    const char *cats[MAX_ACTS];
    for (int a = 0; a < n_act; a++)
        cats[a] = names[a];
    plot_series bs = { .label = NULL, .y = acc_m, .err = acc_s, .n = (size_t)n_act };
    double lo = 1.0, hi = 0.0;
    for (int a = 0; a < n_act; a++) {
        lo = fmin(lo, acc_m[a] - acc_s[a]);
        hi = fmax(hi, acc_m[a] + acc_s[a]);
    }
    plot_panel bp = { .kind = PLOT_BARS, .title = "final test accuracy (mean +- std)",
                      .ylabel = "accuracy", .series = &bs, .n_series = 1, .categories = cats,
                      .n_categories = n_act, .ymin = fmax(0.0, lo - 0.02), .ymax = fmin(1.0, hi + 0.01),
                      .legend = PLOT_LEGEND_NONE };
    plot_figure bf = { .panels = &bp, .n_panels = 1 };
    const char *ext[] = { "svg", "png" };
    for (int i = 0; i < 2; i++) {
        char path[4096], err[256];
        snprintf(path, sizeof path, "%s/curves.%s", dir, ext[i]);
        if (plot_write(path, &lf, err, sizeof err) != 0)
            cli_error(cmd, "%s: %s", path, err);
        snprintf(path, sizeof path, "%s/bars.%s", dir, ext[i]);
        if (plot_write(path, &bf, err, sizeof err) != 0)
            cli_error(cmd, "%s: %s", path, err);
    }
    free(x);
    free(ls);
}

int cmd_compare(int argc, char **argv)
{
    opts o;
    int ec = parse_opts(argv[0], argc, argv, &o, 1);
    if (ec >= 0)
        return ec;
    char names[MAX_ACTS][100];
    int n_act = 0;
    char list[2048];
    snprintf(list, sizeof list, "%s", o.acts);
    for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
        if (n_act == MAX_ACTS) {
            cli_error(argv[0], "at most %d activations", MAX_ACTS);
            return CLI_EXIT_USAGE;
        }
        snprintf(names[n_act++], sizeof names[0], "%s", t);
    }
    for (int a = 0; a < n_act; a++) {   /* reject bad names before any training */
        act_nn_act x;
        act_holder h;
        if (resolve_act(argv[0], &o, names[a], &x, &h) != 0)
            return CLI_EXIT_USAGE;
        act_holder_free(&h);
    }
    if (n_act == 0) {
        cli_error(argv[0], "--acts is empty");
        return CLI_EXIT_USAGE;
    }
    if (o.out && mkdir_p(o.out) != 0) {
        cli_error(argv[0], "cannot create %s: %s", o.out, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    act_dataset train, test;
    if ((ec = load_data(argv[0], &o, &train, &test)) >= 0)
        return ec;
    int E = o.tr.epochs, S = o.seeds;
    double *acc = calloc((size_t)(n_act * S), sizeof *acc);
    double *tpe = calloc((size_t)(n_act * S), sizeof *tpe);
    double *curve = calloc((size_t)(n_act * E), sizeof *curve);
    run_result *r = malloc(sizeof *r);
    int *status = calloc((size_t)n_act, sizeof *status);
    sbuf csv = { 0 };
    sb_printf(&csv, "act,seed,epoch,train_loss,train_acc,val_acc,test_acc,seconds,images_per_s\n");
    printf("compare on %s: model %s, %d epochs, batch %zu, %s lr %g, %d seed%s, %zu training "
           "images, %d thread%s\n", o.data, o.model, E, o.tr.batch, act_opt_name(o.tr.opt.kind),
           (double)o.tr.sched.lr, S, S == 1 ? "" : "s",
           o.tr.train_limit ? o.tr.train_limit : train.n - o.tr.val_size, o.threads,
           o.threads == 1 ? "" : "s");
    fflush(stdout);
    int worst = ACT_OK;
    opts q = o;
    q.quiet = 1;
    for (int a = 0; a < n_act && acc && tpe && curve && r && status; a++) {
        for (int s = 0; s < S; s++) {
            char dir[4096], label[2048];
            const char *d = NULL;
            if (o.out) {
                snprintf(dir, sizeof dir, "%s/%s-seed%d", o.out, names[a], s + 1);
                for (char *p = dir + strlen(o.out) + 1; *p; p++)
                    if (*p == '/' || *p == ' ' || *p == '*' || *p == '(' || *p == ')')
                        *p = '_';
                if (mkdir_p(dir) == 0)
                    d = dir;
            }
            snprintf(label, sizeof label, "%s seed %d: ", names[a], s + 1);
            int rc = run_one(argv[0], &q, names[a], (uint64_t)(s + 1), &train, &test, d, label,
                             r);
            if (rc != ACT_OK) {
                status[a] = rc;
                if (worst != ACT_EDIVERGED)
                    worst = rc;
            }
            double secs = 0.0;
            for (int e = 0; e < r->epochs; e++) {
                const act_epoch_stats *st = &r->ep[e];
                secs += st->seconds;
                curve[a * E + e] += st->test_acc / S;
                sb_printf(&csv, "%s,%d,%d,%.6f,%.6f,%.6f,%.6f,%.4f,%.1f\n", names[a], s + 1,
                          e + 1, st->train_loss, st->train_acc, st->val_acc, st->test_acc,
                          st->seconds, st->images_per_s);
            }
            for (int e = r->epochs; e < E; e++)
                curve[a * E + e] = NAN;
            acc[a * S + s] = r->epochs ? r->ep[r->epochs - 1].test_acc : NAN;
            tpe[a * S + s] = r->epochs ? secs / r->epochs : NAN;
            printf("  %-24s test %.4f  %.2f s/epoch%s\n", label, acc[a * S + s], tpe[a * S + s],
                   rc == ACT_OK ? "" : rc == ACT_EDIVERGED ? "  (diverged)" : "  (failed)");
            fflush(stdout);
        }
    }
    if (acc && tpe && curve && r && status) {
        double am[MAX_ACTS], as[MAX_ACTS];
        printf("\n%-24s %-20s %s\n", "activation", "test acc (mean+-std)", "s/epoch");
        for (int a = 0; a < n_act; a++) {
            double tm, ts;
            mean_std(acc + a * S, S, &am[a], &as[a]);
            mean_std(tpe + a * S, S, &tm, &ts);
            printf("%-24s %.4f +- %.4f      %.2f%s\n", names[a], am[a], as[a], tm,
                   status[a] == ACT_OK ? "" : "  (some runs failed)");
        }
        if (o.out) {
            char path[4096];
            snprintf(path, sizeof path, "%s/compare.csv", o.out);
            if (csv.s && write_atomic(path, csv.s) != 0)
                cli_error(argv[0], "cannot write %s", path);
            compare_plots(argv[0], o.out, names, n_act, E, curve, am, as);
            printf("wrote %s/compare.csv, curves.svg/png, bars.svg/png\n", o.out);
        }
    }
    free(csv.s);
    free(acc);
    free(tpe);
    free(curve);
    free(r);
    free(status);
    act_data_free(&train);
    act_data_free(&test);
    return exit_code(worst);
}
