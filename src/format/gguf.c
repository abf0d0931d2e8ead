/* GGUF v2/v3 parser: header, metadata key/values, tensor infos, data section. Every count is checked
 * against the bytes that remain before anything is allocated; string arrays stay in the mapping
 * (one offset per element) so 150k-token vocabularies parse without copying a string. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/gguf.h"
#include "util/json.h"
#include "format/reader.h"
#include "util/error.h"

#define GGUF_MAGIC 0x46554747u               /* "GGUF" read little-endian */
#define GGUF_DEFAULT_ALIGNMENT 32u
#define GGUF_MAX_KEY_BYTES 65535u
#define GGUF_MAX_STRING_BYTES (256u << 20)
#define GGUF_MAX_NAME_BYTES 1024u
#define GGUF_MAX_DIMS 4u
#define GGUF_MAX_ARRAY_DEPTH 8
#define GGUF_MIN_KV_BYTES 14u                /* key length, 1 key byte, value type, 1 value byte */
#define GGUF_MIN_TENSOR_BYTES 33u            /* name length, 1 name byte, n_dims, 1 dim, type, offset */

struct gguf_kv {
    const char *key;
    size_t key_len;
    gguf_type type;
    union { uint64_t u; int64_t i; double f; } num;
    const char *str;              /* STRING: NUL-terminated copy */
    size_t str_len;
    gguf_type atype;              /* ARRAY: element type */
    uint64_t count;
    const unsigned char *adata;   /* ARRAY of fixed-size elements: the first element */
    const uint64_t *soff;         /* ARRAY of strings: offset of each string's bytes from adata */
};

struct gguf_file {
    uint32_t version, alignment;
    const unsigned char *base;
    uint64_t size, header_bytes, data_offset;
    mapped_file map;              /* owned mapping (gguf_open_file), else map.data == NULL */
    arena arena;                  /* keys, names, scalar strings, string offsets */
    gguf_kv *kvs;
    size_t nkv;
    size_t *kv_index, kv_index_cap;
    gguf_tensor *tensors;
    size_t ntensors;
};

typedef struct parse_ctx {
    reader r;
    const unsigned char *base;
    const char *name;
    lineage_error *err;
    gguf_file *g;
} parse_ctx;

static const struct { const char *name; uint32_t blck, size; lineage_dtype dtype; } ggml_types[] = {
    [0] = {"F32", 1, 4, LINEAGE_DTYPE_F32},        [1] = {"F16", 1, 2, LINEAGE_DTYPE_F16},
    [2] = {"Q4_0", 32, 18, LINEAGE_DTYPE_Q4_0},    [3] = {"Q4_1", 32, 20, LINEAGE_DTYPE_Q4_1},
    [6] = {"Q5_0", 32, 22, LINEAGE_DTYPE_Q5_0},    [7] = {"Q5_1", 32, 24, LINEAGE_DTYPE_Q5_1},
    [8] = {"Q8_0", 32, 34, LINEAGE_DTYPE_Q8_0},    [9] = {"Q8_1", 32, 36, LINEAGE_DTYPE_UNKNOWN},
    [10] = {"Q2_K", 256, 84, LINEAGE_DTYPE_Q2_K},  [11] = {"Q3_K", 256, 110, LINEAGE_DTYPE_Q3_K},
    [12] = {"Q4_K", 256, 144, LINEAGE_DTYPE_Q4_K}, [13] = {"Q5_K", 256, 176, LINEAGE_DTYPE_Q5_K},
    [14] = {"Q6_K", 256, 210, LINEAGE_DTYPE_Q6_K}, [15] = {"Q8_K", 256, 292, LINEAGE_DTYPE_UNKNOWN},
    [16] = {"IQ2_XXS", 256, 66, LINEAGE_DTYPE_UNKNOWN}, [17] = {"IQ2_XS", 256, 74, LINEAGE_DTYPE_UNKNOWN},
    [18] = {"IQ3_XXS", 256, 98, LINEAGE_DTYPE_UNKNOWN}, [19] = {"IQ1_S", 256, 50, LINEAGE_DTYPE_UNKNOWN},
    [20] = {"IQ4_NL", 32, 18, LINEAGE_DTYPE_UNKNOWN},   [21] = {"IQ3_S", 256, 110, LINEAGE_DTYPE_UNKNOWN},
    [22] = {"IQ2_S", 256, 82, LINEAGE_DTYPE_UNKNOWN},   [23] = {"IQ4_XS", 256, 136, LINEAGE_DTYPE_UNKNOWN},
    [24] = {"I8", 1, 1, LINEAGE_DTYPE_I8},         [25] = {"I16", 1, 2, LINEAGE_DTYPE_I16},
    [26] = {"I32", 1, 4, LINEAGE_DTYPE_I32},       [27] = {"I64", 1, 8, LINEAGE_DTYPE_I64},
    [28] = {"F64", 1, 8, LINEAGE_DTYPE_F64},       [29] = {"IQ1_M", 256, 56, LINEAGE_DTYPE_UNKNOWN},
    [30] = {"BF16", 1, 2, LINEAGE_DTYPE_BF16},
    [34] = {"TQ1_0", 256, 54, LINEAGE_DTYPE_UNKNOWN},   [35] = {"TQ2_0", 256, 66, LINEAGE_DTYPE_UNKNOWN},
    [39] = {"MXFP4", 32, 17, LINEAGE_DTYPE_UNKNOWN},    [40] = {"NVFP4", 64, 36, LINEAGE_DTYPE_UNKNOWN},
    [41] = {"Q1_0", 128, 18, LINEAGE_DTYPE_UNKNOWN},
};
#define GGML_TYPE_IDS (sizeof ggml_types / sizeof ggml_types[0])

