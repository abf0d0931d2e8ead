/* lineage.inspect/1 through any sink: the answer first (family, size, dense/MoE), then the
 * architecture, the inventory, clues, compute and warnings (aligned rows on the terminal, tables in
 * Markdown and HTML). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/document.h"
#include "report/msg.h"
#include "report/report.h"
#include "report/text_util.h"

static void row_int(doc_sink *sk, const char *label, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    sk->row(sk, label, buf);
}

static void arch_rows(doc_sink *sk, const json_value *a)
{
    const render_ctx *ctx = sk->ctx;
    int64_t v, w;
    const char *s;
    if (json_get_int(a, "hidden_size", &v)) row_int(sk, tr(ctx, "hidden size", "은닉 차원"), v);
    if (json_get_int(a, "num_layers", &v)) row_int(sk, tr(ctx, "layers", "층 수"), v);
    if (json_get_int(a, "num_heads", &v)) {
        char buf[96];
        int64_t kv = -1, hd = -1;
        json_get_int(a, "num_kv_heads", &kv);
        json_get_int(a, "head_dim", &hd);
        snprintf(buf, sizeof buf, "%lld / %lld (head_dim %lld)", (long long)v, (long long)kv, (long long)hd);
        sk->row(sk, tr(ctx, "heads / KV heads", "어텐션 헤드 / KV 헤드"), buf);
    }
    if (json_get_int(a, "intermediate_size", &v)) {
        char buf[96];
        if (json_get_int(a, "intermediate_size_min", &w))
            snprintf(buf, sizeof buf, "%lld..%lld", (long long)w, (long long)v);
        else snprintf(buf, sizeof buf, "%lld", (long long)v);
        sk->row(sk, tr(ctx, "MLP width", "MLP 폭"), buf);
    }
    if (json_get_int(a, "vocab_size", &v)) row_int(sk, tr(ctx, "vocabulary", "어휘 크기"), v);
    const json_value *moe = json_get(a, "moe");
    if (moe) {
        char buf[160];
        int64_t e = -1, sh = -1, k = -1, f = -1, fk = -1;
        json_get_int(moe, "routed_experts", &e);
        json_get_int(moe, "shared_experts", &sh);
        json_get_int(moe, "experts_per_token", &k);
        json_get_int(moe, "moe_intermediate_size", &f);
        json_get_int(moe, "first_k_dense", &fk);
        snprintf(buf, sizeof buf,
                 tr(ctx, "%lld routed + %lld shared, top-%lld, width %lld, %lld leading dense layer(s)",
                    "라우팅 %lld개 + 공유 %lld개, 토큰당 %lld개, 폭 %lld, 앞쪽 밀집 층 %lld개"),
                 (long long)e, (long long)sh, (long long)k, (long long)f, (long long)fk);
        sk->row(sk, tr(ctx, "experts", "전문가(MoE)"), buf);
    }
    const json_value *mla = json_get(a, "mla");
    if (mla) {
        char buf[160];
        int64_t q = -1, kv = -1, n = -1, r = -1, vd = -1;
        json_get_int(mla, "q_lora_rank", &q);
        json_get_int(mla, "kv_lora_rank", &kv);
        json_get_int(mla, "qk_nope_head_dim", &n);
        json_get_int(mla, "qk_rope_head_dim", &r);
        json_get_int(mla, "v_head_dim", &vd);
        snprintf(buf, sizeof buf, "q_lora_rank %lld, kv_lora_rank %lld, qk_head_dim %lld+%lld, v_head_dim %lld", (long long)q,
                 (long long)kv, (long long)n, (long long)r, (long long)vd);
        sk->row(sk, tr(ctx, "latent attention", "잠재 어텐션(MLA)"), buf);
    }
    const json_value *rope = json_get(a, "rope");
    if (rope) {
        double th = NAN, f = NAN, p = NAN;
        json_get_double(rope, "theta", &th);
        json_get_double(rope, "factor", &f);
        json_get_double(rope, "partial_rotary_factor", &p);
        s = json_get_string(rope, "scaling");
        strbuf b;   /* the scaling type is the config's own string: written whole */
        sb_init(&b);
        sb_printf(&b, "rope_theta %g", th);
        if (s) sb_printf(&b, ", %s x%g", s, f);
        if (!isnan(p)) sb_printf(&b, ", partial_rotary_factor %g", p);
        sk->row(sk, "RoPE", sb_str(&b));
        sb_free(&b);
    }
    const json_value *sw = json_get(a, "sliding_window");
    if (sw) {
        int64_t win = -1, nl = -1;
        json_get_int(sw, "window", &win);
        json_get_int(sw, "sliding_layers", &nl);
        s = json_get_string(sw, "pattern");
        doc_rowf(sk, tr(ctx, "sliding window", "슬라이딩 윈도우"),
                 tr(ctx, "window %lld, %lld layer(s), pattern %s", "윈도우 %lld, %lld개 층, 배치 %s"), (long long)win, (long long)nl,
                 s ? s : "-");
    }
    if (json_get_int(a, "mtp_layers", &v) && v > 0) row_int(sk, tr(ctx, "MTP layers", "MTP 층"), v);
    int b;
    if (json_get_bool(a, "tied_embeddings", &b))
        sk->row(sk, tr(ctx, "tied embeddings", "임베딩 공유"), b ? tr(ctx, "yes", "예") : tr(ctx, "no", "아니요"));
    if ((s = json_get_string(a, "norm"))) sk->row(sk, tr(ctx, "norm", "정규화"), s);
    if ((s = json_get_string(a, "activation"))) sk->row(sk, tr(ctx, "activation", "활성화 함수"), s);
    if ((s = json_get_string(a, "quantization"))) sk->row(sk, tr(ctx, "quantization", "양자화"), s);
}

