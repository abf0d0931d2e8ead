/* The streaming engine: pairs are cut into units (element ranges), threads take units in file
 * order, unit results are merged in unit order. See stream.h for the I/O choice. */
#include "analysis/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "analysis/xxh.h"
#include "format/dtype.h"
#include "util/bigmem.h"
#include "util/error.h"
#include "util/progress.h"

#define MAX_UNITS_PER_BATCH 16384   /* bounds the per-unit result arrays (about 4 MB) */
/* A full pass reads READ_PIECES digest pieces (STREAM_UNIT_ELEMS elements each) per pread: 256 KB of
 * bf16 per side, half the system calls of one piece per read and still within L2 for the digests and
 * the moments (single thread, 2 x 3 GB page-cached bf16: 128 KB reads 0.53-0.55 s, 256 KB 0.49-0.51 s,
 * 512 KB 0.59-0.60 s). Digests and moments are still taken per piece, so results do not change. */
#define READ_PIECES 2
#define MAX_THREADS 256

typedef enum { KIND_F32, KIND_BF16, KIND_F16, KIND_CONVERT } pair_kind;

typedef struct pair_plan {
    const model_tensor *ta, *tb;
    size_t ia, ib;
    pair_kind kind;
    uint64_t numel, cols;
    int hash;               /* digests wanted (full mode) */
    uint64_t *blocks;       /* sampled mode: selected block indices, ascending */
    size_t nblocks;
    uint64_t block_rows, blocks_total;
    XXH3_state_t *hs_a, *hs_b;   /* digest of unit digests, when more than one unit */
} pair_plan;

typedef struct unit {
    size_t pair;
    uint64_t e0, ne;        /* element range */
    size_t block;           /* sampled mode: index into the pair's blocks, else SIZE_MAX */
} unit;

typedef struct unit_result {
    pair_moments m[READ_PIECES];   /* per piece (full mode); sampled mode: the whole block in m[0] */
    XXH128_canonical_t da[READ_PIECES], db[READ_PIECES];
    int pieces;
} unit_result;

typedef struct engine {
    const lineage_model *a, *b;
    pair_plan *plans;
    unit *units;
    unit_result *results;
    size_t nunits;
    size_t next;            /* atomic: next unit to take */
    int failed;             /* atomic */
    pthread_mutex_t lock;
    lineage_error err;
    lineage_status status;
    uint64_t done_bytes, total_bytes;   /* atomic done */
    double t0, last_report;
    lineage_progress_fn progress;   /* the caller's, NULL = silent */
    void *progress_user;
} engine;

typedef struct worker {
    engine *e;
    void *buf_a, *buf_b;    /* raw bytes, READ_PIECES * STREAM_UNIT_ELEMS * 4 each */
    float *f_a, *f_b;       /* converted rows (KIND_CONVERT) */
    size_t f_cap;           /* floats in f_a and f_b */
    int report;             /* this worker reports progress */
} worker;


/* Bytes of elements [e0, e0+ne) of a tensor (e0 and ne are block-aligned for block types). */
static void byte_range(const model_tensor *t, uint64_t e0, uint64_t ne, uint64_t *off, uint64_t *len)
{
    uint64_t be = dtype_block_elems(t->info.dtype), bb = dtype_block_bytes(t->info.dtype);
    *off = t->offset + e0 / be * bb;
    *len = ne / be * bb;
}

/* Rows covering elements [e0, e0+ne) of a tensor. */
static lineage_row_span elem_span(const model_tensor *t, size_t index, uint64_t e0, uint64_t ne)
{
    uint64_t cols = t->info.cols ? t->info.cols : 1;
    uint64_t r0 = e0 / cols, r1 = (e0 + ne + cols - 1) / cols;
    return (lineage_row_span){index, r0, r1 - r0};
}

static lineage_status read_bytes(const lineage_model *m, const model_tensor *t, uint64_t e0, uint64_t ne, void *buf,
                                 lineage_error *err)
{
    uint64_t off, len;
    byte_range(t, e0, ne, &off, &len);
    const mapped_file *f = &m->files[t->file];
    if (f->fd >= 0) return file_pread(f, off, buf, (size_t)len, err);
    memcpy(buf, f->data + off, (size_t)len);   /* no descriptor: the mapping is all there is */
    return LINEAGE_OK;
}

