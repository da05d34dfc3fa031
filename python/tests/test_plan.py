import pickle

import numpy as np
import ot
import pytest
from scipy.linalg import sqrtm

import gmmflow

WS, MS = [0.5, 0.5], [[0.0, 0.0], [3.0, 0.0]]
CS = [[[1.0, 0.2], [0.2, 0.5]], [[0.5, 0.0], [0.0, 0.5]]]
WT, MT = [0.3, 0.3, 0.4], [[0.0, 5.0], [4.0, 5.0], [2.0, -4.0]]
CT = [[[0.3, 0.0], [0.0, 0.3]], [[0.6, 0.1], [0.1, 0.4]], [[1.0, 0.0], [0.0, 1.0]]]


def _pair():
    return (gmmflow.GaussianMixture.from_parameters(WS, MS, CS), gmmflow.GaussianMixture.from_parameters(WT, MT, CT))


def _bures(m0, c0, m1, c1):
    r = sqrtm(c0)
    return float(np.sum((np.asarray(m0) - m1) ** 2) + np.trace(c0) + np.trace(c1) - 2 * np.trace(sqrtm(r @ c1 @ r)).real)


def _w2_matrix():
    return np.array([[_bures(MS[i], np.array(CS[i]), MT[j], np.array(CT[j])) for j in range(3)] for i in range(2)])


def test_w2_cost_matrix_against_scipy_sqrtm():
    a, b = _pair()
    np.testing.assert_allclose(gmmflow.cost_matrix(a, b, "w2"), _w2_matrix(), rtol=1e-10)


def test_sb_cost_tends_to_w2_as_noise_vanishes():
    a, b = _pair()
    w2 = gmmflow.cost_matrix(a, b, "w2")
    sb = gmmflow.cost_matrix(a, b, "sb", noise=1e-4)
    np.testing.assert_allclose(sb, w2, rtol=1e-5)
    assert np.all(gmmflow.cost_matrix(a, b, "surrogate") >= w2 - 1e-12)


def test_lp_plan_equals_pot_emd():
    a, b = _pair()
    plan = gmmflow.TransportPlan(a, b, cost="w2")
    reference = ot.emd(np.array(WS), np.array(WT), _w2_matrix())
    np.testing.assert_allclose(plan.coupling_matrix(), reference, atol=1e-9)
    assert plan.objective == pytest.approx(float(np.sum(reference * _w2_matrix())), rel=1e-10)


def test_pairs_have_the_mixture_weights_as_marginals():
    a, b = _pair()
    plan = gmmflow.TransportPlan(a, b, cost="sb", noise=0.5)
    lam = plan.coupling_matrix()
    np.testing.assert_allclose(lam.sum(1), WS, atol=1e-12)
    np.testing.assert_allclose(lam.sum(0), WT, atol=1e-12)
    assert len(plan.pairs) <= 2 + 3 - 1


def test_pot_style_helpers():
    lam = gmmflow.gmm_ot_plan(MS, MT, CS, CT, WS, WT)
    np.testing.assert_allclose(lam, ot.emd(np.array(WS), np.array(WT), _w2_matrix()), atol=1e-9)
    assert gmmflow.gmm_ot_loss(MS, MT, CS, CT, WS, WT) == pytest.approx(float(np.sum(lam * _w2_matrix())), rel=1e-10)


def test_barycentric_map_of_single_gaussians_is_the_monge_map():
    c0, c1 = np.array(CS[0]), np.array(CT[1])
    r = sqrtm(c0).real
    ri = np.linalg.inv(r)
    monge = ri @ sqrtm(r @ c1 @ r).real @ ri
    x = np.random.default_rng(0).normal(size=(20, 2))
    mapped = gmmflow.gmm_ot_apply_map(x, [MS[0]], [MT[1]], [c0], [c1], [1.0], [1.0])
    np.testing.assert_allclose(mapped, np.array(MT[1]) + (x - MS[0]) @ monge.T, rtol=1e-9, atol=1e-9)


