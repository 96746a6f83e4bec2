/* report.h -- the report writer shared by `actlab study report` and `actlab search report`: one
 * self-contained HTML page, DIR/index.html (every figure embedded as a data: URI, so the page
 * opens offline and on its own), and its Markdown companion, DIR/summary.md (the same headings,
 * text and tables; figures linked to their files in DIR). Both files are written atomically
 * (cli_out_open / cli_out_commit of cli.h): old or whole, never half.
 *
 *     report_doc d;
 *     if (report_open(&d, dir, "my report", err, sizeof err) != 0) ...   // nothing to release
 *     report_heading(&d, 1, "Search report");
 *     report_begin(&d, REPORT_PLAIN);
 *     report_text(&d, "Journal ");
 *     report_span(&d, REPORT_CODE, "%s", path);
 *     report_end(&d);
 *     static const char *const head[] = { "rank", "function" };
 *     report_table_begin(&d, "rc", head);                 // a numeric and a code column
 *     report_table_row(&d, (const char *const[]){ "1", "x*sigmoid(x)" });
 *     report_table_end(&d);
 *     report_figure(&d, "top_functions.svg", "f(x) of the top functions.");  // DIR/FILE read
 *     if (report_commit(&d, err, sizeof err) != 0) ...     // the first error of any call above
 *
 * The page carries a script that, once the page has loaded, sets the attribute
 * data-figures-loaded="k/n" on <body>: k of the n images decoded (what tests/cli check in a
 * headless browser). Text is escaped for HTML (cli_html); in Markdown it is written as given
 * (the reports' text is prose and numbers), except that a '|' in a table cell is escaped.
 *
 * Errors are sticky: the calls between report_open and report_commit return nothing; the first
 * failure (a figure that cannot be read, out of memory, a call out of order) makes every later
 * call a no-op and is returned by report_commit, which then writes neither file. Not
 * thread-safe; one report_doc per pair of files.
 */
#ifndef ACTLAB_REPORT_H
#define ACTLAB_REPORT_H

#include <stddef.h>
#include "cli.h"

#define REPORT_PATH_MAX 4096

typedef enum report_style {
    REPORT_PLAIN,   /* text */
    REPORT_BOLD,    /* HTML <b>; Markdown **text** */
    REPORT_CODE,    /* HTML <code>; Markdown `text` */
    REPORT_ALERT,   /* a warning nobody may miss: HTML red and bold (a boxed paragraph with
                       report_begin); Markdown **text** (a quoted paragraph with report_begin) */
} report_style;

/* A report being written; the fields are the writer's (callers read html_path and md_path). */
typedef struct report_doc {
    cli_out     html, md;                       /* the two files being written */
    char        dir[REPORT_PATH_MAX];           /* the output directory, as given */
    char        html_path[REPORT_PATH_MAX];     /* DIR/index.html */
    char        md_path[REPORT_PATH_MAX];       /* DIR/summary.md */
    int         open;                           /* 1 between report_open and commit/abort */
    int         failed;                         /* the first error is in err */
    char        err[1024];
    int         md_blocks;                      /* Markdown blocks written (blank lines
                                                   between them) */
    char        block;                          /* 0; 'p' in a paragraph; 'f' in a figure */
    int         alert;                          /* the open paragraph is REPORT_ALERT's */
    int         caption;                        /* the open figure has caption text */
    char        cols[64];                       /* the open table's column kinds, or "" */
} report_doc;

/* Opens DIR/index.html and DIR/summary.md for writing (DIR must exist: cli_out_dir) and writes
 * the page's head, whose <title> is title (escaped). Returns 0, or -1 with a message naming the
 * file in err and nothing to release. */
int report_open(report_doc *d, const char *dir, const char *title, char *err, size_t errlen);

/* Ends the page (the figure counter's script, </body></html>) and commits both files, index.html
 * first. Returns 0, or -1 with the first error of the report (or of the commit) in err and, where
 * the report itself failed, neither file replaced. Releases d's files either way. */
int report_commit(report_doc *d, char *err, size_t errlen);

/* Discards both files (their destinations untouched). A no-op on a released report_doc. */
void report_abort(report_doc *d);

/* A heading of level 1..6: HTML <hN>, Markdown N '#'s. fmt and its arguments are plain text. */
void report_heading(report_doc *d, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A paragraph of plain text (report_begin, report_text, report_end). */
void report_para(report_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens a paragraph: REPORT_PLAIN an ordinary one, REPORT_ALERT a boxed warning (Markdown: a
 * quote); the other styles are REPORT_PLAIN. Fill it with report_text, report_span and
 * report_link; close it with report_end. */
void report_begin(report_doc *d, report_style s);
void report_end(report_doc *d);

/* Inline text inside a paragraph or a figure caption: plain, or in style s. */
void report_text(report_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_span(report_doc *d, report_style s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A link to href (a file beside the report, say; escaped) reading text. */
void report_link(report_doc *d, const char *href, const char *text);

/* Preformatted text (a configuration file): HTML <pre>, Markdown a fenced block. */
void report_pre(report_doc *d, const char *text);

/* A table of strlen(cols) columns, one character each: 'l' text, 'r' a number (right-aligned),
 * 'c' code. head holds the column titles (plain text); each row as many cells, borrowed for the
 * call. At most 63 columns. */
void report_table_begin(report_doc *d, const char *cols, const char *const *head);
void report_table_row(report_doc *d, const char *const *cells);
void report_table_end(report_doc *d);

/* A figure: DIR/file (an .svg or .png, path relative to DIR) read back and embedded in the page
 * as a data: URI, linked in Markdown as ![name](file); then its caption, a paragraph of inline
 * text up to report_figure_end. An unreadable file fails the report. */
void report_figure_begin(report_doc *d, const char *file);
void report_figure_end(report_doc *d);

/* report_figure_begin, caption (plain text, NULL for none), report_figure_end. */
void report_figure(report_doc *d, const char *file, const char *caption);

#endif