static void digest_bytes(const lineage_model *m, const model_tensor *t, uint64_t e0, uint64_t ne, const void *buf,
                         XXH128_canonical_t *out)
{
    uint64_t off, len;
    byte_range(t, e0, ne, &off, &len);
    if (!buf) buf = m->files[t->file].data + off;
    xxh3_128_canonical(buf, (size_t)len, out->digest);
}

static int grow_floats(worker *w, size_t n)
{
    if (n <= w->f_cap) return 1;
    float *a = realloc(w->f_a, n * sizeof *a);
    if (a) w->f_a = a;
    float *b = a ? realloc(w->f_b, n * sizeof *b) : NULL;
    if (b) w->f_b = b;
    if (!a || !b) return 0;
    w->f_cap = n;
    return 1;
}

/* Any dtypes: converts the rows covering [e0, e0+ne) a few at a time and takes the overlap. */
static lineage_status unit_convert(worker *w, const pair_plan *p, uint64_t e0, uint64_t ne, pair_moments *m,
                                   lineage_error *err)
{
    engine *e = w->e;
    uint64_t cols = p->cols, per = STREAM_UNIT_ELEMS / cols ? STREAM_UNIT_ELEMS / cols : 1;
    if (!grow_floats(w, (size_t)(per * cols)))
        return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory for rows of '%s'", e->a->path, p->ta->info.name);
    uint64_t r = e0 / cols, end = e0 + ne;
    while (r * cols < end) {
        uint64_t nr = (end - r * cols + cols - 1) / cols;
        if (nr > per) nr = per;
        lineage_status st = lineage_tensor_read_rows_f32(e->a, p->ia, r, nr, w->f_a, err);
        if (!st) st = lineage_tensor_read_rows_f32(e->b, p->ib, r, nr, w->f_b, err);
        if (st) return st;
        uint64_t lo = r * cols > e0 ? r * cols : e0, hi = (r + nr) * cols < end ? (r + nr) * cols : end;
        pair_moments_f32(w->f_a + (lo - r * cols), w->f_b + (lo - r * cols), (size_t)(hi - lo), m);
        r += nr;
    }
    return LINEAGE_OK;
}

/* Moments of one piece of raw bytes, by the pair's kind. */
static void piece_moments(pair_kind kind, const void *a, const void *b, size_t ne, pair_moments *m)
{
    if (kind == KIND_BF16) pair_moments_bf16(a, b, ne, m);
    else if (kind == KIND_F16) pair_moments_f16(a, b, ne, m);
    else pair_moments_f32(a, b, ne, m);
}

