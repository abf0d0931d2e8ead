/* Statistics of the activation comparison on synthetic activations: linear CKA against a double
 * reference and its invariances, Zhu et al.'s gate/up matching test (derived pairs far below 1e-6,
 * independent pairs spread over (0, 1)), Fisher's combination, Spearman and the PCA view. */
#include <math.h>

#include "analysis/activations.h"
#include "analysis/weights.h"
#include "check.h"
#include "report/charts.h"
#include "report/report.h"

static uint64_t rng_state;
static double uniform(void)
{
    rng_state = stats_mix64(rng_state);
    return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void) { return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform()); }
static void fill_gauss(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)gauss();
}

/* Y = X Q for a random orthogonal Q (Gram-Schmidt), times scale. */
static void rotate(const float *X, size_t n, size_t d, double scale, float *Y)
{
    double *Q = malloc(d * d * sizeof *Q);
    for (size_t i = 0; i < d * d; i++) Q[i] = gauss();
    for (size_t c = 0; c < d; c++) {
        for (size_t p = 0; p < c; p++) {
            double dot = 0;
            for (size_t r = 0; r < d; r++) dot += Q[r * d + c] * Q[r * d + p];
            for (size_t r = 0; r < d; r++) Q[r * d + c] -= dot * Q[r * d + p];
        }
        double nn = 0;
        for (size_t r = 0; r < d; r++) nn += Q[r * d + c] * Q[r * d + c];
        for (size_t r = 0; r < d; r++) Q[r * d + c] /= sqrt(nn);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < d; c++) {
            double s = 0;
            for (size_t k = 0; k < d; k++) s += X[i * d + k] * Q[k * d + c];
            Y[i * d + c] = (float)(scale * s);
        }
    free(Q);
}

static double cka_fast(const float *X, size_t dx, const float *Y, size_t dy, size_t n)
{
    double nk, nl;
    float *K = act_centred_gram(X, n, dx, &nk), *L = act_centred_gram(Y, n, dy, &nl);
    double r = act_cka_gram(K, nk, L, nl, n);
    free(K);
    free(L);
    return r;
}

static void test_cka(void)
{
    size_t n = 80, d = 12, d2 = 7;
    float *X = malloc(n * d * sizeof *X), *Y = malloc(n * d * sizeof *Y), *Z = malloc(n * d2 * sizeof *Z);
    rng_state = 11;
    fill_gauss(X, n * d);
    fill_gauss(Z, n * d2);
    /* Z partly shares X's first columns, so its CKA with X is between 0 and 1 */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < 3; k++) Z[i * d2 + k] += 2 * X[i * d + k];
    double ref = act_cka_features_ref(X, d, Z, d2, n), fast = cka_fast(X, d, Z, d2, n);
    CHECK(fabs(ref - fast) < 1e-5, "Gram-matrix CKA equals the double feature-space reference (%.7f vs %.7f)", fast, ref);
    CHECK(ref > 0.2 && ref < 0.9, "partly shared features give an intermediate CKA (%.3f)", ref);
    CHECK(fabs(cka_fast(X, d, X, d, n) - 1) < 1e-6, "CKA(X, X) = 1");
    rotate(X, n, d, 3.7, Y);
    CHECK(fabs(cka_fast(X, d, Y, d, n) - 1) < 1e-5, "CKA is invariant to an orthogonal rotation and isotropic scale (%.7f)",
          cka_fast(X, d, Y, d, n));
    CHECK(fabs(act_cka_features_ref(X, d, Y, d, n) - 1) < 1e-9, "the reference is invariant too");
    /* shifting every column leaves the centred statistic unchanged */
    for (size_t i = 0; i < n * d; i++) Y[i] = X[i] + 5.0f;
    CHECK(fabs(cka_fast(X, d, Y, d, n) - 1) < 1e-5, "CKA ignores a constant offset of the features");
    /* identity permutation of the null equals the statistic; a real shuffle of independent data is small */
    double nk, nl;
    float *K = act_centred_gram(X, n, d, &nk), *L = act_centred_gram(Z, n, d2, &nl);
    size_t *perm = malloc(n * sizeof *perm);
    for (size_t i = 0; i < n; i++) perm[i] = i;
    CHECK(fabs(act_cka_gram_perm(K, nk, L, nl, perm, n) - act_cka_gram(K, nk, L, nl, n)) < 1e-12,
          "the shuffled-token CKA with the identity permutation is the CKA");
    stats_shuffle(perm, n, 3);
    double sh = act_cka_gram_perm(K, nk, L, nl, perm, n);
    CHECK(sh < ref / 2, "shuffling B's tokens destroys the shared structure (%.3f vs %.3f)", sh, ref);
    free(perm); free(K); free(L); free(X); free(Y); free(Z);
}

/* A model's MLP activations: neuron-major gate and up rows, each neuron a random projection of the
 * shared input tokens (gate and up of one neuron independent, as in trained SwiGLU layers). */
