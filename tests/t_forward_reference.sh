#!/bin/bash
# The native engine (`lineage run --input-ids --logits-out`) against an independent torch forward pass
# (tests/ref/reference_forward.py) on tiny random fixtures of every family (tests/ref/make_fixtures.py) and
# on every zoo model with weights: 3 id sequences each (lengths 1, 17, 40), max |logit difference| <= 1e-3.
# The reference is itself checked against facts known without it: the zoo's identical copies give
# identical logits, `permuted` and `rescaled` compute base's function, trained models predict licence
# text far better than chance, f32 agrees with f64, and the FP8 fixture stays near its f32 original.
# Needs python3-torch and python3-numpy ($PYTHON_TORCH); the reference starts torch once for all cases.
. tests/lib.sh
REF=tests/ref
ZOO=$LINEAGE_SHARED/zoo
TOL=1e-3
if ! "$PYTHON_TORCH" -c 'import torch, numpy' 2>/dev/null; then
    not_ok "torch unavailable: $PYTHON_TORCH cannot import torch and numpy (apt-get install python3-torch python3-numpy)"
    finish
fi
if ! "$PYTHON_TORCH" "$REF/make_fixtures.py" "$WORK/fx" 2>"$WORK/fx.err"; then
    not_ok "make_fixtures.py failed: $(head -c 300 "$WORK/fx.err")"
    finish
