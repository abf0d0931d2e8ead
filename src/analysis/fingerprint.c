/* Fingerprints: build from a model, serialize, parse, compare (layout in docs/SCHEMA-fingerprint.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "analysis/fingerprint.h"
#include "format/arch.h"
#include "format/dtype.h"
#include "format/model.h"
#include "format/tokenizer.h"
#include "util/error.h"

#define FP_SAMPLE_ROWS 128   /* rows read per layer matrix ... */
#define FP_SAMPLE_BLOCKS 8   /* ... in this many evenly spaced blocks of consecutive rows */
#define FP_MAGIC "LNFP"
#define NOMEM(err) error_set(err, LINEAGE_E_NOMEM, "out of memory")

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void minhash_init(uint32_t *mh) { for (int k = 0; k < FP_MINHASH; k++) mh[k] = UINT32_MAX; }
static void minhash_add(uint32_t *mh, uint64_t x)
{
    for (int k = 0; k < FP_MINHASH; k++) {
        uint32_t v = (uint32_t)(mix64(x + 0x9e3779b97f4a7c15ull * (uint64_t)(k + 1)) >> 32);
        if (v < mh[k]) mh[k] = v;
    }
}
static double minhash_jaccard(const uint32_t *a, const uint32_t *b)
{
    int eq = 0;
    for (int k = 0; k < FP_MINHASH; k++) eq += a[k] == b[k];
    return (double)eq / FP_MINHASH;
}

void fp_free(fingerprint *fp)
{
    free(fp->layer);
    fp->layer = NULL;
    fp->n_layers = 0;
}

/* ---- tokenizer ---- */

static lineage_status open_tokenizer(const lineage_model *m, lineage_tokenizer **t, lineage_error *err)
{
    *t = NULL;
    if (m->gguf) return tok_open_gguf(m->gguf, m->path, t, err);
    return m->dir ? tok_open_dir(m->dir, t, err) : LINEAGE_OK;
}

typedef struct hashed_id { uint64_t h; uint32_t id; } hashed_id;
static int cmp_hashed(const void *x, const void *y)
{
    const hashed_id *a = x, *b = y;
    return a->h < b->h ? -1 : a->h > b->h;
}
static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static int is_ordinary(const lineage_tokenizer *t, uint32_t id)
{
    const tok_entry *e = &t->tok[id];
    return e->text && !e->special && e->canon == id && e->len > 0;
}

/* Sketches of the vocabulary, ID order, merge order and specials; the anchor candidates (ordinary
 * tokens below `rows`, sorted by the hash of their canonical bytes) into *anchors. */
static lineage_status tokenizer_sketch(const lineage_tokenizer *t, fingerprint *fp, uint64_t rows, hashed_id **anchors,
                                       size_t *nanchors, lineage_error *err)
{
    fp->n_tokens = (uint32_t)t->n;
    fp->n_special = (uint32_t)t->n_special;
    fp->n_merges = (uint32_t)t->n_merges;
    minhash_init(fp->tok_minhash);
    minhash_init(fp->order_minhash);
    minhash_init(fp->merge_minhash);
    hashed_id *all = malloc((t->n ? t->n : 1) * sizeof *all);
    uint64_t *specials = malloc((t->n ? t->n : 1) * sizeof *specials);
    if (!all || !specials) {
        free(all);
        free(specials);
        return NOMEM(err);
    }
    size_t n = 0, ns = 0;
    for (size_t i = 0; i < t->n; i++) {
        const tok_entry *e = &t->tok[i];
        if (!e->text) continue;
        if (e->special) {
            specials[ns++] = XXH3_64bits(e->text, e->text_len);
            continue;
        }
        if (!is_ordinary(t, (uint32_t)i)) continue;
        uint64_t h = XXH3_64bits(e->bytes, e->len);
        minhash_add(fp->tok_minhash, h);
        minhash_add(fp->order_minhash, mix64(h ^ (0x51ed27d3ull * (uint64_t)(i + 1))));
        if (i < rows) all[n++] = (hashed_id){h, (uint32_t)i};
    }
    for (size_t r = 0; r < t->n_merges; r++) {
        uint32_t l = t->merges[r][0], rr = t->merges[r][1];
        if (l >= t->n || rr >= t->n || !t->tok[l].bytes || !t->tok[rr].bytes) continue;
        uint64_t h = XXH3_64bits_withSeed(t->tok[l].bytes, t->tok[l].len, r / 256 + 1);
        minhash_add(fp->merge_minhash, mix64(h ^ XXH3_64bits(t->tok[rr].bytes, t->tok[rr].len)));
    }
    qsort(specials, ns, sizeof *specials, cmp_u64);
    fp->nspecials = 0;
    for (size_t i = 0; i < ns && fp->nspecials < FP_MAX_SPECIALS; i++)
        if (!i || specials[i] != specials[i - 1]) fp->specials[fp->nspecials++] = specials[i];
    free(specials);
    qsort(all, n, sizeof *all, cmp_hashed);
    *anchors = all;
    *nanchors = n;
    return LINEAGE_OK;
}

