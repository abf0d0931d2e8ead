/* Behaviour statistics against scalar references written here, alignment of different vocabularies by
 * bytes, the probe set and probe files, and the OpenAI-compatible answer parsers on canned JSON. */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/behaviour.h"
#include "analysis/probes.h"
#include "util/json.h"
#include "io/openai.h"
#include "check.h"

static bdist make(const char *const *tok, const double *prob, size_t n)
{
    bdist d;
    memset(&d, 0, sizeof d);
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        d.top[i].bytes = tok[i];
        d.top[i].len = (uint32_t)strlen(tok[i]);
        d.top[i].logprob = log(prob[i]);
        s += prob[i];
    }
    d.n = n;
    d.other = 1 - s;
    return d;
}

/* JSD in bits of two explicit distributions over the same outcomes. */
static double ref_jsd(const double *p, const double *q, size_t n)
{
    double r = 0;
    for (size_t i = 0; i < n; i++) {
        double m = (p[i] + q[i]) / 2;
        if (p[i] > 0) r += 0.5 * p[i] * log2(p[i] / m);
        if (q[i] > 0) r += 0.5 * q[i] * log2(q[i] / m);
    }
    return r;
}

static void test_distances(void)
{
    const char *ta[] = {"the", " a", "x"}, *tb[] = {" a", "the", "y"};
    double pa[] = {0.5, 0.2, 0.1}, pb[] = {0.4, 0.3, 0.2};
    bdist a = make(ta, pa, 3), b = make(tb, pb, 3);
    /* outcomes: the, " a", x, y, other */
    double P[] = {0.5, 0.2, 0.1, 0.0, 0.2}, Q[] = {0.3, 0.4, 0.0, 0.2, 0.1};
    double j = bdist_jsd(&a, &b), r = ref_jsd(P, Q, 5);
    CHECK(fabs(j - r) < 1e-12, "JSD over the byte union with one 'other' bucket matches the reference (%.6f vs %.6f)", j, r);
    CHECK(fabs(bdist_jsd(&a, &b) - bdist_jsd(&b, &a)) < 1e-15, "JSD is symmetric");
    CHECK(bdist_jsd(&a, &a) < 1e-15, "JSD of a distribution with itself is 0");
    const char *tc[] = {"q"};
    double pc[] = {1.0};
    bdist c = make(tc, pc, 1), e = make(ta, (double[]){0.6, 0.4, 0.0 + 1e-300}, 2);
    CHECK(fabs(bdist_jsd(&c, &e) - 1.0) < 1e-12, "disjoint distributions are 1 bit apart");
    CHECK(!bdist_top1_agree(&a, &b), "top-1 'the' vs ' a' disagree");
    CHECK(bdist_top1_agree(&a, &e), "top-1 'the' vs 'the' agree");
    /* rank correlation: over a's list {the, a, x}: a's logprobs vs b's {0.3, 0.4, -inf}; ranks (3,2,1) vs (2,3,1) */
    double r1 = 0.5, r2 = 0.5;   /* Spearman of (3,2,1) vs (2,3,1): 1 - 6*2/(3*8) = 0.5; b's list the same */
    double rho = bdist_rank_corr(&a, &b);
    CHECK(fabs(rho - (r1 + r2) / 2) < 1e-12, "rank correlation averages both one-way Spearman values (%.4f)", rho);
    CHECK(fabs(bdist_rank_corr(&a, &a) - 1) < 1e-12, "rank correlation of a distribution with itself is 1");
}

static void test_spearman(void)
{
    double x[] = {1, 2, 3, 4, 5, 6}, y[] = {2, 1, 4, 3, 6, 5};
    double d2 = 0;
    for (int i = 0; i < 6; i++) d2 += (x[i] - y[i]) * (x[i] - y[i]);
    double ref = 1 - 6 * d2 / (6.0 * 35);
    CHECK(fabs(stats_spearman(x, y, 6) - ref) < 1e-12, "Spearman without ties matches 1 - 6 sum d^2 / n(n^2-1)");
    /* ties: x ranks (1, 2.5, 2.5, 4), y ranks (1, 2, 3, 4): Pearson by hand */
    double xt[] = {10, 20, 20, 30}, yt[] = {1, 2, 3, 4};
    double rx[] = {1, 2.5, 2.5, 4}, ry[] = {1, 2, 3, 4}, mx = 2.5, my = 2.5, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < 4; i++) {
        sxy += (rx[i] - mx) * (ry[i] - my);
        sxx += (rx[i] - mx) * (rx[i] - mx);
        syy += (ry[i] - my) * (ry[i] - my);
    }
    CHECK(fabs(stats_spearman(xt, yt, 4) - sxy / sqrt(sxx * syy)) < 1e-12, "Spearman with ties uses average ranks");
    double c[] = {1, 1, 1};
    CHECK(isnan(stats_spearman(c, yt, 3)), "Spearman of a constant is undefined");
}

