import pickle

import numpy as np
import pytest
from scipy.linalg import sqrtm

import gmmflow

M0, S0 = np.array([0.5, -1.0]), np.array([[1.0, 0.3], [0.3, 0.6]])
M1, S1 = np.array([3.0, 2.0]), np.array([[0.5, -0.1], [-0.1, 1.2]])


def _gain(s0, s1, eps):
    """G = Σ0⁻¹C of the Gaussian entropic-OT plan (Janati et al. 2020; Mallasto et al. 2020), in numpy."""
    r = np.real(sqrtm(s0))
    d = np.real(sqrtm(4 * r @ s1 @ r + eps**2 * np.eye(len(s0))))
    c = 0.5 * (r @ d @ np.linalg.inv(r) - eps * np.eye(len(s0)))
    g = np.linalg.solve(s0, c)
    return 0.5 * (g + g.T)


def _gaussian_bridge(noise):
    g = _gain(S0, S1, noise**2)
    return gmmflow.SchrodingerBridge.from_parameters(noise, [1.0], [M1 - g @ M0], [g]), g


def _clouds(n0=4000, n1=3000, seed=0):
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(M0, S0, size=n0), rng.multivariate_normal(M1, S1, size=n1)


def test_reference_gain_has_the_target_as_second_marginal():
    # The reference itself: Y = m1 + G(X - m0) + σ√G ξ has covariance G Σ0 G + εG = Σ1.
    eps = 0.49
    g = _gain(S0, S1, eps)
    np.testing.assert_allclose(g @ S0 @ g + eps * g, S1, atol=1e-12)


@pytest.mark.parametrize("noise", [0.3, 1.0])
def test_closed_form_potential_gives_the_gaussian_conditional_exactly(noise):
    bridge, g = _gaussian_bridge(noise)
    x = np.array([[0.0, 0.0], [1.5, -2.0], [-3.0, 1.0]])
    mean, cov = bridge.conditional_moments(x)
    np.testing.assert_allclose(mean, M1 + (x - M0) @ g.T, atol=1e-12)
    np.testing.assert_allclose(cov, np.broadcast_to(noise**2 * g, cov.shape), atol=1e-12)
    # Exact draws of π(· | x) have those moments (3σ-ish Monte Carlo tolerance for 20 000 draws).
    y = bridge.sample(x[1:2], per_point=20000, random_state=3)
    assert y.shape == (20000, 2)
    np.testing.assert_allclose(y.mean(0), mean[1], atol=0.03 * noise + 0.005)
    np.testing.assert_allclose(np.cov(y.T), cov[1], atol=0.05 * noise**2 + 1e-3)


def test_k1_fit_matches_the_closed_form_between_the_empirical_gaussians():
    # With K = 1 the objective depends on the samples only through their means and (1/N) covariances, so the fit is the
    # Gaussian plan between the empirical Gaussians, up to the optimiser's tolerance.
    x0, x1 = _clouds()
    noise = 0.7
    fit = gmmflow.SchrodingerBridge(noise=noise, n_components=1, random_state=0).fit(x0, x1)
    m0, m1 = x0.mean(0), x1.mean(0)
    g = _gain(np.cov(x0.T, bias=True), np.cov(x1.T, bias=True), noise**2)
    x = np.array([[0.0, 0.0], [2.0, -1.0]])
    mean, cov = fit.conditional_moments(x)
    # 5e-5 separates the (1/N) covariances from the 1/(N − 1) ones (errors 2e-5 and 1.6e-4 at these sizes).
    np.testing.assert_allclose(mean, m1 + (x - m0) @ g.T, atol=5e-5)
    np.testing.assert_allclose(cov, np.broadcast_to(noise**2 * g, cov.shape), atol=5e-5)
    assert fit.n_components_ == 1 and fit.n_features_in_ == 2 and np.isfinite(fit.objective_)
    assert fit.weights_.shape == (1,) and fit.centers_.shape == (1, 2) and fit.scales_.shape == (1, 2, 2)


def test_sampling_and_transport_are_reproducible_and_reach_the_target():
    bridge, _ = _gaussian_bridge(0.5)
    x0, _ = _clouds(n0=6000)
    a = bridge.sample(x0, random_state=7)
    np.testing.assert_array_equal(a, bridge.sample(x0, random_state=7))
    assert not np.array_equal(a, bridge.sample(x0, random_state=8))
    # Draws of π(· | x) from p0 samples are target samples.
    np.testing.assert_allclose(a.mean(0), M1, atol=0.05)
    np.testing.assert_allclose(np.cov(a.T), S1, atol=0.08)
    y = bridge.transport(x0, steps=50, random_state=1)
    np.testing.assert_array_equal(y, bridge.transport(x0, steps=50, random_state=1))
    np.testing.assert_allclose(y.mean(0), M1, atol=0.06)
    np.testing.assert_allclose(np.cov(y.T), S1, atol=0.1)


