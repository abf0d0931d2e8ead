/* The verification journal: a running Markdown Q&A record, one dated entry per result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/file.h"
#include "report/doc_walk.h"
#include "util/error.h"
#include "util/sanitize.h"

#define JOURNAL_MARKER "<!-- lineage:journal -->"
#define JOURNAL_MAX_BYTES (64u << 20)

static void today(char *buf, size_t n)
{
    /* SOURCE_DATE_EPOCH makes entries reproducible in tests */
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    time_t t = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d", &tm);
}

/* A translated sentence whose %s slots (at most two) are untrusted names, each shown as a code span. */
static void code_printf(strbuf *sb, const char *fmt, const char *first, const char *second)
{
    const char *args[2] = {first, second};
    int k = 0;
    for (const char *p = fmt; *p; p++) {
        if (p[0] == '%' && p[1] == 's' && k < 2 && args[k]) {
            sanitize_markdown_code(sb, args[k++]);
            p++;
        } else sb_putc(sb, *p);
    }
}

/* verify: the candidate the outputs point to (compare entries list the behaviour finding in run_sections). */
static void behaviour_closest_entry(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    const json_value *closest = json_get(root, "behaviour_closest");
    if (closest && closest->type == JSON_STRING) {
        sb_printf(sb, "\n%s ", tr(ctx, "Outputs are significantly closest to", "출력이 유의하게 가장 가까운 후보:"));
        sanitize_markdown_code(sb, closest->u.string.s);
        sb_putc(sb, '\n');
    }
}

/* The lines of evidence that run the models: each finding with its p-value, or why it was not run. */
static void run_sections(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    static const char *const names[][3] = {{"behaviour", "Behaviour (output distributions)", "출력 분포"},
                                           {"activations", "Activations", "활성값"}};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const json_value *sec = json_get(root, names[k][0]);
        if (!sec) continue;
        sb_printf(sb, "\n%s:", tr(ctx, names[k][1], names[k][2]));
        const char *status = json_get_string(sec, "status");
        if (status && strcmp(status, "ok")) {
            const char *why = json_get_string(sec, "reason");
            sb_printf(sb, " %s%s", tr(ctx, "not run", "실행하지 않음"), why ? " — " : "");
            if (why) sanitize_markdown(sb, why);
            sb_putc(sb, '\n');
            continue;
        }
        sb_putc(sb, '\n');
        const json_value *fs = json_get(sec, "findings");
        for (size_t i = 0; i < json_count(fs); i++) {
            const json_value *f = json_at(fs, i);
            char p[64];
            scalar_text(json_get(f, "p"), p, sizeof p);
            sb_puts(sb, "- ");
            sanitize_markdown(sb, finding_text(f, ctx));
            if (json_get(f, "p")) sb_printf(sb, " (p %s)", p);
            sb_putc(sb, '\n');
        }
    }
}

