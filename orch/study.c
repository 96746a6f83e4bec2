/* study.c -- a study's configuration (the file format of docs/study.md: KEY = VALUE lines, a
 * [quick] section over the main one, acts[MODEL]), its canonical text, the build check of every
 * (model, activation) pair, and the units with their names (study.h). The runner is
 * study_run.c. Nothing here prints: messages go into the caller's buffer. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/file.h"
#include "actlab/nn.h"
#include "actlab/run.h"
#include "study.h"

// ----------------------------------------------------------------------------
// the configuration

/* X(key, kind, help) -- every key of a study file, in the order the copy is written. Kinds:
 * S string, L list (items separated by spaces), I integer, F number, B on/off. */
#define STUDY_KEY_LIST(X)                                                                    \
    X(title,        S, "one line naming the study")                                          \
    X(claim,        S, "the published claim it tests")                                       \
    X(budget,       S, "the stated cost, e.g. 'about 3 h on 2 cores'")                       \
    X(variant,      S, "full or quick (written by study run into DIR/study.conf)")           \
    X(data,         S, "data set (fashion-mnist)")                                           \
    X(acts,         L, "activations, e.g. relu swish acon_c")                                \
    X(baseline,     S, "the activation differences are paired with (relu)")                  \
    X(models,       L, "model specs, e.g. mlp:128x10 resnet:3")                              \
    X(bn,           L, "off and/or on: on appends ,bn to mlp specs (off)")                   \
    X(init,         L, "he, torch, gain, lsuv: weight initialisations (he)")                 \
    X(seeds,        I, "seeds 1..N, the same for every activation (3)")                      \
    X(lr,           F, "the shared learning rate (0: the optimiser's default)")              \
    X(lr_sweep,     L, "more learning rates, tried for every activation (none)")             \
    X(epochs,       I, "epochs per unit (3)")                                                \
    X(train_images, I, "training images, 0 = all but the validation split (0)")              \
    X(val_images,   I, "validation images held out of the training set (5000)")              \
    X(test_images,  I, "test images, 0 = all (0)")                                           \
    X(batch,        I, "batch size (128)")                                                   \
    X(opt,          S, "sgd, adam or adamw (sgd)")                                           \
    X(momentum,     F, "SGD momentum (0.9)")                                                 \
    X(wd,           F, "weight decay (the optimiser's default)")                             \
    X(sched,        S, "constant, step or cosine (constant)")                                \
    X(threads,      I, "threads per unit (1)")                                               \
    X(keep_stem,    B, "on: the stem's activation stays relu (off)")                         \
    X(dump_params,  B, "on: trained activation parameters go into each unit summary (off)")

typedef enum study_key {
#define X(key, kind, help) K_##key,
    STUDY_KEY_LIST(X)
#undef X
    K_COUNT
} study_key;

static const char *const key_name[K_COUNT] = {
#define X(key, kind, help) #key,
    STUDY_KEY_LIST(X)
#undef X
};
static const char key_kind[K_COUNT] = {
#define X(key, kind, help) #kind[0],
    STUDY_KEY_LIST(X)
#undef X
};

/* One raw value: the text after '=' and its line, for the main section and [quick]. */
typedef struct raw_value {
    const char *text;
    int         line;
} raw_value;

static const char *keep(study_config *c, const char *s, size_t n)
{
    if (c->n_strings + n + 1 > c->cap_strings)
        return NULL;   /* sized up front: never happens */
    char *p = c->strings + c->n_strings;
    memcpy(p, s, n);
    p[n] = '\0';
    c->n_strings += n + 1;
    return p;
}

/* The caller's message buffer: say() writes it, more() appends to it. */
typedef struct msgbuf {
    char  *s;
    size_t n;
} msgbuf;

__attribute__((format(printf, 2, 3))) static void say(msgbuf *e, const char *fmt, ...)
{
    if (!e->s || !e->n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->s, e->n, fmt, ap);
    va_end(ap);
}

static void more(msgbuf *e, const char *s)
{
    size_t have = e->s && e->n ? strlen(e->s) : 0;
    if (e->s && have + 1 < e->n)
        snprintf(e->s + have, e->n - have, "%s", s);
}

/* A second line after the message: "  valid keys: title claim ... acts[MODEL]; sections: ..." */
static void valid_keys(msgbuf *e)
{
    more(e, "\n  valid keys:");
    for (int k = 0; k < K_COUNT; k++) {
        more(e, " ");
        more(e, key_name[k]);
    }
    more(e, ", acts[MODEL]; sections: [quick]");
}

