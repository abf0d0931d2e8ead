/* liblineage: was model B trained from scratch, or derived from model A?
 *
 * The whole public contract. Every call returns a lineage_status; on failure the
 * lineage_error names the file and the problem in one line. The library never
 * prints and never exits. Models are opened read-only; tensor bytes are reached
 * through mmap and converted to f32 in caller-sized chunks.
 *
 * Thread safety: an opened lineage_model or lineage_tokenizer is read-only and may be used by
 * several threads at once; every analysis call (inspect, compare, verify, run, render) keeps its
 * state in the call and its options (progress callback included), so concurrent calls are safe
 * (tests/test_threads.c runs two compares at once under ASan and TSan). A lineage_doc belongs to
 * one thread at a time. The exceptions are process-wide by nature and say so below:
 * lineage_set_remote_options (defaults for hf:// models opened afterwards) and the fetch counters
 * of lineage_remote_progress_get. */
#ifndef LINEAGE_H
#define LINEAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LINEAGE_VERSION "0.1.0"

typedef enum {
    LINEAGE_OK = 0,
    LINEAGE_E_USAGE = 1,       /* bad argument from the caller */
    LINEAGE_E_FORMAT = 2,      /* a file is malformed, truncated or hostile */
    LINEAGE_E_IO = 3,          /* open/read/mmap/network failure */
    LINEAGE_E_NOMEM = 4,       /* allocation failed or a bound was exceeded */
    LINEAGE_E_UNSUPPORTED = 5  /* well-formed input this version cannot handle */
} lineage_status;

typedef struct lineage_error {
    lineage_status code;
    char message[1024];
} lineage_error;

/* Exit status the CLI uses for a status: usage/format 2, I/O 3, other 1. */
int lineage_exit_code(lineage_status s);

/* ---- tensors -------------------------------------------------------------- */

typedef enum {
    LINEAGE_DTYPE_UNKNOWN = 0,
    LINEAGE_DTYPE_F64, LINEAGE_DTYPE_F32, LINEAGE_DTYPE_F16, LINEAGE_DTYPE_BF16,
    LINEAGE_DTYPE_F8_E4M3, LINEAGE_DTYPE_F8_E5M2,
    LINEAGE_DTYPE_I64, LINEAGE_DTYPE_I32, LINEAGE_DTYPE_I16, LINEAGE_DTYPE_I8,
    LINEAGE_DTYPE_U8, LINEAGE_DTYPE_BOOL,
    /* GGUF block-quantized types */
    LINEAGE_DTYPE_Q4_0, LINEAGE_DTYPE_Q4_1, LINEAGE_DTYPE_Q5_0, LINEAGE_DTYPE_Q5_1,
    LINEAGE_DTYPE_Q8_0, LINEAGE_DTYPE_Q2_K, LINEAGE_DTYPE_Q3_K, LINEAGE_DTYPE_Q4_K,
    LINEAGE_DTYPE_Q5_K, LINEAGE_DTYPE_Q6_K,
    LINEAGE_DTYPE_COUNT
} lineage_dtype;

const char *lineage_dtype_name(lineage_dtype t);

#define LINEAGE_MAX_DIMS 8

/* Which part of a (possibly multimodal) checkpoint a tensor belongs to. */
typedef enum {
    LINEAGE_COMPONENT_TEXT = 0,
    LINEAGE_COMPONENT_VISION,
    LINEAGE_COMPONENT_PROJECTOR,
    LINEAGE_COMPONENT_AUDIO,
    LINEAGE_COMPONENT_MTP,        /* extra multi-token-prediction layers */
    LINEAGE_COMPONENT_COUNT
} lineage_component;

const char *lineage_component_name(lineage_component c);

typedef struct lineage_tensor_info {
    const char *name;            /* as stored in the file */
    lineage_dtype dtype;
    int ndim;
    uint64_t shape[LINEAGE_MAX_DIMS];  /* PyTorch order: outermost first (GGUF reversed back) */
    uint64_t numel;
    uint64_t rows, cols;         /* cols = innermost dim; rows = product of the rest (1-D: 1 row) */
    uint64_t nbytes;             /* bytes on disk */
    const char *role;            /* normalized role: "attn_q", "mlp_down", "expert_up", "other", ... */
    int layer;                   /* block index, -1 when none */
    int expert;                  /* expert index, -1 when none */
    lineage_component component;
    int has_scale;               /* FP8 with a weight_scale_inv companion: read_rows applies it */
} lineage_tensor_info;

