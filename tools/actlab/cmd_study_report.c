/* cmd_study_report.c -- `actlab study report DIR -o OUT`: reads a study directory (its
 * study.conf and the unit summaries in units/) and writes the figures as OUT/figures/NAME.svg,
 * then, through the report writer (report.h), OUT/index.html, one self-contained page (every
 * figure embedded as a data: URI), and OUT/summary.md (the same tables, figures linked).
 * Statistics (docs/study.md): per cell the mean test accuracy with its 95% Student-t interval,
 * the paired difference to the baseline over the same seeds with its interval; diverged runs
 * counted, never averaged. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actlab/act.h"
#include "actlab/file.h"
#include "actlab/run.h"
#include "cli.h"
#include "plot.h"
#include "report.h"
#include "orch/study.h"
#include "util/stats.h"

int study_report(int argc, char **argv);

// ----------------------------------------------------------------------------
// reading a unit's summary (the JSON study run writes: flat keys, arrays of numbers)

/* The text after "key": with its blanks skipped, or NULL. */
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

/* The number after "key": (null is NaN); NAN when missing. */
static double study_json_num(const char *json, const char *key)
{
    const char *p = json_find(json, key);
    if (!p || !strncmp(p, "null", 4))
        return NAN;
    char *end;
    double v = strtod(p, &end);
    return end == p ? NAN : v;
}

/* The string after "key": into buf ("" when missing). */
static void study_json_str(const char *json, const char *key, char *buf, size_t len)
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

/* The numbers of the array after "key": (null is NaN), at most cap into v; returns how many. */
static int study_json_array(const char *json, const char *key, double *v, int cap)
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

#define MAX_EPOCHS_SHOWN 1000
#define MAX_FIGS         256
#define HIST_BINS        24

/* One unit's summary as read back. */
typedef struct unit_rec {
    int     state;         /* 0 missing, 1 ok, 2 diverged or invalid */
    double  val, test;     /* NaN unless ok */
    int     n_curve;
    double *curve;         /* validation accuracy per epoch (owned) */
    char   *json;          /* the file (owned), for the activation parameters */
} unit_rec;

typedef struct figure {
    char file[128];        /* under OUT/figures/ */
    char caption[512];
    char section[32];      /* "bars", "depth", "curves", "functions", "params" */
} figure;

typedef struct report {
    const char   *cmd, *dir, *out;
    study_config  c;
    study_unit   *units;
    int           n_units;
    unit_rec     *rec;
    int           n_done, n_div;
    figure        figs[MAX_FIGS];
    int           n_figs;
} report;

/* The statistics of one cell (model, bn, init, act, lr) and its pairing with the baseline. */
typedef struct cell {
    double        test[100], val[100];   /* by seed - 1; NaN where not ok */
    int           n_div, n_missing;
    acti_stats_ci acc, val_ci, diff;
} cell;

static int unit_index(const report *r, int m, int b, int i, int l, int a, int seed)
{
    for (int k = 0; k < r->n_units; k++) {
        const study_unit *u = &r->units[k];
        if (u->model == m && u->bn == b && u->init == i && u->lr == l && u->act == a &&
            u->seed == seed)
            return k;
    }
    return -1;
}

static void cell_fill(const report *r, int m, int b, int i, int l, int a, cell *x)
{
    memset(x, 0, sizeof *x);
    for (int s = 1; s <= r->c.seeds; s++) {
        int k = unit_index(r, m, b, i, l, a, s);
        const unit_rec *u = k >= 0 ? &r->rec[k] : NULL;
        x->test[s - 1] = u && u->state == 1 ? u->test : NAN;
        x->val[s - 1] = u && u->state == 1 ? u->val : NAN;
        x->n_div += u && u->state == 2;
        x->n_missing += !u || u->state == 0;
    }
    x->acc = acti_stats_mean_ci(x->test, (size_t)r->c.seeds, 0.95);
    x->val_ci = acti_stats_mean_ci(x->val, (size_t)r->c.seeds, 0.95);
}

static int baseline_index(const report *r, int m)
{
    const study_list *l = study_acts_of(&r->c, m);
    for (int a = 0; a < l->n; a++)
        if (!strcmp(l->v[a], r->c.baseline))
            return a;
    return 0;
}

/* The lr index with the best mean validation accuracy for (m, b, i, a). */
static int best_lr(const report *r, int m, int b, int i, int a)
{
    int best = 0;
    double bv = -1.0;
    for (int l = 0; l < r->c.n_lrs; l++) {
        cell x;
        cell_fill(r, m, b, i, l, a, &x);
        if (x.val_ci.n && x.val_ci.mean > bv) {
            bv = x.val_ci.mean;
            best = l;
        }
    }
    return best;
}

// ----------------------------------------------------------------------------
// reading

