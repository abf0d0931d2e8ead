/* Fetching the byte ranges readers are about to touch: the missing parts of the requested spans, coalesced,
 * cut into chunks and fetched in parallel straight into the sparse cache files; recorded once complete. */
#include <stdlib.h>
#include <string.h>

#include "io/hub.h"
#include "util/error.h"

typedef struct want_list {
    hub_span *w;
    size_t n, cap, file;
    int oom;
} want_list;

static int want_push(uint64_t b, uint64_t e, void *user)
{
    want_list *l = user;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        hub_span *w = realloc(l->w, cap * sizeof *w);
        if (!w) { l->oom = 1; return 1; }
        l->w = w;
        l->cap = cap;
    }
    l->w[l->n++] = (hub_span){l->file, b, e};
    return 0;
}

typedef struct batch {
    hub_remote *r;
    http_job *jobs;
    size_t *job_file, n;
} batch;

/* The bytes each job has written so far (a prefix of its range: ranges resume where they stopped) become
 * present; hub_persist syncs them before any range list names them, so a killed run keeps them. */
static int record_progress(batch *b)
{
    int ok = 1;
    for (size_t i = 0; i < b->n; i++) {
        const http_job *j = &b->jobs[i];
        if (!j->received) continue;
        hub_file *f = &b->r->files[b->job_file[i]];
        uint64_t end = j->offset + (j->received < j->length ? j->received : j->length);
        if (!cache_ranges_add(&f->have, j->offset, end)) ok = 0;
        f->dirty = 1;
    }
    return ok;
}

static void on_tick(void *user)
{
    batch *b = user;
    lineage_error ignored;
    if (record_progress(b)) hub_persist(b->r, &ignored);   /* a failure only costs a refetch later */
}

static int span_cmp(const void *a, const void *b)
{
    const hub_span *x = a, *y = b;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Sorts spans and merges those that overlap or lie at most gap bytes apart (gap bytes travel along). */
static void merge_spans(want_list *l, uint64_t gap)
{
    if (!l->n) return;
    qsort(l->w, l->n, sizeof *l->w, span_cmp);
    size_t k = 0;
    for (size_t i = 1; i < l->n; i++) {
        if (l->w[i].file == l->w[k].file && l->w[i].begin <= l->w[k].end + gap) {
            if (l->w[i].end > l->w[k].end) l->w[k].end = l->w[i].end;
        } else l->w[++k] = l->w[i];
    }
    l->n = k + 1;
}

/* Fewer requests for a few more bytes: a small weight file's whole missing part is fetched by its first read,
 * and missing ranges of one file close to each other share a request. exact is sorted and merged. */
static int widen(hub_remote *r, const want_list *exact, want_list *out)
{
    for (size_t i = 0; i < exact->n && !out->oom; i++) {
        const hub_span *s = &exact->w[i];
        const hub_file *f = &r->files[s->file];
        out->file = s->file;
        if (f->size > HUB_WHOLE_FILE_BYTES) want_push(s->begin, s->end, out);
        else if (i == 0 || exact->w[i - 1].file != s->file) cache_ranges_each_missing(&f->have, 0, f->size, want_push, out);
    }
    merge_spans(out, HUB_GAP_BYTES);
    return !out->oom;
}

static uint64_t span_bytes(const want_list *l)
{
    uint64_t n = 0;
    for (size_t i = 0; i < l->n; i++) n += l->w[i].end - l->w[i].begin;
    return n;
}

lineage_status hub_fetch_spans(hub_remote *r, hub_span *spans, size_t n, const char *model, const char *what,
                               lineage_error *err)
{
    pthread_mutex_lock(&r->lock);
    want_list l = {0};
    lineage_status st = LINEAGE_OK;
    for (size_t i = 0; !st && i < n; i++) {
        if (spans[i].file >= r->nfiles || !r->files[spans[i].file].weights || spans[i].begin > spans[i].end ||
            spans[i].end > r->files[spans[i].file].size) {
            st = error_set(err, LINEAGE_E_USAGE, "%s: byte range outside the weight files", model);
            break;
        }
        hub_file *f = &r->files[spans[i].file];
        if (!cache_ranges_add(&f->read, spans[i].begin, spans[i].end)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        l.file = spans[i].file;
        cache_ranges_each_missing(&f->have, spans[i].begin, spans[i].end, want_push, &l);
        if (l.oom) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    /* coalesce overlapping and adjacent ranges (and, within the budget, nearby ones and the rest of small
     * files), then cut them into chunks that can travel in parallel */
    merge_spans(&l, 0);
    size_t k = st ? 0 : l.n;
    if (!st && k && r->offline)
        st = error_set(err, LINEAGE_E_IO, "%s: rows of %s are not in the cache and --offline forbids fetching them",
                       model, what);
    char where[400];
    snprintf(where, sizeof where, "%s: %s", model, what);
    want_list wide = {0};
    if (!st && k && widen(r, &l, &wide) && !http_meter_reserve(r->http.meter, span_bytes(&wide), where, NULL)) {
        free(l.w);
        l = wide;
        k = l.n;
    } else {
        free(wide.w);
        if (!st && k) st = http_meter_reserve(r->http.meter, span_bytes(&l), where, err);
    }
    uint64_t total = span_bytes(&l);
    size_t njobs = 0;
    for (size_t i = 0; i < k; i++)
        njobs += (size_t)((l.w[i].end - l.w[i].begin + HUB_CHUNK_BYTES - 1) / HUB_CHUNK_BYTES);
    http_job *jobs = !st && k ? calloc(njobs, sizeof *jobs) : NULL;
    size_t *job_file = !st && k ? calloc(njobs, sizeof *job_file) : NULL;
    if (!st && k && (!jobs || !job_file)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t nj = 0;
    for (size_t i = 0; !st && i < k; i++) {
        hub_file *f = &r->files[l.w[i].file];
        char *url = hub_file_url(r, hub_revision(r), f->name);
        if (!url) { st = error_set(err, LINEAGE_E_NOMEM, "out of memory"); break; }
        for (uint64_t b = l.w[i].begin; b < l.w[i].end; b += HUB_CHUNK_BYTES) {
            uint64_t e = l.w[i].end - b > HUB_CHUNK_BYTES ? b + HUB_CHUNK_BYTES : l.w[i].end;
            job_file[nj] = l.w[i].file;
            jobs[nj] = (http_job){.url = url, .ranged = 1, .offset = b, .length = e - b, .sink_fd = f->fd,
                                  .total_size = f->size};
            nj++;
        }
    }
    batch b = {r, jobs, job_file, nj};
    if (!st && nj) {
        r->http.tick = on_tick;
        r->http.tick_user = &b;
        r->http.tick_seconds = HUB_PERSIST_SECONDS;
        st = http_run(&r->http, jobs, nj, 0, err);
        r->http.tick = NULL;
        http_meter_release(r->http.meter, total);
    }
    /* whatever arrived is kept, even when another range (or the rest of this one) failed */
    if (!record_progress(&b) && !st) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t i = 0; i < nj; i++)
        if (i == 0 || jobs[i].url != jobs[i - 1].url) free((char *)jobs[i].url);
    free(jobs);
    free(job_file);
    free(l.w);
    if (hub_now_seconds() - r->last_persist >= HUB_PERSIST_SECONDS) {
        lineage_error perr;
        lineage_status pst = hub_persist(r, &perr);
        if (pst && !st) {
            if (err) *err = perr;
            st = pst;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return st;
}
