/* Chat template interpreter: values, scopes, filters, tests and methods with @huggingface/jinja's
 * semantics (JavaScript equality and number printing, its JSON, its loop and macro scoping), so a
 * template renders to the same bytes. Every value lives in one arena with a hard limit; evaluation
 * steps, loop iterations, recursion and output size are bounded; any failure unwinds (longjmp) to
 * chat_template_render, which reports one line naming the template. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format/chat_template_impl.h"
#include "util/error.h"

size_t chat_ws_at(const char *p, const char *end);
size_t chat_ws_before(const char *begin, const char *end);

typedef enum { V_UNDEF, V_NULL, V_BOOL, V_INT, V_FLOAT, V_STR, V_ARR, V_OBJ, V_NS, V_FUNC, V_KW } vtype;

typedef enum {
    F_RAISE, F_RANGE, F_STRFTIME, F_NAMESPACE, F_MACRO, F_CALLER,
    F_S_UPPER, F_S_LOWER, F_S_STRIP, F_S_TITLE, F_S_CAPITALIZE, F_S_RSTRIP, F_S_LSTRIP, F_S_STARTSWITH,
    F_S_ENDSWITH, F_S_SPLIT, F_S_REPLACE, F_O_GET, F_O_ITEMS, F_O_KEYS, F_O_VALUES, F_O_DICTSORT
} fkind;

typedef struct val val;
typedef struct env env;
typedef struct kv { const char *k; size_t kl; val *v; } kv;

struct val {
    vtype t;
    int tuple;
    int b;
    double n;
    const char *s;
    size_t len;
    val **items;         /* ARR */
    kv *kvs;             /* OBJ, NS, KW */
    size_t count, cap;
    fkind fn;            /* FUNC */
    val *self;
    const node *def;
    env *closure;
};

struct env {
    env *parent;
    kv *vars;
    size_t n, cap;
    val *caller;         /* set on the scope a call block invokes a macro from */
};

typedef struct ctx {
    arena ar;
    chat_limits lim;
    size_t steps, depth, macro_depth;
    const char *what;
    int line;
    char msg[512];
    jmp_buf jb;
    struct tmpbuf *tmps; /* every scratch buffer, freed at the end even when a failure unwinds */
} ctx;

typedef struct tmpbuf {
    strbuf sb;
    struct tmpbuf *next;
} tmpbuf;

static val V_UNDEFINED = {.t = V_UNDEF}, V_NONE = {.t = V_NULL}, V_TRUE = {.t = V_BOOL, .b = 1},
           V_FALSE = {.t = V_BOOL, .b = 0};

static _Noreturn void fail(ctx *c, const char *fmt, ...) LINEAGE_PRINTF(2, 3);
static _Noreturn void fail(ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    longjmp(c->jb, 1);
}

static void *alloc(ctx *c, size_t n)
{
    void *p = arena_alloc(&c->ar, n);
    if (!p) fail(c, "memory limit of %zu bytes reached", c->lim.max_memory);
    return p;
}

static strbuf *tmp(ctx *c)
{
    tmpbuf *t = alloc(c, sizeof *t);
    sb_init(&t->sb);
    t->next = c->tmps;
    c->tmps = t;
    return &t->sb;
}

static val *mkv(ctx *c, vtype t)
{
    val *v = alloc(c, sizeof *v);
    memset(v, 0, sizeof *v);
    v->t = t;
    return v;
}

static val *vbool(int b) { return b ? &V_TRUE : &V_FALSE; }
static val *vnum(ctx *c, vtype t, double n)
{
    val *v = mkv(c, t);
    v->n = n;
    return v;
}
static val *vstr(ctx *c, const char *s, size_t len)
{
    val *v = mkv(c, V_STR);
    char *p = alloc(c, len + 1);
    if (len) memcpy(p, s, len);
    p[len] = 0;
    v->s = p;
    v->len = len;
    return v;
}
static val *vcstr(ctx *c, const char *s) { return vstr(c, s, strlen(s)); }

static void arr_push(ctx *c, val *a, val *x)
{
    if (a->count == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        val **items = alloc(c, cap * sizeof *items);
        if (a->count) memcpy(items, a->items, a->count * sizeof *items);
        a->items = items;
        a->cap = cap;
    }
    a->items[a->count++] = x;
}

static val *kv_find(const val *o, const char *k, size_t kl)
{
    for (size_t i = 0; i < o->count; i++)
        if (o->kvs[i].kl == kl && !memcmp(o->kvs[i].k, k, kl)) return o->kvs[i].v;
    return NULL;
}

static void kv_put(ctx *c, kv **kvs, size_t *n, size_t *cap, const char *k, size_t kl, val *v)
{
    for (size_t i = 0; i < *n; i++)
        if ((*kvs)[i].kl == kl && !memcmp((*kvs)[i].k, k, kl)) {
            (*kvs)[i].v = v;
            return;
        }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        kv *nk = alloc(c, nc * sizeof *nk);
        if (*n) memcpy(nk, *kvs, *n * sizeof *nk);
        *kvs = nk;
        *cap = nc;
    }
    (*kvs)[(*n)++] = (kv){k, kl, v};
}

static void obj_put(ctx *c, val *o, const char *k, size_t kl, val *v) { kv_put(c, &o->kvs, &o->count, &o->cap, k, kl, v); }

static env *env_new(ctx *c, env *parent)
{
    env *e = alloc(c, sizeof *e);
    memset(e, 0, sizeof *e);
    e->parent = parent;
    return e;
}

static void env_set(ctx *c, env *e, const char *k, size_t kl, val *v) { kv_put(c, &e->vars, &e->n, &e->cap, k, kl, v); }

static val *env_get(const env *e, const char *k, size_t kl)
{
    for (; e; e = e->parent)
        for (size_t i = 0; i < e->n; i++)
            if (e->vars[i].kl == kl && !memcmp(e->vars[i].k, k, kl)) return e->vars[i].v;
    return &V_UNDEFINED;
}

static const char *type_name(const val *v)
{
    static const char *const names[] = {"UndefinedValue", "NullValue", "BooleanValue", "IntegerValue", "FloatValue",
                                        "StringValue", "ArrayValue", "ObjectValue", "NamespaceValue", "FunctionValue",
                                        "KeywordArgumentsValue"};
    return names[v->t];
}

/* ---- printing ---- */

/* JavaScript's Number.prototype.toString (shortest round-trip digits, exponent outside 1e-7..1e21). */
static void js_number(strbuf *sb, double x)
{
    if (isnan(x)) { sb_puts(sb, "NaN"); return; }
    if (isinf(x)) { sb_puts(sb, x < 0 ? "-Infinity" : "Infinity"); return; }
    if (x == 0) { sb_puts(sb, "0"); return; }
    char buf[64];
    int prec;
    for (prec = 0; prec < 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec, x);
        if (strtod(buf, NULL) == x) break;
    }
    snprintf(buf, sizeof buf, "%.*e", prec, x);
    char digits[32];
    size_t nd = 0;
    const char *p = buf;
    int neg = *p == '-';
    if (neg) p++;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[nd++] = *p;
    int e = atoi(p + 1);   /* x = d.ddd * 10^e */
    if (neg) sb_putc(sb, '-');
    if (e >= 21 || e < -6) {
        sb_putc(sb, digits[0]);
        if (nd > 1) {
            sb_putc(sb, '.');
            sb_putn(sb, digits + 1, nd - 1);
        }
        sb_printf(sb, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    } else if (e < 0) {
        sb_puts(sb, "0.");
        for (int i = 0; i < -e - 1; i++) sb_putc(sb, '0');
        sb_putn(sb, digits, nd);
    } else if ((size_t)e + 1 >= nd) {
        sb_putn(sb, digits, nd);
        for (size_t i = nd; i < (size_t)e + 1; i++) sb_putc(sb, '0');
    } else {
        sb_putn(sb, digits, (size_t)e + 1);
        sb_putc(sb, '.');
        sb_putn(sb, digits + e + 1, nd - (size_t)e - 1);
    }
}

static void json_str(strbuf *sb, const char *s, size_t len, int ascii)
{
    sb_putc(sb, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '"': sb_puts(sb, "\\\""); continue;
        case '\\': sb_puts(sb, "\\\\"); continue;
        case '\b': sb_puts(sb, "\\b"); continue;
        case '\f': sb_puts(sb, "\\f"); continue;
        case '\n': sb_puts(sb, "\\n"); continue;
        case '\r': sb_puts(sb, "\\r"); continue;
        case '\t': sb_puts(sb, "\\t"); continue;
        default: break;
        }
        if (ch < 0x20) {
            sb_printf(sb, "\\u%04x", ch);
        } else if (ascii && ch >= 0x7f) {
            unsigned cp = ch;
            size_t k = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc0 ? 2 : 1;
            if (k > 1) cp &= 0x3fu >> (k - 1);
            for (size_t j = 1; j < k && i + j < len; j++) cp = cp << 6 | ((unsigned char)s[i + j] & 0x3f);
            i += k - 1;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                sb_printf(sb, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
            } else {
                sb_printf(sb, "\\u%04x", cp);
            }
        } else {
            sb_putc(sb, (char)ch);
        }
    }
    sb_putc(sb, '"');
}

typedef struct json_opts {
    long indent;
    int ascii, sort_keys, undef_null;
    const char *item_sep, *key_sep;
} json_opts;

static int key_cmp(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    int r = memcmp(x->k, y->k, x->kl < y->kl ? x->kl : y->kl);
    return r ? r : (x->kl > y->kl) - (x->kl < y->kl);
}

