#include "util/json.h"
#include "util/sanitize.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "util/error.h"
#include "util/strbuf.h"

/* Children of the open arrays and objects wait on these stacks; each container gets an exact-size
 * copy when it closes (no growth by doubling inside the arena). */
typedef struct parser {
    const char *p, *end, *start;
    size_t depth, max_depth;
    arena *a;
    const char *what;
    lineage_error *err;
    json_value **items;
    size_t nitems, items_cap;
    json_member *members;
    size_t nmembers, members_cap;
    const char *value_key;   /* key of the member whose value is being parsed (NULL in arrays) */
    json_span *spans;
    size_t nspans;
} parser;

static lineage_status perr(parser *ps, const char *msg)
{
    return error_set(ps->err, LINEAGE_E_FORMAT, "%s: invalid JSON at byte %zu: %s", ps->what,
                     (size_t)(ps->p - ps->start), msg);
}

static lineage_status pnomem(parser *ps)
{
    return error_set(ps->err, LINEAGE_E_NOMEM, "%s: JSON too large for the memory bound", ps->what);
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

int utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *e = s + len;
    while (s < e) {
        unsigned c = *s;
        if (c < 0x80) { s++; continue; }
        size_t n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
        else return 0;
        if ((size_t)(e - s) <= n) return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
        if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
        s += n + 1;
    }
    return 1;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* On entry ps->p is at the opening quote. */
static lineage_status parse_string(parser *ps, const char **out, size_t *out_len)
{
    const char *s = ++ps->p;
    int has_escape = 0;
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) return perr(ps, "control character in string");
        if (c == '\\') {
            has_escape = 1;
            ps->p++;
            if (ps->p >= ps->end) break;
        }
        ps->p++;
    }
    if (ps->p >= ps->end) return perr(ps, "unterminated string");
    size_t raw = (size_t)(ps->p - s);
    ps->p++;
    if (!has_escape) {
        if (!utf8_valid(s, raw)) { ps->p = s; return perr(ps, "string is not valid UTF-8"); }
        char *c = arena_strndup(ps->a, s, raw);
        if (!c) return pnomem(ps);
        *out = c;
        *out_len = raw;
        return LINEAGE_OK;
    }
    char *o = arena_alloc(ps->a, raw + 1);
    if (!o) return pnomem(ps);
    size_t n = 0;
    for (const char *q = s; q < s + raw; q++) {
        if (*q != '\\') { o[n++] = *q; continue; }
        q++;
        switch (*q) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (s + raw - q < 5 || !hex4(q + 1, &cp)) { ps->p = q; return perr(ps, "bad \\u escape"); }
            q += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (s + raw - q < 7 || q[1] != '\\' || q[2] != 'u' || !hex4(q + 3, &lo) || lo < 0xDC00 ||
                    lo > 0xDFFF) {
                    ps->p = q;
                    return perr(ps, "unpaired surrogate in \\u escape");
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                ps->p = q;
                return perr(ps, "unpaired surrogate in \\u escape");
            }
            /* \u escapes expand to at most 4 bytes from 6 (or 12) input bytes */
            n += put_utf8(o + n, cp);
            break;
        }
        default: ps->p = q; return perr(ps, "bad escape");
        }
    }
    o[n] = 0;
    if (!utf8_valid(o, n)) { ps->p = s; return perr(ps, "string is not valid UTF-8"); }
    *out = o;
    *out_len = n;
    return LINEAGE_OK;
}