/* ---- anchor Gram matrices ---- */

/* Anchors are the tokens whose hash is below 2^(64-j), j the smallest level leaving at most FP_ANCHORS:
 * consistent sampling, so a vocabulary that grows (extension) or shrinks keeps the anchors it shares
 * with the original instead of trading them for new tokens, as a bottom-k choice would. */
static size_t anchor_count(const hashed_id *sorted, size_t n)
{
    for (int j = 0; j < 64; j++) {
        uint64_t thr = j ? UINT64_MAX >> j : UINT64_MAX;
        size_t lo = 0, hi = n;   /* first index with h > thr */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (sorted[mid].h <= thr) lo = mid + 1;
            else hi = mid;
        }
        if (lo <= FP_ANCHORS) return lo;
    }
    return 0;
}

size_t fp_gram_index(size_t n, size_t i, size_t j) { return i * (2 * n - i - 1) / 2 + (j - i - 1); }

/* Centred cosines between the rows of `tensor` for the anchors' ids (columns first multiplied by the
 * norm gain `gain` when given: the final norm folded into lm_head, so moving scale between the two
 * changes nothing), quantized to int16. */
static lineage_status anchor_gram(const lineage_model *m, long tensor, long gain, const fingerprint *fp, const uint32_t *ids,
                                  int16_t *gram, uint64_t *bytes_read, lineage_error *err)
{
    const lineage_tensor_info *ti = lineage_model_tensor(m, (size_t)tensor);
    size_t n = fp->n_anchors, d = ti->cols;
    if (d == 0 || d > (1u << 20)) return error_set(err, LINEAGE_E_FORMAT, "%s: %s has an implausible width", m->path, ti->name);
    lineage_row_span spans[FP_ANCHORS];
    for (size_t i = 0; i < n; i++) spans[i] = (lineage_row_span){(size_t)tensor, ids[i], 1};
    lineage_status st = lineage_model_prefetch(m, spans, n, err);
    if (st) return st;
    float *x = malloc(n * d * sizeof *x);
    double *mean = calloc(d, sizeof *mean);
    if (!x || !mean) {
        free(x);
        free(mean);
        return NOMEM(err);
    }
    for (size_t i = 0; i < n && !st; i++) st = lineage_tensor_read_rows_f32(m, (size_t)tensor, ids[i], 1, x + i * d, err);
    *bytes_read += n * (ti->nbytes / (ti->rows ? ti->rows : 1));
    if (!st && gain >= 0 && lineage_model_tensor(m, (size_t)gain)->numel == d) {
        float *g = malloc(d * sizeof *g);
        if (!g) st = NOMEM(err);
        else st = lineage_tensor_read_rows_f32(m, (size_t)gain, 0, 1, g, err);
        for (size_t i = 0; !st && i < n; i++)
            for (size_t c = 0; c < d; c++) x[i * d + c] *= g[c];
        free(g);
    }
    if (!st) {
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < d; c++) mean[c] += x[i * d + c];
        for (size_t i = 0; i < n; i++) {
            double ss = 0;
            for (size_t c = 0; c < d; c++) {
                double v = x[i * d + c] - mean[c] / (double)n;
                x[i * d + c] = (float)v;
                ss += v * v;
            }
            float inv = ss > 0 && isfinite(ss) ? (float)(1 / sqrt(ss)) : 0;
            for (size_t c = 0; c < d; c++) x[i * d + c] *= inv;
        }
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++) {
                double dot = 0;
                for (size_t c = 0; c < d; c++) dot += (double)x[i * d + c] * x[j * d + c];
                double q = round(dot * 32767);
                gram[fp_gram_index(n, i, j)] = (int16_t)(q > 32767 ? 32767 : q < -32767 ? -32767 : q);
            }
    }
    free(x);
    free(mean);
    return st;
}

