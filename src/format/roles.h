/* Normalized tensor roles across naming schemes (HF Llama/Mixtral/Qwen/DeepSeek/GLM/GPT-2/NeoX,
 * GGUF blk.N.*). Role names are fixed and documented in docs/ROLES.md; every norm role contains
 * "norm". */
#ifndef LINEAGE_FORMAT_ROLES_H
#define LINEAGE_FORMAT_ROLES_H
#include "lineage.h"

typedef struct tensor_role {
    const char *role;     /* static string */
    int layer;            /* -1 when none */
    int expert;           /* -1 when none */
    lineage_component component;
} tensor_role;

/* num_layers: decoder layers declared by the config (layers at or beyond it are MTP), or -1. */
void role_classify(const char *name, int num_layers, tensor_role *out);
/* 1 for roles whose tensors carry little information (norms, biases, 1-D). */
int role_is_low_information(const char *role);
#endif
