/* The "weights" section through any sink: the summary first, then the layer map and a per-layer
 * profile of centered correlations, then alignment findings. */
#include <math.h>
#include <string.h>

#include <stdio.h>

#include "report/document.h"
#include "report/report.h"
#include "util/sanitize.h"

static double num_or_nan(const json_value *o, const char *k)
{
    double v;
    return json_get_double(o, k, &v) ? v : NAN;
}

static int detected(const json_value *summary, const char *kind)
{
    int v = 0;
    const json_value *k = json_get(summary, kind);
    return k && json_get_bool(k, "detected", &v) && v;
}

static void render_summary(doc_sink *sk, const json_value *s)
{
    const render_ctx *ctx = sk->ctx;
    static const char *const kinds[][3] = {
        {"identical", "identical values", "값이 동일함"},
        {"finetune_like", "index-aligned tensors far above chance (fine-tune-like)", "같은 위치 텐서가 우연 수준을 크게 넘음 (미세조정형)"},
        {"depth_map", "layers re-mapped (depth up-scaling or pruning)", "층 재배치 (깊이 확장/가지치기)"},
        {"permuted", "permutation recovered", "순열 복원됨"},
        {"pruned", "rows/neurons are a matched subset", "행/뉴런이 부분집합으로 대응됨"},
        {"vocab_extended", "vocabulary extended, shared-token rows match", "어휘 확장, 공통 토큰 행 일치"},
        {"upcycled", "experts match the dense FFN (upcycling)", "전문가가 밀집 FFN과 일치 (업사이클링)"},
        {"rescaled", "raw values differ but norm-folded weights match", "원시 값은 다르나 정규화 가중치를 다음 행렬에 접으면 일치"},
        {"noised", "uniform noise on top of the parent", "부모 가중치에 균일한 잡음"},
        {"requantized", "re-quantized (dtype changed, values close)", "재양자화 (자료형 변경, 값 근접)"},
        {"independent_evidence", "high-information tensors (the large projection matrices) at chance",
         "고정보 텐서(모델마다 값이 크게 다른 큰 투영 행렬)가 우연 수준"}};
    int any = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (!detected(s, kinds[i][0])) continue;
        sk->line(sk, strcmp(kinds[i][0], "independent_evidence") ? DOC_GOOD : DOC_WARN, tr(ctx, kinds[i][1], kinds[i][2]));
        any = 1;
    }
    if (!any) sk->line(sk, 0, tr(ctx, "no conclusive weight evidence", "결정적인 가중치 근거 없음"));
    const json_value *f = json_get(s, "finetune_like");
    if (f)
        doc_linef(sk, 0,
                  tr(ctx, "%.0f%% of the tensors lie far beyond chance (z above 5: more than 5 standard deviations of the null "
                          "from its mean); median centred r %.4f, median z %.1f",
                     "텐서의 %.0f%%가 우연 수준을 크게 넘음 (z가 5보다 큼: 귀무 분포 평균에서 표준편차의 5배보다 멀리 있음). "
                     "중앙 중심화 상관 %.4f, 중앙 z %.1f"),
                  100 * num_or_nan(f, "fraction_significant"), num_or_nan(f, "median_centered"), num_or_nan(f, "median_z"));
    const json_value *ind = json_get(s, "independent_evidence");
    if (ind && detected(s, "independent_evidence"))
        doc_linef(sk, 0, "%s %.4f", tr(ctx, "smallest correlation this run would have detected:", "이 실행이 검출할 수 있는 최소 상관:"),
                  num_or_nan(ind, "min_detectable_centered"));
}

