/* Internals of the inference engine: the per-layer weight plan, the packed matmul, the thread pool
 * and the scalar building blocks (norms, RoPE, softmax, routing) the forward pass is made of. */
#ifndef LINEAGE_INFER_ENGINE_H
#define LINEAGE_INFER_ENGINE_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "format/model.h"
#include "infer/infer.h"

/* ---- thread pool: pool_run calls fn(ctx, i, worker) for i in [0, n), spread over the workers ---- */
typedef void (*pool_fn)(void *ctx, size_t i, int worker);
typedef struct pool pool;
pool *pool_new(int threads);             /* threads >= 1; the caller's thread is worker 0 */
void pool_free(pool *p);
int pool_threads(const pool *p);
void pool_run(pool *p, size_t n, pool_fn fn, void *ctx);

/* ---- weights ---- */
#define MM_PANEL 16   /* rows per packed panel: panel p holds rows [16p, 16p+16) as [K][16] */

/* Rows [row0, row0+rows) of tensor t (a slice of a stacked or fused tensor), cols wide. Repacked at
 * load when the model fits the budget: q8 for Q8_0/Q4_0, else packed (f32 panels); both NULL:
 * converted a tile at a time per call. */
typedef struct wref {
    long t;
    uint64_t row0, rows, cols;
    float *packed;
    uint16_t *packed16;  /* F16 weights in f16 panels (same layout as packed), widened in the kernel */
    unsigned char *q8;   /* Q8_0/Q4_0 weights repacked for the integer kernels (qmatmul.c), else NULL */
} wref;

typedef struct mlp_w {
    wref gate, up, down;            /* gate.t < 0: ungated */
    float *gate_b, *up_b, *down_b;
    size_t width;
} mlp_w;

typedef struct layer_plan {
    float *attn_norm, *attn_post_norm, *mlp_norm, *mlp_post_norm, *q_norm, *k_norm;
    float *attn_norm_b, *mlp_norm_b;   /* LayerNorm biases, else NULL */
    wref q, k, v, o;
    float *q_b, *k_b, *v_b, *o_b;
    wref q_a, q_bp, kv_a, kv_b;     /* multi-head latent attention (q_a.t < 0: plain q) */
    float *q_a_norm, *kv_a_norm;
    int sliding;                    /* attends to the last `window` positions only */
    const float *inv_freq;          /* rot_dim/2 frequencies of this layer's RoPE */
    int rope_kind;                  /* index into infer_model.rope */
    int moe;
    mlp_w dense;                    /* dense MLP (moe == 0) */
    wref router, shared_gate;       /* shared_gate: Qwen2-MoE sigmoid gate (1 row) */
    float *router_bias;             /* DeepSeek e_score_correction_bias */
    int n_experts;
    mlp_w *experts;
    mlp_w shared;                   /* shared.width 0: none */
} layer_plan;

/* One RoPE frequency set (per layer kind: gemma3 local/global). */
typedef struct rope_set {
    float *inv_freq;                /* rot_dim/2 */
    double attn_factor;             /* yarn: cos/sin scaled by this */
    int dynamic;                    /* dynamic NTK: recomputed from the sequence length */
    double theta, factor;
    int64_t original_max;
} rope_set;

enum { WORK_X8, WORK_XD, WORK_FEED, WORK_MLP, WORK_ROPE, WORK_SLOTS };

typedef enum { ACT_SILU, ACT_GELU_TANH, ACT_GELU, ACT_RELU } act_kind;
typedef enum { SCORE_SOFTMAX, SCORE_SIGMOID } score_kind;

struct infer_model {
    const lineage_model *m;
    char family[32];
    int n_layers;
    size_t hidden, n_heads, n_kv, head_dim, rot_dim, vocab, max_context;
    size_t v_dim;                   /* value width per head (MLA: v_head_dim; else head_dim) */
    int mla;                        /* DeepSeek MLA: keys = [nope | interleaved rope], kv from a latent */
    size_t qk_nope, kv_lora, q_lora;
    double eps, attn_scale, attn_softcap, final_softcap, embed_scale;
    int norm_plus_one, layernorm, gemma_norms4;
    act_kind act;
    int64_t window;
    rope_set rope[2];
    wref embed, lm_head;
    float *final_norm, *final_norm_b, *lm_head_b;
    layer_plan *layers;
    /* MoE routing */
    int top_k, norm_topk, n_group, topk_group;
    score_kind scoring;
    double routed_scale;
    int deepseek_routing;
    /* execution */
    pool *pool;
    float **scratch;                /* per worker: a converted tile and its packed panels */
    size_t scratch_floats;
    uint64_t weight_bytes;
    void *arena;                    /* the repacked weights (wref packed / packed16 / q8 point into it) */
    void *work[WORK_SLOTS];         /* grow-only buffers reused across feeds (im_work) */
    size_t work_bytes[WORK_SLOTS];
    float **owned;                  /* every float array allocated for the plan */
    size_t nowned, owned_cap;
};

