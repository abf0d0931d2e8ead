/* lineage.study/1 through a doc_sink (terminal, Markdown, HTML): the verdict per pair first, then the
 * tokenizer, architecture, parameter and weight views with every model as a column. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/doc_walk.h"
#include "report/document.h"
#include "report/text_util.h"
#include "util/arena.h"

#define STUDY_COLS 32

static const char *model_name(const json_value *root, int64_t i)
{
    const char *n = json_get_string(json_at(json_get(root, "models"), (size_t)i), "name");
    return n ? n : "?";
}

/* "derived (fine-tuned, A to B)" */
static void verdict_cell(char *buf, size_t n, const json_value *v, const render_ctx *ctx)
{
    const char *label = json_get_string(v, "label");
    size_t len = (size_t)snprintf(buf, n, "%s", verdict_label_text(label ? label : "inconclusive", ctx));
    /* per-relation kinds with their direction when the verdict gives them, else the kinds alone */
    const json_value *rels = json_get(v, "relations"), *rel = json_count(rels) ? rels : json_get(v, "relation");
    for (size_t i = 0; i < json_count(rel) && len < n; i++) {
        const json_value *r = json_at(rel, i);
        const char *kind = r->type == JSON_STRING ? r->u.string.s : json_get_string(r, "kind");
        const char *dir = r->type == JSON_OBJECT ? json_get_string(r, "direction") : NULL;
        if (dir && !strcmp(dir, "none")) dir = NULL;
        if (!kind) continue;
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : " (", relation_kind_text(kind, ctx));
        if (dir && len < n) len += (size_t)snprintf(buf + len, n - len, " — %s", relation_kind_text(dir, ctx));
    }
    if (json_count(rel) && len < n) len += (size_t)snprintf(buf + len, n - len, ")");
    const char *dir = json_count(rels) ? NULL : json_get_string(v, "direction");
    if (dir && strcmp(dir, "none") && len < n) snprintf(buf + len, n - len, " [%s: %s]", tr(ctx, "direction", "방향"), relation_kind_text(dir, ctx));
}

static void number_cell(char *buf, size_t n, const json_value *v, int percent)
{
    if (!v || v->type != JSON_NUMBER) snprintf(buf, n, "-");
    else if (percent) snprintf(buf, n, "%.1f%%", 100 * v->u.number.d);
    else snprintf(buf, n, "%.3f", v->u.number.d);
}

static void value_cell(char *buf, size_t n, const json_value *v, const render_ctx *ctx)
{
    if (!v || v->type == JSON_NULL) snprintf(buf, n, "%s", tr(ctx, "(absent)", "(없음)"));
    else if (v->type == JSON_BOOL) snprintf(buf, n, "%s", v->u.boolean ? tr(ctx, "yes", "예") : tr(ctx, "no", "아니요"));
    else if (v->type == JSON_STRING) snprintf(buf, n, "%s", relation_kind_text(v->u.string.s, ctx));
    else if (v->u.number.is_int) snprintf(buf, n, "%lld", (long long)v->u.number.i);
    else snprintf(buf, n, "%g", v->u.number.d);
}

