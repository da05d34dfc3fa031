"""The Python package and the gmmflow CLI give the same results on the same inputs."""
import json

import numpy as np
import pytest

import gmmflow

A = {"weights": [0.5, 0.5], "means": [[0, 0], [3, 0]], "covariances": [[[1, 0.2], [0.2, 0.5]], [[0.5, 0], [0, 0.5]]]}
B = {"weights": [0.3, 0.3, 0.4], "means": [[0, 5], [4, 5], [2, -4]],
     "covariances": [[[0.3, 0], [0, 0.3]], [[0.6, 0.1], [0.1, 0.4]], [[1, 0], [0, 1]]]}


@pytest.fixture
def files(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(A))
    (tmp_path / "b.json").write_text(json.dumps(B))
    return tmp_path


def test_sample_matches_the_cli(cli, files):
    cli("sample", "--model", files / "a.json", "-n", 500, "--seed", 11, "--out", files / "x.npy")
    x, _ = gmmflow.GaussianMixture.from_json(files / "a.json").sample(500, random_state=11)
    np.testing.assert_array_equal(np.load(files / "x.npy"), x)


def test_fit_matches_the_cli(cli, files):
    x, _ = gmmflow.GaussianMixture.from_json(files / "a.json").sample(2000, random_state=1)
    np.save(files / "x.npy", x)
    cli("fit", "--samples", files / "x.npy", "--components", 2, "--seed", 3, "--out", files / "fit.json")
    ours = gmmflow.GaussianMixture(2, random_state=3).fit(x)
    theirs = gmmflow.GaussianMixture.from_json(files / "fit.json")
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-12)
    np.testing.assert_allclose(ours.covariances_, theirs.covariances_, rtol=1e-12)


def test_plan_and_transport_match_the_cli(cli, files):
    cli("plan", "--source", files / "a.json", "--target", files / "b.json", "--cost", "sb", "--noise", 0.5, "--out", files / "plan.json")
    a = gmmflow.GaussianMixture.from_json(files / "a.json")
    b = gmmflow.GaussianMixture.from_json(files / "b.json")
    plan = gmmflow.TransportPlan(a, b, cost="sb", noise=0.5)
    cli_plan = gmmflow.TransportPlan.from_json(files / "plan.json")
    assert plan.objective == pytest.approx(cli_plan.objective, rel=1e-12)
    assert [(i, j) for i, j, _ in plan.pairs] == [(i, j) for i, j, _ in cli_plan.pairs]
    x, _ = a.sample(300, random_state=2)
    np.save(files / "x.npy", x)
    cli("transport", "--plan", files / "plan.json", "--samples", files / "x.npy", "--steps", 50, "--seed", 4, "--out", files / "y.npy")
    np.testing.assert_allclose(plan.transport(x, steps=50, random_state=4), np.load(files / "y.npy"), rtol=1e-12, atol=1e-12)


def test_cost_matrix_matches_the_cli(cli, files):
    cli("cost", "--source", files / "a.json", "--target", files / "b.json", "--kind", "w2", "--out", files / "c.npy")
    a = gmmflow.GaussianMixture.from_json(files / "a.json")
    b = gmmflow.GaussianMixture.from_json(files / "b.json")
    np.testing.assert_allclose(gmmflow.cost_matrix(a, b, "w2"), np.load(files / "c.npy"), rtol=1e-14)


def test_linear_dynamics_plan_matches_the_cli(cli, files):
    (files / "dyn.json").write_text(json.dumps({"A": [[0, 1], [0, 0]], "B": [[0], [1]], "horizon": 1}))
    cli("plan", "--source", files / "a.json", "--target", files / "b.json", "--cost", "sb", "--noise", 0.2,
        "--dynamics", files / "dyn.json", "--out", files / "plan.json")
    a = gmmflow.GaussianMixture.from_json(files / "a.json")
    b = gmmflow.GaussianMixture.from_json(files / "b.json")
    plan = gmmflow.TransportPlan(a, b, cost="sb", noise=0.2, dynamics=files / "dyn.json")
    cli_plan = gmmflow.TransportPlan.from_json(files / "plan.json")
    assert plan.objective == pytest.approx(cli_plan.objective, rel=1e-12)
    assert plan.pairs == cli_plan.pairs


def test_bridge_fit_sample_and_transport_match_the_cli(cli, files):
    a = gmmflow.GaussianMixture.from_json(files / "a.json")
    b = gmmflow.GaussianMixture.from_json(files / "b.json")
    x0, _ = a.sample(1500, random_state=5)
    x1, _ = b.sample(1500, random_state=6)
    np.save(files / "x0.npy", x0)
    np.save(files / "x1.npy", x1)
    cli("bridge", "fit", "--source", files / "x0.npy", "--target", files / "x1.npy", "--noise", 0.8, "--components", 3,
        "--seed", 2, "--out", files / "bridge.json")
    theirs = gmmflow.SchrodingerBridge.from_json(files / "bridge.json")
    ours = gmmflow.SchrodingerBridge(noise=0.8, n_components=3, random_state=2).fit(x0, x1)
    # The same fit (JIT and Native AOT may round vector sums differently, which L-BFGS can amplify slightly).
    assert ours.objective_ == pytest.approx(theirs.objective_, rel=1e-7, abs=1e-7)
    np.testing.assert_allclose(ours.conditional_moments(x0[:20])[0], theirs.conditional_moments(x0[:20])[0], rtol=1e-4, atol=1e-4)
    # The same bridge file gives the same draws and paths in both.
    cli("bridge", "sample", "--bridge", files / "bridge.json", "--samples", files / "x0.npy", "--per-point", 2, "--seed", 7,
        "--out", files / "y.npy")
    np.testing.assert_allclose(theirs.sample(x0, per_point=2, random_state=7), np.load(files / "y.npy"), rtol=1e-12, atol=1e-12)
    cli("bridge", "transport", "--bridge", files / "bridge.json", "--samples", files / "x0.npy", "--steps", 30, "--seed", 8,
        "--out", files / "z.npy")
    np.testing.assert_allclose(theirs.transport(x0, steps=30, random_state=8), np.load(files / "z.npy"), rtol=1e-12, atol=1e-12)
