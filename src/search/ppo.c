/* ppo.c -- the ppo strategy: the paper's RNN controller (Ramachandran, Zoph, Le, arXiv
 * 1710.05941; Zoph & Le, arXiv 1611.01578), a one-layer LSTM that emits per core unit the tokens
 * binary, input 1, input 2, unary 1, unary 2 from masked softmaxes, with its exact backward pass
 * (BPTT), trained with PPO's clipped objective (Schulman et al., arXiv 1707.06347) against an
 * exponential moving average of the rewards, by a small Adam. All arithmetic is in double.
 * The interface, the pending tickets and the byte format are strategy.c's. */
#include <math.h>
#include <string.h>

#include "search/strategy_int.h"

#define TPU   ACT_STRATEGY_TOKENS_PER_UNIT
#define T_MAX ACT_STRATEGY_MAX_TOKENS
#define N_IN  ACT_SPACE_MAX_UNITS        /* input choices: x and units 0..6 */
#define C_MAX ACT_SPACE_UNARY_COUNT      /* the widest softmax */

_Static_assert((int)ACT_SPACE_UNARY_COUNT >= (int)ACT_SPACE_BINARY_COUNT && C_MAX >= N_IN &&
               C_MAX <= 32, "acti_ppo_step.valid holds every choice of a step");

/* choices of step kind k = t % 5: binary, input 1, input 2, unary 1, unary 2 */
static const int n_choice[TPU] = { ACT_SPACE_BINARY_COUNT, N_IN, N_IN, ACT_SPACE_UNARY_COUNT,
                                   ACT_SPACE_UNARY_COUNT };

/*
 * The parameter blocks, one flat vector w (H hidden, the embeddings are H wide too):
 *   lstm_w (4H, 2H)   gates i, f, g, o from [x; h_prev]
 *   lstm_b (4H)
 *   start  (H)        the first step's input
 *   emb_k  (n_k, H)   k = 0..4: the input after a step of kind k that chose token j is row j
 *   head_w_k (n_k, H), head_b_k (n_k): the logits of a step of kind k
 */
typedef struct layout {
    int    H;
    size_t lstm_w, lstm_b, start, emb[TPU], head_w[TPU], head_b[TPU], n;
} layout;

static layout make_layout(int H)
{
    layout L;
    size_t o = 0, h = (size_t)H;
    L.H = H;
    L.lstm_w = o;  o += 4 * h * 2 * h;
    L.lstm_b = o;  o += 4 * h;
    L.start = o;   o += h;
    for (int k = 0; k < TPU; k++) {
        L.emb[k] = o;     o += (size_t)n_choice[k] * h;
        L.head_w[k] = o;  o += (size_t)n_choice[k] * h;
        L.head_b[k] = o;  o += (size_t)n_choice[k];
    }
    L.n = o;
    return L;
}

/* doubles of the forward cache: per step x (H), gates (4H), tanh c (H), probabilities and
 * logits (2 C_MAX); h and c for T_MAX + 1 states; backward scratch 9H */
static size_t cache_doubles(int H)
{
    size_t h = (size_t)H;
    return T_MAX * (6 * h + 2 * C_MAX) + 2 * (T_MAX + 1) * h + 9 * h;
}

size_t acti_ppo_bytes(const act_strategy_config *cfg)
{
    if (cfg->kind != ACT_STRATEGY_PPO)
        return 0;
    size_t n = make_layout(cfg->ppo_hidden).n;
    return sizeof(acti_ppo) + (size_t)cfg->ppo_batch * sizeof(acti_ppo_obs) +
           (4 * n + cache_doubles(cfg->ppo_hidden)) * sizeof(double);
}

void acti_ppo_place(acti_ppo *p, const act_strategy_config *cfg, void *mem)
{
    memset(p, 0, sizeof *p);
    p->hidden = cfg->ppo_hidden;
    p->temperature = cfg->ppo_temperature;
    p->tanh_c = cfg->ppo_tanh;
    p->n_params = make_layout(cfg->ppo_hidden).n;
    p->obs = mem;
    double *d = (double *)(p->obs + cfg->ppo_batch);
    p->w = d;  d += p->n_params;
    p->m = d;  d += p->n_params;
    p->v = d;  d += p->n_params;
    p->g = d;  d += p->n_params;
    p->cache = d;
}

