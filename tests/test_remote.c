/* Remote models against a real server: nginx on 127.0.0.1 serving a Hub-like tree (tests/remote/server.sh),
 * the fault proxy in front of it. Values read remotely equal the local ones; bytes and requests are taken
 * from nginx's access log; faults end in retries that succeed or in one clear error. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "format/model.h"
#include "analysis/report_source.h"
#include "format/hf_remote.h"
#include "lineage.h"

#include "remote/harness.h"

static lineage_status open_model(const char *url, lineage_model **m, lineage_error *err)
{
    memset(err, 0, sizeof *err);
    return lineage_model_open(url, m, err);
}

static void test_values_and_cache(void)
{
    char zoo[1024];
    lineage_model *r, *l;
    lineage_error err;
    set_endpoint("http://127.0.0.1:%d", port);
    set_options(cache, 0, 0, 3);
    log_bytes("access.log", NULL, NULL, 1);
    snprintf(zoo, sizeof zoo, "%s/zoo/base", shared_dir());
    lineage_status st = open_model("hf://org/base", &r, &err);
    CHECK(st == LINEAGE_OK, "hf://org/base opens from the server (%s)", err.message);
    if (st) return;
    uint64_t n_open;
    uint64_t open_bytes = log_bytes("access.log", NULL, &n_open, 1);
    CHECK(lineage_model_open(zoo, &l, &err) == LINEAGE_OK, "the local base model opens");
    CHECK(open_bytes < 200000, "opening fetches small files and one header only (%llu bytes of a 1.2 MB model)",
          (unsigned long long)open_bytes);
    CHECK(same_values(r, l), "every tensor of hf://org/base equals the local copy");
    uint64_t n_rows, row_bytes = log_bytes("access.log", "206", &n_rows, 1);
    CHECK(n_rows >= 1 && row_bytes <= 1210008, "reading every row fetched each byte at most once (%llu bytes in %llu ranges)",
          (unsigned long long)row_bytes, (unsigned long long)n_rows);
    arena a;
    arena_init(&a, 0);
    json_value *src;
    CHECK(remote_describe(r, &a, &src, &err) == LINEAGE_OK, "remote_describe succeeds");
    const char *commit = json_get_string(src, "commit");
    CHECK(commit && !strcmp(commit, "1111111111111111111111111111111111111111"),
          "the source names the resolved commit from X-Repo-Commit");
    CHECK(json_get_string(src, "repo") && !strcmp(json_get_string(src, "repo"), "org/base"), "the source names the repo");
    const json_value *files = json_get(src, "files");
    int etags = 0;
    for (size_t i = 0; i < json_count(files); i++) etags += json_get_string(json_at(files, i), "etag") != NULL;
    CHECK(json_count(files) >= 5 && etags == (int)json_count(files), "each fetched file has its ETag (%d of %zu)", etags,
          json_count(files));
    double frac = 0;
    int64_t fetched = 0;
    int has_frac = json_get_double(src, "fraction_read", &frac), has_fetched = json_get_int(src, "bytes_fetched", &fetched);
    CHECK(has_frac && fabs(frac - 1.0) < 1e-9, "after reading all rows fraction_read is 1 (%g)", frac);
    CHECK(has_fetched && fetched >= (int64_t)row_bytes, "bytes_fetched counts the rows (%lld)", (long long)fetched);
    json_value *local_src;
    CHECK(remote_describe(l, &a, &local_src, &err) == LINEAGE_OK && json_get_string(local_src, "kind") &&
              !strcmp(json_get_string(local_src, "kind"), "local"),
          "remote_describe of a local model says kind local");
    arena_free(&a);
    lineage_model_close(r);

    /* reopened from the cache: one request resolves the revision, rows come from disk */
    CHECK(open_model("hf://org/base", &r, &err) == LINEAGE_OK, "hf://org/base reopens");
    CHECK(r && same_values(r, l), "values from the cache equal the local copy");
    uint64_t n2;
    log_bytes("access.log", NULL, &n2, 1);
    CHECK(n2 == 1, "a cached snapshot costs one request (the revision) (%llu)", (unsigned long long)n2);
    lineage_model_close(r);

    /* offline: the cache alone; a damaged range list only makes rows missing, never wrong */
    set_options(cache, 1, 0, 3);
    CHECK(open_model("hf://org/base", &r, &err) == LINEAGE_OK, "--offline opens a cached model (%s)", err.message);
    CHECK(r && same_values(r, l), "offline values equal the local copy");
    lineage_model_close(r);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "f=$(ls %s/*/org--base/snapshots/*/.model.safetensors.ranges) && head -c 60 $f > $f.x && mv $f.x $f", cache);
    CHECK(system(cmd) == 0, "the range list can be damaged for the test");
    CHECK(open_model("hf://org/base", &r, &err) != LINEAGE_OK, "offline with a damaged range list is refused: %s", err.message);
    set_options(cache, 0, 0, 3);
    CHECK(open_model("hf://org/base", &r, &err) == LINEAGE_OK && same_values(r, l),
          "online, a damaged range list is repaired by fetching again");
    lineage_model_close(r);
    char other[700];
    snprintf(other, sizeof other, "%s/cache-empty", work);
    set_options(other, 1, 0, 3);
    CHECK(open_model("hf://org/base", &r, &err) == LINEAGE_E_IO && strstr(err.message, "not in the cache"),
          "--offline without a cached copy fails clearly: %s", err.message);
    lineage_model_close(l);

    snprintf(zoo, sizeof zoo, "%s/zoo/base-sharded", shared_dir());
    set_options(cache, 0, 0, 3);
    CHECK(lineage_model_open(zoo, &l, &err) == LINEAGE_OK, "the local sharded model opens");
    CHECK(open_model("hf://org/base-sharded", &r, &err) == LINEAGE_OK, "hf://org/base-sharded opens (%s)", err.message);
    CHECK(r && l && same_values(r, l), "every tensor of the sharded remote model equals the local copy");
    lineage_model_close(r);
    lineage_model_close(l);
}

