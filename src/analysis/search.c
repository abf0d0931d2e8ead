/* The fingerprint index (lineage_index_*) and search (lineage.search/1): candidates retrieved by LSH
 * keys, scored exactly in C, and calibrated against the query's similarities to a random sample of the
 * index (most entries are unrelated to any one query; robust median/MAD shrug off the few that are). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "analysis/fingerprint.h"
#include "format/model.h"
#include "io/index_store.h"
#include "util/error.h"
#include "util/json.h"

#define NOMEM(err) error_set(err, LINEAGE_E_NOMEM, "out of memory")
#define CANDIDATE_LIMIT 300    /* entries scored exactly, most LSH keys in common first (then the relatives of the best) */
#define KEY_POSTINGS 600       /* entries a retrieval key counts for at most (io/index_store.h: index_candidates) */
#define NULL_SAMPLE 256        /* entries of the index the score is calibrated on */
#define NULL_MIN 10            /* below this the null is not estimated and nothing is significant */
#define ALPHA 0.01             /* family-wise, Bonferroni over the index's entries */
#define EXPAND 3               /* significant candidates whose own keys are looked up too */
#define EXPAND_LIMIT 200
#define KEEP_BLOBS 32          /* candidates (the closest) whose records are kept for expansion and the cluster check */

struct lineage_index {
    index_store *store;
};

lineage_status lineage_index_open(const char *uri, lineage_index **out, lineage_error *err)
{
    *out = NULL;
    lineage_index *ix = calloc(1, sizeof *ix);
    if (!ix) return NOMEM(err);
    lineage_status st = index_store_open(uri, &ix->store, err);
    if (st) {
        free(ix);
        return st;
    }
    *out = ix;
    return LINEAGE_OK;
}

void lineage_index_close(lineage_index *ix)
{
    if (!ix) return;
    index_store_close(ix->store);
    free(ix);
}

lineage_status lineage_index_contains(lineage_index *ix, const char *name, int *has, lineage_error *err)
{
    return ix->store->ops->has(ix->store, name, has, err);
}

lineage_status lineage_index_remove(lineage_index *ix, const char *name, int *removed, lineage_error *err)
{
    return ix->store->ops->remove(ix->store, name, removed, err);
}

lineage_status lineage_index_add(lineage_index *ix, const lineage_model *m, const char *name, const char *source,
                                 int replace, lineage_index_added *info, lineage_error *err)
{
    memset(info, 0, sizeof *info);
    fingerprint fp;
    lineage_status st = fp_build(m, &fp, err);
    if (st) return st;
    unsigned char *blob = NULL;
    size_t len = 0;
    st = fp_serialize(&fp, &blob, &len, err);
    char summary[160];
    snprintf(summary, sizeof summary, "%s d=%d L=%d V=%d%s", fp.model_type[0] ? fp.model_type : "?", fp.hidden, fp.layers,
             fp.vocab, fp.experts > 0 ? " moe" : "");
    for (char *p = summary; *p; p++) if ((unsigned char)*p < 0x20) *p = '?';
    if (!st) {
        uint64_t sample_key = XXH3_64bits_withSeed(name, strlen(name), 0x1d3a);
        st = ix->store->ops->add(ix->store, name, source ? source : name, summary, blob, len, fp.keys, fp.n_keys, sample_key,
                                 replace, &info->added, err);
    }
    info->fingerprint_bytes = len;
    info->bytes_read = fp.bytes_read;
    info->retrieval_keys = fp.n_keys;
    free(blob);
    fp_free(&fp);
    return st;
}

/* ---- listing ---- */

typedef struct list_ctx { arena *ar; json_value *arr; int failed; } list_ctx;
static int list_row(const index_row *r, void *user)
{
    list_ctx *c = user;
    json_value *o = json_new_object(c->ar);
    if (!o || !json_set_str(c->ar, o, "name", r->name) || !json_set_str(c->ar, o, "source", r->source) ||
        !json_set_str(c->ar, o, "summary", r->summary) || !json_set_str(c->ar, o, "added", r->added) || !json_push(c->ar, c->arr, o))
        c->failed = 1;
    return c->failed;
}

