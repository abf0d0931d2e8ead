/* Remote models when the server misbehaves (the fault proxy in front of nginx) or the input is bad:
 * transient faults are retried and end in the right values; everything else ends in one clear error. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io/cache.h"

#include "check.h"
#include "lineage.h"
#include "remote/harness.h"

static lineage_model *local_base;
static char zoo_base[1024];

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Opens hf://org/base through the proxy with MODE applied to the first N requests (KEY keeps counts apart),
 * in a fresh cache folder, and reads every tensor. */
static lineage_status through_proxy(const char *mode, int n, const char *key, int attempts, lineage_error *err,
                                    int *values_equal)
{
    char dir[800];
    snprintf(dir, sizeof dir, "%s/cache-%s", work, key);
    set_endpoint("http://127.0.0.1:%d/f/%s/%d/%s", proxy, mode, n, key);
    set_options(dir, 0, 0, attempts);
    lineage_model *m;
    memset(err, 0, sizeof *err);
    lineage_status st = lineage_model_open("hf://org/base", &m, err);
    *values_equal = 0;
    if (st) return st;
    /* every tensor read remotely, compared with the local copy; the first failed read is the result */
    *values_equal = lineage_model_tensor_count(m) == lineage_model_tensor_count(local_base);
    float *x = NULL, *y = NULL;
    for (size_t i = 0; !st && *values_equal && i < lineage_model_tensor_count(m); i++) {
        const lineage_tensor_info *t = lineage_model_tensor(m, i);
        long k = lineage_model_find_tensor(local_base, t->name);
        size_t bytes = t->rows * t->cols * sizeof *x + 4;
        float *x2 = realloc(x, bytes), *y2 = x2 ? realloc(y, bytes) : NULL;
        if (x2) x = x2;
        if (y2) y = y2;
        lineage_error local_err;
        if (!x2 || !y2 || k < 0 || lineage_tensor_read_rows_f32(local_base, (size_t)k, 0, t->rows, y, &local_err)) {
            *values_equal = 0;
            break;
        }
        st = lineage_tensor_read_rows_f32(m, i, 0, t->rows, x, err);
        if (!st) *values_equal = !memcmp(x, y, t->rows * t->cols * sizeof *x);
    }
    if (st) *values_equal = 0;
    free(x);
    free(y);
    lineage_model_close(m);
    return st;
}

static void test_transient_faults(void)
{
    lineage_error err;
    int eq;
    lineage_remote_progress p0, p1;
    lineage_remote_progress_get(&p0);
    CHECK(through_proxy("500", 2, "a", 4, &err, &eq) == LINEAGE_OK && eq,
          "two HTTP 500 answers are retried and the values are right (%s)", err.message);
    lineage_remote_progress_get(&p1);
    CHECK(p1.requests - p0.requests >= 14, "the retries were counted as requests (%llu)",
          (unsigned long long)(p1.requests - p0.requests));
    CHECK(through_proxy("429", 1, "b", 3, &err, &eq) == LINEAGE_OK && eq, "HTTP 429 is retried (%s)", err.message);
    CHECK(through_proxy("row-reset", 2, "c", 4, &err, &eq) == LINEAGE_OK && eq,
          "connections reset mid-body are resumed and the values are right (%s)", err.message);
    CHECK(through_proxy("row-trunc", 2, "d", 4, &err, &eq) == LINEAGE_OK && eq,
          "truncated bodies are fetched again and the values are right (%s)", err.message);
    CHECK(through_proxy("trunc", 1, "e", 3, &err, &eq) == LINEAGE_OK && eq,
          "a truncated small file is fetched again (%s)", err.message);
    double t0 = seconds();
    CHECK(through_proxy("row-slow", 1, "f", 3, &err, &eq) == LINEAGE_OK && eq,
          "a stalled response times out and the retry succeeds (%s)", err.message);
    CHECK(seconds() - t0 < 8, "the stall was detected within the 1 s stall limit (%.1f s)", seconds() - t0);
}

