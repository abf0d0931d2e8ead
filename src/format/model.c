#include "format/model.h"

#include <stdlib.h>
#include <string.h>

#include "format/arch.h"
#include "format/dtype.h"
#include "format/roles.h"
#include "format/hf_remote.h"
#include "util/error.h"

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static uint64_t role_hash(lineage_component comp, const char *role, int layer, int expert)
{
    uint64_t h = hash_str(role);
    h = (h ^ (uint64_t)(unsigned)comp) * 1099511628211ull;
    h = (h ^ (uint64_t)(uint32_t)layer) * 1099511628211ull;
    return (h ^ (uint64_t)(uint32_t)expert) * 1099511628211ull;
}

static int role_key_equal(const lineage_tensor_info *t, lineage_component comp, const char *role, int layer, int expert)
{
    return t->component == comp && t->layer == layer && t->expert == expert && !strcmp(t->role, role);
}

/* Lookups by role are what analyses do per layer and expert: hash them instead of scanning. */
static lineage_status model_index_roles(lineage_model *m, lineage_error *err)
{
    size_t cap = 16;
    while (cap < m->ntensors * 2) cap *= 2;
    free(m->role_index);
    m->role_index_cap = 0;
    m->role_index = malloc(cap * sizeof *m->role_index);
    if (!m->role_index) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", m->path);
    for (size_t i = 0; i < cap; i++) m->role_index[i] = SIZE_MAX;
    for (size_t i = 0; i < m->ntensors; i++) {
        const lineage_tensor_info *t = &m->tensors[i].info;
        size_t h = (size_t)role_hash(t->component, t->role, t->layer, t->expert) & (cap - 1);
        while (m->role_index[h] != SIZE_MAX &&
               !role_key_equal(&m->tensors[m->role_index[h]].info, t->component, t->role, t->layer, t->expert))
            h = (h + 1) & (cap - 1);
        if (m->role_index[h] == SIZE_MAX) m->role_index[h] = i;
    }
    m->role_index_cap = cap;
    return LINEAGE_OK;
}

model_tensor *model_add_tensor(lineage_model *m)
{
    if (m->ntensors == m->tensors_cap) {
        size_t cap = m->tensors_cap ? m->tensors_cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof(model_tensor)) return NULL;
        model_tensor *t = realloc(m->tensors, cap * sizeof *t);
        if (!t) return NULL;
        m->tensors = t;
        m->tensors_cap = cap;
    }
    model_tensor *t = &m->tensors[m->ntensors++];
    memset(t, 0, sizeof *t);
    t->scale = -1;
    t->info.layer = -1;
    t->info.expert = -1;
    return t;
}

static int config_num_layers(const json_value *config)
{
    int64_t n;
    const json_value *text = json_get(config, "text_config");
    if (!(text && json_get_int(text, "num_hidden_layers", &n)) && !json_get_int(config, "num_hidden_layers", &n) &&
        !json_get_int(config, "n_layer", &n) && !json_get_int(config, "num_layers", &n))
        return -1;
    return n >= 0 && n <= 1000000 ? (int)n : -1;
}

lineage_status model_index_names(lineage_model *m, lineage_error *err)
{
    size_t cap = 16;
    while (cap < m->ntensors * 2) cap *= 2;
    free(m->name_index);
    m->name_index_cap = 0;
    m->name_index = malloc(cap * sizeof *m->name_index);
    if (!m->name_index) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", m->path);
    for (size_t i = 0; i < cap; i++) m->name_index[i] = SIZE_MAX;
    for (size_t i = 0; i < m->ntensors; i++) {
        size_t h = (size_t)hash_str(m->tensors[i].info.name) & (cap - 1);
        while (m->name_index[h] != SIZE_MAX) {
            if (!strcmp(m->tensors[m->name_index[h]].info.name, m->tensors[i].info.name)) {
                const char *where = m->nfiles ? m->files[m->tensors[i].file].path : m->path;
                free(m->name_index);
                m->name_index = NULL;
                return error_set(err, LINEAGE_E_FORMAT, "%s: tensor '%s' appears twice", where,
                                 m->tensors[i].info.name);
            }
            h = (h + 1) & (cap - 1);
        }
        m->name_index[h] = i;
    }
    m->name_index_cap = cap;
    return LINEAGE_OK;
}

