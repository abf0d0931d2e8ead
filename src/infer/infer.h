/* The native inference engine: CPU forward pass of decoder-only transformers (Llama/Mistral/Qwen2/Qwen3,
 * Mixtral/Qwen-MoE/DeepSeek-style MoE, Gemma 1/2/3) over the tensor API, f32 activations. Weights stay
 * where the model keeps them (mapped file, remote cache) and are converted to f32 a tile of rows at a
 * time, or once into memory when they fit the cache budget. Activation memory grows with the context
 * length, not with the model size. The behaviour and activation analyses observe a pass through taps. */
#ifndef LINEAGE_INFER_H
#define LINEAGE_INFER_H
#include <stddef.h>
#include <stdint.h>
#include "lineage.h"

typedef struct infer_model infer_model;
typedef struct infer_session infer_session;

typedef struct infer_options {
    int threads;             /* 0 = all cores */
    uint64_t cache_bytes;    /* weights repacked at load when all of them fit (f32 panels, int8 for Q8_0/Q4_0); 0 = 4 GiB */
    size_t max_context;      /* 0 = min(config max positions, 8192) */
} infer_options;

/* Plans a forward pass for the text decoder of m (architecture from arch_of_model, tensors by role).
 * LINEAGE_E_UNSUPPORTED names what is missing (family, tensor, feature) in one line. */
lineage_status infer_open(const lineage_model *m, const infer_options *opt, infer_model **out, lineage_error *err);
void infer_close(infer_model *im);

size_t infer_vocab(const infer_model *im);        /* logits per position */
int infer_layers(const infer_model *im);
size_t infer_hidden(const infer_model *im);       /* residual stream width */
/* Neurons of layer l's dense MLP, or of one expert in an MoE layer (0 when the layer has none). */
size_t infer_mlp_width(const infer_model *im, int layer);
int infer_experts(const infer_model *im, int layer);   /* routed experts of layer l; 0 = dense */
const char *infer_family(const infer_model *im);       /* "llama", "qwen3", "mixtral", "gemma2", ... */

/* Observers of a pass. Arrays are row-major, one row per token of the current feed, valid only during
 * the call. Any callback may be NULL. */
typedef struct infer_taps {
    void *user;
    /* residual stream after block `layer` (-1: the embeddings, scaled as the model scales them) */
    void (*hidden)(void *user, int layer, const float *h, size_t ntok, size_t width);
    /* MLP pre-activations of layer `layer`: gate (NULL for ungated MLPs) and up projections, ntok x neurons.
     * expert = -1 for a dense MLP; in MoE layers, with all_experts set, every routed expert is evaluated on
     * every token for the tap (the forward result still uses only the routed ones) and reported with its
     * index; shared experts are reported as expert = -2. */
    void (*mlp)(void *user, int layer, int expert, const float *gate, const float *up, size_t ntok,
                size_t neurons);
    int all_experts;
} infer_taps;

/* A decoding state (KV cache) over at most max_tokens positions (0 = the model's max_context). */
lineage_status infer_session_open(infer_model *im, size_t max_tokens, infer_session **out, lineage_error *err);
void infer_session_close(infer_session *s);
void infer_session_reset(infer_session *s);        /* back to position 0 */
size_t infer_session_position(const infer_session *s);
/* Optional, before timing-sensitive feeds: allocates (and touches) the cache for n more positions and
 * the work buffers of a feed of up to n tokens, as llama.cpp does when it creates a context. */
lineage_status infer_session_reserve(infer_session *s, size_t n, lineage_error *err);

/* Appends n tokens at the session's position and runs them. logits receives n x vocab floats, or only
 * the last position's vocab floats when last_only; it may be NULL. taps may be NULL. */
lineage_status infer_feed(infer_session *s, const uint32_t *ids, size_t n, const infer_taps *taps, float *logits,
                          int last_only, lineage_error *err);
#endif
