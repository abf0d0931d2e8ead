/* Tokenizers behind the public lineage_tokenizer handle: one table of tokens indexed by id, each
 * with its surface form (as written in the file) and its canonical bytes (what it decodes to),
 * plus the model (BPE merges, Unigram scores, WordPiece) and the text pipeline (normalizer,
 * pre-tokenizer, added tokens) the encoder needs. Loaders validate once; the rest trusts it. */
#ifndef LINEAGE_FORMAT_TOKENIZER_H
#define LINEAGE_FORMAT_TOKENIZER_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "util/json.h"
#include "format/model.h"
#include "lineage.h"
#include "util/arena.h"

/* Piece types, numbered as SentencePiece's ModelProto (and GGUF token_type) number them. */
typedef enum {
    TOK_MISSING = 0, TOK_NORMAL = 1, TOK_UNKNOWN = 2, TOK_CONTROL = 3, TOK_USER = 4, TOK_UNUSED = 5,
    TOK_BYTE = 6
} tok_type;

/* How the surface form of a vocab entry spells bytes. */
typedef enum {
    TOK_SURFACE_RAW = 0,        /* surface == bytes (tiktoken, WordPiece, WordLevel) */
    TOK_SURFACE_BYTELEVEL,      /* GPT-2 byte-to-unicode map */
    TOK_SURFACE_METASPACE,      /* SentencePiece: U+2581 for space, <0xNN> byte pieces */
    TOK_SURFACE_WORDSTART       /* WordPiece as llama.cpp stores it: U+2581 starts a word, bare pieces continue one */
} tok_surface;

typedef enum { TOK_MODEL_BPE = 0, TOK_MODEL_UNIGRAM, TOK_MODEL_WORDPIECE, TOK_MODEL_WORDLEVEL } tok_model;

typedef struct tok_entry {
    const char *text;      /* surface form, text_len bytes (may be borrowed from the file: no NUL); NULL when the id has no token */
    const char *bytes;     /* canonical bytes, len of them (== text when they are the same) */
    uint32_t text_len, len;
    uint32_t canon;        /* ordinary tokens: lowest id with the same canonical bytes; else UINT32_MAX */
    float score;
    uint8_t type;          /* tok_type */
    uint8_t special;       /* special/control token: its own namespace, compared by literal */
    uint8_t added;         /* listed as an added token (matched before the model runs) */
    uint8_t lstrip, rstrip, normalized;
} tok_entry;

/* Map from a byte string to an id: entries in insertion order (keys point into the caller's
 * memory), found through an open-addressing table of 8-byte slots (32-bit hash, entry index + 1)
 * so that lookups touch little memory. */
typedef struct tok_map_entry { const char *key; uint32_t len, id; } tok_map_entry;
typedef struct tok_map { uint64_t *slots; tok_map_entry *entries; size_t cap, count, entries_cap; } tok_map;

/* Zeroed tables, huge-page backed when large (tokenizer_mem.c); free and grow with the byte size
 * they were allocated with. */
void *tok_table_alloc(size_t bytes);
void tok_table_free(void *p, size_t bytes);
void *tok_table_grow(void *p, size_t old_bytes, size_t new_bytes);

int tok_map_init(tok_map *m, size_t expected);
void tok_map_free(tok_map *m);
/* Inserts key -> id unless key exists; returns the id stored for key, or UINT32_MAX on OOM. */
uint32_t tok_map_put(tok_map *m, const char *key, size_t len, uint32_t id);
/* The id for key, or UINT32_MAX. */
uint32_t tok_map_get(const tok_map *m, const char *key, size_t len);
/* Starts loading the slot of key (before a put or get of it a little later). */
void tok_map_prefetch(const tok_map *m, const char *key, size_t len);
/* tok_map_get for n keys at once (faster for many cold keys). */
#define TOK_MAP_BATCH 32
void tok_map_get_many(const tok_map *m, size_t n, const char *const *keys, const uint32_t *lens, uint32_t *ids);

/* Pairs of ids (BPE merges): rows by left id, each sorted by right id. result is the merged
 * token, or TOK_PAIR_RESULT_UNKNOWN until someone looks it up (encoders fill it on first use). */
#define TOK_PAIR_RESULT_UNKNOWN (UINT32_MAX - 1)
typedef struct tok_pair_entry { uint32_t right, rank, result; } tok_pair_entry;
typedef struct tok_pair_index { uint32_t *start; tok_pair_entry *e; size_t n_left, n, cap; } tok_pair_index;
/* rank and result may be NULL (rank = position, result unknown); pairs naming ids >= n_left are dropped. */
int tok_pair_index_build(tok_pair_index *x, size_t n_left, const uint32_t (*pairs)[2], const uint32_t *rank,
                         const uint32_t *result, size_t n);
