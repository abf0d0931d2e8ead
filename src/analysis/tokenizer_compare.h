/* Tokenizer comparison on already opened tokenizers (the section builder opens them from models). */
#ifndef LINEAGE_ANALYSIS_TOKENIZER_COMPARE_H
#define LINEAGE_ANALYSIS_TOKENIZER_COMPARE_H
#include "util/json.h"
#include "format/tokenizer.h"

/* Fills section s with vocabulary, merge, special-token and probe measures. */
lineage_status tokenizer_compare_tokenizers(const lineage_tokenizer *a, const lineage_tokenizer *b, arena *ar,
                                            json_value *s, lineage_error *err);
/* "probe": how a and b segment the built-in multilingual probe text. */
lineage_status tokenizer_probe_section(const lineage_tokenizer *a, const lineage_tokenizer *b, arena *ar,
                                       json_value *s, lineage_error *err);
/* "probe": tokens per character of the built-in probe text, per language and over all of it, for one tokenizer. */
lineage_status tokenizer_probe_profile(const lineage_tokenizer *t, arena *ar, json_value *o, lineage_error *err);
/* inspect's tokenizer facts (tokenizer_profile.c): format, type, specials with roles, scripts, probe. */
lineage_status tokenizer_profile(const lineage_tokenizer *t, arena *ar, json_value *o, lineage_error *err);
#endif
