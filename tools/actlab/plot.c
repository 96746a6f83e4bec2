/* plot.c -- line and bar figures written with PLplot (see plot.h). Layout is computed in
 * millimetres from the character height, so figures of any size keep readable margins.
 * PLplot's error and abort hooks are redirected into the caller's message buffer. */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <plplot.h>

#include "cli.h"
#include "plot.h"

// ----------------------------------------------------------------------------
// colours: cmap0 entries

enum {
    COL_BG    = 0,                      /* white page */
    COL_FG    = 1,                      /* axes, text, bar outlines */
    COL_GRID  = 2,                      /* grid lines */
    COL_ZERO  = 3,                      /* x = 0 and y = 0 lines */
    COL_FIRST = 4,                      /* series palette starts here */
    COL_COUNT = COL_FIRST + PLOT_PALETTE_SIZE,
};

/* Tableau 10: distinct and readable for colour-blind viewers, on white. */
static const unsigned char palette[COL_COUNT][3] = {
    { 255, 255, 255 }, { 0, 0, 0 }, { 225, 225, 225 }, { 150, 150, 150 },
    { 31, 119, 180 }, { 255, 127, 14 }, { 44, 160, 44 }, { 214, 39, 40 }, { 148, 103, 189 },
    { 140, 86, 75 }, { 227, 119, 194 }, { 127, 127, 127 }, { 188, 189, 34 }, { 23, 190, 207 },
};

#define LINE_WIDTH     2.5   /* series stroke, in PLplot width units */
#define LEGEND_SCALE   0.7   /* legend text size, relative to the axis labels */
#define LEGEND_SPACING 1.8   /* legend line pitch, in character heights */

static int series_color(const plot_series *s, int index)
{
    int k = s->color > 0 ? s->color - 1 : index;
    return COL_FIRST + k % PLOT_PALETTE_SIZE;
}

// ----------------------------------------------------------------------------
// PLplot error hooks: plexit() would print and exit(), plabort() would print. Both are caught
// here; PLplot's state is process-wide, so this is too.

static jmp_buf plot_jmp;
static char    plot_msg[256];
static int     plot_aborted;

static int on_plexit(PLCHAR_VECTOR msg)
{
    snprintf(plot_msg, sizeof plot_msg, "PLplot: %s", msg ? msg : "fatal error");
    longjmp(plot_jmp, 1);
}

static void on_plabort(PLCHAR_VECTOR msg)
{
    if (!plot_aborted)
        snprintf(plot_msg, sizeof plot_msg, "PLplot: %s", msg ? msg : "operation aborted");
    plot_aborted = 1;
}

// ----------------------------------------------------------------------------
// helpers

/* PLplot reads '#' as an escape character (#u, #gb, ...): double it so text stays literal. */
static const char *esc(const char *s, char *buf, size_t len)
{
    size_t j = 0;
    for (; s && *s && j + 2 < len; s++) {
        if (*s == '#')
            buf[j++] = '#';
        buf[j++] = *s;
    }
    buf[j] = '\0';
    return buf;
}

/* Text scale, at most `scale`, at which `text` fits in `width` mm; sans glyphs average about
 * 0.7 character heights (ch, mm) wide. */
static double fit_scale(const char *text, double width, double ch, double scale)
{
    double need = 0.7 * ch * (double)strlen(text);
    return need * scale > 0.95 * width ? 0.95 * width / need : scale;
}

static int has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), m = strlen(ext);
    if (n <= m)
        return 0;
    for (size_t i = 0; i < m; i++) {
        char c = path[n - m + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != ext[i])
            return 0;
    }
    return 1;
}

const char *plot_device(const char *path)
{
    if (has_ext(path, ".svg"))
        return "svg";
    if (has_ext(path, ".png"))
        return "pngcairo";
    return NULL;
}

/* 1 if this PLplot has device `dev` (asking plinit() for a missing one reads stdin). */
static int device_available(const char *dev)
{
    PLINT n = 128;
    PLCHAR_VECTOR menu[128], names[128];
    PLCHAR_VECTOR *pm = menu, *pn = names;
    plgDevs(&pm, &pn, &n);
    for (PLINT i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], dev) == 0)
            return 1;
    return 0;
}

