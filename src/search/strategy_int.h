/* strategy_int.h -- what the strategy files share (strategy.c: the interface, exhaustive, random,
 * the byte format; evolution.c: aging evolution and its mutations). Not installed. */
#ifndef ACTLAB_STRATEGY_INT_H
#define ACTLAB_STRATEGY_INT_H

#include "actlab/rng.h"
#include "actlab/search.h"

struct act_strategy {
    act_strategy_config    cfg;          /* cfg.preset points at ps */
    act_space_preset       ps;           /* the caller's preset, copied */
    uint64_t               space_size;   /* act_space_count(&ps, cfg.n_units) */
    act_rng                rng;
    uint64_t               last_ticket;  /* tickets issued: 1..last_ticket */
    uint64_t               n_observed;
    uint64_t               n_canceled;
    act_strategy_proposal *pend;         /* pending proposals, ascending tickets; owned */
    size_t                 n_pend, cap_pend;
    uint64_t               cursor;       /* exhaustive: the next act_space_nth index */
    act_strategy_member   *pop;          /* evolution: ring of cfg.population slots, in the same
                                            allocation as the struct; NULL for the others */
    size_t                 n_pop;        /* members now */
    size_t                 head;         /* slot of the oldest member */
};

/* The unit-th core unit of an n_units candidate drawn as act_space_sample draws it: binary and
 * unaries uniform over the preset's, inputs uniform over x and the earlier units, the b(x, g(x))
 * form on the last unit of a bxg preset. */
void acti_strategy_draw_unit(const act_space_preset *ps, int n_units, int unit, act_rng *rng,
                             act_space_unit *out);

/* Zeroes the units past c->n_units (so that equal candidates compare and save equal). */
void acti_strategy_clear_tail(act_space_cand *c);

/* Evolution (evolution.c). propose: *out's candidate, parent and mutation from the current
 * population and *rng (advanced; s itself untouched). join: a member observed with reward. */
int  acti_evolution_propose(const act_strategy *s, act_rng *rng, act_strategy_proposal *out);
void acti_evolution_join(act_strategy *s, const act_space_cand *c, uint64_t ticket,
                         double reward);

#endif