static int read_units(report *r)
{
    for (int k = 0; k < r->n_units; k++) {
        char file[512], path[4700];
        study_unit_file(&r->c, &r->units[k], file, sizeof file);
        snprintf(path, sizeof path, "%s/units/%s", r->dir, file);
        unit_rec *u = &r->rec[k];
        u->val = u->test = NAN;
        char *j = NULL;
        ACT_IGNORE(act_file_read(path, &j, NULL, NULL));
        if (!j)
            continue;
        char status[32];
        study_json_str(j, "status", status, sizeof status);
        if (!status[0]) {
            free(j);
            continue;
        }
        u->state = strcmp(status, "ok") ? 2 : 1;
        u->val = study_json_num(j, "val_acc");
        u->test = study_json_num(j, "test_acc");
        if (u->state == 1 && !(isfinite(u->val) && isfinite(u->test))) {
            cli_error(r->cmd, "%s: status ok without val_acc and test_acc", path);
            free(j);
            return CLI_EXIT_FAILURE;
        }
        u->curve = malloc(MAX_EPOCHS_SHOWN * sizeof *u->curve);
        if (!u->curve) {
            free(j);
            return CLI_EXIT_FAILURE;
        }
        u->n_curve = study_json_array(j, "val_curve", u->curve, MAX_EPOCHS_SHOWN);
        u->json = j;
        r->n_done++;
        r->n_div += u->state == 2;
    }
    return CLI_EXIT_OK;
}

// ----------------------------------------------------------------------------
// figures

static int add_figure(report *r, const char *section, const char *file, const plot_figure *f,
                      const char *caption)
{
    if (r->n_figs == MAX_FIGS)
        return CLI_EXIT_OK;
    char path[4700], err[1024];
    snprintf(path, sizeof path, "%s/figures/%s", r->out, file);
    if (plot_write(path, f, err, sizeof err) != 0) {
        cli_error(r->cmd, "%s", err);
        return CLI_EXIT_FAILURE;
    }
    figure *g = &r->figs[r->n_figs++];
    snprintf(g->file, sizeof g->file, "%s", file);
    snprintf(g->caption, sizeof g->caption, "%s", caption);
    snprintf(g->section, sizeof g->section, "%s", section);
    return CLI_EXIT_OK;
}

static void group_name(const report *r, int m, int b, int i, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s, init %s", r->c.models.v[m], !strcmp(r->c.bn.v[b], "on") ? ",bn"
                                                                                       : "",
             r->c.init.v[i]);
}

static void file_safe(char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '_'))
            *s = '-';
}

/* Bars of mean test accuracy with 95% CI whiskers, and validation curves, per group at the
 * shared lr. */
static int group_figures(report *r, int m, int b, int i)
{
    const study_list *al = study_acts_of(&r->c, m);
    int A = al->n, E = r->c.epochs;
    double mean[STUDY_MAX_ITEMS], half[STUDY_MAX_ITEMS], lo = 1.0, hi = 0.0;
    double *x = malloc((size_t)E * sizeof *x), *y = malloc((size_t)(A * E) * sizeof *y);
    plot_series ls[STUDY_MAX_ITEMS];
    if (!x || !y) {
        free(x);
        free(y);
        return CLI_EXIT_FAILURE;
    }
    for (int e = 0; e < E; e++)
        x[e] = e + 1;
    for (int a = 0; a < A; a++) {
        cell c;
        cell_fill(r, m, b, i, 0, a, &c);
        mean[a] = c.acc.n ? c.acc.mean : 0.0;
        half[a] = isfinite(c.acc.half) ? c.acc.half : 0.0;
        if (c.acc.n) {
            lo = fmin(lo, mean[a] - half[a]);
            hi = fmax(hi, mean[a] + half[a]);
        }
        for (int e = 0; e < E; e++) {
            double s = 0.0;
            int n = 0;
            for (int sd = 1; sd <= r->c.seeds; sd++) {
                int k = unit_index(r, m, b, i, 0, a, sd);
                if (k >= 0 && r->rec[k].state == 1 && e < r->rec[k].n_curve &&
                    isfinite(r->rec[k].curve[e])) {
                    s += r->rec[k].curve[e];
                    n++;
                }
            }
            y[a * E + e] = n ? s / n : NAN;
        }
        ls[a] = (plot_series){ .label = al->v[a], .x = x, .y = y + a * E, .n = (size_t)E };
    }
    char g[256], title[400], file[128], cap[512];
    group_name(r, m, b, i, g, sizeof g);
    if (!(lo <= hi)) {
        lo = 0.0;
        hi = 1.0;
    }
    plot_series bs = { .y = mean, .err = half, .n = (size_t)A };
    snprintf(title, sizeof title, "test accuracy, %s, lr %g (mean, 95%% CI)", g, r->c.lrs[0]);
    plot_panel bp = { .kind = PLOT_BARS, .title = title, .ylabel = "test accuracy",
                      .series = &bs, .n_series = 1, .categories = al->v, .n_categories = A,
                      .ymin = fmax(0.0, lo - 0.02), .ymax = fmin(1.0, hi + 0.01),
                      .legend = PLOT_LEGEND_NONE };
    plot_figure bf = { .panels = &bp, .n_panels = 1, .width = 900, .height = 480 };
    snprintf(file, sizeof file, "bars_%d_%d_%d.svg", m, b, i);
    snprintf(cap, sizeof cap, "Mean test accuracy over the seeds that finished, with 95%% "
             "Student-t intervals as whiskers: %s, lr %g.", g, r->c.lrs[0]);
    int rc = add_figure(r, "bars", file, &bf, cap);
    snprintf(title, sizeof title, "validation accuracy per epoch, %s, lr %g", g, r->c.lrs[0]);
    plot_panel lp = { .kind = PLOT_LINES, .title = title, .xlabel = "epoch",
                      .ylabel = "validation accuracy (mean over seeds)", .series = ls,
                      .n_series = A, .legend = PLOT_LEGEND_BOTTOM_RIGHT };
    plot_figure lf = { .panels = &lp, .n_panels = 1, .width = 900, .height = 480 };
    snprintf(file, sizeof file, "curves_%d_%d_%d.svg", m, b, i);
    snprintf(cap, sizeof cap, "Learning curves: validation accuracy after each epoch, mean over "
             "the seeds that finished: %s, lr %g.", g, r->c.lrs[0]);
    if (rc == CLI_EXIT_OK)
        rc = add_figure(r, "curves", file, &lf, cap);
    free(x);
    free(y);
    return rc;
}