/* y value as drawn: log10 on a log axis (non-positive values become NaN). */
static double ty(const plot_panel *p, double y)
{
    if (!p->log_y)
        return y;
    return y > 0.0 ? log10(y) : NAN;
}

static int check_figure(const plot_figure *fig, char *err, size_t err_len)
{
    if (!fig || !fig->panels || fig->n_panels < 1 || fig->cols < 0) {
        snprintf(err, err_len, "invalid figure: no panels");
        return -1;
    }
    for (int i = 0; i < fig->n_panels; i++) {
        const plot_panel *p = &fig->panels[i];
        if (!p->series || p->n_series < 1) {
            snprintf(err, err_len, "invalid figure: panel %d has no series", i + 1);
            return -1;
        }
        for (int k = 0; k < p->n_series; k++) {
            const plot_series *s = &p->series[k];
            if (!s->y || (p->kind == PLOT_LINES && !s->x)) {
                snprintf(err, err_len, "invalid figure: panel %d series %d has no data", i + 1,
                         k + 1);
                return -1;
            }
            if (p->kind == PLOT_BARS && (s->n != (size_t)p->n_categories || !p->categories)) {
                snprintf(err, err_len, "invalid figure: panel %d series %d has %zu bars for %d "
                         "categories", i + 1, k + 1, s->n, p->n_categories);
                return -1;
            }
        }
    }
    return 0;
}

// ----------------------------------------------------------------------------
// ranges

typedef struct range { double x0, x1, y0, y1; } range;

static range panel_range(const plot_panel *p)
{
    range r = { INFINITY, -INFINITY, INFINITY, -INFINITY };
    for (int k = 0; k < p->n_series; k++) {
        const plot_series *s = &p->series[k];
        for (size_t i = 0; i < s->n; i++) {
            double e = s->err && isfinite(s->err[i]) ? fabs(s->err[i]) : 0.0;
            double lo = ty(p, s->y[i] - e), hi = ty(p, s->y[i] + e), y = ty(p, s->y[i]);
            if (!isfinite(y))
                continue;
            if (!isfinite(lo))
                lo = y;
            r.y0 = fmin(r.y0, fmin(lo, y));
            r.y1 = fmax(r.y1, fmax(hi, y));
            if (p->kind == PLOT_LINES && isfinite(s->x[i])) {
                r.x0 = fmin(r.x0, s->x[i]);
                r.x1 = fmax(r.x1, s->x[i]);
            }
        }
    }
    if (p->kind == PLOT_BARS) {
        r.x0 = -0.5;
        r.x1 = p->n_categories - 0.5;
        if (!p->log_y) {
            r.y0 = fmin(r.y0, 0.0);
            r.y1 = fmax(r.y1, 0.0);
        }
    }
    if (p->xmin != p->xmax && p->kind == PLOT_LINES) {
        r.x0 = p->xmin;
        r.x1 = p->xmax;
    }
    if (!(r.x0 < r.x1)) {
        r.x0 = isfinite(r.x0) ? r.x0 - 1.0 : -1.0;
        r.x1 = r.x0 + 2.0;
    }
    if (p->ymin != p->ymax) {
        r.y0 = ty(p, p->ymin);
        r.y1 = ty(p, p->ymax);
    } else {
        if (!(r.y0 < r.y1)) {
            r.y0 = isfinite(r.y0) ? r.y0 - 1.0 : -1.0;
            r.y1 = r.y0 + 2.0;
        }
        double pad = 0.05 * (r.y1 - r.y0);
        if (!(p->kind == PLOT_BARS && r.y0 == 0.0))
            r.y0 -= pad;
        r.y1 += pad;
    }
    return r;
}

// ----------------------------------------------------------------------------
// drawing