static void entry(strbuf *sb, const json_value *root, const char *command, const render_ctx *ctx)
{
    const json_value *models = json_get(root, "models"), *v = json_get(root, "verdict");
    const char *a = json_get_string(models, "a"), *b = json_get_string(models, "b");
    const char *schema = json_get_string(root, "schema");
    char date[32];
    today(date, sizeof date);
    int verify = schema && !strcmp(schema, "lineage.verify/1");
    if (verify) {
        const char *m = json_get_string(root, "model");
        sb_printf(sb, "## %s · %s\n\n**Q.** ", date, tr(ctx, "Which candidate is the parent?", "어느 후보가 부모 모델인가?"));
        code_printf(sb, tr(ctx, "Which of the candidates was %s derived from, if any?", "%s는 후보 중 어느 모델에서 파생되었는가?"),
                    m ? m : "?", NULL);
        const char *parent = json_get_string(root, "parent");
        double margin = 0;
        json_get_double(root, "margin", &margin);
        sb_puts(sb, "\n\n**A.** ");
        if (parent) {
            sanitize_markdown_code(sb, parent);
            sb_printf(sb, tr(ctx, ", ahead of the next candidate by a margin of %.2f.", " (다음 후보와의 차이 %.2f)."), margin);
        }
        else sb_puts(sb, tr(ctx, "No candidate stands out clearly as the parent.", "부모로 뚜렷이 드러나는 후보가 없습니다."));
        sb_puts(sb, "\n\n");
        const json_value *cands = json_get(root, "candidates");
        for (size_t i = 0; i < json_count(cands); i++) {
            const json_value *c = json_at(cands, i);
            double conf = 0;
            json_get_double(c, "confidence", &conf);
            const char *lab = json_get_string(c, "label");
            sb_puts(sb, "- ");
            sanitize_markdown_code(sb, json_get_string(c, "reference") ? json_get_string(c, "reference") : "?");
            sb_printf(sb, ": %s, %s %.2f\n", verdict_label_text(lab ? lab : "inconclusive", ctx), tr(ctx, "confidence", "신뢰도"),
                      conf);
        }
    } else {
        sb_printf(sb, "## %s · %s\n\n**Q.** ", date, tr(ctx, "Was B derived from A?", "B는 A에서 파생되었는가?"));
        code_printf(sb, tr(ctx, "Was %s derived from %s?", "%s는 %s에서 파생되었는가?"), b ? b : "B", a ? a : "A");
        sb_puts(sb, "\n\n");
        const char *label = json_get_string(v, "label");
        double conf = 0;
        json_get_double(v, "confidence", &conf);
        sb_printf(sb, "**A.** **%s**", verdict_label_text(label ? label : "inconclusive", ctx));
        const json_value *rel = json_get(v, "relation");
        for (size_t i = 0; i < json_count(rel); i++) {
            sb_puts(sb, i ? ", " : " (");
            if (json_at(rel, i)->type == JSON_STRING) sanitize_markdown(sb, json_at(rel, i)->u.string.s);
        }
        if (json_count(rel)) sb_putc(sb, ')');
        sb_printf(sb, ", %s %.2f.\n\n", tr(ctx, "confidence", "신뢰도"), conf);
        const json_value *reasons = json_get(v, ctx->korean ? "reasons_ko" : "reasons");
        for (size_t i = 0; i < json_count(reasons); i++) {
            if (json_at(reasons, i)->type != JSON_STRING) continue;
            sb_puts(sb, "- ");
            sanitize_markdown(sb, json_at(reasons, i)->u.string.s);
            sb_putc(sb, '\n');
        }
        const json_value *ev = json_get(v, "evidence");
        if (json_count(ev)) sb_printf(sb, "\n%s\n\n", tr(ctx, "Key evidence, with controls:", "주요 근거와 대조군:"));
        for (size_t i = 0; i < json_count(ev) && i < 6; i++) {
            const json_value *f = json_at(ev, i);
            char val[64], z[64], p[64];
            scalar_text(json_get(f, "value"), val, sizeof val);
            scalar_text(json_get(f, "z"), z, sizeof z);
            scalar_text(json_get(f, "p"), p, sizeof p);
            const json_value *ctl = json_get(f, "control");
            const char *cd = ctl && ctl->type == JSON_OBJECT ? json_get_string(ctl, "description")
                                                            : (ctl && ctl->type == JSON_STRING ? ctl->u.string.s : NULL);
            sb_puts(sb, "- ");
            sanitize_markdown(sb, finding_text(f, ctx));
            sb_printf(sb, ": %s", val);
            if (cd) {
                sb_printf(sb, " (%s: ", tr(ctx, "control", "대조군"));
                sanitize_markdown(sb, cd);
                sb_printf(sb, "; z %s, p %s)", z, p);
            }
            sb_putc(sb, '\n');
        }
        run_sections(sb, root, ctx);
    }
    behaviour_closest_entry(sb, root, ctx);
    /* the command sits in a fence: one line, so no input can close it */
    sb_printf(sb, "\n%s\n\n```sh\n", tr(ctx, "Reproduce with:", "재현 명령:"));
    sanitize_terminal(sb, command, strlen(command), 0);
    sb_puts(sb, "\n```\n\n");
}

lineage_status lineage_journal_append(const lineage_doc *d, const char *path, const char *command, const char *lang,
                                      lineage_error *err)
{
    render_ctx ctx = {lang && !strcmp(lang, "ko"), 0};
    char *old = NULL;
    size_t oldlen = 0;
    if (path_is_file(path)) {
        lineage_status st = file_read_all(path, JOURNAL_MAX_BYTES, &old, &oldlen, err);
        if (st) return st;
    }
    strbuf e, out;
    sb_init(&e);
    sb_init(&out);
    entry(&e, d->root, command, &ctx);
    strbuf clean;   /* whatever an entry let through: no control byte in the journal */
    sb_init(&clean);
    sanitize_terminal(&clean, sb_str(&e), e.len, SANITIZE_KEEP_LINES);
    sb_free(&e);
    e = clean;
    if (!old) {
        sb_printf(&out, "# %s\n\n%s\n\n", tr(&ctx, "Verification journal", "검증 일지"),
                  tr(&ctx, "Entries are appended by `lineage --journal`; newest last, each with the command that "
                           "reproduces it.",
                     "`lineage --journal`이 항목을 추가합니다. 최신 항목이 마지막이며, 각 항목에 재현 명령이 있습니다."));
        sb_puts(&out, sb_str(&e));
        sb_puts(&out, JOURNAL_MARKER "\n");
    } else {
        const char *mk = strstr(old, JOURNAL_MARKER);
        if (mk) {
            sb_putn(&out, old, (size_t)(mk - old));
            sb_puts(&out, sb_str(&e));
            sb_puts(&out, mk);
        } else {
            sb_putn(&out, old, oldlen);
            if (oldlen && old[oldlen - 1] != '\n') sb_putc(&out, '\n');
            sb_putc(&out, '\n');
            sb_puts(&out, sb_str(&e));
            sb_puts(&out, JOURNAL_MARKER "\n");
        }
    }
    free(old);
    sb_free(&e);
    if (out.failed) {
        sb_free(&out);
        return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    }
    /* write to a temporary file beside it, then rename: never a half-written journal */
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp) {
        sb_free(&out);
        return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    }
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    lineage_status st = LINEAGE_OK;
    if (!f) st = error_set(err, LINEAGE_E_IO, "%s: cannot write: %s", tmp, strerror(errno));
    else {
        int ok = fwrite(out.data, 1, out.len, f) == out.len;
        if (fclose(f) != 0 || !ok) st = error_set(err, LINEAGE_E_IO, "%s: write failed", tmp);
        else if (rename(tmp, path) != 0) st = error_set(err, LINEAGE_E_IO, "%s: cannot replace: %s", path, strerror(errno));
        if (st) unlink(tmp);
    }
    free(tmp);
    sb_free(&out);
    return st;
}
