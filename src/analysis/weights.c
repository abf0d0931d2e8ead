/* The "weights" section of lineage.report/1: matched tensor pairs with statistics, controls per role,
 * the layer map, alignments for shape- and order-changing derivations, and an evidence summary. */
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "analysis/weights.h"
#include "io/dynlib.h"
#include "util/error.h"

/* libcrypto is loaded when --sha256 asks for it (io/dynlib.h) */
#define CRYPTO_FUNCTIONS(X, T) \
    X(T, EVP_MD_CTX_new) \
    X(T, EVP_MD_CTX_free) \
    X(T, EVP_sha256) \
    X(T, EVP_DigestInit_ex) \
    X(T, EVP_DigestUpdate) \
    X(T, EVP_DigestFinal_ex)
DYNLIB_DEFINE(libcrypto, CRYPTO_FUNCTIONS, "libcrypto (SHA-256)", "libcrypto.so.3", "libcrypto.so");

#define WT_MAX_LISTED 256

static int set_num(arena *ar, json_value *o, const char *k, double v)
{
    return isfinite(v) ? json_set_double(ar, o, k, v) : json_set(ar, o, k, json_new_null(ar));
}

static int set_index(arena *ar, json_value *o, const char *k, long v)
{
    return v >= 0 ? json_set_int(ar, o, k, v) : json_set(ar, o, k, json_new_null(ar));
}

static const char *role_label(arena *ar, lineage_component comp, const char *role)
{
    if (comp == LINEAGE_COMPONENT_TEXT) return role;
    const char *cn = lineage_component_name(comp);
    size_t n = strlen(cn) + strlen(role) + 2;
    char *s = arena_alloc(ar, n);
    if (s) snprintf(s, n, "%s.%s", cn, role);
    return s ? s : role;
}

lineage_status wt_add_pair(wt_ctx *c, size_t ia, size_t ib, const char *align, const wt_pair_stats *pre,
                           double null_sd, wt_rec **out)
{
    const lineage_tensor_info *ta = lineage_model_tensor(c->a, ia), *tb = lineage_model_tensor(c->b, ib);
    if (c->nrecs == c->caprecs) {
        size_t cap = c->caprecs ? 2 * c->caprecs : 64;
        wt_rec *r = realloc(c->recs, cap * sizeof *r);
        if (!r) return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
        c->recs = r;
        c->caprecs = cap;
    }
    wt_rec *r = &c->recs[c->nrecs];
    memset(r, 0, sizeof *r);
    r->ia = ia;
    r->ib = ib;
    r->role = tb->role;
    r->layer_a = ta->layer;
    r->layer_b = tb->layer;
    r->expert_a = ta->expert;
    r->expert_b = tb->expert;
    r->align = align;
    r->low_info = wt_low_information(ta) || wt_low_information(tb);
    r->same_dtype = ta->dtype == tb->dtype;
    r->null_sd = null_sd;
    /* the entry takes its place in "pairs" now; its members are written when the statistics are known */
    r->json = json_new_object(c->ar);
    if (!r->json || !json_push(c->ar, c->pairs, r->json)) return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    c->nrecs++;
    if (out) *out = r;
    if (pre) {
        r->s = *pre;
        return wt_finish_pair(c, r);
    }
    r->pending = 1;
    return c->defer ? LINEAGE_OK : wt_flush(c);
}

static void hex(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* SHA-256 of a tensor's bytes, read in order (with the xxh3 digest of the same read). */
static void sha_sink(void *user, const void *bytes, size_t n) { libcrypto.EVP_DigestUpdate(user, bytes, n); }

static lineage_status tensor_digests(const lineage_model *m, size_t idx, wt_digest *d, char *sha, lineage_error *err)
{
    if (!sha) {
        if (d->have) return LINEAGE_OK;
        lineage_status st = stream_tensor_digest(m, idx, d->xxh, NULL, NULL, err);
        d->have = !st;
        return st;
    }
    lineage_status ld = dynlib_load(&libcrypto_lib, m->path, err);
    if (ld) return ld;
    EVP_MD_CTX *ctx = libcrypto.EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!ctx || !libcrypto.EVP_DigestInit_ex(ctx, libcrypto.EVP_sha256(), NULL)) {
        libcrypto.EVP_MD_CTX_free(ctx);
        return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: SHA-256 unavailable", m->path);
    }
    lineage_status st = stream_tensor_digest(m, idx, d->xxh, sha_sink, ctx, err);
    if (!st && (!libcrypto.EVP_DigestFinal_ex(ctx, md, &len) || len != 32))
        st = error_set(err, LINEAGE_E_UNSUPPORTED, "%s: SHA-256 failed", m->path);
    libcrypto.EVP_MD_CTX_free(ctx);
    if (st) return st;
    d->have = 1;
    hex(md, 32, sha);
    return LINEAGE_OK;
}

