#!/usr/bin/python3
"""torch_generate.py MODEL IDS N: greedy generation of N tokens after the prompt IDS in torch, two ways,
both all threads, no autograd, f32, one warm-up pass:

  kv      a KV cache over tests/ref/reference_forward.py's weights and layer functions (llama, mistral,
          qwen2, qwen3 without sliding windows: dense models with standard attention): the prompt once,
          then one token per step against the cached keys and values, as any serving stack does.
          This is the fair peer.
  nocache the reference forward as the suite's checks and reference server call it: the whole sequence
          recomputed for every token.

Prints one line per way: "torch WAY generated N seconds S tokens/s R ids I,J,..." (the ids let the
caller check that both ways and lineage produced the same greedy tokens)."""
import os
import sys
import time
import types

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "ref"))
import reference_forward as rf  # noqa: E402


class KVCache:
    def __init__(self, model, max_len):
        self.m, c = model, model.cfg
        if model.family not in ("llama", "mistral", "qwen2", "qwen3") or any(
                model.layer_window(i) for i in range(c["num_hidden_layers"])):
            raise ValueError("the KV-cache peer covers dense llama-style models without sliding windows")
        self.H = c["num_attention_heads"]
        self.Hkv = c.get("num_key_value_heads") or self.H
        self.d = c.get("head_dim") or c["hidden_size"] // self.H
        self.cos, self.sin = rf.rope_tables(self.d, c.get("rope_theta", 10000.0), c.get("rope_scaling"),
                                            c.get("max_position_embeddings", 2048), max_len, model.dtype)
        self.k = [None] * c["num_hidden_layers"]
        self.v = [None] * c["num_hidden_layers"]
        self.pos = 0

    def attn(self, x, i):
        m, n, H, Hkv, d = self.m, x.shape[0], self.H, self.Hkv, self.d
        a = "%slayers.%d.self_attn" % (m.p, i)
        q = m.linear(x, a + ".q_proj").view(n, H, d).transpose(0, 1)
        k = m.linear(x, a + ".k_proj").view(n, Hkv, d).transpose(0, 1)
        v = m.linear(x, a + ".v_proj").view(n, Hkv, d).transpose(0, 1)
        if m.has(a + ".q_norm.weight"):
            q = m.norm(q, a + ".q_norm")
            k = m.norm(k, a + ".k_norm")
        cos, sin = self.cos[self.pos:self.pos + n], self.sin[self.pos:self.pos + n]
        q, k = rf.rope_half(q, cos, sin), rf.rope_half(k, cos, sin)
        self.k[i] = k if self.k[i] is None else torch.cat([self.k[i], k], 1)
        self.v[i] = v if self.v[i] is None else torch.cat([self.v[i], v], 1)
        K, V = self.k[i].repeat_interleave(H // Hkv, 0), self.v[i].repeat_interleave(H // Hkv, 0)
        s = (q @ K.transpose(1, 2)) * d ** -0.5
        if n > 1:   # the prompt: query j (at pos + j) sees keys up to pos + j
            t = K.shape[1]
            allowed = torch.arange(t)[None, :] <= (self.pos + torch.arange(n))[:, None]
            s = s.masked_fill(~allowed, float("-inf"))
        o = torch.softmax(s, -1) @ V
        return m.linear(o.transpose(0, 1).reshape(n, H * d), a + ".o_proj")

    def step(self, ids):
        m, c, p = self.m, self.m.cfg, self.m.p
        x = m.t(p + "embed_tokens.weight")[torch.tensor(ids, dtype=torch.long)]
        act = m.activation()
        for i in range(c["num_hidden_layers"]):
            L = "%slayers.%d" % (p, i)
            x = x + self.attn(m.norm(x, L + ".input_layernorm"), i)
            x = x + m.ffn(m.norm(x, L + ".post_attention_layernorm"), i, act)
        self.pos += len(ids)
        x = m.norm(x[-1:], p + "norm")
        head = m.t(m.head) if m.head else m.t(p + "embed_tokens.weight")
        return torch.mv(head, x[-1])


def fast_linear(self, x, name):
    """one row: torch.mv (BLAS gemv), several times faster here than x @ W.T for a single token"""
    w = self.t(name + ".weight")
    y = torch.mv(w, x[0]).unsqueeze(0) if x.dim() == 2 and x.shape[0] == 1 else x @ w.T
    return y + self.t(name + ".bias") if self.has(name + ".bias") else y


def run_kv(model, ids, n):
    model.linear = types.MethodType(fast_linear, model)   # the decode steps are single rows
    cache = KVCache(model, len(ids) + n + 1)
    seq, t0 = [], time.perf_counter()
    nxt = int(torch.argmax(cache.step(ids)))
    t1 = time.perf_counter()   # prompt pass done: the rate counts generation only, as lineage's does
    seq.append(nxt)
    while len(seq) < n:
        nxt = int(torch.argmax(cache.step([nxt])))
        seq.append(nxt)
    return seq, time.perf_counter() - t1, t1 - t0


def run_nocache(model, ids, n):
    seq, t0 = list(ids), time.perf_counter()
    for _ in range(n):
        seq.append(int(torch.argmax(model.logits(seq)[-1])))
    return seq[len(ids):], time.perf_counter() - t0


def main():
    model = rf.Model(sys.argv[1])
    ids = [int(t) for t in sys.argv[2].split(",")]
    n = int(sys.argv[3])
    ways = sys.argv[4].split(",") if len(sys.argv) > 4 else ["kv", "nocache"]
    with torch.no_grad():
        model.logits(ids)   # warm-up: reads and widens the weights
        # at its best: one thread and all threads are both tried for the cached decode (on a shared machine
        # one thread often wins: a dozen small ops per layer each synchronise the thread team)
        best_threads = os.cpu_count()
        for way in ways:
            if way == "kv":
                best = None
                for th in sorted({1, os.cpu_count()}):
                    torch.set_num_threads(th)
                    seq, dt, _ = run_kv(model, ids, n)
                    if best is None or dt < best[1]:
                        best, best_threads = (seq, dt), th
                seq, dt = best
            else:
                torch.set_num_threads(best_threads)
                seq, dt = run_nocache(model, ids, n)
            # lineage's rate counts the tokens after the first (the first comes from the prompt pass)
            print("torch %s generated %d seconds %.3f tokens/s %.2f ids %s threads %d" % (
                way, n, dt, (n - 1 if way == "kv" else n) / dt, ",".join(map(str, seq)), best_threads), flush=True)


main()
