/* search.h -- search strategies over the core-unit space (space.h): one interface for every way
 * of choosing the next candidate to train, with no I/O, threads or clocks, so that a coordinator
 * (journal, workers) can drive any of them and resume it from bytes.
 *
 *     act_strategy_config c = act_strategy_config_default(ACT_STRATEGY_EVOLUTION);
 *     c.preset = act_space_preset_lookup("bxg");  c.n_units = 2;  c.seed = 7;
 *     act_strategy *s;  act_strategy_new(&c, &s);
 *     act_strategy_proposal p;
 *     while (act_strategy_propose(s, &p) == ACT_OK) {     // ACT_EEXHAUSTED: nothing left
 *         ... train p.cand, maybe on another machine, maybe later ...
 *         act_strategy_observe(s, p.ticket, reward);      // any order, any time
 *     }
 *     uint8_t *buf;  size_t len;  act_strategy_save(s, &buf, &len);    // the whole state
 *     act_strategy_free(s);  act_strategy_load(&c, buf, len, &s);  free(buf);
 *
 * Every proposal gets a ticket (1, 2, 3, ...: unique, increasing); its reward comes back through
 * act_strategy_observe with that ticket, in any order and possibly after a save and load, since
 * the tickets awaiting a reward are part of the state. The state is a pure function of the
 * configuration and the sequence of calls: the same config and the same propose/observe/cancel
 * calls give the same proposals, also across a save/load anywhere in the sequence.
 *
 * Strategies (sources: Ramachandran, Zoph, Le, arXiv 1710.05941; Real, Aggarwal, Huang, Le,
 * arXiv 1802.01548, Algorithm 1; Bingham et al., arXiv 2002.07224 for the mutation operators):
 *   exhaustive  every candidate of the space in act_space_nth order, then ACT_EEXHAUSTED
 *   random      uniform act_space_sample draws
 *   evolution   regularized (aging) evolution: random until P rewards are in, then tournament
 *               of S, mutate the winner; an observed reward joins, the oldest member leaves
 *   ppo         the paper's controller: an LSTM emits per unit binary, input 1, input 2,
 *               unary 1, unary 2 from masked softmaxes (Zoph & Le, arXiv 1611.01578); every
 *               ppo_batch rewards, ppo_epochs Adam steps on PPO's clipped objective (Schulman et
 *               al., arXiv 1707.06347) with advantage R - b, b an EMA of the rewards; the
 *               proposal's logp (kept with the pending ticket) is the ratio's denominator.
 *               Its arithmetic is double: the same machine and calls give the same bits;
 *               across machines (libm, compiler) no bitwise promise
 * The design, defaults, mutation operators and byte format: docs/search.md, "Strategies".
 * Nothing here prints, exits or keeps global state.
 */
#ifndef ACTLAB_SEARCH_H
#define ACTLAB_SEARCH_H

#include <stddef.h>
#include <stdint.h>
#include "actlab/space.h"
#include "actlab/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(ID, name) -- the strategies; name is the CLI's and the saved state's. */
#define ACT_STRATEGY_LIST(X)      \
    X(EXHAUSTIVE, "exhaustive")   \
    X(RANDOM,     "random")       \
    X(EVOLUTION,  "evolution")    \
    X(PPO,        "ppo")

typedef enum act_strategy_kind {
#define X(ID, name) ACT_STRATEGY_##ID,
    ACT_STRATEGY_LIST(X)
#undef X
    ACT_STRATEGY_COUNT
} act_strategy_kind;

/* X(ID, name) -- how a proposal was made from its parent (evolution); NONE: no parent (random,
 * enumerated, or evolution's initial population). */
#define ACT_STRATEGY_MUTATION_LIST(X)   \
    X(NONE,        "none")              \
    X(IDENTITY,    "identity")          \
    X(UNARY,       "unary")             \
    X(BINARY,      "binary")            \
    X(INPUT,       "input")             \
    X(ADD_UNIT,    "add-unit")          \
    X(REMOVE_UNIT, "remove-unit")       \
    X(RESAMPLE,    "resample")

typedef enum act_strategy_mutation {
#define X(ID, name) ACT_STRATEGY_MUT_##ID,
    ACT_STRATEGY_MUTATION_LIST(X)
#undef X
    ACT_STRATEGY_MUT_COUNT
} act_strategy_mutation;

#define ACT_STRATEGY_MAX_POPULATION 1000000