static void to_json(ctx *c, strbuf *sb, const val *v, const json_opts *o, int depth)
{
    if (depth > 256) fail(c, "tojson: nesting deeper than 256");
    switch (v->t) {
    case V_NULL: sb_puts(sb, "null"); return;
    case V_UNDEF: sb_puts(sb, o->undef_null ? "null" : "undefined"); return;
    case V_INT: case V_FLOAT:
        if (!isfinite(v->n)) sb_puts(sb, "null");
        else js_number(sb, v->n);
        return;
    case V_BOOL: sb_puts(sb, v->b ? "true" : "false"); return;
    case V_STR: json_str(sb, v->s, v->len, o->ascii); return;
    case V_ARR: case V_OBJ: case V_NS: case V_KW: {
        if (v->tuple) fail(c, "cannot convert to JSON: TupleValue");   /* as the peer */
        int arr = v->t == V_ARR;
        size_t n = v->count;
        sb_putc(sb, arr ? '[' : '{');
        if (n == 0) {
            sb_putc(sb, arr ? ']' : '}');
            return;
        }
        const kv *kvs = v->kvs;
        if (!arr && o->sort_keys) {
            kv *sorted = alloc(c, n * sizeof *sorted);
            memcpy(sorted, v->kvs, n * sizeof *sorted);
            qsort(sorted, n, sizeof *sorted, key_cmp);
            kvs = sorted;
        }
        for (size_t i = 0; i < n; i++) {
            if (i) sb_puts(sb, o->item_sep);
            if (o->indent > 0) {
                sb_putc(sb, '\n');
                for (long k = 0; k < o->indent * (depth + 1); k++) sb_putc(sb, ' ');
            }
            if (arr) {
                to_json(c, sb, v->items[i], o, depth + 1);
            } else {
                json_str(sb, kvs[i].k, kvs[i].kl, o->ascii);
                sb_puts(sb, o->key_sep);
                to_json(c, sb, kvs[i].v, o, depth + 1);
            }
            if (sb->len > c->lim.max_output) fail(c, "output larger than %zu bytes", c->lim.max_output);
        }
        if (o->indent > 0) {
            sb_putc(sb, '\n');
            for (long k = 0; k < o->indent * depth; k++) sb_putc(sb, ' ');
        }
        sb_putc(sb, arr ? ']' : '}');
        return;
    }
    case V_FUNC: fail(c, "cannot convert to JSON: FunctionValue");
    }
}

static const json_opts default_json = {0, 0, 0, 1, ", ", ": "};
static const json_opts print_json = {0, 0, 0, 0, ", ", ": "};

/* The value's toString(), as the template prints it. */
static void print_val(ctx *c, strbuf *sb, const val *v)
{
    switch (v->t) {
    case V_STR: sb_putn(sb, v->s, v->len); return;
    case V_INT: js_number(sb, v->n); return;
    case V_FLOAT:
        if (v->n == 0 && signbit(v->n)) sb_puts(sb, "-0.0");
        else if (isfinite(v->n) && v->n == floor(v->n)) {
            if (fabs(v->n) < 1e21) sb_printf(sb, "%.1f", v->n);
            else js_number(sb, v->n);
        } else js_number(sb, v->n);
        return;
    case V_BOOL: sb_puts(sb, v->b ? "true" : "false"); return;
    case V_NULL: sb_puts(sb, "null"); return;
    case V_UNDEF: sb_puts(sb, "undefined"); return;
    case V_ARR: case V_OBJ: case V_NS: case V_KW: to_json(c, sb, v, &print_json, 0); return;
    case V_FUNC: fail(c, "cannot print a function");
    }
}

/* The JavaScript value's own toString (what `~`, `+` and join use): floats print without ".0". */
static void raw_string(ctx *c, strbuf *sb, const val *v, int depth)
{
    if (depth > 64) fail(c, "nesting too deep");
    switch (v->t) {
    case V_FLOAT: js_number(sb, v->n); return;
    case V_ARR:
        for (size_t i = 0; i < v->count; i++) {
            if (i) sb_putc(sb, ',');
            const val *x = v->items[i];
            if (x->t == V_NULL || x->t == V_UNDEF) continue;
            sb_puts(sb, "[object Object]");
        }
        return;
    case V_OBJ: case V_NS: case V_KW: sb_puts(sb, "[object Map]"); return;
    default: print_val(c, sb, v);
    }
}

static val *sb_val(ctx *c, strbuf *sb)
{
    if (sb->failed) fail(c, "out of memory");
    val *v = vstr(c, sb->data ? sb->data : "", sb->len);
    sb_free(sb);
    return v;
}

/* ---- semantics ---- */

static int truthy(const val *v)
{
    switch (v->t) {
    case V_UNDEF: case V_NULL: return 0;
    case V_BOOL: return v->b;
    case V_INT: case V_FLOAT: return v->n != 0 && !isnan(v->n);
    case V_STR: return v->len > 0;
    case V_ARR: case V_OBJ: case V_KW: return v->count > 0;
    default: return 1;
    }
}

static int is_num(const val *v) { return v->t == V_INT || v->t == V_FLOAT; }

static double js_to_number(const val *v)
{
    if (v->t == V_BOOL) return v->b;
    if (is_num(v)) return v->n;
    if (v->t == V_STR) {
        const char *s = v->s, *e = v->s + v->len;
        size_t w;
        while (s < e && (w = chat_ws_at(s, e))) s += w;
        while (e > s && (w = chat_ws_before(s, e))) e -= w;
        if (s == e) return 0;
        char buf[128];
        if ((size_t)(e - s) >= sizeof buf) return NAN;
        memcpy(buf, s, (size_t)(e - s));
        buf[e - s] = 0;
        char *end;
        double d = strtod(buf, &end);
        return *end || strchr(buf, 'x') || strchr(buf, 'X') || strchr(buf, 'n') || strchr(buf, 'N') ? NAN : d;
    }
    return NAN;
}

/* JavaScript `==` on the values' payloads. */
static int loose_eq(const val *a, const val *b)
{
    int an = a->t == V_NULL || a->t == V_UNDEF, bn = b->t == V_NULL || b->t == V_UNDEF;
    if (an || bn) return an && bn;
    if (a->t == V_STR && b->t == V_STR) return a->len == b->len && !memcmp(a->s, b->s, a->len);
    int ap = a->t == V_STR || a->t == V_BOOL || is_num(a), bp = b->t == V_STR || b->t == V_BOOL || is_num(b);
    if (ap && bp) return js_to_number(a) == js_to_number(b);
    return a == b;
}

/* JavaScript `===`. */
static int strict_eq(const val *a, const val *b)
{
    if (is_num(a) && is_num(b)) return a->n == b->n;
    if (a->t != b->t) return 0;
    switch (a->t) {
    case V_UNDEF: case V_NULL: return 1;
    case V_BOOL: return a->b == b->b;
    case V_STR: return a->len == b->len && !memcmp(a->s, b->s, a->len);
    default: return a == b;
    }
}

/* Code points of a UTF-8 string, and its length in UTF-16 units (JavaScript's .length). */
static size_t cp_len(const unsigned char *s, size_t i, size_t n)
{
    unsigned char ch = s[i];
    size_t k = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc0 ? 2 : 1;
    return i + k <= n ? k : 1;
}

static size_t utf16_len(const val *v)
{
    size_t n = 0;
    for (size_t i = 0; i < v->len;) {
        size_t k = cp_len((const unsigned char *)v->s, i, v->len);
        n += k == 4 ? 2 : 1;
        i += k;
    }
    return n;
}

static val *str_chars(ctx *c, const val *s)
{
    val *a = mkv(c, V_ARR);
    for (size_t i = 0; i < s->len;) {
        size_t k = cp_len((const unsigned char *)s->s, i, s->len);
        arr_push(c, a, vstr(c, s->s + i, k));
        i += k;
    }
    return a;
}

static val *str_trim(ctx *c, const val *v, int left, int right)
{
    const char *s = v->s, *e = v->s + v->len;
    size_t w;
    while (left && s < e && (w = chat_ws_at(s, e))) s += w;
    while (right && e > s && (w = chat_ws_before(s, e))) e -= w;
    return vstr(c, s, (size_t)(e - s));
}

/* ASCII case mapping (the models' templates only change the case of ASCII role names). */
static val *str_case(ctx *c, const val *v, int upper)
{
    val *r = vstr(c, v->s, v->len);
    char *p = (char *)r->s;
    for (size_t i = 0; i < r->len; i++) {
        if (upper && p[i] >= 'a' && p[i] <= 'z') p[i] = (char)(p[i] - 32);
        if (!upper && p[i] >= 'A' && p[i] <= 'Z') p[i] = (char)(p[i] + 32);
    }
    return r;
}