/* Uniform in [-0.08, 0.08], Zoph & Le's initialisation of their controller. */
void acti_ppo_init(acti_ppo *p, act_rng *rng)
{
    for (size_t i = 0; i < p->n_params; i++)
        p->w[i] = 0.16 * act_rng_uniform(rng) - 0.08;
}

// ----------------------------------------------------------------------------
// the space's rules per step

static int has_beta(int k, int id)
{
    const char *t = k == 0 ? act_space_binary_template((act_space_binary)id)
                           : act_space_unary_template((act_space_unary)id);
    return strstr(t, "beta") != NULL;
}

int acti_ppo_space_ok(const act_strategy_config *cfg)
{
    const act_space_preset *ps = cfg->preset;
    if (3 * cfg->n_units <= ACT_EXPR_MAX_PARAMS)
        return 1;
    int free_un = 0, free_bin = 0;
    for (int u = 0; u < ACT_SPACE_UNARY_COUNT; u++)
        free_un |= (ps->unary_mask >> u & 1u) && !has_beta(3, u);
    for (int b = 0; b < ACT_SPACE_BINARY_COUNT; b++)
        free_bin |= (ps->binary_mask >> b & 1u) && !has_beta(0, b);
    return free_un && free_bin;
}

/*
 * The choices valid at step t of an n_units sequence after tokens tok[0..t), into st: the
 * preset's primitives, inputs x and the earlier units, the b(x, g(x)) form's fixed input 1 and
 * unary 1 on the last unit, and no primitive with a beta once ACT_EXPR_MAX_PARAMS are used.
 */
static void valid_choices(const act_space_preset *ps, int n_units, int t, const uint8_t *tok,
                          acti_ppo_step *st)
{
    int k = t % TPU, u = t / TPU, n = 0, betas = 0;
    int fixed = ps->bxg && u == n_units - 1;
    for (int j = 0; j < t; j++) {
        int kj = j % TPU;
        if (kj == 0 || kj >= 3)
            betas += has_beta(kj, tok[j]);
    }
    int full = betas >= ACT_EXPR_MAX_PARAMS;
    switch (k) {
    case 0:
        for (int b = 0; b < ACT_SPACE_BINARY_COUNT; b++)
            if ((ps->binary_mask >> b & 1u) && !(full && has_beta(0, b)))
                st->valid[n++] = (uint8_t)b;
        break;
    case 1:
    case 2:
        for (int i = 0; i <= (k == 1 && fixed ? 0 : u); i++)
            st->valid[n++] = (uint8_t)i;
        break;
    default:
        if (k == 3 && fixed) {
            st->valid[n++] = ACT_SPACE_U_X;
            break;
        }
        for (int v = 0; v < ACT_SPACE_UNARY_COUNT; v++)
            if ((ps->unary_mask >> v & 1u) && !(full && has_beta(3, v)))
                st->valid[n++] = (uint8_t)v;
        break;
    }
    st->n_valid = n;
}

// ----------------------------------------------------------------------------
// the controller: forward over a token sequence (sampling it or given), and BPTT

typedef struct fwd {
    const acti_ppo *p;
    layout          L;
    double         *x, *gate, *tc, *prob, *logit, *h, *c, *scratch;
} fwd;

static fwd fwd_view(const acti_ppo *p)
{
    fwd f;
    size_t H = (size_t)p->hidden;
    f.p = p;
    f.L = make_layout(p->hidden);
    f.x = p->cache;                         /* (T_MAX, H) */
    f.gate = f.x + T_MAX * H;               /* (T_MAX, 4H): i, f, g, o after their squashing */
    f.tc = f.gate + T_MAX * 4 * H;          /* (T_MAX, H): tanh(c_t) */
    f.prob = f.tc + T_MAX * H;              /* (T_MAX, C_MAX): the masked softmax */
    f.logit = f.prob + T_MAX * C_MAX;       /* (T_MAX, C_MAX): the squashed logits */
    f.h = f.logit + T_MAX * C_MAX;          /* (T_MAX + 1, H): h[0] = 0, h[t + 1] after step t */
    f.c = f.h + (T_MAX + 1) * H;            /* (T_MAX + 1, H) */
    f.scratch = f.c + (T_MAX + 1) * H;      /* 9H */
    return f;
}

static double sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

/*
 * Runs the controller over 5 * n_units steps. With rng, samples each token from its masked
 * softmax (one act_rng_uniform per step with more than one choice) into tok; without, reads tok.
 * Returns the sum of the tokens' log-probabilities; *entropy: the sum of the steps' entropies.
 * Leaves what the backward pass needs in p's cache and p->st.
 */
