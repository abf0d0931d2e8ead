/* hf://ORG/NAME[@REVISION] as a model: decides which files and ranges are needed, validates what the server
 * sent with the readers local folders use (hf_index_parse, reader.h, the safetensors parser), then opens
 * the cache snapshot with hf_folder_open_model. */
#include "format/hf_remote.h"

#include <stdlib.h>
#include <string.h>

#include "format/reader.h"
#include "format/safetensors.h"
#include "io/file.h"
#include "util/error.h"

typedef struct hf_remote {
    hub_remote *hub;
    size_t *file_of_model;  /* lineage_model.files index -> hub files index */
} hf_remote;

hub_remote *hf_remote_hub(const lineage_model *m)
{
    const hf_remote *x = m ? m->remote : NULL;
    return x ? x->hub : NULL;
}

static uint64_t header_length(const unsigned char *first8)
{
    reader rd = reader_make(first8, 8);
    return reader_u64(&rd);
}

/* Shard names of model.safetensors.index.json, checked by the folder reader's index check; each must also
 * be a plain .safetensors name that is safe in a URL. */
static lineage_status index_shards(const char *path, char ***out, size_t *count, uint64_t *total_size,
                                   lineage_error *err)
{
    char *text;
    size_t len;
    *out = NULL;
    *count = 0;
    lineage_status st = file_read_all(path, MODEL_MAX_INDEX_BYTES, &text, &len, err);
    if (st) return st;
    *total_size = hf_index_total_size(text, len);
    arena a;
    arena_init(&a, 0);
    const json_value *wm;
    const char **shards = NULL;
    size_t n = 0;
    st = hf_index_parse(text, len, path, &a, &wm, &shards, &n, err);
    free(text);
    char **names = st ? NULL : calloc(n, sizeof *names);
    if (!st && !names) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < n; i++) {
        if (!hub_name_ok(shards[i], strlen(shards[i])) || !path_has_suffix(shards[i], ".safetensors"))
            st = error_set(err, LINEAGE_E_FORMAT, "%s: weight_map names '%.100s', not a plain .safetensors file name",
                           path, shards[i]);
        else if (!(names[i] = strdup(shards[i]))) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    if (!st) {
        *out = names;
        *count = n;
    } else if (names) {
        for (size_t i = 0; i < n; i++) free(names[i]);
        free(names);
    }
    free(shards);
    arena_free(&a);
    return st;
}

/* The size a server announces for a weight file must be the one its header describes: the end of the last
 * tensor's bytes (the safetensors reader parses the header against the announced size). A larger size would
 * become a sparse cache file and a checkpoint size nobody checked. Adds the file's tensor bytes to *tensor_bytes. */
static lineage_status check_announced_size(const char *url, const unsigned char *head, uint64_t head_len,
                                           uint64_t announced, uint64_t *tensor_bytes, lineage_error *err)
{
    lineage_model tmp;
    memset(&tmp, 0, sizeof tmp);
    arena_init(&tmp.arena, 0);
    mapped_file f = {(char *)url, -1, announced, head};
    tmp.path = (char *)url;
    tmp.files = &f;
    tmp.nfiles = 1;
    lineage_status st = head_len <= announced ? safetensors_parse(&tmp, 0, err)
                                              : error_set(err, LINEAGE_E_IO, "%s: header beyond the file", url);
    uint64_t end = head_len;
    for (size_t i = 0; !st && i < tmp.ntensors; i++) {
        uint64_t e = tmp.tensors[i].offset + tmp.tensors[i].info.nbytes;
        if (e > end) end = e;
        *tensor_bytes += tmp.tensors[i].info.nbytes;
    }
    if (!st && announced != end)
        st = error_set(err, LINEAGE_E_IO, "%s: the server announces a %llu-byte file but its safetensors header ends "
                       "the tensor data at byte %llu", url, (unsigned long long)announced, (unsigned long long)end);
    free(tmp.tensors);
    arena_free(&tmp.arena);
    return st;
}

/* Makes the sparse cache file of a weight file hold its header bytes, reusing cached data of the same ETag. */
static lineage_status prepare_weights(hub_file *f, const unsigned char *head, uint64_t head_len, lineage_error *err)
{
    if (f->etag[0] && hub_file_cached(f)) {
        cache_span first = f->have.n ? f->have.spans[0] : (cache_span){0, 0};
        if (first.begin == 0 && first.end >= head_len) return LINEAGE_OK;
    }
    return hub_create_weights(f, head, head_len, err);
}

