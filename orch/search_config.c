/* search_config.c -- a search's configuration and its canonical text (search_config.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/run.h"
#include "actlab/space.h"
#include "fidelity.h"
#include "search_config.h"

orch_search_config orch_search_config_default(void)
{
    orch_search_config c;
    memset(&c, 0, sizeof c);
    c.strat = act_strategy_config_default(ACT_STRATEGY_EXHAUSTIVE);
    c.space = "full";
    c.fidelity = "proxy";
    c.seed = 1;
    c.batch = 8;
    c.max_attempts = 3;
    c.floor = 0.0;
    c.lease_s = 60.0;
    c.asha_eta = 3;
    return c;
}

static int bad(act_diag *d, int st, const char *fmt, const char *a, const char *b)
{
    if (d)
        snprintf(d->msg, sizeof d->msg, fmt, a, b ? b : "");
    return st;
}

static const char *strategy_names(void)
{
    static char buf[128];
    if (!buf[0])
        for (int k = 0; k < ACT_STRATEGY_COUNT; k++) {
            size_t n = strlen(buf);
            snprintf(buf + n, sizeof buf - n, "%s%s", k ? ", " : "",
                     act_strategy_name((act_strategy_kind)k));
        }
    return buf;
}

static const char *space_names(char *buf, size_t cap)
{
    buf[0] = 0;
    for (int i = 0; act_space_preset_at(i); i++) {
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", act_space_preset_at(i)->name);
    }
    return buf;
}

int orch_search_config_check(orch_search_config *c, act_diag *d)
{
    if (d)
        memset(d, 0, sizeof *d);
    if (!c)
        return ACT_EINVAL;
    const act_space_preset *ps = c->space ? act_space_preset_lookup(c->space) : NULL;
    if (!ps) {
        char names[512];
        return bad(d, ACT_ENOTFOUND, "unknown space preset '%s' (valid: %s)",
                   c->space ? c->space : "(none)", space_names(names, sizeof names));
    }
    if (!c->fidelity || !orch_fidelity_lookup(c->fidelity))
        return bad(d, ACT_ENOTFOUND, "unknown fidelity '%s' (valid: %s)",
                   c->fidelity ? c->fidelity : "(none)", orch_fidelity_names());
    if (c->strat.kind < 0 || c->strat.kind >= ACT_STRATEGY_COUNT)
        return bad(d, ACT_ENOTFOUND, "unknown strategy%s (valid: %s)", "", strategy_names());
    if (c->seed == 0)
        return bad(d, ACT_EINVAL, "seed must be >= 1%s%s", "", NULL);
    if (c->batch < 1 || c->batch > 4096)
        return bad(d, ACT_EINVAL, "batch must be in 1..4096%s%s", "", NULL);
    if (c->max_attempts < 1 || c->max_attempts > 100)
        return bad(d, ACT_EINVAL, "max_attempts must be in 1..100%s%s", "", NULL);
    if (!isfinite(c->floor))
        return bad(d, ACT_EINVAL, "floor must be finite%s%s", "", NULL);
    if (c->asha < 0 || c->asha > 1 || c->asha_eta < 2 || c->asha_eta > 100 ||
        c->asha_rungs < 0 || c->asha_rungs == 1 || c->asha_rungs > ORCH_MAX_RUNGS)
        return bad(d, ACT_EINVAL, "asha.eta must be 2..100 and asha.rungs 0 or 2..8%s%s", "",
                   NULL);
    if (c->asha && c->deterministic)
        return bad(d, ACT_EINVAL, "ASHA is asynchronous by design: --asha and --deterministic "
                   "do not go together%s%s", "", NULL);
    if (c->n_seed_exprs < 0 || c->n_seed_exprs > ORCH_MAX_SEED_EXPRS)
        return bad(d, ACT_EINVAL, "at most 64 seed expressions%s%s", "", NULL);
    for (int i = 0; i < c->n_seed_exprs; i++)
        if (!c->seed_exprs[i] || !c->seed_exprs[i][0] || strchr(c->seed_exprs[i], '\n'))
            return bad(d, ACT_EINVAL, "seed expression %s is empty or has a newline%s",
                       "", NULL);
    if (c->budget < 0 || c->max_failed < 0 || !(c->time_budget_s >= 0) ||
        !isfinite(c->time_budget_s) || !(c->lease_s > 0) || !isfinite(c->lease_s))
        return bad(d, ACT_EINVAL, "budget, max_failed and time_budget must be >= 0, lease_s "
                   "> 0%s%s", "", NULL);
    int ep[ORCH_MAX_RUNGS], n;
    int st0 = orch_search_rungs(c, ep, &n, d);
    if (st0 != ACT_OK)
        return st0;
    c->strat.preset = ps;
    c->strat.seed = c->seed;
    act_strategy *s = NULL;
    int st = act_strategy_new(&c->strat, &s);   /* the strategy's own checks */
    act_strategy_free(s);
    if (st != ACT_OK)
        return bad(d, st, "the %s strategy refuses this configuration (units, population, "
                   "tournament or a ppo value out of range)%s", act_strategy_name(c->strat.kind),
                   NULL);
    return ACT_OK;
}

