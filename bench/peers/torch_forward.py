#!/usr/bin/python3
"""torch_forward.py MODEL IDS: the prompt pass of tests/ref/reference_forward.py at its best (all threads,
no autograd, weights already widened to f32 in memory, one warm-up pass), best of 3. Prints
"torch tokens N seconds S tokens/s R"."""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "ref"))
import reference_forward  # noqa: E402

torch.set_num_threads(os.cpu_count())   # Debian's torch starts with 1
model = reference_forward.Model(sys.argv[1])
ids = [int(t) for t in sys.argv[2].split(",")]
with torch.no_grad():
    model.logits(ids)   # warm-up: reads and widens the weights
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        model.logits(ids)
        best = min(best, time.perf_counter() - t0)
print("torch tokens %d seconds %.3f tokens/s %.1f" % (len(ids), best, len(ids) / best))