/* Y[t][r] = X[t] . W[r] (+ bias[r]) for t < T, r < w->rows; rows of X ldx apart, of Y ldy apart.
 * Weights repacked at load (packed or q8) are used as they are; others are converted per call. */
lineage_status mm(infer_model *im, const float *X, size_t T, size_t ldx, const wref *w, const float *bias, float *Y,
                  size_t ldy, lineage_error *err);
/* Several products of the same X (equal cols): activations quantized once, one parallel job. */
typedef struct mm_out {
    const wref *w;
    const float *bias;
    float *Y;
    size_t ldy;
} mm_out;
lineage_status mm_many(infer_model *im, const float *X, size_t T, size_t ldx, const mm_out *outs, size_t n,
                       lineage_error *err);
/* Memory for large work buffers (2 MiB aligned, huge pages advised: one fault per 2 MiB, not per 4 KiB);
 * release with free(). im_work: the model's grow-only buffer `slot` of at least `bytes` (NULL: out of
 * memory), valid until the next im_work of that slot or infer_close. */
void *work_alloc(size_t bytes);
void *im_work(infer_model *im, int slot, size_t bytes);
/* Bytes of w repacked for its kernel; mm_prepack repacks ws[0..n) (allocating packed or q8), in parallel. */
uint64_t mm_weight_bytes(const infer_model *im, const wref *w);
lineage_status mm_prepack(infer_model *im, wref **ws, size_t n, lineage_error *err);
/* Packs rows x K row-major f32 into panels (rows padded to a multiple of 16 with zeros). */
void mm_pack(const float *rows, size_t nrows, size_t K, float *panels);
size_t mm_packed_floats(size_t rows, size_t K);
/* Kernel: Y[t][r] = sum_k X[t][k] * P[k][r] for t < T, r < 16*npanels, one packed row block. */
typedef void (*mm_kernel_fn)(const float *X, size_t T, size_t ldx, const float *P, size_t npanels, size_t K,
                             float *Y, size_t ldy, size_t rows);
void mm_kernel_scalar(const float *X, size_t T, size_t ldx, const float *P, size_t npanels, size_t K, float *Y,
                      size_t ldy, size_t rows);
void mm_kernel_avx2(const float *X, size_t T, size_t ldx, const float *P, size_t npanels, size_t K, float *Y,
                    size_t ldy, size_t rows);
void mm_kernel_avx512(const float *X, size_t T, size_t ldx, const float *P, size_t npanels, size_t K, float *Y,
                      size_t ldy, size_t rows);
mm_kernel_fn mm_kernel(void);
/* The same over f16 panels (F16 weights kept at 2 bytes, widened exactly: the f32 kernel's results). */
typedef void (*mm_kernel16_fn)(const float *X, size_t T, size_t ldx, const uint16_t *P, size_t npanels, size_t K,
                               float *Y, size_t ldy, size_t rows);
void mm_kernel16_scalar(const float *X, size_t T, size_t ldx, const uint16_t *P, size_t npanels, size_t K, float *Y,
                        size_t ldy, size_t rows);
void mm_kernel16_avx2(const float *X, size_t T, size_t ldx, const uint16_t *P, size_t npanels, size_t K, float *Y,
                      size_t ldy, size_t rows);
void mm_kernel16_avx512(const float *X, size_t T, size_t ldx, const uint16_t *P, size_t npanels, size_t K, float *Y,
                        size_t ldy, size_t rows);
mm_kernel16_fn mm_kernel16(void);
/* f[i] = h[i] widened from f16, exactly (F16C). */
void f16_widen_avx2(const uint16_t *h, float *f, size_t n);
void f16_widen_avx512(const uint16_t *h, float *f, size_t n);
/* Whether tensor t is packed as f16 panels (F16 values, no FP8 scale). */
int f16_packable(const lineage_model *m, long t);

