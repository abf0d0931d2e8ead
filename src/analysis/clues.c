/* Provenance clues from metadata: model-card front matter, config fields, safetensors and GGUF
 * metadata, and copyright lines in shipped code. All trivially editable: each is reported as a
 * hypothesis to check, never as proof. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/clues.h"
#include "format/gguf.h"
#include "util/error.h"
#include "util/strbuf.h"

#define CLUE_MAX_FILE_BYTES (256u << 10)   /* bounded read of README / code files */
#define CLUE_MAX_CODE_FILES 32
#define CLUE_MAX_LINES_PER_FILE 12
#define CLUE_MAX_TEXT 240

typedef struct clue_sink {
    arena *ar;
    json_value *list;
    int failed;
} clue_sink;

static void add_clue(clue_sink *s, const char *kind, const char *source, long line, const char *value,
                     const char *hypothesis)
{
    json_value *c = json_new_object(s->ar);
    char v[CLUE_MAX_TEXT + 1];
    snprintf(v, sizeof v, "%s", value);
    /* the value came from a file: keep it valid UTF-8 by cutting at the last complete character */
    size_t n = strlen(v);
    while (n > 0 && !utf8_valid(v, n)) v[--n] = 0;
    if (!c || !json_set_str(s->ar, c, "kind", kind) || !json_set_str(s->ar, c, "source", source) ||
        (line > 0 && !json_set_int(s->ar, c, "line", line)) || !json_set_str(s->ar, c, "value", v) ||
        !json_set_str(s->ar, c, "status", "hypothesis") || !json_set_str(s->ar, c, "meaning", hypothesis) ||
        !json_push(s->ar, s->list, c))
        s->failed = 1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = 0;
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        s[n - 1] = 0;
        s++;
    }
    return s;
}

static void front_matter_value(clue_sink *s, const char *key, const char *value, long line)
{
    if (!*value) return;
    if (!strcmp(key, "base_model"))
        add_clue(s, "card_base_model", "README.md", line, value,
                 "the model card names this as the base model: the publisher's claim (the Hugging Face model tree is built "
                 "from it), editable and often omitted");
    else if (!strcmp(key, "base_model_relation"))
        add_clue(s, "card_base_model_relation", "README.md", line, value, "the publisher's stated relation to the base model");
    else if (!strcmp(key, "license") || !strcmp(key, "license_name") || !strcmp(key, "license_link"))
        add_clue(s, "card_license", "README.md", line, value,
                 "declared licence: a custom licence shared with another model, or one requiring attribution, hints at "
                 "derivation; a standard licence says little");
}

/* README.md YAML front matter: top-level "key: value", "key: [a, b]" and "key:" followed by "- item" lines. */
static void readme_clues(clue_sink *s, const char *dir)
{
    char *path = path_join(dir, "README.md");
    char *text = NULL;
    size_t len = 0;
    lineage_error err;
    if (!path || !path_is_file(path) || file_read_all(path, CLUE_MAX_FILE_BYTES, &text, &len, &err)) {
        free(path);
        return;
    }
    free(path);
    if (len < 4 || strncmp(text, "---", 3)) { free(text); return; }
    char *p = text, *end = text + len;
    char key[64] = "";
    long line = 0;
    int first = 1;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl) *nl = 0;
        line++;
        char *l = p;
        p = nl ? nl + 1 : end;
        if (first) { first = 0; continue; }
        if (!strncmp(l, "---", 3)) break;
        if (l[0] != ' ' && l[0] != '\t' && l[0] != '-') {
            char *colon = strchr(l, ':');
            if (!colon) { key[0] = 0; continue; }
            *colon = 0;
            snprintf(key, sizeof key, "%s", trim(l));
            char *v = trim(colon + 1);
            if (*v == '[') {
                /* inline list */
                v++;
                char *close = strchr(v, ']');
                if (close) *close = 0;
                for (char *save = NULL, *tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) front_matter_value(s, key, trim(tok), line);
            } else {
                front_matter_value(s, key, v, line);
            }
        } else {
            char *item = trim(l);
            if (*item == '-' && key[0]) front_matter_value(s, key, trim(item + 1), line);
        }
    }
    free(text);
}

static void config_clues(clue_sink *s, const json_value *cfg)
{
    if (!cfg) return;
    const char *name = json_get_string(cfg, "_name_or_path");
    if (name && *name)
        add_clue(s, "config_name_or_path", "config.json", 0, name,
                 "the path or repository the config was saved from; it often leaks the parent checkpoint or a local build path");
    const json_value *am = json_get(cfg, "auto_map");
    for (size_t i = 0; am && am->type == JSON_OBJECT && i < am->u.object.count; i++) {
        const json_value *v = am->u.object.members[i].value;
        const json_value *item = v->type == JSON_ARRAY ? json_at(v, 0) : v;
        if (!item || item->type != JSON_STRING) continue;
        char buf[CLUE_MAX_TEXT];
        snprintf(buf, sizeof buf, "%s: %s", am->u.object.members[i].key, item->u.string.s);
        add_clue(s, "config_auto_map", "config.json", 0, buf,
                 strstr(item->u.string.s, "--") ? "custom code loaded from another repository (\"repo--module.Class\"): "
                                                  "shared code, which is not shared weights"
                                                : "custom modelling code module: a module named after another family "
                                                  "indicates code reuse, not weight reuse");
    }
    const json_value *text = arch_text_config(cfg);
    if (text != cfg) config_clues(s, text);
}

