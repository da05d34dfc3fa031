"""numpy/scipy peer of GmmFlow's linear-bridge set-up (docs/theory/linear-dynamics.md#reduction).

Reads the folder written by `GmmFlow.Benchmarks linear-bridges --out DIR`, computes the same closed form per pair
(reduction through Φ(T,0) and the Cholesky factor of the Gramian, the Gaussian Schrödinger bridge of the reduced pair,
Cov(X0, XT), M⁻¹δ and Π(T/2)) with numpy/scipy, checks it against GmmFlow's numbers, and prints the per-pair times.
Φ and M come from scipy.linalg.expm of the Van Loan block, once per system (outside the timing, as in GmmFlow).

    /usr/bin/python3 benchmarks/compare/linear_bridges.py DIR [--repeats R]
"""
import json
import os
import sys
import time

import numpy as np
import scipy.linalg as sl


def van_loan(a, b, tau):
    n = a.shape[0]
    h = np.block([[a, b @ b.T], [np.zeros((n, n)), -a.T]]) * tau
    f = sl.expm(h)
    phi = f[:n, :n]
    m = f[:n, n:] @ phi.T
    return phi, (m + m.T) / 2


def schrodinger(m0, s0, m1, s1, eps):
    """Cov(X0, X1) and the kinetic energy J of the Gaussian Schrödinger bridge on [0, 1]."""
    n = len(m0)
    l0 = np.linalg.cholesky(s0)
    gam, v = np.linalg.eigh(l0.T @ s1 @ l0)
    gam = np.maximum(gam, 0)
    delta = np.sqrt(4 * gam + eps * eps)
    c = 2 * gam / (delta + eps)
    cross = l0 @ (v * c) @ v.T @ sl.solve_triangular(l0, np.eye(n), lower=True)
    dm = m1 - m0
    base = dm @ dm + np.trace(s0) + np.trace(s1)
    if eps > 0:
        g = 1 + np.sqrt(1 + 4 * gam / eps ** 2)
        j = base - eps * (np.sum(g - np.log(g)) + np.linalg.slogdet(s1)[1]) + n * eps * (1 + np.log(eps / 2))
    else:
        j = base - 2 * np.sum(np.sqrt(gam))
    return cross, j


def pair(m0, s0, m1, s1, eps, sys_):
    phi, l, pt, mt, ptt, mtt = sys_
    hm0 = sl.solve_triangular(l, phi @ m0, lower=True)
    hm1 = sl.solve_triangular(l, m1, lower=True)
    x = sl.solve_triangular(l, phi @ s0 @ phi.T, lower=True)
    hs0 = sl.solve_triangular(l, x.T, lower=True)
    x = sl.solve_triangular(l, s1, lower=True)
    hs1 = sl.solve_triangular(l, x.T, lower=True)
    chat, j = schrodinger(hm0, (hs0 + hs0.T) / 2, hm1, (hs1 + hs1.T) / 2, eps)
    s01 = np.linalg.solve(phi, l @ chat @ l.T)
    delta = m1 - phi @ m0
    minv_delta = sl.cho_solve((l, True), delta)
    # Marginal and Π at t = T/2 (closed form).
    g = sl.cho_solve((l, True), ptt @ mt).T
    f = pt - g @ phi
    fsg = f @ s01 @ g.T
    sig = f @ s0 @ f.T + g @ s1 @ g.T + fsg + fsg.T + eps * (mt - g @ ptt @ mt)
    sig = (sig + sig.T) / 2
    cov_tt = s01.T @ f.T + s1 @ g.T
    r = sl.cho_solve(sl.cho_factor(sig, lower=True), cov_tt.T).T - ptt
    pi = ptt.T @ sl.cho_solve(sl.cho_factor(mtt, lower=True), r)
    return j, (pi + pi.T) / 2, sig, minv_delta


def main():
    folder = sys.argv[1]
    repeats = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 7
    rows = []
    for n in (2, 4, 8, 16):
        p = os.path.join(folder, f"n{n}_")
        meta = json.load(open(p + "meta.json"))
        a, b = np.load(p + "A.npy"), np.load(p + "B.npy")
        m0, m1 = np.load(p + "m0.npy"), np.load(p + "m1.npy")
        s0 = np.load(p + "S0.npy").reshape(-1, n, n)
        s1 = np.load(p + "S1.npy").reshape(-1, n, n)
        eps = meta["sigma"] ** 2
        horizon = meta["horizon"]
        phi, m = van_loan(a, b, horizon)
        l = np.linalg.cholesky(m)
        pt, mt = van_loan(a, b, horizon / 2)
        ptt, mtt = pt, mt  # LTI: Φ(T, T/2) = Φ(T/2), M(T, T/2) = M(T/2)
        system = (phi, l, pt, mt, ptt, mtt)
        k = len(m0)
        results = [pair(m0[q], s0[q], m1[q], s1[q], eps, system) for q in range(k)]
        j_ref, pi_ref, sig_ref = np.load(p + "J.npy").ravel(), np.load(p + "Pi.npy").reshape(-1, n, n), np.load(p + "Sigma.npy").reshape(-1, n, n)
        j_err = max(abs(r[0] - j_ref[q]) / max(1, abs(j_ref[q])) for q, r in enumerate(results))
        pi_err = max(np.abs(r[1] - pi_ref[q]).max() / max(1, np.abs(pi_ref[q]).max()) for q, r in enumerate(results))
        sig_err = max(np.abs(r[2] - sig_ref[q]).max() / max(1, np.abs(sig_ref[q]).max()) for q, r in enumerate(results))
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for q in range(k):
                pair(m0[q], s0[q], m1[q], s1[q], eps, system)
            times.append((time.perf_counter() - t0) / k)
        times.sort()
        py = times[len(times) // 2]
        cs = meta["csharp_seconds_per_pair"]
        cs_min, py_min = meta["csharp_min"], times[0]
        rows.append((n, meta["m"], cs, py, j_err, pi_err, sig_err))
        print(f"n = {n:2d}, m = {meta['m']:2d}: median GmmFlow {cs * 1e6:8.2f} µs/pair, numpy/scipy {py * 1e6:8.2f} µs/pair, "
              f"speed-up {py / cs:6.1f}x; best-of-{repeats} {cs_min * 1e6:7.2f} vs {py_min * 1e6:7.2f} µs, {py_min / cs_min:6.1f}x; "
              f"max rel. diff J {j_err:.1e}, Π(T/2) {pi_err:.1e}, Σ(T/2) {sig_err:.1e}", flush=True)
        if j_err > 1e-8 or pi_err > 1e-6 or sig_err > 1e-8:
            print(f"MISMATCH at n = {n}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
