/* cmd_study.c -- `actlab study run STUDY`: reads a study configuration (studies/NAME.conf, the
 * format in docs/study.md), trains each of its units (activation x model x batch-norm variant x
 * init x lr x seed) through the library (act_run_train) and writes one summary per unit,
 * atomically; finished units are never trained again, so an interrupted study resumes where it
 * stopped. `study report` is cmd_study_report.c; the configuration and unit naming are here. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
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
#include "study.h"

int study_report(int argc, char **argv);

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

static void valid_keys(FILE *f)
{
    fputs("  valid keys:", f);
    for (int k = 0; k < K_COUNT; k++)
        fprintf(f, " %s", key_name[k]);
    fputs(", acts[MODEL]; sections: [quick]\n", f);
}

/* Splits v at whitespace into l; items must not contain commas outside parentheses. */
static int split_list(const char *cmd, study_config *c, const char *file, int line,
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
            cli_error(cmd, "%s:%d: %s: at most %d items", file, line, key, STUDY_MAX_ITEMS);
            return -1;
        }
        size_t n = (size_t)(v - s);
        int d = 0;
        for (size_t i = 0; i < n; i++) {
            d += s[i] == '(' ? 1 : s[i] == ')' ? -1 : 0;
            if (s[i] == ',' && d == 0 && strcmp(key, "models") != 0) {
                cli_error(cmd, "%s:%d: %s: '%.*s': separate items with spaces, not commas", file,
                          line, key, (int)n, s);
                return -1;
            }
        }
        l->v[l->n++] = keep(c, s, n);
    }
    return 0;
}

