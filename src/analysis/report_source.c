/* The "source" object of reports (lineage_inspect, lineage_compare). */
#include "analysis/report_source.h"

#include <stdio.h>

#include "format/hf_remote.h"
#include "util/error.h"

lineage_status remote_describe(const lineage_model *m, arena *a, json_value **out, lineage_error *err)
{
    json_value *o = json_new_object(a);
    int ok = o != NULL;
    hub_remote *r = hf_remote_hub(m);
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
