/* test_search_ppo.c -- tests of the ppo strategy's controller (src/search/ppo.c): its backward
 * pass against central finite differences for every parameter block, and proposals that are
 * valid in every preset with the logp the controller gives them. Resuming, corrupt bytes and the
 * synthetic objective are in test_search_strategy.c with the other strategies'. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/search.h"
#include "search/strategy_int.h"
#include "search_rules.h"
#include "test.h"

static act_strategy *make_ppo(const char *preset, int n_units, int hidden, uint64_t seed)
{
    act_strategy_config c = act_strategy_config_default(ACT_STRATEGY_PPO);
    c.preset = act_space_preset_lookup(preset);
    c.n_units = n_units;
    c.ppo_hidden = hidden;
    c.seed = seed;
    act_strategy *s = NULL;
    int rc = act_strategy_new(&c, &s);
    CHECKF(rc == ACT_OK && s, "act_strategy_new(ppo, %s, %d units): %s", preset, n_units,
           act_strerror(rc));
    return s;
}

/* the blocks of the flat parameter vector, as ppo.c lays them out (checked against n_params) */
typedef struct block {
    char   name[16];
    size_t off, n;
} block;

static int blocks_of(int H, block *b)
{
    static const int n_choice[5] = { ACT_SPACE_BINARY_COUNT, ACT_SPACE_MAX_UNITS,
                                     ACT_SPACE_MAX_UNITS, ACT_SPACE_UNARY_COUNT,
                                     ACT_SPACE_UNARY_COUNT };
    size_t h = (size_t)H, o = 0;
    int n = 0;
    b[n] = (block){ "lstm_w", o, 8 * h * h };  o += b[n++].n;
    b[n] = (block){ "lstm_b", o, 4 * h };      o += b[n++].n;
    b[n] = (block){ "start", o, h };           o += b[n++].n;
    for (int k = 0; k < 5; k++) {
        b[n] = (block){ "", o, (size_t)n_choice[k] * h };
        snprintf(b[n].name, sizeof b[n].name, "emb_%d", k);
        o += b[n++].n;
        b[n] = (block){ "", o, (size_t)n_choice[k] * h };
        snprintf(b[n].name, sizeof b[n].name, "head_w_%d", k);
        o += b[n++].n;
        b[n] = (block){ "", o, (size_t)n_choice[k] };
        snprintf(b[n].name, sizeof b[n].name, "head_b_%d", k);
        o += b[n++].n;
    }
    return n;
}

/* alpha * logp + beta * entropy of c under s's current parameters */
static double objective(const act_strategy *s, const act_space_cand *c, double alpha,
                        double beta)
{
    double ent = 0.0, lp = acti_ppo_logp(s, c, &ent);
    return alpha * lp + beta * ent;
}

/*
 * Every parameter against a central difference (double precision: h = 1e-5, |g - num| <=
 * 1e-7 + 1e-5 |num|). Reports the worst error per block and requires a non-zero gradient in
 * every block the candidates reach.
 */
static void gradcheck(act_strategy *s, const act_space_cand *c, double alpha, double beta,
                      const char *what)
{
    acti_ppo *p = s->ppo;
    block b[3 + 15];
    int nb = blocks_of(p->hidden, b);
    CHECKF(b[nb - 1].off + b[nb - 1].n == p->n_params, "%s: the layout has %zu parameters",
           what, p->n_params);
    double *g = malloc(p->n_params * sizeof *g);
    if (!g) {
        CHECK(0);
        return;
    }
    double ent = 0.0;
    acti_ppo_grad(s, c, alpha, beta, &ent);
    memcpy(g, p->g, p->n_params * sizeof *g);
    const double h = 1e-5;
    double worst_all = 0.0;
    for (int k = 0; k < nb; k++) {
        double worst = 0.0, mass = 0.0;
        for (size_t i = b[k].off; i < b[k].off + b[k].n; i++) {
            double w0 = p->w[i];
            p->w[i] = w0 + h;
            double up = objective(s, c, alpha, beta);
            p->w[i] = w0 - h;
            double dn = objective(s, c, alpha, beta);
            p->w[i] = w0;
            double num = (up - dn) / (2 * h);
            double err = fabs(g[i] - num) / (1e-7 + 1e-5 * fabs(num));
            worst = fmax(worst, fabs(g[i] - num));
            mass += fabs(num);
            CHECKF(err <= 1.0, "%s: d/d%s[%zu] = %.10g, numeric %.10g", what, b[k].name,
                   i - b[k].off, g[i], num);
        }
        CHECKF(mass > 1e-6, "%s: block %s has no gradient", what, b[k].name);
        worst_all = fmax(worst_all, worst);
    }
    printf("  %-34s worst |analytic - numeric| %.2e over %zu parameters\n", what, worst_all,
           p->n_params);
    free(g);
}

