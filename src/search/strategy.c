/* strategy.c -- the search-strategy interface (include/actlab/search.h): configs and names, the
 * pending tickets every strategy shares, the exhaustive and random strategies, and the
 * versioned byte format of a strategy's state. Aging evolution is in evolution.c, the PPO
 * controller in ppo.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "search/strategy_int.h"

static const char *const kind_name[] = {
#define X(ID, name) [ACT_STRATEGY_##ID] = name,
    ACT_STRATEGY_LIST(X)
#undef X
};

static const char *const mutation_name[] = {
#define X(ID, name) [ACT_STRATEGY_MUT_##ID] = name,
    ACT_STRATEGY_MUTATION_LIST(X)
#undef X
};

const char *act_strategy_name(act_strategy_kind kind)
{
    return (unsigned)kind < ACT_STRATEGY_COUNT ? kind_name[kind] : NULL;
}

const char *act_strategy_mutation_name(act_strategy_mutation m)
{
    return (unsigned)m < ACT_STRATEGY_MUT_COUNT ? mutation_name[m] : NULL;
}

int act_strategy_lookup(const char *name, act_strategy_kind *out)
{
    if (!name || !out)
        return ACT_EINVAL;
    for (int k = 0; k < ACT_STRATEGY_COUNT; k++)
        if (strcmp(kind_name[k], name) == 0) {
            *out = (act_strategy_kind)k;
            return ACT_OK;
        }
    return ACT_ENOTFOUND;
}

act_strategy_config act_strategy_config_default(act_strategy_kind kind)
{
    act_strategy_config c = {
        .kind = kind,
        .preset = act_space_preset_lookup("full"),
        .n_units = 1,
        .seed = 1,
        .population = 100,          /* Real et al. 2019: P = 100, S = 25 was their best pair */
        .tournament = 25,
        .p_identity = 0.05,         /* their identity mutation's probability */
        .ppo_hidden = 16,           /* ppo: chosen by measurement on the synthetic objective */
        .ppo_batch = 8,             /* of tests/test_search_strategy.c (docs/search.md, "ppo") */
        .ppo_epochs = 2,
        .ppo_lr = 0.1,
        .ppo_decay = 0.9,
        .ppo_clip = 0.2,            /* Schulman et al.'s eps */
        .ppo_entropy = 0.02,
        .ppo_temperature = 5.0,     /* Pham et al. (ENAS), arXiv 1802.03268: T = 5 (their */
        .ppo_tanh = 1.5,            /* C = 2.5 missed the optimum on more seeds here) */
    };
    return c;
}

static int config_ok(const act_strategy_config *c)
{
    return c && (unsigned)c->kind < ACT_STRATEGY_COUNT && c->preset &&
           c->n_units >= 1 && c->n_units <= ACT_SPACE_MAX_UNITS &&
           act_space_count(c->preset, c->n_units) > 0 &&
           c->population >= 1 && c->population <= ACT_STRATEGY_MAX_POPULATION &&
           c->tournament >= 1 && c->tournament <= c->population &&
           c->p_identity >= 0.0 && c->p_identity <= 1.0 &&   /* false for NaN */
           c->ppo_hidden >= 1 && c->ppo_hidden <= 256 &&
           c->ppo_batch >= 1 && c->ppo_batch <= 4096 &&
           c->ppo_epochs >= 1 && c->ppo_epochs <= 100 &&
           c->ppo_lr > 0.0 && c->ppo_lr <= 1.0 &&
           c->ppo_decay >= 0.0 && c->ppo_decay < 1.0 &&
           c->ppo_clip > 0.0 && c->ppo_clip < 1.0 &&
           c->ppo_entropy >= 0.0 && c->ppo_entropy <= 1.0 &&
           c->ppo_temperature >= 0.01 && c->ppo_temperature <= 100.0 &&
           c->ppo_tanh >= 0.0 && c->ppo_tanh <= 100.0 &&
           (c->kind != ACT_STRATEGY_PPO || acti_ppo_space_ok(c));
}

// ----------------------------------------------------------------------------
// the space's rules (those of act_space_sample in space.c)

