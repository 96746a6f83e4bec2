/* gen_docs.c -- writes docs/activations.md from ACT_ACT_LIST. Run by `make docs`; the test
 * suite fails when the committed file differs from this program's output. */
#include <stdio.h>

#include "actlab/act.h"

int main(void)
{
    puts("# Built-in activations");
    puts("");
    puts("Generated from `ACT_ACT_LIST` in `include/actlab/act.h` by `make docs`; do not edit.");
    puts("");
    puts("| name | parameters (defaults) | learnable | kinks | formula |");
    puts("|------|-----------------------|-----------|-------|---------|");
    for (int i = 0; i < ACT_ACT_COUNT; i++) {
        const act_act_desc *d = act_act_info((act_act_id)i);
        printf("| `%s` | ", d->name);
        for (int k = 0; k < d->n_params; k++)
            printf("%s%s=%.7g", k ? ", " : "", d->param_names[k], (double)d->defaults[k]);
        printf("%s | ", d->n_params ? "" : "none");
        int any = 0;
        for (int k = 0; k < d->n_params; k++)
            if (d->learnable & (1u << k))
                printf("%s%s", any++ ? ", " : "", d->param_names[k]);
        printf("%s%s | ", any ? "" : "-", (d->flags & ACT_ACT_CHANNEL) ? " (per channel)" : "");
        for (int k = 0; k < d->n_kinks; k++)
            printf("%sx=%g", k ? ", " : "", (double)d->kinks[k]);
        printf("%s | `%s` |\n", d->n_kinks ? "" : "-", d->formula);
    }
    return 0;
}
