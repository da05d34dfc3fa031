"""Python peers of GmmFlow's diagonal / spherical cases (`gmmflow bench --only plan,field,latent,logo --export DIR`).

Used by peers.py (groups plan, latent, logo and the field/diag case); every function reads the inputs GmmFlow exported
and returns peers.py's row dicts. The diagonal mixture policy is written twice:
  * DiagonalPolicy: vectorised numpy in the GMMflow reference code's shape, broadcasting (pairs, points, d) arrays
    (in chunks of points, so the temporaries stay in cache-sized blocks rather than gigabytes);
  * DiagonalPolicyMatmul: the same policy with the Gaussian exponent expanded into two matrix products
    (x² @ (1/s)ᵀ and x @ (m/s)ᵀ) and the drift into two more: the fastest numpy form (BLAS does the work), less
    accurate far from the means (the expanded exponent cancels), so its check is looser.
Costs: the Schrödinger-bridge kinetic energy J between diagonal Gaussians (per coordinate, closed form); bridges:
the diagonal SB marginals and drift gain (docs/theory/structured-covariances.md in the repository).
"""
import json
import math
import os
import time

import numpy as np
import ot
from sklearn.mixture import GaussianMixture

LOG_2PI = math.log(2 * math.pi)


def _load(directory, name):
    return np.load(os.path.join(directory, name))


def _mixture(path):
    """weights (K,), means (K, d), variances (K, d) of a diag / spherical mixture JSON (GmmFlow's format)."""
    m = json.load(open(path))
    means = np.asarray(m["means"], dtype=float)
    cov = np.asarray(m["covariances"], dtype=float)
    kind = m.get("covariance_type", "full")
    if kind == "spherical":
        cov = np.repeat(cov[:, None], means.shape[1], axis=1)
    elif kind != "diag":
        raise ValueError(f"{path}: expected a diag or spherical mixture, got {kind}")
    return np.asarray(m["weights"], dtype=float), means, cov


def sb_cost_diag(m0, v0, m1, v1, eps):
    """J = |Δm|² + tr Σ0 + tr Σ1 + Σ_k (−δ_k + ε log(δ_k + ε)) − ε log det Σ1 − d ε log 2, δ_k = √(4 s0_k s1_k + ε²)."""
    d = m0.shape[1]
    delta = np.sqrt(4 * v0[:, None, :] * v1[None, :, :] + eps ** 2)
    mean = ((m0[:, None, :] - m1[None, :, :]) ** 2).sum(-1)
    return (mean + v0.sum(1)[:, None] + v1.sum(1)[None, :] + (-delta + eps * np.log(delta + eps)).sum(-1)
            - eps * np.log(v1).sum(1)[None, :] - d * eps * math.log(2))


class DiagonalBridges:
    """The diagonal SB of every active pair: Σ_t = (1−t)² s0 + t² s1 + t(1−t)(2c + ε), gain S_t/Σ_t, offset Δm."""

    def __init__(self, weights, m0, v0, m1, v1, eps):
        g = v0 * v1
        self.c = 2 * g / (np.sqrt(4 * g + eps ** 2) + eps)
        self.logw, self.m0, self.dm, self.v0, self.v1, self.eps = np.log(weights), m0, m1 - m0, v0, v1, eps

    def at(self, t):
        e, c = self.eps, self.c
        var = (1 - t) ** 2 * self.v0 + t ** 2 * self.v1 + t * (1 - t) * (2 * c + e)
        s_t = t * (self.v1 - c) - (1 - t) * (self.v0 - c) - e * t
        return self.logw, self.m0 + t * self.dm, var, s_t / var, self.dm


class DiagonalPolicy:
    """u(x) = Σ_p softmax_p(log λ_p + log N(x; m_p, diag s_p)) (b_p + k_p ⊙ (x − m_p)), broadcast over (pairs, points, d)."""

    def __init__(self, logw, means, variances, gains, offsets, chunk=256):
        d = means.shape[1]
        self.const = (logw - 0.5 * np.log(variances).sum(1) - 0.5 * d * LOG_2PI)[:, None]
        self.prec, self.means, self.gains, self.offsets, self.chunk = 1 / variances, means, gains, offsets, chunk

    def __call__(self, x):
        out = np.empty_like(x)
        for s in range(0, len(x), self.chunk):
            xs = x[s:s + self.chunk]
            diff = xs[None, :, :] - self.means[:, None, :]                              # (P, n, d)
            logp = self.const - 0.5 * np.einsum("pnd,pd->pn", diff * diff, self.prec)  # (P, n)
            w = np.exp(logp - logp.max(0))
            w /= w.sum(0)
            out[s:s + self.chunk] = np.einsum("pn,pnd->nd", w, self.offsets[:, None, :] + self.gains[:, None, :] * diff)
        return out


