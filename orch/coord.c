/* coord.c -- the search's coordinator (coord.h). One loop, one thread:
 *
 *   wait for an event (a worker's message or death, or a tick)
 *   BEGIN; handle it and every event already waiting (up to group_max): results are journaled
 *   and their rewards given to the strategy; dead or silent workers' trials re-queued
 *   propose (the candidate pipeline) until every idle worker has a queued trial
 *   lease queued trials to idle workers and send them
 *   store the strategy's state if it changed; COMMIT
 *
 * so the strategy state in the journal is always the one that consumed exactly the results and
 * issued exactly the proposals committed with it, and a kill -9 anywhere loses only work that
 * was not committed (trials in flight: re-queued on resume). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actlab/expr.h"
#include "actlab/space.h"
#include "coord.h"
#include "fidelity.h"

const char *orch_stop_name(orch_stop_reason r)
{
    static const char *const names[] = {
#define X(ID, name) name,
        ORCH_STOP_LIST(X)
#undef X
    };
    return (unsigned)r < ORCH_STOP_COUNT ? names[r] : "unknown";
}

// ----------------------------------------------------------------------------
// the local pool as a transport

static int pool_size(void *p) { return orch_pool_size(p); }
static int pool_poll(void *p, double t, orch_pool_event *ev, act_diag *d)
{
    return orch_pool_poll(p, t, ev, d);
}
static int pool_send(void *p, int i, const orch_msg *m) { return orch_pool_send(p, i, m); }
static void pool_kill(void *p, int i) { orch_pool_kill(p, i); }
static int pool_respawn(void *p, int i, act_diag *d) { return orch_pool_respawn(p, i, d); }

orch_transport orch_pool_transport(orch_pool *p)
{
    orch_transport t = { "local", p, pool_size, pool_poll, pool_send, pool_kill, pool_respawn };
    return t;
}

// ----------------------------------------------------------------------------
// state

enum { W_STARTING, W_IDLE, W_BUSY, W_DEAD };

typedef struct wslot {
    int     state;
    int64_t trial;          /* BUSY: the trial it runs */
    double  last_heard;     /* monotonic seconds of its last message (or of its start) */
} wslot;

typedef struct waiter {     /* a proposal whose reward the strategy has not received */
    uint64_t ticket;
    int64_t  trial;         /* 0: a rejected candidate (the floor) */
} waiter;

typedef struct coord {
    orch_journal              *j;
    const orch_search_config  *cfg;
    const orch_trial_plan     *plan;         /* a fixed list of trials (finalize); NULL: search */
    const char                *fid;          /* the fidelity new candidates train at (ASHA's
                                                rung 0; budget and rewards are counted there) */
    const char                *top_fid;      /* the fidelity of the leaderboard (top rung) */
    int                        n_rungs;      /* 1 without ASHA */
    char                       rung[ORCH_MAX_RUNGS][48];   /* fidelity names, lowest first */
    int64_t                    rung_done[ORCH_MAX_RUNGS];  /* done trials at rung k */
    int64_t                    rung_up[ORCH_MAX_RUNGS];    /* promotions out of rung k */
    uint8_t                   *promoted[ORCH_MAX_RUNGS];   /* by candidate id: has a trial
                                                              at rung k + 1 */
    size_t                     promoted_cap[ORCH_MAX_RUNGS];
    const orch_coord_opts     *o;
    orch_transport            *t;
    act_diag                  *diag;
    act_strategy              *s;
    act_space_index           *ix;
    act_expr_prog            **progs;        /* the index's representatives (owned) */
    int64_t                   *cand_of_rep;  /* representative -> candidate id */
    size_t                     n_reps, cap_reps;
    waiter                    *w;
    size_t                     n_w, cap_w;
    wslot                     *ws;
    int                        n_workers;
    int                        in_tx, strat_dirty;
    int64_t                    n_trials;     /* trials at c->fid (the budget) */
    int64_t                    n_queued, n_leased, n_failed;   /* over every rung */
    int                        exhausted, no_new, time_up;
    int                        deaths_without_hello;
    int                        infra_streak;   /* trials in a row lost to a worker's death or
                                                  error, without a result between them */
    char                       last_error[160];
    double                     t0, next_keepalive, next_tick;
    orch_progress              pr;
    orch_coord_summary        *sum;
} coord;

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int jfail(coord *c, int st, const char *what)
{
    if (c->diag && !c->diag->msg[0])
        snprintf(c->diag->msg, sizeof c->diag->msg, "journal: %s: %s", what,
                 orch_journal_error(c->j));
    return st;
}

static int tx_begin(coord *c)
{
    if (c->in_tx)
        return ACT_OK;
    int st = orch_journal_begin(c->j);
    if (st != ACT_OK)
        return jfail(c, st, "begin");
    c->in_tx = 1;
    return ACT_OK;
}

