/* Y = X W^T for the forward pass. When the model fits the cache budget every weight is repacked once
 * at load (mm_prepack): Q8_0/Q4_0 into int8 panels for the integer kernels (qmatmul.c), F16 into f16
 * panels (widened exactly in the kernel), the rest converted to f32 (any stored dtype, GGUF blocks,
 * FP8 scales: lineage_tensor_read_rows_f32) in 16-row panels [K][16]. Otherwise rows are converted
 * and packed a chunk at a time per call; each chunk then multiplies every token of X. Threads split
 * the output rows; mm_many runs several weights over the same X (q/k/v, up/gate) as one job with
 * one activation quantization. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "format/dtype.h"
#include "format/model.h"
#include "kernels/kernels.h"
#include "infer/engine.h"
#include "util/error.h"
#include "infer/sprof.h"

#define MM_CHUNK 64   /* rows converted and multiplied together (a multiple of MM_PANEL) */
#define HUGE_PAGE (2u << 20)

/* Cache memory in huge pages where the kernel allows: a page fault per 4 KiB of a gigabyte cache
 * costs seconds. */
static float *cache_alloc(size_t floats)
{
    if (floats * sizeof(float) < (size_t)HUGE_PAGE / 2) return malloc(floats * sizeof(float));
    size_t bytes = (floats * sizeof(float) + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, bytes)) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

size_t mm_packed_floats(size_t rows, size_t K)
{
    return (rows + MM_PANEL - 1) / MM_PANEL * MM_PANEL * K;
}

void mm_pack(const float *rows, size_t nrows, size_t K, float *panels)
{
    size_t np = (nrows + MM_PANEL - 1) / MM_PANEL;
    for (size_t p = 0; p < np; p++) {
        float *dst = panels + p * K * MM_PANEL;
        size_t r0 = p * MM_PANEL, nr = nrows - r0 < MM_PANEL ? nrows - r0 : MM_PANEL;
        const float *src[MM_PANEL];
        for (size_t r = 0; r < MM_PANEL; r++) src[r] = rows + (r0 + (r < nr ? r : 0)) * K;
        if (nr == MM_PANEL) {   /* writes in order, 16 read streams */
            for (size_t k = 0; k < K; k++, dst += MM_PANEL)
                for (size_t r = 0; r < MM_PANEL; r++) dst[r] = src[r][k];
        } else {
            for (size_t k = 0; k < K; k++, dst += MM_PANEL)
                for (size_t r = 0; r < MM_PANEL; r++) dst[r] = r < nr ? src[r][k] : 0.0f;
        }
    }
}

void mm_kernel_scalar(const float *X, size_t T, size_t ldx, const float *P, size_t npanels, size_t K, float *Y,
                      size_t ldy, size_t rows)
{
    for (size_t t = 0; t < T; t++)
        for (size_t p = 0; p < npanels; p++) {
            float acc[MM_PANEL] = {0};
            const float *pp = P + p * K * MM_PANEL, *x = X + t * ldx;
            for (size_t k = 0; k < K; k++)
                for (int r = 0; r < MM_PANEL; r++) acc[r] += x[k] * pp[k * MM_PANEL + r];
            for (size_t r = 0; r < MM_PANEL && p * MM_PANEL + r < rows; r++) Y[t * ldy + p * MM_PANEL + r] = acc[r];
        }
}

void mm_kernel16_scalar(const float *X, size_t T, size_t ldx, const uint16_t *P, size_t npanels, size_t K, float *Y,
                        size_t ldy, size_t rows)
{
    for (size_t t = 0; t < T; t++)
        for (size_t p = 0; p < npanels; p++) {
            float acc[MM_PANEL] = {0};
            const uint16_t *pp = P + p * K * MM_PANEL;
            const float *x = X + t * ldx;
            for (size_t k = 0; k < K; k++)
                for (int r = 0; r < MM_PANEL; r++) acc[r] += x[k] * f16_to_f32(pp[k * MM_PANEL + r]);
            for (size_t r = 0; r < MM_PANEL && p * MM_PANEL + r < rows; r++) Y[t * ldy + p * MM_PANEL + r] = acc[r];
        }
}

mm_kernel16_fn mm_kernel16(void)
{
    const char *isa = kernels_isa();
    if (!strcmp(isa, "avx512")) return mm_kernel16_avx512;
    if (!strcmp(isa, "avx2")) return mm_kernel16_avx2;
    return mm_kernel16_scalar;
}