static double forward(acti_ppo *p, const act_space_preset *ps, int n_units, uint8_t *tok,
                      act_rng *rng, double *entropy)
{
    double temp = p->temperature, cap = p->tanh_c;
    fwd f = fwd_view(p);
    const double *w = p->w;
    size_t H = (size_t)p->hidden;
    int T = TPU * n_units;
    double logp = 0.0, ent = 0.0;
    memset(f.h, 0, H * sizeof *f.h);
    memset(f.c, 0, H * sizeof *f.c);
    for (int t = 0; t < T; t++) {
        int k = t % TPU;
        double *x = f.x + (size_t)t * H, *gt = f.gate + (size_t)t * 4 * H;
        const double *hp = f.h + (size_t)t * H, *cp = f.c + (size_t)t * H;
        double *hn = f.h + (size_t)(t + 1) * H, *cn = f.c + (size_t)(t + 1) * H;
        double *tc = f.tc + (size_t)t * H, *pr = f.prob + (size_t)t * C_MAX;
        double *lo = f.logit + (size_t)t * C_MAX;
        const double *src = t == 0 ? w + f.L.start
                                   : w + f.L.emb[(t - 1) % TPU] + (size_t)tok[t - 1] * H;
        memcpy(x, src, H * sizeof *x);
        for (size_t r = 0; r < 4 * H; r++) {        /* z = W [x; h_prev] + b */
            const double *wr = w + f.L.lstm_w + r * 2 * H;
            double z = w[f.L.lstm_b + r];
            for (size_t j = 0; j < H; j++)
                z += wr[j] * x[j] + wr[H + j] * hp[j];
            gt[r] = r / H == 2 ? tanh(z) : sigmoid(z);
        }
        for (size_t j = 0; j < H; j++) {
            double gi = gt[j], gf = gt[H + j], gg = gt[2 * H + j], go = gt[3 * H + j];
            cn[j] = gf * cp[j] + gi * gg;
            tc[j] = tanh(cn[j]);
            hn[j] = go * tc[j];
        }
        acti_ppo_step *st = &p->st[t];
        valid_choices(ps, n_units, t, tok, st);
        memset(pr, 0, C_MAX * sizeof *pr);
        double zmax = -(double)INFINITY, lg[C_MAX];
        for (int a = 0; a < st->n_valid; a++) {
            int j = st->valid[a];
            const double *hw = w + f.L.head_w[k] + (size_t)j * H;
            double z = w[f.L.head_b[k] + (size_t)j];
            for (size_t q = 0; q < H; q++)
                z += hw[q] * hn[q];
            z = cap > 0.0 ? cap * tanh(z / temp) : z / temp;    /* l = C tanh(z / T) */
            lo[j] = z;
            lg[a] = z;
            zmax = fmax(zmax, z);
        }
        double sum = 0.0;
        for (int a = 0; a < st->n_valid; a++)
            sum += exp(lg[a] - zmax);
        double lse = zmax + log(sum), h_t = 0.0;
        for (int a = 0; a < st->n_valid; a++) {
            double lp = lg[a] - lse;
            lg[a] = lp;
            pr[st->valid[a]] = exp(lp);
            h_t -= st->n_valid > 1 ? exp(lp) * lp : 0.0;
        }
        if (rng && st->n_valid == 1) {
            tok[t] = st->valid[0];
        } else if (rng) {
            double u = act_rng_uniform(rng), acc = 0.0;
            int a = 0;
            for (; a < st->n_valid - 1; a++) {       /* the last choice takes the rounding */
                acc += pr[st->valid[a]];
                if (u < acc)
                    break;
            }
            tok[t] = st->valid[a];
        }
        int a_tok = -1;
        for (int a = 0; a < st->n_valid; a++)
            if (st->valid[a] == tok[t])
                a_tok = a;
        st->token = tok[t];
        st->entropy = h_t;
        if (a_tok < 0)
            logp = -(double)INFINITY;            /* a token the space forbids here */
        else if (st->n_valid > 1)
            logp += lg[a_tok];
        ent += h_t;
    }
    if (entropy)
        *entropy = ent;
    return logp;
}