/* LSH keys: MinHash bands over the set of (anchor, nearest anchor) pairs, each anchor's FP_NEIGHBOURS nearest
 * neighbours by centred cosine. Neighbourhoods survive rotation, permutation, noise and fine-tuning
 * of the embedding; independent embeddings share them only by chance. */
void fp_lsh_keys(fingerprint *fp, const int16_t *gram)
{
    size_t n = fp->n_anchors;
    fp->n_keys = 0;
    if (n < 8) return;
    uint32_t mh[FP_BANDS * FP_BAND_ROWS];
    for (int k = 0; k < FP_BANDS * FP_BAND_ROWS; k++) mh[k] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        int best[FP_NEIGHBOURS], bv[FP_NEIGHBOURS];
        for (int b = 0; b < FP_NEIGHBOURS; b++) { best[b] = -1; bv[b] = INT32_MIN; }
        for (size_t j = 0; j < n; j++) {
            if (j == i) continue;
            int v = gram[i < j ? fp_gram_index(n, i, j) : fp_gram_index(n, j, i)];
            for (int b = 0; b < FP_NEIGHBOURS; b++)
                if (v > bv[b]) {
                    for (int c = FP_NEIGHBOURS - 1; c > b; c--) { bv[c] = bv[c - 1]; best[c] = best[c - 1]; }
                    bv[b] = v;
                    best[b] = (int)j;
                    break;
                }
        }
        for (int b = 0; b < FP_NEIGHBOURS; b++) {
            uint64_t x = mix64(fp->anchor_hash[i] ^ mix64(fp->anchor_hash[best[b]] + 1));
            for (int k = 0; k < FP_BANDS * FP_BAND_ROWS; k++) {
                uint32_t v = (uint32_t)(mix64(x + 0x9e3779b97f4a7c15ull * (uint64_t)(k + 1)) >> 32);
                if (v < mh[k]) mh[k] = v;
            }
        }
    }
    for (int b = 0; b < FP_BANDS; b++) {
        uint64_t h = XXH3_64bits(mh + b * FP_BAND_ROWS, FP_BAND_ROWS * sizeof(uint32_t));
        fp->keys[fp->n_keys++] = ((uint64_t)b << 56) | (h & ((1ull << 56) - 1));
    }
}

/* ---- per-layer statistics ---- */

static int role_slot(const lineage_tensor_info *ti)
{
    static const char *const roles[][2] = {
        {"attn_q", "0"}, {"attn_qkv", "0"}, {"attn_k", "1"}, {"attn_v", "2"}, {"attn_o", "3"},
        {"mlp_gate", "4"}, {"mlp_gate_up", "4"}, {"expert_gate", "4"}, {"expert_gate_up", "4"},
        {"mlp_up", "5"}, {"expert_up", "5"}, {"mlp_down", "6"}, {"expert_down", "6"},
        {"attn_norm", "7"}, {"mlp_norm", "8"}};
    if (ti->component != LINEAGE_COMPONENT_TEXT || ti->layer < 0 || ti->layer >= FP_MAX_LAYERS || !ti->role) return -1;
    if (ti->expert > 0) return -1;   /* expert 0 stands for the layer's experts (remote reads stay small) */
    for (size_t k = 0; k < sizeof roles / sizeof roles[0]; k++)
        if (!strcmp(ti->role, roles[k][0])) return roles[k][1][0] - '0';
    return -1;
}

static int cmp_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return a < b ? -1 : a > b;
}

static void quantiles(float *v, size_t n, float *q)
{
    qsort(v, n, sizeof *v, cmp_float);
    float med = v[n / 2];
    for (int k = 0; k < FP_QUANTILES; k++) {
        size_t i = (size_t)(((double)k + 0.5) / FP_QUANTILES * (double)n);
        q[k] = med != 0 && isfinite(med) ? v[i < n ? i : n - 1] / med : 0;
    }
}

/* Sign projections of the centred vector (one hash gives the 64 signs of an element), unit length. */
static void norm_projection(const float *x, size_t d, int8_t *out)
{
    double mean = 0, p[FP_NORM_PROJ] = {0}, ss = 0;
    for (size_t i = 0; i < d; i++) mean += x[i];
    mean /= (double)d;
    for (size_t i = 0; i < d; i++) {
        double v = x[i] - mean;
        uint64_t signs = mix64(0x6a09e667f3bcc908ull + i);
        for (int k = 0; k < FP_NORM_PROJ; k++) p[k] += (signs >> k) & 1 ? v : -v;
    }
    for (int k = 0; k < FP_NORM_PROJ; k++) ss += p[k] * p[k];
    double inv = ss > 0 && isfinite(ss) ? 1 / sqrt(ss) : 0;
    for (int k = 0; k < FP_NORM_PROJ; k++) out[k] = (int8_t)lround(p[k] * inv * 127);
}