static lineage_status run_unit(worker *w, const unit *u, unit_result *res, lineage_error *err)
{
    engine *e = w->e;
    const pair_plan *p = &e->plans[u->pair];
    int sampled = u->block != SIZE_MAX;
    for (int k = 0; k < READ_PIECES; k++) pair_moments_init(&res->m[k]);
    res->pieces = 0;
    lineage_status st = LINEAGE_OK;
    if (p->kind == KIND_CONVERT) {
        for (uint64_t e0 = u->e0; e0 < u->e0 + u->ne && !st; e0 += STREAM_UNIT_ELEMS) {
            uint64_t ne = u->e0 + u->ne - e0 < STREAM_UNIT_ELEMS ? u->e0 + u->ne - e0 : STREAM_UNIT_ELEMS;
            int k = sampled ? 0 : res->pieces;
            st = unit_convert(w, p, e0, ne, &res->m[k], err);
            if (!st && p->hash) {
                digest_bytes(e->a, p->ta, e0, ne, NULL, &res->da[k]);
                digest_bytes(e->b, p->tb, e0, ne, NULL, &res->db[k]);
            }
            if (!sampled) res->pieces++;
        }
        if (sampled) res->pieces = 1;
        return st;
    }
    const uint64_t read_elems = (uint64_t)READ_PIECES * STREAM_UNIT_ELEMS;
    for (uint64_t r0 = u->e0; r0 < u->e0 + u->ne && !st; r0 += read_elems) {
        uint64_t rn = u->e0 + u->ne - r0 < read_elems ? u->e0 + u->ne - r0 : read_elems;
        st = read_bytes(e->a, p->ta, r0, rn, w->buf_a, err);
        if (!st) st = read_bytes(e->b, p->tb, r0, rn, w->buf_b, err);
        if (st) break;
        uint64_t bpe_a = dtype_block_bytes(p->ta->info.dtype) / dtype_block_elems(p->ta->info.dtype);
        uint64_t bpe_b = dtype_block_bytes(p->tb->info.dtype) / dtype_block_elems(p->tb->info.dtype);
        for (uint64_t e0 = r0; e0 < r0 + rn; e0 += STREAM_UNIT_ELEMS) {
            uint64_t ne = r0 + rn - e0 < STREAM_UNIT_ELEMS ? r0 + rn - e0 : STREAM_UNIT_ELEMS;
            const unsigned char *pa = (const unsigned char *)w->buf_a + (e0 - r0) * bpe_a;
            const unsigned char *pb = (const unsigned char *)w->buf_b + (e0 - r0) * bpe_b;
            int k = sampled ? 0 : res->pieces;
            if (p->hash) {   /* while the bytes are in L2 */
                digest_bytes(e->a, p->ta, e0, ne, pa, &res->da[k]);
                digest_bytes(e->b, p->tb, e0, ne, pb, &res->db[k]);
            }
            piece_moments(p->kind, pa, pb, (size_t)ne, &res->m[k]);
            if (!sampled) res->pieces++;
        }
    }
    if (sampled) res->pieces = 1;
    return st;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    engine *e = w->e;
    lineage_error err;
    for (;;) {
        if (__atomic_load_n(&e->failed, __ATOMIC_RELAXED)) break;
        size_t i = __atomic_fetch_add(&e->next, 1, __ATOMIC_RELAXED);
        if (i >= e->nunits) break;
        const unit *u = &e->units[i];
        lineage_status st = run_unit(w, u, &e->results[i], &err);
        if (st) {
            pthread_mutex_lock(&e->lock);
            if (!e->status) {
                e->status = st;
                e->err = err;
            }
            pthread_mutex_unlock(&e->lock);
            __atomic_store_n(&e->failed, 1, __ATOMIC_RELAXED);
            break;
        }
        const pair_plan *p = &e->plans[u->pair];
        uint64_t oa, la, ob, lb;
        byte_range(p->ta, u->e0, u->ne, &oa, &la);
        byte_range(p->tb, u->e0, u->ne, &ob, &lb);
        uint64_t done = __atomic_add_fetch(&e->done_bytes, la + lb, __ATOMIC_RELAXED);
        if (w->report && e->progress) {
            double now = progress_now();
            if (now - e->last_report >= 0.25) {
                e->last_report = now;
                e->progress(e->progress_user, "weights", done, e->total_bytes, now - e->t0);
            }
        }
    }
    return NULL;
}

