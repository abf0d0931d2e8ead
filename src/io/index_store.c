/* Fingerprint index: engine choice by URI, the shared schema migrations. */
#include <stdlib.h>
#include <string.h>

#include "io/index_store.h"
#include "util/error.h"

const char *const index_migrations[INDEX_SCHEMA_VERSION] = {
    /* 1: entries with their fingerprint; retrieval keys in a B-tree; a random sample key for the null */
    "CREATE TABLE lineage_entries (id {SERIAL} PRIMARY KEY, name TEXT NOT NULL UNIQUE, source TEXT NOT NULL,"
    " summary TEXT NOT NULL, added TEXT NOT NULL, sample_key BIGINT NOT NULL, fingerprint {BLOB} NOT NULL);\n"
    "CREATE INDEX lineage_entries_sample ON lineage_entries (sample_key);\n"
    "CREATE TABLE lineage_keys (key BIGINT NOT NULL, entry BIGINT NOT NULL REFERENCES lineage_entries (id)"
    " ON DELETE CASCADE, PRIMARY KEY (key, entry));\n"
    "CREATE INDEX lineage_keys_entry ON lineage_keys (entry)",
};

static int is_pg(const char *uri) { return !strncmp(uri, "postgresql://", 13) || !strncmp(uri, "postgres://", 11); }

/* postgresql://user:secret@host/db -> postgresql://user@host/db */
static char *display_uri(const char *uri)
{
    char *d = strdup(uri);
    if (!d || !is_pg(uri)) return d;
    char *start = strstr(d, "://") + 3, *at = strchr(start, '@'), *slash = strchr(start, '/');
    if (!at || (slash && slash < at)) return d;
    char *colon = memchr(start, ':', (size_t)(at - start));
    if (colon) memmove(colon, at, strlen(at) + 1);
    return d;
}

lineage_status index_store_open(const char *uri, index_store **out, lineage_error *err)
{
    *out = NULL;
    if (!uri || !*uri) return error_set(err, LINEAGE_E_USAGE, "no index given (--index FILE or postgresql://...)");
    index_store *s = calloc(1, sizeof *s);
    if (!s || !(s->uri = strdup(uri)) || !(s->display = display_uri(uri))) {
        if (s) { free(s->uri); free(s); }
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    s->engine = is_pg(uri) ? "postgresql" : "sqlite";
    lineage_status st = is_pg(uri) ? index_pg_open(s, err) : index_sqlite_open(s, err);
    if (st) {
        free(s->uri);
        free(s->display);
        free(s);
        return st;
    }
    *out = s;
    return LINEAGE_OK;
}

void index_store_close(index_store *s)
{
    if (!s) return;
    if (s->ops) s->ops->close(s);
    free(s->uri);
    free(s->display);
    free(s);
}
