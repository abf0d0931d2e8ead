/* Internal API of the weights comparison (`compare --only weights`). The pieces, one idea per file:
 *   weights_load.c      tensors to f32 (whole, row subsets, deterministic samples), sample prefetch
 *   weights_match.c     which tensor of A goes with which of B (component, role, layer, expert)
 *   weights_stats.c     per-pair statistics through the streaming engine (one pass, digests, sampled
 *                       blocks with jackknife CIs), p-value helpers
 *   weights_controls.c  cross-layer matrices, within-model baselines, nulls, z, p
 *   weights_layermap.c  monotone layer alignment (repeats, skips, seams)
 *   weights_lap.c       linear assignment
 *   weights_perm.c      hidden / FFN-neuron / head permutation recovery
 *   weights_vocab.c     embedding and lm_head rows over shared tokens
 *   weights_width.c     pruned rows/neurons matched into the larger tensor
 *   weights_moe.c       expert matching, upcycling, within-model expert similarity
 *   weights_rescale.c   statistics invariant to norm-gain folding and row scaling
 *   weights_summary.c   the evidence summary the verdict engine reads
 *   weights_spectrum.c  training under a noise: residual spectrum against its shuffled copies
 *   weights.c           orchestration and JSON */
#ifndef LINEAGE_ANALYSIS_WEIGHTS_H
#define LINEAGE_ANALYSIS_WEIGHTS_H
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"
#include "analysis/stats.h"
#include "analysis/stream.h"
#include "util/json.h"
#include "format/model.h"
#include "lineage.h"

/* ---- loading (weights_load.c) ---- */

typedef struct wt_matrix {
    float *data;          /* rows x cols, row-major, malloc'd */
    size_t rows, cols;
    uint64_t full_rows;   /* rows of the tensor on disk (rows < full_rows when sampled) */
} wt_matrix;

/* Elements kept per tensor for control matrices and alignment searches. */
#define WT_SAMPLE_ELEMS (1u << 16)

lineage_status wt_load_all(const lineage_model *m, size_t idx, wt_matrix *out, lineage_error *err);
/* Rows rows[0..n) in that order. */
lineage_status wt_load_rows(const lineage_model *m, size_t idx, const uint64_t *rows, size_t n, wt_matrix *out,
                            lineage_error *err);
/* Evenly spaced rows so that at most max_elems elements are kept (all rows when it fits); the
 * same rows for every tensor with the same row count, so two samples stay index-aligned. */
lineage_status wt_load_sample(const lineage_model *m, size_t idx, size_t max_elems, wt_matrix *out,
                              lineage_error *err);
/* The same sample into dst (wt_sample_row_count(t, max_elems) x cols floats). */
lineage_status wt_read_sample(const lineage_model *m, size_t idx, size_t max_elems, float *dst, lineage_error *err);
/* Rows [first, first+count) of that sample into dst (count x cols floats). */
lineage_status wt_read_sample_rows(const lineage_model *m, size_t idx, size_t max_elems, size_t first, size_t count,
                                   float *dst, lineage_error *err);
/* Rows of the matrix wt_load_sample returns. */
size_t wt_sample_row_count(const lineage_tensor_info *t, size_t max_elems);
/* The rows wt_load_sample reads as spans of consecutive rows: writes up to cap (spans may be NULL
 * when cap is 0) and returns how many there are. */
size_t wt_sample_spans(const lineage_model *m, size_t idx, size_t max_elems, lineage_row_span *spans, size_t cap);
/* Announces the WT_SAMPLE_ELEMS samples of every tensor of m in one batch (remote models). */
lineage_status wt_prefetch_samples(const lineage_model *m, lineage_error *err);
void wt_matrix_free(wt_matrix *x);
/* Transposed copy (cols x rows). */
int wt_transpose(const wt_matrix *x, wt_matrix *out);

/* ---- statistics helpers (weights_stats.c) ---- */

/* Centered correlation of two equal-length vectors through the kernels. */
double wt_pearson(const float *a, const float *b, size_t n);

