/* Internals of the chat template engine: tokens, syntax tree, and the interpreter's entry point. */
#ifndef LINEAGE_FORMAT_CHAT_TEMPLATE_IMPL_H
#define LINEAGE_FORMAT_CHAT_TEMPLATE_IMPL_H
#include "format/chat_template.h"

typedef enum {
    N_TEXT, N_COMMENT, N_IF, N_FOR, N_SET, N_MACRO, N_CALLBLOCK, N_FILTERBLOCK, N_BREAK, N_CONTINUE,
    N_IDENT, N_INT, N_FLOAT, N_STR, N_ARRAY, N_TUPLE, N_OBJECT, N_BIN, N_UNARY, N_MEMBER, N_SLICE, N_CALL,
    N_FILTER, N_TEST, N_TERNARY, N_SELECT, N_KWARG, N_SPREAD, N_KWSPREAD
} node_kind;

typedef struct node node;
typedef struct node_list {
    node **items;
    size_t n;
} node_list;

struct node {
    node_kind kind;
    int line;
    const char *s;          /* text, identifier, string literal, operator, test or macro name */
    size_t slen;
    double num;
    int computed, negate;   /* MEMBER: [] access; TEST: `is not` */
    node *a, *b, *c;        /* operands; FOR: a loop var, b iterable, c select test */
    node_list body, alt;    /* statements; ARRAY/TUPLE/CALL args in body; OBJECT keys body, values alt */
    node_list params;       /* MACRO/CALLBLOCK parameters */
};

struct chat_template {
    node_list body;
    const char *what;
};
#endif
