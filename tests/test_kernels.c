/* Every dispatched kernel against the scalar double reference, on every ISA this CPU has. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels/kernels.h"
#include "check.h"
#include "support/fixture.h"
#include "format/dtype.h"

/* the library's fixture generator: one random source for the whole project */
static fixture_rng test_rng;
static int test_rng_ready;
static fixture_rng *rng_src(void)
{
    if (!test_rng_ready) { fixture_rng_seed(&test_rng, 0x9E3779B97F4A7C15ull); test_rng_ready = 1; }
    return &test_rng;
}
static double uniform(void) { return fixture_rng_uniform(rng_src()); }
static double gauss(void) { return fixture_rng_gauss(rng_src()); }

/* a ~ N(mean, sd); b = a + small noise, with a fraction of exactly equal pairs */
static void fill_pair(float *a, float *b, size_t n, double mean, double sd)
{
    for (size_t i = 0; i < n; i++) {
        a[i] = (float)(mean + sd * gauss());
        b[i] = uniform() < 0.3 ? a[i] : (float)(a[i] + 0.05 * sd * gauss());
    }
}

static double worst;   /* largest error seen, in units of the tolerance's scale */

static int close_to(double got, double want, double scale)
{
    if (isnan(want)) return isnan(got);
    if (isinf(want)) return got == want;
    double e = fabs(got - want) / (scale > 0 ? scale : 1e-300);
    if (scale > 0 && e > worst) worst = e;
    if (getenv("KDEBUG") && e > 3e-7) printf("# err %g got %.17g want %.17g\n", e, got, want);
    return fabs(got - want) <= 1e-6 * scale + 1e-300;
}

/* scale of each sum: the sum of magnitudes of its terms, from the reference's own inputs */
static int moments_match(const pair_moments *got, const pair_moments *ref, const float *a, const float *b, size_t n)
{
    double sa = 0, sb = 0, sab = 0;
    for (size_t i = 0; i < n; i++) {
        sa += fabs(a[i]);
        sb += fabs(b[i]);
        sab += fabs((double)a[i] * b[i]);
    }
    return got->n == ref->n && got->n_equal == ref->n_equal && close_to(got->sum_a, ref->sum_a, sa) &&
           close_to(got->sum_b, ref->sum_b, sb) && close_to(got->sum_aa, ref->sum_aa, ref->sum_aa) &&
           close_to(got->sum_bb, ref->sum_bb, ref->sum_bb) && close_to(got->sum_ab, ref->sum_ab, sab) &&
           close_to(got->sum_dd, ref->sum_dd, ref->sum_dd) &&
           close_to(got->max_abs_diff, ref->max_abs_diff, ref->max_abs_diff);
}

static const size_t sizes[] = {0, 1, 7, 15, 16, 17, 31, 33, 64, 1023, 1024, 1025, 4097, 100003};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void check_moments(const char *isa, double mean, double sd)
{
    size_t cap = 100003 + 2;
    float *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
    float *ca = malloc(cap * sizeof *ca), *cb = malloc(cap * sizeof *cb);
    uint16_t *ha = malloc(cap * 2), *hb = malloc(cap * 2);
    int ok32 = 1, okbf = 1, okf16 = 1, okstats = 1;
    for (size_t s = 0; s < NSIZES; s++)
        for (size_t off = 0; off < 2; off++) {   /* off 1: pointers not 8-byte aligned */
            size_t n = sizes[s];
            fill_pair(a + off, b + off, n, mean, sd);
            pair_moments ref, got;
            pair_moments_init(&ref);
            pair_moments_init(&got);
            pair_moments_f32_scalar(a + off, b + off, n, &ref);
            pair_moments_f32(a + off, b + off, n, &got);
            ok32 &= moments_match(&got, &ref, a + off, b + off, n);
            okstats &= close_to(moments_cosine(&got), moments_cosine(&ref), 1) &&
                       close_to(moments_rel_l2(&got), moments_rel_l2(&ref), moments_rel_l2(&ref)) &&
                       close_to(moments_pearson(&got), moments_pearson(&ref), 1);
            /* bf16 direct vs converting to f32 first and running the reference */
            for (size_t i = 0; i < n; i++) {
                ha[off + i] = f32_to_bf16(a[off + i]);
                hb[off + i] = f32_to_bf16(b[off + i]);
                ca[i] = bf16_to_f32(ha[off + i]);
                cb[i] = bf16_to_f32(hb[off + i]);
            }
            pair_moments_init(&ref);
            pair_moments_init(&got);
            pair_moments_f32_scalar(ca, cb, n, &ref);
            pair_moments_bf16(ha + off, hb + off, n, &got);
            okbf &= moments_match(&got, &ref, ca, cb, n);
            for (size_t i = 0; i < n; i++) {
                ha[off + i] = f32_to_f16(a[off + i]);
                hb[off + i] = f32_to_f16(b[off + i]);
                ca[i] = f16_to_f32(ha[off + i]);
                cb[i] = f16_to_f32(hb[off + i]);
            }
            pair_moments_init(&ref);
            pair_moments_init(&got);
            pair_moments_f32_scalar(ca, cb, n, &ref);
            pair_moments_f16(ha + off, hb + off, n, &got);
            okf16 &= moments_match(&got, &ref, ca, cb, n);
        }
    CHECK(ok32, "%s: f32 pair moments match the double reference at 1e-6 (mean %g, sizes 0..100003, unaligned)", isa, mean);
    CHECK(okbf, "%s: bf16 direct pair moments match conversion + reference (mean %g)", isa, mean);
    CHECK(okf16, "%s: f16 direct pair moments match conversion + reference (mean %g)", isa, mean);
    CHECK(okstats, "%s: cosine, pearson, rel_l2 match the reference (mean %g)", isa, mean);
    free(a); free(b); free(ca); free(cb); free(ha); free(hb);
}

