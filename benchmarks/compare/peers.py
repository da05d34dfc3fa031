#!/usr/bin/python3
"""The Python peers on GmmFlow's own inputs: one table of speed-ups per case.

Reads what `gmmflow bench --export DIR` wrote (every case's inputs as .npy/JSON, GmmFlow's results and timings in
DIR/gmmflow.json), runs the same cases with numpy / scipy / POT / scikit-learn, checks that both sides computed the
same thing, and prints one row per case: GmmFlow's median time, the peer's median time, and the speed-up
(peer time / GmmFlow time; > 1 means GmmFlow is faster), on wall-clock time and on CPU time (all threads).

    /usr/bin/python3 benchmarks/compare/peers.py DIR [--repeats 15] [--json OUT] [--markdown]
    /usr/bin/python3 benchmarks/compare/peers.py --report OUT [OUT ...] [--markdown]

The second form merges the JSON of several runs (groups and rounds) into one table: per case and peer, the median
times and the median (and range) of the per-run speed-ups.

Run it through benchmarks/compare/run_all.sh, which builds and runs GmmFlow first and points numpy at the same
LAPACK as GmmFlow (Intel MKL, sequential) with a temporary directory of symlinks on LD_LIBRARY_PATH.

Peers per case (each times the same work GmmFlow's case times):
  cost      batched numpy W2 / surrogate cost matrices (cost_matrix.py), Cholesky included on both sides;
  lp        POT ot.emd (network simplex) and scipy.optimize.linprog(method='highs', sparse constraints);
  em        one scikit-learn GaussianMixture iteration (full covariance) from GmmFlow's initialisation
            (em_sklearn.py: (t(T) - t(2)) / (T - 2) over tol = 0 fits), log-likelihood after T iterations compared;
  field     the mixture policy at t = 0.5 with GmmFlow's 19 active pairs, vectorised numpy with log-sum-exp;
  pipeline  GMMflow's shape end to end: sklearn EM fits of both sides (same start, same iteration count), batched
            numpy Schrödinger-bridge costs, ot.emd, Euler–Maruyama of the mixture policy in vectorised numpy.
Single-point latency has no peer here (a Python call alone costs more than the whole evaluation).
"""
import argparse
import json
import math
import os
import sys
import time
import warnings

import numpy as np
import ot
import scipy
import scipy.sparse as sp
import sklearn
from scipy.optimize import linprog
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cost_matrix import surrogate_matrix, w2_matrix  # noqa: E402  (the batched numpy cost matrices)
from em_sklearn import fit_seconds  # noqa: E402  (sklearn EM from GmmFlow's initialisation)

warnings.filterwarnings("ignore", category=ConvergenceWarning)  # tol = 0 never converges by design


def measure(fn, repeats, min_batch=0.05, warmup=0.3):
    """Median wall and CPU seconds per call over `repeats` batches of >= min_batch seconds, after warm-up."""
    calls, start = 0, time.perf_counter()
    while calls < 2 or time.perf_counter() - start < warmup:
        fn()
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    per_batch = max(1, math.ceil(min_batch / max(per_call, 1e-9)))
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        for _ in range(per_batch):
            fn()
        walls.append((time.perf_counter() - w) / per_batch)
        cpus.append((time.process_time() - c) / per_batch)
    return float(np.median(walls)), float(np.median(cpus))


def load(directory, name):
    return np.load(os.path.join(directory, name))


def rel_diff(ours, theirs):
    scale = max(np.abs(theirs).max(), 1e-300)
    return float(np.abs(ours - theirs).max() / scale)


# ---------------------------------------------------------------- cost matrices
def cost_case(directory, case, repeats):
    p = case["parameters"]
    size = f"{p['k0']}x{p['k1']}_d{p['d']}"
    m0, s0, m1, s1 = (load(directory, f"{size}_{n}.npy") for n in ("means0", "covs0", "means1", "covs1"))
    fn, ours = (w2_matrix, "Wasserstein") if p["cost"] == "W2" else (surrogate_matrix, "Surrogate")
    check = rel_diff(load(directory, f"{size}_{ours}.npy"), fn(m0, s0, m1, s1))
    wall, cpu = measure(lambda: fn(m0, s0, m1, s1), repeats)
    rows = [dict(peer="numpy (batched)", wall=wall, cpu=cpu, check=f"max rel diff {check:.1e}", ok=bool(check < 1e-8))]
    if "costs_only_median_seconds" in case["extra"]:
        # GmmFlow with both sides' factors prepared once (as a TransportPlan reuses them); numpy still includes its
        # K0 batched Choleskys, a small share of its time next to the K0*K1 eigen-decompositions.
        rows.append(dict(rows[0], case_suffix=" (factors prepared)", ours_wall=case["extra"]["costs_only_median_seconds"],
                         ours_cpu=case["extra"]["costs_only_cpu_seconds"]))
    return rows


