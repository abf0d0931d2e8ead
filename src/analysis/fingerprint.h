/* Model fingerprints (docs/SCHEMA-fingerprint.md): a compact record per model, built from the
 * architecture, the tokenizer and sampled weight rows, that the index stores and search compares.
 * Every signal is chosen to survive the derivations lineage knows (BACKGROUND.md §3): permutation-
 * and rotation-invariant Gram matrices of anchor-token embedding rows keyed by canonical bytes,
 * per-layer statistics that do not depend on row or column order, centred norm-vector sketches. */
#ifndef LINEAGE_ANALYSIS_FINGERPRINT_H
#define LINEAGE_ANALYSIS_FINGERPRINT_H
#include <stddef.h>
#include <stdint.h>
#include "lineage.h"

#define FP_VERSION 2
#define FP_MINHASH 64        /* MinHash slots per tokenizer sketch */
#define FP_MAX_SPECIALS 16
#define FP_ANCHORS 128       /* at most this many anchor tokens: a consistent sample of canonical-byte hashes */
#define FP_ROLES 9           /* q k v o gate up down, attn norm, mlp norm */
#define FP_QUANTILES 8       /* sorted row-norm quantiles, relative to the median */
#define FP_NORM_PROJ 64      /* random projections of a centred norm vector */
#define FP_MAX_LAYERS 512
#define FP_BANDS 32          /* LSH bands over the anchor nearest-neighbour set */
#define FP_BAND_ROWS 1
#define FP_NEIGHBOURS 3      /* nearest anchors per anchor in that set */

typedef struct fp_layer {
    float std[FP_ROLES];                   /* NaN when the role is absent */
    float quant[FP_ROLES][FP_QUANTILES];   /* row-norm quantiles / median row norm (norms: value quantiles) */
    int8_t norm_proj[2][FP_NORM_PROJ];     /* centred, unit-length projections (x127); all 0 when absent */
} fp_layer;

typedef struct fingerprint {
    /* architecture */
    char model_type[32];
    int32_t hidden, layers, heads, kv_heads, ffn, vocab, experts, tied;
    /* tokenizer (n_tokens 0: none) */
    uint32_t n_tokens, n_special, n_merges;
    uint32_t tok_minhash[FP_MINHASH];      /* canonical bytes of ordinary tokens */
    uint32_t order_minhash[FP_MINHASH];    /* (id, bytes): ID alignment */
    uint32_t merge_minhash[FP_MINHASH];    /* (rank bucket, left bytes, right bytes): merge order */
    uint32_t nspecials;
    uint64_t specials[FP_MAX_SPECIALS];    /* hashes of special-token literals, sorted */
    /* anchors (sorted by hash) and Gram matrices of their centred embedding / lm_head rows */
    uint32_t n_anchors;
    uint64_t anchor_hash[FP_ANCHORS];
    int has_embed_gram, has_head_gram;
    int16_t embed_gram[FP_ANCHORS * (FP_ANCHORS - 1) / 2];   /* cosine x 32767 */
    int16_t head_gram[FP_ANCHORS * (FP_ANCHORS - 1) / 2];
    /* per-layer statistics */
    uint32_t n_layers;
    fp_layer *layer;                       /* malloc'd, n_layers entries */
    /* retrieval keys (band << 56 | value) */
    uint32_t n_keys;
    uint64_t keys[FP_BANDS];
    /* what was read */
    uint64_t bytes_read;
} fingerprint;

void fp_free(fingerprint *fp);
/* Builds the fingerprint of an opened model (local or remote): the tokenizer, anchor rows of the
 * embedding and lm_head, at most FP_SAMPLE_ROWS evenly spaced rows of each layer matrix. */
lineage_status fp_build(const lineage_model *m, fingerprint *fp, lineage_error *err);

/* Versioned little-endian binary record; *out is malloc'd. */
lineage_status fp_serialize(const fingerprint *fp, unsigned char **out, size_t *len, lineage_error *err);
/* Parses a record (hostile input: every length checked); `what` names it in errors. */
lineage_status fp_parse(const unsigned char *p, size_t len, fingerprint *fp, const char *what, lineage_error *err);

/* Raw similarities of two fingerprints; NAN when a signal is not computable for the pair. */
enum { FP_SIG_EMBED, FP_SIG_HEAD, FP_SIG_PROFILE, FP_SIG_ROWNORM, FP_SIG_NORMS, FP_NSIG };
typedef struct fp_similarity {
    double sig[FP_NSIG];
    int n[FP_NSIG];                        /* pairs / values the signal rests on */
    double tok_jaccard, tok_order, tok_merges, tok_specials;   /* MinHash estimates; NAN when absent */
    int arch_same;                         /* same model_type and shapes */
} fp_similarity;

void fp_compare(const fingerprint *a, const fingerprint *b, fp_similarity *out);
/* The retrieval keys from an anchor Gram matrix (fp->n_anchors entries); sets fp->keys, fp->n_keys. */
void fp_lsh_keys(fingerprint *fp, const int16_t *gram);
size_t fp_gram_index(size_t n, size_t i, size_t j);
const char *fp_signal_name(int sig);
#endif