/* NaN poisons the sums, is never equal and is skipped by the max; inf follows IEEE. */
static void check_special(const char *isa)
{
    enum { N = 40 };
    float a[N], b[N];
    fill_pair(a, b, N, 0, 1);
    a[3] = NAN;
    b[3] = 1;
    a[20] = b[20] = NAN;
    a[35] = INFINITY;
    b[35] = INFINITY;
    pair_moments ref, got;
    pair_moments_init(&ref);
    pair_moments_init(&got);
    pair_moments_f32_scalar(a, b, N, &ref);
    pair_moments_f32(a, b, N, &got);
    double mx = 0;
    uint64_t eq = 0;
    for (int i = 0; i < N; i++) {
        if (i != 3 && i != 20 && i != 35 && fabs((double)a[i] - b[i]) > mx) mx = fabs((double)a[i] - b[i]);
        eq += a[i] == b[i];
    }
    CHECK(isnan(got.sum_a) && isnan(got.sum_ab) && isnan(got.sum_dd) && isnan(ref.sum_a),
          "%s: a NaN element makes the sums NaN", isa);
    CHECK(got.n_equal == eq && ref.n_equal == eq && eq >= 1, "%s: NaN never counts as equal, inf == inf does (%llu)", isa,
          (unsigned long long)got.n_equal);
    CHECK(close_to(got.max_abs_diff, mx, mx) && close_to(ref.max_abs_diff, mx, mx),
          "%s: max_abs_diff skips NaN and inf-inf differences (%g vs %g)", isa, got.max_abs_diff, mx);
    a[35] = INFINITY;
    b[35] = 2;
    a[3] = 1;
    a[20] = b[20] = 0;
    pair_moments_init(&got);
    pair_moments_f32(a, b, N, &got);
    CHECK(isinf(got.max_abs_diff) && isinf(got.sum_dd) && isinf(got.sum_aa), "%s: inf against a finite value gives inf", isa);
    float z0 = 0.0f, z1 = -0.0f;
    pair_moments_init(&got);
    pair_moments_f32(&z0, &z1, 1, &got);
    CHECK(got.n_equal == 1 && got.max_abs_diff == 0, "%s: +0 equals -0", isa);
    uint16_t hn[33], hm[33];
    for (int i = 0; i < 33; i++) hn[i] = hm[i] = f32_to_bf16((float)i);
    hn[32] = 0x7FC0;   /* NaN in the tail path */
    pair_moments_init(&got);
    pair_moments_bf16(hn, hm, 33, &got);
    CHECK(isnan(got.sum_a) && got.n_equal == 32 && got.max_abs_diff == 0, "%s: bf16 NaN in the tail handled like f32", isa);
}

