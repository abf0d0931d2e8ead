/* Placeholder until the GGUF reader and dequantization land. */
#include "format/dtype.h"
#include "format/gguf.h"
#include "util/error.h"

lineage_status gguf_open_model(lineage_model *m, const char *file, lineage_error *err)
{
    (void)m;
    return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: GGUF reader not built yet", file);
}
lineage_status gguf_open_file(const char *path, gguf_file **out, lineage_error *err)
{
    *out = NULL;
    return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: GGUF reader not built yet", path);
}
void gguf_file_free(gguf_file *g) { (void)g; }
size_t gguf_kv_count(const gguf_file *g) { (void)g; return 0; }
const gguf_kv *gguf_kv_at(const gguf_file *g, size_t i) { (void)g; (void)i; return NULL; }
const gguf_kv *gguf_find(const gguf_file *g, const char *key) { (void)g; (void)key; return NULL; }
const char *gguf_kv_key(const gguf_kv *kv) { (void)kv; return ""; }
gguf_type gguf_kv_type(const gguf_kv *kv) { (void)kv; return GGUF_TYPE_UINT8; }
int gguf_kv_int(const gguf_kv *kv, int64_t *out) { (void)kv; (void)out; return 0; }
int gguf_kv_float(const gguf_kv *kv, double *out) { (void)kv; (void)out; return 0; }
const char *gguf_kv_string(const gguf_kv *kv, size_t *len) { (void)kv; *len = 0; return NULL; }
gguf_type gguf_kv_array_type(const gguf_kv *kv) { (void)kv; return GGUF_TYPE_UINT8; }
uint64_t gguf_kv_array_count(const gguf_kv *kv) { (void)kv; return 0; }
const char *gguf_kv_array_string(const gguf_kv *kv, uint64_t i, size_t *len) { (void)kv; (void)i; *len = 0; return NULL; }
int gguf_kv_array_int(const gguf_kv *kv, uint64_t i, int64_t *out) { (void)kv; (void)i; (void)out; return 0; }
int gguf_kv_array_float(const gguf_kv *kv, uint64_t i, double *out) { (void)kv; (void)i; (void)out; return 0; }
int gguf_get_int(const gguf_file *g, const char *key, int64_t *out) { (void)g; (void)key; (void)out; return 0; }
int gguf_get_float(const gguf_file *g, const char *key, double *out) { (void)g; (void)key; (void)out; return 0; }
const char *gguf_get_string(const gguf_file *g, const char *key) { (void)g; (void)key; return NULL; }
const char *gguf_architecture(const gguf_file *g) { (void)g; return NULL; }
uint32_t gguf_version(const gguf_file *g) { (void)g; return 0; }

int dtype_dequantize_blocks(lineage_dtype t, const void *src, size_t nblocks, float *dst)
{
    (void)t; (void)src; (void)nblocks; (void)dst;
    return 0;
}