static int ascii_word(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'; }

static val *str_replace(ctx *c, const val *s, const val *old, const val *nw, double count)
{
    strbuf *sb = tmp(c);
    double left = count < 0 || isnan(count) ? INFINITY : count;
    if (count == 0) return vstr(c, s->s, s->len);
    if (old->len == 0) {   /* inserted between code points */
        for (size_t i = 0; i <= s->len;) {
            if (left > 0) { sb_putn(sb, nw->s, nw->len); left--; }
            if (i == s->len) break;
            size_t k = cp_len((const unsigned char *)s->s, i, s->len);
            sb_putn(sb, s->s + i, k);
            i += k;
        }
        return sb_val(c, sb);
    }
    size_t i = 0;
    while (i < s->len) {
        if (left > 0 && i + old->len <= s->len && !memcmp(s->s + i, old->s, old->len)) {
            sb_putn(sb, nw->s, nw->len);
            i += old->len;
            left--;
        } else {
            sb_putc(sb, s->s[i++]);
        }
        if (sb->len > c->lim.max_memory) { sb_free(sb); fail(c, "replace: result too large"); }
    }
    return sb_val(c, sb);
}

static int str_starts(const val *s, const val *p) { return p->len <= s->len && !memcmp(s->s, p->s, p->len); }
static int str_ends(const val *s, const val *p) { return p->len <= s->len && !memcmp(s->s + s->len - p->len, p->s, p->len); }

static int str_contains(const val *hay, const val *needle)
{
    if (!needle->len) return 1;
    for (size_t i = 0; i + needle->len <= hay->len; i++)
        if (!memcmp(hay->s + i, needle->s, needle->len)) return 1;
    return 0;
}

/* ---- evaluation ---- */

typedef enum { CTL_NONE, CTL_BREAK, CTL_CONTINUE } ctl;

static val *eval(ctx *c, const node *x, env *e);
static ctl render(ctx *c, const node_list *l, env *e, strbuf *out);

static void step(ctx *c)
{
    if (++c->steps > c->lim.max_steps) fail(c, "more than %zu evaluation steps (a runaway loop?)", c->lim.max_steps);
}

static void check_out(ctx *c, strbuf *sb)
{
    if (sb->failed) fail(c, "out of memory");
    if (sb->len > c->lim.max_output) fail(c, "output larger than %zu bytes", c->lim.max_output);
}

static val *render_to_val(ctx *c, const node_list *l, env *e)
{
    strbuf *sb = tmp(c);
    ctl r = render(c, l, e, sb);
    if (r != CTL_NONE) { sb_free(sb); fail(c, "break or continue outside a loop"); }
    return sb_val(c, sb);
}

/* Arguments: positional values, then one KW value when there are keyword arguments. */
static val *eval_args(ctx *c, const node_list *args, env *e)
{
    val *pos = mkv(c, V_ARR), *kw = NULL;
    for (size_t i = 0; i < args->n; i++) {
        const node *a = args->items[i];
        if (a->kind == N_SPREAD) {
            val *v = eval(c, a->a, e);
            if (v->t != V_ARR) fail(c, "cannot unpack non-iterable type: %s", type_name(v));
            for (size_t k = 0; k < v->count; k++) arr_push(c, pos, v->items[k]);
        } else if (a->kind != N_KWARG && a->kind != N_KWSPREAD) {
            arr_push(c, pos, eval(c, a, e));
        }
    }
    for (size_t i = 0; i < args->n; i++) {
        const node *a = args->items[i];
        if (a->kind == N_KWARG) {
            if (!kw) kw = mkv(c, V_KW);
            if (kv_find(kw, a->s, a->slen)) fail(c, "got multiple values for keyword argument '%.*s'", (int)a->slen, a->s);
            obj_put(c, kw, a->s, a->slen, eval(c, a->a, e));
        } else if (a->kind == N_KWSPREAD) {
            val *v = eval(c, a->a, e);
            if (v->t != V_OBJ) fail(c, "argument after ** must be a mapping, not %s", type_name(v));
            if (!kw) kw = mkv(c, V_KW);
            for (size_t k = 0; k < v->count; k++) obj_put(c, kw, v->kvs[k].k, v->kvs[k].kl, v->kvs[k].v);
        }
    }
    if (kw) arr_push(c, pos, kw);
    return pos;
}

static val *arg_at(const val *args, size_t i) { return i < args->count && args->items[i]->t != V_KW ? args->items[i] : NULL; }
static val *kwarg(const val *args, const char *name)
{
    if (!args->count || args->items[args->count - 1]->t != V_KW) return NULL;
    return kv_find(args->items[args->count - 1], name, strlen(name));
}
static size_t npos(const val *args) { return args->count && args->items[args->count - 1]->t == V_KW ? args->count - 1 : args->count; }

static val *bound(ctx *c, fkind fn, val *self)
{
    val *f = mkv(c, V_FUNC);
    f->fn = fn;
    f->self = self;
    return f;
}

static val *call_macro(ctx *c, val *f, val *args, env *site);

static val *dictsort(ctx *c, val *o, val *args);
static int compare_vals(ctx *c, const val *a, const val *b, int case_sensitive);

static val *call(ctx *c, val *f, val *args, env *site)
{
    if (f->t != V_FUNC) fail(c, "cannot call something that is not a function: got %s", type_name(f));
    val *s = f->self, *a0 = arg_at(args, 0), *a1 = arg_at(args, 1);
    switch (f->fn) {
    case F_RAISE: {
        strbuf *sb = tmp(c);
        if (a0) raw_string(c, sb, a0, 0);
        size_t n = sb->len < 300 ? sb->len : 300;
        snprintf(c->msg, sizeof c->msg, "raise_exception: %.*s", (int)n, sb->data ? sb->data : "");
        for (char *p = c->msg; *p; p++)
            if ((unsigned char)*p < 0x20) *p = ' ';
        sb_free(sb);
        longjmp(c->jb, 1);
    }
    case F_RANGE: {
        double start = 0, stop, stp = 1;
        if (!a0) fail(c, "range() wants at least one argument");
        if (a1) { start = js_to_number(a0); stop = js_to_number(a1); }
        else stop = js_to_number(a0);
        if (arg_at(args, 2)) stp = js_to_number(arg_at(args, 2));
        if (stp == 0 || isnan(stp) || isnan(start) || isnan(stop)) fail(c, "range() step must not be zero");
        val *r = mkv(c, V_ARR);
        for (double i = start; stp > 0 ? i < stop : i > stop; i += stp) {
            step(c);
            arr_push(c, r, vnum(c, i == floor(i) ? V_INT : V_FLOAT, i));
        }
        return r;
    }
    case F_STRFTIME: {
        if (!a0 || a0->t != V_STR) fail(c, "strftime_now wants a format string");
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        static const char *const months[] = {"January", "February", "March", "April", "May", "June", "July",
                                             "August", "September", "October", "November", "December"};
        strbuf *sb = tmp(c);
        for (size_t i = 0; i < a0->len; i++) {
            char ch = a0->s[i], n = i + 1 < a0->len ? a0->s[i + 1] : 0;
            if (ch != '%' || !n || !strchr("YmdbBHM%", n)) { sb_putc(sb, ch); continue; }
            i++;
            switch (n) {
            case 'Y': sb_printf(sb, "%d", tm.tm_year + 1900); break;
            case 'm': sb_printf(sb, "%02d", tm.tm_mon + 1); break;
            case 'd': sb_printf(sb, "%02d", tm.tm_mday); break;
            case 'b': sb_printf(sb, "%.3s", months[tm.tm_mon]); break;
            case 'B': sb_puts(sb, months[tm.tm_mon]); break;
            case 'H': sb_printf(sb, "%02d", tm.tm_hour); break;
            case 'M': sb_printf(sb, "%02d", tm.tm_min); break;
            default: sb_putc(sb, '%');
            }
        }
        return sb_val(c, sb);
    }
    case F_NAMESPACE: {
        val *ns = mkv(c, V_NS);
        if (npos(args) > 1) fail(c, "namespace expected at most 1 argument");
        if (a0) {
            if (a0->t == V_OBJ || a0->t == V_KW) {
                for (size_t i = 0; i < a0->count; i++) obj_put(c, ns, a0->kvs[i].k, a0->kvs[i].kl, a0->kvs[i].v);
            } else if (a0->t == V_ARR) {
                for (size_t i = 0; i < a0->count; i++) {
                    val *p = a0->items[i];
                    if (p->t != V_ARR || p->count != 2 || p->items[0]->t != V_STR)
                        fail(c, "namespace expected an object or an iterable of [key, value] pairs");
                    obj_put(c, ns, p->items[0]->s, p->items[0]->len, p->items[1]);
                }
            } else {
                fail(c, "'%s' object is not iterable", type_name(a0));
            }
        }
        if (args->count && args->items[args->count - 1]->t == V_KW) {
            val *kw = args->items[args->count - 1];
            for (size_t i = 0; i < kw->count; i++) obj_put(c, ns, kw->kvs[i].k, kw->kvs[i].kl, kw->kvs[i].v);
        }
        return ns;
    }
    case F_MACRO: case F_CALLER: return call_macro(c, f, args, site);
    case F_S_UPPER: return str_case(c, s, 1);
    case F_S_LOWER: return str_case(c, s, 0);
    case F_S_STRIP: return str_trim(c, s, 1, 1);
    case F_S_RSTRIP: return str_trim(c, s, 0, 1);
    case F_S_LSTRIP: return str_trim(c, s, 1, 0);
    case F_S_TITLE: case F_S_CAPITALIZE: {
        val *r = vstr(c, s->s, s->len);
        char *p = (char *)r->s;
        for (size_t i = 0; i < r->len; i++) {
            int start = f->fn == F_S_CAPITALIZE ? i == 0 : (i == 0 || !ascii_word(p[i - 1]));
            if (start && p[i] >= 'a' && p[i] <= 'z') p[i] = (char)(p[i] - 32);
        }
        return r;
    }
    case F_S_STARTSWITH: case F_S_ENDSWITH: {
        if (!a0) fail(c, "startswith() requires at least one argument");
        int (*test)(const val *, const val *) = f->fn == F_S_STARTSWITH ? str_starts : str_ends;
        if (a0->t == V_STR) return vbool(test(s, a0));
        if (a0->t != V_ARR) fail(c, "startswith() argument must be a string or tuple of strings");
        for (size_t i = 0; i < a0->count; i++) {
            if (a0->items[i]->t != V_STR) fail(c, "startswith() tuple elements must be strings");
            if (test(s, a0->items[i])) return &V_TRUE;
        }
        return &V_FALSE;
    }
    case F_S_SPLIT: {
        val *sep = a0 ? a0 : &V_NONE, *r = mkv(c, V_ARR);
        double maxsplit = a1 ? (a1->t == V_INT ? a1->n : (fail(c, "maxsplit argument must be a number"), 0)) : -1;
        if (sep->t == V_NULL) {
            const char *p = s->s, *end = s->s + s->len;
            size_t w;
            while (p < end && (w = chat_ws_at(p, end))) p += w;
            while (p < end) {
                if (maxsplit >= 0 && (double)r->count >= maxsplit) {
                    arr_push(c, r, vstr(c, p, (size_t)(end - p)));
                    break;
                }
                const char *q = p;
                while (q < end && !chat_ws_at(q, end)) q += cp_len((const unsigned char *)q, 0, (size_t)(end - q));
                arr_push(c, r, vstr(c, p, (size_t)(q - p)));
                p = q;
                while (p < end && (w = chat_ws_at(p, end))) p += w;
            }
            return r;
        }
        if (sep->t != V_STR) fail(c, "sep argument must be a string or null");
        if (!sep->len) fail(c, "empty separator");
        size_t start = 0;
        for (size_t i = 0; i + sep->len <= s->len;) {
            if ((maxsplit < 0 || (double)r->count < maxsplit) && !memcmp(s->s + i, sep->s, sep->len)) {
                arr_push(c, r, vstr(c, s->s + start, i - start));
                i += sep->len;
                start = i;
            } else {
                i++;
            }
        }
        arr_push(c, r, vstr(c, s->s + start, s->len - start));
        return r;
    }
    case F_S_REPLACE: {
        val *cnt = arg_at(args, 2) ? arg_at(args, 2) : kwarg(args, "count");
        if (!a0 || !a1) fail(c, "replace() requires at least two arguments");
        if (a0->t != V_STR || a1->t != V_STR) fail(c, "replace() arguments must be strings");
        if (cnt && cnt->t != V_INT && cnt->t != V_NULL && cnt->t != V_UNDEF)
            fail(c, "replace() count argument must be a number or null");
        return str_replace(c, s, a0, a1, cnt && cnt->t == V_INT ? cnt->n : -1);
    }
    case F_O_GET: {
        if (!a0 || a0->t != V_STR) fail(c, "object key must be a string");
        val *v = kv_find(s, a0->s, a0->len);
        return v ? v : a1 ? a1 : &V_NONE;
    }
    case F_O_ITEMS: case F_O_KEYS: case F_O_VALUES: {
        val *r = mkv(c, V_ARR);
        for (size_t i = 0; i < s->count; i++) {
            if (f->fn == F_O_VALUES) { arr_push(c, r, s->kvs[i].v); continue; }
            val *k = vstr(c, s->kvs[i].k, s->kvs[i].kl);
            if (f->fn == F_O_KEYS) { arr_push(c, r, k); continue; }
            val *pair = mkv(c, V_ARR);
            arr_push(c, pair, k);
            arr_push(c, pair, s->kvs[i].v);
            arr_push(c, r, pair);
        }
        return r;
    }
    case F_O_DICTSORT: return dictsort(c, s, args);
    }
    fail(c, "unknown function");
}

static val *call_macro(ctx *c, val *f, val *args, env *site)
{
    if (++c->macro_depth > c->lim.max_depth) fail(c, "macro calls nested deeper than %zu", c->lim.max_depth);
    const node *def = f->def;
    env *scope = env_new(c, f->closure);
    if (f->fn == F_MACRO) env_set(c, scope, "caller", 6, site && site->caller ? site->caller : &V_UNDEFINED);
    val *kw = args->count && args->items[args->count - 1]->t == V_KW ? args->items[args->count - 1] : NULL;
    size_t np = npos(args);
    val *rest_kw = mkv(c, V_OBJ);
    if (kw)
        for (size_t i = 0; i < kw->count; i++) obj_put(c, rest_kw, kw->kvs[i].k, kw->kvs[i].kl, kw->kvs[i].v);
    const node_list *params = &def->params;
    const node **pending = alloc(c, (params->n + 1) * sizeof *pending);
    size_t npending = 0;
    for (size_t i = 0; i < params->n; i++) {
        const node *p = params->items[i];
        val *v = i < np ? args->items[i] : NULL;
        if (!v && kw && (v = kv_find(rest_kw, p->s, p->slen))) {
            size_t k = 0;   /* drop it from the leftover keyword arguments */
            for (size_t j = 0; j < rest_kw->count; j++)
                if (!(rest_kw->kvs[j].kl == p->slen && !memcmp(rest_kw->kvs[j].k, p->s, p->slen))) rest_kw->kvs[k++] = rest_kw->kvs[j];
            rest_kw->count = k;
        }
        if (!v && p->kind == N_KWARG) pending[npending++] = p;
        env_set(c, scope, p->s, p->slen, v ? v : &V_UNDEFINED);
    }
    env_set(c, scope, "kwargs", 6, rest_kw);
    val *varargs = mkv(c, V_ARR);
    for (size_t i = params->n; i < np; i++) arr_push(c, varargs, args->items[i]);
    env_set(c, scope, "varargs", 7, varargs);
    for (size_t i = 0; i < npending; i++) env_set(c, scope, pending[i]->s, pending[i]->slen, eval(c, pending[i]->a, scope));
    val *r = render_to_val(c, &def->body, scope);
    c->macro_depth--;
    return r;
}

static int compare_vals(ctx *c, const val *a, const val *b, int case_sensitive)
{
    if (a->t == V_NULL && b->t == V_NULL) return 0;
    if (a->t == V_UNDEF && b->t == V_UNDEF) return 0;
    int an = is_num(a) || a->t == V_BOOL, bn = is_num(b) || b->t == V_BOOL;
    if (an && bn) {
        double x = js_to_number(a), y = js_to_number(b);
        return x < y ? -1 : x > y;
    }
    if (a->t != b->t || a->t != V_STR) fail(c, "cannot compare %s with %s", type_name(a), type_name(b));
    const val *x = a, *y = b;
    if (!case_sensitive) {
        x = str_case(c, a, 0);
        y = str_case(c, b, 0);
    }
    /* JavaScript compares UTF-16 units; UTF-8 byte order agrees except across the surrogate range */
    int r = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
    return r ? (r < 0 ? -1 : 1) : (x->len > y->len) - (x->len < y->len);
}

typedef struct sort_item { val *v, *key; size_t idx; } sort_item;

static void sort_items(ctx *c, sort_item *it, size_t n, int reverse, int cs)
{
    /* stable insertion sort: arrays in templates are short, and the limits bound the steps */
    for (size_t i = 1; i < n; i++) {
        sort_item x = it[i];
        size_t j = i;
        while (j > 0) {
            step(c);
            int r = compare_vals(c, it[j - 1].key, x.key, cs);
            if (reverse) r = -r;
            if (r <= 0) break;
            it[j] = it[j - 1];
            j--;
        }
        it[j] = x;
    }
}

static val *bool_opt(ctx *c, val *args, size_t pos, const char *name, int def)
{
    val *v = arg_at(args, pos);
    if (!v) v = kwarg(args, name);
    if (!v) return vbool(def);
    if (v->t != V_BOOL) fail(c, "%s must be a boolean", name);
    return v;
}

static val *dictsort(ctx *c, val *o, val *args)
{
    int cs = bool_opt(c, args, 0, "case_sensitive", 0)->b, rev = bool_opt(c, args, 2, "reverse", 0)->b;
    val *by = arg_at(args, 1) ? arg_at(args, 1) : kwarg(args, "by");
    int by_value = 0;
    if (by) {
        if (by->t != V_STR || (strcmp(by->s, "key") && strcmp(by->s, "value"))) fail(c, "by must be either 'key' or 'value'");
        by_value = !strcmp(by->s, "value");
    }
    sort_item *it = alloc(c, (o->count + 1) * sizeof *it);
    for (size_t i = 0; i < o->count; i++) {
        val *pair = mkv(c, V_ARR);
        arr_push(c, pair, vstr(c, o->kvs[i].k, o->kvs[i].kl));
        arr_push(c, pair, o->kvs[i].v);
        it[i] = (sort_item){pair, pair->items[by_value], i};
    }
    sort_items(c, it, o->count, rev, cs);
    val *r = mkv(c, V_ARR);
    for (size_t i = 0; i < o->count; i++) arr_push(c, r, it[i].v);
    return r;
}

static val *attr_path(ctx *c, val *item, const char *path, size_t plen)
{
    val *v = item;
    size_t i = 0;
    while (i <= plen) {
        size_t j = i;
        while (j < plen && path[j] != '.') j++;
        if (v->t == V_OBJ || v->t == V_NS || v->t == V_KW) {
            v = kv_find(v, path + i, j - i);
            if (!v) return &V_UNDEFINED;
        } else if (v->t == V_ARR) {
            char buf[32];
            size_t n = j - i < sizeof buf - 1 ? j - i : sizeof buf - 1;
            memcpy(buf, path + i, n);
            buf[n] = 0;
            char *end;
            long idx = strtol(buf, &end, 10);
            if (end == buf || idx < 0 || (size_t)idx >= v->count) return &V_UNDEFINED;
            v = v->items[idx];
        } else {
            return &V_UNDEFINED;
        }
        i = j + 1;
    }
    (void)c;
    return v;
}

static int run_test(ctx *c, const char *name, size_t nl, const val *v, const val *arg)
{
#define T(s) (nl == sizeof(s) - 1 && !memcmp(name, s, nl))
    if (T("boolean")) return v->t == V_BOOL;
    if (T("callable")) return v->t == V_FUNC;
    if (T("odd") || T("even")) {
        if (v->t != V_INT) fail(c, "cannot %.*s on %s", (int)nl, name, type_name(v));
        return fmod(v->n, 2) != 0 ? T("odd") : T("even");
    }
    if (T("false")) return v->t == V_BOOL && !v->b;
    if (T("true")) return v->t == V_BOOL && v->b;
    if (T("none")) return v->t == V_NULL;
    if (T("string")) return v->t == V_STR;
    if (T("number")) return is_num(v);
    if (T("integer")) return v->t == V_INT;
    if (T("iterable")) return v->t == V_ARR || v->t == V_STR;
    if (T("mapping")) return v->t == V_OBJ || v->t == V_KW;
    if (T("sequence")) return v->t == V_ARR || v->t == V_OBJ || v->t == V_KW || v->t == V_STR;
    if (T("lower") || T("upper")) {
        if (v->t != V_STR) return 0;
        const val *m = str_case(c, v, T("upper"));
        return !memcmp(m->s, v->s, v->len);
    }
    if (T("defined")) return v->t != V_UNDEF;
    if (T("undefined")) return v->t == V_UNDEF;
    if (T("equalto") || T("eq")) return arg ? strict_eq(v, arg) || (v->t == V_UNDEF && arg->t == V_UNDEF) : v->t == V_UNDEF;
#undef T
    fail(c, "unknown test: %.*s", (int)(nl < 40 ? nl : 40), name);
}

static val *filter_named(ctx *c, val *v, const char *name, size_t nl, env *e)
{
#define F(s) (nl == sizeof(s) - 1 && !memcmp(name, s, nl))
    (void)e;
    if (F("safe")) return v;
    if (F("tojson")) {
        strbuf *sb = tmp(c);
        to_json(c, sb, v, &default_json, 0);
        return sb_val(c, sb);
    }
    if (v->t == V_ARR) {
        if (F("list")) return v;
        if (F("first")) return v->count ? v->items[0] : &V_UNDEFINED;
        if (F("last")) return v->count ? v->items[v->count - 1] : &V_UNDEFINED;
        if (F("length")) return vnum(c, V_INT, (double)v->count);
        if (F("reverse")) {
            val *r = mkv(c, V_ARR);
            for (size_t i = v->count; i-- > 0;) arr_push(c, r, v->items[i]);
            return r;
        }
        if (F("sort")) {
            sort_item *it = alloc(c, (v->count + 1) * sizeof *it);
            for (size_t i = 0; i < v->count; i++) it[i] = (sort_item){v->items[i], v->items[i], i};
            sort_items(c, it, v->count, 0, 0);
            val *r = mkv(c, V_ARR);
            for (size_t i = 0; i < v->count; i++) arr_push(c, r, it[i].v);
            return r;
        }
        if (F("join")) {
            strbuf *sb = tmp(c);
            for (size_t i = 0; i < v->count; i++)
                if (v->items[i]->t != V_NULL && v->items[i]->t != V_UNDEF) raw_string(c, sb, v->items[i], 0);
            return sb_val(c, sb);
        }
        if (F("string")) {
            strbuf *sb = tmp(c);
            to_json(c, sb, v, &print_json, 0);
            return sb_val(c, sb);
        }
        if (F("unique")) {
            val *r = mkv(c, V_ARR);
            for (size_t i = 0; i < v->count; i++) {
                int seen = 0;
                for (size_t j = 0; j < r->count && !seen; j++) seen = strict_eq(r->items[j], v->items[i]);
                if (!seen) arr_push(c, r, v->items[i]);
            }
            return r;
        }
        fail(c, "unknown ArrayValue filter: %.*s", (int)(nl < 40 ? nl : 40), name);
    }
    if (v->t == V_STR) {
        if (F("length")) return vnum(c, V_INT, (double)utf16_len(v));
        if (F("upper")) return str_case(c, v, 1);
        if (F("lower")) return str_case(c, v, 0);
        if (F("title")) return call(c, bound(c, F_S_TITLE, v), mkv(c, V_ARR), e);
        if (F("capitalize")) return call(c, bound(c, F_S_CAPITALIZE, v), mkv(c, V_ARR), e);
        if (F("trim")) return str_trim(c, v, 1, 1);
        if (F("indent")) {
            strbuf *sb = tmp(c);
            for (size_t i = 0, ls = 0; i <= v->len; i++) {
                if (i < v->len && v->s[i] != '\n') continue;
                if (ls > 0 && i > ls) sb_puts(sb, "    ");
                sb_putn(sb, v->s + ls, i - ls);
                if (i < v->len) sb_putc(sb, '\n');
                ls = i + 1;
            }
            return sb_val(c, sb);
        }
        if (F("join") || F("string")) return v;
        if (F("int") || F("float")) {
            double d = js_to_number(v);
            char *end;
            d = strtod(v->s, &end);
            if (end == v->s) d = 0;
            return F("int") ? vnum(c, V_INT, trunc(d)) : vnum(c, V_FLOAT, d);
        }
        fail(c, "unknown StringValue filter: %.*s", (int)(nl < 40 ? nl : 40), name);
    }
    if (is_num(v)) {
        if (F("abs")) return vnum(c, v->t, fabs(v->n));
        if (F("int")) return vnum(c, V_INT, trunc(v->n) + 0.0);
        if (F("float")) return vnum(c, V_FLOAT, v->n);
        if (F("string")) {
            strbuf *sb = tmp(c);
            print_val(c, sb, v);
            return sb_val(c, sb);
        }
        fail(c, "unknown NumericValue filter: %.*s", (int)(nl < 40 ? nl : 40), name);
    }
    if (v->t == V_OBJ || v->t == V_KW) {
        if (F("items")) return call(c, bound(c, F_O_ITEMS, v), mkv(c, V_ARR), e);
        if (F("length")) return vnum(c, V_INT, (double)v->count);
        if (F("keys")) return call(c, bound(c, F_O_KEYS, v), mkv(c, V_ARR), e);
        if (F("values")) return call(c, bound(c, F_O_VALUES, v), mkv(c, V_ARR), e);
        if (F("dictsort")) return dictsort(c, v, mkv(c, V_ARR));
        if (F("get")) fail(c, "get wants a key");
        fail(c, "unknown ObjectValue filter: %.*s", (int)(nl < 40 ? nl : 40), name);
    }
    if (v->t == V_BOOL) {
        if (F("bool")) return v;
        if (F("int")) return vnum(c, V_INT, v->b);
        if (F("float")) return vnum(c, V_FLOAT, v->b);
        if (F("string")) return vcstr(c, v->b ? "true" : "false");
        fail(c, "unknown BooleanValue filter: %.*s", (int)(nl < 40 ? nl : 40), name);
    }
#undef F
    fail(c, "cannot apply filter \"%.*s\" to type: %s", (int)(nl < 40 ? nl : 40), name, type_name(v));
}

static val *filter_call(ctx *c, val *v, const node *f, env *e)
{
    const char *name = f->a->s;
    size_t nl = f->a->slen;
#define F(s) (nl == sizeof(s) - 1 && !memcmp(name, s, nl))
    if (f->a->kind != N_IDENT) fail(c, "unknown filter");
    if (F("tojson")) {
        val *args = eval_args(c, &f->body, e), *ind = kwarg(args, "indent"), *asc = kwarg(args, "ensure_ascii"),
            *sk = kwarg(args, "sort_keys"), *sep = kwarg(args, "separators");
        json_opts o = default_json;
        if (ind && ind->t != V_NULL && ind->t != V_INT) fail(c, "if set, indent must be a number");
        if (asc && asc->t != V_BOOL) fail(c, "if set, ensure_ascii must be a boolean");
        if (sk && sk->t != V_BOOL) fail(c, "if set, sort_keys must be a boolean");
        o.indent = ind && ind->t == V_INT ? (long)ind->n : 0;
        if (o.indent > 64) fail(c, "tojson: indent larger than 64");
        o.ascii = asc && asc->b;
        o.sort_keys = sk && sk->b;
        if (o.indent > 0) o.item_sep = ",";
        if (sep && sep->t != V_NULL) {
            if (sep->t != V_ARR || sep->count != 2 || sep->items[0]->t != V_STR || sep->items[1]->t != V_STR)
                fail(c, "separators must be a tuple of two strings");
            o.item_sep = sep->items[0]->s;
            o.key_sep = sep->items[1]->s;
        }
        strbuf *sb = tmp(c);
        to_json(c, sb, v, &o, 0);
        return sb_val(c, sb);
    }
    if (F("join")) {
        val *items = v->t == V_STR ? str_chars(c, v) : v;
        if (items->t != V_ARR) fail(c, "cannot apply filter \"join\" to type: %s", type_name(v));
        val *args = eval_args(c, &f->body, e), *sep = arg_at(args, 0);
        if (!sep) sep = kwarg(args, "separator");
        if (sep && sep->t != V_STR) fail(c, "separator must be a string");
        strbuf *sb = tmp(c);
        for (size_t i = 0; i < items->count; i++) {
            if (i && sep) sb_putn(sb, sep->s, sep->len);
            if (items->items[i]->t != V_NULL && items->items[i]->t != V_UNDEF) raw_string(c, sb, items->items[i], 0);
            check_out(c, sb);
        }
        return sb_val(c, sb);
    }
    if (F("int") || F("float")) {
        val *args = eval_args(c, &f->body, e), *def = arg_at(args, 0);
        if (!def) def = kwarg(args, "default");
        if (v->t == V_STR) {
            char *end;
            double d = F("int") ? (double)strtoll(v->s, &end, 10) : strtod(v->s, &end);
            if (end == v->s) return def ? def : vnum(c, F("int") ? V_INT : V_FLOAT, 0);
            return vnum(c, F("int") ? V_INT : V_FLOAT, d);
        }
        return filter_named(c, v, name, nl, e);
    }
    if (F("default")) {
        val *args = eval_args(c, &f->body, e), *def = arg_at(args, 0), *b = arg_at(args, 1);
        if (!b) b = kwarg(args, "boolean");
        if (b && b->t != V_BOOL) fail(c, "`default` filter flag must be a boolean");
        if (v->t == V_UNDEF || (b && b->b && !truthy(v))) return def ? def : vcstr(c, "");
        return v;
    }
    if (v->t == V_ARR) {
        if (F("sort")) {
            val *args = eval_args(c, &f->body, e);
            int rev = bool_opt(c, args, 0, "reverse", 0)->b, cs = bool_opt(c, args, 1, "case_sensitive", 0)->b;
            val *attr = arg_at(args, 2) ? arg_at(args, 2) : kwarg(args, "attribute");
            sort_item *it = alloc(c, (v->count + 1) * sizeof *it);
            for (size_t i = 0; i < v->count; i++) {
                val *key = v->items[i];
                if (attr && attr->t == V_STR) key = attr_path(c, key, attr->s, attr->len);
                else if (attr && attr->t == V_INT) {
                    char buf[32];
                    snprintf(buf, sizeof buf, "%ld", (long)attr->n);
                    key = attr_path(c, key, buf, strlen(buf));
                }
                it[i] = (sort_item){v->items[i], key, i};
            }
            sort_items(c, it, v->count, rev, cs);
            val *r = mkv(c, V_ARR);
            for (size_t i = 0; i < v->count; i++) arr_push(c, r, it[i].v);
            return r;
        }
        if (F("selectattr") || F("rejectattr")) {
            int sel = F("selectattr");
            for (size_t i = 0; i < v->count; i++)
                if (v->items[i]->t != V_OBJ && v->items[i]->t != V_NS && v->items[i]->t != V_KW)
                    fail(c, "`%s` can only be applied to array of objects", sel ? "selectattr" : "rejectattr");
            for (size_t i = 0; i < f->body.n; i++)
                if (f->body.items[i]->kind != N_STR) fail(c, "arguments of `%s` must be strings", sel ? "selectattr" : "rejectattr");
            if (!f->body.n) fail(c, "selectattr wants an attribute name");
            const node *attr = f->body.items[0], *test = f->body.n > 1 ? f->body.items[1] : NULL;
            val *arg = f->body.n > 2 ? vstr(c, f->body.items[2]->s, f->body.items[2]->slen) : NULL;
            val *r = mkv(c, V_ARR);
            for (size_t i = 0; i < v->count; i++) {
                step(c);
                val *a = kv_find(v->items[i], attr->s, attr->slen);
                int res = a ? (test ? run_test(c, test->s, test->slen, a, arg) : truthy(a)) : 0;
                if (sel ? res : !res) arr_push(c, r, v->items[i]);
            }
            return r;
        }
        if (F("map")) {
            val *args = eval_args(c, &f->body, e), *attr = kwarg(args, "attribute"), *def = kwarg(args, "default");
            if (!attr) fail(c, "`map` expressions without `attribute` set are not currently supported");
            if (attr->t != V_STR) fail(c, "attribute must be a string");
            val *r = mkv(c, V_ARR);
            for (size_t i = 0; i < v->count; i++) {
                val *it = v->items[i];
                if (it->t != V_OBJ && it->t != V_NS && it->t != V_KW) fail(c, "items in map must be an object");
                val *x = attr_path(c, it, attr->s, attr->len);
                arr_push(c, r, x->t == V_UNDEF && def ? def : x);
            }
            return r;
        }
        fail(c, "unknown ArrayValue filter: %.*s", (int)(nl < 40 ? nl : 40), name);
    }
    if (v->t == V_STR) {
        if (F("indent")) {
            val *args = eval_args(c, &f->body, e), *w = arg_at(args, 0);
            if (!w) w = kwarg(args, "width");
            val *first = arg_at(args, 1) ? arg_at(args, 1) : kwarg(args, "first");
            val *blank = arg_at(args, 2) ? arg_at(args, 2) : kwarg(args, "blank");
            if (w && w->t != V_INT && w->t != V_STR) fail(c, "width must be an integer or a string");
            strbuf *ind = tmp(c);
            if (w && w->t == V_STR) sb_putn(ind, w->s, w->len);
            else for (long k = 0; k < (w ? (long)w->n : 4) && k < 256; k++) sb_putc(ind, ' ');
            strbuf *sb = tmp(c);
            for (size_t i = 0, ls = 0, line = 0; i <= v->len; i++) {
                if (i < v->len && v->s[i] != '\n') continue;
                int skip = (!(first && truthy(first)) && line == 0) || (!(blank && truthy(blank)) && i == ls);
                if (!skip) sb_putn(sb, ind->data ? ind->data : "", ind->len);
                sb_putn(sb, v->s + ls, i - ls);
                if (i < v->len) sb_putc(sb, '\n');
                ls = i + 1;
                line++;
                check_out(c, sb);
            }
            sb_free(ind);
            return sb_val(c, sb);
        }
        if (F("replace")) return call(c, bound(c, F_S_REPLACE, v), eval_args(c, &f->body, e), e);
        fail(c, "unknown StringValue filter: %.*s", (int)(nl < 40 ? nl : 40), name);
    }
    if (v->t == V_OBJ || v->t == V_KW) {
        static const struct { const char *n; fkind k; } m[] = {
            {"get", F_O_GET}, {"items", F_O_ITEMS}, {"keys", F_O_KEYS}, {"values", F_O_VALUES}, {"dictsort", F_O_DICTSORT}};
        for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
            if (strlen(m[i].n) == nl && !memcmp(m[i].n, name, nl)) return call(c, bound(c, m[i].k, v), eval_args(c, &f->body, e), e);
        fail(c, "unknown ObjectValue filter: %.*s", (int)(nl < 40 ? nl : 40), name);
    }
#undef F
    fail(c, "cannot apply filter \"%.*s\" to type: %s", (int)(nl < 40 ? nl : 40), name, type_name(v));
}

static val *apply_filter(ctx *c, val *v, const node *f, env *e)
{
    if (f->kind == N_IDENT) return filter_named(c, v, f->s, f->slen, e);
    if (f->kind == N_CALL) return filter_call(c, v, f, e);
    fail(c, "unknown filter");
}

static val *slice_of(ctx *c, val *obj, const node *sl, env *e)
{
    if (obj->t != V_ARR && obj->t != V_STR) fail(c, "slice object must be an array or string");
    val *src = obj->t == V_STR ? str_chars(c, obj) : obj;
    val *bounds[3];
    for (int i = 0; i < 3; i++) {
        const node *b = i == 0 ? sl->a : i == 1 ? sl->b : sl->c;
        bounds[i] = b ? eval(c, b, e) : &V_UNDEFINED;
        if (bounds[i]->t != V_INT && bounds[i]->t != V_UNDEF) fail(c, "slice bounds must be integers or undefined");
    }
    double n = (double)src->count, st = bounds[2]->t == V_INT ? bounds[2]->n : 1;
    double start, stop;
    if (st == 0) fail(c, "slice step cannot be zero");
    if (st > 0) {
        start = bounds[0]->t == V_INT ? bounds[0]->n : 0;
        stop = bounds[1]->t == V_INT ? bounds[1]->n : n;
        start = start < 0 ? fmax(n + start, 0) : fmin(start, n);
        stop = stop < 0 ? fmax(n + stop, 0) : fmin(stop, n);
    } else {
        start = bounds[0]->t == V_INT ? bounds[0]->n : n - 1;
        stop = bounds[1]->t == V_INT ? bounds[1]->n : -1;
        start = start < 0 ? fmax(n + start, -1) : fmin(start, n - 1);
        stop = stop < -1 ? fmax(n + stop, -1) : fmin(stop, n - 1);
    }
    val *r = mkv(c, V_ARR);
    for (double i = start; st > 0 ? i < stop : i > stop; i += st) {
        step(c);
        arr_push(c, r, src->items[(size_t)i]);
    }
    if (obj->t == V_ARR) return r;
    strbuf *sb = tmp(c);
    for (size_t i = 0; i < r->count; i++) sb_putn(sb, r->items[i]->s, r->items[i]->len);
    return sb_val(c, sb);
}

static val *string_member(ctx *c, val *s, const char *k, size_t kl)
{
    static const struct { const char *n; fkind f; } m[] = {
        {"upper", F_S_UPPER}, {"lower", F_S_LOWER}, {"strip", F_S_STRIP}, {"title", F_S_TITLE},
        {"capitalize", F_S_CAPITALIZE}, {"rstrip", F_S_RSTRIP}, {"lstrip", F_S_LSTRIP},
        {"startswith", F_S_STARTSWITH}, {"endswith", F_S_ENDSWITH}, {"split", F_S_SPLIT}, {"replace", F_S_REPLACE}};
    if (kl == 6 && !memcmp(k, "length", 6)) return vnum(c, V_INT, (double)utf16_len(s));
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strlen(m[i].n) == kl && !memcmp(m[i].n, k, kl)) return bound(c, m[i].f, s);
    return &V_UNDEFINED;
}