/* Accuracy against depth for the mlp:WxD models, one line per activation with its 95% CI as
 * dashed lines of the same colour, per (bn, init). Only when the study has two depths or more
 * and every model is an MLP with one activation list. */
static int depth_figures(report *r)
{
    int M = r->c.models.n, depth[STUDY_MAX_ITEMS];
    for (int m = 0; m < M; m++)
        if ((depth[m] = study_mlp_depth(r->c.models.v[m], NULL)) < 0 || r->c.model_acts[m].n)
            return CLI_EXIT_OK;
    if (M < 2)
        return CLI_EXIT_OK;
    const study_list *al = &r->c.acts;
    int A = al->n;
    double x[STUDY_MAX_ITEMS], y[3][STUDY_MAX_ITEMS][STUDY_MAX_ITEMS];
    plot_series s[3 * STUDY_MAX_ITEMS];
    for (int m = 0; m < M; m++)
        x[m] = depth[m];
    for (int b = 0; b < r->c.bn.n; b++)
        for (int i = 0; i < r->c.init.n; i++) {
            for (int a = 0; a < A; a++) {
                for (int m = 0; m < M; m++) {
                    cell c;
                    cell_fill(r, m, b, i, 0, a, &c);
                    y[0][a][m] = c.acc.n ? c.acc.mean : NAN;
                    y[1][a][m] = c.acc.lo;
                    y[2][a][m] = c.acc.hi;
                }
                for (int k = 0; k < 3; k++)
                    s[3 * a + k] = (plot_series){ .label = k ? NULL : al->v[a], .x = x,
                                                  .y = y[k][a], .n = (size_t)M,
                                                  .color = a % PLOT_PALETTE_SIZE + 1,
                                                  .dashed = k > 0 };
            }
            char title[256], file[128], cap[512];
            snprintf(title, sizeof title, "test accuracy against depth (bn %s, init %s, lr %g)",
                     r->c.bn.v[b], r->c.init.v[i], r->c.lrs[0]);
            plot_panel p = { .kind = PLOT_LINES, .title = title, .xlabel = "hidden layers",
                             .ylabel = "test accuracy", .series = s, .n_series = 3 * A,
                             .legend = PLOT_LEGEND_OUTSIDE };
            plot_figure f = { .panels = &p, .n_panels = 1, .width = 1000, .height = 520 };
            snprintf(file, sizeof file, "depth_%d_%d.svg", b, i);
            snprintf(cap, sizeof cap, "Mean test accuracy against the number of hidden layers "
                     "(bn %s, init %s, shared lr %g); the dashed lines of the same colour bound "
                     "the 95%% Student-t interval (none where fewer than 2 seeds finished).",
                     r->c.bn.v[b], r->c.init.v[i], r->c.lrs[0]);
            if (add_figure(r, "depth", file, &f, cap) != CLI_EXIT_OK)
                return CLI_EXIT_FAILURE;
        }
    return CLI_EXIT_OK;
}