fi
models=$(ls -d "$WORK"/fx/*)
for m in "$ZOO"/*/; do ls "$m"*.safetensors >/dev/null 2>&1 && models="$models ${m%/}"; done
nfx=$(ls -d "$WORK"/fx/* | wc -l)
[ "$nfx" -ge 16 ] && ok "make_fixtures.py wrote $nfx fixtures" || not_ok "make_fixtures.py wrote only $nfx fixtures"
# shellcheck disable=SC2086
"$PYTHON_TORCH" "$REF/make_fixtures.py" --cases $models > "$WORK/cases.all"
ASAN_ZOO="base base-fp32 base-sharded upcycled upscaled pruned vocab-extended vlm-a indep-other permuted rescaled"
case "$BUILD" in   # asan: the fixtures, and one layout of each kind from the zoo on the 40-token sequence (< ~30 s)
*asan*) awk -F'\t' -v fx="$WORK/fx/" -v keep=" $ASAN_ZOO " 'index($2, fx) == 1 ||
            ($1 ~ /\/40$/ && index(keep, " " substr($1, 1, length($1) - 3) " "))' "$WORK/cases.all" > "$WORK/cases.tsv" ;;
*) cp "$WORK/cases.all" "$WORK/cases.tsv" ;;
esac

# ---- the engine, one run per case
mkdir -p "$WORK/e"
missing=""; ran=0
json="$WORK/cases.json"
echo "[" > "$json"
while IFS=$'\t' read -r name model ids; do
    out="$WORK/e/${name//\//_}.f32"
    engine=null
    if [ -z "$missing" ]; then
        if "$LINEAGE" run "$model" --input-ids "$ids" --logits-out "$out" >/dev/null 2>"$WORK/run.err"; then
            engine="\"$out\""; ran=$((ran + 1))
        elif grep -q "not built yet" "$WORK/run.err"; then
            missing="the inference engine is not built yet"
        elif grep -q "unknown command 'run'\|unknown option: --input-ids" "$WORK/run.err"; then
            missing="this build has no 'lineage run' command"
        else
            not_ok "$name: lineage run failed: $(head -c 300 "$WORK/run.err")"
        fi
    fi
    printf '{"name": "%s", "model": "%s", "ids": [%s], "engine": %s},\n' "$name" "$model" "$ids" "$engine" >> "$json"
    case "$model" in "$WORK"/fx/*)   # the same ids in float64: the f32 reference is numerically sound
        printf '{"name": "%s/f64", "model": "%s", "ids": [%s], "f64": true},\n' "$name" "$model" "$ids" >> "$json"
        printf '{"name": "%s f32~f64", "a": "%s", "b": "%s/f64"},\n' "$name" "$name" "$name" >> "$json" ;;
    esac
done < "$WORK/cases.tsv"

# ---- the reference's own checks (facts known without the reference)
pair() { printf '{"name": "%s", "a": "%s", "b": "%s"},\n' "$1" "$2" "$3" >> "$json"; }
for m in base-fp32 base-sharded vlm-a permuted rescaled; do pair "base~$m" base/40 "$m/40"; done
pair "deepseek_v3~fp8" deepseek_v3/40 deepseek_v3-fp8/40
TEXT=/usr/share/common-licenses/Apache-2.0   # licence text: the zoo's training corpus M
for m in base upcycled upscaled vlm-a; do
    ids=$("$LINEAGE" tokenize "$ZOO/$m" --ids < "$TEXT" 2>/dev/null | tr ' ' '\n' | head -256 | paste -sd,)
    printf '{"name": "text/%s", "model": "%s", "ids": [%s]},\n' "$m" "$ZOO/$m" "$ids" >> "$json"
    printf '{"name": "%s", "loss": "text/%s", "ids": [%s]},\n' "$m" "$m" "$ids" >> "$json"
done
echo '{"name": "end", "a": "base/40", "b": "base/40"}]' >> "$json"
"$PYTHON_TORCH" "$REF/reference_forward.py" --compare "$json" > "$WORK/ref.out" 2>"$WORK/ref.err"
grep '^ERROR' "$WORK/ref.out" | while read -r _ name why; do not_ok "reference failed on $name: $why"; done
nref=$(awk -F'\t' 'NR==FNR {want[$1]=1; next} ($1=="REF" || $1=="CASE") && ($2 in want)' FS='\t' "$WORK/cases.tsv" FS=' ' "$WORK/ref.out" | wc -l)
nwant=$(wc -l < "$WORK/cases.tsv")
[ "$nref" = "$nwant" ] && ok "reference ran all $nref cases" ||
    not_ok "reference ran $nref of $nwant cases: $(tail -c 300 "$WORK/ref.err")"

value() { awk -v n="$1" -v k="$2" '$2==n { for (i=3;i<NF;i++) if ($i==k) print $(i+1) }' "$WORK/ref.out"; }
expect_pair() { # expect_pair NAME MAX WHY
    local d; d=$(value "$1" max_abs_diff)
    if [ -n "$d" ] && awk -v d="$d" -v t="$2" 'BEGIN{exit !(d<=t)}'; then ok "reference: $1 max |dlogit| $d <= $2 ($3)"
    else not_ok "reference: $1 max |dlogit| '${d}' > $2 ($3)"; fi
}
expect_pair base~base-fp32 1e-6 "the same weights stored as F32"
expect_pair base~base-sharded 1e-6 "the same weights in 3 shards"
expect_pair base~vlm-a 1e-6 "vlm-a's text decoder is base"
expect_pair base~permuted 1e-4 "a consistent permutation computes the same function"
expect_pair base~rescaled 0.2 "norm scales moved into the next projections: the same function up to bf16 rounding"
worst=$(awk '/^PAIR .* f32~f64 / {print $5}' "$WORK/ref.out" | sort -g | tail -1)
n64=$(grep -c '^PAIR .* f32~f64 ' "$WORK/ref.out")
if [ "$n64" -ge 48 ] && awk -v d="$worst" -v t="$TOL" 'BEGIN{exit !(d<=t/10)}'; then
    ok "reference in f32 agrees with f64 on $n64 fixture cases (worst $worst)"
else not_ok "reference f32 against f64: $n64 cases, worst $worst"; fi
r=$(value "deepseek_v3~fp8" rel_l2)   # e4m3: weights within ~2.6% rms; this fixture amplifies that to ~0.3 in the logits
if [ -n "$r" ] && awk -v r="$r" 'BEGIN{exit !(r>1e-4 && r<0.6)}'; then
    ok "reference: FP8 block-scaled deepseek_v3 stays near its f32 original (relative L2 of logits $r)"
else not_ok "reference: FP8 deepseek_v3 against f32: relative L2 of logits '$r' (expected in (1e-4, 0.6); wrong block scales give ~1.1)"; fi
for m in base upcycled upscaled vlm-a; do   # uniform guessing: ln 1024 = 6.93; base's eval loss on M is 2.56
    l=$(awk -v n="$m" '$1=="LOSS" && $2==n {print $3}' "$WORK/ref.out")
    if [ -n "$l" ] && awk -v l="$l" 'BEGIN{exit !(l<3.8)}'; then ok "reference: $m predicts licence text, loss $l < 3.8"
    else not_ok "reference: $m loss on licence text '$l' (>= 3.8: the forward pass is wrong)"; fi
done

# ---- the engine against the reference, per model
if [ -n "$missing" ]; then
    echo "# SKIP engine comparison: $missing (the reference ran alone on $nref cases)"
    finish
fi
awk -v tol="$TOL" '$1=="CASE" { split($2, p, "/"); m=p[1]; n[m]++; if ($4+0 > w[m]) w[m]=$4+0; if ($4+0 > tol) bad[m]++ }
    END { for (m in n) printf "%s %d %g %d\n", m, n[m], w[m], bad[m] }' "$WORK/ref.out" | sort > "$WORK/per_model"
while read -r m n w bad; do
    if [ "$bad" = 0 ]; then ok "engine = reference on $m ($n sequence(s), max |dlogit| $w)"
    else not_ok "engine differs from the reference on $m: $bad of $n sequences above $TOL (max |dlogit| $w)"; fi
done < "$WORK/per_model"
nm=$(wc -l < "$WORK/per_model")
[ "$ran" = "$nwant" ] && ok "engine ran all $ran cases on $nm models" || not_ok "engine ran $ran of $nwant cases"
finish
