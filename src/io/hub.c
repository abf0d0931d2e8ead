#include "io/hub.h"
#include "io/hub_state.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "format/dtype.h"
#include "io/cache.h"
#include "io/http.h"
#include "util/error.h"

#define MANIFEST_MAGIC "lineage-snapshot 1"

static struct {
    pthread_mutex_t lock;
    lineage_remote_options opt;
    char *cache_dir;
} g_remote = {PTHREAD_MUTEX_INITIALIZER, {0}, NULL};
static http_meter g_meter = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, 0, 0, NULL, NULL};

void lineage_set_remote_options(const lineage_remote_options *opt)
{
    pthread_mutex_lock(&g_remote.lock);
    free(g_remote.cache_dir);
    g_remote.cache_dir = NULL;
    memset(&g_remote.opt, 0, sizeof g_remote.opt);
    if (opt) {
        g_remote.opt = *opt;
        g_remote.cache_dir = opt->cache_dir ? strdup(opt->cache_dir) : NULL;
    }
    g_remote.opt.cache_dir = g_remote.cache_dir;
    pthread_mutex_lock(&g_meter.lock);
    g_meter.budget = g_remote.opt.budget_bytes;
    g_meter.budget_base = g_meter.bytes;
    g_meter.progress = g_remote.opt.progress;
    g_meter.progress_user = g_remote.opt.progress_user;
    pthread_mutex_unlock(&g_meter.lock);
    pthread_mutex_unlock(&g_remote.lock);
}

void lineage_remote_progress_get(lineage_remote_progress *out) { http_meter_snapshot(&g_meter, out); }

double hub_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int hub_is_remote_path(const char *path) { return !strncmp(path, "hf://", 5); }

/* Repository and revision names: letters, digits, '.', '_', '-' (and '/' in revisions), no "..". */
static int name_ok(const char *s, size_t n, int allow_slash)
{
    if (n == 0 || s[0] == '.' || s[0] == '/' || s[n - 1] == '/') return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-' && !(allow_slash && c == '/')) return 0;
        if (c == '.' && i + 1 < n && s[i + 1] == '.') return 0;
    }
    return 1;
}

lineage_status hub_parse_url(const char *path, hub_url *out, lineage_error *err)
{
    memset(out, 0, sizeof *out);
    const char *usage = "expected hf://ORG/NAME or hf://ORG/NAME@REVISION";
    if (!hub_is_remote_path(path)) return error_set(err, LINEAGE_E_USAGE, "%.300s: not an hf:// URL; %s", path, usage);
    const char *p = path + 5, *slash = strchr(p, '/'), *at = strchr(p, '@');
    if (!slash || (at && at < slash))
        return error_set(err, LINEAGE_E_USAGE, "%.300s: malformed remote model (no ORG/NAME); %s", path, usage);
    const char *name = slash + 1, *name_end = at ? at : name + strlen(name);
    size_t ol = (size_t)(slash - p), nl = (size_t)(name_end - name);
    if (!name_ok(p, ol, 0) || ol >= sizeof out->org || !name_ok(name, nl, 0) || nl >= sizeof out->name)
        return error_set(err, LINEAGE_E_USAGE, "%.300s: malformed remote model (ORG and NAME allow letters, digits, "
                         "'.', '_', '-'); %s", path, usage);
    const char *rev = at ? at + 1 : "main";
    if (!name_ok(rev, strlen(rev), 1) || strlen(rev) >= sizeof out->revision)
        return error_set(err, LINEAGE_E_USAGE, "%.300s: malformed revision after '@'; %s", path, usage);
    memcpy(out->org, p, ol);
    memcpy(out->name, name, nl);
    strcpy(out->revision, rev);
    return LINEAGE_OK;
}

static int is_commit_hash(const char *s)
{
    size_t n = strlen(s);
    if (n != 40) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) return 0;
    return 1;
}

