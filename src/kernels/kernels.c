#include "kernels/kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels_impl.h"
#include "format/dtype.h"

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

static inline void moments_add(pair_moments *m, float fa, float fb)
{
    double x = fa, y = fb, d = x - y;
    m->sum_a += x;
    m->sum_b += y;
    m->sum_aa += x * x;
    m->sum_bb += y * y;
    m->sum_ab += x * y;
    m->sum_dd += d * d;
    if (fabs(d) > m->max_abs_diff) m->max_abs_diff = fabs(d);
    m->n_equal += fa == fb;
}

void pair_moments_f32_scalar(const float *a, const float *b, size_t n, pair_moments *acc)
{
    pair_moments m;
    pair_moments_init(&m);
    m.n = n;
    for (size_t i = 0; i < n; i++) moments_add(&m, a[i], b[i]);
    pair_moments_merge(acc, &m);
}

/* memcpy loads: callers may pass 2-byte data at any address */
static inline uint16_t load_u16(const uint16_t *p, size_t i)
{
    uint16_t v;
    memcpy(&v, (const unsigned char *)p + 2 * i, 2);
    return v;
}

void pair_moments_bf16_scalar(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc)
{
    pair_moments m;
    pair_moments_init(&m);
    m.n = n;
    for (size_t i = 0; i < n; i++) moments_add(&m, bf16_to_f32(load_u16(a, i)), bf16_to_f32(load_u16(b, i)));
    pair_moments_merge(acc, &m);
}

void pair_moments_f16_scalar(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc)
{
    pair_moments m;
    pair_moments_init(&m);
    m.n = n;
    for (size_t i = 0; i < n; i++) moments_add(&m, f16_to_f32(load_u16(a, i)), f16_to_f32(load_u16(b, i)));
    pair_moments_merge(acc, &m);
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

void standardize_f32_scalar(float *x, size_t n, double mean, double inv)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)((x[i] - mean) * inv);
}

typedef struct kernel_table {
    const char *name;
    void (*moments_f32)(const float *, const float *, size_t, pair_moments *);
    void (*moments_bf16)(const uint16_t *, const uint16_t *, size_t, pair_moments *);
    void (*moments_f16)(const uint16_t *, const uint16_t *, size_t, pair_moments *);
    void (*dot_matrix)(const float *, size_t, const float *, size_t, size_t, float *);
    void (*standardize)(float *, size_t, double, double);
} kernel_table;

static const kernel_table kernel_tables[] = {
    {"avx512", pair_moments_f32_avx512, pair_moments_bf16_avx512, pair_moments_f16_avx512, dot_matrix_f32_avx512, standardize_f32_avx512},
    {"avx2", pair_moments_f32_avx2, pair_moments_bf16_avx2, pair_moments_f16_avx2, dot_matrix_f32_avx2, standardize_f32_avx2},
    {"scalar", pair_moments_f32_scalar, pair_moments_bf16_scalar, pair_moments_f16_scalar, dot_matrix_f32_scalar, standardize_f32_scalar},
};
#define NTABLES (sizeof kernel_tables / sizeof kernel_tables[0])

static const kernel_table *active_table;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
/* Features from CPUID and XCR0 directly: clang 14's __builtin_cpu_supports lacks "f16c", and a
 * feature the OS does not save on context switch (XCR0) is as good as absent. */
typedef struct cpu_features { int avx2, fma, f16c, avx512; } cpu_features;

static cpu_features cpu_detect(void)
{
    cpu_features f = {0, 0, 0, 0};
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    f.fma = (c >> 12) & 1;
    f.f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return (cpu_features){0, 0, 0, 0};
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    (void)xhi;
    int ymm_saved = (xlo & 0x6) == 0x6, zmm_saved = (xlo & 0xe6) == 0xe6;
    if (!ymm_saved) return (cpu_features){0, 0, 0, 0};
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        f.avx2 = (b >> 5) & 1;
        /* avx512 f, dq, bw, vl */
        f.avx512 = zmm_saved && ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1);
    }
    return f;
}
#endif

static int table_supported(const kernel_table *t)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    cpu_features f = cpu_detect();
    if (!strcmp(t->name, "avx512")) return f.avx512 && f.fma && f.f16c;
    if (!strcmp(t->name, "avx2")) return f.avx2 && f.fma && f.f16c;
#endif
    return !strcmp(t->name, "scalar");
}

static const kernel_table *table_named(const char *isa)
{
    for (size_t i = 0; i < NTABLES; i++)
        if (isa && !strcmp(kernel_tables[i].name, isa) && table_supported(&kernel_tables[i]))
            return &kernel_tables[i];
    return NULL;
}

static const kernel_table *table(void)
{
    const kernel_table *t = __atomic_load_n(&active_table, __ATOMIC_ACQUIRE);
    if (t) return t;
    t = table_named(getenv("LINEAGE_ISA"));
    for (size_t i = 0; !t && i < NTABLES; i++)
        if (table_supported(&kernel_tables[i])) t = &kernel_tables[i];
    __atomic_store_n(&active_table, t, __ATOMIC_RELEASE);
    return t;
}

int kernels_isa_supported(const char *isa) { return table_named(isa) != NULL; }

int kernels_select(const char *isa)
{
    const kernel_table *t = table_named(isa);
    if (t) __atomic_store_n(&active_table, t, __ATOMIC_RELEASE);
    return t != NULL;
}

const char *kernels_isa(void) { return table()->name; }

void pair_moments_f32(const float *a, const float *b, size_t n, pair_moments *acc)
{
    table()->moments_f32(a, b, n, acc);
}

void pair_moments_bf16(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc)
{
    table()->moments_bf16(a, b, n, acc);
}

void pair_moments_f16(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc)
{
    table()->moments_f16(a, b, n, acc);
}

void dot_matrix_f32(const float *A, size_t na, const float *B, size_t nb, size_t dim, float *out)
{
    table()->dot_matrix(A, na, B, nb, dim, out);
}

void standardize_f32(float *x, size_t n, double mean, double inv)
{
    table()->standardize(x, n, mean, inv);
}
