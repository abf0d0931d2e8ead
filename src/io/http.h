/* HTTP fetching over libcurl for remote checkpoints: whole small files and exact byte ranges, several
 * transfers in flight, retries with backoff on 429/5xx/timeouts/resets within a bounded total time,
 * redirects followed here (not by libcurl) so the bearer token only ever goes to the endpoint's origin. */
#ifndef LINEAGE_IO_HTTP_H
#define LINEAGE_IO_HTTP_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "lineage.h"

#define HTTP_MAX_REDIRECTS 5
#define HTTP_ETAG_MAX 128
#define HTTP_COMMIT_MAX 64
#define HTTP_DEFAULT_TIMEOUT 3600.0   /* total seconds of a run's fetching unless --timeout says otherwise */

typedef struct http_limits {
    double stall_seconds;     /* a transfer moving no bytes this long fails (and is retried) */
    double deadline_seconds;  /* total time one job may take, retries included */
    int max_attempts;         /* attempts per job */
    int max_parallel;         /* transfers in flight */
} http_limits;

/* Process-wide counters shared by every remote model (a run's budget covers them all). */
typedef struct http_meter {
    pthread_mutex_t lock;
    uint64_t bytes;           /* response body bytes received, retries included */
    uint64_t requests;        /* HTTP requests sent, redirects and retries included */
    uint64_t budget;          /* 0 = no cap on bytes */
    uint64_t budget_base;     /* bytes already fetched when the budget was set */
    uint64_t reserved;        /* bytes promised to batches in flight */
    double started;           /* monotonic seconds at the first request */
    double last_report;
    void (*progress)(const lineage_remote_progress *p, void *user);
    void *progress_user;
    double timeout;           /* total seconds for all fetching (--timeout); 0 = no total limit */
    double deadline;          /* monotonic seconds when it runs out: set at the first request, 0 before */
} http_meter;

typedef struct http_client {
    char *origin;             /* "scheme://host:port" of the endpoint: the only place the token goes */
    char *token;              /* bearer token or NULL */
    char *user, *password;    /* from the endpoint's user:password@ (see http_split_credentials), or NULL */
    http_limits limits;
    http_meter *meter;
    void *multi;              /* libcurl multi handle, kept so connections are reused between batches */
    uint64_t bytes, requests; /* this client's share of the meter */
    /* called from http_run about every tick_seconds while transfers run (e.g. to record partial progress) */
    void (*tick)(void *user);
    void *tick_user;
    double tick_seconds;
} http_client;

typedef struct http_job {
    /* in */
    const char *url;
    int ranged;               /* send Range: bytes=offset-(offset+length-1) */
    uint64_t offset, length;
    int allow_short;          /* ranged: the server may clip the range at the end of the file */
    int sink_fd;              /* >= 0: body goes to this file with pwrite at offset; else to memory */
    size_t max_body;          /* memory sink: larger bodies fail */
    const char *post_json;    /* when set: POST this JSON body (post_len bytes) instead of GET */
    size_t post_len;
    double attempt_seconds;   /* one attempt may take at most this long, data moving or not; 0 = no cap */
    /* out */
    int status;               /* final HTTP status (0 before any response) */
    unsigned char *body;      /* memory sink, malloc'd, NUL-terminated */
    uint64_t received;        /* body bytes of the final (successful) response, resumes included */
    uint64_t total_size;      /* from Content-Range "/TOTAL" (ranged) or the body length */
    char etag[HTTP_ETAG_MAX];       /* X-Linked-Etag of the first hop when present, else ETag */
    char commit[HTTP_COMMIT_MAX];   /* X-Repo-Commit, "" when absent */
    char error_code[64];            /* Hub's X-Error-Code, "" when absent */
} http_job;

lineage_status http_client_init(http_client *c, const char *endpoint, const char *token, const http_limits *limits,
                                http_meter *meter, lineage_error *err);
void http_client_free(http_client *c);
/* Takes user:password@ out of a URL so it is never written anywhere: *clean is the URL without it; *user and
 * *password (percent-decoded) are NULL when there was none. All malloc'd; 0 when out of memory. A client
 * sends them (HTTP authentication) to the endpoint's origin only, once set in c->user and c->password. */
int http_split_credentials(const char *url, char **clean, char **user, char **password);

/* Runs jobs to completion. A job ending with 404 is not an error when tolerate_404 is set (its status says
 * so); any other non-success fails the whole batch with an error naming the URL and what failed. */
lineage_status http_run(http_client *c, http_job *jobs, size_t n, int tolerate_404, lineage_error *err);
void http_job_free(http_job *j);

/* Budget: reserve bytes before a batch of ranged jobs (fails with a clear message when the cap would be
 * crossed), release them when the batch ended; the bytes received are counted as they arrive. */
lineage_status http_meter_reserve(http_meter *m, uint64_t bytes, const char *what, lineage_error *err);
void http_meter_release(http_meter *m, uint64_t bytes);
void http_meter_snapshot(http_meter *m, lineage_remote_progress *out);
/* Formats 1536 as "1.5 KiB" into buf. */
const char *http_format_bytes(uint64_t n, char *buf, size_t size);
#endif
