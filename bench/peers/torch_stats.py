#!/usr/bin/python3
"""torch_stats.py A B: the statistics of tools/weightstat.c with torch at its best (all threads,
bf16 viewed in place and widened with .float(), fused dot products). Prints the same two lines."""
import json, os, struct, sys, time, warnings
import numpy as np
import torch

CHUNK = 1 << 20
warnings.filterwarnings("ignore")  # from_numpy on a read-only memmap
torch.set_num_threads(os.cpu_count())  # Debian's torch starts with 1


def tensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    return header, data


DT = {"BF16": (torch.bfloat16, np.int16), "F16": (torch.float16, np.float16), "F32": (torch.float32, np.float32)}


def widen(raw, dtype, out):
    """converted into the preallocated f32 buffer out (fresh tensors would page-fault)"""
    tdt, ndt = DT[dtype]
    src = torch.from_numpy(raw.view(ndt)).view(tdt)
    o = out[:src.numel()]
    o.copy_(src)
    return o


def main():
    ha, da = tensors(sys.argv[1])
    hb, db = tensors(sys.argv[2])
    t0 = time.perf_counter()
    s = torch.zeros(6, dtype=torch.float64)
    n = neq = 0
    mx = 0.0
    nbytes = 0
    fa, fb, fd = torch.empty(CHUNK), torch.empty(CHUNK), torch.empty(CHUNK)
    eq = torch.empty(CHUNK, dtype=torch.bool)
    ones = torch.ones(CHUNK)
    with torch.inference_mode():
        for name, ta in ha.items():
            tb = hb.get(name)
            if tb is None:
                continue
            a0, a1 = ta["data_offsets"]
            b0, b1 = tb["data_offsets"]
            nbytes += (a1 - a0) + (b1 - b0)
            ea, eb = (2 if ta["dtype"] in ("BF16", "F16") else 4), (2 if tb["dtype"] in ("BF16", "F16") else 4)
            count = (a1 - a0) // ea
            for i in range(0, count, CHUNK):
                k = min(CHUNK, count - i)
                a = widen(da[a0 + i * ea:a0 + (i + k) * ea], ta["dtype"], fa)
                b = widen(db[b0 + i * eb:b0 + (i + k) * eb], tb["dtype"], fb)
                d = torch.sub(a, b, out=fd[:k])
                one = ones[:k]
                s += torch.stack([torch.dot(a, one), torch.dot(b, one), torch.dot(a, a), torch.dot(b, b), torch.dot(a, b),
                                  torch.dot(d, d)]).double()
                lo, hi = torch.aminmax(d)
                mx = max(mx, float(hi), -float(lo))
                neq += int(torch.count_nonzero(torch.eq(a, b, out=eq[:k])))
                n += k
    dt = time.perf_counter() - t0
    sa, sb, saa, sbb, sab, sdd = s.tolist()
    cos = sab / (saa * sbb) ** 0.5
    cov, va, vb = sab - sa * sb / n, saa - sa * sa / n, sbb - sb * sb / n
    print("torch elements %d bytes %d seconds %.3f GB/s %.2f" % (n, nbytes, dt, nbytes / dt / 1e9))
    print("cosine %.9f pearson %.9f rel_l2 %.9f max_abs_diff %.6g equal_fraction %.6f"
          % (cos, cov / (va * vb) ** 0.5, (sdd / saa) ** 0.5, mx, neq / n))


main()
