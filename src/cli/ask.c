/* lineage ask: one question to an instruction model, the answer streamed to the terminal as it is
 * produced; --print-prompt shows the exact prompt bytes instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static void stream_out(const char *bytes, size_t len, void *user)
{
    (void)user;
    fwrite(bytes, 1, len, stdout);
    fflush(stdout);
}

/* Whether a report goes to stdout (then the answer is not streamed there). */
static int report_to_stdout(const cli_options *o)
{
    const char *outs[] = {o->json_out, o->md_out, o->html_out};
    for (int i = 0; i < 3; i++)
        if (outs[i] && !strcmp(outs[i], "-")) return 1;
    return 0;
}

static void battery_progress(size_t i, size_t n, void *user)
{
    (void)user;
    if (isatty(STDERR_FILENO)) fprintf(stderr, "\r[%zu/%zu]", i + 1, n);
}

static int ask_battery(const cli_options *o, lineage_model *m)
{
    lineage_ask_options ao = o->ask;
    ao.threads = o->compare.threads;
    ao.endpoint = o->compare.endpoint_b;
    ao.label = o->positional[0];
    if (!ao.max_tokens) ao.max_tokens = 128;
    lineage_error err = {0, ""};
    lineage_doc *d;
    lineage_status st = lineage_ask_battery(m, o->battery, &ao, battery_progress, NULL, &d, &err);
    if (isatty(STDERR_FILENO)) fputs("\r\033[K", stderr);
    if (st) return cli_fail(&err);
    int rc = cli_emit(o, d);
    lineage_doc_free(d);
    return rc;
}

int cli_ask(const cli_options *o)
{
    if (o->battery && o->npositional == 1) {
        lineage_error err = {0, ""};
        lineage_model *m = NULL;
        if (!o->compare.endpoint_b && lineage_model_open(o->positional[0], &m, &err)) return cli_fail(&err);
        int rc = ask_battery(o, m);
        lineage_model_close(m);
        return rc;
    }
    if (o->battery) {
        fprintf(stderr, "lineage: ask --battery wants MODEL only (the questions come from the battery)\n");
        return 2;
    }
    if (o->npositional < 1 || o->npositional > 2) {
        fprintf(stderr, "lineage: ask wants MODEL [QUESTION] (the question from stdin when absent)\n");
        return 2;
    }
    const char *endpoint = o->compare.endpoint_b;
    lineage_error err = {0, ""};
    lineage_model *m = NULL;
    if (!endpoint && lineage_model_open(o->positional[0], &m, &err)) return cli_fail(&err);
    char *question = NULL;
    if (o->npositional == 2) {
        question = strdup(o->positional[1]);
    } else {   /* stdin, at most 1 MiB */
        size_t cap = 1u << 20, n = 0;
        question = malloc(cap + 1);
        if (question) {
            n = fread(question, 1, cap, stdin);
            while (n && (question[n - 1] == '\n' || question[n - 1] == '\r')) n--;
            question[n] = 0;
        }
    }
    if (!question) {
        lineage_model_close(m);
        fprintf(stderr, "lineage: out of memory\n");
        return 1;
    }
    int rc = 0;
    if (o->print_prompt) {
        char *prompt;
        size_t len;
        int templated;
        if (endpoint) {
            fprintf(stderr, "lineage: --print-prompt needs the model itself (the server applies its own template)\n");
            rc = 2;
        } else if (lineage_chat_prompt(m, o->ask.system, question, o->ask.raw, &prompt, &len, &templated, &err)) {
            rc = cli_fail(&err);
        } else {
            if (!templated) fprintf(stderr, "lineage: %s has no chat template: raw-prompt mode\n", o->positional[0]);
            fwrite(prompt, 1, len, stdout);
            free(prompt);
        }
    } else {
        lineage_ask_options ao = o->ask;
        ao.threads = o->compare.threads;
        ao.endpoint = endpoint;
        ao.label = o->positional[0];
        int streaming = !report_to_stdout(o);
        char *probe;
        size_t plen;
        int templated = 1;
        if (!endpoint && !o->ask.raw && !lineage_chat_prompt(m, o->ask.system, question, 0, &probe, &plen, &templated, &err)) {
            if (!templated)
                fprintf(stderr, "lineage: %s has no chat template: the question is sent as a raw prompt\n", o->positional[0]);
            free(probe);
        }
        if (streaming) {
            ao.stream = stream_out;
        }
        lineage_doc *d;
        if (lineage_ask(m, question, &ao, &d, &err)) {
            if (streaming) fputc('\n', stdout);
            rc = cli_fail(&err);
        } else {
            if (streaming) fputc('\n', stdout);
            /* the answer is already on the terminal: the other outputs are files (or stdout instead) */
            cli_options files = *o;
            files.no_color = 1;
            rc = cli_emit_files(&files, d, !streaming);
            lineage_doc_free(d);
        }
    }
    free(question);
    lineage_model_close(m);
    return rc;
}