int orch_search_rungs(const orch_search_config *c, int epochs[ORCH_MAX_RUNGS], int *n,
                      act_diag *d)
{
    const orch_fidelity *f = c && c->fidelity ? orch_fidelity_lookup(c->fidelity) : NULL;
    if (!f || !epochs || !n)
        return ACT_EINVAL;
    int e = f->epochs > 0 ? f->epochs : 1;
    if (!c->asha) {
        epochs[0] = e;
        *n = 1;
        return ACT_OK;
    }
    /* rung k of R: E / eta^(R-1-k) epochs (integer division), as many as stay >= 1 */
    int r = 1;
    for (long p = c->asha_eta; e / p >= 1 && r < ORCH_MAX_RUNGS; p *= c->asha_eta)
        r++;
    if (c->asha_rungs && c->asha_rungs < r)
        r = c->asha_rungs;
    if (r < 2) {
        if (d)
            snprintf(d->msg, sizeof d->msg, "ASHA needs a fidelity of at least eta = %d epochs "
                     "(%s has %d): choose another fidelity or a smaller --set asha.eta",
                     c->asha_eta, f->name, f->epochs);
        return ACT_EINVAL;
    }
    long p = 1;
    for (int k = r - 1; k >= 0; k--, p *= c->asha_eta)
        epochs[k] = (int)(e / p);
    *n = r;
    return ACT_OK;
}

// ----------------------------------------------------------------------------
// text

/* X(key, hashed) -- every key, in the text's order. */
#define KEY_LIST(X)                                                                         \
    X(format, 1) X(strategy, 1) X(space, 1) X(units, 1) X(seed, 1) X(fidelity, 1)           \
    X(fidelity.def, 1)                                                                      \
    X(deterministic, 1) X(batch, 1) X(max_attempts, 1) X(floor, 1)                          \
    X(asha, 1) X(asha.eta, 1) X(asha.rungs, 1)                                              \
    X(evolution.population, 1) X(evolution.tournament, 1) X(evolution.p_identity, 1)        \
    X(ppo.hidden, 1) X(ppo.batch, 1) X(ppo.epochs, 1) X(ppo.lr, 1) X(ppo.decay, 1)          \
    X(ppo.clip, 1) X(ppo.entropy, 1) X(ppo.temperature, 1) X(ppo.tanh, 1)                   \
    X(budget, 0) X(time_budget, 0) X(max_failed, 0) X(lease_s, 0)

static const struct { const char *key; int hashed; } keys[] = {
#define X(k, h) { #k, h },
    KEY_LIST(X)
#undef X
};
enum { N_KEYS = sizeof keys / sizeof keys[0] };

/* seed_expr.N keys are hashed; the rest as in the table. */
static int key_hashed(const char *key, size_t len)
{
    if (len > 10 && !strncmp(key, "seed_expr.", 10))
        return 1;
    for (int i = 0; i < N_KEYS; i++)
        if (strlen(keys[i].key) == len && !strncmp(keys[i].key, key, len))
            return keys[i].hashed;
    return 1;
}