static int thread_count(const stream_options *opt)
{
    long n = opt && opt->threads > 0 ? opt->threads : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

/* Runs e->units[0..nunits) on nthreads workers (the caller is one of them). */
static lineage_status run_batch(engine *e, worker *workers, int nthreads, lineage_error *err)
{
    pthread_t tid[MAX_THREADS];
    int started = 0;
    e->next = 0;
    for (int t = 1; t < nthreads; t++) {
        if (pthread_create(&tid[t], NULL, worker_main, &workers[t]) != 0) break;
        started = t;
    }
    worker_main(&workers[0]);
    for (int t = 1; t <= started; t++) pthread_join(tid[t], NULL);
    if (e->status) {
        *err = e->err;
        return e->status;
    }
    return LINEAGE_OK;
}

static pair_kind choose_kind(const model_tensor *ta, const model_tensor *tb)
{
    if (ta->info.dtype != tb->info.dtype || ta->scale >= 0 || tb->scale >= 0) return KIND_CONVERT;
    switch (ta->info.dtype) {
    case LINEAGE_DTYPE_F32: return KIND_F32;
    case LINEAGE_DTYPE_BF16: return KIND_BF16;
    case LINEAGE_DTYPE_F16: return KIND_F16;
    default: return KIND_CONVERT;
    }
}

static lineage_status plan_pair(const lineage_model *a, const lineage_model *b, const stream_pair *sp,
                                const stream_options *opt, int sampled, pair_plan *p, lineage_error *err)
{
    if (sp->a >= a->ntensors || sp->b >= b->ntensors)
        return error_set(err, LINEAGE_E_USAGE, "%s: tensor pair index out of range", a->path);
    p->ia = sp->a;
    p->ib = sp->b;
    p->ta = &a->tensors[sp->a];
    p->tb = &b->tensors[sp->b];
    const lineage_tensor_info *x = &p->ta->info, *y = &p->tb->info;
    if (x->rows != y->rows || x->cols != y->cols)
        return error_set(err, LINEAGE_E_USAGE, "%s: '%s' is %llux%llu but '%s' in %s is %llux%llu", a->path, x->name,
                         (unsigned long long)x->rows, (unsigned long long)x->cols, y->name, b->path,
                         (unsigned long long)y->rows, (unsigned long long)y->cols);
    p->kind = choose_kind(p->ta, p->tb);
    p->numel = x->numel;
    p->cols = x->cols ? x->cols : 1;
    p->hash = opt && opt->hash && !sampled;
    if (p->hash && p->numel > STREAM_UNIT_ELEMS) {
        p->hs_a = XXH3_createState();
        p->hs_b = XXH3_createState();
        if (!p->hs_a || !p->hs_b) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        XXH3_128bits_reset(p->hs_a);
        XXH3_128bits_reset(p->hs_b);
    }
    if (sampled && x->numel) {
        uint64_t rb = x->nbytes / x->rows > y->nbytes / y->rows ? x->nbytes / x->rows : y->nbytes / y->rows;
        p->block_rows = stream_block_rows(rb);
        p->blocks_total = (x->rows + p->block_rows - 1) / p->block_rows;
        return stream_sample_blocks(x->name, p->blocks_total, opt->sample, opt->seed, &p->blocks, &p->nblocks, err);
    }
    return LINEAGE_OK;
}

static void plan_free(pair_plan *p)
{
    free(p->blocks);
    XXH3_freeState(p->hs_a);
    XXH3_freeState(p->hs_b);
}

/* Cursor over the units of all pairs, in order. */
typedef struct cursor {
    size_t pair, block;
    uint64_t e0;
} cursor;

static int next_unit(const pair_plan *plans, size_t npairs, int sampled, cursor *c, unit *u)
{
    while (c->pair < npairs) {
        const pair_plan *p = &plans[c->pair];
        if (sampled) {
            if (c->block < p->nblocks) {
                uint64_t r0 = p->blocks[c->block] * p->block_rows, nr = p->block_rows;
                if (nr > p->ta->info.rows - r0) nr = p->ta->info.rows - r0;
                *u = (unit){c->pair, r0 * p->cols, nr * p->cols, c->block};
                c->block++;
                return 1;
            }
        } else if (c->e0 < p->numel) {
            const uint64_t most = (uint64_t)READ_PIECES * STREAM_UNIT_ELEMS;
            uint64_t ne = p->numel - c->e0 < most ? p->numel - c->e0 : most;
            *u = (unit){c->pair, c->e0, ne, SIZE_MAX};
            c->e0 += ne;
            return 1;
        }
        c->pair++;
        c->block = 0;
        c->e0 = 0;
    }
    return 0;
}

/* Folds a batch's unit results into the pairs, in unit order. */
static void merge_batch(engine *e, size_t n, stream_result *out)
{
    for (size_t i = 0; i < n; i++) {
        const unit *u = &e->units[i];
        pair_plan *p = &e->plans[u->pair];
        stream_result *r = &out[u->pair];
        const unit_result *x = &e->results[i];
        for (int k = 0; k < x->pieces; k++) pair_moments_merge(&r->m, &x->m[k]);   /* piece by piece, in order */
        if (u->block != SIZE_MAX) {
            r->rows_read += u->ne / p->cols;
            stream_block *bl = &r->blocks[u->block];
            bl->row0 = u->e0 / p->cols;
            bl->nrows = u->ne / p->cols;
            bl->m = x->m[0];
        }
        for (int k = 0; p->hash && k < x->pieces; k++) {
            if (p->hs_a) {
                XXH3_128bits_update(p->hs_a, &x->da[k], sizeof x->da[k]);
                XXH3_128bits_update(p->hs_b, &x->db[k], sizeof x->db[k]);
            } else {
                memcpy(r->digest_a, &x->da[k], 16);
                memcpy(r->digest_b, &x->db[k], 16);
            }
        }
    }
}

/* Remote models: the rows of a whole batch announced in one call per model, so they travel together
 * (coalesced, several requests in flight) before any worker reads them. */
static lineage_status prefetch_side(const lineage_model *m, const engine *e, size_t n, int side, lineage_error *err)
{
    if (!m->prefetch || n == 0) return LINEAGE_OK;
    lineage_row_span *spans = malloc(n * sizeof *spans);
    if (!spans) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const unit *u = &e->units[i];
        const pair_plan *p = &e->plans[u->pair];
        lineage_row_span s = elem_span(side ? p->tb : p->ta, side ? p->ib : p->ia, u->e0, u->ne);
        if (k && spans[k - 1].tensor == s.tensor && spans[k - 1].row0 + spans[k - 1].nrows >= s.row0) {
            uint64_t end = s.row0 + s.nrows;
            if (end > spans[k - 1].row0 + spans[k - 1].nrows) spans[k - 1].nrows = end - spans[k - 1].row0;
        } else spans[k++] = s;
    }
    lineage_status st = lineage_model_prefetch(m, spans, k, err);
    free(spans);
    return st;
}