typedef struct lineage_model lineage_model;

/* Open a MODEL argument: an HF folder (sharded or not), a .safetensors file, a
 * .gguf file, a folder with config.json only, or a remote hf://ORG/NAME[@REVISION]. */
lineage_status lineage_model_open(const char *path, lineage_model **out, lineage_error *err);
void lineage_model_close(lineage_model *m);

const char *lineage_model_path(const lineage_model *m);
size_t lineage_model_tensor_count(const lineage_model *m);
const lineage_tensor_info *lineage_model_tensor(const lineage_model *m, size_t index);
/* Index of the tensor with this exact name, or -1. */
long lineage_model_find_tensor(const lineage_model *m, const char *name);
/* Index of the tensor with this role/layer/expert/component, or -1. */
long lineage_model_find_role(const lineage_model *m, lineage_component comp, const char *role,
                             int layer, int expert);

/* Convert rows [row0, row0+nrows) of a tensor to f32 (row-major, cols per row). */
lineage_status lineage_tensor_read_rows_f32(const lineage_model *m, size_t index, uint64_t row0,
                                            uint64_t nrows, float *out, lineage_error *err);
/* The raw bytes on disk (zero-copy view into the mapping). */
lineage_status lineage_tensor_raw(const lineage_model *m, size_t index, const void **bytes,
                                  uint64_t *nbytes, lineage_error *err);

/* ---- remote models: hf://ORG/NAME[@REVISION] ------------------------------------
 * Read by HTTP range requests from HF_ENDPOINT (default https://huggingface.co), the token in HF_TOKEN
 * sent only to that endpoint's origin. Headers and small files are fetched at open; tensor bytes only
 * when rows are read, into a sparse on-disk cache keyed by repository, resolved commit and ETag. */

typedef struct lineage_remote_progress {
    uint64_t bytes_fetched;   /* response body bytes received by this process */
    uint64_t requests;        /* HTTP requests sent by this process (retries and redirects included) */
    double seconds;           /* since the first request */
} lineage_remote_progress;

typedef struct lineage_remote_options {
    const char *cache_dir;    /* NULL: $XDG_CACHE_HOME/lineage, else ~/.cache/lineage */
    int offline;              /* never use the network: everything read must already be cached */
    uint64_t budget_bytes;    /* cap on the bytes fetched from now on (all remote models); 0 = none */
    double stall_seconds;     /* a transfer moving no data this long is retried; 0 = 30 */
    double deadline_seconds;  /* total time for one request, retries included; 0 = 300 */
    int max_attempts;         /* attempts per request; 0 = 6 */
    int max_parallel;         /* requests in flight; 0 = 8 */
    /* called on the fetching thread, at most a few times a second */
    void (*progress)(const lineage_remote_progress *p, void *user);
    void *progress_user;
    /* total time for remote fetching, retries and waits included, counted from the first request after
     * these options are set; a run that needs longer fails with an I/O error; 0 = 3600 */
    double timeout_seconds;
} lineage_remote_options;

/* Process-wide settings for models opened afterwards (the string is copied); NULL restores defaults. */
void lineage_set_remote_options(const lineage_remote_options *opt);
/* Counters of this process's fetching so far. */
void lineage_remote_progress_get(lineage_remote_progress *out);

/* Rows an analysis is about to read, so a remote model can fetch them together (adjacent spans coalesced,
 * several requests in flight) instead of one request per lineage_tensor_read_rows_f32 call. A no-op for
 * local models. */
typedef struct lineage_row_span {
    size_t tensor;
    uint64_t row0, nrows;
} lineage_row_span;

lineage_status lineage_model_prefetch(const lineage_model *m, const lineage_row_span *spans, size_t n,
                                      lineage_error *err);

/* ---- tokenizers ---------------------------------------------------------------- */

/* A tokenizer read from a model folder (tokenizer.json, tokenizer.model, vocab.json+merges.txt,
 * tiktoken ranks), a tokenizer file, or a GGUF file's tokenizer.ggml.* metadata. */
typedef struct lineage_tokenizer lineage_tokenizer;

