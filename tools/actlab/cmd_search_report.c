/* cmd_search_report.c -- `actlab search report FILE -o DIR [-k K] [--fidelity F]`: a read-only
 * summary of a search journal as files in DIR: leaderboard.csv (the bytes of `actlab search top
 * --format csv`), SVG figures drawn with plot.h (the top functions and their derivatives, the
 * strategy's learning curve, the histogram of the rewards of done trials), then, through the
 * report writer (report.h), index.html (configuration, counts, fidelity, leaderboard, the figures
 * embedded: one self-contained page) and summary.md (the same in Markdown, figures linked).
 * Works while a search runs (the journal is opened read-only); every file is written atomically
 * (cli.h). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actlab/expr.h"
#include "actlab/search.h"
#include "../../orch/fidelity.h"
#include "../../orch/journal.h"
#include "../../orch/search_config.h"
#include "cli.h"
#include "plot.h"
#include "report.h"
#include "search_cli.h"

#define REPORT_TOP_DEFAULT  20     /* leaderboard rows */
#define REPORT_MAX_CURVES   8      /* functions in the function and derivative figures */
#define REPORT_GRID         401    /* points on [REPORT_XMIN, REPORT_XMAX] */
#define REPORT_XMIN         (-5.0)
#define REPORT_XMAX         5.0
#define REPORT_CLIP_F       10.0   /* the y axis of f stops at +-this (exp(x) would flatten all) */
#define REPORT_CLIP_D       5.0    /* ... and that of f' */
#define REPORT_MAX_REASONS  200    /* distinct reject reasons listed; the rest are "(other)" */
#define REPORT_MAX_OTHER    8      /* leaderboards of other fidelities shown */
#define REPORT_LABEL_MAX    56     /* legend text: a longer expression ends in "..." */
#define SYNTHETIC_NOTE      "SYNTHETIC: an analytic score, no training"

/* X(ID, file, what) -- the figures, in the order they are written and shown. */
#define REPORT_FIGURE_LIST(X)                                                        \
    X(FUNCTIONS,   "top_functions.svg",   "f(x) of the top functions")             \
    X(DERIVATIVES, "top_derivatives.svg", "f'(x) of the top functions")            \
    X(LEARNING,    "learning_curve.svg",  "the strategy's reward per proposal")    \
    X(HISTOGRAM,   "reward_hist.svg",     "the rewards of done trials")

typedef enum fig_id {
#define X(ID, file, what) FIG_##ID,
    REPORT_FIGURE_LIST(X)
#undef X
    FIG_COUNT
} fig_id;

static const char *const figure_file[FIG_COUNT] = {
#define X(ID, file, what) file,
    REPORT_FIGURE_LIST(X)
#undef X
};

/* One leaderboard row, owning its expression. */
typedef struct top_entry {
    orch_top_row row;       /* row.canon = canon; row.expr NULL */
    char        *canon;     /* owned */
} top_entry;

/* The leaderboard of one fidelity. */
typedef struct board {
    const char          *fidelity;
    const orch_fidelity *fid;            /* NULL for a name that is no fidelity */
    int64_t              trials[ORCH_TRIAL_COUNT];
    top_entry           *top;
    size_t               n_top, cap_top;
    int                  failed;         /* out of memory while reading */
} board;

typedef struct reason_count {
    char   *reason;         /* owned */
    int64_t n;
} reason_count;

typedef struct report {
    const char          *cmd, *journal, *dir, *fidelity;
    const orch_fidelity *fid;            /* NULL for a name that is no fidelity */
    orch_search_config   cfg;
    const char          *cfg_text;       /* the journal's, borrowed */
    size_t               k;
    int                  png;            /* --png: every figure also as FIGURE.png */
    int                  failed;         /* a callback ran out of memory */
    // read from the journal
    int64_t              trials_all;                 /* at every fidelity */
    orch_trial_times_t   times;
    int64_t              cand[ORCH_CAND_COUNT];
    reason_count        *reasons;
    size_t               n_reasons, cap_reasons;
    board                main;                       /* at fidelity */
    board                other[REPORT_MAX_OTHER];    /* other fidelities with trials (finalize) */
    int                  n_other;
    int64_t              n_proposals;                /* all, with a reward or not */
    double              *prop_x, *prop_r;            /* proposal number, reward */
    size_t               n_prop, cap_prop;
    double              *done_val;                   /* val_acc of done trials at fidelity */
    size_t               n_done, cap_done;
    // what was written
    int                  fig_written[FIG_COUNT];
    char                 fig_note[FIG_COUNT][256];   /* why a figure is missing, or a remark */
    int                  n_unparsed;                 /* top expressions that did not evaluate */
} report;

