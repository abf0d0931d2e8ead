#include "analysis/kernels.h"

#include <math.h>
#include <string.h>

void pair_moments_init(pair_moments *m) { memset(m, 0, sizeof *m); }

void pair_moments_merge(pair_moments *d, const pair_moments *s)
{
    d->n += s->n;
    d->sum_a += s->sum_a;
    d->sum_b += s->sum_b;
    d->sum_aa += s->sum_aa;
    d->sum_bb += s->sum_bb;
    d->sum_ab += s->sum_ab;
    d->sum_dd += s->sum_dd;
    if (s->max_abs_diff > d->max_abs_diff) d->max_abs_diff = s->max_abs_diff;
    d->n_equal += s->n_equal;
}

void pair_moments_f32_scalar(const float *a, const float *b, size_t n, pair_moments *acc)
{
    pair_moments m;
    pair_moments_init(&m);
    m.n = n;
    for (size_t i = 0; i < n; i++) {
        double x = a[i], y = b[i], d = x - y;
        m.sum_a += x;
        m.sum_b += y;
        m.sum_aa += x * x;
        m.sum_bb += y * y;
        m.sum_ab += x * y;
        m.sum_dd += d * d;
        if (fabs(d) > m.max_abs_diff) m.max_abs_diff = fabs(d);
        m.n_equal += a[i] == b[i];
    }
    pair_moments_merge(acc, &m);
}

void pair_moments_f32(const float *a, const float *b, size_t n, pair_moments *acc)
{
    pair_moments_f32_scalar(a, b, n, acc);
}

double moments_cosine(const pair_moments *m)
{
    double d = sqrt(m->sum_aa) * sqrt(m->sum_bb);
    return d > 0 ? m->sum_ab / d : 0.0;
}

double moments_pearson(const pair_moments *m)
{
    if (m->n < 2) return 0.0;
    double n = (double)m->n;
    double cov = m->sum_ab - m->sum_a * m->sum_b / n;
    double va = m->sum_aa - m->sum_a * m->sum_a / n, vb = m->sum_bb - m->sum_b * m->sum_b / n;
    if (va <= 0 || vb <= 0) return 0.0;
    double r = cov / sqrt(va * vb);
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

double moments_rel_l2(const pair_moments *m)
{
    return m->sum_aa > 0 ? sqrt(m->sum_dd / m->sum_aa) : (m->sum_dd > 0 ? INFINITY : 0.0);
}

void dot_matrix_f32_scalar(const float *A, size_t na, const float *B, size_t nb, size_t dim, float *out)
{
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            double s = 0;
            for (size_t k = 0; k < dim; k++) s += (double)A[i * dim + k] * B[j * dim + k];
            out[i * nb + j] = (float)s;
        }
}

void dot_matrix_f32(const float *A, size_t na, const float *B, size_t nb, size_t dim, float *out)
{
    dot_matrix_f32_scalar(A, na, B, nb, dim, out);
}

const char *kernels_isa(void) { return "scalar"; }
