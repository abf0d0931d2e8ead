/* Behaviour batteries: versioned question sets (Korean, English, Chinese) put to a model with
 * lineage_ask, and the explicit rules that classify each answer: which organisations and models it
 * names (the list in battery_names.c), whether it refuses (refusal markers), whether it contains an
 * expected keyword (knowledge-cutoff questions). No other model is ever consulted. */
#ifndef LINEAGE_ANALYSIS_BATTERY_H
#define LINEAGE_ANALYSIS_BATTERY_H
#include <stddef.h>
#include "util/arena.h"
#include "util/json.h"

#define BATTERY_MAX_EXPECT 6

typedef enum { BATTERY_IDENTITY, BATTERY_CUTOFF, BATTERY_REFUSAL, BATTERY_PLAIN } battery_kind;

typedef struct battery_question {
    const char *id, *lang, *text;
    const char *month;                          /* cutoff: "YYYY-MM" of the event asked about */
    const char *expect[BATTERY_MAX_EXPECT];     /* cutoff: any of these (case-folded) means correct */
} battery_question;

typedef struct battery {
    const char *name, *version;
    battery_kind kind;
    const battery_question *questions;
    size_t n;
} battery;

/* The built-in sets: identity/1, cutoff/1, refusal/1. */
const battery *battery_builtin(const char *name);
/* Usage error unless name is a built-in set, "all" or an existing file (checked before long work). */
lineage_status battery_check_name(const char *name, lineage_error *err);
/* A user's set from a JSON file (docs/SCHEMA-ask.md), in ar. */
lineage_status battery_load(const char *path, arena *ar, battery *out, lineage_error *err);

/* One organisation or model named by an answer. */
typedef struct battery_claim {
    const char *name;           /* as listed ("ChatGPT", "通义千问") */
    const char *organisation;   /* canonical ("OpenAI", "Alibaba") */
} battery_claim;

/* Names in text (at most max, each organisation once); returns the count. */
size_t battery_identity_claims(const char *text, battery_claim *out, size_t max);
/* The first refusal marker in text, or NULL. */
const char *battery_refusal_marker(const char *text);
/* Whether text contains one of the expected keywords (ASCII case-folded). */
int battery_expected(const char *text, const char *const *expect);
#endif
