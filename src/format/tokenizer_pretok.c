/* Normalizers and pre-tokenizers as tokenizer.json describes them; regexes run on PCRE2 in
 * UTF + UCP mode with JIT. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format/tokenizer_encode.h"
#include "util/error.h"

void tok_pieces_init(tok_pieces *p) { memset(p, 0, sizeof *p); sb_init(&p->text); }
void tok_pieces_free(tok_pieces *p) { sb_free(&p->text); free(p->span); memset(p, 0, sizeof *p); }
void tok_pieces_clear(tok_pieces *p) { p->text.len = 0; p->n = 0; }

int tok_pieces_add(tok_pieces *p, const char *s, size_t n)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        size_t (*sp)[2] = realloc(p->span, cap * sizeof *sp);
        if (!sp) return 0;
        p->span = sp;
        p->cap = cap;
    }
    size_t off = p->text.len;
    sb_putn(&p->text, s, n);
    if (p->text.failed) return 0;
    p->span[p->n][0] = off;
    p->span[p->n][1] = n;
    p->n++;
    return 1;
}

/* Extends the last piece by s[0..n) (s must directly follow it in the source). */
static int pieces_extend(tok_pieces *p, const char *s, size_t n)
{
    if (!p->n) return tok_pieces_add(p, s, n);
    sb_putn(&p->text, s, n);
    p->span[p->n - 1][1] += n;
    return !p->text.failed;
}

void tok_steps_free(tok_step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (steps[i].code) pcre2_code_free(steps[i].code);
    free(steps);
}

static lineage_status compile(const lineage_tokenizer *t, tok_step *s, const char *pat, size_t len, lineage_error *err)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, len, PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: pre-tokenizer regex at offset %zu: %s", t->path ? t->path : "tokenizer",
                         (size_t)off, (char *)msg);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* falls back to the interpreter when JIT is unavailable */
    s->code = re;
    return LINEAGE_OK;
}

lineage_status tok_pretokenize_prepare(lineage_tokenizer *t, tok_encoder *e, lineage_error *err)
{
    lineage_status st = LINEAGE_OK;
    for (size_t i = 0; !st && i < t->n_norm + t->n_pre; i++) {
        tok_step *s = i < t->n_norm ? &t->norm[i] : &t->pre[i - t->n_norm];
        if (s->code) continue;
        const char *p = NULL;
        switch (s->kind) {
        case TOK_STEP_SPLIT: case TOK_STEP_REPLACE: if (s->pattern_is_regex) p = s->pattern; break;
        case TOK_STEP_BYTELEVEL: if (s->byte_level.use_regex) p = tok_pattern_gpt2; break;
        case TOK_STEP_DIGITS: p = s->digits.individual ? "\\p{N}" : "\\p{N}+"; break;
        case TOK_STEP_WHITESPACE: p = "\\w+|[^\\w\\s]+"; break;
        case TOK_STEP_WHITESPACE_SPLIT: p = "\\s+"; break;
        case TOK_STEP_PUNCTUATION: p = "\\p{P}"; break;
        case TOK_STEP_BERT_PRE: p = "[!-/:-@\\[-`{-~\\p{P}]"; break;
        default: break;
        }
        if (p) st = compile(t, s, p, p == s->pattern ? s->pattern_len : strlen(p), err);
    }
    if (!st && !e->match_data) {
        e->match_data = pcre2_match_data_create(8, NULL);
        if (!e->match_data) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    return st;
}

static const char *find_bytes(const char *h, size_t hn, const char *nd, size_t nn)
{
    for (size_t i = 0; nn && i + nn <= hn; i++)
        if (h[i] == nd[0] && !memcmp(h + i, nd, nn)) return h + i;
    return NULL;
}

/* PCRE2's match limit bounds one call, not the calls over one input: a pattern like a*b|a scans to
 * the end of the input from every position (quadratic). The regex work of one input (one text
 * segment) is bounded instead by CPU time, far above what real pre-tokenizer patterns need
 * (about 0.05 us per byte with JIT): past it the input fails cleanly, naming the tokenizer. */
#define TOK_REGEX_FLOOR_NS 500000000ull
#define TOK_REGEX_NS_PER_BYTE 1000ull
#define TOK_REGEX_CHECK_EVERY 64   /* matches between clock reads (a syscall) */

typedef struct regex_budget {
    uint64_t deadline_ns;
    unsigned calls;
    const char *path;
    size_t input_bytes;
} regex_budget;

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static regex_budget budget_for(const lineage_tokenizer *t, size_t n)
{
    uint64_t ns = TOK_REGEX_FLOOR_NS + (uint64_t)n * TOK_REGEX_NS_PER_BYTE;
    return (regex_budget){thread_cpu_ns() + ns, 0, t->path ? t->path : "tokenizer", n};
}

static lineage_status budget_check(regex_budget *b, lineage_error *err)
{
    if (++b->calls % TOK_REGEX_CHECK_EVERY || thread_cpu_ns() <= b->deadline_ns) return LINEAGE_OK;
    return error_set(err, LINEAGE_E_FORMAT,
                     "%s: a pre-tokenizer regex needs more work than allowed on a %zu-byte input (its cost grows "
                     "faster than the input)", b->path, b->input_bytes);
}

/* Calls fn for each match [a, b) of the step's pattern in s (regex or literal). */
typedef struct span_list { size_t (*v)[2]; size_t n, cap; } span_list;

static int spans_push(span_list *l, size_t a, size_t b)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        size_t (*v)[2] = realloc(l->v, cap * sizeof *v);
        if (!v) return 0;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n][0] = a;
    l->v[l->n][1] = b;
    l->n++;
    return 1;
}