/* quantization_config.weight_block_size [rows, cols], when config.json gives one. */
static int config_fp8_block(const json_value *config, uint64_t *br, uint64_t *bc)
{
    const json_value *b = json_get(json_get(config, "quantization_config"), "weight_block_size");
    if (json_count(b) != 2) return 0;
    const json_value *r = json_at(b, 0), *c = json_at(b, 1);
    if (r->type != JSON_NUMBER || c->type != JSON_NUMBER || !r->u.number.is_int || !c->u.number.is_int ||
        r->u.number.i <= 0 || c->u.number.i <= 0)
        return 0;
    *br = (uint64_t)r->u.number.i;
    *bc = (uint64_t)c->u.number.i;
    return 1;
}

static uint64_t ceil_div(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

/* FP8 block scales: X.weight (F8) + X.weight_scale_inv (one float per block). Blocks are the
 * configured weight_block_size, else 128x128 (DeepSeek-V3); edge blocks are partial. */
static lineage_status pair_fp8_scales(lineage_model *m, lineage_error *err)
{
    uint64_t cfg_br = 128, cfg_bc = 128;
    int configured = config_fp8_block(m->config, &cfg_br, &cfg_bc);
    for (size_t i = 0; i < m->ntensors; i++) {
        model_tensor *t = &m->tensors[i];
        if (t->info.dtype != LINEAGE_DTYPE_F8_E4M3 && t->info.dtype != LINEAGE_DTYPE_F8_E5M2) continue;
        char name[1100];
        if (snprintf(name, sizeof name, "%s_scale_inv", t->info.name) >= (int)sizeof name) continue;
        long s = lineage_model_find_tensor(m, name);
        if (s < 0) continue;
        model_tensor *sc = &m->tensors[s];
        const char *where = m->nfiles ? m->files[sc->file].path : m->path;
        if (sc->info.dtype != LINEAGE_DTYPE_F32 && sc->info.dtype != LINEAGE_DTYPE_BF16 &&
            sc->info.dtype != LINEAGE_DTYPE_F16)
            return error_set(err, LINEAGE_E_FORMAT, "%s: scale tensor '%s' has dtype %s, expected a float type",
                             where, name, lineage_dtype_name(sc->info.dtype));
        if (t->info.ndim != 2 || sc->info.ndim > 2 || sc->info.rows == 0 || sc->info.cols == 0)
            return error_set(err, LINEAGE_E_FORMAT, "%s: scale tensor '%s' does not fit a 2-D weight", where, name);
        uint64_t sr = sc->info.rows, scc = sc->info.cols, rows = t->info.rows, cols = t->info.cols;
        uint64_t br = cfg_br, bc = cfg_bc;
        if (!configured && (ceil_div(rows, br) != sr || ceil_div(cols, bc) != scc) && rows % sr == 0 &&
            cols % scc == 0 && rows && cols) {
            br = rows / sr;   /* no configured block size: an exact tiling is unambiguous */
            bc = cols / scc;
        }
        if (ceil_div(rows, br) != sr || ceil_div(cols, bc) != scc)
            return error_set(err, LINEAGE_E_FORMAT,
                             "%s: scale tensor '%s' [%llu, %llu] does not tile '%s' [%llu, %llu] in %llux%llu blocks",
                             where, name, (unsigned long long)sr, (unsigned long long)scc, t->info.name,
                             (unsigned long long)rows, (unsigned long long)cols, (unsigned long long)br,
                             (unsigned long long)bc);
        t->scale = s;
        t->block_rows = br;
        t->block_cols = bc;
        t->info.has_scale = 1;
    }
    return LINEAGE_OK;
}

lineage_status model_finish(lineage_model *m, lineage_error *err)
{
    int nl = config_num_layers(m->config);
    for (size_t i = 0; i < m->ntensors; i++) {
        tensor_role r;
        role_classify(m->tensors[i].info.name, nl, &r);
        m->tensors[i].info.role = r.role;
        m->tensors[i].info.layer = r.layer;
        m->tensors[i].info.expert = r.expert;
        m->tensors[i].info.component = r.component;
    }
    lineage_status st = model_index_names(m, err);
    if (!st) st = model_index_roles(m, err);
    return st ? st : pair_fp8_scales(m, err);
}

lineage_status model_load_config_file(lineage_model *m, const char *path, lineage_error *err)
{
    char *text;
    size_t len;
    lineage_status st = file_read_all(path, MODEL_MAX_CONFIG_BYTES, &text, &len, err);
    if (st) return st;
    m->header_bytes += len;
    st = json_parse(text, len, NULL, &m->arena, &m->config, path, err);
    free(text);
    if (st == LINEAGE_OK && m->config->type != JSON_OBJECT)
        st = error_set(err, LINEAGE_E_FORMAT, "%s: top-level value is not an object", path);
    if (st == LINEAGE_OK) {
        /* every config number is checked once, here; analyses read the same fields unchecked */
        arch_info checked;
        arch_init(&checked);
        st = arch_from_config(m->config, arch_text_config(m->config), &checked, path, err);
    }
    if (st) m->config = NULL;
    return st;
}

lineage_status model_load_config(lineage_model *m, const char *dir, lineage_error *err)
{
    char *path = path_join(dir, "config.json");
    if (!path) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", dir);
    lineage_status st = path_is_file(path) ? model_load_config_file(m, path, err) : LINEAGE_OK;
    free(path);
    return st;
}

#define MODEL_EXPECTED "pass a model folder, a .safetensors or .gguf file, a config.json or a tokenizer.json"

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Tokenizer files that a folder's tokenizer lookup finds by these names. */
static int is_tokenizer_name(const char *name)
{
    static const char *const names[] = {"tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer.tiktoken", NULL};
    for (int i = 0; names[i]; i++)
        if (!strcmp(name, names[i])) return 1;
    return 0;
}

/* A JSON file given as the model: a config (architecture-only source) or a tokenizer (tokenizer-only). */
static lineage_status open_json_file(lineage_model *m, const char *path, uint64_t size, lineage_error *err)
{
    const char *name = base_name(path);
    m->source = MODEL_SOURCE_CONFIG_ONLY;
    if (size > MODEL_MAX_CONFIG_BYTES && is_tokenizer_name(name)) return LINEAGE_OK;   /* a large vocabulary */
    arena scratch;
    arena_init(&scratch, 0);
    char *text = NULL;
    size_t len;
    json_value *root = NULL;
    lineage_status st = file_read_all(path, MODEL_MAX_CONFIG_BYTES, &text, &len, err);
    json_limits lim = {64, MODEL_MAX_CONFIG_BYTES};
    if (!st) st = json_parse(text, len, &lim, &scratch, &root, path, err);
    free(text);
    int config = 0, tokenizer = 0;
    if (!st && root->type == JSON_OBJECT) {
        static const char *const config_keys[] = {"model_type", "architectures", "hidden_size", "num_hidden_layers",
                                                  "text_config", "n_embd", NULL};
        for (int i = 0; config_keys[i]; i++) config |= json_get(root, config_keys[i]) != NULL;
        const json_value *model = json_get(root, "model");
        tokenizer = (model && model->type == JSON_OBJECT) || json_get(root, "added_tokens") != NULL;
    }
    arena_free(&scratch);
    if (st) return st;
    if (config) return model_load_config_file(m, path, err);
    if (tokenizer && is_tokenizer_name(name)) return LINEAGE_OK;   /* found in m->dir by its name */
    if (tokenizer)
        return error_set(err, LINEAGE_E_USAGE,
                         "%s: a tokenizer file under another name; pass the folder holding it as tokenizer.json, "
                         "or use `lineage tokenize`", path);
    return error_set(err, LINEAGE_E_FORMAT, "%s: a JSON file that is neither a config.json nor a tokenizer.json; "
                     MODEL_EXPECTED, path);
}

/* A file given directly is recognised by its content (GGUF magic, safetensors header, JSON), its
 * name only deciding which parser explains a damaged file. */
static lineage_status open_file_by_content(lineage_model *m, const char *path, lineage_error *err)
{
    unsigned char head[64];
    size_t n = 0;
    uint64_t size = 0;
    lineage_status st = file_read_head(path, head, sizeof head, &n, &size, err);
    if (st) return st;
    uint64_t hlen = 0;
    for (int i = 7; n >= 8 && i >= 0; i--) hlen = hlen << 8 | head[i];
    int gguf = n >= 4 && !memcmp(head, "GGUF", 4);
    int safetensors = n >= 9 && hlen <= size - 8 && head[8] == '{';
    if (gguf || (!safetensors && path_has_suffix(path, ".gguf"))) return gguf_open_model(m, path, err);
    if (safetensors || path_has_suffix(path, ".safetensors")) return safetensors_open_model(m, path, err);
    size_t i = 0;
    while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r')) i++;
    if (i < n && head[i] == '{') return open_json_file(m, path, size, err);
    if (is_tokenizer_name(base_name(path))) {
        m->source = MODEL_SOURCE_CONFIG_ONLY;   /* tokenizer.model / .tiktoken: tokenizer-only */
        return LINEAGE_OK;
    }
    if (size == 0) return error_set(err, LINEAGE_E_FORMAT, "%s: empty file; " MODEL_EXPECTED, path);
    char shown[16] = "";
    for (size_t k = 0; k < 4 && k < n; k++) snprintf(shown + strlen(shown), sizeof shown - strlen(shown), " %02x", head[k]);
    return error_set(err, LINEAGE_E_FORMAT, "%s: not a model file (it starts with bytes%s); " MODEL_EXPECTED, path,
                     shown);
}

lineage_status lineage_model_open(const char *path, lineage_model **out, lineage_error *err)
{
    *out = NULL;
    if (!path || !*path) return error_set(err, LINEAGE_E_USAGE, "empty model path");
    lineage_model *m = calloc(1, sizeof *m);
    if (!m) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    arena_init(&m->arena, 0);
    m->path = strdup(path);
    lineage_status st;
    if (!m->path) {
        st = error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    } else if (hub_is_remote_path(path)) {
        st = hf_remote_open_model(m, path, err);
    } else if (path_is_dir(path)) {
        m->dir = strdup(path);
        st = m->dir ? hf_folder_open_model(m, path, err) : error_set(err, LINEAGE_E_NOMEM, "out of memory");
    } else if (path_exists(path)) {
        m->dir = path_dirname(path);
        st = m->dir ? open_file_by_content(m, path, err) : error_set(err, LINEAGE_E_NOMEM, "out of memory");
    } else {
        st = error_set(err, LINEAGE_E_IO, "%s: no such file or folder", path);
    }
    if (st == LINEAGE_OK) st = model_finish(m, err);
    if (st != LINEAGE_OK) {
        lineage_model_close(m);
        return st;
    }
    *out = m;
    return LINEAGE_OK;
}

void lineage_model_close(lineage_model *m)
{
    if (!m) return;
    hf_remote_close_model(m);
    for (size_t i = 0; i < m->nfiles; i++) file_unmap(&m->files[i]);
    free(m->files);
    free(m->tensors);
    free(m->name_index);
    free(m->role_index);
    gguf_file_free(m->gguf);
    arena_free(&m->arena);
    free(m->path);
    free(m->dir);
    free(m);
}

const char *lineage_model_path(const lineage_model *m) { return m->path; }
size_t lineage_model_tensor_count(const lineage_model *m) { return m->ntensors; }

const lineage_tensor_info *lineage_model_tensor(const lineage_model *m, size_t index)
{
    return index < m->ntensors ? &m->tensors[index].info : NULL;
}

long lineage_model_find_tensor(const lineage_model *m, const char *name)
{
    if (!m->name_index_cap) {
        for (size_t i = 0; i < m->ntensors; i++)
            if (!strcmp(m->tensors[i].info.name, name)) return (long)i;
        return -1;
    }
    size_t h = (size_t)hash_str(name) & (m->name_index_cap - 1);
    while (m->name_index[h] != SIZE_MAX) {
        if (!strcmp(m->tensors[m->name_index[h]].info.name, name)) return (long)m->name_index[h];
        h = (h + 1) & (m->name_index_cap - 1);
    }
    return -1;
}

long lineage_model_find_role(const lineage_model *m, lineage_component comp, const char *role, int layer,
                             int expert)
{
    if (!m->role_index_cap) {
        for (size_t i = 0; i < m->ntensors; i++)
            if (role_key_equal(&m->tensors[i].info, comp, role, layer, expert)) return (long)i;
        return -1;
    }
    size_t h = (size_t)role_hash(comp, role, layer, expert) & (m->role_index_cap - 1);
    while (m->role_index[h] != SIZE_MAX) {
        if (role_key_equal(&m->tensors[m->role_index[h]].info, comp, role, layer, expert)) return (long)m->role_index[h];
        h = (h + 1) & (m->role_index_cap - 1);
    }
    return -1;
}

lineage_status lineage_tensor_raw(const lineage_model *m, size_t index, const void **bytes, uint64_t *nbytes,
                                  lineage_error *err)
{
    if (index >= m->ntensors) return error_set(err, LINEAGE_E_USAGE, "%s: tensor index out of range", m->path);
    const model_tensor *t = &m->tensors[index];
    const mapped_file *f = &m->files[t->file];
    *bytes = f->data ? f->data + t->offset : NULL;
    *nbytes = t->info.nbytes;
    return LINEAGE_OK;
}

/* Multiplies FP8 values by their block scale (one scale per block_rows x block_cols block). */
static lineage_status apply_scale(const lineage_model *m, const model_tensor *t, uint64_t row0, uint64_t nrows,
                                  float *out, lineage_error *err)
{
    const model_tensor *sc = &m->tensors[t->scale];
    uint64_t scols = sc->info.cols;
    float srow[4096];
    if (scols > sizeof srow / sizeof srow[0])
        return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: scale tensor '%s' is too wide", m->path, sc->info.name);
    uint64_t cached = UINT64_MAX;
    for (uint64_t r = 0; r < nrows; r++) {
        uint64_t br = (row0 + r) / t->block_rows;
        if (br != cached) {
            lineage_status st = lineage_tensor_read_rows_f32(m, (size_t)t->scale, br, 1, srow, err);
            if (st) return st;
            cached = br;
        }
        float *row = out + r * t->info.cols;
        for (uint64_t c = 0; c < t->info.cols; c++) row[c] *= srow[c / t->block_cols];
    }
    return LINEAGE_OK;
}

/* Stored row of Hugging Face row r: llama.cpp keeps each head's rotary halves interleaved
 * (head rows reshaped (2, hd/2) -> (hd/2, 2)). */
static uint64_t permuted_row(uint64_t r, uint64_t rows, uint32_t heads)
{
    uint64_t hd = rows / heads, half = hd / 2, w = r % hd;
    return r - w + (w % half) * 2 + w / half;
}

static lineage_status read_rows_stored(const lineage_model *m, size_t index, uint64_t row0, uint64_t nrows,
                                       float *out, lineage_error *err);

lineage_status model_check_rows(const lineage_model *m, size_t index, uint64_t row0, uint64_t nrows,
                                lineage_error *err)
{
    if (index >= m->ntensors) return error_set(err, LINEAGE_E_USAGE, "%s: tensor index out of range", m->path);
    const lineage_tensor_info *in = &m->tensors[index].info;
    if (row0 > in->rows || nrows > in->rows - row0)
        return error_set(err, LINEAGE_E_USAGE, "%s: rows %llu..%llu out of range for '%s'", m->path,
                         (unsigned long long)row0, (unsigned long long)(row0 + nrows), in->name);
    return LINEAGE_OK;
}

lineage_status lineage_tensor_read_rows_f32(const lineage_model *m, size_t index, uint64_t row0, uint64_t nrows,
                                            float *out, lineage_error *err)
{
    lineage_status cst = model_check_rows(m, index, row0, nrows, err);
    if (cst) return cst;
    const model_tensor *t = &m->tensors[index];
    const lineage_tensor_info *in = &t->info;
    if (!t->unpermute_heads || nrows == 0) return read_rows_stored(m, index, row0, nrows, out, err);
    if (in->ndim == 1) {   /* a bias: the permutation runs along its single row */
        float *stored = malloc(in->cols * sizeof *stored);
        if (!stored) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", m->path);
        lineage_status st = read_rows_stored(m, index, 0, 1, stored, err);
        for (uint64_t c = 0; !st && c < in->cols; c++) out[c] = stored[permuted_row(c, in->cols, t->unpermute_heads)];
        free(stored);
        return st;
    }
    for (uint64_t r = 0; r < nrows; r++) {
        lineage_status st = read_rows_stored(m, index, permuted_row(row0 + r, in->rows, t->unpermute_heads), 1,
                                             out + r * in->cols, err);
        if (st) return st;
    }
    return LINEAGE_OK;
}

static lineage_status read_rows_stored(const lineage_model *m, size_t index, uint64_t row0, uint64_t nrows,
                                       float *out, lineage_error *err)
{
    const model_tensor *t = &m->tensors[index];
    const lineage_tensor_info *in = &t->info;
    if (!dtype_is_float(in->dtype) && in->dtype != LINEAGE_DTYPE_I8 && in->dtype != LINEAGE_DTYPE_U8 &&
        in->dtype != LINEAGE_DTYPE_I16 && in->dtype != LINEAGE_DTYPE_I32 && in->dtype != LINEAGE_DTYPE_I64 &&
        in->dtype != LINEAGE_DTYPE_BOOL)
        return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: tensor '%s' has dtype %s, which has no f32 view",
                         m->path, in->name, lineage_dtype_name(in->dtype));
    const mapped_file *f = &m->files[t->file];
    if (nrows == 0) return LINEAGE_OK;
    if (m->prefetch) {
        lineage_status pst = m->prefetch(m, index, row0, nrows, err);
        if (pst) return pst;
    }
    size_t be = dtype_block_elems(in->dtype), bb = dtype_block_bytes(in->dtype);
    uint64_t row_bytes = in->cols / be * bb;
    const unsigned char *src = f->data + t->offset + row0 * row_bytes;
    if (dtype_is_quantized(in->dtype)) {
        if (!dtype_dequantize_blocks(in->dtype, src, (size_t)(nrows * (in->cols / be)), out))
            return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: cannot dequantize %s", m->path,
                             lineage_dtype_name(in->dtype));
    } else {
        dtype_convert_f32(in->dtype, src, (size_t)(nrows * in->cols), out);
    }
    if (t->scale >= 0) return apply_scale(m, t, row0, nrows, out, err);
    return LINEAGE_OK;
}
