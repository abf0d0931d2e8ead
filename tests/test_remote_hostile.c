/* Remote models against a hostile or unlucky server (nginx + the fault proxy, tests/remote/server.sh): a
 * total time budget that slow-drip answers cannot stretch, announced sizes checked against the header and
 * the index, credentials in HF_ENDPOINT never written anywhere, progress kept across kill -9, and the number
 * of requests a remote compare costs. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "lineage.h"
#include "remote/harness.h"

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void options(const char *cache_dir, double timeout, double deadline)
{
    lineage_remote_options o = {0};
    o.cache_dir = cache_dir;
    o.stall_seconds = 1;
    o.deadline_seconds = deadline;
    o.max_attempts = 3;
    o.timeout_seconds = timeout;
    lineage_set_remote_options(&o);
}

/* A server sending one byte every 100 ms never stalls; only the run's total time can stop it. */
static void test_total_timeout(void)
{
    char dir[800];
    snprintf(dir, sizeof dir, "%s/cache-drip", work);
    set_endpoint("http://127.0.0.1:%d/f/drip/100000/t", proxy);
    options(dir, 2, 20);
    lineage_model *m = NULL;
    lineage_error err;
    memset(&err, 0, sizeof err);
    double t0 = seconds();
    lineage_status st = lineage_model_open("hf://org/base", &m, &err);
    double took = seconds() - t0;
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "--timeout") && !strchr(err.message, '\n'),
          "a slow-drip server ends in one I/O error naming --timeout: %s", err.message);
    CHECK(took < 8, "the 2 s total bounds the run although each request may take 20 s (%.1f s)", took);
    if (!st) lineage_model_close(m);
}

/* Files in a cache folder larger than limit bytes (apparent size: sparse files count in full). */
static int files_larger_than(const char *dir, long long limit)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "find '%s' -type f -size +%lldc | grep -q .", dir, limit);
    return system(cmd) == 0;
}

/* A server announcing a 1 TiB file for a 1.2 MB model; an index whose total_size is far below its shards. */
static void test_announced_sizes(void)
{
    char dir[800];
    snprintf(dir, sizeof dir, "%s/cache-bigsize", work);
    set_endpoint("http://127.0.0.1:%d/f/bigsize/100000/s", proxy);
    options(dir, 60, 20);
    lineage_model *m = NULL;
    lineage_error err;
    memset(&err, 0, sizeof err);
    lineage_status st = lineage_model_open("hf://org/base", &m, &err);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "announces a 1099511627776-byte file") &&
              strstr(err.message, "model.safetensors"),
          "a 1 TiB size announced for a 1.2 MB safetensors file is refused: %s", err.message);
    CHECK(!files_larger_than(dir, 64ll << 20), "and no cache file was sized to it");
    if (!st) lineage_model_close(m);
    snprintf(dir, sizeof dir, "%s/cache-smallindex", work);
    set_endpoint("http://127.0.0.1:%d", port);
    options(dir, 60, 20);
    st = lineage_model_open("hf://org/smallindex", &m, &err);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "total_size") && strstr(err.message, "index.json"),
          "shards describing far more bytes than the index's total_size are refused: %s", err.message);
    CHECK(!files_larger_than(dir, 64ll << 20), "no cache file is larger than the real shards");
    if (!st) lineage_model_close(m);
    /* the honest server: the same model opens */
    snprintf(dir, sizeof dir, "%s/cache-honest", work);
    options(dir, 60, 20);
    st = lineage_model_open("hf://org/base-sharded", &m, &err);
    CHECK(st == LINEAGE_OK, "the sharded model whose index agrees opens (%s)", st ? err.message : "");
    if (!st) lineage_model_close(m);
}

/* Nearby ranges of one large file travel in one request: every other row of 200 rows of the embedding of the
 * 100B-class layout (rows of 12 KiB, gaps of 12 KiB) costs one request, not 200. */
static void test_coalescing(void)
{
    char dir[800];
    snprintf(dir, sizeof dir, "%s/cache-coalesce", work);
    set_endpoint("http://127.0.0.1:%d", port);
    set_options(dir, 0, 0, 3);
    lineage_model *m = NULL;
    lineage_error err;
    lineage_status st = lineage_model_open("hf://org/sparse100b", &m, &err);
    CHECK(st == LINEAGE_OK, "hf://org/sparse100b opens (%s)", st ? err.message : "");
    if (st) return;
    long embed = lineage_model_find_tensor(m, "model.embed_tokens.weight");
    lineage_row_span spans[100];
    for (int i = 0; i < 100; i++) spans[i] = (lineage_row_span){(size_t)embed, 1000 + 2 * (uint64_t)i, 1};
    log_bytes("access.log", NULL, NULL, 1);
    st = embed >= 0 ? lineage_model_prefetch(m, spans, 100, &err) : LINEAGE_E_USAGE;
    uint64_t reqs, bytes = log_bytes("access.log", NULL, &reqs, 1);
    const lineage_tensor_info *t = embed >= 0 ? lineage_model_tensor(m, (size_t)embed) : NULL;
    uint64_t row = t ? t->nbytes / t->rows : 0;
    CHECK(st == LINEAGE_OK && reqs == 1 && bytes == 199 * row,
          "100 rows two rows apart came in %llu request(s) of %llu bytes (%llu wanted, gaps included)",
          (unsigned long long)reqs, (unsigned long long)bytes, (unsigned long long)(199 * row));
    float *buf = t ? malloc(t->cols * sizeof *buf) : NULL;
    int ok = buf != NULL;
    for (int i = 0; ok && i < 100; i++) ok = !lineage_tensor_read_rows_f32(m, (size_t)embed, spans[i].row0, 1, buf, &err);
    log_bytes("access.log", NULL, &reqs, 1);
    CHECK(ok && reqs == 0, "reading those rows then makes no request (%llu)", (unsigned long long)reqs);
    free(buf);
    lineage_model_close(m);
}

int main(void)
{
    if (!CHECK(server_start("test_remote_hostile"), "nginx and the fault proxy start on 127.0.0.1")) CHECK_EXIT();
    (void)same_values;
    test_total_timeout();
    test_announced_sizes();
    test_coalescing();
    lineage_set_remote_options(NULL);
    CHECK_EXIT();
}