/* ---- integer matmul (qmatmul.c): Q8_0/Q4_0 weights, activations quantized per block of 32 ---- */
#define Q8_BLOCK 32
#define Q8_PANEL_BLOCK_BYTES (8 * 64 + 16 * 4 + 16 * 4)   /* int8 [8][16][4], 16 f32 scales, 16 i32 -128*sums */
size_t q8_packed_bytes(size_t rows, size_t K);
/* Whether tensor t can be packed (Q8_0/Q4_0 blocks in a mapped local file, no FP8 scale). */
int q8_packable(const lineage_model *m, long t);
/* Packs Hugging Face rows [row0, row0 + nrows) of tensor t into panels (rows padded with zeros). */
void q8_pack_rows(const lineage_model *m, long t, uint64_t row0, size_t nrows, unsigned char *panels);
/* One row of K activations -> K/32 blocks of int8 (plus 128 when offset: unsigned bytes) and scales. */
void q8_quantize(const float *x, size_t K, int offset, uint8_t *q, float *d);
void q8_quantize_avx512(const float *x, size_t K, int offset, uint8_t *q, float *d);
/* Y[t][r] = sum_b XD[t][b] * scale[r][b] * (X8[t] . W[r] over block b), rows of X8 K apart. */
typedef void (*q8_kernel_fn)(const uint8_t *X8, const float *XD, size_t T, size_t K, const unsigned char *P,
                             size_t npanels, float *Y, size_t ldy, size_t rows);
void q8_kernel_scalar(const uint8_t *X8, const float *XD, size_t T, size_t K, const unsigned char *P,
                      size_t npanels, float *Y, size_t ldy, size_t rows);
void q8_kernel_avx2(const uint8_t *X8, const float *XD, size_t T, size_t K, const unsigned char *P,
                    size_t npanels, float *Y, size_t ldy, size_t rows);
void q8_kernel_avx512vnni(const uint8_t *X8, const float *XD, size_t T, size_t K, const unsigned char *P,
                          size_t npanels, float *Y, size_t ldy, size_t rows);
/* The kernel for this CPU; *offset: whether it wants activations offset to unsigned bytes. */
q8_kernel_fn q8_kernel(int *offset);

/* ---- building blocks (ops.c) ---- */
/* out = x / rms(x) * (w + plus_one); w NULL: no weight. out may alias x. */
void op_rmsnorm(const float *x, const float *w, size_t n, double eps, int plus_one, float *out);
void op_layernorm(const float *x, const float *w, const float *b, size_t n, double eps, float *out);
/* Rotates the first rot_dim dims of one head (rotate_half pairing i, i + rot_dim/2) at position pos. */
void op_rope(float *head, size_t rot_dim, const float *inv_freq, double pos, double attn_factor);
/* The same rotation with pairs (2i, 2i + 1) (DeepSeek's rope part). */
void op_rope_interleaved(float *head, size_t rot_dim, const float *inv_freq, double pos, double attn_factor);
/* The same two rotations from a table: c[i], s[i] as op_rope forms them at pos (op_rope_table). */
void op_rope_table(size_t half, const float *inv_freq, double pos, double attn_factor, float *c, float *s);
void op_rope_cs(float *head, size_t half, const float *c, const float *s);
void op_rope_interleaved_cs(float *head, size_t half, const float *c, const float *s);
void op_softmax(float *x, size_t n);
/* g NULL: u[i] = op_act(ACT_SILU, u[i]); else u[i] = op_act(ACT_SILU, g[i]) * u[i], bit for bit (ops_avx512.c). */
void act_silu_avx512(const float *g, float *u, size_t n);
void softmax_avx512(float *x, size_t n);   /* op_softmax bit for bit (glibc's expf; ops_avx512.c) */
float op_act(act_kind a, float x);
/* RoPE frequencies of a rope_set for sequence length seq (dynamic NTK only looks at seq). */
void rope_frequencies(const rope_set *r, size_t rot_dim, size_t seq, float *out);
/* Routing of one token: logits of n experts -> k (index, weight) pairs. */
void moe_route(const infer_model *im, const float *logits, const float *bias, int n, int *idx, float *weight);
#endif