class DiagonalPolicyMatmul:
    """The same policy through matrix products: ℓ = c' − ½ x² (1/s)ᵀ + x (m/s)ᵀ; v = w (b − k m) + x ⊙ (w k)."""

    def __init__(self, logw, means, variances, gains, offsets):
        d = means.shape[1]
        prec = 1 / variances
        self.const = logw - 0.5 * np.log(variances).sum(1) - 0.5 * d * LOG_2PI - 0.5 * (means * means * prec).sum(1)
        self.half_prec_t, self.scaled_t = (0.5 * prec).T.copy(), (means * prec).T.copy()
        self.shift, self.gains = offsets - gains * means, gains

    def __call__(self, x):
        logp = self.const - (x * x) @ self.half_prec_t + x @ self.scaled_t                # (n, P)
        w = np.exp(logp - logp.max(1, keepdims=True))
        w /= w.sum(1, keepdims=True)
        return w @ self.shift + x * (w @ self.gains)


def _rel(ours, theirs):
    return float(np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-300))


def field_diag_case(directory, case, repeats, measure):
    f = lambda n: _load(directory, f"field_diag_{n}.npy")  # noqa: E731
    args = (f("logw"), f("means"), f("variances"), f("gains"), f("offsets"))
    x, ours = f("points"), f("velocities")
    rows = []
    for policy, name, tol in ((DiagonalPolicy(*args), "numpy (vectorised, broadcast as GMMflow's code)", 1e-9),
                              (DiagonalPolicyMatmul(*args), "numpy (matrix-product form)", 1e-6)):
        check = _rel(ours, policy(x))
        wall, cpu = measure(lambda: policy(x), repeats)
        rows.append(dict(peer=name, wall=wall, cpu=cpu, check=f"max rel diff {check:.1e}", ok=bool(check < tol)))
    return rows


def plan_diag_case(directory, case, repeats, measure):
    eps = case["parameters"]["noise"] ** 2
    a, m0, v0 = _mixture(os.path.join(directory, "plan_diag_source.json"))
    b, m1, v1 = _mixture(os.path.join(directory, "plan_diag_target.json"))

    def plan():
        cost = sb_cost_diag(m0, v0, m1, v1, eps)
        gamma = ot.emd(a, b, cost, numItermax=10_000_000)
        i, j = np.nonzero(gamma > 0)
        return cost, gamma, DiagonalBridges(gamma[i, j], m0[i], v0[i], m1[j], v1[j], eps)

    cost, gamma, _ = plan()
    ours_cost = _load(directory, "plan_diag_costs.npy")
    objective = float((gamma * cost).sum())
    diff = abs(objective - case["extra"]["objective"]) / abs(case["extra"]["objective"])
    wall, cpu = measure(plan, repeats)
    return [dict(peer="numpy diagonal SB costs + ot.emd + diagonal bridges", wall=wall, cpu=cpu,
                 check=f"cost matrix max rel diff {_rel(ours_cost, cost):.1e}; LP objective rel diff {diff:.1e}",
                 ok=bool(diff < 1e-9 and _rel(ours_cost, cost) < 1e-12))]


def _end_to_end(a, m0, v0, b, m1, v1, start, eps, noise, steps, seed):
    """Costs, ot.emd, bridges, then Euler–Maruyama of the diagonal policy (broadcast form)."""
    cost = sb_cost_diag(m0, v0, m1, v1, eps)
    gamma = ot.emd(a, b, cost, numItermax=10_000_000)
    i, j = np.nonzero(gamma > 0)
    bridges = DiagonalBridges(gamma[i, j], m0[i], v0[i], m1[j], v1[j], eps)
    rng = np.random.default_rng(seed)
    x, h = start.copy(), 1.0 / steps
    for k in range(steps):
        x += h * DiagonalPolicy(*bridges.at(k * h))(x) + noise * math.sqrt(h) * rng.standard_normal(x.shape)
    return x, float((gamma * cost).sum()), len(i)


