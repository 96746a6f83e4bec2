/* test_act.c -- tests of the activation table, the argument checks, the test vectors
 * (docs/references.md, "Test vectors"), special values, identities, layouts, ISA paths and
 * threads. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act/act_kern.h"       /* acti_act_plan: what the dispatcher does */
#include "act_eval.h"
#include "actlab/act.h"
#include "actlab/expr.h"
#include "expr/expr_int.h"      /* a call node of every built-in, for the exports */
#include "test.h"

// ----------------------------------------------------------------------------
// table, lookup, presets

void test_act_table_complete(void)
{
    for (int i = 0; i < ACT_ACT_COUNT; i++) {
        const act_act_desc *d = act_act_info((act_act_id)i);
        CHECK(d != NULL);
        if (!d)
            continue;
        act_act_id got;
        CHECKF(act_act_lookup(d->name, &got) == ACT_OK && got == (act_act_id)i, "%s", d->name);
        CHECK(d->n_params >= 0 && d->n_params <= ACT_ACT_MAX_PARAMS);
        CHECK(d->formula && strlen(d->formula) > 0);
        for (int k = 0; k < ACT_ACT_MAX_PARAMS; k++)
            CHECKF((strcmp(d->param_names[k], "_") != 0) == (k < d->n_params), "%s p%d",
                   d->name, k);
        CHECK(act_act_check_params((act_act_id)i, d->defaults) == ACT_OK);
        const act_fn *fn = act_act_fn((act_act_id)i);
        CHECK(fn && strcmp(fn->name, d->name) == 0 && fn->n_params == d->n_params);
        CHECK(d->n_kinks >= 0 && d->n_kinks <= 2);
        CHECK(((d->flags & ACT_ACT_KINK) != 0) == (d->n_kinks > 0));
    }
    CHECK(act_act_info(ACT_ACT_COUNT) == NULL);
    CHECK(act_act_fn(ACT_ACT_COUNT) == NULL);
}

// ----------------------------------------------------------------------------
// the recipe for a new activation (docs/internals.md): one list row, its math in act_scalar.h,
// its case in the test oracle. Everything else is derived; this test fails where a derivation
// would let a row through unchecked.

/* the implementation columns of every row, as the list states them */
static const struct {
    unsigned char vec, mem;
    unsigned      nz;
    const char   *torch;
} act_cols[ACT_ACT_COUNT] = {
#define X(ID, name, np, flags, learn, n0, d0, n1, d1, n2, d2, nk, k0, k1, nz, cost, vec, formula, \
          torch)                                                                              \
    [ACT_ACT_##ID] = { vec, ACTI_COST_##cost == ACTI_COST_MEM, nz, torch },
    ACT_ACT_LIST(X)
#undef X
};

/* Perturbed parameter sets: every parameter of every row moves away from its default in sets
 * 1 and 2 (to two different values), and every set is valid. */
static void recipe_psets(act_act_id id)
{
    const act_act_desc *d = act_act_info(id);
    int ns = act_n_psets(id);
    CHECKF(ns == (d->n_params ? 3 : 1) + (ns > 3 ? ns - 3 : 0), "%s: %d parameter sets", d->name,
           ns);
    if (d->n_params == 0)
        return;
    float p1[ACT_ACT_MAX_PARAMS], p2[ACT_ACT_MAX_PARAMS];
    act_pset(id, 1, p1);
    act_pset(id, 2, p2);
    for (int k = 0; k < d->n_params; k++)
        CHECKF(p1[k] != d->defaults[k] && p2[k] != d->defaults[k] && p1[k] != p2[k],
               "%s: %s is %g, %g in the perturbed sets, %g by default", d->name,
               d->param_names[k], p1[k], p2[k], d->defaults[k]);
    for (int set = 0; set < ns; set++) {
        float p[ACT_ACT_MAX_PARAMS];
        act_pset(id, set, p);
        CHECKF(act_act_check_params(id, p) == ACT_OK, "%s set %d refused", d->name, set);
    }
}

/* The nz column is the whole constraint: a parameter marked there is refused at 0 (and -0); any
 * other parameter may be 0 (or anything finite), so it must give no NaN at a finite x and
 * finite values at a small x there: a parameter that divides needs its bit (softplus beta = 0
 * would be log(2)/0). The x are moderate: this is about singular parameter values; the
 * accuracy tests cover the tails. */
