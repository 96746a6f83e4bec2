/* run.c -- one training run as a library call (include/actlab/run.h): the run's configuration
 * and its canonical text (write, read, hash), the activation resolved from its name (built-in,
 * engine kind or "expr:FORMULA"), and act_run_train = resolve + build + act_train_run.
 * Above the engine: uses the public API of nn.h and expr.h only. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actlab/expr.h"
#include "actlab/run.h"
#include "nn/net.h"

act_run_config act_run_config_default(void)
{
    act_run_config c;
    memset(&c, 0, sizeof c);
    c.data = "fashion-mnist";
    c.model = "mlp:256x2";
    c.act = "relu";
    c.per_channel = -1;
    c.act_stem = 1;
    c.meta_r = 16;
    c.meta_bn = 1;
    c.init = ACT_NN_INIT_HE;
    c.conv = ACT_CONV_AUTO;
    c.threads = 1;
    c.gemm = act_gemm_default();
    c.train = act_train_config_default();
    c.train.sched.lr = 0.0f;
    return c;
}

float act_run_default_lr(act_opt_kind kind)
{
    return kind == ACT_OPT_SGD ? 0.02f : 0.001f;
}

// ----------------------------------------------------------------------------
// text

/* A growable string; err is set once an allocation failed. */
typedef struct sbuf { char *s; size_t n, cap; int err; } sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        size_t room = b->cap - b->n;
        va_start(ap, fmt);
        int k = b->s ? vsnprintf(b->s + b->n, room, fmt, ap) : -1;
        va_end(ap);
        if (k >= 0 && (size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        if (b->err)
            return;
        size_t nc = b->cap ? 2 * b->cap : 1024;
        while (k >= 0 && nc < b->n + (size_t)k + 1)
            nc *= 2;
        char *q = realloc(b->s, nc);
        if (!q) {
            b->err = 1;
            return;
        }
        b->s = q;
        b->cap = nc;
    }
}

static const char *const conv_names[] = { "auto", "gemm", "winograd" };

/* Writes t's lines; lr as used (the optimiser's default when 0). */
static void write_train(sbuf *b, const act_train_config *c)
{
    const act_optim_config *o = &c->opt;
    const act_sched_config *s = &c->sched;
    float lr = s->lr == 0.0f ? act_run_default_lr(o->kind) : s->lr;
    sb_printf(b, "train.epochs=%d\ntrain.batch=%zu\ntrain.opt=%s\ntrain.momentum=%.9g\n"
              "train.nesterov=%d\ntrain.beta1=%.9g\ntrain.beta2=%.9g\ntrain.eps=%.9g\n"
              "train.weight_decay=%.9g\ntrain.clip_norm=%.9g\ntrain.sched=%s\ntrain.lr=%.9g\n"
              "train.warmup_epochs=%.9g\ntrain.step_every=%.9g\ntrain.gamma=%.9g\n"
              "train.min_lr=%.9g\ntrain.label_smoothing=%.9g\ntrain.val_size=%zu\n"
              "train.train_limit=%zu\ntrain.test_limit=%zu\ntrain.crop_pad=%d\ntrain.flip=%d\n"
              "train.seed=%llu\ntrain.max_batches=%zu\n",
              c->epochs, c->batch, act_opt_name(o->kind), (double)o->momentum, o->nesterov,
              (double)o->beta1, (double)o->beta2, (double)o->eps, (double)o->weight_decay,
              (double)o->clip_norm, act_sched_name(s->kind), (double)lr,
              (double)s->warmup_epochs, (double)s->step_every, (double)s->gamma,
              (double)s->min_lr, (double)c->label_smoothing, c->val_size, c->train_limit,
              c->test_limit, c->crop_pad, c->flip, (unsigned long long)c->seed, c->max_batches);
}

int act_train_config_write(const act_train_config *t, char **out)
{
    if (!t || !out)
        return ACT_EINVAL;
    *out = NULL;
    sbuf b = { 0 };
    write_train(&b, t);
    if (b.err || !b.s) {
        free(b.s);
        return ACT_ENOMEM;
    }
    *out = b.s;
    return ACT_OK;
}

static int bad_string(const char *s)
{
    return !s || strchr(s, '\n') != NULL;
}

