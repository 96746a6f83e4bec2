/* evolution.c -- regularized (aging) evolution over core-unit candidates (Real, Aggarwal, Huang,
 * Le, arXiv 1802.01548, Algorithm 1) and its mutation operators on the unit representation:
 * change a unary, a binary or an input, add, remove or re-sample a unit, identity (the change /
 * insert / remove / regenerate operators of Bingham et al., arXiv 2002.07224, on core units).
 * The interface and the pending tickets are strategy.c's. */
#include <string.h>

#include "search/strategy_int.h"

static const act_strategy_member *member(const act_strategy *s, size_t i)
{
    return &s->pop[(s->head + i) % (size_t)s->cfg.population];
}

static int below(act_rng *rng, int n)
{
    return (int)act_rng_below(rng, (uint64_t)n);
}

/* A value of mask other than cur, uniformly; -1 if there is none. */
static int pick_other(act_rng *rng, uint32_t mask, int n, int cur)
{
    int list[32], k = 0;
    for (int i = 0; i < n; i++)
        if ((mask >> i & 1u) && i != cur)
            list[k++] = i;
    return k ? list[below(rng, k)] : -1;
}

// ----------------------------------------------------------------------------
// mutation operators: each changes c in place and returns 1, or returns 0 when it does not
// apply to c (the caller then draws another operator)

/* One unary slot (unit and side uniform over the free slots; the b(x, g(x)) form's fixed
 * identity is not one) to another unary of the preset. */
static int mut_unary(const act_space_preset *ps, act_rng *rng, act_space_cand *c)
{
    int n = c->n_units, slots = 2 * n - (ps->bxg ? 1 : 0);
    int k = below(rng, slots);
    if (ps->bxg && k == 2 * n - 2)          /* skip the last unit's fixed u1 */
        k = 2 * n - 1;
    act_space_unit *q = &c->unit[k / 2];
    uint8_t *f = k % 2 ? &q->un2 : &q->un1;
    int v = pick_other(rng, ps->unary_mask, ACT_SPACE_UNARY_COUNT, *f);
    if (v < 0)
        return 0;
    *f = (uint8_t)v;
    return 1;
}

/* One unit's binary (unit uniform) to another binary of the preset. */
static int mut_binary(const act_space_preset *ps, act_rng *rng, act_space_cand *c)
{
    act_space_unit *q = &c->unit[below(rng, c->n_units)];
    int v = pick_other(rng, ps->binary_mask, ACT_SPACE_BINARY_COUNT, q->binary);
    if (v < 0)
        return 0;
    q->binary = (uint8_t)v;
    return 1;
}

/* One input slot (uniform over the free slots: unit 0 has only x, the b(x, g(x)) form fixes the
 * last unit's first input) to another value it may take: x or an earlier unit's output. */
static int mut_input(const act_space_preset *ps, act_rng *rng, act_space_cand *c)
{
    int n = c->n_units, slots = 2 * (n - 1) - (ps->bxg && n > 1 ? 1 : 0);
    if (slots <= 0)
        return 0;
    int k = below(rng, slots) + 2;          /* slot k: unit k / 2, input k % 2 + 1 */
    if (ps->bxg && k == 2 * n - 2)
        k = 2 * n - 1;
    int u = k / 2;
    act_space_unit *q = &c->unit[u];
    uint8_t *f = k % 2 ? &q->in2 : &q->in1;
    int v = below(rng, u);                  /* one of the u values in [0, u] other than *f */
    *f = (uint8_t)(v >= *f ? v + 1 : v);
    return 1;
}

/* A new last unit, drawn as act_space_sample draws one, that reads the old output in one of its
 * inputs (chosen uniformly; the second input under the b(x, g(x)) form), so it is not dead. */
static int mut_add_unit(const act_strategy *s, act_rng *rng, act_space_cand *c)
{
    int n = c->n_units;
    if (n >= s->cfg.n_units)
        return 0;
    act_space_unit q;
    acti_strategy_draw_unit(&s->ps, n + 1, n, rng, &q);
    if (s->ps.bxg || below(rng, 2))
        q.in2 = (uint8_t)n;
    else
        q.in1 = (uint8_t)n;
    c->unit[n] = q;
    c->n_units = n + 1;
    return 1;
}

/* Removes unit j (uniform). Removing the last unit makes the one before it the output (put into
 * the b(x, g(x)) form when the preset asks for it); removing an inner unit rewires the later
 * inputs that read it to one of its own inputs (chosen uniformly) and renumbers the rest. */
static int mut_remove_unit(const act_space_preset *ps, act_rng *rng, act_space_cand *c)
{
    int n = c->n_units;
    if (n <= 1)
        return 0;
    int j = below(rng, n);
    if (j < n - 1) {
        uint8_t repl = below(rng, 2) ? c->unit[j].in2 : c->unit[j].in1;
        for (int k = j + 1; k < n; k++) {
            uint8_t *in[2] = { &c->unit[k].in1, &c->unit[k].in2 };
            for (int t = 0; t < 2; t++)
                if (*in[t] == j + 1)
                    *in[t] = repl;
                else if (*in[t] > j + 1)
                    (*in[t])--;
        }
        memmove(&c->unit[j], &c->unit[j + 1], (size_t)(n - 1 - j) * sizeof c->unit[0]);
    }
    c->n_units = n - 1;
    if (ps->bxg) {
        c->unit[n - 2].in1 = 0;
        c->unit[n - 2].un1 = ACT_SPACE_U_X;
    }
    acti_strategy_clear_tail(c);
    return 1;
}

