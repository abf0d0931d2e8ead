/* Scalar building blocks of the forward pass, in the arithmetic of the Hugging Face modelling code
 * (f32 values; sums in double where torch would sum in f32 with less error anyway). */
#include <math.h>
#include <string.h>

#include "infer/engine.h"

void op_rmsnorm(const float *x, const float *w, size_t n, double eps, int plus_one, float *out)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float inv = (float)(1.0 / sqrt(ss / (double)(n ? n : 1) + eps));
    for (size_t i = 0; i < n; i++) {
        float v = x[i] * inv;
        out[i] = w ? v * (plus_one ? 1.0f + w[i] : w[i]) : v;
    }
}

void op_layernorm(const float *x, const float *w, const float *b, size_t n, double eps, float *out)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    double mean = s / (double)(n ? n : 1);
    for (size_t i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
    double inv = 1.0 / sqrt(ss / (double)(n ? n : 1) + eps);
    for (size_t i = 0; i < n; i++) {
        float v = (float)((x[i] - mean) * inv);
        out[i] = (w ? v * w[i] : v) + (b ? b[i] : 0.0f);
    }
}

void op_rope(float *head, size_t rot_dim, const float *inv_freq, double pos, double attn_factor)
{
    size_t half = rot_dim / 2;
    for (size_t i = 0; i < half; i++) {
        float angle = (float)pos * inv_freq[i];   /* torch forms the angle in f32 */
        float c = (float)(cos((double)angle) * attn_factor), s = (float)(sin((double)angle) * attn_factor);
        float a = head[i], b = head[i + half];
        head[i] = a * c - b * s;
        head[i + half] = b * c + a * s;
    }
}

void op_rope_interleaved(float *head, size_t rot_dim, const float *inv_freq, double pos, double attn_factor)
{
    for (size_t i = 0; i < rot_dim / 2; i++) {
        float angle = (float)pos * inv_freq[i];
        float c = (float)(cos((double)angle) * attn_factor), s = (float)(sin((double)angle) * attn_factor);
        float a = head[2 * i], b = head[2 * i + 1];
        head[2 * i] = a * c - b * s;
        head[2 * i + 1] = b * c + a * s;
    }
}

void op_rope_table(size_t half, const float *inv_freq, double pos, double attn_factor, float *c, float *s)
{
    for (size_t i = 0; i < half; i++) {
        float angle = (float)pos * inv_freq[i];
        c[i] = (float)(cos((double)angle) * attn_factor);
        s[i] = (float)(sin((double)angle) * attn_factor);
    }
}

void op_rope_cs(float *head, size_t half, const float *c, const float *s)
{
    for (size_t i = 0; i < half; i++) {
        float a = head[i], b = head[i + half];
        head[i] = a * c[i] - b * s[i];
        head[i + half] = b * c[i] + a * s[i];
    }
}

void op_rope_interleaved_cs(float *head, size_t half, const float *c, const float *s)
{
    for (size_t i = 0; i < half; i++) {
        float a = head[2 * i], b = head[2 * i + 1];
        head[2 * i] = a * c[i] - b * s[i];
        head[2 * i + 1] = b * c[i] + a * s[i];
    }
}

void op_softmax(float *x, size_t n)
{
    if (n == 0) return;
    float mx = x[0];
    for (size_t i = 1; i < n; i++)
        if (x[i] > mx) mx = x[i];
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        x[i] = x[i] == -INFINITY ? 0.0f : expf(x[i] - mx);
        s += x[i];
    }
    float inv = (float)(1.0 / s);
    for (size_t i = 0; i < n; i++) x[i] *= inv;
}

float op_act(act_kind a, float x)
{
    switch (a) {
    case ACT_GELU_TANH: {
        double xd = x;
        return (float)(0.5 * xd * (1.0 + tanh(0.7978845608028654 * (xd + 0.044715 * xd * xd * xd))));
    }
    case ACT_GELU: return (float)(0.5 * x * (1.0 + erf(x / 1.4142135623730951)));
    case ACT_RELU: return x > 0 ? x : 0.0f;
    default: return (float)(x / (1.0 + exp(-(double)x)));
    }
}

void rope_frequencies(const rope_set *r, size_t dim, size_t seq, float *out)
{
    size_t half = dim / 2;
    double base = r->theta;
    if (r->dynamic && r->original_max > 0 && (double)seq > (double)r->original_max)
        base = r->theta * pow(r->factor * (double)seq / (double)r->original_max - (r->factor - 1),
                              (double)dim / ((double)dim - 2));
    for (size_t i = 0; i < half; i++) out[i] = (float)(1.0 / pow(base, (double)(2 * i) / (double)dim));
}

/* k largest of v[0..n) (ties: lower index first) into idx, descending */
static void topk(const float *v, int n, int k, int *idx)
{
    for (int j = 0; j < k; j++) idx[j] = -1;
    for (int i = 0; i < n; i++) {
        int pos = k;
        while (pos > 0 && (idx[pos - 1] < 0 || v[i] > v[idx[pos - 1]])) pos--;
        if (pos >= k) continue;
        memmove(idx + pos + 1, idx + pos, (size_t)(k - pos - 1) * sizeof *idx);
        idx[pos] = i;
    }
}

#define MOE_MAX_EXPERTS 1024

void moe_route(const infer_model *im, const float *logits, const float *bias, int n, int *idx, float *weight)
{
    float scores[MOE_MAX_EXPERTS], choice[MOE_MAX_EXPERTS];
    int k = im->top_k;
    memcpy(scores, logits, (size_t)n * sizeof *scores);
    if (im->scoring == SCORE_SIGMOID)
        for (int i = 0; i < n; i++) scores[i] = (float)(1.0 / (1.0 + exp(-(double)scores[i])));
    else op_softmax(scores, (size_t)n);
    for (int i = 0; i < n; i++) choice[i] = scores[i] + (bias ? bias[i] : 0.0f);
    if (im->deepseek_routing && im->n_group > 1 && n % im->n_group == 0 && im->topk_group < im->n_group) {
        int per = n / im->n_group, gidx[MOE_MAX_EXPERTS];
        float gscore[MOE_MAX_EXPERTS];
        for (int g = 0; g < im->n_group; g++) {
            int best[2];
            const float *c = choice + g * per;
            if (bias) {   /* V3: the sum of each group's two best */
                topk(c, per, per >= 2 ? 2 : 1, best);
                gscore[g] = c[best[0]] + (per >= 2 ? c[best[1]] : 0.0f);
            } else {      /* V2 group_limited_greedy: the group's best */
                topk(c, per, 1, best);
                gscore[g] = c[best[0]];
            }
        }
        topk(gscore, im->n_group, im->topk_group, gidx);
        for (int g = 0; g < im->n_group; g++) {
            int keep = 0;
            for (int j = 0; j < im->topk_group; j++) keep |= gidx[j] == g;
            if (!keep)
                for (int e = 0; e < per; e++) choice[g * per + e] = 0.0f;
        }
    }
    topk(choice, n, k, idx);
    double sum = 0;
    for (int j = 0; j < k; j++) {
        weight[j] = scores[idx[j]];
        sum += weight[j];
    }
    int normalized = im->norm_topk && k > 1;
    if (normalized)
        for (int j = 0; j < k; j++) weight[j] = (float)(weight[j] / (sum + (im->deepseek_routing ? 1e-20 : 0.0)));
    if (im->deepseek_routing && (!normalized || strcmp(im->family, "deepseek_v2")))
        for (int j = 0; j < k; j++) weight[j] = (float)(weight[j] * im->routed_scale);
}