void test_search_ppo_gradcheck(void)
{
    /* 3 units of full (every input choice is live) and of bxg (forced tokens), H = 6 */
    const char *presets[2] = { "full", "bxg" };
    for (int pi = 0; pi < 2; pi++) {
        act_strategy *s = make_ppo(presets[pi], 3, 6, 21 + (uint64_t)pi);
        if (!s)
            continue;
        act_strategy_proposal pr;
        CHECK(act_strategy_propose(s, &pr) == ACT_OK);
        for (int scale = 0; scale < 2; scale++) {
            /* the initial parameters, then perturbed ones (x 12 and shifted) so that the gates
             * and the tanh saturate partly and the softmaxes are far from uniform */
            if (scale) {
                acti_ppo *p = s->ppo;
                for (size_t i = 0; i < p->n_params; i++)
                    p->w[i] = 12.0 * p->w[i] + 0.05 * sin(0.7 * (double)i);
            }
            char what[64];
            snprintf(what, sizeof what, "%s, %s: logp", presets[pi], scale ? "perturbed" : "init");
            gradcheck(s, &pr.cand, 1.0, 0.0, what);
            snprintf(what, sizeof what, "%s, %s: entropy", presets[pi],
                     scale ? "perturbed" : "init");
            gradcheck(s, &pr.cand, 0.0, 1.0, what);
            snprintf(what, sizeof what, "%s, %s: -0.7 logp + 0.3 H", presets[pi],
                     scale ? "perturbed" : "init");
            gradcheck(s, &pr.cand, -0.7, 0.3, what);
        }
        act_strategy_free(s);
    }
}

/* Exactly n_units units, and a candidate of ps by the tests' own rules (search_rules.h). */
static int valid_cand(const act_space_preset *ps, int n_units, const act_space_cand *c)
{
    return c->n_units == n_units && test_search_valid(ps, n_units, c);
}

void test_search_ppo_proposals_valid(void)
{
    for (int i = 0; act_space_preset_at(i); i++) {
        const act_space_preset *ps = act_space_preset_at(i);
        for (int n = 1; n <= 3; n++) {
            act_strategy *s = make_ppo(ps->name, n, 8, 100 + (uint64_t)(10 * i + n));
            if (!s)
                continue;
            int bad = 0, bad_logp = 0, updates = 0;
            double min_logp = 0.0;
            act_rng rr = act_rng_seed(5);
            for (int k = 0; k < 120; k++) {
                act_strategy_proposal p;
                if (act_strategy_propose(s, &p) != ACT_OK) {
                    bad++;
                    break;
                }
                int tok_ok = p.n_tokens == 5 * n;
                for (int u = 0; u < n; u++) {
                    const act_space_unit *q = &p.cand.unit[u];
                    const uint8_t *t = &p.token[5 * u];
                    tok_ok &= t[0] == q->binary && t[1] == q->in1 && t[2] == q->in2 &&
                              t[3] == q->un1 && t[4] == q->un2;
                }
                bad += !tok_ok || !valid_cand(ps, n, &p.cand) ||
                       !act_strategy_in_space(act_strategy_get_config(s), &p.cand);
                /* the logp is the controller's for those tokens, now (before the update) */
                double again = acti_ppo_logp(s, &p.cand, NULL);
                bad_logp += !(p.logp <= 0.0) || again != p.logp;
                min_logp = fmin(min_logp, p.logp);
                uint64_t before = s->ppo->step;
                /* rewards that favour one binary, so the updates move the policy */
                double r = (p.cand.unit[n - 1].binary == ACT_SPACE_B_MUL) + 0.1 *
                           act_rng_uniform(&rr);
                CHECK(act_strategy_observe(s, p.ticket, r) == ACT_OK);
                updates += s->ppo->step != before;
            }
            CHECKF(bad == 0 && bad_logp == 0 &&
                   updates == 120 / act_strategy_get_config(s)->ppo_batch,
                   "%s, %d units: %d invalid, %d wrong logp, %d updates", ps->name, n, bad,
                   bad_logp, updates);
            CHECKF(min_logp < -1.0, "%s, %d units: logp never below -1 (%g)", ps->name, n,
                   min_logp);
            act_strategy_free(s);
        }
    }
    /* 8 units of full: masking keeps every candidate within the 8 betas */
    act_strategy *s = make_ppo("full", 8, 8, 3);
    int bad = 0;
    for (int k = 0; s && k < 200; k++) {
        act_strategy_proposal p;
        bad += act_strategy_propose(s, &p) != ACT_OK ||
               !valid_cand(act_space_preset_lookup("full"), 8, &p.cand) ||
               act_strategy_observe(s, p.ticket, 0.1 * p.cand.unit[7].binary) != ACT_OK;
    }
    CHECKF(bad == 0, "full, 8 units: %d invalid", bad);
    act_strategy_free(s);
}
