#!/usr/bin/python3
"""torch_generate.py MODEL IDS N: greedy generation of N tokens after the prompt IDS with
tests/ref/reference_forward.py (all threads, no autograd, one warm-up pass). The reference has no KV
cache, so every step recomputes the whole sequence, as its callers do. Prints
"torch generated N seconds S tokens/s R"."""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "ref"))
import reference_forward  # noqa: E402

torch.set_num_threads(os.cpu_count())
model = reference_forward.Model(sys.argv[1])
ids = [int(t) for t in sys.argv[2].split(",")]
n = int(sys.argv[3])
with torch.no_grad():
    model.logits(ids)   # warm-up: reads and widens the weights
    t0 = time.perf_counter()
    seq = list(ids)
    for _ in range(n):
        seq.append(int(torch.argmax(model.logits(seq)[-1])))
    dt = time.perf_counter() - t0
print("torch generated %d seconds %.3f tokens/s %.1f" % (n, dt, n / dt))
