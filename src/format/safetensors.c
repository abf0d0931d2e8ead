/* safetensors: 8-byte little-endian header length, a JSON header, then the data buffer.
 * Every offset, length, shape and dtype is validated here, once; readers trust the result. */
#include <stdlib.h>
#include <string.h>

#include "format/dtype.h"
#include "format/model.h"
#include "format/reader.h"
#include "format/safetensors.h"
#include "util/error.h"

#define ST_MAX_HEADER_BYTES (100u << 20)   /* the reference implementation's bound */
#define ST_MAX_NAME_BYTES 1024

typedef struct span { uint64_t begin, end; } span;

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static lineage_status parse_tensor(lineage_model *m, const char *path, const json_member *mem, size_t file_index,
                                   uint64_t data_start, uint64_t data_size, span *spans, size_t *nspans,
                                   lineage_error *err)
{
    const char *name = mem->key;
    const json_value *v = mem->value;
    if (mem->key_len == 0 || mem->key_len > ST_MAX_NAME_BYTES || memchr(name, 0, mem->key_len))
        return error_set(err, LINEAGE_E_FORMAT, "%s: tensor name is empty, too long or contains NUL", path);
    if (v->type != JSON_OBJECT)
        return error_set(err, LINEAGE_E_FORMAT, "%s: tensor '%s': entry is not an object", path, name);
    const char *dt = json_get_string(v, "dtype");
    if (!dt) return error_set(err, LINEAGE_E_FORMAT, "%s: tensor '%s': missing dtype", path, name);
    lineage_dtype dtype = dtype_from_safetensors(dt);
    if (dtype == LINEAGE_DTYPE_UNKNOWN)
        return error_set(err, LINEAGE_E_FORMAT, "%s: tensor '%s': unknown dtype '%.40s'", path, name, dt);
    const json_value *shape = json_get(v, "shape"), *offs = json_get(v, "data_offsets");
    if (!shape || shape->type != JSON_ARRAY)
        return error_set(err, LINEAGE_E_FORMAT, "%s: tensor '%s': missing shape", path, name);
    if (json_count(shape) > LINEAGE_MAX_DIMS)
        return error_set(err, LINEAGE_E_FORMAT, "%s: tensor '%s': %zu dimensions (at most %d)", path, name,
                         json_count(shape), LINEAGE_MAX_DIMS);
    if (!offs || offs->type != JSON_ARRAY || json_count(offs) != 2)
        return error_set(err, LINEAGE_E_FORMAT, "%s: tensor '%s': data_offsets must be [begin, end]", path, name);
    model_tensor *t = model_add_tensor(m);
    if (!t) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    lineage_tensor_info *in = &t->info;
    in->name = arena_strndup(&m->arena, name, mem->key_len);
    if (!in->name) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    in->dtype = dtype;
    in->ndim = (int)json_count(shape);
    uint64_t numel = 1;
    for (int d = 0; d < in->ndim; d++) {
        const json_value *e = json_at(shape, (size_t)d);
        if (e->type != JSON_NUMBER || !e->u.number.is_int || e->u.number.i < 0)
            return error_set(err, LINEAGE_E_FORMAT, "%s: tensor '%s': shape entry is not a non-negative integer",
                             path, name);
        in->shape[d] = (uint64_t)e->u.number.i;
        if (!mul_u64(numel, in->shape[d], &numel))
            return error_set(err, LINEAGE_E_FORMAT, "%s: tensor '%s': shape product overflows", path, name);
    }
    uint64_t nbytes;
    if (!mul_u64(numel, dtype_block_bytes(dtype), &nbytes))
        return error_set(err, LINEAGE_E_FORMAT, "%s: tensor '%s': byte size overflows", path, name);
    int64_t b[2];
    for (int k = 0; k < 2; k++) {
        const json_value *e = json_at(offs, (size_t)k);
        if (e->type != JSON_NUMBER || !e->u.number.is_int || e->u.number.i < 0)
            return error_set(err, LINEAGE_E_FORMAT, "%s: tensor '%s': data_offsets are not non-negative integers",
                             path, name);
        b[k] = e->u.number.i;
    }
    if (b[1] < b[0])
        return error_set(err, LINEAGE_E_FORMAT, "%s: tensor '%s': data_offsets [%lld, %lld] end before they begin", path,
                         name, (long long)b[0], (long long)b[1]);
    if ((uint64_t)b[1] > data_size)
        return error_set(err, LINEAGE_E_FORMAT,
                         "%s: tensor '%s': data_offsets [%lld, %lld] outside the %llu-byte data buffer", path, name,
                         (long long)b[0], (long long)b[1], (unsigned long long)data_size);
    if ((uint64_t)(b[1] - b[0]) != nbytes)
        return error_set(err, LINEAGE_E_FORMAT, "%s: tensor '%s': %lld bytes stored but %s x %llu elements need %llu",
                         path, name, (long long)(b[1] - b[0]), dt, (unsigned long long)numel,
                         (unsigned long long)nbytes);
    in->numel = numel;
    in->nbytes = nbytes;
    in->cols = in->ndim ? in->shape[in->ndim - 1] : 1;
    in->rows = in->cols ? numel / in->cols : 0;
    t->file = file_index;
    t->offset = data_start + (uint64_t)b[0];
    spans[(*nspans)++] = (span){(uint64_t)b[0], (uint64_t)b[1]};
    return LINEAGE_OK;
}