/* A model x model table of one matrix, and in HTML its heatmap. */
static void matrix_view(doc_sink *s, const json_value *root, const char *key, const char *title, int percent,
                        int labels)
{
    const json_value *m = json_get(json_get(root, "matrices"), key);
    size_t n = json_count(m);
    if (!n || n + 1 > STUDY_COLS) return;
    int any = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            const json_value *e = json_at(json_at(m, i), j);
            any |= i != j && e && e->type != JSON_NULL;
        }
    s->heading(s, 3, title);
    if (!any) {
        s->para(s, NULL, tr(s->ctx, "No pair had this line of evidence.", "이 근거가 있는 쌍이 없습니다."));
        return;
    }
    const char *cols[STUDY_COLS];
    char cells[STUDY_COLS][1024];
    const char *row[STUDY_COLS];
    cols[0] = "";
    for (size_t j = 0; j < n; j++) cols[j + 1] = model_name(root, (int64_t)j);
    s->table_begin(s, cols, n + 1);
    for (size_t i = 0; i < n; i++) {
        row[0] = model_name(root, (int64_t)i);
        for (size_t j = 0; j < n; j++) {
            const json_value *e = json_at(json_at(m, i), j);
            if (i == j) snprintf(cells[j], sizeof cells[j], "·");
            else if (labels && e && e->type == JSON_STRING)
                snprintf(cells[j], sizeof cells[j], "%s",
                         !strcmp(key, "verdict") ? verdict_label_text(e->u.string.s, s->ctx)
                                                 : relation_kind_text(e->u.string.s, s->ctx));
            else number_cell(cells[j], sizeof cells[j], e, percent);
            row[j + 1] = cells[j];
        }
        s->table_row(s, row, n + 1);
    }
    s->table_end(s);
    if (labels) return;
    arena scratch;
    arena_init(&scratch, 0);
    json_value *sec = json_new_object(&scratch);
    if (sec && json_set_str(&scratch, sec, "title", title) && json_set(&scratch, sec, "matrix", (json_value *)m)) {
        json_value *names = json_new_array(&scratch);
        for (size_t i = 0; names && i < n; i++) json_push(&scratch, names, json_new_string(&scratch, model_name(root, (int64_t)i)));
        if (names && json_set(&scratch, sec, "names", names)) s->chart(s, "study_matrix", sec);
    }
    arena_free(&scratch);
}

static void models_view(doc_sink *s, const json_value *root)
{
    const json_value *models = json_get(root, "models");
    s->heading(s, 2, tr(s->ctx, "Models", "모델"));
    const char *cols[] = {"#", tr(s->ctx, "name", "이름"), tr(s->ctx, "role", "역할"), tr(s->ctx, "path", "경로")};
    s->table_begin(s, cols, 4);
    for (size_t i = 0; i < json_count(models); i++) {
        const json_value *m = json_at(models, i);
        char idx[24];
        snprintf(idx, sizeof idx, "%zu", i + 1);
        const char *role = json_get_string(m, "role");
        const char *cells[] = {idx, model_name(root, (int64_t)i),
                               role && !strcmp(role, "reference") ? tr(s->ctx, "reference", "기준 모델")
                                                                  : tr(s->ctx, "candidate", "검토 대상"),
                               json_get_string(m, "path") ? json_get_string(m, "path") : ""};
        s->table_row(s, cells, 4);
    }
    s->table_end(s);
}

static void verdicts_view(doc_sink *s, const json_value *root)
{
    const json_value *pairs = json_get(root, "pairs");
    s->heading(s, 2, tr(s->ctx, "Verdict per pair", "쌍별 판정"));
    s->para(s, NULL,
            tr(s->ctx,
               "Only the weights decide derivation. Tokenizer and architecture findings are shown beside them and never "
               "decide it on their own: a shared tokenizer or design is common among independent models.",
               "파생 여부는 가중치만으로 판정합니다. 토크나이저와 아키텍처 결과는 함께 보여 줄 뿐 그것만으로 판정하지 "
               "않습니다. 독립적으로 학습한 모델도 토크나이저나 설계를 흔히 공유하기 때문입니다."));
    const char *cols[] = {tr(s->ctx, "A (possible parent)", "A (부모 후보)"), "B", tr(s->ctx, "verdict", "판정"),
                          tr(s->ctx, "confidence", "신뢰도"), tr(s->ctx, "weight similarity", "가중치 유사도"),
                          tr(s->ctx, "tokenizer", "토크나이저"), tr(s->ctx, "architecture", "아키텍처")};
    s->table_begin(s, cols, 7);
    for (size_t i = 0; i < json_count(pairs); i++) {
        const json_value *p = json_at(pairs, i);
        int64_t a = 0, b = 0;
        json_get_int(p, "a", &a);
        json_get_int(p, "b", &b);
        char verdict[1024], conf[32], sim[32], tok[256], arch[96];
        const json_value *v = json_get(p, "verdict");
        verdict_cell(verdict, sizeof verdict, v, s->ctx);
        number_cell(conf, sizeof conf, json_get(v, "confidence"), 0);
        double cv = 0;
        const char *lab = json_get_string(v, "label");
        if (lab && !strcmp(lab, "inconclusive") && json_get_double(v, "confidence", &cv) && cv == 0)
            snprintf(conf, sizeof conf, "-");
        number_cell(sim, sizeof sim, json_get(json_get(p, "weights"), "similarity"), 0);
        if (!json_get(json_get(p, "weights"), "similarity") ||
            json_get(json_get(p, "weights"), "similarity")->type != JSON_NUMBER)
            snprintf(sim, sizeof sim, "%s", tr(s->ctx, "no weights", "가중치 없음"));
        const char *rel = json_get_string(json_get(p, "tokenizer"), "relation");
        snprintf(tok, sizeof tok, "%s", rel ? relation_kind_text(rel, s->ctx) : tr(s->ctx, "not compared", "비교 안 함"));
        size_t nd = json_count(json_get(json_get(p, "architecture"), "differences"));
        if (nd) snprintf(arch, sizeof arch, tr(s->ctx, "%zu fields differ", "다른 항목 %zu개"), nd);
        else snprintf(arch, sizeof arch, "%s", tr(s->ctx, "no declared field differs", "선언된 항목 모두 동일"));
        const char *cells[] = {model_name(root, a), model_name(root, b), verdict, conf, sim, tok, arch};
        s->table_row(s, cells, 7);
    }
    s->table_end(s);
    matrix_view(s, root, "verdict", tr(s->ctx, "Verdict matrix", "판정 행렬"), 0, 1);
}