static uint64_t count_non_finite(const float *x, size_t n)
{
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++) k += !isfinite(x[i]);
    return k;
}

#define WT_FINITE_MAX_ELEMS (1u << 24)

/* A pair whose statistics came out non-finite: count the NaN/Inf values of each side and recompute on
 * the positions finite on both (whole tensors up to WT_FINITE_MAX_ELEMS, else the seeded sample). Pairs
 * not index-aligned are set aside. Returns the null SD to use (analytic, on the finite count). */
static lineage_status finite_only(wt_ctx *c, wt_rec *r, double *null_sd)
{
    const lineage_tensor_info *ta = lineage_model_tensor(c->a, r->ia), *tb = lineage_model_tensor(c->b, r->ib);
    int whole = ta->numel <= WT_FINITE_MAX_ELEMS && tb->numel <= WT_FINITE_MAX_ELEMS;
    wt_matrix A = {0}, B = {0};
    lineage_status st = whole ? wt_load_all(c->a, r->ia, &A, c->err) : wt_load_sample(c->a, r->ia, WT_SAMPLE_ELEMS, &A, c->err);
    if (!st) st = whole ? wt_load_all(c->b, r->ib, &B, c->err) : wt_load_sample(c->b, r->ib, WT_SAMPLE_ELEMS, &B, c->err);
    if (!st) {
        size_t na = A.rows * A.cols, nb = B.rows * B.cols;
        r->non_finite_a = count_non_finite(A.data, na);
        r->non_finite_b = count_non_finite(B.data, nb);
        pair_moments m;
        pair_moments_init(&m);
        if (!strcmp(r->align, "none") && na == nb) {
            size_t k = 0;
            for (size_t i = 0; i < na; i++)
                if (isfinite(A.data[i]) && isfinite(B.data[i])) { A.data[k] = A.data[i]; B.data[k] = B.data[i]; k++; }
            pair_moments_f32(A.data, B.data, k, &m);
        }
        int sampled = r->s.sampled || !whole;
        memset(&r->s, 0, sizeof r->s);
        wt_stats_from_moments(&m, &r->s);
        r->s.sampled = sampled;
        r->s.ci_lo = r->s.ci_hi = NAN;
        if (!(m.n > 3 && isfinite(r->s.centered))) r->low_info = 1;   /* nothing left to compare */
        *null_sd = m.n > 3 ? 1 / sqrt((double)m.n) : NAN;
        c->ev.non_finite_tensors += (r->non_finite_a > 0) + (r->non_finite_b > 0);
        c->ev.non_finite_values += r->non_finite_a + r->non_finite_b;
    }
    wt_matrix_free(&A);
    wt_matrix_free(&B);
    return st;
}

/* Constant, all-zero or near-constant sides carry no lineage information (a spread below 1e-6 of the
 * values' scale), whatever tensor role they have. */
static int degenerate_side(double sum, double sum_sq, uint64_t n)
{
    if (n < 2) return 1;
    double mean = sum / (double)n, var = sum_sq / (double)n - mean * mean;
    return !(var > 1e-12 * (mean * mean) && var > 1e-30);
}

