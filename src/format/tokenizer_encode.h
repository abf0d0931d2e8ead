/* Internals shared by the encoder's files: piece lists, id vectors, the lazily built encoder state. */
#ifndef LINEAGE_FORMAT_TOKENIZER_ENCODE_H
#define LINEAGE_FORMAT_TOKENIZER_ENCODE_H
#include "format/tokenizer.h"
#include "util/strbuf.h"

typedef struct tok_ids { uint32_t *v; size_t n, cap; } tok_ids;
int tok_ids_push(tok_ids *x, uint32_t id);

/* Pieces of text after pre-tokenization: byte ranges into text. */
typedef struct tok_pieces {
    strbuf text;
    size_t (*span)[2];
    size_t n, cap;
} tok_pieces;
void tok_pieces_init(tok_pieces *p);
void tok_pieces_free(tok_pieces *p);
void tok_pieces_clear(tok_pieces *p);
/* Appends s[0..n) as a new piece (copied); returns 0 on OOM. */
int tok_pieces_add(tok_pieces *p, const char *s, size_t n);


struct tok_encoder {
    uint32_t *added;            /* added-token ids, grouped by first byte, longest first */
    uint32_t added_start[257];
    size_t n_added;
    tok_pair_index pairs;       /* BPE merges: (left, right) -> rank and merged id */
    strbuf concat;              /* scratch for looking up a merged token's surface form */
    size_t max_piece_bytes;     /* Unigram / WordPiece lookups */
    float min_score;
    uint32_t byte_ids[256];     /* <0xNN> pieces or single-byte tokens; UINT32_MAX when absent */
    void *match_data;           /* pcre2_match_data */
    tok_map cache;              /* piece -> offset into cache_ids (stored as id) */
    arena cache_arena;
    tok_ids cache_ids;
    tok_pieces scratch[2];
    strbuf norm;
    int bert_lowercase, bert_strip_accents;
};

/* Byte fallback applies when every byte of s has a <0xNN> piece (else the text is unknown, as in HF). */
int tok_has_byte_pieces(const tok_encoder *e, const char *s, size_t n);
lineage_status tok_bpe_prepare(const lineage_tokenizer *t, tok_encoder *e, lineage_error *err);
/* Encodes one pre-token (after normalization) with BPE, appending ids. */
lineage_status tok_bpe_encode(const lineage_tokenizer *t, tok_encoder *e, const char *s, size_t n, tok_ids *out,
                              lineage_error *err);
lineage_status tok_unigram_prepare(const lineage_tokenizer *t, tok_encoder *e, lineage_error *err);
lineage_status tok_unigram_encode(const lineage_tokenizer *t, tok_encoder *e, const char *s, size_t n, tok_ids *out,
                                  lineage_error *err);
lineage_status tok_wordpiece_encode(const lineage_tokenizer *t, tok_encoder *e, const char *s, size_t n,
                                    tok_ids *out, lineage_error *err);
/* Normalizes s into e->norm and splits it into pieces (e->scratch[0] on return). first: the text
 * segment starts the input (Metaspace prepend_scheme "first"). */
lineage_status tok_pretokenize(const lineage_tokenizer *t, tok_encoder *e, const char *s, size_t n, int first,
                               tok_pieces **out, lineage_error *err);
/* Compiles the regexes of the pipeline (once). */
lineage_status tok_pretokenize_prepare(lineage_tokenizer *t, tok_encoder *e, lineage_error *err);
#endif