typedef struct act_strategy_config {
    act_strategy_kind       kind;
    const act_space_preset *preset;     /* "full"; copied by act_strategy_new (masks and form) */
    int                     n_units;    /* 1..ACT_SPACE_MAX_UNITS (1). exhaustive and random:
                                           exactly this many units; evolution: its initial
                                           candidates have this many, mutations keep 1..n_units */
    uint64_t                seed;       /* the RNG's initial state (1) */
    int                     population; /* evolution: P, 1..ACT_STRATEGY_MAX_POPULATION (100) */
    int                     tournament; /* evolution: S, 1..P (25) */
    double                  p_identity; /* evolution: probability of an unchanged child, [0, 1]
                                           (0.05) */
    int                     ppo_hidden; /* ppo: the LSTM's hidden size, 1..256 (16) */
    int                     ppo_batch;  /* ppo: rewards per policy update, 1..4096 (8) */
    int                     ppo_epochs; /* ppo: Adam steps per update on that batch, 1..100 (2) */
    double                  ppo_lr;     /* ppo: Adam's learning rate, (0, 1] (0.1) */
    double                  ppo_decay;  /* ppo: the EMA baseline's decay d, [0, 1) (0.9) */
    double                  ppo_clip;   /* ppo: the ratio's clip range eps, (0, 1) (0.2) */
    double                  ppo_entropy; /* ppo: the entropy bonus's weight, [0, 1] (0.02) */
    double                  ppo_temperature; /* ppo: T of the logits C tanh(z / T), [0.01, 100]
                                           (5) */
    double                  ppo_tanh;   /* ppo: C of those logits, [0, 100]; 0: logits z / T
                                           (1.5) */
} act_strategy_config;

/* The defaults above for kind (Real et al.'s P = 100, S = 25, identity 0.05; ppo's: see
 * docs/search.md, "ppo"). */
ACT_API act_strategy_config act_strategy_config_default(act_strategy_kind kind);

/* ACT_OK, or ACT_ENOTFOUND for a name not in ACT_STRATEGY_LIST (out untouched). */
ACT_API ACT_NODISCARD int act_strategy_lookup(const char *name, act_strategy_kind *out);
/* Static name of kind; NULL if out of range. */
ACT_API const char *act_strategy_name(act_strategy_kind kind);
ACT_API const char *act_strategy_mutation_name(act_strategy_mutation m);

/* 1 if c is a candidate of cfg's space: 1..n_units units, every primitive allowed by the preset,
 * inputs x or an earlier unit, the b(x, g(x)) form where the preset asks for it, at most
 * ACT_EXPR_MAX_PARAMS betas (the rules of act_space_sample); else 0 (also for a bad cfg). */
ACT_API int act_strategy_in_space(const act_strategy_config *cfg, const act_space_cand *c);

typedef struct act_strategy act_strategy;   /* opaque: owns its state in one allocation + the
                                               growable list of pending tickets */

/* A new strategy in *out (caller frees with act_strategy_free). ACT_EINVAL for a bad config
 * (unknown kind, NULL or empty preset, n_units, P, S, p_identity or a ppo_ field out of range;
 * ppo over a preset where some slot offers only primitives with a beta and n_units units could
 * hold more than ACT_EXPR_MAX_PARAMS), ACT_ENOMEM. */
ACT_API ACT_NODISCARD int act_strategy_new(const act_strategy_config *cfg, act_strategy **out);
ACT_API void act_strategy_free(act_strategy *s);            /* NULL is a no-op */

/* The configuration s runs (its preset points into s). */
ACT_API const act_strategy_config *act_strategy_get_config(const act_strategy *s);

#define ACT_STRATEGY_TOKENS_PER_UNIT 5
#define ACT_STRATEGY_MAX_TOKENS      (ACT_STRATEGY_TOKENS_PER_UNIT * ACT_SPACE_MAX_UNITS)

/* One proposal: plain data in caller storage, nothing to release. */
typedef struct act_strategy_proposal {
    act_space_cand        cand;       /* units past cand.n_units are zero */
    uint64_t              ticket;     /* 1, 2, 3, ... in proposal order, never reused */
    double                logp;       /* log-probability the policy sampled cand with (ppo);
                                         0 for the other strategies */
    int                   n_tokens;   /* 5 * cand.n_units */
    uint8_t               token[ACT_STRATEGY_MAX_TOKENS];  /* the controller's actions, per unit
                                         in the paper's order: binary, input 1, input 2, unary 1,
                                         unary 2 (primitive ids, input 0 = x, j = unit j-1) */
    uint64_t              parent;     /* evolution: the parent's ticket; 0 without one */
    act_strategy_mutation mutation;   /* evolution: the operator that made cand from parent */
} act_strategy_proposal;

