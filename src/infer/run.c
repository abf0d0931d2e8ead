/* lineage_run: the prompt (text through the model's tokenizer, or explicit ids), one forward pass,
 * the next-token top-k and a greedy continuation, as a lineage.run/1 document. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format/gguf.h"
#include "util/json.h"
#include "format/tokenizer.h"
#include "infer/engine.h"
#include "util/error.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static json_value *piece_value(arena *ar, const lineage_tokenizer *t, uint32_t id)
{
    size_t len = 0;
    const char *p = t ? lineage_tokenizer_bytes(t, id, &len) : NULL;
    return p ? json_new_string_lossy(ar, p, len) : json_new_null(ar);
}

static lineage_status write_logits(const char *path, const float *x, size_t n, lineage_error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f) return error_set(err, LINEAGE_E_IO, "%s: cannot create", path);
    size_t w = fwrite(x, sizeof *x, n, f);   /* the library targets little-endian hosts */
    if (fclose(f) != 0 || w != n) return error_set(err, LINEAGE_E_IO, "%s: write failed", path);
    return LINEAGE_OK;
}

typedef struct cand { uint32_t id; double logit; } cand;

static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit > y->logit ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The greedy choice among finite logits (token 0 when none is finite). */
static uint32_t argmax(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]) && (!isfinite(x[best]) || x[i] > x[best])) best = i;
    return (uint32_t)best;
}

static json_value *ids_value(arena *ar, const uint32_t *ids, size_t n)
{
    json_value *a = json_new_array(ar);
    for (size_t i = 0; a && i < n; i++)
        if (!json_push(ar, a, json_new_int(ar, ids[i]))) return NULL;
    return a;
}

typedef struct run_state {
    infer_model *im;
    infer_session *s;
    lineage_tokenizer *tok;
    uint32_t *ids, *gen;
    float *logits;
    size_t n, ngen;
    int bos;
} run_state;