static int parse_double(const char *s, double *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    double v = strtod(s, &end);
    if (*end != '\0' || end == s)
        return -1;
    *out = v;
    return 0;
}

/* Splits v at whitespace into l; items must not contain commas outside parentheses. */
static int split_list(msgbuf *e, study_config *c, const char *file, int line,
                      const char *key, const char *v, study_list *l)
{
    l->n = 0;
    while (*v) {
        while (*v == ' ' || *v == '\t')
            v++;
        if (!*v)
            break;
        const char *s = v;
        int depth = 0;
        while (*v && ((*v != ' ' && *v != '\t') || depth > 0)) {
            if (*v == '(')
                depth++;
            else if (*v == ')' && depth > 0)
                depth--;
            v++;
        }
        if (l->n == STUDY_MAX_ITEMS) {
            say(e, "%s:%d: %s: at most %d items", file, line, key, STUDY_MAX_ITEMS);
            return -1;
        }
        size_t n = (size_t)(v - s);
        int d = 0;
        for (size_t i = 0; i < n; i++) {
            d += s[i] == '(' ? 1 : s[i] == ')' ? -1 : 0;
            if (s[i] == ',' && d == 0 && strcmp(key, "models") != 0) {
                say(e, "%s:%d: %s: '%.*s': separate items with spaces, not commas", file,
                          line, key, (int)n, s);
                return -1;
            }
        }
        l->v[l->n++] = keep(c, s, n);
    }
    return 0;
}

static int parse_num(msgbuf *e, const char *file, int line, const char *key,
                     const char *v, double lo, double hi, double *out)
{
    if (parse_double(v, out) != 0 || !(*out >= lo && *out <= hi)) {
        say(e, "%s:%d: %s wants a number in [%g, %g], got '%s'", file, line, key, lo,
                  hi, v);
        return -1;
    }
    return 0;
}

static int in_set(const char *v, const char *const *set)
{
    for (int i = 0; set[i]; i++)
        if (!strcmp(v, set[i]))
            return i;
    return -1;
}

