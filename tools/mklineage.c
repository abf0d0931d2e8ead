/* mklineage OUTDIR [SEED]: writes a family of small Llama-style HF folders with known lineage, made
 * from a seeded random base with weight-like structure (low-rank + noise per matrix, outlier hidden
 * channels, norm gains near 1 with depth drift), for testing the weights comparison on cases that
 * are not the zoo. OUTDIR/truth.json records what was done (layer maps, kept neurons) and each model's
 * parent (single, composed and second-generation derivations).
 * mklineage OUTDIR SEED --grid WIDTH: the composed-derivation grid instead (OUTDIR/grid.json). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format/safetensors.h"
#include "support/safetensors_write.h"
#include "util/strbuf.h"

enum { DMAX = 128, FMAX = 320, LMAX = 16, H = 4, KV = 2, V = 700, RANK = 8, EXPERTS = 4 };
/* the shape of the base: these defaults, or a --grid width */
static int D = 80, F = 200, L = 5, HD = 20;

typedef struct tensor {
    char name[96];
    int ndim;
    uint64_t shape[2];
    float *data;
} tensor;

typedef struct model {
    tensor t[256];
    int n;
    int layers, vocab, ffn, experts;
} model;

static uint64_t rng_state;
static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double uniform(void) { return ((double)(next_u64() >> 11) + 0.5) / 9007199254740992.0; }
static double gauss(void) { return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform()); }

static void die(const char *what)
{
    fprintf(stderr, "mklineage: %s\n", what);
    exit(1);
}