lineage_status lineage_index_list(lineage_index *ix, lineage_doc **out, lineage_error *err)
{
    *out = NULL;
    lineage_doc *d = doc_new();
    if (!d) return NOMEM(err);
    arena *ar = &d->arena;
    list_ctx c = {ar, json_new_array(ar), 0};
    lineage_status st = c.arr ? ix->store->ops->list(ix->store, list_row, &c, err) : NOMEM(err);
    if (!st && (c.failed || !json_set_str(ar, d->root, "schema", "lineage.index/1") ||
                !json_set_str(ar, d->root, "index", ix->store->display) || !json_set_str(ar, d->root, "engine", ix->store->engine) ||
                !json_set_int(ar, d->root, "entries", (int64_t)json_count(c.arr)) || !json_set(ar, d->root, "models", c.arr)))
        st = NOMEM(err);
    if (st) {
        lineage_doc_free(d);
        return st;
    }
    *out = d;
    return LINEAGE_OK;
}

/* ---- search ---- */

typedef struct scored {
    char *name, *source, *summary;
    int hits;
    fp_similarity sim;
    double zsig[FP_NSIG];
    double combined, z, p;
    int significant;
    double closeness;   /* mean Fisher z (atanh) of the Gram correlations: the ranking among significant candidates */
    unsigned char *blob;   /* the entry's record, kept for expansion and the cluster-root check */
    size_t blob_len;
    int expanded;          /* found through a relative's keys, not the query's */
} scored;

typedef struct gather {
    const fingerprint *q;
    const char *const *exclude;
    size_t nexclude;
    scored *v;
    size_t n, cap;
    int failed;
    int dedupe;            /* skip names already gathered (expansion rounds) */
    int keep_blobs;
    int expanding;
    int64_t *seen;         /* ids of every row delivered (skipped ones too): not fetched again by expansion */
    size_t nseen, seen_cap;
} gather;

/* mean Fisher z (atanh) of the Gram correlations */
static double closeness_of(const fp_similarity *sim)
{
    double f = 0;
    int nf = 0;
    for (int s = 0; s < FP_NSIG; s++)
        if ((s == FP_SIG_EMBED || s == FP_SIG_HEAD) && isfinite(sim->sig[s])) {
            f += atanh(fmax(-0.99999, fmin(0.99999, sim->sig[s])));
            nf++;
        }
    return nf ? f / nf : NAN;
}

static int gather_row(const index_row *r, void *user)
{
    gather *g = user;
    if (g->nseen == g->seen_cap) {
        size_t cap = g->seen_cap ? g->seen_cap * 2 : 512;
        int64_t *v = realloc(g->seen, cap * sizeof *v);
        if (!v) { g->failed = 1; return 1; }
        g->seen = v;
        g->seen_cap = cap;
    }
    g->seen[g->nseen++] = r->id;
    for (size_t i = 0; i < g->nexclude; i++)
        if (!strcmp(g->exclude[i], r->name)) return 0;
    for (size_t i = 0; g->dedupe && i < g->n; i++)
        if (!strcmp(g->v[i].name, r->name)) return 0;
    fingerprint fp;
    lineage_error e;
    if (!r->blob || fp_parse(r->blob, r->blob_len, &fp, r->name, &e)) return 0;   /* an unreadable entry is skipped */
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        scored *v = realloc(g->v, cap * sizeof *v);
        if (!v) { fp_free(&fp); g->failed = 1; return 1; }
        g->v = v;
        g->cap = cap;
    }
    scored *s = &g->v[g->n];
    memset(s, 0, sizeof *s);
    s->name = strdup(r->name);
    s->source = strdup(r->source);
    s->summary = strdup(r->summary);
    s->hits = r->hits;
    s->expanded = g->expanding;
    fp_compare(g->q, &fp, &s->sim);
    fp_free(&fp);
    s->closeness = closeness_of(&s->sim);
    int keep = 0;
    if (g->keep_blobs && isfinite(s->closeness)) {   /* only the KEEP_BLOBS closest keep their record */
        size_t kept = 0, worst = SIZE_MAX;
        for (size_t i = 0; i < g->n; i++)
            if (g->v[i].blob) {
                kept++;
                if (worst == SIZE_MAX || g->v[i].closeness < g->v[worst].closeness) worst = i;
            }
        if (kept < KEEP_BLOBS) keep = 1;
        else if (s->closeness > g->v[worst].closeness) {
            free(g->v[worst].blob);
            g->v[worst].blob = NULL;
            g->v[worst].blob_len = 0;
            keep = 1;
        }
    }
    if (keep && (s->blob = malloc(r->blob_len)) != NULL) {
        memcpy(s->blob, r->blob, r->blob_len);
        s->blob_len = r->blob_len;
    }
    if (!s->name || !s->source || !s->summary || (keep && !s->blob)) {
        free(s->name); free(s->source); free(s->summary); free(s->blob);
        g->failed = 1;
        return 1;
    }
    g->n++;
    return 0;
}

