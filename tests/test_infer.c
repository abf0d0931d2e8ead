/* The inference engine against double-precision references written here: matmul kernels of every
 * ISA, norms, RoPE, softmax, MoE routing, and whole forward passes of generated Llama and Mixtral
 * fixtures; incremental feeding equals one-shot feeding; taps see the right shapes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "check.h"
#include "support/fixture.h"
#include "infer/engine.h"
#include "format/dtype.h"
#include "support/gguf_write.h"

static char tmp[256];

static double frand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return ((double)((*s >> 8) & 0xffff) / 65535.0) * 2 - 1;
}

static void test_matmul_kernels(void)
{
    const char *isas[] = {"scalar", "avx2", "avx512"};
    size_t T = 11, K = 37, R = 35;
    float *X = malloc(T * K * sizeof *X), *W = malloc(R * K * sizeof *W), *Y = malloc(T * R * sizeof *Y);
    float *P = malloc(mm_packed_floats(R, K) * sizeof *P);
    unsigned s = 7;
    for (size_t i = 0; i < T * K; i++) X[i] = (float)frand(&s);
    for (size_t i = 0; i < R * K; i++) W[i] = (float)frand(&s);
    mm_pack(W, R, K, P);
    for (int i = 0; i < 3; i++) {
        if (!kernels_isa_supported(isas[i]) || !kernels_select(isas[i])) continue;
        memset(Y, 0, T * R * sizeof *Y);
        mm_kernel()(X, T, K, P, (R + MM_PANEL - 1) / MM_PANEL, K, Y, R, R);
        double worst = 0;
        for (size_t t = 0; t < T; t++)
            for (size_t r = 0; r < R; r++) {
                double ref = 0;
                for (size_t k = 0; k < K; k++) ref += (double)X[t * K + k] * W[r * K + k];
                worst = fmax(worst, fabs(ref - Y[t * R + r]));
            }
        CHECK(worst < 1e-5, "%s matmul kernel equals the double reference on 11x37 * 35x37 (max error %.2g)", isas[i],
              worst);
        /* f16 panels: the f32 kernel's results on the same (f16-exact) weights, bit for bit */
        size_t np = mm_packed_floats(R, K);
        float *W16 = malloc(R * K * sizeof *W16), *P32 = malloc(np * sizeof *P32), *Y2 = malloc(T * R * sizeof *Y2);
        uint16_t *P16 = malloc(np * sizeof *P16);
        if (W16 && P32 && Y2 && P16) {
            for (size_t e = 0; e < R * K; e++) W16[e] = f16_to_f32(f32_to_f16(W[e]));
            mm_pack(W16, R, K, P32);
            for (size_t e = 0; e < np; e++) P16[e] = f32_to_f16(P32[e]);
            mm_kernel()(X, T, K, P32, (R + MM_PANEL - 1) / MM_PANEL, K, Y, R, R);
            mm_kernel16()(X, T, K, P16, (R + MM_PANEL - 1) / MM_PANEL, K, Y2, R, R);
        }
        CHECK(W16 && P32 && Y2 && P16 && !memcmp(Y, Y2, T * R * sizeof *Y), "%s matmul kernel over f16 panels equals "
              "the f32 kernel on the same weights bit for bit", isas[i]);
        free(W16);
        free(P32);
        free(Y2);
        free(P16);
    }
    kernels_select(kernels_isa_supported("avx512") ? "avx512" : kernels_isa_supported("avx2") ? "avx2" : "scalar");
    /* widening f16 panels for many-token products: every f16 value as f16_to_f32 gives it (NaNs: NaN) */
    uint16_t *all = malloc(65536 * sizeof *all);
    float *wide = malloc(65536 * sizeof *wide);
    for (int i = 1; i < 3 && all && wide; i++) {
        if (!kernels_isa_supported(isas[i])) continue;
        for (size_t h = 0; h < 65536; h++) all[h] = (uint16_t)h;
        (i == 1 ? f16_widen_avx2 : f16_widen_avx512)(all, wide, 65536);
        size_t bad = 0;
        for (size_t h = 0; h < 65536; h++) {
            float want = f16_to_f32((uint16_t)h);
            bad += want == want ? memcmp(&want, &wide[h], sizeof want) != 0 : wide[h] == wide[h];
        }
        CHECK(bad == 0, "%s f16 widening equals f16_to_f32 on all 65536 values (%zu differ)", isas[i], bad);
    }
    free(all);
    free(wide);
    free(X);
    free(W);
    free(Y);
    free(P);
}

