/* Units of the weights comparison: assignment against brute force, the layer-map DP, rank and
 * p-value helpers, the jackknife CI, and value identity across dtypes with the raw-cosine trap. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/analysis.h"
#include "analysis/weights.h"
#include "check.h"
#include "format/safetensors.h"
#include "support/safetensors_write.h"

static uint64_t st_rng = 12345;
static double urand(void) { st_rng = stats_mix64(st_rng); return (double)(st_rng >> 11) / 9007199254740992.0; }
static double grand(void) { return sqrt(-2 * log(urand() + 1e-300)) * cos(6.283185307179586 * urand()); }

/* best assignment of n rows into m columns by enumeration (n <= m <= 6) */
static double brute(const double *S, size_t n, size_t m, size_t row, unsigned used)
{
    if (row == n) return 0;
    double best = -INFINITY;
    for (size_t j = 0; j < m; j++)
        if (!(used & (1u << j))) {
            double v = S[row * m + j] + brute(S, n, m, row + 1, used | (1u << j));
            if (v > best) best = v;
        }
    return best;
}

static void test_lap(void)
{
    int agree = 0, trials = 200;
    for (int t = 0; t < trials; t++) {
        size_t n = 1 + (size_t)(urand() * 5), m = n + (size_t)(urand() * (7 - n));
        double S[36];
        size_t as[6];
        for (size_t i = 0; i < n * m; i++) S[i] = grand();
        if (!wt_lap_max(S, n, m, as)) continue;
        double v = 0;
        unsigned seen = 0;
        int injective = 1;
        for (size_t i = 0; i < n; i++) {
            v += S[i * m + as[i]];
            if (seen & (1u << as[i])) injective = 0;
            seen |= 1u << as[i];
        }
        agree += injective && fabs(v - brute(S, n, m, 0, 0)) < 1e-9;
    }
    CHECK(agree == trials, "LAP finds the optimal injective assignment (%d/%d random cases)", agree, trials);

    /* a hidden permutation of noisy rows is recovered by wt_match, also when A has more rows */
    enum { N = 60, DIM = 32 };
    float *A = malloc(N * DIM * sizeof *A), *B = malloc(N * DIM * sizeof *B);
    size_t perm[N], got[N];
    for (size_t i = 0; i < N; i++) perm[i] = i;
    stats_shuffle(perm, N, 99);
    for (size_t i = 0; i < N * DIM; i++) A[i] = (float)grand();
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < DIM; k++) B[perm[i] * DIM + k] = A[i * DIM + k] + 0.3f * (float)grand();
    double *S = wt_row_similarity(A, N, B, N, DIM);
    int right = 0;
    if (S && wt_match(S, N, N, got)) for (size_t i = 0; i < N; i++) right += got[i] == perm[i];
    CHECK(right == N, "row permutation recovered from similarities (%d/%d)", right, N);
    free(S);
    /* B keeps 40 of A's 60 rows (pruning): rectangular matching finds the kept rows */
    S = wt_row_similarity(A, N, B, 40, DIM);
    size_t kept_ok = 0, matched = 0;
    if (S && wt_match(S, N, 40, got))
        for (size_t i = 0; i < N; i++) {
            if (got[i] == SIZE_MAX) continue;
            matched++;
            kept_ok += perm[i] == got[i];
        }
    CHECK(matched == 40 && kept_ok == 40, "subset rows matched into the larger tensor (%zu of %zu)", kept_ok, matched);
    free(S);
    free(A);
    free(B);
}

static void test_layer_map(void)
{
    /* B has 6 layers from A's [0,1,2,1,2,3] plus one extra (MTP-like) layer at chance */
    enum { LA = 4, LB = 7 };
    static const int truth[LB] = {0, 1, 2, 1, 2, 3, -1};
    double z[LA * LB];
    for (int i = 0; i < LA; i++)
        for (int j = 0; j < LB; j++) z[i * LB + j] = truth[j] == i ? 40 + grand() : grand();
    wt_layer_map m;
    int ok = wt_layer_map_solve(z, LA, LB, wt_layer_map_threshold(LA, LB, 0.001), &m);
    int same = ok;
    for (int j = 0; ok && j < LB; j++) same &= m.map[j] == truth[j];
    CHECK(same, "layer map with repeats, a seam and an unmatched extra layer recovered");
    CHECK(ok && m.seams == 1 && m.matched == 6 && !m.identity, "map reports one seam and six matched layers");
    CHECK(ok && m.margin[3] > 30, "margin of a repeated layer is best minus second best");
    if (ok) wt_layer_map_free(&m);
    /* pure noise: nothing above the calibrated null max */
    for (int i = 0; i < LA * LB; i++) z[i] = grand();
    ok = wt_layer_map_solve(z, LA, LB, wt_layer_map_threshold(LA, LB, 0.001), &m);
    CHECK(ok && m.matched == 0, "no layer is mapped when every entry is at chance (%d mapped)", ok ? m.matched : -1);
    if (ok) wt_layer_map_free(&m);
    /* assignment permutation test: a strong diagonal gets the smallest attainable p */
    double r[16];
    int ident[4] = {0, 1, 2, 3}, exact = 0;
    for (int i = 0; i < 16; i++) r[i] = i % 5 == 0 ? 0.9 : 0.01 * grand();
    double p = wt_assignment_p(r, 4, 4, ident, &exact);
    CHECK(exact && fabs(p - 1.0 / 24) < 1e-12, "exact layer-assignment test gives p = 1/24 for a clear diagonal (%g)", p);
}

