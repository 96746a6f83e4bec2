/* report.c -- the report writer of `study report` and `search report` (report.h): index.html,
 * self-contained (figures as base64 data: URIs, one style sheet, a figure counter for headless
 * checks), and summary.md, the same blocks in Markdown, written side by side through cli_out. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/file.h"
#include "report.h"

static const char *const style =
    "body{font-family:sans-serif;max-width:1120px;margin:1em auto;padding:0 1em;color:#222}"
    "h1{margin-bottom:.2em}table{border-collapse:collapse;margin:.5em 0;font-size:.9em}"
    "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}"
    "code{font-size:.95em}pre{background:#f6f6f6;padding:.6em;overflow-x:auto}"
    ".alert{border:3px solid #c00;color:#c00;font-weight:bold;padding:.5em;margin:1em 0}"
    "span.alert{border:none;padding:0;margin:0}"
    "figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}"
    "figcaption{font-size:.9em;color:#444}";

// Marks the page with how many of its images decoded, for a headless browser's check.
static const char *const counter =
    "<script>window.addEventListener('load',function(){var im=document.images,k=0;"
    "for(var i=0;i<im.length;i++)if(im[i].complete&&im[i].naturalWidth>0)k++;"
    "document.body.setAttribute('data-figures-loaded',k+'/'+im.length);});</script>\n";

// ----------------------------------------------------------------------------
// errors and small writers

/* 1 when d may be written: open, and no call has failed (the first failure makes every later
 * call a no-op). */
static int ok(const report_doc *d)
{
    return d->open && !d->failed;
}