static const char *const gguf_type_names[GGUF_TYPE_COUNT] = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array",
    "uint64", "int64", "float64"};
/* Bytes of one element on disk; for strings and arrays the smallest possible encoding. */
static const uint8_t gguf_type_min_bytes[GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8};


static int type_is_fixed(gguf_type t) { return t != GGUF_TYPE_STRING && t != GGUF_TYPE_ARRAY; }

LINEAGE_PRINTF(3, 4)
static lineage_status fail(parse_ctx *c, lineage_status code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return error_set(c->err, code, "%s: %s", c->name, msg);
}

static uint64_t pos(const parse_ctx *c) { return (uint64_t)(c->r.p - c->base); }

static lineage_status truncated(parse_ctx *c, const char *what)
{
    return fail(c, LINEAGE_E_FORMAT, "truncated at byte %llu of %llu while reading %s",
                (unsigned long long)pos(c), (unsigned long long)c->g->size, what);
}

/* Reads a gguf string (u64 length + bytes) without copying; key (or NULL) names the owner in errors. */
static lineage_status read_string(parse_ctx *c, uint64_t max_len, const char *what, const char *key,
                                  const unsigned char **s, uint64_t *len)
{
    char owner[120] = "";
    uint64_t n = reader_u64(&c->r);
    if (key) snprintf(owner, sizeof owner, "key '%.80s': ", key);
    if (c->r.failed)
        return fail(c, LINEAGE_E_FORMAT, "%struncated at byte %llu of %llu while reading %s", owner,
                    (unsigned long long)pos(c), (unsigned long long)c->g->size, what);
    if (n > reader_left(&c->r))
        return fail(c, LINEAGE_E_FORMAT, "%s%s at byte %llu claims %llu bytes but only %llu remain", owner, what,
                    (unsigned long long)(pos(c) - 8), (unsigned long long)n, (unsigned long long)reader_left(&c->r));
    if (n > max_len)
        return fail(c, LINEAGE_E_FORMAT, "%s%s at byte %llu is %llu bytes long (limit %llu)", owner, what,
                    (unsigned long long)(pos(c) - 8), (unsigned long long)n, (unsigned long long)max_len);
    *s = c->r.p;
    *len = n;
    reader_skip(&c->r, n);
    return LINEAGE_OK;
}