static void test_helpers(void)
{
    size_t id[100], rev[100];
    for (size_t i = 0; i < 100; i++) { id[i] = i; rev[i] = 99 - i; }
    CHECK(fabs(stats_spearman_identity(id, 100) - 1) < 1e-12 && fabs(stats_spearman_identity(rev, 100) + 1) < 1e-12,
          "Spearman of a matching against the identity is +1 / -1 for identity / reversal");
    double ps[3] = {0.5, 0.5, 0.5};
    double pf = stats_fisher_p(ps, 3);
    /* chi2(6) survival at -2*3*ln(0.5) = 4.1589: e^-t(1+t+t^2/2), t = 2.0794 */
    double t = 3 * log(2.0), want = exp(-t) * (1 + t + t * t / 2);
    CHECK(fabs(pf - want) < 1e-12, "Fisher's method matches the closed form (%g vs %g)", pf, want);
    CHECK(fabs(wt_agreement_p(1) - (1 - exp(-1.0))) < 1e-12 && wt_agreement_p(50) < 1e-60,
          "chance agreement of two matchings follows Poisson(1)");
    CHECK(fabs(stats_p_upper(stats_z_of_p(1e-7)) - 1e-7) < 1e-12, "z and one-sided p invert each other");

    /* jackknife CI over 16 sampled blocks (of a population too large to matter) covers the pooled
     * correlation of a known-rho sample */
    stream_block g[16];
    for (int k = 0; k < 16; k++) {
        pair_moments_init(&g[k].m);
        for (int i = 0; i < 500; i++) {
            float a = (float)grand(), b = (float)(0.6 * a + 0.8 * grand());
            pair_moments_f32(&a, &b, 1, &g[k].m);
        }
    }
    stream_ci ci = stream_jackknife_ci(g, 16, (uint64_t)1 << 40, moments_pearson);
    double lo = ci.lo, hi = ci.hi;
    CHECK(lo < 0.6 && 0.6 < hi && hi - lo < 0.1, "jackknife 95%% CI [%.3f, %.3f] covers rho = 0.6 and is narrow", lo, hi);
}

static uint16_t bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

/* One model folder with an attention matrix and a norm vector, in bf16 or in its exact f32 cast. */
static int write_model(const char *dir, int as_f32, uint64_t seed)
{
    mkdir(dir, 0755);
    enum { R = 64, C = 48 };
    static float w[R * C], n[C];
    static uint16_t wb[R * C], nb[C];
    st_rng = seed;
    for (int i = 0; i < R * C; i++) { wb[i] = bf16((float)(0.05 * grand())); uint32_t u = (uint32_t)wb[i] << 16; memcpy(&w[i], &u, 4); }
    for (int i = 0; i < C; i++) { nb[i] = bf16((float)(1 + 0.01 * grand())); uint32_t u = (uint32_t)nb[i] << 16; memcpy(&n[i], &u, 4); }
    st_tensor t[2] = {{"model.layers.0.self_attn.q_proj.weight", as_f32 ? LINEAGE_DTYPE_F32 : LINEAGE_DTYPE_BF16, 2, {R, C}, as_f32 ? (const void *)w : wb},
                      {"model.layers.0.input_layernorm.weight", as_f32 ? LINEAGE_DTYPE_F32 : LINEAGE_DTYPE_BF16, 1, {C}, as_f32 ? (const void *)n : nb}};
    char path[512];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    lineage_error err;
    if (safetensors_write(path, t, 2, NULL, &err)) return 0;
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    fputs("{\"model_type\":\"llama\",\"num_hidden_layers\":1,\"hidden_size\":48}", f);
    return fclose(f) == 0;
}

static const json_value *pair_for(const json_value *w, const char *role)
{
    const json_value *pairs = json_get(w, "pairs");
    for (size_t i = 0; i < json_count(pairs); i++)
        if (!strcmp(json_get_string(json_at(pairs, i), "role"), role)) return json_at(pairs, i);
    return NULL;
}

