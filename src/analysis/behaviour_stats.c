/* Statistics of the behaviour test: distances between two next-token distributions aligned by canonical
 * bytes, bootstrap intervals over probes, the paired one-sided test against a panel model and Holm. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/behaviour.h"

static int same_bytes(const bdist_entry *a, const bdist_entry *b)
{
    return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

/* Index of e in d's top list, or -1. */
static int find_entry(const bdist *d, const bdist_entry *e)
{
    for (size_t i = 0; i < d->n; i++)
        if (same_bytes(&d->top[i], e)) return (int)i;
    return -1;
}

/* Union of both top lists: for each element, the probability each side gives it (0 when it is in the other
 * side's list only: that mass sits in this side's "other" bucket). Returns the union size. */
static size_t union_probs(const bdist *p, const bdist *q, double *pp, double *qq)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++) {
        int j = find_entry(q, &p->top[i]);
        pp[n] = exp(p->top[i].logprob);
        qq[n] = j >= 0 ? exp(q->top[j].logprob) : 0;
        n++;
    }
    for (size_t j = 0; j < q->n; j++)
        if (find_entry(p, &q->top[j]) < 0) {
            pp[n] = 0;
            qq[n] = exp(q->top[j].logprob);
            n++;
        }
    return n;
}

static double kl_term(double a, double m) { return a > 0 ? a * log2(a / m) : 0; }

double bdist_jsd(const bdist *p, const bdist *q)
{
    double pp[2 * BEHAVIOUR_TOP_K + 1], qq[2 * BEHAVIOUR_TOP_K + 1];
    size_t n = union_probs(p, q, pp, qq);
    pp[n] = p->other > 0 ? p->other : 0;
    qq[n] = q->other > 0 ? q->other : 0;
    n++;
    double sp = 0, sq = 0;
    for (size_t i = 0; i < n; i++) { sp += pp[i]; sq += qq[i]; }
    if (sp <= 0 || sq <= 0) return NAN;
    double js = 0;
    for (size_t i = 0; i < n; i++) {
        double a = pp[i] / sp, b = qq[i] / sq, m = 0.5 * (a + b);
        if (m > 0) js += 0.5 * kl_term(a, m) + 0.5 * kl_term(b, m);
    }
    return js < 0 ? 0 : js > 1 ? 1 : js;
}

int bdist_top1_agree(const bdist *p, const bdist *q)
{
    return p->n && q->n && same_bytes(&p->top[0], &q->top[0]);
}

/* Spearman over p's own top list against q's log-probabilities for the same tokens (a token q does not
 * list is below everything q lists: -inf ties them at q's bottom). */
static double rank_corr_one_way(const bdist *p, const bdist *q)
{
    double x[BEHAVIOUR_TOP_K], y[BEHAVIOUR_TOP_K];
    for (size_t i = 0; i < p->n; i++) {
        int j = find_entry(q, &p->top[i]);
        x[i] = p->top[i].logprob;
        y[i] = j >= 0 ? q->top[j].logprob : -INFINITY;
    }
    return stats_spearman(x, y, p->n);
}

double bdist_rank_corr(const bdist *p, const bdist *q)
{
    double a = rank_corr_one_way(p, q), b = rank_corr_one_way(q, p);
    if (isnan(a)) return b;
    if (isnan(b)) return a;
    return 0.5 * (a + b);
}

size_t bootstrap_mean_ci(const double *v, size_t n, unsigned resamples, uint64_t seed, double *mean, double *lo,
                         double *hi)
{
    *mean = *lo = *hi = NAN;
    double *f = malloc((n ? n : 1) * sizeof *f);
    double *means = malloc((resamples ? resamples : 1) * sizeof *means);
    size_t k = 0;
    if (f && means) {
        for (size_t i = 0; i < n; i++)
            if (isfinite(v[i])) f[k++] = v[i];
    }
    if (k) {
        double s = 0;
        for (size_t i = 0; i < k; i++) s += f[i];
        *mean = s / (double)k;
        uint64_t st = seed;
        for (unsigned b = 0; b < resamples; b++) {
            double t = 0;
            for (size_t i = 0; i < k; i++) t += f[stats_next(&st) % k];
            means[b] = t / (double)k;
        }
        if (resamples) {
            qsort(means, resamples, sizeof *means, stats_cmp_double);
            size_t il = (size_t)floor(0.025 * resamples), ih = (size_t)ceil(0.975 * resamples);
            if (ih >= 1) ih--;
            if (ih >= resamples) ih = resamples - 1;
            *lo = means[il];
            *hi = means[ih];
        }
    }
    free(f);
    free(means);
    return k;
}


