/* GGUF reader: metadata of every value type, tensor inventory in PyTorch order, llama Q/K unpermute,
 * the real llama.cpp vocab files, the damaged files in corrupt/, every truncation of a small fixture,
 * and hand-made hostile files. Fixtures are written with gguf_write into a temporary folder. */
#include <dirent.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "format/dtype.h"
#include "format/gguf.h"
#include "support/gguf_write.h"
#include "format/model.h"

static char tmpdir[512];

static const char *tmp_path(const char *name)
{
    static char p[1024];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static int one_line(const lineage_error *e, const char *name)
{
    return strstr(e->message, name) == e->message && !strchr(e->message, '\n');
}

static lineage_status parse_bytes(const unsigned char *b, size_t n, gguf_file **g, lineage_error *err)
{
    return gguf_parse_memory(b, n, "mem.gguf", g, err);
}

static void le64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void le32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }

/* ---- metadata ----------------------------------------------------------------------------------- */

static void check_metadata(void)
{
    gguf_writer *w = gguf_writer_new();
    gguf_add_int(w, "t.u8", GGUF_TYPE_UINT8, 200);
    gguf_add_int(w, "t.i8", GGUF_TYPE_INT8, (uint64_t)-100);
    gguf_add_int(w, "t.u16", GGUF_TYPE_UINT16, 60000);
    gguf_add_int(w, "t.i16", GGUF_TYPE_INT16, (uint64_t)-30000);
    gguf_add_int(w, "t.u32", GGUF_TYPE_UINT32, 4000000000u);
    gguf_add_int(w, "t.i32", GGUF_TYPE_INT32, (uint64_t)-2000000000);
    gguf_add_float(w, "t.f32", GGUF_TYPE_FLOAT32, 1.5);
    gguf_add_int(w, "t.bool", GGUF_TYPE_BOOL, 1);
    gguf_add_string(w, "t.str", "h\xc3\xa9llo", 6);
    gguf_add_int(w, "t.u64", GGUF_TYPE_UINT64, (1ull << 63) + 5);
    gguf_add_int(w, "t.i64", GGUF_TYPE_INT64, (uint64_t)-(1ll << 62));
    gguf_add_float(w, "t.f64", GGUF_TYPE_FLOAT64, 3.25);
    const int32_t i32s[] = {-7, 0, 2147483647};
    gguf_add_array(w, "a.i32", GGUF_TYPE_INT32, i32s, 3);
    const float f32s[] = {0.25f, -2.0f};
    gguf_add_array(w, "a.f32", GGUF_TYPE_FLOAT32, f32s, 2);
    const uint8_t bools[] = {1, 0, 1};
    gguf_add_array(w, "a.bool", GGUF_TYPE_BOOL, bools, 3);
    const uint16_t u16s[] = {1, 65535};
    gguf_add_array(w, "a.u16", GGUF_TYPE_UINT16, u16s, 2);
    const double f64s[] = {1e300};
    gguf_add_array(w, "a.f64", GGUF_TYPE_FLOAT64, f64s, 1);
    const char *strs[] = {"<unk>", "", "\xe2\x96\x81the", "\xff\xfe raw"};
    gguf_add_string_array(w, "a.str", strs, NULL, 4);
    gguf_add_array(w, "a.empty", GGUF_TYPE_UINT64, NULL, 0);
    /* nested: array of 2 arrays of u32 */
    unsigned char nested[4 + 8 + 2 * (4 + 8) + 3 * 4];
    unsigned char *p = nested;
    le32(p, GGUF_TYPE_ARRAY); le64(p + 4, 2); p += 12;
    le32(p, GGUF_TYPE_UINT32); le64(p + 4, 2); le32(p + 12, 10); le32(p + 16, 11); p += 20;
    le32(p, GGUF_TYPE_UINT32); le64(p + 4, 1); le32(p + 12, 12); p += 16;
    gguf_add_raw(w, "a.nested", GGUF_TYPE_ARRAY, nested, (size_t)(p - nested));
    gguf_add_string(w, "general.architecture", "qwen2", 5);
    lineage_error err;
    CHECK(gguf_writer_save(w, tmp_path("meta.gguf"), &err) == 0, "writer saves the metadata fixture");
    gguf_writer_free(w);

    gguf_file *g;
    lineage_status st = gguf_open_file(tmp_path("meta.gguf"), &g, &err);
    CHECK(st == 0, "metadata fixture opens (%s)", st ? err.message : "ok");
    if (st) return;
    CHECK(gguf_version(g) == 3 && gguf_kv_count(g) == 21 && gguf_tensor_count(g) == 0, "version 3, 21 keys, 0 tensors");
    int64_t i;
    double f;
    size_t len;
    CHECK(gguf_get_int(g, "t.u8", &i) && i == 200 && gguf_kv_type(gguf_find(g, "t.u8")) == GGUF_TYPE_UINT8, "uint8");
    CHECK(gguf_get_int(g, "t.i8", &i) && i == -100, "int8 sign-extends");
    CHECK(gguf_get_int(g, "t.u16", &i) && i == 60000, "uint16");
    CHECK(gguf_get_int(g, "t.i16", &i) && i == -30000, "int16");
    CHECK(gguf_get_int(g, "t.u32", &i) && i == 4000000000ll, "uint32 above 2^31");
    CHECK(gguf_get_int(g, "t.i32", &i) && i == -2000000000, "int32");
    CHECK(gguf_get_float(g, "t.f32", &f) && f == 1.5 && !gguf_get_int(g, "t.f32", &i), "float32, not an int");
    CHECK(gguf_get_int(g, "t.bool", &i) && i == 1 && gguf_kv_type(gguf_find(g, "t.bool")) == GGUF_TYPE_BOOL, "bool");
    const char *s = gguf_kv_string(gguf_find(g, "t.str"), &len);
    CHECK(s && len == 6 && !strcmp(s, "h\xc3\xa9llo") && !gguf_kv_string(gguf_find(g, "t.u8"), &len), "string (and none for a uint8)");
    CHECK(!gguf_get_int(g, "t.u64", &i) && gguf_get_float(g, "t.u64", &f) && f == 9223372036854775808.0,
          "uint64 above INT64_MAX: no int, float ok");
    CHECK(gguf_get_int(g, "t.i64", &i) && i == -(1ll << 62), "int64");
    CHECK(gguf_get_float(g, "t.f64", &f) && f == 3.25, "float64");
    const gguf_kv *a = gguf_find(g, "a.i32");
    CHECK(gguf_kv_type(a) == GGUF_TYPE_ARRAY && gguf_kv_array_type(a) == GGUF_TYPE_INT32 && gguf_kv_array_count(a) == 3 &&
          gguf_kv_array_int(a, 0, &i) && i == -7 && gguf_kv_array_int(a, 2, &i) && i == 2147483647 &&
          !gguf_kv_array_int(a, 3, &i), "int32 array, bounds-checked");
    a = gguf_find(g, "a.f32");
    CHECK(gguf_kv_array_float(a, 1, &f) && f == -2.0 && !gguf_kv_array_int(a, 0, &i), "float32 array");
    a = gguf_find(g, "a.bool");
    CHECK(gguf_kv_array_int(a, 2, &i) && i == 1 && gguf_kv_array_int(a, 1, &i) && i == 0, "bool array");
    a = gguf_find(g, "a.u16");
    CHECK(gguf_kv_array_int(a, 1, &i) && i == 65535, "uint16 array");
    a = gguf_find(g, "a.f64");
    CHECK(gguf_kv_array_float(a, 0, &f) && f == 1e300, "float64 array");
    a = gguf_find(g, "a.str");
    int strings_ok = gguf_kv_array_count(a) == 4 && gguf_kv_array_type(a) == GGUF_TYPE_STRING;
    for (uint64_t k = 0; strings_ok && k < 4; k++) {
        const char *e = gguf_kv_array_string(a, k, &len);
        strings_ok = e && len == strlen(strs[k]) && !memcmp(e, strs[k], len);
    }
    CHECK(strings_ok && !gguf_kv_array_string(a, 4, &len), "string array, including empty and non-UTF-8 entries");
    CHECK(gguf_kv_array_count(gguf_find(g, "a.empty")) == 0, "empty array");
    a = gguf_find(g, "a.nested");
    CHECK(gguf_kv_array_type(a) == GGUF_TYPE_ARRAY && gguf_kv_array_count(a) == 2 && !gguf_kv_array_int(a, 0, &i),
          "nested array: type ARRAY, count 2, no elements");
    CHECK(!gguf_find(g, "missing") && !gguf_get_string(g, "missing") && !strcmp(gguf_architecture(g), "qwen2"),
          "missing keys and general.architecture");
    CHECK(!strcmp(gguf_kv_key(gguf_kv_at(g, 0)), "t.u8") && !gguf_kv_at(g, 21), "keys in file order");
    gguf_file_free(g);
}

