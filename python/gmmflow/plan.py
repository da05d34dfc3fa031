"""TransportPlan, cost matrices and POT-style helpers over GmmFlow's plans."""
import ctypes
import json
import os

import numpy as np

from . import _native as n
from .mixture import GaussianMixture

_COSTS = {"w2": 0, "surrogate": 1, "sb": 2, "entropic": 3}
_COUPLINGS = {"lp": 0, "sinkhorn": 1}
_FIELDS = {"drift": 0, "probability_flow": 1}


def _cost(kind):
    if kind not in _COSTS:
        raise n.InvalidArgumentError(f"cost must be one of {sorted(_COSTS)}; got {kind!r}")
    return _COSTS[kind]


def cost_matrix(source, target, kind="w2", noise=0.0):
    """The (K0, K1) matrix of closed-form costs between the components of two mixtures."""
    out = np.empty((source.n_components if source._handle is None else source._shape()[0], target._shape()[0]))
    n.check(n.lib.gmf_cost_matrix(source._h, target._h, _cost(kind), float(noise), n.ptr(out)))
    return out


class TransportPlan:
    """A coupling of two mixtures' components with one Gaussian bridge per active pair.

    ``TransportPlan(source, target, cost='w2'|'surrogate'|'sb', noise=σ, coupling='lp'|'sinkhorn')``;
    ``objective``, ``pairs`` (list of (i, j, weight)), ``transport(X, steps, random_state)``,
    ``velocity(t, X)``, ``sample_marginal(t, n, random_state)``, ``apply_map(X, method)``, ``to_json``/``from_json``.
    σ is the diffusion coefficient in dX = u dt + σ dW on [0, 1] (POT's reg = 2σ²).

    ``dynamics`` (a dict, a JSON string or a path to a dynamics file of the CLI, e.g.
    ``{"preset": "double-integrator", "positions": 2}``) gives linear prior dynamics dX = AX dt + B(u dt + σ dW);
    the cost is then the exact kinetic energy ('sb' with any σ ≥ 0), the coupling the LP, and the mixtures live in
    the state space (positions and velocities for the double integrator).
    """

    def __init__(self, source, target, cost="w2", noise=0.0, coupling="lp", sinkhorn_temperature=None, dynamics=None):
        if dynamics is not None:
            if cost != "sb" or coupling != "lp":
                raise n.InvalidArgumentError("with dynamics the cost is 'sb' (any noise >= 0) and the coupling 'lp'")
            text = _dynamics_text(dynamics)
            handle = ctypes.c_void_p()
            n.check(n.lib.gmf_plan_create_linear(source._h, target._h, text, len(text), float(noise), ctypes.byref(handle)))
            self._handle = n.Handle(handle.value, n.lib.gmf_plan_free)
            self.cost, self.noise, self.coupling = cost, float(noise), coupling
            return
        if coupling not in _COUPLINGS:
            raise n.InvalidArgumentError(f"coupling must be 'lp' or 'sinkhorn'; got {coupling!r}")
        options = n.PlanOptions()
        n.check(n.lib.gmf_plan_options_default(ctypes.byref(options)))
        options.cost = _cost(cost)
        options.coupling = _COUPLINGS[coupling]
        options.noise = float(noise)
        options.sinkhorn_temperature = 0.0 if sinkhorn_temperature is None else float(sinkhorn_temperature)
        handle = ctypes.c_void_p()
        n.check(n.lib.gmf_plan_create(source._h, target._h, ctypes.byref(options), ctypes.byref(handle)))
        self._handle = n.Handle(handle.value, n.lib.gmf_plan_free)
        self.cost, self.noise, self.coupling = cost, float(noise), coupling

    @classmethod
    def _wrap(cls, handle):
        plan = cls.__new__(cls)
        plan._handle = n.Handle(handle, n.lib.gmf_plan_free)
        plan.cost = plan.noise = plan.coupling = None
        return plan

    @classmethod
    def from_json(cls, path):
        """Reads a plan file of `gmmflow plan`."""
        handle = ctypes.c_void_p()
        n.check(n.lib.gmf_plan_read_json(str(path).encode(), ctypes.byref(handle)))
        return cls._wrap(handle.value)

    def to_json(self, path):
        n.check(n.lib.gmf_plan_write_json(self._handle.value, str(path).encode()))

    def __reduce__(self):
        return (_plan_from_json_bytes, (n.json_bytes(n.lib.gmf_plan_to_json, self._handle.value),))

    def _info(self):
        objective, pairs, d = ctypes.c_double(), ctypes.c_int32(), ctypes.c_int32()
        n.check(n.lib.gmf_plan_info(self._handle.value, ctypes.byref(objective), ctypes.byref(pairs), ctypes.byref(d)))
        return objective.value, pairs.value, d.value

    @property
    def objective(self):
        """Σ λ_ij C_ij, the coupling's cost."""
        return self._info()[0]

    @property
    def dimension(self):
        if getattr(self, "_dimension", None) is None:
            self._dimension = self._info()[2]
        return self._dimension

    @property
    def pairs(self):
        """The active pairs as a list of (source component, target component, weight)."""
        count = self._info()[1]
        i, j, w = np.empty(count, np.int32), np.empty(count, np.int32), np.empty(count)
        n.check(n.lib.gmf_plan_pairs(self._handle.value, n.iptr(i), n.iptr(j), n.ptr(w)))
        return [(int(a), int(b), float(c)) for a, b, c in zip(i, j, w)]

    def coupling_matrix(self):
        """The dense (K0, K1) coupling λ (POT's gmm_ot_plan)."""
        k0 = self.mixture("source")._shape()[0]
        k1 = self.mixture("target")._shape()[0]
        plan = np.zeros((k0, k1))
        for i, j, w in self.pairs:
            plan[i, j] += w
        return plan

    def mixture(self, which):
        """The plan's 'source' or 'target' mixture."""
        if which not in ("source", "target"):
            raise n.InvalidArgumentError(f"which must be 'source' or 'target'; got {which!r}")
        handle = ctypes.c_void_p()
        n.check(n.lib.gmf_plan_mixture(self._handle.value, 0 if which == "source" else 1, ctypes.byref(handle)))
        return GaussianMixture._wrap(handle.value)

    def _x(self, X):
        return n.doubles(X, "X", columns=self.dimension)

    def transport(self, X, steps=100, random_state=0, first_index=0):
        """Moves samples of the source (n, d) to t = 1 along the mixture policy (steps <= 0: library default).

        Row i uses random stream first_index + i: chunks of one set transported with their starting row and the same
        random_state give what one call over the whole set gives."""
        x = self._x(X)
        out = np.empty_like(x)
        n.check(n.lib.gmf_plan_transport_chunk(self._handle.value, n.ptr(x), x.shape[0], int(steps), n.seed_of(random_state),
                                               int(first_index), n.ptr(out)))
        return out

    def velocity(self, t, X, field="drift"):
        """The policy's velocity at time t ('drift' of the SDE, or 'probability_flow')."""
        if field not in _FIELDS:
            raise n.InvalidArgumentError(f"field must be 'drift' or 'probability_flow'; got {field!r}")
        x = self._x(X)
        out = np.empty_like(x)
        n.check(n.lib.gmf_plan_velocity(self._handle.value, float(t), n.ptr(x), x.shape[0], _FIELDS[field], n.ptr(out)))
        return out

    def sample_marginal(self, t, n_samples, random_state=0):
        """Exact samples of the time-t marginal, without simulation."""
        out = np.empty((int(n_samples), self.dimension))
        n.check(n.lib.gmf_plan_sample_marginal(self._handle.value, float(t), int(n_samples), n.seed_of(random_state), n.ptr(out)))
        return out

    def apply_map(self, X, method="bary", random_state=0):
        """POT's gmm_ot_apply_map: 'bary' (barycentric) or 'rand' (one random pair per point)."""
        if method not in ("bary", "rand"):
            raise n.InvalidArgumentError(f"method must be 'bary' or 'rand'; got {method!r}")
        x = self._x(X)
        out = np.empty_like(x)
        n.check(n.lib.gmf_plan_map(self._handle.value, n.ptr(x), x.shape[0], 0 if method == "bary" else 1,
                                   n.seed_of(random_state), n.ptr(out)))
        return out