static lineage_status prefetch_batch(const engine *e, size_t n, lineage_error *err)
{
    lineage_status st = prefetch_side(e->a, e, n, 0, err);
    return st ? st : prefetch_side(e->b, e, n, 1, err);
}

static void advise_sequential(const lineage_model *m)
{
    for (size_t i = 0; i < m->nfiles; i++)
        if (m->files[i].fd >= 0) (void)posix_fadvise(m->files[i].fd, 0, 0, POSIX_FADV_SEQUENTIAL);
}

lineage_status stream_pairs(const lineage_model *a, const lineage_model *b, const stream_pair *pairs, size_t npairs,
                            const stream_options *opt, stream_result *out, lineage_error *err)
{
    int sampled = opt && opt->sample > 0 && opt->sample < 1;
    if (opt && !(opt->sample >= 0 && opt->sample <= 1))
        return error_set(err, LINEAGE_E_USAGE, "sample fraction %g is not in (0, 1]", opt->sample);
    memset(out, 0, npairs * sizeof *out);
    engine e;
    memset(&e, 0, sizeof e);
    e.a = a;
    e.b = b;
    if (opt) {
        e.progress = opt->progress;
        e.progress_user = opt->progress_user;
    }
    int nthreads = thread_count(opt);
    worker workers[MAX_THREADS];
    memset(workers, 0, sizeof workers);
    lineage_status st = LINEAGE_OK;
    e.plans = calloc(npairs ? npairs : 1, sizeof *e.plans);
    if (!e.plans) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t i = 0; i < npairs && !st; i++) {
        st = plan_pair(a, b, &pairs[i], opt, sampled, &e.plans[i], err);
        if (st) break;
        out[i].rows = e.plans[i].ta->info.rows;
        if (!sampled) out[i].rows_read = out[i].rows;
        out[i].hashed = e.plans[i].hash;
        out[i].blocks_total = e.plans[i].blocks_total;
        if (e.plans[i].nblocks) {
            out[i].blocks = calloc(e.plans[i].nblocks, sizeof *out[i].blocks);
            out[i].nblocks = e.plans[i].nblocks;
            if (!out[i].blocks) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        }
    }
    /* total bytes, for progress and the thread count (no more threads than units) */
    cursor c = {0, 0, 0};
    unit u;
    size_t total_units = 0;
    while (!st && next_unit(e.plans, npairs, sampled, &c, &u)) {
        uint64_t o, la, lb;
        byte_range(e.plans[u.pair].ta, u.e0, u.ne, &o, &la);
        byte_range(e.plans[u.pair].tb, u.e0, u.ne, &o, &lb);
        e.total_bytes += la + lb;
        total_units++;
    }
    if ((size_t)nthreads > total_units) nthreads = total_units ? (int)total_units : 1;
    /* one scratch region (huge pages, util/bigmem.h): the batch's units and results, then each
     * worker's two read buffers; a batch holds at most MAX_UNITS_PER_BATCH units */
    size_t batch_cap = total_units < MAX_UNITS_PER_BATCH ? (total_units ? total_units : 1) : MAX_UNITS_PER_BATCH;
    size_t units_bytes = (batch_cap * sizeof *e.units + 63) / 64 * 64;
    size_t results_bytes = (batch_cap * sizeof *e.results + 63) / 64 * 64, buf_bytes = READ_PIECES * STREAM_UNIT_ELEMS * 4;
    size_t scratch_bytes = units_bytes + results_bytes + (size_t)nthreads * 2 * buf_bytes;
    unsigned char *scratch = st ? NULL : bigmem_alloc(scratch_bytes);
    if (!st && !scratch) st = error_set(err, LINEAGE_E_NOMEM, "out of memory for read buffers");
    if (!st) {
        e.units = (unit *)scratch;
        e.results = (unit_result *)(scratch + units_bytes);
    }
    for (int t = 0; t < nthreads && !st; t++) {
        workers[t].e = &e;
        workers[t].report = t == 0;
        workers[t].buf_a = scratch + units_bytes + results_bytes + (size_t)t * 2 * buf_bytes;
        workers[t].buf_b = (unsigned char *)workers[t].buf_a + buf_bytes;
    }
    if (!st && !sampled) {
        advise_sequential(a);
        advise_sequential(b);
    }
    pthread_mutex_init(&e.lock, NULL);
    e.t0 = e.last_report = progress_now();
    c = (cursor){0, 0, 0};
    while (!st) {
        size_t n = 0;
        while (n < batch_cap && next_unit(e.plans, npairs, sampled, &c, &e.units[n])) n++;
        if (n == 0) break;
        e.nunits = n;
        st = prefetch_batch(&e, n, err);
        if (st) break;
        st = run_batch(&e, workers, nthreads, err);
        if (!st) merge_batch(&e, n, out);
    }
    pthread_mutex_destroy(&e.lock);
    if (e.progress && e.total_bytes) e.progress(e.progress_user, "weights", e.total_bytes, e.total_bytes, progress_now() - e.t0);
    for (size_t i = 0; i < npairs && !st; i++) {
        pair_plan *p = &e.plans[i];
        if (p->hash && p->hs_a) {
            XXH128_canonicalFromHash((XXH128_canonical_t *)out[i].digest_a, XXH3_128bits_digest(p->hs_a));
            XXH128_canonicalFromHash((XXH128_canonical_t *)out[i].digest_b, XXH3_128bits_digest(p->hs_b));
        } else if (p->hash && p->numel == 0) {
            XXH128_canonicalFromHash((XXH128_canonical_t *)out[i].digest_a, XXH3_128bits("", 0));
            memcpy(out[i].digest_b, out[i].digest_a, 16);
        }
    }
    for (int t = 0; t < MAX_THREADS; t++) {
        free(workers[t].f_a);
        free(workers[t].f_b);
    }
    for (size_t i = 0; e.plans && i < npairs; i++) plan_free(&e.plans[i]);
    free(e.plans);
    bigmem_free(scratch, scratch_bytes);
    if (st) stream_results_free(out, npairs);
    return st;
}

