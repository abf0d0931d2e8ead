#include "io/http.h"

#include <ctype.h>
#include <stdarg.h>
/* libcurl is loaded on first use (io/dynlib.h): its calls go through the table below, which the
 * header's gcc type-checking macros would hide */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/dynlib.h"
#include "util/error.h"

#define CURL_FUNCTIONS(X, T) \
    X(T, curl_global_init) \
    X(T, curl_easy_init) \
    X(T, curl_easy_cleanup) \
    X(T, curl_easy_reset) \
    X(T, curl_easy_setopt) \
    X(T, curl_easy_getinfo) \
    X(T, curl_easy_strerror) \
    X(T, curl_free) \
    X(T, curl_multi_init) \
    X(T, curl_multi_cleanup) \
    X(T, curl_multi_add_handle) \
    X(T, curl_multi_remove_handle) \
    X(T, curl_multi_perform) \
    X(T, curl_multi_poll) \
    X(T, curl_multi_info_read) \
    X(T, curl_slist_append) \
    X(T, curl_slist_free_all) \
    X(T, curl_url) \
    X(T, curl_url_cleanup) \
    X(T, curl_url_get) \
    X(T, curl_url_set)
DYNLIB_DEFINE(libcurl, CURL_FUNCTIONS, "libcurl", "libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so");

enum { X_WAITING, X_RUNNING, X_DONE };
/* What the header callback decided about the response being received. */
enum { D_NONE, D_BODY, D_REDIRECT, D_RETRY, D_FATAL, D_NOT_FOUND };

typedef struct xfer {
    http_job *job;
    http_client *client;
    size_t cap;                 /* memory sink capacity */
    CURL *easy;
    struct curl_slist *headers;
    char *url;                  /* this hop's URL */
    int state, hops, attempts;
    double started, not_before;
    /* the response in progress */
    int status, decision;
    uint64_t expect;            /* body bytes this response must carry (ranged) */
    uint64_t range_begin;       /* first byte this attempt asked for */
    char location[4096];
    char resp_etag[HTTP_ETAG_MAX];
    double retry_after;
    char why[512];              /* what the last failure was */
    char curl_err[CURL_ERROR_SIZE];
} xfer;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_status;
static void curl_init(void) { curl_init_status = libcurl.curl_global_init(CURL_GLOBAL_DEFAULT); }

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *http_format_bytes(uint64_t n, char *buf, size_t size)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) { v /= 1024; u++; }
    if (u == 0) snprintf(buf, size, "%llu B", (unsigned long long)n);
    else snprintf(buf, size, "%.1f %s", v, units[u]);
    return buf;
}

/* "scheme://host:port" with the scheme's default port filled in; NULL when the URL does not parse. */
static char *url_origin(const char *url)
{
    CURLU *u = libcurl.curl_url();
    if (!u) return NULL;
    char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;
    if (libcurl.curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        libcurl.curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        libcurl.curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        libcurl.curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        size_t n = strlen(scheme) + strlen(host) + strlen(port) + 5;
        out = malloc(n);
        if (out) {
            snprintf(out, n, "%s://%s:%s", scheme, host, port);
            for (char *p = out; *p; p++) *p = (char)tolower((unsigned char)*p);
        }
    }
    libcurl.curl_free(scheme);
    libcurl.curl_free(host);
    libcurl.curl_free(port);
    libcurl.curl_url_cleanup(u);
    return out;
}

lineage_status http_client_init(http_client *c, const char *endpoint, const char *token, const http_limits *limits,
                                http_meter *meter, lineage_error *err)
{
    memset(c, 0, sizeof *c);
    lineage_status ld = dynlib_load(&libcurl_lib, endpoint, err);
    if (ld) return ld;
    pthread_once(&curl_once, curl_init);
    if (curl_init_status != CURLE_OK) return error_set(err, LINEAGE_E_IO, "cannot initialize libcurl");
    if (strncmp(endpoint, "https://", 8) && strncmp(endpoint, "http://", 7))
        return error_set(err, LINEAGE_E_USAGE, "HF_ENDPOINT '%s' is not an http:// or https:// URL", endpoint);
    c->origin = url_origin(endpoint);
    if (!c->origin) return error_set(err, LINEAGE_E_USAGE, "HF_ENDPOINT '%s' is not a valid URL", endpoint);
    if (token && *token && !(c->token = strdup(token))) {
        http_client_free(c);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    c->limits = *limits;
    c->meter = meter;
    return LINEAGE_OK;
}

static char *percent_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            out[k++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else out[k++] = s[i];
    }
    out[k] = 0;
    return out;
}