static void print_usage(FILE *f)
{
    fprintf(f,
            "usage: actlab search report FILE -o DIR [-k K] [--fidelity F] [--png]\n"
            "\n"
            "Writes into DIR (created if needed; existing files are replaced):\n"
            "  index.html            configuration, counts, fidelity, leaderboard, figures:\n"
            "                        one self-contained page (the figures embedded)\n"
            "  summary.md            the same in Markdown, the figures linked\n"
            "  leaderboard.csv       the top K (default %d), as `search top -k K --format csv`\n"
            "  top_functions.svg     f(x) of the top min(K, %d) on [-5, 5], betas at 1\n"
            "  top_derivatives.svg   f'(x) of the same\n"
            "  learning_curve.svg    the strategy's reward per proposal, running mean and best\n"
            "  reward_hist.svg       the rewards of done trials\n"
            "and prints the files written. The journal is only read (works while a search runs).\n"
            "\n"
            "  -o, --output DIR    the output directory (required)\n"
            "  -k N                leaderboard rows (%d)\n"
            "  --fidelity F        the fidelity of the leaderboard and the histogram (the\n"
            "                      search's)\n"
            "  --png               every figure also as a PNG beside its SVG\n"
            "\n"
            "exit: 0 written, 1 a write failed, 2 bad input (not a journal, bad option)\n",
            REPORT_TOP_DEFAULT, REPORT_MAX_CURVES, REPORT_TOP_DEFAULT);
}

static int is_synthetic(const report *r)
{
    return r->fid && r->fid->synthetic;
}

/* p (capacity *cap elements of size sz) with room for n + 1: p, or a reallocation (*cap
 * updated), or NULL when out of memory (p is still valid then). */
static void *grow(void *p, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return p;
    size_t c = *cap ? 2 * *cap : 64;
    void *q = realloc(p, c * sz);
    if (q)
        *cap = c;
    return q;
}

static void free_report(report *r)
{
    for (size_t i = 0; i < r->n_reasons; i++)
        free(r->reasons[i].reason);
    free(r->reasons);
    for (int b = -1; b < r->n_other; b++) {
        board *x = b < 0 ? &r->main : &r->other[b];
        for (size_t i = 0; i < x->n_top; i++)
            free(x->top[i].canon);
        free(x->top);
    }
    free(r->prop_x);
    free(r->prop_r);
    free(r->done_val);
}

// ----------------------------------------------------------------------------
// reading the journal

static int on_candidate(void *u, const orch_candidate *c)
{
    report *r = u;
    if ((int)c->status < 0 || c->status >= ORCH_CAND_COUNT)
        return 0;
    r->cand[c->status]++;
    if (c->status != ORCH_CAND_REJECTED)
        return 0;
    const char *why = c->reject_reason && c->reject_reason[0] ? c->reject_reason : "(none given)";
    for (size_t i = 0; i < r->n_reasons; i++)
        if (!strcmp(r->reasons[i].reason, why)) {
            r->reasons[i].n++;
            return 0;
        }
    if (r->n_reasons == REPORT_MAX_REASONS) {
        why = "(other)";
        for (size_t i = 0; i < r->n_reasons; i++)
            if (!strcmp(r->reasons[i].reason, why)) {
                r->reasons[i].n++;
                return 0;
            }
    }
    reason_count *q = grow(r->reasons, &r->cap_reasons, r->n_reasons, sizeof *q);
    if (q)
        r->reasons = q;
    if (!q || !(r->reasons[r->n_reasons].reason = strdup(why))) {
        r->failed = 1;
        return 1;
    }
    r->reasons[r->n_reasons++].n = 1;
    return 0;
}

static int on_top(void *u, const orch_top_row *row)
{
    board *b = u;
    char *canon = strdup(row->canon ? row->canon : "");
    top_entry *q = canon ? grow(b->top, &b->cap_top, b->n_top, sizeof *q) : NULL;
    if (!q) {
        free(canon);
        b->failed = 1;
        return 1;
    }
    b->top = q;
    top_entry *t = &b->top[b->n_top++];
    t->canon = canon;
    t->row = *row;
    t->row.canon = canon;
    t->row.expr = NULL;
    return 0;
}

static int on_proposal(void *u, const orch_proposal *p)
{
    report *r = u;
    r->n_proposals++;
    if (!p->has_reward || !isfinite(p->reward))
        return 0;
    if (r->n_prop == r->cap_prop) {
        size_t cap = r->cap_prop ? 2 * r->cap_prop : 256;
        double *x = realloc(r->prop_x, cap * sizeof *x);
        if (x)
            r->prop_x = x;
        double *y = x ? realloc(r->prop_r, cap * sizeof *y) : NULL;
        if (!y) {
            r->failed = 1;
            return 1;
        }
        r->prop_r = y;
        r->cap_prop = cap;
    }
    r->prop_x[r->n_prop] = (double)r->n_proposals;
    r->prop_r[r->n_prop++] = p->reward;
    return 0;
}

/* The val_acc of every done trial at r->fidelity. The journal has no iteration over trials, so
 * this reads ids 1, 2, ... (SQLite rowids: nothing is ever deleted) until it has seen as many
 * trials as orch_trial_counts gave, or a long run of missing ids. */
static int read_done_trials(report *r, orch_journal *j)
{
    int64_t seen = 0, misses = 0;
    for (int64_t id = 1; seen < r->trials_all && misses < 10000; id++) {
        orch_trial t;
        int st = orch_trial_get(j, id, &t);
        if (st == ACT_ENOTFOUND) {
            misses++;
            continue;
        }
        if (st != ACT_OK)
            return st;
        seen++;
        misses = 0;
        if (t.state != ORCH_TRIAL_DONE || !t.fidelity || strcmp(t.fidelity, r->fidelity) ||
            !isfinite(t.result.val_acc))
            continue;
        double *q = grow(r->done_val, &r->cap_done, r->n_done, sizeof *q);
        if (!q)
            return ACT_ENOMEM;
        r->done_val = q;
        r->done_val[r->n_done++] = t.result.val_acc;
    }
    return ACT_OK;
}

