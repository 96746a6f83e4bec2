/* act_src.c -- the text of act_scalar.h, embedded at build time, and the definitions a
 * standalone C export of built-in activations needs (act_src.h): the export runs the scalar
 * reference's own code, so there is no second copy of any activation's math to keep in step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/act_scalar.h"     /* unused here: -MMD rebuilds this object when the math changes */
#include "act/act_src.h"

/* The assembler reads the file, relative to the directory the compiler runs in (the repository
 * root, where the Makefile runs); a wrong directory is a build error, never a stale text. */
__asm__(".pushsection .rodata\n"
        ".globl acti_act_scalar_text\n"
        ".hidden acti_act_scalar_text\n"
        ".type acti_act_scalar_text, @object\n"
        "acti_act_scalar_text:\n"
        ".incbin \"src/act/act_scalar.h\"\n"
        ".byte 0\n"
        ".size acti_act_scalar_text, . - acti_act_scalar_text\n"
        ".popsection\n");
extern const char acti_act_scalar_text[];

// ----------------------------------------------------------------------------
// the definitions of the file: each `static inline` function (to the line where its braces
// close) and each one-line `#define`, starting at column 0, with the comment block that ends on
// the line right above it

typedef struct src_item {
    size_t cbeg, beg, end;      /* comment text[cbeg, beg) (empty if none), definition to end */
    size_t name, nlen;          /* the name it defines */
    int    is_define;
} src_item;

static size_t line_end(const char *t, size_t i)
{
    while (t[i] && t[i] != '\n')
        i++;
    return t[i] ? i + 1 : i;
}

static int is_ident(char c, int first)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (!first && c >= '0' && c <= '9');
}

/* The end of the function starting at i: after the line where its braces close (comments
 * skipped); 0 if they never close. */
static size_t func_end(const char *t, size_t i)
{
    int depth = 0, opened = 0;
    for (; t[i]; i++) {
        if (t[i] == '/' && t[i + 1] == '*') {
            const char *e = strstr(t + i + 2, "*/");
            if (!e)
                return 0;
            i = (size_t)(e - t) + 1;
        } else if (t[i] == '/' && t[i + 1] == '/') {
            i = line_end(t, i) - 1;
        } else if (t[i] == '{') {
            depth++;
            opened = 1;
        } else if (t[i] == '}' && --depth == 0 && opened) {
            return line_end(t, i);
        }
    }
    return 0;
}

/* Splits t into items; returns their number, or -1 (out of memory, or a function that does not
 * close). *out is malloc'd. */
static int src_items(const char *t, src_item **out)
{
    size_t lines = 1;
    for (const char *c = t; *c; c++)
        lines += *c == '\n';
    src_item *it = malloc(lines * sizeof *it);
    if (!it)
        return -1;
    int n = 0;
    size_t i = 0, comment = (size_t)-1;     /* start of the comment block just above, if any */
    while (t[i]) {
        size_t next = line_end(t, i);
        if (strncmp(t + i, "/*", 2) == 0) {
            const char *e = strstr(t + i, "*/");
            if (!e)
                break;
            comment = i;
            i = line_end(t, (size_t)(e - t));
            continue;
        }
        int fn = strncmp(t + i, "static inline ", 14) == 0;
        int def = strncmp(t + i, "#define ", 8) == 0;
        if (fn || def) {
            src_item *s = &it[n];
            s->beg = i;
            s->cbeg = comment != (size_t)-1 ? comment : i;
            s->is_define = def;
            s->end = def ? next : func_end(t, i);
            if (s->end == 0) {
                free(it);
                return -1;
            }
            size_t p = i + 8;                   /* #define NAME ... */
            if (fn) {                           /* static inline TYPE NAME(...) */
                const char *paren = memchr(t + i, '(', next - i);
                p = paren ? (size_t)(paren - t) : i;
                while (p > i && is_ident(t[p - 1], 0))
                    p--;
            }
            s->name = p;
            while (is_ident(t[p], p == s->name))
                p++;
            s->nlen = p - s->name;
            n++;
            next = s->end;
        }
        comment = (size_t)-1;
        i = next;
    }
    *out = it;
    return n;
}

static int src_find(const char *t, const src_item *it, int n, const char *name, size_t len)
{
    for (int k = 0; k < n; k++)
        if (it[k].nlen == len && memcmp(t + it[k].name, name, len) == 0)
            return k;
    return -1;
}

/* Marks item k and, recursively, every item whose name its definition mentions. */
static void src_need(const char *t, const src_item *it, int n, int k, unsigned char *need)
{
    if (need[k])
        return;
    need[k] = 1;
    for (size_t i = it[k].beg; i < it[k].end; i++) {
        if (t[i] == '/' && t[i + 1] == '*') {   /* names in comments are not uses */
            const char *e = strstr(t + i + 2, "*/");
            i = e ? (size_t)(e - t) + 1 : it[k].end;
            continue;
        }
        if (t[i] == '/' && t[i + 1] == '/') {
            i = line_end(t, i) - 1;
            continue;
        }
        if (!is_ident(t[i], 1) || (i > it[k].beg && is_ident(t[i - 1], 0)))
            continue;
        size_t j = i;
        while (is_ident(t[j], 0))
            j++;
        int d = src_find(t, it, n, t + i, j - i);
        if (d >= 0 && d != k)
            src_need(t, it, n, d, need);
        i = j - 1;
    }
}

int acti_act_c_source(const unsigned char used[ACT_ACT_COUNT], char **out)
{
    const char *t = acti_act_scalar_text;
    src_item *it;
    *out = NULL;
    int n = src_items(t, &it);
    if (n < 0)
        return ACT_ENOMEM;          /* or an unclosed function: act.c would not compile */
    unsigned char *need = calloc((size_t)n + 1, 1);
    char *o = NULL;
    int rc = ACT_ENOMEM;
    if (!need)
        goto done;
    for (int id = 0; id < ACT_ACT_COUNT; id++) {
        if (!used[id])
            continue;
        char fname[64];
        int len = snprintf(fname, sizeof fname, "act_%s_f", act_act_info((act_act_id)id)->name);
        int k = len > 0 && (size_t)len < sizeof fname ? src_find(t, it, n, fname, (size_t)len)
                                                       : -1;
        if (k < 0 || it[k].is_define) {
            rc = ACT_ENOTFOUND;
            goto done;
        }
        src_need(t, it, n, k, need);
    }
    size_t size = 1;
    for (int k = 0; k < n; k++)
        size += need[k] ? it[k].end - it[k].cbeg + 1 : 0;
    o = malloc(size);
    if (!o)
        goto done;
    size_t m = 0;
    int last = -1;                      /* a blank line between items, except between #defines */
    for (int k = 0; k < n; k++) {
        if (!need[k])
            continue;
        if (last >= 0 && !(it[last].is_define && it[k].is_define && it[k].cbeg == it[k].beg))
            o[m++] = '\n';
        memcpy(o + m, t + it[k].cbeg, it[k].end - it[k].cbeg);
        m += it[k].end - it[k].cbeg;
        last = k;
    }
    o[m] = '\0';
    *out = o;
    rc = ACT_OK;
done:
    free(need);
    free(it);
    return rc;
}