static void gather_free(gather *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->v[i].name);
        free(g->v[i].source);
        free(g->v[i].summary);
        free(g->v[i].blob);
    }
    free(g->v);
    free(g->seen);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

typedef struct robust { double median, scale; int n; } robust;

/* median and 1.4826 x MAD of the finite values; scale 0 when fewer than NULL_MIN */
static robust robust_of(double *v, size_t n)
{
    robust r = {NAN, 0, 0};
    size_t k = 0;
    for (size_t i = 0; i < n; i++) if (isfinite(v[i])) v[k++] = v[i];
    r.n = (int)k;
    if (k < NULL_MIN) return r;
    qsort(v, k, sizeof *v, cmp_double);
    r.median = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
    for (size_t i = 0; i < k; i++) v[i] = fabs(v[i] - r.median);
    qsort(v, k, sizeof *v, cmp_double);
    double mad = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
    r.scale = 1.4826 * mad;
    return r;
}

/* Similarities live in [-1, 1]: the null scale is floored so a signal that barely varies among
 * unrelated models (every generated model has the same layer profile) cannot turn a rounding
 * difference into a huge z. */
#define SCALE_FLOOR 0.01
/* The combined score is a Stouffer sum of standardized signals: its null scale is 1 when they are
 * independent (more when they are positively correlated). The sample's MAD can come out far below that
 * because an index is clustered (a family of near-copies gives one value many times, so 256 sampled
 * entries may hold a dozen independent values); it is not allowed to shrink the scale below 1, which
 * would inflate every z (a held-out family's chance lm_head correlation of 0.05 became z 7). */
#define COMBINED_FLOOR 1.0

/* The anchor Gram signals compare thousands of token pairs and resolve a parent from its near-copies;
 * the layer statistics and norm sketches are coarse (every model of a generator shares its profile),
 * so they score a pair only when no Gram signal is available (tokenizers with no anchors in common). */
static int primary_signal(int s) { return s == FP_SIG_EMBED || s == FP_SIG_HEAD; }

static void score_all(scored *v, size_t n, const robust *sig_null)
{
    for (size_t i = 0; i < n; i++) {
        double sum = 0, least = INFINITY;
        int k[2] = {0, 0};
        for (int s = 0; s < FP_NSIG; s++) {
            v[i].zsig[s] = NAN;
            if (!isfinite(v[i].sim.sig[s]) || !(sig_null[s].scale > 0)) continue;
            double scale = sig_null[s].scale > SCALE_FLOOR ? sig_null[s].scale : SCALE_FLOOR;
            v[i].zsig[s] = (v[i].sim.sig[s] - sig_null[s].median) / scale;
            if (primary_signal(s)) least = fmin(least, v[i].zsig[s]);
            else sum += v[i].zsig[s];
            k[primary_signal(s)]++;
        }
        /* Gram signals: the weaker of the two (an intersection-union test: a derivative keeps both its
         * embedding rows and its output head related to the parent's, while an unrelated model's chance
         * correlation, which the null's tails underrate, shows in one of them: an unrelated lm_head Gram
         * at r 0.16 had z 16 with the embedding Gram at z -1.5). Without them, the coarse signals summed. */
        v[i].combined = k[1] ? least : k[0] ? sum / sqrt(k[0]) : NAN;
        v[i].closeness = closeness_of(&v[i].sim);
    }
}