static void test_models(void)
{
    char tmpl[] = "/tmp/lineage-weights-XXXXXX", a[600], b[600], c[600];
    if (!mkdtemp(tmpl)) { CHECK(0, "temporary folder"); return; }
    snprintf(a, sizeof a, "%s/bf16", tmpl);
    snprintf(b, sizeof b, "%s/f32", tmpl);
    snprintf(c, sizeof c, "%s/other", tmpl);
    CHECK(write_model(a, 0, 5) && write_model(b, 1, 5) && write_model(c, 0, 6), "fixture models written");
    lineage_model *ma = NULL, *mb = NULL, *mc = NULL;
    lineage_error err;
    int opened = !lineage_model_open(a, &ma, &err) && !lineage_model_open(b, &mb, &err) && !lineage_model_open(c, &mc, &err);
    CHECK(opened, "fixture models open");
    if (opened) {
        lineage_compare_options opt = {.only = LINEAGE_ONLY_WEIGHTS, .sample = 1.0, .threads = 1};
        lineage_doc *d = NULL;
        if (!lineage_compare(ma, mb, &opt, &d, &err)) {
            const json_value *w = json_get(d->root, "weights"), *q = pair_for(w, "attn_q");
            int ident = 0, bytes = 1;
            CHECK(q && json_get_bool(q, "identical", &ident) && ident && json_get_bool(q, "bytes_identical", &bytes) && !bytes,
                  "a bf16 tensor and its exact f32 cast are value-identical, not byte-identical");
            const char *xa = q ? json_get_string(q, "xxh3_a") : NULL, *xb = q ? json_get_string(q, "xxh3_b") : NULL;
            CHECK(xa && xb && strlen(xa) == 32 && strcmp(xa, xb), "xxh3-128 digests of the raw bytes differ across dtypes");
            lineage_doc_free(d);
        } else CHECK(0, "compare bf16 vs f32: %s", err.message);
        if (!lineage_compare(ma, mc, &opt, &d, &err)) {
            const json_value *w = json_get(d->root, "weights"), *n = pair_for(w, "attn_norm");
            double cos = 0, cen = 1;
            int low = 0;
            int got = n && json_get_double(n, "cosine", &cos) && json_get_double(n, "centered", &cen) &&
                      json_get_bool(n, "low_information", &low);
            CHECK(got && cos > 0.99 && fabs(cen) < 0.5 && low,
                  "independent norm vectors: raw cosine ~1 (%.4f) but centered at chance (%.3f), flagged low-information", cos, cen);
            const json_value *s = json_get(w, "summary");
            int related = 1;
            CHECK(s && json_get_bool(s, "related", &related) && !related, "the raw-cosine trap does not make the pair related");
            lineage_doc_free(d);
        } else CHECK(0, "compare independent: %s", err.message);
    }
    lineage_model_close(ma);
    lineage_model_close(mb);
    lineage_model_close(mc);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    CHECK(system(cmd) == 0, "temporary folder removed");
}

/* Matchings too wide for a full similarity matrix: a sample of the smaller side's rows, each matched
 * into every row of the other by mutual best over panels (no na x nb matrix). */
static void test_wide_match(void)
{
    enum { NA = 3000, NB = 2100, DIM = 24 };
    CHECK((size_t)NA * NB > WT_MATCH_DENSE_MAX, "the case is wider than a dense matching may be");
    float *a = malloc((size_t)NA * DIM * sizeof *a), *b = malloc((size_t)NB * DIM * sizeof *b);
    size_t *perm = malloc(NA * sizeof *perm), *got = malloc(NA * sizeof *got);
    if (!a || !b || !perm || !got) { CHECK(0, "allocation"); free(a); free(b); free(perm); free(got); return; }
    for (size_t i = 0; i < NA; i++) perm[i] = i;
    stats_shuffle(perm, NA, 7);
    for (size_t i = 0; i < (size_t)NA * DIM; i++) a[i] = (float)grand();
    /* B keeps NB of A's rows, permuted, with noise: B row j is A row perm[j] */
    for (size_t j = 0; j < NB; j++)
        for (size_t k = 0; k < DIM; k++) b[j * DIM + k] = a[perm[j] * DIM + k] + 0.2f * (float)grand();
    wt_matrix A = {a, NA, DIM, NA}, B = {b, NB, DIM, NB};
    size_t matched = 0, right = 0;
    int ok = wt_match_rows(&A, &B, 1, 0, got);
    for (size_t i = 0; ok && i < NA; i++) {
        if (got[i] == SIZE_MAX) continue;
        matched++;
        right += perm[got[i]] == i;
    }
    CHECK(ok && matched <= WT_MATCH_MAX_ROWS && matched >= WT_MATCH_MAX_ROWS * 95 / 100 && right == matched,
          "a wide pruned permutation: %zu sampled rows of the smaller side matched, %zu correctly (at most %d)", matched,
          right, WT_MATCH_MAX_ROWS);
    /* the same wide case with all rows requested (hidden-channel alignment) */
    size_t *inv = malloc(NB * sizeof *inv);
    ok = inv && wt_match_rows(&B, &A, 1, 1, inv);
    matched = right = 0;
    for (size_t j = 0; ok && j < NB; j++) {
        if (inv[j] == SIZE_MAX) continue;
        matched++;
        right += inv[j] == perm[j];
    }
    CHECK(ok && matched == NB && right == NB, "all rows of the smaller side matched when asked (%zu/%zu right)", right,
          matched);
    free(inv);
    free(a);
    free(b);
    free(perm);
    free(got);
}

int main(void)
{
    test_lap();
    test_wide_match();
    test_layer_map();
    test_helpers();
    test_models();
    CHECK_EXIT();
}