static lineage_status read_fixed(parse_ctx *c, gguf_type t, gguf_kv *kv, const char *key)
{
    const unsigned char *at = c->r.p;
    uint64_t u = 0;
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: u = reader_u8(&c->r); break;
    case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: u = reader_u16(&c->r); break;
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: u = reader_u32(&c->r); break;
    default: u = reader_u64(&c->r); break;
    }
    if (c->r.failed) return truncated(c, "a value");
    if (t == GGUF_TYPE_BOOL && u > 1)
        return fail(c, LINEAGE_E_FORMAT, "key '%s': bool value %u at byte %llu is neither 0 nor 1", key,
                    (unsigned)u, (unsigned long long)(at - c->base));
    if (!kv) return LINEAGE_OK;
    switch (t) {
    case GGUF_TYPE_INT8: kv->num.i = (int8_t)u; break;
    case GGUF_TYPE_INT16: kv->num.i = (int16_t)u; break;
    case GGUF_TYPE_INT32: kv->num.i = (int32_t)u; break;
    case GGUF_TYPE_INT64: kv->num.i = (int64_t)u; break;
    case GGUF_TYPE_FLOAT32: { uint32_t b = (uint32_t)u; float f; memcpy(&f, &b, 4); kv->num.f = f; break; }
    case GGUF_TYPE_FLOAT64: memcpy(&kv->num.f, &u, 8); break;
    default: kv->num.u = u; break;
    }
    return LINEAGE_OK;
}

/* Array body after its element type: u64 count, then the elements. kv is NULL for nested arrays
 * (walked and validated, not kept). */