/* Q8_0 and Q4_0 weights through the repacked integer kernels of every ISA against a double reference
 * of the same quantized arithmetic (activation codes and f16 scales computed here). */
static void test_q8_matmul(void)
{
    enum { T = 9, K = 96, R = 37 };
    static float X[T * K], W[R * K], Wd[R * K], Y[T * R], XD[T * K / 32];
    static uint8_t X8[T * K];
    static int code[T * K];
    static double dref[T * K / 32];
    unsigned s = 11;
    for (size_t i = 0; i < T * K; i++) X[i] = (float)(frand(&s) * (1 + i % 7));
    for (size_t i = 0; i < R * K; i++) W[i] = (float)frand(&s);
    X[5] = 0;   /* an all-zero block: scale 0, codes 0 */
    for (size_t i = 0; i < 32; i++) X[K + i] = 0;
    for (size_t t = 0; t < T; t++)
        for (size_t b = 0; b < K / 32; b++) {
            double amax = 0;
            for (int i = 0; i < 32; i++) amax = fmax(amax, fabs(X[t * K + b * 32 + i]));
            dref[t * (K / 32) + b] = f16_to_f32(f32_to_f16((float)amax / 127.0f));
            for (int i = 0; i < 32; i++)
                code[t * K + b * 32 + i] = amax > 0 ? (int)nearbyint((double)(X[t * K + b * 32 + i] * (127.0f / (float)amax))) : 0;
        }
    const char *path_fmt = "%s/q.gguf";
    char path[300];
    snprintf(path, sizeof path, path_fmt, tmp);
    gguf_writer *w = gguf_writer_new();
    gguf_add_string(w, "general.architecture", "llama", 5);
    uint64_t shape[2] = {R, K};
    gguf_add_tensor_f32(w, "w8", 2, shape, W, LINEAGE_DTYPE_Q8_0);
    gguf_add_tensor_f32(w, "w4", 2, shape, W, LINEAGE_DTYPE_Q4_0);
    lineage_error err;
    lineage_model *m = NULL;
    int ok = gguf_writer_save(w, path, &err) == 0 && lineage_model_open(path, &m, &err) == 0;
    gguf_writer_free(w);
    CHECK(ok, "a GGUF with Q8_0 and Q4_0 weights opens (%s)", ok ? "" : err.message);
    if (!ok) return;
    const char *names[] = {"w8", "w4"}, *isas[] = {"scalar", "avx2", "avx512"};
    unsigned char *P = malloc(q8_packed_bytes(R, K));
    static float Yscalar[T * R];
    for (int n = 0; n < 2 && P; n++) {
        long t = lineage_model_find_tensor(m, names[n]);
        CHECK(t >= 0 && q8_packable(m, t), "%s is packable for the integer kernels", names[n]);
        if (t < 0 || !q8_packable(m, t) || lineage_tensor_read_rows_f32(m, (size_t)t, 0, R, Wd, &err)) continue;
        q8_pack_rows(m, t, 0, R, P);
        for (int i = 0; i < 3; i++) {
            if (!kernels_isa_supported(isas[i]) || !kernels_select(isas[i])) continue;
            int off;
            q8_kernel_fn k = q8_kernel(&off);
            int codes_ok = 1;
            for (size_t tt = 0; tt < T; tt++) q8_quantize(X + tt * K, K, off, X8 + tt * K, XD + tt * (K / 32));
            for (size_t j = 0; j < T * K; j++) codes_ok &= (off ? (int)X8[j] - 128 : (int)(int8_t)X8[j]) == code[j];
            for (size_t j = 0; j < T * K / 32; j++) codes_ok &= XD[j] == dref[j];
            memset(Y, 0, sizeof Y);
            k(X8, XD, T, K, P, (R + MM_PANEL - 1) / MM_PANEL, Y, R, R);
            double worst = 0, scale = 0;
            for (size_t tt = 0; tt < T; tt++)
                for (size_t r = 0; r < R; r++) {
                    double ref = 0;
                    for (size_t b = 0; b < K / 32; b++) {
                        double dot = 0;   /* Wd = weight scale x code, exact in f32 */
                        for (int q = 0; q < 32; q++) dot += code[tt * K + b * 32 + q] * (double)Wd[r * K + b * 32 + q];
                        ref += dref[tt * (K / 32) + b] * dot;
                    }
                    worst = fmax(worst, fabs(ref - Y[tt * R + r]));
                    scale = fmax(scale, fabs(ref));
                }
            CHECK(codes_ok, "%s: %s activation codes and scales are llama.cpp's (amax/127 in f16, nearest even)",
                  names[n], isas[i]);
            CHECK(worst < 1e-5 * scale && scale > 0, "%s: %s integer kernel equals the double reference of the same "
                  "quantized arithmetic on 9x96 * 37x96 (max error %.2g of %.2g)", names[n], isas[i], worst, scale);
            if (i == 0) memcpy(Yscalar, Y, sizeof Y);
            else CHECK(!memcmp(Yscalar, Y, sizeof Y), "%s: %s integer kernel rounds as the scalar kernel (bit for bit)",
                       names[n], isas[i]);
        }
    }
    kernels_select(kernels_isa_supported("avx512") ? "avx512" : kernels_isa_supported("avx2") ? "avx2" : "scalar");
    free(P);
    lineage_model_close(m);
}

