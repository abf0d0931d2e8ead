/* lineage_ask: the chat prompt (the model's template, or the raw question), generation with the native
 * engine (greedy, or sampling from softmax(logits / T) with a seeded generator) until an end-of-turn id,
 * the eos text or max_tokens, streamed piece by piece; or the same question put to an OpenAI-compatible
 * /v1/chat/completions server. The answer, its ids, why it stopped and the timing form lineage.ask/1.
 * In analysis: it sits above both the engine and the HTTP client. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format/arch.h"
#include "format/chat_template.h"
#include "format/tokenizer.h"
#include "infer/engine.h"
#include "io/openai.h"
#include "util/error.h"
#include "util/json.h"
#include "util/sanitize.h"

#define ASK_DEFAULT_TOKENS 256
#define ASK_MAX_TOKENS 32768

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The messages and special tokens a template sees, as transformers passes them. */
static json_value *template_vars(arena *ar, const arch_chat *ch, const char *system, const char *question)
{
    json_value *vars = json_new_object(ar), *msgs = json_new_array(ar), *u = json_new_object(ar);
    if (!vars || !msgs || !u) return NULL;
    if (system) {
        json_value *s = json_new_object(ar);
        if (!s || !json_set_str(ar, s, "role", "system") || !json_set_str(ar, s, "content", system) ||
            !json_push(ar, msgs, s))
            return NULL;
    }
    if (!json_set_str(ar, u, "role", "user") || !json_set_str(ar, u, "content", question) || !json_push(ar, msgs, u) ||
        !json_set(ar, vars, "messages", msgs) || !json_set_bool(ar, vars, "add_generation_prompt", 1) ||
        !json_set_str(ar, vars, "bos_token", ch->bos_token) || !json_set_str(ar, vars, "eos_token", ch->eos_token))
        return NULL;
    return vars;
}

/* Renders the prompt into out; *templated 0 for raw-prompt mode. */
static lineage_status build_prompt(const arch_chat *ch, const char *system, const char *question, int raw, arena *ar,
                                   strbuf *out, int *templated, lineage_error *err)
{
    *templated = !raw && ch->template_src;
    if (!*templated) {
        if (system) {
            sb_puts(out, system);
            sb_puts(out, "\n\n");
        }
        sb_puts(out, question);
        return out->failed ? error_set(err, LINEAGE_E_NOMEM, "out of memory") : LINEAGE_OK;
    }
    chat_template *t;
    lineage_status st = chat_template_parse(ch->template_src, ch->template_len, ch->template_origin, ar, &t, err);
    if (st) return st;
    json_value *vars = template_vars(ar, ch, system, question);
    if (!vars) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    return chat_template_render(t, vars, NULL, out, err);
}

lineage_status lineage_chat_prompt(const lineage_model *m, const char *system, const char *question, int raw,
                                   char **prompt, size_t *len, int *templated, lineage_error *err)
{
    *prompt = NULL;
    arena ar;
    arena_init(&ar, 0);
    arch_chat ch;
    strbuf sb;
    sb_init(&sb);
    lineage_status st = arch_chat_of_model(m, &ar, &ch, err);
    if (!st) st = build_prompt(&ch, system, question ? question : "", raw, &ar, &sb, templated, err);
    if (!st && !(*prompt = malloc(sb.len + 1))) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    if (!st) {
        memcpy(*prompt, sb.data ? sb.data : "", sb.len);
        (*prompt)[sb.len] = 0;
        *len = sb.len;
    }
    sb_free(&sb);
    arena_free(&ar);
    return st;
}

/* splitmix64: a small, fully specified generator, so a seed means the same answer everywhere */
static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t pick(const float *logits, size_t V, double temperature, uint64_t *rng)
{
    size_t best = 0;
    for (size_t i = 1; i < V; i++)
        if (logits[i] > logits[best]) best = i;
    if (temperature <= 0) return (uint32_t)best;
    double mx = logits[best], sum = 0;
    for (size_t i = 0; i < V; i++) sum += exp(((double)logits[i] - mx) / temperature);
    double u = (double)(next_random(rng) >> 11) * 0x1.0p-53 * sum, acc = 0;
    for (size_t i = 0; i < V; i++) {
        acc += exp(((double)logits[i] - mx) / temperature);
        if (u < acc) return (uint32_t)i;
    }
    return (uint32_t)best;
}