int f16_packable(const lineage_model *m, long t)
{
    if (t < 0 || (size_t)t >= m->ntensors) return 0;
    const model_tensor *mt = &m->tensors[t];
    return mt->info.dtype == LINEAGE_DTYPE_F16 && mt->scale < 0;
}

mm_kernel_fn mm_kernel(void)
{
    const char *isa = kernels_isa();
    if (!strcmp(isa, "avx512")) return mm_kernel_avx512;
    if (!strcmp(isa, "avx2")) return mm_kernel_avx2;
    return mm_kernel_scalar;
}

void *work_alloc(size_t bytes)
{
    if (bytes < HUGE_PAGE / 2) return malloc(bytes ? bytes : 1);
    size_t size = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, size)) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE);
#endif
    return p;
}

void *im_work(infer_model *im, int slot, size_t bytes)
{
    if (bytes <= im->work_bytes[slot]) return im->work[slot];
    free(im->work[slot]);
    im->work_bytes[slot] = 0;
    if (!(im->work[slot] = work_alloc(bytes))) return NULL;
    im->work_bytes[slot] = bytes;
    return im->work[slot];
}

#define MM_MAX_OUTS 4

typedef struct mm_job {
    infer_model *im;
    const float *X;
    size_t T, ldx;
    const mm_out *outs;
    size_t first[MM_MAX_OUTS + 1], chunk[MM_MAX_OUTS];   /* items of output k: [first[k], first[k+1]) */
    mm_kernel_fn kernel;
    mm_kernel16_fn kernel16;
    void (*widen)(const uint16_t *h, float *f, size_t n);   /* NULL: no fast f16 widening */
    q8_kernel_fn qkernel;
    int offset;
    uint8_t *X8;         /* quantized activations (integer path) */
    float *XD;
    atomic_int failed;
    pthread_mutex_t lock;
    lineage_error err;
} mm_job;

static void fail(mm_job *j, const lineage_error *e)
{
    pthread_mutex_lock(&j->lock);
    if (!atomic_exchange(&j->failed, 1)) j->err = *e;
    pthread_mutex_unlock(&j->lock);
}

static void mm_chunk(void *ctx, size_t i, int worker)
{
    mm_job *j = ctx;
    size_t o = 0;
    while (j->first[o + 1] <= i) o++;
    const mm_out *out = &j->outs[o];
    const wref *w = out->w;
    size_t K = (size_t)w->cols, r0 = (i - j->first[o]) * j->chunk[o], ldy = out->ldy;
    size_t nr = (size_t)w->rows - r0 < j->chunk[o] ? (size_t)w->rows - r0 : j->chunk[o];
    float *Y = out->Y;
    if (w->q8) {
        j->qkernel(j->X8, j->XD, j->T, K, w->q8 + r0 / MM_PANEL * (K / Q8_BLOCK) * Q8_PANEL_BLOCK_BYTES,
                   (nr + MM_PANEL - 1) / MM_PANEL, Y + r0, ldy, nr);
    } else if (w->packed16 && (j->T < 16 || !j->widen)) {
        j->kernel16(j->X, j->T, j->ldx, w->packed16 + r0 * K, (nr + MM_PANEL - 1) / MM_PANEL, K, Y + r0, ldy, nr);
    } else if (w->packed16) {   /* many tokens: widen the chunk once, then the f32 kernel (the same results) */
        float *pk = j->im->scratch[worker];
        j->widen(w->packed16 + r0 * K, pk, (nr + MM_PANEL - 1) / MM_PANEL * MM_PANEL * K);
        j->kernel(j->X, j->T, j->ldx, pk, (nr + MM_PANEL - 1) / MM_PANEL, K, Y + r0, ldy, nr);
    } else {
        const float *P;
        if (w->packed) P = w->packed + r0 * K;
        else {
            if (atomic_load(&j->failed)) return;
            float *tmp = j->im->scratch[worker], *pk = tmp + (size_t)MM_CHUNK * K;
            lineage_error e;
            if (lineage_tensor_read_rows_f32(j->im->m, (size_t)w->t, w->row0 + r0, nr, tmp, &e)) {
                fail(j, &e);
                return;
            }
            mm_pack(tmp, nr, K, pk);
            P = pk;
        }
        j->kernel(j->X, j->T, j->ldx, P, (nr + MM_PANEL - 1) / MM_PANEL, K, Y + r0, ldy, nr);
    }
    if (out->bias)
        for (size_t t = 0; t < j->T; t++)
            for (size_t r = 0; r < nr; r++) Y[t * ldy + r0 + r] += out->bias[r0 + r];
}