static int tx_commit(coord *c)
{
    if (!c->in_tx)
        return ACT_OK;
    int st = ACT_OK;
    if (c->strat_dirty) {
        uint8_t *buf = NULL;
        size_t len = 0;
        st = act_strategy_save(c->s, &buf, &len);
        if (st == ACT_OK)
            st = orch_strategy_put(c->j, buf, len, 2, NULL);
        free(buf);
        if (st != ACT_OK) {
            ACT_IGNORE(orch_journal_rollback(c->j));
            c->in_tx = 0;
            return jfail(c, st, "storing the strategy state");
        }
    }
    st = orch_journal_commit(c->j);
    c->in_tx = 0;
    if (st != ACT_OK)
        return jfail(c, st, "commit (the last committed state is intact: resume after fixing "
                     "the cause)");
    c->strat_dirty = 0;
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// rewards

static int waiter_push(coord *c, uint64_t ticket, int64_t trial)
{
    if (c->n_w == c->cap_w) {
        size_t cap = c->cap_w ? 2 * c->cap_w : 64;
        waiter *w = realloc(c->w, cap * sizeof *w);
        if (!w)
            return ACT_ENOMEM;
        c->w = w;
        c->cap_w = cap;
    }
    c->w[c->n_w++] = (waiter){ ticket, trial };
    return ACT_OK;
}

/* The reward of trial id: 1 and *r when it has one, 0 while it runs or waits, -1 when it
 * failed for the infrastructure's reasons (the ticket is cancelled: no reward). */
static int trial_reward(coord *c, int64_t id, double *r, int *st)
{
    *st = ACT_OK;
    if (id == 0) {
        *r = c->cfg->floor;
        return 1;
    }
    orch_trial t;
    *st = orch_trial_get(c->j, id, &t);
    if (*st != ACT_OK)
        return jfail(c, *st, "trial get"), 0;
    switch (t.state) {
    case ORCH_TRIAL_DONE:
        *r = isfinite(t.result.val_acc) ? t.result.val_acc : c->cfg->floor;
        return 1;
    case ORCH_TRIAL_FAILED_CANDIDATE:
        *r = c->cfg->floor;
        return 1;
    case ORCH_TRIAL_FAILED_INFRA:
        return -1;
    case ORCH_TRIAL_QUEUED:
    case ORCH_TRIAL_LEASED:
    case ORCH_TRIAL_COUNT:
        break;
    }
    return 0;
}

/* Gives waiter k its reward (or cancels its ticket) and removes it, keeping ticket order. */
static int deliver(coord *c, size_t k, int ready, double r)
{
    uint64_t ticket = c->w[k].ticket;
    int st;
    if (ready > 0) {
        st = act_strategy_observe(c->s, ticket, r);
        if (st == ACT_OK)
            st = orch_proposal_set_reward(c->j, ticket, r);
        if (st != ACT_OK)
            return jfail(c, st, "reward");
    } else {
        st = act_strategy_cancel(c->s, ticket);
        if (st != ACT_OK && st != ACT_ENOTFOUND)
            return st;
    }
    memmove(c->w + k, c->w + k + 1, (c->n_w - k - 1) * sizeof *c->w);
    c->n_w--;
    c->strat_dirty = 1;
    return ACT_OK;
}

/* Asynchronous mode: every waiter on trial only (-1: on any trial) whose trial has a result
 * gets it now. Deterministic mode: only when every waiter of the batch has one, then all of
 * them in ticket order (so the strategy sees the same sequence whatever the workers' speed and
 * number). */
static int deliver_ready(coord *c, int64_t only)
{
    if (c->cfg->deterministic) {
        only = -1;
        for (size_t k = 0; k < c->n_w; k++) {
            double r;
            int st;
            if (trial_reward(c, c->w[k].trial, &r, &st) == 0)
                return st;
        }
    }
    for (size_t k = 0; k < c->n_w;) {
        double r;
        int st = ACT_OK;
        int ready = only >= 0 && c->w[k].trial != only ? 0
                  : trial_reward(c, c->w[k].trial, &r, &st);
        if (st != ACT_OK)
            return st;
        if (ready == 0) {
            k++;
            continue;
        }
        if ((st = deliver(c, k, ready, r)) != ACT_OK)
            return st;
    }
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// the candidate pipeline

static int keep_rep(coord *c, act_expr_prog *p, int rep, int64_t cand)
{
    if ((size_t)rep != c->n_reps)
        return ACT_EINVAL;   /* representatives are numbered in insertion order */
    if (c->n_reps == c->cap_reps) {
        size_t cap = c->cap_reps ? 2 * c->cap_reps : 256;
        act_expr_prog **p2 = realloc(c->progs, cap * sizeof *p2);
        if (!p2)
            return ACT_ENOMEM;
        c->progs = p2;
        int64_t *m = realloc(c->cand_of_rep, cap * sizeof *m);
        if (!m)
            return ACT_ENOMEM;
        c->cand_of_rep = m;
        c->cap_reps = cap;
    }
    c->progs[c->n_reps] = p;
    c->cand_of_rep[c->n_reps++] = cand;
    return ACT_OK;
}

/* The pipeline for one expression: the candidate's id in *cand, the candidate whose trial
 * stands for it in *train (itself, or the kept one it duplicates; 0 when rejected). */
static int pipeline(coord *c, const act_expr *e, int64_t *cand, int64_t *train)
{
    act_space_proposal pp;
    int st = act_space_propose(NULL, e, ACT_SPACE_PROPOSE_FILTER, &pp);
    if (st != ACT_OK)
        return st;
    orch_candidate k;
    st = orch_candidate_find(c->j, pp.canon, &k);
    if (st == ACT_OK) {
        *cand = k.id;
        *train = k.status == ORCH_CAND_KEPT ? k.id
               : k.status == ORCH_CAND_DUPLICATE ? k.equiv_of : 0;
        act_space_proposal_free(&pp);
        return ACT_OK;
    }
    if (st != ACT_ENOTFOUND) {
        act_space_proposal_free(&pp);
        return jfail(c, st, "candidate find");
    }
    orch_candidate n = { 0, pp.canon, pp.text, pp.fp, act_expr_prog_n_params(pp.prog),
                         ORCH_CAND_KEPT, NULL, 0 };
    int rep = -1, is_new = 0;
    if (pp.verdict != ACT_SPACE_KEEP) {
        n.status = ORCH_CAND_REJECTED;
        n.reject_reason = act_space_verdict_name(pp.verdict);
        c->pr.rejected++;
    } else {
        st = act_space_index_add(c->ix, pp.prog, &rep, &is_new);
        if (st != ACT_OK) {
            act_space_proposal_free(&pp);
            return st;
        }
        if (!is_new) {
            n.status = ORCH_CAND_DUPLICATE;
            n.equiv_of = c->cand_of_rep[rep];
            c->pr.duplicates++;
        }
    }
    st = orch_candidate_add(c->j, &n, cand);
    if (st != ACT_OK) {
        act_space_proposal_free(&pp);
        return jfail(c, st, "candidate add");
    }
    if (is_new) {
        st = keep_rep(c, pp.prog, rep, *cand);
        if (st != ACT_OK) {
            act_space_proposal_free(&pp);
            return st;
        }
        pp.prog = NULL;   /* the index borrows it: ours now */
    }
    *train = n.status == ORCH_CAND_KEPT ? *cand
           : n.status == ORCH_CAND_DUPLICATE ? n.equiv_of : 0;
    act_space_proposal_free(&pp);
    return ACT_OK;
}

/* The trial of candidate train at the search's fidelity and seed (new or existing). */
static int trial_for(coord *c, int64_t train, int64_t *trial, int *is_new)
{
    int st = orch_trial_add(c->j, train, c->fid, c->cfg->seed, trial, is_new);
    if (st != ACT_OK)
        return jfail(c, st, "trial add");
    if (*is_new) {
        c->n_trials++;
        c->n_queued++;
        c->pr.trials[ORCH_TRIAL_QUEUED]++;
    }
    return ACT_OK;
}

/* One proposal of the strategy through the pipeline into the journal; *made_trial 1 if it
 * queued a new trial. */
static int propose_one(coord *c, int *made_trial, int64_t *trial_out)
{
    *made_trial = 0;
    *trial_out = -1;
    act_strategy_proposal p;
    int st = act_strategy_propose(c->s, &p);
    if (st == ACT_EEXHAUSTED) {
        c->exhausted = 1;
        return ACT_OK;
    }
    if (st != ACT_OK)
        return st;
    c->strat_dirty = 1;
    c->pr.proposals++;
    act_expr *e = NULL;
    if ((st = act_space_to_expr(&p.cand, &e)) != ACT_OK)
        return st;
    int64_t cand = 0, train = 0, trial = 0;
    st = pipeline(c, e, &cand, &train);
    act_expr_free(e);
    if (st != ACT_OK)
        return st;
    if (train && (st = trial_for(c, train, &trial, made_trial)) != ACT_OK)
        return st;
    orch_proposal jp = { p.ticket, cand, p.parent,
                         p.mutation == ACT_STRATEGY_MUT_NONE ? NULL
                             : act_strategy_mutation_name(p.mutation),
                         p.logp, p.token, p.n_tokens, trial, 0, 0.0 };
    if ((st = orch_proposal_add(c->j, &jp)) != ACT_OK)
        return jfail(c, st, "proposal add");
    *trial_out = trial;
    return waiter_push(c, p.ticket, trial);
}

/* The seed expressions' candidates and trials (idempotent: run at every start). On a fresh
 * search, a seed the strategy's space holds is also given to the strategy as its first
 * proposals (act_strategy_inject), so it joins evolution's first population and ppo's first
 * batch, journaled with mutation "seed"; one outside the space is trained and ranked only. */
static int add_seeds(coord *c)
{
    act_strategy_info info;
    int st = act_strategy_get_info(c->s, &info);
    if (st != ACT_OK)
        return st;
    int fresh = info.n_proposed == 0;
    for (int i = 0; i < c->cfg->n_seed_exprs; i++) {
        act_expr *e = NULL;
        act_diag d;
        st = act_expr_parse(c->cfg->seed_exprs[i], &e, &d);
        if (st != ACT_OK) {
            if (c->diag)
                snprintf(c->diag->msg, sizeof c->diag->msg, "seed expression '%.60s': %.160s",
                         c->cfg->seed_exprs[i], d.msg);
            return st;
        }
        int64_t cand = 0, train = 0, trial = 0;
        int is_new = 0;
        act_space_cand sc;
        act_strategy_proposal p;
        int inject = fresh && act_space_from_expr(e, &sc) == ACT_OK &&
                     act_strategy_inject(c->s, &sc, &p) == ACT_OK;
        st = pipeline(c, e, &cand, &train);
        act_expr_free(e);
        if (st == ACT_OK && train)
            st = trial_for(c, train, &trial, &is_new);
        if (st == ACT_OK && !train) {
            char msg[ORCH_EXPR_MAX + 64];
            snprintf(msg, sizeof msg, "seed expression '%s' rejected by the filters",
                     c->cfg->seed_exprs[i]);
            st = orch_event_add(c->j, "seed-rejected", msg);
        }
        if (st == ACT_OK && inject) {
            orch_proposal jp = { p.ticket, cand, 0, "seed", p.logp, p.token, p.n_tokens, trial,
                                 0, 0.0 };
            c->strat_dirty = 1;
            c->pr.proposals++;
            st = orch_proposal_add(c->j, &jp);
            if (st != ACT_OK)
                return jfail(c, st, "proposal add");
            st = waiter_push(c, p.ticket, trial);
        }
        if (st != ACT_OK)
            return st;
    }
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// ASHA (Li et al., "A System for Massively Parallel Hyperparameter Tuning", arXiv 1810.05934):
// a result at rung k makes the top floor(n_k / eta) of rung k promotable; a free worker takes a
// promotion (highest rung first) before a new candidate.

static int rung_of(const coord *c, const char *fidelity)
{
    for (int k = 0; k < c->n_rungs; k++)
        if (!strcmp(c->rung[k], fidelity))
            return k;
    return -1;
}

static int mark_promoted(coord *c, int k, int64_t cand)
{
    size_t need = (size_t)cand + 1;
    if (need > c->promoted_cap[k]) {
        size_t cap = need * 2 > 1024 ? need * 2 : 1024;
        uint8_t *p = realloc(c->promoted[k], cap);
        if (!p)
            return ACT_ENOMEM;
        memset(p + c->promoted_cap[k], 0, cap - c->promoted_cap[k]);
        c->promoted[k] = p;
        c->promoted_cap[k] = cap;
    }
    if (!c->promoted[k][cand]) {
        c->promoted[k][cand] = 1;
        c->rung_up[k]++;
    }
    return ACT_OK;
}

static int is_promoted(const coord *c, int k, int64_t cand)
{
    return (size_t)cand < c->promoted_cap[k] && c->promoted[k][cand];
}

static int can_promote(const coord *c)
{
    for (int k = 0; k + 1 < c->n_rungs; k++)
        if (c->rung_up[k] < c->rung_done[k] / c->cfg->asha_eta)
            return 1;
    return 0;
}

typedef struct pick_ctx { const coord *c; int k; int64_t cand; } pick_ctx;

static int pick_unpromoted(void *u, const orch_top_row *r)
{
    pick_ctx *p = u;
    if (is_promoted(p->c, p->k, r->candidate_id))
        return 0;
    p->cand = r->candidate_id;
    return 1;   /* found: stop */
}

/* One promotion, from the highest rung that has one; *done 1 if it queued a trial. */
static int promote_one(coord *c, int *done)
{
    *done = 0;
    for (int k = c->n_rungs - 2; k >= 0; k--) {
        int64_t q = c->rung_done[k] / c->cfg->asha_eta;
        if (c->rung_up[k] >= q)
            continue;
        /* fewer promoted than q, so some of the top q is not: the best of those goes up */
        pick_ctx p = { c, k, 0 };
        int st = orch_top(c->j, c->rung[k], (size_t)q, pick_unpromoted, &p);
        if (st != ACT_OK && st != ACT_ECANCELED)
            return jfail(c, st, "top");
        if (!p.cand)
            continue;
        int64_t trial;
        int is_new;
        st = orch_trial_add(c->j, p.cand, c->rung[k + 1], c->cfg->seed, &trial, &is_new);
        if (st != ACT_OK)
            return jfail(c, st, "trial add");
        if ((st = mark_promoted(c, k, p.cand)) != ACT_OK)
            return st;
        if (is_new) {
            c->n_queued++;
            c->pr.trials[ORCH_TRIAL_QUEUED]++;
            *done = 1;
            return ACT_OK;
        }
    }
    return ACT_OK;
}

/* finalize: every expression of the plan at its fidelity with seeds 1..n_seeds (idempotent) */
static int add_plan(coord *c)
{
    const orch_trial_plan *p = c->plan;
    for (int i = 0; i < p->n_exprs; i++) {
        act_expr *e = NULL;
        int st = act_expr_parse(p->exprs[i], &e, NULL);
        if (st != ACT_OK) {
            if (c->diag)
                snprintf(c->diag->msg, sizeof c->diag->msg, "'%.200s' does not parse",
                         p->exprs[i]);
            return st;
        }
        int64_t cand = 0, train = 0;
        st = pipeline(c, e, &cand, &train);
        act_expr_free(e);
        if (st != ACT_OK)
            return st;
        p->cand_ids[i] = train;
        for (int k = 1; train && k <= p->n_seeds; k++) {
            int64_t trial;
            int is_new;
            st = orch_trial_add(c->j, train, c->fid, (uint64_t)k, &trial, &is_new);
            if (st != ACT_OK)
                return jfail(c, st, "trial add");
        }
    }
    return ACT_OK;
}

static int can_propose(const coord *c)
{
    return !c->plan && !c->exhausted && !c->no_new && !c->time_up &&
           (c->cfg->budget == 0 || c->n_trials < c->cfg->budget);
}

enum { MAX_BARREN = 100000 };   /* proposals in a row without a new trial: NO_NEW */

/* Proposes until every idle worker could get a queued trial (asynchronous), or one batch
 * (deterministic, once the previous batch has had its rewards). */
static int refill(coord *c)
{
    int idle = 0;
    for (int i = 0; i < c->n_workers; i++)
        idle += c->ws[i].state == W_IDLE || c->ws[i].state == W_STARTING;
    long barren = 0;
    if (c->cfg->deterministic) {
        while (c->n_w == 0 && can_propose(c)) {
            int made_any = 0;
            for (int k = 0; k < c->cfg->batch && can_propose(c); k++) {
                int made;
                int64_t trial;
                int st = propose_one(c, &made, &trial);
                if (st != ACT_OK)
                    return st;
                made_any |= made;
            }
            int st = deliver_ready(c, -1);   /* a batch of rejects and known results ends now */
            if (st != ACT_OK)
                return st;
            if (made_any)
                break;
            barren += c->cfg->batch;
            if (barren >= MAX_BARREN)
                c->no_new = 1;
        }
        return ACT_OK;
    }
    while (c->n_queued < idle) {
        int promoted;
        int st = promote_one(c, &promoted);
        if (st != ACT_OK)
            return st;
        if (promoted)
            continue;
        if (!can_propose(c))
            break;
        int made;
        int64_t trial = 0;
        st = propose_one(c, &made, &trial);
        if (st == ACT_OK)
            st = deliver_ready(c, trial);
        if (st != ACT_OK)
            return st;
        barren = made ? 0 : barren + 1;
        if (barren >= MAX_BARREN)
            c->no_new = 1;
    }
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// workers

static int dispatch(coord *c)
{
    if (c->o->stop && *c->o->stop)
        return ACT_OK;
    for (int i = 0; i < c->n_workers && c->n_queued > 0; i++) {
        if (c->ws[i].state != W_IDLE)
            continue;
        int64_t id;
        size_t n = 0;
        int st = ACT_OK;
        for (int k = c->n_rungs - 1; k >= 0 && n == 0 && st == ACT_OK; k--)
            st = orch_trial_next_at(c->j, c->rung[k], &id, 1, &n);   /* promotions first */
        if (st != ACT_OK)
            return jfail(c, st, "trial next");
        if (n == 0) {
            c->n_queued = 0;
            return ACT_OK;
        }
        char owner[64];
        snprintf(owner, sizeof owner, "%s:%d", c->t->name, i);
        time_t now = time(NULL);
        st = orch_trial_lease(c->j, id, owner, (double)now + c->cfg->lease_s);
        if (st != ACT_OK)
            return jfail(c, st, "trial lease");
        orch_trial t;
        if ((st = orch_trial_get(c->j, id, &t)) != ACT_OK)
            return jfail(c, st, "trial get");
        orch_msg m = orch_msg_init(ORCH_MSG_TASK);
        m.trial = id;
        m.seed = t.seed;
        snprintf(m.fidelity, sizeof m.fidelity, "%s", t.fidelity);
        snprintf(m.expr, sizeof m.expr, "%s", t.canon);
        m.test = c->plan != NULL;   /* the test set is for finalize's report, never a reward */
        c->n_queued--;
        c->n_leased++;
        c->pr.trials[ORCH_TRIAL_QUEUED]--;
        c->pr.trials[ORCH_TRIAL_LEASED]++;
        c->ws[i].state = W_BUSY;
        c->ws[i].trial = id;
        c->ws[i].last_heard = mono();
        /* a failed send means the worker is gone: its EXITED event re-queues the trial */
        ACT_IGNORE(c->t->send(c->t->impl, i, &m));
    }
    return ACT_OK;
}

/* Worker i's trial goes back to the queue (or to failed_infra after max_attempts). */
static int requeue(coord *c, int i, const char *why)
{
    int64_t id = c->ws[i].trial;
    c->ws[i].trial = 0;
    if (id == 0)
        return ACT_OK;
    orch_trial_state after;
    int st = orch_trial_requeue(c->j, id, c->cfg->max_attempts, &after);
    if (st != ACT_OK)
        return jfail(c, st, "trial requeue");
    if (after != ORCH_TRIAL_QUEUED && after != ORCH_TRIAL_FAILED_INFRA)
        return ACT_OK;   /* its result came first */
    c->n_leased--;
    c->pr.trials[ORCH_TRIAL_LEASED]--;
    c->pr.trials[after]++;
    if (after == ORCH_TRIAL_QUEUED)
        c->n_queued++;
    else
        c->n_failed++;
    c->sum->requeued++;
    c->infra_streak++;
    char msg[160];
    snprintf(msg, sizeof msg, "trial %lld %s after worker %d %s", (long long)id,
             after == ORCH_TRIAL_QUEUED ? "re-queued" : "failed_infra", i, why);
    st = orch_event_add(c->j, "requeue", msg);
    if (st != ACT_OK)
        return jfail(c, st, "event");
    return deliver_ready(c, id);   /* failed_infra: its tickets are cancelled */
}

static void note_finished(coord *c, const orch_trial *t)
{
    orch_progress *p = &c->pr;
    p->finished = 1;
    p->trial = t->id;
    p->state = t->state;
    p->val_acc = t->result.val_acc;
    p->wall_s = t->result.wall_s;
    snprintf(p->expr, sizeof p->expr, "%s", t->canon);
    snprintf(p->error, sizeof p->error, "%s", t->result.error ? t->result.error : "");
    if (t->state == ORCH_TRIAL_DONE && strcmp(t->fidelity, c->top_fid) == 0 &&
        isfinite(t->result.val_acc) && !(t->result.val_acc <= p->best_val)) {
        p->best_val = t->result.val_acc;
        snprintf(p->best_expr, sizeof p->best_expr, "%s", t->canon);
    }
}

static void progress(coord *c, int finished)
{
    c->pr.finished = finished;
    c->pr.elapsed_s = mono() - c->t0;
    if (c->o->progress)
        c->o->progress(c->o->user, &c->pr);
    c->pr.finished = 0;
}

static int on_result(coord *c, int i, const orch_msg *m)
{
    if (c->ws[i].state == W_BUSY && c->ws[i].trial == m->trial) {
        c->ws[i].state = W_IDLE;
        c->ws[i].trial = 0;
    }
    if (m->outcome == ORCH_OUTCOME_ERROR) {
        /* the worker could not run it: like a death, but the worker lives on */
        int64_t keep = c->ws[i].trial;
        c->ws[i].trial = m->trial;
        char why[300];
        snprintf(why, sizeof why, "reported an error: %s", m->error);
        snprintf(c->last_error, sizeof c->last_error, "%.150s", m->error);
        int st = requeue(c, i, why);
        c->ws[i].trial = keep;
        return st;
    }
    orch_trial before;
    int st = orch_trial_get(c->j, m->trial, &before);
    if (st == ACT_ENOTFOUND)
        return ACT_OK;   /* not ours (a confused peer): ignore */
    if (st != ACT_OK)
        return jfail(c, st, "trial get");
    orch_trial_state was = before.state;
    if (was == ORCH_TRIAL_FAILED_INFRA)
        return ACT_OK;   /* its tickets were cancelled: the strategy expects no reward now */
    orch_result r = { ORCH_TRIAL_DONE, m->val_acc, m->test_acc, m->train_loss, m->epochs,
                      m->wall_s, NULL };
    if (m->outcome == ORCH_OUTCOME_FAILED || !isfinite(m->val_acc)) {
        r.state = ORCH_TRIAL_FAILED_CANDIDATE;
        r.error = m->error[0] ? m->error : "no finite validation accuracy";
    }
    int applied = 0;
    st = orch_trial_finish(c->j, m->trial, &r, &applied);
    if (st != ACT_OK)
        return jfail(c, st, "trial finish");
    if (!applied)
        return ACT_OK;   /* a late result for a finished trial */
    c->pr.trials[was]--;
    c->pr.trials[r.state]++;
    if (was == ORCH_TRIAL_LEASED)
        c->n_leased--;
    else if (was == ORCH_TRIAL_QUEUED)
        c->n_queued--;
    if (r.state == ORCH_TRIAL_FAILED_CANDIDATE)
        c->n_failed++;
    c->sum->trials_done++;
    c->pr.this_run_done++;
    c->infra_streak = 0;
    orch_trial t;
    if ((st = orch_trial_get(c->j, m->trial, &t)) != ACT_OK)
        return jfail(c, st, "trial get");
    int k = rung_of(c, t.fidelity);
    if (k >= 0 && r.state == ORCH_TRIAL_DONE)
        c->rung_done[k]++;
    note_finished(c, &t);
    progress(c, 1);
    return deliver_ready(c, m->trial);
}

static int on_event(coord *c, const orch_pool_event *ev, int stopping)
{
    int i = ev->worker;
    if (i < 0 || i >= c->n_workers)
        return ACT_OK;
    wslot *w = &c->ws[i];
    switch (ev->kind) {
    case ORCH_POOL_TIMEOUT:
        return ACT_OK;
    case ORCH_POOL_MESSAGE:
        w->last_heard = mono();
        switch (ev->msg.kind) {
        case ORCH_MSG_HELLO:
            if (ev->msg.version != ORCH_PROTO_VERSION) {
                if (c->diag)
                    snprintf(c->diag->msg, sizeof c->diag->msg, "worker %d speaks protocol "
                             "version %d, this coordinator %d", i, ev->msg.version,
                             ORCH_PROTO_VERSION);
                return ACT_EFORMAT;
            }
            c->deaths_without_hello = 0;
            if (w->state == W_STARTING)
                w->state = W_IDLE;
            return ACT_OK;
        case ORCH_MSG_HEARTBEAT:
            return ACT_OK;
        case ORCH_MSG_RESULT:
            return on_result(c, i, &ev->msg);
        case ORCH_MSG_TASK:
        case ORCH_MSG_KEEPALIVE:
        case ORCH_MSG_STOP:
        case ORCH_MSG_COUNT:
            break;
        }
        c->t->kill(c->t->impl, i);   /* a worker does not send those: replace it */
        return ACT_OK;
    case ORCH_POOL_EXITED: {
        int had_hello = w->state != W_STARTING;
        char why[64];
        snprintf(why, sizeof why, "died (wait status %d)", ev->status);
        int st = requeue(c, i, why);
        if (st != ACT_OK)
            return st;
        w->state = W_DEAD;
        if (stopping)
            return ACT_OK;
        if (!had_hello && ++c->deaths_without_hello >= 3) {
            if (c->diag)
                snprintf(c->diag->msg, sizeof c->diag->msg, "workers die before they start "
                         "(wait status %d, exit code %d): is the worker program runnable?",
                         ev->status, (ev->status >> 8) & 0xff);
            return ACT_EIO;
        }
        act_diag d;
        st = c->t->respawn(c->t->impl, i, &d);
        if (st == ACT_OK) {
            w->state = W_STARTING;
            w->last_heard = mono();
            c->sum->workers_replaced++;
        }
        return ACT_OK;   /* a slot that cannot be respawned stays dead */
    }
    }
    return ACT_OK;
}

/* Kills workers silent for longer than the lease (their EXITED events re-queue the trials). */
static void check_leases(coord *c, double now)
{
    for (int i = 0; i < c->n_workers; i++) {
        wslot *w = &c->ws[i];
        if ((w->state == W_BUSY || w->state == W_STARTING) &&
            now - w->last_heard > c->cfg->lease_s) {
            c->t->kill(c->t->impl, i);
            w->last_heard = now;   /* once per lease */
        }
    }
    if (now >= c->next_keepalive) {
        orch_msg m = orch_msg_init(ORCH_MSG_KEEPALIVE);
        for (int i = 0; i < c->n_workers; i++)
            if (c->ws[i].state == W_IDLE)
                ACT_IGNORE(c->t->send(c->t->impl, i, &m));
        c->next_keepalive = now + (c->o->keepalive_s > 0 ? c->o->keepalive_s : 5.0);
    }
}

// ----------------------------------------------------------------------------
// start: the journal's state into memory

static int rebuild_rep(void *u, const orch_candidate *k)
{
    coord *c = u;
    act_expr *e = NULL;
    if (act_expr_parse(k->canon, &e, NULL) != ACT_OK)
        return 1;
    act_space_proposal pp;
    int st = act_space_propose(NULL, e, 0, &pp);
    act_expr_free(e);
    if (st != ACT_OK)
        return 1;
    int rep, is_new;
    st = act_space_index_add(c->ix, pp.prog, &rep, &is_new);
    if (st == ACT_OK && is_new && keep_rep(c, pp.prog, rep, k->id) == ACT_OK)
        pp.prog = NULL;
    act_space_proposal_free(&pp);
    return st != ACT_OK;
}

static int count_cand(void *u, const orch_candidate *k)
{
    coord *c = u;
    c->pr.rejected += k->status == ORCH_CAND_REJECTED;
    c->pr.duplicates += k->status == ORCH_CAND_DUPLICATE;
    return 0;
}

static int load_waiter(void *u, const orch_proposal *p)
{
    return waiter_push(u, p->ticket, p->trial_id) != ACT_OK;
}

static int best_row(void *u, const orch_top_row *r)
{
    coord *c = u;
    c->pr.best_val = r->val_acc;
    snprintf(c->pr.best_expr, sizeof c->pr.best_expr, "%s", r->canon);
    return 0;
}

/* The strategy: the journal's newest state, or a new one; its pending tickets must be the
 * journal's waiting proposals (those on failed_infra trials aside: cancelled). */
static int load_strategy(coord *c)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int st = orch_strategy_get(c->j, &buf, &len, NULL);
    if (st == ACT_ENOTFOUND)
        st = act_strategy_new(&c->cfg->strat, &c->s);
    else if (st == ACT_OK) {
        st = act_strategy_load(&c->cfg->strat, buf, len, &c->s);
        free(buf);
        if (st != ACT_OK) {
            if (c->diag)
                snprintf(c->diag->msg, sizeof c->diag->msg, "the journal's strategy state "
                         "does not load (%s)", act_strerror(st));
            return ACT_EFORMAT;
        }
    } else
        return jfail(c, st, "strategy get");
    if (st != ACT_OK)
        return st;
    st = orch_proposal_waiting(c->j, 0, load_waiter, c);
    if (st != ACT_OK)
        return jfail(c, st, "proposals");
    act_strategy_info info;
    if ((st = act_strategy_get_info(c->s, &info)) != ACT_OK)
        return st;
    c->pr.proposals = (int64_t)info.n_proposed;
    size_t k = 0;
    for (size_t i = 0; i < info.n_pending; i++) {
        act_strategy_proposal p;
        if ((st = act_strategy_pending(c->s, i, &p)) != ACT_OK)
            return st;
        while (k < c->n_w && c->w[k].ticket < p.ticket) {
            double r;
            if (trial_reward(c, c->w[k].trial, &r, &st) >= 0)
                goto mismatch;   /* journal waits, strategy does not: only if cancelled */
            memmove(c->w + k, c->w + k + 1, (c->n_w - k - 1) * sizeof *c->w);
            c->n_w--;
        }
        if (k == c->n_w || c->w[k].ticket != p.ticket)
            goto mismatch;
        k++;
    }
    while (k < c->n_w) {
        double r;
        if (trial_reward(c, c->w[k].trial, &r, &st) >= 0)
            goto mismatch;
        c->n_w--;   /* drop it (the tail) */
        memmove(c->w + k, c->w + k + 1, (c->n_w - k) * sizeof *c->w);
    }
    return ACT_OK;
mismatch:
    if (c->diag)
        snprintf(c->diag->msg, sizeof c->diag->msg, "the journal's proposals waiting for a "
                 "reward do not match its strategy state (journal damaged or edited)");
    return ACT_EFORMAT;
}

typedef struct promo_ctx { coord *c; int k; int st; } promo_ctx;

static int mark_row(void *u, const orch_trial *t)
{
    promo_ctx *p = u;
    p->st = mark_promoted(p->c, p->k, t->candidate_id);
    return p->st != ACT_OK;
}

static int start(coord *c)
{
    int st;
    c->ix = act_space_index_new();
    if (!c->ix)
        return ACT_ENOMEM;
    st = orch_candidate_each(c->j, ORCH_CAND_KEPT, rebuild_rep, c);
    if (st != ACT_OK) {
        if (c->diag)
            snprintf(c->diag->msg, sizeof c->diag->msg, "rebuilding the dedup index from the "
                     "journal's candidates failed");
        return st == ACT_ECANCELED ? ACT_EFORMAT : st;
    }
    if ((st = orch_candidate_each(c->j, ORCH_CAND_COUNT, count_cand, c)) != ACT_OK)
        return jfail(c, st, "candidates");
    c->pr.best_val = NAN;
    if ((st = orch_top(c->j, c->top_fid, 1, best_row, c)) != ACT_OK)
        return jfail(c, st, "top");
    if ((st = tx_begin(c)) != ACT_OK)
        return st;
    size_t released = 0;
    if ((st = orch_trial_release_leased(c->j, &released)) != ACT_OK)
        return jfail(c, st, "release");
    if (c->plan)
        st = add_plan(c);
    else if ((st = load_strategy(c)) == ACT_OK)
        st = add_seeds(c);
    if (st != ACT_OK)
        return st;
    int64_t n[ORCH_TRIAL_COUNT];
    memset(c->pr.trials, 0, sizeof c->pr.trials);
    c->n_trials = c->n_queued = c->n_leased = c->n_failed = 0;
    for (int r = 0; r < c->n_rungs; r++) {
        if ((st = orch_trial_counts(c->j, c->rung[r], n)) != ACT_OK)
            return jfail(c, st, "counts");
        for (int k = 0; k < ORCH_TRIAL_COUNT; k++) {
            c->pr.trials[k] += n[k];
            c->n_trials += r == 0 ? n[k] : 0;
        }
        c->n_queued += n[ORCH_TRIAL_QUEUED];
        c->n_failed += n[ORCH_TRIAL_FAILED_CANDIDATE] + n[ORCH_TRIAL_FAILED_INFRA];
        c->rung_done[r] = n[ORCH_TRIAL_DONE];
        if (r > 0) {
            promo_ctx pc = { c, r - 1, ACT_OK };
            st = orch_trial_each(c->j, c->rung[r], mark_row, &pc);
            if (st != ACT_OK)
                return pc.st != ACT_OK ? pc.st : jfail(c, st, "trials");
        }
    }
    char msg[96];
    snprintf(msg, sizeof msg, "%lld trials done, %zu returned to the queue",
             (long long)n[ORCH_TRIAL_DONE], released);
    if ((st = orch_event_add(c->j, "start", msg)) != ACT_OK)
        return jfail(c, st, "event");
    if ((st = deliver_ready(c, -1)) != ACT_OK)
        return st;
    return tx_commit(c);
}

// ----------------------------------------------------------------------------
// the loop

static int stop_now(const coord *c)
{
    return c->o->stop && *c->o->stop;
}

/* 1 when nothing runs, nothing waits and nothing more will be proposed. */
static int finished(coord *c)
{
    return c->n_leased == 0 &&
           (c->time_up || (c->n_queued == 0 && c->n_w == 0 && !can_propose(c) &&
                           !can_promote(c)));
}

/* A search whose workers cannot train (data missing, a broken build) would otherwise turn
 * every trial into failed_infra, max_attempts deaths at a time. */
enum { INFRA_STREAK_MAX = 10 };

static int loop(coord *c)
{
    const orch_coord_opts *o = c->o;
    int group_max = o->group_max > 0 ? o->group_max : 256;
    double tick = o->tick_s > 0 ? o->tick_s : 1.0;
    for (;;) {
        int st;
        if (stop_now(c)) {   /* keep the results handled since the last commit */
            c->sum->reason = ORCH_STOP_INTERRUPTED;
            return tx_commit(c);
        }
        if (c->cfg->time_budget_s > 0 && mono() - c->t0 >= c->cfg->time_budget_s)
            c->time_up = 1;
        if (c->cfg->max_failed > 0 && c->n_failed >= c->cfg->max_failed) {
            c->sum->reason = ORCH_STOP_MAX_FAILED;
            return tx_commit(c);
        }
        if ((st = tx_begin(c)) != ACT_OK || (st = refill(c)) != ACT_OK ||
            (st = (c->time_up ? ACT_OK : dispatch(c))) != ACT_OK || (st = tx_commit(c)) != ACT_OK)
            return st;
        if (c->infra_streak >= INFRA_STREAK_MAX) {
            if (c->diag)
                snprintf(c->diag->msg, sizeof c->diag->msg, "%d trials in a row ended without "
                         "a result (workers died or reported errors%s%.100s); the journal is "
                         "intact: fix the cause and resume", c->infra_streak,
                         c->last_error[0] ? ", the last: " : "", c->last_error);
            return ACT_EIO;
        }
        int alive = 0;
        for (int i = 0; i < c->n_workers; i++)
            alive += c->ws[i].state != W_DEAD;
        if (!alive && !finished(c)) {
            if (c->diag)
                snprintf(c->diag->msg, sizeof c->diag->msg, "no worker left (none could be "
                         "replaced)");
            return ACT_EIO;
        }
        if (finished(c)) {
            c->sum->reason = c->time_up ? ORCH_STOP_TIME
                           : c->exhausted ? ORCH_STOP_EXHAUSTED
                           : c->no_new ? ORCH_STOP_NO_NEW : ORCH_STOP_BUDGET;
            return ACT_OK;
        }
        double now = mono();
        if (now >= c->next_tick) {
            progress(c, 0);
            c->next_tick = now + tick;
        }
        orch_pool_event ev;
        act_diag d;
        double wait = c->next_tick - now;
        st = c->t->poll(c->t->impl, wait < 0.25 ? (wait > 0 ? wait : 0) : 0.25, &ev, &d);
        if (st != ACT_OK && st != ACT_EFORMAT)
            return st;
        if ((st = tx_begin(c)) != ACT_OK)
            return st;
        for (int n = 0; n < group_max; n++) {
            if (st == ACT_EFORMAT)
                c->t->kill(c->t->impl, ev.worker);   /* garbage on its pipe: replace it */
            else if (ev.kind == ORCH_POOL_TIMEOUT)
                break;
            else if ((st = on_event(c, &ev, 0)) != ACT_OK)
                return st;
            st = c->t->poll(c->t->impl, 0, &ev, &d);
            if (st != ACT_OK && st != ACT_EFORMAT)
                return st;
        }
        check_leases(c, mono());
    }
}

static int run(orch_journal *j, const orch_search_config *cfg, const orch_trial_plan *plan,
               const orch_coord_opts *o, orch_coord_summary *s, act_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
    if (!j || !cfg || !o || !o->transport || !s)
        return ACT_EINVAL;
    if (plan && (!plan->fidelity || !orch_fidelity_lookup(plan->fidelity) || !plan->cand_ids ||
                 plan->n_exprs < 0 || (plan->n_exprs && !plan->exprs) || plan->n_seeds < 1 ||
                 plan->n_seeds > 1000))
        return ACT_EINVAL;
    memset(s, 0, sizeof *s);
    orch_search_config checked = *cfg;
    int st = orch_search_config_check(&checked, diag);
    if (st != ACT_OK)
        return st;
    coord c;
    memset(&c, 0, sizeof c);
    c.j = j;
    c.cfg = &checked;
    c.plan = plan;
    int ep[ORCH_MAX_RUNGS];
    if (plan) {
        c.n_rungs = 1;
        snprintf(c.rung[0], sizeof c.rung[0], "%s", plan->fidelity);
    } else {
        const orch_fidelity *f = orch_fidelity_lookup(checked.fidelity);
        st = orch_search_rungs(&checked, ep, &c.n_rungs, diag);
        for (int k = 0; st == ACT_OK && k < c.n_rungs; k++)
            st = orch_fidelity_rung_name(f, ep[k], c.rung[k], sizeof c.rung[k]);
        if (st != ACT_OK)
            return st;
    }
    c.fid = c.rung[0];
    c.top_fid = c.rung[c.n_rungs - 1];
    c.o = o;
    c.t = o->transport;
    c.diag = diag;
    c.sum = s;
    c.t0 = mono();
    c.n_workers = c.t->size(c.t->impl);
    c.ws = calloc((size_t)(c.n_workers > 0 ? c.n_workers : 1), sizeof *c.ws);
    if (!c.ws)
        return ACT_ENOMEM;
    for (int i = 0; i < c.n_workers; i++)
        c.ws[i] = (wslot){ W_STARTING, 0, c.t0 };
    st = start(&c);
    if (st == ACT_OK)
        st = loop(&c);
    if (st != ACT_OK)
        s->reason = ORCH_STOP_ERROR;
    if (c.in_tx)
        ACT_IGNORE(orch_journal_rollback(j));
    c.in_tx = 0;
    if (st == ACT_OK) {
        /* a clean stop: trials in flight go back to the queue, without an attempt */
        size_t n;
        char msg[128];
        snprintf(msg, sizeof msg, "%s after %lld trials", orch_stop_name(s->reason),
                 (long long)s->trials_done);
        if (orch_journal_begin(j) != ACT_OK || orch_trial_release_leased(j, &n) != ACT_OK ||
            orch_event_add(j, "stop", msg) != ACT_OK || orch_journal_commit(j) != ACT_OK) {
            ACT_IGNORE(orch_journal_rollback(j));
            st = ACT_EIO;
            s->reason = ORCH_STOP_ERROR;
            if (diag)
                snprintf(diag->msg, sizeof diag->msg, "journal: recording the stop: %s",
                         orch_journal_error(j));
        }
    }
    c.pr.elapsed_s = mono() - c.t0;
    s->elapsed_s = c.pr.elapsed_s;
    act_strategy_free(c.s);
    act_space_index_free(c.ix);
    for (size_t i = 0; i < c.n_reps; i++)
        act_expr_prog_free(c.progs[i]);
    free(c.progs);
    free(c.cand_of_rep);
    free(c.w);
    free(c.ws);
    for (int k = 0; k < ORCH_MAX_RUNGS; k++)
        free(c.promoted[k]);
    return st;
}

int orch_coord_run(orch_journal *j, const orch_search_config *cfg, const orch_coord_opts *o,
                   orch_coord_summary *s, act_diag *diag)
{
    return run(j, cfg, NULL, o, s, diag);
}

int orch_coord_run_plan(orch_journal *j, const orch_search_config *cfg,
                        const orch_trial_plan *plan, const orch_coord_opts *o,
                        orch_coord_summary *s, act_diag *diag)
{
    if (!plan)
        return ACT_EINVAL;
    return run(j, cfg, plan, o, s, diag);
}
