/* Controls: for one role, every A layer against every B layer (M[i][j]), the within-model
 * baselines, and the null the diagonal is judged against (analytic 1/sqrt(n), row/column shuffles,
 * a robust spread of the off-diagonal), plus a permutation test over the layer assignment. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"
#include "util/bigmem.h"
#include "util/error.h"
#include "util/parallel.h"

static int same_shape(const wt_matrix *x, const wt_matrix *y)
{
    return x->data && y->data && x->rows == y->rows && x->cols == y->cols;
}


/* Correlation of A with B after permuting B's rows (cols=0: column structure kept aligned) or its
 * columns (cols=1, one permutation for every row: row structure kept aligned). */
static double shuffled_corr(const wt_matrix *A, const wt_matrix *B, int cols, uint64_t seed, float *tmp,
                            size_t *perm)
{
    size_t R = B->rows, C = B->cols;
    if (R == 1 || cols) {
        for (size_t k = 0; k < C; k++) perm[k] = k;
        stats_shuffle(perm, C, seed);
        for (size_t r = 0; r < R; r++)
            for (size_t k = 0; k < C; k++) tmp[r * C + k] = B->data[r * C + perm[k]];
    } else {
        for (size_t r = 0; r < R; r++) perm[r] = r;
        stats_shuffle(perm, R, seed);
        for (size_t r = 0; r < R; r++) memcpy(tmp + r * C, B->data + perm[r] * C, C * sizeof(float));
    }
    return wt_pearson(A->data, tmp, R * C);
}

/* Two unrelated matrices that share structure along one axis (hidden channels whose scale every model
 * of an architecture shares, outlier columns) correlate by chance more than 1/sqrt(n): permuting B's
 * rows keeps its columns aligned with A's and measures that spread, permuting its columns measures the
 * rows' share. The null is the larger of the two (their average would understate either). */
#define WT_NULL_SHUFFLES 8   /* per kind, per pair */

double wt_null_sd(const wt_matrix *A, const wt_matrix *B)
{
    size_t n = A->rows * A->cols;
    double analytic = n > 3 ? 1.0 / sqrt((double)n) : 1.0, ss[2] = {0, 0};
    float *tmp = malloc(n * sizeof *tmp + 1);
    size_t *perm = malloc((A->rows > A->cols ? A->rows : A->cols) * sizeof *perm + 1);
    int k = 0;
    if (tmp && perm && same_shape(A, B))
        for (int t = 0; t < WT_NULL_SHUFFLES; t++, k++)
            for (int c = 0; c < 2; c++) {
                double v = shuffled_corr(A, B, c, 0x6e756c6cull + (uint64_t)(2 * t + c), tmp, perm);
                ss[c] += v * v;
            }
    free(tmp);
    free(perm);
    return fmax(analytic, k ? sqrt(fmax(ss[0], ss[1]) / k) : 0);
}

double wt_assignment_p(const double *r, int la, int lb, const int *map, int *exact)
{
    double obs = 0;
    int k = 0;
    for (int j = 0; j < lb; j++)
        if (map[j] >= 0 && !isnan(r[map[j] * lb + j])) { obs += r[map[j] * lb + j]; k++; }
    *exact = 0;
    if (k == 0 || la < 2) return 1.0;
    int *sigma = malloc(la * sizeof *sigma), *c = calloc(la, sizeof *c);
    if (!sigma || !c) { free(sigma); free(c); return 1.0; }
    for (int i = 0; i < la; i++) sigma[i] = i;
    long total = 0, ge = 0;
#define WT_ASSIGN_STAT(s_)                                                                    \
    do {                                                                                      \
        double t_ = 0;                                                                        \
        for (int j_ = 0; j_ < lb; j_++)                                                       \
            if (map[j_] >= 0 && !isnan(r[map[j_] * lb + j_])) {                               \
                double v_ = r[(s_)[map[j_]] * lb + j_];                                       \
                t_ += isnan(v_) ? 0 : v_;                                                     \
            }                                                                                 \
        total++;                                                                              \
        if (t_ >= obs - 1e-12 * fabs(obs)) ge++;                                              \
    } while (0)
    if (la <= 8) {
        /* every relabelling of A's layers (Heap's algorithm) */
        *exact = 1;
        WT_ASSIGN_STAT(sigma);
        for (int i = 1; i < la;) {
            if (c[i] < i) {
                int sw = i % 2 ? c[i] : 0, t = sigma[sw];
                sigma[sw] = sigma[i];
                sigma[i] = t;
                WT_ASSIGN_STAT(sigma);
                c[i]++;
                i = 1;
            } else {
                c[i] = 0;
                i++;
            }
        }
    } else {
        size_t *perm = malloc(la * sizeof *perm);
        for (int t = 0; perm && t < 4000; t++) {
            for (int i = 0; i < la; i++) perm[i] = (size_t)i;
            stats_shuffle(perm, (size_t)la, 0x7065726dull + (uint64_t)t);
            for (int i = 0; i < la; i++) sigma[i] = (int)perm[i];
            WT_ASSIGN_STAT(sigma);
        }
        free(perm);
        ge++;
        total++;
    }
#undef WT_ASSIGN_STAT
    free(sigma);
    free(c);
    return total ? (double)ge / (double)total : 1.0;
}