static void recipe_constraints(act_act_id id)
{
    static const float xs[] = { 0.0f, -0.0f, 1e-30f, -1e-30f, 0.5f, -0.5f, 1, -1, 3, -3, 30, -30,
                                1e4f, -1e4f };
    enum { NX = sizeof xs / sizeof xs[0] };
    const act_act_desc *d = act_act_info(id);
    CHECKF(d->nonzero == act_cols[id].nz && (d->nonzero >> d->n_params) == 0,
           "%s: nonzero %#x, list column %#x", d->name, d->nonzero, act_cols[id].nz);
    for (int k = 0; k < d->n_params; k++) {
        int nz = (d->nonzero >> k) & 1u;
        for (int set = 0; set < act_n_psets(id); set++) {
            float p[ACT_ACT_MAX_PARAMS], y[NX], g[NX], dp[ACT_ACT_MAX_PARAMS * NX];
            act_pset(id, set, p);
            static const float nonfinite[] = { NAN, INFINITY, -INFINITY };
            for (size_t b = 0; b < sizeof nonfinite / sizeof nonfinite[0]; b++) {
                float q[ACT_ACT_MAX_PARAMS];
                memcpy(q, p, sizeof q);
                q[k] = nonfinite[b];
                CHECKF(act_act_check_params(id, q) == ACT_EINVAL, "%s accepts %s = %g",
                       d->name, d->param_names[k], q[k]);
            }
            for (int sign = 0; sign < 2; sign++) {
                p[k] = sign ? -0.0f : 0.0f;
                int rc = act_act_check_params(id, p);
                CHECKF(rc == (nz ? ACT_EINVAL : ACT_OK), "%s: %s = %g gives %s (nz column %d)",
                       d->name, d->param_names[k], p[k], act_strerror(rc), nz);
                if (rc != ACT_OK || nz)
                    continue;
                act_eval(id, p, xs, NX, y, g, dp);
                for (int i = 0; i < NX; i++) {
                    int small = fabsf(xs[i]) <= 3.0f, bad = 0;
                    for (int j = -2; j < d->n_params; j++) {
                        float v = j == -2 ? y[i] : j == -1 ? g[i] : dp[j * NX + i];
                        bad |= isnan(v) || (small && isinf(v));
                    }
                    CHECKF(!bad, "%s set %d: %s = 0 is accepted but gives %s at x = %g: mark it "
                           "in the nz column", d->name, set, d->param_names[k],
                           small ? "NaN or inf" : "NaN", xs[i]);
                }
            }
        }
    }
}

/* The vec and cost columns against what the dispatcher does, on every ISA this CPU has: a row
 * with vector kernels runs them, one without runs the scalar reference (and has no table
 * entry); threads from 2^16 elements for the MEM class, 2^14 for MATH; non-temporal stores
 * from 2^22 elements for MEM rows with vector kernels only. */
static void recipe_dispatch(act_act_id id)
{
    const act_act_desc *d = act_act_info(id);
    int t0 = act_threads_get();
    CHECK(act_threads_set(2) == ACT_OK);
    CHECK(act_isa_set(ACT_ISA_SCALAR) == ACT_OK);
    const acti_kern *scalar = acti_act_plan(id, 1024).kern;
    for (int isa = 0; isa < ACT_ISA_COUNT; isa++) {
        if (!act_isa_supported((act_isa)isa) || act_isa_set((act_isa)isa) != ACT_OK)
            continue;
        const acti_kern *table = isa == ACT_ISA_AVX512 ? &acti_kern_avx512[id]
                               : isa == ACT_ISA_AVX2   ? &acti_kern_avx2[id] : NULL;
        int vec = act_cols[id].vec && table;
        if (table)
            CHECKF(act_cols[id].vec == (table->fwd && table->bwd && table->fwdr && table->bwdr &&
                                        table->fwdnt),
                   "%s: vec column %d, %s kernels %s", d->name, act_cols[id].vec,
                   act_isa_name((act_isa)isa), table->fwd ? "present" : "absent");
        acti_plan pl = acti_act_plan(id, 1024);
        CHECKF(pl.kern == (vec ? table : scalar) && pl.kern->fwd && pl.kern->bwd,
               "%s on %s: the dispatcher does not run the %s kernels", d->name,
               act_isa_name((act_isa)isa), vec ? "vector" : "scalar");
        size_t tmin = act_cols[id].mem ? 1u << 16 : 1u << 15;
        CHECKF(acti_act_plan(id, tmin - 1).threads == 1 && acti_act_plan(id, tmin).threads == 2,
               "%s: threads from %zu elements (cost column)", d->name, tmin);
        int nt = act_cols[id].mem && vec;
        CHECKF(acti_act_plan(id, (1u << 22) - 1).nt == 0 && acti_act_plan(id, 1u << 22).nt == nt,
               "%s on %s: non-temporal stores %s at 2^22 (cost column)", d->name,
               act_isa_name((act_isa)isa), nt ? "off" : "on");
    }
    CHECK(act_isa_set(act_isa_best()) == ACT_OK);
    CHECK(act_threads_set(t0) == ACT_OK);
}

