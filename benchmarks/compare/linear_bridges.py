"""numpy/scipy peer of GmmFlow's linear-bridge set-up (docs/theory/linear-dynamics.md#reduction).

Reads the folder written by `GmmFlow.Benchmarks linear-bridges --out DIR`, computes the same closed form per pair
(reduction through Φ(T,0) and the Cholesky factor of the Gramian, the Gaussian Schrödinger bridge of the reduced pair,
Cov(X0, XT), M⁻¹δ and Π(T/2)) with numpy/scipy, checks it against GmmFlow's numbers, and prints the per-pair times.
Φ and M come from scipy.linalg.expm of the Van Loan block, once per system (outside the timing, as in GmmFlow).

    /usr/bin/python3 benchmarks/compare/linear_bridges.py DIR [--repeats R] [--sdp]

--sdp also times the SDP route (one cvxopt semidefinite program per pair, σ = 0, needs Debian's python3-cvxopt) on the
first 10 pairs of each n and checks its optimum against the closed form.
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


def system_maps(a, b, horizon):
    """Everything pair-independent, once per dynamics (hoisted the same way in GmmFlow)."""
    n = a.shape[0]
    phi, m = van_loan(a, b, horizon)
    l = np.linalg.cholesky(m)
    m_inv = sl.cho_solve((l, True), np.eye(n))
    m_inv = (m_inv + m_inv.T) / 2
    p = m_inv @ phi                      # M⁻¹Φ
    red = phi.T @ p                      # ΦᵀM⁻¹Φ (tr Σ̂0 = <ΦᵀM⁻¹Φ, Σ0>)
    q = np.linalg.solve(phi, m)          # Φ⁻¹M
    logdet_m = 2 * np.sum(np.log(np.diag(l)))
    # Anchor t = T/2 (LTI: Φ(T, T/2) = Φ(T/2), M(T, T/2) = M(T/2)).
    pt, mt = van_loan(a, b, horizon / 2)
    g = sl.cho_solve((l, True), pt @ mt).T          # G = M(t,0)Φ(T,t)ᵀM⁻¹
    f = pt - g @ phi                                # F = Φ(t,0) − GΦ
    noise = mt - g @ pt @ mt                        # M(t,0) − GΦ(T,t)M(t,0)
    h = sl.cho_solve(sl.cho_factor(mt, lower=True), pt).T   # H = Φ(T,t)ᵀM(T,t)⁻¹
    h_phi = h @ pt
    return dict(phi=phi, l=l, m_inv=m_inv, p=p, red=red, q=q, logdet_m=logdet_m, g=g, f=f, noise=noise, h=h,
                h_phi=(h_phi + h_phi.T) / 2)


def pair(m0, s0, m1, s1, eps, s):
    """J, Π(T/2), Σ(T/2), M⁻¹δ and Cov(X0, XT) of one pair: the same algebra as LinearGaussianBridge.Create.

    The inputs are checked once (finite), as GmmFlow checks them; scipy's per-call finiteness checks are then skipped."""
    n = len(m0)
    if not (np.isfinite(m0).all() and np.isfinite(s0).all() and np.isfinite(m1).all() and np.isfinite(s1).all()):
        raise ValueError("non-finite input")
    l = s["l"]
    l0 = np.linalg.cholesky(s0)
    l1 = np.linalg.cholesky(s1)
    delta = m1 - s["phi"] @ m0
    y = sl.solve_triangular(l, delta, lower=True, check_finite=False)
    mean_cost = y @ y
    minv_delta = sl.solve_triangular(l, y, lower=True, trans="T", check_finite=False)
    # Reduced Schrödinger bridge through the factor L⁻¹Φ l0 of Σ̂0: K = YᵀY, Y = l1ᵀ(M⁻¹Φ)l0.
    yk = l1.T @ (s["p"] @ l0)
    gam, v = np.linalg.eigh(yk.T @ yk)
    gam = np.maximum(gam, 0)
    c = 2 * gam / (np.sqrt(4 * gam + eps * eps) + eps)
    trace = np.sum(s["red"] * s0) + np.sum(s["m_inv"] * s1)
    if eps > 0:
        gk = 1 + np.sqrt(1 + 4 * gam / eps ** 2)
        logdet1 = 2 * np.sum(np.log(np.diag(l1))) - s["logdet_m"]
        j = mean_cost + trace - eps * (np.sum(gk - np.log(gk)) + logdet1) + n * eps * (1 + np.log(eps / 2))
    else:
        j = mean_cost + trace - 2 * np.sum(np.sqrt(gam))
    s01 = ((l0 @ v) * c) @ (v.T @ sl.solve_triangular(l0, s["q"], lower=True, check_finite=False))   # Cov(X0, XT)
    # Marginal and Π at t = T/2 (closed form).
    f, g = s["f"], s["g"]
    fs01 = f @ s01
    cov_tT = fs01 + g @ s1                                   # Cov(X_t, X_T)
    fl0 = f @ l0
    sig = fl0 @ fl0.T + fs01 @ g.T + g @ cov_tT.T + eps * s["noise"]
    sig = (sig + sig.T) / 2
    z = sl.cho_solve(sl.cho_factor(sig, lower=True, check_finite=False), cov_tT, check_finite=False)  # Σ_t⁻¹ Cov(X_t, X_T)
    pi = s["h"] @ z.T - s["h_phi"]
    return j, (pi + pi.T) / 2, sig, minv_delta, s01


