/* mkindex INDEX N MODEL: fills a fingerprint index (SQLite path or postgresql:// URI) with N synthetic
 * fingerprints of unrelated models that share MODEL's tokenizer (each a random low-rank embedding of
 * MODEL's anchor tokens, so their Gram matrices and retrieval keys are those of independent models),
 * for the search-latency benchmark. The worst case for retrieval: every entry has the query's anchors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "analysis/fingerprint.h"
#include "io/index_store.h"

static uint64_t rng = 0x243f6a8885a308d3ull;
static double gauss(void)
{
    double u[2];
    for (int k = 0; k < 2; k++) {
        uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        u[k] = ((double)((z ^ (z >> 31)) >> 11) + 0.5) / 9007199254740992.0;
    }
    return sqrt(-2 * log(u[0])) * cos(6.283185307179586 * u[1]);
}


/* PostgreSQL bulk load: binary COPY of the entries (explicit ids after the current maximum) and of
 * their keys, in one transaction; the id sequence is moved past them at the end. */
typedef struct cbuf { unsigned char *p; size_t n, cap; } cbuf;
static void cput(cbuf *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 20;
        while (cap < b->n + n) cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) { fprintf(stderr, "mkindex: out of memory\n"); exit(1); }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void cput_be(cbuf *b, uint64_t v, int bytes)
{
    unsigned char x[8];
    for (int i = 0; i < bytes; i++) x[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    cput(b, x, (size_t)bytes);
}
static void cfield(cbuf *b, const void *p, size_t n) { cput_be(b, n, 4); cput(b, p, n); }
static void cfield_i64(cbuf *b, int64_t v) { cput_be(b, 8, 4); cput_be(b, (uint64_t)v, 8); }
static void copy_begin(PGconn *c, const char *sql, cbuf *b)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) { fprintf(stderr, "mkindex: %s: %s", sql, PQerrorMessage(c)); exit(1); }
    PQclear(r);
    b->n = 0;
    cput(b, "PGCOPY\n\377\r\n\0", 11);
    cput_be(b, 0, 4);
    cput_be(b, 0, 4);
}
static void copy_flush(PGconn *c, cbuf *b)
{
    if (b->n && PQputCopyData(c, (const char *)b->p, (int)b->n) != 1) { fprintf(stderr, "mkindex: COPY: %s", PQerrorMessage(c)); exit(1); }
    b->n = 0;
}
static void copy_end(PGconn *c, cbuf *b)
{
    cput_be(b, 0xffff, 2);
    copy_flush(c, b);
    if (PQputCopyEnd(c, NULL) != 1) { fprintf(stderr, "mkindex: COPY end: %s", PQerrorMessage(c)); exit(1); }
    PGresult *r;
    while ((r = PQgetResult(c)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) { fprintf(stderr, "mkindex: COPY: %s", PQerrorMessage(c)); exit(1); }
        PQclear(r);
    }
}
static void pg_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "mkindex: %s: %s", sql, PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: mkindex INDEX N MODEL\n");
        return 2;
    }
    long n = strtol(argv[2], NULL, 10);
    lineage_error err;
    lineage_model *m;
    fingerprint fp;
    index_store *s;
    if (lineage_model_open(argv[3], &m, &err) || fp_build(m, &fp, &err) || index_store_open(argv[1], &s, &err)) {
        fprintf(stderr, "mkindex: %s\n", err.message);
        return 1;
    }
    lineage_model_close(m);
    /* a benchmark fixture, not data to keep: commits need not wait for the disk */
    int lite = !strcmp(s->engine, "sqlite");
    if (lite) sqlite3_exec(s->db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
    else PQclear(PQexec(s->db, "SET synchronous_commit = off"));
    if (fp.n_anchors < 8) {
        fprintf(stderr, "mkindex: %s has no anchor tokens\n", argv[3]);
        return 1;
    }
    enum { DIM = 24 };
    size_t na = fp.n_anchors;
    double (*x)[DIM] = malloc(na * sizeof *x);
    fp.has_head_gram = 0;   /* one Gram per synthetic entry keeps the benchmark index at ~1.6 GB */
    PGconn *pg = lite ? NULL : s->db;
    cbuf ent = {0}, keys = {0};
    int64_t id0 = 0;
    if (pg) {
        pg_exec(pg, "BEGIN");
        /* the entry count's row trigger would update one row 100,000 times in this transaction: off for the
         * COPY (transactional: on again at COMMIT, other writers wait on the table lock), the count added once */
        pg_exec(pg, "ALTER TABLE lineage_entries DISABLE TRIGGER lineage_entries_count");
        PGresult *r = PQexec(pg, "SELECT COALESCE(max(id), 0) FROM lineage_entries");
        if (PQresultStatus(r) != PGRES_TUPLES_OK) { fprintf(stderr, "mkindex: %s", PQerrorMessage(pg)); return 1; }
        id0 = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    }
    /* keys go to a second COPY after the entries (one COPY at a time per connection): kept in memory */
    for (long e = 0; e < n; e++) {
        if (lite && e % 2000 == 0) {   /* SQLite bulk load: adds join one transaction per 2000 entries */
            if (e) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
            sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
        }
        if (pg && e == 0)
            copy_begin(pg, "COPY lineage_entries (id, name, source, summary, added, sample_key, fingerprint) FROM STDIN (FORMAT binary)", &ent);
        for (size_t i = 0; i < na; i++) {
            double ss = 0;
            for (int c = 0; c < DIM; c++) { x[i][c] = gauss(); ss += x[i][c] * x[i][c]; }
            for (int c = 0; c < DIM; c++) x[i][c] /= sqrt(ss);
        }
        for (size_t i = 0; i < na; i++)
            for (size_t j = i + 1; j < na; j++) {
                double d = 0;
                for (int c = 0; c < DIM; c++) d += x[i][c] * x[j][c];
                fp.embed_gram[fp_gram_index(na, i, j)] = (int16_t)lround(d * 32767);
            }
        fp_lsh_keys(&fp, fp.embed_gram);
        unsigned char *blob;
        size_t len;
        char name[64];
        snprintf(name, sizeof name, "synthetic/%08ld", e);
        uint64_t sample_key = (uint64_t)e * 0x9e3779b97f4a7c15ull;
        if (fp_serialize(&fp, &blob, &len, &err)) {
            fprintf(stderr, "mkindex: %s\n", err.message);
            return 1;
        }
        if (pg) {   /* the same row pg_add writes: sample_key >> 1 fits a BIGINT */
            int64_t id = id0 + 1 + e;
            cput_be(&ent, 7, 2);
            cfield_i64(&ent, id);
            cfield(&ent, name, strlen(name));
            cfield(&ent, name, strlen(name));
            cfield(&ent, "synthetic", 9);
            cfield(&ent, "2026-01-01T00:00:00Z", 20);
            cfield_i64(&ent, (int64_t)(sample_key >> 1));
            cfield(&ent, blob, len);
            if (ent.n > (8u << 20)) copy_flush(pg, &ent);
            for (uint32_t k = 0; k < fp.n_keys; k++) {
                cput_be(&keys, 3, 2);
                cfield_i64(&keys, (int64_t)fp.keys[k]);
                cfield_i64(&keys, (int64_t)(sample_key >> 1));
                cfield_i64(&keys, id);
            }
        } else {
            int added;
            if (s->ops->add(s, name, name, "synthetic", blob, len, fp.keys, fp.n_keys, sample_key, 0, &added, &err)) {
                fprintf(stderr, "mkindex: %s\n", err.message);
                return 1;
            }
        }
        free(blob);
        if (e % 10000 == 9999) fprintf(stderr, "mkindex: %ld\n", e + 1);
    }
    if (lite) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    else {
        if (n > 0) copy_end(pg, &ent);
        cbuf kb = {0};
        copy_begin(pg, "COPY lineage_keys (key, sample_key, entry) FROM STDIN (FORMAT binary)", &kb);
        copy_flush(pg, &kb);
        for (size_t off = 0; off < keys.n; off += 8u << 20) {
            size_t part = keys.n - off < (8u << 20) ? keys.n - off : (8u << 20);
            if (PQputCopyData(pg, (const char *)keys.p + off, (int)part) != 1) { fprintf(stderr, "mkindex: COPY: %s", PQerrorMessage(pg)); return 1; }
        }
        copy_end(pg, &kb);
        pg_exec(pg, "SELECT setval(pg_get_serial_sequence('lineage_entries', 'id'), (SELECT max(id) FROM lineage_entries))");
        char upd[80];
        snprintf(upd, sizeof upd, "UPDATE lineage_counts SET entries = entries + %ld", n);
        pg_exec(pg, upd);
        pg_exec(pg, "ALTER TABLE lineage_entries ENABLE TRIGGER lineage_entries_count");
        pg_exec(pg, "COMMIT");
        pg_exec(pg, "VACUUM ANALYZE lineage_entries");   /* as autovacuum would: visibility map set, index-only scans */
        pg_exec(pg, "VACUUM ANALYZE lineage_keys");
        free(kb.p);
    }
    free(ent.p);
    free(keys.p);
    free(x);
    fp_free(&fp);
    index_store_close(s);
    return 0;
}