def test_json_round_trip_and_pickling_are_exact(tmp_path):
    x0, x1 = _clouds(n0=800, n1=800)
    fit = gmmflow.SchrodingerBridge(noise=1.0, n_components=2, covariance_type="diag", random_state=0).fit(x0, x1)
    assert fit.scales_.shape == (2, 2)
    path = tmp_path / "bridge.json"
    fit.to_json(path)
    back = gmmflow.SchrodingerBridge.from_json(path)
    for other in (back, pickle.loads(pickle.dumps(fit))):
        assert other.objective_ == fit.objective_ and other.noise == fit.noise
        assert other.covariance_type == "diag" and other.n_components_ == 2
        np.testing.assert_array_equal(other.weights_, fit.weights_)
        np.testing.assert_array_equal(other.centers_, fit.centers_)
        np.testing.assert_array_equal(other.scales_, fit.scales_)
        np.testing.assert_array_equal(other.sample(x0[:50], per_point=3, random_state=2), fit.sample(x0[:50], per_point=3, random_state=2))
    created, _ = _gaussian_bridge(1.0)
    assert np.isnan(created.objective_)
    assert np.isnan(pickle.loads(pickle.dumps(created)).objective_)
    unfitted = pickle.loads(pickle.dumps(gmmflow.SchrodingerBridge(noise=0.2, n_components=3)))
    assert unfitted.noise == 0.2 and unfitted.n_components == 3


def test_bad_inputs_raise_typed_errors(tmp_path):
    x0, x1 = _clouds(n0=200, n1=200)
    with pytest.raises(gmmflow.InvalidArgumentError, match="noise"):
        gmmflow.SchrodingerBridge(noise=-1.0, n_components=1).fit(x0, x1)
    with pytest.raises(gmmflow.InvalidArgumentError, match="X1"):
        gmmflow.SchrodingerBridge(noise=1.0, n_components=1).fit(x0, x1[:, :1])
    bad = x0.copy()
    bad[5, 1] = np.nan
    with pytest.raises(gmmflow.NumericalError):
        gmmflow.SchrodingerBridge(noise=1.0, n_components=1).fit(bad, x1)
    with pytest.raises(gmmflow.InvalidArgumentError):
        gmmflow.SchrodingerBridge(noise=1.0, covariance_type="spherical")
    with pytest.raises(gmmflow.InvalidArgumentError, match="not fitted"):
        gmmflow.SchrodingerBridge(noise=1.0).sample(x0)
    bridge, _ = _gaussian_bridge(1.0)
    with pytest.raises(gmmflow.InvalidArgumentError, match="X"):
        bridge.sample(np.zeros((4, 3)))
    with pytest.raises(gmmflow.InvalidArgumentError, match="per_point"):
        bridge.sample(x0, per_point=0)
    with pytest.raises(gmmflow.NumericalError, match="positive definite"):
        gmmflow.SchrodingerBridge.from_parameters(1.0, [1.0], [[0.0, 0.0]], [[[1.0, 2.0], [2.0, 1.0]]])
    with pytest.raises(gmmflow.InvalidArgumentError, match="scales"):
        gmmflow.SchrodingerBridge.from_parameters(1.0, [1.0], [[0.0, 0.0]], [[1.0, 1.0]])
    path = tmp_path / "broken.json"
    path.write_text('{"format": "gmmflow-bridge", "version": 1, "noise": 1, "covariance_type": "full"}')
    with pytest.raises(gmmflow.DataFormatError, match="weights"):
        gmmflow.SchrodingerBridge.from_json(path)
    with pytest.raises(gmmflow.GmmFlowIOError):
        gmmflow.SchrodingerBridge.from_json(tmp_path / "missing.json")
    with pytest.raises(gmmflow.DataFormatError):
        pickle.loads(pickle.dumps(bridge).replace(b"gmmflow-bridge", b"gmmflow-plan!!"))


def test_held_out_choice_of_k_fits_a_bimodal_target():
    # A Gaussian plan (K = 1) cannot reach two modes; the held-out choice must take K >= 2 and split the mass evenly.
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=(1000, 2))
    x1 = np.vstack([rng.normal(size=(500, 2)) * 0.3 + [3, 0], rng.normal(size=(500, 2)) * 0.3 + [-3, 0]])
    sb = gmmflow.SchrodingerBridge(noise=0.5, n_components=None, random_state=0).fit(x0, x1)
    assert sb.n_components_ >= 2
    y = sb.sample(rng.normal(size=(4000, 2)), random_state=1)
    right = np.mean(y[:, 0] > 0)
    assert abs(right - 0.5) < 0.05
    assert np.mean(np.abs(np.abs(y[:, 0]) - 3) < 1.2) > 0.97