int http_split_credentials(const char *url, char **clean, char **user, char **password)
{
    *clean = *user = *password = NULL;
    const char *sep = strstr(url, "://");
    const char *host = sep ? sep + 3 : url;
    size_t authority = strcspn(host, "/?#");
    const char *at = NULL;
    for (const char *p = host; p < host + authority; p++)
        if (*p == '@') at = p;
    if (!at) return (*clean = strdup(url)) != NULL;
    size_t head = (size_t)(host - url);
    *clean = malloc(strlen(url) + 1);
    if (!*clean) return 0;
    memcpy(*clean, url, head);
    strcpy(*clean + head, at + 1);
    const char *colon = memchr(host, ':', (size_t)(at - host));
    *user = percent_decode(host, (size_t)((colon ? colon : at) - host));
    *password = colon ? percent_decode(colon + 1, (size_t)(at - colon - 1)) : strdup("");
    if (*user && *password) return 1;
    free(*clean);
    free(*user);
    free(*password);
    *clean = *user = *password = NULL;
    return 0;
}

void http_client_free(http_client *c)
{
    if (c->multi) libcurl.curl_multi_cleanup(c->multi);
    free(c->origin);
    free(c->token);
    free(c->user);
    free(c->password);
    memset(c, 0, sizeof *c);
}

void http_job_free(http_job *j)
{
    free(j->body);
    j->body = NULL;
}

/* Counts bytes and requests; returns 0 when the bytes crossed the budget. */
static int meter_count(http_client *c, uint64_t bytes, uint64_t requests)
{
    c->bytes += bytes;
    c->requests += requests;
    http_meter *m = c->meter;
    if (!m) return 1;
    pthread_mutex_lock(&m->lock);
    double t = now_seconds();
    if (m->started == 0) m->started = t;
    m->bytes += bytes;
    m->requests += requests;
    int report = m->progress && t - m->last_report >= 0.25;
    lineage_remote_progress p = {m->bytes, m->requests, t - m->started};
    if (report) m->last_report = t;
    void (*cb)(const lineage_remote_progress *, void *) = m->progress;
    void *user = m->progress_user;
    int within = !m->budget || m->bytes - m->budget_base <= m->budget;
    pthread_mutex_unlock(&m->lock);
    if (report) cb(&p, user);
    return within;
}

void http_meter_release(http_meter *m, uint64_t bytes)
{
    pthread_mutex_lock(&m->lock);
    m->reserved = m->reserved > bytes ? m->reserved - bytes : 0;
    pthread_mutex_unlock(&m->lock);
}

void http_meter_snapshot(http_meter *m, lineage_remote_progress *out)
{
    pthread_mutex_lock(&m->lock);
    out->bytes_fetched = m->bytes;
    out->requests = m->requests;
    out->seconds = m->started ? now_seconds() - m->started : 0;
    pthread_mutex_unlock(&m->lock);
}

lineage_status http_meter_reserve(http_meter *m, uint64_t bytes, const char *what, lineage_error *err)
{
    pthread_mutex_lock(&m->lock);
    uint64_t used = m->bytes - m->budget_base + m->reserved, budget = m->budget;
    int over = budget && (used > budget || bytes > budget - used);
    if (!over) m->reserved += bytes;
    pthread_mutex_unlock(&m->lock);
    if (!over) return LINEAGE_OK;
    char a[32], b[32], c[32];
    return error_set(err, LINEAGE_E_IO, "%s: fetch budget of %s would be exceeded (%s fetched, %s more needed); "
                     "raise --budget", what, http_format_bytes(budget, a, sizeof a),
                     http_format_bytes(used, b, sizeof b), http_format_bytes(bytes, c, sizeof c));
}

/* Seconds left of the run's total time (starting its clock at the first request); HUGE_VAL when unlimited. */
static double total_left(http_client *c, double now)
{
    http_meter *m = c->meter;
    if (!m) return HUGE_VAL;
    pthread_mutex_lock(&m->lock);
    if (m->timeout > 0 && m->deadline == 0) m->deadline = now + m->timeout;
    double left = m->timeout > 0 ? m->deadline - now : HUGE_VAL;
    pthread_mutex_unlock(&m->lock);
    return left;
}

