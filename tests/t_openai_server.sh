#!/bin/bash
# Smoke test of tests/ref/openai_server.py, the OpenAI-compatible peer of the endpoint client: one server
# process with one port per fault mode, on loopback, over the zoo's base. A completion has the legacy
# OpenAI shape, its top_logprobs[0] are the log-softmax of the reference logits of the prompt, token ids
# decode to their text, and every fault mode answers as documented in the server's header.
. tests/lib.sh
REF=tests/ref
MODEL=$LINEAGE_SHARED/zoo/base
PY=$PYTHON_TORCH
if ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
    not_ok "torch unavailable: $PY cannot import torch and numpy (apt-get install python3-torch python3-numpy)"
    finish
fi
FAULTS="none 500 malformed no-logprobs drop 429-once slow=2"
args=""; for f in $FAULTS; do args="$args --fault $f"; done
# shellcheck disable=SC2086
"$PY" "$REF/openai_server.py" "$MODEL" --lineage "$LINEAGE" $args > "$WORK/srv.out" 2> "$WORK/srv.err" &
srv=$!
trap 'kill $srv 2>/dev/null' EXIT
if ! wait_listening "$WORK/srv.out" 7 $srv; then
    not_ok "server did not start: $(head -c 300 "$WORK/srv.err")"
    finish
fi
url() { awk -v f="fault=$1" '$NF==f {print $(NF-1)}' "$WORK/srv.out"; }
grep -q 'listening on http://127.0.0.1:[0-9]* fault=none$' "$WORK/srv.out" && ok "server announces loopback ports" ||
    not_ok "server announcement: $(head -1 "$WORK/srv.out")"
U=$(url none)
post() { # post URL BODY OUT [curl options...] -> prints "HTTP_CODE CURL_EXIT"
    local u=$1 b=$2 o=$3; shift 3
    local code; code=$(curl -s -o "$o" -w '%{http_code}' -H 'Content-Type: application/json' -d "$b" "$@" "$u/v1/completions")
    echo "$code $?"
}
json() { # json FILE EXPR [ARGS]: prints EXPR over the parsed document d (ARGS in sys.argv[2:])
    local f=$1 e=$2; shift 2
    "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($e)" "$f" "$@" 2>/dev/null
}

# ---- correct answers
curl -s "$U/v1/models" > "$WORK/models.json"
[ "$(json "$WORK/models.json" '[d["object"], d["data"][0]["id"]]')" = "['list', 'base']" ] &&
    ok "GET /v1/models lists the served model" || not_ok "GET /v1/models: $(head -c 200 "$WORK/models.json")"

PROMPT="The licence"
r=$(post "$U" "{\"prompt\": \"$PROMPT\", \"max_tokens\": 1, \"logprobs\": 5, \"temperature\": 0}" "$WORK/c1.json")
shape=$(json "$WORK/c1.json" '[d["object"], len(d["choices"]), type(d["choices"][0]["text"]).__name__,
  sorted(d["choices"][0]["logprobs"]), len(d["choices"][0]["logprobs"]["top_logprobs"][0]),
  d["usage"]["completion_tokens"], d["choices"][0]["logprobs"]["text_offset"][0] == len(sys.argv[2])]' "$PROMPT")
want="['text_completion', 1, 'str', ['text_offset', 'token_logprobs', 'tokens', 'top_logprobs'], 5, 1, True]"
[ "${r%% *}" = 200 ] && [ "$shape" = "$want" ] && ok "completion has the OpenAI legacy shape" ||
    not_ok "completion shape ($r): $shape; body $(head -c 300 "$WORK/c1.json")"

# top_logprobs[0] against log_softmax of the reference logits at the prompt's last position
ids=$("$LINEAGE" tokenize "$MODEL" --ids "$PROMPT" | tr ' ' ',')
"$PY" "$REF/reference_forward.py" "$MODEL" --input-ids "$ids" --logits-out "$WORK/ref.f32"
cmp=$("$PY" - "$WORK/c1.json" "$WORK/ref.f32" <<'PY'
import json, sys
import numpy as np
d = json.load(open(sys.argv[1]))["choices"][0]["logprobs"]
logits = np.fromfile(sys.argv[2], dtype="<f4").reshape(-1, 1024)[-1].astype(np.float64)
lp = logits - logits.max() - np.log(np.exp(logits - logits.max()).sum())
want = np.sort(lp)[::-1][:5]
got = np.array(sorted(d["top_logprobs"][0].values(), reverse=True))
ok = len(got) == 5 and np.abs(got - want).max() < 1e-5 and abs(d["token_logprobs"][0] - want[0]) < 1e-5
print("%s %.2g" % ("same" if ok else "differ", np.abs(got - want).max() if len(got) == 5 else -1))
PY
)
[ "${cmp%% *}" = same ] && ok "top_logprobs[0] = log-softmax of the reference logits (max error ${cmp#* })" ||
    not_ok "top_logprobs[0] against the reference: $cmp"