def _dynamics_text(dynamics):
    if isinstance(dynamics, dict):
        return json.dumps(dynamics).encode()
    if isinstance(dynamics, (str, os.PathLike)) and os.path.exists(dynamics):
        with open(dynamics, "rb") as f:
            return f.read()
    if isinstance(dynamics, str):
        return dynamics.encode()
    raise n.InvalidArgumentError(f"dynamics must be a dict, a JSON string or a file path; got {type(dynamics).__name__}")


def _plan_from_json_bytes(data):
    handle = ctypes.c_void_p()
    n.check(n.lib.gmf_plan_from_json(data, len(data), ctypes.byref(handle)))
    return TransportPlan._wrap(handle.value)


def _mixtures(m_s, m_t, C_s, C_t, w_s, w_t):
    m_s, m_t = np.asarray(m_s, np.float64), np.asarray(m_t, np.float64)
    ts = "full" if np.ndim(C_s) == 3 else "diag"
    tt = "full" if np.ndim(C_t) == 3 else "diag"
    return (GaussianMixture.from_parameters(w_s, m_s, C_s, ts), GaussianMixture.from_parameters(w_t, m_t, C_t, tt))


def gmm_ot_plan(m_s, m_t, C_s, C_t, w_s, w_t):
    """POT-compatible: the (K0, K1) optimal coupling of two GMMs under the W2 cost between components."""
    source, target = _mixtures(m_s, m_t, C_s, C_t, w_s, w_t)
    return TransportPlan(source, target, cost="w2").coupling_matrix()


def gmm_ot_loss(m_s, m_t, C_s, C_t, w_s, w_t):
    """POT-compatible: the mixture-W2 (MW2²) between two GMMs, Σ λ_ij W2²(i, j)."""
    source, target = _mixtures(m_s, m_t, C_s, C_t, w_s, w_t)
    return TransportPlan(source, target, cost="w2").objective


def gmm_ot_apply_map(x, m_s, m_t, C_s, C_t, w_s, w_t, plan=None, method="bary", seed=None):
    """POT-compatible: maps x through the GMM-OT plan ('bary' or 'rand'). A given `plan` matrix is not used to
    build a new coupling (GmmFlow solves the LP itself); pass the same mixtures for the same plan."""
    source, target = _mixtures(m_s, m_t, C_s, C_t, w_s, w_t)
    return TransportPlan(source, target, cost="w2").apply_map(x, method=method, random_state=0 if seed is None else seed)
