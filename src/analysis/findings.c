/* Findings: the uniform evidence records the verdict combines (docs/METHODOLOGY.md). The weights
 * engine reports what it detected in weights.summary; this file turns that, the architecture
 * comparison and the models' declared metadata into findings with a direction, a weight and the
 * relation each supports. The tokenizer analysis writes its own findings. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/clues.h"
#include "util/error.h"

/* Relative update size that separates a fine-tune from continued pretraining: an update of 30% of
 * the weights' norm (centered correlation ~0.96 when it is noise-like) is far beyond what
 * supervised fine-tuning does (BACKGROUND §3: fine-tunes keep corr ~1; long CPT drops it). */
#define FINETUNE_MAX_REL_L2 0.30

json_value *finding_make(arena *ar, const finding_args *f)
{
    json_value *o = json_new_object(ar), *text = json_new_object(ar);
    json_set_str(ar, o, "line", f->line);
    json_set_str(ar, o, "component", f->component ? f->component : "text");
    json_set_str(ar, o, "what", f->en);
    json_set_str(ar, text, "en", f->en);
    json_set_str(ar, text, "ko", f->ko ? f->ko : f->en);
    json_set(ar, o, "text", text);
    if (isfinite(f->value)) json_set_double(ar, o, "value", f->value);
    if (f->control) {
        json_value *c = json_new_object(ar);
        json_set_str(ar, c, "description", f->control);
        json_set(ar, o, "control", c);
    }
    if (f->has_z && isfinite(f->z)) json_set_double(ar, o, "z", f->z);
    if (f->has_p && isfinite(f->p)) json_set_double(ar, o, "p", f->p);
    json_set_str(ar, o, "direction", f->direction);
    json_set_double(ar, o, "weight", round(f->weight * 1000) / 1000);
    if (f->relation) json_set_str(ar, o, "relation", f->relation);
    if (f->low_information) json_set_bool(ar, o, "low_information", 1);
    return o;
}

static double num(const json_value *o, const char *k, double def)
{
    double v;
    return json_get_double(o, k, &v) ? v : def;
}

static int detected(const json_value *summary, const char *kind)
{
    return json_is_true(json_get(json_get(summary, kind), "detected"));
}

/* Base model the model's card (or GGUF metadata) declares, or NULL. */
static const char *declared_base(const lineage_model *m, arena *ar)
{
    json_value *clues = json_new_array(ar);
    lineage_error err;
    if (!clues || clues_collect(m, ar, clues, &err)) return NULL;
    for (size_t i = 0; i < json_count(clues); i++) {
        const json_value *c = json_at(clues, i);
        const char *kind = json_get_string(c, "kind");
        if (kind && strstr(kind, "base_model") && !strstr(kind, "relation")) return json_get_string(c, "value");
    }
    return NULL;
}