typedef struct answer {
    strbuf text;
    uint32_t *prompt_ids;
    uint32_t *ids;
    size_t n;
    const char *stop;          /* "eos", "stop_string", "max_tokens", or the server's finish_reason */
    size_t prompt_tokens;
    double t_load, t_prompt, t_gen;
} answer;

/* Streams the complete UTF-8 characters of pending through the terminal sanitizer (model output is
 * untrusted: no escape sequences reach the terminal); an incomplete tail waits for the next piece. */
static void stream_pending(const lineage_ask_options *opt, strbuf *pending, int flush)
{
    if (!opt->stream || !pending->len) return;
    size_t k = pending->len;
    if (!flush) {
        size_t back = 0;   /* drop an incomplete trailing sequence from what is sent now */
        while (back < 3 && back < k && ((unsigned char)pending->data[k - 1 - back] & 0xc0) == 0x80) back++;
        unsigned char lead = back < k ? (unsigned char)pending->data[k - 1 - back] : 0;
        size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
        if (lead >= 0xc0 && back + 1 < need) k -= back + 1;
    }
    strbuf out;
    sb_init(&out);
    sanitize_terminal(&out, pending->data, k, SANITIZE_KEEP_LINES);
    if (out.len) opt->stream(out.data, out.len, opt->stream_user);
    sb_free(&out);
    memmove(pending->data, pending->data + k, pending->len - k);
    pending->len -= k;
}

static int is_eos(const int64_t *eos, size_t neos, uint32_t id)
{
    for (size_t i = 0; i < neos; i++)
        if (eos[i] == (int64_t)id) return 1;
    return 0;
}

static lineage_status generate_native(const lineage_model *m, const arch_chat *ch, const char *prompt, size_t plen,
                                      int templated, const lineage_ask_options *opt, int max_tokens, answer *a,
                                      lineage_error *err)
{
    const char *tdir = m->gguf ? lineage_model_path(m) : m->dir;
    if (!tdir || (!m->gguf && !tok_dir_has_tokenizer(tdir)))
        return error_set(err, LINEAGE_E_USAGE, "%s: no tokenizer beside the model: cannot ask it anything", lineage_model_path(m));
    lineage_tokenizer *tok = NULL;
    infer_model *im = NULL;
    infer_session *s = NULL;
    uint32_t *ids = NULL, *pids = NULL;
    float *logits = NULL;
    size_t np = 0;
    double t0 = now();
    infer_options io = {opt->threads, 0, 0};
    lineage_status st = lineage_tokenizer_open(tdir, &tok, err);
    if (!st) st = infer_open(m, &io, &im, err);
    a->t_load = now() - t0;
    if (!st) st = lineage_tokenize(tok, prompt, plen, &pids, &np, err);
    /* a template writes its own BOS; a raw prompt gets one when the tokenizer config asks for it */
    long bos = templated ? -1 : tok_bos_to_add(tok, m, 0);
    size_t V = im ? infer_vocab(im) : 0, n = np + (bos >= 0);
    int64_t eos[ARCH_MAX_EOS + 2];
    size_t neos = ch->neos;
    memcpy(eos, ch->eos_ids, neos * sizeof *eos);
    const char *et[2] = {tok ? tok->special_roles[TOK_ROLE_EOS] : NULL, ch->eos_token};
    for (int k = 0; tok && k < 2; k++) {   /* the eos text's own id ends a turn too */
        uint32_t id = et[k] && *et[k] ? tok_map_get(&tok->by_text, et[k], strlen(et[k])) : UINT32_MAX;
        if (id != UINT32_MAX && !is_eos(eos, neos, id)) eos[neos++] = id;
    }
    if (!st && !(ids = malloc((n + 1) * sizeof *ids))) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    if (!st && !(a->ids = malloc(((size_t)max_tokens + 1) * sizeof *a->ids))) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    if (!st && !(logits = malloc(V * sizeof *logits))) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    if (!st) {
        size_t k = 0;
        if (bos >= 0) ids[k++] = (uint32_t)bos;
        memcpy(ids + k, pids, np * sizeof *pids);
        a->prompt_tokens = n;
        a->prompt_ids = ids;
        ids = NULL;
        if (!n) st = error_set(err, LINEAGE_E_USAGE, "the prompt encodes to no tokens");
    }
    if (!st) st = infer_session_open(im, n + (size_t)max_tokens, &s, err);
    if (!st) {
        double t1 = now();
        st = infer_feed(s, a->prompt_ids, n, NULL, logits, 1, err);
        a->t_prompt = now() - t1;
    }
    const char *stop_text = ch->eos_token && *ch->eos_token ? ch->eos_token : NULL;
    strbuf pending;
    sb_init(&pending);
    uint64_t rng = opt->seed;
    double t2 = now();
    a->stop = "max_tokens";
    for (int i = 0; !st && i < max_tokens; i++) {
        uint32_t next = pick(logits, V, opt->temperature, &rng);
        if (is_eos(eos, neos, next)) {
            a->stop = "eos";
            break;
        }
        a->ids[a->n++] = next;
        size_t pl = 0;
        const char *piece = lineage_tokenizer_bytes(tok, next, &pl);
        size_t before = a->text.len;
        if (piece) sb_putn(&a->text, piece, pl);
        if (stop_text && a->text.len >= strlen(stop_text)) {   /* the eos text spelled out in pieces */
            const char *hit = strstr(a->text.data + (before > strlen(stop_text) ? before - strlen(stop_text) : 0), stop_text);
            if (hit) {
                a->text.len = (size_t)(hit - a->text.data);
                a->text.data[a->text.len] = 0;
                if (a->text.len > before) sb_putn(&pending, a->text.data + before, a->text.len - before);
                a->stop = "stop_string";
                break;
            }
        }
        if (piece) sb_putn(&pending, piece, pl);
        stream_pending(opt, &pending, 0);
        if (i + 1 < max_tokens) st = infer_feed(s, &next, 1, NULL, logits, 1, err);
    }
    stream_pending(opt, &pending, 1);
    sb_free(&pending);
    a->t_gen = now() - t2;
    if (!st && a->text.failed) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    free(logits);
    free(ids);
    free(pids);
    infer_session_close(s);
    infer_close(im);
    lineage_tokenizer_close(tok);
    return st;
}

