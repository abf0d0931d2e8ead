/* The library holds no process-wide mutable state in a comparison: two lineage_compare calls on two
 * threads at once give the same documents as the same calls one after the other (run under ASan and
 * UBSan in the suite), and each call's progress callback sees only its own pass. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lineage.h"
#include "support/fixture.h"

#define ROUNDS 3

typedef struct job {
    const lineage_model *a, *b;
    char *json;            /* the rendered document */
    size_t len;
    lineage_status st;
    int progress_calls;    /* this call's own callback */
    const void *progress_owner;
    int foreign_progress;  /* calls carrying another job's user pointer */
} job;

static void count_progress(void *user, const char *what, uint64_t done, uint64_t total, double seconds)
{
    job *j = user;
    (void)what, (void)done, (void)total, (void)seconds;
    if (j->progress_owner != j) j->foreign_progress++;
    j->progress_calls++;
}

static void *run_job(void *arg)
{
    job *j = arg;
    lineage_error err = {0, ""};
    lineage_compare_options o;
    memset(&o, 0, sizeof o);
    o.only = LINEAGE_ONLY_ARCH | LINEAGE_ONLY_WEIGHTS;
    o.threads = 2;
    o.sample = 1;
    o.progress = count_progress;
    o.progress_user = j;
    j->progress_owner = j;
    lineage_doc *d = NULL;
    j->st = lineage_compare(j->a, j->b, &o, &d, &err);
    if (j->st) {
        fprintf(stderr, "compare: %s\n", err.message);
        return NULL;
    }
    FILE *f = open_memstream(&j->json, &j->len);
    lineage_render_options ro = {LINEAGE_RENDER_JSON, "en", 0};
    if (!f || lineage_render(d, &ro, f, &err)) j->st = LINEAGE_E_IO;
    if (f) fclose(f);
    lineage_doc_free(d);
    return NULL;
}

static int write_model(const char *dir, uint64_t seed, double noise, uint64_t noise_seed)
{
    fixture_spec spec = {FIXTURE_LLAMA, 64, 2, 4, 2, 0, 128, 256, 0, 0, 0, 0, 0, seed};
    fixture_model fm;
    lineage_error err;
    if (fixture_model_init(&fm, &spec, &err) || fixture_model_fill(&fm, &err)) return 0;
    fixture_rng r;
    fixture_rng_seed(&r, noise_seed);
    for (size_t i = 0; noise > 0 && i < fm.count; i++)
        for (uint64_t k = 0; k < fixture_tensor_numel(&fm.tensors[i]); k++)
            fm.tensors[i].data[k] += (float)(noise * fixture_rng_gauss(&r));
    fixture_write_options wo = {LINEAGE_DTYPE_F32, 1, 0, 0};
    int ok = fixture_write_hf(dir, &fm, &wo, &err) == LINEAGE_OK;
    fixture_model_free(&fm);
    return ok;
}

int main(void)
{
    char root[] = "/tmp/lineage-threads-XXXXXX";
    if (!mkdtemp(root)) return 1;
    char base[256], tuned[256], other[256];
    snprintf(base, sizeof base, "%s/base", root);
    snprintf(tuned, sizeof tuned, "%s/tuned", root);
    snprintf(other, sizeof other, "%s/other", root);
    CHECK(write_model(base, 11, 0, 0) && write_model(tuned, 11, 0.002, 5) && write_model(other, 12, 0, 0),
          "three generated models (base, a fine-tune of it, an independent one)");
    lineage_model *mb = NULL, *mt = NULL, *mo = NULL;
    lineage_error err = {0, ""};
    CHECK(!lineage_model_open(base, &mb, &err) && !lineage_model_open(tuned, &mt, &err) &&
              !lineage_model_open(other, &mo, &err),
          "models open");

    job seq[2] = {{mb, mt, NULL, 0, 0, 0, NULL, 0}, {mb, mo, NULL, 0, 0, 0, NULL, 0}};
    run_job(&seq[0]);
    run_job(&seq[1]);
    CHECK(!seq[0].st && !seq[1].st && seq[0].len > 0 && seq[1].len > 0, "sequential compares succeed");
    if (check_failures) CHECK_EXIT();
    CHECK(strstr(seq[0].json, "\"derived\"") && strstr(seq[1].json, "\"independent\""),
          "the sequential verdicts are derived and independent (the pairs differ, so a mix-up shows)");

    CHECK(seq[0].progress_calls >= 1 && seq[1].progress_calls >= 1, "each call's own progress callback ran (%d, %d calls)",
          seq[0].progress_calls, seq[1].progress_calls);
    int same = 1, foreign = 0, failed = 0;
    for (int round = 0; round < ROUNDS; round++) {
        job par[2] = {{mb, mt, NULL, 0, 0, 0, NULL, 0}, {mb, mo, NULL, 0, 0, 0, NULL, 0}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, run_job, &par[i]);
        for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
        for (int i = 0; i < 2; i++) {
            failed += par[i].st != LINEAGE_OK;
            foreign += par[i].foreign_progress;
            if (!par[i].json || par[i].len != seq[i].len || memcmp(par[i].json, seq[i].json, seq[i].len)) same = 0;
            free(par[i].json);
        }
    }
    CHECK(!failed, "%d rounds of two concurrent compares succeed", ROUNDS);
    CHECK(same, "each concurrent compare's JSON equals its sequential run, byte for byte");
    CHECK(!foreign, "progress callbacks only see their own call's user pointer");
    free(seq[0].json);
    free(seq[1].json);
    lineage_model_close(mb);
    lineage_model_close(mt);
    lineage_model_close(mo);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
    CHECK_EXIT();
}