static tensor *add(model *m, const char *name, uint64_t rows, uint64_t cols)
{
    if (m->n >= 256) die("too many tensors");
    tensor *t = &m->t[m->n++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = rows ? 2 : 1;
    t->shape[0] = rows ? rows : cols;
    t->shape[1] = cols;
    t->data = calloc((rows ? rows : 1) * cols, sizeof(float));
    if (!t->data) die("out of memory");
    return t;
}

static tensor *find(model *m, const char *name)
{
    for (int i = 0; i < m->n; i++) if (!strcmp(m->t[i].name, name)) return &m->t[i];
    return NULL;
}

static size_t numel(const tensor *t) { return t->ndim == 1 ? t->shape[0] : t->shape[0] * t->shape[1]; }
static size_t rows_of(const tensor *t) { return t->ndim == 1 ? 1 : t->shape[0]; }
static size_t cols_of(const tensor *t) { return t->ndim == 1 ? t->shape[0] : t->shape[1]; }

static float col_scale[DMAX];   /* outlier hidden channels of the base */

/* low-rank + noise, hidden-indexed axis scaled by the outlier pattern */
static void fill_matrix(tensor *t, double std, int hidden_cols)
{
    size_t R = rows_of(t), C = cols_of(t);
    double u[RANK], v[RANK];
    double *vr = malloc(RANK * C * sizeof *vr);
    for (size_t i = 0; i < RANK * C; i++) vr[i] = gauss();
    for (size_t r = 0; r < R; r++) {
        for (int k = 0; k < RANK; k++) u[k] = gauss() * (1.0 / (1 + k));
        for (size_t c = 0; c < C; c++) {
            double x = 0.6 * gauss();
            for (int k = 0; k < RANK; k++) { v[k] = vr[k * C + c]; x += u[k] * v[k] * 0.5; }
            double s = hidden_cols ? col_scale[c % D] : (R == (size_t)D ? col_scale[r] : 1);
            t->data[r * C + c] = (float)(std * x * s);
        }
    }
    free(vr);
}

static void fill_norm(tensor *t, int layer)
{
    for (size_t i = 0; i < numel(t); i++) t->data[i] = (float)(1 + 0.08 * layer + 0.05 * gauss());
}

static void build_base(model *m, uint64_t seed, int vocab)
{
    memset(m, 0, sizeof *m);
    rng_state = seed;
    m->layers = L;
    m->vocab = vocab;
    m->ffn = F;
    for (int k = 0; k < D; k++) col_scale[k] = (float)(k % 17 == 3 ? 4.0 : 1.0 + 0.2 * uniform());
    char nm[96];
    tensor *e = add(m, "model.embed_tokens.weight", (uint64_t)vocab, D);
    fill_matrix(e, 0.05, 1);
    for (int l = 0; l < L; l++) {
        static const char *const attn[] = {"q_proj", "k_proj", "v_proj", "o_proj"};
        for (int a = 0; a < 4; a++) {
            snprintf(nm, sizeof nm, "model.layers.%d.self_attn.%s.weight", l, attn[a]);
            uint64_t rows = a == 1 || a == 2 ? KV * HD : D;
            fill_matrix(add(m, nm, rows, D), 0.04, a != 3);
        }
        static const char *const mlp[] = {"gate_proj", "up_proj", "down_proj"};
        for (int a = 0; a < 3; a++) {
            snprintf(nm, sizeof nm, "model.layers.%d.mlp.%s.weight", l, mlp[a]);
            fill_matrix(a == 2 ? add(m, nm, D, F) : add(m, nm, F, D), 0.04, a != 2);
        }
        snprintf(nm, sizeof nm, "model.layers.%d.input_layernorm.weight", l);
        fill_norm(add(m, nm, 0, D), l);
        snprintf(nm, sizeof nm, "model.layers.%d.post_attention_layernorm.weight", l);
        fill_norm(add(m, nm, 0, D), l);
    }
    fill_norm(add(m, "model.norm.weight", 0, D), L);
    fill_matrix(add(m, "lm_head.weight", (uint64_t)vocab, D), 0.05, 1);
}

static void copy_model(model *dst, const model *src)
{
    *dst = *src;
    for (int i = 0; i < src->n; i++) {
        size_t n = numel(&src->t[i]);
        dst->t[i].data = malloc(n * sizeof(float));
        if (!dst->t[i].data) die("out of memory");
        memcpy(dst->t[i].data, src->t[i].data, n * sizeof(float));
    }
}

static void free_model(model *m)
{
    for (int i = 0; i < m->n; i++) free(m->t[i].data);
    m->n = 0;
}

static double tensor_std(const tensor *t)
{
    double s = 0, s2 = 0;
    size_t n = numel(t);
    for (size_t i = 0; i < n; i++) { s += t->data[i]; s2 += (double)t->data[i] * t->data[i]; }
    double mean = s / n, v = s2 / n - mean * mean;
    return v > 0 ? sqrt(v) : 0;
}

/* Training-like update: relative size `rel` (varied per tensor by `spread`), low-rank + noise, with
 * weight decay `shrink` pulling toward zero. */
static void perturb(model *m, double rel, double spread, double shrink)
{
    for (int i = 0; i < m->n; i++) {
        tensor *t = &m->t[i];
        double sd = tensor_std(t), r = rel * exp(spread * gauss());
        size_t R = rows_of(t), C = cols_of(t);
        double a = gauss(), b[512];
        for (size_t c = 0; c < C && c < 512; c++) b[c] = gauss();
        for (size_t row = 0; row < R; row++) {
            a = gauss();
            for (size_t c = 0; c < C; c++) {
                float *x = &t->data[row * C + c];
                double base = t->ndim == 1 ? 1 + (*x - 1) * shrink : *x * shrink;
                *x = (float)(base + r * sd * (0.8 * gauss() + 0.6 * a * b[c % 512]));
            }
        }
    }
}

static void noise(model *m, double alpha)
{
    for (int i = 0; i < m->n; i++) {
        double sd = tensor_std(&m->t[i]);
        for (size_t k = 0; k < numel(&m->t[i]); k++) m->t[i].data[k] += (float)(alpha * sd * gauss());
    }
}

static void scale_cols(tensor *t, const double *s)
{
    for (size_t r = 0; r < rows_of(t); r++)
        for (size_t c = 0; c < cols_of(t); c++) t->data[r * cols_of(t) + c] = (float)(t->data[r * cols_of(t) + c] * s[c]);
}

static void rescale(model *m)
{
    char nm[96];
    double alpha[DMAX], inv[DMAX];
    for (int l = 0; l <= m->layers; l++) {
        for (int pass = 0; pass < 2 && (l < m->layers || pass == 0); pass++) {
            for (int k = 0; k < D; k++) { alpha[k] = 0.5 + 1.5 * uniform(); inv[k] = 1 / alpha[k]; }
            if (l == m->layers) {
                scale_cols(find(m, "model.norm.weight"), alpha);
                scale_cols(find(m, "lm_head.weight"), inv);
                continue;
            }
            snprintf(nm, sizeof nm, pass ? "model.layers.%d.post_attention_layernorm.weight" : "model.layers.%d.input_layernorm.weight", l);
            scale_cols(find(m, nm), alpha);
            static const char *const reads[2][3] = {{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"},
                                                     {"mlp.gate_proj", "mlp.up_proj", NULL}};
            for (int k = 0; k < 3 && reads[pass][k]; k++) {
                snprintf(nm, sizeof nm, "model.layers.%d.%s.weight", l, reads[pass][k]);
                if (find(m, nm)) scale_cols(find(m, nm), inv);   /* an MoE's experts keep their scale */
            }
        }
    }
}

static void random_perm(int *p, int n)
{
    for (int i = 0; i < n; i++) p[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(next_u64() % (uint64_t)(i + 1)), t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
}

/* new row r = old row p[r] (rows) or new col c = old col p[c] (cols) */
static void permute(tensor *t, const int *p, int cols)
{
    size_t R = rows_of(t), C = cols_of(t), n = numel(t);
    float *d = malloc(n * sizeof *d);
    for (size_t r = 0; r < R; r++)
        for (size_t c = 0; c < C; c++)
            d[r * C + c] = cols ? t->data[r * C + (size_t)p[c]] : t->data[(size_t)p[r] * C + c];
    free(t->data);
    t->data = d;
}

static void permute_model(model *m)
{
    int ph[DMAX], pf[FMAX], pkv[KV], prow_q[DMAX], prow_kv[DMAX];
    random_perm(ph, D);
    char nm[96];
    for (int i = 0; i < m->n; i++) {
        tensor *t = &m->t[i];
        int hidden_rows = strstr(t->name, "o_proj") || strstr(t->name, "down_proj");
        permute(t, ph, !hidden_rows);
    }
    for (int l = 0; l < m->layers; l++) {
        random_perm(pf, m->ffn);
        snprintf(nm, sizeof nm, "model.layers.%d.mlp.gate_proj.weight", l); permute(find(m, nm), pf, 0);
        snprintf(nm, sizeof nm, "model.layers.%d.mlp.up_proj.weight", l); permute(find(m, nm), pf, 0);
        snprintf(nm, sizeof nm, "model.layers.%d.mlp.down_proj.weight", l); permute(find(m, nm), pf, 1);
        /* KV groups move with their query heads */
        random_perm(pkv, KV);
        for (int g = 0; g < KV; g++)
            for (int k = 0; k < HD; k++) prow_kv[g * HD + k] = pkv[g] * HD + k;
        for (int h = 0; h < H; h++) {
            int g = h / (H / KV), w = h % (H / KV), src = pkv[g] * (H / KV) + w;
            for (int k = 0; k < HD; k++) prow_q[h * HD + k] = src * HD + k;
        }
        snprintf(nm, sizeof nm, "model.layers.%d.self_attn.q_proj.weight", l); permute(find(m, nm), prow_q, 0);
        snprintf(nm, sizeof nm, "model.layers.%d.self_attn.o_proj.weight", l); permute(find(m, nm), prow_q, 1);
        snprintf(nm, sizeof nm, "model.layers.%d.self_attn.k_proj.weight", l); permute(find(m, nm), prow_kv, 0);
        snprintf(nm, sizeof nm, "model.layers.%d.self_attn.v_proj.weight", l); permute(find(m, nm), prow_kv, 0);
    }
}

static void rename_layer(tensor *t, int from, int to)
{
    char pre[32], rest[80];
    snprintf(pre, sizeof pre, "model.layers.%d.", from);
    size_t pl = strlen(pre);
    if (strncmp(t->name, pre, pl)) return;
    snprintf(rest, sizeof rest, "%.79s", t->name + pl);
    snprintf(t->name, sizeof t->name, "model.layers.%d.%.70s", to, rest);
}

static void upscale(model *dst, const model *src, const int *map, int nl)
{
    memset(dst, 0, sizeof *dst);
    dst->layers = nl;
    dst->vocab = src->vocab;
    dst->ffn = src->ffn;
    char pre[32];
    for (int i = 0; i < src->n; i++)
        if (strncmp(src->t[i].name, "model.layers.", 13)) {
            dst->t[dst->n] = src->t[i];
            dst->t[dst->n].data = malloc(numel(&src->t[i]) * sizeof(float));
            memcpy(dst->t[dst->n].data, src->t[i].data, numel(&src->t[i]) * sizeof(float));
            dst->n++;
        }
    for (int j = 0; j < nl; j++) {
        snprintf(pre, sizeof pre, "model.layers.%d.", map[j]);
        for (int i = 0; i < src->n; i++) {
            if (strncmp(src->t[i].name, pre, strlen(pre))) continue;
            tensor *t = &dst->t[dst->n++];
            *t = src->t[i];
            t->data = malloc(numel(&src->t[i]) * sizeof(float));
            memcpy(t->data, src->t[i].data, numel(&src->t[i]) * sizeof(float));
            rename_layer(t, map[j], j);
        }
    }
}

/* Keeps the FFN neurons with the largest |gate|*|up| row norms, in order; kept[l][k] recorded. */
static void prune(model *m, int keep, int kept[LMAX][FMAX])
{
    char nm[96];
    for (int l = 0; l < m->layers; l++) {
        snprintf(nm, sizeof nm, "model.layers.%d.mlp.gate_proj.weight", l);
        tensor *g = find(m, nm);
        snprintf(nm, sizeof nm, "model.layers.%d.mlp.up_proj.weight", l);
        tensor *u = find(m, nm);
        snprintf(nm, sizeof nm, "model.layers.%d.mlp.down_proj.weight", l);
        tensor *d = find(m, nm);
        double score[FMAX];
        int FF = m->ffn;
        for (int r = 0; r < FF; r++) {
            double a = 0, b = 0;
            for (int c = 0; c < D; c++) { a += g->data[r * D + c] * g->data[r * D + c]; b += u->data[r * D + c] * u->data[r * D + c]; }
            score[r] = a * b * (0.5 + uniform());
        }
        int drop[FMAX] = {0};
        for (int k = 0; k < FF - keep; k++) {
            int w = -1;
            for (int r = 0; r < FF; r++) if (!drop[r] && (w < 0 || score[r] < score[w])) w = r;
            drop[w] = 1;
        }
        int n = 0;
        for (int r = 0; r < FF; r++) if (!drop[r]) kept[l][n++] = r;
        float *ng = malloc((size_t)keep * D * sizeof(float)), *nu = malloc((size_t)keep * D * sizeof(float)),
              *nd = malloc((size_t)keep * D * sizeof(float));
        for (int k = 0; k < keep; k++) {
            memcpy(ng + k * D, g->data + kept[l][k] * D, D * sizeof(float));
            memcpy(nu + k * D, u->data + kept[l][k] * D, D * sizeof(float));
            for (int r = 0; r < D; r++) nd[r * keep + k] = d->data[r * FF + kept[l][k]];
        }
        free(g->data); free(u->data); free(d->data);
        g->data = ng; u->data = nu; d->data = nd;
        g->shape[0] = u->shape[0] = (uint64_t)keep;
        d->shape[1] = (uint64_t)keep;
    }
    m->ffn = keep;
}

static void extend_vocab(model *m, int extra)
{
    static const char *const names[] = {"model.embed_tokens.weight", "lm_head.weight"};
    for (int k = 0; k < 2; k++) {
        tensor *t = find(m, names[k]);
        size_t old = t->shape[0], nr = old + (size_t)extra;
        float *d = calloc(nr * D, sizeof *d);
        memcpy(d, t->data, old * D * sizeof *d);
        double mean[DMAX] = {0};
        for (size_t r = 0; r < old; r++) for (int c = 0; c < D; c++) mean[c] += t->data[r * D + c] / (double)old;
        double sd = tensor_std(t);
        for (size_t r = old; r < nr; r++) for (int c = 0; c < D; c++) d[r * D + c] = (float)(mean[c] + 0.3 * sd * gauss());
        free(t->data);
        t->data = d;
        t->shape[0] = nr;
    }
    m->vocab += extra;
}

static void upcycle(model *dst, const model *src)
{
    memset(dst, 0, sizeof *dst);
    dst->layers = src->layers;
    dst->vocab = src->vocab;
    dst->ffn = src->ffn;
    dst->experts = EXPERTS;
    char nm[96];
    for (int i = 0; i < src->n; i++) {
        const tensor *s = &src->t[i];
        const char *mlp = strstr(s->name, ".mlp.");
        if (!mlp) {
            tensor *t = &dst->t[dst->n++];
            *t = *s;
            t->data = malloc(numel(s) * sizeof(float));
            memcpy(t->data, s->data, numel(s) * sizeof(float));
            continue;
        }
        int l = atoi(s->name + 13);
        const char *w = strstr(mlp, "gate_proj") ? "w1" : strstr(mlp, "up_proj") ? "w3" : "w2";
        double sd = tensor_std(s);
        for (int e = 0; e < EXPERTS; e++) {
            snprintf(nm, sizeof nm, "model.layers.%d.block_sparse_moe.experts.%d.%s.weight", l, e, w);
            tensor *t = add(dst, nm, s->shape[0], s->shape[1]);
            for (size_t k = 0; k < numel(s); k++) t->data[k] = (float)(s->data[k] + 0.02 * sd * gauss());
        }
        if (!strcmp(w, "w1")) {
            snprintf(nm, sizeof nm, "model.layers.%d.block_sparse_moe.gate.weight", l);
            fill_matrix(add(dst, nm, EXPERTS, D), 0.02, 1);
        }
    }
}

/* ---- writing ---- */

static uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

static void token_string(char *buf, size_t cap, int id, int family)
{
    /* byte-level-looking strings: a few single characters, then letter pairs/triples */
    static const char alpha[] = "etaoinshrdlucmfwypvbgkqjxz";
    if (id < 4) { static const char *const sp[] = {"<unk>", "<s>", "</s>", "<pad>"}; snprintf(buf, cap, "%s", sp[id]); return; }
    int k = id - 4 + family * 977;
    snprintf(buf, cap, "%c%c%c", alpha[k % 26], alpha[(k / 26) % 26], k >= 676 ? alpha[(k / 676) % 26] : '_');
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f)) die("cannot write a file");
}

/* vocab ids -> strings: `family` shifts the string set; `shuffle` reorders ids */
static void write_tokenizer(const char *dir, int vocab, int family, int shuffle_seed)
{
    strbuf sb;
    sb_init(&sb);
    int *order = malloc((size_t)vocab * sizeof *order);
    for (int i = 0; i < vocab; i++) order[i] = i;
    if (shuffle_seed) {
        uint64_t save = rng_state;
        rng_state = (uint64_t)shuffle_seed;
        for (int i = vocab - 1; i > 4; i--) {
            int j = 4 + (int)(next_u64() % (uint64_t)(i - 3)), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        rng_state = save;
    }
    sb_puts(&sb, "{\"version\":\"1.0\",\"added_tokens\":[");
    for (int i = 0; i < 4; i++) {
        char s[16];
        token_string(s, sizeof s, i, 0);
        sb_printf(&sb, "%s{\"id\":%d,\"content\":\"%s\",\"special\":true}", i ? "," : "", i, s);
    }
    sb_puts(&sb, "],\"model\":{\"type\":\"BPE\",\"vocab\":{");
    for (int i = 0; i < vocab; i++) {
        char s[16];
        /* family 1 shares half of the strings with family 0 */
        int fam = family && (order[i] % 2) ? family : 0;
        token_string(s, sizeof s, order[i], fam);
        sb_printf(&sb, "%s\"%s\":%d", i ? "," : "", s, i);
    }
    sb_puts(&sb, "},\"merges\":[]}}\n");
    char path[1100];
    snprintf(path, sizeof path, "%.1000s/tokenizer.json", dir);
    write_text(path, sb_str(&sb));
    sb_free(&sb);
    free(order);
}

static void write_model(const char *out, const char *name, const model *m, lineage_dtype dt, int family, int shuffle)
{
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/%s", out, name);
    mkdir(dir, 0755);
    st_tensor *ts = calloc((size_t)m->n, sizeof *ts);
    uint16_t **tmp = calloc((size_t)m->n, sizeof *tmp);
    for (int i = 0; i < m->n; i++) {
        const tensor *t = &m->t[i];
        ts[i].name = t->name;
        ts[i].dtype = dt;
        ts[i].ndim = t->ndim;
        ts[i].shape[0] = t->shape[0];
        ts[i].shape[1] = t->shape[1];
        if (dt == LINEAGE_DTYPE_BF16) {
            tmp[i] = malloc(numel(t) * sizeof(uint16_t));
            for (size_t k = 0; k < numel(t); k++) tmp[i][k] = to_bf16(t->data[k]);
            ts[i].data = tmp[i];
        } else ts[i].data = t->data;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    lineage_error err;
    if (safetensors_write(path, ts, (size_t)m->n, "{\"format\":\"pt\"}", &err)) die(err.message);
    for (int i = 0; i < m->n; i++) free(tmp[i]);
    free(tmp);
    free(ts);
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"architectures\":[\"%s\"],\"model_type\":\"%s\",\"hidden_size\":%d,\"intermediate_size\":%d,"
             "\"num_hidden_layers\":%d,\"num_attention_heads\":%d,\"num_key_value_heads\":%d,\"head_dim\":%d,"
             "\"vocab_size\":%d,\"rms_norm_eps\":1e-05,\"rope_theta\":10000.0,\"tie_word_embeddings\":false%s}\n",
             m->experts ? "MixtralForCausalLM" : "LlamaForCausalLM", m->experts ? "mixtral" : "llama", D, m->ffn,
             m->layers, H, KV, HD, m->vocab, m->experts ? ",\"num_local_experts\":4,\"num_experts_per_tok\":2" : "");
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_text(path, cfg);
    write_tokenizer(dir, m->vocab, family, shuffle);
}

/* ---- the composed-derivation grid (--grid) ---- */

typedef struct op_def {
    const char *name, *kind;
    int dense_only;    /* needs a dense FFN (not after upcycling) */
    int training;      /* a training-like value change */
    int directed;      /* leaves a trace of which side was changed (subset, extension, repeats, noise, dtype) */
} op_def;

static const op_def grid_ops[] = {
    {"finetune", "finetune", 0, 1, 0},     {"cpt", "continued_pretraining", 0, 1, 0},
    {"noise", "noised", 0, 0, 1},          {"rescale", "rescaled", 1, 0, 0},
    {"permute", "permuted", 1, 0, 0},      {"prune", "pruned", 1, 0, 1},
    {"vocab", "vocab_extended", 0, 0, 1},  {"upscale", "depth_upscaled", 0, 0, 1},
    {"upcycle", "upcycled", 1, 0, 1},      {"requant", "requantized", 0, 0, 1},
};
enum { NOPS = sizeof grid_ops / sizeof grid_ops[0] };

static int op_index(const char *name)
{
    for (int i = 0; i < NOPS; i++) if (!strcmp(grid_ops[i].name, name)) return i;
    die("unknown grid op");
    return -1;
}

static void round_bf16(model *m)
{
    for (int i = 0; i < m->n; i++)
        for (size_t k = 0; k < numel(&m->t[i]); k++) {
            uint32_t u = (uint32_t)to_bf16(m->t[i].data[k]) << 16;
            memcpy(&m->t[i].data[k], &u, 4);
        }
}

/* Applies one op to m in place. */
static void apply_op(model *m, int op)
{
    static int kept[LMAX][FMAX];
    model x;
    const char *name = grid_ops[op].name;
    if (!strcmp(name, "finetune")) perturb(m, 0.08, 0.6, 1.0);
    else if (!strcmp(name, "cpt")) perturb(m, 0.9, 0.5, 0.8);
    else if (!strcmp(name, "noise")) noise(m, 0.4);
    else if (!strcmp(name, "rescale")) rescale(m);
    else if (!strcmp(name, "permute")) permute_model(m);
    else if (!strcmp(name, "prune")) prune(m, m->ffn * 7 / 10, kept);
    else if (!strcmp(name, "vocab")) extend_vocab(m, 60);
    else if (!strcmp(name, "requant")) round_bf16(m);
    else if (!strcmp(name, "upscale") || !strcmp(name, "upcycle")) {
        if (!strcmp(name, "upcycle")) upcycle(&x, m);
        else {
            /* SOLAR-style: layers 0..n-2, then 1..n-1 */
            int map[LMAX], n = m->layers, nl = 0;
            if (2 * n - 2 > LMAX) die("too many layers to up-scale");
            for (int l = 0; l < n - 1; l++) map[nl++] = l;
            for (int l = 1; l < n; l++) map[nl++] = l;
            upscale(&x, m, map, nl);
            x.experts = m->experts;
        }
        free_model(m);
        *m = x;
    }
}

static int chain_valid(const int *ops, int n)
{
    int moe = 0, trained = 0;
    for (int i = 0; i < n; i++) {
        const op_def *o = &grid_ops[ops[i]];
        for (int j = 0; j < i; j++) if (ops[j] == ops[i]) return 0;
        if (o->dense_only && moe) return 0;
        if (o->training && trained) return 0;                  /* two trainings read as one */
        if (!strcmp(o->name, "requant") && i != n - 1) return 0;   /* only a final re-save keeps its dtype */
        if (!strcmp(o->name, "upcycle")) moe = 1;
        trained |= o->training;
    }
    return 1;
}

static void grid_case(const char *out, const model *base, const int *ops, int n, strbuf *truth, int *first)
{
    char name[128] = "";
    model m;
    copy_model(&m, base);
    for (int i = 0; i < n; i++) {
        snprintf(name + strlen(name), sizeof name - strlen(name), "%s%s", i ? "+" : "", grid_ops[ops[i]].name);
        apply_op(&m, ops[i]);
    }
    int requant = !strcmp(grid_ops[ops[n - 1]].name, "requant"), directed = 0;
    write_model(out, name, &m, requant ? LINEAGE_DTYPE_BF16 : LINEAGE_DTYPE_F32, 0, 0);
    free_model(&m);
    sb_printf(truth, "%s{\"name\":\"%s\",\"ops\":[", *first ? "" : ",\n", name);
    for (int i = 0; i < n; i++) sb_printf(truth, "%s\"%s\"", i ? "," : "", grid_ops[ops[i]].name);
    sb_puts(truth, "],\"kinds\":[");
    /* training hides two traces: a noise under continued pre-training (the kind itself is declared
     * indistinguishable), and a final rounding to bf16 after training (a bf16 release trained on in
     * f32 leaves the same pair of dtypes and an update of the same size) */
    int cpt = 0, trained = 0;
    for (int i = 0; i < n; i++) {
        cpt |= !strcmp(grid_ops[ops[i]].name, "cpt");
        trained |= grid_ops[ops[i]].training;
    }
    for (int i = 0; i < n; i++) {
        const char *op = grid_ops[ops[i]].name;
        sb_printf(truth, "%s\"%s\"", i ? "," : "", grid_ops[ops[i]].kind);
        directed |= grid_ops[ops[i]].directed && !(cpt && !strcmp(op, "noise")) && !(trained && !strcmp(op, "requant"));
    }
    sb_printf(truth, "],\"related\":true,\"direction\":\"b_from_a\",\"direction_knowable\":%s}", directed ? "true" : "false");
    *first = 0;
}

/* Every valid ordered pair of ops, some three-step chains, and unrelated controls (an independent base,
 * and that base permuted), on one seed and one width; truth in OUTDIR/grid.json. */
static int grid(const char *out, uint64_t seed, int width)
{
    if (width == 1) { D = 64; F = 160; L = 4; HD = 16; }
    else if (width == 2) { D = 48; F = 128; L = 4; HD = 12; }
    else die("--grid WIDTH is 1 or 2");
    mkdir(out, 0755);
    model base, m;
    build_base(&base, seed, 300);
    write_model(out, "base", &base, LINEAGE_DTYPE_F32, 0, 0);
    strbuf truth;
    sb_init(&truth);
    sb_printf(&truth, "{\"seed\":%llu,\"width\":%d,\"hidden\":%d,\"ffn\":%d,\"cases\":[\n", (unsigned long long)seed,
              width, D, F);
    int first = 1;
    for (int i = 0; i < NOPS; i++)
        for (int j = 0; j < NOPS; j++) {
            int ops[2] = {i, j};
            if (chain_valid(ops, 2)) grid_case(out, &base, ops, 2, &truth, &first);
        }
    static const char *const chains[][3] = {
        {"prune", "permute", "finetune"}, {"vocab", "cpt", "requant"},   {"upscale", "permute", "noise"},
        {"rescale", "prune", "finetune"}, {"upcycle", "vocab", "finetune"}, {"permute", "vocab", "rescale"},
    };
    for (size_t c = 0; c < sizeof chains / sizeof chains[0]; c++) {
        int ops[3];
        for (int k = 0; k < 3; k++) ops[k] = op_index(chains[c][k]);
        if (chain_valid(ops, 3)) grid_case(out, &base, ops, 3, &truth, &first);
    }
    /* unrelated: another seed, alone and disguised */
    build_base(&m, seed + 1000, 300);
    write_model(out, "unrelated", &m, LINEAGE_DTYPE_F32, 0, 0);
    sb_puts(&truth, ",\n{\"name\":\"unrelated\",\"ops\":[],\"kinds\":[],\"related\":false}");
    permute_model(&m);
    static int kept_unrelated[LMAX][FMAX];
    prune(&m, m.ffn * 7 / 10, kept_unrelated);
    write_model(out, "unrelated+prune+permute", &m, LINEAGE_DTYPE_F32, 0, 0);
    sb_puts(&truth, ",\n{\"name\":\"unrelated+prune+permute\",\"ops\":[],\"kinds\":[],\"related\":false}");
    free_model(&m);
    sb_puts(&truth, "\n]}\n");
    char path[1024];
    snprintf(path, sizeof path, "%s/grid.json", out);
    write_text(path, sb_str(&truth));
    sb_free(&truth);
    free_model(&base);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[3], "--grid")) return grid(argv[1], strtoull(argv[2], NULL, 10), atoi(argv[4]));
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: mklineage OUTDIR [SEED [--grid WIDTH]]\n");
        return 2;
    }
    const char *out = argv[1];
    uint64_t seed = argc == 3 ? strtoull(argv[2], NULL, 10) : 1;
    mkdir(out, 0755);
    model base, m, x;
    build_base(&base, seed, V);
    write_model(out, "base", &base, LINEAGE_DTYPE_F32, 0, 0);

    copy_model(&m, &base);
    write_model(out, "identical", &m, LINEAGE_DTYPE_F32, 0, 0);
    write_model(out, "requantized", &m, LINEAGE_DTYPE_BF16, 0, 0);
    free_model(&m);

    model ft;
    copy_model(&ft, &base); perturb(&ft, 0.08, 0.6, 1.0); write_model(out, "finetune", &ft, LINEAGE_DTYPE_F32, 0, 0);
    copy_model(&m, &base); perturb(&m, 0.9, 0.5, 0.8); write_model(out, "continued", &m, LINEAGE_DTYPE_F32, 0, 0); free_model(&m);
    copy_model(&m, &base); noise(&m, 0.4); write_model(out, "noised", &m, LINEAGE_DTYPE_F32, 0, 0); free_model(&m);
    copy_model(&m, &base); rescale(&m); write_model(out, "rescaled", &m, LINEAGE_DTYPE_F32, 0, 0); free_model(&m);
    copy_model(&m, &base); perturb(&m, 0.03, 0.3, 1.0); permute_model(&m); write_model(out, "permuted", &m, LINEAGE_DTYPE_F32, 0, 0); free_model(&m);

    static const int up_map[8] = {0, 1, 2, 3, 1, 2, 3, 4};
    upscale(&x, &base, up_map, 8); perturb(&x, 0.05, 0.3, 1.0); write_model(out, "upscaled", &x, LINEAGE_DTYPE_F32, 0, 0); free_model(&x);

    static int kept[LMAX][FMAX];
    copy_model(&m, &base); prune(&m, 140, kept); perturb(&m, 0.05, 0.3, 1.0); write_model(out, "pruned", &m, LINEAGE_DTYPE_F32, 0, 0); free_model(&m);

    copy_model(&m, &base); extend_vocab(&m, 60); perturb(&m, 0.05, 0.3, 1.0); write_model(out, "vocab-extended", &m, LINEAGE_DTYPE_F32, 0, 0); free_model(&m);

    upcycle(&x, &base); perturb(&x, 0.03, 0.3, 1.0); write_model(out, "upcycled", &x, LINEAGE_DTYPE_F32, 0, 0); free_model(&x);

    build_base(&m, seed + 1000, V); write_model(out, "independent", &m, LINEAGE_DTYPE_F32, 0, 0); free_model(&m);
    /* a re-trained vocabulary: half the strings shared, ids reordered, different weights */
    build_base(&m, seed + 2000, V + 40); write_model(out, "independent-vocab", &m, LINEAGE_DTYPE_F32, 1, 99); free_model(&m);

    /* composed derivations (intermediates not written: the parent is base) and a second generation
     * (the parent is finetune, which is written above) */
    static int kept2[LMAX][FMAX];
    copy_model(&m, &base); perturb(&m, 0.05, 0.3, 1.0); permute_model(&m); prune(&m, 160, kept2); perturb(&m, 0.05, 0.3, 1.0);
    write_model(out, "composed-finetune-permute-prune", &m, LINEAGE_DTYPE_BF16, 0, 0); free_model(&m);
    copy_model(&m, &base); extend_vocab(&m, 40); noise(&m, 0.3); upscale(&x, &m, up_map, 8); perturb(&x, 0.05, 0.3, 1.0);
    write_model(out, "composed-vocab-noise-upscale", &x, LINEAGE_DTYPE_F32, 0, 0); free_model(&x); free_model(&m);
    copy_model(&m, &base); rescale(&m); perturb(&m, 0.5, 0.5, 0.9); write_model(out, "composed-rescale-continued", &m, LINEAGE_DTYPE_F32, 0, 0); free_model(&m);
    copy_model(&m, &ft); perturb(&m, 0.05, 0.3, 1.0); write_model(out, "finetune-child", &m, LINEAGE_DTYPE_F32, 0, 0); free_model(&m);
    free_model(&ft);

    strbuf sb;
    sb_init(&sb);
    sb_puts(&sb, "{\"upscaled_layer_map\":[0,1,2,3,1,2,3,4],\"pruned_kept\":{");
    for (int l = 0; l < L; l++) {
        sb_printf(&sb, "%s\"%d\":[", l ? "," : "", l);
        for (int k = 0; k < 140; k++) sb_printf(&sb, "%s%d", k ? "," : "", kept[l][k]);
        sb_puts(&sb, "]");
    }
    sb_puts(&sb, "},\"parents\":{\"identical\":\"base\",\"requantized\":\"base\",\"finetune\":\"base\",\"continued\":\"base\","
                 "\"noised\":\"base\",\"rescaled\":\"base\",\"permuted\":\"base\",\"upscaled\":\"base\",\"pruned\":\"base\","
                 "\"vocab-extended\":\"base\",\"upcycled\":\"base\",\"composed-finetune-permute-prune\":\"base\","
                 "\"composed-vocab-noise-upscale\":\"base\",\"composed-rescale-continued\":\"base\",\"finetune-child\":\"finetune\"}}\n");
    char path[1024];
    snprintf(path, sizeof path, "%s/truth.json", out);
    write_text(path, sb_str(&sb));
    sb_free(&sb);
    free_model(&base);
    return 0;
}
