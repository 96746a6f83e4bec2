/* stats.h -- small-sample statistics for comparing training runs (internal; used by the CLI's
 * study report): Student t quantiles, mean with a t confidence interval, paired differences, t-test
 * p-values and Holm's adjustment for many comparisons.
 * Pure functions of their arguments: no I/O, no allocation, no state. */
#ifndef ACTLAB_UTIL_STATS_H
#define ACTLAB_UTIL_STATS_H

#include <stddef.h>

/* Mean and two-sided confidence interval of n values. */
typedef struct acti_stats_ci {
    size_t n;         /* values used (the finite ones) */
    double mean;      /* NaN when n == 0 */
    double sd;        /* sample standard deviation (n - 1); NaN when n < 2 */
    double half;      /* half-width: t_{(1+level)/2, n-1} sd / sqrt(n); NaN when n < 2 */
    double lo, hi;    /* mean -+ half */
} acti_stats_ci;

/* The regularised incomplete beta function I_x(a, b) for a, b > 0, x in [0, 1] (continued
 * fraction, relative accuracy ~1e-14); NaN outside the domain. */
double acti_stats_betainc(double a, double b, double x);

/* P(T <= t) for Student's t with df > 0 degrees of freedom. */
double acti_stats_t_cdf(double t, double df);

/* The p-quantile of Student's t with df > 0 degrees of freedom, p in (0, 1): the t with
 * acti_stats_t_cdf(t, df) == p, to ~1e-12 (bisection). NaN outside the domain. */
double acti_stats_t_quantile(double p, double df);

/* Mean, sd and the `level` (0.95) Student-t confidence interval of the finite values among
 * x[0..n) (NaN and infinities are skipped: a diverged run is counted by the caller). */
acti_stats_ci acti_stats_mean_ci(const double *x, size_t n, double level);

/* The same for the paired differences a[i] - b[i], over the i where both are finite. */
acti_stats_ci acti_stats_paired_ci(const double *a, const double *b, size_t n, double level);

/* The two-sided p-value of Student's t test that the mean behind `ci` is 0 (for a paired
 * interval: that the two sides do not differ): P(|T| >= |mean| / (sd / sqrt(n))) with n - 1
 * degrees of freedom. Below 0.05 exactly when a 95% interval excludes 0. NaN when n < 2; 0 when
 * sd is 0 and the mean is not, 1 when both are 0. */
double acti_stats_p_zero(const acti_stats_ci *ci);

/* Holm's step-down adjustment of the p-values p[0..n) of n tests read together: adj[i] is the
 * smallest family-wise level at which test i is rejected, max over the tests ranked at or below
 * it (ascending p, ties by index) of min(1, (m - rank) p), m the number of finite p. A NaN p
 * is not a test: it is skipped and its adj is NaN. adj must not overlap p. */
void acti_stats_holm(const double *p, size_t n, double *adj);

/* 1 when the interval covers 0 (or is undefined: n < 2), i.e. no significant difference at its
 * level; 0 when it lies wholly above or below 0. */
int acti_stats_covers_zero(const acti_stats_ci *ci);

#endif