/* ETags and commits go into files and reports: printable ASCII without spaces only. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7e) *s = '?';
}

char *hub_file_url(const hub_remote *r, const char *revision, const char *file)
{
    char rev[768];
    size_t k = 0;
    for (const char *s = revision; *s && k + 4 < sizeof rev; s++) {
        if (*s == '/') { memcpy(rev + k, "%2F", 3); k += 3; }
        else rev[k++] = *s;
    }
    rev[k] = 0;
    size_t n = strlen(r->endpoint) + strlen(r->url.org) + strlen(r->url.name) + strlen(rev) + strlen(file) + 16;
    char *u = malloc(n);
    if (u) snprintf(u, n, "%s/%s/%s/resolve/%s/%s", r->endpoint, r->url.org, r->url.name, rev, file);
    return u;
}

static hub_file *add_file(hub_remote *r, const char *name, int weights)
{
    hub_file *f = realloc(r->files, (r->nfiles + 1) * sizeof *f);
    if (!f) return NULL;
    r->files = f;
    f = &r->files[r->nfiles];
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->weights = weights;
    snprintf(f->name, sizeof f->name, "%s", name);
    f->data_path = path_join(r->snapshot_dir ? r->snapshot_dir : ".", name);
    char dot[300];
    snprintf(dot, sizeof dot, ".%s.ranges", name);
    f->ranges_path = path_join(r->snapshot_dir ? r->snapshot_dir : ".", dot);
    if (!f->data_path || !f->ranges_path) {
        free(f->data_path);
        free(f->ranges_path);
        return NULL;
    }
    r->nfiles++;
    return f;
}

static void free_files(hub_remote *r)
{
    for (size_t i = 0; i < r->nfiles; i++) {
        hub_file *f = &r->files[i];
        if (f->fd >= 0) close(f->fd);
        free(f->data_path);
        free(f->ranges_path);
        cache_ranges_free(&f->have);
        cache_ranges_free(&f->read);
    }
    free(r->files);
    r->files = NULL;
    r->nfiles = 0;
}

lineage_status hub_persist(hub_remote *r, lineage_error *err)
{
    lineage_status st = LINEAGE_OK;
    for (size_t i = 0; i < r->nfiles; i++) {
        hub_file *f = &r->files[i];
        if (!f->dirty) continue;
        if (fdatasync(f->fd) != 0)
            return error_set(err, LINEAGE_E_IO, "%s: cannot sync the cache: %s", f->data_path, strerror(errno));
        if (!st) st = cache_ranges_save(f->ranges_path, &f->have, err);
        if (!st) f->dirty = 0;
    }
    r->last_persist = hub_now_seconds();
    return st;
}

static lineage_status write_manifest(hub_remote *r, lineage_error *err)
{
    strbuf sb;
    sb_init(&sb);
    sb_printf(&sb, "%s\nrepo %s/%s\nrevision %s\ncommit %s\n", MANIFEST_MAGIC, r->url.org, r->url.name,
                  r->url.revision, r->commit[0] ? r->commit : "-");
    for (size_t i = 0; i < r->nfiles; i++)
        sb_printf(&sb, "file %c %llu %s %s\n", r->files[i].weights ? 'w' : 's',
                      (unsigned long long)r->files[i].size, r->files[i].etag[0] ? r->files[i].etag : "-",
                      r->files[i].name);
    char *path = path_join(r->snapshot_dir, ".manifest");
    lineage_status st = sb.failed || !path ? error_set(err, LINEAGE_E_NOMEM, "out of memory")
                                           : cache_write_atomic(path, sb.data, sb.len, err);
    free(path);
    sb_free(&sb);
    return st;
}

/* Reads the manifest of a complete snapshot; 0 when absent or damaged. */
static int read_manifest(hub_remote *r)
{
    char *path = path_join(r->snapshot_dir, ".manifest"), *text = NULL;
    size_t len;
    int ok = path && path_is_file(path) && !file_read_all(path, 16u << 20, &text, &len, NULL);
    free(path);
    if (!ok) return 0;
    char *line = text, *next;
    for (int n = 0; ok && line && *line; line = next, n++) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        char kind, etag[HTTP_ETAG_MAX], name[256], commit[HTTP_COMMIT_MAX];
        unsigned long long size;
        if (n == 0) ok = !strcmp(line, MANIFEST_MAGIC);
        else if (!strncmp(line, "commit ", 7)) {
            ok = sscanf(line + 7, "%63s", commit) == 1;
            if (ok && strcmp(commit, "-")) snprintf(r->commit, sizeof r->commit, "%s", commit);
        } else if (!strncmp(line, "file ", 5)) {
            ok = sscanf(line + 5, "%c %llu %127s %255s", &kind, &size, etag, name) == 4 &&
                 name_ok(name, strlen(name), 0);
            hub_file *f = ok ? add_file(r, name, kind == 'w') : NULL;
            if (f) {
                f->size = size;
                snprintf(f->etag, sizeof f->etag, "%s", strcmp(etag, "-") ? etag : "");
            } else ok = 0;
        }
    }
    free(text);
    if (!ok) free_files(r);
    return ok;
}

