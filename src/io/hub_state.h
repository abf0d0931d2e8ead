/* State of an open remote model, shared by hub.c (opening, the snapshot, reports) and hub_rows.c (fetching
 * the rows analyses read). */
#ifndef LINEAGE_IO_HUB_STATE_H
#define LINEAGE_IO_HUB_STATE_H
#include <pthread.h>
#include "io/cache.h"
#include "io/http.h"
#include "io/hub.h"

#define HUB_CHUNK_BYTES (16u << 20)   /* ranges are split so several requests can share a big span */
#define HUB_PERSIST_SECONDS 1.0        /* range lists are synced at most this often (and at close) */

typedef struct hub_file {
    char name[256];
    char etag[HTTP_ETAG_MAX];
    uint64_t size;
    int weights;            /* a safetensors file: sparse, filled by range */
    int fd;                 /* weights: read-write descriptor for fetched bytes */
    char *data_path, *ranges_path;
    cache_ranges have;      /* bytes present in the cache file */
    cache_ranges read;      /* bytes this run asked for */
    int dirty;
} hub_file;

typedef struct hub_remote {
    hub_url url;
    char commit[HTTP_COMMIT_MAX];
    char *endpoint, *repo_dir, *snapshot_dir;
    int offline;
    http_client http;
    hub_file *files;
    size_t nfiles;
    size_t *file_of_model;  /* lineage_model.files index -> files index */
    pthread_mutex_t lock;
    double last_persist;
} hub_remote;

double hub_now_seconds(void);
/* {endpoint}/{org}/{name}/resolve/{revision}/{file}, '/' in the revision escaped (malloc'd). */
char *hub_file_url(const hub_remote *r, const char *revision, const char *file);
/* Syncs fetched bytes, then replaces each changed range list. */
lineage_status hub_persist(hub_remote *r, lineage_error *err);
/* lineage_model.prefetch of remote models. */
lineage_status hub_prefetch(const lineage_model *m, size_t index, uint64_t row0, uint64_t nrows, lineage_error *err);
#endif