static int n_betas(const act_space_cand *c)
{
    int n = 0;
    for (int u = 0; u < c->n_units; u++) {
        const act_space_unit *q = &c->unit[u];
        n += strstr(act_space_unary_template((act_space_unary)q->un1), "beta") != NULL;
        n += strstr(act_space_unary_template((act_space_unary)q->un2), "beta") != NULL;
        n += strstr(act_space_binary_template((act_space_binary)q->binary), "beta") != NULL;
    }
    return n;
}

int act_strategy_in_space(const act_strategy_config *cfg, const act_space_cand *c)
{
    if (!config_ok(cfg) || !c || c->n_units < 1 || c->n_units > cfg->n_units)
        return 0;
    const act_space_preset *ps = cfg->preset;
    for (int u = 0; u < c->n_units; u++) {
        const act_space_unit *q = &c->unit[u];
        int forced = ps->bxg && u == c->n_units - 1;    /* b(x, g(x)): u1 = identity of x */
        if (q->binary >= ACT_SPACE_BINARY_COUNT || !(ps->binary_mask >> q->binary & 1u) ||
            q->un2 >= ACT_SPACE_UNARY_COUNT || !(ps->unary_mask >> q->un2 & 1u) ||
            q->in1 > u || q->in2 > u)
            return 0;
        if (forced ? q->in1 != 0 || q->un1 != ACT_SPACE_U_X
                   : q->un1 >= ACT_SPACE_UNARY_COUNT || !(ps->unary_mask >> q->un1 & 1u))
            return 0;
    }
    return n_betas(c) <= ACT_EXPR_MAX_PARAMS;
}

static int pick(act_rng *rng, uint32_t mask, int n)
{
    int list[32], k = 0;
    for (int i = 0; i < n; i++)
        if (mask >> i & 1u)
            list[k++] = i;
    return list[act_rng_below(rng, (uint64_t)k)];
}

void acti_strategy_draw_unit(const act_space_preset *ps, int n_units, int unit, act_rng *rng,
                             act_space_unit *out)
{
    out->binary = (uint8_t)pick(rng, ps->binary_mask, ACT_SPACE_BINARY_COUNT);
    out->in1 = (uint8_t)act_rng_below(rng, (uint64_t)unit + 1);
    out->in2 = (uint8_t)act_rng_below(rng, (uint64_t)unit + 1);
    out->un1 = (uint8_t)pick(rng, ps->unary_mask, ACT_SPACE_UNARY_COUNT);
    out->un2 = (uint8_t)pick(rng, ps->unary_mask, ACT_SPACE_UNARY_COUNT);
    if (ps->bxg && unit == n_units - 1) {
        out->in1 = 0;
        out->un1 = ACT_SPACE_U_X;
    }
}

void acti_strategy_clear_tail(act_space_cand *c)
{
    for (int u = c->n_units; u < ACT_SPACE_MAX_UNITS; u++)
        memset(&c->unit[u], 0, sizeof c->unit[u]);
}

static void fill_tokens(act_strategy_proposal *p)
{
    p->n_tokens = ACT_STRATEGY_TOKENS_PER_UNIT * p->cand.n_units;
    memset(p->token, 0, sizeof p->token);
    for (int u = 0; u < p->cand.n_units; u++) {
        const act_space_unit *q = &p->cand.unit[u];
        uint8_t *t = &p->token[ACT_STRATEGY_TOKENS_PER_UNIT * u];
        t[0] = q->binary;
        t[1] = q->in1;
        t[2] = q->in2;
        t[3] = q->un1;
        t[4] = q->un2;
    }
}

// ----------------------------------------------------------------------------
// life cycle

