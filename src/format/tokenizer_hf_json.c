/* Hugging Face tokenizer.json (BPE byte-level or SentencePiece-style, Unigram, WordPiece, WordLevel)
 * and its sidecars tokenizer_config.json, special_tokens_map.json, added_tokens.json. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format/tokenizer.h"
#include "util/error.h"
#include "util/strbuf.h"

#define HF_MAX_DEPTH 8

static int is_type(const json_value *v, const char *type)
{
    const char *t = json_get_string(v, "type");
    return t && !strcmp(t, type);
}

/* Does any component (recursing into Sequence) have this type? */
static int has_component(const json_value *v, const char *type, int depth)
{
    if (!v || v->type != JSON_OBJECT || depth > HF_MAX_DEPTH) return 0;
    if (is_type(v, type)) return 1;
    static const char *const lists[] = {"normalizers", "pretokenizers", "decoders", "processors", NULL};
    for (int k = 0; lists[k]; k++) {
        const json_value *l = json_get(v, lists[k]);
        for (size_t i = 0; l && l->type == JSON_ARRAY && i < l->u.array.count; i++)
            if (has_component(l->u.array.items[i], type, depth + 1)) return 1;
    }
    return 0;
}

static const char *describe(lineage_tokenizer *t, const json_value *v)
{
    if (!v || v->type == JSON_NULL) return NULL;
    strbuf sb;
    sb_init(&sb);
    json_write(&sb, v, 0);
    const char *s = sb.failed ? NULL : arena_strdup(&t->arena, sb_str(&sb));
    sb_free(&sb);
    return s;
}

static lineage_status bad(lineage_error *err, const char *what, const char *problem)
{
    return error_set(err, LINEAGE_E_FORMAT, "%s: %s", what, problem);
}

static lineage_status pattern_of(tok_step *s, const json_value *v, const char *what, lineage_error *err)
{
    const json_value *p = json_get(v, "pattern");
    const char *r = json_get_string(p, "Regex"), *str = json_get_string(p, "String");
    if (r) s->pattern = r, s->pattern_len = json_get(p, "Regex")->u.string.len, s->pattern_is_regex = 1;
    else if (str) s->pattern = str, s->pattern_len = json_get(p, "String")->u.string.len;
    else return bad(err, what, "Split/Replace without a String or Regex pattern");
    return LINEAGE_OK;
}

