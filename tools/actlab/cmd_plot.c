/* cmd_plot.c -- `actlab plot`: curves of one or more activations (and, with --deriv, of their
 * derivatives) with parameter overrides and sweeps, drawn through plot.h into SVG or PNG.
 * `actlab demo` builds its figures by calling cmd_plot with argument vectors. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "plot.h"

#define MAX_CURVES  64      /* series per panel */
#define MAX_SWEEP   32      /* values in --sweep */
#define MAX_PARAMS  32      /* -p options */

static void plot_usage(FILE *f)
{
    fprintf(f,
            "usage: actlab plot SPEC... [options] -o FILE.svg|FILE.png\n"
            "\n"
            "Plots activations f(x) over a range (and f'(x) beside it with --deriv).\n"
            "SPEC is NAME or NAME:K=V[,K=V...], e.g. smu:alpha=0.25,mu=4; a name may repeat.\n"
            "\n"
            "  -o, --output FILE    output file; .svg or .png chooses the format (required)\n"
            "  -d, --deriv          add a panel with the derivatives df/dx\n"
            "  -r, --range A:B      x range (default -5:5)\n"
            "  -p, --param K=V      set K for every SPEC that has a parameter K; repeatable\n"
            "      --preset P       start every SPEC that has preset P from it (e.g. original)\n"
            "  -s, --sweep K=V1,V2,...  one curve per value of K, for every SPEC that has K\n"
            "  -n, --points N       samples per curve (default 401)\n"
            "  -t, --title T        figure title (default: the names and -p settings)\n"
            "      --ylim A:B       y range of the f(x) panel (default: from the data)\n"
            "      --legend POS     auto (default: the emptiest corner), top-left, top-right,\n"
            "                       bottom-left, bottom-right, outside, none\n"
            "  -h, --help           show this help\n"
            "\n"
            "examples:\n"
            "  actlab plot relu swish --sweep beta=0.5,1,2,10 --deriv -o smoothmax.png\n"
            "  actlab plot acon_c -p p1=1.2 -p p2=-0.8 --sweep beta=0.5,1,2,10 --deriv \\\n"
            "      -o acon.svg\n");
}

static const char *const legend_names[] = {
    [PLOT_LEGEND_AUTO] = "auto",               [PLOT_LEGEND_TOP_LEFT] = "top-left",
    [PLOT_LEGEND_TOP_RIGHT] = "top-right",     [PLOT_LEGEND_BOTTOM_LEFT] = "bottom-left",
    [PLOT_LEGEND_BOTTOM_RIGHT] = "bottom-right",
    [PLOT_LEGEND_OUTSIDE] = "outside",         [PLOT_LEGEND_NONE] = "none",
};

/* One curve: an activation with its parameter values and legend label. */
typedef struct curve {
    act_act_id id;
    float      p[ACT_ACT_MAX_PARAMS];
    char       label[128];
} curve;

/* Parses "A:B" with A < B, both finite. */
static int parse_range(const char *s, double *a, double *b)
{
    char buf[128];
    const char *colon = strchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof buf)
        return -1;
    memcpy(buf, s, (size_t)(colon - s));
    buf[colon - s] = '\0';
    if (cli_parse_double(buf, a) != 0 || cli_parse_double(colon + 1, b) != 0)
        return -1;
    return isfinite(*a) && isfinite(*b) && *a < *b ? 0 : -1;
}

/* Appends printf-style text to buf (of size len), truncating safely. */
static void append(char *buf, size_t len, const char *fmt, const char *key, double v)
{
    size_t used = strlen(buf);
    if (used < len)
        snprintf(buf + used, len - used, fmt, key, v);
}

/* Parses SPEC = NAME[:K=V,...] into c (parameters from `base`, then the spec's own), and
 * writes the spec's own settings into c->label. Prints the error and returns -1 on failure. */
static int parse_spec(const char *cmd, const char *spec, curve *c)
{
    char name[64];
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    if (n >= sizeof name) {
        cli_error(cmd, "activation name too long: '%s'", spec);
        return -1;
    }
    memcpy(name, spec, n);
    name[n] = '\0';
    if (cli_lookup_act(cmd, name, &c->id) != 0)
        return -1;
    memcpy(c->p, act_act_info(c->id)->defaults, sizeof c->p);
    snprintf(c->label, sizeof c->label, "%s", name);
    return 0;
}

