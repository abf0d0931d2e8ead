/* st2gguf MODEL OUT.gguf [f32|f16|bf16|q8_0|q4_0]: converts a Llama-family HF checkpoint (dense, no
 * biases) to a GGUF llama.cpp loads (blk.N.* names, attn_q/attn_k rows in llama.cpp's rotary order),
 * 2-D weights in the given type, norms F32, general.* keys and the tokenizer.ggml.* keys: the model's
 * own tokenizer when it has one (byte-level BPE as "gpt2" with merges, SentencePiece-style as "llama"
 * with scores), else a synthetic SentencePiece vocabulary of the model's size (byte pieces and
 * placeholders) so that checkpoints without a tokenizer still load for id-level runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/arch.h"
#include "support/gguf_write.h"
#include "format/model.h"
#include "format/tokenizer.h"
#include "io/file.h"
#include "util/json.h"

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

/* llama.cpp's llama_ftype of a file whose 2-D weights are all of one type. */
static uint64_t file_type(lineage_dtype t)
{
    switch (t) {
    case LINEAGE_DTYPE_F16: return 1;
    case LINEAGE_DTYPE_Q4_0: return 2;
    case LINEAGE_DTYPE_Q8_0: return 7;
    case LINEAGE_DTYPE_BF16: return 32;
    default: return 0;
    }
}

/* add_bos_token of the folder's tokenizer_config.json: 1, 0, or -1 when not said. */
static int config_add_bos(const char *dir)
{
    char *path = path_join(dir, "tokenizer_config.json"), *text = NULL;
    size_t len = 0;
    int r = -1, b;
    lineage_error e;
    if (path && path_is_file(path) && !file_read_all(path, 64u << 20, &text, &len, &e)) {
        arena ar;
        arena_init(&ar, 0);
        json_value *cfg;
        if (!json_parse(text, len, NULL, &ar, &cfg, "tokenizer_config.json", &e) && json_get_bool(cfg, "add_bos_token", &b))
            r = b;
        arena_free(&ar);
    }
    free(text);
    free(path);
    return r;
}

static uint32_t role_id(const lineage_tokenizer *tk, int role)
{
    const char *s = tk->special_roles[role];
    return s ? tok_map_get(&tk->by_text, s, strlen(s)) : UINT32_MAX;
}

/* tokenizer.ggml.* from the model's tokenizer (vocab cut or padded to the embedding rows with unused
 * placeholders), or a synthetic vocabulary when tk is NULL. */
