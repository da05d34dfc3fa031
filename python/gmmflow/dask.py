"""Scale-out on Dask: transport of a dask array and distributed EM through per-chunk sufficient statistics.

Both rely on Dask for scheduling, data movement and fault tolerance (a lost worker's tasks are recomputed from the
graph); GmmFlow only supplies pure per-chunk functions:

    from dask.distributed import Client
    import gmmflow, gmmflow.dask
    client = Client()                                     # or a real cluster
    Y = gmmflow.dask.transport(plan, X, steps=100, random_state=1)     # X: dask array (n, d), chunked by rows
    model = gmmflow.dask.fit(X, init, max_iter=100, tol=1e-3)          # init: a GaussianMixture to start EM from
"""
import ctypes

import numpy as np

from . import _native as n
from .mixture import GaussianMixture


def _transport_block(block, plan, steps, random_state, block_info=None):
    # Row r of X uses random stream r whatever block holds it (the block's first row comes from dask's block_info).
    first = block_info[0]["array-location"][0][0] if isinstance(block_info, dict) and 0 in block_info else 0
    return plan.transport(block, steps=steps, random_state=random_state, first_index=first)


def transport(plan, X, steps=100, random_state=0):
    """Transports a dask array X (n, d), chunked by rows only, through `plan`; returns a lazy dask array.

    The plan is embedded once in the graph (pickled as its JSON) and rebuilt once per worker process. Row r uses
    random stream r of random_state, so the result equals plan.transport(X.compute(), steps, random_state) whatever
    the chunking and scheduling (with fixed steps, or the SDE's automatic steps, which depend on the plan only)."""
    import dask.array as da

    X = da.asarray(X)
    if X.ndim != 2 or X.shape[1] != plan.dimension:
        raise n.InvalidArgumentError(f"X must have shape (n, {plan.dimension}); got {X.shape}")
    if len(X.chunks[1]) != 1:
        X = X.rechunk({1: -1})
    if X.dtype != np.float64:
        X = X.astype(np.float64)
    return X.map_blocks(_transport_block, plan, int(steps), int(random_state), dtype=np.float64,
                        meta=np.empty((0, plan.dimension), dtype=np.float64))


def _statistics(block, mixture):
    """E-step statistics of one row block: (nk, s1, s2, totals), moments about the mixture's means."""
    k, d, t = mixture._shape()
    x = n.doubles(block, "block", columns=d)
    s2_length = n.lib.gmf_em_second_moment_length(k, d, {"full": 0, "diag": 1, "spherical": 2}[t])
    nk, s1, s2, totals = np.empty(k), np.empty(k * d), np.empty(s2_length), np.empty(3)
    n.check(n.lib.gmf_em_statistics(mixture._h, n.ptr(x), x.shape[0], None, n.ptr(nk), n.ptr(s1), n.ptr(s2), n.ptr(totals)))
    return nk, s1, s2, totals


def _add(parts):
    return tuple(np.sum([p[i] for p in parts], axis=0) for i in range(4))


def _tree_sum(items, fan_in=8):
    from dask import delayed

    while len(items) > 1:
        items = [delayed(_add)(items[i:i + fan_in]) for i in range(0, len(items), fan_in)]
    return items[0]


def maximize(mixture, statistics, reg_covar=1e-6):
    """The M-step on summed statistics (nk, s1, s2, totals) taken against `mixture`."""
    nk, s1, s2, totals = (np.ascontiguousarray(a, dtype=np.float64) for a in statistics)
    handle = ctypes.c_void_p()
    n.check(n.lib.gmf_em_maximize(mixture._h, n.ptr(nk), n.ptr(s1), n.ptr(s2), n.ptr(totals), float(reg_covar), ctypes.byref(handle)))
    return GaussianMixture._wrap(handle.value)


def fit(X, init, max_iter=100, tol=1e-3, reg_covar=1e-6, fan_in=8, callback=None):
    """Distributed EM on a dask array X (n, d) chunked by rows, started from the GaussianMixture `init`.

    Each iteration: every row block's E-step statistics are computed where the block lives, summed by a tree of
    fan-in `fan_in`, and the M-step runs on the client. Stops when the mean log-likelihood changes by less than
    `tol` (as scikit-learn and GmmFlow's own fit do). The result equals GaussianMixture(warm_start_mixture=init)
    fitted on the same data in one process, up to the summation order (~1e-15 relative per iteration).
    Returns the fitted GaussianMixture with converged_, n_iter_ and lower_bound_ set."""
    import dask
    import dask.array as da

    X = da.asarray(X)
    k, d, t = init._shape()
    if X.ndim != 2 or X.shape[1] != d:
        raise n.InvalidArgumentError(f"X must have shape (n, {d}) to match the initial mixture; got {X.shape}")
    if len(X.chunks[1]) != 1:
        X = X.rechunk({1: -1})
    blocks = X.to_delayed().ravel().tolist()
    current, previous, converged, iteration = init, -np.inf, False, 0
    for iteration in range(1, int(max_iter) + 1):
        parts = [dask.delayed(_statistics)(b, current) for b in blocks]
        stats = dask.compute(_tree_sum(parts, fan_in))[0]
        log_likelihood = stats[3][0] / stats[3][1]
        current = maximize(current, stats, reg_covar)
        if callback is not None:
            callback(iteration, log_likelihood)
        change, previous = log_likelihood - previous, log_likelihood
        if abs(change) < tol:
            converged = True
            break
    final = dask.compute(_tree_sum([dask.delayed(_statistics)(b, current) for b in blocks], fan_in))[0]
    current.converged_ = converged
    current.n_iter_ = iteration
    current.lower_bound_ = final[3][0] / final[3][1]
    current.reg_covar, current.tol, current.max_iter = reg_covar, tol, max_iter
    return current
