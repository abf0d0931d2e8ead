/* st2gguf MODEL OUT.gguf [f32|f16|q8_0|q4_0]: converts a Llama-family HF checkpoint (dense, no biases)
 * to a llama.cpp-style GGUF (blk.N.* names, attn_q/attn_k rows in llama.cpp's rotary order), 2-D
 * weights in the given type, norms F32. No tokenizer is written. For tests of the GGUF path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/arch.h"
#include "support/gguf_write.h"
#include "format/model.h"

static const struct { const char *role, *gguf; } names[] = {
    {"attn_norm", "attn_norm"}, {"attn_q", "attn_q"}, {"attn_k", "attn_k"}, {"attn_v", "attn_v"},
    {"attn_o", "attn_output"}, {"mlp_norm", "ffn_norm"}, {"mlp_gate", "ffn_gate"}, {"mlp_up", "ffn_up"},
    {"mlp_down", "ffn_down"}};

/* HF row r is stored at row (r - w) + (w % half) * 2 + w / half, w = r % head_dim */
static void permute_rows(const float *src, float *dst, uint64_t rows, uint64_t cols, uint64_t heads)
{
    uint64_t hd = rows / heads, half = hd / 2;
    for (uint64_t r = 0; r < rows; r++) {
        uint64_t w = r % hd, s = r - w + (w % half) * 2 + w / half;
        memcpy(dst + s * cols, src + r * cols, cols * sizeof *dst);
    }
}

static int add(gguf_writer *w, const lineage_model *m, long t, const char *name, lineage_dtype type, uint64_t heads)
{
    lineage_error err;
    const lineage_tensor_info *in = lineage_model_tensor(m, (size_t)t);
    float *v = malloc(in->numel * sizeof *v), *p = NULL;
    if (!v || lineage_tensor_read_rows_f32(m, (size_t)t, 0, in->rows, v, &err)) {
        fprintf(stderr, "st2gguf: cannot read %s\n", in->name);
        free(v);
        return 0;
    }
    if (heads && (p = malloc(in->numel * sizeof *p))) {
        permute_rows(v, p, in->rows, in->cols, heads);
        free(v);
        v = p;
    }
    gguf_add_tensor_f32(w, name, in->ndim, in->shape, v, in->ndim == 1 ? LINEAGE_DTYPE_F32 : type);
    free(v);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: st2gguf MODEL OUT.gguf [f32|f16|q8_0|q4_0]\n");
        return 2;
    }
    lineage_dtype type = LINEAGE_DTYPE_F32;
    if (argc == 4) {
        if (!strcmp(argv[3], "f16")) type = LINEAGE_DTYPE_F16;
        else if (!strcmp(argv[3], "q8_0")) type = LINEAGE_DTYPE_Q8_0;
        else if (!strcmp(argv[3], "q4_0")) type = LINEAGE_DTYPE_Q4_0;
        else if (strcmp(argv[3], "f32")) { fprintf(stderr, "st2gguf: unknown type %s\n", argv[3]); return 2; }
    }
    lineage_error err;
    lineage_model *m;
    if (lineage_model_open(argv[1], &m, &err)) {
        fprintf(stderr, "st2gguf: %s\n", err.message);
        return 2;
    }
    arena ar;
    arena_init(&ar, 0);
    arch_info a;
    arch_of_model(m, &a, &ar, NULL);
    gguf_writer *w = gguf_writer_new();
    gguf_add_string(w, "general.architecture", "llama", 5);
    gguf_add_int(w, "llama.embedding_length", GGUF_TYPE_UINT32, (uint64_t)a.hidden_size);
    gguf_add_int(w, "llama.block_count", GGUF_TYPE_UINT32, (uint64_t)a.num_layers);
    gguf_add_int(w, "llama.attention.head_count", GGUF_TYPE_UINT32, (uint64_t)a.num_heads);
    gguf_add_int(w, "llama.attention.head_count_kv", GGUF_TYPE_UINT32, (uint64_t)a.num_kv_heads);
    gguf_add_int(w, "llama.attention.key_length", GGUF_TYPE_UINT32, (uint64_t)a.head_dim);
    gguf_add_int(w, "llama.feed_forward_length", GGUF_TYPE_UINT32, (uint64_t)a.intermediate_size);
    gguf_add_int(w, "llama.context_length", GGUF_TYPE_UINT32, (uint64_t)a.max_positions);
    gguf_add_float(w, "llama.rope.freq_base", GGUF_TYPE_FLOAT32, a.rope_theta > 0 ? a.rope_theta : 10000.0);
    gguf_add_float(w, "llama.attention.layer_norm_rms_epsilon", GGUF_TYPE_FLOAT32, a.norm_eps > 0 ? a.norm_eps : 1e-5);
    int ok = 1;
    long t = lineage_model_find_role(m, LINEAGE_COMPONENT_TEXT, "embed", -1, -1);
    ok = ok && t >= 0 && add(w, m, t, "token_embd.weight", type, 0);
    t = lineage_model_find_role(m, LINEAGE_COMPONENT_TEXT, "final_norm", -1, -1);
    ok = ok && t >= 0 && add(w, m, t, "output_norm.weight", type, 0);
    t = lineage_model_find_role(m, LINEAGE_COMPONENT_TEXT, "lm_head", -1, -1);
    ok = ok && (t < 0 || add(w, m, t, "output.weight", type, 0));
    for (int l = 0; ok && l < a.num_layers; l++)
        for (size_t i = 0; ok && i < sizeof names / sizeof names[0]; i++) {
            char name[96];
            t = lineage_model_find_role(m, LINEAGE_COMPONENT_TEXT, names[i].role, l, -1);
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, names[i].gguf);
            uint64_t heads = !strcmp(names[i].role, "attn_q") ? (uint64_t)a.num_heads
                             : !strcmp(names[i].role, "attn_k") ? (uint64_t)a.num_kv_heads : 0;
            ok = t >= 0 && add(w, m, t, name, type, heads);
        }
    arena_free(&ar);
    lineage_model_close(m);
    if (!ok) {
        gguf_writer_free(w);
        fprintf(stderr, "st2gguf: %s is not a dense Llama-family checkpoint\n", argv[1]);
        return 2;
    }
    lineage_status st = gguf_writer_save(w, argv[2], &err);
    gguf_writer_free(w);
    if (st) fprintf(stderr, "st2gguf: %s\n", err.message);
    return st ? 1 : 0;
}
