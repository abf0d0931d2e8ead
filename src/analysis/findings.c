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

/* Relative difference beyond storage rounding: re-quantization to 8 bits or more moves a tensor by a
 * few percent at most (int8 per-channel about 1-2%, fp8 e4m3 about 4%), to a 16-bit float by under 0.4%
 * (bf16; the re-quantization test allows 4 unit roundoffs, 0.8%). A residual above the bound of the
 * coarser store after every alignment is undone is training. */
#define RESIDUAL_TRAINED 0.05
#define RESIDUAL_TRAINED_16 0.02   /* both sides 16-bit floats or finer: 5x bf16's rounding */
/* After a rescaling is undone, between a 32-bit and a 16-bit side: below this the finer side holds the
 * coarser values exactly (32-bit rounding is ~6e-8); from RESCALE_ROUNDED_REL up, the coarser side
 * carries its own rounding (f16 ~3e-4, bf16 ~2e-3 relative). */
#define RESCALE_EXACT_REL 1e-5
/* A noise that could hide a training update's structured part of this relative size or more is said to
 * (a light fine-tune moves weights by 0.01-0.1 of their norm) */
#define HIDDEN_TRAINING_MIN 0.01
#define RESCALE_ROUNDED_REL 5e-5

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
        if (f->control_key) {
            json_set_str(ar, c, "key", f->control_key);
            json_value *vals = json_new_array(ar);
            for (int i = 0; i < f->control_nvalues && i < 2; i++) json_push(ar, vals, json_new_double(ar, f->control_values[i]));
            json_set(ar, c, "values", vals);
        }
        json_set(ar, o, "control", c);
    }
    if (f->has_z && isfinite(f->z)) json_set_double(ar, o, "z", f->z);
    if (f->has_p && isfinite(f->p)) json_set_double(ar, o, "p", f->p);
    json_set_str(ar, o, "direction", f->direction);
    json_set_double(ar, o, "weight", round(f->weight * 1000) / 1000);
    if (f->relation) json_set_str(ar, o, "relation", f->relation);
    if (f->relation && f->lineage_direction) json_set_str(ar, o, "lineage_direction", f->lineage_direction);
    if (f->low_information) json_set_bool(ar, o, "low_information", 1);
    if (f->note) json_set_bool(ar, o, "note", 1);
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

/* Bits per stored weight over all of m's tensors: the re-quantized side of a pair stores fewer. */
static double bits_per_weight(const lineage_model *m)
{
    double bytes = 0, n = 0;
    for (size_t i = 0; i < lineage_model_tensor_count(m); i++) {
        const lineage_tensor_info *t = lineage_model_tensor(m, i);
        bytes += (double)t->nbytes;
        n += (double)t->numel;
    }
    return n > 0 ? 8 * bytes / n : NAN;
}

/* Whether every sampled value of m's F32 tensors is exactly a bf16 value (first rows of up to 32
 * tensors, at least 4096 values): an F32 file holding bf16 values has bf16 precision. */
static int f32_holds_bf16(const lineage_model *m)
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

/* Precision a checkpoint actually carries, in bits per weight: the storage, except that a lossless
 * widening (bf16 values stored as F32) carries bf16's. */
static double effective_bits(const lineage_model *m)
{
    double b = bits_per_weight(m);
    return b >= 31 && f32_holds_bf16(m) ? 16 : b;
}

/* Which side is the parent for one relation: decided from the weights only (docs/METHODOLOGY.md
 * "Direction"). Kinds that are function-preserving or symmetric (permuted, rescaled) and kinds that
 * only measure how far the values moved (finetune, continued_pretraining) carry no direction. */
#define DIR_B "b_from_a"
#define DIR_A "a_from_b"
#define DIR_NONE "undetermined"

typedef struct kind_list {
    const char *kinds[16];
    char why[16][640];
    char why_ko[16][640];
    double weight[16];
    const char *dir[16];
    int n;
} kind_list;

/* Relative difference storage rounding alone can make, by the coarser side's bits per weight: 16-bit
 * floats or finer RESIDUAL_TRAINED_16, 8 bits and up RESIDUAL_TRAINED, below 8 bits a bound that grows
 * with the rounding step. */
static double rounding_bound(const lineage_model *a, const lineage_model *b)
{
    double coarse = fmin(effective_bits(a), effective_bits(b));
    if (!isfinite(coarse) || coarse >= 15.5) return RESIDUAL_TRAINED_16;
    return coarse < 8 ? fmax(RESIDUAL_TRAINED, pow(2, -(coarse - 3))) : RESIDUAL_TRAINED;
}

/* The noise test's result (its own floor suits 16-bit stores), unless a side is stored coarsely
 * enough that its rounding alone is as large as the noise read. */
static int noise_read(const lineage_model *a, const lineage_model *b, const json_value *s)
{
    if (!detected(s, "noised")) return 0;
    double coarse = fmin(effective_bits(a), effective_bits(b));
    return !(isfinite(coarse) && coarse < 15.5) || num(json_get(s, "noised"), "alpha", 0) >= rounding_bound(a, b);
}

