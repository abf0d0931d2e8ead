#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_fail(const lineage_error *err)
{
    fprintf(stderr, "lineage: %s\n", err->message);
    return lineage_exit_code(err->code);
}

static int write_doc(const char *path, const lineage_doc *d, lineage_render_format fmt, const char *lang)
{
    lineage_render_options ro = {fmt, lang, 0};
    lineage_error err = {0, ""};
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f) {
        fprintf(stderr, "lineage: %s: cannot write\n", path);
        return 3;
    }
    lineage_status st = lineage_render(d, &ro, f, &err);
    if (f != stdout && fclose(f) != 0 && !st) {
        fprintf(stderr, "lineage: %s: cannot write\n", path);
        return 3;
    }
    return st ? cli_fail(&err) : 0;
}

/* Appends one argument for a POSIX shell: bare when it holds only safe characters, else in single
 * quotes with each ' written as '\'' (nothing inside single quotes is special to the shell). */
static void shell_quote(char *cmd, size_t cap, size_t *n, const char *a)
{
    int bare = *a != 0;
    for (const char *p = a; *p && bare; p++)
        bare = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("_./:=,+@%-", *p);
    if (*n && *n < cap - 1) cmd[(*n)++] = ' ';
    if (!bare && *n < cap - 1) cmd[(*n)++] = '\'';
    for (const char *p = a; *p && *n < cap - 5; p++) {
        if (*p == '\'' && !bare) { memcpy(cmd + *n, "'\\''", 4); *n += 4; }
        else cmd[(*n)++] = *p;
    }
    if (!bare && *n < cap - 1) cmd[(*n)++] = '\'';
    cmd[*n] = 0;
}

static int append_journal(const cli_options *o, const lineage_doc *d)
{
    char cmd[8192] = "";
    size_t n = 0;
    /* the reproducing command: the invocation without report-output options */
    for (int i = 0; i < o->argc; i++) {
        const char *a = o->argv[i];
        if (!strcmp(a, "--json") || !strcmp(a, "--md") || !strcmp(a, "--html") || !strcmp(a, "--journal") ||
            !strcmp(a, "--journal-marker")) {
            i++;
            continue;
        }
        shell_quote(cmd, sizeof cmd, &n, a);
    }
    if (n >= sizeof cmd - 6) {
        fprintf(stderr, "lineage: %s: the command line is too long to record\n", o->journal);
        return 2;
    }
    /* without --lang, an existing journal keeps its own language */
    lineage_journal_options jo = {cmd, o->lang_explicit || access(o->journal, F_OK) != 0 ? o->lang : NULL,
                                  o->journal_marker};
    lineage_error err = {0, ""};
    if (lineage_journal_write(d, o->journal, &jo, &err)) return cli_fail(&err);
    return 0;
}

int cli_emit(const cli_options *o, const lineage_doc *d) { return cli_emit_files(o, d, 1); }

int cli_emit_files(const cli_options *o, const lineage_doc *d, int terminal)
{
    int rc = 0;
    /* a report written to stdout replaces the terminal text */
    int json_to_stdout = (o->json_out && !strcmp(o->json_out, "-")) || (o->md_out && !strcmp(o->md_out, "-")) ||
                         (o->html_out && !strcmp(o->html_out, "-"));
    if (o->json_out && (rc = write_doc(o->json_out, d, LINEAGE_RENDER_JSON, o->lang))) return rc;
    if (o->md_out && (rc = write_doc(o->md_out, d, LINEAGE_RENDER_MARKDOWN, o->lang))) return rc;
    if (o->html_out && (rc = write_doc(o->html_out, d, LINEAGE_RENDER_HTML, o->lang))) return rc;
    if (o->journal && (rc = append_journal(o, d))) return rc;
    if (!json_to_stdout && terminal) {
        const char *nc = getenv("NO_COLOR");
        lineage_render_options ro = {LINEAGE_RENDER_TEXT, o->lang,
                                     !o->no_color && !(nc && *nc) && isatty(STDOUT_FILENO)};
        lineage_error err = {0, ""};
        if (lineage_render(d, &ro, stdout, &err)) return cli_fail(&err);
    }
    return 0;
}