static lineage_status parse_steps(lineage_tokenizer *t, const json_value *v, int pre, int depth, const char *what,
                                  lineage_error *err)
{
    if (!v || v->type == JSON_NULL) return LINEAGE_OK;
    if (v->type != JSON_OBJECT || depth > HF_MAX_DEPTH) return bad(err, what, "normalizer/pre_tokenizer is not an object");
    const char *type = json_get_string(v, "type");
    if (!type) return bad(err, what, "normalizer/pre_tokenizer without a type");
    if (!strcmp(type, "Sequence")) {
        const json_value *l = json_get(v, pre ? "pretokenizers" : "normalizers");
        if (!l || l->type != JSON_ARRAY) return bad(err, what, "Sequence without a list");
        for (size_t i = 0; i < l->u.array.count; i++) {
            lineage_status st = parse_steps(t, l->u.array.items[i], pre, depth + 1, what, err);
            if (st) return st;
        }
        return LINEAGE_OK;
    }
    static const struct { const char *name; tok_step_kind kind; int pre; } kinds[] = {
        {"NFC", TOK_STEP_NFC, 0}, {"NFKC", TOK_STEP_NFKC, 0}, {"Lowercase", TOK_STEP_LOWERCASE, 0},
        {"Replace", TOK_STEP_REPLACE, 0}, {"Prepend", TOK_STEP_PREPEND, 0}, {"Strip", TOK_STEP_STRIP, 0},
        {"BertNormalizer", TOK_STEP_BERT_NORMALIZER, 0}, {"NFD", TOK_STEP_NFD, 0}, {"NFKD", TOK_STEP_NFKD, 0},
        {"Precompiled", TOK_STEP_PRECOMPILED, 0},
        {"Split", TOK_STEP_SPLIT, 1}, {"ByteLevel", TOK_STEP_BYTELEVEL, 1}, {"Digits", TOK_STEP_DIGITS, 1},
        {"Metaspace", TOK_STEP_METASPACE, 1}, {"Whitespace", TOK_STEP_WHITESPACE, 1},
        {"WhitespaceSplit", TOK_STEP_WHITESPACE_SPLIT, 1}, {"Punctuation", TOK_STEP_PUNCTUATION, 1},
        {"BertPreTokenizer", TOK_STEP_BERT_PRE, 1},
    };
    size_t k = 0, nk = sizeof kinds / sizeof kinds[0];
    while (k < nk && !(kinds[k].pre == pre && !strcmp(kinds[k].name, type))) k++;
    if (k == nk) return LINEAGE_OK;   /* unknown steps are kept in the description; the encoder reports them */
    if (kinds[k].kind == TOK_STEP_BERT_PRE) {   /* whitespace split, then each punctuation mark alone */
        tok_step *w = tok_push_step(t, pre, TOK_STEP_WHITESPACE_SPLIT);
        if (!w) return error_set(err, LINEAGE_E_NOMEM, "%s: too many pre-tokenizer steps", what);
    }
    tok_step *s = tok_push_step(t, pre, kinds[k].kind);
    if (!s) return error_set(err, LINEAGE_E_NOMEM, "%s: too many normalizer/pre-tokenizer steps", what);
    int b;
    switch (s->kind) {
    case TOK_STEP_REPLACE: {
        lineage_status st = pattern_of(s, v, what, err);
        if (st) return st;
        const json_value *c = json_get(v, "content");
        if (!c || c->type != JSON_STRING) return bad(err, what, "Replace without content");
        s->content = c->u.string.s, s->content_len = c->u.string.len;
        break;
    }
    case TOK_STEP_PREPEND: {
        const json_value *c = json_get(v, "prepend");
        if (!c || c->type != JSON_STRING) return bad(err, what, "Prepend without a string");
        s->content = c->u.string.s, s->content_len = c->u.string.len;
        break;
    }
    case TOK_STEP_PRECOMPILED: {
        const json_value *c = json_get(v, "precompiled_charsmap");
        if (!c || c->type == JSON_NULL) break;   /* no map: identity */
        if (c->type != JSON_STRING) return bad(err, what, "Precompiled normalizer's precompiled_charsmap is not a string");
        unsigned char *blob = arena_alloc(&t->arena, c->u.string.len / 4 * 3 + 1);
        if (!blob) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
        long bl = tok_base64_decode(c->u.string.s, c->u.string.len, blob);
        if (bl < 0) return bad(err, what, "Precompiled normalizer's precompiled_charsmap has broken base64");
        return tok_charsmap_load(t, blob, (size_t)bl, &s->charsmap, what, err);
    }
    case TOK_STEP_STRIP:
        s->strip.left = json_get_bool(v, "left", &b) ? b : 1;
        s->strip.right = json_get_bool(v, "right", &b) ? b : 1;
        break;
    case TOK_STEP_BERT_NORMALIZER:
        s->bert.clean_text = json_get_bool(v, "clean_text", &b) ? b : 1;
        s->bert.lowercase = json_get_bool(v, "lowercase", &b) ? b : 1;
        s->bert.strip_accents = json_get_bool(v, "strip_accents", &b) ? b : s->bert.lowercase;
        s->bert.handle_chinese_chars = json_get_bool(v, "handle_chinese_chars", &b) ? b : 1;
        break;
    case TOK_STEP_SPLIT: {
        lineage_status st = pattern_of(s, v, what, err);
        if (st) return st;
        const char *beh = json_get_string(v, "behavior");
        s->behavior = !beh ? TOK_SPLIT_ISOLATED
                      : !strcmp(beh, "Removed") ? TOK_SPLIT_REMOVED
                      : !strcmp(beh, "MergedWithPrevious") ? TOK_SPLIT_MERGED_PREV
                      : !strcmp(beh, "MergedWithNext") ? TOK_SPLIT_MERGED_NEXT
                      : !strcmp(beh, "Contiguous") ? TOK_SPLIT_CONTIGUOUS : TOK_SPLIT_ISOLATED;
        s->invert = json_get_bool(v, "invert", &b) ? b : 0;
        break;
    }
    case TOK_STEP_BYTELEVEL:
        s->byte_level.add_prefix_space = json_get_bool(v, "add_prefix_space", &b) ? b : 0;
        s->byte_level.use_regex = json_get_bool(v, "use_regex", &b) ? b : 1;
        break;
    case TOK_STEP_DIGITS:
        s->digits.individual = json_get_bool(v, "individual_digits", &b) ? b : 0;
        break;
    case TOK_STEP_PUNCTUATION: {
        const char *beh = json_get_string(v, "behavior");
        s->behavior = beh && !strcmp(beh, "Contiguous") ? TOK_SPLIT_CONTIGUOUS : TOK_SPLIT_ISOLATED;
        break;
    }
    case TOK_STEP_METASPACE: {
        const json_value *c = json_get(v, "replacement");
        if (c && c->type == JSON_STRING) s->content = c->u.string.s, s->content_len = c->u.string.len;
        else s->content = "\xe2\x96\x81", s->content_len = 3;
        const char *scheme = json_get_string(v, "prepend_scheme");
        int add = json_get_bool(v, "add_prefix_space", &b) ? b : 1;
        s->metaspace.prepend = scheme ? strcmp(scheme, "never") != 0 : add;
        s->metaspace.prepend_first_only = scheme && !strcmp(scheme, "first");
        s->metaspace.split = json_get_bool(v, "split", &b) ? b : 1;
        break;
    }
    default:
        break;
    }
    return LINEAGE_OK;
}