static int parse_num(const char *cmd, const char *file, int line, const char *key,
                     const char *v, double lo, double hi, double *out)
{
    if (cli_parse_double(v, out) != 0 || !(*out >= lo && *out <= hi)) {
        cli_error(cmd, "%s:%d: %s wants a number in [%g, %g], got '%s'", file, line, key, lo,
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

int study_config_read(const char *cmd, const char *path, int quick, study_config *c)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    size_t len = 0;
    char *text = cli_read_file(path, &len);
    if (!text) {
        cli_error(cmd, "cannot read the study file '%s': %s", path, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    c->cap_strings = 2 * len + 4096;
    c->strings = malloc(c->cap_strings);
    raw_value main_v[K_COUNT] = { { 0 } }, quick_v[K_COUNT] = { { 0 } };
    raw_value main_ma[STUDY_MAX_ITEMS] = { { 0 } }, quick_ma[STUDY_MAX_ITEMS] = { { 0 } };
    const char *ma_model[2][STUDY_MAX_ITEMS];
    int n_ma[2] = { 0, 0 };
    int ec = -1, section = 0, line = 0;
    if (!c->strings) {
        cli_error(cmd, "out of memory");
        free(text);
        return CLI_EXIT_FAILURE;
    }
    for (char *p = text, *next; ec < 0 && p && *p; p = next) {
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
                cli_error(cmd, "%s:%d: unknown section '%s' (valid: [quick])", path, line, p);
                ec = CLI_EXIT_USAGE;
            }
            section = 1;
            continue;
        }
        char *eq = strchr(p, '=');
        if (!eq) {
            cli_error(cmd, "%s:%d: expected KEY = VALUE, got '%s'", path, line, p);
            valid_keys(stderr);
            ec = CLI_EXIT_USAGE;
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
                    cli_error(cmd, "%s:%d: %s given twice in one section", path, line, k);
                    ec = CLI_EXIT_USAGE;
                }
            if (ec < 0 && i == STUDY_MAX_ITEMS) {
                cli_error(cmd, "%s:%d: too many acts[MODEL] keys", path, line);
                ec = CLI_EXIT_USAGE;
            }
            if (ec < 0) {
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
            cli_error(cmd, "%s:%d: unknown key '%s'", path, line, k);
            valid_keys(stderr);
            ec = CLI_EXIT_USAGE;
            break;
        }
        if (set[key].text) {
            cli_error(cmd, "%s:%d: %s given twice in one section (first on line %d)", path, line,
                      k, set[key].line);
            ec = CLI_EXIT_USAGE;
            break;
        }
        set[key] = (raw_value){ vk, line };
    }
    free(text);
    if (ec >= 0)
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
            cli_error(cmd, "%s: the key '%s' is required", path, key_name[k]);
            return CLI_EXIT_USAGE;
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
            if (split_list(cmd, c, path, v[k].line, key_name[k], t, l ? l : &tmp) != 0)
                return CLI_EXIT_USAGE;
            if (l && l->n == 0) {
                cli_error(cmd, "%s:%d: %s is empty", AT(k), key_name[k]);
                return CLI_EXIT_USAGE;
            }
            if (k == K_lr_sweep) {
                c->n_lrs = 1;
                for (int i = 0; i < tmp.n; i++) {
                    if (parse_num(cmd, AT(k), "lr_sweep", tmp.v[i], 1e-6, 100.0, &d) != 0)
                        return CLI_EXIT_USAGE;
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
            if (parse_num(cmd, AT(k), key_name[k], t, (double)lo, (double)lim, &d) != 0)
                return CLI_EXIT_USAGE;
            if (d != floor(d)) {
                cli_error(cmd, "%s:%d: %s wants an integer, got '%s'", AT(k), key_name[k], t);
                return CLI_EXIT_USAGE;
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
            if (parse_num(cmd, AT(k), key_name[k], t, 0.0, k == K_momentum ? 0.9999 : 100.0,
                          &d) != 0)
                return CLI_EXIT_USAGE;
            *(k == K_lr ? &c->lr : k == K_momentum ? &c->momentum : &c->wd) = d;
            break;
        case 'B': {
            int on = in_set(t, onoff);
            if (on < 0) {
                cli_error(cmd, "%s:%d: %s wants on or off, got '%s'", AT(k), key_name[k], t);
                return CLI_EXIT_USAGE;
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
        cli_error(cmd, "%s:%d: variant wants full or quick, got '%s'", AT(K_variant), c->variant);
        return CLI_EXIT_USAGE;
    }
    if (in_set(c->opt, opts) < 0) {
        cli_error(cmd, "%s:%d: opt wants sgd, adam or adamw, got '%s'", AT(K_opt), c->opt);
        return CLI_EXIT_USAGE;
    }
    if (in_set(c->sched, scheds) < 0) {
        cli_error(cmd, "%s:%d: sched wants constant, step or cosine, got '%s'", AT(K_sched),
                  c->sched);
        return CLI_EXIT_USAGE;
    }
    for (int i = 0; i < c->bn.n; i++)
        if (in_set(c->bn.v[i], onoff) < 0) {
            cli_error(cmd, "%s:%d: bn wants off and/or on, got '%s'", AT(K_bn), c->bn.v[i]);
            return CLI_EXIT_USAGE;
        }
    for (int i = 0; i < c->init.n; i++)
        if (act_nn_init_lookup(c->init.v[i], NULL) != ACT_OK) {
            cli_error(cmd, "%s:%d: init wants he, torch, gain and/or lsuv (the engine's "
                      "initialisations), got '%s'", AT(K_init), c->init.v[i]);
            return CLI_EXIT_USAGE;
        }
    for (int m = 0; m < c->models.n; m++)
        for (int i = 0; i < c->bn.n; i++)
            if (!strcmp(c->bn.v[i], "on") && study_mlp_depth(c->models.v[m], NULL) < 0) {
                cli_error(cmd, "%s:%d: bn on applies to mlp:WxD models only, not '%s' (the "
                          "others have their own batch norm)", AT(K_bn), c->models.v[m]);
                return CLI_EXIT_USAGE;
            }
    // acts[MODEL] of [quick] when it has some or sets its own models; else the main section's
    int s = quick && (n_ma[1] || quick_v[K_models].text) ? 1 : 0;
    const raw_value *ma = s ? quick_ma : main_ma;
    for (int i = 0; i < n_ma[s]; i++) {
        int m;
        for (m = 0; m < c->models.n && strcmp(c->models.v[m], ma_model[s][i]); m++)
            ;
        if (m == c->models.n) {
            cli_error(cmd, "%s:%d: acts[%s]: not one of the models", path, ma[i].line,
                      ma_model[s][i]);
            return CLI_EXIT_USAGE;
        }
        if (split_list(cmd, c, path, ma[i].line, "acts[MODEL]", ma[i].text,
                       &c->model_acts[m]) != 0)
            return CLI_EXIT_USAGE;
        c->model_acts_line[m] = ma[i].line;
    }
    for (int m = 0; m < c->models.n; m++) {
        const study_list *l = study_acts_of(c, m);
        int found = 0;
        for (int i = 0; i < l->n; i++)
            found |= !strcmp(l->v[i], c->baseline);
        if (!found) {
            cli_error(cmd, "%s:%d: the baseline '%s' is not among the activations of %s",
                      AT(K_baseline), c->baseline, c->models.v[m]);
            return CLI_EXIT_USAGE;
        }
    }
#undef AT
    return -1;
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
// reading summaries


static const char *json_find(const char *json, const char *key)
{
    char pat[160];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ' || *p == '\n')
        p++;
    return p;
}

double study_json_num(const char *json, const char *key)
{
    const char *p = json_find(json, key);
    if (!p || !strncmp(p, "null", 4))
        return NAN;
    char *end;
    double v = strtod(p, &end);
    return end == p ? NAN : v;
}

void study_json_str(const char *json, const char *key, char *buf, size_t len)
{
    const char *p = json_find(json, key);
    buf[0] = '\0';
    if (!p || *p != '"')
        return;
    p++;
    size_t n = 0;
    while (*p && *p != '"' && n + 1 < len) {
        if (*p == '\\' && p[1])
            p++;
        buf[n++] = *p++;
    }
    buf[n] = '\0';
}

int study_json_array(const char *json, const char *key, double *v, int cap)
{
    const char *p = json_find(json, key);
    if (!p || *p != '[')
        return 0;
    p++;
    int n = 0;
    while (*p && *p != ']' && n < cap) {
        while (*p == ' ' || *p == ',' || *p == '\n')
            p++;
        if (*p == ']')
            break;
        if (!strncmp(p, "null", 4)) {
            v[n++] = NAN;
            p += 4;
            continue;
        }
        char *end;
        double x = strtod(p, &end);
        if (end == p)
            break;
        v[n++] = x;
        p = end;
    }
    return n;
}

// ----------------------------------------------------------------------------
// study run

enum { STUDY_MAX_JOBS = 64 };

struct run_state;

/* One of the units trained at once (--jobs): its label and how far it is. */
typedef struct run_job {
    struct run_state *st;
    int               active;
    double            frac;                      /* of the unit, 0..1 */
    int               epoch, epochs, pct;
    char              label[512];
} run_job;

/* What the jobs share; every field below mu is read and written under it. */
typedef struct run_state {
    const study_config *c;
    const char         *dir, *cmd;
    const study_unit   *units;
    const char         *is_done;
    const act_dataset  *train, *test;
    int                 tty, n_jobs;
    pthread_mutex_t     mu;
    int                 total, done, trained;   /* units: all, finished, trained this time */
    int                 next, n_div, stop, ec;  /* next unit to look at; a job failed: ec */
    double              t0, trained_s;          /* start; seconds spent on trained units */
    double              last_draw;
    run_job             job[STUDY_MAX_JOBS];
} run_state;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void fmt_eta(double s, char *buf, size_t len)
{
    if (!(s >= 0.0) || !isfinite(s))
        snprintf(buf, len, "--");
    else if (s < 60)
        snprintf(buf, len, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

/* The ETA: the mean time of the units trained so far times the units left (less the parts of
 * the running ones done), over the jobs that train at once. Under st->mu. */
static double eta_s(const run_state *st)
{
    if (st->trained == 0)
        return NAN;
    double per = st->trained_s / st->trained, left = (double)(st->total - st->done);
    for (int j = 0; j < st->n_jobs; j++)
        left -= st->job[j].active ? st->job[j].frac : 0.0;
    int par = st->n_jobs < st->total - st->done ? st->n_jobs : st->total - st->done;
    return per * left / (par > 1 ? par : 1);
}

/* The progress line (a terminal only): units done, ETA, the first running unit and its epoch,
 * and how many more run beside it. Under st->mu. */
static void draw(run_state *st)
{
    const run_job *first = NULL;
    int more = 0;
    for (int j = 0; j < st->n_jobs; j++)
        if (st->job[j].active) {
            more += first != NULL;
            first = first ? first : &st->job[j];
        }
    if (!first)
        return;
    char eta[32], extra[32] = "";
    fmt_eta(eta_s(st), eta, sizeof eta);
    if (more)
        snprintf(extra, sizeof extra, " (+%d running)", more);
    fprintf(stderr, "\r\033[K[%d/%d units] ETA %s | %.200s | epoch %d/%d %3d%%%s", st->done,
            st->total, eta, first->label, first->epoch, first->epochs, first->pct, extra);
    fflush(stderr);
}

static int on_batch(void *user, const act_train_progress *p)
{
    run_job *j = user;
    run_state *st = j->st;
    if (!st->tty)
        return 0;
    double t = now_s();
    pthread_mutex_lock(&st->mu);
    j->frac = ((double)(p->epoch - 1) + (double)p->batch / (double)p->n_batches) /
              (double)p->epochs;
    j->epoch = p->epoch;
    j->epochs = p->epochs;
    j->pct = (int)(100 * p->batch / p->n_batches);
    if (t - st->last_draw >= 0.25 || p->batch == p->n_batches) {
        st->last_draw = t;
        draw(st);
    }
    pthread_mutex_unlock(&st->mu);
    return 0;
}

static const char *status_word(int rc)
{
    return rc == ACT_OK ? "ok" : rc == ACT_EDIVERGED ? "diverged" : "invalid";
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

/* The trained activation parameters of the checkpoint at ckpt, grouped by name ("beta", "p1")
 * over every layer, as "act_param.NAME": [...] lines. */
static int dump_params(FILE *f, const act_run_config *rc, const act_dataset *like,
                       const char *ckpt, act_diag *d)
{
    act_run_act *a = NULL;
    act_net *net = NULL;
    int st = act_run_act_new(rc, &a, d);
    if (st == ACT_OK)
        st = act_run_net_new(rc, like, a, &net, d);
    if (st == ACT_OK)
        st = act_ckpt_load(ckpt, net, NULL, NULL, d);
    if (st == ACT_OK) {
        const float *p = act_net_params(net);
        char names[8][32];
        int n_names = 0;
        for (int i = 0; i < act_net_n_segments(net); i++) {
            const act_param_seg *s = act_net_segment(net, i);
            if (!(s->flags & ACT_SEG_ACT) || !(s->flags & ACT_SEG_LEARN))
                continue;
            const char *nm = strrchr(s->name, '.');
            nm = nm ? nm + 1 : s->name;
            int k;
            for (k = 0; k < n_names && strcmp(names[k], nm); k++)
                ;
            if (k == n_names && n_names < 8)
                snprintf(names[n_names++], sizeof names[0], "%s", nm);
        }
        for (int k = 0; k < n_names; k++) {
            fprintf(f, ",\n  \"act_param.%s\": [", names[k]);
            int first = 1;
            for (int i = 0; i < act_net_n_segments(net); i++) {
                const act_param_seg *s = act_net_segment(net, i);
                const char *nm = strrchr(s->name, '.');
                nm = nm ? nm + 1 : s->name;
                if (!(s->flags & ACT_SEG_ACT) || !(s->flags & ACT_SEG_LEARN) ||
                    strcmp(nm, names[k]))
                    continue;
                for (size_t j = 0; j < s->size; j++) {
                    fputs(first ? "" : ", ", f);
                    json_num(f, (double)p[s->offset + j]);
                    first = 0;
                }
            }
            fputc(']', f);
        }
    }
    act_net_free(net);
    act_run_act_free(a);
    return st;
}

/* Trains unit u into DIR/units/FILE: epochs 1..E-1 without the test set, checkpointed in
 * DIR/work/, then epoch E (resumed from that checkpoint) with it, so the test set is evaluated
 * once; an interrupted unit continues from its checkpoint. Returns an act_status: ACT_OK also
 * for a run that diverged (recorded as such); else an error already printed. */
static int run_unit(run_job *j, const study_unit *u, char *result, size_t result_len)
{
    run_state *st = j->st;
    const study_config *c = st->c;
    const char *cmd = st->cmd;
    const act_dataset *train = st->train, *test = st->test;
    char spec[256], file[512], ckpt[4096], path[4096];
    study_unit_spec(c, u, spec, sizeof spec);
    study_unit_file(c, u, file, sizeof file);
    snprintf(path, sizeof path, "%s/units/%s", st->dir, file);
    snprintf(ckpt, sizeof ckpt, "%s/work/%.*s.ckpt", st->dir, (int)(strlen(file) - 5), file);
    act_run_config rc = act_run_config_default();
    rc.data = c->data;
    rc.model = spec;
    rc.act = study_unit_act(c, u);
    rc.act_stem = !c->keep_stem;
    ACT_IGNORE(act_nn_init_lookup(c->init.v[u->init], &rc.init));   /* checked on reading */
    rc.threads = c->threads;
    act_train_config *t = &rc.train;
    act_opt_kind ok = ACT_OPT_SGD;
    if (act_opt_lookup(c->opt, &ok) != ACT_OK)
        return ACT_EINVAL;
    t->opt = act_optim_config_default(ok);
    if (ok == ACT_OPT_SGD)
        t->opt.momentum = (float)c->momentum;
    if (c->wd >= 0)
        t->opt.weight_decay = (float)c->wd;
    if (act_sched_lookup(c->sched, &t->sched.kind) != ACT_OK)
        return ACT_EINVAL;
    t->sched.lr = c->lrs[u->lr] > 0 ? (float)c->lrs[u->lr] : act_run_default_lr(ok);
    t->epochs = c->epochs;
    t->batch = (size_t)c->batch;
    t->val_size = (size_t)c->val_images;
    t->train_limit = (size_t)c->train_images;
    t->test_limit = (size_t)c->test_images;
    t->seed = (uint64_t)u->seed;
    t->checkpoint = ckpt;
    t->on_batch = on_batch;
    t->user = j;

    act_diag d;
    act_ckpt_meta m = { 0 };
    int start = act_ckpt_read_meta(ckpt, &m, &d) == ACT_OK ? m.epoch : 0;
    act_ckpt_meta_free(&m);
    act_run_result r;
    int rc_train = ACT_OK;
    const int E = c->epochs;
    if (start < E - 1) {   /* epochs 1..E-1, no test set */
        t->epochs = E - 1;
        t->resume = start > 0 ? ckpt : NULL;
        rc_train = act_run_train(&rc, train, NULL, &r, &d);
        start = r.epochs;
    }
    if (rc_train == ACT_OK && start < E) {   /* the last epoch, with the test set */
        t->epochs = E;
        t->resume = start > 0 ? ckpt : NULL;
        rc_train = act_run_train(&rc, train, test, &r, &d);
    }
    if (rc_train != ACT_OK && rc_train != ACT_EDIVERGED && rc_train != ACT_ERANGE) {
        cli_error(cmd, "unit %s: %s%s%s", file, act_strerror(rc_train), d.msg[0] ? ": " : "",
                  d.msg);
        return rc_train;
    }
    // the record of every epoch, from the checkpoint (none if the first epoch diverged)
    memset(&m, 0, sizeof m);
    int have = act_ckpt_read_meta(ckpt, &m, &d) == ACT_OK;
    int epochs = have ? m.epoch : 0;
    const act_epoch_stats *last = epochs ? &m.hist[epochs - 1] : NULL;
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) {
        act_ckpt_meta_free(&m);
        return ACT_ENOMEM;
    }
    char lrbuf[32];
    fprintf(f, "{\n  \"unit\": \"%s\",\n  \"act\": \"", file);
    for (const char *p = rc.act; *p; p++)
        fprintf(f, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
    fprintf(f, "\",\n  \"model\": \"%s\",\n  \"bn\": \"%s\",\n  \"init\": \"%s\",\n"
               "  \"lr\": %s,\n  \"seed\": %d,\n  \"status\": \"%s\",\n  \"epochs\": %d,\n"
               "  \"val_acc\": ", spec, c->bn.v[u->bn], c->init.v[u->init],
            cli_fmt_float(t->sched.lr, lrbuf, sizeof lrbuf), u->seed, status_word(rc_train),
            epochs);
    int ok_run = rc_train == ACT_OK && epochs == E;
    json_num(f, ok_run ? last->val_acc : NAN);
    fputs(",\n  \"test_acc\": ", f);
    json_num(f, ok_run ? last->test_acc : NAN);
    fputs(",\n  \"train_loss\": ", f);
    json_num(f, ok_run ? last->train_loss : NAN);
    double secs = 0.0;
    for (int e = 0; e < epochs; e++)
        secs += m.hist[e].wall_s;
    fputs(",\n  \"seconds\": ", f);
    json_num(f, secs);
    fprintf(f, ",\n  \"n_params\": %zu", r.n_params);
    uint64_t hash = 0;
    if (act_run_config_hash(&rc, &hash) == ACT_OK)
        fprintf(f, ",\n  \"config_hash\": \"%016llx\"", (unsigned long long)hash);
    const char *curve_key[2] = { "val_curve", "train_loss_curve" };
    for (int k = 0; k < 2; k++) {
        fprintf(f, ",\n  \"%s\": [", curve_key[k]);
        for (int e = 0; e < epochs; e++) {
            fputs(e ? ", " : "", f);
            json_num(f, k ? m.hist[e].train_loss : m.hist[e].val_acc);
        }
        fputc(']', f);
    }
    int st_dump = ACT_OK;
    if (c->dump_params && ok_run)
        st_dump = dump_params(f, &rc, train, ckpt, &d);
    fputs("\n}\n", f);
    int bad = fclose(f) != 0;
    if (ok_run)
        snprintf(result, result_len, "ok, val %.4f, test %.4f, %.1f s", last->val_acc,
                 last->test_acc, secs);
    else
        snprintf(result, result_len, "%s after %d epoch%s", status_word(rc_train), epochs,
                 epochs == 1 ? "" : "s");
    act_ckpt_meta_free(&m);
    if (st_dump != ACT_OK) {
        cli_error(cmd, "unit %s: the trained parameters cannot be read back: %s", file,
                  d.msg[0] ? d.msg : act_strerror(st_dump));
        free(buf);
        return st_dump;
    }
    char err[1024];
    if (bad || cli_write_atomic(path, buf, n, err, sizeof err) != 0) {
        cli_error(cmd, "%s", bad ? "out of memory" : err);
        free(buf);
        return ACT_EIO;
    }
    free(buf);
    if (unlink(ckpt) != 0 && errno != ENOENT)
        cli_error(cmd, "warning: cannot remove '%s': %s", ckpt, strerror(errno));
    return ACT_OK;
}

/* One job: takes the next unit not done, trains it, reports it; until none is left or a job
 * failed (an I/O error: the others finish their unit and stop). Units are independent runs
 * with their own seeds, so the summaries do not depend on how many jobs train them. */
static void *job_main(void *arg)
{
    run_job *j = arg;
    run_state *st = j->st;
    pthread_mutex_lock(&st->mu);
    for (;;) {
        while (st->next < st->total && st->is_done[st->next])
            st->next++;
        if (st->stop || st->next >= st->total)
            break;
        int i = st->next++;
        study_unit_label(st->c, &st->units[i], j->label, sizeof j->label);
        j->active = 1;
        j->frac = 0.0;
        j->epoch = j->pct = 0;
        j->epochs = st->c->epochs;
        pthread_mutex_unlock(&st->mu);

        double t0 = now_s();
        char result[256] = "";
        int rc = run_unit(j, &st->units[i], result, sizeof result);

        pthread_mutex_lock(&st->mu);
        j->active = 0;
        if (st->tty)
            fprintf(stderr, "\r\033[K");
        if (rc != ACT_OK) {
            if (!st->stop)
                st->ec = rc == ACT_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
            st->stop = 1;
            break;
        }
        st->n_div += strncmp(result, "ok", 2) != 0;
        st->trained++;
        st->done++;
        st->trained_s += now_s() - t0;
        char eta[32];
        fmt_eta(eta_s(st), eta, sizeof eta);
        printf("[%d/%d] %s: %s (ETA %s)\n", st->done, st->total, j->label, result, eta);
        fflush(stdout);
        if (ferror(stdout))
            st->stop = 1;
        else if (st->tty)
            draw(st);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

/* Takes DIR/.actlab.lock (flock: released by the kernel when the process dies, so a kill -9
 * leaves no stale lock). Returns the descriptor, or -1 after printing why. */
static int claim_dir(const char *cmd, const char *dir)
{
    char path[4600];
    snprintf(path, sizeof path, "%s/.actlab.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        cli_error(cmd, "--out %s: cannot write there: %s", dir, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        cli_error(cmd, "--out %s is in use by another actlab run; wait for it or choose another "
                  "directory", dir);
        close(fd);
        return -1;
    }
    return fd;
}

/* studies/NAME.conf for a bare NAME; a path (with '/' or ending in .conf) as given. The study's
 * name (the file's base name without .conf) into name. */
static void study_path(const char *study, char *path, size_t len, char *name, size_t nlen)
{
    size_t n = strlen(study);
    int is_path = strchr(study, '/') || (n > 5 && !strcmp(study + n - 5, ".conf"));
    if (is_path)
        snprintf(path, len, "%s", study);
    else
        snprintf(path, len, "studies/%s.conf", study);
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t bl = strlen(b);
    if (bl > 5 && !strcmp(b + bl - 5, ".conf"))
        bl -= 5;
    snprintf(name, nlen, "%.*s", (int)bl, b);
}

static void run_usage(FILE *f)
{
    fputs("usage: actlab study run STUDY [--out DIR] [--quick] [--threads N] [--jobs N]\n"
          "                              [--data-dir D] [--dry-run]\n"
          "Runs study STUDY (studies/STUDY.conf, or a path to a .conf file; docs/study.md):\n"
          "every unit (activation x model x bn x init x lr x seed) trained once, its summary\n"
          "written to DIR/units/; finished units are never trained again, so the same command\n"
          "continues an interrupted study.\n"
          "      --out DIR      (out/study/STUDY, or out/study/STUDY-quick)\n"
          "      --quick        the file's [quick] section over its main one (CI-sized)\n"
          "      --threads N    threads per unit (the file's `threads`, default 1)\n"
          "      --jobs N       units trained at once (default: the cores over --threads);\n"
          "                     the summaries do not depend on it\n"
          "      --data-dir D   where the data files are\n"
          "      --dry-run      check the file and print the units; train nothing\n", f);
}

static int study_run(int argc, char **argv)
{
    const char *cmd = "study run";
    static const struct option lo[] = {
        { "out", required_argument, NULL, 'o' },   { "quick", no_argument, NULL, 'q' },
        { "threads", required_argument, NULL, 't' }, { "data-dir", required_argument, NULL, 'D' },
        { "dry-run", no_argument, NULL, 'n' },     { "help", no_argument, NULL, 'h' },
        { "jobs", required_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    const char *out = NULL, *data_dir = NULL;
    int quick = 0, dry = 0, ch;
    long threads = 0, jobs = 0;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'o': out = optarg; break;
        case 'q': quick = 1; break;
        case 'n': dry = 1; break;
        case 'D': data_dir = optarg; break;
        case 't':
            if (cli_parse_long(optarg, &threads) != 0 || threads < 1 || threads > 256) {
                cli_error(cmd, "--threads wants an integer in [1, 256], got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'j':
            if (cli_parse_long(optarg, &jobs) != 0 || jobs < 1 || jobs > STUDY_MAX_JOBS) {
                cli_error(cmd, "--jobs wants an integer in [1, %d], got '%s'", STUDY_MAX_JOBS,
                          optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h': run_usage(stdout); return CLI_EXIT_OK;
        default:
            cli_error(cmd, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        run_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    char path[4096], name[256], outbuf[4400];
    study_path(argv[optind], path, sizeof path, name, sizeof name);
    if (access(path, R_OK) != 0) {
        cli_error(cmd, "no study '%s': %s: %s (studies are studies/NAME.conf; docs/study.md)",
                  argv[optind], path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    study_config c;
    int ec = study_config_read(cmd, path, quick, &c);
    if (ec >= 0) {
        study_config_free(&c);
        return ec;
    }
    if (threads)
        c.threads = (int)threads;
    study_unit *units = NULL;
    int n_units = study_units(&c, &units);
    if (n_units < 0) {
        cli_error(cmd, "out of memory");
        study_config_free(&c);
        return CLI_EXIT_FAILURE;
    }
    if (!out) {
        snprintf(outbuf, sizeof outbuf, "out/study/%s%s", name, quick ? "-quick" : "");
        out = outbuf;
    }
    printf("study %s (%s): %d units, %d epoch%s on %ld training images each (0: all); "
           "budget: %s\n", name, c.variant, n_units, c.epochs, c.epochs == 1 ? "" : "s",
           c.train_images, c.budget);
    if (dry) {
        for (int i = 0; i < n_units; i++) {
            char label[512];
            study_unit_label(&c, &units[i], label, sizeof label);
            printf("  %s\n", label);
        }
        free(units);
        study_config_free(&c);
        return CLI_EXIT_OK;
    }
    ec = CLI_EXIT_FAILURE;
    int lock = -1, data = 0;
    act_dataset train = { 0 }, test = { 0 };
    char *text = study_config_text(&c), err[1024], p2[5200];
    if (!text) {
        cli_error(cmd, "out of memory");
        goto done;
    }
    if ((ec = cli_check_output(cmd, "--out", out, 1)) != CLI_EXIT_OK)
        goto done;
    ec = CLI_EXIT_FAILURE;
    if ((lock = claim_dir(cmd, out)) < 0)
        goto done;
    snprintf(p2, sizeof p2, "%s/units", out);
    if (cli_out_dir(p2, err, sizeof err) != 0) {
        cli_error(cmd, "%s", err);
        goto done;
    }
    snprintf(p2, sizeof p2, "%s/work", out);
    if (cli_out_dir(p2, err, sizeof err) != 0) {
        cli_error(cmd, "%s", err);
        goto done;
    }
    snprintf(p2, sizeof p2, "%s/study.conf", out);
    char *old = cli_read_file(p2, NULL);
    if (old && strcmp(old, text) != 0) {
        cli_error(cmd, "--out %s holds a study with another configuration (%s differs from "
                  "what %s%s resolves to): choose another --out, or delete the directory", out,
                  p2, path, quick ? " --quick" : "");
        free(old);
        ec = CLI_EXIT_USAGE;
        goto done;
    }
    free(old);
    if (cli_write_atomic(p2, text, strlen(text), err, sizeof err) != 0) {
        cli_error(cmd, "%s", err);
        goto done;
    }
    act_diag d;
    int st = act_data_open(c.data, data_dir, &train, &test, &d);
    if (st != ACT_OK) {
        cli_error(cmd, "%s", d.msg[0] ? d.msg : act_strerror(st));
        ec = st == ACT_ENOTFOUND ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
        goto done;
    }
    data = 1;
    if ((size_t)c.val_images >= train.n) {
        cli_error(cmd, "%s: val_images %ld leaves no training images (the set has %zu)", path,
                  c.val_images, train.n);
        ec = CLI_EXIT_USAGE;
        goto done;
    }
    // every (model, act) pair builds, before any training
    for (int m = 0; m < c.models.n; m++) {
        const study_list *al = study_acts_of(&c, m);
        for (int a = 0; a < al->n; a++)
            for (int b = 0; b < c.bn.n; b++) {
                study_unit u = { a, m, b, 0, 0, 1 };
                char spec[256];
                study_unit_spec(&c, &u, spec, sizeof spec);
                act_run_config rc = act_run_config_default();
                rc.model = spec;
                rc.act = al->v[a];
                rc.train.batch = (size_t)c.batch;
                act_run_act *ra = NULL;
                act_net *net = NULL;
                st = act_run_act_new(&rc, &ra, &d);
                int line = c.model_acts_line[m] ? c.model_acts_line[m] : c.acts_line;
                if (st != ACT_OK) {
                    cli_error(cmd, "%s:%d: activation '%s': %s", path, line, al->v[a],
                              d.msg[0] ? d.msg : act_strerror(st));
                    fprintf(stderr, "  valid: any name of `actlab list`, meta_acon, frelu, "
                                    "acon_frelu, expr:FORMULA\n");
                } else if ((st = act_run_net_new(&rc, &train, ra, &net, &d)) != ACT_OK) {
                    cli_error(cmd, "%s:%d: model '%s' with '%s': %s%s%s", path, c.models_line,
                              spec, al->v[a], act_strerror(st), d.msg[0] ? ": " : "", d.msg);
                }
                act_net_free(net);
                act_run_act_free(ra);
                if (st != ACT_OK) {
                    ec = st == ACT_ENOMEM ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
                    goto done;
                }
            }
    }
    char *is_done = calloc((size_t)n_units + 1, 1);
    run_state *rs = calloc(1, sizeof *rs);
    if (!is_done || !rs) {
        cli_error(cmd, "out of memory");
        free(is_done);
        free(rs);
        goto done;
    }
    *rs = (run_state){ .c = &c, .dir = out, .cmd = cmd, .units = units, .is_done = is_done,
                       .train = &train, .test = &test, .tty = isatty(2), .total = n_units,
                       .t0 = now_s() };
    for (int i = 0; i < n_units; i++) {
        char file[512];
        study_unit_file(&c, &units[i], file, sizeof file);
        snprintf(p2, sizeof p2, "%s/units/%s", out, file);
        char *j = cli_read_file(p2, NULL);
        if (j && strstr(j, "\"status\":") && strstr(j, "\n}\n"))
            is_done[i] = 1;
        rs->done += is_done[i];
        free(j);
    }
    if (jobs == 0) {   /* the cores, over the threads each unit uses */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cores > c.threads ? cores / c.threads : 1;
    }
    if (jobs > n_units - rs->done)
        jobs = n_units - rs->done > 0 ? n_units - rs->done : 1;
    rs->n_jobs = (int)(jobs < STUDY_MAX_JOBS ? jobs : STUDY_MAX_JOBS);
    printf("%s: %d of %d units already done; %d at once, %d thread%s each\n", out, rs->done,
           n_units, rs->n_jobs, c.threads, c.threads == 1 ? "" : "s");
    fflush(stdout);
    pthread_mutex_init(&rs->mu, NULL);
    pthread_t tid[STUDY_MAX_JOBS];
    int started = 1;
    for (int j = 0; j < rs->n_jobs; j++)
        rs->job[j].st = rs;
    for (int j = 1; j < rs->n_jobs; j++, started++)
        if (pthread_create(&tid[j], NULL, job_main, &rs->job[j]) != 0)
            break;   /* fewer jobs: the ones started share the units */
    job_main(&rs->job[0]);
    for (int j = 1; j < started; j++)
        pthread_join(tid[j], NULL);
    pthread_mutex_destroy(&rs->mu);
    ec = rs->ec;
    int n_div = rs->n_div, n_done = rs->done, n_trained = rs->trained;
    double t_start = rs->t0;
    free(rs);
    free(is_done);
    if (ec == CLI_EXIT_OK) {
        char el[32];
        fmt_eta(now_s() - t_start, el, sizeof el);
        printf("study %s: %d of %d units done (%d trained now in %s, %d of them diverged); "
               "report: actlab study report %s -o REPORT_DIR\n", name, n_done, n_units,
               n_trained, el, n_div, out);
    }
done:
    if (data) {
        act_data_free(&train);
        act_data_free(&test);
    }
    if (lock >= 0)
        close(lock);
    free(text);
    free(units);
    study_config_free(&c);
    return ec;
}

int cmd_study(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "run"))
        return study_run(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "report"))
        return study_report(argc - 1, argv + 1);
    FILE *f = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout
                                                                                   : stderr;
    fputs("usage: actlab study run STUDY [--out DIR] [--quick] [--threads N] [--data-dir D]\n"
          "       actlab study report DIR -o OUT\n"
          "Studies of activation functions with statistics (docs/study.md): `run` trains a\n"
          "study's units (resumable), `report` writes OUT/index.html (self-contained) and\n"
          "OUT/summary.md. Studies: studies/*.conf.\n", f);
    if (f == stdout)
        return CLI_EXIT_OK;
    if (argc >= 2)
        cli_error("study", "unknown subcommand '%s' (valid: run, report)", argv[1]);
    return CLI_EXIT_USAGE;
}