static act_strategy *alloc_strategy(const act_strategy_config *cfg)
{
    size_t n_slots = cfg->kind == ACT_STRATEGY_EVOLUTION ? (size_t)cfg->population : 0;
    size_t ppo_bytes = acti_ppo_bytes(cfg);
    _Static_assert(sizeof(act_strategy) % 8 == 0 && sizeof(act_strategy_member) % 8 == 0,
                   "the ppo block after them stays 8-byte aligned");
    act_strategy *s = calloc(1, sizeof *s + n_slots * sizeof *s->pop + ppo_bytes);
    if (!s)
        return NULL;
    if (ppo_bytes) {
        s->ppo = (acti_ppo *)((char *)(s + 1) + n_slots * sizeof *s->pop);
        acti_ppo_place(s->ppo, cfg, s->ppo + 1);
    }
    s->cfg = *cfg;
    s->ps = *cfg->preset;
    s->cfg.preset = &s->ps;
    s->space_size = act_space_count(&s->ps, cfg->n_units);
    s->rng = act_rng_seed(cfg->seed);
    s->pop = n_slots ? (act_strategy_member *)(s + 1) : NULL;
    return s;
}

int act_strategy_new(const act_strategy_config *cfg, act_strategy **out)
{
    if (!out)
        return ACT_EINVAL;
    *out = NULL;
    if (!config_ok(cfg))
        return ACT_EINVAL;
    if (!(*out = alloc_strategy(cfg)))
        return ACT_ENOMEM;
    if ((*out)->ppo)                        /* the initial weights: the seed's first draws */
        acti_ppo_init((*out)->ppo, &(*out)->rng);
    return ACT_OK;
}

void act_strategy_free(act_strategy *s)
{
    if (!s)
        return;
    free(s->pend);
    free(s);
}

const act_strategy_config *act_strategy_get_config(const act_strategy *s)
{
    return s ? &s->cfg : NULL;
}

// ----------------------------------------------------------------------------
// propose, observe, cancel

static int reserve_pending(act_strategy *s, size_t n)
{
    if (n <= s->cap_pend)
        return ACT_OK;
    size_t cap = s->cap_pend ? s->cap_pend : 16;
    while (cap < n)
        cap *= 2;
    act_strategy_proposal *p = realloc(s->pend, cap * sizeof *p);
    if (!p)
        return ACT_ENOMEM;
    s->pend = p;
    s->cap_pend = cap;
    return ACT_OK;
}

/* index of ticket in the pending list, or -1 */
static ptrdiff_t find_pending(const act_strategy *s, uint64_t ticket)
{
    size_t lo = 0, hi = s->n_pend;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->pend[mid].ticket < ticket)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n_pend && s->pend[lo].ticket == ticket ? (ptrdiff_t)lo : -1;
}

static void remove_pending(act_strategy *s, size_t i)
{
    memmove(&s->pend[i], &s->pend[i + 1], (s->n_pend - i - 1) * sizeof *s->pend);
    s->n_pend--;
}

/* Completes p (zero tail, tokens, the next ticket) and appends it to the pending list (room
 * reserved by the caller); tickets increase, so the list stays sorted. */
static void push_pending(act_strategy *s, act_strategy_proposal *p, act_strategy_proposal *out)
{
    acti_strategy_clear_tail(&p->cand);
    fill_tokens(p);
    p->ticket = s->last_ticket + 1;
    s->last_ticket = p->ticket;
    s->pend[s->n_pend++] = *p;
    *out = *p;
}

int act_strategy_propose(act_strategy *s, act_strategy_proposal *out)
{
    if (!s || !out)
        return ACT_EINVAL;
    if (s->cfg.kind == ACT_STRATEGY_EXHAUSTIVE && s->cursor >= s->space_size)
        return ACT_EEXHAUSTED;
    int rc = reserve_pending(s, s->n_pend + 1);
    if (rc != ACT_OK)
        return rc;
    act_strategy_proposal p;
    memset(&p, 0, sizeof p);
    act_rng rng = s->rng;                   /* committed only on success */
    switch (s->cfg.kind) {
    case ACT_STRATEGY_EXHAUSTIVE:
        rc = act_space_nth(&s->ps, s->cfg.n_units, s->cursor, &p.cand);
        break;
    case ACT_STRATEGY_RANDOM:
        rc = act_space_sample(&s->ps, s->cfg.n_units, &rng.state, &p.cand);
        break;
    case ACT_STRATEGY_EVOLUTION:
        rc = acti_evolution_propose(s, &rng, &p);
        break;
    case ACT_STRATEGY_PPO:
        rc = acti_ppo_propose(s, &rng, &p);
        break;
    case ACT_STRATEGY_COUNT:
        rc = ACT_EINVAL;
        break;
    }
    if (rc != ACT_OK)
        return rc;
    s->rng = rng;
    s->cursor += s->cfg.kind == ACT_STRATEGY_EXHAUSTIVE;
    push_pending(s, &p, out);
    return ACT_OK;
}