int cli_inspect(const cli_options *o)
{
    if (o->npositional != 1) {
        fprintf(stderr, "lineage: inspect wants exactly one MODEL\n");
        return 2;
    }
    lineage_error err = {0, ""};
    lineage_model *m;
    if (lineage_model_open(o->positional[0], &m, &err)) return cli_fail(&err);
    lineage_doc *d;
    lineage_status st = lineage_inspect(m, &o->inspect, &d, &err);
    int rc = st ? cli_fail(&err) : cli_emit(o, d);
    if (!st) lineage_doc_free(d);
    lineage_model_close(m);
    return rc;
}

/* Opens the --panel models; on failure closes what it opened and returns the exit code. */
static int open_panel(const cli_options *o, lineage_model **panel, lineage_error *err)
{
    for (int i = 0; i < o->npanel; i++)
        if (lineage_model_open(o->panel[i], &panel[i], err)) {
            while (i--) lineage_model_close(panel[i]);
            return cli_fail(err);
        }
    return 0;
}

static void close_panel(const cli_options *o, lineage_model **panel)
{
    for (int i = 0; i < o->npanel; i++) lineage_model_close(panel[i]);
}

/* The compare options of this invocation: --tokens is the activation test's token count here. */
static lineage_compare_options compare_options(const cli_options *o, lineage_model **panel)
{
    lineage_compare_options c = o->compare;
    c.progress = lineage_progress_stderr;   /* shown only on a terminal */
    c.panel = (const lineage_model *const *)panel;
    c.npanel = (size_t)o->npanel;
    if (o->inspect.tokens > 0) c.activation_tokens = o->inspect.tokens > 1e6 ? 1000000 : (int)o->inspect.tokens;
    c.battery = o->battery;   /* compare and study: the "behaviour (asked)" section */
    c.ask = &o->ask;
    return c;
}

int cli_compare(const cli_options *o)
{
    if (o->npositional != 2) {
        fprintf(stderr, "lineage: compare wants two models, A and B\n");
        return 2;
    }
    lineage_error err = {0, ""};
    lineage_model *a, *b, *panel[CLI_MAX_POSITIONAL];
    if (lineage_model_open(o->positional[0], &a, &err)) return cli_fail(&err);
    if (lineage_model_open(o->positional[1], &b, &err)) {
        lineage_model_close(a);
        return cli_fail(&err);
    }
    int rc = open_panel(o, panel, &err);
    if (!rc) {
        lineage_compare_options copt = compare_options(o, panel);
        lineage_doc *d;
        lineage_status st = lineage_compare(a, b, &copt, &d, &err);
        rc = st ? cli_fail(&err) : cli_emit(o, d);
        if (!st) lineage_doc_free(d);
        close_panel(o, panel);
    }
    lineage_model_close(a);
    lineage_model_close(b);
    return rc;
}

int cli_verify(const cli_options *o)
{
    if (o->npositional != 1 || o->nagainst < 1) {
        fprintf(stderr, "lineage: verify wants MODEL --against REF [REF...] (or --index DB)\n");
        return 2;
    }
    if (o->battery) {
        fprintf(stderr, "lineage: verify does not ask the models; --battery goes with compare, study or ask\n");
        return 2;
    }
    return cli_verify_list(o, o->against, o->nagainst, 0);
}

int cli_verify_list(const cli_options *o, const char *const *against, int nagainst, int skip_unreachable)
{
    lineage_error err = {0, ""};
    lineage_model *m, *refs[CLI_MAX_POSITIONAL], *panel[CLI_MAX_POSITIONAL];
    if (lineage_model_open(o->positional[0], &m, &err)) return cli_fail(&err);
    int n = 0, rc = 0;
    for (int i = 0; i < nagainst && i < CLI_MAX_POSITIONAL; i++) {
        if (!lineage_model_open(against[i], &refs[n], &err)) n++;
        else if (skip_unreachable) fprintf(stderr, "lineage: %s (not confirmed)\n", err.message);
        else { rc = cli_fail(&err); break; }
    }
    if (!rc && n == 0) {
        fprintf(stderr, "lineage: no candidate's weights are reachable\n");
        rc = 3;
    }
    if (!rc) rc = open_panel(o, panel, &err);
    if (!rc) {
        lineage_compare_options copt = compare_options(o, panel);
        copt.battery = NULL;   /* verify does not ask */
        lineage_doc *d;
        lineage_status st = lineage_verify(m, (const lineage_model *const *)refs, (size_t)n, &copt, &d, &err);
        if (st) rc = cli_fail(&err);
        else {
            rc = cli_emit(o, d);
            lineage_doc_free(d);
        }
        close_panel(o, panel);
    }
    for (int i = 0; i < n; i++) lineage_model_close(refs[i]);
    lineage_model_close(m);
    return rc;
}