/* Exports: the C form of every row is its act_<name>_f from act_scalar.h (found and called),
 * the PyTorch form is the torch column with no placeholder for a parameter the row lacks. */
static void recipe_exports(act_act_id id)
{
    const act_act_desc *d = act_act_info(id);
    const char *tc = act_cols[id].torch ? act_cols[id].torch : "";
    CHECKF(strchr(tc, 'X'), "%s: torch column '%s' does not use X", d->name, tc);
    for (const char *c = tc; (c = strchr(c, 'P')) != NULL; c++)
        if (c[1] >= '0' && c[1] <= '9')
            CHECKF(c[1] - '0' < d->n_params, "%s: torch column uses P%c of %d parameters",
                   d->name, c[1], d->n_params);
    float sets[2][ACT_ACT_MAX_PARAMS];
    act_pset(id, 0, sets[0]);
    act_pset(id, act_n_psets(id) > 1, sets[1]);
    for (int j = 0; j < 2; j++) {
        act_expr *e = acti_expr_new();
        int xi = e ? acti_expr_leaf(e, ACT_EXPR_INPUT, 0, 0.0f) : -1;
        acti_enode nd = { .op = ACT_EXPR_ACT, .a = xi, .b = -1, .k = (int32_t)id };
        memcpy(nd.p, sets[j], sizeof nd.p);
        int root = xi >= 0 ? acti_expr_add(e, &nd) : -1;
        CHECKF(root >= 0, "%s: cannot build a call node", d->name);
        if (root < 0) {
            act_expr_free(e);
            return;
        }
        e->root = root;
        char *c = NULL, *py = NULL, def[64], call[64];
        int rc = act_expr_print(e, ACT_EXPR_C, &c), rt = act_expr_print(e, ACT_EXPR_TORCH, &py);
        snprintf(def, sizeof def, "\nstatic inline float act_%s_f(float x, const float *p)",
                 d->name);
        snprintf(call, sizeof call, " = act_%s_f(x, ", d->name);
        CHECKF(rc == ACT_OK && strstr(c, def) && strstr(c, call),
               "%s: C export (%s) lacks act_%s_f from act_scalar.h", d->name, act_strerror(rc),
               d->name);
        CHECKF(rt == ACT_OK && strstr(py, "        t1 = ") && !strstr(py, "t1 = \n"),
               "%s: PyTorch export: %s", d->name, act_strerror(rt));
        free(c);
        free(py);
        act_expr_free(e);
    }
}

void test_act_recipe_complete(void)
{
    for (int i = 0; i < ACT_ACT_COUNT; i++) {
        recipe_psets((act_act_id)i);
        recipe_constraints((act_act_id)i);
        recipe_dispatch((act_act_id)i);
        recipe_exports((act_act_id)i);
    }
}