static lineage_status tensor_stats(const lineage_model *m, size_t index, fp_layer *ly, int slot, uint64_t *bytes_read,
                                   lineage_error *err)
{
    const lineage_tensor_info *ti = lineage_model_tensor(m, index);
    uint64_t R = ti->rows, C = ti->cols;
    if (!R || !C || C > (1u << 24)) return LINEAGE_OK;
    /* FP_SAMPLE_ROWS rows in FP_SAMPLE_BLOCKS evenly spaced blocks of consecutive rows: a remote read
     * is then a few ranges per matrix, far apart, instead of many rows close enough to be fetched with
     * everything between them */
    uint64_t S = R < FP_SAMPLE_ROWS ? R : FP_SAMPLE_ROWS;
    uint64_t NB = S == R ? 1 : FP_SAMPLE_BLOCKS, per = S / NB;
    lineage_row_span spans[FP_SAMPLE_BLOCKS];
    for (uint64_t b = 0; b < NB; b++) {
        uint64_t mid = (2 * b + 1) * R / (2 * NB), start = mid > per / 2 ? mid - per / 2 : 0;
        if (start + per > R) start = R - per;
        spans[b] = (lineage_row_span){index, start, per};
    }
    lineage_status st = lineage_model_prefetch(m, spans, (size_t)NB, err);
    if (st) return st;
    float *row = malloc(C * sizeof *row), *norms = malloc(S * sizeof *norms);
    float *vals = R == 1 ? malloc(C * sizeof *vals) : NULL;
    if (!row || !norms || (R == 1 && !vals)) {
        free(row); free(norms); free(vals);
        return NOMEM(err);
    }
    double s = 0, s2 = 0;
    for (uint64_t k = 0; k < S && !st; k++) {
        st = lineage_tensor_read_rows_f32(m, index, spans[k / per].row0 + k % per, 1, row, err);
        if (st) break;
        double rs = 0;
        for (uint64_t c = 0; c < C; c++) {
            s += row[c];
            s2 += (double)row[c] * row[c];
            rs += (double)row[c] * row[c];
        }
        norms[k] = (float)sqrt(rs);
    }
    *bytes_read += S * (ti->nbytes / R);
    if (!st) {
        double cnt = (double)S * (double)C, mean = s / cnt, var = s2 / cnt - mean * mean;
        ly->std[slot] = (float)(var > 0 ? sqrt(var) : 0);
        if (R == 1) {   /* a norm vector: quantiles of its values, and its centred sketch */
            memcpy(vals, row, C * sizeof *vals);
            norm_projection(row, (size_t)C, ly->norm_proj[slot - 7]);
            quantiles(vals, (size_t)C, ly->quant[slot]);
        } else quantiles(norms, (size_t)S, ly->quant[slot]);
    }
    free(row);
    free(norms);
    free(vals);
    return st;
}

