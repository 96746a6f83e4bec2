/* test_orch_search_config.c -- a search's configuration (orch/search_config.h): the text reads
 * back to the same text, the hash covers exactly the keys that define a search, the diff names
 * them, a fidelity whose definition changed is a different search, the strategy resets its
 * hyper-parameters, ASHA's rungs, and bad values refused with the key named. */
#include <stdlib.h>
#include <string.h>

#include "../orch/search_config.h"
#include "test.h"

/* The canonical text of *c (caller frees), or NULL after a failed check. */
static char *text_of(const orch_search_config *c)
{
    char *t = NULL;
    int st = orch_search_config_write(c, &t);
    CHECK(st == ACT_OK && t);
    return st == ACT_OK ? t : NULL;
}

void test_orch_search_config_text(void)
{
    orch_search_config c = orch_search_config_default();
    CHECK(orch_search_config_set(&c, "strategy", "ppo") == ACT_OK);
    CHECK(orch_search_config_set(&c, "ppo.lr", "0.05") == ACT_OK);
    CHECK(orch_search_config_set(&c, "units", "2") == ACT_OK);
    c.n_seed_exprs = 2;
    c.seed_exprs[0] = "max(x, 0)";
    c.seed_exprs[1] = "x*sigmoid(beta*x)";
    c.budget = 100;
    char *a = text_of(&c);
    orch_search_config r;
    char *strings = NULL, *b = NULL;
    act_diag d;
    CHECKF(a && orch_search_config_read(a, &r, &strings, &d) == ACT_OK, "%s", d.msg);
    if (a && strings) {
        b = text_of(&r);
        CHECKF(b && !strcmp(a, b), "read back:\n%s\nvs\n%s", b ? b : "", a);
        CHECK(r.strat.kind == ACT_STRATEGY_PPO && r.strat.ppo_lr == 0.05 &&
              r.strat.n_units == 2 && r.n_seed_exprs == 2 && r.budget == 100);
        CHECK(strstr(a, "fidelity.def=resnet:1 train_limit=6000") != NULL);
    }
    free(b);
    free(strings);

    /* the hash: not the stop keys; every defining key */
    orch_search_config c2 = c;
    c2.budget = 7;
    c2.time_budget_s = 60;
    c2.lease_s = 5;
    char *t2 = text_of(&c2);
    CHECK(t2 && orch_search_config_hash(a) == orch_search_config_hash(t2));
    c2 = c;
    c2.seed = 2;
    CHECK(orch_search_config_set(&c2, "ppo.entropy", "0.1") == ACT_OK);
    char *t3 = text_of(&c2), diff[512];
    CHECK(t3 && orch_search_config_hash(a) != orch_search_config_hash(t3));
    CHECKF(orch_search_config_diff(a, t3, diff, sizeof diff) == 2 &&
           strstr(diff, "seed (1 vs 2)") && strstr(diff, "ppo.entropy (0.02"), "diff: %s", diff);
    CHECK(orch_search_config_diff(a, t2, diff, sizeof diff) == 0);

    /* a fidelity whose table row changed is another search, named by fidelity.def */
    size_t n = strlen(a);
    char *old = malloc(n + 16);
    const char *p = strstr(a, "fidelity.def=resnet:1");
    if (old && p) {
        memcpy(old, a, (size_t)(p - a));
        strcpy(old + (p - a), "fidelity.def=cnn");
        strcat(old, strchr(p, ' '));
        CHECK(orch_search_config_hash(old) != orch_search_config_hash(a));
        CHECKF(orch_search_config_diff(old, a, diff, sizeof diff) == 1 &&
               strstr(diff, "fidelity.def (cnn train_limit"), "diff: %s", diff);
        CHECK(orch_search_config_read(old, &r, &strings, &d) == ACT_OK);   /* readable */
        free(strings);
    }
    free(old);
    free(a);
    free(t2);
    free(t3);
}

