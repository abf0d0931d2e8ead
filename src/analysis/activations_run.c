/* Running both models on the probe text for the activation comparison. Each probe is encoded by both
 * tokenizers and fed as its own sequence (session reset between probes). Positions are aligned by the
 * byte offset at which their token ends in the probe text (all positions when both tokenizers give the
 * same ids); the first position of every probe is left out (attention-sink activations dominate it).
 * A runs over every probe, then B; taps copy the aligned positions' hidden states (a fixed Gaussian
 * sketch when wider than ACT_SKETCH_MAX) and MLP gate/up activations into per-layer buffers whose
 * total size is bounded (ACT_CKA_BUDGET, ACT_MLP_BUDGET) by keeping fewer, evenly spaced tokens. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/activations.h"
#include "format/arch.h"
#include "format/tokenizer.h"
#include "analysis/probes.h"
#include "analysis/weights.h"
#include "infer/infer.h"
#include "util/error.h"

#define ACT_MAX_SEQ 256                       /* tokens per probe fed (longer probes are cut) */
#define ACT_SKETCH_MAX 512                    /* hidden-state columns kept per token */
#define ACT_CKA_MAX_TOKENS 1024               /* tokens of the Gram matrices */
#define ACT_CKA_BUDGET ((double)(256u << 20)) /* bytes of Gram matrices, both models */
#define ACT_MLP_BUDGET ((double)(512u << 20)) /* bytes of MLP activations, both models */
#define ACT_MIN_TOKENS 16
#define ACT_SKETCH_SEED 0x61637473ull

typedef struct probe_run {
    uint32_t *ids[2];
    size_t n[2];
    size_t *pos[2];           /* aligned positions in each side's feed */
    size_t aligned;
    size_t slot0;             /* global index of its first aligned position */
} probe_run;

typedef struct tap_ctx {
    act_side *side;
    const float *proj;        /* width x sketch, or NULL */
    const long *cka_row, *mlp_row;   /* per position of the current feed: buffer row or -1 */
    size_t ntok, n_cka, n_mlp;
    int failed;
} tap_ctx;

static void side_free(act_side *s)
{
    for (int l = 0; s->hidden && l < s->layers; l++) free(s->hidden[l]);
    for (int l = 0; s->gate && l < s->layers; l++)
        for (int e = 0; e < s->slots[l]; e++) {
            free(s->gate[(size_t)l * s->slots_max + e]);
            free(s->up[(size_t)l * s->slots_max + e]);
        }
    free(s->hidden); free(s->gate); free(s->up); free(s->neurons); free(s->slots);
    memset(s, 0, sizeof *s);
}

void act_plan_free(act_plan *p)
{
    side_free(&p->a);
    side_free(&p->b);
}

/* Byte offset in the text at which each token ends. Tokenizers that add a leading space (SentencePiece)
 * make the canonical bytes longer than the text: the excess is taken off the front. */
static int token_ends(const lineage_tokenizer *t, const uint32_t *ids, size_t n, size_t text_len, size_t *ends)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        if (!lineage_tokenizer_bytes(t, ids[i], &len)) len = 0;
        total += len;
        ends[i] = total;
    }
    size_t excess = total > text_len ? total - text_len : 0;
    for (size_t i = 0; i < n; i++) ends[i] = ends[i] > excess ? ends[i] - excess : 0;
    return total >= text_len;
}

/* Aligns one probe: positions whose tokens end at the same byte, first positions left out. */
static lineage_status align_probe(const lineage_tokenizer *const tok[2], const probe *pr, size_t seq_cap, size_t want,
                                  probe_run *r, int *same_ids, lineage_error *err)
{
    memset(r, 0, sizeof *r);
    size_t *ends[2] = {NULL, NULL};
    lineage_status st = LINEAGE_OK;
    for (int s = 0; s < 2 && !st; s++) {
        st = lineage_tokenize(tok[s], pr->text, pr->len, &r->ids[s], &r->n[s], err);
        if (st) break;
        if (r->n[s] > seq_cap) r->n[s] = seq_cap;
        ends[s] = malloc((r->n[s] + 1) * sizeof *ends[s]);
        r->pos[s] = malloc((r->n[s] + 1) * sizeof *r->pos[s]);
        if (!ends[s] || !r->pos[s]) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        else token_ends(tok[s], r->ids[s], r->n[s], pr->len, ends[s]);
    }
    if (!st) {
        if (r->n[0] != r->n[1] || memcmp(r->ids[0], r->ids[1], r->n[0] * sizeof(uint32_t))) *same_ids = 0;
        size_t i = 0, j = 0;
        while (i < r->n[0] && j < r->n[1] && r->aligned < want) {
            if (ends[0][i] == ends[1][j]) {
                if (i > 0 && j > 0 && ends[0][i] > 0) {
                    r->pos[0][r->aligned] = i;
                    r->pos[1][r->aligned] = j;
                    r->aligned++;
                }
                i++;
                j++;
            } else if (ends[0][i] < ends[1][j]) i++;
            else j++;
        }
    }
    free(ends[0]);
    free(ends[1]);
    return st;
}

