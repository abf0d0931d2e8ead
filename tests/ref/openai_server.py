#!/usr/bin/python3
"""openai_server.py MODEL [--port N] [--lineage PATH] [--fault MODE]... [--name NAME]

A minimal OpenAI-compatible HTTP server over one model folder, computed by reference_forward.py: the
peer that the behaviour analysis's endpoint client (--endpoint URL) is tested against.

Listens on 127.0.0.1 only, port N (0 or absent: a free port); prints one line on stdout when ready:
    openai_server: listening on http://127.0.0.1:PORT
and serves until killed. With --fault given several times, one process (one torch start-up) listens on
one port per --fault (the first on N, the others on free ports), each port with its own fault mode
("none" = correct answers), and prints one line per port, in the order given:
    openai_server: listening on http://127.0.0.1:PORT fault=MODE
Tokenization calls the project's CLI: `lineage tokenize MODEL --ids TEXT`
(PATH from --lineage, else $LINEAGE, else build/rel/lineage); the prompt is used exactly as encoded (no
BOS added). Token strings are the token's text: tokenizer.json's vocab with the GPT-2 byte-level map
reversed (or SentencePiece "▁" -> " " and "<0xNN>" -> byte); a token whose bytes are not valid UTF-8 on
their own is written "bytes:\\xNN..." as OpenAI does.

Protocol (HTTP/1.1, JSON bodies):
  GET /v1/models -> {"object": "list", "data": [{"id": NAME, "object": "model", "owned_by": "lineage-test"}]}
  POST /v1/completions with
      model        ignored (one model is served)
      prompt       a string, a list of one string, or a list of token ids
      max_tokens   0, 1 or more (default 16): greedy tokens generated after the prompt
      logprobs     null or an int 0..20: top-k alternatives per position
      echo         bool (default false): the prompt's tokens are returned too, before the generated ones
      temperature  absent or 0 (greedy); n absent or 1. Anything else is answered 400.
    -> {"id": "cmpl-K", "object": "text_completion", "created": T, "model": NAME,
        "choices": [{"index": 0, "text": TEXT, "finish_reason": "length", "logprobs": LP or null}],
        "usage": {"prompt_tokens": P, "completion_tokens": C, "total_tokens": P + C}}
    TEXT = (echo ? prompt text : "") + generated text. LP (when logprobs is an int) has one entry per
    returned token (prompt tokens when echo, then generated ones):
        tokens[i]         the token string
        token_logprobs[i] natural log-probability of the token given all before it (null for the
                          first prompt token, which has no context)
        top_logprobs[i]   {token string: logprob} of the `logprobs` most likely tokens at that position,
                          from the same distribution (null for the first prompt token)
        text_offset[i]    character offset of the token in prompt text + generated text (generated
                          tokens start at len(prompt text) also without echo, as OpenAI does)
    Log-probabilities are log_softmax of the float32 reference logits, computed in float64.
  POST /v1/chat/completions with
      messages     [{"role": "system", "content": S}] (optional) then one {"role": "user", "content": Q}
      max_tokens   1..256 (default 16); temperature absent or 0 (greedy); seed ignored
    -> {"id": "chatcmpl-K", "object": "chat.completion", "created": T, "model": NAME,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": TEXT},
                     "finish_reason": "stop" | "length"}],
        "usage": {"prompt_tokens": P, "completion_tokens": C, "total_tokens": P + C}}
    The prompt is the model's chat template applied by the project's CLI
    (`lineage ask MODEL --print-prompt`), or the raw question for a model without one (a BOS id first
    when tokenizer_config.json has add_bos_token); generation stops at the eos ids of
    generation_config.json / config.json ("stop") or after max_tokens ("length").
  Errors: {"error": {"message": ..., "type": "invalid_request_error" | "server_error" | "rate_limit_error"}}
    400 for a bad request, 404 for another path.

Fault modes (--fault MODE, fixed for the life of a port) for client tests; they apply to both POST routes:
  slow=SECONDS  answer correctly after sleeping SECONDS (client timeouts)
  500           always answer 500 with a server_error body
  malformed     answer 200, Content-Type application/json, a truncated JSON body
  no-logprobs   answer correctly but with "logprobs": null even when requested (chat: no message content)
  drop          read the request and close the connection without answering
  429-once      the first request gets 429 (rate_limit_error, Retry-After: 1), later ones succeed
  say=TEXT      chat only: every answer's content is TEXT (a model that says what it was taught to say,
                e.g. "I am ChatGPT, made by OpenAI": identity claims for the battery tests)
"""
import argparse
import http.server
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import reference_forward  # noqa: E402