void test_act_lookup_presets_params(void)
{
    act_act_id id = ACT_ACT_RELU;
    CHECK(act_act_lookup("no_such_activation", &id) == ACT_ENOTFOUND);
    CHECK(act_act_lookup("", &id) == ACT_ENOTFOUND);
    CHECK(act_act_lookup("RELU", &id) == ACT_ENOTFOUND);
    CHECK(act_act_lookup(NULL, &id) == ACT_EINVAL);
    CHECK(id == ACT_ACT_RELU);
    int k = -1;
    CHECK(act_act_param_index(ACT_ACT_SWISH, "beta", &k) == ACT_OK && k == 0);
    CHECK(act_act_param_index(ACT_ACT_ACON_C, "p2", &k) == ACT_OK && k == 1);
    CHECK(act_act_param_index(ACT_ACT_ACON_C, "beta", &k) == ACT_OK && k == 2);
    CHECK(act_act_param_index(ACT_ACT_SMU, "mu", &k) == ACT_OK && k == 1);
    CHECK(act_act_param_index(ACT_ACT_SWISH, "alpha", &k) == ACT_ENOTFOUND);
    CHECK(act_act_param_index(ACT_ACT_RELU, "_", &k) == ACT_ENOTFOUND);
    float p[3] = { -1, -1, -1 };
    for (int i = 0; i < ACT_ACT_COUNT; i++) {
        const act_act_desc *d = act_act_info((act_act_id)i);
        CHECK(act_act_preset((act_act_id)i, "default", p) == ACT_OK);
        for (int j = 0; j < d->n_params; j++)
            CHECK(p[j] == d->defaults[j]);
        CHECK(act_act_preset((act_act_id)i, "bogus", p) == ACT_ENOTFOUND);
    }
    CHECK(act_act_preset(ACT_ACT_SMU, "original", p) == ACT_OK && p[0] == 0.25f && p[1] == 1e6f);
    CHECK(act_act_preset(ACT_ACT_SMU1, "original", p) == ACT_OK && p[0] == 0.25f &&
          p[1] == 4.352665993287951e-9f);
    CHECK(act_act_preset(ACT_ACT_RELU, "original", p) == ACT_ENOTFOUND);
    /* every listed preset name is accepted, and the list is exactly "default" (+ "original") */
    for (int i = 0; i < ACT_ACT_COUNT; i++) {
        int n = 0;
        const char *pn;
        while ((pn = act_act_preset_name((act_act_id)i, n)) != NULL) {
            CHECKF(act_act_preset((act_act_id)i, pn, p) == ACT_OK, "%s preset %s",
                   act_act_info((act_act_id)i)->name, pn);
            n++;
        }
        int smu = i == ACT_ACT_SMU || i == ACT_ACT_SMU1;
        CHECKF(n == (smu ? 2 : 1), "%s has %d presets", act_act_info((act_act_id)i)->name, n);
    }
    CHECK(strcmp(act_act_preset_name(ACT_ACT_SMU, 1), "original") == 0);
    CHECK(act_act_preset_name(ACT_ACT_COUNT, 0) == NULL && act_act_preset_name(ACT_ACT_SMU, -1) == NULL);
    CHECK(act_act_preset(ACT_ACT_SMU, "default", p) == ACT_OK && p[0] == 0.01f && p[1] == 2.5f);
    /* documented defaults (docs/activations.md; sources in docs/references.md) */
    const act_act_desc *d = act_act_info(ACT_ACT_PRELU);
    CHECK(d->defaults[0] == 0.25f && (d->learnable & 1));
    d = act_act_info(ACT_ACT_SMU1);
    CHECK(d->defaults[1] == 4.332461424154261e-9f);
    float q[6];
    CHECK(act_act_init_params(ACT_ACT_ACON_C, ACT_INIT_PAPER, 7, 2, q) == ACT_OK);
    CHECK(q[4] == 1.0f && q[5] == 1.0f && q[0] != q[1]);
}

void test_act_bad_input(void)
{
    float x[4] = { 1, 2, 3, 4 }, y[4], dy[4] = { 1, 1, 1, 1 }, dp[8] = { 0 };
    act_shape s4 = act_shape_flat(4);
    CHECK(act_act_forward(ACT_ACT_COUNT, NULL, 0, x, y, s4) == ACT_EINVAL);
    CHECK(act_act_forward((act_act_id)-1, NULL, 0, x, y, s4) == ACT_EINVAL);
    CHECK(act_act_forward(ACT_ACT_RELU, NULL, 0, NULL, y, s4) == ACT_EINVAL);
    CHECK(act_act_forward(ACT_ACT_RELU, NULL, 0, x, NULL, s4) == ACT_EINVAL);
    CHECK(act_act_forward(ACT_ACT_RELU, NULL, 0, NULL, NULL, act_shape_flat(0)) == ACT_OK);
    CHECK(act_act_backward(ACT_ACT_RELU, NULL, 0, x, NULL, y, NULL, s4) == ACT_EINVAL);
    CHECK(act_act_backward(ACT_ACT_RELU, NULL, 0, NULL, dy, y, NULL, s4) == ACT_EINVAL);
    CHECK(act_act_backward(ACT_ACT_RELU, NULL, 0, x, dy, NULL, NULL, s4) == ACT_EINVAL);
    CHECK(act_act_backward(ACT_ACT_COUNT, NULL, 0, x, dy, y, NULL, s4) == ACT_EINVAL);
    float pn[3] = { NAN, 0, 1 };
    CHECK(act_act_forward(ACT_ACT_SWISH, pn, 0, x, y, s4) == ACT_EINVAL);
    CHECK(act_act_backward(ACT_ACT_SWISH, pn, 0, x, dy, y, dp, s4) == ACT_EINVAL);
    float pi[3] = { INFINITY, 0, 1 };
    CHECK(act_act_forward(ACT_ACT_ACON_C, pi, 0, x, y, s4) == ACT_EINVAL);
    float pz[2] = { 0.0f, 20.0f };
    CHECK(act_act_forward(ACT_ACT_SOFTPLUS, pz, 0, x, y, s4) == ACT_EINVAL);
    CHECK(act_act_forward(ACT_ACT_CELU, pz, 0, x, y, s4) == ACT_EINVAL);
    /* per channel: a NaN in any channel's parameters, and NULL p */
    act_shape s22 = { 2, 2, 1 };
    float pc[2] = { 1.0f, NAN };
    CHECK(act_act_forward(ACT_ACT_SWISH, pc, ACT_PER_CHANNEL, x, y, s22) == ACT_EINVAL);
    CHECK(act_act_backward(ACT_ACT_SWISH, pc, ACT_PER_CHANNEL, x, dy, y, dp, s22) == ACT_EINVAL);
    CHECK(act_act_forward(ACT_ACT_SWISH, NULL, ACT_PER_CHANNEL, x, y, s22) == ACT_EINVAL);
    pc[1] = 2.0f;
    CHECK(act_act_forward(ACT_ACT_SWISH, pc, ACT_PER_CHANNEL, x, y, s22) == ACT_OK);
    CHECK(act_isa_set(ACT_ISA_COUNT) == ACT_EINVAL);
    CHECK(act_threads_set(0) == ACT_EINVAL);
}