/* Applies the K=V list after ':' in spec to c (after the global settings). */
static int apply_spec_params(const char *cmd, const char *spec, curve *c)
{
    const char *colon = strchr(spec, ':');
    if (!colon)
        return 0;
    char *list = strdup(colon + 1);
    if (!list) {
        cli_error(cmd, "out of memory");
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    for (char *kv = strtok_r(list, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        if (cli_set_param(cmd, c->id, kv, c->p) != 0) {
            rc = -1;
            break;
        }
        int k = 0;
        char key[64];
        size_t kl = strcspn(kv, "=");
        snprintf(key, sizeof key, "%.*s", (int)kl, kv);
        int st = act_act_param_index(c->id, key, &k);   /* found: cli_set_param took it */
        if (st != ACT_OK) {
            cli_error(cmd, "parameter '%s': %s", key, act_strerror(st));
            rc = -1;
            break;
        }
        append(c->label, sizeof c->label, " %s=%g", key, (double)c->p[k]);
    }
    if (!*(colon + 1)) {
        cli_error(cmd, "empty parameter list in '%s'", spec);
        rc = -1;
    }
    free(list);
    return rc;
}

static int has_param(act_act_id id, const char *key)
{
    int k;
    return act_act_param_index(id, key, &k) == ACT_OK;
}

/* The key of "K=V..." in key[0..len). */
static void key_of(const char *kv, char *key, size_t len)
{
    snprintf(key, len, "%.*s", (int)strcspn(kv, "="), kv);
}

/* Checks the parameter values of every curve; prints the first invalid set and returns -1. */
static int check_params(const char *cmd, const curve *cv, int n_curves)
{
    for (int c = 0; c < n_curves; c++) {
        if (act_act_check_params(cv[c].id, cv[c].p) == ACT_OK)
            continue;
        const act_act_desc *d = act_act_info(cv[c].id);
        cli_error(cmd, "invalid parameter values for %s:", d->name);
        for (int k = 0; k < d->n_params; k++)
            fprintf(stderr, "%s%s=%g", k ? ", " : "  ", d->param_names[k], (double)cv[c].p[k]);
        fputc('\n', stderr);
        return -1;
    }
    return 0;
}

/* Samples f and f' of every curve (valid parameters) at n points of [a, b] into y / dy (n per
 * curve). */
static int sample(const char *cmd, const curve *cv, int n_curves, const double *x, size_t n,
                  double *y, double *dy)
{
    float *xf = malloc(3 * n * sizeof *xf);
    if (!xf) {
        cli_error(cmd, "out of memory");
        return -1;
    }
    float *ones = xf + n, *gf = ones + n;     // gf: f, then f'
    for (size_t i = 0; i < n; i++)
        xf[i] = (float)x[i];
    for (int c = 0; c < n_curves; c++) {
        const act_act_desc *d = act_act_info(cv[c].id);
        for (size_t i = 0; i < n; i++)
            ones[i] = 1.0f;
        int st = act_act_forward(cv[c].id, cv[c].p, 0, xf, gf, act_shape_flat(n));
        for (size_t i = 0; i < n && st == ACT_OK; i++)
            y[(size_t)c * n + i] = gf[i];
        if (st == ACT_OK)
            st = act_act_backward(cv[c].id, cv[c].p, ACT_DX_ASSIGN, xf, ones, gf, NULL,
                                  act_shape_flat(n));
        if (st != ACT_OK) {
            cli_error(cmd, "%s: %s", d->name, act_strerror(st));
            free(xf);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            dy[(size_t)c * n + i] = gf[i];
    }
    free(xf);
    return 0;
}

int cmd_plot(int argc, char **argv)
{
    enum { OPT_PRESET = 256, OPT_YLIM, OPT_LEGEND };
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "deriv",  no_argument,       NULL, 'd' },
        { "range",  required_argument, NULL, 'r' },
        { "param",  required_argument, NULL, 'p' },
        { "preset", required_argument, NULL, OPT_PRESET },
        { "sweep",  required_argument, NULL, 's' },
        { "points", required_argument, NULL, 'n' },
        { "title",  required_argument, NULL, 't' },
        { "ylim",   required_argument, NULL, OPT_YLIM },
        { "legend", required_argument, NULL, OPT_LEGEND },
        { "help",   no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cmd = argv[0];
    const char *out = NULL, *preset = NULL, *sweep = NULL, *title = NULL;
    const char *params[MAX_PARAMS];
    int n_params = 0, deriv = 0;
    double xa = -5.0, xb = 5.0, ya = 0.0, yb = 0.0;
    long points = 401;
    plot_legend legend = PLOT_LEGEND_AUTO;
    int c;
    while ((c = getopt_long(argc, argv, "o:dr:p:s:n:t:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'd': deriv = 1; break;
        case 'r':
            if (parse_range(optarg, &xa, &xb) != 0) {
                cli_error(cmd, "--range must be A:B with A < B, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_YLIM:
            if (parse_range(optarg, &ya, &yb) != 0) {
                cli_error(cmd, "--ylim must be A:B with A < B, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'p':
            if (n_params == MAX_PARAMS) {
                cli_error(cmd, "at most %d -p options", MAX_PARAMS);
                return CLI_EXIT_USAGE;
            }
            params[n_params++] = optarg;
            break;
        case OPT_PRESET: preset = optarg; break;
        case 's': sweep = optarg; break;
        case 'n':
            if (cli_parse_long(optarg, &points) != 0 || points < 2 || points > 1000000) {
                cli_error(cmd, "--points must be an integer in [2, 1000000], got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 't': title = optarg; break;
        case OPT_LEGEND: {
            int found = -1;
            for (int i = 0; i < (int)(sizeof legend_names / sizeof legend_names[0]); i++)
                if (strcmp(optarg, legend_names[i]) == 0)
                    found = i;
            if (found < 0) {
                cli_error(cmd, "unknown legend position '%s'; valid positions are:", optarg);
                for (size_t i = 0; i < sizeof legend_names / sizeof legend_names[0]; i++)
                    fprintf(stderr, "%s%s", i ? ", " : "  ", legend_names[i]);
                fputc('\n', stderr);
                return CLI_EXIT_USAGE;
            }
            legend = (plot_legend)found;
            break;
        }
        case 'h': plot_usage(stdout); return CLI_EXIT_OK;
        default:  plot_usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    int n_specs = argc - optind;
    if (n_specs < 1) {
        cli_error(cmd, "no activation given (see `actlab list`)");
        plot_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!out) {
        cli_error(cmd, "missing -o FILE.svg|FILE.png");
        return CLI_EXIT_USAGE;
    }
    if (!plot_device(out)) {
        cli_error(cmd, "-o '%s': the file name must end in .svg or .png", out);
        return CLI_EXIT_USAGE;
    }

    // Sweep values.
    char sweep_key[64] = "";
    float sweep_v[MAX_SWEEP];
    int n_sweep = 0;
    if (sweep) {
        const char *eq = strchr(sweep, '=');
        key_of(sweep, sweep_key, sizeof sweep_key);
        char *list = eq ? strdup(eq + 1) : NULL;
        char *save = NULL;
        for (char *v = list ? strtok_r(list, ",", &save) : NULL; v;
             v = strtok_r(NULL, ",", &save)) {
            if (n_sweep == MAX_SWEEP || cli_parse_float(v, &sweep_v[n_sweep]) != 0) {
                n_sweep = -1;
                break;
            }
            n_sweep++;
        }
        free(list);
        if (!eq || eq == sweep || n_sweep <= 0) {
            cli_error(cmd, "--sweep must be K=V1,V2,... with 1 to %d numbers, got '%s'",
                      MAX_SWEEP, sweep);
            return CLI_EXIT_USAGE;
        }
    }

    // Every global setting must apply to at least one SPEC.
    curve *base = calloc((size_t)n_specs, sizeof *base);
    curve *cv = calloc(MAX_CURVES, sizeof *cv);
    double *xs = NULL;
    int rc = CLI_EXIT_USAGE, n_curves = 0;
    if (!base || !cv) {
        cli_error(cmd, "out of memory");
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    for (int s = 0; s < n_specs; s++)
        if (parse_spec(cmd, argv[optind + s], &base[s]) != 0)
            goto done;
    if (preset) {
        int used = 0;
        for (int s = 0; s < n_specs; s++)
            used |= act_act_preset(base[s].id, preset, base[s].p) == ACT_OK;
        if (!used) {
            cli_error(cmd, "no activation given has preset '%s' (`actlab eval NAME --preset x`"
                      " lists the presets of NAME)", preset);
            goto done;
        }
    }
    for (int i = 0; i < n_params; i++) {
        char key[64];
        key_of(params[i], key, sizeof key);
        int used = 0;
        for (int s = 0; s < n_specs; s++) {
            if (has_param(base[s].id, key)) {
                if (cli_set_param(cmd, base[s].id, params[i], base[s].p) != 0)
                    goto done;
                used = 1;
            }
        }
        if (!used) {                    // let cli_set_param explain with the first SPEC
            cli_set_param(cmd, base[0].id, params[i], base[0].p);
            goto done;
        }
    }
    for (int s = 0; s < n_specs; s++)
        if (apply_spec_params(cmd, argv[optind + s], &base[s]) != 0)
            goto done;
    if (sweep) {
        int used = 0;
        for (int s = 0; s < n_specs; s++)
            used |= has_param(base[s].id, sweep_key);
        if (!used) {
            cli_error(cmd, "--sweep: no activation given has a parameter '%s'", sweep_key);
            goto done;
        }
    }

    // Curves: each SPEC, once per sweep value if it has the swept parameter.
    for (int s = 0; s < n_specs; s++) {
        int k = -1;
        int reps = sweep && act_act_param_index(base[s].id, sweep_key, &k) == ACT_OK ? n_sweep : 1;
        for (int r = 0; r < reps; r++) {
            if (n_curves == MAX_CURVES) {
                cli_error(cmd, "too many curves (at most %d)", MAX_CURVES);
                goto done;
            }
            curve *cu = &cv[n_curves++];
            *cu = base[s];
            if (k >= 0) {
                cu->p[k] = sweep_v[r];
                append(cu->label, sizeof cu->label, " %s=%g", sweep_key, (double)sweep_v[r]);
            }
        }
    }

    // Default title: the distinct names, then the -p settings.
    char deftitle[256] = "";
    if (!title) {
        for (int s = 0; s < n_specs; s++) {
            const char *nm = act_act_info(base[s].id)->name;
            int seen = 0;
            for (int t = 0; t < s; t++)
                seen |= base[t].id == base[s].id;
            if (!seen)
                snprintf(deftitle + strlen(deftitle), sizeof deftitle - strlen(deftitle),
                         "%s%s", s ? ", " : "", nm);
        }
        for (int i = 0; i < n_params; i++)
            snprintf(deftitle + strlen(deftitle), sizeof deftitle - strlen(deftitle),
                     "%s%s%s", i ? ", " : " (", params[i], i + 1 == n_params ? ")" : "");
        title = deftitle;
    }

    if (check_params(cmd, cv, n_curves) != 0)
        goto done;
    // The command line is valid: check the output path before the work.
    if ((rc = cli_check_output(cmd, "-o", out, 0)) != CLI_EXIT_OK)
        goto done;
    rc = CLI_EXIT_FAILURE;                      // from here on, failures are not usage errors

    size_t n = (size_t)points;
    xs = malloc(n * (1 + 2 * (size_t)n_curves) * sizeof *xs);
    if (!xs) {
        cli_error(cmd, "out of memory");
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    double *ys = xs + n, *dys = ys + n * (size_t)n_curves;
    for (size_t i = 0; i < n; i++)
        xs[i] = xa + (xb - xa) * (double)i / (double)(n - 1);
    if (sample(cmd, cv, n_curves, xs, n, ys, dys) != 0)
        goto done;

    plot_series sf[MAX_CURVES], sd[MAX_CURVES];
    for (int i = 0; i < n_curves; i++) {
        sf[i] = (plot_series){ .label = cv[i].label, .x = xs, .y = ys + (size_t)i * n, .n = n };
        sd[i] = (plot_series){ .label = cv[i].label, .x = xs, .y = dys + (size_t)i * n, .n = n };
    }
    plot_panel panels[2] = {
        { .kind = PLOT_LINES, .title = deriv ? "f(x)" : title, .xlabel = "x",
          .ylabel = "f(x)", .series = sf, .n_series = n_curves, .xmin = xa, .xmax = xb,
          .ymin = ya, .ymax = yb, .legend = legend },
        { .kind = PLOT_LINES, .title = "f'(x)", .xlabel = "x", .ylabel = "df/dx",
          .series = sd, .n_series = n_curves, .xmin = xa, .xmax = xb,
          .legend = PLOT_LEGEND_NONE },                 // same colours: one legend is enough
    };
    plot_figure fig = { .title = deriv ? title : NULL, .panels = panels,
                        .n_panels = deriv ? 2 : 1 };
    char err[512];
    if (plot_write(out, &fig, err, sizeof err) != 0) {
        cli_error(cmd, "%s", err);
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    rc = CLI_EXIT_OK;
done:
    free(xs);
    free(cv);
    free(base);
    return rc;
}