static void test_bootstrap(void)
{
    enum { N = 400 };
    double v[N], s = 0, ss = 0;
    uint64_t st = 12345;
    for (int i = 0; i < N; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        v[i] = (double)(st >> 11) / 9007199254740992.0;   /* uniform [0, 1) */
        s += v[i];
    }
    double mean_ref = s / N;
    for (int i = 0; i < N; i++) ss += (v[i] - mean_ref) * (v[i] - mean_ref);
    double se = sqrt(ss / (N - 1) / N);
    double mean, lo, hi, mean2, lo2, hi2;
    size_t k = bootstrap_mean_ci(v, N, BEHAVIOUR_BOOTSTRAP, BEHAVIOUR_SEED, &mean, &lo, &hi);
    bootstrap_mean_ci(v, N, BEHAVIOUR_BOOTSTRAP, BEHAVIOUR_SEED, &mean2, &lo2, &hi2);
    CHECK(k == N && fabs(mean - mean_ref) < 1e-12, "bootstrap reports the sample mean");
    CHECK(lo < mean && mean < hi, "the interval contains the mean [%.4f, %.4f]", lo, hi);
    double half = (hi - lo) / 2;
    CHECK(fabs(half / (1.96 * se) - 1) < 0.15, "95%% half-width %.4f is near 1.96 standard errors %.4f", half, 1.96 * se);
    CHECK(lo == lo2 && hi == hi2, "the interval is deterministic (fixed seed)");
    v[3] = NAN;
    k = bootstrap_mean_ci(v, N, 200, 1, &mean, &lo, &hi);
    CHECK(k == N - 1 && isfinite(mean), "NaN values are left out");
    double one[] = {0.25, 0.25, 0.25};
    bootstrap_mean_ci(one, 3, 100, 1, &mean, &lo, &hi);
    CHECK(mean == 0.25 && lo == 0.25 && hi == 0.25, "a constant sample has a zero-width interval");
}

/* P(W+ >= observed) by enumerating every sign pattern of |d|'s average ranks. */
static double ref_wilcoxon(const double *d, size_t n)
{
    double a[32], r[32];
    int pos[32];
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (d[i] != 0) { a[m] = fabs(d[i]); pos[m++] = d[i] > 0; }
    for (size_t i = 0; i < m; i++) {
        double less = 0, eq = 0;
        for (size_t j = 0; j < m; j++) { less += a[j] < a[i]; eq += a[j] == a[i]; }
        r[i] = less + (eq + 1) / 2;
    }
    double w = 0;
    for (size_t i = 0; i < m; i++) if (pos[i]) w += r[i];
    double hits = 0, total = 0;
    for (uint64_t mask = 0; mask < (1ULL << m); mask++) {
        double s = 0;
        for (size_t i = 0; i < m; i++) if (mask >> i & 1) s += r[i];
        hits += s >= w - 1e-9;
        total += 1;
    }
    return hits / total;
}

