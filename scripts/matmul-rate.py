#!/usr/bin/python3
"""This machine's float32 matrix-multiply rate for the mining step's shapes (numpy + OpenBLAS).

The mining step at N x D does two products, F F^T (distances) and S F (gradients): 4 N^2 D
FLOPs. The bench counts the same FLOPs, so the ratio of the two rates is meaningful.

    /usr/bin/python3 scripts/matmul-rate.py [--n 1024] [--d 128] [--json]
"""
import argparse
import json
import time

import numpy as np


def rate(n, d, repetitions):
    rng = np.random.default_rng(1)
    f = rng.standard_normal((n, d), dtype=np.float32)
    s = rng.standard_normal((n, n), dtype=np.float32)
    times = []
    for _ in range(repetitions + 3):
        t0 = time.perf_counter()
        g = f @ f.T
        out = s @ f
        times.append(time.perf_counter() - t0)
    times = sorted(times[3:])
    median = times[len(times) // 2]
    return median * 1e3, 4.0 * n * n * d / median / 1e9, g.shape, out.shape


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append")
    parser.add_argument("--d", type=int, action="append")
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ns = args.n or [128, 256, 512, 1024, 2048]
    ds = args.d or [128, 512]
    if not args.json:
        print("%6s %5s %12s %10s" % ("N", "D", "numpy ms", "GFLOP/s"))
    for d in ds:
        for n in ns:
            ms, gflops, _, _ = rate(n, d, args.repetitions)
            if args.json:
                print(json.dumps({"n": n, "d": d, "numpy_ms": round(ms, 4), "numpy_gflops": round(gflops, 2)}))
            else:
                print("%6d %5d %12.3f %10.1f" % (n, d, ms, gflops))


if __name__ == "__main__":
    main()
