#!/usr/bin/python3
"""reference_forward.py: an independent torch forward pass of decoder-only transformers, written from the
architecture definitions (Hugging Face modeling semantics), used to check the native engine (src/infer).

Families: llama, mistral (sliding window), qwen2 (qkv bias), qwen3 (per-head q/k RMSNorm), mixtral
(softmax top-k, renormalized), qwen2_moe (shared expert with sigmoid gate), qwen3_moe, deepseek_v3 (MLA,
sigmoid routing with correction bias and group-limited top-k), gemma, gemma2, gemma3_text; LLaVA-style
checkpoints (text decoder under language_model.*) run their text decoder. RoPE scaling: linear, dynamic,
yarn, llama3. Weights: safetensors F32/F16/BF16 and F8_E4M3 with weight_scale_inv block scales.

Usage:
  reference_forward.py MODEL --input-ids 1,2,3 --logits-out FILE [--f64]
      writes every position's logits, n x vocab f32 little-endian (the contract of `lineage run`).
  reference_forward.py --compare CASES.json
      runs a list of cases in one start-up (see compare() below): engine logits against the reference,
      reference against reference, next-token loss; one line per case (tests/t_forward_reference.sh).
As a module: Model(folder).logits(ids) -> torch tensor [n, vocab].
"""
import glob
import json
import math
import os
import struct
import sys

import numpy as np
import torch

# ---------------------------------------------------------------- safetensors


def _fp8_e4m3_table():
    """the 256 values of float8 e4m3fn (bias 7, no infinities, 0x7f/0xff = NaN)"""
    v = np.zeros(256, dtype=np.float32)
    for b in range(256):
        s, e, m = b >> 7, (b >> 3) & 15, b & 7
        x = (m / 8.0) * 2.0 ** -6 if e == 0 else (1 + m / 8.0) * 2.0 ** (e - 7)
        if e == 15 and m == 7:
            x = float("nan")
        v[b] = -x if s else x
    return v


FP8_E4M3 = _fp8_e4m3_table()


def read_safetensors_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return header, 8 + n


def decode(raw, dtype, shape):
    """raw little-endian bytes (numpy uint8) -> float32 numpy array"""
    if dtype == "F32":
        a = raw.view("<f4")
    elif dtype == "F64":
        a = raw.view("<f8").astype(np.float32)
    elif dtype == "F16":
        a = raw.view("<f2").astype(np.float32)
    elif dtype == "BF16":   # bf16 is the top half of an f32
        a = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
    elif dtype in ("F8_E4M3", "F8_E4M3FN"):
        a = FP8_E4M3[raw]
    elif dtype in ("I8", "U8", "I16", "I32", "I64"):
        a = raw.view({"I8": "i1", "U8": "u1", "I16": "<i2", "I32": "<i4", "I64": "<i8"}[dtype]).astype(np.float32)
    else:
        raise ValueError("unsupported dtype %s" % dtype)
    return a.reshape(shape)


class Weights:
    """every tensor of the .safetensors files of a folder (or one file), decoded on demand to float32"""

    def __init__(self, path):
        files = [path] if os.path.isfile(path) else sorted(glob.glob(os.path.join(path, "*.safetensors")))
        if not files:
            raise FileNotFoundError("%s: no .safetensors files" % path)
        self.where = {}
        for f in files:
            header, base = read_safetensors_header(f)
            for name, t in header.items():
                self.where[name] = (f, base, t)
        self.block = None

    def __contains__(self, name):
        return name in self.where

    def names(self):
        return self.where.keys()

    def get(self, name, dtype=torch.float32):
        f, base, t = self.where[name]
        a, b = t["data_offsets"]
        raw = np.fromfile(f, dtype=np.uint8, count=b - a, offset=base + a)
        x = decode(raw, t["dtype"], t["shape"])
        scale = name[:-len("weight")] + "weight_scale_inv" if name.endswith("weight") else None
        if t["dtype"].startswith("F8") and scale in self.where:   # block-quantized: w * scale_inv per block
            s = self.get(scale, torch.float64).numpy()
            br, bc = self.block or (128, 128)
            s = np.repeat(np.repeat(s, br, axis=0), bc, axis=1)[:x.shape[0], :x.shape[1]]
            x = x.astype(np.float64) * s
        return torch.from_numpy(np.array(x)).to(dtype)


