/* JSON parser and writer: valid documents, every class of malformed input, limits. */
#include <math.h>

#include "check.h"
#include "util/json.h"

static lineage_status parse(const char *text, json_value **v, arena *a, size_t depth)
{
    json_limits lim = {depth, 1u << 20};
    lineage_error err;
    return json_parse(text, strlen(text), &lim, a, v, "t.json", &err);
}

int main(void)
{
    arena a;
    arena_init(&a, 0);
    json_value *v;
    CHECK(parse("{\"a\": [1, -2.5e3, \"x\\u00e9\\ud83d\\ude00\"], \"b\": null, \"c\": true}", &v, &a, 64) == 0,
          "parses a small document");
    int64_t i;
    CHECK(json_get_int(json_at(json_get(v, "a"), 0), "x", &i) == 0, "json_get_int on a non-object is 0");
    CHECK(json_count(json_get(v, "a")) == 3, "array count");
    CHECK(json_at(json_get(v, "a"), 1)->u.number.d == -2500.0, "exponent number");
    CHECK(!strcmp(json_at(json_get(v, "a"), 2)->u.string.s, "x\xc3\xa9\xf0\x9f\x98\x80"), "unicode escapes and surrogate pairs");
    CHECK(json_is_true(json_get(v, "c")), "true literal");
    CHECK(parse("{\"n\": 9007199254740993}", &v, &a, 64) == 0 && json_get_int(v, "n", &i) && i == 9007199254740993LL,
          "integers beyond 2^53 kept exact");
    CHECK(parse("{\"n\": 4096.0}", &v, &a, 64) == 0 && json_get_int(v, "n", &i) && i == 4096, "4096.0 reads as an integer");
    CHECK(parse("[NaN, Infinity, -Infinity, -1]", &v, &a, 64) == 0 && isnan(json_at(v, 0)->u.number.d) &&
              json_at(v, 1)->u.number.d == INFINITY && json_at(v, 2)->u.number.d == -INFINITY &&
              json_at(v, 3)->u.number.d == -1.0,
          "Python's NaN, Infinity and -Infinity literals");
    const char *bad[] = {"", "{", "[1,]", "{\"a\":}", "{\"a\" 1}", "\"abc", "\"\\x\"", "\"\\ud800\"", "01", "1.", "-",
                         "tru", "[1] 2", "{\"a\":1,}", "\"\x01\"", "\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "nul"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        lineage_error err;
        json_limits lim = {64, 1u << 20};
        lineage_status st = json_parse(bad[k], strlen(bad[k]), &lim, &a, &v, "bad.json", &err);
        CHECK(st == LINEAGE_E_FORMAT && strstr(err.message, "bad.json") && !strchr(err.message, '\n'),
              "rejects malformed input #%zu with a one-line error naming the file", k);
    }
    char deep[300];
    memset(deep, '[', 200);
    deep[200] = 0;
    CHECK(parse(deep, &v, &a, 64) == LINEAGE_E_FORMAT, "depth limit rejects 200 nested arrays");
    {
        lineage_error err;
        json_limits lim = {64, 4};
        CHECK(json_parse("[1,2,3]", 7, &lim, &a, &v, "big.json", &err) == LINEAGE_E_FORMAT, "size limit enforced");
    }
    json_value *o = json_new_object(&a);
    json_set_str(&a, o, "s", "q\"\n\x01");
    json_set_double(&a, o, "d", 0.1);
    json_set_int(&a, o, "i", -7);
    json_set_double(&a, o, "nan", 0.0 / 0.0);
    strbuf sb;
    sb_init(&sb);
    json_write(&sb, o, 0);
    CHECK(!strcmp(sb_str(&sb), "{\"s\":\"q\\\"\\n\\u0001\",\"d\":0.1,\"i\":-7,\"nan\":null}"), "writer escapes and formats numbers");
    json_value *back;
    CHECK(parse(sb_str(&sb), &back, &a, 64) == 0 && !strcmp(json_get_string(back, "s"), "q\"\n\x01"), "writer output round-trips");
    sb_free(&sb);
    arena_free(&a);
    CHECK_EXIT();
}