static void add_kind(kind_list *k, const char *kind, double weight, const char *dir, const char *en, const char *ko)
{
    if (k->n >= 16) return;
    for (int i = 0; i < k->n; i++)
        if (!strcmp(k->kinds[i], kind) && !strcmp(k->dir[i], dir)) return;
    k->kinds[k->n] = kind;
    k->weight[k->n] = weight;
    k->dir[k->n] = dir;
    snprintf(k->why[k->n], sizeof k->why[0], "%s", en);
    snprintf(k->why_ko[k->n], sizeof k->why_ko[0], "%s", ko);
    k->n++;
}

/* Side letters for a direction: the child first. */
static const char *child_of(const char *dir) { return !strcmp(dir, DIR_A) ? "A" : "B"; }
static const char *parent_of(const char *dir) { return !strcmp(dir, DIR_A) ? "B" : "A"; }

static const char *str_dir(const json_value *o, const char *k)
{
    const char *d = json_get_string(o, k);
    return d && !strcmp(d, DIR_A) ? DIR_A : d && !strcmp(d, DIR_B) ? DIR_B : DIR_NONE;
}

/* The relation kinds the weights engine detected, each with the side it points to. */
static void detect_kinds(const lineage_model *a, const lineage_model *b, const json_value *w, const json_value *s,
                         kind_list *kinds, double *hidden_training)
{
    *hidden_training = NAN;
    char en[640], ko[640];
    const json_value *ft = json_get(s, "finetune_like");
    double rel_l2 = num(json_get(s, "requantized"), "median_rel_l2", NAN);
    if (detected(s, "permuted")) {
        add_kind(kinds, "permuted", 0.97, DIR_NONE,
                 "hidden-channel, FFN-neuron and head permutations between A and B recovered by assignment",
                 "할당 문제로 A와 B 사이의 은닉 채널, FFN 뉴런, 헤드 순열을 복원함");
    }
    const json_value *dm = json_get(s, "depth_map");
    if (detected(s, "depth_map")) {
        double la = num(dm, "a_layers", 0), lb = num(dm, "b_layers", 0);
        /* A's own layers in near-identical pairs (tiny match margins): A holds duplicated layers B has once */
        const json_value *map = json_get(json_get(w, "layer_map"), "map");
        /* a second layer of A matches the same B layer at least half as strongly, far above the
         * calibrated null: A holds two copies of it */
        double thr = num(json_get(w, "layer_map"), "threshold", 10);
        int a_duplicates = 0;
        for (size_t i = 0; i < json_count(map); i++) {
            double z = num(json_at(map, i), "z", 0), margin = num(json_at(map, i), "margin", 1e9);
            double second = z - margin;
            if (z > 10 && second > 0.5 * z && second > fmax(thr, 10)) a_duplicates++;
        }
        if (num(dm, "a_duplicates", 0) > a_duplicates) a_duplicates = (int)num(dm, "a_duplicates", 0);
        /* the repeats rule read the other way round: A's layers map onto B's with repeats */
        if (num(dm, "a_repeats", 0) > a_duplicates) a_duplicates = (int)num(dm, "a_repeats", 0);
        if (num(dm, "repeats", 0) > 0)
            add_kind(kinds, "depth_upscaled", 0.95, DIR_B, "B's layers map onto A's with repeats (monotone layer map)",
                     "B의 층이 반복을 포함해 A의 층에 대응함 (단조 층 대응)");
        else if (lb < la && a_duplicates)
            add_kind(kinds, "depth_upscaled", 0.95, DIR_A,
                     "A holds duplicated layers that each map onto one layer of B (monotone layer map)",
                     "A에 중복된 층이 있고 각각 B의 한 층에 대응함 (단조 층 대응)");
        else if (lb < la)
            add_kind(kinds, "pruned", 0.9, DIR_B, "B keeps a monotone subset of A's layers (depth pruning)",
                     "B가 A 층의 단조 부분집합을 유지함 (깊이 가지치기)");
        else if (lb > la)
            add_kind(kinds, "pruned", 0.9, DIR_A, "A keeps a monotone subset of B's layers (depth pruning)",
                     "A가 B 층의 단조 부분집합을 유지함 (깊이 가지치기)");
    }
    const json_value *wd = json_get(s, "pruned");
    if (detected(s, "pruned")) {
        const char *d = str_dir(wd, "direction");
        if (!strcmp(d, DIR_NONE))
            add_kind(kinds, "pruned", 0.9, DIR_NONE, "rows or neurons of each side are matched subsets of the other's in "
                     "different tensors", "텐서마다 양쪽의 행 또는 뉴런이 서로의 부분집합과 대응함");
        else {
            snprintf(en, sizeof en, "%s's rows or neurons are a matched subset of %s's", child_of(d), parent_of(d));
            snprintf(ko, sizeof ko, "%s의 행 또는 뉴런이 %s의 부분집합과 대응함", child_of(d), parent_of(d));
            add_kind(kinds, "pruned", 0.95, d, en, ko);
        }
    }
    const json_value *ve = json_get(s, "vocab_extended");
    if (detected(s, "vocab_extended")) {
        const char *d = str_dir(ve, "direction");
        double added = num(ve, !strcmp(d, DIR_A) ? "a_new" : "b_new", 0);
        snprintf(en, sizeof en, "%s's vocabulary sits inside %s's (%s adds %.0f tokens); embedding rows of shared tokens "
                 "match", parent_of(d), child_of(d), child_of(d), added);
        snprintf(ko, sizeof ko, "%s의 어휘가 %s 안에 그대로 있고 (%s가 토큰 %.0f개 추가), 공유 토큰의 임베딩 행이 일치함",
                 parent_of(d), child_of(d), child_of(d), added);
        add_kind(kinds, "vocab_extended", 0.95, d, en, ko);
    }
    const json_value *up = json_get(s, "upcycled");
    if (detected(s, "upcycled")) {
        const char *d = str_dir(up, "direction");
        snprintf(en, sizeof en, "%s's experts are copies of %s's dense FFN", child_of(d), parent_of(d));
        snprintf(ko, sizeof ko, "%s의 전문가(expert)가 %s의 밀집 FFN 복사본임", child_of(d), parent_of(d));
        add_kind(kinds, "upcycled", 0.95, d, en, ko);
    }
    const json_value *rsc = json_get(s, "rescaled");
    if (detected(s, "rescaled") && json_is_true(json_get(rsc, "fold_detected")))
        add_kind(kinds, "rescaled", 0.9, DIR_NONE, "tensors match once norm gains are folded into the next matrices",
                 "정규화 이득을 다음 행렬에 접어 넣으면 텐서가 일치함");
    else if (detected(s, "rescaled")) {
        /* read from the channels: the gains' change against the reading columns' (docs/METHODOLOGY.md) */
        const json_value *ch = json_get(rsc, "channels");
        snprintf(en, sizeof en, "per channel, the change of each norm's gain and the change of the columns that read it "
                 "move together as a function-preserving rescaling makes them (median Spearman %.2f over %.0f norms, "
                 "combined z %.1f against shuffled channels; training moves them the other way)",
                 num(ch, "median_rho", 0), num(ch, "norms", 0), num(ch, "z", 0));
        snprintf(ko, sizeof ko, "채널마다 정규화 이득의 변화와 그 출력을 읽는 열의 변화가 함수 보존 스케일 변환처럼 함께 움직임 "
                 "(노름 %.0f개의 Spearman 중앙값 %.2f, 채널을 섞은 대조군 대비 결합 z %.1f; 학습은 반대 방향으로 움직임)",
                 num(ch, "norms", 0), num(ch, "median_rho", 0), num(ch, "z", 0));
        add_kind(kinds, "rescaled", 0.9, DIR_NONE, en, ko);
    }
    int noised = noise_read(a, b, s);
    if (noised) {
        const char *d = str_dir(json_get(s, "noised"), "direction");
        if (strcmp(d, DIR_NONE)) {
            snprintf(en, sizeof en, "a uniform noise-like difference across every tensor; %s's variance grew by the noise's",
                     child_of(d));
            snprintf(ko, sizeof ko, "모든 텐서에 균일한 잡음 같은 차이가 있고, %s의 분산이 잡음만큼 커짐", child_of(d));
        } else {
            snprintf(en, sizeof en, "a uniform noise-like difference across every tensor (%.3f of each tensor's spread), too "
                     "small for the variances to show which side carries it",
                     num(json_get(s, "noised"), "alpha", 0));
            snprintf(ko, sizeof ko, "모든 텐서에 균일한 잡음 같은 차이가 있음 (각 텐서 분산 폭의 %.3f); 너무 작아 어느 쪽 분산이 "
                     "커졌는지는 보이지 않음", num(json_get(s, "noised"), "alpha", 0));
        }
        add_kind(kinds, "noised", 0.9, d, en, ko);
        /* Training under the noise: the residual's top singular values leave the bulk an i.i.d. noise
         * makes (docs/METHODOLOGY.md "Training under a noise"). Its size is that of the structured part
         * alone (the unstructured part of the update is inside the noise). */
        const json_value *tun = json_get(s, "trained_under_noise");
        if (json_is_true(json_get(tun, "detected"))) {
            double sz = num(tun, "structured_rel", NAN);
            snprintf(en, sizeof en, "under the noise, the residual B - A has structure an i.i.d. noise cannot make: its top "
                     "singular value leaves the Marchenko-Pastur bulk of its own shuffled entries (%.0f of %.0f tensors, "
                     "combined z %.1f): trained as well as noised, a structured update of about %.2f of the norm",
                     num(tun, "above_bulk", 0), num(tun, "tensors", 0), num(tun, "z", 0), isfinite(sz) ? sz : 0);
            snprintf(ko, sizeof ko, "잡음 아래의 잔차 B - A에 서로 독립인 잡음으로는 생기지 않는 규칙성이 있음: 최대 특이값이 "
                     "원소를 섞은 자기 사본의 마르첸코-파스투르 벌크를 벗어남 (텐서 %.0f/%.0f개, 결합 z %.1f): 잡음 외에 학습도 됨, "
                     "규칙적인 갱신 크기는 노름의 약 %.2f", num(tun, "above_bulk", 0), num(tun, "tensors", 0),
                     num(tun, "z", 0), isfinite(sz) ? sz : 0);
            add_kind(kinds, isfinite(sz) && sz > FINETUNE_MAX_REL_L2 ? "continued_pretraining" : "finetune", 0.8, DIR_NONE,
                     en, ko);
        }
        *hidden_training = !json_is_true(json_get(tun, "detected")) && num(tun, "tensors", 0) >= 4 ?
                           num(tun, "detectable_rel", NAN) : NAN;
    }
    /* Training on top of a structural or function-preserving change: once the alignment is undone the
     * matched tensors still differ by more than storage rounding (docs/METHODOLOGY.md "Training on top
     * of a structural change"). A noise-like difference is the noise's own; a permutation carries its
     * own residual test above. */
    int trained = 0;
    for (int i = 0; i < kinds->n; i++)
        trained |= !strcmp(kinds->kinds[i], "finetune") || !strcmp(kinds->kinds[i], "continued_pretraining");
    const json_value *res = json_get(s, "residual");
    double resid = num(res, "median_rel_l2", NAN);
    /* a side stored in fewer bits rounds by more: below 8 bits the bound grows with the rounding step */
    double ba = effective_bits(a), bb = effective_bits(b), bound = rounding_bound(a, b);
    if (kinds->n > 0 && !trained && !noised && isfinite(resid) && resid >= bound) {
        int cpt = resid > FINETUNE_MAX_REL_L2;
        snprintf(en, sizeof en, "once the alignment is undone the matched tensors still differ by %.2f of their norm "
                 "(median relative L2 over %.0f pairs, far above storage rounding): trained before or after the "
                 "structural change", resid, num(res, "pairs", 0));
        snprintf(ko, sizeof ko, "정렬을 되돌린 뒤에도 대응 텐서가 노름의 %.2f만큼 다름 (쌍 %.0f개의 상대 L2 중앙값, 저장 "
                 "반올림보다 훨씬 큼): 아키텍처 변경 전후에 학습됨", resid, num(res, "pairs", 0));
        add_kind(kinds, cpt ? "continued_pretraining" : "finetune", 0.8, DIR_NONE, en, ko);
    }
    /* value training, unless the whole difference is rounding (re-quantization, below) */
    if (kinds->n == 0 && json_is_true(json_get(ft, "detected")) && !detected(s, "requantized"))
        add_kind(kinds, isfinite(rel_l2) && rel_l2 > FINETUNE_MAX_REL_L2 ? "continued_pretraining" : "finetune",
                 fmin(0.98, num(ft, "fraction_significant", 0) * fmin(1, num(ft, "median_z", 0) / 10)), DIR_NONE,
                 "same-position tensors correlate far above chance", "같은 위치의 텐서가 우연 수준을 크게 넘어 상관됨");
    if (detected(s, "requantized")) {
        const char *d = bb < ba ? DIR_B : ba < bb ? DIR_A : DIR_NONE;
        add_kind(kinds, "requantized", 0.9, d, "differences at the scale of quantization rounding, stored in another type",
                 "다른 형식으로 저장되었고 양자화 반올림 규모의 차이");
    } else if ((kinds->n > 0 || json_is_true(json_get(ft, "detected"))) && isfinite(ba) && isfinite(bb) &&
               fabs(ba - bb) >= 4) {
        /* related, and one side carries less precision than the other, the values having moved by more
         * than rounding. Below 16 bits (int8, block-quantized, fp8) the coarser side was re-quantized
         * after whatever else happened: models are trained in 16- or 32-bit floats, not from such a file.
         * Between 16- and 32-bit floats it is no direction: a 32-bit fine-tune of a bf16 release and a
         * bf16 rounding of a trained 32-bit model leave the same weights (a widening re-save adds no
         * precision, so it never counts). */
        const char *d = bb < ba ? DIR_B : DIR_A;
        /* nothing changed the values, only moved them (a permutation, a subset, repeated layers; no
         * training, no noise, the aligned residual at rounding): the coarser side is then a rounding of
         * the finer one. A rescaling computes new values in the finer type from the coarser ones, so
         * it leaves no such clue. */
        int moved = 0, rescaled = 0;
        for (int i = 0; i < kinds->n; i++) {
            moved |= !strcmp(kinds->kinds[i], "finetune") || !strcmp(kinds->kinds[i], "continued_pretraining") ||
                     !strcmp(kinds->kinds[i], "noised");
            rescaled |= !strcmp(kinds->kinds[i], "rescaled");
        }
        /* a rescaling and nothing else: once the per-channel factors are undone, the finer side equals the
         * coarser one to its own rounding (the finer side was computed from the coarser values: a 16-bit
         * rounding would leave ~1e-3), or differs by the coarser type's rounding (the coarser side is the
         * rounded rescaled copy). Measured: 4e-8 and 2.3e-3 (docs/METHODOLOGY.md "Direction"). */
        int exact_from_coarse = !moved && rescaled && fmin(ba, bb) >= 15.5 && isfinite(resid) && resid < RESCALE_EXACT_REL;
        int rounded_rescale = !moved && rescaled && fmin(ba, bb) >= 15.5 && isfinite(resid) &&
                              resid >= RESCALE_ROUNDED_REL && resid < bound;
        if (exact_from_coarse) {
            const char *fd = bb < ba ? DIR_A : DIR_B;   /* the finer side is the child */
            snprintf(en, sizeof en, "%s's %.0f-bit values are %s's %.0f-bit values times per-channel factors to within %.1g "
                     "of their norm (%.0f-bit rounding; a rounding to %.0f bits would leave about 1e-3): %s was computed "
                     "from %s", child_of(fd), fmax(ba, bb), parent_of(fd), fmin(ba, bb), resid, fmax(ba, bb),
                     fmin(ba, bb), child_of(fd), parent_of(fd));
            snprintf(ko, sizeof ko, "%s의 %.0f비트 값이 %s의 %.0f비트 값에 채널별 배율을 곱한 것과 노름의 %.1g 안에서 같음 "
                     "(%.0f비트 반올림 수준; %.0f비트로 반올림했다면 약 1e-3이 남음): %s가 %s에서 계산됨", child_of(fd),
                     fmax(ba, bb), parent_of(fd), fmin(ba, bb), resid, fmax(ba, bb), fmin(ba, bb), child_of(fd),
                     parent_of(fd));
            add_kind(kinds, "requantized", 0.9, fd, en, ko);
        } else if (fmin(ba, bb) < 15.5 || rounded_rescale ||
                   (!moved && !rescaled && kinds->n > 0 && isfinite(resid) && resid < bound)) {
            snprintf(en, sizeof en, "%s is stored at %.1f bits per weight, %s carries %.1f: %s was re-quantized",
                     child_of(d), fmin(ba, bb), parent_of(d), fmax(ba, bb), child_of(d));
            snprintf(ko, sizeof ko, "%s는 가중치당 %.1f비트, %s는 %.1f비트: %s가 다시 양자화됨", child_of(d), fmin(ba, bb),
                     parent_of(d), fmax(ba, bb), child_of(d));
            add_kind(kinds, "requantized", 0.9, d, en, ko);
        } else {
            const char *coarse_side = bb < ba ? "B" : "A", *fine_side = bb < ba ? "A" : "B";
            snprintf(en, sizeof en, "%s holds %.0f-bit values, %s carries %.0f bits: either %s was rounded after "
                     "training, or %s was trained from %s in higher precision; the weights do not tell which, so this "
                     "gives no direction", coarse_side, fmin(ba, bb), fine_side, fmax(ba, bb), coarse_side, fine_side,
                     coarse_side);
            snprintf(ko, sizeof ko, "%s는 %.0f비트 값, %s는 %.0f비트: %s가 학습 뒤 반올림되었거나 %s가 %s에서 더 높은 "
                     "정밀도로 학습되었으며, 가중치로는 어느 쪽인지 알 수 없어 방향의 근거가 되지 않음", coarse_side,
                     fmin(ba, bb), fine_side, fmax(ba, bb), coarse_side, fine_side, coarse_side);
            add_kind(kinds, "requantized", 0.6, DIR_NONE, en, ko);
        }
    }
}