int study_config_read(const char *path, int quick, study_config *c, char *err, size_t errlen)
{
    msgbuf eb = { err, errlen }, *e = &eb;
    if (err && errlen)
        err[0] = '\0';
    memset(c, 0, sizeof *c);
    c->path = path;
    size_t len = 0;
    char *text = NULL;
    act_diag rd;
    int st = act_file_read(path, &text, &len, &rd);
    if (st != ACT_OK) {
        say(e, "the study file: %s", rd.msg);
        return st == ACT_ENOMEM ? ACT_ENOMEM : ACT_EIO;
    }
    c->cap_strings = 2 * len + 4096;
    c->strings = malloc(c->cap_strings);
    raw_value main_v[K_COUNT] = { { 0 } }, quick_v[K_COUNT] = { { 0 } };
    raw_value main_ma[STUDY_MAX_ITEMS] = { { 0 } }, quick_ma[STUDY_MAX_ITEMS] = { { 0 } };
    const char *ma_model[2][STUDY_MAX_ITEMS];
    int n_ma[2] = { 0, 0 };
    int ec = ACT_OK, section = 0, line = 0;
    if (!c->strings) {
        say(e, "out of memory");
        free(text);
        return ACT_ENOMEM;
    }
    for (char *p = text, *next; ec == ACT_OK && p && *p; p = next) {
        line++;
        char *eol = strchr(p, '\n');
        next = eol ? eol + 1 : NULL;
        if (eol)
            *eol = '\0';
        char *hash = strchr(p, '#');
        if (hash)
            *hash = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
            p[--n] = '\0';
        if (!n)
            continue;
        if (p[0] == '[') {
            if (strcmp(p, "[quick]") != 0) {
                say(e, "%s:%d: unknown section '%s' (valid: [quick])", path, line, p);
                ec = ACT_EFORMAT;
            }
            section = 1;
            continue;
        }
        char *eq = strchr(p, '=');
        if (!eq) {
            say(e, "%s:%d: expected KEY = VALUE, got '%s'", path, line, p);
            valid_keys(e);
            ec = ACT_EFORMAT;
            break;
        }
        char *k = p, *v = eq + 1;
        char *ke = eq;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
            ke--;
        *ke = '\0';
        while (*v == ' ' || *v == '\t')
            v++;
        const char *vk = keep(c, v, strlen(v));
        raw_value *set = section ? quick_v : main_v;
        size_t kl = strlen(k);
        if (kl > 6 && !strncmp(k, "acts[", 5) && k[kl - 1] == ']') {
            int s = section, i = n_ma[s];
            const char *model = keep(c, k + 5, kl - 6);
            for (int j = 0; j < n_ma[s]; j++)
                if (!strcmp(ma_model[s][j], model)) {
                    say(e, "%s:%d: %s given twice in one section", path, line, k);
                    ec = ACT_EFORMAT;
                }
            if (ec == ACT_OK && i == STUDY_MAX_ITEMS) {
                say(e, "%s:%d: too many acts[MODEL] keys", path, line);
                ec = ACT_EFORMAT;
            }
            if (ec == ACT_OK) {
                ma_model[s][i] = model;
                (s ? quick_ma : main_ma)[i] = (raw_value){ vk, line };
                n_ma[s]++;
            }
            continue;
        }
        int key = -1;
        for (int j = 0; j < K_COUNT; j++)
            if (!strcmp(k, key_name[j]))
                key = j;
        if (key < 0) {
            say(e, "%s:%d: unknown key '%s'", path, line, k);
            valid_keys(e);
            ec = ACT_EFORMAT;
            break;
        }
        if (set[key].text) {
            say(e, "%s:%d: %s given twice in one section (first on line %d)", path, line,
                      k, set[key].line);
            ec = ACT_EFORMAT;
            break;
        }
        set[key] = (raw_value){ vk, line };
    }
    free(text);
    if (ec != ACT_OK)
        return ec;

    // the effective values: [quick] over the main section when quick
    raw_value v[K_COUNT];
    for (int k = 0; k < K_COUNT; k++)
        v[k] = quick && quick_v[k].text ? quick_v[k] : main_v[k];
    static const char *const dflt[K_COUNT] = {
        [K_claim] = "", [K_data] = "fashion-mnist", [K_baseline] = "relu", [K_bn] = "off",
        [K_init] = "he", [K_seeds] = "3", [K_lr] = "0", [K_lr_sweep] = "", [K_epochs] = "3",
        [K_train_images] = "0", [K_val_images] = "5000", [K_test_images] = "0",
        [K_batch] = "128", [K_opt] = "sgd", [K_momentum] = "0.9", [K_wd] = "-1",
        [K_sched] = "constant", [K_threads] = "1", [K_keep_stem] = "off",
        [K_dump_params] = "off",
    };
    for (int k = 0; k < K_COUNT; k++) {
        if (v[k].text)
            continue;
        if (k == K_variant) {
            v[k].text = quick ? "quick" : "full";
            continue;
        }
        if (!dflt[k]) {
            say(e, "%s: the key '%s' is required", path, key_name[k]);
            return ACT_EFORMAT;
        }
        v[k].text = dflt[k];
    }
    if (quick)   /* written by study run: the variant run, whatever the file says */
        v[K_variant].text = "quick";
#define AT(k) path, v[k].line
    double d;
    static const char *const onoff[] = { "off", "on", NULL };
    for (int k = 0; k < K_COUNT; k++) {
        const char *t = v[k].text;
        switch (key_kind[k]) {
        case 'L': {
            study_list *l = k == K_acts ? &c->acts : k == K_models ? &c->models
                          : k == K_bn ? &c->bn : k == K_init ? &c->init : NULL;
            study_list tmp;
            if (split_list(e, c, path, v[k].line, key_name[k], t, l ? l : &tmp) != 0)
                return ACT_EFORMAT;
            if (l && l->n == 0) {
                say(e, "%s:%d: %s is empty", AT(k), key_name[k]);
                return ACT_EFORMAT;
            }
            if (k == K_lr_sweep) {
                c->n_lrs = 1;
                for (int i = 0; i < tmp.n; i++) {
                    if (parse_num(e, AT(k), "lr_sweep", tmp.v[i], 1e-6, 100.0, &d) != 0)
                        return ACT_EFORMAT;
                    int dup = 0;
                    for (int j = 1; j < c->n_lrs; j++)
                        dup |= c->lrs[j] == d;
                    if (!dup)
                        c->lrs[c->n_lrs++] = d;
                }
            }
            break;
        }
        case 'I': {
            long lim = k == K_seeds ? 100 : k == K_epochs ? 1000 : k == K_threads ? 256
                     : k == K_batch ? 65536 : 100000000;
            long lo = k == K_seeds || k == K_epochs || k == K_threads || k == K_batch ? 1 : 0;
            if (parse_num(e, AT(k), key_name[k], t, (double)lo, (double)lim, &d) != 0)
                return ACT_EFORMAT;
            if (d != floor(d)) {
                say(e, "%s:%d: %s wants an integer, got '%s'", AT(k), key_name[k], t);
                return ACT_EFORMAT;
            }
            long iv = (long)d;
            switch (k) {
            case K_seeds: c->seeds = (int)iv; break;
            case K_epochs: c->epochs = (int)iv; break;
            case K_threads: c->threads = (int)iv; break;
            case K_batch: c->batch = iv; break;
            case K_train_images: c->train_images = iv; break;
            case K_val_images: c->val_images = iv; break;
            case K_test_images: c->test_images = iv; break;
            default: break;
            }
            break;
        }
        case 'F':
            if (k == K_wd && !strcmp(t, "-1")) {
                c->wd = -1.0;
                break;
            }
            if (parse_num(e, AT(k), key_name[k], t, 0.0, k == K_momentum ? 0.9999 : 100.0,
                          &d) != 0)
                return ACT_EFORMAT;
            *(k == K_lr ? &c->lr : k == K_momentum ? &c->momentum : &c->wd) = d;
            break;
        case 'B': {
            int on = in_set(t, onoff);
            if (on < 0) {
                say(e, "%s:%d: %s wants on or off, got '%s'", AT(k), key_name[k], t);
                return ACT_EFORMAT;
            }
            *(k == K_keep_stem ? &c->keep_stem : &c->dump_params) = on;
            break;
        }
        default: {   /* S */
            const char **dst[K_COUNT] = {
                [K_title] = &c->title, [K_claim] = &c->claim, [K_budget] = &c->budget,
                [K_variant] = &c->variant, [K_data] = &c->data, [K_baseline] = &c->baseline,
                [K_opt] = &c->opt, [K_sched] = &c->sched,
            };
            *dst[k] = keep(c, t, strlen(t));
            break;
        }
        }
    }
    c->acts_line = v[K_acts].line;
    c->models_line = v[K_models].line;
    c->lrs[0] = c->lr;
    if (c->n_lrs == 0)
        c->n_lrs = 1;
    for (int j = 1; j < c->n_lrs; j++)   /* the shared lr once, first */
        if (c->lrs[j] == c->lr) {
            memmove(&c->lrs[j], &c->lrs[j + 1], (size_t)(c->n_lrs - j - 1) * sizeof c->lrs[0]);
            c->n_lrs--;
            break;
        }
    // checks of values against each other and the engine's names
    static const char *const variants[] = { "full", "quick", NULL };
    static const char *const opts[] = { "sgd", "adam", "adamw", NULL };
    static const char *const scheds[] = { "constant", "step", "cosine", NULL };
    if (in_set(c->variant, variants) < 0) {
        say(e, "%s:%d: variant wants full or quick, got '%s'", AT(K_variant), c->variant);
        return ACT_EFORMAT;
    }
    if (in_set(c->opt, opts) < 0) {
        say(e, "%s:%d: opt wants sgd, adam or adamw, got '%s'", AT(K_opt), c->opt);
        return ACT_EFORMAT;
    }
    if (in_set(c->sched, scheds) < 0) {
        say(e, "%s:%d: sched wants constant, step or cosine, got '%s'", AT(K_sched),
                  c->sched);
        return ACT_EFORMAT;
    }
    for (int i = 0; i < c->bn.n; i++)
        if (in_set(c->bn.v[i], onoff) < 0) {
            say(e, "%s:%d: bn wants off and/or on, got '%s'", AT(K_bn), c->bn.v[i]);
            return ACT_EFORMAT;
        }
    for (int i = 0; i < c->init.n; i++)
        if (act_nn_init_lookup(c->init.v[i], NULL) != ACT_OK) {
            say(e, "%s:%d: init wants he, torch, gain and/or lsuv (the engine's "
                      "initialisations), got '%s'", AT(K_init), c->init.v[i]);
            return ACT_EFORMAT;
        }
    for (int m = 0; m < c->models.n; m++)
        for (int i = 0; i < c->bn.n; i++)
            if (!strcmp(c->bn.v[i], "on") && study_mlp_depth(c->models.v[m], NULL) < 0) {
                say(e, "%s:%d: bn on applies to mlp:WxD models only, not '%s' (the "
                          "others have their own batch norm)", AT(K_bn), c->models.v[m]);
                return ACT_EFORMAT;
            }
    // acts[MODEL] of [quick] when it has some or sets its own models; else the main section's
    int s = quick && (n_ma[1] || quick_v[K_models].text) ? 1 : 0;
    const raw_value *ma = s ? quick_ma : main_ma;
    for (int i = 0; i < n_ma[s]; i++) {
        int m;
        for (m = 0; m < c->models.n && strcmp(c->models.v[m], ma_model[s][i]); m++)
            ;
        if (m == c->models.n) {
            say(e, "%s:%d: acts[%s]: not one of the models", path, ma[i].line,
                      ma_model[s][i]);
            return ACT_EFORMAT;
        }
        if (split_list(e, c, path, ma[i].line, "acts[MODEL]", ma[i].text,
                       &c->model_acts[m]) != 0)
            return ACT_EFORMAT;
        c->model_acts_line[m] = ma[i].line;
    }
    for (int m = 0; m < c->models.n; m++) {
        const study_list *l = study_acts_of(c, m);
        int found = 0;
        for (int i = 0; i < l->n; i++)
            found |= !strcmp(l->v[i], c->baseline);
        if (!found) {
            say(e, "%s:%d: the baseline '%s' is not among the activations of %s",
                      AT(K_baseline), c->baseline, c->models.v[m]);
            return ACT_EFORMAT;
        }
    }
#undef AT
    return ACT_OK;
}