# ---------------------------------------------------------------- exact LP
def transport_constraints(k0, k1):
    rows = np.r_[np.repeat(np.arange(k0), k1), k0 + np.tile(np.arange(k1), k0)]
    cols = np.r_[np.arange(k0 * k1), np.arange(k0 * k1)]
    return sp.csr_matrix((np.ones(2 * k0 * k1), (rows, cols)), shape=(k0 + k1, k0 * k1))


def lp_case(directory, case, repeats):
    k = case["parameters"]["k0"]
    a, b, c = (load(directory, f"lp_K{k}_{n}.npy") for n in ("a", "b", "cost"))
    ours = case["extra"]["objective"]
    out = []
    emd = lambda: ot.emd(a, b, c, numItermax=10_000_000)  # noqa: E731
    obj = float((emd() * c).sum())
    wall, cpu = measure(emd, repeats)
    out.append(dict(peer="POT ot.emd", wall=wall, cpu=cpu, check=f"objective rel diff {abs(obj - ours) / ours:.1e}",
                    ok=bool(abs(obj - ours) <= 1e-9 * ours)))
    a_eq, b_eq = transport_constraints(k, k), np.r_[a, b]
    hi = lambda: linprog(c.ravel(), A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")  # noqa: E731
    res = hi()
    wall, cpu = measure(hi, max(3, repeats // 3), min_batch=0.05, warmup=0.1)
    out.append(dict(peer="scipy linprog (HiGHS)", wall=wall, cpu=cpu, check=f"objective rel diff {abs(res.fun - ours) / ours:.1e}",
                    ok=bool(res.status == 0 and abs(res.fun - ours) <= 1e-7 * ours)))
    return out


# ---------------------------------------------------------------- EM
def em_case(directory, case, repeats):
    d = case["parameters"]["d"]
    ours = json.load(open(os.path.join(directory, f"gmmflow_d{d}.json")))
    init = json.load(open(os.path.join(directory, f"init_d{d}.json")))
    x = load(directory, f"X_d{d}.npy")
    total = ours["iterations_total"]
    per_iter, cpu_iter, final = [], [], None
    for _ in range(max(3, repeats // 5)):
        c0 = time.process_time()
        t_short, _ = fit_seconds(x, init, 2)
        c1 = time.process_time()
        t_long, gm = fit_seconds(x, init, total)
        c2 = time.process_time()
        per_iter.append((t_long - t_short) / (total - 2))
        cpu_iter.append(((c2 - c1) - (c1 - c0)) / (total - 2))
        final = gm.score(x)
    ll = ours["final_mean_log_likelihood"]
    return [dict(peer="scikit-learn GaussianMixture", wall=float(np.median(per_iter)), cpu=float(np.median(cpu_iter)),
                 check=f"log-likelihood after {total} iterations: ours − sklearn = {ll - final:.1e}",
                 ok=bool(ll >= final - 1e-9 * abs(final)))]


# ---------------------------------------------------------------- mixture velocity field
class MixturePolicy:
    """u(x) = sum_p softmax_p(log w_p + log N(x; m_p, S_p)) (b_p + K_p (x - m_p)) for fixed (m_p, S_p, K_p, b_p)."""

    def __init__(self, logw, means, covs, gains, offsets):
        d = means.shape[1]
        chol = np.linalg.cholesky(covs)
        self.inv_t = np.swapaxes(np.linalg.inv(chol), 1, 2)               # (P, d, d) = L^-T
        logdet = 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(1)
        self.const = (logw - 0.5 * logdet - 0.5 * d * np.log(2 * np.pi))[:, None]
        self.means, self.gains_t, self.offsets = means, np.swapaxes(gains, 1, 2), offsets

    def __call__(self, x):
        diff = x[None, :, :] - self.means[:, None, :]                       # (P, N, d)
        z = diff @ self.inv_t                                               # rows: L^-1 (x - m)
        logp = self.const - 0.5 * np.einsum("pnd,pnd->pn", z, z)            # (P, N)
        top = logp.max(0)
        w = np.exp(logp - top)
        w /= w.sum(0)
        v = diff @ self.gains_t + self.offsets[:, None, :]                  # (P, N, d)
        return np.einsum("pn,pnd->nd", w, v)


def field_case(directory, case, repeats):
    d = case["parameters"]["d"]
    f = lambda n: load(directory, f"field_d{d}_{n}.npy")  # noqa: E731
    policy = MixturePolicy(f("logw"), f("means"), f("covs"), f("gains"), f("offsets"))
    x = f("points")
    check = rel_diff(f("velocities"), policy(x))
    wall, cpu = measure(lambda: policy(x), repeats)
    return [dict(peer="numpy (vectorised, log-sum-exp)", wall=wall, cpu=cpu, check=f"max rel diff {check:.1e}", ok=bool(check < 1e-9))]


# ---------------------------------------------------------------- end-to-end pipeline
def sqrtm_psd(s):
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))[..., None, :]) @ np.swapaxes(v, -1, -2)


def sb_cost_matrix(m0, s0, m1, s1, eps):
    """Kinetic energy J of the Gaussian Schrödinger bridge for every pair (docs/theory.md#sb-cost), batched."""
    d = m0.shape[1]
    l0 = np.linalg.cholesky(s0)
    gamma = np.clip(np.linalg.eigvalsh(np.swapaxes(l0, -1, -2)[:, None] @ s1[None] @ l0[:, None]), 0, None)
    g = 1 + np.sqrt(1 + 4 * gamma / eps ** 2)
    logdet1 = np.linalg.slogdet(s1)[1]
    mean = ((m0[:, None, :] - m1[None, :, :]) ** 2).sum(-1)
    tr0, tr1 = np.trace(s0, axis1=1, axis2=2), np.trace(s1, axis1=1, axis2=2)
    return (mean + tr0[:, None] + tr1[None, :] - eps * ((g - np.log(g)).sum(-1) + logdet1[None, :])
            + d * eps * (1 + np.log(eps / 2)))


class BridgePolicy:
    """The SB drift of every active pair at time t: m_t, Sigma_t and K_t = S_t^T Sigma_t^-1 (docs/theory.md#sb-bridge), batched over pairs."""

    def __init__(self, weights, m0, s0, m1, s1, eps):
        d = m0.shape[1]
        eye = np.eye(d)
        r0 = sqrtm_psd(s0)
        r0_inv = np.linalg.inv(r0)
        dmat = sqrtm_psd(4 * r0 @ s1 @ r0 + eps ** 2 * eye)
        c = 0.5 * (r0 @ dmat @ r0_inv - eps * eye)                          # Cov(X0, X1)
        ct = np.swapaxes(c, 1, 2)
        self.logw, self.m0, self.dm, self.s0, self.s1, self.c, self.ct, self.eps, self.eye = \
            np.log(weights), m0, m1 - m0, s0, s1, c, ct, eps, eye

    def drift(self, t, x):
        e = self.eps
        m_t = self.m0 + t * self.dm
        cov = (1 - t) ** 2 * self.s0 + t ** 2 * self.s1 + t * (1 - t) * (self.c + self.ct + e * self.eye)
        s_t = t * (self.s1 - self.ct) - (1 - t) * (self.s0 - self.c) - e * t * self.eye
        gain = np.swapaxes(s_t, 1, 2) @ np.linalg.inv(cov)                  # K_t = S_t^T Sigma_t^-1
        return MixturePolicy(self.logw, m_t, cov, gain, self.dm)(x)


def pipeline_run(x0, x1, init0, init1, iterations, eps, noise, particles, steps, seed):
    def fit(x, init):
        return GaussianMixture(n_components=len(init["weights"]), covariance_type="full", reg_covar=1e-6, tol=0.0,
                               max_iter=iterations, n_init=1, init_params="random", random_state=0,
                               weights_init=np.asarray(init["weights"]), means_init=np.asarray(init["means"]),
                               precisions_init=np.linalg.inv(np.asarray(init["covariances"]))).fit(x)
    t0 = time.perf_counter()
    g0 = fit(x0, init0)
    t1 = time.perf_counter()
    g1 = fit(x1, init1)
    t2 = time.perf_counter()
    cost = sb_cost_matrix(g0.means_, g0.covariances_, g1.means_, g1.covariances_, eps)
    plan = ot.emd(g0.weights_, g1.weights_, cost, numItermax=10_000_000)
    i, j = np.nonzero(plan > 0)
    policy = BridgePolicy(plan[i, j], g0.means_[i], g0.covariances_[i], g1.means_[j], g1.covariances_[j], eps)
    t3 = time.perf_counter()
    rng = np.random.default_rng(seed)
    x, h = x0[:particles].copy(), 1.0 / steps
    for k in range(steps):
        x += h * policy.drift(k * h, x) + noise * math.sqrt(h) * rng.standard_normal(x.shape)
    t4 = time.perf_counter()
    return dict(x=x, g1=g1, objective=float((plan * cost).sum()), pairs=len(i), stages=(t1 - t0, t2 - t1, t3 - t2, t4 - t3))


def pipeline_case(directory, case, repeats):
    p, extra = case["parameters"], case["extra"]
    args = (load(directory, "pipeline_x0.npy"), load(directory, "pipeline_x1.npy"),
            json.load(open(os.path.join(directory, "pipeline_init0.json"))), json.load(open(os.path.join(directory, "pipeline_init1.json"))),
            p["em_iterations"], p["noise"] ** 2, p["noise"], p["particles"], p["steps"], 7)
    runs, walls, cpus = [], [], []
    for _ in range(max(3, repeats // 5)):
        w, c = time.perf_counter(), time.process_time()
        runs.append(pipeline_run(*args))
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    r = runs[-1]
    obj_diff = abs(r["objective"] - extra["objective"]) / abs(extra["objective"])
    ll = r["g1"].score_samples(r["x"])
    ll_theirs = float(ll.mean())
    ll_ours = extra["result_mean_log_likelihood_under_target_fit"]
    # Both sides simulate independent noise, so their means differ by sampling error: standard error of the difference
    # of two means of `particles` draws each, from numpy's spread (about 0.08 for --quick's 500 particles, 0.02 for 10 000).
    tolerance = 4 * float(ll.std(ddof=1)) * math.sqrt(2 / len(ll))
    stages = np.median(np.array([q["stages"] for q in runs]), axis=0)
    return [dict(peer="sklearn EM + numpy SB costs + ot.emd + numpy Euler–Maruyama", wall=float(np.median(walls)), cpu=float(np.median(cpus)),
                 check=(f"LP objective rel diff {obj_diff:.1e}; active pairs {r['pairs']} vs {int(extra['active_pairs'])}; "
                        f"transported particles' mean log-likelihood under the target fit: ours {ll_ours:.4f}, numpy {ll_theirs:.4f} "
                        f"(within 4 standard errors: ±{tolerance:.3f}); "
                        f"numpy stages fit/fit/plan/transport {stages[0]:.3f}/{stages[1]:.3f}/{stages[2]:.4f}/{stages[3]:.3f} s; "
                        f"ours {extra['fit_source_seconds']:.3f}/{extra['fit_target_seconds']:.3f}/{extra['plan_seconds']:.4f}/{extra['transport_seconds']:.3f} s"),
                 ok=bool(obj_diff < 1e-6 and abs(ll_ours - ll_theirs) < tolerance))]


CASES = {"cost": cost_case, "lp": lp_case, "em": em_case, "field": field_case, "pipeline": pipeline_case}


def fmt_time(s):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s:.3g} s"


def lapack_in_use():
    """The BLAS/LAPACK shared libraries mapped into this process (not Python's own extension modules)."""
    maps = open("/proc/self/maps").read().splitlines()
    libs = sorted({line.split()[-1] for line in maps
                   if any(k in line for k in ("liblapack", "libblas", "mkl_rt", "openblas")) and "python" not in line})
    return ", ".join(f"{p} -> {os.path.realpath(p)}" if os.path.realpath(p) != p else p for p in libs) or "none mapped"


HEADER = ["case", "peer", "GmmFlow", "peer", "speed-up (wall)", "speed-up (CPU time)", "same result?"]


def print_table(lines, markdown):
    if markdown:
        print("| " + " | ".join(HEADER) + " |")
        print("|" + "---|" * len(HEADER))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(HEADER[:-1])]
        print("  ".join(h.ljust(w) for h, w in zip(HEADER[:-1], widths)) + "  " + HEADER[-1])
        for line in lines:
            print("  ".join(c.ljust(w) for c, w in zip(line[:-1], widths)) + "  " + line[-1])


def report(paths, markdown):
    """One row per (case, peer) over the runs in `paths`: median times, median and range of the per-run speed-ups."""
    runs = {}
    for path in paths:
        for r in json.load(open(path))["rows"]:
            runs.setdefault((r["case"], r["peer"]), []).append(r)

    def ratio_cell(values):
        med = f"{np.median(values):.2f}×"
        return med if len(values) == 1 else f"{med} ({min(values):.2f}–{max(values):.2f})"

    lines = []
    for (case, peer), rs in runs.items():
        wall = [r["wall"] / r["ours_wall"] for r in rs]
        cpu = [r["cpu"] / r["ours_cpu"] for r in rs if r["ours_cpu"] > 0]
        bad = [r for r in rs if not r["ok"]]
        lines.append([case, peer, fmt_time(float(np.median([r["ours_wall"] for r in rs]))), fmt_time(float(np.median([r["wall"] for r in rs]))),
                      ratio_cell(wall), ratio_cell(cpu) if cpu else "n/a",
                      ("NO: " + bad[0]["check"]) if bad else ("yes: " + rs[-1]["check"])])
    rounds = max(len(rs) for rs in runs.values())
    print(f"{len(paths)} run(s), up to {rounds} per case; times are medians over the runs")
    print_table(lines, markdown)
    return 1 if any(line[-1].startswith("NO") for line in lines) else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", nargs="?")
    parser.add_argument("--report", nargs="+", metavar="JSON", help="merge the JSON of earlier runs into one table")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", help="also write the rows as JSON here")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    if args.report:
        return report(args.report, args.markdown)
    if args.dir is None:
        parser.error("DIR is required unless --report is given")
    ours = json.load(open(os.path.join(args.dir, "gmmflow.json")))
    np.zeros((2, 2)) @ np.zeros((2, 2))  # make sure BLAS is loaded before reporting it
    m = ours["machine"]
    print(f"GmmFlow: {m['cpu']}, {m['cores']} cores, LAPACK {m['lapack']}, {m['runtime']}; load average {m['loadAverageAtStart']} at start")
    print(f"Python {sys.version.split()[0]}: numpy {np.__version__}, scipy {scipy.__version__}, POT {ot.__version__}, "
          f"scikit-learn {sklearn.__version__}; BLAS/LAPACK: {lapack_in_use()}; "
          f"MKL_THREADING_LAYER={os.environ.get('MKL_THREADING_LAYER', 'unset')}")
    rows = []
    for case in ours["cases"]:
        runner = CASES.get(case["group"])
        if runner is None:
            continue
        print(f"  running {case['name']} ...", file=sys.stderr, flush=True)
        for peer in runner(args.dir, case, args.repeats):
            rows.append(dict(case=case["name"] + peer.pop("case_suffix", ""), ours_wall=peer.pop("ours_wall", case["medianSeconds"]),
                             ours_cpu=peer.pop("ours_cpu", case["cpuSecondsPerOp"]), **peer))
    with open("/proc/loadavg") as f:
        load_end = " ".join(f.read().split()[:3])
    print(f"load average at the end: {load_end}")
    print_table([[r["case"], r["peer"], fmt_time(r["ours_wall"]), fmt_time(r["wall"]), f"{r['wall'] / r['ours_wall']:.2f}×",
                  f"{r['cpu'] / r['ours_cpu']:.2f}×" if r["ours_cpu"] > 0 else "n/a", ("yes: " if r["ok"] else "NO: ") + r["check"]]
                 for r in rows], args.markdown)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(load_average_end=load_end, lapack=lapack_in_use(), rows=rows), f, indent=1)
    bad = [r for r in rows if not r["ok"]]
    if bad:
        print(f"{len(bad)} case(s) did not reproduce GmmFlow's result (see 'same result?')", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
