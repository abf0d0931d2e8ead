/* Chat template lexer and parser, following @huggingface/jinja's (the peer the suite renders against):
 * the same preprocessing (trailing newline, lstrip_blocks, trim_blocks, {% generation %} tags), the
 * same tokens and the same operator precedence. Input is hostile: sizes, token counts and nesting
 * are bounded and every error is one line naming the template and the line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/chat_template_impl.h"
#include "util/error.h"

#define MAX_TOKENS 2000000u
#define MAX_NESTING 200

typedef enum {
    T_TEXT, T_NUM, T_STR, T_IDENT, T_EQUALS, T_LPAREN, T_RPAREN, T_OPEN_STMT, T_CLOSE_STMT, T_OPEN_EXPR, T_CLOSE_EXPR,
    T_LBRACKET, T_RBRACKET, T_LBRACE, T_RBRACE, T_COMMA, T_DOT, T_COLON, T_PIPE, T_ADD, T_MUL, T_POW, T_CMP,
    T_UNARY, T_COMMENT
} tok_type;

typedef struct tok {
    tok_type type;
    const char *s;
    size_t len;
    int line;
} tok;

typedef struct lexer {
    const char *src;
    size_t len, pos;
    tok *toks;
    size_t n, cap;
    arena *ar;
    const char *what;
    lineage_error *err;
    int failed;
} lexer;

/* Length of the JavaScript whitespace code point (\s) at p, 0 when there is none. */
static size_t ws_at(const char *p, const char *end)
{
    unsigned char c = (unsigned char)*p;
    if (c == ' ' || (c >= 9 && c <= 13)) return 1;
    if (c < 0x80) return 0;
    unsigned cp = 0;
    size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if ((size_t)(end - p) < k || k == 1) return 0;
    cp = c & (0x3fu >> (k - 1));
    for (size_t i = 1; i < k; i++) cp = cp << 6 | ((unsigned char)p[i] & 0x3f);
    int ws = cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
             cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
    return ws ? k : 0;
}

/* Length of the whitespace code point ending just before end (begin is the start of the text). */
static size_t ws_before(const char *begin, const char *end)
{
    for (size_t k = 1; k <= 3 && (size_t)(end - begin) >= k; k++) {
        unsigned char c = (unsigned char)end[-(long)k];
        if (k == 1 && c < 0x80) return ws_at(end - 1, end);
        if (c >= 0xc0) return ws_at(end - k, end) == k ? k : 0;
    }
    return 0;
}

size_t chat_ws_at(const char *p, const char *end) { return ws_at(p, end); }
size_t chat_ws_before(const char *begin, const char *end) { return ws_before(begin, end); }

static int line_of(const char *src, size_t pos)
{
    int line = 1;
    for (size_t i = 0; i < pos; i++) line += src[i] == '\n';
    return line;
}

static int lex_fail(lexer *L, const char *fmt, ...) LINEAGE_PRINTF(2, 3);
static int lex_fail(lexer *L, const char *fmt, ...)
{
    if (L->failed) return 0;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    error_set(L->err, LINEAGE_E_FORMAT, "%s: line %d: %s", L->what, line_of(L->src, L->pos < L->len ? L->pos : L->len),
              msg);
    L->failed = 1;
    return 0;
}

static int push(lexer *L, tok_type t, const char *s, size_t len)
{
    if (L->n == L->cap) {
        if (L->cap >= MAX_TOKENS) return lex_fail(L, "more than %u tokens", MAX_TOKENS);
        size_t cap = L->cap ? L->cap * 2 : 256;
        tok *nt = arena_alloc(L->ar, cap * sizeof *nt);
        if (!nt) return lex_fail(L, "out of memory");
        if (L->n) memcpy(nt, L->toks, L->n * sizeof *nt);
        L->toks = nt;
        L->cap = cap;
    }
    L->toks[L->n++] = (tok){t, s, len, 0};
    return 1;
}

