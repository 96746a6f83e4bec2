/* strategy_int.h -- what the strategy files share (strategy.c: the interface, exhaustive, random,
 * the byte format; evolution.c: aging evolution and its mutations; ppo.c: the LSTM controller
 * and its PPO updates). Not installed. */
#ifndef ACTLAB_STRATEGY_INT_H
#define ACTLAB_STRATEGY_INT_H

#include "actlab/rng.h"
#include "actlab/search.h"

/* An observed proposal awaiting ppo's next update. */
typedef struct acti_ppo_obs {
    act_space_cand cand;          /* its tokens are the candidate's fields, in token order */
    double         logp;          /* the log-probability it was sampled with */
    double         reward;
} acti_ppo_obs;

/* One step of the controller's last forward pass (ppo.c). */
typedef struct acti_ppo_step {
    int     n_valid;              /* choices allowed at this step (1: the token is forced) */
    uint8_t valid[32];            /* their ids, ascending */
    uint8_t token;
    double  entropy;              /* of the masked softmax */
} acti_ppo_step;

/* The ppo strategy's state; its arrays live in the strategy's allocation. */
typedef struct acti_ppo {
    int            hidden;        /* H */
    double         temperature;   /* T and C of the logits C tanh(z / T) (C = 0: z / T) */
    double         tanh_c;
    size_t         n_params;
    double        *w, *m, *v;     /* parameters, Adam's first and second moments (state) */
    uint64_t       step;          /* Adam steps taken (state) */
    int            has_baseline;  /* 0 until the first batch is complete (state) */
    double         baseline;      /* EMA of the rewards (state) */
    acti_ppo_obs  *obs;           /* observed since the last update, n_obs < ppo_batch (state) */
    size_t         n_obs;
    double        *g;             /* scratch: gradient, n_params */
    double        *cache;         /* scratch: activations of the last forward pass */
    acti_ppo_step  st[ACT_STRATEGY_MAX_TOKENS];
} acti_ppo;

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
    acti_ppo              *ppo;          /* ppo: its state, in the same allocation; else NULL */
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

/* PPO (ppo.c). bytes: what the state's arrays need for cfg (0 unless ppo), placed by place
 * at mem (8-byte aligned); init draws the initial parameters from *rng. propose: a sampled
 * candidate, its tokens and logp into *out (rng advanced; s's scratch used). observe: the
 * observation joins the batch, a full batch runs the update. */
size_t acti_ppo_bytes(const act_strategy_config *cfg);
void   acti_ppo_place(acti_ppo *p, const act_strategy_config *cfg, void *mem);
void   acti_ppo_init(acti_ppo *p, act_rng *rng);
int    acti_ppo_propose(const act_strategy *s, act_rng *rng, act_strategy_proposal *out);
void   acti_ppo_observe(act_strategy *s, const act_space_cand *c, double logp, double reward);

/* The controller's log-probability of c under its current parameters (the sum over its tokens)
 * and, in *entropy if not NULL, the sum of each step's entropy given the tokens before it.
 * grad also adds d(alpha * logp + beta * entropy)/dw to p->g (zeroed first). For tests. */
double acti_ppo_logp(const act_strategy *s, const act_space_cand *c, double *entropy);
double acti_ppo_grad(const act_strategy *s, const act_space_cand *c, double alpha, double beta,
                     double *entropy);

/* 1 if the ppo controller can always meet the beta limit in cfg's space by masking (every
 * unary and binary slot has a beta-free choice, or the units cannot hold more betas). */
int acti_ppo_space_ok(const act_strategy_config *cfg);

#endif
