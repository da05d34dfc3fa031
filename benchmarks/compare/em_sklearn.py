#!/usr/bin/python3
"""Time scikit-learn's EM iterations on GmmFlow's data and initialisation, and compare.

First let GmmFlow write the data, its k-means++ initialisation and its own timings:
    dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- em-compare --out DIR
then run this with Debian's interpreter (python3-sklearn 1.2.1):
    /usr/bin/python3 benchmarks/compare/em_sklearn.py DIR [--repeats 3]
For a same-LAPACK comparison (GmmFlow uses MKL), point numpy at MKL without touching system alternatives:
    mkdir -p /tmp/mkl && ln -sf /usr/lib/x86_64-linux-gnu/libmkl_rt.so /tmp/mkl/liblapack.so.3 \
        && ln -sf /usr/lib/x86_64-linux-gnu/libmkl_rt.so /tmp/mkl/libblas.so.3
    LD_LIBRARY_PATH=/tmp/mkl MKL_THREADING_LAYER=SEQUENTIAL /usr/bin/python3 benchmarks/compare/em_sklearn.py DIR

scikit-learn runs GaussianMixture(covariance_type='full', reg_covar=1e-6, tol=0, n_init=1,
init_params='random', weights_init / means_init / precisions_init = GmmFlow's initialisation). With all
three *_init given, init_params only decides what is computed and then overwritten ('kmeans' would run a
whole KMeans first, so 'random' is used). tol=0 makes every fit run exactly max_iter iterations; the time
per iteration is (t(max_iter = T) − t(max_iter = 2)) / (T − 2), which cancels the fixed costs (validation,
initialisation, the final E-step). The mean log-likelihood after T iterations must match GmmFlow's (same
algorithm, same start): the script prints both.
"""
import argparse
import json
import os
import time
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

# tol = 0 never converges by design.
warnings.filterwarnings("ignore", category=ConvergenceWarning)


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return "; ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('filepath')})" for i in threadpool_info())
    except Exception:  # threadpoolctl is optional
        return os.environ.get("LD_LIBRARY_PATH", "default libblas.so.3/liblapack.so.3")


def fit_seconds(x, init, max_iter):
    weights = np.asarray(init["weights"])
    means = np.asarray(init["means"])
    precisions = np.linalg.inv(np.asarray(init["covariances"]))
    gm = GaussianMixture(n_components=len(weights), covariance_type="full", reg_covar=1e-6, tol=0.0,
                         max_iter=max_iter, n_init=1, init_params="random", random_state=0,
                         weights_init=weights, means_init=means, precisions_init=precisions)
    t0 = time.perf_counter()
    gm.fit(x)
    return time.perf_counter() - t0, gm


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, BLAS/LAPACK: {blas_info()}")
    dims = sorted(int(f[len("gmmflow_d"):-len(".json")]) for f in os.listdir(args.dir) if f.startswith("gmmflow_d"))
    rows = []
    for d in dims:
        ours = json.load(open(os.path.join(args.dir, f"gmmflow_d{d}.json")))
        init = json.load(open(os.path.join(args.dir, f"init_d{d}.json")))
        x = np.load(os.path.join(args.dir, f"X_d{d}.npy"))
        total = ours["iterations_total"]
        per_iter, final = [], None
        for _ in range(args.repeats):
            t_short, _ = fit_seconds(x, init, 2)
            t_long, gm = fit_seconds(x, init, total)
            per_iter.append((t_long - t_short) / (total - 2) * 1e3)
            final = gm.score(x)
        best, median = min(per_iter), sorted(per_iter)[len(per_iter) // 2]
        ll_ours = ours["final_mean_log_likelihood"]
        rows.append((d, best, median, ours["per_iteration_ms_min"], ours["per_iteration_ms_median"], final, ll_ours))
        print(f"d = {d:2d}: scikit-learn {best:8.2f} ms/iteration (min of {args.repeats}; median {median:.2f}); "
              f"GmmFlow {ours['per_iteration_ms_min']:.2f} ms (median {ours['per_iteration_ms_median']:.2f}, {ours['cores']} cores); "
              f"speed-up {best / ours['per_iteration_ms_min']:.1f}x (medians {median / ours['per_iteration_ms_median']:.1f}x)")
        print(f"        mean log-likelihood after {total} iterations: scikit-learn {final!r}, GmmFlow {ll_ours!r}, "
              f"GmmFlow − scikit-learn = {ll_ours - final:.3e}")
    print(json.dumps([dict(d=r[0], sklearn_ms_min=r[1], sklearn_ms_median=r[2], gmmflow_ms_min=r[3],
                           gmmflow_ms_median=r[4], sklearn_ll=r[5], gmmflow_ll=r[6]) for r in rows]))


if __name__ == "__main__":
    main()