typedef struct sbuf { char *p; size_t n, cap; int err; } sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    if (b->err)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->err = 1;
            return;
        }
        if ((size_t)n < b->cap - b->n) {
            b->n += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->err = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

int orch_search_config_write(const orch_search_config *c0, char **out)
{
    if (!c0 || !out)
        return ACT_EINVAL;
    *out = NULL;
    orch_search_config c = *c0;
    int st = orch_search_config_check(&c, NULL);
    if (st != ACT_OK)
        return st;
    sbuf b = { malloc(1024), 0, 1024, 0 };
    if (!b.p)
        return ACT_ENOMEM;
    b.p[0] = 0;
    const act_strategy_config *s = &c.strat;
    put(&b, "format=%s\nstrategy=%s\nspace=%s\nunits=%d\nseed=%" PRIu64 "\nfidelity=%s\n",
        ORCH_SEARCH_FORMAT, act_strategy_name(s->kind), c.space, s->n_units, c.seed,
        c.fidelity);
    /* what the fidelity's name means in this build: a table that changed under a journal
     * makes its resume refused, naming this key, instead of mixing two trainings */
    const orch_fidelity *f = orch_fidelity_lookup(c.fidelity);
    if (f->synthetic)
        put(&b, "fidelity.def=synthetic epochs=%d\n", f->epochs);
    else
        put(&b, "fidelity.def=%s train_limit=%zu val=%zu test_limit=%zu epochs=%d lr=%.9g "
            "cap=%.9g\n", f->model, f->train_limit, f->val_size, f->test_limit, f->epochs,
            (double)f->lr, f->time_cap_s);
    put(&b, "deterministic=%d\nbatch=%d\nmax_attempts=%d\nfloor=%.17g\n", c.deterministic,
        c.batch, c.max_attempts, c.floor);
    if (c.asha)
        put(&b, "asha=1\nasha.eta=%d\nasha.rungs=%d\n", c.asha_eta, c.asha_rungs);
    if (s->kind == ACT_STRATEGY_EVOLUTION)
        put(&b, "evolution.population=%d\nevolution.tournament=%d\nevolution.p_identity=%.17g\n",
            s->population, s->tournament, s->p_identity);
    if (s->kind == ACT_STRATEGY_PPO)
        put(&b, "ppo.hidden=%d\nppo.batch=%d\nppo.epochs=%d\nppo.lr=%.17g\nppo.decay=%.17g\n"
            "ppo.clip=%.17g\nppo.entropy=%.17g\nppo.temperature=%.17g\nppo.tanh=%.17g\n",
            s->ppo_hidden, s->ppo_batch, s->ppo_epochs, s->ppo_lr, s->ppo_decay, s->ppo_clip,
            s->ppo_entropy, s->ppo_temperature, s->ppo_tanh);
    for (int i = 0; i < c.n_seed_exprs; i++)
        put(&b, "seed_expr.%d=%s\n", i + 1, c.seed_exprs[i]);
    put(&b, "budget=%" PRId64 "\ntime_budget=%.17g\nmax_failed=%" PRId64 "\nlease_s=%.17g\n",
        c.budget, c.time_budget_s, c.max_failed, c.lease_s);
    if (b.err) {
        free(b.p);
        return ACT_ENOMEM;
    }
    *out = b.p;
    return ACT_OK;
}

static int parse_i64(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return 0;
    *out = x;
    return 1;
}

static int parse_f64(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x))
        return 0;
    *out = x;
    return 1;
}

/* Sets key k of c from value v (a NUL-terminated copy owned by the caller's strings); 0 if v
 * is bad for k, -1 if k is not a key. */
