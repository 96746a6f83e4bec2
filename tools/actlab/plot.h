/* plot.h -- a small figure writer over PLplot, shared by the CLI commands (plot, demo, compare).
 *
 * A figure is one or more panels laid out in a grid under an optional title. A panel is either
 * a line chart (several series, legend, axis labels, title) or a grouped bar chart (one bar per
 * category and series, optional error bars). The output format follows the file extension:
 * ".svg" (PLplot's svg driver) or ".png" (its pngcairo driver).
 *
 *     double x[N], y[N];                      // fill ...
 *     plot_series s = { .label = "swish", .x = x, .y = y, .n = N };
 *     plot_panel  p = { .kind = PLOT_LINES, .title = "f(x)", .xlabel = "x", .ylabel = "f(x)",
 *                       .series = &s, .n_series = 1 };
 *     plot_figure f = { .panels = &p, .n_panels = 1 };
 *     char err[256];
 *     if (plot_write("out/swish.png", &f, err, sizeof err) != 0)
 *         fprintf(stderr, "%s\n", err);
 *
 * Zero-initialised fields mean "automatic" throughout, so designated initialisers suffice.
 * plot_write never prints; PLplot's own messages are intercepted and returned in err.
 * PLplot keeps process-wide state, so plot_write is not thread-safe.
 */
#ifndef ACTLAB_PLOT_H
#define ACTLAB_PLOT_H

#include <stddef.h>

#define PLOT_PALETTE_SIZE 10    /* distinct series colours before they repeat */

typedef enum plot_kind {
    PLOT_LINES,                 /* y against x, one polyline per series */
    PLOT_BARS,                  /* grouped bars: categories along x, one bar per series */
} plot_kind;

typedef enum plot_legend {
    PLOT_LEGEND_AUTO,           /* the default (0): the inside corner covering the fewest points */
    PLOT_LEGEND_TOP_LEFT,
    PLOT_LEGEND_TOP_RIGHT,
    PLOT_LEGEND_BOTTOM_LEFT,
    PLOT_LEGEND_BOTTOM_RIGHT,
    PLOT_LEGEND_OUTSIDE,        /* to the right of the panel, outside the axes */
    PLOT_LEGEND_NONE,
} plot_legend;

/* One data series; borrowed, read during plot_write only. */
typedef struct plot_series {
    const char   *label;    /* legend text; NULL: not in the legend */
    const double *x;        /* lines: n x values; bars: unused */
    const double *y;        /* lines: n y values, non-finite ones break the line;
                               bars: one height per category */
    const double *err;      /* error-bar half-widths, n of them, or NULL for none */
    size_t        n;        /* lines: points; bars: must equal the panel's n_categories */
    int           color;    /* 0: the series' position in the palette; k >= 1: entry k-1 */
    int           dashed;   /* lines: dashed stroke */
} plot_series;

typedef struct plot_panel {
    plot_kind          kind;
    const char        *title;           /* above the axes; NULL: none */
    const char        *xlabel;          /* NULL: none */
    const char        *ylabel;          /* NULL: none */
    const plot_series *series;
    int                n_series;        /* >= 1 */
    const char *const *categories;      /* bars: the n_categories labels along x */
    int                n_categories;
    double             xmin, xmax;      /* lines: x range; equal: from the data */
    double             ymin, ymax;      /* y range; equal: from the data (bars include 0) */
    int                log_y;           /* logarithmic y axis; values <= 0 are not drawn */
    plot_legend        legend;
} plot_panel;

typedef struct plot_figure {
    const char       *title;            /* above all panels; NULL: none */
    const plot_panel *panels;
    int               n_panels;         /* >= 1 */
    int               cols;             /* panels per row; 0: all in one row */
    int               width, height;    /* pixels for PNG, points for SVG; 0: 720 per column
                                           and 540 per row */
} plot_figure;

/* The PLplot device for path's extension ("svg", "pngcairo"), or NULL if unsupported. */
const char *plot_device(const char *path);

/*
 * Draws fig into path, atomically (cli_out_open / cli_out_commit of cli.h): PLplot writes a
 * temporary file with a unique name in path's directory, which is checked to be whole (a PNG
 * ends with its IEND chunk, an SVG with "</svg>": PLplot ignores its own write errors), synced
 * and renamed over path; on failure it is removed and path is untouched. A path that exists and
 * is not a regular file (/dev/stdout) is written in place. Returns 0, or -1 with a one-line
 * message naming path (no trailing newline) in err[0..err_len).
 */
int plot_write(const char *path, const plot_figure *fig, char *err, size_t err_len);

#endif