/* "org/name" and "/path/to/name/" both end in "name". */
static void last_segment(const char *s, char *out, size_t n)
{
    size_t len = strlen(s);
    while (len && s[len - 1] == '/') len--;
    size_t start = len;
    while (start && s[start - 1] != '/') start--;
    size_t k = len - start < n - 1 ? len - start : n - 1;
    for (size_t i = 0; i < k; i++) {
        char c = s[start + i];
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    out[k] = 0;
}

static int names_model(const char *declared, const lineage_model *m)
{
    char x[256], y[256];
    last_segment(declared, x, sizeof x);
    last_segment(m->path, y, sizeof y);
    return x[0] && !strcmp(x, y);
}

/* Whether every sampled value of m's F32 tensors is exactly a bf16 value: a lossless widening re-save
 * (an "F32 export" of a bf16 checkpoint) carries its source's values unchanged, so it stands for the
 * base its card names. Samples the first rows of up to 32 tensors; needs at least 4096 values. */
static int lossless_bf16_widening(const lineage_model *m)
{
    enum { MAX_TENSORS = 32, MAX_VALUES = 4096 };
    float buf[MAX_VALUES];
    uint64_t seen = 0;
    int tensors = 0;
    for (size_t i = 0; i < lineage_model_tensor_count(m) && tensors < MAX_TENSORS; i++) {
        const lineage_tensor_info *t = lineage_model_tensor(m, i);
        if (t->dtype != LINEAGE_DTYPE_F32 || t->numel < 256 || !t->cols || t->cols > MAX_VALUES) continue;
        uint64_t rows = MAX_VALUES / t->cols < t->rows ? MAX_VALUES / t->cols : t->rows;
        lineage_error err;
        if (lineage_tensor_read_rows_f32(m, i, 0, rows, buf, &err)) return 0;
        for (uint64_t k = 0; k < rows * t->cols; k++) {
            uint32_t bits;
            memcpy(&bits, &buf[k], sizeof bits);
            if (bits & 0xffffu) return 0;
        }
        seen += rows * t->cols;
        tensors++;
    }
    return seen >= MAX_VALUES;
}

typedef struct kind_list {
    const char *kinds[16];
    const char *why[16];
    const char *why_ko[16];
    double weight[16];
    int n;
} kind_list;

static const char *const kind_why_ko[][2] = {
    {"values equal after rounding to the coarser type", "더 거친 형식으로 반올림하면 값이 같음"},
    {"hidden-channel, FFN-neuron and head permutations recovered by assignment", "할당 문제로 은닉 채널, FFN 뉴런, 헤드 순열을 복원함"},
    {"after undoing the permutation the weights still differ by training", "순열을 되돌린 뒤에도 학습에 의한 차이가 남음"},
    {"B's layers map onto A's with repeats (monotone layer map)", "B의 층이 반복을 포함해 A의 층에 대응함 (단조 층 대응)"},
    {"B keeps a monotone subset of A's layers (depth pruning)", "B가 A 층의 단조 부분집합을 유지함 (깊이 가지치기)"},
    {"B's rows or neurons are a matched subset of A's", "B의 행 또는 뉴런이 A의 부분집합과 대응함"},
    {"A's vocabulary sits inside B's, embedding rows of shared tokens match", "A의 어휘가 B 안에 그대로 있고, 공유 토큰의 임베딩 행이 일치함"},
    {"B's experts are copies of A's dense FFN", "B의 전문가(expert)가 A의 밀집 FFN 복사본임"},
    {"tensors match once norm gains are folded into the next matrices", "정규화 이득을 다음 행렬에 접어 넣으면 텐서가 일치함"},
    {"a uniform noise-like difference across every tensor", "모든 텐서에 균일한 잡음 같은 차이"},
    {"differences at the scale of quantization rounding", "양자화 반올림 규모의 차이"},
    {"same-position tensors correlate far above chance", "같은 위치의 텐서가 우연 수준을 크게 넘어 상관됨"},
};

static void add_kind(kind_list *k, const char *kind, double weight, const char *why)
{
    if (k->n < 16) {
        k->kinds[k->n] = kind;
        k->weight[k->n] = weight;
        k->why_ko[k->n] = why;
        for (size_t i = 0; i < sizeof kind_why_ko / sizeof kind_why_ko[0]; i++)
            if (!strcmp(kind_why_ko[i][0], why)) k->why_ko[k->n] = kind_why_ko[i][1];
        k->why[k->n++] = why;
    }
}

/* Findings from the weights engine's summary for the text decoder, plus per-component ones. */
static void weights_findings(const lineage_model *a, const lineage_model *b, json_value *w, arena *ar,
                             json_value *list)
{
    const json_value *s = json_get(w, "summary");
    if (!s) return;
    char en[600], ko[600], ctl[300];
    const json_value *ft = json_get(s, "finetune_like"), *ind = json_get(s, "independent_evidence");
    double rel_l2 = num(json_get(s, "requantized"), "median_rel_l2", NAN);
    int identical = detected(s, "identical") && json_is_true(json_get(json_get(s, "identical"), "all_tensors_matched"));
    kind_list kinds = {0};
    const char *reverse = NULL;   /* evidence that A, not B, carries the modification */

    if (identical) {
        double f = num(json_get(s, "identical"), "value_identical_fraction", 1);
        snprintf(en, sizeof en, "every matched tensor has the same values (%.0f%% value-identical%s)", 100 * f,
                 json_is_true(json_get(json_get(s, "identical"), "dtype_changed")) ? ", stored in another dtype" : "");
        snprintf(ko, sizeof ko, "대응하는 모든 텐서의 값이 같음 (값 동일 %.0f%%)", 100 * f);
        finding_args fa = {"weights", "text", "identical", "derived", en, ko, f, 0, 0, 0.99,
                           "independent models share no tensor values", 0, 0, 0};
        json_push(ar, list, finding_make(ar, &fa));
        if (detected(s, "requantized")) add_kind(&kinds, "requantized", 0.9, "values equal after rounding to the coarser type");
    } else {
        const json_value *pm = json_get(s, "permuted");
        if (detected(s, "permuted")) {
            add_kind(&kinds, "permuted", 0.97, "hidden-channel, FFN-neuron and head permutations recovered by assignment");
            double after = num(pm, "centered_after", 1);
            if (after < 0.995)
                add_kind(&kinds, rel_l2 > FINETUNE_MAX_REL_L2 && after < 0.95 ? "continued_pretraining" : "finetune", 0.8,
                         "after undoing the permutation the weights still differ by training");
        }
        const json_value *dm = json_get(s, "depth_map");
        if (detected(s, "depth_map")) {
            double la = num(dm, "a_layers", 0), lb = num(dm, "b_layers", 0);
            if (lb > la || num(dm, "repeats", 0) > 0)
                add_kind(&kinds, "depth_upscaled", 0.95, "B's layers map onto A's with repeats (monotone layer map)");
            else if (lb < la) {
                /* B skips A's layers. When A's own layers come in near-identical pairs (tiny match
                 * margins), A was itself up-scaled and B follows the layers A was made from. */
                const json_value *map = json_get(json_get(w, "layer_map"), "map");
                int ambiguous = 0;
                for (size_t i = 0; i < json_count(map); i++) {
                    double z = num(json_at(map, i), "z", 0), margin = num(json_at(map, i), "margin", 1e9);
                    if (z > 10 && margin < 0.05 * z) ambiguous++;
                }
                if (ambiguous) reverse = "A holds duplicated layers that B has only once: A looks up-scaled from a model B follows";
                else add_kind(&kinds, "pruned", 0.9, "B keeps a monotone subset of A's layers (depth pruning)");
            }
        }
        if (detected(s, "pruned")) add_kind(&kinds, "pruned", 0.95, "B's rows or neurons are a matched subset of A's");
        const json_value *ve = json_get(s, "vocab_extended");
        if (detected(s, "vocab_extended")) {
            if (num(ve, "b_new", 0) > 0)
                add_kind(&kinds, "vocab_extended", 0.95, "A's vocabulary sits inside B's, embedding rows of shared tokens match");
            else reverse = "A's vocabulary extends B's";
        }
        const json_value *up = json_get(s, "upcycled");
        if (detected(s, "upcycled")) {
            const char *dir = json_get_string(up, "direction");
            if (dir && !strcmp(dir, "a_from_b")) reverse = "A's experts are copies of B's dense FFN: A looks upcycled from B";
            else add_kind(&kinds, "upcycled", 0.95, "B's experts are copies of A's dense FFN");
        }
        if (detected(s, "rescaled")) add_kind(&kinds, "rescaled", 0.9, "tensors match once norm gains are folded into the next matrices");
        if (detected(s, "noised")) add_kind(&kinds, "noised", 0.9, "a uniform noise-like difference across every tensor");
        if (detected(s, "requantized")) add_kind(&kinds, "requantized", 0.9, "differences at the scale of quantization rounding");
        if (kinds.n == 0 && json_is_true(json_get(ft, "detected")))
            add_kind(&kinds, isfinite(rel_l2) && rel_l2 > FINETUNE_MAX_REL_L2 ? "continued_pretraining" : "finetune",
                     fmin(0.98, num(ft, "fraction_significant", 0) * fmin(1, num(ft, "median_z", 0) / 10)),
                     "same-position tensors correlate far above chance");
    }

    /* The related evidence itself: one finding carrying the strongest statistic. */
    int related = identical || kinds.n > 0 || reverse;
    if (related && !identical) {
        double mc = num(ft, "median_centered", NAN), mz = num(ft, "median_z", NAN);
        if (json_is_true(json_get(ft, "detected")))
            snprintf(en, sizeof en, "%.0f%% of %d high-information tensors correlate far above chance (median centered "
                     "correlation %.3f, median z %.1f, relative update size %.2f)",
                     100 * num(ft, "fraction_significant", 0), (int)num(ft, "tensors", 0), mc, mz, rel_l2);
        else snprintf(en, sizeof en, "tensors are related once aligned (%s)", kinds.n ? kinds.why[0] : reverse);
        if (json_is_true(json_get(ft, "detected")))
            snprintf(ko, sizeof ko, "고정보 텐서의 %.0f%%가 우연 수준을 크게 넘는 상관 (중앙 중심화 상관 %.3f, 중앙 z %.1f)",
                     100 * num(ft, "fraction_significant", 0), isfinite(mc) ? mc : 0, isfinite(mz) ? mz : 0);
        else snprintf(ko, sizeof ko, "정렬 후 텐서가 관련됨 (%s)", kinds.n ? kinds.why_ko[0] : reverse);
        snprintf(ctl, sizeof ctl, "cross-layer pairs and row-shuffled tensors of the same size (independent models score ~0)");
        finding_args fa = {"weights", "text", NULL, "derived", en, ko, mc, mz, num(ft, "combined_p", NAN),
                           fmin(0.99, fmax(kinds.n ? kinds.weight[0] : 0.9, 0.9)), ctl, 0, 1, 1};
        json_push(ar, list, finding_make(ar, &fa));
    }

    /* Siblings and reversed descent: related, but not "B derived from A" (R7). */
    const char *ancestor_why = reverse;
    const char *base_a = declared_base(a, ar), *base_b = declared_base(b, ar);
    char why_meta[600];
    /* A that is a lossless F32 re-save of a bf16 checkpoint naming B's base has that base's values:
     * B descends from A's values, not from a sibling of A. */
    int a_is_resave = base_b && base_a && !strcmp(base_a, base_b) && lossless_bf16_widening(a);
    if (!ancestor_why && related && !identical && base_b && !names_model(base_b, a) && !names_model(base_b, b) &&
        (!base_a || !strcmp(base_a, base_b)) && !a_is_resave) {
        snprintf(why_meta, sizeof why_meta,
                 "B's card names '%s', not A, as its base%s, and the weights show training on both sides of that "
                 "ancestor cannot be ruled out: related through a common ancestor",
                 base_b, base_a ? " (A names the same base)" : "");
        ancestor_why = why_meta;
    }
    if (a_is_resave && related && !identical && !reverse) {
        snprintf(en, sizeof en, "A's F32 values are all exact bf16 values and its card names B's base '%s': A is read as "
                 "a lossless re-save of that base, so B's descent from it is descent from A's values", base_b);
        snprintf(ko, sizeof ko, "A의 F32 값이 모두 정확한 bf16 값이고 카드가 B와 같은 베이스 '%s'를 가리킴: A를 그 베이스의 "
                 "무손실 재저장으로 보아, B가 그 베이스에서 파생된 것은 A의 값에서 파생된 것임", base_b);
        finding_args fa = {"weights", "text", NULL, "neutral", en, ko, NAN, 0, 0, 0,
                           "a checkpoint trained or fine-tuned in mixed precision keeps fp32 master values, which are "
                           "almost never all bf16-exact", 0, 0, 0};
        json_push(ar, list, finding_make(ar, &fa));
    }
    for (int i = 0; i < kinds.n; i++) {
        snprintf(en, sizeof en, "%s: %s", kinds.kinds[i], kinds.why[i]);
        snprintf(ko, sizeof ko, "%s: %s", kinds.kinds[i], kinds.why_ko[i]);
        finding_args fa = {"weights", "text", ancestor_why ? "shared_ancestor" : kinds.kinds[i], "derived", en, ko,
                           NAN, 0, 0, kinds.weight[i], "the same search on independent models finds nothing", 0, 0, 0};
        json_push(ar, list, finding_make(ar, &fa));
    }
    if (ancestor_why) {
        finding_args fa = {"weights", "text", "shared_ancestor", "derived", ancestor_why, NULL, NAN, 0, 0, 0.9,
                           NULL, 0, 0, 0};
        json_push(ar, list, finding_make(ar, &fa));
    }

    /* Independence: high-information same-shape tensors at chance, with the power stated (R6). */
    if (!related && json_is_true(json_get(ind, "detected"))) {
        double at = num(ind, "tensors_at_chance", 0), of = num(ind, "of", 1), mdc = num(ind, "min_detectable_centered", 1);
        snprintf(en, sizeof en, "%d of %d high-information tensors are at chance after every alignment searched; the "
                 "test would have detected a centered correlation of %.3f", (int)at, (int)of, mdc);
        snprintf(ko, sizeof ko, "고정보 텐서 %d/%d개가 모든 정렬 후에도 우연 수준; 검출 가능한 최소 중심화 상관 %.3f",
                 (int)at, (int)of, mdc);
        finding_args fa = {"weights", "text", NULL, "independent", en, ko, at / (of > 0 ? of : 1), 0, 0,
                           (at / (of > 0 ? of : 1)) * (mdc <= 0.3 ? 0.95 : 0.7),
                           "derived pairs in the same run score far above chance", 0, 0, 0};
        json_push(ar, list, finding_make(ar, &fa));
    }

    /* In a multimodal pair the overall counts mix components; judge the text decoder on its own. */
    const json_value *text = json_get(json_get(s, "components"), "text");
    if (!related && !json_is_true(json_get(ind, "detected")) && json_is_true(json_get(text, "independent"))) {
        double hi = num(text, "high_information", 0), sig = num(text, "fraction_significant", 0);
        snprintf(en, sizeof en, "text decoder: %.0f%% of %d high-information tensors are at chance; the test would have "
                 "detected a centered correlation of %.3f", 100 * (1 - sig), (int)hi, num(ind, "min_detectable_centered", 1));
        finding_args fa = {"weights", "text", NULL, "independent", en, NULL, 1 - sig, 0, 0,
                           (1 - sig) * (num(ind, "min_detectable_centered", 1) <= 0.3 ? 0.95 : 0.7),
                           "derived pairs in the same run score far above chance", 0, 0, 0};
        json_push(ar, list, finding_make(ar, &fa));
    }

    /* Other components (vision tower, projector, audio) are judged on their own (R8). */
    const json_value *comps = json_get(s, "components");
    for (size_t i = 0; comps && comps->type == JSON_OBJECT && i < comps->u.object.count; i++) {
        const json_member *c = &comps->u.object.members[i];
        if (!strcmp(c->key, "text") || !strcmp(c->key, "mtp")) continue;
        const json_value *v = c->value;
        finding_args fa = {"weights", c->key, NULL, "neutral", en, NULL, NAN, 0, 0, 0, NULL, 0, 0, 0};
        if (json_is_true(json_get(v, "identical"))) {
            snprintf(en, sizeof en, "%s: every tensor has the same values", c->key);
            fa.relation = "identical", fa.direction = "derived", fa.weight = 0.99;
        } else if (json_is_true(json_get(v, "related"))) {
            snprintf(en, sizeof en, "%s: %.0f%% of tensors correlate far above chance", c->key,
                     100 * num(v, "fraction_significant", 0));
            fa.relation = "finetune", fa.direction = "derived", fa.weight = 0.9;
        } else if (json_is_true(json_get(v, "independent"))) {
            snprintf(en, sizeof en, "%s: high-information tensors at chance", c->key);
            fa.direction = "independent", fa.weight = 0.85;
        } else continue;
        json_push(ar, list, finding_make(ar, &fa));
    }
}

static void architecture_findings(json_value *arch, arena *ar, json_value *list)
{
    if (!arch) return;
    int same = json_is_true(json_get(arch, "identical"));
    finding_args fa = {"architecture", "text", same ? "same_architecture" : "shape_mismatch", "neutral",
                       same ? "the normalized architectures are identical: a prior at most, not evidence of derivation (R2)"
                            : "the architectures differ: this says which comparisons need alignment, not that the models "
                              "are independent (R1)",
                       same ? "정규화된 아키텍처가 동일함: 파생의 증거가 아님 (R2)"
                            : "아키텍처가 다름: 정렬이 필요한 비교를 알려줄 뿐, 독립의 증거가 아님 (R1)",
                       NAN, 0, 0, 0, NULL, 0, 0, 0};
    json_push(ar, list, finding_make(ar, &fa));
}

static json_value *findings_of(arena *ar, json_value *section)
{
    json_value *list = json_get(section, "findings");
    if (!list) {
        list = json_new_array(ar);
        json_set(ar, section, "findings", list);
    }
    return list;
}

lineage_status findings_build(const lineage_model *a, const lineage_model *b, json_value *root, arena *ar,
                              lineage_error *err)
{
    json_value *w = json_get(root, "weights"), *arch = json_get(root, "architecture");
    if (w && w->type == JSON_OBJECT) weights_findings(a, b, w, ar, findings_of(ar, w));
    if (arch && arch->type == JSON_OBJECT) architecture_findings(arch, ar, findings_of(ar, arch));
    (void)err;
    return LINEAGE_OK;
}