static void quantize_token(void *ctx, size_t t, int worker)
{
    (void)worker;
    mm_job *j = ctx;
    size_t K = (size_t)j->outs[0].w->cols;
    q8_quantize(j->X + t * j->ldx, K, j->offset, j->X8 + t * K, j->XD + t * (K / Q8_BLOCK));
}

lineage_status mm_many(infer_model *im, const float *X, size_t T, size_t ldx, const mm_out *outs, size_t n,
                       lineage_error *err)
{
    if (T == 0) return LINEAGE_OK;
    int same = 1;
    for (size_t k = 1; k < n; k++) same &= outs[k].w->cols == outs[0].w->cols;
    if (n > MM_MAX_OUTS || !same) {   /* one job per output (X is as wide as each of them) */
        if (!same) {
            for (size_t i = 0; i < n; i++) {
                lineage_status st = mm_many(im, X, T, ldx, outs + i, 1, err);
                if (st) return st;
            }
            return LINEAGE_OK;
        }
        for (size_t i = 0; i < n; i += MM_MAX_OUTS) {
            lineage_status st = mm_many(im, X, T, ldx, outs + i, n - i < MM_MAX_OUTS ? n - i : MM_MAX_OUTS, err);
            if (st) return st;
        }
        return LINEAGE_OK;
    }
    mm_job j = {.im = im, .X = X, .T = T, .ldx = ldx, .outs = outs, .kernel = mm_kernel(), .kernel16 = mm_kernel16()};
    const char *isa = kernels_isa();
    j.widen = !strcmp(isa, "avx512") ? f16_widen_avx512 : !strcmp(isa, "avx2") ? f16_widen_avx2 : NULL;
    atomic_init(&j.failed, 0);
    size_t threads = (size_t)pool_threads(im->pool), total = 0;
    int any_q8 = 0;
    for (size_t k = 0; k < n; k++) {
        const wref *w = outs[k].w;
        any_q8 |= w->q8 != NULL;
        total += (size_t)w->rows;
    }
    if (any_q8) {
        size_t K = (size_t)outs[0].w->cols;
        j.qkernel = q8_kernel(&j.offset);
        j.X8 = im_work(im, WORK_X8, T * K);
        j.XD = im_work(im, WORK_XD, T * (K / Q8_BLOCK) * sizeof *j.XD);
        if (!j.X8 || !j.XD) return error_set(err, LINEAGE_E_NOMEM, "out of memory for %zu quantized activations", T);
        SP_T0;
        pool_run(im->pool, T, quantize_token, &j);
        SP_ADD(10);
    }
    /* enough chunks to keep every thread busy, never more rows than the scratch tile holds (integer
     * weights: 48 or 96 rows, whole 3-panel tiles of the VNNI kernel, 16 or more items per thread) */
    size_t chunk = (total / (threads * 4) + MM_PANEL - 1) / MM_PANEL * MM_PANEL;
    chunk = chunk < MM_PANEL ? MM_PANEL : chunk > MM_CHUNK ? MM_CHUNK : chunk;
    size_t qchunk = total >= threads * 16 * 6 * MM_PANEL ? 6 * MM_PANEL : 3 * MM_PANEL;
    for (size_t k = 0; k < n; k++) {
        j.chunk[k] = outs[k].w->q8 ? qchunk : chunk;
        j.first[k + 1] = j.first[k] + ((size_t)outs[k].w->rows + j.chunk[k] - 1) / j.chunk[k];
    }
    pthread_mutex_init(&j.lock, NULL);
    SP_T0;
    pool_run(im->pool, j.first[n], mm_chunk, &j);
    SP_ADD(11);
    pthread_mutex_destroy(&j.lock);
    if (atomic_load(&j.failed)) {
        *err = j.err;
        return j.err.code;
    }
    return LINEAGE_OK;
}

lineage_status mm(infer_model *im, const float *X, size_t T, size_t ldx, const wref *w, const float *bias, float *Y,
                  size_t ldy, lineage_error *err)
{
    if (w->rows == 0) return LINEAGE_OK;
    mm_out o = {w, bias, Y, ldy};
    return mm_many(im, X, T, ldx, &o, 1, err);
}