static lineage_status find_matches(const tok_step *st, tok_encoder *e, const char *s, size_t n, span_list *out,
                                   regex_budget *budget, lineage_error *err)
{
    out->n = 0;
    if (!st->code) {
        if (!st->pattern_len) return LINEAGE_OK;
        for (size_t i = 0; i + st->pattern_len <= n;) {
            const char *hit = find_bytes(s + i, n - i, st->pattern, st->pattern_len);
            if (!hit) break;
            size_t a = (size_t)(hit - s);
            if (!spans_push(out, a, a + st->pattern_len)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
            i = a + st->pattern_len;
        }
        return LINEAGE_OK;
    }
    pcre2_match_data *md = e->match_data;
    size_t pos = 0;
    while (pos <= n) {
        int rc = pcre2_match(st->code, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        lineage_status bst = budget_check(budget, err);
        if (bst) return bst;
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0)
            return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: pre-tokenizer regex failed (PCRE2 error %d)", budget->path, rc);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t a = ov[0], b = ov[1];
        if (b > a && !spans_push(out, a, b)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        if (b > a) pos = b;
        else {   /* empty match: step over one character */
            pos = b + 1;
            while (pos < n && ((unsigned char)s[pos] & 0xC0) == 0x80) pos++;
        }
    }
    return LINEAGE_OK;
}

/* Splits piece s by the step's matches with a Split behaviour, appending to out. */
static lineage_status split_piece(const tok_step *st, tok_split_behavior beh, int invert, tok_encoder *e,
                                  const char *s, size_t n, tok_pieces *out, span_list *m, regex_budget *budget,
                                  lineage_error *err)
{
    lineage_status rc = find_matches(st, e, s, n, m, budget, err);
    if (rc) return rc;
    size_t pos = 0, k = 0;
    int prev_match = 0, pending_next = 0;
    size_t first_out = out->n;
    while (pos < n) {
        size_t a, b;
        int is_match;
        if (k < m->n && m->v[k][0] == pos) a = pos, b = m->v[k][1], is_match = 1, k++;
        else a = pos, b = k < m->n ? m->v[k][0] : n, is_match = 0;
        pos = b;
        if (invert) is_match = !is_match;
        int ok = 1;
        switch (beh) {
        case TOK_SPLIT_ISOLATED: ok = tok_pieces_add(out, s + a, b - a); break;
        case TOK_SPLIT_REMOVED: if (!is_match) ok = tok_pieces_add(out, s + a, b - a); break;
        case TOK_SPLIT_CONTIGUOUS:
            ok = is_match && prev_match && out->n > first_out ? pieces_extend(out, s + a, b - a)
                                                              : tok_pieces_add(out, s + a, b - a);
            break;
        case TOK_SPLIT_MERGED_PREV:
            ok = is_match && !prev_match && out->n > first_out ? pieces_extend(out, s + a, b - a)
                                                               : tok_pieces_add(out, s + a, b - a);
            break;
        case TOK_SPLIT_MERGED_NEXT:
            ok = pending_next && out->n > first_out ? pieces_extend(out, s + a, b - a) : tok_pieces_add(out, s + a, b - a);
            pending_next = is_match && !pending_next;
            break;
        }
        prev_match = is_match;
        if (!ok) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    return LINEAGE_OK;
}

static void lowercase_into(strbuf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = tok_utf8_next(s + i, n - i, &cp);
        if (cp >= 'A' && cp <= 'Z') cp += 32;
        else if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) || (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) ||
                 (cp >= 0x410 && cp <= 0x42F)) cp += 32;
        else if (cp >= 0x400 && cp <= 0x40F) cp += 80;
        else if (cp >= 0x100 && cp <= 0x17F && !(cp & 1) && cp != 0x130 && cp != 0x138) cp += 1;
        else { sb_putn(out, s + i, k); i += k; continue; }
        char b[4];
        sb_putn(out, b, tok_utf8_put(b, cp));
        i += k;
    }
}