void wt_control_free(wt_role_control *c)
{
    free(c->r);
    free(c->z);
    free(c->within_a);
    free(c->within_b);
    memset(c, 0, sizeof *c);
}

/* Samples of equal shape: every Pearson correlation among them is an entry of the Gram matrix of
 * their standardized (centered, unit-length) copies. The Gram matrix is accumulated over chunks of
 * sample rows, so only one chunk of every member is in memory (never all samples of a role). */
typedef struct sample_member {
    const lineage_model *m;
    size_t idx;
    double mean, inv;
} sample_member;

typedef struct sample_class {
    size_t rows, cols, count, cap;
    sample_member *member;
    double *gram;   /* count x count */
} sample_class;

/* mean and 1/sqrt(centered sum of squares) from the moments a Pearson correlation uses (constant: 0) */
static void standard_scale(const float *x, size_t n, double *mean, double *inv)
{
    pair_moments m;
    pair_moments_init(&m);
    pair_moments_f32(x, x, n, &m);
    double va = n > 1 ? m.sum_aa - m.sum_a * m.sum_a / (double)n : 0;
    *mean = n ? m.sum_a / (double)n : 0;
    *inv = va > 0 ? 1 / sqrt(va) : 0;
}

/* U U^T (count x count) over threads: blocks of WT_GRAM_ROWS rows, each against the rows from its
 * first on (half the products), mirrored. Blocks are fixed by count alone, so any thread count gives
 * the same bits. */
#define WT_GRAM_ROWS 8
typedef struct gram_job {
    const float *u;
    size_t count, n, next;
    float *d;
    int failed;
} gram_job;

static void *gram_worker(void *arg)
{
    gram_job *g = arg;
    float *tmp = malloc(WT_GRAM_ROWS * g->count * sizeof *tmp + 1);
    if (!tmp) { __atomic_store_n(&g->failed, 1, __ATOMIC_RELAXED); return NULL; }
    for (;;) {
        size_t r0 = __atomic_fetch_add(&g->next, WT_GRAM_ROWS, __ATOMIC_RELAXED);
        if (r0 >= g->count) break;
        size_t nr = g->count - r0 < WT_GRAM_ROWS ? g->count - r0 : WT_GRAM_ROWS, nc = g->count - r0;
        dot_matrix_f32(g->u + r0 * g->n, nr, g->u + r0 * g->n, nc, g->n, tmp);
        for (size_t i = 0; i < nr; i++)
            for (size_t j = 0; j < nc; j++) {
                g->d[(r0 + i) * g->count + r0 + j] = tmp[i * nc + j];
                g->d[(r0 + j) * g->count + r0 + i] = tmp[i * nc + j];
            }
    }
    free(tmp);
    return NULL;
}

static int gram(const float *u, size_t count, size_t n, int threads, float *d)
{
    gram_job g = {u, count, n, 0, d, 0};
    pthread_t tid[64];
    int started = 0;
    if (threads > 64) threads = 64;
    for (int t = 1; t < threads && (size_t)t * WT_GRAM_ROWS < count; t++) {
        if (pthread_create(&tid[started], NULL, gram_worker, &g) != 0) break;
        started++;
    }
    gram_worker(&g);
    for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
    return !g.failed;
}