// ----------------------------------------------------------------------------
// test vectors (exact to 10 significant digits; docs/references.md, "Test vectors")

#define K NAN   /* kink: not defined, skipped */
static const struct {
    act_act_id id;
    float p[3];
    int what;          /* 0: f, 1: df/dx, 2 + k: df/dp_k */
    double v[7];
} act_vectors[] = {
    { ACT_ACT_SIGMOID, { 0 }, 0, { 0.04742587318, 0.2689414214, 0.3775406688, 0.5, 0.6224593312, 0.7310585786, 0.9525741268 } },
    { ACT_ACT_TANH, { 0 }, 0, { -0.9950547537, -0.761594156, -0.4621171573, 0, 0.4621171573, 0.761594156, 0.9950547537 } },
    { ACT_ACT_ELU, { 1 }, 0, { -0.9502129316, -0.6321205588, -0.3934693403, 0, 0.5, 1, 3 } },
    { ACT_ACT_SELU, { 0 }, 0, { -1.670568729, -1.111330738, -0.6917581878, 0, 0.5253504937, 1.050700987, 3.152102962 } },
    { ACT_ACT_SOFTPLUS, { 1, 20 }, 0, { 0.04858735157, 0.3132616875, 0.4740769842, 0.6931471806, 0.9740769842, 1.313261688, 3.048587352 } },
    { ACT_ACT_SILU, { 0 }, 0, { -0.1422776195, -0.2689414214, -0.1887703344, 0, 0.3112296656, 0.7310585786, 2.85772238 } },
    { ACT_ACT_SWISH, { 2 }, 0, { -0.00741786947, -0.119202922, -0.1344707107, 0, 0.3655292893, 0.880797078, 2.992582131 } },
    { ACT_ACT_GELU, { 0 }, 0, { -0.004049694095, -0.1586552539, -0.1542687694, 0, 0.3457312306, 0.8413447461, 2.995950306 } },
    { ACT_ACT_GELU_TANH, { 0 }, 0, { -0.003637392082, -0.1588080094, -0.1542859902, 0, 0.3457140098, 0.8411919906, 2.996362608 } },
    { ACT_ACT_SWISH, { 1.702f }, 0, { -0.01807130971, -0.1542042341, -0.1496115634, 0, 0.3503884366, 0.8457957659, 2.98192869 } },
    { ACT_ACT_MISH, { 0 }, 0, { -0.1456474613, -0.3034014614, -0.2207437747, 0, 0.3752452113, 0.8650983883, 2.986535005 } },
    { ACT_ACT_HARDSIGMOID, { 0 }, 0, { 0, 0.3333333333, 0.4166666667, 0.5, 0.5833333333, 0.6666666667, 1 } },
    { ACT_ACT_HARDSWISH, { 0 }, 0, { 0, -0.3333333333, -0.2083333333, 0, 0.2916666667, 0.6666666667, 3 } },
    { ACT_ACT_ACON_C, { 1.5f, 0.25f, 2 }, 0, { -0.7520729199, -0.344822725, -0.2641875868, 0, 0.6108124132, 1.405177275, 4.49792708 } },
    { ACT_ACT_SMU, { 0.01f, 2.5f }, 0, { -0.03, -0.01023014856, -0.02482546989, 0, 0.4801745301, 0.9997698514, 3.0 } },
    { ACT_ACT_SMU, { 0.25f, 1 }, 0, { -0.7516455562, -0.3583166374, -0.2367280795, 0, 0.3882719205, 0.8916833626, 2.998354444 } },
    { ACT_ACT_SMU1, { 0.01f, 4.332461424154261e-9f }, 0, { -0.03, -0.01, -0.005, 2.166230712e-9, 0.5, 1, 3 } },
    { ACT_ACT_SMU1, { 0.25f, 1 }, 0, { -0.6438927748, 0, 0.2215002341, 0.5, 0.8465002341, 1.25, 3.106107225 } },
    { ACT_ACT_SIGMOID, { 0 }, 1, { 0.04517665973, 0.1966119332, 0.2350037122, 0.25, 0.2350037122, 0.1966119332, 0.04517665973 } },
    { ACT_ACT_TANH, { 0 }, 1, { 0.009866037165, 0.4199743416, 0.786447733, 1, 0.786447733, 0.4199743416, 0.009866037165 } },
    { ACT_ACT_ELU, { 1 }, 1, { 0.04978706837, 0.3678794412, 0.6065306597, 1, 1, 1, 1 } },
    { ACT_ACT_SELU, { 0 }, 1, { 0.08753061208, 0.646768603, 1.066341153, 1.758099341, 1.050700987, 1.050700987, 1.050700987 } },
    { ACT_ACT_SOFTPLUS, { 1, 20 }, 1, { 0.04742587318, 0.2689414214, 0.3775406688, 0.5, 0.6224593312, 0.7310585786, 0.9525741268 } },
    { ACT_ACT_SILU, { 0 }, 1, { -0.08810410602, 0.07232948813, 0.2600388127, 0.5, 0.7399611873, 0.9276705119, 1.088104106 } },
    { ACT_ACT_SWISH, { 2 }, 1, { -0.01232643259, -0.09078424878, 0.07232948813, 0.5, 0.9276705119, 1.090784249, 1.012326433 } },
    { ACT_ACT_GELU, { 0 }, 1, { -0.0119456472, -0.08331547059, 0.1325048753, 0.5, 0.8674951247, 1.083315471, 1.011945647 } },
    { ACT_ACT_GELU_TANH, { 0 }, 1, { -0.01158416663, -0.08296408385, 0.1326300965, 0.5, 0.8673699035, 1.082964084, 1.011584167 } },
    { ACT_ACT_SWISH, { 1.702f }, 1, { -0.02454832391, -0.06777960656, 0.120778088, 0.5, 0.879221912, 1.067779607, 1.024548324 } },
    { ACT_ACT_MISH, { 0 }, 1, { -0.09339311453, 0.05921675588, 0.2895106779, 0.6, 0.8864243754, 1.04903622, 1.021106911 } },
    { ACT_ACT_HARDSIGMOID, { 0 }, 1, { K, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, K } },
    { ACT_ACT_HARDSWISH, { 0 }, 1, { K, 0.1666666667, 0.3333333333, 0.5, 0.6666666667, 0.8333333333, K } },
    { ACT_ACT_ACON_C, { 1.5f, 0.25f, 2 }, 1, { 0.2455115382, 0.1257486108, 0.2578989439, 0.875, 1.492101056, 1.624251389, 1.504488462 } },
    { ACT_ACT_SMU, { 0.01f, 2.5f }, 1, { 0.01, 0.00720803816, -0.09980878628, 0.505, 1.109808786, 1.002791962, 1 } },
    { ACT_ACT_SMU, { 0.25f, 1 }, 1, { 0.244522187, 0.1774922742, 0.3355940451, 0.625, 0.9144059549, 1.072507726, 1.005477813 } },
    { ACT_ACT_SMU1, { 0.01f, 4.332461424154261e-9f }, 1, { 0.01, 0.01, 0.01, 0.505, 1, 1, 1 } },
    { ACT_ACT_SMU1, { 0.25f, 1 }, 1, { 0.2823206693, 0.4, 0.4933287094, 0.625, 0.7566712906, 0.85, 0.9676793307 } },
    { ACT_ACT_SWISH, { 2 }, 2, { 0.02219858362, 0.1049935854, 0.04915298331, 0, 0.04915298331, 0.1049935854, 0.02219858362 } },
    { ACT_ACT_ACON_C, { 1.5f, 0.25f, 2 }, 2, { 0.01077230823, 0.09940111134, -0.003159577542, 0, 0.4968404225, 1.099401111, 3.010772308 } },
    { ACT_ACT_ACON_C, { 1.5f, 0.25f, 2 }, 3, { -3.010772308, -1.099401111, -0.4968404225, 0, 0.003159577542, -0.09940111134, -0.01077230823 } },
    { ACT_ACT_ACON_C, { 1.5f, 0.25f, 2 }, 4, { 0.007769152585, 0.1095370571, 0.06761905742, 0, 0.06761905742, 0.1095370571, 0.007769152585 } },
    { ACT_ACT_SMU, { 0.01f, 2.5f }, 2, { -3, -1.002820163, -0.555458983, 0, -0.05545898297, -0.002820163475, -1.4203485e-23 } },
    { ACT_ACT_SMU, { 0.01f, 2.5f }, 3, { 5.675599489e-24, 0.001208844161, 0.02989194521, 0, 0.02989194521, 0.001208844161, 5.675599489e-24 } },
    { ACT_ACT_SMU, { 0.25f, 1 }, 2, { -3.021911252, -1.096676968, -0.4429373033, 0, 0.05706269675, -0.09667696777, -0.02191125182 } },
    { ACT_ACT_SMU, { 0.25f, 1 }, 3, { 0.01807899502, 0.1808243632, 0.06893105692, 0, 0.06893105692, 0.1808243632, 0.01807899502 } },
    { ACT_ACT_SMU1, { 0.25f, 1 }, 2, { -2.870717323, -0.8, -0.3377808604, 0, 0.1622191396, 0.2, 0.1292826771 } },
    { ACT_ACT_SMU1, { 0.25f, 1 }, 3, { 0.203069233, 0.4, 0.4681645888, 0.5, 0.4681645888, 0.4, 0.203069233 } },
    { ACT_ACT_PRELU, { 0.25f }, 2, { -3, -1, -0.5, 0, 0, 0, 0 } },
};
#undef K