static int set_key(orch_search_config *c, const char *k, const char *v)
{
    act_strategy_config *s = &c->strat;
    int64_t i;
    double f;
#define INT(name, lo, hi, dst)                                                                \
    if (!strcmp(k, name))                                                                     \
        return parse_i64(v, lo, hi, &i) ? ((dst) = (int)i, 1) : 0;
#define I64(name, lo, dst)                                                                    \
    if (!strcmp(k, name))                                                                     \
        return parse_i64(v, lo, INT64_MAX, &i) ? ((dst) = i, 1) : 0;
#define DBL(name, dst)                                                                        \
    if (!strcmp(k, name))                                                                     \
        return parse_f64(v, &f) ? ((dst) = f, 1) : 0;
    if (!strcmp(k, "format"))
        return !strcmp(v, ORCH_SEARCH_FORMAT);
    if (!strcmp(k, "strategy")) {
        act_strategy_kind kind;   /* read first (orch_search_config_read): here it must agree */
        return act_strategy_lookup(v, &kind) == ACT_OK && kind == s->kind;
    }
    if (!strcmp(k, "space"))
        return c->space = v, 1;
    if (!strcmp(k, "fidelity.def"))
        return 1;   /* written from the table; a resume compares the two texts */
    if (!strcmp(k, "fidelity"))
        return c->fidelity = v, 1;
    if (!strcmp(k, "seed"))
        return parse_i64(v, 1, INT64_MAX, &i) ? (c->seed = (uint64_t)i, 1) : 0;
    INT("units", 1, ACT_SPACE_MAX_UNITS, s->n_units)
    INT("deterministic", 0, 1, c->deterministic)
    INT("batch", 1, 4096, c->batch)
    INT("max_attempts", 1, 100, c->max_attempts)
    DBL("floor", c->floor)
    INT("asha", 0, 1, c->asha)
    INT("asha.eta", 2, 100, c->asha_eta)
    INT("asha.rungs", 0, ORCH_MAX_RUNGS, c->asha_rungs)
    INT("evolution.population", 1, ACT_STRATEGY_MAX_POPULATION, s->population)
    INT("evolution.tournament", 1, ACT_STRATEGY_MAX_POPULATION, s->tournament)
    DBL("evolution.p_identity", s->p_identity)
    INT("ppo.hidden", 1, 256, s->ppo_hidden)
    INT("ppo.batch", 1, 4096, s->ppo_batch)
    INT("ppo.epochs", 1, 100, s->ppo_epochs)
    DBL("ppo.lr", s->ppo_lr)
    DBL("ppo.decay", s->ppo_decay)
    DBL("ppo.clip", s->ppo_clip)
    DBL("ppo.entropy", s->ppo_entropy)
    DBL("ppo.temperature", s->ppo_temperature)
    DBL("ppo.tanh", s->ppo_tanh)
    I64("budget", 0, c->budget)
    DBL("time_budget", c->time_budget_s)
    I64("max_failed", 0, c->max_failed)
    DBL("lease_s", c->lease_s)
#undef INT
#undef I64
#undef DBL
    if (!strncmp(k, "seed_expr.", 10)) {
        if (!parse_i64(k + 10, 1, ORCH_MAX_SEED_EXPRS, &i) || i != c->n_seed_exprs + 1)
            return 0;
        c->seed_exprs[c->n_seed_exprs++] = v;
        return 1;
    }
    return -1;
}

int orch_search_config_set(orch_search_config *c, const char *key, const char *value)
{
    if (!c || !key || !value)
        return ACT_EINVAL;
    if (!strcmp(key, "strategy")) {
        act_strategy_kind kind;
        if (act_strategy_lookup(value, &kind) != ACT_OK)
            return ACT_EINVAL;
        if (kind != c->strat.kind) {
            int units = c->strat.n_units;
            c->strat = act_strategy_config_default(kind);
            c->strat.n_units = units;
        }
        return ACT_OK;
    }
    if (!strcmp(key, "format") || !strcmp(key, "fidelity.def"))
        return ACT_ENOTFOUND;   /* not settable: the format, and what the table says */
    int r = set_key(c, key, value);
    return r > 0 ? ACT_OK : r == 0 ? ACT_EINVAL : ACT_ENOTFOUND;
}

