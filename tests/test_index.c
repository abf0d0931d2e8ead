/* Candidate retrieval of the fingerprint index (io/index_store.c index_candidates): hits counted in C
 * from the keys' postings, most hits first and ties by id, the per-key cap by sample_key, the skip
 * list; on a stand-in store (ids dense and sparse) and on a real SQLite index (the kept entry count). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "io/index_store.h"

/* ---- a stand-in store: postings from a table of (key, sample_key, entry), fetch echoes the ids ---- */

typedef struct posting { uint64_t key; int64_t sample_key, entry; } posting;
static const posting *fake_rows;
static size_t fake_n;

static int cmp_posting(const void *x, const void *y)
{
    const posting *a = x, *b = y;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    if (a->sample_key != b->sample_key) return a->sample_key < b->sample_key ? -1 : 1;
    return a->entry < b->entry ? -1 : a->entry > b->entry;
}

static size_t keys_read;   /* keys asked of the store, for the cache check */

static lineage_status fake_postings(index_store *s, const uint64_t *keys, size_t nkeys, size_t per_key, int64_t **ids,
                                    size_t *n, size_t *ends, lineage_error *err)
{
    (void)s; (void)err;
    keys_read += nkeys;
    posting *sorted = malloc(fake_n * sizeof *sorted);
    int64_t *out = malloc((fake_n ? fake_n : 1) * sizeof *out);
    memcpy(sorted, fake_rows, fake_n * sizeof *sorted);
    qsort(sorted, fake_n, sizeof *sorted, cmp_posting);
    size_t m = 0;
    for (size_t k = 0; k < nkeys; k++) {
        size_t taken = 0;
        size_t from = m;
        for (size_t i = 0; i < fake_n; i++)
            if (sorted[i].key == keys[k] && taken < per_key) { out[m++] = sorted[i].entry; taken++; }
        /* reversed: the counting must not depend on the order rows come in */
        for (size_t i = from, j = m; i + 1 < j; i++, j--) { int64_t t = out[i]; out[i] = out[j - 1]; out[j - 1] = t; }
        ends[k] = m;
    }
    free(sorted);
    *ids = out;
    *n = m;
    return LINEAGE_OK;
}

static lineage_status fake_fetch(index_store *s, const int64_t *ids, size_t n, index_row_fn fn, void *user, lineage_error *err)
{
    (void)s; (void)err;
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "%lld", (long long)ids[i]);
        index_row r = {ids[i], name, name, "", "", NULL, 0, 0};
        if (fn(&r, user)) break;
    }
    return LINEAGE_OK;
}

typedef struct got { int64_t id[64]; int hits[64]; int n; } got;
static int collect(const index_row *r, void *user)
{
    got *g = user;
    if (g->n < 64) { g->id[g->n] = r->id; g->hits[g->n++] = r->hits; }
    return 0;
}

/* "id:hits id:hits ..." */
static const char *show(const got *g)
{
    static char buf[1024];
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < g->n && o < sizeof buf - 40; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%lld:%d", i ? " " : "", (long long)g->id[i], g->hits[i]);
    return buf;
}

static const char *run_cached(index_store *s, const uint64_t *keys, size_t nkeys, size_t per_key, size_t limit,
                              const int64_t *skip, size_t nskip, index_postings *cache)
{
    got g = {{0}, {0}, 0};
    lineage_error err;
    if (index_candidates(s, keys, nkeys, per_key, limit, skip, nskip, cache, collect, &g, &err)) return "error";
    return show(&g);
}
static const char *run(index_store *s, const uint64_t *keys, size_t nkeys, size_t per_key, size_t limit, const int64_t *skip,
                       size_t nskip)
{
    return run_cached(s, keys, nkeys, per_key, limit, skip, nskip, NULL);
}