/* The run-level lines (everything but train.*), in a fixed order; threads and gemm last. */
static int write_run(sbuf *b, const act_run_config *c)
{
    if (bad_string(c->data) || bad_string(c->model) || bad_string(c->act) || c->n_params < 0 ||
        c->n_params > ACT_FN_MAX_PARAMS || (unsigned)c->init >= ACT_NN_INIT_COUNT ||
        (unsigned)c->conv > ACT_CONV_WINOGRAD || (unsigned)c->gemm >= ACT_GEMM_COUNT)
        return ACT_EINVAL;
    sb_printf(b, "data=%s\nmodel=%s\nact=%s\n", c->data, c->model, c->act);
    for (int i = 0; i < c->n_params; i++) {
        const char *n = c->param_names[i];
        if (bad_string(n) || !n[0] || strchr(n, '='))
            return ACT_EINVAL;
        sb_printf(b, "param.%s=%.9g\n", n, (double)c->param_values[i]);
    }
    sb_printf(b, "per_channel=%d\nact_stem=%d\nmeta_r=%d\nmeta_bn=%d\ninit=%s\nconv=%s\n",
              c->per_channel, c->act_stem, c->meta_r, c->meta_bn, act_nn_init_name(c->init),
              conv_names[c->conv]);
    sb_printf(b, "threads=%d\ngemm=%s\n", c->threads, act_gemm_name(c->gemm));
    return ACT_OK;
}

/* The run-level lines, and with train the train.* lines after them, into *out. */
static int write_text(const act_run_config *c, int train, char **out)
{
    if (!c || !out)
        return ACT_EINVAL;
    *out = NULL;
    sbuf b = { 0 };
    int rc = write_run(&b, c);
    if (rc == ACT_OK && train)
        write_train(&b, &c->train);
    if (rc == ACT_OK && (b.err || !b.s))
        rc = ACT_ENOMEM;
    if (rc != ACT_OK) {
        free(b.s);
        return rc;
    }
    *out = b.s;
    return ACT_OK;
}

int act_run_config_write(const act_run_config *c, char **out)
{
    return write_text(c, 1, out);
}

int acti_run_key_varies(const char *key, size_t len)
{
    return (len == 7 && !strncmp(key, "threads", 7)) || (len == 4 && !strncmp(key, "gemm", 4));
}

int act_run_config_hash(const act_run_config *c, uint64_t *hash)
{
    char *t;
    int rc = act_run_config_write(c, &t);
    if (rc != ACT_OK)
        return rc;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *line = t; *line;) {
        const char *end = strchr(line, '\n');   /* every line ends with one */
        if (!acti_run_key_varies(line, strcspn(line, "=\n")))
            for (const char *p = line; p <= end; p++)
                h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
        line = end + 1;
    }
    free(t);
    *hash = h;
    return ACT_OK;
}

const char *act_run_text_value(const char *text, const char *key, size_t *len)
{
    size_t kl = key ? strlen(key) : 0;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        if (!strncmp(line, key, kl) && line[kl] == '=') {
            const char *v = line + kl + 1;
            if (len)
                *len = end ? (size_t)(end - v) : strlen(v);
            return v;
        }
        line = end ? end + 1 : NULL;
    }
    return NULL;
}

// ----------------------------------------------------------------------------
// reading

static int parse_long(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

static int parse_size(const char *v, size_t lo, size_t hi, size_t *out)
{
    char *end;
    errno = 0;
    if (*v == '-')
        return -1;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *end || errno || x > hi || x < lo)
        return -1;
    *out = (size_t)x;
    return 0;
}

static int parse_float(const char *v, float lo, float hi, float *out)
{
    char *end;
    errno = 0;
    float x = strtof(v, &end);
    if (!*v || *end || !(x >= lo && x <= hi))
        return -1;
    *out = x;
    return 0;
}

static int name_at(const char *const *names, int n, const char *v)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], v))
            return i;
    return -1;
}

/* Key-value pairs of the canonical text: X(key, kind, field, lo, hi) with kind I (int), Z
 * (size_t), F (float). Strings, enumerations and parameters are handled by name below. */