typedef struct wt_pair_stats {
    pair_moments m;
    double cosine, centered, rel_l2, max_abs_diff, equal_fraction;
    double scale_ratio;          /* ||b|| / ||a|| */
    double slope;                /* cov(a,b) / var(a): 1 when b = a + independent noise */
    double var_ratio;            /* var(b) / var(a) */
    int value_identical;         /* every compared element equal after conversion to f32 */
    int sampled;                 /* computed on a row subset */
    double ci_lo, ci_hi;         /* 95% CI of the centered statistic (sampled only) */
    uint64_t n;                  /* elements compared */
} wt_pair_stats;

void wt_stats_from_moments(const pair_moments *m, wt_pair_stats *s);
/* Seed of the sampled blocks (--sample): fixed, so a sampled comparison is reproducible. */
#define WT_SAMPLE_SEED 0x6c696e65616765ull

/* ---- matching (weights_match.c) ---- */

/* A role that has one tensor per layer (no expert) in some component. */
typedef struct wt_series {
    lineage_component comp;
    const char *role;
    int low_info;
    int la, lb;           /* layers in A and B (max index + 1) */
    long *ia, *ib;        /* tensor index per layer, -1 when missing */
} wt_series;

typedef struct wt_layout {
    wt_series *series;
    size_t nseries;
    int layers_a[LINEAGE_COMPONENT_COUNT], layers_b[LINEAGE_COMPONENT_COUNT];
    int experts_a, experts_b;    /* max experts per layer (0 = dense) */
} wt_layout;

lineage_status wt_layout_build(const lineage_model *a, const lineage_model *b, wt_layout *out, lineage_error *err);
void wt_layout_free(wt_layout *l);
/* Tensor index of (comp, role, layer, expert) in m through a prebuilt scan, or -1. */
long wt_find(const lineage_model *m, lineage_component comp, const char *role, int layer, int expert);
/* Key for matching a tensor across naming schemes; role "other" falls back on the name after the
 * layer/expert index. Writes into buf. */
const char *wt_tensor_key(const lineage_tensor_info *t, char *buf, size_t cap);
int wt_low_information(const lineage_tensor_info *t);

/* ---- linear assignment (weights_lap.c) ---- */

/* Maximizes sum score[i*m + assign[i]] over injective maps of n rows into m >= n columns.
 * Exact (shortest augmenting paths, O(n^2 m)). Returns 0 on allocation failure. */
int wt_lap_max(const double *score, size_t n, size_t m, size_t *assign);
/* Largest n for which the exact solver is used; above it callers use wt_greedy_match. */
#define WT_LAP_MAX_N 3000
/* Greedy mutual-best matching (cheap alternative for large n): assign[i] or SIZE_MAX. */
int wt_greedy_match(const double *score, size_t n, size_t m, size_t *assign);
/* Row-similarity matrix: centered cosine between each row of A and each row of B (same cols). */
double *wt_row_similarity(const float *A, size_t na, const float *B, size_t nb, size_t dim);
/* Similarity entries (na x nb) a matching may hold at once; larger matchings stream panels. */
#define WT_MATCH_DENSE_MAX ((size_t)1 << 22)
/* Rows of the smaller side matched when the similarities would not fit WT_MATCH_DENSE_MAX. */
#define WT_MATCH_MAX_ROWS 1024

/* Reorders in place: columns new[r][a] = old[r][h[a]]; rows new[a] = old[h[a]]. */
int wt_reorder_cols(wt_matrix *x, const size_t *h);
int wt_reorder_rows(wt_matrix *x, const size_t *h);
/* Moments of A's rows against their matched B rows (unmatched rows skipped). */
void wt_matched_moments(const wt_matrix *A, const wt_matrix *B, const size_t *a_to_b, pair_moments *m);
/* Matches rows of A to rows of B (a_to_b[i], SIZE_MAX when unmatched), scoring a pair of rows by the
 * sum over nroles roles of their centered correlation (A[k] and B[k] share columns; every A[k] has
 * A[0].rows rows, every B[k] B[0].rows). When na * nb <= WT_MATCH_DENSE_MAX: wt_match on the full
 * matrix. Above: WT_MATCH_MAX_ROWS evenly spaced rows of the smaller side (all of them when
 * all_rows) are matched into every row of the other by mutual best, computed over panels with
 * dot_matrix_f32 (memory: the sampled rows and one panel, never na x nb). Returns 0 when out of memory. */
