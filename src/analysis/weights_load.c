/* Tensors to f32 for the weights comparison: whole, chosen rows, or a deterministic sample (and the
 * batch that announces every sample to a remote model). */
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"
#include "format/dtype.h"
#include "util/error.h"

void wt_matrix_free(wt_matrix *x)
{
    free(x->data);
    memset(x, 0, sizeof *x);
}

static lineage_status alloc_matrix(const lineage_model *m, size_t rows, size_t cols, wt_matrix *out,
                                   lineage_error *err)
{
    memset(out, 0, sizeof *out);
    if (cols && rows > SIZE_MAX / sizeof(float) / cols)
        return error_set(err, LINEAGE_E_NOMEM, "%s: tensor too large to load", m->path);
    out->data = malloc(rows * cols * sizeof(float) + 1);
    if (!out->data) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory loading a tensor", m->path);
    out->rows = rows;
    out->cols = cols;
    return LINEAGE_OK;
}

/* Plain float rows stored as they are (no FP8 scale, no GGUF head order, not block-quantized) are
 * read with pread like the streaming engine: a sampled row read through the mapping would leave the
 * kernel's fault-around window (64 KB) mapped, which counts in the RSS of a large comparison. */
static int preadable(const lineage_model *m, size_t idx)
{
    const model_tensor *t = &m->tensors[idx];
    return m->files[t->file].fd >= 0 && t->scale < 0 && !t->unpermute_heads && dtype_is_float(t->info.dtype) &&
           !dtype_is_quantized(t->info.dtype) && t->info.rows && t->info.nbytes % t->info.rows == 0;
}

#define WT_PREAD_BYTES ((size_t)1 << 20)

typedef struct raw_buf {
    void *p;
    size_t cap;
} raw_buf;

static lineage_status read_rows(const lineage_model *m, size_t idx, uint64_t row0, uint64_t nrows, float *out,
                                raw_buf *buf, lineage_error *err)
{
    if (!preadable(m, idx)) return lineage_tensor_read_rows_f32(m, idx, row0, nrows, out, err);
    const model_tensor *t = &m->tensors[idx];
    uint64_t row_bytes = t->info.nbytes / t->info.rows, per = WT_PREAD_BYTES / row_bytes ? WT_PREAD_BYTES / row_bytes : 1;
    if (per > nrows) per = nrows;
    if (m->prefetch) {
        lineage_status st = m->prefetch(m, idx, row0, nrows, err);
        if (st) return st;
    }
    if (per * row_bytes > buf->cap) {
        void *p = realloc(buf->p, (size_t)(per * row_bytes));
        if (!p) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        buf->p = p;
        buf->cap = (size_t)(per * row_bytes);
    }
    for (uint64_t r = 0; r < nrows; r += per) {
        uint64_t k = nrows - r < per ? nrows - r : per;
        lineage_status st = file_pread(&m->files[t->file], t->offset + (row0 + r) * row_bytes, buf->p, (size_t)(k * row_bytes), err);
        if (st) return st;
        dtype_convert_f32(t->info.dtype, buf->p, (size_t)(k * t->info.cols), out + r * t->info.cols);
    }
    return LINEAGE_OK;
}

/* Rows rows[0..n) into dst (n x cols), consecutive rows in one read. */
static lineage_status read_row_list(const lineage_model *m, size_t idx, const uint64_t *rows, size_t n, float *dst,
                                    lineage_error *err)
{
    const lineage_tensor_info *t = lineage_model_tensor(m, idx);
    raw_buf buf = {NULL, 0};
    lineage_status st = LINEAGE_OK;
    for (size_t i = 0; i < n && !st; i++) {
        if (rows[i] >= t->rows) st = error_set(err, LINEAGE_E_USAGE, "%s: row out of range", m->path);
        size_t k = 1;
        while (!st && i + k < n && rows[i + k] == rows[i] + k) k++;
        if (!st) st = read_rows(m, idx, rows[i], k, dst + i * t->cols, &buf, err);
        i += k - 1;
    }
    free(buf.p);
    return st;
}

lineage_status wt_load_rows(const lineage_model *m, size_t idx, const uint64_t *rows, size_t n, wt_matrix *out,
                            lineage_error *err)
{
    const lineage_tensor_info *t = lineage_model_tensor(m, idx);
    lineage_status st = alloc_matrix(m, n, (size_t)t->cols, out, err);
    if (st) return st;
    out->full_rows = t->rows;
    st = read_row_list(m, idx, rows, n, out->data, err);
    if (st) wt_matrix_free(out);
    return st;
}

lineage_status wt_load_all(const lineage_model *m, size_t idx, wt_matrix *out, lineage_error *err)
{
    const lineage_tensor_info *t = lineage_model_tensor(m, idx);
    lineage_status st = alloc_matrix(m, (size_t)t->rows, (size_t)t->cols, out, err);
    if (st) return st;
    out->full_rows = t->rows;
    raw_buf buf = {NULL, 0};
    st = read_rows(m, idx, 0, t->rows, out->data, &buf, err);
    free(buf.p);
    if (st) wt_matrix_free(out);
    return st;
}

