/* GGUF v2/v3: metadata key/values, tensor infos, alignment. Parsed and validated once at load. */
#ifndef LINEAGE_FORMAT_GGUF_H
#define LINEAGE_FORMAT_GGUF_H
#include <stddef.h>
#include <stdint.h>
#include "format/model.h"

typedef enum {
    GGUF_TYPE_UINT8 = 0, GGUF_TYPE_INT8 = 1, GGUF_TYPE_UINT16 = 2, GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4, GGUF_TYPE_INT32 = 5, GGUF_TYPE_FLOAT32 = 6, GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8, GGUF_TYPE_ARRAY = 9, GGUF_TYPE_UINT64 = 10, GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12
} gguf_type;
#define GGUF_TYPE_COUNT 13

typedef struct gguf_kv gguf_kv;

/* One tensor info as stored: ne[0] is the innermost (fastest-varying) dimension. */
typedef struct gguf_tensor {
    const char *name;        /* NUL-terminated */
    uint32_t n_dims;         /* 1..4 */
    uint64_t ne[4];          /* unused dims are 1 */
    uint32_t ggml_type;
    lineage_dtype dtype;     /* LINEAGE_DTYPE_UNKNOWN for ggml types lineage cannot convert */
    uint64_t offset;         /* absolute offset of the first byte in the file */
    uint64_t nbytes;
} gguf_tensor;

/* Parses a GGUF file on its own (tokenizer-only use); model loading uses gguf_open_model. */
lineage_status gguf_open_file(const char *path, gguf_file **out, lineage_error *err);
/* Parses a GGUF image held in memory; name labels errors. The result points into data, which
 * must outlive it. */
lineage_status gguf_parse_memory(const void *data, size_t size, const char *name, gguf_file **out,
                                 lineage_error *err);

size_t gguf_kv_count(const gguf_file *g);
const gguf_kv *gguf_kv_at(const gguf_file *g, size_t i);
const gguf_kv *gguf_find(const gguf_file *g, const char *key);
const char *gguf_kv_key(const gguf_kv *kv);
gguf_type gguf_kv_type(const gguf_kv *kv);
/* Scalars: integers/bools via _int, floats (and integers) via _float. Return 0 on type mismatch.
 * A UINT64 above INT64_MAX does not fit _int and returns 0. */
int gguf_kv_int(const gguf_kv *kv, int64_t *out);
int gguf_kv_float(const gguf_kv *kv, double *out);
/* Scalar strings are NUL-terminated copies (len excludes the NUL). */
const char *gguf_kv_string(const gguf_kv *kv, size_t *len);
/* Arrays (one level; nested arrays report type GGUF_TYPE_ARRAY, their count, and no elements). */
gguf_type gguf_kv_array_type(const gguf_kv *kv);
uint64_t gguf_kv_array_count(const gguf_kv *kv);
/* Array strings point into the file mapping and are NOT NUL-terminated: use len. */
const char *gguf_kv_array_string(const gguf_kv *kv, uint64_t i, size_t *len);
int gguf_kv_array_int(const gguf_kv *kv, uint64_t i, int64_t *out);
int gguf_kv_array_float(const gguf_kv *kv, uint64_t i, double *out);
/* Convenience lookups by key. */
int gguf_get_int(const gguf_file *g, const char *key, int64_t *out);
int gguf_get_float(const gguf_file *g, const char *key, double *out);
const char *gguf_get_string(const gguf_file *g, const char *key);
/* general.architecture, or NULL */
const char *gguf_architecture(const gguf_file *g);
uint32_t gguf_version(const gguf_file *g);
uint32_t gguf_alignment(const gguf_file *g);
/* Bytes from the start of the file to the end of the tensor infos. */
uint64_t gguf_header_bytes(const gguf_file *g);
size_t gguf_tensor_count(const gguf_file *g);
const gguf_tensor *gguf_tensor_at(const gguf_file *g, size_t i);
#endif