typedef struct synth {
    float *gate, *up;
    size_t neurons;
} synth;

static synth synth_model(const float *inputs, size_t ntok, size_t dim, size_t neurons, uint64_t seed)
{
    synth m = {malloc(neurons * ntok * sizeof(float)), malloc(neurons * ntok * sizeof(float)), neurons};
    float *w = malloc(dim * sizeof *w);
    rng_state = seed;
    for (int proj = 0; proj < 2; proj++)
        for (size_t n = 0; n < neurons; n++) {
            fill_gauss(w, dim);
            float *row = (proj ? m.up : m.gate) + n * ntok;
            for (size_t t = 0; t < ntok; t++) {
                double s = 0;
                for (size_t k = 0; k < dim; k++) s += inputs[t * dim + k] * w[k];
                row[t] = (float)s;
            }
        }
    free(w);
    return m;
}

/* B's neurons are A's (a subset of keep, permuted) plus Gaussian noise of relative size noise. */
static synth derived_model(const synth *a, size_t ntok, size_t keep, double noise, uint64_t seed)
{
    synth b = {malloc(keep * ntok * sizeof(float)), malloc(keep * ntok * sizeof(float)), keep};
    size_t *perm = malloc(a->neurons * sizeof *perm);
    for (size_t i = 0; i < a->neurons; i++) perm[i] = i;
    stats_shuffle(perm, a->neurons, seed);
    rng_state = seed * 7 + 1;
    for (size_t n = 0; n < keep; n++)
        for (size_t t = 0; t < ntok; t++) {
            b.gate[n * ntok + t] = a->gate[perm[n] * ntok + t] * 1.5f + (float)(noise * gauss());
            b.up[n * ntok + t] = a->up[perm[n] * ntok + t] * 0.7f + (float)(noise * gauss());
        }
    free(perm);
    return b;
}

static void synth_free(synth *m) { free(m->gate); free(m->up); }

static void test_zhu(void)
{
    size_t ntok = 256, dim = 48, neurons = 96;
    float *inputs = malloc(ntok * dim * sizeof *inputs);
    rng_state = 5;
    fill_gauss(inputs, ntok * dim);
    synth a = synth_model(inputs, ntok, dim, neurons, 100);
    act_match m;
    synth b = derived_model(&a, ntok, neurons, 3.0, 9);   /* noise SD 3 against activation SD ~7 */
    int ok = act_zhu_match(a.gate, a.up, neurons, b.gate, b.up, neurons, ntok, &m);
    CHECK(ok && m.p < 1e-6 && m.spearman > 0.9,
          "B = permuted, rescaled A + noise: p < 1e-6 (rho %.3f, p %.3g)", m.spearman, m.p);
    synth_free(&b);
    b = derived_model(&a, ntok, 72, 3.0, 10);
    ok = act_zhu_match(a.gate, a.up, neurons, b.gate, b.up, 72, ntok, &m);
    CHECK(ok && m.p < 1e-6 && m.n == 72,
          "B = 72 of A's 96 neurons (pruned): matched into the larger side, p < 1e-6 (p %.3g, n %zu)", m.p, m.n);
    ok = act_zhu_match(b.gate, b.up, 72, a.gate, a.up, neurons, ntok, &m);
    CHECK(ok && m.p < 1e-6 && m.n == 72,
          "and with the larger side second (p %.3g)", m.p);
    synth_free(&b);
    /* independent models on the same inputs: p spread over (0, 1) */
    double sum = 0, minp = 1;
    int seeds = 20;
    for (int s = 0; s < seeds; s++) {
        synth c = synth_model(inputs, ntok, dim, neurons, 1000 + (uint64_t)s);
        if (!act_zhu_match(a.gate, a.up, neurons, c.gate, c.up, neurons, ntok, &m)) m.p = 0;
        sum += m.p;
        if (m.p < minp) minp = m.p;
        synth_free(&c);
    }
    CHECK(minp > 0.001, "independent models: no p below 0.001 over %d seeds (min %.4f)", seeds, minp);
    CHECK(sum / seeds > 0.3 && sum / seeds < 0.7, "independent models: mean p %.3f within [0.3, 0.7]", sum / seeds);
    synth_free(&a);
    free(inputs);
}