/* ---- tensors -------------------------------------------------------------------------------------- */

static void fill(float *x, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++) x[i] = scale * (float)sin(0.37 * (double)i + 0.1 * scale);
}

static void check_tensors(void)
{
    static float emb[8 * 64], norm[64], up[16 * 64], b3[4 * 2 * 64], q8[4 * 64], q4[4 * 64];
    fill(emb, 8 * 64, 1); fill(norm, 64, 2); fill(up, 16 * 64, 0.5f); fill(b3, 512, 3); fill(q8, 256, 1.5f);
    fill(q4, 256, 0.75f);
    gguf_writer *w = gguf_writer_new();
    gguf_writer_set_alignment(w, 64);
    gguf_add_int(w, "general.alignment", GGUF_TYPE_UINT32, 64);
    gguf_add_string(w, "general.architecture", "qwen2", 5);
    const uint64_t s_emb[] = {8, 64}, s_norm[] = {64}, s_up[] = {16, 64}, s_b3[] = {4, 2, 64}, s_q[] = {4, 64},
                   s_k[] = {2, 256}, s_iq[] = {3, 256};
    gguf_add_tensor_f32(w, "token_embd.weight", 2, s_emb, emb, LINEAGE_DTYPE_F32);
    gguf_add_tensor_f32(w, "blk.0.attn_norm.weight", 1, s_norm, norm, LINEAGE_DTYPE_F32);
    gguf_add_tensor_f32(w, "blk.0.ffn_up.weight", 2, s_up, up, LINEAGE_DTYPE_F16);
    gguf_add_tensor_f32(w, "blk.0.ffn_gate_exps.weight", 3, s_b3, b3, LINEAGE_DTYPE_BF16);
    gguf_add_tensor_f32(w, "blk.0.attn_v.weight", 2, s_q, q8, LINEAGE_DTYPE_Q8_0);
    gguf_add_tensor_f32(w, "blk.0.attn_output.weight", 2, s_q, q4, LINEAGE_DTYPE_Q4_0);
    unsigned char k4[2 * 144], iq[3 * 66];
    for (size_t i = 0; i < sizeof k4; i++) k4[i] = (unsigned char)(i * 7 + 3);
    for (size_t i = 0; i < sizeof iq; i++) iq[i] = (unsigned char)i;
    k4[0] = 0x00; k4[1] = 0x3c; k4[144] = 0x00; k4[145] = 0x3c;   /* d = 1.0 */
    gguf_add_tensor_raw(w, "blk.0.ffn_down.weight", 12, 2, s_k, k4, sizeof k4);
    gguf_add_tensor_raw(w, "blk.1.ffn_down.weight", 16, 2, s_iq, iq, sizeof iq);
    lineage_error err;
    CHECK(gguf_writer_save(w, tmp_path("tensors.gguf"), &err) == 0, "writer saves the tensor fixture");
    gguf_writer_free(w);

    lineage_model *m;
    lineage_status st = lineage_model_open(tmp_path("tensors.gguf"), &m, &err);
    CHECK(st == 0, "tensor fixture opens as a model (%s)", st ? err.message : "ok");
    if (st) return;
    CHECK(lineage_model_tensor_count(m) == 8 && m->source == MODEL_SOURCE_GGUF && m->gguf, "8 tensors, GGUF source");
    int offsets_ok = 1;
    for (size_t i = 0; i < gguf_tensor_count(m->gguf); i++) offsets_ok &= gguf_tensor_at(m->gguf, i)->offset % 64 == 0;
    CHECK(offsets_ok && gguf_alignment(m->gguf) == 64, "general.alignment 64: every tensor starts on a 64-byte boundary");
    const lineage_tensor_info *t = lineage_model_tensor(m, (size_t)lineage_model_find_tensor(m, "token_embd.weight"));
    CHECK(t->ndim == 2 && t->shape[0] == 8 && t->shape[1] == 64 && t->rows == 8 && t->cols == 64 && t->numel == 512 &&
          t->nbytes == 2048 && t->dtype == LINEAGE_DTYPE_F32, "F32 [8, 64]: PyTorch order, rows 8, cols 64");
    float buf[1024];
    long idx = lineage_model_find_tensor(m, "token_embd.weight");
    CHECK(lineage_tensor_read_rows_f32(m, (size_t)idx, 2, 3, buf, &err) == 0 && !memcmp(buf, emb + 128, 3 * 64 * 4),
          "F32 rows 2..4 read back exactly");
    t = lineage_model_tensor(m, (size_t)lineage_model_find_tensor(m, "blk.0.attn_norm.weight"));
    CHECK(t->ndim == 1 && t->shape[0] == 64 && t->rows == 1 && t->cols == 64, "1-D [64]: one row of 64");
    idx = lineage_model_find_tensor(m, "blk.0.ffn_up.weight");
    int f16_ok = lineage_tensor_read_rows_f32(m, (size_t)idx, 0, 16, buf, &err) == 0;
    for (int i = 0; f16_ok && i < 16 * 64; i++) f16_ok = buf[i] == f16_to_f32(f32_to_f16(up[i]));
    CHECK(f16_ok && lineage_model_tensor(m, (size_t)idx)->dtype == LINEAGE_DTYPE_F16, "F16 tensor reads as rounded");
    idx = lineage_model_find_tensor(m, "blk.0.ffn_gate_exps.weight");
    t = lineage_model_tensor(m, (size_t)idx);
    int bf_ok = t->ndim == 3 && t->shape[0] == 4 && t->shape[1] == 2 && t->shape[2] == 64 && t->rows == 8 &&
                lineage_tensor_read_rows_f32(m, (size_t)idx, 0, 8, buf, &err) == 0;
    for (int i = 0; bf_ok && i < 512; i++) bf_ok = buf[i] == bf16_to_f32(f32_to_bf16(b3[i]));
    CHECK(bf_ok, "BF16 3-D [4, 2, 64]: 8 rows, values as rounded");
    idx = lineage_model_find_tensor(m, "blk.0.attn_v.weight");
    t = lineage_model_tensor(m, (size_t)idx);
    int q8_ok = t->dtype == LINEAGE_DTYPE_Q8_0 && t->nbytes == 8 * 34 && lineage_tensor_read_rows_f32(m, (size_t)idx, 0, 4, buf, &err) == 0;
    for (int i = 0; q8_ok && i < 256; i++) q8_ok = fabsf(buf[i] - q8[i]) <= 1.5f / 127 * 0.51f + 1e-3f;
    CHECK(q8_ok, "Q8_0 tensor: 8 blocks, values within half a step");
    idx = lineage_model_find_tensor(m, "blk.0.attn_output.weight");
    int q4_ok = lineage_tensor_read_rows_f32(m, (size_t)idx, 1, 3, buf, &err) == 0;
    for (int i = 0; q4_ok && i < 192; i++) q4_ok = fabsf(buf[i] - q4[64 + i]) <= 0.75f / 8 + 1e-3f;
    CHECK(q4_ok, "Q4_0 tensor rows 1..3 within one step");
    idx = lineage_model_find_tensor(m, "blk.0.ffn_down.weight");
    t = lineage_model_tensor(m, (size_t)idx);
    float ref[512];
    dtype_dequantize_blocks(LINEAGE_DTYPE_Q4_K, k4, 2, ref);
    const void *raw;
    uint64_t nraw;
    CHECK(t->dtype == LINEAGE_DTYPE_Q4_K && t->nbytes == 288 && lineage_tensor_read_rows_f32(m, (size_t)idx, 1, 1, buf, &err) == 0 &&
          !memcmp(buf, ref + 256, 256 * 4) && lineage_tensor_raw(m, (size_t)idx, &raw, &nraw, &err) == 0 && nraw == 288 &&
          !memcmp(raw, k4, 288), "raw Q4_K tensor: bytes intact, row 1 dequantizes");
    idx = lineage_model_find_tensor(m, "blk.1.ffn_down.weight");
    t = lineage_model_tensor(m, (size_t)idx);
    CHECK(t->dtype == LINEAGE_DTYPE_UNKNOWN && t->nbytes == 198 && t->rows == 3 && t->cols == 256 &&
          lineage_tensor_read_rows_f32(m, (size_t)idx, 0, 1, buf, &err) == LINEAGE_E_UNSUPPORTED,
          "IQ2_XXS: inventoried (3 x 66 bytes) with dtype UNKNOWN, no f32 view");
    lineage_model_close(m);
}