static void test_ops(void)
{
    float x[40], w[40], out[40];
    unsigned s = 3;
    for (int i = 0; i < 40; i++) { x[i] = (float)(3 * frand(&s)); w[i] = (float)frand(&s); }
    for (int plus = 0; plus < 2; plus++) {
        op_rmsnorm(x, w, 40, 1e-5, plus, out);
        double ss = 0, worst = 0;
        for (int i = 0; i < 40; i++) ss += (double)x[i] * x[i];
        for (int i = 0; i < 40; i++) {
            double ref = x[i] / sqrt(ss / 40 + 1e-5) * (w[i] + plus);
            worst = fmax(worst, fabs(ref - out[i]));
        }
        CHECK(worst < 1e-5, "RMSNorm%s equals the double reference (%.2g)", plus ? " (1 + w)" : "", worst);
    }
    float sm[9] = {1, -2, 3.5f, 0, 0, -INFINITY, 7, 2, -1};
    double ref[9], z = 0;
    for (int i = 0; i < 9; i++) z += i == 5 ? 0 : exp(sm[i]);
    for (int i = 0; i < 9; i++) ref[i] = i == 5 ? 0 : exp(sm[i]) / z;
    op_softmax(sm, 9);
    double worst = 0;
    for (int i = 0; i < 9; i++) worst = fmax(worst, fabs(ref[i] - sm[i]));
    CHECK(worst < 1e-6 && sm[5] == 0, "softmax equals the double reference, masked entries 0 (%.2g)", worst);

    /* RoPE: rotate_half pairing, default and dynamic-NTK frequencies */
    rope_set r = {0};
    r.theta = 10000;
    r.factor = 4;
    r.original_max = 16;
    float freq[8], head[16], orig[16];
    for (int dyn = 0; dyn < 2; dyn++) {
        r.dynamic = dyn;
        rope_frequencies(&r, 16, 64, freq);
        double base = dyn ? 10000 * pow(4.0 * 64 / 16 - 3, 16.0 / 14) : 10000;
        worst = 0;
        for (int i = 0; i < 8; i++) worst = fmax(worst, fabs(freq[i] - pow(base, -2.0 * i / 16)) / pow(base, -2.0 * i / 16));
        CHECK(worst < 1e-6, "RoPE %s frequencies equal the formula (%.2g)", dyn ? "dynamic-NTK" : "default", worst);
    }
    for (int i = 0; i < 16; i++) head[i] = orig[i] = (float)frand(&s);
    op_rope(head, 16, freq, 37, 1.0);
    worst = 0;
    for (int i = 0; i < 8; i++) {
        double a = 37.0 * freq[i], c = cos(a), sn = sin(a);
        worst = fmax(worst, fabs(head[i] - (orig[i] * c - orig[i + 8] * sn)));
        worst = fmax(worst, fabs(head[i + 8] - (orig[i + 8] * c + orig[i] * sn)));
    }
    CHECK(worst < 1e-5, "RoPE rotates dims i and i + d/2 by pos * freq (%.2g)", worst);
    for (int i = 0; i < 16; i++) head[i] = orig[i];
    op_rope_interleaved(head, 16, freq, 37, 1.0);
    worst = 0;
    for (int i = 0; i < 8; i++) {
        double a = 37.0 * freq[i], c = cos(a), sn = sin(a);
        worst = fmax(worst, fabs(head[2 * i] - (orig[2 * i] * c - orig[2 * i + 1] * sn)));
        worst = fmax(worst, fabs(head[2 * i + 1] - (orig[2 * i + 1] * c + orig[2 * i] * sn)));
    }
    CHECK(worst < 1e-5, "interleaved RoPE (DeepSeek MLA) rotates pairs 2i, 2i + 1 (%.2g)", worst);
    /* partial rotary: dims past rot_dim untouched */
    for (int i = 0; i < 16; i++) head[i] = orig[i];
    op_rope(head, 8, freq, 5, 1.0);
    CHECK(!memcmp(head + 8, orig + 8, 8 * sizeof *head), "partial RoPE leaves the dims past rot_dim alone");

    /* RoPE from a cos/sin table: the same values as op_rope */
    float c8[8], s8[8], h2[16];
    for (int i = 0; i < 16; i++) head[i] = h2[i] = orig[i];
    op_rope(head, 16, freq, 1234, 0.9);
    op_rope_table(8, freq, 1234, 0.9, c8, s8);
    op_rope_cs(h2, 8, c8, s8);
    CHECK(!memcmp(head, h2, sizeof head), "RoPE from a cos/sin table equals op_rope bit for bit");
    for (int i = 0; i < 16; i++) head[i] = h2[i] = orig[i];
    op_rope_interleaved(head, 16, freq, 1234, 0.9);
    op_rope_interleaved_cs(h2, 8, c8, s8);
    CHECK(!memcmp(head, h2, sizeof head), "interleaved RoPE from a cos/sin table equals op_rope_interleaved bit for bit");

    /* the AVX-512 SiLU (and SiLU(g) * u) against op_act, bit for bit, over 2^20 values spread over
     * magnitudes 1e-8..200 plus zeros, infinities and NaN */
    if (kernels_isa_supported("avx512")) {
        size_t n = (1u << 20) + 5;
        float *g = malloc(n * sizeof *g), *u = malloc(n * sizeof *u), *u2 = malloc(n * sizeof *u2);
        size_t bad = 0, bad2 = 0;
        if (g && u && u2) {
            for (size_t i = 0; i < n; i++) {
                double mag = pow(10.0, -8 + 10.3 * (frand(&s) * 0.5 + 0.5));
                g[i] = (float)(frand(&s) < 0 ? -mag : mag);
                u[i] = u2[i] = (float)(3 * frand(&s));
            }
            g[0] = 0; g[1] = -0.0f; g[2] = INFINITY; g[3] = -INFINITY; g[4] = NAN; g[9] = 88.7f; g[10] = -87.5f;
            act_silu_avx512(g, u2, n);
            for (size_t i = 0; i < n; i++) {
                float want = op_act(ACT_SILU, g[i]) * u[i];
                bad += memcmp(&want, &u2[i], sizeof want) != 0;
            }
            memcpy(u2, g, n * sizeof *g);
            act_silu_avx512(NULL, u2, n);
            for (size_t i = 0; i < n; i++) {
                float want = op_act(ACT_SILU, g[i]);
                bad2 += memcmp(&want, &u2[i], sizeof want) != 0;
            }
        }
        CHECK(g && u && u2 && bad == 0 && bad2 == 0, "AVX-512 SiLU equals op_act bit for bit on %zu values "
              "(%zu gated, %zu plain differ)", n, bad, bad2);
        /* softmax rows of attention-like scores (some masked, a NaN row, an all-masked row) */
        size_t rows = 0, rbad = 0;
        for (size_t len = 1; g && u && len < 700 && (len + 1) * 64 < n; len += 37) {
            for (size_t ri = 0; ri < 64; ri++, rows++) {
                float *a = u + ri * len, *b = u2 + ri * len;
                for (size_t k = 0; k < len; k++) a[k] = (float)(frand(&s) * (ri % 4 == 0 ? 0.5 : ri % 4 == 1 ? 8 : 60));
                for (size_t k = len * (ri % 3) / 4; k < len && ri % 5 == 2; k++) a[k] = -INFINITY;
                if (ri == 7) a[len / 2] = NAN;
                if (ri == 9) for (size_t k = 0; k < len; k++) a[k] = -INFINITY;
                memcpy(b, a, len * sizeof *a);
                op_softmax(a, len);
                softmax_avx512(b, len);
                rbad += memcmp(a, b, len * sizeof *a) != 0;
            }
        }
        CHECK(rows > 0 && rbad == 0, "AVX-512 softmax equals op_softmax bit for bit on %zu rows (%zu differ)", rows, rbad);
        free(g);
        free(u);
        free(u2);
    }
}

