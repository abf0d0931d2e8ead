#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static int bad(const char *msg, const char *arg)
{
    fprintf(stderr, "lineage: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    return 2;
}

/* "19.7T", "500B", "2e12" */
static int parse_count(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno) return 0;
    double mul = 1;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': mul = 1e3; break;
        case 'm': case 'M': mul = 1e6; break;
        case 'b': case 'B': case 'g': case 'G': mul = 1e9; break;
        case 't': case 'T': mul = 1e12; break;
        default: return 0;
        }
        if (end[1]) return 0;
    }
    v *= mul;
    if (!isfinite(v) || v < 0) return 0;
    *out = v;
    return 1;
}

/* "5000000", "500M", "2G" (decimal), "64KiB", "1.5GiB" (binary) */
static int parse_bytes(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0) return 0;
    static const struct { const char *suffix; double mul; } units[] = {
        {"", 1}, {"B", 1}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
        {"TB", 1e12}, {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(end, units[i].suffix)) {
            v *= units[i].mul;
            if (v < 1 || v > 1.8e19) return 0;
            *out = (uint64_t)v;
            return 1;
        }
    return 0;
}

static int progress_tty;

static void show_progress(const lineage_remote_progress *p, void *user)
{
    (void)user;
    double rate = p->seconds > 0 ? (double)p->bytes_fetched / p->seconds : 0;
    fprintf(stderr, "\rlineage: fetched %.1f MiB in %llu requests (%.1f MiB/s)\033[K", (double)p->bytes_fetched / 1048576.0,
            (unsigned long long)p->requests, rate / 1048576.0);
    progress_tty = 2;
}

void cli_remote_setup(cli_options *o)
{
    progress_tty = isatty(STDERR_FILENO);
    o->remote.progress = progress_tty ? show_progress : NULL;
    lineage_set_remote_options(&o->remote);
}

void cli_remote_finish(int rc)
{
    lineage_remote_progress p;
    lineage_remote_progress_get(&p);
    if (progress_tty == 2) fprintf(stderr, "\r\033[K");
    if (rc == 0 && p.requests) {
        double rate = p.seconds > 0 ? (double)p.bytes_fetched / p.seconds : 0;
        fprintf(stderr, "lineage: fetched %.1f MiB in %llu requests (%.1f MiB/s)\n", (double)p.bytes_fetched / 1048576.0,
                (unsigned long long)p.requests, rate / 1048576.0);
    }
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

/* "1,2,3" (spaces allowed) into o->input_ids */
static int parse_ids(const char *s, cli_options *o)
{
    free(o->input_ids);
    o->input_ids = NULL;
    o->ninput_ids = 0;
    size_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    o->input_ids = malloc(cap * sizeof *o->input_ids);
    if (!o->input_ids) return 0;
    const char *p = s;
    for (;;) {
        while (*p == ' ') p++;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || errno || v > UINT32_MAX || *p == '-') return 0;
        o->input_ids[o->ninput_ids++] = (uint32_t)v;
        p = end;
        while (*p == ' ') p++;
        if (!*p) return 1;
        if (*p != ',') return 0;
        p++;
    }
}