# ---------------------------------------------------------------- building blocks


def rms_norm(x, w, eps, plus_one=False):
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return y * (1.0 + w) if plus_one else y * w


def act_fn(name):
    if name == "silu":
        return torch.nn.functional.silu
    if name in ("gelu_pytorch_tanh", "gelu_tanh", "gelu_new", "gelu_fast"):
        return lambda x: torch.nn.functional.gelu(x, approximate="tanh")
    if name == "gelu":
        return torch.nn.functional.gelu
    if name == "relu":
        return torch.relu
    raise ValueError("unsupported activation %s" % name)


def yarn_mscale(scale, m=1.0):
    return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0


def rope_frequencies(dim, theta, scaling, max_pos, seq_len):
    """(inv_freq [dim/2] float64, attention factor) for the rope_scaling dict of the config"""
    inv = 1.0 / theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    kind = (scaling or {}).get("rope_type", (scaling or {}).get("type", "default"))
    if kind in ("default", None):
        return inv, 1.0
    factor = float(scaling.get("factor", 1.0))
    if kind == "linear":
        return inv / factor, 1.0
    if kind == "dynamic":   # NTK-aware: the base grows once the sequence passes max_position_embeddings
        if seq_len > max_pos:
            theta = theta * ((factor * seq_len / max_pos) - (factor - 1)) ** (dim / (dim - 2))
            inv = 1.0 / theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
        return inv, 1.0
    if kind == "llama3":
        old = scaling["original_max_position_embeddings"]
        lo, hi = scaling["low_freq_factor"], scaling["high_freq_factor"]
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > old / lo, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= old / hi) & (wavelen <= old / lo)
        return torch.where(medium, smoothed, scaled), 1.0
    if kind == "yarn":
        orig = scaling.get("original_max_position_embeddings", max_pos)
        fast, slow = scaling.get("beta_fast", 32), scaling.get("beta_slow", 1)

        def correction_dim(rot):
            return dim * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(theta))
        low = max(math.floor(correction_dim(fast)), 0)
        high = min(math.ceil(correction_dim(slow)), dim - 1)
        if low == high:
            high += 0.001
        ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
        extrapolate = 1 - ramp
        inv = (inv / factor) * (1 - extrapolate) + inv * extrapolate
        att = scaling.get("attention_factor")
        if att is None:
            if "mscale" in scaling and "mscale_all_dim" in scaling:
                att = yarn_mscale(factor, scaling["mscale"]) / yarn_mscale(factor, scaling["mscale_all_dim"])
            else:
                att = yarn_mscale(factor)
        return inv, att
    raise ValueError("unsupported rope scaling %s" % kind)


def rope_tables(dim, theta, scaling, max_pos, n, dtype):
    inv, att = rope_frequencies(dim, theta, scaling, max_pos, n)
    ang = torch.arange(n, dtype=torch.float64)[:, None] * inv[None, :]          # [n, dim/2]
    return (torch.cos(ang) * att).to(dtype), (torch.sin(ang) * att).to(dtype)


def rope_half(x, cos, sin):
    """x [heads, n, d]; pairs are (i, i + d/2) (the "rotate_half" layout)"""
    h = x.shape[-1] // 2
    a, b = x[..., :h], x[..., h:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], -1)


def rope_interleaved(x, cos, sin):
    """pairs are (2i, 2i + 1): DeepSeek's rope part, which HF de-interleaves before rotate_half"""
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], -1)