int wt_match_rows(const wt_matrix *A, const wt_matrix *B, size_t nroles, int all_rows, size_t *a_to_b);
/* The re-measured correlation the same search reaches against B with its columns scrambled
 * (what selection alone produces). */
double wt_selection_null(const wt_matrix *A, const wt_matrix *B, uint64_t seed);

/* ---- controls (weights_controls.c) ---- */

typedef struct wt_role_control {
    const wt_series *s;
    int la, lb;
    double *r;            /* la x lb centered correlations, NaN when shapes differ */
    double *z;            /* la x lb z-scores against null_sd */
    double *within_a;     /* la x la, A vs A */
    double *within_b;     /* lb x lb */
    double null_sd;       /* max(analytic, empirical shuffle) */
    double analytic_sd;   /* 1/sqrt(n) */
    double shuffle_sd;    /* row/column shuffled recomputation */
    uint64_t n;           /* elements per entry */
    double diag_mean, off_mean, off_sd, within_mean, within_sd;
    double z_diag_vs_off; /* (diag_mean - off_mean) / off_sd */
    double p_assignment;  /* permutation test over the layer assignment */
    int p_exact;          /* p from every permutation */
    double diag_z_mean;   /* mean z of the index diagonal */
} wt_role_control;

/* threads: for the cross-layer correlation products (>= 1). */
lineage_status wt_controls_build(const lineage_model *a, const lineage_model *b, const wt_series *s, int threads,
                                 wt_role_control *out, lineage_error *err);
/* wt_controls_build for every series of l into out[0..nseries), the series spread over the threads.
 * On failure the caller still frees every out[i] (wt_control_free takes partial ones). */
lineage_status wt_controls_build_all(const lineage_model *a, const lineage_model *b, const wt_layout *l, int threads,
                                     wt_role_control *out, lineage_error *err);
/* Threads a comparison uses: opt->threads, or every online core. */
int wt_threads(const lineage_compare_options *opt);
void wt_control_free(wt_role_control *c);
/* Layer assignment permutation test: p of mean r[map(j)][j] against random maps. */
double wt_assignment_p(const double *r, int la, int lb, const int *map, int *exact);

/* ---- layer map (weights_layermap.c) ---- */

typedef struct wt_layer_map {
    int la, lb;
    int *map;             /* lb entries: A layer or -1 */
    double *score;        /* combined z of the chosen entry */
    double *margin;       /* best minus second-best combined z for that B layer */
    double threshold;     /* calibrated null max */
    int identity;         /* map[j] == j for all matched j and la == lb */
    int matched;          /* B layers with a parent layer */
    int seams;            /* backward jumps */
} wt_layer_map;

/* z: la x lb combined z-scores (NaN = not comparable). */
int wt_layer_map_solve(const double *z, int la, int lb, double threshold, wt_layer_map *out);
void wt_layer_map_free(wt_layer_map *m);
/* The same map the other way round (each A layer to a B layer): its repeats, the B layers that two or
 * more A layers map onto. The depth rules read both directions alike, so the argument order cannot
 * turn an up-scaling into a pruning. -1 when out of memory. */
int wt_layer_map_reverse_repeats(const double *z, int la, int lb, double threshold);
/* Null threshold for the maximum of la standard normals, Bonferroni over la*lb at alpha. */
double wt_layer_map_threshold(int la, int lb, double alpha);

/* ---- alignment findings ---- */