def _check(case, objective, pairs, ll, measured):
    extra = case["extra"]
    diff = abs(objective - extra["objective"]) / abs(extra["objective"])
    tolerance = 4 * float(ll.std(ddof=1)) * math.sqrt(2 / len(ll))
    ours = extra["result_mean_log_likelihood_under_target_fit"]
    theirs = float(ll.mean())
    check = (f"LP objective rel diff {diff:.1e}; active pairs {pairs} vs {int(extra['active_pairs'])}; transported particles' mean "
             f"log-likelihood under the target fit: ours {ours:.3f}, numpy {theirs:.3f} (±{tolerance:.3f}); " + measured)
    return check, bool(diff < 1e-6 and abs(ours - theirs) < tolerance)


def latent_case(directory, case, repeats, measure):
    p = case["parameters"]
    eps, noise, steps, iterations = p["noise"] ** 2, p["noise"], int(p["steps"]), int(p["em_iterations"])
    x0, x1, start = (_load(directory, f"latent_{n}.npy") for n in ("x0", "x1", "start"))
    inits = [_mixture(os.path.join(directory, f"latent_init{s}.json")) for s in (0, 1)]

    def fit(x, init):
        w, m, v = init
        return GaussianMixture(n_components=len(w), covariance_type="diag", reg_covar=1e-6, tol=0.0, max_iter=iterations,
                               n_init=1, init_params="random", random_state=0, weights_init=w, means_init=m,
                               precisions_init=1 / v).fit(x)

    def run():
        t0 = time.perf_counter()
        g0 = fit(x0, inits[0])
        t1 = time.perf_counter()
        g1 = fit(x1, inits[1])
        t2 = time.perf_counter()
        x, objective, pairs = _end_to_end(g0.weights_, g0.means_, g0.covariances_, g1.weights_, g1.means_, g1.covariances_,
                                          start, eps, noise, steps, 7)
        t3 = time.perf_counter()
        return x, g1, objective, pairs, (t1 - t0, t2 - t1, t3 - t2)

    walls, cpus, runs = [], [], []
    for _ in range(max(1, repeats // 5)):
        w, c = time.perf_counter(), time.process_time()
        runs.append(run())
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    x, g1, objective, pairs, stages = runs[-1]
    e = case["extra"]
    check, ok = _check(case, objective, pairs, g1.score_samples(x),
                       f"numpy fit/fit/plan+transport {stages[0]:.2f}/{stages[1]:.2f}/{stages[2]:.2f} s; ours fit/fit/plan/transport "
                       f"{e['fit_source_seconds']:.3f}/{e['fit_target_seconds']:.3f}/{e['plan_seconds'] * 1e3:.1f} ms/{e['transport_seconds']:.3f} s")
    return [dict(peer="sklearn diag EM + numpy SB costs + ot.emd + numpy diagonal policy (Euler–Maruyama)",
                 wall=float(np.median(walls)), cpu=float(np.median(cpus)), check=check, ok=ok)]


def logo_case(directory, case, repeats, measure):
    p = case["parameters"]
    eps, noise, steps = p["noise"] ** 2, p["noise"], int(p["steps"])
    a, m0, v0 = _mixture(os.path.join(directory, "logo_init0.json"))
    b, m1, v1 = _mixture(os.path.join(directory, "logo_init1.json"))
    start = _load(directory, "logo_start.npy")
    walls, cpus, out = [], [], None
    for _ in range(max(1, repeats // 5)):
        w, c = time.perf_counter(), time.process_time()
        out = _end_to_end(a, m0, v0, b, m1, v1, start, eps, noise, steps, 7)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    x, objective, pairs = out
    target = GaussianMixture(n_components=len(b), covariance_type="diag")
    target.weights_, target.means_, target.covariances_ = b, m1, v1
    target.precisions_cholesky_ = 1 / np.sqrt(v1)
    e = case["extra"]
    check, ok = _check(case, objective, pairs, target.score_samples(x),
                       f"ours plan/transport {e['plan_seconds']:.3f}/{e['transport_seconds']:.3f} s")
    return [dict(peer="numpy SB costs + ot.emd + numpy diagonal policy (Euler–Maruyama)",
                 wall=float(np.median(walls)), cpu=float(np.median(cpus)), check=check, ok=ok)]