/* ---- Q/K unpermute -------------------------------------------------------------------------------- */

/* llama.cpp's convert_hf_to_gguf permute: rows of each head reshaped (2, hd/2) -> (hd/2, 2). */
static void llama_permute(const float *hf, float *out, int rows, int cols, int heads)
{
    int hd = rows / heads;
    for (int h = 0; h < heads; h++)
        for (int j = 0; j < 2; j++)
            for (int i = 0; i < hd / 2; i++)
                memcpy(out + (size_t)(h * hd + 2 * i + j) * cols, hf + (size_t)(h * hd + j * (hd / 2) + i) * cols,
                       (size_t)cols * sizeof *out);
}

static void write_qk(const char *file, const char *arch, const float *q, const float *k, const float *qb,
                     const unsigned char *k8)
{
    gguf_writer *w = gguf_writer_new();
    char key[64];
    gguf_add_string(w, "general.architecture", arch, strlen(arch));
    snprintf(key, sizeof key, "%s.attention.head_count", arch);
    gguf_add_int(w, key, GGUF_TYPE_UINT32, 4);
    snprintf(key, sizeof key, "%s.attention.head_count_kv", arch);
    gguf_add_int(w, key, GGUF_TYPE_UINT32, 2);
    const uint64_t sq[] = {32, 32}, sk[] = {16, 32}, sb[] = {32};
    gguf_add_tensor_f32(w, "blk.0.attn_q.weight", 2, sq, q, LINEAGE_DTYPE_F32);
    gguf_add_tensor_f32(w, "blk.0.attn_k.weight", 2, sk, k, LINEAGE_DTYPE_F32);
    gguf_add_tensor_f32(w, "blk.0.attn_q.bias", 1, sb, qb, LINEAGE_DTYPE_F32);
    gguf_add_tensor_raw(w, "blk.1.attn_k.weight", 8, 2, sk, k8, 16 * 34);
    gguf_add_tensor_f32(w, "blk.0.attn_v.weight", 2, sk, k, LINEAGE_DTYPE_F32);
    lineage_error err;
    gguf_writer_save(w, tmp_path(file), &err);
    gguf_writer_free(w);
}