static lineage_status snapshot_paths(hub_remote *r, const char *key, lineage_error *err)
{
    char sub[512];
    snprintf(sub, sizeof sub, "snapshots/%s", key);
    free(r->snapshot_dir);
    r->snapshot_dir = path_join(r->repo_dir, sub);
    if (!r->snapshot_dir) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    return LINEAGE_OK;
}

/* refs/REVISION holds the snapshot key last resolved for a revision name. */
static char *ref_path(const hub_remote *r)
{
    char sub[600];
    size_t k = (size_t)snprintf(sub, sizeof sub, "refs/");
    for (const char *s = r->url.revision; *s && k + 4 < sizeof sub; s++) {
        if (*s == '/') { memcpy(sub + k, "%2F", 3); k += 3; }
        else sub[k++] = *s;
    }
    sub[k] = 0;
    return path_join(r->repo_dir, sub);
}

static void store_meta(hub_file *f, const http_job *j)
{
    snprintf(f->etag, sizeof f->etag, "%s", j->etag);
    sanitize(f->etag);
}

/* Makes the sparse cache file of a weight file hold its header bytes, reusing cached data of the same ETag. */
static lineage_status prepare_weights(hub_file *f, const unsigned char *head, uint64_t head_len, lineage_error *err)
{
    struct stat sb;
    cache_ranges_load(f->ranges_path, &f->have);
    if (f->etag[0] && f->have.size == f->size && !strcmp(f->have.etag, f->etag) && stat(f->data_path, &sb) == 0 &&
        (uint64_t)sb.st_size == f->size) {
        cache_span first = f->have.n ? f->have.spans[0] : (cache_span){0, 0};
        if (first.begin == 0 && first.end >= head_len) return LINEAGE_OK;
    }
    /* the old list goes first: it must never describe a data file it was not written for */
    if (unlink(f->ranges_path) != 0 && errno != ENOENT)
        return error_set(err, LINEAGE_E_IO, "%s: cannot remove: %s", f->ranges_path, strerror(errno));
    size_t n = strlen(f->data_path) + 32;
    char *tmp = malloc(n);
    if (!tmp) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmp%ld", f->data_path, (long)getpid());
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ok = fd >= 0 && ftruncate(fd, (off_t)f->size) == 0 && pwrite(fd, head, head_len, 0) == (ssize_t)head_len &&
             fdatasync(fd) == 0;
    int e = errno;
    if (fd >= 0 && close(fd) != 0) ok = 0;
    if (ok && rename(tmp, f->data_path) != 0) { ok = 0; e = errno; }
    if (!ok) unlink(tmp);
    free(tmp);
    if (!ok) return error_set(err, LINEAGE_E_IO, "%s: cannot create the cache file: %s", f->data_path, strerror(e));
    cache_ranges_free(&f->have);
    f->have.size = f->size;
    memcpy(f->have.etag, f->etag, sizeof f->have.etag);
    if (!cache_ranges_add(&f->have, 0, head_len)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    return cache_ranges_save(f->ranges_path, &f->have, err);
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Headers of the weight files: one speculative range request each, a second only when a header is longer. */
static lineage_status fetch_headers(hub_remote *r, const char *rev, char **names, size_t n, int tolerate_404,
                                    lineage_error *err)
{
    http_job *jobs = calloc(n * 2, sizeof *jobs);
    if (!jobs) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    http_job *more = jobs + n;
    char what[300];
    snprintf(what, sizeof what, "hf://%s/%s: safetensors headers", r->url.org, r->url.name);
    lineage_status st = http_meter_reserve(r->http.meter, (uint64_t)n * HUB_HEADER_GUESS_BYTES, what, err);
    uint64_t reserved = st ? 0 : (uint64_t)n * HUB_HEADER_GUESS_BYTES;
    for (size_t i = 0; !st && i < n; i++) {
        jobs[i] = (http_job){.url = hub_file_url(r, rev, names[i]), .ranged = 1, .offset = 0,
                             .length = HUB_HEADER_GUESS_BYTES, .allow_short = 1, .sink_fd = -1,
                             .max_body = HUB_HEADER_GUESS_BYTES};
        if (!jobs[i].url) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    if (!st) st = http_run(&r->http, jobs, n, tolerate_404, err);
    size_t nmore = 0;
    uint64_t more_bytes = 0;
    for (size_t i = 0; !st && i < n; i++) {
        http_job *j = &jobs[i];
        if (j->status == 404) continue;
        if (j->total_size < 8 || j->received < 8) {
            st = error_set(err, LINEAGE_E_FORMAT, "%s: truncated: %llu bytes, shorter than the 8-byte header length",
                           j->url, (unsigned long long)j->total_size);
            break;
        }
        uint64_t hlen = le64(j->body);
        if (hlen > HUB_MAX_HEADER_BYTES)
            st = error_set(err, LINEAGE_E_FORMAT, "%s: header of %llu bytes exceeds the %u-byte limit", j->url,
                           (unsigned long long)hlen, HUB_MAX_HEADER_BYTES);
        else if (hlen > j->total_size - 8)
            st = error_set(err, LINEAGE_E_FORMAT, "%s: header length %llu is beyond the end of the %llu-byte file",
                           j->url, (unsigned long long)hlen, (unsigned long long)j->total_size);
        else if (8 + hlen > j->received) {
            more[nmore] = (http_job){.url = j->url, .ranged = 1, .offset = j->received,
                                     .length = 8 + hlen - j->received, .sink_fd = -1,
                                     .max_body = (size_t)(8 + hlen - j->received)};
            more[nmore++].total_size = j->total_size;
            more_bytes += 8 + hlen - j->received;
        }
    }
    http_meter_release(r->http.meter, reserved);
    if (!st && nmore) st = http_meter_reserve(r->http.meter, more_bytes, what, err);
    if (!st && nmore) {
        st = http_run(&r->http, more, nmore, 0, err);
        http_meter_release(r->http.meter, more_bytes);
    }
    size_t k = 0;
    for (size_t i = 0; !st && i < n; i++) {
        http_job *j = &jobs[i];
        if (j->status == 404) continue;
        uint64_t head_len = 8 + le64(j->body);
        unsigned char *head = j->body;
        if (head_len > j->received) {
            http_job *x = &more[k++];
            head = malloc((size_t)head_len);
            if (!head) { st = error_set(err, LINEAGE_E_NOMEM, "out of memory"); break; }
            memcpy(head, j->body, (size_t)j->received);
            memcpy(head + j->received, x->body, (size_t)x->received);
        }
        hub_file *f = add_file(r, names[i], 1);
        if (!f) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        else {
            f->size = j->total_size;
            store_meta(f, j);
            st = prepare_weights(f, head, head_len, err);
        }
        if (head != j->body) free(head);
    }
    for (size_t i = 0; i < n; i++) {
        free((char *)jobs[i].url);
        http_job_free(&jobs[i]);
    }
    for (size_t i = 0; i < nmore; i++) http_job_free(&more[i]);
    free(jobs);
    return st;
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Shard names from model.safetensors.index.json (validated: plain file names, each once). */
static lineage_status index_shards(const char *path, char ***out, size_t *count, lineage_error *err)
{
    char *text;
    size_t len;
    *out = NULL;
    *count = 0;
    lineage_status st = file_read_all(path, MODEL_MAX_INDEX_BYTES, &text, &len, err);
    if (st) return st;
    arena a;
    arena_init(&a, 0);
    json_value *root;
    json_limits lim = {16, MODEL_MAX_INDEX_BYTES};
    st = json_parse(text, len, &lim, &a, &root, path, err);
    free(text);
    const json_value *wm = st ? NULL : json_get(root, "weight_map");
    if (!st && (!wm || wm->type != JSON_OBJECT || wm->u.object.count == 0))
        st = error_set(err, LINEAGE_E_FORMAT, "%s: no weight_map object with entries", path);
    char **names = st ? NULL : calloc(wm->u.object.count, sizeof *names);
    if (!st && !names) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; !st && i < wm->u.object.count; i++) {
        const json_value *v = wm->u.object.members[i].value;
        if (v->type != JSON_STRING || v->u.string.len >= 200 || !name_ok(v->u.string.s, v->u.string.len, 0) ||
            !path_has_suffix(v->u.string.s, ".safetensors"))
            st = error_set(err, LINEAGE_E_FORMAT, "%s: weight_map entry for '%.100s' is not a .safetensors file name",
                           path, wm->u.object.members[i].key);
        else if (!(names[n++] = strdup(v->u.string.s))) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    if (!st) {
        qsort(names, n, sizeof *names, str_cmp);
        size_t u = 0;
        for (size_t i = 0; i < n; i++) {
            if (u && !strcmp(names[u - 1], names[i])) free(names[i]);
            else names[u++] = names[i];
        }
        n = u;
        *out = names;
        *count = n;
    } else {
        for (size_t i = 0; i < n; i++) free(names[i]);
        free(names);
    }
    arena_free(&a);
    return st;
}

/* A cached snapshot is usable when every file is there and each weight file's range list (of the right size
 * and ETag) covers its header. */
static int snapshot_complete(hub_remote *r)
{
    for (size_t i = 0; i < r->nfiles; i++) {
        hub_file *f = &r->files[i];
        struct stat sb;
        if (stat(f->data_path, &sb) != 0 || (uint64_t)sb.st_size != f->size) return 0;
        if (!f->weights) continue;
        cache_ranges_load(f->ranges_path, &f->have);
        if (f->have.size != f->size || strcmp(f->have.etag, f->etag) || !f->have.n || f->have.spans[0].begin != 0 ||
            f->have.spans[0].end < 8)
            return 0;
        unsigned char b[8];
        int fd = open(f->data_path, O_RDONLY | O_CLOEXEC);
        ssize_t got = fd >= 0 ? pread(fd, b, 8, 0) : -1;
        if (fd >= 0) close(fd);
        if (got != 8 || le64(b) > f->size - 8 || f->have.spans[0].end < 8 + le64(b)) return 0;
    }
    return 1;
}

static lineage_status store_small(hub_remote *r, const http_job *j, const char *name, lineage_error *err)
{
    hub_file *f = add_file(r, name, 0);
    if (!f) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    f->size = j->received;
    store_meta(f, j);
    return cache_write_atomic(f->data_path, j->body ? (const void *)j->body : "", (size_t)j->received, err);
}

/* Resolves the revision, then fetches small files whole and weight headers by range into the snapshot. */
static lineage_status fetch_snapshot(hub_remote *r, lineage_error *err)
{
    static const char *small[] = {HUB_SMALL_FILES};
    const size_t nsmall = sizeof small / sizeof small[0];
    http_job jobs[sizeof small / sizeof small[0]];
    memset(jobs, 0, sizeof jobs);
    for (size_t i = 0; i < nsmall; i++) {
        jobs[i].sink_fd = -1;
        jobs[i].max_body = HUB_MAX_SMALL_FILE_BYTES;
    }
    /* config.json first, at the revision asked for: its X-Repo-Commit pins every later request */
    lineage_status st = (jobs[0].url = hub_file_url(r, r->url.revision, small[0])) ? LINEAGE_OK
                        : error_set(err, LINEAGE_E_NOMEM, "out of memory");
    if (!st) st = http_run(&r->http, jobs, 1, 1, err);
    char key[600];
    if (!st) {
        snprintf(r->commit, sizeof r->commit, "%s", jobs[0].commit);
        if (!is_commit_hash(r->commit)) r->commit[0] = 0;
        if (r->commit[0]) snprintf(key, sizeof key, "%s", r->commit);
        else {
            size_t k = (size_t)snprintf(key, sizeof key, "rev-");
            for (const char *s = r->url.revision; *s && k + 4 < sizeof key; s++) {
                if (*s == '/') { memcpy(key + k, "%2F", 3); k += 3; }
                else key[k++] = *s;
            }
            key[k] = 0;
        }
        st = snapshot_paths(r, key, err);
    }
    if (!st) st = cache_mkdirs(r->snapshot_dir, err);
    const char *rev = r->commit[0] ? r->commit : r->url.revision;
    int cached = !st && r->commit[0] && read_manifest(r);
    if (cached && !snapshot_complete(r)) {
        cached = 0;
        free_files(r);
    }
    if (!st && !cached) {
        for (size_t i = 1; !st && i < nsmall; i++)
            if (!(jobs[i].url = hub_file_url(r, rev, small[i]))) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        if (!st) st = http_run(&r->http, jobs + 1, nsmall - 1, 1, err);
        for (size_t i = 0; !st && i < nsmall; i++) {
            if (jobs[i].status == 200) st = store_small(r, &jobs[i], small[i], err);
            else {   /* a file gone from this revision must not linger from an older fetch */
                char *p = path_join(r->snapshot_dir, small[i]);
                if (p) unlink(p);
                free(p);
            }
        }
        int has_config = jobs[0].status == 200, has_index = jobs[2].status == 200;
        char **shards = NULL, *single[1] = {"model.safetensors"};
        size_t nshards = 0;
        if (!st && has_index) {
            char *p = path_join(r->snapshot_dir, small[2]);
            st = p ? index_shards(p, &shards, &nshards, err) : error_set(err, LINEAGE_E_NOMEM, "out of memory");
            free(p);
            if (!st) st = fetch_headers(r, rev, shards, nshards, 0, err);
        } else if (!st) {
            st = fetch_headers(r, rev, single, 1, 1, err);
            int has_single = r->nfiles && r->files[r->nfiles - 1].weights;
            if (!st && !has_single && !has_config)
                st = error_set(err, LINEAGE_E_IO, "%s: HTTP 404 not found%s%s: unknown repository or revision, or it "
                               "has no config.json and no safetensors weights", jobs[0].url,
                               jobs[0].error_code[0] ? " " : "", jobs[0].error_code);
        }
        for (size_t i = 0; i < nshards; i++) free(shards[i]);
        free(shards);
        if (!st) st = write_manifest(r, err);
    }
    for (size_t i = 0; i < nsmall; i++) {
        free((char *)jobs[i].url);
        http_job_free(&jobs[i]);
    }
    if (!st) {
        char *ref = ref_path(r);
        char *refs_dir = path_join(r->repo_dir, "refs");
        st = ref && refs_dir ? cache_mkdirs(refs_dir, err) : error_set(err, LINEAGE_E_NOMEM, "out of memory");
        if (!st) st = cache_write_atomic(ref, key, strlen(key), err);
        free(ref);
        free(refs_dir);
    }
    return st;
}

/* Offline: the snapshot the revision last resolved to must be complete in the cache. */
static lineage_status open_cached(hub_remote *r, const char *path, lineage_error *err)
{
    char key[600] = "";
    if (is_commit_hash(r->url.revision)) snprintf(key, sizeof key, "%s", r->url.revision);
    else {
        char *ref = ref_path(r), *text = NULL;
        size_t len;
        if (ref && path_is_file(ref) && !file_read_all(ref, sizeof key - 1, &text, &len, NULL) &&
            name_ok(text, len, 0))
            snprintf(key, sizeof key, "%s", text);
        free(ref);
        free(text);
    }
    lineage_status st = key[0] ? snapshot_paths(r, key, err) : LINEAGE_OK;
    if (st) return st;
    if (!key[0] || !read_manifest(r) || !snapshot_complete(r))
        return error_set(err, LINEAGE_E_IO, "%s: not in the cache at %s (run once without --offline)", path, r->repo_dir);
    return LINEAGE_OK;
}

/* After the folder reader opened the snapshot: tie its files to ours, open them for writing, load range lists. */
static lineage_status attach(lineage_model *m, hub_remote *r, lineage_error *err)
{
    r->file_of_model = calloc(m->nfiles + 1, sizeof *r->file_of_model);
    if (!r->file_of_model) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t i = 0; i < m->nfiles; i++) {
        size_t k = 0;
        while (k < r->nfiles && (!r->files[k].weights || strcmp(r->files[k].data_path, m->files[i].path))) k++;
        if (k == r->nfiles)
            return error_set(err, LINEAGE_E_IO, "%s: %s is not a file of this snapshot", m->path, m->files[i].path);
        hub_file *f = &r->files[k];
        r->file_of_model[i] = k;
        if (f->size != m->files[i].size)
            return error_set(err, LINEAGE_E_IO, "%s: cached %s has %llu bytes, the server said %llu", m->path,
                             f->data_path, (unsigned long long)m->files[i].size, (unsigned long long)f->size);
        if (!f->have.size) cache_ranges_load(f->ranges_path, &f->have);
        if (f->have.size != f->size || strcmp(f->have.etag, f->etag)) {
            cache_ranges_free(&f->have);   /* a foreign list: nothing beyond what the reader already parsed */
            f->have.size = f->size;
            memcpy(f->have.etag, f->etag, sizeof f->have.etag);
        }
        f->read.size = f->size;
        f->fd = open(f->data_path, (r->offline ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (f->fd < 0) return error_set(err, LINEAGE_E_IO, "%s: cannot open: %s", f->data_path, strerror(errno));
        /* the header the reader parsed counts as read */
        if (!cache_ranges_add(&f->read, 0, 8 + le64(m->files[i].data))) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    return LINEAGE_OK;
}

lineage_status hub_open_model(lineage_model *m, const char *path, lineage_error *err)
{
    hub_remote *r = calloc(1, sizeof *r);
    if (!r) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    pthread_mutex_init(&r->lock, NULL);
    m->remote = r;   /* from here lineage_model_close releases it */
    lineage_status st = hub_parse_url(path, &r->url, err);
    if (st) return st;
    pthread_mutex_lock(&g_remote.lock);
    lineage_remote_options o = g_remote.opt;
    char *root = o.cache_dir ? strdup(o.cache_dir) : cache_default_root();
    pthread_mutex_unlock(&g_remote.lock);
    http_limits lim = {o.stall_seconds > 0 ? o.stall_seconds : 30, o.deadline_seconds > 0 ? o.deadline_seconds : 300,
                       o.max_attempts > 0 ? o.max_attempts : 6, o.max_parallel > 0 ? o.max_parallel : 8};
    r->offline = o.offline;
    const char *ep = getenv("HF_ENDPOINT");
    r->endpoint = strdup(ep && *ep ? ep : "https://huggingface.co");
    if (!root || !r->endpoint) {
        free(root);
        return root ? error_set(err, LINEAGE_E_NOMEM, "out of memory")
                    : error_set(err, LINEAGE_E_USAGE, "%s: no cache folder: set XDG_CACHE_HOME or HOME, or pass --cache DIR",
                                path);
    }
    for (size_t n = strlen(r->endpoint); n > 0 && r->endpoint[n - 1] == '/'; n--) r->endpoint[n - 1] = 0;
    st = http_client_init(&r->http, r->endpoint, getenv("HF_TOKEN"), &lim, &g_meter, err);
    if (!st) {
        /* cache folders are per endpoint host: a mirror's revisions are not the Hub's */
        char sub[700];
        const char *host = strstr(r->endpoint, "://") + 3;
        size_t k = 0;
        for (; *host && *host != '/' && k < 200; host++) sub[k++] = isalnum((unsigned char)*host) || *host == '.' ? *host : '_';
        snprintf(sub + k, sizeof sub - k, "/%s--%s", r->url.org, r->url.name);
        r->repo_dir = path_join(root, sub);
        if (!r->repo_dir) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    free(root);
    if (!st) st = r->offline ? open_cached(r, path, err) : fetch_snapshot(r, err);
    if (st == LINEAGE_E_FORMAT) error_prefix(err, path);   /* a cached file's problem names the model too */
    if (!st) {
        free(m->dir);
        m->dir = strdup(r->snapshot_dir);
        st = m->dir ? hf_folder_open_model(m, r->snapshot_dir, err) : error_set(err, LINEAGE_E_NOMEM, "out of memory");
        if (st) error_prefix(err, path);
    }
    if (!st) st = attach(m, r, err);
    if (!st) m->prefetch = hub_prefetch;
    return st;
}

void hub_close_model(lineage_model *m)
{
    hub_remote *r = m->remote;
    if (!r) return;
    lineage_error ignored;
    hub_persist(r, &ignored);   /* a failure here only costs a later refetch */
    free_files(r);
    http_client_free(&r->http);
    free(r->endpoint);
    free(r->repo_dir);
    free(r->snapshot_dir);
    free(r->file_of_model);
    pthread_mutex_destroy(&r->lock);
    free(r);
    m->remote = NULL;
    m->prefetch = NULL;
}

lineage_status remote_describe(const lineage_model *m, arena *a, json_value **out, lineage_error *err)
{
    json_value *o = json_new_object(a);
    int ok = o != NULL;
    hub_remote *r = m->remote;
    if (!r) {
        ok = ok && json_set_str(a, o, "kind", "local") && json_set_str(a, o, "path", m->path) &&
             json_set_int(a, o, "checkpoint_bytes", (int64_t)m->total_bytes);
    } else {
        pthread_mutex_lock(&r->lock);
        char repo[300];
        snprintf(repo, sizeof repo, "%s/%s", r->url.org, r->url.name);
        uint64_t read = 0;
        json_value *files = json_new_array(a);
        ok = ok && files;
        for (size_t i = 0; ok && i < r->nfiles; i++) {
            const hub_file *f = &r->files[i];
            json_value *fo = json_new_object(a);
            ok = fo && json_set_str(a, fo, "name", f->name) && json_set_int(a, fo, "size", (int64_t)f->size) &&
                 json_set(a, fo, "etag", f->etag[0] ? json_new_string(a, f->etag) : json_new_null(a)) &&
                 json_push(a, files, fo);
            if (f->weights) read += cache_ranges_bytes(&f->read);
        }
        uint64_t total = m->total_bytes;
        if (read > total) read = total;
        ok = ok && json_set_str(a, o, "kind", "hf") && json_set_str(a, o, "url", m->path) &&
             json_set_str(a, o, "endpoint", r->endpoint) && json_set_str(a, o, "repo", repo) &&
             json_set_str(a, o, "revision", r->url.revision) &&
             json_set(a, o, "commit", r->commit[0] ? json_new_string(a, r->commit) : json_new_null(a)) &&
             json_set(a, o, "files", files) && json_set_int(a, o, "bytes_fetched", (int64_t)r->http.bytes) &&
             json_set_int(a, o, "requests", (int64_t)r->http.requests) &&
             json_set_int(a, o, "checkpoint_bytes", (int64_t)total) && json_set_int(a, o, "bytes_read", (int64_t)read) &&
             json_set_double(a, o, "fraction_read", total ? (double)read / (double)total : 0) &&
             json_set_bool(a, o, "offline", r->offline) && json_set_str(a, o, "cache", r->snapshot_dir);
        pthread_mutex_unlock(&r->lock);
    }
    *out = ok ? o : NULL;
    return ok ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
}
