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
    for (long e = 0; e < n; e++) {
        if (e % 2000 == 0) {   /* bulk load: adds join one transaction per 2000 entries */
            if (e && lite) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
            if (e && !lite) PQclear(PQexec(s->db, "COMMIT"));
            if (lite) sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
            else PQclear(PQexec(s->db, "BEGIN"));
        }
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
        int added;
        if (fp_serialize(&fp, &blob, &len, &err) ||
            s->ops->add(s, name, name, "synthetic", blob, len, fp.keys, fp.n_keys, (uint64_t)e * 0x9e3779b97f4a7c15ull, 0,
                        &added, &err)) {
            fprintf(stderr, "mkindex: %s\n", err.message);
            return 1;
        }
        free(blob);
        if (e % 10000 == 9999) fprintf(stderr, "mkindex: %ld\n", e + 1);
    }
    if (lite) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    else PQclear(PQexec(s->db, "COMMIT"));
    free(x);
    fp_free(&fp);
    index_store_close(s);
    return 0;
}