def test_transport_reaches_the_target():
    a, b = _pair()
    plan = gmmflow.TransportPlan(a, b, cost="sb", noise=0.3)
    x, _ = a.sample(4000, random_state=1)
    y = plan.transport(x, steps=200, random_state=2)
    target, _ = b.sample(4000, random_state=3)
    np.testing.assert_allclose(y.mean(0), target.mean(0), atol=0.15)
    assert abs(b.score(y) - b.score(target)) < 0.1


def test_transport_is_reproducible_for_a_seed():
    a, b = _pair()
    plan = gmmflow.TransportPlan(a, b, cost="sb", noise=0.3)
    x, _ = a.sample(100, random_state=1)
    np.testing.assert_array_equal(plan.transport(x, steps=20, random_state=7), plan.transport(x, steps=20, random_state=7))
    assert not np.array_equal(plan.transport(x, steps=20, random_state=7), plan.transport(x, steps=20, random_state=8))


def test_transport_in_chunks_with_first_index_equals_one_call():
    a, b = _pair()
    plan = gmmflow.TransportPlan(a, b, cost="sb", noise=0.3)
    x, _ = a.sample(100, random_state=1)
    whole = plan.transport(x, steps=20, random_state=7)
    parts = np.vstack([plan.transport(x[:37], steps=20, random_state=7),
                       plan.transport(x[37:], steps=20, random_state=7, first_index=37)])
    np.testing.assert_array_equal(parts, whole)
    assert not np.array_equal(plan.transport(x[37:], steps=20, random_state=7), whole[37:])
    with pytest.raises(gmmflow.InvalidArgumentError, match="first_index"):
        plan.transport(x, steps=20, first_index=-1)


def test_velocity_against_finite_difference_of_the_marginal_mean():
    a, b = _pair()
    plan = gmmflow.TransportPlan(a, b, cost="w2")
    # The mean of the probability-flow velocity under ρ_t is d/dt E[X_t] (continuity equation).
    t, h = 0.4, 1e-3
    xt = plan.sample_marginal(t, 200000, random_state=4)
    v = plan.velocity(t, xt, field="probability_flow").mean(0)
    dm = (plan.sample_marginal(t + h, 200000, random_state=5).mean(0) - plan.sample_marginal(t - h, 200000, random_state=6).mean(0)) / (2 * h)
    exact = (np.average(MT, axis=0, weights=WT) - np.average(MS, axis=0, weights=WS))
    np.testing.assert_allclose(v, exact, atol=0.05)
    assert np.all(np.isfinite(dm))


def test_marginals_at_the_ends_are_the_mixtures():
    a, b = _pair()
    plan = gmmflow.TransportPlan(a, b, cost="sb", noise=0.5)
    y0, y1 = plan.sample_marginal(0.0, 20000, 1), plan.sample_marginal(1.0, 20000, 2)
    np.testing.assert_allclose(y0.mean(0), np.average(MS, axis=0, weights=WS), atol=0.05)
    np.testing.assert_allclose(y1.mean(0), np.average(MT, axis=0, weights=WT), atol=0.08)


def test_json_and_pickle_round_trips(tmp_path):
    a, b = _pair()
    plan = gmmflow.TransportPlan(a, b, cost="surrogate")
    plan.to_json(tmp_path / "p.json")
    again = gmmflow.TransportPlan.from_json(tmp_path / "p.json")
    assert again.objective == plan.objective and again.pairs == plan.pairs
    assert pickle.loads(pickle.dumps(plan)).pairs == plan.pairs
    np.testing.assert_array_equal(again.mixture("target").means_, b.means_)


def test_sinkhorn_approaches_the_lp():
    a, b = _pair()
    lp = gmmflow.TransportPlan(a, b, cost="w2")
    sk = gmmflow.TransportPlan(a, b, cost="w2", coupling="sinkhorn", sinkhorn_temperature=0.01)
    np.testing.assert_allclose(sk.coupling_matrix(), lp.coupling_matrix(), atol=1e-3)


