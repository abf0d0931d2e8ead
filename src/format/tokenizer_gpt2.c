/* GPT-2 style files: vocab.json (byte-level token -> id) and merges.txt ("a b" per line). */
#include <stdlib.h>
#include <string.h>

#include "format/tokenizer.h"
#include "util/error.h"

lineage_status tok_load_gpt2_files(lineage_tokenizer *t, const char *vocab, size_t vocab_len, const char *merges,
                                   size_t merges_len, const char *what, lineage_error *err)
{
    t->model = TOK_MODEL_BPE;
    t->surface = TOK_SURFACE_BYTELEVEL;
    tok_allow_ids(t, vocab_len);
    json_limits lim = {8, 256u << 20};
    json_value *root;
    lineage_status st = json_parse(vocab, vocab_len, &lim, &t->arena, &root, what, err);
    if (st) return st;
    if (root->type != JSON_OBJECT) return error_set(err, LINEAGE_E_FORMAT, "%s: not a token -> id object", what);
    for (size_t i = 0; i < root->u.object.count; i++) {
        const json_member *m = &root->u.object.members[i];
        if (m->value->type != JSON_NUMBER || !m->value->u.number.is_int || m->value->u.number.i < 0 ||
            m->value->u.number.i >= (1 << 24))
            return error_set(err, LINEAGE_E_FORMAT, "%s: id of '%.40s' is not an integer in range", what, m->key);
        st = tok_set(t, (uint32_t)m->value->u.number.i, m->key, m->key_len, 0, TOK_NORMAL, what, err);
        if (st) return st;
    }
    size_t lines = 1;
    for (size_t i = 0; i < merges_len; i++) lines += merges[i] == '\n';
    st = tok_merges_reserve(t, lines, what, err);
    if (st) return st;
    size_t line = 0;
    for (size_t i = 0; i < merges_len;) {
        const char *nl = memchr(merges + i, '\n', merges_len - i);
        size_t end = nl ? (size_t)(nl - merges) : merges_len, e = end;
        if (e > i && merges[e - 1] == '\r') e--;
        line++;
        if (e > i && !(line == 1 && merges[i] == '#')) {
            const char *sp = memchr(merges + i, ' ', e - i);
            if (!sp) return error_set(err, LINEAGE_E_FORMAT, "%s: merges.txt line %zu is not 'a b'", what, line);
            st = tok_add_merge(t, merges + i, (size_t)(sp - (merges + i)), sp + 1, (size_t)(merges + e - sp - 1),
                               line, "merges.txt", err);
            if (st) return st;
        }
        i = end + 1;
    }
    tok_step *s = tok_push_step(t, 1, TOK_STEP_BYTELEVEL);
    if (!s) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    s->byte_level.use_regex = 1;
    return LINEAGE_OK;
}