/* The peer's preprocessing, in its order, into a fresh arena copy. */
static char *preprocess(const char *src, size_t len, size_t *out_len, arena *ar)
{
    if (len && src[len - 1] == '\n') len--;
    char *a = arena_alloc(ar, len + 1), *b = arena_alloc(ar, len + 1), *c = arena_alloc(ar, len + 1);
    if (!a || !b || !c) return NULL;
    /* lstrip_blocks: /^[ \t]*({[#%-])/gm, lines ending at \n, \r, U+2028, U+2029 */
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        int bol = i == 0 || src[i - 1] == '\n' || src[i - 1] == '\r' ||
                  (i >= 3 && (unsigned char)src[i - 3] == 0xe2 && (unsigned char)src[i - 2] == 0x80 &&
                   ((unsigned char)src[i - 1] == 0xa8 || (unsigned char)src[i - 1] == 0xa9));
        if (bol) {
            size_t j = i;
            while (j < len && (src[j] == ' ' || src[j] == '\t')) j++;
            if (j + 1 < len && src[j] == '{' && (src[j + 1] == '#' || src[j + 1] == '%' || src[j + 1] == '-')) {
                i = j;
                a[n++] = src[i++];
                continue;
            }
        }
        a[n++] = src[i++];
    }
    /* trim_blocks: /([#%-]})\n/g */
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        if (i + 2 < n && (a[i] == '#' || a[i] == '%' || a[i] == '-') && a[i + 1] == '}' && a[i + 2] == '\n') {
            b[m++] = a[i];
            b[m++] = '}';
            i += 3;
        } else {
            b[m++] = a[i++];
        }
    }
    /* {% generation %} / {% endgeneration %} (transformers' tag) removed, with their - modifiers */
    size_t k = 0, last = 0;
    const char *end = b + m;
    for (size_t i = 0; i + 1 < m; i++) {
        if (b[i] != '{' || b[i + 1] != '%') continue;
        size_t j = i + 2, w;
        int lstrip = 0, rstrip = 0;
        if (j < m && b[j] == '-') { lstrip = 1; j++; }
        while (j < m && (w = ws_at(b + j, end))) j += w;
        if (j + 3 <= m && !memcmp(b + j, "end", 3)) j += 3;
        if (j + 10 > m || memcmp(b + j, "generation", 10)) continue;
        j += 10;
        while (j < m && (w = ws_at(b + j, end))) j += w;
        if (j < m && b[j] == '-') { rstrip = 1; j++; }
        if (j + 2 > m || b[j] != '%' || b[j + 1] != '}') continue;
        j += 2;
        size_t after = j;
        while (j < m && (w = ws_at(b + j, end))) j += w;
        size_t e = i;
        while (lstrip && e > last && (w = ws_before(b + last, b + e))) e -= w;
        memcpy(c + k, b + last, e - last);
        k += e - last;
        if (!rstrip) {
            memcpy(c + k, b + after, j - after);
            k += j - after;
        }
        last = j;
        i = j - 1;
    }
    memcpy(c + k, b + last, m - last);
    k += m - last;
    c[k] = 0;
    *out_len = k;
    return c;
}