/* The next candidate into *out and a new ticket, which stays pending until observed or
 * cancelled. ACT_EEXHAUSTED when exhaustive has proposed every candidate (no ticket is used,
 * s is unchanged); ACT_ENOMEM (s unchanged); ACT_EINVAL for NULL arguments. */
ACT_API ACT_NODISCARD int act_strategy_propose(act_strategy *s, act_strategy_proposal *out);

/* A candidate chosen by the caller (a known function to start from: `--seed-expr`) as the
 * next proposal, with a new pending ticket, exactly as if the strategy had proposed it: its
 * reward makes it an evolution member like any other; ppo records the log-probability its
 * policy gives it now (an off-policy sample, which PPO's clipped ratio tolerates). The RNG,
 * the exhaustive cursor and everything else are unchanged. ACT_EINVAL for a candidate outside
 * the space (act_strategy_in_space; for ppo also fewer units than n_units), ACT_ENOMEM. */
ACT_API ACT_NODISCARD int act_strategy_inject(act_strategy *s, const act_space_cand *c,
                                              act_strategy_proposal *out);

/* The reward of a pending ticket (higher is better; a rejected or failed candidate gets
 * whatever floor the caller chooses). May update the strategy (evolution: the candidate joins
 * the population and the oldest member leaves; ppo: a policy update when a batch is complete).
 * ACT_ENOTFOUND for a ticket that is not pending (never proposed, already observed or
 * cancelled: s unchanged), ACT_EINVAL for a non-finite reward or NULL s. */
ACT_API ACT_NODISCARD int act_strategy_observe(act_strategy *s, uint64_t ticket, double reward);

/* Forgets a pending ticket without a reward (a trial that will never finish): it changes
 * nothing else. ACT_ENOTFOUND if the ticket is not pending. */
ACT_API ACT_NODISCARD int act_strategy_cancel(act_strategy *s, uint64_t ticket);

typedef struct act_strategy_info {
    act_strategy_kind kind;
    uint64_t          n_proposed;    /* tickets issued (the last ticket) */
    uint64_t          n_observed;
    uint64_t          n_canceled;
    size_t            n_pending;     /* n_proposed - n_observed - n_canceled */
    size_t            n_population;  /* evolution: members now, <= P; else 0 */
    uint64_t          space_size;    /* act_space_count(preset, n_units) */
    uint64_t          cursor;        /* exhaustive: candidates proposed so far; else 0 */
} act_strategy_info;

ACT_API ACT_NODISCARD int act_strategy_get_info(const act_strategy *s, act_strategy_info *out);

/* The i-th pending proposal, in ticket order (i < n_pending): what propose returned for it. */
ACT_API ACT_NODISCARD int act_strategy_pending(const act_strategy *s, size_t i,
                                               act_strategy_proposal *out);

/* An evolution population member; i = 0 is the oldest (next to leave), i < n_population. */
typedef struct act_strategy_member {
    act_space_cand cand;
    uint64_t       ticket;
    double         reward;
} act_strategy_member;

ACT_API ACT_NODISCARD int act_strategy_member_at(const act_strategy *s, size_t i,
                                                 act_strategy_member *out);

/*
 * The complete state of s as bytes in *buf (*len bytes, owned by the caller: free()): a magic,
 * a format version, the strategy's name and configuration, the RNG state, the ticket counter,
 * every pending proposal, the strategy's own state (exhaustive cursor, evolution population
 * oldest first; ppo's fields, controller parameters, Adam moments and step, EMA baseline and the
 * observations awaiting an update), and a CRC-32 of all of it; little-endian, independent of
 * the host. s is not changed. ACT_ENOMEM.
 */
ACT_API ACT_NODISCARD int act_strategy_save(const act_strategy *s, uint8_t **buf, size_t *len);

/* A new strategy in *out from act_strategy_save's bytes (buf is only read), for configuration
 * cfg. ACT_EFORMAT for bytes that are truncated, corrupt (CRC), of another format version or
 * inconsistent (a candidate outside the space, tickets out of order, ...); ACT_EINVAL for a bad
 * cfg or a state saved under another configuration (kind, preset masks and form, n_units,
 * seed, P, S, p_identity, the ppo_ fields); ACT_ENOMEM. On failure *out is NULL. */
ACT_API ACT_NODISCARD int act_strategy_load(const act_strategy_config *cfg, const uint8_t *buf,
                                            size_t len, act_strategy **out);

#ifdef __cplusplus
}
#endif
#endif