/*
 * Adds d(alpha * logp + beta * entropy)/dw of the last forward pass (n_units units) to p->g.
 * Per step with valid set V, p = softmax(z) over V, the chosen token a and H_t = -sum p log p:
 *   dlogp/dz_j = [j = a] - p_j,   dH_t/dz_j = -p_j (log p_j + H_t);
 * then back through the heads and the LSTM in reverse order (BPTT).
 */
static void backward(acti_ppo *p, int n_units, double alpha, double beta)
{
    fwd f = fwd_view(p);
    const double *w = p->w;
    double *g = p->g, cap = p->tanh_c;
    size_t H = (size_t)p->hidden;
    int T = TPU * n_units;
    double *dh = f.scratch, *dc = dh + H, *dz = dc + H, *dhn = dz + 4 * H;  /* H, H, 4H, H */
    double *dxh = dhn + H;                                                 /* 2H */
    memset(dh, 0, 2 * H * sizeof *dh);          /* dh, dc from the step after: none yet */
    for (int t = T - 1; t >= 0; t--) {
        int k = t % TPU;
        const acti_ppo_step *st = &p->st[t];
        const double *x = f.x + (size_t)t * H, *gt = f.gate + (size_t)t * 4 * H;
        const double *hp = f.h + (size_t)t * H, *cp = f.c + (size_t)t * H;
        const double *hn = f.h + (size_t)(t + 1) * H, *tc = f.tc + (size_t)t * H;
        const double *pr = f.prob + (size_t)t * C_MAX, *lo = f.logit + (size_t)t * C_MAX;
        memcpy(dhn, dh, H * sizeof *dhn);       /* dL/dh_t from step t + 1 */
        if (st->n_valid > 1) {
            for (int a = 0; a < st->n_valid; a++) {
                int j = st->valid[a];
                double pj = pr[j], lp = log(pj);
                double d = alpha * ((j == st->token) - pj) - beta * pj * (lp + st->entropy);
                double lc = cap > 0.0 ? lo[j] / cap : 0.0;
                d *= cap > 0.0 ? cap / p->temperature * (1.0 - lc * lc) : 1.0 / p->temperature;
                const double *hw = w + f.L.head_w[k] + (size_t)j * H;
                double *ghw = g + f.L.head_w[k] + (size_t)j * H;
                g[f.L.head_b[k] + (size_t)j] += d;
                for (size_t q = 0; q < H; q++) {
                    ghw[q] += d * hn[q];
                    dhn[q] += d * hw[q];
                }
            }
        }
        for (size_t j = 0; j < H; j++) {
            double gi = gt[j], gf = gt[H + j], gg = gt[2 * H + j], go = gt[3 * H + j];
            double dct = dc[j] + dhn[j] * go * (1.0 - tc[j] * tc[j]);
            dz[j] = dct * gg * gi * (1.0 - gi);
            dz[H + j] = dct * cp[j] * gf * (1.0 - gf);
            dz[2 * H + j] = dct * gi * (1.0 - gg * gg);
            dz[3 * H + j] = dhn[j] * tc[j] * go * (1.0 - go);
            dc[j] = dct * gf;                   /* to c_{t-1} */
        }
        memset(dxh, 0, 2 * H * sizeof *dxh);
        for (size_t r = 0; r < 4 * H; r++) {
            const double *wr = w + f.L.lstm_w + r * 2 * H;
            double *gw = g + f.L.lstm_w + r * 2 * H;
            double d = dz[r];
            g[f.L.lstm_b + r] += d;
            for (size_t j = 0; j < H; j++) {
                gw[j] += d * x[j];
                gw[H + j] += d * hp[j];
                dxh[j] += d * wr[j];
                dxh[H + j] += d * wr[H + j];
            }
        }
        double *gx = t == 0 ? g + f.L.start
                            : g + f.L.emb[(t - 1) % TPU] + (size_t)p->st[t - 1].token * H;
        for (size_t j = 0; j < H; j++) {
            gx[j] += dxh[j];
            dh[j] = dxh[H + j];                 /* to h_{t-1} */
        }
    }
}

static void tokens_of(const act_space_cand *c, uint8_t *tok)
{
    for (int u = 0; u < c->n_units; u++) {
        const act_space_unit *q = &c->unit[u];
        uint8_t *t = tok + TPU * u;
        t[0] = q->binary;
        t[1] = q->in1;
        t[2] = q->in2;
        t[3] = q->un1;
        t[4] = q->un2;
    }
}