def attention(q, k, v, scale, window=None, softcap=None):
    """q [H, n, d], k/v [Hkv, n, d*]: causal softmax attention (grouped heads share k/v)"""
    H, n = q.shape[0], q.shape[1]
    rep = H // k.shape[0]
    k = k.repeat_interleave(rep, 0)
    v = v.repeat_interleave(rep, 0)
    s = (q @ k.transpose(1, 2)) * scale
    if softcap:
        s = torch.tanh(s / softcap) * softcap
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    allowed = j <= i
    if window:
        allowed = allowed & (i - j < window)
    s = s.masked_fill(~allowed, float("-inf"))
    return torch.softmax(s, -1) @ v


# ---------------------------------------------------------------- the model


FAMILIES = ("llama", "mistral", "qwen2", "qwen3", "mixtral", "qwen2_moe", "qwen3_moe", "deepseek_v3",
            "gemma", "gemma2", "gemma3_text")


class Model:
    def __init__(self, folder, dtype=torch.float32):
        self.folder, self.dtype = folder, dtype
        with open(os.path.join(folder, "config.json")) as f:
            top = json.load(f)
        cfg = top.get("text_config") or top
        self.cfg = cfg
        fam = cfg.get("model_type", top.get("model_type"))
        if fam == "gemma3":
            fam = "gemma3_text"
        if fam not in FAMILIES:
            raise ValueError("%s: unsupported model_type %s" % (folder, fam))
        self.family = fam
        self.w = Weights(folder)
        q = top.get("quantization_config") or cfg.get("quantization_config") or {}
        if q.get("weight_block_size"):
            self.w.block = tuple(q["weight_block_size"])
        # the decoder's prefix: "model." normally, "language_model.model." in LLaVA-style checkpoints
        emb = [k for k in self.w.names() if k.endswith("embed_tokens.weight")]
        if len(emb) != 1:
            raise ValueError("%s: %d embed_tokens tensors" % (folder, len(emb)))
        self.p = emb[0][:-len("embed_tokens.weight")]
        heads = [k for k in self.w.names() if k.endswith("lm_head.weight")]
        tied = cfg.get("tie_word_embeddings", top.get("tie_word_embeddings", fam.startswith("gemma")))
        self.head = None if tied or not heads else max(heads, key=lambda k: len(os.path.commonprefix([k, self.p])))
        self.cache = {}

    def t(self, name):
        if name not in self.cache:
            self.cache[name] = self.w.get(name, self.dtype)
        return self.cache[name]

    def has(self, name):
        return name in self.w

    def linear(self, x, name):
        y = x @ self.t(name + ".weight").T
        return y + self.t(name + ".bias") if self.has(name + ".bias") else y

    def norm(self, x, name, eps=None):
        return rms_norm(x, self.t(name + ".weight"), eps or self.cfg.get("rms_norm_eps", 1e-6),
                        self.family.startswith("gemma"))

    # ------------------------------------------------------------ layer structure

    def layer_window(self, i):
        c, fam = self.cfg, self.family
        w = c.get("sliding_window")
        if "layer_types" in c and c["layer_types"]:
            return w if c["layer_types"][i] == "sliding_attention" else None
        if fam == "mistral" or fam == "mixtral":
            return w
        if fam in ("qwen2", "qwen3", "qwen2_moe", "qwen3_moe"):
            return w if c.get("use_sliding_window") and i >= c.get("max_window_layers", 0) else None
        if fam == "gemma2":
            return w if i % 2 == 0 else None
        if fam == "gemma3_text":
            pattern = c.get("sliding_window_pattern", 6)
            return w if (i + 1) % pattern else None
        return None

    def activation(self):
        c = self.cfg
        name = c.get("hidden_activation") or c.get("hidden_act") or "silu"
        if self.family.startswith("gemma") and name == "gelu":
            name = "gelu_pytorch_tanh"   # HF Gemma runs the tanh approximation whatever hidden_act says
        return act_fn(name)

    def mlp(self, x, name, act):
        return self.linear(act(self.linear(x, name + ".gate_proj")) * self.linear(x, name + ".up_proj"),
                           name + ".down_proj")

    # ------------------------------------------------------------ attention variants

    def attn_standard(self, x, i, n):
        c, fam = self.cfg, self.family
        a = "%slayers.%d.self_attn" % (self.p, i)
        H, Hkv = c["num_attention_heads"], c.get("num_key_value_heads") or c["num_attention_heads"]
        d = c.get("head_dim") or c["hidden_size"] // H
        q = self.linear(x, a + ".q_proj").view(n, H, d).transpose(0, 1)
        k = self.linear(x, a + ".k_proj").view(n, Hkv, d).transpose(0, 1)
        v = self.linear(x, a + ".v_proj").view(n, Hkv, d).transpose(0, 1)
        if self.has(a + ".q_norm.weight"):     # qwen3, gemma3: RMSNorm over each head before rope
            q = self.norm(q, a + ".q_norm")
            k = self.norm(k, a + ".k_norm")
        theta, scaling = c.get("rope_theta", 10000.0), c.get("rope_scaling")
        window = self.layer_window(i)
        if fam == "gemma3_text" and window:    # local layers: their own base, no scaling
            theta, scaling = c.get("rope_local_base_freq", 10000.0), None
        cos, sin = rope_tables(d, theta, scaling, c.get("max_position_embeddings", 2048), n, self.dtype)
        q, k = rope_half(q, cos, sin), rope_half(k, cos, sin)
        scale = (c["query_pre_attn_scalar"] if fam in ("gemma2", "gemma3_text") else d) ** -0.5
        o = attention(q, k, v, scale, window, c.get("attn_logit_softcapping") if fam == "gemma2" else None)
        return self.linear(o.transpose(0, 1).reshape(n, H * d), a + ".o_proj")

    def attn_mla(self, x, i, n):
        c = self.cfg
        a = "%slayers.%d.self_attn" % (self.p, i)
        H = c["num_attention_heads"]
        dn, dr, dv = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
        if c.get("q_lora_rank"):
            q = self.linear(self.norm(self.linear(x, a + ".q_a_proj"), a + ".q_a_layernorm", 1e-6), a + ".q_b_proj")
        else:
            q = self.linear(x, a + ".q_proj")
        q = q.view(n, H, dn + dr).transpose(0, 1)
        ckv = self.linear(x, a + ".kv_a_proj_with_mqa")                      # [n, kv_lora_rank + dr]
        # the two low-rank norms keep DeepseekV3RMSNorm's default eps (1e-6), not rms_norm_eps
        latent, k_rope = ckv[:, :c["kv_lora_rank"]], ckv[:, c["kv_lora_rank"]:]
        kv = self.linear(self.norm(latent, a + ".kv_a_layernorm", 1e-6), a + ".kv_b_proj").view(n, H, dn + dv)
        kv = kv.transpose(0, 1)
        k_nope, v = kv[..., :dn], kv[..., dn:]
        scaling = c.get("rope_scaling")
        cos, sin = rope_tables(dr, c.get("rope_theta", 10000.0), scaling, c.get("max_position_embeddings", 2048),
                               n, self.dtype)
        q_rope = rope_interleaved(q[..., dn:], cos, sin)
        k_rope = rope_interleaved(k_rope[None], cos, sin).expand(H, n, dr)
        qq = torch.cat([q[..., :dn], q_rope], -1)
        kk = torch.cat([k_nope, k_rope], -1)
        scale = (dn + dr) ** -0.5
        if scaling and scaling.get("mscale_all_dim"):
            m = yarn_mscale(scaling["factor"], scaling["mscale_all_dim"])
            scale *= m * m
        o = attention(qq, kk, v, scale)
        return self.linear(o.transpose(0, 1).reshape(n, H * dv), a + ".o_proj")

    # ------------------------------------------------------------ feed-forward variants

    def ffn(self, x, i, act):
        c, fam, m = self.cfg, self.family, "%slayers.%d" % (self.p, i)
        if fam == "mixtral":
            return self.moe_softmax(x, m + ".block_sparse_moe", c["num_experts_per_tok"], True, "w1", "w3", "w2", act)
        if fam in ("qwen2_moe", "qwen3_moe") and self.has(m + ".mlp.gate.weight"):
            y = self.moe_softmax(x, m + ".mlp", c["num_experts_per_tok"], c.get("norm_topk_prob", False),
                                 "gate_proj", "up_proj", "down_proj", act)
            if self.has(m + ".mlp.shared_expert.gate_proj.weight"):
                g = torch.sigmoid(self.linear(x, m + ".mlp.shared_expert_gate"))
                y = y + g * self.mlp(x, m + ".mlp.shared_expert", act)
            return y
        if fam == "deepseek_v3" and self.has(m + ".mlp.gate.weight"):
            return self.moe_deepseek(x, m + ".mlp", act)
        return self.mlp(x, m + ".mlp", act)

    def expert(self, x, name, g, u, d, act):
        return self.linear(act(self.linear(x, name + "." + g)) * self.linear(x, name + "." + u), name + "." + d)

    def moe_softmax(self, x, m, k, renorm, g, u, d, act):
        probs = torch.softmax(self.linear(x, m + ".gate"), -1)
        w, idx = torch.topk(probs, k, -1)
        if renorm:
            w = w / w.sum(-1, keepdim=True)
        return self.mix(x, m, w, idx, g, u, d, act)

    def moe_deepseek(self, x, m, act):
        c = self.cfg
        scores = torch.sigmoid(self.linear(x, m + ".gate"))                # [n, E]
        choice = scores + self.t(m + ".gate.e_score_correction_bias")
        n, E = scores.shape
        G, TG, K = c.get("n_group", 1), c.get("topk_group", 1), c["num_experts_per_tok"]
        groups = choice.view(n, G, E // G).topk(min(2, E // G), -1).values.sum(-1)   # [n, G]
        keep = torch.zeros(n, G, dtype=torch.bool)
        keep.scatter_(1, groups.topk(TG, -1).indices, True)
        choice = choice.masked_fill(~keep.repeat_interleave(E // G, 1), float("-inf"))
        idx = choice.topk(K, -1).indices
        w = scores.gather(1, idx)
        if K > 1 and c.get("norm_topk_prob", True):
            w = w / (w.sum(-1, keepdim=True) + 1e-20)
        w = w * c.get("routed_scaling_factor", 1.0)
        y = self.mix(x, m, w, idx, "gate_proj", "up_proj", "down_proj", act)
        if c.get("n_shared_experts"):
            y = y + self.mlp(x, m + ".shared_experts", act)
        return y

    def mix(self, x, m, w, idx, g, u, d, act):
        y = torch.zeros_like(x)
        for e in idx.unique().tolist():
            rows, slot = (idx == e).nonzero(as_tuple=True)
            y[rows] += w[rows, slot, None] * self.expert(x[rows], "%s.experts.%d" % (m, e), g, u, d, act)
        return y

    # ------------------------------------------------------------ forward

    @torch.no_grad()
    def logits(self, ids):
        c, fam, p = self.cfg, self.family, self.p
        ids = torch.tensor(list(ids), dtype=torch.long)
        n = ids.numel()
        x = self.t(p + "embed_tokens.weight")[ids]
        if fam.startswith("gemma"):
            x = x * torch.tensor(c["hidden_size"] ** 0.5, dtype=self.dtype)
        act = self.activation()
        sandwich = fam in ("gemma2", "gemma3_text")   # extra norms after attention and after the MLP
        for i in range(c["num_hidden_layers"]):
            L = "%slayers.%d" % (p, i)
            h = self.norm(x, L + ".input_layernorm")
            h = self.attn_mla(h, i, n) if fam == "deepseek_v3" else self.attn_standard(h, i, n)
            if sandwich:
                h = self.norm(h, L + ".post_attention_layernorm")
                x = x + h
                h = self.norm(x, L + ".pre_feedforward_layernorm")
                x = x + self.norm(self.ffn(h, i, act), L + ".post_feedforward_layernorm")
            else:
                x = x + h
                x = x + self.ffn(self.norm(x, L + ".post_attention_layernorm"), i, act)
        x = self.norm(x, p + "norm")
        head = self.t(self.head) if self.head else self.t(p + "embed_tokens.weight")
        out = x @ head.T
        cap = c.get("final_logit_softcapping")
        if cap and fam in ("gemma2", "gemma3_text"):
            out = torch.tanh(out / cap) * cap
        return out


# ---------------------------------------------------------------- command line


def compare(cases_path):
    """runs a list of cases, one output line each (the test driver's single torch start-up):
      {"name", "model", "ids", "engine": FILE|null, "f64": bool}
          -> "CASE name max_abs_diff D max_abs_logit M" (engine file against the reference), or
             "REF name max_abs_logit M" without an engine file
      {"name", "a": CASE, "b": CASE} -> "PAIR name max_abs_diff D rel_l2 R" between two cases' reference logits
      {"name", "loss": CASE}         -> "LOSS name X": mean next-token cross-entropy of the case's ids
    a case that fails prints "ERROR name reason" and the others go on"""
    with open(cases_path) as f:
        cases = json.load(f)
    models, ref = {}, {}
    for c in cases:
        name = c["name"]
        try:
            if "a" in c:
                a, b = ref[c["a"]], ref[c["b"]]
                print("PAIR %s max_abs_diff %.3g rel_l2 %.3g" % (name, float((a - b).abs().max()),
                                                                 float((a - b).norm() / b.norm())))
            elif "loss" in c:
                r, ids = ref[c["loss"]], torch.tensor(c["ids"])
                print("LOSS %s %.4f" % (name, float(torch.nn.functional.cross_entropy(r[:-1], ids[1:]))))
            else:
                dt = torch.float64 if c.get("f64") else torch.float32
                key = (c["model"], dt)
                m = models.get(key) or models.setdefault(key, Model(c["model"], dt))
                r = ref[name] = m.logits(c["ids"]).double()
                if not c.get("engine"):
                    print("REF %s max_abs_logit %.3f" % (name, float(r.abs().max())))
                    continue
                got = np.fromfile(c["engine"], dtype="<f4")
                if got.size != r.numel():
                    print("ERROR %s engine wrote %d floats, expected %d x %d" % (name, got.size, r.shape[0], r.shape[1]))
                    continue
                d = (torch.from_numpy(got.reshape(r.shape).astype(np.float64)) - r).abs()
                print("CASE %s max_abs_diff %.3g max_abs_logit %.3f" % (name, float(d.max()), float(r.abs().max())))
        except Exception as e:   # one broken case must not hide the others
            print("ERROR %s %s: %s" % (name, type(e).__name__, str(e).replace("\n", " ")[:300]))
        sys.stdout.flush()


def main(argv):
    if len(argv) >= 2 and argv[0] == "--compare":
        torch.set_num_threads(1)   # tiny models: threads only contend (5x slower on 2 busy cores)
        compare(argv[1])
        return 0
    if len(argv) < 1 or "--input-ids" not in argv or "--logits-out" not in argv:
        sys.stderr.write(__doc__)
        return 2
    torch.set_num_threads(os.cpu_count() or 1)
    dtype = torch.float64 if "--f64" in argv else torch.float32
    ids = [int(t) for t in argv[argv.index("--input-ids") + 1].split(",") if t]
    out = Model(argv[0], dtype).logits(ids)
    out.numpy().astype("<f4").tofile(argv[argv.index("--logits-out") + 1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
