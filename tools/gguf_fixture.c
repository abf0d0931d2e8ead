/* gguf_fixture DIR: writes small GGUF files made with the writer (the fuzz seeds in
 * fuzz/corpus/gguf): metadata of every value type, tensors of every stored type, a llama Q/K file,
 * a vocab-only file and nested arrays. */
#include <stdio.h>
#include <string.h>

#include "support/gguf_write.h"

static int save(gguf_writer *w, const char *dir, const char *name)
{
    char path[1024];
    lineage_error err;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    lineage_status st = gguf_writer_save(w, path, &err);
    gguf_writer_free(w);
    if (st) fprintf(stderr, "gguf_fixture: %s\n", err.message);
    return st ? 1 : 0;
}

static void le32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void le64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gguf_fixture DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    int fails = 0;
    float x[512];
    for (int i = 0; i < 512; i++) x[i] = (float)((i * 37) % 101 - 50) / 25.0f;

    gguf_writer *w = gguf_writer_new();   /* every value type */
    gguf_add_string(w, "general.architecture", "qwen2", 5);
    gguf_add_int(w, "a.u8", GGUF_TYPE_UINT8, 7);
    gguf_add_int(w, "a.i8", GGUF_TYPE_INT8, (uint64_t)-7);
    gguf_add_int(w, "a.u16", GGUF_TYPE_UINT16, 700);
    gguf_add_int(w, "a.i16", GGUF_TYPE_INT16, (uint64_t)-700);
    gguf_add_int(w, "a.u32", GGUF_TYPE_UINT32, 70000);
    gguf_add_int(w, "a.i32", GGUF_TYPE_INT32, (uint64_t)-70000);
    gguf_add_float(w, "a.f32", GGUF_TYPE_FLOAT32, 0.5);
    gguf_add_int(w, "a.bool", GGUF_TYPE_BOOL, 1);
    gguf_add_int(w, "a.u64", GGUF_TYPE_UINT64, 1ull << 40);
    gguf_add_int(w, "a.i64", GGUF_TYPE_INT64, (uint64_t)-(1ll << 40));
    gguf_add_float(w, "a.f64", GGUF_TYPE_FLOAT64, -0.25);
    const int16_t i16s[] = {1, -2, 3};
    gguf_add_array(w, "a.arr_i16", GGUF_TYPE_INT16, i16s, 3);
    const uint8_t bools[] = {0, 1};
    gguf_add_array(w, "a.arr_bool", GGUF_TYPE_BOOL, bools, 2);
    fails += save(w, dir, "metadata.gguf");

    w = gguf_writer_new();   /* vocab only */
    gguf_add_string(w, "general.architecture", "llama", 5);
    gguf_add_string(w, "tokenizer.ggml.model", "llama", 5);
    const char *toks[] = {"<unk>", "<s>", "</s>", "<0x0A>", "\xe2\x96\x81the", "a", "b", "ab"};
    gguf_add_string_array(w, "tokenizer.ggml.tokens", toks, NULL, 8);
    const float scores[] = {0, 0, 0, 0, -1, -2, -3, -4};
    gguf_add_array(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, scores, 8);
    const int32_t types[] = {2, 3, 3, 6, 1, 1, 1, 1};
    gguf_add_array(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, 8);
    const char *merges[] = {"a b"};
    gguf_add_string_array(w, "tokenizer.ggml.merges", merges, NULL, 1);
    gguf_add_int(w, "tokenizer.ggml.bos_token_id", GGUF_TYPE_UINT32, 1);
    fails += save(w, dir, "vocab.gguf");

    w = gguf_writer_new();   /* tensors of every stored type, raw K-quant blocks */
    gguf_add_string(w, "general.architecture", "qwen2", 5);
    const uint64_t s2[] = {2, 64}, s1[] = {64}, s3[] = {2, 2, 32}, sk[] = {1, 256};
    gguf_add_tensor_f32(w, "token_embd.weight", 2, s2, x, LINEAGE_DTYPE_F32);
    gguf_add_tensor_f32(w, "output_norm.weight", 1, s1, x, LINEAGE_DTYPE_F16);
    gguf_add_tensor_f32(w, "blk.0.ffn_gate_exps.weight", 3, s3, x, LINEAGE_DTYPE_BF16);
    gguf_add_tensor_f32(w, "blk.0.ffn_up.weight", 2, s2, x, LINEAGE_DTYPE_Q8_0);
    gguf_add_tensor_f32(w, "blk.0.ffn_down.weight", 2, s2, x, LINEAGE_DTYPE_Q4_0);
    unsigned char blk[210];
    for (int i = 0; i < 210; i++) blk[i] = (unsigned char)(i * 13);
    const uint32_t ktypes[] = {10, 11, 12, 13, 14};
    const size_t kbytes[] = {84, 110, 144, 176, 210};
    for (int k = 0; k < 5; k++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%d.attn_output.weight", k);
        gguf_add_tensor_raw(w, name, ktypes[k], 2, sk, blk, kbytes[k]);
    }
    fails += save(w, dir, "tensors.gguf");

    w = gguf_writer_new();   /* llama Q/K (unpermuted on read), alignment 64 */
    gguf_writer_set_alignment(w, 64);
    gguf_add_int(w, "general.alignment", GGUF_TYPE_UINT32, 64);
    gguf_add_string(w, "general.architecture", "llama", 5);
    gguf_add_int(w, "llama.attention.head_count", GGUF_TYPE_UINT32, 2);
    gguf_add_int(w, "llama.attention.head_count_kv", GGUF_TYPE_UINT32, 1);
    const uint64_t sq[] = {8, 32}, skv[] = {4, 32};
    gguf_add_tensor_f32(w, "blk.0.attn_q.weight", 2, sq, x, LINEAGE_DTYPE_F32);
    gguf_add_tensor_f32(w, "blk.0.attn_k.weight", 2, skv, x, LINEAGE_DTYPE_Q8_0);
    fails += save(w, dir, "llama-qk.gguf");

    w = gguf_writer_new();   /* nested arrays, version 2 */
    gguf_writer_set_version(w, 2);
    unsigned char raw[4 + 8 + 2 * (4 + 8 + 4)];
    le32(raw, 9); le64(raw + 4, 2);
    for (int k = 0; k < 2; k++) {
        unsigned char *p = raw + 12 + 16 * k;
        le32(p, 4); le64(p + 4, 1); le32(p + 12, (uint32_t)k);
    }
    gguf_add_raw(w, "a.nested", 9, raw, sizeof raw);
    fails += save(w, dir, "nested-v2.gguf");
    return fails ? 1 : 0;
}
