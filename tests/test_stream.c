/* The streaming engine against the scalar per-tensor computation on generated safetensors pairs. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "analysis/stream.h"
#include "check.h"
#include "support/fixture.h"
#include "format/dtype.h"
#include "format/safetensors.h"
#include "support/safetensors_write.h"

/* the library's fixture generator: one random source for the whole project */
static fixture_rng test_rng;
static int test_rng_ready;
static fixture_rng *rng_src(void)
{
    if (!test_rng_ready) { fixture_rng_seed(&test_rng, 12345); test_rng_ready = 1; }
    return &test_rng;
}
static double uniform(void) { return fixture_rng_uniform(rng_src()); }
static double gauss(void) { return fixture_rng_gauss(rng_src()); }

typedef struct spec {
    const char *name;
    lineage_dtype ta, tb;
    uint64_t rows, cols;
    double noise;      /* b = a + noise * N(0, sd); 0 = identical */
    double mean;
} spec;

static const spec specs[] = {
    {"big.bf16", LINEAGE_DTYPE_BF16, LINEAGE_DTYPE_BF16, 700, 1000, 0.05, 0},   /* 3 units */
    {"wide.f32", LINEAGE_DTYPE_F32, LINEAGE_DTYPE_F32, 97, 301, 0.1, 0},
    {"odd.f16", LINEAGE_DTYPE_F16, LINEAGE_DTYPE_F16, 513, 129, 0.02, 0},
    {"norm.bf16", LINEAGE_DTYPE_BF16, LINEAGE_DTYPE_BF16, 1, 4096, 0.01, 1.0},
    {"mixed", LINEAGE_DTYPE_F32, LINEAGE_DTYPE_BF16, 333, 1111, 0.05, 0},        /* converting path, 2 units */
    {"same.bf16", LINEAGE_DTYPE_BF16, LINEAGE_DTYPE_BF16, 64, 64, 0, 0},
    {"sampled.bf16", LINEAGE_DTYPE_BF16, LINEAGE_DTYPE_BF16, 8192, 256, 0.3, 0}, /* 64 blocks of 128 rows */
};
#define NSPECS (sizeof specs / sizeof specs[0])

static void *encode(lineage_dtype t, const float *v, size_t n)
{
    size_t es = t == LINEAGE_DTYPE_F32 ? 4 : 2;
    unsigned char *p = malloc(n * es);
    for (size_t i = 0; i < n; i++) {
        if (t == LINEAGE_DTYPE_F32) memcpy(p + 4 * i, &v[i], 4);
        else {
            uint16_t h = t == LINEAGE_DTYPE_BF16 ? f32_to_bf16(v[i]) : f32_to_f16(v[i]);
            memcpy(p + 2 * i, &h, 2);
        }
    }
    return p;
}

static int write_models(const char *pa, const char *pb)
{
    st_tensor ta[NSPECS], tb[NSPECS];
    void *bufs[2 * NSPECS];
    for (size_t s = 0; s < NSPECS; s++) {
        size_t n = (size_t)(specs[s].rows * specs[s].cols);
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        /* per-row scale so rows (and sampled blocks) differ, as in real weights */
        for (size_t r = 0; r < specs[s].rows; r++) {
            double sd = 0.02 * (1 + 0.5 * sin((double)r));
            for (size_t c = 0; c < specs[s].cols; c++) {
                size_t i = r * specs[s].cols + c;
                a[i] = (float)(specs[s].mean + sd * gauss());
                b[i] = specs[s].noise == 0 || uniform() < 0.2 ? a[i] : (float)(a[i] + specs[s].noise * sd * gauss());
            }
        }
        bufs[2 * s] = encode(specs[s].ta, a, n);
        bufs[2 * s + 1] = encode(specs[s].tb, b, n);
        free(a);
        free(b);
        int nd = specs[s].rows == 1 ? 1 : 2;
        ta[s] = (st_tensor){specs[s].name, specs[s].ta, nd, {0}, bufs[2 * s]};
        tb[s] = (st_tensor){specs[s].name, specs[s].tb, nd, {0}, bufs[2 * s + 1]};
        if (nd == 1) ta[s].shape[0] = tb[s].shape[0] = specs[s].cols;
        else {
            ta[s].shape[0] = tb[s].shape[0] = specs[s].rows;
            ta[s].shape[1] = tb[s].shape[1] = specs[s].cols;
        }
    }
    lineage_error err;
    int ok = safetensors_write(pa, ta, NSPECS, NULL, &err) == LINEAGE_OK &&
             safetensors_write(pb, tb, NSPECS, NULL, &err) == LINEAGE_OK;
    for (size_t i = 0; i < 2 * NSPECS; i++) free(bufs[i]);
    return ok;
}