static void draw_lines(const plot_panel *p)
{
    for (int k = 0; k < p->n_series; k++) {
        const plot_series *s = &p->series[k];
        double *y = malloc((s->n ? s->n : 1) * sizeof *y);
        if (!y) {
            on_plabort("out of memory");
            return;
        }
        for (size_t i = 0; i < s->n; i++)
            y[i] = ty(p, s->y[i]);
        plcol0(series_color(s, k));
        pllsty(s->dashed ? 3 : 1);
        plwidth(LINE_WIDTH);
        for (size_t i = 0; i < s->n;) {             // one polyline per finite run
            while (i < s->n && !(isfinite(s->x[i]) && isfinite(y[i])))
                i++;
            size_t j = i;
            while (j < s->n && isfinite(s->x[j]) && isfinite(y[j]))
                j++;
            if (j - i >= 2)
                plline((PLINT)(j - i), s->x + i, y + i);
            i = j;
        }
        if (s->err) {
            plwidth(1.0);
            pllsty(1);
            for (size_t i = 0; i < s->n; i++) {
                double lo = ty(p, s->y[i] - s->err[i]), hi = ty(p, s->y[i] + s->err[i]);
                if (isfinite(s->x[i]) && isfinite(lo) && isfinite(hi))
                    plerry(1, &s->x[i], &lo, &hi);
            }
        }
        free(y);
    }
    pllsty(1);
    plwidth(1.0);
}

static void draw_bars(const plot_panel *p, double base)
{
    double w = 0.8 / p->n_series;
    for (int k = 0; k < p->n_series; k++) {
        const plot_series *s = &p->series[k];
        for (size_t i = 0; i < s->n; i++) {
            double y = ty(p, s->y[i]);
            if (!isfinite(y))
                continue;
            double x0 = (double)i - 0.4 + k * w, x1 = x0 + w * 0.92;
            double bx[5] = { x0, x1, x1, x0, x0 }, by[5] = { base, base, y, y, base };
            plcol0(series_color(s, k));
            plfill(4, bx, by);
            plcol0(COL_FG);
            plline(5, bx, by);
            if (s->err && isfinite(s->err[i])) {
                double xm = 0.5 * (x0 + x1);
                double lo = ty(p, s->y[i] - fabs(s->err[i])), hi = ty(p, s->y[i] + fabs(s->err[i]));
                if (!isfinite(lo))
                    lo = y;
                plwidth(1.5);
                plerry(1, &xm, &lo, &hi);
                plwidth(1.0);
            }
        }
    }
}

/* Longest legend label of p, in characters. */
static size_t longest_label(const plot_panel *p)
{
    size_t n = 0;
    for (int k = 0; k < p->n_series; k++)
        if (p->series[k].label && strlen(p->series[k].label) > n)
            n = strlen(p->series[k].label);
    return n;
}

/* Width in mm of the legend box: line sample (0.06 of the axes), gaps, widest label. PLplot
 * sizes the box with its Hershey metrics, about 0.8 character heights per character. */
static double legend_width(const plot_panel *p, double vw, double ch)
{
    return 0.06 * vw + (2.5 + 0.8 * LEGEND_SCALE * (double)longest_label(p)) * ch;
}

/* The inside corner whose legend-sized box covers the fewest data points: legend w x h is
 * estimated from the label count and length, as fractions of the viewport (vw x vh mm). */
static plot_legend auto_legend(const plot_panel *p, range r, int m, double vw, double vh,
                               double ch, long *covered)
{
    double w = legend_width(p, vw, ch) / vw;
    double h = ((double)m * LEGEND_SPACING * LEGEND_SCALE + 1.0) * ch / vh;
    long count[4] = { 0, 0, 0, 0 };             // TL, TR, BL, BR
    for (int k = 0; k < p->n_series; k++) {
        const plot_series *s = &p->series[k];
        for (size_t i = 0; i < s->n; i++) {
            double y = ty(p, s->y[i]);
            double u = p->kind == PLOT_BARS ? ((double)i + 0.5) / (double)s->n
                                            : (s->x[i] - r.x0) / (r.x1 - r.x0);
            double v = (y - r.y0) / (r.y1 - r.y0);
            if (!isfinite(u) || !isfinite(v))
                continue;
            if (p->kind == PLOT_BARS && v > 0.0)
                v = 1.0 - 1e-9;                  // a bar fills everything below its top
            for (double vv = v; vv >= 0.0; vv = p->kind == PLOT_BARS ? vv - h / 2 : -1.0) {
                count[0] += u < w + 0.02 && vv > 1.0 - h - 0.02;
                count[1] += u > 1.0 - w - 0.02 && vv > 1.0 - h - 0.02;
                count[2] += u < w + 0.02 && vv < h + 0.02;
                count[3] += u > 1.0 - w - 0.02 && vv < h + 0.02;
            }
        }
    }
    static const plot_legend corner[4] = { PLOT_LEGEND_TOP_LEFT, PLOT_LEGEND_TOP_RIGHT,
                                           PLOT_LEGEND_BOTTOM_LEFT, PLOT_LEGEND_BOTTOM_RIGHT };
    int best = 0;
    for (int c = 1; c < 4; c++)
        if (count[c] < count[best])
            best = c;
    *covered = count[best];
    return corner[best];
}