static void compute_text(doc_sink *sk, const json_value *c)
{
    const render_ctx *ctx = sk->ctx;
    double n = 0, peak = 0, mfu = 0;
    json_get_double(c, "active_params", &n);
    json_get_double(c, "peak_tflops", &peak);
    json_get_double(c, "mfu", &mfu);
    const char *gpu = json_get_string(c, "gpu");
    char na[48];
    text_grouped(na, sizeof na, n);
    strbuf note;
    sb_init(&note);
    sb_printf(&note, "  (6 × N_active × D, N_active %s; %s %s %g TFLOP/s, MFU %g%%)", na, gpu ? gpu : tr(ctx, "given", "지정한"),
              tr(ctx, "dense BF16 peak", "BF16 밀집 연산 최대"), peak, mfu * 100);
    sk->section(sk, 2, tr(ctx, "Compute", "연산량"), sb_str(&note));
    sb_free(&note);
    const char *names[2][3] = {{"training", "training", "사전학습"}, {"finetune", "fine-tuning", "미세조정"}};
    for (int i = 0; i < 2; i++) {
        const json_value *p = json_get(c, names[i][0]);
        double d = 0, f = 0, h = 0, days = NAN;
        int64_t gpus = 0;
        json_get_double(p, "tokens", &d);
        json_get_double(p, "flops", &f);
        json_get_double(p, "gpu_hours", &h);
        json_get_double(p, "wall_clock_days", &days);
        json_get_int(json_get(c, "training"), "gpus", &gpus);
        char tok[48], fl[48], hours[48], buf[400];
        text_sci(tok, sizeof tok, d);
        text_sci(fl, sizeof fl, f);
        text_grouped(hours, sizeof hours, h);
        int k = snprintf(buf, sizeof buf, tr(ctx, "%s tokens → %s FLOPs = %s GPU-hours", "토큰 %s개 → %s FLOPs = GPU 시간 %s"),
                         tok, fl, hours);
        if (isfinite(days) && k > 0 && (size_t)k < sizeof buf) {
            char g[32];
            text_grouped(g, sizeof g, (double)gpus);
            snprintf(buf + k, sizeof buf - (size_t)k, tr(ctx, " = %.1f days on %s GPUs", " = %.1f일 (GPU %s개)"), days, g);
        }
        sk->row(sk, tr(ctx, names[i][1], names[i][2]), buf);
    }
    double tpp = NAN, tpa = NAN;
    json_get_double(json_get(c, "training"), "tokens_per_param", &tpp);
    json_get_double(json_get(c, "training"), "tokens_per_active_param", &tpa);
    if (isfinite(tpp)) {
        char buf[160];
        snprintf(buf, sizeof buf, tr(ctx, "%.1f per parameter, %.1f per active parameter", "파라미터당 %.1f개, 활성 파라미터당 %.1f개"),
                 tpp, tpa);
        sk->row(sk, tr(ctx, "tokens", "토큰"), buf);
    }
    const json_value *att = json_get(c, "attention");
    double share = NAN;
    int64_t context = 0;
    json_get_double(att, "share_of_6n", &share);
    json_get_int(att, "context", &context);
    if (isfinite(share))
        doc_linef(sk, DOC_DIM,
                  tr(ctx, "Not counted: the attention-score term (+%.1f%% for this model at %lld context) and router/MTP "
                          "overheads. A claim that fits proves nothing.",
                     "빠진 항: 어텐션 점수 계산(이 모델은 +%.1f%%, 문맥 길이 %lld 기준)과 라우터·MTP 부담. "
                     "주장과 맞아도 아무것도 입증하지 않습니다."),
                  100 * share, (long long)context);
    else sk->line(sk, DOC_DIM,
                  tr(ctx, "Not counted: the attention-score term (layers or heads unknown) and router/MTP overheads.",
                     "빠진 항: 어텐션 점수 계산(층 수나 헤드 수를 모름)과 라우터·MTP 부담."));
}