static void st_metadata_clues(clue_sink *s, const json_value *meta)
{
    for (size_t i = 0; meta && meta->type == JSON_OBJECT && i < meta->u.object.count; i++) {
        const json_member *mb = &meta->u.object.members[i];
        if (mb->value->type != JSON_STRING) continue;
        if (!strcmp(mb->key, "format") && (!strcmp(mb->value->u.string.s, "pt") || !strcmp(mb->value->u.string.s, "np") ||
                                           !strcmp(mb->value->u.string.s, "mlx")))
            continue;
        char buf[CLUE_MAX_TEXT];
        snprintf(buf, sizeof buf, "%s=%s", mb->key, mb->value->u.string.s);
        add_clue(s, "safetensors_metadata", "safetensors __metadata__", 0, buf,
                 "free-form metadata written by the exporting tool; may name the source model or the converter");
    }
}

static void gguf_clues(clue_sink *s, const gguf_file *g)
{
    if (!g) return;
    static const char *const keys[][2] = {
        {"general.name", "the name the converter gave the model"},
        {"general.organization", "organization stated in the GGUF metadata"},
        {"general.basename", "base name stated in the GGUF metadata"},
        {"general.finetune", "fine-tune label stated in the GGUF metadata"},
        {"general.license", "licence stated in the GGUF metadata"},
        {"general.source.url", "where the converter says the weights came from"},
        {"general.source.huggingface.repository", "the Hugging Face repository the GGUF was converted from"},
        {"general.source.repo_url", "where the converter says the weights came from"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = gguf_get_string(g, keys[i][0]);
        if (v && *v) {
            char buf[CLUE_MAX_TEXT];
            snprintf(buf, sizeof buf, "%s=%s", keys[i][0], v);
            add_clue(s, "gguf_general", "GGUF metadata", 0, buf, keys[i][1]);
        }
    }
    int64_t n = 0;
    if (!gguf_get_int(g, "general.base_model.count", &n)) return;
    for (int64_t i = 0; i < n && i < 16; i++) {
        static const char *const fields[] = {"name", "organization", "repo_url", "version"};
        char buf[CLUE_MAX_TEXT];
        size_t off = 0;
        for (size_t f = 0; f < 4; f++) {
            char key[96];
            snprintf(key, sizeof key, "general.base_model.%lld.%s", (long long)i, fields[f]);
            const char *v = gguf_get_string(g, key);
            if (v && *v && off < sizeof buf)
                off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s=%s", off ? ", " : "", fields[f], v);
        }
        if (off) add_clue(s, "gguf_base_model", "GGUF metadata", 0, buf,
                          "the converter's record of the base model (general.base_model.*): a claim, not proof");
    }
}

static int is_code_or_licence(const char *name)
{
    size_t n = strlen(name);
    if (name[0] == '.') return 0;
    if (n > 3 && !strcmp(name + n - 3, ".py")) return 1;
    return !strncmp(name, "LICENSE", 7) || !strncmp(name, "LICENCE", 7) || !strncmp(name, "NOTICE", 6);
}

/* Lines in shipped code and licence files that name a copyright holder. */
static void code_clues(clue_sink *s, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    char *names[CLUE_MAX_CODE_FILES];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < CLUE_MAX_CODE_FILES)
        if (is_code_or_licence(e->d_name) && (names[n] = strdup(e->d_name)) != NULL) n++;
    closedir(d);
    qsort(names, n, sizeof *names, str_ptr_cmp);
    for (size_t i = 0; i < n; i++) {
        char *path = path_join(dir, names[i]);
        lineage_error err;
        if (path && path_is_file(path)) {
            /* bounded read: only the head of a large file is scanned */
            char *text = malloc(CLUE_MAX_FILE_BYTES + 1);
            size_t len = 0;
            uint64_t size;
            if (text && file_read_head(path, text, CLUE_MAX_FILE_BYTES, &len, &size, NULL)) len = 0;
            if (text) {
                text[len] = 0;
                long line = 0;
                int found = 0;
                for (char *p = text; p && *p && found < CLUE_MAX_LINES_PER_FILE;) {
                    char *nl = strchr(p, '\n');
                    if (nl) *nl = 0;
                    line++;
                    char lower[160];
                    size_t k = 0;
                    for (; p[k] && k + 1 < sizeof lower; k++) lower[k] = (char)tolower((unsigned char)p[k]);
                    lower[k] = 0;
                    if (strstr(lower, "copyright") && !strstr(lower, "copyright notice") && !strstr(lower, "copyright law")) {
                        add_clue(s, "code_copyright", names[i], line, trim(p),
                                 "a copyright notice in shipped code or licence text: it shows whose code was reused "
                                 "(e.g. another lab's modelling file), which is code reuse, not weight reuse");
                        found++;
                    }
                    p = nl ? nl + 1 : NULL;
                }
                free(text);
            }
        }
        (void)err;
        free(path);
        free(names[i]);
    }
}

lineage_status clues_collect(const lineage_model *m, arena *ar, json_value *list, lineage_error *err)
{
    clue_sink s = {ar, list, 0};
    int folder = m->source == MODEL_SOURCE_HF_FOLDER || m->source == MODEL_SOURCE_CONFIG_ONLY;
    if (folder && m->dir) readme_clues(&s, m->dir);
    config_clues(&s, m->config);
    st_metadata_clues(&s, m->st_metadata);
    gguf_clues(&s, m->gguf);
    if (folder && m->dir) code_clues(&s, m->dir);
    return s.failed ? error_set(err, LINEAGE_E_NOMEM, "out of memory while collecting clues") : LINEAGE_OK;
}