lineage_status fp_build(const lineage_model *m, fingerprint *fp, lineage_error *err)
{
    memset(fp, 0, sizeof *fp);
    arena ar;
    arena_init(&ar, 64u << 20);
    arch_info a;
    json_value *warnings = json_new_array(&ar);
    if (!warnings) {
        arena_free(&ar);
        return NOMEM(err);
    }
    arch_of_model(m, &a, &ar, warnings);
    snprintf(fp->model_type, sizeof fp->model_type, "%s", a.model_type ? a.model_type : "");
    fp->hidden = (int32_t)a.hidden_size;
    fp->layers = (int32_t)a.num_layers;
    fp->heads = (int32_t)a.num_heads;
    fp->kv_heads = (int32_t)a.num_kv_heads;
    fp->ffn = (int32_t)a.intermediate_size;
    fp->vocab = (int32_t)a.vocab_size;
    fp->experts = (int32_t)a.n_routed_experts;
    fp->tied = a.tied_embeddings;
    arena_free(&ar);

    lineage_tokenizer *t;
    lineage_status st = open_tokenizer(m, &t, err);
    if (st) return st;
    long emb = lineage_model_find_role(m, LINEAGE_COMPONENT_TEXT, "embed", -1, -1);
    long head = lineage_model_find_role(m, LINEAGE_COMPONENT_TEXT, "lm_head", -1, -1);
    if (emb >= 0 && lineage_model_tensor(m, (size_t)emb)->ndim != 2) emb = -1;
    if (head >= 0 && lineage_model_tensor(m, (size_t)head)->ndim != 2) head = -1;
    if (t) {
        uint64_t rows = UINT64_MAX;
        if (emb >= 0) rows = lineage_model_tensor(m, (size_t)emb)->rows;
        if (head >= 0 && lineage_model_tensor(m, (size_t)head)->rows < rows) rows = lineage_model_tensor(m, (size_t)head)->rows;
        hashed_id *anchors = NULL;
        size_t na = 0;
        st = tokenizer_sketch(t, fp, rows, &anchors, &na, err);
        if (!st) {
            uint32_t ids[FP_ANCHORS];
            fp->n_anchors = (uint32_t)anchor_count(anchors, na);
            for (size_t i = 0; i < fp->n_anchors; i++) {
                fp->anchor_hash[i] = anchors[i].h;
                ids[i] = anchors[i].id;
            }
            if (fp->n_anchors >= 8 && emb >= 0) {
                st = anchor_gram(m, emb, -1, fp, ids, fp->embed_gram, &fp->bytes_read, err);
                fp->has_embed_gram = !st;
            }
            if (!st && fp->n_anchors >= 8 && head >= 0 && head != emb) {
                long gain = lineage_model_find_role(m, LINEAGE_COMPONENT_TEXT, "final_norm", -1, -1);
                st = anchor_gram(m, head, gain, fp, ids, fp->head_gram, &fp->bytes_read, err);
                fp->has_head_gram = !st;
            }
            if (!st && (fp->has_embed_gram || fp->has_head_gram))
                fp_lsh_keys(fp, fp->has_embed_gram ? fp->embed_gram : fp->head_gram);
            if (!fp->has_embed_gram && !fp->has_head_gram) fp->n_anchors = 0;
        }
        free(anchors);
        lineage_tokenizer_close(t);
        if (st) return st;
    }

    int max_layer = -1;
    size_t nt = lineage_model_tensor_count(m);
    for (size_t i = 0; i < nt; i++) {
        const lineage_tensor_info *ti = lineage_model_tensor(m, i);
        if (role_slot(ti) >= 0 && ti->layer > max_layer) max_layer = ti->layer;
    }
    if (max_layer < 0) return LINEAGE_OK;
    fp->n_layers = (uint32_t)max_layer + 1;
    fp->layer = calloc(fp->n_layers, sizeof *fp->layer);
    if (!fp->layer) return NOMEM(err);
    for (uint32_t l = 0; l < fp->n_layers; l++)
        for (int r = 0; r < FP_ROLES; r++) fp->layer[l].std[r] = NAN;
    for (size_t i = 0; i < nt && !st; i++) {
        const lineage_tensor_info *ti = lineage_model_tensor(m, i);
        int slot = role_slot(ti);
        if (slot < 0 || !isnan(fp->layer[ti->layer].std[slot])) continue;
        if ((slot >= 7) != (ti->ndim == 1)) continue;
        st = tensor_stats(m, i, &fp->layer[ti->layer], slot, &fp->bytes_read, err);
    }
    if (st) fp_free(fp);
    return st;
}

/* ---- serialization ---- */

typedef struct wbuf { unsigned char *p; size_t n, cap; int failed; } wbuf;
static void put(wbuf *w, const void *src, size_t n)
{
    if (w->failed) return;
    if (w->n + n > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 4096;
        while (cap < w->n + n) cap *= 2;
        unsigned char *q = realloc(w->p, cap);
        if (!q) { w->failed = 1; return; }
        w->p = q;
        w->cap = cap;
    }
    memcpy(w->p + w->n, src, n);
    w->n += n;
}
/* little-endian integers (the build targets are little-endian x86-64; the format says LE) */
static void put_u32(wbuf *w, uint32_t v) { unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)}; put(w, b, 4); }
static void put_u64(wbuf *w, uint64_t v) { put_u32(w, (uint32_t)v); put_u32(w, (uint32_t)(v >> 32)); }
static void put_f32(wbuf *w, float f) { uint32_t u; memcpy(&u, &f, 4); put_u32(w, u); }
static void put_u16(wbuf *w, uint16_t v) { unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)}; put(w, b, 2); }