void study_config_free(study_config *c)
{
    free(c->strings);
    c->strings = NULL;
}

const study_list *study_acts_of(const study_config *c, int m)
{
    return c->model_acts[m].n ? &c->model_acts[m] : &c->acts;
}

static void put_list(FILE *f, const char *key, const study_list *l)
{
    fprintf(f, "%s =", key);
    for (int i = 0; i < l->n; i++)
        fprintf(f, " %s", l->v[i]);
    fputc('\n', f);
}

char *study_config_text(const study_config *c)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    fprintf(f, "# the configuration of this study directory, as study run resolved it\n"
               "title = %s\nclaim = %s\nbudget = %s\nvariant = %s\ndata = %s\n", c->title,
            c->claim, c->budget, c->variant, c->data);
    put_list(f, "acts", &c->acts);
    fprintf(f, "baseline = %s\n", c->baseline);
    put_list(f, "models", &c->models);
    for (int m = 0; m < c->models.n; m++)
        if (c->model_acts[m].n) {
            char k[256];
            snprintf(k, sizeof k, "acts[%s]", c->models.v[m]);
            put_list(f, k, &c->model_acts[m]);
        }
    put_list(f, "bn", &c->bn);
    put_list(f, "init", &c->init);
    fprintf(f, "seeds = %d\nlr = %.9g\nlr_sweep =", c->seeds, c->lr);
    for (int i = 1; i < c->n_lrs; i++)
        fprintf(f, " %.9g", c->lrs[i]);
    fprintf(f, "\nepochs = %d\ntrain_images = %ld\nval_images = %ld\ntest_images = %ld\n"
               "batch = %ld\nopt = %s\nmomentum = %.9g\n", c->epochs, c->train_images,
            c->val_images, c->test_images, c->batch, c->opt, c->momentum);
    if (c->wd >= 0)
        fprintf(f, "wd = %.9g\n", c->wd);
    fprintf(f, "sched = %s\nthreads = %d\nkeep_stem = %s\ndump_params = %s\n", c->sched,
            c->threads, c->keep_stem ? "on" : "off", c->dump_params ? "on" : "off");
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The next line of *p that is not a `threads`, `budget` or `seeds` line, its length in *len;
 * NULL at the end. Advances *p past it. */
