/* cmd_act.c -- `actlab list` (the activation table) and `actlab eval` (x, f(x), f'(x) and the
 * parameter gradients at given points). Both read ACT_ACT_LIST through act_act_info(); nothing
 * here names a particular activation. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

/* Preset names probed with act_act_preset(); the library has no way to enumerate its presets
 * yet, so this list must grow with ACT_PRESET_LIST in src/act/act.c. */
// ----------------------------------------------------------------------------
// list

static void list_usage(FILE *f)
{
    fprintf(f,
            "usage: actlab list [--names]\n"
            "\n"
            "Lists the built-in activations: name, parameters with their defaults, and formula.\n"
            "A '*' after a parameter marks it learnable; '[C]' marks activations whose\n"
            "parameters are per channel in layers.\n"
            "\n"
            "  --names     print only the names, one per line\n"
            "  -h, --help  show this help\n");
}

/* Writes "a=0.25*, b=1" for d into buf (the parameters column of `actlab list`). */
static void format_params(const act_act_desc *d, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    if (d->n_params == 0) {
        snprintf(buf, len, "-");
        return;
    }
    for (int k = 0; k < d->n_params && used < len; k++) {
        char v[32];
        int w = snprintf(buf + used, len - used, "%s%s=%s%s", k ? ", " : "", d->param_names[k],
                         act_fmt_float(d->defaults[k], v, sizeof v), (d->learnable & (1u << k)) ? "*" : "");
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int cmd_list(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "names", no_argument, NULL, 'n' },
        { "help",  no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int names_only = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': names_only = 1; break;
        case 'h': list_usage(stdout); return CLI_EXIT_OK;
        default:  list_usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_error(argv[0], "unexpected argument '%s'", argv[optind]);
        list_usage(stderr);
        return CLI_EXIT_USAGE;
    }

    if (names_only) {
        for (int i = 0; i < ACT_ACT_COUNT; i++)
            puts(act_act_info((act_act_id)i)->name);
        return CLI_EXIT_OK;
    }

    char params[ACT_ACT_COUNT][128];
    int wname = (int)strlen("NAME"), wparam = (int)strlen("PARAMETERS");
    for (int i = 0; i < ACT_ACT_COUNT; i++) {
        const act_act_desc *d = act_act_info((act_act_id)i);
        format_params(d, params[i], sizeof params[i]);
        if (d->flags & ACT_ACT_CHANNEL)
            strncat(params[i], " [C]", sizeof params[i] - strlen(params[i]) - 1);
        if ((int)strlen(d->name) > wname)
            wname = (int)strlen(d->name);
        if ((int)strlen(params[i]) > wparam)
            wparam = (int)strlen(params[i]);
    }
    printf("%-*s  %-*s  %s\n", wname, "NAME", wparam, "PARAMETERS", "FORMULA");
    for (int i = 0; i < ACT_ACT_COUNT; i++) {
        const act_act_desc *d = act_act_info((act_act_id)i);
        printf("%-*s  %-*s  %s\n", wname, d->name, wparam, params[i], d->formula);
    }
    return CLI_EXIT_OK;
}

// ----------------------------------------------------------------------------
// eval

static void eval_usage(FILE *f)
{
    fprintf(f,
            "usage: actlab eval NAME [-p K=V]... [--preset P] [--header] X...\n"
            "\n"
            "Prints one tab-separated line per X: x, f(x), df/dx, then df/dp for each\n"
            "parameter p of NAME, all to full float precision (%%.9g). Negative X need no '--'.\n"
            "\n"
            "  -p, --param K=V   set parameter K (see `actlab list`); repeatable\n"
            "  --preset P        start from a named parameter set (default; smu, smu1: original)\n"
            "  --header          print the column names first (default when stdout is a TTY)\n"
            "  --no-header       never print the column names\n"
            "  -h, --help        show this help\n"
            "\n"
            "example: actlab eval swish -p beta=2 -1 0 1\n");
}

/* Applies preset `name` to p, or prints the presets NAME has and returns -1. */
static int apply_preset(const char *cmd, act_act_id id, const char *name, float *p)
{
    if (act_act_preset(id, name, p) == ACT_OK)
        return 0;
    cli_error(cmd, "%s has no preset '%s'; valid presets:", act_act_info(id)->name, name);
    const char *pn;
    for (int i = 0; (pn = act_act_preset_name(id, i)) != NULL; i++)
        fprintf(stderr, "  %s\n", pn);
    return -1;
}

/* Prints "beta=2, threshold=20" for an error message about invalid parameter values. */
static void print_params(FILE *f, const act_act_desc *d, const float *p)
{
    for (int k = 0; k < d->n_params; k++)
        fprintf(f, "%s%s=%g", k ? ", " : "", d->param_names[k], (double)p[k]);
}

static int is_number(const char *s)
{
    float v;
    return cli_parse_float(s, &v) == 0;
}

int cmd_eval(int argc, char **argv)
{
    enum { OPT_PRESET = 256, OPT_HEADER, OPT_NO_HEADER };
    static const struct option longopts[] = {
        { "param",     required_argument, NULL, 'p' },
        { "preset",    required_argument, NULL, OPT_PRESET },
        { "header",    no_argument,       NULL, OPT_HEADER },
        { "no-header", no_argument,       NULL, OPT_NO_HEADER },
        { "help",      no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cmd = argv[0];
    const char *preset = NULL;
    int header = isatty(STDOUT_FILENO);
    int n_pos = 0;
    char **pos = calloc((size_t)argc, sizeof *pos);     // NAME, then the X values
    char **kv = calloc((size_t)argc, sizeof *kv);       // -p arguments, applied after --preset
    int n_kv = 0;
    int rc = CLI_EXIT_USAGE;
    if (!pos || !kv) {
        cli_error(cmd, "out of memory");
        rc = CLI_EXIT_FAILURE;
        goto done;
    }

    // "-" keeps arguments in order (returned as 1); numbers such as -1 are taken as X values
    // before getopt can read them as options.
    for (;;) {
        if (optind < argc && argv[optind][0] == '-' && is_number(argv[optind])) {
            pos[n_pos++] = argv[optind++];
            continue;
        }
        int c = getopt_long(argc, argv, "-p:h", longopts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 1:             pos[n_pos++] = optarg; break;
        case 'p':           kv[n_kv++] = optarg; break;
        case OPT_PRESET:    preset = optarg; break;
        case OPT_HEADER:    header = 1; break;
        case OPT_NO_HEADER: header = 0; break;
        case 'h':           eval_usage(stdout); rc = CLI_EXIT_OK; goto done;
        default:            eval_usage(stderr); goto done;
        }
    }
    while (optind < argc)                               // after "--"
        pos[n_pos++] = argv[optind++];

    if (n_pos < 1) {
        cli_error(cmd, "missing activation name");
        eval_usage(stderr);
        goto done;
    }
    act_act_id id;
    if (cli_lookup_act(cmd, pos[0], &id) != 0)
        goto done;
    const act_act_desc *d = act_act_info(id);
    float p[ACT_ACT_MAX_PARAMS];
    memcpy(p, d->defaults, sizeof p);
    if (preset && apply_preset(cmd, id, preset, p) != 0)
        goto done;
    for (int i = 0; i < n_kv; i++)
        if (cli_set_param(cmd, id, kv[i], p) != 0)
            goto done;
    if (act_act_check_params(id, p) != ACT_OK) {
        cli_error(cmd, "invalid parameter values for %s:", d->name);
        fputs("  ", stderr);
        print_params(stderr, d, p);
        fputc('\n', stderr);
        goto done;
    }
    if (n_pos < 2) {
        cli_error(cmd, "no points given (usage: actlab eval NAME X...)");
        goto done;
    }

    float *xs = malloc((size_t)(n_pos - 1) * sizeof *xs);
    if (!xs) {
        cli_error(cmd, "out of memory");
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    for (int i = 1; i < n_pos; i++) {
        if (cli_parse_float(pos[i], &xs[i - 1]) != 0) {
            cli_error(cmd, "X must be a number, got '%s'", pos[i]);
            free(xs);
            goto done;
        }
    }

    if (header) {
        printf("x\tf\tdf/dx");
        for (int k = 0; k < d->n_params; k++)
            printf("\tdf/d%s", d->param_names[k]);
        putchar('\n');
    }
    rc = CLI_EXIT_OK;
    for (int i = 0; i < n_pos - 1; i++) {
        float x = xs[i], y, one = 1.0f, dx = 0.0f, dp[ACT_ACT_MAX_PARAMS] = { 0 };
        int st = act_act_forward(id, p, 0, &x, &y, act_shape_flat(1));
        if (st == ACT_OK)
            st = act_act_backward(id, p, ACT_DX_ASSIGN, &x, &one, &dx, dp, act_shape_flat(1));
        if (st != ACT_OK) {
            cli_error(cmd, "%s at x=%g: %s", d->name, (double)x, act_strerror(st));
            rc = CLI_EXIT_FAILURE;
            break;
        }
        printf("%.9g\t%.9g\t%.9g", (double)x, (double)y, (double)dx);
        for (int k = 0; k < d->n_params; k++)
            printf("\t%.9g", (double)dp[k]);
        putchar('\n');
    }
    free(xs);
done:
    free(pos);
    free(kv);
    return rc;
}