static lineage_status read_array(parse_ctx *c, gguf_kv *kv, const char *key, int depth)
{
    if (depth > GGUF_MAX_ARRAY_DEPTH)
        return fail(c, LINEAGE_E_FORMAT, "key '%s': arrays nested deeper than %d", key, GGUF_MAX_ARRAY_DEPTH);
    uint32_t at = reader_u32(&c->r);
    uint64_t n = reader_u64(&c->r);
    if (c->r.failed) return truncated(c, "an array header");
    if (at >= GGUF_TYPE_COUNT)
        return fail(c, LINEAGE_E_FORMAT, "key '%s': array element type %u is not a GGUF type (0..12)", key, at);
    uint64_t need;
    if (!mul_u64(n, gguf_type_min_bytes[at], &need) || need > reader_left(&c->r))
        return fail(c, LINEAGE_E_FORMAT,
                    "key '%s': array of %llu %s elements cannot fit in the %llu bytes that remain", key,
                    (unsigned long long)n, gguf_type_names[at], (unsigned long long)reader_left(&c->r));
    if (kv) {
        kv->atype = (gguf_type)at;
        kv->count = n;
        kv->adata = c->r.p;
    }
    if (type_is_fixed((gguf_type)at)) {
        if (at == GGUF_TYPE_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (c->r.p[i] > 1)
                    return fail(c, LINEAGE_E_FORMAT, "key '%s': bool array element %llu is neither 0 nor 1", key,
                                (unsigned long long)i);
        reader_skip(&c->r, need);
        return LINEAGE_OK;
    }
    if (at == GGUF_TYPE_STRING) {
        uint64_t *off = NULL;
        if (kv && n) {
            off = arena_alloc(&c->g->arena, (size_t)n * sizeof *off);
            if (!off) return fail(c, LINEAGE_E_NOMEM, "key '%s': out of memory for %llu strings", key,
                                  (unsigned long long)n);
            kv->soff = off;
        }
        for (uint64_t i = 0; i < n; i++) {
            const unsigned char *s;
            uint64_t len;
            lineage_status st = read_string(c, GGUF_MAX_STRING_BYTES, "an array string", key, &s, &len);
            if (st) return st;
            if (off) off[i] = (uint64_t)(s - kv->adata);
        }
        return LINEAGE_OK;
    }
    for (uint64_t i = 0; i < n; i++) {
        lineage_status st = read_array(c, NULL, key, depth + 1);
        if (st) return st;
    }
    return LINEAGE_OK;
}

static lineage_status read_kv(parse_ctx *c, gguf_kv *kv, uint64_t index)
{
    const unsigned char *ks;
    uint64_t klen;
    char what[64];
    snprintf(what, sizeof what, "key #%llu", (unsigned long long)index);
    lineage_status st = read_string(c, GGUF_MAX_KEY_BYTES, what, NULL, &ks, &klen);
    if (st) return st;
    if (klen == 0) return fail(c, LINEAGE_E_FORMAT, "key #%llu is empty", (unsigned long long)index);
    if (memchr(ks, 0, klen) || !utf8_valid((const char *)ks, klen))
        return fail(c, LINEAGE_E_FORMAT, "key #%llu at byte %llu has a NUL byte or invalid UTF-8", (unsigned long long)index,
                    (unsigned long long)(ks - c->base));
    kv->key = arena_strndup(&c->g->arena, (const char *)ks, klen);
    if (!kv->key) return fail(c, LINEAGE_E_NOMEM, "out of memory");
    kv->key_len = klen;
    uint32_t t = reader_u32(&c->r);
    if (c->r.failed) return truncated(c, "a value type");
    if (t >= GGUF_TYPE_COUNT)
        return fail(c, LINEAGE_E_FORMAT, "key '%s': value type %u is not a GGUF type (0..12)", kv->key, t);
    kv->type = (gguf_type)t;
    if (t == GGUF_TYPE_ARRAY) return read_array(c, kv, kv->key, 1);
    if (t == GGUF_TYPE_STRING) {
        const unsigned char *s;
        uint64_t len;
        st = read_string(c, GGUF_MAX_STRING_BYTES, "a string value", kv->key, &s, &len);
        if (st) return st;
        kv->str = arena_strndup(&c->g->arena, (const char *)s, len);
        if (!kv->str) return fail(c, LINEAGE_E_NOMEM, "out of memory");
        kv->str_len = len;
        return LINEAGE_OK;
    }
    return read_fixed(c, kv->type, kv, kv->key);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static const char *kv_name(const gguf_file *g, size_t i) { return g->kvs[i].key; }
static const char *tensor_name(const gguf_file *g, size_t i) { return g->tensors[i].name; }

/* Fills an open-addressing index of n names (cap a power of two >= 2n); returns the position of
 * the first name seen twice, or SIZE_MAX. */
static size_t build_index(size_t *slots, size_t cap, size_t n, const char *(*name_at)(const gguf_file *, size_t),
                          const gguf_file *g)
{
    for (size_t i = 0; i < cap; i++) slots[i] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        const char *s = name_at(g, i);
        size_t h = (size_t)hash_str(s) & (cap - 1);
        while (slots[h] != SIZE_MAX) {
            if (!strcmp(name_at(g, slots[h]), s)) return i;
            h = (h + 1) & (cap - 1);
        }
        slots[h] = i;
    }
    return SIZE_MAX;
}

static size_t index_cap(size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    return cap;
}

static lineage_status read_alignment(parse_ctx *c)
{
    gguf_file *g = c->g;
    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    const gguf_kv *kv = gguf_find(g, "general.alignment");
    if (!kv) return LINEAGE_OK;
    if (kv->type != GGUF_TYPE_UINT32)
        return fail(c, LINEAGE_E_FORMAT, "general.alignment has type %s, expected uint32", gguf_type_names[kv->type]);
    uint64_t a = kv->num.u;
    if (a == 0 || (a & (a - 1)))
        return fail(c, LINEAGE_E_FORMAT, "general.alignment is %llu, not a nonzero power of two",
                    (unsigned long long)a);
    g->alignment = (uint32_t)a;
    return LINEAGE_OK;
}

static lineage_status read_tensor_info(parse_ctx *c, gguf_tensor *t, uint64_t index)
{
    const unsigned char *ns;
    uint64_t nlen;
    char what[64];
    snprintf(what, sizeof what, "the name of tensor #%llu", (unsigned long long)index);
    lineage_status st = read_string(c, GGUF_MAX_NAME_BYTES, what, NULL, &ns, &nlen);
    if (st) return st;
    if (nlen == 0 || memchr(ns, 0, nlen) || !utf8_valid((const char *)ns, nlen))
        return fail(c, LINEAGE_E_FORMAT, "tensor #%llu: name is empty, has a NUL byte or invalid UTF-8",
                    (unsigned long long)index);
    t->name = arena_strndup(&c->g->arena, (const char *)ns, nlen);
    if (!t->name) return fail(c, LINEAGE_E_NOMEM, "out of memory");
    t->n_dims = reader_u32(&c->r);
    if (c->r.failed) return truncated(c, "a tensor info");
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return fail(c, LINEAGE_E_FORMAT, "tensor '%s': %u dimensions (1 to %u allowed)", t->name, t->n_dims,
                    GGUF_MAX_DIMS);
    uint64_t numel = 1;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = d < t->n_dims ? reader_u64(&c->r) : 1;
        if (t->ne[d] > (uint64_t)INT64_MAX)
            return fail(c, LINEAGE_E_FORMAT, "tensor '%s': dimension %u is %llu", t->name, d,
                        (unsigned long long)t->ne[d]);
        if (!mul_u64(numel, t->ne[d], &numel))
            return fail(c, LINEAGE_E_FORMAT, "tensor '%s': element count overflows", t->name);
    }
    t->ggml_type = reader_u32(&c->r);
    uint64_t rel = reader_u64(&c->r);
    if (c->r.failed) return truncated(c, "a tensor info");
    if (t->ggml_type >= GGML_TYPE_IDS || !ggml_types[t->ggml_type].name)
        return fail(c, LINEAGE_E_FORMAT, "tensor '%s': ggml type %u is unknown or no longer supported", t->name,
                    t->ggml_type);
    uint32_t blck = ggml_types[t->ggml_type].blck, bsize = ggml_types[t->ggml_type].size;
    if (t->ne[0] % blck)
        return fail(c, LINEAGE_E_FORMAT, "tensor '%s': %s rows of %llu elements are not whole %u-element blocks",
                    t->name, ggml_types[t->ggml_type].name, (unsigned long long)t->ne[0], blck);
    t->dtype = ggml_types[t->ggml_type].dtype;
    uint64_t rows = numel && t->ne[0] ? numel / t->ne[0] : 0, row_bytes;
    if (!mul_u64(t->ne[0] / blck, bsize, &row_bytes) || !mul_u64(row_bytes, rows, &t->nbytes))
        return fail(c, LINEAGE_E_FORMAT, "tensor '%s': byte size overflows", t->name);
    if (rel % c->g->alignment)
        return fail(c, LINEAGE_E_FORMAT, "tensor '%s': data offset %llu is not a multiple of the alignment %u",
                    t->name, (unsigned long long)rel, c->g->alignment);
    t->offset = rel;   /* made absolute once the data section is known */
    return LINEAGE_OK;
}

