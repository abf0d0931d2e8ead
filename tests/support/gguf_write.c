#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/dtype.h"
#include "support/gguf_write.h"
#include "util/error.h"
#include "util/strbuf.h"

typedef struct wtensor {
    char *name;
    uint32_t n_dims, type;
    uint64_t ne[4];
    unsigned char *data;
    uint64_t nbytes;
} wtensor;

struct gguf_writer {
    uint32_t version, alignment;
    strbuf kv;
    uint64_t nkv;
    wtensor *tensors;
    size_t ntensors;
    int failed;
};

static void put_u32(strbuf *sb, uint32_t v)
{
    char b[4];
    for (int i = 0; i < 4; i++) b[i] = (char)(v >> (8 * i));
    sb_putn(sb, b, 4);
}
static void put_u64(strbuf *sb, uint64_t v)
{
    put_u32(sb, (uint32_t)v);
    put_u32(sb, (uint32_t)(v >> 32));
}
static void put_str(strbuf *sb, const char *s, size_t len)
{
    put_u64(sb, len);
    sb_putn(sb, s, len);
}

gguf_writer *gguf_writer_new(void)
{
    gguf_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->version = 3;
    w->alignment = 32;
    sb_init(&w->kv);
    return w;
}

void gguf_writer_free(gguf_writer *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->ntensors; i++) {
        free(w->tensors[i].name);
        free(w->tensors[i].data);
    }
    free(w->tensors);
    sb_free(&w->kv);
    free(w);
}

void gguf_writer_set_version(gguf_writer *w, uint32_t version) { w->version = version; }
void gguf_writer_set_alignment(gguf_writer *w, uint32_t alignment) { w->alignment = alignment ? alignment : 1; }

static void kv_head(gguf_writer *w, const char *key, uint32_t type)
{
    put_str(&w->kv, key, strlen(key));
    put_u32(&w->kv, type);
    w->nkv++;
}

static size_t fixed_size(gguf_type t)
{
    static const uint8_t sizes[GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return (unsigned)t < GGUF_TYPE_COUNT ? sizes[t] : 0;
}

void gguf_add_int(gguf_writer *w, const char *key, gguf_type t, uint64_t v)
{
    kv_head(w, key, t);
    size_t n = fixed_size(t);
    for (size_t i = 0; i < n; i++) sb_putc(&w->kv, (char)(v >> (8 * i)));
}

void gguf_add_float(gguf_writer *w, const char *key, gguf_type t, double v)
{
    kv_head(w, key, t);
    if (t == GGUF_TYPE_FLOAT32) {
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, 4);
        put_u32(&w->kv, u);
    } else {
        uint64_t u;
        memcpy(&u, &v, 8);
        put_u64(&w->kv, u);
    }
}

void gguf_add_string(gguf_writer *w, const char *key, const char *s, size_t len)
{
    kv_head(w, key, GGUF_TYPE_STRING);
    put_str(&w->kv, s, len);
}

void gguf_add_array(gguf_writer *w, const char *key, gguf_type elem, const void *elems, uint64_t n)
{
    kv_head(w, key, GGUF_TYPE_ARRAY);
    put_u32(&w->kv, elem);
    put_u64(&w->kv, n);
    if (n) sb_putn(&w->kv, elems, (size_t)(n * fixed_size(elem)));
}

void gguf_add_string_array(gguf_writer *w, const char *key, const char *const *strs, const size_t *lens, uint64_t n)
{
    kv_head(w, key, GGUF_TYPE_ARRAY);
    put_u32(&w->kv, GGUF_TYPE_STRING);
    put_u64(&w->kv, n);
    for (uint64_t i = 0; i < n; i++) put_str(&w->kv, strs[i], lens ? lens[i] : strlen(strs[i]));
}

void gguf_add_raw(gguf_writer *w, const char *key, uint32_t type, const void *value, size_t len)
{
    kv_head(w, key, type);
    if (len) sb_putn(&w->kv, value, len);
}

static wtensor *new_tensor(gguf_writer *w, const char *name, uint32_t type, int ndim, const uint64_t *shape)
{
    if (ndim < 1 || ndim > 4) { w->failed = 1; return NULL; }
    wtensor *ts = realloc(w->tensors, (w->ntensors + 1) * sizeof *ts);
    if (!ts) { w->failed = 1; return NULL; }
    w->tensors = ts;
    wtensor *t = &ts[w->ntensors];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (!t->name) { w->failed = 1; return NULL; }
    w->ntensors++;
    t->type = type;
    t->n_dims = (uint32_t)ndim;
    for (int d = 0; d < 4; d++) t->ne[d] = d < ndim ? shape[ndim - 1 - d] : 1;
    return t;
}

void gguf_add_tensor_raw(gguf_writer *w, const char *name, uint32_t ggml_type, int ndim, const uint64_t *shape,
                         const void *bytes, uint64_t nbytes)
{
    wtensor *t = new_tensor(w, name, ggml_type, ndim, shape);
    if (!t) return;
    t->data = malloc(nbytes ? (size_t)nbytes : 1);
    if (!t->data) { w->failed = 1; return; }
    memcpy(t->data, bytes, (size_t)nbytes);
    t->nbytes = nbytes;
}

static void put_half(unsigned char *p, float f)
{
    uint16_t h = f32_to_f16(f);
    p[0] = (unsigned char)h;
    p[1] = (unsigned char)(h >> 8);
}