/* The built-in activations of the study at their default parameters, f(x) on [-4, 4]. */
static int function_figure(report *r)
{
    enum { NX = 161 };
    static double x[NX], y[STUDY_MAX_ITEMS * 2][NX];
    plot_series s[STUDY_MAX_ITEMS * 2];
    const char *names[STUDY_MAX_ITEMS * 2];
    int n = 0;
    for (int m = -1; m < r->c.models.n; m++) {
        const study_list *al = m < 0 ? &r->c.acts : study_acts_of(&r->c, m);
        for (int a = 0; a < al->n && n < STUDY_MAX_ITEMS * 2; a++) {
            act_act_id id;
            int seen = 0;
            for (int k = 0; k < n; k++)
                seen |= !strcmp(names[k], al->v[a]);
            if (seen)
                continue;
            /* a built-in, or an expression (expr:F) compiled as the engine does */
            const act_fn *f = act_act_lookup(al->v[a], &id) == ACT_OK ? act_act_fn(id) : NULL;
            act_run_act *ra = NULL;
            if (!f && !strncmp(al->v[a], "expr:", 5)) {
                act_run_config rc = act_run_config_default();
                rc.act = al->v[a];
                act_diag d;
                const act_nn_act *na = act_run_act_new(&rc, &ra, &d) == ACT_OK
                                           ? act_run_act_get(ra) : NULL;
                f = na && na->kind == ACT_NN_ACT_FN ? na->fn : NULL;
            }
            float xf[NX], yf[NX];
            for (int j = 0; j < NX; j++)
                xf[j] = (float)(x[j] = -4.0 + 8.0 * j / (NX - 1));
            int ok = f && f->forward(f, f->defaults, 0, xf, yf, act_shape_flat(NX)) == ACT_OK;
            act_run_act_free(ra);
            if (!ok)
                continue;
            for (int j = 0; j < NX; j++)
                y[n][j] = yf[j];
            names[n] = al->v[a];
            const char *lab = strncmp(al->v[a], "expr:", 5) ? al->v[a] : al->v[a] + 5;
            s[n] = (plot_series){ .label = lab, .x = x, .y = y[n], .n = NX,
                                  .dashed = n >= PLOT_PALETTE_SIZE };
            n++;
        }
    }
    if (n == 0)
        return CLI_EXIT_OK;
    plot_panel p = { .kind = PLOT_LINES, .title = "the activations at their initial parameters",
                     .xlabel = "x", .ylabel = "f(x)", .series = s, .n_series = n,
                     .ymin = -1.5, .ymax = 4.0, .legend = PLOT_LEGEND_TOP_LEFT };
    plot_figure f = { .panels = &p, .n_panels = 1, .width = 900, .height = 560 };
    return add_figure(r, "functions", "functions.svg", &f,
                      "The activations of the study (built-ins and expressions), f(x) at their "
                      "default (initial) parameters; learnable parameters move during training (see the "
                      "parameter histograms when the study dumps them). Engine activations "
                      "(frelu, acon_frelu, meta_acon) depend on the feature map and are not "
                      "drawn.");
}

/* The trained values ("act_param.NAME") of activation an over the finished units at the shared
 * lr, of model m (-1: every model), at most cap into v, and the initial ones
 * ("act_param_init.NAME") at the same places in v0; *paired is 1 when every unit held both at
 * equal length (summaries older than the initial-value dump lack them). Returns how many. */
