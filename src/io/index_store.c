/* Fingerprint index: engine choice by URI, the shared schema migrations. */
#include <stdint.h>
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
    /* 2: the number of entries kept by triggers, so a search need not count them (a scan of every row);
     * each key row carries its entry's sample_key, so a key's postings can be read in that (random)
     * order and cut at a cap, from the primary key's B-tree */
    "{LOCK_WRITERS}"
    "CREATE TABLE lineage_counts (entries BIGINT NOT NULL);\n"
    "INSERT INTO lineage_counts (entries) SELECT count(*) FROM lineage_entries;\n"
    "{COUNT_TRIGGERS};\n"
    "CREATE TABLE lineage_keys2 (key BIGINT NOT NULL, sample_key BIGINT NOT NULL, entry BIGINT NOT NULL"
    " REFERENCES lineage_entries (id) ON DELETE CASCADE, PRIMARY KEY (key, sample_key, entry));\n"
    "INSERT INTO lineage_keys2 (key, sample_key, entry) SELECT k.key, e.sample_key, k.entry FROM lineage_keys k"
    " JOIN lineage_entries e ON e.id = k.entry;\n"
    "DROP TABLE lineage_keys;\n"
    "ALTER TABLE lineage_keys2 RENAME TO lineage_keys;\n"
    "CREATE INDEX lineage_keys_entry ON lineage_keys (entry)",
};

int index_row_count(const index_row *r, void *counter)
{
    index_row_counter *c = counter;
    c->n++;
    return c->stop = c->fn(r, c->user);
}

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

/* ---- candidates ---- */

/* LSD radix sort of non-negative ids, tmp as large as v */
static void sort_ids(int64_t *v, int64_t *tmp, size_t n)
{
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++) if ((uint64_t)v[i] > max) max = (uint64_t)v[i];
    for (int shift = 0; shift < 64 && (max >> shift) > 0; shift += 11) {
        size_t count[2049] = {0};
        for (size_t i = 0; i < n; i++) count[((uint64_t)v[i] >> shift & 2047) + 1]++;
        for (int b = 0; b < 2048; b++) count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++) tmp[count[(uint64_t)v[i] >> shift & 2047]++] = v[i];
        memcpy(v, tmp, n * sizeof *v);
    }
}

