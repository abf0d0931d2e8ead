/* Fingerprint index in PostgreSQL (libpq), for a team or a hub filling one index from many machines.
 * Migrations run under a transaction-scoped advisory lock; each entry is one transaction, and the
 * unique name with ON CONFLICT DO NOTHING makes concurrent adds of one model insert it once. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/dynlib.h"
#include "io/index_store.h"
#include "util/error.h"
#include "util/strbuf.h"

/* libpq (PostgreSQL) is loaded when an index of this kind is opened (io/dynlib.h) */
#define PQ_FUNCTIONS(X, T) \
    X(T, PQclear) \
    X(T, PQconnectdb) \
    X(T, PQerrorMessage) \
    X(T, PQexec) \
    X(T, PQexecParams) \
    X(T, PQfinish) \
    X(T, PQgetisnull) \
    X(T, PQgetlength) \
    X(T, PQgetvalue) \
    X(T, PQnfields) \
    X(T, PQntuples) \
    X(T, PQresultErrorMessage) \
    X(T, PQresultStatus) \
    X(T, PQstatus) \
    X(T, PQtransactionStatus)
DYNLIB_DEFINE(libpq, PQ_FUNCTIONS, "libpq (PostgreSQL)", "libpq.so.5", "libpq.so");

#define DB(s) ((PGconn *)(s)->db)
#define MIGRATION_LOCK "7138442112"   /* pg_advisory_xact_lock key of lineage schema changes */

static lineage_status fail(index_store *s, lineage_error *err, const char *what)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", libpq.PQerrorMessage(DB(s)));
    for (char *p = msg; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
    return error_set(err, LINEAGE_E_IO, "%s: %s: %s", s->display, what, msg);
}

/* Runs a statement; *res kept when wanted (caller clears), else cleared here. */
static lineage_status run(index_store *s, const char *sql, int n, const char *const *vals, const int *lens,
                          const int *binary, PGresult **res, lineage_error *err)
{
    PGresult *r = libpq.PQexecParams(DB(s), sql, n, NULL, vals, lens, binary, 1);
    ExecStatusType t = libpq.PQresultStatus(r);
    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", libpq.PQresultErrorMessage(r));
        for (char *p = msg; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
        libpq.PQclear(r);
        return error_set(err, LINEAGE_E_IO, "%s: %s", s->display, msg);
    }
    if (res) *res = r;
    else libpq.PQclear(r);
    return LINEAGE_OK;
}
static lineage_status simple(index_store *s, const char *sql, lineage_error *err)
{
    return run(s, sql, 0, NULL, NULL, NULL, NULL, err);
}
static void rollback(index_store *s) { libpq.PQclear(libpq.PQexec(DB(s), "ROLLBACK")); }

static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | (unsigned char)p[i];
    return v;
}
static int64_t col_int(const PGresult *r, int row, int col)
{
    const char *p = libpq.PQgetvalue(r, row, col);
    int len = libpq.PQgetlength(r, row, col);
    if (len == 8) return (int64_t)be64(p);
    if (len == 4) return (int32_t)(((uint32_t)(unsigned char)p[0] << 24) | ((uint32_t)(unsigned char)p[1] << 16) |
                                   ((uint32_t)(unsigned char)p[2] << 8) | (unsigned char)p[3]);
    return -1;
}

static char *engine_sql(const char *sql)
{
    strbuf sb;
    sb_init(&sb);
    for (const char *p = sql; *p;) {
        if (!strncmp(p, "{SERIAL}", 8)) { sb_puts(&sb, "BIGSERIAL"); p += 8; }
        else if (!strncmp(p, "{BLOB}", 6)) { sb_puts(&sb, "BYTEA"); p += 6; }
        else sb_putc(&sb, *p++);
    }
    if (sb.failed) { sb_free(&sb); return NULL; }
    return sb.data;
}