static int is_word(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Advances over a run of characters satisfying pred; the peer fails when the input ends inside it. */
static int consume_ws(lexer *L)
{
    size_t w;
    while (L->pos < L->len && (w = ws_at(L->src + L->pos, L->src + L->len))) {
        L->pos += w;
        if (L->pos >= L->len) return lex_fail(L, "unexpected end of input");
    }
    return 1;
}

static int consume_digits(lexer *L)
{
    while (L->pos < L->len && is_digit((unsigned char)L->src[L->pos]))
        if (++L->pos >= L->len) return lex_fail(L, "unexpected end of input");
    return 1;
}

static void strip_trailing_ws(lexer *L)
{
    if (!L->n || L->toks[L->n - 1].type != T_TEXT) return;
    tok *t = &L->toks[L->n - 1];
    size_t w;
    while (t->len && (w = ws_before(t->s, t->s + t->len))) t->len -= w;
    if (!t->len) L->n--;
}

static void skip_leading_ws(lexer *L)
{
    size_t w;
    while (L->pos < L->len && (w = ws_at(L->src + L->pos, L->src + L->len))) L->pos += w;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    o[0] = (char)(0xe0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

static int lex_string(lexer *L, char quote)
{
    size_t start = L->pos;
    while (L->pos < L->len && L->src[L->pos] != quote) L->pos += L->src[L->pos] == '\\' ? 2 : 1;
    if (L->pos >= L->len) return lex_fail(L, "unexpected end of input in a string literal");
    size_t n = L->pos - start;
    char *o = arena_alloc(L->ar, n + 1);
    if (!o) return lex_fail(L, "out of memory");
    size_t k = 0;
    for (size_t i = start; i < L->pos;) {
        char c = L->src[i++];
        if (c != '\\') { o[k++] = c; continue; }
        char e = L->src[i++];
        switch (e) {
        case 'n': o[k++] = '\n'; break;
        case 't': o[k++] = '\t'; break;
        case 'r': o[k++] = '\r'; break;
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'v': o[k++] = '\v'; break;
        case '\'': case '"': case '\\': o[k++] = e; break;
        case 'x': case 'u': {
            size_t hl = e == 'x' ? 2 : 4;
            unsigned cp = 0;
            for (size_t h = 0; h < hl; h++) {
                int v = i + h < L->pos ? hexval(L->src[i + h]) : -1;
                if (v < 0) return lex_fail(L, "invalid hexadecimal escape sequence");
                cp = cp << 4 | (unsigned)v;
            }
            if (cp >= 0xd800 && cp < 0xe000) return lex_fail(L, "surrogate escape \\u%04x", cp);
            if (k + 3 > n + 1) return lex_fail(L, "escape sequence too long");
            k += put_utf8(o + k, cp);
            i += hl;
            break;
        }
        default: return lex_fail(L, "unexpected escaped character");
        }
    }
    o[k] = 0;
    L->pos++;   /* closing quote */
    return push(L, T_STR, o, k);
}

static const struct { const char *seq; tok_type type; } table[] = {
    {"{%", T_OPEN_STMT}, {"%}", T_CLOSE_STMT}, {"{{", T_OPEN_EXPR}, {"}}", T_CLOSE_EXPR}, {"(", T_LPAREN},
    {")", T_RPAREN}, {"{", T_LBRACE}, {"}", T_RBRACE}, {"[", T_LBRACKET}, {"]", T_RBRACKET}, {",", T_COMMA},
    {".", T_DOT}, {":", T_COLON}, {"|", T_PIPE}, {"<=", T_CMP}, {">=", T_CMP}, {"==", T_CMP}, {"!=", T_CMP},
    {"<", T_CMP}, {">", T_CMP}, {"+", T_ADD}, {"-", T_ADD}, {"~", T_ADD}, {"**", T_POW}, {"*", T_MUL},
    {"//", T_MUL}, {"/", T_MUL}, {"%", T_MUL}, {"=", T_EQUALS},
};

static int lex(lexer *L)
{
    int depth = 0;
    while (L->pos < L->len && !L->failed) {
        const char *s = L->src;
        int last = L->n ? (int)L->toks[L->n - 1].type : -1;
        if (last == -1 || last == T_CLOSE_STMT || last == T_CLOSE_EXPR || last == T_COMMENT) {
            size_t end = L->pos;
            for (;;) {
                const char *p = memchr(s + end, '{', L->len - end);
                if (!p) { end = L->len; break; }
                end = (size_t)(p - s);
                if (end + 1 < L->len && (s[end + 1] == '%' || s[end + 1] == '{' || s[end + 1] == '#')) break;
                end++;
            }
            if (end > L->pos) {
                if (!push(L, T_TEXT, s + L->pos, end - L->pos)) return 0;
                L->pos = end;
                continue;
            }
        }
        if (s[L->pos] == '{' && L->pos + 1 < L->len) {
            char next = s[L->pos + 1];
            if (next == '#') {
                L->pos += 2;
                int strip_before = L->pos < L->len && s[L->pos] == '-';
                if (strip_before) L->pos++;
                const char *e = NULL;
                for (size_t i = L->pos; i + 1 < L->len; i++)
                    if (s[i] == '#' && s[i + 1] == '}') { e = s + i; break; }
                if (!e) return lex_fail(L, "missing end of comment tag");
                size_t clen = (size_t)(e - (s + L->pos));
                int strip_after = clen && s[L->pos + clen - 1] == '-';
                if (strip_before) strip_trailing_ws(L);
                if (!push(L, T_COMMENT, s + L->pos, clen - (size_t)strip_after)) return 0;
                L->pos = (size_t)(e - s) + 2;
                if (strip_after) skip_leading_ws(L);
                continue;
            }
            if (L->pos + 2 < L->len && s[L->pos + 2] == '-' && (next == '%' || next == '{')) {
                strip_trailing_ws(L);
                if (!push(L, next == '%' ? T_OPEN_STMT : T_OPEN_EXPR, s + L->pos, 2)) return 0;
                if (next == '{') depth = 0;
                L->pos += 3;
                continue;
            }
        }
        if (!consume_ws(L)) return 0;
        char c = s[L->pos];
        if (c == '-' && L->pos + 2 < L->len && s[L->pos + 2] == '}' && (s[L->pos + 1] == '%' || s[L->pos + 1] == '}')) {
            if (!push(L, s[L->pos + 1] == '%' ? T_CLOSE_STMT : T_CLOSE_EXPR, s + L->pos + 1, 2)) return 0;
            L->pos += 3;
            skip_leading_ws(L);
            continue;
        }
        if (c == '-' || c == '+') {
            if (last == T_TEXT || last == -1) return lex_fail(L, "unexpected character '%c'", c);
            if (!(last == T_IDENT || last == T_NUM || last == T_STR || last == T_RPAREN || last == T_RBRACKET)) {
                size_t start = L->pos++;
                size_t d0 = L->pos;
                if (!consume_digits(L)) return 0;
                if (L->pos > d0 && L->pos + 1 < L->len && s[L->pos] == '.' && is_digit((unsigned char)s[L->pos + 1])) {
                    L->pos++;
                    if (!consume_digits(L)) return 0;
                }
                if (!push(L, L->pos > d0 ? T_NUM : T_UNARY, s + start, L->pos - start)) return 0;
                continue;
            }
        }
        int matched = 0;
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
            size_t sl = strlen(table[i].seq);
            if (table[i].type == T_CLOSE_EXPR && depth > 0) continue;
            if (L->pos + sl <= L->len && !memcmp(s + L->pos, table[i].seq, sl)) {
                if (!push(L, table[i].type, s + L->pos, sl)) return 0;
                if (table[i].type == T_OPEN_EXPR) depth = 0;
                else if (table[i].type == T_LBRACE) depth++;
                else if (table[i].type == T_RBRACE) depth--;
                L->pos += sl;
                matched = 1;
                break;
            }
        }
        if (matched) continue;
        if (c == '\'' || c == '"') {
            L->pos++;
            if (!lex_string(L, c)) return 0;
            continue;
        }
        if (is_digit((unsigned char)c)) {
            size_t start = L->pos;
            if (!consume_digits(L)) return 0;
            if (last != T_DOT && L->pos + 1 < L->len && s[L->pos] == '.' && is_digit((unsigned char)s[L->pos + 1])) {
                L->pos++;
                if (!consume_digits(L)) return 0;
            }
            if (!push(L, T_NUM, s + start, L->pos - start)) return 0;
            continue;
        }
        if (is_word((unsigned char)c)) {
            size_t start = L->pos;
            while (L->pos < L->len && is_word((unsigned char)s[L->pos]))
                if (++L->pos >= L->len) return lex_fail(L, "unexpected end of input");
            if (!push(L, T_IDENT, s + start, L->pos - start)) return 0;
            continue;
        }
        return lex_fail(L, "unexpected character '%c'", (unsigned char)c >= 0x20 && (unsigned char)c < 0x7f ? c : '?');
    }
    return !L->failed;
}

/* ---- parser ---- */

typedef struct parser {
    tok *t;
    size_t n, i;
    int depth;
    arena *ar;
    const char *what, *src;
    lineage_error *err;
    int failed;
} parser;

static node *pfail(parser *P, const char *fmt, ...) LINEAGE_PRINTF(2, 3);
static node *pfail(parser *P, const char *fmt, ...)
{
    if (P->failed) return NULL;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = P->i < P->n ? P->t[P->i].line : (P->n ? P->t[P->n - 1].line : 1);
    error_set(P->err, LINEAGE_E_FORMAT, "%s: line %d: %s", P->what, line, msg);
    P->failed = 1;
    return NULL;
}

static node *mk(parser *P, node_kind k)
{
    node *x = arena_calloc(P->ar, 1, sizeof *x);
    if (!x) return pfail(P, "out of memory");
    x->kind = k;
    x->line = P->i < P->n ? P->t[P->i].line : 0;
    return x;
}

static int list_push(parser *P, node_list *l, node *x)
{
    if (!x) return 0;
    if ((l->n & (l->n - 1)) == 0 || l->n == 0) {   /* capacity doubles at powers of two */
        size_t cap = l->n ? l->n * 2 : 4;
        node **items = arena_alloc(P->ar, cap * sizeof *items);
        if (!items) return pfail(P, "out of memory"), 0;
        if (l->n) memcpy(items, l->items, l->n * sizeof *items);
        l->items = items;
    }
    l->items[l->n++] = x;
    return 1;
}

static int is(parser *P, tok_type t) { return P->i < P->n && P->t[P->i].type == t; }
static int is_ident(parser *P, const char *name)
{
    return P->i < P->n && P->t[P->i].type == T_IDENT && P->t[P->i].len == strlen(name) &&
           !memcmp(P->t[P->i].s, name, P->t[P->i].len);
}
static int is_ident2(parser *P, const char *a, const char *b)
{
    if (!is_ident(P, a)) return 0;
    P->i++;
    int r = is_ident(P, b);
    P->i--;
    return r;
}
static int is_stmt(parser *P, const char *name)
{
    if (!is(P, T_OPEN_STMT)) return 0;
    P->i++;
    int r = is_ident(P, name);
    P->i--;
    return r;
}

static int expect(parser *P, tok_type t, const char *what)
{
    if (!is(P, t)) return pfail(P, "expected %s", what), 0;
    P->i++;
    return 1;
}

static int expect_ident(parser *P, const char *name)
{
    if (!is_ident(P, name)) return pfail(P, "expected %s", name), 0;
    P->i++;
    return 1;
}

static node *parse_any(parser *P);
static node *parse_expr(parser *P);
static node *parse_primary(parser *P);
static node *parse_call(parser *P, node *callee);

static int enter(parser *P)
{
    if (++P->depth > MAX_NESTING) return pfail(P, "nesting deeper than %d", MAX_NESTING), 0;
    return 1;
}

/* Statements until one of the named block tags; fails at the end of the tokens. */
static int parse_until(parser *P, node_list *l, const char *a, const char *b, const char *c)
{
    while (!(is_stmt(P, a) || (b && is_stmt(P, b)) || (c && is_stmt(P, c)))) {
        if (P->i >= P->n) return pfail(P, "missing {%% %s %%}", a), 0;
        if (!list_push(P, l, parse_any(P))) return 0;
    }
    return 1;
}

static node *parse_seq(parser *P, int primary)
{
    node *first = primary ? parse_primary(P) : parse_expr(P);
    if (!first || !is(P, T_COMMA)) return first;
    node *t = mk(P, N_TUPLE);
    if (!t || !list_push(P, &t->body, first)) return NULL;
    while (is(P, T_COMMA)) {
        P->i++;
        if (!list_push(P, &t->body, primary ? parse_primary(P) : parse_expr(P))) return NULL;
    }
    return t;
}

static int parse_args(parser *P, node_list *args, int params)
{
    if (!expect(P, T_LPAREN, "'('")) return 0;
    int saw_kw = 0;
    while (!is(P, T_RPAREN)) {
        if (P->i >= P->n) return pfail(P, "unclosed argument list"), 0;
        int kwspread = is(P, T_POW), spread = is(P, T_MUL) && P->t[P->i].len == 1 && P->t[P->i].s[0] == '*';
        if (params && (kwspread || spread)) return pfail(P, "argument unpacking in a parameter list"), 0;
        node *arg;
        if (kwspread || spread) {
            P->i++;
            arg = mk(P, kwspread ? N_KWSPREAD : N_SPREAD);
            if (!arg || !(arg->a = parse_expr(P))) return 0;
        } else {
            if (!(arg = parse_expr(P))) return 0;
            if (is(P, T_EQUALS)) {
                P->i++;
                if (arg->kind != N_IDENT) return pfail(P, "expected an identifier before '='"), 0;
                node *kw = mk(P, N_KWARG);
                if (!kw) return 0;
                kw->s = arg->s;
                kw->slen = arg->slen;
                if (!(kw->a = parse_expr(P))) return 0;
                arg = kw;
                saw_kw = 1;
            } else if (saw_kw) {
                return pfail(P, "positional argument after keyword arguments"), 0;
            }
            if (params && arg->kind != N_IDENT && arg->kind != N_KWARG)
                return pfail(P, "expected an identifier in a parameter list"), 0;
        }
        if (!list_push(P, args, arg)) return 0;
        if (kwspread && (is(P, T_COMMA) ? (P->i++, !is(P, T_RPAREN)) : !is(P, T_RPAREN)))
            return pfail(P, "'**' must be the last argument"), 0;
        if (is(P, T_COMMA)) P->i++;
    }
    P->i++;
    return 1;
}

static node *parse_member(parser *P, node *obj)
{
    while (obj && (is(P, T_DOT) || is(P, T_LBRACKET))) {
        int computed = is(P, T_LBRACKET);
        P->i++;
        node *m = mk(P, N_MEMBER);
        if (!m) return NULL;
        m->a = obj;
        m->computed = computed;
        if (computed) {
            node *sl[3] = {NULL, NULL, NULL};
            int nsl = 0, slice = 0;
            while (!is(P, T_RBRACKET)) {
                if (P->i >= P->n || nsl >= 3) return pfail(P, "bad subscript");
                if (is(P, T_COLON)) {
                    sl[nsl++] = NULL;
                    P->i++;
                    slice = 1;
                } else {
                    if (!(sl[nsl++] = parse_expr(P))) return NULL;
                    if (is(P, T_COLON)) {
                        P->i++;
                        slice = 1;
                    }
                }
            }
            if (!nsl) return pfail(P, "empty subscript");
            P->i++;
            if (slice) {
                node *s = mk(P, N_SLICE);
                if (!s) return NULL;
                s->a = sl[0];
                s->b = sl[1];
                s->c = sl[2];
                m->b = s;
            } else {
                m->b = sl[0];
            }
        } else {
            if (!(m->b = parse_primary(P))) return NULL;
            if (m->b->kind != N_IDENT && m->b->kind != N_INT) return pfail(P, "expected a name after '.'");
        }
        obj = m;
    }
    return obj;
}

static node *parse_call(parser *P, node *callee)
{
    node *c = mk(P, N_CALL);
    if (!c) return NULL;
    c->a = callee;
    if (!parse_args(P, &c->body, 0)) return NULL;
    node *e = parse_member(P, c);
    if (e && is(P, T_LPAREN)) e = parse_call(P, e);
    return e;
}

static node *parse_primary(parser *P)
{
    if (P->i >= P->n) return pfail(P, "unexpected end of template");
    if (!enter(P)) return NULL;
    tok *t = &P->t[P->i++];
    node *x = NULL;
    switch (t->type) {
    case T_NUM: {
        char buf[64];
        size_t n = t->len < sizeof buf - 1 ? t->len : sizeof buf - 1;
        memcpy(buf, t->s, n);
        buf[n] = 0;
        x = mk(P, memchr(t->s, '.', t->len) ? N_FLOAT : N_INT);
        if (x) x->num = strtod(buf, NULL);
        break;
    }
    case T_STR: {
        size_t total = t->len, j = P->i;
        while (j < P->n && P->t[j].type == T_STR) total += P->t[j++].len;
        x = mk(P, N_STR);
        if (!x) break;
        if (j == P->i) {
            x->s = t->s;
            x->slen = t->len;
            break;
        }
        char *s = arena_alloc(P->ar, total + 1);
        if (!s) return pfail(P, "out of memory");
        memcpy(s, t->s, t->len);
        size_t k = t->len;
        for (; P->i < j; P->i++) {
            memcpy(s + k, P->t[P->i].s, P->t[P->i].len);
            k += P->t[P->i].len;
        }
        s[k] = 0;
        x->s = s;
        x->slen = k;
        break;
    }
    case T_IDENT:
        if ((x = mk(P, N_IDENT))) {
            x->s = t->s;
            x->slen = t->len;
        }
        break;
    case T_LPAREN:
        x = parse_seq(P, 0);
        if (x && !expect(P, T_RPAREN, "')'")) x = NULL;
        break;
    case T_LBRACKET:
        if (!(x = mk(P, N_ARRAY))) break;
        while (!is(P, T_RBRACKET)) {
            if (P->i >= P->n) return pfail(P, "unclosed '['");
            if (!list_push(P, &x->body, parse_expr(P))) return NULL;
            if (is(P, T_COMMA)) P->i++;
        }
        P->i++;
        break;
    case T_LBRACE:
        if (!(x = mk(P, N_OBJECT))) break;
        while (!is(P, T_RBRACE)) {
            if (P->i >= P->n) return pfail(P, "unclosed '{'");
            if (!list_push(P, &x->body, parse_expr(P))) return NULL;
            if (!expect(P, T_COLON, "':' in an object literal")) return NULL;
            if (!list_push(P, &x->alt, parse_expr(P))) return NULL;
            if (is(P, T_COMMA)) P->i++;
        }
        P->i++;
        break;
    default:
        P->i--;
        x = pfail(P, "unexpected token '%.*s'", (int)(t->len < 20 ? t->len : 20), t->s);
    }
    P->depth--;
    return x;
}

static node *parse_call_member(parser *P)
{
    node *m = parse_member(P, parse_primary(P));
    if (m && is(P, T_LPAREN)) return parse_call(P, m);
    return m;
}

static node *parse_unary_sign(parser *P)
{
    if (P->i < P->n && (P->t[P->i].type == T_UNARY || P->t[P->i].type == T_ADD) &&
        (P->t[P->i].s[0] == '-' || P->t[P->i].s[0] == '+') && P->t[P->i].len == 1) {
        if (!enter(P)) return NULL;
        node *u = mk(P, N_UNARY);
        if (!u) return NULL;
        u->s = P->t[P->i].s;
        u->slen = 1;
        P->i++;
        u->a = parse_unary_sign(P);
        P->depth--;
        return u->a ? u : NULL;
    }
    return parse_call_member(P);
}

static node *parse_filter(parser *P)
{
    node *x = parse_unary_sign(P);
    while (x && is(P, T_PIPE)) {
        P->i++;
        node *f = mk(P, N_FILTER), *name = parse_primary(P);
        if (!f || !name) return NULL;
        if (name->kind != N_IDENT) return pfail(P, "expected a filter name");
        f->a = x;
        f->b = is(P, T_LPAREN) ? parse_call(P, name) : name;
        if (!f->b) return NULL;
        x = f;
    }
    return x;
}

static node *parse_test(parser *P)
{
    node *x = parse_filter(P);
    while (x && is_ident(P, "is")) {
        P->i++;
        node *t = mk(P, N_TEST);
        if (!t) return NULL;
        if (is_ident(P, "not")) {
            t->negate = 1;
            P->i++;
        }
        node *name = parse_primary(P);
        if (!name) return NULL;
        if (name->kind != N_IDENT) return pfail(P, "expected a test name");
        t->s = name->s;
        t->slen = name->slen;
        t->a = x;
        x = t;
    }
    return x;
}

static node *binary(parser *P, node *l, const char *op, size_t oplen, node *r)
{
    if (!l || !r) return NULL;
    node *b = mk(P, N_BIN);
    if (!b) return NULL;
    b->s = op;
    b->slen = oplen;
    b->a = l;
    b->b = r;
    return b;
}

static node *parse_pow(parser *P)
{
    node *x = parse_test(P);
    while (x && is(P, T_POW)) {
        P->i++;
        x = binary(P, x, "**", 2, parse_test(P));
    }
    return x;
}

static node *parse_mul(parser *P)
{
    node *x = parse_pow(P);
    while (x && is(P, T_MUL)) {
        tok *t = &P->t[P->i++];
        x = binary(P, x, t->s, t->len, parse_pow(P));
    }
    return x;
}

static node *parse_add(parser *P)
{
    node *x = parse_mul(P);
    while (x && is(P, T_ADD)) {
        tok *t = &P->t[P->i++];
        x = binary(P, x, t->s, t->len, parse_mul(P));
    }
    return x;
}

static node *parse_cmp(parser *P)
{
    node *x = parse_add(P);
    while (x) {
        const char *op;
        size_t ol;
        if (is_ident2(P, "not", "in")) {
            op = "not in";
            ol = 6;
            P->i += 2;
        } else if (is_ident(P, "in") || is(P, T_CMP)) {
            op = P->t[P->i].s;
            ol = P->t[P->i].len;
            P->i++;
        } else {
            break;
        }
        x = binary(P, x, op, ol, parse_add(P));
    }
    return x;
}

static node *parse_not(parser *P)
{
    if (!is_ident(P, "not")) return parse_cmp(P);
    if (!enter(P)) return NULL;
    node *u = NULL;
    while (is_ident(P, "not")) {
        P->i++;
        node *arg = parse_not(P);
        if (!arg || !(u = mk(P, N_UNARY))) return NULL;
        u->s = "not";
        u->slen = 3;
        u->a = arg;
    }
    P->depth--;
    return u;
}

static node *parse_and(parser *P)
{
    node *x = parse_not(P);
    while (x && is_ident(P, "and")) {
        P->i++;
        x = binary(P, x, "and", 3, parse_not(P));
    }
    return x;
}

static node *parse_or(parser *P)
{
    node *x = parse_and(P);
    while (x && is_ident(P, "or")) {
        P->i++;
        x = binary(P, x, "or", 2, parse_and(P));
    }
    return x;
}

static node *parse_expr(parser *P)
{
    if (!enter(P)) return NULL;
    node *a = parse_or(P);
    if (a && is_ident(P, "if")) {
        P->i++;
        node *test = parse_or(P);
        if (!test) return NULL;
        if (is_ident(P, "else")) {
            P->i++;
            node *t = mk(P, N_TERNARY);
            if (!t) return NULL;
            t->a = test;
            t->b = a;
            if (!(t->c = parse_expr(P))) return NULL;
            a = t;
        } else {
            node *s = mk(P, N_SELECT);
            if (!s) return NULL;
            s->a = a;
            s->b = test;
            a = s;
        }
    }
    P->depth--;
    return a;
}

static node *parse_if(parser *P)
{
    if (!enter(P)) return NULL;
    node *x = mk(P, N_IF);
    if (!x || !(x->a = parse_expr(P)) || !expect(P, T_CLOSE_STMT, "'%}'")) return NULL;
    if (!parse_until(P, &x->body, "elif", "else", "endif")) return NULL;
    if (is_stmt(P, "elif")) {
        P->i += 2;
        if (!list_push(P, &x->alt, parse_if(P))) return NULL;
    } else if (is_stmt(P, "else")) {
        P->i += 2;
        if (!expect(P, T_CLOSE_STMT, "'%}'") || !parse_until(P, &x->alt, "endif", NULL, NULL)) return NULL;
    }
    P->depth--;
    return x;
}

static node *parse_statement(parser *P)
{
    P->i++;   /* {% */
    if (!is(P, T_IDENT)) return pfail(P, "expected a statement name");
    tok *name = &P->t[P->i++];
    char nm[16];
    size_t nl = name->len < sizeof nm - 1 ? name->len : sizeof nm - 1;
    memcpy(nm, name->s, nl);
    nm[nl] = 0;
    node *x = NULL;
    if (!strcmp(nm, "set")) {
        if (!(x = mk(P, N_SET)) || !(x->a = parse_seq(P, 0))) return NULL;
        if (is(P, T_EQUALS)) {
            P->i++;
            if (!(x->b = parse_seq(P, 0))) return NULL;
        } else {
            if (!expect(P, T_CLOSE_STMT, "'%}'") || !parse_until(P, &x->body, "endset", NULL, NULL)) return NULL;
            P->i += 2;
        }
    } else if (!strcmp(nm, "if")) {
        if (!(x = parse_if(P))) return NULL;
        P->i++;
        if (!expect_ident(P, "endif")) return NULL;
    } else if (!strcmp(nm, "macro")) {
        if (!(x = mk(P, N_MACRO))) return NULL;
        node *id = parse_primary(P);
        if (!id) return NULL;
        if (id->kind != N_IDENT) return pfail(P, "expected a macro name");
        x->s = id->s;
        x->slen = id->slen;
        if (!parse_args(P, &x->params, 1) || !expect(P, T_CLOSE_STMT, "'%}'") ||
            !parse_until(P, &x->body, "endmacro", NULL, NULL))
            return NULL;
        P->i++;
        if (!expect_ident(P, "endmacro")) return NULL;
    } else if (!strcmp(nm, "for")) {
        if (!(x = mk(P, N_FOR)) || !(x->a = parse_seq(P, 1))) return NULL;
        if (x->a->kind != N_IDENT && x->a->kind != N_TUPLE) return pfail(P, "expected a loop variable");
        if (!expect_ident(P, "in")) return NULL;
        node *it = parse_expr(P);
        if (!it) return NULL;
        if (it->kind == N_SELECT) {
            x->b = it->a;
            x->c = it->b;
        } else {
            x->b = it;
        }
        if (!expect(P, T_CLOSE_STMT, "'%}'") || !parse_until(P, &x->body, "endfor", "else", NULL)) return NULL;
        if (is_stmt(P, "else")) {
            P->i += 2;
            if (!expect(P, T_CLOSE_STMT, "'%}'") || !parse_until(P, &x->alt, "endfor", NULL, NULL)) return NULL;
        }
        P->i++;
        if (!expect_ident(P, "endfor")) return NULL;
    } else if (!strcmp(nm, "call")) {
        if (!(x = mk(P, N_CALLBLOCK))) return NULL;
        if (is(P, T_LPAREN) && !parse_args(P, &x->params, 1)) return NULL;
        node *callee = parse_primary(P);
        if (!callee) return NULL;
        if (callee->kind != N_IDENT) return pfail(P, "expected a macro name after call");
        node *c = mk(P, N_CALL);
        if (!c) return NULL;
        c->a = callee;
        if (!parse_args(P, &c->body, 0)) return NULL;
        x->a = c;
        if (!expect(P, T_CLOSE_STMT, "'%}'") || !parse_until(P, &x->body, "endcall", NULL, NULL)) return NULL;
        P->i += 2;
    } else if (!strcmp(nm, "filter")) {
        if (!(x = mk(P, N_FILTERBLOCK))) return NULL;
        node *f = parse_primary(P);
        if (!f) return NULL;
        if (f->kind == N_IDENT && is(P, T_LPAREN)) f = parse_call(P, f);
        if (!f) return NULL;
        x->b = f;
        if (!expect(P, T_CLOSE_STMT, "'%}'") || !parse_until(P, &x->body, "endfilter", NULL, NULL)) return NULL;
        P->i += 2;
    } else if (!strcmp(nm, "break") || !strcmp(nm, "continue")) {
        x = mk(P, nm[0] == 'b' ? N_BREAK : N_CONTINUE);
    } else {
        return pfail(P, "unknown statement '%s'", nm);
    }
    if (!x || !expect(P, T_CLOSE_STMT, "'%}'")) return NULL;
    return x;
}

static node *parse_any(parser *P)
{
    if (P->i >= P->n) return pfail(P, "unexpected end of template");
    tok *t = &P->t[P->i];
    switch (t->type) {
    case T_COMMENT:
        P->i++;
        return mk(P, N_COMMENT);
    case T_TEXT: {
        node *x = mk(P, N_TEXT);
        if (x) {
            x->s = t->s;
            x->slen = t->len;
        }
        P->i++;
        return x;
    }
    case T_OPEN_STMT: {
        if (!enter(P)) return NULL;
        node *x = parse_statement(P);
        P->depth--;
        return x;
    }
    case T_OPEN_EXPR: {
        P->i++;
        node *x = parse_expr(P);
        if (x && !expect(P, T_CLOSE_EXPR, "'}}'")) return NULL;
        return x;
    }
    default:
        return pfail(P, "unexpected token '%.*s'", (int)(t->len < 20 ? t->len : 20), t->s);
    }
}

lineage_status chat_template_parse(const char *src, size_t len, const char *what, arena *ar, chat_template **out,
                                   lineage_error *err)
{
    *out = NULL;
    if (len > CHAT_TEMPLATE_MAX_BYTES)
        return error_set(err, LINEAGE_E_FORMAT, "%s: template of %zu bytes exceeds the %u-byte limit", what, len,
                         CHAT_TEMPLATE_MAX_BYTES);
    if (!utf8_valid(src, len)) return error_set(err, LINEAGE_E_FORMAT, "%s: template is not valid UTF-8", what);
    if (memchr(src, 0, len)) return error_set(err, LINEAGE_E_FORMAT, "%s: template contains a NUL byte", what);
    size_t plen;
    char *pre = preprocess(src, len, &plen, ar);
    if (!pre) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
    lexer L = {.src = pre, .len = plen, .ar = ar, .what = what, .err = err};
    if (!lex(&L)) return err ? err->code : LINEAGE_E_FORMAT;
    /* line numbers, in one pass over the preprocessed text */
    int line = 1;
    const char *p = pre;
    for (size_t i = 0; i < L.n; i++) {
        for (; p < L.toks[i].s && p < pre + plen; p++) line += *p == '\n';
        L.toks[i].line = line;
    }
    parser P = {.t = L.toks, .n = L.n, .ar = ar, .what = what, .src = pre, .err = err};
    chat_template *t = arena_calloc(ar, 1, sizeof *t);
    if (!t) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
    t->what = arena_strdup(ar, what);
    while (P.i < P.n)
        if (!list_push(&P, &t->body, parse_any(&P))) return err ? err->code : LINEAGE_E_FORMAT;
    *out = t;
    return LINEAGE_OK;
}