static void fail(report_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(report_doc *d, const char *fmt, ...)
{
    if (d->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    d->failed = 1;
}

/* fmt formatted into buf[0..cap), or into a malloc'ed string when it does not fit (the caller
 * frees a result other than buf); NULL (d failed) when out of memory. */
static char *vformat(report_doc *d, char *buf, size_t cap, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(buf, cap, fmt, ap);
    char *s = buf;
    if (n < 0) {
        fail(d, "bad format '%s'", fmt);
        s = NULL;
    } else if ((size_t)n >= cap) {
        s = malloc((size_t)n + 1);
        if (s)
            vsnprintf(s, (size_t)n + 1, fmt, again);
        else
            fail(d, "out of memory");
    }
    va_end(again);
    return s;
}

/* A new Markdown block: a blank line after the previous one. */
static void md_block(report_doc *d)
{
    if (d->md_blocks++)
        fputc('\n', d->md.f);
}

/* s as one Markdown table cell: '|' escaped, line breaks as spaces. */
static void md_cell(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else
            fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
    }
}

static const char *html_open(report_style s)
{
    switch (s) {
    case REPORT_PLAIN: return "";
    case REPORT_BOLD:  return "<b>";
    case REPORT_CODE:  return "<code>";
    case REPORT_ALERT: return "<span class=\"alert\">";
    }
    return "";
}

static const char *html_close(report_style s)
{
    switch (s) {
    case REPORT_PLAIN: return "";
    case REPORT_BOLD:  return "</b>";
    case REPORT_CODE:  return "</code>";
    case REPORT_ALERT: return "</span>";
    }
    return "";
}

static const char *md_mark(report_style s)
{
    switch (s) {
    case REPORT_PLAIN: return "";
    case REPORT_BOLD:  return "**";
    case REPORT_CODE:  return "`";
    case REPORT_ALERT: return "**";
    }
    return "";
}

// ----------------------------------------------------------------------------
// the files

int report_open(report_doc *d, const char *dir, const char *title, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if ((size_t)snprintf(d->dir, sizeof d->dir, "%s", dir) >= sizeof d->dir ||
        (size_t)snprintf(d->html_path, sizeof d->html_path, "%s/index.html", dir) >=
            sizeof d->html_path ||
        (size_t)snprintf(d->md_path, sizeof d->md_path, "%s/summary.md", dir) >=
            sizeof d->md_path) {
        snprintf(err, errlen, "'%s': path too long", dir);
        return -1;
    }
    if (cli_out_open(&d->html, d->html_path, err, errlen) != 0)
        return -1;
    if (cli_out_open(&d->md, d->md_path, err, errlen) != 0) {
        cli_out_abort(&d->html);
        return -1;
    }
    d->open = 1;
    FILE *h = d->html.f;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", h);
    cli_html(h, title);
    fprintf(h, "</title>\n<style>%s</style>\n</head>\n<body>\n", style);
    return 0;
}

int report_commit(report_doc *d, char *err, size_t errlen)
{
    if (!d->open) {
        snprintf(err, errlen, "report_commit: the report is not open");
        return -1;
    }
    if (d->block || d->cols[0])
        fail(d, "the report ends inside a %s", d->cols[0] ? "table" : d->block == 'f' ?
                                                                          "figure" : "paragraph");
    if (d->failed) {
        snprintf(err, errlen, "%s", d->err);
        report_abort(d);
        return -1;
    }
    fprintf(d->html.f, "%s</body>\n</html>\n", counter);
    d->open = 0;
    if (cli_out_commit(&d->html, err, errlen) != 0) {
        cli_out_abort(&d->md);
        return -1;
    }
    return cli_out_commit(&d->md, err, errlen);
}

void report_abort(report_doc *d)
{
    if (!d->open)
        return;
    cli_out_abort(&d->html);
    cli_out_abort(&d->md);
    d->open = 0;
}

// ----------------------------------------------------------------------------
// blocks

void report_heading(report_doc *d, int level, const char *fmt, ...)
{
    if (!ok(d))
        return;
    if (d->block || d->cols[0] || level < 1 || level > 6) {
        fail(d, "report_heading: level %d, or inside another block", level);
        return;
    }
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(d, buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!s)
        return;
    fprintf(d->html.f, "<h%d>", level);
    cli_html(d->html.f, s);
    fprintf(d->html.f, "</h%d>\n", level);
    md_block(d);
    fprintf(d->md.f, "%.*s %s\n", level, "######", s);
    if (s != buf)
        free(s);
}

void report_begin(report_doc *d, report_style s)
{
    if (!ok(d))
        return;
    if (d->block || d->cols[0]) {
        fail(d, "report_begin: inside another block");
        return;
    }
    d->block = 'p';
    d->alert = s == REPORT_ALERT;
    fputs(d->alert ? "<p class=\"alert\">" : "<p>", d->html.f);
    md_block(d);
    if (d->alert)
        fputs("> ", d->md.f);
}

void report_end(report_doc *d)
{
    if (!ok(d))
        return;
    if (d->block != 'p') {
        fail(d, "report_end: no paragraph open");
        return;
    }
    fputs("</p>\n", d->html.f);
    fputc('\n', d->md.f);
    d->block = 0;
}

void report_para(report_doc *d, const char *fmt, ...)
{
    if (!ok(d))
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(d, buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!s)
        return;
    report_begin(d, REPORT_PLAIN);
    report_span(d, REPORT_PLAIN, "%s", s);
    report_end(d);
    if (s != buf)
        free(s);
}

void report_pre(report_doc *d, const char *text)
{
    if (!ok(d))
        return;
    if (d->block || d->cols[0]) {
        fail(d, "report_pre: inside another block");
        return;
    }
    text = text ? text : "";
    size_t n = strlen(text);
    fputs("<pre>", d->html.f);
    cli_html(d->html.f, text);
    fputs("</pre>\n", d->html.f);
    md_block(d);
    fprintf(d->md.f, "```\n%s%s```\n", text, n && text[n - 1] != '\n' ? "\n" : "");
}

// ----------------------------------------------------------------------------
// inline text

/* Checks that inline text may be written now; starts a figure's caption paragraph in Markdown
 * at its first text. */
static int inline_ok(report_doc *d, const char *who)
{
    if (!ok(d))
        return 0;
    if (!d->block) {
        fail(d, "%s: outside a paragraph or caption", who);
        return 0;
    }
    if (d->block == 'f' && !d->caption) {
        md_block(d);
        d->caption = 1;
    }
    return 1;
}

void report_span(report_doc *d, report_style s, const char *fmt, ...)
{
    if (!inline_ok(d, "report_span"))
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    char *t = vformat(d, buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!t)
        return;
    fputs(html_open(s), d->html.f);
    cli_html(d->html.f, t);
    fputs(html_close(s), d->html.f);
    fprintf(d->md.f, "%s%s%s", md_mark(s), t, md_mark(s));
    if (t != buf)
        free(t);
}

void report_text(report_doc *d, const char *fmt, ...)
{
    if (!inline_ok(d, "report_text"))
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    char *t = vformat(d, buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!t)
        return;
    cli_html(d->html.f, t);
    fputs(t, d->md.f);
    if (t != buf)
        free(t);
}

void report_link(report_doc *d, const char *href, const char *text)
{
    if (!inline_ok(d, "report_link"))
        return;
    fputs("<a href=\"", d->html.f);
    cli_html(d->html.f, href);
    fputs("\">", d->html.f);
    cli_html(d->html.f, text);
    fputs("</a>", d->html.f);
    fprintf(d->md.f, "[%s](%s)", text ? text : "", href ? href : "");
}

// ----------------------------------------------------------------------------
// tables

void report_table_begin(report_doc *d, const char *cols, const char *const *head)
{
    if (!ok(d))
        return;
    size_t n = strlen(cols);
    if (d->block || d->cols[0] || n == 0 || n >= sizeof d->cols ||
        strspn(cols, "lrc") != n) {
        fail(d, "report_table_begin: columns '%s', or inside another block", cols);
        return;
    }
    memcpy(d->cols, cols, n + 1);
    FILE *h = d->html.f, *md = d->md.f;
    fputs("<table><tr>", h);
    md_block(d);
    fputs("|", md);
    for (size_t k = 0; k < n; k++) {
        fputs("<th>", h);
        cli_html(h, head[k]);
        fputs("</th>", h);
        fputc(' ', md);
        md_cell(md, head[k]);
        fputs(" |", md);
    }
    fputs("</tr>\n", h);
    fputs("\n|", md);
    for (size_t k = 0; k < n; k++)
        fputs(cols[k] == 'r' ? "---:|" : "---|", md);
    fputc('\n', md);
}

void report_table_row(report_doc *d, const char *const *cells)
{
    if (!ok(d))
        return;
    if (!d->cols[0]) {
        fail(d, "report_table_row: no table open");
        return;
    }
    FILE *h = d->html.f, *md = d->md.f;
    fputs("<tr>", h);
    fputs("|", md);
    for (size_t k = 0; d->cols[k]; k++) {
        const char *c = cells[k] ? cells[k] : "";
        int code = d->cols[k] == 'c' && c[0];
        fputs(d->cols[k] == 'r' ? "<td class=\"n\">" : "<td>", h);
        fputs(code ? "<code>" : "", h);
        cli_html(h, c);
        fputs(code ? "</code></td>" : "</td>", h);
        fputs(code ? " `" : " ", md);
        md_cell(md, c);
        fputs(code ? "` |" : " |", md);
    }
    fputs("</tr>\n", h);
    fputc('\n', md);
}

void report_table_end(report_doc *d)
{
    if (!ok(d))
        return;
    if (!d->cols[0]) {
        fail(d, "report_table_end: no table open");
        return;
    }
    fputs("</table>\n", d->html.f);
    d->cols[0] = '\0';
}

// ----------------------------------------------------------------------------
// figures

static void base64(FILE *f, const unsigned char *p, size_t n)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0u) |
                     (i + 2 < n ? (unsigned)p[i + 2] : 0u);
        fputc(b64[v >> 18 & 63], f);
        fputc(b64[v >> 12 & 63], f);
        fputc(i + 1 < n ? b64[v >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? b64[v & 63] : '=', f);
    }
}