static void render_layer_map(doc_sink *sk, const json_value *lm)
{
    const render_ctx *ctx = sk->ctx;
    strbuf *sb = sk->sb;
    const json_value *map = json_get(lm, "map");
    if (!map) return;
    char note[96];
    snprintf(note, sizeof note, " (%s %.1f)", tr(ctx, "null max z", "귀무 최대 z"), num_or_nan(lm, "threshold"));
    sk->section(sk, 3, tr(ctx, "Layer map (B <- A)", "층 대응 (B <- A)"), note);
    if (!sk->terminal) {
        const char *cols[] = {tr(ctx, "layer of B", "B의 층"), tr(ctx, "layer of A", "A의 층"), "z", tr(ctx, "margin", "차이")};
        sk->table_begin(sk, cols, 4);
    }
    for (size_t i = 0; i < json_count(map); i++) {
        const json_value *e = json_at(map, i);
        int64_t b = 0, a = -1;
        json_get_int(e, "b", &b);
        if (!json_get_int(e, "a", &a)) a = -1;
        if (!sk->terminal) {
            char c[4][48];
            snprintf(c[0], sizeof c[0], "%lld", (long long)b);
            if (a >= 0) {
                snprintf(c[1], sizeof c[1], "%lld", (long long)a);
                snprintf(c[2], sizeof c[2], "%.1f", num_or_nan(e, "z"));
                snprintf(c[3], sizeof c[3], "%.1f", num_or_nan(e, "margin"));
            } else {
                snprintf(c[1], sizeof c[1], "%s", tr(ctx, "(unmatched)", "(대응 없음)"));
                snprintf(c[2], sizeof c[2], "-");
                snprintf(c[3], sizeof c[3], "-");
            }
            const char *cells[] = {c[0], c[1], c[2], c[3]};
            sk->table_row(sk, cells, 4);
            continue;
        }
        if (a >= 0)
            sb_printf(sb, tr(ctx, "  B.%-3lld <- A.%-3lld z %8.1f  margin %8.1f\n", "  B.%-3lld <- A.%-3lld z %8.1f  차이 %8.1f\n"),
                      (long long)b, (long long)a, num_or_nan(e, "z"),
                      num_or_nan(e, "margin"));
        else sb_printf(sb, "  B.%-3lld <- %s\n", (long long)b, tr(ctx, "(unmatched)", "(대응 없음)"));
    }
    if (!sk->terminal) sk->table_end(sk);
}

/* One line per B layer: the centered correlation of each high-information role. */
static void render_profile(doc_sink *sk, const json_value *pairs)
{
    const render_ctx *ctx = sk->ctx;
    int64_t max_layer = -1;
    for (size_t i = 0; i < json_count(pairs); i++) {
        int64_t l;
        if (json_get_int(json_at(pairs, i), "layer_b", &l) && l > max_layer) max_layer = l;
    }
    if (max_layer < 0) return;
    sk->heading(sk, 3, tr(ctx, "Per-layer profile (centered r, z)", "층별 프로파일 (중심화 상관, z)"));
    if (!sk->terminal) {
        const char *cols[] = {tr(ctx, "layer of B", "B의 층"), tr(ctx, "tensor role = centred r (z)", "텐서 역할 = 중심화 상관 (z)")};
        sk->table_begin(sk, cols, 2);
    }
    for (int64_t l = 0; l <= max_layer && l < 512; l++) {
        strbuf line;
        sb_init(&line);
        strbuf *sb = &line;
        for (size_t i = 0; i < json_count(pairs); i++) {
            const json_value *p = json_at(pairs, i);
            int64_t lb;
            int low = 0;
            json_get_bool(p, "low_information", &low);
            if (low || !json_get_int(p, "layer_b", &lb) || lb != l || json_get(p, "expert_b")->type != JSON_NULL) continue;
            const char *role = json_get_string(p, "role"), *al = json_get_string(p, "aligned");
            sb_printf(sb, " %s%s=%.3f(%.0f)", role ? role : "?", al && strcmp(al, "none") ? "*" : "",
                      num_or_nan(p, "centered"), num_or_nan(p, "z"));
        }
        char ln[32];
        snprintf(ln, sizeof ln, "%lld", (long long)l);
        if (sk->terminal) sb_printf(sk->sb, "  %3lld %s\n", (long long)l, sb_str(&line));
        else {
            const char *cells[] = {ln, sb_str(&line) + (line.len && line.data[0] == ' ')};
            sk->table_row(sk, cells, 2);
        }
        sb_free(&line);
    }
    if (!sk->terminal) sk->table_end(sk);
    sk->line(sk, 0, tr(ctx, "* = after alignment", "* = 정렬 후"));
}

