/* Fingerprints: built from zoo models, a byte-exact round trip, invariance to the zoo's permuted and
 * rescaled copies, and a parser that refuses every truncation, a wrong version, bounds and trailing bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/fingerprint.h"
#include "check.h"

static int build(const char *name, fingerprint *fp)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/zoo/%s", shared_dir(), name);
    lineage_model *m;
    lineage_error err = {0, ""};
    if (lineage_model_open(path, &m, &err)) return CHECK(0, "open %s: %s", path, err.message), 0;
    lineage_status st = fp_build(m, fp, &err);
    lineage_model_close(m);
    return CHECK(st == LINEAGE_OK, "fp_build %s: %s", name, err.message);
}

static int shared_keys(const fingerprint *a, const fingerprint *b)
{
    int n = 0;
    for (uint32_t i = 0; i < a->n_keys; i++)
        for (uint32_t j = 0; j < b->n_keys; j++) n += a->keys[i] == b->keys[j];
    return n;
}

int main(void)
{
    fingerprint base, perm, resc, other, back;
    if (!build("base", &base) || !build("permuted", &perm) || !build("rescaled", &resc) || !build("indep-other", &other))
        CHECK_EXIT();
    CHECK(base.n_anchors >= 64 && base.n_anchors <= FP_ANCHORS, "anchors %u", base.n_anchors);
    CHECK(base.has_embed_gram && base.has_head_gram, "both Gram matrices");
    CHECK(base.n_layers == 4 && base.n_keys == FP_BANDS, "layers %u keys %u", base.n_layers, base.n_keys);

    unsigned char *blob, *blob2;
    size_t len, len2;
    lineage_error err = {0, ""};
    CHECK(fp_serialize(&base, &blob, &len, &err) == LINEAGE_OK, "serialize");
    CHECK(len < 64 * 1024, "record of %zu bytes", len);
    CHECK(fp_parse(blob, len, &back, "base", &err) == LINEAGE_OK, "parse: %s", err.message);
    CHECK(fp_serialize(&back, &blob2, &len2, &err) == LINEAGE_OK && len2 == len && !memcmp(blob, blob2, len),
          "round trip is byte-exact");
    free(blob2);

    fp_similarity s;
    fp_compare(&base, &back, &s);
    CHECK(s.sig[FP_SIG_EMBED] > 0.9999 && s.sig[FP_SIG_HEAD] > 0.9999 && s.arch_same, "self similarity %g", s.sig[FP_SIG_EMBED]);
    fp_compare(&base, &perm, &s);
    CHECK(s.sig[FP_SIG_EMBED] > 0.95 && s.sig[FP_SIG_HEAD] > 0.95, "permuted copy: Gram r %g / %g", s.sig[FP_SIG_EMBED],
          s.sig[FP_SIG_HEAD]);
    CHECK(shared_keys(&base, &perm) >= 2, "permuted copy shares %d retrieval keys", shared_keys(&base, &perm));
    fp_compare(&base, &resc, &s);
    CHECK(s.sig[FP_SIG_HEAD] > 0.99, "rescaled copy: lm_head Gram with the final norm folded r %g", s.sig[FP_SIG_HEAD]);
    fp_compare(&base, &other, &s);
    CHECK(!(s.sig[FP_SIG_EMBED] > 0.9), "independent model (other data, own tokenizer): Gram r %g", s.sig[FP_SIG_EMBED]);
    CHECK(s.tok_jaccard < 0.9, "independent tokenizer Jaccard %g", s.tok_jaccard);
    CHECK(shared_keys(&base, &other) <= 2, "independent model shares %d retrieval keys", shared_keys(&base, &other));

    /* hostile records */
    fingerprint x;
    int bad = 0;
    for (size_t cut = 0; cut < len; cut += 1 + cut / 8)
        if (fp_parse(blob, cut, &x, "cut", &err) == LINEAGE_OK) { bad++; fp_free(&x); }
    CHECK(bad == 0, "%d truncations parsed", bad);
    unsigned char *tmp = malloc(len + 1);
    memcpy(tmp, blob, len);
    tmp[len] = 0;
    CHECK(fp_parse(tmp, len + 1, &x, "trailing", &err) == LINEAGE_E_FORMAT, "a trailing byte is refused");
    tmp[4] = FP_VERSION + 1;
    CHECK(fp_parse(tmp, len, &x, "next", &err) == LINEAGE_E_UNSUPPORTED && strstr(err.message, "fingerprint version"), "another version: %s",
          err.message);
    memcpy(tmp, blob, len);
    size_t anchors_at = 4 + 4 + 32 + 32 + 12 + 3 * 4 * FP_MINHASH + 4 + 8 * (size_t)base.nspecials;
    tmp[anchors_at] = 200;
    CHECK(fp_parse(tmp, len, &x, "anchors", &err) == LINEAGE_E_FORMAT, "an anchor count above the bound is refused");
    uint64_t r = 0x1234567;
    for (int it = 0; it < 3000; it++) {   /* random corruption: refused or parsed, never a crash (ASan) */
        memcpy(tmp, blob, len);
        for (int k = 0; k < 4; k++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            tmp[(r >> 33) % len] ^= (unsigned char)(r >> 13);
        }
        if (fp_parse(tmp, len, &x, "fuzz", &err) == LINEAGE_OK) {
            fp_compare(&base, &x, &s);
            fp_free(&x);
        }
    }
    CHECK(1, "3000 corrupted records handled");
    free(tmp);
    free(blob);
    fp_free(&base);
    fp_free(&perm);
    fp_free(&resc);
    fp_free(&other);
    fp_free(&back);
    CHECK_EXIT();
}
