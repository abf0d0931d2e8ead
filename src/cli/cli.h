#ifndef LINEAGE_CLI_H
#define LINEAGE_CLI_H
#include "lineage.h"

#define CLI_MAX_POSITIONAL 64

typedef struct cli_options {
    const char *command;
    int argc;               /* the whole invocation, for --journal's reproducing command */
    char **argv;
    const char *positional[CLI_MAX_POSITIONAL];
    int npositional;
    const char *against[CLI_MAX_POSITIONAL];
    int nagainst;
    const char *panel[CLI_MAX_POSITIONAL];   /* --panel MODEL...: unrelated models for the behaviour null */
    int npanel;
    int top_k;              /* run: --top-k */
    uint32_t *input_ids;    /* run: --input-ids 1,2,3 (malloc'd) */
    size_t ninput_ids;
    const char *logits_out; /* run: --logits-out FILE */
    int add_bos;            /* run: --bos 1, --no-bos -1, else 0 */
    const char *json_out, *md_out, *html_out, *journal, *journal_marker;
    const char *lang;
    int lang_explicit;      /* --lang given (else a journal keeps its own language) */
    int no_color;
    int ids_only;
    const char *sep;    /* tokenize: the input is texts separated by this string (--lines: "\n") */
    lineage_inspect_options inspect;
    lineage_compare_options compare;
    lineage_remote_options remote;   /* --cache DIR, --offline, --budget BYTES */
    lineage_ask_options ask;         /* ask: --system, --max-tokens, --temperature, --seed, --raw */
    int print_prompt;                /* ask: --print-prompt */
    const char *battery;             /* ask: --battery NAME|FILE */
    /* index / search / verify --index */
    const char *index_uri;  /* --index FILE|postgresql://... */
    const char *list_file;  /* index add --list FILE: one MODEL [NAME] per line */
    const char *exclude[CLI_MAX_POSITIONAL];   /* search --exclude NAME (repeatable) */
    int nexclude;
    int top;                /* search --top K */
    int replace, confirm;   /* index add --replace; search --confirm */
} cli_options;

/* Parses argv (argv[0] is the command). Prints a one-line error and returns nonzero on misuse. */
int cli_parse(int argc, char **argv, cli_options *o);
/* Writes the requested outputs (terminal text, --json, --md, --html) of a document. */
int cli_emit(const cli_options *o, const lineage_doc *d);
/* The same, with the terminal text only when terminal is set (ask streams its answer instead). */
int cli_emit_files(const cli_options *o, const lineage_doc *d, int terminal);
int cli_fail(const lineage_error *err);
/* Hands the remote options to the library and installs the progress line (stderr, a terminal only). */
void cli_remote_setup(cli_options *o);
/* Ends the progress line; after a successful run that fetched anything, prints one summary line. */
void cli_remote_finish(int rc);

int cli_inspect(const cli_options *o);
int cli_compare(const cli_options *o);
int cli_verify(const cli_options *o);
/* verify MODEL against these references (skip_unreachable: a reference that cannot be opened is reported and left out). */
int cli_verify_list(const cli_options *o, const char *const *against, int nagainst, int skip_unreachable);
int cli_tokenize(const cli_options *o);
int cli_run(const cli_options *o);
int cli_study(const cli_options *o);
int cli_ask(const cli_options *o);
int cli_index(const cli_options *o);
int cli_search(const cli_options *o);
/* verify MODEL --index DB: the index's best candidates become the --against list. */
int cli_verify_index(const cli_options *o);
#endif
