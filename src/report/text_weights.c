/* Terminal rendering of the "weights" section: the summary first, then the layer map and a per-layer
 * profile of centered correlations, then alignment findings. */
#include <math.h>
#include <string.h>

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

static void render_summary(strbuf *sb, const json_value *s, const render_ctx *ctx)
{
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
        {"independent_evidence", "high-information tensors at chance", "고정보 텐서가 우연 수준"}};
    int any = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (!detected(s, kinds[i][0])) continue;
        sb_printf(sb, "  %s%s%s\n", strcmp(kinds[i][0], "independent_evidence") ? c_good(ctx) : c_warn(ctx),
                  tr(ctx, kinds[i][1], kinds[i][2]), c_off(ctx));
        any = 1;
    }
    if (!any) sb_printf(sb, "  %s\n", tr(ctx, "no conclusive weight evidence", "결정적인 가중치 증거 없음"));
    const json_value *f = json_get(s, "finetune_like");
    if (f)
        sb_printf(sb, tr(ctx, "  %s: %.0f%% %s, median r %.4f, median z %.1f\n", "  %s: %.0f%% %s, 중앙 중심화 상관 %.4f, 중앙 z %.1f\n"),
                  tr(ctx, "tensors", "텐서"), 100 * num_or_nan(f, "fraction_significant"),
                  tr(ctx, "above 5 null SDs", "귀무 분포 표준편차의 5배 초과"),
                  num_or_nan(f, "median_centered"), num_or_nan(f, "median_z"));
    const json_value *ind = json_get(s, "independent_evidence");
    if (ind && detected(s, "independent_evidence"))
        sb_printf(sb, "  %s %.4f\n", tr(ctx, "smallest correlation this run would have detected:", "이 실행이 검출할 수 있는 최소 상관:"),
                  num_or_nan(ind, "min_detectable_centered"));
}

static void render_layer_map(strbuf *sb, const json_value *lm, const render_ctx *ctx)
{
    const json_value *map = json_get(lm, "map");
    if (!map) return;
    sb_printf(sb, "\n%s%s%s (%s %.1f)\n", c_bold(ctx), tr(ctx, "Layer map (B <- A)", "층 대응 (B <- A)"), c_off(ctx),
              tr(ctx, "null max z", "귀무 최대 z"), num_or_nan(lm, "threshold"));
    for (size_t i = 0; i < json_count(map); i++) {
        const json_value *e = json_at(map, i);
        int64_t b = 0, a = -1;
        json_get_int(e, "b", &b);
        if (!json_get_int(e, "a", &a)) a = -1;
        if (a >= 0)
            sb_printf(sb, tr(ctx, "  B.%-3lld <- A.%-3lld z %8.1f  margin %8.1f\n", "  B.%-3lld <- A.%-3lld z %8.1f  차이 %8.1f\n"),
                      (long long)b, (long long)a, num_or_nan(e, "z"),
                      num_or_nan(e, "margin"));
        else sb_printf(sb, "  B.%-3lld <- %s\n", (long long)b, tr(ctx, "(unmatched)", "(대응 없음)"));
    }
}

/* One line per B layer: the centered correlation of each high-information role. */
static void render_profile(strbuf *sb, const json_value *pairs, const render_ctx *ctx)
{
    int64_t max_layer = -1;
    for (size_t i = 0; i < json_count(pairs); i++) {
        int64_t l;
        if (json_get_int(json_at(pairs, i), "layer_b", &l) && l > max_layer) max_layer = l;
    }
    if (max_layer < 0) return;
    sb_printf(sb, "\n%s%s%s\n", c_bold(ctx), tr(ctx, "Per-layer profile (centered r, z)", "층별 프로파일 (중심화 상관, z)"), c_off(ctx));
    for (int64_t l = 0; l <= max_layer && l < 512; l++) {
        sb_printf(sb, "  %3lld ", (long long)l);
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
        sb_putc(sb, '\n');
    }
    sb_printf(sb, "  %s\n", tr(ctx, "* = after alignment", "* = 정렬 후"));
}

/* The norm-cosine trap (BACKGROUND §1.3): per norm role, the raw cosine any two gain vectors score,
 * the centred correlation, and the model's own cross-layer baseline and the other-layer pairs. */