static val *object_member(ctx *c, val *o, const char *k, size_t kl)
{
    static const struct { const char *n; fkind f; } m[] = {
        {"get", F_O_GET}, {"items", F_O_ITEMS}, {"keys", F_O_KEYS}, {"values", F_O_VALUES}, {"dictsort", F_O_DICTSORT}};
    val *v = kv_find(o, k, kl);
    if (v) return v;
    if (o->t == V_NS) return &V_UNDEFINED;
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strlen(m[i].n) == kl && !memcmp(m[i].n, k, kl)) return bound(c, m[i].f, o);
    return &V_UNDEFINED;
}

static val *member(ctx *c, const node *x, env *e)
{
    val *obj = eval(c, x->a, e), *prop;
    if (x->computed) {
        if (x->b->kind == N_SLICE) return slice_of(c, obj, x->b, e);
        prop = eval(c, x->b, e);
    } else if (x->b->kind == N_INT) {
        prop = vnum(c, V_INT, x->b->num);
    } else {
        prop = vstr(c, x->b->s, x->b->slen);
    }
    if (obj->t == V_OBJ || obj->t == V_NS || obj->t == V_KW) {
        if (prop->t != V_STR) fail(c, "cannot access property with non-string: got %s", type_name(prop));
        return object_member(c, obj, prop->s, prop->len);
    }
    if (obj->t == V_ARR || obj->t == V_STR) {
        if (prop->t == V_INT) {
            double i = prop->n;
            if (obj->t == V_ARR) {
                double n = (double)obj->count;
                if (i < 0) i += n;
                return i >= 0 && i < n ? obj->items[(size_t)i] : &V_UNDEFINED;
            }
            val *chars = str_chars(c, obj);
            double n = (double)chars->count;
            if (i < 0) i += n;
            return i >= 0 && i < n ? chars->items[(size_t)i] : &V_UNDEFINED;
        }
        if (prop->t == V_STR) {
            if (obj->t == V_STR) return string_member(c, obj, prop->s, prop->len);
            return prop->len == 6 && !memcmp(prop->s, "length", 6) ? vnum(c, V_INT, (double)obj->count) : &V_UNDEFINED;
        }
        fail(c, "cannot access property with non-string/non-number: got %s", type_name(prop));
    }
    if (prop->t != V_STR) fail(c, "cannot access property with non-string: got %s", type_name(prop));
    return &V_UNDEFINED;
}

