/* stats.c -- Student t quantiles (regularised incomplete beta by Lentz's continued fraction,
 * inverted by bisection), mean with a t confidence interval, paired differences, t-test p-values,
 * Holm's adjustment. See stats.h. */
#include <math.h>

#include "util/stats.h"

/* The continued fraction of I_x(a, b) (Numerical Recipes' betacf, modified Lentz). */
static double betacf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-15;
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 1000; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = fabs(d) < tiny ? tiny : d;
        c = 1.0 + aa / c;
        c = fabs(c) < tiny ? tiny : c;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = fabs(d) < tiny ? tiny : d;
        c = 1.0 + aa / c;
        c = fabs(c) < tiny ? tiny : c;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < eps)
            break;
    }
    return h;
}

double acti_stats_betainc(double a, double b, double x)
{
    if (!(a > 0.0) || !(b > 0.0) || !(x >= 0.0 && x <= 1.0))
        return NAN;
    if (x == 0.0 || x == 1.0)
        return x;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    double bt = exp(lbt);
    // The fraction converges fast for x < (a + 1) / (a + b + 2); else use the symmetry.
    if (x < (a + 1.0) / (a + b + 2.0))
        return bt * betacf(a, b, x) / a;
    return 1.0 - bt * betacf(b, a, 1.0 - x) / b;
}

double acti_stats_t_cdf(double t, double df)
{
    if (!(df > 0.0) || isnan(t))
        return NAN;
    if (isinf(t))
        return t > 0 ? 1.0 : 0.0;
    // P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2)
    double tail = 0.5 * acti_stats_betainc(0.5 * df, 0.5, df / (df + t * t));
    return t >= 0.0 ? 1.0 - tail : tail;
}

double acti_stats_t_quantile(double p, double df)
{
    if (!(p > 0.0 && p < 1.0) || !(df > 0.0))
        return NAN;
    if (p == 0.5)
        return 0.0;
    double q = p > 0.5 ? p : 1.0 - p;   /* solve for the upper half, mirror at the end */
    double lo = 0.0, hi = 1.0;
    while (acti_stats_t_cdf(hi, df) < q && hi < 1e300)
        hi *= 2.0;
    for (int i = 0; i < 200 && hi - lo > 1e-13 * fmax(1.0, hi); i++) {
        double mid = 0.5 * (lo + hi);
        if (acti_stats_t_cdf(mid, df) < q)
            lo = mid;
        else
            hi = mid;
    }
    double t = 0.5 * (lo + hi);
    return p > 0.5 ? t : -t;
}

static acti_stats_ci ci_of(double sum, double sq_dev_sum, size_t n, double level)
{
    acti_stats_ci r = { n, NAN, NAN, NAN, NAN, NAN };
    if (n == 0)
        return r;
    r.mean = sum / (double)n;
    if (n >= 2) {
        r.sd = sqrt(sq_dev_sum / (double)(n - 1));
        r.half = acti_stats_t_quantile(0.5 + 0.5 * level, (double)(n - 1)) * r.sd /
                 sqrt((double)n);
        r.lo = r.mean - r.half;
        r.hi = r.mean + r.half;
    }
    return r;
}

acti_stats_ci acti_stats_mean_ci(const double *x, size_t n, double level)
{
    double s = 0.0, q = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) {
            s += x[i];
            k++;
        }
    double m = k ? s / (double)k : 0.0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            q += (x[i] - m) * (x[i] - m);
    return ci_of(s, q, k, level);
}

acti_stats_ci acti_stats_paired_ci(const double *a, const double *b, size_t n, double level)
{
    double s = 0.0, q = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(a[i]) && isfinite(b[i])) {
            s += a[i] - b[i];
            k++;
        }
    double m = k ? s / (double)k : 0.0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(a[i]) && isfinite(b[i]))
            q += (a[i] - b[i] - m) * (a[i] - b[i] - m);
    return ci_of(s, q, k, level);
}

double acti_stats_p_zero(const acti_stats_ci *ci)
{
    if (ci->n < 2 || !isfinite(ci->mean) || !isfinite(ci->sd))
        return NAN;
    if (ci->sd == 0.0)
        return ci->mean == 0.0 ? 1.0 : 0.0;
    double df = (double)(ci->n - 1);
    double t = ci->mean / (ci->sd / sqrt((double)ci->n));
    // P(|T| >= |t|) = I_{df/(df+t^2)}(df/2, 1/2): no cancellation for large |t|
    return acti_stats_betainc(0.5 * df, 0.5, df / (df + t * t));
}

/* The rank of p[i] among the finite p (ascending, ties by index). */
static size_t holm_rank(const double *p, size_t n, size_t i)
{
    size_t r = 0;
    for (size_t k = 0; k < n; k++)
        r += !isnan(p[k]) && (p[k] < p[i] || (p[k] == p[i] && k < i));
    return r;
}

void acti_stats_holm(const double *p, size_t n, double *adj)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += !isnan(p[i]);
    // O(n^3) without allocation: a study block compares a dozen activations at most
    for (size_t i = 0; i < n; i++) {
        adj[i] = NAN;
        if (isnan(p[i]))
            continue;
        size_t ri = holm_rank(p, n, i);
        double a = 0.0;
        for (size_t k = 0; k < n; k++) {
            if (isnan(p[k]))
                continue;
            size_t rk = holm_rank(p, n, k);
            if (rk <= ri) {
                double v = (double)(m - rk) * p[k];
                a = fmax(a, v < 1.0 ? v : 1.0);
            }
        }
        adj[i] = a;
    }
}

int acti_stats_covers_zero(const acti_stats_ci *ci)
{
    return !(ci->n >= 2 && isfinite(ci->lo) && isfinite(ci->hi)) || (ci->lo <= 0.0 &&
                                                                       ci->hi >= 0.0);
}