static void tokenizer_view(doc_sink *s, const json_value *root)
{
    const json_value *profiles = json_get(root, "profiles");
    s->heading(s, 2, tr(s->ctx, "Tokenizers", "토크나이저"));
    const char *cols[] = {tr(s->ctx, "model", "모델"), tr(s->ctx, "type", "종류"), tr(s->ctx, "file", "파일 형식"),
                          tr(s->ctx, "ids", "ID 수"), tr(s->ctx, "ordinary", "일반 토큰"),
                          tr(s->ctx, "special", "특수 토큰"), tr(s->ctx, "merges", "병합 규칙"),
                          tr(s->ctx, "byte fallback", "바이트 대체")};
    s->table_begin(s, cols, 8);
    for (size_t i = 0; i < json_count(profiles); i++) {
        const json_value *t = json_get(json_at(profiles, i), "tokenizer");
        char c[6][48];
        const char *cells[8] = {model_name(root, (int64_t)i)};
        if (!t) {
            for (int k = 1; k < 8; k++) cells[k] = "-";
            cells[1] = tr(s->ctx, "no tokenizer files", "토크나이저 파일 없음");
            s->table_row(s, cells, 8);
            continue;
        }
        cells[1] = json_get_string(t, "model") ? json_get_string(t, "model") : "?";
        cells[2] = json_get_string(t, "format") ? json_get_string(t, "format") : "?";
        static const char *const k[] = {"size", "ordinary", "special", "merges"};
        for (int j = 0; j < 4; j++) {
            double v = NAN;
            json_get_double(t, k[j], &v);
            text_grouped(c[j], sizeof c[j], v);
            cells[3 + j] = c[j];
        }
        value_cell(c[4], sizeof c[4], json_get(t, "byte_fallback"), s->ctx);
        cells[7] = c[4];
        s->table_row(s, cells, 8);
    }
    s->table_end(s);
    matrix_view(s, root, "tokenizer_relation", tr(s->ctx, "Vocabulary relation", "어휘 관계"), 0, 1);
    matrix_view(s, root, "tokenizer_jaccard", tr(s->ctx, "Shared vocabulary (Jaccard)", "공유 어휘 (자카드 지수)"), 0, 0);
    matrix_view(s, root, "tokenizer_id_aligned",
                tr(s->ctx, "Same token at the same id (share of the smaller vocabulary)",
                   "같은 ID에 같은 토큰 (작은 어휘 대비 비율)"), 1, 0);
    matrix_view(s, root, "merge_order_spearman",
                tr(s->ctx, "Merge order of the shared merges (Spearman)", "공유 병합 규칙의 순서 (스피어만 상관)"), 0, 0);
}