static lineage_status generate_endpoint(const lineage_ask_options *opt, const char *question, int max_tokens, answer *a,
                                        arena *ar, lineage_error *err)
{
    openai_client *c;
    double t0 = now();
    lineage_status st = openai_open(opt->endpoint, &c, err);
    a->t_load = now() - t0;
    if (st) return st;
    openai_chat_request rq = {opt->system, question, max_tokens, opt->temperature, opt->seed};
    openai_chat_answer ans;
    double t1 = now();
    st = openai_chat(c, &rq, ar, &ans, err);
    a->t_gen = now() - t1;
    if (!st) {
        sb_putn(&a->text, ans.text, ans.len);
        a->stop = ans.finish_reason;
        a->prompt_tokens = ans.prompt_tokens;
        a->n = ans.completion_tokens;
        strbuf pending;
        sb_init(&pending);
        sb_putn(&pending, ans.text, ans.len);
        stream_pending(opt, &pending, 1);
        sb_free(&pending);
    }
    openai_close(c);
    return st;
}

lineage_status lineage_ask(const lineage_model *m, const char *question, const lineage_ask_options *opt,
                           lineage_doc **out, lineage_error *err)
{
    *out = NULL;
    lineage_ask_options defaults = {0};
    if (!opt) opt = &defaults;
    if (!question) question = "";
    int max_tokens = opt->max_tokens > 0 ? opt->max_tokens : ASK_DEFAULT_TOKENS;
    if (opt->max_tokens < 0 || max_tokens > ASK_MAX_TOKENS)
        return error_set(err, LINEAGE_E_USAGE, "--max-tokens wants 1..%d", ASK_MAX_TOKENS);
    if (!(opt->temperature >= 0) || opt->temperature > 100)
        return error_set(err, LINEAGE_E_USAGE, "--temperature wants a number in [0, 100]");
    if (!m && !opt->endpoint) return error_set(err, LINEAGE_E_USAGE, "ask wants a model or --endpoint");
    lineage_doc *d = doc_new();
    if (!d) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    arena *ar = &d->arena;
    arch_chat ch;
    memset(&ch, 0, sizeof ch);
    answer a;
    memset(&a, 0, sizeof a);
    sb_init(&a.text);
    strbuf prompt;
    sb_init(&prompt);
    int templated = 0;
    lineage_status st = LINEAGE_OK;
    if (opt->endpoint) {
        st = generate_endpoint(opt, question, max_tokens, &a, ar, err);
    } else {
        st = arch_chat_of_model(m, ar, &ch, err);
        if (!st) st = build_prompt(&ch, opt->system, question, opt->raw, ar, &prompt, &templated, err);
        if (!st) st = generate_native(m, &ch, prompt.data ? prompt.data : "", prompt.len, templated, opt, max_tokens, &a, err);
    }
    json_value *root = json_new_object(ar), *tpl = json_new_object(ar), *ans = json_new_object(ar),
               *ids = json_new_array(ar), *samp = json_new_object(ar), *timing = json_new_object(ar);
    int ok = !st && root && tpl && ans && ids && samp && timing;
    for (size_t i = 0; ok && i < a.n && a.ids; i++) ok = json_push(ar, ids, json_new_int(ar, a.ids[i]));
    const char *label = opt->label ? opt->label : m ? lineage_model_path(m) : opt->endpoint;
    ok = ok && json_set_str(ar, root, "schema", "lineage.ask/1") && json_set_str(ar, root, "model", label) &&
         json_set_str(ar, root, "mode", opt->endpoint ? "endpoint" : "native") &&
         (!opt->endpoint || json_set_str(ar, root, "endpoint", opt->endpoint)) &&
         json_set(ar, root, "system", opt->system ? json_new_string(ar, opt->system) : json_new_null(ar)) &&
         json_set(ar, root, "question", json_new_string_lossy(ar, question, strlen(question)));
    if (ok && !opt->endpoint) {
        ok = json_set_bool(ar, tpl, "used", templated) &&
             json_set(ar, tpl, "source", ch.template_origin ? json_new_string(ar, ch.template_origin) : json_new_null(ar)) &&
             json_set(ar, root, "template", tpl) &&
             json_set(ar, root, "prompt", json_new_string_lossy(ar, prompt.data ? prompt.data : "", prompt.len));
        json_value *eos = json_new_array(ar);
        for (size_t i = 0; ok && eos && i < ch.neos; i++) ok = json_push(ar, eos, json_new_int(ar, ch.eos_ids[i]));
        json_value *pids = json_new_array(ar);
        for (size_t i = 0; ok && pids && a.prompt_ids && i < a.prompt_tokens; i++) ok = json_push(ar, pids, json_new_int(ar, a.prompt_ids[i]));
        ok = ok && json_set(ar, root, "eos_ids", eos) && json_set(ar, root, "prompt_ids", pids);
    }
    ok = ok && json_set_double(ar, samp, "temperature", opt->temperature) &&
         json_set_bool(ar, samp, "greedy", opt->temperature <= 0) &&
         (opt->temperature <= 0 || json_set_int(ar, samp, "seed", (int64_t)opt->seed)) && json_set(ar, root, "sampling", samp) &&
         json_set(ar, ans, "text", json_new_string_lossy(ar, a.text.data ? a.text.data : "", a.text.len)) &&
         (opt->endpoint || json_set(ar, ans, "ids", ids)) && json_set_int(ar, ans, "tokens", (int64_t)a.n) &&
         json_set_str(ar, ans, "stop", a.stop ? a.stop : "unknown") && json_set(ar, root, "answer", ans) &&
         json_set_int(ar, timing, "prompt_tokens", (int64_t)a.prompt_tokens) &&
         json_set_double(ar, timing, "load_seconds", a.t_load) && json_set_double(ar, timing, "prompt_seconds", a.t_prompt) &&
         json_set_double(ar, timing, "generate_seconds", a.t_gen) &&
         json_set_double(ar, timing, "tokens_per_second", a.t_gen > 0 ? (double)a.n / a.t_gen : 0) &&
         json_set(ar, root, "timing", timing);
    sb_free(&prompt);
    sb_free(&a.text);
    free(a.ids);
    free(a.prompt_ids);
    if (st || !ok) {
        lineage_doc_free(d);
        return st ? st : error_set(err, LINEAGE_E_NOMEM, "out of memory while building the report");
    }
    d->root = root;
    *out = d;
    return LINEAGE_OK;
}
