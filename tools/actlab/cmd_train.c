/* cmd_train.c -- `actlab train` (one run: progress, per-epoch lines, metrics.csv, summary.json,
 * checkpoints, --resume, --bench / --profile) and `actlab compare` (activations x seeds: mean
 * +- std table, learning-curve and bar plots). Options fill an act_run_config: the run itself,
 * its text in checkpoints and its activation resolution are the library's
 * (include/actlab/run.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actlab/nn.h"
#include "actlab/run.h"
#include "cli.h"
#include "commands.h"
#include "plot.h"

#define MAX_EPOCHS 1000

/* Option ids: -d is O_DATA and -p is O_PARAM, so every option has one id and one long name. */
enum { O_DATA = 256, O_DATA_DIR, O_MODEL, O_ACT, O_EPOCHS, O_BATCH, O_OPT, O_LR, O_MOMENTUM,
       O_NESTEROV, O_WD, O_CLIP, O_SCHED, O_WARMUP, O_STEP_EVERY, O_GAMMA, O_SMOOTH, O_VAL,
       O_TRAIN_LIMIT, O_TEST_LIMIT, O_CROP, O_FLIP, O_SEED, O_THREADS, O_OUT, O_RESUME,
       O_BENCH, O_PROFILE, O_QUIET, O_KEEP_STEM, O_PER_CHANNEL, O_META_R, O_META_BN, O_ACTS,
       O_SEEDS, O_QUICK, O_CONV, O_INIT, O_PARAM, O_GEMM, O_HELP, O_END };
#define N_OPT (O_END - O_DATA)

typedef struct opts {
    act_run_config   rc;              /* the run; rc.param_names[i] is pname[i] (opts_bind) */
    char             pname[ACT_FN_MAX_PARAMS][64];
    const char      *data_dir, *out, *resume;
    int              quiet, profile;
    long             bench;           /* > 0: throughput mode, this many batches */
    float            momentum, wd, clip;   /* as given: the optimiser config is built last */
    int              nesterov, wd_set, lr_set;
    const char      *acts;            /* compare */
    int              seeds;
    unsigned char    given[N_OPT];    /* given[id - O_DATA]: the option is on the command line */
} opts;

/* Points rc's parameter names at this opts' own storage (after a copy of the struct). */
static void opts_bind(opts *o)
{
    for (int i = 0; i < o->rc.n_params; i++)
        o->rc.param_names[i] = o->pname[i];
}

typedef struct run_result {
    int             status;           /* act_status of act_train_run */
    int             epochs;           /* run in this invocation (rows of ep) */
    int             done;             /* completed in total, resumed ones included */
    act_epoch_stats ep[MAX_EPOCHS];
    double          seconds;          /* wall, training + evaluation */
    size_t          n_params;
    int             resumed;          /* rows of ep that came from the checkpoint */
    int             io_failed;        /* an output file could not be written */
} run_result;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// ----------------------------------------------------------------------------
// files

/* Makes dir (and its parents), checks that it is a writable directory (cli_check_output) and
 * takes the run's lock in it (DIR/.actlab.lock, flock: the kernel drops it when the process dies, so a kill -9 leaves
 * no stale lock). Before any data is read or any training spent. Returns the lock's descriptor
 * (held until exit) with *ec = -1, or -1 after printing why, with the exit code in *ec. */
static int out_dir_claim(const char *cmd, const char *opt, const char *dir, int *ec)
{
    int rc = cli_check_output(cmd, opt, dir, 1);
    if (rc != CLI_EXIT_OK) {
        *ec = rc;
        return -1;
    }
    *ec = CLI_EXIT_FAILURE;   /* for the failures below; reset on success */
    char path[4200];
    snprintf(path, sizeof path, "%s/.actlab.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        cli_error(cmd, "%s %s: cannot write there: %s", opt, dir, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t k = pread(fd, pid, sizeof pid - 1, 0);
        pid[k > 0 ? k : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        cli_error(cmd, "%s %s is in use by another actlab run%s%s%s; wait for it or choose "
                  "another directory", opt, dir, pid[0] ? " (pid " : "", pid,
                  pid[0] ? ")" : "");
        close(fd);
        return -1;
    }
    char me[32];
    int n = snprintf(me, sizeof me, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, me, (size_t)n, 0) != n) {
        cli_error(cmd, "%s %s: cannot write there: %s", opt, dir, strerror(errno));
        close(fd);
        return -1;
    }
    *ec = -1;
    return fd;
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

static int on_batch(void *user, const act_train_progress *p)
{
    run_ctx *c = user;
    if (!c->tty || c->o->quiet)
        return 0;
    double t = now_s();
    if (t - c->last_draw < 0.2 && p->batch != p->n_batches)
        return 0;
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
    return 0;
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
    char err[512];
    if (!b.s || cli_write_atomic(c->metrics_path, b.s, b.n, err, sizeof err) != 0) {
        cli_error("train", "%s", b.s ? err : "out of memory");
        c->r->io_failed = 1;
    }
    free(b.s);
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int on_epoch(void *user, const act_epoch_stats *s)
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
               c->label, s->epoch, c->o->rc.train.epochs, s->train_loss, s->train_acc,
               s->val_acc, s->test_acc, s->images_per_s, s->seconds);
        fflush(stdout);
    }
    write_metrics(c);
    return 0;
}

/* "invalid": an activation's parameters left its domain during training (act_train_run's
 * ACT_ERANGE); like "diverged", a property of the run, not of the machine. */