void test_orch_search_config_values(void)
{
    orch_search_config c = orch_search_config_default();
    CHECK(orch_search_config_set(&c, "strategy", "evolution") == ACT_OK &&
          c.strat.population == 100 && c.strat.tournament == 25);
    CHECK(orch_search_config_set(&c, "evolution.population", "10") == ACT_OK);
    CHECK(orch_search_config_set(&c, "strategy", "evolution") == ACT_OK &&
          c.strat.population == 10);   /* the same strategy keeps what was set */
    CHECK(orch_search_config_set(&c, "strategy", "nope") == ACT_EINVAL);
    CHECK(orch_search_config_set(&c, "nope", "1") == ACT_ENOTFOUND);
    CHECK(orch_search_config_set(&c, "fidelity.def", "cnn") == ACT_ENOTFOUND);
    CHECK(orch_search_config_set(&c, "format", "x") == ACT_ENOTFOUND);
    CHECK(orch_search_config_set(&c, "units", "0") == ACT_EINVAL);
    CHECK(orch_search_config_set(&c, "floor", "nan") == ACT_EINVAL);
    act_diag d;
    orch_search_config e = orch_search_config_default();
    e.fidelity = "nope";
    CHECKF(orch_search_config_check(&e, &d) == ACT_ENOTFOUND && strstr(d.msg, "proxy") &&
           strstr(d.msg, "synthetic"), "%s", d.msg);
    e = orch_search_config_default();
    e.space = "nope";
    CHECKF(orch_search_config_check(&e, &d) == ACT_ENOTFOUND && strstr(d.msg, "full"), "%s",
           d.msg);
    e = orch_search_config_default();
    e.strat = act_strategy_config_default(ACT_STRATEGY_EVOLUTION);
    e.strat.population = 5;   /* tournament 25 > population */
    CHECK(orch_search_config_check(&e, &d) == ACT_EINVAL);

    /* ASHA's rungs: E / eta^k, as many as stay >= 1 epoch */
    int ep[ORCH_MAX_RUNGS], n = 0;
    e = orch_search_config_default();
    e.fidelity = "paper";
    CHECK(orch_search_rungs(&e, ep, &n, NULL) == ACT_OK && n == 1 && ep[0] == 24);
    e.asha = 1;
    CHECK(orch_search_rungs(&e, ep, &n, NULL) == ACT_OK && n == 3 && ep[0] == 2 &&
          ep[1] == 8 && ep[2] == 24);
    e.asha_eta = 2;
    CHECK(orch_search_rungs(&e, ep, &n, NULL) == ACT_OK && n == 5 && ep[0] == 1 &&
          ep[4] == 24);
    e.asha_rungs = 2;
    CHECK(orch_search_rungs(&e, ep, &n, NULL) == ACT_OK && n == 2 && ep[0] == 12);
    e = orch_search_config_default();
    e.asha = 1;   /* the proxy has one epoch */
    CHECKF(orch_search_config_check(&e, &d) == ACT_EINVAL && strstr(d.msg, "epochs"), "%s",
           d.msg);
    e.fidelity = "synthetic";
    e.deterministic = 1;
    CHECK(orch_search_config_check(&e, &d) == ACT_EINVAL);

    /* text that is not a configuration */
    orch_search_config r;
    char *strings = NULL;
    CHECK(orch_search_config_read("format=actlab-search-1\nbogus=1\n", &r, &strings, &d) ==
          ACT_EFORMAT && strstr(d.msg, "bogus"));
    CHECK(orch_search_config_read("format=actlab-search-1\nseed=1\nseed=2\n", &r, &strings,
                                  &d) == ACT_EFORMAT && strstr(d.msg, "repeated"));
    CHECK(orch_search_config_read("format=other\n", &r, &strings, &d) == ACT_EFORMAT);
    CHECK(orch_search_config_read("no equals\n", &r, &strings, &d) == ACT_EFORMAT);
}