static lineage_status timeout_error(const http_client *c, const http_job *j, const char *why, lineage_error *err)
{
    return error_set(err, LINEAGE_E_IO, "%s: gave up: the total time for fetching (%g s, --timeout) ran out%s%s", j->url,
                     c->meter->timeout, why && *why ? "; last failure: " : "", why ? why : "");
}

static int header_is(const char *line, size_t n, const char *name, const char **value, size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) || line[k] != ':') return 0;
    const char *v = line + k + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t')) end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return 1;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t n)
{
    if (n >= cap) n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = 0;
}

/* Parses "bytes A-B/T" (T may not be "*"). */
static int parse_content_range(const char *v, size_t n, uint64_t *a, uint64_t *b, uint64_t *t)
{
    char buf[128];
    if (n >= sizeof buf) return 0;
    memcpy(buf, v, n);
    buf[n] = 0;
    unsigned long long x, y, z;
    char tail;
    if (sscanf(buf, "bytes %llu-%llu/%llu%c", &x, &y, &z, &tail) != 3 || x > y || y >= z) return 0;
    *a = x;
    *b = y;
    *t = z;
    return 1;
}

static void fail_with(xfer *x, int decision, const char *fmt, ...) LINEAGE_PRINTF(3, 4);
static void fail_with(xfer *x, int decision, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->why, sizeof x->why, fmt, ap);
    va_end(ap);
    x->decision = decision;
}