static void check_unpermute(void)
{
    /* 4 query heads and 2 key/value heads of head_dim 8, hidden 32: entries name their HF row */
    static float q_hf[32 * 32], k_hf[16 * 32], qb_hf[32], q_st[32 * 32], k_st[16 * 32], qb_st[32];
    for (int r = 0; r < 32; r++) {
        qb_hf[r] = (float)(1000 + r);
        for (int c = 0; c < 32; c++) q_hf[r * 32 + c] = (float)(r * 100 + c);
    }
    for (int r = 0; r < 16; r++)
        for (int c = 0; c < 32; c++) k_hf[r * 32 + c] = (float)(-r * 100 - c);
    llama_permute(q_hf, q_st, 32, 32, 4);
    llama_permute(k_hf, k_st, 16, 32, 2);
    llama_permute(qb_hf, qb_st, 32, 1, 4);
    unsigned char k8[16 * 34];
    gguf_quantize_q8_0(k_st, 16 * 32, k8);
    write_qk("llama.gguf", "llama", q_st, k_st, qb_st, k8);
    write_qk("qwen.gguf", "qwen2", q_st, k_st, qb_st, k8);
    lineage_error err;
    lineage_model *m;
    lineage_status st = lineage_model_open(tmp_path("llama.gguf"), &m, &err);
    CHECK(st == 0, "llama Q/K fixture opens (%s)", st ? err.message : "ok");
    if (st) return;
    float buf[32 * 32];
    long q = lineage_model_find_tensor(m, "blk.0.attn_q.weight"), k = lineage_model_find_tensor(m, "blk.0.attn_k.weight");
    CHECK(lineage_tensor_read_rows_f32(m, (size_t)q, 0, 32, buf, &err) == 0 && !memcmp(buf, q_hf, sizeof q_hf),
          "llama attn_q (4 heads) reads back in Hugging Face row order");
    CHECK(lineage_tensor_read_rows_f32(m, (size_t)q, 5, 9, buf, &err) == 0 && !memcmp(buf, q_hf + 5 * 32, 9 * 32 * 4),
          "llama attn_q rows 5..13 in Hugging Face order");
    CHECK(lineage_tensor_read_rows_f32(m, (size_t)k, 3, 13, buf, &err) == 0 && !memcmp(buf, k_hf + 3 * 32, 13 * 32 * 4),
          "llama attn_k (2 kv heads) rows 3..15 in Hugging Face order");
    long b = lineage_model_find_tensor(m, "blk.0.attn_q.bias");
    CHECK(lineage_tensor_read_rows_f32(m, (size_t)b, 0, 1, buf, &err) == 0 && !memcmp(buf, qb_hf, sizeof qb_hf),
          "llama attn_q bias in Hugging Face order");
    long k1 = lineage_model_find_tensor(m, "blk.1.attn_k.weight");
    float deq[16 * 32];
    dtype_dequantize_blocks(LINEAGE_DTYPE_Q8_0, k8, 16, deq);
    int q8_ok = lineage_tensor_read_rows_f32(m, (size_t)k1, 0, 16, buf, &err) == 0;
    for (int r = 0; q8_ok && r < 16; r++) {
        int h = r / 8, w = r % 8, stored = h * 8 + (w % 4) * 2 + w / 4;
        q8_ok = !memcmp(buf + r * 32, deq + stored * 32, 32 * 4);
    }
    CHECK(q8_ok, "Q8_0 attn_k is unpermuted row by row");
    long v = lineage_model_find_tensor(m, "blk.0.attn_v.weight");
    CHECK(lineage_tensor_read_rows_f32(m, (size_t)v, 0, 16, buf, &err) == 0 && !memcmp(buf, k_st, sizeof k_st),
          "attn_v is read as stored");
    lineage_model_close(m);
    st = lineage_model_open(tmp_path("qwen.gguf"), &m, &err);
    q = st ? -1 : lineage_model_find_tensor(m, "blk.0.attn_q.weight");
    CHECK(st == 0 && lineage_tensor_read_rows_f32(m, (size_t)q, 0, 32, buf, &err) == 0 && !memcmp(buf, q_st, sizeof q_st),
          "qwen2 attn_q is read as stored (not permuted by llama.cpp)");
    if (!st) lineage_model_close(m);
}