static const char *next_run_line(const char **p, size_t *len)
{
    while (**p) {
        const char *l = *p, *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        *p = l + n + (nl != NULL);
        if (!strncmp(l, "threads = ", 10) || !strncmp(l, "budget = ", 9) ||
            !strncmp(l, "seeds = ", 8))
            continue;
        *len = n;
        return l;
    }
    return NULL;
}

int study_config_same_runs(const char *a, const char *b)
{
    for (;;) {
        size_t na = 0, nb = 0;
        const char *la = next_run_line(&a, &na), *lb = next_run_line(&b, &nb);
        if (!la || !lb)
            return !la && !lb;
        if (na != nb || memcmp(la, lb, na))
            return 0;
    }
}

// ----------------------------------------------------------------------------
// units

int study_units(const study_config *c, study_unit **out)
{
    size_t total = 0;
    for (int m = 0; m < c->models.n; m++)
        total += (size_t)study_acts_of(c, m)->n;
    total *= (size_t)c->bn.n * (size_t)c->init.n * (size_t)c->n_lrs * (size_t)c->seeds;
    study_unit *u = malloc((total ? total : 1) * sizeof *u);
    if (!u)
        return -1;
    size_t k = 0;   /* the shared lr first, seed by seed: a study cut short has whole cells */
    for (int l = 0; l < c->n_lrs; l++)
        for (int s = 1; s <= c->seeds; s++)
            for (int m = 0; m < c->models.n; m++)
                for (int b = 0; b < c->bn.n; b++)
                    for (int i = 0; i < c->init.n; i++)
                        for (int a = 0; a < study_acts_of(c, m)->n; a++)
                            u[k++] = (study_unit){ a, m, b, i, l, s };
    *out = u;
    return (int)k;
}