lineage_status fp_serialize(const fingerprint *fp, unsigned char **out, size_t *len, lineage_error *err)
{
    wbuf w = {0};
    put(&w, FP_MAGIC, 4);
    put_u32(&w, FP_VERSION);
    put(&w, fp->model_type, sizeof fp->model_type);
    int32_t arch[8] = {fp->hidden, fp->layers, fp->heads, fp->kv_heads, fp->ffn, fp->vocab, fp->experts, fp->tied};
    for (int k = 0; k < 8; k++) put_u32(&w, (uint32_t)arch[k]);
    put_u32(&w, fp->n_tokens);
    put_u32(&w, fp->n_special);
    put_u32(&w, fp->n_merges);
    for (int k = 0; k < FP_MINHASH; k++) put_u32(&w, fp->tok_minhash[k]);
    for (int k = 0; k < FP_MINHASH; k++) put_u32(&w, fp->order_minhash[k]);
    for (int k = 0; k < FP_MINHASH; k++) put_u32(&w, fp->merge_minhash[k]);
    put_u32(&w, fp->nspecials);
    for (uint32_t k = 0; k < fp->nspecials; k++) put_u64(&w, fp->specials[k]);
    put_u32(&w, fp->n_anchors);
    put_u32(&w, (uint32_t)(fp->has_embed_gram | fp->has_head_gram << 1));
    for (uint32_t k = 0; k < fp->n_anchors; k++) put_u64(&w, fp->anchor_hash[k]);
    size_t ng = (size_t)fp->n_anchors * (fp->n_anchors ? fp->n_anchors - 1 : 0) / 2;
    for (size_t k = 0; fp->has_embed_gram && k < ng; k++) put_u16(&w, (uint16_t)fp->embed_gram[k]);
    for (size_t k = 0; fp->has_head_gram && k < ng; k++) put_u16(&w, (uint16_t)fp->head_gram[k]);
    put_u32(&w, fp->n_layers);
    for (uint32_t l = 0; l < fp->n_layers; l++) {
        const fp_layer *ly = &fp->layer[l];
        for (int r = 0; r < FP_ROLES; r++) {
            put_f32(&w, ly->std[r]);
            for (int q = 0; q < FP_QUANTILES; q++) put_u16(&w, f32_to_f16(ly->quant[r][q]));
        }
        put(&w, ly->norm_proj, sizeof ly->norm_proj);
    }
    put_u32(&w, fp->n_keys);
    for (uint32_t k = 0; k < fp->n_keys; k++) put_u64(&w, fp->keys[k]);
    put_u64(&w, fp->bytes_read);
    if (w.failed) {
        free(w.p);
        return NOMEM(err);
    }
    *out = w.p;
    *len = w.n;
    return LINEAGE_OK;
}

typedef struct rbuf { const unsigned char *p; size_t n, at; int bad; } rbuf;
static const unsigned char *take(rbuf *r, size_t n)
{
    if (r->bad || n > r->n - r->at) { r->bad = 1; return NULL; }
    const unsigned char *q = r->p + r->at;
    r->at += n;
    return q;
}
static uint32_t get_u32(rbuf *r)
{
    const unsigned char *b = take(r, 4);
    return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24 : 0;
}
static uint64_t get_u64(rbuf *r) { uint64_t lo = get_u32(r); return lo | (uint64_t)get_u32(r) << 32; }
static float get_f32(rbuf *r) { uint32_t u = get_u32(r); float f; memcpy(&f, &u, 4); return f; }
static uint16_t get_u16(rbuf *r) { const unsigned char *b = take(r, 2); return b ? (uint16_t)(b[0] | b[1] << 8) : 0; }