static lineage_status parse_number(parser *ps, json_value *v)
{
    const char *s = ps->p;
    int is_int = 1;
    if (ps->p < ps->end && *ps->p == '-') ps->p++;
    if (ps->p >= ps->end) return perr(ps, "bad number");
    if (*ps->p == '0') ps->p++;
    else if (*ps->p >= '1' && *ps->p <= '9') while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    else return perr(ps, "bad number");
    if (ps->p < ps->end && *ps->p == '.') {
        is_int = 0;
        ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return perr(ps, "bad number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        is_int = 0;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return perr(ps, "bad number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    }
    size_t n = (size_t)(ps->p - s);
    if (n > 350) return perr(ps, "number literal too long");
    char buf[352];
    memcpy(buf, s, n);
    buf[n] = 0;
    v->type = JSON_NUMBER;
    v->u.number.d = strtod(buf, NULL);
    v->u.number.is_int = 0;
    v->u.number.i = 0;
    if (is_int) {
        /* exact int64 parse; literals beyond int64 stay doubles */
        const char *q = buf;
        int neg = *q == '-';
        if (neg) q++;
        uint64_t acc = 0;
        int ok = 1;
        for (; *q; q++) {
            unsigned d = (unsigned)(*q - '0');
            if (acc > (UINT64_MAX - d) / 10) { ok = 0; break; }
            acc = acc * 10 + d;
        }
        if (ok && (neg ? acc <= (uint64_t)INT64_MAX + 1 : acc <= (uint64_t)INT64_MAX)) {
            v->u.number.is_int = 1;
            v->u.number.i = neg ? (int64_t)(0 - acc) : (int64_t)acc;
        }
    }
    return LINEAGE_OK;
}

static lineage_status parse_value(parser *ps, json_value **out);

lineage_status json_scan_string(const char **p, const char *end, const char *start, arena *a, const char **out,
                                size_t *out_len, const char *what, lineage_error *err)
{
    parser ps = {0};
    ps.p = *p, ps.end = end, ps.start = start, ps.a = a, ps.what = what, ps.err = err;
    if (ps.p >= end || *ps.p != '"') return perr(&ps, "expected string");
    lineage_status st = parse_string(&ps, out, out_len);
    *p = ps.p;
    return st;
}

#ifdef __SSE2__
/* Bit i set where p[i] == c, for 64 bytes. */
static uint64_t byte_mask64(const char *p, char c)
{
    __m128i k = _mm_set1_epi8(c);
    uint64_t m = 0;
    for (int i = 0; i < 4; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
        m |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, k)) << (16 * i);
    }
    return m;
}
#endif

/* Moves past the container at ps->p, checking only string syntax, bracket balance and depth;
 * the caller of json_parse_spans validates the contents. Where SSE2 is available, 64-byte blocks
 * without backslashes are classified at once: a prefix XOR of the quote bits marks the bytes inside
 * strings, and only the brackets outside them are visited. Other bytes go through the scalar loop. */
static lineage_status skip_container(parser *ps)
{
    size_t depth = ps->depth;
    const char *p = ps->p, *end = ps->end;
    int in_string = 0;
    while (p < end) {
        const char *stop = end;
#ifdef __SSE2__
        if (end - p >= 64) {
            uint64_t bs = byte_mask64(p, '\\');
            if (!bs) {
                uint64_t q = byte_mask64(p, '"'), str = q;
                str ^= str << 1, str ^= str << 2, str ^= str << 4, str ^= str << 8, str ^= str << 16, str ^= str << 32;
                if (in_string) str = ~str;
                in_string = (int)(str >> 63);
                uint64_t open = (byte_mask64(p, '{') | byte_mask64(p, '[')) & ~str;
                uint64_t brackets = open | ((byte_mask64(p, '}') | byte_mask64(p, ']')) & ~str);
                for (; brackets; brackets &= brackets - 1) {
                    int i = __builtin_ctzll(brackets);
                    if ((open >> i) & 1) {
                        if (++depth > ps->max_depth) { ps->p = p + i; return perr(ps, "nesting too deep"); }
                    } else if (--depth == ps->depth) {
                        ps->p = p + i + 1;
                        return LINEAGE_OK;
                    }
                }
                p += 64;
                continue;
            }
            stop = p + 64;   /* a block with escapes: byte by byte */
        }
#endif
        while (p < stop) {
            char c = *p++;
            if (in_string) {
                if (c == '\\') p++;
                else if (c == '"') in_string = 0;
            } else if (c == '"') {
                in_string = 1;
            } else if (c == '{' || c == '[') {
                if (++depth > ps->max_depth) { ps->p = p - 1; return perr(ps, "nesting too deep"); }
            } else if (c == '}' || c == ']') {
                if (--depth == ps->depth) { ps->p = p; return LINEAGE_OK; }
            }
        }
    }
    ps->p = ps->end;
    return perr(ps, "unexpected end of input");
}

static json_span *span_for(parser *ps, const char *parent, const char *key)
{
    if (!parent || ps->p >= ps->end) return NULL;
    for (size_t i = 0; i < ps->nspans; i++) {
        json_span *sp = &ps->spans[i];
        if (!sp->begin && sp->depth == ps->depth && *ps->p == sp->open && !strcmp(sp->parent, parent) &&
            !strcmp(sp->key, key))
            return sp;
    }
    return NULL;
}

