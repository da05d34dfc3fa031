"""SchrodingerBridge: the exact (LightSB-family) Schrödinger bridge between two sample sets (docs/theory/exact-sb.md)."""
import ctypes

import numpy as np

from . import _native as n

_SCALES = {"full": 0, "diag": 1}
_SCALE_NAMES = {v: k for k, v in _SCALES.items()}


class SchrodingerBridge:
    """The Schrödinger bridge with noise σ between unpaired source and target samples, fitted by the LightSB objective.

    The potential v(y) = Σ_k α_k N(y; r_k, σ² S_k) gives the plan π(y | x) ∝ exp(⟨x, y⟩/σ²) v(y), a Gaussian mixture
    in closed form, so ``sample`` and ``conditional_moments`` are exact; ``transport`` runs dX = u dt + σ dW on [0, 1]
    with the closed-form drift. σ is the diffusion coefficient (POT's reg = 2σ²).

    Parameters: ``noise`` (σ > 0), ``n_components`` (K; None chooses it among 1, 2, 4, 8 by a held-out objective),
    ``covariance_type`` ('full' | 'diag' scales S_k), ``restarts`` (extra starting points), ``random_state``.
    After ``fit(X0, X1)``: ``objective_``, ``n_components_``, ``weights_``, ``centers_``, ``scales_``, ``n_features_in_``.
    """

    def __init__(self, noise=1.0, n_components=None, covariance_type="full", restarts=0, random_state=0):
        if covariance_type not in _SCALES:
            raise n.InvalidArgumentError(f"covariance_type must be 'full' or 'diag'; got {covariance_type!r}")
        self.noise = noise
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.restarts = restarts
        self.random_state = random_state
        self._handle = None

    # -- construction -------------------------------------------------------------------------------------------
    def fit(self, X0, X1):
        """Fits the bridge from source samples X0 (n0, d) to target samples X1 (n1, d); returns self."""
        x0 = n.doubles(X0, "X0", columns=np.shape(X0)[1] if np.ndim(X0) == 2 else 1)
        x1 = n.doubles(X1, "X1", columns=x0.shape[1])
        k = 0 if self.n_components is None else int(self.n_components)
        if k < 1 and self.n_components is not None:
            raise n.InvalidArgumentError(f"n_components must be >= 1 or None; got {self.n_components}")
        handle = ctypes.c_void_p()
        n.check(n.lib.gmf_bridge_fit(n.ptr(x0), x0.shape[0], n.ptr(x1), x1.shape[0], x0.shape[1], float(self.noise), k,
                                     _SCALES[self.covariance_type], int(self.restarts), n.seed_of(self.random_state),
                                     ctypes.byref(handle)))
        self._handle = n.Handle(handle.value, n.lib.gmf_bridge_free)
        return self

    @classmethod
    def from_parameters(cls, noise, weights, centers, scales, covariance_type="full"):
        """A bridge from its potential: weights (K,), centers (K, d), scales (K, d, d) SPD or (K, d) for 'diag'."""
        if covariance_type not in _SCALES:
            raise n.InvalidArgumentError(f"covariance_type must be 'full' or 'diag'; got {covariance_type!r}")
        w = np.ascontiguousarray(weights, dtype=np.float64).ravel()
        r = np.ascontiguousarray(centers, dtype=np.float64)
        if r.ndim != 2 or r.shape[0] != w.size:
            raise n.InvalidArgumentError(f"centers must have shape ({w.size}, d); got {r.shape}")
        s = np.ascontiguousarray(scales, dtype=np.float64)
        d = r.shape[1]
        expected = (w.size, d, d) if covariance_type == "full" else (w.size, d)
        if s.shape != expected:
            raise n.InvalidArgumentError(f"scales must have shape {expected} for covariance_type={covariance_type!r}; got {s.shape}")
        handle = ctypes.c_void_p()
        n.check(n.lib.gmf_bridge_create(float(noise), w.size, d, _SCALES[covariance_type], n.ptr(w), n.ptr(r), n.ptr(s),
                                        ctypes.byref(handle)))
        return cls._wrap(handle.value)

    @classmethod
    def _wrap(cls, handle):
        owner = n.Handle(handle, n.lib.gmf_bridge_free)
        bridge = cls.__new__(cls)
        bridge._handle = owner
        _, k, t, noise, _ = bridge._info()
        bridge.noise, bridge.n_components, bridge.covariance_type = noise, k, _SCALE_NAMES[t]
        bridge.restarts, bridge.random_state = 0, 0
        return bridge

    @classmethod
    def from_json(cls, path):
        """Reads a bridge file of `gmmflow bridge fit`."""
        handle = ctypes.c_void_p()
        n.check(n.lib.gmf_bridge_read_json(str(path).encode(), ctypes.byref(handle)))
        return cls._wrap(handle.value)

    def to_json(self, path):
        """Writes the bridge in the CLI's bridge format (the objective included when known)."""
        n.check(n.lib.gmf_bridge_write_json(self._h, str(path).encode()))

    def __reduce__(self):
        # Pickles (Dask, multiprocessing) as the JSON text of the bridge.
        data = n.json_bytes(n.lib.gmf_bridge_to_json, self._h) if self._handle else None
        return (_from_json_bytes, (data, self.get_params()))

    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in ("noise", "n_components", "covariance_type", "restarts", "random_state")}

    # -- parameters ---------------------------------------------------------------------------------------------
    @property
    def _h(self):
        if self._handle is None:
            raise n.InvalidArgumentError("This SchrodingerBridge is not fitted yet: call fit(X0, X1) or build it with from_parameters.")
        return self._handle.value

    def _info(self):
        h = self._h
        if getattr(self, "_info_of", (None,))[0] != h:
            d, k, t = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
            noise, objective = ctypes.c_double(), ctypes.c_double()
            n.check(n.lib.gmf_bridge_info(h, ctypes.byref(d), ctypes.byref(k), ctypes.byref(t), ctypes.byref(noise),
                                          ctypes.byref(objective)))
            self._info_of = (h, (d.value, k.value, t.value, noise.value, objective.value))
        return self._info_of[1]

    def _parameters(self):
        d, k, t, _, _ = self._info()
        w, r = np.empty(k), np.empty((k, d))
        s = np.empty((k, d, d) if t == 0 else (k, d))
        n.check(n.lib.gmf_bridge_parameters(self._h, n.ptr(w), n.ptr(r), n.ptr(s)))
        return w, r, s

    @property
    def objective_(self):
        """The LightSB objective on the fitting samples (lower is better); NaN when not fitted here."""
        return self._info()[4]

    @property
    def n_components_(self):
        return self._info()[1]

    @property
    def n_features_in_(self):
        return self._info()[0]

    @property
    def weights_(self):
        return self._parameters()[0]

    @property
    def centers_(self):
        return self._parameters()[1]

    @property
    def scales_(self):
        return self._parameters()[2]

    # -- the plan and the SDE -----------------------------------------------------------------------------------
    def _x(self, X):
        return n.doubles(X, "X", columns=self._info()[0])

    def sample(self, X, per_point=1, random_state=0):
        """Exact draws of π(· | x): an (n·per_point, d) array, the draws of row i of X in rows i·per_point … ."""
        x = self._x(X)
        if int(per_point) < 1:
            raise n.InvalidArgumentError(f"per_point must be >= 1; got {per_point}")
        out = np.empty((x.shape[0] * int(per_point), x.shape[1]))
        n.check(n.lib.gmf_bridge_sample(self._h, n.ptr(x), x.shape[0], int(per_point), n.seed_of(random_state), n.ptr(out)))
        return out

    def transport(self, X, steps=100, random_state=0):
        """Moves source samples (n, d) to t = 1 by Euler–Maruyama on the bridge SDE."""
        x = self._x(X)
        out = np.empty_like(x)
        n.check(n.lib.gmf_bridge_transport(self._h, n.ptr(x), x.shape[0], int(steps), n.seed_of(random_state), n.ptr(out)))
        return out

    def conditional_moments(self, X):
        """The exact mean (n, d) and covariance (n, d, d) of π(· | x) for each row x of X."""
        x = self._x(X)
        mean, cov = np.empty_like(x), np.empty((x.shape[0], x.shape[1], x.shape[1]))
        n.check(n.lib.gmf_bridge_conditional_moments(self._h, n.ptr(x), x.shape[0], n.ptr(mean), n.ptr(cov)))
        return mean, cov

    def __repr__(self):
        if self._handle is None:
            return f"SchrodingerBridge(noise={self.noise}, n_components={self.n_components}) [not fitted]"
        d, k, t, noise, _ = self._info()
        return f"SchrodingerBridge(noise={noise}, n_components={k}, d={d}, covariance_type={_SCALE_NAMES[t]!r})"


def _from_json_bytes(data, params):
    if data is None:
        return SchrodingerBridge(**params)
    handle = ctypes.c_void_p()
    n.check(n.lib.gmf_bridge_from_json(data, len(data), ctypes.byref(handle)))
    bridge = SchrodingerBridge._wrap(handle.value)
    for key in ("restarts", "random_state"):
        setattr(bridge, key, params[key])
    return bridge