static int param_values(const report *r, const char *an, const char *name, int m, double *v,
                        double *v0, int cap, int *paired)
{
    char key[64], key0[64];
    snprintf(key, sizeof key, "act_param.%s", name);
    snprintf(key0, sizeof key0, "act_param_init.%s", name);
    int n = 0;
    *paired = 1;
    for (int k = 0; k < r->n_units && n < cap; k++) {
        const study_unit *u = &r->units[k];
        if (r->rec[k].state != 1 || u->lr != 0 || (m >= 0 && u->model != m) ||
            strcmp(study_unit_act(&r->c, u), an))
            continue;
        int got = study_json_array(r->rec[k].json, key, v + n, cap - n);
        if (study_json_array(r->rec[k].json, key0, v0 + n, cap - n) != got)
            *paired = 0;
        n += got;
    }
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of the n sorted values s (linear between neighbours). */
static double quantile(const double *s, int n, double q)
{
    double h = q * (n - 1);
    int i = (int)h;
    return i + 1 < n ? s[i] + (h - i) * (s[i + 1] - s[i]) : s[n - 1];
}

/* A 24-bin histogram of v[0..n) over [lo, hi] as a closed step outline into sx, sy. */
static void histogram(const double *v, int n, double lo, double hi, double *sx, double *sy)
{
    double cnt[HIST_BINS] = { 0 };
    double w = (hi - lo) / HIST_BINS;
    for (int j = 0; j < n; j++) {
        int b = (int)((v[j] - lo) / w);
        cnt[b < 0 ? 0 : b >= HIST_BINS ? HIST_BINS - 1 : b] += 1.0;
    }
    sx[0] = lo;
    sy[0] = 0.0;
    for (int b = 0; b < HIST_BINS; b++) {
        sx[1 + 2 * b] = lo + w * b;
        sx[2 + 2 * b] = lo + w * (b + 1);
        sy[1 + 2 * b] = sy[2 + 2 * b] = cnt[b];
    }
    sx[2 * HIST_BINS + 1] = hi;
    sy[2 * HIST_BINS + 1] = 0.0;
}

enum { PARAM_CAP = 1 << 20 };

/* Histograms of the trained activation parameters (dump_params), per activation and parameter,
 * pooled over layers, channels, seeds and models at the shared lr; where every unit also holds
 * the initial values, their histogram is drawn beside (dashed). */
static int param_figures(report *r)
{
    if (!r->c.dump_params)
        return CLI_EXIT_OK;
    double *v = malloc(PARAM_CAP * sizeof *v), *v0 = malloc(PARAM_CAP * sizeof *v0);
    int rc = v && v0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
    for (int a = 0; a < r->c.acts.n && rc == CLI_EXIT_OK; a++) {
        const char *an = r->c.acts.v[a];
        act_act_id id;
        if (act_act_lookup(an, &id) != ACT_OK)
            continue;
        const act_fn *fn = act_act_fn(id);
        for (int p = 0; p < fn->n_params && rc == CLI_EXIT_OK; p++) {
            if (!((fn->learnable >> p) & 1u))
                continue;
            const char *pn = fn->param_names[p];
            int with_init;
            int n = param_values(r, an, pn, -1, v, v0, PARAM_CAP, &with_init);
            if (n == 0)
                continue;
            double lo = INFINITY, hi = -INFINITY, mean = 0.0;
            for (int j = 0; j < n; j++) {
                lo = fmin(lo, with_init ? fmin(v[j], v0[j]) : v[j]);
                hi = fmax(hi, with_init ? fmax(v[j], v0[j]) : v[j]);
                mean += v[j] / n;
            }
            if (!(hi > lo)) {
                lo -= 0.05;
                hi += 0.05;
            }
            double sx[2][2 * HIST_BINS + 2], sy[2][2 * HIST_BINS + 2];
            histogram(v, n, lo, hi, sx[0], sy[0]);
            if (with_init)
                histogram(v0, n, lo, hi, sx[1], sy[1]);
            char title[256], file[128], cap[512], xl[64];
            snprintf(title, sizeof title, "trained %s of %s: %d values, mean %.3f", pn, an, n,
                     mean);
            snprintf(xl, sizeof xl, "%s", pn);   /* the initial values: dashed, not a default */
            plot_series s[2] = {
                { .label = "trained", .x = sx[0], .y = sy[0], .n = 2 * HIST_BINS + 2 },
                { .label = "initial", .x = sx[1], .y = sy[1], .n = 2 * HIST_BINS + 2,
                  .dashed = 1 },
            };
            plot_panel pp = { .kind = PLOT_LINES, .title = title, .xlabel = xl,
                              .ylabel = "count", .series = s, .n_series = with_init ? 2 : 1,
                              .legend = with_init ? PLOT_LEGEND_AUTO : PLOT_LEGEND_NONE };
            plot_figure f = { .panels = &pp, .n_panels = 1, .width = 800, .height = 440 };
            snprintf(file, sizeof file, "param_%s_%s.svg", an, pn);
            file_safe(file);
            snprintf(cap, sizeof cap, "Histogram of the trained per-channel %s of %s after "
                     "training%s, pooled over every layer, channel, seed and model of the study "
                     "(shared lr, finished runs only).", pn, an,
                     with_init ? " (solid) and of its initial values (dashed)" : "");
            rc = add_figure(r, "params", file, &f, cap);
        }
    }
    free(v);
    free(v0);
    return rc;
}

/* The table of the trained activation parameters: per activation, parameter and model, the
 * count, mean, sd and 5/50/95% quantiles, and how far they moved from their initial values
 * (median and 95% quantile of |trained - initial|) where the summaries hold those. */
static void param_table(const report *r, report_doc *d)
{
    double *v = malloc(PARAM_CAP * sizeof *v), *v0 = malloc(PARAM_CAP * sizeof *v0);
    enum { NH = 11 };
    static const char *const head[NH] = { "activation", "parameter", "model", "values", "mean",
                                          "sd", "5%", "median", "95%", "median |moved|",
                                          "95% |moved|" };
    int begun = 0;
    for (int a = 0; v && v0 && r->c.dump_params && a < r->c.acts.n; a++) {
        const char *an = r->c.acts.v[a];
        act_act_id id;
        if (act_act_lookup(an, &id) != ACT_OK)
            continue;
        const act_fn *fn = act_act_fn(id);
        for (int p = 0; p < fn->n_params; p++)
            for (int m = 0; m < r->c.models.n && ((fn->learnable >> p) & 1u); m++) {
                const char *pn = fn->param_names[p];
                int with_init;
                int n = param_values(r, an, pn, m, v, v0, PARAM_CAP, &with_init);
                if (n < 2)
                    continue;
                acti_stats_ci ms = acti_stats_mean_ci(v, (size_t)n, 0.95);
                for (int j = 0; with_init && j < n; j++)
                    v0[j] = fabs(v[j] - v0[j]);
                qsort(v, (size_t)n, sizeof *v, cmp_double);
                if (with_init)
                    qsort(v0, (size_t)n, sizeof *v0, cmp_double);
                char c[NH][64];
                snprintf(c[0], sizeof c[0], "%s", an);
                snprintf(c[1], sizeof c[1], "%s", pn);
                snprintf(c[2], sizeof c[2], "%s", r->c.models.v[m]);
                snprintf(c[3], sizeof c[3], "%d", n);
                snprintf(c[4], sizeof c[4], "%.4f", ms.mean);
                snprintf(c[5], sizeof c[5], "%.4f", ms.sd);
                snprintf(c[6], sizeof c[6], "%.4f", quantile(v, n, 0.05));
                snprintf(c[7], sizeof c[7], "%.4f", quantile(v, n, 0.5));
                snprintf(c[8], sizeof c[8], "%.4f", quantile(v, n, 0.95));
                if (with_init) {
                    snprintf(c[9], sizeof c[9], "%.4f", quantile(v0, n, 0.5));
                    snprintf(c[10], sizeof c[10], "%.4f", quantile(v0, n, 0.95));
                } else {
                    snprintf(c[9], sizeof c[9], "-");
                    snprintf(c[10], sizeof c[10], "-");
                }
                if (!begun++) {
                    report_heading(d, 2, "Trained activation parameters: statistics");
                    report_para(d, "Per activation, parameter and model, over every layer, "
                                "channel and seed at the shared lr (finished runs): the trained "
                                "values, and how far each moved from its initial value (\"-\" "
                                "where the summaries lack the initial values).");
                    report_table_begin(d, "lllrrrrrrrr", head);
                }
                const char *row[NH];
                for (int k = 0; k < NH; k++)
                    row[k] = c[k];
                report_table_row(d, row);
            }
    }
    if (begun)
        report_table_end(d);
    free(v);
    free(v0);
}

// ----------------------------------------------------------------------------
// tables

static void fmt(char *buf, size_t len, const char *f, double v)
{
    if (isfinite(v))
        snprintf(buf, len, f, v);
    else
        snprintf(buf, len, "-");
}

/* One table: rows (model, bn, init, act) at the shared lr (best = 0) or at each activation's
 * best lr by validation accuracy (best = 1), the baseline at its own. The comparisons of one
 * (model, bn, init) block against its baseline are one family for Holm's adjustment. */
static void write_table(const report *r, report_doc *d, int best)
{
    enum { NH = 14 };
    char diff_head[128];
    snprintf(diff_head, sizeof diff_head, "diff vs %s", r->c.baseline);
    const char *const head[NH] = { "model", "bn", "init", "activation", "lr", "n",
                                   "mean test acc", "95% CI", "diverged", diff_head,
                                   "95% CI of diff", "p", "Holm p", "verdict" };
    report_table_begin(d, "lllllrrrrrrrrl", head);
    for (int m = 0; m < r->c.models.n; m++)
        for (int b = 0; b < r->c.bn.n; b++)
            for (int i = 0; i < r->c.init.n; i++) {
                const study_list *al = study_acts_of(&r->c, m);
                int ba = baseline_index(r, m), na = al->n;
                int bl = best ? best_lr(r, m, b, i, ba) : 0, lr[STUDY_MAX_ITEMS];
                cell c[STUDY_MAX_ITEMS];   /* 56 KB of stack: 1.75 KB a cell */
                double p[STUDY_MAX_ITEMS], holm[STUDY_MAX_ITEMS];
                cell base;
                cell_fill(r, m, b, i, bl, ba, &base);
                for (int a = 0; a < na; a++) {
                    lr[a] = best ? best_lr(r, m, b, i, a) : 0;
                    cell_fill(r, m, b, i, lr[a], a, &c[a]);
                    p[a] = NAN;
                    if (a != ba) {
                        c[a].diff = acti_stats_paired_ci(c[a].test, base.test,
                                                         (size_t)r->c.seeds, 0.95);
                        p[a] = acti_stats_p_zero(&c[a].diff);
                    }
                }
                acti_stats_holm(p, (size_t)na, holm);
                for (int a = 0; a < na; a++) {
                    const cell *x = &c[a];
                    char v[NH][96];
                    snprintf(v[0], sizeof v[0], "%s", r->c.models.v[m]);
                    snprintf(v[1], sizeof v[1], "%s", r->c.bn.v[b]);
                    snprintf(v[2], sizeof v[2], "%s", r->c.init.v[i]);
                    snprintf(v[3], sizeof v[3], "%s", al->v[a]);
                    snprintf(v[4], sizeof v[4], "%g", r->c.lrs[lr[a]]);
                    snprintf(v[5], sizeof v[5], "%zu%s", x->acc.n, x->n_missing ? "*" : "");
                    fmt(v[6], sizeof v[6], "%.4f", x->acc.mean);
                    if (isfinite(x->acc.half))
                        snprintf(v[7], sizeof v[7], "[%.4f, %.4f]", x->acc.lo, x->acc.hi);
                    else
                        snprintf(v[7], sizeof v[7], "-");
                    snprintf(v[8], sizeof v[8], "%d", x->n_div);
                    for (int k = 9; k < NH; k++)
                        snprintf(v[k], sizeof v[k], "-");
                    if (a == ba || x->diff.n == 0) {
                        snprintf(v[13], sizeof v[13], a == ba ? "baseline" : "no pairs");
                    } else {
                        fmt(v[9], sizeof v[9], "%+.4f", x->diff.mean);
                        if (isfinite(x->diff.half))
                            snprintf(v[10], sizeof v[10], "[%+.4f, %+.4f]", x->diff.lo,
                                     x->diff.hi);
                        fmt(v[11], sizeof v[11], "%.4f", p[a]);
                        fmt(v[12], sizeof v[12], "%.4f", holm[a]);
                        int sig = !acti_stats_covers_zero(&x->diff);
                        snprintf(v[13], sizeof v[13], "%s%s",
                                 x->diff.n < 2 ? "too few pairs"
                                 : !sig ? "no significant difference"
                                 : x->diff.mean > 0 ? "better" : "worse",
                                 sig && !(holm[a] < 0.05) ? " (not after Holm)" : "");
                    }
                    const char *row[NH];
                    for (int k = 0; k < NH; k++)
                        row[k] = v[k];
                    report_table_row(d, row);
                }
            }
    report_table_end(d);
}

// ----------------------------------------------------------------------------
// output: index.html and summary.md through the report writer (report.h)

static int write_outputs(report *r)
{
    char err[1024];
    report_doc d;
    const study_config *c = &r->c;
    if (report_open(&d, r->out, c->title, err, sizeof err) != 0) {
        cli_error(r->cmd, "%s", err);
        return CLI_EXIT_FAILURE;
    }
    report_heading(&d, 1, "%s", c->title);
    report_begin(&d, REPORT_PLAIN);
    report_span(&d, REPORT_BOLD, "Claim:");
    report_text(&d, " %s", c->claim);
    report_end(&d);
    report_begin(&d, REPORT_PLAIN);
    report_span(&d, REPORT_BOLD, "Variant:");
    report_text(&d, " %s. ", c->variant);
    report_span(&d, REPORT_BOLD, "Budget:");
    report_text(&d, " %s. Data %s: %ld training images (0: all), %ld validation, %ld test "
                "(0: all), %d epochs, batch %ld, %s, seeds 1..%d. Proxy results on this "
                "machine, not the papers' protocols.", c->budget, c->data, c->train_images,
                c->val_images, c->test_images, c->epochs, c->batch, c->opt, c->seeds);
    report_end(&d);
    report_begin(&d, REPORT_PLAIN);
    report_span(&d, REPORT_BOLD, "Units:");
    report_text(&d, " %d of %d done, %d diverged (counted in the tables, never averaged).",
                r->n_done, r->n_units, r->n_div);
    report_end(&d);
    report_para(&d, "Each row: the test accuracy of the runs that finished (n; * when some units "
                "have not run yet), their mean and 95%% Student-t interval, the runs that "
                "diverged; the paired difference to the baseline over the seeds both finished, "
                "its 95%% interval, and \"no significant difference\" where that interval "
                "covers 0; p is the paired t test's two-sided p-value (below 0.05 exactly when "
                "the interval excludes 0) and Holm p the same adjusted for the comparisons "
                "against the baseline in the row's block (model, bn, init): with many "
                "comparisons some 5%% of them come out significant by chance, so a difference "
                "marked \"not after Holm\" is one the block as a whole does not establish. "
                "The test set is evaluated once per run, after its last epoch; "
                "choices (the best lr) use the validation accuracy.");
    report_heading(&d, 2, "At the shared learning rate (%g)", c->lrs[0]);
    write_table(r, &d, 0);
    if (c->n_lrs > 1) {
        report_heading(&d, 2, "At each activation's best learning rate");
        report_para(&d, "The lr of each row is the one of its sweep with the best mean "
                    "validation accuracy.");
        write_table(r, &d, 1);
    }
    static const char *const sections[][2] = {
        { "depth", "Accuracy against depth" }, { "bars", "Test accuracy" },
        { "curves", "Learning curves" }, { "functions", "The activations" },
        { "params", "Trained activation parameters" },
    };
    for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++) {
        int any = 0;
        for (int k = 0; k < r->n_figs; k++) {
            const figure *g = &r->figs[k];
            if (strcmp(g->section, sections[s][0]))
                continue;
            if (!any++)
                report_heading(&d, 2, "%s", sections[s][1]);
            char file[160];
            snprintf(file, sizeof file, "figures/%s", g->file);
            report_figure(&d, file, g->caption);
        }
    }
    param_table(r, &d);
    char *text = study_config_text(c);
    report_heading(&d, 2, "Configuration");
    report_pre(&d, text ? text : "");
    free(text);
    if (report_commit(&d, err, sizeof err) != 0) {
        cli_error(r->cmd, "%s", err);
        return CLI_EXIT_FAILURE;
    }
    printf("%s\n%s\n", d.html_path, d.md_path);
    return CLI_EXIT_OK;
}

