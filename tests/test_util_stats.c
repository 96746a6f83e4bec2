/* test_util_stats.c -- src/util/stats.c against known values: Student t quantiles from tables
 * (R's qt), the CDF at them, and mean and paired-difference confidence intervals worked out by
 * hand, t-test p-values against closed forms of the t distribution, Holm's adjustment worked out
 * by hand. */
#include <math.h>

#include "test.h"
#include "util/stats.h"

void test_util_stats_t_quantile(void)
{
    static const struct { double p, df, t; } tab[] = {
        { 0.975, 1, 12.706205 }, { 0.975, 2, 4.302653 }, { 0.975, 3, 3.182446 },
        { 0.975, 4, 2.776445 },  { 0.975, 9, 2.262157 }, { 0.975, 29, 2.045230 },
        { 0.95, 10, 1.812461 },  { 0.995, 5, 4.032143 }, { 0.975, 1000, 1.962339 },
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        double t = acti_stats_t_quantile(tab[i].p, tab[i].df);
        CHECK_CLOSE(t, tab[i].t, 2e-6, 0.0, "p %g df %g", tab[i].p, tab[i].df);
        CHECK_CLOSE(acti_stats_t_quantile(1.0 - tab[i].p, tab[i].df), -tab[i].t, 2e-6, 0.0,
                    "lower tail, p %g df %g", tab[i].p, tab[i].df);
        CHECK_CLOSE(acti_stats_t_cdf(tab[i].t, tab[i].df), tab[i].p, 1e-7, 0.0, "cdf, df %g",
                    tab[i].df);
    }
    CHECK(acti_stats_t_quantile(0.5, 3) == 0.0);
    CHECK(isnan(acti_stats_t_quantile(1.0, 3)));
    CHECK(isnan(acti_stats_t_quantile(0.975, 0)));
    CHECK_CLOSE(acti_stats_betainc(2, 3, 0.4), 0.5248, 1e-12, 0.0, "I_0.4(2, 3)");
}

void test_util_stats_ci(void)
{
    // 1..5: mean 3, sd sqrt(2.5), half t_{.975,4} sd / sqrt(5) = 2.776445 * sqrt(0.5)
    const double x[] = { 1, 2, NAN, 3, 4, 5 };
    acti_stats_ci c = acti_stats_mean_ci(x, 6, 0.95);
    CHECK(c.n == 5);
    CHECK_CLOSE(c.mean, 3.0, 1e-12, 0.0, "mean");
    CHECK_CLOSE(c.sd, sqrt(2.5), 1e-12, 0.0, "sd");
    CHECK_CLOSE(c.half, 1.963243, 2e-6, 0.0, "half-width");
    CHECK_CLOSE(c.lo, 1.036757, 2e-6, 0.0, "lo");
    // one value: a mean, no interval
    c = acti_stats_mean_ci(x, 1, 0.95);
    CHECK(c.n == 1 && c.mean == 1.0 && isnan(c.half));
    CHECK(acti_stats_covers_zero(&c));

    // paired, by hand: d = (0.01, 0.02, 0.00), mean 0.01, sd 0.01,
    // half = 4.302653 * 0.01 / sqrt(3) = 0.02484138: [-0.01484138, 0.03484138] covers 0
    const double a[] = { 0.85, 0.87, 0.86, 0.5 }, b[] = { 0.84, 0.85, 0.86, NAN };
    c = acti_stats_paired_ci(a, b, 4, 0.95);
    CHECK(c.n == 3);
    CHECK_CLOSE(c.mean, 0.01, 1e-12, 0.0, "paired mean");
    CHECK_CLOSE(c.sd, 0.01, 1e-12, 0.0, "paired sd");
    CHECK_CLOSE(c.lo, -0.01484138, 2e-8, 0.0, "paired lo");
    CHECK_CLOSE(c.hi, 0.03484138, 2e-8, 0.0, "paired hi");
    CHECK(acti_stats_covers_zero(&c));
    // d = (0.10, 0.11, 0.11): mean 0.1066667, sd 0.0057735, half 0.0143422: above 0
    const double a2[] = { 0.90, 0.91, 0.92 }, b2[] = { 0.80, 0.80, 0.81 };
    c = acti_stats_paired_ci(a2, b2, 3, 0.95);
    CHECK_CLOSE(c.mean, 0.10666667, 1e-8, 0.0, "mean");
    CHECK_CLOSE(c.half, 0.01434218, 2e-8, 0.0, "half");
    CHECK(!acti_stats_covers_zero(&c));
    // the same pairs swapped: below 0, not covering it either
    c = acti_stats_paired_ci(b2, a2, 3, 0.95);
    CHECK(c.hi < 0.0 && !acti_stats_covers_zero(&c));
}