/* The tokenizer: what it is, its special tokens with their roles, its ordinary tokens by script and
 * tokens per character of the built-in probe text by language. */
static void tokenizer_text(doc_sink *sk, const json_value *tk)
{
    const render_ctx *ctx = sk->ctx;
    int64_t size = 0, ord = 0, sp = 0, merges = 0;
    json_get_int(tk, "size", &size);
    json_get_int(tk, "ordinary", &ord);
    json_get_int(tk, "special", &sp);
    json_get_int(tk, "merges", &merges);
    sk->heading(sk, 2, tr(ctx, "Tokenizer", "토크나이저"));
    char v[512];
    const char *type = json_get_string(tk, "type"), *surface = json_get_string(tk, "surface"), *fmt = json_get_string(tk, "format");
    doc_rowf(sk, tr(ctx, "type", "종류"), "%s %s (%s)", type ? type : "?", surface ? surface : "", fmt ? fmt : "?");
    snprintf(v, sizeof v, tr(ctx, "%lld ids: %lld ordinary + %lld special", "ID %lld개: 일반 %lld개 + 특수 %lld개"), (long long)size,
             (long long)ord, (long long)sp);
    sk->row(sk, tr(ctx, "vocabulary", "어휘"), v);
    if (merges > 0) doc_rowf(sk, tr(ctx, "merge rules", "병합 규칙"), tr(ctx, "%lld", "%lld개"), (long long)merges);
    const json_value *bf = json_get(tk, "byte_fallback");
    if (bf) sk->row(sk, tr(ctx, "byte fallback", "바이트 대체"), json_is_true(bf) ? tr(ctx, "yes", "예") : tr(ctx, "no", "아니요"));
    const json_value *sps = json_get(tk, "specials");
    if (json_count(sps)) {
        strbuf l;
        sb_init(&l);
        for (size_t i = 0; i < json_count(sps); i++) {
            const json_value *x = json_at(sps, i);
            int64_t id = 0;
            json_get_int(x, "id", &id);
            const char *role = json_get_string(x, "role");
            /* the token's literal text is data: quoted as code */
            sb_printf(&l, "%s`%s`=%lld", i ? ", " : "", json_get_string(x, "text") ? json_get_string(x, "text") : "?", (long long)id);
            if (role) sb_printf(&l, " (%s)", msg_code("role", role, ctx));
        }
        if ((int64_t)json_count(sps) < sp)
            sb_printf(&l, tr(ctx, " and %lld more", " 외 %lld개"), (long long)(sp - (int64_t)json_count(sps)));
        sk->row(sk, tr(ctx, "special tokens", "특수 토큰"), sb_str(&l));
        sb_free(&l);
    }
    static const char *const scripts[][3] = {
        {"hangul", "Hangul", "한글"},      {"cjk", "CJK ideographs", "한자"}, {"kana", "kana", "가나"},
        {"latin", "Latin", "라틴 문자"},    {"cyrillic", "Cyrillic", "키릴 문자"}, {"arabic", "Arabic", "아랍 문자"},
        {"other_letters", "other letters", "기타 문자"}, {"mixed", "mixed scripts", "여러 문자 혼합"},
        {"no_letters", "no letters", "글자 없음"}, {"partial_utf8", "byte pieces", "바이트 조각"}};
    const json_value *sc = json_get(tk, "scripts");
    if (sc) {
        sk->line(sk, 0, tr(ctx, "ordinary tokens by script (no letters: digits, punctuation, spaces; byte pieces: "
                                         "partial UTF-8):",
                                 "문자 체계별 일반 토큰 수 (글자 없음: 숫자·문장 부호·공백, 바이트 조각: 불완전한 UTF-8):"));
        for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
            int64_t n = 0;
            if (!json_get_int(sc, scripts[i][0], &n) || (n == 0 && strcmp(scripts[i][0], "hangul"))) continue;
            snprintf(v, sizeof v, "%lld (%.1f%%)", (long long)n, ord > 0 ? 100.0 * (double)n / (double)ord : 0.0);
            char label[96];
            snprintf(label, sizeof label, "  %s", tr(ctx, scripts[i][1], scripts[i][2]));
            sk->row(sk, label, v);
        }
    }
    const json_value *p = json_get(tk, "probe");
    if (json_is_true(json_get(p, "available"))) {
        static const char *const langs[][3] = {{"english", "English", "영어"}, {"korean", "Korean", "한국어"},
                                               {"chinese", "Chinese", "중국어"}, {"japanese", "Japanese", "일본어"},
                                               {"code", "code", "코드"},      {"numbers", "numbers", "숫자"},
                                               {"emoji", "emoji", "이모지"},  {"mixed", "mixed", "혼합"}};
        double all = 0;
        json_get_double(p, "tokens_per_char", &all);
        doc_linef(sk, 0, tr(ctx, "tokens per character of the built-in probe text: %.2f overall",
                            "내장 시험 문장의 글자당 토큰 수: 전체 %.2f"), all);
        const json_value *by = json_get(p, "by_language");
        for (size_t i = 0; i < json_count(by); i++) {
            const json_value *x = json_at(by, i);
            const char *lang = json_get_string(x, "language");
            const char *name = lang ? lang : "?";
            for (size_t k = 0; lang && k < sizeof langs / sizeof langs[0]; k++)
                if (!strcmp(langs[k][0], lang)) name = tr(ctx, langs[k][1], langs[k][2]);
            double tpc = 0;
            int64_t ch = 0, to = 0;
            json_get_double(x, "tokens_per_char", &tpc);
            json_get_int(x, "chars", &ch);
            json_get_int(x, "tokens", &to);
            snprintf(v, sizeof v, tr(ctx, "%.2f (%lld tokens / %lld characters)", "%.2f (토큰 %lld개 / 글자 %lld개)"), tpc,
                     (long long)to, (long long)ch);
            char label[96];
            snprintf(label, sizeof label, "  %s", name);
            sk->row(sk, label, v);
        }
    } else if (p) {
        doc_linef(sk, 0, "%s: %s", tr(ctx, "probe text not encodable", "시험 문장을 인코딩할 수 없음"),
                  json_get_string(p, "reason") ? json_get_string(p, "reason") : "?");
    }
}