lineage_status wt_finish_pair(wt_ctx *c, wt_rec *r)
{
    const lineage_tensor_info *ta = lineage_model_tensor(c->a, r->ia), *tb = lineage_model_tensor(c->b, r->ib);
    lineage_status st = LINEAGE_OK;
    double null_sd = r->null_sd;
    if (!isfinite(r->s.centered) || !isfinite(r->s.rel_l2) || !isfinite(r->s.cosine)) {
        st = finite_only(c, r, &null_sd);
        if (st) return st;
    }
    if (r->s.n >= 2 && (degenerate_side(r->s.m.sum_a, r->s.m.sum_aa, r->s.n) ||
                        degenerate_side(r->s.m.sum_b, r->s.m.sum_bb, r->s.n)) && !r->s.value_identical) {
        r->degenerate = 1;
        if (!r->low_info) c->ev.degenerate_tensors++;
        r->low_info = 1;
    }
    if (!(null_sd > 0) && r->low_info && (r->non_finite_a || r->non_finite_b)) null_sd = 1;
    if (!(null_sd > 0)) {
        wt_matrix A = {0}, B = {0};
        st = wt_load_sample(c->a, r->ia, WT_SAMPLE_ELEMS, &A, c->err);
        if (!st) st = wt_load_sample(c->b, r->ib, WT_SAMPLE_ELEMS, &B, c->err);
        if (!st) null_sd = wt_null_sd(&A, &B);
        wt_matrix_free(&A);
        wt_matrix_free(&B);
        if (st) return st;
    }
    r->null_sd = null_sd;
    r->z = r->s.centered / null_sd;
    /* digests need every byte: a sampled run reads only some, so it reports none */
    int full = !(c->opt->sample < 1);
    char xa[33] = "", xb[33] = "", sa[65] = "", sb[65] = "";
    char *want_sha_a = full && c->opt->sha256 ? sa : NULL, *want_sha_b = full && c->opt->sha256 ? sb : NULL;
    if (full) {
        st = tensor_digests(c->a, r->ia, &c->dig_a[r->ia], want_sha_a, c->err);
        if (!st) st = tensor_digests(c->b, r->ib, &c->dig_b[r->ib], want_sha_b, c->err);
        if (st) return st;
        hex(c->dig_a[r->ia].xxh, 16, xa);
        hex(c->dig_b[r->ib].xxh, 16, xb);
        r->bytes_identical = r->same_dtype && ta->nbytes == tb->nbytes && !strcmp(xa, xb);
    } else r->bytes_identical = -1;
    arena *ar = c->ar;
    json_value *o = r->json;
    json_value *bytes = r->bytes_identical < 0 ? json_new_null(ar) : json_new_bool(ar, r->bytes_identical);
    int ok = o && json_set_str(ar, o, "a", ta->name) && json_set_str(ar, o, "b", tb->name) &&
             json_set_str(ar, o, "role", role_label(ar, tb->component, tb->role)) &&
             set_index(ar, o, "layer_a", ta->layer) && set_index(ar, o, "layer_b", tb->layer) &&
             set_index(ar, o, "expert_a", ta->expert) && set_index(ar, o, "expert_b", tb->expert) &&
             set_num(ar, o, "cosine", r->s.cosine) && set_num(ar, o, "centered", r->s.centered) &&
             set_num(ar, o, "rel_l2", r->s.rel_l2) && set_num(ar, o, "max_abs_diff", r->s.max_abs_diff) &&
             set_num(ar, o, "equal_fraction", r->s.equal_fraction) &&
             json_set_bool(ar, o, "identical", r->s.value_identical) && json_set(ar, o, "bytes_identical", bytes) &&
             json_set(ar, o, "xxh3_a", full ? json_new_string(ar, xa) : json_new_null(ar)) &&
             json_set(ar, o, "xxh3_b", full ? json_new_string(ar, xb) : json_new_null(ar)) &&
             json_set_str(ar, o, "aligned", r->align) && json_set_bool(ar, o, "low_information", r->low_info) &&
             set_num(ar, o, "z", r->z) && set_num(ar, o, "null_sd", null_sd) &&
             set_num(ar, o, "scale_ratio", r->s.scale_ratio) && json_set_int(ar, o, "n", (int64_t)r->s.n) &&
             json_set_str(ar, o, "dtype_a", lineage_dtype_name(ta->dtype)) &&
             json_set_str(ar, o, "dtype_b", lineage_dtype_name(tb->dtype));
    if (ok && want_sha_a) ok = json_set_str(ar, o, "sha256_a", sa) && json_set_str(ar, o, "sha256_b", sb);
    if (ok && (r->non_finite_a || r->non_finite_b))
        ok = json_set_int(ar, o, "non_finite_a", (int64_t)r->non_finite_a) &&
             json_set_int(ar, o, "non_finite_b", (int64_t)r->non_finite_b);
    if (ok && r->degenerate) ok = json_set_bool(ar, o, "constant", 1);
    if (ok && r->s.sampled) {
        json_value *ci = json_new_array(ar);
        ok = ci && json_push(ar, ci, json_new_double(ar, r->s.ci_lo)) &&
             json_push(ar, ci, json_new_double(ar, r->s.ci_hi)) && json_set(ar, o, "ci95", ci);
    }
    r->pending = 0;
    return ok ? LINEAGE_OK : error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
}