static void probe_run_free(probe_run *r)
{
    for (int s = 0; s < 2; s++) { free(r->ids[s]); free(r->pos[s]); }
}

/* Row of the evenly spaced subset of k among n slots that slot s fills, or -1. */
static long subset_row(size_t s, size_t n, size_t k)
{
    size_t lo = (size_t)((double)s * (double)k / (double)n), hi = (size_t)((double)(s + 1) * (double)k / (double)n);
    return hi > lo ? (long)lo : -1;
}

static void on_hidden(void *user, int layer, const float *h, size_t ntok, size_t width)
{
    tap_ctx *c = user;
    act_side *s = c->side;
    if (layer < 0 || layer >= s->layers) return;
    if (width != s->width) { c->failed = 1; return; }
    for (size_t p = 0; p < ntok && p < c->ntok; p++) {
        long r = c->cka_row[p];
        if (r < 0) continue;
        float *dst = s->hidden[layer] + (size_t)r * s->sketch;
        const float *x = h + p * width;
        if (!c->proj) { memcpy(dst, x, width * sizeof *dst); continue; }
        memset(dst, 0, s->sketch * sizeof *dst);
        for (size_t k = 0; k < width; k++) {
            const float *prow = c->proj + k * s->sketch;
            for (size_t q = 0; q < s->sketch; q++) dst[q] += x[k] * prow[q];
        }
    }
}

static void on_mlp(void *user, int layer, int expert, const float *gate, const float *up, size_t ntok, size_t neurons)
{
    tap_ctx *c = user;
    act_side *s = c->side;
    if (layer < 0 || layer >= s->layers || expert == -2 || !c->n_mlp) return;   /* shared experts are not matched */
    int slot = expert < 0 ? 0 : expert;
    if (slot >= s->slots[layer] || neurons != s->neurons[layer] || !up) { c->failed = 1; return; }
    if (!gate) s->gated = 0;
    float *g = s->gate[(size_t)layer * s->slots_max + slot], *u = s->up[(size_t)layer * s->slots_max + slot];
    for (size_t p = 0; p < ntok && p < c->ntok; p++) {
        long r = c->mlp_row[p];
        if (r < 0) continue;
        for (size_t n = 0; n < neurons; n++) {
            u[n * c->n_mlp + (size_t)r] = up[p * neurons + n];
            if (gate) g[n * c->n_mlp + (size_t)r] = gate[p * neurons + n];
        }
    }
}

/* Fixed Gaussian sketch width x k scaled by 1/sqrt(k): inner products kept in expectation. */
static float *gaussian_sketch(size_t width, size_t k)
{
    float *p = malloc(width * k * sizeof *p);
    if (!p) return NULL;
    uint64_t state = ACT_SKETCH_SEED;
    for (size_t i = 0; i < width * k; i += 2) {
        state = stats_mix64(state);
        double u1 = ((double)(state >> 11) + 1) / 9007199254740993.0;
        state = stats_mix64(state);
        double u2 = (double)(state >> 11) / 9007199254740992.0;
        double r = sqrt(-2 * log(u1)) / sqrt((double)k);
        p[i] = (float)(r * cos(6.283185307179586 * u2));
        if (i + 1 < width * k) p[i + 1] = (float)(r * sin(6.283185307179586 * u2));
    }
    return p;
}

