#!/usr/bin/env python3
"""The Python package's cost per call, and a whole job against POT + scikit-learn on identical inputs.

    /usr/bin/python3 benchmarks/compare/python_package.py [--cli "dotnet src/GmmFlow.Cli/bin/Release/net10.0/gmmflow.dll"]

Prints (1) the per-call time of tiny calls through ctypes (the package's fixed overhead), (2) the same tiny job
through the CLI (process start + file I/O), and (3) fit 2 x GMM + W2 plan + barycentric map with gmmflow vs
scikit-learn + ot.emd + a numpy Bures cost and map, on the same data, timed back to back.
"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import gmmflow  # noqa: E402


def best(f, repeat=5, number=1):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            f()
        times.append((time.perf_counter() - t) / number)
    return min(times)


def per_call(cli):
    a = gmmflow.GaussianMixture.from_parameters([0.5, 0.5], [[0, 0], [3, 0]], [[[1, .2], [.2, .5]], [[.5, 0], [0, .5]]])
    b = gmmflow.GaussianMixture.from_parameters([0.3, 0.3, 0.4], [[0, 5], [4, 5], [2, -4]], [0.3, 0.5, 1.0], "spherical")
    plan = gmmflow.TransportPlan(a, b, cost="sb", noise=0.5)
    x1 = np.zeros((1, 2))
    rows = [("velocity, 1 point", best(lambda: plan.velocity(0.5, x1), number=2000)),
            ("score_samples, 1 point", best(lambda: a.score_samples(x1), number=2000)),
            ("cost_matrix 2x3", best(lambda: gmmflow.cost_matrix(a, b, "w2"), number=2000)),
            ("TransportPlan (LP)", best(lambda: gmmflow.TransportPlan(a, b, cost="sb", noise=0.5), number=200))]
    with tempfile.TemporaryDirectory() as d:
        a.to_json(os.path.join(d, "a.json"))
        b.to_json(os.path.join(d, "b.json"))
        cmd = shlex.split(cli) + ["cost", "--source", os.path.join(d, "a.json"), "--target", os.path.join(d, "b.json"),
                                  "--kind", "w2", "--out", os.path.join(d, "c.npy"), "--force"]
        rows.append(("CLI `gmmflow cost` 2x3 (process)", best(lambda: subprocess.run(cmd, check=True, capture_output=True), repeat=3)))
    print("per call (best of 5):")
    for name, t in rows:
        print(f"  {name:36s} {t * 1e6:12.1f} us")


def bures_cost(m0, c0, m1, c1):
    from scipy.linalg import sqrtm
    out = np.empty((len(m0), len(m1)))
    for i in range(len(m0)):
        r = sqrtm(c0[i]).real
        for j in range(len(m1)):
            out[i, j] = np.sum((m0[i] - m1[j]) ** 2) + np.trace(c0[i]) + np.trace(c1[j]) - 2 * np.trace(sqrtm(r @ c1[j] @ r).real)
    return out


def whole_job(n, d, k):
    import ot
    from scipy.linalg import sqrtm
    from sklearn.mixture import GaussianMixture as Sk

    rng = np.random.default_rng(0)
    x0 = rng.normal(size=(n, d)) + rng.integers(0, 4, size=(n, 1)) * 3.0
    x1 = rng.normal(size=(n, d)) * 0.7 - rng.integers(0, 4, size=(n, 1)) * 2.0

    def ours():
        a = gmmflow.GaussianMixture(k, random_state=0, max_iter=100).fit(x0)
        b = gmmflow.GaussianMixture(k, random_state=0, max_iter=100).fit(x1)
        return gmmflow.TransportPlan(a, b, cost="w2").apply_map(x0)

    def peers():
        a = Sk(k, random_state=0, max_iter=100).fit(x0)
        b = Sk(k, random_state=0, max_iter=100).fit(x1)
        cost = bures_cost(a.means_, a.covariances_, b.means_, b.covariances_)
        lam = ot.emd(a.weights_, b.weights_, cost)
        post = a.predict_proba(x0)
        y = np.zeros_like(x0)
        for i in range(k):
            r = sqrtm(a.covariances_[i]).real
            ri = np.linalg.inv(r)
            for j in range(k):
                if lam[i, j] <= 0:
                    continue
                t = ri @ sqrtm(r @ b.covariances_[j] @ r).real @ ri
                y += (post[:, i] * lam[i, j] / a.weights_[i])[:, None] * (b.means_[j] + (x0 - a.means_[i]) @ t.T)
        return y

    ours()
    t_ours, t_peers = best(ours, repeat=3), best(peers, repeat=3)
    print(f"whole job, N = {n}, d = {d}, K = {k} (2 EM fits + W2 plan + barycentric map):")
    print(f"  gmmflow (Python package) {t_ours * 1e3:9.1f} ms   scikit-learn + POT + numpy {t_peers * 1e3:9.1f} ms   ratio {t_peers / t_ours:5.1f}x")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    p.add_argument("--cli", default="dotnet " + os.path.join(here, "src/GmmFlow.Cli/bin/Release/net10.0/gmmflow.dll"))
    args = p.parse_args()
    per_call(args.cli)
    whole_job(20000, 2, 8)
    whole_job(20000, 16, 8)
