/* Fetching the rows analyses read: missing byte ranges of the requested rows, coalesced, cut into chunks
 * and fetched in parallel straight into the sparse cache files; recorded once complete. */
#include <stdlib.h>
#include <string.h>

#include "format/model.h"
#include "io/hub_state.h"
#include "util/error.h"

typedef struct wanted {
    size_t file;
    uint64_t begin, end;
} wanted;

typedef struct want_list {
    wanted *w;
    size_t n, cap, file;
    int oom;
} want_list;

static int want_push(uint64_t b, uint64_t e, void *user)
{
    want_list *l = user;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        wanted *w = realloc(l->w, cap * sizeof *w);
        if (!w) { l->oom = 1; return 1; }
        l->w = w;
        l->cap = cap;
    }
    l->w[l->n++] = (wanted){l->file, b, e};
    return 0;
}

static int wanted_cmp(const void *a, const void *b)
{
    const wanted *x = a, *y = b;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static lineage_status want_rows(const lineage_model *m, hub_remote *r, size_t index, uint64_t row0, uint64_t nrows,
                                want_list *l, lineage_error *err)
{
    lineage_status cst = model_check_rows(m, index, row0, nrows, err);
    if (cst) return cst;
    const model_tensor *t = &m->tensors[index];
    const lineage_tensor_info *in = &t->info;
    if (nrows == 0 || in->nbytes == 0) return LINEAGE_OK;
    uint64_t row_bytes = in->nbytes / in->rows;   /* validated at load: rows * row bytes == nbytes */
    uint64_t b = t->offset + row0 * row_bytes, e = b + nrows * row_bytes;
    hub_file *f = &r->files[r->file_of_model[t->file]];
    if (!cache_ranges_add(&f->read, b, e)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    l->file = r->file_of_model[t->file];
    cache_ranges_each_missing(&f->have, b, e, want_push, l);
    if (l->oom) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    if (t->scale >= 0 && t->block_rows) {
        uint64_t s0 = row0 / t->block_rows, s1 = (row0 + nrows - 1) / t->block_rows;
        return want_rows(m, r, (size_t)t->scale, s0, s1 - s0 + 1, l, err);
    }
    return LINEAGE_OK;
}

lineage_status lineage_model_prefetch(const lineage_model *m, const lineage_row_span *spans, size_t n,
                                      lineage_error *err)
{
    if (!m || !m->remote || n == 0) return LINEAGE_OK;
    hub_remote *r = m->remote;
    pthread_mutex_lock(&r->lock);
    want_list l = {0};
    lineage_status st = LINEAGE_OK;
    for (size_t i = 0; !st && i < n; i++) st = want_rows(m, r, spans[i].tensor, spans[i].row0, spans[i].nrows, &l, err);
    /* coalesce overlapping and adjacent ranges, then cut them into chunks that can travel in parallel */
    size_t k = 0;
    uint64_t total = 0;
    if (!st && l.n) {
        qsort(l.w, l.n, sizeof *l.w, wanted_cmp);
        for (size_t i = 1; i < l.n; i++) {
            if (l.w[i].file == l.w[k].file && l.w[i].begin <= l.w[k].end) {
                if (l.w[i].end > l.w[k].end) l.w[k].end = l.w[i].end;
            } else l.w[++k] = l.w[i];
        }
        k++;
    }
    size_t njobs = 0;
    for (size_t i = 0; i < k; i++) {
        total += l.w[i].end - l.w[i].begin;
        njobs += (size_t)((l.w[i].end - l.w[i].begin + HUB_CHUNK_BYTES - 1) / HUB_CHUNK_BYTES);
    }
    if (!st && k && r->offline)
        st = error_set(err, LINEAGE_E_IO, "%s: rows of '%s' are not in the cache and --offline forbids fetching them",
                       m->path, m->tensors[spans[0].tensor].info.name);
    char what[400];
    snprintf(what, sizeof what, "%s: tensor '%.200s'", m->path, k ? m->tensors[spans[0].tensor].info.name : "");
    if (!st && k) st = http_meter_reserve(r->http.meter, total, what, err);
    http_job *jobs = !st && k ? calloc(njobs, sizeof *jobs) : NULL;
    size_t *job_file = !st && k ? calloc(njobs, sizeof *job_file) : NULL;
    if (!st && k && (!jobs || !job_file)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t nj = 0;
    for (size_t i = 0; !st && i < k; i++) {
        hub_file *f = &r->files[l.w[i].file];
        char *url = hub_file_url(r, r->commit[0] ? r->commit : r->url.revision, f->name);
        if (!url) { st = error_set(err, LINEAGE_E_NOMEM, "out of memory"); break; }
        for (uint64_t b = l.w[i].begin; b < l.w[i].end; b += HUB_CHUNK_BYTES) {
            uint64_t e = l.w[i].end - b > HUB_CHUNK_BYTES ? b + HUB_CHUNK_BYTES : l.w[i].end;
            job_file[nj] = l.w[i].file;
            jobs[nj] = (http_job){.url = url, .ranged = 1, .offset = b, .length = e - b, .sink_fd = f->fd,
                                  .total_size = f->size};
            nj++;
        }
    }
    if (!st && nj) {
        st = http_run(&r->http, jobs, nj, 0, err);
        http_meter_release(r->http.meter, total);
    }
    /* whatever arrived complete is kept, even when another range failed */
    for (size_t i = 0; i < nj; i++) {
        hub_file *f = &r->files[job_file[i]];
        if (jobs[i].received == jobs[i].length && jobs[i].status == 206) {
            if (!cache_ranges_add(&f->have, jobs[i].offset, jobs[i].offset + jobs[i].length) && !st)
                st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
            f->dirty = 1;
        }
    }
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

lineage_status hub_prefetch(const lineage_model *m, size_t index, uint64_t row0, uint64_t nrows,
                                   lineage_error *err)
{
    lineage_row_span s = {index, row0, nrows};
    return lineage_model_prefetch(m, &s, 1, err);
}