def pairs_stacked(m0, s0, m1, s1, eps, s):
    """pair() for all pairs at once on stacked arrays (numpy's batched cholesky/eigh/solve/matmul): the same algebra
    without Python's per-pair call overhead. Triangular solves go through np.linalg.solve (LU), as scipy's
    solve_triangular has no batched form. Returns J, Π(T/2), Σ(T/2) per pair."""
    n = m0.shape[1]
    tr = lambda x: np.swapaxes(x, -1, -2)
    l0 = np.linalg.cholesky(s0)
    l1 = np.linalg.cholesky(s1)
    delta = m1 - m0 @ s["phi"].T
    y = sl.solve_triangular(s["l"], delta.T, lower=True, check_finite=False)     # one solve, all pairs as columns
    mean_cost = np.einsum("ij,ij->j", y, y)
    yk = tr(l1) @ (s["p"] @ l0)
    gam, v = np.linalg.eigh(tr(yk) @ yk)
    gam = np.maximum(gam, 0)
    c = 2 * gam / (np.sqrt(4 * gam + eps * eps) + eps)
    trace = np.einsum("ij,pij->p", s["red"], s0) + np.einsum("ij,pij->p", s["m_inv"], s1)
    if eps > 0:
        gk = 1 + np.sqrt(1 + 4 * gam / eps ** 2)
        logdet1 = 2 * np.sum(np.log(np.diagonal(l1, axis1=1, axis2=2)), axis=1) - s["logdet_m"]
        j = mean_cost + trace - eps * (np.sum(gk - np.log(gk), axis=1) + logdet1) + n * eps * (1 + np.log(eps / 2))
    else:
        j = mean_cost + trace - 2 * np.sum(np.sqrt(gam), axis=1)
    s01 = ((l0 @ v) * c[:, None, :]) @ (tr(v) @ np.linalg.solve(l0, np.broadcast_to(s["q"], l0.shape)))
    f, g = s["f"], s["g"]
    fs01 = f @ s01
    cov_tt = fs01 + g @ s1
    fl0 = f @ l0
    sig = fl0 @ tr(fl0) + fs01 @ g.T + g @ tr(cov_tt) + eps * s["noise"]
    sig = (sig + tr(sig)) / 2
    z = np.linalg.solve(sig, cov_tt)
    pi = s["h"] @ tr(z) - s["h_phi"]
    return j, (pi + tr(pi)) / 2, sig