/* ---- controls and the layer map ---- */

static json_value *control_json(arena *ar, const wt_role_control *k)
{
    json_value *o = json_new_object(ar);
    int ok = o && json_set_bool(ar, o, "low_information", k->s->low_info) && json_set_int(ar, o, "a_layers", k->la) &&
             json_set_int(ar, o, "b_layers", k->lb) && json_set_int(ar, o, "n", (int64_t)k->n) &&
             set_num(ar, o, "diagonal_mean", k->diag_mean) && set_num(ar, o, "off_diagonal_mean", k->off_mean) &&
             set_num(ar, o, "off_diagonal_sd", k->off_sd) && set_num(ar, o, "within_model_mean", k->within_mean) &&
             set_num(ar, o, "within_model_sd", k->within_sd) && set_num(ar, o, "null_sd", k->null_sd) &&
             set_num(ar, o, "null_sd_analytic", k->analytic_sd) && set_num(ar, o, "null_sd_shuffle", k->shuffle_sd) &&
             set_num(ar, o, "z", k->diag_z_mean) && set_num(ar, o, "z_diagonal_vs_off", k->z_diag_vs_off) &&
             set_num(ar, o, "p", k->p_assignment) && json_set_bool(ar, o, "p_exact", k->p_exact);
    json_value *m = json_new_array(ar);
    for (int i = 0; ok && m && i < k->la; i++) {
        json_value *row = json_new_array(ar);
        for (int j = 0; row && j < k->lb; j++) {
            double v = k->r[i * k->lb + j];
            ok = ok && json_push(ar, row, isnan(v) ? json_new_null(ar) : json_new_double(ar, v));
        }
        ok = ok && json_push(ar, m, row);
    }
    return ok && json_set(ar, o, "matrix", m) ? o : NULL;
}

/* Stouffer-combined z of the high-information roles (all roles when none is high-information). */
static double *combined_z(const wt_role_control *ks, size_t nk, int la, int lb, int within_b)
{
    int any_high = 0;
    for (size_t r = 0; r < nk; r++) any_high |= !ks[r].s->low_info;
    int lx = within_b ? lb : la;
    double *sum = calloc((size_t)lx * lb + 1, sizeof *sum);
    int *cnt = calloc((size_t)lx * lb + 1, sizeof *cnt);
    if (!sum || !cnt) { free(sum); free(cnt); return NULL; }
    for (size_t r = 0; r < nk; r++) {
        const wt_role_control *k = &ks[r];
        if (any_high && k->s->low_info) continue;
        for (int i = 0; i < lx && i < (within_b ? k->lb : k->la); i++)
            for (int j = 0; j < lb && j < k->lb; j++) {
                double v = within_b ? k->within_b[i * k->lb + j] / k->null_sd : k->z[i * k->lb + j];
                if (isnan(v)) continue;
                sum[i * lb + j] += v;
                cnt[i * lb + j]++;
            }
    }
    for (int i = 0; i < lx * lb; i++) sum[i] = cnt[i] ? sum[i] / sqrt((double)cnt[i]) : NAN;
    free(cnt);
    return sum;
}

