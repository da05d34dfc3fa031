"""GaussianMixture: scikit-learn's estimator interface over GmmFlow's EM (all cores, SIMD, MKL)."""
import ctypes

import numpy as np

from . import _native as n

_TYPES = {"full": 0, "diag": 1, "spherical": 2}
_NAMES = {v: k for k, v in _TYPES.items()}


class GaussianMixture:
    """A Gaussian mixture model fitted by EM, with scikit-learn's names and defaults.

    Parameters: ``n_components``, ``covariance_type`` ('full' | 'diag' | 'spherical'), ``tol`` (1e-3),
    ``reg_covar`` (1e-6), ``max_iter`` (100), ``n_init`` (1), ``random_state`` and ``warm_start_mixture`` (a
    fitted GaussianMixture to start EM from instead of k-means++). After ``fit``: ``weights_``, ``means_``,
    ``covariances_`` (scikit-learn's shapes for the type), ``converged_``, ``n_iter_``, ``lower_bound_``.
    """

    def __init__(self, n_components=1, covariance_type="full", tol=1e-3, reg_covar=1e-6, max_iter=100, n_init=1,
                 random_state=None, warm_start_mixture=None):
        if covariance_type not in _TYPES:
            raise n.InvalidArgumentError(f"covariance_type must be 'full', 'diag' or 'spherical'; got {covariance_type!r}")
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.random_state = random_state
        self.warm_start_mixture = warm_start_mixture
        self._handle = None

    # -- construction -------------------------------------------------------------------------------------------
    @classmethod
    def from_parameters(cls, weights, means, covariances, covariance_type="full"):
        """A mixture from its parameters (covariances in scikit-learn's shape for the type)."""
        if covariance_type not in _TYPES:
            raise n.InvalidArgumentError(f"covariance_type must be 'full', 'diag' or 'spherical'; got {covariance_type!r}")
        w = np.ascontiguousarray(weights, dtype=np.float64).ravel()
        m = np.ascontiguousarray(means, dtype=np.float64)
        if m.ndim != 2 or m.shape[0] != w.size:
            raise n.InvalidArgumentError(f"means must have shape ({w.size}, d); got {m.shape}")
        c = np.ascontiguousarray(covariances, dtype=np.float64)
        expected = {"full": (w.size, m.shape[1], m.shape[1]), "diag": (w.size, m.shape[1]), "spherical": (w.size,)}[covariance_type]
        if c.shape != expected:
            raise n.InvalidArgumentError(f"covariances must have shape {expected} for covariance_type={covariance_type!r}; got {c.shape}")
        handle = ctypes.c_void_p()
        n.check(n.lib.gmf_mixture_create(w.size, m.shape[1], _TYPES[covariance_type], n.ptr(w), n.ptr(m), n.ptr(c), ctypes.byref(handle)))
        return cls._wrap(handle.value)

    @classmethod
    def _wrap(cls, handle):
        k, d, t = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
        owner = n.Handle(handle, n.lib.gmf_mixture_free)
        n.check(n.lib.gmf_mixture_shape(handle, ctypes.byref(k), ctypes.byref(d), ctypes.byref(t)))
        model = cls(n_components=k.value, covariance_type=_NAMES[t.value])
        model._handle = owner
        return model

    @classmethod
    def from_json(cls, path):
        """Reads a mixture file of the gmmflow CLI."""
        handle = ctypes.c_void_p()
        n.check(n.lib.gmf_mixture_read_json(str(path).encode(), ctypes.byref(handle)))
        return cls._wrap(handle.value)

    def to_json(self, path):
        """Writes the mixture in the gmmflow CLI's JSON format."""
        n.check(n.lib.gmf_mixture_write_json(self._h, str(path).encode()))

    def __reduce__(self):
        # Pickles (Dask, multiprocessing) as the JSON text of the mixture.
        return (_from_json_bytes, (n.json_bytes(n.lib.gmf_mixture_to_json, self._h) if self._handle else None, self.get_params()))

    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in ("n_components", "covariance_type", "tol", "reg_covar", "max_iter",
                                              "n_init", "random_state", "warm_start_mixture")}

    # -- fitting ------------------------------------------------------------------------------------------------
    def fit(self, X, y=None):
        """EM on X (n_samples, n_features); returns self."""
        x = n.doubles(X, "X", columns=np.shape(X)[1] if np.ndim(X) == 2 else 1)
        options = n.FitOptions()
        n.check(n.lib.gmf_fit_options_default(ctypes.byref(options)))
        options.covariance_type = _TYPES[self.covariance_type]
        options.max_iter = int(self.max_iter)
        options.n_init = int(self.n_init)
        options.tol = float(self.tol)
        options.reg_covar = float(self.reg_covar)
        options.seed = n.seed_of(self.random_state if self.random_state is not None else 0)
        options.initial = self.warm_start_mixture._h if self.warm_start_mixture is not None else None
        handle, info = ctypes.c_void_p(), n.FitInfo()
        n.check(n.lib.gmf_mixture_fit(n.ptr(x), x.shape[0], x.shape[1], int(self.n_components), ctypes.byref(options),
                                      ctypes.byref(handle), ctypes.byref(info)))
        self._handle = n.Handle(handle.value, n.lib.gmf_mixture_free)
        self.converged_ = bool(info.converged)
        self.n_iter_ = int(info.iterations)
        self.lower_bound_ = float(info.mean_log_likelihood)
        return self

    def fit_predict(self, X, y=None):
        return self.fit(X).predict(X)

    # -- parameters ---------------------------------------------------------------------------------------------
    @property
    def _h(self):
        if self._handle is None:
            raise n.InvalidArgumentError("This GaussianMixture is not fitted yet: call fit(X) or build it with from_parameters.")
        return self._handle.value

    def _shape(self):
        # A native mixture never changes: ask once per handle.
        h = self._h
        if getattr(self, "_shape_of", (None,))[0] != h:
            k, d, t = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
            n.check(n.lib.gmf_mixture_shape(h, ctypes.byref(k), ctypes.byref(d), ctypes.byref(t)))
            self._shape_of = (h, (k.value, d.value, _NAMES[t.value]))
        return self._shape_of[1]

    def _parameters(self):
        k, d, t = self._shape()
        w, m = np.empty(k), np.empty((k, d))
        c = np.empty({"full": (k, d, d), "diag": (k, d), "spherical": (k,)}[t])
        n.check(n.lib.gmf_mixture_parameters(self._h, n.ptr(w), n.ptr(m), n.ptr(c)))
        return w, m, c

    @property
    def weights_(self):
        return self._parameters()[0]

    @property
    def means_(self):
        return self._parameters()[1]

    @property
    def covariances_(self):
        return self._parameters()[2]

    @property
    def n_features_in_(self):
        return self._shape()[1]

    # -- evaluation ---------------------------------------------------------------------------------------------
    def _x(self, X):
        return n.doubles(X, "X", columns=self._shape()[1])

    def score_samples(self, X):
        """log p(x) per sample."""
        x = self._x(X)
        out = np.empty(x.shape[0])
        n.check(n.lib.gmf_mixture_log_density(self._h, n.ptr(x), x.shape[0], n.ptr(out)))
        return out

    def score(self, X, y=None):
        """Mean log-likelihood of X."""
        return float(np.mean(self.score_samples(X)))

    def predict_proba(self, X):
        x = self._x(X)
        out = np.empty((x.shape[0], self._shape()[0]))
        n.check(n.lib.gmf_mixture_responsibilities(self._h, n.ptr(x), x.shape[0], n.ptr(out)))
        return out

    def predict(self, X):
        x = self._x(X)
        out = np.empty(x.shape[0], dtype=np.int32)
        n.check(n.lib.gmf_mixture_predict(self._h, n.ptr(x), x.shape[0], n.iptr(out)))
        return out.astype(np.int64)

    def bic(self, X):
        x = self._x(X)
        out = ctypes.c_double()
        n.check(n.lib.gmf_mixture_bic(self._h, n.ptr(x), x.shape[0], ctypes.byref(out)))
        return out.value

    def sample(self, n_samples=1, random_state=None, first_index=0):
        """(X, labels) like scikit-learn. Sample i uses random stream first_index + i: chunks drawn with their
        global offsets equal one large draw."""
        if n_samples < 1:
            raise n.InvalidArgumentError(f"n_samples must be >= 1; got {n_samples}")
        d = self._shape()[1]
        x, labels = np.empty((int(n_samples), d)), np.empty(int(n_samples), dtype=np.int32)
        n.check(n.lib.gmf_mixture_sample(self._h, int(n_samples), n.seed_of(random_state), int(first_index), n.ptr(x), n.iptr(labels)))
        return x, labels.astype(np.int64)

    def __repr__(self):
        if self._handle is None:
            return f"GaussianMixture(n_components={self.n_components}, covariance_type={self.covariance_type!r}) [not fitted]"
        k, d, t = self._shape()
        return f"GaussianMixture(n_components={k}, d={d}, covariance_type={t!r})"


def _from_json_bytes(data, params):
    if data is None:
        return GaussianMixture(**params)
    handle = ctypes.c_void_p()
    n.check(n.lib.gmf_mixture_from_json(data, len(data), ctypes.byref(handle)))
    model = GaussianMixture._wrap(handle.value)
    for key, value in params.items():
        if key not in ("n_components", "covariance_type"):
            setattr(model, key, value)
    return model
