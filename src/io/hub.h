/* Remote repositories hf://ORG/NAME[@REVISION] as bytes: URL parsing, the cache layout (snapshot folders,
 * manifest, refs, sparse weight files with range lists) and HTTP fetches of named files and byte ranges.
 * Which files and ranges a model needs, and what they mean, is decided above (format/hf_remote.c). */
#ifndef LINEAGE_IO_HUB_H
#define LINEAGE_IO_HUB_H
#include <pthread.h>
#include "io/cache.h"
#include "io/http.h"
#include "lineage.h"

#define HUB_MAX_SMALL_FILE_BYTES (64u << 20)
#define HUB_CHUNK_BYTES (16u << 20)   /* ranges are split so several requests can share a big span */
#define HUB_PERSIST_SECONDS 1.0        /* range lists are synced at most this often (and at close) */
#define HUB_WHOLE_FILE_BYTES HUB_CHUNK_BYTES  /* a weight file fitting one request is fetched whole by its first read */
#define HUB_GAP_BYTES (256u << 10)     /* missing ranges of a file this close share a request (a request costs more) */

int hub_is_remote_path(const char *path);
/* A plain file name safe in a URL and in the cache: letters, digits, '.', '_', '-', no "..", no '/'. */
int hub_name_ok(const char *s, size_t n);

typedef struct hub_url {
    char org[128], name[128], revision[256];
} hub_url;
/* Parses hf://ORG/NAME[@REVISION]; LINEAGE_E_USAGE with a one-line reason when malformed. */
lineage_status hub_parse_url(const char *path, hub_url *out, lineage_error *err);

typedef struct hub_file {
    char name[256];
    char etag[HTTP_ETAG_MAX];
    uint64_t size;
    int weights;            /* a safetensors file: sparse, filled by range */
    int fd;                 /* weights: descriptor for fetched bytes */
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
    pthread_mutex_t lock;   /* held while fetching rows and while describing */
    double last_persist;
} hub_remote;

/* Parses the URL and sets up the client and the repository's cache folder from the process-wide remote
 * options; *out is set (and must be released with hub_disconnect) even when this fails. */
lineage_status hub_connect(const char *path, hub_remote **out, lineage_error *err);
/* Persists what was fetched and releases everything. */
void hub_disconnect(hub_remote *r);

/* The revision later requests use: the resolved commit when known. */
const char *hub_revision(const hub_remote *r);
/* Pins the snapshot: the commit a response named (X-Repo-Commit; ignored unless a commit hash) keys the
 * snapshot folder, else the revision name does. Creates the folder. */
lineage_status hub_pin(hub_remote *r, const char *commit, lineage_error *err);
/* Offline: the snapshot the revision last resolved to (refs/), or the commit asked for; 0 when unknown. */
int hub_pin_cached(hub_remote *r);
/* Records the pinned snapshot as what the revision resolves to now. */
lineage_status hub_write_ref(hub_remote *r, lineage_error *err);
/* The manifest lists the files of a complete snapshot; reading it adds them (0 when absent or damaged). */
int hub_read_manifest(hub_remote *r);
lineage_status hub_write_manifest(hub_remote *r, lineage_error *err);

hub_file *hub_add_file(hub_remote *r, const char *name, int weights);
void hub_forget_files(hub_remote *r);
/* Index of the weight file whose cache path is data_path, or r->nfiles. */
size_t hub_find_weights(const hub_remote *r, const char *data_path);
/* The cached copy of f has f's size (and, for weight files, a range list of f's size and ETag). */
int hub_file_cached(hub_file *f);
/* Reads n bytes at offset of the cached copy of f. */
int hub_file_pread(const hub_file *f, void *buf, size_t n, uint64_t offset);
/* The file's ETag from a response (printable ASCII without spaces: it goes into files and reports). */
void hub_set_etag(hub_file *f, const http_job *j);
/* A small file fetched whole: added to the snapshot and written to the cache. */
lineage_status hub_store_small(hub_remote *r, const char *name, const http_job *j, lineage_error *err);
/* A small file absent from this revision: an older copy must not linger. */
void hub_remove_small(hub_remote *r, const char *name);
/* Creates the sparse cache file of f (f->size bytes) holding head (its first head_len bytes). */
lineage_status hub_create_weights(hub_file *f, const unsigned char *head, uint64_t head_len, lineage_error *err);
/* Opens a weight file of the snapshot for the rows fetched later (a foreign range list is dropped). */
lineage_status hub_open_weights(hub_remote *r, hub_file *f, lineage_error *err);

/* Fetches whole files (into memory) or byte ranges from offset 0 (ranged: up to length bytes, clipped at
 * the end of the file) at revision rev; a 404 leaves its job with status 404. Release with hub_jobs_free. */
typedef struct hub_request {
    const char *name;
    int ranged;
    uint64_t offset, length;
    uint64_t total_size;      /* ranged: the size the file must still have, 0 when not yet known */
} hub_request;
lineage_status hub_fetch(hub_remote *r, const char *rev, const hub_request *req, size_t n, http_job *jobs,
                         int tolerate_404, const char *what, lineage_error *err);
void hub_jobs_free(http_job *jobs, size_t n);

/* Byte ranges of weight files (index into r->files) that a reader is about to touch: counted as read, the
 * missing parts fetched straight into the sparse cache files (coalesced, in parallel), recorded once
 * complete. `what` names the reader's purpose in budget errors. */
typedef struct hub_span {
    size_t file;
    uint64_t begin, end;
} hub_span;
lineage_status hub_fetch_spans(hub_remote *r, hub_span *spans, size_t n, const char *model, const char *what,
                               lineage_error *err);
/* {endpoint}/{org}/{name}/resolve/{revision}/{file}, '/' in the revision escaped (malloc'd). */
char *hub_file_url(const hub_remote *r, const char *revision, const char *file);
/* Syncs fetched bytes, then replaces each changed range list. */
lineage_status hub_persist(hub_remote *r, lineage_error *err);
double hub_now_seconds(void);
#endif