#define RUN_NUM_KEYS(X)                                                                   \
    X("per_channel", I, c->per_channel, -1, 1)                                            \
    X("act_stem", I, c->act_stem, 0, 1)                                                   \
    X("meta_r", I, c->meta_r, 1, 4096)                                                    \
    X("meta_bn", I, c->meta_bn, 0, 1)                                                     \
    X("threads", I, c->threads, 1, 256)                                                   \
    X("train.epochs", I, c->train.epochs, 1, ACT_TRAIN_MAX_EPOCHS)                        \
    X("train.batch", Z, c->train.batch, 1, 1u << 20)                                      \
    X("train.momentum", F, c->train.opt.momentum, 0.0f, 1.0f)                             \
    X("train.nesterov", I, c->train.opt.nesterov, 0, 1)                                   \
    X("train.beta1", F, c->train.opt.beta1, 0.0f, 1.0f)                                   \
    X("train.beta2", F, c->train.opt.beta2, 0.0f, 1.0f)                                   \
    X("train.eps", F, c->train.opt.eps, 0.0f, 1.0f)                                       \
    X("train.weight_decay", F, c->train.opt.weight_decay, 0.0f, 1e9f)                     \
    X("train.clip_norm", F, c->train.opt.clip_norm, 0.0f, 1e30f)                          \
    X("train.lr", F, c->train.sched.lr, 0.0f, 1e9f)                                       \
    X("train.warmup_epochs", F, c->train.sched.warmup_epochs, 0.0f, 1e9f)                 \
    X("train.step_every", F, c->train.sched.step_every, 0.0f, 1e9f)                       \
    X("train.gamma", F, c->train.sched.gamma, 0.0f, 1e9f)                                 \
    X("train.min_lr", F, c->train.sched.min_lr, 0.0f, 1e9f)                               \
    X("train.label_smoothing", F, c->train.label_smoothing, 0.0f, 0.999f)                 \
    X("train.val_size", Z, c->train.val_size, 0, (size_t)1 << 40)                         \
    X("train.train_limit", Z, c->train.train_limit, 0, (size_t)1 << 40)                   \
    X("train.test_limit", Z, c->train.test_limit, 0, (size_t)1 << 40)                     \
    X("train.crop_pad", I, c->train.crop_pad, 0, 1024)                                    \
    X("train.flip", I, c->train.flip, 0, 1)                                               \
    X("train.max_batches", Z, c->train.max_batches, 0, (size_t)1 << 40)

static int read_line(act_run_config *c, char *key, char *v)
{
    long l;
    size_t z;
    float f;
#define I_(field, lo, hi) (parse_long(v, lo, hi, &l) ? ACT_EFORMAT : ((field) = (int)l, ACT_OK))
#define Z_(field, lo, hi) (parse_size(v, lo, hi, &z) ? ACT_EFORMAT : ((field) = z, ACT_OK))
#define F_(field, lo, hi) (parse_float(v, lo, hi, &f) ? ACT_EFORMAT : ((field) = f, ACT_OK))
#define X(k, kind, field, lo, hi) \
    if (!strcmp(key, k))          \
        return kind##_(field, lo, hi);
    RUN_NUM_KEYS(X)
#undef X
#undef I_
#undef Z_
#undef F_
    if (!strcmp(key, "data")) {
        c->data = v;
    } else if (!strcmp(key, "model")) {
        c->model = v;
    } else if (!strcmp(key, "act")) {
        c->act = v;
    } else if (!strncmp(key, "param.", 6) && key[6]) {
        if (c->n_params == ACT_FN_MAX_PARAMS || parse_float(v, -INFINITY, INFINITY, &f))
            return ACT_EFORMAT;
        c->param_names[c->n_params] = key + 6;
        c->param_values[c->n_params++] = f;
    } else if (!strcmp(key, "init")) {
        act_nn_init k;
        if (act_nn_init_lookup(v, &k) != ACT_OK)
            return ACT_EFORMAT;
        c->init = k;
    } else if (!strcmp(key, "gemm")) {
        act_gemm g;
        if (act_gemm_lookup(v, &g) != ACT_OK)
            return ACT_EFORMAT;
        c->gemm = g;
    } else if (!strcmp(key, "conv")) {
        int k = name_at(conv_names, 3, v);
        if (k < 0)
            return ACT_EFORMAT;
        c->conv = (act_conv_algo)k;
    } else if (!strcmp(key, "train.opt")) {
        act_opt_kind k;
        if (act_opt_lookup(v, &k) != ACT_OK)
            return ACT_EFORMAT;
        c->train.opt.kind = k;
    } else if (!strcmp(key, "train.sched")) {
        act_sched_kind k;
        if (act_sched_lookup(v, &k) != ACT_OK)
            return ACT_EFORMAT;
        c->train.sched.kind = k;
    } else if (!strcmp(key, "train.seed")) {
        if (parse_size(v, 0, (size_t)-1, &z))
            return ACT_EFORMAT;
        c->train.seed = (uint64_t)z;
    } else {
        return ACT_ENOTFOUND;
    }
    return ACT_OK;
}