static int n_labels(const plot_panel *p)
{
    int n = 0;
    for (int k = 0; k < p->n_series; k++)
        n += p->series[k].label != NULL;
    return n;
}

/* Draws the legend of p at `where` (resolved: not PLOT_LEGEND_AUTO). */
static void draw_legend(const plot_panel *p, plot_legend where)
{
    if (where == PLOT_LEGEND_NONE || n_labels(p) == 0)
        return;

    PLINT opt[64], tcol[64], bcol[64], bpat[64], lcol[64], lsty[64];
    PLFLT bscale[64], bwidth[64], lwidth[64];
    char text[64][128];
    PLCHAR_VECTOR textp[64];
    int m = 0;
    for (int k = 0; k < p->n_series && m < 64; k++) {
        const plot_series *s = &p->series[k];
        if (!s->label)
            continue;
        opt[m] = p->kind == PLOT_BARS ? PL_LEGEND_COLOR_BOX : PL_LEGEND_LINE;
        tcol[m] = COL_FG;
        bcol[m] = lcol[m] = series_color(s, k);
        bpat[m] = 0;
        bscale[m] = 1.0;
        bwidth[m] = 1.0;
        lsty[m] = s->dashed ? 3 : 1;
        lwidth[m] = LINE_WIDTH;
        textp[m] = esc(s->label, text[m], sizeof text[m]);
        m++;
    }
    PLINT pos = PL_POSITION_TOP | PL_POSITION_LEFT;
    switch (where) {
    case PLOT_LEGEND_TOP_RIGHT:    pos = PL_POSITION_TOP | PL_POSITION_RIGHT; break;
    case PLOT_LEGEND_BOTTOM_LEFT:  pos = PL_POSITION_BOTTOM | PL_POSITION_LEFT; break;
    case PLOT_LEGEND_BOTTOM_RIGHT: pos = PL_POSITION_BOTTOM | PL_POSITION_RIGHT; break;
    case PLOT_LEGEND_OUTSIDE:      pos = PL_POSITION_RIGHT | PL_POSITION_OUTSIDE; break;
    case PLOT_LEGEND_AUTO:                     // resolved by the caller
    case PLOT_LEGEND_TOP_LEFT:
    case PLOT_LEGEND_NONE:         break;
    }
    if (where != PLOT_LEGEND_OUTSIDE)
        pos |= PL_POSITION_INSIDE;
    PLFLT lw, lh;
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, pos, 0.02, 0.02, 0.06,
             COL_BG, COL_GRID, 1, 0, 0, m, opt, 0.6, LEGEND_SCALE, LEGEND_SPACING, 0.0, tcol,
             textp, bcol, bpat, bscale, bwidth, lcol, lsty, lwidth, NULL, NULL, NULL, NULL);
}

