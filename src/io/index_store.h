/* Fingerprint index storage: rows of (name, source, summary, fingerprint bytes) and their retrieval
 * keys, in SQLite (a file path) or PostgreSQL (postgresql:// or postgres:// URI). Both engines serve
 * the same schema: candidates come from a B-tree on the keys, never from a scan of every entry.
 * Writes are one transaction per entry (or join the caller's open transaction, for bulk loads), so a
 * killed writer leaves nothing half-written; names are
 * unique, so concurrent writers cannot duplicate an entry. Scoring is not done here. */
#ifndef LINEAGE_IO_INDEX_STORE_H
#define LINEAGE_IO_INDEX_STORE_H
#include <stddef.h>
#include <stdint.h>
#include "lineage.h"

#define INDEX_SCHEMA_VERSION 2

typedef struct index_row {
    int64_t id;
    const char *name, *source, *summary, *added;
    const unsigned char *blob;   /* fingerprint bytes (NULL in listings) */
    size_t blob_len;
    int hits;                    /* retrieval keys shared with the query (candidates only) */
} index_row;

/* Returns nonzero to stop the iteration. Rows are valid during the call only. */
typedef int (*index_row_fn)(const index_row *row, void *user);

/* Counts the rows passed on to fn (an engine's sample query that may need a second pass). */
typedef struct index_row_counter { index_row_fn fn; void *user; size_t n; int stop; } index_row_counter;
int index_row_count(const index_row *r, void *counter);

typedef struct index_store index_store;

typedef struct index_ops {
    lineage_status (*add)(index_store *s, const char *name, const char *source, const char *summary,
                          const unsigned char *blob, size_t len, const uint64_t *keys, size_t nkeys, uint64_t sample_key,
                          int replace, int *added, lineage_error *err);
    lineage_status (*has)(index_store *s, const char *name, int *has, lineage_error *err);
    lineage_status (*remove)(index_store *s, const char *name, int *removed, lineage_error *err);
    lineage_status (*count)(index_store *s, uint64_t *n, lineage_error *err);
    lineage_status (*list)(index_store *s, index_row_fn fn, void *user, lineage_error *err);
    /* the entry ids of the (key, sample_key, entry) rows of each of keys (distinct), at most per_key of
     * them per key, smallest sample_key (then entry) first: key k's ids are (*ids)[ends[k-1] .. ends[k])
     * (ends has nkeys places, ends[-1] read as 0); *ids malloc'd, NULL when none */
    lineage_status (*postings)(index_store *s, const uint64_t *keys, size_t nkeys, size_t per_key, int64_t **ids,
                               size_t *n, size_t *ends, lineage_error *err);
    /* the rows of the given ids, in the order given (ids no longer present are left out); hits 0 */
    lineage_status (*fetch)(index_store *s, const int64_t *ids, size_t n, index_row_fn fn, void *user, lineage_error *err);
    lineage_status (*sample)(index_store *s, uint64_t from, size_t limit, index_row_fn fn, void *user,
                             lineage_error *err);
    void (*close)(index_store *s);
} index_ops;

struct index_store {
    const index_ops *ops;
    char *uri;          /* as given */
    char *display;      /* for reports: a PostgreSQL password removed */
    const char *engine; /* "sqlite" or "postgresql" */
    void *db;
};

/* Opens (creating and migrating when needed) the index at uri. */
lineage_status index_store_open(const char *uri, index_store **out, lineage_error *err);
void index_store_close(index_store *s);

/* Keys' entry ids read already in one search (relatives share most of their keys with the query):
 * index_candidates reads only the keys not in it, and adds them. Zero-initialized; freed by
 * index_postings_free. Not for longer than a search: entries added meanwhile would be missed. */
typedef struct index_postings {
    uint64_t *keys;
    size_t *start, *len;    /* key i's ids: ids[start[i] .. start[i] + len[i]) */
    int64_t *ids;
    size_t nkeys, nids, cap_keys, cap_ids, per_key;
} index_postings;
void index_postings_free(index_postings *c);

/* The candidates for a query: the entries sharing the most of keys with it (ties: smaller id first),
 * the first `limit` of them less those in skip (ids seen already, any order), delivered in that order
 * with their hits. A key shared by more than per_key entries counts for the per_key of them with the
 * smallest sample_key only (a random subset, the same one for every key: a key that common tells
 * unrelated models apart no better than chance, and reading all of its postings is what costs). The
 * counting is done here, in C, so that both engines rank identically and neither has to group tens of
 * thousands of rows in SQL. cache (NULL: none) keeps the keys' entry ids for the next call. */
lineage_status index_candidates(index_store *s, const uint64_t *keys, size_t nkeys, size_t per_key, size_t limit,
                                const int64_t *skip, size_t nskip, index_postings *cache, index_row_fn fn, void *user,
                                lineage_error *err);

/* Per engine (index_sqlite.c, index_pg.c): fill s->ops and s->db. */
lineage_status index_sqlite_open(index_store *s, lineage_error *err);
lineage_status index_pg_open(index_store *s, lineage_error *err);

/* The schema migrations both engines apply in order; migration k takes schema version k-1 to k.
 * Statements are separated by ";\n"; {BLOB}, {SERIAL}, {COUNT_TRIGGERS} (the triggers keeping
 * lineage_counts.entries equal to the number of entries) and {LOCK_WRITERS} (writers of an older build
 * kept out while rows are counted and copied: a PostgreSQL table lock; SQLite's migration holds the
 * write lock already) are replaced per engine. */
extern const char *const index_migrations[INDEX_SCHEMA_VERSION];
#endif
