import pickle

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture as SkGaussianMixture

import gmmflow


def _reference(weights, means, covs):
    return gmmflow.GaussianMixture.from_parameters(weights, means, covs)


W = [0.3, 0.7]
M = [[0.0, 0.0], [3.0, 1.0]]
C = [[[1.0, 0.2], [0.2, 0.5]], [[0.5, -0.1], [-0.1, 0.8]]]


def test_fit_recovers_two_blobs(two_blobs):
    g = gmmflow.GaussianMixture(2, random_state=0).fit(two_blobs)
    order = np.argsort(g.means_[:, 0])
    np.testing.assert_allclose(g.weights_[order], [0.6, 0.4], atol=0.02)
    np.testing.assert_allclose(g.means_[order], [[0, 0], [4, 1]], atol=0.15)
    assert g.converged_ and g.n_iter_ >= 1


def test_fit_equals_scikit_learn_from_the_same_start(two_blobs):
    init = _reference(W, M, C)
    ours = gmmflow.GaussianMixture(2, tol=0.0, max_iter=25, warm_start_mixture=init).fit(two_blobs)
    sk = SkGaussianMixture(2, tol=0.0, max_iter=25, weights_init=W, means_init=M,
                           precisions_init=np.linalg.inv(C)).fit(two_blobs)
    np.testing.assert_allclose(ours.weights_, sk.weights_, rtol=1e-8)
    np.testing.assert_allclose(ours.means_, sk.means_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.covariances_, sk.covariances_, rtol=1e-7, atol=1e-10)
    assert abs(ours.score(two_blobs) - sk.score(two_blobs)) < 1e-9


@pytest.mark.parametrize("kind", ["full", "diag", "spherical"])
def test_covariance_shapes_follow_scikit_learn(two_blobs, kind):
    g = gmmflow.GaussianMixture(3, covariance_type=kind, random_state=1).fit(two_blobs)
    sk = SkGaussianMixture(3, covariance_type=kind).fit(two_blobs)
    assert g.covariances_.shape == sk.covariances_.shape
    assert g.means_.shape == (3, 2) and g.weights_.shape == (3,)


def test_score_samples_against_scipy():
    g = _reference(W, M, C)
    x = np.random.default_rng(1).normal(size=(50, 2)) * 2
    expected = logsumexp([np.log(w) + multivariate_normal(m, c).logpdf(x) for w, m, c in zip(W, M, C)], axis=0)
    np.testing.assert_allclose(g.score_samples(x), expected, rtol=1e-12)
    assert g.score(x) == pytest.approx(expected.mean(), rel=1e-12)


def test_predict_proba_and_predict():
    g = _reference(W, M, C)
    x = np.random.default_rng(2).normal(size=(40, 2)) * 2
    p = g.predict_proba(x)
    dens = np.array([w * multivariate_normal(m, c).pdf(x) for w, m, c in zip(W, M, C)]).T
    np.testing.assert_allclose(p, dens / dens.sum(1, keepdims=True), rtol=1e-10)
    np.testing.assert_array_equal(g.predict(x), p.argmax(1))


def test_bic_formula():
    g = _reference(W, M, C)
    x = np.random.default_rng(3).normal(size=(100, 2))
    params = 1 + 2 * 2 + 2 * 3
    assert g.bic(x) == pytest.approx(-2 * g.score_samples(x).sum() + params * np.log(100), rel=1e-12)


def test_sample_is_reproducible_and_chunkable():
    g = _reference(W, M, C)
    x, labels = g.sample(1000, random_state=5)
    y, _ = g.sample(1000, random_state=5)
    np.testing.assert_array_equal(x, y)
    part, part_labels = g.sample(400, random_state=5, first_index=600)
    np.testing.assert_array_equal(x[600:], part)
    np.testing.assert_array_equal(labels[600:], part_labels)
    assert set(np.unique(labels)) <= {0, 1}


def test_sample_moments():
    g = _reference(W, M, C)
    x, labels = g.sample(40000, random_state=9)
    np.testing.assert_allclose(x.mean(0), np.average(M, axis=0, weights=W), atol=0.03)
    assert abs(labels.mean() - 0.7) < 0.01


def test_json_round_trip(tmp_path):
    g = _reference(W, M, C)
    g.to_json(tmp_path / "m.json")
    h = gmmflow.GaussianMixture.from_json(tmp_path / "m.json")
    np.testing.assert_array_equal(h.means_, g.means_)
    np.testing.assert_array_equal(h.covariances_, g.covariances_)


def test_pickle_round_trip(two_blobs):
    g = gmmflow.GaussianMixture(2, random_state=0).fit(two_blobs)
    h = pickle.loads(pickle.dumps(g))
    np.testing.assert_array_equal(h.score_samples(two_blobs), g.score_samples(two_blobs))


def test_inputs_of_other_dtypes_and_layouts_are_accepted():
    g = _reference(W, M, C)
    x = np.asfortranarray(np.random.default_rng(4).normal(size=(30, 2)))
    np.testing.assert_allclose(g.score_samples(x.astype(np.float32)), g.score_samples(x.astype(np.float32).astype(np.float64)))
    np.testing.assert_array_equal(g.score_samples(x), g.score_samples(np.ascontiguousarray(x)))


@pytest.mark.parametrize("weights,means,covs,error,text", [
    ([0.5, 0.6], M, C, gmmflow.InvalidArgumentError, "sum"),
    (W, [[0, np.nan], [3, 1]], C, gmmflow.NumericalError, "non-finite"),
    (W, M, [[[1, 2], [2, 1]], [[1, 0], [0, 1]]], gmmflow.NumericalError, "positive definite"),
    (W, [[0, 0, 0], [1, 1, 1]], C, gmmflow.InvalidArgumentError, "shape"),
])
def test_bad_parameters_raise_typed_errors(weights, means, covs, error, text):
    with pytest.raises(error, match=text):
        gmmflow.GaussianMixture.from_parameters(weights, means, covs)


def test_unfitted_and_bad_options():
    with pytest.raises(gmmflow.InvalidArgumentError, match="not fitted"):
        gmmflow.GaussianMixture(2).means_
    with pytest.raises(gmmflow.InvalidArgumentError, match="covariance_type"):
        gmmflow.GaussianMixture(2, covariance_type="tied")
    with pytest.raises(gmmflow.InvalidArgumentError, match="K must not exceed N"):
        gmmflow.GaussianMixture(50).fit(np.zeros((10, 2)))
    with pytest.raises(gmmflow.InvalidArgumentError, match=r"shape \(n, 2\)"):
        _reference(W, M, C).score_samples(np.zeros((5, 3)))
    with pytest.raises(gmmflow.NumericalError):
        gmmflow.GaussianMixture(1).fit(np.array([[0.0, np.inf], [1, 1]]))


def test_errors_carry_status_codes():
    assert issubclass(gmmflow.InvalidArgumentError, ValueError)
    assert gmmflow.NumericalError.status == 3
    assert gmmflow.abi_version()[0] == 1