/* Draws panel p into the cell [cx0, cx1] x [cy0, cy1] (mm); ch is the character height. */
static void draw_panel(const plot_panel *p, double cx0, double cx1, double cy0, double cy1,
                       double ch)
{
    char buf[3][256];
    size_t maxcat = 0;
    for (int i = 0; p->kind == PLOT_BARS && i < p->n_categories; i++)
        if (p->categories[i] && strlen(p->categories[i]) > maxcat)
            maxcat = strlen(p->categories[i]);
    double cell_w = cx1 - cx0;
    int vertical = p->kind == PLOT_BARS &&
                   (double)maxcat * 0.65 * ch * p->n_categories > 0.8 * cell_w;

    double left = 7.5 * ch, right = 2.0 * ch, top = (p->title ? 3.5 : 1.5) * ch;
    double bottom = (p->xlabel ? 4.5 : 3.0) * ch;
    if (vertical)
        bottom = (2.0 + 0.6 * (double)maxcat + (p->xlabel ? 2.0 : 0.0)) * ch;
    // An automatic legend goes outside when every inside corner would hide more than 2% of
    // the points.
    range r = panel_range(p);
    plot_legend where = n_labels(p) ? p->legend : PLOT_LEGEND_NONE;
    if (where == PLOT_LEGEND_AUTO) {
        long covered = 0, total = 0;
        for (int k = 0; k < p->n_series; k++)
            total += (long)p->series[k].n;
        where = auto_legend(p, r, n_labels(p), cx1 - cx0 - left - right,
                            cy1 - cy0 - bottom - top, ch, &covered);
        if (covered > total / 50)
            where = PLOT_LEGEND_OUTSIDE;
    }
    if (where == PLOT_LEGEND_OUTSIDE)
        right = legend_width(p, cx1 - cx0 - left - right, ch) + 1.5 * ch;
    plsvpa(cx0 + left, cx1 - right, cy0 + bottom, cy1 - top);

    plwind(r.x0, r.x1, r.y0, r.y1);
    const char *yopt_grid = p->log_y ? "gl" : "g";
    plcol0(COL_GRID);
    plwidth(1.0);
    plbox(p->kind == PLOT_BARS ? "" : "g", 0.0, 0, yopt_grid, 0.0, 0);
    plcol0(COL_ZERO);
    if (p->kind == PLOT_LINES && r.x0 < 0.0 && r.x1 > 0.0) {
        double zx[2] = { 0.0, 0.0 }, zy[2] = { r.y0, r.y1 };
        plline(2, zx, zy);
    }
    if (!p->log_y && r.y0 < 0.0 && r.y1 > 0.0) {
        double zx[2] = { r.x0, r.x1 }, zy[2] = { 0.0, 0.0 };
        plline(2, zx, zy);
    }

    if (p->kind == PLOT_BARS)
        draw_bars(p, p->log_y ? r.y0 : 0.0);
    else
        draw_lines(p);

    plcol0(COL_FG);
    plwidth(1.0);
    plbox(p->kind == PLOT_BARS ? "bc" : "bcnst", 0.0, 0, p->log_y ? "bcnstvl" : "bcnstv", 0.0, 0);
    if (p->kind == PLOT_BARS) {
        for (int i = 0; i < p->n_categories; i++) {
            double at = (i + 0.5) / p->n_categories;
            const char *t = esc(p->categories[i], buf[0], sizeof buf[0]);
            if (vertical)
                plmtex("bv", 0.7, at, 1.0, t);
            else
                plmtex("b", 1.6, at, 0.5, t);
        }
    }
    if (p->xlabel)
        plmtex("b", vertical ? 1.2 + 0.6 * (double)maxcat + 1.2 : 3.2, 0.5, 0.5,
               esc(p->xlabel, buf[0], sizeof buf[0]));
    if (p->ylabel)
        plmtex("l", 5.5, 0.5, 0.5, esc(p->ylabel, buf[1], sizeof buf[1]));
    if (p->title) {
        plschr(0.0, fit_scale(p->title, cx1 - cx0, ch, 1.1));
        plmtex("t", 1.2, 0.5, 0.5, esc(p->title, buf[2], sizeof buf[2]));
        plschr(0.0, 1.0);
    }
    draw_legend(p, where);
}

/* Everything between plinit() and plend(); PLplot failures longjmp out of here. */
static void draw_figure(const plot_figure *fig)
{
    pladv(0);
    plschr(0.0, 1.0);
    PLFLT px0, px1, py0, py1, def, ch;
    plgspa(&px0, &px1, &py0, &py1);
    plgchr(&def, &ch);

    int cols = fig->cols > 0 ? fig->cols : fig->n_panels;
    int rows = (fig->n_panels + cols - 1) / cols;
    double title_h = fig->title ? 3.0 * ch : 0.0;
    double cw = (px1 - px0) / cols, rh = (py1 - py0 - title_h) / rows;
    if (fig->title) {
        char buf[256];
        plsvpa(px0, px1, py1 - title_h, py1);
        plcol0(COL_FG);
        plschr(0.0, fit_scale(fig->title, px1 - px0, ch, 1.3));
        plmtex("t", -1.6, 0.5, 0.5, esc(fig->title, buf, sizeof buf));
        plschr(0.0, 1.0);
    }
    for (int i = 0; i < fig->n_panels; i++) {
        int r = i / cols, c = i % cols;
        double x0 = px0 + c * cw, y1 = py1 - title_h - r * rh;
        draw_panel(&fig->panels[i], x0, x0 + cw, y1 - rh, y1, ch);
    }
}