static val *binop(ctx *c, const node *x, env *e)
{
    const char *op = x->s;
    size_t ol = x->slen;
#define OP(s) (ol == sizeof(s) - 1 && !memcmp(op, s, ol))
    val *l = eval(c, x->a, e);
    if (OP("and")) return truthy(l) ? eval(c, x->b, e) : l;
    if (OP("or")) return truthy(l) ? l : eval(c, x->b, e);
    val *r = eval(c, x->b, e);
    if (OP("==")) return vbool(loose_eq(l, r));
    if (OP("!=")) return vbool(!loose_eq(l, r));
    if (is_num(l) && is_num(r) && !OP("~") && !OP("**")) {
        double a = l->n, b = r->n;
        vtype t = l->t == V_FLOAT || r->t == V_FLOAT ? V_FLOAT : V_INT;
        if (OP("+")) return vnum(c, t, a + b);
        if (OP("-")) return vnum(c, t, a - b);
        if (OP("*")) return vnum(c, t, a * b);
        if (OP("/")) return vnum(c, V_FLOAT, a / b);
        if (OP("//")) return vnum(c, t, floor(a / b));
        if (OP("%")) return vnum(c, t, fmod(a, b));
        if (OP("<")) return vbool(a < b);
        if (OP(">")) return vbool(a > b);
        if (OP(">=")) return vbool(a >= b);
        if (OP("<=")) return vbool(a <= b);
    } else if (l->t == V_UNDEF || r->t == V_UNDEF) {
        if (r->t == V_UNDEF && (OP("in") || OP("not in"))) return vbool(OP("not in"));
        if (OP("~") && l->t != V_NULL && r->t != V_NULL) {
            strbuf *sb = tmp(c);
            if (l->t != V_UNDEF) raw_string(c, sb, l, 0);
            if (r->t != V_UNDEF) raw_string(c, sb, r, 0);
            return sb_val(c, sb);
        }
        fail(c, "cannot perform operation %.*s on undefined values", (int)ol, op);
    } else if (l->t == V_NULL || r->t == V_NULL) {
        fail(c, "cannot perform operation on null values");
    } else if (OP("~")) {
        strbuf *sb = tmp(c);
        raw_string(c, sb, l, 0);
        raw_string(c, sb, r, 0);
        check_out(c, sb);
        return sb_val(c, sb);
    } else if (OP("**") && (is_num(l) || l->t == V_BOOL) && (is_num(r) || r->t == V_BOOL)) {
        double a = js_to_number(l), b = js_to_number(r), p;
        if (a == 0 && b < 0) fail(c, "0.0 cannot be raised to a negative power");
        p = pow(a, b);
        if (!isfinite(p)) fail(c, "exponentiation result is not a finite real number");
        return vnum(c, l->t == V_FLOAT || r->t == V_FLOAT || b < 0 ? V_FLOAT : V_INT, p);
    } else if (l->t == V_ARR && r->t == V_ARR) {
        if (OP("+")) {
            val *a = mkv(c, V_ARR);
            for (size_t i = 0; i < l->count; i++) arr_push(c, a, l->items[i]);
            for (size_t i = 0; i < r->count; i++) arr_push(c, a, r->items[i]);
            return a;
        }
    } else if (r->t == V_ARR) {
        int found = 0;
        for (size_t i = 0; i < r->count && !found; i++) found = strict_eq(r->items[i], l);
        if (OP("in")) return vbool(found);
        if (OP("not in")) return vbool(!found);
    }
    if ((l->t == V_STR || r->t == V_STR) && OP("+")) {
        strbuf *sb = tmp(c);
        raw_string(c, sb, l, 0);
        raw_string(c, sb, r, 0);
        check_out(c, sb);
        return sb_val(c, sb);
    }
    if (l->t == V_STR && r->t == V_STR && (OP("in") || OP("not in"))) return vbool(str_contains(r, l) == OP("in"));
    if (l->t == V_STR && (r->t == V_OBJ || r->t == V_KW) && (OP("in") || OP("not in")))
        return vbool((kv_find(r, l->s, l->len) != NULL) == OP("in"));
#undef OP
    fail(c, "unknown operator \"%.*s\" between %s and %s", (int)ol, op, type_name(l), type_name(r));
}