int act_run_config_read(const char *text, act_run_config *c, char **strings, act_diag *diag)
{
    act_diag dummy;
    if (!diag)
        diag = &dummy;
    memset(diag, 0, sizeof *diag);
    if (!text || !c || !strings)
        return ACT_EINVAL;
    *strings = NULL;
    char *s = strdup(text);
    if (!s)
        return ACT_ENOMEM;
    *c = act_run_config_default();
    char *seen = NULL;   /* the keys read so far, "\nkey\n" each: a repeated key is an error */
    size_t seen_n = 0;
    int line_no = 0, rc = ACT_OK;
    for (char *line = s, *next; line && *line && rc == ACT_OK; line = next) {
        line_no++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *eq = strchr(line, '=');
        if (!eq) {
            snprintf(diag->msg, sizeof diag->msg, "line %d: not key=value", line_no);
            rc = ACT_EFORMAT;
            break;
        }
        *eq = '\0';
        size_t kl = strlen(line);
        for (size_t i = 0; seen && i < seen_n; i += strlen(seen + i) + 1)
            if (!strcmp(seen + i, line)) {
                snprintf(diag->msg, sizeof diag->msg, "line %d: %.64s given twice", line_no,
                         line);
                rc = ACT_EFORMAT;
            }
        char *ns = rc == ACT_OK ? realloc(seen, seen_n + kl + 1) : NULL;
        if (rc == ACT_OK && !ns)
            rc = ACT_ENOMEM;
        if (rc != ACT_OK)
            break;
        seen = ns;
        memcpy(seen + seen_n, line, kl + 1);
        seen_n += kl + 1;
        int r = read_line(c, line, eq + 1);
        if (r != ACT_OK) {
            snprintf(diag->msg, sizeof diag->msg, "line %d: %s %.64s%s%.64s", line_no,
                     r == ACT_ENOTFOUND ? "unknown key" : "bad value for", line,
                     r == ACT_ENOTFOUND ? "" : ": ", r == ACT_ENOTFOUND ? "" : eq + 1);
            diag->line = line_no;
            rc = ACT_EFORMAT;
        }
    }
    free(seen);
    if (rc != ACT_OK) {
        free(s);
        *c = act_run_config_default();
        return rc;
    }
    *strings = s;
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// the activation

struct act_run_act {
    act_nn_act     a;
    act_expr      *e;
    act_expr_prog *prog;
    act_fn         fn;
};

void act_run_act_free(act_run_act *a)
{
    if (!a)
        return;
    act_expr_prog_free(a->prog);
    act_expr_free(a->e);
    free(a);
}

const act_nn_act *act_run_act_get(const act_run_act *a)
{
    return a ? &a->a : NULL;
}

int act_run_act_new(const act_run_config *c, act_run_act **out, act_diag *diag)
{
    act_diag dummy;
    if (!diag)
        diag = &dummy;
    memset(diag, 0, sizeof *diag);
    if (!c || !out || !c->act)
        return ACT_EINVAL;
    *out = NULL;
    act_run_act *r = calloc(1, sizeof *r);
    if (!r)
        return ACT_ENOMEM;
    int rc;
    if (!strncmp(c->act, "expr:", 5)) {
        rc = act_expr_parse(c->act + 5, &r->e, diag);
        if (rc == ACT_OK)
            rc = act_expr_compile(r->e, &r->prog);
        if (rc == ACT_OK)
            rc = act_expr_fn(r->prog, &r->fn);
        if (rc != ACT_OK && !diag->msg[0])
            snprintf(diag->msg, sizeof diag->msg, "expression: %s", act_strerror(rc));
        r->a = act_nn_act_default(ACT_NN_ACT_FN);
        r->a.fn = &r->fn;
    } else {
        rc = act_nn_act_parse(c->act, &r->a);
        if (rc != ACT_OK)
            snprintf(diag->msg, sizeof diag->msg, "unknown activation '%.128s'; valid: any "
                     "built-in, meta_acon, frelu, acon_frelu, or expr:FORMULA", c->act);
    }
    if (rc == ACT_OK) {
        r->a.per_channel = c->per_channel;
        r->a.meta_r = c->meta_r;
        r->a.meta_bn = c->meta_bn;
    }
    if (rc == ACT_OK && c->n_params > 0) {
        const act_fn *f = r->a.fn;
        if (r->a.kind != ACT_NN_ACT_FN || !f) {
            snprintf(diag->msg, sizeof diag->msg, "%s takes no parameter values", c->act);
            rc = ACT_EINVAL;
        }
        for (int k = 0; rc == ACT_OK && k < f->n_params; k++)
            r->a.params[k] = f->defaults[k];
        for (int i = 0; rc == ACT_OK && i < c->n_params; i++) {
            int k = 0;
            while (k < f->n_params && (!f->param_names[k] ||
                                       strcmp(f->param_names[k], c->param_names[i])))
                k++;
            if (k == f->n_params) {
                snprintf(diag->msg, sizeof diag->msg, "%.128s has no parameter '%.64s'",
                         f->name, c->param_names[i]);
                rc = ACT_ENOTFOUND;
                break;
            }
            r->a.params[k] = c->param_values[i];
        }
        r->a.has_params = 1;
        /* what the kernel would refuse at the first forward, refused now */
        if (rc == ACT_OK)
            rc = act_fn_check_params(f, r->a.params, diag);
    }
    if (rc != ACT_OK) {
        act_run_act_free(r);
        return rc;
    }
    *out = r;
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// training

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}


int act_run_net_new(const act_run_config *c, const act_dataset *like, const act_run_act *a,
                    act_net **out, act_diag *diag)
{
    if (!c || !like || !a || !out)
        return ACT_EINVAL;
    act_net_config nc = act_net_config_default();
    nc.model = c->model;
    nc.in_c = like->c;
    nc.in_h = like->h;
    nc.in_w = like->w;
    nc.n_classes = like->n_classes;
    nc.act = *act_run_act_get(a);
    nc.act_stem = c->act_stem;
    nc.max_batch = c->train.batch;
    nc.threads = c->threads;
    nc.gemm = c->gemm;
    nc.seed = c->train.seed;
    nc.conv_algo = c->conv;
    nc.init = c->init;
    nc.profile = c->profile;
    return act_net_new(&nc, out, diag);
}

int act_run_info(const act_run_config *c, char **out)
{
    return write_text(c, 0, out);
}

int act_run_train(const act_run_config *c, const act_dataset *train, const act_dataset *test,
                  act_run_result *r, act_diag *diag)
{
    act_diag dummy;
    if (!diag)
        diag = &dummy;
    memset(diag, 0, sizeof *diag);
    if (!r)
        return ACT_EINVAL;
    memset(r, 0, sizeof *r);
    double t0 = now_s();
    if (!c || !train) {
        r->status = ACT_EINVAL;
        return ACT_EINVAL;
    }
    char *info = NULL;
    act_run_act *a = NULL;
    act_net *net = NULL;
    act_ckpt_meta m = { 0 };
    int rc = act_run_info(c, &info);
    if (rc != ACT_OK)
        snprintf(diag->msg, sizeof diag->msg, "the run's configuration cannot be written");
    if (rc == ACT_OK && c->train.resume) {   /* act_train_run checks it is the same run */
        rc = act_ckpt_read_meta(c->train.resume, &m, diag);
        r->resumed = m.epoch;
    }
    if (rc == ACT_OK)
        rc = act_run_act_new(c, &a, diag);
    if (rc == ACT_OK)
        rc = act_run_net_new(c, train, a, &net, diag);
    if (rc == ACT_OK) {
        r->n_params = act_net_n_learnable(net);
        act_train_config tc = c->train;
        if (tc.sched.lr == 0.0f)
            tc.sched.lr = act_run_default_lr(tc.opt.kind);
        tc.run_info = info;   /* act_train_run records its train.* lines, then these */
        rc = act_train_run(net, &tc, train, test, &r->last, &r->epochs, diag);
        if (r->epochs < r->resumed)
            r->epochs = r->resumed;
    }
    act_ckpt_meta_free(&m);
    act_net_free(net);
    act_run_act_free(a);
    free(info);
    r->status = rc;
    r->seconds = now_s() - t0;
    return rc;
}
