/* Internal API of the activation comparison (`compare --only activations`), one idea per file:
 *   activations_stats.c  linear CKA from centred Gram matrices, the permutation-robust neuron
 *                        matching statistic of Zhu et al. (gate vs up matchings), kernel PCA
 *   activations_run.c    probe text to aligned token positions, both models run through taps,
 *                        per-layer hidden-state sketches and MLP activations kept within a budget
 *   activations.c        the section: statistics, controls, layer map, findings, JSON */
#ifndef LINEAGE_ANALYSIS_ACTIVATIONS_H
#define LINEAGE_ANALYSIS_ACTIVATIONS_H
#include <stddef.h>
#include <stdint.h>

#include "analysis/stats.h"
#include "format/model.h"
#include "lineage.h"

/* ---- statistics (activations_stats.c) ---- */

/* Centred Gram matrix of X (n rows of d floats): columns centred over the rows, K = Xc Xc^T
 * (n x n, malloc'd), NULL when out of memory. *norm receives ||K||_F. */
float *act_centred_gram(const float *X, size_t n, size_t d, double *norm);
/* Linear CKA of two centred Gram matrices with Frobenius norms nk, nl: <K,L> / (nk nl). */
double act_cka_gram(const float *K, double nk, const float *L, double nl, size_t n);
/* The same with L's tokens reordered by perm (a shuffled-token null). */
double act_cka_gram_perm(const float *K, double nk, const float *L, double nl, const size_t *perm, size_t n);
/* Reference: linear CKA from features in double, ||Yc^T Xc||^2 / (||Xc^T Xc|| ||Yc^T Yc||). */
double act_cka_features_ref(const float *X, size_t dx, const float *Y, size_t dy, size_t n);

typedef struct act_match {
    double spearman;       /* of the gate-based against the up-based matching */
    double p;              /* one-sided: spearman * sqrt(n - 1) against N(0, 1) */
    size_t n;              /* neurons matched by both */
} act_match;

/* Zhu et al.'s permutation-robust statistic for one layer pair: neurons of A (fa rows of ntok
 * activations, neuron-major) matched to neurons of B (fb rows) by assignment on the correlation of
 * their gate activations, and again on their up activations; the Spearman correlation of the two
 * matchings. Independent models give two unrelated matchings (p uniform); a shared origin makes
 * both recover the same correspondence. Returns 0 when out of memory. */
int act_zhu_match(const float *gate_a, const float *up_a, size_t fa, const float *gate_b, const float *up_b, size_t fb,
                  size_t ntok, act_match *out);

/* Kernel PCA of a similarity matrix (n x n, symmetric): double-centred, top two eigenvectors by
 * power iteration; xy receives n pairs of coordinates. Returns 0 when out of memory. */
int act_pca2(const double *G, size_t n, double *xy);

/* ---- running the models (activations_run.c) ---- */

/* Per-layer observations of one model on the aligned token set. */
typedef struct act_side {
    int layers;
    size_t width;             /* residual stream width */
    size_t sketch;            /* columns kept per hidden state: width, or a fixed Gaussian sketch of it */
    float **hidden;           /* per layer: n_cka x sketch */
    int *slots;               /* per layer: routed experts, or 1 for a dense MLP */
    int slots_max;
    int moe;                  /* 1 when some layer's MLP is routed */
    int gated;                /* gate activations seen */
    size_t *neurons;          /* per layer */
    float **gate, **up;       /* per layer x slot: neurons x n_mlp, neuron-major */
} act_side;

typedef struct act_plan {
    size_t tokens;            /* aligned positions used */
    size_t n_cka, n_mlp;      /* of them, kept for CKA and for the neuron matching */
    int shared_tokenizer;     /* both sides encoded every probe to the same ids */
    size_t probes;            /* probes fed */
    size_t positions_a, positions_b;   /* tokens fed to each model */
    act_side a, b;
} act_plan;

/* Encodes the probe text with both tokenizers, aligns positions by byte offsets, runs A then B
 * through the engine and fills plan (free with act_plan_free). max_tokens: aligned positions wanted. */
lineage_status act_collect(const lineage_model *a, const lineage_model *b, const lineage_compare_options *opt,
                           size_t max_tokens, act_plan *plan, lineage_error *err);
void act_plan_free(act_plan *p);
#endif