static void test_wilcoxon(void)
{
    double d1[] = {0.3, -0.1, 0.5, 0.2, 0.2, -0.05, 0.7, 0.0, 0.1, -0.2, 0.4, 0.2};
    double w, p = wilcoxon_greater(d1, 12, &w);
    CHECK(fabs(p - ref_wilcoxon(d1, 12)) < 1e-12, "exact Wilcoxon with ties and a zero matches enumeration (p %.5f)", p);
    double d2[18];
    for (int i = 0; i < 18; i++) d2[i] = (i % 3 == 0 ? -1 : 1) * (0.01 * (i + 1));
    p = wilcoxon_greater(d2, 18, &w);
    CHECK(fabs(p - ref_wilcoxon(d2, 18)) < 1e-12, "exact Wilcoxon on 18 differences matches enumeration (p %.5f)", p);
    double neg[] = {-1, -2, -3, -4, -5, -6, -7, -8};
    CHECK(fabs(wilcoxon_greater(neg, 8, &w) - 1.0) < 1e-12 && w == 0, "all-negative differences give p = 1");
    CHECK(fabs(wilcoxon_greater(neg, 0, &w) - 1.0) < 1e-12, "no differences give p = 1");
    /* normal approximation (n > 50) against a Monte Carlo of random signs */
    enum { M = 120 };
    double d3[M];
    for (int i = 0; i < M; i++) d3[i] = ((i * 7) % 9 < 4 ? -1.0 : 1.0) * (1 + (i * 37) % 53);
    p = wilcoxon_greater(d3, M, &w);
    double ranks[M];
    for (int i = 0; i < M; i++) {
        double less = 0, eq = 0;
        for (int j = 0; j < M; j++) { less += fabs(d3[j]) < fabs(d3[i]); eq += fabs(d3[j]) == fabs(d3[i]); }
        ranks[i] = less + (eq + 1) / 2;
    }
    uint64_t st = 99;
    int hits = 0, trials = 40000;
    for (int t = 0; t < trials; t++) {
        double s = 0;
        for (int i = 0; i < M; i++) {
            st ^= st << 13; st ^= st >> 7; st ^= st << 17;
            if (st & 1) s += ranks[i];
        }
        hits += s >= w - 1e-9;
    }
    double mc = (double)hits / trials;
    CHECK(fabs(p - mc) < 0.01 + 0.1 * mc, "normal approximation p %.4f agrees with Monte Carlo %.4f", p, mc);
}

static void test_holm(void)
{
    double p[] = {0.01, 0.04, 0.03, 0.005}, adj[4], want[] = {0.03, 0.06, 0.06, 0.02};
    holm_adjust(p, adj, 4);
    int ok = 1;
    for (int i = 0; i < 4; i++) ok &= fabs(adj[i] - want[i]) < 1e-12;
    CHECK(ok, "Holm adjusts [0.01 0.04 0.03 0.005] to [0.03 0.06 0.06 0.02] (%g %g %g %g)", adj[0], adj[1], adj[2], adj[3]);
    double q[] = {0.6, 0.9}, qa[2];
    holm_adjust(q, qa, 2);
    CHECK(qa[0] == 1.0 && qa[1] == 1.0, "Holm caps at 1");
}

/* Two vocabularies: different ids, one with two ids spelling the same bytes. */
static const char *vocab_x[] = {"a", "b", "ab", " c", NULL};
static const char *vocab_y[] = {" c", NULL, "ab", "b", "a", "a"};
static const char *bytes_x(void *u, uint32_t id, size_t *len)
{
    (void)u;
    if (id >= 5 || !vocab_x[id]) return NULL;
    *len = strlen(vocab_x[id]);
    return vocab_x[id];
}
static const char *bytes_y(void *u, uint32_t id, size_t *len)
{
    (void)u;
    if (id >= 6 || !vocab_y[id]) return NULL;
    *len = strlen(vocab_y[id]);
    return vocab_y[id];
}

static void test_alignment(void)
{
    /* the same distribution over bytes: a 0.4, b 0.3, ab 0.2, " c" 0.1 */
    float lx[] = {logf(0.4f), logf(0.3f), logf(0.2f), logf(0.1f), 5.0f};   /* id 4 has no token: ignored */
    float ly[] = {logf(0.1f), 9.0f, logf(0.2f), logf(0.3f), logf(0.25f), logf(0.15f)};
    bdist x, y;
    bdist_from_logits(lx, 5, bytes_x, NULL, &x);
    /* softmax over all ids with tokens: id 1 of y has no token and must not take mass from the others */
    bdist_from_logits(ly, 6, bytes_y, NULL, &y);
    CHECK(x.n == 4 && y.n == 4, "four distinct byte strings on each side (%zu, %zu)", x.n, y.n);
    CHECK(y.top[0].len == 1 && y.top[0].bytes[0] == 'a', "ids 4 and 5 of y (both 'a') merge into the top token");
    CHECK(bdist_top1_agree(&x, &y), "top-1 agrees across vocabularies");
    double j = bdist_jsd(&x, &y);
    CHECK(j < 1e-6, "identical byte distributions under different ids have JSD ~0 (%.2g)", j);
    CHECK(fabs(bdist_rank_corr(&x, &y) - 1) < 1e-9, "and rank correlation 1");
}