def sdp_pair(m0, s0, m1, s1, s):
    """σ = 0 pair cost by the SDP route (cvxopt): on the reduced pair, W2² = |Δm̂|² + tr Σ̂0 + tr Σ̂1 − 2 max tr C subject to
    [[Σ̂0, C], [Cᵀ, Σ̂1]] ⪰ 0, one 2n×2n linear matrix inequality in the n² entries of C."""
    from cvxopt import matrix, solvers
    n = len(m0)
    l = s["l"]
    r = sl.solve_triangular(l, s["phi"], lower=True)
    hs0 = r @ s0 @ r.T
    hs1 = sl.solve_triangular(l, sl.solve_triangular(l, s1, lower=True).T, lower=True)
    hs0, hs1 = (hs0 + hs0.T) / 2, (hs1 + hs1.T) / 2
    w = 2 * n
    h = np.zeros((w, w))
    h[:n, :n], h[n:, n:] = hs0, hs1
    g = np.zeros((w * w, n * n))
    for i in range(n):
        for j in range(n):
            e = np.zeros((w, w))
            e[i, n + j] = e[n + j, i] = -1.0          # h − Σ x_k G_k = [[Σ̂0, C], [Cᵀ, Σ̂1]]
            g[:, i * n + j] = e.ravel(order="F")
    c = np.zeros(n * n)
    c[[i * n + i for i in range(n)]] = -1.0
    solvers.options.update({"show_progress": False})  # cvxopt's default tolerances (1e-7)
    dm = sl.solve_triangular(l, m1 - s["phi"] @ m0, lower=True)
    try:
        sol = solvers.sdp(matrix(c), Gs=[matrix(g)], hs=[matrix(h)])
    except ArithmeticError as e:  # the interior point can break down at the rank-deficient optimum
        return float("nan"), f"failed ({e})"
    return dm @ dm + np.trace(hs0) + np.trace(hs1) + 2 * sol["primal objective"], sol["status"]


def closed_form_ot(m0, s0, m1, s1, s):
    """σ = 0 closed form of the same pair (pair(..., eps = 0)[0])."""
    return pair(m0, s0, m1, s1, 0.0, s)[0]