lineage_status lineage_tokenizer_open(const char *path, lineage_tokenizer **out, lineage_error *err);
void lineage_tokenizer_close(lineage_tokenizer *t);
size_t lineage_tokenizer_size(const lineage_tokenizer *t);   /* max id + 1 */
/* Canonical bytes of a token (byte-level map reversed, U+2581 -> space, <0xNN> -> byte). */
const char *lineage_tokenizer_bytes(const lineage_tokenizer *t, uint32_t id, size_t *len);
/* Encodes text without adding BOS/EOS; *ids is malloc'd. */
lineage_status lineage_tokenize(const lineage_tokenizer *t, const char *text, size_t len, uint32_t **ids,
                                size_t *count, lineage_error *err);

/* ---- analyses and reports --------------------------------------------------- */

/* Report documents are JSON trees with a "schema" member; renderers turn them
 * into text, Markdown or HTML. */
typedef struct lineage_doc lineage_doc;
void lineage_doc_free(lineage_doc *d);

typedef struct lineage_inspect_options {
    double tokens;           /* training tokens for the compute estimate; 0 = none */
    double finetune_tokens;  /* tokens of a fine-tuning budget to compare; 0 = default */
    double peak_tflops;      /* device peak, dense BF16 (default 989, H100 SXM) */
    double mfu;              /* model FLOP utilization (default 0.4) */
    const char *gpu;         /* the device peak_tflops belongs to, for the report; NULL = H100 SXM when 989 */
    int gpus;                /* GPUs working in parallel, for wall-clock days; 0 = not asked */
    int context;             /* training sequence length for the attention term; 0 = 4096 */
} lineage_inspect_options;

lineage_status lineage_inspect(const lineage_model *m, const lineage_inspect_options *opt,
                               lineage_doc **out, lineage_error *err);

/* TEXT encoded by a tokenizer as a report (lineage.tokenize/1: ids, pieces, count, characters), for
 * --json, --md and --journal; `path` names the tokenizer in the report. */
lineage_status lineage_tokenize_report(const lineage_tokenizer *t, const char *path, const char *text, size_t len,
                                       lineage_doc **out, lineage_error *err);

/* ---- progress ------------------------------------------------------------------ */

/* Called from one thread at a time during long passes (the weight statistics): `done` of `total`
 * bytes of the phase `what` (answers for the phase "asking", the --battery questions), `seconds` after it started; a last call with done == total ends it.
 * Installed per call (lineage_compare_options.progress), so concurrent calls report separately;
 * none by default, so the library stays silent. */
typedef void (*lineage_progress_fn)(void *user, const char *what, uint64_t done, uint64_t total,
                                    double seconds);
/* A ready-made callback for a CLI: one line on stderr (bytes, GB/s, ETA) rewritten in place, shown
 * only when stderr is a terminal and the pass has run longer than a second. */
void lineage_progress_stderr(void *user, const char *what, uint64_t done, uint64_t total, double seconds);

typedef enum {
    LINEAGE_ONLY_ALL = 0,
    LINEAGE_ONLY_ARCH = 1,
    LINEAGE_ONLY_TOKENIZER = 2,
    LINEAGE_ONLY_WEIGHTS = 4,
    LINEAGE_ONLY_BEHAVIOUR = 8,     /* next-token distributions on the probe set */
    LINEAGE_ONLY_ACTIVATIONS = 16   /* hidden states and MLP activations on probe text */
} lineage_only;

typedef struct lineage_compare_options {
    unsigned only;           /* bitmask of lineage_only; 0 = everything */
    double sample;           /* 0 < sample <= 1; 1 = every row */
    int sha256;              /* add SHA-256 of tensor bytes */
    int threads;             /* 0 = all cores */
    /* behaviour and activations (the models are run; see lineage_run) */
    int run_models;          /* 0 = auto (when both forward passes are cheap or an endpoint is given),
                                1 = always, -1 = never; --only behaviour/activations implies 1 */
    const char *probes_file; /* one prompt per line (\n-escaped); NULL = the built-in probe set */
    const char *endpoint_a;  /* OpenAI-compatible server for A's outputs: "http://host:port/v1[#model]" */
    const char *endpoint_b;  /* ... for B's outputs (verify: for MODEL) */
    const lineage_model *const *panel;  /* unrelated models: B must be closer to A than to each */
    size_t npanel;
    int activation_tokens;   /* tokens of probe text for the activation tests; 0 = 2048 */
    lineage_progress_fn progress;   /* NULL = silent */
    void *progress_user;
    /* "behaviour_asked": the battery ("identity", "cutoff", "refusal", "all" or a JSON file) put to A, B
     * (through endpoint_a / endpoint_b when set) and the panel, answers side by side with agreement
     * statistics; never read by the verdict. NULL = not asked. */
    const char *battery;
    const struct lineage_ask_options *ask;   /* generation for it; NULL = greedy, 128 tokens per answer */
} lineage_compare_options;