static int is_cjk(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2CEAF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static void bert_normalize(const tok_step *st, strbuf *out, const char *s, size_t n)
{
    strbuf tmp;
    sb_init(&tmp);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = tok_utf8_next(s + i, n - i, &cp);
        i += k;
        if (st->bert.clean_text) {   /* drop controls, whitespace -> space */
            if (cp == 0 || cp == 0xFFFD || ((cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) && cp != '\t' && cp != '\n' && cp != '\r'))
                continue;
            if (cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x3000 || cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200A))
                cp = ' ';
        }
        if (st->bert.handle_chinese_chars && is_cjk(cp)) {
            char b[4];
            sb_putc(&tmp, ' ');
            sb_putn(&tmp, b, tok_utf8_put(b, cp));
            sb_putc(&tmp, ' ');
            continue;
        }
        uint32_t parts[3] = {cp};
        size_t np = st->bert.strip_accents ? tok_strip_accents(cp, parts) : 1;
        for (size_t j = 0; j < np; j++) {
            char b[4];
            sb_putn(&tmp, b, tok_utf8_put(b, parts[j]));
        }
    }
    if (st->bert.lowercase) lowercase_into(out, tmp.data ? tmp.data : "", tmp.len);
    else sb_putn(out, tmp.data ? tmp.data : "", tmp.len);
    out->failed |= tmp.failed;
    sb_free(&tmp);
}