static lineage_status prompt_ids(const lineage_model *m, const char *text, size_t len, const lineage_run_options *opt,
                                 run_state *r, lineage_error *err)
{
    const char *tdir = m->gguf ? lineage_model_path(m) : m->dir;
    int has_tok = tdir && (m->gguf ? 1 : tok_dir_has_tokenizer(tdir));
    if (has_tok) {
        lineage_status st = lineage_tokenizer_open(tdir, &r->tok, err);
        if (st && !opt->ids) return st;
        if (st) r->tok = NULL;
    }
    if (opt->ids) {
        r->ids = malloc((opt->nids ? opt->nids : 1) * sizeof *r->ids);
        if (!r->ids) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        memcpy(r->ids, opt->ids, opt->nids * sizeof *r->ids);
        r->n = opt->nids;
        return r->n ? LINEAGE_OK : error_set(err, LINEAGE_E_USAGE, "no input ids");
    }
    if (!r->tok)
        return error_set(err, LINEAGE_E_USAGE, "%s: no tokenizer beside the model: give --input-ids", lineage_model_path(m));
    uint32_t *ids;
    size_t count;
    lineage_status st = lineage_tokenize(r->tok, text ? text : "", text ? len : 0, &ids, &count, err);
    if (st) return st;
    long bos = tok_bos_to_add(r->tok, m, opt->add_bos);
    r->ids = malloc((count + 1) * sizeof *r->ids);
    if (!r->ids) {
        free(ids);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    r->n = 0;
    if (bos >= 0) r->ids[r->n++] = (uint32_t)bos;
    r->bos = bos >= 0;
    memcpy(r->ids + r->n, ids, count * sizeof *ids);
    r->n += count;
    free(ids);
    return r->n ? LINEAGE_OK : error_set(err, LINEAGE_E_USAGE, "the prompt encodes to no tokens");
}

static lineage_status build_doc(const lineage_model *m, const lineage_run_options *opt, run_state *r,
                                const float *last, double t_load, double t_prompt, double t_gen, lineage_doc **out,
                                lineage_error *err)
{
    lineage_doc *d = doc_new();
    if (!d) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    arena *ar = &d->arena;
    size_t V = infer_vocab(r->im), k = (size_t)(opt->top_k > 0 ? opt->top_k : 10);
    if (k > V) k = V;
    cand *c = malloc(V * sizeof *c);
    json_value *root = json_new_object(ar), *prompt = json_new_object(ar), *top = json_new_array(ar);
    json_value *cont = json_new_object(ar), *timing = json_new_object(ar), *pieces = json_new_array(ar);
    int ok = c && root && prompt && top && cont && timing && pieces;
    size_t nfinite = 0;
    if (ok) {
        /* non-finite logits (NaN or Inf weights) are counted and left out of the distribution */
        double mx = -INFINITY, sum = 0;
        for (size_t i = 0; i < V; i++)
            if (isfinite(last[i])) {
                c[nfinite++] = (cand){(uint32_t)i, last[i]};
                mx = last[i] > mx ? last[i] : mx;
            }
        for (size_t i = 0; i < nfinite; i++) sum += exp(c[i].logit - mx);
        double lse = mx + log(sum);
        qsort(c, nfinite, sizeof *c, cand_cmp);
        if (k > nfinite) k = nfinite;
        for (size_t i = 0; ok && i < k; i++) {
            json_value *o = json_new_object(ar);
            ok = o && json_set_int(ar, o, "id", c[i].id) && json_set(ar, o, "piece", piece_value(ar, r->tok, c[i].id)) &&
                 json_set_double(ar, o, "probability", exp(c[i].logit - lse)) &&
                 json_set_double(ar, o, "logprob", c[i].logit - lse) && json_set_double(ar, o, "logit", c[i].logit) &&
                 json_push(ar, top, o);
        }
    }
    for (size_t i = 0; ok && i < r->n; i++) ok = json_push(ar, pieces, piece_value(ar, r->tok, r->ids[i]));
    ok = ok && json_set_str(ar, root, "schema", "lineage.run/1") && json_set_str(ar, root, "model", lineage_model_path(m)) &&
         json_set_str(ar, root, "family", infer_family(r->im)) && json_set_int(ar, root, "vocab", (int64_t)V) &&
         json_set_int(ar, root, "layers", infer_layers(r->im)) &&
         json_set_int(ar, root, "threads", pool_threads(r->im->pool)) &&
         json_set(ar, prompt, "ids", ids_value(ar, r->ids, r->n)) && json_set(ar, prompt, "pieces", pieces) &&
         json_set_bool(ar, prompt, "bos_added", r->bos) && json_set(ar, root, "prompt", prompt) &&
         json_set(ar, root, "top_k", top) && json_set_int(ar, root, "nonfinite_logits", (int64_t)(V - nfinite));
    if (ok) {
        strbuf sb;
        sb_init(&sb);
        for (size_t i = 0; r->tok && i < r->ngen; i++) {
            size_t len = 0;
            const char *p = lineage_tokenizer_bytes(r->tok, r->gen[i], &len);
            if (p) sb_putn(&sb, p, len);
        }
        ok = !sb.failed && json_set(ar, cont, "ids", ids_value(ar, r->gen, r->ngen)) &&
             json_set(ar, cont, "text", r->tok ? json_new_string_lossy(ar, sb.data ? sb.data : "", sb.len) : json_new_null(ar)) &&
             json_set(ar, root, "continuation", cont);
        sb_free(&sb);
    }
    ok = ok && json_set_double(ar, timing, "load_seconds", t_load) && json_set_int(ar, timing, "prompt_tokens", (int64_t)r->n) &&
         json_set_double(ar, timing, "prompt_seconds", t_prompt) &&
         json_set_double(ar, timing, "prompt_tokens_per_second", t_prompt > 0 ? (double)r->n / t_prompt : 0) &&
         json_set_int(ar, timing, "generated_tokens", (int64_t)r->ngen) &&
         json_set_double(ar, timing, "generate_seconds", t_gen) && json_set(ar, root, "timing", timing);
    free(c);
    if (!ok) {
        lineage_doc_free(d);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory while building the report");
    }
    d->root = root;
    *out = d;
    return LINEAGE_OK;
}

lineage_status lineage_run(const lineage_model *m, const char *text, size_t len, const lineage_run_options *opt,
                           lineage_doc **out, lineage_error *err)
{
    *out = NULL;
    lineage_run_options defaults = {0};
    if (!opt) opt = &defaults;
    if (opt->tokens < 0 || opt->top_k < 0) return error_set(err, LINEAGE_E_USAGE, "negative --tokens or --top-k");
    run_state r = {0};
    double t0 = now();
    infer_options io = {opt->threads, 0, 0};
    lineage_status st = infer_open(m, &io, &r.im, err);
    double t_load = now() - t0, t_prompt = 0, t_gen = 0;
    if (!st) st = prompt_ids(m, text, len, opt, &r, err);
    size_t V = r.im ? infer_vocab(r.im) : 0, total = r.n + (size_t)opt->tokens;
    if (!st) st = infer_session_open(r.im, total, &r.s, err);
    /* the cache and work buffers, allocated and touched before the timed prompt: part of loading */
    double t2 = now();
    if (!st) st = infer_session_reserve(r.s, total, err);
    t_load += now() - t2;
    if (!st && !(r.logits = malloc((opt->logits_out ? r.n : 1) * V * sizeof *r.logits)))
        st = error_set(err, LINEAGE_E_NOMEM, "out of memory for the logits");
    if (!st && !(r.gen = malloc(((size_t)opt->tokens + 1) * sizeof *r.gen)))
        st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    float *last = NULL, *step = NULL;
    if (!st) {
        double t1 = now();
        st = infer_feed(r.s, r.ids, r.n, NULL, r.logits, !opt->logits_out, err);
        t_prompt = now() - t1;
        last = r.logits + (opt->logits_out ? (r.n - 1) * V : 0);
    }
    if (!st && opt->logits_out) st = write_logits(opt->logits_out, r.logits, r.n * V, err);
    if (!st && opt->tokens > 0 && !(step = malloc(V * sizeof *step)))
        st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    if (!st && opt->tokens > 0) {
        double t1 = now();
        uint32_t next = argmax(last, V);
        for (int i = 0; !st && i < opt->tokens; i++) {
            r.gen[r.ngen++] = next;
            if (i + 1 < opt->tokens && !(st = infer_feed(r.s, &next, 1, NULL, step, 1, err))) next = argmax(step, V);
        }
        t_gen = now() - t1;
    }
    if (!st) st = build_doc(m, opt, &r, last, t_load, t_prompt, t_gen, out, err);
    free(step);
    free(r.logits);
    free(r.gen);
    free(r.ids);
    infer_session_close(r.s);
    infer_close(r.im);
    lineage_tokenizer_close(r.tok);
    return st;
}