/* One unit (uniform) drawn afresh as act_space_sample draws it. */
static int mut_resample(const act_space_preset *ps, act_rng *rng, act_space_cand *c)
{
    int u = below(rng, c->n_units);
    acti_strategy_draw_unit(ps, c->n_units, u, rng, &c->unit[u]);
    return 1;
}

static int same_cand(const act_space_cand *a, const act_space_cand *b)
{
    return a->n_units == b->n_units &&
           memcmp(a->unit, b->unit, (size_t)a->n_units * sizeof a->unit[0]) == 0;
}

/*
 * The child of parent: with probability p_identity the parent itself (IDENTITY); otherwise an
 * operator drawn uniformly from the six others, redrawn (with a fresh operator) until it applies
 * and gives a candidate of the space that differs from the parent. After 100 failed draws (a
 * space where nothing else is reachable, e.g. one unary, one binary, one unit) the child is the
 * parent, reported as IDENTITY.
 */
static act_strategy_mutation mutate(const act_strategy *s, act_rng *rng,
                                     const act_space_cand *parent, act_space_cand *child)
{
    static const act_strategy_mutation ops[] = {
        ACT_STRATEGY_MUT_UNARY,    ACT_STRATEGY_MUT_BINARY,      ACT_STRATEGY_MUT_INPUT,
        ACT_STRATEGY_MUT_ADD_UNIT, ACT_STRATEGY_MUT_REMOVE_UNIT, ACT_STRATEGY_MUT_RESAMPLE,
    };
    *child = *parent;
    if (act_rng_uniform(rng) < s->cfg.p_identity)
        return ACT_STRATEGY_MUT_IDENTITY;
    for (int tries = 0; tries < 100; tries++) {
        act_space_cand c = *parent;
        act_strategy_mutation m = ops[below(rng, (int)(sizeof ops / sizeof *ops))];
        int ok = 0;
        switch (m) {
        case ACT_STRATEGY_MUT_UNARY:       ok = mut_unary(&s->ps, rng, &c); break;
        case ACT_STRATEGY_MUT_BINARY:      ok = mut_binary(&s->ps, rng, &c); break;
        case ACT_STRATEGY_MUT_INPUT:       ok = mut_input(&s->ps, rng, &c); break;
        case ACT_STRATEGY_MUT_ADD_UNIT:    ok = mut_add_unit(s, rng, &c); break;
        case ACT_STRATEGY_MUT_REMOVE_UNIT: ok = mut_remove_unit(&s->ps, rng, &c); break;
        case ACT_STRATEGY_MUT_RESAMPLE:    ok = mut_resample(&s->ps, rng, &c); break;
        case ACT_STRATEGY_MUT_NONE: case ACT_STRATEGY_MUT_IDENTITY: case ACT_STRATEGY_MUT_COUNT:
            break;
        }
        acti_strategy_clear_tail(&c);
        if (ok && act_strategy_in_space(&s->cfg, &c) && !same_cand(&c, parent)) {
            *child = c;
            return m;
        }
    }
    return ACT_STRATEGY_MUT_IDENTITY;
}

// ----------------------------------------------------------------------------
// Algorithm 1, driven by proposals and observations

int acti_evolution_propose(const act_strategy *s, act_rng *rng, act_strategy_proposal *out)
{
    if (s->n_pop < (size_t)s->cfg.population) {   /* the initial population: random */
        out->parent = 0;
        out->mutation = ACT_STRATEGY_MUT_NONE;
        return act_space_sample(&s->ps, s->cfg.n_units, &rng->state, &out->cand);
    }
    /* tournament: S members uniformly with replacement; the best wins, the first drawn on ties */
    const act_strategy_member *best = NULL;
    for (int k = 0; k < s->cfg.tournament; k++) {
        const act_strategy_member *m = member(s, (size_t)act_rng_below(rng, s->n_pop));
        if (!best || m->reward > best->reward)
            best = m;
    }
    out->parent = best->ticket;
    out->mutation = mutate(s, rng, &best->cand, &out->cand);
    return ACT_OK;
}

void acti_evolution_join(act_strategy *s, const act_space_cand *c, uint64_t ticket,
                         double reward)
{
    size_t cap = (size_t)s->cfg.population;
    act_strategy_member m = { *c, ticket, reward };
    if (s->n_pop < cap) {
        s->pop[(s->head + s->n_pop) % cap] = m;
        s->n_pop++;
    } else {                                     /* aging: the oldest leaves */
        s->pop[s->head] = m;
        s->head = (s->head + 1) % cap;
    }
}
