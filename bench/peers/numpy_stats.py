#!/usr/bin/python3
"""numpy_stats.py A B: the statistics of tools/weightstat.c with numpy at its best (plain memmap of
the safetensors data, bf16 widened by uint16 -> uint32 << 16 viewed as float32, BLAS dots, chunks
sized for the cache). Prints the same two lines as weightstat."""
import json, struct, sys, time
import numpy as np

CHUNK = 1 << 20  # elements per step: amortizes Python, keeps the preallocated buffers in cache


def tensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    return header, data


def widen(raw, dtype, out):
    """f32 view of raw bytes, written into the preallocated uint32 buffer out (no page faults)."""
    k = raw.size // (2 if dtype in ("BF16", "F16") else 4)
    o = out[:k]
    if dtype == "BF16":
        np.copyto(o, raw.view(np.uint16))
        np.left_shift(o, 16, out=o)
        return o.view(np.float32)
    if dtype == "F16":
        np.copyto(o.view(np.float32), raw.view(np.float16))
        return o.view(np.float32)
    return raw.view(np.float32)


def main():
    ha, da = tensors(sys.argv[1])
    hb, db = tensors(sys.argv[2])
    t0 = time.perf_counter()
    s = np.zeros(6)
    n = neq = 0
    mx = 0.0
    nbytes = 0
    ua, ub = np.empty(CHUNK, np.uint32), np.empty(CHUNK, np.uint32)
    dbuf, eq = np.empty(CHUNK, np.float32), np.empty(CHUNK, np.bool_)
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
            a = widen(da[a0 + i * ea:a0 + (i + k) * ea], ta["dtype"], ua)
            b = widen(db[b0 + i * eb:b0 + (i + k) * eb], tb["dtype"], ub)
            d = np.subtract(a, b, out=dbuf[:k])
            s += (a.sum(dtype=np.float64), b.sum(dtype=np.float64), np.dot(a, a), np.dot(b, b), np.dot(a, b), np.dot(d, d))
            np.abs(d, out=d)
            mx = max(mx, float(d.max()))
            neq += int(np.count_nonzero(np.equal(a, b, out=eq[:k])))
            n += k
    dt = time.perf_counter() - t0
    sa, sb, saa, sbb, sab, sdd = s
    cos = sab / np.sqrt(saa * sbb)
    cov, va, vb = sab - sa * sb / n, saa - sa * sa / n, sbb - sb * sb / n
    print("numpy elements %d bytes %d seconds %.3f GB/s %.2f" % (n, nbytes, dt, nbytes / dt / 1e9))
    print("cosine %.9f pearson %.9f rel_l2 %.9f max_abs_diff %.6g equal_fraction %.6f"
          % (cos, cov / np.sqrt(va * vb), np.sqrt(sdd / saa), mx, neq / n))


main()
