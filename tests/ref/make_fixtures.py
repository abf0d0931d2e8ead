#!/usr/bin/python3
"""make_fixtures.py OUTDIR: deterministic random tiny models of every family the engine runs, one folder
each (config.json with the real Hugging Face key names of the family + model.safetensors), weights scaled
so logits are O(1-10). Needs numpy only.

  make_fixtures.py OUTDIR            writes OUTDIR/<fixture>/ for every fixture below
  make_fixtures.py --big OUTDIR      one llama-family f32 model of a benchmark size (hidden 1024, 8 layers)
  make_fixtures.py --cases MODEL...  prints "NAME<TAB>MODEL<TAB>id,id,..." lines: 3 fixed id sequences per model
                                     (lengths 1, 17, 40; ids below the model's vocab)
"""
import json
import os
import struct
import sys
import zlib

import numpy as np

# ---------------------------------------------------------------- safetensors writer


def to_bf16(a):
    """round to nearest even, as uint16"""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def e4m3_positive():
    v = []
    for b in range(127):   # 0x00..0x7e: the finite non-negative e4m3fn values, ascending
        e, m = b >> 3, b & 7
        v.append((m / 8.0) * 2.0 ** -6 if e == 0 else (1 + m / 8.0) * 2.0 ** (e - 7))
    return np.array(v)


E4M3 = e4m3_positive()


def to_e4m3(a):
    """nearest float8 e4m3fn code of each value (|a| <= 448)"""
    x = np.abs(a).astype(np.float64).ravel()
    i = np.clip(np.searchsorted(E4M3, x), 1, 126)
    lo, hi = E4M3[i - 1], E4M3[i]
    code = np.where(x - lo <= hi - x, i - 1, i).astype(np.uint8)
    code[x >= E4M3[126]] = 126
    return (code | np.where(a.ravel() < 0, 0x80, 0).astype(np.uint8)).reshape(a.shape)