static const char *status_word(int rc)
{
    return rc == ACT_OK ? "ok" : rc == ACT_EDIVERGED ? "diverged"
                               : rc == ACT_ERANGE ? "invalid" : rc == ACT_ECANCELED ? "stopped"
                                                                                    : "failed";
}

/* The names of act_conv_algo values, in enum order (act_nn_init's: act_nn_init_name). */
static const char *const conv_names[] = { "auto", "gemm", "winograd" };

static int name_index(const char *const *names, int n, const char *s)
{
    for (int k = 0; k < n; k++)
        if (!strcmp(names[k], s))
            return k;
    return -1;
}


/* summary.json of run c (one JSON writer: this one; the configuration's canonical form and its
 * hash are the library's, act_run_config_write / act_run_config_hash). */
static void write_summary(const act_run_config *c, const char *path, run_result *r)
{
    sbuf b = { 0 };
    const act_epoch_stats *l = r->epochs ? &r->ep[r->epochs - 1] : NULL;
    double ips = 0.0, before = 0.0;   /* wall seconds of the epochs of earlier invocations */
    for (int i = 0; i < r->epochs; i++)
        ips += r->ep[i].images_per_s / (double)r->epochs;
    for (int i = 0; i < r->resumed; i++)
        before += r->ep[i].wall_s;
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
    sb_printf(&b, ",\n  \"seconds\": ");   /* across resumes */
    json_num(&b, before + r->seconds);
    sb_printf(&b, ",\n  \"seconds_this_run\": ");
    json_num(&b, r->seconds);
    sb_printf(&b, ",\n  \"resumed_epochs\": %d", r->resumed);
    sb_printf(&b, ",\n  \"n_params\": %zu,\n", r->n_params);
    uint64_t hash = 0;
    if (act_run_config_hash(c, &hash) == ACT_OK)
        sb_printf(&b, "  \"config_hash\": \"%016llx\",\n", (unsigned long long)hash);
    const act_train_config *t = &c->train;
    sb_printf(&b, "  \"config\": {\n    \"data\": \"%s\", \"model\": \"%s\", \"act\": \"",
              c->data, c->model);
    for (const char *p = c->act; *p; p++)   /* expressions may hold quotes or backslashes */
        sb_printf(&b, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
    sb_printf(&b, "\", \"act_stem\": %s,\n", c->act_stem ? "true" : "false");
    sb_printf(&b, "    \"epochs\": %d, \"batch\": %zu, \"opt\": \"%s\", \"lr\": %g, "
                  "\"momentum\": %g, \"nesterov\": %s, \"weight_decay\": %g, \"clip\": %g,\n",
              t->epochs, t->batch, act_opt_name(t->opt.kind),
              (double)(t->sched.lr != 0.0f ? t->sched.lr : act_run_default_lr(t->opt.kind)),
              (double)t->opt.momentum, t->opt.nesterov ? "true" : "false",
              (double)t->opt.weight_decay, (double)t->opt.clip_norm);
    sb_printf(&b, "    \"sched\": \"%s\", \"warmup_epochs\": %g, \"label_smoothing\": %g, "
                  "\"val_size\": %zu, \"train_limit\": %zu, \"crop_pad\": %d, \"flip\": %s,\n",
              act_sched_name(t->sched.kind), (double)t->sched.warmup_epochs,
              (double)t->label_smoothing, t->val_size, t->train_limit, t->crop_pad,
              t->flip ? "true" : "false");
    sb_printf(&b, "    \"seed\": %llu, \"threads\": %d, \"gemm\": \"%s\", \"init\": \"%s\", "
                  "\"conv\": \"%s\"\n  }\n}\n", (unsigned long long)t->seed, c->threads,
              act_gemm_name(c->gemm), act_nn_init_name(c->init), conv_names[c->conv]);
    char err[512];
    if (!b.s || cli_write_atomic(path, b.s, b.n, err, sizeof err) != 0) {
        cli_error("train", "%s", b.s ? err : "out of memory");
        r->io_failed = 1;
    }
    free(b.s);
}

/* Trains run c (one activation, one seed) as o asks (output, progress, --bench). out_dir may be
 * NULL. stored (may be NULL): the record of the checkpoint being resumed, whose epochs start r's
 * rows. Returns an act_status; r filled. */
static int run_one(const char *cmd, const opts *o, const act_run_config *c,
                   const act_dataset *train, const act_dataset *test, const char *out_dir,
                   const char *label, run_result *r, const act_ckpt_meta *stored)
{
    memset(r, 0, sizeof *r);
    if (stored) {
        for (int i = 0; i < stored->epoch && i < MAX_EPOCHS; i++)
            r->ep[i] = stored->hist[i];
        r->epochs = r->resumed = r->done = stored->epoch < MAX_EPOCHS ? stored->epoch
                                                                       : MAX_EPOCHS;
    }
    act_diag d;
    act_run_act *a = NULL;
    act_net *net = NULL;
    char *info = NULL;
    int rc = act_run_act_new(c, &a, &d);
    if (rc != ACT_OK) {
        cli_error(cmd, "--act %s: %s", c->act, d.msg[0] ? d.msg : act_strerror(rc));
        return rc == ACT_ENOTFOUND || rc == ACT_EPARSE ? ACT_EINVAL : rc;
    }
    if ((rc = act_run_net_new(c, train, a, &net, &d)) != ACT_OK) {
        /* a spec the zoo cannot read is ACT_EPARSE, whose generic text speaks of expressions:
         * the diagnostic alone says what is wrong and what is valid */
        if (rc == ACT_EPARSE && d.msg[0])
            cli_error(cmd, "model '%s': %s", c->model, d.msg);
        else
            cli_error(cmd, "model '%s': %s%s%s", c->model, act_strerror(rc),
                      d.msg[0] ? ": " : "", d.msg);
        act_run_act_free(a);
        return rc;
    }
    if ((rc = act_run_info(c, &info)) != ACT_OK) {
        cli_error(cmd, "the run's configuration cannot be recorded: %s", act_strerror(rc));
        act_net_free(net);
        act_run_act_free(a);
        return rc;
    }
    r->n_params = act_net_n_learnable(net);
    char metrics[4096], ckpt[4096];
    act_train_config tc = c->train;
    if (tc.sched.lr == 0.0f)
        tc.sched.lr = act_run_default_lr(tc.opt.kind);
    run_ctx rx = { { 0 }, o, r, isatty(2), 0.0, now_s(), NULL, label };
    if (out_dir) {
        snprintf(metrics, sizeof metrics, "%s/metrics.csv", out_dir);
        snprintf(ckpt, sizeof ckpt, "%s/checkpoint.bin", out_dir);
        rx.metrics_path = metrics;
        tc.checkpoint = ckpt;
    }
    tc.resume = o->resume;
    tc.run_info = info;
    tc.on_batch = on_batch;
    tc.on_epoch = on_epoch;
    tc.user = &rx;
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
    if (done > r->done)
        r->done = done;
    r->seconds = now_s() - rx.t0;
    if (rx.tty && !o->quiet)
        fprintf(stderr, "\r\033[K");
    if (rc != ACT_OK)
        cli_error(cmd, "%s%s%s%s", act_strerror(rc), d.msg[0] ? ": " : "", d.msg,
                  rc == ACT_EDIVERGED && c->init == ACT_NN_INIT_HE && !act_net_has_bn(net)
                      ? " (a model without BN: try --init torch, or a smaller --lr)" : "");
    if (o->bench > 0 && r->epochs == 2) {
        /* CPU time of the timed epoch: robust to other jobs on shared cores (1 thread). */
        double cpu = rx.cpu[1] - rx.cpu[0];
        printf("bench model=%s act=%s batch=%zu threads=%d gemm=%s images_per_s=%.1f "
               "images_per_cpu_s=%.1f\n", c->model, c->act, c->train.batch, c->threads,
               act_gemm_name(c->gemm),
               r->ep[1].images_per_s,
               cpu > 0 ? (double)(o->bench * (long)c->train.batch) / cpu : 0.0);
        if (o->profile) {
            act_net_profile_reset(net);
            tc.epochs = 1;
            tc.on_epoch = NULL;
            tc.on_batch = NULL;
            rc = act_train_run(net, &tc, train, NULL, NULL, NULL, &d);
            r->status = rc;
            if (rc != ACT_OK)
                cli_error(cmd, "profile run: %s%s%s", act_strerror(rc), d.msg[0] ? ": " : "",
                          d.msg);
            double tot = 0.0;
            for (int i = 0; rc == ACT_OK && i < act_net_n_layers(net); i++) {
                act_layer_info li;
                if (act_net_layer_info(net, i, &li) == ACT_OK)
                    tot += li.fwd_s + li.bwd_s;
            }
            printf("profile (%ld batches): layer kind output fwd_ms bwd_ms share\n", o->bench);
            for (int i = 0; rc == ACT_OK && i < act_net_n_layers(net); i++) {
                act_layer_info li;
                if (act_net_layer_info(net, i, &li) != ACT_OK)
                    continue;
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
        write_summary(c, path, r);
    }
    act_net_free(net);
    act_run_act_free(a);
    free(info);
    if (rc == ACT_OK && r->io_failed)
        rc = ACT_EIO;
    return rc;
}

// ----------------------------------------------------------------------------
// options shared by train and compare

static const struct option long_opts[] = {
    { "data", required_argument, 0, O_DATA },     { "data-dir", required_argument, 0, O_DATA_DIR },
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
    { "param", required_argument, 0, O_PARAM },   { "gemm", required_argument, 0, O_GEMM },
    { 0, 0, 0, 0 },
};

/* "--epochs" for O_EPOCHS: error messages name the option, not its value. */
static const char *opt_name(int id)
{
    static char buf[40];   /* CLI only: one message at a time */
    for (const struct option *p = long_opts; p->name; p++)
        if (p->val == id) {
            snprintf(buf, sizeof buf, id == O_PARAM ? "-p" : "--%s", p->name);
            return buf;
        }
    return "?";
}

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
    "      --init he|torch|gain|lsuv  conv/dense weights: N(0, 2/fan_in) (he, default),\n"
    "                         PyTorch's U(+-1/sqrt(fan_in)) (torch: BN-free nets with acon_c,\n"
    "                         meta_acon), N(0, g^2/fan_in) with g = 1/sqrt(E[f(z)^2]) of the\n"
    "                         activation (gain), or He rescaled layer by layer to unit output\n"
    "                         variance on one training batch (lsuv): deep nets of any activation\n"
    "      --conv auto|gemm|winograd  3x3 convolution algorithm (auto: Winograd where it is\n"
    "                         faster; gemm: direct/im2col sums only)\n"
    "      --gemm openblas|onednn  GEMM back-end (default: ACTLAB_GEMM, else onednn where\n"
    "                         built in); recorded, may change on --resume like --threads\n"
    "      --quiet            no progress or per-epoch lines\n"
    "exit codes: 0 ok, 1 failure, 2 usage, 3 training failed numerically (non-finite\n"
    "loss or parameters: diverged; activation parameters outside their domain: invalid)\n";


static int parse_onoff(const char *s)
{
    return strcmp(s, "on") == 0 ? 1 : strcmp(s, "off") == 0 ? 0 : -1;
}

static void opts_default(opts *o)
{
    memset(o, 0, sizeof *o);
    o->rc = act_run_config_default();   /* lr 0: the optimiser's default */
    o->acts = "relu,swish,acon_c,smu";
    o->seeds = 3;
    o->momentum = 0.9f;
}

/* Applies argv[1..argc) to o (getopt; o keeps earlier values for options not given). Returns -1
 * to continue, else an exit code. */
static int parse_args(const char *cmd, int argc, char **argv, opts *o, int compare)
{
    act_run_config *rc = &o->rc;
    act_train_config *tr = &rc->train;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "d:p:h", long_opts, NULL)) != -1) {
        long v = 0;
        float f = 0.0f;
        const char *arg = optarg;
        ch = ch == 'd' ? O_DATA : ch == 'p' ? O_PARAM : ch;
        if (ch >= O_DATA && ch < O_END)
            o->given[ch - O_DATA] = 1;
#define NEED_LONG(lo, hi)                                                          \
    if (cli_parse_long(arg, &v) || v < (lo) || v > (hi)) {                         \
        cli_error(cmd, "%s wants an integer in [%ld, %ld], got '%s'", opt_name(ch), \
                  (long)(lo), (long)(hi), arg);                                    \
        return CLI_EXIT_USAGE;                                                     \
    }
#define NEED_FLOAT(lo, hi)                                                         \
    if (cli_parse_float(arg, &f) || !(f >= (lo) && f <= (hi))) {                   \
        cli_error(cmd, "%s wants a number in [%g, %g], got '%s'", opt_name(ch),    \
                  (double)(lo), (double)(hi), arg);                                \
        return CLI_EXIT_USAGE;                                                     \
    }
        switch (ch) {
        case O_DATA: rc->data = arg; break;
        case O_DATA_DIR: o->data_dir = arg; break;
        case O_MODEL: rc->model = arg; break;
        case O_ACT: rc->act = arg; break;
        case O_EPOCHS: NEED_LONG(1, MAX_EPOCHS); tr->epochs = (int)v; break;
        case O_BATCH: NEED_LONG(1, 65536); tr->batch = (size_t)v; break;
        case O_OPT:
            if (act_opt_lookup(arg, &tr->opt.kind) != ACT_OK) {
                cli_error(cmd, "--opt: unknown optimiser '%s' (sgd, adam, adamw)", arg);
                return CLI_EXIT_USAGE;
            }
            break;
        case O_LR: NEED_FLOAT(0.0f, 100.0f); tr->sched.lr = f; o->lr_set = 1; break;
        case O_MOMENTUM: NEED_FLOAT(0.0f, 0.9999f); o->momentum = f; break;
        case O_NESTEROV: o->nesterov = 1; break;
        case O_WD: NEED_FLOAT(0.0f, 10.0f); o->wd = f; o->wd_set = 1; break;
        case O_CLIP: NEED_FLOAT(0.0f, 1e9f); o->clip = f; break;
        case O_SCHED:
            if (act_sched_lookup(arg, &tr->sched.kind) != ACT_OK) {
                cli_error(cmd, "--sched: unknown schedule '%s' (constant, step, cosine)", arg);
                return CLI_EXIT_USAGE;
            }
            break;
        case O_WARMUP: NEED_FLOAT(0.0f, 1000.0f); tr->sched.warmup_epochs = f; break;
        case O_STEP_EVERY: NEED_FLOAT(0.0f, 1000.0f); tr->sched.step_every = f; break;
        case O_GAMMA: NEED_FLOAT(0.0f, 1.0f); tr->sched.gamma = f; break;
        case O_SMOOTH: NEED_FLOAT(0.0f, 0.99f); tr->label_smoothing = f; break;
        case O_VAL: NEED_LONG(0, 100000000); tr->val_size = (size_t)v; break;
        case O_TRAIN_LIMIT: NEED_LONG(1, 100000000); tr->train_limit = (size_t)v; break;
        case O_TEST_LIMIT: NEED_LONG(1, 100000000); tr->test_limit = (size_t)v; break;
        case O_CROP: NEED_LONG(0, 64); tr->crop_pad = (int)v; break;
        case O_FLIP: tr->flip = 1; break;
        case O_SEED: NEED_LONG(0, 0x7fffffffL); tr->seed = (uint64_t)v; break;
        case O_THREADS: NEED_LONG(1, 256); rc->threads = (int)v; break;
        case O_OUT: o->out = arg; break;
        case O_RESUME: o->resume = arg; break;
        case O_BENCH: NEED_LONG(1, 1000000); o->bench = v; break;
        case O_PROFILE: o->profile = rc->profile = 1; break;
        case O_QUIET: o->quiet = 1; break;
        case O_KEEP_STEM: rc->act_stem = 0; break;
        case O_PER_CHANNEL:
        case O_META_BN: {
            int on = parse_onoff(arg);
            if (on < 0) {
                cli_error(cmd, "%s wants on or off, got '%s'", opt_name(ch), arg);
                return CLI_EXIT_USAGE;
            }
            *(ch == O_META_BN ? &rc->meta_bn : &rc->per_channel) = on;
            break;
        }
        case O_META_R: NEED_LONG(1, 4096); rc->meta_r = (int)v; break;
        case O_PARAM: {
            const char *eq = strchr(arg, '=');
            int k = rc->n_params;
            if (k >= ACT_FN_MAX_PARAMS || !eq || eq == arg ||
                (size_t)(eq - arg) >= sizeof o->pname[0] || cli_parse_float(eq + 1, &f)) {
                cli_error(cmd, "-p wants NAME=VALUE (at most %d, names up to %zu characters), "
                          "got '%s'", ACT_FN_MAX_PARAMS, sizeof o->pname[0] - 1, arg);
                return CLI_EXIT_USAGE;
            }
            snprintf(o->pname[k], sizeof o->pname[0], "%.*s", (int)(eq - arg), arg);
            rc->param_values[k] = f;
            rc->n_params = k + 1;
            opts_bind(o);
            break;
        }
        case O_CONV: {
            int k = name_index(conv_names, 3, arg);
            if (k < 0) {
                cli_error(cmd, "--conv wants auto, gemm or winograd, not '%s'", arg);
                return CLI_EXIT_USAGE;
            }
            rc->conv = (act_conv_algo)k;
            break;
        }
        case O_INIT: {
            act_nn_init k;
            if (act_nn_init_lookup(arg, &k) != ACT_OK) {
                char valid[64] = "";
                for (int i = 0; i < ACT_NN_INIT_COUNT; i++)
                    snprintf(valid + strlen(valid), sizeof valid - strlen(valid), "%s%s",
                             i == 0 ? "" : i + 1 == ACT_NN_INIT_COUNT ? " or " : ", ",
                             act_nn_init_name((act_nn_init)i));
                cli_error(cmd, "--init wants %s, not '%s'", valid, arg);
                return CLI_EXIT_USAGE;
            }
            rc->init = k;
            break;
        }
        case O_GEMM: {
            act_gemm g;
            if (act_gemm_lookup(arg, &g) != ACT_OK || !act_gemm_supported(g)) {
                cli_error(cmd, "--gemm wants %s, not '%s'%s",
                          act_gemm_supported(ACT_GEMM_ONEDNN) ? "openblas or onednn"
                                                              : "openblas (built without oneDNN)",
                          arg, act_gemm_lookup(arg, &g) == ACT_OK ? " (not in this build)" : "");
                return CLI_EXIT_USAGE;
            }
            rc->gemm = g;
            break;
        }
        case O_ACTS: o->acts = arg; break;
        case O_SEEDS: NEED_LONG(1, 100); o->seeds = (int)v; break;
        case O_QUICK:
            rc->model = "mlp:256x2";
            o->acts = "relu,swish,acon_c,smu";
            o->seeds = 2;
            tr->epochs = 4;
            tr->train_limit = 12000;
            tr->test_limit = 5000;
            tr->val_size = 5000;
            tr->sched.lr = 0.02f;
            rc->threads = 1;   /* robust when the cores are shared; see docs/training.md */
            break;
        case 'h':
        case O_HELP:
            if (compare)
                printf("usage: actlab compare [--acts a,b,...] [--seeds N] [--quick] [OPTIONS]\n"
                       "Trains every activation with every seed (1..N) and prints mean +- std\n"
                       "test accuracy and time per epoch; with --out DIR also compare.csv,\n"
                       "curves.svg/png (test accuracy per epoch) and bars.svg/png.\n"
                       "      --acts LIST        (relu,swish,acon_c,smu); commas inside an\n"
                       "                         expression's parentheses do not split it\n"
                       "      --seeds N (3)\n"
                       "      --quick            the `make run` comparison: relu, swish, acon_c,\n"
                       "                         smu; mlp:256x2; 12k images; 4 epochs; 2 seeds\n");
            else
                printf("usage: actlab train [OPTIONS]\n"
                       "Trains a network on real data; prints per-epoch loss and accuracy.\n"
                       "      --act NAME         built-in (actlab list), meta_acon, frelu,\n"
                       "                         acon_frelu, or expr:FORMULA (relu)\n"
                       "      --resume FILE      continue the run stored in a checkpoint: its\n"
                       "                         configuration is restored (a conflicting option\n"
                       "                         is an error; --epochs N trains longer, --threads\n"
                       "                         and --data-dir may change); --out defaults to\n"
                       "                         the checkpoint's directory\n"
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
    return -1;
}

/* The optimiser configuration from the options, once all are in (the kind's defaults, then what
 * was given: each value is kept in opts until here, so no option is lost to the reset). Options
 * that the chosen optimiser does not use are errors, not silently ignored. */
static int opts_finish(const char *cmd, opts *o)
{
    act_train_config *tr = &o->rc.train;
    act_opt_kind k = tr->opt.kind;
    tr->opt = act_optim_config_default(k);
    if (k != ACT_OPT_SGD && (o->given[O_MOMENTUM - O_DATA] || o->nesterov)) {
        cli_error(cmd, "%s applies to --opt sgd only (this run uses %s)",
                  o->nesterov ? "--nesterov" : "--momentum", act_opt_name(k));
        return CLI_EXIT_USAGE;
    }
    if (k == ACT_OPT_SGD) {
        tr->opt.momentum = o->momentum;
        tr->opt.nesterov = o->nesterov;
        if (o->nesterov && o->momentum == 0.0f) {
            cli_error(cmd, "--nesterov needs momentum (--momentum > 0)");
            return CLI_EXIT_USAGE;
        }
    }
    if (o->wd_set)
        tr->opt.weight_decay = o->wd;
    tr->opt.clip_norm = o->clip;
    if (tr->sched.lr == 0.0f)   /* as the run will use it: recorded and compared as such */
        tr->sched.lr = act_run_default_lr(k);
    if (o->profile && o->bench == 0) {
        cli_error(cmd, "--profile goes with --bench N");
        return CLI_EXIT_USAGE;
    }
    if (o->resume && o->bench > 0) {
        cli_error(cmd, "--resume and --bench do not go together");
        return CLI_EXIT_USAGE;
    }
    return -1;
}

static int parse_opts(const char *cmd, int argc, char **argv, opts *o, int compare)
{
    opts_default(o);
    int ec = parse_args(cmd, argc, argv, o, compare);
    return ec >= 0 ? ec : opts_finish(cmd, o);
}

// ----------------------------------------------------------------------------
// --resume: the run is the checkpoint's (its canonical text, include/actlab/run.h)

/* The key of the run's text an option sets, for the options a resume may not change ("param."
 * for -p: every parameter line), or NULL for the options that may change or are not part of the
 * run (--epochs, --threads, --data-dir, outputs). */
static const char *resume_key(int id)
{
    switch (id) {
    case O_DATA: return "data";
    case O_MODEL: return "model";
    case O_ACT: return "act";
    case O_PARAM: return "param.";
    case O_PER_CHANNEL: return "per_channel";
    case O_KEEP_STEM: return "act_stem";
    case O_META_R: return "meta_r";
    case O_META_BN: return "meta_bn";
    case O_INIT: return "init";
    case O_CONV: return "conv";
    case O_BATCH: return "train.batch";
    case O_OPT: return "train.opt";
    case O_LR: return "train.lr";
    case O_MOMENTUM: return "train.momentum";
    case O_NESTEROV: return "train.nesterov";
    case O_WD: return "train.weight_decay";
    case O_CLIP: return "train.clip_norm";
    case O_SCHED: return "train.sched";
    case O_WARMUP: return "train.warmup_epochs";
    case O_STEP_EVERY: return "train.step_every";
    case O_GAMMA: return "train.gamma";
    case O_SMOOTH: return "train.label_smoothing";
    case O_VAL: return "train.val_size";
    case O_TRAIN_LIMIT: return "train.train_limit";
    case O_TEST_LIMIT: return "train.test_limit";
    case O_CROP: return "train.crop_pad";
    case O_FLIP: return "train.flip";
    case O_SEED: return "train.seed";
    default: return NULL;
    }
}

/* key's value in text (all "param." lines joined, for -p) into buf. */
static void text_value(const char *text, const char *key, char *buf, size_t n)
{
    buf[0] = '\0';
    if (strcmp(key, "param.") != 0) {
        size_t len = 0;
        const char *v = act_run_text_value(text, key, &len);
        if (v)
            snprintf(buf, n, "%.*s", (int)len, v);
        return;
    }
    size_t used = 0;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (!strncmp(line, "param.", 6) && used < n)
            used += (size_t)snprintf(buf + used, n - used, "%s%.*s", used ? " " : "",
                                     (int)len - 6, line + 6);
        line = end ? end + 1 : NULL;
    }
}

/* `--resume FILE`: the run is the stored one; options given now may only repeat it, except
 * --epochs, --threads, --data-dir and the outputs. Replaces o->rc; *m receives the record and
 * *keep the strings o->rc points to (the caller frees both after the run). */
static int resume_opts(const char *cmd, opts *o, act_ckpt_meta *m, char **keep)
{
    act_diag d;
    int rc = act_ckpt_read_meta(o->resume, m, &d);
    if (rc != ACT_OK) {
        cli_error(cmd, "--resume %s", d.msg[0] ? d.msg : act_strerror(rc));
        return CLI_EXIT_FAILURE;
    }
    if (m->epoch > MAX_EPOCHS) {
        cli_error(cmd, "--resume %s: %d epochs recorded (this command trains at most %d)",
                  o->resume, m->epoch, MAX_EPOCHS);
        return CLI_EXIT_FAILURE;
    }
    act_run_config s;
    rc = act_run_config_read(m->info, &s, keep, &d);
    if (rc != ACT_OK) {
        cli_error(cmd, "--resume %s: the recorded run does not parse: %s", o->resume, d.msg);
        return CLI_EXIT_FAILURE;
    }
    char *stored = NULL, *mine = NULL;
    int ec = -1;
    if (act_run_config_write(&s, &stored) != ACT_OK || act_run_config_write(&o->rc, &mine) != ACT_OK) {
        cli_error(cmd, "--resume: out of memory, or a value that cannot be recorded");
        ec = CLI_EXIT_FAILURE;
    }
    for (int id = O_DATA; ec < 0 && id < O_END; id++) {
        const char *key = resume_key(id);
        if (!o->given[id - O_DATA] || !key)
            continue;
        char a[1024], b[1024];
        text_value(stored, key, a, sizeof a);
        text_value(mine, key, b, sizeof b);
        if (strcmp(a, b) != 0) {
            cli_error(cmd, "%s %s conflicts with the checkpoint's run (%s %s): --resume "
                      "continues the stored run; drop the option, or start a new run",
                      opt_name(id), b[0] ? b : "(unset)", opt_name(id), a[0] ? a : "(unset)");
            ec = CLI_EXIT_USAGE;
        }
    }
    free(stored);
    free(mine);
    if (ec >= 0)
        return ec;
    /* The stored run, then what may change: epochs (default: the stored run's), threads. */
    if (o->given[O_EPOCHS - O_DATA])
        s.train.epochs = o->rc.train.epochs;
    if (o->given[O_THREADS - O_DATA])
        s.threads = o->rc.threads;
    s.gemm = o->rc.gemm;   /* this machine's back-end (--gemm, ACTLAB_GEMM or the default) */
    if (s.n_params > ACT_FN_MAX_PARAMS)
        return CLI_EXIT_FAILURE;
    for (int i = 0; i < s.n_params; i++) {
        if (strlen(s.param_names[i]) >= sizeof o->pname[0]) {
            cli_error(cmd, "--resume: parameter name '%s' too long", s.param_names[i]);
            return CLI_EXIT_FAILURE;
        }
        snprintf(o->pname[i], sizeof o->pname[0], "%s", s.param_names[i]);
    }
    o->rc = s;
    opts_bind(o);
    if (o->rc.train.epochs <= m->epoch) {
        cli_error(cmd, "--resume %s: the run already has %d of %d epochs (--epochs N, N > %d, "
                  "trains longer)", o->resume, m->epoch, o->rc.train.epochs, m->epoch);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

static int load_data(const char *cmd, const opts *o, act_dataset *train, act_dataset *test)
{
    act_diag d;
    int rc = act_data_open(o->rc.data, o->data_dir, train, test, &d);
    if (rc != ACT_OK) {
        cli_error(cmd, "%s", d.msg[0] ? d.msg : act_strerror(rc));
        if (rc == ACT_EIO && strstr(o->rc.data, "mnist"))
            fprintf(stderr, "  (install Debian's dataset-fashion-mnist: make deps, or pass "
                            "--data-dir)\n");
        return rc == ACT_ENOTFOUND ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    if (o->rc.train.val_size >= train->n) {
        cli_error(cmd, "--val %zu leaves no training images (the set has %zu)",
                  o->rc.train.val_size, train->n);
        act_data_free(train);
        act_data_free(test);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* 3 for a run that failed numerically: diverged, or an activation's parameters left its
 * domain (ERANGE from the training loop); 2 for what the command line got wrong. */
static int exit_code(int rc)
{
    return rc == ACT_OK ? CLI_EXIT_OK
         : rc == ACT_EDIVERGED || rc == ACT_ERANGE ? CLI_EXIT_DIVERGED
         : rc == ACT_EPARSE || rc == ACT_EINVAL ? CLI_EXIT_USAGE
                                                : CLI_EXIT_FAILURE;
}

int cmd_train(int argc, char **argv)
{
    opts o;
    int ec = parse_opts(argv[0], argc, argv, &o, 0);
    if (ec >= 0)
        return ec;
    act_ckpt_meta stored = { 0 };
    act_dataset train = { 0 }, test = { 0 };
    char *keep = NULL, *info = NULL, outbuf[4096];
    run_result *r = NULL;
    int lock = -1, data = 0;
    if (o.resume) {
        if ((ec = resume_opts(argv[0], &o, &stored, &keep)) >= 0)
            goto done;
        if (!o.out) {   /* continue the record where the checkpoint is */
            const char *slash = strrchr(o.resume, '/');
            snprintf(outbuf, sizeof outbuf, "%.*s", slash ? (int)(slash - o.resume) : 1,
                     slash ? (slash == o.resume ? "/" : o.resume) : ".");
            o.out = outbuf;
        }
    }
    if (act_run_config_write(&o.rc, &info) != ACT_OK) {
        cli_error(argv[0], "an option's value holds a newline: the run cannot be recorded");
        ec = CLI_EXIT_USAGE;
        goto done;
    }
    {   /* the activation and its -p values, before any data is read */
        act_run_act *a = NULL;
        act_diag d;
        int st = act_run_act_new(&o.rc, &a, &d);
        act_run_act_free(a);
        if (st != ACT_OK) {
            cli_error(argv[0], "--act %s: %s", o.rc.act, d.msg[0] ? d.msg : act_strerror(st));
            ec = st == ACT_ENOMEM ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
            goto done;
        }
    }
    if (o.out && (lock = out_dir_claim(argv[0], "--out", o.out, &ec)) < 0)
        goto done;
    if ((ec = load_data(argv[0], &o, &train, &test)) >= 0)
        goto done;
    data = 1;
    if (!o.quiet && o.bench == 0) {
        const act_train_config *t = &o.rc.train;
        size_t n_tr = train.n - t->val_size, n_te = test.n;
        if (t->train_limit && t->train_limit < n_tr)
            n_tr = t->train_limit;
        if (t->test_limit && t->test_limit < n_te)
            n_te = t->test_limit;
        printf("train on %s (%zu train, %zu validation, %zu test images): model %s, act %s, "
               "%d epochs, batch %zu, %s lr %g, seed %llu, %d thread%s\n", o.rc.data, n_tr,
               t->val_size, n_te, o.rc.model, o.rc.act, t->epochs, t->batch,
               act_opt_name(t->opt.kind), (double)t->sched.lr, (unsigned long long)t->seed,
               o.rc.threads, o.rc.threads == 1 ? "" : "s");
        if (o.resume)
            printf("resuming %s after epoch %d; writing to %s\n", o.resume, stored.epoch,
                   o.out);
    }
    ec = CLI_EXIT_FAILURE;
    if (!(r = malloc(sizeof *r)))
        goto done;
    int rc = run_one(argv[0], &o, &o.rc, &train, &test, o.out, "", r,
                     o.resume ? &stored : NULL);
    if (rc == ACT_OK && !o.quiet && o.bench == 0 && r->epochs)
        printf("done: test accuracy %.4f, validation %.4f, %.1f s\n",
               r->ep[r->epochs - 1].test_acc, r->ep[r->epochs - 1].val_acc, r->seconds);
    ec = exit_code(rc);
done:
    free(r);
    if (data) {
        act_data_free(&train);
        act_data_free(&test);
    }
    act_ckpt_meta_free(&stored);
    free(info);
    free(keep);
    if (lock >= 0)
        close(lock);
    return ec;
}

// ----------------------------------------------------------------------------
// compare

#define MAX_ACTS 16

/* Splits list in place at the commas outside parentheses ("relu,expr:max(x, 0)" is two). */
static int split_acts(const char *cmd, char *list, char **names, int *n)
{
    int depth = 0;
    char *start = list;
    *n = 0;
    for (char *p = list;; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')' && depth > 0)
            depth--;
        if (*p && (*p != ',' || depth > 0))
            continue;
        int end = *p == '\0';
        *p = '\0';
        if (!*start) {
            cli_error(cmd, "--acts: empty name in the list (at position %d)", *n + 1);
            return CLI_EXIT_USAGE;
        }
        if (*n == MAX_ACTS) {
            cli_error(cmd, "--acts: at most %d activations", MAX_ACTS);
            return CLI_EXIT_USAGE;
        }
        names[(*n)++] = start;
        if (end)
            break;
        start = p + 1;
    }
    return -1;
}

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

static void compare_plots(const char *cmd, const char *dir, char *const *names, int n_act,
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
    if (o.resume) {
        cli_error(argv[0], "--resume continues one run: use actlab train --resume DIR/"
                  "checkpoint.bin on a run directory of the comparison");
        return CLI_EXIT_USAGE;
    }
    char *list = strdup(o.acts), *names[MAX_ACTS];
    int n_act = 0;
    if (!list)
        return CLI_EXIT_FAILURE;
    ec = split_acts(argv[0], list, names, &n_act);
    for (int a = 0; ec < 0 && a < n_act; a++) {   /* reject bad names before any training */
        act_run_config rc = o.rc;
        rc.act = names[a];
        act_run_act *x = NULL;
        act_diag d;
        int st = act_run_act_new(&rc, &x, &d);
        if (st != ACT_OK) {
            cli_error(argv[0], "--acts %s: %s", names[a], d.msg[0] ? d.msg : act_strerror(st));
            ec = CLI_EXIT_USAGE;
        }
        act_run_act_free(x);
    }
    int lock = -1;
    if (ec < 0 && o.out)
        lock = out_dir_claim(argv[0], "--out", o.out, &ec);
    act_dataset train, test;
    if (ec < 0 && (ec = load_data(argv[0], &o, &train, &test)) >= 0) {
        if (lock >= 0)
            close(lock);
    }
    if (ec >= 0) {
        free(list);
        return ec;
    }
    const act_train_config *t = &o.rc.train;
    int E = t->epochs, S = o.seeds;
    double *acc = calloc((size_t)(n_act * S), sizeof *acc);
    double *tpe = calloc((size_t)(n_act * S), sizeof *tpe);
    double *curve = calloc((size_t)(n_act * E), sizeof *curve);
    run_result *r = malloc(sizeof *r);
    int *status = calloc((size_t)n_act, sizeof *status);
    sbuf csv = { 0 };
    sb_printf(&csv, "act,seed,epoch,train_loss,train_acc,val_acc,test_acc,seconds,images_per_s\n");
    printf("compare on %s: model %s, %d epochs, batch %zu, %s lr %g, %d seed%s, %zu training "
           "images, %d thread%s\n", o.rc.data, o.rc.model, E, t->batch,
           act_opt_name(t->opt.kind), (double)t->sched.lr, S, S == 1 ? "" : "s",
           t->train_limit ? t->train_limit : train.n - t->val_size, o.rc.threads,
           o.rc.threads == 1 ? "" : "s");
    fflush(stdout);
    int worst = ACT_OK;
    opts q = o;
    opts_bind(&q);
    q.quiet = 1;
    for (int a = 0; a < n_act && acc && tpe && curve && r && status && worst != ACT_EIO; a++) {
        for (int s = 0; s < S; s++) {
            char dir[4096], label[2048];
            const char *d = NULL;
            if (o.out) {
                /* Long names (expressions) get a numbered directory: no truncated collisions. */
                if (strlen(names[a]) <= 64)
                    snprintf(dir, sizeof dir, "%s/%s-seed%d", o.out, names[a], s + 1);
                else
                    snprintf(dir, sizeof dir, "%s/act%d-seed%d", o.out, a + 1, s + 1);
                for (char *p = dir + strlen(o.out) + 1; *p; p++)
                    if (*p == '/' || *p == ' ' || *p == '*' || *p == '(' || *p == ')' ||
                        *p == ',')
                        *p = '_';
                char err[512];
                if (cli_out_dir(dir, err, sizeof err) != 0) {
                    cli_error(argv[0], "%s", err);
                    worst = ACT_EIO;
                    break;
                }
                d = dir;
            }
            snprintf(label, sizeof label, "%.2000s seed %d: ", names[a], s + 1);
            act_run_config rc1 = q.rc;
            rc1.act = names[a];
            rc1.train.seed = (uint64_t)(s + 1);
            int rc = run_one(argv[0], &q, &rc1, &train, &test, d, label, r, NULL);
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
            char err[512];
            if (!csv.s || cli_write_atomic(path, csv.s, csv.n, err, sizeof err) != 0) {
                cli_error(argv[0], "%s", csv.s ? err : "out of memory");
                worst = worst == ACT_OK ? ACT_EIO : worst;
            }
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
    free(list);
    act_data_free(&train);
    act_data_free(&test);
    if (lock >= 0)
        close(lock);
    return exit_code(worst);
}
