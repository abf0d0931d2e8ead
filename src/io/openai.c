#include "io/openai.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "io/http.h"
#include "util/error.h"

#define OPENAI_URL_MAX 2048

struct openai_client {
    char base[OPENAI_URL_MAX];          /* ".../v1" without a trailing slash */
    char completions[OPENAI_URL_MAX];   /* base + "/completions" */
    char chat[OPENAI_URL_MAX];          /* base + "/chat/completions" */
    char model[512];
    http_client http;
};

const char *openai_base_url(const openai_client *c) { return c->base; }
const char *openai_model_name(const openai_client *c) { return c->model; }

static double timeout_seconds(void)
{
    const char *s = getenv("LINEAGE_ENDPOINT_TIMEOUT");
    double t = s && *s ? atof(s) : 0;
    return t > 0 && t < 86400 ? t : 120;
}

/* One GET or POST with a body kept in memory; the answer is malloc'd into *body. */
static lineage_status request(openai_client *c, const char *url, const char *post, size_t post_len,
                              unsigned char **body, size_t *len, lineage_error *err)
{
    http_job j;
    memset(&j, 0, sizeof j);
    j.url = url;
    j.sink_fd = -1;
    j.max_body = OPENAI_MAX_BODY;
    j.post_json = post;
    j.post_len = post_len;
    j.attempt_seconds = timeout_seconds();   /* a server that accepts the request and never answers */
    lineage_status st = http_run(&c->http, &j, 1, 1, err);
    if (!st && j.status != 200)
        st = error_set(err, LINEAGE_E_IO, "%s: HTTP %d (is this an OpenAI-compatible /v1 base URL?)", url, j.status);
    if (st) {
        http_job_free(&j);
        return st;
    }
    *body = j.body;
    *len = (size_t)j.received;
    if (!*body) {
        *body = calloc(1, 1);
        if (!*body) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    return LINEAGE_OK;
}

static lineage_status parse_body(const char *body, size_t len, const char *url, arena *ar, json_value **root,
                                 lineage_error *err)
{
    json_limits lim = {32, OPENAI_MAX_BODY};
    lineage_error perr;
    if (json_parse(body, len, &lim, ar, root, url, &perr) || !*root || (*root)->type != JSON_OBJECT)
        return error_set(err, LINEAGE_E_FORMAT, "%s: the answer is not a JSON object (%s)", url,
                         *root && (*root)->type != JSON_OBJECT ? "another JSON value" : perr.message);
    const json_value *e = json_get(*root, "error");
    if (e) {
        const char *msg = e->type == JSON_STRING ? e->u.string.s : json_get_string(e, "message");
        return error_set(err, LINEAGE_E_IO, "%s: the server answered with an error: %.300s", url, msg ? msg : "(no message)");
    }
    return LINEAGE_OK;
}

lineage_status openai_parse_models(const char *body, size_t len, const char *url, arena *ar, const char **name,
                                   lineage_error *err)
{
    json_value *root = NULL;
    lineage_status st = parse_body(body, len, url, ar, &root, err);
    if (st) return st;
    const json_value *first = json_at(json_get(root, "data"), 0);
    const char *id = json_get_string(first, "id");
    if (!id || !*id)
        return error_set(err, LINEAGE_E_FORMAT, "%s: no model listed under \"data\"; name one with URL#model", url);
    *name = id;
    return LINEAGE_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Token strings are the token's text; vLLM spells a token that is not valid UTF-8 on its own as
 * "bytes:\xe2\x80" (literal backslashes), which decodes back to the raw bytes. */
static int token_bytes(const char *s, size_t n, arena *ar, const char **out, size_t *out_len)
{
    if (n > 6 && !memcmp(s, "bytes:", 6) && (n - 6) % 4 == 0) {
        char *b = arena_alloc(ar, (n - 6) / 4 + 1);
        if (!b) return 0;
        size_t k = 0;
        for (size_t i = 6; i < n; i += 4) {
            int hi = hexval(s[i + 2]), lo = hexval(s[i + 3]);
            if (s[i] != '\\' || s[i + 1] != 'x' || hi < 0 || lo < 0) { k = (size_t)-1; break; }
            b[k++] = (char)(hi * 16 + lo);
        }
        if (k != (size_t)-1) {
            b[k] = 0;
            *out = b;
            *out_len = k;
            return 1;
        }
    }
    *out = s;
    *out_len = n;
    return 1;
}

static int by_logprob(const void *x, const void *y)
{
    const openai_token *a = x, *b = y;
    if (a->logprob != b->logprob) return a->logprob > b->logprob ? -1 : 1;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->bytes, b->bytes, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

lineage_status openai_parse_completion(const char *body, size_t len, const char *url, arena *ar, openai_token **toks,
                                       size_t *n, size_t *prompt_tokens, lineage_error *err)
{
    json_value *root = NULL;
    lineage_status st = parse_body(body, len, url, ar, &root, err);
    if (st) return st;
    *prompt_tokens = 0;
    int64_t pt;
    if (json_get_int(json_get(root, "usage"), "prompt_tokens", &pt) && pt > 0) *prompt_tokens = (size_t)pt;
    const json_value *choice = json_at(json_get(root, "choices"), 0);
    if (!choice || choice->type != JSON_OBJECT)
        return error_set(err, LINEAGE_E_FORMAT, "%s: the answer has no \"choices\"", url);
    const json_value *lp = json_get(choice, "logprobs");
    if (!lp || lp->type != JSON_OBJECT)
        return error_set(err, LINEAGE_E_FORMAT, "%s: the answer carries no logprobs (does the server support "
                         "\"logprobs\" on /completions?)", url);
    /* top_logprobs[0]: the distribution at the first generated position, i.e. after the prompt */
    const json_value *top = json_at(json_get(lp, "top_logprobs"), 0);
    if (!top || top->type != JSON_OBJECT || top->u.object.count == 0)
        return error_set(err, LINEAGE_E_FORMAT, "%s: the answer has no top_logprobs for the next token", url);
    size_t cnt = top->u.object.count;
    if (cnt > 4 * OPENAI_MAX_TOP_K)
        return error_set(err, LINEAGE_E_FORMAT, "%s: %zu top_logprobs entries, more than asked for", url, cnt);
    openai_token *t = arena_calloc(ar, cnt, sizeof *t);
    if (!t) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < cnt; i++) {
        const json_member *m = &top->u.object.members[i];
        const json_value *v = m->value;
        if (!v || v->type != JSON_NUMBER || !isfinite(v->u.number.d) || v->u.number.d > 1e-6)
            return error_set(err, LINEAGE_E_FORMAT, "%s: top_logprobs[\"%.40s\"] is not a log-probability", url, m->key);
        const char *b;
        size_t bl;
        if (!token_bytes(m->key, m->key_len, ar, &b, &bl)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        size_t j = 0;   /* two spellings of the same bytes: their probabilities add */
        while (j < k && !(t[j].len == bl && !memcmp(t[j].bytes, b, bl))) j++;
        double lpv = v->u.number.d > 0 ? 0 : v->u.number.d;
        if (j < k) {
            double hi = fmax(t[j].logprob, lpv), lo = fmin(t[j].logprob, lpv);
            t[j].logprob = hi + log1p(exp(lo - hi));
            if (t[j].logprob > 0) t[j].logprob = 0;
        } else {
            t[k].bytes = b;
            t[k].len = bl;
            t[k].logprob = lpv;
            k++;
        }
    }
    double total = 0;
    for (size_t i = 0; i < k; i++) total += exp(t[i].logprob);
    if (total > 1.0 + 1e-3)
        return error_set(err, LINEAGE_E_FORMAT, "%s: top_logprobs add up to probability %.4f > 1", url, total);
    qsort(t, k, sizeof *t, by_logprob);
    *toks = t;
    *n = k;
    return LINEAGE_OK;
}

lineage_status openai_open(const char *url, openai_client **out, lineage_error *err)
{
    *out = NULL;
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        return error_set(err, LINEAGE_E_USAGE, "--endpoint '%.200s' is not an http:// or https:// URL", url);
    openai_client *c = calloc(1, sizeof *c);
    if (!c) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    const char *hash = strchr(url, '#');
    size_t blen = hash ? (size_t)(hash - url) : strlen(url);
    if (blen >= sizeof c->base - 32 || (hash && strlen(hash + 1) >= sizeof c->model)) {
        free(c);
        return error_set(err, LINEAGE_E_USAGE, "--endpoint URL is too long");
    }
    memcpy(c->base, url, blen);
    while (blen && c->base[blen - 1] == '/') blen--;
    c->base[blen] = 0;
    /* ".../v1/completions" given in full: keep the base */
    size_t sl = strlen("/completions");
    if (blen > sl && !strcmp(c->base + blen - sl, "/completions")) c->base[blen - sl] = 0;
    memcpy(c->completions, c->base, strlen(c->base));
    memcpy(c->completions + strlen(c->base), "/completions", sizeof "/completions");
    memcpy(c->chat, c->base, strlen(c->base));   /* the base is shorter than the buffer by 32 or more */
    memcpy(c->chat + strlen(c->base), "/chat/completions", sizeof "/chat/completions");
    if (hash) snprintf(c->model, sizeof c->model, "%s", hash + 1);
    double t = timeout_seconds();
    http_limits lim = {t, 3 * t + 10, 3, 1};
    const char *key = getenv("OPENAI_API_KEY");
    lineage_status st = http_client_init(&c->http, c->base, key, &lim, NULL, err);
    if (st) {
        free(c);
        return error_set(err, st, "--endpoint '%.200s' is not a valid URL", url);
    }
    if (!c->model[0]) {
        char murl[OPENAI_URL_MAX + 16];
        memcpy(murl, c->base, strlen(c->base));
        memcpy(murl + strlen(c->base), "/models", sizeof "/models");
        unsigned char *body = NULL;
        size_t len = 0;
        st = request(c, murl, NULL, 0, &body, &len, err);
        if (!st) {
            arena ar;
            arena_init(&ar, 0);
            const char *name;
            st = openai_parse_models((const char *)body, len, murl, &ar, &name, err);
            if (!st) snprintf(c->model, sizeof c->model, "%s", name);
            arena_free(&ar);
        }
        free(body);
    }
    if (st) {
        openai_close(c);
        return st;
    }
    *out = c;
    return LINEAGE_OK;
}

void openai_close(openai_client *c)
{
    if (!c) return;
    http_client_free(&c->http);
    free(c);
}

lineage_status openai_next_token(openai_client *c, const char *prompt, size_t len, int top_k, arena *ar,
                                 openai_token **toks, size_t *n, size_t *prompt_tokens, lineage_error *err)
{
    if (top_k < 1 || top_k > OPENAI_MAX_TOP_K) top_k = OPENAI_MAX_TOP_K;
    if (!utf8_valid(prompt, len)) return error_set(err, LINEAGE_E_USAGE, "%s: a prompt is not valid UTF-8", c->completions);
    strbuf sb;
    sb_init(&sb);
    sb_puts(&sb, "{\"model\":");
    json_write_string(&sb, c->model, strlen(c->model));
    sb_puts(&sb, ",\"prompt\":");
    json_write_string(&sb, prompt, len);
    sb_printf(&sb, ",\"max_tokens\":1,\"temperature\":0,\"logprobs\":%d,\"echo\":false}", top_k);
    if (sb.failed) {
        sb_free(&sb);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    unsigned char *body = NULL;
    size_t blen = 0;
    lineage_status st = request(c, c->completions, sb.data, sb.len, &body, &blen, err);
    sb_free(&sb);
    if (!st) st = openai_parse_completion((const char *)body, blen, c->completions, ar, toks, n, prompt_tokens, err);
    free(body);
    return st;
}

lineage_status openai_parse_chat(const char *body, size_t len, const char *url, arena *ar, openai_chat_answer *out,
                                 lineage_error *err)
{
    json_value *root = NULL;
    memset(out, 0, sizeof *out);
    lineage_status st = parse_body(body, len, url, ar, &root, err);
    if (st) return st;
    int64_t v;
    const json_value *usage = json_get(root, "usage");
    if (json_get_int(usage, "prompt_tokens", &v) && v > 0) out->prompt_tokens = (size_t)v;
    if (json_get_int(usage, "completion_tokens", &v) && v > 0) out->completion_tokens = (size_t)v;
    const json_value *choice = json_at(json_get(root, "choices"), 0);
    if (!choice || choice->type != JSON_OBJECT) return error_set(err, LINEAGE_E_FORMAT, "%s: the answer has no \"choices\"", url);
    const json_value *content = json_get(json_get(choice, "message"), "content");
    if (!content || content->type != JSON_STRING)
        return error_set(err, LINEAGE_E_FORMAT, "%s: the answer has no message content (is this a chat model?)", url);
    out->text = content->u.string.s;
    out->len = content->u.string.len;
    const char *fr = json_get_string(choice, "finish_reason");
    out->finish_reason = fr ? fr : "unknown";
    return LINEAGE_OK;
}

lineage_status openai_chat(openai_client *c, const openai_chat_request *rq, arena *ar, openai_chat_answer *out,
                           lineage_error *err)
{
    const char *q = rq->question ? rq->question : "";
    if (!utf8_valid(q, strlen(q)) || (rq->system && !utf8_valid(rq->system, strlen(rq->system))))
        return error_set(err, LINEAGE_E_USAGE, "%s: a message is not valid UTF-8", c->chat);
    strbuf sb;
    sb_init(&sb);
    sb_puts(&sb, "{\"model\":");
    json_write_string(&sb, c->model, strlen(c->model));
    sb_puts(&sb, ",\"messages\":[");
    if (rq->system) {
        sb_puts(&sb, "{\"role\":\"system\",\"content\":");
        json_write_string(&sb, rq->system, strlen(rq->system));
        sb_puts(&sb, "},");
    }
    sb_puts(&sb, "{\"role\":\"user\",\"content\":");
    json_write_string(&sb, q, strlen(q));
    sb_printf(&sb, "}],\"max_tokens\":%d,\"temperature\":%.17g,\"seed\":%llu}", rq->max_tokens, rq->temperature,
              (unsigned long long)rq->seed);
    if (sb.failed) {
        sb_free(&sb);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    unsigned char *body = NULL;
    size_t blen = 0;
    lineage_status st = request(c, c->chat, sb.data, sb.len, &body, &blen, err);
    sb_free(&sb);
    if (!st) st = openai_parse_chat((const char *)body, blen, c->chat, ar, out, err);
    free(body);
    return st;
}