/* ---- hostile and truncated inputs ------------------------------------------------------------------ */

static gguf_writer *small_fixture(void)
{
    gguf_writer *w = gguf_writer_new();
    gguf_add_string(w, "general.architecture", "llama", 5);
    gguf_add_int(w, "llama.block_count", GGUF_TYPE_UINT32, 1);
    gguf_add_int(w, "llama.context_length", GGUF_TYPE_UINT32, 4096);
    gguf_add_float(w, "llama.rope.freq_base", GGUF_TYPE_FLOAT32, 10000);
    const char *toks[] = {"<s>", "</s>", "a", "b"};
    gguf_add_string_array(w, "tokenizer.ggml.tokens", toks, NULL, 4);
    const int32_t types[] = {3, 3, 1, 1};
    gguf_add_array(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, 4);
    static float x[2 * 64];
    fill(x, 128, 1);
    const uint64_t s1[] = {2, 64}, s2[] = {64};
    gguf_add_tensor_f32(w, "blk.0.ffn_up.weight", 2, s1, x, LINEAGE_DTYPE_Q8_0);
    gguf_add_tensor_f32(w, "blk.0.ffn_dn.weight", 1, s2, x, LINEAGE_DTYPE_F32);
    return w;
}

static void check_truncations(void)
{
    gguf_writer *w = small_fixture();
    unsigned char *img;
    size_t n;
    lineage_error err;
    gguf_writer_bytes(w, &img, &n, &err);
    gguf_writer_free(w);
    gguf_file *g;
    CHECK(parse_bytes(img, n, &g, &err) == 0 && gguf_tensor_count(g) == 2, "the %zu-byte fixture parses whole", n);
    if (g) gguf_file_free(g);
    size_t bad = 0, first = 0;
    for (size_t len = 0; len < n; len++) {
        lineage_status st = parse_bytes(img, len, &g, &err);
        if (st != LINEAGE_E_FORMAT || g || !one_line(&err, "mem.gguf")) {
            if (!bad++) first = len;
            if (g) gguf_file_free(g);
        }
    }
    CHECK(bad == 0, "every one of the %zu proper prefixes is rejected with one FORMAT line (%zu not, first %zu)", n, bad, first);
    /* the same through files and lineage_model_open, every 61st prefix */
    size_t fbad = 0;
    for (size_t len = 0; len < n; len += 61) {
        FILE *f = fopen(tmp_path("trunc.gguf"), "wb");
        fwrite(img, 1, len, f);
        fclose(f);
        lineage_model *m;
        lineage_status st = lineage_model_open(tmp_path("trunc.gguf"), &m, &err);
        if (st != LINEAGE_E_FORMAT || !one_line(&err, tmp_path("trunc.gguf"))) fbad++;
        if (!st) lineage_model_close(m);
    }
    CHECK(fbad == 0, "truncated files are rejected by lineage_model_open");
    free(img);
}