/* Shared-token alignment (weights_vocab.c). */
typedef struct wt_vocab {
    int source_tokenizer;     /* 1: aligned by token strings, 0: by index */
    size_t va, vb;            /* vocab sizes (tokenizer ids) */
    size_t shared;            /* tokens present in both */
    size_t same_id;           /* shared tokens with equal ids */
    size_t prefix;            /* longest id prefix 0..k-1 with identical strings */
    uint32_t *ida, *idb;      /* shared pairs, sorted by idb */
} wt_vocab;

lineage_status wt_vocab_align(const lineage_model *a, const lineage_model *b, size_t rows_a, size_t rows_b,
                              wt_vocab *out, lineage_error *err);
void wt_vocab_free(wt_vocab *v);

/* ---- evidence gathered while comparing ---- */

typedef struct wt_rec {
    size_t ia, ib;
    const char *role;
    int layer_a, layer_b, expert_a, expert_b;
    const char *align;        /* "none", "permutation", "vocab", "expert", "width" */
    int low_info;
    int same_dtype;
    wt_pair_stats s;
    double null_sd, z;        /* z = centered / null_sd */
    int bytes_identical;      /* -1: unknown (sampled: the bytes were not all read) */
    int pending;              /* statistics not computed yet (queued for wt_flush) */
    int has_fold;
    double folded_centered, folded_rel_l2, row_cosine;
    double folded_slope, folded_var_ratio;   /* slope and variance ratio of the norm-folded values */
    /* Under a per-channel scaling estimated from the other matrices reading the same norm (leave this
     * one out): [0] B's columns mapped into A's frame, [1] A's into B's (weights_rescale.c) */
    int has_frame;
    double frame_centered[2], frame_slope[2], frame_var_ratio[2], frame_rel_l2[2];
    uint64_t non_finite_a, non_finite_b;   /* NaN/Inf values, set aside from the statistics */
    int degenerate;           /* a side is constant or near-constant: low information whatever its role */
    json_value *json;         /* its "pairs" entry */
} wt_rec;

typedef struct wt_evidence {
    /* layer map (text component) */
    int map_la, map_lb, map_matched, map_identity, map_seams, map_repeats, map_skipped, map_unmatched;
    int map_significant;
    int map_under_perm;       /* the map was rebuilt under the recovered hidden permutation */
    int map_a_duplicates;     /* B layers matched by two A layers alike (A holds duplicated layers) */
    int map_a_repeats;        /* repeats of the reverse map (A layers onto B's) */
    /* permutation */
    int perm_tried, perm_hidden, perm_hidden_identity, perm_ffn, perm_heads;
    double perm_p, perm_agreement, perm_centered;
    /* vocab */
    int vocab_done, vocab_extended_shape;
    size_t vocab_shared, vocab_va, vocab_vb, vocab_prefix;
    double vocab_centered, vocab_z;
    /* width */
    int width_pairs, width_significant;
    int width_b_smaller;      /* significant pairs where B's side is the subset (pruned from A) */
    double width_kept_fraction, width_centered, width_order_spearman;
    /* MoE */
    int moe_kind;             /* 0 none, 1 B MoE vs A dense, 2 A MoE vs B dense, 3 both MoE */
    int moe_experts, moe_significant;
    double moe_centered, moe_within_a, moe_within_b, moe_cross_layer;
    /* rescaling read from the norm gains against the columns reading them (weights_rescale.c):
     * per norm the Spearman correlation over channels of log(gB/gA) and -log(column slope of B on A) */
    int rescale_groups;
    double rescale_zsum;                   /* sum of per-norm z = rho sqrt(n-1) (Stouffer numerator) */
    double *rescale_rho;                   /* per norm rho, rescale_groups of them (malloc'd) */
    /* per-column residual energy of the readers in each frame: robust spread of its log (iid noise
     * carried by one side has the same energy in every column of that side) */
    int frame_members;
    double frame_spread_sum[2];
    /* degenerate data */
    int degenerate_tensors, non_finite_tensors;
    uint64_t non_finite_values;
} wt_evidence;

