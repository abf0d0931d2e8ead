#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "format/dtype.h"
#include "format/safetensors.h"
#include "util/error.h"
#include "util/strbuf.h"

lineage_status safetensors_write(const char *path, const st_tensor *tensors, size_t n, const char *metadata,
                                 lineage_error *err)
{
    strbuf h;
    sb_init(&h);
    sb_putc(&h, '{');
    if (metadata) sb_printf(&h, "\"__metadata__\":%s", metadata);
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const st_tensor *t = &tensors[i];
        uint64_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= t->shape[d];
        uint64_t bytes = numel * dtype_block_bytes(t->dtype);
        if (i || metadata) sb_putc(&h, ',');
        json_write_string(&h, t->name, strlen(t->name));
        sb_printf(&h, ":{\"dtype\":\"%s\",\"shape\":[", lineage_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++) sb_printf(&h, d ? ",%llu" : "%llu", (unsigned long long)t->shape[d]);
        sb_printf(&h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)(off + bytes));
        off += bytes;
    }
    sb_putc(&h, '}');
    while (h.len % 8) sb_putc(&h, ' ');   /* the reference writer pads to 8 bytes */
    if (h.failed) {
        sb_free(&h);
        return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        sb_free(&h);
        return error_set(err, LINEAGE_E_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    unsigned char len8[8];
    for (int k = 0; k < 8; k++) len8[k] = (unsigned char)((uint64_t)h.len >> (8 * k));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(h.data, 1, h.len, f) == h.len;
    for (size_t i = 0; ok && i < n; i++) {
        const st_tensor *t = &tensors[i];
        uint64_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= t->shape[d];
        size_t bytes = (size_t)(numel * dtype_block_bytes(t->dtype));
        ok = fwrite(t->data, 1, bytes, f) == bytes;
    }
    sb_free(&h);
    if (fclose(f) != 0 || !ok) return error_set(err, LINEAGE_E_IO, "%s: write failed", path);
    return LINEAGE_OK;
}