static void test_probes(void)
{
    arena ar;
    arena_init(&ar, 0);
    lineage_error err;
    probe_set ps;
    CHECK(probes_load(NULL, &ar, &ps, &err) == LINEAGE_OK, "built-in probe set loads");
    const char *cats[] = {"en", "ko", "zh", "ja", "code", "numbers"};
    int counts[6] = {0}, valid = 1, dup = 0;
    for (size_t i = 0; i < ps.count; i++) {
        for (int c = 0; c < 6; c++) counts[c] += !strcmp(ps.items[i].category, cats[c]);
        valid &= ps.items[i].len > 0 && utf8_valid(ps.items[i].text, ps.items[i].len);
        for (size_t k = 0; k < i; k++) dup += !strcmp(ps.items[i].text, ps.items[k].text);
    }
    CHECK(ps.count >= 250, "a few hundred built-in probes (%zu)", ps.count);
    int each = 1;
    for (int c = 0; c < 6; c++) each &= counts[c] >= 40;
    CHECK(each, "each category has at least 40 probes (en %d ko %d zh %d ja %d code %d numbers %d)", counts[0], counts[1],
          counts[2], counts[3], counts[4], counts[5]);
    CHECK(valid && dup == 0, "probes are non-empty valid UTF-8 without duplicates (%d duplicates)", dup);
    char path[] = "/tmp/lineage_probesXXXXXX";
    int fd = mkstemp(path);
    const char good[] = "first line\r\n\nsecond\\nline\\twith tab \\\\ end\n한국어\n";
    CHECK(fd >= 0 && write(fd, good, sizeof good - 1) == (ssize_t)(sizeof good - 1), "probe file written");
    close(fd);
    CHECK(probes_load(path, &ar, &ps, &err) == LINEAGE_OK && ps.count == 3, "probe file: 3 probes, blank line skipped");
    CHECK(ps.count == 3 && !strcmp(ps.items[0].text, "first line") && !strcmp(ps.items[1].text, "second\nline\twith tab \\ end") &&
              !strcmp(ps.items[2].category, "file"), "escapes decoded, CR dropped, category 'file'");
    static const struct { const char *text; const char *msg; } bad[] = {
        {"ok\nbad \\q escape\n", ":2: unknown escape"},
        {"ends in \\", "lone backslash"},
        {"bad \xff utf8\n", "not valid UTF-8"},
        {"\n\n\n", "no probes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fd = open(path, O_WRONLY | O_TRUNC);
        CHECK(fd >= 0 && write(fd, bad[i].text, strlen(bad[i].text)) == (ssize_t)strlen(bad[i].text), "rewrite %zu", i);
        close(fd);
        lineage_status st = probes_load(path, &ar, &ps, &err);
        CHECK(st == LINEAGE_E_FORMAT && strstr(err.message, bad[i].msg) && strstr(err.message, path) &&
                  !strchr(err.message, '\n'), "hostile probe file %zu rejected in one line: %s", i, err.message);
    }
    fd = open(path, O_WRONLY | O_TRUNC);
    char *big = malloc(9000);
    memset(big, 'x', 9000);
    CHECK(fd >= 0 && write(fd, big, 9000) == 9000, "long line written");
    close(fd);
    free(big);
    CHECK(probes_load(path, &ar, &ps, &err) == LINEAGE_E_FORMAT && strstr(err.message, "longer than"),
          "an over-long probe is rejected: %s", err.message);
    unlink(path);
    arena_free(&ar);
}

static void test_parser(void)
{
    arena ar;
    arena_init(&ar, 0);
    lineage_error err;
    openai_token *t;
    size_t n, pt;
    const char *url = "http://127.0.0.1:9/v1/completions";
    const char good[] = "{\"id\":\"x\",\"choices\":[{\"text\":\" the\",\"logprobs\":{\"tokens\":[\" the\"],"
                        "\"token_logprobs\":[-0.7],\"top_logprobs\":[{\" the\":-0.7,\" a\":-1.5,"
                        "\"bytes:\\\\xe2\\\\x80\":-3.0,\"\\u00e9\":-2.0}]}}],\"usage\":{\"prompt_tokens\":7}}";
    lineage_status st = openai_parse_completion(good, strlen(good), url, &ar, &t, &n, &pt, &err);
    CHECK(st == LINEAGE_OK && n == 4 && pt == 7, "good answer: 4 tokens, 7 prompt tokens");
    CHECK(st == LINEAGE_OK && t[0].len == 4 && !memcmp(t[0].bytes, " the", 4) && t[0].logprob == -0.7 &&
              t[1].logprob == -1.5, "tokens sorted by logprob");
    CHECK(st == LINEAGE_OK && t[2].len == 2 && !memcmp(t[2].bytes, "\xc3\xa9", 2), "JSON escapes decode to UTF-8 bytes");
    CHECK(st == LINEAGE_OK && t[3].len == 2 && (unsigned char)t[3].bytes[0] == 0xe2 && (unsigned char)t[3].bytes[1] == 0x80,
          "vLLM 'bytes:\\xNN' spelling decodes to raw bytes");
    const char dupe[] = "{\"choices\":[{\"logprobs\":{\"top_logprobs\":[{\"a\":-1.0,\"a\":-1.0}]}}]}";
    st = openai_parse_completion(dupe, strlen(dupe), url, &ar, &t, &n, &pt, &err);
    CHECK(st == LINEAGE_OK && n == 1 && fabs(t[0].logprob - log(2 * exp(-1.0))) < 1e-12 && pt == 0,
          "two spellings of the same bytes add their probabilities");
    static const struct { const char *body; lineage_status code; const char *msg; } bad[] = {
        {"{\"choices\":[{\"text\":\"x\"", LINEAGE_E_FORMAT, "not a JSON object"},
        {"<html>502</html>", LINEAGE_E_FORMAT, "not a JSON object"},
        {"[1,2]", LINEAGE_E_FORMAT, "not a JSON object"},
        {"{\"choices\":[]}", LINEAGE_E_FORMAT, "no \"choices\""},
        {"{\"choices\":[{\"text\":\"x\",\"logprobs\":null}]}", LINEAGE_E_FORMAT, "no logprobs"},
        {"{\"choices\":[{\"logprobs\":{\"tokens\":[]}}]}", LINEAGE_E_FORMAT, "no top_logprobs"},
        {"{\"choices\":[{\"logprobs\":{\"top_logprobs\":[{\"a\":\"high\"}]}}]}", LINEAGE_E_FORMAT, "not a log-probability"},
        {"{\"choices\":[{\"logprobs\":{\"top_logprobs\":[{\"a\":0.5}]}}]}", LINEAGE_E_FORMAT, "not a log-probability"},
        {"{\"choices\":[{\"logprobs\":{\"top_logprobs\":[{\"a\":-0.1,\"b\":-0.2}]}}]}", LINEAGE_E_FORMAT, "add up to"},
        {"{\"error\":{\"message\":\"model not loaded\"}}", LINEAGE_E_IO, "model not loaded"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st = openai_parse_completion(bad[i].body, strlen(bad[i].body), url, &ar, &t, &n, &pt, &err);
        CHECK(st == bad[i].code && strstr(err.message, bad[i].msg) && strstr(err.message, url) && !strchr(err.message, '\n'),
              "bad answer %zu rejected in one line naming the URL: %s", i, err.message);
    }
    const char *name = NULL;
    const char models[] = "{\"object\":\"list\",\"data\":[{\"id\":\"zoo-base\",\"object\":\"model\"},{\"id\":\"other\"}]}";
    CHECK(openai_parse_models(models, strlen(models), url, &ar, &name, &err) == LINEAGE_OK && name && !strcmp(name, "zoo-base"),
          "the first listed model is used");
    const char empty[] = "{\"data\":[]}";
    CHECK(openai_parse_models(empty, strlen(empty), url, &ar, &name, &err) == LINEAGE_E_FORMAT && strstr(err.message, "#model"),
          "no models listed: the error says how to name one: %s", err.message);
    openai_client *c;
    CHECK(openai_open("ftp://x/v1", &c, &err) == LINEAGE_E_USAGE, "a non-http URL is a usage error: %s", err.message);
    arena_free(&ar);
}

int main(void)
{
    test_distances();
    test_spearman();
    test_bootstrap();
    test_wilcoxon();
    test_holm();
    test_alignment();
    test_probes();
    test_parser();
    CHECK_EXIT();
}
