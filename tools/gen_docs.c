/* gen_docs.c -- writes docs/activations.md from ACT_ACT_LIST: a summary table, then one section
 * per activation (formula, parameters, presets, kinks). Run by `make docs`; the test suite
 * fails when the committed file differs from this program's output. */
#include <stdio.h>
#include <stdlib.h>

#include "actlab/act.h"
#include "actlab/status.h"   /* act_fmt_float */

static void print_values(const act_act_desc *d, const float *p)
{
    char buf[32];
    for (int k = 0; k < d->n_params; k++)
        printf("%s%s=%s", k ? ", " : "", d->param_names[k], act_fmt_float(p[k], buf, sizeof buf));
}

static void print_kinks(const act_act_desc *d, const char *none)
{
    for (int k = 0; k < d->n_kinks; k++)
        printf("%sx=%g", k ? ", " : "", (double)d->kinks[k]);
    if (d->n_kinks == 0)
        printf("%s", none);
}

static void print_table(void)
{
    puts("| name | parameters (defaults) | learnable | per channel | kinks | formula |");
    puts("|------|-----------------------|-----------|-------------|-------|---------|");
    for (int i = 0; i < ACT_ACT_COUNT; i++) {
        const act_act_desc *d = act_act_info((act_act_id)i);
        printf("| [`%s`](#%s) | ", d->name, d->name);
        print_values(d, d->defaults);
        printf("%s | ", d->n_params ? "" : "-");
        int any = 0;
        for (int k = 0; k < d->n_params; k++)
            if (d->learnable & (1u << k))
                printf("%s%s", any++ ? ", " : "", d->param_names[k]);
        printf("%s | %s | ", any ? "" : "-",
               d->n_params && (d->flags & ACT_ACT_CHANNEL) ? "yes" : "-");
        print_kinks(d, "-");
        printf(" | `%s` |\n", d->formula);
    }
}

static void print_section(act_act_id id)
{
    const act_act_desc *d = act_act_info(id);
    printf("\n## %s\n\n", d->name);
    printf("    f(x) = %s\n\n", d->formula);
    if (d->n_params == 0) {
        puts("No parameters.");
    } else {
        puts("| parameter | default | learnable | valid values |");
        puts("|-----------|---------|-----------|--------------|");
        for (int k = 0; k < d->n_params; k++) {
            int learn = (d->learnable >> k) & 1u;
            char buf[32];
            printf("| `%s` | %s | %s | %s |\n", d->param_names[k],
                   act_fmt_float(d->defaults[k], buf, sizeof buf),
                   !learn ? "no" : (d->flags & ACT_ACT_CHANNEL) ? "yes, per channel" : "yes",
                   ((d->nonzero >> k) & 1u) ? "finite, nonzero" : "finite");
        }
        puts("");
        printf("Presets:");
        float p[ACT_ACT_MAX_PARAMS];
        int n = 0;
        const char *pn;
        for (int j = 0; (pn = act_act_preset_name(id, j)) != NULL; j++) {
            if (act_act_preset(id, pn, p) != ACT_OK)
                continue;
            printf("%s `%s` (", n++ ? ";" : "", pn);
            print_values(d, p);
            printf(")");
        }
        puts(".");
    }
    if (d->flags & ACT_ACT_RANDP)
        puts("\nLayers initialised as in the paper draw the parameters from N(0, 1) "
             "(`ACT_INIT_PAPER`).");
    printf("\nKinks (not differentiable) at the defaults: ");
    print_kinks(d, "none");
    puts(".");
    printf("\n    actlab eval %s 1\n    actlab plot %s --deriv -o %s.png\n", d->name, d->name,
           d->name);
}

int main(void)
{
    puts("# Built-in activations");
    puts("");
    puts("Generated from `ACT_ACT_LIST` in `include/actlab/act.h` by `make docs`; do not edit.");
    puts("`actlab list` prints the same table; `docs/cli.md` describes the commands used below.");
    puts("");
    print_table();
    for (int i = 0; i < ACT_ACT_COUNT; i++)
        print_section((act_act_id)i);
    return 0;
}
