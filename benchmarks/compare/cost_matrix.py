#!/usr/bin/env python3
"""Batched numpy W2 and surrogate cost matrices on the inputs GmmFlow exports, printed as pairs/s.

The same algorithm as GmmFlow (docs/theory.md#exact-w2, #surrogate-cost), vectorised over all K0xK1 pairs with stacked arrays
(no Python loop over pairs):
  W2:        A = L0^T S1 L0 for every pair, eigvalsh (LAPACK dsyevd, jobz='N'), sum of sqrt of clamped eigenvalues;
  surrogate: C = L0^-1 S1 L0^-T for every pair, eigh (dsyevd, jobz='V'), 1/4 sum_k (mu_k - 1) log mu_k |L0 w_k|^2.

Inputs: <dir>/<size>_{means0,covs0,means1,covs1}.npy written by
  dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- cost-throughput --export <dir>
which also writes GmmFlow's matrices (<size>_Wasserstein.npy, <size>_Surrogate.npy); they are compared here.

Same-LAPACK run (numpy on MKL, sequential, without touching the system alternatives):
  mkdir -p /tmp/mkl && ln -sf /usr/lib/x86_64-linux-gnu/libmkl_rt.so /tmp/mkl/liblapack.so.3 \
                    && ln -sf /usr/lib/x86_64-linux-gnu/libmkl_rt.so /tmp/mkl/libblas.so.3
  LD_LIBRARY_PATH=/tmp/mkl MKL_THREADING_LAYER=SEQUENTIAL /usr/bin/python3 benchmarks/compare/cost_matrix.py <dir>
The script prints which LAPACK/BLAS libraries are mapped into the process (from /proc/self/maps).
"""
import os
import sys
import time

import numpy as np

SIZES = ["50x50_d2", "50x50_d16", "20x20_d64"]


def w2_matrix(m0, s0, m1, s1):
    l0 = np.linalg.cholesky(s0)                                   # (K0, d, d)
    a = np.swapaxes(l0, -1, -2)[:, None] @ s1[None] @ l0[:, None]  # (K0, K1, d, d) = L0^T S1 L0
    gamma = np.linalg.eigvalsh(a)
    nuclear = np.sqrt(np.clip(gamma, 0, None)).sum(-1)
    mean = ((m0[:, None, :] - m1[None, :, :]) ** 2).sum(-1)
    tr0 = np.trace(s0, axis1=-2, axis2=-1)
    tr1 = np.trace(s1, axis1=-2, axis2=-1)
    return np.maximum(mean + tr0[:, None] + tr1[None, :] - 2 * nuclear, 0)


def surrogate_matrix(m0, s0, m1, s1):
    d = s0.shape[-1]
    l0 = np.linalg.cholesky(s0)
    inv = np.linalg.solve(l0, np.broadcast_to(np.eye(d), l0.shape))     # L0^-1
    c = inv[:, None] @ s1[None] @ np.swapaxes(inv, -1, -2)[:, None]      # (K0, K1, d, d)
    mu, w = np.linalg.eigh(c)                                            # columns of w are eigenvectors
    weight = (mu - 1) * np.log(np.maximum(mu, np.finfo(float).tiny))
    norms = ((l0[:, None] @ w) ** 2).sum(-2)                             # |L0 w_k|^2 per column k
    mean = ((m0[:, None, :] - m1[None, :, :]) ** 2).sum(-1)
    return mean + 0.25 * (weight * norms).sum(-1)


def rate(fn, args, pairs, repeats):
    fn(*args)                                  # warm-up
    calls = 1
    start = time.perf_counter()
    while time.perf_counter() - start < 0.2:
        fn(*args)
        calls += 1
    per_batch = max(1, int(calls / (time.perf_counter() - start) * 0.05 + 0.999))  # >= 50 ms: CPU clock has coarse ticks
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        for _ in range(per_batch):
            fn(*args)
        walls.append(pairs * per_batch / (time.perf_counter() - w))
        cpus.append(pairs * per_batch / max(time.process_time() - c, 1e-9))
    return float(np.median(walls)), float(np.median(cpus))


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "benchmarks/compare/data"
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    maps = open("/proc/self/maps").read().splitlines()
    libs = sorted({line.split()[-1] for line in maps if any(k in line for k in ("lapack", "blas", "mkl_rt", "openblas"))})
    print("numpy", np.__version__, "LAPACK/BLAS mapped:", ", ".join(os.path.basename(p) for p in libs) or "none")
    print(f"{'size':<12} {'cost':<12} {'pairs/s (wall)':>15} {'pairs/s (cpu)':>15} {'max rel diff vs GmmFlow':>24}")
    for size in SIZES:
        m0, s0, m1, s1 = (np.load(os.path.join(directory, f"{size}_{n}.npy")) for n in ("means0", "covs0", "means1", "covs1"))
        pairs = len(m0) * len(m1)
        for name, fn in (("Wasserstein", w2_matrix), ("Surrogate", surrogate_matrix)):
            ours = fn(m0, s0, m1, s1)
            theirs_path = os.path.join(directory, f"{size}_{name}.npy")
            diff = "n/a"
            if os.path.exists(theirs_path):
                theirs = np.load(theirs_path)
                scale = np.abs(theirs).max()
                diff = f"{np.abs(ours - theirs).max() / scale:.2e}"
            wall, cpu = rate(fn, (m0, s0, m1, s1), pairs, repeats)
            print(f"{size:<12} {name:<12} {wall:>15,.0f} {cpu:>15,.0f} {diff:>24}")


if __name__ == "__main__":
    main()