int act_strategy_inject(act_strategy *s, const act_space_cand *c, act_strategy_proposal *out)
{
    if (!s || !c || !out || !act_strategy_in_space(&s->cfg, c) ||
        (s->cfg.kind == ACT_STRATEGY_PPO && c->n_units != s->cfg.n_units))
        return ACT_EINVAL;
    int rc = reserve_pending(s, s->n_pend + 1);
    if (rc != ACT_OK)
        return rc;
    act_strategy_proposal p;
    memset(&p, 0, sizeof p);
    p.cand = *c;
    if (s->cfg.kind == ACT_STRATEGY_PPO) {
        double entropy;
        p.logp = acti_ppo_logp(s, &p.cand, &entropy);   /* as if the policy had sampled it */
    }
    push_pending(s, &p, out);
    return ACT_OK;
}

int act_strategy_observe(act_strategy *s, uint64_t ticket, double reward)
{
    if (!s || !isfinite(reward))
        return ACT_EINVAL;
    ptrdiff_t i = find_pending(s, ticket);
    if (i < 0)
        return ACT_ENOTFOUND;
    if (s->cfg.kind == ACT_STRATEGY_EVOLUTION)
        acti_evolution_join(s, &s->pend[i].cand, ticket, reward);
    if (s->cfg.kind == ACT_STRATEGY_PPO)
        acti_ppo_observe(s, &s->pend[i].cand, s->pend[i].logp, reward);
    remove_pending(s, (size_t)i);
    s->n_observed++;
    return ACT_OK;
}

int act_strategy_cancel(act_strategy *s, uint64_t ticket)
{
    if (!s)
        return ACT_EINVAL;
    ptrdiff_t i = find_pending(s, ticket);
    if (i < 0)
        return ACT_ENOTFOUND;
    remove_pending(s, (size_t)i);
    s->n_canceled++;
    return ACT_OK;
}

int act_strategy_get_info(const act_strategy *s, act_strategy_info *out)
{
    if (!s || !out)
        return ACT_EINVAL;
    memset(out, 0, sizeof *out);
    out->kind = s->cfg.kind;
    out->n_proposed = s->last_ticket;
    out->n_observed = s->n_observed;
    out->n_canceled = s->n_canceled;
    out->n_pending = s->n_pend;
    out->n_population = s->n_pop;
    out->space_size = s->space_size;
    out->cursor = s->cursor;
    return ACT_OK;
}

int act_strategy_pending(const act_strategy *s, size_t i, act_strategy_proposal *out)
{
    if (!s || !out || i >= s->n_pend)
        return ACT_EINVAL;
    *out = s->pend[i];
    return ACT_OK;
}

