/* Provenance clues from metadata (model card, config, safetensors/GGUF metadata, code headers). */
#ifndef LINEAGE_ANALYSIS_CLUES_H
#define LINEAGE_ANALYSIS_CLUES_H
#include "format/arch.h"

/* Appends clue objects {kind, source, line?, value, status: "hypothesis", meaning} to list. */
lineage_status clues_collect(const lineage_model *m, arena *ar, json_value *list, lineage_error *err);
#endif