static int add_tokenizer(gguf_writer *w, const lineage_tokenizer *tk, uint64_t vocab)
{
    uint64_t n = vocab;   /* llama.cpp sizes the embedding by the token count */
    char **text = calloc(n, sizeof *text);
    size_t *len = calloc(n, sizeof *len);
    float *score = calloc(n, sizeof *score);
    int32_t *type = calloc(n, sizeof *type);
    int ok = text && len && score && type;
    int gpt2 = tk && tk->model == TOK_MODEL_BPE && tk->surface == TOK_SURFACE_BYTELEVEL;
    for (uint64_t i = 0; ok && i < n; i++) {
        const tok_entry *e = tk && i < tk->n && tk->tok[i].text ? &tk->tok[i] : NULL;
        char buf[32];
        if (e) {
            text[i] = malloc(e->text_len + 1u);
            if ((ok = text[i] != NULL)) memcpy(text[i], e->text, e->text_len);
            len[i] = e->text_len;
            score[i] = e->score;
            type[i] = e->special && e->type == TOK_NORMAL ? TOK_CONTROL : e->type ? e->type : TOK_NORMAL;
            continue;
        }
        if (!tk && i < 3) snprintf(buf, sizeof buf, "%s", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
        else if (!tk && vocab >= 259 && i < 259) snprintf(buf, sizeof buf, "<0x%02X>", (unsigned)(i - 3));
        else snprintf(buf, sizeof buf, tk ? "<unused_%llu>" : "\xe2\x96\x81t%llu", (unsigned long long)i);
        len[i] = strlen(buf);
        ok = (text[i] = strdup(buf)) != NULL;
        type[i] = tk ? TOK_UNUSED : i < 3 ? (i == 0 ? TOK_UNKNOWN : TOK_CONTROL) : vocab >= 259 && i < 259 ? TOK_BYTE : TOK_NORMAL;
        score[i] = tk || i < 259 ? 0.0f : -(float)i;
    }
    if (ok) {
        gguf_add_string(w, "tokenizer.ggml.model", gpt2 ? "gpt2" : "llama", gpt2 ? 4 : 5);
        if (gpt2) gguf_add_string(w, "tokenizer.ggml.pre", "default", 7);
        gguf_add_string_array(w, "tokenizer.ggml.tokens", (const char *const *)text, len, n);
        if (!gpt2) gguf_add_array(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, score, n);
        gguf_add_array(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, type, n);
    }
    if (ok && gpt2 && tk->n_merges) {
        char **m = calloc(tk->n_merges, sizeof *m);
        ok = m != NULL;
        for (size_t i = 0; ok && i < tk->n_merges; i++) {
            const tok_entry *a = &tk->tok[tk->merges[i][0]], *b = &tk->tok[tk->merges[i][1]];
            if ((ok = (m[i] = malloc((size_t)a->text_len + b->text_len + 2)) != NULL)) {
                memcpy(m[i], a->text, a->text_len);
                m[i][a->text_len] = ' ';
                memcpy(m[i] + a->text_len + 1, b->text, b->text_len);
                m[i][a->text_len + 1 + b->text_len] = 0;
            }
        }
        if (ok) gguf_add_string_array(w, "tokenizer.ggml.merges", (const char *const *)m, NULL, tk->n_merges);
        for (size_t i = 0; m && i < tk->n_merges; i++) free(m[i]);
        free(m);
    }
    static const struct { int role; const char *key; } ids[] = {
        {TOK_ROLE_BOS, "tokenizer.ggml.bos_token_id"}, {TOK_ROLE_EOS, "tokenizer.ggml.eos_token_id"},
        {TOK_ROLE_UNK, "tokenizer.ggml.unknown_token_id"}, {TOK_ROLE_PAD, "tokenizer.ggml.padding_token_id"}};
    for (size_t i = 0; ok && i < sizeof ids / sizeof ids[0]; i++) {
        uint32_t id = tk ? role_id(tk, ids[i].role) : ids[i].role == TOK_ROLE_BOS ? 1 : ids[i].role == TOK_ROLE_EOS ? 2
                                                       : ids[i].role == TOK_ROLE_UNK ? 0 : UINT32_MAX;
        if (id != UINT32_MAX) gguf_add_int(w, ids[i].key, GGUF_TYPE_UINT32, id);
    }
    for (uint64_t i = 0; text && i < n; i++) free(text[i]);
    free(text);
    free(len);
    free(score);
    free(type);
    return ok;
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
        fprintf(stderr, "usage: st2gguf MODEL OUT.gguf [f32|f16|bf16|q8_0|q4_0]\n");
        return 2;
    }
    lineage_dtype type = LINEAGE_DTYPE_F32;
    if (argc == 4) {
        if (!strcmp(argv[3], "f16")) type = LINEAGE_DTYPE_F16;
        else if (!strcmp(argv[3], "bf16")) type = LINEAGE_DTYPE_BF16;
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
    const char *base = strrchr(argv[1], '/'), *gname = base && base[1] ? base + 1 : argv[1];
    gguf_add_string(w, "general.name", gname, strlen(gname));
    gguf_add_int(w, "general.file_type", GGUF_TYPE_UINT32, file_type(type));
    gguf_add_int(w, "llama.rope.dimension_count", GGUF_TYPE_UINT32, (uint64_t)a.head_dim);
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
    if (t >= 0) {
        lineage_tokenizer *tk = NULL;
        if (lineage_tokenizer_open(argv[1], &tk, &err)) tk = NULL;   /* none: a synthetic vocabulary */
        uint64_t vocab = lineage_model_tensor(m, (size_t)t)->rows;
        gguf_add_int(w, "llama.vocab_size", GGUF_TYPE_UINT32, vocab);
        ok = add_tokenizer(w, tk, vocab);
        int bos = tk ? config_add_bos(argv[1]) : -1;
        if (bos >= 0) gguf_add_int(w, "tokenizer.ggml.add_bos_token", GGUF_TYPE_BOOL, (uint64_t)bos);
        lineage_tokenizer_close(tk);
    }
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
