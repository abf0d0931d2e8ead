/* Segmentation of a built-in multilingual probe text: the share of samples both tokenizers cut
 * into the same byte pieces, and tokens per character on each side. */
#include <stdlib.h>
#include <string.h>

#include "analysis/tokenizer_compare.h"
#include "util/error.h"

static const struct { const char *kind; const char *text; } probe[] = {
    {"english", "The quick brown fox jumps over the lazy dog."},
    {"english", "Language models are trained on trillions of tokens of text."},
    {"english", "She said, \"I don't think they'll arrive before noon.\""},
    {"korean", "안녕하세요, 만나서 반갑습니다."},
    {"korean", "대한민국의 수도는 서울입니다. 오늘 날씨가 정말 좋네요!"},
    {"chinese", "今天天气很好，我们去公园散步吧。"},
    {"chinese", "机器学习是人工智能的一个分支。"},
    {"japanese", "東京は日本の首都です。ありがとうございます。"},
    {"code", "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"},
    {"code", "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }"},
    {"code", "const x = await fetch(`/api/v1/items?id=${id}`);"},
    {"numbers", "3.14159 2718281828 1,234,567.89 0x7FFF 2024-06-30"},
    {"numbers", "Call 555-0199 or +1 (800) 123-4567 before 10:45pm."},
    {"emoji", "Great job! \xf0\x9f\x8e\x89\xf0\x9f\x91\x8d\xf0\x9f\x98\x80 See you soon \xf0\x9f\x91\x8b"},
    {"mixed", "GPU 메모리는 80GB입니다 (H100), 价格 $30,000."},
};

static size_t count_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int same_segmentation(const lineage_tokenizer *a, const uint32_t *ia, size_t na, const lineage_tokenizer *b,
                             const uint32_t *ib, size_t nb)
{
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++) {
        size_t la, lb;
        const char *x = lineage_tokenizer_bytes(a, ia[i], &la), *y = lineage_tokenizer_bytes(b, ib[i], &lb);
        if (!x || !y || la != lb || memcmp(x, y, la)) return 0;
    }
    return 1;
}

lineage_status tokenizer_probe_section(const lineage_tokenizer *a, const lineage_tokenizer *b, arena *ar,
                                       json_value *s, lineage_error *err)
{
    size_t n = sizeof probe / sizeof probe[0], same = 0, chars = 0, ta = 0, tb = 0;
    json_value *o = json_new_object(ar);
    if (!o || !json_set(ar, s, "probe", o)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        uint32_t *ia = NULL, *ib = NULL;
        size_t na = 0, nb = 0;
        lineage_error e2;
        size_t len = strlen(probe[i].text);
        if (lineage_tokenize(a, probe[i].text, len, &ia, &na, &e2) ||
            lineage_tokenize(b, probe[i].text, len, &ib, &nb, &e2)) {
            free(ia);
            free(ib);
            /* an encoder this version lacks is not a comparison failure: report why and go on */
            return json_set_bool(ar, o, "available", 0) && json_set_str(ar, o, "reason", e2.message)
                       ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
        }
        same += same_segmentation(a, ia, na, b, ib, nb);
        chars += count_chars(probe[i].text);
        ta += na;
        tb += nb;
        free(ia);
        free(ib);
    }
    if (!json_set_bool(ar, o, "available", 1) || !json_set_int(ar, o, "samples", (int64_t)n) ||
        !json_set_double(ar, o, "identical_segmentation_rate", (double)same / (double)n) ||
        !json_set_double(ar, o, "tokens_per_char_a", (double)ta / (double)chars) ||
        !json_set_double(ar, o, "tokens_per_char_b", (double)tb / (double)chars))
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    return LINEAGE_OK;
}

lineage_status tokenizer_probe_profile(const lineage_tokenizer *t, arena *ar, json_value *o, lineage_error *err)
{
    size_t n = sizeof probe / sizeof probe[0];
    json_value *p = json_new_object(ar), *by = json_new_array(ar);
    if (!p || !by || !json_set(ar, o, "probe", p)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t all_chars = 0, all_tokens = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, chars = 0, tokens = 0;
        for (; j < n && !strcmp(probe[j].kind, probe[i].kind); j++) {
            uint32_t *ids = NULL;
            size_t nt = 0;
            lineage_error e2;
            if (lineage_tokenize(t, probe[j].text, strlen(probe[j].text), &ids, &nt, &e2)) {
                free(ids);
                return json_set_bool(ar, p, "available", 0) && json_set_str(ar, p, "reason", e2.message)
                           ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
            }
            free(ids);
            chars += count_chars(probe[j].text);
            tokens += nt;
        }
        json_value *x = json_new_object(ar);
        if (!x || !json_set_str(ar, x, "language", probe[i].kind) || !json_set_int(ar, x, "samples", (int64_t)(j - i)) ||
            !json_set_int(ar, x, "chars", (int64_t)chars) || !json_set_int(ar, x, "tokens", (int64_t)tokens) ||
            !json_set_double(ar, x, "tokens_per_char", chars ? (double)tokens / (double)chars : 0) || !json_push(ar, by, x))
            return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        all_chars += chars;
        all_tokens += tokens;
        i = j;
    }
    if (!json_set_bool(ar, p, "available", 1) || !json_set_int(ar, p, "samples", (int64_t)n) ||
        !json_set_double(ar, p, "tokens_per_char", all_chars ? (double)all_tokens / (double)all_chars : 0) ||
        !json_set(ar, p, "by_language", by))
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    return LINEAGE_OK;
}
