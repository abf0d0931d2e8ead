/* A .gguf file as a lineage_model: tensor infos become model tensors (shapes back in PyTorch order),
 * and llama-family attn_q/attn_k are marked for reading in Hugging Face row order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/gguf.h"
#include "util/error.h"

/* Architectures whose llama.cpp conversion stores attn_q/attn_k rows in Meta's interleaved-rotary
 * order (convert_hf_to_gguf.py permutes q_proj/k_proj for these model classes; llama GGUFs made
 * from Mistral's native format hold the same order). */
static const char *const permuted_qk_archs[] = {
    "llama", "baichuan", "internlm2", "minicpm", "xverse", "deepseek", "chameleon", "granite",
    "granitemoe", "granitehybrid", "bailingmoe", "deci", "arcee", "smollm3"};

static int arch_permutes_qk(const char *arch)
{
    if (!arch) return 0;
    for (size_t i = 0; i < sizeof permuted_qk_archs / sizeof permuted_qk_archs[0]; i++)
        if (!strcmp(arch, permuted_qk_archs[i])) return 1;
    return 0;
}

/* {arch}.attention.<name>: a scalar, or an array with one entry per layer. */
static int64_t head_count(const gguf_file *g, const char *arch, const char *name, int layer)
{
    char key[256];
    snprintf(key, sizeof key, "%s.attention.%s", arch, name);
    const gguf_kv *kv = gguf_find(g, key);
    int64_t v = 0;
    if (!kv) return 0;
    if (gguf_kv_type(kv) == GGUF_TYPE_ARRAY) {
        if (layer < 0 || !gguf_kv_array_int(kv, (uint64_t)layer, &v)) return 0;
        return v;
    }
    return gguf_kv_int(kv, &v) ? v : 0;
}

/* Heads of a "blk.N.attn_q.{weight,bias}" / "blk.N.attn_k.*" tensor stored permuted, or 0. */
static uint32_t permuted_heads(const gguf_file *g, const char *arch, const lineage_tensor_info *in)
{
    int layer, n = 0;
    char proj[8], part[8];
    if (sscanf(in->name, "blk.%d.attn_%1[qk].%7[a-z]%n", &layer, proj, part, &n) != 3 || in->name[n]) return 0;
    if (strcmp(part, "weight") && strcmp(part, "bias")) return 0;
    int64_t heads = head_count(g, arch, "head_count", layer);
    if (proj[0] == 'k') {
        int64_t kv = head_count(g, arch, "head_count_kv", layer);
        if (kv > 0) heads = kv;
    }
    uint64_t dim0 = in->ndim == 2 ? in->rows : in->ndim == 1 ? in->cols : 0;
    if (heads <= 0 || heads > UINT32_MAX || dim0 == 0 || dim0 % (2 * (uint64_t)heads)) return 0;
    return (uint32_t)heads;
}

lineage_status gguf_open_model(lineage_model *m, const char *file, lineage_error *err)
{
    m->source = MODEL_SOURCE_GGUF;
    mapped_file *files = realloc(m->files, (m->nfiles + 1) * sizeof *files);
    if (!files) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", file);
    m->files = files;
    mapped_file *f = &m->files[m->nfiles];
    lineage_status st = file_map(file, f, err);
    if (st) return st;
    size_t file_index = m->nfiles++;
    m->total_bytes += f->size;
    st = gguf_parse_memory(f->data, (size_t)f->size, file, &m->gguf, err);
    if (st) return st;
    const gguf_file *g = m->gguf;
    m->header_bytes += gguf_header_bytes(g);
    const char *arch = gguf_architecture(g);
    int permutes = arch_permutes_qk(arch);
    for (size_t i = 0; i < gguf_tensor_count(g); i++) {
        const gguf_tensor *gt = gguf_tensor_at(g, i);
        model_tensor *t = model_add_tensor(m);
        if (!t) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", file);
        lineage_tensor_info *in = &t->info;
        in->name = gt->name;
        in->dtype = gt->dtype;
        in->ndim = (int)gt->n_dims;
        in->numel = 1;
        in->rows = 1;
        for (uint32_t d = 0; d < gt->n_dims; d++) {
            in->shape[gt->n_dims - 1 - d] = gt->ne[d];
            in->numel *= gt->ne[d];   /* overflow ruled out by the parser */
            if (d) in->rows *= gt->ne[d];
        }
        in->cols = gt->ne[0];
        in->nbytes = gt->nbytes;
        t->file = file_index;
        t->offset = gt->offset;
        if (permutes) t->unpermute_heads = permuted_heads(g, arch, in);
    }
    return LINEAGE_OK;
}