static int stack_reserve(void **stack, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 1;
    size_t ncap = *cap ? *cap * 2 : 256;
    while (ncap < need) ncap *= 2;
    void *n = realloc(*stack, ncap * elem);
    if (!n) return 0;
    *stack = n;
    *cap = ncap;
    return 1;
}

/* Moves the top count entries of a stack into an exact-size arena array. */
static void *stack_pop(parser *ps, void *stack, size_t *top, size_t base, size_t elem)
{
    size_t count = *top - base;
    void *out = arena_alloc(ps->a, count * elem);
    if (out && count) memcpy(out, (char *)stack + base * elem, count * elem);   /* an empty container: stack may be NULL */
    *top = base;
    return out;
}

static lineage_status parse_value(parser *ps, json_value **out)
{
    lineage_status st;
    skip_ws(ps);
    if (ps->p >= ps->end) return perr(ps, "unexpected end of input");
    json_value *v = arena_alloc(ps->a, sizeof *v);
    if (!v) return pnomem(ps);
    memset(v, 0, sizeof *v);   /* constant size: inlined, unlike arena_calloc's memset call */
    *out = v;
    char c = *ps->p;
    if (c == '{' || c == '[') {
        if (++ps->depth > ps->max_depth) return perr(ps, "nesting too deep");
        ps->p++;
        int is_obj = c == '{';
        v->type = is_obj ? JSON_OBJECT : JSON_ARRAY;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == (is_obj ? '}' : ']')) {
            ps->p++;
            ps->depth--;
            return LINEAGE_OK;
        }
        size_t base = is_obj ? ps->nmembers : ps->nitems;
        const char *self_key = ps->value_key;
        for (;;) {
            skip_ws(ps);
            if (is_obj) {
                if (ps->p >= ps->end || *ps->p != '"') return perr(ps, "expected object key");
                const char *key;
                size_t klen;
                if ((st = parse_string(ps, &key, &klen))) return st;
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') return perr(ps, "expected ':'");
                ps->p++;
                skip_ws(ps);
                json_span *sp = ps->nspans ? span_for(ps, self_key, key) : NULL;
                if (sp) {
                    sp->begin = ps->p;
                    if ((st = skip_container(ps))) return st;
                    sp->end = ps->p;
                    goto next;
                }
                ps->value_key = key;
                json_value *child;
                if ((st = parse_value(ps, &child))) return st;
                if (!stack_reserve((void **)&ps->members, &ps->members_cap, ps->nmembers + 1, sizeof(json_member)))
                    return pnomem(ps);
                json_member *m = &ps->members[ps->nmembers++];
                m->key = key;
                m->key_len = klen;
                m->value = child;
            } else {
                ps->value_key = NULL;
                json_value *child;
                if ((st = parse_value(ps, &child))) return st;
                if (!stack_reserve((void **)&ps->items, &ps->items_cap, ps->nitems + 1, sizeof(json_value *)))
                    return pnomem(ps);
                ps->items[ps->nitems++] = child;
            }
        next:
            skip_ws(ps);
            if (ps->p >= ps->end) return perr(ps, "unexpected end of input");
            if (*ps->p == ',') { ps->p++; continue; }
            if (*ps->p == (is_obj ? '}' : ']')) { ps->p++; break; }
            return perr(ps, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
        if (is_obj) {
            v->u.object.count = v->u.object.cap = ps->nmembers - base;
            v->u.object.members = stack_pop(ps, ps->members, &ps->nmembers, base, sizeof(json_member));
            if (!v->u.object.members) return pnomem(ps);
        } else {
            v->u.array.count = v->u.array.cap = ps->nitems - base;
            v->u.array.items = stack_pop(ps, ps->items, &ps->nitems, base, sizeof(json_value *));
            if (!v->u.array.items) return pnomem(ps);
        }
        ps->depth--;
        return LINEAGE_OK;
    }
    if (c == '"') {
        v->type = JSON_STRING;
        return parse_string(ps, &v->u.string.s, &v->u.string.len);
    }
    size_t left = (size_t)(ps->end - ps->p);
    /* Python's json writes -Infinity too: checked before '-' starts a number */
    if (left >= 9 && !memcmp(ps->p, "-Infinity", 9)) { v->type = JSON_NUMBER; v->u.number.d = -INFINITY; ps->p += 9; return LINEAGE_OK; }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(ps, v);
    if (left >= 4 && !memcmp(ps->p, "true", 4)) { v->type = JSON_BOOL; v->u.boolean = 1; ps->p += 4; return LINEAGE_OK; }
    if (left >= 5 && !memcmp(ps->p, "false", 5)) { v->type = JSON_BOOL; ps->p += 5; return LINEAGE_OK; }
    if (left >= 4 && !memcmp(ps->p, "null", 4)) { v->type = JSON_NULL; ps->p += 4; return LINEAGE_OK; }
    /* Python's json writes these; HF configs sometimes contain them */
    if (left >= 3 && !memcmp(ps->p, "NaN", 3)) { v->type = JSON_NUMBER; v->u.number.d = NAN; ps->p += 3; return LINEAGE_OK; }
    if (left >= 8 && !memcmp(ps->p, "Infinity", 8)) { v->type = JSON_NUMBER; v->u.number.d = INFINITY; ps->p += 8; return LINEAGE_OK; }
    return perr(ps, "unexpected character");
}

lineage_status json_parse(const char *text, size_t len, const json_limits *limits, arena *a,
                          json_value **out, const char *what, lineage_error *err)
{
    return json_parse_spans(text, len, limits, a, out, what, err, NULL, 0);
}

lineage_status json_parse_spans(const char *text, size_t len, const json_limits *limits, arena *a,
                                json_value **out, const char *what, lineage_error *err, json_span *spans,
                                size_t nspans)
{
    json_limits def = {64, 64u << 20};
    if (!limits) limits = &def;
    if (!what) what = "JSON";
    if (len > limits->max_bytes)
        return error_set(err, LINEAGE_E_FORMAT, "%s: JSON of %zu bytes exceeds the %zu-byte limit", what,
                         len, limits->max_bytes);
    parser ps = {text, text + len, text, 0, limits->max_depth ? limits->max_depth : 64, a, what, err,
                 NULL, 0, 0, NULL, 0, 0, NULL, spans, nspans};
    for (size_t i = 0; i < nspans; i++) spans[i].begin = spans[i].end = NULL;
    /* skip a UTF-8 byte order mark */
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) ps.p += 3;
    lineage_status st = parse_value(&ps, out);
    free(ps.items);
    free(ps.members);
    if (st) return st;
    skip_ws(&ps);
    if (ps.p != ps.end) return perr(&ps, "trailing characters after the value");
    return LINEAGE_OK;
}