static void test_permanent_faults(void)
{
    lineage_error err;
    int eq;
    double t0 = seconds();
    lineage_status st = through_proxy("500", 1000, "g", 3, &err, &eq);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "http://127.0.0.1") && strstr(err.message, "gave up after 3 attempts") &&
          strstr(err.message, "HTTP 500"), "a server that keeps failing gives one error naming the URL: %s", err.message);
    CHECK(seconds() - t0 < 5, "giving up takes a bounded time (%.1f s)", seconds() - t0);
    t0 = seconds();
    st = through_proxy("row-slow", 1000, "h", 2, &err, &eq);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "gave up") && strstr(err.message, "model.safetensors"),
          "a server that stalls on every range gives a clear error: %s", err.message);
    CHECK(seconds() - t0 < 8, "the stalled fetch gave up within %.1f s", seconds() - t0);
    st = through_proxy("row-badrange", 1000, "i", 3, &err, &eq);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "Content-Range"), "a wrong Content-Range is an error: %s", err.message);
    lineage_remote_progress p0, p1;
    lineage_remote_progress_get(&p0);
    st = through_proxy("row-norange", 1000, "j", 3, &err, &eq);
    lineage_remote_progress_get(&p1);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "ignored the Range"),
          "a server answering 200 to a range request is an error: %s", err.message);
    CHECK(p1.bytes_fetched - p0.bytes_fetched < 200000, "and the whole file was not downloaded (%llu bytes)",
          (unsigned long long)(p1.bytes_fetched - p0.bytes_fetched));
    lineage_model *m;
    set_endpoint("http://127.0.0.1:%d", port);
    set_options(cache, 0, 0, 3);
    st = lineage_model_open("hf://org/norange", &m, &err);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "ignored the Range"),
          "nginx with max_ranges 0 (a 200 to the header request) is refused: %s", err.message);
}

static void test_auth_and_redirects(void)
{
    lineage_error err;
    lineage_model *m;
    set_endpoint("http://127.0.0.1:%d", port);
    set_options(cache, 0, 0, 3);
    unsetenv("HF_TOKEN");
    lineage_status st = lineage_model_open("hf://org/private", &m, &err);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "401") && strstr(err.message, "HF_TOKEN"),
          "a private repository without a token fails with a hint about HF_TOKEN: %s", err.message);
    setenv("HF_TOKEN", "wrong", 1);
    st = lineage_model_open("hf://org/private", &m, &err);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "HF_TOKEN") && strstr(err.message, "not accepted"),
          "a wrong token says the token was not accepted: %s", err.message);
    setenv("HF_TOKEN", token, 1);
    st = lineage_model_open("hf://org/private", &m, &err);
    CHECK(st == LINEAGE_OK && same_values(m, local_base), "with HF_TOKEN the private repository opens (%s)",
          st ? err.message : "");
    if (!st) lineage_model_close(m);
    log_bytes("access.log", NULL, NULL, 1);
    log_bytes("access2.log", NULL, NULL, 1);
    st = lineage_model_open("hf://org/redir", &m, &err);
    CHECK(st == LINEAGE_OK && same_values(m, local_base), "a repository redirecting to another origin opens (%s)",
          st ? err.message : "");
    if (!st) lineage_model_close(m);
    char bearer[1300];
    snprintf(bearer, sizeof bearer, "\"Bearer %s\"", token);
    uint64_t to_endpoint, to_other, to_other_with_token;
    log_bytes("access.log", bearer, &to_endpoint, 1);
    log_bytes("access2.log", NULL, &to_other, 0);
    log_bytes("access2.log", "Bearer", &to_other_with_token, 1);
    CHECK(to_endpoint > 0, "the token went to the endpoint (%llu requests)", (unsigned long long)to_endpoint);
    CHECK(to_other > 0 && to_other_with_token == 0,
          "the token never went to the other origin (%llu requests there, %llu with a token)",
          (unsigned long long)to_other, (unsigned long long)to_other_with_token);
    unsetenv("HF_TOKEN");
}