/* Adds a member to the class of its sample shape; returns its slot, or SIZE_MAX when out of memory. */
static size_t class_add(sample_class **cls, size_t *ncls, const lineage_model *m, size_t idx, size_t *which)
{
    const lineage_tensor_info *t = lineage_model_tensor(m, idx);
    size_t rows = wt_sample_row_count(t, WT_SAMPLE_ELEMS), cols = (size_t)t->cols, k = 0;
    while (k < *ncls && !((*cls)[k].rows == rows && (*cls)[k].cols == cols)) k++;
    if (k == *ncls) {
        sample_class *c = realloc(*cls, (*ncls + 1) * sizeof *c);
        if (!c) return SIZE_MAX;
        *cls = c;
        c[(*ncls)++] = (sample_class){rows, cols, 0, 0, NULL, NULL};
    }
    sample_class *c = &(*cls)[k];
    if (c->count == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        sample_member *mm = realloc(c->member, cap * sizeof *mm);
        if (!mm) return SIZE_MAX;
        c->member = mm;
        c->cap = cap;
    }
    c->member[c->count] = (sample_member){m, idx, 0, 0};
    *which = k;
    return c->count++;
}

#define WT_GRAM_CHUNK_ELEMS 8192u
/* The samples of a class are kept from the scale pass for the chunk pass when they fit in this much
 * (29 layers of two checkpoints: 15 MB); larger classes read each chunk again. Same bits either way. */
#define WT_GRAM_KEEP_BYTES ((size_t)32 << 20)

/* The class's Gram matrix: a pass for each member's mean and scale, then chunks of sample rows. */
/* The members' samples are read on all threads, each into its own slot: the first pass measures each
 * member's mean and scale (into keep when every sample fits, else into its worker's buffer); the chunk
 * pass fills each member's rows [r0, r0+k) of u, standardized. */
typedef struct sample_read_job {
    sample_class *c;
    float *keep, *x, *u;      /* keep: all samples or NULL; x: one sample per worker; u: one chunk per member */
    size_t n, chunk, r0, k;
    int chunk_pass;
    lineage_status *st;
    lineage_error *errs;
} sample_read_job;

static void sample_read_one(void *ctx, size_t i, int worker)
{
    sample_read_job *j = ctx;
    sample_member *mb = &j->c->member[i];
    size_t cols = j->c->cols;
    if (j->st[i]) return;
    if (!j->chunk_pass) {
        float *xi = j->keep ? j->keep + i * j->n : j->x + (size_t)worker * j->n;
        j->st[i] = wt_read_sample(mb->m, mb->idx, WT_SAMPLE_ELEMS, xi, &j->errs[i]);
        if (!j->st[i]) standard_scale(xi, j->n, &mb->mean, &mb->inv);
        return;
    }
    float *ui = j->u + i * j->chunk;
    if (j->keep) memcpy(ui, j->keep + i * j->n + j->r0 * cols, j->k * cols * sizeof *ui);
    else j->st[i] = wt_read_sample_rows(mb->m, mb->idx, WT_SAMPLE_ELEMS, j->r0, j->k, ui, &j->errs[i]);
    if (!j->st[i]) standardize_f32(ui, j->k * cols, mb->mean, mb->inv);
    for (size_t e = j->k * cols; e < j->chunk; e++) ui[e] = 0;
}

/* Runs one pass of j over every member; the first failing member (in order) gives the error. */
static lineage_status sample_pass(sample_read_job *j, int threads, lineage_error *err)
{
    parallel_for(j->c->count, threads, sample_read_one, j);
    for (size_t i = 0; i < j->c->count; i++)
        if (j->st[i]) {
            *err = j->errs[i];
            return j->st[i];
        }
    return LINEAGE_OK;
}

