#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "format/dtype.h"
#include "format/reader.h"
#include "format/safetensors.h"
#include "support/safetensors_write.h"
#include "util/error.h"
#include "util/strbuf.h"

static int tensor_bytes(const st_tensor *t, uint64_t *bytes)
{
    uint64_t numel = 1;
    for (int d = 0; d < t->ndim; d++)
        if (!mul_u64(numel, t->shape[d], &numel)) return 0;
    return mul_u64(numel, dtype_block_bytes(t->dtype), bytes);
}

/* The 8-byte length, the JSON header padded to 8 bytes (as the reference writer does). */
static lineage_status build_header(strbuf *h, const char *path, const st_tensor *tensors, size_t n,
                                   const char *metadata, uint64_t *data_bytes, lineage_error *err)
{
    sb_init(h);
    sb_putn(h, "\0\0\0\0\0\0\0\0", 8);
    sb_putc(h, '{');
    if (metadata) sb_printf(h, "\"__metadata__\":%s", metadata);
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const st_tensor *t = &tensors[i];
        uint64_t bytes;
        if (t->ndim < 0 || t->ndim > LINEAGE_MAX_DIMS || !tensor_bytes(t, &bytes) || !add_u64(off, bytes, &bytes)) {
            sb_free(h);
            return error_set(err, LINEAGE_E_USAGE, "%s: tensor '%s' has an invalid shape", path, t->name);
        }
        if (i || metadata) sb_putc(h, ',');
        json_write_string(h, t->name, strlen(t->name));
        sb_printf(h, ":{\"dtype\":\"%s\",\"shape\":[", lineage_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++) sb_printf(h, d ? ",%llu" : "%llu", (unsigned long long)t->shape[d]);
        sb_printf(h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)bytes);
        off = bytes;
    }
    sb_putc(h, '}');
    while (h->len % 8) sb_putc(h, ' ');
    if (h->failed) {
        sb_free(h);
        return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    }
    uint64_t hlen = h->len - 8;
    for (int k = 0; k < 8; k++) h->data[k] = (char)(unsigned char)(hlen >> (8 * k));
    *data_bytes = off;
    return LINEAGE_OK;
}

static lineage_status write_file(const char *path, const st_tensor *tensors, size_t n, const char *metadata,
                                 int sparse, lineage_error *err)
{
    strbuf h;
    uint64_t data_bytes = 0;
    lineage_status st = build_header(&h, path, tensors, n, metadata, &data_bytes, err);
    if (st) return st;
    FILE *f = fopen(path, "wb");
    if (!f) {
        sb_free(&h);
        return error_set(err, LINEAGE_E_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    int ok = fwrite(h.data, 1, h.len, f) == h.len;
    for (size_t i = 0; ok && !sparse && i < n; i++) {
        uint64_t bytes = 0;
        tensor_bytes(&tensors[i], &bytes);
        ok = bytes == 0 || (tensors[i].data && fwrite(tensors[i].data, 1, (size_t)bytes, f) == bytes);
    }
    uint64_t total = h.len + data_bytes;
    sb_free(&h);
    /* sparse: the data region is a hole of its full size */
    if (ok && sparse) ok = fflush(f) == 0 && ftruncate(fileno(f), (off_t)total) == 0;
    if (fclose(f) != 0 || !ok) return error_set(err, LINEAGE_E_IO, "%s: write failed: %s", path, strerror(errno));
    return LINEAGE_OK;
}

lineage_status safetensors_write(const char *path, const st_tensor *tensors, size_t n, const char *metadata,
                                 lineage_error *err)
{
    return write_file(path, tensors, n, metadata, 0, err);
}

lineage_status safetensors_write_sparse(const char *path, const st_tensor *tensors, size_t n, const char *metadata,
                                        lineage_error *err)
{
    return write_file(path, tensors, n, metadata, 1, err);
}
