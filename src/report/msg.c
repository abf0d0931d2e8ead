/* The message catalogue: every code the analyses put in a report (relation kinds, directions, control
 * keys, blocking dimensions, derivation hypotheses, component statuses, probe categories) and its
 * English and Korean text. Analyses write codes and numbers; only this file words them
 * (docs/ko/GLOSSARY.md fixes the Korean terms). */
#include <stdio.h>
#include <string.h>

#include "report/msg.h"

typedef struct msg_entry {
    const char *key, *en, *ko;
} msg_entry;

static const msg_entry catalogue[] = {
    /* relation kinds and directions */
    {"rel.identical", "identical", "동일"},
    {"rel.finetune", "fine-tuned", "미세조정"},
    {"rel.continued_pretraining", "continued pretraining", "계속 사전학습"},
    {"rel.depth_upscaled", "depth up-scaled", "깊이 확장"},
    {"rel.vocab_extension", "vocabulary extended", "어휘 확장"},
    {"rel.vocab_extended", "vocabulary extended", "어휘 확장"},
    {"rel.tokenizer_reuse", "tokenizer reused", "토크나이저 재사용"},
    {"rel.pruned", "pruned", "가지치기"},
    {"rel.upcycled", "upcycled to MoE", "전문가 혼합 업사이클링"},
    {"rel.permuted", "permuted", "순열 변환"},
    {"rel.rescaled", "rescaled", "스케일 변환"},
    {"rel.noised", "noised", "잡음 추가"},
    {"rel.requantized", "requantized", "재양자화"},
    {"rel.shared_ancestor", "common ancestor", "공통 조상"},
    {"rel.sibling", "siblings", "형제 모델"},
    {"rel.overlap", "overlap", "일부 겹침"},
    {"rel.disjoint", "disjoint", "겹치지 않음"},
    {"rel.extended", "extended", "확장"},
    {"rel.a_extends_b", "A extends B", "A가 B를 확장"},
    {"rel.b_extends_a", "B extends A", "B가 A를 확장"},
    {"rel.b_from_a", "B from A", "A에서 B로"},
    {"rel.a_from_b", "A from B", "B에서 A로"},
    {"rel.undetermined", "direction undetermined", "방향 판단 불가"},
    {"rel.unknown", "unknown", "알 수 없음"},
    {"rel.none", "none", "없음"},
    {"rel.derived", "derived", "파생"},
    {"rel.independent", "independent", "독립"},
    {"rel.neutral", "neutral", "중립"},
    {"rel.inconclusive", "inconclusive", "판단 불가"},
    /* special-token roles */
    {"role.bos", "bos", "시작"},
    {"role.eos", "eos", "끝"},
    {"role.unk", "unk", "미등록"},
    {"role.pad", "pad", "채움"},
    {"role.sep", "sep", "구분"},
    {"role.cls", "cls", "분류"},
    /* how a model was run */
    {"mode.native", "native", "직접 실행"},
    {"mode.endpoint", "endpoint", "서버 호출"},
    /* lines of evidence */
    {"line.weights", "weights", "가중치"},
    {"line.tokenizer", "tokenizer", "토크나이저"},
    {"line.architecture", "architecture", "아키텍처"},
    {"line.behaviour", "behaviour", "출력 행동"},
    {"line.activations", "activations", "활성값"},
    {"line.metadata", "metadata", "메타데이터"},
    /* probe categories */
    {"cat.en", "en", "영어"},
    {"cat.ko", "ko", "한국어"},
    {"cat.zh", "zh", "중국어"},
    {"cat.ja", "ja", "일본어"},
    {"cat.code", "code", "코드"},
    {"cat.numbers", "numbers", "숫자"},
    /* how a component's tensors could be compared */
    {"comp.direct", "direct", "직접 비교"},
    {"comp.partial", "partial", "일부만 비교"},
    {"comp.blocked", "blocked", "비교 불가"},
    {"comp.one side only", "one side only", "한쪽에만 있음"},
    {"compname.text", "language model", "언어 모델"},
    {"compname.vision", "vision", "비전"},
    {"compname.audio", "audio", "오디오"},
    {"compname.projector", "projector", "프로젝터"},
    {"compname.mtp", "mtp", "다중 토큰 예측"},
    /* what a differing dimension blocks */
    {"block.hidden_size", "every weight matrix (needs a width map: hidden-dimension pruning or a different model)",
     "모든 가중치 행렬 (너비 대응이 필요: 은닉 차원 가지치기이거나 다른 모델)"},
    {"block.vocab_size", "embedding and lm_head rows beyond the shared ids (compare through the tokenizer's shared tokens)",
     "공유 ID 밖의 임베딩·출력층 행 (토크나이저의 공유 토큰으로 비교)"},
    {"block.intermediate_size", "dense MLP gate/up/down (neurons can still be matched one to one)",
     "밀집 MLP의 세 투영 (뉴런은 여전히 일대일로 대응시킬 수 있음)"},
    {"block.num_layers", "layer i of A against layer i of B (needs a layer map)", "A와 B의 같은 번호 층끼리의 비교 (층 대응이 필요)"},
    {"block.num_heads", "attention q/o projections", "어텐션 질의·출력 투영"},
    {"block.num_kv_heads", "attention k/v projections", "어텐션 키·값 투영"},
    {"block.head_dim", "attention projections", "어텐션 투영"},
    {"block.moe_intermediate_size", "routed experts", "라우팅 전문가"},
    {"block.n_routed_experts", "expert e of A against expert e of B beyond the shared count",
     "공통 개수를 넘는 전문가끼리의 비교"},
    /* derivations the shapes allow: printf formats taking (B's value, A's value) */
    {"hyp.depth_upscaling", "same width, B has %lld layers to A's %lld: depth up-scaling of A (layers duplicated, then trained) is possible",
     "은닉 차원이 같고 B의 층은 %lld개, A의 층은 %lld개: A의 깊이 확장(층을 복제한 뒤 학습)이 가능함"},
    {"hyp.layer_pruning", "same width, B has fewer layers (%lld < %lld): layer pruning of A is possible",
     "은닉 차원이 같고 B의 층이 더 적음 (%lld < %lld): A의 층 가지치기가 가능함"},
    {"hyp.width_pruning", "same width, B's MLP is narrower (%lld < %lld): width (neuron) pruning of A is possible",
     "은닉 차원이 같고 B의 MLP가 더 좁음 (%lld < %lld): A의 뉴런 가지치기가 가능함"},
    {"hyp.width_growth", "B's MLP is wider (%lld > %lld): MLP widening of A is possible",
     "B의 MLP가 더 넓음 (%lld > %lld): A의 MLP 확장이 가능함"},
    {"hyp.hidden_pruning", "B's hidden size is smaller (%lld < %lld): hidden-dimension pruning (Minitron-style) of A is possible",
     "B의 은닉 차원이 더 작음 (%lld < %lld): A의 은닉 차원 가지치기(Minitron 방식)가 가능함"},
    {"hyp.vocab_extension", "B's vocabulary is larger (%lld > %lld): vocabulary extension of A is possible",
     "B의 어휘가 더 큼 (%lld > %lld): A의 어휘 확장이 가능함"},
    {"hyp.vocab_trimming", "B's vocabulary is smaller (%lld < %lld): vocabulary trimming of A is possible",
     "B의 어휘가 더 작음 (%lld < %lld): A의 어휘 축소가 가능함"},
    {"hyp.upcycling.same_width", "A is dense, B is MoE with experts as wide as A's MLP (%lld): sparse upcycling of A (experts copied from its MLP) is possible",
     "A는 밀집 모델, B는 전문가 너비가 A의 MLP와 같은(%lld) MoE: A의 전문가 혼합 업사이클링(MLP를 전문가로 복사)이 가능함"},
    {"hyp.upcycling.divides", "A is dense, B is MoE whose expert width %lld divides A's MLP width %lld: fine-grained upcycling (A's MLP split into experts) is possible",
     "A는 밀집 모델, B는 전문가 너비 %lld이(가) A의 MLP 너비 %lld을(를) 나누는 MoE: A의 MLP를 전문가로 쪼갠 업사이클링이 가능함"},
    {"hyp.upcycling.other", "A is dense, B is MoE: upcycling of A is possible, though expert width %lld does not divide A's MLP width %lld",
     "A는 밀집 모델, B는 MoE: A의 업사이클링이 가능하지만 전문가 너비 %lld이(가) A의 MLP 너비 %lld을(를) 나누지 않음"},
    {"hyp.expert_merging", "A is MoE, B is dense: expert merging or distillation of A into B is possible",
     "A는 MoE, B는 밀집 모델: A의 전문가 병합이나 B로의 증류가 가능함"},
    {"hyp.expert_count_change", "both MoE with different expert counts: expert pruning or expansion is possible",
     "둘 다 MoE이고 전문가 수가 다름: 전문가 가지치기나 추가가 가능함"},
    {"hyp.gqa_conversion", "same heads, fewer KV heads in B: KV-head pooling (MHA to GQA conversion) of A is possible",
     "어텐션 헤드 수가 같고 B의 KV 헤드가 더 적음: A의 KV 헤드 병합(MHA에서 GQA로 변환)이 가능함"},
    /* metadata clues (inspect): what the value is */
    {"clue.card_base_model", "base model named by the model card", "모델 카드에 적힌 베이스 모델"},
    {"clue.card_base_model_relation", "stated relation to the base model", "모델 카드에 적힌 베이스 모델과의 관계"},
    {"clue.card_license", "declared licence", "선언된 라이선스"},
    {"clue.config_name_or_path", "path the config was saved from (_name_or_path)", "설정을 저장한 경로 (_name_or_path)"},
    {"clue.config_auto_map", "custom code (auto_map)", "사용자 정의 코드 (auto_map)"},
    {"clue.safetensors_metadata", "safetensors metadata", "safetensors 메타데이터"},
    {"clue.gguf_general", "GGUF general metadata", "GGUF 일반 메타데이터"},
    {"clue.gguf_base_model", "base model recorded by the GGUF converter", "GGUF 변환기가 기록한 베이스 모델"},
    {"clue.code_copyright", "copyright notice in shipped code", "함께 배포된 코드의 저작권 표시"},
    /* notes */
    {"note.architecture_only", "architecture-only: at least one side has no tensors, so nothing was matched",
     "아키텍처만 비교: 한쪽 이상에 텐서가 없어 대응시킨 텐서가 없음"},
    /* controls: printf formats over the control's "values" (formatted numbers, in order) */
    {"ctl.weights_null", "cross-layer pairs and row-shuffled tensors of the same size (independent models score ~0)",
     "다른 층끼리의 쌍과 행을 섞은 같은 크기의 텐서 (독립 모델은 약 0)"},
    {"ctl.weights_power", "derived pairs in the same run score far above chance",
     "같은 실행에서 파생 쌍은 우연 수준을 크게 넘음"},
    {"ctl.weights_search", "the same search on independent models finds nothing",
     "독립 모델에 같은 탐색을 하면 아무것도 찾지 못함"},
    {"ctl.weights_siblings", "each modification is found by the same search that finds nothing on independent models",
     "각 변형은 독립 모델에서는 아무것도 찾지 못하는 같은 탐색으로 찾음"},
    {"ctl.tokenizer", "independently trained tokenizers share common pieces but align few ids beyond single bytes",
     "독립적으로 학습한 토크나이저도 흔한 조각은 공유하지만 단일 바이트 밖에서 같은 ID에 놓이는 토큰은 드묾"},
    {"ctl.neuron_match", "independent models give unrelated gate and up matchings: per layer Spearman ~ N(0, 1/(n-1)), n >= %s neurons (Zhu et al. 2025); p from that null, Fisher over layers",
     "독립 모델에서는 두 투영 기반 뉴런 대응이 서로 관련 없음: 층마다 Spearman 상관이 평균 0, 분산 1/(뉴런 수 - 1)인 정규 분포를 따름, 뉴런 %s개 이상 (Zhu 외 2025); 이 귀무 분포의 p를 층에 걸쳐 Fisher 방법으로 결합"},
    {"ctl.cka_shuffle", "B's tokens shuffled: mean %s, 95th percentile %s; not calibrated for unrelated models, which also score high on the same text",
     "B의 토큰을 섞었을 때 평균 %s, 95백분위 %s; 관련 없는 모델도 같은 문장에서 높게 나오므로 모델 간 보정은 아님"},
    {"ctl.cka_layer_map", "a layer is mapped only above the shuffled-token 95th percentile (%s); read as up-scaling only when the neuron matching shows a shared origin",
     "토큰을 섞은 대조군의 95백분위(%s)를 넘을 때만 층을 대응시킴; 뉴런 대응이 공통 기원을 보일 때만 깊이 확장으로 읽음"},
    {"ctl.behaviour_none", "none: unrelated models trained on similar data also agree; --panel MODEL... gives the null",
     "없음: 비슷한 데이터로 학습한 관련 없는 모델도 일치함; --panel 옵션의 비교군 모델이 귀무 분포를 줌"},
    {"ctl.behaviour_panel", "B against %s panel models on the same probes (paired one-sided Wilcoxon signed-rank on per-probe JSD, Holm-Bonferroni)",
     "같은 시험 문장에서 B를 비교군 모델 %s개와 비교 (시험 문장별 JSD에 대한 대응 단측 Wilcoxon 부호 순위 검정, Holm-Bonferroni 보정)"},
    {NULL, NULL, NULL}};