static lineage_status class_gram(sample_class *c, int threads, lineage_error *err)
{
    size_t n = c->rows * c->cols, cr = c->cols && WT_GRAM_CHUNK_ELEMS / c->cols ? WT_GRAM_CHUNK_ELEMS / c->cols : 1;
    if (cr > c->rows) cr = c->rows;
    size_t chunk = cr * c->cols;
    size_t keep_bytes = c->count * n * sizeof(float) + 1;
    float *keep = keep_bytes <= WT_GRAM_KEEP_BYTES ? bigmem_alloc(keep_bytes) : NULL;
    /* x (one sample per worker, when the samples are not kept) and u are the large ones: huge pages
     * (util/bigmem.h) */
    size_t workers = (size_t)parallel_workers(c->count, threads);
    size_t xbytes = (keep ? 1 : workers * n) * sizeof(float) + 1, ubytes = c->count * chunk * sizeof(float) + 1;
    float *x = bigmem_alloc(xbytes), *u = bigmem_alloc(ubytes), *d = malloc(c->count * c->count * sizeof *d + 1);
    c->gram = calloc(c->count * c->count + 1, sizeof *c->gram);
    lineage_status *sts = calloc(c->count + 1, sizeof *sts);
    lineage_error *errs = calloc(c->count + 1, sizeof *errs);
    lineage_status st = (!x || !u || !d || !c->gram || !sts || !errs || (keep_bytes <= WT_GRAM_KEEP_BYTES && !keep))
                            ? error_set(err, LINEAGE_E_NOMEM, "out of memory") : LINEAGE_OK;
    sample_read_job j = {c, keep, x, u, n, chunk, 0, 0, 0, sts, errs};
    if (!st) st = sample_pass(&j, threads, err);
    for (size_t r0 = 0; !st && r0 < c->rows; r0 += cr) {
        j.chunk_pass = 1;
        j.r0 = r0;
        j.k = c->rows - r0 < cr ? c->rows - r0 : cr;
        st = sample_pass(&j, threads, err);
        if (!st && !gram(u, c->count, chunk, threads, d)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < c->count * c->count; i++) c->gram[i] += d[i];
    }
    free(sts);
    free(errs);
    bigmem_free(keep, keep_bytes);
    bigmem_free(x, xbytes);
    bigmem_free(u, ubytes);
    free(d);
    return st;
}

/* One pair of the shuffle null: both samples read into its own buffers, every shuffled correlation
 * kept (the caller sums them in a fixed order). */
typedef struct null_pair {
    int i, j;
    size_t rows, cols;
    int ok;
    lineage_status st;
    lineage_error err;
    double v[WT_NULL_SHUFFLES][2];
} null_pair;

typedef struct null_job {
    const lineage_model *a, *b;
    const wt_series *s;
    null_pair pairs[8];
    int n;
} null_job;

static void null_pair_one(void *ctx, size_t q, int worker)
{
    (void)worker;
    null_job *j = ctx;
    null_pair *p = &j->pairs[q];
    size_t n = p->rows * p->cols, bytes = 3 * n * sizeof(float) + 1;
    float *buf = bigmem_alloc(bytes);
    size_t *perm = malloc((p->rows > p->cols ? p->rows : p->cols) * sizeof *perm + 1);
    if (!buf || !perm) {
        /* as the serial loop did: a pair whose buffers cannot be had is left out, the run goes on */
        if (!buf) p->st = error_set(&p->err, LINEAGE_E_NOMEM, "out of memory");
        bigmem_free(buf, bytes);
        free(perm);
        return;
    }
    wt_matrix A = {buf, p->rows, p->cols, 0}, B = {buf + n, p->rows, p->cols, 0};
    float *tmp = buf + 2 * n;
    p->st = wt_read_sample(j->a, (size_t)j->s->ia[p->i], WT_SAMPLE_ELEMS, A.data, &p->err);
    if (!p->st) p->st = wt_read_sample(j->b, (size_t)j->s->ib[p->j], WT_SAMPLE_ELEMS, B.data, &p->err);
    if (!p->st) {
        p->ok = 1;
        for (int t = 0; t < WT_NULL_SHUFFLES; t++)
            for (int c = 0; c < 2; c++)
                p->v[t][c] = shuffled_corr(&A, &B, c, 0x73687566ull * (uint64_t)(p->i + 1) + (uint64_t)(2 * t + c), tmp,
                                           perm);
    }
    free(perm);
    bigmem_free(buf, bytes);
}

