/* The on-disk cache of remote files. Small files are written whole and atomically (temporary file, fsync,
 * rename). Weight files are sparse files of their full size; a range list beside each one records which
 * bytes hold fetched data. The list is only ever replaced atomically after the data it names was synced,
 * so an interrupted run loses at most some fetched bytes, never claims bytes it did not write. */
#ifndef LINEAGE_IO_CACHE_H
#define LINEAGE_IO_CACHE_H
#include <stddef.h>
#include <stdint.h>
#include "lineage.h"

typedef struct cache_span {
    uint64_t begin, end;      /* [begin, end) */
} cache_span;

typedef struct cache_ranges {
    uint64_t size;            /* size of the whole file */
    char etag[128];           /* of the remote file the bytes came from */
    cache_span *spans;        /* sorted, disjoint and not touching */
    size_t n, cap;
} cache_ranges;

/* $XDG_CACHE_HOME/lineage, else $HOME/.cache/lineage (malloc'd; NULL when neither is set). */
char *cache_default_root(void);
/* mkdir -p (mode 0755). */
lineage_status cache_mkdirs(const char *path, lineage_error *err);
/* Writes data to path through a temporary file, fsync and rename. */
lineage_status cache_write_atomic(const char *path, const void *data, size_t len, lineage_error *err);

/* Loads a range list; a missing, foreign or damaged list loads as empty (the bytes are fetched again). */
void cache_ranges_load(const char *path, cache_ranges *r);
lineage_status cache_ranges_save(const char *path, const cache_ranges *r, lineage_error *err);
void cache_ranges_free(cache_ranges *r);
/* Adds [begin, end), merging with neighbours; 0 on allocation failure. */
int cache_ranges_add(cache_ranges *r, uint64_t begin, uint64_t end);
/* Calls fn for each part of [begin, end) not yet present, in order; stops when fn returns nonzero. */
int cache_ranges_each_missing(const cache_ranges *r, uint64_t begin, uint64_t end,
                              int (*fn)(uint64_t begin, uint64_t end, void *user), void *user);
uint64_t cache_ranges_bytes(const cache_ranges *r);
#endif