/* The norm-cosine trap (BACKGROUND §1.3): per norm role, the raw cosine any two gain vectors score,
 * the centred correlation, and the model's own cross-layer baseline and the other-layer pairs. */
static void render_norm_trap(doc_sink *sk, const json_value *section)
{
    const render_ctx *ctx = sk->ctx;
    strbuf *sb = sk->sb;
    const json_value *pairs = json_get(section, "pairs"), *controls = json_get(section, "controls");
    int header = 0;
    for (size_t r = 0; controls && controls->type == JSON_OBJECT && r < controls->u.object.count; r++) {
        const char *role = controls->u.object.members[r].key;
        if (!strstr(role, "norm")) continue;
        double raw = 0, cen = 0;
        size_t n = 0;
        for (size_t i = 0; i < json_count(pairs); i++) {
            const json_value *p = json_at(pairs, i);
            const char *pr = json_get_string(p, "role");
            double c, z;
            if (!pr || strcmp(pr, role) || !json_get_double(p, "cosine", &c) || !json_get_double(p, "centered", &z)) continue;
            raw += c;
            cen += z;
            n++;
        }
        if (!n) continue;
        const json_value *k = controls->u.object.members[r].value;
        if (!header) {
            sk->heading(sk, 3, tr(ctx, "Norm gains: raw cosine is not evidence", "정규화 가중치: 원시 코사인은 근거가 아님"));
            sk->line(sk, 0, tr(ctx, "Any two RMSNorm gain vectors have raw cosine near 1; compare the centred value with the baselines.",
                               "어떤 두 RMSNorm 가중치든 원시 코사인은 1에 가깝습니다. 중심화 상관을 기준값과 비교하십시오."));
            const char *cols[] = {tr(ctx, "role", "역할"), tr(ctx, "raw cos", "원시 코사인"), tr(ctx, "centred", "중심화"),
                                  tr(ctx, "own layers", "자기 층끼리"), tr(ctx, "other layers", "다른 층")};
            if (sk->terminal) sb_printf(sb, "  %-14s %10s %10s %14s %14s\n", cols[0], cols[1], cols[2], cols[3], cols[4]);
            else sk->table_begin(sk, cols, 5);
            header = 1;
        }
        if (sk->terminal)
            sb_printf(sb, "  %-14s %10.3f %10.3f %14.3f %14.3f\n", role, raw / (double)n, cen / (double)n,
                      num_or_nan(k, "within_model_mean"), num_or_nan(k, "off_diagonal_mean"));
        else {
            char c[4][32];
            snprintf(c[0], sizeof c[0], "%.3f", raw / (double)n);
            snprintf(c[1], sizeof c[1], "%.3f", cen / (double)n);
            snprintf(c[2], sizeof c[2], "%.3f", num_or_nan(k, "within_model_mean"));
            snprintf(c[3], sizeof c[3], "%.3f", num_or_nan(k, "off_diagonal_mean"));
            const char *cells[] = {role, c[0], c[1], c[2], c[3]};
            sk->table_row(sk, cells, 5);
        }
    }
    if (header && !sk->terminal) sk->table_end(sk);
}

/* --sha256: the digests of byte-identical tensors (and how many there are) on the terminal too. */
static void render_sha256(doc_sink *sk, const json_value *pairs)
{
    const render_ctx *ctx = sk->ctx;
    strbuf *sb = sk->sb;
    size_t with = 0, same = 0;
    for (size_t i = 0; i < json_count(pairs); i++) {
        const char *x = json_get_string(json_at(pairs, i), "sha256_a"), *y = json_get_string(json_at(pairs, i), "sha256_b");
        if (!x || !y) continue;
        with++;
        same += !strcmp(x, y);
    }
    if (!with) return;
    char title[160];
    snprintf(title, sizeof title, tr(ctx, "SHA-256: %zu of %zu matched tensors have the same digest", "SHA-256: 해시가 같은 텐서 %zu개 (대응된 텐서 %zu개 중)"),
             same, with);
    if (sk->terminal) sb_printf(sb, "\n%s\n", title);
    else {
        sk->heading(sk, 3, title);
        const char *cols[] = {tr(ctx, "tensor of B", "B의 텐서"), "SHA-256 A", "SHA-256 B"};
        sk->table_begin(sk, cols, 3);
    }
    size_t shown = 0;
    for (size_t i = 0; i < json_count(pairs) && shown < 6; i++) {
        const json_value *p = json_at(pairs, i);
        const char *x = json_get_string(p, "sha256_a"), *y = json_get_string(p, "sha256_b");
        if (!x || !y) continue;
        const char *bn = json_get_string(p, "b") ? json_get_string(p, "b") : "?";
        shown++;
        if (!sk->terminal) {
            const char *cells[] = {bn, x, !strcmp(x, y) ? "=" : y};
            sk->table_row(sk, cells, 3);
            continue;
        }
        strbuf name;
        sb_init(&name);
        sanitize_terminal(&name, bn, strlen(bn), 0);
        if (!strcmp(x, y)) sb_printf(sb, "  %-40s = %s\n", sb_str(&name), x);
        else sb_printf(sb, "  %-40s ≠ A %.16s…  B %.16s…\n", sb_str(&name), x, y);
        sb_free(&name);
    }
    if (!sk->terminal) sk->table_end(sk);
}