static lineage_status build_layer_map(wt_ctx *c, const wt_role_control *ks, size_t nk, json_value *root)
{
    arena *ar = c->ar;
    int la = c->layout.layers_a[LINEAGE_COMPONENT_TEXT], lb = c->layout.layers_b[LINEAGE_COMPONENT_TEXT];
    size_t ntext = 0;
    for (size_t r = 0; r < nk; r++) ntext += ks[r].s->comp == LINEAGE_COMPONENT_TEXT;
    if (!la || !lb || !ntext) return json_set(ar, root, "layer_map", json_new_null(ar)) ? LINEAGE_OK
                                   : error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    wt_role_control *tk = malloc(ntext * sizeof *tk);
    if (!tk) return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    size_t t = 0;
    for (size_t r = 0; r < nk; r++) if (ks[r].s->comp == LINEAGE_COMPONENT_TEXT) tk[t++] = ks[r];
    double *z = combined_z(tk, ntext, la, lb, 0), *zb = combined_z(tk, ntext, lb, lb, 1);
    free(tk);
    wt_layer_map lm;
    double thr = wt_layer_map_threshold(la, lb, 0.001);
    if (!z || !zb || !wt_layer_map_solve(z, la, lb, thr, &lm)) {
        free(z);
        free(zb);
        return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    }
    json_value *o = json_new_object(ar), *map = json_new_array(ar), *unb = json_new_array(ar),
               *una = json_new_array(ar), *dup = json_new_array(ar);
    int ok = o && map && unb && una && dup && json_set_int(ar, o, "a_layers", la) && json_set_int(ar, o, "b_layers", lb) &&
             set_num(ar, o, "threshold", thr);
    int repeats = 0, *used = calloc((size_t)la, sizeof *used);
    for (int j = 0; ok && used && j < lb; j++) {
        json_value *e = json_new_object(ar);
        ok = e && json_set_int(ar, e, "b", j) && set_index(ar, e, "a", lm.map[j]) && set_num(ar, e, "z", lm.score[j]) &&
             set_num(ar, e, "margin", lm.margin[j]) && json_push(ar, map, e);
        if (lm.map[j] >= 0) { if (used[lm.map[j]]++) repeats++; }
        else ok = ok && json_push(ar, unb, json_new_int(ar, j));
    }
    int skipped = 0;
    for (int i = 0; ok && used && i < la; i++)
        if (!used[i]) { skipped++; ok = json_push(ar, una, json_new_int(ar, i)); }
    /* within-B duplicates: layers of B far more alike than the null (depth up-scaling signature) */
    for (int i = 0; ok && i < lb; i++)
        for (int j = i + 1; ok && j < lb; j++)
            if (zb[i * lb + j] > thr) {
                json_value *p = json_new_array(ar);
                ok = p && json_push(ar, p, json_new_int(ar, i)) && json_push(ar, p, json_new_int(ar, j)) &&
                     json_push(ar, dup, p);
            }
    int *ident = malloc((size_t)lb * sizeof *ident);
    int exact = 0;
    double p_map = 1;
    if (ident && lm.matched) p_map = wt_assignment_p(z, la, lb, lm.map, &exact);
    free(ident);
    c->ev.map_la = la;
    c->ev.map_lb = lb;
    c->ev.map_matched = lm.matched;
    c->ev.map_identity = lm.identity;
    c->ev.map_seams = lm.seams;
    c->ev.map_repeats = repeats;
    c->ev.map_skipped = lm.matched ? skipped : 0;
    c->ev.map_unmatched = lb - lm.matched;
    c->ev.map_significant = lm.matched > 0;
    int a_rep = la > lb ? wt_layer_map_reverse_repeats(z, la, lb, thr) : 0;
    if (a_rep < 0) ok = 0;
    c->ev.map_a_repeats = a_rep > 0 ? a_rep : 0;
    ok = ok && json_set(ar, o, "map", map) && json_set_bool(ar, o, "identity", lm.identity) &&
         json_set_int(ar, o, "matched", lm.matched) && json_set_int(ar, o, "seams", lm.seams) &&
         json_set_int(ar, o, "repeats", repeats) && json_set(ar, o, "unmatched_b", unb) &&
         json_set(ar, o, "unused_a", una) && json_set(ar, o, "duplicate_layers_b", dup) &&
         set_num(ar, o, "p", p_map) && json_set_bool(ar, o, "p_exact", exact) && json_set(ar, root, "layer_map", o);
    if (ok && lm.matched) {
        c->layer_map = malloc((size_t)lb * sizeof *c->layer_map);
        if (c->layer_map) { memcpy(c->layer_map, lm.map, (size_t)lb * sizeof *lm.map); c->layer_map_n = lb; }
        ok = c->layer_map != NULL;
    }
    free(used);
    free(z);
    free(zb);
    wt_layer_map_free(&lm);
    return ok ? LINEAGE_OK : error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
}

/* ---- pairing ---- */

static int shapes_equal(const lineage_tensor_info *x, const lineage_tensor_info *y)
{
    return x->rows == y->rows && x->cols == y->cols;
}