/* Findings from the weights engine's summary for the text decoder, plus per-component ones. Only
 * tensors decide here: model cards, names and paths are clues (clues.c), shown beside the verdict. */
static void weights_findings(const lineage_model *a, const lineage_model *b, json_value *w, arena *ar,
                             json_value *list)
{
    const json_value *s = json_get(w, "summary");
    if (!s) return;
    char en[900], ko[900], ctl[300];
    const json_value *ft = json_get(s, "finetune_like"), *ind = json_get(s, "independent_evidence");
    double rel_l2 = num(json_get(s, "requantized"), "median_rel_l2", NAN);
    int identical = detected(s, "identical") && json_is_true(json_get(json_get(s, "identical"), "all_tensors_matched"));
    kind_list kinds;
    memset(&kinds, 0, sizeof kinds);
    double hidden_training = NAN;   /* a noise read without training: the update size it could hide */

    if (identical) {
        double f = num(json_get(s, "identical"), "value_identical_fraction", 1);
        snprintf(en, sizeof en, "every matched tensor has the same values (%.0f%% value-identical%s)", 100 * f,
                 json_is_true(json_get(json_get(s, "identical"), "dtype_changed")) ? ", stored in another dtype" : "");
        snprintf(ko, sizeof ko, "대응하는 모든 텐서의 값이 동일함 (값 동일 %.0f%%)", 100 * f);
        finding_args fa = {"weights", "text", "identical", "derived", en, ko, f, 0, 0, 0.99,
                           "independent models share no tensor values", 0, 0, 0, DIR_NONE, 0, NULL, 0, {0, 0}};
        json_push(ar, list, finding_make(ar, &fa));
    } else {
        detect_kinds(a, b, w, s, &kinds, &hidden_training);
    }

    /* The related evidence itself: one finding carrying the strongest statistic. */
    int related = identical || kinds.n > 0;
    if (related && !identical) {
        double mc = num(ft, "median_centered", NAN), mz = num(ft, "median_z", NAN);
        if (json_is_true(json_get(ft, "detected")))
            snprintf(en, sizeof en, "%.0f%% of %d high-information tensors correlate far above chance (median centered "
                     "correlation %.3f, median z %.1f, relative update size %.2f)",
                     100 * num(ft, "fraction_significant", 0), (int)num(ft, "tensors", 0), mc, mz, rel_l2);
        else snprintf(en, sizeof en, "tensors are related once aligned (%s)", kinds.why[0]);
        if (json_is_true(json_get(ft, "detected")))
            snprintf(ko, sizeof ko, "고정보 텐서의 %.0f%%가 우연 수준을 크게 넘는 상관 (중앙 중심화 상관 %.3f, 중앙 z %.1f)",
                     100 * num(ft, "fraction_significant", 0), isfinite(mc) ? mc : 0, isfinite(mz) ? mz : 0);
        else snprintf(ko, sizeof ko, "정렬 후 텐서가 관련됨 (%s)", kinds.why_ko[0]);
        snprintf(ctl, sizeof ctl, "cross-layer pairs and row-shuffled tensors of the same size (independent models score ~0)");
        finding_args fa = {"weights", "text", NULL, "derived", en, ko, mc, mz, num(ft, "combined_p", NAN),
                           fmin(0.99, fmax(kinds.n ? kinds.weight[0] : 0.9, 0.9)), ctl, 0, 1, 1, NULL, 0, "weights_null", 0, {0, 0}};
        json_push(ar, list, finding_make(ar, &fa));
    }

    /* Direction. Each side carrying a modification the other lacks (A up-scaled, B pruned; A upcycled,
     * B vocabulary-extended) means neither is the other's parent: siblings (R7). */
    int to_b = 0, to_a = 0;
    for (int i = 0; i < kinds.n; i++) {
        to_b += !strcmp(kinds.dir[i], DIR_B);
        to_a += !strcmp(kinds.dir[i], DIR_A);
    }
    int siblings = to_a && to_b;
    for (int i = 0; i < kinds.n; i++) {
        snprintf(en, sizeof en, "%s: %s", kinds.kinds[i], kinds.why[i]);
        snprintf(ko, sizeof ko, "%s", kinds.why_ko[i]);   /* the kind is the finding's relation, worded by the report */
        finding_args fa = {"weights", "text", siblings ? "shared_ancestor" : kinds.kinds[i], "derived", en, ko,
                           NAN, 0, 0, kinds.weight[i], "the same search on independent models finds nothing", 0, 0, 0,
                           siblings ? DIR_NONE : kinds.dir[i], 0, "weights_search", 0, {0, 0}};
        json_push(ar, list, finding_make(ar, &fa));
    }
    if (siblings) {
        char ea[300] = "", eb[300] = "", ka[300] = "", kb[300] = "";
        for (int i = 0; i < kinds.n; i++) {
            char *e = !strcmp(kinds.dir[i], DIR_A) ? ea : !strcmp(kinds.dir[i], DIR_B) ? eb : NULL;
            char *k = !strcmp(kinds.dir[i], DIR_A) ? ka : !strcmp(kinds.dir[i], DIR_B) ? kb : NULL;
            if (!e) continue;
            size_t l = strlen(e);
            snprintf(e + l, 300 - l, "%s%s", l ? ", " : "", kinds.kinds[i]);
            l = strlen(k);
            snprintf(k + l, 300 - l, "%s%s", l ? ", " : "", kinds.kinds[i]);
        }
        snprintf(en, sizeof en, "A carries %s relative to B, and B carries %s relative to A: neither can be the other's "
                 "parent, so they are related through a common ancestor", ea, eb);
        snprintf(ko, sizeof ko, "A에는 B에 대한 %s, B에는 A에 대한 %s 흔적이 있어 어느 쪽도 다른 쪽의 부모일 수 없음: 공통 "
                 "조상을 통해 관련됨", ka, kb);
        finding_args fa = {"weights", "text", "shared_ancestor", "derived", en, ko, NAN, 0, 0, 0.9,
                           "each modification is found by the same search that finds nothing on independent models",
                           0, 0, 0, DIR_NONE, 0, "weights_siblings", 0, {0, 0}};
        json_push(ar, list, finding_make(ar, &fa));
    } else if (related && !identical && !to_a && !to_b) {
        /* Only how far the values moved is known: descent either way and siblings look alike (R7). */
        finding_args fa = {"weights", "text", NULL, "neutral",
                           "the weights alone cannot tell whether B came from A, A from B, or both from a common "
                           "ancestor: nothing here is a subset, a repeat, an extension or an addition on one side only",
                           "가중치만으로는 B가 A에서, A가 B에서, 또는 둘 다 공통 조상에서 나왔는지 구별할 수 없음: "
                           "한쪽에만 있는 부분집합, 반복, 확장, 추가가 없음",
                           NAN, 0, 0, 0, NULL, 0, 0, 0, NULL, 0, NULL, 0, {0, 0}};
        json_push(ar, list, finding_make(ar, &fa));
    }

    /* Training hides a noise added with it: an i.i.d. noise is indistinguishable from the update's
     * own unstructured part, and nothing in the weights says how large that part should be (a
     * fine-tune and a noise of its size leave a difference whose size varies by tensor like the
     * fine-tune's, so the noise test's common size is not there to find). Said, with the size up to
     * which a noise would be hidden, rather than guessed. */
    const char *trained_kind = NULL;
    for (int i = 0; i < kinds.n; i++)
        if (!strcmp(kinds.kinds[i], "continued_pretraining") || (!trained_kind && !strcmp(kinds.kinds[i], "finetune")))
            trained_kind = kinds.kinds[i];
    if (trained_kind && !noise_read(a, b, s)) {
        int cpt = !strcmp(trained_kind, "continued_pretraining");
        double resid = num(json_get(s, "residual"), "median_rel_l2", NAN);
        double size = isfinite(resid) ? resid : rel_l2;
        snprintf(en, sizeof en, "%s moved the weights by %.2f of their norm: an i.i.d. noise of relative size up to that, "
                 "added before or after it, would be indistinguishable from the training's own unstructured part, so "
                 "from the weights alone `noised` can be neither shown nor excluded",
                 cpt ? "continued pre-training" : "the fine-tune", size);
        snprintf(ko, sizeof ko, "%s이 가중치를 노름의 %.2f만큼 움직임: 이 크기까지의 서로 독립인 잡음이 그 "
                 "전후에 더해졌다면 학습 자체의 무작위 성분과 구별할 수 없어, 가중치만으로는 잡음 추가를 보일 수도 배제할 "
                 "수도 없음",
                 cpt ? "계속 사전학습" : "미세조정", size);
        finding_args fa = {"weights", "text", NULL, "neutral", en, ko, size, 0, 0, 0, NULL, 0, 0, 0, NULL, 1, NULL, 0, {0, 0}};
        json_value *f = finding_make(ar, &fa);
        if (f) json_set_str(ar, f, "indistinguishable_kind", "noised");
        json_push(ar, list, f);
    }
    /* The other way round: a noise read, and no training under it. The residual spectrum sees a
     * structured update only above the BBP threshold, so a training whose structured part is smaller
     * sits inside the noise's bulk; said, with that size, when it is as large as a light fine-tune. */
    if (!trained_kind && isfinite(hidden_training) && hidden_training >= HIDDEN_TRAINING_MIN) {
        snprintf(en, sizeof en, "the noise is large enough to hide a training: an update whose structured part is "
                 "below about %.3f of the norm stays inside the noise's Marchenko-Pastur bulk, so from the weights alone "
                 "`finetune` can be neither shown nor excluded", hidden_training);
        snprintf(ko, sizeof ko, "잡음이 학습을 가릴 만큼 큼: 규칙적인 성분이 노름의 약 %.3f보다 작은 갱신은 잡음의 "
                 "마르첸코-파스투르 벌크 안에 머물러, 가중치만으로는 미세조정을 보일 수도 배제할 수도 없음", hidden_training);
        finding_args fa = {"weights", "text", NULL, "neutral", en, ko, hidden_training, 0, 0, 0, NULL, 0, 0, 0, NULL, 1,
                           NULL, 0, {0, 0}};
        json_value *f = finding_make(ar, &fa);
        if (f) json_set_str(ar, f, "indistinguishable_kind", "finetune");
        json_push(ar, list, f);
    }

    /* What the statistics set aside, said in the report (never silently). */
    const json_value *aside = json_get(s, "set_aside");
    double n_const = num(aside, "constant_tensors", 0), n_nf = num(aside, "non_finite_tensors", 0);
    if (n_const > 0) {
        snprintf(en, sizeof en, "%.0f tensor pairs have a constant or near-constant side (all zero, all equal): they "
                 "carry no lineage information and are counted as low-information", n_const);
        snprintf(ko, sizeof ko, "텐서 쌍 %.0f개는 한쪽이 상수이거나 거의 상수(모두 0, 모두 같은 값)임: 계보 정보가 없어 "
                 "저정보 텐서로 취급함", n_const);
        finding_args fa = {"weights", "text", NULL, "neutral", en, ko, n_const, 0, 0, 0, NULL, 1, 0, 0, NULL, 1, NULL, 0, {0, 0}};
        json_push(ar, list, finding_make(ar, &fa));
    }
    if (n_nf > 0) {
        snprintf(en, sizeof en, "%.0f NaN/Inf values in %.0f tensors (per tensor in the pairs' non_finite_a/_b): set "
                 "aside, the statistics use the positions finite on both sides", num(aside, "non_finite_values", 0), n_nf);
        snprintf(ko, sizeof ko, "텐서 %.0f개에 NaN/Inf 값 %.0f개 (텐서별 값은 쌍의 non_finite_a/_b): 통계에서 제외하고 "
                 "양쪽 모두 유한한 위치만 사용함", n_nf, num(aside, "non_finite_values", 0));
        finding_args fa = {"weights", "text", NULL, "neutral", en, ko, n_nf, 0, 0, 0, NULL, 0, 0, 0, NULL, 1, NULL, 0, {0, 0}};
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
                           "derived pairs in the same run score far above chance", 0, 0, 0, NULL, 0, "weights_power", 0, {0, 0}};
        json_push(ar, list, finding_make(ar, &fa));
    }

    /* In a multimodal pair the overall counts mix components; judge the text decoder on its own. */
    const json_value *text = json_get(json_get(s, "components"), "text");
    if (!related && !json_is_true(json_get(ind, "detected")) && json_is_true(json_get(text, "independent"))) {
        double hi = num(text, "high_information", 0), sig = num(text, "fraction_significant", 0);
        snprintf(en, sizeof en, "text decoder: %.0f%% of %d high-information tensors are at chance; the test would have "
                 "detected a centered correlation of %.3f", 100 * (1 - sig), (int)hi, num(ind, "min_detectable_centered", 1));
        snprintf(ko, sizeof ko, "텍스트 디코더: 고정보 텐서 %d개 중 %.0f%%가 우연 수준; 검출 가능한 최소 중심화 상관 %.3f",
                 (int)hi, 100 * (1 - sig), num(ind, "min_detectable_centered", 1));
        finding_args fa = {"weights", "text", NULL, "independent", en, ko, 1 - sig, 0, 0,
                           (1 - sig) * (num(ind, "min_detectable_centered", 1) <= 0.3 ? 0.95 : 0.7),
                           "derived pairs in the same run score far above chance", 0, 0, 0, NULL, 0, "weights_power", 0, {0, 0}};
        json_push(ar, list, finding_make(ar, &fa));
    }

    /* Other components (vision tower, projector, audio) are judged on their own (R8). */
    const json_value *comps = json_get(s, "components");
    for (size_t i = 0; comps && comps->type == JSON_OBJECT && i < comps->u.object.count; i++) {
        const json_member *c = &comps->u.object.members[i];
        if (!strcmp(c->key, "text") || !strcmp(c->key, "mtp")) continue;
        const json_value *v = c->value;
        finding_args fa = {"weights", c->key, NULL, "neutral", en, ko, NAN, 0, 0, 0, NULL, 0, 0, 0, NULL, 0, NULL, 0, {0, 0}};
        if (json_is_true(json_get(v, "identical"))) {
            snprintf(en, sizeof en, "%s: every tensor has the same values", c->key);
            snprintf(ko, sizeof ko, "%s: 모든 텐서의 값이 동일함", c->key);
            fa.relation = "identical", fa.direction = "derived", fa.weight = 0.99, fa.lineage_direction = DIR_NONE;
        } else if (json_is_true(json_get(v, "related"))) {
            snprintf(en, sizeof en, "%s: %.0f%% of tensors correlate far above chance", c->key,
                     100 * num(v, "fraction_significant", 0));
            snprintf(ko, sizeof ko, "%s: 텐서의 %.0f%%가 우연 수준을 크게 넘어 상관됨", c->key,
                     100 * num(v, "fraction_significant", 0));
            fa.relation = "finetune", fa.direction = "derived", fa.weight = 0.9, fa.lineage_direction = DIR_NONE;
        } else if (json_is_true(json_get(v, "independent"))) {
            snprintf(en, sizeof en, "%s: high-information tensors at chance", c->key);
            snprintf(ko, sizeof ko, "%s: 고정보 텐서가 우연 수준", c->key);
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
                       NAN, 0, 0, 0, NULL, 0, 0, 0, NULL, 0, NULL, 0, {0, 0}};
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
    /* Metadata (cards, _name_or_path, GGUF base_model): clues shown beside the verdict, read by nothing
     * that decides it. */
    json_value *clues = json_new_object(ar), *ca = json_new_array(ar), *cb = json_new_array(ar);
    if (!clues || !ca || !cb) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    lineage_error ignored;
    if (clues_collect(a, ar, ca, &ignored) == LINEAGE_E_NOMEM || clues_collect(b, ar, cb, &ignored) == LINEAGE_E_NOMEM)
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    if (!json_set(ar, clues, "a", ca) || !json_set(ar, clues, "b", cb) || !json_set(ar, root, "clues", clues))
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    return LINEAGE_OK;
}