static lineage_status migrate(index_store *s, lineage_error *err)
{
    lineage_status st = simple(s, "BEGIN", err);
    if (st) return st;
    st = simple(s, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", err);
    if (!st) st = simple(s, "CREATE TABLE IF NOT EXISTS lineage_schema (version INTEGER NOT NULL)", err);
    PGresult *r = NULL;
    int version = -1;
    if (!st) st = run(s, "SELECT version FROM lineage_schema", 0, NULL, NULL, NULL, &r, err);
    if (!st && libpq.PQntuples(r) > 0) version = (int)col_int(r, 0, 0);
    libpq.PQclear(r);
    if (!st && version < 0) {
        st = simple(s, "INSERT INTO lineage_schema (version) VALUES (0)", err);
        version = 0;
    }
    if (!st && version > INDEX_SCHEMA_VERSION)
        st = error_set(err, LINEAGE_E_UNSUPPORTED, "%s: index schema version %d is newer than this build's %d", s->display,
                       version, INDEX_SCHEMA_VERSION);
    for (int v = version; !st && v < INDEX_SCHEMA_VERSION; v++) {
        char *sql = engine_sql(index_migrations[v]);
        if (!sql) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        for (char *stmt = sql, *next; !st && stmt && *stmt; stmt = next) {
            next = strstr(stmt, ";\n");
            if (next) { *next = 0; next += 2; }
            else next = stmt + strlen(stmt);
            st = simple(s, stmt, err);
        }
        free(sql);
        char upd[80];
        snprintf(upd, sizeof upd, "UPDATE lineage_schema SET version = %d", v + 1);
        if (!st) st = simple(s, upd, err);
    }
    if (!st) st = simple(s, "COMMIT", err);
    if (st) rollback(s);
    return st;
}

static lineage_status pg_add(index_store *s, const char *name, const char *source, const char *summary,
                             const unsigned char *blob, size_t len, const uint64_t *keys, size_t nkeys,
                             uint64_t sample_key, int replace, int *added, lineage_error *err)
{
    *added = 0;
    int own = libpq.PQtransactionStatus(DB(s)) == PQTRANS_IDLE;   /* inside the caller's transaction: join it */
    lineage_status st = own ? simple(s, "BEGIN", err) : LINEAGE_OK;
    if (st) return st;
    if (replace) {
        const char *v[1] = {name};
        st = run(s, "DELETE FROM lineage_entries WHERE name = $1", 1, v, NULL, NULL, NULL, err);
    }
    char when[32], sk[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(sk, sizeof sk, "%lld", (long long)(sample_key >> 1));
    PGresult *r = NULL;
    if (!st) {
        const char *v[6] = {name, source, summary, when, sk, (const char *)blob};
        int lens[6] = {0, 0, 0, 0, 0, (int)len}, bin[6] = {0, 0, 0, 0, 0, 1};
        st = run(s, "INSERT INTO lineage_entries (name, source, summary, added, sample_key, fingerprint)"
                    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING id",
                 6, v, lens, bin, &r, err);
    }
    int64_t id = !st && libpq.PQntuples(r) == 1 ? col_int(r, 0, 0) : -1;
    libpq.PQclear(r);
    if (!st && id >= 0 && nkeys) {
        strbuf arr;
        sb_init(&arr);
        sb_putc(&arr, '{');
        for (size_t k = 0; k < nkeys; k++) sb_printf(&arr, "%s%lld", k ? "," : "", (long long)keys[k]);
        sb_putc(&arr, '}');
        char ids[32];
        snprintf(ids, sizeof ids, "%lld", (long long)id);
        const char *v[2] = {sb_str(&arr), ids};
        if (arr.failed) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        else st = run(s, "INSERT INTO lineage_keys (key, entry) SELECT DISTINCT unnest($1::bigint[]), $2::bigint", 2, v, NULL,
                      NULL, NULL, err);
        sb_free(&arr);
    }
    if (!st && own) st = simple(s, "COMMIT", err);
    if (st && own) rollback(s);
    if (!st) *added = id >= 0;
    return st;
}

static lineage_status pg_has(index_store *s, const char *name, int *has, lineage_error *err)
{
    const char *v[1] = {name};
    PGresult *r = NULL;
    lineage_status st = run(s, "SELECT id FROM lineage_entries WHERE name = $1", 1, v, NULL, NULL, &r, err);
    *has = !st && libpq.PQntuples(r) > 0;
    libpq.PQclear(r);
    return st;
}

static lineage_status pg_count(index_store *s, uint64_t *n, lineage_error *err)
{
    PGresult *r = NULL;
    lineage_status st = run(s, "SELECT count(*) FROM lineage_entries", 0, NULL, NULL, NULL, &r, err);
    *n = !st && libpq.PQntuples(r) == 1 ? (uint64_t)col_int(r, 0, 0) : 0;
    libpq.PQclear(r);
    return st;
}

static lineage_status pg_remove(index_store *s, const char *name, int *removed, lineage_error *err)
{
    const char *v[1] = {name};
    PGresult *r = NULL;
    lineage_status st = run(s, "DELETE FROM lineage_entries WHERE name = $1 RETURNING id", 1, v, NULL, NULL, &r, err);
    *removed = !st && libpq.PQntuples(r) > 0;
    libpq.PQclear(r);
    return st;
}

/* Columns: id, name, source, summary, added, fingerprint [, hits]. */
static lineage_status each_row(PGresult *r, index_row_fn fn, void *user)
{
    int n = libpq.PQntuples(r), hits_col = libpq.PQnfields(r) > 6;
    for (int i = 0; i < n; i++) {
        index_row row = {col_int(r, i, 0), libpq.PQgetvalue(r, i, 1), libpq.PQgetvalue(r, i, 2), libpq.PQgetvalue(r, i, 3), libpq.PQgetvalue(r, i, 4),
                         libpq.PQgetisnull(r, i, 5) ? NULL : (const unsigned char *)libpq.PQgetvalue(r, i, 5),
                         libpq.PQgetisnull(r, i, 5) ? 0 : (size_t)libpq.PQgetlength(r, i, 5), hits_col ? (int)col_int(r, i, 6) : 0};
        if (fn(&row, user)) break;
    }
    libpq.PQclear(r);
    return LINEAGE_OK;
}

static lineage_status pg_list(index_store *s, index_row_fn fn, void *user, lineage_error *err)
{
    PGresult *r = NULL;
    lineage_status st = run(s, "SELECT id, name, source, summary, added, NULL::bytea FROM lineage_entries ORDER BY name COLLATE \"C\"",
                            0, NULL, NULL, NULL, &r, err);
    return st ? st : each_row(r, fn, user);
}

static lineage_status pg_candidates(index_store *s, const uint64_t *keys, size_t nkeys, size_t limit, index_row_fn fn,
                                    void *user, lineage_error *err)
{
    if (!nkeys) return LINEAGE_OK;
    strbuf arr;
    sb_init(&arr);
    sb_putc(&arr, '{');
    for (size_t k = 0; k < nkeys; k++) sb_printf(&arr, "%s%lld", k ? "," : "", (long long)keys[k]);
    sb_putc(&arr, '}');
    char lim[32];
    snprintf(lim, sizeof lim, "%zu", limit);
    const char *v[2] = {sb_str(&arr), lim};
    PGresult *r = NULL;
    lineage_status st = arr.failed ? error_set(err, LINEAGE_E_NOMEM, "out of memory")
        : run(s, "SELECT e.id, e.name, e.source, e.summary, e.added, e.fingerprint, c.hits::bigint FROM (SELECT entry,"
                 " count(*) AS hits FROM lineage_keys WHERE key = ANY($1::bigint[]) GROUP BY entry ORDER BY hits DESC, entry"
                 " LIMIT $2::bigint) c JOIN lineage_entries e ON e.id = c.entry ORDER BY c.hits DESC, e.id",
              2, v, NULL, NULL, &r, err);
    sb_free(&arr);
    return st ? st : each_row(r, fn, user);
}

static lineage_status pg_sample(index_store *s, uint64_t from, size_t limit, index_row_fn fn, void *user, lineage_error *err)
{
    char f[32], lim[32];
    snprintf(f, sizeof f, "%lld", (long long)(from >> 1));
    snprintf(lim, sizeof lim, "%zu", limit);
    const char *v[2] = {f, lim};
    PGresult *r = NULL;
    /* from the random point onwards, then wrapping to the start */
    lineage_status st = run(s, "(SELECT id, name, source, summary, added, fingerprint, 0 AS pass, sample_key FROM lineage_entries"
                               " WHERE sample_key >= $1::bigint ORDER BY sample_key LIMIT $2::bigint) UNION ALL"
                               " (SELECT id, name, source, summary, added, fingerprint, 1, sample_key FROM lineage_entries"
                               " WHERE sample_key < $1::bigint ORDER BY sample_key LIMIT $2::bigint) ORDER BY pass, sample_key"
                               " LIMIT $2::bigint",
                            2, v, NULL, NULL, &r, err);
    if (st) return st;
    /* the pass column is not a hit count: drop it from the row */
    int n = libpq.PQntuples(r);
    for (int i = 0; i < n; i++) {
        index_row row = {col_int(r, i, 0), libpq.PQgetvalue(r, i, 1), libpq.PQgetvalue(r, i, 2), libpq.PQgetvalue(r, i, 3), libpq.PQgetvalue(r, i, 4),
                         (const unsigned char *)libpq.PQgetvalue(r, i, 5), (size_t)libpq.PQgetlength(r, i, 5), 0};
        if (fn(&row, user)) break;
    }
    libpq.PQclear(r);
    return LINEAGE_OK;
}

static void pg_close(index_store *s)
{
    libpq.PQfinish(DB(s));
    s->db = NULL;
}

static const index_ops pg_ops = {pg_add, pg_has, pg_remove, pg_count, pg_list, pg_candidates, pg_sample, pg_close};

lineage_status index_pg_open(index_store *s, lineage_error *err)
{
    lineage_status ld = dynlib_load(&libpq_lib, s->display, err);
    if (ld) return ld;
    PGconn *c = libpq.PQconnectdb(s->uri);
    s->db = c;
    if (!c || libpq.PQstatus(c) != CONNECTION_OK) {
        lineage_status st = c ? fail(s, err, "cannot connect") : error_set(err, LINEAGE_E_NOMEM, "out of memory");
        libpq.PQfinish(c);
        s->db = NULL;
        return st;
    }
    s->ops = &pg_ops;
    libpq.PQclear(libpq.PQexec(c, "SET client_min_messages = warning"));
    lineage_status st = migrate(s, err);
    if (st) {
        libpq.PQfinish(c);
        s->db = NULL;
        s->ops = NULL;
    }
    return st;
}
