/* SentencePiece's precompiled character map (NormalizerSpec.precompiled_charsmap, and the base64
 * "precompiled_charsmap" of tokenizer.json's Precompiled normalizer). The blob is a little-endian
 * uint32 byte size of a double-array trie, the trie (darts-clone layout: one uint32 unit per node),
 * then a pool of NUL-terminated replacement strings; a key's leaf value is an offset into the pool.
 * Normalizing replaces, at every position, the longest key that starts there by its string, and
 * copies one character where no key starts. */
#include <string.h>

#include "format/tokenizer.h"
#include "util/error.h"
#include "util/strbuf.h"

struct tok_charsmap {
    uint32_t *unit;
    size_t n_units;
    const char *pool;
    size_t pool_len;
};

/* darts-clone unit fields */
static uint32_t unit_has_leaf(uint32_t u) { return (u >> 8) & 1; }
static uint32_t unit_value(uint32_t u) { return u & 0x7FFFFFFFu; }
static uint32_t unit_label(uint32_t u) { return u & 0x800000FFu; }
static uint32_t unit_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

lineage_status tok_charsmap_load(lineage_tokenizer *t, const void *blob, size_t len, const tok_charsmap **out,
                                 const char *what, lineage_error *err)
{
    const unsigned char *b = blob;
    *out = NULL;
    if (len == 0) return LINEAGE_OK;   /* the identity rule stores an empty map */
    if (len < 4) return error_set(err, LINEAGE_E_FORMAT, "%s: precompiled_charsmap shorter than its header", what);
    uint32_t trie_bytes = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    if (trie_bytes == 0 || trie_bytes % 4 || trie_bytes > len - 4)
        return error_set(err, LINEAGE_E_FORMAT, "%s: precompiled_charsmap trie size %u does not fit its %zu bytes", what,
                         trie_bytes, len);
    tok_charsmap *m = arena_alloc(&t->arena, sizeof *m);
    uint32_t *unit = arena_alloc(&t->arena, trie_bytes);
    char *pool = arena_alloc(&t->arena, len - 4 - trie_bytes + 1);
    if (!m || !unit || !pool) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
    for (size_t i = 0; i < trie_bytes / 4; i++) {
        const unsigned char *p = b + 4 + 4 * i;
        unit[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    }
    memcpy(pool, b + 4 + trie_bytes, len - 4 - trie_bytes);
    pool[len - 4 - trie_bytes] = 0;   /* a last string without its NUL still ends */
    m->unit = unit;
    m->n_units = trie_bytes / 4;
    m->pool = pool;
    m->pool_len = len - 4 - trie_bytes;
    *out = m;
    return LINEAGE_OK;
}

size_t tok_charsmap_match(const tok_charsmap *m, const char *s, size_t n, const char **rep, size_t *rep_len)
{
    size_t pos = unit_offset(m->unit[0]), best = 0;
    uint32_t value = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        pos ^= c;
        if (pos >= m->n_units) break;
        uint32_t u = m->unit[pos];
        if (unit_label(u) != c) break;
        pos ^= unit_offset(u);
        if (unit_has_leaf(u)) {
            if (pos >= m->n_units) break;
            uint32_t v = unit_value(m->unit[pos]);
            if (v < m->pool_len) best = i + 1, value = v;   /* hostile values outside the pool never match */
        }
    }
    if (!best) return 0;
    *rep = m->pool + value;
    *rep_len = strlen(*rep);   /* the pool ends with a NUL (tok_charsmap_load) */
    return best;
}

int tok_charsmap_apply(const tok_charsmap *m, strbuf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        const char *rep;
        size_t rl, k = tok_charsmap_match(m, s + i, n - i, &rep, &rl);
        if (k) {
            sb_putn(out, rep, rl);
            i += k;
            continue;
        }
        uint32_t cp;
        k = tok_utf8_next(s + i, n - i, &cp);
        sb_putn(out, s + i, k);
        i += k;
    }
    return !out->failed;
}