static void test_routing(void)
{
    infer_model im;
    memset(&im, 0, sizeof im);
    snprintf(im.family, sizeof im.family, "mixtral");
    im.top_k = 2;
    im.norm_topk = 1;
    im.scoring = SCORE_SOFTMAX;
    float logits[4] = {0.5f, 2.0f, -1.0f, 1.0f};
    int idx[2];
    float w[2];
    moe_route(&im, logits, NULL, 4, idx, w);
    double e1 = exp(2.0), e3 = exp(1.0);
    CHECK(idx[0] == 1 && idx[1] == 3 && fabs(w[0] - e1 / (e1 + e3)) < 1e-6 && fabs(w[1] - e3 / (e1 + e3)) < 1e-6,
          "Mixtral routing: top-2 of the softmax, renormalized");
    im.norm_topk = 0;
    moe_route(&im, logits, NULL, 4, idx, w);
    double z = exp(0.5) + e1 + exp(-1.0) + e3;
    CHECK(fabs(w[0] - e1 / z) < 1e-6 && fabs(w[1] - e3 / z) < 1e-6, "Qwen-MoE routing without norm_topk_prob keeps the softmax weights");
    /* DeepSeek-V3: sigmoid scores, bias only for the choice, 2 groups of 3, 1 group kept */
    snprintf(im.family, sizeof im.family, "deepseek_v3");
    im.deepseek_routing = 1;
    im.scoring = SCORE_SIGMOID;
    im.norm_topk = 1;
    im.n_group = 2;
    im.topk_group = 1;
    im.routed_scale = 2.5;
    float lg[6] = {3.0f, -1.0f, -1.0f, 0.0f, 0.0f, 0.5f}, bias[6] = {0, 0, 0, 0, 0, 0};
    moe_route(&im, lg, bias, 6, idx, w);
    /* group 0: 0.953 + 0.269 = 1.222; group 1: 0.622 + 0.5 = 1.122 -> group 0 wins */
    double s0 = 1 / (1 + exp(-3.0)), s1 = 1 / (1 + exp(1.0));
    CHECK(idx[0] == 0 && (idx[1] == 1 || idx[1] == 2) && fabs(w[0] - 2.5 * s0 / (s0 + s1)) < 1e-5,
          "DeepSeek-V3 routing: group-limited top-k on sigmoid scores, normalized and scaled");
    bias[5] = 1.0f;   /* the correction bias moves the choice, not the weight */
    moe_route(&im, lg, bias, 6, idx, w);
    double s5 = 1 / (1 + exp(-0.5)), s3 = 0.5;
    CHECK(idx[0] == 5 && idx[1] == 3 && fabs(w[0] - 2.5 * s5 / (s5 + s3)) < 1e-5,
          "DeepSeek-V3 routing: the correction bias changes which experts, the weights stay the scores");
}