static tok_type piece_type(const lineage_tokenizer *t, const char *s, size_t len)
{
    if (t->byte_fallback && len == 6 && !memcmp(s, "<0x", 3) && s[5] == '>') return TOK_BYTE;
    return TOK_NORMAL;
}

static lineage_status load_vocab_map(lineage_tokenizer *t, const json_value *vocab, const char *what,
                                     lineage_error *err)
{
    if (!vocab || vocab->type != JSON_OBJECT) return bad(err, what, "model.vocab is not an object");
    if (vocab->u.object.count > t->by_text.cap / 2) {
        tok_map_free(&t->by_text);
        if (!tok_map_init(&t->by_text, vocab->u.object.count + 1024)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    lineage_status rs = tok_reserve(t, vocab->u.object.count + 1024, what, err);
    if (rs) return rs;
    for (size_t i = 0; i < vocab->u.object.count; i++) {
        const json_member *m = &vocab->u.object.members[i];
        if (m->value->type != JSON_NUMBER || !m->value->u.number.is_int || m->value->u.number.i < 0)
            return error_set(err, LINEAGE_E_FORMAT, "%s: vocab id of '%.40s' is not a non-negative integer", what, m->key);
        if (m->value->u.number.i >= (1 << 24))
            return error_set(err, LINEAGE_E_FORMAT, "%s: token id %lld out of range", what,
                             (long long)m->value->u.number.i);
        lineage_status st = tok_set(t, (uint32_t)m->value->u.number.i, m->key, m->key_len, 0,
                                    piece_type(t, m->key, m->key_len), what, err);
        if (st) return st;
    }
    return LINEAGE_OK;
}

/* model.vocab and model.merges scanned straight from the text (json_parse_spans), without tree
 * nodes: they are most of a 200k-token tokenizer.json. */
typedef struct span_scan {
    const char *p, *end, *start;
    const char *what;
    lineage_error *err;
    arena *a;
} span_scan;

static void scan_ws(span_scan *sc)
{
    while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r')) sc->p++;
}

static lineage_status scan_err(span_scan *sc, const char *msg)
{
    return error_set(sc->err, LINEAGE_E_FORMAT, "%s: invalid JSON at byte %zu: %s", sc->what,
                     (size_t)(sc->p - sc->start), msg);
}

/* After an item: 1 at ',' (consumed), 0 at the closer (consumed), an error otherwise. */
static lineage_status scan_next(span_scan *sc, char closer, int *more)
{
    scan_ws(sc);
    if (sc->p < sc->end && *sc->p == ',') { sc->p++; *more = 1; return LINEAGE_OK; }
    if (sc->p < sc->end && *sc->p == closer) { sc->p++; *more = 0; return LINEAGE_OK; }
    return scan_err(sc, closer == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

/* The string literal at sc->p. Plain strings are borrowed from the text (it outlives the
 * tokenizer's use of them, see tok_load_hf_json); escapes, control characters, non-UTF-8 and
 * truncation take json_scan_string, which decodes into the arena or reports the error. */
static lineage_status scan_string(span_scan *sc, const char **s, size_t *len)
{
    const unsigned char *b = (const unsigned char *)sc->p + 1, *p = b, *end = (const unsigned char *)sc->end;
    unsigned high = 0;
    for (; p < end && *p != '"'; p++) {
        if (*p == '\\' || *p < 0x20) break;
        high |= *p;
    }
    if (p >= end || *p != '"' || ((high & 0x80) && !utf8_valid((const char *)b, (size_t)(p - b))))
        return json_scan_string(&sc->p, sc->end, sc->start, sc->a, s, len, sc->what, sc->err);
    *s = (const char *)b;
    *len = (size_t)(p - b);
    sc->p = (const char *)p + 1;
    return LINEAGE_OK;
}

/* Table sizes guessed from the span: a pretty-printed vocab entry takes ~25 bytes (compact ~12:
 * the map then regrows once). */
#define VOCAB_BYTES_PER_ENTRY 24

static lineage_status load_vocab_span(lineage_tokenizer *t, const json_span *sp, const char *text,
                                      const char *what, lineage_error *err)
{
    span_scan sc = {sp->begin + 1, sp->end, text, what, err, &t->arena};
    size_t guess = (size_t)(sp->end - sp->begin) / VOCAB_BYTES_PER_ENTRY + 1024;
    if (guess > t->by_text.cap / 2) {
        tok_map_free(&t->by_text);
        if (!tok_map_init(&t->by_text, guess)) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
    }
    lineage_status st = tok_reserve(t, guess < (1u << 24) ? guess : (1u << 24), what, err);
    if (st) return st;
    struct { const char *key; size_t len; uint32_t id; } batch[TOK_MAP_BATCH];
    size_t nb = 0;
    scan_ws(&sc);
    int more = !(sc.p < sc.end && *sc.p == '}');
    while (more || nb) {
        if (!more || nb == TOK_MAP_BATCH) {   /* the batch's slots load together, then the inserts run */
            for (size_t i = 0; i < nb; i++) tok_map_prefetch(&t->by_text, batch[i].key, batch[i].len);
            for (size_t i = 0; i < nb; i++)
                if ((st = tok_set(t, batch[i].id, batch[i].key, batch[i].len, 0,
                                  piece_type(t, batch[i].key, batch[i].len), what, err)))
                    return st;
            nb = 0;
            continue;
        }
        scan_ws(&sc);
        const char *key;
        size_t klen;
        if (sc.p >= sc.end || *sc.p != '"') return scan_err(&sc, "expected object key");
        if ((st = scan_string(&sc, &key, &klen))) return st;
        scan_ws(&sc);
        if (sc.p >= sc.end || *sc.p != ':') return scan_err(&sc, "expected ':'");
        sc.p++;
        scan_ws(&sc);
        uint64_t id = 0;
        const char *d = sc.p;
        while (sc.p < sc.end && *sc.p >= '0' && *sc.p <= '9' && id < (1u << 24)) id = id * 10 + (uint64_t)(*sc.p++ - '0');
        if (sc.p == d || (*d == '0' && sc.p - d > 1) || (sc.p < sc.end && (*sc.p == '.' || *sc.p == 'e' || *sc.p == 'E')))
            return error_set(err, LINEAGE_E_FORMAT, "%s: vocab id of '%.*s' is not a non-negative integer", what,
                             (int)(klen > 40 ? 40 : klen), key);
        if (id >= (1u << 24))
            return error_set(err, LINEAGE_E_FORMAT, "%s: token id of '%.*s' out of range", what,
                             (int)(klen > 40 ? 40 : klen), key);
        batch[nb].key = key, batch[nb].len = klen, batch[nb].id = (uint32_t)id;
        nb++;
        if ((st = scan_next(&sc, '}', &more))) return st;
    }
    return LINEAGE_OK;
}

/* Merges are looked up in batches as they are scanned; their strings are never kept. */
static lineage_status load_merges_span(lineage_tokenizer *t, const json_span *sp, const char *text,
                                       const char *what, lineage_error *err)
{
    span_scan sc = {sp->begin + 1, sp->end, text, what, err, &t->arena};
    tok_merge_text batch[2 * TOK_MAP_BATCH];
    size_t nb = 0, n = 0;
    lineage_status st = LINEAGE_OK;
    scan_ws(&sc);
    int more = !(sc.p < sc.end && *sc.p == ']');
    while (more || nb) {
        if (!more || nb == sizeof batch / sizeof batch[0]) {   /* flush: t->merges has room for the batch */
            if (t->n_merges + nb > t->merges_cap &&
                (st = tok_merges_reserve(t, t->merges_cap ? t->merges_cap * 2 : (size_t)(sp->end - sp->begin) / 64 + nb,
                                         what, err)))
                return st;
            if ((st = tok_add_merges(t, batch, nb, t->n_merges, what, err))) return st;
            nb = 0;
            continue;
        }
        scan_ws(&sc);
        const char *a, *b;
        size_t al, bl;
        if (sc.p < sc.end && *sc.p == '"') {
            const char *s;
            size_t len;
            if ((st = scan_string(&sc, &s, &len))) return st;
            const char *space = memchr(s + (len > 0), ' ', len ? len - 1 : 0);
            if (!space) return error_set(err, LINEAGE_E_FORMAT, "%s: merge %zu is not 'a b'", what, n);
            a = s, al = (size_t)(space - s), b = space + 1, bl = len - al - 1;
        } else if (sc.p < sc.end && *sc.p == '[') {
            sc.p++;
            scan_ws(&sc);
            int inner;
            if (sc.p >= sc.end || *sc.p != '"' || (st = scan_string(&sc, &a, &al)) ||
                (st = scan_next(&sc, ']', &inner)) || !inner || (scan_ws(&sc), sc.p >= sc.end || *sc.p != '"') ||
                (st = scan_string(&sc, &b, &bl)) || (st = scan_next(&sc, ']', &inner)) || inner)
                return st ? st : error_set(err, LINEAGE_E_FORMAT, "%s: merge %zu is neither 'a b' nor [a, b]", what, n);
        } else {
            return error_set(err, LINEAGE_E_FORMAT, "%s: merge %zu is neither 'a b' nor [a, b]", what, n);
        }
        if (al >= UINT32_MAX || bl >= UINT32_MAX) return error_set(err, LINEAGE_E_FORMAT, "%s: merge %zu too long", what, n);
        tok_merge_text m = {a, b, (uint32_t)al, (uint32_t)bl};
        batch[nb++] = m;
        n++;
        if ((st = scan_next(&sc, ']', &more))) return st;
    }
    return tok_merges_reserve(t, t->n_merges, what, err);   /* an empty list still has an array */
    return LINEAGE_OK;
}

static lineage_status load_merges(lineage_tokenizer *t, const json_value *merges, const char *what,
                                  lineage_error *err)
{
    if (!merges || merges->type == JSON_NULL) return LINEAGE_OK;
    if (merges->type != JSON_ARRAY) return bad(err, what, "model.merges is not an array");
    size_t n = merges->u.array.count;
    lineage_status rs = tok_merges_reserve(t, n, what, err);
    if (rs) return rs;
    for (size_t i = 0; i < n; i++) {
        const json_value *m = merges->u.array.items[i];
        const char *a, *b;
        size_t al, bl;
        if (m->type == JSON_STRING) {
            const char *sp = memchr(m->u.string.s + (m->u.string.len > 0), ' ',
                                    m->u.string.len ? m->u.string.len - 1 : 0);
            if (!sp) return error_set(err, LINEAGE_E_FORMAT, "%s: merge %zu is not 'a b'", what, i);
            a = m->u.string.s, al = (size_t)(sp - a), b = sp + 1, bl = m->u.string.len - al - 1;
        } else if (m->type == JSON_ARRAY && m->u.array.count == 2 && m->u.array.items[0]->type == JSON_STRING &&
                   m->u.array.items[1]->type == JSON_STRING) {
            a = m->u.array.items[0]->u.string.s, al = m->u.array.items[0]->u.string.len;
            b = m->u.array.items[1]->u.string.s, bl = m->u.array.items[1]->u.string.len;
        } else {
            return error_set(err, LINEAGE_E_FORMAT, "%s: merge %zu is neither 'a b' nor [a, b]", what, i);
        }
        lineage_status st = tok_add_merge(t, a, al, b, bl, i, what, err);
        if (st) return st;
    }
    return LINEAGE_OK;
}

static lineage_status load_unigram(lineage_tokenizer *t, const json_value *vocab, const char *what, lineage_error *err)
{
    if (!vocab || vocab->type != JSON_ARRAY) return bad(err, what, "Unigram model.vocab is not an array");
    for (size_t i = 0; i < vocab->u.array.count; i++) {
        const json_value *p = vocab->u.array.items[i];
        if (p->type != JSON_ARRAY || p->u.array.count != 2 || p->u.array.items[0]->type != JSON_STRING ||
            p->u.array.items[1]->type != JSON_NUMBER)
            return error_set(err, LINEAGE_E_FORMAT, "%s: Unigram vocab entry %zu is not [piece, score]", what, i);
        const json_value *s = p->u.array.items[0];
        lineage_status st = tok_set(t, (uint32_t)i, s->u.string.s, s->u.string.len,
                                    p->u.array.items[1]->u.number.d, piece_type(t, s->u.string.s, s->u.string.len),
                                    what, err);
        if (st) return st;
    }
    return LINEAGE_OK;
}

static lineage_status load_added(lineage_tokenizer *t, const json_value *added, const char *what, lineage_error *err)
{
    if (!added || added->type == JSON_NULL) return LINEAGE_OK;
    if (added->type != JSON_ARRAY) return bad(err, what, "added_tokens is not an array");
    for (size_t i = 0; i < added->u.array.count; i++) {
        const json_value *a = added->u.array.items[i];
        int64_t id;
        const json_value *c = json_get(a, "content");
        if (!json_get_int(a, "id", &id) || id < 0 || id >= (1 << 24) || !c || c->type != JSON_STRING)
            return error_set(err, LINEAGE_E_FORMAT, "%s: added_tokens[%zu] needs an id in range and a content string",
                             what, i);
        int special = 0, ls = 0, rs = 0, norm = 0;
        json_get_bool(a, "special", &special);
        json_get_bool(a, "lstrip", &ls);
        json_get_bool(a, "rstrip", &rs);
        json_get_bool(a, "normalized", &norm);
        lineage_status st = tok_add_added(t, (uint32_t)id, c->u.string.s, c->u.string.len, special, ls, rs, norm,
                                          what, err);
        if (st) return st;
    }
    return LINEAGE_OK;
}

lineage_status tok_load_hf_json(lineage_tokenizer *t, const char *text, size_t len, const char *what,
                                lineage_error *err)
{
    json_limits lim = {64, 256u << 20};
    json_value *root;
    tok_allow_ids(t, len);
    json_span spans[2] = {{"model", "vocab", 2, '{', NULL, NULL}, {"model", "merges", 2, '[', NULL, NULL}};
    lineage_status st = json_parse_spans(text, len, &lim, &t->arena, &root, what, err, spans, 2);
    if (st) return st;
    const json_span *vocab_span = spans[0].begin ? &spans[0] : NULL, *merges_span = spans[1].begin ? &spans[1] : NULL;
    t->borrow_text = 1;   /* parsed strings live in t->arena already */
    const json_value *model = json_get(root, "model");
    if (!model || model->type != JSON_OBJECT) return bad(err, what, "no model object (not a tokenizer.json)");
    const char *type = json_get_string(model, "type");
    const json_value *vocab = json_get(model, "vocab");
    if (!type) type = merges_span || json_get(model, "merges") ? "BPE" : vocab && vocab->type == JSON_ARRAY ? "Unigram" : "WordPiece";
    const json_value *norm = json_get(root, "normalizer"), *pre = json_get(root, "pre_tokenizer"),
                     *dec = json_get(root, "decoder");
    int b;
    t->byte_fallback = json_get_bool(model, "byte_fallback", &b) && b;
    t->fuse_unk = json_get_bool(model, "fuse_unk", &b) && b;
    t->ignore_merges = json_get_bool(model, "ignore_merges", &b) && b;
    if (has_component(pre, "ByteLevel", 0) || has_component(dec, "ByteLevel", 0)) t->surface = TOK_SURFACE_BYTELEVEL;
    else if (t->byte_fallback || has_component(pre, "Metaspace", 0) || has_component(dec, "Metaspace", 0) ||
             has_component(dec, "ByteFallback", 0) || has_component(norm, "Prepend", 0) ||
             (has_component(norm, "Replace", 0) && !strcmp(type, "BPE")) || !strcmp(type, "Unigram"))
        t->surface = TOK_SURFACE_METASPACE;
    else t->surface = TOK_SURFACE_RAW;
    if (!strcmp(type, "BPE")) {
        t->model = TOK_MODEL_BPE;
        st = vocab_span ? load_vocab_span(t, vocab_span, text, what, err) : load_vocab_map(t, vocab, what, err);
        if (!st) st = merges_span ? load_merges_span(t, merges_span, text, what, err)
                                  : load_merges(t, json_get(model, "merges"), what, err);
        const char *unk = json_get_string(model, "unk_token");
        if (!st && unk) t->special_roles[TOK_ROLE_UNK] = unk;
    } else if (!strcmp(type, "Unigram")) {
        t->model = TOK_MODEL_UNIGRAM;
        st = load_unigram(t, vocab, what, err);
        int64_t u;
        if (!st && json_get_int(model, "unk_id", &u)) {
            if (u < 0 || (uint64_t)u >= t->n) return bad(err, what, "Unigram unk_id out of range");
            t->unk_id = u;
            t->tok[u].type = TOK_UNKNOWN;
        }
    } else if (!strcmp(type, "WordPiece") || !strcmp(type, "WordLevel")) {
        t->model = !strcmp(type, "WordPiece") ? TOK_MODEL_WORDPIECE : TOK_MODEL_WORDLEVEL;
        st = vocab_span ? load_vocab_span(t, vocab_span, text, what, err) : load_vocab_map(t, vocab, what, err);
        const char *unk = json_get_string(model, "unk_token");
        if (!st && unk) t->special_roles[TOK_ROLE_UNK] = unk;
        const char *pfx = json_get_string(model, "continuing_subword_prefix");
        t->continuing_prefix = pfx ? pfx : "##";
        int64_t mx;
        t->max_input_chars_per_word = json_get_int(model, "max_input_chars_per_word", &mx) && mx > 0 ? (size_t)mx : 100;
    } else {
        return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: tokenizer model type '%s' is not supported", what, type);
    }
    if (!st) st = load_added(t, json_get(root, "added_tokens"), what, err);
    t->borrow_text = 0;
    if (!st) st = parse_steps(t, norm, 0, 0, what, err);
    if (!st) st = parse_steps(t, pre, 1, 0, what, err);
    if (!st) {
        t->normalizer_desc = describe(t, norm);
        t->pretokenizer_desc = describe(t, pre);
    }
    return st;
}

/* "bos_token": "<s>" or {"content": "<s>", ...} */
static const char *token_string(const json_value *v)
{
    if (!v) return NULL;
    if (v->type == JSON_STRING) return v->u.string.s;
    return json_get_string(v, "content");
}

lineage_status tok_load_hf_config(lineage_tokenizer *t, const char *text, size_t len, const char *what,
                                  lineage_error *err)
{
    json_limits lim = {32, 64u << 20};
    json_value *root;
    tok_allow_ids(t, len);
    lineage_status st = json_parse(text, len, &lim, &t->arena, &root, what, err);
    if (st) return st;
    if (root->type != JSON_OBJECT) return bad(err, what, "not a JSON object");
    size_t wl = strlen(what);
    if (wl >= 17 && !strcmp(what + wl - 17, "added_tokens.json")) {
        for (size_t i = 0; i < root->u.object.count; i++) {
            const json_member *m = &root->u.object.members[i];
            if (m->value->type != JSON_NUMBER || !m->value->u.number.is_int || m->value->u.number.i < 0 ||
                m->value->u.number.i >= (1 << 24))
                return error_set(err, LINEAGE_E_FORMAT, "%s: id of '%.40s' is not an integer in range", what, m->key);
            st = tok_add_added(t, (uint32_t)m->value->u.number.i, m->key, m->key_len, 0, 0, 0, 0, what, err);
            if (st) return st;
        }
        return LINEAGE_OK;
    }
    const json_value *dec = json_get(root, "added_tokens_decoder");
    for (size_t i = 0; dec && dec->type == JSON_OBJECT && i < dec->u.object.count; i++) {
        const json_member *m = &dec->u.object.members[i];
        char *end;
        long id = strtol(m->key, &end, 10);
        const json_value *c = json_get(m->value, "content");
        if (*end || end == m->key || id < 0 || id >= (1 << 24) || !c || c->type != JSON_STRING)
            return error_set(err, LINEAGE_E_FORMAT, "%s: added_tokens_decoder entry '%.20s' is malformed", what, m->key);
        if ((size_t)id < t->n && t->tok[id].added) continue;   /* tokenizer.json already listed it */
        int special = 0, ls = 0, rs = 0, norm = 0;
        json_get_bool(m->value, "special", &special);
        json_get_bool(m->value, "lstrip", &ls);
        json_get_bool(m->value, "rstrip", &rs);
        json_get_bool(m->value, "normalized", &norm);
        st = tok_add_added(t, (uint32_t)id, c->u.string.s, c->u.string.len, special, ls, rs, norm, what, err);
        if (st) return st;
    }
    /* Qwen2Tokenizer over vocab.json + merges.txt: transformers normalizes to NFC and splits with Qwen's
     * pattern (what its tokenizer.json spells out), not GPT-2's */
    const char *cls = json_get_string(root, "tokenizer_class");
    if (cls && (!strcmp(cls, "Qwen2Tokenizer") || !strcmp(cls, "Qwen2TokenizerFast")) && t->format &&
        !strcmp(t->format, "gpt2-files") && t->n_norm == 0 && t->n_pre == 1 && t->pre[0].kind == TOK_STEP_BYTELEVEL) {
        const char *const *rx;
        int ignore;
        if (!tok_gguf_pre_regexes("qwen2", 5, &rx, &ignore) || !rx[0]) return bad(err, what, "no Qwen2 pattern");
        if (!tok_push_step(t, 0, TOK_STEP_NFC)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        tok_step *sp = tok_push_step(t, 1, TOK_STEP_SPLIT);
        if (!sp) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        sp->pattern = rx[0], sp->pattern_len = strlen(rx[0]), sp->pattern_is_regex = 1;
        sp->behavior = TOK_SPLIT_ISOLATED;
        tok_step byte_level = t->pre[0];   /* the split first, then byte-level without its own regex */
        t->pre[0] = t->pre[1];
        t->pre[1] = byte_level;
        t->pre[1].byte_level.use_regex = 0;
    }
    static const char *const roles[] = {"bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token"};
    for (int r = 0; r < 6; r++) {
        const char *s = token_string(json_get(root, roles[r]));
        if (s) t->special_roles[r] = s;
    }
    int add_bos;
    if (json_get_bool(root, "add_bos_token", &add_bos)) t->add_bos = add_bos;
    const json_value *ct = json_get(root, "chat_template");
    if (ct && ct->type == JSON_STRING) t->chat_template = ct->u.string.s;
    else if (ct && ct->type == JSON_ARRAY && ct->u.array.count > 0)
        t->chat_template = json_get_string(ct->u.array.items[0], "template");
    /* special tokens named only by string: mark them special where the vocabulary has them */
    const json_value *extra = json_get(root, "additional_special_tokens");
    for (size_t i = 0; extra && extra->type == JSON_ARRAY && i < extra->u.array.count; i++) {
        const char *s = token_string(extra->u.array.items[i]);
        uint32_t id = s ? tok_map_get(&t->by_text, s, strlen(s)) : UINT32_MAX;
        if (id != UINT32_MAX) t->tok[id].special = 1, t->tok[id].added = 1;
    }
    return LINEAGE_OK;
}
