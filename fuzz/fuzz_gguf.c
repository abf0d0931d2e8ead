/* GGUF parser: any bytes must parse or fail cleanly; a parsed file's keys, arrays and tensors must be
 * readable within the image (tensor blocks are dequantized from the image itself). */
#include <stdlib.h>

#include "format/dtype.h"
#include "format/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gguf_file *g;
    lineage_error err;
    if (gguf_parse_memory(data, size, "fuzz", &g, &err) != LINEAGE_OK) return 0;
    volatile uint64_t sink = 0;
    for (size_t i = 0; i < gguf_kv_count(g); i++) {
        const gguf_kv *kv = gguf_kv_at(g, i);
        int64_t v;
        double f;
        size_t len;
        sink += gguf_find(g, gguf_kv_key(kv)) == kv;
        sink += (uint64_t)gguf_kv_int(kv, &v) + (uint64_t)gguf_kv_float(kv, &f);
        if (gguf_kv_string(kv, &len)) sink += len;
        uint64_t n = gguf_kv_array_count(kv);
        for (uint64_t k = 0; k < n && k < 4096; k++) {
            const char *s = gguf_kv_array_string(kv, k, &len);
            if (s && len) sink += (unsigned char)s[len - 1];
            sink += (uint64_t)gguf_kv_array_int(kv, k, &v) + (uint64_t)gguf_kv_array_float(kv, k, &f);
        }
    }
    float *buf = malloc(64 * 256 * sizeof *buf);
    for (size_t i = 0; buf && i < gguf_tensor_count(g); i++) {
        const gguf_tensor *t = gguf_tensor_at(g, i);
        size_t be = dtype_block_elems(t->dtype), bb = dtype_block_bytes(t->dtype);
        if (t->dtype == LINEAGE_DTYPE_UNKNOWN || !bb) continue;
        size_t nblocks = (size_t)(t->nbytes / bb);
        if (nblocks > 64) nblocks = 64;
        if (dtype_is_quantized(t->dtype)) dtype_dequantize_blocks(t->dtype, data + t->offset, nblocks, buf);
        else dtype_convert_f32(t->dtype, data + t->offset, nblocks, buf);
        for (size_t k = 0; k < nblocks * be; k++) sink += buf[k] != buf[k];
    }
    free(buf);
    (void)sink;
    gguf_file_free(g);
    return 0;
}