/* ---- whole forward pass against a double reference over the fixture's own values ---- */

static const float *fx(const fixture_model *fm, const char *name)
{
    for (size_t i = 0; i < fm->count; i++)
        if (!strcmp(fm->tensors[i].name, name)) return fm->tensors[i].data;
    return NULL;
}

static void rms_d(const double *x, const float *w, int n, double *out)
{
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    double inv = 1 / sqrt(ss / n + 1e-5);
    for (int i = 0; i < n; i++) out[i] = x[i] * inv * w[i];
}

/* y (rows) = W (rows x cols) x */
static void lin_d(const float *W, const double *x, int rows, int cols, double *y)
{
    for (int r = 0; r < rows; r++) {
        double s = 0;
        for (int c = 0; c < cols; c++) s += (double)W[(size_t)r * cols + c] * x[c];
        y[r] = s;
    }
}

static void ffn_d(const float *g, const float *u, const float *d, const double *x, int h, int f, double *out)
{
    double *a = malloc(f * sizeof *a), *b = malloc(f * sizeof *b);
    lin_d(g, x, f, h, a);
    lin_d(u, x, f, h, b);
    for (int i = 0; i < f; i++) a[i] = a[i] / (1 + exp(-a[i])) * b[i];
    lin_d(d, a, h, f, out);
    free(a);
    free(b);
}