tok_pair_entry *tok_pair_index_find(const tok_pair_index *x, uint32_t left, uint32_t right);
void tok_pair_index_free(tok_pair_index *x);

/* One step of a normalizer or pre-tokenizer, parsed from tokenizer.json (or implied by a format). */
typedef enum {
    TOK_STEP_NFC, TOK_STEP_NFKC, TOK_STEP_LOWERCASE, TOK_STEP_REPLACE, TOK_STEP_PREPEND,
    TOK_STEP_STRIP, TOK_STEP_BERT_NORMALIZER, TOK_STEP_PRECOMPILED, TOK_STEP_NFD, TOK_STEP_NFKD,
    TOK_STEP_SPLIT, TOK_STEP_BYTELEVEL, TOK_STEP_DIGITS, TOK_STEP_METASPACE, TOK_STEP_WHITESPACE,
    TOK_STEP_WHITESPACE_SPLIT, TOK_STEP_PUNCTUATION, TOK_STEP_BERT_PRE
} tok_step_kind;

typedef enum {
    TOK_SPLIT_ISOLATED, TOK_SPLIT_REMOVED, TOK_SPLIT_MERGED_PREV, TOK_SPLIT_MERGED_NEXT, TOK_SPLIT_CONTIGUOUS
} tok_split_behavior;

typedef struct tok_step {
    tok_step_kind kind;
    const char *pattern;        /* Split/Replace: regex source or literal */
    size_t pattern_len;
    int pattern_is_regex;
    const char *content;        /* Replace/Prepend/Metaspace replacement */
    size_t content_len;
    tok_split_behavior behavior;
    int invert;                 /* Split: keep what does not match */
    /* options of the other kinds, each kind its own */
    struct { int add_prefix_space, use_regex; } byte_level;
    struct { int individual; } digits;
    struct { int prepend, prepend_first_only, split; } metaspace;   /* prepend_scheme "first": first piece only */
    struct { int left, right; } strip;
    struct { int clean_text, handle_chinese_chars, lowercase, strip_accents; } bert;
    void *code;                 /* compiled pcre2_code, built lazily by the encoder */
    const struct tok_charsmap *charsmap;   /* Precompiled: SentencePiece's character map */
} tok_step;

/* SentencePiece precompiled_charsmap (tokenizer_charsmap.c): longest-match replacement of text. */
typedef struct tok_charsmap tok_charsmap;
struct strbuf;
/* Validates and copies a charsmap blob into t->arena; *out stays NULL for an empty blob (identity). */
lineage_status tok_charsmap_load(lineage_tokenizer *t, const void *blob, size_t len, const tok_charsmap **out,
                                 const char *what, lineage_error *err);
/* Length of the longest key at s (0: none) and its replacement. */
size_t tok_charsmap_match(const tok_charsmap *m, const char *s, size_t n, const char **rep, size_t *rep_len);
/* Appends s normalized by the map; 0 on OOM. */
int tok_charsmap_apply(const tok_charsmap *m, struct strbuf *out, const char *s, size_t n);
/* Unicode normalization (tokenizer_norm.c): appends s in NFD (compat 0, compose 0), NFKD, NFC or
 * NFKC; 0 on OOM. Identity when the build had no Unicode tables (tok_unicode_norm_available() 0). */
int tok_unicode_normalize(struct strbuf *out, const char *s, size_t n, int compat, int compose);
int tok_unicode_norm_available(void);
/* Strict base64 (padding to a multiple of 4); decoded length or -1. out needs n / 4 * 3 bytes. */
long tok_base64_decode(const char *s, size_t n, unsigned char *out);

typedef struct tok_encoder tok_encoder;