@pytest.mark.parametrize("kwargs,text", [
    ({"cost": "sb", "noise": -1.0}, "noise"),
    ({"cost": "emd"}, "cost must be"),
    ({"coupling": "greedy"}, "coupling must be"),
    ({"cost": "sb", "noise": float("nan")}, "noise"),
])
def test_bad_plan_options(kwargs, text):
    a, b = _pair()
    with pytest.raises(gmmflow.InvalidArgumentError, match=text):
        gmmflow.TransportPlan(a, b, **kwargs)


def test_bad_calls_on_a_plan():
    a, b = _pair()
    plan = gmmflow.TransportPlan(a, b)
    with pytest.raises(gmmflow.InvalidArgumentError, match=r"t must be in \[0, 1\]"):
        plan.velocity(1.5, np.zeros((3, 2)))
    with pytest.raises(gmmflow.InvalidArgumentError, match="shape"):
        plan.transport(np.zeros((3, 5)))
    with pytest.raises(gmmflow.InvalidArgumentError):
        plan.mixture("middle")


def test_linear_dynamics_brownian_preset_equals_the_sb_plan():
    a, b = _pair()
    brownian = gmmflow.TransportPlan(a, b, cost="sb", noise=0.5, dynamics={"preset": "brownian", "dimension": 2})
    sb = gmmflow.TransportPlan(a, b, cost="sb", noise=0.5)
    assert brownian.objective == pytest.approx(sb.objective, rel=1e-9)
    assert [(i, j) for i, j, _ in brownian.pairs] == [(i, j) for i, j, _ in sb.pairs]


def test_double_integrator_plan_reaches_its_target(tmp_path):
    # Phase-space mixtures (position, velocity) in 1-D; the double integrator moves positions through velocities.
    a = gmmflow.GaussianMixture.from_parameters([0.5, 0.5], [[-2, 0], [2, 0]], [[[0.2, 0], [0, 0.5]]] * 2)
    b = gmmflow.GaussianMixture.from_parameters([0.5, 0.5], [[5, 0], [-5, 0]], [[[0.3, 0], [0, 0.4]]] * 2)
    plan = gmmflow.TransportPlan(a, b, cost="sb", noise=0.3, dynamics={"preset": "double-integrator", "positions": 1})
    x, _ = a.sample(3000, random_state=1)
    y = plan.transport(x, steps=200, random_state=2)
    target, _ = b.sample(3000, random_state=3)
    assert abs(b.score(y) - b.score(target)) < 0.15
    plan.to_json(tmp_path / "p.json")
    again = gmmflow.TransportPlan.from_json(tmp_path / "p.json")
    assert again.objective == pytest.approx(plan.objective, rel=1e-12)
    assert pickle.loads(pickle.dumps(plan)).objective == pytest.approx(plan.objective, rel=1e-12)
    with pytest.raises(gmmflow.InvalidArgumentError, match="plans without dynamics"):
        plan.apply_map(x)


def test_bad_dynamics_are_refused():
    a, b = _pair()
    with pytest.raises(gmmflow.DataFormatError):
        gmmflow.TransportPlan(a, b, cost="sb", noise=0.5, dynamics={"preset": "teleport"})
    with pytest.raises(gmmflow.InvalidArgumentError, match="cost is 'sb'"):
        gmmflow.TransportPlan(a, b, cost="w2", dynamics={"preset": "brownian", "dimension": 2})


def test_linear_plan_velocity_spans_its_horizon():
    a = gmmflow.GaussianMixture.from_parameters([1.0], [[0, 0]], [[[0.2, 0], [0, 0.5]]])
    b = gmmflow.GaussianMixture.from_parameters([1.0], [[5, 0]], [[[0.3, 0], [0, 0.4]]])
    plan = gmmflow.TransportPlan(a, b, cost="sb", noise=0.0,
                                 dynamics={"preset": "double-integrator", "positions": 1, "horizon": 2})
    v = plan.velocity(1.5, np.zeros((3, 2)))
    assert v.shape == (3, 2) and np.all(np.isfinite(v))
    with pytest.raises(gmmflow.InvalidArgumentError, match=r"\[0, 2\]"):
        plan.velocity(2.5, np.zeros((3, 2)))