const char *msg_lookup(const char *key, const render_ctx *ctx)
{
    if (!key) return NULL;
    for (const msg_entry *m = catalogue; m->key; m++)
        if (!strcmp(m->key, key)) return ctx->korean ? m->ko : m->en;
    return NULL;
}

const char *msg_code(const char *prefix, const char *code, const render_ctx *ctx)
{
    if (!code) return "";
    char key[128];
    snprintf(key, sizeof key, "%s.%s", prefix, code);
    const char *s = msg_lookup(key, ctx);
    return s ? s : code;   /* a code this catalogue does not know yet: shown as the code identifier */
}

const char *relation_kind_text(const char *kind, const render_ctx *ctx) { return msg_code("rel", kind, ctx); }

void control_text(const json_value *ctl, const render_ctx *ctx, char *buf, size_t n)
{
    if (!ctl) { snprintf(buf, n, "-"); return; }
    if (ctl->type == JSON_STRING) { snprintf(buf, n, "%s", ctl->u.string.s); return; }
    const char *en = json_get_string(ctl, "description"), *key = json_get_string(ctl, "key");
    char k[96];
    snprintf(k, sizeof k, "ctl.%s", key ? key : "");
    const char *fmt = key && ctx->korean ? msg_lookup(k, ctx) : NULL;
    if (!fmt) { snprintf(buf, n, "%s", en ? en : "-"); return; }
    char v[2][32] = {"?", "?"};
    const json_value *vals = json_get(ctl, "values");
    for (size_t i = 0; i < 2 && i < json_count(vals); i++) {
        double d = 0;
        const json_value *x = json_at(vals, i);
        if (x->type == JSON_NUMBER) d = x->u.number.is_int ? (double)x->u.number.i : x->u.number.d;
        snprintf(v[i], sizeof v[i], d == (double)(long long)d && d < 1e15 && d > -1e15 ? "%.0f" : "%.3f", d);
    }
    snprintf(buf, n, fmt, v[0], v[1]);
}