int cli_study(const cli_options *o)
{
    int n = o->npositional + o->nagainst;
    if (o->npositional < 1 || n < 2) {
        fprintf(stderr, "lineage: study wants MODEL MODEL... or MODEL... --against REF...\n");
        return 2;
    }
    lineage_error err = {0, ""};
    lineage_model *m[2 * CLI_MAX_POSITIONAL];
    int opened = 0, rc = 0;
    for (; opened < n && !rc; opened++) {
        const char *path = opened < o->npositional ? o->positional[opened] : o->against[opened - o->npositional];
        if (lineage_model_open(path, &m[opened], &err)) { rc = cli_fail(&err); break; }
    }
    if (!rc) {
        lineage_study_options so = {o->compare, o->inspect, (size_t)o->nagainst};
        so.compare.battery = o->battery;
        so.compare.ask = &o->ask;
        so.compare.progress = lineage_progress_stderr;   /* shown only on a terminal */
        lineage_doc *d;
        lineage_status st = lineage_study((const lineage_model *const *)m, (size_t)n, &so, &d, &err);
        rc = st ? cli_fail(&err) : cli_emit(o, d);
        if (!st) lineage_doc_free(d);
    }
    while (opened-- > 0) lineage_model_close(m[opened]);
    return rc;
}

static const char *find_sep(const char *s, size_t n, const char *sep, size_t sl)
{
    for (const char *p = s; (size_t)(s + n - p) >= sl; p++) {
        p = memchr(p, sep[0], (size_t)(s + n - p) - sl + 1);
        if (!p) return NULL;
        if (!memcmp(p, sep, sl)) return p;
    }
    return NULL;
}

/* TEXT as given, or all of stdin (bounded at 256 MiB); malloc'd, NULL when out of memory. */
static char *read_input(const char *arg, size_t *len)
{
    *len = 0;
    if (arg) {
        char *text = strdup(arg);
        *len = text ? strlen(text) : 0;
        return text;
    }
    size_t cap = 1 << 16, n;
    char *text = malloc(cap);
    while (text && (n = fread(text + *len, 1, cap - *len, stdin)) > 0) {
        *len += n;
        if (*len == cap) {
            if (cap >= (256u << 20)) break;
            char *p = realloc(text, cap * 2);
            if (!p) { free(text); return NULL; }
            text = p;
            cap *= 2;
        }
    }
    return text;
}