static int close_to(double got, double want, double scale)
{
    return fabs(got - want) <= 1e-6 * scale + 1e-300;
}

/* the reference: whole tensors converted to f32, scalar double moments */
static int reference(const lineage_model *a, const lineage_model *b, size_t ia, size_t ib, pair_moments *ref,
                     double *mag_a, double *mag_b, double *mag_ab)
{
    const lineage_tensor_info *t = lineage_model_tensor(a, ia);
    size_t n = (size_t)t->numel;
    float *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y);
    lineage_error err;
    int ok = lineage_tensor_read_rows_f32(a, ia, 0, t->rows, x, &err) == LINEAGE_OK &&
             lineage_tensor_read_rows_f32(b, ib, 0, t->rows, y, &err) == LINEAGE_OK;
    pair_moments_init(ref);
    pair_moments_f32_scalar(x, y, n, ref);
    *mag_a = *mag_b = *mag_ab = 0;
    for (size_t i = 0; i < n; i++) {
        *mag_a += fabs(x[i]);
        *mag_b += fabs(y[i]);
        *mag_ab += fabs((double)x[i] * y[i]);
    }
    free(x);
    free(y);
    return ok;
}

static int moments_match(const pair_moments *g, const pair_moments *r, double ma, double mb, double mab)
{
    return g->n == r->n && g->n_equal == r->n_equal && close_to(g->sum_a, r->sum_a, ma) &&
           close_to(g->sum_b, r->sum_b, mb) && close_to(g->sum_aa, r->sum_aa, r->sum_aa) &&
           close_to(g->sum_bb, r->sum_bb, r->sum_bb) && close_to(g->sum_ab, r->sum_ab, mab) &&
           close_to(g->sum_dd, r->sum_dd, r->sum_dd) && close_to(g->max_abs_diff, r->max_abs_diff, r->max_abs_diff);
}

static int progress_calls;
static uint64_t progress_last_done, progress_last_total;
static void count_progress(void *user, const char *what, uint64_t done, uint64_t total, double seconds)
{
    (void)user; (void)what; (void)seconds;
    progress_calls++;
    progress_last_done = done;
    progress_last_total = total;
}

/* The digest definition of stream.h, computed here from the raw bytes. */
static void expected_digest(const lineage_model *m, size_t i, unsigned char out[16])
{
    const void *bytes;
    uint64_t nbytes;
    lineage_error err;
    lineage_tensor_raw(m, i, &bytes, &nbytes, &err);
    const lineage_tensor_info *t = lineage_model_tensor(m, i);
    XXH128_canonical_t c;
    if (t->numel <= STREAM_UNIT_ELEMS) {
        XXH128_canonicalFromHash(&c, XXH3_128bits(bytes, (size_t)nbytes));
    } else {
        size_t es = (size_t)(nbytes / t->numel), chunk = (size_t)STREAM_UNIT_ELEMS * es, k = 0;
        XXH128_canonical_t *parts = malloc((size_t)(nbytes / chunk + 1) * sizeof *parts);
        for (size_t off = 0; off < nbytes; off += chunk, k++)
            XXH128_canonicalFromHash(&parts[k], XXH3_128bits((const char *)bytes + off,
                                                             nbytes - off < chunk ? (size_t)(nbytes - off) : chunk));
        XXH128_canonicalFromHash(&c, XXH3_128bits(parts, k * sizeof *parts));
        free(parts);
    }
    memcpy(out, &c, 16);
}