lineage_status fp_parse(const unsigned char *p, size_t len, fingerprint *fp, const char *what, lineage_error *err)
{
    memset(fp, 0, sizeof *fp);
    rbuf r = {p, len, 0, 0};
    const unsigned char *magic = take(&r, 4);
    if (!magic || memcmp(magic, FP_MAGIC, 4)) return error_set(err, LINEAGE_E_FORMAT, "%s: not a lineage fingerprint", what);
    uint32_t version = get_u32(&r);
    if (version != FP_VERSION)
        return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: fingerprint version %u (this build reads %d)", what, version, FP_VERSION);
    const unsigned char *mt = take(&r, sizeof fp->model_type);
    if (mt) memcpy(fp->model_type, mt, sizeof fp->model_type);
    fp->model_type[sizeof fp->model_type - 1] = 0;
    int32_t *arch[8] = {&fp->hidden, &fp->layers, &fp->heads, &fp->kv_heads, &fp->ffn, &fp->vocab, &fp->experts, &fp->tied};
    for (int k = 0; k < 8; k++) *arch[k] = (int32_t)get_u32(&r);
    fp->n_tokens = get_u32(&r);
    fp->n_special = get_u32(&r);
    fp->n_merges = get_u32(&r);
    for (int k = 0; k < FP_MINHASH; k++) fp->tok_minhash[k] = get_u32(&r);
    for (int k = 0; k < FP_MINHASH; k++) fp->order_minhash[k] = get_u32(&r);
    for (int k = 0; k < FP_MINHASH; k++) fp->merge_minhash[k] = get_u32(&r);
    fp->nspecials = get_u32(&r);
    if (fp->nspecials > FP_MAX_SPECIALS) r.bad = 1;
    for (uint32_t k = 0; k < fp->nspecials && !r.bad; k++) fp->specials[k] = get_u64(&r);
    fp->n_anchors = get_u32(&r);
    uint32_t flags = get_u32(&r);
    if (fp->n_anchors > FP_ANCHORS || flags > 3) r.bad = 1;
    fp->has_embed_gram = flags & 1;
    fp->has_head_gram = (flags >> 1) & 1;
    for (uint32_t k = 0; k < fp->n_anchors && !r.bad; k++) fp->anchor_hash[k] = get_u64(&r);
    size_t ng = r.bad ? 0 : (size_t)fp->n_anchors * (fp->n_anchors ? fp->n_anchors - 1 : 0) / 2;
    for (size_t k = 0; fp->has_embed_gram && k < ng && !r.bad; k++) fp->embed_gram[k] = (int16_t)get_u16(&r);
    for (size_t k = 0; fp->has_head_gram && k < ng && !r.bad; k++) fp->head_gram[k] = (int16_t)get_u16(&r);
    fp->n_layers = get_u32(&r);
    if (fp->n_layers > FP_MAX_LAYERS) r.bad = 1;
    if (!r.bad && fp->n_layers) {
        fp->layer = calloc(fp->n_layers, sizeof *fp->layer);
        if (!fp->layer) return NOMEM(err);
    }
    for (uint32_t l = 0; l < fp->n_layers && !r.bad; l++) {
        fp_layer *ly = &fp->layer[l];
        for (int k = 0; k < FP_ROLES; k++) {
            ly->std[k] = get_f32(&r);
            for (int q = 0; q < FP_QUANTILES; q++) ly->quant[k][q] = f16_to_f32(get_u16(&r));
        }
        const unsigned char *np = take(&r, sizeof ly->norm_proj);
        if (np) memcpy(ly->norm_proj, np, sizeof ly->norm_proj);
    }
    fp->n_keys = get_u32(&r);
    if (fp->n_keys > FP_BANDS) r.bad = 1;
    for (uint32_t k = 0; k < fp->n_keys && !r.bad; k++) fp->keys[k] = get_u64(&r);
    fp->bytes_read = get_u64(&r);
    if (r.bad || r.at != r.n) {
        fp_free(fp);
        return error_set(err, LINEAGE_E_FORMAT, "%s: fingerprint is truncated or has trailing bytes", what);
    }
    return LINEAGE_OK;
}

/* ---- comparison ---- */

const char *fp_signal_name(int sig)
{
    static const char *const names[FP_NSIG] = {"embedding_gram", "lm_head_gram", "layer_profile", "row_norm_quantiles",
                                               "norm_sketches"};
    return sig >= 0 && sig < FP_NSIG ? names[sig] : "?";
}

typedef struct pearson { double sx, sy, sxx, syy, sxy; size_t n; } pearson;
static void pearson_add(pearson *p, double x, double y)
{
    p->sx += x; p->sy += y; p->sxx += x * x; p->syy += y * y; p->sxy += x * y; p->n++;
}
static double pearson_r(const pearson *p)
{
    if (p->n < 3) return NAN;
    double n = (double)p->n, vx = p->sxx - p->sx * p->sx / n, vy = p->syy - p->sy * p->sy / n;
    if (!(vx > 0) || !(vy > 0)) return NAN;
    return (p->sxy - p->sx * p->sy / n) / sqrt(vx * vy);
}