int orch_search_config_read(const char *text, orch_search_config *c, char **strings,
                            act_diag *d)
{
    if (d)
        memset(d, 0, sizeof *d);
    if (!text || !c || !strings)
        return ACT_EINVAL;
    *strings = NULL;
    char *copy = strdup(text);
    if (!copy)
        return ACT_ENOMEM;
    *c = orch_search_config_default();
    /* the strategy first: its defaults are those of the keys the text leaves out */
    size_t len;
    const char *sv = act_run_text_value(text, "strategy", &len);
    if (sv) {
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(len < 31 ? len : 31), sv);
        act_strategy_kind kind;
        if (act_strategy_lookup(name, &kind) == ACT_OK)
            c->strat = act_strategy_config_default(kind);
    }
    int line = 0;
    unsigned char seen[N_KEYS] = { 0 };
    for (char *p = copy, *next; p && *p; p = next) {
        line++;
        next = strchr(p, '\n');
        if (next)
            *next++ = 0;
        char *eq = strchr(p, '=');
        if (!eq) {
            if (d)
                snprintf(d->msg, sizeof d->msg, "search config line %d: '%.60s' is not "
                         "key=value", line, p);
            free(copy);
            return ACT_EFORMAT;
        }
        *eq = 0;
        for (int i = 0; i < N_KEYS; i++)
            if (!strcmp(keys[i].key, p) && seen[i]++) {
                int st = bad(d, ACT_EFORMAT, "search config: key '%s' repeated%s", p, NULL);
                free(copy);   /* after the message: p points into it */
                return st;
            }
        int r = set_key(c, p, eq + 1);
        if (r <= 0) {
            int st = r < 0 ? bad(d, ACT_EFORMAT, "search config: unknown key '%s'%s", p, NULL)
                           : bad(d, ACT_EFORMAT, "search config: bad value for '%s': '%s'", p,
                                 eq + 1);
            free(copy);
            return st;
        }
    }
    int st = orch_search_config_check(c, d);
    if (st != ACT_OK) {
        free(copy);
        return st == ACT_ENOTFOUND ? ACT_EFORMAT : st;
    }
    *strings = copy;
    return ACT_OK;
}

uint64_t orch_search_config_hash(const char *text)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = text ? text : ""; *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) + 1 : strlen(p);
        size_t klen = strcspn(p, "=\n");
        if (key_hashed(p, klen))
            for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char)p[i];
                h *= 0x100000001b3ULL;
            }
        p += n;
    }
    return h;
}

/* Every key of text, in order, through fn. */
static void each_key(const char *text, void (*fn)(void *u, const char *k, size_t n), void *u)
{
    for (const char *p = text; p && *p;) {
        size_t klen = strcspn(p, "=\n");
        fn(u, p, klen);
        const char *end = strchr(p, '\n');
        p = end ? end + 1 : p + strlen(p);
    }
}

typedef struct diff_ctx {
    const char *a, *b, *other;   /* other: the text whose keys are seen only if absent in a */
    char *buf;
    size_t cap;
    int n;
} diff_ctx;

static void diff_key(void *u, const char *k, size_t n)
{
    diff_ctx *c = u;
    char key[64];
    if (n == 0 || n >= sizeof key || !key_hashed(k, n))
        return;
    memcpy(key, k, n);
    key[n] = 0;
    size_t la = 0, lb = 0;
    const char *va = act_run_text_value(c->a, key, &la);
    const char *vb = act_run_text_value(c->b, key, &lb);
    if (c->other == c->b && va)
        return;   /* the second pass only adds keys that a lacks */
    if (va && vb && la == lb && !memcmp(va, vb, la))
        return;
    size_t used = strlen(c->buf);
    snprintf(c->buf + used, c->cap - used, "%s%s (%.*s vs %.*s)", c->n ? "; " : "", key,
             va ? (int)la : 6, va ? va : "absent", vb ? (int)lb : 6, vb ? vb : "absent");
    c->n++;
}

int orch_search_config_diff(const char *a, const char *b, char *buf, size_t cap)
{
    char dummy[1];
    if (!buf || !cap) {
        buf = dummy;
        cap = 1;
    }
    buf[0] = 0;
    diff_ctx c = { a ? a : "", b ? b : "", NULL, buf, cap, 0 };
    each_key(c.a, diff_key, &c);
    c.other = c.b;
    each_key(c.b, diff_key, &c);
    return c.n;
}