/* The MIME type of an image file by its extension, or NULL. */
static const char *image_type(const char *file)
{
    const char *dot = strrchr(file, '.');
    if (dot && !strcmp(dot, ".svg"))
        return "image/svg+xml";
    if (dot && !strcmp(dot, ".png"))
        return "image/png";
    return NULL;
}

void report_figure_begin(report_doc *d, const char *file)
{
    if (!ok(d))
        return;
    if (d->block || d->cols[0]) {
        fail(d, "report_figure_begin: inside another block");
        return;
    }
    const char *type = image_type(file);
    if (!type) {
        fail(d, "figure '%s': not an .svg or .png file", file);
        return;
    }
    char path[2 * REPORT_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", d->dir, file);
    size_t n = 0;
    char *text = NULL;
    act_diag rd;
    if (act_file_read(path, &text, &n, &rd) != ACT_OK) {
        fail(d, "figure '%s': %s", file, rd.msg);
        return;
    }
    unsigned char *data = (unsigned char *)text;
    const char *slash = strrchr(file, '/');
    const char *name = slash ? slash + 1 : file;
    FILE *h = d->html.f;
    fputs("<figure><img alt=\"", h);
    cli_html(h, name);
    fprintf(h, "\" src=\"data:%s;base64,", type);
    base64(h, data, n);
    fputs("\"><figcaption>", h);
    free(data);
    md_block(d);
    fprintf(d->md.f, "![%s](%s)\n", name, file);
    d->block = 'f';
    d->caption = 0;
}

void report_figure_end(report_doc *d)
{
    if (!ok(d))
        return;
    if (d->block != 'f') {
        fail(d, "report_figure_end: no figure open");
        return;
    }
    fputs("</figcaption></figure>\n", d->html.f);
    if (d->caption)
        fputc('\n', d->md.f);
    d->block = 0;
}

void report_figure(report_doc *d, const char *file, const char *caption)
{
    report_figure_begin(d, file);
    if (caption && caption[0] && ok(d))
        report_text(d, "%s", caption);
    report_figure_end(d);
}