def gpt2_byte_decoder():
    """the GPT-2 byte-level alphabet reversed: printable stand-in character -> byte"""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


class Vocab:
    """id -> the bytes a token stands for"""

    def __init__(self, folder):
        with open(os.path.join(folder, "tokenizer.json"), encoding="utf-8") as f:
            tj = json.load(f)
        model = tj.get("model", {})
        vocab = model.get("vocab", {})
        if isinstance(vocab, list):   # Unigram: [[piece, score], ...]
            vocab = {p[0]: i for i, p in enumerate(vocab)}
        self.bytes = {}
        text = json.dumps([tj.get("decoder"), tj.get("pre_tokenizer")])
        byte_level = "ByteLevel" in text
        dec = gpt2_byte_decoder()
        for piece, i in vocab.items():
            self.bytes[i] = self.piece_bytes(piece, byte_level, dec)
        for a in tj.get("added_tokens", []):
            self.bytes[a["id"]] = a["content"].encode("utf-8")

    @staticmethod
    def piece_bytes(piece, byte_level, dec):
        if byte_level:
            if all(ch in dec for ch in piece):
                return bytes(dec[ch] for ch in piece)
            return piece.encode("utf-8")
        if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
            return bytes([int(piece[3:5], 16)])
        return piece.replace("\u2581", " ").encode("utf-8")

    def string(self, i):
        b = self.bytes.get(i, b"")
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError:
            return "bytes:" + "".join("\\x%02x" % c for c in b)

    def text(self, ids):
        return b"".join(self.bytes.get(i, b"") for i in ids).decode("utf-8", errors="replace")