struct lineage_tokenizer {
    arena arena;
    char *path;
    const char *format;         /* "tokenizer.json", "sentencepiece", "tiktoken", "gpt2-files", "gguf" */
    tok_model model;
    tok_surface surface;
    tok_entry *tok;             /* n entries; ids without a token have text == NULL */
    size_t n, cap;
    size_t n_ordinary, n_special;
    tok_map by_text;            /* surface -> id (all tokens) */
    tok_map by_bytes;           /* canonical bytes -> lowest id (ordinary tokens only) */
    /* BPE merges in rank order, as ids (left, right); NULL for rank- or score-based models. */
    uint32_t (*merges)[2];
    size_t n_merges, merges_cap;   /* merges_cap: rows allocated by tok_merges_reserve */
    int borrow_text;            /* tok_set may keep the caller's string (it lives as long as t) */
    struct mapped_file *source; /* the mapped file borrowed strings point into, or NULL */
    int merges_by_rank;         /* tiktoken: the rank of the merged token orders the merges */
    int byte_fallback, ignore_merges, fuse_unk;
    int spm_whitespace;         /* SentencePiece text handling: spaces become U+2581 (flags below) */
    int add_dummy_prefix;       /* SentencePiece: a space before the text */
    int remove_extra_spaces;    /* SentencePiece: collapse runs of spaces, trim */
    long unk_id;                /* -1 when none */
    size_t id_limit;            /* ids must stay below this (tok_allow_ids); 0: only TOK_MAX_ID */
    const char *continuing_prefix;   /* WordPiece "##" */
    const char *word_prefix;    /* WordPiece: before the first piece of a word (GGUF: U+2581), or NULL */
    const char *encode_unsupported;  /* why this tokenizer can be compared but not run, or NULL */
    size_t max_input_chars_per_word;
    tok_step *norm, *pre;       /* normalizer and pre-tokenizer steps */
    const tok_charsmap *charsmap;   /* SentencePiece .model: normalizer_spec's map, or NULL */
    size_t n_norm, n_pre;
    const char *normalizer_desc, *pretokenizer_desc;   /* compact JSON, for comparison */
    const char *chat_template;
    int add_bos;                /* tokenizer_config add_bos_token / GGUF add_bos_token: 1, 0, -1 not said */
    const char *special_roles[6];   /* literal bos, eos, unk, pad, sep, cls (or NULL) */
    pthread_mutex_t lock;       /* guards the lazily built encoder */
    tok_encoder *enc;
};

enum { TOK_ROLE_BOS, TOK_ROLE_EOS, TOK_ROLE_UNK, TOK_ROLE_PAD, TOK_ROLE_SEP, TOK_ROLE_CLS };

/* The id to put before a model's text: the BOS token when the tokenizer config asks for one
 * (add_bos_token), named by the tokenizer's own BOS role, else by config.json's bos_token_id or GGUF's
 * tokenizer.ggml.bos_token_id; -1 when none is added. `add` overrides the config: 1 yes, -1 no,
 * 0 as configured. The one place that decides BOS, for `run`, behaviour probes and activations. */
struct lineage_model;
long tok_bos_to_add(const lineage_tokenizer *t, const struct lineage_model *m, int add);

/* ---- building (loaders) ---- */
lineage_tokenizer *tok_new(const char *path, const char *format);
/* Room for ids below n without regrowing (a hint; tok_set still grows past it). */
lineage_status tok_reserve(lineage_tokenizer *t, size_t n, const char *what, lineage_error *err);
/* Loaders call this with the size of each file they read before setting ids: the token table is
 * indexed by id, so a few bytes naming id 16,000,000 would otherwise cost the whole table (GBs). */
void tok_allow_ids(lineage_tokenizer *t, size_t file_bytes);
/* Sets token id (grows the table). Duplicate ids or surface forms, and a score that is not a finite
 * float (the Unigram and score-ranked BPE encoders cannot order it), are a FORMAT error naming `what`. */
lineage_status tok_set(lineage_tokenizer *t, uint32_t id, const char *text, size_t len, double score, tok_type type,
                       const char *what, lineage_error *err);
/* Marks an existing id (or adds it) as an added token; special keeps it apart from the vocabulary. */
lineage_status tok_add_added(lineage_tokenizer *t, uint32_t id, const char *text, size_t len, int special,
                             int lstrip, int rstrip, int normalized, const char *what, lineage_error *err);
tok_step *tok_push_step(lineage_tokenizer *t, int pre, tok_step_kind kind);
/* After all tokens: canonical bytes, maps, counts. */
lineage_status tok_finish(lineage_tokenizer *t, lineage_error *err);

/* GPT-2 byte <-> unicode map. */
uint32_t tok_byte_to_unicode(uint8_t b);
int tok_unicode_to_byte(uint32_t cp);   /* -1 when cp is not in the map */
/* UTF-8 decode of one code point at s (n bytes left); returns its length (1 for invalid bytes). */
size_t tok_utf8_next(const char *s, size_t n, uint32_t *cp);
size_t tok_utf8_put(char *out, uint32_t cp);
/* BertNormalizer accent stripping of one code point (NFD without nonspacing marks): 0..3 code points. */
size_t tok_strip_accents(uint32_t cp, uint32_t out[3]);
int tok_is_nonspacing_mark(uint32_t cp);

