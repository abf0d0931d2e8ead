/* WordPiece (BERT): greedy longest match from the start of each word, later pieces carrying the
 * continuation prefix ("##"); a word with an unmatched rest is one unknown token. WordLevel: the
 * whole word or unknown. */
#include <stdlib.h>
#include <string.h>

#include "format/tokenizer_encode.h"
#include "util/error.h"

static lineage_status push_unk(const lineage_tokenizer *t, tok_ids *out, lineage_error *err)
{
    if (t->unk_id < 0) return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: word not in vocabulary and no unk token", t->path);
    return tok_ids_push(out, (uint32_t)t->unk_id) ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
}

lineage_status tok_wordpiece_encode(const lineage_tokenizer *t, tok_encoder *e, const char *s, size_t n,
                                    tok_ids *out, lineage_error *err)
{
    (void)e;
    if (t->model == TOK_MODEL_WORDLEVEL) {
        uint32_t id = tok_map_get(&t->by_text, s, n);
        if (id == UINT32_MAX) return push_unk(t, out, err);
        return tok_ids_push(out, id) ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) chars += ((unsigned char)s[i] & 0xC0) != 0x80;
    if (chars > t->max_input_chars_per_word) return push_unk(t, out, err);
    const char *pfx = t->continuing_prefix ? t->continuing_prefix : "##", *wpfx = t->word_prefix ? t->word_prefix : "";
    size_t pl = strlen(pfx), wl = strlen(wpfx), start_n = out->n;
    char *buf = malloc(n + (pl > wl ? pl : wl) + 1);
    if (!buf) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t start = 0; start < n;) {
        size_t end = n, off = start ? pl : wl;
        uint32_t found = UINT32_MAX;
        memcpy(buf, start ? pfx : wpfx, off);
        while (end > start) {
            memcpy(buf + off, s + start, end - start);
            found = tok_map_get(&t->by_text, buf, off + end - start);
            if (found != UINT32_MAX) break;
            end--;
            while (end > start && ((unsigned char)s[end] & 0xC0) == 0x80) end--;
        }
        if (found == UINT32_MAX) {
            free(buf);
            out->n = start_n;
            return push_unk(t, out, err);
        }
        if (!tok_ids_push(out, found)) {
            free(buf);
            return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        }
        start = end;
    }
    free(buf);
    return LINEAGE_OK;
}