static void check_dot(const char *isa)
{
    static const size_t rows[] = {0, 1, 3, 5, 17};
    static const size_t dims[] = {0, 1, 7, 16, 33, 1025, 3000};
    size_t cap = 17 * 3000 + 1;
    float *A = malloc(cap * sizeof *A), *B = malloc(cap * sizeof *B);
    float *out = malloc(17 * 17 * sizeof *out), *ref = malloc(17 * 17 * sizeof *ref);
    int ok = 1;
    for (size_t i = 0; i < cap; i++) {
        A[i] = (float)gauss();
        B[i] = (float)(0.1 + gauss());
    }
    for (size_t x = 0; x < 5; x++)
        for (size_t y = 0; y < 5; y++)
            for (size_t d = 0; d < 7; d++) {
                size_t na = rows[x], nb = rows[y], dim = dims[d];
                const float *pa = A + (d & 1), *pb = B + 1;   /* unaligned rows */
                dot_matrix_f32_scalar(pa, na, pb, nb, dim, ref);
                for (size_t i = 0; i < na * nb; i++) out[i] = NAN;
                dot_matrix_f32(pa, na, pb, nb, dim, out);
                for (size_t i = 0; i < na; i++)
                    for (size_t j = 0; j < nb; j++) {
                        double mag = 0;
                        for (size_t k = 0; k < dim; k++) mag += fabs((double)pa[i * dim + k] * pb[j * dim + k]);
                        ok &= close_to(out[i * nb + j], ref[i * nb + j], mag + fabs(ref[i * nb + j]));
                    }
            }
    CHECK(ok, "%s: dot_matrix_f32 matches the double reference at 1e-6 (rows 0..17, dim 0..3000, unaligned)", isa);
    /* a matrix larger than one B panel */
    size_t na = 37, nb = 300, dim = 700;
    float *A2 = malloc(na * dim * sizeof *A2), *B2 = malloc(nb * dim * sizeof *B2);
    float *o2 = malloc(na * nb * sizeof *o2), *r2 = malloc(na * nb * sizeof *r2);
    for (size_t i = 0; i < na * dim; i++) A2[i] = (float)gauss();
    for (size_t i = 0; i < nb * dim; i++) B2[i] = (float)gauss();
    dot_matrix_f32_scalar(A2, na, B2, nb, dim, r2);
    dot_matrix_f32(A2, na, B2, nb, dim, o2);
    ok = 1;
    for (size_t i = 0; i < na * nb; i++) ok &= close_to(o2[i], r2[i], sqrt((double)dim) * 3);
    CHECK(ok, "%s: dot_matrix_f32 37x300 over dim 700 (several B panels) matches", isa);
    free(A2); free(B2); free(o2); free(r2);
    free(A); free(B); free(out); free(ref);
}

/* standardize_f32: the scalar loop's bits exactly, every length (vector body and tail), odd means */
static void check_standardize(const char *isa)
{
    const size_t n = 1037;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) x[i] = (float)(uniform() * 3.7 - 1.1);
    int same = 1;
    for (size_t len = 0; len <= 40; len++) {
        memcpy(y, x, n * sizeof *x);
        standardize_f32(y, len, 0.123456789, 7.654321);
        for (size_t i = 0; i < len; i++) same &= y[i] == (float)((x[i] - 0.123456789) * 7.654321);
        same &= len == n || y[len] == x[len];
    }
    memcpy(y, x, n * sizeof *x);
    standardize_f32(y, n, -1e-3, 1e5);
    for (size_t i = 0; i < n; i++) same &= y[i] == (float)((x[i] + 1e-3) * 1e5);
    CHECK(same, "%s: standardize_f32 gives the scalar double-step result bit for bit (lengths 0..40 and 1037)", isa);
    free(x);
    free(y);
}

int main(void)
{
    const char *chosen = kernels_isa();
    CHECK(chosen && kernels_isa_supported(chosen), "dispatcher chose a supported ISA (%s)", chosen);
    const char *want = getenv("LINEAGE_ISA");
    if (want && kernels_isa_supported(want))
        CHECK(!strcmp(chosen, want), "LINEAGE_ISA=%s is honoured (%s)", want, chosen);
    CHECK(!kernels_select("no-such-isa") && !strcmp(kernels_isa(), chosen), "an unknown ISA name changes nothing");
    static const char *isas[] = {"scalar", "avx2", "avx512"};
    for (size_t k = 0; k < 3; k++) {
        if (!kernels_select(isas[k])) {
            CHECK(1, "%s: skipped, this CPU lacks it", isas[k]);
            continue;
        }
        CHECK(!strcmp(kernels_isa(), isas[k]), "kernels_select(%s) switches the table", isas[k]);
        worst = 0;
        check_moments(isas[k], 0.0, 0.02);
        check_moments(isas[k], 3.0, 0.5);    /* a large mean stresses the f32 lane sums */
        check_moments(isas[k], 1.0, 0.02);   /* a norm weight: pearson is 2500x ill-conditioned */
        check_special(isas[k]);
        check_dot(isas[k]);
        check_standardize(isas[k]);
        printf("# %s: largest error %.3g of the scale (tolerance 1e-6)\n", isas[k], worst);
    }
    CHECK_EXIT();
}