/* logits (T x vocab) of the fixture by the textbook formulas, in double */
static void reference_forward(const fixture_model *fm, const uint32_t *ids, int T, double *logits)
{
    const fixture_spec *s = &fm->spec;
    int h = s->hidden, nh = s->heads, nkv = s->kv_heads, hd = s->head_dim ? s->head_dim : h / nh, V = s->vocab;
    double *x = calloc((size_t)T * h, sizeof *x), *xn = malloc(h * sizeof *xn);
    double *q = malloc((size_t)T * nh * hd * sizeof *q), *k = malloc((size_t)T * nkv * hd * sizeof *k);
    double *v = malloc((size_t)T * nkv * hd * sizeof *v), *att = malloc(nh * hd * sizeof *att), *o = malloc(h * sizeof *o);
    double *sc = malloc(T * sizeof *sc);
    const float *emb = fx(fm, "model.embed_tokens.weight");
    for (int t = 0; t < T; t++)
        for (int i = 0; i < h; i++) x[t * h + i] = emb[(size_t)ids[t] * h + i];
    char name[160];
    for (int l = 0; l < s->layers; l++) {
#define W(suffix) (snprintf(name, sizeof name, "model.layers.%d.%s", l, suffix), fx(fm, name))
        for (int t = 0; t < T; t++) {
            rms_d(x + t * h, W("input_layernorm.weight"), h, xn);
            lin_d(W("self_attn.q_proj.weight"), xn, nh * hd, h, q + t * nh * hd);
            lin_d(W("self_attn.k_proj.weight"), xn, nkv * hd, h, k + t * nkv * hd);
            lin_d(W("self_attn.v_proj.weight"), xn, nkv * hd, h, v + t * nkv * hd);
            for (int hh = 0; hh < nh + nkv; hh++) {
                double *head = hh < nh ? q + (t * nh + hh) * hd : k + (t * nkv + hh - nh) * hd;
                for (int i = 0; i < hd / 2; i++) {
                    double a = t * pow(10000.0, -2.0 * i / hd), c = cos(a), sn = sin(a);
                    double x0 = head[i], x1 = head[i + hd / 2];
                    head[i] = x0 * c - x1 * sn;
                    head[i + hd / 2] = x1 * c + x0 * sn;
                }
            }
        }
        for (int t = 0; t < T; t++) {
            for (int hh = 0; hh < nh; hh++) {
                int g = hh / (nh / nkv);
                double mx = -INFINITY, z = 0;
                for (int j = 0; j <= t; j++) {
                    double d = 0;
                    for (int i = 0; i < hd; i++) d += q[(t * nh + hh) * hd + i] * k[(j * nkv + g) * hd + i];
                    sc[j] = d / sqrt(hd);
                    mx = fmax(mx, sc[j]);
                }
                for (int j = 0; j <= t; j++) z += (sc[j] = exp(sc[j] - mx));
                for (int i = 0; i < hd; i++) {
                    double a = 0;
                    for (int j = 0; j <= t; j++) a += sc[j] / z * v[(j * nkv + g) * hd + i];
                    att[hh * hd + i] = a;
                }
            }
            lin_d(W("self_attn.o_proj.weight"), att, h, nh * hd, o);
            for (int i = 0; i < h; i++) x[t * h + i] += o[i];
        }
        for (int t = 0; t < T; t++) {
            rms_d(x + t * h, W("post_attention_layernorm.weight"), h, xn);
            if (s->arch == FIXTURE_LLAMA) {
                ffn_d(W("mlp.gate_proj.weight"), W("mlp.up_proj.weight"), W("mlp.down_proj.weight"), xn, h, s->ffn, o);
                for (int i = 0; i < h; i++) x[t * h + i] += o[i];
                continue;
            }
            double r[64], z = 0;
            lin_d(W("block_sparse_moe.gate.weight"), xn, s->experts, h, r);
            double mx = -INFINITY;
            for (int e = 0; e < s->experts; e++) mx = fmax(mx, r[e]);
            for (int e = 0; e < s->experts; e++) z += (r[e] = exp(r[e] - mx));
            int used[64] = {0};
            double wsum = 0, wt[64] = {0};
            for (int j = 0; j < s->top_k; j++) {
                int best = -1;
                for (int e = 0; e < s->experts; e++)
                    if (!used[e] && (best < 0 || r[e] > r[best])) best = e;
                used[best] = 1;
                wt[best] = r[best] / z;
                wsum += wt[best];
            }
            for (int e = 0; e < s->experts; e++) {
                if (!used[e]) continue;
                char g[96], u[96], d[96];
                snprintf(g, sizeof g, "block_sparse_moe.experts.%d.w1.weight", e);
                snprintf(u, sizeof u, "block_sparse_moe.experts.%d.w3.weight", e);
                snprintf(d, sizeof d, "block_sparse_moe.experts.%d.w2.weight", e);
                const float *gw = W(g), *uw = W(u), *dw = W(d);
                ffn_d(gw, uw, dw, xn, h, s->moe_ffn ? s->moe_ffn : s->ffn, o);
                for (int i = 0; i < h; i++) x[t * h + i] += o[i] * wt[e] / wsum;
            }
        }
#undef W
    }
    const float *lm = fx(fm, "lm_head.weight");
    for (int t = 0; t < T; t++) {
        rms_d(x + t * h, fx(fm, "model.norm.weight"), h, xn);
        lin_d(lm ? lm : emb, xn, V, h, logits + (size_t)t * V);
    }
    free(x); free(xn); free(q); free(k); free(v); free(att); free(o); free(sc);
}