static lineage_status pair_series(wt_ctx *c, const wt_role_control *ks, size_t nk, unsigned char *used_a,
                                  unsigned char *used_b)
{
    lineage_status st = LINEAGE_OK;
    for (size_t r = 0; !st && r < nk; r++) {
        const wt_series *s = ks[r].s;
        for (int j = 0; !st && j < s->lb; j++) {
            if (s->ib[j] < 0) continue;
            int i = j < s->la ? j : -1;
            if (s->comp == LINEAGE_COMPONENT_TEXT && c->layer_map && j < c->layer_map_n && c->layer_map[j] >= 0)
                i = c->layer_map[j];
            if (i < 0 || i >= s->la || s->ia[i] < 0) continue;
            size_t ia = (size_t)s->ia[i], ib = (size_t)s->ib[j];
            const lineage_tensor_info *ta = lineage_model_tensor(c->a, ia), *tb = lineage_model_tensor(c->b, ib);
            used_a[ia] = used_b[ib] = 1;
            if (shapes_equal(ta, tb)) {
                st = wt_add_pair(c, ia, ib, "none", NULL, ks[r].null_sd, NULL);
            } else st = wt_stage_width(c, ia, ib, j);
        }
    }
    return st;
}

static int is_vocab_role(const char *role) { return !strcmp(role, "embed") || !strcmp(role, "lm_head"); }

static lineage_status pair_by_key(wt_ctx *c, unsigned char *used_a, unsigned char *used_b)
{
    size_t na = lineage_model_tensor_count(c->a), nb = lineage_model_tensor_count(c->b);
    char **keys = calloc(na + 1, sizeof *keys);
    if (!keys) return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    lineage_status st = LINEAGE_OK;
    char buf[512];
    for (size_t i = 0; i < na && !st; i++) {
        keys[i] = strdup(wt_tensor_key(lineage_model_tensor(c->a, i), buf, sizeof buf));
        if (!keys[i]) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    }
    for (size_t j = 0; !st && j < nb; j++) {
        const lineage_tensor_info *tb = lineage_model_tensor(c->b, j);
        if (used_b[j] || tb->expert >= 0 || !strcmp(tb->role, "quant_scale")) continue;
        const char *k = wt_tensor_key(tb, buf, sizeof buf);
        for (size_t i = 0; i < na; i++) {
            if (used_a[i] || strcmp(keys[i], k)) continue;
            const lineage_tensor_info *ta = lineage_model_tensor(c->a, i);
            used_a[i] = used_b[j] = 1;
            if (shapes_equal(ta, tb)) st = wt_add_pair(c, i, j, "none", NULL, 0, NULL);
            else if (!is_vocab_role(tb->role)) st = wt_stage_width(c, i, j, tb->layer);
            else used_a[i] = used_b[j] = 2;   /* the vocabulary stage pairs them over shared tokens */
            break;
        }
    }
    for (size_t i = 0; i < na; i++) free(keys[i]);
    free(keys);
    return st;
}

static json_value *unmatched_json(arena *ar, const lineage_model *m, const unsigned char *used, int with_experts)
{
    json_value *arr = json_new_array(ar);
    size_t listed = 0;
    for (size_t i = 0; arr && i < lineage_model_tensor_count(m); i++) {
        const lineage_tensor_info *t = lineage_model_tensor(m, i);
        if (used[i] || (with_experts && t->expert >= 0) || !strcmp(t->role, "quant_scale")) continue;
        if (listed++ < WT_MAX_LISTED && !json_push(ar, arr, json_new_string(ar, t->name))) return NULL;
    }
    return arr;
}

/* Fraction of high-information index-aligned same-shape pairs above 5 null SDs. */
static double aligned_signal_fraction(const wt_ctx *c, size_t *n)
{
    size_t k = 0, hit = 0;
    for (size_t i = 0; i < c->nrecs; i++) {
        const wt_rec *r = &c->recs[i];
        if (r->low_info || strcmp(r->align, "none")) continue;
        k++;
        hit += r->z > 5;
    }
    *n = k;
    return k ? (double)hit / (double)k : 0;
}