/* Damages the image of small_fixture in place. */
typedef void (*patch_fn)(unsigned char *img, size_t n);

static unsigned char *find(unsigned char *img, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(img + i, s, k)) return img + i;
    return NULL;
}
/* tensor info of small_fixture's 1-D tensor after its 19-byte name: n_dims +0, ne[0] +4, type +12, offset +16 */
static void p_overlap(unsigned char *img, size_t n) { le64(find(img, n, "blk.0.ffn_dn.weight") + 19 + 16, 0); }
static void p_misaligned(unsigned char *img, size_t n) { le64(find(img, n, "blk.0.ffn_dn.weight") + 19 + 16, 96 + 8); }
static void p_beyond(unsigned char *img, size_t n) { le64(find(img, n, "blk.0.ffn_dn.weight") + 19 + 16, 1u << 20); }
static void p_ndims(unsigned char *img, size_t n) { le32(find(img, n, "blk.0.ffn_dn.weight") + 19, 5); }
static void p_type4(unsigned char *img, size_t n) { le32(find(img, n, "blk.0.ffn_dn.weight") + 19 + 12, 4); }
static void p_type_absurd(unsigned char *img, size_t n) { le32(find(img, n, "blk.0.ffn_dn.weight") + 19 + 12, 1000000); }
static void p_block(unsigned char *img, size_t n) { le64(find(img, n, "blk.0.ffn_up.weight") + 19 + 4, 48); }
static void p_dim_huge(unsigned char *img, size_t n) { le64(find(img, n, "blk.0.ffn_dn.weight") + 19 + 4, 1ull << 63); }
static void p_dup_tensor(unsigned char *img, size_t n) { memcpy(find(img, n, "blk.0.ffn_dn.weight"), "blk.0.ffn_up.weight", 19); }
static void p_dup_key(unsigned char *img, size_t n) { memcpy(find(img, n, "llama.context_length"), "general.architecture", 20); }
static void p_version1(unsigned char *img, size_t n) { (void)n; le32(img + 4, 1); }
static void p_version2(unsigned char *img, size_t n) { (void)n; le32(img + 4, 2); }
static void p_bigendian(unsigned char *img, size_t n) { (void)n; le32(img + 4, 0x03000000u); }
static void p_string_count(unsigned char *img, size_t n) { le64(find(img, n, "tokenizer.ggml.tokens") + 21 + 4 + 4, 1ull << 40); }
static void p_key_nul(unsigned char *img, size_t n) { find(img, n, "llama.block_count")[3] = 0; }
static void p_elem_type(unsigned char *img, size_t n) { le32(find(img, n, "tokenizer.ggml.token_type") + 25 + 4, 13); }