static int is_space_byte(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Applies normalizer steps to s into e->norm. */
static lineage_status normalize(const lineage_tokenizer *t, tok_encoder *e, const char *s, size_t n, regex_budget *budget,
                                lineage_error *err)
{
    strbuf cur, next;
    sb_init(&cur);
    sb_putn(&cur, s, n);
    span_list m = {0};
    lineage_status rc = LINEAGE_OK;
    for (size_t i = 0; !rc && i < t->n_norm; i++) {
        const tok_step *st = &t->norm[i];
        const char *c = cur.data ? cur.data : "";
        sb_init(&next);
        switch (st->kind) {
        case TOK_STEP_LOWERCASE: lowercase_into(&next, c, cur.len); break;
        case TOK_STEP_BERT_NORMALIZER: bert_normalize(st, &next, c, cur.len); break;
        case TOK_STEP_PREPEND:
            if (cur.len) sb_putn(&next, st->content, st->content_len);
            sb_putn(&next, c, cur.len);
            break;
        case TOK_STEP_STRIP: {
            size_t a = 0, b = cur.len;
            while (st->strip.left && a < b && is_space_byte(c[a])) a++;
            while (st->strip.right && b > a && is_space_byte(c[b - 1])) b--;
            sb_putn(&next, c + a, b - a);
            break;
        }
        case TOK_STEP_REPLACE: {
            rc = find_matches(st, e, c, cur.len, &m, budget, err);
            size_t pos = 0;
            for (size_t k = 0; !rc && k < m.n; k++) {
                sb_putn(&next, c + pos, m.v[k][0] - pos);
                sb_putn(&next, st->content, st->content_len);
                pos = m.v[k][1];
            }
            sb_putn(&next, c + pos, cur.len - pos);
            break;
        }
        case TOK_STEP_PRECOMPILED:
            if (st->charsmap) tok_charsmap_apply(st->charsmap, &next, c, cur.len);
            else sb_putn(&next, c, cur.len);
            break;
        case TOK_STEP_NFC: case TOK_STEP_NFKC: case TOK_STEP_NFD: case TOK_STEP_NFKD:
            if (!tok_unicode_normalize(&next, c, cur.len, st->kind == TOK_STEP_NFKC || st->kind == TOK_STEP_NFKD,
                                       st->kind == TOK_STEP_NFC || st->kind == TOK_STEP_NFKC))
                next.failed = 1;
            break;
        default: sb_putn(&next, c, cur.len); break;
        }
        sb_free(&cur);
        cur = next;
        if (cur.failed && !rc) rc = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    free(m.v);
    e->norm.len = 0;
    if (!rc) sb_putn(&e->norm, cur.data ? cur.data : "", cur.len);
    sb_free(&cur);
    if (!rc && e->norm.failed) rc = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    return rc;
}

static lineage_status metaspace_piece(const tok_step *st, int first, tok_encoder *e, const char *s, size_t n,
                                      tok_pieces *out, span_list *m, regex_budget *budget, lineage_error *err)
{
    strbuf r;
    sb_init(&r);
    if (st->metaspace.prepend && (!st->metaspace.prepend_first_only || first) && !(n >= st->content_len && !memcmp(s, st->content, st->content_len)))
        sb_putn(&r, st->content, st->content_len);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') sb_putn(&r, st->content, st->content_len);
        else sb_putc(&r, s[i]);
    }
    lineage_status rc = r.failed ? error_set(err, LINEAGE_E_NOMEM, "out of memory") : LINEAGE_OK;
    if (!rc && st->metaspace.split) {
        tok_step lit = *st;
        lit.code = NULL;
        lit.pattern = st->content;
        lit.pattern_len = st->content_len;
        rc = split_piece(&lit, TOK_SPLIT_MERGED_NEXT, 0, e, r.data ? r.data : "", r.len, out, m, budget, err);
    } else if (!rc && !tok_pieces_add(out, r.data ? r.data : "", r.len)) {
        rc = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    sb_free(&r);
    return rc;
}

lineage_status tok_pretokenize(const lineage_tokenizer *t, tok_encoder *e, const char *s, size_t n, int first,
                               tok_pieces **out, lineage_error *err)
{
    regex_budget budget = budget_for(t, n);
    lineage_status rc = normalize(t, e, s, n, &budget, err);
    if (rc) return rc;
    tok_pieces *cur = &e->scratch[0], *next = &e->scratch[1];
    tok_pieces_clear(cur);
    if (e->norm.len && !tok_pieces_add(cur, e->norm.data, e->norm.len))
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    span_list m = {0};
    for (size_t i = 0; !rc && i < t->n_pre; i++) {
        const tok_step *st = &t->pre[i];
        tok_pieces_clear(next);
        for (size_t k = 0; !rc && k < cur->n; k++) {
            const char *p = cur->text.data + cur->span[k][0];
            size_t pl = cur->span[k][1];
            switch (st->kind) {
            case TOK_STEP_SPLIT: rc = split_piece(st, st->behavior, st->invert, e, p, pl, next, &m, &budget, err); break;
            case TOK_STEP_BYTELEVEL:
                if (st->byte_level.add_prefix_space && (pl == 0 || p[0] != ' ')) {
                    /* add_prefix_space: the piece gets a leading space */
                    strbuf tmp;
                    sb_init(&tmp);
                    sb_putc(&tmp, ' ');
                    sb_putn(&tmp, p, pl);
                    if (tmp.failed) rc = error_set(err, LINEAGE_E_NOMEM, "out of memory");
                    else if (st->code) rc = split_piece(st, TOK_SPLIT_ISOLATED, 0, e, tmp.data, tmp.len, next, &m, &budget, err);
                    else if (!tok_pieces_add(next, tmp.data, tmp.len)) rc = error_set(err, LINEAGE_E_NOMEM, "out of memory");
                    sb_free(&tmp);
                } else if (st->code) {
                    rc = split_piece(st, TOK_SPLIT_ISOLATED, 0, e, p, pl, next, &m, &budget, err);
                } else if (!tok_pieces_add(next, p, pl)) {
                    rc = error_set(err, LINEAGE_E_NOMEM, "out of memory");
                }
                break;
            case TOK_STEP_DIGITS: case TOK_STEP_BERT_PRE:
                rc = split_piece(st, TOK_SPLIT_ISOLATED, 0, e, p, pl, next, &m, &budget, err);
                break;
            case TOK_STEP_PUNCTUATION: rc = split_piece(st, st->behavior, 0, e, p, pl, next, &m, &budget, err); break;
            case TOK_STEP_WHITESPACE: rc = split_piece(st, TOK_SPLIT_REMOVED, 1, e, p, pl, next, &m, &budget, err); break;
            case TOK_STEP_WHITESPACE_SPLIT: rc = split_piece(st, TOK_SPLIT_REMOVED, 0, e, p, pl, next, &m, &budget, err); break;
            case TOK_STEP_METASPACE: rc = metaspace_piece(st, first && k == 0, e, p, pl, next, &m, &budget, err); break;
            default:
                if (!tok_pieces_add(next, p, pl)) rc = error_set(err, LINEAGE_E_NOMEM, "out of memory");
                break;
            }
        }
        tok_pieces *sw = cur;
        cur = next;
        next = sw;
    }
    free(m.v);
    if (cur != &e->scratch[0]) {   /* keep the result in scratch[0] */
        tok_pieces sw = e->scratch[0];
        e->scratch[0] = e->scratch[1];
        e->scratch[1] = sw;
    }
    *out = &e->scratch[0];
    return rc;
}