class Served:
    def __init__(self, folder, lineage, name):
        self.folder, self.lineage, self.name = folder, lineage, name
        self.model = reference_forward.Model(folder)
        self.vocab = Vocab(folder)
        self.lock = threading.Lock()
        self.count = 0

    def tokenize(self, text):
        if text == "":
            return []
        r = subprocess.run([self.lineage, "tokenize", self.folder, "--ids", text], capture_output=True, timeout=60)
        if r.returncode != 0:
            raise ValueError("lineage tokenize failed: %s" % r.stderr.decode(errors="replace").strip())
        return [int(t) for t in r.stdout.split()]

    def complete(self, req):
        """the response document for a /v1/completions request, or raises ValueError (-> 400)"""
        prompt = req.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        if isinstance(prompt, str):
            ids = self.tokenize(prompt)
        elif isinstance(prompt, list) and prompt and all(isinstance(t, int) and not isinstance(t, bool) for t in prompt):
            ids = list(prompt)
        else:
            raise ValueError("prompt must be a string or a non-empty list of token ids")
        vocab = self.model.cfg["vocab_size"]
        if any(t < 0 or t >= vocab for t in ids):
            raise ValueError("token id outside the vocabulary (0..%d)" % (vocab - 1))
        max_tokens = req.get("max_tokens", 16)
        k = req.get("logprobs")
        echo = bool(req.get("echo", False))
        if not isinstance(max_tokens, int) or max_tokens < 0 or max_tokens > 256:
            raise ValueError("max_tokens must be an integer 0..256")
        if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 0 or k > 20):
            raise ValueError("logprobs must be null or an integer 0..20")
        if req.get("temperature", 0) not in (0, 0.0) or req.get("n", 1) != 1:
            raise ValueError("only greedy decoding (temperature 0, n 1) is served")
        if not ids and (echo or max_tokens > 0):
            raise ValueError("empty prompt")
        with self.lock:
            all_ids = list(ids)
            logits = self.model.logits(all_ids) if all_ids else None
            for _ in range(max_tokens):
                all_ids.append(int(torch.argmax(logits[-1])))
                logits = self.model.logits(all_ids)
        gen = all_ids[len(ids):]
        lp = torch.log_softmax(logits.double(), -1) if logits is not None else None
        prompt_text = prompt if isinstance(prompt, str) else self.vocab.text(ids)
        text = (prompt_text if echo else "") + self.vocab.text(gen)
        logprobs = None
        if k is not None:
            first = 0 if echo else len(ids)
            toks, tlp, top, off = [], [], [], []
            pos = 0 if echo else len(prompt_text)
            for i in range(first, len(all_ids)):
                s = self.vocab.string(all_ids[i])
                toks.append(s)
                off.append(pos)
                pos += len(self.vocab.text([all_ids[i]]))
                if i == 0:
                    tlp.append(None)
                    top.append(None)
                    continue
                row = lp[i - 1]
                tlp.append(float(row[all_ids[i]]))
                vals, idx = torch.topk(row, k) if k > 0 else (torch.zeros(0), torch.zeros(0, dtype=torch.long))
                top.append({self.vocab.string(int(j)): float(v) for v, j in zip(vals.tolist(), idx.tolist())})
            logprobs = {"tokens": toks, "token_logprobs": tlp, "top_logprobs": top, "text_offset": off}
        self.count += 1
        return {"id": "cmpl-%d" % self.count, "object": "text_completion", "created": int(time.time()),
                "model": self.name,
                "choices": [{"index": 0, "text": text, "finish_reason": "length", "logprobs": logprobs}],
                "usage": {"prompt_tokens": len(ids), "completion_tokens": len(gen),
                          "total_tokens": len(ids) + len(gen)}}


    def sidecar(self, name):
        path = os.path.join(self.folder, name)
        return json.load(open(path)) if os.path.isfile(path) else {}

    def chat(self, req):
        """the response document for a /v1/chat/completions request, or raises ValueError (-> 400)"""
        msgs = req.get("messages")
        if not isinstance(msgs, list) or not msgs or not all(
                isinstance(m, dict) and isinstance(m.get("content"), str) for m in msgs):
            raise ValueError("messages must be a non-empty list of {role, content} objects")
        roles = [m.get("role") for m in msgs]
        if roles not in (["user"], ["system", "user"]):
            raise ValueError("one user turn, after an optional system message, is served")
        max_tokens = req.get("max_tokens", 16)
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1 or max_tokens > 256:
            raise ValueError("max_tokens must be an integer 1..256")
        if req.get("temperature", 0) not in (0, 0.0) or req.get("n", 1) != 1:
            raise ValueError("only greedy decoding (temperature 0, n 1) is served")
        cmd = [self.lineage, "ask", self.folder, "--print-prompt", msgs[-1]["content"]]
        if roles[0] == "system":
            cmd += ["--system", msgs[0]["content"]]
        r = subprocess.run(cmd, capture_output=True, timeout=60)
        if r.returncode != 0:
            raise ValueError("lineage ask --print-prompt failed: %s" % r.stderr.decode(errors="replace").strip())
        prompt = r.stdout.decode()
        ids = self.tokenize(prompt)
        tc, gc, cfg = self.sidecar("tokenizer_config.json"), self.sidecar("generation_config.json"), self.model.cfg
        if b"raw-prompt" in r.stderr and tc.get("add_bos_token") and cfg.get("bos_token_id") is not None:
            ids = [cfg["bos_token_id"]] + ids
        eos = set()
        for src in (gc, cfg):
            e = src.get("eos_token_id")
            eos.update(e if isinstance(e, list) else [] if e is None else [e])
        finish = "length"
        with self.lock:
            all_ids = list(ids)
            for _ in range(max_tokens):
                nxt = int(torch.argmax(self.model.logits(all_ids)[-1]))
                if nxt in eos:
                    finish = "stop"
                    break
                all_ids.append(nxt)
        gen = all_ids[len(ids):]
        self.count += 1
        return {"id": "chatcmpl-%d" % self.count, "object": "chat.completion", "created": int(time.time()),
                "model": self.name,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": self.vocab.text(gen)},
                             "finish_reason": finish}],
                "usage": {"prompt_tokens": len(ids), "completion_tokens": len(gen),
                          "total_tokens": len(ids) + len(gen)}}