typedef struct span { uint64_t begin, end; size_t index; } span;

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Places the tensors in the data section: inside the file and not overlapping. */
static lineage_status place_tensors(parse_ctx *c)
{
    gguf_file *g = c->g;
    uint64_t a = g->alignment, end = g->header_bytes;
    if (!add_u64(end, a - 1, &end))
        return fail(c, LINEAGE_E_FORMAT, "data section offset overflows");
    g->data_offset = end / a * a;
    if (!g->ntensors) return LINEAGE_OK;
    if (g->data_offset > g->size)
        return fail(c, LINEAGE_E_FORMAT, "truncated: the data section starts at byte %llu, past the end of the "
                    "%llu-byte file", (unsigned long long)g->data_offset, (unsigned long long)g->size);
    uint64_t data_size = g->size - g->data_offset;
    span *spans = malloc(g->ntensors * sizeof *spans);
    if (!spans) return fail(c, LINEAGE_E_NOMEM, "out of memory");
    lineage_status st = LINEAGE_OK;
    for (size_t i = 0; i < g->ntensors && !st; i++) {
        gguf_tensor *t = &g->tensors[i];
        uint64_t stop = 0;
        if (!add_u64(t->offset, t->nbytes, &stop) || stop > data_size)
            st = fail(c, LINEAGE_E_FORMAT, "tensor '%s': %llu bytes at data offset %llu run past the end of the "
                      "%llu-byte data section", t->name, (unsigned long long)t->nbytes,
                      (unsigned long long)t->offset, (unsigned long long)data_size);
        spans[i] = (span){t->offset, stop, i};
    }
    if (!st) {
        qsort(spans, g->ntensors, sizeof *spans, span_cmp);
        for (size_t i = 1; i < g->ntensors && !st; i++)
            if (spans[i].begin < spans[i - 1].end && spans[i].begin != spans[i].end)
                st = fail(c, LINEAGE_E_FORMAT, "tensors '%s' and '%s' overlap at data offset %llu",
                          g->tensors[spans[i - 1].index].name, g->tensors[spans[i].index].name,
                          (unsigned long long)spans[i].begin);
    }
    free(spans);
    for (size_t i = 0; i < g->ntensors && !st; i++) g->tensors[i].offset += g->data_offset;
    return st;
}

