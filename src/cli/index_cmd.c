/* lineage index add|list|remove, lineage search, verify --index. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* Terminal-safe copy of an untrusted name (control bytes shown as '?'). */
static const char *safe(const char *s, char *buf, size_t n)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++) buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[i] = 0;
    return buf;
}

typedef struct batch { int added, present, failed, rc; } batch;

static void add_one(lineage_index *ix, const cli_options *o, const char *model, const char *name, int i, int n, batch *b)
{
    char shown[512];
    lineage_error err = {0, ""};
    int has = 0;
    if (!o->replace && lineage_index_contains(ix, name, &has, &err) == LINEAGE_OK && has) {
        fprintf(stderr, "lineage: [%d/%d] %s: already indexed\n", i, n, safe(name, shown, sizeof shown));
        b->present++;
        return;
    }
    lineage_model *m;
    lineage_index_added info;
    lineage_status st = lineage_model_open(model, &m, &err);
    if (!st) {
        char real[PATH_MAX];
        const char *source = strncmp(model, "hf://", 5) && realpath(model, real) ? real : model;
        st = lineage_index_add(ix, m, name, source, o->replace, &info, &err);
        lineage_model_close(m);
    }
    if (st) {
        fprintf(stderr, "lineage: [%d/%d] %s: %s\n", i, n, safe(name, shown, sizeof shown), err.message);
        b->failed++;
        int rc = lineage_exit_code(err.code);
        if (rc > b->rc) b->rc = rc;
        return;
    }
    if (info.added) b->added++;
    else b->present++;
    fprintf(stderr, "lineage: [%d/%d] %s: %s (%zu-byte fingerprint, %llu weight bytes read, %u retrieval keys)\n", i, n,
            safe(name, shown, sizeof shown), info.added ? "added" : "already indexed", info.fingerprint_bytes,
            (unsigned long long)info.bytes_read, info.retrieval_keys);
}

/* --list FILE: "MODEL [NAME]" per line; blank lines and # comments skipped. */
static int add_list(lineage_index *ix, const cli_options *o, batch *b)
{
    FILE *f = fopen(o->list_file, "r");
    if (!f) {
        fprintf(stderr, "lineage: %s: cannot read the list\n", o->list_file);
        return 3;
    }
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f)) n++;
    rewind(f);
    int i = 0;
    while (fgets(line, sizeof line, f)) {
        i++;
        char *p = line + strspn(line, " \t");
        p[strcspn(p, "\r\n")] = 0;
        if (!*p || *p == '#') continue;
        char *model = strtok(p, " \t"), *name = strtok(NULL, " \t");
        add_one(ix, o, model, name ? name : model, i, n, b);
    }
    fclose(f);
    return 0;
}

int cli_index(const cli_options *o)
{
    const char *verb = o->npositional ? o->positional[0] : "";
    if (!o->index_uri || (strcmp(verb, "add") && strcmp(verb, "list") && strcmp(verb, "remove"))) {
        fprintf(stderr, "lineage: index wants add|list|remove and --index FILE|postgresql://...\n");
        return 2;
    }
    if (!strcmp(verb, "add") && o->npositional < 2 && !o->list_file) {
        fprintf(stderr, "lineage: index add wants MODEL... or --list FILE\n");
        return 2;
    }
    if (!strcmp(verb, "remove") && o->npositional < 2) {
        fprintf(stderr, "lineage: index remove wants NAME...\n");
        return 2;
    }
    lineage_error err = {0, ""};
    lineage_index *ix;
    if (lineage_index_open(o->index_uri, &ix, &err)) return cli_fail(&err);
    int rc = 0;
    if (!strcmp(verb, "list")) {
        lineage_doc *d;
        if (lineage_index_list(ix, &d, &err)) rc = cli_fail(&err);
        else {
            rc = cli_emit(o, d);
            lineage_doc_free(d);
        }
    } else if (!strcmp(verb, "remove")) {
        for (int i = 1; i < o->npositional && !rc; i++) {
            int removed;
            char shown[512];
            if (lineage_index_remove(ix, o->positional[i], &removed, &err)) rc = cli_fail(&err);
            else printf("%s: %s\n", safe(o->positional[i], shown, sizeof shown), removed ? "removed" : "not in the index");
        }
    } else {
        batch b = {0, 0, 0, 0};
        int total = o->npositional - 1;
        for (int i = 1; i < o->npositional; i++) add_one(ix, o, o->positional[i], o->positional[i], i, total, &b);
        if (o->list_file) rc = add_list(ix, o, &b);
        printf("indexed %d new, %d already present, %d failed\n", b.added, b.present, b.failed);
        if (!rc) rc = b.rc;
    }
    lineage_index_close(ix);
    return rc;
}

/* Searches; *sources gets the candidates' stored sources (strdup'd) when wanted. */
static int run_search(const cli_options *o, int emit, char **sources, int *nsources)
{
    if (o->npositional != 1 || !o->index_uri) {
        fprintf(stderr, "lineage: %s wants MODEL --index FILE|postgresql://...\n", o->command);
        return 2;
    }
    lineage_error err = {0, ""};
    lineage_index *ix;
    if (lineage_index_open(o->index_uri, &ix, &err)) return cli_fail(&err);
    lineage_model *m;
    int rc = 0;
    if (lineage_model_open(o->positional[0], &m, &err)) {
        lineage_index_close(ix);
        return cli_fail(&err);
    }
    lineage_search_options so = {o->top, o->exclude, (size_t)o->nexclude};
    lineage_doc *d;
    if (lineage_search(ix, m, &so, &d, &err)) rc = cli_fail(&err);
    else {
        if (emit) rc = cli_emit(o, d);
        if (sources) {
            const char *src[CLI_MAX_POSITIONAL];
            size_t n = lineage_search_sources(d, src, (size_t)(o->top > 0 && o->top < CLI_MAX_POSITIONAL ? o->top : 5));
            for (size_t i = 0; i < n; i++)
                if ((sources[*nsources] = strdup(src[i]))) (*nsources)++;
        }
        lineage_doc_free(d);
    }
    lineage_model_close(m);
    lineage_index_close(ix);
    return rc;
}

static int confirm(const cli_options *o, int emit_search)
{
    char *sources[CLI_MAX_POSITIONAL];
    int n = 0;
    int rc = run_search(o, emit_search, sources, &n);
    if (!rc && n == 0) {
        fprintf(stderr, "lineage: the index holds no candidate for %s\n", o->positional[0]);
        rc = 3;
    }
    if (!rc) rc = cli_verify_list(o, (const char *const *)sources, n, 1);
    for (int i = 0; i < n; i++) free(sources[i]);
    return rc;
}

int cli_search(const cli_options *o)
{
    return o->confirm ? confirm(o, 1) : run_search(o, 1, NULL, NULL);
}

int cli_verify_index(const cli_options *o)
{
    return confirm(o, 0);
}