static val *from_json(ctx *c, const json_value *j, int depth)
{
    if (depth > 64) fail(c, "context nested deeper than 64");
    switch (j->type) {
    case JSON_NULL: return &V_NONE;
    case JSON_BOOL: return vbool(j->u.boolean);
    case JSON_NUMBER: {
        double d = j->u.number.is_int ? (double)j->u.number.i : j->u.number.d;
        return vnum(c, d == floor(d) && isfinite(d) ? V_INT : V_FLOAT, d);
    }
    case JSON_STRING: return vstr(c, j->u.string.s, j->u.string.len);
    case JSON_ARRAY: {
        val *a = mkv(c, V_ARR);
        for (size_t i = 0; i < j->u.array.count; i++) arr_push(c, a, from_json(c, j->u.array.items[i], depth + 1));
        return a;
    }
    case JSON_OBJECT: {
        val *o = mkv(c, V_OBJ);
        for (size_t i = 0; i < j->u.object.count; i++)
            obj_put(c, o, j->u.object.members[i].key, j->u.object.members[i].key_len,
                    from_json(c, j->u.object.members[i].value, depth + 1));
        return o;
    }
    }
    return &V_UNDEFINED;
}

static void assign(ctx *c, const node *target, val *v, env *e)
{
    if (target->kind == N_IDENT) {
        env_set(c, e, target->s, target->slen, v);
    } else if (target->kind == N_TUPLE) {
        if (v->t != V_ARR) fail(c, "cannot unpack non-iterable type in set: %s", type_name(v));
        if (v->count != target->body.n) fail(c, "wrong number of items to unpack in set");
        for (size_t i = 0; i < target->body.n; i++) {
            const node *t = target->body.items[i];
            if (t->kind != N_IDENT) fail(c, "cannot unpack to non-identifier in set");
            env_set(c, e, t->s, t->slen, v->items[i]);
        }
    } else if (target->kind == N_MEMBER) {
        val *obj = eval(c, target->a, e);
        if (obj->t != V_NS) fail(c, "cannot assign attribute on non-namespace object");
        if (target->computed || target->b->kind != N_IDENT) fail(c, "cannot assign to member with non-identifier property");
        obj_put(c, obj, target->b->s, target->b->slen, v);
    } else {
        fail(c, "invalid target of set");
    }
}

