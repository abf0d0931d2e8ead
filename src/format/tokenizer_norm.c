/* Unicode normalization forms NFD, NFKD, NFC, NFKC (UAX #15) for the NFC/NFKC/NFD/NFKD
 * normalizer steps: full decomposition (table mappings applied recursively, Hangul syllables
 * algorithmically), canonical ordering of combining marks, then canonical composition for the C
 * forms. The tables are generated at build time by tools/gen_tok_norm.awk from Debian's
 * unicode-data; without that package the build has none and tok_unicode_norm_available() is 0. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "format/tokenizer.h"
#include "util/strbuf.h"

struct tok_norm_ccc { uint32_t cp, ccc; };
struct tok_norm_decomp { uint32_t cp, compat, excluded, offset, len; };

#include "tok_norm_tables.h"

#define S_BASE 0xAC00u
#define L_BASE 0x1100u
#define V_BASE 0x1161u
#define T_BASE 0x11A7u
#define L_COUNT 19u
#define V_COUNT 21u
#define T_COUNT 28u
#define N_COUNT (V_COUNT * T_COUNT)
#define S_COUNT (L_COUNT * N_COUNT)
#define MAX_DEPTH 8   /* decomposition chains in Unicode are at most 4 deep */

int tok_unicode_norm_available(void) { return TOK_NORM_TABLES; }

static uint32_t ccc_of(uint32_t cp)
{
    if (cp < 0x300) return 0;
    size_t lo = 0, hi = sizeof tok_norm_ccc / sizeof tok_norm_ccc[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (tok_norm_ccc[mid].cp < cp) lo = mid + 1;
        else if (tok_norm_ccc[mid].cp > cp) hi = mid;
        else return tok_norm_ccc[mid].ccc;
    }
    return 0;
}

static const struct tok_norm_decomp *decomp_of(uint32_t cp)
{
    if (cp < 0xA0) return NULL;
    size_t lo = 0, hi = sizeof tok_norm_decomp / sizeof tok_norm_decomp[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (tok_norm_decomp[mid].cp < cp) lo = mid + 1;
        else if (tok_norm_decomp[mid].cp > cp) hi = mid;
        else return &tok_norm_decomp[mid];
    }
    return NULL;
}

/* Primary composites: canonical pairs whose composite is not excluded (listed exclusions, and
 * decompositions of or starting with a non-starter), sorted for binary search; built once. */
typedef struct comp_pair { uint64_t key; uint32_t composite; } comp_pair;
static comp_pair *comp;
static size_t n_comp;
static pthread_once_t comp_once = PTHREAD_ONCE_INIT;

static int cmp_comp(const void *x, const void *y)
{
    const comp_pair *a = x, *b = y;
    return a->key < b->key ? -1 : a->key > b->key;
}

static void build_comp(void)
{
    size_t n = sizeof tok_norm_decomp / sizeof tok_norm_decomp[0], k = 0;
    comp = malloc((n + 1) * sizeof *comp);
    if (!comp) return;
    for (size_t i = 0; i < n; i++) {
        const struct tok_norm_decomp *d = &tok_norm_decomp[i];
        if (d->compat || d->excluded || d->len != 2 || ccc_of(d->cp) || ccc_of(tok_norm_pool[d->offset])) continue;
        comp[k].key = (uint64_t)tok_norm_pool[d->offset] << 32 | tok_norm_pool[d->offset + 1];
        comp[k++].composite = d->cp;
    }
    qsort(comp, k, sizeof *comp, cmp_comp);
    n_comp = k;
}

static uint32_t compose_pair(uint32_t a, uint32_t b)
{
    if (a >= L_BASE && a < L_BASE + L_COUNT && b >= V_BASE && b < V_BASE + V_COUNT)
        return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT;
    if (a >= S_BASE && a < S_BASE + S_COUNT && (a - S_BASE) % T_COUNT == 0 && b > T_BASE && b < T_BASE + T_COUNT)
        return a + (b - T_BASE);
    uint64_t key = (uint64_t)a << 32 | b;
    size_t lo = 0, hi = n_comp;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (comp[mid].key < key) lo = mid + 1;
        else if (comp[mid].key > key) hi = mid;
        else return comp[mid].composite;
    }
    return 0;
}

typedef struct cp_buf { uint32_t *v; size_t n, cap; int failed; } cp_buf;

static void cp_push(cp_buf *b, uint32_t cp)
{
    if (b->failed) return;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        uint32_t *v = realloc(b->v, cap * sizeof *v);
        if (!v) { b->failed = 1; return; }
        b->v = v, b->cap = cap;
    }
    b->v[b->n++] = cp;
}

static void decompose(cp_buf *b, uint32_t cp, int compat, int depth)
{
    if (cp >= S_BASE && cp < S_BASE + S_COUNT) {
        uint32_t s = cp - S_BASE;
        cp_push(b, L_BASE + s / N_COUNT);
        cp_push(b, V_BASE + (s % N_COUNT) / T_COUNT);
        if (s % T_COUNT) cp_push(b, T_BASE + s % T_COUNT);
        return;
    }
    const struct tok_norm_decomp *d = decomp_of(cp);
    if (!d || (d->compat && !compat) || depth >= MAX_DEPTH) {
        cp_push(b, cp);
        return;
    }
    for (uint32_t i = 0; i < d->len; i++) decompose(b, tok_norm_pool[d->offset + i], compat, depth + 1);
}

int tok_unicode_normalize(struct strbuf *out, const char *s, size_t n, int compat, int compose)
{
    size_t i = 0;
    while (i < n && (unsigned char)s[i] < 0x80) i++;
    if (i == n || !TOK_NORM_TABLES) {   /* ASCII is in every normal form */
        sb_putn(out, s, n);
        return !out->failed;
    }
    if (compose) pthread_once(&comp_once, build_comp);
    if (compose && !comp) return 0;
    cp_buf b = {0};
    for (i = 0; i < n;) {
        uint32_t cp;
        i += tok_utf8_next(s + i, n - i, &cp);
        decompose(&b, cp, compat, 0);
    }
    uint32_t *cc = b.failed ? NULL : malloc((b.n + 1) * sizeof *cc);
    if (!cc) {
        free(b.v);
        return 0;
    }
    for (size_t k = 0; k < b.n; k++) cc[k] = ccc_of(b.v[k]);
    for (size_t k = 1; k < b.n; k++)   /* canonical ordering: stable sort of each run of marks by class */
        for (size_t j = k; j > 0 && cc[j] && cc[j - 1] > cc[j]; j--) {
            uint32_t t = b.v[j]; b.v[j] = b.v[j - 1]; b.v[j - 1] = t;
            t = cc[j]; cc[j] = cc[j - 1]; cc[j - 1] = t;
        }
    size_t m = b.n;
    if (compose && b.n) {
        size_t starter = 0, o = 1;
        uint32_t last = cc[0] ? 256 : 0;   /* 256: no starter yet, nothing composes */
        for (size_t k = 1; k < b.n; k++) {
            uint32_t c = b.v[k], comp_cp = last < 256 ? compose_pair(b.v[starter], c) : 0;
            if (comp_cp && (last < cc[k] || last == 0)) {
                b.v[starter] = comp_cp;
                continue;
            }
            if (cc[k] == 0) starter = o;
            last = cc[k];
            b.v[o++] = c;
        }
        m = o;
    }
    char u[4];
    for (size_t k = 0; k < m; k++) sb_putn(out, u, tok_utf8_put(u, b.v[k]));
    free(cc);
    free(b.v);
    return !out->failed;
}