int cli_parse(int argc, char **argv, cli_options *o)
{
    memset(o, 0, sizeof *o);
    o->command = argv[0];
    o->inspect.peak_tflops = 989.0;
    o->inspect.mfu = 0.4;
    o->compare.sample = 1.0;
    int in_against = 0, in_panel = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE() do { if (!val) return bad("missing value after", a); i++; } while (0)
        if (!strcmp(a, "--json")) { NEED_VALUE(); o->json_out = val; }
        else if (!strcmp(a, "--md")) { NEED_VALUE(); o->md_out = val; }
        else if (!strcmp(a, "--html")) { NEED_VALUE(); o->html_out = val; }
        else if (!strcmp(a, "--journal")) { NEED_VALUE(); o->journal = val; }
        else if (!strcmp(a, "--journal-marker")) { NEED_VALUE(); o->journal_marker = val; }
        else if (!strcmp(a, "--lang")) {
            NEED_VALUE();
            if (strcmp(val, "ko") && strcmp(val, "en")) return bad("--lang must be ko or en", val);
            o->lang = val;
            o->lang_explicit = 1;
        }
        else if (!strcmp(a, "--no-color")) o->no_color = 1;
        else if (!strcmp(a, "--cache")) { NEED_VALUE(); o->remote.cache_dir = val; }
        else if (!strcmp(a, "--offline")) o->remote.offline = 1;
        else if (!strcmp(a, "--budget")) {
            NEED_VALUE();
            if (!parse_bytes(val, &o->remote.budget_bytes)) return bad("--budget wants a byte count like 500M or 2GiB", val);
        }
        else if (!strcmp(a, "--timeout")) {
            NEED_VALUE();
            if (!parse_double(val, &o->remote.timeout_seconds) || o->remote.timeout_seconds <= 0)
                return bad("--timeout wants a number of seconds greater than 0", val);
        }
        else if (!strcmp(a, "--ids")) o->ids_only = 1;
        else if (!strcmp(a, "--lines")) o->sep = "\n";
        else if (!strcmp(a, "--sep")) {
            NEED_VALUE();
            if (!*val) return bad("--sep wants a non-empty separator", a);
            o->sep = val;
        }
        else if (!strcmp(a, "--sha256")) o->compare.sha256 = 1;
        else if (!strcmp(a, "--tokens")) {
            NEED_VALUE();
            if (!parse_count(val, &o->inspect.tokens)) return bad("--tokens wants a count like 19.7T", val);
        }
        else if (!strcmp(a, "--finetune-tokens")) {
            NEED_VALUE();
            if (!parse_count(val, &o->inspect.finetune_tokens)) return bad("--finetune-tokens wants a count", val);
        }
        else if (!strcmp(a, "--peak-tflops")) {
            NEED_VALUE();
            if (!parse_double(val, &o->inspect.peak_tflops) || o->inspect.peak_tflops <= 0)
                return bad("--peak-tflops wants a positive number", val);
            o->inspect.gpu = NULL;
        }
        else if (!strcmp(a, "--gpu")) {   /* dense BF16 peaks from the vendors' data sheets (SXM parts) */
            NEED_VALUE();
            static const struct { const char *key, *name; double tflops; } gpus[] = {
                {"a100", "A100 SXM", 312}, {"h100", "H100 SXM", 989},
                {"h200", "H200 SXM", 989}, {"b200", "B200", 2250}};
            size_t k = 0;
            while (k < 4 && strcmp(val, gpus[k].key)) k++;
            if (k == 4) return bad("--gpu wants h100, h200, b200 or a100", val);
            o->inspect.gpu = gpus[k].name;
            o->inspect.peak_tflops = gpus[k].tflops;
        }
        else if (!strcmp(a, "--gpus")) {
            NEED_VALUE();
            double g;
            if (!parse_double(val, &g) || g < 1 || g > 1e7 || g != floor(g)) return bad("--gpus wants a count of GPUs", val);
            o->inspect.gpus = (int)g;
        }
        else if (!strcmp(a, "--mfu")) {
            NEED_VALUE();
            if (!parse_double(val, &o->inspect.mfu) || o->inspect.mfu <= 0 || o->inspect.mfu > 1)
                return bad("--mfu wants a fraction in (0, 1]", val);
        }
        else if (!strcmp(a, "--sample")) {
            NEED_VALUE();
            if (!parse_double(val, &o->compare.sample) || !(o->compare.sample > 0 && o->compare.sample <= 1))
                return bad("--sample wants a fraction in (0, 1]", val);
        }
        else if (!strcmp(a, "--threads")) {
            NEED_VALUE();
            double t;
            if (!parse_double(val, &t) || t < 1 || t > 1024 || t != floor(t)) return bad("--threads wants 1..1024", val);
            o->compare.threads = (int)t;
        }
        else if (!strcmp(a, "--only")) {
            NEED_VALUE();
            char buf[128];
            snprintf(buf, sizeof buf, "%s", val);
            for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
                if (!strcmp(tok, "arch")) o->compare.only |= LINEAGE_ONLY_ARCH;
                else if (!strcmp(tok, "tokenizer")) o->compare.only |= LINEAGE_ONLY_TOKENIZER;
                else if (!strcmp(tok, "weights")) o->compare.only |= LINEAGE_ONLY_WEIGHTS;
                else if (!strcmp(tok, "behaviour") || !strcmp(tok, "behavior")) o->compare.only |= LINEAGE_ONLY_BEHAVIOUR;
                else if (!strcmp(tok, "activations")) o->compare.only |= LINEAGE_ONLY_ACTIVATIONS;
                else return bad("--only wants arch, tokenizer, weights, behaviour or activations", tok);
            }
        }
        else if (!strcmp(a, "--probes")) { NEED_VALUE(); o->compare.probes_file = val; }
        else if (!strcmp(a, "--endpoint")) { NEED_VALUE(); o->compare.endpoint_b = val; }
        else if (!strcmp(a, "--endpoint-a")) { NEED_VALUE(); o->compare.endpoint_a = val; }
        else if (!strcmp(a, "--run")) o->compare.run_models = 1;
        else if (!strcmp(a, "--no-run")) o->compare.run_models = -1;
        else if (!strcmp(a, "--top-k")) {
            NEED_VALUE();
            double t;
            if (!parse_double(val, &t) || t < 1 || t > 1000 || t != floor(t)) return bad("--top-k wants 1..1000", val);
            o->top_k = (int)t;
        }
        else if (!strcmp(a, "--input-ids")) {
            NEED_VALUE();
            if (!parse_ids(val, o)) return bad("--input-ids wants comma-separated token ids like 1,2,3", val);
        }
        else if (!strcmp(a, "--logits-out")) { NEED_VALUE(); o->logits_out = val; }
        else if (!strcmp(a, "--bos")) o->add_bos = 1;
        else if (!strcmp(a, "--no-bos")) o->add_bos = -1;
        else if (!strcmp(a, "--system")) { NEED_VALUE(); o->ask.system = val; }
        else if (!strcmp(a, "--max-tokens") || !strcmp(a, "--temperature") || !strcmp(a, "--seed")) {
            NEED_VALUE();
            char *end;
            double v = strtod(val, &end);
            if (end == val || *end || !(v >= 0) || v > 1e18) return bad("wants a non-negative number:", a);
            if (a[2] == 'm') o->ask.max_tokens = v > 1e6 ? 1000000 : (int)v;
            else if (a[2] == 't') o->ask.temperature = v;
            else o->ask.seed = (uint64_t)v;
        }
        else if (!strcmp(a, "--greedy")) o->ask.temperature = 0;
        else if (!strcmp(a, "--raw")) o->ask.raw = 1;
        else if (!strcmp(a, "--print-prompt")) o->print_prompt = 1;
        else if (!strcmp(a, "--battery")) { NEED_VALUE(); o->battery = val; }
        else if (!strcmp(a, "--index")) { NEED_VALUE(); o->index_uri = val; }
        else if (!strcmp(a, "--list")) { NEED_VALUE(); o->list_file = val; }
        else if (!strcmp(a, "--exclude")) {
            NEED_VALUE();
            if (o->nexclude >= CLI_MAX_POSITIONAL) return bad("too many --exclude", val);
            o->exclude[o->nexclude++] = val;
        }
        else if (!strcmp(a, "--replace")) o->replace = 1;
        else if (!strcmp(a, "--confirm")) o->confirm = 1;
        else if (!strcmp(a, "--top")) {
            NEED_VALUE();
            double t;
            if (!parse_double(val, &t) || t < 1 || t > 1000 || t != floor(t)) return bad("--top wants 1..1000", val);
            o->top = (int)t;
        }
        else if (!strcmp(a, "--panel")) { in_against = 0; in_panel = 1; }
        else if (!strcmp(a, "--against")) { in_panel = 0; in_against = 1; }
        else if (a[0] == '-' && a[1] == '-') return bad("unknown option", a);
        else if (in_panel) {
            if (o->npanel >= CLI_MAX_POSITIONAL) return bad("too many panel models", a);
            o->panel[o->npanel++] = a;
        }
        else if (in_against) {
            if (o->nagainst >= CLI_MAX_POSITIONAL) return bad("too many references", a);
            o->against[o->nagainst++] = a;
        } else {
            if (o->npositional >= CLI_MAX_POSITIONAL) return bad("too many arguments", a);
            o->positional[o->npositional++] = a;
        }
#undef NEED_VALUE
    }
    if (!o->lang) {
        const char *l = getenv("LC_ALL");
        if (!l || !*l) l = getenv("LANG");
        o->lang = (l && !strncmp(l, "ko", 2)) ? "ko" : "en";
    }
    return 0;
}