def make_handler(served, fault):
    state = {"seen": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def send(self, code, body, extra=None):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for h, v in (extra or {}).items():
                self.send_header(h, v)
            self.end_headers()
            self.wfile.write(data)

        def error(self, code, kind, message, extra=None):
            self.send(code, {"error": {"message": message, "type": kind}}, extra)

        def do_GET(self):
            if self.path.rstrip("/") == "/v1/models":
                self.send(200, {"object": "list", "data": [{"id": served.name, "object": "model",
                                                            "owned_by": "lineage-test"}]})
            else:
                self.error(404, "invalid_request_error", "no such path: %s" % self.path)

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n > 0 else b""
            route = self.path.rstrip("/")
            if route not in ("/v1/completions", "/v1/chat/completions"):
                return self.error(404, "invalid_request_error", "no such path: %s" % self.path)
            state["seen"] += 1
            if fault == "drop":
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if fault == "500":
                return self.error(500, "server_error", "injected fault: internal error")
            if fault == "429-once" and state["seen"] == 1:
                return self.error(429, "rate_limit_error", "injected fault: rate limited", {"Retry-After": "1"})
            if fault.startswith("slow="):
                time.sleep(float(fault[5:]))
            try:
                req = json.loads(raw or b"null")
                if not isinstance(req, dict):
                    raise ValueError("the body must be a JSON object")
                doc = served.chat(req) if route == "/v1/chat/completions" else served.complete(req)
            except (ValueError, UnicodeDecodeError) as e:
                return self.error(400, "invalid_request_error", str(e))
            except Exception as e:   # the server must answer, whatever went wrong
                return self.error(500, "server_error", "%s: %s" % (type(e).__name__, e))
            if fault == "malformed":
                body = json.dumps(doc).encode()
                return self.send(200, body[:len(body) // 2])
            if fault.startswith("say=") and route == "/v1/chat/completions":
                doc["choices"][0]["message"]["content"] = fault[4:]
            if fault == "no-logprobs" and route == "/v1/chat/completions":
                doc["choices"][0]["message"].pop("content")
            elif fault == "no-logprobs":
                doc["choices"][0]["logprobs"] = None
            self.send(200, doc)

    return Handler


FAULTS = ("none", "500", "malformed", "no-logprobs", "drop", "429-once")


def main():
    ap = argparse.ArgumentParser(description="OpenAI-compatible completions over reference_forward.py")
    ap.add_argument("model")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--lineage", default=os.environ.get("LINEAGE", "build/rel/lineage"))
    ap.add_argument("--fault", action="append", default=[])
    ap.add_argument("--name", default=None)
    a = ap.parse_args()
    for f in a.fault:
        if f.startswith("slow="):
            try:
                s = float(f[5:])
                if not math.isfinite(s) or s < 0:
                    raise ValueError
            except ValueError:
                ap.error("--fault slow= wants a number of seconds")
        elif f not in FAULTS and not f.startswith("say="):
            ap.error("unknown --fault %s (slow=SECONDS|say=TEXT|500|malformed|no-logprobs|drop|429-once|none)" % f)
    torch.set_num_threads(1)
    served = Served(a.model, a.lineage, a.name or os.path.basename(os.path.normpath(a.model)))
    servers = []
    for k, f in enumerate(a.fault or ["none"]):
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", a.port if k == 0 else 0),
                                                make_handler(served, "" if f == "none" else f))
        httpd.daemon_threads = True
        servers.append(httpd)
        line = "openai_server: listening on http://127.0.0.1:%d" % httpd.server_address[1]
        print(line + (" fault=%s" % f if a.fault else ""), flush=True)
    for httpd in servers[1:]:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
