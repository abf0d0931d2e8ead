/* "tokenizer" section of lineage.report/1 through any sink: relation first, then sizes, overlap,
 * ID alignment, merges, special tokens and probe segmentation. */
#include <stdio.h>
#include <string.h>

#include "report/document.h"
#include "report/msg.h"
#include "report/report.h"
#include "report/text_util.h"

static void side_line(doc_sink *sk, const char *label, const json_value *side)
{
    const render_ctx *ctx = sk->ctx;
    int64_t size = 0, ord = 0, sp = 0, cv = -1, pad = 0;
    json_get_int(side, "size", &size);
    json_get_int(side, "ordinary", &ord);
    json_get_int(side, "special", &sp);
    char v[256];
    doc_rowf(sk, label, tr(ctx, "%s %s (%s), %lld ids: %lld ordinary + %lld special", "%s %s (%s), ID %lld개: 일반 %lld개 + 특수 %lld개"),
             json_get_string(side, "model") ? json_get_string(side, "model") : "?",
             json_get_string(side, "surface") ? json_get_string(side, "surface") : "",
             json_get_string(side, "format") ? json_get_string(side, "format") : "", (long long)size, (long long)ord,
             (long long)sp);
    if (json_get_int(side, "config_vocab_size", &cv) && json_get_int(side, "padding", &pad) && pad != 0) {
        snprintf(v, sizeof v, "%lld (%+lld %s)", (long long)cv, (long long)pad,
                 tr(ctx, "rows without a token", "토큰 없는 행"));
        sk->row(sk, tr(ctx, "  config vocab_size", "  config vocab_size"), v);
    }
}

void doc_tokenizer(doc_sink *sk, const json_value *s)
{
    const render_ctx *ctx = sk->ctx;
    sk->heading(sk, 2, tr(ctx, "Tokenizer", "토크나이저"));
    const char *status = json_get_string(s, "status");
    if (status && !strcmp(status, "missing")) {
        sk->line(sk, 0, tr(ctx, "No tokenizer files on one side; tokenizer not compared.",
                                   "한쪽에 토크나이저 파일이 없어 비교하지 않았습니다."));
        return;
    }
    if (status && !strcmp(status, "error")) {
        doc_linef(sk, 0, "%s: %s", tr(ctx, "Tokenizer could not be read", "토크나이저를 읽을 수 없음"),
                  json_get_string(s, "error") ? json_get_string(s, "error") : "?");
        return;
    }
    const json_value *f = json_at(json_get(s, "findings"), 0);
    const char *text = json_get_string(json_get(f, "text"), ctx->korean ? "ko" : "en");
    if (text) sk->line(sk, 0, text);
    sk->row(sk, tr(ctx, "relation", "관계"), json_get_string(s, "relation") ? relation_kind_text(json_get_string(s, "relation"), ctx) : "?");
    side_line(sk, "A", json_get(s, "a"));
    side_line(sk, "B", json_get(s, "b"));
    const json_value *sh = json_get(s, "shared"), *al = json_get(s, "id_aligned");
    int64_t n = 0, prefix = 0;
    double x = 0, y = 0, j = 0;
    char v[256];
    json_get_int(sh, "count", &n);
    json_get_double(sh, "of_a", &x);
    json_get_double(sh, "of_b", &y);
    json_get_double(sh, "jaccard", &j);
    snprintf(v, sizeof v, tr(ctx, "%lld (%.1f%% of A, %.1f%% of B, Jaccard %.3f)", "%lld개 (A의 %.1f%%, B의 %.1f%%, Jaccard %.3f)"),
             (long long)n, 100 * x, 100 * y, j);
    sk->row(sk, tr(ctx, "shared tokens", "공유 토큰"), v);
    json_get_int(al, "count", &n);
    json_get_double(al, "of_smaller", &x);
    json_get_int(s, "common_id_prefix", &prefix);
    snprintf(v, sizeof v, tr(ctx, "%lld (%.1f%% of the smaller), common prefix %lld", "%lld개 (작은 쪽의 %.1f%%), 공통 ID 접두 %lld개"),
             (long long)n, 100 * x, (long long)prefix);
    sk->row(sk, tr(ctx, "same id, same bytes", "같은 ID·같은 바이트"), v);
    const json_value *m = json_get(s, "merges");
    if (json_is_true(json_get(m, "available"))) {
        int64_t ma = 0, mb = 0, ms = 0, fd = 0;
        double rho = 0;
        json_get_int(m, "a", &ma);
        json_get_int(m, "b", &mb);
        json_get_int(m, "shared", &ms);
        json_get_int(m, "first_divergence", &fd);
        int has_rho = json_get_double(m, "spearman", &rho);
        snprintf(v, sizeof v, tr(ctx, "%lld shared of %lld / %lld, first divergence at %lld, Spearman %s%.3f",
                                 "%lld개 공유 (%lld / %lld 중), 처음 달라지는 순번 %lld, Spearman %s%.3f"),
                 (long long)ms, (long long)ma, (long long)mb, (long long)fd, has_rho ? "" : tr(ctx, "n/a ", "없음 "),
                 has_rho ? rho : 0.0);
        sk->row(sk, tr(ctx, "merges", "병합 규칙"), v);
    }
    const json_value *sp = json_get(s, "special");
    int64_t sa = 0, sbb = 0, ss = 0, si = 0;
    json_get_int(sp, "a", &sa);
    json_get_int(sp, "b", &sbb);
    json_get_int(sp, "shared", &ss);
    json_get_int(sp, "same_id", &si);
    snprintf(v, sizeof v, tr(ctx, "%lld / %lld, %lld shared, %lld at the same id", "%lld / %lld, 공유 %lld개, 같은 ID %lld개"),
             (long long)sa, (long long)sbb, (long long)ss, (long long)si);
    sk->row(sk, tr(ctx, "special tokens", "특수 토큰"), v);
    const json_value *ct = json_get(s, "chat_template");
    if (json_is_true(json_get(ct, "a")) || json_is_true(json_get(ct, "b")))
        sk->row(sk, tr(ctx, "chat template", "채팅 템플릿"),
                 json_is_true(json_get(ct, "identical")) ? tr(ctx, "identical", "동일") : tr(ctx, "different", "다름"));
    sk->row(sk, tr(ctx, "pre-tokenizer", "사전 토크나이저"),
             json_is_true(json_get(json_get(s, "pre_tokenizer"), "identical")) ? tr(ctx, "identical", "동일")
                                                                                 : tr(ctx, "different", "다름"));
    const json_value *p = json_get(s, "probe");
    if (json_is_true(json_get(p, "available"))) {
        double r = 0, ta = 0, tb = 0;
        json_get_double(p, "identical_segmentation_rate", &r);
        json_get_double(p, "tokens_per_char_a", &ta);
        json_get_double(p, "tokens_per_char_b", &tb);
        snprintf(v, sizeof v, tr(ctx, "%.0f%% identical; tokens/char A %.2f, B %.2f", "%.0f%% 동일; 글자당 토큰 A %.2f, B %.2f"),
                 100 * r, ta, tb);
        sk->row(sk, tr(ctx, "probe segmentation", "시험 문장 분할"), v);
    }
}