static void test_fisher_spearman_pca(void)
{
    double p2[2] = {0.03, 0.2}, p3[3] = {0.01, 0.5, 0.04};
    double x2 = p2[0] * p2[1], ref2 = x2 * (1 - log(x2));
    double l3 = -log(p3[0] * p3[1] * p3[2]), ref3 = exp(-l3) * (1 + l3 + l3 * l3 / 2);
    CHECK(fabs(stats_fisher_p(p2, 2) - ref2) < 1e-12 * (1 + ref2), "Fisher's combination of 2 p-values: closed form %.6g", ref2);
    CHECK(fabs(stats_fisher_p(p3, 3) - ref3) < 1e-12 * (1 + ref3), "Fisher's combination of 3 p-values: closed form %.6g", ref3);
    double one = 0.0123;
    CHECK(fabs(stats_fisher_p(&one, 1) - one) < 1e-12, "Fisher's combination of one p is that p");
    size_t x[5] = {10, 20, 30, 40, 50}, y[5] = {3, 1, 4, 9, 7}, z[5] = {50, 40, 30, 20, 10};
    /* ranks of y: 1 0 2 4 3 -> d^2 = 1+1+1+1+... : rho = 1 - 6*4/(5*24) = 0.8 */
    CHECK(fabs(stats_spearman_distinct(x, y, 5) - 0.8) < 1e-12, "Spearman of a hand-computed example is 0.8 (%.6f)",
          stats_spearman_distinct(x, y, 5));
    CHECK(fabs(stats_spearman_distinct(x, z, 5) + 1) < 1e-12, "Spearman of reversed sequences is -1");
    /* layers on a line: similarity exp(-|i-j|): the first coordinate is monotone along the line */
    size_t n = 6;
    double G[36], xy[12];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) G[i * n + j] = exp(-fabs((double)i - (double)j) / 2);
    int mono = act_pca2(G, n, xy);
    for (size_t i = 1; i < n; i++) mono = mono && xy[2 * i] > xy[2 * (i - 1)];
    CHECK(mono, "PCA of a chain of layers orders them along the first axis (%.3f .. %.3f)", xy[0], xy[10]);
    double dist = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double dx = xy[2 * i] - xy[2 * j], dy = xy[2 * i + 1] - xy[2 * j + 1];
            double full = G[i * n + i] + G[j * n + j] - 2 * G[i * n + j];
            if (dx * dx + dy * dy > full + 1e-9) dist = 1;
        }
    CHECK(dist == 0, "the 2-D projection never stretches a distance of the full embedding");
}

/* The renderers on a hand-written section (the engine-driven one is covered by t_activations.sh). */
static void test_render(void)
{
    static const char doc[] =
        "{\"status\":\"ok\",\"tokens\":{\"used\":900,\"probes\":40,\"cka\":900,\"mlp\":900},"
        "\"alignment\":{\"shared_tokenizer\":true,\"aligned_positions\":900},\"layers\":{\"a\":2,\"b\":3},"
        "\"cka\":{\"matrix\":[[0.9,0.5,0.4],[0.5,0.8,0.95]],\"best_mean\":0.88,"
        "\"null\":{\"mean\":0.02,\"p95\":0.04,\"p\":0.01},\"within_a\":{\"adjacent_mean\":0.6},"
        "\"layer_map\":{\"map\":[0,1,1],\"repeats\":1}},"
        "\"neuron_matching\":{\"status\":\"ok\",\"tokens\":900,\"fisher_p\":1e-40,\"combined\":{\"mean_spearman\":0.97},"
        "\"per_layer\":[{\"layer_a\":0,\"layer_b\":0,\"neurons\":256,\"spearman\":0.98,\"p\":1e-20,\"expert\":2}]},"
        "\"pca\":{\"a\":[[-1,0],[0,0.5]],\"b\":[[-0.9,0.1],[0.1,0.4],[1,0]]},"
        "\"findings\":[{\"text\":{\"en\":\"english finding\",\"ko\":\"한국어 발견\"},\"direction\":\"derived\"}]}";
    arena ar;
    arena_init(&ar, 0);
    json_value *sec = NULL;
    lineage_error err;
    int parsed = json_parse(doc, sizeof doc - 1, NULL, &ar, &sec, "section", &err) == LINEAGE_OK;
    CHECK(parsed, "the hand-written section parses");
    if (!parsed) { arena_free(&ar); return; }
    strbuf sb;
    sb_init(&sb);
    render_ctx en = {0, 0}, ko = {1, 0};
    render_activations_text(&sb, sec, &en);
    CHECK(strstr(sb_str(&sb), "english finding") && strstr(sb_str(&sb), "Fisher p 1e-40") &&
              strstr(sb_str(&sb), "0 1 1  (1 repeats)") && strstr(sb_str(&sb), "expert 2"),
          "text: finding, Fisher p, layer map and expert shown");
    sb_free(&sb);
    sb_init(&sb);
    render_activations_text(&sb, sec, &ko);
    CHECK(strstr(sb_str(&sb), "한국어 발견") && strstr(sb_str(&sb), "뉴런 대응"), "Korean text uses the Korean strings");
    sb_free(&sb);
    sb_init(&sb);
    activations_charts(&sb, sec, &en);
    CHECK(strstr(sb_str(&sb), "data-chart=\"heatmap\"") && strstr(sb_str(&sb), "data-chart=\"pca\"") &&
              strstr(sb_str(&sb), "<title>B 2</title>"),
          "HTML: CKA heatmap and a PCA scatter with every layer of B");
    sb_free(&sb);
    arena_free(&ar);
}

int main(void)
{
    test_render();
    test_cka();
    test_zhu();
    test_fisher_spearman_pca();
    CHECK_EXIT();
}