static void bind_loopvar(ctx *c, const node *var, val *item, env *scope)
{
    if (var->kind == N_IDENT) {
        env_set(c, scope, var->s, var->slen, item);
        return;
    }
    for (size_t j = 0; j < var->body.n; j++) {
        const node *t = var->body.items[j];
        if (t->kind != N_IDENT) fail(c, "cannot unpack non-identifier type");
        env_set(c, scope, t->s, t->slen, j < item->count ? item->items[j] : &V_UNDEFINED);
    }
}

static void render_for(ctx *c, const node *x, env *e, strbuf *out)
{
    env *scope = env_new(c, e);
    val *it = eval(c, x->b, scope);
    if (it->t == V_OBJ || it->t == V_KW) it = call(c, bound(c, F_O_KEYS, it), mkv(c, V_ARR), e);
    if (it->t != V_ARR) fail(c, "expected iterable or object type in for loop: got %s", type_name(it));
    val *items = mkv(c, V_ARR);
    for (size_t i = 0; i < it->count; i++) {
        val *cur = it->items[i];
        if (x->a->kind == N_TUPLE) {
            if (cur->t != V_ARR) fail(c, "cannot unpack non-iterable type: %s", type_name(cur));
            if (cur->count != x->a->body.n) fail(c, "wrong number of items to unpack");
        }
        if (x->c) {
            step(c);
            env *ls = env_new(c, scope);
            bind_loopvar(c, x->a, cur, ls);
            if (!truthy(eval(c, x->c, ls))) continue;
        }
        arr_push(c, items, cur);
    }
    int none = 1;
    for (size_t i = 0; i < items->count; i++) {
        step(c);
        val *loop = mkv(c, V_OBJ);
        double n = (double)items->count, k = (double)i;
        obj_put(c, loop, "index", 5, vnum(c, V_INT, k + 1));
        obj_put(c, loop, "index0", 6, vnum(c, V_INT, k));
        obj_put(c, loop, "revindex", 8, vnum(c, V_INT, n - k));
        obj_put(c, loop, "revindex0", 9, vnum(c, V_INT, n - k - 1));
        obj_put(c, loop, "first", 5, vbool(i == 0));
        obj_put(c, loop, "last", 4, vbool(i + 1 == items->count));
        obj_put(c, loop, "length", 6, vnum(c, V_INT, n));
        obj_put(c, loop, "previtem", 8, i > 0 ? items->items[i - 1] : &V_UNDEFINED);
        obj_put(c, loop, "nextitem", 8, i + 1 < items->count ? items->items[i + 1] : &V_UNDEFINED);
        env_set(c, scope, "loop", 4, loop);
        bind_loopvar(c, x->a, items->items[i], scope);
        strbuf *it_out = tmp(c);   /* an iteration ended by break/continue contributes nothing (as in the peer) */
        ctl r = render(c, &x->body, scope, it_out);
        if (r == CTL_NONE) sb_putn(out, it_out->data ? it_out->data : "", it_out->len);
        sb_free(it_out);
        check_out(c, out);
        if (r == CTL_BREAK) break;
        if (r == CTL_CONTINUE) continue;
        none = 0;
    }
    if (none && render(c, &x->alt, scope, out) != CTL_NONE) fail(c, "break or continue outside a loop");
}