/* Headers of the weight files: one speculative range request each, a second only when a header is longer. */
static lineage_status fetch_headers(hub_remote *r, const char *rev, char **names, size_t n, int tolerate_404,
                                    const char *index_path, uint64_t index_total, lineage_error *err)
{
    http_job *jobs = calloc(n * 2, sizeof *jobs);
    hub_request *req = calloc(n, sizeof *req);
    unsigned char **heads = calloc(n, sizeof *heads);
    if (!jobs || !req || !heads) {
        free(jobs);
        free(req);
        free(heads);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    http_job *more = jobs + n;
    char what[300];
    snprintf(what, sizeof what, "hf://%s/%s: safetensors headers", r->url.org, r->url.name);
    for (size_t i = 0; i < n; i++) req[i] = (hub_request){names[i], 1, 0, HF_REMOTE_HEADER_GUESS_BYTES, 0};
    lineage_status st = hub_fetch(r, rev, req, n, jobs, tolerate_404, what, err);
    size_t nmore = 0;
    for (size_t i = 0; !st && i < n; i++) {
        http_job *j = &jobs[i];
        if (j->status == 404) continue;
        if (j->total_size < 8 || j->received < 8) {
            st = error_set(err, LINEAGE_E_FORMAT, "%s: truncated: %llu bytes, shorter than the 8-byte header length",
                           j->url, (unsigned long long)j->total_size);
            break;
        }
        uint64_t hlen = header_length(j->body);
        if (hlen > ST_MAX_HEADER_BYTES)
            st = error_set(err, LINEAGE_E_FORMAT, "%s: header of %llu bytes exceeds the %u-byte limit", j->url,
                           (unsigned long long)hlen, ST_MAX_HEADER_BYTES);
        else if (hlen > j->total_size - 8)
            st = error_set(err, LINEAGE_E_FORMAT, "%s: header length %llu is beyond the end of the %llu-byte file",
                           j->url, (unsigned long long)hlen, (unsigned long long)j->total_size);
        else if (8 + hlen > j->received)
            req[nmore++] = (hub_request){names[i], 1, j->received, 8 + hlen - j->received, j->total_size};
    }
    if (!st && nmore) st = hub_fetch(r, rev, req, nmore, more, 0, what, err);
    /* every announced size is checked against its header, and their sum against the index, before any
     * cache file is sized */
    size_t k = 0;
    uint64_t tensor_bytes = 0;
    for (size_t i = 0; !st && i < n; i++) {
        http_job *j = &jobs[i];
        if (j->status == 404) continue;
        uint64_t head_len = 8 + header_length(j->body);
        heads[i] = j->body;
        if (head_len > j->received) {
            http_job *x = &more[k++];
            if (j->received + x->received != head_len) {
                st = error_set(err, LINEAGE_E_IO, "%s: the header arrived short", j->url);
                break;
            }
            heads[i] = malloc((size_t)head_len);
            if (!heads[i]) { st = error_set(err, LINEAGE_E_NOMEM, "out of memory"); break; }
            memcpy(heads[i], j->body, (size_t)j->received);
            memcpy(heads[i] + j->received, x->body, (size_t)x->received);
        }
        st = check_announced_size(j->url, heads[i], head_len, j->total_size, &tensor_bytes, err);
    }
    /* total_size is advisory (some indexes count 2 bytes per parameter whatever the dtype): only data more
     * than twice what the index states is refused */
    if (!st && index_total && tensor_bytes / 2 > index_total)
        st = error_set(err, LINEAGE_E_IO, "%s: the shards' headers describe %llu bytes of tensors, more than twice the "
                       "%llu bytes of its metadata.total_size", index_path, (unsigned long long)tensor_bytes,
                       (unsigned long long)index_total);
    for (size_t i = 0; !st && i < n; i++) {
        http_job *j = &jobs[i];
        if (j->status == 404) continue;
        hub_file *f = hub_add_file(r, names[i], 1);
        if (!f) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        else {
            f->size = j->total_size;
            hub_set_etag(f, j);
            st = prepare_weights(f, heads[i], 8 + header_length(j->body), err);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (heads[i] != jobs[i].body) free(heads[i]);
    free(heads);
    hub_jobs_free(jobs, n);
    hub_jobs_free(more, nmore);
    free(jobs);
    free(req);
    return st;
}

/* A cached snapshot is usable when every file is there and each weight file's range list (of the right size
 * and ETag) covers its header. */
static int snapshot_complete(hub_remote *r)
{
    for (size_t i = 0; i < r->nfiles; i++) {
        hub_file *f = &r->files[i];
        if (!hub_file_cached(f)) return 0;
        if (!f->weights) continue;
        if (!f->have.n || f->have.spans[0].begin != 0 || f->have.spans[0].end < 8) return 0;
        unsigned char b[8];
        if (!hub_file_pread(f, b, 8, 0)) return 0;
        uint64_t hlen = header_length(b);
        if (hlen > f->size - 8 || f->have.spans[0].end < 8 + hlen) return 0;
    }
    return 1;
}

/* Resolves the revision, then fetches small files whole and weight headers by range into the snapshot. */
static lineage_status fetch_snapshot(hub_remote *r, lineage_error *err)
{
    static const char *small[] = {HF_REMOTE_SMALL_FILES};
    enum { NSMALL = sizeof small / sizeof small[0] };
    hub_request req[NSMALL];
    http_job jobs[NSMALL];
    memset(jobs, 0, sizeof jobs);
    for (size_t i = 0; i < NSMALL; i++) req[i] = (hub_request){small[i], 0, 0, 0, 0};
    /* config.json first, at the revision asked for: its X-Repo-Commit pins every later request */
    lineage_status st = hub_fetch(r, r->url.revision, req, 1, jobs, 1, small[0], err);
    if (!st) st = hub_pin(r, jobs[0].commit, err);
    int cached = !st && r->commit[0] && hub_read_manifest(r);
    if (cached && !snapshot_complete(r)) {
        cached = 0;
        hub_forget_files(r);
    }
    if (!st && !cached) {
        const char *rev = hub_revision(r);
        st = hub_fetch(r, rev, req + 1, NSMALL - 1, jobs + 1, 1, "small files", err);
        for (size_t i = 0; !st && i < NSMALL; i++) {
            if (jobs[i].status == 200) st = hub_store_small(r, small[i], &jobs[i], err);
            else hub_remove_small(r, small[i]);
        }
        int has_config = jobs[0].status == 200, has_index = jobs[2].status == 200;
        char **shards = NULL, *single[1] = {"model.safetensors"};
        size_t nshards = 0;
        if (!st && has_index) {
            char *p = path_join(r->snapshot_dir, small[2]);
            uint64_t index_total = 0;
            st = p ? index_shards(p, &shards, &nshards, &index_total, err)
                   : error_set(err, LINEAGE_E_NOMEM, "out of memory");
            if (!st) st = fetch_headers(r, rev, shards, nshards, 0, p, index_total, err);
            free(p);
        } else if (!st) {
            st = fetch_headers(r, rev, single, 1, 1, NULL, 0, err);
            int has_single = r->nfiles && r->files[r->nfiles - 1].weights;
            if (!st && !has_single && !has_config)
                st = error_set(err, LINEAGE_E_IO, "%s: HTTP 404 not found%s%s: unknown repository or revision, or it "
                               "has no config.json and no safetensors weights", jobs[0].url,
                               jobs[0].error_code[0] ? " " : "", jobs[0].error_code);
        }
        for (size_t i = 0; i < nshards; i++) free(shards[i]);
        free(shards);
        if (!st) st = hub_write_manifest(r, err);
        hub_jobs_free(jobs + 1, NSMALL - 1);
    }
    hub_jobs_free(jobs, 1);
    if (!st) st = hub_write_ref(r, err);
    return st;
}

/* Offline: the snapshot the revision last resolved to must be complete in the cache. */
static lineage_status open_cached(hub_remote *r, const char *path, lineage_error *err)
{
    if (!hub_pin_cached(r) || !hub_read_manifest(r) || !snapshot_complete(r))
        return error_set(err, LINEAGE_E_IO, "%s: not in the cache at %s (run once without --offline)", path, r->repo_dir);
    return LINEAGE_OK;
}

/* After the folder reader opened the snapshot: tie its files to ours, open them for writing, load range lists. */
static lineage_status attach(lineage_model *m, hf_remote *x, lineage_error *err)
{
    hub_remote *r = x->hub;
    x->file_of_model = calloc(m->nfiles + 1, sizeof *x->file_of_model);
    if (!x->file_of_model) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t i = 0; i < m->nfiles; i++) {
        size_t k = hub_find_weights(r, m->files[i].path);
        if (k == r->nfiles)
            return error_set(err, LINEAGE_E_IO, "%s: %s is not a file of this snapshot", m->path, m->files[i].path);
        hub_file *f = &r->files[k];
        x->file_of_model[i] = k;
        if (f->size != m->files[i].size)
            return error_set(err, LINEAGE_E_IO, "%s: cached %s has %llu bytes, the server said %llu", m->path,
                             f->data_path, (unsigned long long)m->files[i].size, (unsigned long long)f->size);
        lineage_status st = hub_open_weights(r, f, err);
        if (st) return st;
        /* the header the reader parsed counts as read */
        if (!cache_ranges_add(&f->read, 0, 8 + header_length(m->files[i].data)))
            return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    return LINEAGE_OK;
}

typedef struct span_list {
    hub_span *s;
    size_t n, cap;
} span_list;

/* The bytes of rows [row0, row0+nrows) of a tensor, and of the FP8 scale rows they need. */
static lineage_status want_rows(const lineage_model *m, const hf_remote *x, size_t index, uint64_t row0,
                                uint64_t nrows, span_list *l, lineage_error *err)
{
    lineage_status cst = model_check_rows(m, index, row0, nrows, err);
    if (cst) return cst;
    const model_tensor *t = &m->tensors[index];
    const lineage_tensor_info *in = &t->info;
    if (nrows == 0 || in->nbytes == 0) return LINEAGE_OK;
    uint64_t row_bytes = in->nbytes / in->rows;   /* validated at load: rows * row bytes == nbytes */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        hub_span *s = realloc(l->s, cap * sizeof *s);
        if (!s) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        l->s = s;
        l->cap = cap;
    }
    uint64_t b = t->offset + row0 * row_bytes;
    l->s[l->n++] = (hub_span){x->file_of_model[t->file], b, b + nrows * row_bytes};
    if (t->scale >= 0 && t->block_rows) {
        uint64_t s0 = row0 / t->block_rows, s1 = (row0 + nrows - 1) / t->block_rows;
        return want_rows(m, x, (size_t)t->scale, s0, s1 - s0 + 1, l, err);
    }
    return LINEAGE_OK;
}

lineage_status lineage_model_prefetch(const lineage_model *m, const lineage_row_span *spans, size_t n,
                                      lineage_error *err)
{
    if (!m || !m->remote || n == 0) return LINEAGE_OK;
    const hf_remote *x = m->remote;
    span_list l = {0};
    lineage_status st = LINEAGE_OK;
    for (size_t i = 0; !st && i < n; i++) st = want_rows(m, x, spans[i].tensor, spans[i].row0, spans[i].nrows, &l, err);
    char what[300];
    snprintf(what, sizeof what, "tensor '%.200s'", m->tensors[spans[0].tensor].info.name);
    if (!st && l.n) st = hub_fetch_spans(x->hub, l.s, l.n, m->path, what, err);
    free(l.s);
    return st;
}

static lineage_status prefetch_one(const lineage_model *m, size_t index, uint64_t row0, uint64_t nrows,
                                   lineage_error *err)
{
    lineage_row_span s = {index, row0, nrows};
    return lineage_model_prefetch(m, &s, 1, err);
}

lineage_status hf_remote_open_model(lineage_model *m, const char *path, lineage_error *err)
{
    hf_remote *x = calloc(1, sizeof *x);
    if (!x) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    m->remote = x;   /* from here lineage_model_close releases it */
    lineage_status st = hub_connect(path, &x->hub, err);
    hub_remote *r = x->hub;
    if (!st) st = r->offline ? open_cached(r, path, err) : fetch_snapshot(r, err);
    if (st == LINEAGE_E_FORMAT) error_prefix(err, path);   /* a cached file's problem names the model too */
    if (!st) {
        free(m->dir);
        m->dir = strdup(r->snapshot_dir);
        st = m->dir ? hf_folder_open_model(m, r->snapshot_dir, err) : error_set(err, LINEAGE_E_NOMEM, "out of memory");
        if (st) error_prefix(err, path);
    }
    if (!st) st = attach(m, x, err);
    if (!st) m->prefetch = prefetch_one;
    return st;
}

void hf_remote_close_model(lineage_model *m)
{
    hf_remote *x = m->remote;
    if (!x) return;
    hub_disconnect(x->hub);
    free(x->file_of_model);
    free(x);
    m->remote = NULL;
    m->prefetch = NULL;
}