json_value *json_get(const json_value *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT) return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->u.object.count; i++) {
        const json_member *m = &obj->u.object.members[i];
        if (m->key_len == kl && !memcmp(m->key, key, kl)) return m->value;
    }
    return NULL;
}

const char *json_get_string(const json_value *obj, const char *key)
{
    json_value *v = json_get(obj, key);
    return v && v->type == JSON_STRING ? v->u.string.s : NULL;
}

int json_get_int(const json_value *obj, const char *key, int64_t *out)
{
    json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_NUMBER) return 0;
    if (v->u.number.is_int) { *out = v->u.number.i; return 1; }
    double d = v->u.number.d;
    /* 4096.0 written by a Python float is still an integer */
    if (isfinite(d) && d == floor(d) && fabs(d) < 9.0e15) { *out = (int64_t)d; return 1; }
    return 0;
}

int json_get_double(const json_value *obj, const char *key, double *out)
{
    json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_NUMBER) return 0;
    *out = v->u.number.d;
    return 1;
}

int json_get_bool(const json_value *obj, const char *key, int *out)
{
    json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_BOOL) return 0;
    *out = v->u.boolean;
    return 1;
}

int json_is_true(const json_value *v) { return v && v->type == JSON_BOOL && v->u.boolean; }

size_t json_count(const json_value *v)
{
    if (!v) return 0;
    if (v->type == JSON_ARRAY) return v->u.array.count;
    if (v->type == JSON_OBJECT) return v->u.object.count;
    return 0;
}

json_value *json_at(const json_value *arr, size_t i)
{
    if (!arr || arr->type != JSON_ARRAY || i >= arr->u.array.count) return NULL;
    return arr->u.array.items[i];
}

static json_value *new_value(arena *a, json_type t)
{
    json_value *v = arena_calloc(a, 1, sizeof *v);
    if (v) v->type = t;
    return v;
}