static void test_bad_input(void)
{
    lineage_error err;
    lineage_model *m;
    set_endpoint("http://127.0.0.1:%d", port);
    set_options(cache, 0, 0, 3);
    static const char *bad_urls[] = {"hf://", "hf://org", "hf://org/", "hf://org/a/b", "hf://../x", "hf://org/..",
                                     "hf://org/name@", "hf://org/na me", "hf://org/name@../../x", "hf://@main/x"};
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        lineage_status st = lineage_model_open(bad_urls[i], &m, &err);
        CHECK(st == LINEAGE_E_USAGE && strchr(err.message, '\n') == NULL, "'%s' is a usage error: %s", bad_urls[i],
              err.message);
    }
    lineage_status st = lineage_model_open("hf://org/nothere", &m, &err);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "404") && strstr(err.message, "unknown repository"),
          "an unknown repository is a clear 404 error: %s", err.message);
    st = lineage_model_open("hf://org/badjson", &m, &err);
    CHECK(st == LINEAGE_E_FORMAT && strstr(err.message, "config.json"), "config.json that does not parse: %s", err.message);
    st = lineage_model_open("hf://org/hugeheader", &m, &err);
    CHECK(st == LINEAGE_E_FORMAT && strstr(err.message, "exceeds"), "a 256 MiB safetensors header is refused: %s",
          err.message);
    st = lineage_model_open("hf://org/badindex", &m, &err);
    CHECK(st == LINEAGE_E_FORMAT && strstr(err.message, "weight_map"), "an index naming ../ paths is refused: %s",
          err.message);
    char dir[800];
    snprintf(dir, sizeof dir, "%s/cache-budget", work);
    set_options(dir, 0, 20000, 3);
    st = lineage_model_open("hf://org/base", &m, &err);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "budget"), "a budget smaller than the headers stops the open: %s",
          err.message);
    snprintf(dir, sizeof dir, "%s/cache-budget2", work);
    set_options(dir, 0, 400000, 3);
    st = lineage_model_open("hf://org/base", &m, &err);
    CHECK(st == LINEAGE_OK, "a budget of 400 kB is enough to open hf://org/base (%s)", st ? err.message : "");
    if (!st) {
        const lineage_tensor_info *t = NULL;
        float *buf = NULL;
        for (size_t i = 0; !st && i < lineage_model_tensor_count(m); i++) {
            t = lineage_model_tensor(m, i);
            float *b2 = realloc(buf, t->rows * t->cols * sizeof *buf + 4);
            if (!b2) break;
            buf = b2;
            st = lineage_tensor_read_rows_f32(m, i, 0, t->rows, buf, &err);
        }
        free(buf);
        lineage_remote_progress p;
        lineage_remote_progress_get(&p);
        CHECK(st == LINEAGE_E_IO && strstr(err.message, "budget") && strstr(err.message, "tensor '"),
              "reading past the budget fails naming the tensor: %s", err.message);
        lineage_model_close(m);
    }
    set_options(cache, 0, 0, 3);
    set_endpoint("ftp://127.0.0.1:%d", port);
    st = lineage_model_open("hf://org/base", &m, &err);
    CHECK(st == LINEAGE_E_USAGE && strstr(err.message, "HF_ENDPOINT"), "a non-http endpoint is refused: %s", err.message);
}

/* The bytes of span [b, e) of the cache file equal those of the local copy. */
static int same_bytes(const char *cached, const char *local, uint64_t b, uint64_t e)
{
    FILE *x = fopen(cached, "rb"), *y = fopen(local, "rb");
    int ok = x && y && fseek(x, (long)b, SEEK_SET) == 0 && fseek(y, (long)b, SEEK_SET) == 0;
    for (uint64_t i = b; ok && i < e; i++) ok = fgetc(x) == fgetc(y);
    if (x) fclose(x);
    if (y) fclose(y);
    return ok;
}

/* A run killed (kill -9) while a range is half fetched keeps what arrived: its range list claims the bytes
 * that were written, and only those (each equal to the model's); the next run fetches only the rest and
 * reads the right values. */