/* Decides, once the headers of a response are in, whether its body is wanted. */
static void on_headers_end(xfer *x)
{
    http_job *j = x->job;
    int s = x->status;
    if (s >= 300 && s < 400 && s != 304) {
        if (!x->location[0]) fail_with(x, D_FATAL, "HTTP %d redirect without a Location", s);
        else x->decision = D_REDIRECT;
        return;
    }
    if (s == 429 || s >= 500) {
        fail_with(x, D_RETRY, "HTTP %d", s);
        return;
    }
    if (s == 404 || s == 410) { x->decision = D_NOT_FOUND; return; }
    if (s == 401 || s == 403) {
        fail_with(x, D_FATAL, "HTTP %d (%s)%s%s: %s", s, s == 401 ? "authentication required" : "access denied",
                  j->error_code[0] ? " " : "", j->error_code,
                  getenv("HF_TOKEN") && *getenv("HF_TOKEN")
                      ? "the token in HF_TOKEN is not accepted for this repository (gated or private?)"
                      : "set HF_TOKEN to an access token that can read this repository");
        return;
    }
    if (j->ranged) {
        if (s == 200) {
            fail_with(x, D_FATAL, "server ignored the Range request (HTTP 200 instead of 206); refusing to "
                                  "download the whole file");
            return;
        }
        if (s != 206) { fail_with(x, D_FATAL, "HTTP %d to a Range request", s); return; }
        return;   /* Content-Range checked in on_header as it arrives; a 206 without one is caught below */
    }
    if (s != 200) { fail_with(x, D_FATAL, "unexpected HTTP %d", s); return; }
    x->decision = D_BODY;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *user)
{
    xfer *x = user;
    http_job *j = x->job;
    size_t n = size * nitems;
    const char *v;
    size_t vl;
    if (n >= 5 && !strncmp(line, "HTTP/", 5)) {
        const char *sp = memchr(line, ' ', n);
        x->status = sp ? atoi(sp + 1) : 0;
        x->decision = D_NONE;
        x->location[0] = 0;
        x->resp_etag[0] = 0;
        x->expect = 0;
        x->retry_after = 0;
        return n;
    }
    if (x->status >= 100 && x->status < 200) return n;
    if ((n == 2 && line[0] == '\r') || (n == 1 && line[0] == '\n')) {
        on_headers_end(x);
        if (x->decision == D_NONE && j->ranged && x->expect == 0)
            fail_with(x, D_FATAL, "HTTP 206 without a Content-Range header");
        else if (x->decision == D_NONE) x->decision = D_BODY;
        if (x->decision == D_BODY) {
            j->status = x->status;
            if (x->resp_etag[0] && !j->etag[0]) copy_value(j->etag, sizeof j->etag, x->resp_etag, strlen(x->resp_etag));
        }
        return x->decision == D_BODY ? n : 0;   /* 0 aborts: no error or redirect bodies, never a wrong range */
    }
    if (header_is(line, n, "location", &v, &vl)) copy_value(x->location, sizeof x->location, v, vl);
    else if (header_is(line, n, "etag", &v, &vl)) copy_value(x->resp_etag, sizeof x->resp_etag, v, vl);
    else if (header_is(line, n, "x-linked-etag", &v, &vl) && !j->etag[0]) copy_value(j->etag, sizeof j->etag, v, vl);
    else if (header_is(line, n, "x-repo-commit", &v, &vl) && !j->commit[0]) copy_value(j->commit, sizeof j->commit, v, vl);
    else if (header_is(line, n, "x-error-code", &v, &vl)) copy_value(j->error_code, sizeof j->error_code, v, vl);
    else if (header_is(line, n, "retry-after", &v, &vl)) x->retry_after = atof(v);
    else if (header_is(line, n, "content-range", &v, &vl) && j->ranged && x->status == 206) {
        uint64_t a, b, t, want_a = j->offset + j->received, want_b = j->offset + j->length - 1;
        if (!parse_content_range(v, vl, &a, &b, &t))
            fail_with(x, D_FATAL, "malformed Content-Range '%.*s'", (int)(vl > 80 ? 80 : vl), v);
        else if (a != want_a || (b != want_b && !(j->allow_short && b < want_b && b == t - 1)))
            fail_with(x, D_FATAL, "Content-Range 'bytes %llu-%llu/%llu' does not match the requested bytes %llu-%llu",
                      (unsigned long long)a, (unsigned long long)b, (unsigned long long)t,
                      (unsigned long long)want_a, (unsigned long long)want_b);
        else if (j->total_size && t != j->total_size)
            fail_with(x, D_FATAL, "file size changed from %llu to %llu bytes between requests",
                      (unsigned long long)j->total_size, (unsigned long long)t);
        else {
            x->expect = b - a + 1;
            j->total_size = t;
        }
        if (x->decision == D_FATAL) return 0;
    }
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    xfer *x = user;
    http_job *j = x->job;
    size_t n = size * nmemb;
    if (x->decision != D_BODY) return 0;
    if (j->ranged && (n > x->expect || j->offset + j->received - x->range_begin > x->expect - n)) {
        fail_with(x, D_FATAL, "server sent more bytes than the Content-Range announced");
        return 0;
    }
    if (j->sink_fd >= 0) {
        size_t off = 0;
        while (off < n) {
            ssize_t w = pwrite(j->sink_fd, data + off, n - off, (off_t)(j->offset + j->received + off));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                fail_with(x, D_FATAL, "cannot write to the cache: %s", w < 0 ? strerror(errno) : "short write");
                return 0;
            }
            off += (size_t)w;
        }
    } else {
        if (n > j->max_body || j->received > j->max_body - n) {
            fail_with(x, D_FATAL, "response is larger than the %zu-byte limit", j->max_body);
            return 0;
        }
        size_t need = (size_t)j->received + n + 1;
        if (need > x->cap) {
            size_t ncap = x->cap ? x->cap : 4096;
            while (ncap < need) ncap *= 2;
            unsigned char *b = realloc(j->body, ncap);
            if (!b) {
                fail_with(x, D_FATAL, "out of memory");
                return 0;
            }
            j->body = b;
            x->cap = ncap;
        }
        memcpy(j->body + j->received, data, n);
        j->body[j->received + n] = 0;
    }
    j->received += n;
    if (!meter_count(x->client, n, 0)) {   /* small files are not reserved ahead: the cap is enforced here */
        fail_with(x, D_FATAL, "fetch budget of %llu bytes exceeded; raise --budget",
                  (unsigned long long)x->client->meter->budget);
        return 0;
    }
    return n;
}