/* 100B-class layout: opening reads headers only; 1% of the rows of every tensor costs about 1% of the bytes. */
static void test_sparse_100b(void)
{
    lineage_model *r;
    lineage_error err;
    set_endpoint("http://127.0.0.1:%d", port);
    set_options(cache, 0, 0, 3);
    log_bytes("access.log", NULL, NULL, 1);
    CHECK(open_model("hf://org/sparse100b", &r, &err) == LINEAGE_OK, "hf://org/sparse100b opens (%s)", err.message);
    if (!r) return;
    uint64_t reqs, bytes = log_bytes("access.log", NULL, &reqs, 1);
    uint64_t total = r->total_bytes;
    CHECK(lineage_model_tensor_count(r) > 18000 && total > 200000000000ull, "the layout has %zu tensors, %llu bytes",
          lineage_model_tensor_count(r), (unsigned long long)total);
    CHECK((double)bytes < 0.001 * (double)total, "opening fetched %llu bytes in %llu requests: under 0.1%% of the checkpoint",
          (unsigned long long)bytes, (unsigned long long)reqs);
    /* 1% of the rows of every tensor, a deterministic block per tensor, all announced in one batch */
    size_t n = lineage_model_tensor_count(r);
    lineage_row_span *spans = calloc(n, sizeof *spans);
    uint64_t wanted = 0;
    size_t stride = getenv("LINEAGE_REMOTE_FULL_SAMPLE") ? 1 : 32;   /* every 32nd tensor keeps the test short */
    size_t ns = 0;
    for (size_t i = 0; spans && i < n; i += stride) {
        const lineage_tensor_info *t = lineage_model_tensor(r, i);
        uint64_t k = t->rows / 100 ? t->rows / 100 : 1;
        spans[ns] = (lineage_row_span){i, (i * 2654435761u) % (t->rows - k + 1), k};
        wanted += k * (t->nbytes / t->rows);
        ns++;
    }
    uint64_t sampled_total = 0;
    for (size_t i = 0; i < n; i += stride) sampled_total += lineage_model_tensor(r, i)->nbytes;
    CHECK(lineage_model_prefetch(r, spans, ns, &err) == LINEAGE_OK, "prefetching 1%% of rows of %zu tensors succeeds (%s)",
          ns, err.message);
    uint64_t rows_reqs, rows_bytes = log_bytes("access.log", NULL, &rows_reqs, 1);
    CHECK(rows_bytes == wanted, "exactly the sampled rows were fetched (%llu bytes, %llu wanted, %llu requests)",
          (unsigned long long)rows_bytes, (unsigned long long)wanted, (unsigned long long)rows_reqs);
    CHECK((double)(rows_bytes + bytes) < 0.02 * (double)sampled_total,
          "the sample cost %.3f%% of the sampled tensors' bytes (under 2%%)",
          100.0 * (double)(rows_bytes + bytes) / (double)sampled_total);
    /* reading them now touches no network */
    float *buf = malloc(64 * 8192 * sizeof *buf);
    int ok = buf != NULL;
    for (size_t i = 0; ok && i < ns; i++) {
        const lineage_tensor_info *t = lineage_model_tensor(r, spans[i].tensor);
        for (uint64_t row = spans[i].row0; ok && row < spans[i].row0 + spans[i].nrows; row += 64) {
            uint64_t k = spans[i].row0 + spans[i].nrows - row < 64 ? spans[i].row0 + spans[i].nrows - row : 64;
            ok = t->cols <= 8192 && !lineage_tensor_read_rows_f32(r, spans[i].tensor, row, k, buf, &err);
        }
    }
    uint64_t after;
    log_bytes("access.log", NULL, &after, 1);
    CHECK(ok && after == 0, "reading the prefetched rows makes no request (%llu)", (unsigned long long)after);
    free(buf);
    free(spans);
    lineage_model_close(r);
}

int main(void)
{
    if (!CHECK(server_start("test_remote"), "nginx and the fault proxy start on 127.0.0.1")) CHECK_EXIT();
    test_values_and_cache();
    test_sparse_100b();
    CHECK_EXIT();
}
