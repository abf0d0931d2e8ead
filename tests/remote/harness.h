/* Shared by the remote tests: starts nginx and the fault proxy (tests/remote/server.sh) under
 * $BUILD/work/NAME, reads nginx's access log, sets the endpoint and remote options. */
#ifndef LINEAGE_TESTS_REMOTE_HARNESS_H
#define LINEAGE_TESTS_REMOTE_HARNESS_H
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lineage.h"
#include "util/error.h"

static char work[512], logs[1200], cache[600];
static int port, port2, port3, proxy;
static char token[1200];

static void server_stop(void)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "tests/remote/server.sh stop %s", work);
    if (system(cmd) != 0) fprintf(stderr, "server stop failed\n");
}

static int server_start(const char *name)
{
    const char *build = getenv("BUILD");
    snprintf(work, sizeof work, "%s/work/%s", build && *build ? build : "build/rel", name);
    char cmd[4096];
    const char *b = build && *build ? build : "build/rel";
    /* a fresh folder each run: caches left by an earlier run would hide the faults under test */
    snprintf(cmd, sizeof cmd, "tests/remote/server.sh stop %s; rm -rf %s && mkdir -p %s && BUILD=%s tests/remote/server.sh start %s",
             work, work, work, b, work);
    if (system(cmd) != 0) return 0;
    atexit(server_stop);
    snprintf(cmd, sizeof cmd, "%s/env", work);
    FILE *f = fopen(cmd, "r");
    if (!f) return 0;
    char line[1200];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!strncmp(line, "PORT=", 5)) port = atoi(line + 5);
        else if (!strncmp(line, "PORT2=", 6)) port2 = atoi(line + 6);
        else if (!strncmp(line, "PORT3=", 6)) port3 = atoi(line + 6);
        else if (!strncmp(line, "PROXY=", 6)) proxy = atoi(line + 6);
        else if (!strncmp(line, "TOKEN=", 6)) snprintf(token, sizeof token, "%s", line + 6);
        else if (!strncmp(line, "LOGS=", 5)) snprintf(logs, sizeof logs, "%s", line + 5);
    }
    fclose(f);
    snprintf(cache, sizeof cache, "%s/cache", work);
    return port && port2 && port3 && proxy && logs[0];
}

/* Sums body bytes and counts lines of an access log that contain `needle`; clears the log when asked. */
static uint64_t log_bytes(const char *name, const char *needle, uint64_t *lines, int clear)
{
    char path[1300], line[2048];
    snprintf(path, sizeof path, "%s/%s", logs, name);
    usleep(20000);   /* nginx writes its log line after the response */
    FILE *f = fopen(path, "r");
    uint64_t bytes = 0, n = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long b;
        int status;
        if (needle && !strstr(line, needle)) continue;
        if (sscanf(line, "%*d %d %llu", &status, &b) == 2) {
            bytes += b;
            n++;
        }
    }
    if (f) fclose(f);
    if (clear) {
        f = fopen(path, "w");
        if (f) fclose(f);
    }
    if (lines) *lines = n;
    return bytes;
}

static void set_endpoint(const char *fmt, ...) LINEAGE_PRINTF(1, 2);
static void set_endpoint(const char *fmt, ...)
{
    char ep[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ep, sizeof ep, fmt, ap);
    va_end(ap);
    setenv("HF_ENDPOINT", ep, 1);
}

static void set_options(const char *cache_dir, int offline, uint64_t budget, int attempts)
{
    lineage_remote_options o = {0};
    o.cache_dir = cache_dir;
    o.offline = offline;
    o.budget_bytes = budget;
    o.stall_seconds = 1;
    o.deadline_seconds = 20;
    o.max_attempts = attempts;
    lineage_set_remote_options(&o);
}

/* Every value of every tensor of a remote model equals the local one. */
static int same_values(const lineage_model *r, const lineage_model *l)
{
    if (lineage_model_tensor_count(r) != lineage_model_tensor_count(l)) return 0;
    for (size_t i = 0; i < lineage_model_tensor_count(l); i++) {
        const lineage_tensor_info *a = lineage_model_tensor(l, i);
        long k = lineage_model_find_tensor(r, a->name);
        if (k < 0) return 0;
        const lineage_tensor_info *b = lineage_model_tensor(r, (size_t)k);
        if (a->rows != b->rows || a->cols != b->cols) return 0;
        float *x = malloc(a->rows * a->cols * sizeof *x + 4), *y = malloc(a->rows * a->cols * sizeof *y + 4);
        lineage_error e1, e2;
        int ok = x && y && !lineage_tensor_read_rows_f32(l, i, 0, a->rows, x, &e1) &&
                 !lineage_tensor_read_rows_f32(r, (size_t)k, 0, b->rows, y, &e2) &&
                 !memcmp(x, y, a->rows * a->cols * sizeof *x);
        free(x);
        free(y);
        if (!ok) return 0;
    }
    return 1;
}


#endif
