"""Scale-out on Dask: a LocalCluster of worker processes on loopback."""
import os
import signal
import threading
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import gmmflow  # noqa: E402
import gmmflow.dask as gdask  # noqa: E402

TRUTH = gmmflow.GaussianMixture.from_parameters(
    [0.3, 0.45, 0.25], [[0, 0], [4, 1], [-3, 2]],
    [[[1, 0.3], [0.3, 0.8]], [[0.6, 0], [0, 0.4]], [[0.5, -0.2], [-0.2, 1.2]]])
INIT = gmmflow.GaussianMixture.from_parameters(
    [1 / 3, 1 / 3, 1 / 3], [[0.5, 0], [3, 0], [-2, 1]], [[[1, 0], [0, 1]]] * 3)


def _data(n=30000, chunk=4000):
    x, _ = TRUTH.sample(n, random_state=1)
    return x, da.from_array(x, chunks=(chunk, 2))


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def client(request):
    cluster = distributed.LocalCluster(n_workers=request.param, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=":0", silence_logs=40)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_distributed_em_equals_the_local_fit(client):
    x, X = _data()
    local = gmmflow.GaussianMixture(3, tol=1e-6, max_iter=200, warm_start_mixture=INIT).fit(x)
    remote = gdask.fit(X, INIT, max_iter=200, tol=1e-6)
    assert remote.n_iter_ == local.n_iter_
    assert abs(remote.lower_bound_ - local.lower_bound_) < 1e-10
    np.testing.assert_allclose(remote.means_, local.means_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(remote.covariances_, local.covariances_, rtol=1e-9, atol=1e-12)


def test_dask_transport_equals_one_call_whatever_the_chunking(client):
    x, _ = INIT.sample(6000, random_state=2)
    plan = gmmflow.TransportPlan(INIT, TRUTH, cost="sb", noise=0.4)
    expected = plan.transport(x, steps=40, random_state=3)
    for chunks in ((1500, 2), (1000, 2), ((700, 2300, 3000), 2)):
        y = gdask.transport(plan, da.from_array(x, chunks=chunks), steps=40, random_state=3).compute()
        np.testing.assert_array_equal(y, expected)
    assert not np.array_equal(plan.transport(x, steps=40, random_state=4), expected)
    target, _ = TRUTH.sample(6000, random_state=5)
    assert abs(TRUTH.score(y) - TRUTH.score(target)) < 0.1


def test_distributed_em_survives_a_killed_worker():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=":0", silence_logs=50)
    client = distributed.Client(cluster)
    try:
        x, X = _data(n=30000, chunk=2000)
        local = gmmflow.GaussianMixture(3, tol=1e-6, max_iter=200, warm_start_mixture=INIT).fit(x)
        pids = list(client.run(os.getpid).values())
        iterations = []

        def kill_after_third(iteration, _):
            iterations.append(iteration)
            if iteration == 3:
                os.kill(pids[0], signal.SIGKILL)

        remote = gdask.fit(X, INIT, max_iter=200, tol=1e-6, callback=kill_after_third)
        assert len(iterations) > 3, "the kill must happen mid-run"
        assert abs(remote.lower_bound_ - local.lower_bound_) < 1e-10
        np.testing.assert_allclose(remote.means_, local.means_, rtol=1e-9, atol=1e-12)
    finally:
        client.close()
        cluster.close()


def test_bad_dask_inputs():
    _, X = _data(n=100, chunk=50)
    plan = gmmflow.TransportPlan(INIT, TRUTH)
    with pytest.raises(gmmflow.InvalidArgumentError, match="shape"):
        gdask.transport(plan, da.zeros((10, 3), chunks=5))
    with pytest.raises(gmmflow.InvalidArgumentError, match="shape"):
        gdask.fit(da.zeros((10, 3), chunks=5), INIT)