static val *eval(ctx *c, const node *x, env *e)
{
    step(c);
    if (++c->depth > 1500) fail(c, "expressions nested deeper than 1500");
    c->line = x->line;
    val *r = &V_UNDEFINED;
    switch (x->kind) {
    case N_IDENT: r = env_get(e, x->s, x->slen); break;
    case N_INT: r = vnum(c, V_INT, x->num); break;
    case N_FLOAT: r = vnum(c, V_FLOAT, x->num); break;
    case N_STR: r = mkv(c, V_STR); r->s = x->s; r->len = x->slen; break;
    case N_BIN: r = binop(c, x, e); break;
    case N_MEMBER: r = member(c, x, e); break;
    case N_CALL: {
        val *args = eval_args(c, &x->body, e), *f = eval(c, x->a, e);
        r = call(c, f, args, e);
        break;
    }
    case N_FILTER: r = apply_filter(c, eval(c, x->a, e), x->b, e); break;
    case N_TEST: {
        val *v = eval(c, x->a, e);
        int t = run_test(c, x->s, x->slen, v, NULL);
        r = vbool(x->negate ? !t : t);
        break;
    }
    case N_TERNARY: r = truthy(eval(c, x->a, e)) ? eval(c, x->b, e) : eval(c, x->c, e); break;
    case N_SELECT: r = truthy(eval(c, x->b, e)) ? eval(c, x->a, e) : &V_UNDEFINED; break;
    case N_UNARY: {
        val *a = eval(c, x->a, e);
        if (x->slen == 3) { r = vbool(!truthy(a)); break; }
        double sign = x->s[0] == '-' ? -1 : 1;
        if (!is_num(a) && a->t != V_BOOL) fail(c, "unknown operator \"%c\" for %s", x->s[0], type_name(a));
        r = vnum(c, a->t == V_FLOAT ? V_FLOAT : V_INT, sign * js_to_number(a));
        break;
    }
    case N_ARRAY: case N_TUPLE:
        r = mkv(c, V_ARR);
        r->tuple = x->kind == N_TUPLE;
        for (size_t i = 0; i < x->body.n; i++) arr_push(c, r, eval(c, x->body.items[i], e));
        break;
    case N_OBJECT:
        r = mkv(c, V_OBJ);
        for (size_t i = 0; i < x->body.n; i++) {
            val *k = eval(c, x->body.items[i], e);
            if (k->t != V_STR) fail(c, "object keys must be strings: got %s", type_name(k));
            obj_put(c, r, k->s, k->len, eval(c, x->alt.items[i], e));
        }
        break;
    case N_MACRO: {
        val *f = mkv(c, V_FUNC);
        f->fn = F_MACRO;
        f->def = x;
        f->closure = e;
        env_set(c, e, x->s, x->slen, f);
        r = &V_NONE;
        break;
    }
    case N_CALLBLOCK: {
        val *caller = mkv(c, V_FUNC);
        caller->fn = F_CALLER;
        caller->def = x;
        caller->closure = e;
        val *args = eval_args(c, &x->a->body, e), *f = eval(c, x->a->a, e);
        if (f->t != V_FUNC) fail(c, "cannot call something that is not a function: got %s", type_name(f));
        env *site = env_new(c, e);
        site->caller = caller;
        env_set(c, site, "caller", 6, caller);
        r = call(c, f, args, site);
        break;
    }
    case N_FILTERBLOCK: r = apply_filter(c, render_to_val(c, &x->body, e), x->b, e); break;
    case N_SPREAD: case N_KWSPREAD: case N_KWARG: case N_SLICE: fail(c, "misplaced argument syntax");
    default: fail(c, "statement used as an expression");
    }
    c->depth--;
    return r;
}

static ctl render(ctx *c, const node_list *l, env *e, strbuf *out)
{
    for (size_t i = 0; i < l->n; i++) {
        const node *x = l->items[i];
        c->line = x->line;
        step(c);
        switch (x->kind) {
        case N_TEXT: sb_putn(out, x->s, x->slen); break;
        case N_COMMENT: break;
        case N_IF: {
            ctl r = render(c, truthy(eval(c, x->a, e)) ? &x->body : &x->alt, e, out);
            if (r != CTL_NONE) return r;
            break;
        }
        case N_FOR: render_for(c, x, e, out); break;
        case N_SET: assign(c, x->a, x->b ? eval(c, x->b, e) : render_to_val(c, &x->body, e), e); break;
        case N_BREAK: return CTL_BREAK;
        case N_CONTINUE: return CTL_CONTINUE;
        default: {
            val *v = eval(c, x, e);
            if (v->t != V_NULL && v->t != V_UNDEF) print_val(c, out, v);
        }
        }
        check_out(c, out);
    }
    return CTL_NONE;
}

lineage_status chat_template_render(const chat_template *t, const json_value *vars, const chat_limits *limits,
                                    strbuf *out, lineage_error *err)
{
    ctx *c = calloc(1, sizeof *c);
    if (!c) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    c->lim = limits ? *limits : (chat_limits){0};
    if (!c->lim.max_output) c->lim.max_output = 4u << 20;
    if (!c->lim.max_steps) c->lim.max_steps = 5000000;
    if (!c->lim.max_depth) c->lim.max_depth = 64;
    if (!c->lim.max_memory) c->lim.max_memory = 64u << 20;
    arena_init(&c->ar, c->lim.max_memory);
    c->what = t->what;
    strbuf sb;
    sb_init(&sb);
    lineage_status st = LINEAGE_OK;
    if (setjmp(c->jb)) {
        st = error_set(err, LINEAGE_E_FORMAT, "%s: line %d: %s", t->what, c->line, c->msg);
    } else {
        env *g = env_new(c, NULL);
        static const struct { const char *n; fkind f; } fns[] = {
            {"raise_exception", F_RAISE}, {"range", F_RANGE}, {"strftime_now", F_STRFTIME}, {"namespace", F_NAMESPACE}};
        env_set(c, g, "true", 4, &V_TRUE);
        env_set(c, g, "false", 5, &V_FALSE);
        env_set(c, g, "none", 4, &V_NONE);
        env_set(c, g, "True", 4, &V_TRUE);
        env_set(c, g, "False", 5, &V_FALSE);
        env_set(c, g, "None", 4, &V_NONE);
        for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) env_set(c, g, fns[i].n, strlen(fns[i].n), bound(c, fns[i].f, NULL));
        for (size_t i = 0; vars && vars->type == JSON_OBJECT && i < vars->u.object.count; i++)
            env_set(c, g, vars->u.object.members[i].key, vars->u.object.members[i].key_len,
                    from_json(c, vars->u.object.members[i].value, 0));
        if (render(c, &t->body, g, &sb) != CTL_NONE) fail(c, "break or continue outside a loop");
        check_out(c, &sb);
    }
    if (!st) {
        if (sb.failed) st = error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", t->what);
        else sb_putn(out, sb.data ? sb.data : "", sb.len);
    }
    sb_free(&sb);
    for (tmpbuf *b = c->tmps; b; b = b->next) sb_free(&b->sb);
    arena_free(&c->ar);
    free(c);
    return st;
}
