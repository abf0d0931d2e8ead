/* GGUF writer for tests, fixtures and fuzz seeds: key/values of every type (string arrays and raw
 * pre-encoded values included) and tensors from f32 data or raw block bytes. Little-endian, v3 by
 * default. Errors are sticky: check the status of gguf_writer_bytes / gguf_writer_save. */
#ifndef LINEAGE_FORMAT_GGUF_WRITE_H
#define LINEAGE_FORMAT_GGUF_WRITE_H
#include <stddef.h>
#include <stdint.h>
#include "format/gguf.h"

typedef struct gguf_writer gguf_writer;

gguf_writer *gguf_writer_new(void);
void gguf_writer_free(gguf_writer *w);
void gguf_writer_set_version(gguf_writer *w, uint32_t version);
/* Padding of the data section and of each tensor (default 32). Does not add general.alignment:
 * add that key yourself, which also lets tests write inconsistent values. */
void gguf_writer_set_alignment(gguf_writer *w, uint32_t alignment);

/* Integer and bool scalars (t one of the integer types or BOOL; v is truncated to its width). */
void gguf_add_int(gguf_writer *w, const char *key, gguf_type t, uint64_t v);
void gguf_add_float(gguf_writer *w, const char *key, gguf_type t, double v);   /* FLOAT32 or FLOAT64 */
void gguf_add_string(gguf_writer *w, const char *key, const char *s, size_t len);
/* Array of fixed-size elements given in host (little-endian) layout. */
void gguf_add_array(gguf_writer *w, const char *key, gguf_type elem, const void *elems, uint64_t n);
/* lens may be NULL (strings are NUL-terminated). */
void gguf_add_string_array(gguf_writer *w, const char *key, const char *const *strs, const size_t *lens, uint64_t n);
/* A value encoded by the caller (nested arrays, hostile fixtures): the type id, then these bytes. */
void gguf_add_raw(gguf_writer *w, const char *key, uint32_t type, const void *value, size_t len);

/* A tensor from f32 values in PyTorch order (shape outermost first), stored as F32, F16, BF16,
 * Q8_0 or Q4_0 (quantized with round-to-nearest absmax scaling). */
void gguf_add_tensor_f32(gguf_writer *w, const char *name, int ndim, const uint64_t *shape, const float *data,
                         lineage_dtype stored);
/* A tensor whose bytes are given as stored (any ggml type id, pre-quantized blocks). */
void gguf_add_tensor_raw(gguf_writer *w, const char *name, uint32_t ggml_type, int ndim, const uint64_t *shape,
                         const void *bytes, uint64_t nbytes);

/* The whole file image (malloc'd). */
lineage_status gguf_writer_bytes(gguf_writer *w, unsigned char **out, size_t *len, lineage_error *err);
lineage_status gguf_writer_save(gguf_writer *w, const char *path, lineage_error *err);

/* Reference quantizers used by the writer: n must be a multiple of 32. */
void gguf_quantize_q8_0(const float *x, size_t n, unsigned char *out);
void gguf_quantize_q4_0(const float *x, size_t n, unsigned char *out);
#endif