json_value *json_new_null(arena *a) { return new_value(a, JSON_NULL); }
json_value *json_new_bool(arena *a, int b)
{
    json_value *v = new_value(a, JSON_BOOL);
    if (v) v->u.boolean = !!b;
    return v;
}
json_value *json_new_int(arena *a, int64_t i)
{
    json_value *v = new_value(a, JSON_NUMBER);
    if (v) { v->u.number.i = i; v->u.number.d = (double)i; v->u.number.is_int = 1; }
    return v;
}
json_value *json_new_double(arena *a, double d)
{
    json_value *v = new_value(a, JSON_NUMBER);
    if (v) v->u.number.d = d;
    return v;
}
json_value *json_new_stringn(arena *a, const char *s, size_t n)
{
    json_value *v = new_value(a, JSON_STRING);
    if (!v) return NULL;
    char *c = arena_strndup(a, s, n);
    if (!c) return NULL;
    v->u.string.s = c;
    v->u.string.len = n;
    return v;
}
json_value *json_new_string(arena *a, const char *s) { return s ? json_new_stringn(a, s, strlen(s)) : json_new_null(a); }
json_value *json_new_array(arena *a) { return new_value(a, JSON_ARRAY); }
json_value *json_new_object(arena *a) { return new_value(a, JSON_OBJECT); }

int json_push(arena *a, json_value *arr, json_value *v)
{
    if (!arr || !v || arr->type != JSON_ARRAY) return 0;
    if (arr->u.array.count == arr->u.array.cap) {
        size_t ncap = arr->u.array.cap ? arr->u.array.cap * 2 : 8;
        json_value **n = arena_calloc(a, ncap, sizeof *n);
        if (!n) return 0;
        if (arr->u.array.count) memcpy(n, arr->u.array.items, arr->u.array.count * sizeof *n);
        arr->u.array.items = n;
        arr->u.array.cap = ncap;
    }
    arr->u.array.items[arr->u.array.count++] = v;
    return 1;
}

int json_push_fmt(arena *a, json_value *arr, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return json_push(a, arr, json_new_string(a, buf));
}

int json_set(arena *a, json_value *obj, const char *key, json_value *v)
{
    if (!obj || !v || obj->type != JSON_OBJECT) return 0;
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->u.object.count; i++) {
        json_member *m = &obj->u.object.members[i];
        if (m->key_len == kl && !memcmp(m->key, key, kl)) { m->value = v; return 1; }
    }
    if (obj->u.object.count == obj->u.object.cap) {
        size_t ncap = obj->u.object.cap ? obj->u.object.cap * 2 : 8;
        json_member *n = arena_calloc(a, ncap, sizeof *n);
        if (!n) return 0;
        if (obj->u.object.count) memcpy(n, obj->u.object.members, obj->u.object.count * sizeof *n);
        obj->u.object.members = n;
        obj->u.object.cap = ncap;
    }
    char *k = arena_strndup(a, key, kl);
    if (!k) return 0;
    json_member *m = &obj->u.object.members[obj->u.object.count++];
    m->key = k;
    m->key_len = kl;
    m->value = v;
    return 1;
}

int json_set_str(arena *a, json_value *o, const char *k, const char *s) { return json_set(a, o, k, json_new_string(a, s)); }
int json_set_int(arena *a, json_value *o, const char *k, int64_t i) { return json_set(a, o, k, json_new_int(a, i)); }
int json_set_double(arena *a, json_value *o, const char *k, double d) { return json_set(a, o, k, json_new_double(a, d)); }
int json_set_bool(arena *a, json_value *o, const char *k, int b) { return json_set(a, o, k, json_new_bool(a, b)); }