static void render_norm_trap(strbuf *sb, const json_value *section, const render_ctx *ctx)
{
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
            sb_printf(sb, "\n%s%s%s\n  %s\n", c_bold(ctx), tr(ctx, "Norm gains: raw cosine is not evidence", "정규화 가중치: 원시 코사인은 근거가 아님"),
                      c_off(ctx),
                      tr(ctx, "Any two RMSNorm gain vectors have raw cosine near 1; compare the centred value with the baselines.",
                         "어떤 두 RMSNorm 가중치든 원시 코사인은 1에 가깝습니다. 중심화 상관을 기준값과 비교하십시오."));
            sb_printf(sb, "  %-14s %10s %10s %14s %14s\n", tr(ctx, "role", "역할"), tr(ctx, "raw cos", "원시 코사인"),
                      tr(ctx, "centred", "중심화"), tr(ctx, "own layers", "자기 층끼리"), tr(ctx, "other layers", "다른 층"));
            header = 1;
        }
        sb_printf(sb, "  %-14s %10.3f %10.3f %14.3f %14.3f\n", role, raw / (double)n, cen / (double)n,
                  num_or_nan(k, "within_model_mean"), num_or_nan(k, "off_diagonal_mean"));
    }
}

/* --sha256: the digests of byte-identical tensors (and how many there are) on the terminal too. */
static void render_sha256(strbuf *sb, const json_value *pairs, const render_ctx *ctx)
{
    size_t with = 0, same = 0;
    for (size_t i = 0; i < json_count(pairs); i++) {
        const char *x = json_get_string(json_at(pairs, i), "sha256_a"), *y = json_get_string(json_at(pairs, i), "sha256_b");
        if (!x || !y) continue;
        with++;
        same += !strcmp(x, y);
    }
    if (!with) return;
    sb_printf(sb, tr(ctx, "\nSHA-256: %zu of %zu matched tensors have the same digest\n",
                     "\nSHA-256: 해시가 같은 텐서 %zu개 (대응된 텐서 %zu개 중)\n"), same, with);
    size_t shown = 0;
    for (size_t i = 0; i < json_count(pairs) && shown < 6; i++) {
        const json_value *p = json_at(pairs, i);
        const char *x = json_get_string(p, "sha256_a"), *y = json_get_string(p, "sha256_b");
        if (!x || !y) continue;
        char name[96];
        sanitize_terminal_copy(name, sizeof name, json_get_string(p, "b") ? json_get_string(p, "b") : "?");
        if (!strcmp(x, y)) sb_printf(sb, "  %-40s = %s\n", name, x);
        else sb_printf(sb, "  %-40s ≠ A %.16s…  B %.16s…\n", name, x, y);
        shown++;
    }
}

void render_weights_text(strbuf *sb, const json_value *section, const render_ctx *ctx)
{
    sb_printf(sb, "\n%s%s%s\n", c_bold(ctx), tr(ctx, "Weights", "가중치"), c_off(ctx));
    const char *status = json_get_string(section, "status");
    if (status) {
        sb_printf(sb, "  %s\n", tr(ctx, "no tensors to compare (architecture only)", "비교할 텐서 없음 (아키텍처만 있음)"));
        return;
    }
    const json_value *s = json_get(section, "summary");
    if (s) render_summary(sb, s, ctx);
    const json_value *lm = json_get(section, "layer_map");
    if (lm && lm->type == JSON_OBJECT) render_layer_map(sb, lm, ctx);
    const json_value *pairs = json_get(section, "pairs");
    if (pairs) render_profile(sb, pairs, ctx);
    render_norm_trap(sb, section, ctx);
    render_sha256(sb, pairs, ctx);
    const json_value *al = json_get(section, "alignment"), *v;
    if (al && (v = json_get(al, "vocab")))
        sb_printf(sb, "\n%s: %lld %s (A %lld, B %lld), %s %lld\n", tr(ctx, "Vocabulary", "어휘"),
                  (long long)num_or_nan(v, "shared"), tr(ctx, "shared tokens", "공통 토큰"), (long long)num_or_nan(v, "a_vocab"),
                  (long long)num_or_nan(v, "b_vocab"), tr(ctx, "aligned id prefix", "같은 ID 접두"),
                  (long long)num_or_nan(v, "id_prefix"));
    if (al && (v = json_get(al, "permutation")))
        sb_printf(sb, "%s: p %.3g, %s %.3f\n", tr(ctx, "Permutation search", "순열 탐색"), num_or_nan(v, "p"),
                  tr(ctx, "centered after alignment", "정렬 후 중심화 상관"), num_or_nan(v, "centered_after"));
    if (al && (v = json_get(al, "experts")))
        sb_printf(sb, "%s: %s, %lld/%lld %s, %s %.3f\n", tr(ctx, "Experts", "전문가"), json_get_string(v, "kind"),
                  (long long)num_or_nan(v, "experts_significant"), (long long)num_or_nan(v, "experts_compared"),
                  tr(ctx, "significant", "유의"), tr(ctx, "median r", "중앙 중심화 상관"), num_or_nan(v, "median_centered"));
}