def write_safetensors(path, tensors, dtype="F32"):
    """tensors: name -> (float32 array) or (name -> (raw array, dtype string)) for pre-encoded ones"""
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        if isinstance(t, tuple):
            raw, dt = t
        elif dtype == "BF16" and t.ndim >= 1:
            raw, dt = to_bf16(t), "BF16"
        elif dtype == "F16":
            raw, dt = t.astype("<f2"), "F16"
        else:
            raw, dt = t.astype("<f4"), "F32"
        b = np.ascontiguousarray(raw).tobytes()
        header[name] = {"dtype": dt, "shape": list(t[0].shape if isinstance(t, tuple) else t.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------- weights


class Gen:
    def __init__(self, seed):
        self.rs = np.random.RandomState(seed)
        self.t = {}

    def mat(self, name, out, inp, gain=1.0):
        self.t[name] = (self.rs.standard_normal((out, inp)) * gain / np.sqrt(inp)).astype(np.float32)

    def vec(self, name, n, mean=1.0, std=0.1):
        self.t[name] = (mean + std * self.rs.standard_normal(n)).astype(np.float32)

    def emb(self, name, vocab, hidden, std):
        self.t[name] = (self.rs.standard_normal((vocab, hidden)) * std).astype(np.float32)


def base_config(arch, model_type, **kw):
    c = {"architectures": [arch], "model_type": model_type, "hidden_size": 64, "intermediate_size": 128,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
         "vocab_size": 300, "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
         "hidden_act": "silu", "tie_word_embeddings": False, "attention_bias": False, "bos_token_id": 1,
         "eos_token_id": 2, "torch_dtype": "float32", "transformers_version": "4.51.0", "use_cache": True}
    c.update(kw)
    return c


def attn_weights(g, c, L, bias=False, qk_norm=False, gemma=False):
    H, K, d, h = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"], c["hidden_size"]
    a = L + ".self_attn."
    g.mat(a + "q_proj.weight", H * d, h, 2.0)   # gain 2 on q and k: attention is far from uniform
    g.mat(a + "k_proj.weight", K * d, h, 2.0)
    g.mat(a + "v_proj.weight", K * d, h)
    g.mat(a + "o_proj.weight", h, H * d)
    if bias:
        for p, n in (("q", H * d), ("k", K * d), ("v", K * d)):
            g.vec(a + p + "_proj.bias", n, 0.0, 0.3)
    if qk_norm:
        g.vec(a + "q_norm.weight", d, 0.0 if gemma else 1.0, 0.2)
        g.vec(a + "k_norm.weight", d, 0.0 if gemma else 1.0, 0.2)


def mlp_weights(g, prefix, h, inter, names=("gate_proj", "up_proj", "down_proj")):
    g.mat(prefix + "." + names[0] + ".weight", inter, h)
    g.mat(prefix + "." + names[1] + ".weight", inter, h)
    g.mat(prefix + "." + names[2] + ".weight", h, inter)


def dense_model(c, seed, bias=False, qk_norm=False, ffn=None):
    """llama-shaped weights; ffn(g, layer_prefix, i) writes the feed-forward part when given"""
    g = Gen(seed)
    h, V = c["hidden_size"], c["vocab_size"]
    gemma = c["model_type"].startswith("gemma")
    g.emb("model.embed_tokens.weight", V, h, 0.2 if c["tie_word_embeddings"] else 1.0)   # tied: it is the head
    for i in range(c["num_hidden_layers"]):
        L = "model.layers.%d" % i
        attn_weights(g, c, L, bias, qk_norm, gemma)
        if ffn:
            ffn(g, L, i)
        else:
            mlp_weights(g, L + ".mlp", h, c["intermediate_size"])
        norms = ["input_layernorm", "post_attention_layernorm"]
        if c["model_type"] in ("gemma2", "gemma3_text"):
            norms += ["pre_feedforward_layernorm", "post_feedforward_layernorm"]
        for nm in norms:
            g.vec(L + "." + nm + ".weight", h, 0.0 if gemma else 1.0, 0.1)
    g.vec("model.norm.weight", h, 0.0 if gemma else 1.0, 0.1)
    if not c["tie_word_embeddings"]:
        g.mat("lm_head.weight", V, h, 2.5)
    return g.t


# ---------------------------------------------------------------- the fixtures


def llama(rope_scaling=None, **kw):
    c = base_config("LlamaForCausalLM", "llama", rope_scaling=rope_scaling, mlp_bias=False, pretraining_tp=1, **kw)
    return c, dense_model(c, 11)


def fixtures():
    out = {}
    out["llama"] = llama({"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                          "original_max_position_embeddings": 64, "rope_type": "llama3"}, rope_theta=500000.0)
    out["llama-linear"] = llama({"type": "linear", "factor": 2.0})
    # max_position_embeddings below the 40-token sequence, so the dynamic NTK base change takes effect
    out["llama-dynamic"] = llama({"type": "dynamic", "factor": 2.0}, max_position_embeddings=24)
    c, t = llama(None)
    out["llama-bf16"] = (dict(c, torch_dtype="bfloat16"), t, "BF16")
    out["llama-f16"] = (dict(c, torch_dtype="float16"), t, "F16")

    c = base_config("MistralForCausalLM", "mistral", sliding_window=8)
    out["mistral"] = (c, dense_model(c, 12))

    c = base_config("Qwen2ForCausalLM", "qwen2", rope_theta=1000000.0, use_sliding_window=False,
                    sliding_window=None, max_window_layers=2,
                    rope_scaling={"factor": 4.0, "original_max_position_embeddings": 32, "type": "yarn"})
    del c["attention_bias"], c["head_dim"]   # qwen2 configs have neither: bias always on, head_dim = 64/4
    out["qwen2"] = (c, dense_model(dict(c, head_dim=16), 13, bias=True))

    c = base_config("Qwen3ForCausalLM", "qwen3", rope_theta=1000000.0, tie_word_embeddings=True,
                    use_sliding_window=False, sliding_window=None, max_window_layers=2)
    out["qwen3"] = (c, dense_model(c, 14, qk_norm=True))

    c = base_config("MixtralForCausalLM", "mixtral", num_local_experts=4, num_experts_per_tok=2,
                    sliding_window=None, router_aux_loss_coef=0.02, output_router_logits=False)

    def mixtral_ffn(g, L, i):
        g.mat(L + ".block_sparse_moe.gate.weight", 4, 64, 3.0)
        for e in range(4):
            mlp_weights(g, "%s.block_sparse_moe.experts.%d" % (L, e), 64, 128, ("w1", "w3", "w2"))
    out["mixtral"] = (c, dense_model(c, 15, ffn=mixtral_ffn))

    c = base_config("Qwen2MoeForCausalLM", "qwen2_moe", num_hidden_layers=3, num_experts=8, num_experts_per_tok=2,
                    moe_intermediate_size=32, shared_expert_intermediate_size=96, norm_topk_prob=False,
                    decoder_sparse_step=1, mlp_only_layers=[1], use_sliding_window=False, sliding_window=None,
                    max_window_layers=3, router_aux_loss_coef=0.001, output_router_logits=False)
    del c["attention_bias"], c["head_dim"]

    def qwen2_moe_ffn(g, L, i):
        if i in c["mlp_only_layers"]:
            return mlp_weights(g, L + ".mlp", 64, 128)
        g.mat(L + ".mlp.gate.weight", 8, 64, 3.0)
        for e in range(8):
            mlp_weights(g, "%s.mlp.experts.%d" % (L, e), 64, 32)
        mlp_weights(g, L + ".mlp.shared_expert", 64, 96)
        g.mat(L + ".mlp.shared_expert_gate.weight", 1, 64, 2.0)
    out["qwen2_moe"] = (c, dense_model(dict(c, head_dim=16), 16, bias=True, ffn=qwen2_moe_ffn))

    c = base_config("Qwen3MoeForCausalLM", "qwen3_moe", num_experts=8, num_experts_per_tok=2,
                    moe_intermediate_size=32, norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[],
                    use_sliding_window=False, sliding_window=None, max_window_layers=2,
                    router_aux_loss_coef=0.001, output_router_logits=False, rope_theta=1000000.0)

    def qwen3_moe_ffn(g, L, i):
        g.mat(L + ".mlp.gate.weight", 8, 64, 3.0)
        for e in range(8):
            mlp_weights(g, "%s.mlp.experts.%d" % (L, e), 64, 32, )
    out["qwen3_moe"] = (c, dense_model(c, 17, qk_norm=True, ffn=qwen3_moe_ffn))

    c, t = deepseek_v3()
    out["deepseek_v3"] = (c, t)
    out["deepseek_v3-fp8"] = fp8_variant(c, t, (32, 32))

    c = base_config("GemmaForCausalLM", "gemma", num_key_value_heads=1, hidden_act="gelu",
                    hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True, rms_norm_eps=1e-6)
    out["gemma"] = (c, dense_model(c, 18))

    c = base_config("Gemma2ForCausalLM", "gemma2", num_hidden_layers=3, hidden_act="gelu_pytorch_tanh",
                    hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True, rms_norm_eps=1e-6,
                    query_pre_attn_scalar=24, attn_logit_softcapping=4.0, final_logit_softcapping=15.0,
                    sliding_window=8, cache_implementation="hybrid")
    out["gemma2"] = (c, dense_model(c, 19))

    c = base_config("Gemma3ForCausalLM", "gemma3_text", num_hidden_layers=3, hidden_activation="gelu_pytorch_tanh",
                    tie_word_embeddings=True, rms_norm_eps=1e-6, query_pre_attn_scalar=16,
                    attn_logit_softcapping=None, final_logit_softcapping=None, sliding_window=8,
                    sliding_window_pattern=3, rope_theta=1000000.0, rope_local_base_freq=10000.0,
                    rope_scaling={"factor": 8.0, "rope_type": "linear"})
    del c["hidden_act"]
    out["gemma3_text"] = (c, dense_model(c, 20, qk_norm=True))
    return out


def deepseek_v3():
    c = base_config("DeepseekV3ForCausalLM", "deepseek_v3", num_hidden_layers=3, num_key_value_heads=4,
                    first_k_dense_replace=1, moe_layer_freq=1, q_lora_rank=32, kv_lora_rank=24, qk_nope_head_dim=16,
                    qk_rope_head_dim=8, v_head_dim=16, n_routed_experts=8, n_shared_experts=1, n_group=4,
                    topk_group=2, num_experts_per_tok=2, moe_intermediate_size=32, routed_scaling_factor=2.5,
                    scoring_func="sigmoid", topk_method="noaux_tc", norm_topk_prob=True, ep_size=1,
                    rope_scaling={"beta_fast": 32, "beta_slow": 1, "factor": 4, "mscale": 1.0, "mscale_all_dim": 1.0,
                                  "original_max_position_embeddings": 32, "type": "yarn"},
                    rms_norm_eps=1e-6)
    del c["head_dim"]
    g = Gen(21)
    h, H = 64, 4
    g.emb("model.embed_tokens.weight", 300, h, 1.0)
    for i in range(3):
        L = "model.layers.%d" % i
        a = L + ".self_attn."
        g.mat(a + "q_a_proj.weight", 32, h)
        g.vec(a + "q_a_layernorm.weight", 32)
        g.mat(a + "q_b_proj.weight", H * 24, 32, 2.0)
        g.mat(a + "kv_a_proj_with_mqa.weight", 24 + 8, h, 2.0)
        g.vec(a + "kv_a_layernorm.weight", 24)
        g.mat(a + "kv_b_proj.weight", H * (16 + 16), 24)
        g.mat(a + "o_proj.weight", h, H * 16)
        if i < c["first_k_dense_replace"]:
            mlp_weights(g, L + ".mlp", h, 128)
        else:
            g.mat(L + ".mlp.gate.weight", 8, h, 3.0)
            g.vec(L + ".mlp.gate.e_score_correction_bias", 8, 0.0, 0.05)
            for e in range(8):
                mlp_weights(g, "%s.mlp.experts.%d" % (L, e), h, 32)
            mlp_weights(g, L + ".mlp.shared_experts", h, 32)
        g.vec(L + ".input_layernorm.weight", h)
        g.vec(L + ".post_attention_layernorm.weight", h)
    g.vec("model.norm.weight", h)
    g.mat("lm_head.weight", 300, h, 2.5)
    for name, w in g.t.items():   # magnitudes that differ per 32 x 32 block, so FP8 block scales matter
        if w.ndim == 2 and "embed" not in name and "lm_head" not in name and not name.endswith("mlp.gate.weight"):
            rows = np.repeat(np.resize([0.6, 1.6], (w.shape[0] + 31) // 32), 32)[:w.shape[0]]
            cols = np.repeat(np.resize([1.5, 0.7], (w.shape[1] + 31) // 32), 32)[:w.shape[1]]
            g.t[name] = (w * rows[:, None] * cols[None, :]).astype(np.float32)
    return c, g.t


def fp8_variant(c, t, block):
    """the 2-D projection weights stored as F8_E4M3 with per-block F32 weight_scale_inv, as DeepSeek ships"""
    out = {}
    br, bc = block
    for name, w in t.items():
        keep = w.ndim != 2 or "embed_tokens" in name or "lm_head" in name or name.endswith("mlp.gate.weight")
        if keep:
            out[name] = w
            continue
        R, C = w.shape
        s = np.zeros(((R + br - 1) // br, (C + bc - 1) // bc), dtype=np.float32)
        q = np.zeros_like(w, dtype=np.uint8)
        for i in range(s.shape[0]):
            for j in range(s.shape[1]):
                blk = w[i * br:(i + 1) * br, j * bc:(j + 1) * bc]
                s[i, j] = max(float(np.abs(blk).max()), 1e-12) / 448.0
                q[i * br:(i + 1) * br, j * bc:(j + 1) * bc] = to_e4m3(blk / s[i, j])
        out[name] = (q, "F8_E4M3")
        out[name[:-len("weight")] + "weight_scale_inv"] = s
    c = dict(c, quantization_config={"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                                     "weight_block_size": list(block)}, torch_dtype="bfloat16")
    return c, out, "F32"


def write_model(folder, c, t, dtype="F32"):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    write_safetensors(os.path.join(folder, "model.safetensors"), t, dtype)


def big(folder):
    c = base_config("LlamaForCausalLM", "llama", hidden_size=1024, intermediate_size=2816, num_hidden_layers=8,
                    num_attention_heads=16, num_key_value_heads=16, head_dim=64, vocab_size=32000,
                    max_position_embeddings=2048)
    write_model(folder, c, dense_model(c, 99))


def cases(models):
    for m in models:
        with open(os.path.join(m, "config.json")) as f:
            top = json.load(f)
        vocab = (top.get("text_config") or top)["vocab_size"]
        name = os.path.basename(os.path.normpath(m))
        for k, n in enumerate((1, 17, 40)):
            ids = np.random.RandomState(zlib.crc32(b"seq") + k).randint(0, vocab, n)
            print("%s/%d\t%s\t%s" % (name, n, m, ",".join(str(int(i)) for i in ids)))


def main(argv):
    if argv[:1] == ["--cases"]:
        return cases(argv[1:])
    if argv[:1] == ["--big"] and len(argv) == 2:
        return big(argv[1])
    if len(argv) != 1:
        sys.stderr.write(__doc__)
        return 2
    for name, spec in fixtures().items():
        c, t, dtype = spec if len(spec) == 3 else (spec[0], spec[1], "F32")
        write_model(os.path.join(argv[0], name), c, t, dtype)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) or 0)