static void check_hostile(void)
{
    static const struct { const char *name; patch_fn patch; lineage_status want; } cases[] = {
        {"overlapping tensors", p_overlap, LINEAGE_E_FORMAT},
        {"offset not a multiple of the alignment", p_misaligned, LINEAGE_E_FORMAT},
        {"tensor data past the end", p_beyond, LINEAGE_E_FORMAT},
        {"5 dimensions", p_ndims, LINEAGE_E_FORMAT},
        {"removed ggml type 4", p_type4, LINEAGE_E_FORMAT},
        {"absurd ggml type id", p_type_absurd, LINEAGE_E_FORMAT},
        {"Q8_0 row of 48 elements", p_block, LINEAGE_E_FORMAT},
        {"dimension 2^63", p_dim_huge, LINEAGE_E_FORMAT},
        {"duplicate tensor name", p_dup_tensor, LINEAGE_E_FORMAT},
        {"duplicate key", p_dup_key, LINEAGE_E_FORMAT},
        {"version 1", p_version1, LINEAGE_E_FORMAT},
        {"version 2 is accepted", p_version2, LINEAGE_OK},
        {"big-endian version field", p_bigendian, LINEAGE_E_UNSUPPORTED},
        {"string array of 2^40 entries", p_string_count, LINEAGE_E_FORMAT},
        {"key with a NUL byte", p_key_nul, LINEAGE_E_FORMAT},
        {"array element type 13", p_elem_type, LINEAGE_E_FORMAT},
    };
    gguf_writer *w = small_fixture();
    unsigned char *img;
    size_t n;
    lineage_error err;
    gguf_writer_bytes(w, &img, &n, &err);
    gguf_writer_free(w);
    unsigned char *copy = malloc(n);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(copy, img, n);
        cases[i].patch(copy, n);
        gguf_file *g;
        lineage_status st = parse_bytes(copy, n, &g, &err);
        CHECK(st == cases[i].want && (st == 0 || one_line(&err, "mem.gguf")), "%s: status %d (%s)", cases[i].name,
              (int)st, st ? err.message : "accepted");
        gguf_file_free(g);
    }
    free(copy);
    free(img);
    /* values the writer can express directly */
    const char *bad_names[] = {"bool value 2", "alignment as uint64", "alignment 0", "arrays nested 12 deep", "empty key"};
    for (int c = 0; c < 5; c++) {
        w = gguf_writer_new();
        unsigned char raw[12 * 12 + 8];
        memset(raw, 0, sizeof raw);
        if (c == 0) gguf_add_int(w, "x.flag", GGUF_TYPE_BOOL, 2);
        if (c == 1) gguf_add_int(w, "general.alignment", GGUF_TYPE_UINT64, 32);
        if (c == 2) gguf_add_int(w, "general.alignment", GGUF_TYPE_UINT32, 0);
        if (c == 3) {
            for (int d = 0; d < 12; d++) { le32(raw + 12 * d, GGUF_TYPE_ARRAY); le64(raw + 12 * d + 4, 1); }
            le32(raw + 12 * 11, GGUF_TYPE_UINT8);
            le64(raw + 12 * 11 + 4, 0);
            gguf_add_raw(w, "x.deep", GGUF_TYPE_ARRAY, raw, 12 * 12);
        }
        if (c == 4) {
            gguf_add_int(w, "", GGUF_TYPE_UINT8, 1);
            gguf_add_string(w, "x.room", "enough bytes for two keys", 25);
        }
        gguf_writer_bytes(w, &img, &n, &err);
        gguf_writer_free(w);
        gguf_file *g;
        lineage_status st = parse_bytes(img, n, &g, &err);
        CHECK(st == LINEAGE_E_FORMAT && one_line(&err, "mem.gguf"), "rejects %s (%s)", bad_names[c], st ? err.message : "accepted");
        gguf_file_free(g);
        free(img);
    }
}

