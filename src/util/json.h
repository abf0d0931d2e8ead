/* JSON: a parser for hostile input (depth, size and UTF-8 checked; arena-backed) and a
 * builder/writer for report documents. Parsed trees and built trees are the same type. */
#ifndef LINEAGE_FORMAT_JSON_H
#define LINEAGE_FORMAT_JSON_H
#include <stddef.h>
#include <stdint.h>
#include "lineage.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/strbuf.h"

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value json_value;
typedef struct json_member {
    const char *key;
    size_t key_len;
    json_value *value;
} json_member;

struct json_value {
    json_type type;
    union {
        int boolean;
        struct { double d; int64_t i; int is_int; } number;   /* is_int: integer literal within int64 */
        struct { const char *s; size_t len; } string;         /* NUL-terminated as well */
        struct { json_value **items; size_t count, cap; } array;
        struct { json_member *members; size_t count, cap; } object;
    } u;
};

typedef struct json_limits {
    size_t max_depth;   /* nesting depth; default 64 */
    size_t max_bytes;   /* input size; default 64 MiB */
} json_limits;

/* Parses text[0..len). `what` names the source in errors ("config.json"). Trailing
 * whitespace is allowed, anything else after the value is an error. */
lineage_status json_parse(const char *text, size_t len, const json_limits *limits, arena *a,
                          json_value **out, const char *what, lineage_error *err);

/* A member left out of the tree: its value (an object or array opening with `open`, in the object
 * that is the value of member `parent` at nesting `depth`, the root object being depth 1) is only
 * checked for string syntax and bracket balance and depth; [begin, end) is its text, or NULL when
 * absent. Lets loaders scan huge members (tokenizer vocabularies) without building nodes. */
typedef struct json_span {
    const char *parent, *key;
    size_t depth;
    char open;
    const char *begin, *end;
} json_span;
lineage_status json_parse_spans(const char *text, size_t len, const json_limits *limits, arena *a,
                                json_value **out, const char *what, lineage_error *err, json_span *spans,
                                size_t nspans);
/* Decodes the string literal at *p (its opening quote) into the arena as json_parse does (escapes,
 * UTF-8 checked); advances *p past it. Errors give the byte offset from `start`. */
lineage_status json_scan_string(const char **p, const char *end, const char *start, arena *a, const char **out,
                                size_t *out_len, const char *what, lineage_error *err);

/* Lookups return NULL / 0 when the member is missing or has another type. */
json_value *json_get(const json_value *obj, const char *key);
const char *json_get_string(const json_value *obj, const char *key);
int json_get_int(const json_value *obj, const char *key, int64_t *out);
int json_get_double(const json_value *obj, const char *key, double *out);
int json_get_bool(const json_value *obj, const char *key, int *out);
int json_is_true(const json_value *v);
size_t json_count(const json_value *v);          /* array items / object members */
json_value *json_at(const json_value *arr, size_t i);

/* Builders (NULL on allocation failure; a NULL child makes the parent call fail too). */
json_value *json_new_null(arena *a);
json_value *json_new_bool(arena *a, int b);
json_value *json_new_int(arena *a, int64_t i);
json_value *json_new_double(arena *a, double d);
json_value *json_new_string(arena *a, const char *s);
json_value *json_new_stringn(arena *a, const char *s, size_t n);
/* Bytes as a JSON string: valid UTF-8 kept, every other byte as U+FFFD (a token may end inside a
 * character); NULL when out of memory. */
json_value *json_new_string_lossy(arena *a, const char *s, size_t n);
json_value *json_new_array(arena *a);
json_value *json_new_object(arena *a);
int json_push(arena *a, json_value *arr, json_value *v);
/* Appends a formatted string (at most 511 bytes) to an array. */
int json_push_fmt(arena *a, json_value *arr, const char *fmt, ...) LINEAGE_PRINTF(3, 4);
int json_set(arena *a, json_value *obj, const char *key, json_value *v);  /* replaces an existing key */
/* Shorthands for report building. */
int json_set_str(arena *a, json_value *obj, const char *key, const char *s);
int json_set_int(arena *a, json_value *obj, const char *key, int64_t i);
int json_set_double(arena *a, json_value *obj, const char *key, double d);
int json_set_bool(arena *a, json_value *obj, const char *key, int b);

/* Writes compact (indent 0) or pretty JSON. Strings are escaped; non-finite numbers become null. */
void json_write(strbuf *sb, const json_value *v, int indent);
void json_write_string(strbuf *sb, const char *s, size_t len);

/* The public report document. */
struct lineage_doc {
    arena arena;
    json_value *root;
};
lineage_doc *doc_new(void);

/* Valid UTF-8 check (no overlongs, no surrogates). */
int utf8_valid(const char *s, size_t len);
/* Deep copy of a JSON value into another arena (documents of a pair are freed after use). */
json_value *json_deep_copy(arena *ar, const json_value *v);

#endif