static lineage_status side_alloc(infer_model *im, act_side *s, lineage_error *err)
{
    s->layers = infer_layers(im);
    s->width = infer_hidden(im);
    s->sketch = s->width > ACT_SKETCH_MAX ? ACT_SKETCH_MAX : s->width;
    s->gated = 1;
    size_t L = s->layers > 0 ? (size_t)s->layers : 1;
    s->slots = calloc(L, sizeof *s->slots);
    s->neurons = calloc(L, sizeof *s->neurons);
    if (!s->slots || !s->neurons) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (int l = 0; l < s->layers; l++) {
        int e = infer_experts(im, l);
        s->slots[l] = e > 0 ? e : 1;
        if (e > 0) s->moe = 1;
        if (s->slots[l] > s->slots_max) s->slots_max = s->slots[l];
        s->neurons[l] = infer_mlp_width(im, l);
    }
    return LINEAGE_OK;
}

/* Floats per token the MLP buffers of a side hold. */
static double mlp_floats(const act_side *s)
{
    double f = 0;
    for (int l = 0; l < s->layers; l++) f += 2.0 * s->slots[l] * (double)s->neurons[l];
    return f;
}

static lineage_status side_buffers(act_side *s, size_t n_cka, size_t n_mlp, lineage_error *err)
{
    size_t L = (size_t)s->layers;
    s->hidden = calloc(L ? L : 1, sizeof *s->hidden);
    s->gate = calloc(L * (size_t)s->slots_max + 1, sizeof *s->gate);
    s->up = calloc(L * (size_t)s->slots_max + 1, sizeof *s->up);
    if (!s->hidden || !s->gate || !s->up) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t l = 0; l < L; l++) {
        s->hidden[l] = calloc(n_cka * s->sketch + 1, sizeof(float));
        if (!s->hidden[l]) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        for (int e = 0; n_mlp && e < s->slots[l]; e++) {
            size_t k = l * (size_t)s->slots_max + (size_t)e;
            s->gate[k] = calloc(s->neurons[l] * n_mlp + 1, sizeof(float));
            s->up[k] = calloc(s->neurons[l] * n_mlp + 1, sizeof(float));
            if (!s->gate[k] || !s->up[k]) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        }
    }
    return LINEAGE_OK;
}

/* Runs one model over every probe, filling its side's buffers. */
static lineage_status run_side(infer_model *im, int side, const probe_run *runs, size_t nruns, act_plan *plan,
                               size_t seq_cap, lineage_error *err)
{
    act_side *s = side ? &plan->b : &plan->a;
    float *proj = s->sketch < s->width ? gaussian_sketch(s->width, s->sketch) : NULL;
    long *cka_row = malloc(seq_cap * sizeof *cka_row), *mlp_row = malloc(seq_cap * sizeof *mlp_row);
    infer_session *sess = NULL;
    lineage_status st = LINEAGE_OK;
    if ((s->sketch < s->width && !proj) || !cka_row || !mlp_row) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    if (!st) st = infer_session_open(im, seq_cap, &sess, err);
    tap_ctx c = {s, proj, cka_row, mlp_row, 0, plan->n_cka, plan->n_mlp, 0};
    infer_taps taps = {&c, on_hidden, on_mlp, 1};
    for (size_t i = 0; !st && i < nruns; i++) {
        const probe_run *r = &runs[i];
        c.ntok = r->n[side];
        for (size_t p = 0; p < c.ntok; p++) cka_row[p] = mlp_row[p] = -1;
        for (size_t k = 0; k < r->aligned; k++) {
            size_t slot = r->slot0 + k, p = r->pos[side][k];
            cka_row[p] = subset_row(slot, plan->tokens, plan->n_cka);
            mlp_row[p] = plan->n_mlp ? subset_row(slot, plan->tokens, plan->n_mlp) : -1;
        }
        infer_session_reset(sess);
        st = infer_feed(sess, r->ids[side], r->n[side], &taps, NULL, 1, err);
        if (!st && c.failed)
            st = error_set(err, LINEAGE_E_UNSUPPORTED, "%s: the engine's taps disagree with its reported shapes",
                           side ? "B" : "A");
        if (side) plan->positions_b += r->n[side];
        else plan->positions_a += r->n[side];
    }
    infer_session_close(sess);
    free(proj);
    free(cka_row);
    free(mlp_row);
    return st;
}

/* Tokens per probe sequence: ACT_MAX_SEQ within both models' declared context. */
static size_t sequence_cap(const lineage_model *const m[2])
{
    size_t cap = ACT_MAX_SEQ;
    for (int s = 0; s < 2; s++) {
        arena ar;
        arena_init(&ar, 0);
        arch_info ai;
        arch_init(&ai);
        if (arch_of_model(m[s], &ai, &ar, NULL) && ai.max_positions > 1 && (size_t)ai.max_positions < cap)
            cap = (size_t)ai.max_positions;
        arena_free(&ar);
    }
    return cap;
}