void test_act_test_vectors(void)
{
    static const float xs[7] = { -3, -1, -0.5f, 0, 0.5f, 1, 3 };
    for (int isa = 0; isa < ACT_ISA_COUNT; isa++) {
        if (!act_isa_supported((act_isa)isa))
            continue;
        int rc_isa = act_isa_set((act_isa)isa);
        CHECKF(rc_isa == ACT_OK, "act_isa_set(%s): %s", act_isa_name((act_isa)isa),
               act_strerror(rc_isa));
        if (rc_isa != ACT_OK)
            continue;
        for (size_t r = 0; r < sizeof act_vectors / sizeof act_vectors[0]; r++) {
            act_act_id id = act_vectors[r].id;
            float f[7], d[7], dp[3 * 7];
            act_eval(id, act_vectors[r].p, xs, 7, f, d, dp);
            for (int i = 0; i < 7; i++) {
                double want = act_vectors[r].v[i];
                int w = act_vectors[r].what;
                if (isnan(want))
                    continue;
                double got = w == 0 ? f[i] : (w == 1 ? d[i] : dp[(w - 2) * 7 + i]);
                CHECK_CLOSE(got, want, 1e-9, 2e-6, "%s what %d x=%g isa %s",
                            act_act_info(id)->name, w, xs[i], act_isa_name((act_isa)isa));
            }
        }
    }
    CHECK(act_isa_set(act_isa_best()) == ACT_OK);
}