static int cmp_id(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

typedef struct hit { int64_t id; int hits; } hit;

/* most hits first, then smaller id */
static int cmp_hit(const void *x, const void *y)
{
    const hit *a = x, *b = y;
    if (a->hits != b->hits) return a->hits > b->hits ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* The distinct ids of the postings with their hits, in increasing id order: a count per id when the ids
 * are dense (an array as long as the largest id, 2 bytes each), else the ids sorted and their runs. */
typedef struct tally {
    int64_t *ids;          /* sorted (sparse case) */
    size_t n;
    uint16_t *count;       /* count[id] (dense case) */
    int64_t max;
} tally;
typedef struct tally_it { size_t i; int64_t id; int hits; } tally_it;
static int tally_next(const tally *t, tally_it *it)
{
    if (t->count) {
        while ((int64_t)it->i <= t->max && !t->count[it->i]) it->i++;
        if ((int64_t)it->i > t->max) return 0;
        it->id = (int64_t)it->i;
        it->hits = t->count[it->i++];
        return 1;
    }
    if (it->i >= t->n) return 0;
    size_t j = it->i + 1;
    while (j < t->n && t->ids[j] == t->ids[it->i]) j++;
    it->id = t->ids[it->i];
    it->hits = j - it->i > 65535 ? 65535 : (int)(j - it->i);
    it->i = j;
    return 1;
}

typedef struct cand_ctx { index_row_fn fn; void *user; const hit *h; size_t n, at; } cand_ctx;
static int cand_row(const index_row *r, void *user)
{
    cand_ctx *c = user;
    while (c->at < c->n && c->h[c->at].id != r->id) c->at++;
    index_row row = *r;
    row.hits = c->at < c->n ? c->h[c->at].hits : 0;
    return c->fn(&row, c->user);
}

static int cmp_key(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

void index_postings_free(index_postings *c)
{
    free(c->keys);
    free(c->start);
    free(c->len);
    free(c->ids);
    memset(c, 0, sizeof *c);
}

static long cache_find(const index_postings *c, uint64_t key)
{
    for (size_t i = 0; i < c->nkeys; i++) if (c->keys[i] == key) return (long)i;
    return -1;
}

/* Reads the postings of the keys (distinct) not in the cache into it; seg[k] / seg_len[k] then point
 * at key k's ids in the cache (valid until the cache next grows). */
static lineage_status cached_postings(index_store *s, const uint64_t *keys, size_t nkeys, size_t per_key, index_postings *c,
                                      const int64_t **seg, size_t *seg_len, lineage_error *err)
{
    if (c->nkeys && c->per_key != per_key) index_postings_free(c);
    c->per_key = per_key;
    uint64_t *miss = malloc(nkeys * sizeof *miss);
    size_t *ends = malloc(nkeys * sizeof *ends), nmiss = 0;
    lineage_status st = LINEAGE_OK;
    if (!miss || !ends) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t k = 0; !st && k < nkeys; k++) if (cache_find(c, keys[k]) < 0) miss[nmiss++] = keys[k];
    int64_t *got = NULL;
    size_t ngot = 0;
    if (!st && nmiss) st = s->ops->postings(s, miss, nmiss, per_key, &got, &ngot, ends, err);
    if (!st && nmiss && c->nkeys + nmiss > c->cap_keys) {
        size_t ck = (c->nkeys + nmiss) * 2;
        uint64_t *k2 = realloc(c->keys, ck * sizeof *k2);
        if (k2) c->keys = k2;
        size_t *s2 = realloc(c->start, ck * sizeof *s2);
        if (s2) c->start = s2;
        size_t *l2 = realloc(c->len, ck * sizeof *l2);
        if (l2) c->len = l2;
        if (!k2 || !s2 || !l2) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        else c->cap_keys = ck;
    }
    if (!st && ngot) {
        if (!c->ids) {   /* the first read is kept as it is, not copied */
            c->ids = got;
            c->cap_ids = ngot;
            got = NULL;
        } else {
            if (c->nids + ngot > c->cap_ids) {
                int64_t *i2 = realloc(c->ids, (c->nids + ngot) * sizeof *i2);
                if (!i2) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
                else {
                    c->ids = i2;
                    c->cap_ids = c->nids + ngot;
                }
            }
            if (!st) memcpy(c->ids + c->nids, got, ngot * sizeof *got);
        }
    }
    for (size_t k = 0; !st && k < nmiss; k++) {
        size_t from = k ? ends[k - 1] : 0;
        c->keys[c->nkeys] = miss[k];
        c->start[c->nkeys] = c->nids + from;
        c->len[c->nkeys++] = ends[k] - from;
    }
    if (!st) c->nids += ngot;
    free(got);
    free(miss);
    free(ends);
    for (size_t k = 0; !st && k < nkeys; k++) {
        long i = cache_find(c, keys[k]);
        seg[k] = c->ids ? c->ids + c->start[i] : NULL;
        seg_len[k] = c->len[i];
    }
    return st;
}

lineage_status index_candidates(index_store *s, const uint64_t *keys_in, size_t nkeys, size_t per_key, size_t limit,
                                const int64_t *skip, size_t nskip, index_postings *cache, index_row_fn fn, void *user,
                                lineage_error *err)
{
    if (!nkeys || !limit) return LINEAGE_OK;
    /* each key once (a key's postings counted twice would count its entries twice) */
    uint64_t *keys = malloc(nkeys * sizeof *keys);
    const int64_t **seg = malloc(nkeys * sizeof *seg);
    size_t *seg_len = malloc(nkeys * sizeof *seg_len);
    index_postings own = {0};
    int64_t *tmp = NULL, *sorted = NULL, *fetch_ids = NULL;
    uint16_t *count = NULL;
    size_t *hist = NULL;
    hit *top = NULL;
    lineage_status st = LINEAGE_OK;
    if (!keys || !seg || !seg_len) goto nomem;
    memcpy(keys, keys_in, nkeys * sizeof *keys);
    qsort(keys, nkeys, sizeof *keys, cmp_key);
    size_t nk = 0;
    for (size_t i = 0; i < nkeys; i++) if (!nk || keys[i] != keys[nk - 1]) keys[nk++] = keys[i];
    nkeys = nk;
    st = cached_postings(s, keys, nkeys, per_key, cache ? cache : &own, seg, seg_len, err);
    if (st) goto done;
    /* an id appears once per key it shares: its count is its hits; counted in an array indexed by id
     * when the ids are dense, else on a sorted copy */
    size_t n = 0;
    int sparse = 0;
    tally t = {NULL, 0, NULL, 0};
    for (size_t k = 0; k < nkeys; k++) {
        n += seg_len[k];
        for (size_t i = 0; i < seg_len[k]; i++) {
            if (seg[k][i] < 0) sparse = 1;
            if (seg[k][i] > t.max) t.max = seg[k][i];
        }
    }
    if (!n) goto done;
    if (!sparse && (uint64_t)t.max <= 16 * (uint64_t)n + 65536) {
        if (!(count = calloc((size_t)t.max + 1, sizeof *count))) goto nomem;
        for (size_t k = 0; k < nkeys; k++)
            for (size_t i = 0; i < seg_len[k]; i++) if (count[seg[k][i]] < 65535) count[seg[k][i]]++;
        t.count = count;
    } else {
        if (!(sorted = malloc(n * sizeof *sorted))) goto nomem;
        for (size_t k = 0, m = 0; k < nkeys; m += seg_len[k], k++) memcpy(sorted + m, seg[k], seg_len[k] * sizeof *sorted);
        if (sparse) qsort(sorted, n, sizeof *sorted, cmp_id);   /* negative ids: not written by lineage */
        else {
            if (!(tmp = malloc(n * sizeof *tmp))) goto nomem;
            sort_ids(sorted, tmp, n);
        }
        t.ids = sorted;
        t.n = n;
    }
    /* the hits of the limit-th entry (threshold) and how many entries at that level get in, smaller ids
     * first; hits cannot exceed the number of keys (a key's postings name an entry once) */
    int maxh = nkeys < 65535 ? (int)nkeys : 65535;
    size_t above = 0;
    if (!(hist = calloc((size_t)maxh + 1, sizeof *hist)) || !(top = malloc(limit * sizeof *top))) goto nomem;
    tally_it it = {0, 0, 0};
    while (tally_next(&t, &it)) hist[it.hits < maxh ? it.hits : maxh]++;
    int threshold = maxh;
    while (threshold > 1 && above + hist[threshold] < limit) above += hist[threshold--];
    size_t quota = limit - above, nt = 0;
    it = (tally_it){0, 0, 0};
    while (nt < limit && tally_next(&t, &it)) {
        int h = it.hits < maxh ? it.hits : maxh;
        if (h > threshold || (h == threshold && quota > 0)) {
            if (h == threshold) quota--;
            top[nt].id = it.id;
            top[nt++].hits = h;
        }
    }
    qsort(top, nt, sizeof *top, cmp_hit);
    /* ids seen already are not fetched again */
    int64_t *sk = NULL;
    if (nskip) {
        if (!(sk = malloc(nskip * sizeof *sk))) goto nomem;
        memcpy(sk, skip, nskip * sizeof *sk);
        qsort(sk, nskip, sizeof *sk, cmp_id);
    }
    size_t nf = 0;
    for (size_t i = 0; i < nt; i++) {
        size_t lo = 0, hi = nskip;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (sk[mid] < top[i].id) lo = mid + 1;
            else hi = mid;
        }
        if (lo < nskip && sk[lo] == top[i].id) continue;
        top[nf++] = top[i];
    }
    free(sk);
    if (nf && !(fetch_ids = malloc(nf * sizeof *fetch_ids))) goto nomem;
    for (size_t i = 0; i < nf; i++) fetch_ids[i] = top[i].id;
    cand_ctx c = {fn, user, top, nf, 0};
    if (nf) st = s->ops->fetch(s, fetch_ids, nf, cand_row, &c, err);
    goto done;
nomem:
    st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
done:
    index_postings_free(&own);
    free(keys);
    free(seg);
    free(seg_len);
    free(tmp);
    free(sorted);
    free(count);
    free(hist);
    free(top);
    free(fetch_ids);
    return st;
}