void stream_results_free(stream_result *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].blocks);
        r[i].blocks = NULL;
        r[i].nblocks = 0;
    }
}

lineage_status stream_tensor_digest(const lineage_model *m, size_t index, unsigned char digest[16], stream_byte_sink sink,
                                    void *user, lineage_error *err)
{
    if (index >= m->ntensors) return error_set(err, LINEAGE_E_USAGE, "%s: tensor index out of range", m->path);
    const model_tensor *t = &m->tensors[index];
    uint64_t numel = t->info.numel, off, piece;
    byte_range(t, 0, numel < STREAM_UNIT_ELEMS ? numel : STREAM_UNIT_ELEMS, &off, &piece);
    if (m->prefetch && t->info.rows) {
        lineage_status st = m->prefetch(m, index, 0, t->info.rows, err);
        if (st) return st;
    }
    unsigned char *buf = malloc(piece ? (size_t)piece : 1);
    XXH3_state_t *hs = numel > STREAM_UNIT_ELEMS ? XXH3_createState() : NULL;
    if (!buf || (numel > STREAM_UNIT_ELEMS && !hs)) {
        free(buf);
        XXH3_freeState(hs);
        return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory hashing '%s'", m->path, t->info.name);
    }
    if (hs) XXH3_128bits_reset(hs);
    lineage_status st = LINEAGE_OK;
    XXH128_canonical_t d;
    XXH128_canonicalFromHash(&d, XXH3_128bits("", 0));
    for (uint64_t e0 = 0; e0 < numel && !st; e0 += STREAM_UNIT_ELEMS) {
        uint64_t ne = numel - e0 < STREAM_UNIT_ELEMS ? numel - e0 : STREAM_UNIT_ELEMS, len;
        byte_range(t, e0, ne, &off, &len);
        st = read_bytes(m, t, e0, ne, buf, err);
        if (st) break;
        if (sink) sink(user, buf, (size_t)len);
        digest_bytes(m, t, e0, ne, buf, &d);
        if (hs) XXH3_128bits_update(hs, &d, sizeof d);
    }
    if (!st && hs) XXH128_canonicalFromHash(&d, XXH3_128bits_digest(hs));
    if (!st) memcpy(digest, &d, 16);
    free(buf);
    XXH3_freeState(hs);
    return st;
}