void json_write_string(strbuf *sb, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    sb_putc(sb, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        /* DEL, C1 controls and bidi overrides: valid JSON raw, but never raw on a terminal */
        unsigned cp;
        size_t hidden = c >= 0x7f ? sanitize_hidden_at(s + i, len - i, &cp) : 0;
        if (hidden) {
            sb_putn(sb, s + run, i - run);
            char e[7] = {'\\', 'u', hex[cp >> 12 & 15], hex[cp >> 8 & 15], hex[cp >> 4 & 15], hex[cp & 15], 0};
            sb_puts(sb, e);
            i += hidden - 1;
            run = i + 1;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        sb_putn(sb, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': sb_puts(sb, "\\\""); break;
        case '\\': sb_puts(sb, "\\\\"); break;
        case '\n': sb_puts(sb, "\\n"); break;
        case '\r': sb_puts(sb, "\\r"); break;
        case '\t': sb_puts(sb, "\\t"); break;
        default: {
            char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            sb_puts(sb, e);
        }
        }
    }
    sb_putn(sb, s + run, len - run);
    sb_putc(sb, '"');
}

static void write_number(strbuf *sb, const json_value *v)
{
    if (v->u.number.is_int) { sb_printf(sb, "%lld", (long long)v->u.number.i); return; }
    double d = v->u.number.d;
    if (!isfinite(d)) { sb_puts(sb, "null"); return; }
    char buf[40];
    /* shortest of %.15g/%.17g that round-trips */
    snprintf(buf, sizeof buf, "%.15g", d);
    if (strtod(buf, NULL) != d) snprintf(buf, sizeof buf, "%.17g", d);
    sb_puts(sb, buf);
}

static void indent_to(strbuf *sb, int indent, int level)
{
    if (!indent) return;
    sb_putc(sb, '\n');
    for (int i = 0; i < indent * level; i++) sb_putc(sb, ' ');
}

static void write_value(strbuf *sb, const json_value *v, int indent, int level)
{
    switch (v->type) {
    case JSON_NULL: sb_puts(sb, "null"); break;
    case JSON_BOOL: sb_puts(sb, v->u.boolean ? "true" : "false"); break;
    case JSON_NUMBER: write_number(sb, v); break;
    case JSON_STRING: json_write_string(sb, v->u.string.s, v->u.string.len); break;
    case JSON_ARRAY:
        sb_putc(sb, '[');
        for (size_t i = 0; i < v->u.array.count; i++) {
            if (i) sb_putc(sb, ',');
            indent_to(sb, indent, level + 1);
            write_value(sb, v->u.array.items[i], indent, level + 1);
        }
        if (v->u.array.count) indent_to(sb, indent, level);
        sb_putc(sb, ']');
        break;
    case JSON_OBJECT:
        sb_putc(sb, '{');
        for (size_t i = 0; i < v->u.object.count; i++) {
            const json_member *m = &v->u.object.members[i];
            if (i) sb_putc(sb, ',');
            indent_to(sb, indent, level + 1);
            json_write_string(sb, m->key, m->key_len);
            sb_puts(sb, indent ? ": " : ":");
            write_value(sb, m->value, indent, level + 1);
        }
        if (v->u.object.count) indent_to(sb, indent, level);
        sb_putc(sb, '}');
        break;
    }
}

void json_write(strbuf *sb, const json_value *v, int indent) { write_value(sb, v, indent, 0); }

lineage_doc *doc_new(void)
{
    lineage_doc *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    arena_init(&d->arena, 0);
    d->root = json_new_object(&d->arena);
    if (!d->root) { free(d); return NULL; }
    return d;
}

void lineage_doc_free(lineage_doc *d)
{
    if (!d) return;
    arena_free(&d->arena);
    free(d);
}

json_value *json_new_string_lossy(arena *a, const char *s, size_t n)
{
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (i + k <= n && utf8_valid(s + i, k)) {
            sb_putn(&sb, s + i, k);
            i += k;
        } else {
            sb_puts(&sb, "\xef\xbf\xbd");
            i++;
        }
    }
    json_value *v = sb.failed ? NULL : json_new_stringn(a, sb.data ? sb.data : "", sb.len);
    sb_free(&sb);
    return v;
}

/* Deep copy of a JSON value into another arena (documents of a pair are freed after use). */
json_value *json_deep_copy(arena *ar, const json_value *v)
{
    if (!v) return json_new_null(ar);
    switch (v->type) {
    case JSON_NULL: return json_new_null(ar);
    case JSON_BOOL: return json_new_bool(ar, v->u.boolean);
    case JSON_NUMBER: return v->u.number.is_int ? json_new_int(ar, v->u.number.i) : json_new_double(ar, v->u.number.d);
    case JSON_STRING: return json_new_stringn(ar, v->u.string.s, v->u.string.len);
    case JSON_ARRAY: {
        json_value *a = json_new_array(ar);
        for (size_t i = 0; a && i < v->u.array.count; i++)
            if (!json_push(ar, a, json_deep_copy(ar, v->u.array.items[i]))) return NULL;
        return a;
    }
    case JSON_OBJECT: {
        json_value *o = json_new_object(ar);
        for (size_t i = 0; o && i < v->u.object.count; i++)
            if (!json_set(ar, o, v->u.object.members[i].key, json_deep_copy(ar, v->u.object.members[i].value))) return NULL;
        return o;
    }
    }
    return NULL;
}