int study_report(int argc, char **argv)
{
    static const struct option lo[] = {
        { "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    report *r = calloc(1, sizeof *r);
    if (!r)
        return CLI_EXIT_FAILURE;
    r->cmd = "study report";
    int ch, rc = CLI_EXIT_OK;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        if (ch == 'o') {
            r->out = optarg;
        } else if (ch == 'h') {
            printf("usage: actlab study report DIR -o OUT\n"
                   "Reads study directory DIR (study run --out) and writes OUT/index.html (one\n"
                   "self-contained page), OUT/summary.md and OUT/figures/*.svg.\n");
            free(r);
            return CLI_EXIT_OK;
        } else {
            cli_error(r->cmd, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
            free(r);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !r->out) {
        cli_error(r->cmd, "usage: actlab study report DIR -o OUT");
        free(r);
        return CLI_EXIT_USAGE;
    }
    r->dir = argv[optind];
    char path[4700];
    snprintf(path, sizeof path, "%s/study.conf", r->dir);
    if (access(path, R_OK) != 0) {
        cli_error(r->cmd, "'%s' is not a study directory (no readable %s: %s)", r->dir, path,
                  strerror(errno));
        free(r);
        return CLI_EXIT_USAGE;
    }
    char msg[8192];
    int st = study_config_read(path, 0, &r->c, msg, sizeof msg);
    if (st != ACT_OK) {
        cli_error(r->cmd, "%s", msg);
        study_config_free(&r->c);
        free(r);
        return st == ACT_EFORMAT ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    r->n_units = study_units(&r->c, &r->units);
    r->rec = r->n_units >= 0 ? calloc((size_t)r->n_units + 1, sizeof *r->rec) : NULL;
    char fig[4800], err[1024];
    snprintf(fig, sizeof fig, "%s/figures", r->out);
    if (!r->rec) {
        cli_error(r->cmd, "out of memory");
        rc = CLI_EXIT_FAILURE;
    }
    if (rc == CLI_EXIT_OK && (rc = cli_check_output(r->cmd, "-o", r->out, 1)) == CLI_EXIT_OK &&
        cli_out_dir(fig, err, sizeof err) != 0) {
        cli_error(r->cmd, "%s", err);
        rc = CLI_EXIT_FAILURE;
    }
    if (rc == CLI_EXIT_OK)
        rc = read_units(r);
    if (rc == CLI_EXIT_OK)
        rc = depth_figures(r);
    for (int m = 0; rc == CLI_EXIT_OK && m < r->c.models.n; m++)
        for (int b = 0; rc == CLI_EXIT_OK && b < r->c.bn.n; b++)
            for (int i = 0; rc == CLI_EXIT_OK && i < r->c.init.n; i++)
                rc = group_figures(r, m, b, i);
    if (rc == CLI_EXIT_OK)
        rc = function_figure(r);
    if (rc == CLI_EXIT_OK)
        rc = param_figures(r);
    if (rc == CLI_EXIT_OK)
        rc = write_outputs(r);
    for (int k = 0; r->rec && k < r->n_units; k++) {
        free(r->rec[k].curve);
        free(r->rec[k].json);
    }
    free(r->rec);
    free(r->units);
    study_config_free(&r->c);
    free(r);
    return rc;
}