lineage_status wt_controls_build(const lineage_model *a, const lineage_model *b, const wt_series *s, int threads,
                                 wt_role_control *out, lineage_error *err)
{
    memset(out, 0, sizeof *out);
    out->s = s;
    int la = s->la, lb = s->lb;
    out->la = la;
    out->lb = lb;
    /* per layer: class and slot of its sample (SIZE_MAX: no tensor) */
    size_t *cls_a = malloc(((size_t)la + 1) * sizeof *cls_a), *cls_b = malloc(((size_t)lb + 1) * sizeof *cls_b);
    size_t *slot_a = calloc((size_t)la + 1, sizeof *slot_a), *slot_b = calloc((size_t)lb + 1, sizeof *slot_b);
    sample_class *cls = NULL;
    size_t ncls = 0;
    out->r = malloc((size_t)la * lb * sizeof(double));
    out->z = malloc((size_t)la * lb * sizeof(double));
    out->within_a = malloc((size_t)la * la * sizeof(double));
    out->within_b = malloc((size_t)lb * lb * sizeof(double));
    lineage_status st = LINEAGE_OK;
    if (!cls_a || !cls_b || !slot_a || !slot_b || !out->r || !out->z || !out->within_a || !out->within_b)
        st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (int side = 0; !st && side < 2; side++)
        for (int i = 0; !st && i < (side ? lb : la); i++) {
            long idx = side ? s->ib[i] : s->ia[i];
            size_t *ci = side ? &cls_b[i] : &cls_a[i], *si = side ? &slot_b[i] : &slot_a[i];
            *ci = SIZE_MAX;
            if (idx < 0) continue;
            size_t k = SIZE_MAX;
            *si = class_add(&cls, &ncls, side ? b : a, (size_t)idx, &k);
            if (*si == SIZE_MAX) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
            else *ci = k;
        }
    for (size_t k = 0; !st && k < ncls; k++) st = class_gram(&cls[k], threads, err);
#define WT_CORR(ca, sa, cb, sb) \
    ((ca) != SIZE_MAX && (ca) == (cb) ? fmax(-1.0, fmin(1.0, cls[ca].gram[(sa) * cls[ca].count + (sb)])) : NAN)
    if (!st) {
        for (int i = 0; i < la; i++)
            for (int j = 0; j < lb; j++) out->r[i * lb + j] = WT_CORR(cls_a[i], slot_a[i], cls_b[j], slot_b[j]);
        for (int i = 0; i < la; i++)
            for (int j = 0; j < la; j++)
                out->within_a[i * la + j] = i != j ? WT_CORR(cls_a[i], slot_a[i], cls_a[j], slot_a[j]) : NAN;
        for (int i = 0; i < lb; i++)
            for (int j = 0; j < lb; j++)
                out->within_b[i * lb + j] = i != j ? WT_CORR(cls_b[i], slot_b[i], cls_b[j], slot_b[j]) : NAN;
#undef WT_CORR
        /* the null: row and column permutations of B against A on up to 8 same-shape pairs (their
         * samples read again, the pairs on all threads); the larger of the two spreads (wt_null_sd).
         * The squares are summed afterwards in the order of a serial run. */
        double ss[2] = {0, 0};
        int ns = 0;
        null_job nj;
        memset(&nj, 0, sizeof nj);
        nj.a = a;
        nj.b = b;
        nj.s = s;
        for (int i = 0; i < la && nj.n < 8; i++) {
            int j = i < lb ? i : lb - 1;
            if (cls_a[i] == SIZE_MAX || cls_a[i] != cls_b[j]) continue;
            const sample_class *k = &cls[cls_a[i]];
            if (!out->n) out->n = k->rows * k->cols;
            nj.pairs[nj.n++] = (null_pair){i, j, k->rows, k->cols, 0, LINEAGE_OK, {0}, {{0}}};
        }
        parallel_for((size_t)nj.n, threads, null_pair_one, &nj);
        for (int q = 0; q < nj.n && !st; q++) {
            null_pair *np = &nj.pairs[q];
            if (np->st) {
                st = np->st;
                *err = np->err;
                break;
            }
            if (!np->ok) continue;
            for (int t = 0; t < WT_NULL_SHUFFLES; t++, ns++)
                for (int c = 0; c < 2; c++) ss[c] += np->v[t][c] * np->v[t][c];
        }
        for (int i = 0; i < la && !out->n; i++)
            if (cls_a[i] != SIZE_MAX) out->n = cls[cls_a[i]].rows * cls[cls_a[i]].cols;
        out->analytic_sd = out->n > 3 ? 1.0 / sqrt((double)out->n) : 1.0;
        out->shuffle_sd = ns ? sqrt(fmax(ss[0], ss[1]) / ns) : 0;
        /* off-diagonal and within-model spreads */
        double *off = malloc(((size_t)la * lb + (size_t)la * la + (size_t)lb * lb + 1) * sizeof *off);
        size_t noff = 0, ndiag = 0, nw = 0;
        double dsum = 0, osum = 0, osum2 = 0, wsum = 0, wsum2 = 0;
        for (int i = 0; off && i < la; i++)
            for (int j = 0; j < lb; j++) {
                double v = out->r[i * lb + j];
                if (isnan(v)) continue;
                if (i == j) { dsum += v; ndiag++; }
                else { osum += v; osum2 += v * v; off[noff++] = fabs(v); }
            }
        for (int side = 0; side < 2; side++) {
            const double *w = side ? out->within_b : out->within_a;
            int l = side ? lb : la;
            for (int i = 0; i < l * l; i++)
                if (!isnan(w[i])) { wsum += w[i]; wsum2 += w[i] * w[i]; nw++; }
        }
        double robust_off = 0;
        if (noff >= 3) {
            qsort(off, noff, sizeof *off, stats_cmp_double);
            robust_off = off[noff / 2] / 0.6745;
        }
        free(off);
        out->diag_mean = ndiag ? dsum / ndiag : NAN;
        out->off_mean = noff ? osum / noff : NAN;
        out->off_sd = noff > 1 ? sqrt(fmax(osum2 / noff - out->off_mean * out->off_mean, 0)) : NAN;
        out->within_mean = nw ? wsum / nw : NAN;
        out->within_sd = nw > 1 ? sqrt(fmax(wsum2 / nw - out->within_mean * out->within_mean, 0)) : NAN;
        out->null_sd = fmax(out->analytic_sd, fmax(out->shuffle_sd, robust_off));
        double zsum = 0;
        for (int i = 0; i < la * lb; i++) out->z[i] = isnan(out->r[i]) ? NAN : out->r[i] / out->null_sd;
        for (int i = 0; i < la && i < lb; i++) if (!isnan(out->z[i * lb + i])) zsum += out->z[i * lb + i];
        out->diag_z_mean = ndiag ? zsum / ndiag : NAN;
        double sd = out->off_sd > out->null_sd ? out->off_sd : out->null_sd;
        out->z_diag_vs_off = ndiag && noff ? (out->diag_mean - out->off_mean) / sd : NAN;
        int *ident = malloc((size_t)lb * sizeof *ident);
        if (ident) {
            for (int j = 0; j < lb; j++) ident[j] = j < la ? j : -1;
            out->p_assignment = wt_assignment_p(out->r, la, lb, ident, &out->p_exact);
            free(ident);
        }
    }
    for (size_t k = 0; k < ncls; k++) { free(cls[k].member); free(cls[k].gram); }
    free(cls);
    free(cls_a);
    free(cls_b);
    free(slot_a);
    free(slot_b);
    if (st) wt_control_free(out);
    return st;
}