const char *study_unit_act(const study_config *c, const study_unit *u)
{
    return study_acts_of(c, u->model)->v[u->act];
}

int study_bn_on(const study_config *c, const study_unit *u)
{
    return !strcmp(c->bn.v[u->bn], "on");
}

void study_unit_spec(const study_config *c, const study_unit *u, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s", c->models.v[u->model], study_bn_on(c, u) ? ",bn" : "");
}

static void sanitize(char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-' || *s == '_'))
            *s = '-';
}

void study_unit_file(const study_config *c, const study_unit *u, char *buf, size_t len)
{
    char act[80], model[80];
    snprintf(act, sizeof act, "%.60s", study_unit_act(c, u));
    snprintf(model, sizeof model, "%.60s", c->models.v[u->model]);
    sanitize(act);
    sanitize(model);
    snprintf(buf, len, "%s__%s__bn%s__%s__lr%.6g__s%d.json", act, model, c->bn.v[u->bn],
             c->init.v[u->init], c->lrs[u->lr], u->seed);
}

void study_unit_label(const study_config *c, const study_unit *u, char *buf, size_t len)
{
    char spec[256];
    study_unit_spec(c, u, spec, sizeof spec);
    snprintf(buf, len, "%s %s %s lr %g seed %d", study_unit_act(c, u), spec,
             c->init.v[u->init], c->lrs[u->lr], u->seed);
}

int study_mlp_depth(const char *model, int *width)
{
    int w = 0, d = 0, n = 0;
    if (sscanf(model, "mlp:%dx%d%n", &w, &d, &n) != 2 || (model[n] && model[n] != ','))
        return -1;
    if (width)
        *width = w;
    return d;
}

// ----------------------------------------------------------------------------
// checks and files

int study_config_check_build(const study_config *c, const act_dataset *like, char *err,
                             size_t errlen)
{
    msgbuf eb = { err, errlen }, *e = &eb;
    if (err && errlen)
        err[0] = '\0';
    for (int m = 0; m < c->models.n; m++) {
        const study_list *al = study_acts_of(c, m);
        for (int a = 0; a < al->n; a++)
            for (int b = 0; b < c->bn.n; b++) {
                study_unit u = { a, m, b, 0, 0, 1 };
                char spec[256];
                study_unit_spec(c, &u, spec, sizeof spec);
                act_run_config rc = act_run_config_default();
                rc.model = spec;
                rc.act = al->v[a];
                rc.train.batch = (size_t)c->batch;
                act_run_act *ra = NULL;
                act_net *net = NULL;
                act_diag d;
                int st = act_run_act_new(&rc, &ra, &d);
                int line = c->model_acts_line[m] ? c->model_acts_line[m] : c->acts_line;
                if (st != ACT_OK) {
                    say(e, "%s:%d: activation '%s': %s", c->path, line, al->v[a],
                        d.msg[0] ? d.msg : act_strerror(st));
                    more(e, "\n  valid: any name of `actlab list`, meta_acon, frelu, acon_frelu, "
                            "expr:FORMULA");
                } else if ((st = act_run_net_new(&rc, like, ra, &net, &d)) != ACT_OK) {
                    say(e, "%s:%d: model '%s' with '%s': %s%s%s", c->path, c->models_line, spec,
                        al->v[a], act_strerror(st), d.msg[0] ? ": " : "", d.msg);
                }
                act_net_free(net);
                act_run_act_free(ra);
                if (st != ACT_OK)
                    return st;
            }
    }
    return ACT_OK;
}