// ----------------------------------------------------------------------------
// special values: NaN in -> NaN out everywhere; inf -> limit; finite never NaN; tails

void test_act_special_values(void)
{
    static const float xs[] = { NAN, -NAN, INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, 1e4f, -1e4f,
                                100, -100, 20, -20, 0.0f, -0.0f, 1e-45f, -1e-45f };
    enum { NX = sizeof xs / sizeof xs[0] };
    for (int isa = 0; isa < ACT_ISA_COUNT; isa++) {
        if (!act_isa_supported((act_isa)isa))
            continue;
        int rc_isa = act_isa_set((act_isa)isa);
        CHECKF(rc_isa == ACT_OK, "act_isa_set(%s): %s", act_isa_name((act_isa)isa),
               act_strerror(rc_isa));
        if (rc_isa != ACT_OK)
            continue;
        for (int id = 0; id < ACT_ACT_COUNT; id++) {
            for (int set = 0; set < act_n_psets((act_act_id)id); set++) {
                float p[3], f[NX], d[NX], dp[3 * NX];
                act_pset((act_act_id)id, set, p);
                int np = act_act_info((act_act_id)id)->n_params;
                act_eval((act_act_id)id, p, xs, NX, f, d, dp);
                for (int i = 0; i < NX; i++) {
                    int nan_in = isnan(xs[i]);
                    const char *nm = act_act_info((act_act_id)id)->name;
                    CHECKF(nan_in == !!isnan(f[i]), "%s f(%g)=%g isa %d", nm, xs[i], f[i], isa);
                    CHECKF(nan_in == !!isnan(d[i]), "%s d(%g)=%g isa %d", nm, xs[i], d[i], isa);
                    for (int k = 0; k < np; k++)
                        CHECKF(nan_in == !!isnan(dp[k * NX + i]), "%s dp%d(%g)=%g isa %d", nm, k,
                               xs[i], dp[k * NX + i], isa);
                }
            }
        }
    }
    /* ACON with p1 == p2 (ACON-B with p = 1): the non-linear part vanishes; the vector kernels'
     * d * x products must give no NaN at huge x (they did past |x| ~ 1.8e19), in y, dx or the
     * summed parameter gradients, on a block long enough for the vector path */
    static const float big[] = { 1e20f, -1e20f, 1e30f, -1e30f, FLT_MAX, -FLT_MAX, 3.0f, -2.0f };
    enum { NB = 256 };
    float xb[NB], yb[NB], gb[NB], ones[NB];
    for (int i = 0; i < NB; i++) {
        xb[i] = big[i % 8];
        ones[i] = 1.0f;
    }
    for (int isa = 0; isa < ACT_ISA_COUNT; isa++) {
        if (!act_isa_supported((act_isa)isa) || act_isa_set((act_isa)isa) != ACT_OK)
            continue;
        const float pc[3] = { 0.5f, 0.5f, 1.0f }, pb[2] = { 1.0f, 2.0f };
        for (int which = 0; which < 2; which++) {
            act_act_id id = which ? ACT_ACT_ACON_B : ACT_ACT_ACON_C;
            float dp[3] = { 0 };
            const float *pp = which ? pb : pc;
            int rc = act_act_forward(id, pp, 0, xb, yb, act_shape_flat(NB));
            if (rc == ACT_OK)
                rc = act_act_backward(id, pp, ACT_DX_ASSIGN, xb, ones, gb, dp, act_shape_flat(NB));
            CHECKF(rc == ACT_OK, "%s: %s", act_act_info(id)->name, act_strerror(rc));
            int bad = isnan(dp[0]) || isnan(dp[1]) || isnan(dp[2]);
            for (int i = 0; i < NB; i++)
                bad |= isnan(yb[i]) || isnan(gb[i]);
            CHECKF(!bad, "%s with p1 == p2, |x| up to FLT_MAX, isa %s: dp %g %g %g",
                   act_act_info(id)->name, act_isa_name((act_isa)isa), (double)dp[0],
                   (double)dp[1], (double)dp[2]);
        }
    }
    /* tails: sign and magnitude (the exact mish(-20): docs/references.md, "Test vectors") */
    CHECK(act_isa_set(ACT_ISA_SCALAR) == ACT_OK);
    float x[4] = { -100, -20, 20, 100 }, f[4], d[4];
    act_eval(ACT_ACT_SIGMOID, NULL, x, 4, f, d, NULL);
    CHECK(f[0] > 0 && f[0] < 1e-43f && d[0] > 0 && f[3] == 1.0f);
    act_eval(ACT_ACT_SILU, NULL, x, 4, f, d, NULL);
    CHECK(f[0] < 0 && f[0] > -1e-41f && d[0] < 0 && f[3] == 100.0f && d[3] == 1.0f);
    act_eval(ACT_ACT_MISH, NULL, x, 4, f, d, NULL);
    CHECK(f[0] < 0 && f[0] > -1e-41f && d[0] < 0);
    CHECK_CLOSE(f[1], -4.122307241e-8, 0, 1e-6, "mish(-20)");
    act_eval(ACT_ACT_GELU, NULL, x, 4, f, d, NULL);
    CHECK(f[0] == 0.0f && f[3] == 100.0f && d[3] == 1.0f);
    act_eval(ACT_ACT_ELU, NULL, x, 4, f, d, NULL);
    CHECK(f[0] == -1.0f && d[0] > 0);
    CHECK(act_isa_set(act_isa_best()) == ACT_OK);
}
