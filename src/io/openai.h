/* Client for an OpenAI-compatible completions server (vLLM, llama.cpp server, TGI, ...): the next-token
 * top-k log-probabilities after a prompt, from POST {base}/completions with logprobs. The server tokenizes
 * the prompt itself; the token strings it returns are taken as the tokens' canonical bytes. */
#ifndef LINEAGE_IO_OPENAI_H
#define LINEAGE_IO_OPENAI_H
#include <stddef.h>
#include "lineage.h"
#include "util/arena.h"

/* Largest top-k asked for (vLLM's default max_logprobs is 20; OpenAI's own API allows 5). */
#define OPENAI_MAX_TOP_K 20
/* Largest answer accepted from the server. */
#define OPENAI_MAX_BODY (4u << 20)

typedef struct openai_token {
    const char *bytes;   /* in the caller's arena */
    size_t len;
    double logprob;
} openai_token;

typedef struct openai_client openai_client;

/* url: "http://host:port/v1" optionally followed by "#model-name"; without a name, the first model of
 * GET {base}/models. Timeout per request: LINEAGE_ENDPOINT_TIMEOUT seconds (default 120); a bearer token
 * from OPENAI_API_KEY when set, sent only to the server's origin. */
lineage_status openai_open(const char *url, openai_client **out, lineage_error *err);
void openai_close(openai_client *c);
const char *openai_base_url(const openai_client *c);
const char *openai_model_name(const openai_client *c);

/* Next-token top-k after the prompt (sorted by logprob, highest first), and the prompt's token count as
 * the server reports it (usage.prompt_tokens; 0 when absent). */
lineage_status openai_next_token(openai_client *c, const char *prompt, size_t len, int top_k, arena *ar,
                                 openai_token **toks, size_t *n, size_t *prompt_tokens, lineage_error *err);

/* One chat turn: POST {base}/chat/completions with the system message (optional) and the question; the
 * server applies the model's chat template. */
typedef struct openai_chat_request {
    const char *system, *question;
    int max_tokens;
    double temperature;
    uint64_t seed;
} openai_chat_request;

typedef struct openai_chat_answer {
    const char *text;            /* choices[0].message.content, in the caller's arena */
    size_t len;
    const char *finish_reason;   /* "stop", "length", ... ("unknown" when absent) */
    size_t prompt_tokens, completion_tokens;   /* usage (0 when absent) */
} openai_chat_answer;

lineage_status openai_chat(openai_client *c, const openai_chat_request *rq, arena *ar, openai_chat_answer *out,
                           lineage_error *err);
lineage_status openai_parse_chat(const char *body, size_t len, const char *url, arena *ar, openai_chat_answer *out,
                                 lineage_error *err);

/* Parsers of the server's answers (exposed for tests). url names the request in errors. */
lineage_status openai_parse_completion(const char *body, size_t len, const char *url, arena *ar, openai_token **toks,
                                       size_t *n, size_t *prompt_tokens, lineage_error *err);
lineage_status openai_parse_models(const char *body, size_t len, const char *url, arena *ar, const char **name,
                                   lineage_error *err);
#endif
