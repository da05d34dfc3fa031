#!/usr/bin/env python3
"""Transport throughput of a large dask array on a LocalCluster against one process.

    /usr/bin/python3 benchmarks/compare/dask_scale.py [--points 1e8] [--steps 10] [--workers 2] [--chunk 2e6]

The points are generated inside the tasks (exact mixture samples with global offsets), so nothing large crosses
process boundaries except the results' reduction (a mean per block). One process: the same blocks in a loop
(each call already uses every core). Prints points x steps per second for both.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import gmmflow  # noqa: E402

SOURCE = ([0.5, 0.5], [[0, 0], [3, 0]], [[[1, .2], [.2, .5]], [[.5, 0], [0, .5]]])
TARGET = ([0.3, 0.3, 0.4], [[0, 5], [4, 5], [2, -4]], [0.3, 0.5, 1.0])


def block(index, size, plan, steps):
    x, _ = plan.mixture("source").sample(size, random_state=1, first_index=index * size)
    y = plan.transport(x, steps=steps, random_state=index + 1)
    return y.sum(axis=0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--points", type=float, default=1e8)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--chunk", type=float, default=2e6)
    args = p.parse_args()
    n, chunk = int(args.points), int(args.chunk)
    blocks = n // chunk
    a = gmmflow.GaussianMixture.from_parameters(*SOURCE)
    b = gmmflow.GaussianMixture.from_parameters(*TARGET, covariance_type="spherical")
    plan = gmmflow.TransportPlan(a, b, cost="sb", noise=0.5)

    t = time.perf_counter()
    local = sum(block(i, chunk, plan, args.steps) for i in range(blocks))
    t_local = time.perf_counter() - t

    import dask
    import distributed
    cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=":0", silence_logs=40)
    client = distributed.Client(cluster)
    plan_future = client.scatter(plan, broadcast=True)
    client.submit(block, 0, 1000, plan_future, 1).result()  # warm the workers (library load, JIT-free AOT code)
    t = time.perf_counter()
    parts = client.map(block, range(blocks), [chunk] * blocks, [plan_future] * blocks, [args.steps] * blocks)
    remote = sum(client.gather(parts))
    t_remote = time.perf_counter() - t
    client.close()
    cluster.close()
    assert np.allclose(local, remote), "cluster and local results differ"
    work = blocks * chunk * args.steps
    print(f"{blocks * chunk:.3g} points x {args.steps} Euler-Maruyama steps, d = 2, {len(plan.pairs)} pairs, blocks of {chunk:.3g}")
    print(f"  one process:               {t_local:8.1f} s  {work / t_local:10.3g} point-steps/s")
    print(f"  LocalCluster {args.workers} workers x 1 thread: {t_remote:8.1f} s  {work / t_remote:10.3g} point-steps/s  ({t_local / t_remote:4.2f}x)")
    print(f"  mean of the transported points {remote / (blocks * chunk)}")


if __name__ == "__main__":
    main()