/* Reject reasons by count, highest first, then by name. */
static int by_count(const void *a, const void *b)
{
    const reason_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(x->reason, y->reason);
}

static int read_journal(report *r, orch_journal *j)
{
    int64_t all[ORCH_TRIAL_COUNT];
    int st = orch_trial_counts(j, r->fidelity, r->main.trials);
    if (st == ACT_OK)
        st = orch_trial_counts(j, NULL, all);
    if (st == ACT_OK)
        st = orch_trial_times(j, r->fidelity, &r->times);
    if (st == ACT_OK)
        st = orch_candidate_each(j, ORCH_CAND_COUNT, on_candidate, r);
    if (st == ACT_OK)
        st = orch_top(j, r->fidelity, r->k, on_top, &r->main);
    for (int i = 0; st == ACT_OK && orch_fidelity_at(i); i++) {
        const orch_fidelity *f = orch_fidelity_at(i);
        board *b = &r->other[r->n_other];
        if (!strcmp(f->name, r->fidelity) || r->n_other == REPORT_MAX_OTHER)
            continue;
        st = orch_trial_counts(j, f->name, b->trials);
        int64_t n = 0;
        for (int k = 0; k < ORCH_TRIAL_COUNT; k++)
            n += b->trials[k];
        if (st != ACT_OK || n == 0)
            continue;
        b->fidelity = f->name;
        b->fid = f;
        r->n_other++;
        st = orch_top(j, f->name, r->k, on_top, b);
        r->failed |= b->failed;
    }
    if (st == ACT_OK)
        st = orch_proposal_each(j, on_proposal, r);
    for (int s = 0; s < ORCH_TRIAL_COUNT; s++)
        r->trials_all += all[s];
    if (st == ACT_OK)
        st = read_done_trials(r, j);
    if (r->n_reasons)
        qsort(r->reasons, r->n_reasons, sizeof *r->reasons, by_count);
    if (r->failed || r->main.failed || st == ACT_ENOMEM) {
        cli_error(r->cmd, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    if (st != ACT_OK) {
        cli_error(r->cmd, "reading the journal: %s", orch_journal_error(j));
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

// ----------------------------------------------------------------------------
// writing files

/* DIR/name into buf; -1 (with the message printed) if it does not fit. */
static int out_path(const report *r, const char *name, char *buf, size_t cap)
{
    if ((size_t)snprintf(buf, cap, "%s/%s", r->dir, name) >= cap) {
        cli_error(r->cmd, "-o '%s': path too long", r->dir);
        return -1;
    }
    return 0;
}

/* leaderboard.csv: byte for byte what `actlab search top -k K --format csv` prints. */
static int write_csv(report *r)
{
    char path[4096], err[1024];
    cli_out o;
    if (out_path(r, "leaderboard.csv", path, sizeof path) != 0)
        return CLI_EXIT_FAILURE;
    if (cli_out_open(&o, path, err, sizeof err) != 0) {
        cli_error(r->cmd, "%s", err);
        return CLI_EXIT_FAILURE;
    }
    search_csv_header(o.f);
    for (size_t i = 0; i < r->main.n_top; i++)
        search_csv_row(o.f, (int)(i + 1), &r->main.top[i].row, r->fidelity);
    if (cli_out_commit(&o, err, sizeof err) != 0) {
        cli_error(r->cmd, "%s", err);
        return CLI_EXIT_FAILURE;
    }
    printf("%s\n", path);
    return CLI_EXIT_OK;
}

static int write_figure(report *r, fig_id id, const plot_figure *fig)
{
    char path[4096], err[1024];
    if (out_path(r, figure_file[id], path, sizeof path) != 0)
        return CLI_EXIT_FAILURE;
    if (plot_write(path, fig, err, sizeof err) != 0) {
        cli_error(r->cmd, "%s", err);
        return CLI_EXIT_FAILURE;
    }
    r->fig_written[id] = 1;
    printf("%s\n", path);
    if (r->png) {   /* for pages that do not take SVG, such as a README's first screen */
        size_t n = strlen(path);
        if (n > 4 && !strcmp(path + n - 4, ".svg")) {
            memcpy(path + n - 4, ".png", 4);
            if (plot_write(path, fig, err, sizeof err) != 0) {
                cli_error(r->cmd, "%s", err);
                return CLI_EXIT_FAILURE;
            }
            printf("%s\n", path);
        }
    }
    return CLI_EXIT_OK;
}

/* The y range of the curves ys[0..n_curves*n), clipped to [-clip, clip] and padded by 5%, in
 * *lo, *hi; returns 1 when clipping cut something off. */
static int clipped_range(const double *ys, size_t count, double clip, double *lo, double *hi)
{
    double a = INFINITY, b = -INFINITY;
    for (size_t i = 0; i < count; i++)
        if (isfinite(ys[i])) {
            a = fmin(a, ys[i]);
            b = fmax(b, ys[i]);
        }
    if (!(a <= b)) {
        a = -1.0;
        b = 1.0;
    }
    int cut = a < -clip || b > clip;
    a = fmax(a, -clip);
    b = fmin(b, clip);
    if (!(a < b)) {
        a -= 1.0;
        b += 1.0;
    }
    double pad = 0.05 * (b - a);
    *lo = a - pad;
    *hi = b + pad;
    return cut;
}

/* f and f' of the top min(K, REPORT_MAX_CURVES) on a grid, in double precision with the betas
 * at their initial values (1): act_expr_forward_d, and act_expr_backward_d with dy = 1. */
static int write_function_figures(report *r)
{
    size_t n = REPORT_GRID;
    size_t want = r->main.n_top < REPORT_MAX_CURVES ? r->main.n_top : REPORT_MAX_CURVES;
    if (want == 0) {
        snprintf(r->fig_note[FIG_FUNCTIONS], sizeof r->fig_note[0],
                 "no finished candidate at fidelity %s yet", r->fidelity);
        snprintf(r->fig_note[FIG_DERIVATIVES], sizeof r->fig_note[0], "%s",
                 r->fig_note[FIG_FUNCTIONS]);
        return CLI_EXIT_OK;
    }
    double *xs = malloc(n * (2 + 2 * want) * sizeof *xs);
    if (!xs) {
        cli_error(r->cmd, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    double *ones = xs + n, *ys = ones + n, *ds = ys + n * want;
    for (size_t i = 0; i < n; i++) {
        xs[i] = REPORT_XMIN + (REPORT_XMAX - REPORT_XMIN) * (double)i / (double)(n - 1);
        ones[i] = 1.0;
    }
    char labels[REPORT_MAX_CURVES][REPORT_LABEL_MAX + 16];
    plot_series sf[REPORT_MAX_CURVES], sd[REPORT_MAX_CURVES];
    size_t m = 0;
    for (size_t c = 0; c < want; c++) {
        const char *canon = r->main.top[c].row.canon;
        act_expr *e = NULL;
        act_expr_prog *p = NULL;
        double *y = ys + m * n, *d = ds + m * n;
        memset(d, 0, n * sizeof *d);
        int st = act_expr_parse(canon, &e, NULL);
        if (st == ACT_OK)
            st = act_expr_compile(e, &p);
        if (st == ACT_OK)
            st = act_expr_forward_d(p, NULL, xs, y, n);
        if (st == ACT_OK)
            st = act_expr_backward_d(p, NULL, xs, ones, d, NULL, n);
        act_expr_prog_free(p);
        act_expr_free(e);
        if (st != ACT_OK) {
            cli_error(r->cmd, "warning: rank %zu '%s' does not evaluate (%s): not drawn", c + 1,
                      canon, act_strerror(st));
            r->n_unparsed++;
            continue;
        }
        size_t len = strlen(canon);
        if (len > REPORT_LABEL_MAX)
            snprintf(labels[m], sizeof labels[m], "%zu. %.*s...", c + 1, REPORT_LABEL_MAX - 3,
                     canon);
        else
            snprintf(labels[m], sizeof labels[m], "%zu. %s", c + 1, canon);
        sf[m] = (plot_series){ .label = labels[m], .x = xs, .y = y, .n = n };
        sd[m] = (plot_series){ .label = labels[m], .x = xs, .y = d, .n = n };
        m++;
    }
    int rc = CLI_EXIT_OK;
    if (m == 0) {
        snprintf(r->fig_note[FIG_FUNCTIONS], sizeof r->fig_note[0], "no top expression "
                 "evaluates");
        snprintf(r->fig_note[FIG_DERIVATIVES], sizeof r->fig_note[0], "no top expression "
                 "evaluates");
        free(xs);
        return rc;
    }
    char title[2][256];
    double lo[2], hi[2];
    int cut[2] = {
        clipped_range(ys, m * n, REPORT_CLIP_F, &lo[0], &hi[0]),
        clipped_range(ds, m * n, REPORT_CLIP_D, &lo[1], &hi[1]),
    };
    const char *what[2] = { "f(x)", "f'(x)" };
    double clip[2] = { REPORT_CLIP_F, REPORT_CLIP_D };
    fig_id fig_of[2] = { FIG_FUNCTIONS, FIG_DERIVATIVES };
    for (int f = 0; f < 2; f++) {
        int at = snprintf(title[f], sizeof title[f], "%s of the top %zu at fidelity %s, "
                          "betas at 1", what[f], m, r->fidelity);
        if (cut[f] && at > 0 && (size_t)at < sizeof title[f])
            snprintf(title[f] + at, sizeof title[f] - (size_t)at, " (y clipped to +-%g)",
                     clip[f]);
        if (cut[f])
            snprintf(r->fig_note[fig_of[f]], sizeof r->fig_note[0], "the y axis is clipped "
                     "to [-%g, %g]", clip[f], clip[f]);
    }
    plot_panel pf = { .kind = PLOT_LINES, .title = title[0], .xlabel = "x", .ylabel = "f(x)",
                      .series = sf, .n_series = (int)m, .xmin = REPORT_XMIN,
                      .xmax = REPORT_XMAX, .ymin = lo[0], .ymax = hi[0],
                      .legend = PLOT_LEGEND_OUTSIDE };
    plot_panel pd = pf;
    pd.title = title[1];
    pd.ylabel = "df/dx";
    pd.series = sd;
    pd.ymin = lo[1];
    pd.ymax = hi[1];
    plot_figure ff = { .panels = &pf, .n_panels = 1, .width = 1280, .height = 560 };
    plot_figure fd = { .panels = &pd, .n_panels = 1, .width = 1280, .height = 560 };
    rc = write_figure(r, FIG_FUNCTIONS, &ff);
    if (rc == CLI_EXIT_OK)
        rc = write_figure(r, FIG_DERIVATIVES, &fd);
    free(xs);
    return rc;
}

/* The strategy's reward per proposal in ticket order: a short tick per proposal (the plot
 * writer draws lines only: two points and a break), the running mean over a trailing window of
 * clamp(n/20, 5, 50) proposals (all n when fewer than 5), and the running best. */
static int write_learning_curve(report *r)
{
    size_t n = r->n_prop;
    const char *strategy = act_strategy_name(r->cfg.strat.kind);
    if (!strategy)
        strategy = "?";
    if (n == 0) {
        snprintf(r->fig_note[FIG_LEARNING], sizeof r->fig_note[0],
                 "no proposal has a reward yet");
        return CLI_EXIT_OK;
    }
    double *tx = malloc((3 * n + 2 * n) * sizeof *tx);
    double *ty = malloc(3 * n * sizeof *ty);
    if (!tx || !ty) {
        free(tx);
        free(ty);
        cli_error(r->cmd, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    double *mean = tx + 3 * n, *best = mean + n;
    size_t w = n / 20;   /* at least 5, so a short search's mean is a mean */
    w = w < 5 ? (n < 5 ? n : 5) : w > 50 ? 50 : w;
    double hw = fmax(0.3, r->prop_x[n - 1] / 400.0);   /* tick half-width, about 2 px */
    double sum = 0.0, top = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = r->prop_x[i], y = r->prop_r[i];
        tx[3 * i] = x - hw;
        tx[3 * i + 1] = x + hw;
        tx[3 * i + 2] = x;
        ty[3 * i] = ty[3 * i + 1] = y;
        ty[3 * i + 2] = NAN;
        sum += y;
        if (i >= w)
            sum -= r->prop_r[i - w];
        mean[i] = sum / (double)(i + 1 < w ? i + 1 : w);
        top = fmax(top, y);
        best[i] = top;
    }
    char lmean[64], title[256], ylabel[128];
    snprintf(lmean, sizeof lmean, "running mean (last %zu)", w);
    snprintf(title, sizeof title, "%s: reward per proposal in %s order", strategy,
             r->cfg.strat.kind == ACT_STRATEGY_EXHAUSTIVE ? "enumeration" : "ticket");
    snprintf(ylabel, sizeof ylabel, "reward (%s)", is_synthetic(r) ? "synthetic score"
                                                                     : "val acc or floor");
    plot_series s[3] = {
        { .label = "reward of a proposal", .x = tx, .y = ty, .n = 3 * n, .color = 8 },
        { .label = lmean, .x = r->prop_x, .y = mean, .n = n, .color = 1 },
        { .label = "running best", .x = r->prop_x, .y = best, .n = n, .color = 4 },
    };
    plot_panel p = { .kind = PLOT_LINES, .title = title, .xlabel = "proposal number",
                     .ylabel = ylabel, .series = s, .n_series = 3,
                     .legend = PLOT_LEGEND_OUTSIDE };
    plot_figure f = { .title = is_synthetic(r) ? SYNTHETIC_NOTE : NULL, .panels = &p,
                      .n_panels = 1, .width = 1080, .height = 540 };
    int rc = write_figure(r, FIG_LEARNING, &f);
    free(tx);
    free(ty);
    return rc;
}

/* A histogram of the val_acc of the done trials at the fidelity: clamp(sqrt(n), 5, 40) equal
 * bins over [min, max], drawn as a step outline. */
static int write_histogram(report *r)
{
    size_t n = r->n_done;
    if (n == 0) {
        snprintf(r->fig_note[FIG_HISTOGRAM], sizeof r->fig_note[0],
                 "no done trial at fidelity %s yet", r->fidelity);
        return CLI_EXIT_OK;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, r->done_val[i]);
        hi = fmax(hi, r->done_val[i]);
    }
    size_t bins = (size_t)ceil(sqrt((double)n));
    bins = bins < 5 ? 5 : bins > 40 ? 40 : bins;
    if (!(hi > lo)) {
        lo -= 0.005;
        hi += 0.005;
    }
    double *count = calloc(bins + 2 * (2 * bins + 2), sizeof *count);
    if (!count) {
        cli_error(r->cmd, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    double *sx = count + bins, *sy = sx + 2 * bins + 2;
    double width = (hi - lo) / (double)bins;
    for (size_t i = 0; i < n; i++) {
        size_t b = (size_t)((r->done_val[i] - lo) / width);
        count[b < bins ? b : bins - 1] += 1.0;
    }
    sx[0] = lo;
    sy[0] = 0.0;
    for (size_t b = 0; b < bins; b++) {
        sx[1 + 2 * b] = lo + width * (double)b;
        sx[2 + 2 * b] = lo + width * (double)(b + 1);
        sy[1 + 2 * b] = sy[2 + 2 * b] = count[b];
    }
    sx[2 * bins + 1] = hi;
    sy[2 * bins + 1] = 0.0;
    char title[256], xlabel[128];
    snprintf(title, sizeof title, "rewards of the %zu done trials at fidelity %s", n,
             r->fidelity);
    snprintf(xlabel, sizeof xlabel, "%s (%zu bins)", is_synthetic(r) ? "synthetic score"
                                                                     : "validation accuracy",
             bins);
    plot_series s = { .x = sx, .y = sy, .n = 2 * bins + 2 };
    plot_panel p = { .kind = PLOT_LINES, .title = title, .xlabel = xlabel, .ylabel = "trials",
                     .series = &s, .n_series = 1, .legend = PLOT_LEGEND_NONE };
    plot_figure f = { .title = is_synthetic(r) ? SYNTHETIC_NOTE : NULL, .panels = &p,
                      .n_panels = 1, .width = 900, .height = 500 };
    int rc = write_figure(r, FIG_HISTOGRAM, &f);
    free(count);
    return rc;
}

/* A figure not drawn this time (nothing to show yet) is removed, so that DIR never shows one
 * from an earlier report beside this index.html. */
static int remove_stale(report *r)
{
    for (int i = 0; i < FIG_COUNT; i++) {
        char path[4096];
        if (r->fig_written[i])
            continue;
        if (out_path(r, figure_file[i], path, sizeof path) != 0)
            return CLI_EXIT_FAILURE;
        if (unlink(path) != 0 && errno != ENOENT) {
            cli_error(r->cmd, "cannot remove the stale '%s': %s", path, strerror(errno));
            return CLI_EXIT_FAILURE;
        }
    }
    return CLI_EXIT_OK;
}

// ----------------------------------------------------------------------------
// index.html and summary.md, through the report writer (report.h)

/* v with 4 decimals into buf, or an em dash when not finite; returns buf. */
static const char *num(char *buf, size_t len, double v)
{
    if (isfinite(v))
        snprintf(buf, len, "%.4f", v);
    else
        snprintf(buf, len, "\u2014");
    return buf;
}

/* t (seconds since the epoch) as "YYYY-MM-DD HH:MM:SS UTC" into buf, or an em dash; returns
 * buf. */
static const char *time_str(char *buf, size_t len, double t)
{
    time_t s = (time_t)t;
    struct tm tm;
    if (!(isfinite(t) && gmtime_r(&s, &tm) && strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm)))
        snprintf(buf, len, "\u2014");
    return buf;
}

static void doc_counts(report_doc *d, const report *r)
{
    enum { NS = ORCH_TRIAL_COUNT };
    char cols[NS + 2], cells[NS + 1][32], t0[64], t1[64];
    const char *head[NS + 1], *row[NS + 1];
    int64_t total = 0;
    for (int s = 0; s < NS; s++) {
        head[s] = orch_trial_state_name((orch_trial_state)s);
        snprintf(cells[s], sizeof cells[s], "%" PRId64, r->main.trials[s]);
        row[s] = cells[s];
        cols[s] = 'r';
        total += r->main.trials[s];
    }
    head[NS] = "total";
    snprintf(cells[NS], sizeof cells[NS], "%" PRId64, total);
    row[NS] = cells[NS];
    cols[NS] = 'r';
    cols[NS + 1] = '\0';
    report_heading(d, 2, "Counts");
    report_heading(d, 3, "Trials by state at fidelity %s", r->fidelity);
    report_table_begin(d, cols, head);
    report_table_row(d, row);
    report_table_end(d);
    if (r->trials_all != total)
        report_para(d, "%" PRId64 " trials at every fidelity.", r->trials_all);
    char wall[64];
    if (isfinite(r->times.sum_wall_s))
        snprintf(wall, sizeof wall, "%.1f s", r->times.sum_wall_s);
    else
        snprintf(wall, sizeof wall, "\u2014");
    report_para(d, "%" PRId64 " finished trials (done or failed_candidate), from %s to %s; "
                "their wall times sum to %s.", r->times.n,
                time_str(t0, sizeof t0, r->times.first_started),
                time_str(t1, sizeof t1, r->times.last_finished), wall);
    report_para(d, "%" PRId64 " strategy proposals (repeats included), %zu with a reward.",
                r->n_proposals, r->n_prop);

    static const char *const vhead[] = { "verdict", "candidates" };
    report_heading(d, 3, "Candidates by verdict");
    report_table_begin(d, "lr", vhead);
    for (int s = ORCH_CAND_COUNT - 1; s >= 0; s--) {
        char n[32];
        snprintf(n, sizeof n, "%" PRId64, r->cand[s]);
        report_table_row(d, (const char *const[]){ orch_cand_status_name((orch_cand_status)s),
                                                   n });
    }
    report_table_end(d);
    if (r->n_reasons) {
        static const char *const rhead[] = { "rejected because", "candidates" };
        report_table_begin(d, "lr", rhead);
        for (size_t i = 0; i < r->n_reasons; i++) {
            char n[32];
            snprintf(n, sizeof n, "%" PRId64, r->reasons[i].n);
            report_table_row(d, (const char *const[]){ r->reasons[i].reason, n });
        }
        report_table_end(d);
    }
}

/* The leaderboard b: the main one (the same rows as leaderboard.csv) or another fidelity's
 * (finalize's seeds; the leaderboard.csv of `search top --fidelity F`). */
static void doc_leaderboard(report_doc *d, const report *r, const board *b)
{
    int synthetic = b->fid && b->fid->synthetic;
    if (b == &r->main) {
        report_heading(d, 2, "Leaderboard");
    } else {
        report_heading(d, 2, "Leaderboard at fidelity %s", b->fidelity);
        report_begin(d, REPORT_PLAIN);
        report_text(d, "Trials:");
        for (int s = 0; s < ORCH_TRIAL_COUNT; s++)
            report_text(d, "%s %s %" PRId64, s ? "," : "",
                        orch_trial_state_name((orch_trial_state)s), b->trials[s]);
        report_text(d, " (another fidelity than the search's: ");
        report_span(d, REPORT_CODE, "actlab search finalize");
        report_text(d, ", for one).");
        report_end(d);
    }
    report_begin(d, REPORT_PLAIN);
    report_text(d, "The top %zu kept candidates at fidelity %s by mean validation accuracy over "
                "seeds", r->k, b->fidelity);
    if (synthetic) {
        report_text(d, " (");
        report_span(d, REPORT_ALERT, "%s", SYNTHETIC_NOTE);
        report_text(d, ": the \u201cval acc\u201d below is that score)");
    }
    if (b == &r->main) {
        report_text(d, "; the same rows as ");
        report_link(d, "leaderboard.csv", "leaderboard.csv");
    }
    report_text(d, ".");
    report_end(d);
    if (b->n_top == 0) {
        report_para(d, "No finished candidate yet.");
        return;
    }
    const char *syn = synthetic ? " (SYNTHETIC)" : "";
    char h_val[64], h_test[64];
    snprintf(h_val, sizeof h_val, "val acc%s", syn);
    snprintf(h_test, sizeof h_test, "test acc%s", syn);
    const char *const head[] = { "rank", "function (canonical)", h_val,
                                 "spread over seeds [min, max] \u00b1 sd", "trials", h_test };
    report_table_begin(d, "rcrrrr", head);
    for (size_t i = 0; i < b->n_top; i++) {
        const orch_top_row *t = &b->top[i].row;
        char rank[32], val[32], lo[32], hi[32], sd[32], spread[128], trials[32], test[96];
        snprintf(rank, sizeof rank, "%zu", i + 1);
        if (t->n_trials >= 2)
            snprintf(spread, sizeof spread, "[%s, %s] \u00b1 %s", num(lo, sizeof lo, t->val_min),
                     num(hi, sizeof hi, t->val_max), num(sd, sizeof sd, t->val_sd));
        else
            snprintf(spread, sizeof spread, "\u2014 (one seed)");
        snprintf(trials, sizeof trials, "%" PRId64, t->n_trials);
        num(lo, sizeof lo, t->test_acc);
        if (isfinite(t->test_acc) && t->n_test >= 2)
            snprintf(test, sizeof test, "%s \u00b1 %s", lo, num(sd, sizeof sd, t->test_sd));
        else
            snprintf(test, sizeof test, "%s", lo);
        report_table_row(d, (const char *const[]){ rank, t->canon, num(val, sizeof val,
                                                                        t->val_acc),
                                                   spread, trials, test });
    }
    report_table_end(d);
}

static void doc_figures(report_doc *d, const report *r)
{
    static const char *const caption[FIG_COUNT] = {
        [FIG_FUNCTIONS] = "f(x) of the top functions of the leaderboard (at most 8) on [-5, 5], "
                          "evaluated in double precision from their canonical text "
                          "(act_expr_forward_d) with every beta at its initial value, 1 "
                          "(forms that differ only in their beta terms coincide there).",
        [FIG_DERIVATIVES] = "f'(x) of the same functions: act_expr_backward_d with dy = 1 "
                            "(kinks take the subgradients of docs/expr-grammar.md).",
        [FIG_LEARNING] = "The strategy's reward for each proposal in ticket order (a tick "
                         "each; rejected candidates get the floor), the running mean over a "
                         "trailing window and the running best. Proposals without a reward "
                         "yet are skipped.",
        [FIG_HISTOGRAM] = "Histogram of the validation accuracy (the reward) of every done "
                          "trial at this fidelity, seeds counted separately.",
    };
    report_heading(d, 2, "Figures");
    for (int i = 0; i < FIG_COUNT; i++) {
        if (!r->fig_written[i]) {
            report_para(d, "No %s: %s.", figure_file[i], r->fig_note[i]);
            continue;
        }
        report_figure_begin(d, figure_file[i]);
        report_text(d, "%s", caption[i]);
        if (i == FIG_LEARNING && r->cfg.strat.kind == ACT_STRATEGY_EXHAUSTIVE)
            report_text(d, " The exhaustive strategy learns nothing: this is the order of "
                        "enumeration.");
        if ((i == FIG_LEARNING || i == FIG_HISTOGRAM) && is_synthetic(r)) {
            report_text(d, " ");
            report_span(d, REPORT_ALERT, "%s.", SYNTHETIC_NOTE);
        }
        if (r->fig_note[i][0])
            report_text(d, " Note: %s.", r->fig_note[i]);
        if ((i == FIG_FUNCTIONS || i == FIG_DERIVATIVES) && r->n_unparsed)
            report_text(d, " %d of the top expressions did not evaluate and are not drawn.",
                        r->n_unparsed);
        report_figure_end(d);
    }
}

/* index.html (self-contained: the figures written above embedded) and summary.md. */
static int write_report(report *r)
{
    char err[1024], title[4200];
    report_doc d;
    snprintf(title, sizeof title, "actlab search report: %s", r->journal);
    if (report_open(&d, r->dir, title, err, sizeof err) != 0) {
        cli_error(r->cmd, "%s", err);
        return CLI_EXIT_FAILURE;
    }
    const char *strategy = act_strategy_name(r->cfg.strat.kind);
    report_heading(&d, 1, "Search report");
    report_begin(&d, REPORT_PLAIN);
    report_text(&d, "Journal ");
    report_span(&d, REPORT_CODE, "%s", r->journal);
    report_text(&d, ": strategy %s, space %s, %d unit%s, seed %" PRIu64 ", fidelity %s.",
                strategy ? strategy : "?", r->cfg.space, r->cfg.strat.n_units,
                r->cfg.strat.n_units == 1 ? "" : "s", r->cfg.seed, r->fidelity);
    report_end(&d);
    if (is_synthetic(r)) {
        report_begin(&d, REPORT_ALERT);
        report_text(&d, "%s. Every reward, accuracy and rank in this report is a synthetic "
                    "score computed from the function's shape: it says nothing about how the "
                    "function trains.", SYNTHETIC_NOTE);
        report_end(&d);
    }

    report_heading(&d, 2, "Fidelity");
    report_begin(&d, REPORT_PLAIN);
    report_span(&d, REPORT_CODE, "%s", r->fidelity);
    report_text(&d, ": ");
    if (!r->fid) {
        report_text(&d, "not a fidelity of this actlab (no trial can have it).");
    } else {
        if (r->fid->synthetic) {
            report_span(&d, REPORT_ALERT, "%s", SYNTHETIC_NOTE);
            report_text(&d, ". ");
        }
        report_text(&d, "%s", r->fid->help);
    }
    report_end(&d);

    doc_counts(&d, r);
    doc_leaderboard(&d, r, &r->main);
    for (int i = 0; i < r->n_other; i++)
        doc_leaderboard(&d, r, &r->other[i]);
    doc_figures(&d, r);
    report_heading(&d, 2, "Configuration");
    report_para(&d, "As stored in the journal (the keys: docs/search.md, "
                "\u201cConfiguration\u201d).");
    report_pre(&d, r->cfg_text);
    if (report_commit(&d, err, sizeof err) != 0) {
        cli_error(r->cmd, "%s", err);
        return CLI_EXIT_FAILURE;
    }
    printf("%s\n%s\n", d.html_path, d.md_path);
    return CLI_EXIT_OK;
}

// ----------------------------------------------------------------------------
// the command

int search_report(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "fidelity", required_argument, NULL, 'F' },
        { "png", no_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    report r = { .cmd = "search report", .k = REPORT_TOP_DEFAULT };
    long k;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            r.dir = optarg;
            break;
        case 'k':
            if (cli_parse_long(optarg, &k) != 0 || k < 1) {
                cli_error(r.cmd, "-k must be >= 1, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            r.k = (size_t)k;
            break;
        case 'F':
            r.fidelity = optarg;
            break;
        case 'P':
            r.png = 1;
            break;
        case 'h':
            print_usage(stdout);
            return CLI_EXIT_OK;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error(r.cmd, "usage: actlab search report FILE -o DIR [-k K] [--fidelity F]");
        return CLI_EXIT_USAGE;
    }
    if (!r.dir) {
        cli_error(r.cmd, "-o DIR is required");
        return CLI_EXIT_USAGE;
    }
    r.journal = argv[optind];

    orch_journal *j = NULL;
    act_diag d;
    int st = orch_journal_open(r.journal, 0, &j, &d);
    if (st != ACT_OK) {
        cli_error(r.cmd, "'%s': %s", r.journal, d.msg);
        return st == ACT_EIO ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
    }
    char *strings = NULL;
    if (orch_search_config_read(orch_journal_config_text(j), &r.cfg, &strings, &d) != ACT_OK) {
        cli_error(r.cmd, "'%s': the stored search configuration does not read back: %s",
                  r.journal, d.msg);
        orch_journal_close(j);
        return CLI_EXIT_USAGE;
    }
    if (!r.fidelity)
        r.fidelity = r.cfg.fidelity;
    r.fid = orch_fidelity_lookup(r.fidelity);
    r.main.fidelity = r.fidelity;
    r.main.fid = r.fid;
    r.cfg_text = orch_journal_config_text(j);
    // the input is good: make the directory, then read and write
    int rc = cli_check_output(r.cmd, "-o", r.dir, 1);
    if (rc == CLI_EXIT_OK)
        rc = read_journal(&r, j);
    if (rc == CLI_EXIT_OK)
        rc = write_csv(&r);
    if (rc == CLI_EXIT_OK)
        rc = write_function_figures(&r);
    if (rc == CLI_EXIT_OK)
        rc = write_learning_curve(&r);
    if (rc == CLI_EXIT_OK)
        rc = write_histogram(&r);
    if (rc == CLI_EXIT_OK)
        rc = remove_stale(&r);
    if (rc == CLI_EXIT_OK)
        rc = write_report(&r);
    orch_journal_close(j);
    free(strings);
    free_report(&r);
    return rc;
}