void doc_weights(doc_sink *sk, const json_value *section)
{
    const render_ctx *ctx = sk->ctx;
    strbuf *sb = sk->sb;
    sk->heading(sk, 2, tr(ctx, "Weights", "가중치"));
    const char *status = json_get_string(section, "status");
    if (status) {
        sk->line(sk, 0, tr(ctx, "no tensors to compare (architecture only)", "비교할 텐서 없음 (아키텍처만 있음)"));
        return;
    }
    const json_value *s = json_get(section, "summary");
    if (s) render_summary(sk, s);
    const json_value *lm = json_get(section, "layer_map");
    if (lm && lm->type == JSON_OBJECT) render_layer_map(sk, lm);
    const json_value *pairs = json_get(section, "pairs");
    if (pairs) render_profile(sk, pairs);
    render_norm_trap(sk, section);
    render_sha256(sk, pairs);
    const json_value *al = json_get(section, "alignment"), *v;
    strbuf l;
    sb_init(&l);
    /* three lines in column 0 on the terminal, paragraphs in a document */
    if (al && (v = json_get(al, "vocab"))) {
        sb_printf(&l, tr(ctx, "Vocabulary: %lld shared tokens (A %lld, B %lld), aligned id prefix %lld",
                         "어휘: 공유 토큰 %lld개 (A %lld개, B %lld개), 같은 ID 접두 %lld개"),
                  (long long)num_or_nan(v, "shared"), (long long)num_or_nan(v, "a_vocab"), (long long)num_or_nan(v, "b_vocab"),
                  (long long)num_or_nan(v, "id_prefix"));
        if (sk->terminal) sb_printf(sb, "\n%s\n", sb_str(&l));
        else sk->line(sk, 0, sb_str(&l));
        l.len = 0;
        if (l.data) l.data[0] = 0;
    }
    if (al && (v = json_get(al, "permutation"))) {
        sb_printf(&l, "%s: p %.3g, %s %.3f", tr(ctx, "Permutation search", "순열 탐색"), num_or_nan(v, "p"),
                  tr(ctx, "centered after alignment", "정렬 후 중심화 상관"), num_or_nan(v, "centered_after"));
        if (sk->terminal) sb_printf(sb, "%s\n", sb_str(&l));
        else sk->line(sk, 0, sb_str(&l));
        l.len = 0;
        if (l.data) l.data[0] = 0;
    }
    if (al && (v = json_get(al, "experts"))) {
        sb_printf(&l, "%s: %s, %lld/%lld %s, %s %.3f", tr(ctx, "Experts", "전문가"),
                  json_get_string(v, "kind") ? relation_kind_text(json_get_string(v, "kind"), ctx) : "?",
                  (long long)num_or_nan(v, "experts_significant"), (long long)num_or_nan(v, "experts_compared"),
                  tr(ctx, "significant", "유의"), tr(ctx, "median r", "중앙 중심화 상관"), num_or_nan(v, "median_centered"));
        if (sk->terminal) sb_printf(sb, "%s\n", sb_str(&l));
        else sk->line(sk, 0, sb_str(&l));
    }
    sb_free(&l);
}
