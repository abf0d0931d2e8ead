/* Parameter counts: from real tensor shapes, or from the config formula (architecture-only mode). */
#ifndef LINEAGE_ANALYSIS_PARAMS_H
#define LINEAGE_ANALYSIS_PARAMS_H
#include <stdint.h>
#include "format/arch.h"

typedef struct param_counts {
    uint64_t total;                     /* main model: every component, MTP layers excluded */
    uint64_t active;                    /* per token, embeddings and lm_head counted */
    uint64_t active_without_embedding;  /* lm_head counted, input embedding not (DeepSeek/OpenAI cards) */
    uint64_t embedding, lm_head;
    uint64_t routed_experts;            /* all routed-expert parameters (inside total) */
    uint64_t mtp;                       /* extra multi-token-prediction layers (not in total) */
    int active_known;                   /* 0 for an MoE whose experts_per_token is unknown */
} param_counts;

/* Config formula for the text decoder; returns 0 when a needed field is unknown. */
int params_from_config(const arch_info *a, param_counts *out);
/* Vision tower estimate from a vision_config object (ViT blocks + patch embedding); 0 when unknown. */
uint64_t params_vision_from_config(const json_value *vision);
/* Counts over the tensors of one component (comp < 0: all components but MTP). */
void params_from_tensors(const lineage_model *m, const arch_info *a, int comp, param_counts *out);
/* Logical parameters stored in one tensor (packed 4-bit weights unpacked; scales and buffers 0). */
uint64_t tensor_params(const lineage_tensor_info *t);
#endif
