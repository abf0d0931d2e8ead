/* Hugging Face folders: config.json plus model.safetensors, or shards listed in
 * model.safetensors.index.json (weight_map), or config.json alone (architecture-only mode). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "format/model.h"
#include "format/safetensors.h"
#include "format/tokenizer.h"
#include "util/error.h"
#include "util/strbuf.h"

/* A shard name must stay inside the folder. */
static int shard_name_ok(const char *s)
{
    return *s && !strchr(s, '/') && !strchr(s, '\\') && strcmp(s, ".") && strcmp(s, "..");
}

/* Does the tensor live in the file called `shard` (a bare name in the folder)? */
static int tensor_in_shard(const lineage_model *m, size_t index, const char *shard)
{
    const char *p = m->files[m->tensors[index].file].path;
    const char *slash = strrchr(p, '/');
    return !strcmp(slash ? slash + 1 : p, shard);
}

lineage_status hf_index_parse(const char *text, size_t len, const char *index_path, arena *a, const json_value **wm_out,
                              const char ***shards_out, size_t *nshards_out, lineage_error *err)
{
    *wm_out = NULL;
    *shards_out = NULL;
    *nshards_out = 0;
    json_value *root;
    json_limits lim = {16, MODEL_MAX_INDEX_BYTES};
    lineage_status st = json_parse(text, len, &lim, a, &root, index_path, err);
    const json_value *wm = st ? NULL : json_get(root, "weight_map");
    if (!st && (!wm || wm->type != JSON_OBJECT))
        st = error_set(err, LINEAGE_E_FORMAT, "%s: no weight_map object", index_path);
    const char **shards = NULL;
    size_t nshards = 0;
    if (!st) {
        shards = malloc((wm->u.object.count + 1) * sizeof *shards);
        if (!shards) st = error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", index_path);
    }
    for (size_t i = 0; !st && i < wm->u.object.count; i++) {
        const json_value *v = wm->u.object.members[i].value;
        if (v->type != JSON_STRING || v->u.string.len != strlen(v->u.string.s) || !shard_name_ok(v->u.string.s))
            st = error_set(err, LINEAGE_E_FORMAT, "%s: weight_map entry for '%s' is not a file name in the folder",
                           index_path, wm->u.object.members[i].key);
        else shards[nshards++] = v->u.string.s;
    }
    if (!st && nshards == 0) st = error_set(err, LINEAGE_E_FORMAT, "%s: weight_map is empty", index_path);
    if (st) {
        free(shards);
        return st;
    }
    qsort(shards, nshards, sizeof *shards, str_ptr_cmp);
    size_t u = 0;
    for (size_t i = 0; i < nshards; i++)
        if (!u || strcmp(shards[u - 1], shards[i])) shards[u++] = shards[i];
    *wm_out = wm;
    *shards_out = shards;
    *nshards_out = u;
    return LINEAGE_OK;
}

uint64_t hf_index_total_size(const char *text, size_t len)
{
    arena a;
    arena_init(&a, 0);
    json_value *root;
    json_limits lim = {16, MODEL_MAX_INDEX_BYTES};
    int64_t total = 0;
    if (json_parse(text, len, &lim, &a, &root, "index", NULL) || !json_get_int(json_get(root, "metadata"), "total_size", &total) ||
        total < 0)
        total = 0;
    arena_free(&a);
    return (uint64_t)total;
}

lineage_status hf_index_load(lineage_model *m, const char *dir, const char *index_path, const char *text, size_t len,
                             lineage_error *err)
{
    m->header_bytes += len;
    arena scratch;
    arena_init(&scratch, 0);
    const json_value *wm;
    const char **shards;
    size_t nshards;
    lineage_status st = hf_index_parse(text, len, index_path, &scratch, &wm, &shards, &nshards, err);
    if (!st) {
        /* config + index with no shard at all is an architecture-only folder (configs are often
         * published that way); some shards present and others missing is damage */
        size_t present = 0;
        for (size_t i = 0; i < nshards; i++) {
            char *p = path_join(dir, shards[i]);
            present += p && path_is_file(p);
            free(p);
        }
        if (present == 0 && m->config) {
            m->source = MODEL_SOURCE_CONFIG_ONLY;
            m->index_without_shards = 1;
            free(shards);
            arena_free(&scratch);
            return LINEAGE_OK;
        }
        for (size_t i = 0; !st && i < nshards; i++) {
            char *p = path_join(dir, shards[i]);
            if (!p) { st = error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", index_path); break; }
            if (!path_is_file(p))
                st = error_set(err, LINEAGE_E_FORMAT, "%s: index points at missing shard '%s'", index_path, shards[i]);
            else st = safetensors_add_file(m, p, err);
            free(p);
        }
    }
    /* every tensor the index names must exist, in the shard it names */
    if (!st) st = model_index_names(m, err);
    for (size_t i = 0; !st && i < wm->u.object.count; i++) {
        const json_member *e = &wm->u.object.members[i];
        long idx = e->key_len == strlen(e->key) ? lineage_model_find_tensor(m, e->key) : -1;
        if (idx < 0 || !tensor_in_shard(m, (size_t)idx, e->value->u.string.s))
            st = error_set(err, LINEAGE_E_FORMAT, "%s: tensor '%s' is not in shard '%s'", index_path, e->key,
                           e->value->u.string.s);
    }
    free(shards);
    arena_free(&scratch);
    return st;
}

static lineage_status open_index(lineage_model *m, const char *dir, const char *index_path, lineage_error *err)
{
    char *text;
    size_t len;
    lineage_status st = file_read_all(index_path, MODEL_MAX_INDEX_BYTES, &text, &len, err);
    if (st) return st;
    st = hf_index_load(m, dir, index_path, text, len, err);
    free(text);
    return st;
}

lineage_status hf_folder_open_model(lineage_model *m, const char *dir, lineage_error *err)
{
    lineage_status st = model_load_config(m, dir, err);
    if (st) return st;
    m->source = MODEL_SOURCE_HF_FOLDER;
    char *index = path_join(dir, "model.safetensors.index.json");
    char *single = path_join(dir, "model.safetensors");
    if (!index || !single) {
        free(index);
        free(single);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    if (path_is_file(index)) st = open_index(m, dir, index, err);
    else if (path_is_file(single)) st = safetensors_add_file(m, single, err);
    else {
        /* other .safetensors files (e.g. consolidated.safetensors), in name order */
        DIR *d = opendir(dir);
        char *names[256];
        size_t n = 0;
        struct dirent *e;
        int nomem = 0;
        while (d && (e = readdir(d)) != NULL && n < 256)
            if (path_has_suffix(e->d_name, ".safetensors") && e->d_name[0] != '.') {
                if ((names[n] = strdup(e->d_name)) != NULL) n++;
                else nomem = 1;
            }
        if (d) closedir(d);
        if (nomem) st = error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", dir);
        qsort(names, n, sizeof *names, str_ptr_cmp);
        for (size_t i = 0; i < n; i++) {
            char *p = names[i] ? path_join(dir, names[i]) : NULL;
            if (!st) st = p ? safetensors_add_file(m, p, err) : error_set(err, LINEAGE_E_NOMEM, "out of memory");
            free(p);
            free(names[i]);
        }
        if (!st && n == 0) {
            /* a folder with only tokenizer files still serves compare --only tokenizer */
            if (m->config || tok_dir_has_tokenizer(dir)) m->source = MODEL_SOURCE_CONFIG_ONLY;
            else st = error_set(err, LINEAGE_E_FORMAT, "%s: folder has neither config.json nor safetensors weights", dir);
        }
    }
    free(index);
    free(single);
    return st;
}