static lineage_status parse(parse_ctx *c)
{
    gguf_file *g = c->g;
    if (g->size < 24)
        return fail(c, LINEAGE_E_FORMAT, "truncated: %llu bytes, shorter than the 24-byte GGUF header",
                    (unsigned long long)g->size);
    uint32_t magic = reader_u32(&c->r), version = reader_u32(&c->r);
    uint64_t ntensors = reader_u64(&c->r), nkv = reader_u64(&c->r);
    if (magic != GGUF_MAGIC) return fail(c, LINEAGE_E_FORMAT, "not a GGUF file (bad magic)");
    if (version == 0x02000000u || version == 0x03000000u)
        return fail(c, LINEAGE_E_UNSUPPORTED, "big-endian GGUF files are not supported");
    if (version == 1)
        return fail(c, LINEAGE_E_FORMAT, "GGUF version 1 (32-bit counts) is not supported; only 2 and 3");
    if (version != 2 && version != 3)
        return fail(c, LINEAGE_E_FORMAT, "unsupported GGUF version %u (only 2 and 3)", version);
    g->version = version;
    uint64_t left = reader_left(&c->r), need_kv, need_t, need;
    if (!mul_u64(nkv, GGUF_MIN_KV_BYTES, &need_kv) || need_kv > left)
        return fail(c, LINEAGE_E_FORMAT, "%llu key/values cannot fit in the %llu bytes after the header",
                    (unsigned long long)nkv, (unsigned long long)left);
    if (!mul_u64(ntensors, GGUF_MIN_TENSOR_BYTES, &need_t) || !add_u64(need_kv, need_t, &need) || need > left)
        return fail(c, LINEAGE_E_FORMAT, "%llu tensor infos and %llu key/values cannot fit in the %llu bytes after "
                    "the header", (unsigned long long)ntensors, (unsigned long long)nkv, (unsigned long long)left);
    g->kvs = calloc(nkv ? (size_t)nkv : 1, sizeof *g->kvs);
    g->tensors = calloc(ntensors ? (size_t)ntensors : 1, sizeof *g->tensors);
    if (!g->kvs || !g->tensors) return fail(c, LINEAGE_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < nkv; i++) {
        lineage_status st = read_kv(c, &g->kvs[i], i);
        if (st) return st;
        g->nkv++;
    }
    g->kv_index_cap = index_cap(g->nkv);
    g->kv_index = malloc(g->kv_index_cap * sizeof *g->kv_index);
    if (!g->kv_index) return fail(c, LINEAGE_E_NOMEM, "out of memory");
    size_t dup = build_index(g->kv_index, g->kv_index_cap, g->nkv, kv_name, g);
    if (dup != SIZE_MAX) return fail(c, LINEAGE_E_FORMAT, "key '%s' appears twice", g->kvs[dup].key);
    lineage_status st = read_alignment(c);
    if (st) return st;
    for (uint64_t i = 0; i < ntensors; i++) {
        st = read_tensor_info(c, &g->tensors[i], i);
        if (st) return st;
        g->ntensors++;
    }
    if (g->ntensors) {
        size_t cap = index_cap(g->ntensors);
        size_t *slots = malloc(cap * sizeof *slots);
        if (!slots) return fail(c, LINEAGE_E_NOMEM, "out of memory");
        dup = build_index(slots, cap, g->ntensors, tensor_name, g);
        free(slots);
        if (dup != SIZE_MAX) return fail(c, LINEAGE_E_FORMAT, "tensor '%s' appears twice", g->tensors[dup].name);
    }
    g->header_bytes = pos(c);
    return place_tensors(c);
}