/* ---- loaders: each fills t from one source ---- */
/* text must live as long as t: vocab strings without escapes are borrowed from it. */
lineage_status tok_load_hf_json(lineage_tokenizer *t, const char *text, size_t len, const char *what,
                                lineage_error *err);
/* tokenizer_config.json / special_tokens_map.json beside the tokenizer (optional, may be NULL). */
lineage_status tok_load_hf_config(lineage_tokenizer *t, const char *text, size_t len, const char *what,
                                  lineage_error *err);
lineage_status tok_load_sentencepiece(lineage_tokenizer *t, const void *data, size_t len, const char *what,
                                      lineage_error *err);
lineage_status tok_load_tiktoken(lineage_tokenizer *t, const char *text, size_t len, const char *what,
                                 lineage_error *err);
lineage_status tok_load_gpt2_files(lineage_tokenizer *t, const char *vocab, size_t vocab_len, const char *merges,
                                   size_t merges_len, const char *what, lineage_error *err);
/* tokenizer.ggml.* metadata of a parsed GGUF; *out stays NULL when the file has no tokenizer. */
lineage_status tok_open_gguf(const gguf_file *g, const char *path, lineage_tokenizer **out, lineage_error *err);
/* The regex sequence of a tokenizer.ggml.pre name (NULL name: the file predates the key); 0 when
 * the name is unknown. *regex is NULL-terminated and empty for pre-tokenizers without one. */
int tok_gguf_pre_regexes(const char *name, size_t len, const char *const **regex, int *ignore_merges);
/* Split patterns of the well-known byte-level tokenizers. */
extern const char tok_pattern_gpt2[], tok_pattern_cl100k[], tok_pattern_o200k[];
/* Appends HF-style "a b" / [a, b] merges to t->merges, which has room (tokens must exist); index
 * numbers the (first) merge in errors. */
/* Room for n merges in t->merges (keeps those present). */
lineage_status tok_merges_reserve(lineage_tokenizer *t, size_t n, const char *what, lineage_error *err);
lineage_status tok_add_merge(lineage_tokenizer *t, const char *a, size_t alen, const char *b, size_t blen,
                             size_t index, const char *what, lineage_error *err);
typedef struct tok_merge_text { const char *a, *b; uint32_t alen, blen; } tok_merge_text;
lineage_status tok_add_merges(lineage_tokenizer *t, const tok_merge_text *m, size_t n, size_t first_index,
                              const char *what, lineage_error *err);
/* Tokenizer files in a folder; returns LINEAGE_OK with *out NULL when there are none. */
lineage_status tok_open_dir(const char *dir, lineage_tokenizer **out, lineage_error *err);
/* Whether a folder holds tokenizer files lineage can read. */
int tok_dir_has_tokenizer(const char *dir);
/* The tokenizer of an opened model (GGUF metadata or its folder's files); *t stays NULL when it has
 * none, and a broken one fails naming its file. */
lineage_status model_open_tokenizer(const lineage_model *m, lineage_tokenizer **t, lineage_error *err);
lineage_status tok_open_gguf_file(const char *path, lineage_tokenizer **out, lineage_error *err);

/* ---- encoder ---- */
void tok_encoder_free(tok_encoder *e);
/* Frees a step list and the regexes compiled for it. */
void tok_steps_free(tok_step *steps, size_t n);
/* Pre-tokenization into pieces (byte ranges into *buf), after normalization. Exposed for tests. */

/* ---- for other analyses ---- */
/* The encoder's index of a BPE tokenizer's merges (pairs of ids, rank = position in t->merges),
 * built on first use; NULL for other models. Valid until t closes; ranks never change. */
const tok_pair_index *tok_merge_index(const lineage_tokenizer *t);
/* The ID mapping between two tokenizers by canonical bytes, ordinary tokens only (special/control
 * tokens excluded): (*ids_a)[i] in a and (*ids_b)[i] in b decode to the same bytes, sorted by
 * ids_a. Both arrays are malloc'd (free them); *n may be 0. Used to align embedding rows. */
lineage_status tokenizer_shared_ids(const lineage_tokenizer *a, const lineage_tokenizer *b, uint32_t **ids_a,
                                    uint32_t **ids_b, size_t *n, lineage_error *err);
#endif