lineage_status act_collect(const lineage_model *a, const lineage_model *b, const lineage_compare_options *opt,
                           size_t max_tokens, act_plan *plan, lineage_error *err)
{
    memset(plan, 0, sizeof *plan);
    plan->shared_tokenizer = 1;
    const lineage_model *m[2] = {a, b};
    lineage_tokenizer *tok[2] = {NULL, NULL};
    infer_model *im[2] = {NULL, NULL};
    probe_run *runs = NULL;
    size_t nruns = 0;
    arena par;
    arena_init(&par, 0);
    probe_set ps = {0};
    size_t seq_cap = sequence_cap(m);
    lineage_status st = LINEAGE_OK;
    infer_options io = {opt ? opt->threads : 0, 0, seq_cap};
    /* the engine first: without it nothing else matters */
    for (int s = 0; s < 2 && !st; s++) st = infer_open(m[s], &io, &im[s], err);
    for (int s = 0; s < 2 && !st; s++) {
        st = model_open_tokenizer(m[s], &tok[s], err);
        if (!st && !tok[s]) st = error_set(err, LINEAGE_E_FORMAT, "%s: no tokenizer", lineage_model_path(m[s]));
    }
    if (!st) st = probes_load(opt ? opt->probes_file : NULL, &par, &ps, err);
    if (!st && !(runs = calloc(ps.count + 1, sizeof *runs))) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    const lineage_tokenizer *const ctok[2] = {tok[0], tok[1]};
    for (size_t i = 0; !st && i < ps.count && plan->tokens < max_tokens; i++) {
        probe_run *r = &runs[nruns];
        st = align_probe(ctok, &ps.items[i], seq_cap, max_tokens - plan->tokens, r, &plan->shared_tokenizer, err);
        if (st && st != LINEAGE_E_NOMEM) st = LINEAGE_OK;   /* a probe one tokenizer cannot encode is left out */
        if (st || !r->aligned) {
            probe_run_free(r);
            memset(r, 0, sizeof *r);
            continue;
        }
        r->slot0 = plan->tokens;
        plan->tokens += r->aligned;
        nruns++;
    }
    plan->probes = nruns;
    if (!st && plan->tokens < ACT_MIN_TOKENS)
        st = error_set(err, LINEAGE_E_UNSUPPORTED, "only %zu probe positions align between the two tokenizers",
                       plan->tokens);
    if (!st) st = side_alloc(im[0], &plan->a, err);
    if (!st) st = side_alloc(im[1], &plan->b, err);
    if (!st) {
        double layers = (double)plan->a.layers + plan->b.layers, n = (double)plan->tokens;
        double cka_cap = floor(sqrt(ACT_CKA_BUDGET / 4 / (layers > 0 ? layers : 1)));
        if (n > ACT_CKA_MAX_TOKENS) n = ACT_CKA_MAX_TOKENS;
        plan->n_cka = (size_t)(n < cka_cap ? n : cka_cap);
        double per_tok = 4 * (mlp_floats(&plan->a) + mlp_floats(&plan->b));
        double mlp_cap = per_tok > 0 ? floor(ACT_MLP_BUDGET / per_tok) : 0;
        plan->n_mlp = (size_t)((double)plan->tokens < mlp_cap ? (double)plan->tokens : mlp_cap);
        if (plan->n_mlp < ACT_MIN_TOKENS) plan->n_mlp = 0;
        st = side_buffers(&plan->a, plan->n_cka, plan->n_mlp, err);
        if (!st) st = side_buffers(&plan->b, plan->n_cka, plan->n_mlp, err);
    }
    /* one model at a time: A's weights are released before B runs */
    for (int s = 0; s < 2 && !st; s++) {
        st = run_side(im[s], s, runs, nruns, plan, seq_cap, err);
        infer_close(im[s]);
        im[s] = NULL;
    }
    for (int s = 0; s < 2; s++) {
        infer_close(im[s]);
        lineage_tokenizer_close(tok[s]);
    }
    for (size_t i = 0; i < nruns; i++) probe_run_free(&runs[i]);
    free(runs);
    arena_free(&par);
    if (st) act_plan_free(plan);
    return st;
}
