#include "io/hub.h"

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

#include "io/cache.h"
#include "io/file.h"
#include "io/http.h"
#include "util/error.h"
#include "util/strbuf.h"

#define MANIFEST_MAGIC "lineage-snapshot 1"

static struct {
    pthread_mutex_t lock;
    lineage_remote_options opt;
    char *cache_dir;
} g_remote = {PTHREAD_MUTEX_INITIALIZER, {0}, NULL};
static http_meter g_meter = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, HTTP_DEFAULT_TIMEOUT, 0};

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
    g_meter.timeout = g_remote.opt.timeout_seconds > 0 ? g_remote.opt.timeout_seconds : HTTP_DEFAULT_TIMEOUT;
    g_meter.deadline = 0;   /* the clock starts at the next request */
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

int hub_name_ok(const char *s, size_t n) { return n < 256 && name_ok(s, n, 0); }

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

hub_file *hub_add_file(hub_remote *r, const char *name, int weights)
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

void hub_forget_files(hub_remote *r)
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

lineage_status hub_write_manifest(hub_remote *r, lineage_error *err)
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
int hub_read_manifest(hub_remote *r)
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
            hub_file *f = ok ? hub_add_file(r, name, kind == 'w') : NULL;
            if (f) {
                f->size = size;
                snprintf(f->etag, sizeof f->etag, "%s", strcmp(etag, "-") ? etag : "");
            } else ok = 0;
        }
    }
    free(text);
    if (!ok) hub_forget_files(r);
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

void hub_set_etag(hub_file *f, const http_job *j)
{
    snprintf(f->etag, sizeof f->etag, "%s", j->etag);
    sanitize(f->etag);
}

const char *hub_revision(const hub_remote *r) { return r->commit[0] ? r->commit : r->url.revision; }

static void escape_revision(char *key, size_t cap, const char *prefix, const char *revision)
{
    size_t k = (size_t)snprintf(key, cap, "%s", prefix);
    for (const char *s = revision; *s && k + 4 < cap; s++) {
        if (*s == '/') { memcpy(key + k, "%2F", 3); k += 3; }
        else key[k++] = *s;
    }
    key[k] = 0;
}

lineage_status hub_pin(hub_remote *r, const char *commit, lineage_error *err)
{
    char key[600];
    snprintf(r->commit, sizeof r->commit, "%s", commit ? commit : "");
    if (!is_commit_hash(r->commit)) r->commit[0] = 0;
    if (r->commit[0]) snprintf(key, sizeof key, "%s", r->commit);
    else escape_revision(key, sizeof key, "rev-", r->url.revision);
    lineage_status st = snapshot_paths(r, key, err);
    return st ? st : cache_mkdirs(r->snapshot_dir, err);
}

int hub_pin_cached(hub_remote *r)
{
    char key[600] = "";
    if (is_commit_hash(r->url.revision)) snprintf(key, sizeof key, "%s", r->url.revision);
    else {
        char *ref = ref_path(r), *text = NULL;
        size_t len;
        if (ref && path_is_file(ref) && !file_read_all(ref, sizeof key - 1, &text, &len, NULL) && name_ok(text, len, 0))
            snprintf(key, sizeof key, "%s", text);
        free(ref);
        free(text);
    }
    return key[0] && !snapshot_paths(r, key, NULL);
}

lineage_status hub_write_ref(hub_remote *r, lineage_error *err)
{
    const char *slash = strrchr(r->snapshot_dir, '/');
    const char *key = slash ? slash + 1 : r->snapshot_dir;
    char *ref = ref_path(r);
    char *refs_dir = path_join(r->repo_dir, "refs");
    lineage_status st = ref && refs_dir ? cache_mkdirs(refs_dir, err) : error_set(err, LINEAGE_E_NOMEM, "out of memory");
    if (!st) st = cache_write_atomic(ref, key, strlen(key), err);
    free(ref);
    free(refs_dir);
    return st;
}

size_t hub_find_weights(const hub_remote *r, const char *data_path)
{
    size_t k = 0;
    while (k < r->nfiles && (!r->files[k].weights || strcmp(r->files[k].data_path, data_path))) k++;
    return k;
}

int hub_file_cached(hub_file *f)
{
    struct stat sb;
    if (stat(f->data_path, &sb) != 0 || (uint64_t)sb.st_size != f->size) return 0;
    if (!f->weights) return 1;
    cache_ranges_load(f->ranges_path, &f->have);
    return f->have.size == f->size && !strcmp(f->have.etag, f->etag);
}