static lineage_status start_attempt(http_client *c, CURLM *multi, xfer *x, lineage_error *err)
{
    http_job *j = x->job;
    double t = now_seconds();
    if (x->started == 0) x->started = t;
    if (!j->ranged) j->received = 0;   /* whole files restart; ranges resume where they stopped */
    if (!x->easy && !(x->easy = libcurl.curl_easy_init())) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", j->url);
    libcurl.curl_easy_reset(x->easy);
    libcurl.curl_slist_free_all(x->headers);
    x->headers = NULL;
    x->decision = D_NONE;
    x->status = 0;
    x->curl_err[0] = 0;
    x->range_begin = j->offset + j->received;
    CURL *e = x->easy;
    char *origin = url_origin(x->url);
    int same_origin = origin && !strcmp(origin, c->origin);
    free(origin);
    if (c->token && same_origin) {
        size_t n = strlen(c->token) + 32;
        char *h = malloc(n);
        if (!h) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        snprintf(h, n, "Authorization: Bearer %s", c->token);
        struct curl_slist *l = libcurl.curl_slist_append(NULL, h);
        free(h);
        if (!l) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        x->headers = l;
    }
    if (j->post_json) {
        struct curl_slist *l = libcurl.curl_slist_append(x->headers, "Content-Type: application/json");
        if (!l) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        x->headers = l;
    }
    char range[64];
    snprintf(range, sizeof range, "%llu-%llu", (unsigned long long)(j->offset + j->received),
             (unsigned long long)(j->offset + j->length - 1));
    long stall = (long)(c->limits.stall_seconds + 0.999);
    double left = x->started + c->limits.deadline_seconds - t, total = total_left(c, t);
    if (total <= 0) return timeout_error(c, j, x->why, err);
    if (j->attempt_seconds > 0 && left > j->attempt_seconds) left = j->attempt_seconds;
    if (left > total) left = total;
    libcurl.curl_easy_setopt(e, CURLOPT_URL, x->url);
    libcurl.curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)x);
    libcurl.curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    libcurl.curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    libcurl.curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    libcurl.curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    libcurl.curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    libcurl.curl_easy_setopt(e, CURLOPT_USERAGENT, "lineage/" LINEAGE_VERSION);
    libcurl.curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    libcurl.curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, stall * 1000L);
    libcurl.curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    libcurl.curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, stall < 1 ? 1L : stall);
    libcurl.curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(left > 0.1 ? left * 1000 : 100));
    libcurl.curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    libcurl.curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)x);
    libcurl.curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    libcurl.curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)x);
    libcurl.curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->curl_err);
    if (j->ranged) libcurl.curl_easy_setopt(e, CURLOPT_RANGE, range);
    if (c->user && same_origin) {
        libcurl.curl_easy_setopt(e, CURLOPT_USERNAME, c->user);
        libcurl.curl_easy_setopt(e, CURLOPT_PASSWORD, c->password);
    }
    if (j->post_json) {
        libcurl.curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->post_len);
        libcurl.curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->post_json);
    }
    if (libcurl.curl_multi_add_handle(multi, e) != CURLM_OK) return error_set(err, LINEAGE_E_IO, "%s: cannot start request", j->url);
    x->attempts++;
    x->state = X_RUNNING;
    meter_count(c, 0, 1);
    return LINEAGE_OK;
}

/* Resolves a Location against the current URL; NULL unless it is http(s) and not a downgrade from https. */
static char *resolve_redirect(const char *base, const char *location)
{
    CURLU *u = libcurl.curl_url();
    char *out = NULL, *scheme = NULL;
    if (u && libcurl.curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        libcurl.curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
        libcurl.curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        (!strcmp(scheme, "https") || (!strcmp(scheme, "http") && !strncmp(base, "http://", 7)))) {
        char *full = NULL;
        if (libcurl.curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK) out = strdup(full);
        libcurl.curl_free(full);
    }
    libcurl.curl_free(scheme);
    libcurl.curl_url_cleanup(u);
    return out;
}

static int transient_curl_error(CURLcode r)
{
    return r == CURLE_OPERATION_TIMEDOUT || r == CURLE_PARTIAL_FILE || r == CURLE_RECV_ERROR ||
           r == CURLE_SEND_ERROR || r == CURLE_GOT_NOTHING || r == CURLE_COULDNT_CONNECT || r == CURLE_HTTP2 ||
           r == CURLE_HTTP2_STREAM;
}