double wilcoxon_greater(const double *d, size_t n, double *w_plus)
{
    *w_plus = 0;
    double *a = malloc((n ? n : 1) * 2 * sizeof *a);
    if (!a) return NAN;
    double *r = a + n;
    size_t m = 0;
    int *pos = malloc((n ? n : 1) * sizeof *pos);
    if (!pos) { free(a); return NAN; }
    for (size_t i = 0; i < n; i++)
        if (isfinite(d[i]) && d[i] != 0) {
            pos[m] = d[i] > 0;
            a[m++] = fabs(d[i]);
        }
    if (m == 0) { free(a); free(pos); return 1.0; }
    stats_average_ranks(a, m, r);
    double w = 0;
    for (size_t i = 0; i < m; i++) if (pos[i]) w += r[i];
    *w_plus = w;
    double p;
    if (m <= 50) {
        /* exact: every sign pattern equally likely under H0; doubled average ranks are integers */
        size_t maxsum = m * (m + 1);
        double *cnt = calloc(maxsum + 1, sizeof *cnt);
        if (!cnt) { free(a); free(pos); return NAN; }
        cnt[0] = 1;
        size_t reach = 0;
        for (size_t i = 0; i < m; i++) {
            size_t r2 = (size_t)llround(2 * r[i]);
            for (size_t s = reach + 1; s-- > 0;)
                if (cnt[s] != 0) cnt[s + r2] += cnt[s];
            reach += r2;
        }
        size_t w2 = (size_t)llround(2 * w);
        double tail = 0, total = 0;
        for (size_t s = 0; s <= reach; s++) {
            total += cnt[s];
            if (s >= w2) tail += cnt[s];
        }
        p = tail / total;
        free(cnt);
    } else {
        double md = (double)m;
        double mean = md * (md + 1) / 4, var = md * (md + 1) * (2 * md + 1) / 24;
        /* ties: subtract sum(t^3 - t)/48 over groups of equal |d| */
        double *s = malloc(m * sizeof *s);
        if (s) {
            memcpy(s, a, m * sizeof *s);
            qsort(s, m, sizeof *s, stats_cmp_double);
            for (size_t i = 0; i < m;) {
                size_t j = i;
                while (j < m && s[j] == s[i]) j++;
                double t = (double)(j - i);
                var -= (t * t * t - t) / 48;
                i = j;
            }
            free(s);
        }
        p = var > 0 ? stats_normal_sf((w - mean - 0.5) / sqrt(var)) : 1.0;
    }
    free(a);
    free(pos);
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

void holm_adjust(const double *p, double *adjusted, size_t m)
{
    size_t *order = malloc((m ? m : 1) * sizeof *order);
    if (!order) {
        for (size_t i = 0; i < m; i++) adjusted[i] = fmin(1.0, p[i] * (double)m);   /* Bonferroni: never smaller */
        return;
    }
    for (size_t i = 0; i < m; i++) order[i] = i;
    for (size_t i = 1; i < m; i++)   /* insertion sort: panels are small */
        for (size_t j = i; j > 0 && p[order[j]] < p[order[j - 1]]; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    double run = 0;
    for (size_t k = 0; k < m; k++) {
        double v = fmin(1.0, (double)(m - k) * p[order[k]]);
        if (v < run) v = run;
        run = v;
        adjusted[order[k]] = v;
    }
    free(order);
}