typedef struct tap_log {
    int hidden_calls, hidden_bad, mlp_calls, mlp_bad, experts_seen;
    size_t ntok, width, neurons;
} tap_log;

static void on_hidden(void *user, int layer, const float *h, size_t ntok, size_t width)
{
    tap_log *t = user;
    t->hidden_bad += layer != t->hidden_calls - 1 || ntok != t->ntok || width != t->width || !h;
    t->hidden_calls++;
}

static void on_mlp(void *user, int layer, int expert, const float *gate, const float *up, size_t ntok, size_t neurons)
{
    tap_log *t = user;
    (void)layer;
    t->mlp_bad += ntok != t->ntok || neurons != t->neurons || !gate || !up;
    t->experts_seen += expert >= 0;
    t->mlp_calls++;
}

static void test_forward(fixture_arch arch, const char *label)
{
    fixture_spec spec = {arch, 32, 2, 4, 2, 8, 48, 64, 0, 0, 0, 0, 0, 11};
    if (arch == FIXTURE_MIXTRAL) { spec.experts = 4; spec.top_k = 2; }
    fixture_model fm;
    lineage_error err = {0, ""};
    char dir[400];
    snprintf(dir, sizeof dir, "%s/%s", tmp, label);
    fixture_write_options wo = {LINEAGE_DTYPE_F32, 1, 0, 0};
    int filled = !fixture_model_init(&fm, &spec, &err) && !fixture_model_fill(&fm, &err);
    /* sharpen attention and widen the logits: the initializer's scale leaves attention near uniform */
    for (size_t i = 0; filled && i < fm.count; i++) {
        fixture_tensor *ft = &fm.tensors[i];
        float mul = strstr(ft->name, "q_proj") || strstr(ft->name, "k_proj") ? 12.0f
                    : strstr(ft->name, "embed") || strstr(ft->name, "lm_head") ? 20.0f : 1.0f;
        for (uint64_t k = 0; k < fixture_tensor_numel(ft); k++) ft->data[k] *= mul;
    }
    if (!filled || fixture_write_hf(dir, &fm, &wo, &err)) {
        CHECK(0, "%s fixture written (%s)", label, err.message);
        return;
    }
    lineage_model *m;
    infer_model *im = NULL;
    infer_options io = {2, 0, 0};
    if (!CHECK(!lineage_model_open(dir, &m, &err) && !infer_open(m, &io, &im, &err), "%s fixture opens for inference (%s)",
               label, err.message)) {
        fixture_model_free(&fm);
        return;
    }
    enum { T = 9 };
    uint32_t ids[T] = {1, 5, 63, 7, 7, 20, 0, 33, 12};
    size_t V = infer_vocab(im);
    double *ref = malloc(T * V * sizeof *ref);
    float *got = malloc(T * V * sizeof *got), *step = malloc(V * sizeof *step);
    reference_forward(&fm, ids, T, ref);
    infer_session *s;
    tap_log log = {0, 0, 0, 0, 0, T, 32, arch == FIXTURE_MIXTRAL ? 48 : 48};
    infer_taps taps = {&log, on_hidden, on_mlp, 1};
    CHECK(!infer_session_open(im, 0, &s, &err), "%s session opens", label);
    CHECK(!infer_feed(s, ids, T, &taps, got, 0, &err), "%s feeds %d tokens", label, T);
    double worst = 0, scale = 0;
    for (size_t i = 0; i < T * V; i++) {
        worst = fmax(worst, fabs(ref[i] - got[i]));
        scale = fmax(scale, fabs(ref[i]));
    }
    CHECK(worst < 1e-4 * fmax(scale, 1), "%s logits equal the double reference forward (max |d| %.2g, max |logit| %.2g)",
          label, worst, scale);
    CHECK(log.hidden_calls == 3 && !log.hidden_bad, "%s hidden tap: embeddings then each block, ntok x hidden", label);
    if (arch == FIXTURE_MIXTRAL)
        CHECK(log.mlp_calls == 8 && log.experts_seen == 8 && !log.mlp_bad,
              "%s MLP tap in all_experts mode: every expert of every layer on every token", label);
    else
        CHECK(log.mlp_calls == 2 && !log.mlp_bad, "%s MLP tap: gate and up, ntok x neurons, once per layer", label);
    CHECK(infer_session_position(s) == T, "%s session position advances by the tokens fed", label);
    /* incremental: 4 tokens, then one at a time */
    infer_session_reset(s);
    double inc = 0;
    int ok = !infer_feed(s, ids, 4, NULL, step, 1, &err);
    for (size_t i = 0; i < V; i++) inc = fmax(inc, fabs(step[i] - got[3 * V + i]));
    for (int t = 4; ok && t < T; t++) {
        ok = !infer_feed(s, ids + t, 1, NULL, step, 1, &err);
        for (size_t i = 0; i < V; i++) inc = fmax(inc, fabs(step[i] - got[(size_t)t * V + i]));
    }
    CHECK(ok && inc < 1e-5, "%s feeding 4 then 1 at a time through the KV cache equals one-shot (%.2g)", label, inc);
    uint32_t bad = 64;
    CHECK(infer_feed(s, &bad, 1, NULL, step, 1, &err) == LINEAGE_E_USAGE, "%s rejects an id outside the vocabulary", label);
    infer_session_close(s);
    infer_session *small;
    CHECK(!infer_session_open(im, 4, &small, &err) && infer_feed(small, ids, 5, NULL, NULL, 0, &err) == LINEAGE_E_USAGE,
          "%s refuses more tokens than the session holds", label);
    infer_session_close(small);
    /* a session whose cache and buffers were reserved first (lineage run) computes the same logits */
    infer_session *rs = NULL;
    float *got2 = malloc(T * V * sizeof *got2);
    ok = got2 && !infer_session_open(im, T + 3, &rs, &err);
    ok = ok && !infer_session_reserve(rs, T + 3, &err) && !infer_feed(rs, ids, T, NULL, got2, 0, &err);
    CHECK(ok && !memcmp(got, got2, T * V * sizeof *got), "%s after infer_session_reserve: the same logits bit for bit",
          label);
    infer_session_close(rs);
    free(got2);
    free(ref);
    free(got);
    free(step);
    infer_close(im);
    lineage_model_close(m);
    fixture_model_free(&fm);
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/lineage-infer-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp)) { perror("mkdtemp"); return 1; }
    test_matmul_kernels();
    test_q8_matmul();
    test_ops();
    test_routing();
    test_forward(FIXTURE_LLAMA, "llama");
    test_forward(FIXTURE_MIXTRAL, "mixtral");
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    CHECK_EXIT();
}
