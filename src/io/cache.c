#include "io/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/file.h"
#include "util/error.h"

#define RANGES_MAGIC "lineage-cache-ranges 1"
#define RANGES_MAX_BYTES (64u << 20)

char *cache_default_root(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/') return path_join(xdg, "lineage");
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    return path_join(home, ".cache/lineage");
}

lineage_status cache_mkdirs(const char *path, lineage_error *err)
{
    char *p = strdup(path);
    if (!p) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s) continue;
        char c = *s;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            int e = errno;
            lineage_status st = error_set(err, LINEAGE_E_IO, "%s: cannot create cache folder: %s", p, strerror(e));
            free(p);
            return st;
        }
        if (!c) break;
        *s = c;
    }
    free(p);
    return path_is_dir(path) ? LINEAGE_OK : error_set(err, LINEAGE_E_IO, "%s: not a folder", path);
}

static int write_full(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        p += w;
        len -= (size_t)w;
    }
    return 1;
}

lineage_status cache_write_atomic(const char *path, const void *data, size_t len, lineage_error *err)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ok = fd >= 0 && write_full(fd, data, len) && fdatasync(fd) == 0;
    int e = errno;
    if (fd >= 0 && close(fd) != 0) ok = 0;
    if (ok && rename(tmp, path) != 0) { ok = 0; e = errno; }
    if (!ok) unlink(tmp);
    free(tmp);
    return ok ? LINEAGE_OK : error_set(err, LINEAGE_E_IO, "%s: cannot write to the cache: %s", path, strerror(e));
}

void cache_ranges_free(cache_ranges *r)
{
    free(r->spans);
    r->spans = NULL;
    r->n = r->cap = 0;
}

static int ranges_push(cache_ranges *r, uint64_t b, uint64_t e)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        cache_span *s = realloc(r->spans, cap * sizeof *s);
        if (!s) return 0;
        r->spans = s;
        r->cap = cap;
    }
    r->spans[r->n++] = (cache_span){b, e};
    return 1;
}

void cache_ranges_load(const char *path, cache_ranges *r)
{
    char etag[128] = "";
    uint64_t size = 0;
    cache_ranges_free(r);
    r->size = 0;
    r->etag[0] = 0;
    char *text;
    size_t len;
    if (!path_is_file(path) || file_read_all(path, RANGES_MAX_BYTES, &text, &len, NULL)) return;
    char *line = text, *next;
    int ok = 1, nline = 0;
    uint64_t last_end = 0;
    for (; ok && line && *line; line = next, nline++) {
        next = strchr(line, '\n');
        if (!next) { ok = 0; break; }   /* every line ends with a newline: a cut file is damaged */
        *next++ = 0;
        unsigned long long a, b;
        char tail;
        if (nline == 0) ok = !strcmp(line, RANGES_MAGIC);
        else if (nline == 1) ok = sscanf(line, "size %llu%c", &a, &tail) == 1 && (size = a, 1);
        else if (nline == 2) ok = !strncmp(line, "etag ", 5) && strlen(line + 5) < sizeof etag && (strcpy(etag, line + 5), 1);
        else ok = sscanf(line, "%llu %llu%c", &a, &b, &tail) == 2 && a < b && b <= size &&
                  (r->n == 0 || a > last_end) && ranges_push(r, a, b) && (last_end = b, 1);
    }
    free(text);
    if (!ok || nline < 3) {
        cache_ranges_free(r);
        return;
    }
    r->size = size;
    memcpy(r->etag, etag, sizeof etag);
}

lineage_status cache_ranges_save(const char *path, const cache_ranges *r, lineage_error *err)
{
    size_t cap = 256 + r->n * 44;
    char *buf = malloc(cap);
    if (!buf) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t n = (size_t)snprintf(buf, cap, "%s\nsize %llu\netag %s\n", RANGES_MAGIC, (unsigned long long)r->size, r->etag);
    for (size_t i = 0; i < r->n && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%llu %llu\n", (unsigned long long)r->spans[i].begin,
                              (unsigned long long)r->spans[i].end);
    lineage_status st = cache_write_atomic(path, buf, n, err);
    free(buf);
    return st;
}

int cache_ranges_add(cache_ranges *r, uint64_t begin, uint64_t end)
{
    if (begin >= end) return 1;
    /* first span that ends at or after begin (touching spans merge) */
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->spans[mid].end < begin) lo = mid + 1;
        else hi = mid;
    }
    size_t k = lo;
    while (k < r->n && r->spans[k].begin <= end) {
        if (r->spans[k].begin < begin) begin = r->spans[k].begin;
        if (r->spans[k].end > end) end = r->spans[k].end;
        k++;
    }
    if (k > lo) {   /* replace spans [lo, k) with the merged one */
        r->spans[lo] = (cache_span){begin, end};
        memmove(r->spans + lo + 1, r->spans + k, (r->n - k) * sizeof *r->spans);
        r->n -= k - lo - 1;
        return 1;
    }
    if (!ranges_push(r, 0, 0)) return 0;
    memmove(r->spans + lo + 1, r->spans + lo, (r->n - 1 - lo) * sizeof *r->spans);
    r->spans[lo] = (cache_span){begin, end};
    return 1;
}

int cache_ranges_each_missing(const cache_ranges *r, uint64_t begin, uint64_t end,
                              int (*fn)(uint64_t begin, uint64_t end, void *user), void *user)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->spans[mid].end <= begin) lo = mid + 1;
        else hi = mid;
    }
    uint64_t at = begin;
    for (size_t k = lo; k < r->n && at < end; k++) {
        if (r->spans[k].begin > at) {
            uint64_t stop = r->spans[k].begin < end ? r->spans[k].begin : end;
            int rc = fn(at, stop, user);
            if (rc) return rc;
        }
        if (r->spans[k].end > at) at = r->spans[k].end;
    }
    return at < end ? fn(at, end, user) : 0;
}

uint64_t cache_ranges_bytes(const cache_ranges *r)
{
    uint64_t n = 0;
    for (size_t i = 0; i < r->n; i++) n += r->spans[i].end - r->spans[i].begin;
    return n;
}
