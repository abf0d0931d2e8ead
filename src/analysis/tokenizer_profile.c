/* inspect's tokenizer section: format, type, vocabulary, special tokens with their roles, byte fallback,
 * ordinary tokens counted by script (the "how many Korean tokens" question) and tokens per character
 * of the built-in probe text by language. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/tokenizer_compare.h"
#include "util/error.h"

#define NOMEM(err) error_set(err, LINEAGE_E_NOMEM, "out of memory")

enum { S_HANGUL, S_CJK, S_KANA, S_LATIN, S_CYRILLIC, S_ARABIC, S_OTHER_LETTERS, S_MIXED, S_NO_LETTERS, S_BYTES, S_COUNT };
static const char *const script_names[S_COUNT] = {"hangul", "cjk", "kana", "latin", "cyrillic", "arabic",
                                                  "other_letters", "mixed", "no_letters", "partial_utf8"};

/* Decodes one UTF-8 code point at s (n bytes left); returns its length, 0 when invalid or cut. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (!n) return 0;
    if (s[0] < 0x80) { *cp = s[0]; return 1; }
    size_t len = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || len > n) return 0;
    uint32_t c = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = c << 6 | (s[i] & 0x3F);
    }
    static const uint32_t min_of_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min_of_len[len] || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) return 0;   /* overlong, surrogate, too large */
    *cp = c;
    return len;
}

/* The script of a letter, or -1 for digits, punctuation, spaces and symbols. */
static int script_of(uint32_t c)
{
    if ((c >= 0xAC00 && c <= 0xD7A3) || (c >= 0x1100 && c <= 0x11FF) || (c >= 0x3130 && c <= 0x318F)) return S_HANGUL;
    if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
        (c >= 0x20000 && c <= 0x3FFFF))
        return S_CJK;
    if (c >= 0x3040 && c <= 0x30FF) return S_KANA;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7)) return S_LATIN;
    if (c >= 0x400 && c <= 0x4FF) return S_CYRILLIC;
    if (c >= 0x600 && c <= 0x6FF) return S_ARABIC;
    if (c < 0x370 || (c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFF20) ||
        (c >= 0x1F000 && c <= 0x1FAFF))
        return -1;   /* ASCII and Latin-1 symbols, punctuation, CJK punctuation, full-width forms, emoji */
    return S_OTHER_LETTERS;
}

static int token_script(const char *bytes, size_t len)
{
    const unsigned char *s = (const unsigned char *)bytes;
    int found = -1, mixed = 0;
    for (size_t i = 0; i < len;) {   /* to the end: a byte piece after two scripts is still a byte piece */
        uint32_t c;
        size_t k = utf8_next(s + i, len - i, &c);
        if (!k) return S_BYTES;
        i += k;
        int sc = script_of(c);
        if (sc < 0) continue;
        mixed |= found >= 0 && found != sc;
        found = sc;
    }
    return mixed ? S_MIXED : found >= 0 ? found : S_NO_LETTERS;
}

static const char *const role_names[6] = {"bos", "eos", "unk", "pad", "sep", "cls"};

lineage_status tokenizer_profile(const lineage_tokenizer *t, arena *ar, json_value *o, lineage_error *err)
{
    static const char *const models[] = {"BPE", "Unigram", "WordPiece", "WordLevel"};
    static const char *const surfaces[] = {"raw", "byte_level", "sentencepiece", "wordpiece_word_start"};
    int ok = json_set_str(ar, o, "format", t->format ? t->format : "?") &&
             json_set_str(ar, o, "type", (unsigned)t->model < 4 ? models[t->model] : "?") &&
             json_set_str(ar, o, "surface", (unsigned)t->surface < 4 ? surfaces[t->surface] : "?") &&
             json_set_int(ar, o, "ordinary", (int64_t)t->n_ordinary) && json_set_int(ar, o, "special", (int64_t)t->n_special) &&
             json_set_int(ar, o, "merges", (int64_t)t->n_merges) && json_set_bool(ar, o, "byte_fallback", t->byte_fallback);
    if (!ok) return NOMEM(err);
    /* ordinary tokens by the script of their letters */
    size_t counts[S_COUNT] = {0};
    for (size_t i = 0; i < t->n; i++)
        if (t->tok[i].text && !t->tok[i].special) counts[token_script(t->tok[i].bytes, t->tok[i].len)]++;
    json_value *sc = json_new_object(ar);
    if (!sc || !json_set(ar, o, "scripts", sc)) return NOMEM(err);
    for (int k = 0; k < S_COUNT; k++)
        if (!json_set_int(ar, sc, script_names[k], (int64_t)counts[k])) return NOMEM(err);
    /* special tokens: the roles first, then the others (at most 24 listed; the count is above) */
    json_value *sp = json_new_array(ar);
    if (!sp || !json_set(ar, o, "specials", sp)) return NOMEM(err);
    size_t listed = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < t->n && listed < 24; i++) {
            const tok_entry *e = &t->tok[i];
            if (!e->text || !e->special) continue;
            const char *role = NULL;
            for (int r = 0; r < 6 && !role; r++)
                if (t->special_roles[r] && strlen(t->special_roles[r]) == e->text_len &&
                    !memcmp(t->special_roles[r], e->text, e->text_len))
                    role = role_names[r];
            if ((pass == 0) != (role != NULL)) continue;
            json_value *x = json_new_object(ar);
            if (!x || !json_set_int(ar, x, "id", (int64_t)i) ||
                !json_set(ar, x, "text", json_new_stringn(ar, e->text, e->text_len)) ||
                (role && !json_set_str(ar, x, "role", role)) || !json_push(ar, sp, x))
                return NOMEM(err);
            listed++;
        }
    }
    return tokenizer_probe_profile(t, ar, o, err);
}
