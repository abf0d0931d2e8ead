/* Bounded little-endian cursor: every read is checked against the bytes that remain, so
 * parsers built on it cannot run off the end of a hostile buffer. */
#ifndef LINEAGE_FORMAT_READER_H
#define LINEAGE_FORMAT_READER_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct reader {
    const unsigned char *p, *end;
    int failed;   /* sticky: set by the first read past the end */
} reader;

static inline reader reader_make(const void *data, size_t len)
{
    reader r = {(const unsigned char *)data, (const unsigned char *)data + len, 0};
    return r;
}
static inline size_t reader_left(const reader *r) { return r->failed ? 0 : (size_t)(r->end - r->p); }
static inline int reader_take(reader *r, void *out, size_t n)
{
    if (r->failed || (size_t)(r->end - r->p) < n) { r->failed = 1; if (out) memset(out, 0, n); return 0; }
    if (out) memcpy(out, r->p, n);
    r->p += n;
    return 1;
}
static inline int reader_skip(reader *r, uint64_t n)
{
    if (r->failed || (uint64_t)(r->end - r->p) < n) { r->failed = 1; return 0; }
    r->p += n;
    return 1;
}
static inline uint8_t reader_u8(reader *r) { uint8_t v; reader_take(r, &v, 1); return v; }
static inline uint16_t reader_u16(reader *r)
{
    unsigned char b[2];
    reader_take(r, b, 2);
    return (uint16_t)(b[0] | b[1] << 8);
}
static inline uint32_t reader_u32(reader *r)
{
    unsigned char b[4];
    reader_take(r, b, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static inline uint64_t reader_u64(reader *r)
{
    uint64_t lo = reader_u32(r);
    return lo | (uint64_t)reader_u32(r) << 32;
}
static inline float reader_f32(reader *r) { uint32_t u = reader_u32(r); float f; memcpy(&f, &u, 4); return f; }
static inline double reader_f64(reader *r) { uint64_t u = reader_u64(r); double d; memcpy(&d, &u, 8); return d; }

/* Overflow-checked arithmetic for sizes computed from untrusted fields. */
static inline int mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a && b > UINT64_MAX / a) return 0;
    *out = a * b;
    return 1;
}
static inline int add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b > UINT64_MAX - a) return 0;
    *out = a + b;
    return 1;
}
#endif