lineage_status lineage_compare(const lineage_model *a, const lineage_model *b,
                               const lineage_compare_options *opt, lineage_doc **out,
                               lineage_error *err);

/* Compares MODEL against each candidate parent and ranks them (lineage.verify/1); a parent is
 * named only when it beats the other candidates by a clear margin. */
lineage_status lineage_verify(const lineage_model *m, const lineage_model *const *candidates, size_t ncandidates,
                              const lineage_compare_options *opt, lineage_doc **out, lineage_error *err);

/* N models side by side (lineage.study/1, docs/SCHEMA-study.md): each model inspected once, each pair
 * compared once as lineage_compare would, the pairwise numbers gathered into matrices. The last
 * `nreferences` models are references: then only model x reference pairs are compared (reference as A). */
typedef struct lineage_study_options {
    lineage_compare_options compare;   /* panel is ignored: the other models are the context */
    lineage_inspect_options inspect;
    size_t nreferences;
} lineage_study_options;

lineage_status lineage_study(const lineage_model *const *models, size_t n, const lineage_study_options *opt,
                             lineage_doc **out, lineage_error *err);
/* ---- fingerprint index and search ------------------------------------------------ */

/* An index of model fingerprints (docs/SCHEMA-fingerprint.md): a SQLite file, or a PostgreSQL database
 * when uri starts with postgresql:// (shared by many writers). Created and migrated on open. */
typedef struct lineage_index lineage_index;

lineage_status lineage_index_open(const char *uri, lineage_index **out, lineage_error *err);
void lineage_index_close(lineage_index *ix);

typedef struct lineage_index_added {
    int added;                  /* 0: an entry of that name was already there (kept) */
    size_t fingerprint_bytes;   /* size of the stored record */
    uint64_t bytes_read;        /* weight bytes read to build it */
    unsigned retrieval_keys;
} lineage_index_added;

/* Fingerprints m and stores it as `name` (source: where its weights can be reached again, for
 * --confirm; NULL = name) in one transaction; replace = 1 overwrites an entry of that name. */
lineage_status lineage_index_add(lineage_index *ix, const lineage_model *m, const char *name, const char *source,
                                 int replace, lineage_index_added *info, lineage_error *err);
lineage_status lineage_index_contains(lineage_index *ix, const char *name, int *has, lineage_error *err);
lineage_status lineage_index_remove(lineage_index *ix, const char *name, int *removed, lineage_error *err);
/* The entries (lineage.index/1). */
lineage_status lineage_index_list(lineage_index *ix, lineage_doc **out, lineage_error *err);

typedef struct lineage_search_options {
    int top;                 /* candidates reported; 0 = 5 */
    const char *const *exclude;   /* entry names to leave out (the query and its descendants, for leave-one-out checks) */
    size_t nexclude;
} lineage_search_options;

/* Which indexed models is m closest to (lineage.search/1): candidates retrieved by LSH keys, scored on
 * every fingerprint signal, calibrated against the query's similarities to a random sample of the
 * index, significant when the Bonferroni-corrected p is below 0.01. */
lineage_status lineage_search(lineage_index *ix, const lineage_model *m, const lineage_search_options *opt,
                              lineage_doc **out, lineage_error *err);
/* The stored sources of a search report's candidates, best first (pointers into d). */
size_t lineage_search_sources(const lineage_doc *d, const char **sources, size_t max);

/* ---- inference ---------------------------------------------------------------- */

/* Runs the model natively (CPU, f32 activations, weights read through the tensor API) on TEXT encoded
 * with the model's own tokenizer, or on explicit ids: the next-token top-k with probabilities and a
 * greedy continuation (lineage.run/1). */
typedef struct lineage_run_options {
    int top_k;               /* next-token candidates reported; 0 = 10 */
    int tokens;              /* greedy continuation length; 0 = none */
    int threads;             /* 0 = all cores */
    const uint32_t *ids;     /* run these ids instead of encoding text (nothing added) */
    size_t nids;
    int add_bos;             /* 0 = auto (the tokenizer config's add_bos_token), 1 = yes, -1 = no */
    const char *logits_out;  /* when set: every position's logits, n x vocab f32 little-endian */
} lineage_run_options;

lineage_status lineage_run(const lineage_model *m, const char *text, size_t len, const lineage_run_options *opt,
                           lineage_doc **out, lineage_error *err);