def sdp_timing(folder, pairs=10):
    try:
        import cvxopt  # noqa: F401
    except ImportError:
        print("SDP route: cvxopt not installed (Debian: python3-cvxopt); skipped")
        return
    for n in (2, 4, 8, 16):
        p = os.path.join(folder, f"n{n}_")
        a, b = np.load(p + "A.npy"), np.load(p + "B.npy")
        m0, m1 = np.load(p + "m0.npy"), np.load(p + "m1.npy")
        s0 = np.load(p + "S0.npy").reshape(-1, n, n)
        s1 = np.load(p + "S1.npy").reshape(-1, n, n)
        system = system_maps(a, b, json.load(open(p + "meta.json"))["horizon"])
        k = min(pairs, len(m0))
        t0, c0 = time.perf_counter(), time.process_time()
        results = [sdp_pair(m0[q], s0[q], m1[q], s1[q], system) for q in range(k)]
        wall, cpu = (time.perf_counter() - t0) / k, (time.process_time() - c0) / k
        exact = [closed_form_ot(m0[q], s0[q], m1[q], s1[q], system) for q in range(k)]
        err = max((abs(r[0] - e) / max(1, abs(e)) for r, e in zip(results, exact) if r[1] == "optimal"), default=float("nan"))
        bad = sum(r[1] != "optimal" for r in results)
        print(f"SDP route (cvxopt, σ = 0, {k} pairs) n = {n:2d}: {wall * 1e3:8.2f} ms/pair wall, {cpu * 1e3:8.2f} ms/pair CPU; "
              f"max rel. diff to the closed form (optimal ones) {err:.1e}; not optimal {bad}", flush=True)


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
        system = system_maps(a, b, horizon)
        k = len(m0)
        results = [pair(m0[q], s0[q], m1[q], s1[q], eps, system) for q in range(k)]
        j_err = pi_err = sig_err = 0.0
        for suffix in ("", "_batch"):  # GmmFlow's one-pair and batched results
            j_ref = np.load(p + f"J{suffix}.npy").ravel()
            pi_ref = np.load(p + f"Pi{suffix}.npy").reshape(-1, n, n)
            sig_ref = np.load(p + f"Sigma{suffix}.npy").reshape(-1, n, n)
            j_err = max(j_err, max(abs(r[0] - j_ref[q]) / max(1, abs(j_ref[q])) for q, r in enumerate(results)))
            pi_err = max(pi_err, max(np.abs(r[1] - pi_ref[q]).max() / max(1, np.abs(pi_ref[q]).max()) for q, r in enumerate(results)))
            sig_err = max(sig_err, max(np.abs(r[2] - sig_ref[q]).max() / max(1, np.abs(sig_ref[q]).max()) for q, r in enumerate(results)))
        times, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            for q in range(k):
                pair(m0[q], s0[q], m1[q], s1[q], eps, system)
            times.append((time.perf_counter() - t0) / k)
            cpu.append((time.process_time() - c0) / k)
        times.sort()
        cpu.sort()
        py = times[len(times) // 2]
        py_cpu = cpu[len(cpu) // 2]
        cs_cpu = meta.get("csharp_cpu_seconds_per_pair", float("nan"))
        cs = meta["csharp_seconds_per_pair"]
        cs_min, py_min = meta["csharp_min"], times[0]
        cb, cb_min, cb_cpu = meta["csharp_batch_seconds_per_pair"], meta["csharp_batch_min"], meta["csharp_batch_cpu_seconds_per_pair"]
        # The stacked numpy variant: checked against the per-pair results, then timed the same way.
        js, pis, sigs = pairs_stacked(m0, s0, m1, s1, eps, system)
        stacked_err = max(max(abs(js[q] - r[0]) / max(1, abs(r[0])) for q, r in enumerate(results)),
                          max(np.abs(pis[q] - r[1]).max() / max(1, np.abs(r[1]).max()) for q, r in enumerate(results)),
                          max(np.abs(sigs[q] - r[2]).max() / max(1, np.abs(r[2]).max()) for q, r in enumerate(results)))
        st_times, st_cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            pairs_stacked(m0, s0, m1, s1, eps, system)
            st_times.append((time.perf_counter() - t0) / k)
            st_cpu.append((time.process_time() - c0) / k)
        st, st_c = sorted(st_times)[len(st_times) // 2], sorted(st_cpu)[len(st_cpu) // 2]
        rows.append((n, meta["m"], cs, py, j_err, pi_err, sig_err))
        print(f"n = {n:2d}, m = {meta['m']:2d}: numpy/scipy median {py * 1e6:7.2f} µs/pair (best {py_min * 1e6:7.2f}, CPU {py_cpu * 1e6:7.2f}); "
              f"GmmFlow one pair at a time {cs * 1e6:6.2f} µs ({py / cs:5.1f}x; best {py_min / cs_min:5.1f}x; CPU {py_cpu / cs_cpu:5.1f}x), "
              f"batched {cb * 1e6:6.2f} µs ({py / cb:5.1f}x; best {py_min / cb_min:5.1f}x; CPU {py_cpu / cb_cpu:5.1f}x); "
              f"max rel. diff J {j_err:.1e}, Π(T/2) {pi_err:.1e}, Σ(T/2) {sig_err:.1e}", flush=True)
        print(f"         stacked numpy (all pairs per call) {st * 1e6:7.2f} µs/pair (CPU {st_c * 1e6:7.2f}, max rel. diff to per-pair "
              f"{stacked_err:.1e}): GmmFlow batched {st / cb:5.1f}x (CPU {st_c / cb_cpu:5.1f}x)", flush=True)
        if j_err > 1e-8 or pi_err > 1e-6 or sig_err > 1e-8:
            print(f"MISMATCH at n = {n}", file=sys.stderr)
            sys.exit(1)
    if "--sdp" in sys.argv:
        sdp_timing(folder)


if __name__ == "__main__":
    main()