/* After a response ended: done, waiting for a retry or a redirect, or an error for the whole batch. */
static lineage_status finish_attempt(http_client *c, xfer *x, CURLcode res, int tolerate_404, lineage_error *err)
{
    http_job *j = x->job;
    x->state = X_WAITING;
    x->not_before = 0;
    if (x->decision == D_REDIRECT) {
        if (++x->hops > HTTP_MAX_REDIRECTS) return error_set(err, LINEAGE_E_IO, "%s: more than %d redirects", j->url, HTTP_MAX_REDIRECTS);
        char *next = resolve_redirect(x->url, x->location);
        if (!next)
            return error_set(err, LINEAGE_E_IO, "%s: refusing redirect to '%.200s' (not https, or a downgrade to http)",
                             j->url, x->location);
        free(x->url);
        x->url = next;
        x->attempts--;   /* a redirect is not a failed attempt */
        return LINEAGE_OK;
    }
    if (x->decision == D_NOT_FOUND) {
        j->status = x->status;
        if (tolerate_404) {
            x->state = X_DONE;
            return LINEAGE_OK;
        }
        return error_set(err, LINEAGE_E_IO, "%s: HTTP %d not found%s%s: unknown repository, revision or file", j->url,
                         x->status, j->error_code[0] ? " " : "", j->error_code);
    }
    if (x->decision == D_FATAL) return error_set(err, LINEAGE_E_IO, "%s: %s", j->url, x->why);
    if (res == CURLE_OK && x->decision == D_BODY) {
        if (!j->ranged) {
            j->total_size = j->received;
            x->state = X_DONE;
            return LINEAGE_OK;
        }
        if (j->offset + j->received - x->range_begin == x->expect) {
            j->length = j->received;   /* shorter when the server clipped at the end of the file */
            x->state = X_DONE;
            return LINEAGE_OK;
        }
        fail_with(x, D_RETRY, "response body ended early");
    } else if (x->decision != D_RETRY) {
        if (!transient_curl_error(res))
            return error_set(err, LINEAGE_E_IO, "%s: %s", j->url, x->curl_err[0] ? x->curl_err : libcurl.curl_easy_strerror(res));
        snprintf(x->why, sizeof x->why, "%s", x->curl_err[0] ? x->curl_err : libcurl.curl_easy_strerror(res));
    }
    double t = now_seconds(), wait = 0.25;
    for (int k = 1; k < x->attempts && wait < 8; k++) wait *= 2;
    if (x->retry_after > wait) wait = x->retry_after < 30 ? x->retry_after : 30;
    if (wait >= total_left(c, t)) return timeout_error(c, j, x->why, err);
    if (x->attempts >= c->limits.max_attempts || t + wait >= x->started + c->limits.deadline_seconds)
        return error_set(err, LINEAGE_E_IO, "%s: gave up after %d attempt%s in %.1f s; last failure: %s", j->url,
                         x->attempts, x->attempts == 1 ? "" : "s", t - x->started, x->why);
    x->not_before = t + wait;
    return LINEAGE_OK;
}

lineage_status http_run(http_client *c, http_job *jobs, size_t n, int tolerate_404, lineage_error *err)
{
    if (n == 0) return LINEAGE_OK;
    xfer *xs = calloc(n, sizeof *xs);
    if (!c->multi) c->multi = libcurl.curl_multi_init();
    CURLM *multi = c->multi;
    lineage_status st = LINEAGE_OK;
    for (size_t i = 0; i < n && xs; i++) {
        xs[i].job = &jobs[i];
        xs[i].client = c;
        jobs[i].status = 0;
        jobs[i].received = 0;
        if (!(xs[i].url = strdup(jobs[i].url))) break;
    }
    if (!xs || !multi || !xs[n - 1].url) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t done = 0;
    int running = 0;
    double last_tick = now_seconds();
    while (!st && done < n) {
        double t = now_seconds();
        if (c->tick && t - last_tick >= c->tick_seconds) {
            c->tick(c->tick_user);
            last_tick = t;
        }
        for (size_t i = 0; !st && i < n && running < c->limits.max_parallel; i++)
            if (xs[i].state == X_WAITING && t >= xs[i].not_before && !(st = start_attempt(c, multi, &xs[i], err)))
                running++;
        int still;
        libcurl.curl_multi_perform(multi, &still);
        CURLMsg *msg;
        int queued;
        while (!st && (msg = libcurl.curl_multi_info_read(multi, &queued)) != NULL) {
            if (msg->msg != CURLMSG_DONE) continue;
            xfer *x = NULL;
            CURLcode res = msg->data.result;
            libcurl.curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            libcurl.curl_multi_remove_handle(multi, x->easy);
            running--;
            st = finish_attempt(c, x, res, tolerate_404, err);
            if (x->state == X_DONE) done++;
        }
        if (!st && done < n) libcurl.curl_multi_poll(multi, NULL, 0, 20, NULL);
    }
    for (size_t i = 0; xs && i < n; i++) {
        if (xs[i].easy) {
            if (xs[i].state == X_RUNNING) libcurl.curl_multi_remove_handle(multi, xs[i].easy);
            libcurl.curl_easy_cleanup(xs[i].easy);
        }
        libcurl.curl_slist_free_all(xs[i].headers);
        free(xs[i].url);
    }
    free(xs);
    meter_count(c, 0, 0);
    return st;
}