// ----------------------------------------------------------------------------
// plot_write

/*
 * PLplot's drivers do not report write errors (a full disk, a file size limit): check that the
 * file they wrote is whole. A PNG ends with its IEND chunk, an SVG with "</svg>". Returns 0, or
 * -1 with "cannot write 'PATH': ..." in err.
 */
static int check_complete(const char *name, const char *dev, const char *path, char *err,
                          size_t err_len)
{
    static const unsigned char iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60,
                                            0x82 };
    unsigned char tail[64];
    size_t n = 0;
    long size = -1;
    FILE *f = fopen(name, "rb");
    if (f && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0) {
        long at = size > (long)sizeof tail ? size - (long)sizeof tail : 0;
        if (fseek(f, at, SEEK_SET) == 0)
            n = fread(tail, 1, sizeof tail, f);
    }
    if (f)
        fclose(f);
    int ok;
    if (strcmp(dev, "svg") == 0) {
        while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r' || tail[n - 1] == ' '))
            n--;
        ok = n >= 6 && memcmp(tail + n - 6, "</svg>", 6) == 0;
    } else {
        ok = n >= sizeof iend && memcmp(tail + n - sizeof iend, iend, sizeof iend) == 0;
    }
    if (ok)
        return 0;
    if (size <= 0)
        snprintf(err, err_len, "cannot write '%s': PLplot produced no output", path);
    else
        snprintf(err, err_len, "cannot write '%s': PLplot's %s driver stopped after %ld bytes "
                 "(disk full or file size limit?)", path, dev, size);
    return -1;
}

int plot_write(const char *path, const plot_figure *fig, char *err, size_t err_len)
{
    const char *dev = path ? plot_device(path) : NULL;
    if (!dev) {
        snprintf(err, err_len, "unsupported output file '%s': the name must end in .svg or .png",
                 path ? path : "(null)");
        return -1;
    }
    if (check_figure(fig, err, err_len) != 0)
        return -1;

    plsexit(on_plexit);
    plsabort(on_plabort);
    if (!device_available(dev)) {
        snprintf(err, err_len, "this PLplot has no '%s' driver (for PNG install the cairo "
                 "driver, Debian package plplot-driver-cairo)", dev);
        return -1;
    }

    cli_out o;                                      // not changed after setjmp below
    if (cli_out_open(&o, path, err, err_len) != 0)
        return -1;

    int cols = fig->cols > 0 ? fig->cols : fig->n_panels;
    int rows = (fig->n_panels + cols - 1) / cols;
    PLINT w = fig->width > 0 ? fig->width : 720 * cols;
    PLINT h = fig->height > 0 ? fig->height : 540 * rows;

    plot_aborted = 0;
    plot_msg[0] = '\0';
    if (setjmp(plot_jmp) != 0) {
        snprintf(err, err_len, "cannot draw '%s': %s", path, plot_msg);
        cli_out_abort(&o);
        return -1;
    }
    PLINT r[COL_COUNT], g[COL_COUNT], b[COL_COUNT];
    for (int i = 0; i < COL_COUNT; i++) {
        r[i] = palette[i][0];
        g[i] = palette[i][1];
        b[i] = palette[i][2];
    }
    plsdev(dev);
    plsfnam(o.name);                                // PLplot opens and writes it by name
    plspage(0.0, 0.0, w, h, 0, 0);
    plscmap0(r, g, b, COL_COUNT);
    plinit();
    draw_figure(fig);
    plend();

    if (plot_aborted) {
        snprintf(err, err_len, "cannot draw '%s': %s", path, plot_msg);
        cli_out_abort(&o);
        return -1;
    }
    if (o.tmp && check_complete(o.tmp, dev, path, err, err_len) != 0) {
        cli_out_abort(&o);
        return -1;
    }
    return cli_out_commit(&o, err, err_len);    // fsync, then rename over path
}