lineage_status gguf_parse_memory(const void *data, size_t size, const char *name, gguf_file **out, lineage_error *err)
{
    *out = NULL;
    gguf_file *g = calloc(1, sizeof *g);
    if (!g) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", name);
    arena_init(&g->arena, 0);
    g->base = data;
    g->size = size;
    parse_ctx c = {reader_make(data, size), data, name, err, g};
    lineage_status st = parse(&c);
    if (st) {
        gguf_file_free(g);
        return st;
    }
    *out = g;
    return LINEAGE_OK;
}

lineage_status gguf_open_file(const char *path, gguf_file **out, lineage_error *err)
{
    *out = NULL;
    mapped_file f;
    lineage_status st = file_map(path, &f, err);
    if (st) return st;
    st = gguf_parse_memory(f.data, (size_t)f.size, path, out, err);
    if (st) {
        file_unmap(&f);
        return st;
    }
    (*out)->map = f;
    return LINEAGE_OK;
}

void gguf_file_free(gguf_file *g)
{
    if (!g) return;
    if (g->map.data || g->map.path) file_unmap(&g->map);
    free(g->kvs);
    free(g->kv_index);
    free(g->tensors);
    arena_free(&g->arena);
    free(g);
}

/* ---- accessors ---------------------------------------------------------------------------------- */

size_t gguf_kv_count(const gguf_file *g) { return g->nkv; }
const gguf_kv *gguf_kv_at(const gguf_file *g, size_t i) { return i < g->nkv ? &g->kvs[i] : NULL; }
uint32_t gguf_version(const gguf_file *g) { return g->version; }
uint32_t gguf_alignment(const gguf_file *g) { return g->alignment; }
uint64_t gguf_header_bytes(const gguf_file *g) { return g->header_bytes; }
size_t gguf_tensor_count(const gguf_file *g) { return g->ntensors; }
const gguf_tensor *gguf_tensor_at(const gguf_file *g, size_t i) { return i < g->ntensors ? &g->tensors[i] : NULL; }

const gguf_kv *gguf_find(const gguf_file *g, const char *key)
{
    if (!g->kv_index_cap) return NULL;
    size_t h = (size_t)hash_str(key) & (g->kv_index_cap - 1);
    while (g->kv_index[h] != SIZE_MAX) {
        if (!strcmp(g->kvs[g->kv_index[h]].key, key)) return &g->kvs[g->kv_index[h]];
        h = (h + 1) & (g->kv_index_cap - 1);
    }
    return NULL;
}

const char *gguf_kv_key(const gguf_kv *kv) { return kv->key; }
gguf_type gguf_kv_type(const gguf_kv *kv) { return kv->type; }

/* Integer value of a fixed-size element of type t stored at p. */
static int element_int(gguf_type t, const unsigned char *p, int64_t *out)
{
    reader r = reader_make(p, 8);
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_BOOL: *out = reader_u8(&r); return 1;
    case GGUF_TYPE_INT8: *out = (int8_t)reader_u8(&r); return 1;
    case GGUF_TYPE_UINT16: *out = reader_u16(&r); return 1;
    case GGUF_TYPE_INT16: *out = (int16_t)reader_u16(&r); return 1;
    case GGUF_TYPE_UINT32: *out = reader_u32(&r); return 1;
    case GGUF_TYPE_INT32: *out = (int32_t)reader_u32(&r); return 1;
    case GGUF_TYPE_INT64: *out = (int64_t)reader_u64(&r); return 1;
    case GGUF_TYPE_UINT64: {
        uint64_t u = reader_u64(&r);
        if (u > (uint64_t)INT64_MAX) return 0;
        *out = (int64_t)u;
        return 1;
    }
    default: return 0;
    }
}

static int element_float(gguf_type t, const unsigned char *p, double *out)
{
    reader r = reader_make(p, 8);
    if (t == GGUF_TYPE_FLOAT32) { *out = reader_f32(&r); return 1; }
    if (t == GGUF_TYPE_FLOAT64) { *out = reader_f64(&r); return 1; }
    if (t == GGUF_TYPE_UINT64) { *out = (double)reader_u64(&r); return 1; }
    int64_t i;
    if (!element_int(t, p, &i)) return 0;
    *out = (double)i;
    return 1;
}