/* lineage.tokenize/1 (Markdown, HTML): the count first, then the text and every token with its id. */
void doc_tokenize(doc_sink *sk, const json_value *root)
{
    const render_ctx *ctx = sk->ctx;
    int64_t count = 0, chars = 0;
    json_get_int(root, "count", &count);
    json_get_int(root, "characters", &chars);
    char ans[200];
    snprintf(ans, sizeof ans, tr(ctx, "%lld tokens for %lld characters (%.2f tokens per character).",
                                 "글자 %lld개를 토큰 %lld개로 나눕니다 (글자당 토큰 %.2f개)."),
             ctx->korean ? (long long)chars : (long long)count, ctx->korean ? (long long)count : (long long)chars,
             chars ? (double)count / (double)chars : 0.0);
    sk->para(sk, tr(ctx, "Answer:", "답변:"), ans);
    const char *text = json_get_string(root, "text");
    if (text) sk->para(sk, tr(ctx, "Text:", "입력:"), text);
    const json_value *ids = json_get(root, "ids"), *pieces = json_get(root, "pieces");
    if (!json_count(ids)) return;
    const char *cols[] = {"#", "ID", tr(ctx, "piece", "조각")};
    sk->table_begin(sk, cols, 3);
    for (size_t i = 0; i < json_count(ids); i++) {
        char n[24], id[32];
        snprintf(n, sizeof n, "%zu", i + 1);
        const json_value *iv = json_at(ids, i), *pc = json_at(pieces, i);
        snprintf(id, sizeof id, "%lld", (long long)(iv && iv->type == JSON_NUMBER ? iv->u.number.i : -1));
        /* a piece that is not whole UTF-8 (part of a character) has no text of its own */
        const char *cells[] = {n, id, pc && pc->type == JSON_STRING ? pc->u.string.s : tr(ctx, "(byte piece)", "(바이트 조각)")};
        sk->table_row(sk, cells, 3);
    }
    sk->table_end(sk);
}