# ids 76,802,345 are "H", "el", "lo" in base's byte-level vocab (lineage tokenize "Hello")
r=$(post "$U" '{"prompt": [76, 802, 345], "max_tokens": 0, "echo": true, "logprobs": 1}' "$WORK/c2.json")
got=$(json "$WORK/c2.json" '[d["choices"][0]["text"], d["choices"][0]["logprobs"]["tokens"], d["choices"][0]["logprobs"]["token_logprobs"][0], d["choices"][0]["logprobs"]["text_offset"]]')
[ "$got" = "['Hello', ['H', 'el', 'lo'], None, [0, 1, 3]]" ] && ok "echo of a token-id prompt: text, token strings, offsets" ||
    not_ok "echo of ids: $got ($r)"
r=$(post "$U" '{"prompt": "x", "max_tokens": 1, "temperature": 0.7}' "$WORK/c3.json")
[ "${r%% *}" = 400 ] && [ "$(json "$WORK/c3.json" 'd["error"]["type"]')" = invalid_request_error ] &&
    ok "sampling request refused with 400" || not_ok "temperature 0.7: $r $(head -c 200 "$WORK/c3.json")"

# ---- fault modes
B='{"prompt": "The", "max_tokens": 1, "logprobs": 2}'
r=$(post "$(url 500)" "$B" "$WORK/f.json")
[ "${r%% *}" = 500 ] && [ "$(json "$WORK/f.json" 'd["error"]["type"]')" = server_error ] &&
    ok "fault 500: status 500 with an error body" || not_ok "fault 500: $r"
r=$(post "$(url malformed)" "$B" "$WORK/f.json")
[ "${r%% *}" = 200 ] && [ -s "$WORK/f.json" ] && ! "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/f.json" 2>/dev/null &&
    ok "fault malformed: status 200, body is not JSON" || not_ok "fault malformed: $r"
r=$(post "$(url no-logprobs)" "$B" "$WORK/f.json")
[ "${r%% *}" = 200 ] && [ "$(json "$WORK/f.json" '[d["choices"][0]["logprobs"], len(d["choices"][0]["text"]) > 0]')" = "[None, True]" ] &&
    ok "fault no-logprobs: a completion with logprobs null" || not_ok "fault no-logprobs: $r"
r=$(post "$(url drop)" "$B" "$WORK/f.json")
[ "$r" = "000 52" ] && ok "fault drop: connection closed without a reply (curl 52)" || not_ok "fault drop: $r"
r1=$(post "$(url 429-once)" "$B" "$WORK/f1.json" -D "$WORK/f1.hdr")
r2=$(post "$(url 429-once)" "$B" "$WORK/f2.json")
[ "${r1%% *}" = 429 ] && grep -qi '^retry-after: 1' "$WORK/f1.hdr" && [ "${r2%% *}" = 200 ] &&
    [ "$(json "$WORK/f1.json" 'd["error"]["type"]')" = rate_limit_error ] &&
    ok "fault 429-once: 429 with Retry-After, then 200" || not_ok "fault 429-once: $r1 then $r2"
r=$(post "$(url slow=2)" "$B" "$WORK/f.json" --max-time 0.5)
[ "${r#* }" = 28 ] && ok "fault slow=2: a 0.5 s client timeout fires" || not_ok "fault slow=2 with --max-time 0.5: $r"
t0=$(date +%s.%N)
r=$(post "$(url slow=2)" "$B" "$WORK/f.json" --max-time 30)
dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
[ "${r%% *}" = 200 ] && awk -v d="$dt" 'BEGIN{exit !(d>=2)}' && ok "fault slow=2: answers correctly after ${dt} s" ||
    not_ok "fault slow=2: $r after $dt s"
finish
