/* tiktoken rank files: one "base64(token bytes) rank" per line; the rank is the id and orders merges. */
#include <stdlib.h>
#include <string.h>

#include "format/tokenizer.h"
#include "util/error.h"

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

long tok_base64_decode(const char *s, size_t n, unsigned char *out)
{
    if (n % 4) return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == n && k >= 2) { v[k] = 0; pad++; continue; }
            if (pad || (v[k] = b64val((unsigned char)s[i + k])) < 0) return -1;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (unsigned char)(w >> 16);
        if (pad < 2) out[o++] = (unsigned char)(w >> 8);
        if (pad < 1) out[o++] = (unsigned char)w;
    }
    return (long)o;
}

/* The split regex of the known tiktoken encodings, chosen by vocabulary size. */
static const char *pattern_for(size_t n)
{
    if (n <= 60000) return tok_pattern_gpt2;
    if (n >= 190000) return tok_pattern_o200k;
    return tok_pattern_cl100k;
}

lineage_status tok_load_tiktoken(lineage_tokenizer *t, const char *text, size_t len, const char *what,
                                 lineage_error *err)
{
    t->model = TOK_MODEL_BPE;
    t->surface = TOK_SURFACE_RAW;
    t->merges_by_rank = 1;
    tok_allow_ids(t, len);
    unsigned char buf[768];
    size_t line = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len, e = end;
        line++;
        if (e > i && text[e - 1] == '\r') e--;
        if (e > i) {
            const char *sp = memchr(text + i, ' ', e - i);
            if (!sp) return error_set(err, LINEAGE_E_FORMAT, "%s: line %zu is not 'base64 rank'", what, line);
            size_t bl = (size_t)(sp - (text + i));
            long dl = bl <= 1020 ? tok_base64_decode(text + i, bl, buf) : -1;
            if (dl <= 0) return error_set(err, LINEAGE_E_FORMAT, "%s: line %zu has broken base64", what, line);
            /* digits parsed by hand: the text may be a mapping with no terminator after it */
            const char *num = sp + 1, *q = num;
            unsigned long rank = 0;
            while (q < text + e && *q >= '0' && *q <= '9' && rank < (1u << 24)) rank = rank * 10 + (unsigned long)(*q++ - '0');
            if (q == num || q != text + e || rank >= (1u << 24))
                return error_set(err, LINEAGE_E_FORMAT, "%s: line %zu has a bad rank", what, line);
            lineage_status st = tok_set(t, (uint32_t)rank, (const char *)buf, (size_t)dl, 0, TOK_NORMAL, what, err);
            if (st) return st;
        }
        i = end + 1;
    }
    if (t->n == 0) return error_set(err, LINEAGE_E_FORMAT, "%s: no tokens", what);
    tok_step *s = tok_push_step(t, 1, TOK_STEP_SPLIT);
    if (!s) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    s->pattern = pattern_for(t->n);
    s->pattern_len = strlen(s->pattern);
    s->pattern_is_regex = 1;
    s->behavior = TOK_SPLIT_ISOLATED;
    return LINEAGE_OK;
}