int act_strategy_member_at(const act_strategy *s, size_t i, act_strategy_member *out)
{
    if (!s || !out || i >= s->n_pop)
        return ACT_EINVAL;
    *out = s->pop[(s->head + i) % (size_t)s->cfg.population];
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// the byte format (version 1), little-endian:
//   "ACTSTRAT" u32 version  char[16] strategy name (NUL-padded)
//   config:  u32 unary_mask  u32 binary_mask  u32 bxg  u32 n_units  u64 seed  u32 P  u32 S
//            f64 p_identity
//   common:  u64 rng  u64 last_ticket  u64 n_observed  u64 n_canceled  u64 n_pending
//            n_pending x { u64 ticket  cand  f64 logp  u64 parent  u8 mutation }
//   exhaustive: u64 cursor;  random: nothing;
//   evolution:  u64 n_members  n_members x { u64 ticket  cand  f64 reward } (oldest first)
//   ppo:        u32 hidden  u32 batch  u32 epochs  f64 lr  f64 decay  f64 clip  f64 entropy
//               f64 temperature  f64 tanh
//               u64 n_params  n_params x f64 w  n_params x f64 m  n_params x f64 v
//               u64 adam_step  u8 has_baseline  f64 baseline
//               u64 n_obs  n_obs x { cand  f64 logp  f64 reward } (observation order)
//   u32 CRC-32 (zlib's) of every byte before it
// cand is u8 n_units then ACT_SPACE_MAX_UNITS x { u8 binary in1 in2 un1 un2 } (unused: zero).
// f64 is the IEEE-754 bit pattern as a u64.

#define MAGIC       "ACTSTRAT"
#define VERSION     1u
#define NAME_BYTES  16
#define CAND_BYTES  (1 + 5 * ACT_SPACE_MAX_UNITS)
#define PEND_BYTES  (8 + CAND_BYTES + 8 + 8 + 1)
#define MEMB_BYTES  (8 + CAND_BYTES + 8)

_Static_assert(ACT_STRATEGY_MUT_COUNT < 256, "a mutation is saved as one byte");

typedef struct writer {
    uint8_t *p;     /* NULL: only count */
    size_t   n;
} writer;

static void put_bytes(writer *w, const void *src, size_t n)
{
    if (w->p)
        memcpy(w->p + w->n, src, n);
    w->n += n;
}

static void put_u8(writer *w, unsigned v)
{
    uint8_t b = (uint8_t)v;
    put_bytes(w, &b, 1);
}

static void put_u32(writer *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put_bytes(w, b, 4);
}

static void put_u64(writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put_bytes(w, b, 8);
}

static void put_f64(writer *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    put_u64(w, u);
}

static void put_cand(writer *w, const act_space_cand *c)
{
    put_u8(w, (unsigned)c->n_units);
    for (int u = 0; u < ACT_SPACE_MAX_UNITS; u++) {
        const act_space_unit *q = &c->unit[u];
        int used = u < c->n_units;
        put_u8(w, used ? q->binary : 0);
        put_u8(w, used ? q->in1 : 0);
        put_u8(w, used ? q->in2 : 0);
        put_u8(w, used ? q->un1 : 0);
        put_u8(w, used ? q->un2 : 0);
    }
}

static void put_state(writer *w, const act_strategy *s)
{
    const act_strategy_config *c = &s->cfg;
    char name[NAME_BYTES] = { 0 };
    strncpy(name, kind_name[c->kind], NAME_BYTES - 1);
    put_bytes(w, MAGIC, 8);
    put_u32(w, VERSION);
    put_bytes(w, name, NAME_BYTES);
    put_u32(w, s->ps.unary_mask);
    put_u32(w, s->ps.binary_mask);
    put_u32(w, (uint32_t)(s->ps.bxg != 0));
    put_u32(w, (uint32_t)c->n_units);
    put_u64(w, c->seed);
    put_u32(w, (uint32_t)c->population);
    put_u32(w, (uint32_t)c->tournament);
    put_f64(w, c->p_identity);
    put_u64(w, s->rng.state);
    put_u64(w, s->last_ticket);
    put_u64(w, s->n_observed);
    put_u64(w, s->n_canceled);
    put_u64(w, (uint64_t)s->n_pend);
    for (size_t i = 0; i < s->n_pend; i++) {
        const act_strategy_proposal *p = &s->pend[i];
        put_u64(w, p->ticket);
        put_cand(w, &p->cand);
        put_f64(w, p->logp);
        put_u64(w, p->parent);
        put_u8(w, (unsigned)p->mutation);
    }
    switch (c->kind) {
    case ACT_STRATEGY_EXHAUSTIVE:
        put_u64(w, s->cursor);
        break;
    case ACT_STRATEGY_EVOLUTION:
        put_u64(w, (uint64_t)s->n_pop);
        for (size_t i = 0; i < s->n_pop; i++) {
            const act_strategy_member *m = &s->pop[(s->head + i) % (size_t)c->population];
            put_u64(w, m->ticket);
            put_cand(w, &m->cand);
            put_f64(w, m->reward);
        }
        break;
    case ACT_STRATEGY_PPO: {
        const acti_ppo *p = s->ppo;
        put_u32(w, (uint32_t)c->ppo_hidden);
        put_u32(w, (uint32_t)c->ppo_batch);
        put_u32(w, (uint32_t)c->ppo_epochs);
        put_f64(w, c->ppo_lr);
        put_f64(w, c->ppo_decay);
        put_f64(w, c->ppo_clip);
        put_f64(w, c->ppo_entropy);
        put_f64(w, c->ppo_temperature);
        put_f64(w, c->ppo_tanh);
        put_u64(w, (uint64_t)p->n_params);
        const double *arr[3] = { p->w, p->m, p->v };
        for (int a = 0; a < 3; a++)
            for (size_t i = 0; i < p->n_params; i++)
                put_f64(w, arr[a][i]);
        put_u64(w, p->step);
        put_u8(w, (unsigned)p->has_baseline);
        put_f64(w, p->baseline);
        put_u64(w, (uint64_t)p->n_obs);
        for (size_t i = 0; i < p->n_obs; i++) {
            put_cand(w, &p->obs[i].cand);
            put_f64(w, p->obs[i].logp);
            put_f64(w, p->obs[i].reward);
        }
        break;
    }
    case ACT_STRATEGY_RANDOM:
    case ACT_STRATEGY_COUNT:
        break;
    }
}

int act_strategy_save(const act_strategy *s, uint8_t **buf, size_t *len)
{
    if (!s || !buf || !len)
        return ACT_EINVAL;
    *buf = NULL;
    *len = 0;
    writer w = { NULL, 0 };
    put_state(&w, s);
    size_t n = w.n + 4;
    uint8_t *b = malloc(n);
    if (!b)
        return ACT_ENOMEM;
    w.p = b;
    w.n = 0;
    put_state(&w, s);
    put_u32(&w, (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), b, w.n));
    *buf = b;
    *len = n;
    return ACT_OK;
}