/* The rows of a sample: evenly spaced (row i * rows / keep); returns keep. */
static size_t sample_rows(const lineage_tensor_info *t, size_t max_elems, uint64_t *rows)
{
    size_t keep = t->cols ? max_elems / (size_t)t->cols : 1;
    if (keep < 1) keep = 1;
    if (keep > t->rows) keep = (size_t)t->rows;
    for (size_t i = 0; rows && i < keep; i++) rows[i] = (uint64_t)((double)i * (double)t->rows / (double)keep);
    return keep;
}

size_t wt_sample_spans(const lineage_model *m, size_t idx, size_t max_elems, lineage_row_span *spans, size_t cap)
{
    const lineage_tensor_info *t = lineage_model_tensor(m, idx);
    if (t->numel <= max_elems || t->rows <= 1) {
        if (cap) spans[0] = (lineage_row_span){idx, 0, t->rows};
        return 1;
    }
    size_t keep = sample_rows(t, max_elems, NULL), k = 0;
    uint64_t next = UINT64_MAX;   /* the row that would extend the current span */
    for (size_t i = 0; i < keep; i++) {
        uint64_t r = (uint64_t)((double)i * (double)t->rows / (double)keep);
        if (r == next) {
            if (k <= cap) spans[k - 1].nrows++;
        } else {
            if (k < cap) spans[k] = (lineage_row_span){idx, r, 1};
            k++;
        }
        next = r + 1;
    }
    return k;
}

size_t wt_sample_row_count(const lineage_tensor_info *t, size_t max_elems)
{
    return t->numel <= max_elems || t->rows <= 1 ? (size_t)t->rows : sample_rows(t, max_elems, NULL);
}

lineage_status wt_read_sample(const lineage_model *m, size_t idx, size_t max_elems, float *dst, lineage_error *err)
{
    const lineage_tensor_info *t = lineage_model_tensor(m, idx);
    if (t->numel <= max_elems || t->rows <= 1) {
        raw_buf buf = {NULL, 0};
        lineage_status st = read_rows(m, idx, 0, t->rows, dst, &buf, err);
        free(buf.p);
        return st;
    }
    uint64_t *rows = malloc(sample_rows(t, max_elems, NULL) * sizeof *rows);
    if (!rows) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t keep = sample_rows(t, max_elems, rows);
    lineage_status st = read_row_list(m, idx, rows, keep, dst, err);
    free(rows);
    return st;
}

lineage_status wt_read_sample_rows(const lineage_model *m, size_t idx, size_t max_elems, size_t first, size_t count,
                                   float *dst, lineage_error *err)
{
    const lineage_tensor_info *t = lineage_model_tensor(m, idx);
    size_t total = wt_sample_row_count(t, max_elems);
    if (first > total || count > total - first)
        return error_set(err, LINEAGE_E_USAGE, "%s: sample rows out of range for '%s'", m->path, t->name);
    if (t->numel <= max_elems || t->rows <= 1) {
        raw_buf buf = {NULL, 0};
        lineage_status st = read_rows(m, idx, first, count, dst, &buf, err);
        free(buf.p);
        return st;
    }
    uint64_t *rows = malloc(total * sizeof *rows + 1);
    if (!rows) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    sample_rows(t, max_elems, rows);
    lineage_status st = read_row_list(m, idx, rows + first, count, dst, err);
    free(rows);
    return st;
}

lineage_status wt_load_sample(const lineage_model *m, size_t idx, size_t max_elems, wt_matrix *out,
                              lineage_error *err)
{
    const lineage_tensor_info *t = lineage_model_tensor(m, idx);
    lineage_status st = alloc_matrix(m, wt_sample_row_count(t, max_elems), (size_t)t->cols, out, err);
    if (st) return st;
    out->full_rows = t->rows;
    st = wt_read_sample(m, idx, max_elems, out->data, err);
    if (st) wt_matrix_free(out);
    return st;
}

lineage_status wt_prefetch_samples(const lineage_model *m, lineage_error *err)
{
    if (!m->prefetch) return LINEAGE_OK;
    size_t n = lineage_model_tensor_count(m), cap = 0, k = 0;
    for (size_t i = 0; i < n; i++) cap += wt_sample_spans(m, i, WT_SAMPLE_ELEMS, NULL, 0);
    lineage_row_span *spans = malloc((cap + 1) * sizeof *spans);
    if (!spans) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const lineage_tensor_info *t = lineage_model_tensor(m, i);
        /* tensors without an f32 view are never sampled; an FP8 scale is fetched with its tensor */
        if (!t->numel || !t->rows || !strcmp(t->role, "quant_scale")) continue;
        k += wt_sample_spans(m, i, WT_SAMPLE_ELEMS, spans + k, cap - k);
    }
    lineage_status st = lineage_model_prefetch(m, spans, k, err);
    free(spans);
    return st;
}

int wt_transpose(const wt_matrix *x, wt_matrix *out)
{
    memset(out, 0, sizeof *out);
    out->data = malloc(x->rows * x->cols * sizeof(float) + 1);
    if (!out->data) return 0;
    out->rows = x->cols;
    out->cols = x->rows;
    out->full_rows = x->cols;
    for (size_t i = 0; i < x->rows; i++)
        for (size_t j = 0; j < x->cols; j++) out->data[j * x->rows + i] = x->data[i * x->cols + j];
    return 1;
}
