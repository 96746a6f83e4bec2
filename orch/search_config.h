/* search_config.h -- the configuration of one search (strategy, space, fidelity, seeds, ...) and
 * its canonical text, which the journal stores with its hash: `actlab search resume` rebuilds
 * the search from it and refuses options that would make it another search, naming the keys.
 *
 * The text is "key=value" lines in a fixed order (act_run_text_value reads a value back). Two
 * kinds of keys: those that define the search (hashed: strategy, space, units, seed, fidelity,
 * deterministic, batch, max_attempts, floor, the strategy's hyper-parameters, seed expressions)
 * and those that only say when to stop or how patient to be (not hashed, may change on resume:
 * budget, time_budget, max_failed, lease_s). Nothing here prints or exits.
 */
#ifndef ACTLAB_ORCH_SEARCH_CONFIG_H
#define ACTLAB_ORCH_SEARCH_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "actlab/search.h"
#include "actlab/status.h"

#define ORCH_SEARCH_FORMAT   "actlab-search-1"
#define ORCH_MAX_SEED_EXPRS  64

typedef struct orch_search_config {
    act_strategy_config strat;       /* kind, n_units, the hyper-parameters; strat.seed = seed;
                                        strat.preset = the preset named by space */
    const char *space;               /* a preset of act_space_preset_lookup ("full") */
    const char *fidelity;            /* a row of orch_fidelity_lookup ("proxy") */
    uint64_t    seed;                /* the strategy's seed and every trial's training seed (1) */
    int         deterministic;       /* 1: synchronous batches, results consumed in ticket order */
    int         batch;               /* deterministic: proposals per batch, 1..4096 (8) */
    int         max_attempts;        /* a trial whose worker died this often is failed_infra (3) */
    double      floor;               /* the reward of a rejected or failed candidate (0) */
    int         asha;                /* 1: asynchronous successive halving over the fidelity's
                                        epochs (docs/search.md, "Multi-fidelity") */
    int         asha_eta;            /* promote the top 1/eta of each rung, 2..100 (3) */
    int         asha_rungs;          /* at most this many rungs, 2..8; 0: as many as the
                                        fidelity's epochs allow (up to 8) */
    int         n_seed_exprs;        /* trained first, before any proposal of the strategy */
    const char *seed_exprs[ORCH_MAX_SEED_EXPRS];
    /* when to stop (not hashed) */
    int64_t     budget;              /* trials (trainings) in the journal; 0: no limit */
    double      time_budget_s;       /* of this run (or resume); 0: no limit */
    int64_t     max_failed;          /* failed trials (candidate or infra) that stop it; 0: none */
    double      lease_s;             /* a worker silent this long is killed, its trial re-queued
                                        (60) */
} orch_search_config;

/* exhaustive over "full", 1 unit, fidelity "proxy", seed 1, the strategy's defaults. */
orch_search_config orch_search_config_default(void);

/* Checks c (names resolved, ranges) and sets c->strat.preset and c->strat.seed. ACT_EINVAL
 * with diag naming the key and what is valid; ACT_ENOTFOUND for an unknown strategy, space or
 * fidelity (diag lists the valid names). */
ACT_NODISCARD int orch_search_config_check(orch_search_config *c, act_diag *diag);

/* The canonical text of c (checked) into *out (caller frees). */
ACT_NODISCARD int orch_search_config_write(const orch_search_config *c, char **out);

/* Parses text into *c (defaults for missing keys, then checked); strings of *c point into
 * *strings (caller frees after the last use of *c). ACT_EFORMAT with diag for an unknown or
 * repeated key or a bad value. */
ACT_NODISCARD int orch_search_config_read(const char *text, orch_search_config *c,
                                          char **strings, act_diag *diag);

/* Sets one key of the text form from value (borrowed: it must outlive c), as a command line
 * does: "strategy" resets the hyper-parameters to that strategy's defaults (set it first),
 * "seed_expr.N" must be the next one. ACT_ENOTFOUND for a key that is not one, ACT_EINVAL for
 * a bad value (names are checked later, by orch_search_config_check). */
ACT_NODISCARD int orch_search_config_set(orch_search_config *c, const char *key,
                                         const char *value);

#define ORCH_MAX_RUNGS 8

/* ASHA's rungs for c (checked): their epochs, lowest first, into epochs[0..n) (n <= 8); the
 * last is the fidelity's. Without asha: one rung. ACT_EINVAL when the fidelity has too few
 * epochs for two rungs (diag says so). */
ACT_NODISCARD int orch_search_rungs(const orch_search_config *c, int epochs[ORCH_MAX_RUNGS],
                                    int *n, act_diag *diag);

/* FNV-1a 64 of the lines that define the search (not budget, time_budget, max_failed,
 * lease_s). */
uint64_t orch_search_config_hash(const char *text);

/* The defining keys whose values differ between texts a and b, as "key (a: V, b: W)" items
 * separated by "; ", into buf (always terminated); the number of keys that differ. */
int orch_search_config_diff(const char *a, const char *b, char *buf, size_t cap);

#endif