/* A copy of the first file's __metadata__ (string values only, at most 256 of them). */
static lineage_status keep_metadata(lineage_model *m, const json_value *src, const char *path, lineage_error *err)
{
    json_value *md = json_new_object(&m->arena);
    for (size_t k = 0; md && k < src->u.object.count && k < 256; k++) {
        const json_member *e = &src->u.object.members[k];
        if (e->value->type != JSON_STRING) continue;
        char *key = arena_strndup(&m->arena, e->key, e->key_len);
        if (!key || !json_set(&m->arena, md, key, json_new_stringn(&m->arena, e->value->u.string.s, e->value->u.string.len)))
            md = NULL;
    }
    if (!md) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    m->st_metadata = md;
    return LINEAGE_OK;
}

lineage_status safetensors_add_file(lineage_model *m, const char *path, lineage_error *err)
{
    mapped_file *files = realloc(m->files, (m->nfiles + 1) * sizeof *files);
    if (!files) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    m->files = files;
    lineage_status st = file_map(path, &m->files[m->nfiles], err);
    if (st) return st;
    m->total_bytes += m->files[m->nfiles].size;
    return safetensors_parse(m, m->nfiles++, err);
}

lineage_status safetensors_parse(lineage_model *m, size_t file_index, lineage_error *err)
{
    const mapped_file *f = &m->files[file_index];
    const char *path = f->path;
    if (f->size < 8)
        return error_set(err, LINEAGE_E_FORMAT, "%s: truncated: %llu bytes, shorter than the 8-byte header length",
                         path, (unsigned long long)f->size);
    reader r = reader_make(f->data, 8);
    uint64_t hlen = reader_u64(&r);
    if (hlen > f->size - 8)
        return error_set(err, LINEAGE_E_FORMAT, "%s: header length %llu is beyond the end of the %llu-byte file", path,
                         (unsigned long long)hlen, (unsigned long long)f->size);
    if (hlen > ST_MAX_HEADER_BYTES)
        return error_set(err, LINEAGE_E_FORMAT, "%s: header of %llu bytes exceeds the %u-byte limit", path,
                         (unsigned long long)hlen, ST_MAX_HEADER_BYTES);
    m->header_bytes += 8 + hlen;
    /* the header tree lives in a scratch arena: only names and numbers are kept */
    arena scratch;
    arena_init(&scratch, 0);
    json_value *root;
    json_limits lim = {16, ST_MAX_HEADER_BYTES};
    lineage_status st = json_parse((const char *)f->data + 8, (size_t)hlen, &lim, &scratch, &root, path, err);
    if (!st && root->type != JSON_OBJECT) st = error_set(err, LINEAGE_E_FORMAT, "%s: header is not a JSON object", path);
    span *spans = NULL;
    size_t nspans = 0;
    if (!st) {
        spans = malloc((root->u.object.count + 1) * sizeof *spans);
        if (!spans) st = error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    }
    uint64_t data_start = 8 + hlen, data_size = f->size - data_start;
    int seen_metadata = 0;
    for (size_t i = 0; !st && i < root->u.object.count; i++) {
        const json_member *mem = &root->u.object.members[i];
        if (mem->key_len == 12 && !memcmp(mem->key, "__metadata__", 12)) {
            if (mem->value->type != JSON_OBJECT || seen_metadata++)
                st = error_set(err, LINEAGE_E_FORMAT, "%s: __metadata__ is not a single object", path);
            else if (!m->st_metadata)
                st = keep_metadata(m, mem->value, path, err);
            continue;
        }
        st = parse_tensor(m, path, mem, file_index, data_start, data_size, spans, &nspans, err);
    }
    if (!st) {
        qsort(spans, nspans, sizeof *spans, span_cmp);
        uint64_t end = 0, hidden = 0;   /* furthest end of the non-empty spans so far; bytes no tensor covers */
        for (size_t i = 0; i < nspans; i++) {
            if (spans[i].begin == spans[i].end) continue;
            if (spans[i].begin < end) {
                st = error_set(err, LINEAGE_E_FORMAT, "%s: tensors overlap at data offset %llu", path,
                               (unsigned long long)spans[i].begin);
                break;
            }
            hidden += spans[i].begin - end;
            end = spans[i].end;
        }
        /* the reference reader rejects gaps and trailing bytes; here they are reported, since bytes
         * hidden in a checkpoint are a finding, not a reason to refuse the weights */
        hidden += data_size - end;
        if (!st && hidden) {
            m->hidden_bytes += hidden;
            if (!m->hidden_file) m->hidden_file = arena_strndup(&m->arena, path, strlen(path));
        }
    }
    free(spans);
    arena_free(&scratch);
    return st;
}

lineage_status safetensors_open_model(lineage_model *m, const char *file, lineage_error *err)
{
    m->source = MODEL_SOURCE_SAFETENSORS;
    lineage_status st = safetensors_add_file(m, file, err);
    if (st) return st;
    /* a config.json beside the file describes it */
    return model_load_config(m, m->dir, err);
}