void gguf_quantize_q8_0(const float *x, size_t n, unsigned char *out)
{
    for (size_t b = 0; b < n / 32; b++, x += 32, out += 34) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127, inv = d != 0 ? 1 / d : 0;
        put_half(out, d);
        for (int j = 0; j < 32; j++) out[2 + j] = (unsigned char)(int8_t)lrintf(x[j] * inv);
    }
}

void gguf_quantize_q4_0(const float *x, size_t n, unsigned char *out)
{
    for (size_t b = 0; b < n / 32; b++, x += 32, out += 18) {
        float peak = 0;   /* the value of largest magnitude, with its sign, maps to -8 */
        for (int j = 0; j < 32; j++)
            if (fabsf(x[j]) > fabsf(peak)) peak = x[j];
        const float d = peak / -8, inv = d != 0 ? 1 / d : 0;
        put_half(out, d);
        for (int j = 0; j < 16; j++) {
            long lo = lrintf(x[j] * inv) + 8, hi = lrintf(x[j + 16] * inv) + 8;
            lo = lo < 0 ? 0 : lo > 15 ? 15 : lo;
            hi = hi < 0 ? 0 : hi > 15 ? 15 : hi;
            out[2 + j] = (unsigned char)(lo | hi << 4);
        }
    }
}

void gguf_add_tensor_f32(gguf_writer *w, const char *name, int ndim, const uint64_t *shape, const float *data,
                         lineage_dtype stored)
{
    uint32_t type;
    switch (stored) {
    case LINEAGE_DTYPE_F32: type = 0; break;
    case LINEAGE_DTYPE_F16: type = 1; break;
    case LINEAGE_DTYPE_BF16: type = 30; break;
    case LINEAGE_DTYPE_Q8_0: type = 8; break;
    case LINEAGE_DTYPE_Q4_0: type = 2; break;
    default: w->failed = 1; return;
    }
    wtensor *t = new_tensor(w, name, type, ndim, shape);
    if (!t) return;
    uint64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    size_t be = dtype_block_elems(stored);
    if (n % be || t->ne[0] % be) { w->failed = 1; return; }
    t->nbytes = n / be * dtype_block_bytes(stored);
    t->data = malloc(t->nbytes ? (size_t)t->nbytes : 1);
    if (!t->data) { w->failed = 1; return; }
    for (uint64_t i = 0; stored != LINEAGE_DTYPE_Q8_0 && stored != LINEAGE_DTYPE_Q4_0 && i < n; i++) {
        uint32_t u;
        memcpy(&u, &data[i], 4);
        if (stored == LINEAGE_DTYPE_F16) u = f32_to_f16(data[i]);
        if (stored == LINEAGE_DTYPE_BF16) u = f32_to_bf16(data[i]);
        for (size_t k = 0; k < dtype_block_bytes(stored); k++)
            t->data[i * dtype_block_bytes(stored) + k] = (unsigned char)(u >> (8 * k));
    }
    if (stored == LINEAGE_DTYPE_Q8_0) gguf_quantize_q8_0(data, (size_t)n, t->data);
    if (stored == LINEAGE_DTYPE_Q4_0) gguf_quantize_q4_0(data, (size_t)n, t->data);
}

static void pad(strbuf *sb, uint32_t alignment)
{
    while (sb->len % alignment) sb_putc(sb, 0);
}

lineage_status gguf_writer_bytes(gguf_writer *w, unsigned char **out, size_t *len, lineage_error *err)
{
    *out = NULL;
    *len = 0;
    if (w->failed || w->kv.failed) return error_set(err, LINEAGE_E_USAGE, "gguf writer: a tensor or key/value could not be added");
    strbuf sb;
    sb_init(&sb);
    put_u32(&sb, 0x46554747u);
    put_u32(&sb, w->version);
    put_u64(&sb, w->ntensors);
    put_u64(&sb, w->nkv);
    sb_putn(&sb, w->kv.data ? w->kv.data : "", w->kv.len);
    uint64_t off = 0;
    for (size_t i = 0; i < w->ntensors; i++) {
        const wtensor *t = &w->tensors[i];
        put_str(&sb, t->name, strlen(t->name));
        put_u32(&sb, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(&sb, t->ne[d]);
        put_u32(&sb, t->type);
        put_u64(&sb, off);
        off = (off + t->nbytes + w->alignment - 1) / w->alignment * w->alignment;
    }
    if (w->ntensors) pad(&sb, w->alignment);
    for (size_t i = 0; i < w->ntensors; i++) {
        sb_putn(&sb, (const char *)w->tensors[i].data, (size_t)w->tensors[i].nbytes);
        pad(&sb, w->alignment);
    }
    if (sb.failed) {
        sb_free(&sb);
        return error_set(err, LINEAGE_E_NOMEM, "gguf writer: out of memory");
    }
    *out = (unsigned char *)sb.data;
    *len = sb.len;
    return LINEAGE_OK;
}

lineage_status gguf_writer_save(gguf_writer *w, const char *path, lineage_error *err)
{
    unsigned char *bytes;
    size_t len;
    lineage_status st = gguf_writer_bytes(w, &bytes, &len, err);
    if (st) return st;
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(bytes);
        return error_set(err, LINEAGE_E_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    int ok = fwrite(bytes, 1, len, f) == len;
    free(bytes);
    if (fclose(f) != 0 || !ok) return error_set(err, LINEAGE_E_IO, "%s: write failed", path);
    return LINEAGE_OK;
}