static double gram_corr(const fingerprint *a, const fingerprint *b, const int16_t *ga, const int16_t *gb, int *npairs)
{
    size_t ia[FP_ANCHORS], ib[FP_ANCHORS], m = 0;
    for (size_t i = 0, j = 0; i < a->n_anchors && j < b->n_anchors;) {
        if (a->anchor_hash[i] == b->anchor_hash[j]) { ia[m] = i++; ib[m++] = j++; }
        else if (a->anchor_hash[i] < b->anchor_hash[j]) i++;
        else j++;
    }
    *npairs = 0;
    if (m < 12) return NAN;
    pearson p = {0};
    for (size_t i = 0; i < m; i++)
        for (size_t j = i + 1; j < m; j++)
            pearson_add(&p, ga[fp_gram_index(a->n_anchors, ia[i], ia[j])], gb[fp_gram_index(b->n_anchors, ib[i], ib[j])]);
    *npairs = (int)p.n;
    return pearson_r(&p);
}

/* Layer l of a to a layer of b by relative depth (depth-changing derivations keep the profile's shape). */
static uint32_t map_layer(uint32_t l, uint32_t la, uint32_t lb)
{
    if (la == lb || la < 2) return l < lb ? l : lb - 1;
    return (uint32_t)lround((double)l * (lb - 1) / (la - 1));
}

void fp_compare(const fingerprint *a, const fingerprint *b, fp_similarity *out)
{
    for (int s = 0; s < FP_NSIG; s++) { out->sig[s] = NAN; out->n[s] = 0; }
    if (a->has_embed_gram && b->has_embed_gram)
        out->sig[FP_SIG_EMBED] = gram_corr(a, b, a->embed_gram, b->embed_gram, &out->n[FP_SIG_EMBED]);
    if (a->has_head_gram && b->has_head_gram)
        out->sig[FP_SIG_HEAD] = gram_corr(a, b, a->head_gram, b->head_gram, &out->n[FP_SIG_HEAD]);
    if (a->n_layers && b->n_layers) {
        pearson prof = {0}, rq = {0};
        double norm_sum = 0;
        int norm_n = 0;
        for (uint32_t l = 0; l < a->n_layers; l++) {
            const fp_layer *x = &a->layer[l], *y = &b->layer[map_layer(l, a->n_layers, b->n_layers)];
            for (int r = 0; r < FP_ROLES; r++) {
                if (!(x->std[r] > 0) || !(y->std[r] > 0)) continue;
                pearson_add(&prof, log(x->std[r]), log(y->std[r]));
                for (int q = 0; q < FP_QUANTILES; q++)
                    if (r < 7 && isfinite(x->quant[r][q]) && isfinite(y->quant[r][q])) pearson_add(&rq, x->quant[r][q], y->quant[r][q]);
            }
            for (int k = 0; k < 2; k++) {
                long dot = 0, nx = 0, ny = 0;
                for (int q = 0; q < FP_NORM_PROJ; q++) {
                    dot += (long)x->norm_proj[k][q] * y->norm_proj[k][q];
                    nx += (long)x->norm_proj[k][q] * x->norm_proj[k][q];
                    ny += (long)y->norm_proj[k][q] * y->norm_proj[k][q];
                }
                if (nx && ny) { norm_sum += (double)dot / sqrt((double)nx * (double)ny); norm_n++; }
            }
        }
        out->sig[FP_SIG_PROFILE] = pearson_r(&prof);
        out->n[FP_SIG_PROFILE] = (int)prof.n;
        out->sig[FP_SIG_ROWNORM] = pearson_r(&rq);
        out->n[FP_SIG_ROWNORM] = (int)rq.n;
        if (norm_n) { out->sig[FP_SIG_NORMS] = norm_sum / norm_n; out->n[FP_SIG_NORMS] = norm_n; }
    }
    int tok = a->n_tokens && b->n_tokens;
    out->tok_jaccard = tok ? minhash_jaccard(a->tok_minhash, b->tok_minhash) : NAN;
    out->tok_order = tok ? minhash_jaccard(a->order_minhash, b->order_minhash) : NAN;
    out->tok_merges = tok && a->n_merges && b->n_merges ? minhash_jaccard(a->merge_minhash, b->merge_minhash) : NAN;
    if (tok && (a->nspecials || b->nspecials)) {
        uint32_t inter = 0;
        for (uint32_t i = 0, j = 0; i < a->nspecials && j < b->nspecials;) {
            if (a->specials[i] == b->specials[j]) { inter++; i++; j++; }
            else if (a->specials[i] < b->specials[j]) i++;
            else j++;
        }
        out->tok_specials = (double)inter / (double)(a->nspecials + b->nspecials - inter);
    } else out->tok_specials = NAN;
    out->arch_same = !strcmp(a->model_type, b->model_type) && a->hidden == b->hidden && a->layers == b->layers &&
                     a->ffn == b->ffn && a->vocab == b->vocab && a->experts == b->experts;
}