static void test_interrupted_run(void)
{
    char dir[800];
    snprintf(dir, sizeof dir, "%s/cache-killed", work);
    char cmd[4096], path[1200] = "";
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return;
    set_endpoint("http://127.0.0.1:%d/f/row-stall/1/killed", proxy);
    pid_t child = fork();
    if (child == 0) {
        lineage_remote_options o = {0};
        o.cache_dir = dir;
        o.stall_seconds = 30;
        lineage_set_remote_options(&o);
        lineage_model *m;
        lineage_error err;
        if (lineage_model_open("hf://org/base", &m, &err) == LINEAGE_OK) same_values(m, local_base);
        _exit(0);
    }
    usleep(3000000);   /* the row request sends half its body at once, then stalls for 20 s */
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    CHECK(WIFSIGNALED(status), "the fetching run was killed mid-body");
    snprintf(cmd, sizeof cmd, "ls %s/*/org--base/snapshots/*/.model.safetensors.ranges", dir);
    FILE *ls = popen(cmd, "r");
    if (ls && fgets(path, sizeof path, ls)) path[strcspn(path, "\n")] = 0;
    if (ls) pclose(ls);
    cache_ranges have = {0};
    cache_ranges_load(path, &have);
    char data[1200], local[1100];
    snprintf(data, sizeof data, "%.*s/model.safetensors", (int)(strrchr(path, '/') - path), path);
    snprintf(local, sizeof local, "%s/model.safetensors", zoo_base);
    uint64_t claimed = cache_ranges_bytes(&have);
    int all_written = have.n > 0;
    for (size_t i = 0; i < have.n; i++) all_written &= same_bytes(data, local, have.spans[i].begin, have.spans[i].end);
    CHECK(all_written, "every byte the range list claims holds the model's byte (%zu spans)", have.n);
    unsigned char len8[8] = {0};
    FILE *lf = fopen(local, "rb");
    if (lf) {
        if (fread(len8, 1, 8, lf) != 8) memset(len8, 0, 8);
        fclose(lf);
    }
    uint64_t header = 8;
    for (int i = 0; i < 8; i++) header += (uint64_t)len8[i] << (8 * i);
    CHECK(claimed > header + 4096, "the killed run kept the rows it had fetched, not just the %llu-byte header (%llu bytes claimed)",
          (unsigned long long)header, (unsigned long long)claimed);
    set_options(dir, 0, 0, 3);   /* the same endpoint (and cache folder); the proxy stalled one request only */
    log_bytes("access.log", NULL, NULL, 1);
    lineage_model *m;
    lineage_error err;
    lineage_status st = lineage_model_open("hf://org/base", &m, &err);
    CHECK(st == LINEAGE_OK && same_values(m, local_base), "the next run reads the right values (%s)", st ? err.message : "");
    uint64_t rows_bytes = log_bytes("access.log", " 206 ", NULL, 1);
    CHECK(rows_bytes + claimed <= have.size + 1024, "it fetched only what was missing (%llu bytes + %llu kept of %llu)",
          (unsigned long long)rows_bytes, (unsigned long long)claimed, (unsigned long long)have.size);
    cache_ranges_free(&have);
    if (!st) lineage_model_close(m);
}

/* TLS verification is on: a self-signed certificate is refused. */
static void test_tls_verification(void)
{
    lineage_model *m;
    lineage_error err;
    set_endpoint("https://127.0.0.1:%d", port3);
    set_options(cache, 0, 0, 2);
    lineage_status st = lineage_model_open("hf://org/base", &m, &err);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "https://127.0.0.1") && strstr(err.message, "certificate"),
          "a server with a self-signed certificate is refused: %s", err.message);
    if (!st) lineage_model_close(m);
}

int main(void)
{
    if (!CHECK(server_start("test_remote_faults"), "nginx and the fault proxy start on 127.0.0.1")) CHECK_EXIT();
    lineage_error err;
    snprintf(zoo_base, sizeof zoo_base, "%s/zoo/base", shared_dir());
    if (!CHECK(lineage_model_open(zoo_base, &local_base, &err) == LINEAGE_OK, "the local base model opens")) CHECK_EXIT();
    test_transient_faults();
    test_permanent_faults();
    test_auth_and_redirects();
    test_bad_input();
    test_interrupted_run();
    test_tls_verification();
    lineage_model_close(local_base);
    lineage_set_remote_options(NULL);
    CHECK_EXIT();
}