typedef struct wt_ctx {
    const lineage_model *a, *b;
    const lineage_compare_options *opt;
    arena *ar;
    lineage_error *err;
    wt_layout layout;
    json_value *pairs;        /* array */
    json_value *alignment;    /* object */
    wt_rec *recs;
    size_t nrecs, caprecs;
    wt_evidence ev;
    int *layer_map;           /* text component: A layer for each B layer (or -1), NULL when none */
    int layer_map_n;
    size_t *perm_hidden;      /* recovered hidden permutation: A channel -> B channel, or NULL */
    size_t hidden;
    wt_vocab vocab;
    int vocab_ready;
    int defer;                /* wt_add_pair without statistics queues the pair until wt_flush */
    struct wt_digest *dig_a, *dig_b;   /* per tensor of A / B: digests from the streaming pass */
} wt_ctx;

typedef struct wt_digest {
    unsigned char xxh[16];
    int have;
} wt_digest;

/* Appends a pair's record and "pairs" entry. align: "none", "vocab", ... With `pre` (shapes that
 * differ, re-measured alignments) the record is complete at once. Without, the statistics come from
 * the streaming engine: at once, or at the next wt_flush while c->defer is set (then the record's
 * statistics and z are not valid until that flush). null_sd <= 0: estimated from samples. */
lineage_status wt_add_pair(wt_ctx *c, size_t ia, size_t ib, const char *align, const wt_pair_stats *pre,
                           double null_sd, wt_rec **out);
/* Streams every queued pair of c in one pass (file order, c->opt->threads, --sample blocks) and
 * completes their records (weights_stats.c). */
lineage_status wt_flush(wt_ctx *c);
/* Completes a record whose statistics are set: z, digests, JSON (weights.c). */
lineage_status wt_finish_pair(wt_ctx *c, wt_rec *r);
/* Rows of at most max_rows shared tokens (evenly spaced) of A's and B's embedding-like tensors
 * (c->vocab must be ready). */
lineage_status wt_vocab_rows(const wt_ctx *c, size_t ia, size_t ib, size_t max_rows, wt_matrix *A, wt_matrix *B);
/* Shared-token rows the vocabulary statistics read for rows of `cols` columns (bounded memory). */
size_t wt_vocab_row_cap(size_t cols);
/* Tokens the hidden-channel alignment reads: at least two per channel. */
size_t wt_hidden_tokens(size_t cols);
/* Null SD of the centered statistic for two same-shape matrices: analytic and row/column shuffles. */
double wt_null_sd(const wt_matrix *A, const wt_matrix *B);
/* Matches rows of A to rows of B from a similarity matrix (na x nb): a_to_b[i] (SIZE_MAX when
 * unmatched). Exact LAP when the smaller side is at most WT_LAP_MAX_N, mutual-best above. */
int wt_match(const double *S, size_t na, size_t nb, size_t *a_to_b);
/* Poisson(1) upper tail P(X >= k): chance agreement of two unrelated matchings. */
double wt_agreement_p(size_t k);

/* The stages (each adds its findings under "alignment" and to c->ev). */
lineage_status wt_stage_vocab(wt_ctx *c);
lineage_status wt_stage_permutation(wt_ctx *c);
lineage_status wt_stage_width(wt_ctx *c, size_t ia, size_t ib, int layer);
lineage_status wt_stage_moe(wt_ctx *c);
/* The norm whose output a role reads ("attn_norm", "mlp_norm", "final_norm": global), or NULL. */
const char *wt_norm_read_by(const char *role, int *global);
/* One expert against the other side's dense FFN under the recovered hidden permutation (weights_perm.c). */
lineage_status wt_match_expert_under_hidden(wt_ctx *c, int la_, int lb_, int ea_, int eb_, size_t *pairs);
lineage_status wt_stage_rescale(wt_ctx *c);
json_value *wt_summary(wt_ctx *c);
/* Training under a noise (weights_spectrum.c): when summary says noised, the top singular value of
 * each index-aligned residual B - A against shuffled copies of itself (i.i.d. entries, the
 * Marchenko-Pastur null); adds summary.trained_under_noise. */
lineage_status wt_stage_spectrum(wt_ctx *c, json_value *summary);
#endif