int wt_threads(const lineage_compare_options *opt)
{
    long n = opt && opt->threads > 0 ? opt->threads : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

lineage_status weights_compare_section(const lineage_model *a, const lineage_model *b,
                                       const lineage_compare_options *opt, arena *ar, json_value **out,
                                       lineage_error *err)
{
    *out = NULL;
    lineage_compare_options def = {.sample = 1.0};
    if (!opt) opt = &def;
    if (!(opt->sample > 0 && opt->sample <= 1))
        return error_set(err, LINEAGE_E_USAGE, "--sample must be in (0, 1], got %g", opt->sample);
    wt_ctx c;
    memset(&c, 0, sizeof c);
    c.a = a;
    c.b = b;
    c.opt = opt;
    c.ar = ar;
    c.err = err;
    json_value *root = json_new_object(ar), *controls = json_new_object(ar);
    c.pairs = json_new_array(ar);
    c.alignment = json_new_object(ar);
    if (!root || !controls || !c.pairs || !c.alignment) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t na = lineage_model_tensor_count(a), nb = lineage_model_tensor_count(b);
    if (!na || !nb) {
        /* architecture-only folders: nothing to compare, said plainly */
        int ok = json_set_str(ar, root, "status", "no_weights") && json_set(ar, root, "pairs", c.pairs) &&
                 json_set_int(ar, root, "a_tensors", (int64_t)na) && json_set_int(ar, root, "b_tensors", (int64_t)nb);
        *out = root;
        return ok ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    lineage_status st = wt_layout_build(a, b, &c.layout, err);
    wt_role_control *ks = st ? NULL : calloc(c.layout.nseries + 1, sizeof *ks);
    unsigned char *used_a = calloc(na, 1), *used_b = calloc(nb, 1);
    c.dig_a = calloc(na, sizeof *c.dig_a);
    c.dig_b = calloc(nb, sizeof *c.dig_b);
    if (!st && (!ks || !used_a || !used_b || !c.dig_a || !c.dig_b)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    /* remote models: every sample the controls and alignments read, in one batch per model */
    if (!st) st = wt_prefetch_samples(a, err);
    if (!st) st = wt_prefetch_samples(b, err);
    size_t nk = 0;
    if (!st) st = wt_controls_build_all(a, b, &c.layout, wt_threads(opt), ks, err);
    for (size_t i = 0; !st && i < c.layout.nseries; i++) {
        json_value *cj = control_json(ar, &ks[nk]);
        if (!cj || !json_set(ar, controls, role_label(ar, c.layout.series[i].comp, c.layout.series[i].role), cj))
            st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        nk++;
    }
    if (!st) st = build_layer_map(&c, ks, nk, root);
    /* the index-aligned pairs are queued and streamed together: one pass over both checkpoints */
    c.defer = 1;
    if (!st) st = pair_series(&c, ks, nk, used_a, used_b);
    if (!st) st = pair_by_key(&c, used_a, used_b);
    c.defer = 0;
    if (!st) st = wt_flush(&c);
    if (!st) st = wt_stage_vocab(&c);
    size_t naligned = 0;
    double frac = st ? 0 : aligned_signal_fraction(&c, &naligned);
    if (!st && frac < 0.5 && naligned) st = wt_stage_permutation(&c);
    if (!st) st = wt_stage_moe(&c);
    if (!st) st = wt_stage_rescale(&c);
    json_value *summary = st ? NULL : wt_summary(&c);
    if (!st && summary) st = wt_stage_spectrum(&c, summary);
    if (!st) {
        for (size_t i = 0; i < c.nrecs; i++) {
            used_a[c.recs[i].ia] = 1;
            used_b[c.recs[i].ib] = 1;
        }
        json_value *ua = unmatched_json(ar, a, used_a, 0), *ub = unmatched_json(ar, b, used_b, 0);
        if (!summary || !ua || !ub || !set_num(ar, root, "sample", opt->sample) ||
            !json_set_str(ar, root, "kernels", kernels_isa()) || !json_set(ar, root, "pairs", c.pairs) ||
            !json_set(ar, root, "controls", controls) || !json_set(ar, root, "alignment", c.alignment) ||
            !json_set(ar, root, "unmatched_a", ua) || !json_set(ar, root, "unmatched_b", ub) ||
            !json_set(ar, root, "summary", summary))
            st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; ks && i < c.layout.nseries; i++) wt_control_free(&ks[i]);
    free(ks);
    free(used_a);
    free(used_b);
    free(c.recs);
    free(c.dig_a);
    free(c.dig_b);
    free(c.layer_map);
    free(c.perm_hidden);
    free(c.ev.rescale_rho);
    wt_vocab_free(&c.vocab);
    wt_layout_free(&c.layout);
    if (st) return st;
    *out = root;
    return LINEAGE_OK;
}