/* Asks an instruction model a question: the model's own chat template (tokenizer_config.json, a
 * chat_template.jinja/.json file or GGUF tokenizer.chat_template) renders the system message and the
 * question with a generation prompt, or, for a model without a template, the question is the raw prompt
 * (the document says so); the engine then generates until an end-of-turn id (generation_config.json,
 * config.json or GGUF eos ids), the eos text, or max_tokens (lineage.ask/1). With endpoint set, the server
 * applies its template: POST {base}/chat/completions, and the model is not opened (m may be NULL). */
typedef struct lineage_ask_options {
    const char *system;      /* system message; NULL = none */
    int max_tokens;          /* 0 = 256 */
    double temperature;      /* 0 = greedy; else sampled from softmax(logits / T) */
    uint64_t seed;           /* sampling seed: the same seed gives the same answer */
    int threads;             /* 0 = all cores */
    int raw;                 /* 1: ignore the template, the question is the prompt */
    const char *endpoint;    /* "http://host:port/v1[#model]" */
    const char *label;       /* the model's name in the document (default: its path) */
    /* called with the answer as it is produced: whole UTF-8 characters, terminal-safe (controls escaped) */
    void (*stream)(const char *bytes, size_t len, void *user);
    void *stream_user;
} lineage_ask_options;

/* The exact prompt bytes lineage_ask would run (malloc'd); *templated = 0 in raw-prompt mode. */
lineage_status lineage_chat_prompt(const lineage_model *m, const char *system, const char *question, int raw,
                                   char **prompt, size_t *len, int *templated, lineage_error *err);
lineage_status lineage_ask(const lineage_model *m, const char *question, const lineage_ask_options *opt,
                           lineage_doc **out, lineage_error *err);
/* Puts a question set to the model (lineage.ask/1 with a "battery" member): "identity", "cutoff",
 * "refusal", "all", or a JSON file (docs/SCHEMA-ask.md). Each answer is classified by documented rules
 * (named organisations and models, refusal markers, expected keywords). progress (may be NULL) is called
 * before each question with its index and the count. */
lineage_status lineage_ask_battery(const lineage_model *m, const char *battery, const lineage_ask_options *opt,
                                   void (*progress)(size_t i, size_t n, void *user), void *user, lineage_doc **out,
                                   lineage_error *err);

typedef enum {
    LINEAGE_RENDER_TEXT = 0,
    LINEAGE_RENDER_JSON,
    LINEAGE_RENDER_MARKDOWN,
    LINEAGE_RENDER_HTML
} lineage_render_format;

typedef struct lineage_render_options {
    lineage_render_format format;
    const char *lang;        /* "en" or "ko" */
    int color;               /* ANSI colour (terminal only) */
} lineage_render_options;

lineage_status lineage_render(const lineage_doc *d, const lineage_render_options *opt, FILE *out,
                              lineage_error *err);
/* Writes untrusted text (a token piece, a name) to out with C0/C1 controls, DEL, bidi overrides and
 * invalid UTF-8 shown escaped (\x1b, \u{202e}), as every report does. */
lineage_status lineage_write_escaped(FILE *out, const char *text, size_t len, lineage_error *err);

/* Adds a question-and-answer entry for any report (compare, verify, inspect, tokenize, study) to a
 * Markdown journal, the way the seed notes keep theirs: "### Q{N}: question" numbered on from the file,
 * a bold question-time line with the date, a bold answer line, the evidence as prose and tables, the
 * reproducing command, a horizontal rule. The entry goes above the marker line (default: a line holding
 * "<!-- TUTORIAL_MARKER:"; the older "<!-- lineage:journal -->" is honoured too); without one it is
 * appended and the marker added at the end. The file is created when missing and written atomically. */
typedef struct lineage_journal_options {
    const char *command;   /* the shell command that reproduces the result, already quoted */
    const char *lang;      /* "ko" or "en"; NULL = the journal's own language (Korean when mostly Hangul) */
    const char *marker;    /* the marker text to insert above; NULL = the default */
} lineage_journal_options;

lineage_status lineage_journal_write(const lineage_doc *d, const char *path, const lineage_journal_options *opt,
                                     lineage_error *err);
/* lineage_journal_write with the default marker. */
lineage_status lineage_journal_append(const lineage_doc *d, const char *path, const char *command,
                                      const char *lang, lineage_error *err);

#ifdef __cplusplus
}
#endif
#endif