int main(void)
{
    char dir[] = "/tmp/lineage-test-stream-XXXXXX";
    if (!mkdtemp(dir)) { CHECK(0, "temp dir"); CHECK_EXIT(); }
    char pa[128], pb[128];
    snprintf(pa, sizeof pa, "%s/a.safetensors", dir);
    snprintf(pb, sizeof pb, "%s/b.safetensors", dir);
    CHECK(write_models(pa, pb), "fixture checkpoints written");
    lineage_model *a = NULL, *b = NULL;
    lineage_error err;
    CHECK(lineage_model_open(pa, &a, &err) == LINEAGE_OK && lineage_model_open(pb, &b, &err) == LINEAGE_OK,
          "fixtures open");
    if (!a || !b) CHECK_EXIT();

    stream_pair pairs[NSPECS];
    for (size_t s = 0; s < NSPECS; s++) {
        pairs[s].a = (size_t)lineage_model_find_tensor(a, specs[s].name);
        pairs[s].b = (size_t)lineage_model_find_tensor(b, specs[s].name);
    }
    stream_result r1[NSPECS], r3[NSPECS], r8[NSPECS];
    stream_options opt = {1, 1.0, 0, 1, count_progress, NULL};
    CHECK(stream_pairs(a, b, pairs, NSPECS, &opt, r1, &err) == LINEAGE_OK, "full pass, 1 thread");
    opt.progress = NULL;
    CHECK(progress_calls >= 1 && progress_last_done == progress_last_total && progress_last_total > 0,
          "progress callback ends with done == total (%d calls)", progress_calls);
    opt.threads = 3;
    CHECK(stream_pairs(a, b, pairs, NSPECS, &opt, r3, &err) == LINEAGE_OK, "full pass, 3 threads");
    opt.threads = 8;
    CHECK(stream_pairs(a, b, pairs, NSPECS, &opt, r8, &err) == LINEAGE_OK, "full pass, 8 threads");
    for (size_t s = 0; s < NSPECS; s++) {
        pair_moments ref;
        double ma, mb, mab;
        CHECK(reference(a, b, pairs[s].a, pairs[s].b, &ref, &ma, &mb, &mab), "%s: reference read", specs[s].name);
        CHECK(moments_match(&r1[s].m, &ref, ma, mb, mab), "%s: streamed moments equal the scalar reference at 1e-6",
              specs[s].name);
        CHECK(!memcmp(&r1[s].m, &r3[s].m, sizeof r1[s].m) && !memcmp(&r1[s].m, &r8[s].m, sizeof r1[s].m),
              "%s: 1, 3 and 8 threads give bit-identical moments", specs[s].name);
        CHECK(r1[s].rows_read == r1[s].rows && r1[s].nblocks == 0, "%s: full pass reads every row", specs[s].name);
        unsigned char da[16], db[16];
        expected_digest(a, pairs[s].a, da);
        expected_digest(b, pairs[s].b, db);
        CHECK(r1[s].hashed && !memcmp(r1[s].digest_a, da, 16) && !memcmp(r1[s].digest_b, db, 16) &&
              !memcmp(r8[s].digest_a, da, 16),
              "%s: digests follow the chunked XXH3-128 definition", specs[s].name);
        CHECK((memcmp(r1[s].digest_a, r1[s].digest_b, 16) == 0) == (specs[s].noise == 0),
              "%s: digests equal exactly when the tensors are equal", specs[s].name);
    }
    CHECK(r1[5].m.n_equal == r1[5].m.n && r1[5].m.sum_dd == 0, "identical tensors: every element equal");

    /* sample = 1 is the full pass; a sample's CI covers the full value */
    stream_result rs[NSPECS];
    opt = (stream_options){2, 1.0, 7, 0, NULL, NULL};
    CHECK(stream_pairs(a, b, pairs, NSPECS, &opt, rs, &err) == LINEAGE_OK && !memcmp(&rs[0].m, &r1[0].m, sizeof rs[0].m),
          "sample 1.0 equals the full pass");
    size_t si = NSPECS - 1;
    const pair_moments *full = &r1[si].m;
    moments_stat_fn stats[3] = {moments_cosine, moments_pearson, moments_rel_l2};
    const char *names[3] = {"cosine", "pearson", "rel_l2"};
    int covered[3] = {0, 0, 0}, runs = 40, blocks_ok = 1, widths_ok = 1;
    for (int seed = 0; seed < runs; seed++) {
        opt = (stream_options){2, 0.25, (uint64_t)seed, 0, NULL, NULL};
        stream_result r[1];
        if (stream_pairs(a, b, &pairs[si], 1, &opt, r, &err) != LINEAGE_OK) { blocks_ok = 0; break; }
        blocks_ok &= r[0].blocks_total == 64 && r[0].nblocks == 16 && r[0].rows_read == 16 * 128 && !r[0].hashed;
        for (int k = 0; k < 3; k++) {
            stream_ci ci = stream_jackknife_ci(r[0].blocks, r[0].nblocks, r[0].blocks_total, stats[k]);
            double v = stats[k](full);
            covered[k] += ci.lo <= v && v <= ci.hi;
            widths_ok &= ci.hi > ci.lo && ci.se > 0 && close_to(ci.estimate, stats[k](&r[0].m), 1);
        }
        stream_results_free(r, 1);
    }
    CHECK(blocks_ok, "sample 0.25 reads 16 of 64 blocks of 128 rows (64 KB each)");
    CHECK(widths_ok, "jackknife intervals have positive width around the sample estimate");
    for (int k = 0; k < 3; k++)
        CHECK(covered[k] >= runs * 8 / 10, "95%% CI of %s covers the full-pass value in %d of %d seeded samples",
              names[k], covered[k], runs);
    {
        uint64_t *s1, *s2;
        size_t k1, k2;
        stream_sample_blocks("x", 1000, 0.1, 5, &s1, &k1, &err);
        stream_sample_blocks("x", 1000, 0.1, 5, &s2, &k2, &err);
        int sorted = 1;
        for (size_t i = 1; i < k1; i++) sorted &= s1[i] > s1[i - 1];
        CHECK(k1 == 100 && k2 == 100 && !memcmp(s1, s2, k1 * sizeof *s1) && sorted,
              "block selection is deterministic, exact-size and ascending");
        free(s1);
        free(s2);
        stream_sample_blocks("x", 1, 0.01, 5, &s1, &k1, &err);
        CHECK(k1 == 1, "a one-block tensor is read whole");
        free(s1);
    }
    stream_block all[4];
    for (int i = 0; i < 4; i++) all[i] = (stream_block){0, 1, r1[i == 0 ? 0 : 1].m};
    stream_ci exact = stream_jackknife_ci(all, 4, 4, moments_cosine);
    CHECK(exact.se == 0 && exact.lo == exact.hi, "every block read: the interval has width 0");

    /* errors */
    stream_pair bad = {pairs[0].a, pairs[1].b};
    stream_result rb[1];
    opt = (stream_options){0, 1.0, 0, 0, NULL, NULL};
    CHECK(stream_pairs(a, b, &bad, 1, &opt, rb, &err) == LINEAGE_E_USAGE && strstr(err.message, "big.bf16"),
          "a shape mismatch is a usage error naming the tensor: %s", err.message);
    opt.sample = 1.5;
    CHECK(stream_pairs(a, b, pairs, 1, &opt, rb, &err) == LINEAGE_E_USAGE, "sample outside (0, 1] is refused");

    stream_results_free(r1, NSPECS);
    stream_results_free(r3, NSPECS);
    stream_results_free(r8, NSPECS);
    stream_results_free(rs, NSPECS);
    lineage_model_close(a);
    lineage_model_close(b);
    unlink(pa);
    unlink(pb);
    rmdir(dir);
    CHECK_EXIT();
}