static void architecture_view(doc_sink *s, const json_value *root)
{
    const json_value *fields = json_get(root, "architecture");
    size_t n = json_count(json_get(root, "models"));
    if (!json_count(fields) || n + 2 > STUDY_COLS) return;
    s->heading(s, 2, tr(s->ctx, "Architecture side by side", "아키텍처 나란히 보기"));
    size_t ndiff = 0, nabsent = 0;
    for (size_t i = 0; i < json_count(fields); i++) {
        ndiff += json_is_true(json_get(json_at(fields, i), "differs"));
        int64_t a = 0;
        json_get_int(json_at(fields, i), "absent", &a);
        nabsent += a > 0;
    }
    char note[400];
    snprintf(note, sizeof note,
             tr(s->ctx,
                "%zu of %zu fields differ among the models that declare them (marked ≠); %zu fields are absent from "
                "some configs, shown as (absent) and not counted as a difference.",
                "항목 %zu개(전체 %zu개)가 선언한 모델끼리 서로 다릅니다(≠ 표시). 항목 %zu개는 일부 설정 파일에 없어 "
                "(없음)으로 표시하며 차이로 세지 않습니다."),
             ndiff, json_count(fields), nabsent);
    s->para(s, NULL, note);
    const char *cols[STUDY_COLS];
    cols[0] = "";
    cols[1] = tr(s->ctx, "field", "항목");
    for (size_t j = 0; j < n; j++) cols[j + 2] = model_name(root, (int64_t)j);
    s->table_begin(s, cols, n + 2);
    char cells[STUDY_COLS][1024];
    const char *row[STUDY_COLS];
    for (size_t i = 0; i < json_count(fields); i++) {
        const json_value *f = json_at(fields, i);
        row[0] = json_is_true(json_get(f, "differs")) ? "≠" : "";
        row[1] = json_get_string(f, "field") ? json_get_string(f, "field") : "?";
        for (size_t j = 0; j < n; j++) {
            value_cell(cells[j], sizeof cells[j], json_at(json_get(f, "values"), j), s->ctx);
            row[j + 2] = cells[j];
        }
        s->table_row(s, row, n + 2);
    }
    s->table_end(s);
}

static void parameters_view(doc_sink *s, const json_value *root)
{
    const json_value *profiles = json_get(root, "profiles");
    s->heading(s, 2, tr(s->ctx, "Parameters and compute", "파라미터와 연산량"));
    int compute = 0;
    for (size_t i = 0; i < json_count(profiles); i++) compute |= json_get(json_at(profiles, i), "compute") != NULL;
    const char *cols[] = {tr(s->ctx, "model", "모델"), tr(s->ctx, "total", "전체"), tr(s->ctx, "active", "활성"),
                          tr(s->ctx, "embedding", "임베딩"), tr(s->ctx, "routed experts", "라우팅 전문가"),
                          tr(s->ctx, "counted from", "계산 근거"), tr(s->ctx, "training FLOPs", "학습 연산량(FLOPs)"),
                          tr(s->ctx, "tokens per parameter", "파라미터당 토큰")};
    size_t nc = compute ? 8 : 6;
    s->table_begin(s, cols, nc);
    for (size_t i = 0; i < json_count(profiles); i++) {
        const json_value *p = json_get(json_at(profiles, i), "parameters");
        const json_value *c = json_get(json_at(profiles, i), "compute");
        char b[7][48];
        static const char *const k[] = {"total", "active", "embedding", "routed_experts"};
        const char *cells[8] = {model_name(root, (int64_t)i)};
        for (int j = 0; j < 4; j++) {
            double v = NAN;
            json_get_double(p, k[j], &v);
            text_grouped(b[j], sizeof b[j], v);
            cells[1 + j] = b[j];
        }
        const char *src = json_get_string(p, "source");
        cells[5] = src && !strcmp(src, "tensors") ? tr(s->ctx, "tensors", "텐서")
                   : src && !strcmp(src, "config") ? tr(s->ctx, "config.json", "config.json")
                                                   : tr(s->ctx, "not countable", "셀 수 없음");
        double f = NAN, tpp = NAN;
        json_get_double(json_get(c, "training"), "flops", &f);
        json_get_double(json_get(c, "training"), "tokens_per_param", &tpp);
        snprintf(b[4], sizeof b[4], isfinite(f) ? "%.3g" : "-", f);
        snprintf(b[5], sizeof b[5], isfinite(tpp) ? "%.1f" : "-", tpp);
        cells[6] = b[4];
        cells[7] = b[5];
        s->table_row(s, cells, nc);
    }
    s->table_end(s);
    if (!compute)
        s->para(s, NULL, tr(s->ctx, "Give --tokens N (the claimed training tokens) for the compute columns.",
                            "연산량 열을 보려면 --tokens N(주장된 학습 토큰 수)을 주십시오."));
}