double acti_ppo_logp(const act_strategy *s, const act_space_cand *c, double *entropy)
{
    uint8_t tok[T_MAX];
    tokens_of(c, tok);
    return forward(s->ppo, &s->ps, c->n_units, tok, NULL, entropy);
}

double acti_ppo_grad(const act_strategy *s, const act_space_cand *c, double alpha, double beta,
                     double *entropy)
{
    memset(s->ppo->g, 0, s->ppo->n_params * sizeof *s->ppo->g);
    double lp = acti_ppo_logp(s, c, entropy);
    backward(s->ppo, c->n_units, alpha, beta);
    return lp;
}

// ----------------------------------------------------------------------------
// the strategy

int acti_ppo_propose(const act_strategy *s, act_rng *rng, act_strategy_proposal *out)
{
    uint8_t tok[T_MAX];
    int n = s->cfg.n_units;
    out->logp = forward(s->ppo, &s->ps, n, tok, rng, NULL);
    out->cand.n_units = n;
    for (int u = 0; u < n; u++) {
        act_space_unit *q = &out->cand.unit[u];
        const uint8_t *t = tok + TPU * u;
        q->binary = t[0];
        q->in1 = t[1];
        q->in2 = t[2];
        q->un1 = t[3];
        q->un2 = t[4];
    }
    out->parent = 0;
    out->mutation = ACT_STRATEGY_MUT_NONE;
    return ACT_OK;
}

/* Adam (Kingma & Ba, arXiv 1412.6980; beta1 0.9, beta2 0.999, eps 1e-8) on the flat vector. */
static void adam_step(acti_ppo *p, double lr)
{
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    p->step++;
    double c1 = 1.0 - pow(b1, (double)p->step), c2 = 1.0 - pow(b2, (double)p->step);
    for (size_t i = 0; i < p->n_params; i++) {
        double gi = p->g[i];
        p->m[i] = b1 * p->m[i] + (1.0 - b1) * gi;
        p->v[i] = b2 * p->v[i] + (1.0 - b2) * gi * gi;
        p->w[i] -= lr * (p->m[i] / c1) / (sqrt(p->v[i] / c2) + eps);
    }
}

/*
 * PPO on the batch: advantages A_i = R_i - b with the baseline b before the batch (the first
 * batch: b = its mean), then ppo_epochs Adam steps on
 *   loss = -mean_i min(r_i A_i, clip(r_i, 1 - eps, 1 + eps) A_i) - c * mean_i H_i,
 *   r_i = exp(logp_now_i - logp_sampled_i),
 * and the baseline takes each reward in turn: b <- d b + (1 - d) R_i.
 */
static void update(act_strategy *s)
{
    acti_ppo *p = s->ppo;
    const act_strategy_config *c = &s->cfg;
    size_t B = p->n_obs;
    if (!p->has_baseline) {
        double sum = 0.0;
        for (size_t i = 0; i < B; i++)
            sum += p->obs[i].reward;
        p->baseline = sum / (double)B;
        p->has_baseline = 1;
    }
    for (int e = 0; e < c->ppo_epochs; e++) {
        memset(p->g, 0, p->n_params * sizeof *p->g);
        for (size_t i = 0; i < B; i++) {
            const acti_ppo_obs *o = &p->obs[i];
            double A = o->reward - p->baseline;
            double lp = acti_ppo_logp(s, &o->cand, NULL);
            double r = exp(lp - o->logp);
            /* the min picks the unclipped term (gradient r A dlogp) unless the clip binds */
            int live = A >= 0.0 ? r <= 1.0 + c->ppo_clip : r >= 1.0 - c->ppo_clip;
            double alpha = live ? -r * A / (double)B : 0.0;
            backward(p, o->cand.n_units, alpha, -c->ppo_entropy / (double)B);
        }
        adam_step(p, c->ppo_lr);
    }
    for (size_t i = 0; i < B; i++)
        p->baseline = c->ppo_decay * p->baseline + (1.0 - c->ppo_decay) * p->obs[i].reward;
    p->n_obs = 0;
}

void acti_ppo_observe(act_strategy *s, const act_space_cand *c, double logp, double reward)
{
    acti_ppo *p = s->ppo;
    acti_ppo_obs *o = &p->obs[p->n_obs++];
    o->cand = *c;
    o->logp = logp;
    o->reward = reward;
    if (p->n_obs >= (size_t)s->cfg.ppo_batch)
        update(s);
}