int hub_file_pread(const hub_file *f, void *buf, size_t n, uint64_t offset)
{
    int fd = open(f->data_path, O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? pread(fd, buf, n, (off_t)offset) : -1;
    if (fd >= 0) close(fd);
    return got == (ssize_t)n;
}

lineage_status hub_store_small(hub_remote *r, const char *name, const http_job *j, lineage_error *err)
{
    hub_file *f = hub_add_file(r, name, 0);
    if (!f) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    f->size = j->received;
    hub_set_etag(f, j);
    return cache_write_atomic(f->data_path, j->body ? (const void *)j->body : "", (size_t)j->received, err);
}

void hub_remove_small(hub_remote *r, const char *name)
{
    char *p = path_join(r->snapshot_dir, name);
    if (p) unlink(p);
    free(p);
}

lineage_status hub_create_weights(hub_file *f, const unsigned char *head, uint64_t head_len, lineage_error *err)
{
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

lineage_status hub_open_weights(hub_remote *r, hub_file *f, lineage_error *err)
{
    if (!f->have.size) cache_ranges_load(f->ranges_path, &f->have);
    if (f->have.size != f->size || strcmp(f->have.etag, f->etag)) {
        cache_ranges_free(&f->have);   /* a foreign list: nothing beyond what the reader already parsed */
        f->have.size = f->size;
        memcpy(f->have.etag, f->etag, sizeof f->have.etag);
    }
    f->read.size = f->size;
    f->fd = open(f->data_path, (r->offline ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (f->fd < 0) return error_set(err, LINEAGE_E_IO, "%s: cannot open: %s", f->data_path, strerror(errno));
    return LINEAGE_OK;
}

lineage_status hub_fetch(hub_remote *r, const char *rev, const hub_request *req, size_t n, http_job *jobs,
                         int tolerate_404, const char *what, lineage_error *err)
{
    memset(jobs, 0, n * sizeof *jobs);
    uint64_t reserve = 0;
    lineage_status st = LINEAGE_OK;
    for (size_t i = 0; !st && i < n; i++) {
        const hub_request *q = &req[i];
        jobs[i] = (http_job){.url = hub_file_url(r, rev, q->name), .ranged = q->ranged, .offset = q->offset,
                             .length = q->length, .allow_short = q->ranged, .sink_fd = -1,
                             .total_size = q->total_size,
                             .max_body = q->ranged ? (size_t)q->length : HUB_MAX_SMALL_FILE_BYTES};
        if (!jobs[i].url) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        if (q->ranged) reserve += q->length;   /* whole small files are capped as they arrive */
    }
    if (!st && reserve) st = http_meter_reserve(r->http.meter, reserve, what, err);
    if (st) return st;
    st = http_run(&r->http, jobs, n, tolerate_404, err);
    if (reserve) http_meter_release(r->http.meter, reserve);
    return st;
}

void hub_jobs_free(http_job *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)jobs[i].url);
        jobs[i].url = NULL;
        http_job_free(&jobs[i]);
    }
}

lineage_status hub_connect(const char *path, hub_remote **out, lineage_error *err)
{
    hub_remote *r = calloc(1, sizeof *r);
    *out = r;
    if (!r) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    pthread_mutex_init(&r->lock, NULL);
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
    char *user = NULL, *password = NULL;
    /* credentials in HF_ENDPOINT go to the client alone: never into URLs, errors, reports or cache names */
    if (!http_split_credentials(ep && *ep ? ep : "https://huggingface.co", &r->endpoint, &user, &password))
        r->endpoint = NULL;
    if (!root || !r->endpoint) {
        free(root);
        free(user);
        free(password);
        return root ? error_set(err, LINEAGE_E_NOMEM, "out of memory")
                    : error_set(err, LINEAGE_E_USAGE, "%s: no cache folder: set XDG_CACHE_HOME or HOME, or pass --cache DIR",
                                path);
    }
    for (size_t n = strlen(r->endpoint); n > 0 && r->endpoint[n - 1] == '/'; n--) r->endpoint[n - 1] = 0;
    st = http_client_init(&r->http, r->endpoint, getenv("HF_TOKEN"), &lim, &g_meter, err);
    if (!st) {
        r->http.user = user;
        r->http.password = password;
    } else {
        free(user);
        free(password);
    }
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
    return st;
}

void hub_disconnect(hub_remote *r)
{
    if (!r) return;
    lineage_error ignored;
    hub_persist(r, &ignored);   /* a failure here only costs a later refetch */
    hub_forget_files(r);
    http_client_free(&r->http);
    free(r->endpoint);
    free(r->repo_dir);
    free(r->snapshot_dir);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
