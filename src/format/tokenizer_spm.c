/* SentencePiece tokenizer.model: a protobuf ModelProto read with a minimal wire-format reader
 * (varints, length-delimited fields, fixed32 floats); unknown fields are skipped. */
#include <string.h>

#include "format/reader.h"
#include "format/tokenizer.h"
#include "util/error.h"

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

static uint64_t varint(reader *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b = reader_u8(r);
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) return v;
    }
    r->failed = 1;
    return 0;
}

/* Reads one field header and its value: varint in *v, LEN payload in *sub, fixed32 in *v. */
static int next_field(reader *r, uint32_t *field, int *wire, uint64_t *v, reader *sub)
{
    uint64_t key = varint(r);
    if (r->failed) return 0;
    *field = (uint32_t)(key >> 3);
    *wire = (int)(key & 7);
    switch (*wire) {
    case WIRE_VARINT: *v = varint(r); break;
    case WIRE_I64: *v = reader_u64(r); break;
    case WIRE_I32: *v = reader_u32(r); break;
    case WIRE_LEN: {
        uint64_t n = varint(r);
        if (r->failed || n > reader_left(r)) { r->failed = 1; return 0; }
        *sub = reader_make(r->p, (size_t)n);
        reader_skip(r, n);
        break;
    }
    default: r->failed = 1; return 0;
    }
    return !r->failed;
}

static lineage_status read_piece(lineage_tokenizer *t, reader *r, uint32_t id, const char *what, lineage_error *err)
{
    const char *s = NULL;
    size_t len = 0;
    float score = 0;
    uint64_t type = TOK_NORMAL, v;
    uint32_t f;
    int w;
    reader sub;
    while (reader_left(r)) {
        if (!next_field(r, &f, &w, &v, &sub)) return error_set(err, LINEAGE_E_FORMAT, "%s: truncated piece %u", what, id);
        if (f == 1 && w == WIRE_LEN) s = (const char *)sub.p, len = reader_left(&sub);
        else if (f == 2 && w == WIRE_I32) { uint32_t u = (uint32_t)v; memcpy(&score, &u, 4); }
        else if (f == 3 && w == WIRE_VARINT) type = v;
    }
    if (!s) return error_set(err, LINEAGE_E_FORMAT, "%s: piece %u has no text", what, id);
    if (type < 1 || type > 6) return error_set(err, LINEAGE_E_FORMAT, "%s: piece %u has unknown type %llu", what, id,
                                               (unsigned long long)type);
    if (!utf8_valid(s, len)) return error_set(err, LINEAGE_E_FORMAT, "%s: piece %u is not UTF-8", what, id);
    return tok_set(t, id, s, len, score, (tok_type)type, what, err);
}

lineage_status tok_load_sentencepiece(lineage_tokenizer *t, const void *data, size_t len, const char *what,
                                      lineage_error *err)
{
    t->surface = TOK_SURFACE_METASPACE;
    t->model = TOK_MODEL_UNIGRAM;
    t->spm_whitespace = 1;
    t->add_dummy_prefix = 1;
    t->remove_extra_spaces = 1;
    t->fuse_unk = 1;   /* SentencePiece emits one unknown piece for a run of unknown characters */
    tok_allow_ids(t, len);
    reader r = reader_make(data, len), sub;
    uint32_t f, id = 0;
    int w;
    uint64_t v;
    while (reader_left(&r)) {
        if (!next_field(&r, &f, &w, &v, &sub)) return error_set(err, LINEAGE_E_FORMAT, "%s: truncated protobuf", what);
        if (f == 1 && w == WIRE_LEN) {
            if (id >= (1u << 24)) return error_set(err, LINEAGE_E_FORMAT, "%s: too many pieces", what);
            lineage_status st = read_piece(t, &sub, id++, what, err);
            if (st) return st;
        } else if (f == 2 && w == WIRE_LEN) {   /* TrainerSpec */
            while (reader_left(&sub)) {
                reader s2;
                if (!next_field(&sub, &f, &w, &v, &s2))
                    return error_set(err, LINEAGE_E_FORMAT, "%s: truncated trainer_spec", what);
                if (f == 3 && w == WIRE_VARINT) t->model = v == 2 ? TOK_MODEL_BPE : TOK_MODEL_UNIGRAM;
                else if (f == 35 && w == WIRE_VARINT) t->byte_fallback = v != 0;
            }
        } else if (f == 3 && w == WIRE_LEN) {   /* NormalizerSpec */
            while (reader_left(&sub)) {
                reader s2;
                if (!next_field(&sub, &f, &w, &v, &s2))
                    return error_set(err, LINEAGE_E_FORMAT, "%s: truncated normalizer_spec", what);
                if (f == 1 && w == WIRE_LEN) {
                    char *name = arena_strndup(&t->arena, (const char *)s2.p, reader_left(&s2));
                    if (!name) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
                    t->normalizer_desc = name;
                } else if (f == 2 && w == WIRE_LEN) {
                    lineage_status st = tok_charsmap_load(t, s2.p, reader_left(&s2), &t->charsmap, what, err);
                    if (st) return st;
                } else if (f == 3 && w == WIRE_VARINT) t->add_dummy_prefix = v != 0;
                else if (f == 4 && w == WIRE_VARINT) t->remove_extra_spaces = v != 0;
            }
        }
    }
    if (id == 0) return error_set(err, LINEAGE_E_FORMAT, "%s: no pieces", what);
    for (uint32_t i = 0; i < id; i++) {
        if (t->tok[i].type == TOK_UNKNOWN && t->unk_id < 0) t->unk_id = i;
        if (t->tok[i].type == TOK_USER) t->tok[i].added = 1;
    }
    return LINEAGE_OK;
}