typedef struct reader {
    const uint8_t *p;
    size_t         n, pos;
    int            bad;     /* read past the end */
} reader;

static const uint8_t *get_bytes(reader *r, size_t n)
{
    if (r->bad || n > r->n - r->pos) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *b = r->p + r->pos;
    r->pos += n;
    return b;
}

static uint64_t get_le(reader *r, int bytes)
{
    const uint8_t *b = get_bytes(r, (size_t)bytes);
    uint64_t v = 0;
    for (int i = 0; b && i < bytes; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static double get_f64(reader *r)
{
    uint64_t u = get_le(r, 8);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* a candidate; 0 if it is not one of cfg's space or its unused units are not zero */
static int get_cand(reader *r, const act_strategy_config *cfg, act_space_cand *c)
{
    memset(c, 0, sizeof *c);
    c->n_units = (int)get_le(r, 1);
    int tail_zero = 1;
    for (int u = 0; u < ACT_SPACE_MAX_UNITS; u++) {
        act_space_unit q;
        q.binary = (uint8_t)get_le(r, 1);
        q.in1 = (uint8_t)get_le(r, 1);
        q.in2 = (uint8_t)get_le(r, 1);
        q.un1 = (uint8_t)get_le(r, 1);
        q.un2 = (uint8_t)get_le(r, 1);
        if (u < c->n_units)
            c->unit[u] = q;
        else
            tail_zero &= (q.binary | q.in1 | q.in2 | q.un1 | q.un2) == 0;
    }
    return !r->bad && tail_zero && act_strategy_in_space(cfg, c);
}

static int same_f64(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* ppo's section into s->ppo: ACT_EINVAL for another configuration, ACT_EFORMAT for bytes that
 * are not a state (non-finite numbers, negative second moments, a full batch, ...). */
static int get_ppo(reader *r, act_strategy *s)
{
    const act_strategy_config *c = &s->cfg;
    acti_ppo *p = s->ppo;
    uint64_t hid = get_le(r, 4), bat = get_le(r, 4), epo = get_le(r, 4);
    double lr = get_f64(r), dec = get_f64(r), clip = get_f64(r), ent = get_f64(r);
    double temp = get_f64(r), tc = get_f64(r);
    if (r->bad)
        return ACT_EFORMAT;
    if (hid != (uint64_t)c->ppo_hidden || bat != (uint64_t)c->ppo_batch ||
        epo != (uint64_t)c->ppo_epochs || !same_f64(lr, c->ppo_lr) ||
        !same_f64(dec, c->ppo_decay) || !same_f64(clip, c->ppo_clip) ||
        !same_f64(ent, c->ppo_entropy) || !same_f64(temp, c->ppo_temperature) ||
        !same_f64(tc, c->ppo_tanh))
        return ACT_EINVAL;
    if (get_le(r, 8) != (uint64_t)p->n_params || r->bad)
        return ACT_EFORMAT;
    double *arr[3] = { p->w, p->m, p->v };
    for (int a = 0; a < 3; a++)
        for (size_t i = 0; i < p->n_params; i++) {
            double v = get_f64(r);
            if (!isfinite(v) || (a == 2 && v < 0.0))
                return ACT_EFORMAT;
            arr[a][i] = v;
        }
    p->step = get_le(r, 8);
    uint64_t hb = get_le(r, 1);
    p->baseline = get_f64(r);
    uint64_t n_obs = get_le(r, 8);
    if (r->bad || hb > 1 || !isfinite(p->baseline) || (!hb && p->baseline != 0.0) ||
        (!hb && p->step != 0) || n_obs >= (uint64_t)c->ppo_batch || n_obs > s->n_observed)
        return ACT_EFORMAT;
    p->has_baseline = (int)hb;
    for (uint64_t i = 0; i < n_obs; i++) {
        acti_ppo_obs *o = &p->obs[i];
        int ok = get_cand(r, c, &o->cand);
        o->logp = get_f64(r);
        o->reward = get_f64(r);
        if (r->bad || !ok || o->cand.n_units != c->n_units || !(o->logp <= 0.0) ||
            !isfinite(o->logp) || !isfinite(o->reward))
            return ACT_EFORMAT;
    }
    p->n_obs = (size_t)n_obs;
    return ACT_OK;
}

/* Reads the state after the CRC check into s (allocated for cfg). ACT_EFORMAT, ACT_EINVAL (a
 * state of another configuration), ACT_ENOMEM. */
static int get_state(reader *r, act_strategy *s)
{
    const act_strategy_config *c = &s->cfg;
    const uint8_t *magic = get_bytes(r, 8);
    if (!magic || memcmp(magic, MAGIC, 8) != 0 || get_le(r, 4) != VERSION)
        return ACT_EFORMAT;
    const uint8_t *name = get_bytes(r, NAME_BYTES);
    if (!name || name[NAME_BYTES - 1] != 0)
        return ACT_EFORMAT;
    act_strategy_kind kind;
    if (act_strategy_lookup((const char *)name, &kind) != ACT_OK)
        return ACT_EFORMAT;
    uint64_t um = get_le(r, 4), bm = get_le(r, 4), bxg = get_le(r, 4), nu = get_le(r, 4);
    uint64_t seed = get_le(r, 8), pp = get_le(r, 4), ss = get_le(r, 4);
    double pid = get_f64(r);
    if (r->bad)
        return ACT_EFORMAT;
    if (kind != c->kind || um != s->ps.unary_mask || bm != s->ps.binary_mask ||
        bxg != (uint64_t)(s->ps.bxg != 0) || nu != (uint64_t)c->n_units || seed != c->seed ||
        pp != (uint64_t)c->population || ss != (uint64_t)c->tournament ||
        memcmp(&pid, &c->p_identity, sizeof pid) != 0)
        return ACT_EINVAL;
    s->rng.state = get_le(r, 8);
    s->last_ticket = get_le(r, 8);
    s->n_observed = get_le(r, 8);
    s->n_canceled = get_le(r, 8);
    uint64_t n_pend = get_le(r, 8);
    if (r->bad || n_pend > (r->n - r->pos) / PEND_BYTES ||
        s->n_observed > s->last_ticket || s->n_canceled > s->last_ticket - s->n_observed ||
        n_pend != s->last_ticket - s->n_observed - s->n_canceled)
        return ACT_EFORMAT;
    if (reserve_pending(s, (size_t)n_pend) != ACT_OK)
        return ACT_ENOMEM;
    int evo = c->kind == ACT_STRATEGY_EVOLUTION;
    for (uint64_t i = 0; i < n_pend; i++) {
        act_strategy_proposal *p = &s->pend[i];
        memset(p, 0, sizeof *p);
        p->ticket = get_le(r, 8);
        int ok = get_cand(r, c, &p->cand);
        p->logp = get_f64(r);
        p->parent = get_le(r, 8);
        uint64_t m = get_le(r, 1);
        p->mutation = (act_strategy_mutation)m;
        if (r->bad || !ok || p->ticket < 1 || p->ticket > s->last_ticket ||
            (i > 0 && p->ticket <= s->pend[i - 1].ticket) || !isfinite(p->logp) ||
            p->parent >= p->ticket || m >= ACT_STRATEGY_MUT_COUNT ||
            (!evo && (p->parent != 0 || m != ACT_STRATEGY_MUT_NONE)) ||
            (c->kind == ACT_STRATEGY_PPO && p->cand.n_units != c->n_units) ||
            (c->kind == ACT_STRATEGY_PPO && !(p->logp <= 0.0)))
            return ACT_EFORMAT;
        fill_tokens(p);
        s->n_pend = (size_t)i + 1;
    }
    switch (c->kind) {
    case ACT_STRATEGY_EXHAUSTIVE:
        s->cursor = get_le(r, 8);
        /* every ticket is an enumerated candidate or an injected one (act_strategy_inject) */
        if (r->bad || s->cursor > s->space_size || s->cursor > s->last_ticket)
            return ACT_EFORMAT;
        break;
    case ACT_STRATEGY_EVOLUTION: {
        uint64_t n_pop = get_le(r, 8);
        if (r->bad || n_pop > (uint64_t)c->population || n_pop > s->n_observed)
            return ACT_EFORMAT;
        for (uint64_t i = 0; i < n_pop; i++) {
            act_strategy_member *m = &s->pop[i];
            m->ticket = get_le(r, 8);
            int ok = get_cand(r, c, &m->cand);
            m->reward = get_f64(r);
            if (r->bad || !ok || m->ticket < 1 || m->ticket > s->last_ticket ||
                !isfinite(m->reward))
                return ACT_EFORMAT;
        }
        s->n_pop = (size_t)n_pop;
        s->head = 0;
        break;
    }
    case ACT_STRATEGY_PPO: {
        int rc = get_ppo(r, s);
        if (rc != ACT_OK)
            return rc;
        break;
    }
    case ACT_STRATEGY_RANDOM:
    case ACT_STRATEGY_COUNT:
        break;
    }
    return r->pos == r->n ? ACT_OK : ACT_EFORMAT;
}

int act_strategy_load(const act_strategy_config *cfg, const uint8_t *buf, size_t len,
                      act_strategy **out)
{
    if (!out)
        return ACT_EINVAL;
    *out = NULL;
    if (!config_ok(cfg) || (!buf && len))
        return ACT_EINVAL;
    if (len < 8 + 4 + 4)
        return ACT_EFORMAT;
    size_t body = len - 4;
    uint32_t crc = (uint32_t)buf[body] | (uint32_t)buf[body + 1] << 8 |
                   (uint32_t)buf[body + 2] << 16 | (uint32_t)buf[body + 3] << 24;
    if ((uint32_t)crc32_z(crc32(0L, Z_NULL, 0), buf, body) != crc)
        return ACT_EFORMAT;
    act_strategy *s = alloc_strategy(cfg);
    if (!s)
        return ACT_ENOMEM;
    reader r = { buf, body, 0, 0 };
    int rc = get_state(&r, s);
    if (rc != ACT_OK) {
        act_strategy_free(s);
        return rc;
    }
    *out = s;
    return ACT_OK;
}