void doc_inspect(doc_sink *sk, const json_value *root)
{
    const render_ctx *ctx = sk->ctx;
    strbuf *sb = sk->sb;
    const json_value *a = json_get(root, "architecture"), *p = json_get(root, "parameters");
    const char *model = json_get_string(root, "model");
    const char *mt = json_get_string(a, "model_type"), *fam = json_get_string(a, "family");
    int64_t total = 0, active = -1;
    json_get_int(p, "total", &total);
    json_get_int(p, "active", &active);
    char tot[32], act[32];
    text_count(tot, sizeof tot, total);
    text_count(act, sizeof act, active);
    const char *src = json_get_string(p, "source");
    int moe = json_get(a, "moe") != NULL;
    strbuf l;
    sb_init(&l);
    sb_printf(&l, " (%s %s) · %s %s (%s) · %s", tr(ctx, "family", "계열"), fam ? fam : "generic", tot, tr(ctx, "parameters", "파라미터"),
              !src ? "-" : !strcmp(src, "tensors") ? tr(ctx, "tensors", "텐서 기준") : !strcmp(src, "config") ? tr(ctx, "config", "설정 기준") : src,
              moe ? tr(ctx, "MoE", "MoE") : tr(ctx, "dense", "밀집"));
    const char *type = mt ? mt : tr(ctx, "unknown type", "알 수 없는 유형");
    if (sk->terminal) {   /* the model's name, then its type in bold */
        sb_printf(sb, "%s%s%s\n", c_bold(ctx), model ? model : "?", c_off(ctx));
        sb_printf(sb, "  %s%s%s%s\n", c_bold(ctx), type, c_off(ctx), sb_str(&l));
    } else {   /* the document's title holds the name */
        strbuf t;
        sb_init(&t);
        sb_printf(&t, "%s%s", type, sb_str(&l));
        sk->para(sk, NULL, sb_str(&t));
        sb_free(&t);
    }
    sb_free(&l);
    if (moe && active >= 0) doc_linef(sk, 0, "%s %s %s", tr(ctx, "active per token:", "토큰당 활성 파라미터:"), act,
                                      tr(ctx, "(embeddings and lm_head counted)", "(임베딩과 lm_head 포함)"));
    int64_t mtp = 0;
    if (json_get_int(p, "mtp", &mtp) && mtp > 0) {
        char m[32];
        text_count(m, sizeof m, mtp);
        doc_linef(sk, 0, "%s %s", tr(ctx, "plus multi-token-prediction layers:", "추가 MTP 층:"), m);
    }
    sk->heading(sk, 2, tr(ctx, "Architecture", "아키텍처"));
    arch_rows(sk, a);
    const json_value *comps = json_get(root, "components");
    if (json_count(comps)) {
        sk->heading(sk, 2, tr(ctx, "Components", "구성 요소"));
        for (size_t i = 0; i < json_count(comps); i++) {
            const json_value *c = json_at(comps, i);
            const json_value *ca = json_get(c, "architecture");
            int64_t n = 0, t = 0, h = -1, nl = -1;
            json_get_int(json_get(c, "parameters"), "total", &n);
            json_get_int(c, "tensors", &t);
            json_get_int(ca, "hidden_size", &h);
            json_get_int(ca, "num_layers", &nl);
            char cnt[32];
            text_count(cnt, sizeof cnt, n);
            const char *cmt = json_get_string(ca, "model_type");
            strbuf b;
            sb_init(&b);
            sb_printf(&b, tr(ctx, "%s, %lld tensors, %s params", "%s, 텐서 %lld개, 파라미터 %s"), cmt ? cmt : "-", (long long)t, cnt);
            if (h > 0) sb_printf(&b, tr(ctx, ", hidden %lld", ", 은닉 차원 %lld"), (long long)h);
            if (nl > 0) sb_printf(&b, tr(ctx, ", %lld layers", ", 층 %lld개"), (long long)nl);
            const char *name = json_get_string(c, "name");
            sk->row(sk, name ? msg_code("compname", name, ctx) : "?", sb_str(&b));
            sb_free(&b);
        }
    }
    const json_value *t = json_get(root, "tensors");
    int64_t count = 0;
    json_get_int(t, "count", &count);
    strbuf note;
    sb_init(&note);
    sb_printf(&note, tr(ctx, "  %lld · naming %s", "  %lld개 · 이름 체계 %s"), (long long)count,
              !json_get_string(t, "naming") || !strcmp(json_get_string(t, "naming"), "none") ? tr(ctx, "none", "없음")
                                                                                             : json_get_string(t, "naming"));
    sk->section(sk, 2, tr(ctx, "Tensors", "텐서"), sb_str(&note));
    sb_free(&note);
    for (int pass = 0; pass < 2; pass++) {
        const json_value *h = json_get(t, pass ? "roles" : "dtypes");
        if (!json_count(h)) continue;
        const char *label = pass ? tr(ctx, "roles", "역할") : tr(ctx, "dtypes", "자료형");
        strbuf b;
        sb_init(&b);
        for (size_t i = 0; i < json_count(h); i++) {
            int64_t c = 0;
            json_get_int(h->u.object.members[i].value, "count", &c);
            sb_printf(&b, "%s%s %lld", i ? ", " : "", h->u.object.members[i].key, (long long)c);
        }
        if (sk->terminal) {
            sb_printf(sb, "  %s", label);
            for (size_t k = text_width(label); k < 16; k++) sb_putc(sb, ' ');
            sb_printf(sb, "%s\n", sb_str(&b));
        } else sk->row(sk, label, sb_str(&b));
        sb_free(&b);
    }
    const json_value *tk = json_get(root, "tokenizer");
    if (tk) tokenizer_text(sk, tk);
    const json_value *clues = json_get(root, "clues");
    sk->section(sk, 2, tr(ctx, "Clues", "단서"),
                tr(ctx, " (hypotheses from editable metadata, never proof)", " (수정 가능한 메타데이터에서 나온 가설이며 증거가 아님)"));
    if (!json_count(clues)) sk->line(sk, 0, tr(ctx, "none found", "없음"));
    else if (!sk->terminal) {
        const char *cols[] = {tr(ctx, "where", "위치"), tr(ctx, "kind", "종류"), tr(ctx, "value", "값")};
        sk->table_begin(sk, cols, 3);
    }
    for (size_t i = 0; i < json_count(clues); i++) {
        const json_value *c = json_at(clues, i);
        int64_t line = 0;
        const char *src2 = json_get_string(c, "source"), *value = json_get_string(c, "value");
        const char *kind = json_get_string(c, "kind") ? msg_code("clue", json_get_string(c, "kind"), ctx) : NULL;
        char where[64] = "";
        if (json_get_int(c, "line", &line)) snprintf(where, sizeof where, ":%lld", (long long)line);
        if (sk->terminal) {
            sb_printf(sb, "  %s%s  %s: %s\n", src2 ? src2 : "?", where, kind ? kind : "?", value ? value : "");
            continue;
        }
        strbuf w;
        sb_init(&w);
        sb_printf(&w, "%s%s", src2 ? src2 : "?", where);
        const char *cells[] = {sb_str(&w), kind ? kind : "?", value ? value : ""};
        sk->table_row(sk, cells, 3);
        sb_free(&w);
    }
    if (json_count(clues) && !sk->terminal) sk->table_end(sk);
    const json_value *compute = json_get(root, "compute");
    if (compute) compute_text(sk, compute);
    const json_value *w = json_get(root, "warnings");
    if (json_count(w)) {
        if (sk->terminal) sb_printf(sb, "\n%s%s%s\n", c_warn(ctx), tr(ctx, "Config and tensors disagree", "설정과 텐서 불일치"), c_off(ctx));
        else sk->heading(sk, 2, tr(ctx, "Config and tensors disagree", "설정과 텐서 불일치"));
        for (size_t i = 0; i < json_count(w); i++) sk->item(sk, 0, NULL, json_at(w, i)->u.string.s);
        sk->list_end(sk);
    }
    int64_t bytes = 0;
    json_get_int(root, "bytes_read", &bytes);
    if (sk->terminal)
        sb_printf(sb, "\n%s%s %lld%s\n", c_dim(ctx), tr(ctx, "header bytes read:", "읽은 헤더 바이트:"), (long long)bytes, c_off(ctx));
    else doc_linef(sk, DOC_DIM, "%s %lld", tr(ctx, "header bytes read:", "읽은 헤더 바이트:"), (long long)bytes);
}