/* Upper tail of Student's t with NULL_DF degrees of freedom: the standardized similarities of unrelated
 * models have heavier tails than a normal (held-out searches in docs/ACCURACY.md), so p-values and the
 * threshold use t. Integrated on s = t/u, u in (0, 1] (Simpson). */
#define NULL_DF 10.0
static double t_upper(double t)
{
    if (t == 0) return 0.5;
    if (!(t > 0)) return t == t ? 1 - t_upper(-t) : NAN;
    double c = exp(lgamma((NULL_DF + 1) / 2) - lgamma(NULL_DF / 2)) / sqrt(NULL_DF * M_PI), sum = 0;
    const int n = 400;
    for (int i = 0; i <= n; i++) {
        double u = (double)i / n, f = 0;
        if (u > 0) {
            double s = t / u;
            f = c * pow(1 + s * s / NULL_DF, -(NULL_DF + 1) / 2) * t / (u * u);
        }
        sum += f * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
    }
    return sum / (3.0 * n);
}

/* Significant candidates first, ordered by closeness (z differences among a parent's near-copies are
 * within the noise of the null's scale; the raw Gram correlations, on the Fisher scale, are not); then
 * the rest by z. */
static int cmp_scored(const void *x, const void *y)
{
    const scored *a = x, *b = y;
    int sa = a->significant, sb = b->significant;
    if (sa != sb) return sa ? -1 : 1;
    if (sa && isfinite(a->closeness) && isfinite(b->closeness) && a->closeness != b->closeness)
        return a->closeness > b->closeness ? -1 : 1;
    double za = isfinite(a->z) ? a->z : -1e300, zb = isfinite(b->z) ? b->z : -1e300;
    if (za != zb) return za > zb ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Distance of two fingerprints for the tree reasoning below: the mean over the Gram signals of
 * -ln r. Correlations of signals carrying independent additive perturbations multiply along a path
 * (r(Q,F) = r(Q,B) r(B,F) when Q and F were both derived from B), so -ln r adds up along a tree. */
static double tree_dist(const fp_similarity *s)
{
    double sum = 0;
    int n = 0;
    for (int k = 0; k < FP_NSIG; k++)
        if (primary_signal(k) && isfinite(s->sig[k])) {
            sum += -log(fmax(s->sig[k], 1e-3));
            n++;
        }
    return n ? sum / n : NAN;
}

typedef struct root_check {
    int cluster;          /* near-copies of the first candidate among the significant ones, itself included */
    int promoted;         /* index (before the move) of the root put first, -1 when none */
    double residual;      /* the first candidate's residual under "the query attaches at the root" */
    double residual_z;    /* ... standardized by the other members' residuals (median, MAD) */
    int others;           /* members the residual scale rests on */
} root_check;

/* The first candidate X may be one of several near-copies of a common ancestor (a base and its
 * fine-tunes, re-saves, light derivations) that the query cannot tell apart: when the query is far from
 * all of them (heavy continued pretraining, strong noise), the differences of its similarities to them
 * are noise. Tree reasoning settles it. The cluster is X and the significant candidates closer to X than
 * the query is; its root R is the medoid (least summed distance to the others: the common ancestor of a
 * star of independent derivations is closer to each member than the members are to each other). If the
 * query attaches at R, then for every member Y, d(Q,Y) = d(Q,R) + d(R,Y) up to noise, so the residuals
 * rho_Y = d(Q,Y) - d(R,Y) - d(Q,R) are noise whose scale the members themselves show; if it attaches at
 * X instead, rho_X = -2 d(R,X) while the other residuals stay near 0. R is put first unless rho_X is
 * below the other members' residuals by more than CLUSTER_Z robust standard deviations (median and
 * 1.4826 MAD of rho / sqrt(d(R,Y)), the scale floored at a tenth of sqrt(d(R,X))): the common ancestor
 * is kept unless the data place the query on the branch of one of its descendants. */
#define CLUSTER_TOP 24
#define CLUSTER_MIN 5
#define CLUSTER_Z 3.0
static lineage_status cluster_root(gather *cand, root_check *rc, lineage_error *err)
{
    size_t k = 0;
    while (k < cand->n && k < CLUSTER_TOP && cand->v[k].significant) k++;
    if (k < CLUSTER_MIN) return LINEAGE_OK;
    fingerprint *f = calloc(k, sizeof *f);
    int *ok = calloc(k, sizeof *ok);
    double *dq = malloc(k * sizeof *dq), *dm = malloc(k * k * sizeof *dm), *rho = malloc(k * sizeof *rho);
    size_t *mem = malloc(k * sizeof *mem);
    lineage_status st = LINEAGE_OK;
    if (!f || !ok || !dq || !dm || !rho || !mem) { st = NOMEM(err); goto done; }
    for (size_t i = 0; i < k; i++) {
        lineage_error e2;
        ok[i] = cand->v[i].blob && !fp_parse(cand->v[i].blob, cand->v[i].blob_len, &f[i], cand->v[i].name, &e2);
        dq[i] = tree_dist(&cand->v[i].sim);
    }
    if (!ok[0] || !isfinite(dq[0])) goto done;
    for (size_t i = 0; i < k; i++)
        for (size_t j = i; j < k; j++) {
            double d = 0;
            if (i != j) {
                fp_similarity s;
                if (ok[i] && ok[j]) fp_compare(&f[i], &f[j], &s);
                d = ok[i] && ok[j] ? tree_dist(&s) : NAN;
            }
            dm[i * k + j] = dm[j * k + i] = d;
        }
    size_t nm = 0;
    mem[nm++] = 0;
    for (size_t j = 1; j < k; j++)
        if (isfinite(dq[j]) && isfinite(dm[j]) && dm[j] < dq[0]) mem[nm++] = j;   /* dm[0 * k + j] */
    rc->cluster = (int)nm;
    if (nm < CLUSTER_MIN) goto done;
    size_t r = mem[0];
    double best = INFINITY;
    for (size_t a = 0; a < nm; a++) {
        double sum = 0;
        for (size_t b = 0; b < nm; b++) sum += dm[mem[a] * k + mem[b]];
        if (sum < best - 1e-12) { best = sum; r = mem[a]; }
    }
    if (r == 0) goto done;
    /* the noise of rho_Y grows with the member's own distance from the root (it is the query's deviation
     * projected on the member's), so residuals are compared as rho_Y / sqrt(d(R,Y)); exact copies of the
     * root (d below 1e-5: re-saves, requantizations) carry no information and are left out */
    size_t no = 0;
    for (size_t a = 0; a < nm; a++) {
        size_t y = mem[a];
        double l = dm[r * k + y];
        if (y == r || y == 0 || !(l > 1e-5)) continue;
        rho[no++] = (dq[y] - l - dq[r]) / sqrt(l);
    }
    double lx = dm[r * k + 0];
    if (!(lx > 1e-5)) goto done;   /* X is a copy of R: either is right, keep the order */
    rc->residual = (dq[0] - lx - dq[r]) / sqrt(lx);
    rc->others = (int)no;
    if (no < 3) goto done;
    qsort(rho, no, sizeof *rho, cmp_double);
    double med = no % 2 ? rho[no / 2] : (rho[no / 2 - 1] + rho[no / 2]) / 2;
    for (size_t a = 0; a < no; a++) rho[a] = fabs(rho[a] - med);
    qsort(rho, no, sizeof *rho, cmp_double);
    double scale = 1.4826 * (no % 2 ? rho[no / 2] : (rho[no / 2 - 1] + rho[no / 2]) / 2);
    if (!isfinite(med)) goto done;
    double floor_ = 0.1 * sqrt(lx);
    if (!(scale > floor_)) scale = floor_;
    if (!(scale > 0)) goto done;
    rc->residual_z = (rc->residual - med) / scale;
    if (rc->residual_z > -CLUSTER_Z) {   /* not placed on X's branch: the root goes first */
        scored root = cand->v[r];
        memmove(cand->v + 1, cand->v, r * sizeof *cand->v);
        cand->v[0] = root;
        rc->promoted = (int)r;
    }
done:
    for (size_t i = 0; f && i < k; i++) if (ok[i]) fp_free(&f[i]);
    free(f); free(ok); free(dq); free(dm); free(rho); free(mem);
    return st;
}

static json_value *num(arena *ar, double x, double scale)
{
    return isfinite(x) ? json_new_double(ar, round(x * scale) / scale) : json_new_null(ar);
}

lineage_status lineage_search(lineage_index *ix, const lineage_model *m, const lineage_search_options *opt,
                              lineage_doc **out, lineage_error *err)
{
    *out = NULL;
    int top = opt && opt->top > 0 ? opt->top : 5;
    const char *const *exclude = opt ? opt->exclude : NULL;
    size_t nexclude = opt && opt->exclude ? opt->nexclude : 0;
    fingerprint q;
    lineage_status st = fp_build(m, &q, err);
    if (st) return st;
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    uint64_t entries = 0;
    st = fp_serialize(&q, &blob, &blob_len, err);
    if (!st) st = ix->store->ops->count(ix->store, &entries, err);
    gather cand = {&q, exclude, nexclude, NULL, 0, 0, 0, 0, 1, 0, NULL, 0, 0}, nul = {&q, exclude, nexclude, NULL, 0, 0, 0, 0, 0, 0, NULL, 0, 0};
    index_postings cache = {0};   /* the query's keys' entries, reused by the relatives' searches */
    if (!st) st = index_candidates(ix->store, q.keys, q.n_keys, KEY_POSTINGS, CANDIDATE_LIMIT, NULL, 0, &cache, gather_row, &cand, err);
    /* the sample starts at a point fixed by the query, so a search is reproducible */
    if (!st) st = ix->store->ops->sample(ix->store, XXH3_64bits(blob, blob_len), NULL_SAMPLE, gather_row, &nul, err);
    if (!st && (cand.failed || nul.failed)) st = NOMEM(err);
    free(blob);
    robust sig_null[FP_NSIG], comb_null = {NAN, 0, 0};
    double *tmp = !st ? malloc((nul.n ? nul.n : 1) * sizeof *tmp) : NULL;
    if (!st && !tmp) st = NOMEM(err);
    if (!st) {
        for (int s = 0; s < FP_NSIG; s++) {
            for (size_t i = 0; i < nul.n; i++) tmp[i] = nul.v[i].sim.sig[s];
            sig_null[s] = robust_of(tmp, nul.n);
        }
        score_all(nul.v, nul.n, sig_null);
        score_all(cand.v, cand.n, sig_null);
        for (size_t i = 0; i < nul.n; i++) tmp[i] = nul.v[i].combined;
        comb_null = robust_of(tmp, nul.n);
    }
    free(tmp);
    double zcrit = NAN, n_tests = entries > 0 ? (double)entries : 1;
    int calibrated = !st && comb_null.scale > 0;
    if (calibrated) {
        /* z such that p * entries = ALPHA */
        double target = ALPHA / n_tests, lo = 0, hi = 1000;
        for (int it = 0; it < 100; it++) {
            double mid = (lo + hi) / 2;
            if (mid == lo || mid == hi) break;   /* adjacent doubles: the remaining steps change nothing */
            if (t_upper(mid) > target) lo = mid;
            else hi = mid;
        }
        zcrit = hi;
        for (size_t i = 0; i < cand.n; i++) {
            double scale = comb_null.scale > COMBINED_FLOOR ? comb_null.scale : COMBINED_FLOOR;
            cand.v[i].z = isfinite(cand.v[i].combined) ? (cand.v[i].combined - comb_null.median) / scale : NAN;
        }
    } else
        for (size_t i = 0; i < cand.n; i++) cand.v[i].z = cand.v[i].combined;
    for (size_t i = 0; i < cand.n; i++) cand.v[i].significant = calibrated && isfinite(cand.v[i].z) && cand.v[i].z > zcrit;
    if (!st && cand.n) qsort(cand.v, cand.n, sizeof *cand.v, cmp_scored);
    /* expansion: the relatives of the best significant candidates are candidates too */
    size_t first_round = cand.n;
    if (!st && calibrated) {
        fingerprint rel;
        lineage_error e2;
        size_t nexp = 0;
        cand.dedupe = 1;
        cand.expanding = 1;
        for (size_t i = 0; i < first_round && nexp < EXPAND && !st; i++) {
            if (!cand.v[i].significant) break;
            if (fp_parse(cand.v[i].blob, cand.v[i].blob_len, &rel, cand.v[i].name, &e2)) continue;
            nexp++;
            /* entries gathered already would be skipped by name: their ids are not fetched again */
            st = index_candidates(ix->store, rel.keys, rel.n_keys, KEY_POSTINGS, EXPAND_LIMIT, cand.seen, cand.nseen, &cache, gather_row,
                                  &cand, err);
            fp_free(&rel);
        }
        if (!st && cand.failed) st = NOMEM(err);
        if (!st && cand.n > first_round) {
            score_all(cand.v + first_round, cand.n - first_round, sig_null);
            double scale = comb_null.scale > COMBINED_FLOOR ? comb_null.scale : COMBINED_FLOOR;
            for (size_t i = first_round; i < cand.n; i++) {
                cand.v[i].z = isfinite(cand.v[i].combined) ? (cand.v[i].combined - comb_null.median) / scale : NAN;
                cand.v[i].significant = isfinite(cand.v[i].z) && cand.v[i].z > zcrit;
            }
            qsort(cand.v, cand.n, sizeof *cand.v, cmp_scored);
        }
    }
    root_check rc = {0, -1, NAN, NAN, 0};
    if (!st && cand.n && cand.v[0].significant) st = cluster_root(&cand, &rc, err);

    lineage_doc *d = !st ? doc_new() : NULL;
    if (!st && !d) st = NOMEM(err);
    if (!st) {
        arena *ar = &d->arena;
        json_value *root = d->root, *fpj = json_new_object(ar), *ixj = json_new_object(ar), *nj = json_new_object(ar),
                   *sigs = json_new_object(ar), *list = json_new_array(ar);
        int ok = fpj && ixj && nj && sigs && list;
        ok = ok && json_set_str(ar, root, "schema", "lineage.search/1") && json_set_str(ar, root, "model", m->path);
        ok = ok && json_set_int(ar, fpj, "bytes", (int64_t)blob_len) && json_set_int(ar, fpj, "bytes_read", (int64_t)q.bytes_read) &&
             json_set_int(ar, fpj, "anchors", q.n_anchors) && json_set_int(ar, fpj, "layers", q.n_layers) &&
             json_set_int(ar, fpj, "retrieval_keys", q.n_keys) && json_set(ar, root, "fingerprint", fpj);
        ok = ok && json_set_str(ar, ixj, "index", ix->store->display) && json_set_str(ar, ixj, "engine", ix->store->engine) &&
             json_set_int(ar, ixj, "entries", (int64_t)entries) && json_set_int(ar, ixj, "candidates_scored", (int64_t)cand.n) &&
             json_set_int(ar, ixj, "candidates_from_relatives", (int64_t)(cand.n - first_round)) &&
             json_set(ar, root, "index", ixj);
        for (int s = 0; ok && s < FP_NSIG; s++) {
            json_value *o = json_new_object(ar);
            ok = o && json_set(ar, o, "median", num(ar, sig_null[s].median, 1e4)) &&
                 json_set(ar, o, "scale", num(ar, sig_null[s].scale, 1e5)) && json_set_int(ar, o, "n", sig_null[s].n) &&
                 json_set(ar, sigs, fp_signal_name(s), o);
        }
        ok = ok && json_set_str(ar, nj, "description",
                                "similarities of the query to a random sample of the index (robust median and 1.4826 MAD)") &&
             json_set_int(ar, nj, "sample", (int64_t)nul.n) && json_set(ar, nj, "signals", sigs) &&
             json_set(ar, nj, "combined_median", num(ar, comb_null.median, 1e4)) &&
             json_set(ar, nj, "combined_scale", num(ar, comb_null.scale, 1e5)) && json_set(ar, root, "null", nj);
        ok = ok && json_set_double(ar, root, "alpha", ALPHA) && json_set_str(ar, root, "correction", "bonferroni over the index's entries") &&
             json_set_str(ar, root, "tail", "student t, 10 degrees of freedom") &&
             json_set(ar, root, "z_threshold", num(ar, zcrit, 1e3)) && json_set_bool(ar, root, "calibrated", calibrated);
        const char *best = NULL;
        for (size_t i = 0; ok && i < cand.n && i < (size_t)top; i++) {
            scored *c = &cand.v[i];
            /* p only for the candidates reported (the t tail is a numerical integral: 300 of them were
             * a tenth of a search's CPU) */
            c->p = calibrated && isfinite(c->z) ? t_upper(c->z) : NAN;
            json_value *o = json_new_object(ar), *sj = json_new_array(ar), *tj = json_new_object(ar);
            ok = o && sj && tj;
            int significant = c->significant;
            if (significant && i == 0) best = c->name;
            double margin = i + 1 < cand.n && isfinite(cand.v[i + 1].z) ? c->z - cand.v[i + 1].z : NAN;
            double padj = isfinite(c->p) ? fmin(1, c->p * n_tests) : NAN;
            ok = ok && json_set_int(ar, o, "rank", (int64_t)i + 1) && json_set_str(ar, o, "name", c->name) &&
                 json_set_str(ar, o, "source", c->source) && json_set_str(ar, o, "summary", c->summary) &&
                 json_set(ar, o, "z", num(ar, c->z, 1e2)) && json_set(ar, o, "closeness", num(ar, c->closeness, 1e4)) && json_set(ar, o, "p", isfinite(c->p) ? json_new_double(ar, c->p) : json_new_null(ar)) &&
                 json_set(ar, o, "p_adjusted", isfinite(padj) ? json_new_double(ar, padj) : json_new_null(ar)) &&
                 json_set_bool(ar, o, "significant", significant) && json_set(ar, o, "margin", num(ar, margin, 1e2)) &&
                 json_set_int(ar, o, "retrieval_keys_shared", c->hits) && json_set_bool(ar, o, "found_through_relative", c->expanded) && json_set_bool(ar, o, "same_architecture", c->sim.arch_same);
            for (int s = 0; ok && s < FP_NSIG; s++) {
                if (!isfinite(c->sim.sig[s])) continue;
                json_value *so = json_new_object(ar);
                ok = so && json_set_str(ar, so, "signal", fp_signal_name(s)) && json_set(ar, so, "value", num(ar, c->sim.sig[s], 1e4)) &&
                     json_set(ar, so, "z", num(ar, c->zsig[s], 1e2)) && json_set_int(ar, so, "n", c->sim.n[s]) && json_push(ar, sj, so);
            }
            ok = ok && json_set(ar, tj, "vocab_jaccard", num(ar, c->sim.tok_jaccard, 1e3)) &&
                 json_set(ar, tj, "id_order", num(ar, c->sim.tok_order, 1e3)) && json_set(ar, tj, "merges", num(ar, c->sim.tok_merges, 1e3)) &&
                 json_set(ar, tj, "specials", num(ar, c->sim.tok_specials, 1e3));
            ok = ok && json_set(ar, o, "signals", sj) && json_set(ar, o, "tokenizer", tj) && json_push(ar, list, o);
        }
        json_value *cr = json_new_object(ar);
        ok = ok && cr && json_set_str(ar, cr, "description", "the first candidate's near-copies among the significant ones; their medoid (the common ancestor) goes first unless the query's residual places it on the first candidate's branch") &&
             json_set_int(ar, cr, "cluster", rc.cluster) && json_set_bool(ar, cr, "root_promoted", rc.promoted > 0) &&
             json_set(ar, cr, "residual", num(ar, rc.residual, 1e5)) && json_set(ar, cr, "residual_z", num(ar, rc.residual_z, 1e2)) &&
             json_set_int(ar, cr, "members_for_scale", rc.others) && json_set(ar, root, "cluster_root", cr);
        ok = ok && json_set(ar, root, "candidates", list) &&
             json_set(ar, root, "best", best ? json_new_string(ar, best) : json_new_null(ar));
        if (!ok) st = NOMEM(err);
    }
    gather_free(&cand);
    gather_free(&nul);
    index_postings_free(&cache);
    fp_free(&q);
    if (st) {
        lineage_doc_free(d);
        return st;
    }
    *out = d;
    return LINEAGE_OK;
}

size_t lineage_search_sources(const lineage_doc *d, const char **sources, size_t max)
{
    const json_value *list = json_get(d->root, "candidates");
    size_t n = 0;
    for (size_t i = 0; i < json_count(list) && n < max; i++) {
        const char *s = json_get_string(json_at(list, i), "source");
        if (s) sources[n++] = s;
    }
    return n;
}