int cli_tokenize(const cli_options *o)
{
    if (o->npositional < 1 || o->npositional > 2) {
        fprintf(stderr, "lineage: tokenize wants MODEL [TEXT]\n");
        return 2;
    }
    lineage_error err = {0, ""};
    lineage_tokenizer *t;
    if (lineage_tokenizer_open(o->positional[0], &t, &err)) return cli_fail(&err);
    size_t len = 0;
    char *text = read_input(o->npositional == 2 ? o->positional[1] : NULL, &len);
    if (!text) {
        lineage_tokenizer_close(t);
        fprintf(stderr, "lineage: out of memory\n");
        return 1;
    }
    if (o->sep) {   /* batch: one line of ids per text; a separator at the very end starts no new text */
        lineage_status st = LINEAGE_OK;
        size_t sl = strlen(o->sep);
        for (size_t pos = 0; !st && pos < len;) {
            const char *nl = find_sep(text + pos, len - pos, o->sep, sl);
            size_t end = nl ? (size_t)(nl - text) : len;
            uint32_t *ids;
            size_t count;
            st = lineage_tokenize(t, text + pos, end - pos, &ids, &count, &err);
            for (size_t i = 0; !st && i < count; i++) printf(i ? " %u" : "%u", ids[i]);
            if (!st) putchar('\n');
            if (!st) free(ids);
            pos = end + sl;
        }
        free(text);
        lineage_tokenizer_close(t);
        return st ? cli_fail(&err) : 0;
    }
    if (o->journal || o->json_out || o->md_out || o->html_out) {   /* the same encoding as a document */
        lineage_doc *d = NULL;
        int rc = 0;
        if (lineage_tokenize_report(t, o->positional[0], text, len, &d, &err)) rc = cli_fail(&err);
        if (!rc && o->json_out) rc = write_doc(o->json_out, d, LINEAGE_RENDER_JSON, o->lang);
        if (!rc && o->md_out) rc = write_doc(o->md_out, d, LINEAGE_RENDER_MARKDOWN, o->lang);
        if (!rc && o->html_out) rc = write_doc(o->html_out, d, LINEAGE_RENDER_HTML, o->lang);
        if (!rc && o->journal) rc = append_journal(o, d);
        lineage_doc_free(d);
        if (rc) {
            free(text);
            lineage_tokenizer_close(t);
            return rc;
        }
        if ((o->json_out && !strcmp(o->json_out, "-")) || (o->md_out && !strcmp(o->md_out, "-")) ||
            (o->html_out && !strcmp(o->html_out, "-"))) {
            free(text);
            lineage_tokenizer_close(t);
            return 0;
        }
    }
    uint32_t *ids;
    size_t count;
    lineage_status st = lineage_tokenize(t, text, len, &ids, &count, &err);
    free(text);
    if (st) {
        lineage_tokenizer_close(t);
        return cli_fail(&err);
    }
    for (size_t i = 0; i < count; i++) {
        if (o->ids_only) {
            printf(i ? " %u" : "%u", ids[i]);
        } else {
            size_t pl;
            const char *piece = lineage_tokenizer_bytes(t, ids[i], &pl);
            printf("%u\t", ids[i]);
            /* newline and tab as \n and \t, every other control, C1 and bidi override escaped */
            for (size_t k = 0, run = 0; piece && k <= pl; k++) {
                if (k < pl && piece[k] != '\n' && piece[k] != '\t') continue;
                lineage_write_escaped(stdout, piece + run, k - run, NULL);
                if (k < pl) fputs(piece[k] == '\n' ? "\\n" : "\\t", stdout);
                run = k + 1;
            }
            putchar('\n');
        }
    }
    if (o->ids_only) putchar('\n');
    free(ids);
    lineage_tokenizer_close(t);
    return 0;
}

int cli_run(const cli_options *o)
{
    if (o->npositional < 1 || o->npositional > 2) {
        fprintf(stderr, "lineage: run wants MODEL [TEXT]\n");
        return 2;
    }
    if (o->input_ids && o->npositional == 2) {
        fprintf(stderr, "lineage: run takes TEXT or --input-ids, not both\n");
        return 2;
    }
    if (o->inspect.tokens > 100000) {
        fprintf(stderr, "lineage: --tokens for run wants at most 100000\n");
        return 2;
    }
    lineage_error err = {0, ""};
    lineage_model *m;
    if (lineage_model_open(o->positional[0], &m, &err)) return cli_fail(&err);
    size_t len = 0;
    char *text = o->input_ids ? NULL : read_input(o->npositional == 2 ? o->positional[1] : NULL, &len);
    if (!o->input_ids && !text) {
        lineage_model_close(m);
        fprintf(stderr, "lineage: out of memory\n");
        return 1;
    }
    lineage_run_options ro = {o->top_k, (int)o->inspect.tokens, o->compare.threads, o->input_ids, o->ninput_ids,
                              o->add_bos, o->logits_out};
    lineage_doc *d;
    lineage_status st = lineage_run(m, text, len, &ro, &d, &err);
    free(text);
    int rc = st ? cli_fail(&err) : cli_emit(o, d);
    if (!st) lineage_doc_free(d);
    lineage_model_close(m);
    return rc;
}