static void weights_view(doc_sink *s, const json_value *root)
{
    s->heading(s, 2, tr(s->ctx, "Weights", "가중치"));
    matrix_view(s, root, "weight_similarity",
                tr(s->ctx, "Weight similarity (centred, after alignment; 0 = unrelated)",
                   "가중치 유사도 (중심화, 정렬 후; 0이면 관련 없음)"), 0, 0);
}

void doc_how_to_read(doc_sink *s)
{
    s->heading(s, 2, tr(s->ctx, "How to read this", "읽는 법"));
    s->item(s, 0, tr(s->ctx, "centred correlation", "중심화 상관"),
            tr(s->ctx, "cosine after subtracting each vector's mean (Pearson); raw cosine of norm gains is about 0.98 "
                       "for any two models and means nothing",
               "각 벡터의 평균을 뺀 뒤의 코사인(피어슨 상관)입니다. 정규화 가중치의 원시 코사인은 어떤 두 모델이든 "
               "0.98 안팎이라 아무 의미가 없습니다."));
    s->item(s, 0, tr(s->ctx, "null", "귀무 분포"),
            tr(s->ctx, "what the statistic looks like for unrelated models (shuffles, other layers)",
               "관련 없는 모델끼리 같은 통계를 쟀을 때의 분포(섞기, 다른 층)입니다."));
    s->item(s, 0, "z",
            tr(s->ctx, "how many null standard deviations the value lies from the null mean",
               "값이 귀무 분포의 평균에서 표준편차 몇 배만큼 떨어져 있는지입니다."));
    s->item(s, 0, tr(s->ctx, "high-information tensors", "고정보 텐서"),
            tr(s->ctx, "the large projection matrices (attention and MLP), whose values differ between any two unrelated "
                       "models; norm gains and biases, which look alike in every model, are left out",
               "어텐션·MLP의 큰 투영 행렬처럼 관련 없는 두 모델이면 값이 크게 달라지는 텐서입니다. 어느 모델에서나 "
               "비슷해 보이는 정규화 가중치와 편향은 빠집니다."));
    s->item(s, 0, tr(s->ctx, "far beyond chance", "우연 수준을 크게 넘음"),
            tr(s->ctx, "z above 5: the value lies more than 5 null standard deviations from the null mean",
               "z가 5보다 크다는 뜻입니다. 값이 귀무 분포 평균에서 표준편차의 5배보다 멀리 떨어져 있습니다."));
    s->item(s, 0, tr(s->ctx, "power", "검정력"),
            tr(s->ctx, "whether the test could have seen a relation had there been one (enough rows, matching shapes)",
               "관계가 있었다면 검정이 그것을 볼 수 있었는지(충분한 행 수, 같은 모양)입니다."));
    s->list_end(s);
}

void study_render(doc_sink *s, const json_value *root)
{
    models_view(s, root);
    verdicts_view(s, root);
    tokenizer_view(s, root);
    architecture_view(s, root);
    parameters_view(s, root);
    weights_view(s, root);
    const json_value *asked = json_get(root, "behaviour_asked");
    if (asked) render_asked_doc(s, asked);
    doc_how_to_read(s);
}