/* For 2 and 4 degrees of freedom the t distribution has closed forms: P(|T| >= t) is
 * 1 - t / sqrt(2 + t^2), and 1 - (t / sqrt(4 + t^2)) (1 + 2 / (4 + t^2)). */
void test_util_stats_p_zero(void)
{
    // d = (0.10, 0.11, 0.11): mean 0.32 / 3, sd 0.01 / sqrt 3, so t = mean / (sd / sqrt 3) = 32
    // with 2 degrees of freedom
    const double a[] = { 0.90, 0.91, 0.92 }, b[] = { 0.80, 0.80, 0.81 };
    acti_stats_ci c = acti_stats_paired_ci(a, b, 3, 0.95);
    double t = c.mean / (c.sd / sqrt(3.0));
    CHECK_CLOSE(t, 32.0, 1e-9, 0.0, "t");
    CHECK_CLOSE(acti_stats_p_zero(&c), 1.0 - t / sqrt(2.0 + t * t), 1e-10, 0.0, "p, df 2");
    // swapped sides: the same two-sided p
    acti_stats_ci s = acti_stats_paired_ci(b, a, 3, 0.95);
    CHECK_CLOSE(acti_stats_p_zero(&s), acti_stats_p_zero(&c), 1e-14, 0.0, "symmetric");
    // 1..5 (df 4): t = 3 / sqrt(0.5)
    const double x[] = { 1, 2, 3, 4, 5 };
    c = acti_stats_mean_ci(x, 5, 0.95);
    t = 3.0 / sqrt(0.5);
    CHECK_CLOSE(acti_stats_p_zero(&c), 1.0 - t / sqrt(4.0 + t * t) * (1.0 + 2.0 / (4.0 + t * t)),
                1e-10, 0.0, "p, df 4");
    // p < 0.05 exactly when the 95% interval excludes 0, over shifted samples on both sides of
    // the boundary (t_{0.975,4} sd / sqrt 5 = 1.963243 for 1..5 shifted by -3)
    for (int k = -40; k <= 40; k++) {
        double y[5];
        for (int i = 0; i < 5; i++)
            y[i] = x[i] - 3.0 + 1.963243 + k * 1e-3;
        c = acti_stats_mean_ci(y, 5, 0.95);
        double p = acti_stats_p_zero(&c);
        CHECKF((p < 0.05) == !acti_stats_covers_zero(&c), "shift %d: p %.9f, [%g, %g]", k, p,
               c.lo, c.hi);
    }
    // degenerate: one value; sd 0
    c = acti_stats_mean_ci(x, 1, 0.95);
    CHECK(isnan(acti_stats_p_zero(&c)));
    const double z[] = { 0.5, 0.5, 0.5 }, zz[] = { 0.5, 0.5, 0.5 }, w[] = { 0.6, 0.6, 0.6 };
    c = acti_stats_paired_ci(z, zz, 3, 0.95);
    CHECK(acti_stats_p_zero(&c) == 1.0);
    c = acti_stats_paired_ci(w, z, 3, 0.95);
    CHECK(acti_stats_p_zero(&c) == 0.0);
}

void test_util_stats_holm(void)
{
    // m = 4 finite: ranked 0.005 (x4 = 0.02), 0.01 (x3 = 0.03), 0.03 (x2 = 0.06), 0.04 (x1,
    // raised to the running max 0.06)
    const double p[] = { 0.01, 0.04, 0.03, NAN, 0.005 };
    const double want[] = { 0.03, 0.06, 0.06, NAN, 0.02 };
    double adj[5];
    acti_stats_holm(p, 5, adj);
    for (int i = 0; i < 5; i++)
        CHECKF(isnan(want[i]) ? isnan(adj[i]) : fabs(adj[i] - want[i]) < 1e-15,
               "adj[%d] = %g, want %g", i, adj[i], want[i]);
    // capped at 1; ties share the larger multiplier's value
    const double q[] = { 0.6, 0.5 }, t[] = { 0.02, 0.02 };
    acti_stats_holm(q, 2, adj);
    CHECK(adj[0] == 1.0 && adj[1] == 1.0);
    acti_stats_holm(t, 2, adj);
    CHECK_CLOSE(adj[0], 0.04, 1e-15, 0.0, "tie");
    CHECK_CLOSE(adj[1], 0.04, 1e-15, 0.0, "tie");
    // one test: unchanged
    acti_stats_holm(p, 1, adj);
    CHECK(adj[0] == 0.01);
}