/* ---- real files ------------------------------------------------------------------------------------ */

static int is_gguf(const char *name) { size_t n = strlen(name); return n > 5 && !strcmp(name + n - 5, ".gguf"); }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void check_real_files(void)
{
    char dir[1024], path[2048];
    snprintf(dir, sizeof dir, "%s/data/llamacpp-vocab", shared_dir());
    DIR *d = opendir(dir);
    CHECK(d != NULL, "vocab folder %s is readable", dir);
    if (!d) return;
    struct dirent *e;
    int files = 0;
    double slowest = 0;
    while ((e = readdir(d))) {
        if (!is_gguf(e->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        lineage_error err;
        gguf_file *g;
        double t0 = now();
        lineage_status st = gguf_open_file(path, &g, &err);
        double dt = now() - t0;
        if (dt > slowest) slowest = dt;
        const gguf_kv *toks = st ? NULL : gguf_find(g, "tokenizer.ggml.tokens");
        const char *model = st ? NULL : gguf_get_string(g, "tokenizer.ggml.model");
        CHECK(st == 0 && toks && gguf_kv_array_type(toks) == GGUF_TYPE_STRING && gguf_tensor_count(g) == 0,
              "%s opens: tokenizer.ggml.model %s, %llu tokens", e->d_name, model ? model : "?",
              (unsigned long long)gguf_kv_array_count(toks));
        if (!st && !strcmp(e->d_name, "ggml-vocab-llama-spm.gguf")) {
            size_t len;
            const char *t0s = gguf_kv_array_string(toks, 0, &len);
            CHECK(gguf_kv_array_count(toks) == 32000 && len == 5 && !memcmp(t0s, "<unk>", 5) &&
                  !strcmp(gguf_architecture(g), "llama"), "llama-spm: 32000 tokens, token 0 is <unk>");
        }
        if (!st && !strcmp(e->d_name, "ggml-vocab-gpt-2.gguf"))
            CHECK(gguf_kv_array_count(toks) == 50257 &&
                  gguf_kv_array_count(gguf_find(g, "tokenizer.ggml.merges")) == 50000, "gpt-2: 50257 tokens, 50000 merges");
        if (!st) gguf_file_free(g);
        lineage_model *m;
        st = lineage_model_open(path, &m, &err);
        CHECK(st == 0 && lineage_model_tensor_count(m) == 0, "%s opens as a vocab-only model", e->d_name);
        if (!st) lineage_model_close(m);
        files++;
    }
    closedir(d);
    CHECK(files >= 12, "%d real GGUF files found", files);
    /* Parse time is a speed claim: it lives in make bench (bench_inspect.sh), not in a timed assertion. */
    printf("# slowest real vocab parse %.3f s\n", slowest);

    snprintf(dir, sizeof dir, "%s/data/llamacpp-vocab/corrupt", shared_dir());
    d = opendir(dir);
    int corrupt = 0;
    while (d && (e = readdir(d))) {
        if (!is_gguf(e->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        lineage_error err;
        lineage_model *m;
        lineage_status st = lineage_model_open(path, &m, &err);
        CHECK(st == LINEAGE_E_FORMAT && one_line(&err, path), "corrupt/%s rejected: %s", e->d_name, st ? err.message : "accepted");
        if (!st) lineage_model_close(m);
        corrupt++;
    }
    if (d) closedir(d);
    CHECK(corrupt >= 12, "%d corrupt files tried", corrupt);
    snprintf(path, sizeof path, "%s/data/llamacpp-vocab/derived/ggml-vocab-llama-spm.scalars-only.gguf", shared_dir());
    gguf_file *g;
    lineage_error err;
    lineage_status st = gguf_open_file(path, &g, &err);
    CHECK(st == 0 && gguf_kv_count(g) == 19 && !gguf_find(g, "tokenizer.ggml.tokens"),
          "the scalars-only control opens with 19 keys and no token array");
    if (!st) gguf_file_free(g);
}

int main(void)
{
    const char *base = getenv("WORK");
    snprintf(tmpdir, sizeof tmpdir, "%s/gguf-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/gguf-XXXXXX");
        if (!mkdtemp(tmpdir)) { printf("not ok - cannot create a temporary folder\n"); return 1; }
    }
    check_metadata();
    check_tensors();
    check_unpermute();
    check_truncations();
    check_hostile();
    check_real_files();
    const char *files[] = {"meta.gguf", "tensors.gguf", "llama.gguf", "qwen.gguf", "trunc.gguf"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) unlink(tmp_path(files[i]));
    rmdir(tmpdir);
    CHECK_EXIT();
}