/* Every series' controls, the series spread over the threads (one each: their grams are small, and
 * a series runs start to end on one core without nested thread start-ups) when there are enough. The first failing series
 * in layout order gives the error, whatever the thread timing. */
typedef struct controls_job {
    const lineage_model *a, *b;
    const wt_layout *l;
    wt_role_control *out;
    lineage_status *st;
    lineage_error *errs;
    int inner;   /* threads inside one series (its gram) */
} controls_job;

static void controls_one(void *ctx, size_t i, int worker)
{
    (void)worker;
    controls_job *j = ctx;
    j->st[i] = wt_controls_build(j->a, j->b, &j->l->series[i], j->inner, &j->out[i], &j->errs[i]);
}

lineage_status wt_controls_build_all(const lineage_model *a, const lineage_model *b, const wt_layout *l, int threads,
                                     wt_role_control *out, lineage_error *err)
{
    size_t n = l->nseries;
    lineage_status *st = calloc(n + 1, sizeof *st);
    lineage_error *errs = calloc(n + 1, sizeof *errs);
    if (!st || !errs) {
        free(st);
        free(errs);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    /* fewer series than threads (one deep stack of one role): the series in turn, each gram on every
     * thread; else one thread per series */
    controls_job j = {a, b, l, out, st, errs, (size_t)threads > n ? threads : 1};
    parallel_for(n, (size_t)threads > n ? 1 : threads, controls_one, &j);
    lineage_status res = LINEAGE_OK;
    for (size_t i = 0; i < n && !res; i++)
        if (st[i]) {
            res = st[i];
            *err = errs[i];
        }
    free(st);
    free(errs);
    return res;
}