static void stand_in(int64_t base)
{
    /* entries base+1..base+6; keys A=1 B=2 C=3 D=4; sample keys give the cap's order */
    enum { A = 1, B = 2, C = 3, D = 4 };
    const posting rows[] = {
        {A, 50, base + 1}, {B, 50, base + 1}, {C, 50, base + 1},
        {A, 10, base + 2}, {B, 10, base + 2},
        {A, 20, base + 3},
        {A, 30, base + 4}, {C, 30, base + 4},
        {D, 40, base + 5},
        {A, 60, base + 6}, {B, 60, base + 6}, {C, 60, base + 6},
    };
    fake_rows = rows;
    fake_n = sizeof rows / sizeof *rows;
    static const index_ops ops = {NULL, NULL, NULL, NULL, NULL, fake_postings, fake_fetch, NULL, NULL};
    index_store s = {&ops, NULL, NULL, "test", NULL};
    const uint64_t abc[] = {C, A, B}, aa[] = {A, A};
    char want[256], what[64];
    snprintf(what, sizeof what, "ids from %lld", (long long)base);
#define ID(k) (long long)(base + (k))
    snprintf(want, sizeof want, "%lld:3 %lld:3 %lld:2 %lld:2 %lld:1", ID(1), ID(6), ID(2), ID(4), ID(3));
    const char *g = run(&s, abc, 3, 100, 10, NULL, 0);
    CHECK(!strcmp(g, want), "%s: most keys shared first, ties by id (%s)", what, g);
    snprintf(want, sizeof want, "%lld:3 %lld:3 %lld:2", ID(1), ID(6), ID(2));
    g = run(&s, abc, 3, 100, 3, NULL, 0);
    CHECK(!strcmp(g, want), "%s: the limit cuts a level of ties at the smaller ids (%s)", what, g);
    /* per key 2, by sample key: A -> 2, 3; B -> 2, 1; C -> 4, 1 */
    snprintf(want, sizeof want, "%lld:2 %lld:2 %lld:1 %lld:1", ID(1), ID(2), ID(3), ID(4));
    g = run(&s, abc, 3, 2, 10, NULL, 0);
    CHECK(!strcmp(g, want), "%s: a key counts for its per-key first entries by sample key (%s)", what, g);
    const int64_t skip[] = {base + 3, base + 1, base + 99};
    snprintf(want, sizeof want, "%lld:3 %lld:2", ID(6), ID(2));
    g = run(&s, abc, 3, 100, 3, skip, 3);
    CHECK(!strcmp(g, want), "%s: entries seen already are ranked but not fetched (%s)", what, g);
    snprintf(want, sizeof want, "%lld:1 %lld:1 %lld:1 %lld:1", ID(1), ID(2), ID(3), ID(4));
    g = run(&s, aa, 2, 100, 4, NULL, 0);
    CHECK(!strcmp(g, want), "%s: a key given twice counts once (%s)", what, g);
    /* the cache: a second search over keys read already asks the store for the new ones only */
    index_postings cache = {0};
    const uint64_t ab[] = {A, B}, bcd[] = {B, C, D};
    char first[256], second[256];
    snprintf(first, sizeof first, "%s", run(&s, ab, 2, 100, 10, NULL, 0));
    snprintf(second, sizeof second, "%s", run(&s, bcd, 3, 100, 10, NULL, 0));
    keys_read = 0;
    g = run_cached(&s, ab, 2, 100, 10, NULL, 0, &cache);
    int same = !strcmp(g, first);
    g = run_cached(&s, bcd, 3, 100, 10, NULL, 0, &cache);
    CHECK(same && !strcmp(g, second) && keys_read == 4, "%s: cached postings give the same candidates, %zu keys read for 4 distinct", what,
          keys_read);
    index_postings_free(&cache);
#undef ID
}

/* ---- a real SQLite index: the same ranking, the count kept by triggers ---- */

static void sqlite_index(void)
{
    char dir[] = "/tmp/lineage-test-index.XXXXXX", path[256];
    if (!mkdtemp(dir)) { CHECK(0, "a temporary folder"); return; }
    snprintf(path, sizeof path, "%s/ix.db", dir);
    index_store *s;
    lineage_error err;
    if (index_store_open(path, &s, &err)) {
        CHECK(0, "a SQLite index opens (%s)", err.message);
        return;
    }
    struct { const char *name; uint64_t keys[3]; size_t nk; uint64_t sample; } e[] = {
        {"e1", {1, 2, 3}, 3, 50 << 1}, {"e2", {1, 2}, 2, 10 << 1}, {"e3", {1}, 1, 20 << 1},
        {"e4", {1, 3}, 2, 30 << 1},    {"e5", {4}, 1, 40 << 1},    {"e6", {1, 2, 3}, 3, 60 << 1},
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof e / sizeof *e; i++) {
        int added = 0;
        ok &= !s->ops->add(s, e[i].name, e[i].name, "", (const unsigned char *)"x", 1, e[i].keys, e[i].nk, e[i].sample, 0, &added, &err) &&
              added;
    }
    CHECK(ok, "six entries added");
    uint64_t n = 0;
    int c = !s->ops->count(s, &n, &err);
    CHECK(c && n == 6, "the kept count is 6 (%llu)", (unsigned long long)n);
    const uint64_t abc[] = {1, 2, 3};
    const char *g = run(s, abc, 3, 100, 10, NULL, 0);
    CHECK(!strcmp(g, "1:3 6:3 2:2 4:2 3:1"), "sqlite: most keys shared first, ties by id (%s)", g);
    g = run(s, abc, 3, 2, 10, NULL, 0);
    CHECK(!strcmp(g, "1:2 2:2 3:1 4:1"), "sqlite: a key counts for its per-key first entries by sample key (%s)", g);
    int removed = 0, added = 0;
    c = !s->ops->remove(s, "e5", &removed, &err) && removed && !s->ops->count(s, &n, &err);
    CHECK(c && n == 5, "remove: the kept count is 5 (%llu)", (unsigned long long)n);
    c = !s->ops->add(s, "e2", "e2", "", (const unsigned char *)"y", 1, e[1].keys, 2, e[1].sample, 1, &added, &err) && added &&
        !s->ops->count(s, &n, &err);
    CHECK(c && n == 5, "replace: the kept count stays 5 (%llu)", (unsigned long long)n);
    c = !s->ops->add(s, "e2", "e2", "", (const unsigned char *)"y", 1, e[1].keys, 2, e[1].sample, 0, &added, &err) && !added &&
        !s->ops->count(s, &n, &err);
    CHECK(c && n == 5, "an entry present already: not added, the count stays 5 (%llu)", (unsigned long long)n);
    index_store_close(s);
    /* reopened: the schema is current, read without migrating */
    c = !index_store_open(path, &s, &err);
    c = c && !s->ops->count(s, &n, &err);
    CHECK(c && n == 5, "reopened: 5 entries (%llu)", (unsigned long long)n);
    if (s) index_store_close(s);
    char f[300];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(f, sizeof f, "%s%s", path, suffix[i]);
        unlink(f);
    }
    rmdir(dir);
}

int main(void)
{
    stand_in(0);              /* dense ids: a count per id */
    stand_in(1000000000000);  /* sparse: sorted */
    stand_in(-100);           /* negative ids (not written by lineage): sorted */
    sqlite_index();
    CHECK_EXIT();
}