int gguf_kv_int(const gguf_kv *kv, int64_t *out)
{
    if (!kv || !type_is_fixed(kv->type) || kv->type == GGUF_TYPE_FLOAT32 || kv->type == GGUF_TYPE_FLOAT64) return 0;
    if (kv->type == GGUF_TYPE_UINT64 && kv->num.u > (uint64_t)INT64_MAX) return 0;
    *out = (kv->type == GGUF_TYPE_INT8 || kv->type == GGUF_TYPE_INT16 || kv->type == GGUF_TYPE_INT32 ||
            kv->type == GGUF_TYPE_INT64) ? kv->num.i : (int64_t)kv->num.u;
    return 1;
}

int gguf_kv_float(const gguf_kv *kv, double *out)
{
    if (!kv || !type_is_fixed(kv->type) || kv->type == GGUF_TYPE_BOOL) return 0;
    if (kv->type == GGUF_TYPE_FLOAT32 || kv->type == GGUF_TYPE_FLOAT64) { *out = kv->num.f; return 1; }
    if (kv->type == GGUF_TYPE_UINT64) { *out = (double)kv->num.u; return 1; }
    int64_t i;
    if (!gguf_kv_int(kv, &i)) return 0;
    *out = (double)i;
    return 1;
}

const char *gguf_kv_string(const gguf_kv *kv, size_t *len)
{
    if (!kv || kv->type != GGUF_TYPE_STRING) { if (len) *len = 0; return NULL; }
    if (len) *len = kv->str_len;
    return kv->str;
}

gguf_type gguf_kv_array_type(const gguf_kv *kv) { return kv && kv->type == GGUF_TYPE_ARRAY ? kv->atype : GGUF_TYPE_UINT8; }
uint64_t gguf_kv_array_count(const gguf_kv *kv) { return kv && kv->type == GGUF_TYPE_ARRAY ? kv->count : 0; }

const char *gguf_kv_array_string(const gguf_kv *kv, uint64_t i, size_t *len)
{
    if (len) *len = 0;
    if (!kv || kv->type != GGUF_TYPE_ARRAY || kv->atype != GGUF_TYPE_STRING || i >= kv->count) return NULL;
    /* the string's bytes follow its u64 length; both were bounds-checked at parse time */
    const unsigned char *s = kv->adata + kv->soff[i];
    reader r = reader_make(s - 8, 8);
    if (len) *len = (size_t)reader_u64(&r);
    return (const char *)s;
}

int gguf_kv_array_int(const gguf_kv *kv, uint64_t i, int64_t *out)
{
    if (!kv || kv->type != GGUF_TYPE_ARRAY || !type_is_fixed(kv->atype) || i >= kv->count) return 0;
    if (kv->atype == GGUF_TYPE_FLOAT32 || kv->atype == GGUF_TYPE_FLOAT64) return 0;
    return element_int(kv->atype, kv->adata + i * gguf_type_min_bytes[kv->atype], out);
}

int gguf_kv_array_float(const gguf_kv *kv, uint64_t i, double *out)
{
    if (!kv || kv->type != GGUF_TYPE_ARRAY || !type_is_fixed(kv->atype) || i >= kv->count) return 0;
    if (kv->atype == GGUF_TYPE_BOOL) return 0;
    return element_float(kv->atype, kv->adata + i * gguf_type_min_bytes[kv->atype], out);
}

int gguf_get_int(const gguf_file *g, const char *key, int64_t *out) { return gguf_kv_int(gguf_find(g, key), out); }
int gguf_get_float(const gguf_file *g, const char *key, double *out) { return gguf_kv_float(gguf_find(g, key), out); }
const char *gguf_get_string(const gguf_file *g, const char *key) { return gguf_kv_string(gguf_find(g, key), NULL); }
const char *gguf_architecture(const gguf_file *g) { return gguf_get_string(g, "general.architecture"); }
