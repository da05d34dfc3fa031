#!/usr/bin/python3
"""Reference values for tests/GmmFlow.Tests/Mixtures/SklearnReferenceTests.cs.

Writes tests/GmmFlow.Tests/Data/sklearn_reference.npy (a fixed, deterministic data set: five overlapping
anisotropic 3-D clusters of unequal size, N = 3000) and prints scikit-learn's fitted mean log-likelihood
(score(X), the final model's value) for each covariance type with default settings:
GaussianMixture(n_components=5, covariance_type=..., random_state=0) — k-means init (KMeans n_init=1),
tol=1e-3, reg_covar=1e-6, max_iter=100, n_init=1; and the same run to convergence (tol=1e-10,
max_iter=2000), which removes the stopping point from the comparison.

Run with Debian's interpreter (python3-sklearn 1.2.1):  /usr/bin/python3 benchmarks/compare/sklearn_reference.py
"""
import os
import sys

import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "GmmFlow.Tests", "Data", "sklearn_reference.npy")


def make_data():
    rng = np.random.default_rng(20240611)
    sizes = [900, 700, 600, 500, 300]
    centres = np.array([[0.0, 0.0, 0.0], [2.5, 0.5, -1.0], [-1.5, 2.5, 1.0], [1.0, -2.5, 2.0], [4.0, 3.0, 3.0]])
    parts = []
    for n, c in zip(sizes, centres):
        a = rng.normal(size=(3, 3))
        cov = a @ a.T * 0.6 + 0.1 * np.eye(3)
        parts.append(rng.multivariate_normal(c, cov, size=n))
    x = np.concatenate(parts)
    rng.shuffle(x)
    return np.ascontiguousarray(x, dtype="<f8")


def main():
    x = make_data()
    if "--no-write" not in sys.argv:
        np.save(OUT, x)
    print(f"sklearn {sklearn.__version__}, numpy {np.__version__}, data {x.shape} -> {os.path.normpath(OUT)}")
    for settings in [dict(), dict(tol=1e-10, max_iter=2000)]:
        print(f"settings: {settings or 'defaults'}")
        for cov in ["full", "diag", "spherical"]:
            gm = GaussianMixture(n_components=5, covariance_type=cov, random_state=0, **settings).fit(x)
            print(f"  {cov:9s}: score(X) = {gm.score(x)!r}  lower_bound_ = {gm.lower_bound_!r}  n_iter_ = {gm.n_iter_}  "
                  f"converged = {gm.converged_}  bic = {gm.bic(x)!r}")


if __name__ == "__main__":
    main()
