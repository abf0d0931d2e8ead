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
    X(T, PQgetResult) \
    X(T, PQgetvalue) \
    X(T, PQnfields) \
    X(T, PQntuples) \
    X(T, PQresultErrorMessage) \
    X(T, PQresultStatus) \
    X(T, PQsendQueryParams) \
    X(T, PQsetSingleRowMode) \
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
static uint32_t be32(const char *p)
{
    return (uint32_t)(unsigned char)p[0] << 24 | (uint32_t)(unsigned char)p[1] << 16 | (uint32_t)(unsigned char)p[2] << 8 |
           (unsigned char)p[3];
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
        else if (!strncmp(p, "{LOCK_WRITERS}", 14)) {
            sb_puts(&sb, "LOCK TABLE lineage_entries, lineage_keys IN SHARE ROW EXCLUSIVE MODE;\n");
            p += 14;
        } else if (!strncmp(p, "{COUNT_TRIGGERS}", 16)) {
            /* a row trigger: a bulk COPY (tools/mkindex) disables it and adds its count itself */
            sb_puts(&sb, "CREATE FUNCTION lineage_count_entries() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
                         " IF TG_OP = 'INSERT' THEN UPDATE lineage_counts SET entries = entries + 1;"
                         " ELSE UPDATE lineage_counts SET entries = entries - 1; END IF; RETURN NULL; END$$;\n"
                         "CREATE TRIGGER lineage_entries_count AFTER INSERT OR DELETE ON lineage_entries"
                         " FOR EACH ROW EXECUTE PROCEDURE lineage_count_entries()");
            p += 16;
        } else sb_putc(&sb, *p++);
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
        const char *v[3] = {sb_str(&arr), ids, sk};
        if (arr.failed) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        else st = run(s, "INSERT INTO lineage_keys (key, sample_key, entry) SELECT DISTINCT unnest($1::bigint[]), $3::bigint,"
                         " $2::bigint", 3, v, NULL, NULL, NULL, err);
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
    lineage_status st = run(s, "SELECT entries FROM lineage_counts", 0, NULL, NULL, NULL, &r, err);
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

/* Rows whose first columns are id, name, source, summary, added, fingerprint (further ones ignored),
 * streamed: one row at a time (single-row mode), so the client scores an entry while the server sends
 * the next, and holds one record at a time instead of a result of several megabytes. */
static lineage_status stream(index_store *s, const char *sql, int n, const char *const *vals, index_row_fn fn, void *user,
                             lineage_error *err)
{
    if (!libpq.PQsendQueryParams(DB(s), sql, n, NULL, vals, NULL, NULL, 1)) return fail(s, err, "query");
    libpq.PQsetSingleRowMode(DB(s));   /* when refused, the rows come in one result */
    lineage_status st = LINEAGE_OK;
    int stop = 0;
    PGresult *r;
    while ((r = libpq.PQgetResult(DB(s))) != NULL) {   /* read to the end even after a stop, as libpq requires */
        ExecStatusType t = libpq.PQresultStatus(r);
        if ((t == PGRES_SINGLE_TUPLE || t == PGRES_TUPLES_OK) && libpq.PQnfields(r) < 6 && !st)
            st = error_set(err, LINEAGE_E_FORMAT, "%s: the server sent %d columns for an entry", s->display, libpq.PQnfields(r));
        else if (t == PGRES_SINGLE_TUPLE || t == PGRES_TUPLES_OK) {
            for (int i = 0; i < libpq.PQntuples(r) && !stop && !st; i++) {
                index_row row = {col_int(r, i, 0), libpq.PQgetvalue(r, i, 1), libpq.PQgetvalue(r, i, 2), libpq.PQgetvalue(r, i, 3),
                                 libpq.PQgetvalue(r, i, 4), libpq.PQgetisnull(r, i, 5) ? NULL : (const unsigned char *)libpq.PQgetvalue(r, i, 5),
                                 libpq.PQgetisnull(r, i, 5) ? 0 : (size_t)libpq.PQgetlength(r, i, 5), 0};
                stop = fn(&row, user);
            }
        } else if (!st) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", libpq.PQresultErrorMessage(r));
            for (char *p = msg; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
            st = error_set(err, LINEAGE_E_IO, "%s: %s", s->display, msg);
        }
        libpq.PQclear(r);
    }
    return st;
}

static lineage_status pg_list(index_store *s, index_row_fn fn, void *user, lineage_error *err)
{
    return stream(s, "SELECT id, name, source, summary, added, NULL::bytea FROM lineage_entries ORDER BY name COLLATE \"C\"", 0, NULL,
                  fn, user, err);
}

static lineage_status pg_postings(index_store *s, const uint64_t *keys, size_t nkeys, size_t per_key, int64_t **ids,
                                  size_t *n, size_t *ends, lineage_error *err)
{
    *ids = NULL;
    *n = 0;
    if (!nkeys) return LINEAGE_OK;
    strbuf arr;
    sb_init(&arr);
    sb_putc(&arr, '{');
    for (size_t k = 0; k < nkeys; k++) sb_printf(&arr, "%s%lld", k ? "," : "", (long long)keys[k]);
    sb_putc(&arr, '}');
    char lim[32];
    snprintf(lim, sizeof lim, "%llu", (unsigned long long)(per_key > (size_t)INT64_MAX ? (size_t)INT64_MAX : per_key));
    const char *v[2] = {sb_str(&arr), lim};
    PGresult *r = NULL;
    /* a row per key, in the order given, with one array value (binary: a header, then a length and 8
     * bytes per element; NULL when the key has no row), not a row per posting; each key a range of the
     * primary key's B-tree, cut at per_key */
    lineage_status st = arr.failed ? error_set(err, LINEAGE_E_NOMEM, "out of memory")
        : run(s, "SELECT (SELECT array_agg(p.entry) FROM (SELECT entry FROM lineage_keys k WHERE k.key = q.key"
                 " ORDER BY k.sample_key, k.entry LIMIT $2::bigint) p) FROM unnest($1::bigint[]) WITH ORDINALITY AS q (key, i)"
                 " ORDER BY q.i",
              2, v, NULL, NULL, &r, err);
    sb_free(&arr);
    if (st) return st;
    int rows = libpq.PQntuples(r);
    if (rows != (int)nkeys || libpq.PQnfields(r) != 1) {
        libpq.PQclear(r);
        return error_set(err, LINEAGE_E_FORMAT, "%s: the server sent %d rows of entry ids for %zu keys", s->display, rows, nkeys);
    }
    size_t total = 0;
    for (size_t k = 0; k < nkeys; k++)
        if (!libpq.PQgetisnull(r, (int)k, 0)) total += (size_t)libpq.PQgetlength(r, (int)k, 0) / 12;   /* an upper bound */
    int64_t *out = total ? malloc(total * sizeof *out) : NULL;
    if (total && !out) {
        libpq.PQclear(r);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    size_t m = 0;
    for (size_t k = 0; k < nkeys; k++) {
        if (!libpq.PQgetisnull(r, (int)k, 0)) {
            const char *p = libpq.PQgetvalue(r, (int)k, 0);
            size_t len = (size_t)libpq.PQgetlength(r, (int)k, 0);
            /* ndim, has-nulls flag, element type; per dimension its size and lower bound */
            uint64_t ndim = len >= 12 ? be32(p) : 0, count = len >= 20 && ndim == 1 ? be32(p + 12) : 0;
            int bad = len < 12 || ndim > 1 || (ndim == 1 && (len < 20 || (len - 20) != count * 12)) || m + count > total;
            for (uint64_t i = 0; !bad && i < count; i++) {
                const char *e = p + 20 + 12 * i;
                if (be32(e) != 8) bad = 1;   /* an element's length: 8, or -1 for NULL (entry is NOT NULL) */
                else out[m++] = (int64_t)be64(e + 4);
            }
            if (bad) {
                free(out);
                libpq.PQclear(r);
                return error_set(err, LINEAGE_E_FORMAT, "%s: the server sent a malformed array of entry ids", s->display);
            }
        }
        ends[k] = m;
    }
    libpq.PQclear(r);
    *ids = out;
    *n = m;
    return LINEAGE_OK;
}

static lineage_status pg_fetch(index_store *s, const int64_t *ids, size_t n, index_row_fn fn, void *user, lineage_error *err)
{
    if (!n) return LINEAGE_OK;
    strbuf arr;
    sb_init(&arr);
    sb_putc(&arr, '{');
    for (size_t k = 0; k < n; k++) sb_printf(&arr, "%s%lld", k ? "," : "", (long long)ids[k]);
    sb_putc(&arr, '}');
    const char *v[1] = {sb_str(&arr)};
    lineage_status st = arr.failed ? error_set(err, LINEAGE_E_NOMEM, "out of memory")
        : stream(s, "SELECT e.id, e.name, e.source, e.summary, e.added, e.fingerprint FROM unnest($1::bigint[]) WITH ORDINALITY"
                    " AS u (id, n) JOIN lineage_entries e ON e.id = u.id ORDER BY u.n",
                 1, v, fn, user, err);
    sb_free(&arr);
    return st;
}


static lineage_status pg_sample(index_store *s, uint64_t from, size_t limit, index_row_fn fn, void *user, lineage_error *err)
{
    index_row_counter c = {fn, user, 0, 0};
    /* from the random point onwards, then (a second query, only when the first ran out: one UNION ALL
     * read the rows of both halves before cutting) wrapping to the start */
    for (int pass = 0; pass < 2 && c.n < limit && !c.stop; pass++) {
        char f[32], lim[32];
        snprintf(f, sizeof f, "%lld", (long long)(from >> 1));
        snprintf(lim, sizeof lim, "%zu", limit - c.n);
        const char *v[2] = {f, lim};
        lineage_status st = stream(s, pass ? "SELECT id, name, source, summary, added, fingerprint FROM lineage_entries"
                                             " WHERE sample_key < $1::bigint ORDER BY sample_key LIMIT $2::bigint"
                                           : "SELECT id, name, source, summary, added, fingerprint FROM lineage_entries"
                                             " WHERE sample_key >= $1::bigint ORDER BY sample_key LIMIT $2::bigint",
                                   2, v, index_row_count, &c, err);
        if (st) return st;
    }
    return LINEAGE_OK;
}

static void pg_close(index_store *s)
{
    libpq.PQfinish(DB(s));
    s->db = NULL;
}

static const index_ops pg_ops = {pg_add, pg_has, pg_remove, pg_count, pg_list, pg_postings, pg_fetch, pg_sample, pg_close};

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
    /* the schema is read without a lock first: when it is this build's, nothing is to be migrated (one
     * round trip instead of a transaction under the advisory lock on every open) */
    PGresult *r = libpq.PQexec(c, "SET client_min_messages = warning; SELECT version FROM lineage_schema");
    int version = libpq.PQresultStatus(r) == PGRES_TUPLES_OK && libpq.PQntuples(r) == 1 ? atoi(libpq.PQgetvalue(r, 0, 0)) : -1;
    libpq.PQclear(r);
    lineage_status st = LINEAGE_OK;
    if (version > INDEX_SCHEMA_VERSION)
        st = error_set(err, LINEAGE_E_UNSUPPORTED, "%s: index schema version %d is newer than this build's %d", s->display,
                       version, INDEX_SCHEMA_VERSION);
    else if (version != INDEX_SCHEMA_VERSION) {
        if (version < 0) libpq.PQclear(libpq.PQexec(c, "SET client_min_messages = warning"));   /* rolled back with the failed SELECT */
        st = migrate(s, err);
    }
    if (st) {
        libpq.PQfinish(c);
        s->db = NULL;
        s->ops = NULL;
    }
    return st;
}