/* ---- repacking every weight once at load ---- */
typedef struct pack_job {
    infer_model *im;
    wref **ws;
    size_t *first;       /* first item of each weight, n + 1 entries */
    size_t n;
    atomic_int failed;
    pthread_mutex_t lock;
    lineage_error err;
} pack_job;

static size_t pack_items(const wref *w) { return (size_t)((w->rows + MM_CHUNK - 1) / MM_CHUNK); }

static void pack_item(void *ctx, size_t i, int worker)
{
    pack_job *j = ctx;
    if (atomic_load(&j->failed)) return;
    size_t k = 0;
    while (j->first[k + 1] <= i) k++;
    wref *w = j->ws[k];
    size_t K = (size_t)w->cols, r0 = (i - j->first[k]) * MM_CHUNK;
    size_t nr = (size_t)w->rows - r0 < MM_CHUNK ? (size_t)w->rows - r0 : MM_CHUNK;
    if (w->q8) {
        q8_pack_rows(j->im->m, w->t, w->row0 + r0, nr, w->q8 + r0 / MM_PANEL * (K / Q8_BLOCK) * Q8_PANEL_BLOCK_BYTES);
        return;
    }
    lineage_error e;
    if (lineage_tensor_read_rows_f32(j->im->m, (size_t)w->t, w->row0 + r0, nr, j->im->scratch[worker], &e)) {
        pthread_mutex_lock(&j->lock);
        if (!atomic_exchange(&j->failed, 1)) j->err = e;
        pthread_mutex_unlock(&j->lock);
        return;
    }
    if (w->packed16) {   /* F16 values: exact in f16 again */
        float *pk = j->im->scratch[worker] + (size_t)MM_CHUNK * K;
        mm_pack(j->im->scratch[worker], nr, K, pk);
        uint16_t *dst = w->packed16 + r0 * K;
        for (size_t h = 0, n = (nr + MM_PANEL - 1) / MM_PANEL * MM_PANEL * K; h < n; h++) dst[h] = f32_to_f16(pk[h]);
    } else mm_pack(j->im->scratch[worker], nr, K, w->packed + r0 * K);
}

uint64_t mm_weight_bytes(const infer_model *im, const wref *w)
{
    return q8_packable(im->m, w->t)    ? q8_packed_bytes((size_t)w->rows, (size_t)w->cols)
           : f16_packable(im->m, w->t) ? mm_packed_floats((size_t)w->rows, (size_t)w->cols) * sizeof(uint16_t)
                                       : mm_packed_floats((size_t)w->rows, (size_t)w->cols) * sizeof(float);
}

lineage_status mm_prepack(infer_model *im, wref **ws, size_t n, lineage_error *err)
{
    pack_job j = {.im = im, .ws = ws, .n = n, .first = calloc(n + 1, sizeof(size_t))};
    if (!j.first) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    lineage_status st = LINEAGE_OK;
    /* one block for all of them, in huge pages: the kernels stream every weight each pass, and with
     * 4 KiB pages the TLB misses (two-level page walks on a virtual machine) cost more than the
     * arithmetic (the VNNI kernel ran 2.5x slower) */
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += (mm_weight_bytes(im, ws[i]) + 63) / 64 * 64;
    unsigned char *block = total ? (unsigned char *)cache_alloc((total + sizeof(float) - 1) / sizeof(float)) : NULL;
    if (total && !block) st = error_set(err, LINEAGE_E_NOMEM, "out of memory for the repacked weights");
    free(im->arena);
    im->arena = block;
    for (size_t i = 0, at = 0; i < n && !st; i++) {
        wref *w = ws[i];
        j.first[i + 1] = j.first[i] + pack_items(w);
        if (q8_packable(im->m, w->t)) w->q8 = block + at;
        else if (f16_packable(im->m, w->t)) w->packed16 = (uint16_t *)(void *)(block + at);
        else w->packed = (float *)(void *)(block + at);
        at += (mm_weight_bytes(im, w) + 63) / 64 * 64;
    }
    if (!st) {
        atomic_init(&j.failed, 0);
        pthread_mutex_init(&j.lock, NULL);
        pool_run(im->pool, j.first[n], pack_item, &j);
        pthread_mutex_destroy(&j.lock);
        if (atomic_load(&j.failed)) {
            *err = j.err;
            st = j.err.code;
        }
    }
    free(j.first);
    return st;
}
